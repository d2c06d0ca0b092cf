/* policy/seccomp.c - the default seccomp profile: a deny list returning
 * EPERM, in the spirit of the common container default, relaxed by
 * capabilities the way that default is (CAP_SYS_ADMIN allows mount, ...).
 *
 * Parse -> plan -> apply (STYLE P7): seccomp_plan_text() renders the rules a
 * capability mask gives as text (tested without the kernel); the compiler
 * turns the same rules into BPF with libseccomp; seccomp_apply() only loads.
 *
 * libseccomp compilation costs milliseconds, so the BPF is cached: in memory
 * per process (keyed by the mask) and on disk under CACHE_DIR as
 * <hash>.bpf, the hash covering the plan text, the mask, the format version,
 * libseccomp's version and the native architecture.  A fresh `berth container
 * run` then only reads a small file.
 */
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

/* Bump when the compiled program changes for the same rules (4: the
 * personality prefix covers the compat ABIs), so no stale cache is loaded. */
#define SECCOMP_FORMAT "berth-seccomp-5"
#define BPF_MAX_INSNS 4096

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* How a rule looks at the first argument. */
enum arg_rule {
	ARG_ANY,         /* the whole syscall */
	ARG_CLONE_NS,    /* clone(): flags with a CLONE_NEW* bit */
	ARG_UNSHARE_NS,  /* unshare(): flags with a CLONE_NEW* bit (incl. NEWTIME) */
};

struct sc_rule {
	const char *name;
	int relax_cap;     /* holding this capability lifts the rule; -1: never */
	int errnum;        /* returned instead of running the call */
	enum arg_rule arg;
};

#define NONE (-1)

static const struct sc_rule default_rules[] = {
	/* mounts and the new mount API */
	{ "mount", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "umount", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "umount2", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "pivot_root", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "move_mount", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "fsopen", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "fsconfig", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "fsmount", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "fspick", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "open_tree", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "mount_setattr", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	/* namespaces: new ones only; clone3 hides its flags behind a pointer,
	 * so it gets ENOSYS and libc falls back to clone(), which we can see */
	{ "unshare", CAP_SYS_ADMIN, EPERM, ARG_UNSHARE_NS },
	{ "clone", CAP_SYS_ADMIN, EPERM, ARG_CLONE_NS },
	{ "clone3", CAP_SYS_ADMIN, ENOSYS, ARG_ANY },
	{ "setns", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	/* kernel keyring: not namespaced */
	{ "keyctl", NONE, EPERM, ARG_ANY },
	{ "add_key", NONE, EPERM, ARG_ANY },
	{ "request_key", NONE, EPERM, ARG_ANY },
	/* kernel introspection and tracing */
	{ "bpf", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "perf_event_open", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "lookup_dcookie", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "fanotify_init", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "quotactl", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "swapon", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "swapoff", CAP_SYS_ADMIN, EPERM, ARG_ANY },
	{ "userfaultfd", CAP_SYS_PTRACE, EPERM, ARG_ANY },
	{ "syslog", CAP_SYSLOG, EPERM, ARG_ANY },
	/* other processes' memory */
	{ "ptrace", CAP_SYS_PTRACE, EPERM, ARG_ANY },
	{ "process_vm_readv", CAP_SYS_PTRACE, EPERM, ARG_ANY },
	{ "process_vm_writev", CAP_SYS_PTRACE, EPERM, ARG_ANY },
	{ "kcmp", CAP_SYS_PTRACE, EPERM, ARG_ANY },
	/* the kernel itself */
	{ "kexec_load", CAP_SYS_BOOT, EPERM, ARG_ANY },
	{ "kexec_file_load", CAP_SYS_BOOT, EPERM, ARG_ANY },
	{ "reboot", CAP_SYS_BOOT, EPERM, ARG_ANY },
	{ "init_module", CAP_SYS_MODULE, EPERM, ARG_ANY },
	{ "finit_module", CAP_SYS_MODULE, EPERM, ARG_ANY },
	{ "delete_module", CAP_SYS_MODULE, EPERM, ARG_ANY },
	{ "create_module", NONE, EPERM, ARG_ANY },
	{ "get_kernel_syms", NONE, EPERM, ARG_ANY },
	{ "query_module", NONE, EPERM, ARG_ANY },
	{ "acct", CAP_SYS_PACCT, EPERM, ARG_ANY },
	/* the clock is not namespaced */
	{ "settimeofday", CAP_SYS_TIME, EPERM, ARG_ANY },
	{ "stime", CAP_SYS_TIME, EPERM, ARG_ANY },
	{ "clock_settime", CAP_SYS_TIME, EPERM, ARG_ANY },
	{ "clock_settime64", CAP_SYS_TIME, EPERM, ARG_ANY },
	{ "adjtimex", CAP_SYS_TIME, EPERM, ARG_ANY },
	{ "clock_adjtime", CAP_SYS_TIME, EPERM, ARG_ANY },
	{ "clock_adjtime64", CAP_SYS_TIME, EPERM, ARG_ANY },
	/* file handles escape the mount namespace */
	{ "open_by_handle_at", CAP_DAC_READ_SEARCH, EPERM, ARG_ANY },
	{ "name_to_handle_at", CAP_DAC_READ_SEARCH, EPERM, ARG_ANY },
	/* hardware and obsolete interfaces */
	{ "iopl", CAP_SYS_RAWIO, EPERM, ARG_ANY },
	{ "ioperm", CAP_SYS_RAWIO, EPERM, ARG_ANY },
	{ "vhangup", CAP_SYS_TTY_CONFIG, EPERM, ARG_ANY },
	{ "nfsservctl", NONE, EPERM, ARG_ANY },
	{ "uselib", NONE, EPERM, ARG_ANY },
	{ "ustat", NONE, EPERM, ARG_ANY },
	{ "sysfs", NONE, EPERM, ARG_ANY },
	{ "_sysctl", NONE, EPERM, ARG_ANY },
	{ "vm86", NONE, EPERM, ARG_ANY },
	{ "vm86old", NONE, EPERM, ARG_ANY },
};

static const int clone_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
	CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

/* personality() values that stay allowed (the rest could turn off ASLR or
 * make data executable); 0xffffffff only queries. */
static const uint32_t personality_ok[] = { PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32,
					   0xffffffffu };

static bool rule_active(const struct sc_rule *rl, uint64_t cap_mask)
{
	return rl->relax_cap < 0 || !(cap_mask & (UINT64_C(1) << rl->relax_cap));
}

static const char *arg_rule_name(enum arg_rule a)
{
	static const char *const names[] = {
		[ARG_ANY] = "",
		[ARG_CLONE_NS] = " if flags&CLONE_NEW*",
		[ARG_UNSHARE_NS] = " if flags&CLONE_NEW*|CLONE_NEWTIME",
	};
	return names[a];
}

int seccomp_plan_text(uint64_t cap_mask, char *buf, size_t size, size_t *ret_len)
{
	size_t off = 0;
	int n;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++) {
		const struct sc_rule *rl = &default_rules[i];

		if (!rule_active(rl, cap_mask))
			continue;
		n = snprintf(buf + off, size - off, "%s errno=%d%s\n", rl->name, rl->errnum,
			     arg_rule_name(rl->arg));
		if (n < 0 || (size_t)n >= size - off)
			return -ENOBUFS;
		off += (size_t)n;
	}
	n = snprintf(buf + off, size - off, "personality errno=%d unless arg0 in {0,8,0x20000,0x20008,0xffffffff}\n",
		     EPERM);
	if (n < 0 || (size_t)n >= size - off)
		return -ENOBUFS;
	off += (size_t)n;
	if (ret_len)
		*ret_len = off;
	return 0;
}

/* ---- compiling ---- */

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* One ABI the filter covers: libseccomp's name for it, the arch token the
 * kernel puts in seccomp_data (x32 shares x86_64's and is told apart by the
 * syscall number), and whether its arguments are 64 bits wide. */
struct abi {
	uint32_t scmp_arch;
	uint32_t audit_arch;
	bool wide;
};

#define MAX_ABIS 4

/* The native ABI first, then its compat ABIs: a deny list must cover them
 * too, or `int 0x80` would walk around it.  (libseccomp kills calls from
 * architectures the filter does not name.)  Returns how many it wrote. */
static size_t filter_abis(struct abi out[MAX_ABIS])
{
	static const struct {
		uint32_t native;
		struct abi compat;
	} compat[] = {
		{ SCMP_ARCH_X86_64, { SCMP_ARCH_X86, AUDIT_ARCH_I386, false } },
		{ SCMP_ARCH_X86_64, { SCMP_ARCH_X32, AUDIT_ARCH_X86_64, true } },
		{ SCMP_ARCH_AARCH64, { SCMP_ARCH_ARM, AUDIT_ARCH_ARM, false } },
	};
	uint32_t native = seccomp_arch_native();
	size_t n = 0;

	out[n++] = (struct abi){ native, native, sizeof(long) == 8 };
	for (size_t i = 0; i < ARRAY_SIZE(compat) && n < MAX_ABIS; i++)
		if (compat[i].native == native)
			out[n++] = compat[i].compat;
	return n;
}

static int add_compat_arches(scmp_filter_ctx ctx, const struct abi *abis, size_t n_abis)
{
	for (size_t i = 1; i < n_abis; i++) {
		int r = seccomp_arch_add(ctx, abis[i].scmp_arch);

		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *rl)
{
	int nr = seccomp_syscall_resolve_name(rl->name);
	uint32_t act = SCMP_ACT_ERRNO((uint32_t)rl->errnum);
	int r;

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a call on this architecture */
	switch (rl->arg) {
	case ARG_ANY:
		return seccomp_rule_add(ctx, act, nr, 0);
	case ARG_CLONE_NS:
	case ARG_UNSHARE_NS:
		for (size_t i = 0; i < ARRAY_SIZE(clone_ns_flags); i++) {
			uint64_t f = (uint64_t)clone_ns_flags[i];

			r = seccomp_rule_add(ctx, act, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
			if (r < 0)
				return r;
		}
		/* In clone() the low byte is the exit signal, so NEWTIME
		 * (0x80) can only be checked for unshare(). */
		if (rl->arg == ARG_UNSHARE_NS)
			return seccomp_rule_add(ctx, act, nr, 1,
						SCMP_A0(SCMP_CMP_MASKED_EQ, (uint64_t)CLONE_NEWTIME,
							(uint64_t)CLONE_NEWTIME));
		return 0;
	}
	return -EINVAL;
}

/* libseccomp compares one argument once per rule, so "personality unless
 * ARG0 is one of five values" is written by hand: a short block in front of
 * libseccomp's program that decides personality() on every ABI the filter
 * covers (each with its own syscall number) and falls through to it for
 * everything else.  Returns the number of instructions written to OUT. */
#define PREFIX_MAX (4 * MAX_ABIS + 4 + ARRAY_SIZE(personality_ok) + 2)

/* A BPF_JEQ at AT that goes to JT or JF (indices; offsets count from the
 * next instruction, so AT + 1 means "fall through"). */
static struct sock_filter jeq_at(uint32_t k, size_t at, size_t jt, size_t jf)
{
	return (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, (uint8_t)(jt - at - 1),
					    (uint8_t)(jf - at - 1));
}

_Static_assert(PREFIX_MAX < 256, "prefix jumps must fit in 8 bits");

static size_t personality_prefix(const struct abi *abis, size_t n_abis,
				 struct sock_filter out[PREFIX_MAX])
{
	const uint32_t off_lo = offsetof(struct seccomp_data, args[0]) +
				(__BYTE_ORDER == __LITTLE_ENDIAN ? 0 : 4);
	const uint32_t off_hi = offsetof(struct seccomp_data, args[0]) +
				(__BYTE_ORDER == __LITTLE_ENDIAN ? 4 : 0);
	const size_t n_ok = ARRAY_SIZE(personality_ok);
	/* Layout: 4 instructions per ABI (arch, then nr, each falling to the
	 * next ABI on a mismatch), a jump past the prefix, the high word
	 * (64-bit ABIs only), the low word against each value, DENY, ALLOW.
	 * The kernel reads the argument as an unsigned int on every ABI. */
	const size_t check_hi = 4 * n_abis + 1, check_lo = check_hi + 2;
	const size_t deny = check_lo + 1 + n_ok, allow = deny + 1, end = allow + 1;
	size_t i = 0;

	for (size_t a = 0; a < n_abis; a++) {
		int nr = seccomp_syscall_resolve_name_arch(abis[a].scmp_arch, "personality");
		size_t next = i + 4;

		out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
							offsetof(struct seccomp_data, arch));
		out[i] = jeq_at(abis[a].audit_arch, i, i + 1, next);
		i++;
		out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
							offsetof(struct seccomp_data, nr));
		/* an ABI without personality() never matches: nr -1 */
		out[i] = jeq_at(nr < 0 ? UINT32_MAX : (uint32_t)nr, i,
				abis[a].wide ? check_hi : check_lo, next);
		i++;
	}
	out[i] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(end - i - 1));
	i++;
	out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off_hi);
	out[i] = jeq_at(0, i, i + 1, deny);
	i++;
	out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off_lo);
	for (size_t k = 0; k < n_ok; k++, i++)
		out[i] = jeq_at(personality_ok[k], i, allow, i + 1);
	out[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	out[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	return i;
}

/* Compiles the rules for CAP_MASK into a malloc'd BPF program. */
static int seccomp_compile(uint64_t cap_mask, struct seccomp_prog *ret, struct err *e)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ struct sock_filter *prog = NULL;
	struct sock_filter prefix[PREFIX_MAX];
	struct abi abis[MAX_ABIS];
	size_t n_prefix, n_abis = filter_abis(abis);
	struct stat st;
	ssize_t got;
	int r;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return err_setx(e, -ENOMEM, "seccomp: cannot initialise libseccomp");
	/* The runtime sets no_new_privs itself, just before loading. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return err_set(e, r, "seccomp: set attribute");
	/* A binary tree over syscall numbers instead of a linear list: the
	 * kernel emulates the filter for every syscall number when it is
	 * loaded (its constant-action cache), and walks it on every call the
	 * cache cannot answer; both get log(n) instead of n comparisons. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return err_set(e, r, "seccomp: set attribute");
	r = add_compat_arches(ctx, abis, n_abis);
	if (r < 0)
		return err_set(e, r, "seccomp: add compat architectures");
	for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++) {
		if (!rule_active(&default_rules[i], cap_mask))
			continue;
		r = add_rule(ctx, &default_rules[i]);
		if (r < 0)
			return err_set(e, r, "seccomp: add rule for '%s'", default_rules[i].name);
	}

	fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "seccomp: memfd_create");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return err_set(e, r, "seccomp: export BPF");
	if (fstat(fd, &st) < 0)
		return err_set(e, -errno, "seccomp: stat exported BPF");

	n_prefix = personality_prefix(abis, n_abis, prefix);
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    (size_t)st.st_size / sizeof(struct sock_filter) + n_prefix > BPF_MAX_INSNS)
		return err_setx(e, -EFBIG, "seccomp: exported BPF has a bad size (%jd bytes)",
				(intmax_t)st.st_size);
	prog = malloc(n_prefix * sizeof(*prog) + (size_t)st.st_size);
	if (!prog)
		return err_setx(e, -ENOMEM, "seccomp: out of memory");
	memcpy(prog, prefix, n_prefix * sizeof(*prog));
	got = pread(fd, prog + n_prefix, (size_t)st.st_size, 0);
	if (got != st.st_size)
		return err_set(e, got < 0 ? -errno : -EIO, "seccomp: read exported BPF");

	ret->len = n_prefix + (size_t)st.st_size / sizeof(struct sock_filter);
	ret->filter = TAKE_PTR(prog);
	return 0;
}

/* ---- the cache key and the cache file ---- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

int seccomp_cache_key(uint64_t cap_mask, char *ret, size_t size)
{
	const struct scmp_version *v = seccomp_version();
	char plan[8192], head[160];
	size_t len;
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	int r, n;

	r = seccomp_plan_text(cap_mask, plan, sizeof(plan), &len);
	if (r < 0)
		return r;
	n = snprintf(head, sizeof(head), "%s mask=%016" PRIx64 " libseccomp=%u.%u.%u arch=%08x\n",
		     SECCOMP_FORMAT, cap_mask, v ? v->major : 0, v ? v->minor : 0,
		     v ? v->micro : 0, seccomp_arch_native());
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENOBUFS;
	h = fnv1a(h, head, (size_t)n);
	h = fnv1a(h, plan, len);
	n = snprintf(ret, size, "%016" PRIx64, h);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return 0;
}

/* The cache is trusted only if root (we) wrote it: owned by our euid and not
 * writable by anyone else, for the directory and the file alike. */
static bool owned_and_private(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static int cache_dir_open(const char *dir, bool create)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (create) {
		/* mkdir -p for the last two levels (e.g. /run/berth/seccomp). */
		char parent[PATH_MAX];
		char *slash;

		if (snprintf(parent, sizeof(parent), "%s", dir) >= (int)sizeof(parent))
			return -ENAMETOOLONG;
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			if (mkdir(parent, 0700) < 0 && errno != EEXIST)
				return -errno;
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = open(dir, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_PATH);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!owned_and_private(&st))
		return -EPERM;
	return take_fd(&fd);
}

/* Reads DIR/KEY.bpf into RET.  -ENOENT when absent; any other failure means
 * "do not trust it" and the caller compiles. */
static int cache_read(const char *dir, const char *key, struct seccomp_prog *ret)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	_cleanup_free_ void *buf = NULL;
	char name[64];
	struct stat st;
	ssize_t got;

	dfd = cache_dir_open(dir, false);
	if (dfd < 0)
		return dfd;
	snprintf(name, sizeof(name), "%s.bpf", key);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !owned_and_private(&st))
		return -EPERM;
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    (size_t)st.st_size > BPF_MAX_INSNS * sizeof(struct sock_filter))
		return -EBADMSG;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return -ENOMEM;
	got = pread(fd, buf, (size_t)st.st_size, 0);
	if (got != st.st_size)
		return got < 0 ? -errno : -EIO;
	ret->len = (size_t)st.st_size / sizeof(struct sock_filter);
	ret->filter = TAKE_PTR(buf);
	return 0;
}

/* Writes PROG to DIR/KEY.bpf atomically (temp file + rename), so a reader
 * never sees half a program. */
static int cache_write(const char *dir, const char *key, const struct seccomp_prog *prog)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	char name[64], tmp[80];
	size_t len = prog->len * sizeof(struct sock_filter);
	ssize_t w;
	int r;

	dfd = cache_dir_open(dir, true);
	if (dfd < 0)
		return dfd;
	snprintf(name, sizeof(name), "%s.bpf", key);
	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", key, (int)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	w = write(fd, prog->filter, len);
	if (w != (ssize_t)len) {
		r = w < 0 ? -errno : -EIO;
		goto undo_tmp;
	}
	if (renameat(dfd, tmp, dfd, name) < 0) {
		r = -errno;
		goto undo_tmp;
	}
	return 0;

undo_tmp:
	(void)unlinkat(dfd, tmp, 0);
	return r;
}

/* ---- the per-process cache and the public entry points ---- */

struct prog_entry {
	struct prog_entry *next;
	uint64_t cap_mask;
	struct seccomp_prog prog;
};

/* Programs live for the whole process: the runtime holds pointers to them. */
static struct prog_entry *compiled;

int seccomp_default_prog(uint64_t cap_mask, const char *cache_dir,
			 const struct seccomp_prog **ret, struct err *e)
{
	struct prog_entry *ent;
	char key[32];
	int r;

	for (ent = compiled; ent; ent = ent->next)
		if (ent->cap_mask == cap_mask) {
			*ret = &ent->prog;
			return 0;
		}

	ent = calloc(1, sizeof(*ent));
	if (!ent)
		return err_setx(e, -ENOMEM, "seccomp: out of memory");
	ent->cap_mask = cap_mask;

	r = seccomp_cache_key(cap_mask, key, sizeof(key));
	if (r < 0) {
		free(ent);
		return err_set(e, r, "seccomp: cache key");
	}
	if (!cache_dir || cache_read(cache_dir, key, &ent->prog) < 0) {
		r = seccomp_compile(cap_mask, &ent->prog, e);
		if (r < 0) {
			free(ent);
			return r;
		}
		/* A cache we cannot write only costs time on the next run. */
		if (cache_dir)
			(void)cache_write(cache_dir, key, &ent->prog);
	}
	ent->next = compiled;
	compiled = ent;
	*ret = &ent->prog;
	return 0;
}

int seccomp_apply(const struct seccomp_prog *prog)
{
	struct sock_fprog fp;

	if (!prog || !prog->filter || prog->len == 0 || prog->len > BPF_MAX_INSNS)
		return -EINVAL;
	fp.len = (unsigned short)prog->len;
	fp.filter = prog->filter;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0)
		return -errno;
	return 0;
}
