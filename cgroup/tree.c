/* cgroup/tree.c - removing a whole cgroup subtree whose owner is gone (a
 * task whose shim was killed: nobody else will ever rmdir its cgroups). */
#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define TREE_DEPTH_MAX 8   /* task / container / whatever a container made */

static int remove_at(const char *path, unsigned depth)
{
	_cleanup_close_ int fd = -1;
	DIR *d;
	struct dirent *de;
	struct cg cg;
	int r = 0;

	if (depth > TREE_DEPTH_MAX)
		return -ELOOP;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 0));
	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		char child[PATH_MAX];

		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= (int)sizeof(child))
			r = -ENAMETOOLONG;
		else
			r = remove_at(child, depth + 1);
	}
	closedir(d);
	if (r < 0)
		return r;
	cg.fd = fd;
	snprintf(cg.path, sizeof(cg.path), "%s", path);
	r = cg_kill_all(&cg);
	if (r < 0)
		return r;
	return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
}

int cg_remove_tree(const struct cg_host *host, const char *rel)
{
	char path[PATH_MAX];

	if (!rel[0] || rel[0] == '/' || strstr(rel, ".."))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", host->mount, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return remove_at(path, 0);
}
