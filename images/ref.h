/* images/ref.h - image references: "[host[:port]/]path[:tag][@sha256:hex]".
 *
 * Pure functions over strings (no I/O), so hostile input is unit-tested.
 * Rules follow the distribution reference grammar: a first path component is
 * a registry host when it contains '.' or ':' or is "localhost"; path
 * components are lower-case [a-z0-9] runs joined by '.', '_', '__' or '-'s;
 * a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; the only digest is sha256.
 * Bare names go to the default registry; on Docker Hub ("docker.io") a
 * one-component name gets the "library/" prefix and the API host is
 * registry-1.docker.io.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define IMG_DOCKER_HUB "docker.io"

struct img_ref {
	char registry[256];  /* "docker.io", "127.0.0.1:5000" */
	char repo[256];      /* "library/busybox" */
	char tag[129];       /* "" when only a digest was given */
	char digest[72];     /* "sha256:<64 hex>" or "" */
};

/* Parses S; DEFAULT_REGISTRY (NULL = docker.io) serves bare names.  A
 * reference without tag and digest gets tag "latest".  -EINVAL on anything
 * malformed; *ret is written only on success. */
int img_ref_parse(const char *s, const char *default_registry, struct img_ref *ret);
/* The canonical "registry/repo[:tag][@digest]" into BUF; -ENAMETOOLONG. */
int img_ref_format(const struct img_ref *r, char *buf, size_t size);
/* The host to talk to for REGISTRY ("registry-1.docker.io" for Docker Hub). */
const char *img_ref_api_host(const char *registry);
/* true when S is "sha256:" + 64 lower-case hex digits. */
bool img_digest_valid(const char *s);
/* true when REGISTRY appears in LIST (comma/space separated host[:port]). */
bool img_registry_listed(const char *list, const char *registry);

/* ECS_IMAGE_PULL_BEHAVIOR as BERTH_IMAGE_PULL_BEHAVIOR. */
enum img_pull_behavior {
	IMG_PULL_DEFAULT,        /* pull; if that fails, use a cached copy */
	IMG_PULL_ALWAYS,         /* pull; failure is an error */
	IMG_PULL_ONCE,           /* pull only if never pulled before */
	IMG_PULL_PREFER_CACHED,  /* cached copy if present, never touching the network */
};

enum img_pull_action {
	IMG_USE_CACHED,          /* no network at all */
	IMG_PULL_REQUIRED,       /* pull; failure is an error */
	IMG_PULL_FALLBACK,       /* pull; on failure use the cached copy */
};

/* Parses "default|always|once|prefer-cached" (NULL or "" = default). */
int img_pull_behavior_parse(const char *s, enum img_pull_behavior *ret);
/* What to do for an image that is (or is not) in the store. */
enum img_pull_action img_pull_decide(enum img_pull_behavior b, bool cached);
