/* tests/unit/test_cgroup_tree.c - cg_remove_tree: a cgroup subtree whose
 * owner is gone is emptied (its processes killed) and removed, deepest
 * first; bad paths are refused.  Root and a cgroup2 mount needed (skipped
 * otherwise). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup/cgroup.h"

static int probe(struct cg_host *h)
{
	if (geteuid() != 0 || cg_host_probe(NULL, h) < 0)
		return -1;
	return 0;
}

static void mkcg(const struct cg_host *h, const char *rel)
{
	char p[PATH_MAX + 256];

	snprintf(p, sizeof(p), "%s/%s", h->mount, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static bool exists(const struct cg_host *h, const char *rel)
{
	char p[PATH_MAX + 256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", h->mount, rel);
	return stat(p, &st) == 0;
}

static void test_removes_tree_and_kills(void **state)
{
	struct cg_host h;
	char top[64], rel[128], procs[PATH_MAX + 256], pid_s[32];
	pid_t pid;
	int fd, status;

	(void)state;
	if (probe(&h) < 0)
		skip();
	snprintf(top, sizeof(top), "berth-unit-tree-%d", (int)getpid());
	mkcg(&h, top);
	snprintf(rel, sizeof(rel), "%s/task", top);
	mkcg(&h, rel);
	snprintf(rel, sizeof(rel), "%s/task/app", top);
	mkcg(&h, rel);
	snprintf(rel, sizeof(rel), "%s/task/side", top);
	mkcg(&h, rel);
	/* a process left behind in the deepest cgroup, as a killed shim leaves one */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	snprintf(procs, sizeof(procs), "%s/%s/task/app/cgroup.procs", h.mount, top);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	assert_true(write(fd, pid_s, strlen(pid_s)) > 0);
	close(fd);

	snprintf(rel, sizeof(rel), "%s/task", top);
	assert_int_equal(cg_remove_tree(&h, rel), 0);
	assert_false(exists(&h, rel));
	assert_true(exists(&h, top));   /* only the subtree asked for */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* again: nothing there is not an error */
	assert_int_equal(cg_remove_tree(&h, rel), 0);
	assert_int_equal(cg_remove_tree(&h, top), 0);
	assert_false(exists(&h, top));
}

static void test_refuses_bad_paths(void **state)
{
	struct cg_host h = { .mount = "/nonexistent" };

	(void)state;
	assert_int_equal(cg_remove_tree(&h, ""), -EINVAL);
	assert_int_equal(cg_remove_tree(&h, "/etc"), -EINVAL);
	assert_int_equal(cg_remove_tree(&h, "berth/../../etc"), -EINVAL);
	assert_int_equal(cg_remove_tree(&h, "berth/tasks/none"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_removes_tree_and_kills),
		cmocka_unit_test(test_refuses_bad_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
