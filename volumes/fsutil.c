/* volumes/fsutil.c - users files, atomic writes, mkdir -p: the
 * filesystem chores of the volume store and task volumes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "lib/mkdir.h"
#include "volumes/internal.h"

#define USERS_MAX (1 << 20)

int vol_openat_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

int vol_write_atomic(int dirfd, const char *name, const char *buf, size_t len)
{
	char tmp[VOL_NAME_MAX + 16];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int r;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	r = n < 0 ? -errno : (size_t)n != len ? -EIO : fsync(fd) < 0 ? -errno : 0;
	if (r < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		(void)unlinkat(dirfd, tmp, 0);
		return r;
	}
	return 0;
}

int vol_users_read(int dirfd, char ***ret)
{
	_cleanup_close_ int fd = openat(dirfd, "users", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	char **v, *save = NULL;
	size_t n = 0, len = 0;
	ssize_t k;

	if (fd < 0 && errno != ENOENT)
		return -errno;
	buf = malloc(USERS_MAX + 1);
	if (!buf)
		return -ENOMEM;
	while (fd >= 0 && len < USERS_MAX && (k = read(fd, buf + len, USERS_MAX - len)) > 0)
		len += (size_t)k;
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	v = calloc(n + 2, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	for (char *tok = strtok_r(buf, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		v[n] = strdup(tok);
		if (!v[n++]) {
			vol_strv_free(v);
			return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

static int users_write(int dirfd, char **v, const char *skip, const char *add)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; v[i]; i++)
		if (!skip || strcmp(v[i], skip) != 0)
			fprintf(f, "%s\n", v[i]);
	if (add)
		fprintf(f, "%s\n", add);
	if (fclose(f) != 0)
		return -ENOMEM;
	return vol_write_atomic(dirfd, "users", buf ? buf : "", len);
}

int vol_users_add(int dirfd, const char *user)
{
	char **v = NULL;
	int r;

	if (!*user || strchr(user, '\n'))
		return -EINVAL;
	r = vol_users_read(dirfd, &v);
	if (r < 0)
		return r;
	for (size_t i = 0; v[i]; i++)
		if (strcmp(v[i], user) == 0) {
			vol_strv_free(v);
			return 0;
		}
	r = users_write(dirfd, v, NULL, user);
	vol_strv_free(v);
	return r;
}

int vol_users_remove(int dirfd, const char *user, size_t *ret_left)
{
	char **v = NULL;
	size_t left = 0;
	bool found = false;
	int r;

	r = vol_users_read(dirfd, &v);
	if (r < 0)
		return r;
	for (size_t i = 0; v[i]; i++) {
		if (strcmp(v[i], user) == 0)
			found = true;
		else
			left++;
	}
	r = found ? users_write(dirfd, v, user, NULL) : 0;
	vol_strv_free(v);
	if (r == 0 && ret_left)
		*ret_left = left;
	return r;
}

void vol_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int vol_mkdir_p(const char *path, mode_t mode)
{
	return path[0] == '/' ? mkdir_all(path, mode, mode) : -EINVAL;
}

DIR *vol_opendir_at(int fd)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (dfd < 0)
		return NULL;
	d = fdopendir(dfd);
	if (!d) {
		int saved = errno;

		close(dfd);
		errno = saved;
	}
	return d;
}

int vol_dir_empty(int fd)
{
	DIR *d = vol_opendir_at(fd);
	struct dirent *de;
	int r = 1;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			r = 0;
			break;
		}
	closedir(d);
	return r;
}
