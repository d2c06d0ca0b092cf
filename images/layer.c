/* images/layer.c - safe layer extraction (see layer.h). */
#include "images/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "images/ref.h"
#include "images/store.h"
#include "lib/cleanup.h"
#include "lib/err.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER ".wh..wh..opq"

/* Caps against decompression bombs (a few KiB of gzip can expand to
 * terabytes): file data declared by a layer, and its number of entries. */
#define UNPACKED_MAX_DEFAULT (16ULL << 30)
#define ENTRIES_MAX_DEFAULT 1000000ULL
#define FREE_MARGIN_MAX (256ULL << 20)   /* left free on the store's filesystem */

struct unpack_limits {
	uint64_t bytes_max, entries_max;
	bool by_free_space;           /* bytes_max is the free space, less the margin */
	uint64_t margin;
};

struct unpack {
	struct archive *a;
	int rootfd;
	char parent_path[PATH_MAX];   /* cache: the last parent opened */
	int parent_fd;
	struct unpack_limits lim;
	uint64_t bytes, entries;      /* so far */
	struct err *e;
};

static int openat2_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* Normalises a member name into BUF: drops leading "./" and repeated or
 * trailing slashes; refuses absolute names and any ".." component.  "" is
 * the layer root. */
static int clean_path(const char *in, char *buf, size_t size)
{
	size_t k = 0;
	const char *p = in;

	if (!in || in[0] == '/')
		return -EPERM;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EPERM;
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (n > NAME_MAX || k + n + 2 > size)
				return -ENAMETOOLONG;
			if (k > 0)
				buf[k++] = '/';
			memcpy(buf + k, p, n);
			k += n;
		}
		p += n;
		p += strspn(p, "/");
	}
	buf[k] = '\0';
	return 0;
}

/* Opens the directory PATH below the root, creating missing components
 * (0755).  Refuses symlinks and anything that is not a directory. */
static int open_dir_beneath(int rootfd, const char *path)
{
	char comp[NAME_MAX + 1];
	_cleanup_close_ int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	const char *p = path;

	if (cur < 0)
		return -errno;
	while (*p) {
		size_t n = strcspn(p, "/");
		int fd;

		memcpy(comp, p, n);
		comp[n] = '\0';
		fd = openat2_beneath(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (fd == -ENOTDIR) {
			struct stat st;

			if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				fd = -ELOOP;
		}
		if (fd == -ENOENT) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
				return -errno;
			fd = openat2_beneath(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		}
		if (fd < 0)
			return fd;
		close(cur);
		cur = fd;
		p += n;
		p += strspn(p, "/");
	}
	return take_fd(&cur);
}

/* Splits PATH into its parent (opened, cached) and the last component. */
static int open_parent(struct unpack *u, const char *path, const char **ret_base)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	size_t n = slash ? (size_t)(slash - path) : 0;
	int fd;

	memcpy(parent, path, n);
	parent[n] = '\0';
	*ret_base = slash ? slash + 1 : path;
	if (u->parent_fd >= 0 && strcmp(parent, u->parent_path) == 0)
		return u->parent_fd;
	fd = open_dir_beneath(u->rootfd, parent);
	if (fd < 0)
		return fd;
	if (u->parent_fd >= 0)
		close(u->parent_fd);
	u->parent_fd = fd;
	memcpy(u->parent_path, parent, n + 1);
	return fd;
}

static void forget_parent(struct unpack *u)
{
	if (u->parent_fd >= 0)
		close(u->parent_fd);
	u->parent_fd = -1;
	u->parent_path[0] = '\0';
}

/* Removes whatever is at PARENT/NAME unless both it and the new entry are
 * directories (a later entry for a directory just updates it).  PARENT is
 * the cached parent directory itself, so the cache is never below what is
 * removed and stays open and valid. */
static int clear_target(int parent, const char *name, bool new_is_dir)
{
	struct stat st;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (new_is_dir && S_ISDIR(st.st_mode))
		return 0;
	return img_rm_rf_at(parent, name);
}

static int apply_xattrs(struct archive_entry *ent, int fd)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(ent);
	while (archive_entry_xattr_next(ent, &name, &value, &size) == ARCHIVE_OK) {
		if (strncmp(name, "trusted.overlay.", 16) == 0)
			continue;
		if (fsetxattr(fd, name, value, size, 0) < 0 && errno != EOPNOTSUPP)
			return -errno;
	}
	return 0;
}

/* Owner, mode (after chown, which clears set-id bits), xattrs, mtime. */
static int apply_meta_fd(struct archive_entry *ent, int fd, bool times)
{
	struct timespec ts[2] = {
		{ .tv_sec = archive_entry_mtime(ent), .tv_nsec = archive_entry_mtime_nsec(ent) },
		{ .tv_sec = archive_entry_mtime(ent), .tv_nsec = archive_entry_mtime_nsec(ent) },
	};
	int r;

	if (fchown(fd, (uid_t)archive_entry_uid(ent), (gid_t)archive_entry_gid(ent)) < 0 ||
	    fchmod(fd, archive_entry_perm(ent) & 07777) < 0)
		return -errno;
	r = apply_xattrs(ent, fd);
	if (r < 0)
		return r;
	if (times && futimens(fd, ts) < 0)
		return -errno;
	return 0;
}

static int write_data(struct unpack *u, int fd, int64_t size)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(u->a, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;

		/* The size was counted against the caps: never write past it. */
		if (off < 0 || (uint64_t)off + len > (uint64_t)size)
			return -EFBIG;
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			p += n;
			off += n;
			len -= (size_t)n;
		}
	}
	if (r != ARCHIVE_EOF)
		return -EIO;
	/* Sparse files end in a hole that was never written. */
	return ftruncate(fd, size) < 0 ? -errno : 0;
}

static int make_regular(struct unpack *u, struct archive_entry *ent, int parent, const char *name)
{
	_cleanup_close_ int fd = openat(parent, name,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = write_data(u, fd, archive_entry_size(ent));
	if (r < 0)
		return r;
	return apply_meta_fd(ent, fd, true);
}

static int make_dir(struct archive_entry *ent, int parent, const char *name)
{
	_cleanup_close_ int fd = -1;

	if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat2_beneath(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return fd;
	return apply_meta_fd(ent, fd, false);
}

static int meta_nofollow(struct archive_entry *ent, int parent, const char *name, bool chmod_too)
{
	struct timespec ts[2] = {
		{ .tv_sec = archive_entry_mtime(ent), .tv_nsec = archive_entry_mtime_nsec(ent) },
		{ .tv_sec = archive_entry_mtime(ent), .tv_nsec = archive_entry_mtime_nsec(ent) },
	};

	if (fchownat(parent, name, (uid_t)archive_entry_uid(ent), (gid_t)archive_entry_gid(ent),
		     AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* The node was just created by us and is not a symlink, so chmod's
	 * following rule cannot lead elsewhere. */
	if (chmod_too && fchmodat(parent, name, archive_entry_perm(ent) & 07777, 0) < 0)
		return -errno;
	if (utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int make_hardlink(struct unpack *u, const char *target, int parent, const char *name)
{
	char clean[PATH_MAX], tparent_path[PATH_MAX];
	const char *tbase;
	_cleanup_close_ int tparent = -1;
	int r = clean_path(target, clean, sizeof(clean));

	if (r < 0 || !*clean)
		return r < 0 ? r : -EPERM;
	tbase = strrchr(clean, '/');
	snprintf(tparent_path, sizeof(tparent_path), "%.*s", tbase ? (int)(tbase - clean) : 0,
		 clean);
	tbase = tbase ? tbase + 1 : clean;
	tparent = open_dir_beneath(u->rootfd, tparent_path);
	if (tparent < 0)
		return tparent;
	/* linkat without AT_SYMLINK_FOLLOW links a symlink itself, never its target. */
	return linkat(tparent, tbase, parent, name, 0) < 0 ? -errno : 0;
}

static int make_whiteout(int parent, const char *base)
{
	const char *name = base + strlen(WHITEOUT_PREFIX);
	int r;

	if (strcmp(base, OPAQUE_MARKER) == 0)
		return fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) < 0 ? -errno : 0;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EPERM;
	r = clear_target(parent, name, false);
	if (r < 0)
		return r;
	return mknodat(parent, name, S_IFCHR | 0, makedev(0, 0)) < 0 ? -errno : 0;
}

static int unpack_entry(struct unpack *u, struct archive_entry *ent, const char *path)
{
	mode_t type = archive_entry_filetype(ent);
	const char *base, *hardlink = archive_entry_hardlink(ent);
	int parent, r;

	if (!*path)   /* the layer root itself: keep its owner and mode */
		return type == AE_IFDIR ? apply_meta_fd(ent, u->rootfd, false) : -EPERM;
	parent = open_parent(u, path, &base);
	if (parent < 0)
		return parent;
	if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
		return make_whiteout(parent, base);
	r = clear_target(parent, base, type == AE_IFDIR && !hardlink);
	if (r < 0)
		return r;
	if (hardlink)
		return make_hardlink(u, hardlink, parent, base);
	switch (type) {
	case AE_IFREG:
		return make_regular(u, ent, parent, base);
	case AE_IFDIR:
		return make_dir(ent, parent, base);
	case AE_IFLNK:
		if (symlinkat(archive_entry_symlink(ent) ?: "", parent, base) < 0)
			return -errno;
		return meta_nofollow(ent, parent, base, false);
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(parent, base, type | (archive_entry_perm(ent) & 07777),
			    makedev(archive_entry_rdevmajor(ent), archive_entry_rdevminor(ent))) < 0)
			return -errno;
		return meta_nofollow(ent, parent, base, true);
	default:
		return 0;   /* sockets and the like carry nothing to unpack */
	}
}

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static const char *reason(int r, const char *raw)
{
	switch (r) {
	case -EPERM:
		return raw && raw[0] == '/' ? "absolute name" : "'..' component";
	case -ELOOP:
	case -EXDEV:
		return "path goes through a symlink";
	case -ENOTDIR:
		return "parent is not a directory";
	default:
		return NULL;
	}
}

/* "123", "64K", "1M", "16G", "1T" (powers of 1024). */
static int parse_size(const char *s, uint64_t *ret)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end) {
		u = strchr(units, *end & ~0x20);
		if (!u || end[1])
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
	}
	if (v > UINT64_MAX >> shift)
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

static int limit_from_env(const char *name, uint64_t def, uint64_t *ret, struct err *e)
{
	const char *v = getenv(name);

	*ret = def;
	if (v && *v && parse_size(v, ret) < 0)
		return err_setx(e, -EINVAL, "%s='%s': expected a number, optionally with K, M, G or T",
				name, v);
	return 0;
}

/* The caps from the environment, the bytes one also never past the free
 * space of ROOTFD's filesystem less a margin (1/20 of it, at most 256 MiB). */
static int limits_init(struct unpack_limits *l, int rootfd, struct err *e)
{
	struct statvfs sv;
	uint64_t avail;
	int r = limit_from_env("BERTH_IMAGE_MAX_UNPACKED", UNPACKED_MAX_DEFAULT, &l->bytes_max, e);

	if (r == 0)
		r = limit_from_env("BERTH_IMAGE_MAX_ENTRIES", ENTRIES_MAX_DEFAULT, &l->entries_max, e);
	if (r < 0)
		return r;
	if (fstatvfs(rootfd, &sv) < 0)
		return err_set(e, -errno, "unpack layer: free space");
	l->margin = (uint64_t)sv.f_blocks * sv.f_frsize / 20;
	if (l->margin > FREE_MARGIN_MAX)
		l->margin = FREE_MARGIN_MAX;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	avail = avail > l->margin ? avail - l->margin : 0;
	l->by_free_space = avail < l->bytes_max;
	if (l->by_free_space)
		l->bytes_max = avail;
	return 0;
}

/* Counts ENT against the caps before anything of it is written. */
static int count_entry(struct unpack *u, struct archive_entry *ent, const char *raw)
{
	int64_t size = archive_entry_size(ent);
	const struct unpack_limits *l = &u->lim;

	if (++u->entries > l->entries_max)
		return err_setx(u->e, -EFBIG, "unpack layer: more than %llu entries (BERTH_IMAGE_MAX_ENTRIES)",
				(unsigned long long)l->entries_max);
	if (archive_entry_filetype(ent) != AE_IFREG || archive_entry_hardlink(ent) || size <= 0)
		return 0;
	if ((uint64_t)size <= l->bytes_max && u->bytes <= l->bytes_max - (uint64_t)size) {
		u->bytes += (uint64_t)size;
		return 0;
	}
	if (l->by_free_space)
		return err_setx(u->e, -EFBIG, "unpack layer: entry '%s' (%lld bytes) would leave less than %llu bytes free on the image store's filesystem",
				raw, (long long)size, (unsigned long long)l->margin);
	return err_setx(u->e, -EFBIG, "unpack layer: entry '%s' (%lld bytes) takes the layer past %llu bytes unpacked (BERTH_IMAGE_MAX_UNPACKED)",
			raw, (long long)size, (unsigned long long)l->bytes_max);
}

int img_layer_unpack(int blobfd, int rootfd, struct err *e)
{
	_cleanup_(archive_freep) struct archive *a = archive_read_new();
	struct unpack u = { .rootfd = rootfd, .parent_fd = -1, .e = e };
	struct archive_entry *ent;
	int r = 0, ar;

	if (!a)
		return err_set(e, -ENOMEM, "unpack layer");
	r = limits_init(&u.lim, rootfd, e);
	if (r < 0)
		return r;
	u.a = a;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, blobfd, 65536) != ARCHIVE_OK)
		return err_setx(e, -EBADMSG, "unpack layer: %s", archive_error_string(a) ?: "not a tar stream");
	while ((ar = archive_read_next_header(a, &ent)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		char path[PATH_MAX];
		const char *raw = archive_entry_pathname(ent);

		r = count_entry(&u, ent, raw ?: "");
		if (r < 0) {
			forget_parent(&u);
			return r;
		}
		r = clean_path(raw, path, sizeof(path));
		if (r == 0)
			r = unpack_entry(&u, ent, path);
		if (r < 0) {
			const char *why = reason(r, raw);

			forget_parent(&u);
			if (why)
				return err_setx(e, r, "unpack layer: refusing entry '%s': %s", raw ?: "", why);
			return err_set(e, r, "unpack layer: entry '%s'", raw ?: "");
		}
	}
	forget_parent(&u);
	if (ar != ARCHIVE_EOF)
		return err_setx(e, -EBADMSG, "unpack layer: %s",
				archive_error_string(a) ?: "corrupt or truncated tar stream");
	return 0;
}

int img_layer_path(struct img_store *s, const char *digest, char *buf, size_t size)
{
	if (!img_digest_valid(digest))
		return -EINVAL;
	if (snprintf(buf, size, "%s/layers/%s", s->path, digest + 7) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int img_layer_ensure(struct img_store *s, const char *digest, struct err *e)
{
	char key[80], final[80], tmp[96];
	_cleanup_close_ int lock = -1, rootfd = -1, blobfd = -1, layersfd = -1;
	int r;

	if (!img_digest_valid(digest))
		return err_setx(e, -EINVAL, "bad layer digest '%s'", digest);
	snprintf(key, sizeof(key), "layer-%s", digest + 7);
	snprintf(final, sizeof(final), "layers/%s", digest + 7);
	snprintf(tmp, sizeof(tmp), "layers/.tmp-%s", digest + 7);
	lock = img_store_lock(s, key);
	if (lock < 0)
		return err_set(e, lock, "lock layer %.19s", digest);
	if (faccessat(s->dirfd, final, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	/* We hold the lock: a temporary directory now is a crashed attempt. */
	r = img_rm_rf_at(s->dirfd, tmp);
	if (r < 0)
		return err_set(e, r, "remove stale '%s'", tmp);
	blobfd = img_blob_open(s, digest);
	if (blobfd < 0)
		return err_set(e, blobfd, "open layer blob %s", digest);
	if (mkdirat(s->dirfd, tmp, 0755) < 0)
		return err_set(e, -errno, "create '%s'", tmp);
	rootfd = openat(s->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0) {
		r = -errno;
		goto fail;
	}
	r = img_layer_unpack(blobfd, rootfd, e);
	if (r < 0) {
		(void)img_rm_rf_at(s->dirfd, tmp);   /* nothing half-unpacked stays */
		return err_wrap(e, "layer %.19s", digest);
	}
	if (syncfs(rootfd) < 0 || renameat(s->dirfd, tmp, s->dirfd, final) < 0) {
		r = -errno;
		goto fail;
	}
	layersfd = openat(s->dirfd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (layersfd < 0 || fsync(layersfd) < 0)
		return err_set(e, -errno, "fsync layers directory");
	return 0;
fail:
	(void)img_rm_rf_at(s->dirfd, tmp);
	return err_set(e, r, "unpack layer %.19s", digest);
}
