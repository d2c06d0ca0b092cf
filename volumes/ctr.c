/* volumes/ctr.c - one container start: seed new volumes from the image and
 * open every planned mount as a detached mount (see attach.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "volumes/internal.h"

static int mark_seeded(struct vol_task *t, const struct vol_def *v, struct vol_src *src)
{
	char path[PATH_MAX];
	int fd;

	src->seedable = false;
	if (v->kind == VOL_DOCKER)
		return vol_store_mark_seeded(&t->store, src->store_name);
	if (snprintf(path, sizeof(path), "%s/tasks/%s/volumes/.%s.seeded", t->cfg->state_dir, t->id,
		     v->name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Docker's seeding, which the issue asks for: a new, empty task or named
 * volume mounted over a directory with content in the image gets a copy of
 * it, once (ECS-REFERENCE §2 words it for image VOLUME paths; Docker does it
 * for any mount of a new volume).  The image side is resolved inside the
 * rootfs, so a symlink there cannot make us copy host files.  Host
 * sourcePath binds and shared filesystems are never seeded: ECS-REFERENCE §2
 * marks ECS's behaviour there UNVERIFIED, and not writing into a host
 * directory is the conservative reading. */
static int seed(struct vol_task *t, const struct vol_mount *m, int rootfs_fd, struct err *e)
{
	const struct vol_def *v = m->vol;
	struct vol_src *src = &t->src[v - t->spec->vols];
	_cleanup_close_ int from = -1, to = -1;
	int r;

	if (!src->seedable)
		return 0;
	to = openat(src->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (to < 0)
		return err_set(e, -errno, "volume '%s': open '%s'", v->name, src->path);
	from = vol_openat_in_root(rootfs_fd, m->target, O_RDONLY | O_DIRECTORY);
	if (from >= 0 && vol_dir_empty(to) == 1 && vol_dir_empty(from) == 0) {
		r = vol_copy_tree(from, to);
		if (r < 0)
			return err_set(e, r, "volume '%s': copy the image's '%s' into it", v->name,
				       m->target);
	}
	r = mark_seeded(t, v, src);
	return r < 0 ? err_set(e, r, "volume '%s': mark seeded", v->name) : 0;
}

void vol_ctr_mounts_free(struct vol_ctr_mounts *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->op[i].fd >= 0)
			close(m->op[i].fd);
	free(m->op);
	*m = (struct vol_ctr_mounts){ 0 };
}

int vol_ctr_mounts_move(struct vol_ctr_mounts *dst, struct vol_ctr_mounts *src)
{
	struct vol_attach_op *op;

	if (!src->n)
		return 0;
	op = reallocarray(dst->op, dst->n + src->n, sizeof(*op));
	if (!op)
		return -ENOMEM;
	memcpy(op + dst->n, src->op, src->n * sizeof(*op));
	dst->op = op;
	dst->n += src->n;
	free(src->op);
	src->op = NULL;
	src->n = 0;
	return 0;
}

static int open_one(struct vol_task *t, const struct vol_mount *m, int rootfs_fd,
		    struct vol_attach_op *op, struct err *e)
{
	int r;

	snprintf(op->target, sizeof(op->target), "%s", m->target);
	if (m->kind == VOL_M_TMPFS) {
		op->dir = true;
		r = vol_open_tmpfs(m->tmpfs, &op->fd);
		return r < 0 ? err_set(e, r, "tmpfs on '%s'", m->target) : 0;
	}
	r = seed(t, m, rootfs_fd, e);
	if (r < 0)
		return r;
	r = vol_open_bind(t->src[m->vol - t->spec->vols].fd, m->read_only, &op->fd, &op->dir);
	return r < 0 ? err_set(e, r, "volume '%s' on '%s'", m->vol->name, m->target) : 0;
}

int vol_ctr_prepare(struct vol_task *t, const struct vol_plan *p, const char *rootfs,
		    struct vol_ctr_mounts *ret, struct err *e)
{
	struct vol_ctr_mounts m = { .shm_size = p->shm_size };
	_cleanup_close_ int rootfs_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (rootfs_fd < 0)
		return err_set(e, -errno, "open rootfs '%s'", rootfs);
	m.op = calloc(p->n + 1, sizeof(*m.op));
	if (!m.op)
		return err_set(e, -ENOMEM, "prepare mounts");
	for (size_t i = 0; i < p->n && r == 0; i++) {
		m.op[i].fd = -1;
		m.n = i + 1;
		r = open_one(t, &p->m[i], rootfs_fd, &m.op[i], e);
	}
	if (r < 0) {
		vol_ctr_mounts_free(&m);
		return r;
	}
	*ret = m;
	return 0;
}
