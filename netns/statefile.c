/* netns/statefile.c - locked, atomically replaced state files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "netns/statefile.h"

#define STATEFILE_MAX (16u << 20)

static int open_dir(const char *state_dir, int *ret)
{
	_cleanup_close_ int base = -1;
	int fd;

	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	base = open(state_dir, O_DIRECTORY | O_CLOEXEC | O_RDONLY);
	if (base < 0)
		return -errno;
	if (mkdirat(base, "netns", 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(base, "netns", O_DIRECTORY | O_CLOEXEC | O_RDONLY);
	if (fd < 0)
		return -errno;
	*ret = fd;
	return 0;
}

int statefile_lock(const char *state_dir, const char *name, struct statefile *ret)
{
	struct statefile sf = STATEFILE_INIT;
	char lock[80];
	int r;

	if (!name[0] || strlen(name) >= sizeof(sf.name) || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	strcpy(sf.name, name);
	r = open_dir(state_dir, &sf.dirfd);
	if (r < 0)
		return r;
	snprintf(lock, sizeof(lock), "%s.lock", name);
	sf.lockfd = openat(sf.dirfd, lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sf.lockfd < 0 || flock(sf.lockfd, LOCK_EX) < 0) {
		r = -errno;
		statefile_unlock(&sf);
		return r;
	}
	*ret = sf;
	return 0;
}

void statefile_unlock(struct statefile *sf)
{
	if (sf->lockfd >= 0)
		close(sf->lockfd);
	if (sf->dirfd >= 0)
		close(sf->dirfd);
	sf->lockfd = sf->dirfd = -1;
}

int statefile_read(struct statefile *sf, char **ret)
{
	char path[96];
	int r;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", sf->dirfd, sf->name);
	r = read_file_alloc(path, STATEFILE_MAX, ret, NULL);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	return r;
}

int statefile_write(struct statefile *sf, const char *text)
{
	_cleanup_close_ int fd = -1;
	char tmp[80];
	size_t len = strlen(text);
	int r;

	snprintf(tmp, sizeof(tmp), "%s.tmp", sf->name);
	fd = openat(sf->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		r = errno ? -errno : -EIO;
		unlinkat(sf->dirfd, tmp, 0);
		return r;
	}
	if (renameat(sf->dirfd, tmp, sf->dirfd, sf->name) < 0)
		return -errno;
	return 0;
}
