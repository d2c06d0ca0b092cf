/* agent/start_helper.c - what a task's start helper does, in the process
 * task.c's start_async forks for it: the task's network namespace, each
 * container's image -> mounted rootfs and merged run config, the pull's
 * times for the agent (a note in the task dir), spec.json for the shim. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/internal.h"
#include "images/image.h"
#include "images/pull.h"
#include "images/rootfs.h"
#include "images/store.h"
#include "lib/cleanup.h"
#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/json.h"

int agent_task_mkdir(const char *base, const char *id, const char *name, char *out, size_t size)
{
	int n = name ? snprintf(out, size, "%s/%s/%s", base, id, name)
		     : snprintf(out, size, "%s/%s", base, id);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return mkdir(out, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

void agent_task_note(const char *dir, const char *name, const char *text)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0)
		(void)write_file_create_at(dfd, name, text, strlen(text), 0600);
}

struct prepared {
	char rootfs[PATH_MAX];
	struct img_exec exec;
};

/* Image -> mounted rootfs + merged run config of one container. */
static int prepare_container(struct atask *t, struct img_store *img, const cJSON *def,
			     struct prepared *p, struct err *e)
{
	const char *image = json_get_str(def, "image"), *name = json_get_str(def, "name");
	char cdir[PATH_MAX], digest[IMG_DIGEST_MAX];
	struct img_config cfg = { 0 };
	struct img_overrides ov;
	int r;

	if (!image || !name)
		return err_setx(e, -EINVAL, "container without an image or a name");
	r = agent_task_mkdir(t->a->state_tasks, t->id, name, cdir, sizeof(cdir));
	if (r < 0)
		return err_set(e, r, "create '%s'", cdir);
	r = img_ensure_with(img, image, t->a->pull, NULL, NULL, e);
	if (r < 0)
		return err_wrap(e, "CannotPullContainerError: %s", image);
	r = img_rootfs_mount(img, image, cdir, p->rootfs, e);
	if (r < 0)
		return err_wrap(e, "CannotCreateContainerError: %s", image);
	r = img_resolve(img, image, digest, e);
	if (r >= 0)
		r = img_config_load(img, digest, &cfg, e);
	if (r < 0)
		return err_wrap(e, "CannotInspectContainerError: %s", image);
	if (spec_overrides(def, &ov) < 0) {
		img_config_release(&cfg);
		return err_set(e, -ENOMEM, "overrides");
	}
	r = img_exec_merge(&cfg, &ov, &p->exec);
	spec_overrides_release(&ov);
	img_config_release(&cfg);
	if (r == -ENOEXEC)
		return err_setx(e, r, "CannotStartContainerError: container '%s' has no command "
				"(neither the task definition nor the image gives one)", name);
	return r < 0 ? err_set(e, r, "CannotStartContainerError") : 0;
}

static int write_spec(struct atask *t, const cJSON *task, const cJSON *td, const char *rdir,
		      const struct prepared *p, size_t n, struct err *e)
{
	struct spec_container_in ci[SPEC_MAX_CONTAINERS];
	_cleanup_(cJSON_Deletep) cJSON *spec = NULL, *vols = NULL;
	_cleanup_free_ char *text = NULL;
	char sdir[PATH_MAX];
	_cleanup_close_ int dfd = -1;
	struct spec_in in = {
		.task = task, .taskdef = td, .task_id = t->id, .cluster = t->cluster,
		.state_dir = sdir, .containers = ci,
		.cgroup_enforce = config_get_bool(t->a->cfg, CFG_CGROUP_ENFORCE),
		.cgroup_parent = config_get(t->a->cfg, CFG_CGROUP_PARENT),
		.pids_limit = config_get(t->a->cfg, CFG_TASK_PIDS_LIMIT)
			      ? (int64_t)config_get_u64(t->a->cfg, CFG_TASK_PIDS_LIMIT) : 0,
		.stop_timeout_sec = t->a->stop_timeout_usec / 1000000,
	};
	int r;

	char netns[PATH_MAX], addr[INET_ADDRSTRLEN];
	char *addrs[] = { addr, NULL };

	for (size_t i = 0; i < n; i++)
		ci[i] = (struct spec_container_in){ p[i].rootfs, &p[i].exec };
	if (agent_net_wanted(td) && agent_net_path(t->a, t->id, netns, sizeof(netns)) == 0)
		in.netns_path = netns;
	/* The task's own address goes into its containers' /etc/hosts. */
	if (in.netns_path && agent_net_address(t->a, t->id, addr) == 0)
		in.addresses = addrs;
	if (snprintf(sdir, sizeof(sdir), "%s/%s", t->a->state_tasks, t->id) >= (int)sizeof(sdir))
		return err_set(e, -ENAMETOOLONG, "the task's state dir");
	if ((r = agent_volumes_json(t->a, td, &vols, e)) < 0)
		return r;
	in.volumes = vols;
	if (spec_build(&in, &spec) < 0 || !(text = cJSON_Print(spec)))
		return err_set(e, -ENOMEM, "spec.json");
	dfd = open(rdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(e, -errno, "open '%s'", rdir);
	r = write_file_create_at(dfd, "spec.json.tmp", text, strlen(text), 0600);
	if (r == 0 && renameat(dfd, "spec.json.tmp", dfd, "spec.json") < 0)
		r = -errno;
	return r < 0 ? err_set(e, r, "write '%s/spec.json'", rdir) : 0;
}

static void release_prepared(struct prepared *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		img_exec_release(&p[i].exec);
}

int atask_start_work(struct atask *t, struct img_store *img, const cJSON *task,
		      const cJSON *td, const char *dir, struct err *e)
{
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(td, "containerDefinitions"), *d;
	struct prepared p[SPEC_MAX_CONTAINERS];
	char when[64];
	size_t n = 0;
	int r = 0;

	memset(p, 0, sizeof(p));
	r = agent_net_create(t->a, t->id, td, e);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(d, defs) {
		if (n == SPEC_MAX_CONTAINERS)
			break;
		r = prepare_container(t, img, d, &p[n++], e);
		if (r < 0)
			break;
	}
	if (r >= 0) {
		snprintf(when, sizeof(when), "%.3f %.3f\n", t->pull_started_at, agent_now_sec());
		agent_task_note(dir, AGENT_NOTE_PULL, when);
		r = write_spec(t, task, td, dir, p, n, e);
	}
	release_prepared(p, n);
	return r;
}
