/* netns/statefile.h - small text state files under STATE_DIR/netns, each
 * guarded by an exclusive flock on NAME.lock and replaced whole (temp file,
 * fsync, rename) so a crash leaves the old or the new version, never a torn
 * one.  Leaf module: 0 or -errno. */
#pragma once

struct statefile {
	int dirfd;      /* STATE_DIR/netns */
	int lockfd;     /* flock'd NAME.lock; closing it unlocks */
	char name[64];
};
#define STATEFILE_INIT { -1, -1, "" }

/* Creates STATE_DIR/netns (0700) if needed and takes NAME's lock (blocking). */
int statefile_lock(const char *state_dir, const char *name, struct statefile *ret);
/* Unlocks and closes. */
void statefile_unlock(struct statefile *sf);
/* The file's text (malloc'd, NUL-terminated); *ret = NULL if it does not exist. */
int statefile_read(struct statefile *sf, char **ret);
/* Replaces the file's content with TEXT. */
int statefile_write(struct statefile *sf, const char *text);
