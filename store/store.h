/* store/store.h - durable control-plane state.
 *
 * This header is the whole interface between control/ and its storage; the
 * embedded backend is SQLite (store/sqlite.c).  A distributed backend would
 * implement these same calls.  Records are JSON documents (the API objects
 * as returned to clients) plus the few columns queries need.
 *
 * Every call that reads or writes runs inside store_begin()/store_commit();
 * control/ opens exactly one transaction per API call.  A write call is
 * acknowledged only after store_commit() returned 0.
 *
 * Errors: 0 or a negative errno (-ENOENT: no such record, -EBUSY: locked,
 * -ENOSPC: disk full, -EIO: anything else), with a message in *e; SQLite's
 * own codes never leave this folder.
 *
 * Strings returned through char ** are malloc'd and owned by the caller.
 * List callbacks get borrowed strings valid during the call only; a callback
 * returning non-zero stops the walk and that value is returned.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

struct store;

#define STORE_SCHEMA_VERSION 2

/* Opens (creating and migrating) DIR/berth.db. */
int store_open(const char *dir, struct store **ret, struct err *e);
/* Accepts NULL; returns NULL.  Rolls back an open transaction. */
struct store *store_free(struct store *s);
/* The schema version of the open database (PRAGMA user_version). */
int store_schema_version(struct store *s, int *ret, struct err *e);

/* WRITE takes the write lock up front (BEGIN IMMEDIATE), so a transaction
 * never fails half-way on a lock upgrade. */
int store_begin(struct store *s, bool write, struct err *e);
int store_commit(struct store *s, struct err *e);
/* Safe to call when no transaction is open. */
void store_rollback(struct store *s);

/* Small named values (e.g. the pagination-token key). */
int store_meta_get(struct store *s, const char *key, char **ret, struct err *e);
int store_meta_put(struct store *s, const char *key, const char *value, struct err *e);

/* Clusters, by name.  STATUS is "ACTIVE" or "INACTIVE". */
int store_cluster_get(struct store *s, const char *name, char **ret_status, char **ret_doc,
		      struct err *e);
int store_cluster_put(struct store *s, const char *name, const char *status, const char *doc,
		      struct err *e);
typedef int store_name_cb(const char *name, void *data);
/* ACTIVE clusters with name > AFTER (NULL: from the start), ascending, at
 * most LIMIT. */
int store_cluster_list(struct store *s, const char *after, int limit, store_name_cb *cb,
		       void *data, struct err *e);

struct store_cluster_counts {
	int64_t instances;       /* container instances ACTIVE or DRAINING */
	int64_t services;        /* services ACTIVE or DRAINING */
	int64_t tasks_running;   /* tasks whose last status is RUNNING */
	int64_t tasks_pending;   /* tasks not yet RUNNING and not STOPPED */
};
int store_cluster_counts(struct store *s, const char *name, struct store_cluster_counts *ret,
			 struct err *e);

/* Tags, by resource ARN. */
typedef int store_tag_cb(const char *key, const char *value, void *data);
int store_tags_list(struct store *s, const char *arn, store_tag_cb *cb, void *data,
		    struct err *e);
int store_tag_put(struct store *s, const char *arn, const char *key, const char *value,
		  struct err *e);
int store_tag_delete(struct store *s, const char *arn, const char *key, struct err *e);
int store_tags_delete_all(struct store *s, const char *arn, struct err *e);

/* Task definitions, by (family, revision).  STATUS is "ACTIVE", "INACTIVE"
 * or "DELETE_IN_PROGRESS". */

/* Reserves the family's next revision: last one ever handed out + 1, so a
 * number is never reused, whatever happened to earlier revisions. */
int store_taskdef_next_revision(struct store *s, const char *family, int64_t *ret,
				struct err *e);
int store_taskdef_put(struct store *s, const char *family, int64_t revision,
		      const char *status, const char *doc, struct err *e);
int store_taskdef_get(struct store *s, const char *family, int64_t revision,
		      char **ret_status, char **ret_doc, struct err *e);
/* The highest revision of FAMILY with STATUS; -ENOENT if none. */
int store_taskdef_latest(struct store *s, const char *family, const char *status,
			 int64_t *ret, struct err *e);

struct store_taskdef_query {
	const char *family;       /* exact family, or NULL for all */
	const char *status;       /* required */
	bool desc;                /* family then revision, descending */
	const char *after_family; /* resume after this key (NULL: from the start) */
	int64_t after_revision;
	int limit;
};
typedef int store_taskdef_cb(const char *family, int64_t revision, void *data);
int store_taskdef_list(struct store *s, const struct store_taskdef_query *q,
		       store_taskdef_cb *cb, void *data, struct err *e);

enum store_family_filter {
	STORE_FAMILY_ALL,
	STORE_FAMILY_ACTIVE,    /* with at least one ACTIVE revision */
	STORE_FAMILY_INACTIVE,  /* without any ACTIVE revision */
};
struct store_family_query {
	const char *prefix;       /* NULL or "": all */
	enum store_family_filter filter;
	const char *after;        /* resume after this family */
	int limit;
};
int store_family_list(struct store *s, const struct store_family_query *q,
		      store_name_cb *cb, void *data, struct err *e);

/* Container instances, by (cluster, id).  STATUS: ACTIVE, DRAINING, INACTIVE... */
int store_instance_get(struct store *s, const char *cluster, const char *id, char **ret_status,
		       char **ret_doc, struct err *e);
int store_instance_put(struct store *s, const char *cluster, const char *id, const char *status,
		       const char *doc, struct err *e);
/* Ids of CLUSTER's instances with STATUS (NULL: all but INACTIVE), id > AFTER
 * (NULL: from the start), ascending, at most LIMIT. */
int store_instance_list(struct store *s, const char *cluster, const char *status,
			const char *after, int limit, store_name_cb *cb, void *data,
			struct err *e);

/* What the tasks on an instance whose desiredStatus is RUNNING reserve. */
struct store_usage {
	int64_t cpu, memory;      /* CPU units, MiB */
	int64_t running, pending; /* by last status */
};
/* PORTS_CB (may be NULL) gets each such task's ports column. */
int store_instance_usage(struct store *s, const char *cluster, const char *id,
			 struct store_usage *ret, store_name_cb *ports_cb, void *data,
			 struct err *e);

/* Task groups of the tasks on an instance whose desiredStatus is RUNNING,
 * with how many each (`task:group`, spread, distinctInstance). */
typedef int store_group_cb(const char *group, int64_t count, void *data);
int store_instance_groups(struct store *s, const char *cluster, const char *id,
			  store_group_cb *cb, void *data, struct err *e);

/* Tasks, by (cluster, id).  DOC is the API object (containers included). */
struct store_task {
	const char *cluster, *id;
	const char *last_status, *desired_status;
	const char *doc;
	const char *instance;     /* container instance id, NULL before placement */
	const char *family;
	const char *started_by;   /* NULL: none */
	const char *service;      /* service name for service tasks, else NULL */
	int64_t cpu, memory;      /* reserved on the instance while desired RUNNING */
	const char *ports;        /* static host ports "tcp:80,udp:53", "" for none */
	double created_at;
	double stopped_at;        /* 0: not stopped */
};
int store_task_put(struct store *s, const struct store_task *t, struct err *e);
/* A task's state moved: everything else (reservations, filters) stays.
 * -ENOENT when there is no such task. */
int store_task_update(struct store *s, const char *cluster, const char *id,
		      const char *last_status, const char *desired_status, const char *doc,
		      double stopped_at, struct err *e);
int store_task_get(struct store *s, const char *cluster, const char *id, char **ret_doc,
		   struct err *e);
int store_task_delete(struct store *s, const char *cluster, const char *id, struct err *e);

/* NULL members do not filter.  Ascending by id, id > AFTER, at most LIMIT. */
struct store_task_query {
	const char *cluster, *instance, *family, *started_by, *service, *desired_status;
	bool not_stopped;         /* only tasks whose last status is not STOPPED */
	const char *after;
	int limit;
};
typedef int store_task_cb(const char *cluster, const char *id, void *data);
int store_task_list(struct store *s, const struct store_task_query *q, store_task_cb *cb,
		    void *data, struct err *e);
/* Tasks stopped before BEFORE (epoch seconds), oldest first, at most LIMIT. */
int store_task_expired(struct store *s, double before, int limit, store_task_cb *cb, void *data,
		       struct err *e);
