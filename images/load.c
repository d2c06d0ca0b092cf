/* images/load.c - loading docker-archive / oci-archive / OCI layout (see load.h). */
#include "images/load.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "images/config.h"
#include "images/image.h"
#include "images/layer.h"
#include "images/ref.h"
#include "lib/cleanup.h"
#include "lib/err.h"
#include "lib/json.h"

#define JSON_MAX (4 << 20)

static const char *json_get_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A descriptor {"digest": ..., "size": ...}. */
static int parse_desc(const cJSON *d, struct img_desc *ret)
{
	const char *digest = json_get_string(d, "digest");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(d, "size");

	if (!digest || !img_digest_valid(digest))
		return -EBADMSG;
	if (size && (!cJSON_IsNumber(size) || size->valuedouble < 0))
		return -EBADMSG;
	snprintf(ret->digest, sizeof(ret->digest), "%s", digest);
	ret->size = size ? (int64_t)size->valuedouble : -1;
	return 0;
}

/* Opens REL below DIRFD; symlinks and ".." are refused (the source may be hostile). */
static int open_beneath(int dirfd, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static int read_beneath(int dirfd, const char *rel, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open_beneath(dirfd, rel);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > JSON_MAX)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = got;
	return 0;
}

/* Copies the layout blob DESC (blobs/sha256/<hex>) into the store. */
static int copy_blob(struct img_store *s, int layoutfd, const struct img_desc *d, struct err *e)
{
	char rel[128];
	_cleanup_close_ int fd = -1;

	if (img_blob_exists(s, d->digest))
		return 0;
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", d->digest + 7);
	fd = open_beneath(layoutfd, rel);
	if (fd < 0)
		return err_set(e, fd, "blob %s missing from the image", d->digest);
	return img_blob_put_fd(s, fd, d->digest, d->size, NULL, e);
}

/* Canonical form of an image name from an archive, or -EINVAL. */
static int canonical_name(const char *in, char **ret)
{
	struct img_ref r;
	char buf[600];
	int q = img_ref_parse(in, getenv("BERTH_DEFAULT_REGISTRY"), &r);

	if (q < 0)
		return q;
	q = img_ref_format(&r, buf, sizeof(buf));
	if (q < 0)
		return q;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* NAMES = {NAME} if given, else the archive's own names. */
static int names_for(const char *name, char **from_archive, char ***ret)
{
	char **v = calloc(2, sizeof(char *));

	if (!v)
		return -ENOMEM;
	if (name) {
		int r = canonical_name(name, &v[0]);

		if (r < 0) {
			free(v);
			return r;
		}
		img_strv_free(from_archive);
		*ret = v;
		return 0;
	}
	free(v);
	*ret = from_archive;
	return 0;
}

/* Loads one manifest (possibly an index: then this platform's entry) of
 * the layout at LAYOUTFD. */
static int load_manifest(struct img_store *s, int layoutfd, const struct img_desc *d,
			 char *const *names, img_load_cb *cb, void *data, struct err *e)
{
	_cleanup_free_ char *json = NULL;
	char rel[128], digest[IMG_DIGEST_MAX];
	struct img_manifest m;
	size_t len;
	int r;

	snprintf(rel, sizeof(rel), "blobs/sha256/%s", d->digest + 7);
	r = read_beneath(layoutfd, rel, &json, &len);
	if (r < 0)
		return err_set(e, r, "read manifest %s", d->digest);
	r = img_sha256(json, len, digest);
	if (r < 0 || strcmp(digest, d->digest) != 0)
		return err_setx(e, -EBADMSG, "digest mismatch: manifest %s has digest %s", d->digest, digest);
	if (img_is_index(json, len)) {
		const char *variant, *arch = img_host_arch(&variant);
		struct img_desc pick;

		r = img_index_pick(json, len, "linux", arch, variant, &pick);
		if (r < 0)
			return err_setx(e, r, "image index %.19s has no linux/%s image", d->digest, arch);
		return load_manifest(s, layoutfd, &pick, names, cb, data, e);
	}
	r = img_manifest_parse(json, len, &m);
	if (r < 0)
		return err_setx(e, r, "manifest %s is malformed", d->digest);
	r = copy_blob(s, layoutfd, &m.config, e);
	for (size_t i = 0; r == 0 && i < m.nlayers; i++)
		r = copy_blob(s, layoutfd, &m.layers[i], e);
	img_manifest_release(&m);
	if (r == 0)
		r = img_commit(s, json, len, names, digest, e);
	if (r == 0 && cb)
		cb(digest, names, data);
	return r;
}

static int load_oci_layout(struct img_store *s, int layoutfd, const char *name, img_load_cb *cb,
			   void *data, struct err *e)
{
	_cleanup_free_ char *json = NULL;
	_cleanup_(cJSON_Deletep) cJSON *root = NULL;
	const cJSON *list, *m;
	size_t len;
	int r, loaded = 0;

	r = read_beneath(layoutfd, "index.json", &json, &len);
	if (r < 0)
		return err_set(e, r, "read index.json");
	root = cJSON_ParseWithLength(json, len);
	list = cJSON_GetObjectItemCaseSensitive(root, "manifests");
	if (!cJSON_IsArray(list))
		return err_setx(e, -EBADMSG, "index.json is not an OCI image index");
	cJSON_ArrayForEach(m, list) {
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(m, "annotations");
		const cJSON *rn = cJSON_GetObjectItemCaseSensitive(ann, "org.opencontainers.image.ref.name");
		char **from = calloc(2, sizeof(char *)), **names = NULL;
		struct img_desc d;

		if (!from)
			return err_set(e, -ENOMEM, "load");
		/* Only a full reference names an image; a bare tag ("latest")
		 * has no repository to go with it. */
		if (cJSON_IsString(rn) && (strchr(rn->valuestring, '/') || strchr(rn->valuestring, ':')))
			(void)canonical_name(rn->valuestring, &from[0]);  /* unusable name: unnamed */
		r = names_for(name, from, &names);
		if (r < 0) {
			img_strv_free(from);
			return err_setx(e, r, "invalid image name '%s'", name);
		}
		r = parse_desc(m, &d);
		if (r == 0)
			r = load_manifest(s, layoutfd, &d, names, cb, data, e);
		else
			err_setx(e, r, "index.json: malformed manifest entry");
		img_strv_free(names);
		if (r < 0)
			return r;
		loaded++;
	}
	return loaded ? 0 : err_setx(e, -ENOENT, "index.json lists no image");
}

/* The single layer descriptor of a docker-archive member file. */
static int put_member(struct img_store *s, int dirfd, const char *rel, struct img_desc *ret,
		      struct err *e)
{
	_cleanup_close_ int fd = open_beneath(dirfd, rel);
	struct stat st;
	int r;

	if (fd < 0)
		return err_set(e, fd, "archive member '%s'", rel);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_setx(e, -EBADMSG, "archive member '%s' is not a file", rel);
	r = img_blob_put_fd(s, fd, NULL, -1, ret->digest, e);
	ret->size = st.st_size;
	return r;
}

static char *docker_manifest_json(const struct img_desc *config, const struct img_desc *layers,
				  size_t n)
{
	_cleanup_(cJSON_Deletep) cJSON *root = cJSON_CreateObject();
	cJSON *c = cJSON_CreateObject(), *arr = cJSON_CreateArray();

	cJSON_AddItemToObject(root, "config", c);
	cJSON_AddItemToObject(root, "layers", arr);
	cJSON_AddNumberToObject(root, "schemaVersion", 2);
	cJSON_AddStringToObject(root, "mediaType", "application/vnd.oci.image.manifest.v1+json");
	cJSON_AddStringToObject(c, "mediaType", "application/vnd.oci.image.config.v1+json");
	cJSON_AddStringToObject(c, "digest", config->digest);
	cJSON_AddNumberToObject(c, "size", (double)config->size);
	for (size_t i = 0; i < n; i++) {
		cJSON *l = cJSON_CreateObject();

		cJSON_AddItemToArray(arr, l);
		cJSON_AddStringToObject(l, "mediaType", "application/vnd.oci.image.layer.v1.tar");
		cJSON_AddStringToObject(l, "digest", layers[i].digest);
		cJSON_AddNumberToObject(l, "size", (double)layers[i].size);
	}
	return cJSON_PrintUnformatted(root);
}

static int load_docker_entry(struct img_store *s, int dirfd, const cJSON *ent, const char *name,
			     img_load_cb *cb, void *data, struct err *e)
{
	const char *config = json_get_string(ent, "Config");
	const cJSON *layers = cJSON_GetObjectItemCaseSensitive(ent, "Layers");
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(ent, "RepoTags"), *t;
	_cleanup_free_ struct img_desc *descs = NULL;
	_cleanup_free_ char *manifest = NULL;
	struct img_desc cfg;
	char **from, **names = NULL, digest[IMG_DIGEST_MAX];
	size_t n = 0, k = 0;
	int r;

	if (!config || !cJSON_IsArray(layers))
		return err_setx(e, -EBADMSG, "manifest.json: entry without Config or Layers");
	n = (size_t)cJSON_GetArraySize(layers);
	descs = calloc(n ? n : 1, sizeof(*descs));
	from = calloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof(char *));
	if (!descs || !from) {
		free(from);
		return err_set(e, -ENOMEM, "load");
	}
	cJSON_ArrayForEach(t, tags)
		if (cJSON_IsString(t) && canonical_name(t->valuestring, &from[k]) == 0)
			k++;
	r = names_for(name, from, &names);
	if (r < 0) {
		img_strv_free(from);
		return err_setx(e, r, "invalid image name '%s'", name);
	}
	r = put_member(s, dirfd, config, &cfg, e);
	k = 0;
	cJSON_ArrayForEach(t, layers) {
		if (r < 0)
			break;
		if (!cJSON_IsString(t))
			r = err_setx(e, -EBADMSG, "manifest.json: malformed layer list");
		else
			r = put_member(s, dirfd, t->valuestring, &descs[k++], e);
	}
	if (r == 0) {
		manifest = docker_manifest_json(&cfg, descs, n);
		r = manifest ? img_commit(s, manifest, strlen(manifest), names, digest, e)
			     : err_set(e, -ENOMEM, "build manifest");
	}
	if (r == 0 && cb)
		cb(digest, names, data);
	img_strv_free(names);
	return r;
}

static int load_docker_archive(struct img_store *s, int dirfd, const char *name, img_load_cb *cb,
			       void *data, struct err *e)
{
	_cleanup_free_ char *json = NULL;
	_cleanup_(cJSON_Deletep) cJSON *root = NULL;
	const cJSON *ent;
	size_t len;
	int r;

	r = read_beneath(dirfd, "manifest.json", &json, &len);
	if (r < 0)
		return err_set(e, r, "read manifest.json");
	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) == 0)
		return err_setx(e, -EBADMSG, "manifest.json is not a docker-archive manifest");
	cJSON_ArrayForEach(ent, root) {
		r = load_docker_entry(s, dirfd, ent, name, cb, data, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_dir(struct img_store *s, int dirfd, const char *name, img_load_cb *cb, void *data,
		    struct err *e)
{
	if (faccessat(dirfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return load_oci_layout(s, dirfd, name, cb, data, e);
	if (faccessat(dirfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return load_docker_archive(s, dirfd, name, cb, data, e);
	return err_setx(e, -EMEDIUMTYPE, "neither an OCI layout (index.json) nor a docker archive (manifest.json)");
}

int img_load(struct img_store *s, const char *path, const char *name, img_load_cb *cb, void *data,
	     struct err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int tmpfd = -1;
	struct stat st;
	char tmp[64];
	unsigned rnd;
	int r;

	if (fd < 0)
		return err_set(e, -errno, "open '%s'", path);
	if (fstat(fd, &st) < 0)
		return err_set(e, -errno, "stat '%s'", path);
	r = img_store_lock_shared(s);
	if (r < 0)
		return err_set(e, r, "lock image store");
	if (S_ISDIR(st.st_mode)) {
		r = load_dir(s, fd, name, cb, data, e);
		goto out;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		r = err_set(e, -EIO, "getrandom");
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "tmp/load-%08x", rnd);
	if (mkdirat(s->dirfd, tmp, 0700) < 0) {
		r = err_set(e, -errno, "create '%s'", tmp);
		goto out;
	}
	tmpfd = openat(s->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tmpfd < 0)
		r = err_set(e, -errno, "open '%s'", tmp);
	else if ((r = img_layer_unpack(fd, tmpfd, e)) < 0)
		err_wrap(e, "read archive '%s'", path);
	else
		r = load_dir(s, tmpfd, name, cb, data, e);
	(void)img_rm_rf_at(s->dirfd, tmp);   /* prune sweeps tmp/ if this fails */
out:
	img_store_unlock(s);
	return r;
}
