/* tests/unit/test_store.c - the SQLite store on a temporary directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

struct fx {
	char dir[64];
	char db[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/berth-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/berth.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct store *open_ok(struct fx *f)
{
	struct err e = ERR_INIT;
	struct store *s = NULL;

	if (store_open(f->dir, &s, &e) < 0)
		fail_msg("store_open: %s", e.msg);
	return s;
}

static void test_migrate_from_empty(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct store *s = open_ok(f);
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(store_schema_version(s, &v, &e), 0);
	assert_int_equal(v, STORE_SCHEMA_VERSION);
	store_free(s);
	/* WAL mode persisted in the file, tables present */
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "SELECT * FROM clusters, tags, task_defs, task_def_families,"
				      " container_instances, services, tasks, meta", NULL, NULL, NULL), SQLITE_OK);
	/* a database from a newer berth is refused, not damaged */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s = NULL;
	assert_int_equal(store_open(f->dir, &s, &e), -EPROTO);
	assert_null(s);
	assert_non_null(strstr(e.msg, "newer"));
	/* re-opening an up-to-date database migrates nothing */
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = " STR(STORE_SCHEMA_VERSION), NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s = open_ok(f);
	store_free(s);
}

static int collect(const char *name, void *data)
{
	char *buf = data;

	strcat(buf, name);
	strcat(buf, ",");
	return 0;
}

static void test_commit_visible_rollback_not(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct store *a = open_ok(f), *b = open_ok(f);
	char *status = NULL, *doc = NULL;

	assert_int_equal(store_begin(a, true, &e), 0);
	assert_int_equal(store_cluster_put(a, "one", "ACTIVE", "{\"x\":1}", &e), 0);
	assert_int_equal(store_commit(a, &e), 0);
	assert_int_equal(store_begin(a, true, &e), 0);
	assert_int_equal(store_cluster_put(a, "two", "ACTIVE", "{}", &e), 0);
	store_rollback(a);
	/* a second connection sees the committed cluster and not the rolled back one */
	assert_int_equal(store_begin(b, false, &e), 0);
	assert_int_equal(store_cluster_get(b, "one", &status, &doc, &e), 0);
	assert_string_equal(status, "ACTIVE");
	assert_string_equal(doc, "{\"x\":1}");
	assert_int_equal(store_cluster_get(b, "two", NULL, NULL, &e), -ENOENT);
	assert_int_equal(store_commit(b, &e), 0);
	free(status);
	free(doc);
	/* nested begin is refused */
	assert_int_equal(store_begin(a, false, &e), 0);
	assert_int_equal(store_begin(a, false, &e), -EBUSY);
	store_rollback(a);
	store_free(a);
	/* and a fresh open after close sees it too */
	a = open_ok(f);
	assert_int_equal(store_begin(a, false, &e), 0);
	assert_int_equal(store_cluster_get(a, "one", NULL, NULL, &e), 0);
	store_rollback(a);
	store_free(a);
	store_free(b);
}

static void test_revision_counter(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct store *s = open_ok(f);
	int64_t rev = 0, latest = 0;

	assert_int_equal(store_begin(s, true, &e), 0);
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(store_taskdef_next_revision(s, "fam", &rev, &e), 0);
		assert_int_equal(rev, i);
		assert_int_equal(store_taskdef_put(s, "fam", rev, "ACTIVE", "{}", &e), 0);
	}
	assert_int_equal(store_taskdef_put(s, "fam", 5, "INACTIVE", "{}", &e), 0);
	assert_int_equal(store_taskdef_latest(s, "fam", "ACTIVE", &latest, &e), 0);
	assert_int_equal(latest, 4);
	assert_int_equal(store_taskdef_latest(s, "other", "ACTIVE", &latest, &e), -ENOENT);
	assert_int_equal(store_commit(s, &e), 0);
	/* a reservation that is rolled back is not a hole: the counter is transactional */
	assert_int_equal(store_begin(s, true, &e), 0);
	assert_int_equal(store_taskdef_next_revision(s, "fam", &rev, &e), 0);
	assert_int_equal(rev, 6);
	store_rollback(s);
	store_free(s);
	s = open_ok(f);
	assert_int_equal(store_begin(s, true, &e), 0);
	assert_int_equal(store_taskdef_next_revision(s, "fam", &rev, &e), 0);
	assert_int_equal(rev, 6);
	assert_int_equal(store_commit(s, &e), 0);
	store_free(s);
}

static void test_lists_and_tags(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct store *s = open_ok(f);
	struct store_family_query fq = { .prefix = "we", .limit = 10 };
	char buf[256] = "";

	assert_int_equal(store_begin(s, true, &e), 0);
	assert_int_equal(store_cluster_put(s, "b", "ACTIVE", "{}", &e), 0);
	assert_int_equal(store_cluster_put(s, "a", "ACTIVE", "{}", &e), 0);
	assert_int_equal(store_cluster_put(s, "c", "INACTIVE", "{}", &e), 0);
	assert_int_equal(store_cluster_list(s, NULL, 10, collect, buf, &e), 0);
	assert_string_equal(buf, "a,b,");
	buf[0] = '\0';
	assert_int_equal(store_cluster_list(s, "a", 10, collect, buf, &e), 0);
	assert_string_equal(buf, "b,");
	buf[0] = '\0';
	assert_int_equal(store_cluster_list(s, NULL, 1, collect, buf, &e), 0);
	assert_string_equal(buf, "a,");

	for (const char *fam = "web\0wet\0x\0"; *fam; fam += strlen(fam) + 1) {
		int64_t rev;

		assert_int_equal(store_taskdef_next_revision(s, fam, &rev, &e), 0);
		assert_int_equal(store_taskdef_put(s, fam, rev, strcmp(fam, "wet") ? "ACTIVE" : "INACTIVE", "{}", &e), 0);
	}
	buf[0] = '\0';
	assert_int_equal(store_family_list(s, &fq, collect, buf, &e), 0);
	assert_string_equal(buf, "web,wet,");
	buf[0] = '\0';
	fq.filter = STORE_FAMILY_INACTIVE;
	assert_int_equal(store_family_list(s, &fq, collect, buf, &e), 0);
	assert_string_equal(buf, "wet,");
	/* LIKE metacharacters are not wildcards in a prefix */
	buf[0] = '\0';
	fq.prefix = "%";
	fq.filter = STORE_FAMILY_ALL;
	assert_int_equal(store_family_list(s, &fq, collect, buf, &e), 0);
	assert_string_equal(buf, "");

	assert_int_equal(store_tag_put(s, "arn1", "k", "v", &e), 0);
	assert_int_equal(store_tag_put(s, "arn1", "k", "v2", &e), 0);
	assert_int_equal(store_tag_put(s, "arn2", "k", "other", &e), 0);
	assert_int_equal(store_tags_delete_all(s, "arn1", &e), 0);
	assert_int_equal(store_commit(s, &e), 0);
	store_free(s);
}

/* Idle means no writes: reads leave the files exactly as they were. */
static void test_reads_write_nothing(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct store *s = open_ok(f);
	char wal[128], buf[64] = "";
	struct stat before_db, before_wal, after_db, after_wal;

	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	assert_int_equal(store_begin(s, true, &e), 0);
	assert_int_equal(store_cluster_put(s, "a", "ACTIVE", "{}", &e), 0);
	assert_int_equal(store_commit(s, &e), 0);
	assert_int_equal(stat(f->db, &before_db), 0);
	assert_int_equal(stat(wal, &before_wal), 0);
	sleep(1); /* so an mtime change would show; not a timing assertion */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(store_begin(s, false, &e), 0);
		assert_int_equal(store_cluster_list(s, NULL, 10, collect, buf, &e), 0);
		buf[0] = '\0';
		assert_int_equal(store_commit(s, &e), 0);
	}
	assert_int_equal(stat(f->db, &after_db), 0);
	assert_int_equal(stat(wal, &after_wal), 0);
	assert_int_equal(before_db.st_size, after_db.st_size);
	assert_int_equal(before_wal.st_size, after_wal.st_size);
	assert_true(before_db.st_mtim.tv_sec == after_db.st_mtim.tv_sec &&
		    before_db.st_mtim.tv_nsec == after_db.st_mtim.tv_nsec);
	assert_true(before_wal.st_mtim.tv_sec == after_wal.st_mtim.tv_sec &&
		    before_wal.st_mtim.tv_nsec == after_wal.st_mtim.tv_nsec);
	store_free(s);
}

static void test_open_errors(void **state)
{
	struct err e = ERR_INIT;
	struct store *s = NULL;

	(void)state;
	assert_true(store_open("/nonexistent/berth/dir", &s, &e) < 0);
	assert_null(s);
	assert_true(strlen(e.msg) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_from_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_visible_rollback_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revision_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists_and_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_write_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
