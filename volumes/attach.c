/* volumes/attach.c - detached mounts (host side) and attaching them inside
 * the container's rootfs (child side).
 *
 * Why detached mounts: open_tree(OPEN_TREE_CLONE) and fsmount() give a
 * mount that is in no namespace until move_mount() puts it somewhere.  The
 * host side can prepare every mount (and make it read-only, recursively,
 * with mount_setattr) where errors are easy to report; the clone child then
 * only resolves targets and moves mounts in.  A mount never attached
 * disappears with its last fd: no failure path can leave one on the host.
 *
 * The child side (vol_resolve_in_root, vol_ctr_attach) calls no allocator
 * and no stdio, only syscalls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "volumes/internal.h"

/* PATH is absolute; with RESOLVE_BENEATH it is taken relative to ROOT_FD. */
static int openat2_res(int root_fd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_PATH | O_CLOEXEC),
		.resolve = resolve | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (resolve & RESOLVE_BENEATH) {
		while (*path == '/')
			path++;
		if (!*path)
			path = ".";
	}
	do
		fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);   /* a concurrent rename: retry */
	return fd < 0 ? -errno : (int)fd;
}

/* Creates NAME in PARENT (an fd resolved inside the root): a directory, or
 * an empty file.  An existing entry (even a symlink) is left as it is. */
static int create_entry(int parent, const char *name, bool dir)
{
	int fd;

	if (dir)
		return mkdirat(parent, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
	fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 0;
}

static int check_type(int fd, bool dir)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (dir && !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!dir && S_ISDIR(st.st_mode))
		return -EISDIR;
	return 0;
}

/* PATH = (LINK if absolute, else PATH[0..dir_end] "/" LINK) PATH[rest..]:
 * the path with the symlink at PATH[..rest] replaced by its target. */
static int splice_link(char *path, size_t dir_end, size_t rest, const char *link)
{
	char tmp[PATH_MAX];
	size_t a = link[0] == '/' ? 0 : dir_end, l = strlen(link), r = strlen(path + rest);

	if (a + 1 + l + r + 1 > sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, a);
	tmp[a] = '/';
	memcpy(tmp + a + 1, link, l);
	memcpy(tmp + a + 1 + l, path + rest, r + 1);
	memcpy(path, tmp, a + 1 + l + r + 1);
	return 0;
}

static int resolve_create(int root_fd, const char *path_in, bool dir, unsigned long long res,
			  int *ret_fd)
{
	char path[PATH_MAX], prefix[PATH_MAX];
	size_t len = strlen(path_in), i;
	int parent, fd, r, hops = 0;

	if (len == 0 || len >= sizeof(path) || path_in[0] != '/')
		return -EINVAL;
	memcpy(path, path_in, len + 1);
restart:
	len = strlen(path);
	i = 0;
	fd = openat2_res(root_fd, path, 0, res);
	if (fd >= 0)
		goto found;
	if (fd != -ENOENT)
		return fd;
	/* Walk down from the root, making each missing component in the
	 * directory its parent resolved to (inside the root, by openat2). */
	parent = openat2_res(root_fd, "/", O_DIRECTORY, res);
	if (parent < 0)
		return parent;
	while (i < len) {
		size_t start, end;
		bool last;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		end = i;
		if (start == end)
			break;
		while (i < len && path[i] == '/')
			i++;
		last = i >= len;
		memcpy(prefix, path, end);
		prefix[end] = '\0';
		fd = openat2_res(root_fd, prefix, last && !dir ? 0 : O_DIRECTORY, res);
		if (fd == -ENOENT) {
			char name[NAME_MAX + 1], link[PATH_MAX];
			ssize_t n;

			if (end - start > NAME_MAX) {
				close(parent);
				return -ENAMETOOLONG;
			}
			memcpy(name, path + start, end - start);
			name[end - start] = '\0';
			r = create_entry(parent, name, dir || !last);
			if (r < 0) {
				close(parent);
				return r;
			}
			fd = openat2_res(root_fd, prefix, last && !dir ? 0 : O_DIRECTORY, res);
			if (fd == -ENOENT && (res & RESOLVE_IN_ROOT)) {
				/* A dangling symlink: create what it points to,
				 * read as a path inside the root (Docker does the
				 * same).  openat2 keeps every ".." in the root. */
				n = readlinkat(parent, name, link, sizeof(link) - 1);
				close(parent);
				if (n <= 0)
					return -ENOENT;
				if (++hops > 40)
					return -ELOOP;
				link[n] = '\0';
				r = splice_link(path, start, end, link);
				if (r < 0)
					return r;
				goto restart;
			}
		}
		close(parent);
		if (fd < 0)
			return fd;
		parent = fd;
	}
	fd = parent;
found:
	r = check_type(fd, dir);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int vol_resolve_in_root(int root_fd, const char *path, bool dir, int *ret_fd)
{
	return resolve_create(root_fd, path, dir, RESOLVE_IN_ROOT, ret_fd);
}

int vol_resolve_beneath(int root_fd, const char *path, bool create, int *ret_fd)
{
	int fd;

	if (create)
		return resolve_create(root_fd, path, true, RESOLVE_BENEATH, ret_fd);
	fd = openat2_res(root_fd, path, O_DIRECTORY, RESOLVE_BENEATH);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

int vol_open_beneath(int root_fd, const char *path, int *ret_fd)
{
	int fd = openat2_res(root_fd, path, 0, RESOLVE_BENEATH);

	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* "/proc/self/fd/N" without stdio. */
static void fd_path(int fd, char buf[32])
{
	static const char pre[] = "/proc/self/fd/";
	char digits[12];
	size_t n = 0;

	memcpy(buf, pre, sizeof(pre) - 1);
	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) > 0);
	for (size_t i = 0; i < n; i++)
		buf[sizeof(pre) - 1 + i] = digits[n - 1 - i];
	buf[sizeof(pre) - 1 + n] = '\0';
}

/* After move_mount, the detached mount's fd names the attached mount's root. */
static int detach_op(const struct vol_attach_op *op)
{
	char path[32];

	fd_path(op->fd, path);
	return umount2(path, MNT_DETACH) < 0 ? -errno : 0;
}

int vol_ctr_attach(const struct vol_ctr_mounts *m, int rootfs_fd, size_t *ret_failed)
{
	size_t i;
	int r = 0;

	for (i = 0; i < m->n; i++) {
		const struct vol_attach_op *op = &m->op[i];
		int tfd;

		r = vol_resolve_in_root(rootfs_fd, op->target, op->dir, &tfd);
		if (r < 0)
			break;
		r = move_mount(op->fd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
		r = r < 0 ? -errno : 0;
		close(tfd);
		if (r < 0)
			break;
	}
	if (r == 0)
		return 0;
	*ret_failed = i;
	while (i-- > 0)
		(void)detach_op(&m->op[i]);
	return r;
}

int vol_ctr_detach(const struct vol_ctr_mounts *m)
{
	int first = 0;

	for (size_t i = m->n; i-- > 0;) {
		int r = detach_op(&m->op[i]);

		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}

/* Read-only (recursively, every submount too) and private propagation. */
static int set_attrs(int fd, bool ro)
{
	struct mount_attr attr = {
		.attr_set = ro ? MOUNT_ATTR_RDONLY : 0,
		.propagation = MS_PRIVATE,
	};

	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return -errno;
	return 0;
}

int vol_open_bind(int src_fd, bool ro, int *ret_fd, bool *ret_dir)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (fstat(src_fd, &st) < 0)
		return -errno;
	fd = open_tree(src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (fd < 0)
		return -errno;
	r = set_attrs(fd, ro);
	if (r < 0)
		return r;
	*ret_dir = S_ISDIR(st.st_mode);
	*ret_fd = take_fd(&fd);
	return 0;
}

static int fs_set(int fsfd, const char *key, const char *value)
{
	return fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0) < 0 ? -errno : 0;
}

int vol_open_tmpfs(const struct vol_tmpfs *t, int *ret_fd)
{
	_cleanup_close_ int fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC), fd = -1;
	char size[32], opts[PATH_MAX], *save = NULL;
	int r;

	if (fsfd < 0)
		return -errno;
	snprintf(size, sizeof(size), "%llu", (unsigned long long)t->size);
	if ((r = fs_set(fsfd, "size", size)) < 0)
		return r;
	snprintf(opts, sizeof(opts), "%s", t->fs_opts ? t->fs_opts : "");
	for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		if ((r = fs_set(fsfd, o, eq + 1)) < 0)
			return r;
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	fd = fsmount(fsfd, FSMOUNT_CLOEXEC, t->attr);
	if (fd < 0)
		return -errno;
	r = set_attrs(fd, t->attr & MOUNT_ATTR_RDONLY);
	if (r < 0)
		return r;
	*ret_fd = take_fd(&fd);
	return 0;
}

int vol_shm_options(const struct vol_ctr_mounts *m, char *buf, size_t size)
{
	int n;

	if (!m->shm_size) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	n = snprintf(buf, size, "mode=1777,size=%llu", (unsigned long long)m->shm_size);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
