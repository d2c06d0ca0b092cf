/* netns/ipam.h - persistent IPv4 address leases on the bridge subnet.
 *
 * Leaf module: 0 or -errno, never logs.
 *
 * The subnet's first host address is the bridge's (the tasks' gateway); the
 * tasks get the others, never the network or broadcast address.  A lease is
 * keyed by task id: acquiring again for the same id returns the same address
 * (so a retried or restarted start is idempotent), and a new lease takes the
 * next free address after the last one handed out, wrapping around, so a
 * just-released address is not reused at once.
 *
 * State: STATE_DIR/netns/ipam-<bridge>, a small text file rewritten whole
 * (temp file, fsync, rename) under an exclusive flock on ipam-<bridge>.lock,
 * so concurrent berth processes never hand out one address twice and leases
 * survive restarts and crashes.  The parse/format/pick core is pure.
 */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "netns/netns.h"

/* "A.B.C.D/N" with 8 <= N <= 30 and no host bits set.  -EINVAL otherwise. */
int ipam_subnet_parse(const char *cidr, struct netns_subnet *ret);
/* The bridge's (gateway) address: the first host address. */
uint32_t ipam_gateway(const struct netns_subnet *sn);
/* "A.B.C.D" into BUF (at least INET_ADDRSTRLEN). */
const char *ipam_ntoa(uint32_t addr, char *buf);

struct ipam_lease {
	uint32_t addr;                  /* host byte order */
	char id[NETNS_ID_MAX + 1];
};

/* The lease table.  Owned by the caller; ipam_release_table() frees it. */
struct ipam_table {
	uint32_t last;                  /* last address handed out, 0 = none */
	struct ipam_lease *leases;
	size_t n, cap;
};

/* Pure: parses the state file's text.  -EBADMSG for anything malformed
 * (bad header, bad address, bad id, duplicate address or id). */
int ipam_table_parse(const char *text, struct ipam_table *ret);
/* Pure: the state file's text (malloc'd). */
int ipam_table_format(const struct ipam_table *t, char **ret);
/* Pure: the lease of ID, or NULL. */
const struct ipam_lease *ipam_table_find(const struct ipam_table *t, const char *id);
/* Pure: ID's address, existing or new.  -EADDRNOTAVAIL when the subnet is
 * full, -EINVAL for a bad id. */
int ipam_table_pick(struct ipam_table *t, const struct netns_subnet *sn, const char *id, uint32_t *ret);
/* Pure: drops ID's lease; returns 1 if there was one, 0 if not. */
int ipam_table_drop(struct ipam_table *t, const char *id);
void ipam_release_table(struct ipam_table *t);

/* File-backed: lock, load, change, save.  STATE_DIR is BERTH_STATE_DIR;
 * BRIDGE names the file.  Acquire is idempotent per id; release of an id
 * without a lease succeeds. */
int ipam_acquire(const char *state_dir, const char *bridge, const struct netns_subnet *sn,
		 const char *id, uint32_t *ret);
int ipam_release(const char *state_dir, const char *bridge, const char *id);
/* Loads the table (for listing and reconcile); caller frees it. */
int ipam_load(const char *state_dir, const char *bridge, struct ipam_table *ret);
