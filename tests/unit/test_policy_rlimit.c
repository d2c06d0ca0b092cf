/* ECS ulimit parsing, the host's hard limits, defaults and applying. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "policy/policy.h"

static rlim_t host_hard(int res)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(res, &rl), 0);
	return rl.rlim_max;
}

static void test_parse_good(void **state)
{
	static const struct {
		const char *in;
		int res;
		rlim_t soft, hard;
	} cases[] = {
		{ "nofile=1024:4096", RLIMIT_NOFILE, 1024, 4096 },
		{ "nofile=512", RLIMIT_NOFILE, 512, 512 },
		{ "nofile=0:0", RLIMIT_NOFILE, 0, 0 },
		{ "core=0", RLIMIT_CORE, 0, 0 },
		{ "nproc=100:200", RLIMIT_NPROC, 100, 200 },
		{ "stack=8388608", RLIMIT_STACK, 8388608, 8388608 },
		{ "msgqueue=1000", RLIMIT_MSGQUEUE, 1000, 1000 },
		{ "rtprio=0", RLIMIT_RTPRIO, 0, 0 },
		{ "sigpending=10", RLIMIT_SIGPENDING, 10, 10 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rlimit_spec s;
		struct err e = ERR_INIT;

		if (rlimit_parse(cases[i].in, &s, &e) < 0)
			fail_msg("'%s': %s", cases[i].in, e.msg);
		assert_int_equal(s.resource, cases[i].res);
		assert_int_equal(s.limit.rlim_cur, cases[i].soft);
		assert_int_equal(s.limit.rlim_max, cases[i].hard);
	}
}

static void test_parse_unlimited(void **state)
{
	struct rlimit_spec s;
	struct err e = ERR_INIT;

	(void)state;
	/* "unlimited" is fine where the host's hard limit is unlimited */
	if (host_hard(RLIMIT_CORE) == RLIM_INFINITY) {
		assert_int_equal(rlimit_parse("core=unlimited", &s, &e), 0);
		assert_true(s.limit.rlim_cur == RLIM_INFINITY && s.limit.rlim_max == RLIM_INFINITY);
		assert_int_equal(rlimit_parse("core=0:-1", &s, &e), 0);
		assert_true(s.limit.rlim_cur == 0 && s.limit.rlim_max == RLIM_INFINITY);
	}
	/* and a clear error where it is not */
	if (host_hard(RLIMIT_NOFILE) != RLIM_INFINITY) {
		assert_int_equal(rlimit_parse("nofile=unlimited", &s, &e), -EPERM);
		assert_non_null(strstr(e.msg, "CAP_SYS_RESOURCE"));
	}
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "nofile", "nofile=", "=1024", "NOFILE=1", "nofiles=1", "nofile =1", "nofile= 1",
		"nofile=1 ", "nofile=abc", "nofile=1:abc", "nofile=1:", "nofile=:1", "nofile=1:2:3",
		"nofile=-2", "nofile=+5", "nofile=0x10", "nofile=4096:1024", "nofile=1e3",
		"nofile=99999999999999999999999", "nofile=18446744073709551615", "core=unlimited:5",
		"cpu=-1:5", "nofile=1\n", "nofile==1", "bogus=1:1", "%n%n=1",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct rlimit_spec s = { .resource = -7 };
		struct err e = ERR_INIT;

		if (rlimit_parse(bad[i], &s, &e) >= 0)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(e.msg[0] != '\0');
		assert_int_equal(s.resource, -7); /* untouched */
	}
}

static void test_parse_hostile_length(void **state)
{
	char big[8192];
	struct rlimit_spec s;
	struct err e = ERR_INIT;

	(void)state;
	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "nofile=", 7);
	assert_int_equal(rlimit_parse(big, &s, &e), -EINVAL);
	assert_int_equal(rlimit_parse(NULL, &s, &e), -EINVAL);
}

static void test_above_host_hard(void **state)
{
	rlim_t hard = host_hard(RLIMIT_NOFILE);
	struct rlimit_spec s;
	struct err e = ERR_INIT;
	char spec[96], want[160];

	(void)state;
	if (hard == RLIM_INFINITY || hard >= 1048576)
		skip();
	snprintf(spec, sizeof(spec), "nofile=1024:1048576");
	assert_int_equal(rlimit_parse(spec, &s, &e), -EPERM);
	snprintf(want, sizeof(want),
		 "ulimit 'nofile' hard limit 1048576 exceeds this host's limit %" PRIu64
		 "; raising it needs CAP_SYS_RESOURCE",
		 (uint64_t)hard);
	assert_string_equal(e.msg, want);
	/* exactly the host's limit is fine */
	snprintf(spec, sizeof(spec), "nofile=%" PRIu64, (uint64_t)hard);
	err_clear(&e);
	assert_int_equal(rlimit_parse(spec, &s, &e), 0);
}

static void test_defaults_capped(void **state)
{
	struct rlimit_spec d[4];
	size_t n = 0;

	(void)state;
	assert_int_equal(rlimit_defaults(d, ARRAY_SIZE(d), &n), 0);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		struct err e = ERR_INIT;

		assert_true(d[i].limit.rlim_cur <= d[i].limit.rlim_max);
		assert_int_equal(rlimit_check_host(&d[i], &e), 0);
	}
	assert_int_equal(d[0].resource, RLIMIT_NOFILE);
	if (host_hard(RLIMIT_NOFILE) >= 1048576)
		assert_int_equal(d[0].limit.rlim_max, 1048576);
	else
		assert_int_equal(d[0].limit.rlim_max, host_hard(RLIMIT_NOFILE));
	assert_int_equal(rlimit_defaults(d, 0, &n), -ENOBUFS);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rlimit_name(RLIMIT_NOFILE), "nofile");
	assert_string_equal(rlimit_name(RLIMIT_RTTIME), "rttime");
	assert_null(rlimit_name(-1));
}

static void test_apply_in_child(void **state)
{
	struct rlimit_spec specs[2];
	struct err e = ERR_INIT;
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(rlimit_parse("nofile=100:200", &specs[0], &e), 0);
	assert_int_equal(rlimit_parse("core=0", &specs[1], &e), 0);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl;

		if (rlimits_apply(specs, 2) < 0)
			_exit(1);
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 100 || rl.rlim_max != 200)
			_exit(2);
		if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur != 0 || rl.rlim_max != 0)
			_exit(3);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_unlimited),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_hostile_length),
		cmocka_unit_test(test_above_host_hard),
		cmocka_unit_test(test_defaults_capped),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_apply_in_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
