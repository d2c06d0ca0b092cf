/* images/rootfs.c - overlayfs root filesystems from stored images. */
#include "images/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/image.h"
#include "images/layer.h"
#include "images/pull.h"
#include "lib/cleanup.h"
#include "lib/err.h"

/* Overlay options must fit one page; layer names are relative to the
 * layers directory (the mount runs with it as cwd), 65 bytes each. */
#define OVL_OPTS_MAX 4096

static const char *const subdirs[] = { "upper", "work", "rootfs" };

static int build_lowerdir(const struct img_manifest *m, char *buf, size_t size)
{
	size_t k = 0;

	if (m->nlayers == 0)
		return -ENOENT;
	for (size_t i = m->nlayers; i-- > 0;) {
		int n = snprintf(buf + k, size - k, "%s%s", k ? ":" : "", m->layers[i].digest + 7);

		if (n < 0 || (size_t)n >= size - k)
			return -E2BIG;
		k += (size_t)n;
	}
	return 0;
}

/* mount(2) with the layers directory as cwd, so lowerdir stays short. */
static int mount_overlay(struct img_store *s, const char *lower, const char *dir, const char *target)
{
	char opts[OVL_OPTS_MAX + PATH_MAX * 2];
	_cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int layers = openat(s->dirfd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (cwd < 0 || layers < 0)
		return -errno;
	/* "volatile" (Linux 5.10+) skips syncing the upper dir, above all the
	 * syncfs of the whole host filesystem at unmount: the upper dir is
	 * thrown away with the container, so there is nothing to keep. */
	if (snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/upper,workdir=%s/work,volatile",
		     lower, dir, dir) >= OVL_OPTS_MAX)
		return -E2BIG;
	if (fchdir(layers) < 0)
		return -errno;
	if (mount("overlay", target, "overlay", 0, opts) < 0) {
		r = -errno;
		if (r == -EINVAL) {   /* an older kernel: without volatile */
			opts[strlen(opts) - strlen(",volatile")] = '\0';
			r = mount("overlay", target, "overlay", 0, opts) < 0 ? -errno : 0;
		}
	}
	if (fchdir(cwd) < 0 && r == 0)
		r = -errno;
	return r;
}

int img_rootfs_mount(struct img_store *s, const char *ref, const char *container_dir,
		     char ret_mountpoint[PATH_MAX], struct err *e)
{
	char digest[IMG_DIGEST_MAX], lower[OVL_OPTS_MAX], target[PATH_MAX], path[PATH_MAX];
	struct img_manifest m;
	int r;

	if (container_dir[0] != '/')
		return err_setx(e, -EINVAL, "container directory '%s' is not absolute", container_dir);
	if (snprintf(target, sizeof(target), "%s/rootfs", container_dir) >= (int)sizeof(target))
		return err_setx(e, -ENAMETOOLONG, "container directory too long");
	r = img_store_lock_shared(s);
	if (r < 0)
		return err_set(e, r, "lock image store");
	r = img_resolve(s, ref, digest, e);
	if (r < 0)
		goto out;
	r = img_manifest_load(s, digest, &m, e);
	if (r < 0)
		goto out;
	r = build_lowerdir(&m, lower, sizeof(lower));
	for (size_t i = 0; r == 0 && i < m.nlayers; i++)
		r = img_layer_ensure(s, m.layers[i].digest, e) < 0 ? -EIO : 0;
	img_manifest_release(&m);
	if (r == -EIO)
		goto out;
	if (r < 0) {
		err_setx(e, r, "image '%s': %s", ref, r == -E2BIG ? "too many layers for one overlay mount" : "no layers");
		goto out;
	}
	/* Record the user first: a crash after the mount never leaves an
	 * in-use image unrecorded (a stale record only delays prune). */
	r = img_user_add(s, container_dir, digest);
	if (r < 0) {
		err_set(e, r, "record container '%s' as user of %.19s", container_dir, digest);
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", container_dir, subdirs[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			r = err_set(e, -errno, "create '%s'", path);
			goto undo;
		}
	}
	r = mount_overlay(s, lower, container_dir, target);
	if (r < 0) {
		err_set(e, r, "mount overlay on '%s'", target);
		goto undo;
	}
	if (ret_mountpoint)
		memcpy(ret_mountpoint, target, strlen(target) + 1);
	goto out;
undo:
	{
		struct err ignored = ERR_INIT;

		(void)img_rootfs_umount(s, container_dir, &ignored);   /* the first error is the one to report */
	}
out:
	img_store_unlock(s);
	return r;
}

int img_rootfs_umount(struct img_store *s, const char *container_dir, struct err *e)
{
	char target[PATH_MAX];
	_cleanup_close_ int dirfd = open(container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (snprintf(target, sizeof(target), "%s/rootfs", container_dir) >= (int)sizeof(target))
		return err_setx(e, -ENAMETOOLONG, "container directory too long");
	if (dirfd < 0 && errno != ENOENT)
		return err_set(e, -errno, "open '%s'", container_dir);
	if (dirfd >= 0) {
		if (umount2(target, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT) {
			if (errno != EBUSY || umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
				return err_set(e, -errno, "unmount '%s'", target);
		}
		for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
			r = img_rm_rf_at(dirfd, subdirs[i]);
			if (r < 0)
				return err_set(e, r, "remove '%s/%s'", container_dir, subdirs[i]);
		}
	}
	r = img_user_remove(s, container_dir);
	if (r < 0 && r != -ENOENT)
		return err_set(e, r, "drop user record of '%s'", container_dir);
	return 0;
}

int img_run_prepare(struct img_store *s, const char *ref, const char *container_dir,
		    const struct img_run_opts *o, struct img_run *ret, struct err *e)
{
	struct img_run run = { 0 };
	struct img_config c;
	int r;

	if (o && o->pull) {
		r = img_ensure(s, ref, NULL, e);
		if (r < 0)
			return r;
	}
	r = img_rootfs_mount(s, ref, container_dir, run.rootfs, e);
	if (r < 0)
		return r;
	r = img_user_get(s, container_dir, run.digest);
	if (r == 0)
		r = img_config_load(s, run.digest, &c, e);
	else
		err_set(e, r, "read user record");
	if (r == 0) {
		r = img_exec_merge(&c, o ? o->overrides : NULL, &run.exec);
		if (r == -ENOEXEC)
			err_setx(e, r, "image '%s' has no command and none was given", ref);
		else if (r < 0)
			err_set(e, r, "apply image config");
		run.exposed_ports = TAKE_PTR(c.exposed_ports);
		img_config_release(&c);
	}
	if (r < 0) {
		struct err ignored = ERR_INIT;

		(void)img_rootfs_umount(s, container_dir, &ignored);  /* report the first error */
		img_strv_free(run.exposed_ports);
		return r;
	}
	*ret = run;
	return 0;
}

int img_run_release(struct img_store *s, const char *container_dir, struct img_run *run,
		    struct err *e)
{
	if (run) {
		img_exec_release(&run->exec);
		run->exposed_ports = img_strv_free(run->exposed_ports);
	}
	return img_rootfs_umount(s, container_dir, e);
}
