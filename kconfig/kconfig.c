/* kconfig/kconfig.c - the options of berth.config and a pure .config parser. */
#include "kconfig/kconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"

#define KC_NAME_MAX 128
#define KCONFIG_MAX (8u << 20) /* a real .config is ~300 KiB */

/* Keep in step with kconfig/berth.config (test_kconfig checks). */
const struct kc_option kc_options[] = {
	{ "CONFIG_NAMESPACES", KC_REQUIRED, "namespaces for every container" },
	{ "CONFIG_UTS_NS", KC_REQUIRED, "per-container hostname" },
	{ "CONFIG_IPC_NS", KC_REQUIRED, "per-container SysV IPC and /dev/mqueue" },
	{ "CONFIG_PID_NS", KC_REQUIRED, "the container's command is pid 1" },
	{ "CONFIG_NET_NS", KC_REQUIRED, "--net none and bridge networking" },
	{ "CONFIG_CGROUPS", KC_REQUIRED, "cgroups and cgroup namespaces" },
	{ "CONFIG_CGROUP_SCHED", KC_REQUIRED, "cpu controller" },
	{ "CONFIG_FAIR_GROUP_SCHED", KC_REQUIRED, "cpu.weight" },
	{ "CONFIG_CFS_BANDWIDTH", KC_REQUIRED, "cpu.max" },
	{ "CONFIG_MEMCG", KC_REQUIRED, "memory controller" },
	{ "CONFIG_CGROUP_PIDS", KC_REQUIRED, "pids controller" },
	{ "CONFIG_SECCOMP", KC_REQUIRED, "seccomp" },
	{ "CONFIG_SECCOMP_FILTER", KC_REQUIRED, "seccomp BPF filters" },
	{ "CONFIG_OVERLAY_FS", KC_REQUIRED, "image layers" },
	{ "CONFIG_TMPFS", KC_REQUIRED, "/dev, /dev/shm, tmpfs volumes" },
	{ "CONFIG_UNIX98_PTYS", KC_REQUIRED, "/dev/pts" },
	{ "CONFIG_POSIX_MQUEUE", KC_REQUIRED, "/dev/mqueue" },
	{ "CONFIG_VETH", KC_REQUIRED, "veth pairs to the bridge" },
	{ "CONFIG_BRIDGE", KC_REQUIRED, "the berth bridge" },
	{ "CONFIG_NETFILTER", KC_REQUIRED, "netfilter core" },
	{ "CONFIG_NF_TABLES", KC_REQUIRED, "nf_tables (table inet berth)" },
	{ "CONFIG_NF_TABLES_INET", KC_REQUIRED, "the inet family" },
	{ "CONFIG_NF_CONNTRACK", KC_REQUIRED, "connection tracking" },
	{ "CONFIG_NFT_CT", KC_REQUIRED, "ct state matches" },
	{ "CONFIG_NF_NAT", KC_REQUIRED, "NAT core" },
	{ "CONFIG_NFT_NAT", KC_REQUIRED, "dnat for port maps" },
	{ "CONFIG_NFT_MASQ", KC_REQUIRED, "masquerade" },
	{ "CONFIG_BPF_SYSCALL", KC_REQUIRED, "bpf(2): the containers' device filter" },
	{ "CONFIG_CGROUP_BPF", KC_REQUIRED, "cgroup v2 device control (containers do not start without it)" },
	{ "CONFIG_USER_NS", KC_RECOMMENDED, "user namespaces" },
	{ "CONFIG_IKCONFIG", KC_RECOMMENDED, "embedded kernel config" },
	{ "CONFIG_IKCONFIG_PROC", KC_RECOMMENDED, "/proc/config.gz" },
	{ "CONFIG_IPV6", KC_RECOMMENDED, "IPv6 on the bridge" },
	{ "CONFIG_NFT_REDIR", KC_RECOMMENDED, "port maps to the host itself" },
	{ "CONFIG_NET_9P", KC_OPTIONAL, "test VM: 9p" },
	{ "CONFIG_NET_9P_VIRTIO", KC_OPTIONAL, "test VM: virtio 9p transport" },
	{ "CONFIG_9P_FS", KC_OPTIONAL, "test VM: 9p filesystem" },
	{ "CONFIG_VIRTIO_PCI", KC_OPTIONAL, "test VM: virtio PCI" },
};
const size_t kc_options_count = ARRAY_SIZE(kc_options);

static bool is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* A valid name is CONFIG_ followed by one or more name characters. */
static bool valid_name(const char *s, size_t n)
{
	if (n <= 7 || n > KC_NAME_MAX || memcmp(s, "CONFIG_", 7) != 0)
		return false;
	for (size_t i = 7; i < n; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

static enum kc_value classify(const char *v, size_t n)
{
	if (n == 1 && v[0] == 'y')
		return KC_BUILTIN;
	if (n == 1 && v[0] == 'm')
		return KC_MODULE;
	if (n == 1 && v[0] == 'n')
		return KC_NO;
	return KC_OTHER;
}

/* 1: an option (name/value set), 0: blank or comment, -1: malformed. */
static int parse_line(const char *s, size_t n, const char **name, size_t *name_len,
		      enum kc_value *v)
{
	static const char not_set[] = " is not set";
	const size_t ns = sizeof(not_set) - 1;
	const char *eq;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (memchr(s, '\0', n))
		return -1;
	if (n == 0)
		return 0;
	if (s[0] == '#') {
		if (n > 2 + ns && s[1] == ' ' && memcmp(s + n - ns, not_set, ns) == 0 &&
		    valid_name(s + 2, n - 2 - ns)) {
			*name = s + 2;
			*name_len = n - 2 - ns;
			*v = KC_NO;
			return 1;
		}
		return 0; /* an ordinary comment */
	}
	eq = memchr(s, '=', n);
	if (!eq || !valid_name(s, (size_t)(eq - s)) || eq + 1 == s + n)
		return -1;
	*name = s;
	*name_len = (size_t)(eq - s);
	*v = classify(eq + 1, (size_t)(s + n - eq - 1));
	return 1;
}

size_t kconfig_parse(const char *buf, size_t len, kc_visit_cb *cb, void *data, size_t *ret_bad)
{
	size_t off = 0, seen = 0, bad = 0;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		const char *name = NULL;
		size_t name_len = 0;
		enum kc_value v = KC_ABSENT;
		int r = parse_line(buf + off, n, &name, &name_len, &v);

		if (r > 0) {
			seen++;
			if (cb)
				cb(name, name_len, v, data);
		} else if (r < 0) {
			bad++;
		}
		off += n + (nl ? 1 : 0);
	}
	if (ret_bad)
		*ret_bad = bad;
	return seen;
}

struct lookup {
	const char *name;
	size_t len;
	enum kc_value v;
};

static void lookup_cb(const char *name, size_t name_len, enum kc_value v, void *data)
{
	struct lookup *l = data;

	if (name_len == l->len && memcmp(name, l->name, name_len) == 0)
		l->v = v;
}

enum kc_value kconfig_lookup(const char *buf, size_t len, const char *name)
{
	struct lookup l = { name, strlen(name), KC_ABSENT };

	kconfig_parse(buf, len, lookup_cb, &l, NULL);
	return l.v;
}

/* One pass over the text for all options: matches each line against the table. */
static void check_cb(const char *name, size_t name_len, enum kc_value v, void *data)
{
	enum kc_value *ret = data;

	for (size_t i = 0; i < kc_options_count; i++)
		if (strlen(kc_options[i].name) == name_len &&
		    memcmp(kc_options[i].name, name, name_len) == 0)
			ret[i] = v;
}

size_t kconfig_check(const char *buf, size_t len, enum kc_value *ret)
{
	size_t missing = 0;

	for (size_t i = 0; i < kc_options_count; i++)
		ret[i] = KC_ABSENT;
	kconfig_parse(buf, len, check_cb, ret, NULL);
	for (size_t i = 0; i < kc_options_count; i++)
		if (kc_options[i].level == KC_REQUIRED && ret[i] != KC_BUILTIN &&
		    ret[i] != KC_MODULE)
			missing++;
	return missing;
}

/* /proc/config.gz through `gzip -dc`: gzip (or busybox's) is on every
 * system berth targets, and berth then needs no zlib at link time. */
static int read_gzip(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	posix_spawn_file_actions_t fa;
	char *argv[] = { "gzip", "-dc", (char *)path, NULL };
	size_t len = 0, cap = 0;
	int pfd[2], status, r = 0;
	pid_t pid;

	if (access(path, R_OK) < 0)
		return -errno;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = -posix_spawnp(&pid, "gzip", &fa, NULL, argv, NULL);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r < 0) {
		close(pfd[0]);
		return r;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 65536) {
			char *nb;

			if (cap >= KCONFIG_MAX) {
				r = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 262144;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(pfd[0], buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(pfd[0]);
	if (r < 0)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	buf[len] = '\0';
	*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int kconfig_read_running(char **ret, size_t *ret_len, const char **ret_source)
{
	static char boot[300];
	struct utsname u;
	int r;

	r = read_gzip("/proc/config.gz", ret, ret_len);
	if (r == 0) {
		*ret_source = "/proc/config.gz";
		return 0;
	}
	if (uname(&u) < 0)
		return -errno;
	snprintf(boot, sizeof(boot), "/boot/config-%s", u.release);
	r = read_file_alloc(boot, KCONFIG_MAX, ret, ret_len);
	if (r < 0)
		return r;
	*ret_source = boot;
	return 0;
}
