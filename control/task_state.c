/* control/task_state.c - lifecycle tables, overrides and the task's API
 * object (pure; see task_state.h). */
#include "control/task_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/taskdef_validate.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "scheduler/scheduler.h"

#define BAD "InvalidParameterException"
#define OVERRIDES_MAX_CHARS 8192

static const char *const task_names[_TASK_STATUS_MAX] = {
	[TASK_PROVISIONING] = "PROVISIONING", [TASK_PENDING] = "PENDING",
	[TASK_ACTIVATING] = "ACTIVATING",     [TASK_RUNNING] = "RUNNING",
	[TASK_DEACTIVATING] = "DEACTIVATING", [TASK_STOPPING] = "STOPPING",
	[TASK_DEPROVISIONING] = "DEPROVISIONING", [TASK_STOPPED] = "STOPPED",
};

static const char *const container_names[_CONTAINER_STATUS_MAX] = {
	[CONTAINER_PENDING] = "PENDING", [CONTAINER_RUNNING] = "RUNNING",
	[CONTAINER_STOPPED] = "STOPPED",
};


static int parse_name(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int task_status_parse(const char *s)
{
	return parse_name(s, task_names, _TASK_STATUS_MAX);
}

const char *task_status_name(enum task_status s)
{
	return (unsigned)s < _TASK_STATUS_MAX ? task_names[s] : NULL;
}

bool task_status_may_move(enum task_status from, enum task_status to)
{
	return (unsigned)from < _TASK_STATUS_MAX && (unsigned)to < _TASK_STATUS_MAX && to >= from;
}

int container_status_parse(const char *s)
{
	return parse_name(s, container_names, _CONTAINER_STATUS_MAX);
}

const char *container_status_name(enum container_status s)
{
	return (unsigned)s < _CONTAINER_STATUS_MAX ? container_names[s] : NULL;
}

static const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Replaces or adds O[K]; takes V (NULL: -ENOMEM). */
static int put(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return -ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(o, k))
		return cJSON_ReplaceItemInObjectCaseSensitive(o, k, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
	return cJSON_AddItemToObject(o, k, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
}

static int put_str(cJSON *o, const char *k, const char *v)
{
	return put(o, k, cJSON_CreateString(v));
}

static int put_num(cJSON *o, const char *k, double v)
{
	return put(o, k, cJSON_CreateNumber(v));
}

static const cJSON *find_named(const cJSON *list, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list) {
		const char *n = get_str(it, "name");

		if (n && strcmp(n, name) == 0)
			return it;
	}
	return NULL;
}

static int check_container_override(const cJSON *defs, const cJSON *o, const cJSON *seen_list,
				    struct err *e)
{
	static const char *const nums[] = { "cpu", "memory", "memoryReservation" };
	const char *name = get_str(o, "name");

	if (!name) {
		if (cJSON_GetArraySize(o) == 0)
			return 0;
		return err_api(e, BAD, "Container overrides must name the container they override.");
	}
	if (!find_named(defs, name))
		return err_api(e, BAD, "Override for container named %.255s is not a container in "
			       "the TaskDefinition.", name);
	for (const cJSON *p = seen_list->child; p && p != o; p = p->next) {
		const char *n = get_str(p, "name");

		if (n && strcmp(n, name) == 0)
			return err_api(e, BAD, "Container %.255s is overridden more than once.", name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, nums[i]);

		if (v && v->valuedouble < 0)
			return err_api(e, BAD, "Invalid '%s' override for container '%.255s': it "
				       "must not be negative.", nums[i], name);
	}
	return 0;
}

int task_overrides_check(const cJSON *taskdef, const cJSON *overrides, struct err *e)
{
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(taskdef, "containerDefinitions");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(overrides, "containerOverrides"), *o;
	_cleanup_free_ char *text = NULL;
	int64_t v;
	int r;

	if (!overrides)
		return 0;
	text = cJSON_PrintUnformatted(overrides);
	if (!text)
		return err_set(e, -ENOMEM, "overrides");
	if (strlen(text) > OVERRIDES_MAX_CHARS)
		return err_api(e, BAD, "Task overrides must be at most %d characters.",
			       OVERRIDES_MAX_CHARS);
	cJSON_ArrayForEach(o, list) {
		r = check_container_override(defs, o, list, e);
		if (r < 0)
			return r;
	}
	if (cJSON_GetObjectItemCaseSensitive(overrides, "cpu") &&
	    taskdef_parse_cpu(cJSON_GetObjectItemCaseSensitive(overrides, "cpu"), &v) < 0)
		return err_api(e, BAD, "Invalid 'cpu' override for the task.");
	if (cJSON_GetObjectItemCaseSensitive(overrides, "memory") &&
	    taskdef_parse_memory(cJSON_GetObjectItemCaseSensitive(overrides, "memory"), &v) < 0)
		return err_api(e, BAD, "Invalid 'memory' override for the task.");
	return 0;
}

/* environment: the override's names replace the definition's, new ones
 * are appended. */
static int merge_env(cJSON *def, const cJSON *env)
{
	cJSON *have = cJSON_GetObjectItemCaseSensitive(def, "environment");
	const cJSON *kv;

	if (!have) {
		have = cJSON_CreateArray();
		if (!have || !cJSON_AddItemToObject(def, "environment", have)) {
			cJSON_Delete(have);
			return -ENOMEM;
		}
	}
	cJSON_ArrayForEach(kv, env) {
		cJSON *old = (cJSON *)find_named(have, get_str(kv, "name") ? get_str(kv, "name") : "");
		cJSON *copy = cJSON_Duplicate(kv, true);

		if (!copy)
			return -ENOMEM;
		if (old)
			cJSON_ReplaceItemViaPointer(have, old, copy);
		else if (!cJSON_AddItemToArray(have, copy))
			return cJSON_Delete(copy), -ENOMEM;
	}
	return 0;
}

static int apply_container_override(cJSON *defs, const cJSON *o)
{
	static const char *const replaced[] = { "command", "cpu", "memory", "memoryReservation" };
	const char *name = get_str(o, "name");
	cJSON *def = name ? (cJSON *)find_named(defs, name) : NULL;
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(o, "environment");

	if (!def)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(replaced); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, replaced[i]);

		if (v && put(def, replaced[i], cJSON_Duplicate(v, true)) < 0)
			return -ENOMEM;
	}
	return env ? merge_env(def, env) : 0;
}

int task_effective_taskdef(const cJSON *taskdef, const cJSON *overrides, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *t = cJSON_Duplicate(taskdef, true);
	cJSON *defs = cJSON_GetObjectItemCaseSensitive(t, "containerDefinitions");
	const cJSON *o;
	int64_t v;
	char buf[32];

	if (!t)
		return -ENOMEM;
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(overrides, "containerOverrides"))
		if (apply_container_override(defs, o) < 0)
			return -ENOMEM;
	if (taskdef_parse_cpu(cJSON_GetObjectItemCaseSensitive(overrides, "cpu"), &v) == 0) {
		snprintf(buf, sizeof(buf), "%lld", (long long)v);
		if (put_str(t, "cpu", buf) < 0)
			return -ENOMEM;
	}
	if (taskdef_parse_memory(cJSON_GetObjectItemCaseSensitive(overrides, "memory"), &v) == 0) {
		snprintf(buf, sizeof(buf), "%lld", (long long)v);
		if (put_str(t, "memory", buf) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

static int64_t num_or(const cJSON *o, const char *k, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

static int task_level(const cJSON *t, const char *k, int64_t *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, k);

	*ret = -1;
	if (!v)
		return 0;
	return strcmp(k, "cpu") == 0 ? taskdef_parse_cpu(v, ret) : taskdef_parse_memory(v, ret);
}

static int add_ports(const cJSON *def, char *ports, size_t size, size_t *len)
{
	const cJSON *pm;

	cJSON_ArrayForEach(pm, cJSON_GetObjectItemCaseSensitive(def, "portMappings")) {
		int64_t host = num_or(pm, "hostPort", 0);
		const char *proto = get_str(pm, "protocol");
		int n;

		if (host <= 0)
			continue; /* dynamic: not reserved at placement */
		if (host > 65535)
			return -EINVAL;
		n = snprintf(ports + *len, size - *len, "%s%s:%lld", *len ? "," : "",
			     proto && strcmp(proto, "udp") == 0 ? "udp" : "tcp", (long long)host);
		if (n < 0 || (size_t)n >= size - *len)
			return -ENOSPC;
		*len += (size_t)n;
	}
	return 0;
}

int task_reservation(const cJSON *eff, int64_t *ret_cpu, int64_t *ret_memory, char *ports,
		     size_t ports_size)
{
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(eff, "containerDefinitions"), *d;
	struct sched_container_res res[TASKDEF_MAX_CONTAINERS];
	int64_t tcpu, tmem;
	size_t n = 0, len = 0;
	int r;

	if (!ports_size || task_level(eff, "cpu", &tcpu) < 0 || task_level(eff, "memory", &tmem) < 0)
		return -EINVAL;
	ports[0] = '\0';
	cJSON_ArrayForEach(d, defs) {
		if (n == ARRAY_SIZE(res))
			return -EINVAL;
		res[n++] = (struct sched_container_res){
			num_or(d, "cpu", -1), num_or(d, "memory", -1), num_or(d, "memoryReservation", -1),
		};
		r = add_ports(d, ports, ports_size, &len);
		if (r < 0)
			return r;
	}
	sched_task_resources(tcpu, tmem, res, n, ret_cpu, ret_memory);
	return 0;
}

static int num_string(cJSON *o, const char *k, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return put_str(o, k, buf);
}

static cJSON *new_container(const struct task_new *n, const cJSON *def)
{
	_cleanup_(cJSON_Deletep) cJSON *c = cJSON_CreateObject();
	const char *name = get_str(def, "name"), *slash = strstr(n->task_arn, ":task/");
	_cleanup_free_ char *arn = NULL;

	if (!c || !name || !slash ||
	    asprintf(&arn, "%.*s:container/%s/%s", (int)(slash - n->task_arn), n->task_arn,
		     slash + strlen(":task/"), name) < 0)
		return NULL;
	if (put_str(c, "containerArn", arn) < 0 || put_str(c, "taskArn", n->task_arn) < 0 ||
	    put_str(c, "name", name) < 0 ||
	    put_str(c, "image", get_str(def, "image") ? get_str(def, "image") : "") < 0 ||
	    put_str(c, "lastStatus", "PENDING") < 0 ||
	    put(c, "networkBindings", cJSON_CreateArray()) < 0 ||
	    put(c, "networkInterfaces", cJSON_CreateArray()) < 0 ||
	    put_str(c, "healthStatus", "UNKNOWN") < 0 ||
	    num_string(c, "cpu", num_or(def, "cpu", 0)) < 0)
		return NULL;
	if (num_or(def, "memory", -1) >= 0 && num_string(c, "memory", num_or(def, "memory", 0)) < 0)
		return NULL;
	if (num_or(def, "memoryReservation", -1) >= 0 &&
	    num_string(c, "memoryReservation", num_or(def, "memoryReservation", 0)) < 0)
		return NULL;
	return TAKE_PTR(c);
}

static cJSON *overrides_doc(const cJSON *given)
{
	cJSON *o = given ? cJSON_Duplicate(given, true) : cJSON_CreateObject();

	if (!o)
		return NULL;
	if (!cJSON_GetObjectItemCaseSensitive(o, "containerOverrides") &&
	    put(o, "containerOverrides", cJSON_CreateArray()) < 0)
		return cJSON_Delete(o), NULL;
	if (!cJSON_GetObjectItemCaseSensitive(o, "inferenceAcceleratorOverrides") &&
	    put(o, "inferenceAcceleratorOverrides", cJSON_CreateArray()) < 0)
		return cJSON_Delete(o), NULL;
	return o;
}

static cJSON *attributes_doc(const char *arch)
{
	cJSON *list = cJSON_CreateArray(), *a = cJSON_CreateObject();

	if (!list || !a || put_str(a, "name", "ecs.cpu-architecture") < 0 ||
	    put_str(a, "value", arch ? arch : "x86_64") < 0 || !cJSON_AddItemToArray(list, a)) {
		cJSON_Delete(list);
		cJSON_Delete(a);
		return NULL;
	}
	return list;
}

int task_new_doc(const struct task_new *n, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *t = cJSON_CreateObject();
	cJSON *containers = cJSON_CreateArray();
	const cJSON *def;
	int64_t v;

	if (!t || put(t, "containers", containers) < 0)
		return -ENOMEM;
	cJSON_ArrayForEach(def, cJSON_GetObjectItemCaseSensitive(n->eff_taskdef, "containerDefinitions"))
		if (!cJSON_AddItemToArray(containers, new_container(n, def)))
			return -ENOMEM;
	if (put_str(t, "taskArn", n->task_arn) < 0 || put_str(t, "clusterArn", n->cluster_arn) < 0 ||
	    put_str(t, "taskDefinitionArn", n->taskdef_arn) < 0 ||
	    put_str(t, "containerInstanceArn", n->instance_arn) < 0 ||
	    put(t, "overrides", overrides_doc(n->overrides)) < 0 ||
	    put_str(t, "lastStatus", "PROVISIONING") < 0 || put_str(t, "desiredStatus", "RUNNING") < 0 ||
	    put_str(t, "group", n->group) < 0 || put_str(t, "launchType", n->launch_type) < 0 ||
	    put_str(t, "healthStatus", "UNKNOWN") < 0 || put_num(t, "createdAt", n->now) < 0 ||
	    put_num(t, "version", 1) < 0 || put(t, "attachments", cJSON_CreateArray()) < 0 ||
	    put(t, "attributes", attributes_doc(n->cpu_arch)) < 0 ||
	    put(t, "enableExecuteCommand", cJSON_CreateFalse()) < 0)
		return -ENOMEM;
	if (n->started_by && put_str(t, "startedBy", n->started_by) < 0)
		return -ENOMEM;
	if (task_level(n->eff_taskdef, "cpu", &v) == 0 && v >= 0 && num_string(t, "cpu", v) < 0)
		return -ENOMEM;
	if (task_level(n->eff_taskdef, "memory", &v) == 0 && v >= 0 && num_string(t, "memory", v) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(t);
	return 0;
}
