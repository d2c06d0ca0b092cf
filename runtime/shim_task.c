/* runtime/shim_task.c - the task's lifecycle in the shim: containers start
 * in dependsOn order, an essential exit stops the task, stops go in
 * reverse dependency order with stopTimeout between SIGTERM and SIGKILL
 * (ECS-REFERENCE 1.3, 5.6, 5.7). */
#include "runtime/shim_run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "volumes/volumes.h"
#include "runtime/shim_fields.h"

#define REASON_OOM "OutOfMemoryError: Container killed due to memory usage"
#define REASON_ESSENTIAL "Essential container in task exited"

static const char *const state_names[] = { "PENDING", "RUNNING", "STOPPED" };
static const char *const health_names[] = { "UNKNOWN", "HEALTHY", "UNHEALTHY" };

const char *shim_ctr_state_name(enum ctr_state st)
{
	return state_names[st];
}

const char *shim_health_name(enum health h)
{
	return health_names[h];
}

/* ECS: from essential containers only; UNHEALTHY wins, then UNKNOWN. */
enum health shim_task_health(const struct shim *s)
{
	enum health h = HEALTH_HEALTHY;

	for (size_t i = 0; i < s->task.n_ctrs; i++) {
		const struct shim_ctr *c = &s->ctrs[i];

		if (!c->spec->essential)
			continue;
		if (c->health == HEALTH_UNHEALTHY)
			return HEALTH_UNHEALTHY;
		if (c->health == HEALTH_UNKNOWN)
			h = HEALTH_UNKNOWN;
	}
	return h;
}

static void set_reason(struct shim_ctr *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(struct shim_ctr *c, const char *fmt, ...)
{
	va_list ap;
	char *r = NULL;

	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) < 0)
		r = NULL;
	va_end(ap);
	if (r && strlen(r) > 1024)
		r[1024] = '\0'; /* ECS: reason is at most 1024 characters */
	free(c->reason);
	c->reason = r;
}

/* ---- output ---- */

static void drain(struct shim_ctr *c, int *fd, int stream)
{
	static char buf[4096];
	ssize_t n;

	if (*fd < 0)
		return;
	while ((n = read(*fd, buf, sizeof(buf))) > 0)
		shim_log_feed(c->log, stream, buf, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		shim_log_flush(c->log, stream);
		(void)loop_del_fd(c->shim->loop, *fd);
		close(take_fd(fd));
	}
}

static void on_output(struct loop *l, int fd, uint32_t events, void *data)
{
	struct shim_ctr *c = data;

	(void)l;
	(void)events;
	if (fd == c->out_fd)
		drain(c, &c->out_fd, 1);
	else
		drain(c, &c->err_fd, 2);
}

/* After the container is gone, whatever is left in the pipes is logged
 * and the pipes closed (nothing can write to them any more). */
static void close_output(struct shim_ctr *c)
{
	int *fds[] = { &c->out_fd, &c->err_fd };

	for (int i = 0; i < 2; i++) {
		drain(c, fds[i], i + 1);
		if (*fds[i] >= 0) {
			shim_log_flush(c->log, i + 1);
			(void)loop_del_fd(c->shim->loop, *fds[i]);
			close(take_fd(fds[i]));
		}
	}
	shim_log_close(c->log);
	c->log = NULL;
}

/* ---- exit ---- */

static int wait_status(const siginfo_t *info)
{
	if (!info)
		return 0;
	if (info->si_code == CLD_EXITED)
		return (info->si_status & 0xff) << 8;
	return info->si_status & 0x7f; /* killed or dumped: the signal */
}

static void drop_timers(struct shim_ctr *c)
{
	c->kill_timer = loop_timer_free(c->kill_timer);
	c->start_timer = loop_timer_free(c->start_timer);
}

static void on_container_exit(struct loop *l, pid_t pid, const siginfo_t *info, void *data)
{
	struct shim_ctr *c = data;
	struct shim *s = c->shim;
	struct rt_result res = { 0 };
	struct err e = ERR_INIT;

	(void)l;
	(void)pid;
	if (rt_container_finish(&c->rc, wait_status(info), &res, &e) < 0)
		set_reason(c, "CannotStopContainerError: %s", e.msg);
	close_output(c);
	shim_health_stop(c);
	drop_timers(c);
	c->state = CTR_STOPPED;
	c->finished_at = shim_now();
	c->has_exit = true;
	c->exit_code = res.exit_code;
	if (res.oom_killed) {
		c->oom = true;
		set_reason(c, REASON_OOM);
	}
	shim_changed(s);
	if (c->spec->essential)
		shim_task_stop(s, "EssentialContainerExited", REASON_ESSENTIAL);
	shim_schedule(s);
}

/* ---- start ---- */

static void on_start_timeout(struct loop *l, struct loop_timer *t, void *data)
{
	struct shim_ctr *c = data;

	(void)l;
	(void)t;
	c->dep_timed_out = true;
	shim_schedule(c->shim);
}

static int open_pipe(int *ret_rd, int *ret_wr)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* Only our end is non-blocking: the container writes as it always does. */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int r = -errno;

		close(p[0]);
		close(p[1]);
		return r;
	}
	*ret_rd = p[0];
	*ret_wr = p[1];
	return 0;
}

/* The rt_spec fields that come from the task, not from the container. */
static void task_fields(struct shim *s, struct rt_spec *rs)
{
	const struct shim_task *t = &s->task;

	rs->cgroup_parent = t->cgroup_parent_task;
	rs->cgroup_enforce = t->cgroup_enforce ? RT_ENFORCE_ON : RT_ENFORCE_OFF;
	/* A task pidsLimit is the task cgroup's alone: the containers' would
	 * only hide which limit was hit. */
	rs->pids_max = t->pids_limit ? 0 : CG_DEFAULT_PIDS_MAX;
	rs->net = t->net == SHIM_NET_HOST ? RT_NET_HOST : RT_NET_JOIN;
	rs->net_fd = s->net_fd;
	rs->pid_ns = t->pid_mode == SHIM_NS_TASK ? RT_NS_JOIN :
		     t->pid_mode == SHIM_NS_HOST ? RT_NS_HOST : RT_NS_NEW;
	rs->pid_fd = s->pid_fd;
	rs->ipc_ns = t->ipc_mode == SHIM_NS_TASK ? RT_NS_JOIN :
		     t->ipc_mode == SHIM_NS_HOST ? RT_NS_HOST : RT_NS_NEW;
	rs->ipc_fd = s->ipc_fd;
}

/* Plan, pipes, logger, clone.  On failure E says why and nothing is left. */
static int launch(struct shim_ctr *c, struct err *e)
{
	struct shim *s = c->shim;
	_cleanup_free_ struct rt_plan *p = malloc(sizeof(*p));
	struct vol_ctr_mounts vm = { 0 };
	struct shim_ctr_files files;
	int out_wr = -1, err_wr = -1, r;

	if (!p)
		return err_set(e, -ENOMEM, "plan");
	task_fields(s, &c->spec->rt);
	r = rt_plan(&c->spec->rt, p, e);
	if (r < 0)
		return r;
	r = shim_fields_prepare(&s->task, c->spec, s->task_dir, p, &files, e);
	if (r < 0) {
		rt_plan_release(p);
		return r;
	}
	r = shim_log_open(&c->spec->log, s->logs_dir, c->spec->name, &c->log);
	if (r < 0) {
		err_set(e, r, "open the log of container '%s' in '%s'", c->spec->name, s->logs_dir);
		goto out;
	}
	if ((r = open_pipe(&c->out_fd, &out_wr)) < 0 || (r = open_pipe(&c->err_fd, &err_wr)) < 0) {
		err_set(e, r, "create the output pipes");
		goto out;
	}
	r = shim_vol_ctr_open(c, p, &vm, e);
	if (r < 0)
		goto out;
	/* linuxParameters.tmpfs mounts join the task volumes' mounts. */
	r = vol_ctr_mounts_move(&vm, &files.tmpfs);
	if (r < 0) {
		err_set(e, r, "tmpfs mounts of container '%s'", c->spec->name);
		goto out;
	}
	if (vm.n)
		p->volumes = &vm;
	p->stdio[1] = out_wr;
	p->stdio[2] = err_wr;
	r = rt_container_start(p, &c->rc, e);
	if (r < 0)
		goto out;
	c->uid = p->uid;
	c->gid = p->gid;
	c->caps = p->caps;
	c->seccomp = p->seccomp;
	c->envp = TAKE_PTR(p->envp);
	c->hostname_env = TAKE_PTR(p->hostname_env);
out:
	vol_ctr_mounts_free(&vm);   /* attached in the child, or dissolved */
	if (out_wr >= 0)
		close(out_wr);
	if (err_wr >= 0)
		close(err_wr);
	shim_fields_release(&files);
	rt_plan_release(p);
	return r;
}

static void cleanup_failed_launch(struct shim_ctr *c)
{
	if (c->out_fd >= 0)
		close(take_fd(&c->out_fd));
	if (c->err_fd >= 0)
		close(take_fd(&c->err_fd));
	shim_log_close(c->log);
	c->log = NULL;
}

/* Starts C; false when it could not be started (C is STOPPED then). */
static bool start_container(struct shim_ctr *c)
{
	struct shim *s = c->shim;
	struct err e = ERR_INIT;
	int r;

	fflush(NULL);
	r = launch(c, &e);
	if (r == 0 && ((r = loop_add_fd(s->loop, c->out_fd, EPOLLIN, on_output, c)) < 0 ||
		       (r = loop_add_fd(s->loop, c->err_fd, EPOLLIN, on_output, c)) < 0 ||
		       (r = loop_add_pid(s->loop, c->rc.pid, on_container_exit, c)) < 0)) {
		/* Cannot watch it: it must not run unwatched. */
		(void)loop_del_fd(s->loop, c->out_fd);
		(void)loop_del_fd(s->loop, c->err_fd);
		(void)rt_container_signal(&c->rc, SIGKILL);
		(void)waitpid(c->rc.pid, NULL, 0);
		(void)rt_container_finish(&c->rc, SIGKILL, &(struct rt_result){ 0 }, &e);
		err_set(&e, r, "watch the container");
	}
	if (r < 0) {
		cleanup_failed_launch(c);
		c->state = CTR_STOPPED;
		set_reason(c, "CannotStartContainerError: %s", e.msg);
		shim_changed(s);
		return false;
	}
	c->state = CTR_RUNNING;
	c->started = true;
	c->started_at = shim_now();
	if (c->spec->start_timeout > 0 && loop_timer_new(s->loop, on_start_timeout, c, &c->start_timer) == 0)
		(void)loop_timer_arm(c->start_timer, (uint64_t)c->spec->start_timeout * 1000000, 0);
	shim_health_start(c);
	shim_changed(s);
	return true;
}

/* ---- dependsOn ---- */

enum dep_state { DEP_READY, DEP_WAIT, DEP_NEVER };

static bool dep_met(const struct shim_ctr *d, enum shim_cond cond)
{
	switch (cond) {
	case SHIM_COND_START:
		return d->started;
	case SHIM_COND_COMPLETE:
		return d->started && d->state == CTR_STOPPED;
	case SHIM_COND_SUCCESS:
		return d->started && d->state == CTR_STOPPED && d->has_exit && d->exit_code == 0;
	case SHIM_COND_HEALTHY:
		return d->state == CTR_RUNNING && d->health == HEALTH_HEALTHY;
	}
	return false;
}

/* Why D can never meet COND, or NULL while it still may.  The texts are the
 * ECS agent's (dependencygraph). */
static const char *dep_never(const struct shim_ctr *d, enum shim_cond cond)
{
	if (d->state == CTR_STOPPED && !d->started)
		return "because dependency will never start";
	if (cond == SHIM_COND_SUCCESS && d->state == CTR_STOPPED)
		return "as dependency did not exit successfully.";
	if (cond == SHIM_COND_HEALTHY && d->state == CTR_STOPPED)
		return "as dependency stopped before it was healthy.";
	if (d->dep_timed_out)
		return "has timed out.";
	return NULL;
}

static enum dep_state deps_state(struct shim_ctr *c)
{
	enum dep_state st = DEP_READY;

	for (size_t i = 0; i < c->spec->n_deps; i++) {
		const struct shim_dep *dep = &c->spec->deps[i];
		const struct shim_ctr *d = &c->shim->ctrs[dep->idx];
		const char *never;

		if (dep_met(d, dep->cond))
			continue;
		never = dep_never(d, dep->cond);
		if (never) {
			set_reason(c, "CannotStartContainerError: dependency graph: failed to resolve "
				      "container ordering dependency [%s] for target [%s] %s",
				   d->spec->name, c->spec->name, never);
			return DEP_NEVER;
		}
		st = DEP_WAIT;
	}
	return st;
}

/* ---- stop ---- */

static double stop_timeout(const struct shim_ctr *c)
{
	return c->spec->stop_timeout >= 0 ? (double)c->spec->stop_timeout :
					    (double)c->shim->task.stop_timeout_default;
}

static void on_kill_timer(struct loop *l, struct loop_timer *t, void *data)
{
	struct shim_ctr *c = data;

	(void)l;
	(void)t;
	if (c->state == CTR_RUNNING)
		(void)rt_container_signal(&c->rc, SIGKILL); /* ESRCH: already exiting */
}

/* True when no running container depends on C: it may stop now. */
static bool dependents_stopped(const struct shim *s, const struct shim_ctr *c)
{
	size_t me = (size_t)(c - s->ctrs);

	for (size_t i = 0; i < s->task.n_ctrs; i++) {
		const struct shim_ctr *o = &s->ctrs[i];

		if (o->state != CTR_RUNNING)
			continue;
		for (size_t d = 0; d < o->spec->n_deps; d++)
			if (o->spec->deps[d].idx == me)
				return false;
	}
	return true;
}

static void signal_stop(struct shim_ctr *c)
{
	struct shim *s = c->shim;
	double t = stop_timeout(c);

	c->signalled = true;
	if (t <= 0) {
		(void)rt_container_signal(&c->rc, SIGKILL);
		return;
	}
	(void)rt_container_signal(&c->rc, SIGTERM);
	if (loop_timer_new(s->loop, on_kill_timer, c, &c->kill_timer) < 0 ||
	    loop_timer_arm(c->kill_timer, (uint64_t)(t * 1e6), 0) < 0)
		(void)rt_container_signal(&c->rc, SIGKILL); /* no timer: no grace */
}

static bool all_stopped(const struct shim *s)
{
	for (size_t i = 0; i < s->task.n_ctrs; i++)
		if (s->ctrs[i].state != CTR_STOPPED)
			return false;
	return true;
}

static void advance_stop(struct shim *s)
{
	for (size_t i = s->task.n_ctrs; i-- > 0;) {
		struct shim_ctr *c = &s->ctrs[s->task.order[i]];

		if (c->state == CTR_RUNNING && !c->signalled && dependents_stopped(s, c))
			signal_stop(c);
	}
	if (all_stopped(s))
		shim_finish(s);
}

void shim_task_stop(struct shim *s, const char *code, const char *reason)
{
	if (s->desired_stopped)
		return;
	s->desired_stopped = true;
	s->stop_code = code;
	s->stopped_reason = strdup(reason ? reason : "");
	s->stopping_at = shim_now();
	for (size_t i = 0; i < s->task.n_ctrs; i++) {
		struct shim_ctr *c = &s->ctrs[i];

		if (c->state == CTR_PENDING) {
			c->state = CTR_STOPPED;
			c->finished_at = s->stopping_at;
		}
		c->start_timer = loop_timer_free(c->start_timer);
	}
	shim_changed(s);
	/* advance_stop runs from shim_schedule, after the caller's own update */
}

/* ---- the scheduler: called after every event that may change it ---- */

static bool start_ready(struct shim *s)
{
	for (size_t k = 0; k < s->task.n_ctrs; k++) {
		struct shim_ctr *c = &s->ctrs[s->task.order[k]];

		if (c->state != CTR_PENDING)
			continue;
		switch (deps_state(c)) {
		case DEP_WAIT:
			continue;
		case DEP_NEVER:
			c->state = CTR_STOPPED;
			c->finished_at = shim_now();
			shim_changed(s);
			if (c->spec->essential)
				shim_task_stop(s, "TaskFailedToStart", c->reason);
			return true;
		case DEP_READY:
			if (!start_container(c) && c->spec->essential)
				shim_task_stop(s, "TaskFailedToStart", c->reason);
			return true;
		}
	}
	return false;
}

void shim_schedule(struct shim *s)
{
	bool pending = false, running = false;

	if (s->finished)
		return;
	while (!s->desired_stopped && start_ready(s))
		;
	if (s->desired_stopped) {
		advance_stop(s);
		return;
	}
	for (size_t i = 0; i < s->task.n_ctrs; i++) {
		pending |= s->ctrs[i].state == CTR_PENDING;
		running |= s->ctrs[i].state == CTR_RUNNING;
	}
	if (!s->running && !pending && running) {
		s->running = true;
		s->started_at = shim_now();
		shim_changed(s);
	}
	if (!pending && !running) {
		/* Only non-essential containers were left, and they ended. */
		shim_task_stop(s, "EssentialContainerExited", REASON_ESSENTIAL);
		advance_stop(s);
	}
}
