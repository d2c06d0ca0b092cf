/* control/attributes.c - PutAttributes, DeleteAttributes, ListAttributes on
 * container instances (ECS-REFERENCE 4.5; the rules are in attr.c).  The
 * attributes live in the instance's stored document, where placement and
 * CQL read them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/attr.h"
#include "control/internal.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define BAD "InvalidParameterException"
#define TARGET_TYPE "container-instance"

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "attributes");
}

static int list_check(const cJSON *list, bool value_allowed, struct err *e)
{
	const cJSON *a;
	int r;

	if (cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > ATTR_PER_CALL_MAX)
		return err_api(e, BAD, "attributes must name 1 to %d attributes.", ATTR_PER_CALL_MAX);
	cJSON_ArrayForEach(a, list) {
		r = attr_check(a, value_allowed, e);
		if (r < 0)
			return r;
		if (!json_get_str(a, "targetId"))
			return err_api(e, BAD, "Attribute '%s' needs a targetId.", json_get_str(a, "name"));
		/* ECS: a short id does not say what it names. */
		if (strncmp(json_get_str(a, "targetId"), "arn:", 4) != 0 && !json_get_str(a, "targetType"))
			return err_api(e, BAD, "Attribute '%s': targetType is required when "
				       "targetId is not an ARN.", json_get_str(a, "name"));
	}
	return 0;
}

/* The registered instance an attribute targets. */
static int target(struct control *c, const char *cluster, const cJSON *a,
		  char id[NAME_MAX_LEN + 1], char **ret_status, cJSON **ret_doc, struct err *e)
{
	const char *ref = json_get_str(a, "targetId");
	int r;

	if (ctl_id_ref(c, ref, ARN_CONTAINER_INSTANCE, cluster, id) < 0)
		return err_api(e, "TargetNotFoundException", "Could not find the target %.200s.", ref);
	r = instance_doc(c, cluster, id, ret_status, ret_doc, e);
	if (r == -ENOENT || (r == 0 && strcmp(*ret_status, "INACTIVE") == 0)) {
		if (r == 0) {
			free(*ret_status);
			cJSON_Delete(*ret_doc);
		}
		return err_api(e, "TargetNotFoundException", "Could not find the target %.200s.", ref);
	}
	return r;
}

/* Applies one attribute change to its instance's document. */
static int change_one(struct control *c, const char *cluster, const cJSON *a, bool put,
		      struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *status = NULL;
	char id[NAME_MAX_LEN + 1];
	cJSON *list;
	int r;

	r = target(c, cluster, a, id, &status, &doc, e);
	if (r < 0)
		return r;
	list = cJSON_GetObjectItemCaseSensitive(doc, "attributes");
	if (!cJSON_IsArray(list)) {
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "attributes");
		list = cJSON_AddArrayToObject(doc, "attributes");
		if (!list)
			return nomem(e);
	}
	if (put && attr_set(list, json_get_str(a, "name"), json_get_str(a, "value")) < 0)
		return nomem(e);
	if (!put)
		attr_remove(list, json_get_str(a, "name"));
	if (attr_count_custom(list) > ATTR_CUSTOM_MAX)
		return err_api(e, "AttributeLimitExceededException", "You can have at most %d "
			       "custom attributes per resource; %s would have more.", ATTR_CUSTOM_MAX,
			       id);
	return instance_put_doc(c, cluster, id, status, doc, e);
}

static int change(struct control *c, const cJSON *req, bool put, cJSON **ret, struct err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "attributes"), *a;
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	char cluster[NAME_MAX_LEN + 1];
	int r;

	r = list_check(list, put, e);
	if (r >= 0)
		r = ctl_cluster(c, req, cluster, e);
	cJSON_ArrayForEach(a, list) {
		if (r >= 0)
			r = change_one(c, cluster, a, put, e);
	}
	if (r < 0)
		return r;
	if (json_add(resp, "attributes", cJSON_Duplicate(list, true)) < 0)
		return nomem(e);
	*ret = TAKE_PTR(resp);
	return 0;
}

int act_put_attributes(struct control *c, const cJSON *req, const char *principal, cJSON **ret,
		       struct err *e)
{
	(void)principal;
	return change(c, req, true, ret, e);
}

int act_delete_attributes(struct control *c, const cJSON *req, const char *principal,
			  cJSON **ret, struct err *e)
{
	(void)principal;
	return change(c, req, false, ret, e);
}

/* ---- ListAttributes ----------------------------------------------------- */

struct lister {
	struct control *c;
	const char *cluster, *name, *value;
	struct pager pg;
	struct err *e;
};

static cJSON *attr_item(const struct lister *l, const char *id, const cJSON *a)
{
	cJSON *o = cJSON_CreateObject();
	char arn[ARN_MAX];

	ctl_arn(l->c, ARN_CONTAINER_INSTANCE, l->cluster, id, 0, arn);
	if (!o || json_add_str(o, "name", json_get_str(a, "name")) < 0 ||
	    (json_get_str(a, "value") && json_add_str(o, "value", json_get_str(a, "value")) < 0) ||
	    json_add_str(o, "targetType", TARGET_TYPE) < 0 || json_add_str(o, "targetId", arn) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Position of an item: [instance id, index in the instance's attributes]. */
static cJSON *item_key(const char *id, int idx)
{
	cJSON *k = cJSON_CreateArray();

	if (json_append(k, cJSON_CreateString(id)) < 0 || json_append(k, cJSON_CreateNumber(idx)) < 0) {
		cJSON_Delete(k);
		return NULL;
	}
	return k;
}

static bool after_key(const cJSON *after, const char *id, int idx)
{
	const char *kid = cJSON_GetStringValue(cJSON_GetArrayItem(after, 0));
	int r;

	if (!after)
		return true;
	r = strcmp(id, kid ? kid : "");
	return r > 0 || (r == 0 && idx > (int)cJSON_GetNumberValue(cJSON_GetArrayItem(after, 1)));
}

static int list_instance(const char *id, void *data)
{
	struct lister *l = data;
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *status = NULL;
	const cJSON *a;
	int r, idx = -1;

	r = instance_doc(l->c, l->cluster, id, &status, &doc, l->e);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(doc, "attributes")) {
		const char *n = json_get_str(a, "name"), *v = json_get_str(a, "value");

		idx++;
		if (!n || !after_key(l->pg.after, id, idx) || (l->name && strcmp(n, l->name) != 0) ||
		    (l->value && (!v || strcmp(v, l->value) != 0)))
			continue;
		r = pager_add(&l->pg, attr_item(l, id, a), item_key(id, idx));
		if (r != 0)
			return r;
	}
	return 0;
}

int act_list_attributes(struct control *c, const cJSON *req, const char *principal, cJSON **ret,
			struct err *e)
{
	_cleanup_free_ char *filter = NULL;
	char cluster[NAME_MAX_LEN + 1];
	struct lister l = { .c = c, .cluster = cluster, .e = e };
	int r;

	(void)principal;
	l.name = json_get_str(req, "attributeName");
	l.value = json_get_str(req, "attributeValue");
	if (l.value && !l.name)
		return err_api(e, BAD, "attributeValue can only be given with attributeName.");
	r = ctl_cluster(c, req, cluster, e);
	if (r < 0)
		return r;
	if (asprintf(&filter, "%s|%s|%s", cluster, l.name ? l.name : "", l.value ? l.value : "") < 0)
		return nomem(e);
	r = pager_start(&l.pg, c, req, "ListAttributes", filter, PAGE_MAX, e);
	if (r < 0)
		return r;
	if (l.pg.after && (cJSON_GetArraySize(l.pg.after) != 2 ||
			   !cJSON_IsString(cJSON_GetArrayItem(l.pg.after, 0)) ||
			   !cJSON_IsNumber(cJSON_GetArrayItem(l.pg.after, 1)))) {
		pager_release(&l.pg);
		return err_api(e, BAD, "Invalid nextToken value.");
	}
	r = store_instance_list(c->st, cluster, NULL, NULL, 1 << 30, list_instance, &l, e);
	if (r < 0) {
		pager_release(&l.pg);
		return r == -ENOMEM ? nomem(e) : r;
	}
	return pager_finish(&l.pg, "attributes", ret, e);
}
