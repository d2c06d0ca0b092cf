/* images/store.h - the content-addressed image store.
 *
 * Layout under $BERTH_STATE_DIR/images (default /var/lib/berth/images):
 *   blobs/sha256/<hex>   manifests, configs and layer tarballs, by digest
 *   layers/<hex>/        a layer blob unpacked once (overlayfs lowerdir)
 *   tags/<escaped ref>   "sha256:<manifest digest>\n", one file per name
 *   users/<escaped dir>  "sha256:<manifest digest>\n<container dir>\n": a
 *                        container whose rootfs uses that image
 *   locks/<key>.lock     flock per blob/layer so concurrent pulls share work
 *   tmp/                 blobs being written; store.lock serialises prune
 * Everything appears under its final name only when complete (written to
 * tmp/ or layers/.tmp-*, fsync'd, renamed), so a crash leaves nothing a
 * later run would use; prune removes the leftovers.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

#define IMG_DIGEST_MAX 72   /* "sha256:" + 64 hex + NUL */

struct img_store {
	int dirfd;              /* .../images */
	int lockfd;             /* store.lock */
	char path[PATH_MAX];
};

/* Opens (creating as needed) STATE_DIR/images; STATE_DIR NULL = env
 * BERTH_STATE_DIR or /var/lib/berth. */
struct img_store *img_store_open(const char *state_dir, struct err *e);
struct img_store *img_store_free(struct img_store *s);  /* accepts NULL */
/* store.lock: additions (load, pull, mount) hold it shared from their first
 * blob to their last name, so they run side by side; prune and rm hold it
 * exclusive and so never see an addition half-way. */
int img_store_lock_shared(struct img_store *s);
int img_store_lock_exclusive(struct img_store *s);
void img_store_unlock(struct img_store *s);

/* An flock'd lock file locks/<KEY>.lock; returns the fd (close to unlock). */
int img_store_lock(struct img_store *s, const char *key);

/* Writing one blob: a temp file hashed on the fly. */
struct img_blob_writer {
	struct img_store *s;
	int fd;
	char tmpname[64];
	void *md;               /* EVP_MD_CTX */
	uint64_t size;
};

int img_blob_begin(struct img_store *s, struct img_blob_writer *w);
int img_blob_write(struct img_blob_writer *w, const void *buf, size_t len);
/* Verifies the digest (WANT may be NULL: any) and the size (WANT_SIZE < 0:
 * any), fsyncs and renames into blobs/.  RET_DIGEST may be NULL.  Always
 * releases the writer. */
int img_blob_commit(struct img_blob_writer *w, const char *want, int64_t want_size,
		    char *ret_digest, struct err *e);
void img_blob_abort(struct img_blob_writer *w);
/* Stores LEN bytes of BUF (a manifest, a config). */
int img_blob_put_mem(struct img_store *s, const void *buf, size_t len, const char *want,
		     char *ret_digest, struct err *e);
/* Copies FD to the end into the store. */
int img_blob_put_fd(struct img_store *s, int fd, const char *want, int64_t want_size,
		    char *ret_digest, struct err *e);
bool img_blob_exists(struct img_store *s, const char *digest);
/* O_RDONLY fd of a stored blob, or -errno. */
int img_blob_open(struct img_store *s, const char *digest);
/* Reads a whole stored blob (max MAX bytes) into a malloc'd NUL-terminated buffer. */
int img_blob_read(struct img_store *s, const char *digest, size_t max, char **ret, size_t *ret_len);

/* sha256 of BUF as "sha256:<hex>". */
int img_sha256(const void *buf, size_t len, char ret[IMG_DIGEST_MAX]);

/* Names (tags): canonical reference -> manifest digest. */
int img_tag_set(struct img_store *s, const char *name, const char *digest);
int img_tag_get(struct img_store *s, const char *name, char ret[IMG_DIGEST_MAX]);
int img_tag_remove(struct img_store *s, const char *name);
/* Calls FN for every name; stops at and returns FN's first non-zero result. */
int img_tag_foreach(struct img_store *s, int (*fn)(const char *name, const char *digest, void *data),
		    void *data);

/* Users: which container directories hold a rootfs of which image. */
int img_user_add(struct img_store *s, const char *container_dir, const char *digest);
int img_user_remove(struct img_store *s, const char *container_dir);
int img_user_get(struct img_store *s, const char *container_dir, char ret[IMG_DIGEST_MAX]);
/* Calls FN for every user record; records whose container directory is
 * gone are dropped on the way.  Stops at FN's first non-zero result. */
int img_user_foreach(struct img_store *s,
		     int (*fn)(const char *container_dir, const char *digest, void *data), void *data);
/* Number of users of DIGEST (NULL: of any image); -errno on failure. */
int img_user_count(struct img_store *s, const char *digest);

/* "a/b:c" <-> "a%2Fb%3Ac": a name as one file name. */
int img_name_escape(const char *name, char *buf, size_t size);
int img_name_unescape(const char *esc, char *buf, size_t size);

/* Removes DIRFD/NAME and everything below it (never following symlinks),
 * at any depth with a bounded number of open descriptors; stops at the
 * first error and returns it.  lib/rmtree.h's rm_rf_at without flags. */
int img_rm_rf_at(int dirfd, const char *name);
