/* runtime/spawn.c - clone3 into the namespaces and the cgroup, and the
 * child's way from there to execve. */
#include "runtime/child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "runtime/spawn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Everything from clone to exec.  Returns only on failure. */
static int child_setup(const struct rt_plan *p, const struct rt_spawn *sp, struct rt_fail *f)
{
	const struct rt_spec *s = p->spec;
	sigset_t none;
	int r;

	if (sp->sync_fd >= 0) {
		/* Fallback path: wait until the parent moved us into the cgroup,
		 * then root a cgroup namespace there. */
		char c;

		if (read(sp->sync_fd, &c, 1) != 1)
			return rt_fail(f, EPIPE, "wait for the cgroup move", NULL);
		if (unshare(CLONE_NEWCGROUP) < 0)
			return rt_fail(f, errno, "unshare the cgroup namespace", NULL);
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return rt_fail(f, errno, "set the parent-death signal", NULL);
	if (sethostname(p->hostname, strlen(p->hostname)) < 0)
		return rt_fail(f, errno, "set hostname", p->hostname);
	if (s->net == RT_NET_NONE) {
		r = rt_loopback_up(f);
		if (r < 0)
			return r;
	}
	umask(0); /* device nodes and mount points get exactly the modes asked for */
	r = rt_setup_pivot(p->rootfs, f);
	if (r < 0)
		return r;
	r = rt_setup_mounts(p, f);
	if (r < 0)
		return r;
	umask(022);
	if (chdir(s->workdir ? s->workdir : "/") < 0)
		return rt_fail(f, errno, "chdir to workdir", s->workdir ? s->workdir : "/");
	r = policy_switch_user_and_caps(p->uid, p->gid, p->caps);
	if (r < 0)
		return rt_fail(f, -r, "switch user and capabilities", s->user ? s->user : "root");
	r = rlimits_apply(s->ulimits, s->n_ulimits);
	if (r < 0)
		return rt_fail(f, -r, "set rlimits", NULL);
	/* The parent blocked the signals it forwards; dispositions it inherited
	 * as "ignored" (a background shell job) must not reach the container. */
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL); /* EINVAL for none of these */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return rt_fail(f, errno, "unblock signals", NULL);
	/* Only stdin, stdout and stderr reach the container. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return rt_fail(f, errno, "close inherited descriptors", NULL);
	if (p->seccomp) {
		r = seccomp_apply(p->seccomp);
		if (r < 0)
			return rt_fail(f, -r, "load the seccomp filter", NULL);
	}
	execve(p->exec_path, s->argv, p->envp);
	return rt_fail(f, errno, "exec", p->exec_path);
}

static _Noreturn void child_main(const struct rt_plan *p, const struct rt_spawn *sp)
{
	struct rt_fail f = { 0 };

	(void)child_setup(p, sp, &f);
	(void)!write(sp->err_fd, &f, sizeof(f)); /* the parent reports it */
	_exit(125);
}

static uint64_t ns_flags(const struct rt_plan *p)
{
	uint64_t fl = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;

	if (p->spec->net == RT_NET_NONE)
		fl |= CLONE_NEWNET;
	return fl;
}

/* The direct path: one clone3 into namespaces and cgroup, with a pidfd. */
static pid_t clone_into_cgroup(const struct rt_plan *p, int cg_fd, int *ret_pidfd)
{
	struct clone_args args = {
		.flags = ns_flags(p) | CLONE_NEWCGROUP | CLONE_PIDFD | CLONE_INTO_CGROUP,
		.pidfd = (uint64_t)(uintptr_t)ret_pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)cg_fd,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* The fallback: plain clone (kernels before 5.7 lack CLONE_INTO_CGROUP); the
 * child waits on SYNC_FD until the parent has moved it into the cgroup. */
static pid_t clone_then_move(const struct rt_plan *p)
{
	return (pid_t)syscall(SYS_clone, (unsigned long)ns_flags(p) | SIGCHLD, NULL, NULL, NULL, 0);
}

int rt_spawn(const struct rt_plan *p, const struct cg *cg, struct rt_spawn_result *ret,
	     struct rt_fail *f)
{
	_cleanup_close_ int err_rd = -1, err_wr = -1, sync_rd = -1, sync_wr = -1;
	struct rt_spawn sp = { .sync_fd = -1 };
	int pfd[2], pidfd = -1;
	pid_t pid;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return rt_fail(f, errno, "create the exec-status pipe", NULL);
	err_rd = pfd[0];
	err_wr = sp.err_fd = pfd[1];

	if (p->force_clone_fallback) {
		pid = -1;
		errno = ENOSYS;
	} else {
		pid = clone_into_cgroup(p, cg->fd, &pidfd);
	}
	if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
		if (pipe2(pfd, O_CLOEXEC) < 0)
			return rt_fail(f, errno, "create the sync pipe", NULL);
		sync_rd = sp.sync_fd = pfd[0];
		sync_wr = pfd[1];
		pidfd = -1;
		pid = clone_then_move(p);
		ret->fallback = true;
	}
	if (pid < 0)
		return rt_fail(f, errno, "clone the container process", NULL);
	if (pid == 0)
		child_main(p, &sp);

	ret->pid = pid;
	ret->pidfd = pidfd;
	close(take_fd(&err_wr)); /* only the child may hold it now */
	if (sync_wr >= 0) {
		char num[16];
		int len = snprintf(num, sizeof(num), "%d", pid);
		int r = write_file_at(cg->fd, "cgroup.procs", num, (size_t)len);

		if (r < 0) {
			(void)kill(pid, SIGKILL);
			return rt_fail(f, -r, "move the container into its cgroup", cg->path);
		}
		if (write(sync_wr, "g", 1) != 1) {
			(void)kill(pid, SIGKILL);
			return rt_fail(f, errno, "release the container process", NULL);
		}
	}
	/* EOF: exec succeeded (the pipe is close-on-exec); a record: it failed. */
	do
		n = read(err_rd, f, sizeof(*f));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*f))
		return -f->err;
	if (n != 0)
		return rt_fail(f, n < 0 ? errno : EIO, "read the container's exec status", NULL);
	return 0;
}
