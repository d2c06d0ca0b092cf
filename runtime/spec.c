/* runtime/spec.c - `container run` argv -> struct rt_spec (pure). */
#include "runtime/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "lib/cleanup.h"
#include "lib/fileio.h"

const char rt_spec_usage[] =
	"usage: berth container run --rootfs DIR|--image REF [--entrypoint CMD] [--name N]\n"
	"         [--hostname H] [--cpu UNITS]\n"
	"         [--cpu-limit UNITS] [--memory MiB] [--memory-reservation MiB] [--pids N]\n"
	"         [--env K=V]... [--user U[:G]] [--workdir D] [--read-only] [--cap-add C]...\n"
	"         [--cap-drop C]... [--privileged] [--net none|host] [--ulimit name=soft:hard]... [--init]\n"
	"         [--volume SRC:DST[:ro]]... [--shm-size MiB]\n"
	"         [--cgroup-enforce on|off] [--cgroup-parent PATH] -- CMD [ARG...]\n"
	"With --image the command (optional) replaces the image's Cmd, --entrypoint\n"
	"its Entrypoint; --env merges over its Env; --workdir and --user replace its own.\n";

struct opt;
typedef int opt_fn(const struct opt *o, const char *val, struct rt_spec *s, struct err *e);

struct opt {
	const char *name;
	bool has_arg;
	opt_fn *fn;
	uint64_t min, max;   /* for numeric options */
	size_t off;          /* where a numeric or string value goes */
};

static int bad(const struct opt *o, const char *val, const char *why, struct err *e)
{
	return err_setx(e, -EINVAL, "--%s '%s': %s", o->name, val, why);
}

static int set_u64(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	uint64_t v;
	int r = parse_u64(val, &v);

	if (r < 0 || v < o->min || v > o->max) {
		char why[96];

		snprintf(why, sizeof(why), "must be a whole number from %llu to %llu",
			 (unsigned long long)o->min, (unsigned long long)o->max);
		return bad(o, val, why, e);
	}
	*(uint64_t *)((char *)s + o->off) = v;
	return 0;
}

static int set_cpu(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	s->cpu_set = true;
	return set_u64(o, val, s, e);
}

static int set_str(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	if (val[0] == '\0')
		return bad(o, val, "must not be empty", e);
	*(const char **)((char *)s + o->off) = val;
	return 0;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* --entrypoint "" clears the image's entrypoint, as docker run does. */
static int set_entrypoint(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	(void)o;
	(void)e;
	s->entrypoint = val;
	return 0;
}

static int add_volume(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	/* The parts are checked where they are used (runtime/cmd_run.c). */
	if (val[0] == '\0')
		return bad(o, val, "must be SRC:DST[:ro]", e);
	s->volumes[s->n_volumes++] = val;
	return 0;
}

static int set_name(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	size_t n = strlen(val);

	if (n == 0 || n > RT_NAME_MAX || val[0] == '.')
		return bad(o, val, "must be 1-128 of [A-Za-z0-9_.-], not starting with '.'", e);
	for (size_t i = 0; i < n; i++)
		if (!name_char_ok(val[i]))
			return bad(o, val, "must be 1-128 of [A-Za-z0-9_.-], not starting with '.'", e);
	memcpy(s->name, val, n + 1);
	return 0;
}

static int set_hostname(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	size_t n = strlen(val);

	if (n == 0 || n > 64)
		return bad(o, val, "must be 1-64 characters", e);
	for (size_t i = 0; i < n; i++)
		if (!name_char_ok(val[i]))
			return bad(o, val, "may hold only letters, digits, '-', '_' and '.'", e);
	s->hostname = val;
	return 0;
}

static int add_env(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	const char *eq = strchr(val, '=');

	if (!eq || eq == val)
		return bad(o, val, "must be KEY=VALUE", e);
	s->env[s->n_env++] = val;
	return 0;
}

static int set_user(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	const char *colon = strchr(val, ':');

	if (val[0] == '\0' || val[0] == ':' || (colon && (colon[1] == '\0' || strchr(colon + 1, ':'))))
		return bad(o, val, "must be USER or USER:GROUP (names or numeric ids)", e);
	s->user = val;
	return 0;
}

static int set_workdir(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	if (val[0] != '/')
		return bad(o, val, "must be an absolute path", e);
	s->workdir = val;
	return 0;
}

static int set_flag(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	(void)val;
	(void)e;
	*(bool *)((char *)s + o->off) = true;
	return 0;
}

static int add_cap(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	/* Names are checked by caps_build (policy/), which quotes a bad one. */
	if (val[0] == '\0')
		return bad(o, val, "must name a capability", e);
	if (strcmp(o->name, "cap-add") == 0)
		s->cap_add[s->n_cap_add++] = (char *)val;
	else
		s->cap_drop[s->n_cap_drop++] = (char *)val;
	return 0;
}

static int set_net(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	if (strcmp(val, "none") == 0)
		s->net = RT_NET_NONE;
	else if (strcmp(val, "host") == 0)
		s->net = RT_NET_HOST;
	else
		return bad(o, val, "must be 'none' or 'host'", e);
	return 0;
}

static int parse_enforce(const char *val, enum rt_enforce *ret)
{
	if (strcmp(val, "on") == 0 || strcmp(val, "1") == 0 || strcmp(val, "true") == 0)
		*ret = RT_ENFORCE_ON;
	else if (strcmp(val, "off") == 0 || strcmp(val, "0") == 0 || strcmp(val, "false") == 0)
		*ret = RT_ENFORCE_OFF;
	else
		return -EINVAL;
	return 0;
}

static int set_enforce(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	if (parse_enforce(val, &s->cgroup_enforce) < 0)
		return bad(o, val, "must be 'on' or 'off'", e);
	return 0;
}

static bool rel_path_ok(const char *p)
{
	if (p[0] == '\0' || p[0] == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!name_char_ok(p[i]))
				return false;
		p += n;
		if (*p == '/')
			p++;
		if (*p == '\0' && p[-1] == '/')
			return false;
	}
	return true;
}

static int set_parent(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	if (!rel_path_ok(val))
		return bad(o, val, "must be a relative path of [A-Za-z0-9_.-] names", e);
	s->cgroup_parent = val;
	return 0;
}

static int add_ulimit(const struct opt *o, const char *val, struct rt_spec *s, struct err *e)
{
	int r = rlimit_parse(val, &s->ulimits[s->n_ulimits], e);

	(void)o;
	if (r < 0)
		return err_wrap(e, "--ulimit");
	for (size_t i = 0; i < s->n_ulimits; i++)
		if (s->ulimits[i].resource == s->ulimits[s->n_ulimits].resource)
			return bad(o, val, "given twice", e);
	s->n_ulimits++;
	return 0;
}

#define OFF(f) offsetof(struct rt_spec, f)
static const struct opt opts[] = {
	{ "rootfs", true, set_str, 0, 0, OFF(rootfs) },
	{ "image", true, set_str, 0, 0, OFF(image) },
	{ "entrypoint", true, set_entrypoint, 0, 0, 0 },
	{ "volume", true, add_volume, 0, 0, 0 },
	{ "shm-size", true, set_u64, 1, RT_MEMORY_MAX_MIB, OFF(shm_size_mib) },
	{ "name", true, set_name, 0, 0, 0 },
	{ "hostname", true, set_hostname, 0, 0, 0 },
	{ "cpu", true, set_cpu, 0, RT_CPU_UNITS_MAX, OFF(cpu_units) },
	{ "cpu-limit", true, set_u64, 1, RT_CPU_LIMIT_MAX, OFF(cpu_limit_units) },
	{ "memory", true, set_u64, RT_MEMORY_MIN_MIB, RT_MEMORY_MAX_MIB, OFF(memory_mib) },
	{ "memory-reservation", true, set_u64, 1, RT_MEMORY_MAX_MIB, OFF(memory_reservation_mib) },
	{ "pids", true, set_u64, 1, RT_PIDS_MAX, OFF(pids_max) },
	{ "env", true, add_env, 0, 0, 0 },
	{ "user", true, set_user, 0, 0, 0 },
	{ "workdir", true, set_workdir, 0, 0, 0 },
	{ "read-only", false, set_flag, 0, 0, OFF(read_only) },
	{ "cap-add", true, add_cap, 0, 0, 0 },
	{ "cap-drop", true, add_cap, 0, 0, 0 },
	{ "privileged", false, set_flag, 0, 0, OFF(privileged) },
	{ "net", true, set_net, 0, 0, 0 },
	{ "ulimit", true, add_ulimit, 0, 0, 0 },
	{ "cgroup-enforce", true, set_enforce, 0, 0, 0 },
	{ "cgroup-parent", true, set_parent, 0, 0, 0 },
	{ "init", false, set_flag, 0, 0, OFF(init) },
	{ "help", false, set_flag, 0, 0, OFF(help) },
};
#undef OFF

static const struct opt *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

/* Arrays sized for the worst case (every argument one entry): no growing. */
static int alloc_arrays(struct rt_spec *s, int argc)
{
	size_t n = (size_t)argc + 1;

	s->env = calloc(n, sizeof(*s->env));
	s->cap_add = calloc(n, sizeof(*s->cap_add));
	s->cap_drop = calloc(n, sizeof(*s->cap_drop));
	s->ulimits = calloc(n, sizeof(*s->ulimits));
	s->volumes = calloc(n, sizeof(*s->volumes));
	if (!s->env || !s->cap_add || !s->cap_drop || !s->ulimits || !s->volumes)
		return -ENOMEM;
	return 0;
}

/* Checks that hold across options. */
static int check_spec(const struct rt_spec *s, struct err *e)
{
	if (s->help)
		return 0;
	if (!s->rootfs == !s->image)
		return err_setx(e, -EINVAL, "give either --rootfs or --image");
	if (s->entrypoint && !s->image)
		return err_setx(e, -EINVAL, "--entrypoint needs --image");
	/* An image has its own command; the one given replaces it. */
	if (!s->image && (!s->argv || !s->argv[0]))
		return err_setx(e, -EINVAL, "no command given (... -- CMD [ARG...])");
	if (s->argv && s->argv[0] && s->argv[0][0] == '\0')
		return err_setx(e, -EINVAL, "the command is empty");
	if (s->memory_mib && s->memory_reservation_mib &&
	    s->memory_reservation_mib >= s->memory_mib)
		return err_setx(e, -EINVAL,
				"--memory-reservation (%llu MiB) must be less than --memory (%llu MiB)",
				(unsigned long long)s->memory_reservation_mib,
				(unsigned long long)s->memory_mib);
	return 0;
}

int rt_spec_parse(int argc, char **argv, const char *env_enforce, const char *env_parent,
		  struct rt_spec *ret, struct err *e)
{
	struct rt_spec s = {
		.net = RT_NET_NONE,
		.net_fd = -1,
		.pid_fd = -1,
		.ipc_fd = -1,
		.pids_max = CG_DEFAULT_PIDS_MAX,
		.cgroup_enforce = RT_ENFORCE_ON,
		.cgroup_parent = CG_DEFAULT_PARENT,
	};
	int i, r;

	if (alloc_arrays(&s, argc) < 0) {
		rt_spec_release(&s);
		return err_set(e, -ENOMEM, "parse options");
	}
	if (env_enforce && env_enforce[0] && parse_enforce(env_enforce, &s.cgroup_enforce) < 0) {
		rt_spec_release(&s);
		return err_setx(e, -EINVAL, "BERTH_CGROUP_ENFORCE '%s': must be 'on' or 'off'",
				env_enforce);
	}
	if (env_parent && env_parent[0]) {
		if (!rel_path_ok(env_parent)) {
			rt_spec_release(&s);
			return err_setx(e, -EINVAL,
					"BERTH_CGROUP_PARENT '%s': must be a relative path of [A-Za-z0-9_.-] names",
					env_parent);
		}
		s.cgroup_parent = env_parent;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct opt *o;
		size_t len;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strncmp(a, "--", 2) != 0)
			break; /* the command starts here */
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		o = find_opt(a, len);
		if (!o) {
			r = err_setx(e, -EINVAL, "unknown option '%s' (see --help)", argv[i]);
			goto fail;
		}
		if (o->has_arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				r = err_setx(e, -EINVAL, "--%s needs a value", o->name);
				goto fail;
			}
		} else if (eq) {
			r = err_setx(e, -EINVAL, "--%s takes no value", o->name);
			goto fail;
		}
		r = o->fn(o, val, &s, e);
		if (r < 0)
			goto fail;
	}
	s.argv = i < argc ? argv + i : NULL;
	r = check_spec(&s, e);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	rt_spec_release(&s);
	return r;
}

void rt_spec_release(struct rt_spec *s)
{
	free(s->env);
	free(s->cap_add);
	free(s->cap_drop);
	free(s->ulimits);
	free(s->volumes);
	s->volumes = NULL;
	s->n_volumes = 0;
	s->env = NULL;
	s->cap_add = s->cap_drop = NULL;
	s->ulimits = NULL;
	s->n_env = s->n_cap_add = s->n_cap_drop = s->n_ulimits = 0;
}
