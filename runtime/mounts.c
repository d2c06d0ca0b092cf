/* runtime/mounts.c - the container's mount namespace (runs in the child). */
#include "runtime/child.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "volumes/volumes.h"

int rt_fail(struct rt_fail *f, int err, const char *what, const char *subject)
{
	size_t n = 0;

	f->err = err;
	for (const char *p = what; *p && n + 1 < sizeof(f->what); p++)
		f->what[n++] = *p;
	if (subject) {
		const char *parts[] = { " '", subject, "'" };

		for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
			for (const char *p = parts[i]; *p && n + 1 < sizeof(f->what); p++)
				f->what[n++] = *p;
	}
	f->what[n] = '\0';
	return -err;
}

/* Paths hidden from the container and paths it may only read: the lists
 * runc and crun use for their default spec. */
static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

struct mount_op {
	const char *source, *target, *fstype;
	unsigned long flags;
	const char *data;
};

static const struct mount_op base_mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL },
	{ "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k" },
};

static int do_mount(const struct mount_op *m, struct rt_fail *f)
{
	if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
		return rt_fail(f, errno, "create mount point", m->target);
	if (mount(m->source, m->target, m->fstype, m->flags, m->data) < 0)
		return rt_fail(f, errno, "mount", m->target);
	return 0;
}

/* Detached mounts (volumes, the shim's /etc files) onto their
 * containerPaths, resolved inside the rootfs (a symlink there cannot lead a
 * mount out of it). */
static int attach_mounts(const struct rt_plan *p, const struct vol_ctr_mounts *m,
			 struct rt_fail *f)
{
	size_t failed = 0;
	int fd, r;

	if (!m || m->n == 0)
		return 0;
	fd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_fail(f, errno, "open rootfs", p->rootfs);
	r = vol_ctr_attach(m, fd, &failed);
	close(fd);
	if (r < 0)
		return rt_fail(f, -r, "mount volume on", failed < m->n ? m->op[failed].target : "?");
	return 0;
}

int rt_setup_pivot(const struct rt_plan *p, struct rt_fail *f)
{
	const char *rootfs = p->rootfs;
	int r;

	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return rt_fail(f, errno, "make mounts private", NULL);
	/* pivot_root needs the new root to be a mount point. */
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return rt_fail(f, errno, "bind rootfs", rootfs);
	r = attach_mounts(p, p->volumes, f);
	if (r < 0)
		return r;
	r = attach_mounts(p, p->files, f);
	if (r < 0)
		return r;
	if (chdir(rootfs) < 0)
		return rt_fail(f, errno, "chdir to rootfs", rootfs);
	/* pivot_root(".", "."): the old root ends up stacked on "/" and is
	 * detached at once, without needing a directory for it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return rt_fail(f, errno, "pivot_root into", rootfs);
	if (umount2(".", MNT_DETACH) < 0)
		return rt_fail(f, errno, "detach the old root", NULL);
	if (chdir("/") < 0)
		return rt_fail(f, errno, "chdir", "/");
	return 0;
}

/* Dirs get an empty read-only tmpfs, files /dev/null; absent paths are fine. */
static int mask_path(const char *path, struct rt_fail *f)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : rt_fail(f, errno, "mask", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0") < 0)
			return rt_fail(f, errno, "mask", path);
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		return rt_fail(f, errno, "mask", path);
	}
	return 0;
}

/* Bind PATH onto itself and remount it read-only, keeping its other flags. */
static int readonly_path(const char *path, struct rt_fail *f)
{
	struct statvfs sv;

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : rt_fail(f, errno, "make read-only", path);
	if (statvfs(path, &sv) < 0)
		return rt_fail(f, errno, "make read-only", path);
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | (sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC)),
		  NULL) < 0)
		return rt_fail(f, errno, "make read-only", path);
	return 0;
}

int rt_setup_mounts(const struct rt_plan *plan, struct rt_fail *f)
{
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(base_mounts); i++) {
		r = do_mount(&base_mounts[i], f);
		if (r < 0)
			return r;
		if (strcmp(base_mounts[i].target, "/dev") == 0) {
			r = rt_setup_dev(plan->shm_options, f);
			if (r < 0)
				return r;
			r = rt_setup_devices(plan, f);
			if (r < 0)
				return r;
		}
	}
	r = rt_apply_sysctls(plan->spec, f);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(masked_paths); i++) {
		r = mask_path(masked_paths[i], f);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(readonly_paths); i++) {
		r = readonly_path(readonly_paths[i], f);
		if (r < 0)
			return r;
	}
	if (plan->spec->read_only) {
		struct statvfs sv;

		if (statvfs("/", &sv) < 0)
			return rt_fail(f, errno, "read-only root", NULL);
		if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY |
			  (sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC)), NULL) < 0)
			return rt_fail(f, errno, "remount the root read-only", NULL);
	}
	return 0;
}
