/* runtime/spawn.h - clone + child setup + exec (runtime/spawn.c). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "runtime/child.h"

/* What the child needs besides the plan. */
struct rt_spawn {
	int err_fd;   /* write end of the close-on-exec exec-status pipe */
	int sync_fd;  /* fallback path only: read end the parent releases us on */
	int sync_wr;  /* fallback path only: the parent's end, closed by the child */
	int parent_pidfd; /* pidfd of the parent (-1: none): did it die early? */
	int gate_fd;  /* read end: the parent releases us to exec (-1: no gate) */
	int gate_wr;  /* the parent's end of the gate, closed by the child */
};

/* Parent-side work the container must not exec before (the device filter):
 * it runs after clone, while the child sets up its mounts, so the two
 * overlap.  FN returns 0 or -errno; WHAT and SUBJECT name it on failure. */
struct rt_spawn_gate {
	int (*fn)(void *data);
	void *data;
	const char *what;
	const char *subject;
};

struct rt_spawn_result {
	pid_t pid;
	int pidfd;      /* -1 on the fallback path */
	bool fallback;  /* clone3 + CLONE_INTO_CGROUP was not available */
};

/* Clones the container's pid 1 into CG and its namespaces, runs GATE (may
 * be NULL) meanwhile, and waits until it exec'd.  On failure after clone
 * the child is dead or dying and RET->pid is set (> 0) so the caller reaps
 * it; F says what failed. */
int rt_spawn(const struct rt_plan *plan, const struct cg *cg, const struct rt_spawn_gate *gate,
	     struct rt_spawn_result *ret, struct rt_fail *f);
