/* agent/report.c - what the shim says (status.json) -> what control/ records
 * (pure). */
#include <errno.h>
#include <string.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define OOM_REASON "OutOfMemoryError: Container killed due to memory usage"

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Copies O[K] into R when it is a string/number (null and absent are "not set"). */
static bool copy(cJSON *r, const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);

	if (!v || (!cJSON_IsString(v) && !cJSON_IsNumber(v)))
		return true;
	return cJSON_AddItemToObject(r, k, cJSON_Duplicate(v, false));
}

static cJSON *container_report(const cJSON *c)
{
	static const char *const copied[] = { "name", "lastStatus", "exitCode", "reason",
					      "healthStatus" };
	cJSON *r = cJSON_CreateObject();

	for (size_t i = 0; r && i < ARRAY_SIZE(copied); i++)
		if (!copy(r, c, copied[i]))
			goto fail;
	if (r && cJSON_IsTrue(get(c, "oomKilled")) && !get(r, "reason") &&
	    !cJSON_AddStringToObject(r, "reason", OOM_REASON))
		goto fail;
	return r;
fail:
	cJSON_Delete(r);
	return NULL;
}

int report_from_status(const cJSON *st, cJSON **ret)
{
	static const char *const copied[] = {
		"lastStatus", "desiredStatus", "stopCode", "stoppedReason", "healthStatus",
		"startedAt", "stoppingAt", "stoppedAt",
	};
	_cleanup_(cJSON_Deletep) cJSON *r = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray();
	const cJSON *c, *stopped = get(st, "stoppedAt");

	if (!r || !cJSON_AddItemToObject(r, "containers", list))
		return cJSON_Delete(list), -ENOMEM;
	if (!cJSON_IsObject(st) || task_status_parse(json_get_str(st, "lastStatus")) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(copied); i++)
		if (!copy(r, st, copied[i]))
			return -ENOMEM;
	/* The shim's containers all stopped when it says stoppedAt; stopping
	 * began no later (an essential exit goes straight to stopped). */
	if (cJSON_IsNumber(stopped) &&
	    !cJSON_AddNumberToObject(r, "executionStoppedAt", stopped->valuedouble))
		return -ENOMEM;
	if (cJSON_IsNumber(stopped) && !get(r, "stoppingAt") &&
	    !cJSON_AddNumberToObject(r, "stoppingAt", stopped->valuedouble))
		return -ENOMEM;
	cJSON_ArrayForEach(c, get(st, "containers")) {
		if (!json_get_str(c, "name"))
			return -EINVAL;
		if (!cJSON_AddItemToArray(list, container_report(c)))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(r);
	return 0;
}

size_t report_steps(enum task_status from, enum task_status to, bool ran, enum task_status *out)
{
	static const struct { enum task_status s; bool needs_run; } empty[] = {
		{ TASK_ACTIVATING, true }, { TASK_DEACTIVATING, true }, { TASK_DEPROVISIONING, false },
	};
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(empty); i++)
		if (empty[i].s > from && empty[i].s < to && (ran || !empty[i].needs_run))
			out[n++] = empty[i].s;
	return n;
}

int report_failed_start(const cJSON *task, const char *reason, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *r = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray();
	const cJSON *c;

	if (!r || !cJSON_AddItemToObject(r, "containers", list))
		return cJSON_Delete(list), -ENOMEM;
	if (!cJSON_AddStringToObject(r, "lastStatus", "STOPPED") ||
	    !cJSON_AddStringToObject(r, "desiredStatus", "STOPPED") ||
	    !cJSON_AddStringToObject(r, "stopCode", "TaskFailedToStart") ||
	    !cJSON_AddStringToObject(r, "stoppedReason", reason))
		return -ENOMEM;
	cJSON_ArrayForEach(c, get(task, "containers")) {
		cJSON *cr = cJSON_CreateObject();

		if (!cr || !cJSON_AddItemToArray(list, cr) ||
		    !cJSON_AddStringToObject(cr, "name", json_get_str(c, "name") ? json_get_str(c, "name") : "") ||
		    !cJSON_AddStringToObject(cr, "lastStatus", "STOPPED") ||
		    (json_get_str(c, "lastStatus") && strcmp(json_get_str(c, "lastStatus"), "STOPPED") != 0 &&
		     !cJSON_AddStringToObject(cr, "reason", reason)))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(r);
	return 0;
}
