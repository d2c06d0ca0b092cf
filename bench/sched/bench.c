/* bench/sched/bench.c - scheduler throughput and per-decision latency on
 * synthetic clusters (issue 8).  Built by bench/sched/run with -O2 against
 * the scheduler's sources; never part of the berth binary or the tests.
 *
 *   sched_bench [tasks] [sizes...]     default: 100000 tasks, 1000 10000 100000
 *
 * For each size and scenario: the session setup time (one O(n) pass that
 * checks every instance and builds the indexes), then every decision timed
 * alone (clock_gettime around sched_session_next), throughput over all
 * decisions, p50/p99/max, and how many tasks were placed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/scheduler.h"

#define NATTR 5

static const char *const azs[] = { "az-1", "az-2", "az-3" };
static const char *const types[] = { "small", "medium", "large", "xlarge" };

struct cluster {
	struct sched_instance *in;
	struct sched_attr *attrs;
	char (*ids)[24];
	size_t n;
};

static uint64_t rng = 1;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void make_cluster(struct cluster *c, size_t n)
{
	static const uint16_t reserved[] = { 22, 2375, 2376, 51678, 51679 };

	c->n = n;
	c->in = calloc(n, sizeof(*c->in));
	c->attrs = calloc(n * NATTR, sizeof(*c->attrs));
	c->ids = calloc(n, sizeof(*c->ids));
	if (!c->in || !c->attrs || !c->ids) {
		perror("calloc");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		struct sched_attr *a = &c->attrs[i * NATTR];
		int64_t mem = 8192 + (int64_t)(next() % 33) * 256;   /* 8-16 GiB, many ties */

		snprintf(c->ids[i], sizeof(c->ids[i]), "i-%08zx", i);
		a[0] = (struct sched_attr){ "ecs.availability-zone", azs[next() % 3] };
		a[1] = (struct sched_attr){ "ecs.instance-type", types[next() % 4] };
		a[2] = (struct sched_attr){ "ecs.os-type", "linux" };
		a[3] = (struct sched_attr){ "ecs.cpu-architecture", "x86_64" };
		a[4] = (struct sched_attr){ "rack", "r1" };
		c->in[i] = (struct sched_instance){
			.id = c->ids[i], .ec2_instance_id = c->ids[i],
			.agent_connected = true, .registered_cpu = 4096, .registered_memory = mem,
			.remaining_cpu = 4096, .remaining_memory = mem,
			.ports_tcp = reserved, .n_ports_tcp = 5,
			.attrs = a, .n_attrs = NATTR, .agent_version = "1.80.0",
			.registered_at_ms = 1700000000000LL,
		};
	}
}

static void free_cluster(struct cluster *c)
{
	free(c->in);
	free(c->attrs);
	free(c->ids);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct scenario {
	const char *name;
	struct sched_strategy_spec strat[2];
	size_t n_strat;
	struct sched_constraint_spec cons[2];
	size_t n_cons;
};

static const struct scenario scenarios[] = {
	{ "binpack(memory)", { { "binpack", "memory" } }, 1, { { 0 } }, 0 },
	{ "spread(AZ)+binpack(memory)",
	  { { "spread", "attribute:ecs.availability-zone" }, { "binpack", "memory" } }, 2, { { 0 } }, 0 },
	{ "memberOf+distinct+spread(id)", { { "spread", "instanceId" } }, 1,
	  { { "memberOf", "attribute:ecs.instance-type in [large, xlarge] and "
			  "attribute:ecs.availability-zone != az-3" },
	    { "distinctInstance", NULL } }, 2 },
};

static void run(const struct cluster *c, const struct scenario *sc, uint32_t tasks, double *lat)
{
	struct sched_request rq = {
		.cpu = 10, .memory = 32, .strategies = sc->strat, .n_strategies = sc->n_strat,
		.constraints = sc->cons, .n_constraints = sc->n_cons, .group = "service:bench",
		.service = true,
	};
	struct sched_plan *p;
	struct sched_session *s;
	struct err e = ERR_INIT;
	struct sched_placement out;
	uint32_t placed = 0;
	double t0, setup, total = 0, placed_ns = 0;

	if (sched_plan_compile(&rq, &p, &e) < 0) {
		fprintf(stderr, "compile: %s\n", e.msg);
		exit(1);
	}
	t0 = now_ns();
	if (sched_session_new(p, c->in, c->n, 42, &s, &e) < 0) {
		fprintf(stderr, "session: %s\n", e.msg);
		exit(1);
	}
	setup = now_ns() - t0;
	for (uint32_t t = 0; t < tasks; t++) {
		double a = now_ns();

		sched_session_next(s, &out);
		lat[t] = now_ns() - a;
		total += lat[t];
		if (out.instance >= 0) {
			placed++;
			placed_ns += lat[t];
		}
	}
	sched_session_free(s);
	sched_plan_free(p);
	qsort(lat, tasks, sizeof(*lat), cmp_double);
	printf("| %7zu | %-29s | %8.2f | %10.0f | %10.0f | %6.2f | %6.2f | %8.2f | %6u |\n", c->n,
	       sc->name, setup / 1e6, tasks / (total / 1e9), placed ? placed / (placed_ns / 1e9) : 0,
	       lat[tasks / 2] / 1e3, lat[(size_t)(tasks * 0.99)] / 1e3, lat[tasks - 1] / 1e3, placed);
}

/* RunTask-shaped: a fresh session (setup included) per call of COUNT tasks. */
static void run_calls(const struct cluster *c, uint32_t tasks, uint32_t count)
{
	static const struct sched_strategy_spec bp[] = { { "binpack", "memory" } };
	struct sched_request rq = { .cpu = 10, .memory = 32, .strategies = bp, .n_strategies = 1,
				    .group = "family:bench" };
	struct sched_placement out[10];
	struct sched_plan *p;
	struct err e = ERR_INIT;
	uint32_t calls = tasks / count / 10 ? tasks / count / 10 : 1;   /* 10% of the tasks: setup dominates */
	double t0;

	if (count > 10 || sched_plan_compile(&rq, &p, &e) < 0)
		exit(1);
	t0 = now_ns();
	for (uint32_t k = 0; k < calls; k++)
		if (sched_place(p, c->in, c->n, count, k, out, &e) < 0)
			exit(1);
	t0 = now_ns() - t0;
	printf("| %7zu | binpack(memory), RunTask count=%u, new session per call: %.0f placements/s, %.1f us per call |\n",
	       c->n, count, calls * count / (t0 / 1e9), t0 / calls / 1e3);
	sched_plan_free(p);
}

int main(int argc, char **argv)
{
	uint32_t tasks = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
	size_t sizes[8] = { 1000, 10000, 100000 }, n_sizes = 3;
	double *lat = malloc(tasks * sizeof(double));

	if (argc > 2)
		for (n_sizes = 0; n_sizes < 8 && (int)n_sizes + 2 < argc; n_sizes++)
			sizes[n_sizes] = strtoul(argv[n_sizes + 2], NULL, 10);
	if (!lat || tasks == 0)
		return 1;
	printf("%u tasks (cpu 10, memory 32) per run; times per decision, one core\n\n", tasks);
	printf("| instances | scenario                      | setup ms | decisions/s | placed/s | p50 us | p99 us | max us | placed |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (size_t k = 0; k < n_sizes; k++) {
		struct cluster c;

		rng = 1;
		make_cluster(&c, sizes[k]);
		for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++)
			run(&c, &scenarios[s], tasks, lat);
		free_cluster(&c);
	}
	printf("\n");
	for (size_t k = 0; k < n_sizes; k++) {
		struct cluster c;

		rng = 1;
		make_cluster(&c, sizes[k]);
		run_calls(&c, tasks, 10);
		free_cluster(&c);
	}
	free(lat);
	return 0;
}
