/* Unit tests: the CLI's argv -> request JSON translation (cli/args.c), the
 * verb table, endpoint parsing and error-body parsing (cli/client.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/verbs.h"
#include "lib/cmd.h"

/* cli/main.c (not linked into unit tests) walks the same section. */
extern const struct berth_cmd __start_berth_cmds[];
extern const struct berth_cmd __stop_berth_cmds[];

/* Parses the NULL-terminated words for VERB; returns args_parse's result,
 * the compact request JSON in *json (malloc'd) on success. */
static int parse(const char *verb, char **json, struct cli_opts *o, struct err *e, ...)
{
	char *argv[64];
	int argc = 0;
	const struct verb *v = verb_find(verb);
	cJSON *req = NULL;
	va_list ap;
	int r;

	assert_non_null(v);
	argv[argc++] = (char *)verb;
	va_start(ap, e);
	for (char *a; (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	r = args_parse(v, argc, argv, o, &req, e);
	if (r == 0) {
		*json = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
	} else {
		assert_null(req);
		*json = NULL;
	}
	return r;
}

#define EXPECT_JSON(want, verb, ...)                                                  \
	do {                                                                          \
		struct err e_ = ERR_INIT;                                             \
		struct cli_opts o_;                                                   \
		char *j_ = NULL;                                                      \
		int r_ = parse(verb, &j_, &o_, &e_, __VA_ARGS__, NULL);               \
		if (r_ != 0)                                                          \
			fail_msg("parse failed: %s", e_.msg);                         \
		assert_string_equal(j_, want);                                        \
		free(j_);                                                             \
	} while (0)

#define EXPECT_ERR(substr, verb, ...)                                                 \
	do {                                                                          \
		struct err e_ = ERR_INIT;                                             \
		struct cli_opts o_;                                                   \
		char *j_ = NULL;                                                      \
		int r_ = parse(verb, &j_, &o_, &e_, __VA_ARGS__, NULL);               \
		if (r_ == 0)                                                          \
			fail_msg("accepted, gave %s", j_);                            \
		if (!strstr(e_.msg, substr))                                          \
			fail_msg("error '%s' lacks '%s'", e_.msg, substr);            \
	} while (0)

static void test_strings_and_ints(void **state)
{
	(void)state;
	EXPECT_JSON("{\"clusterName\":\"prod\"}", "create-cluster", "--cluster-name", "prod");
	EXPECT_JSON("{\"clusterName\":\"a=b\"}", "create-cluster", "--cluster-name=a=b");
	EXPECT_JSON("{\"familyPrefix\":\"web\",\"status\":\"INACTIVE\",\"sort\":\"DESC\",\"maxResults\":5,\"nextToken\":\"t1\"}",
		    "list-task-definitions", "--family-prefix", "web", "--status", "INACTIVE",
		    "--sort", "DESC", "--max-results", "5", "--next-token", "t1");
	EXPECT_JSON("{}", "list-clusters", "--output", "table");
}

static void test_lists(void **state)
{
	(void)state;
	EXPECT_JSON("{\"clusters\":[\"a\",\"b\",\"c\"],\"include\":[\"TAGS\"]}",
		    "describe-clusters", "--clusters", "a", "b", "c", "--include", "TAGS");
	EXPECT_JSON("{\"clusters\":[\"x\",\"y\"]}", "describe-clusters", "--clusters",
		    "[\"x\",\"y\"]");
	EXPECT_JSON("{\"taskDefinitions\":[\"web:1\",\"web:2\"]}", "delete-task-definitions",
		    "--task-definitions", "web:1", "web:2");
}

static void test_tags_shorthand_and_json(void **state)
{
	(void)state;
	EXPECT_JSON("{\"resourceArn\":\"arn:x\",\"tags\":[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\",\"value\":\"x=y\"}]}",
		    "tag-resource", "--resource-arn", "arn:x", "--tags", "key=a,value=1",
		    "key=b,value=x=y");
	EXPECT_JSON("{\"resourceArn\":\"r\",\"tags\":[{\"key\":\"a,b\",\"value\":\"\"}]}",
		    "tag-resource", "--resource-arn", "r", "--tags", "key=a\\,b,value=");
	EXPECT_JSON("{\"resourceArn\":\"r\",\"tags\":[{\"key\":\"k\",\"value\":\"v\"}]}",
		    "tag-resource", "--resource-arn", "r", "--tags", "[{\"key\":\"k\",\"value\":\"v\"}]");
	EXPECT_JSON("{\"tagKeys\":[\"a\",\"b\"],\"resourceArn\":\"r\"}", "untag-resource",
		    "--tag-keys", "a", "b", "--resource-arn", "r");
}

static void test_structures(void **state)
{
	(void)state;
	EXPECT_JSON("{\"family\":\"web\",\"containerDefinitions\":[{\"name\":\"app\",\"image\":\"busybox\",\"memory\":64}],\"cpu\":\"1 vCPU\"}",
		    "register-task-definition", "--family", "web", "--container-definitions",
		    "[{\"name\":\"app\",\"image\":\"busybox\",\"memory\":64}]", "--cpu", "1 vCPU");
	/* several objects as separate arguments make the list */
	EXPECT_JSON("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
		    "register-task-definition", "--family", "f", "--container-definitions",
		    "{\"name\":\"a\"}", "{\"name\":\"b\"}");
	EXPECT_JSON("{\"family\":\"f\",\"containerDefinitions\":[{}],\"enableFaultInjection\":false,\"ephemeralStorage\":{\"sizeInGiB\":30}}",
		    "register-task-definition", "--family", "f", "--container-definitions", "{}",
		    "--no-enable-fault-injection", "--ephemeral-storage", "{\"sizeInGiB\":30}");
}

static void test_cli_input_json_and_override(void **state)
{
	char path[] = "/tmp/berth-test-cli-XXXXXX";
	char url[64];
	int fd;
	const char *doc = "{\"family\":\"from-file\",\"containerDefinitions\":[{\"name\":\"a\"}],"
			  "\"networkMode\":\"host\"}";

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
	snprintf(url, sizeof(url), "file://%s", path);
	EXPECT_JSON("{\"family\":\"from-file\",\"containerDefinitions\":[{\"name\":\"a\"}],\"networkMode\":\"host\"}",
		    "register-task-definition", "--cli-input-json", url);
	/* flags win over the input document */
	EXPECT_JSON("{\"containerDefinitions\":[{\"name\":\"a\"}],\"networkMode\":\"host\",\"family\":\"flag\"}",
		    "register-task-definition", "--cli-input-json", url, "--family", "flag");
	/* a structure parameter from a file */
	EXPECT_JSON("{\"family\":\"from-file\",\"containerDefinitions\":[{\"name\":\"a\"}],\"networkMode\":\"host\"}",
		    "register-task-definition", "--cli-input-json", doc);
	unlink(path);
	EXPECT_ERR("Unable to load paramfile", "register-task-definition", "--cli-input-json", url);
}

static void test_usage_errors(void **state)
{
	(void)state;
	EXPECT_ERR("Unknown options: --bogus", "list-clusters", "--bogus", "1");
	EXPECT_ERR("Unknown options: stray", "list-clusters", "stray");
	EXPECT_ERR("Unknown options: -", "list-clusters", "-");
	EXPECT_ERR("expected one argument", "delete-cluster", "--cluster");
	EXPECT_ERR("expected one argument", "delete-cluster", "--cluster", "--output", "json");
	EXPECT_ERR("expected at least one argument", "describe-clusters", "--clusters");
	EXPECT_ERR("required: --cluster", "delete-cluster", "--output", "json");
	EXPECT_ERR("required: --family, --container-definitions", "register-task-definition",
		   "--cpu", "256");
	EXPECT_ERR("given more than once", "delete-cluster", "--cluster", "a", "--cluster", "b");
	EXPECT_ERR("Invalid choice 'yaml'", "list-clusters", "--output", "yaml");
	EXPECT_ERR("takes no value", "list-clusters", "--help=yes");
	/* pagination flags exist only on paginated verbs */
	EXPECT_ERR("Unknown options: --max-items", "delete-cluster", "--cluster", "a",
		   "--max-items", "3");
	EXPECT_ERR("Unknown options: --no-family", "register-task-definition", "--no-family");
}

static void test_wrong_types(void **state)
{
	(void)state;
	EXPECT_ERR("expected an integer, got 'ten'", "list-clusters", "--max-results", "ten");
	EXPECT_ERR("expected an integer, got '5x'", "list-clusters", "--max-results", "5x");
	EXPECT_ERR("expected an integer, got '99999999999'", "list-clusters", "--max-results",
		   "99999999999");
	EXPECT_ERR("expected an integer", "list-clusters", "--max-results", "");
	EXPECT_ERR("expected an integer >= 1", "list-clusters", "--max-items", "0");
	EXPECT_ERR("valid type: structure", "register-task-definition", "--family", "f",
		   "--container-definitions", "{}", "--ephemeral-storage", "[1]");
	EXPECT_ERR("valid type: list of structures", "register-task-definition", "--family", "f",
		   "--container-definitions", "[1,2]");
	EXPECT_ERR("Invalid type for parameter maxResults", "list-clusters", "--cli-input-json",
		   "{\"maxResults\":\"abc\"}");
	EXPECT_ERR("Invalid type for parameter maxResults", "list-clusters", "--cli-input-json",
		   "{\"maxResults\":1.5}");
	EXPECT_ERR("Invalid type for parameter clusters", "describe-clusters", "--cli-input-json",
		   "{\"clusters\":[\"a\",1]}");
	EXPECT_ERR("Invalid type for parameter family", "register-task-definition",
		   "--cli-input-json", "{\"family\":null,\"containerDefinitions\":[]}");
	EXPECT_ERR("Unknown parameter in input: \"bogus\"", "list-clusters", "--cli-input-json",
		   "{\"bogus\":1}");
	EXPECT_ERR("expected a JSON object", "list-clusters", "--cli-input-json", "[]");
}

static void test_bad_json(void **state)
{
	(void)state;
	EXPECT_ERR("Invalid JSON", "register-task-definition", "--family", "f",
		   "--container-definitions", "[{\"name\":");
	EXPECT_ERR("Invalid JSON", "register-task-definition", "--family", "f",
		   "--container-definitions", "[{}] trailing");
	EXPECT_ERR("expected JSON or file://PATH", "register-task-definition", "--family", "f",
		   "--container-definitions", "name=app");
	EXPECT_ERR("Invalid JSON", "list-clusters", "--cli-input-json", "{");
	EXPECT_ERR("Invalid JSON", "list-clusters", "--cli-input-json", "");
	EXPECT_ERR("Invalid JSON", "tag-resource", "--resource-arn", "r", "--tags", "{\"key\"");
}

static void test_bad_shorthand(void **state)
{
	(void)state;
	EXPECT_ERR("Expected: '='", "tag-resource", "--resource-arn", "r", "--tags", "key");
	EXPECT_ERR("Expected: '='", "tag-resource", "--resource-arn", "r", "--tags", "key=a,value");
	EXPECT_ERR("unknown key 'Key', must be one of: key, value", "tag-resource",
		   "--resource-arn", "r", "--tags", "Key=a");
	EXPECT_ERR("key 'key' given twice", "tag-resource", "--resource-arn", "r", "--tags",
		   "key=a,key=b");
	EXPECT_ERR("Expected: '='", "tag-resource", "--resource-arn", "r", "--tags", ",,");
	EXPECT_ERR("unknown key ''", "tag-resource", "--resource-arn", "r", "--tags", "=x");
}

static void test_help_and_skeleton(void **state)
{
	struct err e = ERR_INIT;
	struct cli_opts o;
	char *j = NULL;
	const struct verb *v = verb_find("register-task-definition");
	cJSON *sk;

	(void)state;
	/* --help skips the required check */
	assert_int_equal(parse("register-task-definition", &j, &o, &e, "--help", NULL), 0);
	assert_true(o.help);
	free(j);
	assert_int_equal(parse("list-clusters", &j, &o, &e, "--generate-cli-skeleton", NULL), 0);
	assert_true(o.skeleton);
	free(j);
	sk = args_skeleton(v);
	assert_non_null(sk);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(sk, "containerDefinitions")));
	assert_true(cJSON_IsString(cJSON_GetObjectItem(sk, "family")));
	cJSON_Delete(sk);
}

static void test_pagination_opts(void **state)
{
	struct err e = ERR_INIT;
	struct cli_opts o;
	char *j = NULL;

	(void)state;
	assert_int_equal(parse("list-task-definitions", &j, &o, &e, "--max-items", "7",
			       "--page-size", "3", "--starting-token", "tok", NULL), 0);
	assert_int_equal(o.max_items, 7);
	assert_int_equal(o.page_size, 3);
	assert_string_equal(o.starting_token, "tok");
	assert_false(o.no_paginate);
	assert_string_equal(j, "{}");
	free(j);
	/* the raw token/limit mean one page, as with the aws CLI */
	assert_int_equal(parse("list-clusters", &j, &o, &e, "--max-results", "2", NULL), 0);
	assert_true(o.no_paginate);
	free(j);
}

/* Every verb is registered as a subcommand, names match the table, and each
 * parameter's flag is the kebab-case of its member. */
static void test_table_consistency(void **state)
{
	(void)state;
	for (const struct verb *v = verbs_begin(); v < verbs_end(); v++) {
		bool registered = false;

		for (const struct berth_cmd *c = __start_berth_cmds; c < __stop_berth_cmds; c++)
			registered |= strcmp(c->name, v->name) == 0;
		assert_true(registered);
		for (size_t i = 0; i < v->n_params; i++) {
			const char *m = v->params[i].member, *f = v->params[i].flag;
			char kebab[128];
			size_t n = 0;

			for (; *m && n < sizeof(kebab) - 2; m++) {
				if (*m >= 'A' && *m <= 'Z') {
					kebab[n++] = '-';
					kebab[n++] = (char)(*m - 'A' + 'a');
				} else {
					kebab[n++] = *m;
				}
			}
			kebab[n] = '\0';
			if (strcmp(kebab, f) != 0)
				fail_msg("%s: flag --%s vs member %s", v->name, f, v->params[i].member);
		}
	}
	assert_int_equal(verbs_end() - verbs_begin(), 25); /* 13 + 7 task and instance verbs + 5 of issue 8 */
}

static void test_endpoint_parse(void **state)
{
	struct endpoint ep;

	(void)state;
	assert_int_equal(endpoint_parse("unix:///run/berth/api.sock", &ep), 0);
	assert_int_equal(ep.kind, EP_UNIX);
	assert_string_equal(ep.socket_path, "/run/berth/api.sock");
	assert_int_equal(endpoint_parse("/tmp/x.sock", &ep), 0);
	assert_string_equal(ep.socket_path, "/tmp/x.sock");
	assert_int_equal(endpoint_parse("http://127.0.0.1:8080", &ep), 0);
	assert_int_equal(ep.kind, EP_HTTP);
	assert_string_equal(ep.host, "127.0.0.1:8080");
	assert_string_equal(ep.url, "http://127.0.0.1:8080/");
	assert_int_equal(endpoint_parse("http://h:1/", &ep), 0);
	assert_int_equal(endpoint_parse("https://h:1", &ep), -EINVAL);
	assert_int_equal(endpoint_parse("http://", &ep), -EINVAL);
	assert_int_equal(endpoint_parse("http://u@h:1", &ep), -EINVAL);
	assert_int_equal(endpoint_parse("http://h:1/path", &ep), -EINVAL);
	assert_int_equal(endpoint_parse("unix://relative", &ep), -EINVAL);
	assert_int_equal(endpoint_parse("ftp://h", &ep), -EINVAL);
}

static void test_error_parse(void **state)
{
	char type[64], msg[128];

	(void)state;
	client_error_parse(400, "{\"__type\":\"ClusterNotFoundException\",\"message\":\"Cluster not found.\"}",
			   type, sizeof(type), msg, sizeof(msg));
	assert_string_equal(type, "ClusterNotFoundException");
	assert_string_equal(msg, "Cluster not found.");
	client_error_parse(400, "{\"__type\":\"com.amazonaws.ecs#ClientException:http://x\",\"Message\":\"m\"}",
			   type, sizeof(type), msg, sizeof(msg));
	assert_string_equal(type, "ClientException");
	assert_string_equal(msg, "m");
	client_error_parse(413, "<html>Too large</html>\nmore", type, sizeof(type), msg, sizeof(msg));
	assert_string_equal(type, "413");
	assert_string_equal(msg, "<html>Too large</html>");
	client_error_parse(500, "", type, sizeof(type), msg, 4);
	assert_string_equal(type, "500");
	assert_string_equal(msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_and_ints),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_tags_shorthand_and_json),
		cmocka_unit_test(test_structures),
		cmocka_unit_test(test_cli_input_json_and_override),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_bad_shorthand),
		cmocka_unit_test(test_help_and_skeleton),
		cmocka_unit_test(test_pagination_opts),
		cmocka_unit_test(test_table_consistency),
		cmocka_unit_test(test_endpoint_parse),
		cmocka_unit_test(test_error_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
