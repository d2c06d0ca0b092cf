/* control/internal.h - shared by the control/ action files. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "control/arn.h"
#include "control/control.h"
#include "control/live.h"
#include "lib/err.h"
#include "lib/json.h"
#include "store/store.h"

#define PAGE_KEY_LEN 32
#define PAGE_MAX 100

struct control {
	struct store *st;
	char *region;
	char *account;
	char *default_cluster;
	unsigned char page_key[PAGE_KEY_LEN]; /* MACs pagination tokens */
	control_task_cb *task_cb;
	void *task_cb_data;
	struct ctl_note *notes;               /* sent after commit, dropped on rollback */
	size_t n_notes, cap_notes;
	struct live live;                     /* generations, last contact (live.h) */
	control_generation_cb *gen_cb;
	void *gen_cb_data;
	struct control_hold *hold;            /* this call may be held (BerthPollWork) */
};

struct ctl_note {
	char cluster[NAME_MAX_LEN + 1];
	char task_id[NAME_MAX_LEN + 1];
	char instance_id[NAME_MAX_LEN + 1];
};

/* One action: REQ was checked against the action's model shape already. */
typedef int action_fn(struct control *c, const cJSON *req, const char *principal,
		      cJSON **ret, struct err *e);

action_fn act_create_cluster, act_describe_clusters, act_list_clusters, act_delete_cluster;
action_fn act_register_task_definition, act_describe_task_definition,
	act_list_task_definitions, act_list_task_definition_families,
	act_deregister_task_definition, act_delete_task_definitions;
action_fn act_tag_resource, act_untag_resource, act_list_tags_for_resource;

/* ARN of a resource of this control plane, into BUF (ARN_MAX bytes). */
int ctl_arn(const struct control *c, enum arn_kind kind, const char *cluster, const char *name,
	    int64_t revision, char *buf);
/* True when an ARN parsed from a request belongs to this region/account. */
bool ctl_arn_is_ours(const struct control *c, const struct arn *a);
/* Seconds since the epoch, with fractions, as ECS timestamps are. */
double ctl_now(void);
/* Reports a store failure as ServerException (keeps the store's message). */
int ctl_server_error(struct err *e, int r);

/* cJSON builders that report allocation failure as -ENOMEM. */
int json_add(cJSON *o, const char *k, cJSON *v);
int json_add_str(cJSON *o, const char *k, const char *v);
int json_add_num(cJSON *o, const char *k, double v);
int json_append(cJSON *list, cJSON *v);

/* Pagination (paging.c).  maxResults -> *ret (1..100, default DEF). */
int page_limit(const cJSON *req, int def, int *ret, struct err *e);
/* A token is opaque to clients: base64url(payload).base64url(mac).  The
 * payload names the action and the filters, so a token is refused by another
 * action or with other filters; the MAC refuses a tampered one.  KEY is the
 * position to resume after.  decode: *ret_key = NULL when TOKEN is absent. */
int page_token_encode(const struct control *c, const char *action, const char *filter,
		      const cJSON *key, char **ret);
int page_token_decode(const struct control *c, const char *action, const char *filter,
		      const cJSON *req, cJSON **ret_key, struct err *e);

/* Responses (reply.c).  {NAME: [], failures: []} into *ret; the two lists
 * are borrowed from it.  0 or -ENOMEM. */
int reply_with_failures(cJSON **ret, const char *name, cJSON **ret_list, cJSON **ret_failures);
/* cJSON_Delete; returns NULL. */
cJSON *reply_free(cJSON *resp);
/* {NAME: V} into *ret; V is consumed either way.  0 or -ENOMEM. */
int reply_object(cJSON **ret, const char *name, cJSON *v);

/* Ids collected from a store walk, to act on each once the walk is over
 * (reply.c).  Free V when done. */
struct id_list {
	char (*v)[NAME_MAX_LEN + 1];
	size_t n, cap;
};
/* A store_name_cb: appends ID to the struct id_list DATA.  0 or -ENOMEM. */
int id_list_add(const char *id, void *data);
/* The tasks on INSTANCE whose last status is not STOPPED, ascending. */
int instance_task_ids(struct control *c, const char *cluster, const char *instance,
		      struct id_list *ret, struct err *e);

/* One page of a List* action: items are added in key order until LIMIT;
 * one more means there is a next page, resumed after the last key. */
struct pager {
	struct control *c;
	const char *action, *filter;
	int limit, n;
	bool more;
	cJSON *after;   /* the key to resume after (NULL: from the start) */
	cJSON *items;
	cJSON *last;    /* key of the last item taken */
};
/* Reads maxResults (default DEF_LIMIT) and nextToken. */
int pager_start(struct pager *p, struct control *c, const cJSON *req, const char *action,
		const char *filter, int def_limit, struct err *e);
/* The resume key of a list keyed by name (NULL: from the start); a token
 * whose key is no string is refused (and P released). */
int pager_after_name(struct pager *p, const char **ret, struct err *e);
/* Takes ITEM and KEY (both owned; NULL = out of memory: -ENOMEM).  1 when
 * the page is full (the walk should stop). */
int pager_add(struct pager *p, cJSON *item, cJSON *key);
/* {NAME: items, nextToken?} into *ret; releases P either way. */
int pager_finish(struct pager *p, const char *name, cJSON **ret, struct err *e);
void pager_release(struct pager *p);

/* Tags (tags.c).  TAGS is a list of {key, value} checked against ECS's rules. */
int tags_check(const cJSON *tags, struct err *e);
/* Adds/overwrites TAGS on ARN; refuses going over 50 tags in total. */
int tags_apply(struct control *c, const char *arn, const cJSON *tags, struct err *e);
/* [{key, value}, ...] of ARN, sorted by key. */
int tags_to_json(struct control *c, const char *arn, cJSON **ret, struct err *e);

/* Clusters (cluster.c), for the other action files. */
int cluster_ensure(struct control *c, const char *name, struct err *e);

action_fn act_run_task, act_start_task, act_stop_task, act_describe_tasks, act_list_tasks;
action_fn act_describe_container_instances, act_list_container_instances;
action_fn act_register_container_instance, act_berth_poll_work, act_submit_task_state_change,
	act_submit_container_state_change;
action_fn act_update_container_instances_state, act_deregister_container_instance;
action_fn act_put_attributes, act_delete_attributes, act_list_attributes;

/* The request's "cluster" (default when absent) -> its name; an unknown or
 * inactive cluster is ClusterNotFoundException. */
int ctl_cluster(struct control *c, const cJSON *req, char name[NAME_MAX_LEN + 1], struct err *e);
/* A task or container instance reference: the 32-hex id or its ARN (whose
 * cluster must be CLUSTER and region/account ours).  -EINVAL otherwise. */
int ctl_id_ref(const struct control *c, const char *ref, enum arn_kind kind, const char *cluster,
	       char id[NAME_MAX_LEN + 1]);
/* failures[] entry {arn, reason[, detail]}. */
int ctl_add_failure(cJSON *failures, const char *arn, const char *reason, const char *detail);

/* Task definitions (taskdef.c): REF -> row; -ENOENT (no error set) when it
 * names nothing. */
int taskdef_lookup(struct control *c, const char *ref, char **ret_status, cJSON **ret_doc,
		   struct err *e);

/* Container instances (instance.c). */
struct sched_instance;
struct snapshot {
	struct sched_instance *in;
	size_t n;
	void *owned;   /* per-instance storage */
};
/* The cluster's ACTIVE and DRAINING instances with what their tasks reserve. */
int snapshot_load(struct control *c, const char *cluster, struct snapshot *ret, struct err *e);
void snapshot_release(struct snapshot *s);
/* The stored document of snapshot entry I (borrowed). */
const cJSON *snapshot_doc(const struct snapshot *s, size_t i);
/* A snapshot of the one instance ID (-ENOENT, no error set: none, or INACTIVE). */
int snapshot_load_one(struct control *c, const char *cluster, const char *id,
		      struct snapshot *ret, struct err *e);
/* The DescribeContainerInstances object of snapshot entry I. */
int instance_view(struct control *c, const char *cluster, const struct snapshot *s, size_t i,
		  bool tags, cJSON **ret, struct err *e);
/* Registers or re-registers inside the caller's transaction. */
int instance_register(struct control *c, const char *cluster,
		      const struct control_instance_reg *reg, struct err *e);
int instance_put_doc(struct control *c, const char *cluster, const char *id, const char *status,
		     const cJSON *doc, struct err *e);
/* Milliseconds on the monotonic clock (last contact). */
int64_t ctl_mono_ms(void);
/* The instance's agentConnected now. */
bool ctl_agent_connected(const struct control *c, const char *cluster, const char *id);
/* The task's document (-ENOENT: none) and, in the caller's transaction,
 * what the agent needs to run it. */
int task_for_agent_tx(struct control *c, const char *cluster, const char *task_id,
		      cJSON **ret_task, cJSON **ret_taskdef, struct err *e);
/* control_task_reports() inside the caller's transaction. */
int task_reports_tx(struct control *c, const char *cluster, const char *task_id,
		    const cJSON *const *reports, size_t n, struct err *e);
/* The instance id in a task's containerInstanceArn ("" when none). */
const char *task_instance_of(const cJSON *task);

/* The stored document of instance ID in CLUSTER (-ENOENT: none). */
int instance_doc(struct control *c, const char *cluster, const char *id, char **ret_status,
		 cJSON **ret_doc, struct err *e);

/* Task notifications, sent after the action's commit (control.c). */
int ctl_notify_task(struct control *c, const char *cluster, const char *task_id,
		    const char *instance_id);
