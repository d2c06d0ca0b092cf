/* images/registry.c - a minimal OCI distribution client (see registry.h). */
#include "images/registry.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "images/store.h"
#include "lib/cleanup.h"
#include "lib/err.h"
#include "lib/fileio.h"
#include "lib/json.h"

#define MANIFEST_MAX (4 << 20)
#define TOKEN_MAX (1 << 20)

static const char ACCEPT_MANIFESTS[] =
	"Accept: application/vnd.oci.image.index.v1+json, "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.docker.distribution.manifest.v2+json";

int reg_challenge_param(const char *challenge, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = challenge;

	/* Skip the scheme word ("Bearer"). */
	p += strcspn(p, " ");
	while (*p) {
		size_t n = 0;

		p += strspn(p, " ,");
		if (strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
			p += klen + 1;
			if (*p == '"') {
				p++;
				while (p[n] && p[n] != '"')
					n++;
			} else {
				n = strcspn(p, ", ");
			}
			if (n >= size)
				return -ENAMETOOLONG;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return 0;
		}
		/* Skip this param, honouring quotes. */
		while (*p && *p != ',') {
			if (*p == '"') {
				p++;
				while (*p && *p != '"')
					p++;
				if (*p)
					p++;
			} else {
				p++;
			}
		}
	}
	return -ENOENT;
}

int reg_auth_from_env(const char *env, const char *registry, const char *default_registry,
		      char **ret)
{
	const char *fallback = NULL;
	size_t fallback_len = 0, rlen = strlen(registry);

	if (!env)
		return -ENOENT;
	/* A bare "user:pass" names no registry: it may only go to the one
	 * explicitly configured for bare image names. */
	for (const char *p = env + strspn(env, ", \t\n"); *p; p += strspn(p, ", \t\n")) {
		size_t n = strcspn(p, ", \t\n");
		const char *eq = memchr(p, '=', n);

		if (eq && (size_t)(eq - p) == rlen && strncmp(p, registry, rlen) == 0) {
			*ret = strndup(eq + 1, n - rlen - 1);
			return *ret ? 0 : -ENOMEM;
		}
		if (!eq && memchr(p, ':', n) && !fallback && default_registry &&
		    strcmp(default_registry, registry) == 0) {
			fallback = p;
			fallback_len = n;
		}
		p += n;
	}
	if (!fallback)
		return -ENOENT;
	*ret = strndup(fallback, fallback_len);
	return *ret ? 0 : -ENOMEM;
}

int reg_realm_check(const char *realm, bool insecure)
{
	if (strncasecmp(realm, "https://", 8) == 0 && realm[8])
		return 0;
	if (strncasecmp(realm, "http://", 7) == 0 && realm[7])
		return insecure ? 0 : -EPERM;
	return -EPROTO;
}

const char *reg_protocols(bool insecure)
{
	return insecure ? "http,https" : "https";
}

static int b64_decode(const char *in, char **ret)
{
	size_t n = strlen(in);
	_cleanup_free_ unsigned char *out = malloc(n / 4 * 3 + 4);
	int len, pad = 0;

	if (!out)
		return -ENOMEM;
	if (n == 0 || n % 4)
		return -EBADMSG;
	len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (len < 0)
		return -EBADMSG;
	pad = (in[n - 1] == '=') + (in[n - 2] == '=');
	len -= pad;
	out[len] = '\0';
	if (memchr(out, '\0', (size_t)len) || !strchr((char *)out, ':'))
		return -EBADMSG;
	*ret = (char *)TAKE_PTR(out);
	return 0;
}

/* Keys a docker config may use for REGISTRY. */
static bool auth_key_matches(const char *key, const char *registry)
{
	size_t n = strlen(registry);

	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	if (strcmp(registry, IMG_DOCKER_HUB) == 0 &&
	    (strncmp(key, "index.docker.io", 15) == 0 || strncmp(key, "registry-1.docker.io", 20) == 0))
		return true;
	return strncmp(key, registry, n) == 0 && (key[n] == '\0' || key[n] == '/');
}

int reg_auth_from_docker_config(const char *json, size_t len, const char *registry, char **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths"), *a;

	if (!root)
		return -EBADMSG;
	cJSON_ArrayForEach(a, auths) {
		const cJSON *auth = cJSON_GetObjectItemCaseSensitive(a, "auth");

		if (a->string && auth_key_matches(a->string, registry) && cJSON_IsString(auth))
			return b64_decode(auth->valuestring, ret);
	}
	return -ENOENT;
}

static char *find_credentials(const char *registry)
{
	const char *dc = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char path[PATH_MAX];
	_cleanup_free_ char *json = NULL;
	char *creds = NULL;
	size_t len;

	if (reg_auth_from_env(getenv("BERTH_REGISTRY_AUTH"), registry, getenv("BERTH_DEFAULT_REGISTRY"),
			      &creds) == 0)
		return creds;
	if (dc && *dc)
		snprintf(path, sizeof(path), "%s/config.json", dc);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.docker/config.json", home);
	else
		snprintf(path, sizeof(path), "/root/.docker/config.json");
	if (read_file_alloc(path, 1 << 20, &json, &len) < 0)
		return NULL;
	if (reg_auth_from_docker_config(json, len, registry, &creds) < 0)
		return NULL;
	return creds;
}

struct membuf {
	char *buf;
	size_t len;
};

/* Where a response body goes, and how much of it may come. */
struct sink {
	struct reg_client *c;
	struct membuf *mem;            /* either this ... */
	struct img_blob_writer *w;     /* ... or this */
	uint64_t max;                  /* bytes the content may have */
	bool too_big;
	int werr;
	reg_progress_fn *progress;
	void *data;
};

static long response_code(struct sink *s)
{
	long code = 0;

	curl_easy_getinfo(s->c->curl, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* A 200 announcing more than the sink takes is refused before its body.
 * (Not CURLOPT_MAXFILESIZE: that also trips on a 401's or a redirect's
 * body, which may well be longer than a small blob.) */
static bool content_too_long(struct sink *s, const char *v)
{
	uint64_t n;

	return response_code(s) == 200 && parse_u64(v, &n) == 0 && n > s->max;
}

static size_t on_header(char *buf, size_t size, size_t n, void *data)
{
	struct sink *s = data;
	struct reg_client *c = s->c;
	size_t len = size * n, vlen;
	const char *v;

	if (len >= 15 && strncasecmp(buf, "Content-Length:", 15) == 0) {
		char num[32];

		v = buf + 15;
		v += strspn(v, " \t");
		vlen = strcspn(v, "\r\n");
		snprintf(num, sizeof(num), "%.*s", (int)vlen, v);
		if (content_too_long(s, num)) {
			s->too_big = true;
			return 0;
		}
	} else if (len >= 17 && strncasecmp(buf, "WWW-Authenticate:", 17) == 0) {
		v = buf + 17;
		v += strspn(v, " \t");
		vlen = strcspn(v, "\r\n");
		if (vlen < sizeof(c->challenge)) {
			memcpy(c->challenge, v, vlen);
			c->challenge[vlen] = '\0';
		}
	} else if (len >= 22 && strncasecmp(buf, "Docker-Content-Digest:", 22) == 0) {
		v = buf + 22;
		v += strspn(v, " \t");
		vlen = strcspn(v, "\r\n");
		if (vlen < sizeof(c->content_digest)) {
			memcpy(c->content_digest, v, vlen);
			c->content_digest[vlen] = '\0';
		}
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *data)
{
	struct sink *s = data;
	size_t len = size * n;
	uint64_t sofar = s->w ? s->w->size : s->mem->len;

	if (response_code(s) != 200)
		return len;   /* error or redirect bodies are not content */
	/* Stop at the first byte past the declared size: nothing more is
	 * written or kept. */
	if (len > s->max || sofar > s->max - len) {
		s->too_big = true;
		return 0;
	}
	if (s->w) {
		s->werr = img_blob_write(s->w, buf, len);
		return s->werr < 0 ? 0 : len;
	}
	{
		char *nb = realloc(s->mem->buf, s->mem->len + len + 1);

		if (!nb)
			return 0;
		s->mem->buf = nb;
		memcpy(nb + s->mem->len, buf, len);
		s->mem->len += len;
		nb[s->mem->len] = '\0';
	}
	return len;
}

static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct sink *s = data;

	(void)ultotal;
	(void)ulnow;
	if (s->progress)
		s->progress((uint64_t)dlnow, (uint64_t)dltotal, s->data);
	return 0;
}

static void curl_slist_freep(struct curl_slist **l)
{
	curl_slist_free_all(*l);
}

/* What a request carries: to the registry, the bearer token it issued or
 * basic credentials once it asked for them; to a token realm, basic
 * credentials (asked for by the registry's Bearer challenge). */
enum auth_to { AUTH_REGISTRY, AUTH_REALM };

/* One GET of URL into SINK. */
static int perform(struct reg_client *c, const char *url, const char *accept, struct sink *sink,
		   enum auth_to to, struct err *e)
{
	CURL *h = c->curl;
	_cleanup_(curl_slist_freep) struct curl_slist *hdrs = NULL;
	char authz[4096];
	CURLcode cr;

	c->challenge[0] = c->content_digest[0] = '\0';
	c->status = 0;
	sink->too_big = false;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, reg_protocols(c->insecure));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, reg_protocols(c->insecure));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "berth");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, sink);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, sink);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, sink->progress ? 0L : 1L);
	if (accept)
		hdrs = curl_slist_append(hdrs, accept);
	if (to == AUTH_REGISTRY && c->bearer) {
		snprintf(authz, sizeof(authz), "Authorization: Bearer %s", c->bearer);
		hdrs = curl_slist_append(hdrs, authz);
	} else if (c->userpass && (to == AUTH_REALM || c->basic)) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, c->userpass);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	cr = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
	if (sink->werr < 0)
		return err_set(e, sink->werr, "write blob");
	if (sink->too_big)
		return err_setx(e, -EFBIG, "registry '%s': '%s' is longer than the %llu bytes %s",
				c->registry, url, (unsigned long long)sink->max,
				sink->w ? "its descriptor declares" : "allowed");
	if (cr == CURLE_UNSUPPORTED_PROTOCOL && !c->insecure)
		return err_setx(e, -EPERM, "GET '%s': %s (plain HTTP, redirects included, only for registries in BERTH_INSECURE_REGISTRIES)",
				url, curl_easy_strerror(cr));
	if (cr != CURLE_OK)
		return err_setx(e, -EIO, "GET '%s': %s", url, curl_easy_strerror(cr));
	return 0;
}

static int fetch_token(struct reg_client *c, struct err *e)
{
	char realm[512], service[256] = "", scope[512] = "", url[2048];
	struct membuf mem = { 0 };
	struct sink sink = { .c = c, .mem = &mem, .max = TOKEN_MAX };
	_cleanup_(cJSON_Deletep) cJSON *root = NULL;
	const cJSON *tok;
	char *es, *esc;
	int r;

	if (reg_challenge_param(c->challenge, "realm", realm, sizeof(realm)) < 0)
		return err_setx(e, -EPROTO, "registry '%s': bearer challenge without realm", c->registry);
	(void)reg_challenge_param(c->challenge, "service", service, sizeof(service));  /* optional */
	if (reg_challenge_param(c->challenge, "scope", scope, sizeof(scope)) < 0)
		snprintf(scope, sizeof(scope), "repository:%s:pull", c->repo);
	r = reg_realm_check(realm, c->insecure);
	if (r == -EPERM)
		return err_setx(e, r, "registry '%s': token realm '%s' is plain HTTP; allowed only for registries in BERTH_INSECURE_REGISTRIES",
				c->registry, realm);
	if (r < 0)
		return err_setx(e, r, "registry '%s': bad token realm '%s'", c->registry, realm);
	es = curl_easy_escape(c->curl, service, 0);
	esc = curl_easy_escape(c->curl, scope, 0);
	snprintf(url, sizeof(url), "%s%cservice=%s&scope=%s", realm, strchr(realm, '?') ? '&' : '?',
		 es ? es : "", esc ? esc : "");
	curl_free(es);
	curl_free(esc);
	free(c->bearer);
	c->bearer = NULL;
	r = perform(c, url, NULL, &sink, AUTH_REALM, e);
	if (r == 0 && c->status != 200)
		r = err_setx(e, -EACCES, "registry '%s': token request refused (HTTP %ld)%s",
			     c->registry, c->status, c->userpass ? "" : "; no credentials configured");
	if (r == 0) {
		root = cJSON_ParseWithLength(mem.buf ? mem.buf : "", mem.len);
		tok = cJSON_GetObjectItemCaseSensitive(root, "token");
		if (!cJSON_IsString(tok))
			tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
		if (!cJSON_IsString(tok) || !*tok->valuestring || strlen(tok->valuestring) > 3500)
			r = err_setx(e, -EPROTO, "registry '%s': token response without a token", c->registry);
		else if (!(c->bearer = strdup(tok->valuestring)))
			r = err_set(e, -ENOMEM, "token");
	}
	free(mem.buf);
	return r;
}

/* GET with the auth dance: one retry after a 401 with what it asks for. */
static int get(struct reg_client *c, const char *path, const char *accept, struct sink *sink,
	       struct err *e)
{
	char url[1024];
	int r;

	snprintf(url, sizeof(url), "%s/v2/%s", c->base, path);
	for (int attempt = 0;; attempt++) {
		r = perform(c, url, accept, sink, AUTH_REGISTRY, e);
		if (r < 0)
			return r;
		if (c->status != 401 || attempt > 0)
			break;
		if (strncasecmp(c->challenge, "Bearer", 6) == 0) {
			r = fetch_token(c, e);
			if (r < 0)
				return r;
		} else if (strncasecmp(c->challenge, "Basic", 5) == 0) {
			if (!c->userpass)
				return err_setx(e, -EACCES, "registry '%s' requires credentials (BERTH_REGISTRY_AUTH or docker config)", c->registry);
			if (c->basic)
				break;   /* sent and refused */
			c->basic = true;
		} else {
			break;
		}
		if (sink->mem)
			sink->mem->len = 0;
	}
	if (c->status == 401 || c->status == 403)
		return err_setx(e, -EACCES, "registry '%s': access denied (HTTP %ld) to '%s'", c->registry, c->status, path);
	if (c->status == 404)
		return err_setx(e, -ENOENT, "registry '%s': '%s' not found", c->registry, path);
	if (c->status != 200)
		return err_setx(e, -EIO, "registry '%s': HTTP %ld for '%s'", c->registry, c->status, path);
	return 0;
}

int reg_open(struct reg_client *c, const struct img_ref *r, struct err *e)
{
	static bool global_done;
	bool insecure = img_registry_listed(getenv("BERTH_INSECURE_REGISTRIES"), r->registry);

	*c = (struct reg_client){ 0 };
	if (!global_done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global_done = true;
	}
	c->curl = curl_easy_init();
	if (!c->curl)
		return err_set(e, -ENOMEM, "curl");
	snprintf(c->base, sizeof(c->base), "%s://%s", insecure ? "http" : "https",
		 img_ref_api_host(r->registry));
	snprintf(c->repo, sizeof(c->repo), "%s", r->repo);
	snprintf(c->registry, sizeof(c->registry), "%s", r->registry);
	c->insecure = insecure;
	c->userpass = find_credentials(r->registry);
	return 0;
}

void reg_close(struct reg_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	free(c->userpass);
	free(c->bearer);
	c->userpass = c->bearer = NULL;
}

int reg_get_manifest(struct reg_client *c, const char *reference, int64_t size, char **ret,
		     size_t *ret_len, struct err *e)
{
	struct membuf mem = { 0 };
	struct sink sink = { .c = c, .mem = &mem,
			     .max = size >= 0 && size < MANIFEST_MAX ? (uint64_t)size : MANIFEST_MAX };
	char path[600];
	int r;

	snprintf(path, sizeof(path), "%s/manifests/%s", c->repo, reference);
	r = get(c, path, ACCEPT_MANIFESTS, &sink, e);
	if (r < 0 || !mem.buf) {
		free(mem.buf);
		return r < 0 ? r : err_setx(e, -EBADMSG, "registry '%s': empty manifest", c->registry);
	}
	*ret = mem.buf;
	*ret_len = mem.len;
	return 0;
}

int reg_get_blob(struct reg_client *c, const char *digest, int64_t size, struct img_blob_writer *w,
		 reg_progress_fn *progress, void *data, struct err *e)
{
	struct sink sink = { .c = c, .w = w, .max = (uint64_t)size, .progress = progress,
			     .data = data };
	char path[600];

	if (size < 0)
		return err_setx(e, -EBADMSG, "registry '%s': blob %s has no declared size", c->registry, digest);
	snprintf(path, sizeof(path), "%s/blobs/%s", c->repo, digest);
	return get(c, path, NULL, &sink, e);
}
