/* scheduler/plan.c - request validation and compilation; the per-instance
 * check shared by every placement path. */
#include "scheduler/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/cleanup.h"

#define INVALID "InvalidParameterException"

static const char *const reason_strings[] = {
	[SCHED_PLACED] = "",
	/* UNVERIFIED for RunTask: the capacity-provider wording (ECS-REFERENCE 4.1) */
	[SCHED_NO_INSTANCES] = "NO ACTIVE INSTANCES",
	[SCHED_AGENT] = "AGENT",
	[SCHED_CPU] = "RESOURCE:CPU",
	[SCHED_MEMORY] = "RESOURCE:MEMORY",
	[SCHED_PORTS] = "RESOURCE:PORTS",
	[SCHED_PORTS_UDP] = "RESOURCE:PORTS_UDP",   /* by analogy, UNVERIFIED */
	[SCHED_ATTRIBUTE] = "ATTRIBUTE",
	[SCHED_MEMBER_OF] = "MemberOf placement constraint unsatisfied",
	/* UNVERIFIED: by analogy with the memberOf wording */
	[SCHED_DISTINCT_INSTANCE] = "DistinctInstance placement constraint unsatisfied",
};

const char *sched_reason_string(enum sched_reason r)
{
	if ((size_t)r >= ARRAY_SIZE(reason_strings))
		return "";
	return reason_strings[r];
}

void sched_task_resources(int64_t task_cpu, int64_t task_memory,
			  const struct sched_container_res *c, size_t n,
			  int64_t *ret_cpu, int64_t *ret_memory)
{
	int64_t cpu = 0, mem = 0;

	for (size_t i = 0; i < n; i++) {
		cpu += c[i].cpu > 0 ? c[i].cpu : 0;
		if (c[i].memory_reservation >= 0)
			mem += c[i].memory_reservation;
		else if (c[i].memory >= 0)
			mem += c[i].memory;
	}
	*ret_cpu = task_cpu >= 0 ? task_cpu : cpu;
	*ret_memory = task_memory >= 0 ? task_memory : mem;
}

void sched_plan_free(struct sched_plan *p)
{
	if (!p)
		return;
	free(p->ports_tcp);
	free(p->ports_udp);
	for (size_t i = 0; i < p->n_requires; i++) {
		free((char *)p->requires[i].name);
		free((char *)p->requires[i].value);
	}
	free(p->requires);
	for (size_t i = 0; i < p->n_cons; i++)
		cql_free(p->cons[i].q);
	for (size_t i = 0; i < p->n_comps; i++)
		free(p->comps[i].attr);
	free(p->group);
	free(p);
}

static int dup_ports(const uint16_t *src, size_t n, uint16_t **dst, size_t *ret_n)
{
	if (!n)
		return 0;
	*dst = malloc(n * sizeof(*src));
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * sizeof(*src));
	*ret_n = n;
	return 0;
}

static int copy_requires(struct sched_plan *p, const struct sched_request *rq)
{
	if (!rq->n_requires)
		return 0;
	p->requires = calloc(rq->n_requires, sizeof(*p->requires));
	if (!p->requires)
		return -ENOMEM;
	for (size_t i = 0; i < rq->n_requires; i++, p->n_requires++) {
		p->requires[i].name = strdup(rq->requires[i].name);
		p->requires[i].value = rq->requires[i].value ? strdup(rq->requires[i].value) : NULL;
		if (!p->requires[i].name || (rq->requires[i].value && !p->requires[i].value)) {
			p->n_requires++;
			return -ENOMEM;
		}
	}
	return 0;
}

/* spread's field: instanceId | host | attribute:<name>. */
static int spread_comp(struct sched_comp *c, const char *field, size_t idx, struct err *e)
{
	if (field && (strcasecmp(field, "instanceId") == 0 || strcasecmp(field, "host") == 0)) {
		c->kind = COMP_INSTANCE;
		return 0;
	}
	if (field && strncmp(field, "attribute:", 10) == 0 && field[10] &&
	    strlen(field + 10) <= 128) {
		c->kind = COMP_ATTRIBUTE;
		c->attr = strdup(field + 10);
		return c->attr ? 0 : err_set(e, -ENOMEM, "compile placement strategy");
	}
	return err_api(e, INVALID, "placementStrategy[%zu]: invalid field '%s' for spread "
		       "(expected instanceId, host or attribute:<name>)", idx, field ? field : "");
}

static int compile_strategies(struct sched_plan *p, const struct sched_request *rq, struct err *e)
{
	static const struct sched_strategy_spec service_default[] = {
		{ "spread", "attribute:ecs.availability-zone" }, { "spread", "instanceId" },
	};
	static const struct sched_strategy_spec task_default[] = { { "random", NULL } };
	const struct sched_strategy_spec *s = rq->strategies;
	size_t n = rq->n_strategies;
	bool cut = false;
	int r;

	if (n > SCHED_MAX_STRATEGIES)
		return err_api(e, INVALID, "placementStrategy: %zu entries, at most %d are allowed",
			       n, SCHED_MAX_STRATEGIES);
	if (n == 0) {
		s = rq->service ? service_default : task_default;
		n = rq->service ? ARRAY_SIZE(service_default) : ARRAY_SIZE(task_default);
	}
	for (size_t i = 0; i < n; i++) {
		struct sched_comp c = { 0 };
		const char *f = s[i].field;

		if (!s[i].type)
			return err_api(e, INVALID, "placementStrategy[%zu]: type is required", i);
		if (strcmp(s[i].type, "random") == 0) {
			cut = true;   /* breaks every tie: nothing after it can matter */
			continue;
		}
		if (strcmp(s[i].type, "binpack") == 0) {
			if (f && strcasecmp(f, "cpu") == 0)
				c.kind = COMP_REM_CPU;
			else if (f && strcasecmp(f, "memory") == 0)
				c.kind = COMP_REM_MEMORY;
			else
				return err_api(e, INVALID, "placementStrategy[%zu]: invalid field '%s' "
					       "for binpack (expected cpu or memory)", i, f ? f : "");
		} else if (strcmp(s[i].type, "spread") == 0) {
			r = spread_comp(&c, f, i, e);
			if (r < 0)
				return r;
		} else {
			return err_api(e, INVALID, "placementStrategy[%zu]: invalid type '%s' "
				       "(expected random, spread or binpack)", i, s[i].type);
		}
		if (cut)
			free(c.attr);   /* validated, but after random */
		else
			p->comps[p->n_comps++] = c;
	}
	return 0;
}

static int compile_constraints(struct sched_plan *p, const struct sched_request *rq, struct err *e)
{
	if (rq->n_constraints > SCHED_MAX_CONSTRAINTS)
		return err_api(e, INVALID, "placementConstraints: %zu entries (task definition and "
			       "request together), at most %d are allowed", rq->n_constraints,
			       SCHED_MAX_CONSTRAINTS);
	for (size_t i = 0; i < rq->n_constraints; i++) {
		const struct sched_constraint_spec *c = &rq->constraints[i];
		struct sched_plan_constraint *pc = &p->cons[p->n_cons];
		int r;

		if (c->type && strcmp(c->type, "distinctInstance") == 0) {
			if (c->expression && *c->expression)
				return err_api(e, INVALID, "placementConstraints[%zu]: distinctInstance "
					       "takes no expression", i);
			pc->distinct = true;
			p->n_cons++;
		} else if (c->type && strcmp(c->type, "memberOf") == 0) {
			if (!c->expression || !*c->expression)
				return err_api(e, INVALID, "placementConstraints[%zu]: memberOf "
					       "requires an expression", i);
			r = cql_compile(c->expression, &pc->q, NULL, e);
			if (r < 0)
				return err_wrap(e, "placementConstraints[%zu]", i);
			p->n_cons++;
		} else {
			return err_api(e, INVALID, "placementConstraints[%zu]: invalid type '%s' "
				       "(expected memberOf or distinctInstance)", i, c->type ? c->type : "");
		}
	}
	return 0;
}

int sched_plan_compile(const struct sched_request *rq, struct sched_plan **ret, struct err *e)
{
	_cleanup_(sched_plan_freep) struct sched_plan *p = NULL;
	int r;

	if (rq->cpu < 0 || rq->memory < 0)
		return err_api(e, INVALID, "task cpu and memory must not be negative");
	p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(e, -ENOMEM, "compile placement");
	p->cpu = rq->cpu;
	p->memory = rq->memory;
	p->group = strdup(rq->group ? rq->group : "");
	if (!p->group || dup_ports(rq->ports_tcp, rq->n_ports_tcp, &p->ports_tcp, &p->n_ports_tcp) < 0 ||
	    dup_ports(rq->ports_udp, rq->n_ports_udp, &p->ports_udp, &p->n_ports_udp) < 0 ||
	    copy_requires(p, rq) < 0)
		return err_set(e, -ENOMEM, "compile placement");
	r = compile_strategies(p, rq, e);
	if (r < 0)
		return r;
	r = compile_constraints(p, rq, e);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

/* ---- the per-instance check ------------------------------------------ */

void sched_state_init(const struct sched_plan *p, const struct sched_instance *in,
		      struct sched_state *st)
{
	st->rem_cpu = in->remaining_cpu;
	st->rem_memory = in->remaining_memory;
	st->group_tasks = sched_instance_group_count(in, p->group);
	st->added = 0;
}

void sched_state_place(const struct sched_plan *p, struct sched_state *st)
{
	st->rem_cpu -= p->cpu;
	st->rem_memory -= p->memory;
	st->group_tasks++;
	st->added++;
}

static bool ports_clash(const uint16_t *want, size_t n_want, const uint16_t *used, size_t n_used)
{
	for (size_t i = 0; i < n_want; i++)
		for (size_t j = 0; j < n_used; j++)
			if (want[i] == used[j])
				return true;
	return false;
}

static bool has_required(const struct sched_plan *p, const struct sched_instance *in)
{
	for (size_t i = 0; i < p->n_requires; i++) {
		bool present;
		const char *v = sched_instance_attr(in, p->requires[i].name, &present);

		if (!present || (p->requires[i].value && (!v || strcmp(v, p->requires[i].value))))
			return false;
	}
	return true;
}

int sched_check(const struct sched_plan *p, const struct sched_instance *in,
		const struct sched_state *st)
{
	struct cql_delta d = { p->group, st->added };

	if (in->status != SCHED_INSTANCE_ACTIVE)
		return STAGE_IGNORED;
	if (!in->agent_connected)
		return STAGE_AGENT;
	if (st->rem_cpu < p->cpu)
		return STAGE_CPU;
	if (st->rem_memory < p->memory)
		return STAGE_MEMORY;
	/* a task placed here by this call holds the same static ports */
	if (p->n_ports_tcp && (st->added || ports_clash(p->ports_tcp, p->n_ports_tcp,
							in->ports_tcp, in->n_ports_tcp)))
		return STAGE_PORTS;
	if (p->n_ports_udp && (st->added || ports_clash(p->ports_udp, p->n_ports_udp,
							in->ports_udp, in->n_ports_udp)))
		return STAGE_PORTS_UDP;
	if (!has_required(p, in))
		return STAGE_ATTRIBUTE;
	for (size_t j = 0; j < p->n_cons; j++) {
		bool ok = p->cons[j].distinct ? st->group_tasks == 0 : cql_eval(p->cons[j].q, in, &d);

		if (!ok)
			return STAGE_CONSTRAINT + (int)j;
	}
	return STAGE_OK;
}

enum sched_reason sched_stage_reason(const struct sched_plan *p, int stage)
{
	static const enum sched_reason fixed[] = {
		[STAGE_AGENT] = SCHED_AGENT, [STAGE_CPU] = SCHED_CPU,
		[STAGE_MEMORY] = SCHED_MEMORY, [STAGE_PORTS] = SCHED_PORTS,
		[STAGE_PORTS_UDP] = SCHED_PORTS_UDP, [STAGE_ATTRIBUTE] = SCHED_ATTRIBUTE,
	};

	if (stage < STAGE_AGENT)
		return SCHED_NO_INSTANCES;
	if (stage < STAGE_CONSTRAINT)
		return fixed[stage];
	return p->cons[stage - STAGE_CONSTRAINT].distinct ? SCHED_DISTINCT_INSTANCE : SCHED_MEMBER_OF;
}
