/* runtime/shim_run.h - the running shim's state, shared by shim.c (setup
 * and teardown), shim_task.c (lifecycle), shim_health.c, shim_ctl.c (the
 * socket) and shim_status.c.  Single-threaded: everything runs from the
 * event loop. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lib/loop.h"
#include "runtime/runtime.h"
#include "runtime/shim_int.h"

enum ctr_state { CTR_PENDING, CTR_RUNNING, CTR_STOPPED };
enum health { HEALTH_UNKNOWN, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

struct shim;

struct shim_ctr {
	struct shim *shim;
	struct shim_ctr_spec *spec;
	enum ctr_state state;
	bool started;           /* it ran (a container stopped while pending did not) */
	bool signalled;         /* the stop signal was sent */
	bool dep_timed_out;     /* its startTimeout passed before dependents could go */
	struct rt_container rc;
	/* from the plan, for health checks: the same user, caps and env */
	uid_t uid;
	gid_t gid;
	uint64_t caps;
	const struct seccomp_prog *seccomp;
	char **envp;
	char *hostname_env;
	int out_fd, err_fd;     /* read ends of its stdout/stderr pipes */
	struct shim_logger *log;
	bool has_exit;
	int exit_code;
	bool oom;
	char *reason;           /* owned */
	double started_at, finished_at;
	struct loop_timer *kill_timer, *start_timer;
	/* health */
	enum health health;
	struct loop_timer *health_timer, *health_timeout;
	pid_t check_pid;        /* a running check, or 0 */
	unsigned failures;
	double health_since;    /* when checks began: startPeriod counts from here */
	bool start_period_over;
};

struct shim_client;

struct shim {
	struct loop *loop;
	struct shim_task task;
	struct shim_ctr ctrs[SHIM_MAX_CONTAINERS];
	char task_dir[PATH_MAX];
	char logs_dir[PATH_MAX];
	int listen_fd;
	struct shim_client *clients;
	struct cg_host host;
	struct cg task_cg;
	/* the task's shared namespaces: held by fds; a pid namespace also by
	 * its pid 1, the holder process */
	int net_fd, ipc_fd, pid_fd;
	pid_t holder_pid;
	/* task state */
	bool desired_stopped;
	bool running;           /* reached RUNNING */
	bool finished;
	const char *stop_code;  /* static */
	char *stopped_reason;   /* owned */
	double started_at, stopping_at, stopped_at;
	bool dirty;             /* status changed: written before the loop sleeps */
};

double shim_now(void);
void shim_changed(struct shim *s);

/* shim_task.c */
void shim_schedule(struct shim *s);
/* Stops the task once; later calls keep the first code and reason. */
void shim_task_stop(struct shim *s, const char *code, const char *reason);
const char *shim_ctr_state_name(enum ctr_state st);
enum health shim_task_health(const struct shim *s);
const char *shim_health_name(enum health h);

/* shim_health.c */
void shim_health_start(struct shim_ctr *c);
void shim_health_stop(struct shim_ctr *c);

/* shim_status.c */
void shim_status_json(const struct shim *s, struct sbuf *b);
int shim_status_write(const struct shim *s);

/* shim_ctl.c */
int shim_ctl_listen(struct shim *s);
void shim_ctl_notify(struct shim *s);
void shim_ctl_close_all(struct shim *s);

/* shim_volumes.c: the task's volumes on the host, before the first
 * container (E: the ResourceInitializationError reason); their release at
 * the end; one container's mounts opened as detached mounts into RET and
 * set as P->volumes (free RET with vol_ctr_mounts_free once it started). */
struct vol_ctr_mounts;
int shim_vol_prepare(struct shim *s, struct err *e);
void shim_vol_release(struct shim *s);
int shim_vol_ctr_open(struct shim_ctr *c, struct rt_plan *p, struct vol_ctr_mounts *ret,
		      struct err *e);

/* shim.c: the end, once every container stopped. */
void shim_finish(struct shim *s);
