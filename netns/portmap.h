/* netns/portmap.h - berth's record of host port assignments, per task.
 *
 * Leaf module: 0 or -errno, never logs.  The table says which host ports
 * each task holds (tcp/udp, a contiguous block for containerPortRange) and
 * the allocator cursors; it is the desired state the nftables map is built
 * from (netns_nft_rebuild) and the "used" set the allocator starts from.
 * The agent may keep the same facts in its store; `berth net` keeps them in
 * STATE_DIR/netns/ports-<bridge> (a struct statefile).  Parse/format/assign
 * are pure.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "netns/netns.h"
#include "netns/nft.h"
#include "netns/ports.h"

struct portmap_entry {
	char id[NETNS_ID_MAX + 1];
	enum port_proto proto;
	uint16_t host_port;     /* first host port */
	uint16_t port;          /* first container port */
	uint16_t count;         /* ports in the block, >= 1 */
	uint32_t addr;          /* the task's address, host byte order */
};

/* Owned by the caller; portmap_release_table() frees it. */
struct portmap_table {
	uint16_t last[_PORT_PROTO_MAX];
	struct portmap_entry *v;
	size_t n, cap;
};

/* What a task asks for: container ports PORT..PORT+COUNT-1 of PROTO on host
 * ports HOST_PORT.. (0 = dynamic). */
struct portmap_request {
	enum port_proto proto;
	uint16_t port;
	uint16_t count;
	uint16_t host_port;
};

/* Pure.  -EBADMSG for anything malformed or overlapping. */
int portmap_table_parse(const char *text, struct portmap_table *ret);
int portmap_table_format(const struct portmap_table *t, char **ret);
void portmap_release_table(struct portmap_table *t);

/* Pure: marks every entry used in A and restores the cursors. */
int portmap_table_seed(const struct portmap_table *t, struct port_alloc *a);
/* Pure: assigns host ports for REQ (all or nothing: on failure nothing is
 * added to T and A is as before), appending entries for ID at ADDR.  Errors
 * from port_alloc_dynamic/port_alloc_static; *ret_failed = index of the
 * request that failed. */
int portmap_assign(struct portmap_table *t, struct port_alloc *a, const char *id, uint32_t addr,
		   const struct portmap_request *req, size_t n, size_t *ret_failed);
/* Pure: removes ID's entries (releasing them in A when not NULL); returns the count. */
size_t portmap_drop(struct portmap_table *t, struct port_alloc *a, const char *id);
/* Pure: the nftables elements (one per port) of ID's entries, or of all
 * entries when ID is NULL.  *ret is malloc'd (NULL when there are none). */
int portmap_mappings(const struct portmap_table *t, const char *id, struct netns_mapping **ret,
		     size_t *ret_n);

/* The port record, STATE_DIR/netns/ports-BRIDGE (struct statefile): locks it
 * and loads it into *RET (empty when there is none yet).  On failure
 * nothing stays locked. */
struct statefile;
int portmap_record_open(const char *state_dir, const char *bridge, struct statefile *sf,
			struct portmap_table *ret);
/* Writes T as the record (the lock is still the caller's). */
int portmap_record_save(struct statefile *sf, const struct portmap_table *t);

/* Pure: ECS's words for portmap_assign's error R on request Q, into BUF. */
const char *portmap_reason(int r, const struct portmap_request *q, char *buf, size_t size);
