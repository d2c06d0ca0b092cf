/* control/control.h - the control plane: ECS actions over the store.
 *
 * api/ parses HTTP + JSON and authenticates; control/ validates the request
 * with ECS's rules and wording, runs it as one store transaction and builds
 * the response.  No HTTP here, no sockets.  Single-threaded: called from the
 * daemon's event loop only.
 */
#pragma once

#include <cjson/cJSON.h>

#include "lib/err.h"

struct control;

struct control_opts {
	const char *state_dir;       /* the SQLite database is <state_dir>/berth.db */
	const char *region;          /* for ARNs; default "local" */
	const char *account_id;      /* for ARNs; default "000000000000" */
	const char *default_cluster; /* created on first open; default "default" */
	unsigned heartbeat_timeout_sec; /* agentConnected window; 0: 60 */
};

/* Opens (creating and migrating) the store.  *ret is freed with control_free(). */
int control_open(const struct control_opts *opts, struct control **ret, struct err *e);
/* Accepts NULL; returns NULL. */
struct control *control_free(struct control *c);

/* Runs one ECS action ("CreateCluster", ...).  REQ is the request body (a
 * JSON object; borrowed).  PRINCIPAL names the authenticated caller.  On
 * success *ret_resp is a new object owned by the caller (cJSON_Delete).  On
 * failure returns negative, sets e->type to the ECS exception name
 * ("ClientException", "InvalidParameterException", "ClusterNotFoundException",
 * "UnknownOperationException", "ServerException" for internal failures) and
 * e->msg to ECS's message; nothing is changed. */
int control_call(struct control *c, const char *action, const cJSON *req,
		 const char *principal, cJSON **ret_resp, struct err *e);

/* ---- Long-poll work delivery (BerthPollWork, AGENT-PROTOCOL.md) ---- */

#define CONTROL_HOLD 1
#define CONTROL_HOLD_KEY_MAX 520

/* What a held request waits for: KEY ("<cluster>/<instance id>") changes
 * generation, or WAIT_SEC pass. */
struct control_hold {
	char key[CONTROL_HOLD_KEY_MAX];
	unsigned wait_sec;
};

/* As control_call().  With HOLD non-NULL, a BerthPollWork that has nothing
 * new returns CONTROL_HOLD and fills *HOLD instead of answering (nothing
 * in *ret_resp): the caller keeps the request and calls again when the
 * generation listener names HOLD->key, with HOLD NULL once WAIT_SEC passed
 * (then the same state is answered). */
int control_call_hold(struct control *c, const char *action, const cJSON *req,
		      const char *principal, struct control_hold *hold, cJSON **ret_resp,
		      struct err *e);

/* Called after a commit for each instance whose generation moved, with its
 * hold key. */
typedef void control_generation_cb(void *data, const char *key);
void control_set_generation_listener(struct control *c, control_generation_cb *cb, void *data);

/* ---- The agent's side (agent/ calls these from the same loop; no API). ---- */

#include <stddef.h>
#include <stdint.h>

/* RegisterContainerInstance: the host as a container instance (ECS-REFERENCE
 * 9.3).  ID (32 hex) is chosen and kept by the agent, so a restart is the
 * same instance: registering it again updates its resources and version
 * and keeps its status, attributes and registration time. */
struct control_instance_reg {
	const char *cluster;             /* NULL: the default cluster */
	const char *id;
	const char *hostname;            /* ec2InstanceId */
	int64_t cpu, memory;             /* CPU units, MiB */
	const uint16_t *ports_tcp;       /* reserved host ports */
	size_t n_ports_tcp;
	const uint16_t *ports_udp;
	size_t n_ports_udp;
	const cJSON *attributes;         /* [{name, value?}]; only at first registration */
	const cJSON *tags;               /* [{key, value}]; only at first registration */
	const char *agent_version;
};
int control_register_instance(struct control *c, const struct control_instance_reg *reg,
			      struct err *e);

/* Called after every committed action for each task whose desired status it
 * set (placed with RUNNING, or STOPPED by StopTask), with the instance id
 * the task is on. */
typedef void control_task_cb(void *data, const char *cluster, const char *task_id,
			     const char *instance_id);
void control_set_task_listener(struct control *c, control_task_cb *cb, void *data);

/* What the agent needs to run a task: the task (API object) and its task
 * definition with the task's overrides applied (containerDefinitions
 * merged).  Both new objects owned by the caller.  -ENOENT: no such task. */
int control_task_for_agent(struct control *c, const char *cluster, const char *task_id,
			   cJSON **ret_task, cJSON **ret_taskdef, struct err *e);

/* SubmitTaskStateChange: the agent reports what the task really is.
 * REPORT: {lastStatus, desiredStatus?, stopCode?, stoppedReason?, healthStatus?,
 * pullStartedAt?, pullStoppedAt?, startedAt?, stoppingAt?, stoppedAt?,
 * executionStoppedAt?, attachments?: [{...}], containers?: [{name, lastStatus,
 * exitCode?, reason?, healthStatus?, runtimeId?, networkBindings?: [{...}],
 * networkInterfaces?: [{...}]}]}.  The lists replace what the task had.  lastStatus never goes back (task_state.h);
 * set fields are never unset.  Commits one transaction. */
int control_task_report(struct control *c, const char *cluster, const char *task_id,
			const cJSON *report, struct err *e);
/* REPORTS[0..N) applied in order as one transaction (one commit): the steps
 * a task passes at once (ACTIVATING then RUNNING) cost one sync, and a
 * crash keeps all of them or none.  A bad report refuses the whole batch. */
int control_task_reports(struct control *c, const char *cluster, const char *task_id,
			 const cJSON *const *reports, size_t n, struct err *e);

/* Tasks of INSTANCE on CLUSTER whose last status is not STOPPED (what the
 * agent must find running), ascending by id. */
typedef int control_task_id_cb(const char *cluster, const char *task_id, void *data);
int control_instance_tasks(struct control *c, const char *cluster, const char *instance_id,
			   control_task_id_cb *cb, void *data, struct err *e);

/* Forgets tasks that stopped before BEFORE (epoch seconds): a STOPPED task
 * stays describable for BERTH_TASK_RETENTION.  *ret_n: how many went. */
int control_expire_tasks(struct control *c, double before, unsigned *ret_n, struct err *e);
