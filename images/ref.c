/* images/ref.c - image reference parsing (pure). */
#include "images/ref.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NAME_MAX_TOTAL 255

/* Copies S into DST of SIZE bytes; false if it does not fit. */
static bool copy_str(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size)
		return false;
	memcpy(dst, s, n + 1);
	return true;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
	return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}

bool img_digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0)
		return false;
	s += 7;
	for (int i = 0; i < 64; i++)
		if (!is_hex(s[i]))
			return false;
	return s[64] == '\0';
}

/* One path component: [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)*  over [p, p+n). */
static bool component_valid(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(p[0]) || !is_lower_alnum(p[n - 1]))
		return false;
	while (i < n) {
		if (is_lower_alnum(p[i])) {
			i++;
			continue;
		}
		if (p[i] == '.') {
			i++;
		} else if (p[i] == '_') {
			i += (i + 1 < n && p[i + 1] == '_') ? 2 : 1;
		} else if (p[i] == '-') {
			while (i < n && p[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i >= n || !is_lower_alnum(p[i]))
			return false;
	}
	return true;
}

static bool path_valid(const char *p)
{
	const char *slash;

	if (*p == '\0' || strlen(p) > NAME_MAX_TOTAL)
		return false;
	for (;;) {
		slash = strchr(p, '/');
		if (!component_valid(p, slash ? (size_t)(slash - p) : strlen(p)))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

/* host[:port]: labels of [A-Za-z0-9-] joined by '.', port 1-65535. */
static bool registry_valid(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t hostlen = colon ? (size_t)(colon - s) : strlen(s);
	size_t label = 0;

	if (hostlen == 0 || hostlen > 253)
		return false;
	for (size_t i = 0; i < hostlen; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	if (label == 0 || s[hostlen - 1] == '-')
		return false;
	if (colon) {
		unsigned long port = 0;
		const char *p = colon + 1;

		if (*p == '\0' || strlen(p) > 5)
			return false;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return false;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535)
			return false;
	}
	return true;
}

static bool tag_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_';

		if (!word && (i == 0 || (c != '.' && c != '-')))
			return false;
	}
	return true;
}

/* Does the first component name a registry host? */
static bool looks_like_host(const char *first, size_t n)
{
	return memchr(first, '.', n) || memchr(first, ':', n) ||
	       (n == 9 && memcmp(first, "localhost", 9) == 0);
}

int img_ref_parse(const char *s, const char *default_registry, struct img_ref *ret)
{
	struct img_ref r = { 0 };
	char buf[600];
	char *name = buf, *at, *slash, *colon;

	if (!s || !*s || !copy_str(buf, sizeof(buf), s))
		return -EINVAL;

	at = strchr(name, '@');
	if (at) {
		*at = '\0';
		if (!img_digest_valid(at + 1))
			return -EINVAL;
		copy_str(r.digest, sizeof(r.digest), at + 1);
	}
	slash = strchr(name, '/');
	if (slash && looks_like_host(name, (size_t)(slash - name))) {
		*slash = '\0';
		if (!registry_valid(name) || !copy_str(r.registry, sizeof(r.registry), name))
			return -EINVAL;
		name = slash + 1;
	} else {
		const char *def = default_registry && *default_registry ? default_registry
									 : IMG_DOCKER_HUB;
		if (!registry_valid(def) || !copy_str(r.registry, sizeof(r.registry), def))
			return -EINVAL;
	}
	/* The tag colon comes after the last slash (the host's port is gone). */
	colon = strrchr(name, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		if (!tag_valid(colon + 1))
			return -EINVAL;
		copy_str(r.tag, sizeof(r.tag), colon + 1);
	}
	if (!path_valid(name))
		return -EINVAL;
	if (strcmp(r.registry, IMG_DOCKER_HUB) == 0 && !strchr(name, '/')) {
		if (snprintf(r.repo, sizeof(r.repo), "library/%s", name) >= (int)sizeof(r.repo))
			return -EINVAL;
	} else {
		copy_str(r.repo, sizeof(r.repo), name);
	}
	if (!*r.tag && !*r.digest)
		snprintf(r.tag, sizeof(r.tag), "latest");
	*ret = r;
	return 0;
}

int img_ref_format(const struct img_ref *r, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s%s%s%s%s", r->registry, r->repo, *r->tag ? ":" : "",
			 r->tag, *r->digest ? "@" : "", r->digest);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

const char *img_ref_api_host(const char *registry)
{
	return strcmp(registry, IMG_DOCKER_HUB) == 0 ? "registry-1.docker.io" : registry;
}

bool img_registry_listed(const char *list, const char *registry)
{
	size_t n = strlen(registry);

	if (!list || n == 0)
		return false;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ", \t\n");

		if (len == n && strncmp(p, registry, n) == 0)
			return true;
		p += len;
		p += strspn(p, ", \t\n");
	}
	return false;
}

static const char *const behavior_names[] = {
	[IMG_PULL_DEFAULT] = "default",
	[IMG_PULL_ALWAYS] = "always",
	[IMG_PULL_ONCE] = "once",
	[IMG_PULL_PREFER_CACHED] = "prefer-cached",
};

int img_pull_behavior_parse(const char *s, enum img_pull_behavior *ret)
{
	if (!s || !*s) {
		*ret = IMG_PULL_DEFAULT;
		return 0;
	}
	for (size_t i = 0; i < sizeof(behavior_names) / sizeof(behavior_names[0]); i++)
		if (strcmp(s, behavior_names[i]) == 0) {
			*ret = (enum img_pull_behavior)i;
			return 0;
		}
	return -EINVAL;
}

enum img_pull_action img_pull_decide(enum img_pull_behavior b, bool cached)
{
	static const enum img_pull_action table[][2] = {
		/*                          not cached          cached */
		[IMG_PULL_DEFAULT]       = { IMG_PULL_REQUIRED, IMG_PULL_FALLBACK },
		[IMG_PULL_ALWAYS]        = { IMG_PULL_REQUIRED, IMG_PULL_REQUIRED },
		[IMG_PULL_ONCE]          = { IMG_PULL_REQUIRED, IMG_USE_CACHED },
		[IMG_PULL_PREFER_CACHED] = { IMG_PULL_REQUIRED, IMG_USE_CACHED },
	};

	return table[b][cached ? 1 : 0];
}
