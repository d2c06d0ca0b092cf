/* The default seccomp profile: the plan, the cache key, the cache file
 * round trip, and the loaded program's effect in a forked child. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "policy/policy.h"

#define BIT(c) (UINT64_C(1) << (c))

static char *plan(uint64_t mask)
{
	static char buf[8192];

	assert_int_equal(seccomp_plan_text(mask, buf, sizeof(buf), NULL), 0);
	return buf;
}

static bool plan_has(const char *text, const char *name)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "\n%s errno", name);
	/* the first line has no leading newline */
	return strstr(text, needle) || strncmp(text, needle + 1, strlen(needle + 1)) == 0;
}

static void test_plan_default(void **state)
{
	static const char *const denied[] = {
		"mount", "umount2", "unshare", "setns", "clone", "clone3", "keyctl", "add_key",
		"request_key", "bpf", "ptrace", "process_vm_readv", "process_vm_writev",
		"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
		"reboot", "swapon", "swapoff", "pivot_root", "acct", "settimeofday",
		"clock_settime", "adjtimex", "open_by_handle_at", "perf_event_open",
		"userfaultfd", "lookup_dcookie", "quotactl", "name_to_handle_at", "syslog",
		"vhangup", "iopl", "ioperm", "umount", "nfsservctl", "move_mount", "fsopen",
		"fsmount", "fspick", "open_tree", "personality",
	};
	const char *p = plan(caps_default_mask());

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		if (!plan_has(p, denied[i]))
			fail_msg("default profile does not deny '%s'", denied[i]);
	assert_non_null(strstr(p, "clone3 errno=38\n"));   /* ENOSYS: libc falls back */
	assert_non_null(strstr(p, "unshare errno=1 if flags&CLONE_NEW*"));
	assert_false(plan_has(p, "getpid"));
	assert_false(plan_has(p, "read"));
}

static void test_plan_relaxed_by_caps(void **state)
{
	static const struct {
		int cap;
		const char *name;
	} relax[] = {
		{ CAP_SYS_ADMIN, "mount" },     { CAP_SYS_ADMIN, "unshare" },
		{ CAP_SYS_ADMIN, "setns" },     { CAP_SYS_ADMIN, "pivot_root" },
		{ CAP_SYS_PTRACE, "ptrace" },   { CAP_SYS_PTRACE, "process_vm_readv" },
		{ CAP_SYS_BOOT, "reboot" },     { CAP_SYS_BOOT, "kexec_load" },
		{ CAP_SYS_MODULE, "init_module" }, { CAP_SYS_TIME, "settimeofday" },
		{ CAP_SYSLOG, "syslog" },       { CAP_SYS_PACCT, "acct" },
	};
	uint64_t base = caps_default_mask();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(relax); i++) {
		assert_true(plan_has(plan(base), relax[i].name));
		if (plan_has(plan(base | BIT(relax[i].cap)), relax[i].name))
			fail_msg("cap %d does not lift '%s'", relax[i].cap, relax[i].name);
	}
	/* never lifted: the keyring is not namespaced */
	assert_true(plan_has(plan(caps_all_mask()), "keyctl"));
	assert_true(plan_has(plan(caps_all_mask()), "personality"));
}

static void test_plan_short_buffer(void **state)
{
	char small[64];

	(void)state;
	assert_int_equal(seccomp_plan_text(0, small, sizeof(small), NULL), -ENOBUFS);
	assert_int_equal(seccomp_plan_text(0, small, 0, NULL), -ENOBUFS);
}

static void test_cache_key(void **state)
{
	char a[32], b[32], c[32];

	(void)state;
	assert_int_equal(seccomp_cache_key(caps_default_mask(), a, sizeof(a)), 0);
	assert_int_equal(seccomp_cache_key(caps_default_mask(), b, sizeof(b)), 0);
	assert_int_equal(seccomp_cache_key(caps_default_mask() | BIT(CAP_SYS_ADMIN), c, sizeof(c)), 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(seccomp_cache_key(0, a, 8), -ENOBUFS);
}

/* ---- loading the program in a child ---- */

enum {
	CHILD_OK = 0,
	CHILD_APPLY = 1,
	CHILD_GETPID = 2,
	CHILD_MOUNT = 3,
	CHILD_UNSHARE_NET = 4,
	CHILD_KEYCTL = 5,
	CHILD_CLONE3 = 6,
	CHILD_PERSONALITY = 7,
	CHILD_PERSONALITY_QUERY = 8,
	CHILD_UNSHARE_FILES = 9,
	CHILD_NNP = 10,
	CHILD_RELAXED_UNSHARE = 11,
	CHILD_PERSONALITY_I386 = 12,
	CHILD_PERSONALITY_I386_QUERY = 13,
};

static bool fails_with(long r, int want)
{
	return r == -1 && errno == want;
}

#ifdef __x86_64__
/* A one-argument call through the i386 ABI (int $0x80): the raw kernel
 * return, -errno on failure.  r8-r11 were zeroed by kernels before 4.17. */
static int i386_syscall1(long nr, long arg0)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(arg0) : "memory", "r8", "r9", "r10", "r11");
	return (int)ret;
}

#define I386_NR_personality 136

/* The compat ABI must not be a way around the personality rule. */
static int child_i386_checks(void)
{
	if (i386_syscall1(I386_NR_personality, ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC) != -EPERM)
		return CHILD_PERSONALITY_I386;
	if (i386_syscall1(I386_NR_personality, 0xffffffffL) < 0)
		return CHILD_PERSONALITY_I386_QUERY;
	return CHILD_OK;
}
#else
static int child_i386_checks(void)
{
	return CHILD_OK;
}
#endif

/* Runs in the child; returns the first check that failed. */
static int child_checks(const struct seccomp_prog *prog, bool sys_admin)
{
	int r;

	if (seccomp_apply(prog) < 0)
		return CHILD_APPLY;
	if (syscall(SYS_getpid) != getpid() || getpid() <= 0)
		return CHILD_GETPID;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return CHILD_NNP;
	if (sys_admin) {
		/* CAP_SYS_ADMIN lifts the namespace rules (the child is root). */
		if (unshare(CLONE_NEWNET) != 0)
			return CHILD_RELAXED_UNSHARE;
		return CHILD_OK;
	}
	if (!fails_with(mount("none", "/nonexistent-berth", "tmpfs", 0, NULL), EPERM))
		return CHILD_MOUNT;
	if (!fails_with(unshare(CLONE_NEWNET), EPERM))
		return CHILD_UNSHARE_NET;
	if (!fails_with(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EPERM))
		return CHILD_KEYCTL;
	if (!fails_with(syscall(SYS_clone3, NULL, 0), ENOSYS))
		return CHILD_CLONE3;
	if (!fails_with(syscall(SYS_personality, ADDR_NO_RANDOMIZE), EPERM))
		return CHILD_PERSONALITY;
	if (syscall(SYS_personality, 0xffffffffUL) < 0)
		return CHILD_PERSONALITY_QUERY;
	r = child_i386_checks();
	if (r != CHILD_OK)
		return r;
	/* unshare without namespace flags stays allowed */
	if (unshare(CLONE_FILES) != 0)
		return CHILD_UNSHARE_FILES;
	return CHILD_OK;
}

static int run_child(const struct seccomp_prog *prog, bool sys_admin)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_checks(prog, sys_admin));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void rm_tree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_load_default(void **state)
{
	const struct seccomp_prog *p1, *p2;
	struct err e = ERR_INIT;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(seccomp_default_prog(caps_default_mask(), NULL, &p1, &e), 0);
	assert_true(p1->len > 10);
	/* compiled once per process: the same program comes back */
	assert_int_equal(seccomp_default_prog(caps_default_mask(), NULL, &p2, &e), 0);
	assert_ptr_equal(p1, p2);
	assert_int_equal(run_child(p1, false), CHILD_OK);
}

static void test_load_relaxed(void **state)
{
	const struct seccomp_prog *p;
	struct err e = ERR_INIT;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(seccomp_default_prog(caps_default_mask() | BIT(CAP_SYS_ADMIN), NULL, &p, &e), 0);
	assert_int_equal(run_child(p, true), CHILD_OK);
}

static void test_cache_round_trip(void **state)
{
	char dir[] = "/tmp/berth-test-seccomp-XXXXXX";
	char cache[128], path[256], key[32], tmpl[256];
	const struct seccomp_prog *mem;
	struct seccomp_prog prog;
	struct err e = ERR_INIT;
	struct stat st;
	uint64_t mask = caps_default_mask() | BIT(CAP_SYS_PTRACE); /* not used by other tests */
	_cleanup_free_ void *file = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cache, sizeof(cache), "%s/run/seccomp", dir);
	assert_int_equal(seccomp_cache_key(mask, key, sizeof(key)), 0);
	snprintf(path, sizeof(path), "%s/%s.bpf", cache, key);

	/* first use: compiles and writes the file (two levels created) */
	assert_int_equal(seccomp_default_prog(mask, cache, &mem, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, (off_t)(mem->len * 8));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* no temp file left behind */
	snprintf(tmpl, sizeof(tmpl), "ls -A '%s' | grep -q tmp", cache);
	assert_int_not_equal(system(tmpl), 0);

	/* the file holds exactly the compiled program */
	file = malloc((size_t)st.st_size);
	assert_non_null(file);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(file, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	assert_memory_equal(file, mem->filter, (size_t)st.st_size);

	/* and loads: the exported program denies in a fresh child */
	prog.filter = file;
	prog.len = (size_t)st.st_size / 8;
	if (geteuid() == 0)
		assert_int_equal(run_child(&prog, false), CHILD_OK);

	rm_tree(dir);
}

/* A cache file someone else could have written is ignored, not loaded. */
static void test_cache_untrusted(void **state)
{
	char dir[] = "/tmp/berth-test-seccomp-XXXXXX";
	char path[256], key[32];
	const struct seccomp_prog *p;
	struct err e = ERR_INIT;
	uint64_t mask = caps_default_mask() | BIT(CAP_SYS_BOOT);
	static const unsigned char garbage[16] = { 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f }; /* RET ALLOW */
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(seccomp_cache_key(mask, key, sizeof(key)), 0);
	snprintf(path, sizeof(path), "%s/%s.bpf", dir, key);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(garbage, 1, sizeof(garbage), f), sizeof(garbage));
	fclose(f);
	assert_int_equal(chmod(path, 0666), 0);

	assert_int_equal(seccomp_default_prog(mask, dir, &p, &e), 0);
	assert_true(p->len > 2); /* compiled, not the planted 2-instruction file */
	rm_tree(dir);
}

static void test_apply_bad_prog(void **state)
{
	struct seccomp_prog empty = { NULL, 0 };

	(void)state;
	assert_int_equal(seccomp_apply(NULL), -EINVAL);
	assert_int_equal(seccomp_apply(&empty), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_default),
		cmocka_unit_test(test_plan_relaxed_by_caps),
		cmocka_unit_test(test_plan_short_buffer),
		cmocka_unit_test(test_cache_key),
		cmocka_unit_test(test_load_default),
		cmocka_unit_test(test_load_relaxed),
		cmocka_unit_test(test_cache_round_trip),
		cmocka_unit_test(test_cache_untrusted),
		cmocka_unit_test(test_apply_bad_prog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
