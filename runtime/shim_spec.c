/* runtime/shim_spec.c - spec.json -> struct shim_task (pure), and the
 * dependsOn start order.  spec.json is written by the agent, but it is a
 * file on disk: every field is checked as outside input. */
#include "runtime/shim_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/netname.h"
#include "volumes/volumes.h"

#define ARGV_MAX 4096
#define STR_MAX 65536
#define SYSCTLS_MAX 64
#define DEVICES_MAX 64

/* ---- owned allocations ---- */

static void *own(struct shim_task *t, void *p)
{
	if (!p)
		return NULL;
	if (t->n_owned == t->cap_owned) {
		size_t cap = t->cap_owned ? t->cap_owned * 2 : 32;
		void **n = realloc(t->owned, cap * sizeof(*n));

		if (!n) {
			free(p);
			return NULL;
		}
		t->owned = n;
		t->cap_owned = cap;
	}
	t->owned[t->n_owned++] = p;
	return p;
}

static char *own_str(struct shim_task *t, const char *s)
{
	return own(t, strdup(s));
}

void shim_task_release(struct shim_task *t)
{
	shim_vol_free(t);
	for (size_t i = 0; i < t->n_owned; i++)
		free(t->owned[i]);
	free(t->owned);
	memset(t, 0, sizeof(*t));
}

/* ---- typed getters: absent and null are "not given" ---- */

static const cJSON *field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNull(v) ? NULL : v;
}

static bool str_ok(const char *s)
{
	return s && strlen(s) < STR_MAX;
}

/* *RET = a copy of the string KEY, or NULL when absent. */
static int get_str(struct shim_task *t, const cJSON *o, const char *what, const char *key,
		   char **ret, struct err *e)
{
	const cJSON *v = field(o, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !str_ok(v->valuestring))
		return err_setx(e, -EINVAL, "%s: '%s' must be a string", what, key);
	*ret = own_str(t, v->valuestring);
	return *ret ? 0 : err_set(e, -ENOMEM, "%s", what);
}

static int get_u64(const cJSON *o, const char *what, const char *key, uint64_t min, uint64_t max,
		   uint64_t dflt, uint64_t *ret, struct err *e)
{
	const cJSON *v = field(o, key);
	double d;

	*ret = dflt;
	if (!v)
		return 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!(d >= (double)min && d <= (double)max) || d != floor(d))
		return err_setx(e, -EINVAL, "%s: '%s' must be a whole number from %" PRIu64 " to %" PRIu64,
				what, key, min, max);
	*ret = (uint64_t)d;
	return 0;
}

static int get_bool(const cJSON *o, const char *what, const char *key, bool dflt, bool *ret,
		    struct err *e)
{
	const cJSON *v = field(o, key);

	*ret = dflt;
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return err_setx(e, -EINVAL, "%s: '%s' must be true or false", what, key);
	*ret = cJSON_IsTrue(v);
	return 0;
}

/* A NULL-terminated copy of the string array KEY (NULL when absent). */
static int get_strv(struct shim_task *t, const cJSON *o, const char *what, const char *key,
		    char ***ret, size_t *ret_n, struct err *e)
{
	const cJSON *v = field(o, key), *it;
	size_t n = 0;
	char **a;

	*ret = NULL;
	*ret_n = 0;
	if (!v)
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > ARGV_MAX)
		return err_setx(e, -EINVAL, "%s: '%s' must be an array of at most %d strings", what,
				key, ARGV_MAX);
	a = own(t, calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*a)));
	if (!a)
		return err_set(e, -ENOMEM, "%s", what);
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || !str_ok(it->valuestring))
			return err_setx(e, -EINVAL, "%s: '%s' must hold only strings", what, key);
		a[n] = own_str(t, it->valuestring);
		if (!a[n++])
			return err_set(e, -ENOMEM, "%s", what);
	}
	*ret = a;
	*ret_n = n;
	return 0;
}

/* One of NAMES (the index), for the string KEY; DFLT when absent. */
static int get_enum(const cJSON *o, const char *what, const char *key, const char *const *names,
		    size_t n, int dflt, int *ret, struct err *e)
{
	const cJSON *v = field(o, key);

	*ret = dflt;
	if (!v)
		return 0;
	if (cJSON_IsString(v))
		for (size_t i = 0; i < n; i++)
			if (names[i] && strcmp(v->valuestring, names[i]) == 0) {
				*ret = (int)i;
				return 0;
			}
	return err_setx(e, -EINVAL, "%s: unknown '%s' value", what, key);
}

/* ---- names and paths ---- */

static bool name_ok(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || (dots && c == '.')))
			return false;
	}
	return true;
}

static bool abs_path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p; (c = strstr(c, "/..")); c += 3)
		if (c[3] == '/' || c[3] == '\0')
			return false;
	return true;
}

static bool rel_path_ok(const char *p)
{
	char buf[256];
	char *save = NULL;

	if (strlen(p) >= sizeof(buf) || p[0] == '/' || p[0] == '\0' || p[strlen(p) - 1] == '/' ||
	    strstr(p, "//"))
		return false;
	strcpy(buf, p);
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (!name_ok(c, 64, true))
			return false;
	return true;
}

int shim_parse_size(const char *s, uint64_t *ret)
{
	static const struct { char unit; unsigned shift; } units[] = {
		{ 'b', 0 }, { 'k', 10 }, { 'm', 20 }, { 'g', 30 },
	};
	uint64_t v = 0;
	size_t i = 0;
	unsigned shift = 0;

	if (!s || !s[0])
		return -EINVAL;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return -EINVAL;
	if (s[i]) {
		char c = (char)(s[i] | 0x20);
		size_t u;

		for (u = 0; u < ARRAY_SIZE(units) && units[u].unit != c; u++)
			;
		if (u == ARRAY_SIZE(units) || s[i + 1])
			return -EINVAL;
		shift = units[u].shift;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = v << shift;
	return 0;
}

/* ---- container pieces ---- */

static int parse_health(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			const char *what, struct err *e)
{
	struct shim_health_spec *h;
	char **cmd;
	size_t n;
	uint64_t v[4];
	int r;

	if (!cJSON_IsObject(o))
		return err_setx(e, -EINVAL, "%s: 'healthCheck' must be an object", what);
	h = own(t, calloc(1, sizeof(*h)));
	if (!h)
		return err_set(e, -ENOMEM, "%s", what);
	r = get_strv(t, o, what, "command", &cmd, &n, e);
	if (r < 0)
		return r;
	if (!cmd || n == 0 || ((strcmp(cmd[0], "CMD") == 0 || strcmp(cmd[0], "CMD-SHELL") == 0) && n < 2) ||
	    (strcmp(cmd[0], "CMD-SHELL") == 0 && n != 2))
		return err_setx(e, -EINVAL,
				"%s: healthCheck 'command' must be [\"CMD\", arg...] or [\"CMD-SHELL\", script]",
				what);
	if (strcmp(cmd[0], "CMD-SHELL") == 0) {
		h->argv = own(t, calloc(4, sizeof(char *)));
		if (!h->argv)
			return err_set(e, -ENOMEM, "%s", what);
		h->argv[0] = (char *)"/bin/sh";
		h->argv[1] = (char *)"-c";
		h->argv[2] = cmd[1];
	} else {
		h->argv = strcmp(cmd[0], "CMD") == 0 ? cmd + 1 : cmd; /* no marker: CMD */
	}
	if (h->argv[0][0] == '\0')
		return err_setx(e, -EINVAL, "%s: the health check command is empty", what);
	/* Wider than ECS's ranges at the low end (tests use 1 s); the agent
	 * enforces ECS's. */
	if ((r = get_u64(o, what, "interval", 1, 300, 30, &v[0], e)) < 0 ||
	    (r = get_u64(o, what, "timeout", 1, 60, 5, &v[1], e)) < 0 ||
	    (r = get_u64(o, what, "retries", 1, 10, 3, &v[2], e)) < 0 ||
	    (r = get_u64(o, what, "startPeriod", 0, 300, 0, &v[3], e)) < 0)
		return r;
	h->interval = (uint32_t)v[0];
	h->timeout = (uint32_t)v[1];
	h->retries = (uint32_t)v[2];
	h->start_period = (uint32_t)v[3];
	c->health = h;
	return 0;
}

static const char *const syslog_facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", NULL, NULL, NULL, NULL, "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7",
};

static int parse_log_option(struct shim_task *t, struct shim_log_spec *l, const cJSON *opt,
			    const char *what, struct err *e)
{
	const char *k = opt->string, *v = opt->valuestring;
	uint64_t n;

	if (!cJSON_IsString(opt) || !str_ok(v))
		return err_setx(e, -EINVAL, "%s: log option '%s' must be a string", what, k);
	if (strcmp(k, "max-size") == 0) {
		if (shim_parse_size(v, &n) < 0 || (n > 0 && n < 1024))
			return err_setx(e, -EINVAL, "%s: log option max-size '%s': want e.g. 10m (>= 1k)", what, v);
		l->max_size = n;
	} else if (strcmp(k, "max-file") == 0) {
		if (shim_parse_size(v, &n) < 0 || strpbrk(v, "bkmgBKMG") || n < 1 || n > 100)
			return err_setx(e, -EINVAL, "%s: log option max-file '%s': want 1 to 100", what, v);
		l->max_file = (unsigned)n;
	} else if (strcmp(k, "syslog-address") == 0) {
		if ((strncmp(v, "unix://", 7) != 0 && strncmp(v, "unixgram://", 11) != 0) ||
		    strlen(strstr(v, "://") + 3) >= 108 || strstr(v, "://")[3] != '/')
			return err_setx(e, -EINVAL, "%s: syslog-address '%s': only unix:///path and unixgram:///path",
					what, v);
		l->syslog_address = own_str(t, v);
	} else if (strcmp(k, "tag") == 0) {
		if (strlen(v) > 64)
			return err_setx(e, -EINVAL, "%s: log option tag is longer than 64", what);
		l->tag = own_str(t, v);
	} else if (strcmp(k, "syslog-facility") == 0) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(syslog_facilities); i++)
			if (syslog_facilities[i] && strcmp(v, syslog_facilities[i]) == 0)
				break;
		if (i == ARRAY_SIZE(syslog_facilities))
			return err_setx(e, -EINVAL, "%s: unknown syslog-facility '%s'", what, v);
		l->facility = (unsigned)i;
	} else if (strcmp(k, "syslog-format") == 0) {
		if (strcmp(v, "rfc5424") != 0 && strcmp(v, "rfc3164") != 0 && v[0])
			return err_setx(e, -EINVAL, "%s: syslog-format '%s': rfc3164 or rfc5424", what, v);
		l->format = v[0] == '\0' ? SHIM_SYSLOG_LOCAL :
			    strcmp(v, "rfc5424") == 0 ? SHIM_SYSLOG_RFC5424 : SHIM_SYSLOG_RFC3164;
	}
	/* Other options (mode, max-buffer-size, ...) do not change how the
	 * shim writes: it never blocks a container. */
	return 0;
}

static int parse_log(struct shim_task *t, struct shim_log_spec *l, const cJSON *o, const char *what,
		     struct err *e)
{
	static const char *const drivers[] = { "json-file", "none", "syslog" };
	const cJSON *opts, *opt;
	int d, r;

	*l = (struct shim_log_spec){ .max_size = 10u << 20, .max_file = 3, .facility = 3 };
	if (!o)
		return 0;
	if (!cJSON_IsObject(o))
		return err_setx(e, -EINVAL, "%s: 'logConfiguration' must be an object", what);
	r = get_enum(o, what, "logDriver", drivers, ARRAY_SIZE(drivers), 0, &d, e);
	if (r < 0)
		return r;
	l->driver = (enum shim_log_driver)d;
	opts = field(o, "options");
	if (!opts)
		return 0;
	if (!cJSON_IsObject(opts))
		return err_setx(e, -EINVAL, "%s: log 'options' must be an object", what);
	cJSON_ArrayForEach(opt, opts) {
		r = parse_log_option(t, l, opt, what, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_ulimits(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			 const char *what, struct err *e)
{
	const cJSON *it;
	size_t n = 0;

	if (!o)
		return 0;
	if (!cJSON_IsArray(o) || cJSON_GetArraySize(o) > 32)
		return err_setx(e, -EINVAL, "%s: 'ulimits' must be an array (at most 32)", what);
	c->rt.ulimits = own(t, calloc((size_t)cJSON_GetArraySize(o) + 1, sizeof(*c->rt.ulimits)));
	if (!c->rt.ulimits)
		return err_set(e, -ENOMEM, "%s", what);
	cJSON_ArrayForEach(it, o) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		uint64_t soft, hard;
		char buf[96];
		int r;

		if (!cJSON_IsString(name) || strlen(name->valuestring) > 16)
			return err_setx(e, -EINVAL, "%s: a ulimit needs a 'name'", what);
		if ((r = get_u64(it, what, "softLimit", 0, INT64_MAX, UINT64_MAX, &soft, e)) < 0 ||
		    (r = get_u64(it, what, "hardLimit", 0, INT64_MAX, UINT64_MAX, &hard, e)) < 0)
			return r;
		if (soft == UINT64_MAX || hard == UINT64_MAX)
			return err_setx(e, -EINVAL, "%s: ulimit '%s' needs softLimit and hardLimit", what,
					name->valuestring);
		snprintf(buf, sizeof(buf), "%s=%" PRIu64 ":%" PRIu64, name->valuestring, soft, hard);
		r = rlimit_parse(buf, &c->rt.ulimits[n], e);
		if (r < 0)
			return err_wrap(e, "%s: ulimits", what);
		n++;
	}
	c->rt.n_ulimits = n;
	return 0;
}

static int parse_env(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o, const char *what,
		     struct err *e)
{
	char **env;
	size_t n;
	int r = get_strv(t, o, what, "env", &env, &n, e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(env[i], '=');

		if (!eq || eq == env[i])
			return err_setx(e, -EINVAL, "%s: env entry '%.64s' is not K=V", what, env[i]);
	}
	c->rt.env = (const char **)env;
	c->rt.n_env = n;
	if (!env) {
		c->rt.env = own(t, calloc(1, sizeof(char *)));
		if (!c->rt.env)
			return err_set(e, -ENOMEM, "%s", what);
	}
	return 0;
}

static int parse_user(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o, const char *what,
		      struct err *e)
{
	char *u, *wd, *colon;
	int r;

	if ((r = get_str(t, o, what, "user", &u, e)) < 0 ||
	    (r = get_str(t, o, what, "workingDirectory", &wd, e)) < 0)
		return r;
	colon = u ? strchr(u, ':') : NULL;
	if (u && (u[0] == '\0' || u[0] == ':' || (colon && (colon[1] == '\0' || strchr(colon + 1, ':')))))
		return err_setx(e, -EINVAL, "%s: 'user' must be USER or USER:GROUP", what);
	if (wd && !abs_path_ok(wd))
		return err_setx(e, -EINVAL, "%s: 'workingDirectory' must be an absolute path", what);
	c->rt.user = u;
	c->rt.workdir = wd;
	return 0;
}

static int parse_limits(struct shim_ctr_spec *c, const cJSON *o, const char *what, struct err *e)
{
	uint64_t cpu, mem, res;
	int r;

	if ((r = get_u64(o, what, "cpu", 0, RT_CPU_UNITS_MAX, 0, &cpu, e)) < 0 ||
	    (r = get_u64(o, what, "memory", RT_MEMORY_MIN_MIB, RT_MEMORY_MAX_MIB, 0, &mem, e)) < 0 ||
	    (r = get_u64(o, what, "memoryReservation", 1, RT_MEMORY_MAX_MIB, 0, &res, e)) < 0)
		return r;
	if (mem && res && res >= mem)
		return err_setx(e, -EINVAL, "%s: 'memoryReservation' must be less than 'memory'", what);
	c->rt.cpu_set = true; /* ECS: an unset cpu is the minimum 2 shares */
	c->rt.cpu_units = cpu;
	c->rt.memory_mib = mem;
	c->rt.memory_reservation_mib = res;
	return 0;
}

static int parse_security(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			  const char *what, struct err *e)
{
	int r;

	if ((r = get_bool(o, what, "readonlyRootFilesystem", false, &c->rt.read_only, e)) < 0 ||
	    (r = get_bool(o, what, "privileged", false, &c->rt.privileged, e)) < 0 ||
	    (r = get_bool(o, what, "initProcessEnabled", false, &c->rt.init, e)) < 0 ||
	    (r = get_strv(t, o, what, "capAdd", &c->rt.cap_add, &c->rt.n_cap_add, e)) < 0 ||
	    (r = get_strv(t, o, what, "capDrop", &c->rt.cap_drop, &c->rt.n_cap_drop, e)) < 0)
		return r;
	return parse_ulimits(t, c, field(o, "ulimits"), what, e);
}

static int parse_command(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			 const char *what, struct err *e)
{
	char **argv, *rootfs, *hostname;
	size_t n;
	int r;

	if ((r = get_str(t, o, what, "rootfs", &rootfs, e)) < 0 ||
	    (r = get_strv(t, o, what, "argv", &argv, &n, e)) < 0 ||
	    (r = get_str(t, o, what, "hostname", &hostname, e)) < 0)
		return r;
	if (!rootfs)
		return err_setx(e, -EINVAL, "%s: 'rootfs' is required (the agent prepares the image's root filesystem)",
				what);
	if (!abs_path_ok(rootfs))
		return err_setx(e, -EINVAL, "%s: 'rootfs' must be an absolute path", what);
	if (n == 0 || argv[0][0] == '\0')
		return err_setx(e, -EINVAL, "%s: 'argv' must name a command", what);
	if (hostname && (!name_ok(hostname, 64, true)))
		return err_setx(e, -EINVAL, "%s: 'hostname' must be 1-64 of [A-Za-z0-9_.-]", what);
	c->rt.rootfs = rootfs;
	c->rt.argv = argv;
	c->rt.hostname = hostname;
	return 0;
}

/* ---- resolv.conf, hosts, sysctls, devices ---- */

/* A string list of at most MAX entries, each passing OK. */
static int get_checked_strv(struct shim_task *t, const cJSON *o, const char *what, const char *key,
			    size_t max, bool (*ok)(const char *), char ***ret, size_t *ret_n,
			    struct err *e)
{
	int r = get_strv(t, o, what, key, ret, ret_n, e);

	if (r < 0)
		return r;
	if (*ret_n > max)
		return err_setx(e, -EINVAL, "%s: at most %zu '%s'", what, max, key);
	for (size_t i = 0; i < *ret_n; i++)
		if (!ok((*ret)[i]))
			return err_setx(e, -EINVAL, "%s: '%s' entry '%.64s' is not valid", what, key,
					(*ret)[i]);
	return 0;
}

/* A list of objects of at most MAX: *RET = a zeroed array of N of SIZE. */
static int get_obj_list(struct shim_task *t, const cJSON *o, const char *what, const char *key,
			size_t max, size_t size, void **ret, size_t *ret_n, struct err *e)
{
	const cJSON *v = field(o, key), *it;

	*ret = NULL;
	*ret_n = 0;
	if (!v)
		return 0;
	if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) > max)
		return err_setx(e, -EINVAL, "%s: '%s' must be an array of at most %zu", what, key, max);
	cJSON_ArrayForEach(it, v)
		if (!cJSON_IsObject(it))
			return err_setx(e, -EINVAL, "%s: '%s' must hold objects", what, key);
	*ret_n = (size_t)cJSON_GetArraySize(v);
	*ret = own(t, calloc(*ret_n + 1, size));
	return *ret ? 0 : err_set(e, -ENOMEM, "%s", what);
}

static int parse_dns(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o, const char *what,
		     struct err *e)
{
	const cJSON *it;
	size_t i = 0;
	void *list;
	int r;

	if ((r = get_checked_strv(t, o, what, "dnsServers", DNS_MAX_SERVERS, netname_ip_valid,
				  &c->dns_servers, &c->n_dns_servers, e)) < 0 ||
	    (r = get_checked_strv(t, o, what, "dnsSearchDomains", DNS_MAX_SEARCH, netname_host_valid,
				  &c->dns_search, &c->n_dns_search, e)) < 0 ||
	    (r = get_obj_list(t, o, what, "extraHosts", DNS_MAX_EXTRA_HOSTS, sizeof(*c->extra_hosts),
			      &list, &c->n_extra_hosts, e)) < 0)
		return r;
	c->extra_hosts = list;
	cJSON_ArrayForEach(it, field(o, "extraHosts")) {
		struct dns_extra_host *h = &c->extra_hosts[i++];
		char *name, *ip;

		if ((r = get_str(t, it, what, "hostname", &name, e)) < 0 ||
		    (r = get_str(t, it, what, "ipAddress", &ip, e)) < 0)
			return r;
		if (!netname_host_valid(name) || !netname_ip_valid(ip))
			return err_setx(e, -EINVAL, "%s: an extraHosts entry needs a valid 'hostname' and 'ipAddress'",
					what);
		h->hostname = name;
		h->ip = ip;
	}
	return 0;
}

/* systemControls: only namespaced sysctls, and only of namespaces the
 * container does not share with the host. */
static int parse_sysctls(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			 const char *what, struct err *e)
{
	struct rt_sysctl *sc;
	const cJSON *it;
	size_t i = 0, n;
	void *list;
	int r = get_obj_list(t, o, what, "systemControls", SYSCTLS_MAX, sizeof(*sc), &list, &n, e);

	if (r < 0)
		return r;
	sc = list;
	cJSON_ArrayForEach(it, field(o, "systemControls")) {
		char *name, *value;
		enum sysctl_ns ns;

		if ((r = get_str(t, it, what, "namespace", &name, e)) < 0 ||
		    (r = get_str(t, it, what, "value", &value, e)) < 0)
			return r;
		ns = netname_sysctl_ns(name);
		if (ns == SYSCTL_NS_NONE || !netname_sysctl_value_valid(value))
			return err_setx(e, -EINVAL, "%s: systemControls '%.64s' is not a namespaced sysctl with a one-line value",
					what, name ? name : "");
		if ((ns == SYSCTL_NS_NET && t->net == SHIM_NET_HOST) ||
		    (ns == SYSCTL_NS_IPC && t->ipc_mode == SHIM_NS_HOST))
			return err_setx(e, -EINVAL, "%s: systemControls '%.64s' would change the host's %s namespace",
					what, name, ns == SYSCTL_NS_NET ? "network" : "ipc");
		sc[i].name = name;
		sc[i++].value = value;
	}
	c->rt.sysctls = sc;
	c->rt.n_sysctls = n;
	return 0;
}

static int parse_devices(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			 const char *what, struct err *e)
{
	static const char *const perms[] = { "read", "write", "mknod" };
	const cJSON *it;
	size_t i = 0;
	void *list;
	int r = get_obj_list(t, o, what, "devices", DEVICES_MAX, sizeof(*c->devices), &list,
			     &c->n_devices, e);

	if (r < 0)
		return r;
	c->devices = list;
	cJSON_ArrayForEach(it, field(o, "devices")) {
		struct shim_device *d = &c->devices[i++];
		const cJSON *p, *pl = field(it, "permissions");

		if ((r = get_str(t, it, what, "hostPath", &d->host_path, e)) < 0 ||
		    (r = get_str(t, it, what, "containerPath", &d->container_path, e)) < 0)
			return r;
		if (!d->container_path)
			d->container_path = d->host_path;
		if (!d->host_path || !abs_path_ok(d->host_path) || !abs_path_ok(d->container_path) ||
		    strlen(d->container_path) >= PATH_MAX)
			return err_setx(e, -EINVAL, "%s: a device needs absolute 'hostPath' and 'containerPath'",
					what);
		/* ECS: without permissions, all three. */
		d->read = d->write = d->mknod = !pl;
		if (pl && !cJSON_IsArray(pl))
			return err_setx(e, -EINVAL, "%s: device 'permissions' must be an array", what);
		cJSON_ArrayForEach(p, pl) {
			int k;

			for (k = 0; k < 3 && !(cJSON_IsString(p) && strcmp(p->valuestring, perms[k]) == 0); k++)
				;
			if (k == 3)
				return err_setx(e, -EINVAL, "%s: device permissions are read, write and mknod", what);
			*(k == 0 ? &d->read : k == 1 ? &d->write : &d->mknod) = true;
		}
	}
	return 0;
}

/* linuxParameters.tmpfs: kept as JSON text for volumes/, checked now. */
static int parse_tmpfs(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
		       const char *what, struct err *e)
{
	const cJSON *v = field(o, "tmpfs");
	struct vol_spec vs;
	int r;

	if (!v)
		return 0;
	if (!cJSON_IsArray(v))
		return err_setx(e, -EINVAL, "%s: 'tmpfs' must be an array", what);
	if (cJSON_GetArraySize(v) == 0)
		return 0;
	c->tmpfs_json = own(t, cJSON_PrintUnformatted(v));
	if (!c->tmpfs_json)
		return err_set(e, -ENOMEM, "%s", what);
	r = shim_tmpfs_spec(c->name, c->tmpfs_json, &vs, e);
	if (r < 0)
		return err_wrap(e, "%s", what);
	vol_spec_free(&vs);
	return 0;
}

static int parse_container(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			   size_t idx, struct err *e)
{
	const cJSON *hc;
	uint64_t v;
	char what[160];
	int r;

	snprintf(what, sizeof(what), "containers[%zu]", idx);
	if (!cJSON_IsObject(o))
		return err_setx(e, -EINVAL, "%s must be an object", what);
	r = get_str(t, o, what, "name", &c->name, e);
	if (r < 0)
		return r;
	if (!c->name || !name_ok(c->name, RT_NAME_MAX, false))
		return err_setx(e, -EINVAL, "%s: 'name' must be 1-%d of [A-Za-z0-9_-]", what, RT_NAME_MAX);
	snprintf(what, sizeof(what), "container '%s'", c->name);
	for (size_t i = 0; i < idx; i++)
		if (strcmp(t->ctrs[i].name, c->name) == 0)
			return err_setx(e, -EINVAL, "%s: the name is used twice", what);
	c->rt.net_fd = c->rt.pid_fd = c->rt.ipc_fd = -1;
	memcpy(c->rt.name, c->name, strlen(c->name) + 1);
	if ((r = parse_command(t, c, o, what, e)) < 0 || (r = parse_env(t, c, o, what, e)) < 0 ||
	    (r = parse_user(t, c, o, what, e)) < 0 || (r = parse_security(t, c, o, what, e)) < 0 ||
	    (r = parse_limits(c, o, what, e)) < 0 ||
	    (r = get_bool(o, what, "essential", true, &c->essential, e)) < 0 ||
	    (r = parse_log(t, &c->log, field(o, "logConfiguration"), what, e)) < 0 ||
	    (r = parse_dns(t, c, o, what, e)) < 0 || (r = parse_sysctls(t, c, o, what, e)) < 0 ||
	    (r = parse_devices(t, c, o, what, e)) < 0 || (r = parse_tmpfs(t, c, o, what, e)) < 0 ||
	    (r = get_u64(o, what, "sharedMemorySize", 1, RT_MEMORY_MAX_MIB, 0, &c->rt.shm_size_mib, e)) < 0)
		return r;
	if ((r = get_u64(o, what, "startTimeout", 1, 86400, UINT64_MAX, &v, e)) < 0)
		return r;
	c->start_timeout = v == UINT64_MAX ? -1 : (int64_t)v;
	if ((r = get_u64(o, what, "stopTimeout", 0, 86400, UINT64_MAX, &v, e)) < 0)
		return r;
	c->stop_timeout = v == UINT64_MAX ? -1 : (int64_t)v;
	hc = field(o, "healthCheck");
	if (hc && (r = parse_health(t, c, hc, what, e)) < 0)
		return r;
	if (field(o, "labels") && !cJSON_IsObject(field(o, "labels")))
		return err_setx(e, -EINVAL, "%s: 'labels' must be an object", what);
	return 0;
}

/* dependsOn needs every name, so it runs after all containers parsed. */
static int parse_deps(struct shim_task *t, size_t idx, const cJSON *o, struct err *e)
{
	static const char *const conds[] = { "START", "COMPLETE", "SUCCESS", "HEALTHY" };
	struct shim_ctr_spec *c = &t->ctrs[idx];
	const cJSON *deps = field(o, "dependsOn"), *it;

	if (!deps)
		return 0;
	if (!cJSON_IsArray(deps) || cJSON_GetArraySize(deps) > SHIM_MAX_CONTAINERS)
		return err_setx(e, -EINVAL, "container '%s': 'dependsOn' must be an array", c->name);
	c->deps = own(t, calloc((size_t)cJSON_GetArraySize(deps) + 1, sizeof(*c->deps)));
	if (!c->deps)
		return err_set(e, -ENOMEM, "dependsOn");
	cJSON_ArrayForEach(it, deps) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "containerName");
		struct shim_dep *d = &c->deps[c->n_deps];
		int cond, r;
		size_t j;

		if (!cJSON_IsString(name))
			return err_setx(e, -EINVAL, "container '%s': a dependsOn entry needs 'containerName'",
					c->name);
		for (j = 0; j < t->n_ctrs && strcmp(t->ctrs[j].name, name->valuestring) != 0; j++)
			;
		if (j == t->n_ctrs || j == idx)
			return err_setx(e, -EINVAL, "container '%s': dependsOn names %s '%.128s'", c->name,
					j == idx ? "itself:" : "no container", name->valuestring);
		r = get_enum(it, c->name, "condition", conds, ARRAY_SIZE(conds), -1, &cond, e);
		if (r < 0)
			return r;
		if (cond < 0)
			return err_setx(e, -EINVAL, "container '%s': a dependsOn entry needs 'condition'",
					c->name);
		if (cond == SHIM_COND_HEALTHY && !t->ctrs[j].health)
			return err_setx(e, -EINVAL,
					"container '%s': dependsOn '%s' HEALTHY, but '%s' has no healthCheck",
					c->name, t->ctrs[j].name, t->ctrs[j].name);
		d->idx = j;
		d->cond = (enum shim_cond)cond;
		c->n_deps++;
	}
	return 0;
}

int shim_deps_order(const struct shim_task *t, size_t *order, struct err *e)
{
	bool placed[SHIM_MAX_CONTAINERS] = { false };
	size_t n = 0;

	/* Repeatedly take the first container whose dependencies are placed:
	 * stable (definition order among equals), n <= 10 so n^3 is nothing. */
	while (n < t->n_ctrs) {
		size_t i;

		for (i = 0; i < t->n_ctrs; i++) {
			const struct shim_ctr_spec *c = &t->ctrs[i];
			size_t d;

			if (placed[i])
				continue;
			for (d = 0; d < c->n_deps && placed[c->deps[d].idx]; d++)
				;
			if (d == c->n_deps)
				break;
		}
		if (i == t->n_ctrs) {
			char names[256] = "";

			for (size_t j = 0; j < t->n_ctrs; j++)
				if (!placed[j] && strlen(names) + strlen(t->ctrs[j].name) + 4 < sizeof(names))
					snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s'%s'",
						 names[0] ? ", " : "", t->ctrs[j].name);
			return err_setx(e, -ELOOP, "dependsOn has a cycle among %s", names);
		}
		placed[i] = true;
		order[n++] = i;
	}
	return 0;
}

/* bridge and awsvpc tasks join the namespace the agent made for them. */
static int parse_netns_path(struct shim_task *t, const cJSON *o, bool join, struct err *e)
{
	int r = get_str(t, o, "spec", "netnsPath", &t->netns_path, e);

	if (r < 0)
		return r;
	if (join && (!t->netns_path || !abs_path_ok(t->netns_path)))
		return err_setx(e, -EINVAL, "spec: networkMode bridge and awsvpc need 'netnsPath', "
				"an absolute path");
	if (!join && t->netns_path)
		return err_setx(e, -EINVAL, "spec: 'netnsPath' is only for networkMode bridge and awsvpc");
	return 0;
}

static int parse_task_fields(struct shim_task *t, const cJSON *o, struct err *e)
{
	static const char *const nets[] = { "none", "host", "bridge", "awsvpc" };
	static const char *const ns_modes[] = { NULL, "task", "host", "none" };
	int net, pid, ipc, r;
	size_t n_addrs;
	uint64_t v;

	if ((r = get_str(t, o, "spec", "taskArn", &t->task_arn, e)) < 0 ||
	    (r = get_str(t, o, "spec", "taskId", &t->task_id, e)) < 0 ||
	    (r = get_str(t, o, "spec", "stateDir", &t->state_dir, e)) < 0 ||
	    (r = get_str(t, o, "spec", "cgroupParent", &t->cgroup_parent, e)) < 0 ||
	    (r = get_str(t, o, "spec", "shimCgroup", &t->shim_cgroup, e)) < 0)
		return r;
	if (!t->task_id || !name_ok(t->task_id, 64, false))
		return err_setx(e, -EINVAL, "spec: 'taskId' must be 1-64 of [A-Za-z0-9_-]");
	if (!t->state_dir || !abs_path_ok(t->state_dir))
		return err_setx(e, -EINVAL, "spec: 'stateDir' must be an absolute path");
	if (!t->cgroup_parent)
		t->cgroup_parent = own_str(t, "berth/tasks");
	if (!t->shim_cgroup)
		t->shim_cgroup = own_str(t, SHIM_DEFAULT_SHIM_CGROUP);
	if (!t->cgroup_parent || !t->shim_cgroup)
		return err_set(e, -ENOMEM, "spec");
	if (!rel_path_ok(t->cgroup_parent) || !rel_path_ok(t->shim_cgroup))
		return err_setx(e, -EINVAL, "spec: 'cgroupParent' and 'shimCgroup' must be relative paths of [A-Za-z0-9_.-] names");
	snprintf(t->cgroup_parent_task, sizeof(t->cgroup_parent_task), "%s/%s", t->cgroup_parent,
		 t->task_id);
	if ((r = get_bool(o, "spec", "cgroupEnforce", true, &t->cgroup_enforce, e)) < 0 ||
	    (r = get_u64(o, "spec", "cpu", 128, RT_CPU_LIMIT_MAX, 0, &t->cpu, e)) < 0 ||
	    (r = get_u64(o, "spec", "memory", RT_MEMORY_MIN_MIB, RT_MEMORY_MAX_MIB, 0, &t->memory, e)) < 0 ||
	    (r = get_u64(o, "spec", "pidsLimit", 1, RT_PIDS_MAX, 0, &t->pids_limit, e)) < 0 ||
	    (r = get_u64(o, "spec", "stopTimeoutDefault", 0, 86400, 30, &v, e)) < 0 ||
	    (r = get_enum(o, "spec", "networkMode", nets, ARRAY_SIZE(nets), 0, &net, e)) < 0 ||
	    (r = get_enum(o, "spec", "pidMode", ns_modes, 3, 0, &pid, e)) < 0 ||
	    (r = get_enum(o, "spec", "ipcMode", ns_modes, 4, 0, &ipc, e)) < 0)
		return r;
	t->stop_timeout_default = (uint32_t)v;
	r = get_checked_strv(t, o, "spec", "addresses", 8, netname_ip_valid, &t->addrs, &n_addrs, e);
	if (r < 0)
		return r;
	r = parse_netns_path(t, o, net >= 2, e);
	if (r < 0)
		return r;
	t->net = net >= 2 ? SHIM_NET_JOIN : (enum shim_net_mode)net;
	t->pid_mode = (enum shim_ns_mode)pid;
	t->ipc_mode = (enum shim_ns_mode)ipc;
	return 0;
}

static int parse_task(struct shim_task *t, const cJSON *root, struct err *e)
{
	const cJSON *ctrs, *it;
	size_t i = 0;
	int r;

	if (!cJSON_IsObject(root))
		return err_setx(e, -EINVAL, "spec: not a JSON object");
	r = parse_task_fields(t, root, e);
	if (r < 0)
		return r;
	ctrs = field(root, "containers");
	if (!cJSON_IsArray(ctrs) || cJSON_GetArraySize(ctrs) < 1 ||
	    cJSON_GetArraySize(ctrs) > SHIM_MAX_CONTAINERS)
		return err_setx(e, -EINVAL, "spec: 'containers' must be an array of 1 to %d",
				SHIM_MAX_CONTAINERS);
	cJSON_ArrayForEach(it, ctrs) {
		r = parse_container(t, &t->ctrs[i], it, i, e);
		if (r < 0)
			return r;
		t->n_ctrs = ++i;
	}
	i = 0;
	cJSON_ArrayForEach(it, ctrs) {
		r = parse_deps(t, i++, it, e);
		if (r < 0)
			return r;
	}
	r = shim_vol_parse(t, field(root, "volumes"), e);
	if (r < 0)
		return r;
	return shim_deps_order(t, t->order, e);
}

int shim_spec_parse(const char *text, size_t len, struct shim_task *ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *root = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len > SHIM_SPEC_MAX)
		return err_setx(e, -EFBIG, "spec: larger than %u bytes", SHIM_SPEC_MAX);
	root = json_parse_strict(text, len);
	if (!root)
		return err_setx(e, -EINVAL, "spec: not valid JSON");
	r = parse_task(ret, root, e);
	if (r < 0)
		shim_task_release(ret);
	return r;
}
