/* runtime/cmd_run.c - `berth container run`: the front-end of runtime/.
 * Exit status: the container's; 128+N for signal N (137 when the OOM killer
 * took pid 1); 125 (one line on stderr) when berth itself fails.  Any OOM
 * kill in the container is reported on stderr as OutOfMemoryError.
 *
 * --image REF: runtime/run_image.h (the image's rootfs and defaults).
 *
 * --volume SRC:DST[:ro] binds a host path (docker -v) through volumes/ as an
 * ECS host sourcePath volume, so BERTH_HOST_VOLUME_ROOTS and the in-root
 * resolution of DST apply; --shm-size sizes /dev/shm.  The mounts are
 * prepared detached here and attached by the container child. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/err.h"
#include "lib/log.h"
#include "runtime/run_image.h"
#include "runtime/runtime.h"
#include "volumes/volumes.h"

#define EXIT_RUNTIME_FAILURE 125

/* What --volume and --shm-size add to a run (volumes/). */
struct volume_run {
	struct vol_cfg cfg;
	struct vol_spec spec;
	struct vol_task task;
	struct vol_plan plan;
	struct vol_ctr_mounts mounts;
	bool have_cfg, have_spec, have_task, have_plan;
};

/* The name volumes/ knows this container by (its own task of one). */
#define VOLUME_CTR "main"
#define VOLUME_TASK_ID "container-run"

static void warn_unenforced(const struct rt_plan *p)
{
	const struct cg_host *h = &p->host;

	log_warn("cgroup v2 at '%s' lacks%s%s: running UNENFORCED (cgroup-enforce=off), "
		 "those limits are not applied",
		 h->mount, h->has_cpu ? "" : " cpu", h->has_memory ? "" : " memory");
}

/* "SRC:DST[:ro|:rw]" -> a volumes[] entry and a mountPoints[] entry. */
static int add_volume_json(const char *arg, size_t i, cJSON *vols, cJSON *mps, struct err *e)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *src, *dst, *mode, name[32];
	cJSON *v, *mp;

	if (!copy)
		return err_set(e, -ENOMEM, "--volume");
	src = copy;
	dst = strchr(src, ':');
	if (!dst)
		return err_setx(e, -EINVAL, "--volume '%s': must be SRC:DST[:ro]", arg);
	*dst++ = '\0';
	mode = strchr(dst, ':');
	if (mode)
		*mode++ = '\0';
	if (src[0] != '/')
		return err_setx(e, -EINVAL, "--volume '%s': SRC must be an absolute host path", arg);
	if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		return err_setx(e, -EINVAL, "--volume '%s': the mode must be 'ro' or 'rw'", arg);
	snprintf(name, sizeof(name), "volume%zu", i);
	v = cJSON_CreateObject();
	mp = cJSON_CreateObject();
	cJSON_AddItemToArray(vols, v);
	cJSON_AddItemToArray(mps, mp);
	if (!cJSON_AddStringToObject(v, "name", name) ||
	    !cJSON_AddStringToObject(cJSON_AddObjectToObject(v, "host"), "sourcePath", src) ||
	    !cJSON_AddStringToObject(mp, "sourceVolume", name) ||
	    !cJSON_AddStringToObject(mp, "containerPath", dst) ||
	    !cJSON_AddBoolToObject(mp, "readOnly", mode && strcmp(mode, "ro") == 0))
		return err_set(e, -ENOMEM, "--volume");
	return 0;
}

/* The flags as the task definition volumes/ parses (and checks). */
static cJSON *volume_taskdef(const struct rt_spec *s, struct err *e)
{
	cJSON *td = cJSON_CreateObject(), *ctrs, *ctr, *vols, *mps, *lp;

	if (!td || !cJSON_AddStringToObject(td, "family", VOLUME_TASK_ID) ||
	    !(vols = cJSON_AddArrayToObject(td, "volumes")) ||
	    !(ctrs = cJSON_AddArrayToObject(td, "containerDefinitions")) ||
	    !(ctr = cJSON_CreateObject()) || !cJSON_AddItemToArray(ctrs, ctr) ||
	    !cJSON_AddStringToObject(ctr, "name", VOLUME_CTR) ||
	    !(mps = cJSON_AddArrayToObject(ctr, "mountPoints")) ||
	    !(lp = cJSON_AddObjectToObject(ctr, "linuxParameters"))) {
		cJSON_Delete(td);
		err_set(e, -ENOMEM, "volumes");
		return NULL;
	}
	if (s->shm_size_mib && !cJSON_AddNumberToObject(lp, "sharedMemorySize", (double)s->shm_size_mib)) {
		cJSON_Delete(td);
		err_set(e, -ENOMEM, "--shm-size");
		return NULL;
	}
	for (size_t i = 0; i < s->n_volumes; i++) {
		if (add_volume_json(s->volumes[i], i, vols, mps, e) < 0) {
			cJSON_Delete(td);
			return NULL;
		}
	}
	return td;
}

/* Host paths checked and opened, each mount prepared detached; PLAN gets
 * them and the /dev/shm options. */
static int volumes_prepare(const struct rt_spec *s, struct volume_run *vr, struct rt_plan *plan,
			   struct err *e)
{
	cJSON *td = volume_taskdef(s, e);
	int r;

	if (!td)
		return e->code;
	r = vol_spec_parse(td, &vr->spec, e);
	cJSON_Delete(td);
	if (r < 0)
		return err_wrap(e, "--volume/--shm-size");
	vr->have_spec = true;
	if ((r = vol_cfg_from_env(&vr->cfg, e)) < 0)
		return r;
	vr->have_cfg = true;
	if ((r = vol_task_prepare(&vr->cfg, &vr->spec, VOLUME_TASK_ID, &vr->task, e)) < 0)
		return r;
	vr->have_task = true;
	if ((r = vol_plan_build(&vr->spec, VOLUME_CTR, &vr->plan, e)) < 0)
		return r;
	vr->have_plan = true;
	if ((r = vol_ctr_prepare(&vr->task, &vr->plan, plan->rootfs, &vr->mounts, e)) < 0)
		return r;
	r = vol_shm_options(&vr->mounts, plan->shm_options, sizeof(plan->shm_options));
	if (r < 0)
		return err_set(e, r, "--shm-size");
	plan->volumes = &vr->mounts;
	return 0;
}

/* Closes the detached mounts (attached ones live only in the container's
 * mount namespace) and drops what prepare holds.  The first error wins. */
static int volumes_release(struct volume_run *vr, struct err *e)
{
	int r = 0;

	vol_ctr_mounts_free(&vr->mounts);
	if (vr->have_plan)
		vol_plan_free(&vr->plan);
	if (vr->have_task)
		r = vol_task_release(&vr->task, e);
	if (vr->have_spec)
		vol_spec_free(&vr->spec);
	if (vr->have_cfg)
		vol_cfg_free(&vr->cfg);
	return r;
}

static int run_spec(struct rt_spec *spec, struct rt_result *res, struct err *e)
{
	struct volume_run vr = { 0 };
	struct err e2 = ERR_INIT;
	struct rt_plan plan;
	int r, r2;

	r = rt_plan(spec, &plan, e);
	if (r < 0)
		return r;
	/* Test seam: exercise the path for kernels without CLONE_INTO_CGROUP. */
	plan.force_clone_fallback = getenv("BERTH_TEST_CLONE_FALLBACK") != NULL;
	if (spec->n_volumes || spec->shm_size_mib)
		r = volumes_prepare(spec, &vr, &plan, e);
	if (r == 0) {
		if (plan.unenforced)
			warn_unenforced(&plan);
		fflush(NULL); /* nothing buffered may be written twice by the child */
		r = rt_container_run(&plan, res, e);
	}
	r2 = volumes_release(&vr, &e2);
	rt_plan_release(&plan);
	if (r == 0 && r2 < 0) {
		*e = e2;
		r = r2;
	}
	return r;
}

static int cmd_container_run(int argc, char **argv)
{
	struct run_image *ir = NULL;
	struct err e = ERR_INIT, e2 = ERR_INIT;
	struct rt_spec spec;
	struct rt_result res;
	int r, r2;

	r = rt_spec_parse(argc, argv, getenv("BERTH_CGROUP_ENFORCE"),
			  getenv("BERTH_CGROUP_PARENT"), &spec, &e);
	if (r < 0) {
		log_error("%s", e.msg);
		return EXIT_RUNTIME_FAILURE;
	}
	if (spec.help) {
		fputs(rt_spec_usage, stdout);
		rt_spec_release(&spec);
		return 0;
	}
	r = spec.image ? run_image_prepare(&spec, &ir, &e) : 0;
	if (r == 0)
		r = run_spec(&spec, &res, &e);
	r2 = run_image_release(&spec, ir, &e2);
	rt_spec_release(&spec);
	if (r < 0 || r2 < 0) {
		log_error("%s", r < 0 ? e.msg : e2.msg);
		return EXIT_RUNTIME_FAILURE;
	}
	if (res.oom_killed)
		fprintf(stderr, "OutOfMemoryError: Container killed due to memory usage\n");
	return res.exit_code;
}

BERTH_COMMAND(container_run, "container run", cmd_container_run,
	      "run one container (low-level, like `crun run`)");
