/* agent/task.c - one task on this host: its start (a helper process does
 * the work: start_helper.c), the shim, its status stream -> state reports,
 * StopTask -> the shim's stop.
 *
 * "Started" is the existence of $BERTH_RUN_DIR/tasks/<id>: it is made with
 * mkdir before anything else, so a task is never started twice, whatever
 * restarts of the daemon happen; a directory without a live shim is settled
 * from the shim's status.json, or as a start that never finished.  After a
 * host restart (the run dir is a tmpfs) a task recorded as started is
 * settled as stopped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/internal.h"
#include "agent/link.h"
#include "images/store.h"
#include "lib/cleanup.h"
#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "runtime/shim.h"

#define LINE_MAX_BYTES (1u << 20)
#define STATUS_MAX (1u << 20)
#define RETRY_USEC 1000000

struct atask *atask_find(struct agent *a, const char *id)
{
	for (struct atask *t = a->tasks; t; t = t->next)
		if (strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

static void on_retry(struct loop *l, struct loop_timer *tm, void *data);

struct atask *atask_get(struct agent *a, const char *cluster, const char *id)
{
	struct atask *t = atask_find(a, id);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->a = a;
	t->watch_fd = -1;
	if (loop_timer_new(a->loop, on_retry, t, &t->retry) < 0) {
		free(t);
		return NULL;
	}
	snprintf(t->cluster, sizeof(t->cluster), "%s", cluster);
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->next = a->tasks;
	a->tasks = t;
	return t;
}

static void close_watch(struct atask *t)
{
	if (t->watch_fd >= 0) {
		loop_del_fd(t->a->loop, t->watch_fd);
		close(t->watch_fd);
	}
	t->watch_fd = -1;
	t->len = t->cap = 0;
	free(t->buf);   /* a stopped task keeps nothing of its stream */
	t->buf = NULL;
}

void atask_free(struct atask *t)
{
	struct atask **p;

	for (p = &t->a->tasks; *p && *p != t; p = &(*p)->next)
		;
	if (*p)
		*p = t->next;
	close_watch(t);
	loop_timer_free(t->retry);
	free(t);
}

/* What is known of the start and not recorded yet: a PENDING still held,
 * the pull's times from the start helper's note.  NULL when nothing is. */
static cJSON *start_report(const struct atask *t)
{
	cJSON *rep;

	if (!t->pending_held && t->pull_stopped_at <= 0)
		return NULL;
	rep = cJSON_CreateObject();
	if (!rep || (t->pending_held && !cJSON_AddStringToObject(rep, "lastStatus", "PENDING")) ||
	    !cJSON_AddNumberToObject(rep, "pullStartedAt", t->pull_started_at) ||
	    (t->pull_stopped_at > 0 &&
	     !cJSON_AddNumberToObject(rep, "pullStoppedAt", t->pull_stopped_at))) {
		cJSON_Delete(rep);
		return NULL;
	}
	return rep;
}

/* REPS as one transaction (one sync), after what start_report has. */
static int report_batch(struct atask *t, const cJSON **reps, size_t n)
{
	_cleanup_(cJSON_Deletep) cJSON *first = start_report(t);
	const cJSON *all[8];
	struct err e = ERR_INIT;
	size_t k = 0;
	int r;

	if (first)
		all[k++] = first;
	for (size_t i = 0; i < n && k < ARRAY_SIZE(all); i++)
		all[k++] = reps[i];
	if (k == 0)
		return 0;
	r = link_task_reports(t->a->link, t->cluster, t->id, all, k, &e);
	if (r < 0) {
		log_error("task %s: recording its state failed: %s", t->id, e.msg);
		return r;
	}
	if (first) {
		t->pending_held = false;
		t->pull_stopped_at = 0;
	}
	return 0;
}

void atask_flush_pending(struct atask *t)
{
	if (t->pending_held)
		(void)report_batch(t, NULL, 0);
}

static int report(struct atask *t, const cJSON *rep)
{
	return report_batch(t, &rep, 1);
}

/* A step with no work of its own; once stopping, it carries the time the
 * stop began (FULL's), so the implied stamps never come after the real ones. */
static cJSON *step_report(enum task_status s, const cJSON *full)
{
	cJSON *rep = cJSON_CreateObject();
	const cJSON *stopping = cJSON_GetObjectItemCaseSensitive(full, "stoppingAt");

	if (!rep || !cJSON_AddStringToObject(rep, "lastStatus", task_status_name(s)) ||
	    (s >= TASK_DEACTIVATING && cJSON_IsNumber(stopping) &&
	     !cJSON_AddNumberToObject(rep, "stoppingAt", stopping->valuedouble))) {
		cJSON_Delete(rep);
		return NULL;
	}
	return rep;
}

/* A shim status object -> the lifecycle steps in between, then the status,
 * all in one transaction: they happened at once. */
static void apply_status(struct atask *t, const cJSON *st)
{
	_cleanup_(cJSON_Deletep) cJSON *rep = NULL;
	enum task_status steps[3];
	cJSON *step_reps[3] = { NULL };
	const cJSON *all[4];
	int to = task_status_parse(json_get_str(st, "lastStatus"));
	size_t n = 0, k = 0;
	int r;

	if (to < 0 || report_from_status(st, &rep) < 0) {
		log_warn("task %s: the shim sent a status the agent cannot read", t->id);
		return;
	}
	if (to >= TASK_RUNNING && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(st, "startedAt")))
		t->ran = true;
	if (t->ran && (t->reported < TASK_RUNNING || (to == TASK_STOPPED && t->reported < TASK_STOPPED)) &&
	    agent_net_report(t->a, t->id, rep, to == TASK_STOPPED) < 0)
		log_warn("task %s: its network bindings cannot be read", t->id);
	if ((enum task_status)to > t->reported)
		n = report_steps(t->reported, (enum task_status)to, t->ran, steps);
	for (size_t i = 0; i < n; i++)
		if ((step_reps[i] = step_report(steps[i], rep)))
			all[k++] = step_reps[i];
	all[k++] = rep;
	r = report_batch(t, all, k);
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(step_reps[i]);
	if (r == 0 && (enum task_status)to > t->reported)
		t->reported = (enum task_status)to;
	if (to == TASK_STOPPED) {
		if (!t->done) {
			log_info("task %s stopped: %s", t->id,
				 json_get_str(st, "stoppedReason") ? json_get_str(st, "stoppedReason") : "");
			agent_task_umount(t->a, t->id);
			agent_net_release(t->a, t->id);
		}
		t->done = true;
	}
}

/* BUF = BASE/ID; the agent's dirs are checked short enough at start. */
static void join(char *buf, size_t size, const char *base, const char *id)
{
	int n = snprintf(buf, size, "%s/%s", base, id);

	if (n < 0 || (size_t)n >= size)
		buf[0] = '\0';
}

static void task_dir(const struct atask *t, char *buf, size_t size)
{
	join(buf, size, t->a->run_tasks, t->id);
}

/* status.json as the shim left it; -ENOENT when the shim never wrote one. */
static int read_status(struct atask *t, cJSON **ret)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len;
	int r;

	if (asprintf(&path, "%s/%s/status.json", t->a->run_tasks, t->id) < 0)
		return -ENOMEM;
	r = read_file_alloc(path, STATUS_MAX, &text, &len);
	if (r < 0)
		return r;
	*ret = json_parse_strict(text, len);
	return *ret ? 0 : -EBADMSG;
}

/* Whether the process named by the task dir's pid file NAME is alive. */
static bool pidfile_alive(struct atask *t, const char *name)
{
	char path[PATH_MAX], buf[32];
	_cleanup_close_ int dfd = -1;
	uint64_t pid;

	task_dir(t, path, sizeof(path));
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || read_file_at(dfd, name, buf, sizeof(buf), NULL) < 0 ||
	    parse_u64(buf, &pid) < 0 || pid < 2 || pid > INT32_MAX)
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* The shim, or a start helper that outlived a daemon restart and may still
 * bring one up. */
static bool shim_alive(struct atask *t)
{
	return pidfile_alive(t, "shim.pid") || pidfile_alive(t, "starter.pid");
}

static void fail_start(struct atask *t, const cJSON *task, const char *reason);
static void read_note(struct atask *t, const char *name, char *buf, size_t size, bool consume);
#define START_ERROR "start-error"      /* why the start failed (ECS reason text) */

/* Why the start failed: the helper's note, else the shim's own (BUF empty
 * when neither is there). */
static void read_start_error(struct atask *t, char *buf, size_t size)
{
	char why[512];

	read_note(t, START_ERROR, buf, size, true);
	if (buf[0])
		return;
	read_note(t, SHIM_START_ERROR, why, sizeof(why), true);
	if (why[0])
		snprintf(buf, size, "CannotStartContainerError: %s", why);
}

/* The stream is gone and nobody answers: settle the task from status.json. */
static void settle_from_file(struct atask *t)
{
	_cleanup_(cJSON_Deletep) cJSON *st = NULL;
	_cleanup_(cJSON_Deletep) cJSON *task = NULL, *td = NULL;
	struct err e = ERR_INIT;
	char why[1024];
	int r = read_status(t, &st);

	if (r == 0) {
		apply_status(t, st);
		if (t->done)
			return;
	}
	if (shim_alive(t)) {
		loop_timer_arm(t->retry, RETRY_USEC, 0); /* the socket may come back */
		return;
	}
	/* No shim and not STOPPED: it died, or the start never finished. */
	if (link_task_for_agent(t->a->link, t->cluster, t->id, &task, &td, &e) < 0)
		return;
	read_start_error(t, why, sizeof(why));
	fail_start(t, task, why[0] ? why
			   : r == 0 ? "TaskFailedToStart: the task's shim exited unexpectedly"
			   : "TaskFailedToStart: the agent restarted while starting the task");
}

static void on_watch(struct loop *l, int fd, uint32_t events, void *data);

static int connect_shim(struct atask *t)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s/shim.sock", t->a->run_tasks, t->id);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	return fd;
}

static int send_line(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

static void attach(struct atask *t)
{
	int fd;

	if (t->done || t->watch_fd >= 0 || t->spawning)
		return;
	fd = connect_shim(t);
	if (fd >= 0 && send_line(fd, "{\"op\":\"watch\"}\n") == 0 &&
	    fcntl(fd, F_SETFL, O_NONBLOCK) == 0 &&
	    loop_add_fd(t->a->loop, fd, EPOLLIN, on_watch, t) == 0) {
		t->watch_fd = fd;
		return;
	}
	if (fd >= 0)
		close(fd);
	settle_from_file(t);
}

static void on_retry(struct loop *l, struct loop_timer *tm, void *data)
{
	(void)l;
	(void)tm;
	attach(data);
}

static int consume_lines(struct atask *t)
{
	char *nl;

	while ((nl = memchr(t->buf, '\n', t->len))) {
		size_t n = (size_t)(nl - t->buf);
		_cleanup_(cJSON_Deletep) cJSON *st = json_parse_strict(t->buf, n);

		if (st)
			apply_status(t, st);
		memmove(t->buf, nl + 1, t->len - n - 1);
		t->len -= n + 1;
	}
	return t->len > LINE_MAX_BYTES ? -EMSGSIZE : 0;
}

static void on_watch(struct loop *l, int fd, uint32_t events, void *data)
{
	struct atask *t = data;
	ssize_t n;

	(void)l;
	(void)events;
	for (;;) {
		if (t->cap - t->len < 1024) {
			/* Status lines are ~0.5 KiB: start small, double for a long one. */
			size_t cap = t->cap ? 2 * t->cap : 4096;
			char *p = realloc(t->buf, cap);

			if (!p)
				break;
			t->buf = p;
			t->cap = cap;
		}
		n = read(fd, t->buf + t->len, t->cap - t->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		t->len += (size_t)n;
		if (consume_lines(t) < 0)
			break;
	}
	close_watch(t);
	settle_from_file(t);
}

/* ---- starting ---- */

static void fail_start(struct atask *t, const cJSON *task, const char *reason)
{
	_cleanup_(cJSON_Deletep) cJSON *rep = NULL;

	log_warn("task %s failed to start: %s", t->id, reason);
	if (report_failed_start(task, reason, &rep) == 0 && report(t, rep) == 0)
		t->reported = TASK_STOPPED;
	t->done = true;
	agent_net_release(t->a, t->id);
	agent_task_cleanup(t->a, t->id);
}

/* What the start helper leaves in the task dir for the agent. */

static void read_note(struct atask *t, const char *name, char *buf, size_t size, bool consume)
{
	char dir[PATH_MAX];
	_cleanup_close_ int dfd = -1;

	buf[0] = '\0';
	task_dir(t, dir, sizeof(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || read_file_at(dfd, name, buf, size, NULL) < 0)
		buf[0] = '\0';
	if (dfd >= 0 && consume)
		(void)unlinkat(dfd, name, 0);
}

/* The start helper's note "PULL-STARTED PULL-STOPPED": reported with the
 * next state change (set-once in control/, so reading it again after a
 * restart is harmless; the note goes with the task dir).  The start time
 * is there too for a restart while PENDING was held. */
static void load_pull_stopped(struct atask *t)
{
	char when[64];
	double started, stopped;

	read_note(t, AGENT_NOTE_PULL, when, sizeof(when), false);
	if (sscanf(when, "%lf %lf", &started, &stopped) == 2 && started > 0 && stopped > 0) {
		t->pull_started_at = started;
		t->pull_stopped_at = stopped;
	}
}

static void on_started(struct loop *l, pid_t pid, const siginfo_t *info, void *data)
{
	_cleanup_(cJSON_Deletep) cJSON *task = NULL, *td = NULL;
	struct atask *t = data;
	struct err e = ERR_INIT;
	char msg[1024];

	(void)l;
	(void)pid;
	t->spawning = false;
	load_pull_stopped(t);
	if (info && info->si_code == CLD_EXITED && info->si_status == 0) {
		log_info("task %s: shim started", t->id);
		attach(t);
		if (t->recheck)
			atask_process(t);   /* e.g. StopTask came while it was starting */
		return;
	}
	read_start_error(t, msg, sizeof(msg));
	if (!msg[0])
		snprintf(msg, sizeof(msg), "CannotStartContainerError: the task's start helper %s",
			 info && info->si_code == CLD_EXITED ? "failed" : "was killed");
	if (link_task_for_agent(t->a->link, t->cluster, t->id, &task, &td, &e) == 0)
		fail_start(t, task, msg);
}

/* The network namespace, pulls, mounts and the shim's start may take long: a
 * helper process does them, watched by the loop, so the daemon never waits. */
static int start_async(struct atask *t, const cJSON *task, const cJSON *td, const char *dir,
		       struct err *e)
{
	pid_t pid = fork();
	int r;

	if (pid < 0)
		return err_set(e, -errno, "ResourceInitializationError: fork");
	if (pid == 0) {
		struct err ce = ERR_INIT;
		struct img_store *img;
		char self[32];
		sigset_t none;

		/* A restarted agent waits for a helper that is still at work. */
		snprintf(self, sizeof(self), "%d\n", (int)getpid());
		agent_task_note(dir, "starter.pid", self);

		/* The daemon's signalfd blocks signals: the shim must not inherit that. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Nothing of the daemon's: a helper outliving a killed daemon must
		 * not hold its berth.lock or sockets, and an image store handle of
		 * its own makes the store's flock exclude other helpers (a shared
		 * open file would share the lock). */
		(void)syscall(SYS_close_range, 3U, ~0U, 0U);
		img = img_store_open(config_get(t->a->cfg, CFG_STATE_DIR), &ce);
		r = img ? atask_start_work(t, img, task, td, dir, &ce)
			: err_wrap(&ce, "ResourceInitializationError");
		img_store_free(img);
		/* The helper becomes `berth shim` (same pid, still watched): its
		 * exit status says whether the shim is up. */
		if (r >= 0)
			r = err_set(&ce, shim_exec(t->a->berth_path, dir),
				    "CannotStartContainerError: starting the task's shim");
		if (r < 0)
			agent_task_note(dir, START_ERROR, ce.msg[0] ? ce.msg : "CannotStartContainerError");
		_exit(r < 0 ? 1 : 0);
	}
	r = loop_add_pid(t->a->loop, pid, on_started, t);
	if (r < 0)
		return err_set(e, r, "ResourceInitializationError: watch the task's start");
	t->spawning = true;
	return 0;
}

static void start(struct atask *t, const cJSON *task, const cJSON *td)
{
	char dir[PATH_MAX];         /* the task dir under $BERTH_RUN_DIR/tasks */
	char addr[64];
	struct err e = ERR_INIT;
	int r;

	t->pull_started_at = agent_now_sec();  /* before the fork: the helper's note has it */

	r = agent_task_mkdir(t->a->state_tasks, t->id, NULL, dir, sizeof(dir));
	if (r < 0 || agent_task_mkdir(t->a->run_tasks, t->id, NULL, dir, sizeof(dir)) < 0) {
		fail_start(t, task, "ResourceInitializationError: cannot create the task's directories");
		return;
	}
	r = agent_net_setup(t->a, t->id, td, &e);
	if (r < 0) {
		fail_start(t, task, e.msg);
		return;
	}
	if (agent_net_address(t->a, t->id, addr) == 0)
		log_info("task %s: address %s leased", t->id, addr);
	r = start_async(t, task, td, dir, &e);
	if (r < 0) {
		fail_start(t, task, e.msg);
		return;
	}
	/* PENDING is held, to go in one transaction with RUNNING (or the failed
	 * start) when the start is quick: a sync of its own would slow the
	 * start helper's own writes to the same disk.  A timer sends it when
	 * the start takes longer (PENDING_HOLD_USEC), shutdown sends it too;
	 * after kill -9 the task dir tells that the start began, and restore
	 * re-adopts the task. */
	t->pending_held = true;
	t->reported = TASK_PENDING;
	agent_hold_pending(t->a);
}

static bool started(struct atask *t)
{
	char dir[PATH_MAX];
	struct stat st;

	task_dir(t, dir, sizeof(dir));
	return stat(dir, &st) == 0;
}

int agent_shim_stop(struct agent *a, const char *id, const char *reason)
{
	struct atask tmp = { .a = a };
	_cleanup_(cJSON_Deletep) cJSON *req = cJSON_CreateObject();
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int fd = -1;
	char ack[256];
	int r;

	snprintf(tmp.id, sizeof(tmp.id), "%s", id);
	if (!req || !cJSON_AddStringToObject(req, "op", "stop") ||
	    !cJSON_AddStringToObject(req, "reason", reason ? reason : "Task stopped by user") ||
	    !(line = cJSON_PrintUnformatted(req)))
		return -ENOMEM;
	fd = connect_shim(&tmp);
	if (fd < 0)
		return fd;
	r = send_line(fd, line);
	if (r == 0)
		r = send_line(fd, "\n");
	/* The shim answers at once ({"ok":true}); reading it tells that it took
	 * the request.  A bounded wait: the socket is local. */
	if (r == 0) {
		struct timeval tv = { .tv_sec = 2 };

		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read(fd, ack, sizeof(ack)) <= 0)
			r = -EIO;
	}
	return r;
}

void atask_process(struct atask *t)
{
	_cleanup_(cJSON_Deletep) cJSON *task = NULL, *td = NULL;
	struct err e = ERR_INIT;
	const char *desired, *last;
	int r;

	t->check = false;
	t->recheck = t->spawning;
	if (t->spawning)
		return;
	r = link_task_for_agent(t->a->link, t->cluster, t->id, &task, &td, &e);
	if (r < 0) {
		if (r != -ENOENT)
			log_error("task %s: %s", t->id, e.msg);
		return;
	}
	desired = json_get_str(task, "desiredStatus");
	last = json_get_str(task, "lastStatus");
	if (last && task_status_parse(last) > (int)t->reported)
		t->reported = (enum task_status)task_status_parse(last);
	if (t->done || (last && strcmp(last, "STOPPED") == 0)) {
		t->done = true;
		return;
	}
	if (desired && strcmp(desired, "STOPPED") == 0) {
		if (!started(t)) {
			fail_start(t, task, json_get_str(task, "stoppedReason") ? json_get_str(task, "stoppedReason")
								   : "Task stopped by user");
			return;
		}
		if (agent_shim_stop(t->a, t->id, json_get_str(task, "stoppedReason")) < 0)
			settle_from_file(t);
		return;
	}
	if (started(t)) {
		attach(t);
		return;
	}
	/* Recorded as started, and its task dir is gone: $BERTH_RUN_DIR (a
	 * tmpfs) went with a host restart, and the task's processes with it.
	 * Never start a task twice. */
	if (t->reported >= TASK_PENDING) {
		fail_start(t, task, "TaskFailedToStart: the host restarted; the task's processes "
			   "are gone");
		return;
	}
	start(t, task, td);
}

void atask_adopt(struct atask *t)
{
	if (started(t)) {
		load_pull_stopped(t);
		attach(t);
	}
	t->check = true; /* then see whether it is wanted stopped or not started yet */
}
