/* control/reply.c - the shapes list and batch actions share: a response
 * with a result list and failures[], and a page of a List* action with its
 * nextToken (paging.c makes and checks the tokens). */
#include <errno.h>
#include <stdlib.h>

#include "control/internal.h"
#include "lib/cleanup.h"

cJSON *reply_free(cJSON *resp)
{
	cJSON_Delete(resp);
	return NULL;
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
