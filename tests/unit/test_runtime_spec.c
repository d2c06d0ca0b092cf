/* tests/unit/test_runtime_spec.c - `container run` option parsing and the
 * spec -> cgroup limits mapping, including hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup/cgroup.h"
#include "lib/cleanup.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"

#define ARGV(...) ((char *[]){ "run", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "run", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(s, e, ...) rt_spec_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), NULL, NULL, s, e)

static void test_minimal_defaults(void **state)
{
	struct err e = ERR_INIT;
	struct rt_spec s;

	(void)state;
	assert_int_equal(PARSE(&s, &e, "--rootfs", "/r", "--", "/bin/true"), 0);
	assert_string_equal(s.rootfs, "/r");
	assert_string_equal(s.argv[0], "/bin/true");
	assert_null(s.argv[1]);
	assert_int_equal(s.net, RT_NET_NONE);
	assert_int_equal(s.pids_max, CG_DEFAULT_PIDS_MAX);
	assert_int_equal(s.cgroup_enforce, RT_ENFORCE_ON);
	assert_string_equal(s.cgroup_parent, "berth");
	assert_false(s.cpu_set);
	assert_int_equal(s.memory_mib, 0);
	assert_string_equal(s.name, "");
	rt_spec_release(&s);
}

static void test_all_flags(void **state)
{
	struct err e = ERR_INIT;
	struct rt_spec s;

	(void)state;
	assert_int_equal(PARSE(&s, &e, "--rootfs=/r", "--name", "web.1", "--hostname", "h1",
			       "--cpu", "512", "--cpu-limit=256", "--memory", "64",
			       "--memory-reservation", "32", "--pids", "100", "--env", "A=1",
			       "--env=B=x=y", "--user", "nobody:staff", "--workdir", "/tmp",
			       "--read-only", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
			       "--privileged", "--net", "host", "--ulimit", "nofile=10:20",
			       "--cgroup-enforce=off", "--cgroup-parent", "a/b",
			       "sh", "-c", "--not-an-option"), 0);
	assert_string_equal(s.name, "web.1");
	assert_string_equal(s.hostname, "h1");
	assert_true(s.cpu_set);
	assert_int_equal(s.cpu_units, 512);
	assert_int_equal(s.cpu_limit_units, 256);
	assert_int_equal(s.memory_mib, 64);
	assert_int_equal(s.memory_reservation_mib, 32);
	assert_int_equal(s.pids_max, 100);
	assert_int_equal(s.n_env, 2);
	assert_string_equal(s.env[1], "B=x=y");
	assert_string_equal(s.user, "nobody:staff");
	assert_string_equal(s.workdir, "/tmp");
	assert_true(s.read_only);
	assert_int_equal(s.n_cap_add, 1);
	assert_string_equal(s.cap_drop[0], "CHOWN");
	assert_true(s.privileged);
	assert_int_equal(s.net, RT_NET_HOST);
	assert_int_equal(s.n_ulimits, 1);
	assert_int_equal(s.ulimits[0].limit.rlim_cur, 10);
	assert_int_equal(s.cgroup_enforce, RT_ENFORCE_OFF);
	assert_string_equal(s.cgroup_parent, "a/b");
	/* the command starts at the first non-option; its own flags are its own */
	assert_string_equal(s.argv[0], "sh");
	assert_string_equal(s.argv[2], "--not-an-option");
	rt_spec_release(&s);
}

static void test_env_overrides(void **state)
{
	struct err e = ERR_INIT;
	struct rt_spec s;

	(void)state;
	assert_int_equal(rt_spec_parse(ARGC("--rootfs", "/r", "x"), ARGV("--rootfs", "/r", "x"),
				       "off", "p/q", &s, &e), 0);
	assert_int_equal(s.cgroup_enforce, RT_ENFORCE_OFF);
	assert_string_equal(s.cgroup_parent, "p/q");
	rt_spec_release(&s);
	/* the flag wins over the environment */
	assert_int_equal(rt_spec_parse(ARGC("--cgroup-enforce", "on", "--rootfs", "/r", "x"),
				       ARGV("--cgroup-enforce", "on", "--rootfs", "/r", "x"), "off",
				       NULL, &s, &e), 0);
	assert_int_equal(s.cgroup_enforce, RT_ENFORCE_ON);
	rt_spec_release(&s);
	assert_int_equal(rt_spec_parse(ARGC("--rootfs", "/r", "x"), ARGV("--rootfs", "/r", "x"),
				       "maybe", NULL, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "BERTH_CGROUP_ENFORCE 'maybe'"));
	assert_int_equal(rt_spec_parse(ARGC("--rootfs", "/r", "x"), ARGV("--rootfs", "/r", "x"),
				       NULL, "../etc", &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "BERTH_CGROUP_PARENT"));
}

/* One bad argument list and the words its single-line message must hold. */
struct bad_case {
	char *argv[12];
	const char *want;
};

static const struct bad_case bad_cases[] = {
	{ { "--", "/bin/true" }, "give either --rootfs or --image" },
	{ { "--rootfs", "/r", "--image", "busybox", "x" }, "give either --rootfs or --image" },
	{ { "--image=", "x" }, "--image '': must not be empty" },
	{ { "--entrypoint", "/bin/sh", "--rootfs", "/r", "x" }, "--entrypoint needs --image" },
	{ { "--image", "busybox", "--", "" }, "command is empty" },
	{ { "--shm-size", "0", "--rootfs", "/r", "x" }, "--shm-size '0'" },
	{ { "--shm-size", "64M", "--rootfs", "/r", "x" }, "--shm-size '64M'" },
	{ { "--volume", "", "--rootfs", "/r", "x" }, "must be SRC:DST[:ro]" },
	{ { "--volume", "--rootfs", "/r", "x" }, "give either --rootfs or --image" },
	{ { "--rootfs", "/r" }, "no command given" },
	{ { "--rootfs", "/r", "--" }, "no command given" },
	{ { "--rootfs", "/r", "--", "" }, "command is empty" },
	{ { "--rootfs" }, "--rootfs needs a value" },
	{ { "--rootfs=", "x" }, "must not be empty" },
	{ { "--bogus", "x" }, "unknown option '--bogus'" },
	{ { "--rootfsx=/r", "x" }, "unknown option" },
	{ { "--read-only=yes", "--rootfs", "/r", "x" }, "--read-only takes no value" },
	{ { "--memory", "5", "--rootfs", "/r", "x" }, "--memory '5'" },
	{ { "--memory", "0", "--rootfs", "/r", "x" }, "--memory '0'" },
	{ { "--memory", "-6", "--rootfs", "/r", "x" }, "--memory '-6'" },
	{ { "--memory", "64k", "--rootfs", "/r", "x" }, "--memory '64k'" },
	{ { "--memory", "4294967297", "--rootfs", "/r", "x" }, "--memory" },
	{ { "--memory", "99999999999999999999999", "--rootfs", "/r", "x" }, "--memory" },
	{ { "--memory", "64", "--memory-reservation", "64", "--rootfs", "/r", "x" },
	  "must be less than --memory" },
	{ { "--cpu", "10241", "--rootfs", "/r", "x" }, "--cpu '10241'" },
	{ { "--cpu", "-1", "--rootfs", "/r", "x" }, "--cpu '-1'" },
	{ { "--cpu", "", "--rootfs", "/r", "x" }, "--cpu ''" },
	{ { "--cpu", "0x10", "--rootfs", "/r", "x" }, "--cpu '0x10'" },
	{ { "--cpu-limit", "0", "--rootfs", "/r", "x" }, "--cpu-limit '0'" },
	{ { "--cpu-limit", "196609", "--rootfs", "/r", "x" }, "--cpu-limit" },
	{ { "--pids", "0", "--rootfs", "/r", "x" }, "--pids '0'" },
	{ { "--pids", "4194305", "--rootfs", "/r", "x" }, "--pids" },
	{ { "--env", "NOEQUALS", "--rootfs", "/r", "x" }, "must be KEY=VALUE" },
	{ { "--env", "=v", "--rootfs", "/r", "x" }, "must be KEY=VALUE" },
	{ { "--user", "", "--rootfs", "/r", "x" }, "--user" },
	{ { "--user", ":0", "--rootfs", "/r", "x" }, "--user ':0'" },
	{ { "--user", "a:", "--rootfs", "/r", "x" }, "--user 'a:'" },
	{ { "--user", "a:b:c", "--rootfs", "/r", "x" }, "--user 'a:b:c'" },
	{ { "--workdir", "rel", "--rootfs", "/r", "x" }, "absolute path" },
	{ { "--net", "bridge", "--rootfs", "/r", "x" }, "--net 'bridge'" },
	{ { "--name", "../x", "--rootfs", "/r", "x" }, "--name '../x'" },
	{ { "--name", "a/b", "--rootfs", "/r", "x" }, "--name 'a/b'" },
	{ { "--name", ".hidden", "--rootfs", "/r", "x" }, "--name" },
	{ { "--name", "x y", "--rootfs", "/r", "x" }, "--name" },
	{ { "--hostname", "a/b", "--rootfs", "/r", "x" }, "--hostname" },
	{ { "--hostname", "", "--rootfs", "/r", "x" }, "--hostname" },
	{ { "--cap-add", "", "--rootfs", "/r", "x" }, "--cap-add" },
	{ { "--cgroup-enforce", "maybe", "--rootfs", "/r", "x" }, "must be 'on' or 'off'" },
	{ { "--cgroup-parent", "/abs", "--rootfs", "/r", "x" }, "--cgroup-parent" },
	{ { "--cgroup-parent", "a/../b", "--rootfs", "/r", "x" }, "--cgroup-parent" },
	{ { "--cgroup-parent", "a//b", "--rootfs", "/r", "x" }, "--cgroup-parent" },
	{ { "--cgroup-parent", "a/", "--rootfs", "/r", "x" }, "--cgroup-parent" },
	{ { "--ulimit", "nofile", "--rootfs", "/r", "x" }, "--ulimit" },
	{ { "--ulimit", "nofile=1:2", "--ulimit", "nofile=3:4", "--rootfs", "/r", "x" }, "twice" },
};

static void test_bad_input(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		char *argv[16] = { "run" };
		struct err e = ERR_INIT;
		struct rt_spec s;
		int argc = 1;

		for (size_t j = 0; bad_cases[i].argv[j]; j++)
			argv[argc++] = bad_cases[i].argv[j];
		argv[argc] = NULL;
		if (rt_spec_parse(argc, argv, NULL, NULL, &s, &e) != -EINVAL ||
		    !strstr(e.msg, bad_cases[i].want) || strchr(e.msg, '\n')) {
			print_error("case %zu: got '%s', want '%s'\n", i, e.msg, bad_cases[i].want);
			fail();
		}
	}
}

static void test_image_volumes_shm(void **state)
{
	struct err e = ERR_INIT;
	struct rt_spec s;

	(void)state;
	/* With an image the command is optional: the image has one. */
	assert_int_equal(PARSE(&s, &e, "--image", "localhost/app:v1"), 0);
	assert_string_equal(s.image, "localhost/app:v1");
	assert_null(s.rootfs);
	assert_null(s.argv);
	assert_null(s.entrypoint);
	assert_int_equal(s.n_volumes, 0);
	assert_int_equal(s.shm_size_mib, 0);
	rt_spec_release(&s);
	assert_int_equal(PARSE(&s, &e, "--image=a", "--entrypoint", "", "--volume", "/h:/c",
			       "--volume=/x:/y:ro", "--shm-size", "128", "--", "echo", "hi"), 0);
	assert_string_equal(s.entrypoint, "");
	assert_int_equal(s.n_volumes, 2);
	assert_string_equal(s.volumes[0], "/h:/c");
	assert_string_equal(s.volumes[1], "/x:/y:ro");
	assert_int_equal(s.shm_size_mib, 128);
	assert_string_equal(s.argv[0], "echo");
	rt_spec_release(&s);
	assert_null(s.volumes);
}

static void test_name_limits(void **state)
{
	char name[RT_NAME_MAX + 2];
	struct err e = ERR_INIT;
	struct rt_spec s;

	(void)state;
	memset(name, 'n', sizeof(name));
	name[RT_NAME_MAX] = '\0';
	assert_int_equal(PARSE(&s, &e, "--name", name, "--rootfs", "/r", "x"), 0);
	assert_int_equal(strlen(s.name), RT_NAME_MAX);
	rt_spec_release(&s);
	name[RT_NAME_MAX] = 'n';
	name[RT_NAME_MAX + 1] = '\0';
	assert_int_equal(PARSE(&s, &e, "--name", name, "--rootfs", "/r", "x"), -EINVAL);
}

static void test_help(void **state)
{
	struct err e = ERR_INIT;
	struct rt_spec s;

	(void)state;
	assert_int_equal(PARSE(&s, &e, "--help"), 0);
	assert_true(s.help);
	rt_spec_release(&s);
	assert_non_null(strstr(rt_spec_usage, "--rootfs DIR"));
}

static void test_limits_mapping(void **state)
{
	struct err e = ERR_INIT;
	struct cg_limits l;
	struct rt_spec s;

	(void)state;
	assert_int_equal(PARSE(&s, &e, "--rootfs", "/r", "--cpu", "1024", "--cpu-limit", "256",
			       "--memory", "32", "--memory-reservation", "16", "--pids", "50", "x"), 0);
	assert_int_equal(rt_limits_from_spec(&s, &l), 0);
	assert_int_equal(l.cpu_weight, 39);
	assert_int_equal(l.cpu_quota_us, 25000);
	assert_int_equal(l.cpu_period_us, 100000);
	assert_int_equal(l.memory_max, 32 << 20);
	assert_int_equal(l.memory_low, 16 << 20);
	assert_int_equal(l.pids_max, 50);
	assert_true(l.swap_set); /* swap off unless configured */
	assert_int_equal(l.swap_max, 0);
	rt_spec_release(&s);

	/* nothing asked: no cpu or memory writes, default pids, swap still off */
	assert_int_equal(PARSE(&s, &e, "--rootfs", "/r", "x"), 0);
	assert_int_equal(rt_limits_from_spec(&s, &l), 0);
	assert_int_equal(l.cpu_weight, 0);
	assert_int_equal(l.cpu_quota_us, 0);
	assert_int_equal(l.memory_max, 0);
	assert_int_equal(l.pids_max, CG_DEFAULT_PIDS_MAX);
	rt_spec_release(&s);

	/* --cpu 0 is ECS's "unset": the minimum 2 shares, weight 1 */
	assert_int_equal(PARSE(&s, &e, "--rootfs", "/r", "--cpu", "0", "x"), 0);
	assert_int_equal(rt_limits_from_spec(&s, &l), 0);
	assert_int_equal(l.cpu_weight, 1);
	rt_spec_release(&s);

	/* the largest memory accepted does not overflow bytes */
	assert_int_equal(PARSE(&s, &e, "--rootfs", "/r", "--memory", "4294967296", "x"), 0);
	assert_int_equal(rt_limits_from_spec(&s, &l), 0);
	assert_int_equal(l.memory_max, UINT64_C(4294967296) << 20);
	rt_spec_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_all_flags),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_image_volumes_shm),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_limits_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
