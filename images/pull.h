/* images/pull.h - `berth image pull`: the OCI distribution API v2 over libcurl.
 *
 * Anonymous, basic and bearer-token auth (a 401's "WWW-Authenticate:
 * Bearer realm=...,service=...,scope=..." is followed to the token
 * endpoint).  Credentials come from BERTH_REGISTRY_AUTH: "host=user:pass"
 * entries separated by spaces or commas, host as in the image reference
 * ("registry.local:5000=bob:pw docker.io=alice:pw"); a bare "user:pass"
 * entry applies only to BERTH_DEFAULT_REGISTRY, and only when that is set.
 * Else the docker config (`auths` -> base64 "auth") at $DOCKER_CONFIG/
 * config.json, else $HOME/.docker/config.json, else /root/.docker/config.json.
 * Credentials are sent only in answer to a challenge from that registry:
 * basic ones after a 401 "Basic", to the token realm after a 401 "Bearer".
 * HTTPS always, except registries listed in BERTH_INSECURE_REGISTRIES.
 * Indexes resolve to linux/<this arch>; every blob's digest and size is
 * verified; blobs download under a per-blob lock, so concurrent pulls of
 * the same image share the work.
 */
#pragma once

#include <stdint.h>

#include "images/ref.h"
#include "images/store.h"

struct err;

struct img_pull_opts {
	/* Per-layer progress; called often, bytes so far of TOTAL (0 = unknown). */
	void (*progress)(const char *digest, uint64_t done, uint64_t total, void *data);
	void *data;
};

/* Pulls REF into the store and names it; RET_DIGEST (may be NULL) gets the
 * manifest digest.  O may be NULL. */
int img_pull(struct img_store *s, const char *ref, const struct img_pull_opts *o, char *ret_digest,
	     struct err *e);
/* Makes REF present following behaviour B: prefer-cached/once never touch
 * the network when the image is in the store; default falls back to the
 * stored copy when the pull fails (*RET_STALE then true; may be NULL). */
int img_ensure_with(struct img_store *s, const char *ref, enum img_pull_behavior b,
		    const struct img_pull_opts *o, bool *ret_stale, struct err *e);
/* As img_ensure_with with BERTH_IMAGE_PULL_BEHAVIOR. */
int img_ensure(struct img_store *s, const char *ref, const struct img_pull_opts *o, struct err *e);
