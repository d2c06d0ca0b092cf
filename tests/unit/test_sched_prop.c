/* tests/unit/test_sched_prop.c - the placement fast path against a
 * brute-force reference on random clusters of 1-50 instances: every strategy
 * chain and constraint mix, failures and their closest instance, and the same
 * seed giving the same answer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "scheduler/plan.h"

/* ---- the reference: look at every instance for every task ------------ */

struct ref {
	const struct sched_plan *p;
	const struct sched_instance *inst;
	size_t n;
	struct sched_state *st;
};

static bool same_value(const struct sched_instance *a, const struct sched_instance *b, const char *attr)
{
	const char *x = sched_spread_value(a, attr), *y = sched_spread_value(b, attr);

	return x == y || (x && y && strcmp(x, y) == 0);
}

static int64_t ref_comp(const struct ref *r, size_t i, const struct sched_comp *c)
{
	int64_t sum = 0;

	switch (c->kind) {
	case COMP_REM_CPU:
		return r->st[i].rem_cpu;
	case COMP_REM_MEMORY:
		return r->st[i].rem_memory;
	case COMP_INSTANCE:
		return r->st[i].group_tasks;
	case COMP_ATTRIBUTE:
		for (size_t j = 0; j < r->n; j++)
			if (r->inst[j].status != SCHED_INSTANCE_INACTIVE && same_value(&r->inst[i], &r->inst[j], c->attr))
				sum += r->st[j].group_tasks;
		return sum;
	}
	return 0;
}

static int ref_cmp(const struct ref *r, size_t a, size_t b)
{
	for (size_t k = 0; k < r->p->n_comps; k++) {
		int64_t x = ref_comp(r, a, &r->p->comps[k]), y = ref_comp(r, b, &r->p->comps[k]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* First instance sharing every spread attribute value with I. */
static size_t ref_cell(const struct ref *r, size_t i)
{
	for (size_t j = 0;; j++) {
		bool same = true;

		for (size_t k = 0; k < r->p->n_comps; k++)
			if (r->p->comps[k].kind == COMP_ATTRIBUTE)
				same = same && same_value(&r->inst[i], &r->inst[j], r->p->comps[k].attr);
		if (same)
			return j;
	}
}

static void ref_place(const struct sched_plan *p, const struct sched_instance *inst, size_t n,
		      uint32_t count, uint64_t seed, struct sched_placement *out)
{
	struct sched_state st[64];
	struct ref r = { p, inst, n, st };
	size_t ties[64], nt;

	for (size_t i = 0; i < n; i++)
		sched_state_init(p, &inst[i], &st[i]);
	for (uint32_t t = 0; t < count; t++) {
		size_t best = SIZE_MAX;
		int far = STAGE_IGNORED;

		out[t] = (struct sched_placement){ -1, SCHED_NO_INSTANCES, -1 };
		for (size_t i = 0; i < n; i++) {
			int s = sched_check(p, &inst[i], &st[i]);

			if (s == STAGE_OK && (best == SIZE_MAX || ref_cmp(&r, i, best) < 0))
				best = i;
			if (s != STAGE_OK && s > far) {
				far = s;
				out[t].closest = (int32_t)i;
			}
		}
		if (best == SIZE_MAX) {
			out[t].reason = sched_stage_reason(p, far);
			continue;
		}
		nt = 0;
		for (size_t i = 0; i < n; i++)
			if (sched_check(p, &inst[i], &st[i]) == STAGE_OK && ref_cmp(&r, i, best) == 0)
				ties[nt++] = i;
		/* tie order: the cell's first index, then the index (insertion sort) */
		for (size_t a = 1; a < nt; a++)
			for (size_t b = a; b > 0 && ref_cell(&r, ties[b - 1]) > ref_cell(&r, ties[b]); b--) {
				size_t x = ties[b];

				ties[b] = ties[b - 1];
				ties[b - 1] = x;
			}
		best = ties[sched_rand_below(&seed, nt)];
		sched_state_place(p, &st[best]);
		out[t] = (struct sched_placement){ (int32_t)best, SCHED_PLACED, -1 };
	}
}

/* ---- random clusters and requests ------------------------------------ */

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	return sched_rand_below(&rng, n);
}

struct cluster {
	struct sched_instance in[50];
	struct sched_attr attrs[50][4];
	struct sched_group_count groups[50][2];
	uint16_t tcp[50][2], udp[50][1];
	char ids[50][16];
	size_t n;
};

static const char *const azs[] = { "az-a", "az-b", "az-c" };
static const char *const types[] = { "small", "large", "xl" };
static const char *const racks[] = { "r1", "r2", "r3", "r4", "r5", "r6", "r7" };

static void random_cluster(struct cluster *c)
{
	static const int64_t cpus[] = { 0, 256, 512, 1024, 2048 };
	static const int64_t mems[] = { 0, 128, 512, 1024, 4096 };
	static const uint16_t ports[] = { 22, 80, 443 };

	c->n = 1 + rnd(50);
	for (size_t i = 0; i < c->n; i++) {
		struct sched_instance *in = &c->in[i];
		size_t na = 0, ng = 0;

		snprintf(c->ids[i], sizeof(c->ids[i]), "i-%u", (unsigned)i);
		memset(in, 0, sizeof(*in));
		in->id = in->ec2_instance_id = c->ids[i];
		in->status = rnd(10) == 0 ? SCHED_INSTANCE_DRAINING :
			     rnd(15) == 0 ? SCHED_INSTANCE_INACTIVE : SCHED_INSTANCE_ACTIVE;
		in->agent_connected = rnd(12) != 0;
		in->remaining_cpu = cpus[rnd(5)];
		in->remaining_memory = mems[rnd(5)];
		in->registered_cpu = 4096;
		in->registered_memory = 8192;
		if (rnd(8))
			c->attrs[i][na++] = (struct sched_attr){ "az", azs[rnd(3)] };
		if (rnd(8))
			c->attrs[i][na++] = (struct sched_attr){ "type", types[rnd(3)] };
		if (rnd(2))
			c->attrs[i][na++] = (struct sched_attr){ "rack", racks[rnd(7)] };
		if (rnd(4) == 0)
			c->attrs[i][na++] = (struct sched_attr){ "cap.x", NULL };
		in->attrs = c->attrs[i];
		in->n_attrs = na;
		if (rnd(3) == 0)
			c->groups[i][ng++] = (struct sched_group_count){ "g1", (uint32_t)rnd(3) };
		if (rnd(3) == 0)
			c->groups[i][ng++] = (struct sched_group_count){ "g2", (uint32_t)rnd(3) };
		in->groups = c->groups[i];
		in->n_groups = ng;
		in->running_tasks = (uint32_t)rnd(5);
		in->agent_version = rnd(2) ? "1.14.5" : "1.9.0";
		in->registered_at_ms = 1500000000000LL + (int64_t)rnd(4) * 86400000LL;
		c->tcp[i][0] = ports[rnd(3)];
		in->ports_tcp = c->tcp[i];
		in->n_ports_tcp = rnd(2);
		c->udp[i][0] = 53;
		in->ports_udp = c->udp[i];
		in->n_ports_udp = rnd(4) == 0;
	}
}

static const char *const exprs[] = {
	"attribute:az != az-c",
	"attribute:type in [large, xl] and attribute:az != az-a",
	"attribute:type =~ 'l.*' or attribute:rack exists",
	"not(task:group == g1)",
	"task:group == g2 or runningTasksCount < 3",
	"runningTasksCount <= 4",
	"agentVersion >= 1.10 || registeredAt > 2017-07-15",
	"attribute:cap.x !exists",
};

static const struct sched_strategy_spec strategies[] = {
	{ "binpack", "cpu" }, { "binpack", "memory" }, { "spread", "instanceId" },
	{ "spread", "host" }, { "spread", "attribute:az" }, { "spread", "attribute:type" },
	{ "spread", "attribute:rack" }, { "random", NULL },
};

struct request {
	struct sched_request rq;
	struct sched_strategy_spec strat[5];
	struct sched_constraint_spec cons[4];
	uint16_t tcp[1], udp[1];
	struct sched_attr req[1];
};

static void random_request(struct request *r)
{
	static const int64_t cpus[] = { 0, 128, 256, 512 };
	static const int64_t mems[] = { 0, 64, 256 };
	size_t nc = rnd(4);

	memset(r, 0, sizeof(*r));
	r->rq.cpu = cpus[rnd(4)];
	r->rq.memory = mems[rnd(3)];
	r->tcp[0] = 80;
	r->udp[0] = 53;
	r->rq.ports_tcp = r->tcp;
	r->rq.n_ports_tcp = rnd(4) == 0;
	r->rq.ports_udp = r->udp;
	r->rq.n_ports_udp = rnd(6) == 0;
	r->req[0] = (struct sched_attr){ "cap.x", NULL };
	r->rq.requires = r->req;
	r->rq.n_requires = rnd(6) == 0;
	r->rq.n_strategies = rnd(6);
	for (size_t i = 0; i < r->rq.n_strategies; i++)
		r->strat[i] = strategies[rnd(ARRAY_SIZE(strategies))];
	r->rq.strategies = r->strat;
	for (size_t i = 0; i < nc; i++) {
		if (rnd(3) == 0)
			r->cons[i] = (struct sched_constraint_spec){ "distinctInstance", NULL };
		else
			r->cons[i] = (struct sched_constraint_spec){ "memberOf", exprs[rnd(ARRAY_SIZE(exprs))] };
	}
	r->rq.constraints = r->cons;
	r->rq.n_constraints = nc;
	r->rq.group = rnd(2) ? "g1" : "g2";
	r->rq.service = rnd(2);
}

static void test_fast_path_equals_reference(void **state)
{
	static struct cluster c;
	struct request r;
	struct sched_placement fast[40], again[40], ref[40];
	unsigned failures_seen = 0, placed_seen = 0;

	(void)state;
	rng = 42;
	for (int round = 0; round < 2500; round++) {
		_cleanup_(sched_plan_freep) struct sched_plan *p = NULL;
		struct err e = ERR_INIT;
		uint32_t count = 1 + (uint32_t)rnd(40);
		uint64_t seed = rng;

		random_cluster(&c);
		random_request(&r);
		assert_int_equal(sched_plan_compile(&r.rq, &p, &e), 0);
		assert_int_equal(sched_place(p, c.in, c.n, count, seed, fast, &e), 0);
		assert_int_equal(sched_place(p, c.in, c.n, count, seed, again, &e), 0);
		ref_place(p, c.in, c.n, count, seed, ref);
		for (uint32_t t = 0; t < count; t++) {
			if (fast[t].instance != ref[t].instance || fast[t].reason != ref[t].reason ||
			    fast[t].closest != ref[t].closest)
				fail_msg("round %d task %u: fast (%d, %s, %d) reference (%d, %s, %d)", round, t,
					 fast[t].instance, sched_reason_string(fast[t].reason), fast[t].closest,
					 ref[t].instance, sched_reason_string(ref[t].reason), ref[t].closest);
			assert_memory_equal(&fast[t], &again[t], sizeof(fast[t]));
			if (fast[t].instance < 0)
				failures_seen++;
			else
				placed_seen++;
		}
	}
	/* the generator must exercise both outcomes */
	assert_true(failures_seen > 600);
	assert_true(placed_seen > 600);
}

/* Different seeds spread ties differently: randomness is real. */
static void test_seed_matters(void **state)
{
	static struct sched_instance in[20];
	static const struct sched_strategy_spec rnd_only[] = { { "random", NULL } };
	struct sched_request rq = { .strategies = rnd_only, .n_strategies = 1, .group = "g" };
	_cleanup_(sched_plan_freep) struct sched_plan *p = NULL;
	struct sched_placement a[10], b[10];
	struct err e = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < 20; i++)
		in[i] = (struct sched_instance){ .agent_connected = true, .remaining_cpu = 1024,
						 .remaining_memory = 1024 };
	assert_int_equal(sched_plan_compile(&rq, &p, &e), 0);
	assert_int_equal(sched_place(p, in, 20, 10, 1, a, &e), 0);
	assert_int_equal(sched_place(p, in, 20, 10, 2, b, &e), 0);
	assert_true(memcmp(a, b, sizeof(a)) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_path_equals_reference),
		cmocka_unit_test(test_seed_matters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
