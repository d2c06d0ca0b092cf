/* runtime/devfilter.h - device access control for a container's cgroup:
 * on cgroup v2 a BPF_PROG_TYPE_CGROUP_DEVICE program (what runc and crun
 * attach).  Default deny; allowed: mknod of any node (the container makes
 * its /dev), the usual nodes (null, zero, full, random, urandom, tty,
 * console, ptmx, pts, tun: runc's defaults) and the task's devices with
 * exactly the permissions they were given.  Privileged containers get no
 * filter. */
#pragma once

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"

#define RT_DEV_ANY (-1)

struct rt_dev_rule {
	uint32_t type;          /* BPF_DEVCG_DEV_CHAR / _BLOCK; 0 = either */
	int64_t major, minor;   /* RT_DEV_ANY = any */
	uint32_t access;        /* BPF_DEVCG_ACC_* allowed */
};

#define RT_DEVFILTER_MAX_RULES 80
/* 6 to load the context and 2 to deny; a rule takes at most 8 */
#define RT_DEVFILTER_MAX_INSNS (8 + 8 * RT_DEVFILTER_MAX_RULES)

/* Pure: PLAN's rules (the defaults, then its devices) into RULES (room for
 * RT_DEVFILTER_MAX_RULES); returns how many. */
size_t rt_devfilter_rules(const struct rt_plan *plan, struct rt_dev_rule *rules);
/* Pure: the program for RULES into INSNS (room for RT_DEVFILTER_MAX_INSNS):
 * 1 (allow) when a rule matches type, major, minor and allows every access
 * bit asked for, else 0.  Returns the instruction count. */
size_t rt_devfilter_build(const struct rt_dev_rule *rules, size_t n, struct bpf_insn *insns);
/* Gets PLAN's program (devfilter_keep.c: kept from an earlier start, else
 * loaded) and attaches it to the cgroup CG_FD (nothing for a privileged
 * container).  The attachment holds the program: it goes with the cgroup.
 * 0 or -errno. */
int rt_devfilter_attach(const struct rt_plan *plan, int cg_fd);

/* The keeper: an empty cgroup below the cgroup2 mount whose attached device
 * programs are the cache of verified programs (see devfilter_keep.c). */
#define RT_DEVFILTER_KEEPER "berth.devfilter"
/* programs the keeper holds at most, and how many ids a query reads */
#define RT_DEVFILTER_KEEP 4
#define RT_DEVFILTER_KEEP_QUERY 64

/* Opens the keeper cgroup directory PATH, creating it if missing: an fd or
 * -errno. */
int rt_devfilter_keeper_open(const char *path);
/* A program fd for INSNS: one attached to KEEPER whose kernel copy is of
 * the device type and identical to INSNS, else a fresh load that is then
 * attached to KEEPER (emptied first when it holds RT_DEVFILTER_KEEP).
 * KEEPER < 0: just load.  An fd or -errno (only the load's). */
int rt_devfilter_get(int keeper, const struct bpf_insn *insns, size_t n);
/* A fresh BPF_PROG_LOAD of INSNS as a device program: an fd or -errno. */
int rt_devfilter_load(const struct bpf_insn *insns, size_t n);
