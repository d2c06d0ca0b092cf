/* tests/unit/test_volumes_store.c - named volumes for real, as root: task
 * and shared scope, autoprovision and matching rules, EFS-like filesystems,
 * driver options and the allow-list, failures that must leave nothing
 * behind, volumesFrom cycles (harness: volumes_ns.h). */

#include "tests/unit/volumes_ns.h"

static void t_named_and_task_scope(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run run;
	struct vol_store st;
	struct statfs sfs;
	char **names = NULL;

	make_rootfs("root");
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	parse("{\"family\":\"fam\",\"revision\":2,\"volumes\":[{\"name\":\"db\",\"dockerVolumeConfiguration\":"
	      "{\"scope\":\"shared\",\"autoprovision\":true}},{\"name\":\"tmp\",\"dockerVolumeConfiguration\":"
	      "{\"scope\":\"task\",\"driverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"}}},"
	      "{\"name\":\"local\",\"host\":{}}],"
	      "\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":["
	      "{\"sourceVolume\":\"db\",\"containerPath\":\"/db\"},"
	      "{\"sourceVolume\":\"tmp\",\"containerPath\":\"/tmpvol\"},"
	      "{\"sourceVolume\":\"local\",\"containerPath\":\"/local\"}]}]}", &s);
	/* Task 1 writes into the shared volume. */
	MUST(vol_task_prepare(&c, &s, "task1", &t, E));
	MUST(start_ctr(&t, "c", "root", &run, E));
	CHECK(put(p("root/db/row"), "one") == 0);
	CHECK(put(p("root/tmpvol/x"), "gone soon") == 0);
	CHECK(put(p("root/local/x"), "kept until cleanup") == 0);
	CHECK(count_mounts_under("/volumes/ecs-fam-2-tmp-") == 1);   /* driver mount on the host */
	CHECK(statfs(p("root/tmpvol"), &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	/* In use: rm refuses, prune keeps it. */
	CHECK_OK(vol_store_open(p("state"), &st));
	CHECK(vol_store_remove(&st, "db") == -EBUSY);
	CHECK(vol_store_prune(&st, &names) == 0 && names[0] == NULL);
	vol_strv_free(names);
	stop_ctr(&run);
	MUST(vol_task_release(&t, E));
	/* scope=task: unmounted and removed at stop; host {}: until cleanup. */
	CHECK(count_mounts_under("/volumes/ecs-fam-2-tmp-") == 0);
	CHECK(vol_store_list(&st, &names) == 0 && names[0] && strcmp(names[0], "db") == 0 && !names[1]);
	vol_strv_free(names);
	CHECK(access(p("state/tasks/task1/volumes/local/x"), F_OK) == 0);
	MUST(vol_task_cleanup(&c, "task1", E));
	CHECK(access(p("state/tasks/task1/volumes"), F_OK) < 0);
	/* Task 2 reads what task 1 wrote. */
	MUST(vol_task_prepare(&c, &s, "task2", &t, E));
	MUST(start_ctr(&t, "c", "root", &run, E));
	CHECK(strcmp(slurp(p("root/db/row")), "one") == 0);
	CHECK(access(p("root/tmpvol/x"), F_OK) < 0);
	CHECK(access(p("root/local/x"), F_OK) < 0);
	stop_ctr(&run);
	MUST(vol_task_release(&t, E));
	MUST(vol_task_cleanup(&c, "task2", E));
	/* Unused now: prune removes it. */
	CHECK(vol_store_prune(&st, &names) == 0 && names[0] && strcmp(names[0], "db") == 0);
	vol_strv_free(names);
	vol_store_close(&st);
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

static void t_shared_rules(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct vol_store st;
	struct vol_map labels = { 0 };
	struct vol_kv kv = { "team", "a" };
	struct err e = ERR_INIT;

	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	parse("{\"volumes\":[{\"name\":\"data\",\"dockerVolumeConfiguration\":{\"scope\":\"shared\"}}]}", &s);
	CHECK(vol_task_prepare(&c, &s, "t1", &t, &e) == -ENOENT);
	CHECK(strcmp(e.msg, "initialize volume: volume detection failed, volume 'data' does not "
		     "exist and autoprovision is set to false") == 0);
	CHECK(access(p("state/volumes/data"), F_OK) < 0);
	vol_spec_free(&s);
	err_clear(&e);
	/* Exists with other labels: by name only by default, refused with full matching. */
	CHECK_OK(vol_store_open(p("state"), &st));
	labels.kv = &kv;
	labels.n = 1;
	CHECK_OK(vol_store_create(&st, "data", NULL, &labels, NULL));
	parse("{\"volumes\":[{\"name\":\"data\",\"dockerVolumeConfiguration\":{\"scope\":\"shared\","
	      "\"autoprovision\":true,\"labels\":{\"team\":\"b\"}}}]}", &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	MUST(vol_task_release(&t, E));
	setenv("ECS_SHARED_VOLUME_MATCH_FULL_CONFIG", "true", 1);
	vol_cfg_free(&c);
	MUST(vol_cfg_from_env(&c, E));
	CHECK(c.match_full_config);
	CHECK(vol_task_prepare(&c, &s, "t1", &t, &e) == -EINVAL);
	CHECK(strcmp(e.msg, "intialize volume: non-autoprovisioned volume does not match existing "
		     "volume labels: existing: map[team:a], expected: map[team:b]") == 0);
	/* The failed task holds no use of it. */
	CHECK(vol_store_remove(&st, "data") == 0);
	vol_store_close(&st);
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

static void t_efs(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t1, t2;
	struct run r1, r2;
	char env[1024];
	struct err e = ERR_INIT;

	make_rootfs("root1");
	make_rootfs("root2");
	sh("mkdir -p %s/nfs/export/sub", base);
	env_reset();
	snprintf(env, sizeof(env), "{\"fs-path\":\"%s/nfs/export\",\"fs-tmp\":{\"type\":\"tmpfs\","
		 "\"device\":\"tmpfs\",\"options\":\"size=2m,mode=0755\"}}", base);
	setenv("BERTH_SHARED_FILESYSTEMS", env, 1);
	MUST(vol_cfg_from_env(&c, E));
	parse("{\"volumes\":[{\"name\":\"a\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-path\","
	      "\"rootDirectory\":\"/sub\"}},{\"name\":\"b\",\"efsVolumeConfiguration\":{\"fileSystemId\":"
	      "\"fs-tmp\"}}],\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":["
	      "{\"sourceVolume\":\"a\",\"containerPath\":\"/efs\"},{\"sourceVolume\":\"b\","
	      "\"containerPath\":\"/efs2\",\"readOnly\":true}]},"
	      "{\"name\":\"w\",\"mountPoints\":[{\"sourceVolume\":\"b\",\"containerPath\":\"/efs2\"}]}]}", &s);
	/* Two tasks at once see the same files; the typed one is mounted once. */
	MUST(vol_task_prepare(&c, &s, "t1", &t1, E));
	MUST(vol_task_prepare(&c, &s, "t2", &t2, E));
	CHECK(count_mounts_under("/state/efs/fs-tmp/mnt") == 1);
	MUST(start_ctr(&t1, "w", "root1", &r1, E));
	MUST(start_ctr(&t2, "c", "root2", &r2, E));
	CHECK(put(p("root1/efs2/hello"), "from t1") == 0);
	CHECK(strcmp(slurp(p("root2/efs2/hello")), "from t1") == 0);
	CHECK(put(p("root2/efs2/no"), "x") == -EROFS);   /* readOnly via mountPoints */
	CHECK(put(p("root2/efs/f"), "sub") == 0);
	CHECK(strcmp(slurp(p("nfs/export/sub/f")), "sub") == 0);   /* rootDirectory */
	stop_ctr(&r1);
	stop_ctr(&r2);
	MUST(vol_task_release(&t1, E));
	CHECK(count_mounts_under("/state/efs/fs-tmp/mnt") == 1);   /* t2 still uses it */
	MUST(vol_task_release(&t2, E));
	CHECK(count_mounts_under("/state/efs/fs-tmp/mnt") == 0);
	vol_spec_free(&s);
	/* Unknown id, escaping rootDirectory. */
	parse("{\"volumes\":[{\"name\":\"a\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-x\"}}]}", &s);
	CHECK(vol_task_prepare(&c, &s, "t3", &t1, &e) == -ENOENT && strstr(e.msg, "BERTH_SHARED_FILESYSTEMS"));
	vol_spec_free(&s);
	err_clear(&e);
	CHECK(symlink("/", p("nfs/export/up")) == 0);
	parse("{\"volumes\":[{\"name\":\"a\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-path\","
	      "\"rootDirectory\":\"/up/etc\"}}]}", &s);
	CHECK(vol_task_prepare(&c, &s, "t3", &t1, &e) < 0);
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

/* Only the store's lock file: no volume was left behind. */
static bool store_empty(void)
{
	char **names = NULL;
	struct vol_store st;
	bool empty;

	CHECK_OK(vol_store_open(p("state"), &st));
	CHECK(vol_store_list(&st, &names) == 0);
	empty = names[0] == NULL;
	vol_strv_free(names);
	vol_store_close(&st);
	return empty;
}

/* A scope=task volume with driverOpts OPTS (JSON) is refused by prepare
 * with CODE and a message containing WANT, leaving nothing behind. */
static void refused(const struct vol_cfg *c, const char *opts, int code, const char *want)
{
	struct vol_spec s;
	struct vol_task t;
	struct err e = ERR_INIT;
	char json[1024];
	int n = count_mounts_under(base), r;

	snprintf(json, sizeof(json), "{\"volumes\":[{\"name\":\"d\",\"dockerVolumeConfiguration\":"
		 "{\"scope\":\"task\",\"driverOpts\":%s}}]}", opts);
	parse(json, &s);
	r = vol_task_prepare(c, &s, "t1", &t, &e);
	if (r != code || !strstr(e.msg, want)) {
		fprintf(stderr, "%s: %d '%s', want %d '%s'\n", opts, r, e.msg, code, want);
		_exit(1);
	}
	CHECK(count_mounts_under(base) == n);
	CHECK(store_empty());
	vol_spec_free(&s);
}

/* driverOpts obey BERTH_HOST_VOLUME_ROOTS as host.sourcePath does: a bind
 * of /etc, or of a symlink leading out, is refused at prepare and again at
 * mount time; an allowed bind works; driver mounts are nosuid,nodev. */
static void t_driver_allow_list(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run run;
	struct vol_store st;
	struct statvfs sv;
	char json[1024], path[PATH_MAX], opts[512];
	struct vol_kv kv[3] = { { "device", NULL }, { "o", "bind" }, { "type", "none" } };
	struct vol_map m = { kv, 3 };

	make_rootfs("root");
	sh("mkdir -p %s/allowed/data %s/other && echo mine > %s/allowed/data/f && "
	   "echo secret > %s/other/f && ln -s %s/other %s/allowed/out && echo img > %s/allowed/img",
	   base, base, base, base, base, base, base);
	env_reset();
	setenv("BERTH_HOST_VOLUME_ROOTS", p("allowed"), 1);
	MUST(vol_cfg_from_env(&c, E));

	refused(&c, "{\"type\":\"none\",\"device\":\"/etc\",\"o\":\"bind\"}", -EPERM,
		"device '/etc' is outside BERTH_HOST_VOLUME_ROOTS");
	refused(&c, "{\"type\":\"bind\",\"device\":\"/etc\"}", -EPERM, "outside BERTH_HOST_VOLUME_ROOTS");
	refused(&c, "{\"type\":\"tmpfs\",\"device\":\"/etc\",\"o\":\"rbind,ro\"}", -EPERM,
		"outside BERTH_HOST_VOLUME_ROOTS");
	snprintf(opts, sizeof(opts), "{\"type\":\"none\",\"device\":\"%s/allowed/out\",\"o\":\"bind\"}", base);
	refused(&c, opts, -EPERM, "through a symlink");
	snprintf(opts, sizeof(opts), "{\"type\":\"none\",\"device\":\"%s/allowed/out/f\",\"o\":\"bind\"}", base);
	refused(&c, opts, -EPERM, "through a symlink");
	snprintf(opts, sizeof(opts), "{\"type\":\"none\",\"device\":\"%s/allowed/data/../../other\",\"o\":\"bind\"}", base);
	refused(&c, opts, -EINVAL, "without '..'");
	snprintf(opts, sizeof(opts), "{\"type\":\"none\",\"device\":\"%s/allowed/data\",\"o\":\"bind,suid\"}", base);
	refused(&c, opts, -EPERM, "always nosuid,nodev");
	refused(&c, "{\"type\":\"overlay\",\"device\":\"overlay\",\"o\":\"lowerdir=/etc\"}", -EPERM,
		"type 'overlay' is not allowed");
	refused(&c, "{\"type\":\"proc\",\"device\":\"proc\"}", -EPERM, "type 'proc' is not allowed");
	refused(&c, "{\"type\":\"ext4\",\"device\":\"/dev/loop0\"}", -EPERM, "outside BERTH_HOST_VOLUME_ROOTS");
	snprintf(opts, sizeof(opts), "{\"type\":\"ext4\",\"device\":\"%s/allowed/img\"}", base);
	refused(&c, opts, -ENOTBLK, "not a block device");
	CHECK(strcmp(slurp(p("other/f")), "secret\n") == 0);

	/* Allowed: bound from inside the root, read-only as asked, nosuid,nodev. */
	snprintf(json, sizeof(json), "{\"volumes\":[{\"name\":\"d\",\"dockerVolumeConfiguration\":"
		 "{\"scope\":\"task\",\"driverOpts\":{\"type\":\"none\",\"device\":\"%s/allowed/data\","
		 "\"o\":\"bind,ro\"}}},{\"name\":\"t\",\"dockerVolumeConfiguration\":{\"scope\":\"task\","
		 "\"driverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"}}}],"
		 "\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":["
		 "{\"sourceVolume\":\"d\",\"containerPath\":\"/d\"},"
		 "{\"sourceVolume\":\"t\",\"containerPath\":\"/t\"}]}]}", base);
	parse(json, &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	MUST(start_ctr(&t, "c", "root", &run, E));
	CHECK(strcmp(slurp(p("root/d/f")), "mine\n") == 0);
	CHECK(put(p("root/d/w"), "x") == -EROFS);
	CHECK(statvfs(p("root/d"), &sv) == 0 && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV));
	CHECK(statvfs(p("root/t"), &sv) == 0 && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV));
	stop_ctr(&run);
	MUST(vol_task_release(&t, E));
	CHECK(count_mounts_under(p("state/")) == 0);
	CHECK(store_empty());
	vol_spec_free(&s);

	/* Mount time checks again: a volume made before the list was set (or
	 * with a device swapped for a symlink since) does not mount. */
	CHECK_OK(vol_store_open(p("state"), &st));
	kv[0].value = "/etc";
	CHECK_OK(vol_store_create(&st, "old", &m, NULL, NULL));
	CHECK(vol_store_acquire(&st, &c, "old", "t2", path, sizeof(path)) == -EPERM);
	snprintf(path, sizeof(path), "%s/allowed/data", base);
	kv[0].value = path;
	CHECK_OK(vol_store_create(&st, "swapped", &m, NULL, NULL));
	sh("mv %s/allowed/data %s/allowed/data.was && ln -s %s/other %s/allowed/data", base, base, base, base);
	CHECK(vol_store_acquire(&st, &c, "swapped", "t2", path, sizeof(path)) == -EPERM);
	CHECK(count_mounts_under(p("state/")) == 0);
	CHECK(vol_store_remove(&st, "old") == 0 && vol_store_remove(&st, "swapped") == 0);
	vol_store_close(&st);
	vol_cfg_free(&c);
}

/* A scope=task volume whose driver mount fails is removed again: prepare
 * made it, nobody else can use it (its name comes from the task id). */
static void t_driver_failure(void)
{
	static const char *const bad[] = {
		"{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"nosuchoption=1\"}",
		"{\"type\":\"bogusfs\"}",
	};
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct err e = ERR_INIT;
	char json[1024];

	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* alone, and after a good one that prepare must undo as well */
		snprintf(json, sizeof(json), "{\"family\":\"f\",\"revision\":1,\"volumes\":["
			 "{\"name\":\"ok\",\"dockerVolumeConfiguration\":{\"scope\":\"task\",\"driverOpts\":"
			 "{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"}}},"
			 "{\"name\":\"bad\",\"dockerVolumeConfiguration\":{\"scope\":\"task\",\"driverOpts\":%s}}]}",
			 bad[i]);
		parse(json, &s);
		CHECK(vol_task_prepare(&c, &s, "t1", &t, &e) < 0);
		CHECK(strstr(e.msg, "volume 'bad'") != NULL);
		err_clear(&e);
		CHECK(store_empty());
		CHECK(count_mounts_under(base) == 0);
		vol_spec_free(&s);
	}
	vol_cfg_free(&c);
}

/* A failing attach undoes the mounts it made. */
static void t_attach_failure(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run run;
	struct err e = ERR_INIT;
	_cleanup_free_ char *before = NULL, *after = NULL;

	make_rootfs("root");
	sh("echo file > %s/root/app/notadir", base);
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	parse("{\"volumes\":[{\"name\":\"v\"}],\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":["
	      "{\"sourceVolume\":\"v\",\"containerPath\":\"/a\"},"
	      "{\"sourceVolume\":\"v\",\"containerPath\":\"/app/notadir/x\"}]}]}", &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	before = mountinfo();
	CHECK(start_ctr(&t, "c", "root", &run, &e) == -ENOTDIR);
	CHECK(strstr(e.msg, "/app/notadir/x") != NULL);
	after = mountinfo();
	CHECK(strcmp(before, after) == 0);
	MUST(vol_task_release(&t, E));
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

/* 200 tasks with every kind of volume: no mount remains. */
static void t_cycles(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	char env[512], json[2048], id[32];
	_cleanup_free_ char *before = NULL, *after = NULL;

	make_rootfs("root");
	sh("mkdir -p %s/host %s/efs", base, base);
	env_reset();
	snprintf(env, sizeof(env), "{\"fs-tmp\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"options\":"
		 "\"size=1m\"},\"fs-path\":\"%s/efs\"}", base);
	setenv("BERTH_SHARED_FILESYSTEMS", env, 1);
	MUST(vol_cfg_from_env(&c, E));
	snprintf(json, sizeof(json),
		 "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"%s/host\"}},{\"name\":\"l\"},"
		 "{\"name\":\"n\",\"dockerVolumeConfiguration\":{\"scope\":\"shared\",\"autoprovision\":true,"
		 "\"driverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"}}},"
		 "{\"name\":\"k\",\"dockerVolumeConfiguration\":{}},"
		 "{\"name\":\"e\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-tmp\"}},"
		 "{\"name\":\"f\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-path\"}}],"
		 "\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":["
		 "{\"sourceVolume\":\"h\",\"containerPath\":\"/h\",\"readOnly\":true},"
		 "{\"sourceVolume\":\"l\",\"containerPath\":\"/app/data\"},"
		 "{\"sourceVolume\":\"n\",\"containerPath\":\"/n\"},{\"sourceVolume\":\"k\",\"containerPath\":\"/k\"},"
		 "{\"sourceVolume\":\"e\",\"containerPath\":\"/e\"},{\"sourceVolume\":\"f\",\"containerPath\":\"/f\"}],"
		 "\"linuxParameters\":{\"tmpfs\":[{\"containerPath\":\"/t\",\"size\":1}]}},"
		 "{\"name\":\"side\",\"volumesFrom\":[{\"sourceContainer\":\"c\",\"readOnly\":true}]}]}",
		 base);
	parse(json, &s);
	before = mountinfo();
	for (int i = 0; i < 200; i++) {
		struct vol_task t;
		struct run a, b;

		snprintf(id, sizeof(id), "task%d", i);
		MUST(vol_task_prepare(&c, &s, id, &t, E));
		MUST(start_ctr(&t, "c", "root", &a, E));
		MUST(start_ctr(&t, "side", "root", &b, E));
		stop_ctr(&b);
		stop_ctr(&a);
		MUST(vol_task_release(&t, E));
		MUST(vol_task_cleanup(&c, id, E));
	}
	after = mountinfo();
	if (strcmp(before, after) != 0) {
		fprintf(stderr, "before:\n%s\nafter:\n%s\n", before, after);
		_exit(1);
	}
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

NS_TEST(named_and_task_scope)
NS_TEST(shared_rules)
NS_TEST(efs)
NS_TEST(driver_allow_list)
NS_TEST(driver_failure)
NS_TEST(attach_failure)
NS_TEST(cycles)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_and_task_scope),
		cmocka_unit_test(test_shared_rules),
		cmocka_unit_test(test_efs),
		cmocka_unit_test(test_driver_allow_list),
		cmocka_unit_test(test_driver_failure),
		cmocka_unit_test(test_attach_failure),
		cmocka_unit_test(test_cycles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
