/* control/reply.c - the shapes list and batch actions share: a response
 * with a result list and failures[], and a page of a List* action with its
 * nextToken (paging.c makes and checks the tokens). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "control/internal.h"
#include "lib/cleanup.h"

cJSON *reply_free(cJSON *resp)
{
	cJSON_Delete(resp);
	return NULL;
}

int reply_object(cJSON **ret, const char *name, cJSON *v)
{
	cJSON *resp = cJSON_CreateObject();

	if (!resp || json_add(resp, name, v) < 0) {
		if (!resp)
			cJSON_Delete(v);
		cJSON_Delete(resp);
		return -ENOMEM;
	}
	*ret = resp;
	return 0;
}

int ctl_add_failure(cJSON *failures, const char *arn, const char *reason, const char *detail)
{
	cJSON *f = cJSON_CreateObject();

	if (json_append(failures, f) < 0 || json_add_str(f, "arn", arn) < 0 ||
	    json_add_str(f, "reason", reason) < 0 || (detail && json_add_str(f, "detail", detail) < 0))
		return -ENOMEM;
	return 0;
}

int reply_with_failures(cJSON **ret, const char *name, cJSON **ret_list, cJSON **ret_failures)
{
	cJSON *resp = cJSON_CreateObject(), *list = cJSON_CreateArray(), *f = cJSON_CreateArray();

	if (!resp || json_add(resp, name, list) < 0 || json_add(resp, "failures", f) < 0) {
		if (!resp) {
			cJSON_Delete(list);
			cJSON_Delete(f);
		}
		cJSON_Delete(resp);
		return -ENOMEM;
	}
	*ret_list = list;
	*ret_failures = f;
	*ret = resp;
	return 0;
}

int id_list_add(const char *id, void *data)
{
	struct id_list *l = data;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], NAME_MAX_LEN + 1, "%s", id);
	return 0;
}

static int add_task_id(const char *cluster, const char *id, void *data)
{
	(void)cluster;
	return id_list_add(id, data);
}

int instance_task_ids(struct control *c, const char *cluster, const char *instance,
		      struct id_list *ret, struct err *e)
{
	struct store_task_query q = {
		.cluster = cluster, .instance = instance, .not_stopped = true, .limit = 1 << 30,
	};
	int r = store_task_list(c->st, &q, add_task_id, ret, e);

	return r == -ENOMEM ? err_set(e, r, "list the tasks of %s", instance) : r;
}

int pager_start(struct pager *p, struct control *c, const cJSON *req, const char *action,
		const char *filter, int def_limit, struct err *e)
{
	int r;

	*p = (struct pager){ .c = c, .action = action, .filter = filter };
	r = page_limit(req, def_limit, &p->limit, e);
	if (r >= 0)
		r = page_token_decode(c, action, filter, req, &p->after, e);
	if (r < 0)
		return r;
	p->items = cJSON_CreateArray();
	if (!p->items) {
		pager_release(p);
		return err_set(e, -ENOMEM, "%s", action);
	}
	return 0;
}

int pager_after_name(struct pager *p, const char **ret, struct err *e)
{
	*ret = cJSON_GetStringValue(p->after);
	if (p->after && !*ret) {
		pager_release(p);
		return err_api(e, "InvalidParameterException", "Invalid nextToken value.");
	}
	return 0;
}

void pager_release(struct pager *p)
{
	cJSON_Delete(p->after);
	cJSON_Delete(p->items);
	cJSON_Delete(p->last);
	*p = (struct pager){ 0 };
}

int pager_add(struct pager *p, cJSON *item, cJSON *key)
{
	if (!item || !key) {
		cJSON_Delete(item);
		cJSON_Delete(key);
		return -ENOMEM;
	}
	if (p->n == p->limit) {
		p->more = true;
		cJSON_Delete(item);
		cJSON_Delete(key);
		return 1;
	}
	if (json_append(p->items, item) < 0) {
		cJSON_Delete(key);
		return -ENOMEM;
	}
	p->n++;
	cJSON_Delete(p->last);
	p->last = key;
	return 0;
}

int pager_finish(struct pager *p, const char *name, cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *resp = cJSON_CreateObject();
	_cleanup_free_ char *tok = NULL;
	int r = 0;

	if (!resp || json_add(resp, name, p->items) < 0)
		r = -ENOMEM;
	p->items = NULL;
	if (r == 0 && p->more &&
	    (page_token_encode(p->c, p->action, p->filter, p->last, &tok) < 0 ||
	     json_add_str(resp, "nextToken", tok) < 0))
		r = -ENOMEM;
	pager_release(p);
	if (r < 0)
		return err_set(e, r, "build a page of results");
	*ret = TAKE_PTR(resp);
	return 0;
}
