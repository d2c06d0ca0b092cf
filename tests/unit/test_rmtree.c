/* tests/unit/test_rmtree.c - rm_rf_at with RMTREE_SAME_MOUNT, as the volume
 * store and task volumes remove what a container wrote: any depth with few
 * descriptors, never through a symlink, never into what is mounted below
 * (root, own mount namespace: volumes_ns.h). */
#include "tests/unit/volumes_ns.h"

#include <sys/resource.h>

#include "lib/rmtree.h"

/* DEPTH nested "d" under DIR, each level with a file, a directory holding
 * a file, and a symlink to OUTSIDE. */
static void make_deep(const char *dir, int depth, const char *outside)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	CHECK(fd >= 0);
	for (int i = 0; i < depth; i++) {
		int next;

		CHECK(mkdirat(fd, "s", 0700) == 0);
		close(openat(fd, "s/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
		close(openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
		CHECK(symlinkat(outside, fd, "l") == 0);
		CHECK(mkdirat(fd, "d", 0700) == 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		CHECK(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
}

/* A container can nest directories far deeper than the open-file limit:
 * the tree still goes (the volumes' own recursive walk kept one stream a
 * level and stopped with EMFILE). */
static void t_deep(void)
{
	struct rlimit old, low;
	int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	sh("mkdir -p %s/v %s/outside/keep", base, base);
	make_deep(p("v"), 3000, p("outside"));
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = 64;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	r = rm_rf_at(dfd, "v", RMTREE_SAME_MOUNT);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	CHECK(r == 0);
	CHECK(access(p("v"), F_OK) < 0 && errno == ENOENT);
	CHECK(access(p("outside/keep"), F_OK) == 0);
	/* Missing names and plain files. */
	CHECK(rm_rf_at(dfd, "v", RMTREE_SAME_MOUNT) == 0);
	CHECK(put(p("file"), "x") == 0);
	CHECK(rm_rf_at(dfd, "file", RMTREE_SAME_MOUNT) == 0);
	CHECK(access(p("file"), F_OK) < 0);
	close(dfd);
}

/* A mount below (a directory's or a file's) stops removal with EBUSY and
 * what it holds is left alone; so is a tree that is itself a mount. */
static void t_mounts(void)
{
	int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	sh("mkdir -p %s/v/a/mnt %s/w %s/m && echo keep > %s/keepfile && touch %s/w/f", base, base,
	   base, base, base);
	CHECK(mount("tmpfs", p("v/a/mnt"), "tmpfs", 0, "size=1m") == 0);
	CHECK(put(p("v/a/mnt/inside"), "mine") == 0);
	CHECK(rm_rf_at(dfd, "v", RMTREE_SAME_MOUNT) == -EBUSY);
	CHECK(strcmp(slurp(p("v/a/mnt/inside")), "mine") == 0);
	CHECK(umount2(p("v/a/mnt"), MNT_DETACH) == 0);
	CHECK(rm_rf_at(dfd, "v", RMTREE_SAME_MOUNT) == 0);

	CHECK(mount(p("keepfile"), p("w/f"), NULL, MS_BIND, NULL) == 0);
	CHECK(rm_rf_at(dfd, "w", RMTREE_SAME_MOUNT) == -EBUSY);
	CHECK(strcmp(slurp(p("keepfile")), "keep\n") == 0);
	CHECK(umount2(p("w/f"), MNT_DETACH) == 0);

	CHECK(mount("tmpfs", p("m"), "tmpfs", 0, "size=1m") == 0);
	CHECK(put(p("m/inside"), "mine") == 0);
	CHECK(rm_rf_at(dfd, "m", RMTREE_SAME_MOUNT) == -EBUSY);
	CHECK(strcmp(slurp(p("m/inside")), "mine") == 0);
	CHECK(umount2(p("m"), MNT_DETACH) == 0);
	CHECK(count_mounts_under(base) == 0);
	close(dfd);
}

NS_TEST(deep)
NS_TEST(mounts)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_mounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
