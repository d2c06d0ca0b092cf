/* lib/config.h - berth.conf: ECS-style KEY=VALUE settings.
 *
 * Format (as ECS's ecs.config): one KEY=VALUE per line, split at the first
 * '='; key and value are trimmed; no quoting, escaping or expansion; blank
 * lines and lines starting with '#' are skipped.  An empty value means the
 * default.  Every key is BERTH_*; where an ECS_* key means the same it is an
 * alias.  Precedence: environment > file > default, and at one level the
 * BERTH_ name beats its ECS_ alias.  Unknown BERTH_ keys in the file are an
 * error (typos must not pass silently); unknown ECS_ keys and other names
 * are ignored with a warning (ecs.config files carry many keys we don't
 * use).  Unknown BERTH_ variables in the environment only warn: the
 * environment is shared with the CLI and the tests.
 *
 * The key table (config_keys[]) is data: --print-config-keys renders it.
 * Nothing here logs: warnings are collected in struct config for the caller.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/err.h"

enum config_key {
	CFG_CLUSTER,
	CFG_STATE_DIR,
	CFG_RUN_DIR,
	CFG_API_SOCKET,
	CFG_API_LISTEN,
	CFG_ACCESS_KEYS,
	CFG_REGION,
	CFG_ACCOUNT_ID,
	CFG_LOGLEVEL,
	CFG_API_MAX_CONNECTIONS,
	CFG_API_CONNECTION_TIMEOUT,
	CFG_CGROUP_ENFORCE,
	CFG_RESERVED_PORTS,
	CFG_RESERVED_PORTS_UDP,
	CFG_DYNAMIC_HOST_PORT_RANGE,
	CFG_INSTANCE_ATTRIBUTES,
	CFG_CONTAINER_INSTANCE_TAGS,
	CFG_RESERVED_MEMORY,
	CFG_CONTAINER_STOP_TIMEOUT,
	CFG_CONTAINER_START_TIMEOUT,
	CFG_TASK_CLEANUP_WAIT,
	CFG_TASK_RETENTION,
	CFG_AVAILABLE_LOGGING_DRIVERS,
	CFG_TASK_PIDS_LIMIT,
	CFG_IMAGE_PULL_BEHAVIOR,
	CFG_CGROUP_PARENT,
	CFG_DEFAULT_REGISTRY,
	CFG_REGISTRY_AUTH,
	CFG_INSECURE_REGISTRIES,
	CFG_IMAGE_MAX_UNPACKED,
	CFG_IMAGE_MAX_ENTRIES,
	CFG_BRIDGE,
	CFG_BRIDGE_SUBNET,
	CFG_HOST_VOLUME_ROOTS,
	CFG_SHARED_FILESYSTEMS,
	CFG_SHARED_VOLUME_MATCH_FULL_CONFIG,
	CFG_AGENT_HEARTBEAT_TIMEOUT,
	CFG_CONTROLLER,
	CFG_AGENT_ACCESS_KEY_ID,
	CFG_AGENT_SECRET_ACCESS_KEY,
	CFG_AVAILABILITY_ZONE,
	CFG_INSTANCE_TYPE,
	CFG_EMBEDDED_AGENT,
	_CFG_MAX,
};

enum config_type {
	CFGT_STRING,
	CFGT_PATH,        /* absolute */
	CFGT_NAME,        /* 1-255 of [A-Za-z0-9_-] (ECS cluster names) */
	CFGT_REGION,      /* 1-32 of [a-z0-9-] */
	CFGT_ACCOUNT,     /* 12 digits */
	CFGT_LISTEN,      /* ADDR:PORT, [V6ADDR]:PORT */
	CFGT_BOOL,        /* true|false|on|off|yes|no|1|0 */
	CFGT_UINT,        /* decimal in [min, max] */
	CFGT_DURATION,    /* Go syntax: 30s, 10m, 1h30m, 500ms; below min is raised */
	CFGT_CHOICE,      /* one of choices ("a|b|c") */
	CFGT_PORT_LIST,   /* JSON array of ports 1-65535 */
	CFGT_STRING_LIST, /* JSON array of strings */
	CFGT_STRING_MAP,  /* JSON object of string values */
	CFGT_PORT_RANGE,  /* START-END, 1 <= START < END <= 65535 */
};

struct config_key_def {
	const char *key;
	const char *alias;      /* ECS_* name, or NULL */
	const char *def;        /* default value; "$KEY/..." expands another key; NULL = unset */
	const char *def_doc;    /* how the default reads in the docs when def is not enough */
	enum config_type type;
	bool lenient;           /* invalid value: warn and use the default (as ECS) */
	uint64_t min, max;      /* CFGT_UINT bounds; CFGT_DURATION min in usec */
	const char *choices;    /* CFGT_CHOICE */
	const char *doc;
};

extern const struct config_key_def config_keys[_CFG_MAX];

#define CONFIG_MAX_WARNINGS 16

struct config {
	char *val[_CFG_MAX];            /* effective value (malloc'd); NULL = unset */
	char origin[_CFG_MAX][96];      /* "FILE:LINE", "environment", "default" */
	uint8_t prio[_CFG_MAX];         /* which setting won so far (see config.c) */
	char warnings[CONFIG_MAX_WARNINGS][256];
	unsigned n_warnings;            /* may exceed CONFIG_MAX_WARNINGS: extra are dropped */
};

/* Puts every effective value into the process environment under its BERTH_
 * name (as ecs-init hands the merged ecs.config to the agent as its
 * environment), so the libraries that read their settings from the
 * environment, and the helpers and shims the daemon starts, see exactly
 * what the file and the environment decided.  0 or -errno. */
int config_export_env(const struct config *cfg);

/* What a long-running berth process (daemon, agent) does with its
 * configuration as it starts: config_load() from PATH and the process
 * environment, the log level it names, its warnings logged, then
 * config_export_env().  Failures are logged; CFG is left released.  0 or
 * -errno. */
int config_load_process(struct config *cfg, const char *path, bool required);

/* Loads PATH (a missing file is fine unless REQUIRED), then the environment
 * ENVP (NULL-terminated "K=V" strings, NULL for none), then defaults, and
 * validates every value.  On failure *cfg holds nothing to release. */
int config_load(struct config *cfg, const char *path, bool required, char *const *envp,
		struct err *e);

/* The steps of config_load, for tests: start with config_init, end with
 * config_finish; config_release frees the values on every path. */
void config_init(struct config *cfg);
int config_parse_buf(struct config *cfg, const char *buf, size_t len, const char *name,
		     struct err *e);
int config_apply_env(struct config *cfg, char *const *envp, struct err *e);
int config_finish(struct config *cfg, struct err *e);
void config_release(struct config *cfg);

/* Getters for a finished config.  config_get returns NULL when unset. */
const char *config_get(const struct config *cfg, enum config_key k);
bool config_get_bool(const struct config *cfg, enum config_key k);
uint64_t config_get_u64(const struct config *cfg, enum config_key k);
/* Durations in microseconds, raised to the key's minimum. */
uint64_t config_get_usec(const struct config *cfg, enum config_key k);

/* Validators, also used by the daemon: 0 or -EINVAL. */
int config_parse_bool(const char *s, bool *ret);
int config_parse_duration(const char *s, uint64_t *ret_usec);
int config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);
int config_parse_port_range(const char *s, uint16_t *ret_start, uint16_t *ret_end);

/* The key table as a markdown table (for the README). */
void config_print_keys(FILE *out);
