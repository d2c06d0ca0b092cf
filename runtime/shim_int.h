/* runtime/shim_int.h - the shim's pieces (runtime/shim*.c); the contract
 * with the agent is runtime/shim.h.
 *
 *   shim_spec.c    spec.json -> struct shim_task (pure), dependsOn order
 *   shim_log.c     log drivers: json-file (rotation), none, syslog
 *   shim_json.c    a small growable buffer and JSON string escaping
 *   shim_status.c  status.json and the socket's answers
 *   shim.c         `berth shim`: detach, event loop, container lifecycle
 *   shim_ctl.c     the socket (status, stop, watch)
 *   shim_health.c  health checks inside the container's namespaces
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/err.h"
#include "runtime/dnsfiles.h"
#include "runtime/spec.h"

#define SHIM_MAX_CONTAINERS 10      /* ECS: containers per task definition */
#define SHIM_SPEC_MAX (1u << 20)    /* spec.json larger than this is refused */
#define SHIM_DEFAULT_SHIM_CGROUP "berth/shims"

enum shim_cond { SHIM_COND_START, SHIM_COND_COMPLETE, SHIM_COND_SUCCESS, SHIM_COND_HEALTHY };
enum shim_ns_mode { SHIM_NS_PRIVATE, SHIM_NS_TASK, SHIM_NS_HOST, SHIM_NS_NONE };
/* JOIN: bridge/awsvpc, the agent made the namespace (netnsPath). */
enum shim_net_mode { SHIM_NET_NONE, SHIM_NET_HOST, SHIM_NET_JOIN };
enum shim_log_driver { SHIM_LOG_JSON_FILE, SHIM_LOG_NONE, SHIM_LOG_SYSLOG };
/* Docker's syslog-format: "" is the local-socket form without hostname. */
enum shim_syslog_format { SHIM_SYSLOG_LOCAL, SHIM_SYSLOG_RFC3164, SHIM_SYSLOG_RFC5424 };

struct shim_dep {
	size_t idx;                 /* the container depended on */
	enum shim_cond cond;
};

struct shim_health_spec {
	char **argv;                /* NULL-terminated; CMD-SHELL -> /bin/sh -c */
	uint32_t interval, timeout, retries, start_period; /* seconds */
};

struct shim_log_spec {
	enum shim_log_driver driver;
	uint64_t max_size;          /* json-file: bytes, 0 = no rotation */
	unsigned max_file;          /* json-file: files kept, >= 1 */
	char *syslog_address;       /* NULL = /dev/log; "unix:///p" or "unixgram:///p" */
	char *tag;                  /* syslog tag; NULL = the container name */
	unsigned facility;          /* syslog facility number (daemon = 3) */
	enum shim_syslog_format format;
};

/* linuxParameters.devices: permissions as Docker's "rwm" */
struct shim_device {
	char *host_path, *container_path;
	bool read, write, mknod;
};

struct shim_ctr_spec {
	char *name;
	struct rt_spec rt;          /* rootfs, argv, env...: in the task's allocations */
	bool essential;
	struct shim_dep *deps;
	size_t n_deps;
	int64_t start_timeout;      /* seconds; -1 = none */
	int64_t stop_timeout;       /* seconds; -1 = the task's default */
	struct shim_health_spec *health;
	struct shim_log_spec log;
	/* /etc/resolv.conf and /etc/hosts (runtime/dnsfiles.h) */
	char **dns_servers, **dns_search;
	size_t n_dns_servers, n_dns_search;
	struct dns_extra_host *extra_hosts;
	size_t n_extra_hosts;
	struct shim_device *devices;
	size_t n_devices;
	char *tmpfs_json;           /* linuxParameters.tmpfs, JSON text for volumes/; NULL = none */
};

struct shim_task {
	char *task_arn, *task_id, *state_dir, *cgroup_parent, *shim_cgroup;
	char *netns_path;                   /* SHIM_NET_JOIN: the pinned nsfs file */
	bool cgroup_enforce;
	uint64_t cpu, memory, pids_limit;   /* 0 = none */
	enum shim_net_mode net;
	enum shim_ns_mode pid_mode, ipc_mode;
	uint32_t stop_timeout_default;
	char **addrs;               /* the task's own addresses (bridge, awsvpc); NULL = none */
	struct shim_ctr_spec ctrs[SHIM_MAX_CONTAINERS];
	size_t n_ctrs;
	size_t order[SHIM_MAX_CONTAINERS];  /* a start order honouring dependsOn */
	char cgroup_parent_task[512];       /* "<cgroupParent>/<taskId>": the containers' parent */
	struct shim_vol *vol;               /* spec.json "volumes" (shim_volumes.c); NULL = none */
	void **owned;                       /* every string and array above, freed at release */
	size_t n_owned, cap_owned;
};

/* Parses spec.json TEXT[0..LEN).  Pure; every check an outside file needs
 * (types, ranges, names, dependsOn targets and cycles).  On failure RET is
 * released and E says what is wrong. */
int shim_spec_parse(const char *text, size_t len, struct shim_task *ret, struct err *e);
void shim_task_release(struct shim_task *t);
/* shim_volumes.c: spec.json's "volumes" object (volumes/taskjson.c) into
 * T->vol, checked; absent or null = none.  Freed by shim_task_release. */
struct cJSON;
int shim_vol_parse(struct shim_task *t, const struct cJSON *obj, struct err *e);
void shim_vol_free(struct shim_task *t);
/* Pure: a start order of T's containers (ORDER[i] = container index) in
 * which every container comes after those it depends on; -ELOOP with the
 * names of a cycle in E. */
int shim_deps_order(const struct shim_task *t, size_t *order, struct err *e);
/* Pure: container NAME's linuxParameters.tmpfs list (JSON text) as the
 * volumes/ spec of a one-container task definition (runtime/shim_fields.c). */
struct vol_spec;
int shim_tmpfs_spec(const char *name, const char *tmpfs_json, struct vol_spec *ret, struct err *e);
/* Pure: "10m" / "1k" / "5g" / "1024" -> bytes (Docker's max-size units). */
int shim_parse_size(const char *s, uint64_t *ret);

/* ---- shim_json.c ---- */
struct sbuf {
	char *buf;
	size_t len, cap;
	bool oom;                   /* an append failed; the content is cut */
};
void sb_add(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* S[0..N) as a JSON string with quotes; invalid UTF-8 becomes U+FFFD. */
void sb_json_str(struct sbuf *b, const char *s, size_t n);
/* A JSON string or null. */
void sb_json_str_or_null(struct sbuf *b, const char *s);
void sb_release(struct sbuf *b);

/* RFC 3339 with nanoseconds, UTC, trailing zeros trimmed (Go's
 * RFC3339Nano, as Docker's json-file writes "time"). BUF >= 40 bytes. */
size_t shim_format_time(const struct timespec *ts, char *buf, size_t size);

/* ---- shim_log.c ---- */
#define SHIM_LOG_LINE_MAX 16384     /* longer lines are split (partial entries), as Docker */

struct shim_logger;
/* Opens CTR's log driver; json-file writes LOGS_DIR/<name>.log.  NAME is the
 * container's name, also the default syslog tag. */
int shim_log_open(const struct shim_log_spec *spec, const char *logs_dir, const char *name,
		  struct shim_logger **ret);
/* Bytes read from the container's stdout (STREAM 1) or stderr (2): split
 * into lines, each written as one entry.  Never blocks on the driver. */
void shim_log_feed(struct shim_logger *l, int stream, const char *data, size_t n);
/* The stream ended: what is left becomes a last (partial) entry. */
void shim_log_flush(struct shim_logger *l, int stream);
/* Accepts NULL. */
void shim_log_close(struct shim_logger *l);

/* Pure pieces, for tests. */
void shim_log_json_entry(struct sbuf *b, const char *text, size_t n, int stream,
			 const struct timespec *ts);
void shim_log_syslog_entry(struct sbuf *b, const struct shim_log_spec *spec, const char *tag,
			   const char *hostname, int pid, const char *text, size_t n, int stream,
			   const struct timespec *ts);
/* Rotates DIRFD/NAME -> NAME.1 -> ... -> NAME.<MAX_FILE-1> (the oldest
 * dropped); with MAX_FILE 1 the file is emptied.  Returns the new file's fd. */
int shim_log_rotate(int dirfd, const char *name, unsigned max_file);
