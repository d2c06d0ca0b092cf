/* policy/rlimit.c - ECS ulimits: "name=soft:hard" or "name=value" parsed in
 * the parent (checked against the daemon's own hard limits, which a
 * container cannot exceed without CAP_SYS_RESOURCE), applied in the child.
 */
#include "policy/policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"

#define ULIMIT_SPEC_MAX 128

static const struct {
	const char *name; /* ECS ulimit name */
	int resource;
} ulimit_names[] = {
	{ "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
	{ "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
	{ "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
	{ "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
	{ "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK },
};

const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
		if (ulimit_names[i].resource == resource)
			return ulimit_names[i].name;
	return NULL;
}

static int rlimit_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
		if (strlen(ulimit_names[i].name) == len && strncmp(ulimit_names[i].name, name, len) == 0)
			return ulimit_names[i].resource;
	return -EINVAL;
}

/* "unlimited" and -1 (Docker's spelling) mean RLIM_INFINITY. */
static int parse_limit(const char *s, rlim_t *ret)
{
	uint64_t v;
	int r;

	if (strcmp(s, "unlimited") == 0 || strcmp(s, "-1") == 0) {
		*ret = RLIM_INFINITY;
		return 0;
	}
	/* digits only: parse_u64 would also take spaces around the number */
	if (*s == '\0' || s[strspn(s, "0123456789")] != '\0')
		return -EINVAL;
	r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if (v >= (uint64_t)RLIM_INFINITY)
		return -ERANGE;
	*ret = (rlim_t)v;
	return 0;
}

static void format_limit(rlim_t v, char *buf, size_t size)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%" PRIu64, (uint64_t)v);
}

int rlimit_check_host(const struct rlimit_spec *spec, struct err *e)
{
	struct rlimit host;
	char want[32], have[32];
	const char *name = rlimit_name(spec->resource);

	if (!name)
		name = "?";
	if (getrlimit(spec->resource, &host) < 0)
		return err_set(e, -errno, "ulimit '%s': getrlimit", name);
	if (host.rlim_max == RLIM_INFINITY)
		return 0;
	if (spec->limit.rlim_max == RLIM_INFINITY || spec->limit.rlim_max > host.rlim_max) {
		format_limit(spec->limit.rlim_max, want, sizeof(want));
		format_limit(host.rlim_max, have, sizeof(have));
		return err_setx(e, -EPERM,
				"ulimit '%s' hard limit %s exceeds this host's limit %s; raising it needs CAP_SYS_RESOURCE",
				name, want, have);
	}
	return 0;
}

int rlimit_parse(const char *spec, struct rlimit_spec *ret, struct err *e)
{
	char buf[ULIMIT_SPEC_MAX];
	char *eq, *colon;
	struct rlimit_spec out;
	int res, r;

	if (!spec || !*spec)
		return err_setx(e, -EINVAL, "ulimit: empty specification");
	if (strlen(spec) >= sizeof(buf))
		return err_setx(e, -EINVAL, "ulimit: specification too long");
	strcpy(buf, spec);

	eq = strchr(buf, '=');
	if (!eq)
		return err_setx(e, -EINVAL, "ulimit '%s': expected name=soft:hard or name=value", buf);
	*eq = '\0';
	res = rlimit_lookup(buf, (size_t)(eq - buf));
	if (res < 0)
		return err_setx(e, -EINVAL, "ulimit: unknown name '%s'", buf);
	out.resource = res;

	colon = strchr(eq + 1, ':');
	if (colon)
		*colon = '\0';
	r = parse_limit(eq + 1, &out.limit.rlim_cur);
	if (r < 0)
		return err_setx(e, -EINVAL, "ulimit '%s': bad soft limit '%s'", buf, eq + 1);
	if (colon) {
		r = parse_limit(colon + 1, &out.limit.rlim_max);
		if (r < 0)
			return err_setx(e, -EINVAL, "ulimit '%s': bad hard limit '%s'", buf, colon + 1);
	} else {
		out.limit.rlim_max = out.limit.rlim_cur;
	}
	/* RLIM_INFINITY is the largest value, so this also covers it. */
	if (out.limit.rlim_cur > out.limit.rlim_max)
		return err_setx(e, -EINVAL, "ulimit '%s': soft limit is above the hard limit", buf);

	r = rlimit_check_host(&out, e);
	if (r < 0)
		return r;
	*ret = out;
	return 0;
}

/* Containers get nofile 1048576 like the common runtimes, but never more
 * than the daemon's own hard limit (this sandbox: 20000). */
int rlimit_defaults(struct rlimit_spec *ret, size_t size, size_t *ret_n)
{
	static const struct rlimit_spec wanted[] = {
		{ RLIMIT_NOFILE, { 1048576, 1048576 } },
	};
	size_t n = 0;

	if (size < ARRAY_SIZE(wanted))
		return -ENOBUFS;
	for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
		struct rlimit host;
		struct rlimit_spec s = wanted[i];

		if (getrlimit(s.resource, &host) < 0)
			return -errno;
		if (host.rlim_max != RLIM_INFINITY) {
			if (s.limit.rlim_max > host.rlim_max)
				s.limit.rlim_max = host.rlim_max;
			if (s.limit.rlim_cur > s.limit.rlim_max)
				s.limit.rlim_cur = s.limit.rlim_max;
		}
		ret[n++] = s;
	}
	*ret_n = n;
	return 0;
}

int rlimits_apply(const struct rlimit_spec *specs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (setrlimit(specs[i].resource, &specs[i].limit) < 0)
			return -errno;
	return 0;
}
