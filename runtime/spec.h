/* runtime/spec.h - what one container run asks for, parsed from argv.
 *
 * rt_spec_parse() is pure (no syscalls beyond policy's rlimit check): it
 * only reads strings and checks ranges, so it is unit tested with hostile
 * input.  Strings are borrowed from ARGV, which must outlive the spec; the
 * arrays are owned by the spec and freed by rt_spec_release().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "policy/policy.h"

/* ECS ranges (ECS-REFERENCE 1.2 / 1.5). */
#define RT_CPU_UNITS_MAX 10240         /* container cpu units */
#define RT_CPU_LIMIT_MAX 196608        /* hard limit units (task-level range) */
#define RT_MEMORY_MIN_MIB 6            /* "Docker >= 20.10 needs >= 6 MiB" */
#define RT_MEMORY_MAX_MIB (UINT64_C(1) << 32) /* 4 PiB: no overflow in bytes */
#define RT_PIDS_MAX 4194304
#define RT_NAME_MAX 128

enum rt_net { RT_NET_NONE, RT_NET_HOST, RT_NET_JOIN };
/* A pid or ipc namespace: a new one (the default), the host's, or an
 * existing one given as an nsfs fd (the task's, shared by its containers). */
enum rt_ns { RT_NS_NEW, RT_NS_HOST, RT_NS_JOIN };
enum rt_enforce { RT_ENFORCE_ON, RT_ENFORCE_OFF };

/* A namespaced sysctl (lib/netname.h checked it), written in the container's
 * namespaces before exec. */
struct rt_sysctl {
	const char *name;             /* "net.ipv4.ip_forward" */
	const char *value;
};

struct rt_spec {
	const char *rootfs;           /* --rootfs DIR, or NULL with --image */
	const char *image;            /* --image REF: rootfs and defaults from an
				       * image (prepared by runtime/cmd_run.c) */
	const char *entrypoint;       /* --entrypoint with --image; "" = none */
	const char **volumes;         /* --volume SRC:DST[:ro] as given (cmd_run.c) */
	size_t n_volumes;
	uint64_t shm_size_mib;        /* --shm-size: /dev/shm size; 0 = default */
	char name[RT_NAME_MAX + 1];   /* cgroup name; generated when not given */
	const char *hostname;         /* NULL: the name */
	bool cpu_set;
	uint64_t cpu_units;           /* --cpu: cpu.weight */
	uint64_t cpu_limit_units;     /* --cpu-limit: cpu.max; 0 = none */
	uint64_t memory_mib;          /* --memory: memory.max; 0 = none */
	uint64_t memory_reservation_mib; /* memory.low; 0 = none */
	uint64_t pids_max;            /* default CG_DEFAULT_PIDS_MAX */
	const char **env;             /* "K=V", NULL-terminated, in order given */
	size_t n_env;
	const char *user;             /* "U[:G]" as given; NULL = root */
	const char *workdir;          /* NULL = "/" */
	bool read_only;
	char **cap_add, **cap_drop;
	size_t n_cap_add, n_cap_drop;
	bool privileged;
	enum rt_net net;
	int net_fd;                   /* RT_NET_JOIN: nsfs fd of the netns to join */
	enum rt_ns pid_ns, ipc_ns;
	int pid_fd, ipc_fd;           /* RT_NS_JOIN: nsfs fds to join */
	bool init;                    /* --init: a tiny init as pid 1 (runtime/init.c) */
	struct rlimit_spec *ulimits;
	size_t n_ulimits;
	const struct rt_sysctl *sysctls; /* borrowed; NULL = none */
	size_t n_sysctls;
	enum rt_enforce cgroup_enforce;
	const char *cgroup_parent;    /* relative to the cgroup2 mount */
	char *const *argv;            /* the command, NULL-terminated, borrowed */
	bool help;                    /* --help: print usage, run nothing */
};

/* Parses `container run` options (ARGV[0] is the command word and skipped).
 * ENV_ENFORCE / ENV_PARENT are the values of BERTH_CGROUP_ENFORCE and
 * BERTH_CGROUP_PARENT (NULL when unset); flags win over them.  On failure the
 * spec is released and E holds one line naming the bad option. */
int rt_spec_parse(int argc, char **argv, const char *env_enforce, const char *env_parent,
		  struct rt_spec *ret, struct err *e);
void rt_spec_release(struct rt_spec *spec);
/* The usage text for `berth container run`. */
extern const char rt_spec_usage[];
