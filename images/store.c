/* images/store.c - blobs by digest, names, users, locks (see store.h). */
#include "images/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/ref.h"
#include "lib/cleanup.h"
#include "lib/err.h"
#include "lib/fileio.h"
#include "lib/mkdir.h"
#include "lib/rmtree.h"

static const char *const store_dirs[] = { "blobs", "blobs/sha256", "layers", "tags", "users",
					  "locks", "tmp" };

struct img_store *img_store_open(const char *state_dir, struct err *e)
{
	_cleanup_free_ struct img_store *s = calloc(1, sizeof(*s));
	const char *base = state_dir ? state_dir : getenv("BERTH_STATE_DIR");
	int r;

	if (!s) {
		err_set(e, -ENOMEM, "open image store");
		return NULL;
	}
	s->dirfd = s->lockfd = -1;
	if (!base || !*base)
		base = "/var/lib/berth";
	if (snprintf(s->path, sizeof(s->path), "%s/images", base) >= (int)sizeof(s->path)) {
		err_setx(e, -ENAMETOOLONG, "image store path under '%s' too long", base);
		return NULL;
	}
	r = mkdir_all(s->path, 0700, 0700);
	if (r < 0) {
		err_set(e, r, "create image store '%s'", s->path);
		return NULL;
	}
	s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		err_set(e, -errno, "open image store '%s'", s->path);
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(store_dirs); i++)
		if (mkdirat(s->dirfd, store_dirs[i], 0700) < 0 && errno != EEXIST) {
			err_set(e, -errno, "create '%s/%s'", s->path, store_dirs[i]);
			goto fail;
		}
	s->lockfd = openat(s->dirfd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		err_set(e, -errno, "lock image store '%s'", s->path);
		goto fail;
	}
	return TAKE_PTR(s);
fail:
	if (s->lockfd >= 0)
		close(s->lockfd);
	close(s->dirfd);
	return NULL;
}

struct img_store *img_store_free(struct img_store *s)
{
	if (!s)
		return NULL;
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s);
	return NULL;
}

int img_store_lock_shared(struct img_store *s)
{
	return flock(s->lockfd, LOCK_SH) < 0 ? -errno : 0;
}

int img_store_lock_exclusive(struct img_store *s)
{
	return flock(s->lockfd, LOCK_EX) < 0 ? -errno : 0;
}

void img_store_unlock(struct img_store *s)
{
	(void)flock(s->lockfd, LOCK_UN);   /* cannot fail on a valid fd */
}

int img_store_lock(struct img_store *s, const char *key)
{
	char name[128];
	int fd;

	if (snprintf(name, sizeof(name), "locks/%s.lock", key) >= (int)sizeof(name))
		return -ENAMETOOLONG;
	fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int img_sha256(const void *buf, size_t len, char ret[IMG_DIGEST_MAX])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -EIO;
	memcpy(ret, "sha256:", 7);
	hex_encode(md, 32, ret + 7);
	return 0;
}

int img_blob_begin(struct img_store *s, struct img_blob_writer *w)
{
	unsigned char rnd[8];
	char hex[17];

	*w = (struct img_blob_writer){ .s = s, .fd = -1 };
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	hex_encode(rnd, sizeof(rnd), hex);
	snprintf(w->tmpname, sizeof(w->tmpname), "tmp/blob-%s", hex);
	w->fd = openat(s->dirfd, w->tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0)
		return -errno;
	w->md = EVP_MD_CTX_new();
	if (!w->md || !EVP_DigestInit_ex(w->md, EVP_sha256(), NULL)) {
		img_blob_abort(w);
		return -ENOMEM;
	}
	return 0;
}

int img_blob_write(struct img_blob_writer *w, const void *buf, size_t len)
{
	const char *p = buf;

	if (!EVP_DigestUpdate(w->md, buf, len))
		return -EIO;
	w->size += len;
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void img_blob_abort(struct img_blob_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		(void)unlinkat(w->s->dirfd, w->tmpname, 0);  /* best effort; prune sweeps tmp/ */
	}
	w->fd = -1;
	EVP_MD_CTX_free(w->md);
	w->md = NULL;
}

static int fsync_dir_at(int dirfd, const char *name)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

int img_blob_commit(struct img_blob_writer *w, const char *want, int64_t want_size,
		    char *ret_digest, struct err *e)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char digest[IMG_DIGEST_MAX], final[128];
	int r;

	if (!EVP_DigestFinal_ex(w->md, md, &mdlen) || mdlen != 32) {
		img_blob_abort(w);
		return err_setx(e, -EIO, "sha256 failed");
	}
	memcpy(digest, "sha256:", 7);
	hex_encode(md, 32, digest + 7);
	if (want_size >= 0 && (uint64_t)want_size != w->size) {
		img_blob_abort(w);
		return err_setx(e, -EBADMSG, "blob %s: size %llu, expected %lld (truncated or corrupt)",
				want ? want : digest, (unsigned long long)w->size, (long long)want_size);
	}
	if (want && strcmp(want, digest) != 0) {
		img_blob_abort(w);
		return err_setx(e, -EBADMSG, "digest mismatch: expected %s, got %s", want, digest);
	}
	if (fsync(w->fd) < 0) {
		r = -errno;
		img_blob_abort(w);
		return err_set(e, r, "fsync blob %s", digest);
	}
	snprintf(final, sizeof(final), "blobs/sha256/%s", digest + 7);
	if (renameat(w->s->dirfd, w->tmpname, w->s->dirfd, final) < 0) {
		r = -errno;
		img_blob_abort(w);
		return err_set(e, r, "store blob %s", digest);
	}
	close(w->fd);
	w->fd = -1;
	img_blob_abort(w);
	r = fsync_dir_at(w->s->dirfd, "blobs/sha256");
	if (r < 0)
		return err_set(e, r, "fsync blob directory");
	if (ret_digest)
		memcpy(ret_digest, digest, sizeof(digest));
	return 0;
}

int img_blob_put_mem(struct img_store *s, const void *buf, size_t len, const char *want,
		     char *ret_digest, struct err *e)
{
	struct img_blob_writer w;
	int r = img_blob_begin(s, &w);

	if (r < 0)
		return err_set(e, r, "create temporary blob");
	r = img_blob_write(&w, buf, len);
	if (r < 0) {
		img_blob_abort(&w);
		return err_set(e, r, "write temporary blob");
	}
	return img_blob_commit(&w, want, -1, ret_digest, e);
}

int img_blob_put_fd(struct img_store *s, int fd, const char *want, int64_t want_size,
		    char *ret_digest, struct err *e)
{
	struct img_blob_writer w;
	char buf[65536];
	int r;

	if (want && img_blob_exists(s, want)) {
		if (ret_digest)
			snprintf(ret_digest, IMG_DIGEST_MAX, "%s", want);
		return 0;
	}
	r = img_blob_begin(s, &w);
	if (r < 0)
		return err_set(e, r, "create temporary blob");
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			img_blob_abort(&w);
			return err_set(e, r, "read blob");
		}
		if (n == 0)
			break;
		r = img_blob_write(&w, buf, (size_t)n);
		if (r < 0) {
			img_blob_abort(&w);
			return err_set(e, r, "write temporary blob");
		}
	}
	return img_blob_commit(&w, want, want_size, ret_digest, e);
}

static int blob_path(const char *digest, char *buf, size_t size)
{
	if (!img_digest_valid(digest))
		return -EINVAL;
	snprintf(buf, size, "blobs/sha256/%s", digest + 7);
	return 0;
}

bool img_blob_exists(struct img_store *s, const char *digest)
{
	char path[128];

	return blob_path(digest, path, sizeof(path)) == 0 &&
	       faccessat(s->dirfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int img_blob_open(struct img_store *s, const char *digest)
{
	char path[128];
	int r = blob_path(digest, path, sizeof(path)), fd;

	if (r < 0)
		return r;
	fd = openat(s->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int img_blob_read(struct img_store *s, const char *digest, size_t max, char **ret, size_t *ret_len)
{
	char path[PATH_MAX];
	char rel[128];
	int r = blob_path(digest, rel, sizeof(rel));

	if (r < 0)
		return r;
	if (snprintf(path, sizeof(path), "%s/%s", s->path, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return read_file_alloc(path, max, ret, ret_len);
}

int img_name_escape(const char *name, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-';

		if (k + (plain ? 1 : 3) >= size)
			return -ENAMETOOLONG;
		if (plain) {
			buf[k++] = (char)*p;
		} else {
			buf[k++] = '%';
			buf[k++] = hex[*p >> 4];
			buf[k++] = hex[*p & 15];
		}
	}
	if (k == 0 || k >= size || (k <= 2 && buf[0] == '.'))
		return -EINVAL;
	buf[k] = '\0';
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int img_name_unescape(const char *esc, char *buf, size_t size)
{
	size_t k = 0;

	for (const char *p = esc; *p; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			p += 2;
		}
		if (k + 1 >= size)
			return -ENAMETOOLONG;
		buf[k++] = (char)c;
	}
	buf[k] = '\0';
	return 0;
}

/* Writes DIR/<escaped KEY> = CONTENT atomically; DURABLE also fsyncs.
 * User records need no fsync: after a power loss no overlay is mounted
 * any more, so a lost record protects nothing. */
static int record_write(struct img_store *s, const char *dir, const char *key, const char *content,
			bool durable)
{
	char esc[NAME_MAX], path[NAME_MAX + 16], tmp[64], sum[IMG_DIGEST_MAX];
	int r = img_name_escape(key, esc, sizeof(esc) - 8);
	_cleanup_close_ int fd = -1;

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, esc);
	/* The escaped name may fill NAME_MAX by itself: name the temporary
	 * file by a hash of the record's path instead. */
	r = img_sha256(path, strlen(path), sum);
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "tmp/rec-%d-%.32s", (int)getpid(), sum + 7);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, content, strlen(content)) != (ssize_t)strlen(content) || (durable && fsync(fd) < 0)) {
		r = errno ? -errno : -EIO;
		(void)unlinkat(s->dirfd, tmp, 0);
		return r;
	}
	if (renameat(s->dirfd, tmp, s->dirfd, path) < 0) {
		r = -errno;
		(void)unlinkat(s->dirfd, tmp, 0);
		return r;
	}
	return durable ? fsync_dir_at(s->dirfd, dir) : 0;
}

static int record_read(struct img_store *s, const char *dir, const char *key, char *buf,
		       size_t size)
{
	char esc[NAME_MAX], path[NAME_MAX + 16];
	int r = img_name_escape(key, esc, sizeof(esc) - 8);

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, esc);
	return read_file_at(s->dirfd, path, buf, size, NULL);
}

static int record_remove(struct img_store *s, const char *dir, const char *key, bool durable)
{
	char esc[NAME_MAX], path[NAME_MAX + 16];
	int r = img_name_escape(key, esc, sizeof(esc) - 8);

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, esc);
	if (unlinkat(s->dirfd, path, 0) < 0)
		return -errno;
	return durable ? fsync_dir_at(s->dirfd, dir) : 0;
}

/* The first line of BUF as a digest. */
static int first_line_digest(char *buf, char ret[IMG_DIGEST_MAX])
{
	buf[strcspn(buf, "\n")] = '\0';
	if (!img_digest_valid(buf))
		return -EBADMSG;
	memcpy(ret, buf, strlen(buf) + 1);
	return 0;
}

int img_tag_set(struct img_store *s, const char *name, const char *digest)
{
	char content[IMG_DIGEST_MAX + 1];

	if (!img_digest_valid(digest))
		return -EINVAL;
	snprintf(content, sizeof(content), "%s\n", digest);
	return record_write(s, "tags", name, content, true);
}

int img_tag_get(struct img_store *s, const char *name, char ret[IMG_DIGEST_MAX])
{
	char buf[256];
	int r = record_read(s, "tags", name, buf, sizeof(buf));

	return r < 0 ? r : first_line_digest(buf, ret);
}

int img_tag_remove(struct img_store *s, const char *name)
{
	return record_remove(s, "tags", name, true);
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

int img_tag_foreach(struct img_store *s, int (*fn)(const char *name, const char *digest, void *data),
		    void *data)
{
	int fd = openat(s->dirfd, "tags", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		char name[NAME_MAX + 1], digest[IMG_DIGEST_MAX], buf[256];
		int r;

		if (de->d_name[0] == '.' || img_name_unescape(de->d_name, name, sizeof(name)) < 0)
			continue;
		if (read_file_at(dirfd(d), de->d_name, buf, sizeof(buf), NULL) < 0 ||
		    first_line_digest(buf, digest) < 0)
			continue;
		r = fn(name, digest, data);
		if (r)
			return r;
	}
	return 0;
}

int img_user_add(struct img_store *s, const char *container_dir, const char *digest)
{
	char content[IMG_DIGEST_MAX + PATH_MAX + 2];

	snprintf(content, sizeof(content), "%s\n%s\n", digest, container_dir);
	return record_write(s, "users", container_dir, content, false);
}

int img_user_remove(struct img_store *s, const char *container_dir)
{
	return record_remove(s, "users", container_dir, false);
}

int img_user_get(struct img_store *s, const char *container_dir, char ret[IMG_DIGEST_MAX])
{
	char buf[IMG_DIGEST_MAX + PATH_MAX + 2];
	int r = record_read(s, "users", container_dir, buf, sizeof(buf));

	return r < 0 ? r : first_line_digest(buf, ret);
}

int img_user_foreach(struct img_store *s,
		     int (*fn)(const char *container_dir, const char *digest, void *data), void *data)
{
	int fd = openat(s->dirfd, "users", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		char buf[IMG_DIGEST_MAX + PATH_MAX + 2], *dir;
		int r;

		if (de->d_name[0] == '.' || read_file_at(dirfd(d), de->d_name, buf, sizeof(buf), NULL) < 0)
			continue;
		dir = strchr(buf, '\n');
		if (!dir)
			continue;
		*dir++ = '\0';
		dir[strcspn(dir, "\n")] = '\0';
		if (!img_digest_valid(buf))
			continue;
		/* A container directory that is gone cannot hold a rootfs. */
		if (access(dir, F_OK) < 0 && errno == ENOENT) {
			(void)unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		r = fn(dir, buf, data);
		if (r)
			return r;
	}
	return 0;
}

struct count_ctx {
	const char *digest;
	int n;
};

static int count_one(const char *dir, const char *digest, void *data)
{
	struct count_ctx *c = data;

	(void)dir;
	if (!c->digest || strcmp(c->digest, digest) == 0)
		c->n++;
	return 0;
}

int img_user_count(struct img_store *s, const char *digest)
{
	struct count_ctx c = { .digest = digest };
	int r = img_user_foreach(s, count_one, &c);

	return r < 0 ? r : c.n;
}

int img_rm_rf_at(int parentfd, const char *name)
{
	return rm_rf_at(parentfd, name, 0);
}
