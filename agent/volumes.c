/* agent/volumes.c - the agent's side of task volumes (volumes/): what
 * spec.json carries for the shim, which prepares and releases them, and the
 * host cleanup, which releases again whatever a killed shim left in use and
 * removes the task-scoped volumes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/log.h"
#include "volumes/volumes.h"

#define SPEC_MAX (1u << 20)

static const char *match_full(const struct agent *a)
{
	return config_get_bool(a->cfg, CFG_SHARED_VOLUME_MATCH_FULL_CONFIG) ? "true" : "false";
}

int agent_volumes_json(struct agent *a, const cJSON *td, cJSON **ret, struct err *e)
{
	int r = vol_task_json_build(td, config_get(a->cfg, CFG_STATE_DIR),
				    config_get(a->cfg, CFG_HOST_VOLUME_ROOTS), match_full(a),
				    config_get(a->cfg, CFG_SHARED_FILESYSTEMS), ret, e);

	return r < 0 ? err_wrap(e, "ResourceInitializationError") : 0;
}

/* The volumes object of the task's spec.json: -ENOENT when there is none
 * (a start that never wrote one). */
static int spec_volumes(struct agent *a, const char *id, struct vol_cfg *cfg,
			struct vol_spec *spec, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *root = NULL;
	_cleanup_free_ char *path = NULL, *text = NULL;
	const cJSON *vols;
	size_t len;
	int r;

	if (asprintf(&path, "%s/%s/spec.json", a->run_tasks, id) < 0)
		return -ENOMEM;
	r = read_file_alloc(path, SPEC_MAX, &text, &len);
	if (r < 0)
		return r == -ENOENT ? r : err_set(e, r, "read '%s'", path);
	root = json_parse_strict(text, len);
	vols = cJSON_GetObjectItemCaseSensitive(root, "volumes");
	if (!vols || cJSON_IsNull(vols))
		return -ENOENT;
	return vol_task_json_parse(vols, cfg, spec, e);
}

int agent_volumes_cleanup(struct agent *a, const char *id)
{
	struct vol_cfg cfg;
	struct vol_spec spec;
	struct err e = ERR_INIT;
	int r = spec_volumes(a, id, &cfg, &spec, &e);

	if (r == 0) {
		r = vol_task_release_id(&cfg, &spec, id, &e);
		vol_spec_free(&spec);
		if (r == 0)
			r = vol_task_cleanup(&cfg, id, &e);
		vol_cfg_free(&cfg);
	} else {
		/* No volumes recorded (or unreadable): the task dirs still go. */
		if (r != -ENOENT)
			log_warn("task %s: volumes: %s", id, e.msg);
		r = vol_cfg_from(config_get(a->cfg, CFG_STATE_DIR), NULL, NULL, NULL, &cfg, &e);
		if (r == 0) {
			r = vol_task_cleanup(&cfg, id, &e);
			vol_cfg_free(&cfg);
		}
	}
	if (r < 0)
		log_warn("task %s: volumes: %s", id, e.msg);
	return r;
}
