/* runtime/shim_volumes.c - the task's volumes in the shim (volumes/): read
 * with spec.json, made to exist on the host before the first container
 * (vol_task_prepare), opened as detached mounts for each container just
 * before its clone (the child attaches them inside its rootfs), and
 * released once, when the task ends.  The shim lives across agent restarts,
 * so a re-adopted task is never prepared twice; a shim killed before its
 * release leaves the uses to the agent's cleanup (vol_task_release_id). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/shim_run.h"
#include "volumes/volumes.h"

struct shim_vol {
	struct vol_cfg cfg;
	struct vol_spec spec;
	struct vol_task task;     /* points at cfg and spec */
	bool prepared;
};

int shim_vol_parse(struct shim_task *t, const cJSON *obj, struct err *e)
{
	struct shim_vol *v;
	int r;

	if (!obj || cJSON_IsNull(obj))
		return 0;
	v = calloc(1, sizeof(*v));
	if (!v)
		return err_set(e, -ENOMEM, "spec: volumes");
	r = vol_task_json_parse(obj, &v->cfg, &v->spec, e);
	if (r < 0) {
		free(v);
		return err_wrap(e, "spec");
	}
	t->vol = v;
	return 0;
}

void shim_vol_free(struct shim_task *t)
{
	struct shim_vol *v = t->vol;

	if (!v)
		return;
	vol_spec_free(&v->spec);
	vol_cfg_free(&v->cfg);
	free(v);
	t->vol = NULL;
}

int shim_vol_prepare(struct shim *s, struct err *e)
{
	struct shim_vol *v = s->task.vol;

	if (!v || v->prepared)
		return 0;
	if (vol_task_prepare(&v->cfg, &v->spec, s->task.task_id, &v->task, e) < 0)
		return err_wrap(e, "ResourceInitializationError");
	v->prepared = true;
	return 0;
}

void shim_vol_release(struct shim *s)
{
	struct shim_vol *v = s->task.vol;
	struct err ignored = ERR_INIT;

	if (!v || !v->prepared)
		return;
	/* A failure is left to the agent's cleanup, which releases again. */
	(void)vol_task_release(&v->task, &ignored);
	v->prepared = false;
}

static bool has_ctr(const struct vol_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_ctrs; i++)
		if (strcmp(s->ctrs[i].name, name) == 0)
			return true;
	return false;
}

int shim_vol_ctr_open(struct shim_ctr *c, struct rt_plan *p, struct vol_ctr_mounts *ret,
		      struct err *e)
{
	struct shim_vol *v = c->shim->task.vol;
	struct vol_plan plan;
	int r;

	*ret = (struct vol_ctr_mounts){ 0 };
	if (!v || !v->prepared || !has_ctr(&v->spec, c->spec->name))
		return 0;
	r = vol_plan_build(&v->spec, c->spec->name, &plan, e);
	if (r < 0)
		return r;
	if (plan.n)
		r = vol_ctr_prepare(&v->task, &plan, p->rootfs, ret, e);
	vol_plan_free(&plan);
	if (r < 0)
		return r;
	p->volumes = ret;
	return 0;
}
