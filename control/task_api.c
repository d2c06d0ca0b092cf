/* control/task_api.c - StopTask, DescribeTasks, ListTasks, and the agent's
 * calls (control.h): its view of a task, its state reports, the tasks it
 * must find running, retention. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "control/task_state.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define BAD "InvalidParameterException"
#define DESCRIBE_MAX 100
#define EXPIRE_BATCH 100

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "build task");
}

static int load_task(struct control *c, const char *cluster, const char *id, cJSON **ret,
		     struct err *e)
{
	_cleanup_free_ char *text = NULL;
	int r = store_task_get(c->st, cluster, id, &text, e);

	if (r < 0)
		return r;
	*ret = cJSON_Parse(text);
	return *ret ? 0 : err_setx(e, -EIO, "store: corrupt task '%s'", id);
}

/* Writes the state of DOC back (its reservations and filters stay). */
static int save_task(struct control *c, const char *cluster, const char *id, const cJSON *doc,
		     struct err *e)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(doc);
	const char *ls = json_get_str(doc, "lastStatus");
	double stopped = 0;

	if (!text)
		return nomem(e);
	if (ls && strcmp(ls, "STOPPED") == 0)
		stopped = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "stoppedAt"));
	return store_task_update(c->st, cluster, id, ls, json_get_str(doc, "desiredStatus"), text,
				 stopped > 0 ? stopped : 0, e);
}

/* The instance id in a task's containerInstanceArn. */
static const char *instance_of(const cJSON *doc)
{
	const char *arn = json_get_str(doc, "containerInstanceArn"), *slash = arn ? strrchr(arn, '/') : NULL;

	return slash ? slash + 1 : "";
}

int ctl_notify_task(struct control *c, const char *cluster, const char *task_id,
		    const char *instance_id)
{
	struct ctl_note *n;

	if (c->n_notes == c->cap_notes) {
		size_t cap = c->cap_notes ? 2 * c->cap_notes : 16;
		void *p = realloc(c->notes, cap * sizeof(*c->notes));

		if (!p)
			return -ENOMEM;
		c->notes = p;
		c->cap_notes = cap;
	}
	n = &c->notes[c->n_notes++];
	snprintf(n->cluster, sizeof(n->cluster), "%s", cluster);
	snprintf(n->task_id, sizeof(n->task_id), "%s", task_id);
	snprintf(n->instance_id, sizeof(n->instance_id), "%s", instance_id);
	return 0;
}

void control_set_task_listener(struct control *c, control_task_cb *cb, void *data)
{
	c->task_cb = cb;
	c->task_cb_data = data;
}

int act_stop_task(struct control *c, const cJSON *req, const char *principal, cJSON **ret,
		  struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const char *ref = json_get_str(req, "task"), *reason = json_get_str(req, "reason");
	char cluster[NAME_MAX_LEN + 1], id[NAME_MAX_LEN + 1];
	bool changed;
	int r;

	(void)principal;
	if (!resp)
		return nomem(e);
	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	if (reason && strlen(reason) > 1024)
		return err_api(e, BAD, "reason must be at most 1024 characters.");
	if (ctl_id_ref(c, ref, ARN_TASK, cluster, id) < 0)
		return err_api(e, BAD, "The referenced task was not found.");
	r = load_task(c, cluster, id, &doc, e);
	if (r == -ENOENT)
		return err_api(e, BAD, "The referenced task was not found.");
	if (r < 0)
		return r;
	if (task_stop_request(doc, reason, ctl_now(), &changed) < 0)
		return nomem(e);
	if (changed) {
		r = save_task(c, cluster, id, doc, e);
		if (r >= 0)
			r = ctl_notify_task(c, cluster, id, instance_of(doc)) < 0 ? nomem(e) : 0;
		if (r < 0)
			return r;
	}
	if (json_add(resp, "task", TAKE_PTR(doc)) < 0)
		return nomem(e);
	*ret = TAKE_PTR(resp);
	return 0;
}

static bool include_tags(const cJSON *req)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "include"))
		if (strcmp(it->valuestring, "TAGS") == 0)
			return true;
	return false;
}

static int describe_one(struct control *c, const char *cluster, const char *ref, bool tags,
			cJSON *out, cJSON *failures, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	char id[NAME_MAX_LEN + 1], arn[ARN_MAX];
	cJSON *t = NULL;
	int r;

	if (ctl_id_ref(c, ref, ARN_TASK, cluster, id) < 0) {
		snprintf(arn, sizeof(arn), "%.1000s", ref);
		return ctl_add_failure(failures, arn, "MISSING", NULL) < 0 ? nomem(e) : 0;
	}
	r = load_task(c, cluster, id, &doc, e);
	if (r == -ENOENT) {
		ctl_arn(c, ARN_TASK, cluster, id, 0, arn);
		return ctl_add_failure(failures, arn, "MISSING", NULL) < 0 ? nomem(e) : 0;
	}
	if (r < 0)
		return r;
	if (tags) {
		r = tags_to_json(c, json_get_str(doc, "taskArn"), &t, e);
		if (r < 0)
			return r;
		if (json_add(doc, "tags", t) < 0)
			return nomem(e);
	}
	return json_append(out, TAKE_PTR(doc)) < 0 ? nomem(e) : 0;
}

int act_describe_tasks(struct control *c, const cJSON *req, const char *principal, cJSON **ret,
		       struct err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "tasks"), *it;
	char cluster[NAME_MAX_LEN + 1];
	cJSON *out, *failures;
	int r;

	(void)principal;
	if (cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > DESCRIBE_MAX)
		return err_api(e, BAD, "tasks must name 1 to %d tasks.", DESCRIBE_MAX);
	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	if (reply_with_failures(ret, "tasks", &out, &failures) < 0)
		return nomem(e);
	cJSON_ArrayForEach(it, list) {
		r = describe_one(c, cluster, it->valuestring, include_tags(req), out, failures, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int list_cb(const char *cluster, const char *id, void *data)
{
	struct pager *p = data;
	char arn[ARN_MAX];

	if (ctl_arn(p->c, ARN_TASK, cluster, id, 0, arn) < 0)
		return -ENAMETOOLONG;
	return pager_add(p, cJSON_CreateString(arn), cJSON_CreateString(id));
}

/* ListTasks' filters -> query; the filter text binds the page token. */
static int list_query(struct control *c, const cJSON *req, char *cluster, char *instance,
		      struct store_task_query *q, bool *ret_empty, struct err *e)
{
	const char *ci = json_get_str(req, "containerInstance"), *ds = json_get_str(req, "desiredStatus");
	const char *lt = json_get_str(req, "launchType");
	int r;

	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	q->cluster = cluster;
	q->family = json_get_str(req, "family");
	q->service = json_get_str(req, "serviceName");
	q->started_by = json_get_str(req, "startedBy");
	if (q->started_by && (ci || q->family || q->service))
		return err_api(e, BAD, "startedBy must be the only filter: it cannot be combined "
			       "with containerInstance, family or serviceName.");
	if (ci && ctl_id_ref(c, ci, ARN_CONTAINER_INSTANCE, cluster, instance) < 0)
		return err_api(e, BAD, "Invalid containerInstance '%.255s'.", ci);
	q->instance = ci ? instance : NULL;
	q->desired_status = ds ? ds : "RUNNING";
	/* PENDING is never a desired status; all berth tasks are EC2. */
	*ret_empty = strcmp(q->desired_status, "PENDING") == 0 || (lt && strcmp(lt, "EC2") != 0);
	return 0;
}

int act_list_tasks(struct control *c, const cJSON *req, const char *principal, cJSON **ret,
		   struct err *e)
{
	_cleanup_free_ char *filter = NULL;
	char cluster[NAME_MAX_LEN + 1], instance[NAME_MAX_LEN + 1];
	struct store_task_query q = { 0 };
	bool empty = false;
	struct pager p;
	int r;

	(void)principal;
	r = list_query(c, req, cluster, instance, &q, &empty, e);
	if (r < 0)
		return r;
	if (asprintf(&filter, "%s|%s|%s|%s|%s|%s|%s", cluster, q.instance ? q.instance : "",
		     q.family ? q.family : "", q.service ? q.service : "",
		     q.started_by ? q.started_by : "", q.desired_status,
		     json_get_str(req, "launchType") ? json_get_str(req, "launchType") : "") < 0) {
		filter = NULL;
		return nomem(e);
	}
	r = pager_start(&p, c, req, "ListTasks", filter, PAGE_MAX, e);
	if (r >= 0)
		r = pager_after_name(&p, &q.after, e);
	if (r < 0)
		return r;
	if (!empty) {
		q.limit = p.limit + 1;
		r = store_task_list(c->st, &q, list_cb, &p, e);
		if (r < 0) {
			pager_release(&p);
			return r == -ENOMEM || r == -ENAMETOOLONG ? err_set(e, r, "ListTasks") : r;
		}
	}
	return pager_finish(&p, "taskArns", ret, e);
}

/* ---- the agent's calls --------------------------------------------------- */

static int in_read_tx(struct control *c, struct err *e)
{
	return store_begin(c->st, false, e);
}

const char *task_instance_of(const cJSON *task)
{
	return instance_of(task);
}

int task_for_agent_tx(struct control *c, const char *cluster, const char *task_id,
		      cJSON **ret_task, cJSON **ret_taskdef, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_(cJSON_Deletep) cJSON *td = NULL;
	_cleanup_free_ char *status = NULL;
	int r;

	r = load_task(c, cluster, task_id, &doc, e);
	if (r >= 0)
		r = taskdef_lookup(c, json_get_str(doc, "taskDefinitionArn"), &status, &td, e);
	if (r < 0)
		return r;
	r = task_effective_taskdef(td, cJSON_GetObjectItemCaseSensitive(doc, "overrides"), ret_taskdef);
	if (r < 0)
		return nomem(e);
	*ret_task = TAKE_PTR(doc);
	return 0;
}

int control_task_for_agent(struct control *c, const char *cluster, const char *task_id,
			   cJSON **ret_task, cJSON **ret_taskdef, struct err *e)
{
	int r;

	r = in_read_tx(c, e);
	if (r < 0)
		return r;
	r = task_for_agent_tx(c, cluster, task_id, ret_task, ret_taskdef, e);
	store_rollback(c->st);
	return r;
}

int task_reports_tx(struct control *c, const char *cluster, const char *task_id,
		    const cJSON *const *reports, size_t n, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	bool changed = false;
	double now = ctl_now();
	int r;

	r = load_task(c, cluster, task_id, &doc, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		bool one = false;

		r = task_report_apply(doc, reports[i], now, &one, e);
		changed |= one;
	}
	if (r >= 0 && changed)
		r = save_task(c, cluster, task_id, doc, e);
	return r;
}

int control_task_reports(struct control *c, const char *cluster, const char *task_id,
			 const cJSON *const *reports, size_t n, struct err *e)
{
	int r;

	r = store_begin(c->st, true, e);
	if (r < 0)
		return r;
	r = task_reports_tx(c, cluster, task_id, reports, n, e);
	if (r < 0) {
		store_rollback(c->st);
		return r;
	}
	return store_commit(c->st, e);
}

int control_task_report(struct control *c, const char *cluster, const char *task_id,
			const cJSON *report, struct err *e)
{
	return control_task_reports(c, cluster, task_id, &report, 1, e);
}

int control_instance_tasks(struct control *c, const char *cluster, const char *instance_id,
			   control_task_id_cb *cb, void *data, struct err *e)
{
	struct id_list l = { 0 };
	int r;

	/* Collected first: the callback may run its own transactions. */
	r = in_read_tx(c, e);
	if (r < 0)
		return r;
	r = instance_task_ids(c, cluster, instance_id, &l, e);
	store_rollback(c->st);
	for (size_t i = 0; r >= 0 && i < l.n; i++)
		r = cb(cluster, l.v[i], data);
	free(l.v);
	return r == -ENOMEM ? nomem(e) : r;
}

struct expired {
	char cluster[NAME_MAX_LEN + 1], id[NAME_MAX_LEN + 1];
};

struct exp_acc {
	struct expired list[EXPIRE_BATCH];
	size_t n;
};

static int collect_expired(const char *cluster, const char *id, void *data)
{
	struct exp_acc *a = data;

	if (a->n == EXPIRE_BATCH)
		return 1;
	snprintf(a->list[a->n].cluster, sizeof(a->list[a->n].cluster), "%s", cluster);
	snprintf(a->list[a->n].id, sizeof(a->list[a->n].id), "%s", id);
	a->n++;
	return 0;
}

int control_expire_tasks(struct control *c, double before, unsigned *ret_n, struct err *e)
{
	_cleanup_free_ struct exp_acc *a = calloc(1, sizeof(*a));
	char arn[ARN_MAX];
	int r;

	*ret_n = 0;
	if (!a)
		return nomem(e);
	r = store_begin(c->st, true, e);
	if (r < 0)
		return r;
	r = store_task_expired(c->st, before, EXPIRE_BATCH, collect_expired, a, e);
	for (size_t i = 0; r >= 0 && i < a->n; i++) {
		r = store_task_delete(c->st, a->list[i].cluster, a->list[i].id, e);
		if (r >= 0 && ctl_arn(c, ARN_TASK, a->list[i].cluster, a->list[i].id, 0, arn) >= 0)
			r = store_tags_delete_all(c->st, arn, e);
	}
	if (r < 0) {
		store_rollback(c->st);
		return r;
	}
	if (a->n == 0) {
		store_rollback(c->st); /* nothing to write: no fsync when idle */
		return 0;
	}
	*ret_n = (unsigned)a->n;
	return store_commit(c->st, e);
}
