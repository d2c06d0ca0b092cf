/* images/image.c - manifests, indexes, commit, resolve, remove, prune. */
#include "images/image.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "images/config.h"
#include "images/layer.h"
#include "images/ref.h"
#include "lib/cleanup.h"
#include "lib/err.h"
#include "lib/json.h"

#define MANIFEST_MAX (4 << 20)
#define CONFIG_MAX (8 << 20)

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static int parse_desc(const cJSON *d, struct img_desc *ret)
{
	const cJSON *digest = cJSON_GetObjectItemCaseSensitive(d, "digest");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(d, "size");

	if (!cJSON_IsObject(d) || !cJSON_IsString(digest) || !img_digest_valid(digest->valuestring))
		return -EBADMSG;
	if (size && (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 1e15))
		return -EBADMSG;
	snprintf(ret->digest, sizeof(ret->digest), "%s", digest->valuestring);
	ret->size = size ? (int64_t)size->valuedouble : -1;
	return 0;
}

int img_is_index(const char *json, size_t len)
{
	_cleanup_(cJSON_Deletep) cJSON *root = cJSON_ParseWithLength(json, len);

	return root && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "manifests"));
}

int img_manifest_parse(const char *json, size_t len, struct img_manifest *ret)
{
	_cleanup_(cJSON_Deletep) cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *layers, *l;
	struct img_manifest m = { 0 };
	size_t k = 0;
	int r;

	if (!root || !cJSON_IsObject(root))
		return -EBADMSG;
	if (cJSON_GetObjectItemCaseSensitive(root, "manifests"))
		return -EMEDIUMTYPE;
	layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
	if (!cJSON_IsArray(layers))
		return -EBADMSG;
	r = parse_desc(cJSON_GetObjectItemCaseSensitive(root, "config"), &m.config);
	if (r < 0)
		return r;
	m.nlayers = (size_t)cJSON_GetArraySize(layers);
	if (m.nlayers > 500)
		return -EBADMSG;
	m.layers = calloc(m.nlayers ? m.nlayers : 1, sizeof(*m.layers));
	if (!m.layers)
		return -ENOMEM;
	cJSON_ArrayForEach(l, layers) {
		r = parse_desc(l, &m.layers[k++]);
		if (r < 0) {
			img_manifest_release(&m);
			return r;
		}
	}
	*ret = m;
	return 0;
}

void img_manifest_release(struct img_manifest *m)
{
	free(m->layers);
	m->layers = NULL;
	m->nlayers = 0;
}

int img_index_pick(const char *json, size_t len, const char *os, const char *arch,
		   const char *variant, struct img_desc *ret)
{
	_cleanup_(cJSON_Deletep) cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "manifests"), *m;
	const cJSON *best = NULL;

	if (!root || !cJSON_IsArray(list))
		return -EBADMSG;
	cJSON_ArrayForEach(m, list) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "platform");
		const char *mos = json_get_str(p, "os"), *march = json_get_str(p, "architecture");
		const char *mvar = json_get_str(p, "variant");

		if (!mos || !march || strcmp(mos, os) != 0 || strcmp(march, arch) != 0)
			continue;
		/* An exact variant wins; otherwise the first entry of the arch. */
		if (variant && mvar && strcmp(variant, mvar) == 0) {
			best = m;
			break;
		}
		if (!best)
			best = m;
	}
	if (!best)
		return -ENOENT;
	return parse_desc(best, ret);
}

const char *img_host_arch(const char **ret_variant)
{
	static const struct {
		const char *uname, *arch, *variant;
	} map[] = {
		{ "x86_64", "amd64", NULL },   { "aarch64", "arm64", "v8" }, { "armv7l", "arm", "v7" },
		{ "armv6l", "arm", "v6" },     { "i686", "386", NULL },      { "i386", "386", NULL },
		{ "ppc64le", "ppc64le", NULL }, { "s390x", "s390x", NULL },  { "riscv64", "riscv64", NULL },
	};
	struct utsname u;

	if (ret_variant)
		*ret_variant = NULL;
	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(u.machine, map[i].uname) == 0) {
			if (ret_variant)
				*ret_variant = map[i].variant;
			return map[i].arch;
		}
	return "unknown";
}

int img_commit(struct img_store *s, const char *manifest, size_t len, char *const *names,
	       char *ret_digest, struct err *e)
{
	struct img_manifest m;
	char digest[IMG_DIGEST_MAX];
	int r = img_manifest_parse(manifest, len, &m);

	if (r < 0)
		return err_setx(e, r, "not an image manifest");
	if (!img_blob_exists(s, m.config.digest)) {
		img_manifest_release(&m);
		return err_setx(e, -ENOENT, "manifest names config %s, which is missing", m.config.digest);
	}
	for (size_t i = 0; i < m.nlayers; i++) {
		if (!img_blob_exists(s, m.layers[i].digest)) {
			r = err_setx(e, -ENOENT, "manifest names layer %s, which is missing",
				     m.layers[i].digest);
			break;
		}
		r = img_layer_ensure(s, m.layers[i].digest, e);
		if (r < 0)
			break;
	}
	img_manifest_release(&m);
	if (r < 0)
		return r;
	r = img_blob_put_mem(s, manifest, len, NULL, digest, e);
	if (r < 0)
		return err_wrap(e, "store manifest");
	for (size_t i = 0; names && names[i]; i++) {
		r = img_tag_set(s, names[i], digest);
		if (r < 0)
			return err_set(e, r, "name image '%s'", names[i]);
	}
	if (ret_digest)
		memcpy(ret_digest, digest, IMG_DIGEST_MAX);
	return 0;
}

struct prefix_ctx {
	const char *prefix;
	char found[IMG_DIGEST_MAX];
	int matches;
};

static int match_prefix(const char *name, const char *digest, void *data)
{
	struct prefix_ctx *c = data;

	(void)name;
	if (strncmp(digest, c->prefix, strlen(c->prefix)) == 0 && strcmp(c->found, digest) != 0) {
		memcpy(c->found, digest, IMG_DIGEST_MAX);
		c->matches++;
	}
	return 0;
}

static bool is_hex_prefix(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n >= 12 && n <= 64 && s[n] == '\0';
}

int img_resolve(struct img_store *s, const char *ref, char ret[IMG_DIGEST_MAX], struct err *e)
{
	struct img_ref r;
	char name[600];
	int q;

	if (img_digest_valid(ref)) {
		if (!img_blob_exists(s, ref))
			return err_setx(e, -ENOENT, "image '%s' not found", ref);
		memcpy(ret, ref, IMG_DIGEST_MAX);
		return 0;
	}
	if (is_hex_prefix(ref) || (strncmp(ref, "sha256:", 7) == 0 && is_hex_prefix(ref + 7))) {
		char prefix[IMG_DIGEST_MAX];
		struct prefix_ctx c = { .prefix = prefix };

		snprintf(prefix, sizeof(prefix), "sha256:%s", strncmp(ref, "sha256:", 7) ? ref : ref + 7);
		q = img_tag_foreach(s, match_prefix, &c);
		if (q < 0)
			return err_set(e, q, "list images");
		if (c.matches == 1) {
			memcpy(ret, c.found, IMG_DIGEST_MAX);
			return 0;
		}
		if (c.matches > 1)
			return err_setx(e, -ENOENT, "image id '%s' is ambiguous", ref);
	}
	q = img_ref_parse(ref, getenv("BERTH_DEFAULT_REGISTRY"), &r);
	if (q < 0)
		return err_setx(e, q, "invalid image reference '%s'", ref);
	q = img_ref_format(&r, name, sizeof(name));
	if (q < 0)
		return err_setx(e, q, "image reference '%s' too long", ref);
	q = img_tag_get(s, name, ret);
	if (q == 0)
		return 0;
	/* Pulled by digest: the digest is the manifest itself. */
	if (*r.digest && img_blob_exists(s, r.digest)) {
		memcpy(ret, r.digest, IMG_DIGEST_MAX);
		return 0;
	}
	return err_setx(e, -ENOENT, "image '%s' not found", ref);
}

int img_manifest_load(struct img_store *s, const char *digest, struct img_manifest *ret,
		      struct err *e)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = img_blob_read(s, digest, MANIFEST_MAX, &json, &len);

	if (r < 0)
		return err_set(e, r, "read manifest %s", digest);
	r = img_manifest_parse(json, len, ret);
	if (r < 0)
		return err_setx(e, r, "manifest %s is not an image manifest", digest);
	return 0;
}

int img_config_load(struct img_store *s, const char *digest, struct img_config *ret, struct err *e)
{
	struct img_manifest m;
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = img_manifest_load(s, digest, &m, e);

	if (r < 0)
		return r;
	r = img_blob_read(s, m.config.digest, CONFIG_MAX, &json, &len);
	if (r < 0) {
		err_set(e, r, "read image config %s", m.config.digest);
		img_manifest_release(&m);
		return r;
	}
	img_manifest_release(&m);
	r = img_config_parse(json, len, ret);
	if (r < 0)
		return err_setx(e, r, "image config of %s is malformed", digest);
	return 0;
}

/* ---- remove and prune ---- */

struct names_ctx {
	const char *digest;
	char **names;
	size_t n;
};

static int collect_names(const char *name, const char *digest, void *data)
{
	struct names_ctx *c = data;
	char **v;

	if (strcmp(digest, c->digest) != 0)
		return 0;
	v = realloc(c->names, (c->n + 2) * sizeof(char *));
	if (!v)
		return -ENOMEM;
	c->names = v;
	if (!(v[c->n] = strdup(name)))
		return -ENOMEM;
	v[++c->n] = NULL;
	return 0;
}

int img_remove(struct img_store *s, const char *ref, struct err *e)
{
	char digest[IMG_DIGEST_MAX], name[600];
	struct names_ctx c = { .digest = digest };
	struct img_ref pr;
	bool by_id = img_digest_valid(ref) || is_hex_prefix(ref);
	int r, users;

	r = img_store_lock_exclusive(s);
	if (r < 0)
		return err_set(e, r, "lock image store");
	r = img_resolve(s, ref, digest, e);
	if (r < 0)
		goto out;
	r = img_tag_foreach(s, collect_names, &c);
	if (r < 0) {
		err_set(e, r, "list names");
		goto out;
	}
	users = img_user_count(s, digest);
	if (users < 0) {
		r = err_set(e, users, "list image users");
		goto out;
	}
	if (!by_id && img_ref_parse(ref, getenv("BERTH_DEFAULT_REGISTRY"), &pr) == 0 &&
	    img_ref_format(&pr, name, sizeof(name)) == 0 && img_tag_get(s, name, digest) == 0 &&
	    c.n > 1) {
		/* Other names keep the image: dropping one name is always fine. */
		r = img_tag_remove(s, name);
		if (r < 0)
			err_set(e, r, "remove name '%s'", name);
		goto out;
	}
	if (users > 0) {
		r = err_setx(e, -EBUSY, "image '%s' is in use by %d container%s", ref, users,
			     users == 1 ? "" : "s");
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		r = img_tag_remove(s, c.names[i]);
		if (r < 0 && r != -ENOENT) {
			err_set(e, r, "remove name '%s'", c.names[i]);
			goto out;
		}
		r = 0;
	}
out:
	img_strv_free(c.names);
	img_store_unlock(s);
	return r;
}

/* A sorted set of digest hex strings. */
struct digest_set {
	char (*v)[65];
	size_t n, cap;
};

static int set_add(struct digest_set *set, const char *digest)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		void *v = realloc(set->v, cap * sizeof(*set->v));

		if (!v)
			return -ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	memcpy(set->v[set->n++], digest + 7, 65);
	return 0;
}

static int hexcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool set_has(const struct digest_set *set, const char *hex)
{
	return set->n && bsearch(hex, set->v, set->n, sizeof(*set->v), hexcmp);
}

struct mark_ctx {
	struct img_store *s;
	struct digest_set keep;
};

static int mark_image(struct mark_ctx *c, const char *digest)
{
	struct img_manifest m;
	struct err ignored = ERR_INIT;
	int r = set_add(&c->keep, digest);

	if (r < 0)
		return r;
	/* A manifest we cannot read keeps only itself. */
	if (img_manifest_load(c->s, digest, &m, &ignored) < 0)
		return 0;
	r = set_add(&c->keep, m.config.digest);
	for (size_t i = 0; r == 0 && i < m.nlayers; i++)
		r = set_add(&c->keep, m.layers[i].digest);
	img_manifest_release(&m);
	return r;
}

static int mark_tag(const char *name, const char *digest, void *data)
{
	(void)name;
	return mark_image(data, digest);
}

static int mark_user(const char *dir, const char *digest, void *data)
{
	(void)dir;
	return mark_image(data, digest);
}

/* Removes every entry of DIR that KEEP does not hold (by name). */
static int sweep(struct img_store *s, const char *dir, const struct digest_set *keep,
		 unsigned *count)
{
	int fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int r = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int q;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (keep && set_has(keep, de->d_name))
			continue;
		q = img_rm_rf_at(dirfd(d), de->d_name);
		if (q < 0 && r == 0)
			r = q;
		if (q == 0 && count)
			(*count)++;
	}
	return r;
}

int img_prune(struct img_store *s, unsigned *ret_blobs, unsigned *ret_layers, struct err *e)
{
	struct mark_ctx c = { .s = s };
	unsigned blobs = 0, layers = 0;
	int r = img_store_lock_exclusive(s);

	if (r < 0)
		return err_set(e, r, "lock image store");
	r = img_tag_foreach(s, mark_tag, &c);
	if (r == 0)
		r = img_user_foreach(s, mark_user, &c);
	if (r < 0) {
		err_set(e, r, "find images in use");
		goto out;
	}
	if (c.keep.n)
		qsort(c.keep.v, c.keep.n, sizeof(*c.keep.v), hexcmp);
	r = sweep(s, "blobs/sha256", &c.keep, &blobs);
	if (r == 0)
		r = sweep(s, "layers", &c.keep, &layers);
	if (r == 0)
		r = sweep(s, "tmp", NULL, NULL);
	if (r < 0)
		err_set(e, r, "prune image store");
out:
	free(c.keep.v);
	img_store_unlock(s);
	if (ret_blobs)
		*ret_blobs = blobs;
	if (ret_layers)
		*ret_layers = layers;
	return r;
}
