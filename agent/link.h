/* agent/link.h - how the agent reaches its control plane.
 *
 * The agent calls its control plane through this small table, so the same
 * task code runs embedded in `berth daemon` (direct control_* calls, same
 * loop) and as `berth agent --controller URL` on another host (the
 * AGENT-PROTOCOL over HTTP with SigV4: registration, a long-poll for the
 * work, reports queued and sent in order).  Every call keeps the meaning of
 * its control/control.h namesake; the remote link answers task lookups
 * from the last BerthPollWork answer and queues reports (0 = accepted:
 * they are retried until the control plane takes them).
 */
#pragma once

#include <stddef.h>
#include <cjson/cJSON.h>

#include "control/control.h"
#include "lib/err.h"

struct link;
struct loop;

struct link_ops {
	int (*register_instance)(struct link *l, const struct control_instance_reg *reg,
				 struct err *e);
	void (*set_task_listener)(struct link *l, control_task_cb *cb, void *data);
	int (*task_for_agent)(struct link *l, const char *cluster, const char *task_id,
			      cJSON **ret_task, cJSON **ret_taskdef, struct err *e);
	int (*task_reports)(struct link *l, const char *cluster, const char *task_id,
			    const cJSON *const *reports, size_t n, struct err *e);
	int (*instance_tasks)(struct link *l, const char *cluster, const char *instance_id,
			      control_task_id_cb *cb, void *data, struct err *e);
	int (*expire_tasks)(struct link *l, double before, unsigned *ret_n, struct err *e);
	void (*free)(struct link *l);
};

struct link {
	const struct link_ops *ops;
};

/* Direct calls into C, in the daemon's loop. */
int link_embedded_new(struct control *c, struct link **ret);

/* The control plane at URL ("http://host:port"), signed with the agent's key. */
struct link_remote_opts {
	struct loop *loop;
	const char *url;
	const char *access_key_id, *secret_access_key;
	const char *region;              /* SigV4 scope */
	unsigned wait_sec;               /* BerthPollWork waitSeconds (1..20) */
};
int link_remote_new(const struct link_remote_opts *o, struct link **ret, struct err *e);
/* The code a remote link ends the loop with when the control plane refuses
 * its polls for good (the reason is logged). */
#define LINK_REFUSED 1

/* Accepts NULL; returns NULL. */
static inline struct link *link_free(struct link *l)
{
	if (l)
		l->ops->free(l);
	return NULL;
}

static inline int link_register_instance(struct link *l, const struct control_instance_reg *reg,
					 struct err *e)
{
	return l->ops->register_instance(l, reg, e);
}

static inline void link_set_task_listener(struct link *l, control_task_cb *cb, void *data)
{
	l->ops->set_task_listener(l, cb, data);
}

static inline int link_task_for_agent(struct link *l, const char *cluster, const char *task_id,
				      cJSON **ret_task, cJSON **ret_taskdef, struct err *e)
{
	return l->ops->task_for_agent(l, cluster, task_id, ret_task, ret_taskdef, e);
}

static inline int link_task_reports(struct link *l, const char *cluster, const char *task_id,
				    const cJSON *const *reports, size_t n, struct err *e)
{
	return l->ops->task_reports(l, cluster, task_id, reports, n, e);
}

static inline int link_instance_tasks(struct link *l, const char *cluster, const char *instance_id,
				      control_task_id_cb *cb, void *data, struct err *e)
{
	return l->ops->instance_tasks(l, cluster, instance_id, cb, data, e);
}

static inline int link_expire_tasks(struct link *l, double before, unsigned *ret_n, struct err *e)
{
	return l->ops->expire_tasks(l, before, ret_n, e);
}
