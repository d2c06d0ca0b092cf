/* netns/netns.h - task networking for bridge/awsvpc/none tasks: the bridge,
 * a network namespace per task, its veth pair, address and routes.
 *
 * Leaf module (STYLE P1/P8): every function returns 0 or a negative errno
 * and never logs.  libnl's -NLE_* codes are translated in one place
 * (netns_nl_errno); nothing above netns/ sees them.  Links, addresses and
 * routes go over rtnetlink (libnl-route-3); nothing forks ip(8).
 *
 * Namespaces: berth works in the network namespace of the calling thread
 * (the "host"); a task's namespace is pinned by a bind mount of its nsfs
 * file at RUN_DIR/netns/<id>, so it outlives every process in it and a
 * container joins it with setns(open(path)).  RUN_DIR/netns is made a shared
 * mount point (as iproute2 does for /run/netns) so an unmount also reaches
 * mount namespaces copied in the meantime.
 *
 * Per task (bridge mode):
 *   host:  veth "bv<12 hex>" (from a hash of the id), master = bridge, up
 *   task:  eth0 (the veth peer), ADDR/prefix, default via the bridge address,
 *          lo up; MTU of both ends = the host uplink's (the default route's
 *          device), else 1500
 *   IPAM:  a lease for the id (netns/ipam.h)
 * Mode none gets only the namespace with lo up.
 *
 * Ownership: struct netns_host owns its rtnetlink socket; the caller owns
 * the struct (netns_host_open/netns_host_close).  struct netns_task is a plain
 * value.  A thread that calls into this module must not be in the middle of
 * its own setns() dance (we enter task namespaces briefly and return).
 */
#pragma once

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define NETNS_ID_MAX 64
#define NETNS_DEFAULT_BRIDGE "berth0"
/* Private, and clear of Docker's 172.17.0.0/16 and its default pools
 * (172.17-31/16, 192.168/16), of AWS's default VPC (172.31.0.0/16, where
 * ECS hosts often live), of podman's 10.88.0.0/16 and of the usual home LANs. */
#define NETNS_DEFAULT_SUBNET "10.213.0.0/16"
#define NETNS_DEFAULT_MTU 1500

/* A task id usable as a file name and in messages: 1-64 of [A-Za-z0-9_.-],
 * not starting with '.' or '-'. */
bool netns_id_valid(const char *id);

struct netns_subnet {
	uint32_t net;        /* host byte order, host bits zero */
	unsigned prefix;     /* 8..30 */
};

struct netns_conf {
	char bridge[IFNAMSIZ];           /* BERTH_BRIDGE */
	struct netns_subnet subnet;      /* BERTH_BRIDGE_SUBNET */
	char run_dir[PATH_MAX - 64];     /* BERTH_RUN_DIR: nsfs files in run_dir/netns */
	char state_dir[PATH_MAX - 64];   /* BERTH_STATE_DIR: leases in state_dir/netns */
};

/* Fills CONF; NULL for a default (berth0, NETNS_DEFAULT_SUBNET, /run/berth,
 * /var/lib/berth).  -EINVAL for a bad bridge name, subnet or relative dir. */
int netns_conf_init(struct netns_conf *conf, const char *bridge, const char *subnet,
		    const char *run_dir, const char *state_dir);

/* libnl's -NLE_* as -errno (the one place that knows libnl's codes). */
int netns_nl_errno(int nle);

struct netns_host;

/* Opens an rtnetlink socket in the calling thread's network namespace. */
int netns_host_open(const struct netns_conf *conf, struct netns_host **ret);
void netns_host_close(struct netns_host *h);
const struct netns_conf *netns_host_conf(const struct netns_host *h);

/* The MTU of the device holding the default IPv4 route, else 1500. */
int netns_uplink_mtu(struct netns_host *h, unsigned *ret);

/* Makes sure the bridge exists with the gateway address (first host of the
 * subnet), is up, has route_localnet on (so 127.0.0.1:hostPort can be
 * DNATed onto it) and that IPv4 forwarding is on in this namespace.
 * Idempotent. */
int netns_bridge_ensure(struct netns_host *h);
/* Deletes the bridge; a missing bridge is fine. */
int netns_bridge_delete(struct netns_host *h);

enum netns_mode {
	NETNS_MODE_BRIDGE,  /* veth on the bridge, address, default route */
	NETNS_MODE_NONE,    /* loopback only */
};

struct netns_task {
	char id[NETNS_ID_MAX + 1];
	char path[PATH_MAX];     /* the pinned nsfs file */
	char veth[IFNAMSIZ];     /* host end; "" for mode none */
	uint32_t addr;           /* host byte order; 0 for mode none */
	uint32_t gateway;
	unsigned prefix;
	unsigned mtu;
};

/* The host-side veth name for ID ("bv" + 12 hex digits of a 64-bit FNV-1a). */
void netns_veth_name(const char *id, char ret[IFNAMSIZ]);
/* The nsfs path for ID. */
int netns_task_path(const struct netns_conf *conf, const char *id, char *buf, size_t size);

/* Creates ID's network.  -EEXIST if its namespace file is already there
 * (release first); -EINVAL for a bad id; -EADDRNOTAVAIL when the subnet is
 * full.  On failure everything created is undone. */
int netns_task_create(struct netns_host *h, const char *id, enum netns_mode mode,
		      struct netns_task *ret);
/* netns_task_create in bridge mode at ADDR, a lease the caller already
 * holds (ipam_acquire for ID): the lease is neither taken nor, on failure,
 * released here, so the address can be chosen in one process and the
 * namespace made in another.  On failure the veth and namespace are undone. */
int netns_task_create_leased(struct netns_host *h, const char *id, uint32_t addr,
			     struct netns_task *ret);
/* Makes RUN_DIR/netns a shared mount point, as netns_task_create does
 * first; calling it once before creating namespaces from several processes
 * at once keeps them from each stacking a bind mount there.  Idempotent. */
int netns_run_dir_prepare(struct netns_host *h);
/* Removes ID's veth, namespace file and lease.  Each step is an idempotent
 * delete, so this also cleans up after a crash half-way through create; all
 * steps run, the first error is returned. */
int netns_task_release(struct netns_host *h, const char *id);
