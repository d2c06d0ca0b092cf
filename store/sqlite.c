/* store/sqlite.c - the embedded store backend: one SQLite database in WAL mode.
 *
 * Durability: journal_mode=WAL with synchronous=FULL.  In WAL mode a commit
 * appends to the -wal file; FULL makes SQLite fsync that file before
 * COMMIT returns, so a transaction we acknowledged survives kill -9 of the
 * daemon AND power loss or a kernel crash.  NORMAL would survive kill -9 too
 * (the WAL is in the page cache, the kernel writes it out) but may lose the
 * last commits on power loss, and edge boxes lose power.  The price is one
 * fsync per write call; reads never sync.
 *
 * Idle, nothing here writes: no timers, and checkpoints happen only as part
 * of a commit (SQLite's auto-checkpoint) or on close.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/cleanup.h"
#include "store/internal.h"

static const char *const stmt_sql[] = {
#define X(id, sql) [STMT_##id] = sql,
	STMT_LIST(X)
#undef X
};

/* Each migration takes the schema from version i to i + 1, in one transaction. */
static const char *const migrations[] = {
	/* 0 -> 1: clusters, tags, task definitions; the instance/service/task
	 * tables exist so cluster counts and DeleteCluster's checks have one
	 * place to look (later issues fill them). */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE clusters(name TEXT PRIMARY KEY, status TEXT NOT NULL, doc TEXT NOT NULL);"
	"CREATE TABLE tags(arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	"                  PRIMARY KEY(arn, key));"
	"CREATE TABLE task_def_families(family TEXT PRIMARY KEY, last_revision INTEGER NOT NULL);"
	"CREATE TABLE task_defs(family TEXT NOT NULL, revision INTEGER NOT NULL,"
	"                       status TEXT NOT NULL, doc TEXT NOT NULL,"
	"                       PRIMARY KEY(family, revision));"
	"CREATE INDEX task_defs_status ON task_defs(status, family, revision);"
	"CREATE TABLE container_instances(cluster TEXT NOT NULL, id TEXT NOT NULL,"
	"                                 status TEXT NOT NULL, doc TEXT NOT NULL,"
	"                                 PRIMARY KEY(cluster, id));"
	"CREATE TABLE services(cluster TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,"
	"                      doc TEXT NOT NULL, PRIMARY KEY(cluster, name));"
	"CREATE TABLE tasks(cluster TEXT NOT NULL, id TEXT NOT NULL, last_status TEXT NOT NULL,"
	"                   desired_status TEXT NOT NULL, doc TEXT NOT NULL,"
	"                   PRIMARY KEY(cluster, id));",
	/* 1 -> 2: tasks get the columns ListTasks filters on and the
	 * reservations resource accounting sums (cpu, memory, static host ports
	 * "tcp:80,udp:53"); a task's containers live in its document, as the
	 * API returns them, since they are only ever read and written with it.
	 * stopped_at drives retention. */
	"ALTER TABLE tasks ADD COLUMN instance TEXT;"
	"ALTER TABLE tasks ADD COLUMN family TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE tasks ADD COLUMN started_by TEXT;"
	"ALTER TABLE tasks ADD COLUMN service TEXT;"
	"ALTER TABLE tasks ADD COLUMN cpu INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tasks ADD COLUMN memory INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tasks ADD COLUMN ports TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE tasks ADD COLUMN created_at REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE tasks ADD COLUMN stopped_at REAL;"
	"CREATE INDEX tasks_by_id ON tasks(id);"
	"CREATE INDEX tasks_instance ON tasks(cluster, instance, desired_status);"
	"CREATE INDEX tasks_stopped ON tasks(stopped_at) WHERE stopped_at IS NOT NULL;",
};

_Static_assert(ARRAY_SIZE(migrations) == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

/* The one place SQLite result codes become errnos (STYLE anti-pattern 8). */
static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	default:
		return -EIO;
	}
}

int db_fail(struct store *s, struct err *e, int rc, const char *what)
{
	return err_setx(e, sqlite_errno(rc), "store: %s: %s", what,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

sqlite3_stmt *stmt_get(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmt[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int stmt_done(struct store *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, e, rc, what);
	return 0;
}

int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int dup_column(sqlite3_stmt *st, int col, char **ret)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	*ret = strdup(t ? (const char *)t : "");
	return *ret ? 0 : -ENOMEM;
}

static int exec(struct store *s, const char *sql, struct err *e)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(s, e, rc, sql);
}

static int user_version(struct store *s, int *ret, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, e, rc, "read schema version");
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(s, e, rc, "read schema version");
}

static int migrate(struct store *s, struct err *e)
{
	char sql[64];
	int v, r;

	r = exec(s, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	/* Read under the write lock: two openers cannot both migrate. */
	r = user_version(s, &v, e);
	if (r < 0)
		goto fail;
	if (v > STORE_SCHEMA_VERSION) {
		r = err_setx(e, -EPROTO, "store: database schema %d is newer than this berth (%d)",
			     v, STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (; v < STORE_SCHEMA_VERSION; v++) {
		r = exec(s, migrations[v], e);
		if (r < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		r = exec(s, sql, e);
		if (r < 0)
			goto fail;
	}
	return exec(s, "COMMIT", e);
fail:
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); /* the error is already set */
	return r;
}

static int configure(struct store *s, struct err *e)
{
	sqlite3_stmt *st;
	int rc, r;

	rc = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK)
		return db_fail(s, e, rc, "set busy timeout");
	/* journal_mode answers with the mode in effect: check it really is WAL. */
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, e, rc, "set WAL mode");
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!r)
		return err_setx(e, -EIO, "store: the database refused WAL mode");
	r = exec(s, "PRAGMA synchronous = FULL", e);
	if (r < 0)
		return r;
	return exec(s, "PRAGMA foreign_keys = ON", e);
}

static int prepare_all(struct store *s, struct err *e)
{
	for (size_t i = 0; i < STMT__COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->stmt[i], NULL);

		if (rc != SQLITE_OK)
			return db_fail(s, e, rc, stmt_sql[i]);
	}
	return 0;
}

int store_open(const char *dir, struct store **ret, struct err *e)
{
	_cleanup_free_ char *path = NULL;
	struct store *s;
	int rc, r;

	if (asprintf(&path, "%s/berth.db", dir) < 0)
		return err_set(e, -ENOMEM, "store: open");
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, -ENOMEM, "store: open");
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
			     SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = db_fail(s, e, rc, path);
		store_free(s);
		return r;
	}
	(void)chmod(path, 0600); /* state may name secrets' ARNs; best effort, the dir is 0700 */
	r = configure(s, e);
	if (r >= 0)
		r = migrate(s, e);
	if (r >= 0)
		r = prepare_all(s, e);
	if (r < 0) {
		store_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct store *store_free(struct store *s)
{
	if (!s)
		return NULL;
	store_rollback(s);
	for (size_t i = 0; i < STMT__COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

int store_schema_version(struct store *s, int *ret, struct err *e)
{
	return user_version(s, ret, e);
}

int store_begin(struct store *s, bool write, struct err *e)
{
	int r;

	if (s->in_tx)
		return err_setx(e, -EBUSY, "store: transaction already open");
	r = stmt_done(s, stmt_get(s, write ? STMT_BEGIN_WRITE : STMT_BEGIN_READ), e, "begin");
	if (r == 0)
		s->in_tx = true;
	return r;
}

int store_commit(struct store *s, struct err *e)
{
	int r = stmt_done(s, stmt_get(s, STMT_COMMIT), e, "commit");

	if (r < 0) {
		store_rollback(s);
		return r;
	}
	s->in_tx = false;
	return 0;
}

void store_rollback(struct store *s)
{
	for (size_t i = 0; i < STMT__COUNT; i++)
		if (s->stmt[i])
			sqlite3_reset(s->stmt[i]);
	if (s->in_tx || !sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); /* nothing to report */
	s->in_tx = false;
}

int get_text_row(struct store *s, sqlite3_stmt *st, char **ret0, char **ret1,
			struct err *e, const char *what)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_fail(s, e, rc, what);
	}
	if ((ret0 && dup_column(st, 0, &a) < 0) || (ret1 && dup_column(st, 1, &b) < 0)) {
		sqlite3_reset(st);
		return err_set(e, -ENOMEM, "store: %s", what);
	}
	sqlite3_reset(st);
	if (ret0)
		*ret0 = TAKE_PTR(a);
	if (ret1)
		*ret1 = TAKE_PTR(b);
	return 0;
}

int store_meta_get(struct store *s, const char *key, char **ret, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_META_GET);

	bind_text(st, 1, key);
	return get_text_row(s, st, ret, NULL, e, "read meta");
}

int store_meta_put(struct store *s, const char *key, const char *value, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_META_PUT);

	bind_text(st, 1, key);
	bind_text(st, 2, value);
	return stmt_done(s, st, e, "write meta");
}

int store_cluster_get(struct store *s, const char *name, char **ret_status, char **ret_doc,
		      struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_CLUSTER_GET);

	bind_text(st, 1, name);
	return get_text_row(s, st, ret_status, ret_doc, e, "read cluster");
}

int store_cluster_put(struct store *s, const char *name, const char *status, const char *doc,
		      struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_CLUSTER_PUT);

	bind_text(st, 1, name);
	bind_text(st, 2, status);
	bind_text(st, 3, doc);
	return stmt_done(s, st, e, "write cluster");
}

int each_row(struct store *s, sqlite3_stmt *st, row_fn *fn, void *cb, void *data,
		    struct err *e, const char *what)
{
	int rc, r;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(st, cb, data);
		if (r != 0) {
			sqlite3_reset(st);
			return r;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, e, rc, what);
}

const char *col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static int name_row(sqlite3_stmt *st, void *cb, void *data)
{
	return ((store_name_cb *)cb)(col_text(st, 0), data);
}

int store_cluster_list(struct store *s, const char *after, int limit, store_name_cb *cb,
		       void *data, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_CLUSTER_LIST);

	bind_text(st, 1, after ? after : "");
	sqlite3_bind_int(st, 2, limit);
	return each_row(s, st, name_row, (void *)cb, data, e, "list clusters");
}

static int count(struct store *s, enum stmt_id id, const char *name, int64_t *ret,
		 struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, id);
	int rc;

	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_fail(s, e, rc, "count");
}

int store_cluster_counts(struct store *s, const char *name, struct store_cluster_counts *ret,
			 struct err *e)
{
	int r;

	r = count(s, STMT_COUNT_INSTANCES, name, &ret->instances, e);
	if (r >= 0)
		r = count(s, STMT_COUNT_SERVICES, name, &ret->services, e);
	if (r >= 0)
		r = count(s, STMT_COUNT_RUNNING, name, &ret->tasks_running, e);
	if (r >= 0)
		r = count(s, STMT_COUNT_PENDING, name, &ret->tasks_pending, e);
	return r;
}

static int tag_row(sqlite3_stmt *st, void *cb, void *data)
{
	return ((store_tag_cb *)cb)(col_text(st, 0), col_text(st, 1), data);
}

int store_tags_list(struct store *s, const char *arn, store_tag_cb *cb, void *data,
		    struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TAGS_LIST);

	bind_text(st, 1, arn);
	return each_row(s, st, tag_row, (void *)cb, data, e, "list tags");
}

int store_tag_put(struct store *s, const char *arn, const char *key, const char *value,
		  struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TAG_PUT);

	bind_text(st, 1, arn);
	bind_text(st, 2, key);
	bind_text(st, 3, value);
	return stmt_done(s, st, e, "write tag");
}

int store_tag_delete(struct store *s, const char *arn, const char *key, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TAG_DELETE);

	bind_text(st, 1, arn);
	bind_text(st, 2, key);
	return stmt_done(s, st, e, "delete tag");
}

int store_tags_delete_all(struct store *s, const char *arn, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TAGS_DELETE_ALL);

	bind_text(st, 1, arn);
	return stmt_done(s, st, e, "delete tags");
}

int store_taskdef_next_revision(struct store *s, const char *family, int64_t *ret,
				struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_FAMILY_BUMP);
	int rc;

	bind_text(st, 1, family);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_fail(s, e, rc, "reserve revision");
	}
	*ret = sqlite3_column_int64(st, 0);
	/* Step to the end so the UPSERT is complete before the next statement. */
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, e, rc, "reserve revision");
}

int store_taskdef_put(struct store *s, const char *family, int64_t revision,
		      const char *status, const char *doc, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TD_PUT);

	bind_text(st, 1, family);
	sqlite3_bind_int64(st, 2, revision);
	bind_text(st, 3, status);
	bind_text(st, 4, doc);
	return stmt_done(s, st, e, "write task definition");
}

int store_taskdef_get(struct store *s, const char *family, int64_t revision,
		      char **ret_status, char **ret_doc, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TD_GET);

	bind_text(st, 1, family);
	sqlite3_bind_int64(st, 2, revision);
	return get_text_row(s, st, ret_status, ret_doc, e, "read task definition");
}

int store_taskdef_latest(struct store *s, const char *family, const char *status,
			 int64_t *ret, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_TD_LATEST);
	int rc, r = 0;

	bind_text(st, 1, family);
	bind_text(st, 2, status);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		r = db_fail(s, e, rc, "read task definition");
	else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		r = -ENOENT;
	else
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return r;
}

static int taskdef_row(sqlite3_stmt *st, void *cb, void *data)
{
	return ((store_taskdef_cb *)cb)(col_text(st, 0), sqlite3_column_int64(st, 1), data);
}

int store_taskdef_list(struct store *s, const struct store_taskdef_query *q,
		       store_taskdef_cb *cb, void *data, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, q->desc ? STMT_TD_LIST_DESC : STMT_TD_LIST_ASC);

	bind_text(st, 1, q->status);
	bind_text(st, 2, q->family);
	bind_text(st, 3, q->after_family);
	sqlite3_bind_int64(st, 4, q->after_revision);
	sqlite3_bind_int(st, 5, q->limit);
	return each_row(s, st, taskdef_row, (void *)cb, data, e, "list task definitions");
}

int store_family_list(struct store *s, const struct store_family_query *q,
		      store_name_cb *cb, void *data, struct err *e)
{
	sqlite3_stmt *st = stmt_get(s, STMT_FAMILY_LIST);

	bind_text(st, 1, q->prefix ? q->prefix : "");
	bind_text(st, 2, q->after ? q->after : "");
	sqlite3_bind_int(st, 3, (int)q->filter);
	sqlite3_bind_int(st, 4, q->limit);
	return each_row(s, st, name_row, (void *)cb, data, e, "list task definition families");
}
