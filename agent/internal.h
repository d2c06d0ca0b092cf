/* agent/internal.h - shared by the agent's files. */
#pragma once

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "agent/agent.h"
#include "control/task_state.h"
#include "lib/err.h"

struct img_exec;
struct img_store;
struct loop_timer;

#define AGENT_ID_LEN 32

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define SPEC_MAX_CONTAINERS 10      /* ECS: containers per task definition */

/* ---- host.c: what the instance registers ---- */
struct host_info {
	char id[AGENT_ID_LEN + 1];
	char hostname[256];
	const char *arch;             /* ECS spelling: x86_64, arm64 */
	int64_t cpu, memory;          /* CPU units, MiB (reserved memory taken off) */
	uint16_t ports_tcp[128], ports_udp[128];
	size_t n_tcp, n_udp;
	cJSON *attributes;            /* [{name, value?}] */
	cJSON *tags;                  /* [{key, value}] */
};
int host_info_load(const struct config *cfg, struct host_info *ret, struct err *e);
void host_info_release(struct host_info *h);
/* Pure parts, for tests. */
int host_parse_meminfo(const char *text, int64_t *ret_mib);
const char *host_ecs_arch(const char *machine);
int host_parse_ports(const char *json, uint16_t *out, size_t max, size_t *ret_n);
/* Built-in attributes + the configured ones (JSON object string) + one
 * logging-driver capability per available driver (JSON array string). */
int host_attributes(const char *arch, const char *user_json, const char *drivers_json,
		    cJSON **ret, struct err *e);
/* Reads or creates DIR/instance-id (32 hex). */
int host_instance_id(const char *dir, char id[AGENT_ID_LEN + 1], struct err *e);

/* ---- spec.c: a task's spec.json (pure) ---- */
struct spec_container_in {
	const char *rootfs;
	const struct img_exec *exec;  /* merged with the image config */
};
struct spec_in {
	const cJSON *task;            /* API object */
	const cJSON *taskdef;         /* effective (overrides applied) */
	const char *task_id, *cluster, *state_dir;
	const char *netns_path;       /* bridge/awsvpc: the task's namespace file */
	bool cgroup_enforce;
	const char *cgroup_parent;    /* BERTH_CGROUP_PARENT: tasks and shims below it */
	int64_t pids_limit;           /* 0: none */
	uint64_t stop_timeout_sec;
	/* The task's own addresses (bridge, awsvpc: "ADDR hostname" lines in
	 * each container's /etc/hosts), NULL-terminated; NULL for host/none. */
	char *const *addresses;
	const struct spec_container_in *containers;  /* in containerDefinitions order */
	const cJSON *volumes;         /* agent_volumes_json's object, or NULL */
};
int spec_build(const struct spec_in *in, cJSON **ret);
/* The overrides a container definition makes to its image config; strings
 * borrowed from DEF, vectors malloc'd: release with spec_overrides_release. */
struct img_overrides;
int spec_overrides(const cJSON *def, struct img_overrides *ret);
void spec_overrides_release(struct img_overrides *o);

/* ---- volumes.c: task volumes (volumes/) ---- */
struct agent;
/* spec.json's "volumes" object for the effective task definition TD and the
 * host's settings; E: the ResourceInitializationError reason. */
int agent_volumes_json(struct agent *a, const cJSON *td, cJSON **ret, struct err *e);
/* Host cleanup of task ID's volumes: uses a killed shim left are dropped,
 * scope=task named volumes and $STATE/tasks/<id>/volumes removed. */
int agent_volumes_cleanup(struct agent *a, const char *id);

/* ---- report.c: shim status -> task state reports (pure) ---- */
/* The shim's status object -> a report for control_task_report.  Container
 * OOM kills get ECS's reason. */
int report_from_status(const cJSON *status, cJSON **ret);
/* The lifecycle steps with no work for host/none tasks (ACTIVATING,
 * DEACTIVATING, DEPROVISIONING) strictly between FROM and TO, in order;
 * ACTIVATING and DEACTIVATING only for a task that RAN (reached RUNNING).
 * Returns how many were written to OUT (room for 3). */
size_t report_steps(enum task_status from, enum task_status to, bool ran, enum task_status *out);
/* A report that stops a task that never ran: TaskFailedToStart, REASON on
 * the task and each container. */
int report_failed_start(const cJSON *task, const char *reason, cJSON **ret);

/* ---- net.c: bridge and awsvpc task networks ---- */
struct agent;
struct agent_net;
int agent_net_open(struct agent *a, struct err *e);
void agent_net_free(struct agent *a);
/* After restore: releases what tasks that are gone left (record entries,
 * leases, namespaces) and rebuilds table inet berth from the rest. */
int agent_net_reconcile(struct agent *a, struct err *e);
/* Whether TD's network mode needs a network of the agent's (bridge, awsvpc). */
bool agent_net_wanted(const cJSON *td);
/* The namespace file of ID's network (spec.json netnsPath). */
int agent_net_path(struct agent *a, const char *id, char *buf, size_t size);
/* In the daemon: leases ID's address and maps its host ports, for bridge
 * and awsvpc tasks (host: only the bindings to report; none: nothing), and
 * records them in network.json.  The task dir must exist.  On failure
 * nothing is left and E has ECS's reason. */
int agent_net_setup(struct agent *a, const char *id, const cJSON *td, struct err *e);
/* In the start helper, after agent_net_setup: creates ID's namespace, veth,
 * address and routes at the leased address (bridge, awsvpc; others:
 * nothing).  On failure E has ECS's reason; the lease and ports stay for
 * agent_net_release, which also removes anything this left. */
int agent_net_create(struct agent *a, const char *id, const cJSON *td, struct err *e);
/* ID's own address (bridge, awsvpc) once agent_net_setup made it, "A.B.C.D"
 * into BUF (INET_ADDRSTRLEN); -ENOENT for other tasks. */
int agent_net_address(struct agent *a, const char *id, char *buf);
/* Releases ID's map elements, veth, namespace and lease (idempotent). */
void agent_net_release(struct agent *a, const char *id);
/* Adds the network fields ECS shows once RUNNING (containers'
 * networkBindings / networkInterfaces, attachments; STOPPED: the
 * attachments DELETED) to the report REP. */
int agent_net_report(struct agent *a, const char *id, cJSON *rep, bool stopped);

/* ---- agent.c / task.c: the running agent ---- */
#include "images/ref.h"

struct loop;
struct link;

struct atask {
	struct atask *next;
	struct agent *a;
	char cluster[256];
	char id[AGENT_ID_LEN + 1];
	int watch_fd;                 /* the shim's status stream, or -1 */
	char *buf;                    /* partial line from the stream */
	size_t len, cap;
	enum task_status reported;    /* the last lastStatus sent to control/ */
	bool ran;                     /* reached RUNNING */
	bool check;                   /* look at the store's view again (queued work) */
	bool done;                    /* STOPPED reported: only cleanup is left */
	bool spawning;                /* a helper process is starting the shim */
	bool recheck;                 /* process again once the shim is up */
	double pull_started_at;       /* the start began (reported with PENDING) */
	double pull_stopped_at;       /* images ready (start helper's note), not yet reported */
	bool pending_held;            /* PENDING not sent yet: it goes with the next report */
	struct loop_timer *retry;     /* re-attach after a lost stream */
};

struct agent {
	struct loop *loop;
	struct link *link;            /* to the control plane (owned) */
	const struct config *cfg;
	char *berth_path;
	struct host_info host;
	char cluster[256];
	char run_tasks[PATH_MAX];     /* $BERTH_RUN_DIR/tasks */
	char state_tasks[PATH_MAX];   /* $BERTH_STATE_DIR/tasks */
	struct img_store *img;
	enum img_pull_behavior pull;
	struct atask *tasks;
	struct loop_timer *work;      /* queued task work, outside API callbacks */
	struct loop_timer *sweep;     /* retention and host cleanup */
	struct loop_timer *pending;   /* sends the PENDING reports still held */
	bool pending_armed;
	struct agent_net *net;        /* task networks (net.c) */
	uint64_t cleanup_wait_usec, retention_usec, stop_timeout_usec;
};

struct atask *atask_find(struct agent *a, const char *id);
struct atask *atask_get(struct agent *a, const char *cluster, const char *id);
void atask_free(struct atask *t);
/* Looks at what the store wants for T and acts: start, stop, or nothing. */
void atask_process(struct atask *t);
/* Re-adopts T's shim (restore): attach, or settle a task that never started. */
void atask_adopt(struct atask *t);
/* ---- start_helper.c: in a task's start helper process ---- */
/* The helper's note in the task dir: "PULL-STARTED PULL-STOPPED". */
#define AGENT_NOTE_PULL "pull-stopped-at"
/* mkdir BASE/ID[/NAME] (0700; an existing one is kept), the path into OUT. */
int agent_task_mkdir(const char *base, const char *id, const char *name, char *out, size_t size);
/* NAME holding TEXT in the task dir DIR, best effort. */
void agent_task_note(const char *dir, const char *name, const char *text);
/* The task's network namespace, images -> rootfs, the pull note and
 * spec.json in DIR (the task's run dir).  0 or -errno with ECS's reason in E. */
int atask_start_work(struct atask *t, struct img_store *img, const cJSON *task,
		     const cJSON *td, const char *dir, struct err *e);

static inline double agent_now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

/* Sends T's PENDING if it still holds it (agent.c's timer, shutdown). */
void atask_flush_pending(struct atask *t);
/* A task holds its PENDING report: send it within PENDING_HOLD_USEC. */
void agent_hold_pending(struct agent *a);
/* Asks a shim to stop (by task dir), without an atask (orphans). */
int agent_shim_stop(struct agent *a, const char *id, const char *reason);
/* Removes T's host resources: rootfs mounts, state and run dirs. */
int agent_task_cleanup(struct agent *a, const char *id);
/* Unmounts the rootfs of a stopped task's containers; upper dirs and logs
 * stay until agent_task_cleanup. */
void agent_task_umount(struct agent *a, const char *id);
