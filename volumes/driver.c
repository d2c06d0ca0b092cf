/* volumes/driver.c - mounts of driver "local" (type, device, o, as Docker's
 * local driver takes them), made safe for options that come from a task
 * definition or a `berth volume create` caller:
 *
 *   - a bind (o has bind/rbind, or type none/bind) binds DEVICE only from
 *     an fd opened beneath the BERTH_HOST_VOLUME_ROOTS root it lies under,
 *     exactly as host.sourcePath (symlinks leading out are refused);
 *   - a block-device filesystem mounts DEVICE only as such an fd (through
 *     /proc/self/fd), so it must be a block device inside the allow-list;
 *   - other types: tmpfs, ramfs and the network filesystems (nfs, nfs4,
 *     cifs, smb3) only.  overlay (lowerdir=/etc), proc, sysfs, debugfs and
 *     the like would hand the container the host itself;
 *   - every driver mount is nosuid,nodev, always: "suid" and "dev" in o are
 *     refused by the check, and overridden by the mount.
 *
 * vol_driver_check() says what is wrong for the user; vol_driver_mount()
 * applies the same rules again at mount time on freshly opened fds, so a
 * path swapped after the check gains nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "volumes/internal.h"

/* Options of "o" that are mount flags, as mount(8) and Docker's local
 * driver split them; everything else is filesystem data.  ATTR is the
 * mount_setattr() spelling, for binds. */
static const struct {
	const char *name;
	unsigned long set, clear;
	unsigned long long attr;
} mount_flags[] = {
	{ "ro", MS_RDONLY, 0, MOUNT_ATTR_RDONLY },
	{ "rw", 0, MS_RDONLY, 0 },
	{ "nosuid", MS_NOSUID, 0, MOUNT_ATTR_NOSUID },
	{ "suid", 0, MS_NOSUID, 0 },
	{ "nodev", MS_NODEV, 0, MOUNT_ATTR_NODEV },
	{ "dev", 0, MS_NODEV, 0 },
	{ "noexec", MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC },
	{ "exec", 0, MS_NOEXEC, 0 },
	{ "sync", MS_SYNCHRONOUS, 0, 0 },
	{ "async", 0, MS_SYNCHRONOUS, 0 },
	{ "noatime", MS_NOATIME, 0, MOUNT_ATTR_NOATIME },
	{ "atime", 0, MS_NOATIME, 0 },
	{ "relatime", MS_RELATIME, 0, MOUNT_ATTR_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0, MOUNT_ATTR_STRICTATIME },
	{ "nodiratime", MS_NODIRATIME, 0, MOUNT_ATTR_NODIRATIME },
	{ "bind", MS_BIND, 0, 0 },
	{ "rbind", MS_BIND | MS_REC, 0, 0 },
	{ "defaults", 0, 0, 0 },
};

#define ALWAYS (MS_NOSUID | MS_NODEV)

/* Types that reach no host file and no kernel interface. */
static const char *const virtual_types[] = { "tmpfs", "ramfs", "nfs", "nfs4", "cifs", "smb3" };

struct drv {
	unsigned long flags;
	char *data;              /* the non-flag options, comma-separated */
	bool bind;
	const char *refused;     /* "suid" or "dev" if o asked for it */
};

static void drv_free(struct drv *d)
{
	free(d->data);
}

static int drv_parse(const char *type, const char *o, struct drv *ret)
{
	_cleanup_free_ char *copy = strdup(o ? o : "");
	char *save = NULL;
	size_t len = 0;

	ret->data = calloc(1, strlen(o ? o : "") + 1);
	if (!copy || !ret->data)
		return -ENOMEM;
	for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (size_t i = 0; i < ARRAY_SIZE(mount_flags) && !found; i++)
			if (strcmp(opt, mount_flags[i].name) == 0) {
				ret->flags = (ret->flags & ~mount_flags[i].clear) | mount_flags[i].set;
				found = true;
			}
		if (!found)
			len += (size_t)sprintf(ret->data + len, "%s%s", len ? "," : "", opt);
		if (strcmp(opt, "suid") == 0 || strcmp(opt, "dev") == 0)
			ret->refused = strcmp(opt, "suid") == 0 ? "suid" : "dev";
	}
	ret->bind = (ret->flags & MS_BIND) || !strcmp(type, "none") || !strcmp(type, "bind");
	ret->flags |= ALWAYS;
	return 0;
}

/* 1 if /proc/filesystems lists TYPE as needing a block device, else 0. */
static int is_block_fs(const char *type)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");
	char line[128], name[64];

	if (!f)
		return -errno;
	/* "nodev\tproc" for virtual ones, "\text4" for block ones */
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "nodev", 5) != 0 && sscanf(line, " %63s", name) == 1 &&
		    strcmp(name, type) == 0)
			return strcmp(type, "fuseblk") != 0;   /* fuseblk needs a fuse fd */
	return 0;
}

static bool is_virtual(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(virtual_types); i++)
		if (strcmp(type, virtual_types[i]) == 0)
			return true;
	return false;
}

/* The checks; *ret_fd gets the device opened beneath its root for binds and
 * block filesystems, -1 otherwise. */
static int drv_resolve(const struct vol_cfg *c, const char *type, const char *device,
		       const struct drv *d, int *ret_fd, struct err *e)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	*ret_fd = -1;
	if (d->refused)
		return err_setx(e, -EPERM, "driverOpts o: '%s' is not allowed: driver mounts are always "
				"nosuid,nodev", d->refused);
	if (!d->bind && !is_virtual(type)) {
		r = is_block_fs(type);
		if (r < 0)
			return err_set(e, r, "read /proc/filesystems");
		if (!r)
			return err_setx(e, -EPERM, "driverOpts type '%s' is not allowed (tmpfs, ramfs, nfs, "
					"nfs4, cifs, smb3, a block-device filesystem, or a bind)", type);
	}
	if (is_virtual(type) && !d->bind)
		return 0;
	if (!device || !*device)
		return err_setx(e, -EINVAL, "driverOpts: type '%s' needs 'device', an absolute host path",
				type);
	r = vol_host_open(c, "device", device, false, &fd, e);
	if (r < 0)
		return r;
	if (!d->bind && (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode)))
		return err_setx(e, -ENOTBLK, "device '%s' is not a block device", device);
	*ret_fd = take_fd(&fd);
	return 0;
}

static const char *map_get(const struct vol_map *m, const char *key)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (strcmp(m->kv[i].key, key) == 0)
			return m->kv[i].value;
	return NULL;
}

int vol_driver_check(const struct vol_cfg *c, const struct vol_map *opts, struct err *e)
{
	const char *type = map_get(opts, "type"), *device = map_get(opts, "device");
	const char *o = map_get(opts, "o");
	struct drv d = { 0 };
	int fd = -1, r;

	if (!type)
		return 0;   /* nothing is mounted without a type */
	r = drv_parse(type, o, &d);
	if (r < 0)
		r = err_set(e, r, "driverOpts");
	else
		r = drv_resolve(c, type, device, &d, &fd, e);
	if (fd >= 0)
		close(fd);
	drv_free(&d);
	return r;
}

static unsigned long long bind_attrs(unsigned long flags)
{
	unsigned long long a = 0;

	for (size_t i = 0; i < ARRAY_SIZE(mount_flags); i++)
		if (mount_flags[i].attr && (flags & mount_flags[i].set) == mount_flags[i].set)
			a |= mount_flags[i].attr;
	return a;
}

/* A clone of the tree at FD (recursive for rbind), private, with the flags
 * of O as mount attributes, moved onto TARGET. */
static int bind_fd(int fd, unsigned long flags, const char *target)
{
	unsigned int rec = flags & MS_REC ? AT_RECURSIVE : 0;
	_cleanup_close_ int mfd = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
	struct mount_attr attr = { .attr_set = bind_attrs(flags), .propagation = MS_PRIVATE };

	if (attr.attr_set & MOUNT_ATTR__ATIME)
		attr.attr_clr = MOUNT_ATTR__ATIME;
	if (mfd < 0)
		return -errno;
	if (mount_setattr(mfd, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0)
		return -errno;
	return move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? -errno : 0;
}

/* "/proc/self/fd/N": the block device as opened, for mount(2)'s source. */
static int plain_mount(const char *type, const char *source, int fd, const struct drv *d,
		       const char *target)
{
	char proc[64];

	if (fd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		source = proc;
	}
	return mount(source, target, type, d->flags, *d->data ? d->data : NULL) < 0 ? -errno : 0;
}

int vol_driver_mount(const struct vol_cfg *c, const char *type, const char *device, const char *o,
		     const char *target)
{
	struct err ignored = ERR_INIT;
	struct drv d = { 0 };
	int fd = -1, r;

	if (!type)
		return -EINVAL;
	r = drv_parse(type, o, &d);
	if (r == 0)
		r = drv_resolve(c, type, device, &d, &fd, &ignored);
	if (r == 0)
		r = d.bind ? bind_fd(fd, d.flags, target)
			   : plain_mount(type, device && *device ? device : type, fd, &d, target);
	if (fd >= 0)
		close(fd);
	drv_free(&d);
	return r;
}

int vol_fs_mount(const char *type, const char *device, const char *o, const char *target)
{
	struct drv d = { 0 };
	int r = type ? drv_parse(type, o, &d) : -EINVAL;

	if (r == 0)
		r = plain_mount(type, device && *device ? device : type, -1, &d, target);
	/* A bind ignores ro and friends on the first call: apply them again. */
	if (r == 0 && (d.flags & MS_BIND) &&
	    mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | (d.flags & ~MS_REC), NULL) < 0) {
		r = -errno;
		(void)umount2(target, MNT_DETACH);
	}
	drv_free(&d);
	return r;
}
