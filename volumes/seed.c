/* volumes/seed.c - copy an image directory into a new volume (Docker's
 * "volume seeding"): modes, owners, times, symlinks, xattrs; never follows
 * a symlink, never leaves the source tree, never overwrites. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "volumes/internal.h"

#define MAX_DEPTH 128
#define XATTR_LIST_MAX_ 65536

/* Best effort: a filesystem without xattrs (or without this namespace) is fine. */
static void copy_xattrs(int src, int dst)
{
	_cleanup_free_ char *list = malloc(XATTR_LIST_MAX_), *val = malloc(XATTR_LIST_MAX_);
	ssize_t n;

	if (!list || !val)
		return;
	n = flistxattr(src, list, XATTR_LIST_MAX_);
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
		ssize_t v = fgetxattr(src, list + off, val, XATTR_LIST_MAX_);

		if (v >= 0)
			(void)fsetxattr(dst, list + off, val, (size_t)v, 0);
	}
}

/* Owner, then mode (chown clears set-id bits), xattrs, times. */
static int copy_meta(int src, int dst, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	if (fchown(dst, st->st_uid, st->st_gid) < 0 || fchmod(dst, st->st_mode & 07777) < 0)
		return -errno;
	copy_xattrs(src, dst);
	return futimens(dst, ts) < 0 ? -errno : 0;
}

static int copy_data(int src, int dst)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n < 0)
			break;
	}
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(dst, buf + off, (size_t)(n - off));

			if (w < 0)
				return -errno;
			off += w;
		}
	return n < 0 ? -errno : 0;
}

static int copy_dir(int src, int dst, unsigned depth);

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st)
{
	_cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int d = -1;
	int r;

	if (s < 0)
		return -errno;
	d = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (d < 0)
		return errno == EEXIST ? 0 : -errno;
	r = copy_data(s, d);
	return r < 0 ? r : copy_meta(s, d, st);
}

static int copy_symlink(int sdir, int ddir, const char *name, const struct stat *st)
{
	char target[PATH_MAX];
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (symlinkat(target, ddir, name) < 0)
		return errno == EEXIST ? 0 : -errno;
	if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int copy_subdir(int sdir, int ddir, const char *name, const struct stat *st, unsigned depth)
{
	_cleanup_close_ int s = -1, d = -1;
	int r;

	if (mkdirat(ddir, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0 || d < 0)
		return -errno;
	r = copy_dir(s, d, depth + 1);
	return r < 0 ? r : copy_meta(s, d, st);
}

static int copy_entry(int sdir, int ddir, const char *name, unsigned depth)
{
	struct stat st;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		return copy_subdir(sdir, ddir, name, &st, depth);
	case S_IFREG:
		return copy_file(sdir, ddir, name, &st);
	case S_IFLNK:
		return copy_symlink(sdir, ddir, name, &st);
	case S_IFIFO:
	case S_IFCHR:
	case S_IFBLK:
		if (mknodat(ddir, name, st.st_mode, st.st_rdev) < 0 && errno != EEXIST)
			return errno == EPERM ? 0 : -errno;   /* devices need CAP_MKNOD */
		(void)fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
		return 0;
	default:
		return 0;   /* sockets: nothing to copy */
	}
}

static int copy_dir(int src, int dst, unsigned depth)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > MAX_DEPTH)
		return -ELOOP;
	d = vol_opendir_at(src);
	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			r = copy_entry(dirfd(d), dst, de->d_name, depth);
	closedir(d);
	return r;
}

int vol_copy_tree(int src_fd, int dst_fd)
{
	struct stat st;
	int r;

	if (fstat(src_fd, &st) < 0)
		return -errno;
	r = copy_dir(src_fd, dst_fd, 0);
	if (r < 0)
		return r;
	/* The volume's root takes the image directory's owner and mode. */
	return copy_meta(src_fd, dst_fd, &st);
}
