/* runtime/devices.c - /dev and the loopback link (runs in the child). */
#include "runtime/child.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"

static const struct {
	const char *path;
	unsigned major, minor;
} dev_nodes[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static const struct {
	const char *target, *path;
} dev_links[] = {
	{ "pts/ptmx", "/dev/ptmx" },
	{ "/proc/self/fd", "/dev/fd" },
	{ "/proc/self/fd/0", "/dev/stdin" },
	{ "/proc/self/fd/1", "/dev/stdout" },
	{ "/proc/self/fd/2", "/dev/stderr" },
};

static const struct {
	const char *source, *target, *fstype;
	unsigned long flags;
	const char *data;
} dev_mounts[] = {
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	  "newinstance,ptmxmode=0666,mode=0620,gid=5" },
	{ "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k" },
	{ "mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
};

int rt_setup_dev(const char *shm_options, struct rt_fail *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++)
		if (mknod(dev_nodes[i].path, S_IFCHR | 0666,
			  makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0)
			return rt_fail(f, errno, "create device", dev_nodes[i].path);
	for (size_t i = 0; i < ARRAY_SIZE(dev_mounts); i++) {
		const char *data = dev_mounts[i].data;

		if (shm_options && shm_options[0] && strcmp(dev_mounts[i].target, "/dev/shm") == 0)
			data = shm_options;
		if (mkdir(dev_mounts[i].target, 0755) < 0)
			return rt_fail(f, errno, "create mount point", dev_mounts[i].target);
		if (mount(dev_mounts[i].source, dev_mounts[i].target, dev_mounts[i].fstype,
			  dev_mounts[i].flags, data) < 0)
			return rt_fail(f, errno, "mount", dev_mounts[i].target);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
		if (symlink(dev_links[i].target, dev_links[i].path) < 0)
			return rt_fail(f, errno, "create symlink", dev_links[i].path);
	return 0;
}

/* mkdir -p for the parents of PATH (absolute; checked by the shim). */
static int make_parents(const char *path, struct rt_fail *f)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return rt_fail(f, ENAMETOOLONG, "create device", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return rt_fail(f, errno, "create the directory of device", path);
		*p = '/';
	}
	return 0;
}

int rt_setup_devices(const struct rt_plan *p, struct rt_fail *f)
{
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct rt_device *d = &p->devices[i];
		int r = make_parents(d->path, f);

		if (r < 0)
			return r;
		/* A path the default /dev already has (/dev/zero) is replaced. */
		if (unlink(d->path) < 0 && errno != ENOENT)
			return rt_fail(f, errno, "replace device", d->path);
		if (mknod(d->path, d->mode, d->dev) < 0)
			return rt_fail(f, errno, "create device", d->path);
		if (chown(d->path, d->uid, d->gid) < 0)
			return rt_fail(f, errno, "set the owner of device", d->path);
	}
	return 0;
}

int rt_loopback_up(struct rt_fail *f)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { .ifr_name = "lo" };

	if (s < 0)
		return rt_fail(f, errno, "socket for", "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return rt_fail(f, errno, "read flags of", "lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return rt_fail(f, errno, "bring up", "lo");
	return 0;
}
