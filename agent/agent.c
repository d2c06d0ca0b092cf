/* agent/agent.c - the embedded agent: registration, the control plane's task
 * notifications, live restore, retention and host cleanup. */
#include "agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/internal.h"
#include "agent/link.h"
#include "cgroup/cgroup.h"
#include "images/rootfs.h"
#include "images/store.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/loop.h"

#define SWEEP_MAX_USEC (60ull * 1000000)
#define SWEEP_MIN_USEC 1000000ull
/* Longer than a quick start (~10 ms), whose RUNNING then carries PENDING. */
#define PENDING_HOLD_USEC 50000ull

/* After an API call committed: the task is ours to start or stop.  The work
 * runs from a timer, never inside the API request's callback. */
static void on_task_note(void *data, const char *cluster, const char *task_id,
			 const char *instance_id)
{
	struct agent *a = data;
	struct atask *t;

	if (strcmp(instance_id, a->host.id) != 0)
		return;
	t = atask_get(a, cluster, task_id);
	if (!t) {
		log_error("task %s: out of memory", task_id);
		return;
	}
	t->check = true;
	loop_timer_arm(a->work, 1, 0);
}

static void flush_pending(struct agent *a)
{
	for (struct atask *t = a->tasks; t; t = t->next)
		atask_flush_pending(t);
	a->pending_armed = false;
}

static void on_pending(struct loop *l, struct loop_timer *tm, void *data)
{
	(void)l;
	(void)tm;
	flush_pending(data);
}

void agent_hold_pending(struct agent *a)
{
	if (!a->pending_armed && loop_timer_arm(a->pending, PENDING_HOLD_USEC, 0) == 0)
		a->pending_armed = true;
	else if (!a->pending_armed)
		flush_pending(a);
}

/* One task per callback, then the timer again: a burst of starts never
 * holds the loop (and the API behind it) for more than one task's setup. */
static void on_work(struct loop *l, struct loop_timer *tm, void *data)
{
	struct agent *a = data;

	(void)l;
	(void)tm;
	for (struct atask *t = a->tasks; t; t = t->next) {
		if (t->check) {
			atask_process(t);
			/* Processing may queue more work (T may be gone): look again. */
			loop_timer_arm(a->work, 1, 0);
			return;
		}
	}
}

static int umount_one(struct agent *a, int dfd, const char *id)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	char path[PATH_MAX];
	struct err e = ERR_INIT;
	int fd = openat(dfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/%s", a->state_tasks, id, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (img_rootfs_umount(a->img, path, &e) < 0) {
			log_warn("task %s: %s", id, e.msg);
			return -EBUSY;
		}
	}
	return 0;
}

/* Every mount left in the host's namespace slows each later container's
 * mount namespace copy: a stopped task's rootfs goes at once.  Busy or not
 * mounted: left to agent_task_cleanup. */
void agent_task_umount(struct agent *a, const char *id)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", a->state_tasks, id) >= (int)sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/%s/rootfs", a->state_tasks, id, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (umount2(path, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
			log_msg(LOG_LVL_DEBUG, -errno, "task %s: unmount '%s' (left for cleanup)", id, path);
	}
}

/* A shim removes its task's cgroups when it ends; one that was killed
 * cannot, so whatever is left of them goes here. */
static int remove_task_cgroups(struct agent *a, const char *id)
{
	const char *parent = config_get(a->cfg, CFG_CGROUP_PARENT);
	struct cg_host host;
	char rel[PATH_MAX];

	if (cg_host_probe(NULL, &host) < 0)
		return 0;   /* no cgroup2: the shim made none */
	snprintf(rel, sizeof(rel), "%s/tasks/%s", parent ? parent : "berth", id);
	return cg_remove_tree(&host, rel);
}

int agent_task_cleanup(struct agent *a, const char *id)
{
	_cleanup_close_ int sfd = open(a->state_tasks, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int rfd = open(a->run_tasks, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = remove_task_cgroups(a, id);

	if (r < 0)
		return r;   /* the run dir stays: the next sweep tries again */
	if (sfd >= 0) {
		r = agent_volumes_cleanup(a, id);
		if (r == 0)
			r = umount_one(a, sfd, id);
		/* Never remove what may still be mounted. */
		if (r == 0)
			r = img_rm_rf_at(sfd, id);
	}
	if (r == 0 && rfd >= 0)
		r = img_rm_rf_at(rfd, id);
	return r == -ENOENT ? 0 : r;
}

/* The task dir's "exited" marker (or the dir itself when the shim never
 * wrote one) older than the cleanup wait. */
static bool cleanup_due(struct agent *a, int dfd, const char *id, bool shim_gone)
{
	char name[PATH_MAX];
	struct stat st;
	struct timespec now;

	snprintf(name, sizeof(name), "%s/exited", id);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (!shim_gone || fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return false;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)(now.tv_sec - st.st_mtim.tv_sec) * 1000000 >= a->cleanup_wait_usec;
}

static bool is_task_id(const char *s)
{
	return strlen(s) == AGENT_ID_LEN && strspn(s, "0123456789abcdef") == AGENT_ID_LEN;
}

/* Host resources of stopped tasks go after BERTH_TASK_CLEANUP_WAIT. */
static void sweep_dirs(struct agent *a)
{
	_cleanup_(closedirp) DIR *d = opendir(a->run_tasks);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct atask *t = is_task_id(de->d_name) ? atask_find(a, de->d_name) : NULL;

		if (!is_task_id(de->d_name) || (t && !t->done))
			continue;
		if (!cleanup_due(a, dirfd(d), de->d_name, t && t->done))
			continue;
		if (agent_task_cleanup(a, de->d_name) == 0) {
			log_info("task %s: host resources removed", de->d_name);
			if (t)
				atask_free(t);
		}
	}
}

static void on_sweep(struct loop *l, struct loop_timer *tm, void *data)
{
	struct agent *a = data;
	struct timespec now;
	struct err e = ERR_INIT;
	unsigned n;

	(void)l;
	(void)tm;
	clock_gettime(CLOCK_REALTIME, &now);
	if (link_expire_tasks(a->link, (double)now.tv_sec - (double)a->retention_usec / 1e6, &n,
				 &e) < 0)
		log_warn("task retention: %s", e.msg);
	else if (n)
		log_info("%u stopped tasks expired", n);
	sweep_dirs(a);
}

static int restore_cb(const char *cluster, const char *task_id, void *data)
{
	struct agent *a = data;
	struct atask *t = atask_get(a, cluster, task_id);

	if (!t)
		return -ENOMEM;
	atask_adopt(t);
	return 0;
}

/* Shims whose task the store no longer wants running: stop them. */
static void stop_orphans(struct agent *a)
{
	_cleanup_(closedirp) DIR *d = opendir(a->run_tasks);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (!is_task_id(de->d_name) || atask_find(a, de->d_name))
			continue;
		if (agent_shim_stop(a, de->d_name, "Task is not known to the control plane") == 0)
			log_info("task %s: orphaned shim told to stop", de->d_name);
	}
}

static int restore(struct agent *a, struct err *e)
{
	int r = link_instance_tasks(a->link, a->cluster, a->host.id, restore_cb, a, e);

	if (r < 0)
		return r == -ENOMEM ? err_set(e, r, "restore tasks") : r;
	stop_orphans(a);
	r = agent_net_reconcile(a, e);
	if (r < 0)
		log_error("task networks: %s", e->msg);   /* host/none tasks still run */
	loop_timer_arm(a->work, 1, 0);
	return 0;
}

static int register_host(struct agent *a, struct err *e)
{
	struct control_instance_reg g = {
		.cluster = a->cluster, .id = a->host.id, .hostname = a->host.hostname,
		.cpu = a->host.cpu, .memory = a->host.memory,
		.ports_tcp = a->host.ports_tcp, .n_ports_tcp = a->host.n_tcp,
		.ports_udp = a->host.ports_udp, .n_ports_udp = a->host.n_udp,
		.attributes = a->host.attributes, .tags = a->host.tags,
		.agent_version = "0.1.0",
	};
	int r = link_register_instance(a->link, &g, e);

	if (r < 0)
		return err_wrap(e, "register container instance %s", a->host.id);
	log_info("container instance %s of cluster '%s' registered: %lld CPU units, %lld MiB",
		 a->host.id, a->cluster, (long long)a->host.cpu, (long long)a->host.memory);
	return 0;
}

static int make_dirs(struct agent *a, struct err *e)
{
	const char *run = config_get(a->cfg, CFG_RUN_DIR), *state = config_get(a->cfg, CFG_STATE_DIR);
	/* Leaves room for "/<id>/<container>/rootfs" and the socket path. */
	if (snprintf(a->run_tasks, sizeof(a->run_tasks), "%s/tasks", run) >= 3000 ||
	    snprintf(a->state_tasks, sizeof(a->state_tasks), "%s/tasks", state) >= 3000)
		return err_setx(e, -ENAMETOOLONG, "state or run directory path too long");
	if (strlen(a->run_tasks) + AGENT_ID_LEN + sizeof("/shim.sock") + 1 > 108)
		return err_setx(e, -ENAMETOOLONG, "BERTH_RUN_DIR '%s' is too long for the shims' "
				"unix sockets", run);
	if (mkdir(a->run_tasks, 0700) < 0 && errno != EEXIST)
		return err_set(e, -errno, "create '%s'", a->run_tasks);
	if (mkdir(a->state_tasks, 0700) < 0 && errno != EEXIST)
		return err_set(e, -errno, "create '%s'", a->state_tasks);
	return 0;
}

static int load_settings(struct agent *a, const struct agent_opts *o, struct err *e)
{
	a->loop = o->loop;
	a->cfg = o->cfg;
	if (o->link)
		a->link = o->link;
	else if (link_embedded_new(o->control, &a->link) < 0)
		return err_set(e, -ENOMEM, "agent");
	snprintf(a->cluster, sizeof(a->cluster), "%s", config_get(o->cfg, CFG_CLUSTER));
	a->berth_path = strdup(o->berth_path);
	if (!a->berth_path)
		return err_set(e, -ENOMEM, "agent");
	a->cleanup_wait_usec = config_get_usec(o->cfg, CFG_TASK_CLEANUP_WAIT);
	a->retention_usec = config_get_usec(o->cfg, CFG_TASK_RETENTION);
	a->stop_timeout_usec = config_get_usec(o->cfg, CFG_CONTAINER_STOP_TIMEOUT);
	if (img_pull_behavior_parse(config_get(o->cfg, CFG_IMAGE_PULL_BEHAVIOR), &a->pull) < 0)
		return err_setx(e, -EINVAL, "BERTH_IMAGE_PULL_BEHAVIOR: unknown value");
	return 0;
}

int agent_start(const struct agent_opts *o, struct agent **ret, struct err *e)
{
	struct agent *a = calloc(1, sizeof(*a));
	uint64_t sweep;
	int r;

	if (!a) {
		link_free(o->link);
		return err_set(e, -ENOMEM, "agent");
	}
	r = load_settings(a, o, e);
	if (r >= 0)
		r = make_dirs(a, e);
	if (r >= 0)
		r = host_info_load(o->cfg, &a->host, e);
	if (r >= 0)
		r = agent_net_open(a, e);
	if (r >= 0 && !(a->img = img_store_open(config_get(o->cfg, CFG_STATE_DIR), e)))
		r = -EIO;
	if (r >= 0 && (loop_timer_new(a->loop, on_work, a, &a->work) < 0 ||
		       loop_timer_new(a->loop, on_sweep, a, &a->sweep) < 0 ||
		       loop_timer_new(a->loop, on_pending, a, &a->pending) < 0))
		r = err_set(e, -ENOMEM, "agent timers");
	if (r >= 0)
		r = register_host(a, e);
	if (r >= 0) {
		link_set_task_listener(a->link, on_task_note, a);
		r = restore(a, e);
	}
	if (r < 0) {
		agent_free(a);
		return r;
	}
	sweep = a->cleanup_wait_usec / 2;
	sweep = sweep > SWEEP_MAX_USEC ? SWEEP_MAX_USEC : sweep < SWEEP_MIN_USEC ? SWEEP_MIN_USEC : sweep;
	loop_timer_arm(a->sweep, sweep, sweep);
	*ret = a;
	return 0;
}

struct agent *agent_free(struct agent *a)
{
	if (!a)
		return NULL;
	if (a->link)
		link_set_task_listener(a->link, NULL, NULL);
	flush_pending(a);   /* nothing held is lost on a clean stop */
	while (a->tasks)
		atask_free(a->tasks);
	loop_timer_free(a->work);
	loop_timer_free(a->sweep);
	loop_timer_free(a->pending);
	agent_net_free(a);
	img_store_free(a->img);
	host_info_release(&a->host);
	free(a->berth_path);
	link_free(a->link);
	free(a);
	return NULL;
}
