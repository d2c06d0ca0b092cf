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
