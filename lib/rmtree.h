/* lib/rmtree.h - removing a directory tree below a directory fd, whatever
 * its depth and whatever a container put in it. */
#pragma once

enum rmtree_flags {
	/* Stop with -EBUSY at a mount point or another filesystem at or below
	 * the tree: what is mounted there (a volume's source, a bind) is
	 * never emptied through it. */
	RMTREE_SAME_MOUNT = 1 << 0,
};

/* Removes DIRFD/NAME and everything below it, never following symlinks,
 * at any depth with a bounded number of open descriptors (a tree thousands
 * of levels deep goes too).  A missing NAME is 0; a non-directory is
 * unlinked.  Stops at the first error and returns it (-errno). */
int rm_rf_at(int dirfd, const char *name, unsigned flags);

/* 1 if DIRFD/NAME is the root of a mount, 0 if not, -EOPNOTSUPP if the
 * kernel cannot tell (statx without STATX_ATTR_MOUNT_ROOT), -errno. */
int mount_root_at(int dirfd, const char *name);
