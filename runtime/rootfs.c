/* runtime/rootfs.c - lookups inside a rootfs from the host. */
#include "runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"

int rt_open_in_root(int rootfs_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfs_fd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* 0 if PATH in the rootfs is an executable regular file. */
static int check_exec(int rootfs_fd, const char *path)
{
	_cleanup_close_ int fd = rt_open_in_root(rootfs_fd, path, O_PATH);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return -EACCES;
	return 0;
}

static int join(char *ret, size_t size, const char *dir, size_t dlen, const char *name)
{
	int n = snprintf(ret, size, "%.*s%s%s", (int)dlen, dir,
			 dlen && dir[dlen - 1] == '/' ? "" : "/", name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int rt_resolve_command(int rootfs_fd, const char *argv0, const char *search_path,
		       const char *workdir, char *ret, size_t size)
{
	const char *p = search_path;
	int r, first = -ENOENT;

	if (argv0[0] == '\0')
		return -ENOENT;
	if (strchr(argv0, '/')) {
		r = argv0[0] == '/' ? join(ret, size, "", 0, argv0 + 1)
				    : join(ret, size, workdir, strlen(workdir), argv0);
		return r < 0 ? r : check_exec(rootfs_fd, ret);
	}
	while (p && *p) {
		size_t n = strcspn(p, ":");

		/* An empty entry means the working directory, as in execvp. */
		r = n ? join(ret, size, p, n, argv0) : join(ret, size, workdir, strlen(workdir), argv0);
		if (r == 0) {
			r = check_exec(rootfs_fd, ret);
			if (r == 0)
				return 0;
			if (r == -EACCES)
				first = r; /* keep looking, but report "not executable" */
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return first;
}

int rt_parse_id(const char *s, size_t len, unsigned *ret)
{
	unsigned long v = 0;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v >= 4294967295UL) /* (uid_t)-1 means "unchanged" to setresuid */
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* Field I (0-based) of the colon-separated LINE (length LEN). */
static int field(const char *line, size_t len, int i, const char **ret, size_t *ret_len)
{
	const char *p = line, *end = line + len;

	for (; i > 0; i--) {
		p = memchr(p, ':', (size_t)(end - p));
		if (!p)
			return -EINVAL;
		p++;
	}
	*ret = p;
	const char *c = memchr(p, ':', (size_t)(end - p));
	*ret_len = c ? (size_t)(c - p) : (size_t)(end - p);
	return 0;
}

/* Calls MATCH for each line; stops at the first that returns non-zero. */
typedef int line_fn(const char *line, size_t len, void *data);
static int each_line(const char *text, line_fn *fn, void *data)
{
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, "\n");
		int r = len ? fn(p, len, data) : 0;

		if (r != 0)
			return r;
		p += len;
		if (*p == '\n')
			p++;
	}
	return -ENOENT;
}

struct lookup {
	const char *name;   /* match field 0 by name, or */
	unsigned id;        /* match field 2 by id when name is NULL */
	unsigned id_out, gid_out;
	bool passwd;
};

static int match_line(const char *line, size_t len, void *data)
{
	struct lookup *l = data;
	const char *f;
	size_t fl;
	unsigned id;

	if (line[0] == '#')
		return 0;
	if (l->name) {
		if (field(line, len, 0, &f, &fl) < 0 || fl != strlen(l->name) ||
		    memcmp(f, l->name, fl) != 0)
			return 0;
	}
	if (field(line, len, 2, &f, &fl) < 0 || rt_parse_id(f, fl, &id) < 0)
		return l->name ? -EINVAL : 0; /* the named entry is broken */
	if (!l->name && id != l->id)
		return 0;
	l->id_out = id;
	if (l->passwd) {
		if (field(line, len, 3, &f, &fl) < 0 || rt_parse_id(f, fl, &l->gid_out) < 0)
			return -EINVAL;
	}
	return 1;
}

int rt_passwd_by_name(const char *text, const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
	struct lookup l = { .name = name, .passwd = true };
	int r = each_line(text, match_line, &l);

	if (r < 0)
		return r;
	*ret_uid = l.id_out;
	*ret_gid = l.gid_out;
	return 0;
}

int rt_passwd_by_uid(const char *text, uid_t uid, gid_t *ret_gid)
{
	struct lookup l = { .id = uid, .passwd = true };
	int r = each_line(text, match_line, &l);

	if (r < 0)
		return r;
	*ret_gid = l.gid_out;
	return 0;
}

int rt_group_by_name(const char *text, const char *name, gid_t *ret_gid)
{
	struct lookup l = { .name = name };
	int r = each_line(text, match_line, &l);

	if (r < 0)
		return r;
	*ret_gid = l.id_out;
	return 0;
}

/* Reads the rootfs's /etc/FILE (max 1 MiB) into *RET. */
static int read_etc(int rootfs_fd, const char *file, char **ret)
{
	_cleanup_close_ int fd = rt_open_in_root(rootfs_fd, file, O_RDONLY);
	char path[64];
	int r;

	if (fd < 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = read_file_alloc(path, 1 << 20, ret, NULL);
	return r;
}

int rt_user_resolve(int rootfs_fd, const char *spec, uid_t *ret_uid, gid_t *ret_gid,
		    struct err *e)
{
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	char uname[256];
	unsigned uid, gid = 0;
	bool have_gid = false;
	int r;

	if (ulen >= sizeof(uname))
		return err_setx(e, -EINVAL, "user '%s': name too long", spec);
	memcpy(uname, spec, ulen);
	uname[ulen] = '\0';
	if (colon) {
		const char *g = colon + 1;

		if (rt_parse_id(g, strlen(g), &gid) < 0) {
			r = read_etc(rootfs_fd, "/etc/group", &group);
			if (r < 0)
				return err_set(e, r, "group '%s': read /etc/group in the rootfs", g);
			r = rt_group_by_name(group, g, &gid);
			if (r == -ENOENT)
				return err_setx(e, r, "group '%s' not found in the rootfs's /etc/group", g);
			if (r < 0)
				return err_setx(e, r, "group '%s': malformed /etc/group entry", g);
		}
		have_gid = true;
	}
	if (rt_parse_id(uname, ulen, &uid) == 0) {
		if (!have_gid) {
			/* numeric uid: its passwd group if listed, else 0 (as docker) */
			if (read_etc(rootfs_fd, "/etc/passwd", &passwd) < 0 ||
			    rt_passwd_by_uid(passwd, uid, &gid) < 0)
				gid = 0;
		}
	} else {
		gid_t pw_gid;

		r = read_etc(rootfs_fd, "/etc/passwd", &passwd);
		if (r < 0)
			return err_set(e, r, "user '%s': read /etc/passwd in the rootfs", uname);
		r = rt_passwd_by_name(passwd, uname, &uid, &pw_gid);
		if (r == -ENOENT)
			return err_setx(e, r, "user '%s' not found in the rootfs's /etc/passwd", uname);
		if (r < 0)
			return err_setx(e, r, "user '%s': malformed /etc/passwd entry", uname);
		if (!have_gid)
			gid = pw_gid;
	}
	*ret_uid = uid;
	*ret_gid = gid;
	return 0;
}
