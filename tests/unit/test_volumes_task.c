/* tests/unit/test_volumes_task.c - a task's volumes between processes:
 * the spec.json object (vol_task_json_build/parse: round trip, what is cut,
 * hostile input) and vol_task_release_id, the agent's release for a task
 * whose shim is gone (only that task's uses go; twice is harmless).  The
 * release test runs as root in a forked child with a private mount
 * namespace (volumes_ns.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "tests/unit/volumes_ns.h"

static const char *const TD =
	"{\"family\":\"fam\",\"revision\":3,\"cpu\":\"256\","
	"\"volumes\":[{\"name\":\"sh\",\"dockerVolumeConfiguration\":{\"scope\":\"shared\",\"autoprovision\":true}},"
	"{\"name\":\"mine\",\"dockerVolumeConfiguration\":{\"scope\":\"task\"}},"
	"{\"name\":\"e\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-t\"}},{\"name\":\"l\"}],"
	"\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\",\"command\":[\"true\"],"
	"\"linuxParameters\":{\"sharedMemorySize\":64,\"tmpfs\":[{\"containerPath\":\"/t\",\"size\":1}]},"
	"\"mountPoints\":[{\"sourceVolume\":\"sh\",\"containerPath\":\"/sh\"},{\"sourceVolume\":\"mine\",\"containerPath\":\"/m\"},"
	"{\"sourceVolume\":\"e\",\"containerPath\":\"/e\"},{\"sourceVolume\":\"l\",\"containerPath\":\"/l\"}]},"
	"{\"name\":\"b\",\"image\":\"x\",\"volumesFrom\":[{\"sourceContainer\":\"a\",\"readOnly\":true}]}]}";

#define FS_JSON "{\"fs-t\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"options\":\"size=1m\"}}"

static cJSON *build(const char *td, const char *state, const char *roots, const char *fs,
		    struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *j = cJSON_Parse(td);
	cJSON *out = NULL;

	assert_non_null(j);
	if (vol_task_json_build(j, state, roots, "true", fs, &out, e) < 0)
		return NULL;
	return out;
}

static void test_json_round_trip(void **state)
{
	struct err e = ERR_INIT;
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_plan plan;
	cJSON *o;
	const cJSON *ctr;

	(void)state;
	o = build(TD, "/srv/berth", "/srv:/data", FS_JSON, &e);
	assert_non_null(o);
	/* Only the volume fields travel: no image, command or linuxParameters. */
	ctr = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "taskDefinition"),
						     "containerDefinitions"), 0);
	assert_null(cJSON_GetObjectItem(ctr, "image"));
	assert_null(cJSON_GetObjectItem(ctr, "linuxParameters"));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "taskDefinition"), "cpu"));
	assert_int_equal(vol_task_json_parse(o, &c, &s, &e), 0);
	assert_string_equal(c.state_dir, "/srv/berth");
	assert_int_equal(c.n_host_roots, 2);
	assert_true(c.match_full_config);
	assert_non_null(cJSON_GetObjectItem(c.shared_fs, "fs-t"));
	assert_string_equal(s.family, "fam");
	assert_int_equal(s.revision, 3);
	assert_int_equal(s.n_vols, 4);
	assert_int_equal(s.ctrs[0].n_tmpfs, 0);
	assert_int_equal(s.ctrs[0].shm_size, 0);
	/* b gets a's mounts, read-only. */
	assert_int_equal(vol_plan_build(&s, "b", &plan, &e), 0);
	assert_int_equal(plan.n, 4);
	for (size_t i = 0; i < plan.n; i++)
		assert_true(plan.m[i].read_only);
	vol_plan_free(&plan);
	vol_spec_free(&s);
	vol_cfg_free(&c);
	cJSON_Delete(o);
	/* No volumes at all is a valid, empty object. */
	o = build("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\"}]}", NULL, NULL, NULL, &e);
	assert_non_null(o);
	assert_int_equal(vol_task_json_parse(o, &c, &s, &e), 0);
	assert_string_equal(c.state_dir, "/var/lib/berth");
	assert_int_equal(s.n_vols, 0);
	vol_spec_free(&s);
	vol_cfg_free(&c);
	cJSON_Delete(o);
}

static void test_json_refused(void **state)
{
	static const struct {
		const char *td, *state, *roots, *fs, *want;
	} bad[] = {
		{ "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"rel\"}}],\"containerDefinitions\":[]}",
		  NULL, NULL, NULL, "sourcePath" },
		{ "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"/a/../b\"}}]}", NULL, NULL, NULL, "sourcePath" },
		{ "{\"containerDefinitions\":[{\"name\":\"a\",\"mountPoints\":[{\"sourceVolume\":\"x\",\"containerPath\":\"/x\"}]}]}",
		  NULL, NULL, NULL, "'x'" },
		{ "{}", "relative", NULL, NULL, "BERTH_STATE_DIR" },
		{ "{}", NULL, "rel", NULL, "BERTH_HOST_VOLUME_ROOTS" },
		{ "{}", NULL, NULL, "[1]", "BERTH_SHARED_FILESYSTEMS" },
	};
	static const char *const hostile[] = {
		"[]", "{}", "{\"stateDir\":1}", "{\"stateDir\":\"/s\",\"matchFullConfig\":\"yes\"}",
		"{\"stateDir\":\"/s\",\"hostVolumeRoots\":[\"/a\"]}",
		"{\"stateDir\":\"/s\",\"sharedFilesystems\":\"{\\\"x\\\"\"}",
		"{\"stateDir\":\"/s\",\"taskDefinition\":[]}",
		"{\"stateDir\":\"/s\",\"taskDefinition\":{\"volumes\":[{\"name\":\"../x\"}]}}",
		"{\"stateDir\":\"/s\",\"taskDefinition\":{\"volumes\":{}}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = ERR_INIT;

		assert_null(build(bad[i].td, bad[i].state, bad[i].roots, bad[i].fs, &e));
		if (!strstr(e.msg, bad[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, bad[i].want);
	}
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		_cleanup_(cJSON_Deletep) cJSON *j = cJSON_Parse(hostile[i]);
		struct err e = ERR_INIT;
		struct vol_cfg c;
		struct vol_spec s;

		assert_non_null(j);
		if (vol_task_json_parse(j, &c, &s, &e) == 0)
			fail_msg("hostile %zu accepted", i);
		assert_true(e.msg[0] != '\0');
	}
}

/* ---- release of a gone task (root, own mount namespace) ---- */


static int users_of(const char *rel, char *buf, size_t size)
{
	char path[256];
	int fd, n;

	snprintf(path, sizeof(path), "%s/state/%s/users", base, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = (int)read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

static int mounts_of(const char *rel)
{
	char line[4096], want[256];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int n = 0;

	snprintf(want, sizeof(want), " %s/state/%s ", base, rel);
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, want) != NULL;
	if (f)
		fclose(f);
	return n;
}

static void t_release_child(void)
{
	_cleanup_(cJSON_Deletep) cJSON *o = NULL;
	struct err e = ERR_INIT;
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t1, t2;
	struct vol_store st = VOL_STORE_INIT;
	char state[128], buf[256], **names = NULL;

	snprintf(state, sizeof(state), "%s/state", base);
	o = build(TD, state, NULL, FS_JSON, &e);
	CHECK(o && vol_task_json_parse(o, &c, &s, &e) == 0);
	CHECK(vol_task_prepare(&c, &s, "t1", &t1, &e) == 0);
	CHECK(vol_task_prepare(&c, &s, "t2", &t2, &e) == 0);
	CHECK(users_of("volumes/sh", buf, sizeof(buf)) == 0 && strcmp(buf, "t1\nt2\n") == 0);
	CHECK(mounts_of("efs/fs-t/mnt") == 1);
	/* t1's shim "died": its process state is lost, only the id is known. */
	CHECK(vol_task_release_id(&c, &s, "t1", &e) == 0);
	CHECK(users_of("volumes/sh", buf, sizeof(buf)) == 0 && strcmp(buf, "t2\n") == 0);
	CHECK(users_of("efs/fs-t", buf, sizeof(buf)) == 0 && strcmp(buf, "t2\n") == 0);
	CHECK(mounts_of("efs/fs-t/mnt") == 1);   /* t2 still uses it */
	CHECK(vol_store_open(state, &st) == 0 && vol_store_list(&st, &names) == 0);
	CHECK(names[0] && names[1] && !names[2]);   /* sh and t2's scope=task volume */
	vol_strv_free(names);
	/* Again, and for a task that never ran: nothing changes. */
	CHECK(vol_task_release_id(&c, &s, "t1", &e) == 0);
	CHECK(vol_task_release_id(&c, &s, "never", &e) == 0);
	CHECK(users_of("volumes/sh", buf, sizeof(buf)) == 0 && strcmp(buf, "t2\n") == 0);
	/* t2 releases normally, then the agent's cleanup releases again. */
	CHECK(vol_task_release(&t2, &e) == 0);
	CHECK(vol_task_release_id(&c, &s, "t2", &e) == 0);
	CHECK(mounts_of("efs/fs-t/mnt") == 0);
	CHECK(vol_store_list(&st, &names) == 0 && names[0] && strcmp(names[0], "sh") == 0 && !names[1]);
	vol_strv_free(names);
	CHECK(users_of("volumes/sh", buf, sizeof(buf)) == 0 && buf[0] == '\0');
	CHECK(vol_task_cleanup(&c, "t1", &e) == 0 && vol_task_cleanup(&c, "t2", &e) == 0);
	/* t1's own handle: closing it now changes nothing either. */
	CHECK(vol_task_release(&t1, &e) == 0);
	CHECK(users_of("volumes/sh", buf, sizeof(buf)) == 0 && buf[0] == '\0');
	/* Bad ids are refused, not turned into paths. */
	CHECK(vol_task_release_id(&c, &s, "../x", &e) == -EINVAL);
	vol_store_close(&st);
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

NS_TEST(release_child)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_refused),
		cmocka_unit_test(test_release_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
