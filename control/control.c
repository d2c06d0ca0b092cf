/* control/control.c - opening the control plane and dispatching actions.
 *
 * Every action runs as one store transaction: the request is checked
 * against its model shape, the handler runs, and the change is committed
 * before the response is handed back; on any failure the transaction is
 * rolled back, so a refused call changes nothing.
 */
#include "control/control.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/internal.h"
#include "control/schema.h"
#include "lib/cleanup.h"

static const struct action {
	const char *name;
	action_fn *fn;
	const struct jshape *shape;
	bool write;
	const char *bad_request;  /* exception for shape violations */
} actions[] = {
	{ "CreateCluster", act_create_cluster, &shape_CreateClusterRequest, true,
	  "InvalidParameterException" },
	{ "DescribeClusters", act_describe_clusters, &shape_DescribeClustersRequest, false,
	  "InvalidParameterException" },
	{ "ListClusters", act_list_clusters, &shape_ListClustersRequest, false,
	  "InvalidParameterException" },
	{ "DeleteCluster", act_delete_cluster, &shape_DeleteClusterRequest, true,
	  "InvalidParameterException" },
	/* ECS reports every task definition problem as ClientException (§1.4). */
	{ "RegisterTaskDefinition", act_register_task_definition,
	  &shape_RegisterTaskDefinitionRequest, true, "ClientException" },
	{ "DescribeTaskDefinition", act_describe_task_definition,
	  &shape_DescribeTaskDefinitionRequest, false, "ClientException" },
	{ "ListTaskDefinitions", act_list_task_definitions, &shape_ListTaskDefinitionsRequest,
	  false, "InvalidParameterException" },
	{ "ListTaskDefinitionFamilies", act_list_task_definition_families,
	  &shape_ListTaskDefinitionFamiliesRequest, false, "InvalidParameterException" },
	{ "DeregisterTaskDefinition", act_deregister_task_definition,
	  &shape_DeregisterTaskDefinitionRequest, true, "ClientException" },
	{ "DeleteTaskDefinitions", act_delete_task_definitions,
	  &shape_DeleteTaskDefinitionsRequest, true, "ClientException" },
	{ "TagResource", act_tag_resource, &shape_TagResourceRequest, true,
	  "InvalidParameterException" },
	{ "UntagResource", act_untag_resource, &shape_UntagResourceRequest, true,
	  "InvalidParameterException" },
	{ "ListTagsForResource", act_list_tags_for_resource, &shape_ListTagsForResourceRequest,
	  false, "InvalidParameterException" },
	{ "RunTask", act_run_task, &shape_RunTaskRequest, true, "InvalidParameterException" },
	{ "StartTask", act_start_task, &shape_StartTaskRequest, true, "InvalidParameterException" },
	{ "StopTask", act_stop_task, &shape_StopTaskRequest, true, "InvalidParameterException" },
	{ "DescribeTasks", act_describe_tasks, &shape_DescribeTasksRequest, false,
	  "InvalidParameterException" },
	{ "ListTasks", act_list_tasks, &shape_ListTasksRequest, false, "InvalidParameterException" },
	{ "DescribeContainerInstances", act_describe_container_instances,
	  &shape_DescribeContainerInstancesRequest, false, "InvalidParameterException" },
	{ "ListContainerInstances", act_list_container_instances,
	  &shape_ListContainerInstancesRequest, false, "InvalidParameterException" },
	{ "UpdateContainerInstancesState", act_update_container_instances_state,
	  &shape_UpdateContainerInstancesStateRequest, true, "InvalidParameterException" },
	{ "DeregisterContainerInstance", act_deregister_container_instance,
	  &shape_DeregisterContainerInstanceRequest, true, "InvalidParameterException" },
	{ "PutAttributes", act_put_attributes, &shape_PutAttributesRequest, true,
	  "InvalidParameterException" },
	{ "DeleteAttributes", act_delete_attributes, &shape_DeleteAttributesRequest, true,
	  "InvalidParameterException" },
	{ "ListAttributes", act_list_attributes, &shape_ListAttributesRequest, false,
	  "InvalidParameterException" },
	/* The agent's actions (AGENT-PROTOCOL.md). */
	{ "RegisterContainerInstance", act_register_container_instance,
	  &shape_BerthRegisterContainerInstanceRequest, true, "InvalidParameterException" },
	{ "BerthPollWork", act_berth_poll_work, &shape_BerthPollWorkRequest, false,
	  "InvalidParameterException" },
	{ "SubmitTaskStateChange", act_submit_task_state_change,
	  &shape_BerthSubmitTaskStateChangeRequest, true, "InvalidParameterException" },
	{ "SubmitContainerStateChange", act_submit_container_state_change,
	  &shape_BerthSubmitContainerStateChangeRequest, true, "InvalidParameterException" },
};

int ctl_arn(const struct control *c, enum arn_kind kind, const char *cluster, const char *name,
	    int64_t revision, char *buf)
{
	struct arn a = { .kind = kind, .revision = revision };

	snprintf(a.cluster, sizeof(a.cluster), "%s", cluster ? cluster : "");
	snprintf(a.name, sizeof(a.name), "%s", name);
	return arn_format(buf, ARN_MAX, c->region, c->account, &a);
}

bool ctl_arn_is_ours(const struct control *c, const struct arn *a)
{
	return strcmp(a->region, c->region) == 0 && strcmp(a->account, c->account) == 0;
}

int64_t ctl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool ctl_agent_connected(const struct control *c, const char *cluster, const char *id)
{
	return live_connected(&c->live, cluster, id, ctl_mono_ms());
}

double ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* Millisecond precision, as ECS reports. */
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

int ctl_server_error(struct err *e, int r)
{
	e->type = "ServerException";
	return r < 0 ? r : -EIO;
}

int json_add(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return -ENOMEM;
	if (!cJSON_AddItemToObject(o, k, v)) {
		cJSON_Delete(v);
		return -ENOMEM;
	}
	return 0;
}

int json_add_str(cJSON *o, const char *k, const char *v)
{
	return json_add(o, k, cJSON_CreateString(v));
}

int json_add_num(cJSON *o, const char *k, double v)
{
	return json_add(o, k, cJSON_CreateNumber(v));
}

int json_append(cJSON *list, cJSON *v)
{
	if (!v)
		return -ENOMEM;
	if (!cJSON_AddItemToArray(list, v)) {
		cJSON_Delete(v);
		return -ENOMEM;
	}
	return 0;
}

/* The key that authenticates nextToken values: made once, kept in the store
 * so tokens stay valid across restarts. */
static int load_page_key(struct control *c, struct err *e)
{
	_cleanup_free_ char *hex = NULL;
	char buf[2 * PAGE_KEY_LEN + 1];
	int r;

	r = store_meta_get(c->st, "page_key", &hex, e);
	if (r == 0 && strlen(hex) == 2 * PAGE_KEY_LEN) {
		for (size_t i = 0; i < PAGE_KEY_LEN; i++)
			if (sscanf(hex + 2 * i, "%2hhx", &c->page_key[i]) != 1)
				return err_setx(e, -EIO, "store: corrupt page_key");
		return 0;
	}
	if (r < 0 && r != -ENOENT)
		return r;
	if (RAND_bytes(c->page_key, PAGE_KEY_LEN) != 1)
		return err_setx(e, -EIO, "generate page key");
	for (size_t i = 0; i < PAGE_KEY_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", c->page_key[i]);
	return store_meta_put(c->st, "page_key", buf, e);
}

static int setup(struct control *c, struct err *e)
{
	int r;

	r = store_begin(c->st, true, e);
	if (r < 0)
		return r;
	r = load_page_key(c, e);
	if (r >= 0)
		r = cluster_ensure(c, c->default_cluster, e);
	if (r < 0) {
		store_rollback(c->st);
		return r;
	}
	/* Nothing changed on a later start: this commit writes nothing. */
	return store_commit(c->st, e);
}

int control_open(const struct control_opts *opts, struct control **ret, struct err *e)
{
	struct control *c;
	int r;

	if (!opts->state_dir)
		return err_setx(e, -EINVAL, "control: no state directory");
	if (opts->default_cluster && !ecs_name_is_valid(opts->default_cluster))
		return err_setx(e, -EINVAL, "control: invalid cluster name '%s'",
				opts->default_cluster);
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(e, -ENOMEM, "control: open");
	c->region = strdup(opts->region ? opts->region : "local");
	c->account = strdup(opts->account_id ? opts->account_id : "000000000000");
	c->default_cluster = strdup(opts->default_cluster ? opts->default_cluster : "default");
	live_init(&c->live, (uint64_t)(ctl_now() * 1000),
		  1000 * (int64_t)(opts->heartbeat_timeout_sec ? opts->heartbeat_timeout_sec : 60));
	if (!c->region || !c->account || !c->default_cluster) {
		control_free(c);
		return err_set(e, -ENOMEM, "control: open");
	}
	r = store_open(opts->state_dir, &c->st, e);
	if (r >= 0)
		r = setup(c, e);
	if (r < 0) {
		control_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

struct control *control_free(struct control *c)
{
	if (!c)
		return NULL;
	store_free(c->st);
	free(c->region);
	free(c->account);
	free(c->default_cluster);
	free(c->notes);
	live_release(&c->live);
	OPENSSL_cleanse(c->page_key, sizeof(c->page_key));
	free(c);
	return NULL;
}

void control_set_generation_listener(struct control *c, control_generation_cb *cb, void *data)
{
	c->gen_cb = cb;
	c->gen_cb_data = data;
}

/* After a commit: each instance that got work moves to a new generation
 * (waking its held poll), and the task listener hears of each task. */
static void send_notes(struct control *c)
{
	char key[CONTROL_HOLD_KEY_MAX];
	size_t n = c->n_notes;

	c->n_notes = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ctl_note *no = &c->notes[i];

		if (!no->instance_id[0])
			continue;
		/* No memory for a new entry: the poll still answers at its timeout. */
		(void)live_bump(&c->live, no->cluster, no->instance_id);
		snprintf(key, sizeof(key), "%s/%s", no->cluster, no->instance_id);
		if (c->gen_cb)
			c->gen_cb(c->gen_cb_data, key);
	}
	for (size_t i = 0; i < n && c->task_cb; i++)
		c->task_cb(c->task_cb_data, c->notes[i].cluster, c->notes[i].task_id,
			   c->notes[i].instance_id);
}

static const struct action *find_action(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

int control_call(struct control *c, const char *action, const cJSON *req,
		 const char *principal, cJSON **ret_resp, struct err *e)
{
	return control_call_hold(c, action, req, principal, NULL, ret_resp, e);
}

int control_call_hold(struct control *c, const char *action, const cJSON *req,
		      const char *principal, struct control_hold *hold, cJSON **ret_resp,
		      struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *resp = NULL;
	_cleanup_(cJSON_Deletep) cJSON *empty = NULL;
	const struct action *a = action ? find_action(action) : NULL;
	bool held;
	int r;

	if (!a)
		return err_api(e, "UnknownOperationException", "Unknown operation %.64s",
			       action ? action : "");
	if (!req)
		req = empty = cJSON_CreateObject();
	if (!req)
		return err_api(e, "ServerException", "out of memory");
	r = schema_check(req, a->shape, a->bad_request, e);
	if (r < 0)
		return r;
	r = store_begin(c->st, a->write, e);
	if (r < 0)
		return ctl_server_error(e, r);
	c->n_notes = 0;
	c->hold = hold;
	r = a->fn(c, req, principal ? principal : "", &resp, e);
	c->hold = NULL;
	if (r < 0) {
		c->n_notes = 0;
		store_rollback(c->st);
		if (!e->type)
			e->type = "ServerException";
		return r;
	}
	held = r == CONTROL_HOLD;
	r = store_commit(c->st, e);
	if (r < 0) {
		c->n_notes = 0;
		return ctl_server_error(e, r);
	}
	send_notes(c);
	if (held)
		return CONTROL_HOLD;
	*ret_resp = TAKE_PTR(resp);
	return 0;
}
