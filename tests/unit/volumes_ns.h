/* tests/unit/volumes_ns.h - the harness of the volume tests that mount for
 * real, as root: each test runs in a forked child with its own private mount
 * namespace under a fresh temporary directory (`base`); the child reports a
 * failed check on stderr and exits 1, the parent asserts exit 0. */
#pragma once

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

static inline void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	CHECK(system(cmd) == 0);
}

static inline char *p(const char *rel)   /* base/rel, static rotating buffers */
{
	static char bufs[8][PATH_MAX];
	static int k;
	char *b = bufs[k++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", base, rel);
	return b;
}

static inline char *slurp(const char *path)
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

static inline int put(const char *path, const char *text)
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

static inline int count_mounts_under(const char *prefix)
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
static inline char *mountinfo(void)
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
static inline void make_rootfs(const char *name)
{
	sh("mkdir -p %s/%s/etc %s/%s/app/data/sub && echo img > %s/%s/app/data/seed.txt", base, name,
	   base, name, base, name);
	sh("chmod 0640 %s/%s/app/data/seed.txt && chown 123:456 %s/%s/app/data/seed.txt && "
	   "ln -s seed.txt %s/%s/app/data/link && echo deep > %s/%s/app/data/sub/deep",
	   base, name, base, name, base, name, base, name);
	CHECK(mount(p(name), p(name), NULL, MS_BIND | MS_REC, NULL) == 0);
}

static inline void env_reset(void)
{
	unsetenv("BERTH_HOST_VOLUME_ROOTS");
	unsetenv("BERTH_SHARED_FILESYSTEMS");
	unsetenv("BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG");
	unsetenv("ECS_SHARED_VOLUME_MATCH_FULL_CONFIG");
	setenv("BERTH_STATE_DIR", p("state"), 1);
}

static inline void parse(const char *json, struct vol_spec *s)
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

static inline int start_ctr(struct vol_task *t, const char *ctr, const char *rootfs, struct run *run,
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

static inline void stop_ctr(struct run *run)
{
	CHECK(vol_ctr_detach(&run->m) == 0);
	vol_ctr_mounts_free(&run->m);
	vol_plan_free(&run->plan);
	close(run->rootfs_fd);
}

static inline void must(int r, const struct err *e, int line)
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

/* ---- harness ---- */

/* ---- harness ---- */

static inline void in_namespace(void (*fn)(void))
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
