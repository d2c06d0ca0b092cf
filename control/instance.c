/* control/instance.c - container instances: registration (the embedded
 * agent's RegisterContainerInstance), DescribeContainerInstances,
 * ListContainerInstances, and the cluster snapshot placement works on.
 *
 * Stored: the instance document as registered (ARN, ec2InstanceId,
 * registeredResources, attributes, status, versionInfo, registeredAt).
 * remainingResources, runningTasksCount and pendingTasksCount are computed
 * from the tasks on every read (ECS-REFERENCE 9.3: registered minus the
 * reservations of tasks whose desiredStatus is RUNNING). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "lib/cleanup.h"
#include "scheduler/instance.h"

#define BAD "InvalidParameterException"
#define DESCRIBE_MAX 100
#define PORTS_MAX 1024

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "build container instance");
}

static cJSON *resource(const char *name, int64_t v)
{
	cJSON *r = cJSON_CreateObject();

	if (!r || json_add_str(r, "name", name) < 0 || json_add_str(r, "type", "INTEGER") < 0 ||
	    json_add_num(r, "doubleValue", 0) < 0 || json_add_num(r, "longValue", 0) < 0 ||
	    json_add_num(r, "integerValue", (double)v) < 0) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

/* PORTS / PORTS_UDP: a string set of port numbers. */
static cJSON *port_resource(const char *name, const uint16_t *p, size_t n)
{
	cJSON *r = cJSON_CreateObject(), *set = cJSON_CreateArray();
	char buf[8];

	if (!r || json_add(r, "stringSetValue", set) < 0 || json_add_str(r, "name", name) < 0 ||
	    json_add_str(r, "type", "STRINGSET") < 0 || json_add_num(r, "doubleValue", 0) < 0 ||
	    json_add_num(r, "longValue", 0) < 0 || json_add_num(r, "integerValue", 0) < 0) {
		cJSON_Delete(r);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%u", p[i]);
		if (json_append(set, cJSON_CreateString(buf)) < 0) {
			cJSON_Delete(r);
			return NULL;
		}
	}
	return r;
}

static cJSON *resources(int64_t cpu, int64_t mem, const uint16_t *tcp, size_t ntcp,
			const uint16_t *udp, size_t nudp)
{
	cJSON *list = cJSON_CreateArray();

	if (json_append(list, resource("CPU", cpu)) < 0 ||
	    json_append(list, resource("MEMORY", mem)) < 0 ||
	    json_append(list, port_resource("PORTS", tcp, ntcp)) < 0 ||
	    json_append(list, port_resource("PORTS_UDP", udp, nudp)) < 0) {
		cJSON_Delete(list);
		return NULL;
	}
	return list;
}

int instance_put_doc(struct control *c, const char *cluster, const char *id, const char *status,
		     const cJSON *doc, struct err *e)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(doc);

	if (!text)
		return nomem(e);
	return store_instance_put(c->st, cluster, id, status, text, e);
}

int instance_doc(struct control *c, const char *cluster, const char *id, char **ret_status,
		 cJSON **ret_doc, struct err *e)
{
	_cleanup_free_ char *text = NULL;
	int r = store_instance_get(c->st, cluster, id, ret_status, &text, e);

	if (r < 0)
		return r;
	*ret_doc = cJSON_Parse(text);
	if (!*ret_doc) {
		free(*ret_status);
		return err_setx(e, -EIO, "store: corrupt container instance '%s'", id);
	}
	return 0;
}

static cJSON *version_info(const char *agent_version)
{
	cJSON *v = cJSON_CreateObject();

	if (!v || json_add_str(v, "agentVersion", agent_version ? agent_version : "0") < 0 ||
	    json_add_str(v, "agentHash", "berth") < 0 ||
	    json_add_str(v, "dockerVersion", "berth (no docker)") < 0) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

static int new_doc(struct control *c, const char *cluster, const struct control_instance_reg *g,
		   cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
	char arn[ARN_MAX];

	if (!doc || ctl_arn(c, ARN_CONTAINER_INSTANCE, cluster, g->id, 0, arn) < 0)
		return nomem(e);
	if (json_add_str(doc, "containerInstanceArn", arn) < 0 ||
	    json_add_str(doc, "ec2InstanceId", g->hostname ? g->hostname : g->id) < 0 ||
	    json_add_num(doc, "version", 0) < 0 || json_add_str(doc, "status", "ACTIVE") < 0 ||
	    json_add(doc, "agentConnected", cJSON_CreateTrue()) < 0 ||
	    json_add(doc, "attributes", g->attributes ? cJSON_Duplicate(g->attributes, true)
						      : cJSON_CreateArray()) < 0 ||
	    json_add_num(doc, "registeredAt", ctl_now()) < 0 ||
	    json_add(doc, "attachments", cJSON_CreateArray()) < 0)
		return nomem(e);
	*ret = TAKE_PTR(doc);
	return 0;
}

static int replace(cJSON *doc, const char *k, cJSON *v)
{
	if (!v)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(doc, k);
	return json_add(doc, k, v);
}

int instance_register(struct control *c, const char *cluster,
		      const struct control_instance_reg *g, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *status = NULL;
	const cJSON *ver;
	char arn[ARN_MAX];
	int r;

	r = instance_doc(c, cluster, g->id, &status, &doc, e);
	if (r == -ENOENT) {
		r = new_doc(c, cluster, g, &doc, e);
		if (r >= 0 && (status = strdup("ACTIVE")) == NULL)
			r = nomem(e);
		if (r >= 0 && ctl_arn(c, ARN_CONTAINER_INSTANCE, cluster, g->id, 0, arn) >= 0)
			r = tags_apply(c, arn, g->tags, e);
	}
	if (r < 0)
		return r;
	/* Re-registration: resources and version move, the rest stays. */
	if (strcmp(status, "INACTIVE") == 0) {
		free(status);
		status = strdup("ACTIVE");
		if (!status || replace(doc, "status", cJSON_CreateString("ACTIVE")) < 0)
			return nomem(e);
	}
	ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	if (replace(doc, "version", cJSON_CreateNumber(ver ? ver->valuedouble + 1 : 1)) < 0 ||
	    replace(doc, "versionInfo", version_info(g->agent_version)) < 0 ||
	    replace(doc, "agentConnected", cJSON_CreateTrue()) < 0 ||
	    replace(doc, "registeredResources",
		    resources(g->cpu, g->memory, g->ports_tcp, g->n_ports_tcp, g->ports_udp,
			      g->n_ports_udp)) < 0)
		return nomem(e);
	return instance_put_doc(c, cluster, g->id, status, doc, e);
}

int control_register_instance(struct control *c, const struct control_instance_reg *g,
			      struct err *e)
{
	const char *cluster = g->cluster ? g->cluster : c->default_cluster;
	int r;

	if (!ecs_id_is_valid(g->id) || !ecs_name_is_valid(cluster))
		return err_setx(e, -EINVAL, "register: invalid instance id or cluster");
	r = store_begin(c->st, true, e);
	if (r < 0)
		return r;
	r = cluster_ensure(c, cluster, e);
	if (r >= 0)
		r = instance_register(c, cluster, g, e);
	if (r < 0) {
		store_rollback(c->st);
		return r;
	}
	r = store_commit(c->st, e);
	/* The embedded agent runs in this process: connected while it runs. */
	if (r >= 0 && live_set_local(&c->live, cluster, g->id) < 0)
		return nomem(e);
	return r;
}

/* ---- snapshot ---------------------------------------------------------- */

struct inst_store {
	char id[NAME_MAX_LEN + 1];
	char host[NAME_MAX_LEN + 1];
	uint16_t tcp[PORTS_MAX], udp[PORTS_MAX];
	struct sched_attr *attrs;
	size_t n_attrs;
	struct sched_group_count *groups;
	char **group_names;
	size_t n_groups, cap_groups;
	cJSON *doc;
};

static int add_group(const char *group, int64_t count, void *data)
{
	struct inst_store *st = data;

	if (st->n_groups == st->cap_groups) {
		size_t cap = st->cap_groups ? 2 * st->cap_groups : 4;
		void *g = realloc(st->groups, cap * sizeof(*st->groups));

		if (!g)
			return -ENOMEM;
		st->groups = g;
		g = realloc(st->group_names, cap * sizeof(*st->group_names));
		if (!g)
			return -ENOMEM;
		st->group_names = g;
		st->cap_groups = cap;
	}
	st->group_names[st->n_groups] = strdup(group);
	if (!st->group_names[st->n_groups])
		return -ENOMEM;
	st->groups[st->n_groups] = (struct sched_group_count){ st->group_names[st->n_groups],
							       (uint32_t)count };
	st->n_groups++;
	return 0;
}

static int64_t registered(const cJSON *doc, const char *name)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "registeredResources")) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "name");

		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "integerValue"));
	}
	return 0;
}

static size_t registered_ports(const cJSON *doc, const char *name, uint16_t *out)
{
	const cJSON *r, *p;
	size_t n = 0;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "registeredResources")) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(r, "name");

		if (!cJSON_IsString(nm) || strcmp(nm->valuestring, name) != 0)
			continue;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r, "stringSetValue"))
			if (cJSON_IsString(p) && n < PORTS_MAX)
				out[n++] = (uint16_t)atoi(p->valuestring);
	}
	return n;
}

struct ports_acc {
	struct inst_store *st;
	struct sched_instance *in;
};

/* One task's ports column "tcp:80,udp:53" added to the instance's used set. */
static int add_task_ports(const char *ports, void *data)
{
	struct ports_acc *a = data;
	_cleanup_free_ char *copy = strdup(ports);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		bool udp = strncmp(t, "udp:", 4) == 0;
		uint16_t port = (uint16_t)atoi(t + 4);

		if (udp && a->in->n_ports_udp < PORTS_MAX)
			a->st->udp[a->in->n_ports_udp++] = port;
		else if (!udp && a->in->n_ports_tcp < PORTS_MAX)
			a->st->tcp[a->in->n_ports_tcp++] = port;
	}
	return 0;
}

static int load_attrs(struct inst_store *st)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(st->doc, "attributes"), *a;

	st->attrs = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*st->attrs));
	if (!st->attrs)
		return -ENOMEM;
	cJSON_ArrayForEach(a, list) {
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "name"));

		if (n)
			st->attrs[st->n_attrs++] = (struct sched_attr){
				n, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "value")) };
	}
	return 0;
}

static int fill_one(struct control *c, const char *cluster, struct inst_store *st,
		    struct sched_instance *in, struct err *e)
{
	_cleanup_free_ char *status = NULL;
	struct store_usage u = { 0 };
	struct ports_acc acc = { st, in };
	const char *host;
	int r;

	r = instance_doc(c, cluster, st->id, &status, &st->doc, e);
	if (r < 0)
		return r;
	host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st->doc, "ec2InstanceId"));
	snprintf(st->host, sizeof(st->host), "%s", host ? host : st->id);
	in->id = st->id;
	in->ec2_instance_id = st->host;
	in->status = strcmp(status, "ACTIVE") == 0 ? SCHED_INSTANCE_ACTIVE
		     : strcmp(status, "DRAINING") == 0 ? SCHED_INSTANCE_DRAINING
		     : SCHED_INSTANCE_INACTIVE;
	in->agent_connected = ctl_agent_connected(c, cluster, st->id);
	in->registered_cpu = registered(st->doc, "CPU");
	in->registered_memory = registered(st->doc, "MEMORY");
	in->ports_tcp = st->tcp;
	in->ports_udp = st->udp;
	in->n_ports_tcp = registered_ports(st->doc, "PORTS", st->tcp);
	in->n_ports_udp = registered_ports(st->doc, "PORTS_UDP", st->udp);
	r = store_instance_usage(c->st, cluster, st->id, &u, add_task_ports, &acc, e);
	if (r < 0)
		return r == -ENOMEM ? nomem(e) : r;
	in->remaining_cpu = in->registered_cpu - u.cpu;
	in->remaining_memory = in->registered_memory - u.memory;
	in->running_tasks = (uint32_t)u.running;
	in->registered_at_ms = (int64_t)(cJSON_GetNumberValue(
		cJSON_GetObjectItemCaseSensitive(st->doc, "registeredAt")) * 1000);
	in->agent_version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(st->doc, "versionInfo"), "agentVersion"));
	if (load_attrs(st) < 0)
		return nomem(e);
	in->attrs = st->attrs;
	in->n_attrs = st->n_attrs;
	r = store_instance_groups(c->st, cluster, st->id, add_group, st, e);
	if (r < 0)
		return r == -ENOMEM ? nomem(e) : r;
	in->groups = st->groups;
	in->n_groups = st->n_groups;
	return 0;
}

const cJSON *snapshot_doc(const struct snapshot *s, size_t i)
{
	return ((struct inst_store *)s->owned)[i].doc;
}

void snapshot_release(struct snapshot *s)
{
	struct inst_store *st = s->owned;

	for (size_t i = 0; st && i < s->n; i++) {
		free(st[i].attrs);
		for (size_t j = 0; j < st[i].n_groups; j++)
			free(st[i].group_names[j]);
		free(st[i].group_names);
		free(st[i].groups);
		cJSON_Delete(st[i].doc);
	}
	free(st);
	free(s->in);
	*s = (struct snapshot){ 0 };
}

static int load_ids(struct control *c, const char *cluster, struct id_list *l,
		    struct snapshot *ret, struct err *e)
{
	struct inst_store *st;
	int r = 0;

	ret->in = calloc(l->n + 1, sizeof(*ret->in));
	ret->owned = st = calloc(l->n + 1, sizeof(*st));
	if (!ret->in || !st) {
		snapshot_release(ret);
		return nomem(e);
	}
	for (size_t i = 0; i < l->n; i++) {
		snprintf(st[i].id, sizeof(st[i].id), "%s", l->v[i]);
		ret->n = i + 1;
		r = fill_one(c, cluster, &st[i], &ret->in[i], e);
		if (r < 0)
			break;
	}
	if (r < 0)
		snapshot_release(ret);
	return r < 0 ? r : 0;
}

int snapshot_load(struct control *c, const char *cluster, struct snapshot *ret, struct err *e)
{
	struct id_list l = { 0 };
	int r;

	*ret = (struct snapshot){ 0 };
	r = store_instance_list(c->st, cluster, NULL, NULL, 5000, id_list_add, &l, e);
	if (r >= 0)
		r = load_ids(c, cluster, &l, ret, e);
	else if (r == -ENOMEM)
		r = nomem(e);
	free(l.v);
	return r;
}

int snapshot_load_one(struct control *c, const char *cluster, const char *id,
		      struct snapshot *ret, struct err *e)
{
	_cleanup_free_ char *status = NULL, *text = NULL;
	struct id_list l = { 0 };
	int r;

	*ret = (struct snapshot){ 0 };
	r = store_instance_get(c->st, cluster, id, &status, &text, e);
	if (r < 0)
		return r;
	if (strcmp(status, "INACTIVE") == 0)
		return -ENOENT;
	r = id_list_add(id, &l);
	if (r >= 0)
		r = load_ids(c, cluster, &l, ret, e);
	else
		r = nomem(e);
	free(l.v);
	return r;
}
