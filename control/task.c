/* control/task.c - RunTask and StartTask: check the request, resolve the
 * task definition and overrides, place through scheduler/, and record each
 * task PROVISIONING with what it reserves, in the action's one transaction.
 * The agent of the chosen instance is told after the commit. */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "control/task_state.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "scheduler/scheduler.h"

#define BAD "InvalidParameterException"
#define EXC "ClientException"
#define COUNT_MAX 10
#define START_MAX 10
#define STARTED_BY_MAX 128
#define PORTS_TEXT_MAX 4096
#define PORTS_MAX 256

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "build task");
}

/* Everything about one RunTask/StartTask request, resolved. */
struct launch {
	char cluster[NAME_MAX_LEN + 1];
	const cJSON *req;
	cJSON *taskdef;       /* stored document */
	cJSON *eff;           /* with the overrides applied */
	const char *family, *group, *started_by, *launch_type;
	char group_buf[NAME_MAX_LEN + 16];
	int64_t cpu, memory;
	char ports[PORTS_TEXT_MAX];
	uint16_t tcp[PORTS_MAX], udp[PORTS_MAX];
	size_t n_tcp, n_udp;
};

static void launch_release(struct launch *l)
{
	cJSON_Delete(l->taskdef);
	cJSON_Delete(l->eff);
}

static bool started_by_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STARTED_BY_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/-") == n;
}

static int check_launch_type(const cJSON *req, struct err *e)
{
	const char *lt = json_get_str(req, "launchType");

	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(req, "capacityProviderStrategy")) > 0)
		return err_api(e, BAD, "capacityProviderStrategy is not supported by berth yet: "
			       "omit it or use launchType EC2.");
	if (lt && strcmp(lt, "EC2") != 0 && strcmp(lt, "EXTERNAL") != 0)
		return err_api(e, BAD, "launchType %s is not supported by berth yet: use EC2.", lt);
	return 0;
}

/* ECS: networkConfiguration (awsvpcConfiguration) goes with awsvpc only.
 * berth's awsvpc tasks get their address from the bridge subnet, so the
 * subnets and security groups it names are not required. */
static int check_network(const struct launch *l, struct err *e)
{
	const char *mode = json_get_str(l->taskdef, "networkMode");

	if (cJSON_GetObjectItemCaseSensitive(l->req, "networkConfiguration") &&
	    (!mode || strcmp(mode, "awsvpc") != 0))
		return err_api(e, BAD, "Network Configuration is not valid for the given "
			       "networkMode of this task definition.");
	return 0;
}

static int load_taskdef(struct control *c, struct launch *l, struct err *e)
{
	const char *ref = json_get_str(l->req, "taskDefinition");
	_cleanup_free_ char *status = NULL;
	int r;

	r = taskdef_lookup(c, ref, &status, &l->taskdef, e);
	if (r == -ENOENT)
		return err_api(e, EXC, "Unable to find task definition '%.255s'.", ref);
	if (r < 0)
		return r;
	if (strcmp(status, "ACTIVE") != 0)
		return err_api(e, EXC, "TaskDefinition is inactive");
	l->family = json_get_str(l->taskdef, "family");
	return 0;
}

static int parse_ports(struct launch *l)
{
	_cleanup_free_ char *copy = strdup(l->ports);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strncmp(t, "udp:", 4) == 0 && l->n_udp < PORTS_MAX)
			l->udp[l->n_udp++] = (uint16_t)atoi(t + 4);
		else if (l->n_tcp < PORTS_MAX)
			l->tcp[l->n_tcp++] = (uint16_t)atoi(t + 4);
	}
	return 0;
}

/* The checks every launch shares; fills L. */
static int prepare(struct control *c, const cJSON *req, struct launch *l, struct err *e)
{
	const cJSON *overrides = cJSON_GetObjectItemCaseSensitive(req, "overrides");
	const char *group = json_get_str(req, "group");
	int r;

	l->req = req;
	l->started_by = json_get_str(req, "startedBy");
	l->launch_type = json_get_str(req, "launchType") ? json_get_str(req, "launchType") : "EC2";
	r = ctl_cluster(c, req, l->cluster, e);
	if (r >= 0)
		r = check_launch_type(req, e);
	if (r >= 0 && l->started_by && !started_by_ok(l->started_by))
		r = err_api(e, BAD, "startedBy must be 1 to %d letters, numbers, hyphens, "
			    "underscores and forward slashes.", STARTED_BY_MAX);
	if (r >= 0 && group && (!*group || strlen(group) > NAME_MAX_LEN))
		r = err_api(e, BAD, "group must be 1 to %d characters.", NAME_MAX_LEN);
	if (r >= 0)
		r = tags_check(cJSON_GetObjectItemCaseSensitive(req, "tags"), e);
	if (r >= 0)
		r = load_taskdef(c, l, e);
	if (r >= 0)
		r = check_network(l, e);
	if (r >= 0)
		r = task_overrides_check(l->taskdef, overrides, e);
	if (r < 0)
		return r;
	if (task_effective_taskdef(l->taskdef, overrides, &l->eff) < 0)
		return nomem(e);
	r = task_reservation(l->eff, &l->cpu, &l->memory, l->ports, sizeof(l->ports));
	if (r < 0 || parse_ports(l) < 0)
		return err_api(e, BAD, "The task definition's resources cannot be reserved.");
	if (!group) {
		snprintf(l->group_buf, sizeof(l->group_buf), "family:%s", l->family);
		group = l->group_buf;
	}
	l->group = group;
	return 0;
}

static int new_task_id(char id[33])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static const char *instance_arch(const struct sched_instance *in)
{
	bool present;
	const char *v = sched_instance_attr(in, "ecs.cpu-architecture", &present);

	return v ? v : "x86_64";
}

/* Records one task on instance IN and appends its API object to TASKS. */
static int create_task(struct control *c, const struct launch *l, const struct sched_instance *in,
		       cJSON *tasks, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *text = NULL;
	char id[33], arn[ARN_MAX], carn[ARN_MAX], iarn[ARN_MAX];
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(l->req, "tags");
	struct task_new n = {
		.task_arn = arn, .cluster_arn = carn, .instance_arn = iarn,
		.taskdef_arn = json_get_str(l->taskdef, "taskDefinitionArn"),
		.group = l->group, .started_by = l->started_by, .launch_type = l->launch_type,
		.overrides = cJSON_GetObjectItemCaseSensitive(l->req, "overrides"),
		.eff_taskdef = l->eff, .cpu_arch = instance_arch(in), .now = ctl_now(),
	};
	const char *service = strncmp(l->group, "service:", 8) == 0 ? l->group + 8 : NULL;
	struct store_task row;
	int r;

	if (new_task_id(id) < 0)
		return err_setx(e, -EIO, "generate task id");
	if (ctl_arn(c, ARN_TASK, l->cluster, id, 0, arn) < 0 ||
	    ctl_arn(c, ARN_CLUSTER, NULL, l->cluster, 0, carn) < 0 ||
	    ctl_arn(c, ARN_CONTAINER_INSTANCE, l->cluster, in->id, 0, iarn) < 0 ||
	    task_new_doc(&n, &doc) < 0 || !(text = cJSON_PrintUnformatted(doc)))
		return nomem(e);
	row = (struct store_task){
		.cluster = l->cluster, .id = id, .last_status = "PROVISIONING",
		.desired_status = "RUNNING", .doc = text, .instance = in->id, .family = l->family,
		.started_by = l->started_by, .service = service, .cpu = l->cpu, .memory = l->memory,
		.ports = l->ports, .created_at = n.now,
	};
	r = store_task_put(c->st, &row, e);
	if (r >= 0)
		r = tags_apply(c, arn, tags, e);
	if (r >= 0)
		r = ctl_notify_task(c, l->cluster, id, in->id);
	if (r < 0)
		return r == -ENOMEM ? nomem(e) : r;
	if (json_add(doc, "tags", tags ? cJSON_Duplicate(tags, true) : cJSON_CreateArray()) < 0 ||
	    json_append(tasks, TAKE_PTR(doc)) < 0)
		return nomem(e);
	return 0;
}

static int failure_for(struct control *c, const struct launch *l, const struct snapshot *s,
		       const struct sched_placement *p, cJSON *failures, struct err *e)
{
	char arn[ARN_MAX];

	if (p->closest >= 0 && (size_t)p->closest < s->n)
		ctl_arn(c, ARN_CONTAINER_INSTANCE, l->cluster, s->in[p->closest].id, 0, arn);
	else
		ctl_arn(c, ARN_CLUSTER, NULL, l->cluster, 0, arn);
	return ctl_add_failure(failures, arn, sched_reason_string(p->reason), NULL) < 0 ? nomem(e) : 0;
}

static int constraint_specs(const cJSON *list, struct sched_constraint_spec *out, size_t max,
			    size_t *n, struct err *e)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list) {
		if (*n == max)
			return err_api(e, BAD, "At most %zu placement constraints are allowed.", max);
		out[(*n)++] = (struct sched_constraint_spec){ json_get_str(it, "type") ? json_get_str(it, "type") : "",
							      json_get_str(it, "expression") };
	}
	return 0;
}

/* The scheduler request for L (constraints: task definition's, then the request's). */
static int plan_for(const struct launch *l, struct sched_plan **ret, struct err *e)
{
	struct sched_constraint_spec cons[SCHED_MAX_CONSTRAINTS];
	struct sched_strategy_spec strat[SCHED_MAX_STRATEGIES];
	size_t nc = 0, ns = 0;
	const cJSON *it;
	struct sched_request rq = {
		.cpu = l->cpu, .memory = l->memory, .ports_tcp = l->tcp, .n_ports_tcp = l->n_tcp,
		.ports_udp = l->udp, .n_ports_udp = l->n_udp, .group = l->group,
	};
	int r;

	r = constraint_specs(cJSON_GetObjectItemCaseSensitive(l->taskdef, "placementConstraints"),
			     cons, ARRAY_SIZE(cons), &nc, e);
	if (r >= 0)
		r = constraint_specs(cJSON_GetObjectItemCaseSensitive(l->req, "placementConstraints"),
				     cons, ARRAY_SIZE(cons), &nc, e);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(l->req, "placementStrategy")) {
		if (ns == ARRAY_SIZE(strat))
			return err_api(e, BAD, "At most %d placement strategies are allowed.",
				       SCHED_MAX_STRATEGIES);
		strat[ns++] = (struct sched_strategy_spec){ json_get_str(it, "type") ? json_get_str(it, "type") : "",
							    json_get_str(it, "field") };
	}
	rq.constraints = cons;
	rq.n_constraints = nc;
	rq.strategies = strat;
	rq.n_strategies = ns;
	return sched_plan_compile(&rq, ret, e);
}

static bool any_active(const struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->in[i].status == SCHED_INSTANCE_ACTIVE)
			return true;
	return false;
}

static int run_placed(struct control *c, struct launch *l, const struct snapshot *s,
		      uint32_t count, cJSON *tasks, cJSON *failures, struct err *e)
{
	_cleanup_(sched_plan_freep) struct sched_plan *plan = NULL;
	struct sched_placement out[COUNT_MAX];
	uint64_t seed;
	int r;

	r = plan_for(l, &plan, e);
	if (r < 0)
		return r;
	if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
		return err_setx(e, -EIO, "random seed");
	r = sched_place(plan, s->in, s->n, count, seed, out, e);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < count && r >= 0; i++)
		r = out[i].instance >= 0 ? create_task(c, l, &s->in[out[i].instance], tasks, e)
					 : failure_for(c, l, s, &out[i], failures, e);
	return r;
}

int act_run_task(struct control *c, const cJSON *req, const char *principal, cJSON **ret,
		 struct err *e)
{
	const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(req, "count");
	struct launch l = { 0 };
	struct snapshot s = { 0 };
	cJSON *tasks, *failures;
	int r;

	(void)principal;
	if (reply_with_failures(ret, "tasks", &tasks, &failures) < 0)
		return nomem(e);
	if (cnt && (cnt->valuedouble < 1 || cnt->valuedouble > COUNT_MAX))
		r = err_api(e, BAD, "count must be between 1 and %d.", COUNT_MAX);
	else
		r = prepare(c, req, &l, e);
	if (r >= 0)
		r = snapshot_load(c, l.cluster, &s, e);
	if (r >= 0 && !any_active(&s))
		r = err_api(e, BAD, "No Container Instances were found in your cluster.");
	if (r >= 0)
		r = run_placed(c, &l, &s, cnt ? (uint32_t)cnt->valuedouble : 1, tasks, failures, e);
	snapshot_release(&s);
	launch_release(&l);
	return r < 0 ? r : 0;
}

/* StartTask: one task on each named instance, if it fits there. */
static int start_on(struct control *c, struct launch *l, struct snapshot *s, const char *ref,
		    cJSON *tasks, cJSON *failures, struct err *e)
{
	_cleanup_(sched_plan_freep) struct sched_plan *plan = NULL;
	_cleanup_free_ char *status = NULL;
	struct sched_placement out;
	char id[NAME_MAX_LEN + 1], arn[ARN_MAX];
	int r;

	if (ctl_id_ref(c, ref, ARN_CONTAINER_INSTANCE, l->cluster, id) < 0)
		return ctl_add_failure(failures, ref, "MISSING", NULL) < 0 ? nomem(e) : 0;
	ctl_arn(c, ARN_CONTAINER_INSTANCE, l->cluster, id, 0, arn);
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->in[i].id, id) != 0)
			continue;
		if (s->in[i].status != SCHED_INSTANCE_ACTIVE)
			return ctl_add_failure(failures, arn, "INACTIVE", NULL) < 0 ? nomem(e) : 0;
		r = plan_for(l, &plan, e);
		if (r >= 0)
			r = sched_place(plan, &s->in[i], 1, 1, 0, &out, e);
		if (r < 0)
			return r;
		if (out.instance < 0)
			return ctl_add_failure(failures, arn, sched_reason_string(out.reason), NULL) < 0
			       ? nomem(e) : 0;
		/* The next task of this call sees what this one took. */
		s->in[i].remaining_cpu -= l->cpu;
		s->in[i].remaining_memory -= l->memory;
		s->in[i].running_tasks++;
		return create_task(c, l, &s->in[i], tasks, e);
	}
	/* Not in the snapshot: deregistered (INACTIVE) or unknown (MISSING). */
	r = store_instance_get(c->st, l->cluster, id, &status, NULL, e);
	if (r < 0 && r != -ENOENT)
		return r;
	return ctl_add_failure(failures, arn, r == 0 ? "INACTIVE" : "MISSING", NULL) < 0
	       ? nomem(e) : 0;
}

int act_start_task(struct control *c, const cJSON *req, const char *principal, cJSON **ret,
		   struct err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "containerInstances"), *it;
	struct launch l = { 0 };
	struct snapshot s = { 0 };
	cJSON *tasks, *failures;
	int r;

	(void)principal;
	if (reply_with_failures(ret, "tasks", &tasks, &failures) < 0)
		return nomem(e);
	if (cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > START_MAX)
		r = err_api(e, BAD, "containerInstances must name 1 to %d container instances.",
			    START_MAX);
	else
		r = prepare(c, req, &l, e);
	if (r >= 0)
		r = snapshot_load(c, l.cluster, &s, e);
	cJSON_ArrayForEach(it, list)
		if (r >= 0)
			r = start_on(c, &l, &s, it->valuestring, tasks, failures, e);
	snapshot_release(&s);
	launch_release(&l);
	return r < 0 ? r : 0;
}
