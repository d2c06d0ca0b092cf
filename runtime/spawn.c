/* runtime/spawn.c - clone3 into the namespaces and the cgroup, and the
 * child's way from there to execve. */
#include "runtime/child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "runtime/spawn.h"

/* The task's shared namespaces (the pid namespace is entered by the parent:
 * setns only moves the children of the caller into one).  The ipc namespace
 * comes before /dev/mqueue is mounted, which belongs to it. */
static int join_namespaces(const struct rt_spec *s, struct rt_fail *f)
{
	if (s->net == RT_NET_JOIN && setns(s->net_fd, CLONE_NEWNET) < 0)
		return rt_fail(f, errno, "join the task's network namespace", NULL);
	if (s->ipc_ns == RT_NS_JOIN && setns(s->ipc_fd, CLONE_NEWIPC) < 0)
		return rt_fail(f, errno, "join the task's ipc namespace", NULL);
	return 0;
}

/* The plan's stdio fds (pipes of the shim) onto 0, 1 and 2. */
static int set_stdio(const struct rt_plan *p, struct rt_fail *f)
{
	for (int i = 0; i < 3; i++) {
		int fd = p->stdio[i];

		if (fd < 0)
			continue;
		if (fd == i ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, i) < 0)
			return rt_fail(f, errno, "set up stdio", NULL);
	}
	return 0;
}

/* The kernel's struct sigaction for rt_sigaction(2): glibc's wrapper
 * refuses the signals it keeps for itself (32 and 33), but a caller may
 * have them ignored, and an ignored disposition survives exec. */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

void rt_reset_signals(void)
{
	const struct kernel_sigaction dfl = { .handler = SIG_DFL };

	for (int sig = 1; sig <= SIGRTMAX; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && signal(sig, SIG_DFL) == SIG_ERR)
			(void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
}

/* Only stdin, stdout and stderr reach the container.  Closed for real, not
 * just marked close-on-exec: with --init pid 1 never execs, and whatever it
 * kept (the cgroup directory CLONE_INTO_CGROUP used, a caller's fds) would
 * be reachable through /proc/1/fd by the container.  KEEP, the
 * close-on-exec exec-status pipe, stays until exec (or init closes it). */
static int close_inherited(int keep, struct rt_fail *f)
{
	unsigned int k = (unsigned int)keep;

	if (keep > 3 && syscall(SYS_close_range, 3U, k - 1, 0) < 0)
		return rt_fail(f, errno, "close inherited descriptors", NULL);
	if (syscall(SYS_close_range, keep >= 3 ? k + 1 : 3U, ~0U, 0) < 0)
		return rt_fail(f, errno, "close inherited descriptors", NULL);
	return 0;
}

/* After PR_SET_PDEATHSIG: did the parent die before we set it (no signal
 * comes then)?  getppid() cannot tell in a new pid namespace (always 0), a
 * pidfd the parent opened on itself can. */
static bool parent_gone(const struct rt_spawn *sp)
{
	struct pollfd pfd = { .fd = sp->parent_pidfd, .events = POLLIN };

	return sp->parent_pidfd >= 0 && poll(&pfd, 1, 0) == 1;
}

/* As late as possible before exec: the parent's gate work (the device
 * filter) has overlapped everything up to here. */
static int wait_gate(const struct rt_spawn *sp, struct rt_fail *f)
{
	char c;
	ssize_t n;

	if (sp->gate_fd < 0)
		return 0;
	do
		n = read(sp->gate_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return rt_fail(f, n < 0 ? errno : EPIPE, "wait for the parent's release", NULL);
	close(sp->gate_fd);
	return 0;
}

/* Everything from clone to exec.  Returns only on failure. */
static int child_setup(const struct rt_plan *p, const struct rt_spawn *sp, struct rt_fail *f)
{
	const struct rt_spec *s = p->spec;
	sigset_t none;
	int r;

	/* First of all: a container must never outlive a berth that died
	 * before it could watch it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return rt_fail(f, errno, "set the parent-death signal", NULL);
	if (parent_gone(sp))
		return rt_fail(f, ESRCH, "the parent exited before the container started", NULL);
	if (sp->gate_wr >= 0)
		close(sp->gate_wr); /* the parent's death is EOF at the gate, never a hang */
	if (sp->sync_fd >= 0) {
		/* Fallback path: wait until the parent moved us into the cgroup,
		 * then root a cgroup namespace there.  Only the parent may hold
		 * the write end, so its death is EOF here, never a hang. */
		char c;

		close(sp->sync_wr);
		if (read(sp->sync_fd, &c, 1) != 1)
			return rt_fail(f, EPIPE, "wait for the cgroup move", NULL);
		if (unshare(CLONE_NEWCGROUP) < 0)
			return rt_fail(f, errno, "unshare the cgroup namespace", NULL);
	}
	r = join_namespaces(s, f);
	if (r < 0)
		return r;
	if (sethostname(p->hostname, strlen(p->hostname)) < 0)
		return rt_fail(f, errno, "set hostname", p->hostname);
	if (s->net == RT_NET_NONE) {
		r = rt_loopback_up(f);
		if (r < 0)
			return r;
	}
	umask(0); /* device nodes and mount points get exactly the modes asked for */
	r = rt_setup_pivot(p, f);
	if (r < 0)
		return r;
	r = rt_setup_mounts(p, f);
	if (r < 0)
		return r;
	umask(022);
	if (chdir(s->workdir ? s->workdir : "/") < 0)
		return rt_fail(f, errno, "chdir to workdir", s->workdir ? s->workdir : "/");
	/* policy.h's order: rlimits while we still hold every capability,
	 * then user and capabilities, then (below) seccomp last. */
	r = rlimits_apply(s->ulimits, s->n_ulimits);
	if (r < 0)
		return rt_fail(f, -r, "set rlimits", NULL);
	r = policy_switch_user_and_caps(p->uid, p->gid, p->caps);
	if (r < 0)
		return rt_fail(f, -r, "switch user and capabilities", s->user ? s->user : "root");
	rt_reset_signals();
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return rt_fail(f, errno, "unblock signals", NULL);
	r = set_stdio(p, f);
	if (r < 0)
		return r;
	r = wait_gate(sp, f);
	if (r < 0)
		return r;
	r = close_inherited(sp->err_fd, f);
	if (r < 0)
		return r;
	if (p->seccomp) {
		r = seccomp_apply(p->seccomp);
		if (r < 0)
			return rt_fail(f, -r, "load the seccomp filter", NULL);
	}
	if (s->init)
		return rt_init_run(p->exec_path, s->argv, p->envp, sp->err_fd, f);
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
	uint64_t fl = CLONE_NEWNS | CLONE_NEWUTS;

	if (p->spec->pid_ns == RT_NS_NEW)
		fl |= CLONE_NEWPID;
	if (p->spec->ipc_ns == RT_NS_NEW)
		fl |= CLONE_NEWIPC;
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

/* Joining a pid namespace: setns sets the one our children are born in;
 * SAVED gets our own back afterwards (leave_pid_ns). */
static int enter_pid_ns(const struct rt_spec *s, int *saved, struct rt_fail *f)
{
	*saved = -1;
	if (s->pid_ns != RT_NS_JOIN)
		return 0;
	*saved = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return rt_fail(f, errno, "open our pid namespace", NULL);
	if (setns(s->pid_fd, CLONE_NEWPID) < 0) {
		int r = rt_fail(f, errno, "join the task's pid namespace", NULL);

		close(take_fd(saved));
		return r;
	}
	return 0;
}

static void leave_pid_ns(int *saved)
{
	if (*saved < 0)
		return;
	/* Our own active namespace: setns back to it cannot fail for root. */
	(void)setns(*saved, CLONE_NEWPID);
	close(take_fd(saved));
}

static pid_t clone_container(const struct rt_plan *p, const struct cg *cg, struct rt_spawn *sp,
			     struct rt_spawn_result *ret, int *pidfd, int pfd[2])
{
	pid_t pid;

	if (p->force_clone_fallback) {
		pid = -1;
		errno = ENOSYS;
	} else {
		pid = clone_into_cgroup(p, cg->fd, pidfd);
	}
	if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
		if (pipe2(pfd, O_CLOEXEC) < 0)
			return -1;
		sp->sync_fd = pfd[0];
		sp->sync_wr = pfd[1];
		*pidfd = -1;
		pid = clone_then_move(p);
		ret->fallback = true;
	}
	return pid;
}

/* After clone: the gate's work, then the child may exec. */
static int open_gate(const struct rt_spawn_gate *gate, pid_t pid, int gate_wr, struct rt_fail *f)
{
	int r;

	if (gate_wr < 0)
		return 0;
	r = gate->fn(gate->data);
	if (r < 0) {
		(void)kill(pid, SIGKILL);
		return rt_fail(f, -r, gate->what, gate->subject);
	}
	/* A socket, so a child already gone (killed) is EPIPE, not SIGPIPE:
	 * then its exec status tells, as it would have without the gate. */
	if (send(gate_wr, "g", 1, MSG_NOSIGNAL) != 1 && errno != EPIPE && errno != ECONNRESET) {
		r = errno;
		(void)kill(pid, SIGKILL);
		return rt_fail(f, r, "release the container process", NULL);
	}
	return 0;
}

int rt_spawn(const struct rt_plan *p, const struct cg *cg, const struct rt_spawn_gate *gate,
	     struct rt_spawn_result *ret, struct rt_fail *f)
{
	_cleanup_close_ int err_rd = -1, err_wr = -1, sync_rd = -1, sync_wr = -1;
	_cleanup_close_ int gate_rd = -1, gate_wr = -1;
	struct rt_spawn sp = { .sync_fd = -1, .sync_wr = -1, .gate_fd = -1, .gate_wr = -1 };
	int pfd[2], pidfd = -1, own_pidns = -1, clone_errno;
	_cleanup_close_ int self_pidfd = -1;
	pid_t pid;
	ssize_t n;

	/* Kernels before 5.3 have no pidfd_open: the child then relies on
	 * the parent-death signal alone. */
	self_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	sp.parent_pidfd = self_pidfd;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return rt_fail(f, errno, "create the exec-status pipe", NULL);
	err_rd = pfd[0];
	err_wr = sp.err_fd = pfd[1];
	if (gate) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pfd) < 0)
			return rt_fail(f, errno, "create the gate socket", NULL);
		gate_rd = sp.gate_fd = pfd[0];
		gate_wr = sp.gate_wr = pfd[1];
	}

	if (enter_pid_ns(p->spec, &own_pidns, f) < 0)
		return -f->err;
	pfd[0] = pfd[1] = -1;
	pid = clone_container(p, cg, &sp, ret, &pidfd, pfd);
	if (pid == 0)
		child_main(p, &sp);
	clone_errno = errno;
	leave_pid_ns(&own_pidns);
	sync_rd = pfd[0];
	sync_wr = pfd[1];
	if (pid < 0)
		return rt_fail(f, clone_errno, "clone the container process", NULL);

	ret->pid = pid;
	ret->pidfd = pidfd;
	close(take_fd(&err_wr)); /* only the child may hold it now */
	close(take_fd(&gate_rd));
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
	if (open_gate(gate, pid, gate_wr, f) < 0)
		return -f->err;
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
