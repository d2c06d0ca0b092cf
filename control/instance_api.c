/* control/instance_api.c - DescribeContainerInstances, ListContainerInstances
 * (the CQL filter comes with the scheduler issue), and the helpers the task
 * actions share: cluster and id references, failures[]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "lib/cleanup.h"
#include "scheduler/cql.h"
#include "scheduler/instance.h"

#define BAD "InvalidParameterException"
#define DESCRIBE_MAX 100

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "build container instance");
}

int ctl_cluster(struct control *c, const cJSON *req, char name[NAME_MAX_LEN + 1], struct err *e)
{
	const char *ref = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "cluster"));
	_cleanup_free_ char *status = NULL;
	struct arn a;
	int r;

	if (!ref)
		ref = c->default_cluster;
	if (cluster_ref_parse(ref, name, &a) < 0 || (a.region[0] && !ctl_arn_is_ours(c, &a)))
		return err_api(e, "ClusterNotFoundException", "Cluster not found.");
	r = store_cluster_get(c->st, name, &status, NULL, e);
	if (r == -ENOENT || (r == 0 && strcmp(status, "ACTIVE") != 0))
		return err_api(e, "ClusterNotFoundException", "Cluster not found.");
	return r;
}

int ctl_id_ref(const struct control *c, const char *ref, enum arn_kind kind, const char *cluster,
	       char id[NAME_MAX_LEN + 1])
{
	struct arn a;

	if (strncmp(ref, "arn:", 4) != 0) {
		if (!ecs_id_is_valid(ref))
			return -EINVAL;
		snprintf(id, NAME_MAX_LEN + 1, "%s", ref);
		return 0;
	}
	if (arn_parse(ref, &a) < 0 || a.kind != kind || !ctl_arn_is_ours(c, &a) ||
	    strcmp(a.cluster, cluster) != 0)
		return -EINVAL;
	memcpy(id, a.name, NAME_MAX_LEN + 1);
	return 0;
}

static cJSON *remaining(const struct sched_instance *in)
{
	cJSON *list = cJSON_CreateArray();
	const struct { const char *name; int64_t v; } ints[] = {
		{ "CPU", in->remaining_cpu }, { "MEMORY", in->remaining_memory },
	};
	const struct { const char *name; const uint16_t *p; size_t n; } sets[] = {
		{ "PORTS", in->ports_tcp, in->n_ports_tcp },
		{ "PORTS_UDP", in->ports_udp, in->n_ports_udp },
	};
	char buf[8];

	for (size_t i = 0; list && i < ARRAY_SIZE(ints); i++) {
		cJSON *r = cJSON_CreateObject();

		if (json_append(list, r) < 0 || json_add_str(r, "name", ints[i].name) < 0 ||
		    json_add_str(r, "type", "INTEGER") < 0 || json_add_num(r, "doubleValue", 0) < 0 ||
		    json_add_num(r, "longValue", 0) < 0 ||
		    json_add_num(r, "integerValue", (double)ints[i].v) < 0)
			goto fail;
	}
	for (size_t i = 0; list && i < ARRAY_SIZE(sets); i++) {
		cJSON *r = cJSON_CreateObject(), *set = cJSON_CreateArray();

		if (json_append(list, r) < 0 || json_add(r, "stringSetValue", set) < 0 ||
		    json_add_str(r, "name", sets[i].name) < 0 || json_add_str(r, "type", "STRINGSET") < 0 ||
		    json_add_num(r, "doubleValue", 0) < 0 || json_add_num(r, "longValue", 0) < 0 ||
		    json_add_num(r, "integerValue", 0) < 0)
			goto fail;
		for (size_t j = 0; j < sets[i].n; j++) {
			snprintf(buf, sizeof(buf), "%u", sets[i].p[j]);
			if (json_append(set, cJSON_CreateString(buf)) < 0)
				goto fail;
		}
	}
	return list;
fail:
	cJSON_Delete(list);
	return NULL;
}

static const char *status_name(enum sched_instance_status s)
{
	return s == SCHED_INSTANCE_ACTIVE ? "ACTIVE" : s == SCHED_INSTANCE_DRAINING ? "DRAINING"
									      : "INACTIVE";
}

static int add_tags(struct control *c, cJSON *v, struct err *e)
{
	cJSON *t = NULL;
	int r;

	r = tags_to_json(c, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "containerInstanceArn")),
			 &t, e);
	if (r < 0)
		return r;
	return json_add(v, "tags", t) < 0 ? nomem(e) : 0;
}

int instance_view(struct control *c, const char *cluster, const struct snapshot *s, size_t i,
		  bool tags, cJSON **ret, struct err *e)
{
	const struct sched_instance *in = &s->in[i];
	_cleanup_(cJSON_Deletep) cJSON *v = cJSON_Duplicate(snapshot_doc(s, i), true);
	struct store_usage u = { 0 };
	int r;

	r = store_instance_usage(c->st, cluster, in->id, &u, NULL, NULL, e);
	if (r < 0)
		return r;
	if (!v)
		return nomem(e);
	cJSON_DeleteItemFromObjectCaseSensitive(v, "status");
	cJSON_DeleteItemFromObjectCaseSensitive(v, "agentConnected");
	if (json_add(v, "remainingResources", remaining(in)) < 0 ||
	    json_add_num(v, "runningTasksCount", in->running_tasks) < 0 ||
	    json_add_num(v, "pendingTasksCount", (double)u.pending) < 0 ||
	    json_add_str(v, "status", status_name(in->status)) < 0 ||
	    json_add(v, "agentConnected", cJSON_CreateBool(in->agent_connected)) < 0)
		return nomem(e);
	if (tags && (r = add_tags(c, v, e)) < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

static int describe_one(struct control *c, const char *cluster, const struct snapshot *s,
			const char *ref, bool tags, cJSON *out, cJSON *failures, struct err *e)
{
	char id[NAME_MAX_LEN + 1], arn[ARN_MAX];
	cJSON *v = NULL;
	int r;

	if (ctl_id_ref(c, ref, ARN_CONTAINER_INSTANCE, cluster, id) == 0) {
		for (size_t i = 0; i < s->n; i++) {
			if (strcmp(s->in[i].id, id) != 0)
				continue;
			r = instance_view(c, cluster, s, i, tags, &v, e);
			if (r < 0)
				return r;
			return json_append(out, v) < 0 ? nomem(e) : 0;
		}
		ctl_arn(c, ARN_CONTAINER_INSTANCE, cluster, id, 0, arn);
	} else {
		snprintf(arn, sizeof(arn), "%.1000s", ref);
	}
	return ctl_add_failure(failures, arn, "MISSING", NULL) < 0 ? nomem(e) : 0;
}

static bool include_has(const cJSON *req, const char *what)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "include"))
		if (cJSON_IsString(it) && strcmp(it->valuestring, what) == 0)
			return true;
	return false;
}

int act_describe_container_instances(struct control *c, const cJSON *req, const char *principal,
				     cJSON **ret, struct err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "containerInstances"), *it;
	char cluster[NAME_MAX_LEN + 1];
	cJSON *out, *failures;
	struct snapshot s;
	int r;

	(void)principal;
	if (cJSON_GetArraySize(list) == 0 || cJSON_GetArraySize(list) > DESCRIBE_MAX)
		return err_api(e, BAD, "containerInstances must name 1 to %d container instances.",
			       DESCRIBE_MAX);
	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	r = snapshot_load(c, cluster, &s, e);
	if (r < 0)
		return r;
	if (reply_with_failures(ret, "containerInstances", &out, &failures) < 0)
		r = nomem(e);
	cJSON_ArrayForEach(it, list) {
		if (r >= 0)
			r = describe_one(c, cluster, &s, it->valuestring, include_has(req, "TAGS"),
					 out, failures, e);
	}
	snapshot_release(&s);
	return r;
}

struct list_acc {
	struct control *c;
	const char *cluster;
	const struct cql *filter;
	const struct snapshot *s;   /* with a filter: the instances it is evaluated on */
	struct pager pg;
};

static const struct sched_instance *find_in(const struct snapshot *s, const char *id)
{
	size_t lo = 0, hi = s->n;

	/* The snapshot is in id order, as the store lists instances. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(s->in[mid].id, id);

		if (r == 0)
			return &s->in[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int list_cb(const char *id, void *data)
{
	struct list_acc *l = data;
	const struct sched_instance *in;
	char arn[ARN_MAX];

	if (l->filter) {
		in = find_in(l->s, id);
		if (!in || !cql_eval(l->filter, in, NULL))
			return 0;
	}
	if (ctl_arn(l->c, ARN_CONTAINER_INSTANCE, l->cluster, id, 0, arn) < 0)
		return -ENAMETOOLONG;
	return pager_add(&l->pg, cJSON_CreateString(arn), cJSON_CreateString(id));
}

static int list_walk(struct control *c, struct list_acc *l, const char *status, struct err *e)
{
	const char *after;
	int r;

	r = pager_after_name(&l->pg, &after, e);
	if (r < 0)
		return r;
	r = store_instance_list(c->st, l->cluster, status, after, 1 << 30, list_cb, l, e);
	if (r == -ENOMEM || r == -ENAMETOOLONG)
		r = err_set(e, r, "ListContainerInstances");
	if (r < 0)
		pager_release(&l->pg);
	return r < 0 ? r : 0;
}

int act_list_container_instances(struct control *c, const cJSON *req, const char *principal,
				 cJSON **ret, struct err *e)
{
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "status"));
	const char *expr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "filter"));
	_cleanup_(cql_freep) struct cql *q = NULL;
	_cleanup_free_ char *filter = NULL;
	char cluster[NAME_MAX_LEN + 1];
	struct list_acc l = { .c = c, .cluster = cluster };
	struct snapshot s = { 0 };
	int r;

	(void)principal;
	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	/* Syntax errors name the position and what was expected. */
	if (expr && (r = cql_compile(expr, &q, NULL, e)) < 0)
		return r;
	if (asprintf(&filter, "%s|%s|%s", cluster, status ? status : "", expr ? expr : "") < 0)
		return nomem(e);
	if (q && (r = snapshot_load(c, cluster, &s, e)) < 0)
		return r;
	l.filter = q;
	l.s = &s;
	r = pager_start(&l.pg, c, req, "ListContainerInstances", filter, PAGE_MAX, e);
	if (r >= 0)
		r = list_walk(c, &l, status, e);
	if (r >= 0)
		r = pager_finish(&l.pg, "containerInstanceArns", ret, e);
	snapshot_release(&s);
	return r;
}
