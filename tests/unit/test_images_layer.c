/* tests/unit/test_images_layer.c - layer extraction: whiteouts, metadata,
 * hard links, and hostile tarballs that try to write outside the layer.
 * Needs root (chown, mknod, trusted.* xattrs); skips otherwise. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/layer.h"
#include "images/store.h"
#include "lib/cleanup.h"
#include "lib/err.h"

enum kind { F, D, L, H, C, X };

struct ent {
	enum kind kind;
	const char *path;
	const char *data;      /* file contents, symlink/hardlink target */
	unsigned mode;
	unsigned uid, gid;
	const char *xattr;     /* "name=value" */
};

struct fix {
	char dir[64];          /* scratch: layer/ and canary/ inside */
	int layerfd;
};

static int use_zstd;   /* compress with zstd instead of gzip */

/* Builds a gzip'd (or zstd'd) pax tarball of ENTS in a memfd (only its first half when
 * TRUNCATE), returns the fd at offset 0. */
static int make_tar(const struct ent *ents, size_t n, int truncate_to)
{
	size_t cap = 1 << 20, used = 0;
	char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	int fd = memfd_create("layer", MFD_CLOEXEC);

	assert_non_null(buf);
	archive_write_set_format_pax_restricted(a);
	if (use_zstd)
		assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	else
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct ent *t = &ents[i];
		static const unsigned types[] = { [F] = AE_IFREG, [D] = AE_IFDIR, [L] = AE_IFLNK,
						  [H] = AE_IFREG, [C] = AE_IFCHR, [X] = AE_IFIFO };

		archive_entry_set_pathname(e, t->path);
		archive_entry_set_filetype(e, types[t->kind]);
		archive_entry_set_perm(e, t->mode ? t->mode : (t->kind == D ? 0755 : 0644));
		archive_entry_set_uid(e, t->uid);
		archive_entry_set_gid(e, t->gid);
		archive_entry_set_mtime(e, 1000000000, 0);
		if (t->kind == L)
			archive_entry_set_symlink(e, t->data);
		if (t->kind == H)
			archive_entry_set_hardlink(e, t->data);
		if (t->kind == C)
			archive_entry_set_rdev(e, makedev(1, 3));
		if (t->xattr) {
			const char *eq = strchr(t->xattr, '=');
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)(eq - t->xattr), t->xattr);
			archive_entry_xattr_add_entry(e, name, eq + 1, strlen(eq + 1));
		}
		if (t->kind == F)
			archive_entry_set_size(e, (la_int64_t)strlen(t->data));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (t->kind == F)
			archive_write_data(a, t->data, strlen(t->data));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	if (truncate_to)
		used /= 2;
	assert_int_equal(write(fd, buf, used), (ssize_t)used);
	lseek(fd, 0, SEEK_SET);
	free(buf);
	return fd;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	char p[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-test-layer.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(p, sizeof(p), "%s/layer", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/canary", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/layer", f->dir);
	f->layerfd = open(p, O_RDONLY | O_DIRECTORY);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	int fd = open("/", O_RDONLY | O_DIRECTORY);

	close(f->layerfd);
	img_rm_rf_at(fd, f->dir + 1);
	close(fd);
	free(f);
	return 0;
}

static int unpack(struct fix *f, const struct ent *ents, size_t n, int trunc, struct err *e)
{
	int fd = make_tar(ents, n, trunc);
	int r = img_layer_unpack(fd, f->layerfd, e);

	close(fd);
	return r;
}

static char *slurp(struct fix *f, const char *rel)
{
	static char buf[256];
	int fd = openat(f->layerfd, rel, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static int count_entries(const char *dir)
{
	char cmd[160];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find %s -mindepth 1 | wc -l", dir);
	p = popen(cmd, "r");
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

static void test_regular_layer(void **state)
{
	struct fix *f = *state;
	const struct ent ents[] = {
		{ D, "./", NULL, 0755 },
		{ D, "etc/", NULL, 0750, 0, 42 },
		{ F, "etc/hostname", "box\n", 0640, 1000, 1001, "user.note=hi" },
		{ F, "./bin/tool", "#!x", 04755, 0, 0 },
		{ L, "bin/sh", "busybox" },
		{ L, "bin/abs", "/etc/hostname" },
		{ H, "etc/hostname2", "etc/hostname" },
		{ C, "dev/null", NULL, 0666 },
		{ X, "run/fifo", NULL, 0600 },
		{ F, "dup", "first" },
		{ F, "dup", "second" },
		{ F, "evil-xattr", "x", 0644, 0, 0, "trusted.overlay.redirect=/etc" },
	};
	struct err e = ERR_INIT;
	struct stat st, st2;
	char buf[64];

	assert_int_equal(unpack(f, ents, sizeof(ents) / sizeof(ents[0]), 0, &e), 0);
	assert_string_equal(slurp(f, "etc/hostname"), "box\n");
	assert_int_equal(fstatat(f->layerfd, "etc/hostname", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1001);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	assert_int_equal(fstatat(f->layerfd, "etc/hostname2", &st2, 0), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_int_equal(fstatat(f->layerfd, "etc", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_gid, 42);
	assert_int_equal(fstatat(f->layerfd, "bin/tool", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(readlinkat(f->layerfd, "bin/sh", buf, sizeof(buf)), 7);
	assert_int_equal(fstatat(f->layerfd, "dev/null", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_int_equal(fstatat(f->layerfd, "run/fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_string_equal(slurp(f, "dup"), "second");
	{
		char path[128], val[16];

		snprintf(path, sizeof(path), "%s/layer/etc/hostname", f->dir);
		assert_int_equal(getxattr(path, "user.note", val, sizeof(val)), 2);
		snprintf(path, sizeof(path), "%s/layer/evil-xattr", f->dir);
		assert_int_equal(getxattr(path, "trusted.overlay.redirect", val, sizeof(val)), -1);
	}
}

static void test_whiteouts(void **state)
{
	struct fix *f = *state;
	const struct ent ents[] = {
		{ D, "usr/", NULL },
		{ F, "usr/.wh..wh..opq", "" },
		{ F, "usr/new", "n" },
		{ F, "etc/.wh.passwd", "" },
		{ F, ".wh.gone", "" },
	};
	struct err e = ERR_INIT;
	struct stat st;
	char path[128], val[4];

	assert_int_equal(unpack(f, ents, sizeof(ents) / sizeof(ents[0]), 0, &e), 0);
	assert_int_equal(fstatat(f->layerfd, "etc/passwd", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	assert_int_equal(fstatat(f->layerfd, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(fstatat(f->layerfd, "etc/.wh.passwd", &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(fstatat(f->layerfd, "usr/.wh..wh..opq", &st, AT_SYMLINK_NOFOLLOW), -1);
	snprintf(path, sizeof(path), "%s/layer/usr", f->dir);
	assert_int_equal(getxattr(path, "trusted.overlay.opaque", val, sizeof(val)), 1);
	assert_int_equal(val[0], 'y');
	assert_string_equal(slurp(f, "usr/new"), "n");
}

/* Each hostile layer must fail with a clear error and leave the canary
 * directory (a sibling of the layer) untouched. */
static void test_hostile(void **state)
{
	struct fix *f = *state;
	char canary[96], target[160];
	const struct ent dotdot[] = { { F, "../canary/passwd", "pwned" } };
	const struct ent deep[] = { { F, "a/b/../../../canary/x", "pwned" } };
	const struct ent absolute[] = { { F, "/tmp/berth-abs-escape", "pwned" } };
	struct ent symlink_escape[] = { { L, "evil", NULL }, { F, "evil/passwd", "pwned" } };
	const struct ent symlink_rel[] = { { L, "up", ".." }, { F, "up/canary/x", "pwned" } };
	const struct ent hardlink_out[] = { { H, "h", "../canary/secret" } };
	const struct ent wh_dotdot[] = { { F, "etc/.wh...", "" } };
	struct {
		const char *name;
		const struct ent *ents;
		size_t n;
		const char *msg;
	} cases[] = {
		{ "dotdot", dotdot, 1, "'..'" },
		{ "deep dotdot", deep, 1, "'..'" },
		{ "absolute", absolute, 1, "absolute name" },
		{ "symlink escape", symlink_escape, 2, "symlink" },
		{ "relative symlink", symlink_rel, 2, "symlink" },
		{ "hardlink out", hardlink_out, 1, "'..'" },
		{ "whiteout of ..", wh_dotdot, 1, "refusing" },
	};

	snprintf(canary, sizeof(canary), "%s/canary", f->dir);
	snprintf(target, sizeof(target), "%s", canary);
	symlink_escape[0].data = target;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = ERR_INIT;

		print_message("# %s\n", cases[i].name);
		assert_true(unpack(f, cases[i].ents, cases[i].n, 0, &e) < 0);
		print_message("#   %s\n", e.msg);
		assert_non_null(strstr(e.msg, cases[i].msg));
		assert_int_equal(count_entries(canary), 0);
		assert_int_equal(access("/tmp/berth-abs-escape", F_OK), -1);
	}
}

static void test_truncated(void **state)
{
	struct fix *f = *state;
	char big[8192];
	struct ent ents[] = { { F, "big", big } };
	struct err e = ERR_INIT;

	srand(7);
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + rand() % 26);   /* not too compressible */
	big[sizeof(big) - 1] = '\0';
	assert_true(unpack(f, ents, 1, 1, &e) < 0);
	print_message("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "unpack layer"));
}

static void test_zstd(void **state)
{
	struct fix *f = *state;
	const struct ent ents[] = { { F, "z/file", "zstd data" }, { F, "z/.wh.old", "" } };
	struct err e = ERR_INIT;
	struct stat st;

	use_zstd = 1;
	assert_int_equal(unpack(f, ents, 2, 0, &e), 0);
	use_zstd = 0;
	assert_string_equal(slurp(f, "z/file"), "zstd data");
	assert_int_equal(fstatat(f->layerfd, "z/old", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
}

/* Replacing a directory created earlier in the same layer: by a file, and
 * by a whiteout.  The parent directory stays open across the removal. */
static void test_replace_dir_same_layer(void **state)
{
	struct fix *f = *state;
	const struct ent by_file[] = {
		{ D, "a/" }, { D, "a/b/" }, { F, "a/b/f", "x" }, { F, "a/b", "now a file" },
		{ F, "a/after", "y" },
	};
	const struct ent by_whiteout[] = {
		{ D, "c/" }, { D, "c/d/" }, { F, "c/d/f", "x" }, { F, "c/.wh.d", "" },
		{ F, "c/after", "y" },
	};
	struct err e = ERR_INIT;
	struct stat st;

	assert_int_equal(unpack(f, by_file, ARRAY_SIZE(by_file), 0, &e), 0);
	assert_string_equal(slurp(f, "a/b"), "now a file");
	assert_string_equal(slurp(f, "a/after"), "y");
	assert_int_equal(unpack(f, by_whiteout, ARRAY_SIZE(by_whiteout), 0, &e), 0);
	assert_int_equal(fstatat(f->layerfd, "c/d", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	assert_string_equal(slurp(f, "c/after"), "y");
}

/* A layer nested as deep as PATH_MAX allows unpacks and is removed again
 * with only 64 descriptors allowed. */
static void test_deep_layer(void **state)
{
	struct fix *f = *state;
	static char deep[PATH_MAX];
	struct ent ents[] = { { F, deep, "bottom" } };
	struct err e = ERR_INIT;
	struct rlimit old, low;
	char path[128];
	int fd, r, r2;
	size_t k = 0;

	while (k + 2 < PATH_MAX - 16) {
		deep[k++] = 'd';
		deep[k++] = '/';
	}
	memcpy(deep + k, "f", 2);
	fd = make_tar(ents, 1, 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	r = img_layer_unpack(fd, f->layerfd, &e);
	r2 = img_rm_rf_at(f->layerfd, "d");
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	close(fd);
	assert_int_equal(r, 0);
	assert_int_equal(r2, 0);
	snprintf(path, sizeof(path), "%s/layer", f->dir);
	assert_int_equal(count_entries(path), 0);
}

/* A gzip'd tar of NFILES files of SIZE zero bytes each, written straight
 * to a memfd: a few KiB that unpack to NFILES * SIZE. */
static int make_bomb(int nfiles, size_t size)
{
	static const char zeros[65536];
	struct archive *a = archive_write_new();
	int fd = memfd_create("bomb", MFD_CLOEXEC);

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
	for (int i = 0; i < nfiles; i++) {
		struct archive_entry *e = archive_entry_new();
		char name[32];

		snprintf(name, sizeof(name), "zero%04d", i);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)size);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		for (size_t done = 0; done < size; done += sizeof(zeros))
			archive_write_data(a, zeros, size - done < sizeof(zeros) ? size - done : sizeof(zeros));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Bytes of data now under the layer directory. */
static long long layer_bytes(struct fix *f)
{
	char cmd[160];
	FILE *p;
	long long n = -1;

	snprintf(cmd, sizeof(cmd), "find %s/layer -type f -printf '%%s\\n' | awk '{s+=$1} END {print s+0}'", f->dir);
	p = popen(cmd, "r");
	if (fscanf(p, "%lld", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

static void empty_layer(struct fix *f)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/layer/*", f->dir);
	assert_int_equal(system(cmd), 0);
}

static int unpack_bomb(struct fix *f, int nfiles, size_t size, struct err *e)
{
	int fd = make_bomb(nfiles, size), r;
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size < 1 << 20);   /* small on the wire */
	r = img_layer_unpack(fd, f->layerfd, e);
	close(fd);
	return r;
}

/* Decompression bombs: the unpacked bytes and the entries are capped
 * (BERTH_IMAGE_MAX_UNPACKED, BERTH_IMAGE_MAX_ENTRIES); the layer never
 * holds more than the cap. */
static void test_bomb(void **state)
{
	struct fix *f = *state;
	struct err e = ERR_INIT;

	setenv("BERTH_IMAGE_MAX_UNPACKED", "1M", 1);
	/* One 64 MiB file: refused before any of it is written. */
	assert_int_equal(unpack_bomb(f, 1, 64 << 20, &e), -EFBIG);
	print_message("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "BERTH_IMAGE_MAX_UNPACKED"));
	assert_int_equal(layer_bytes(f), 0);
	err_clear(&e);
	/* Forty 64 KiB files: stops at the one that crosses 1 MiB. */
	assert_int_equal(unpack_bomb(f, 40, 64 << 10, &e), -EFBIG);
	assert_non_null(strstr(e.msg, "zero0016"));
	assert_true(layer_bytes(f) <= 1 << 20);
	err_clear(&e);
	/* Exactly at the cap is fine. */
	empty_layer(f);
	assert_int_equal(unpack_bomb(f, 16, 64 << 10, &e), 0);
	assert_int_equal(layer_bytes(f), 1 << 20);

	empty_layer(f);
	setenv("BERTH_IMAGE_MAX_UNPACKED", "1G", 1);
	setenv("BERTH_IMAGE_MAX_ENTRIES", "100", 1);
	assert_int_equal(unpack_bomb(f, 200, 0, &e), -EFBIG);
	print_message("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "more than 100 entries"));
	assert_true(count_entries(f->dir) <= 100 + 2);   /* + layer/, canary/ */
	err_clear(&e);

	setenv("BERTH_IMAGE_MAX_UNPACKED", "lots", 1);
	assert_int_equal(unpack_bomb(f, 1, 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "BERTH_IMAGE_MAX_UNPACKED='lots'"));
	err_clear(&e);
	setenv("BERTH_IMAGE_MAX_UNPACKED", "99999999999T", 1);
	assert_int_equal(unpack_bomb(f, 1, 0, &e), -EINVAL);
	unsetenv("BERTH_IMAGE_MAX_UNPACKED");
	unsetenv("BERTH_IMAGE_MAX_ENTRIES");
}

/* Without a cap set, the free space of the filesystem is the cap: on an
 * 8 MiB tmpfs (in a private mount namespace) 16 MiB of zeros are refused
 * at the file that would leave less than the margin free. */
static void test_bomb_free_space(void **state)
{
	struct fix *f = *state;
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct err e = ERR_INIT;
		char mnt[96];
		int fd, r;

		snprintf(mnt, sizeof(mnt), "%s/canary", f->dir);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", mnt, "tmpfs", 0, "size=8m") < 0)
			_exit(2);
		fd = open(mnt, O_RDONLY | O_DIRECTORY);
		unsetenv("BERTH_IMAGE_MAX_UNPACKED");
		{
			int bomb = make_bomb(16, 1 << 20);

			r = img_layer_unpack(bomb, fd, &e);
			close(bomb);
		}
		printf("# %s\n", e.msg);
		fflush(stdout);
		_exit(r == -EFBIG && strstr(e.msg, "zero0007") && strstr(e.msg, "free on the image store") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regular_layer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zstd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_dir_same_layer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_layer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bomb_free_space, setup, teardown),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP layer tests need root\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
