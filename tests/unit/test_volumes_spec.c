/* tests/unit/test_volumes_spec.c - task definition volumes -> spec -> plan
 * (pure): every kind, normalisation, volumesFrom, tmpfs options, and a table
 * of hostile inputs that must be refused with a reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "volumes/volumes.h"

static const char good[] =
	"{\"family\":\"web\",\"revision\":3,"
	"\"volumes\":["
	" {\"name\":\"logs\",\"host\":{}},"
	" {\"name\":\"scratch\"},"
	" {\"name\":\"src\",\"host\":{\"sourcePath\":\"/srv//data/./x/\"}},"
	" {\"name\":\"db\",\"dockerVolumeConfiguration\":{\"scope\":\"shared\",\"autoprovision\":true,"
	"   \"driver\":\"local\",\"driverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"},"
	"   \"labels\":{\"b\":\"2\",\"a\":\"1\"}}},"
	" {\"name\":\"tmp\",\"dockerVolumeConfiguration\":{\"scope\":\"task\"}},"
	" {\"name\":\"efs\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-1234\",\"rootDirectory\":\"/a/b\"}}"
	"],"
	"\"containerDefinitions\":["
	" {\"name\":\"app\",\"mountPoints\":["
	"   {\"sourceVolume\":\"logs\",\"containerPath\":\"/var/log/app\"},"
	"   {\"sourceVolume\":\"src\",\"containerPath\":\"/data\",\"readOnly\":true},"
	"   {\"sourceVolume\":\"efs\",\"containerPath\":\"/data/efs\"}],"
	"  \"linuxParameters\":{\"sharedMemorySize\":64,\"tmpfs\":[{\"containerPath\":\"/run\",\"size\":16,"
	"   \"mountOptions\":[\"exec\",\"mode=1777\",\"uid=1000\"]}]}},"
	" {\"name\":\"sidecar\",\"volumesFrom\":[{\"sourceContainer\":\"app\",\"readOnly\":true}],"
	"  \"mountPoints\":[{\"sourceVolume\":\"scratch\",\"containerPath\":\"/data\"}]},"
	" {\"name\":\"third\",\"volumesFrom\":[{\"sourceContainer\":\"sidecar\"}]}"
	"]}";

static void test_kinds(void **state)
{
	struct vol_spec s;
	struct err e = ERR_INIT;
	const struct vol_def *v;

	(void)state;
	assert_int_equal(vol_spec_parse_json(good, &s, &e), 0);
	assert_string_equal(s.family, "web");
	assert_int_equal(s.revision, 3);
	assert_int_equal(s.n_vols, 6);
	assert_int_equal(vol_spec_find(&s, "logs")->kind, VOL_TASK_LOCAL);
	assert_int_equal(vol_spec_find(&s, "scratch")->kind, VOL_TASK_LOCAL);
	v = vol_spec_find(&s, "src");
	assert_int_equal(v->kind, VOL_HOST_PATH);
	assert_string_equal(v->source_path, "/srv/data/x");
	v = vol_spec_find(&s, "db");
	assert_int_equal(v->kind, VOL_DOCKER);
	assert_int_equal(v->scope, VOL_SCOPE_SHARED);
	assert_true(v->autoprovision);
	assert_int_equal(v->labels.n, 2);
	assert_string_equal(v->labels.kv[0].key, "a");   /* sorted */
	assert_int_equal(v->driver_opts.n, 3);
	v = vol_spec_find(&s, "tmp");
	assert_int_equal(v->scope, VOL_SCOPE_TASK);
	assert_string_equal(v->driver, "local");
	v = vol_spec_find(&s, "efs");
	assert_string_equal(v->fs_id, "fs-1234");
	assert_string_equal(v->root_dir, "/a/b");
	assert_null(vol_spec_find(&s, "nope"));
	assert_int_equal(s.ctrs[0].shm_size, 64ull << 20);
	assert_int_equal(s.ctrs[0].tmpfs[0].size, 16ull << 20);
	assert_string_equal(s.ctrs[0].tmpfs[0].fs_opts, "mode=1777,uid=1000");
	assert_int_equal(s.ctrs[0].tmpfs[0].attr, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	vol_spec_free(&s);
}

static char *dump(const struct vol_spec *s, const char *ctr)
{
	struct vol_plan p;
	struct err e = ERR_INIT;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (vol_plan_build(s, ctr, &p, &e) < 0)
		return strdup(e.msg);
	f = open_memstream(&buf, &len);
	vol_plan_dump(&p, f);
	fclose(f);
	vol_plan_free(&p);
	return buf;
}

static void test_plans(void **state)
{
	struct vol_spec s;
	struct err e = ERR_INIT;
	_cleanup_free_ char *app = NULL, *side = NULL, *third = NULL;

	(void)state;
	assert_int_equal(vol_spec_parse_json(good, &s, &e), 0);
	app = dump(&s, "app");
	assert_string_equal(app,
			    "bind host:src -> /data ro\n"
			    "tmpfs /run size=16777216 attr=0x6 opts=mode=1777,uid=1000\n"
			    "bind efs:efs -> /data/efs rw\n"
			    "bind task:logs -> /var/log/app rw\n"
			    "shm size=67108864\n");
	/* Its own /data wins; the rest comes from app, read-only; no tmpfs. */
	side = dump(&s, "sidecar");
	assert_string_equal(side,
			    "bind task:scratch -> /data rw\n"
			    "bind efs:efs -> /data/efs ro from=app\n"
			    "bind task:logs -> /var/log/app ro from=app\n");
	/* Transitive: sidecar's mounts, and app's through it, read-only sticks. */
	third = dump(&s, "third");
	assert_string_equal(third,
			    "bind task:scratch -> /data rw from=sidecar\n"
			    "bind efs:efs -> /data/efs ro from=app\n"
			    "bind task:logs -> /var/log/app ro from=app\n");
	vol_spec_free(&s);
}

static void test_cycle_and_duplicates(void **state)
{
	struct vol_spec s;
	struct vol_plan p;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(vol_spec_parse_json(
				 "{\"volumes\":[{\"name\":\"v\"}],\"containerDefinitions\":["
				 "{\"name\":\"a\",\"volumesFrom\":[{\"sourceContainer\":\"b\"}]},"
				 "{\"name\":\"b\",\"volumesFrom\":[{\"sourceContainer\":\"a\"}]},"
				 "{\"name\":\"c\",\"mountPoints\":[{\"sourceVolume\":\"v\",\"containerPath\":\"/x\"},"
				 "{\"sourceVolume\":\"v\",\"containerPath\":\"/x/\"}]},"
				 "{\"name\":\"d\",\"mountPoints\":[{\"sourceVolume\":\"v\",\"containerPath\":\"/t\"}],"
				 "\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":\"/t\",\"size\":1}]}}]}",
				 &s, &e),
			 0);
	assert_int_equal(vol_plan_build(&s, "a", &p, &e), -ELOOP);
	assert_non_null(strstr(e.msg, "cycle"));
	err_clear(&e);
	assert_int_equal(vol_plan_build(&s, "c", &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "two mounts on '/x'"));
	err_clear(&e);
	assert_int_equal(vol_plan_build(&s, "d", &p, &e), -EINVAL);
	err_clear(&e);
	assert_int_equal(vol_plan_build(&s, "zz", &p, &e), -ENOENT);
	vol_spec_free(&s);
}

static void test_normalise(void **state)
{
	static const struct {
		const char *in, *out;
		int r;
	} cases[] = {
		{ "/", "/", 0 },          { "//a//b/", "/a/b", 0 },  { "/a/./b/.", "/a/b", 0 },
		{ "/a/../b", NULL, -EINVAL }, { "/..", NULL, -EINVAL }, { "a/b", NULL, -EINVAL },
		{ "", NULL, -EINVAL },    { "/a/..b", "/a/..b", 0 }, { "/...", "/...", 0 },
		{ "/a/b/..", NULL, -EINVAL },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(vol_path_normalise(cases[i].in, buf, sizeof(buf)), cases[i].r);
		if (cases[i].out)
			assert_string_equal(buf, cases[i].out);
	}
	assert_int_equal(vol_path_normalise("/aaaa/bbbb", buf, 6), -ENAMETOOLONG);
	assert_int_equal(vol_path_normalise(NULL, buf, sizeof(buf)), -EINVAL);
}

/* Each must be refused, with WANT in the reason. */
static const struct {
	const char *json, *want;
} hostile[] = {
	{ "[]", "JSON object" },
	{ "{\"volumes\":{}}", "must be a list" },
	{ "{\"volumes\":[1]}", "must be an object" },
	{ "{\"volumes\":[{}]}", "'name'" },
	{ "{\"volumes\":[{\"name\":\"a/b\"}]}", "'name'" },
	{ "{\"volumes\":[{\"name\":\"\"}]}", "'name'" },
	{ "{\"volumes\":[{\"name\":7}]}", "must be a string" },
	{ "{\"volumes\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "used twice" },
	{ "{\"volumes\":[{\"name\":\"a\",\"host\":{\"sourcePath\":\"/etc/../root\"}}]}", "without '..'" },
	{ "{\"volumes\":[{\"name\":\"a\",\"host\":{\"sourcePath\":\"relative\"}}]}", "absolute" },
	{ "{\"volumes\":[{\"name\":\"a\",\"host\":{\"sourcePath\":[]}}]}", "must be a string" },
	{ "{\"volumes\":[{\"name\":\"a\",\"host\":\"/x\"}]}", "'host' must be an object" },
	{ "{\"volumes\":[{\"name\":\"a\",\"host\":{},\"efsVolumeConfiguration\":{\"fileSystemId\":\"f\"}}]}",
	  "one of" },
	{ "{\"volumes\":[{\"name\":\"a\",\"configuredAtLaunch\":true}]}", "not supported" },
	{ "{\"volumes\":[{\"name\":\"a\",\"fsxWindowsFileServerVolumeConfiguration\":{}}]}", "not supported" },
	{ "{\"volumes\":[{\"name\":\"a\",\"dockerVolumeConfiguration\":{\"scope\":\"global\"}}]}", "scope" },
	{ "{\"volumes\":[{\"name\":\"a\",\"dockerVolumeConfiguration\":{\"autoprovision\":true}}]}",
	  "autoprovision" },
	{ "{\"volumes\":[{\"name\":\"a\",\"dockerVolumeConfiguration\":{\"driver\":\"rexray\"}}]}", "driver" },
	{ "{\"volumes\":[{\"name\":\"a\",\"dockerVolumeConfiguration\":{\"driverOpts\":{\"x\":\"y\"}}}]}",
	  "unknown" },
	{ "{\"volumes\":[{\"name\":\"a\",\"dockerVolumeConfiguration\":{\"driverOpts\":{\"type\":1}}}]}",
	  "object of strings" },
	{ "{\"volumes\":[{\"name\":\"a\",\"dockerVolumeConfiguration\":{\"labels\":[]}}]}", "object of strings" },
	{ "{\"volumes\":[{\"name\":\"a\",\"dockerVolumeConfiguration\":{\"autoprovision\":\"yes\","
	  "\"scope\":\"shared\"}}]}", "true or false" },
	{ "{\"volumes\":[{\"name\":\"a\",\"efsVolumeConfiguration\":{}}]}", "fileSystemId" },
	{ "{\"volumes\":[{\"name\":\"a\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"../x\"}}]}", "fileSystemId" },
	{ "{\"volumes\":[{\"name\":\"a\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"f\","
	  "\"rootDirectory\":\"/a/../..\"}}]}", "rootDirectory" },
	{ "{\"volumes\":[{\"name\":\"a\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"f\","
	  "\"transitEncryption\":\"ENABLED\"}}]}", "transitEncryption" },
	{ "{\"volumes\":[{\"name\":\"a\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"f\","
	  "\"authorizationConfig\":{\"iam\":\"ENABLED\"}}}]}", "authorizationConfig" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":[{\"sourceVolume\":\"nope\","
	  "\"containerPath\":\"/x\"}]}]}", "not a volume of the task" },
	{ "{\"volumes\":[{\"name\":\"v\"}],\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":"
	  "[{\"sourceVolume\":\"v\",\"containerPath\":\"x\"}]}]}", "absolute" },
	{ "{\"volumes\":[{\"name\":\"v\"}],\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":"
	  "[{\"sourceVolume\":\"v\",\"containerPath\":\"/a/../../etc\"}]}]}", "without '..'" },
	{ "{\"volumes\":[{\"name\":\"v\"}],\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":"
	  "[{\"sourceVolume\":\"v\",\"containerPath\":\"//\"}]}]}", "cannot be '/'" },
	{ "{\"volumes\":[{\"name\":\"v\"}],\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":"
	  "[{\"sourceVolume\":\"v\",\"containerPath\":\"/proc/sys\"}]}]}", "runtime manages" },
	{ "{\"volumes\":[{\"name\":\"v\"}],\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":"
	  "[{\"sourceVolume\":\"v\"}]}]}", "containerPath" },
	{ "{\"volumes\":[{\"name\":\"v\"}],\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":"
	  "[{\"sourceVolume\":\"v\",\"containerPath\":\"/x\",\"readOnly\":1}]}]}", "true or false" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":[\"v:/x\"]}]}", "must be an object" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"volumesFrom\":[{\"sourceContainer\":\"c\"}]}]}",
	  "another container" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"volumesFrom\":[{\"sourceContainer\":\"x\"}]}]}",
	  "another container" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\"},{\"name\":\"c\"}]}", "used twice" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":"
	  "\"/t\"}]}}]}", "'size' is required" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":"
	  "\"/t\",\"size\":-1}]}}]}", "whole number" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":"
	  "\"/t\",\"size\":1.5}]}}]}", "whole number" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":"
	  "\"/t\",\"size\":1e300}]}}]}", "whole number" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":"
	  "\"/t\",\"size\":1,\"mountOptions\":[\"shared\"]}]}}]}", "'shared'" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":"
	  "\"/t\",\"size\":1,\"mountOptions\":[\"mode=777,size=1g\"]}]}}]}", "mode=777,size=1g" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":"
	  "\"/t\",\"size\":1,\"mountOptions\":[\"uid=-1\"]}]}}]}", "uid=-1" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":"
	  "\"/t\",\"size\":1,\"mountOptions\":[7]}]}}]}", "not a list of strings" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"sharedMemorySize\":0}}]}",
	  "sharedMemorySize" },
	{ "{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":[]}]}", "must be an object" },
};

static void test_hostile(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		struct vol_spec s = { 0 };
		struct err e = ERR_INIT;
		int r = vol_spec_parse_json(hostile[i].json, &s, &e);

		if (r == 0 || !strstr(e.msg, hostile[i].want))
			fail_msg("case %zu: r=%d msg='%s', want '%s'", i, r, e.msg, hostile[i].want);
		assert_int_equal(s.n_vols, 0);   /* nothing half-built handed out */
	}
}

/* Random mutations of a good document: never crash, leak or accept garbage
 * half-way (ASan watches). */
static void test_fuzz(void **state)
{
	size_t len = strlen(good);
	char *buf = malloc(len + 1);
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct vol_spec s;
		struct err e = ERR_INIT;

		memcpy(buf, good, len + 1);
		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] = "{}[]\":,./a0-"[(seed >> 20) % 12];
		}
		if (vol_spec_parse_json(buf, &s, &e) == 0) {
			for (size_t c = 0; c < s.n_ctrs; c++) {
				struct vol_plan p;

				if (vol_plan_build(&s, s.ctrs[c].name, &p, &e) == 0)
					vol_plan_free(&p);
				err_clear(&e);
			}
			vol_spec_free(&s);
		} else {
			assert_true(e.msg[0] != '\0');
		}
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_plans),
		cmocka_unit_test(test_cycle_and_duplicates),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
