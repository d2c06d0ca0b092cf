/* control/task_state.h - the task and container lifecycle (ECS-REFERENCE 5.6,
 * 5.7) as data, and the pure functions that build a task's API object and
 * apply the agent's reports to it.  No store, no I/O. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "lib/err.h"

/* lastStatus, in lifecycle order: a task only ever moves forward. */
enum task_status {
	TASK_PROVISIONING,
	TASK_PENDING,
	TASK_ACTIVATING,
	TASK_RUNNING,
	TASK_DEACTIVATING,
	TASK_STOPPING,
	TASK_DEPROVISIONING,
	TASK_STOPPED,
	_TASK_STATUS_MAX,
};

/* -1 for a name that is not a task status. */
int task_status_parse(const char *s);
const char *task_status_name(enum task_status s);
/* True when lastStatus may go FROM -> TO (forward only; same = no change). */
bool task_status_may_move(enum task_status from, enum task_status to);

/* Container lastStatus as the API shows it: PENDING -> RUNNING -> STOPPED. */
enum container_status {
	CONTAINER_PENDING,
	CONTAINER_RUNNING,
	CONTAINER_STOPPED,
	_CONTAINER_STATUS_MAX,
};
int container_status_parse(const char *s);
const char *container_status_name(enum container_status s);

/* The overrides of RunTask/StartTask: every containerOverrides[].name names
 * a container of TASKDEF, none twice, numbers in range, and the whole
 * object at most 8192 characters.  InvalidParameterException otherwise. */
int task_overrides_check(const cJSON *taskdef, const cJSON *overrides, struct err *e);

/* TASKDEF with OVERRIDES applied (command replaced, environment merged by
 * name with the override winning, cpu/memory/memoryReservation replaced;
 * task-level cpu/memory replaced).  OVERRIDES may be NULL.  -ENOMEM. */
int task_effective_taskdef(const cJSON *taskdef, const cJSON *overrides, cJSON **ret);

/* What the task reserves on its instance: task-level cpu/memory when set,
 * else the sum over containers (memoryReservation if set, else memory); the
 * static host ports of host-mode (and bridge static) port mappings as
 * "tcp:80,udp:53" into PORTS (PORTS_SIZE bytes).  -ENOSPC when they do not
 * fit, -EINVAL for a malformed definition. */
int task_reservation(const cJSON *eff_taskdef, int64_t *ret_cpu, int64_t *ret_memory,
		     char *ports, size_t ports_size);

struct task_new {
	const char *task_arn, *cluster_arn, *taskdef_arn, *instance_arn;
	const char *group, *started_by, *launch_type;
	const cJSON *overrides;          /* as given (may be NULL) */
	const cJSON *eff_taskdef;        /* task_effective_taskdef() */
	const char *cpu_arch;            /* attribute ecs.cpu-architecture */
	double now;
};
/* The API object of a new task: PROVISIONING, desired RUNNING, version 1,
 * one PENDING container per definition (ARN = task ARN's "task/" replaced
 * by "container/" + "/" + name). */
int task_new_doc(const struct task_new *n, cJSON **ret);

/* Applies an agent report (control.h: control_task_report) to TASK, at NOW.
 * A lastStatus that would go back is ignored (the report may be stale);
 * timestamps once set are kept; version goes up when anything changed
 * (*ret_changed).  -EINVAL with e->type InvalidParameterException for a
 * malformed report. */
int task_report_apply(cJSON *task, const cJSON *report, double now, bool *ret_changed,
		      struct err *e);

/* StopTask: desiredStatus STOPPED, stopCode UserInitiated and stoppedReason
 * REASON unless already set, stoppingAt.  A PROVISIONING task (never handed
 * to an agent) goes straight to STOPPED.  *ret_changed false when the task
 * was already desired STOPPED. */
int task_stop_request(cJSON *task, const char *reason, double now, bool *ret_changed);
