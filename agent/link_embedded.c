/* agent/link_embedded.c - the agent inside `berth daemon`: direct calls
 * into control/, from the same loop. */
#include <errno.h>
#include <stdlib.h>

#include "agent/link.h"

struct link_embedded {
	struct link base;
	struct control *c;
};

static struct control *ctl(struct link *l)
{
	return ((struct link_embedded *)l)->c;
}

static int emb_register(struct link *l, const struct control_instance_reg *reg, struct err *e)
{
	return control_register_instance(ctl(l), reg, e);
}

static void emb_listener(struct link *l, control_task_cb *cb, void *data)
{
	control_set_task_listener(ctl(l), cb, data);
}

static int emb_task(struct link *l, const char *cluster, const char *task_id, cJSON **ret_task,
		    cJSON **ret_taskdef, struct err *e)
{
	return control_task_for_agent(ctl(l), cluster, task_id, ret_task, ret_taskdef, e);
}

static int emb_reports(struct link *l, const char *cluster, const char *task_id,
		       const cJSON *const *reports, size_t n, struct err *e)
{
	return control_task_reports(ctl(l), cluster, task_id, reports, n, e);
}

static int emb_tasks(struct link *l, const char *cluster, const char *instance_id,
		     control_task_id_cb *cb, void *data, struct err *e)
{
	return control_instance_tasks(ctl(l), cluster, instance_id, cb, data, e);
}

static int emb_expire(struct link *l, double before, unsigned *ret_n, struct err *e)
{
	return control_expire_tasks(ctl(l), before, ret_n, e);
}

static void emb_free(struct link *l)
{
	free(l);
}

static const struct link_ops embedded_ops = {
	.register_instance = emb_register,
	.set_task_listener = emb_listener,
	.task_for_agent = emb_task,
	.task_reports = emb_reports,
	.instance_tasks = emb_tasks,
	.expire_tasks = emb_expire,
	.free = emb_free,
};

int link_embedded_new(struct control *c, struct link **ret)
{
	struct link_embedded *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->base.ops = &embedded_ops;
	l->c = c;
	*ret = &l->base;
	return 0;
}
