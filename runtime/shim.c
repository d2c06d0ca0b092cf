/* runtime/shim.c - `berth shim --task-dir DIR` (the contract is
 * runtime/shim.h): reads spec.json, detaches (setsid, or a double fork
 * when it leads a process group), joins
 * the berth-owned shim cgroup, writes shim.pid and runs the task from a
 * single-threaded event loop until every container stopped.
 *
 * The command returns (exit 0) once the shim detached and wrote shim.pid
 * and status.json; a spec it cannot run fails it with one line on stderr
 * before anything is created. */
#include "runtime/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/fileio.h"
#include "lib/mkdir.h"
#include "runtime/child.h"
#include "runtime/shim_run.h"

double shim_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void shim_changed(struct shim *s)
{
	s->dirty = true;
}

/* ---- the task's namespaces ---- */

/* The holder: a child made with the task's new namespaces.  It brings lo
 * up, then lives as long as the shim needs it: only for the pid namespace
 * (as its pid 1, so containers may come and go), else it exits once the
 * shim opened the namespace files. */
static _Noreturn void holder_main(bool new_net, bool keep, int ready_wr, const int release[2])
{
	struct rt_fail f;
	sigset_t all;
	char c;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(release[1]); /* EOF on release[0] once the shim closes its end */
	if (new_net && rt_loopback_up(&f) < 0)
		_exit(1);
	if (write(ready_wr, "r", 1) != 1)
		_exit(1);
	if (!keep) {
		while (read(release[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	(void)prctl(PR_SET_NAME, "berth-ns", 0, 0, 0);
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	for (;;) {
		siginfo_t si;

		if (sigwaitinfo(&all, &si) == SIGCHLD)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				; /* orphans of the task's pid namespace */
	}
}

static int open_ns(pid_t pid, const char *which, int *ret)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, which);
	*ret = open(path, O_RDONLY | O_CLOEXEC);
	return *ret < 0 ? -errno : 0;
}

/* The task's network/IPC namespaces made in the shim itself (no holder
 * process to create and schedule): unshare, keep them open, go back. */
static int unshare_namespaces(struct shim *s, bool new_net, bool new_ipc, struct err *e)
{
	_cleanup_close_ int net0 = -1, ipc0 = -1;
	struct rt_fail f;
	int r = 0;

	if ((new_net && (r = open_ns(getpid(), "net", &net0)) < 0) ||
	    (new_ipc && (r = open_ns(getpid(), "ipc", &ipc0)) < 0))
		return err_set(e, r, "open the shim's namespaces");
	if (unshare((new_net ? CLONE_NEWNET : 0) | (new_ipc ? CLONE_NEWIPC : 0)) < 0)
		return err_set(e, -errno, "create the task's namespaces");
	if (new_net && rt_loopback_up(&f) < 0)
		r = err_setx(e, -EIO, "create the task's namespaces: bring up lo");
	if (r == 0 && ((new_net && (r = open_ns(getpid(), "net", &s->net_fd)) < 0) ||
		       (new_ipc && (r = open_ns(getpid(), "ipc", &s->ipc_fd)) < 0)))
		err_set(e, r, "open the task's namespaces");
	/* Back to the shim's own: it must never stay in the task's. */
	if ((net0 >= 0 && setns(net0, CLONE_NEWNET) < 0) ||
	    (ipc0 >= 0 && setns(ipc0, CLONE_NEWIPC) < 0))
		r = err_set(e, -errno, "leave the task's namespaces");
	return r;
}

static int make_namespaces(struct shim *s, struct err *e)
{
	const struct shim_task *t = &s->task;
	bool new_net = t->net == SHIM_NET_NONE, new_ipc = t->ipc_mode == SHIM_NS_TASK;
	bool new_pid = t->pid_mode == SHIM_NS_TASK;
	unsigned long flags = (new_net ? CLONE_NEWNET : 0) | (new_ipc ? CLONE_NEWIPC : 0) |
			      (new_pid ? CLONE_NEWPID : 0);
	int ready[2], release[2], r = 0;
	pid_t pid;
	char c;

	if (t->net == SHIM_NET_JOIN) {
		s->net_fd = open(t->netns_path, O_RDONLY | O_CLOEXEC);
		if (s->net_fd < 0)
			return err_set(e, -errno, "open the task's network namespace '%s'", t->netns_path);
	}
	if (!flags)
		return 0;
	if (!new_pid)
		return unshare_namespaces(s, new_net, new_ipc, e);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return err_set(e, -errno, "create a pipe");
	if (pipe2(release, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return err_set(e, -errno, "create a pipe");
	}
	pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		holder_main(new_net, new_pid, ready[1], release);
	close(ready[1]);
	close(release[0]);
	if (pid < 0) {
		r = err_set(e, -errno, "create the task's namespaces");
		goto out;
	}
	if (read(ready[0], &c, 1) != 1) {
		r = err_setx(e, -EIO, "create the task's namespaces: the holder failed");
		(void)waitpid(pid, NULL, 0);
		goto out;
	}
	if ((new_net && (r = open_ns(pid, "net", &s->net_fd)) < 0) ||
	    (new_ipc && (r = open_ns(pid, "ipc", &s->ipc_fd)) < 0) ||
	    (new_pid && (r = open_ns(pid, "pid", &s->pid_fd)) < 0))
		err_set(e, r, "open the task's namespaces");
	if (new_pid && r == 0) {
		s->holder_pid = pid;
	} else {
		if (r < 0)
			(void)kill(pid, SIGKILL);
		close(take_fd(&release[1])); /* the holder exits */
		(void)waitpid(pid, NULL, 0);
	}
out:
	close(ready[0]);
	if (release[1] >= 0)
		close(release[1]);
	return r;
}

static void drop_namespaces(struct shim *s)
{
	int *fds[] = { &s->net_fd, &s->ipc_fd, &s->pid_fd };

	if (s->holder_pid > 0) {
		(void)kill(s->holder_pid, SIGKILL);
		(void)waitpid(s->holder_pid, NULL, 0);
		s->holder_pid = 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(take_fd(fds[i]));
}

/* ---- the task cgroup: <cgroupParent>/<taskId>, the containers' parent ---- */

static int make_task_cgroup(struct shim *s, struct err *e)
{
	const struct shim_task *t = &s->task;
	struct cg_limits l = { .pids_max = t->pids_limit };
	int r;

	if (t->cpu) {
		l.cpu_period_us = CG_DEFAULT_CPU_PERIOD_US;
		r = cg_cpu_units_to_quota(t->cpu, l.cpu_period_us, &l.cpu_quota_us);
		if (r < 0)
			return err_set(e, r, "task cpu");
	}
	l.memory_max = t->memory << 20;
	r = cg_create(&s->host, t->cgroup_parent, t->task_id, &s->task_cg);
	if (r < 0)
		return err_set(e, r, "create the task cgroup '%s/%s/%s'", s->host.mount,
			       t->cgroup_parent, t->task_id);
	r = cg_apply_limits(&s->host, &s->task_cg, &l, !t->cgroup_enforce);
	if (r < 0) {
		err_set(e, r, "set the task's limits on '%s'", s->task_cg.path);
		(void)cg_remove(&s->task_cg);
	}
	return r;
}

static void drop_task_cgroup(struct shim *s)
{
	if (s->task_cg.fd < 0)
		return;
	(void)cg_kill_all(&s->task_cg); /* nothing should be left; if so, it goes */
	(void)cg_remove(&s->task_cg);
}

/* ---- setup and the end ---- */

/* Everything the task needs before its first container; a failure here is
 * the task's (TaskFailedToStart), reported in status.json. */
static int prepare_task(struct shim *s, struct err *e)
{
	int r;

	r = cg_host_probe(NULL, &s->host);
	if (r < 0)
		return err_set(e, r, "probe cgroup v2");
	if (s->task.cgroup_enforce && !(s->host.has_cpu && s->host.has_memory))
		return err_setx(e, -EOPNOTSUPP, "cgroup v2 at '%s' lacks the cpu or memory controller; "
				"limits cannot be enforced (cgroupEnforce false runs unenforced)",
				s->host.mount);
	r = make_task_cgroup(s, e);
	if (r < 0)
		return r;
	r = make_namespaces(s, e);
	if (r < 0)
		return r;
	return shim_vol_prepare(s, e);
}

static void on_stop_signal(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	struct shim *s = data;

	(void)l;
	(void)si;
	shim_task_stop(s, "UserInitiated", "Task stopped: the shim got SIGTERM");
	shim_schedule(s);
}

void shim_finish(struct shim *s)
{
	if (s->finished)
		return;
	s->finished = true;
	s->stopped_at = shim_now();
	drop_namespaces(s);
	drop_task_cgroup(s);
	shim_vol_release(s);
	shim_changed(s);
}

/* Before every sleep: one status write for all changes of the last round;
 * once finished, the last one, then `exited` and out. */
static void before_sleep(struct loop *l, void *data)
{
	struct shim *s = data;
	int fd;

	if (s->dirty) {
		s->dirty = false;
		(void)shim_status_write(s); /* tmpfs full: the socket still answers */
		shim_ctl_notify(s);
	}
	if (!s->finished)
		return;
	shim_ctl_close_all(s);
	fd = open("exited", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	loop_quit(l, 0);
}

static void shim_init_state(struct shim *s)
{
	s->listen_fd = s->net_fd = s->ipc_fd = s->pid_fd = -1;
	s->task_cg = (struct cg)CG_INIT;
	for (size_t i = 0; i < s->task.n_ctrs; i++) {
		struct shim_ctr *c = &s->ctrs[i];

		c->shim = s;
		c->spec = &s->task.ctrs[i];
		c->rc = (struct rt_container)RT_CONTAINER_INIT;
		c->out_fd = c->err_fd = -1;
	}
	snprintf(s->logs_dir, sizeof(s->logs_dir), "%s/logs", s->task.state_dir);
}

static void shim_release(struct shim *s)
{
	for (size_t i = 0; i < s->task.n_ctrs; i++) {
		struct shim_ctr *c = &s->ctrs[i];

		free(c->reason);
		free(c->envp);
		free(c->hostname_env);
		shim_log_close(c->log);
	}
	free(s->stopped_reason);
	s->loop = loop_free(s->loop);
	shim_task_release(&s->task);
}

/* Runs the task; the loop ends when every container stopped. */
static int shim_run(struct shim *s, int ready_fd)
{
	struct err e = ERR_INIT;
	int r;

	r = loop_new(&s->loop);
	if (r < 0)
		return r;
	loop_set_prepare(s->loop, before_sleep, s);
	if ((r = loop_add_signal(s->loop, SIGTERM, on_stop_signal, s)) < 0 ||
	    (r = loop_add_signal(s->loop, SIGINT, on_stop_signal, s)) < 0 ||
	    (r = shim_ctl_listen(s)) < 0)
		return r;
	/* The logs dir and the state dir itself are made here (mkdir -p) so a
	 * hand-written spec runs too. */
	r = mkdir_parents(s->task.state_dir, 0750);
	if (r < 0)
		err_set(&e, r, "create the state dir '%s'", s->task.state_dir);
	else
		r = prepare_task(s, &e);
	if (r < 0) {
		for (size_t i = 0; i < s->task.n_ctrs; i++)
			s->ctrs[i].reason = strdup(e.msg);
		shim_task_stop(s, "TaskFailedToStart", e.msg);
	}
	(void)shim_status_write(s);
	(void)!write(ready_fd, "ok", 2);
	close(ready_fd);
	shim_schedule(s);
	return loop_run(s->loop);
}

/* ---- detaching ---- */

/* The shim cgroup's directory (made if missing), opened: the shim is
 * cloned straight into it, or joins it by cgroup.procs on old kernels. */
static int open_shim_cgroup(const struct shim_task *t)
{
	struct cg_host host;
	char path[PATH_MAX];
	int r, fd;

	r = cg_host_probe(NULL, &host);
	if (r < 0)
		return r;
	if (snprintf(path, sizeof(path), "%s/%s", host.mount, t->shim_cgroup) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = mkdir_parents(path, 0750);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* fork() into the cgroup CG_FD.  A cgroup.procs write takes the kernel's
 * cgroup_threadgroup_rwsem for writing, which waits out an RCU grace
 * period (~13 ms here, on every task start); CLONE_INTO_CGROUP does not.
 * A raw clone3 skips glibc's fork bookkeeping (atfork handlers, its cached
 * tid): harmless in this single-threaded process that registers none.
 * -1 with errno when clone3 cannot do it (kernels before 5.7). */
static pid_t fork_into_cgroup(int cg_fd)
{
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)cg_fd,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static int write_pid_file(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	int r = write_file_create_at(AT_FDCWD, "shim.pid.tmp", buf, (size_t)n, 0644);

	if (r < 0)
		return r;
	return rename("shim.pid.tmp", "shim.pid") < 0 ? -errno : 0;
}

/* The detached shim: its own session, cgroup, cwd (the task dir) and
 * stdio on /dev/null, nothing else inherited.  CG_FD >= 0: it still has to
 * join the shim cgroup (no CLONE_INTO_CGROUP). */
static _Noreturn void shim_main(struct shim *s, int dirfd, int cg_fd, int ready_fd)
{
	int null_fd, r = 0;
	const char *what = "join the shim cgroup";

	if (cg_fd >= 0)
		r = write_file_at(cg_fd, "cgroup.procs", "0", 1);
	if (r == 0) {
		what = "enter the task dir";
		r = fchdir(dirfd) < 0 ? -errno : 0;
	}
	if (r == 0) {
		what = "write shim.pid";
		r = write_pid_file();
	}
	if (r < 0) {
		dprintf(ready_fd, "%s: %s", what, strerror(-r));
		_exit(1);
	}
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3 && null_fd >= 0; i++)
		(void)dup2(null_fd, i);
	/* Only the ready pipe, moved to 3, survives from what we inherited. */
	if (ready_fd != 3) {
		(void)dup3(ready_fd, 3, O_CLOEXEC);
		ready_fd = 3;
	}
	(void)syscall(SYS_close_range, 4U, ~0U, 0U);
	(void)signal(SIGPIPE, SIG_IGN);
	r = shim_run(s, ready_fd);
	shim_release(s);
	_exit(r < 0 ? 1 : 0);
}

/* The shim, cloned into its cgroup, READY_FD its end of the ready pipe;
 * -errno (the reason written to READY_FD) when it cannot be made. */
static pid_t fork_shim(struct shim *s, int dirfd, int ready_fd)
{
	int cg_fd = open_shim_cgroup(&s->task), r;
	pid_t pid;

	if (cg_fd < 0) {
		dprintf(ready_fd, "join the shim cgroup: %s", strerror(-cg_fd));
		return cg_fd;
	}
	pid = fork_into_cgroup(cg_fd);
	if (pid == 0)
		shim_main(s, dirfd, -1, ready_fd);
	if (pid < 0) {
		pid = fork();
		if (pid == 0)
			shim_main(s, dirfd, cg_fd, ready_fd);
	}
	r = pid < 0 ? -errno : (int)pid;
	close(cg_fd);
	return r;
}

/* The middle of the double fork (when `berth shim` leads a process group
 * and cannot start a session itself): a session leader that only makes
 * the shim and exits. */
static _Noreturn void detach(struct shim *s, int dirfd, int ready_fd)
{
	if (setsid() < 0)
		_exit(1);
	_exit(fork_shim(s, dirfd, ready_fd) < 0 ? 1 : 0);
}

/* Why the shim did not start, for the agent's stopped reason (its stderr
 * goes wherever the daemon's does). */
static void note_start_error(int dirfd, const char *msg)
{
	(void)write_file_create_at(dirfd, SHIM_START_ERROR, msg, strlen(msg), 0600);
}

static int wait_ready(pid_t child, int ready_rd, int dirfd, const char *task_dir)
{
	char msg[512];
	ssize_t n;

	do
		n = read(ready_rd, msg, sizeof(msg) - 1);
	while (n < 0 && errno == EINTR);
	if (child > 0)
		(void)waitpid(child, NULL, 0);
	if (n == 2 && memcmp(msg, "ok", 2) == 0)
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		snprintf(msg, sizeof(msg), "it exited before it was ready");
	note_start_error(dirfd, msg);
	fprintf(stderr, "berth: error: shim for '%s': %s\n", task_dir, msg);
	return 1;
}

static int load_spec(int dirfd, const char *task_dir, struct shim_task *t)
{
	struct err e = ERR_INIT;
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/spec.json", task_dir);
	r = read_file_alloc(path, SHIM_SPEC_MAX, &text, &len);
	if (r < 0) {
		fprintf(stderr, "berth: error: read '%s': %s\n", path, strerror(-r));
		return r;
	}
	r = shim_spec_parse(text, len, t, &e);
	if (r < 0) {
		note_start_error(dirfd, e.msg);
		fprintf(stderr, "berth: error: '%s': %s\n", path, e.msg);
	}
	return r;
}

static int cmd_shim(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "task-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct shim s; /* static: nothing of it on the stack of the long-lived shim */
	const char *task_dir = NULL;
	int opt, ready[2], dirfd;
	pid_t pid;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'd') {
			task_dir = optarg;
		} else {
			fprintf(opt == 'h' ? stdout : stderr, "usage: berth shim --task-dir DIR\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!task_dir || optind != argc) {
		fprintf(stderr, "usage: berth shim --task-dir DIR\n");
		return 2;
	}
	dirfd = open(task_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, "berth: error: task dir '%s': %s\n", task_dir, strerror(errno));
		return 1;
	}
	if (load_spec(dirfd, task_dir, &s.task) < 0)
		return 1;
	snprintf(s.task_dir, sizeof(s.task_dir), "%s", task_dir);
	shim_init_state(&s);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return 1;
	fflush(NULL);
	/* Usually (the agent's start helper) `berth shim` can lead a session
	 * of its own: the shim is then its child, one process fewer to make
	 * and schedule; it is never a session leader either way. */
	if (setsid() >= 0) {
		pid = fork_shim(&s, dirfd, ready[1]);
		close(ready[1]);
		return wait_ready(pid < 0 ? pid : 0, ready[0], dirfd, task_dir);
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0) {
		close(ready[1]);
		return wait_ready(pid, ready[0], dirfd, task_dir);
	}
	close(ready[0]);
	detach(&s, dirfd, ready[1]);
}

BERTH_COMMAND(shim, "shim", cmd_shim, "run a task's containers (started by the agent)");

/* The lean `berth` at BERTH_PATH/../berth (cli/lean.h), when there is one:
 * the full binary's ~50 libraries cost each shim ~1.8 MB of private
 * relocations; the lean one (libseccomp, libcap, libcjson only) ~0.3 MB. */
static void lean_path(const char *berth_path, char *buf, size_t size)
{
	const char *slash = strrchr(berth_path, '/');

	buf[0] = '\0';
	if (!slash || (size_t)(slash - berth_path) + sizeof("/../berth") > size)
		return;
	snprintf(buf, size, "%.*s/../berth", (int)(slash - berth_path), berth_path);
	if (access(buf, X_OK) < 0)
		buf[0] = '\0';
}

int shim_exec(const char *berth_path, const char *task_dir)
{
	char lean[PATH_MAX];
	char *argv[] = { (char *)berth_path, (char *)"shim", (char *)"--task-dir",
			 (char *)task_dir, NULL };
	int null_fd = open("/dev/null", O_RDONLY);
	sigset_t none;

	lean_path(berth_path, lean, sizeof(lean));
	if (lean[0])
		argv[0] = lean;
	/* The caller's loop blocked signals for its signalfd. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (null_fd >= 0 && null_fd != 0) {
		(void)dup2(null_fd, 0);
		close(null_fd);
	}
	execv(argv[0], argv);
	return -errno;
}
