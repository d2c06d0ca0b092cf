/* tests/unit/test_cgroup.c - cgroup/: mountinfo/controllers parsing, ECS
 * conversions, and create/limits/remove against a tmpdir fake hierarchy. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup/cgroup.h"
#include "lib/cleanup.h"
#include "lib/fileio.h"

static const char hybrid_mountinfo[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"36 31 0:33 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";

static void test_mountinfo_hybrid(void **state)
{
	struct cg_host h;

	(void)state;
	assert_int_equal(cg_parse_mountinfo(hybrid_mountinfo, &h), 0);
	assert_string_equal(h.mount, "/sys/fs/cgroup/unified");
	assert_true(h.v1_cpu);
	assert_true(h.v1_memory);
}

static void test_mountinfo_unified_escaped(void **state)
{
	static const char mi[] =
		"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"40 22 0:38 / /sys/fs/my\\040cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
		"41 22 0:39 / /other rw - cgroup2 cgroup2 rw\n";
	struct cg_host h;

	(void)state;
	assert_int_equal(cg_parse_mountinfo(mi, &h), 0);
	assert_string_equal(h.mount, "/sys/fs/my cgroup"); /* first cgroup2 wins */
	assert_false(h.v1_cpu);
	assert_false(h.v1_memory);
}

static void test_mountinfo_cpuset_is_not_cpu(void **state)
{
	static const char mi[] =
		"36 31 0:33 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,cpuacct\n"
		"37 31 0:34 / /sys/fs/cgroup/x rw - cgroup cgroup rw,memory_recursiveprot\n"
		"41 31 0:38 / /u rw - cgroup2 cgroup2 rw\n";
	struct cg_host h;

	(void)state;
	assert_int_equal(cg_parse_mountinfo(mi, &h), 0);
	assert_false(h.v1_cpu);
	assert_false(h.v1_memory);
}

static void test_mountinfo_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"\n\n\n",
		"garbage\n",
		"1 2 3 4 5 6 -\n",
		"1 2 3 4 5 6 - cgroup2\n",   /* no mount point issue: still a cgroup2 line */
		"- - - - - - - - - -\n",
		"a b c d e f g h i j k l m n o p q r s t u v w x y z - cgroup\n",
	};
	struct cg_host h;
	char long_line[8192];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = cg_parse_mountinfo(bad[i], &h);

		assert_true(r == 0 || r == -ENOENT || r == -EINVAL);
	}
	assert_int_equal(cg_parse_mountinfo("", &h), -ENOENT);
	/* A NUL smuggled in through an escape is refused. */
	assert_int_equal(cg_parse_mountinfo("1 2 3 / /a\\000b rw - cgroup2 c rw\n", &h), -EINVAL);
	/* A mount point longer than PATH_MAX is refused, not truncated. */
	memset(long_line, 'a', sizeof(long_line));
	memcpy(long_line, "1 2 3 / /", 9);
	strcpy(long_line + sizeof(long_line) - 32, " rw - cgroup2 c rw\n");
	assert_int_equal(cg_parse_mountinfo(long_line, &h), -ENAMETOOLONG);
}

static void test_controllers(void **state)
{
	struct cg_host h = { .has_cpu = true };

	(void)state;
	cg_parse_controllers("cpuset io hugetlb\n", &h);
	assert_false(h.has_cpu);
	assert_false(h.has_memory);
	cg_parse_controllers("cpuset cpu io memory hugetlb pids\n", &h);
	assert_true(h.has_cpu);
	assert_true(h.has_memory);
	assert_true(h.has_pids);
	cg_parse_controllers("", &h);
	assert_false(h.has_pids);
}

static void test_proc_cgroups(void **state)
{
	static const char hybrid[] =
		"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
		"cpuset\t3\t1\t1\ncpu\t1\t1\t1\ncpuacct\t2\t1\t1\n"
		"memory\t4\t31\t1\nhugetlb\t0\t24\t1\npids\t8\t1\t1\n";
	static const char unified[] =
		"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
		"cpu\t0\t9\t1\nmemory\t0\t9\t1\n";
	static const char *const hostile[] = {
		"",
		"\n\n\n",
		"cpu\n1 1 1\nmemory\n4\n1\n1\n",        /* numbers on other lines */
		"cpu 1 1 0\nmemory 4 1 0\n",               /* bound, but disabled */
		"#cpu 1 1 1\n",
		"cpuset 3 1 1\ncpuacct 2 1 1\nmemoryx 4 1 1\n",
		"cpu x 1 1\nmemory 4 x 1\n",
	};
	struct cg_host h = { .v1_cpu = true, .v1_memory = true };
	char long_line[600];

	(void)state;
	cg_parse_proc_cgroups(hybrid, &h);
	assert_true(h.v1_cpu);
	assert_true(h.v1_memory);
	cg_parse_proc_cgroups(unified, &h);
	assert_false(h.v1_cpu);
	assert_false(h.v1_memory);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		h.v1_cpu = h.v1_memory = true;
		cg_parse_proc_cgroups(hostile[i], &h);
		assert_false(h.v1_cpu);
		assert_false(h.v1_memory);
	}
	memset(long_line, ' ', sizeof(long_line) - 1);
	memcpy(long_line, "memory", 6);
	memcpy(long_line + sizeof(long_line) - 8, "4 1 1\n", 7);
	long_line[sizeof(long_line) - 1] = '\0';
	cg_parse_proc_cgroups(long_line, &h);
	assert_false(h.v1_memory);
}

static void test_cpu_weight(void **state)
{
	uint64_t w;

	(void)state;
	assert_int_equal(cg_cpu_units_to_weight(0, &w), 0);
	assert_int_equal(w, 1);
	assert_int_equal(cg_cpu_units_to_weight(2, &w), 0);
	assert_int_equal(w, 1);
	assert_int_equal(cg_cpu_units_to_weight(1024, &w), 0);
	assert_int_equal(w, 39); /* 1 + 1022*9999/262142 */
	assert_int_equal(cg_cpu_units_to_weight(262144, &w), 0);
	assert_int_equal(w, 10000);
	assert_int_equal(cg_cpu_units_to_weight(UINT64_MAX, &w), 0);
	assert_int_equal(w, 10000);
}

static void test_cpu_quota(void **state)
{
	uint64_t q;

	(void)state;
	assert_int_equal(cg_cpu_units_to_quota(256, 100000, &q), 0);
	assert_int_equal(q, 25000);
	assert_int_equal(cg_cpu_units_to_quota(1024, 0, &q), 0);
	assert_int_equal(q, 100000);
	assert_int_equal(cg_cpu_units_to_quota(2048, 100000, &q), 0);
	assert_int_equal(q, 200000);
	assert_int_equal(cg_cpu_units_to_quota(1, 100000, &q), 0);
	assert_int_equal(q, 1000); /* kernel minimum */
	assert_int_equal(cg_cpu_units_to_quota(0, 100000, &q), -ERANGE);
	assert_int_equal(cg_cpu_units_to_quota(1024, 10, &q), -ERANGE);
	assert_int_equal(cg_cpu_units_to_quota(UINT64_MAX, 100000, &q), -ERANGE);
}

static void test_cpu_max_format(void **state)
{
	struct cg_limits l = { .cpu_quota_us = 25000 };
	char buf[64], tiny[4];

	(void)state;
	assert_int_equal(cg_format_cpu_max(&l, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "25000 100000");
	l.cpu_quota_us = 0;
	assert_int_equal(cg_format_cpu_max(&l, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "max 100000");
	assert_int_equal(cg_format_cpu_max(&l, tiny, sizeof(tiny)), -ENOBUFS);
}

static void test_oom_events(void **state)
{
	uint64_t n = 99;

	(void)state;
	assert_int_equal(cg_parse_oom_kills("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cg_parse_oom_kills("low 0\noom 0\n", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cg_parse_oom_kills("oom_kill x\n", &n), -EINVAL);
	assert_int_equal(cg_parse_oom_kills("oom_kill 99999999999999999999999\n", &n), -ERANGE);
	assert_int_equal(cg_parse_oom_kills("", &n), 0);
	assert_int_equal(n, 0);
}

/* ---- the fake hierarchy ---- */

struct fake {
	char root[64];
	struct cg_host host;
};

static void put(const char *dir, const char *file, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void get(const char *dir, const char *file, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	assert_int_equal(read_file_at(fd, file, buf, size, NULL), 0);
}

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	char berth[PATH_MAX];

	strcpy(f->root, "/tmp/berth-cgtest-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	put(f->root, "cgroup.controllers", "cpuset cpu io memory pids\n");
	put(f->root, "cgroup.subtree_control", "");
	snprintf(berth, sizeof(berth), "%s/berth", f->root);
	mkdir(berth, 0755);
	put(berth, "cgroup.controllers", "cpu memory pids\n");
	put(berth, "cgroup.subtree_control", "memory\n");
	strcpy(f->host.mount, f->root);
	f->host.has_cpu = f->host.has_memory = f->host.has_pids = true;
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_create_existing_parent(void **state)
{
	struct fake *f = *state;
	struct cg cg = CG_INIT;
	char buf[256], berth[PATH_MAX], want[PATH_MAX];
	struct stat st;

	assert_int_equal(cg_create(&f->host, "berth", "c1", &cg), 0);
	assert_true(cg.fd >= 0);
	snprintf(want, sizeof(want), "%s/berth/c1", f->root);
	assert_string_equal(cg.path, want);
	assert_int_equal(stat(want, &st), 0);
	/* root gets all three, berth only the two not yet on */
	get(f->root, "cgroup.subtree_control", buf, sizeof(buf));
	assert_string_equal(buf, "+cpu +memory +pids");
	snprintf(berth, sizeof(berth), "%s/berth", f->root);
	get(berth, "cgroup.subtree_control", buf, sizeof(buf));
	assert_string_equal(buf, "+cpu +pids");
	/* a second container of the same name is refused */
	{
		struct cg dup = CG_INIT;

		assert_int_equal(cg_create(&f->host, "berth", "c1", &dup), -EEXIST);
		assert_int_equal(dup.fd, -1);
	}
	assert_int_equal(cg_remove(&cg), 0);
	assert_int_equal(cg.fd, -1);
	assert_int_equal(stat(want, &st), -1);
	assert_int_equal(cg_remove(&cg), 0); /* idempotent */
}

static void test_create_skips_missing_controllers(void **state)
{
	struct fake *f = *state;
	struct cg cg = CG_INIT;
	char buf[256];

	f->host.has_cpu = f->host.has_memory = false; /* hybrid: only pids in v2 */
	put(f->root, "cgroup.controllers", "pids hugetlb\n");
	assert_int_equal(cg_create(&f->host, "berth", "c2", &cg), 0);
	get(f->root, "cgroup.subtree_control", buf, sizeof(buf));
	assert_string_equal(buf, "+pids");
	assert_int_equal(cg_remove(&cg), 0);
}

static void test_create_bad_names(void **state)
{
	struct fake *f = *state;
	struct cg cg = CG_INIT;
	static const char *const names[] = { "", ".", "..", "a/b", "x\ny" };
	static const char *const parents[] = { "/abs", "a/../b", "a//b/..", ".." };
	char p[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_int_equal(cg_create(&f->host, "berth", names[i], &cg), -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(parents); i++)
		assert_int_equal(cg_create(&f->host, parents[i], "ok", &cg), -EINVAL);
	snprintf(p, sizeof(p), "%s/a", f->root);
	assert_int_equal(stat(p, &st), -1); /* nothing left behind */
}

static void test_create_failure_leaves_nothing(void **state)
{
	struct fake *f = *state;
	struct cg cg = CG_INIT;
	char p[PATH_MAX];
	struct stat st;

	/* A fresh parent in the fake has no interface files, so enabling
	 * controllers in it fails after its mkdir: the dirs must go again. */
	assert_int_equal(cg_create(&f->host, "new/deeper", "c3", &cg), -ENOENT);
	snprintf(p, sizeof(p), "%s/new", f->root);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(cg.fd, -1);
}

static void test_apply_limits(void **state)
{
	struct fake *f = *state;
	struct cg cg = CG_INIT;
	struct cg_limits l = {
		.cpu_weight = 39, .cpu_quota_us = 25000, .memory_max = 32 << 20,
		.memory_low = 16 << 20, .pids_max = 4096, .swap_set = true, .swap_max = 0,
	};
	static const char *const files[] = { "cpu.weight", "cpu.max", "memory.max",
					     "memory.low", "memory.swap.max", "pids.max" };
	char buf[64];

	assert_int_equal(cg_create(&f->host, "berth", "lim", &cg), 0);
	/* acting as the kernel: the interface files appear with the dir */
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		put(cg.path, files[i], "");
	assert_int_equal(cg_apply_limits(&f->host, &cg, &l, false), 0);
	get(cg.path, "cpu.weight", buf, sizeof(buf));
	assert_string_equal(buf, "39");
	get(cg.path, "cpu.max", buf, sizeof(buf));
	assert_string_equal(buf, "25000 100000");
	get(cg.path, "memory.max", buf, sizeof(buf));
	assert_string_equal(buf, "33554432");
	get(cg.path, "memory.low", buf, sizeof(buf));
	assert_string_equal(buf, "16777216");
	get(cg.path, "memory.swap.max", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	get(cg.path, "pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "4096");

	/* no swap accounting: memory.swap.max absent is not an error */
	assert_int_equal(unlinkat(cg.fd, "memory.swap.max", 0), 0);
	assert_int_equal(cg_apply_limits(&f->host, &cg, &l, false), 0);
	/* a missing controller: refused unless told to skip */
	f->host.has_memory = false;
	put(cg.path, "memory.max", "");
	assert_int_equal(cg_apply_limits(&f->host, &cg, &l, false), -EOPNOTSUPP);
	assert_int_equal(cg_apply_limits(&f->host, &cg, &l, true), 0);
	get(cg.path, "memory.max", buf, sizeof(buf));
	assert_string_equal(buf, "");
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		(void)unlinkat(cg.fd, files[i], 0);
	assert_int_equal(cg_remove(&cg), 0);
}

static void test_oom_and_kill(void **state)
{
	struct fake *f = *state;
	struct cg cg = CG_INIT;
	uint64_t n = 7;

	assert_int_equal(cg_create(&f->host, "berth", "oom", &cg), 0);
	assert_int_equal(cg_read_oom_kills(&cg, &n), 0); /* no memory.events */
	assert_int_equal(n, 0);
	put(cg.path, "memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
	assert_int_equal(cg_read_oom_kills(&cg, &n), 0);
	assert_int_equal(n, 1);
	/* an empty cgroup: kill returns at once (cgroup.kill written, procs empty) */
	put(cg.path, "cgroup.kill", "");
	put(cg.path, "cgroup.procs", "");
	assert_int_equal(cg_kill_all(&cg), 0);
	assert_int_equal(unlinkat(cg.fd, "cgroup.kill", 0), 0);
	assert_int_equal(cg_kill_all(&cg), 0); /* the fallback path */
	(void)unlinkat(cg.fd, "cgroup.procs", 0);
	(void)unlinkat(cg.fd, "memory.events", 0);
	assert_int_equal(cg_remove(&cg), 0);
}

/* Many pids in cgroup.procs mean "not empty yet", not an error: the fake
 * list never empties, so cg_kill_all gives up with -EBUSY after its rounds.
 * (The pids are above any pid_max; with cgroup.kill present none is
 * signalled anyway.) */
static void test_kill_long_procs(void **state)
{
	struct fake *f = *state;
	struct cg cg = CG_INIT;
	char procs[1024] = "";

	assert_int_equal(cg_create(&f->host, "berth", "many", &cg), 0);
	for (int i = 0; i < 64; i++)
		snprintf(procs + strlen(procs), sizeof(procs) - strlen(procs), "%d\n", 9000000 + i);
	put(cg.path, "cgroup.kill", "");
	put(cg.path, "cgroup.procs", procs);
	assert_int_equal(cg_kill_all(&cg), -EBUSY);
	(void)unlinkat(cg.fd, "cgroup.kill", 0);
	(void)unlinkat(cg.fd, "cgroup.procs", 0);
	assert_int_equal(cg_remove(&cg), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo_hybrid),
		cmocka_unit_test(test_mountinfo_unified_escaped),
		cmocka_unit_test(test_mountinfo_cpuset_is_not_cpu),
		cmocka_unit_test(test_mountinfo_hostile),
		cmocka_unit_test(test_controllers),
		cmocka_unit_test(test_proc_cgroups),
		cmocka_unit_test(test_cpu_weight),
		cmocka_unit_test(test_cpu_quota),
		cmocka_unit_test(test_cpu_max_format),
		cmocka_unit_test(test_oom_events),
		cmocka_unit_test_setup_teardown(test_create_existing_parent, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_create_skips_missing_controllers, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_create_bad_names, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_create_failure_leaves_nothing, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_apply_limits, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_oom_and_kill, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_kill_long_procs, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
