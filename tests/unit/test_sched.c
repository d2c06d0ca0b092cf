/* tests/unit/test_sched.c - placement on small hand-built clusters with the
 * expected instance per task, failure reasons and the closest instance,
 * request validation, the resource rule, and the scale-in choice. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "scheduler/scheduler.h"

#define MAXI 8

struct cl {
	struct sched_instance in[MAXI];
	struct sched_attr attrs[MAXI][2];
	struct sched_group_count g[MAXI][1];
	size_t n;
};

/* Instance I: az, type, cpu, memory, tasks of group "g". */
static void add(struct cl *c, const char *az, const char *type, int64_t cpu, int64_t mem, uint32_t g)
{
	size_t i = c->n++;

	c->attrs[i][0] = (struct sched_attr){ "ecs.availability-zone", az };
	c->attrs[i][1] = (struct sched_attr){ "ecs.instance-type", type };
	c->g[i][0] = (struct sched_group_count){ "g", g };
	c->in[i] = (struct sched_instance){
		.id = "x", .ec2_instance_id = "x", .agent_connected = true,
		.remaining_cpu = cpu, .remaining_memory = mem, .registered_cpu = cpu,
		.registered_memory = mem, .attrs = c->attrs[i], .n_attrs = 2,
		.groups = c->g[i], .n_groups = 1,
	};
}

/* Places COUNT tasks; EXPECT lists instance indexes, -1 for a failure. */
static void expect(const struct cl *c, const struct sched_request *rq, uint32_t count,
		   const int32_t *want, enum sched_reason why, int32_t closest)
{
	_cleanup_(sched_plan_freep) struct sched_plan *p = NULL;
	struct sched_placement out[16];
	struct err e = ERR_INIT;

	if (sched_plan_compile(rq, &p, &e) < 0)
		fail_msg("compile: %s", e.msg);
	assert_int_equal(sched_place(p, c->in, c->n, count, 7, out, &e), 0);
	for (uint32_t t = 0; t < count; t++) {
		if (out[t].instance != want[t])
			fail_msg("task %u: instance %d, want %d (%s)", t, out[t].instance, want[t],
				 sched_reason_string(out[t].reason));
		if (want[t] < 0) {
			assert_string_equal(sched_reason_string(out[t].reason), sched_reason_string(why));
			assert_int_equal(out[t].closest, closest);
		}
	}
}

static const struct sched_strategy_spec binpack_mem[] = { { "binpack", "memory" } };
static const struct sched_strategy_spec binpack_cpu[] = { { "binpack", "cpu" } };

static void test_binpack_memory_fills_fullest_first(void **state)
{
	struct cl c = { 0 };
	struct sched_request rq = { .memory = 512, .strategies = binpack_mem, .n_strategies = 1, .group = "g" };

	(void)state;
	add(&c, "a", "s", 4096, 4096, 0);
	add(&c, "a", "s", 4096, 1024, 0);
	add(&c, "b", "s", 4096, 2048, 0);
	expect(&c, &rq, 6, (const int32_t[]){ 1, 1, 2, 2, 2, 2 }, 0, 0);
}

static void test_binpack_cpu_then_resource_failure(void **state)
{
	struct cl c = { 0 };
	struct sched_request rq = { .cpu = 1024, .strategies = binpack_cpu, .n_strategies = 1, .group = "g" };

	(void)state;
	add(&c, "a", "s", 512, 4096, 0);
	add(&c, "a", "s", 3000, 4096, 0);
	add(&c, "b", "s", 1500, 4096, 0);
	expect(&c, &rq, 5, (const int32_t[]){ 2, 1, 1, -1, -1 }, SCHED_CPU, 0);
}

static void test_spread_az_then_instance(void **state)
{
	struct cl c = { 0 };
	struct sched_request rq = { .group = "g", .service = true };   /* the service default */

	(void)state;
	add(&c, "a", "s", 4096, 4096, 1);
	add(&c, "a", "s", 4096, 4096, 0);
	add(&c, "b", "s", 4096, 4096, 0);
	add(&c, "c", "s", 4096, 4096, 2);
	/* AZ counts a=1 b=0 c=2: b; then a/b tie, the emptier instance is in a */
	expect(&c, &rq, 3, (const int32_t[]){ 2, 1, 2 }, 0, 0);
}

static void test_spread_then_binpack_inside_az(void **state)
{
	static const struct sched_strategy_spec s[] = {
		{ "spread", "attribute:ecs.availability-zone" }, { "binpack", "memory" },
	};
	struct cl c = { 0 };
	struct sched_request rq = { .memory = 100, .strategies = s, .n_strategies = 2, .group = "g" };

	(void)state;
	add(&c, "a", "s", 4096, 1000, 0);
	add(&c, "a", "s", 4096, 300, 0);
	add(&c, "b", "s", 4096, 150, 1);
	add(&c, "b", "s", 4096, 900, 0);
	/* a=0 b=1: a's fullest (1); a=1 b=1: the fullest of both AZs (2, 150 left) */
	expect(&c, &rq, 3, (const int32_t[]){ 1, 2, 1 }, 0, 0);
}

static void test_distinct_instance(void **state)
{
	static const struct sched_constraint_spec k[] = { { "distinctInstance", NULL } };
	struct cl c = { 0 };
	struct sched_request rq = { .constraints = k, .n_constraints = 1, .group = "g",
				    .strategies = binpack_mem, .n_strategies = 1 };
	struct sched_placement out[5];
	_cleanup_(sched_plan_freep) struct sched_plan *p = NULL;
	struct err e = ERR_INIT;
	bool used[4] = { 0 };

	(void)state;
	for (int i = 0; i < 4; i++)
		add(&c, "a", "s", 4096, 4096 - i, 0);
	assert_int_equal(sched_plan_compile(&rq, &p, &e), 0);
	assert_int_equal(sched_place(p, c.in, c.n, 5, 1, out, &e), 0);
	for (int t = 0; t < 4; t++) {
		assert_true(out[t].instance >= 0 && !used[out[t].instance]);
		used[out[t].instance] = true;
	}
	assert_int_equal(out[4].instance, -1);
	assert_string_equal(sched_reason_string(out[4].reason),
			    "DistinctInstance placement constraint unsatisfied");
	/* an instance already running a task of the group is excluded too */
	c.g[1][0].count = 1;
	expect(&c, &rq, 4, (const int32_t[]){ 3, 2, 0, -1 }, SCHED_DISTINCT_INSTANCE, 0);
}

static void test_member_of_and_closest(void **state)
{
	static const struct sched_constraint_spec k[] = {
		{ "memberOf", "attribute:ecs.instance-type == large" },
	};
	struct cl c = { 0 };
	struct sched_request rq = { .memory = 600, .constraints = k, .n_constraints = 1, .group = "g",
				    .strategies = binpack_mem, .n_strategies = 1 };

	(void)state;
	add(&c, "a", "small", 4096, 4096, 0);
	add(&c, "a", "large", 4096, 1000, 0);
	add(&c, "b", "large", 4096, 100, 0);
	add(&c, "b", "small", 4096, 700, 0);
	/* only 1 fits and is large; then 0 and 3 pass resources but not memberOf:
	 * the first of them is the closest */
	expect(&c, &rq, 3, (const int32_t[]){ 1, -1, -1 }, SCHED_MEMBER_OF, 0);
}

static void test_ports_agent_attribute_draining(void **state)
{
	static const uint16_t used80[] = { 80 }, want80[] = { 80 }, want53[] = { 53 };
	static const struct sched_attr need[] = { { "ecs.capability.efs", NULL } };
	struct cl c = { 0 };
	struct sched_request rq = { .ports_tcp = want80, .n_ports_tcp = 1, .group = "g",
				    .strategies = binpack_mem, .n_strategies = 1 };

	(void)state;
	add(&c, "a", "s", 4096, 100, 0);
	add(&c, "a", "s", 4096, 200, 0);
	add(&c, "a", "s", 4096, 300, 0);
	c.in[0].ports_tcp = used80;
	c.in[0].n_ports_tcp = 1;
	expect(&c, &rq, 3, (const int32_t[]){ 1, 2, -1 }, SCHED_PORTS, 0);
	rq.ports_tcp = NULL, rq.n_ports_tcp = 0;
	rq.ports_udp = want53, rq.n_ports_udp = 1;
	expect(&c, &rq, 4, (const int32_t[]){ 0, 1, 2, -1 }, SCHED_PORTS_UDP, 0);
	rq.n_ports_udp = 0;
	rq.requires = need, rq.n_requires = 1;
	expect(&c, &rq, 1, (const int32_t[]){ -1 }, SCHED_ATTRIBUTE, 0);
	rq.n_requires = 0;
	c.in[0].agent_connected = false;
	c.in[1].status = SCHED_INSTANCE_DRAINING;
	c.in[2].remaining_memory = 0;
	rq.memory = 1;
	/* 0 fails AGENT, 2 gets further (MEMORY); 1 is not considered */
	expect(&c, &rq, 1, (const int32_t[]){ -1 }, SCHED_MEMORY, 2);
	c.in[0].status = SCHED_INSTANCE_INACTIVE;
	c.in[2].status = SCHED_INSTANCE_DRAINING;
	expect(&c, &rq, 2, (const int32_t[]){ -1, -1 }, SCHED_NO_INSTANCES, -1);
	expect(&c, &rq, 0, NULL, 0, 0);
	assert_string_equal(sched_reason_string(SCHED_AGENT), "AGENT");
	assert_string_equal(sched_reason_string(SCHED_CPU), "RESOURCE:CPU");
}

static void test_anti_affinity_within_one_call(void **state)
{
	static const struct sched_constraint_spec k[] = { { "memberOf", "not(task:group == g)" } };
	struct cl c = { 0 };
	struct sched_request rq = { .constraints = k, .n_constraints = 1, .group = "g",
				    .strategies = binpack_mem, .n_strategies = 1 };

	(void)state;
	add(&c, "a", "s", 4096, 10, 0);
	add(&c, "a", "s", 4096, 20, 1);
	add(&c, "a", "s", 4096, 30, 0);
	expect(&c, &rq, 3, (const int32_t[]){ 0, 2, -1 }, SCHED_MEMBER_OF, 0);
}

struct bad_case {
	struct sched_request rq;
	const char *msg;
};

static void test_request_validation(void **state)
{
	static const struct sched_strategy_spec six[6] = {
		{ "random", NULL }, { "random", NULL }, { "random", NULL },
		{ "random", NULL }, { "random", NULL }, { "random", NULL },
	};
	static const struct sched_strategy_spec pack[] = { { "pack", "cpu" } };
	static const struct sched_strategy_spec disk[] = { { "binpack", "disk" } };
	static const struct sched_strategy_spec nofield[] = { { "spread", NULL } };
	static const struct sched_strategy_spec empty_attr[] = { { "spread", "attribute:" } };
	static const struct sched_constraint_spec eleven[11] = { [0 ... 10] = { "distinctInstance", NULL } };
	static const struct sched_constraint_spec distinct_expr[] = { { "distinctInstance", "a == b" } };
	static const struct sched_constraint_spec member_empty[] = { { "memberOf", "" } };
	static const struct sched_constraint_spec odd[] = { { "sameZone", NULL } };
	static const struct sched_constraint_spec syntax[] = {
		{ "distinctInstance", NULL }, { "memberOf", "attribute:x == y and" },
	};
	const struct bad_case bad[] = {
		{ { .strategies = six, .n_strategies = 6 }, "at most 5" },
		{ { .strategies = pack, .n_strategies = 1 }, "invalid type 'pack'" },
		{ { .strategies = disk, .n_strategies = 1 }, "invalid field 'disk' for binpack" },
		{ { .strategies = nofield, .n_strategies = 1 }, "invalid field '' for spread" },
		{ { .strategies = empty_attr, .n_strategies = 1 }, "invalid field 'attribute:'" },
		{ { .constraints = eleven, .n_constraints = 11 }, "at most 10" },
		{ { .constraints = distinct_expr, .n_constraints = 1 }, "takes no expression" },
		{ { .constraints = member_empty, .n_constraints = 1 }, "requires an expression" },
		{ { .constraints = odd, .n_constraints = 1 }, "invalid type 'sameZone'" },
		{ { .constraints = syntax, .n_constraints = 2 }, "placementConstraints[1]: Invalid placement constraint expression: at position 20" },
		{ { .cpu = -1 }, "must not be negative" },
	};
	static const struct sched_strategy_spec five[] = {
		{ "spread", "attribute:ecs.availability-zone" }, { "random", "ignored" },
		{ "binpack", "MEMORY" }, { "spread", "host" }, { "binpack", "cpu" },
	};
	struct sched_request ok = { .strategies = five, .n_strategies = 5, .constraints = eleven,
				    .n_constraints = 10, .group = NULL };
	struct sched_plan *p = NULL;
	struct err e = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		e = (struct err)ERR_INIT;
		assert_int_equal(sched_plan_compile(&bad[i].rq, &p, &e), -EINVAL);
		assert_null(p);
		assert_string_equal(e.type, "InvalidParameterException");
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, bad[i].msg);
	}
	assert_int_equal(sched_plan_compile(&ok, &p, &e), 0);
	sched_plan_free(p);
}

static void test_task_resources(void **state)
{
	const struct sched_container_res c[] = {
		{ 256, 512, 128 },   /* reservation wins */
		{ 128, 300, -1 },    /* memory only */
		{ -1, -1, 64 },      /* reservation only, no cpu */
	};
	int64_t cpu, mem;

	(void)state;
	sched_task_resources(-1, -1, c, 3, &cpu, &mem);
	assert_int_equal(cpu, 384);
	assert_int_equal(mem, 128 + 300 + 64);
	sched_task_resources(1024, -1, c, 3, &cpu, &mem);
	assert_int_equal(cpu, 1024);
	assert_int_equal(mem, 492);
	sched_task_resources(-1, 2048, c, 3, &cpu, &mem);
	assert_int_equal(cpu, 384);
	assert_int_equal(mem, 2048);
}

static void test_scale_in(void **state)
{
	struct cl c = { 0 };
	struct sched_request svc = { .group = "g", .service = true, .memory = 100 };
	struct sched_request bp = { .group = "g", .memory = 100, .strategies = binpack_mem, .n_strategies = 1 };
	/* instance 0 (az1): 1 task, 1 (az2): 2 tasks, 2 (az3): 2 tasks */
	struct sched_task_ref tasks[] = { { 0, false }, { 1, false }, { 1, false }, { 2, false }, { 2, false } };
	_cleanup_(sched_plan_freep) struct sched_plan *p = NULL;
	_cleanup_(sched_plan_freep) struct sched_plan *q = NULL;
	uint32_t v[8];
	size_t n, on[3] = { 0 };
	struct err e = ERR_INIT;

	(void)state;
	add(&c, "az1", "s", 4096, 900, 1);
	add(&c, "az2", "s", 4096, 100, 2);
	add(&c, "az3", "s", 4096, 500, 2);
	assert_int_equal(sched_plan_compile(&svc, &p, &e), 0);
	assert_int_equal(sched_scale_in(p, c.in, c.n, tasks, 5, 2, 3, v, &n, &e), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		on[tasks[v[i]].instance]++;
	assert_int_equal(on[0], 0);   /* the AZ with the fewest tasks keeps its task */
	assert_int_equal(on[1], 1);
	assert_int_equal(on[2], 1);

	/* binpack memory: the instance with the most free memory loses first */
	assert_int_equal(sched_plan_compile(&bp, &q, &e), 0);
	assert_int_equal(sched_scale_in(q, c.in, c.n, tasks, 5, 5, 3, v, &n, &e), 0);
	assert_int_equal(n, 5);
	assert_int_equal(tasks[v[0]].instance, 0);
	assert_int_equal(tasks[v[1]].instance, 2);   /* 500 + 100 after the stop */
	assert_int_equal(tasks[v[2]].instance, 2);   /* 600 vs 100: still 2 */

	/* protected tasks are never chosen; unknown instances are refused */
	for (size_t i = 0; i < 5; i++)
		tasks[i].protected_ = i != 3;
	assert_int_equal(sched_scale_in(p, c.in, c.n, tasks, 5, 3, 3, v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0], 3);
	tasks[0].instance = 9;
	assert_int_equal(sched_scale_in(p, c.in, c.n, tasks, 5, 1, 3, v, &n, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binpack_memory_fills_fullest_first),
		cmocka_unit_test(test_binpack_cpu_then_resource_failure),
		cmocka_unit_test(test_spread_az_then_instance),
		cmocka_unit_test(test_spread_then_binpack_inside_az),
		cmocka_unit_test(test_distinct_instance),
		cmocka_unit_test(test_member_of_and_closest),
		cmocka_unit_test(test_ports_agent_attribute_draining),
		cmocka_unit_test(test_anti_affinity_within_one_call),
		cmocka_unit_test(test_request_validation),
		cmocka_unit_test(test_task_resources),
		cmocka_unit_test(test_scale_in),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
