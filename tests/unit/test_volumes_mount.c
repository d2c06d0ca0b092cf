/* tests/unit/test_volumes_mount.c - volumes for real, as root: each test
 * runs in a forked child with its own private mount namespace, builds a
 * rootfs and a state dir under a fresh temporary directory, and drives
 * prepare -> attach (as the runtime's clone child would) -> detach ->
 * release -> cleanup.  The child reports a failed check on stderr and
 * exits 1; the parent asserts exit 0. */
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
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "volumes/volumes.h"

static char base[64];   /* the test's temporary directory */

#define CHECK(c)                                                                          \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", __FILE__, \
				__LINE__, #c, errno);                                     \
			_exit(1);                                                         \
		}                                                                         \
	} while (0)
#define CHECK_OK(expr)                                                                       \
	do {                                                                                 \
		struct err e_ = ERR_INIT;                                                    \
		int r_ = (expr);                                                             \
		(void)e_;                                                                    \
		if (r_ < 0) {                                                                \
			fprintf(stderr, "%s:%d: %s = %d\n", __FILE__, __LINE__, #expr, r_); \
			_exit(1);                                                            \
		}                                                                            \
	} while (0)

static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	CHECK(system(cmd) == 0);
}

static char *p(const char *rel)   /* base/rel, static rotating buffers */
{
	static char bufs[8][PATH_MAX];
	static int k;
	char *b = bufs[k++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", base, rel);
	return b;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;
	int r;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	r = n < 0 ? -errno : 0;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static int count_mounts_under(const char *prefix)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, prefix) != NULL;
	return n;
}

/* The lines of /proc/self/mountinfo about the test's directory: other
 * suites may mount and unmount elsewhere on the host meanwhile. */
static char *mountinfo(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "r");
	char *buf = calloc(1, 1 << 20), line[4096];
	size_t len = 0;

	CHECK(f && buf);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, base) && len + strlen(line) < (1 << 20))
			len += (size_t)sprintf(buf + len, "%s", line);
	return buf;
}

/* A rootfs with image content, bound onto itself as the runtime does. */
static void make_rootfs(const char *name)
{
	sh("mkdir -p %s/%s/etc %s/%s/app/data/sub && echo img > %s/%s/app/data/seed.txt", base, name,
	   base, name, base, name);
	sh("chmod 0640 %s/%s/app/data/seed.txt && chown 123:456 %s/%s/app/data/seed.txt && "
	   "ln -s seed.txt %s/%s/app/data/link && echo deep > %s/%s/app/data/sub/deep",
	   base, name, base, name, base, name, base, name);
	CHECK(mount(p(name), p(name), NULL, MS_BIND | MS_REC, NULL) == 0);
}

static void env_reset(void)
{
	unsetenv("BERTH_HOST_VOLUME_ROOTS");
	unsetenv("BERTH_SHARED_FILESYSTEMS");
	unsetenv("BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG");
	unsetenv("ECS_SHARED_VOLUME_MATCH_FULL_CONFIG");
	setenv("BERTH_STATE_DIR", p("state"), 1);
}

static void parse(const char *json, struct vol_spec *s)
{
	struct err e = ERR_INIT;

	if (vol_spec_parse_json(json, s, &e) < 0) {
		fprintf(stderr, "parse: %s\n", e.msg);
		_exit(1);
	}
}

/* Everything up to attached mounts for container CTR of task ID. */
struct run {
	struct vol_plan plan;
	struct vol_ctr_mounts m;
	int rootfs_fd;
};

static int start_ctr(struct vol_task *t, const char *ctr, const char *rootfs, struct run *run,
		     struct err *e)
{
	size_t failed = 0;
	int r;

	r = vol_plan_build(t->spec, ctr, &run->plan, e);
	if (r < 0)
		return r;
	r = vol_ctr_prepare(t, &run->plan, p(rootfs), &run->m, e);
	if (r < 0) {
		vol_plan_free(&run->plan);
		return r;
	}
	run->rootfs_fd = open(p(rootfs), O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = vol_ctr_attach(&run->m, run->rootfs_fd, &failed);
	if (r < 0) {
		err_set(e, r, "attach '%s'", run->m.op[failed].target);
		close(run->rootfs_fd);
		vol_ctr_mounts_free(&run->m);
		vol_plan_free(&run->plan);
	}
	return r;
}

static void stop_ctr(struct run *run)
{
	CHECK(vol_ctr_detach(&run->m) == 0);
	vol_ctr_mounts_free(&run->m);
	vol_plan_free(&run->plan);
	close(run->rootfs_fd);
}

static void must(int r, const struct err *e, int line)
{
	if (r < 0) {
		fprintf(stderr, "line %d: %d %s\n", line, r, e->msg);
		_exit(1);
	}
}
#define MUST(expr)                         \
	do {                               \
		struct err e_ = ERR_INIT;  \
		int r_ = (expr);           \
		must(r_, &e_, __LINE__);   \
	} while (0)
#define E (&e_)

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

/* ---- harness ---- */

static void in_namespace(void (*fn)(void))
{
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip();
	strcpy(base, "/tmp/berth-voltest.XXXXXX");
	assert_non_null(mkdtemp(base));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(2);
		fn();
		fflush(NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* The namespace is gone with the child: so are its mounts. */
	sh("rm -rf %s", base);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

#define NS_TEST(name)                                  \
	static void test_##name(void **state)          \
	{                                              \
		(void)state;                           \
		in_namespace(t_##name);                \
	}
NS_TEST(host_bind)
NS_TEST(read_only)
NS_TEST(volumes_from_ro)
NS_TEST(symlink_escape)
NS_TEST(source_rules)
NS_TEST(tmpfs_and_shm)
NS_TEST(seeding)
NS_TEST(named_and_task_scope)
NS_TEST(shared_rules)
NS_TEST(efs)
NS_TEST(driver_allow_list)
NS_TEST(driver_failure)
NS_TEST(attach_failure)
NS_TEST(cycles)
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
		cmocka_unit_test(test_named_and_task_scope),
		cmocka_unit_test(test_shared_rules),
		cmocka_unit_test(test_efs),
		cmocka_unit_test(test_driver_allow_list),
		cmocka_unit_test(test_driver_failure),
		cmocka_unit_test(test_attach_failure),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_pivot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
