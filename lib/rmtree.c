/* lib/rmtree.c - rm -rf below a directory fd (see rmtree.h). */
#include "lib/rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mount_root_at(int dirfd, const char *name)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
		return -errno;
	if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return -EOPNOTSUPP;
	return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* rm_rf_at walks the tree depth first without recursion.  Only the
 * deepest RM_OPEN_MAX levels keep their directory stream open, so the
 * descriptors used are bounded whatever the depth (a layer or an upperdir
 * can be thousands of levels deep); a level whose stream was closed is
 * reopened through ".." of its child, checked to be the same directory,
 * and read again from its start (what was removed is gone from it). */
#define RM_OPEN_MAX 32

struct rm_level {
	DIR *d;                    /* NULL: closed to bound the open fds */
	dev_t dev;
	ino_t ino;
	char name[NAME_MAX + 1];   /* its name in the level above */
};

struct rm_walk {
	struct rm_level *lv;
	size_t n, cap;
	unsigned flags;
	dev_t dev;                 /* RMTREE_SAME_MOUNT: the tree's filesystem */
};

static void rm_walk_release(struct rm_walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->lv[i].d)
			closedir(w->lv[i].d);
	free(w->lv);
}

/* Pushes the directory FD (taken) named NAME. */
static int rm_push(struct rm_walk *w, int fd, const char *name)
{
	struct rm_level *l;
	struct stat st;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct rm_level *nl = realloc(w->lv, cap * sizeof(*nl));

		if (!nl) {
			close(fd);
			return -ENOMEM;
		}
		w->lv = nl;
		w->cap = cap;
	}
	l = &w->lv[w->n];
	if (fstat(fd, &st) < 0 || !(l->d = fdopendir(fd))) {
		int r = -errno;

		close(fd);
		return r;
	}
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	snprintf(l->name, sizeof(l->name), "%s", name);
	w->n++;
	if (w->n > RM_OPEN_MAX && w->lv[w->n - 1 - RM_OPEN_MAX].d) {
		closedir(w->lv[w->n - 1 - RM_OPEN_MAX].d);
		w->lv[w->n - 1 - RM_OPEN_MAX].d = NULL;
	}
	return 0;
}

/* Makes sure the level above the top has an open stream, through "..". */
static int rm_reopen_parent(struct rm_walk *w)
{
	struct rm_level *up = &w->lv[w->n - 2];
	int fd;
	struct stat st;

	if (up->d)
		return 0;
	fd = openat(dirfd(w->lv[w->n - 1].d), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_dev != up->dev || st.st_ino != up->ino) {
		close(fd);
		return -ESTALE;   /* moved under us: do not remove elsewhere */
	}
	up->d = fdopendir(fd);
	if (!up->d) {
		close(fd);
		return -errno;
	}
	return 0;
}

/* Removes the emptied top directory from its parent and pops it. */
static int rm_pop(struct rm_walk *w)
{
	struct rm_level *top = &w->lv[w->n - 1];
	int r = rm_reopen_parent(w);

	if (r < 0)
		return r;
	closedir(top->d);
	top->d = NULL;
	w->n--;
	if (unlinkat(dirfd(w->lv[w->n - 1].d), top->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* RMTREE_SAME_MOUNT: -EBUSY for DFD/NAME on another filesystem or at a
 * mount point (a directory's, or a file bound over a file). */
static int check_mount(const struct rm_walk *w, int dfd, const char *name)
{
	struct stat st;

	if (!(w->flags & RMTREE_SAME_MOUNT))
		return 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (st.st_dev != w->dev || mount_root_at(dfd, name) == 1)
		return -EBUSY;
	return 0;
}

/* One entry of the top directory: unlinks it, or descends into it. */
static int rm_entry(struct rm_walk *w, const struct dirent *de)
{
	int dfd = dirfd(w->lv[w->n - 1].d), fd;
	int r = check_mount(w, dfd, de->d_name);

	if (r < 0)
		return r;
	if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
		return unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT ? -errno : 0;
	fd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return rm_push(w, fd, de->d_name);
	if (errno == ENOTDIR || errno == ELOOP)
		return unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT ? -errno : 0;
	return errno == ENOENT ? 0 : -errno;
}

int rm_rf_at(int parentfd, const char *name, unsigned flags)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct rm_walk w = { .flags = flags };
	struct stat parent;
	int r;

	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(parentfd, name, 0) < 0 ? -errno : 0;
		return errno == ENOENT ? 0 : -errno;
	}
	if (flags & RMTREE_SAME_MOUNT) {
		r = fstat(parentfd, &parent) < 0 ? -errno : 0;
		if (r == 0) {
			w.dev = parent.st_dev;
			r = check_mount(&w, parentfd, name);
		}
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	r = rm_push(&w, fd, name);
	while (r == 0 && w.n > 0) {
		struct dirent *de;

		errno = 0;
		de = readdir(w.lv[w.n - 1].d);
		if (de && (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0))
			continue;
		if (de)
			r = rm_entry(&w, de);
		else if (errno)
			r = -errno;
		else if (w.n > 1)
			r = rm_pop(&w);
		else
			break;
	}
	rm_walk_release(&w);
	if (r == 0 && unlinkat(parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}
