/* netns/cmd_net.c - `berth net ...`: drive the netns library the way the
 * agent does, for debugging a host's task networking by hand.
 *
 *   berth net up                  bridge + table inet berth (rebuilt from the record)
 *   berth net create ID [--none]  a task network (namespace, veth, address, route)
 *   berth net map ID SPEC...      host ports for ID, one nftables transaction
 *   berth net unmap ID            remove ID's host ports, one transaction
 *   berth net release ID          unmap + remove veth, namespace, lease
 *   berth net ls                  leases, recorded mappings, map elements
 *   berth net rebuild             rebuild the table from the record
 *   berth net watch               rebuild whenever someone else touches the table
 *   berth net down                delete the table and the bridge
 *
 * Works in the caller's network namespace (run it under nsenter --net=...
 * to work on a test namespace).  Settings: BERTH_BRIDGE, BERTH_BRIDGE_SUBNET,
 * BERTH_RUN_DIR, BERTH_STATE_DIR, BERTH_DYNAMIC_HOST_PORT_RANGE,
 * BERTH_RESERVED_PORTS(_UDP) (and the ECS_ aliases, berth.conf).  The port
 * record is STATE_DIR/netns/ports-<bridge>, locked while it is changed.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/log.h"
#include "netns/ipam.h"
#include "netns/netns.h"
#include "netns/nft.h"
#include "netns/portmap.h"
#include "netns/statefile.h"

extern char **environ;

#define MAX_SPECS 64

struct net_ctx {
	struct config cfg;
	struct netns_conf conf;
	struct netns_host *host;
	struct netns_nft *nft;
	struct statefile sf;
	struct portmap_table pm;
	struct port_alloc *alloc;
};
#define NET_CTX_INIT { .sf = STATEFILE_INIT }

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void ctx_close(struct net_ctx *c)
{
	netns_nft_close(c->nft);
	netns_host_close(c->host);
	statefile_unlock(&c->sf);
	portmap_release_table(&c->pm);
	free(c->alloc);
	config_release(&c->cfg);
}

static int ctx_open(struct net_ctx *c, bool host, bool nft)
{
	struct err e = ERR_INIT;
	int r;

	*c = (struct net_ctx){ .sf = STATEFILE_INIT };
	config_init(&c->cfg);
	r = config_load(&c->cfg, "/etc/berth/berth.conf", false, environ, &e);
	if (r < 0) {
		log_error("%s", e.msg);
		return r;
	}
	r = netns_conf_init(&c->conf, getenv("BERTH_BRIDGE"), getenv("BERTH_BRIDGE_SUBNET"),
			    config_get(&c->cfg, CFG_RUN_DIR), config_get(&c->cfg, CFG_STATE_DIR));
	if (r < 0) {
		log_error("invalid BERTH_BRIDGE or BERTH_BRIDGE_SUBNET (A.B.C.D/8..30, no host bits)");
		return r;
	}
	if (host && (r = netns_host_open(&c->conf, &c->host)) < 0) {
		log_error_errno(r, "open rtnetlink");
		return r;
	}
	if (nft && (r = netns_nft_open(&c->nft)) < 0) {
		log_error_errno(r, "open nfnetlink");
		return r;
	}
	return 0;
}

/* Locks and loads the port record. */
static int record_open(struct net_ctx *c)
{
	int r = portmap_record_open(c->conf.state_dir, c->conf.bridge, &c->sf, &c->pm);

	if (r < 0)
		log_error_errno(r, "read the port record ports-%s in '%s/netns'", c->conf.bridge,
				c->conf.state_dir);
	return r;
}

static int record_save(struct net_ctx *c)
{
	int r = portmap_record_save(&c->sf, &c->pm);

	if (r < 0)
		log_error_errno(r, "write the port record");
	return r;
}

/* The allocator from the configuration, seeded with the record. */
static int alloc_open(struct net_ctx *c)
{
	const char *bad = "";
	int r = port_alloc_configured(config_get(&c->cfg, CFG_DYNAMIC_HOST_PORT_RANGE),
				      config_get(&c->cfg, CFG_RESERVED_PORTS),
				      config_get(&c->cfg, CFG_RESERVED_PORTS_UDP), port_probe_bind,
				      &c->alloc, &bad);

	if (r < 0)
		return log_error_errno(r, "reserved ports '%s'", bad), r;
	return portmap_table_seed(&c->pm, c->alloc);
}

static int rebuild(struct net_ctx *c, size_t *ret_n)
{
	_cleanup_free_ struct netns_mapping *m = NULL;
	size_t n = 0;
	int r;

	r = portmap_mappings(&c->pm, NULL, &m, &n);
	if (r == 0)
		r = netns_nft_rebuild(c->nft, &c->conf, m, n);
	if (r < 0)
		return log_error_errno(r, "rebuild table inet %s", NETNS_NFT_TABLE), r;
	if (ret_n)
		*ret_n = n;
	return 0;
}

static int cmd_up(int argc, char **argv)
{
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;
	char a[INET_ADDRSTRLEN];
	unsigned mtu = 0;
	size_t n;
	int r;

	(void)argv;
	if (argc != 1)
		return log_error("usage: berth net up"), 2;
	if (ctx_open(&c, true, true) < 0 || record_open(&c) < 0)
		return 1;
	r = netns_bridge_ensure(c.host);
	if (r < 0)
		return log_error_errno(r, "set up bridge '%s'", c.conf.bridge), 1;
	netns_uplink_mtu(c.host, &mtu);
	if (rebuild(&c, &n) < 0)
		return 1;
	printf("bridge=%s\naddress=%s/%u\nmtu=%u\nmappings=%zu\n", c.conf.bridge,
	       ipam_ntoa(ipam_gateway(&c.conf.subnet), a), c.conf.subnet.prefix, mtu, n);
	return 0;
}

static int cmd_down(int argc, char **argv)
{
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;
	int r;

	(void)argv;
	if (argc != 1)
		return log_error("usage: berth net down"), 2;
	if (ctx_open(&c, true, true) < 0)
		return 1;
	r = netns_nft_delete_table(c.nft);
	if (r < 0)
		return log_error_errno(r, "delete table inet %s", NETNS_NFT_TABLE), 1;
	r = netns_bridge_delete(c.host);
	if (r < 0)
		return log_error_errno(r, "delete bridge '%s'", c.conf.bridge), 1;
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;
	enum netns_mode mode = NETNS_MODE_BRIDGE;
	struct netns_task t;
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	int r;

	if (argc == 3 && strcmp(argv[2], "--none") == 0)
		mode = NETNS_MODE_NONE;
	else if (argc != 2)
		return log_error("usage: berth net create ID [--none]"), 2;
	if (!netns_id_valid(argv[1]))
		return log_error("invalid task id '%s'", argv[1]), 2;
	if (ctx_open(&c, true, false) < 0)
		return 1;
	r = netns_task_create(c.host, argv[1], mode, &t);
	if (r == -EEXIST)
		return log_error("task '%s' already has a network (release it first)", argv[1]), 1;
	if (r < 0)
		return log_error_errno(r, "create the network of task '%s'", argv[1]), 1;
	printf("id=%s\nnetns=%s\n", t.id, t.path);
	if (mode == NETNS_MODE_BRIDGE)
		printf("veth=%s\naddress=%s/%u\ngateway=%s\nmtu=%u\n", t.veth, ipam_ntoa(t.addr, a), t.prefix,
		       ipam_ntoa(t.gateway, g), t.mtu);
	return 0;
}

/* [HOST[-HOST2]:]PORT[-PORT2][/tcp|/udp] */
static int parse_spec(const char *s, struct portmap_request *ret)
{
	unsigned h1 = 0, h2 = 0, c1 = 0, c2 = 0;
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/'), *cp = colon ? colon + 1 : s;
	char proto[8] = "tcp";
	int n = 0;

	if (slash) {
		if (strlen(slash + 1) >= sizeof(proto))
			return -EINVAL;
		strcpy(proto, slash + 1);
	}
	if (port_proto_from_string(proto, &ret->proto) < 0)
		return -EINVAL;
	if (colon) {
		if (sscanf(s, "%5u%n", &h1, &n) != 1)
			return -EINVAL;
		h2 = h1;
		if (s[n] == '-' && sscanf(s + n + 1, "%5u", &h2) != 1)
			return -EINVAL;
	}
	if (sscanf(cp, "%5u%n", &c1, &n) != 1 || !(*cp >= '0' && *cp <= '9'))
		return -EINVAL;
	c2 = c1;
	if (cp[n] == '-') {
		int m = 0;

		if (sscanf(cp + n + 1, "%5u%n", &c2, &m) != 1)
			return -EINVAL;
		n += 1 + m;
	}
	if (cp[n] != '\0' && cp[n] != '/')
		return -EINVAL;
	if (c1 < 1 || c2 > 65535 || c1 > c2 || h1 > 65535 || h2 > 65535 || h1 > h2)
		return -EINVAL;
	if (colon && h1 && h2 - h1 != c2 - c1)
		return -EINVAL;
	ret->port = (uint16_t)c1;
	ret->count = (uint16_t)(c2 - c1 + 1);
	ret->host_port = (uint16_t)h1;
	return 0;
}

static void print_entry(const struct portmap_entry *e)
{
	if (e->count == 1)
		printf("%s %u %u\n", port_proto_to_string(e->proto), e->port, e->host_port);
	else
		printf("%s %u-%u %u-%u\n", port_proto_to_string(e->proto), e->port, e->port + e->count - 1,
		       e->host_port, e->host_port + e->count - 1);
}

static int lease_addr(struct net_ctx *c, const char *id, uint32_t *ret)
{
	struct ipam_table t = { 0 };
	const struct ipam_lease *l;
	int r = ipam_load(c->conf.state_dir, c->conf.bridge, &t);

	if (r < 0)
		return log_error_errno(r, "read the address leases"), r;
	l = ipam_table_find(&t, id);
	if (l)
		*ret = l->addr;
	ipam_release_table(&t);
	if (!l)
		return log_error("task '%s' has no address (berth net create first)", id), -ENOENT;
	return 0;
}

static int cmd_map(int argc, char **argv)
{
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;
	_cleanup_free_ struct netns_mapping *m = NULL;
	struct portmap_request q[MAX_SPECS];
	struct portmap_table added;
	char why[128];
	size_t nq = (size_t)argc - 2, nm = 0, before, failed = 0;
	uint32_t addr;
	int r;

	if (argc < 3 || nq > MAX_SPECS)
		return log_error("usage: berth net map ID [HOST[-HOST2]:]PORT[-PORT2][/tcp|/udp]... (at most %d)",
				 MAX_SPECS), 2;
	if (!netns_id_valid(argv[1]))
		return log_error("invalid task id '%s'", argv[1]), 2;
	for (size_t i = 0; i < nq; i++)
		if (parse_spec(argv[i + 2], &q[i]) < 0)
			return log_error("invalid port mapping '%s'", argv[i + 2]), 2;
	if (ctx_open(&c, false, true) < 0 || lease_addr(&c, argv[1], &addr) < 0 || record_open(&c) < 0 ||
	    alloc_open(&c) < 0)
		return 1;
	before = c.pm.n;
	r = portmap_assign(&c.pm, c.alloc, argv[1], addr, q, nq, &failed);
	if (r < 0)
		return log_error("map '%s' for task '%s': %s", argv[failed + 2], argv[1],
				 portmap_reason(r, &q[failed], why, sizeof(why))), 1;
	added = (struct portmap_table){ .v = c.pm.v + before, .n = c.pm.n - before };
	r = portmap_mappings(&added, NULL, &m, &nm);
	if (r == 0)
		r = netns_nft_add(c.nft, m, nm);
	if (r == -ENOENT) {       /* the table is gone: put everything back */
		log_warn("table inet %s is missing, rebuilding it", NETNS_NFT_TABLE);
		r = rebuild(&c, NULL);
	}
	if (r < 0)
		return log_error_errno(r, "add the mappings of task '%s'", argv[1]), 1;
	if (record_save(&c) < 0) {
		netns_nft_del(c.nft, m, nm);
		return 1;
	}
	for (size_t i = before; i < c.pm.n; i++)
		print_entry(&c.pm.v[i]);
	return 0;
}

static int unmap(struct net_ctx *c, const char *id)
{
	_cleanup_free_ struct netns_mapping *m = NULL;
	size_t n = 0;
	int r;

	r = portmap_mappings(&c->pm, id, &m, &n);
	if (r == 0)
		r = netns_nft_del(c->nft, m, n);
	if (r == -ENOENT)
		r = 0;     /* no table: nothing of ours is mapped */
	if (r < 0)
		return log_error_errno(r, "remove the mappings of task '%s'", id), r;
	if (portmap_drop(&c->pm, NULL, id) == 0)
		return 0;
	return record_save(c);
}

static int cmd_unmap(int argc, char **argv)
{
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;

	if (argc != 2 || !netns_id_valid(argv[1]))
		return log_error("usage: berth net unmap ID"), 2;
	if (ctx_open(&c, false, true) < 0 || record_open(&c) < 0)
		return 1;
	return unmap(&c, argv[1]) < 0 ? 1 : 0;
}

static int cmd_release(int argc, char **argv)
{
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;
	int r;

	if (argc != 2 || !netns_id_valid(argv[1]))
		return log_error("usage: berth net release ID"), 2;
	if (ctx_open(&c, true, true) < 0 || record_open(&c) < 0)
		return 1;
	if (unmap(&c, argv[1]) < 0)
		return 1;
	r = netns_task_release(c.host, argv[1]);
	if (r < 0)
		return log_error_errno(r, "release the network of task '%s'", argv[1]), 1;
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;
	_cleanup_free_ struct netns_mapping *m = NULL;
	struct ipam_table t = { 0 };
	char a[INET_ADDRSTRLEN];
	size_t n = 0;
	int r;

	(void)argv;
	if (argc != 1)
		return log_error("usage: berth net ls"), 2;
	if (ctx_open(&c, false, true) < 0 || record_open(&c) < 0)
		return 1;
	r = ipam_load(c.conf.state_dir, c.conf.bridge, &t);
	if (r < 0)
		return log_error_errno(r, "read the address leases"), 1;
	for (size_t i = 0; i < t.n; i++)
		printf("lease %s %s\n", t.leases[i].id, ipam_ntoa(t.leases[i].addr, a));
	ipam_release_table(&t);
	for (size_t i = 0; i < c.pm.n; i++) {
		printf("map %s ", c.pm.v[i].id);
		print_entry(&c.pm.v[i]);
	}
	r = netns_nft_list(c.nft, &m, &n);
	if (r == -ENOENT) {
		printf("table missing\n");
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "list map @%s", NETNS_NFT_MAP), 1;
	for (size_t i = 0; i < n; i++)
		printf("element %s %u %s %u\n", port_proto_to_string(m[i].proto), m[i].host_port,
		       ipam_ntoa(m[i].addr, a), m[i].port);
	return 0;
}

static int cmd_rebuild(int argc, char **argv)
{
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;
	double t0;
	size_t n;

	(void)argv;
	if (argc != 1)
		return log_error("usage: berth net rebuild"), 2;
	if (ctx_open(&c, false, true) < 0 || record_open(&c) < 0)
		return 1;
	t0 = now_ms();
	if (rebuild(&c, &n) < 0)
		return 1;
	printf("rebuilt mappings=%zu ms=%.3f\n", n, now_ms() - t0);
	return 0;
}

/* Reloads the record (another berth net may have changed it) and rebuilds. */
static int watch_rebuild(struct net_ctx *c, size_t *ret_n)
{
	int r;

	statefile_unlock(&c->sf);
	portmap_release_table(&c->pm);
	r = record_open(c);
	if (r == 0)
		r = rebuild(c, ret_n);
	statefile_unlock(&c->sf);
	return r;
}

static int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "rebuilds", required_argument, NULL, 'n' },
		{ 0 },
	};
	_cleanup_(ctx_close) struct net_ctx c = NET_CTX_INIT;
	struct netns_nft_monitor *mon = NULL;
	double deadline, seconds = 60;
	long max_rebuilds = -1, rebuilds = 0;
	int o, r, status = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'f')
			seconds = atof(optarg);
		else if (o == 'n')
			max_rebuilds = atol(optarg);
		else
			return 2;
	}
	if (optind != argc || seconds <= 0)
		return log_error("usage: berth net watch [--for SECONDS] [--rebuilds N]"), 2;
	if (ctx_open(&c, false, true) < 0)
		return 1;
	r = netns_nft_monitor_open(netns_nft_portid(c.nft), &mon);
	if (r < 0)
		return log_error_errno(r, "open the nftables monitor"), 1;
	printf("watching\n");
	fflush(stdout);
	deadline = now_ms() + seconds * 1000;
	while (max_rebuilds < 0 || rebuilds < max_rebuilds) {
		struct pollfd p = { netns_nft_monitor_fd(mon), POLLIN, 0 };
		double left = deadline - now_ms(), t0;
		bool damaged = false;
		size_t n = 0;

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left + 1) <= 0)
			continue;
		t0 = now_ms();
		r = netns_nft_monitor_read(mon, &damaged);
		if (r < 0) {
			log_error_errno(r, "read the nftables monitor");
			status = 1;
			break;
		}
		if (!damaged)
			continue;
		if (watch_rebuild(&c, &n) < 0) {
			status = 1;
			break;
		}
		rebuilds++;
		printf("rebuilt mappings=%zu ms=%.3f\n", n, now_ms() - t0);
		fflush(stdout);
	}
	netns_nft_monitor_close(mon);
	return status;
}

BERTH_COMMAND(net_up, "net up", cmd_up, "Create the bridge and table inet berth (debug)");
BERTH_COMMAND(net_down, "net down", cmd_down, "Delete table inet berth and the bridge (debug)");
BERTH_COMMAND(net_create, "net create", cmd_create, "Create a task network: ID [--none] (debug)");
BERTH_COMMAND(net_map, "net map", cmd_map, "Map host ports to a task: ID [HOST:]PORT[-PORT2][/udp]... (debug)");
BERTH_COMMAND(net_unmap, "net unmap", cmd_unmap, "Remove a task's host port mappings: ID (debug)");
BERTH_COMMAND(net_release, "net release", cmd_release, "Remove a task's network and mappings: ID (debug)");
BERTH_COMMAND(net_ls, "net ls", cmd_ls, "List address leases, recorded mappings and map elements (debug)");
BERTH_COMMAND(net_rebuild, "net rebuild", cmd_rebuild, "Rebuild table inet berth from the port record (debug)");
BERTH_COMMAND(net_watch, "net watch", cmd_watch, "Rebuild table inet berth when others change it (debug)");
