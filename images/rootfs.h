/* images/rootfs.h - a container's root filesystem from an image.
 *
 * img_rootfs_mount mounts overlayfs at CONTAINER_DIR/rootfs with the
 * image's unpacked layers as lowerdirs (top layer first) and
 * CONTAINER_DIR/upper + CONTAINER_DIR/work as the container's own writable
 * layer, and records the container as a user of the image (so `image rm`
 * refuses it and prune keeps its layers).  img_rootfs_umount undoes all of
 * it: unmount, remove upper/, work/, rootfs/ and the user record.  The
 * caller owns CONTAINER_DIR itself (it must exist).
 *
 * For the runtime, img_run_prepare/img_run_release wrap the whole thing:
 * resolve the reference (pulling per BERTH_IMAGE_PULL_BEHAVIOR when asked),
 * mount, and merge the image config with the container's overrides.
 */
#pragma once

#include <limits.h>

#include "images/config.h"
#include "images/store.h"

struct err;

int img_rootfs_mount(struct img_store *s, const char *ref, const char *container_dir,
		     char ret_mountpoint[PATH_MAX], struct err *e);
/* Safe to call again after a partial failure or a crash; -ENOENT-free. */
int img_rootfs_umount(struct img_store *s, const char *container_dir, struct err *e);

struct img_run {
	char rootfs[PATH_MAX];      /* the overlay mountpoint: pivot_root here */
	char digest[IMG_DIGEST_MAX];
	struct img_exec exec;       /* argv, env, workdir, user to apply */
	char **exposed_ports;       /* informational, from the image */
};

struct img_run_opts {
	const struct img_overrides *overrides;  /* may be NULL */
	bool pull;                  /* apply BERTH_IMAGE_PULL_BEHAVIOR (else: store only) */
};

/* Everything `container run --image REF` needs before it clones. */
int img_run_prepare(struct img_store *s, const char *ref, const char *container_dir,
		    const struct img_run_opts *o, struct img_run *ret, struct err *e);
/* After the container exited: unmount and remove; frees RUN's strings. */
int img_run_release(struct img_store *s, const char *container_dir, struct img_run *run,
		    struct err *e);
