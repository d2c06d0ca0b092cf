/* store/internal.h - shared by the SQLite backend's files. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>

#include "lib/err.h"
#include "store/store.h"

#define BUSY_TIMEOUT_MS 5000

/* Statements prepared once at open, indexed by enum stmt_id. */
#define STMT_LIST(X) \
	X(BEGIN_READ, "BEGIN DEFERRED") \
	X(BEGIN_WRITE, "BEGIN IMMEDIATE") \
	X(COMMIT, "COMMIT") \
	X(META_GET, "SELECT value FROM meta WHERE key = ?1") \
	X(META_PUT, "INSERT INTO meta(key, value) VALUES (?1, ?2) " \
		    "ON CONFLICT(key) DO UPDATE SET value = excluded.value") \
	X(CLUSTER_GET, "SELECT status, doc FROM clusters WHERE name = ?1") \
	X(CLUSTER_PUT, "INSERT INTO clusters(name, status, doc) VALUES (?1, ?2, ?3) " \
		       "ON CONFLICT(name) DO UPDATE SET status = excluded.status, doc = excluded.doc") \
	X(CLUSTER_LIST, "SELECT name FROM clusters WHERE status = 'ACTIVE' AND name > ?1 " \
			"ORDER BY name LIMIT ?2") \
	X(COUNT_INSTANCES, "SELECT count(*) FROM container_instances " \
			   "WHERE cluster = ?1 AND status IN ('ACTIVE', 'DRAINING')") \
	X(COUNT_SERVICES, "SELECT count(*) FROM services " \
			  "WHERE cluster = ?1 AND status IN ('ACTIVE', 'DRAINING')") \
	X(COUNT_RUNNING, "SELECT count(*) FROM tasks WHERE cluster = ?1 AND last_status = 'RUNNING'") \
	X(COUNT_PENDING, "SELECT count(*) FROM tasks WHERE cluster = ?1 " \
			 "AND last_status NOT IN ('RUNNING', 'STOPPED', 'DELETED')") \
	X(TAGS_LIST, "SELECT key, value FROM tags WHERE arn = ?1 ORDER BY key") \
	X(TAG_PUT, "INSERT INTO tags(arn, key, value) VALUES (?1, ?2, ?3) " \
		   "ON CONFLICT(arn, key) DO UPDATE SET value = excluded.value") \
	X(TAG_DELETE, "DELETE FROM tags WHERE arn = ?1 AND key = ?2") \
	X(TAGS_DELETE_ALL, "DELETE FROM tags WHERE arn = ?1") \
	X(FAMILY_BUMP, "INSERT INTO task_def_families(family, last_revision) VALUES (?1, 1) " \
		       "ON CONFLICT(family) DO UPDATE SET last_revision = last_revision + 1 " \
		       "RETURNING last_revision") \
	X(TD_PUT, "INSERT INTO task_defs(family, revision, status, doc) VALUES (?1, ?2, ?3, ?4) " \
		  "ON CONFLICT(family, revision) DO UPDATE SET status = excluded.status, " \
		  "doc = excluded.doc") \
	X(TD_GET, "SELECT status, doc FROM task_defs WHERE family = ?1 AND revision = ?2") \
	X(TD_LATEST, "SELECT max(revision) FROM task_defs WHERE family = ?1 AND status = ?2") \
	X(TD_LIST_ASC, "SELECT family, revision FROM task_defs WHERE status = ?1 " \
		       "AND (?2 IS NULL OR family = ?2) " \
		       "AND (?3 IS NULL OR family > ?3 OR (family = ?3 AND revision > ?4)) " \
		       "ORDER BY family, revision LIMIT ?5") \
	X(TD_LIST_DESC, "SELECT family, revision FROM task_defs WHERE status = ?1 " \
			"AND (?2 IS NULL OR family = ?2) " \
			"AND (?3 IS NULL OR family < ?3 OR (family = ?3 AND revision < ?4)) " \
			"ORDER BY family DESC, revision DESC LIMIT ?5") \
	X(FAMILY_LIST, "SELECT f.family FROM task_def_families f " \
		       "WHERE substr(f.family, 1, length(?1)) = ?1 AND f.family > ?2 " \
		       "AND (?3 = 0 " \
		       " OR (?3 = 1 AND EXISTS (SELECT 1 FROM task_defs t WHERE t.family = f.family " \
		       "                        AND t.status = 'ACTIVE')) " \
		       " OR (?3 = 2 AND NOT EXISTS (SELECT 1 FROM task_defs t WHERE t.family = f.family " \
		       "                            AND t.status = 'ACTIVE'))) " \
		       "ORDER BY f.family LIMIT ?4") \
	X(TASK_PUT, "INSERT INTO tasks(cluster, id, last_status, desired_status, doc, instance, " \
		    "family, started_by, service, cpu, memory, ports, created_at, stopped_at) " \
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) " \
		    "ON CONFLICT(cluster, id) DO UPDATE SET last_status = excluded.last_status, " \
		    "desired_status = excluded.desired_status, doc = excluded.doc, " \
		    "instance = excluded.instance, family = excluded.family, " \
		    "started_by = excluded.started_by, service = excluded.service, cpu = excluded.cpu, " \
		    "memory = excluded.memory, ports = excluded.ports, " \
		    "created_at = excluded.created_at, stopped_at = excluded.stopped_at") \
	X(TASK_UPDATE, "UPDATE tasks SET last_status = ?3, desired_status = ?4, doc = ?5, " \
		       "stopped_at = ?6 WHERE cluster = ?1 AND id = ?2") \
	X(TASK_GET, "SELECT doc FROM tasks WHERE cluster = ?1 AND id = ?2") \
	X(TASK_DELETE, "DELETE FROM tasks WHERE cluster = ?1 AND id = ?2") \
	X(TASK_LIST, "SELECT cluster, id FROM tasks WHERE (?1 IS NULL OR cluster = ?1) " \
		     "AND (?2 IS NULL OR instance = ?2) AND (?3 IS NULL OR family = ?3) " \
		     "AND (?4 IS NULL OR started_by = ?4) AND (?5 IS NULL OR service = ?5) " \
		     "AND (?6 IS NULL OR desired_status = ?6) " \
		     "AND (?7 = 0 OR last_status != 'STOPPED') AND id > ?8 " \
		     "ORDER BY id LIMIT ?9") \
	X(TASK_EXPIRED, "SELECT cluster, id FROM tasks WHERE stopped_at IS NOT NULL " \
			"AND stopped_at < ?1 ORDER BY stopped_at LIMIT ?2") \
	X(INSTANCE_USAGE, "SELECT coalesce(sum(cpu), 0), coalesce(sum(memory), 0), " \
			  "coalesce(sum(last_status = 'RUNNING'), 0), " \
			  "coalesce(sum(last_status != 'RUNNING'), 0) FROM tasks " \
			  "WHERE cluster = ?1 AND instance = ?2 AND desired_status = 'RUNNING'") \
	X(INSTANCE_PORTS, "SELECT ports FROM tasks WHERE cluster = ?1 AND instance = ?2 " \
			  "AND desired_status = 'RUNNING' AND ports != ''") \
	X(INSTANCE_GROUPS, "SELECT json_extract(doc, '$.group') AS g, count(*) FROM tasks " \
			   "WHERE cluster = ?1 AND instance = ?2 AND desired_status = 'RUNNING' " \
			   "AND g IS NOT NULL GROUP BY g ORDER BY g") \
	X(INSTANCE_GET, "SELECT status, doc FROM container_instances WHERE cluster = ?1 AND id = ?2") \
	X(INSTANCE_PUT, "INSERT INTO container_instances(cluster, id, status, doc) " \
			"VALUES (?1, ?2, ?3, ?4) ON CONFLICT(cluster, id) DO UPDATE SET " \
			"status = excluded.status, doc = excluded.doc") \
	X(INSTANCE_LIST, "SELECT id FROM container_instances WHERE cluster = ?1 " \
			 "AND ((?2 IS NULL AND status != 'INACTIVE') OR status = ?2) AND id > ?3 " \
			 "ORDER BY id LIMIT ?4")


enum stmt_id {
#define X(id, sql) STMT_##id,
	STMT_LIST(X)
#undef X
	STMT__COUNT
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT__COUNT];
	bool in_tx;
};

/* A reset statement with no bindings. */
sqlite3_stmt *stmt_get(struct store *s, enum stmt_id id);
/* Runs a statement that returns no rows. */
int stmt_done(struct store *s, sqlite3_stmt *st, struct err *e, const char *what);
int db_fail(struct store *s, struct err *e, int rc, const char *what);
int bind_text(sqlite3_stmt *st, int i, const char *v);
const char *col_text(sqlite3_stmt *st, int col);
/* One row of one or two text columns; -ENOENT when there is no row. */
int get_text_row(struct store *s, sqlite3_stmt *st, char **ret0, char **ret1, struct err *e,
		 const char *what);
/* Steps a SELECT, handing each row to FN; FN's non-zero result stops it. */
typedef int row_fn(sqlite3_stmt *st, void *cb, void *data);
int each_row(struct store *s, sqlite3_stmt *st, row_fn *fn, void *cb, void *data, struct err *e,
	     const char *what);
