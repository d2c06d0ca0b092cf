/* control/arn.c - ECS ARN parsing and formatting (pure). */
#include "control/arn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

static const struct arn_kind_info {
	const char *type;   /* resource type in the ARN */
	bool has_cluster;   /* "<type>/<cluster>/<name>" */
} kinds[ARN__COUNT] = {
	[ARN_CLUSTER]            = { "cluster", false },
	[ARN_TASK_DEFINITION]    = { "task-definition", false },
	[ARN_TASK]               = { "task", true },
	[ARN_SERVICE]            = { "service", true },
	[ARN_CONTAINER_INSTANCE] = { "container-instance", true },
	[ARN_CAPACITY_PROVIDER]  = { "capacity-provider", false },
};

static bool all_of(const char *s, size_t min, size_t max, const char *extra, bool upper)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++) {
		char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (upper && c >= 'A' && c <= 'Z') || (c && strchr(extra, c)))
			continue;
		return false;
	}
	return true;
}

bool ecs_name_is_valid(const char *s)
{
	return s && all_of(s, 1, NAME_MAX_LEN, "_-", true);
}

bool ecs_id_is_valid(const char *s)
{
	return s && all_of(s, 32, 32, "", false) && !strpbrk(s, "ghijklmnopqrstuvwxyz");
}

/* Copies the segment [s, end) into DST (size DSTSZ); false if too long. */
static bool copy_seg(char *dst, size_t dstsz, const char *s, const char *end)
{
	size_t n = (size_t)(end - s);

	if (n >= dstsz)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* Strict decimal revision 1..2^31-1: no sign, no leading zero, no spaces. */
static int parse_revision(const char *s, int64_t *ret)
{
	int64_t v = 0;

	if (!*s || *s == '0' || strlen(s) > 10)
		return -ERANGE;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -ERANGE;
		v = v * 10 + (*s - '0');
	}
	if (v > 2147483647)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int parse_resource(const char *res, struct arn *a)
{
	const char *slash = strchr(res, '/');
	const char *p;

	if (!slash)
		return -EINVAL;
	for (a->kind = 0; a->kind < ARN__COUNT; a->kind++)
		if (strlen(kinds[a->kind].type) == (size_t)(slash - res) &&
		    strncmp(res, kinds[a->kind].type, (size_t)(slash - res)) == 0)
			break;
	if (a->kind == ARN__COUNT)
		return -EINVAL;
	p = slash + 1;
	if (kinds[a->kind].has_cluster) {
		slash = strchr(p, '/');
		if (!slash || !copy_seg(a->cluster, sizeof(a->cluster), p, slash) ||
		    !ecs_name_is_valid(a->cluster))
			return -EINVAL;
		p = slash + 1;
	}
	if (a->kind == ARN_TASK_DEFINITION) {
		const char *colon = strrchr(p, ':');

		if (!colon || !copy_seg(a->name, sizeof(a->name), p, colon) ||
		    parse_revision(colon + 1, &a->revision) < 0)
			return -EINVAL;
	} else if (!copy_seg(a->name, sizeof(a->name), p, p + strlen(p))) {
		return -EINVAL;
	}
	if (a->kind == ARN_TASK || a->kind == ARN_CONTAINER_INSTANCE)
		return ecs_id_is_valid(a->name) ? 0 : -EINVAL;
	return ecs_name_is_valid(a->name) ? 0 : -EINVAL;
}

int arn_parse(const char *s, struct arn *ret)
{
	struct arn a = { 0 };
	const char *p = s, *c;

	/* arn:<partition>:ecs:<region>:<account>:<resource> */
	if (!s || strncmp(p, "arn:", 4) != 0 || strlen(s) >= ARN_MAX)
		return -EINVAL;
	p += 4;
	c = strchr(p, ':');
	if (!c || c == p || (size_t)(c - p) > 32)
		return -EINVAL;
	for (const char *q = p; q < c; q++)
		if (!((*q >= 'a' && *q <= 'z') || *q == '-'))
			return -EINVAL;
	p = c + 1;
	if (strncmp(p, "ecs:", 4) != 0)
		return -EINVAL;
	p += 4;
	c = strchr(p, ':');
	if (!c || !copy_seg(a.region, sizeof(a.region), p, c) || !all_of(a.region, 1, 63, "-", false))
		return -EINVAL;
	p = c + 1;
	c = strchr(p, ':');
	if (!c || !copy_seg(a.account, sizeof(a.account), p, c) ||
	    !all_of(a.account, 1, 63, "-", true))
		return -EINVAL;
	if (parse_resource(c + 1, &a) < 0)
		return -EINVAL;
	*ret = a;
	return 0;
}

int arn_format(char *buf, size_t size, const char *region, const char *account,
	       const struct arn *a)
{
	int n;

	if ((unsigned)a->kind >= ARN__COUNT)
		return -EINVAL;
	if (a->kind == ARN_TASK_DEFINITION)
		n = snprintf(buf, size, "arn:aws:ecs:%s:%s:%s/%s:%lld", region, account,
			     kinds[a->kind].type, a->name, (long long)a->revision);
	else if (kinds[a->kind].has_cluster)
		n = snprintf(buf, size, "arn:aws:ecs:%s:%s:%s/%s/%s", region, account,
			     kinds[a->kind].type, a->cluster, a->name);
	else
		n = snprintf(buf, size, "arn:aws:ecs:%s:%s:%s/%s", region, account,
			     kinds[a->kind].type, a->name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int taskdef_ref_parse(const char *s, char family[NAME_MAX_LEN + 1], int64_t *ret_revision,
		      struct arn *ret_arn)
{
	const char *colon;
	int r;

	memset(ret_arn, 0, sizeof(*ret_arn));
	if (strncmp(s, "arn:", 4) == 0) {
		if (arn_parse(s, ret_arn) < 0 || ret_arn->kind != ARN_TASK_DEFINITION)
			return -EINVAL;
		memcpy(family, ret_arn->name, sizeof(ret_arn->name));
		*ret_revision = ret_arn->revision;
		return 0;
	}
	colon = strchr(s, ':');
	if (!colon) {
		if (!ecs_name_is_valid(s))
			return -EINVAL;
		snprintf(family, NAME_MAX_LEN + 1, "%s", s);
		*ret_revision = 0;
		return 0;
	}
	if (!copy_seg(family, NAME_MAX_LEN + 1, s, colon) || !ecs_name_is_valid(family))
		return -EINVAL;
	r = parse_revision(colon + 1, ret_revision);
	return r;
}

int cluster_ref_parse(const char *s, char name[NAME_MAX_LEN + 1], struct arn *ret_arn)
{
	memset(ret_arn, 0, sizeof(*ret_arn));
	if (strncmp(s, "arn:", 4) == 0) {
		if (arn_parse(s, ret_arn) < 0 || ret_arn->kind != ARN_CLUSTER)
			return -EINVAL;
		memcpy(name, ret_arn->name, sizeof(ret_arn->name));
		return 0;
	}
	if (!ecs_name_is_valid(s))
		return -EINVAL;
	snprintf(name, NAME_MAX_LEN + 1, "%s", s);
	return 0;
}
