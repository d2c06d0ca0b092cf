/* kconfig/cmd_check.c - `berth check`: is this kernel and system fit to run
 * berth?  Reads the kernel config when one is readable, then probes the live
 * system.  One line per item: ok / missing / optional, with the remedy.
 * Exits 1 when a required item is missing.
 *
 *   berth check                   the running kernel and this system
 *   berth check --config FILE     only the options of a kernel .config
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "kconfig/kconfig.h"
#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/fileio.h"

#define CGROUP_FIX                                                                   \
	"fix: boot with systemd.unified_cgroup_hierarchy=1 (systemd), set "          \
	"rc_cgroup_mode=\"unified\" in /etc/rc.conf (OpenRC) or boot with "          \
	"cgroup_no_v1=all (any init)"

struct report {
	unsigned missing; /* required items missing */
	unsigned optional;
};

static void line(struct report *rep, const char *status, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void line(struct report *rep, const char *status, const char *item, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(status, "missing") == 0)
		rep->missing++;
	else if (strcmp(status, "optional") == 0)
		rep->optional++;
	printf("%-8s  %-28s  ", status, item);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *const level_names[] = {
	[KC_REQUIRED] = "required",
	[KC_RECOMMENDED] = "recommended",
	[KC_OPTIONAL] = "optional",
};

static void report_config(struct report *rep, const char *buf, size_t len)
{
	enum kc_value v[64];

	if (kc_options_count > ARRAY_SIZE(v))
		abort(); /* the table grew past this buffer: a programming error */
	kconfig_check(buf, len, v);
	for (size_t i = 0; i < kc_options_count; i++) {
		const struct kc_option *o = &kc_options[i];

		if (v[i] == KC_BUILTIN || v[i] == KC_MODULE)
			line(rep, "ok", o->name, "%s%s", o->why, v[i] == KC_MODULE ? " (module)" : "");
		else
			line(rep, o->level == KC_REQUIRED ? "missing" : "optional", o->name,
			     "%s; %s: set %s=y (kconfig/berth.config)", o->why,
			     level_names[o->level], o->name);
	}
}

static void report_cgroups(struct report *rep)
{
	struct cg_host h;
	int r = cg_host_probe(NULL, &h);

	if (r < 0) {
		line(rep, "missing", "cgroup2 mount",
		     "no cgroup2 hierarchy is mounted; mount -t cgroup2 none /sys/fs/cgroup");
		return;
	}
	line(rep, "ok", "cgroup2 mount", "%s", h.mount);
	if (h.has_cpu)
		line(rep, "ok", "cgroup2 cpu controller", "cpu.weight, cpu.max");
	else if (h.v1_cpu)
		line(rep, "missing", "cgroup2 cpu controller",
		     "held by cgroup v1 on this host (hybrid cgroups); " CGROUP_FIX);
	else
		line(rep, "missing", "cgroup2 cpu controller",
		     "not offered by %s/cgroup.controllers; enable CONFIG_CGROUP_SCHED", h.mount);
	if (h.has_memory)
		line(rep, "ok", "cgroup2 memory controller", "memory.max, memory.events");
	else if (h.v1_memory)
		line(rep, "missing", "cgroup2 memory controller",
		     "held by cgroup v1 on this host (hybrid cgroups); " CGROUP_FIX);
	else
		line(rep, "missing", "cgroup2 memory controller",
		     "not offered by %s/cgroup.controllers; enable CONFIG_MEMCG", h.mount);
	if (h.has_pids)
		line(rep, "ok", "cgroup2 pids controller", "pids.max");
	else
		line(rep, "missing", "cgroup2 pids controller",
		     "not offered by %s/cgroup.controllers (held by cgroup v1, or "
		     "CONFIG_CGROUP_PIDS off); " CGROUP_FIX, h.mount);
	if (h.v1_cpu || h.v1_memory)
		printf("# cgroup v1 holds%s%s here, so berth cannot enforce cpu/memory limits; "
		       "it refuses to start containers unless BERTH_CGROUP_ENFORCE=off\n",
		       h.v1_cpu ? " cpu" : "", h.v1_memory ? (h.v1_cpu ? " and memory" : " memory") : "");
}

/* A probe: required items count as missing, the rest as optional. */
static void report_probe(struct report *rep, bool required, const char *item, int r,
			 const char *ok_what, const char *remedy)
{
	if (r == 0)
		line(rep, "ok", item, "%s", ok_what);
	else
		line(rep, required ? "missing" : "optional", item, "%s; %s", strerror(-r), remedy);
}

static void report_probes(struct report *rep)
{
	report_probe(rep, false, "clone3", probe_clone3(), "clone3 with CLONE_INTO_CGROUP",
		     "kernel 5.7 or later (berth falls back to clone)");
	report_probe(rep, true, "seccomp filter", probe_seccomp_filter(), "SECCOMP_RET_ERRNO filters",
		     "enable CONFIG_SECCOMP_FILTER");
	report_probe(rep, true, "network namespace", probe_net_ns(), "unshare(CLONE_NEWNET)",
		     "enable CONFIG_NET_NS");
	report_probe(rep, false, "user namespace", probe_user_ns(), "unshare(CLONE_NEWUSER)",
		     "enable CONFIG_USER_NS (or raise user.max_user_namespaces)");
	report_probe(rep, true, "overlayfs", probe_filesystem(NULL, "overlay"),
		     "listed in /proc/filesystems", "enable CONFIG_OVERLAY_FS or modprobe overlay");
	report_probe(rep, true, "veth", probe_link_kind("veth"), "created in a throwaway netns",
		     "enable CONFIG_VETH or modprobe veth");
	report_probe(rep, true, "bridge", probe_link_kind("bridge"), "created in a throwaway netns",
		     "enable CONFIG_BRIDGE or modprobe bridge");
	report_probe(rep, true, "nf_tables", probe_nf_tables(),
		     "inet table created over netlink in a throwaway netns",
		     "enable CONFIG_NF_TABLES and CONFIG_NF_TABLES_INET or modprobe nf_tables");
}

static int check_config_file(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	struct report rep = { 0 };
	size_t len;
	int r;

	r = read_file_alloc(path, 8u << 20, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "berth check: cannot read '%s': %s\n", path, strerror(-r));
		return 2;
	}
	printf("# kernel config: %s\n", path);
	report_config(&rep, buf, len);
	printf("# %u required missing, %u optional missing\n", rep.missing, rep.optional);
	return rep.missing ? 1 : 0;
}

static int cmd_check(int argc, char **argv)
{
	_cleanup_free_ char *buf = NULL;
	struct report rep = { 0 };
	const char *source = NULL;
	size_t len = 0;
	int r;

	if (argc == 3 && strcmp(argv[1], "--config") == 0)
		return check_config_file(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: berth check [--config FILE]\n");
		return 2;
	}

	r = kconfig_read_running(&buf, &len, &source);
	if (r == 0) {
		printf("# kernel config: %s\n", source);
		report_config(&rep, buf, len);
	} else {
		line(&rep, "optional", "kernel config",
		     "neither /proc/config.gz nor /boot/config-$(uname -r) is readable; "
		     "relying on live probes (CONFIG_IKCONFIG_PROC=y makes it available)");
	}
	printf("# live probes\n");
	report_cgroups(&rep);
	report_probes(&rep);
	printf("# %u required missing, %u optional missing: %s\n", rep.missing, rep.optional,
	       rep.missing ? "berth cannot run fully here" : "berth can run here");
	return rep.missing ? 1 : 0;
}

BERTH_COMMAND(check, "check", cmd_check,
	      "check the kernel config and live system for what berth needs");
