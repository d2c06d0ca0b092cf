/* volumes/plan.c - one container's mounts, decided in pure code (STYLE P7). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "lib/cleanup.h"
#include "volumes/volumes.h"

/* tmpfs defaults as Docker gives them: noexec, nosuid, nodev. */
#define TMPFS_DEFAULT_ATTR (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

static const struct attr_opt {
	const char *name;
	unsigned int set, clear;
} attr_opts[] = {
	{ "ro", MOUNT_ATTR_RDONLY, 0 },
	{ "rw", 0, MOUNT_ATTR_RDONLY },
	{ "nosuid", MOUNT_ATTR_NOSUID, 0 },
	{ "suid", 0, MOUNT_ATTR_NOSUID },
	{ "nodev", MOUNT_ATTR_NODEV, 0 },
	{ "dev", 0, MOUNT_ATTR_NODEV },
	{ "noexec", MOUNT_ATTR_NOEXEC, 0 },
	{ "exec", 0, MOUNT_ATTR_NOEXEC },
	{ "noatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
	{ "relatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
	{ "strictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
	{ "atime", 0, MOUNT_ATTR__ATIME },
	{ "nodiratime", MOUNT_ATTR_NODIRATIME, 0 },
	{ "diratime", 0, MOUNT_ATTR_NODIRATIME },
	{ "nosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0 },
	/* Propagation: containers are private anyway; anything else is refused. */
	{ "private", 0, 0 },
	{ "rprivate", 0, 0 },
};

/* tmpfs parameters passed to fsconfig, with the digits they may hold. */
static const struct fs_opt {
	const char *name;
	const char *charset;
} fs_opts[] = {
	{ "mode", "01234567" },
	{ "uid", "0123456789" },
	{ "gid", "0123456789" },
	{ "nr_inodes", "0123456789kmgKMG" },
};

static int fs_opt_ok(const char *o)
{
	const char *eq = strchr(o, '=');

	if (!eq || !eq[1] || strlen(eq + 1) > 20)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(fs_opts); i++)
		if (strlen(fs_opts[i].name) == (size_t)(eq - o) &&
		    strncmp(o, fs_opts[i].name, (size_t)(eq - o)) == 0)
			return strspn(eq + 1, fs_opts[i].charset) == strlen(eq + 1);
	return 0;
}

int vol_tmpfs_options(const cJSON *list, unsigned int *ret_attr, char **ret_fs_opts,
		      const char **ret_bad)
{
	unsigned int attr = TMPFS_DEFAULT_ATTR;
	_cleanup_free_ char *fs = NULL;
	size_t len = 0;
	const cJSON *it;

	*ret_bad = NULL;
	fs = calloc(1, 1);
	if (!fs)
		return -ENOMEM;
	if (list && !cJSON_IsNull(list) && (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > 64))
		return -EINVAL;
	cJSON_ArrayForEach(it, list) {
		const char *o = cJSON_IsString(it) ? it->valuestring : NULL;
		bool found = false;
		char *n;

		if (!o)
			return -EINVAL;
		for (size_t i = 0; i < ARRAY_SIZE(attr_opts) && !found; i++)
			if (strcmp(o, attr_opts[i].name) == 0) {
				attr = (attr & ~attr_opts[i].clear) | attr_opts[i].set;
				found = true;
			}
		if (found)
			continue;
		if (!fs_opt_ok(o)) {
			*ret_bad = o;
			return -EINVAL;
		}
		n = realloc(fs, len + strlen(o) + 2);
		if (!n)
			return -ENOMEM;
		fs = n;
		len += (size_t)sprintf(fs + len, "%s%s", len ? "," : "", o);
	}
	*ret_attr = attr;
	*ret_fs_opts = TAKE_PTR(fs);
	return 0;
}

static const struct vol_ctr *find_ctr(const struct vol_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_ctrs; i++)
		if (strcmp(s->ctrs[i].name, name) == 0)
			return &s->ctrs[i];
	return NULL;
}

static bool has_target(const struct vol_plan *p, const char *target)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->m[i].target, target) == 0)
			return true;
	return false;
}

static int push(struct vol_plan *p, size_t *cap, const struct vol_mount *m)
{
	if (p->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct vol_mount *n = realloc(p->m, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->m = n;
		*cap = ncap;
	}
	p->m[p->n++] = *m;
	return 0;
}

/* Adds C's mountPoints (and, recursively, its volumesFrom) that P lacks.
 * RO forces read-only; DEPTH bounds the walk, which also catches cycles. */
static int add_ctr(const struct vol_spec *s, const struct vol_ctr *c, bool ro, const char *via,
		   struct vol_plan *p, size_t *cap, unsigned depth, struct err *e)
{
	int r;

	if (depth > s->n_ctrs)
		return err_setx(e, -ELOOP, "container '%s': volumesFrom forms a cycle", c->name);
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct vol_mount_point *mp = &c->mounts[i];
		struct vol_mount m = {
			.kind = VOL_M_BIND, .vol = vol_spec_find(s, mp->source_volume),
			.target = mp->container_path, .read_only = mp->read_only || ro, .via = via,
		};

		if (has_target(p, m.target)) {
			if (!via)
				return err_setx(e, -EINVAL, "container '%s': two mounts on '%s'", c->name,
						m.target);
			continue;   /* the container's own mount wins over volumesFrom */
		}
		if ((r = push(p, cap, &m)) < 0)
			return err_set(e, r, "plan mounts");
	}
	for (size_t i = 0; i < c->n_from; i++) {
		const struct vol_ctr *src = find_ctr(s, c->from[i].source_container);

		if (!src)
			return err_setx(e, -EINVAL, "container '%s': no container '%s'", c->name,
					c->from[i].source_container);
		r = add_ctr(s, src, ro || c->from[i].read_only, src->name, p, cap, depth + 1, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static unsigned depth_of(const char *path)
{
	unsigned d = 0;

	for (; *path; path++)
		d += *path == '/';
	return d;
}

static int by_depth(const void *a, const void *b)
{
	const struct vol_mount *x = a, *y = b;
	unsigned dx = depth_of(x->target), dy = depth_of(y->target);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->target, y->target);
}

int vol_plan_build(const struct vol_spec *s, const char *name, struct vol_plan *ret, struct err *e)
{
	const struct vol_ctr *c = find_ctr(s, name);
	struct vol_plan p = { 0 };
	size_t cap = 0;
	int r;

	if (!c)
		return err_setx(e, -ENOENT, "no container '%s' in the task", name);
	r = add_ctr(s, c, false, NULL, &p, &cap, 0, e);
	for (size_t i = 0; r == 0 && i < c->n_tmpfs; i++) {
		struct vol_mount m = { .kind = VOL_M_TMPFS, .tmpfs = &c->tmpfs[i],
				       .target = c->tmpfs[i].container_path,
				       .read_only = c->tmpfs[i].attr & MOUNT_ATTR_RDONLY };

		if (has_target(&p, m.target))
			r = err_setx(e, -EINVAL, "container '%s': two mounts on '%s'", name, m.target);
		else if ((r = push(&p, &cap, &m)) < 0)
			err_set(e, r, "plan mounts");
	}
	if (r < 0) {
		vol_plan_free(&p);
		return r;
	}
	if (p.n)
		qsort(p.m, p.n, sizeof(*p.m), by_depth);
	p.shm_size = c->shm_size;
	*ret = p;
	return 0;
}

void vol_plan_free(struct vol_plan *p)
{
	free(p->m);
	*p = (struct vol_plan){ 0 };
}

static const char *const kind_names[] = {
	[VOL_HOST_PATH] = "host", [VOL_TASK_LOCAL] = "task", [VOL_DOCKER] = "docker",
	[VOL_EFS] = "efs",
};

void vol_plan_dump(const struct vol_plan *p, FILE *out)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct vol_mount *m = &p->m[i];

		if (m->kind == VOL_M_TMPFS)
			fprintf(out, "tmpfs %s size=%llu attr=%#x opts=%s\n", m->target,
				(unsigned long long)m->tmpfs->size, m->tmpfs->attr, m->tmpfs->fs_opts);
		else
			fprintf(out, "bind %s:%s -> %s %s%s%s\n", kind_names[m->vol->kind],
				m->vol->name, m->target, m->read_only ? "ro" : "rw",
				m->via ? " from=" : "", m->via ? m->via : "");
	}
	if (p->shm_size)
		fprintf(out, "shm size=%llu\n", (unsigned long long)p->shm_size);
}
