/* cgroup/cgroup.h - cgroup v2: find the hierarchy, create berth's cgroups,
 * set limits, read OOM events, kill and remove.  Leaf module: every function
 * returns 0 or a negative errno and never logs (STYLE P1).  Functions that
 * touch the filesystem work relative to directory fds opened from the paths
 * in these structs, so unit tests point them at a tmpdir that looks like
 * /sys/fs/cgroup (STYLE P14).
 *
 * cgroup v2 only.  On hybrid hosts (cgroup v1 holds cpu/memory) limits cannot
 * be enforced; callers refuse to start unless the user chose to run
 * unenforced (BERTH_CGROUP_ENFORCE=off), in which case the cgroup is still
 * created in the v2 hierarchy (for accounting, kill and cleanup) and limits
 * whose controller is missing are skipped.
 */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* berth's parent cgroup below the cgroup2 mount unless configured
 * (BERTH_CGROUP_PARENT / --cgroup-parent). */
#define CG_DEFAULT_PARENT "berth"
#define CG_DEFAULT_PIDS_MAX 4096
#define CG_DEFAULT_CPU_PERIOD_US 100000

/* What this host's cgroup v2 offers. */
struct cg_host {
	char mount[PATH_MAX]; /* the cgroup2 mount point, e.g. /sys/fs/cgroup */
	bool has_cpu;         /* the controller is listed in the root's cgroup.controllers */
	bool has_memory;
	bool has_pids;
	bool v1_cpu;          /* a cgroup v1 hierarchy holds cpu (hybrid host) */
	bool v1_memory;       /* a cgroup v1 hierarchy holds memory (hybrid host) */
};

/* Pure: fills mount, v1_cpu and v1_memory from the text of a mountinfo file
 * (the first cgroup2 mount wins).  -ENOENT when no cgroup2 is mounted,
 * -EINVAL for a malformed cgroup line. */
int cg_parse_mountinfo(const char *text, struct cg_host *ret);
/* Pure: sets has_cpu/has_memory/has_pids from a cgroup.controllers line. */
void cg_parse_controllers(const char *text, struct cg_host *ret);
/* Pure: sets v1_cpu/v1_memory from the text of /proc/cgroups (a
 * controller bound to a non-zero hierarchy is in cgroup v1). */
void cg_parse_proc_cgroups(const char *text, struct cg_host *ret);
/* Finds cgroup2 (once per process): at /sys/fs/cgroup or
 * /sys/fs/cgroup/unified by statfs (the v1 flags from /proc/cgroups), else
 * the first cgroup2 mount in /proc/self/mountinfo; with MOUNTINFO (tests)
 * that file, every time.  Then reads the root's cgroup.controllers (each
 * time).  -ENOENT when no cgroup2 is mounted. */
int cg_host_probe(const char *mountinfo, struct cg_host *ret);

/* Limits for one cgroup.  A zero field means "leave the kernel default". */
struct cg_limits {
	uint64_t cpu_weight;    /* cpu.weight, 1-10000 */
	uint64_t cpu_quota_us;  /* cpu.max quota; 0 = "max" */
	uint64_t cpu_period_us; /* cpu.max period (100000 when 0) */
	uint64_t memory_max;    /* bytes; memory.max */
	uint64_t memory_low;    /* bytes; memory.low */
	uint64_t pids_max;      /* pids.max */
	bool swap_set;          /* write memory.swap.max = swap_max */
	uint64_t swap_max;      /* bytes; berth's default is 0 (swap off) */
};

/* ECS mapping (ECS-REFERENCE 1.5), pure:
 * cpu units (shares; 0 and 1 become the minimum 2, above 262144 clamped) ->
 * cpu.weight 1..10000 by the conventional shares->weight line:
 * 1 + (shares-2)*9999/262142. */
int cg_cpu_units_to_weight(uint64_t units, uint64_t *ret_weight);
/* Hard limit: quota = units/1024 x period, at least 1000 us (the kernel's
 * minimum).  -ERANGE for 0 units or a period outside 1 ms..1 s. */
int cg_cpu_units_to_quota(uint64_t units, uint64_t period_us, uint64_t *ret_quota_us);
/* Pure: the "cpu.max" value for LIMITS ("max 100000" or "25000 100000"). */
int cg_format_cpu_max(const struct cg_limits *limits, char *buf, size_t size);
/* Pure: the oom_kill counter from the text of memory.events (0 if absent). */
int cg_parse_oom_kills(const char *text, uint64_t *ret);

/* An open cgroup berth created.  Owned by the caller; cg_release() closes
 * the fd (it does not remove the directory: cg_remove() does). */
struct cg {
	int fd;               /* O_DIRECTORY fd of the cgroup, usable with CLONE_INTO_CGROUP */
	char path[PATH_MAX];  /* absolute path, for messages and rmdir */
};
#define CG_INIT { .fd = -1, .path = "" }

/* Makes sure PARENT_REL (e.g. "berth" or "a/b") exists under the host's mount
 * with the controllers it needs enabled in subtree_control down the path
 * (skipping ones the host lacks), then creates the child NAME beneath it.
 * -EEXIST if NAME already exists, -EINVAL for a NAME or PARENT_REL with ".."
 * or an empty component.  On failure nothing new is left behind. */
int cg_create(const struct cg_host *host, const char *parent_rel, const char *name,
	      struct cg *ret);
/* Writes LIMITS into the cgroup; fields whose controller the host lacks are
 * skipped when SKIP_MISSING, else -EOPNOTSUPP.  memory.swap.max is skipped
 * when the kernel does not account swap (the file is absent). */
int cg_apply_limits(const struct cg_host *host, const struct cg *cg,
		    const struct cg_limits *limits, bool skip_missing);
/* Reads memory.events' oom_kill counter (0 when the file is absent). */
int cg_read_oom_kills(const struct cg *cg, uint64_t *ret);
/* Kills every process in the cgroup (cgroup.kill, else SIGKILL each pid in
 * cgroup.procs) and waits until cgroup.procs is empty (bounded, ~2 s). */
int cg_kill_all(const struct cg *cg);
/* Removes the (empty) cgroup directory and closes the fd.  Idempotent. */
int cg_remove(struct cg *cg);
/* Closes the fd only. */
void cg_release(struct cg *cg);
/* Kills whatever still runs in REL (relative to the host's mount) and its
 * descendants, and removes them all, deepest first.  For cgroups whose
 * owner is gone.  0 when REL does not exist; -EINVAL for an absolute REL
 * or one with "..". */
int cg_remove_tree(const struct cg_host *host, const char *rel);
