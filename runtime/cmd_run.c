/* runtime/cmd_run.c - `berth container run`: the front-end of runtime/.
 * Exit status: the container's; 128+N for signal N (137 when the OOM killer
 * took pid 1); 125 (one line on stderr) when berth itself fails.  Any OOM
 * kill in the container is reported on stderr as OutOfMemoryError.
 *
 * --image REF: the root filesystem is an overlay of the image's layers
 * (images/, kept out of runtime's library files so the lean berth-shim links
 * without it) in $BERTH_STATE_DIR/containers/<name>, pulled per
 * BERTH_IMAGE_PULL_BEHAVIOR; unmounted and removed after the run, on every
 * path. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/rootfs.h"
#include "lib/cmd.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/log.h"
#include "runtime/runtime.h"

#define EXIT_RUNTIME_FAILURE 125

/* What --image adds to a run, and what the spec held before it. */
struct image_run {
	struct img_store *store;
	char dir[PATH_MAX];         /* $BERTH_STATE_DIR/containers/<name>; "" = none */
	struct img_run run;
	bool prepared;
	const char **own_env;       /* the spec's own --env array */
	size_t own_n_env;
};

static void warn_unenforced(const struct rt_plan *p)
{
	const struct cg_host *h = &p->host;

	log_warn("cgroup v2 at '%s' lacks%s%s: running UNENFORCED (cgroup-enforce=off), "
		 "those limits are not applied",
		 h->mount, h->has_cpu ? "" : " cpu", h->has_memory ? "" : " memory");
}

/* Creates $BERTH_STATE_DIR/containers/<name> for this run alone. */
static int make_container_dir(const char *name, struct image_run *ir, struct err *e)
{
	const char *state = getenv("BERTH_STATE_DIR");
	char parent[PATH_MAX - RT_NAME_MAX - 2];   /* room for "/<name>" */
	int n;

	if (!state || !state[0])
		state = config_keys[CFG_STATE_DIR].def;
	if (state[0] != '/')
		return err_setx(e, -EINVAL, "BERTH_STATE_DIR '%s': must be an absolute path", state);
	n = snprintf(parent, sizeof(parent), "%s/containers", state);
	if (n < 0 || (size_t)n >= sizeof(parent))
		return err_setx(e, -ENAMETOOLONG, "BERTH_STATE_DIR '%s': too long", state);
	if (mkdir(parent, 0700) < 0 && errno != EEXIST)
		return err_set(e, -errno, "create '%s'", parent);
	snprintf(ir->dir, sizeof(ir->dir), "%s/%s", parent, name);
	if (mkdir(ir->dir, 0700) < 0) {
		int r = -errno;

		ir->dir[0] = '\0';
		if (r == -EEXIST)
			return err_setx(e, r, "container '%s' already exists ('%s/%s'; a crashed run "
					"leaves it: remove it once nothing is mounted there)",
					name, parent, name);
		return err_set(e, r, "create '%s/%s'", parent, name);
	}
	return 0;
}

/* The image's rootfs, command, env, workdir and user into S, the flags
 * overriding the image's config as `docker run` does. */
static int image_prepare(struct rt_spec *s, struct image_run *ir, struct err *e)
{
	char *no_entrypoint[] = { NULL };
	char *entrypoint[] = { (char *)s->entrypoint, NULL };
	struct img_overrides ov = {
		.entrypoint = !s->entrypoint ? NULL : s->entrypoint[0] ? entrypoint : no_entrypoint,
		.command = s->argv,
		.environment = (char *const *)s->env,   /* NULL-terminated after n_env */
		.workdir = s->workdir,
		.user = s->user,
	};
	struct img_run_opts opts = { .overrides = &ov, .pull = true };
	int r;

	ir->store = img_store_open(NULL, e);
	if (!ir->store)
		return e->code ? e->code : -ENOMEM;
	if (!s->name[0])
		rt_name_generate(s->name, sizeof(s->name));
	r = make_container_dir(s->name, ir, e);
	if (r < 0)
		return r;
	r = img_run_prepare(ir->store, s->image, ir->dir, &opts, &ir->run, e);
	if (r < 0)
		return r;
	ir->prepared = true;
	ir->own_env = s->env;
	ir->own_n_env = s->n_env;
	s->rootfs = ir->run.rootfs;
	s->argv = ir->run.exec.argv;
	s->env = (const char **)ir->run.exec.env;
	s->n_env = img_strv_length(ir->run.exec.env);
	s->workdir = ir->run.exec.workdir;
	s->user = ir->run.exec.user[0] ? ir->run.exec.user : NULL;
	return 0;
}

/* Unmounts and removes everything image_prepare made, whatever got made;
 * the spec gets its own arrays back.  The first error wins. */
static int image_release(struct rt_spec *s, struct image_run *ir, struct err *e)
{
	int r = 0;

	if (ir->prepared) {
		s->env = ir->own_env;
		s->n_env = ir->own_n_env;
		r = img_run_release(ir->store, ir->dir, &ir->run, e);
	}
	if (r == 0 && ir->dir[0] && rmdir(ir->dir) < 0)
		r = err_set(e, -errno, "remove '%s'", ir->dir);
	ir->store = img_store_free(ir->store);
	return r;
}

static int run_spec(struct rt_spec *spec, struct rt_result *res, struct err *e)
{
	struct rt_plan plan;
	int r;

	r = rt_plan(spec, &plan, e);
	if (r < 0)
		return r;
	/* Test seam: exercise the path for kernels without CLONE_INTO_CGROUP. */
	plan.force_clone_fallback = getenv("BERTH_TEST_CLONE_FALLBACK") != NULL;
	if (plan.unenforced)
		warn_unenforced(&plan);
	fflush(NULL); /* nothing buffered may be written twice by the child */
	r = rt_container_run(&plan, res, e);
	rt_plan_release(&plan);
	return r;
}

static int cmd_container_run(int argc, char **argv)
{
	struct image_run ir = { 0 };
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
	r = spec.image ? image_prepare(&spec, &ir, &e) : 0;
	if (r == 0)
		r = run_spec(&spec, &res, &e);
	r2 = spec.image ? image_release(&spec, &ir, &e2) : 0;
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
