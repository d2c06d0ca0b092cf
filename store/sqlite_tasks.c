/* store/sqlite_tasks.c - container instances and tasks in the SQLite backend. */
#include <errno.h>
#include <stdlib.h>

#include "store/internal.h"

int store_instance_get(struct store *s, const char *cluster, const char *id, char **ret_status,
		       char **ret_doc, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_INSTANCE_GET);

	bind_text(st, 1, cluster);
	bind_text(st, 2, id);
	return get_text_row(s, st, ret_status, ret_doc, e, "read container instance");
}

int store_instance_put(struct store *s, const char *cluster, const char *id, const char *status,
		       const char *doc, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_INSTANCE_PUT);

	bind_text(st, 1, cluster);
	bind_text(st, 2, id);
	bind_text(st, 3, status);
	bind_text(st, 4, doc);
	return stmt_done(s, st, e, "write container instance");
}

static int name_row(sqlite3_stmt *st, void *cb, void *data)
{
	return ((store_name_cb *)cb)(col_text(st, 0), data);
}

int store_instance_list(struct store *s, const char *cluster, const char *status,
			const char *after, int limit, store_name_cb *cb, void *data,
			struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_INSTANCE_LIST);

	bind_text(st, 1, cluster);
	bind_text(st, 2, status);
	bind_text(st, 3, after ? after : "");
	sqlite3_bind_int(st, 4, limit);
	return each_row(s, st, name_row, (void *)cb, data, e, "list container instances");
}

int store_instance_usage(struct store *s, const char *cluster, const char *id,
			 struct store_usage *ret, store_name_cb *ports_cb, void *data,
			 struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_INSTANCE_USAGE);
	int rc;

	bind_text(st, 1, cluster);
	bind_text(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->cpu = sqlite3_column_int64(st, 0);
		ret->memory = sqlite3_column_int64(st, 1);
		ret->running = sqlite3_column_int64(st, 2);
		ret->pending = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_fail(s, e, rc, "sum reservations");
	if (!ports_cb)
		return 0;
	st = stmt_get(s, STMT_INSTANCE_PORTS);
	bind_text(st, 1, cluster);
	bind_text(st, 2, id);
	return each_row(s, st, name_row, (void *)ports_cb, data, e, "list reserved ports");
}

static int group_row(sqlite3_stmt *st, void *cb, void *data)
{
	return ((store_group_cb *)cb)(col_text(st, 0), sqlite3_column_int64(st, 1), data);
}

int store_instance_groups(struct store *s, const char *cluster, const char *id,
			  store_group_cb *cb, void *data, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_INSTANCE_GROUPS);

	bind_text(st, 1, cluster);
	bind_text(st, 2, id);
	return each_row(s, st, group_row, (void *)cb, data, e, "count task groups");
}

int store_task_put(struct store *s, const struct store_task *t, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TASK_PUT);

	bind_text(st, 1, t->cluster);
	bind_text(st, 2, t->id);
	bind_text(st, 3, t->last_status);
	bind_text(st, 4, t->desired_status);
	bind_text(st, 5, t->doc);
	bind_text(st, 6, t->instance);
	bind_text(st, 7, t->family ? t->family : "");
	bind_text(st, 8, t->started_by);
	bind_text(st, 9, t->service);
	sqlite3_bind_int64(st, 10, t->cpu);
	sqlite3_bind_int64(st, 11, t->memory);
	bind_text(st, 12, t->ports ? t->ports : "");
	sqlite3_bind_double(st, 13, t->created_at);
	if (t->stopped_at > 0)
		sqlite3_bind_double(st, 14, t->stopped_at);
	else
		sqlite3_bind_null(st, 14);
	return stmt_done(s, st, e, "write task");
}

int store_task_update(struct store *s, const char *cluster, const char *id,
		      const char *last_status, const char *desired_status, const char *doc,
		      double stopped_at, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TASK_UPDATE);
	int r;

	bind_text(st, 1, cluster);
	bind_text(st, 2, id);
	bind_text(st, 3, last_status);
	bind_text(st, 4, desired_status);
	bind_text(st, 5, doc);
	if (stopped_at > 0)
		sqlite3_bind_double(st, 6, stopped_at);
	else
		sqlite3_bind_null(st, 6);
	r = stmt_done(s, st, e, "update task");
	if (r == 0 && sqlite3_changes(s->db) == 0)
		return -ENOENT;
	return r;
}

int store_task_get(struct store *s, const char *cluster, const char *id, char **ret_doc,
		   struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TASK_GET);

	bind_text(st, 1, cluster);
	bind_text(st, 2, id);
	return get_text_row(s, st, ret_doc, NULL, e, "read task");
}

int store_task_delete(struct store *s, const char *cluster, const char *id, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TASK_DELETE);

	bind_text(st, 1, cluster);
	bind_text(st, 2, id);
	return stmt_done(s, st, e, "delete task");
}

static int task_row(sqlite3_stmt *st, void *cb, void *data)
{
	return ((store_task_cb *)cb)(col_text(st, 0), col_text(st, 1), data);
}

int store_task_list(struct store *s, const struct store_task_query *q, store_task_cb *cb,
		    void *data, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TASK_LIST);

	bind_text(st, 1, q->cluster);
	bind_text(st, 2, q->instance);
	bind_text(st, 3, q->family);
	bind_text(st, 4, q->started_by);
	bind_text(st, 5, q->service);
	bind_text(st, 6, q->desired_status);
	sqlite3_bind_int(st, 7, q->not_stopped);
	bind_text(st, 8, q->after ? q->after : "");
	sqlite3_bind_int(st, 9, q->limit);
	return each_row(s, st, task_row, (void *)cb, data, e, "list tasks");
}

int store_task_expired(struct store *s, double before, int limit, store_task_cb *cb, void *data,
		       struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TASK_EXPIRED);

	sqlite3_bind_double(st, 1, before);
	sqlite3_bind_int(st, 2, limit);
	return each_row(s, st, task_row, (void *)cb, data, e, "list expired tasks");
}
