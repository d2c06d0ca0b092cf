/* images/pull.c - pulling an image from a registry (see pull.h). */
#include "images/pull.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/image.h"
#include "images/registry.h"
#include "lib/cleanup.h"
#include "lib/err.h"

struct progress_ctx {
	const struct img_pull_opts *o;
	const char *digest;
};

static void forward_progress(uint64_t done, uint64_t total, void *data)
{
	struct progress_ctx *p = data;

	p->o->progress(p->digest, done, total, p->o->data);
}

/* Downloads DESC unless stored; under the blob's lock so a second pull of
 * the same blob waits and then finds it done. */
static int fetch_blob(struct img_store *s, struct reg_client *c, const struct img_desc *d,
		      const struct img_pull_opts *o, struct err *e)
{
	char key[80];
	_cleanup_close_ int lock = -1;
	struct img_blob_writer w;
	struct progress_ctx p = { .o = o, .digest = d->digest };
	int r;

	if (img_blob_exists(s, d->digest))
		return 0;
	snprintf(key, sizeof(key), "blob-%s", d->digest + 7);
	lock = img_store_lock(s, key);
	if (lock < 0)
		return err_set(e, lock, "lock blob %.19s", d->digest);
	if (img_blob_exists(s, d->digest))
		return 0;
	r = img_blob_begin(s, &w);
	if (r < 0)
		return err_set(e, r, "create temporary blob");
	r = reg_get_blob(c, d->digest, d->size, &w, o && o->progress ? forward_progress : NULL, &p, e);
	if (r < 0) {
		img_blob_abort(&w);
		return r;
	}
	r = img_blob_commit(&w, d->digest, d->size, NULL, e);
	return r < 0 ? err_wrap(e, "blob %s", d->digest) : 0;
}

/* The manifest of REFERENCE (tag or digest), through an index if need be;
 * verified against WANT (the digest asked for) when given. */
static int fetch_manifest(struct reg_client *c, const char *reference, const char *want,
			  int64_t size, int depth, char **ret, size_t *ret_len, struct err *e)
{
	_cleanup_free_ char *json = NULL;
	char digest[IMG_DIGEST_MAX];
	size_t len;
	int r = reg_get_manifest(c, reference, size, &json, &len, e);

	if (r < 0)
		return r;
	r = img_sha256(json, len, digest);
	if (r < 0)
		return err_set(e, r, "sha256");
	if (want && strcmp(want, digest) != 0)
		return err_setx(e, -EBADMSG, "digest mismatch: manifest %s has digest %s", want, digest);
	if (img_is_index(json, len)) {
		const char *variant, *arch = img_host_arch(&variant);
		struct img_desc pick;

		if (depth > 0)
			return err_setx(e, -EBADMSG, "image index inside an image index");
		r = img_index_pick(json, len, "linux", arch, variant, &pick);
		if (r == -ENOENT)
			return err_setx(e, r, "image index has no linux/%s image", arch);
		if (r < 0)
			return err_setx(e, r, "malformed image index");
		return fetch_manifest(c, pick.digest, pick.digest, pick.size, depth + 1, ret, ret_len, e);
	}
	*ret = TAKE_PTR(json);
	*ret_len = len;
	return 0;
}

static int pull_locked(struct img_store *s, const struct img_ref *ref, const char *name,
		       const struct img_pull_opts *o, char *ret_digest, struct err *e)
{
	struct reg_client c;
	_cleanup_free_ char *json = NULL;
	struct img_manifest m = { 0 };
	char *names[] = { (char *)name, NULL };
	size_t len;
	int r = reg_open(&c, ref, e);

	if (r < 0)
		return r;
	r = fetch_manifest(&c, *ref->digest ? ref->digest : ref->tag,
			   *ref->digest ? ref->digest : NULL, -1, 0, &json, &len, e);
	if (r == 0 && (r = img_manifest_parse(json, len, &m)) < 0)
		err_setx(e, r, "registry '%s': malformed image manifest", ref->registry);
	if (r == 0)
		r = fetch_blob(s, &c, &m.config, o, e);
	for (size_t i = 0; r == 0 && i < m.nlayers; i++)
		r = fetch_blob(s, &c, &m.layers[i], o, e);
	img_manifest_release(&m);
	reg_close(&c);
	if (r == 0)
		r = img_commit(s, json, len, names, ret_digest, e);
	return r;
}

int img_pull(struct img_store *s, const char *refstr, const struct img_pull_opts *o,
	     char *ret_digest, struct err *e)
{
	struct img_ref ref;
	char name[600];
	int r = img_ref_parse(refstr, getenv("BERTH_DEFAULT_REGISTRY"), &ref);

	if (r < 0)
		return err_setx(e, r, "invalid image reference '%s'", refstr);
	r = img_ref_format(&ref, name, sizeof(name));
	if (r < 0)
		return err_setx(e, r, "image reference '%s' too long", refstr);
	r = img_store_lock_shared(s);
	if (r < 0)
		return err_set(e, r, "lock image store");
	r = pull_locked(s, &ref, name, o, ret_digest, e);
	img_store_unlock(s);
	if (r < 0)
		err_wrap(e, "pull '%s'", refstr);
	return r;
}

int img_ensure_with(struct img_store *s, const char *ref, enum img_pull_behavior b,
		    const struct img_pull_opts *o, bool *ret_stale, struct err *e)
{
	char digest[IMG_DIGEST_MAX];
	struct err probe = ERR_INIT;
	bool cached = img_resolve(s, ref, digest, &probe) == 0;
	int r;

	if (ret_stale)
		*ret_stale = false;
	switch (img_pull_decide(b, cached)) {
	case IMG_USE_CACHED:
		return 0;
	case IMG_PULL_REQUIRED:
		return img_pull(s, ref, o, NULL, e);
	case IMG_PULL_FALLBACK:
		r = img_pull(s, ref, o, NULL, e);
		if (r < 0) {
			err_clear(e);
			if (ret_stale)
				*ret_stale = true;
		}
		return 0;
	}
	return err_setx(e, -EINVAL, "bad pull behaviour");
}

int img_ensure(struct img_store *s, const char *ref, const struct img_pull_opts *o, struct err *e)
{
	enum img_pull_behavior b;
	const char *env = getenv("BERTH_IMAGE_PULL_BEHAVIOR");

	if (img_pull_behavior_parse(env, &b) < 0)
		return err_setx(e, -EINVAL, "BERTH_IMAGE_PULL_BEHAVIOR='%s': expected default, always, once or prefer-cached", env);
	return img_ensure_with(s, ref, b, o, NULL, e);
}
