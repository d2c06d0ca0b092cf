/* runtime/shim_health.c - container health checks (ECS-REFERENCE 1.3).
 *
 * A check runs inside the container: a child cloned straight into the
 * container's cgroup joins its namespaces through its pidfd (mnt, uts, ipc,
 * net, pid, cgroup), then forks (a pid namespace takes effect for children)
 * and the grandchild drops to the container's user, capabilities and
 * seccomp filter and execs the command with the container's environment.
 * Exit 0 is healthy.  The check is killed at its timeout (the grandchild
 * dies with its parent).  Output is discarded. */
#include "runtime/shim_run.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "runtime/child.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define CHECK_NS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP)

/* The grandchild, in the container's pid namespace. */
static _Noreturn void exec_check(const struct shim_ctr *c)
{
	const struct shim_health_spec *h = c->spec->health;
	const char *wd = c->spec->rt.workdir ? c->spec->rt.workdir : "/";
	sigset_t none;
	extern char **environ;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	rt_reset_signals();
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	umask(022);
	if (chdir(wd) < 0 && chdir("/") < 0)
		_exit(126);
	if (rlimits_apply(c->spec->rt.ulimits, c->spec->rt.n_ulimits) < 0 ||
	    policy_switch_user_and_caps(c->uid, c->gid, c->caps) < 0)
		_exit(126);
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (c->seccomp && seccomp_apply(c->seccomp) < 0)
		_exit(126);
	environ = c->envp; /* execvpe searches the container's PATH */
	execvpe(h->argv[0], h->argv, c->envp);
	_exit(127);
}

/* The child: already in the container's cgroup. */
static _Noreturn void check_child(const struct shim_ctr *c)
{
	int status;
	pid_t pid;

	if (setns(c->rc.pidfd, CHECK_NS) < 0)
		_exit(126);
	pid = fork();
	if (pid < 0)
		_exit(126);
	if (pid == 0)
		exec_check(c);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static void on_check_timeout(struct loop *l, struct loop_timer *t, void *data)
{
	struct shim_ctr *c = data;

	(void)l;
	(void)t;
	if (c->check_pid > 0)
		(void)kill(c->check_pid, SIGKILL); /* our unreaped child: the pid is stable */
}

static void record(struct shim_ctr *c, bool ok)
{
	const struct shim_health_spec *h = c->spec->health;
	enum health before = c->health;

	if (ok) {
		c->failures = 0;
		c->health = HEALTH_HEALTHY;
		c->start_period_over = true; /* a success ends the start period */
	} else {
		if (!c->start_period_over && shim_now() - c->health_since < h->start_period)
			return; /* failures in the start period do not count */
		c->start_period_over = true;
		if (++c->failures >= h->retries)
			c->health = HEALTH_UNHEALTHY;
	}
	if (c->health != before) {
		shim_changed(c->shim);
		shim_schedule(c->shim); /* a HEALTHY dependency may free a container */
	}
}

static void on_check_exit(struct loop *l, pid_t pid, const siginfo_t *info, void *data)
{
	struct shim_ctr *c = data;

	(void)l;
	(void)pid;
	c->check_pid = 0;
	c->health_timeout = loop_timer_free(c->health_timeout);
	if (c->state != CTR_RUNNING)
		return;
	record(c, info && info->si_code == CLD_EXITED && info->si_status == 0);
}

static pid_t clone_check(const struct shim_ctr *c)
{
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)c->rc.cg.fd,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static void run_check(struct shim_ctr *c)
{
	struct shim *s = c->shim;
	pid_t pid;

	if (c->check_pid > 0 || c->state != CTR_RUNNING || c->rc.pidfd < 0)
		return; /* one at a time; no pidfd (pre-5.3 kernel): no checks */
	fflush(NULL);
	pid = clone_check(c);
	if (pid < 0) {
		record(c, false);
		return;
	}
	if (pid == 0)
		check_child(c);
	c->check_pid = pid;
	if (loop_add_pid(s->loop, pid, on_check_exit, c) < 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		c->check_pid = 0;
		record(c, false);
		return;
	}
	if (loop_timer_new(s->loop, on_check_timeout, c, &c->health_timeout) == 0)
		(void)loop_timer_arm(c->health_timeout, (uint64_t)c->spec->health->timeout * 1000000, 0);
}

static void on_health_timer(struct loop *l, struct loop_timer *t, void *data)
{
	(void)l;
	(void)t;
	run_check(data);
}

void shim_health_start(struct shim_ctr *c)
{
	uint64_t interval;

	c->health = HEALTH_UNKNOWN;
	if (!c->spec->health)
		return;
	interval = (uint64_t)c->spec->health->interval * 1000000;
	c->health_since = shim_now();
	c->start_period_over = c->spec->health->start_period == 0;
	/* As Docker: the first check one interval after the start. */
	if (loop_timer_new(c->shim->loop, on_health_timer, c, &c->health_timer) == 0)
		(void)loop_timer_arm(c->health_timer, interval, interval);
}

void shim_health_stop(struct shim_ctr *c)
{
	c->health_timer = loop_timer_free(c->health_timer);
	if (c->check_pid > 0)
		(void)kill(c->check_pid, SIGKILL); /* on_check_exit reaps it */
}
