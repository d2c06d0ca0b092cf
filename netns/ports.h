/* netns/ports.h - host ports for bridge-mode port mappings (ECS-REFERENCE §3).
 *
 * Leaf module: 0 or -errno, never logs.  The allocator is pure: it keeps
 * which host ports berth holds (per protocol), the reserved ports and the
 * "last assigned" cursor; whether the host itself uses a port is asked of an
 * injectable probe (port_probe_bind in production, a table in tests).
 *
 * Why berth keeps its own "used" set: with DNAT there is no userspace proxy
 * holding the host port open, so bind() alone cannot see ports berth has
 * already mapped.  A port is handed out only if it is inside the range, not
 * reserved, not held by berth and the probe says the host can bind it.
 *
 * Dynamic allocation (as the ECS agent): scan from last+1 to the end of the
 * range, then wrap to the start; for COUNT > 1 the ports are contiguous.
 * Unlike the agent, reserved ports are skipped by the dynamic allocator too.
 *
 * Ownership: struct port_alloc is a plain value (about 32 KiB, no pointers
 * besides the probe's userdata); the caller owns it and serialises access.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define PORT_PROTO_LIST(X) \
	X(TCP, "tcp")      \
	X(UDP, "udp")

enum port_proto {
#define X(id, str) PORT_##id,
	PORT_PROTO_LIST(X)
#undef X
	_PORT_PROTO_MAX,
};

const char *port_proto_to_string(enum port_proto p);
/* "tcp" / "udp" (case-sensitive, as ECS).  -EINVAL otherwise. */
int port_proto_from_string(const char *s, enum port_proto *ret);
/* IPPROTO_TCP / IPPROTO_UDP. */
int port_proto_ipproto(enum port_proto p);

struct port_range {
	uint16_t first, last;   /* inclusive, 1 <= first <= last */
};

#define PORT_RANGE_DEFAULT ((struct port_range){ 49153, 65535 })

/* Where the dynamic range came from. */
enum port_range_source { PORT_RANGE_CONFIG, PORT_RANGE_KERNEL, PORT_RANGE_BUILTIN };

/* Pure, ECS rules: CONFIGURED ("START-END", BERTH_/ECS_DYNAMIC_HOST_PORT_RANGE)
 * if set and valid; else KERNEL_TEXT (the text of ip_local_port_range, two
 * numbers) if given and valid; else 49153-65535.  Never fails. */
enum port_range_source port_range_choose(const char *configured, const char *kernel_text,
					 struct port_range *ret);
/* Reads /proc/sys/net/ipv4/ip_local_port_range of the current network
 * namespace and applies port_range_choose. */
enum port_range_source port_range_load(const char *configured, struct port_range *ret);

/* Pure: a JSON array of ports ("[22, 2375]") as BERTH_RESERVED_PORTS.  Fills
 * up to MAX ports into RET, *ret_n = count.  -EINVAL for anything else
 * (numbers outside 1-65535, non-integers, trailing junk), -E2BIG over MAX. */
int port_list_parse(const char *s, uint16_t *ret, size_t max, size_t *ret_n);

/* Returns true when the host can use PORT for PROTO right now. */
typedef bool (*port_probe_fn)(enum port_proto proto, uint16_t port, void *userdata);
/* The production probe: bind() an AF_INET socket on 0.0.0.0:PORT (tcp with
 * SO_REUSEADDR, as the agent's net.Listen; udp plain) and close it. */
bool port_probe_bind(enum port_proto proto, uint16_t port, void *userdata);

struct port_alloc {
	struct port_range range;
	uint16_t last[_PORT_PROTO_MAX];             /* 0: nothing assigned yet */
	uint64_t used[_PORT_PROTO_MAX][1024];       /* bit per port: held by berth */
	uint64_t reserved[_PORT_PROTO_MAX][1024];   /* bit per port: never hand out */
	port_probe_fn probe;
	void *probe_data;
};

/* Empty allocator over RANGE (must be valid).  PROBE may be NULL (no host check). */
void port_alloc_init(struct port_alloc *a, struct port_range range, port_probe_fn probe,
		     void *probe_data);
/* Marks ports reserved for PROTO.  -EINVAL for port 0. */
int port_alloc_reserve(struct port_alloc *a, enum port_proto proto, const uint16_t *ports, size_t n);
bool port_alloc_is_reserved(const struct port_alloc *a, enum port_proto proto, uint16_t port);
bool port_alloc_is_used(const struct port_alloc *a, enum port_proto proto, uint16_t port);

/* Picks COUNT contiguous free ports in the range, next after the last
 * assignment with wrap-around, marks them used and returns the first.
 * -EINVAL for COUNT 0 or larger than the range, -EADDRNOTAVAIL when no block
 * is free (ECS: "a host port is unavailable"). */
int port_alloc_dynamic(struct port_alloc *a, enum port_proto proto, unsigned count,
		       uint16_t *ret_first);
/* Claims the static block FIRST..FIRST+COUNT-1 (any port, inside the range or
 * not).  -EINVAL port 0 / overflow, -EACCES reserved, -EADDRINUSE held by
 * berth or the probe failed.  Nothing is marked on failure. */
int port_alloc_static(struct port_alloc *a, enum port_proto proto, uint16_t first, unsigned count);
/* Marks a block used without probing (restoring state after a restart).
 * -EINVAL for port 0 / overflow. */
int port_alloc_mark(struct port_alloc *a, enum port_proto proto, uint16_t first, unsigned count);
/* Releases a block; releasing a free port is fine. */
void port_alloc_release(struct port_alloc *a, enum port_proto proto, uint16_t first, unsigned count);

/* The allocator as configured: RANGE (BERTH_DYNAMIC_HOST_PORT_RANGE, may be
 * NULL, see port_range_load) and the reserved ports, JSON lists as
 * BERTH_RESERVED_PORTS(_UDP) (NULL = none).  *ret is malloc'd.  -EINVAL for
 * a bad list (*ret_bad = the text), -E2BIG for more than 128 ports. */
int port_alloc_configured(const char *range, const char *reserved_tcp, const char *reserved_udp,
			  port_probe_fn probe, struct port_alloc **ret, const char **ret_bad);
