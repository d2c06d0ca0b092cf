/* scheduler/plan.h - internals shared by the placement fast path, the
 * scale-in choice and the brute-force reference in the unit tests. */
#pragma once

#include "scheduler/cql.h"
#include "scheduler/scheduler.h"

/* One link of the strategy chain, as a sort key component. */
enum sched_comp_kind {
	COMP_REM_CPU,      /* binpack cpu: remaining CPU, least first */
	COMP_REM_MEMORY,   /* binpack memory */
	COMP_INSTANCE,     /* spread instanceId/host: group tasks on the instance */
	COMP_ATTRIBUTE,    /* spread attribute:<name>: group tasks on that value */
};

struct sched_comp {
	enum sched_comp_kind kind;
	char *attr;        /* COMP_ATTRIBUTE */
};

struct sched_plan_constraint {
	bool distinct;
	struct cql *q;     /* memberOf */
};

struct sched_plan {
	int64_t cpu, memory;
	uint16_t *ports_tcp, *ports_udp;
	size_t n_ports_tcp, n_ports_udp;
	struct sched_attr *requires;
	size_t n_requires;
	struct sched_plan_constraint cons[SCHED_MAX_CONSTRAINTS];
	size_t n_cons;
	struct sched_comp comps[SCHED_MAX_STRATEGIES];   /* the chain, cut at random */
	size_t n_comps;
	char *group;
};

/* What one call has done to an instance so far. */
struct sched_state {
	int64_t rem_cpu, rem_memory;
	uint32_t group_tasks;   /* tasks of the plan's group: snapshot + added */
	uint32_t added;         /* tasks placed by this call */
};

/* Stages of the per-instance check; a failing instance reports the first
 * stage it fails.  Constraint j is STAGE_CONSTRAINT + j. */
enum {
	STAGE_IGNORED = -1,      /* not ACTIVE: never a candidate nor "closest" */
	STAGE_OK = 0,
	STAGE_AGENT,
	STAGE_CPU,
	STAGE_MEMORY,
	STAGE_PORTS,
	STAGE_PORTS_UDP,
	STAGE_ATTRIBUTE,
	STAGE_CONSTRAINT,
};

void sched_state_init(const struct sched_plan *p, const struct sched_instance *in,
		      struct sched_state *st);
/* STAGE_OK if the instance can take the next task, else the failing stage. */
int sched_check(const struct sched_plan *p, const struct sched_instance *in,
		const struct sched_state *st);
enum sched_reason sched_stage_reason(const struct sched_plan *p, int stage);
/* Records one task of the plan placed on the instance. */
void sched_state_place(const struct sched_plan *p, struct sched_state *st);

/* splitmix64: the only randomness; K uniform in [0, n). */
static inline uint64_t sched_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t sched_rand_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)sched_rand(s) * n) >> 64);
}

/* Attribute value used by spread; NULL for absent or name-only. */
static inline const char *sched_spread_value(const struct sched_instance *in, const char *attr)
{
	bool present;

	return sched_instance_attr(in, attr, &present);
}
