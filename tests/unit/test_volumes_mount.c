/* tests/unit/test_volumes_mount.c - volumes for real, as root: host binds,
 * read-only, volumesFrom, escapes, source rules, tmpfs and /dev/shm, seeding
 * and pivot_root, each driving prepare -> attach (as the runtime's clone
 * child would) -> detach -> release -> cleanup (harness: volumes_ns.h). */

#include "tests/unit/volumes_ns.h"

/* ---- the tests (child side) ---- */

static void t_host_bind(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run run;

	make_rootfs("root");
	sh("mkdir -p %s/host && echo hi > %s/host/f", base, base);
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"%s/host\"}},"
		 "{\"name\":\"made\",\"host\":{\"sourcePath\":\"%s/new/deeper\"}}],"
		 "\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":["
		 "{\"sourceVolume\":\"h\",\"containerPath\":\"/data\"},"
		 "{\"sourceVolume\":\"made\",\"containerPath\":\"/app/data\"}]}]}", base, base);
	parse(json, &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	CHECK(access(p("new/deeper"), F_OK) == 0);   /* created, as ECS does */
	MUST(start_ctr(&t, "c", "root", &run, E));
	CHECK(strcmp(slurp(p("root/data/f")), "hi\n") == 0);
	CHECK(put(p("root/data/w"), "from container") == 0);
	CHECK(strcmp(slurp(p("host/w")), "from container") == 0);
	/* A host sourcePath is never seeded from the image. */
	CHECK(access(p("new/deeper/seed.txt"), F_OK) < 0);
	stop_ctr(&run);
	MUST(vol_task_release(&t, E));
	MUST(vol_task_release(&t, E));           /* twice is harmless */
	CHECK(access(p("host/w"), F_OK) == 0);   /* outlives the task */
	CHECK(count_mounts_under(base) == 1);     /* only the rootfs bind */
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

static void t_read_only(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run run;
	char json[1024];

	make_rootfs("root");
	sh("mkdir -p %s/host/sub", base);
	/* A submount inside the source: read-only must reach it too. */
	CHECK(mount("tmpfs", p("host/sub"), "tmpfs", 0, "size=1m") == 0);
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	snprintf(json, sizeof(json),
		 "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"%s/host\"}}],"
		 "\"containerDefinitions\":[{\"name\":\"w\",\"mountPoints\":[{\"sourceVolume\":\"h\","
		 "\"containerPath\":\"/data\",\"readOnly\":true}]}]}", base);
	parse(json, &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	MUST(start_ctr(&t, "w", "root", &run, E));
	CHECK(put(p("root/data/x"), "no") == -EROFS);
	CHECK(put(p("root/data/sub/x"), "no") == -EROFS);
	CHECK(mkdir(p("root/data/d"), 0755) < 0 && errno == EROFS);
	CHECK(put(p("host/x"), "yes") == 0);   /* the host side stays writable */
	CHECK(strcmp(slurp(p("root/data/x")), "yes") == 0);
	stop_ctr(&run);
	MUST(vol_task_release(&t, E));
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

static void t_volumes_from_ro(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run w, r;

	make_rootfs("root1");
	make_rootfs("root2");
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	parse("{\"volumes\":[{\"name\":\"shared\",\"host\":{}}],\"containerDefinitions\":["
	      "{\"name\":\"writer\",\"mountPoints\":[{\"sourceVolume\":\"shared\",\"containerPath\":\"/out\"}]},"
	      "{\"name\":\"reader\",\"volumesFrom\":[{\"sourceContainer\":\"writer\",\"readOnly\":true}]}]}",
	      &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	MUST(start_ctr(&t, "writer", "root1", &w, E));
	MUST(start_ctr(&t, "reader", "root2", &r, E));
	CHECK(put(p("root1/out/line"), "tick") == 0);
	CHECK(strcmp(slurp(p("root2/out/line")), "tick") == 0);
	CHECK(put(p("root2/out/line"), "no") == -EROFS);
	stop_ctr(&r);
	stop_ctr(&w);
	MUST(vol_task_release(&t, E));
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

static void t_symlink_escape(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run run;
	char json[1024], link[PATH_MAX], inside[PATH_MAX];

	make_rootfs("root");
	sh("mkdir -p %s/victim && echo precious > %s/victim/file && mkdir -p %s/host && "
	   "echo vol > %s/host/v", base, base, base, base);
	/* /data -> /../../<base>/victim: followed on the host it is the victim. */
	snprintf(link, sizeof(link), "/../../../../..%s/victim", base);
	CHECK(symlink(link, p("root/data")) == 0);
	CHECK(symlink("../../../../../../../..", p("root/up")) == 0);
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	snprintf(json, sizeof(json),
		 "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"%s/host\"}}],"
		 "\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":["
		 "{\"sourceVolume\":\"h\",\"containerPath\":\"/data\"},"
		 "{\"sourceVolume\":\"h\",\"containerPath\":\"/up%s/victim2\"}]}]}", base, base);
	parse(json, &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	MUST(start_ctr(&t, "c", "root", &run, E));
	/* The host's victim is untouched and nothing is mounted on it... */
	CHECK(strcmp(slurp(p("victim/file")), "precious\n") == 0);
	CHECK(access(p("victim/v"), F_OK) < 0);
	CHECK(access(p("victim2"), F_OK) < 0);
	/* ...the mounts landed where the symlinks point inside the rootfs. */
	snprintf(inside, sizeof(inside), "%s/root%s/victim/v", base, base);
	CHECK(strcmp(slurp(inside), "vol\n") == 0);
	snprintf(inside, sizeof(inside), "%s/root%s/victim2/v", base, base);
	CHECK(strcmp(slurp(inside), "vol\n") == 0);
	stop_ctr(&run);
	MUST(vol_task_release(&t, E));
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

static void t_source_rules(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct err e = ERR_INIT;
	char json[1024];

	sh("mkdir -p %s/allowed %s/other && ln -s %s/other %s/allowed/out", base, base, base, base);
	env_reset();
	setenv("BERTH_HOST_VOLUME_ROOTS", p("allowed"), 1);
	MUST(vol_cfg_from_env(&c, E));
	/* ".." is refused by the parser and by the check itself. */
	snprintf(json, sizeof(json), "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":"
		 "\"%s/allowed/../other\"}}]}", base);
	CHECK(vol_spec_parse_json(json, &s, &e) == -EINVAL && strstr(e.msg, "without '..'"));
	err_clear(&e);
	CHECK(vol_host_path_check(&c, p("allowed/../other"), &e) == -EINVAL);
	err_clear(&e);
	CHECK(vol_host_path_check(&c, "relative/x", &e) == -EINVAL);
	err_clear(&e);
	/* Outside the allow-list. */
	snprintf(json, sizeof(json), "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":"
		 "\"%s/other/x\"}}]}", base);
	parse(json, &s);
	CHECK(vol_task_prepare(&c, &s, "t1", &t, &e) == -EPERM);
	CHECK(strstr(e.msg, "outside BERTH_HOST_VOLUME_ROOTS") != NULL);
	CHECK(access(p("other/x"), F_OK) < 0);
	vol_spec_free(&s);
	err_clear(&e);
	/* Inside by name, outside through a symlink: refused, nothing created. */
	snprintf(json, sizeof(json), "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":"
		 "\"%s/allowed/out/y\"}}]}", base);
	parse(json, &s);
	CHECK(vol_task_prepare(&c, &s, "t1", &t, &e) == -EPERM);
	CHECK(strstr(e.msg, "through a symlink") != NULL);
	CHECK(access(p("other/y"), F_OK) < 0);
	vol_spec_free(&s);
	err_clear(&e);
	/* A prefix that is not a path component is not inside. */
	CHECK(vol_host_path_check(&c, p("allowedx/z"), &e) == -EPERM);
	err_clear(&e);
	CHECK(vol_host_path_check(&c, p("allowed/z"), &e) == 0);
	CHECK(count_mounts_under(base) == 0);
	vol_cfg_free(&c);
}

static void t_tmpfs_and_shm(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run run;
	char buf[65536], opts[64];
	int fd, r = 0;
	struct stat st;

	make_rootfs("root");
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	parse("{\"containerDefinitions\":[{\"name\":\"c\",\"linuxParameters\":{\"sharedMemorySize\":"
	      "128,\"tmpfs\":[{\"containerPath\":\"/scratch/t\",\"size\":1,\"mountOptions\":"
	      "[\"mode=0710\",\"noexec\"]}]}}]}", &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	MUST(start_ctr(&t, "c", "root", &run, E));
	CHECK(stat(p("root/scratch/t"), &st) == 0 && (st.st_mode & 07777) == 0710);
	fd = open(p("root/scratch/t/big"), O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < 64 && r == 0; i++)   /* 4 MiB into 1 MiB */
		if (write(fd, buf, sizeof(buf)) < 0)
			r = -errno;
	close(fd);
	CHECK(r == -ENOSPC);
	CHECK(vol_shm_options(&run.m, opts, sizeof(opts)) == 0);
	CHECK(strcmp(opts, "mode=1777,size=134217728") == 0);
	stop_ctr(&run);
	MUST(vol_task_release(&t, E));
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

static void t_seeding(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct run run;
	struct stat st;
	char link[64];
	ssize_t n;

	make_rootfs("root");
	make_rootfs("root2");
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	parse("{\"volumes\":[{\"name\":\"v\"},{\"name\":\"n\",\"dockerVolumeConfiguration\":"
	      "{\"scope\":\"shared\",\"autoprovision\":true}}],\"containerDefinitions\":["
	      "{\"name\":\"c\",\"mountPoints\":[{\"sourceVolume\":\"v\",\"containerPath\":\"/app/data\"},"
	      "{\"sourceVolume\":\"n\",\"containerPath\":\"/app/data/sub\"}]}]}", &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	MUST(start_ctr(&t, "c", "root", &run, E));
	/* Copied with mode, owner, symlink; the named volume got /app/data/sub. */
	CHECK(strcmp(slurp(p("root/app/data/seed.txt")), "img\n") == 0);
	CHECK(stat(p("state/tasks/t1/volumes/v/seed.txt"), &st) == 0);
	CHECK((st.st_mode & 07777) == 0640 && st.st_uid == 123 && st.st_gid == 456);
	n = readlink(p("state/tasks/t1/volumes/v/link"), link, sizeof(link) - 1);
	CHECK(n == 8 && memcmp(link, "seed.txt", 8) == 0);
	CHECK(strcmp(slurp(p("state/volumes/n/_data/deep")), "deep\n") == 0);
	CHECK(strcmp(slurp(p("root/app/data/sub/deep")), "deep\n") == 0);
	stop_ctr(&run);
	/* Once: emptied by the "container", not refilled by the next start. */
	CHECK(unlink(p("state/tasks/t1/volumes/v/seed.txt")) == 0);
	CHECK(unlink(p("state/volumes/n/_data/deep")) == 0);
	MUST(start_ctr(&t, "c", "root2", &run, E));
	CHECK(access(p("root2/app/data/seed.txt"), F_OK) < 0);
	CHECK(access(p("root2/app/data/sub/deep"), F_OK) < 0);
	stop_ctr(&run);
	MUST(vol_task_release(&t, E));
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

/* The runtime's order: rootfs bound on itself, volumes attached, then
 * pivot_root and the old root detached: the container sees its volumes,
 * read-only ones stay read-only, and the host's paths are out of reach. */
static void t_pivot(void)
{
	struct vol_cfg c;
	struct vol_spec s;
	struct vol_task t;
	struct vol_plan plan;
	struct vol_ctr_mounts m;
	char json[1024];
	pid_t pid;
	int status;

	make_rootfs("root");
	sh("mkdir -p %s/host && echo hi > %s/host/f", base, base);
	env_reset();
	MUST(vol_cfg_from_env(&c, E));
	snprintf(json, sizeof(json),
		 "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"%s/host\"}},{\"name\":\"l\"}],"
		 "\"containerDefinitions\":[{\"name\":\"c\",\"mountPoints\":["
		 "{\"sourceVolume\":\"h\",\"containerPath\":\"/ro\",\"readOnly\":true},"
		 "{\"sourceVolume\":\"l\",\"containerPath\":\"/app/data\"}]}]}", base);
	parse(json, &s);
	MUST(vol_task_prepare(&c, &s, "t1", &t, E));
	MUST(vol_plan_build(&s, "c", &plan, E));
	MUST(vol_ctr_prepare(&t, &plan, p("root"), &m, E));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* As the runtime's clone3(CLONE_NEWNS) child: the detached
		 * mounts were made by the parent, in its namespace. */
		size_t failed;
		int rfd;

		CHECK(unshare(CLONE_NEWNS) == 0);
		CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
		CHECK(mount(p("root"), p("root"), NULL, MS_BIND | MS_REC, NULL) == 0);
		rfd = open(p("root"), O_PATH | O_DIRECTORY | O_CLOEXEC);
		CHECK(vol_ctr_attach(&m, rfd, &failed) == 0);
		CHECK(chdir(p("root")) == 0);
		CHECK(syscall(SYS_pivot_root, ".", ".") == 0);
		CHECK(umount2(".", MNT_DETACH) == 0);
		CHECK(chdir("/") == 0);
		CHECK(strcmp(slurp("/ro/f"), "hi\n") == 0);
		CHECK(put("/ro/x", "no") == -EROFS);
		CHECK(strcmp(slurp("/app/data/seed.txt"), "img\n") == 0);
		CHECK(put("/app/data/new", "yes") == 0);
		CHECK(access(p("host/f"), F_OK) < 0);   /* the host path is gone */
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(strcmp(slurp(p("state/tasks/t1/volumes/l/new")), "yes") == 0);
	/* Nothing of the container's mounts in ours. */
	CHECK(count_mounts_under(p("root/")) == 0);
	vol_ctr_mounts_free(&m);
	vol_plan_free(&plan);
	MUST(vol_task_release(&t, E));
	vol_spec_free(&s);
	vol_cfg_free(&c);
}

NS_TEST(host_bind)
NS_TEST(read_only)
NS_TEST(volumes_from_ro)
NS_TEST(symlink_escape)
NS_TEST(source_rules)
NS_TEST(tmpfs_and_shm)
NS_TEST(seeding)
NS_TEST(pivot)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_bind),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_volumes_from_ro),
		cmocka_unit_test(test_symlink_escape),
		cmocka_unit_test(test_source_rules),
		cmocka_unit_test(test_tmpfs_and_shm),
		cmocka_unit_test(test_seeding),
		cmocka_unit_test(test_pivot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
