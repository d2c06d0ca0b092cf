/* cgroup/cgroup.c - berth's cgroups: create, limit, OOM events, kill, remove. */
#include "cgroup/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"

/* ---- pure conversions ---- */

int cg_cpu_units_to_weight(uint64_t units, uint64_t *ret_weight)
{
	/* ECS: 0/1/unset -> 2 shares; above 262144 clamped (ECS-REFERENCE 1.2). */
	if (units < 2)
		units = 2;
	if (units > 262144)
		units = 262144;
	*ret_weight = 1 + ((units - 2) * 9999) / 262142;
	return 0;
}

int cg_cpu_units_to_quota(uint64_t units, uint64_t period_us, uint64_t *ret_quota_us)
{
	uint64_t q;

	if (period_us == 0)
		period_us = CG_DEFAULT_CPU_PERIOD_US;
	if (units == 0 || period_us < 1000 || period_us > 1000000 || units > (UINT64_MAX / period_us))
		return -ERANGE;
	q = units * period_us / 1024;
	if (q < 1000)
		q = 1000; /* the kernel refuses quotas below 1 ms */
	*ret_quota_us = q;
	return 0;
}

int cg_format_cpu_max(const struct cg_limits *l, char *buf, size_t size)
{
	uint64_t period = l->cpu_period_us ? l->cpu_period_us : CG_DEFAULT_CPU_PERIOD_US;
	int n;

	if (l->cpu_quota_us)
		n = snprintf(buf, size, "%" PRIu64 " %" PRIu64, l->cpu_quota_us, period);
	else
		n = snprintf(buf, size, "max %" PRIu64, period);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return 0;
}

int cg_parse_oom_kills(const char *text, uint64_t *ret)
{
	const char *p = text;

	*ret = 0;
	while (*p) {
		size_t len = strcspn(p, "\n");

		if (len > 9 && strncmp(p, "oom_kill ", 9) == 0) {
			char num[32];

			if (len - 9 >= sizeof(num))
				return -EINVAL;
			memcpy(num, p + 9, len - 9);
			num[len - 9] = '\0';
			return parse_u64(num, ret);
		}
		p += len + (p[len] ? 1 : 0);
	}
	return 0;
}

/* ---- create ---- */

/* A path component we are willing to mkdir: no "", ".", ".." or '/'. */
static bool component_ok(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	return memchr(s, '/', n) == NULL && memchr(s, '\n', n) == NULL;
}

/* Enables in DIRFD's subtree_control the wanted controllers that DIRFD
 * offers and that are not yet enabled.  One write, or none; nothing read
 * when nothing is wanted, and cgroup.controllers only when something
 * wanted is not on yet (every start walks the same parents). */
static int enable_controllers(int dirfd, const struct cg_host *host)
{
	static const char *const names[] = { "cpu", "memory", "pids" };
	const bool want[] = { host->has_cpu, host->has_memory, host->has_pids };
	char avail[512], enabled[512], req[64] = "";
	size_t len = 0;
	struct cg_host a = { 0 }, en = { 0 };
	bool missing = false;
	int r;

	if (!want[0] && !want[1] && !want[2])
		return 0;
	r = read_file_at(dirfd, "cgroup.subtree_control", enabled, sizeof(enabled), NULL);
	if (r < 0)
		return r;
	cg_parse_controllers(enabled, &en);
	const bool on[] = { en.has_cpu, en.has_memory, en.has_pids };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		missing |= want[i] && !on[i];
	if (!missing)
		return 0;
	r = read_file_at(dirfd, "cgroup.controllers", avail, sizeof(avail), NULL);
	if (r < 0)
		return r;
	cg_parse_controllers(avail, &a);
	const bool has[] = { a.has_cpu, a.has_memory, a.has_pids };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (want[i] && has[i] && !on[i])
			len += (size_t)snprintf(req + len, sizeof(req) - len, "%s+%s",
						len ? " " : "", names[i]);
	if (len == 0)
		return 0;
	return write_file_at(dirfd, "cgroup.subtree_control", req, len);
}

/* Every component of a relative path is one we may mkdir. */
static bool rel_path_ok(const char *rel)
{
	const char *p = rel;

	if (rel[0] == '/' || rel[0] == '\0')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (!component_ok(p, n))
			return false;
		p += n;
		if (*p == '/' && *++p == '\0')
			return false; /* trailing slash: an empty last component */
	}
	return true;
}

/* What ensure_parent did, so a failure can undo exactly that: directories
 * were created from the component ending at CREATED_FROM (0: none) down to
 * the one ending at REACHED (offsets into the relative path). */
struct parent_walk {
	size_t created_from;
	size_t reached;
};

/* Walks PARENT_REL below MOUNT_FD, creating missing directories and enabling
 * controllers on the way. */
static int ensure_parent(int mount_fd, const struct cg_host *host, const char *parent_rel,
			 int *ret_fd, struct parent_walk *w)
{
	_cleanup_close_ int cur = fcntl(mount_fd, F_DUPFD_CLOEXEC, 3);
	const char *p = parent_rel;
	int r;

	if (cur < 0)
		return -errno;
	while (*p) {
		size_t n = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		int next;

		memcpy(comp, p, n);
		comp[n] = '\0';
		r = enable_controllers(cur, host);
		if (r < 0)
			return r;
		if (mkdirat(cur, comp, 0755) == 0) {
			if (!w->created_from)
				w->created_from = (size_t)(p + n - parent_rel);
		} else if (errno != EEXIST) {
			return -errno;
		}
		w->reached = (size_t)(p + n - parent_rel);
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			return -errno;
		close(cur);
		cur = next;
		p += n;
		p += strspn(p, "/");
	}
	r = enable_controllers(cur, host);
	if (r < 0)
		return r;
	*ret_fd = take_fd(&cur);
	return 0;
}

/* Removes the directories ensure_parent created, deepest first.  Best
 * effort: another container may have started using them meanwhile. */
static void undo_parent(int mount_fd, const char *parent_rel, const struct parent_walk *w)
{
	char path[PATH_MAX];

	if (!w->created_from || w->reached >= sizeof(path))
		return;
	memcpy(path, parent_rel, w->reached);
	path[w->reached] = '\0';
	while (strlen(path) >= w->created_from) {
		char *slash;

		(void)unlinkat(mount_fd, path, AT_REMOVEDIR); /* EBUSY/ENOTEMPTY: in use */
		slash = strrchr(path, '/');
		if (!slash)
			break;
		while (slash > path && slash[-1] == '/')
			slash--;
		*slash = '\0';
	}
}

int cg_create(const struct cg_host *host, const char *parent_rel, const char *name,
	      struct cg *ret)
{
	_cleanup_close_ int mount_fd = -1, parent_fd = -1, fd = -1;
	struct parent_walk walk = { 0 };
	int r;

	if (!component_ok(name, strlen(name)) || !rel_path_ok(parent_rel))
		return -EINVAL;
	if (snprintf(ret->path, sizeof(ret->path), "%s/%s/%s", host->mount, parent_rel, name) >=
	    (int)sizeof(ret->path))
		return -ENAMETOOLONG;
	mount_fd = open(host->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mount_fd < 0)
		return -errno;
	r = ensure_parent(mount_fd, host, parent_rel, &parent_fd, &walk);
	if (r < 0)
		goto undo_parent;
	if (mkdirat(parent_fd, name, 0755) < 0) {
		r = -errno;
		goto undo_parent;
	}
	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto undo_child;
	}
	ret->fd = take_fd(&fd);
	return 0;

undo_child:
	(void)unlinkat(parent_fd, name, AT_REMOVEDIR); /* r keeps the first error */
undo_parent:
	undo_parent(mount_fd, parent_rel, &walk);
	ret->path[0] = '\0';
	return r;
}

/* ---- limits ---- */

enum cg_ctrl { CTRL_CPU, CTRL_MEMORY, CTRL_PIDS };

static bool host_has(const struct cg_host *h, enum cg_ctrl c)
{
	const bool has[] = { [CTRL_CPU] = h->has_cpu, [CTRL_MEMORY] = h->has_memory,
			     [CTRL_PIDS] = h->has_pids };
	return has[c];
}

static int write_u64_at(int dirfd, const char *file, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	return write_file_at(dirfd, file, buf, (size_t)n);
}

int cg_apply_limits(const struct cg_host *host, const struct cg *cg,
		    const struct cg_limits *l, bool skip_missing)
{
	const struct {
		enum cg_ctrl ctrl;
		const char *file;
		bool set;
		uint64_t value;
	} writes[] = {
		{ CTRL_CPU, "cpu.weight", l->cpu_weight != 0, l->cpu_weight },
		{ CTRL_CPU, "cpu.max", l->cpu_quota_us != 0, 0 },
		{ CTRL_MEMORY, "memory.low", l->memory_low != 0, l->memory_low },
		{ CTRL_MEMORY, "memory.max", l->memory_max != 0, l->memory_max },
		{ CTRL_MEMORY, "memory.swap.max", l->swap_set, l->swap_max },
		{ CTRL_PIDS, "pids.max", l->pids_max != 0, l->pids_max },
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(writes); i++) {
		if (!writes[i].set)
			continue;
		if (!host_has(host, writes[i].ctrl)) {
			if (skip_missing)
				continue;
			return -EOPNOTSUPP;
		}
		if (strcmp(writes[i].file, "cpu.max") == 0) {
			char buf[64];

			r = cg_format_cpu_max(l, buf, sizeof(buf));
			if (r == 0)
				r = write_file_at(cg->fd, "cpu.max", buf, strlen(buf));
		} else {
			r = write_u64_at(cg->fd, writes[i].file, writes[i].value);
		}
		/* No memory.swap.max: the kernel does not account swap at all. */
		if (r == -ENOENT && strcmp(writes[i].file, "memory.swap.max") == 0)
			continue;
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- events, kill, remove ---- */

int cg_read_oom_kills(const struct cg *cg, uint64_t *ret)
{
	char buf[1024];
	int r;

	r = read_file_at(cg->fd, "memory.events", buf, sizeof(buf), NULL);
	if (r == -ENOENT) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return r;
	return cg_parse_oom_kills(buf, ret);
}

/* Sends SIGKILL to every pid listed in cgroup.procs; *RET_ANY says whether
 * the list was non-empty. */
static int kill_listed(int fd, bool *ret_any)
{
	char buf[16384];
	const char *p = buf;
	int r;

	*ret_any = false;
	r = read_file_at(fd, "cgroup.procs", buf, sizeof(buf), NULL);
	if (r < 0 && r != -EFBIG)
		return r;
	while (*p) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0) {
			*ret_any = true;
			(void)kill((pid_t)pid, SIGKILL); /* ESRCH: already gone */
		}
		p = end + strspn(end, "\n");
	}
	return 0;
}

int cg_kill_all(const struct cg *cg)
{
	bool use_kill_file = true;
	int r;

	for (int round = 0; round < 2000; round++) {
		bool any;

		if (use_kill_file) {
			r = write_file_at(cg->fd, "cgroup.kill", "1", 1);
			if (r == -ENOENT)
				use_kill_file = false; /* kernel < 5.14 */
			else if (r < 0)
				return r;
		}
		if (use_kill_file) {
			char buf[64];

			/* Only empty or not matters: more than fits is "not". */
			r = read_file_at(cg->fd, "cgroup.procs", buf, sizeof(buf), NULL);
			if (r < 0 && r != -EFBIG)
				return r;
			any = r == -EFBIG || buf[0] != '\0';
		} else {
			r = kill_listed(cg->fd, &any);
			if (r < 0)
				return r;
		}
		if (!any)
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return -EBUSY;
}

int cg_remove(struct cg *cg)
{
	int r = 0;

	if (cg->path[0]) {
		/* A task that was just reaped can keep the cgroup busy briefly. */
		for (int i = 0; i < 1000; i++) {
			if (rmdir(cg->path) == 0 || errno == ENOENT) {
				r = 0;
				break;
			}
			r = -errno;
			if (r != -EBUSY)
				break;
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		}
		if (r == 0)
			cg->path[0] = '\0';
	}
	cg_release(cg);
	return r;
}

void cg_release(struct cg *cg)
{
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
}
