/* control/cluster.c - CreateCluster, DescribeClusters, ListClusters,
 * DeleteCluster.  A cluster is stored as its API document (arn, name,
 * status, settings, configuration, capacity providers); counts and
 * statistics are computed from the store on every read, tags live in the
 * tags table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "lib/cleanup.h"

#define BAD "InvalidParameterException"
#define DESCRIBE_MAX 100

static int not_found(struct err *e)
{
	return err_api(e, "ClusterNotFoundException", "Cluster not found.");
}

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "build cluster");
}

static cJSON *default_settings(void)
{
	cJSON *list = cJSON_CreateArray(), *s = cJSON_CreateObject();

	if (!list || !s || json_add_str(s, "name", "containerInsights") < 0 ||
	    json_add_str(s, "value", "disabled") < 0 || json_append(list, s) < 0) {
		cJSON_Delete(list);
		return NULL;
	}
	return list;
}

/* A new ACTIVE cluster document from a CreateCluster request. */
static int new_cluster_doc(struct control *c, const char *name, const cJSON *req,
			   cJSON **ret, struct err *e)
{
	static const char *const copied[] = {
		"configuration", "serviceConnectDefaults",
	};
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
	const cJSON *settings = cJSON_GetObjectItemCaseSensitive(req, "settings");
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(req, "capacityProviders");
	const cJSON *strat = cJSON_GetObjectItemCaseSensitive(req, "defaultCapacityProviderStrategy");
	char arn[ARN_MAX];

	if (!doc || ctl_arn(c, ARN_CLUSTER, NULL, name, 0, arn) < 0)
		return nomem(e);
	if (json_add_str(doc, "clusterArn", arn) < 0 || json_add_str(doc, "clusterName", name) < 0 ||
	    json_add_str(doc, "status", "ACTIVE") < 0 ||
	    json_add(doc, "settings", settings ? cJSON_Duplicate(settings, true)
					       : default_settings()) < 0 ||
	    json_add(doc, "capacityProviders", cp ? cJSON_Duplicate(cp, true)
						  : cJSON_CreateArray()) < 0 ||
	    json_add(doc, "defaultCapacityProviderStrategy",
		     strat ? cJSON_Duplicate(strat, true) : cJSON_CreateArray()) < 0)
		return nomem(e);
	for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, copied[i]);

		if (v && json_add(doc, copied[i], cJSON_Duplicate(v, true)) < 0)
			return nomem(e);
	}
	*ret = TAKE_PTR(doc);
	return 0;
}

static bool is_builtin_provider(const char *s)
{
	return strcmp(s, "FARGATE") == 0 || strcmp(s, "FARGATE_SPOT") == 0;
}

static bool list_has(const cJSON *list, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list)
		if (strcmp(it->valuestring, s) == 0)
			return true;
	return false;
}

static int check_create(const cJSON *req, struct err *e)
{
	const cJSON *it, *cps = cJSON_GetObjectItemCaseSensitive(req, "capacityProviders");
	int bases = 0;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "settings")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");

		if (!cJSON_GetObjectItemCaseSensitive(it, "name") || !v ||
		    (strcmp(v->valuestring, "enabled") && strcmp(v->valuestring, "disabled") &&
		     strcmp(v->valuestring, "enhanced")))
			return err_api(e, BAD, "Cluster setting containerInsights must be enabled, "
				       "disabled or enhanced.");
	}
	/* Only the built-in providers exist until capacity providers land. */
	cJSON_ArrayForEach(it, cps)
		if (!is_builtin_provider(it->valuestring))
			return err_api(e, BAD, "The specified capacity provider '%.64s' does not "
				       "exist.", it->valuestring);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "defaultCapacityProviderStrategy")) {
		const char *name = cJSON_GetObjectItemCaseSensitive(it, "capacityProvider")->valuestring;
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "weight");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, "base");

		if (!list_has(cps, name))
			return err_api(e, BAD, "The capacity provider '%.64s' in the default "
				       "strategy is not associated with the cluster.", name);
		if (w && (w->valuedouble < 0 || w->valuedouble > 1000))
			return err_api(e, BAD, "Capacity provider weight must be between 0 and 1000.");
		if (b && (b->valuedouble < 0 || b->valuedouble > 100000))
			return err_api(e, BAD, "Capacity provider base must be between 0 and 100000.");
		if (b && b->valuedouble > 0 && ++bases > 1)
			return err_api(e, BAD, "Only one capacity provider in a strategy can have a "
				       "base defined.");
	}
	return 0;
}

/* The API object: stored document + counts (+ statistics, tags on request). */
struct view {
	bool settings, configurations, statistics, tags;
};

static int add_statistics(cJSON *doc, const struct store_cluster_counts *n)
{
	const struct { const char *name; int64_t v; } stats[] = {
		{ "runningEC2TasksCount", n->tasks_running },
		{ "runningFargateTasksCount", 0 },
		{ "pendingEC2TasksCount", n->tasks_pending },
		{ "pendingFargateTasksCount", 0 },
		{ "activeEC2ServiceCount", n->services },
		{ "activeFargateServiceCount", 0 },
		{ "drainingEC2ServiceCount", 0 },
		{ "drainingFargateServiceCount", 0 },
	};
	cJSON *list = cJSON_CreateArray();
	char buf[32];

	if (json_add(doc, "statistics", list) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(stats); i++) {
		cJSON *s = cJSON_CreateObject();

		snprintf(buf, sizeof(buf), "%lld", (long long)stats[i].v);
		if (json_append(list, s) < 0 || json_add_str(s, "name", stats[i].name) < 0 ||
		    json_add_str(s, "value", buf) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The API object of the stored document DOC (consumed). */
static int cluster_view(struct control *c, const char *name, cJSON *stored,
			const struct view *v, cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = stored;
	struct store_cluster_counts n = { 0 };
	cJSON *tags = NULL;
	int r;

	if (!doc)
		return err_setx(e, -EIO, "store: corrupt cluster '%s'", name);
	r = store_cluster_counts(c->st, name, &n, e);
	if (r < 0)
		return r;
	if (json_add_num(doc, "registeredContainerInstancesCount", (double)n.instances) < 0 ||
	    json_add_num(doc, "runningTasksCount", (double)n.tasks_running) < 0 ||
	    json_add_num(doc, "pendingTasksCount", (double)n.tasks_pending) < 0 ||
	    json_add_num(doc, "activeServicesCount", (double)n.services) < 0)
		return nomem(e);
	if (v->statistics ? add_statistics(doc, &n) < 0
			  : json_add(doc, "statistics", cJSON_CreateArray()) < 0)
		return nomem(e);
	if (v->tags) {
		r = tags_to_json(c, cJSON_GetObjectItemCaseSensitive(doc, "clusterArn")->valuestring,
				 &tags, e);
		if (r < 0)
			return r;
	}
	if (json_add(doc, "tags", tags ? tags : cJSON_CreateArray()) < 0)
		return nomem(e);
	if (!v->settings)
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "settings");
	if (!v->configurations)
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "configuration");
	*ret = TAKE_PTR(doc);
	return 0;
}

static int put_doc(struct control *c, const char *name, const char *status, const cJSON *doc,
		   struct err *e)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(doc);

	if (!text)
		return nomem(e);
	return store_cluster_put(c->st, name, status, text, e);
}

int cluster_ensure(struct control *c, const char *name, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_(cJSON_Deletep) cJSON *empty = cJSON_CreateObject();
	_cleanup_free_ char *status = NULL;
	int r;

	r = store_cluster_get(c->st, name, &status, NULL, e);
	if (r == 0 && strcmp(status, "ACTIVE") == 0)
		return 0;
	if (r < 0 && r != -ENOENT)
		return r;
	r = new_cluster_doc(c, name, empty, &doc, e);
	if (r < 0)
		return r;
	return put_doc(c, name, "ACTIVE", doc, e);
}

int act_create_cluster(struct control *c, const cJSON *req, const char *principal,
		       cJSON **ret, struct err *e)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "clusterName");
	const char *name = n ? n->valuestring : c->default_cluster;
	_cleanup_free_ char *status = NULL, *text = NULL;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const struct view all = { true, true, false, true };
	cJSON *view = NULL;
	int r;

	(void)principal;
	if (!ecs_name_is_valid(name))
		return err_api(e, BAD, "Cluster name must be 1 to 255 letters (uppercase and "
			       "lowercase), numbers, hyphens, and underscores.");
	r = check_create(req, e);
	if (r < 0)
		return r;
	r = tags_check(cJSON_GetObjectItemCaseSensitive(req, "tags"), e);
	if (r < 0)
		return r;
	r = store_cluster_get(c->st, name, &status, &text, e);
	if (r < 0 && r != -ENOENT)
		return r;
	/* An ACTIVE cluster of that name is returned as it is (CreateCluster is
	 * idempotent); an INACTIVE one is created afresh. */
	if (r == -ENOENT || strcmp(status, "ACTIVE") != 0) {
		char arn[ARN_MAX];

		r = new_cluster_doc(c, name, req, &doc, e);
		if (r < 0)
			return r;
		ctl_arn(c, ARN_CLUSTER, NULL, name, 0, arn);
		r = store_tags_delete_all(c->st, arn, e);
		if (r >= 0)
			r = tags_apply(c, arn, cJSON_GetObjectItemCaseSensitive(req, "tags"), e);
		if (r >= 0)
			r = put_doc(c, name, "ACTIVE", doc, e);
		if (r < 0)
			return r;
	} else if (!(doc = cJSON_Parse(text))) {
		return err_setx(e, -EIO, "store: corrupt cluster '%s'", name);
	}
	r = cluster_view(c, name, TAKE_PTR(doc), &all, &view, e);
	if (r < 0)
		return r;
	return reply_object(ret, "cluster", view) < 0 ? nomem(e) : 0;
}

static int parse_include(const cJSON *req, struct view *v)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "include")) {
		if (strcmp(it->valuestring, "SETTINGS") == 0)
			v->settings = true;
		else if (strcmp(it->valuestring, "CONFIGURATIONS") == 0)
			v->configurations = true;
		else if (strcmp(it->valuestring, "STATISTICS") == 0)
			v->statistics = true;
		else if (strcmp(it->valuestring, "TAGS") == 0)
			v->tags = true;
		/* ATTACHMENTS: berth clusters have none. */
	}
	return 0;
}

static int describe_one(struct control *c, const char *ref, const struct view *v,
			cJSON *clusters, cJSON *failures, struct err *e)
{
	_cleanup_free_ char *status = NULL, *text = NULL;
	char name[NAME_MAX_LEN + 1], arn[ARN_MAX];
	cJSON *view = NULL, *doc;
	struct arn a;
	int r;

	if (cluster_ref_parse(ref, name, &a) < 0 || (a.region[0] && !ctl_arn_is_ours(c, &a))) {
		if (strncmp(ref, "arn:", 4) == 0)
			snprintf(arn, sizeof(arn), "%.1000s", ref);
		else
			snprintf(arn, sizeof(arn), "arn:aws:ecs:%s:%s:cluster/%.255s", c->region,
				 c->account, ref);
		return ctl_add_failure(failures, arn, "MISSING", NULL) < 0 ? nomem(e) : 0;
	}
	r = store_cluster_get(c->st, name, &status, &text, e);
	if (r == -ENOENT) {
		ctl_arn(c, ARN_CLUSTER, NULL, name, 0, arn);
		return ctl_add_failure(failures, arn, "MISSING", NULL) < 0 ? nomem(e) : 0;
	}
	if (r < 0)
		return r;
	doc = cJSON_Parse(text);
	if (!doc)
		return err_setx(e, -EIO, "store: corrupt cluster '%s'", name);
	r = cluster_view(c, name, doc, v, &view, e);
	if (r < 0)
		return r;
	return json_append(clusters, view) < 0 ? nomem(e) : 0;
}

int act_describe_clusters(struct control *c, const cJSON *req, const char *principal,
			  cJSON **ret, struct err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "clusters"), *it;
	cJSON *clusters, *failures;
	struct view v = { 0 };
	int r;

	(void)principal;
	if (cJSON_GetArraySize(list) > DESCRIBE_MAX)
		return err_api(e, BAD, "At most %d clusters can be described at once.",
			       DESCRIBE_MAX);
	parse_include(req, &v);
	if (reply_with_failures(ret, "clusters", &clusters, &failures) < 0)
		return nomem(e);
	if (!list || cJSON_GetArraySize(list) == 0)
		return describe_one(c, c->default_cluster, &v, clusters, failures, e);
	cJSON_ArrayForEach(it, list) {
		r = describe_one(c, it->valuestring, &v, clusters, failures, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int list_cb(const char *name, void *data)
{
	struct pager *p = data;
	char arn[ARN_MAX];

	if (ctl_arn(p->c, ARN_CLUSTER, NULL, name, 0, arn) < 0)
		return -ENAMETOOLONG;
	return pager_add(p, cJSON_CreateString(arn), cJSON_CreateString(name));
}

int act_list_clusters(struct control *c, const cJSON *req, const char *principal,
		      cJSON **ret, struct err *e)
{
	const char *after;
	struct pager p;
	int r;

	(void)principal;
	r = pager_start(&p, c, req, "ListClusters", "", PAGE_MAX, e);
	if (r < 0)
		return r;
	r = pager_after_name(&p, &after, e);
	if (r < 0)
		return r;
	/* One row more than asked tells whether another page exists. */
	r = store_cluster_list(c->st, after, p.limit + 1, list_cb, &p, e);
	if (r < 0) {
		pager_release(&p);
		return r == -ENOMEM || r == -ENAMETOOLONG ? err_set(e, r, "ListClusters") : r;
	}
	return pager_finish(&p, "clusterArns", ret, e);
}

int act_delete_cluster(struct control *c, const cJSON *req, const char *principal,
		       cJSON **ret, struct err *e)
{
	const char *ref = cJSON_GetObjectItemCaseSensitive(req, "cluster")->valuestring;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *status = NULL, *text = NULL;
	struct store_cluster_counts n;
	char name[NAME_MAX_LEN + 1], arn[ARN_MAX];
	const struct view none = { 0 };
	cJSON *view = NULL;
	struct arn a;
	int r;

	(void)principal;
	if (cluster_ref_parse(ref, name, &a) < 0 || (a.region[0] && !ctl_arn_is_ours(c, &a)))
		return not_found(e);
	r = store_cluster_get(c->st, name, &status, &text, e);
	if (r == -ENOENT || (r == 0 && strcmp(status, "ACTIVE") != 0))
		return not_found(e);
	if (r < 0)
		return r;
	r = store_cluster_counts(c->st, name, &n, e);
	if (r < 0)
		return r;
	if (n.instances > 0)
		return err_api(e, "ClusterContainsContainerInstancesException", "The Cluster cannot "
			       "be deleted while Container Instances are active or draining.");
	if (n.services > 0)
		return err_api(e, "ClusterContainsServicesException", "The Cluster cannot be "
			       "deleted while Services are active.");
	if (n.tasks_running + n.tasks_pending > 0)
		return err_api(e, "ClusterContainsTasksException", "The Cluster cannot be deleted "
			       "while Tasks are active.");
	doc = cJSON_Parse(text);
	if (!doc)
		return err_setx(e, -EIO, "store: corrupt cluster '%s'", name);
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "status", cJSON_CreateString("INACTIVE"));
	ctl_arn(c, ARN_CLUSTER, NULL, name, 0, arn);
	r = store_tags_delete_all(c->st, arn, e);
	if (r >= 0)
		r = put_doc(c, name, "INACTIVE", doc, e);
	if (r < 0)
		return r;
	r = cluster_view(c, name, TAKE_PTR(doc), &none, &view, e);
	if (r < 0)
		return r;
	return reply_object(ret, "cluster", view) < 0 ? nomem(e) : 0;
}
