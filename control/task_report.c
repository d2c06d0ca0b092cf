/* control/task_report.c - applying the agent's state reports and StopTask
 * to a task's API object (pure; see task_state.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "control/task_state.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define BAD "InvalidParameterException"
#define REASON_MAX 1024

/* Timestamps a report may carry; each is set once and then kept. */
static const char *const stamps[] = {
	"pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt", "stoppedAt",
	"executionStoppedAt", "connectivityAt",
};

/* The task-level strings a report may set once (the first reason wins). */
static const char *const once_strings[] = { "stopCode", "stoppedReason" };

static const char *const health_names[] = { "HEALTHY", "UNHEALTHY", "UNKNOWN" };

static int put(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return -ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(o, k))
		return cJSON_ReplaceItemInObjectCaseSensitive(o, k, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
	return cJSON_AddItemToObject(o, k, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
}

/* Sets O[K] = V unless it already equals V; *changed when it did. */
static int set_str(cJSON *o, const char *k, const char *v, bool *changed)
{
	const char *cur = json_get_str(o, k);

	if (cur && strcmp(cur, v) == 0)
		return 0;
	*changed = true;
	return put(o, k, cJSON_CreateString(v));
}

static int set_once_num(cJSON *o, const char *k, double v, bool *changed)
{
	if (cJSON_GetObjectItemCaseSensitive(o, k))
		return 0;
	*changed = true;
	return put(o, k, cJSON_CreateNumber(v));
}

static bool is_health(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(health_names); i++)
		if (strcmp(s, health_names[i]) == 0)
			return true;
	return false;
}

static int bad(struct err *e, const char *what)
{
	return err_api(e, BAD, "Invalid task state report: %s.", what);
}

/* A container's network as the agent reports it once RUNNING. */
static const char *const net_lists[] = { "networkBindings", "networkInterfaces" };

/* O[K] is absent or an array of objects. */
static bool objects_or_absent(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k), *it;

	if (!v)
		return true;
	if (!cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(it, v)
		if (!cJSON_IsObject(it))
			return false;
	return true;
}

/* O[K] = a copy of REP[K] when REP has one and it differs. */
static int set_list(cJSON *o, const cJSON *rep, const char *k, bool *changed)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rep, k);

	if (!v || cJSON_Compare(v, cJSON_GetObjectItemCaseSensitive(o, k), true))
		return 0;
	*changed = true;
	return put(o, k, cJSON_Duplicate(v, true));
}

/* Checks the whole report before anything is changed. */
static int check_report(const cJSON *rep, struct err *e)
{
	const cJSON *c, *v;

	if (!cJSON_IsObject(rep))
		return bad(e, "not an object");
	v = cJSON_GetObjectItemCaseSensitive(rep, "lastStatus");
	if (v && (!cJSON_IsString(v) || task_status_parse(v->valuestring) < 0))
		return bad(e, "lastStatus");
	v = cJSON_GetObjectItemCaseSensitive(rep, "healthStatus");
	if (v && (!cJSON_IsString(v) || !is_health(v->valuestring)))
		return bad(e, "healthStatus");
	for (size_t i = 0; i < ARRAY_SIZE(stamps); i++) {
		v = cJSON_GetObjectItemCaseSensitive(rep, stamps[i]);
		if (v && (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0))
			return bad(e, stamps[i]);
	}
	if (!objects_or_absent(rep, "attachments"))
		return bad(e, "attachments");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(rep, "containers")) {
		if (!json_get_str(c, "name"))
			return bad(e, "container without a name");
		for (size_t i = 0; i < ARRAY_SIZE(net_lists); i++)
			if (!objects_or_absent(c, net_lists[i]))
				return bad(e, net_lists[i]);
		v = cJSON_GetObjectItemCaseSensitive(c, "lastStatus");
		if (v && (!cJSON_IsString(v) || container_status_parse(v->valuestring) < 0))
			return bad(e, "container lastStatus");
		v = cJSON_GetObjectItemCaseSensitive(c, "exitCode");
		if (v && (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
			  v->valuedouble < -2147483648.0 || v->valuedouble > 2147483647.0))
			return bad(e, "container exitCode");
		v = cJSON_GetObjectItemCaseSensitive(c, "healthStatus");
		if (v && (!cJSON_IsString(v) || !is_health(v->valuestring)))
			return bad(e, "container healthStatus");
	}
	return 0;
}

static cJSON *find_container(cJSON *task, const char *name)
{
	cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(task, "containers")) {
		const char *n = json_get_str(c, "name");

		if (n && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

static int apply_container(cJSON *c, const cJSON *rep, bool *changed)
{
	const char *ls = json_get_str(rep, "lastStatus"), *reason = json_get_str(rep, "reason");
	const cJSON *exit = cJSON_GetObjectItemCaseSensitive(rep, "exitCode");
	char buf[REASON_MAX + 1];
	int r = 0;

	if (ls && container_status_parse(ls) >= container_status_parse(json_get_str(c, "lastStatus")))
		r = set_str(c, "lastStatus", ls, changed);
	if (r == 0 && exit && !cJSON_GetObjectItemCaseSensitive(c, "exitCode"))
		r = set_once_num(c, "exitCode", exit->valuedouble, changed);
	if (r == 0 && reason && !cJSON_GetObjectItemCaseSensitive(c, "reason")) {
		snprintf(buf, sizeof(buf), "%s", reason);
		r = set_str(c, "reason", buf, changed);
	}
	if (r == 0 && json_get_str(rep, "healthStatus"))
		r = set_str(c, "healthStatus", json_get_str(rep, "healthStatus"), changed);
	if (r == 0 && json_get_str(rep, "runtimeId") && !cJSON_GetObjectItemCaseSensitive(c, "runtimeId"))
		r = set_str(c, "runtimeId", json_get_str(rep, "runtimeId"), changed);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(net_lists); i++)
		r = set_list(c, rep, net_lists[i], changed);
	return r;
}

/* What reaching a status implies: the desired status and its timestamp. */
static int implied(cJSON *task, enum task_status s, double now, bool *changed)
{
	int r = 0;

	if (s >= TASK_DEACTIVATING)
		r = set_str(task, "desiredStatus", "STOPPED", changed);
	if (r == 0 && s == TASK_RUNNING) {
		r = set_once_num(task, "startedAt", now, changed);
		if (r == 0)
			r = set_str(task, "connectivity", "CONNECTED", changed);
		if (r == 0)
			r = set_once_num(task, "connectivityAt", now, changed);
	}
	if (r == 0 && s >= TASK_STOPPING)
		r = set_once_num(task, "stoppingAt", now, changed);
	if (r == 0 && s == TASK_STOPPED) {
		r = set_once_num(task, "executionStoppedAt", now, changed);
		if (r == 0)
			r = set_once_num(task, "stoppedAt", now, changed);
	}
	return r;
}

int task_report_apply(cJSON *task, const cJSON *rep, double now, bool *ret_changed, struct err *e)
{
	const char *ls = json_get_str(rep, "lastStatus");
	int cur = task_status_parse(json_get_str(task, "lastStatus")), r = 0;
	bool changed = false;
	const cJSON *c;

	if (check_report(rep, e) < 0)
		return -EINVAL;
	if (cur < 0)
		return err_setx(e, -EIO, "store: task with an invalid lastStatus");
	/* Stamps first: a report's own times win over the ones implied below. */
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(stamps); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(rep, stamps[i]);

		if (v)
			r = set_once_num(task, stamps[i], v->valuedouble, &changed);
	}
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(once_strings); i++)
		if (json_get_str(rep, once_strings[i]) && !json_get_str(task, once_strings[i]))
			r = set_str(task, once_strings[i], json_get_str(rep, once_strings[i]), &changed);
	if (r == 0 && ls && task_status_may_move(cur, task_status_parse(ls))) {
		r = set_str(task, "lastStatus", ls, &changed);
		if (r == 0)
			r = implied(task, task_status_parse(ls), now, &changed);
	}
	if (r == 0 && json_get_str(rep, "desiredStatus") && strcmp(json_get_str(rep, "desiredStatus"), "STOPPED") == 0)
		r = set_str(task, "desiredStatus", "STOPPED", &changed);
	if (r == 0 && json_get_str(rep, "healthStatus"))
		r = set_str(task, "healthStatus", json_get_str(rep, "healthStatus"), &changed);
	if (r == 0)
		r = set_list(task, rep, "attachments", &changed);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(rep, "containers")) {
		cJSON *mine = find_container(task, json_get_str(c, "name"));

		if (r == 0 && mine)
			r = apply_container(mine, c, &changed);
	}
	if (r == 0 && changed) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(task, "version");

		r = put(task, "version", cJSON_CreateNumber(cJSON_IsNumber(v) ? v->valuedouble + 1 : 1));
	}
	if (r < 0)
		return err_set(e, r, "apply task report");
	*ret_changed = changed;
	return 0;
}

static int stop_containers(cJSON *task, bool *changed)
{
	cJSON *c;
	int r = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(task, "containers"))
		if (r == 0)
			r = set_str(c, "lastStatus", "STOPPED", changed);
	return r;
}

int task_stop_request(cJSON *task, const char *reason, double now, bool *ret_changed)
{
	const char *ds = json_get_str(task, "desiredStatus");
	bool changed = false;
	int r;

	*ret_changed = false;
	if (ds && strcmp(ds, "STOPPED") == 0)
		return 0;
	r = set_str(task, "desiredStatus", "STOPPED", &changed);
	if (r == 0 && !json_get_str(task, "stopCode"))
		r = set_str(task, "stopCode", "UserInitiated", &changed);
	if (r == 0 && !json_get_str(task, "stoppedReason"))
		r = set_str(task, "stoppedReason", reason && *reason ? reason : "Task stopped by user",
			    &changed);
	if (r == 0)
		r = set_once_num(task, "stoppingAt", now, &changed);
	/* Never handed to an agent: nothing runs, so it is STOPPED now. */
	if (r == 0 && task_status_parse(json_get_str(task, "lastStatus")) == TASK_PROVISIONING) {
		r = set_str(task, "lastStatus", "STOPPED", &changed);
		if (r == 0)
			r = implied(task, TASK_STOPPED, now, &changed);
		if (r == 0)
			r = stop_containers(task, &changed);
	}
	if (r == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(task, "version");

		r = put(task, "version", cJSON_CreateNumber(cJSON_IsNumber(v) ? v->valuedouble + 1 : 1));
	}
	*ret_changed = r == 0;
	return r;
}
