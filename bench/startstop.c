/* bench/startstop.c - times N runs of two commands, alternating, and prints
 * median, p99, mean and the ratio of the medians.  Built and driven by
 * bench/run; never part of the test suite.
 *
 *   startstop N MNTNS_PID_B NAME_A NAME_B :: CMD_A... :: CMD_B...
 *
 * ("::" separates, as the commands themselves may contain "--".)
 *
 * Command B runs in the mount namespace open at /proc/<MNTNS_B>/ns/mnt (for
 * crun on hybrid-cgroup hosts: a namespace with a private cgroup2 mount), and
 * command A in this process's own.  Both children pay the same setns(), so
 * the namespace switch costs neither side anything the other does not pay.
 * Each run's stdout/stderr go to /dev/null; a run that fails aborts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double run_once(char **argv, int ns_fd)
{
	double t0 = now_ms(), t1;
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (setns(ns_fd, CLONE_NEWNS) < 0)
			_exit(126);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		exit(2);
	}
	t1 = now_ms();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "startstop: '%s' failed (status 0x%x); run it by hand to see why\n",
			argv[0], status);
		exit(1);
	}
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double median, p99, mean, min;
};

static struct stats summarize(double *v, int n)
{
	struct stats s = { 0 };
	int p99 = (int)(0.99 * (n - 1) + 0.5);

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.p99 = v[p99];
	s.min = v[0];
	for (int i = 0; i < n; i++)
		s.mean += v[i] / n;
	return s;
}

int main(int argc, char **argv)
{
	char **a = NULL, **b = NULL, path[64];
	double *ta, *tb;
	int n, own_fd, b_fd;
	struct stats sa, sb;

	if (argc < 8 || (n = atoi(argv[1])) < 1 || strcmp(argv[5], "::") != 0) {
		fprintf(stderr, "usage: startstop N MNTNS_PID_B NAME_A NAME_B :: CMD_A... :: CMD_B...\n");
		return 2;
	}
	a = argv + 6;
	for (int i = 6; i < argc; i++)
		if (strcmp(argv[i], "::") == 0) {
			argv[i] = NULL;
			b = argv + i + 1;
			break;
		}
	if (!b || !b[0] || !a[0]) {
		fprintf(stderr, "startstop: need two commands separated by ::\n");
		return 2;
	}
	own_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", argv[2]);
	b_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (own_fd < 0 || b_fd < 0) {
		perror("open mount namespace");
		return 2;
	}
	ta = calloc((size_t)n, sizeof(*ta));
	tb = calloc((size_t)n, sizeof(*tb));
	if (!ta || !tb)
		return 2;
	/* one warm-up each: page cache, the seccomp cache file */
	run_once(a, own_fd);
	run_once(b, b_fd);
	for (int i = 0; i < n; i++) {
		ta[i] = run_once(a, own_fd);
		tb[i] = run_once(b, b_fd);
	}
	sa = summarize(ta, n);
	sb = summarize(tb, n);
	printf("%-6s runs=%d  median %6.2f ms  p99 %6.2f ms  mean %6.2f ms  min %6.2f ms\n",
	       argv[3], n, sa.median, sa.p99, sa.mean, sa.min);
	printf("%-6s runs=%d  median %6.2f ms  p99 %6.2f ms  mean %6.2f ms  min %6.2f ms\n",
	       argv[4], n, sb.median, sb.p99, sb.mean, sb.min);
	printf("ratio  %s/%s medians: %.2f\n", argv[3], argv[4], sa.median / sb.median);
	free(ta);
	free(tb);
	return 0;
}
