/* images/registry.h - one registry repository over HTTP(S) (used by pull.c).
 *
 * Handles the auth dance: a request answered 401 is retried once with basic
 * credentials or a bearer token fetched from the realm the challenge names.
 * Credentials are never sent unasked: basic ones go to the registry only
 * after it answered 401 with a Basic challenge, and to a token realm only
 * after a Bearer challenge.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/ref.h"

struct err;
struct img_blob_writer;

struct reg_client {
	void *curl;                 /* CURL * */
	char base[300];             /* "https://host:port" */
	char repo[256];
	char registry[256];
	char *userpass;             /* "user:pass" or NULL */
	bool basic;                 /* it asked for basic auth: send userpass */
	bool insecure;              /* in BERTH_INSECURE_REGISTRIES: plain HTTP allowed */
	char *bearer;               /* token or NULL */
	/* per request */
	char challenge[1024];       /* last WWW-Authenticate */
	char content_digest[80];    /* Docker-Content-Digest */
	long status;
};

int reg_open(struct reg_client *c, const struct img_ref *r, struct err *e);
void reg_close(struct reg_client *c);
/* GETs /v2/<repo>/manifests/<REFERENCE>; RET is malloc'd: at most SIZE
 * bytes (the descriptor's; -1 = unknown), never more than 4 MiB. */
int reg_get_manifest(struct reg_client *c, const char *reference, int64_t size, char **ret,
		     size_t *ret_len, struct err *e);
typedef void reg_progress_fn(uint64_t done, uint64_t total, void *data);
/* GETs /v2/<repo>/blobs/<DIGEST> into W (not committed).  SIZE is the
 * descriptor's: the transfer stops (-EFBIG) at the first byte past it, or
 * before the body when the response announces more; < 0 is refused. */
int reg_get_blob(struct reg_client *c, const char *digest, int64_t size, struct img_blob_writer *w,
		 reg_progress_fn *progress, void *data, struct err *e);

/* Pure helpers, unit-tested. */
/* Finds KEY="value" (or KEY=value) in a WWW-Authenticate challenge. */
int reg_challenge_param(const char *challenge, const char *key, char *buf, size_t size);
/* Credentials "user:pass" for REGISTRY from a BERTH_REGISTRY_AUTH value:
 * its "REGISTRY=user:pass" entry, else a bare "user:pass" entry only when
 * REGISTRY is DEFAULT_REGISTRY (BERTH_DEFAULT_REGISTRY; NULL: none). */
int reg_auth_from_env(const char *env, const char *registry, const char *default_registry,
		      char **ret);
/* A token realm URL: https, or http only for an INSECURE registry (else
 * -EPERM: credentials and the token would cross in clear); anything else
 * -EPROTO. */
int reg_realm_check(const char *realm, bool insecure);
/* The URL schemes requests and their redirects may use (libcurl's list). */
const char *reg_protocols(bool insecure);
/* Credentials from a docker config.json text; -ENOENT when none match. */
int reg_auth_from_docker_config(const char *json, size_t len, const char *registry, char **ret);
