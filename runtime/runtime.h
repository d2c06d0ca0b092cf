/* runtime/runtime.h - run one container: the library the `container run`
 * command, and later the per-task shim, are built on.
 *
 *   parse  rt_spec_parse()      argv -> struct rt_spec         (runtime/spec.h)
 *   plan   rt_plan()            spec -> everything decided: rootfs, command
 *                               path, uid/gid, capability mask, seccomp
 *                               program, cgroup host + limits; no side effects
 *   apply  rt_container_start() cgroup, clone3 into namespaces + cgroup,
 *                               rootfs, exec; returns once exec succeeded
 *          rt_container_finish() after the caller reaped pid 1: OOM check,
 *                               kill leftovers, remove the cgroup
 *   or     rt_container_run()   start + forward signals + wait + finish
 *
 * Failures before the container runs leave nothing behind (no cgroup, no
 * mount: all mounts live in the container's own mount namespace).
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "lib/err.h"
#include "policy/policy.h"
#include "runtime/spec.h"

struct vol_ctr_mounts;

/* A host device node made in the container (linuxParameters.devices). */
struct rt_device {
	char path[PATH_MAX];          /* containerPath */
	mode_t mode;                  /* S_IFCHR/S_IFBLK | permission bits */
	dev_t dev;
	uid_t uid;
	gid_t gid;
	unsigned access;              /* BPF_DEVCG_ACC_*: what the cgroup allows */
};

struct rt_plan {
	const struct rt_spec *spec;   /* borrowed */
	char rootfs[PATH_MAX];        /* canonical host path */
	char name[RT_NAME_MAX + 1];   /* the spec's, or generated: the cgroup's name */
	char hostname[65];
	char exec_path[PATH_MAX];     /* the command as the container sees it */
	char **envp;                  /* owned array, NULL-terminated; strings borrowed */
	char *hostname_env;           /* owned "HOSTNAME=..." (one of envp) */
	uid_t uid;
	gid_t gid;
	uint64_t caps;
	const struct seccomp_prog *seccomp; /* policy's cached program */
	struct cg_host host;
	struct cg_limits limits;
	bool unenforced;              /* cpu or memory missing in v2, enforce=off */
	bool force_clone_fallback;    /* test seam: take the pre-5.7 clone path */
	int stdio[3];                 /* fds for the container's 0, 1, 2; -1 = ours */
	/* Detached mounts (volumes/: vol_ctr_prepare) the child attaches below
	 * the rootfs before pivot_root; borrowed, NULL = none.  Their fds must
	 * stay open until rt_container_start returned. */
	const struct vol_ctr_mounts *volumes;
	char shm_options[64];         /* /dev/shm tmpfs options (vol_shm_options); "" = default */
	/* Single files bound over the image's (the shim's /etc/resolv.conf
	 * and /etc/hosts), attached as the volumes are; borrowed, NULL = none. */
	const struct vol_ctr_mounts *files;
	const struct rt_device *devices; /* borrowed; made after /dev */
	size_t n_devices;
};

/* Pure: the cgroup limits SPEC asks for (ECS mapping, swap off). */
int rt_limits_from_spec(const struct rt_spec *spec, struct cg_limits *ret);
/* A fresh container name (when none was given): "c" + 12 random hex digits. */
void rt_name_generate(char *buf, size_t size);
/* Decides everything; touches nothing.  E gets one line for the user. */
int rt_plan(const struct rt_spec *spec, struct rt_plan *ret, struct err *e);
void rt_plan_release(struct rt_plan *plan);

struct rt_container {
	pid_t pid;       /* the container's pid 1, our child */
	int pidfd;       /* -1 if the kernel gave none */
	struct cg cg;
};
#define RT_CONTAINER_INIT { .pid = -1, .pidfd = -1, .cg = CG_INIT }

struct rt_result {
	int exit_code;   /* pid 1's code, 128+N for signal N (137: SIGKILL, e.g. OOM) */
	int signal;      /* N when killed by a signal, else 0 */
	bool oom_killed; /* memory.events counted an oom_kill (of pid 1 or another) */
};

/* Creates the cgroup, clones pid 1 into it and its namespaces, sets up the
 * rootfs and execs the command.  Returns 0 once exec succeeded; on failure
 * the child is reaped and the cgroup removed.  Signals the caller wants to
 * forward should be blocked before (the child unblocks everything). */
int rt_container_start(const struct rt_plan *plan, struct rt_container *ctr, struct err *e);
/* Sends SIG to pid 1 (pidfd when available). */
int rt_container_signal(const struct rt_container *ctr, int sig);
/* After the caller reaped pid 1 with WAIT_STATUS: reads the OOM counter,
 * kills what is left in the cgroup and removes it. */
int rt_container_finish(struct rt_container *ctr, int wait_status, struct rt_result *ret,
			struct err *e);
/* start, forward TERM INT HUP QUIT USR1 USR2 to pid 1 until it exits, finish. */
int rt_container_run(const struct rt_plan *plan, struct rt_result *ret, struct err *e);
