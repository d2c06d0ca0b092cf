/* control/taskdef.c - RegisterTaskDefinition, DescribeTaskDefinition,
 * ListTaskDefinitions, ListTaskDefinitionFamilies, DeregisterTaskDefinition,
 * DeleteTaskDefinitions.  A task definition is stored as its API document;
 * revisions come from a per-family counter that never goes back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "control/taskdef_validate.h"
#include "lib/cleanup.h"

#define EXC "ClientException"
#define BAD "InvalidParameterException"
#define MAX_REVISIONS 1000000
#define DELETE_MAX 10

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "build task definition");
}

static int not_found(struct err *e)
{
	return err_api(e, EXC, "Unable to describe task definition.");
}

/* A loaded task definition row. */
struct tdrow {
	char family[NAME_MAX_LEN + 1];
	int64_t revision;
	char *status;
	cJSON *doc;
};

static void tdrow_release(struct tdrow *t)
{
	free(t->status);
	cJSON_Delete(t->doc);
}

/* Resolves a reference.  NEED_REVISION: "family" alone is refused.
 * -ENOENT (with no error set) when it names nothing. */
static int load(struct control *c, const char *ref, bool need_revision, struct tdrow *t,
		struct err *e)
{
	_cleanup_free_ char *text = NULL;
	struct arn a;
	int r;

	r = taskdef_ref_parse(ref, t->family, &t->revision, &a);
	if (r == -ERANGE)
		return err_api(e, EXC, "Invalid revision number. Number: %.32s",
			       strrchr(ref, ':') ? strrchr(ref, ':') + 1 : ref);
	if (r < 0)
		return err_api(e, EXC, "Invalid task definition '%.128s': use family, "
			       "family:revision or the task definition ARN.", ref);
	if (a.region[0] && !ctl_arn_is_ours(c, &a))
		return -ENOENT;
	if (t->revision == 0) {
		if (need_revision)
			return err_api(e, EXC, "Invalid revision number. A revision is required: "
				       "use family:revision or the task definition ARN.");
		r = store_taskdef_latest(c->st, t->family, "ACTIVE", &t->revision, e);
		if (r < 0)
			return r;
	}
	r = store_taskdef_get(c->st, t->family, t->revision, &t->status, &text, e);
	if (r < 0)
		return r;
	t->doc = cJSON_Parse(text);
	if (!t->doc)
		return err_setx(e, -EIO, "store: corrupt task definition '%s:%lld'", t->family,
				(long long)t->revision);
	return 0;
}

int taskdef_lookup(struct control *c, const char *ref, char **ret_status, cJSON **ret_doc,
		   struct err *e)
{
	struct tdrow t = { 0 };
	int r = load(c, ref, false, &t, e);

	if (r < 0) {
		tdrow_release(&t);
		return r;
	}
	*ret_status = t.status;
	*ret_doc = t.doc;
	return 0;
}

static int save(struct control *c, const struct tdrow *t, struct err *e)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(t->doc);

	if (!text)
		return nomem(e);
	return store_taskdef_put(c->st, t->family, t->revision, t->status, text, e);
}

static int set_status(struct tdrow *t, const char *status, const char *stamp_field)
{
	char *s = strdup(status);

	if (!s)
		return -ENOMEM;
	free(t->status);
	t->status = s;
	if (!cJSON_ReplaceItemInObjectCaseSensitive(t->doc, "status", cJSON_CreateString(status)))
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(t->doc, stamp_field);
	return json_add_num(t->doc, stamp_field, ctl_now());
}

static cJSON *compatibilities(void)
{
	const char *const v[] = { "EC2", "EXTERNAL" };

	return cJSON_CreateStringArray(v, 2);
}

int act_register_task_definition(struct control *c, const cJSON *req, const char *principal,
				 cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(req, "tags");
	_cleanup_free_ char *text = NULL;
	char arn[ARN_MAX];
	const char *family;
	int64_t rev;
	int r;

	if (!resp)
		return nomem(e);
	r = taskdef_build(req, &doc, e);
	if (r < 0)
		return r;
	r = tags_check(tags, e);
	if (r < 0)
		return r;
	family = cJSON_GetObjectItemCaseSensitive(doc, "family")->valuestring;
	r = store_taskdef_next_revision(c->st, family, &rev, e);
	if (r < 0)
		return r;
	if (rev > MAX_REVISIONS)
		return err_api(e, EXC, "Too many revisions of family '%s': the limit is %d.",
			       family, MAX_REVISIONS);
	if (ctl_arn(c, ARN_TASK_DEFINITION, NULL, family, rev, arn) < 0)
		return nomem(e);
	if (json_add_str(doc, "taskDefinitionArn", arn) < 0 ||
	    json_add_num(doc, "revision", (double)rev) < 0 ||
	    json_add_str(doc, "status", "ACTIVE") < 0 ||
	    json_add(doc, "requiresAttributes", cJSON_CreateArray()) < 0 ||
	    json_add(doc, "compatibilities", compatibilities()) < 0 ||
	    json_add_num(doc, "registeredAt", ctl_now()) < 0 ||
	    json_add_str(doc, "registeredBy", principal) < 0)
		return nomem(e);
	text = cJSON_PrintUnformatted(doc);
	if (!text)
		return nomem(e);
	r = store_taskdef_put(c->st, family, rev, "ACTIVE", text, e);
	if (r >= 0 && tags)
		r = tags_apply(c, arn, tags, e);
	if (r < 0)
		return r;
	if (json_add(resp, "taskDefinition", TAKE_PTR(doc)) < 0 ||
	    json_add(resp, "tags", tags ? cJSON_Duplicate(tags, true) : cJSON_CreateArray()) < 0)
		return nomem(e);
	*ret = TAKE_PTR(resp);
	return 0;
}

static bool include_tags(const cJSON *req)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "include"))
		if (strcmp(it->valuestring, "TAGS") == 0)
			return true;
	return false;
}

int act_describe_task_definition(struct control *c, const cJSON *req, const char *principal,
				 cJSON **ret, struct err *e)
{
	const char *ref = cJSON_GetObjectItemCaseSensitive(req, "taskDefinition")->valuestring;
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	_cleanup_(tdrow_release) struct tdrow t = { 0 };
	cJSON *tags = NULL;
	int r;

	(void)principal;
	if (!resp)
		return nomem(e);
	r = load(c, ref, false, &t, e);
	if (r == -ENOENT)
		return not_found(e);
	if (r < 0)
		return r;
	if (include_tags(req)) {
		r = tags_to_json(c, cJSON_GetObjectItemCaseSensitive(t.doc, "taskDefinitionArn")
				    ->valuestring, &tags, e);
		if (r < 0)
			return r;
		if (json_add(resp, "tags", tags) < 0)
			return nomem(e);
	}
	if (json_add(resp, "taskDefinition", TAKE_PTR(t.doc)) < 0)
		return nomem(e);
	*ret = TAKE_PTR(resp);
	return 0;
}

int act_deregister_task_definition(struct control *c, const cJSON *req, const char *principal,
				   cJSON **ret, struct err *e)
{
	const char *ref = cJSON_GetObjectItemCaseSensitive(req, "taskDefinition")->valuestring;
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	_cleanup_(tdrow_release) struct tdrow t = { 0 };
	int r;

	(void)principal;
	if (!resp)
		return nomem(e);
	r = load(c, ref, true, &t, e);
	if (r == -ENOENT || (r == 0 && strcmp(t.status, "DELETE_IN_PROGRESS") == 0))
		return err_api(e, EXC, "The specified task definition does not exist.");
	if (r < 0)
		return r;
	/* Deregistering an INACTIVE revision again changes nothing. */
	if (strcmp(t.status, "ACTIVE") == 0) {
		if (set_status(&t, "INACTIVE", "deregisteredAt") < 0)
			return nomem(e);
		r = save(c, &t, e);
		if (r < 0)
			return r;
	}
	if (json_add(resp, "taskDefinition", TAKE_PTR(t.doc)) < 0)
		return nomem(e);
	*ret = TAKE_PTR(resp);
	return 0;
}

static int delete_one(struct control *c, const char *ref, cJSON *done, cJSON *failures,
		      struct err *e)
{
	_cleanup_(tdrow_release) struct tdrow t = { 0 };
	struct err sub = ERR_INIT;
	char arn[ARN_MAX];
	int r;

	r = load(c, ref, true, &t, &sub);
	if (r == -ENOENT || (r < 0 && sub.type)) {
		/* The bad reference is reported in failures[], not as an exception. */
		snprintf(arn, sizeof(arn), "%.1000s", ref);
		return ctl_add_failure(failures, arn, "The specified task definition does not exist.",
				   sub.type ? sub.msg : NULL) < 0 ? nomem(e) : 0;
	}
	if (r < 0) {
		*e = sub;
		return r;
	}
	ctl_arn(c, ARN_TASK_DEFINITION, NULL, t.family, t.revision, arn);
	if (strcmp(t.status, "ACTIVE") == 0)
		return ctl_add_failure(failures, arn, "The specified task definition is ACTIVE; "
				       "deregister it before deleting it.", NULL) < 0 ? nomem(e) : 0;
	if (strcmp(t.status, "INACTIVE") == 0) {
		if (set_status(&t, "DELETE_IN_PROGRESS", "deleteRequestedAt") < 0)
			return nomem(e);
		r = save(c, &t, e);
		if (r < 0)
			return r;
	}
	return json_append(done, TAKE_PTR(t.doc)) < 0 ? nomem(e) : 0;
}

int act_delete_task_definitions(struct control *c, const cJSON *req, const char *principal,
				cJSON **ret, struct err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "taskDefinitions"), *it;
	int r, n = cJSON_GetArraySize(list);
	cJSON *done, *failures;

	(void)principal;
	if (n < 1 || n > DELETE_MAX)
		return err_api(e, EXC, "taskDefinitions must name 1 to %d task definitions.",
			       DELETE_MAX);
	if (reply_with_failures(ret, "taskDefinitions", &done, &failures) < 0)
		return nomem(e);
	cJSON_ArrayForEach(it, list) {
		r = delete_one(c, it->valuestring, done, failures, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- listing ----------------------------------------------------------- */

static int td_list_cb(const char *family, int64_t rev, void *data)
{
	struct pager *p = data;
	cJSON *key = cJSON_CreateArray();
	char arn[ARN_MAX];

	if (ctl_arn(p->c, ARN_TASK_DEFINITION, NULL, family, rev, arn) < 0) {
		cJSON_Delete(key);
		return -ENAMETOOLONG;
	}
	if (key && (json_append(key, cJSON_CreateString(family)) < 0 ||
		    json_append(key, cJSON_CreateNumber((double)rev)) < 0)) {
		cJSON_Delete(key);
		return -ENOMEM;
	}
	return pager_add(p, cJSON_CreateString(arn), key);
}

static int family_cb(const char *family, void *data)
{
	return pager_add(data, cJSON_CreateString(family), cJSON_CreateString(family));
}

static const char *str_or(const cJSON *req, const char *k, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);

	return v ? v->valuestring : def;
}

int act_list_task_definitions(struct control *c, const cJSON *req, const char *principal,
			      cJSON **ret, struct err *e)
{
	_cleanup_free_ char *filter = NULL;
	struct store_taskdef_query q = {
		.family = str_or(req, "familyPrefix", NULL),
		.status = str_or(req, "status", "ACTIVE"),
		.desc = strcmp(str_or(req, "sort", "ASC"), "DESC") == 0,
	};
	struct pager p;
	int r;

	(void)principal;
	if (asprintf(&filter, "%s\n%s\n%d", q.family ? q.family : "", q.status, q.desc) < 0) {
		filter = NULL;
		return nomem(e);
	}
	r = pager_start(&p, c, req, "ListTaskDefinitions", filter, PAGE_MAX, e);
	if (r < 0)
		return r;
	if (p.after) {
		const cJSON *f = cJSON_GetArrayItem(p.after, 0), *rv = cJSON_GetArrayItem(p.after, 1);

		if (!cJSON_IsString(f) || !cJSON_IsNumber(rv)) {
			pager_release(&p);
			return err_api(e, BAD, "Invalid nextToken value.");
		}
		q.after_family = f->valuestring;
		q.after_revision = (int64_t)rv->valuedouble;
	}
	q.limit = p.limit + 1;
	r = store_taskdef_list(c->st, &q, td_list_cb, &p, e);
	if (r < 0) {
		pager_release(&p);
		return r == -ENOMEM || r == -ENAMETOOLONG ? err_set(e, r, "ListTaskDefinitions") : r;
	}
	return pager_finish(&p, "taskDefinitionArns", ret, e);
}

int act_list_task_definition_families(struct control *c, const cJSON *req,
				      const char *principal, cJSON **ret, struct err *e)
{
	_cleanup_free_ char *filter = NULL;
	const char *status = str_or(req, "status", "ALL");
	struct store_family_query q = {
		.prefix = str_or(req, "familyPrefix", ""),
		.filter = strcmp(status, "ACTIVE") == 0 ? STORE_FAMILY_ACTIVE
			: strcmp(status, "INACTIVE") == 0 ? STORE_FAMILY_INACTIVE
			: STORE_FAMILY_ALL,
	};
	struct pager p;
	int r;

	(void)principal;
	if (asprintf(&filter, "%s\n%s", q.prefix, status) < 0) {
		filter = NULL;
		return nomem(e);
	}
	r = pager_start(&p, c, req, "ListTaskDefinitionFamilies", filter, PAGE_MAX, e);
	if (r >= 0)
		r = pager_after_name(&p, &q.after, e);
	if (r < 0)
		return r;
	q.limit = p.limit + 1;
	r = store_family_list(c->st, &q, family_cb, &p, e);
	if (r < 0) {
		pager_release(&p);
		return r == -ENOMEM ? err_set(e, r, "ListTaskDefinitionFamilies") : r;
	}
	return pager_finish(&p, "families", ret, e);
}
