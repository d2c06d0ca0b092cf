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

#include "lib/err.h"

/* ---- capabilities ---- */

/* The 14-capability container default. */
uint64_t caps_default_mask(void);
/* All capabilities this kernel knows (for --privileged). */
uint64_t caps_all_mask(void);
/* "NET_ADMIN", "net_admin", "CAP_NET_ADMIN" -> capability number; "ALL" -> -2.
 * -EINVAL for an unknown name. */
int caps_parse_name(const char *name);
/* Default (or all when PRIVILEGED), plus ADD, minus DROP; "ALL" in either
 * list means every capability.  Unknown names fail with the name quoted. */
int caps_build(bool privileged, char *const *add, size_t n_add, char *const *drop,
	       size_t n_drop, uint64_t *ret_mask, struct err *e);
/* In the child: sets bounding, permitted, effective, inheritable and ambient
 * to MASK, keeping them across the uid switch.  Call after the uid/gid switch
 * has been prepared as documented in policy/caps.c. */
int caps_apply(uint64_t mask);

/* ---- seccomp ---- */

/* A compiled seccomp BPF program, ready for prctl(PR_SET_SECCOMP). */
struct seccomp_prog {
	void *filter;   /* struct sock_filter[], malloc'd */
	size_t len;     /* number of instructions */
};
/* The default deny-list profile (EPERM), compiled once and cached: the first
 * call in a process compiles (or reads a cache file keyed by the profile's
 * hash under CACHE_DIR when not NULL); later calls return the same program.
 * MASK (the capability set) relaxes rules the way the common default does
 * (e.g. CAP_SYS_ADMIN allows mount). */
int seccomp_default_prog(uint64_t cap_mask, const char *cache_dir,
			 const struct seccomp_prog **ret, struct err *e);
/* In the child: PR_SET_NO_NEW_PRIVS then loads PROG.  Last step before exec. */
int seccomp_apply(const struct seccomp_prog *prog);

/* ---- rlimits ---- */

struct rlimit_spec {
	int resource;          /* RLIMIT_* */
	struct rlimit limit;
};
/* Parses "nofile=1024:4096" (ECS ulimit names: core, cpu, data, fsize,
 * locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime,
 * sigpending, stack).  A value above the caller's own hard limit fails here,
 * with a clear message, because raising it would need CAP_SYS_RESOURCE. */
int rlimit_parse(const char *spec, struct rlimit_spec *ret, struct err *e);
/* In the child. */
int rlimits_apply(const struct rlimit_spec *specs, size_t n);
