/* tests/unit/test_config.c - berth.conf: format, aliases, precedence,
 * validation, unknown keys, hostile lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "lib/config.h"

#define S 1000000ULL

/* Parses TEXT as a file plus ENV; returns what the first failing step returns. */
static int load(struct config *cfg, const char *text, char *const *env, struct err *e)
{
	int r;

	config_init(cfg);
	r = config_parse_buf(cfg, text, strlen(text), "berth.conf", e);
	if (r >= 0)
		r = config_apply_env(cfg, env, e);
	if (r >= 0)
		r = config_finish(cfg, e);
	return r;
}

static void test_defaults(void **state)
{
	struct err e = ERR_INIT;
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, "", NULL, &e), 0);
	assert_string_equal(config_get(&cfg, CFG_CLUSTER), "default");
	assert_string_equal(config_get(&cfg, CFG_STATE_DIR), "/var/lib/berth");
	assert_string_equal(config_get(&cfg, CFG_RUN_DIR), "/run/berth");
	assert_string_equal(config_get(&cfg, CFG_API_SOCKET), "/run/berth/api.sock");
	assert_null(config_get(&cfg, CFG_API_LISTEN));
	assert_null(config_get(&cfg, CFG_ACCESS_KEYS));
	assert_null(config_get(&cfg, CFG_DYNAMIC_HOST_PORT_RANGE));
	assert_string_equal(config_get(&cfg, CFG_REGION), "local");
	assert_string_equal(config_get(&cfg, CFG_ACCOUNT_ID), "000000000000");
	assert_string_equal(config_get(&cfg, CFG_LOGLEVEL), "info");
	assert_true(config_get_bool(&cfg, CFG_CGROUP_ENFORCE));
	assert_int_equal(config_get_usec(&cfg, CFG_CONTAINER_STOP_TIMEOUT), 30 * S);
	assert_int_equal(config_get_usec(&cfg, CFG_CONTAINER_START_TIMEOUT), 180 * S);
	assert_int_equal(config_get_usec(&cfg, CFG_TASK_CLEANUP_WAIT), 3 * 3600 * S);
	assert_int_equal(config_get_u64(&cfg, CFG_API_MAX_CONNECTIONS), 64);
	assert_string_equal(config_get(&cfg, CFG_RESERVED_PORTS), "[22, 2375, 2376, 51678, 51679]");
	assert_string_equal(cfg.origin[CFG_CLUSTER], "default");
	assert_int_equal(cfg.n_warnings, 0);
	config_release(&cfg);
}

/* Comments, blanks, trimming, '=' and JSON inside values, CRLF endings. */
static void test_format(void **state)
{
	const char *text =
		"# berth.conf\n"
		"\n"
		"   \t\n"
		"  BERTH_CLUSTER = prod  \r\n"
		"ECS_INSTANCE_ATTRIBUTES={\"stack\":\"prod\",\"a\":\"b=c\"}\n"
		"BERTH_RUN_DIR=/tmp/berth-run\n"
		"#BERTH_NOT_A_KEY=commented out\n"
		"BERTH_CGROUP_ENFORCE=off\n"
		"BERTH_API_LISTEN=127.0.0.1:8080"; /* no final newline */
	struct err e = ERR_INIT;
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, text, NULL, &e), 0);
	assert_string_equal(config_get(&cfg, CFG_CLUSTER), "prod");
	assert_string_equal(cfg.origin[CFG_CLUSTER], "berth.conf:4");
	assert_string_equal(config_get(&cfg, CFG_INSTANCE_ATTRIBUTES), "{\"stack\":\"prod\",\"a\":\"b=c\"}");
	/* The socket's default follows the run dir. */
	assert_string_equal(config_get(&cfg, CFG_API_SOCKET), "/tmp/berth-run/api.sock");
	assert_false(config_get_bool(&cfg, CFG_CGROUP_ENFORCE));
	assert_string_equal(config_get(&cfg, CFG_API_LISTEN), "127.0.0.1:8080");
	config_release(&cfg);
}

static void test_aliases_and_precedence(void **state)
{
	char *env[] = { "PATH=/bin", "ECS_LOGLEVEL=debug", "BERTH_REGION=eu-west-1",
			"ECS_CONTAINER_STOP_TIMEOUT=5s", "BERTH_CONTAINER_STOP_TIMEOUT=7s", NULL };
	const char *text =
		"BERTH_CLUSTER=primary\n"
		"ECS_CLUSTER=alias-after-primary\n"   /* BERTH_ name wins at one level */
		"ECS_RESERVED_PORTS=[22, 80]\n"
		"BERTH_LOGLEVEL=warn\n"               /* env (even the alias) beats the file */
		"BERTH_REGION=us-east-1\n"
		"BERTH_ACCOUNT_ID=111111111111\n"
		"BERTH_ACCOUNT_ID=123456789012\n"     /* later line wins */
		"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=1h30m\n"
		"BERTH_CONTAINER_START_TIMEOUT=10s\n";  /* below ECS's minimum of 45s */
	struct err e = ERR_INIT;
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, text, env, &e), 0);
	assert_string_equal(config_get(&cfg, CFG_CLUSTER), "primary");
	assert_string_equal(config_get(&cfg, CFG_RESERVED_PORTS), "[22, 80]");
	assert_string_equal(config_get(&cfg, CFG_LOGLEVEL), "debug");
	assert_string_equal(cfg.origin[CFG_LOGLEVEL], "environment");
	assert_string_equal(config_get(&cfg, CFG_REGION), "eu-west-1");
	assert_string_equal(config_get(&cfg, CFG_ACCOUNT_ID), "123456789012");
	assert_int_equal(config_get_usec(&cfg, CFG_TASK_CLEANUP_WAIT), 5400 * S);
	assert_int_equal(config_get_usec(&cfg, CFG_CONTAINER_STOP_TIMEOUT), 7 * S);
	assert_int_equal(config_get_usec(&cfg, CFG_CONTAINER_START_TIMEOUT), 45 * S);
	config_release(&cfg);
}

/* An empty value means the default, also over a value from the file. */
static void test_empty_value_is_default(void **state)
{
	char *env[] = { "BERTH_CLUSTER=", NULL };
	struct err e = ERR_INIT;
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, "BERTH_CLUSTER=x\nBERTH_API_LISTEN=\n", env, &e), 0);
	assert_string_equal(config_get(&cfg, CFG_CLUSTER), "default");
	assert_null(config_get(&cfg, CFG_API_LISTEN));
	config_release(&cfg);
}

static void test_unknown_keys(void **state)
{
	char *env[] = { "BERTH_ENDPOINT=unix:///x", "ECS_WHATEVER=1", NULL };
	struct err e = ERR_INIT;
	struct config cfg;

	(void)state;
	/* A BERTH_ typo in the file is an error naming the line. */
	assert_int_equal(load(&cfg, "BERTH_CLUSTER=a\nBERTH_CLUSTR=b\n", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "berth.conf:2"));
	assert_non_null(strstr(e.msg, "BERTH_CLUSTR"));
	config_release(&cfg);

	/* ECS keys we don't use, and other names, only warn. */
	assert_int_equal(load(&cfg, "ECS_ENABLE_TASK_IAM_ROLE=true\nHTTP_PROXY=x:1\n", env, &e), 0);
	assert_int_equal(cfg.n_warnings, 3);
	assert_non_null(strstr(cfg.warnings[0], "ECS_ENABLE_TASK_IAM_ROLE"));
	assert_non_null(strstr(cfg.warnings[1], "HTTP_PROXY"));
	assert_non_null(strstr(cfg.warnings[2], "BERTH_ENDPOINT"));
	config_release(&cfg);
}

struct bad_case {
	const char *text;
	const char *msg_part;   /* expected in the error message */
};

static void test_bad_lines(void **state)
{
	static const struct bad_case cases[] = {
		{ "BERTH_CLUSTER\n", "expected KEY=VALUE" },
		{ "=value\n", "invalid key" },
		{ "berth_cluster=x\n", "invalid key" },
		{ "BERTH CLUSTER=x\n", "invalid key" },
		{ "BERTH_CLUSTER=bad name!\n", "BERTH_CLUSTER" },
		{ "BERTH_STATE_DIR=relative/dir\n", "absolute path" },
		{ "BERTH_ACCOUNT_ID=12345\n", "12 digits" },
		{ "BERTH_ACCOUNT_ID=12345678901a\n", "12 digits" },
		{ "BERTH_REGION=US-EAST-1\n", "BERTH_REGION" },
		{ "BERTH_API_LISTEN=localhost:80\n", "ADDR:PORT" },
		{ "BERTH_API_LISTEN=127.0.0.1:0\n", "ADDR:PORT" },
		{ "BERTH_CGROUP_ENFORCE=maybe\n", "on or off" },
		{ "ECS_LOGLEVEL=loud\n", "crit|error" },
		{ "BERTH_API_MAX_CONNECTIONS=0\n", "range" },
		{ "BERTH_API_MAX_CONNECTIONS=-5\n", "range" },
		{ "BERTH_TASK_PIDS_LIMIT=4194305\n", "range" },
		{ "BERTH_CONTAINER_STOP_TIMEOUT=30\n", "duration" },
		{ "ECS_INSTANCE_ATTRIBUTES=stack=prod\n", "JSON object" },
		{ "ECS_INSTANCE_ATTRIBUTES={\"n\":1}\n", "JSON object" },
		{ "BERTH_IMAGE_PULL_BEHAVIOR=sometimes\n", "prefer-cached" },
	};
	struct config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = ERR_INIT;

		if (load(&cfg, cases[i].text, NULL, &e) != -EINVAL || !strstr(e.msg, cases[i].msg_part))
			fail_msg("case %zu '%s': got '%s'", i, cases[i].text, e.msg);
		assert_non_null(strstr(e.msg, "berth.conf:1"));
		config_release(&cfg);
	}
}

/* ECS only warns about these and falls back to the default. */
static void test_lenient_values(void **state)
{
	const char *text = "ECS_RESERVED_PORTS=[22, \"x\"]\n"
			   "ECS_DYNAMIC_HOST_PORT_RANGE=9000-8000\n"
			   "ECS_AVAILABLE_LOGGING_DRIVERS=json-file\n";
	struct err e = ERR_INIT;
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, text, NULL, &e), 0);
	assert_string_equal(config_get(&cfg, CFG_RESERVED_PORTS), "[22, 2375, 2376, 51678, 51679]");
	assert_null(config_get(&cfg, CFG_DYNAMIC_HOST_PORT_RANGE));
	assert_string_equal(config_get(&cfg, CFG_AVAILABLE_LOGGING_DRIVERS), "[\"json-file\",\"none\"]");
	assert_int_equal(cfg.n_warnings, 3);
	assert_non_null(strstr(cfg.warnings[1], "berth.conf:2: invalid BERTH_DYNAMIC_HOST_PORT_RANGE='9000-8000'"));
	config_release(&cfg);
}

/* Hostile input: NUL bytes, huge lines, no crash and a clear error. */
static void test_hostile(void **state)
{
	static const char nul_line[] = "BERTH_CLUSTER=a\0b\n";
	struct err e = ERR_INIT;
	struct config cfg;
	char *big;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_parse_buf(&cfg, nul_line, sizeof(nul_line) - 1, "x", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "NUL"));
	config_release(&cfg);

	big = malloc(200001);
	assert_non_null(big);
	memset(big, 'A', 200000);
	big[200000] = '\0';
	assert_int_equal(load(&cfg, big, NULL, &e), -EINVAL);
	config_release(&cfg);
	memcpy(big, "BERTH_CLUSTER=", 14);
	assert_int_equal(load(&cfg, big, NULL, &e), -EINVAL);   /* name longer than 255 */
	config_release(&cfg);
	free(big);
}

static void test_durations(void **state)
{
	static const struct { const char *s; int ok; uint64_t usec; } cases[] = {
		{ "30s", 1, 30 * S }, { "10m", 1, 600 * S }, { "3h", 1, 10800 * S },
		{ "1h30m", 1, 5400 * S }, { "500ms", 1, 500000 }, { "1.5s", 1, 1500000 },
		{ "0", 1, 0 }, { "250us", 1, 250 }, { "2000ns", 1, 2 },
		{ "", 0, 0 }, { "10", 0, 0 }, { "s", 0, 0 }, { "5x", 0, 0 }, { "-1s", 0, 0 },
		{ "1.s", 0, 0 }, { "1h 30m", 0, 0 }, { "99999999999999h", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int r = config_parse_duration(cases[i].s, &v);

		if (cases[i].ok ? (r != 0 || v != cases[i].usec) : r == 0)
			fail_msg("duration '%s': r=%d v=%llu", cases[i].s, r, (unsigned long long)v);
	}
}

static void test_listen(void **state)
{
	static const char *bad[] = { ":80", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
				     "host:80", "[::1:80", "[::1]80", "[]:80", "::1:80", "1.2.3.4:8x",
				     "[1.2.3.4]:80" };
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	(void)state;
	assert_int_equal(config_parse_listen("127.0.0.1:8080", &ss, &len), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 8080);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(len, sizeof(*sin));
	assert_int_equal(config_parse_listen("[::1]:443", &ss, &len), 0);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 443);
	assert_int_equal(len, sizeof(*sin6));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (config_parse_listen(bad[i], &ss, &len) == 0)
			fail_msg("listen '%s' accepted", bad[i]);
}

static void test_port_range(void **state)
{
	static const char *bad[] = { "9000", "9000-", "-9000", "9000-9000", "9001-9000", "0-10",
				     "1-65536", "a-b", "1--2" };
	uint16_t a, b;

	(void)state;
	assert_int_equal(config_parse_port_range("49153-65535", &a, &b), 0);
	assert_int_equal(a, 49153);
	assert_int_equal(b, 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (config_parse_port_range(bad[i], &a, &b) == 0)
			fail_msg("range '%s' accepted", bad[i]);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/berth-test-config-XXXXXX";
	char *env[] = { "BERTH_CLUSTER=from-env", NULL };
	struct err e = ERR_INIT;
	struct config cfg;
	FILE *f;
	int fd;

	(void)state;
	/* A missing default file is fine; a missing explicit one is not. */
	assert_int_equal(config_load(&cfg, "/nonexistent/berth.conf", false, NULL, &e), 0);
	assert_string_equal(config_get(&cfg, CFG_CLUSTER), "default");
	config_release(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/berth.conf", true, NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/berth.conf"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("BERTH_CLUSTER=from-file\nBERTH_REGION=eu-north-1\n", f);
	fclose(f);
	assert_int_equal(config_load(&cfg, path, true, env, &e), 0);
	assert_string_equal(config_get(&cfg, CFG_CLUSTER), "from-env");
	assert_string_equal(config_get(&cfg, CFG_REGION), "eu-north-1");
	config_release(&cfg);
	/* A failing load leaves nothing to release (config_release is still safe). */
	f = fopen(path, "w");
	fputs("BERTH_REGION=Bad Region\n", f);
	fclose(f);
	assert_int_equal(config_load(&cfg, path, true, NULL, &e), -EINVAL);
	config_release(&cfg);
	unlink(path);
}

/* The file's settings reach the environment the libraries, helpers and
 * shims read; keys without a value are left alone. */
static void test_export_env(void **state)
{
	char *env[] = { "BERTH_REGION=from-env", NULL };
	struct err e = ERR_INIT;
	struct config cfg;

	(void)state;
	unsetenv("BERTH_BRIDGE");
	unsetenv("BERTH_HOST_VOLUME_ROOTS");
	unsetenv("BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG");
	assert_int_equal(load(&cfg, "BERTH_BRIDGE=br9\nECS_SHARED_VOLUME_MATCH_FULL_CONFIG=true\n",
			      env, &e), 0);
	assert_int_equal(config_export_env(&cfg), 0);
	assert_string_equal(getenv("BERTH_BRIDGE"), "br9");
	assert_string_equal(getenv("BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG"), "true");
	assert_string_equal(getenv("BERTH_REGION"), "from-env");
	assert_string_equal(getenv("BERTH_BRIDGE_SUBNET"), "10.213.0.0/16");
	assert_null(getenv("BERTH_HOST_VOLUME_ROOTS"));
	config_release(&cfg);
}

static void test_print_keys(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	config_print_keys(f);
	fclose(f);
	assert_non_null(strstr(buf, "| Key | ECS alias | Default | Meaning |"));
	for (int k = 0; k < _CFG_MAX; k++) {
		assert_non_null(strstr(buf, config_keys[k].key));
		assert_non_null(config_keys[k].doc);
		assert_true(config_keys[k].def || config_keys[k].def_doc);
	}
	assert_non_null(strstr(buf, "| `BERTH_CLUSTER` | `ECS_CLUSTER` | `default` |"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_aliases_and_precedence),
		cmocka_unit_test(test_empty_value_is_default),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_lenient_values),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_port_range),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_export_env),
		cmocka_unit_test(test_print_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
