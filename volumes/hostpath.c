/* volumes/hostpath.c - host paths a task may reach: the BERTH_HOST_VOLUME_ROOTS
 * allow-list, and opening a path beneath the root it falls under, so that
 * no symlink (inside the root, or swapped in later) leads elsewhere.  Used
 * for host.sourcePath and for the device of driver mounts. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "volumes/internal.h"

const char *vol_host_root_of(const struct vol_cfg *c, const char *path)
{
	const char *best = NULL;

	if (!c->n_host_roots)
		return "/";
	for (size_t i = 0; i < c->n_host_roots; i++) {
		const char *root = c->host_roots[i];
		size_t n = strlen(root);

		if (strcmp(root, "/") == 0 ||
		    (strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/')))
			if (!best || strlen(best) < n)
				best = root;
	}
	return best;
}

/* PATH normalised into NORM and checked against the allow-list. */
static int host_check(const struct vol_cfg *c, const char *what, const char *path, char *norm,
		      size_t size, struct err *e)
{
	if (!path || vol_path_normalise(path, norm, size) < 0)
		return err_setx(e, -EINVAL, "%s '%s' must be an absolute path without '..'", what,
				path ? path : "");
	if (!vol_host_root_of(c, norm))
		return err_setx(e, -EPERM, "%s '%s' is outside BERTH_HOST_VOLUME_ROOTS", what, norm);
	return 0;
}

int vol_host_path_check(const struct vol_cfg *c, const char *path, struct err *e)
{
	char norm[PATH_MAX];

	return host_check(c, "sourcePath", path, norm, sizeof(norm), e);
}

int vol_host_open(const struct vol_cfg *c, const char *what, const char *path, bool create,
		  int *ret_fd, struct err *e)
{
	_cleanup_close_ int root_fd = -1;
	char norm[PATH_MAX];
	const char *root, *rel;
	int r;

	r = host_check(c, what, path, norm, sizeof(norm), e);
	if (r < 0)
		return r;
	root = vol_host_root_of(c, norm);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return err_set(e, -errno, "open host volume root '%s'", root);
	rel = norm + (strcmp(root, "/") ? strlen(root) : 0);
	if (!*rel)
		rel = "/";   /* the root itself */
	r = create ? vol_resolve_beneath(root_fd, rel, true, ret_fd) : vol_open_beneath(root_fd, rel, ret_fd);
	if (r == -EXDEV || r == -ELOOP)
		return err_setx(e, -EPERM, "%s '%s' leads outside '%s' through a symlink", what, path,
				root);
	if (r < 0)
		return err_set(e, r, "%s%s '%s'", create ? "create " : "", what, path);
	return 0;
}
