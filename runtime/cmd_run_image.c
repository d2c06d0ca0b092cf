/* runtime/cmd_run_image.c - `container run --image REF` (runtime/run_image.h):
 * the root filesystem is an overlay of the image's layers (images/, kept
 * out of the lean binary's files) in $BERTH_STATE_DIR/containers/<name>,
 * pulled per BERTH_IMAGE_PULL_BEHAVIOR; unmounted and removed after the run,
 * on every path. */
#include "runtime/run_image.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/rootfs.h"
#include "lib/config.h"
#include "runtime/runtime.h"

/* What --image adds to a run, and what the spec held before it. */
struct run_image {
	struct img_store *store;
	char dir[PATH_MAX];         /* $BERTH_STATE_DIR/containers/<name>; "" = none */
	struct img_run run;
	bool prepared;
	const char **own_env;       /* the spec's own --env array */
	size_t own_n_env;
};

/* Creates $BERTH_STATE_DIR/containers/<name> for this run alone. */
static int make_container_dir(const char *name, struct run_image *ir, struct err *e)
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

static int prepare(struct rt_spec *s, struct run_image *ir, struct err *e)
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

int run_image_release(struct rt_spec *s, struct run_image *ir, struct err *e)
{
	int r = 0;

	if (!ir)
		return 0;

	if (ir->prepared) {
		s->env = ir->own_env;
		s->n_env = ir->own_n_env;
		r = img_run_release(ir->store, ir->dir, &ir->run, e);
	}
	if (r == 0 && ir->dir[0] && rmdir(ir->dir) < 0)
		r = err_set(e, -errno, "remove '%s'", ir->dir);
	img_store_free(ir->store);
	free(ir);
	return r;
}

int run_image_prepare(struct rt_spec *s, struct run_image **ret, struct err *e)
{
	struct run_image *ir = calloc(1, sizeof(*ir));

	*ret = ir;
	if (!ir)
		return err_set(e, -ENOMEM, "--image");
	return prepare(s, ir, e);
}
