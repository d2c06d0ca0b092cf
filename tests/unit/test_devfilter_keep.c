/* tests/unit/test_devfilter_keep.c - the kept device programs: a second
 * start reuses the first one's program, a program in the keeper that is not
 * exactly ours (stale, foreign, other type) is never used, and the keeper
 * stays bounded.  Root with cgroup2 and BPF only; skipped else.  Each test
 * uses a keeper cgroup of its own and removes it. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup/cgroup.h"
#include "runtime/devfilter.h"

struct fixture {
	char path[PATH_MAX];
	int keeper;
};

static int setup(void **state)
{
	static struct fixture fx;
	struct cg_host host;

	if (geteuid() != 0 || cg_host_probe(NULL, &host) < 0)
		return 0;
	if (snprintf(fx.path, sizeof(fx.path), "%.3000s/berth-test-devkeep-%d", host.mount,
		     (int)getpid()) >= (int)sizeof(fx.path))
		return 0;
	fx.keeper = rt_devfilter_keeper_open(fx.path);
	if (fx.keeper < 0)
		return 0;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (!fx)
		return 0;
	close(fx->keeper);
	/* the attachments go with the cgroup */
	assert_int_equal(rmdir(fx->path), 0);
	return 0;
}

static struct fixture *need_keeper(void **state)
{
	if (!*state)
		skip();
	return *state;
}

static size_t default_program(struct bpf_insn *insns)
{
	struct rt_dev_rule rules[RT_DEVFILTER_MAX_RULES];
	struct rt_spec spec = { 0 };
	struct rt_plan p = { .spec = &spec };

	return rt_devfilter_build(rules, rt_devfilter_rules(&p, rules), insns);
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	assert_int_equal(syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)), 0);
	return info.id;
}

static uint32_t keeper_count(int keeper)
{
	uint32_t ids[RT_DEVFILTER_KEEP_QUERY];
	union bpf_attr q;

	memset(&q, 0, sizeof(q));
	q.query.target_fd = (uint32_t)keeper;
	q.query.attach_type = BPF_CGROUP_DEVICE;
	q.query.prog_ids = (uint64_t)(uintptr_t)ids;
	q.query.prog_cnt = RT_DEVFILTER_KEEP_QUERY;
	assert_int_equal(syscall(SYS_bpf, BPF_PROG_QUERY, &q, sizeof(q)), 0);
	return q.query.prog_cnt;
}

static void attach(int keeper, int prog)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)keeper;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	assert_int_equal(syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)), 0);
}

static void test_reuses(void **state)
{
	struct fixture *fx = need_keeper(state);
	struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS];
	size_t n = default_program(insns);
	int a = rt_devfilter_get(fx->keeper, insns, n);
	int b;

	assert_true(a >= 0);
	assert_int_equal(keeper_count(fx->keeper), 1);
	b = rt_devfilter_get(fx->keeper, insns, n);
	assert_true(b >= 0);
	assert_int_equal(prog_id(a), prog_id(b)); /* the same kernel object */
	assert_int_equal(keeper_count(fx->keeper), 1);
	close(a);
	close(b);
}

/* A stale program (one instruction off: another minor) and a foreign one
 * (allow-all, the "corrupted pin") sit in the keeper: neither is taken. */
static void test_distrusts_others(void **state)
{
	struct fixture *fx = need_keeper(state);
	struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS], stale[RT_DEVFILTER_MAX_INSNS];
	const struct bpf_insn allow_all[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	size_t n = default_program(insns);
	int foreign, old, got;
	size_t i;

	memcpy(stale, insns, n * sizeof(*insns));
	for (i = 0; i < n && !(stale[i].code == (BPF_JMP | BPF_JNE | BPF_K) && stale[i].imm == 3); i++)
		;
	assert_true(i < n); /* the rule for 1:3 (null) */
	stale[i].imm = 4;
	foreign = rt_devfilter_load(allow_all, 2);
	old = rt_devfilter_load(stale, n);
	assert_true(foreign >= 0 && old >= 0);
	attach(fx->keeper, foreign);
	attach(fx->keeper, old);

	got = rt_devfilter_get(fx->keeper, insns, n);
	assert_true(got >= 0);
	assert_int_not_equal(prog_id(got), prog_id(foreign));
	assert_int_not_equal(prog_id(got), prog_id(old));
	assert_int_equal(keeper_count(fx->keeper), 3); /* ours joined them */
	close(got);
	/* and now ours is found among them */
	got = rt_devfilter_get(fx->keeper, insns, n);
	assert_int_equal(keeper_count(fx->keeper), 3);
	close(got);
	close(foreign);
	close(old);
}

/* Ever new programs: the keeper never holds more than RT_DEVFILTER_KEEP. */
static void test_bounded(void **state)
{
	struct fixture *fx = need_keeper(state);
	struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS + 1];
	size_t n = default_program(insns + 1);

	for (int k = 0; k < 3 * RT_DEVFILTER_KEEP; k++) {
		int fd;

		/* made distinct by a leading store to a register nothing reads */
		insns[0] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 7,
					      .imm = k };
		fd = rt_devfilter_get(fx->keeper, insns, n + 1);
		assert_true(fd >= 0);
		close(fd);
		assert_true(keeper_count(fx->keeper) <= RT_DEVFILTER_KEEP);
	}
}

/* Without a keeper it still loads. */
static void test_no_keeper(void **state)
{
	struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS];
	size_t n = default_program(insns);
	int fd;

	(void)need_keeper(state);
	fd = rt_devfilter_get(-1, insns, n);
	assert_true(fd >= 0);
	close(fd);
	assert_true(rt_devfilter_get(-1, insns, 0) < 0); /* the load's own error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_distrusts_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_keeper, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
