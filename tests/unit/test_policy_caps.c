/* Capability names, masks and applying them in a forked child. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "policy/policy.h"

#define BIT(c) (UINT64_C(1) << (c))

static void test_parse_names(void **state)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
		{ "NET_ADMIN", CAP_NET_ADMIN },
		{ "net_admin", CAP_NET_ADMIN },
		{ "CAP_NET_ADMIN", CAP_NET_ADMIN },
		{ "cap_net_admin", CAP_NET_ADMIN },
		{ "Cap_Sys_Admin", CAP_SYS_ADMIN },
		{ "CHOWN", CAP_CHOWN },
		{ "AUDIT_WRITE", CAP_AUDIT_WRITE },
		{ "ALL", CAPS_ALL },
		{ "all", CAPS_ALL },
		/* hostile or malformed */
		{ "", -EINVAL },
		{ "CAP_", -EINVAL },
		{ "cap_", -EINVAL },
		{ "CAP_ALL", -EINVAL },
		{ "NET ADMIN", -EINVAL },
		{ " NET_ADMIN", -EINVAL },
		{ "NET_ADMIN ", -EINVAL },
		{ "NET-ADMIN", -EINVAL },
		{ "NOT_A_CAP", -EINVAL },
		{ "12", -EINVAL },
		{ "CAP_12", -EINVAL },
		{ "-1", -EINVAL },
		{ "0", -EINVAL },
		{ "NET_ADMIN\n", -EINVAL },
		{ "CAP_CAP_CHOWN", -EINVAL },
		{ "%s%s%n", -EINVAL },
		{ "\xff\xfe", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int got = caps_parse_name(cases[i].in);

		if (got != cases[i].want)
			fail_msg("caps_parse_name(\"%s\") = %d, want %d", cases[i].in, got,
				 cases[i].want);
	}
	assert_int_equal(caps_parse_name(NULL), -EINVAL);
}

static void test_parse_long_name(void **state)
{
	char name[4096];

	(void)state;
	memset(name, 'A', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(caps_parse_name(name), -EINVAL);
	/* A real name padded past the limit stays rejected. */
	memcpy(name, "CAP_CHOWN", 9);
	assert_int_equal(caps_parse_name(name), -EINVAL);
}

static void test_default_mask(void **state)
{
	static const int want[] = {
		CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD,
		CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP,
		CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
	};
	uint64_t m = caps_default_mask();

	(void)state;
	assert_int_equal(__builtin_popcountll(m), 14);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_true(m & BIT(want[i]));
	assert_false(m & BIT(CAP_SYS_ADMIN));
	assert_false(m & BIT(CAP_NET_ADMIN));
}

static void test_all_mask(void **state)
{
	uint64_t all = caps_all_mask();
	int last = caps_last_cap();
	FILE *f;
	int k = -1;

	(void)state;
	f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	if (f) {
		assert_int_equal(fscanf(f, "%d", &k), 1);
		fclose(f);
		assert_int_equal(last, k);
	}
	assert_int_equal(__builtin_popcountll(all), last + 1);
	assert_true(all & BIT(CAP_SYS_ADMIN));
	assert_true((caps_default_mask() & ~all) == 0);
}

static uint64_t build_ok(bool privileged, char *const *add, size_t n_add, char *const *drop,
			 size_t n_drop)
{
	struct err e = ERR_INIT;
	uint64_t m = 0;
	int r = caps_build(privileged, add, n_add, drop, n_drop, &m, &e);

	if (r < 0)
		fail_msg("caps_build failed: %s", e.msg);
	return m;
}

static void test_build(void **state)
{
	uint64_t avail = caps_available_mask();
	char *net_admin[] = { "NET_ADMIN" };
	char *net_raw[] = { "cap_net_raw" };
	char *all[] = { "ALL" };
	char *bind[] = { "NET_BIND_SERVICE" };
	char *both[] = { "CAP_CHOWN", "kill" };

	(void)state;
	assert_int_equal(build_ok(false, NULL, 0, NULL, 0), caps_default_mask() & avail);
	assert_int_equal(build_ok(true, NULL, 0, NULL, 0), caps_all_mask() & avail);
	assert_int_equal(build_ok(false, net_admin, 1, NULL, 0),
			 (caps_default_mask() | BIT(CAP_NET_ADMIN)) & avail);
	assert_int_equal(build_ok(false, NULL, 0, net_raw, 1),
			 caps_default_mask() & ~BIT(CAP_NET_RAW) & avail);
	/* drop ALL keeps only the adds */
	assert_int_equal(build_ok(false, bind, 1, all, 1), BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(build_ok(false, NULL, 0, all, 1), 0);
	/* add ALL is everything minus the drops */
	assert_int_equal(build_ok(false, all, 1, net_raw, 1),
			 caps_all_mask() & ~BIT(CAP_NET_RAW) & avail);
	/* drop first, then add: a name in both ends up added */
	assert_int_equal(build_ok(false, net_raw, 1, net_raw, 1), caps_default_mask() & avail);
	assert_int_equal(build_ok(false, NULL, 0, both, 2),
			 caps_default_mask() & ~BIT(CAP_CHOWN) & ~BIT(CAP_KILL) & avail);
	/* privileged honours drops */
	assert_int_equal(build_ok(true, NULL, 0, net_raw, 1),
			 caps_all_mask() & ~BIT(CAP_NET_RAW) & avail);
}

static void test_build_errors(void **state)
{
	char *bad[] = { "CAP_NET_ADMIN", "NOPE" };
	char *empty[] = { "" };
	char *null[] = { NULL };
	struct err e = ERR_INIT;
	uint64_t m = 42;

	(void)state;
	assert_int_equal(caps_build(false, bad, 2, NULL, 0, &m, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'NOPE'"));
	assert_non_null(strstr(e.msg, "cap-add"));
	assert_int_equal(m, 42); /* untouched on failure */

	err_clear(&e);
	assert_int_equal(caps_build(false, NULL, 0, empty, 1, &m, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "cap-drop"));

	err_clear(&e);
	assert_int_equal(caps_build(false, null, 1, NULL, 0, &m, &e), -EINVAL);
}

/* A capability this host's bounding set lacks cannot be added (the sandbox
 * has no CAP_SYS_RESOURCE; on a full host this case has nothing to test). */
static void test_build_unavailable(void **state)
{
	uint64_t missing = caps_all_mask() & ~caps_available_mask();
	struct err e = ERR_INIT;
	char name[64];
	char *add[] = { name };
	uint64_t m;

	(void)state;
	if (!missing)
		skip();
	{
		char *n = cap_to_name(__builtin_ctzll(missing));

		snprintf(name, sizeof(name), "%s", n);
		cap_free(n);
	}
	assert_int_equal(caps_build(false, add, 1, NULL, 0, &m, &e), -EPERM);
	assert_non_null(strstr(e.msg, "bounding set"));
}

static uint64_t status_mask(const char *field)
{
	char line[256];
	unsigned long long v = 0;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return UINT64_MAX;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			sscanf(line + n + 1, "%llx", &v);
	fclose(f);
	return v;
}

/* Child exit codes: 0 ok, else the number of the check that failed. */
static int child_check_sets(uint64_t want, bool want_uid_1000)
{
	if (status_mask("CapEff") != want)
		return 10;
	if (status_mask("CapPrm") != want)
		return 11;
	if (status_mask("CapInh") != want)
		return 12;
	if (status_mask("CapBnd") != want)
		return 13;
	if (status_mask("CapAmb") != want)
		return 14;
	if (want_uid_1000 && (getuid() != 1000 || getgid() != 1000 || getgroups(0, NULL) != 0))
		return 15;
	return 0;
}

static int run_child(uint64_t mask, bool switch_user)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int r = switch_user ? policy_switch_user_and_caps(1000, 1000, mask)
				    : caps_apply(mask);
		_exit(r < 0 ? 1 : child_check_sets(mask, switch_user));
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_apply_root(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(run_child(caps_default_mask() & caps_available_mask(), false), 0);
}

static void test_apply_user_switch(void **state)
{
	uint64_t m = (caps_default_mask() | BIT(CAP_NET_ADMIN)) & caps_available_mask();

	(void)state;
	if (geteuid() != 0)
		skip();
	/* Without KEEPCAPS and ambient caps, uid 1000 would end with none. */
	assert_int_equal(run_child(m, true), 0);
	assert_int_equal(run_child(0, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_parse_long_name),
		cmocka_unit_test(test_default_mask),
		cmocka_unit_test(test_all_mask),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_build_unavailable),
		cmocka_unit_test(test_apply_root),
		cmocka_unit_test(test_apply_user_switch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
