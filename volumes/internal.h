/* volumes/internal.h - helpers shared inside volumes/ only. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

#include "volumes/volumes.h"

/* The task ids using a refcounted thing, one a line in DIRFD/users
 * (rewritten atomically).  Caller holds the lock that guards DIRFD. */
int vol_users_read(int dirfd, char ***ret);
int vol_users_add(int dirfd, const char *user);
/* *ret_left (may be NULL) = how many users remain. */
int vol_users_remove(int dirfd, const char *user, size_t *ret_left);

/* Writes BUF to DIRFD/NAME via a temporary file and rename(2). */
int vol_write_atomic(int dirfd, const char *name, const char *buf, size_t len);
/* Mount points: mount_root_at(); removal: rm_rf_at(..., RMTREE_SAME_MOUNT)
 * (lib/rmtree.h), never entering what is mounted below. */
/* mkdir -p with MODE for an absolute trusted PATH. */
int vol_mkdir_p(const char *path, mode_t mode);

/* Driver "local" (volumes/driver.c): TYPE, DEVICE and O (comma-separated,
 * flags such as ro/bind split out as MS_*, the rest passed as data), always
 * nosuid,nodev.  Check: may a task or user ask for OPTS (type, device, o)
 * under C's allow-list; E says why not.  Mount: the same rules enforced on
 * fds opened now, onto the trusted TARGET; 0 or -errno.  Without a type
 * nothing is mounted (check passes, mount is -EINVAL). */
int vol_driver_check(const struct vol_cfg *c, const struct vol_map *opts, struct err *e);
int vol_driver_mount(const struct vol_cfg *c, const char *type, const char *device, const char *o,
		     const char *target);
/* mount(2) of the operator's own filesystem description (BERTH_SHARED_
 * FILESYSTEMS): no allow-list, still nosuid,nodev. */
int vol_fs_mount(const char *type, const char *device, const char *o, const char *target);

/* Copies the directory tree SRC_FD into DST_FD (both directories), keeping
 * modes, owners, times, symlinks and (where both sides have them) xattrs.
 * Never follows a symlink.  Existing entries in DST are left alone. */
int vol_copy_tree(int src_fd, int dst_fd);
/* A new directory stream over the directory FD (which stays open and
 * keeps its offset); NULL with errno set. */
DIR *vol_opendir_at(int fd);
/* 1 if the directory FD has no entries, 0 if it has, or -errno. */
int vol_dir_empty(int fd);

/* openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS. */
int vol_openat_in_root(int root_fd, const char *path, int flags);

/* Detached mounts (volumes/attach.c): a recursive bind clone of SRC_FD, and
 * a fresh tmpfs; both read-only when asked and private, CLOEXEC. */
int vol_open_bind(int src_fd, bool ro, int *ret_fd, bool *ret_dir);
int vol_open_tmpfs(const struct vol_tmpfs *t, int *ret_fd);
/* Resolves the absolute PATH beneath ROOT_FD (-EXDEV if it would leave it),
 * creating missing directories when CREATE.  Returns an O_PATH fd. */
int vol_resolve_beneath(int root_fd, const char *path, bool create, int *ret_fd);
/* The same for anything (file, device, directory), never creating. */
int vol_open_beneath(int root_fd, const char *path, int *ret_fd);

/* Host paths (volumes/hostpath.c).  The allow-list root PATH lies under
 * (longest match), "/" without a list, or NULL. */
const char *vol_host_root_of(const struct vol_cfg *c, const char *path);
/* Opens the host PATH (absolute, no "..", inside the allow-list) beneath its
 * root as an O_PATH fd, creating missing directories when CREATE.  E names
 * it WHAT ("sourcePath", "device"): outside the list and symlinks leading
 * out are -EPERM. */
int vol_host_open(const struct vol_cfg *c, const char *what, const char *path, bool create,
		  int *ret_fd, struct err *e);
