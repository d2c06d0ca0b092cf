/* tests/unit/test_devfilter.c - the container's cgroup device program: run
 * by a small interpreter of the instructions it uses (pure), and, as root,
 * accepted by the kernel's verifier. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/devfilter.h"

#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD
#define CHR BPF_DEVCG_DEV_CHAR
#define BLK BPF_DEVCG_DEV_BLOCK

/* Runs INSNS on the context {type, access, major, minor}: the subset
 * rt_devfilter_build emits (ldx w, alu64 and/rsh/mov k, mov x, jne k, exit). */
static int64_t run(const struct bpf_insn *insns, size_t n, uint32_t type, uint32_t access,
		   uint32_t maj, uint32_t min)
{
	uint32_t ctx[3] = { access << 16 | type, maj, min };
	uint64_t reg[11] = { 0 };

	for (size_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *i = &insns[pc];

		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			assert_int_equal(i->src_reg, 1);
			assert_true(i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
			reg[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU64 | BPF_AND | BPF_K:
			reg[i->dst_reg] &= (uint64_t)(int64_t)i->imm;
			break;
		case BPF_ALU64 | BPF_RSH | BPF_K:
			reg[i->dst_reg] >>= i->imm;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			reg[i->dst_reg] = (uint64_t)(int64_t)i->imm;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			reg[i->dst_reg] = reg[i->src_reg];
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (reg[i->dst_reg] != (uint64_t)(int64_t)i->imm)
				pc += (size_t)i->off;
			assert_true(pc < n);
			break;
		case BPF_JMP | BPF_EXIT:
			return (int64_t)reg[0];
		default:
			fail_msg("instruction %zu: unexpected code 0x%x", pc, i->code);
		}
	}
	fail_msg("fell off the end");
	return -1;
}

static size_t plan_program(struct rt_plan *p, struct bpf_insn *insns)
{
	struct rt_dev_rule rules[RT_DEVFILTER_MAX_RULES];

	return rt_devfilter_build(rules, rt_devfilter_rules(p, rules), insns);
}

static void test_defaults(void **state)
{
	struct rt_spec spec = { 0 };
	struct rt_plan p = { .spec = &spec };
	struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS];
	size_t n = plan_program(&p, insns);

	(void)state;
	/* the usual nodes: everything */
	assert_int_equal(run(insns, n, CHR, R | W, 1, 3), 1);      /* null */
	assert_int_equal(run(insns, n, CHR, R, 1, 9), 1);          /* urandom */
	assert_int_equal(run(insns, n, CHR, R | W, 136, 42), 1);   /* pts/42 */
	assert_int_equal(run(insns, n, CHR, W, 5, 2), 1);          /* ptmx */
	/* mknod of anything, nothing else */
	assert_int_equal(run(insns, n, CHR, M, 1, 1), 1);
	assert_int_equal(run(insns, n, BLK, M, 8, 0), 1);
	assert_int_equal(run(insns, n, CHR, R, 1, 1), 0);          /* mem */
	assert_int_equal(run(insns, n, CHR, R | M, 1, 1), 0);
	assert_int_equal(run(insns, n, BLK, R, 8, 0), 0);          /* sda */
	assert_int_equal(run(insns, n, BLK, R, 1, 3), 0);          /* block 1:3 is not null */
	assert_int_equal(run(insns, n, CHR, W, 4, 0), 0);          /* tty0 */
	assert_int_equal(run(insns, n, CHR, R, 10, 232), 0);       /* kvm */
}

static void test_task_devices(void **state)
{
	struct rt_device devs[] = {
		{ .path = "/dev/myloop", .mode = S_IFBLK | 0400, .dev = makedev(7, 7), .access = R },
		{ .path = "/dev/kvm", .mode = S_IFCHR | 0600, .dev = makedev(10, 232), .access = R | W | M },
	};
	struct rt_spec spec = { 0 };
	struct rt_plan p = { .spec = &spec, .devices = devs, .n_devices = 2 };
	struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS];
	size_t n = plan_program(&p, insns);

	(void)state;
	assert_int_equal(run(insns, n, BLK, R, 7, 7), 1);
	assert_int_equal(run(insns, n, BLK, W, 7, 7), 0);          /* not asked */
	assert_int_equal(run(insns, n, BLK, R | W, 7, 7), 0);
	assert_int_equal(run(insns, n, CHR, R, 7, 7), 0);          /* char 7:7 is another device */
	assert_int_equal(run(insns, n, BLK, R, 7, 6), 0);
	assert_int_equal(run(insns, n, CHR, R | W, 10, 232), 1);
	assert_int_equal(run(insns, n, CHR, R | W, 10, 233), 0);
}

static void test_many_devices(void **state)
{
	static struct rt_device devs[RT_DEVFILTER_MAX_RULES + 10];
	static struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS];
	struct rt_dev_rule rules[RT_DEVFILTER_MAX_RULES];
	struct rt_spec spec = { 0 };
	struct rt_plan p = { .spec = &spec, .devices = devs, .n_devices = RT_DEVFILTER_MAX_RULES + 10 };
	size_t n;

	(void)state;
	for (size_t i = 0; i < p.n_devices; i++)
		devs[i] = (struct rt_device){ .mode = S_IFCHR, .dev = makedev(200, (unsigned)i), .access = R };
	/* never more than the arrays hold */
	assert_int_equal(rt_devfilter_rules(&p, rules), RT_DEVFILTER_MAX_RULES);
	n = rt_devfilter_build(rules, RT_DEVFILTER_MAX_RULES, insns);
	assert_true(n <= RT_DEVFILTER_MAX_INSNS);
	assert_int_equal(run(insns, n, CHR, R, 200, 0), 1);
	assert_int_equal(run(insns, n, CHR, W, 200, 0), 0);
}

/* The kernel's verifier accepts the program (root only; skipped else). */
static void test_kernel_accepts(void **state)
{
	struct rt_device devs[] = { { .mode = S_IFBLK, .dev = makedev(7, 7), .access = R } };
	struct rt_spec spec = { 0 };
	struct rt_plan p = { .spec = &spec, .devices = devs, .n_devices = 1 };
	struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS];
	union bpf_attr a;
	char log[8192] = "";
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)plan_program(&p, insns);
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0 && (errno == EPERM || errno == ENOSYS))
		skip();
	if (fd < 0)
		fail_msg("verifier: %s", log);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_task_devices),
		cmocka_unit_test(test_many_devices),
		cmocka_unit_test(test_kernel_accepts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
