/* agent/agent.h - the host agent embedded in `berth daemon`.
 *
 * On start it registers the host as a container instance of BERTH_CLUSTER
 * (the id is kept in $BERTH_STATE_DIR/agent/instance-id, so a restart is
 * the same instance), re-adopts every shim under $BERTH_RUN_DIR/tasks and
 * reconciles the store with what really runs, then starts and stops the
 * tasks control/ places on this instance: images -> rootfs, spec.json, one
 * `berth shim` per task, its status stream turned into task state reports.
 * Everything runs in the daemon's event loop.
 */
#pragma once

#include "lib/config.h"
#include "lib/err.h"

struct agent;
struct control;
struct link;
struct loop;

struct agent_opts {
	struct loop *loop;
	struct control *control;   /* embedded: the daemon's control plane */
	struct link *link;         /* else: a link of agent/link.h, owned by the agent from here */
	const struct config *cfg;
	const char *berth_path;    /* the binary the shim runs from (/proc/self/exe) */
};

int agent_start(const struct agent_opts *o, struct agent **ret, struct err *e);
/* Accepts NULL; returns NULL.  Leaves every task running (live restore). */
struct agent *agent_free(struct agent *a);
