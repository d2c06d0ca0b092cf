/* netns/link.c - the bridge and per-task namespaces, veths, addresses and
 * routes over rtnetlink (libnl-route-3).  One small function per message;
 * deletes are idempotent (STYLE P8). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ip.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "netns/ipam.h"
#include "netns/netns.h"

struct netns_host {
	struct netns_conf conf;
	struct nl_sock *sk;
	bool run_dir_ready;
};

static void rtnl_link_putp(struct rtnl_link **l) { if (*l) rtnl_link_put(*l); }
static void rtnl_addr_putp(struct rtnl_addr **a) { if (*a) rtnl_addr_put(*a); }
static void rtnl_route_putp(struct rtnl_route **r) { if (*r) rtnl_route_put(*r); }
static void nl_addr_putp(struct nl_addr **a) { if (*a) nl_addr_put(*a); }
static void nl_socket_freep(struct nl_sock **s) { if (*s) nl_socket_free(*s); }
static void nl_cache_freep(struct nl_cache **c) { if (*c) nl_cache_free(*c); }

static int rtnl_socket(struct nl_sock **ret)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = netns_nl_errno(nl_connect(sk, NETLINK_ROUTE));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(sk);
	return 0;
}

int netns_host_open(const struct netns_conf *conf, struct netns_host **ret)
{
	_cleanup_free_ struct netns_host *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->conf = *conf;
	r = rtnl_socket(&h->sk);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(h);
	return 0;
}

void netns_host_close(struct netns_host *h)
{
	if (!h)
		return;
	nl_socket_free(h->sk);
	free(h);
}

const struct netns_conf *netns_host_conf(const struct netns_host *h)
{
	return &h->conf;
}

static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret)
{
	return netns_nl_errno(rtnl_link_get_kernel(sk, 0, name, ret));
}

/* Deletes IFNAME; a link that is already gone is fine. */
static int link_del(struct nl_sock *sk, const char *ifname)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = rtnl_link_alloc();
	int r;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, ifname);
	r = netns_nl_errno(rtnl_link_delete(sk, link));
	return r == -ENODEV || r == -ENOENT ? 0 : r;
}

/* Sets IFF_UP (and, with LOCALNET, route_localnet) on IFNAME. */
static int link_up(struct nl_sock *sk, const char *ifname, bool localnet)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *old = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *chg = rtnl_link_alloc();
	int r;

	if (!chg)
		return -ENOMEM;
	r = link_get(sk, ifname, &old);
	if (r < 0)
		return r;
	rtnl_link_set_flags(chg, IFF_UP);
	if (localnet) {
		r = netns_nl_errno(rtnl_link_inet_set_conf(chg, IPV4_DEVCONF_ROUTE_LOCALNET, 1));
		if (r < 0)
			return r;
	}
	return netns_nl_errno(rtnl_link_change(sk, old, chg, 0));
}

static int addr_add(struct nl_sock *sk, int ifindex, uint32_t addr, unsigned prefix)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
	uint32_t be = htonl(addr);
	int r;

	if (!a)
		return -ENOMEM;
	local = nl_addr_build(AF_INET, &be, sizeof(be));
	if (!local)
		return -ENOMEM;
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, AF_INET);
	r = netns_nl_errno(rtnl_addr_set_local(a, local));
	if (r < 0)
		return r;
	r = netns_nl_errno(rtnl_addr_add(sk, a, NLM_F_CREATE));
	return r == -EEXIST ? 0 : r;
}

static int route_add_default(struct nl_sock *sk, int ifindex, uint32_t gateway)
{
	_cleanup_(rtnl_route_putp) struct rtnl_route *rt = rtnl_route_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *dst = NULL, *gw = NULL;
	struct rtnl_nexthop *nh;
	uint32_t any = 0, be = htonl(gateway);
	int r;

	if (!rt)
		return -ENOMEM;
	dst = nl_addr_build(AF_INET, &any, sizeof(any));
	gw = nl_addr_build(AF_INET, &be, sizeof(be));
	nh = rtnl_route_nh_alloc();
	if (!dst || !gw || !nh) {
		if (nh)
			rtnl_route_nh_free(nh);
		return -ENOMEM;
	}
	nl_addr_set_prefixlen(dst, 0);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	r = netns_nl_errno(rtnl_route_set_dst(rt, dst));
	if (r < 0) {
		rtnl_route_nh_free(nh);
		return r;
	}
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(rt, nh);      /* rt owns nh now */
	r = netns_nl_errno(rtnl_route_add(sk, rt, NLM_F_CREATE));
	return r == -EEXIST ? 0 : r;
}

/* The default route's device in the main table: 0 and *ret_ifindex = 0 if none. */
static int default_route_dev(struct nl_sock *sk, int *ret_ifindex)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *o;
	int r;

	r = netns_nl_errno(rtnl_route_alloc_cache(sk, AF_INET, 0, &cache));
	if (r < 0)
		return r;
	*ret_ifindex = 0;
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);
		struct rtnl_nexthop *nh;

		if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || (dst && nl_addr_get_prefixlen(dst) != 0))
			continue;
		if (rtnl_route_get_nnexthops(rt) < 1)
			continue;
		nh = rtnl_route_nexthop_n(rt, 0);
		*ret_ifindex = rtnl_route_nh_get_ifindex(nh);
		break;
	}
	return 0;
}

int netns_uplink_mtu(struct netns_host *h, unsigned *ret)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
	int ifindex = 0, r;

	r = default_route_dev(h->sk, &ifindex);
	if (r < 0)
		return r;
	*ret = NETNS_DEFAULT_MTU;
	if (ifindex > 0 && rtnl_link_get_kernel(h->sk, ifindex, NULL, &l) == 0 && rtnl_link_get_mtu(l) >= 576)
		*ret = rtnl_link_get_mtu(l);
	return 0;
}

static int bridge_create(struct nl_sock *sk, const char *name)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *br = rtnl_link_bridge_alloc();
	int r;

	if (!br)
		return -ENOMEM;
	rtnl_link_set_name(br, name);
	r = netns_nl_errno(rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL));
	return r == -EEXIST ? 0 : r;
}

/* net.ipv4.ip_forward of the current namespace (a sysctl, not a link). */
static int ip_forward_on(void)
{
	char buf[8];
	int r;

	r = read_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", buf, sizeof(buf), NULL);
	if (r < 0)
		return r;
	if (buf[0] == '1')
		return 0;
	return write_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", "1", 1);
}

int netns_bridge_ensure(struct netns_host *h)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *br = NULL;
	int r;

	r = bridge_create(h->sk, h->conf.bridge);
	if (r < 0)
		return r;
	r = link_get(h->sk, h->conf.bridge, &br);
	if (r < 0)
		return r;
	if (!rtnl_link_is_bridge(br))
		return -ENOTUNIQ;      /* the name is taken by another kind of link */
	r = addr_add(h->sk, rtnl_link_get_ifindex(br), ipam_gateway(&h->conf.subnet), h->conf.subnet.prefix);
	if (r < 0)
		return r;
	r = link_up(h->sk, h->conf.bridge, true);
	if (r < 0)
		return r;
	return ip_forward_on();
}

int netns_bridge_delete(struct netns_host *h)
{
	return link_del(h->sk, h->conf.bridge);
}

/* RUN_DIR/netns exists and is a shared mount point (iproute2's recipe). */
static int run_dir_prepare(struct netns_host *h)
{
	char dir[PATH_MAX];

	if (h->run_dir_ready)
		return 0;
	snprintf(dir, sizeof(dir), "%s/netns", h->conf.run_dir);
	if (mkdir(h->conf.run_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL)
			return -errno;
		if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0)
			return -errno;
	}
	h->run_dir_ready = true;
	return 0;
}

/* A new network namespace pinned at PATH (which must not exist).  The
 * calling thread enters it only for the unshare and returns at once. */
static int nsfs_create(const char *path)
{
	_cleanup_close_ int orig = -1, fd = -1;
	int r = 0;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0) {
		r = -errno;
		goto unlink;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		goto unlink;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		r = -errno;
	if (setns(orig, CLONE_NEWNET) < 0)
		abort();        /* stuck in the task's namespace: nothing safe is left to do */
	if (r < 0)
		goto unlink;
	return 0;
unlink:
	unlink(path);
	return r;
}

/* Unmounts and removes PATH; a missing or unmounted file is fine. */
static int nsfs_remove(const char *path)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* An rtnetlink socket bound inside the namespace NSFD. */
static int rtnl_socket_in(int nsfd, struct nl_sock **ret)
{
	_cleanup_close_ int orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int r;

	if (orig < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	r = rtnl_socket(ret);
	if (setns(orig, CLONE_NEWNET) < 0)
		abort();
	return r;
}

static int veth_add(struct nl_sock *sk, const char *name, int master, int nsfd, unsigned mtu)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_veth_alloc();
	struct rtnl_link *peer;

	if (!l)
		return -ENOMEM;
	peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, name);
	rtnl_link_set_master(l, master);
	rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_flags(l, IFF_UP);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_mtu(peer, mtu);
	rtnl_link_set_ns_fd(peer, nsfd);
	rtnl_link_put(peer);
	return netns_nl_errno(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
}

/* Hairpin mode on a bridge port, so a task can reach its own host port:
 * the DNATed packet must leave by the port it came in on.  (AF_BRIDGE
 * RTM_SETLINK with IFLA_PROTINFO, as `bridge link set ... hairpin on`.) */
static int port_hairpin(struct nl_sock *sk, const char *ifname)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
	struct nl_msg *msg;
	struct nlattr *nest;
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
	int r;

	r = link_get(sk, ifname, &l);
	if (r < 0)
		return r;
	ifi.ifi_index = rtnl_link_get_ifindex(l);
	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(nest = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) ||
	    nla_put_u8(msg, IFLA_BRPORT_MODE, 1) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, nest);
	return netns_nl_errno(nl_send_sync(sk, msg));   /* frees msg */
}

/* Inside the task: lo up; for bridge mode eth0 up with ADDR and a default
 * route via the gateway. */
static int task_inside(int nsfd, const struct netns_task *t, bool bridge)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *eth = NULL;
	int r;

	r = rtnl_socket_in(nsfd, &sk);
	if (r < 0)
		return r;
	r = link_up(sk, "lo", false);
	if (r < 0 || !bridge)
		return r;
	r = link_get(sk, "eth0", &eth);
	if (r < 0)
		return r;
	r = addr_add(sk, rtnl_link_get_ifindex(eth), t->addr, t->prefix);
	if (r < 0)
		return r;
	r = link_up(sk, "eth0", false);
	if (r < 0)
		return r;
	return route_add_default(sk, rtnl_link_get_ifindex(eth), t->gateway);
}

static int bridge_ifindex(struct netns_host *h, int *ret)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *br = NULL;
	int r = link_get(h->sk, h->conf.bridge, &br);

	if (r < 0)
		return r;
	*ret = rtnl_link_get_ifindex(br);
	return 0;
}

/* T->addr: the caller's lease, or 0 to acquire one here. */
static int task_bridge(struct netns_host *h, int nsfd, struct netns_task *t)
{
	int master, r;

	r = bridge_ifindex(h, &master);
	if (r < 0)
		return r;
	r = netns_uplink_mtu(h, &t->mtu);
	if (r < 0)
		return r;
	if (!t->addr)
		r = ipam_acquire(h->conf.state_dir, h->conf.bridge, &h->conf.subnet, t->id, &t->addr);
	if (r < 0)
		return r;
	t->gateway = ipam_gateway(&h->conf.subnet);
	t->prefix = h->conf.subnet.prefix;
	netns_veth_name(t->id, t->veth);
	r = link_del(h->sk, t->veth);      /* a stale one from a crash */
	if (r < 0)
		return r;
	r = veth_add(h->sk, t->veth, master, nsfd, t->mtu);
	if (r < 0)
		return r;
	return port_hairpin(h->sk, t->veth);
}

/* Removes what task_create made, but not the lease: for a caller that
 * holds it. */
static int task_unwire(struct netns_host *h, const char *id)
{
	char veth[IFNAMSIZ], path[PATH_MAX];
	int r, first;

	r = netns_task_path(&h->conf, id, path, sizeof(path));
	if (r < 0)
		return r;
	netns_veth_name(id, veth);
	first = link_del(h->sk, veth);
	r = nsfs_remove(path);
	return first ? first : r;
}

/* ADDR: the caller's lease (bridge mode), or 0: acquire (and on failure
 * release) one here. */
static int task_create(struct netns_host *h, const char *id, enum netns_mode mode, uint32_t addr,
		       struct netns_task *ret)
{
	_cleanup_close_ int nsfd = -1;
	struct netns_task t = { .addr = addr };
	int r;

	if (!netns_id_valid(id))
		return -EINVAL;
	snprintf(t.id, sizeof(t.id), "%s", id);
	r = netns_task_path(&h->conf, id, t.path, sizeof(t.path));
	if (r < 0)
		return r;
	r = run_dir_prepare(h);
	if (r < 0)
		return r;
	r = nsfs_create(t.path);
	if (r < 0)
		return r;
	nsfd = open(t.path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		r = -errno;
		goto undo;
	}
	if (mode == NETNS_MODE_BRIDGE) {
		r = task_bridge(h, nsfd, &t);
		if (r < 0)
			goto undo;
	}
	r = task_inside(nsfd, &t, mode == NETNS_MODE_BRIDGE);
	if (r < 0)
		goto undo;
	*ret = t;
	return 0;
undo:
	if (addr)
		task_unwire(h, id);
	else
		netns_task_release(h, id);
	return r;
}

int netns_task_create(struct netns_host *h, const char *id, enum netns_mode mode,
		      struct netns_task *ret)
{
	return task_create(h, id, mode, 0, ret);
}

int netns_task_create_leased(struct netns_host *h, const char *id, uint32_t addr,
			     struct netns_task *ret)
{
	return addr ? task_create(h, id, NETNS_MODE_BRIDGE, addr, ret) : -EINVAL;
}

int netns_run_dir_prepare(struct netns_host *h)
{
	return run_dir_prepare(h);
}

int netns_task_release(struct netns_host *h, const char *id)
{
	int first = task_unwire(h, id), r;

	r = ipam_release(h->conf.state_dir, h->conf.bridge, id);
	return first ? first : r;
}
