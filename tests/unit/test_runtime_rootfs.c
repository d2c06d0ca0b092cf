/* tests/unit/test_runtime_rootfs.c - lookups inside a rootfs from the host:
 * /etc/passwd and /etc/group parsing (hostile lines included), user specs,
 * and command resolution that symlinks cannot lead out of the rootfs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "runtime/rootfs.h"

static const char passwd[] =
	"# comment:x:5:5\n"
	"root:x:0:0:root:/root:/bin/sh\n"
	"\n"
	"broken:x:notanumber:0::/:\n"
	"short:x\n"
	"test:x:1000:1000:test user:/home/test:/bin/sh\n"
	"nobody:x:65534:65534:nobody:/nonexistent:/bin/false";  /* no final newline */

static const char group[] = "root:x:0:\nstaff:x:50:test\nbadgid:x:-1:\nnogroup:x:65534:\n";

static void test_passwd(void **state)
{
	uid_t uid;
	gid_t gid;

	(void)state;
	assert_int_equal(rt_passwd_by_name(passwd, "test", &uid, &gid), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 1000);
	assert_int_equal(rt_passwd_by_name(passwd, "nobody", &uid, &gid), 0);
	assert_int_equal(uid, 65534);
	assert_int_equal(rt_passwd_by_name(passwd, "tes", &uid, &gid), -ENOENT);
	assert_int_equal(rt_passwd_by_name(passwd, "testx", &uid, &gid), -ENOENT);
	assert_int_equal(rt_passwd_by_name(passwd, "broken", &uid, &gid), -EINVAL);
	assert_int_equal(rt_passwd_by_name(passwd, "short", &uid, &gid), -EINVAL);
	assert_int_equal(rt_passwd_by_name(passwd, "# comment", &uid, &gid), -ENOENT);
	assert_int_equal(rt_passwd_by_uid(passwd, 1000, &gid), 0);
	assert_int_equal(gid, 1000);
	assert_int_equal(rt_passwd_by_uid(passwd, 4242, &gid), -ENOENT);
	assert_int_equal(rt_passwd_by_name("", "root", &uid, &gid), -ENOENT);
	assert_int_equal(rt_passwd_by_name(":::::\n::\n:", "", &uid, &gid), -EINVAL);
}

static void test_group(void **state)
{
	gid_t gid;

	(void)state;
	assert_int_equal(rt_group_by_name(group, "staff", &gid), 0);
	assert_int_equal(gid, 50);
	assert_int_equal(rt_group_by_name(group, "badgid", &gid), -EINVAL);
	assert_int_equal(rt_group_by_name(group, "none", &gid), -ENOENT);
}

static void test_parse_id(void **state)
{
	unsigned v;

	(void)state;
	assert_int_equal(rt_parse_id("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rt_parse_id("4294967294", 10, &v), 0);
	assert_int_equal(rt_parse_id("4294967295", 10, &v), -EINVAL); /* (uid_t)-1 */
	assert_int_equal(rt_parse_id("99999999999", 11, &v), -EINVAL);
	assert_int_equal(rt_parse_id("", 0, &v), -EINVAL);
	assert_int_equal(rt_parse_id("-1", 2, &v), -EINVAL);
	assert_int_equal(rt_parse_id("1a", 2, &v), -EINVAL);
	assert_int_equal(rt_parse_id(" 1", 2, &v), -EINVAL);
}

/* ---- a fake rootfs ---- */

struct fake {
	char dir[64];
	int fd;
};

static void put(const struct fake *f, const char *path, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->dir, path);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(p, mode), 0);
}

static void sub(const struct fake *f, const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", f->dir, path);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/berth-rootfstest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	sub(f, "bin");
	sub(f, "etc");
	sub(f, "usr");
	sub(f, "usr/bin");
	put(f, "bin/busybox", "#!/bin/busybox\n", 0755);
	put(f, "bin/noexec", "data\n", 0644);
	put(f, "usr/bin/later", "x", 0755);
	put(f, "etc/passwd", passwd, 0644);
	put(f, "etc/group", group, 0644);
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->fd >= 0);
	/* absolute symlinks, as busybox applets are: they must resolve inside */
	assert_int_equal(symlinkat("/bin/busybox", f->fd, "bin/true"), 0);
	/* and ones that try to leave: /etc/shadow of the host must not count */
	assert_int_equal(symlinkat("../../../../../../bin/sh", f->fd, "bin/escape"), 0);
	assert_int_equal(symlinkat("/proc/self/exe", f->fd, "bin/magic"), 0);
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	close(f->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_resolve_command(void **state)
{
	struct fake *f = *state;
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	char out[PATH_MAX];

	assert_int_equal(rt_resolve_command(f->fd, "/bin/true", path, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/bin/true");
	assert_int_equal(rt_resolve_command(f->fd, "true", path, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/bin/true");
	assert_int_equal(rt_resolve_command(f->fd, "later", path, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/later");
	assert_int_equal(rt_resolve_command(f->fd, "busybox", path, "/", out, sizeof(out)), 0);
	assert_int_equal(rt_resolve_command(f->fd, "./busybox", path, "/bin", out, sizeof(out)), 0);
	assert_string_equal(out, "/bin/./busybox");
	assert_int_equal(rt_resolve_command(f->fd, "nope", path, "/", out, sizeof(out)), -ENOENT);
	assert_int_equal(rt_resolve_command(f->fd, "", path, "/", out, sizeof(out)), -ENOENT);
	assert_int_equal(rt_resolve_command(f->fd, "/bin/noexec", path, "/", out, sizeof(out)), -EACCES);
	assert_int_equal(rt_resolve_command(f->fd, "noexec", path, "/", out, sizeof(out)), -EACCES);
	assert_int_equal(rt_resolve_command(f->fd, "/etc", path, "/", out, sizeof(out)), -EACCES);
	/* "../../../bin/sh" stays inside: the rootfs has no /bin/sh */
	assert_int_equal(rt_resolve_command(f->fd, "/bin/escape", path, "/", out, sizeof(out)), -ENOENT);
	assert_int_equal(rt_resolve_command(f->fd, "/../../bin/sh", path, "/", out, sizeof(out)), -ENOENT);
	assert_true(rt_resolve_command(f->fd, "/bin/magic", path, "/", out, sizeof(out)) < 0);
	/* empty PATH entries mean the working directory */
	assert_int_equal(rt_resolve_command(f->fd, "busybox", ":/nowhere", "/bin", out, sizeof(out)), 0);
	assert_string_equal(out, "/bin/busybox");
	/* too long for the buffer */
	assert_int_equal(rt_resolve_command(f->fd, "/bin/true", path, "/", out, 5), -ENAMETOOLONG);
}

static void test_user_resolve(void **state)
{
	struct fake *f = *state;
	struct err e = ERR_INIT;
	uid_t uid;
	gid_t gid;

	assert_int_equal(rt_user_resolve(f->fd, "test", &uid, &gid, &e), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 1000);
	assert_int_equal(rt_user_resolve(f->fd, "test:staff", &uid, &gid, &e), 0);
	assert_int_equal(gid, 50);
	assert_int_equal(rt_user_resolve(f->fd, "1000", &uid, &gid, &e), 0);
	assert_int_equal(gid, 1000);  /* the passwd entry's group */
	assert_int_equal(rt_user_resolve(f->fd, "4242", &uid, &gid, &e), 0);
	assert_int_equal(uid, 4242);
	assert_int_equal(gid, 0);     /* not listed: group 0, as docker */
	assert_int_equal(rt_user_resolve(f->fd, "4242:77", &uid, &gid, &e), 0);
	assert_int_equal(gid, 77);
	assert_int_equal(rt_user_resolve(f->fd, "ghost", &uid, &gid, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "user 'ghost' not found"));
	assert_int_equal(rt_user_resolve(f->fd, "test:ghosts", &uid, &gid, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "group 'ghosts' not found"));
	assert_int_equal(rt_user_resolve(f->fd, "broken", &uid, &gid, &e), -EINVAL);
	assert_int_equal(rt_user_resolve(f->fd, "root:badgid", &uid, &gid, &e), -EINVAL);

	/* a rootfs without /etc/passwd: names fail clearly, ids work */
	assert_int_equal(unlinkat(f->fd, "etc/passwd", 0), 0);
	assert_int_equal(rt_user_resolve(f->fd, "test", &uid, &gid, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/etc/passwd"));
	assert_int_equal(rt_user_resolve(f->fd, "7", &uid, &gid, &e), 0);
	assert_int_equal(gid, 0);
	/* /etc/passwd pointing out of the rootfs is read inside it (absent) */
	assert_int_equal(symlinkat("/../../../../etc/hostname", f->fd, "etc/passwd"), 0);
	assert_int_equal(rt_user_resolve(f->fd, "root", &uid, &gid, &e), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passwd),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test_setup_teardown(test_resolve_command, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_user_resolve, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
