/* runtime/devfilter_keep.c - one verified device program, reused across
 * containers.
 *
 * The verifier takes ~0.3 ms for the device program, on every start, for
 * the same few instruction lists.  A loaded program lives as long as
 * something holds it, and an attachment does: the keeper is an empty cgroup
 * (RT_DEVFILTER_KEEPER below the cgroup2 mount; no process ever runs in
 * it, so its programs filter nothing) whose device programs are the cache.
 * A start looks there first and takes a program only if the kernel's copy
 * is of the right type and instruction for instruction the one it built:
 * whatever else is attached there (a stale build's program, anyone's) is
 * never used.  At most RT_DEVFILTER_KEEP programs stay: a miss with the
 * keeper full detaches them all first.  Any failure here only means
 * loading afresh. */
#include "runtime/devfilter.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int rt_devfilter_load(const struct bpf_insn *insns, size_t n)
{
	union bpf_attr load;
	int fd;

	memset(&load, 0, sizeof(load));
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uint64_t)(uintptr_t)insns;
	load.insn_cnt = (uint32_t)n;
	load.license = (uint64_t)(uintptr_t)"GPL";
	fd = sys_bpf(BPF_PROG_LOAD, &load);
	return fd < 0 ? -errno : fd;
}

int rt_devfilter_keeper_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/* Does the kernel's copy of PROG match INSNS exactly?  (The verifier leaves
 * this program as written: no context rewrites, no dead code.) */
static bool same_program(int prog, const struct bpf_insn *insns, size_t n)
{
	struct bpf_insn got[RT_DEVFILTER_MAX_INSNS];
	struct bpf_prog_info info;
	union bpf_attr a;

	if (n > RT_DEVFILTER_MAX_INSNS)
		return false;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = (uint32_t)sizeof(got);
	info.xlated_prog_insns = (uint64_t)(uintptr_t)got;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)prog;
	a.info.info_len = (uint32_t)sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return false;
	return info.type == BPF_PROG_TYPE_CGROUP_DEVICE && info.xlated_prog_insns &&
	       info.xlated_prog_len == n * sizeof(*insns) && memcmp(got, insns, n * sizeof(*insns)) == 0;
}

/* The ids of the device programs attached to KEEPER; how many, or -errno. */
static int keeper_ids(int keeper, uint32_t ids[RT_DEVFILTER_KEEP_QUERY])
{
	union bpf_attr q;

	memset(&q, 0, sizeof(q));
	q.query.target_fd = (uint32_t)keeper;
	q.query.attach_type = BPF_CGROUP_DEVICE;
	q.query.prog_ids = (uint64_t)(uintptr_t)ids;
	q.query.prog_cnt = RT_DEVFILTER_KEEP_QUERY;
	if (sys_bpf(BPF_PROG_QUERY, &q) < 0 && errno != ENOSPC)
		return -errno;
	return (int)(q.query.prog_cnt < RT_DEVFILTER_KEEP_QUERY ? q.query.prog_cnt
								: RT_DEVFILTER_KEEP_QUERY);
}

static int prog_by_id(uint32_t id)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	return sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
}

static void detach_all(int keeper, const uint32_t *ids, int n)
{
	for (int i = 0; i < n; i++) {
		_cleanup_close_ int prog = prog_by_id(ids[i]);
		union bpf_attr d;

		if (prog < 0)
			continue;
		memset(&d, 0, sizeof(d));
		d.target_fd = (uint32_t)keeper;
		d.attach_bpf_fd = (uint32_t)prog;
		d.attach_type = BPF_CGROUP_DEVICE;
		(void)sys_bpf(BPF_PROG_DETACH, &d);
	}
}

int rt_devfilter_get(int keeper, const struct bpf_insn *insns, size_t n)
{
	uint32_t ids[RT_DEVFILTER_KEEP_QUERY];
	union bpf_attr a;
	int n_ids, prog;

	if (keeper < 0)
		return rt_devfilter_load(insns, n);
	n_ids = keeper_ids(keeper, ids);
	for (int i = 0; i < n_ids; i++) {
		prog = prog_by_id(ids[i]);
		if (prog < 0)
			continue; /* detached meanwhile */
		if (same_program(prog, insns, n))
			return prog;
		close(prog);
	}
	prog = rt_devfilter_load(insns, n);
	if (prog < 0)
		return prog;
	if (n_ids >= RT_DEVFILTER_KEEP)
		detach_all(keeper, ids, n_ids);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)keeper;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	(void)sys_bpf(BPF_PROG_ATTACH, &a); /* not kept: the next start loads again */
	return prog;
}
