/* control/instance_admin.c - what users do to container instances:
 * UpdateContainerInstancesState (ACTIVE <-> DRAINING, ECS-REFERENCE 9.4)
 * and DeregisterContainerInstance (9.5). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "lib/cleanup.h"

#define BAD "InvalidParameterException"
#define UPDATE_MAX 10

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "container instance");
}

/* The stored instance REF names; -ENOENT (no error set) when it names none
 * or a deregistered one.  *ret_arn always gets what to name in failures[]. */
static int lookup(struct control *c, const char *cluster, const char *ref,
		  char id[NAME_MAX_LEN + 1], char **ret_status, cJSON **ret_doc, char arn[ARN_MAX],
		  struct err *e)
{
	int r;

	if (ctl_id_ref(c, ref, ARN_CONTAINER_INSTANCE, cluster, id) < 0) {
		snprintf(arn, ARN_MAX, "%.1000s", ref);
		return -ENOENT;
	}
	ctl_arn(c, ARN_CONTAINER_INSTANCE, cluster, id, 0, arn);
	r = instance_doc(c, cluster, id, ret_status, ret_doc, e);
	if (r == 0 && strcmp(*ret_status, "INACTIVE") == 0) {
		free(*ret_status);
		cJSON_Delete(*ret_doc);
		return -ENOENT;
	}
	return r;
}

static int set_status(cJSON *doc, const char *status)
{
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	cJSON *s = cJSON_CreateString(status);
	cJSON *v = cJSON_CreateNumber(cJSON_IsNumber(ver) ? ver->valuedouble + 1 : 1);

	if (!s || !v || !cJSON_ReplaceItemInObjectCaseSensitive(doc, "status", s) ||
	    !cJSON_ReplaceItemInObjectCaseSensitive(doc, "version", v)) {
		cJSON_Delete(s);
		cJSON_Delete(v);
		return -ENOMEM;
	}
	return 0;
}

static int view_one(struct control *c, const char *cluster, const char *id, cJSON *out,
		    struct err *e)
{
	struct snapshot s;
	cJSON *v = NULL;
	int r = snapshot_load_one(c, cluster, id, &s, e);

	if (r < 0)
		return r;
	r = instance_view(c, cluster, &s, 0, false, &v, e);
	snapshot_release(&s);
	if (r < 0)
		return r;
	return json_append(out, v) < 0 ? nomem(e) : 0;
}

static int update_one(struct control *c, const char *cluster, const char *ref, const char *status,
		      cJSON *out, cJSON *failures, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *cur = NULL;
	char id[NAME_MAX_LEN + 1], arn[ARN_MAX];
	int r;

	r = lookup(c, cluster, ref, id, &cur, &doc, arn, e);
	if (r == -ENOENT)
		return ctl_add_failure(failures, arn, "MISSING", NULL) < 0 ? nomem(e) : 0;
	if (r < 0)
		return r;
	if (strcmp(cur, status) != 0) {
		if (set_status(doc, status) < 0)
			return nomem(e);
		r = instance_put_doc(c, cluster, id, status, doc, e);
		if (r < 0)
			return r;
	}
	return view_one(c, cluster, id, out, e);
}

int act_update_container_instances_state(struct control *c, const cJSON *req,
					 const char *principal, cJSON **ret, struct err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "containerInstances"), *it;
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "status"));
	char cluster[NAME_MAX_LEN + 1];
	cJSON *out, *failures;
	int r;

	(void)principal;
	if (cJSON_GetArraySize(list) == 0 || cJSON_GetArraySize(list) > UPDATE_MAX)
		return err_api(e, BAD, "containerInstances must name 1 to %d container instances.",
			       UPDATE_MAX);
	if (strcmp(status, "ACTIVE") != 0 && strcmp(status, "DRAINING") != 0)
		return err_api(e, BAD, "Container instances can only be set to ACTIVE or DRAINING.");
	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	r = reply_with_failures(ret, "containerInstances", &out, &failures);
	if (r < 0)
		return nomem(e);
	cJSON_ArrayForEach(it, list) {
		r = update_one(c, cluster, it->valuestring, status, out, failures, e);
		if (r < 0) {
			*ret = reply_free(*ret);
			return r;
		}
	}
	return 0;
}

int act_deregister_container_instance(struct control *c, const cJSON *req, const char *principal,
				      cJSON **ret, struct err *e)
{
	const char *ref = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "containerInstance"));
	const cJSON *force = cJSON_GetObjectItemCaseSensitive(req, "force");
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *cur = NULL;
	char cluster[NAME_MAX_LEN + 1], id[NAME_MAX_LEN + 1], arn[ARN_MAX];
	struct store_usage u = { 0 };
	cJSON *views;
	int r;

	(void)principal;
	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	r = lookup(c, cluster, ref, id, &cur, &doc, arn, e);
	if (r == -ENOENT)
		return err_api(e, BAD, "The referenced container instance %.1000s was not found.", arn);
	if (r >= 0)
		r = store_instance_usage(c->st, cluster, id, &u, NULL, NULL, e);
	if (r < 0)
		return r;
	/* ECS's answer to deregistering an instance that still runs tasks. */
	if (!cJSON_IsTrue(force) && u.running + u.pending > 0)
		return err_api(e, BAD, "Found running tasks on the instance.");
	views = cJSON_CreateArray();
	if (!resp || !views || view_one(c, cluster, id, views, e) < 0) {
		cJSON_Delete(views);
		return e->code ? e->code : nomem(e);
	}
	/* The answer shows the instance as it leaves: INACTIVE. */
	if (set_status(doc, "INACTIVE") < 0 ||
	    !cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(views, 0), "status",
						    cJSON_CreateString("INACTIVE")) ||
	    json_add(resp, "containerInstance", cJSON_DetachItemFromArray(views, 0)) < 0) {
		cJSON_Delete(views);
		return nomem(e);
	}
	cJSON_Delete(views);
	r = instance_put_doc(c, cluster, id, "INACTIVE", doc, e);
	if (r < 0)
		return r;
	/* Tasks still there are orphaned (ECS-REFERENCE 9.5): they run on, untracked. */
	live_forget(&c->live, cluster, id);
	*ret = TAKE_PTR(resp);
	return 0;
}
