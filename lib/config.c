/* lib/config.c - berth.conf parsing: the key table, the file, the environment. */
#include "lib/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "lib/log.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define SEC 1000000ULL

/* prio = level * 2 + (set by the BERTH_ name); a setting wins over an equal
 * or lower one, so later lines override earlier ones at the same level. */
enum { LEVEL_DEFAULT = 0, LEVEL_FILE = 1, LEVEL_ENV = 2 };

const struct config_key_def config_keys[_CFG_MAX] = {
	[CFG_CLUSTER] = { "BERTH_CLUSTER", "ECS_CLUSTER", "default", NULL, CFGT_NAME, false, 0, 0, NULL,
		"Cluster the daemon creates on first start and registers this host into." },
	[CFG_STATE_DIR] = { "BERTH_STATE_DIR", NULL, "/var/lib/berth", NULL, CFGT_PATH, false, 0, 0, NULL,
		"Durable state: `berth.db` (SQLite, WAL), `berth.lock`, task volumes." },
	[CFG_RUN_DIR] = { "BERTH_RUN_DIR", NULL, "/run/berth", NULL, CFGT_PATH, false, 0, 0, NULL,
		"Runtime state: the API socket, task shims." },
	[CFG_API_SOCKET] = { "BERTH_API_SOCKET", NULL, "$BERTH_RUN_DIR/api.sock", NULL, CFGT_PATH, false, 0, 0, NULL,
		"Unix socket of the API (mode 0600; the caller must be uid 0)." },
	[CFG_API_LISTEN] = { "BERTH_API_LISTEN", NULL, NULL, "off", CFGT_LISTEN, false, 0, 0, NULL,
		"TCP address of the API, `ADDR:PORT` or `[V6ADDR]:PORT`; every request must carry SigV4. Needs `BERTH_ACCESS_KEYS`." },
	[CFG_ACCESS_KEYS] = { "BERTH_ACCESS_KEYS", NULL, NULL, "none", CFGT_PATH, false, 0, 0, NULL,
		"JSON access-key file for SigV4 (`{\"accessKeys\": [{\"accessKeyId\", \"secretAccessKey\", \"principal\", \"role\"?}]}`, role `user` (default) or `agent`: agent keys may call only the agent actions); must not be readable by group or others." },
	[CFG_REGION] = { "BERTH_REGION", NULL, "local", NULL, CFGT_REGION, false, 0, 0, NULL,
		"Region in ARNs and in the SigV4 credential scope." },
	[CFG_ACCOUNT_ID] = { "BERTH_ACCOUNT_ID", NULL, "000000000000", NULL, CFGT_ACCOUNT, false, 0, 0, NULL,
		"Account id in ARNs (12 digits)." },
	[CFG_LOGLEVEL] = { "BERTH_LOGLEVEL", "ECS_LOGLEVEL", "info", NULL, CFGT_CHOICE, false, 0, 0,
		"crit|error|warn|info|debug", "Log level: `crit`, `error`, `warn`, `info` or `debug`." },
	[CFG_API_MAX_CONNECTIONS] = { "BERTH_API_MAX_CONNECTIONS", NULL, "64", NULL, CFGT_UINT, false, 1, 10000, NULL,
		"Concurrent API connections per listener; further clients wait until one closes." },
	[CFG_API_CONNECTION_TIMEOUT] = { "BERTH_API_CONNECTION_TIMEOUT", NULL, "30s", NULL, CFGT_DURATION, false, SEC, 0, NULL,
		"An API connection idle this long is closed (at least 1s)." },
	[CFG_CGROUP_ENFORCE] = { "BERTH_CGROUP_ENFORCE", NULL, "on", NULL, CFGT_BOOL, false, 0, 0, NULL,
		"Refuse to start a task whose cpu/memory limits cannot be enforced (no cgroup v2 controllers); `off` runs it unlimited." },
	[CFG_RESERVED_PORTS] = { "BERTH_RESERVED_PORTS", "ECS_RESERVED_PORTS", "[22, 2375, 2376, 51678, 51679]", NULL,
		CFGT_PORT_LIST, true, 0, 0, NULL,
		"JSON array of TCP host ports never given to tasks; replaces (does not extend) the default. Invalid: warning, default used." },
	[CFG_RESERVED_PORTS_UDP] = { "BERTH_RESERVED_PORTS_UDP", "ECS_RESERVED_PORTS_UDP", "[]", NULL,
		CFGT_PORT_LIST, true, 0, 0, NULL, "As above, for UDP." },
	[CFG_DYNAMIC_HOST_PORT_RANGE] = { "BERTH_DYNAMIC_HOST_PORT_RANGE", "ECS_DYNAMIC_HOST_PORT_RANGE", NULL,
		"kernel `ip_local_port_range`, else `49153-65535`", CFGT_PORT_RANGE, true, 0, 0, NULL,
		"`START-END` range for dynamic host ports (`hostPort` 0). Invalid: warning, default used." },
	[CFG_INSTANCE_ATTRIBUTES] = { "BERTH_INSTANCE_ATTRIBUTES", "ECS_INSTANCE_ATTRIBUTES", "{}", NULL,
		CFGT_STRING_MAP, false, 0, 0, NULL,
		"JSON object of custom attributes (string values), applied at the first registration only. Malformed: the daemon refuses to start." },
	[CFG_CONTAINER_INSTANCE_TAGS] = { "BERTH_CONTAINER_INSTANCE_TAGS", "ECS_CONTAINER_INSTANCE_TAGS", "{}", NULL,
		CFGT_STRING_MAP, false, 0, 0, NULL, "JSON object of tags put on the container instance at registration." },
	[CFG_RESERVED_MEMORY] = { "BERTH_RESERVED_MEMORY", "ECS_RESERVED_MEMORY", "0", NULL, CFGT_UINT, false, 0,
		UINT32_MAX, NULL, "MiB subtracted from the host's memory before it is registered." },
	[CFG_CONTAINER_STOP_TIMEOUT] = { "BERTH_CONTAINER_STOP_TIMEOUT", "ECS_CONTAINER_STOP_TIMEOUT", "30s", NULL,
		CFGT_DURATION, false, SEC, 0, NULL,
		"Time between SIGTERM and SIGKILL when a container stops (at least 1s); a container's `stopTimeout` overrides it." },
	[CFG_CONTAINER_START_TIMEOUT] = { "BERTH_CONTAINER_START_TIMEOUT", "ECS_CONTAINER_START_TIMEOUT", "3m", NULL,
		CFGT_DURATION, false, 45 * SEC, 0, NULL, "How long a container may take to start (at least 45s)." },
	[CFG_TASK_CLEANUP_WAIT] = { "BERTH_TASK_CLEANUP_WAIT", "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION", "3h", NULL,
		CFGT_DURATION, false, SEC, 0, NULL,
		"Time after a task stops before its containers and task volumes are removed (at least 1s)." },
	[CFG_TASK_RETENTION] = { "BERTH_TASK_RETENTION", NULL, "1h", NULL, CFGT_DURATION, false, SEC, 0, NULL,
		"How long a STOPPED task stays visible to DescribeTasks and ListTasks (at least 1s; ECS keeps them at least an hour)." },
	[CFG_AVAILABLE_LOGGING_DRIVERS] = { "BERTH_AVAILABLE_LOGGING_DRIVERS", "ECS_AVAILABLE_LOGGING_DRIVERS",
		"[\"json-file\",\"none\"]", NULL, CFGT_STRING_LIST, true, 0, 0, NULL,
		"JSON array of log drivers this host offers; tasks using others cannot be placed here. Invalid: warning, default used." },
	[CFG_TASK_PIDS_LIMIT] = { "BERTH_TASK_PIDS_LIMIT", "ECS_TASK_PIDS_LIMIT", NULL, "unlimited", CFGT_UINT, false, 1,
		4194304, NULL, "`pids.max` of every task's cgroup (1-4194304)." },
	[CFG_IMAGE_PULL_BEHAVIOR] = { "BERTH_IMAGE_PULL_BEHAVIOR", "ECS_IMAGE_PULL_BEHAVIOR", "default", NULL, CFGT_CHOICE,
		false, 0, 0, "default|always|once|prefer-cached",
		"`default`, `always`, `once` or `prefer-cached`, as ECS." },
	[CFG_CGROUP_PARENT] = { "BERTH_CGROUP_PARENT", NULL, "berth", NULL, CFGT_STRING, false, 0, 0, NULL,
		"cgroup below the cgroup2 mount that holds berth's containers, tasks and shims." },
	[CFG_DEFAULT_REGISTRY] = { "BERTH_DEFAULT_REGISTRY", NULL, NULL, "Docker Hub (`docker.io`)", CFGT_STRING,
		false, 0, 0, NULL, "Registry for bare image names (`busybox`); Docker Hub's `library/` rule applies only there." },
	[CFG_REGISTRY_AUTH] = { "BERTH_REGISTRY_AUTH", NULL, NULL, "none", CFGT_STRING, false, 0, 0, NULL,
		"Registry credentials `host=user:pass[,host=user:pass]` (a bare `user:pass` is for `BERTH_DEFAULT_REGISTRY` only); sent only when a registry asks. `/root/.docker/config.json` `auths` are read too." },
	[CFG_INSECURE_REGISTRIES] = { "BERTH_INSECURE_REGISTRIES", NULL, NULL, "none", CFGT_STRING, false, 0, 0, NULL,
		"Comma-separated registries spoken to over plain HTTP; all others need HTTPS, for redirects and token realms too." },
	[CFG_IMAGE_MAX_UNPACKED] = { "BERTH_IMAGE_MAX_UNPACKED", NULL, "16G", NULL, CFGT_STRING, false, 0, 0, NULL,
		"Cap on one layer's unpacked file data (K/M/G/T suffixes), and never past the state filesystem's free space." },
	[CFG_IMAGE_MAX_ENTRIES] = { "BERTH_IMAGE_MAX_ENTRIES", NULL, "1000000", NULL, CFGT_UINT, false, 1,
		UINT32_MAX, NULL, "Cap on one layer's entries." },
	[CFG_BRIDGE] = { "BERTH_BRIDGE", NULL, "berth0", NULL, CFGT_STRING, false, 0, 0, NULL,
		"Bridge of bridge/awsvpc task networks." },
	[CFG_BRIDGE_SUBNET] = { "BERTH_BRIDGE_SUBNET", NULL, "10.213.0.0/16", NULL, CFGT_STRING, false, 0, 0, NULL,
		"IPv4 subnet of the bridge (clear of Docker's 172.17/16 and AWS's default VPC 172.31/16)." },
	[CFG_HOST_VOLUME_ROOTS] = { "BERTH_HOST_VOLUME_ROOTS", NULL, NULL, "any path", CFGT_STRING, false, 0, 0, NULL,
		"Directories host volumes (`sourcePath`, `local` driver binds) must lie beneath: a JSON array or a colon-separated list." },
	[CFG_SHARED_FILESYSTEMS] = { "BERTH_SHARED_FILESYSTEMS", NULL, NULL, "none", CFGT_STRING, false, 0, 0, NULL,
		"JSON object mapping an `efsVolumeConfiguration` `fileSystemId` to `{type, device, options}` or a host path." },
	[CFG_SHARED_VOLUME_MATCH_FULL_CONFIG] = { "BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG",
		"ECS_SHARED_VOLUME_MATCH_FULL_CONFIG", "false", NULL, CFGT_BOOL, false, 0, 0, NULL,
		"A shared named volume must match the task's `labels` and `driverOpts` too, not only its name (as ECS)." },
	[CFG_AGENT_HEARTBEAT_TIMEOUT] = { "BERTH_AGENT_HEARTBEAT_TIMEOUT", NULL, "60", NULL, CFGT_UINT, false, 1,
		86400, NULL, "Seconds after an agent's last poll or report before its instance shows `agentConnected: false` and gets no placements; `berth agent` polls at least three times within it." },
	[CFG_CONTROLLER] = { "BERTH_CONTROLLER", NULL, NULL, "none", CFGT_STRING, false, 0, 0, NULL,
		"`berth agent`: the control plane's API, `http://HOST:PORT` (its `BERTH_API_LISTEN`); `--controller` overrides it." },
	[CFG_AGENT_ACCESS_KEY_ID] = { "BERTH_AGENT_ACCESS_KEY_ID", NULL, NULL, "none", CFGT_STRING, false, 0, 0, NULL,
		"`berth agent`: access key id it signs with (a key with `\"role\": \"agent\"` in the control plane's `BERTH_ACCESS_KEYS`)." },
	[CFG_AGENT_SECRET_ACCESS_KEY] = { "BERTH_AGENT_SECRET_ACCESS_KEY", NULL, NULL, "none", CFGT_STRING, false, 0, 0, NULL,
		"`berth agent`: the secret of that key." },
	[CFG_AVAILABILITY_ZONE] = { "BERTH_AVAILABILITY_ZONE", NULL, NULL, "none", CFGT_STRING, false, 0, 0, NULL,
		"Registered as the `ecs.availability-zone` attribute (edge: the site or rack)." },
	[CFG_INSTANCE_TYPE] = { "BERTH_INSTANCE_TYPE", NULL, NULL, "none", CFGT_STRING, false, 0, 0, NULL,
		"Registered as the `ecs.instance-type` attribute (edge: the host class)." },
	[CFG_EMBEDDED_AGENT] = { "BERTH_EMBEDDED_AGENT", NULL, "true", NULL, CFGT_BOOL, false, 0, 0, NULL,
		"`berth daemon` runs an agent for its own host; `false`: control plane only (hosts join with `berth agent`)." },
};

static void add_warning(struct config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_warning(struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->n_warnings < CONFIG_MAX_WARNINGS) {
		va_start(ap, fmt);
		vsnprintf(cfg->warnings[cfg->n_warnings], sizeof(cfg->warnings[0]), fmt, ap);
		va_end(ap);
	}
	cfg->n_warnings++;
}

int config_export_env(const struct config *cfg)
{
	for (int k = 0; k < _CFG_MAX; k++)
		if (cfg->val[k] && setenv(config_keys[k].key, cfg->val[k], 1) < 0)
			return -errno;
	return 0;
}

int config_load_process(struct config *cfg, const char *path, bool required)
{
	struct err e = ERR_INIT;
	enum log_level lvl;
	int r = config_load(cfg, path, required, environ, &e);

	if (r < 0) {
		log_error("%s", e.msg);
		return r;
	}
	if (log_parse_level(config_get(cfg, CFG_LOGLEVEL), &lvl) == 0)
		log_set_level(lvl);
	for (unsigned i = 0; i < cfg->n_warnings && i < CONFIG_MAX_WARNINGS; i++)
		log_warn("config: %s", cfg->warnings[i]);
	if (cfg->n_warnings > CONFIG_MAX_WARNINGS)
		log_warn("config: %u more warnings not shown", cfg->n_warnings - CONFIG_MAX_WARNINGS);
	r = config_export_env(cfg);
	if (r < 0) {
		log_error_errno(r, "export the configuration to the environment");
		config_release(cfg);
	}
	return r;
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void config_release(struct config *cfg)
{
	for (int k = 0; k < _CFG_MAX; k++) {
		free(cfg->val[k]);
		cfg->val[k] = NULL;
	}
}

/* Finds KEY by its BERTH_ name or ECS_ alias; *ret_primary says which. */
static int lookup_key(const char *key, size_t len, bool *ret_primary)
{
	for (int k = 0; k < _CFG_MAX; k++) {
		const struct config_key_def *d = &config_keys[k];

		if (strlen(d->key) == len && memcmp(d->key, key, len) == 0) {
			*ret_primary = true;
			return k;
		}
		if (d->alias && strlen(d->alias) == len && memcmp(d->alias, key, len) == 0) {
			*ret_primary = false;
			return k;
		}
	}
	return -ENOENT;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* Records VALUE for key K unless a stronger setting is already there.  An
 * empty value means "default": it clears a weaker setting. */
static int set_value(struct config *cfg, int k, bool primary, int level, const char *value,
		     size_t vlen, const char *origin)
{
	uint8_t prio = (uint8_t)(level * 2 + (primary ? 1 : 0));
	char *v = NULL;

	if (prio < cfg->prio[k])
		return 0;
	if (vlen) {
		v = strndup(value, vlen);
		if (!v)
			return -ENOMEM;
	}
	free(cfg->val[k]);
	cfg->val[k] = v;
	cfg->prio[k] = prio;
	snprintf(cfg->origin[k], sizeof(cfg->origin[k]), "%s", origin);
	return 0;
}

static bool valid_key_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static int parse_line(struct config *cfg, const char *line, size_t len, const char *name,
		      unsigned lineno, struct err *e)
{
	const char *key = line, *eq, *value;
	size_t klen, vlen;
	char origin[96];
	bool primary;
	int k;

	trim(&key, &len);
	if (len == 0 || key[0] == '#')
		return 0;
	if (memchr(key, '\0', len))
		return err_setx(e, -EINVAL, "%s:%u: NUL byte in line", name, lineno);
	eq = memchr(key, '=', len);
	if (!eq)
		return err_setx(e, -EINVAL, "%s:%u: expected KEY=VALUE, got '%.*s'", name, lineno,
				(int)(len > 64 ? 64 : len), key);
	klen = (size_t)(eq - key);
	value = eq + 1;
	vlen = len - klen - 1;
	trim(&key, &klen);
	trim(&value, &vlen);
	if (!valid_key_name(key, klen))
		return err_setx(e, -EINVAL, "%s:%u: invalid key '%.*s' (keys are A-Z, 0-9 and _)",
				name, lineno, (int)(klen > 64 ? 64 : klen), key);
	k = lookup_key(key, klen, &primary);
	if (k < 0) {
		if (has_prefix(key, klen, "BERTH_"))
			return err_setx(e, -EINVAL, "%s:%u: unknown key '%.*s' (see 'berth daemon --print-config-keys')",
					name, lineno, (int)klen, key);
		add_warning(cfg, "%s:%u: key '%.*s' is not used by berth, ignoring", name, lineno,
			    (int)klen, key);
		return 0;
	}
	snprintf(origin, sizeof(origin), "%s:%u", name, lineno);
	if (set_value(cfg, k, primary, LEVEL_FILE, value, vlen, origin) < 0)
		return err_set(e, -ENOMEM, "%s:%u", name, lineno);
	return 0;
}

int config_parse_buf(struct config *cfg, const char *buf, size_t len, const char *name,
		     struct err *e)
{
	unsigned lineno = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		int r;

		lineno++;
		r = parse_line(cfg, buf + pos, end - pos, name, lineno, e);
		if (r < 0)
			return r;
		pos = end + 1;
	}
	return 0;
}

int config_apply_env(struct config *cfg, char *const *envp, struct err *e)
{
	for (; envp && *envp; envp++) {
		const char *s = *envp, *eq = strchr(s, '=');
		bool primary;
		int k;

		if (!eq || !(has_prefix(s, (size_t)(eq - s), "BERTH_") || has_prefix(s, (size_t)(eq - s), "ECS_")))
			continue;
		k = lookup_key(s, (size_t)(eq - s), &primary);
		if (k < 0) {
			/* ECS_ variables are common in ECS hosts' environments. */
			if (has_prefix(s, (size_t)(eq - s), "BERTH_"))
				add_warning(cfg, "environment variable '%.*s' is not a berth setting, ignoring",
					    (int)(eq - s), s);
			continue;
		}
		if (set_value(cfg, k, primary, LEVEL_ENV, eq + 1, strlen(eq + 1), "environment") < 0)
			return err_set(e, -ENOMEM, "environment");
	}
	return 0;
}

/* --- validators --- */

int config_parse_bool(const char *s, bool *ret)
{
	static const struct { const char *word; bool value; } words[] = {
		{ "true", true }, { "on", true }, { "yes", true }, { "1", true },
		{ "false", false }, { "off", false }, { "no", false }, { "0", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i].word) == 0) {
			*ret = words[i].value;
			return 0;
		}
	return -EINVAL;
}

int config_parse_duration(const char *s, uint64_t *ret_usec)
{
	static const struct { const char *unit; uint64_t usec; } units[] = {
		{ "ms", 1000 }, { "us", 1 }, { "µs", 1 }, { "ns", 0 },
		{ "h", 3600 * SEC }, { "m", 60 * SEC }, { "s", SEC },
	};
	uint64_t total = 0;

	if (strcmp(s, "0") == 0) {
		*ret_usec = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		uint64_t whole = 0, frac = 0, scale = 1, add;
		size_t i;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++) {
			if (whole > UINT32_MAX)
				return -ERANGE;
			whole = whole * 10 + (uint64_t)(*s - '0');
		}
		if (*s == '.') {
			if (!isdigit((unsigned char)*++s))
				return -EINVAL;
			for (; isdigit((unsigned char)*s); s++)
				if (scale < 1000000000) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				}
		}
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (strncmp(s, units[i].unit, strlen(units[i].unit)) == 0)
				break;
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		s += strlen(units[i].unit);
		add = whole * units[i].usec + frac * units[i].usec / scale;
		if (units[i].usec == 0)
			add = whole / 1000;     /* nanoseconds */
		if (total + add < total)
			return -ERANGE;
		total += add;
	}
	*ret_usec = total;
	return 0;
}

static int parse_port(const char *s, const char *end, uint16_t *ret)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (; s < end; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hlen;
	uint16_t port;

	if (!colon || parse_port(colon + 1, colon + 1 + strlen(colon + 1), &port) < 0)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ret;

		if (hlen < 3 || s[hlen - 1] != ']')
			return -EINVAL;
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*ret_len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ret;

		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*ret_len = sizeof(*sin);
	}
	return 0;
}

int config_parse_port_range(const char *s, uint16_t *ret_start, uint16_t *ret_end)
{
	const char *dash = strchr(s, '-');
	uint16_t a, b;

	if (!dash || parse_port(s, dash, &a) < 0 || parse_port(dash + 1, dash + 1 + strlen(dash + 1), &b) < 0)
		return -EINVAL;
	if (a >= b)
		return -EINVAL;
	*ret_start = a;
	*ret_end = b;
	return 0;
}

static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;

	if (!isdigit((unsigned char)s[0]) || parse_u64(s, &v) < 0 || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static bool chars_ok(const char *s, size_t min, size_t max, const char *extra, bool upper)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    !(upper && isupper((unsigned char)*s)) && !strchr(extra, *s))
			return false;
	return true;
}

static bool choice_ok(const char *s, const char *choices)
{
	size_t n = strlen(s);

	for (const char *c = choices; c; c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL) {
		const char *end = strchr(c, '|');
		size_t clen = end ? (size_t)(end - c) : strlen(c);

		if (clen == n && strncmp(c, s, n) == 0)
			return true;
	}
	return false;
}

/* JSON values: the item type every element (or member) must have. */
static bool json_ok(const char *s, enum config_type t)
{
	cJSON *j = cJSON_Parse(s), *it;
	bool ok = j && (t == CFGT_STRING_MAP ? cJSON_IsObject(j) : cJSON_IsArray(j));

	if (!ok) {
		cJSON_Delete(j);
		return false;
	}
	cJSON_ArrayForEach(it, j) {
		if (t == CFGT_PORT_LIST)
			ok = cJSON_IsNumber(it) && it->valuedouble >= 1 && it->valuedouble <= 65535 &&
			     it->valuedouble == (double)it->valueint;
		else
			ok = cJSON_IsString(it);
		if (!ok)
			break;
	}
	cJSON_Delete(j);
	return ok;
}

/* Returns NULL when S is valid for D, else what was expected. */
static const char *check_value(const struct config_key_def *d, const char *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t a, b;
	uint64_t u;
	bool bo;

	switch (d->type) {
	case CFGT_STRING:
		return NULL;
	case CFGT_PATH:
		return s[0] == '/' ? NULL : "an absolute path";
	case CFGT_NAME:
		return chars_ok(s, 1, 255, "_-", true) ? NULL : "1-255 letters, digits, '_' or '-'";
	case CFGT_REGION:
		return chars_ok(s, 1, 32, "-", false) ? NULL : "1-32 lowercase letters, digits or '-'";
	case CFGT_ACCOUNT:
		return strlen(s) == 12 && chars_ok(s, 12, 12, "", false) &&
		       strspn(s, "0123456789") == 12 ? NULL : "12 digits";
	case CFGT_LISTEN:
		return config_parse_listen(s, &ss, &sl) == 0 ? NULL : "ADDR:PORT or [V6ADDR]:PORT";
	case CFGT_BOOL:
		return config_parse_bool(s, &bo) == 0 ? NULL : "on or off (true/false, yes/no, 1/0)";
	case CFGT_UINT:
		return parse_uint(s, d->min, d->max, &u) == 0 ? NULL : "a whole number in range";
	case CFGT_DURATION:
		return config_parse_duration(s, &u) == 0 ? NULL : "a duration such as 30s, 10m or 1h30m";
	case CFGT_CHOICE:
		return choice_ok(s, d->choices) ? NULL : d->choices;
	case CFGT_PORT_LIST:
		return json_ok(s, d->type) ? NULL : "a JSON array of ports 1-65535";
	case CFGT_STRING_LIST:
		return json_ok(s, d->type) ? NULL : "a JSON array of strings";
	case CFGT_STRING_MAP:
		return json_ok(s, d->type) ? NULL : "a JSON object with string values";
	case CFGT_PORT_RANGE:
		return config_parse_port_range(s, &a, &b) == 0 ? NULL : "START-END with 1 <= START < END <= 65535";
	}
	return "a known type";
}

/* "$KEY/rest" in a default is KEY's effective value followed by "/rest". */
static int expand_default(struct config *cfg, const char *def, char **ret)
{
	const char *slash;
	bool primary;
	int k;

	if (def[0] != '$') {
		*ret = strdup(def);
		return *ret ? 0 : -ENOMEM;
	}
	slash = strchr(def, '/');
	k = slash ? lookup_key(def + 1, (size_t)(slash - def - 1), &primary) : -ENOENT;
	if (k < 0 || !cfg->val[k])
		return -EINVAL;
	return asprintf(ret, "%s%s", cfg->val[k], slash) < 0 ? -ENOMEM : 0;
}

static int use_default(struct config *cfg, int k)
{
	const char *def = config_keys[k].def;

	free(cfg->val[k]);
	cfg->val[k] = NULL;
	cfg->prio[k] = 0;
	snprintf(cfg->origin[k], sizeof(cfg->origin[k]), "default");
	if (!def)
		return 0;
	return expand_default(cfg, def, &cfg->val[k]);
}

int config_finish(struct config *cfg, struct err *e)
{
	/* Table order matters for "$KEY" defaults: a key comes after the one it uses. */
	for (int k = 0; k < _CFG_MAX; k++) {
		const struct config_key_def *d = &config_keys[k];
		const char *why;

		if (!cfg->val[k]) {
			if (use_default(cfg, k) < 0)
				return err_set(e, -ENOMEM, "default of %s", d->key);
			continue;
		}
		why = check_value(d, cfg->val[k]);
		if (!why)
			continue;
		if (!d->lenient)
			return err_setx(e, -EINVAL, "%s: invalid %s='%s': expected %s", cfg->origin[k], d->key,
					cfg->val[k], why);
		add_warning(cfg, "%s: invalid %s='%s' (expected %s), using the default", cfg->origin[k],
			    d->key, cfg->val[k], why);
		if (use_default(cfg, k) < 0)
			return err_set(e, -ENOMEM, "default of %s", d->key);
	}
	return 0;
}

int config_load(struct config *cfg, const char *path, bool required, char *const *envp,
		struct err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	config_init(cfg);
	r = read_file_alloc(path, CONFIG_FILE_MAX, &buf, &len);
	if (r == -ENOENT && !required)
		r = 0;
	else if (r < 0)
		return err_set(e, r, "read config '%s'", path);
	if (buf)
		r = config_parse_buf(cfg, buf, len, path, e);
	if (r >= 0)
		r = config_apply_env(cfg, envp, e);
	if (r >= 0)
		r = config_finish(cfg, e);
	if (r < 0)
		config_release(cfg);
	return r;
}

const char *config_get(const struct config *cfg, enum config_key k)
{
	return cfg->val[k];
}

bool config_get_bool(const struct config *cfg, enum config_key k)
{
	bool b = false;

	if (cfg->val[k])
		(void)config_parse_bool(cfg->val[k], &b);   /* validated by config_finish */
	return b;
}

uint64_t config_get_u64(const struct config *cfg, enum config_key k)
{
	uint64_t v = 0;

	if (cfg->val[k])
		(void)parse_u64(cfg->val[k], &v);           /* validated by config_finish */
	return v;
}

uint64_t config_get_usec(const struct config *cfg, enum config_key k)
{
	uint64_t v = 0;

	if (cfg->val[k])
		(void)config_parse_duration(cfg->val[k], &v);
	return v < config_keys[k].min ? config_keys[k].min : v;
}

void config_print_keys(FILE *out)
{
	fprintf(out, "| Key | ECS alias | Default | Meaning |\n|---|---|---|---|\n");
	for (int k = 0; k < _CFG_MAX; k++) {
		const struct config_key_def *d = &config_keys[k];

		fprintf(out, "| `%s` | %s%s%s | ", d->key, d->alias ? "`" : "", d->alias ? d->alias : "-",
			d->alias ? "`" : "");
		if (d->def_doc)
			fprintf(out, "%s", d->def_doc);
		else
			fprintf(out, "`%s`", d->def);
		fprintf(out, " | %s |\n", d->doc);
	}
}
