/* runtime/devfilter.c - the container's cgroup device filter (BPF). */
#include "runtime/devfilter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)
#define CHR BPF_DEVCG_DEV_CHAR

/* runc's default allow-list (libcontainer/specconv AllowedDevices). */
static const struct rt_dev_rule default_rules[] = {
	{ CHR, RT_DEV_ANY, RT_DEV_ANY, BPF_DEVCG_ACC_MKNOD },
	{ BPF_DEVCG_DEV_BLOCK, RT_DEV_ANY, RT_DEV_ANY, BPF_DEVCG_ACC_MKNOD },
	{ CHR, 1, 3, ACC_ALL },    /* null */
	{ CHR, 1, 5, ACC_ALL },    /* zero */
	{ CHR, 1, 7, ACC_ALL },    /* full */
	{ CHR, 1, 8, ACC_ALL },    /* random */
	{ CHR, 1, 9, ACC_ALL },    /* urandom */
	{ CHR, 5, 0, ACC_ALL },    /* tty */
	{ CHR, 5, 1, ACC_ALL },    /* console */
	{ CHR, 5, 2, ACC_ALL },    /* ptmx */
	{ CHR, 136, RT_DEV_ANY, ACC_ALL },   /* pts */
	{ CHR, 10, 200, ACC_ALL }, /* tun */
};

size_t rt_devfilter_rules(const struct rt_plan *p, struct rt_dev_rule *rules)
{
	size_t n = ARRAY_SIZE(default_rules);

	memcpy(rules, default_rules, sizeof(default_rules));
	for (size_t i = 0; i < p->n_devices && n < RT_DEVFILTER_MAX_RULES; i++) {
		const struct rt_device *d = &p->devices[i];

		rules[n++] = (struct rt_dev_rule){
			.type = S_ISBLK(d->mode) ? BPF_DEVCG_DEV_BLOCK : CHR,
			.major = major(d->dev),
			.minor = minor(d->dev),
			.access = d->access,
		};
	}
	return n;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, off)       INSN(BPF_LDX | BPF_MEM | BPF_W, d, 1, off, 0)
#define ALU_K(op, d, k)     INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, k)
#define MOV_X(d, s)         INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define JNE_K(d, k, off)    INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, off, k)
#define EXIT()              INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* One rule: r2 type, r3 access asked, r4 major, r5 minor.  Each test jumps
 * past the block (to the next rule) when it fails. */
static size_t build_rule(const struct rt_dev_rule *r, struct bpf_insn *out)
{
	size_t n = 0, jumps[4], nj = 0;

	if (r->type) {
		jumps[nj++] = n;
		out[n++] = JNE_K(2, (int32_t)r->type, 0);
	}
	if ((r->access & ACC_ALL) != ACC_ALL) {
		out[n++] = MOV_X(6, 3);
		out[n++] = ALU_K(BPF_AND, 6, (int32_t)(~r->access & ACC_ALL));
		jumps[nj++] = n;
		out[n++] = JNE_K(6, 0, 0);
	}
	if (r->major != RT_DEV_ANY) {
		jumps[nj++] = n;
		out[n++] = JNE_K(4, (int32_t)r->major, 0);
	}
	if (r->minor != RT_DEV_ANY) {
		jumps[nj++] = n;
		out[n++] = JNE_K(5, (int32_t)r->minor, 0);
	}
	out[n++] = ALU_K(BPF_MOV, 0, 1);
	out[n++] = EXIT();
	for (size_t j = 0; j < nj; j++)
		out[jumps[j]].off = (int16_t)(n - jumps[j] - 1);
	return n;
}

size_t rt_devfilter_build(const struct rt_dev_rule *rules, size_t n_rules, struct bpf_insn *insns)
{
	size_t n = 0;

	insns[n++] = LDX_W(2, 0);                  /* access_type */
	insns[n++] = ALU_K(BPF_AND, 2, 0xffff);    /* type */
	insns[n++] = LDX_W(3, 0);
	insns[n++] = ALU_K(BPF_RSH, 3, 16);        /* access */
	insns[n++] = LDX_W(4, 4);                  /* major */
	insns[n++] = LDX_W(5, 8);                  /* minor */
	for (size_t i = 0; i < n_rules && i < RT_DEVFILTER_MAX_RULES; i++)
		n += build_rule(&rules[i], insns + n);
	insns[n++] = ALU_K(BPF_MOV, 0, 0);         /* deny */
	insns[n++] = EXIT();
	return n;
}

int rt_devfilter_attach(const struct rt_plan *p, int cg_fd)
{
	struct rt_dev_rule rules[RT_DEVFILTER_MAX_RULES];
	struct bpf_insn insns[RT_DEVFILTER_MAX_INSNS];
	_cleanup_close_ int prog = -1, keeper = -1;
	char path[sizeof(p->host.mount) + sizeof("/" RT_DEVFILTER_KEEPER)];
	union bpf_attr attach;
	size_t n;

	if (p->spec->privileged)
		return 0;
	n = rt_devfilter_build(rules, rt_devfilter_rules(p, rules), insns);
	if (snprintf(path, sizeof(path), "%s/%s", p->host.mount, RT_DEVFILTER_KEEPER) <
	    (int)sizeof(path))
		keeper = rt_devfilter_keeper_open(path); /* < 0: load without it */
	prog = rt_devfilter_get(keeper, insns, n);
	if (prog < 0)
		return prog;
	memset(&attach, 0, sizeof(attach));
	attach.target_fd = (uint32_t)cg_fd;
	attach.attach_bpf_fd = (uint32_t)prog;
	attach.attach_type = BPF_CGROUP_DEVICE;
	/* ALLOW_MULTI: a program below can only narrow access further. */
	attach.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0)
		return -errno;
	return 0;
}
