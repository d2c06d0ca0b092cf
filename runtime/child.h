/* runtime/child.h - the container child: what runs between clone and exec.
 *
 * Everything here runs in the child of clone3, a copy of a possibly
 * multi-threaded parent's memory: no allocation, no stdio, no locks (only
 * async-signal-safe calls).  The parent prepares every string beforehand.
 * A failing step fills a struct rt_fail, which the child writes to the
 * exec-failure pipe; the parent turns it into one line.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/runtime.h"

struct rt_fail {
	int err;          /* positive errno */
	char what[240];   /* "mount '/proc'" */
};

/* Fills F (no allocation) and returns -ERR. */
int rt_fail(struct rt_fail *f, int err, const char *what, const char *subject);

/* In the child: binds the plan's rootfs onto itself, attaches the plan's
 * volumes below it, pivot_root.  Then rt_setup_mounts: /proc, /sys, /dev,
 * masks, read-only paths, and the read-only root when asked.
 * (runtime/mounts.c) */
int rt_setup_pivot(const struct rt_plan *plan, struct rt_fail *f);
int rt_setup_mounts(const struct rt_plan *plan, struct rt_fail *f);
/* /dev as a tmpfs with the usual nodes, pts, shm (SHM_OPTIONS, "" for the
 * default), mqueue. (runtime/devices.c) */
int rt_setup_dev(const char *shm_options, struct rt_fail *f);
/* The plan's host devices as nodes in the container (after rt_setup_dev).
 * (runtime/devices.c) */
int rt_setup_devices(const struct rt_plan *plan, struct rt_fail *f);
/* The spec's sysctls through the container's /proc/sys, before it is made
 * read-only. (runtime/sysctl.c) */
int rt_apply_sysctls(const struct rt_spec *s, struct rt_fail *f);
/* NAME ("net.core.somaxconn" or "net/core/somaxconn") -> its /proc/sys path
 * in BUF; false when it does not fit. */
bool rt_sysctl_path(const char *name, char *buf, size_t size);
/* lo up in a fresh network namespace. (runtime/devices.c) */
int rt_loopback_up(struct rt_fail *f);

/* Every signal disposition back to the default, realtime ones included:
 * what the caller ignored (a background shell job, a supervisor) must not
 * reach the container.  Async-signal-safe. (runtime/spawn.c) */
void rt_reset_signals(void);

/* The container's pid 1 when it asked for an init (runtime/init.c): forks
 * PATH, forwards every signal to it, reaps every child and exits with its
 * status (128+N for signal N).  Returns only when the fork failed; an exec
 * failure of the child goes to ERR_FD as the parent expects. */
int rt_init_run(const char *path, char *const argv[], char *const envp[], int err_fd,
		struct rt_fail *f);
