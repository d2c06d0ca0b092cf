/* volumes/taskjson.c - a task's volumes as one JSON object the agent writes
 * into spec.json and the shim (and the agent's cleanup) read back: the host
 * settings and the volume fields of the task definition, nothing else.
 *
 *   {"stateDir": "/var/lib/berth", "hostVolumeRoots": "..." | null,
 *    "sharedFilesystems": "..." | null, "matchFullConfig": false,
 *    "taskDefinition": {"family", "revision", "volumes": [...],
 *                       "containerDefinitions": [{"name", "mountPoints", "volumesFrom"}]}}
 *
 * linuxParameters (tmpfs, sharedMemorySize) are not carried: the runtime
 * takes those from the container's own spec fields. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "lib/cleanup.h"
#include "volumes/volumes.h"

static void cJSON_Deletep(cJSON **j) { cJSON_Delete(*j); }

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool copy(cJSON *to, const char *k, const cJSON *v)
{
	cJSON *d;

	if (!v)
		return true;
	d = cJSON_Duplicate(v, true);
	if (d && cJSON_AddItemToObject(to, k, d))
		return true;
	cJSON_Delete(d);
	return false;
}

static cJSON *str_or_null(const char *s)
{
	return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* The task definition cut down to what volumes/ reads. */
static cJSON *volume_fields(const cJSON *td)
{
	_cleanup_(cJSON_Deletep) cJSON *o = cJSON_CreateObject();
	cJSON *ctrs = cJSON_CreateArray();
	const cJSON *def;

	if (!o || !ctrs || !cJSON_AddItemToObject(o, "containerDefinitions", ctrs)) {
		cJSON_Delete(ctrs);
		return NULL;
	}
	if (!copy(o, "family", get(td, "family")) || !copy(o, "revision", get(td, "revision")) ||
	    !copy(o, "volumes", get(td, "volumes")))
		return NULL;
	cJSON_ArrayForEach(def, get(td, "containerDefinitions")) {
		cJSON *c = cJSON_CreateObject();

		if (!c || !cJSON_AddItemToArray(ctrs, c)) {
			cJSON_Delete(c);
			return NULL;
		}
		if (!copy(c, "name", get(def, "name")) || !copy(c, "mountPoints", get(def, "mountPoints")) ||
		    !copy(c, "volumesFrom", get(def, "volumesFrom")))
			return NULL;
	}
	return TAKE_PTR(o);
}

int vol_task_json_build(const cJSON *taskdef, const char *state_dir, const char *host_roots,
			const char *match_full, const char *shared_fs, cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *o = cJSON_CreateObject();
	struct vol_cfg cfg;
	struct vol_spec spec;
	cJSON *td = volume_fields(taskdef);
	int r;

	if (!o || !td || !cJSON_AddItemToObject(o, "taskDefinition", td)) {
		cJSON_Delete(td);
		return err_set(e, -ENOMEM, "volumes");
	}
	/* Checked now, so a task that cannot have them fails with the reason. */
	if ((r = vol_cfg_from(state_dir, host_roots, match_full, shared_fs, &cfg, e)) < 0)
		return r;
	r = vol_spec_parse(td, &spec, e);
	if (r == 0 && (!cJSON_AddItemToObject(o, "stateDir", cJSON_CreateString(cfg.state_dir)) ||
		       !cJSON_AddItemToObject(o, "hostVolumeRoots", str_or_null(host_roots)) ||
		       !cJSON_AddItemToObject(o, "sharedFilesystems", str_or_null(shared_fs)) ||
		       !cJSON_AddItemToObject(o, "matchFullConfig",
					      cJSON_CreateBool(cfg.match_full_config))))
		r = err_set(e, -ENOMEM, "volumes");
	if (r == 0)
		vol_spec_free(&spec);
	vol_cfg_free(&cfg);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

static int opt_str(const cJSON *o, const char *k, const char **ret, struct err *e)
{
	const cJSON *v = get(o, k);

	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return err_setx(e, -EINVAL, "volumes: '%s' must be a string", k);
	*ret = v->valuestring;
	return 0;
}

int vol_task_json_parse(const cJSON *obj, struct vol_cfg *ret_cfg, struct vol_spec *ret_spec,
			struct err *e)
{
	const char *state, *roots, *fs;
	const cJSON *match = get(obj, "matchFullConfig");
	int r;

	if (!cJSON_IsObject(obj))
		return err_setx(e, -EINVAL, "volumes: not an object");
	if ((r = opt_str(obj, "stateDir", &state, e)) < 0 ||
	    (r = opt_str(obj, "hostVolumeRoots", &roots, e)) < 0 ||
	    (r = opt_str(obj, "sharedFilesystems", &fs, e)) < 0)
		return r;
	if (!state)
		return err_setx(e, -EINVAL, "volumes: 'stateDir' is required");
	if (match && !cJSON_IsBool(match))
		return err_setx(e, -EINVAL, "volumes: 'matchFullConfig' must be true or false");
	r = vol_cfg_from(state, roots, cJSON_IsTrue(match) ? "true" : "false", fs, ret_cfg, e);
	if (r < 0)
		return r;
	r = vol_spec_parse(get(obj, "taskDefinition"), ret_spec, e);
	if (r < 0)
		vol_cfg_free(ret_cfg);
	return r;
}
