/* runtime/rootfs.h - looking things up inside a container's root filesystem
 * from the host, before the container exists: paths resolve as they will in
 * the container (symlinks cannot escape: openat2 RESOLVE_IN_ROOT). */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"

/* Opens PATH (absolute or relative, as the container sees it) below
 * ROOTFS_FD with FLAGS; 0..fd or a negative errno. */
int rt_open_in_root(int rootfs_fd, const char *path, int flags);

/* Finds the program for ARGV0 as execve in the container would: a name with
 * a '/' is taken as is (relative to WORKDIR), otherwise each directory of
 * SEARCH_PATH (a PATH value) is tried.  *RET gets the container-side path.
 * -ENOENT (not found), -EACCES (found, not an executable regular file). */
int rt_resolve_command(int rootfs_fd, const char *argv0, const char *search_path,
		       const char *workdir, char *ret, size_t size);

/* Pure lookups in the text of /etc/passwd and /etc/group.  -ENOENT when not
 * listed, -EINVAL for a malformed matching line. */
int rt_passwd_by_name(const char *text, const char *name, uid_t *ret_uid, gid_t *ret_gid);
int rt_passwd_by_uid(const char *text, uid_t uid, gid_t *ret_gid);
int rt_group_by_name(const char *text, const char *name, gid_t *ret_gid);
/* Pure: a numeric id ("0".."4294967294"); -EINVAL otherwise. */
int rt_parse_id(const char *s, size_t len, unsigned *ret);

/* Resolves "U[:G]" (names or numeric ids; names from the rootfs's
 * /etc/passwd and /etc/group).  A user without a group gets the passwd
 * entry's group, or 0 for a numeric uid that is not listed. */
int rt_user_resolve(int rootfs_fd, const char *spec, uid_t *ret_uid, gid_t *ret_gid,
		    struct err *e);
