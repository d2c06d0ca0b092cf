/* control/tags.c - resource tags: TagResource, UntagResource,
 * ListTagsForResource, and the rules every tags[] parameter obeys:
 * at most 50 per resource, key 1-128 and value 0-256 characters of letters,
 * digits, spaces and + - = . _ : / @, the aws: prefix reserved. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/internal.h"
#include "lib/cleanup.h"

#define TAGS_MAX 50
#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256
#define BAD "InvalidParameterException"

/* Counts UTF-8 characters; -1 for a byte ECS does not allow in a tag. */
static long tag_chars(const char *s)
{
	long n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xc0) == 0x80)
			continue; /* continuation byte: part of a letter outside ASCII */
		if (*p < 0x80 && !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr(" +-=._:/@", *p))
			return -1;
		n++;
	}
	return n;
}

static bool reserved(const char *s)
{
	return strncasecmp(s, "aws:", 4) == 0;
}

static int check_key(const char *key, struct err *e)
{
	long n = tag_chars(key);

	if (n < 1 || n > TAG_KEY_MAX)
		return err_api(e, BAD, "Tag keys must be 1 to %d characters of letters, numbers, "
			       "spaces and + - = . _ : / @.", TAG_KEY_MAX);
	if (reserved(key))
		return err_api(e, BAD, "Tag keys starting with 'aws:' are reserved for AWS use.");
	return 0;
}

int tags_check(const cJSON *tags, struct err *e)
{
	const cJSON *t, *t2;
	int r;

	if (cJSON_GetArraySize(tags) > TAGS_MAX)
		return err_api(e, BAD, "Too many tags: a resource can have at most %d tags.",
			       TAGS_MAX);
	cJSON_ArrayForEach(t, tags) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "value");
		long n;

		if (!k)
			return err_api(e, BAD, "Tag keys must not be empty.");
		r = check_key(k->valuestring, e);
		if (r < 0)
			return r;
		n = v ? tag_chars(v->valuestring) : 0;
		if (n < 0 || n > TAG_VALUE_MAX)
			return err_api(e, BAD, "Tag values must be 0 to %d characters of letters, "
				       "numbers, spaces and + - = . _ : / @.", TAG_VALUE_MAX);
		if (v && reserved(v->valuestring))
			return err_api(e, BAD, "Tag values starting with 'aws:' are reserved for "
				       "AWS use.");
		cJSON_ArrayForEach(t2, tags) {
			if (t2 == t)
				break;
			if (strcmp(cJSON_GetObjectItemCaseSensitive(t2, "key")->valuestring,
				   k->valuestring) == 0)
				return err_api(e, BAD, "Duplicate tag key '%s'.", k->valuestring);
		}
	}
	return 0;
}

static int count_cb(const char *key, const char *value, void *data)
{
	(void)key;
	(void)value;
	(*(int *)data)++;
	return 0;
}

int tags_apply(struct control *c, const char *arn, const cJSON *tags, struct err *e)
{
	const cJSON *t;
	int r, n = 0;

	r = tags_check(tags, e);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(t, tags) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "value");

		r = store_tag_put(c->st, arn,
				  cJSON_GetObjectItemCaseSensitive(t, "key")->valuestring,
				  v ? v->valuestring : "", e);
		if (r < 0)
			return r;
	}
	/* Counted after the upsert: overwriting an existing key adds nothing. */
	r = store_tags_list(c->st, arn, count_cb, &n, e);
	if (r < 0)
		return r;
	if (n > TAGS_MAX)
		return err_api(e, BAD, "Too many tags: a resource can have at most %d tags.",
			       TAGS_MAX);
	return 0;
}

static int tag_json_cb(const char *key, const char *value, void *data)
{
	cJSON *t = cJSON_CreateObject();

	if (!t || json_add_str(t, "key", key) < 0 || json_add_str(t, "value", value) < 0) {
		cJSON_Delete(t);
		return -ENOMEM;
	}
	return json_append(data, t);
}

int tags_to_json(struct control *c, const char *arn, cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *list = cJSON_CreateArray();
	int r;

	if (!list)
		return err_set(e, -ENOMEM, "list tags");
	r = store_tags_list(c->st, arn, tag_json_cb, list, e);
	if (r == -ENOMEM)
		return err_set(e, r, "list tags");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

/* The canonical ARN of an existing taggable resource named by the request. */
static int resolve(struct control *c, const cJSON *req, char arn[ARN_MAX], struct err *e)
{
	const char *s = cJSON_GetObjectItemCaseSensitive(req, "resourceArn")->valuestring;
	_cleanup_free_ char *status = NULL;
	struct arn a;
	int r;

	if (arn_parse(s, &a) < 0)
		return err_api(e, BAD, "Invalid resourceArn '%.128s'.", s);
	if (!ctl_arn_is_ours(c, &a))
		return err_api(e, "ResourceNotFoundException", "The specified resource could not "
			       "be found.");
	switch (a.kind) {
	case ARN_CLUSTER:
		r = store_cluster_get(c->st, a.name, &status, NULL, e);
		if (r == -ENOENT || (r == 0 && strcmp(status, "ACTIVE") != 0))
			return err_api(e, "ClusterNotFoundException", "Cluster not found.");
		break;
	case ARN_TASK_DEFINITION:
		r = store_taskdef_get(c->st, a.name, a.revision, &status, NULL, e);
		if (r == -ENOENT || (r == 0 && strcmp(status, "DELETE_IN_PROGRESS") == 0))
			return err_api(e, "ClientException", "The specified task definition does "
				       "not exist.");
		break;
	default:
		/* Tasks, services, instances: none exist before the issues that add them. */
		return err_api(e, "ResourceNotFoundException", "The specified resource could not "
			       "be found.");
	}
	if (r < 0)
		return r;
	return ctl_arn(c, a.kind, a.cluster, a.name, a.revision, arn) < 0
	       ? err_api(e, BAD, "Invalid resourceArn.") : 0;
}

int act_tag_resource(struct control *c, const cJSON *req, const char *principal,
		     cJSON **ret, struct err *e)
{
	char arn[ARN_MAX];
	int r;

	(void)principal;
	r = resolve(c, req, arn, e);
	if (r < 0)
		return r;
	r = tags_apply(c, arn, cJSON_GetObjectItemCaseSensitive(req, "tags"), e);
	if (r < 0)
		return r;
	*ret = cJSON_CreateObject();
	return *ret ? 0 : err_set(e, -ENOMEM, "TagResource");
}

int act_untag_resource(struct control *c, const cJSON *req, const char *principal,
		       cJSON **ret, struct err *e)
{
	const cJSON *k;
	char arn[ARN_MAX];
	int r;

	(void)principal;
	r = resolve(c, req, arn, e);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(req, "tagKeys")) {
		r = check_key(k->valuestring, e);
		if (r < 0)
			return r;
		r = store_tag_delete(c->st, arn, k->valuestring, e);
		if (r < 0)
			return r;
	}
	*ret = cJSON_CreateObject();
	return *ret ? 0 : err_set(e, -ENOMEM, "UntagResource");
}

int act_list_tags_for_resource(struct control *c, const cJSON *req, const char *principal,
			       cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	cJSON *tags = NULL;
	char arn[ARN_MAX];
	int r;

	(void)principal;
	if (!resp)
		return err_set(e, -ENOMEM, "ListTagsForResource");
	r = resolve(c, req, arn, e);
	if (r < 0)
		return r;
	r = tags_to_json(c, arn, &tags, e);
	if (r < 0)
		return r;
	if (json_add(resp, "tags", tags) < 0)
		return err_set(e, -ENOMEM, "ListTagsForResource");
	*ret = TAKE_PTR(resp);
	return 0;
}
