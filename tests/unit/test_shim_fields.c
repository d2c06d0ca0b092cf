/* tests/unit/test_shim_fields.c - the container's resolv.conf and hosts
 * text (runtime/dnsfiles.c), names, addresses and sysctls (lib/netname.c),
 * spec.json's dns/sysctl/device/shm fields (runtime/shim_spec.c) and the
 * device node a device entry asks for; hostile input included. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "agent/internal.h"
#include "images/config.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/netname.h"
#include "runtime/child.h"
#include "runtime/dnsfiles.h"
#include "runtime/shim_fields.h"
#include "runtime/shim_int.h"

static void test_netname(void **state)
{
	static const char *const good_hosts[] = { "a", "web-1", "db.internal", "x_y.example.org", "A1" };
	static const char *const bad_hosts[] = {
		"", ".", "a.", ".a", "a..b", "-a", "a-", "a.-b", "a b", "a\nb", "a\tb", "a\rb",
		"a/b", "a:b", "a#b", "caf\xc3\xa9", "\x7f",
	};
	char longlabel[70], longname[300];

	(void)state;
	for (size_t i = 0; i < sizeof(good_hosts) / sizeof(*good_hosts); i++)
		assert_true(netname_host_valid(good_hosts[i]));
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(*bad_hosts); i++)
		if (netname_host_valid(bad_hosts[i]))
			fail_msg("'%s' passed", bad_hosts[i]);
	assert_false(netname_host_valid(NULL));
	memset(longlabel, 'a', 64);
	longlabel[64] = '\0';
	assert_false(netname_host_valid(longlabel));    /* label > 63 */
	longlabel[63] = '\0';
	assert_true(netname_host_valid(longlabel));
	for (size_t i = 0; i < 254; i++)
		longname[i] = i % 2 ? '.' : 'a';
	longname[253] = '\0';
	assert_true(netname_host_valid(longname));
	longname[253] = 'a';
	longname[254] = '\0';
	assert_false(netname_host_valid(longname));      /* > 253 */

	assert_true(netname_ip_valid("10.0.0.1"));
	assert_true(netname_ip_valid("fd00::53"));
	assert_true(netname_ip_valid("::1"));
	assert_false(netname_ip_valid("10.0.0.256"));
	assert_false(netname_ip_valid("10.0.0.1 "));
	assert_false(netname_ip_valid("10.0.0.1\n"));
	assert_false(netname_ip_valid("fd00::53%eth0"));
	assert_false(netname_ip_valid("host"));
	assert_false(netname_ip_valid(""));
	assert_false(netname_ip_valid(NULL));

	assert_int_equal(netname_sysctl_ns("net.ipv4.ip_forward"), SYSCTL_NS_NET);
	assert_int_equal(netname_sysctl_ns("net/core/somaxconn"), SYSCTL_NS_NET);
	assert_int_equal(netname_sysctl_ns("kernel.shmmax"), SYSCTL_NS_IPC);
	assert_int_equal(netname_sysctl_ns("kernel/sem"), SYSCTL_NS_IPC);
	assert_int_equal(netname_sysctl_ns("fs.mqueue.msg_max"), SYSCTL_NS_IPC);
	assert_int_equal(netname_sysctl_ns("kernel.shmmaxx"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("kernel.hostname"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("vm.swappiness"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("fs.mqueue"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("net"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("net."), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("net..x"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("net.ipv4/../../vm/swappiness"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("/net/ipv4/ip_forward"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns("net.ipv4.ip forward"), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns(""), SYSCTL_NS_NONE);
	assert_int_equal(netname_sysctl_ns(NULL), SYSCTL_NS_NONE);

	assert_true(netname_sysctl_value_valid("1"));
	assert_true(netname_sysctl_value_valid("4096\t87380 6291456"));
	assert_false(netname_sysctl_value_valid(""));
	assert_false(netname_sysctl_value_valid("1\n"));
	assert_false(netname_sysctl_value_valid("1\r"));
	assert_false(netname_sysctl_value_valid("\x7f"));
	memset(longname, '1', 257);
	longname[257] = '\0';
	assert_false(netname_sysctl_value_valid(longname));
	longname[256] = '\0';
	assert_true(netname_sysctl_value_valid(longname));
}

static const char host_resolv[] =
	"# managed by resolvconf\n"
	"domain lan\n"
	"search lan example.net\n"
	"nameserver 127.0.0.53\n"
	"nameserver 192.0.2.1\n"
	"nameserver ::1\n"
	"options edns0 trust-ad";     /* no final newline */

static char *resolv(const struct dns_files_in *in)
{
	char *text = NULL;

	assert_int_equal(dns_resolv_conf(in, &text), 0);
	return text;
}

static char *hosts(const struct dns_files_in *in)
{
	char *text = NULL;

	assert_int_equal(dns_hosts_file(in, &text), 0);
	return text;
}

static void test_resolv_conf(void **state)
{
	char *servers[] = { "10.9.8.7", "fd00::53", NULL }, *search[] = { "corp.example", NULL };
	struct dns_files_in in = { .net = DNS_NET_HOST, .host_resolv = host_resolv };
	char *t;

	(void)state;
	/* host mode, nothing given: the host's file, every line kept */
	t = resolv(&in);
	assert_string_equal(t, "# written by berth\n# managed by resolvconf\ndomain lan\n"
			       "search lan example.net\nnameserver 127.0.0.53\nnameserver 192.0.2.1\n"
			       "nameserver ::1\noptions edns0 trust-ad\n");
	free(t);
	/* own network: loopback resolvers are unreachable, dropped */
	in.net = DNS_NET_OWN;
	t = resolv(&in);
	assert_string_equal(t, "# written by berth\n# managed by resolvconf\ndomain lan\n"
			       "search lan example.net\nnameserver 192.0.2.1\noptions edns0 trust-ad\n");
	free(t);
	/* the task's servers and search replace the host's, options stay */
	in.servers = servers;
	in.n_servers = 2;
	in.search = search;
	in.n_search = 1;
	t = resolv(&in);
	assert_string_equal(t, "# written by berth\n# managed by resolvconf\noptions edns0 trust-ad\n"
			       "nameserver 10.9.8.7\nnameserver fd00::53\nsearch corp.example\n");
	free(t);
	/* none: nothing of the host's */
	in.net = DNS_NET_NONE;
	t = resolv(&in);
	assert_string_equal(t, "# written by berth\nnameserver 10.9.8.7\nnameserver fd00::53\n"
			       "search corp.example\n");
	free(t);
	in.n_servers = in.n_search = 0;
	t = resolv(&in);
	assert_string_equal(t, "# written by berth\n");
	free(t);
	/* no host file at all */
	in.net = DNS_NET_HOST;
	in.host_resolv = NULL;
	t = resolv(&in);
	assert_string_equal(t, "# written by berth\n");
	free(t);
	/* a "nameserverX" line is not a nameserver line */
	in.host_resolv = "nameserverX 1\nnameserver\t127.0.0.1\n";
	in.net = DNS_NET_OWN;
	t = resolv(&in);
	assert_string_equal(t, "# written by berth\nnameserverX 1\n");
	free(t);
}

static void test_hosts_file(void **state)
{
	struct dns_extra_host extra[] = { { "db.internal", "10.1.2.3" }, { "v6", "fd00::1" } };
	char *addrs[] = { "172.17.0.5", NULL };
	struct dns_files_in in = { .net = DNS_NET_NONE, .extra = extra, .n_extra = 2,
				   .hostname = "web-1", .host_hosts = "1.1.1.1 hostonly" };
	char *t;

	(void)state;
	t = hosts(&in);
	assert_non_null(strstr(t, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
	assert_null(strstr(t, "hostonly"));
	assert_null(strstr(t, "web-1"));      /* no address to name */
	assert_non_null(strstr(t, "ff02::2\tip6-allrouters\n10.1.2.3\tdb.internal\nfd00::1\tv6\n"));
	free(t);
	/* the task's own address (bridge/awsvpc) names the container, last */
	in.net = DNS_NET_OWN;
	in.addrs = addrs;
	t = hosts(&in);
	assert_non_null(strstr(t, "fd00::1\tv6\n172.17.0.5\tweb-1\n"));
	assert_int_equal(t[strlen(t) - 1], '\n');
	free(t);
	/* host: the host's file, with a newline added, then extraHosts */
	in.net = DNS_NET_HOST;
	in.addrs = NULL;
	t = hosts(&in);
	assert_string_equal(t, "1.1.1.1 hostonly\n10.1.2.3\tdb.internal\nfd00::1\tv6\n");
	free(t);
}

static void test_dnsfiles_hostile(void **state)
{
	char *bad_ips[] = { "10.0.0.1\nnameserver 6.6.6.6", NULL };
	char *bad_search[] = { "a.example\noptions ndots:15", NULL };
	char *many[DNS_MAX_SERVERS + 2];
	struct dns_extra_host bad_host[] = { { "db\n6.6.6.6 bank.example", "10.1.2.3" } };
	struct dns_extra_host bad_ip[] = { { "db", "10.1.2.3 bank.example" } };
	char *bad_addr[] = { "172.17.0.5\n6.6.6.6", NULL };
	struct dns_files_in cases[] = {
		{ .servers = bad_ips, .n_servers = 1 },
		{ .search = bad_search, .n_search = 1 },
		{ .extra = bad_host, .n_extra = 1 },
		{ .extra = bad_ip, .n_extra = 1 },
		{ .addrs = bad_addr, .hostname = "web" },
		{ .hostname = "web\n6.6.6.6 x" },
		{ .servers = many, .n_servers = DNS_MAX_SERVERS + 1 },
		{ .extra = bad_host, .n_extra = DNS_MAX_EXTRA_HOSTS + 1 },
		{ .search = many, .n_search = DNS_MAX_SEARCH + 1 },
	};
	char *t = (char *)"untouched";

	(void)state;
	for (size_t i = 0; i < DNS_MAX_SERVERS + 1; i++)
		many[i] = "10.0.0.1";
	many[DNS_MAX_SERVERS + 1] = NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cases[i].net = DNS_NET_NONE;
		assert_int_equal(dns_resolv_conf(&cases[i], &t), -EINVAL);
		assert_int_equal(dns_hosts_file(&cases[i], &t), -EINVAL);
	}
	assert_string_equal(t, "untouched");
	/* exactly the maximum is fine */
	cases[6].n_servers = DNS_MAX_SERVERS;
	assert_int_equal(dns_resolv_conf(&cases[6], &t), 0);
	free(t);
}

#define TOP "\"taskId\":\"t1\",\"stateDir\":\"/var/lib/berth/tasks/t1\""
#define SPEC(net, extra) "{" TOP ",\"networkMode\":\"" net "\",\"containers\":[{\"name\":\"app\"," \
	"\"rootfs\":\"/r\",\"argv\":[\"/bin/true\"]" extra "}]}"

static int parse(const char *text, struct shim_task *t, struct err *e)
{
	return shim_spec_parse(text, strlen(text), t, e);
}

static void test_spec_fields(void **state)
{
	const char *spec = "{" TOP ",\"addresses\":[\"172.17.0.5\"],\"containers\":[{\"name\":\"app\","
		"\"rootfs\":\"/r\",\"argv\":[\"/bin/true\"],\"dnsServers\":[\"10.0.0.2\"],"
		"\"dnsSearchDomains\":[\"a.example\",\"b.example\"],"
		"\"extraHosts\":[{\"hostname\":\"db\",\"ipAddress\":\"10.1.2.3\"}],"
		"\"systemControls\":[{\"namespace\":\"net.core.somaxconn\",\"value\":\"1024\"},"
		"{\"namespace\":\"kernel.sem\",\"value\":\"250 32000 32 128\"}],"
		"\"devices\":[{\"hostPath\":\"/dev/zero\",\"containerPath\":\"/dev/z\",\"permissions\":[\"read\",\"mknod\"]},"
		"{\"hostPath\":\"/dev/null\"}],\"sharedMemorySize\":128}]}";
	struct err e = ERR_INIT;
	struct shim_task t;
	const struct shim_ctr_spec *c;

	(void)state;
	assert_int_equal(parse(spec, &t, &e), 0);
	c = &t.ctrs[0];
	assert_string_equal(t.addrs[0], "172.17.0.5");
	assert_null(t.addrs[1]);
	assert_int_equal(c->n_dns_servers, 1);
	assert_string_equal(c->dns_servers[0], "10.0.0.2");
	assert_int_equal(c->n_dns_search, 2);
	assert_string_equal(c->dns_search[1], "b.example");
	assert_int_equal(c->n_extra_hosts, 1);
	assert_string_equal(c->extra_hosts[0].hostname, "db");
	assert_string_equal(c->extra_hosts[0].ip, "10.1.2.3");
	assert_int_equal(c->rt.n_sysctls, 2);
	assert_string_equal(c->rt.sysctls[1].name, "kernel.sem");
	assert_string_equal(c->rt.sysctls[1].value, "250 32000 32 128");
	assert_int_equal(c->n_devices, 2);
	assert_string_equal(c->devices[0].container_path, "/dev/z");
	assert_true(c->devices[0].read && c->devices[0].mknod && !c->devices[0].write);
	assert_string_equal(c->devices[1].container_path, "/dev/null");   /* default: hostPath */
	assert_true(c->devices[1].read && c->devices[1].write && c->devices[1].mknod);
	assert_int_equal(c->rt.shm_size_mib, 128);
	shim_task_release(&t);

	/* nothing given: nothing set */
	assert_int_equal(parse(SPEC("none", ""), &t, &e), 0);
	assert_null(t.addrs);
	assert_int_equal(t.ctrs[0].n_dns_servers + t.ctrs[0].n_extra_hosts + t.ctrs[0].rt.n_sysctls +
			 t.ctrs[0].n_devices + t.ctrs[0].rt.shm_size_mib, 0);
	shim_task_release(&t);
}

static void test_spec_fields_hostile(void **state)
{
	static const struct {
		const char *spec, *want;
	} cases[] = {
		{ SPEC("none", ",\"dnsServers\":[\"10.0.0.1\\nnameserver 6.6.6.6\"]"), "'dnsServers' entry" },
		{ SPEC("none", ",\"dnsServers\":\"10.0.0.1\""), "'dnsServers' must be an array" },
		{ SPEC("none", ",\"dnsServers\":[1]"), "must hold only strings" },
		{ SPEC("none", ",\"dnsSearchDomains\":[\"a b\"]"), "'dnsSearchDomains' entry" },
		{ SPEC("none", ",\"extraHosts\":[{\"hostname\":\"db\\n1.2.3.4 x\",\"ipAddress\":\"10.1.2.3\"}]"), "extraHosts entry" },
		{ SPEC("none", ",\"extraHosts\":[{\"hostname\":\"db\"}]"), "extraHosts entry" },
		{ SPEC("none", ",\"extraHosts\":[\"db:1.2.3.4\"]"), "must hold objects" },
		{ SPEC("none", ",\"systemControls\":[{\"namespace\":\"vm.swappiness\",\"value\":\"1\"}]"), "not a namespaced sysctl" },
		{ SPEC("none", ",\"systemControls\":[{\"namespace\":\"net.ipv4.ip_forward\",\"value\":\"1\\n2\"}]"), "one-line value" },
		{ SPEC("none", ",\"systemControls\":[{\"namespace\":\"net.ipv4.ip_forward\"}]"), "not a namespaced sysctl" },
		{ SPEC("host", ",\"systemControls\":[{\"namespace\":\"net.ipv4.ip_forward\",\"value\":\"1\"}]"), "host's network namespace" },
		{ "{" TOP ",\"ipcMode\":\"host\",\"containers\":[{\"name\":\"app\",\"rootfs\":\"/r\",\"argv\":[\"/bin/true\"],"
		  "\"systemControls\":[{\"namespace\":\"kernel.shmmax\",\"value\":\"1\"}]}]}", "host's ipc namespace" },
		{ SPEC("none", ",\"devices\":[{\"hostPath\":\"dev/zero\"}]"), "absolute 'hostPath'" },
		{ SPEC("none", ",\"devices\":[{\"hostPath\":\"/dev/zero\",\"containerPath\":\"/dev/../etc/x\"}]"), "absolute 'hostPath'" },
		{ SPEC("none", ",\"devices\":[{\"containerPath\":\"/dev/x\"}]"), "absolute 'hostPath'" },
		{ SPEC("none", ",\"devices\":[{\"hostPath\":\"/dev/zero\",\"permissions\":[\"execute\"]}]"), "read, write and mknod" },
		{ SPEC("none", ",\"devices\":[{\"hostPath\":\"/dev/zero\",\"permissions\":\"rwm\"}]"), "must be an array" },
		{ SPEC("none", ",\"sharedMemorySize\":0"), "'sharedMemorySize'" },
		{ SPEC("none", ",\"tmpfs\":{}"), "'tmpfs' must be an array" },
		{ SPEC("none", ",\"tmpfs\":[{\"containerPath\":\"scratch\",\"size\":2}]"), "tmpfs" },
		{ SPEC("none", ",\"tmpfs\":[{\"containerPath\":\"/s\"}]"), "tmpfs" },
		{ SPEC("none", ",\"tmpfs\":[{\"containerPath\":\"/s\",\"size\":2,\"mountOptions\":[\"exec,suid\"]}]"), "tmpfs" },
		{ SPEC("none", ",\"tmpfs\":[{\"containerPath\":\"/s/../../x\",\"size\":2}]"), "tmpfs" },
		{ SPEC("none", ",\"sharedMemorySize\":-1"), "'sharedMemorySize'" },
		{ "{" TOP ",\"addresses\":[\"172.17.0.5\\n6.6.6.6\"],\"containers\":[{\"name\":\"app\",\"rootfs\":\"/r\",\"argv\":[\"/bin/true\"]}]}", "'addresses' entry" },
	};
	struct shim_task t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct err e = ERR_INIT;

		if (parse(cases[i].spec, &t, &e) == 0)
			fail_msg("case %zu parsed", i);
		if (!strstr(e.msg, cases[i].want))
			fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want, e.msg);
	}
}

static void test_too_many(void **state)
{
	char spec[16384];
	size_t n;
	struct err e = ERR_INIT;
	struct shim_task t;

	(void)state;
	n = (size_t)snprintf(spec, sizeof(spec), "{" TOP ",\"containers\":[{\"name\":\"app\",\"rootfs\":\"/r\","
			     "\"argv\":[\"/bin/true\"],\"systemControls\":[");
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s{\"namespace\":\"net.core.somaxconn\",\"value\":\"1\"}",
				      i ? "," : "");
	snprintf(spec + n, sizeof(spec) - n, "]}]}");
	assert_int_equal(parse(spec, &t, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "at most 64"));
}

static void test_device_node(void **state)
{
	struct shim_device d = { .host_path = "/dev/zero", .container_path = "/dev/z", .read = true };
	struct stat st = { .st_mode = S_IFCHR | 0666, .st_rdev = makedev(1, 5), .st_uid = 0, .st_gid = 7 };
	struct rt_device node;

	(void)state;
	assert_int_equal(shim_device_node(&d, &st, &node), 0);
	assert_string_equal(node.path, "/dev/z");
	assert_int_equal(node.mode, S_IFCHR | 0444);
	assert_int_equal(major(node.dev), 1);
	assert_int_equal(minor(node.dev), 5);
	assert_int_equal(node.gid, 7);
	/* never more than the host node allows */
	d.write = true;
	st.st_mode = S_IFBLK | 0640;
	assert_int_equal(shim_device_node(&d, &st, &node), 0);
	assert_int_equal(node.mode, S_IFBLK | 0640);
	d.read = false;
	assert_int_equal(shim_device_node(&d, &st, &node), 0);
	assert_int_equal(node.mode, S_IFBLK | 0200);
	/* mknod only: a node nobody may open */
	d.write = false;
	d.mknod = true;
	assert_int_equal(shim_device_node(&d, &st, &node), 0);
	assert_int_equal(node.mode & 07777, 0);
	/* not a device */
	st.st_mode = S_IFREG | 0644;
	assert_int_equal(shim_device_node(&d, &st, &node), -ENODEV);
	st.st_mode = S_IFDIR | 0755;
	assert_int_equal(shim_device_node(&d, &st, &node), -ENODEV);
}

/* The contract: what the agent writes from a task definition, the shim
 * reads back field for field. */
static void test_agent_to_shim(void **state)
{
	static const char td_text[] =
		"{\"family\":\"web\",\"revision\":1,\"networkMode\":\"none\",\"containerDefinitions\":["
		"{\"name\":\"app\",\"image\":\"i\",\"hostname\":\"web-1\",\"dnsServers\":[\"10.0.0.2\"],"
		"\"dnsSearchDomains\":[\"corp.example\"],\"extraHosts\":[{\"hostname\":\"db\",\"ipAddress\":\"10.1.2.3\"}],"
		"\"systemControls\":[{\"namespace\":\"net.core.somaxconn\",\"value\":\"1024\"}],"
		"\"linuxParameters\":{\"devices\":[{\"hostPath\":\"/dev/zero\",\"permissions\":[\"read\"]}],"
		"\"tmpfs\":[{\"containerPath\":\"/scratch\",\"size\":2,\"mountOptions\":[\"noexec\"]}],"
		"\"sharedMemorySize\":32}},{\"name\":\"plain\",\"image\":\"i\"}]}";
	_cleanup_(cJSON_Deletep) cJSON *task = cJSON_Parse("{\"taskArn\":\"arn:aws:ecs:local:0:task/c/t\"}");
	_cleanup_(cJSON_Deletep) cJSON *td = cJSON_Parse(td_text);
	_cleanup_(cJSON_Deletep) cJSON *spec = NULL;
	char *argv[] = { "/bin/sh", NULL }, *env[] = { NULL }, *addrs[] = { "172.17.0.9", NULL };
	struct img_exec x = { .argv = argv, .env = env, .workdir = "/" };
	struct spec_container_in ci[] = { { "/r/app", &x }, { "/r/plain", &x } };
	struct spec_in in = { .task = task, .taskdef = td, .task_id = "t", .cluster = "c",
			      .state_dir = "/s/t", .stop_timeout_sec = 30, .addresses = addrs,
			      .containers = ci };
	struct err e = ERR_INIT;
	struct shim_task t;
	_cleanup_free_ char *text = NULL;
	const struct shim_ctr_spec *c;

	(void)state;
	assert_int_equal(spec_build(&in, &spec), 0);
	text = cJSON_PrintUnformatted(spec);
	assert_non_null(text);
	if (shim_spec_parse(text, strlen(text), &t, &e) < 0)
		fail_msg("%s", e.msg);
	c = &t.ctrs[0];
	assert_string_equal(t.addrs[0], "172.17.0.9");
	assert_string_equal(c->rt.hostname, "web-1");
	assert_string_equal(c->dns_servers[0], "10.0.0.2");
	assert_string_equal(c->dns_search[0], "corp.example");
	assert_string_equal(c->extra_hosts[0].ip, "10.1.2.3");
	assert_string_equal(c->rt.sysctls[0].name, "net.core.somaxconn");
	assert_string_equal(c->devices[0].container_path, "/dev/zero");
	assert_true(c->devices[0].read && !c->devices[0].write);
	assert_int_equal(c->rt.shm_size_mib, 32);
	assert_non_null(c->tmpfs_json);
	{
		struct vol_spec vs;

		assert_int_equal(shim_tmpfs_spec(c->name, c->tmpfs_json, &vs, &e), 0);
		assert_int_equal(vs.ctrs[0].n_tmpfs, 1);
		assert_string_equal(vs.ctrs[0].tmpfs[0].container_path, "/scratch");
		assert_int_equal(vs.ctrs[0].tmpfs[0].size, 2 << 20);
		vol_spec_free(&vs);
	}
	c = &t.ctrs[1];
	assert_null(c->tmpfs_json);
	assert_int_equal(c->n_dns_servers + c->n_extra_hosts + c->rt.n_sysctls + c->n_devices +
			 c->rt.shm_size_mib, 0);
	shim_task_release(&t);
}

/* Dotted names become paths; a slashed name is a path already, so a dot in
 * an interface name stays. */
static void test_sysctl_path(void **state)
{
	char buf[64];

	(void)state;
	assert_true(rt_sysctl_path("net.ipv4.ip_forward", buf, sizeof(buf)));
	assert_string_equal(buf, "/proc/sys/net/ipv4/ip_forward");
	assert_true(rt_sysctl_path("net/ipv4/conf/eth0.100/forwarding", buf, sizeof(buf)));
	assert_string_equal(buf, "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
	assert_true(rt_sysctl_path("kernel.shmmni", buf, sizeof(buf)));
	assert_string_equal(buf, "/proc/sys/kernel/shmmni");
	/* exactly fits, one byte too long */
	assert_true(rt_sysctl_path("net.core.somaxconn", buf, sizeof("/proc/sys/net/core/somaxconn")));
	assert_false(rt_sysctl_path("net.core.somaxconn", buf, sizeof("/proc/sys/net/core/somaxconn") - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netname),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_hosts_file),
		cmocka_unit_test(test_dnsfiles_hostile),
		cmocka_unit_test(test_spec_fields),
		cmocka_unit_test(test_spec_fields_hostile),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_device_node),
		cmocka_unit_test(test_sysctl_path),
		cmocka_unit_test(test_agent_to_shim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
