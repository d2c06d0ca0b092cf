/* control/agent_api.c - the agent's actions over the API (AGENT-PROTOCOL.md):
 * RegisterContainerInstance, BerthPollWork (state-based long-poll work
 * delivery), SubmitTaskStateChange, SubmitContainerStateChange.  api/
 * lets only agent-role keys and root call them. */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/attr.h"
#include "control/internal.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define BAD "InvalidParameterException"
#define PORTS_MAX 1024
#define WAIT_MAX 20

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "agent call");
}

/* ---- RegisterContainerInstance ------------------------------------------ */

struct reg_buf {
	uint16_t tcp[PORTS_MAX], udp[PORTS_MAX];
	bool have_cpu, have_mem;
};

static int parse_port_set(const cJSON *res, uint16_t *out, size_t *n, struct err *e)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(res, "stringSetValue")) {
		char *end;
		unsigned long v = strtoul(p->valuestring, &end, 10);

		if (!*p->valuestring || *end || v < 1 || v > 65535 || p->valuestring[0] == '0')
			return err_api(e, BAD, "totalResources %s: '%.20s' is not a port number.",
				       json_get_str(res, "name"), p->valuestring);
		if (*n == PORTS_MAX)
			return err_api(e, BAD, "totalResources %s: at most %d ports.",
				       json_get_str(res, "name"), PORTS_MAX);
		out[(*n)++] = (uint16_t)v;
	}
	return 0;
}

static int parse_amount(const cJSON *res, int64_t *ret, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(res, "integerValue");

	if (!v)
		v = cJSON_GetObjectItemCaseSensitive(res, "longValue");
	if (!v || v->valuedouble < 0)
		return err_api(e, BAD, "totalResources %s needs a non-negative integerValue.",
			       json_get_str(res, "name"));
	*ret = (int64_t)v->valuedouble;
	return 0;
}

static int parse_resources(const cJSON *req, struct control_instance_reg *g, struct reg_buf *b,
			   struct err *e)
{
	const cJSON *res;
	int r = 0;

	g->ports_tcp = b->tcp;
	g->ports_udp = b->udp;
	cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(req, "totalResources")) {
		const char *name = json_get_str(res, "name") ? json_get_str(res, "name") : "";

		if (strcmp(name, "CPU") == 0) {
			r = parse_amount(res, &g->cpu, e);
			b->have_cpu = true;
		} else if (strcmp(name, "MEMORY") == 0) {
			r = parse_amount(res, &g->memory, e);
			b->have_mem = true;
		} else if (strcmp(name, "PORTS") == 0) {
			r = parse_port_set(res, b->tcp, &g->n_ports_tcp, e);
		} else if (strcmp(name, "PORTS_UDP") == 0) {
			r = parse_port_set(res, b->udp, &g->n_ports_udp, e);
		}
		if (r < 0)
			return r;
	}
	if (!b->have_cpu || !b->have_mem)
		return err_api(e, BAD, "totalResources must give CPU and MEMORY.");
	return 0;
}

/* The registration's attributes as [{name, value?}], checked. */
static int reg_attributes(const cJSON *req, cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *out = cJSON_CreateArray();
	const cJSON *a;
	int r;

	if (!out)
		return nomem(e);
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(req, "attributes")) {
		r = attr_check(a, true, e);
		if (r < 0)
			return r;
		if (attr_set(out, json_get_str(a, "name"), json_get_str(a, "value")) < 0)
			return nomem(e);
	}
	if (attr_count_custom(out) > ATTR_CUSTOM_MAX)
		return err_api(e, "AttributeLimitExceededException",
			       "An instance can have at most %d custom attributes.", ATTR_CUSTOM_MAX);
	*ret = TAKE_PTR(out);
	return 0;
}

static int fresh_id(char id[NAME_MAX_LEN + 1], struct err *e)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return err_setx(e, -EIO, "random instance id");
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* The DescribeContainerInstances object of instance ID. */
static int view_of(struct control *c, const char *cluster, const char *id, cJSON **ret,
		   struct err *e)
{
	struct snapshot s;
	int r = snapshot_load_one(c, cluster, id, &s, e);

	if (r == -ENOENT)
		return err_api(e, BAD, "Container instance %s is not registered.", id);
	if (r < 0)
		return r;
	r = instance_view(c, cluster, &s, 0, false, ret, e);
	snapshot_release(&s);
	return r;
}

int act_register_container_instance(struct control *c, const cJSON *req, const char *principal,
				    cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *attrs = NULL;
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	const char *ref = json_get_str(req, "containerInstanceArn");
	char cluster[NAME_MAX_LEN + 1], id[NAME_MAX_LEN + 1];
	struct control_instance_reg g = { .cluster = cluster, .id = id };
	struct reg_buf *b = calloc(1, sizeof(*b));
	cJSON *view = NULL;
	int r;

	(void)principal;
	if (!resp || !b) {
		free(b);
		return nomem(e);
	}
	r = ctl_cluster(c, req, cluster, e);
	if (r >= 0 && ref && ctl_id_ref(c, ref, ARN_CONTAINER_INSTANCE, cluster, id) < 0)
		r = err_api(e, BAD, "Invalid containerInstanceArn '%.200s'.", ref);
	else if (r >= 0 && !ref)
		r = fresh_id(id, e);
	if (r >= 0)
		r = parse_resources(req, &g, b, e);
	if (r >= 0)
		r = reg_attributes(req, &attrs, e);
	if (r >= 0 && cJSON_GetObjectItemCaseSensitive(req, "tags"))
		r = tags_check(cJSON_GetObjectItemCaseSensitive(req, "tags"), e);
	if (r >= 0) {
		g.attributes = attrs;
		g.tags = cJSON_GetObjectItemCaseSensitive(req, "tags");
		g.hostname = json_get_str(req, "berthHostname");
		g.agent_version = json_get_str(cJSON_GetObjectItemCaseSensitive(req, "versionInfo"),
				      "agentVersion");
		r = instance_register(c, cluster, &g, e);
	}
	free(b);
	/* Registering is a heartbeat. */
	if (r >= 0 && live_contact(&c->live, cluster, id, ctl_mono_ms(), 0) < 0)
		r = nomem(e);
	if (r >= 0)
		r = view_of(c, cluster, id, &view, e);
	if (r < 0)
		return r;
	if (json_add(resp, "containerInstance", view) < 0)
		return nomem(e);
	*ret = TAKE_PTR(resp);
	return 0;
}

/* ---- BerthPollWork ------------------------------------------------------ */

/* The request's containerInstance, registered (ACTIVE or DRAINING) in CLUSTER. */
static int agent_instance(struct control *c, const cJSON *req, const char *cluster,
			  char id[NAME_MAX_LEN + 1], struct err *e)
{
	const char *ref = json_get_str(req, "containerInstance");
	_cleanup_free_ char *status = NULL, *doc = NULL;
	int r;

	if (!ref || ctl_id_ref(c, ref, ARN_CONTAINER_INSTANCE, cluster, id) < 0)
		return err_api(e, BAD, "Invalid containerInstance '%.200s'.", ref ? ref : "");
	r = store_instance_get(c->st, cluster, id, &status, &doc, e);
	if (r == -ENOENT || (r == 0 && strcmp(status, "INACTIVE") == 0))
		return err_api(e, BAD, "Container instance %s is not registered in cluster %s.",
			       id, cluster);
	return r;
}

static int work_item(struct control *c, const char *cluster, const char *task_id, cJSON *tasks,
		     struct err *e)
{
	cJSON *task = NULL, *td = NULL, *item = cJSON_CreateObject();
	int r;

	if (json_append(tasks, item) < 0)
		return nomem(e);
	r = task_for_agent_tx(c, cluster, task_id, &task, &td, e);
	if (r < 0)
		return r;
	if (json_add(item, "task", task) < 0) {
		cJSON_Delete(td);
		return nomem(e);
	}
	return json_add(item, "taskDefinition", td) < 0 ? nomem(e) : 0;
}

/* Every task on the instance whose last status is not STOPPED. */
static int work_list(struct control *c, const char *cluster, const char *id, cJSON *tasks,
		     struct err *e)
{
	struct id_list l = { 0 };
	int r;

	r = instance_task_ids(c, cluster, id, &l, e);
	for (size_t i = 0; r >= 0 && i < l.n; i++)
		r = work_item(c, cluster, l.v[i], tasks, e);
	free(l.v);
	return r;
}

int act_berth_poll_work(struct control *c, const cJSON *req, const char *principal, cJSON **ret,
			struct err *e)
{
	const cJSON *wait = cJSON_GetObjectItemCaseSensitive(req, "waitSeconds");
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(req, "generation");
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	char cluster[NAME_MAX_LEN + 1], id[NAME_MAX_LEN + 1];
	unsigned wait_sec = wait ? (unsigned)wait->valuedouble : WAIT_MAX;
	uint64_t cur;
	cJSON *tasks;
	int r;

	(void)principal;
	if (!resp)
		return nomem(e);
	if (wait && (wait->valuedouble < 0 || wait->valuedouble > WAIT_MAX))
		return err_api(e, BAD, "waitSeconds must be between 0 and %d.", WAIT_MAX);
	if (gen && gen->valuedouble < 0)
		return err_api(e, BAD, "generation must not be negative.");
	r = ctl_cluster(c, req, cluster, e);
	if (r >= 0)
		r = agent_instance(c, req, cluster, id, e);
	if (r < 0)
		return r;
	cur = live_generation(&c->live, cluster, id);
	if (c->hold && wait_sec > 0 && gen && (uint64_t)gen->valuedouble == cur) {
		/* Nothing new: held, and counted as connected while it is. */
		if (live_contact(&c->live, cluster, id, ctl_mono_ms(), 1000 * (int64_t)wait_sec) < 0)
			return nomem(e);
		snprintf(c->hold->key, sizeof(c->hold->key), "%s/%s", cluster, id);
		c->hold->wait_sec = wait_sec;
		return CONTROL_HOLD;
	}
	if (live_contact(&c->live, cluster, id, ctl_mono_ms(), 0) < 0)
		return nomem(e);
	tasks = cJSON_CreateArray();
	if (json_add_num(resp, "generation", (double)cur) < 0 || json_add(resp, "tasks", tasks) < 0)
		return nomem(e);
	r = work_list(c, cluster, id, tasks, e);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(resp);
	return 0;
}

/* ---- state changes ------------------------------------------------------ */

static int copy_member(cJSON *to, const char *to_key, const cJSON *from, const char *from_key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, from_key);

	return v ? json_add(to, to_key, cJSON_Duplicate(v, true)) : 0;
}

/* ECS's container change {containerName, status, exitCode?, reason?,
 * runtimeId?, networkBindings?} as a report's container. */
static cJSON *ecs_container(const cJSON *src)
{
	static const char *const same[] = { "exitCode", "reason", "runtimeId", "networkBindings" };
	cJSON *c = cJSON_CreateObject();
	int r;

	r = c ? copy_member(c, "name", src, "containerName") : -ENOMEM;
	if (r >= 0)
		r = copy_member(c, "lastStatus", src, "status");
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(same); i++)
		r = copy_member(c, same[i], src, same[i]);
	if (r < 0) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

/* ECS's SubmitTaskStateChange shape as one report. */
static cJSON *ecs_task_report(const cJSON *req)
{
	static const char *const stamps[] = { "pullStartedAt", "pullStoppedAt", "executionStoppedAt" };
	_cleanup_(cJSON_Deletep) cJSON *rep = cJSON_CreateObject();
	const char *status = json_get_str(req, "status");
	cJSON *list = cJSON_CreateArray();
	const cJSON *it;

	if (!rep || json_add(rep, "containers", list) < 0 ||
	    copy_member(rep, "lastStatus", req, "status") < 0)
		return NULL;
	/* ECS's reason is why the task stopped; on the way up it means nothing. */
	if (status && strcmp(status, "STOPPED") == 0 &&
	    copy_member(rep, "stoppedReason", req, "reason") < 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(stamps); i++)
		if (copy_member(rep, stamps[i], req, stamps[i]) < 0)
			return NULL;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "containers"))
		if (json_append(list, ecs_container(it)) < 0)
			return NULL;
	return TAKE_PTR(rep);
}

/* The request's task, which must be on the reporting instance when it names one. */
static int reported_task(struct control *c, const cJSON *req, char cluster[NAME_MAX_LEN + 1],
			 char id[NAME_MAX_LEN + 1], struct err *e)
{
	const char *ref = json_get_str(req, "task");
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_(cJSON_Deletep) cJSON *td = NULL;
	char inst[NAME_MAX_LEN + 1];
	int r;

	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	if (!ref || ctl_id_ref(c, ref, ARN_TASK, cluster, id) < 0)
		return err_api(e, BAD, "Invalid task '%.200s'.", ref ? ref : "");
	r = task_for_agent_tx(c, cluster, id, &doc, &td, e);
	if (r == -ENOENT)
		return err_api(e, BAD, "Task %s was not found in cluster %s.", id, cluster);
	if (r < 0)
		return r;
	if (json_get_str(req, "containerInstance")) {
		r = agent_instance(c, req, cluster, inst, e);
		if (r < 0)
			return r;
		if (strcmp(inst, task_instance_of(doc)) != 0)
			return err_api(e, BAD, "Task %s is not on this container instance.", id);
		/* A report is a sign of life too. */
		if (live_contact(&c->live, cluster, inst, ctl_mono_ms(), 0) < 0)
			return nomem(e);
	}
	return 0;
}

static int ack(cJSON **ret, struct err *e)
{
	cJSON *resp = cJSON_CreateObject();

	if (json_add_str(resp, "acknowledgment", "ACK") < 0) {
		cJSON_Delete(resp);
		return nomem(e);
	}
	*ret = resp;
	return 0;
}

int act_submit_task_state_change(struct control *c, const cJSON *req, const char *principal,
				 cJSON **ret, struct err *e)
{
	const cJSON *reports = cJSON_GetObjectItemCaseSensitive(req, "reports"), *it;
	_cleanup_(cJSON_Deletep) cJSON *one = NULL;
	_cleanup_free_ const cJSON **list = NULL;
	char cluster[NAME_MAX_LEN + 1], id[NAME_MAX_LEN + 1];
	size_t n = 0;
	int r;

	(void)principal;
	r = reported_task(c, req, cluster, id, e);
	if (r < 0)
		return r;
	if (!reports) {
		one = ecs_task_report(req);
		if (!one)
			return nomem(e);
		r = task_reports_tx(c, cluster, id, (const cJSON *const *)&one, 1, e);
	} else {
		list = calloc((size_t)cJSON_GetArraySize(reports) + 1, sizeof(*list));
		if (!list)
			return nomem(e);
		cJSON_ArrayForEach(it, reports)
			list[n++] = it;
		r = task_reports_tx(c, cluster, id, list, n, e);
	}
	return r < 0 ? r : ack(ret, e);
}

int act_submit_container_state_change(struct control *c, const cJSON *req, const char *principal,
				      cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *rep = cJSON_CreateObject();
	char cluster[NAME_MAX_LEN + 1], id[NAME_MAX_LEN + 1];
	cJSON *list = cJSON_CreateArray();
	const cJSON *r1;
	int r;

	(void)principal;
	if (!rep || json_add(rep, "containers", list) < 0)
		return nomem(e);
	if (!json_get_str(req, "containerName"))
		return err_api(e, BAD, "containerName is required.");
	r = reported_task(c, req, cluster, id, e);
	if (r < 0)
		return r;
	if (json_append(list, ecs_container(req)) < 0)
		return nomem(e);
	r1 = rep;
	r = task_reports_tx(c, cluster, id, &r1, 1, e);
	return r < 0 ? r : ack(ret, e);
}
