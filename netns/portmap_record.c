/* netns/portmap_record.c - the port record on disk, the configured
 * allocator and the words for allocation failures: shared by the agent and
 * `berth net`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "netns/portmap.h"
#include "netns/statefile.h"

#define MAX_RESERVED 128

int portmap_record_open(const char *state_dir, const char *bridge, struct statefile *sf,
			struct portmap_table *ret)
{
	_cleanup_free_ char *text = NULL;
	struct portmap_table t = { 0 };
	char name[32];
	int r;

	snprintf(name, sizeof(name), "ports-%s", bridge);
	r = statefile_lock(state_dir, name, sf);
	if (r < 0)
		return r;
	r = statefile_read(sf, &text);
	if (r == 0 && text)
		r = portmap_table_parse(text, &t);
	if (r < 0) {
		statefile_unlock(sf);
		return r;
	}
	*ret = t;
	return 0;
}

int portmap_record_save(struct statefile *sf, const struct portmap_table *t)
{
	_cleanup_free_ char *text = NULL;
	int r = portmap_table_format(t, &text);

	return r < 0 ? r : statefile_write(sf, text);
}

const char *portmap_reason(int r, const struct portmap_request *q, char *buf, size_t size)
{
	const char *proto = port_proto_to_string(q->proto);

	switch (r) {
	case -EACCES:
		snprintf(buf, size, "host port %u/%s is reserved", q->host_port, proto);
		break;
	case -EADDRINUSE:
		snprintf(buf, size, "host port %u/%s%s is already in use", q->host_port, proto,
			 q->count > 1 ? " (or one after it)" : "");
		break;
	case -EADDRNOTAVAIL:
		if (q->count > 1)
			snprintf(buf, size, "%u contiguous host ports are unavailable", q->count);
		else
			snprintf(buf, size, "a host port is unavailable");
		break;
	default:
		snprintf(buf, size, "%s", strerror(-r));
	}
	return buf;
}

int port_alloc_configured(const char *range, const char *reserved_tcp, const char *reserved_udp,
			  port_probe_fn probe, struct port_alloc **ret, const char **ret_bad)
{
	const char *lists[_PORT_PROTO_MAX] = { [PORT_TCP] = reserved_tcp, [PORT_UDP] = reserved_udp };
	_cleanup_free_ struct port_alloc *a = malloc(sizeof(*a));
	uint16_t res[MAX_RESERVED];
	struct port_range pr;
	size_t n;
	int r;

	if (!a)
		return -ENOMEM;
	port_range_load(range, &pr);
	port_alloc_init(a, pr, probe, NULL);
	for (int p = 0; p < _PORT_PROTO_MAX; p++) {
		if (!lists[p])
			continue;
		r = port_list_parse(lists[p], res, MAX_RESERVED, &n);
		if (r == 0)
			r = port_alloc_reserve(a, (enum port_proto)p, res, n);
		if (r < 0) {
			*ret_bad = lists[p];
			return r;
		}
	}
	*ret = TAKE_PTR(a);
	return 0;
}
