/* policy/policy.h - what a container process is allowed: capabilities
 * (libcap), the seccomp profile (libseccomp) and rlimits.
 *
 * Builders run in the parent before clone and take a `struct err *` (bad
 * names are user errors with a clear message).  The *_apply functions run in
 * the container child just before exec: they must not allocate (the child of
 * a clone must stay async-signal-safe) and return 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "lib/err.h"

/* ---- capabilities ---- */

/* The 14-capability container default. */
uint64_t caps_default_mask(void);
/* All capabilities this kernel knows (for --privileged). */
uint64_t caps_all_mask(void);
/* The highest capability number this kernel knows (cap_last_cap). */
int caps_last_cap(void);
/* This process's bounding set: what a container can be given at all. */
uint64_t caps_available_mask(void);
#define CAPS_ALL (-2)
/* "NET_ADMIN", "net_admin", "CAP_NET_ADMIN" -> capability number; "ALL" ->
 * CAPS_ALL (-2).  -EINVAL for an unknown or malformed name (letters and '_'
 * only, at most 64 characters after the optional CAP_). */
int caps_parse_name(const char *name);
/* Default (or all when PRIVILEGED), minus DROP, plus ADD (ECS order: drop
 * first, then add); "ALL" in DROP starts from nothing, "ALL" in ADD means
 * every capability minus DROP.  Unknown names fail with the name quoted; a
 * named ADD outside this host's bounding set fails with -EPERM; ALL and the
 * default shrink quietly to the bounding set. */
int caps_build(bool privileged, char *const *add, size_t n_add, char *const *drop,
	       size_t n_drop, uint64_t *ret_mask, struct err *e);
/* In the child, for a process that stays uid 0: sets bounding, permitted,
 * effective, inheritable and ambient to MASK.  Allocation-free. */
int caps_apply(uint64_t mask);
/* In the child, for --user: bounding drop, PR_SET_KEEPCAPS, setgroups(0),
 * setresgid(GID), setresuid(UID), then permitted/effective/inheritable and
 * ambient = MASK, so a non-root user keeps exactly MASK across execve.  Also
 * right for UID 0 (clears supplementary groups).  Allocation-free.
 * Runtime order in the child: rlimits_apply, then this (or caps_apply),
 * then seccomp_apply last before execve (the other order of the first two
 * works as well: limits are never raised above what the child inherited). */
int policy_switch_user_and_caps(uid_t uid, gid_t gid, uint64_t mask);

/* ---- seccomp ---- */

/* A compiled seccomp BPF program, ready for prctl(PR_SET_SECCOMP). */
struct seccomp_prog {
	void *filter;   /* struct sock_filter[], malloc'd */
	size_t len;     /* number of instructions */
};
/* The default deny-list profile (EPERM; clone3 ENOSYS), compiled once and
 * cached: the first call for a mask in a process reads CACHE_DIR/<key>.bpf
 * (when CACHE_DIR is not NULL, and only if the directory and file are owned
 * by us and writable by no one else) or compiles with libseccomp and writes
 * that file atomically; later calls return the same program, which lives
 * until the process exits.  MASK (the capability set) relaxes rules the way
 * the common default does (e.g. CAP_SYS_ADMIN allows mount and new
 * namespaces, CAP_SYS_PTRACE ptrace, CAP_SYS_BOOT reboot, CAP_SYS_MODULE
 * module loading, CAP_SYS_TIME the clock). */
int seccomp_default_prog(uint64_t cap_mask, const char *cache_dir,
			 const struct seccomp_prog **ret, struct err *e);
/* The default profile for CAP_MASK as text, one rule per line (the plan the
 * compiler follows; for tests and `--dry-run`).  -ENOBUFS if SIZE is short. */
int seccomp_plan_text(uint64_t cap_mask, char *buf, size_t size, size_t *ret_len);
/* The cache file name (without ".bpf") for CAP_MASK: a hash of the plan, the
 * mask, the format, libseccomp's version and the native architecture. */
int seccomp_cache_key(uint64_t cap_mask, char *ret, size_t size);
/* Where berth keeps compiled profiles: this directory below BERTH_RUN_DIR
 * (default /run/berth). */
#define SECCOMP_CACHE_SUBDIR "seccomp"
/* In the child: PR_SET_NO_NEW_PRIVS then loads PROG.  Last step before exec.
 * Allocation-free. */
int seccomp_apply(const struct seccomp_prog *prog);

/* ---- rlimits ---- */

struct rlimit_spec {
	int resource;          /* RLIMIT_* */
	struct rlimit limit;
};
/* Parses "nofile=1024:4096" or "nofile=1024" (soft = hard); a limit may be
 * "unlimited" or -1 (ECS ulimit names: core, cpu, data, fsize,
 * locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime,
 * sigpending, stack).  A value above the caller's own hard limit fails here,
 * with a clear message, because raising it would need CAP_SYS_RESOURCE. */
int rlimit_parse(const char *spec, struct rlimit_spec *ret, struct err *e);
/* The ECS name of RLIMIT_* RESOURCE, or NULL. */
const char *rlimit_name(int resource);
/* -EPERM with the message above when SPEC's hard limit is above this
 * process's own hard limit (for limits built elsewhere, e.g. from JSON). */
int rlimit_check_host(const struct rlimit_spec *spec, struct err *e);
/* berth's container defaults (nofile 1048576), each capped at this
 * process's own hard limit.  Fills up to SIZE entries; -ENOBUFS if short. */
int rlimit_defaults(struct rlimit_spec *ret, size_t size, size_t *ret_n);
/* In the child; allocation-free.  Later entries for the same resource win. */
int rlimits_apply(const struct rlimit_spec *specs, size_t n);
