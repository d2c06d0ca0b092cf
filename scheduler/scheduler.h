/* scheduler/scheduler.h - task placement as ECS does it (ECS-REFERENCE 4):
 * resource filter -> constraints (hard) -> strategies (best effort,
 * chained) -> select, deduct, next task; and the scale-in choice.
 *
 * Pure: no I/O, no globals, no clock, no logging.  The caller (control/)
 * snapshots the cluster into an array of struct sched_instance (instance.h)
 * and compiles the request once into a plan:
 *
 *	struct sched_plan *plan;
 *	if (sched_plan_compile(&rq, &plan, e) < 0)      // ECS-style errors
 *		return err;                               // -> InvalidParameterException
 *	r = sched_place(plan, inst, n, count, seed, out, e);
 *	...  out[t].instance is an index into inst, or -1 with out[t].reason
 *	     and out[t].closest (the instance named in failures[].arn)
 *	sched_plan_free(plan);
 *
 * The snapshot is never modified; sched_place deducts resources and counts
 * the placed tasks internally between the tasks of one call, and the caller
 * records them in its store so the next snapshot has them.
 *
 * Exactness: the choice equals a brute-force evaluation of every instance
 * (tests/unit/test_sched_prop.c holds that reference and checks it).  The
 * speed comes from per-call indexes: eligible instances in order-statistic
 * trees keyed by the strategy chain, one tree per combination of spread
 * attribute values, group counts per value, constraint results computed once
 * per instance and re-evaluated only for the instance that changed.  Cost of
 * a call: O(n) setup + per task O(cells + log n), where cells is the number
 * of distinct spread-attribute value combinations (1 without spread on an
 * attribute).
 *
 * Semantics where ECS publishes none (UNVERIFIED; the conservative reading):
 *   - Strategy chain = lexicographic key; `random` ends the chain (it breaks
 *     every tie, so later entries cannot matter).  Ties left after the
 *     whole chain are broken at random from SEED: one splitmix64 draw per
 *     placed task picks the k-th tie, ties ordered by the first snapshot
 *     index of their spread-attribute value combination, then by index.
 *   - spread counts tasks of the request's group on every ACTIVE or
 *     DRAINING instance (tasks there still exist); an instance without the
 *     attribute (or with a name-only one) counts as its own value.
 *   - Checks per instance, in this order; an instance's failure is its
 *     first failing check, and the failure reported for an unplaceable task
 *     is that of the "closest matching" ACTIVE instance: the one that got
 *     furthest, the first in snapshot order among equals:
 *     AGENT, RESOURCE:CPU, RESOURCE:MEMORY, RESOURCE:PORTS,
 *     RESOURCE:PORTS_UDP, ATTRIBUTE (requiresAttributes), then the
 *     constraints in the order given (task definition first).
 *   - memberOf sees the tasks this call already placed (runningTasksCount,
 *     task:group), so `not(task:group == G)` with group G is an
 *     anti-affinity also between the tasks of one call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "scheduler/instance.h"

#define SCHED_MAX_STRATEGIES  5
#define SCHED_MAX_CONSTRAINTS 10

/* ECS JSON shapes, strings as received. */
struct sched_strategy_spec {
	const char *type;     /* "binpack" | "spread" | "random" */
	const char *field;    /* cpu|memory ; instanceId|host|attribute:<name> ; NULL */
};

struct sched_constraint_spec {
	const char *type;        /* "memberOf" | "distinctInstance" */
	const char *expression;  /* CQL for memberOf; NULL for distinctInstance */
};

struct sched_request {
	int64_t cpu, memory;     /* per task; see sched_task_resources() */
	const uint16_t *ports_tcp;   /* static host ports of the task */
	size_t n_ports_tcp;
	const uint16_t *ports_udp;
	size_t n_ports_udp;
	const struct sched_attr *requires;  /* requiresAttributes: value NULL = any */
	size_t n_requires;
	const struct sched_constraint_spec *constraints;  /* task def's, then the request's */
	size_t n_constraints;
	const struct sched_strategy_spec *strategies;
	size_t n_strategies;
	const char *group;       /* "service:<name>" or RunTask's group / "family:<f>" */
	bool service;            /* picks the default strategy when none is given */
};

/* One container of a task definition, for the resource rule. -1 = unset. */
struct sched_container_res {
	int64_t cpu, memory, memory_reservation;
};

/* ECS's reservation rule: task-level cpu/memory when set (>= 0), else the
 * sum over containers of cpu, and of memoryReservation if set else memory. */
void sched_task_resources(int64_t task_cpu, int64_t task_memory,
			  const struct sched_container_res *c, size_t n,
			  int64_t *ret_cpu, int64_t *ret_memory);

struct sched_plan;

/* Validates and compiles RQ (strategies, constraints, CQL).  Errors are
 * -EINVAL with e->type "InvalidParameterException" and a message naming the
 * offending entry; -ENOMEM.  The plan copies what it needs from RQ. */
int sched_plan_compile(const struct sched_request *rq, struct sched_plan **ret, struct err *e);
void sched_plan_free(struct sched_plan *plan);
static inline void sched_plan_freep(struct sched_plan **p) { if (*p) sched_plan_free(*p); }

enum sched_reason {
	SCHED_PLACED,
	SCHED_NO_INSTANCES,       /* no ACTIVE instance at all */
	SCHED_AGENT,
	SCHED_CPU,
	SCHED_MEMORY,
	SCHED_PORTS,
	SCHED_PORTS_UDP,
	SCHED_ATTRIBUTE,
	SCHED_MEMBER_OF,
	SCHED_DISTINCT_INSTANCE,
};

/* The ECS string: "RESOURCE:CPU", "AGENT", "MemberOf placement constraint
 * unsatisfied", ...; "" for SCHED_PLACED. */
const char *sched_reason_string(enum sched_reason r);

struct sched_placement {
	int32_t instance;          /* index into the snapshot, or -1 */
	enum sched_reason reason;  /* SCHED_PLACED when instance >= 0 */
	int32_t closest;           /* failure: closest matching instance, or -1 */
};

/* Places COUNT tasks of PLAN on the N instances of INST; OUT has COUNT
 * entries.  An unplaceable task is not an error (see out[].reason).
 * Returns 0, or -ENOMEM (e set).  Same inputs and SEED -> same output. */
int sched_place(const struct sched_plan *plan, const struct sched_instance *inst, size_t n,
		uint32_t count, uint64_t seed, struct sched_placement *out, struct err *e);

/* The same, one task at a time (services placing as they go, benchmarks
 * timing each decision): a session holds the indexes and the deductions of
 * the tasks placed so far.  The snapshot must outlive the session. */
struct sched_session;
int sched_session_new(const struct sched_plan *plan, const struct sched_instance *inst, size_t n,
		      uint64_t seed, struct sched_session **ret, struct err *e);
void sched_session_next(struct sched_session *s, struct sched_placement *out);
void sched_session_free(struct sched_session *s);
static inline void sched_session_freep(struct sched_session **s) { if (*s) sched_session_free(*s); }

/* One running task of the service being scaled in. */
struct sched_task_ref {
	uint32_t instance;       /* index into the snapshot */
	bool protected_;         /* task scale-in protection: never chosen */
};

/* ECS-REFERENCE 4.7: chooses STOP tasks of the service (PLAN's group,
 * strategies and per-task resources) to stop.  With the plan's strategy
 * chain reversed in direction (binpack: most free after the stop; spread:
 * the value / instance with the most tasks of the service); no strategy
 * gives the service default (largest AZ, then instance with most tasks).
 * Ties are broken at random from SEED.  RET_VICTIMS gets indexes into
 * TASKS, in stop order; *ret_n may be < STOP when tasks are protected. */
int sched_scale_in(const struct sched_plan *plan, const struct sched_instance *inst, size_t n,
		   const struct sched_task_ref *tasks, size_t n_tasks, uint32_t stop,
		   uint64_t seed, uint32_t *ret_victims, size_t *ret_n, struct err *e);
