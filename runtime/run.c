/* runtime/run.c - one container's life: cgroup, spawn, wait, OOM, cleanup. */
#include "runtime/runtime.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "runtime/devfilter.h"
#include "runtime/spawn.h"

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

/* Reaps PID (our child), retrying on EINTR. */
static int reap(pid_t pid, int *ret_status)
{
	pid_t r;

	do
		r = waitpid(pid, ret_status, 0);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* Removes a cgroup no process of ours ever ran in, or one whose processes
 * are all gone; the first error wins. */
static int drop_cgroup(struct cg *cg)
{
	int r = cg_kill_all(cg);
	int r2 = cg_remove(cg);

	return r < 0 ? r : r2;
}

struct filter_job {
	const struct rt_plan *plan;
	int cg_fd;
};

static int attach_filter(void *data)
{
	const struct filter_job *j = data;

	return rt_devfilter_attach(j->plan, j->cg_fd);
}

int rt_container_start(const struct rt_plan *p, struct rt_container *ctr, struct err *e)
{
	struct rt_spawn_result sr = { .pid = -1, .pidfd = -1 };
	struct filter_job job = { .plan = p };
	/* The BPF verifier's work overlaps the child's mounts. */
	struct rt_spawn_gate filter = { .fn = attach_filter, .data = &job,
					.what = "attach the device filter to cgroup" };
	struct rt_fail f = { 0 };
	int r, status;

	*ctr = (struct rt_container)RT_CONTAINER_INIT;
	r = cg_create(&p->host, p->spec->cgroup_parent, p->name, &ctr->cg);
	if (r == -EEXIST)
		return err_setx(e, r, "container '%s' already exists (cgroup '%s/%s/%s')", p->name,
				p->host.mount, p->spec->cgroup_parent, p->name);
	if (r < 0)
		return err_set(e, r, "create cgroup '%s/%s/%s'", p->host.mount,
			       p->spec->cgroup_parent, p->name);
	r = cg_apply_limits(&p->host, &ctr->cg, &p->limits, p->unenforced);
	if (r < 0) {
		err_set(e, r, "set limits on cgroup '%s'", ctr->cg.path);
		goto undo_cgroup;
	}
	job.cg_fd = ctr->cg.fd;
	filter.subject = ctr->cg.path;
	r = rt_spawn(p, &ctr->cg, &filter, &sr, &f);
	if (r < 0) {
		err_setx(e, r, "start container: %s: %s", f.what, strerror(f.err));
		if (sr.pid > 0)
			(void)reap(sr.pid, &status); /* it exits 125 or was killed */
		if (sr.pidfd >= 0)
			close(sr.pidfd);
		goto undo_cgroup;
	}
	ctr->pid = sr.pid;
	ctr->pidfd = sr.pidfd;
	return 0;

undo_cgroup:
	(void)drop_cgroup(&ctr->cg); /* r keeps the first error */
	return r;
}

int rt_container_signal(const struct rt_container *ctr, int sig)
{
	if (ctr->pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, ctr->pidfd, sig, NULL, 0) == 0)
			return 0;
		if (errno != ENOSYS)
			return -errno;
	}
	return kill(ctr->pid, sig) < 0 ? -errno : 0;
}

int rt_container_finish(struct rt_container *ctr, int status, struct rt_result *ret,
			struct err *e)
{
	uint64_t ooms = 0;
	int r;

	*ret = (struct rt_result){ 0 };
	if (WIFEXITED(status)) {
		ret->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		ret->signal = WTERMSIG(status);
		ret->exit_code = 128 + ret->signal;
	}
	/* Only the kernel's own count says OOM; exit code 137 alone does not.
	 * The code stays pid 1's own: 137 when the OOM killer took pid 1
	 * itself, whatever it chose to exit with when it took a child. */
	r = cg_read_oom_kills(&ctr->cg, &ooms);
	if (r == 0 && ooms > 0)
		ret->oom_killed = true;
	if (ctr->pidfd >= 0)
		close(ctr->pidfd);
	ctr->pidfd = -1;
	ctr->pid = -1;
	if (r < 0) {
		(void)drop_cgroup(&ctr->cg);
		return err_set(e, r, "read memory.events of cgroup '%s'", ctr->cg.path);
	}
	r = drop_cgroup(&ctr->cg);
	if (r < 0)
		return err_set(e, r, "remove cgroup '%s'", ctr->cg.path);
	return 0;
}

int rt_container_run(const struct rt_plan *p, struct rt_result *ret, struct err *e)
{
	struct rt_container ctr;
	sigset_t set, old;
	int r, status = 0;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaddset(&set, forwarded_signals[i]);
	sigaddset(&set, SIGCHLD);
	/* Blocked before clone so nothing sent meanwhile is lost: it waits in
	 * the queue and is forwarded once the container runs. */
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return err_set(e, -errno, "block signals");
	r = rt_container_start(p, &ctr, e);
	if (r < 0)
		goto out;
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);

		if (sig < 0)
			continue; /* EINTR */
		if (sig != SIGCHLD) {
			(void)rt_container_signal(&ctr, sig); /* ESRCH: it is exiting anyway */
			continue;
		}
		pid_t w = waitpid(ctr.pid, &status, WNOHANG);

		if (w == ctr.pid)
			break;
		if (w < 0 && errno == ECHILD) {
			r = err_set(e, -ECHILD, "wait for the container");
			if (ctr.pidfd >= 0)
				close(ctr.pidfd);
			(void)drop_cgroup(&ctr.cg);
			goto out;
		}
	}
	r = rt_container_finish(&ctr, status, ret, e);
out:
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
