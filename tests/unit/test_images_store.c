/* tests/unit/test_images_store.c - blob verification, names, user records
 * and name escaping of the image store, on a temporary state dir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/store.h"
#include "lib/err.h"

/* sha256("hello") */
#define HELLO "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

struct fix {
	char dir[64];
	struct img_store *s;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct err e = ERR_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-test-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->s = img_store_open(f->dir, &e);
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	int fd = open("/", O_RDONLY | O_DIRECTORY);

	img_store_free(f->s);
	assert_int_equal(img_rm_rf_at(fd, f->dir + 1), 0);
	close(fd);
	free(f);
	return 0;
}

static int count_dir(struct fix *f, const char *sub)
{
	char p[128];
	DIR *d;
	int n = 0;

	snprintf(p, sizeof(p), "%s/images/%s", f->dir, sub);
	d = opendir(p);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_blobs(void **state)
{
	struct fix *f = *state;
	struct err e = ERR_INIT;
	char digest[IMG_DIGEST_MAX], *buf = NULL;
	size_t len;

	assert_int_equal(img_blob_put_mem(f->s, "hellO", 5, HELLO, NULL, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "digest mismatch"));
	assert_false(img_blob_exists(f->s, HELLO));
	assert_int_equal(count_dir(f, "tmp"), 0);
	assert_int_equal(count_dir(f, "blobs/sha256"), 0);
	assert_int_equal(img_blob_put_mem(f->s, "hello", 5, HELLO, digest, &e), 0);
	assert_string_equal(digest, HELLO);
	assert_true(img_blob_exists(f->s, HELLO));
	assert_int_equal(img_blob_read(f->s, HELLO, 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	assert_int_equal(img_blob_open(f->s, "sha256:../../../etc/passwd"), -EINVAL);
	assert_false(img_blob_exists(f->s, "sha256:../tags"));
	{
		int fds[2];
		struct err e2 = ERR_INIT;

		assert_int_equal(pipe(fds), 0);
		assert_int_equal(write(fds[1], "hel", 3), 3);
		close(fds[1]);
		assert_int_equal(img_blob_put_fd(f->s, fds[0], NULL, 5, NULL, &e2), -EBADMSG);
		assert_non_null(strstr(e2.msg, "size 3, expected 5"));
		close(fds[0]);
	}
	assert_int_equal(count_dir(f, "tmp"), 0);
}

static void test_names(void **state)
{
	struct fix *f = *state;
	char digest[IMG_DIGEST_MAX], buf[300];

	assert_int_equal(img_tag_set(f->s, "r.io:5000/a/b:v1", HELLO), 0);
	assert_int_equal(img_tag_get(f->s, "r.io:5000/a/b:v1", digest), 0);
	assert_string_equal(digest, HELLO);
	assert_int_equal(img_tag_get(f->s, "r.io:5000/a/b:v2", digest), -ENOENT);
	assert_int_equal(img_tag_set(f->s, "x", "sha256:nothex"), -EINVAL);
	assert_int_equal(img_tag_remove(f->s, "r.io:5000/a/b:v1"), 0);
	assert_int_equal(img_tag_get(f->s, "r.io:5000/a/b:v1", digest), -ENOENT);

	assert_int_equal(img_name_escape("a/b:c%d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a%2Fb%3Ac%25d");
	assert_int_equal(img_name_unescape(buf, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a/b:c%d");
	assert_int_equal(img_name_escape("..", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(img_name_escape(".", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(img_name_escape("", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(img_name_escape("../x", buf, sizeof(buf)), 0);
	assert_null(strchr(buf, '/'));
	assert_int_equal(img_name_escape("abcdef", buf, 4), -ENAMETOOLONG);
	assert_int_equal(img_name_unescape("%zz", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(img_name_unescape("%2", buf, sizeof(buf)), -EINVAL);
}

static void test_users(void **state)
{
	struct fix *f = *state;
	char live[128], gone[128], digest[IMG_DIGEST_MAX];

	snprintf(live, sizeof(live), "%s/live", f->dir);
	snprintf(gone, sizeof(gone), "%s/gone", f->dir);
	assert_int_equal(mkdir(live, 0700), 0);
	assert_int_equal(mkdir(gone, 0700), 0);
	assert_int_equal(img_user_add(f->s, live, HELLO), 0);
	assert_int_equal(img_user_add(f->s, gone, HELLO), 0);
	assert_int_equal(img_user_count(f->s, HELLO), 2);
	assert_int_equal(img_user_get(f->s, live, digest), 0);
	assert_string_equal(digest, HELLO);
	assert_int_equal(rmdir(gone), 0);
	/* The vanished container no longer counts, and its record is dropped. */
	assert_int_equal(img_user_count(f->s, HELLO), 1);
	assert_int_equal(count_dir(f, "users"), 1);
	assert_int_equal(img_user_remove(f->s, live), 0);
	assert_int_equal(img_user_count(f->s, NULL), 0);
	assert_int_equal(img_user_remove(f->s, live), -ENOENT);
}

/* The longest name a record holds (escaped: 246 bytes) round-trips; a
 * longer one is a clean -ENAMETOOLONG; neither leaves a temporary file. */
static void test_long_names(void **state)
{
	struct fix *f = *state;
	char name[601], esc[300], digest[IMG_DIGEST_MAX], dir[300];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "r.io/", 5);
	name[5 + 239] = '\0';                 /* "r.io%2F" + 239 = 246 escaped */
	assert_int_equal(img_name_escape(name, esc, sizeof(esc)), 0);
	assert_int_equal(strlen(esc), 246);
	assert_int_equal(img_tag_set(f->s, name, HELLO), 0);
	assert_int_equal(img_tag_get(f->s, name, digest), 0);
	assert_string_equal(digest, HELLO);
	assert_int_equal(count_dir(f, "tags"), 1);
	assert_int_equal(count_dir(f, "tmp"), 0);

	name[5 + 239] = 'a';                   /* the whole 600 bytes */
	assert_int_equal(img_tag_set(f->s, name, HELLO), -ENAMETOOLONG);
	assert_int_equal(img_tag_get(f->s, name, digest), -ENAMETOOLONG);
	assert_int_equal(count_dir(f, "tags"), 1);
	assert_int_equal(count_dir(f, "tmp"), 0);

	/* A user record for a container directory of 240 bytes. */
	snprintf(dir, sizeof(dir), "%s/", f->dir);
	memset(dir + strlen(dir), 'c', 240 - strlen(dir));
	dir[240] = '\0';
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(img_user_add(f->s, dir, HELLO), 0);
	assert_int_equal(img_user_count(f->s, HELLO), 1);
	assert_int_equal(img_user_remove(f->s, dir), 0);
	assert_int_equal(count_dir(f, "tmp"), 0);
}

/* Builds DEPTH nested directories "d" under DIR; each level also holds a
 * file, a sibling directory with a file, and a symlink to OUTSIDE. */
static void make_deep(const char *dir, int depth, const char *outside)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	for (int i = 0; i < depth; i++) {
		int next, ffd;

		assert_int_equal(mkdirat(fd, "s", 0700), 0);
		ffd = openat(fd, "s/f", O_WRONLY | O_CREAT, 0600);
		assert_true(ffd >= 0);
		close(ffd);
		ffd = openat(fd, "f", O_WRONLY | O_CREAT, 0600);
		assert_true(ffd >= 0);
		close(ffd);
		assert_int_equal(symlinkat(outside, fd, "l"), 0);
		assert_int_equal(mkdirat(fd, "d", 0700), 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
}

/* Removal holds a bounded number of descriptors, whatever the depth: with
 * only 64 allowed, a tree 3000 deep still goes entirely, and nothing is
 * followed through a symlink. */
static void test_rm_rf_deep(void **state)
{
	struct fix *f = *state;
	char deep[128], outside[128], keep[160];
	struct rlimit old, low;
	int dfd = open(f->dir, O_RDONLY | O_DIRECTORY), r;

	snprintf(deep, sizeof(deep), "%s/deep", f->dir);
	snprintf(outside, sizeof(outside), "%s/outside", f->dir);
	snprintf(keep, sizeof(keep), "%s/keep", outside);
	assert_int_equal(mkdir(deep, 0700), 0);
	assert_int_equal(mkdir(outside, 0700), 0);
	assert_int_equal(mkdir(keep, 0700), 0);
	make_deep(deep, 3000, outside);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	r = img_rm_rf_at(dfd, "deep");
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(r, 0);
	assert_int_equal(access(deep, F_OK), -1);
	assert_int_equal(access(keep, F_OK), 0);
	/* Plain files and missing names. */
	assert_int_equal(img_rm_rf_at(dfd, "deep"), 0);
	close(openat(dfd, "file", O_WRONLY | O_CREAT, 0600));
	assert_int_equal(img_rm_rf_at(dfd, "file"), 0);
	assert_int_equal(faccessat(dfd, "file", F_OK, 0), -1);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_rf_deep, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
