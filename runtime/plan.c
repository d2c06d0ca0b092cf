/* runtime/plan.c - spec -> plan: every check and decision before clone. */
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/config.h"
#include "runtime/rootfs.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int rt_limits_from_spec(const struct rt_spec *s, struct cg_limits *ret)
{
	struct cg_limits l = { .pids_max = s->pids_max, .swap_set = true, .swap_max = 0 };
	int r;

	if (s->cpu_set) {
		r = cg_cpu_units_to_weight(s->cpu_units, &l.cpu_weight);
		if (r < 0)
			return r;
	}
	if (s->cpu_limit_units) {
		l.cpu_period_us = CG_DEFAULT_CPU_PERIOD_US;
		r = cg_cpu_units_to_quota(s->cpu_limit_units, l.cpu_period_us, &l.cpu_quota_us);
		if (r < 0)
			return r;
	}
	if (s->memory_mib > RT_MEMORY_MAX_MIB || s->memory_reservation_mib > RT_MEMORY_MAX_MIB)
		return -ERANGE;
	l.memory_max = s->memory_mib << 20;
	l.memory_low = s->memory_reservation_mib << 20;
	*ret = l;
	return 0;
}

/* The value of NAME in ENV (K=V strings), or NULL. */
static const char *env_get(const char *const *env, size_t n, const char *name)
{
	size_t len = strlen(name);
	const char *v = NULL;

	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			v = env[i] + len + 1; /* the last one wins, as in a shell */
	return v;
}

/* PATH, HOSTNAME and HOME unless given, then the spec's own, in order. */
static int build_env(const struct rt_spec *s, struct rt_plan *p)
{
	char **envp = calloc(s->n_env + 4, sizeof(*envp));
	size_t n = 0;

	if (!envp)
		return -ENOMEM;
	p->envp = envp;
	if (asprintf(&p->hostname_env, "HOSTNAME=%s", p->hostname) < 0) {
		p->hostname_env = NULL;
		return -ENOMEM;
	}
	if (!env_get(s->env, s->n_env, "PATH"))
		envp[n++] = (char *)"PATH=" DEFAULT_PATH;
	if (!env_get(s->env, s->n_env, "HOSTNAME"))
		envp[n++] = p->hostname_env;
	if (!env_get(s->env, s->n_env, "HOME"))
		envp[n++] = (char *)(p->uid == 0 ? "HOME=/root" : "HOME=/");
	for (size_t i = 0; i < s->n_env; i++)
		envp[n++] = (char *)s->env[i];
	return 0;
}

static int check_cgroups(const struct rt_spec *s, struct rt_plan *p, struct err *e)
{
	const struct cg_host *h = &p->host;
	char missing[32];
	int r;

	r = cg_host_probe(NULL, &p->host);
	if (r == -ENOENT)
		return err_setx(e, r, "no cgroup2 hierarchy is mounted (berth needs cgroup v2)");
	if (r < 0)
		return err_set(e, r, "probe cgroup v2");
	if (h->has_cpu && h->has_memory)
		return 0;
	snprintf(missing, sizeof(missing), "%s%s%s", h->has_cpu ? "" : "cpu",
		 !h->has_cpu && !h->has_memory ? " and " : "", h->has_memory ? "" : "memory");
	if (s->cgroup_enforce == RT_ENFORCE_OFF) {
		p->unenforced = true;
		return 0;
	}
	return err_setx(e, -EOPNOTSUPP,
			"cgroup v2 at '%s' lacks the %s controller%s%s, so limits cannot be "
			"enforced; fix: boot with systemd.unified_cgroup_hierarchy=1 (systemd), "
			"rc_cgroup_mode=\"unified\" (OpenRC) or cgroup_no_v1=all (kernel), or run "
			"unenforced with --cgroup-enforce=off",
			h->mount, missing, strchr(missing, ' ') ? "s" : "",
			(h->v1_cpu || h->v1_memory) ? " (cgroup v1 holds them)" : "");
}

void rt_name_generate(char *buf, size_t size)
{
	uint8_t b[6] = { 0 };

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
		/* early boot without entropy: pid and time are unique enough here */
		pid_t pid = getpid();

		memcpy(b, &pid, sizeof(pid) < sizeof(b) ? sizeof(pid) : sizeof(b));
	}
	snprintf(buf, size, "c%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

static int plan_rootfs(const struct rt_spec *s, struct rt_plan *p, int *ret_fd, struct err *e)
{
	struct stat st;
	int fd;

	if (!realpath(s->rootfs, p->rootfs))
		return err_set(e, -errno, "rootfs '%s'", s->rootfs);
	fd = open(p->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "rootfs '%s'", s->rootfs);
	if (fstat(fd, &st) < 0 || strcmp(p->rootfs, "/") == 0) {
		close(fd);
		return err_setx(e, -EINVAL, "rootfs '%s': refusing the host's own root", s->rootfs);
	}
	*ret_fd = fd;
	return 0;
}

static int plan_command(const struct rt_spec *s, struct rt_plan *p, int rootfs_fd, struct err *e)
{
	const char *path = DEFAULT_PATH;
	const char *workdir = s->workdir ? s->workdir : "/";
	int r;

	for (char **v = p->envp; *v; v++)
		if (strncmp(*v, "PATH=", 5) == 0)
			path = *v + 5;
	r = rt_resolve_command(rootfs_fd, s->argv[0], path, workdir, p->exec_path,
			       sizeof(p->exec_path));
	if (r == -EACCES)
		return err_setx(e, r, "command '%s' is not executable in rootfs '%s'", s->argv[0],
				s->rootfs);
	if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
		return err_setx(e, r, "command '%s' not found in rootfs '%s'", s->argv[0], s->rootfs);
	if (r < 0)
		return err_set(e, r, "command '%s'", s->argv[0]);
	if (s->workdir) {
		_cleanup_close_ int fd = rt_open_in_root(rootfs_fd, s->workdir, O_PATH | O_DIRECTORY);

		if (fd < 0)
			return err_set(e, fd, "workdir '%s' in rootfs '%s'", s->workdir, s->rootfs);
	}
	return 0;
}

/* $BERTH_RUN_DIR/seccomp (the run dir's default from lib/config), unless
 * BERTH_SECCOMP_CACHE names another; "" there turns the on-disk cache off
 * (*RET = NULL: tests of the compiler). */
static int seccomp_cache_dir(char *buf, size_t size, const char **ret, struct err *e)
{
	const char *cache = getenv("BERTH_SECCOMP_CACHE"), *run = getenv("BERTH_RUN_DIR");
	int n;

	if (cache) {
		*ret = cache[0] ? cache : NULL;
		return 0;
	}
	if (!run || !run[0])
		run = config_keys[CFG_RUN_DIR].def;
	if (run[0] != '/')
		return err_setx(e, -EINVAL, "BERTH_RUN_DIR '%s': must be an absolute path", run);
	n = snprintf(buf, size, "%s/%s", run, SECCOMP_CACHE_SUBDIR);
	if (n < 0 || (size_t)n >= size)
		return err_setx(e, -ENAMETOOLONG, "BERTH_RUN_DIR '%s': too long", run);
	*ret = buf;
	return 0;
}

int rt_plan(const struct rt_spec *s, struct rt_plan *ret, struct err *e)
{
	_cleanup_close_ int rootfs_fd = -1;
	struct rt_plan *p = ret;
	int r;

	memset(p, 0, sizeof(*p));
	p->spec = s;
	p->stdio[0] = p->stdio[1] = p->stdio[2] = -1;
	r = plan_rootfs(s, p, &rootfs_fd, e);
	if (r < 0)
		return r;
	if (s->user) {
		r = rt_user_resolve(rootfs_fd, s->user, &p->uid, &p->gid, e);
		if (r < 0)
			return r;
	}
	r = caps_build(s->privileged, s->cap_add, s->n_cap_add, s->cap_drop, s->n_cap_drop,
		       &p->caps, e);
	if (r < 0)
		return r;
	r = rt_limits_from_spec(s, &p->limits);
	if (r < 0)
		return err_set(e, r, "cgroup limits");
	if (s->name[0])
		snprintf(p->name, sizeof(p->name), "%s", s->name);
	else
		rt_name_generate(p->name, sizeof(p->name));
	snprintf(p->hostname, sizeof(p->hostname), "%.64s", s->hostname ? s->hostname : p->name);
	r = build_env(s, p);
	if (r < 0) {
		rt_plan_release(p);
		return err_set(e, r, "environment");
	}
	r = plan_command(s, p, rootfs_fd, e);
	if (r < 0)
		goto fail;
	r = check_cgroups(s, p, e);
	if (r < 0)
		goto fail;
	/* Privileged containers run without the filter, as the common runtimes do. */
	if (!s->privileged) {
		char buf[PATH_MAX];
		const char *cache = NULL;

		r = seccomp_cache_dir(buf, sizeof(buf), &cache, e);
		if (r < 0)
			goto fail;
		r = seccomp_default_prog(p->caps, cache, &p->seccomp, e);
		if (r < 0)
			goto fail;
	}
	return 0;
fail:
	rt_plan_release(p);
	return r;
}

void rt_plan_release(struct rt_plan *p)
{
	free(p->envp);
	free(p->hostname_env);
	p->envp = NULL;
	p->hostname_env = NULL;
}
