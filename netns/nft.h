/* netns/nft.h - berth's nftables table over libnftnl/libmnl (no nft(8)).
 *
 * Leaf module: 0 or -errno, never logs.  berth owns one table, `inet berth`,
 * wholly; it touches no other table or chain, so a host firewall keeps
 * working.  The table (ipv4 only; BRIDGE and SUBNET from struct netns_conf):
 *
 *   map ports { type inet_proto . inet_service : ipv4_addr . inet_service }
 *   chain prerouting  { type nat hook prerouting priority -100
 *       meta nfproto ipv4 fib daddr type local
 *           dnat ip to meta l4proto . th dport map @ports }
 *   chain output      { type nat hook output priority -100;  the same rule:
 *       connections from the host to 127.0.0.1 or its own addresses }
 *   chain postrouting { type nat hook postrouting priority 100
 *       ip saddr SUBNET oifname != BRIDGE masquerade            # task egress
 *       oifname BRIDGE ip saddr 127.0.0.0/8 masquerade          # from 127.0.0.1
 *       oifname BRIDGE ct status dnat ip saddr SUBNET masquerade } # hairpin
 *   chain forward     { type filter hook forward priority 0
 *       ct state established,related accept
 *       ct status dnat accept
 *       iifname BRIDGE accept }
 *
 * Traffic from outside keeps its source address (DNAT only).  Traffic from a
 * task to a host port on the same bridge is masqueraded to the bridge
 * address (the reply would otherwise bypass the host and the un-DNAT), and
 * so is traffic from 127.0.0.1 (which needs route_localnet on the bridge:
 * netns_bridge_ensure sets it).
 *
 * A packet's port lookup is one hash lookup in @ports, whatever the number
 * of mappings.  Adding or removing mappings is one netlink batch (one
 * transaction) of NEWSETELEM/DELSETELEM messages, never a dump.
 *
 * Ownership: struct netns_nft owns its nfnetlink socket; the caller owns the
 * struct.  struct netns_nft_monitor likewise.  Neither is thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netns/netns.h"
#include "netns/ports.h"

#define NETNS_NFT_TABLE "berth"
#define NETNS_NFT_MAP "ports"

/* One host port -> task address:port.  A port range maps to one element per port. */
struct netns_mapping {
	enum port_proto proto;
	uint16_t host_port;
	uint32_t addr;          /* task address, host byte order */
	uint16_t port;          /* container port */
};

struct netns_nft;

int netns_nft_open(struct netns_nft **ret);
void netns_nft_close(struct netns_nft *n);
/* The socket's netlink port id (to tell our own changes apart in the monitor). */
uint32_t netns_nft_portid(const struct netns_nft *n);

/* One transaction: deletes `inet berth` if it exists and creates it anew
 * from CONF with exactly the mappings M (restart reconciliation, repair). */
int netns_nft_rebuild(struct netns_nft *n, const struct netns_conf *conf,
		      const struct netns_mapping *m, size_t n_m);
/* One transaction adding M.  Re-adding an identical element is fine;
 * -EBUSY/-EEXIST when a host port already maps elsewhere; -ENOENT when the
 * table or map is missing (rebuild).  Nothing is added on failure. */
int netns_nft_add(struct netns_nft *n, const struct netns_mapping *m, size_t n_m);
/* One transaction removing M.  Elements already gone are fine (then each
 * element is removed in its own transaction; that path is only taken after
 * outside interference). */
int netns_nft_del(struct netns_nft *n, const struct netns_mapping *m, size_t n_m);
/* Dumps the map (for verification, listing and the debug CLI - not for the
 * per-task path).  *ret is malloc'd.  -ENOENT when the table or map is missing. */
int netns_nft_list(struct netns_nft *n, struct netns_mapping **ret, size_t *ret_n);
/* Deletes the table; a missing table is fine. */
int netns_nft_delete_table(struct netns_nft *n);

/* Watches NFNLGRP_NFTABLES for changes to `inet berth` made by anyone but
 * the socket IGNORE_PORTID (netns_nft_portid of the caller's handle).
 * Another berth process (e.g. `berth net`) counts as someone else. */
struct netns_nft_monitor;
int netns_nft_monitor_open(uint32_t ignore_portid, struct netns_nft_monitor **ret);
void netns_nft_monitor_close(struct netns_nft_monitor *m);
/* Non-blocking fd for the event loop: readable when events are pending. */
int netns_nft_monitor_fd(const struct netns_nft_monitor *m);
/* Reads every pending event; *ret_damaged is set true if someone else
 * changed, flushed or deleted anything in `inet berth`, or events were lost
 * (ENOBUFS) - then the caller rebuilds.  Leaves it alone otherwise. */
int netns_nft_monitor_read(struct netns_nft_monitor *m, bool *ret_damaged);

/* Exposed for the unit tests (built and parsed back without a kernel). */
struct nftnl_set;
struct nftnl_rule;
/* The map's elements for M (key and data only when WITH_DATA is false). */
struct nftnl_set *netns_nft_elems(const struct netns_mapping *m, size_t n_m, bool with_data);
/* Decodes one element's key and data; -EBADMSG for foreign shapes. */
int netns_nft_decode(const void *key, uint32_t klen, const void *data, uint32_t dlen,
		     struct netns_mapping *ret);
/* The rules of the table for CONF in order (see above), NULL-terminated;
 * caller frees each with nftnl_rule_free and the array with free. */
struct nftnl_rule **netns_nft_rules(const struct netns_conf *conf);
