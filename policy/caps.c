/* policy/caps.c - capability sets: names (libcap), the container default,
 * and applying a mask in the container child.
 *
 * The order the runtime must use in the child (after pivot_root and mounts,
 * before exec):
 *
 *     rlimits_apply(...)
 *     policy_switch_user_and_caps(uid, gid, mask)   (or caps_apply(mask) when
 *                                                    the process stays root)
 *     seccomp_apply(prog)                           (last: no_new_privs + filter)
 *
 * policy_switch_user_and_caps() does, in this order:
 *   1. drop every capability not in MASK from the bounding set (needs
 *      CAP_SETPCAP, which we still have as root);
 *   2. PR_SET_KEEPCAPS, so the setuid below keeps the permitted set;
 *   3. setgroups(0) (supplementary groups cleared), setresgid, setresuid;
 *   4. capset: permitted = effective = inheritable = MASK (the setuid emptied
 *      the effective set; permitted still holds everything, so this works);
 *   5. ambient = MASK, so a non-root user keeps MASK across execve.
 * caps_apply() is steps 1, 4 and 5.
 */
#include "policy/policy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"

#define CAP_NAME_MAX 64

static const int default_caps[] = {
	CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,      CAP_FOWNER,
	CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,      CAP_SETUID,
	CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
	CAP_KILL,    CAP_AUDIT_WRITE,
};

uint64_t caps_default_mask(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
		m |= UINT64_C(1) << default_caps[i];
	return m;
}

/* The highest capability this kernel knows: /proc/sys/kernel/cap_last_cap,
 * else what libcap was built with. */
int caps_last_cap(void)
{
	static int last = -1;
	char buf[32];
	uint64_t v;

	if (last >= 0)
		return last;
	if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf), NULL) == 0 &&
	    parse_u64(buf, &v) == 0 && v < 64)
		last = (int)v;
	else
		last = (int)cap_max_bits() - 1;
	if (last < 0 || last > 63)
		last = CAP_LAST_CAP;
	return last;
}

uint64_t caps_all_mask(void)
{
	int last = caps_last_cap();

	return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

/* The capabilities this process may still grant: its bounding set.  A
 * container cannot get what its parent's bounding set lacks (this sandbox has
 * no CAP_SYS_RESOURCE, for one).  Read once per process (one prctl per
 * capability): berth only shrinks the bounding set in container children,
 * after planning. */
uint64_t caps_available_mask(void)
{
	static uint64_t m;
	static bool known;
	int last = caps_last_cap();

	if (known)
		return m;
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			m |= UINT64_C(1) << c;
	known = true;
	return m;
}

int caps_parse_name(const char *name)
{
	char lower[CAP_NAME_MAX + 5];
	const char *p = name;
	cap_value_t v;
	size_t n;

	if (!name)
		return -EINVAL;
	if (strcasecmp(name, "ALL") == 0)
		return CAPS_ALL;
	if (strncasecmp(p, "CAP_", 4) == 0)
		p += 4;
	n = strlen(p);
	if (n == 0 || n > CAP_NAME_MAX)
		return -EINVAL;
	/* Letters and '_' only: libcap would also take numbers ("12"), which
	 * no ECS or Docker name is. */
	memcpy(lower, "cap_", 4);
	for (size_t i = 0; i < n; i++) {
		if (!isalpha((unsigned char)p[i]) && p[i] != '_')
			return -EINVAL;
		lower[4 + i] = (char)tolower((unsigned char)p[i]);
	}
	lower[4 + n] = '\0';
	if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
		return -EINVAL;
	return (int)v;
}

/* Resolves LIST into a mask; *ret_all is set if "ALL" appears.  Each named
 * capability must be one this kernel knows. */
static int caps_list_mask(char *const *list, size_t n, const char *what, uint64_t *ret_mask,
			  bool *ret_all, struct err *e)
{
	uint64_t m = 0;
	bool all = false;

	for (size_t i = 0; i < n; i++) {
		int c = caps_parse_name(list[i]);

		if (c == CAPS_ALL) {
			all = true;
			continue;
		}
		if (c < 0)
			return err_setx(e, -EINVAL, "%s: unknown capability '%.*s'", what,
					CAP_NAME_MAX, list[i] ? list[i] : "(null)");
		if (c > caps_last_cap())
			return err_setx(e, -EOPNOTSUPP,
					"%s: capability '%s' is not supported by this kernel", what,
					list[i]);
		m |= UINT64_C(1) << c;
	}
	*ret_mask = m;
	*ret_all = all;
	return 0;
}

static void cap_freep(char **p)
{
	if (*p)
		cap_free(*p);
}

int caps_build(bool privileged, char *const *add, size_t n_add, char *const *drop,
	       size_t n_drop, uint64_t *ret_mask, struct err *e)
{
	uint64_t add_m, drop_m, m, avail, missing;
	bool add_all, drop_all;
	int r;

	r = caps_list_mask(add, n_add, "cap-add", &add_m, &add_all, e);
	if (r < 0)
		return r;
	r = caps_list_mask(drop, n_drop, "cap-drop", &drop_m, &drop_all, e);
	if (r < 0)
		return r;

	/* ECS: drop first, then add; add ALL = everything minus the drops. */
	if (privileged || add_all)
		m = caps_all_mask() & ~drop_m;
	else
		m = ((drop_all ? 0 : caps_default_mask()) & ~drop_m) | add_m;

	avail = caps_available_mask();
	missing = add_m & ~drop_m & ~avail;
	if (missing) {
		_cleanup_(cap_freep) char *nm = cap_to_name(__builtin_ctzll(missing));

		return err_setx(e, -EPERM,
				"cap-add: capability '%s' is not in this host's bounding set",
				nm ? nm : "?");
	}
	/* ALL and the default quietly shrink to what the host can grant. */
	*ret_mask = m & avail;
	return 0;
}

/* Drops every capability outside MASK from the bounding set.  Stops at the
 * first number the kernel does not know (EINVAL), so it needs no lookup. */
static int caps_bounding_apply(uint64_t mask)
{
	for (int c = 0; c < 64; c++) {
		if (mask & (UINT64_C(1) << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			return -errno;
		}
	}
	return 0;
}

static int caps_set_sets(uint64_t mask)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++) {
		uint32_t w = (uint32_t)(mask >> (32 * i));

		data[i].effective = w;
		data[i].permitted = w;
		data[i].inheritable = w;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

static int caps_ambient_apply(uint64_t mask)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return errno == EINVAL ? 0 : -errno; /* kernel without ambient caps */
	for (int c = 0; c < 64; c++)
		if ((mask & (UINT64_C(1) << c)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return -errno;
	return 0;
}

int caps_apply(uint64_t mask)
{
	int r;

	r = caps_bounding_apply(mask);
	if (r < 0)
		return r;
	r = caps_set_sets(mask);
	if (r < 0)
		return r;
	return caps_ambient_apply(mask);
}

int policy_switch_user_and_caps(uid_t uid, gid_t gid, uint64_t mask)
{
	int r;

	r = caps_bounding_apply(mask);
	if (r < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
	if (setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	if (setresuid(uid, uid, uid) < 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	r = caps_set_sets(mask);
	if (r < 0)
		return r;
	return caps_ambient_apply(mask);
}
