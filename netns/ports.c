/* netns/ports.c - host port allocator (pure) and its bind() probe. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/config.h"
#include "lib/fileio.h"
#include "netns/ports.h"

static const char *const proto_names[] = {
#define X(id, str) [PORT_##id] = str,
	PORT_PROTO_LIST(X)
#undef X
};

static const int proto_ipproto[] = { [PORT_TCP] = IPPROTO_TCP, [PORT_UDP] = IPPROTO_UDP };

const char *port_proto_to_string(enum port_proto p)
{
	return (unsigned)p < _PORT_PROTO_MAX ? proto_names[p] : "?";
}

int port_proto_from_string(const char *s, enum port_proto *ret)
{
	for (unsigned i = 0; i < _PORT_PROTO_MAX; i++)
		if (strcmp(s, proto_names[i]) == 0) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

int port_proto_ipproto(enum port_proto p)
{
	return proto_ipproto[p];
}

/* "a b" (whitespace separated, as the kernel prints it), 1 <= a <= b. */
static int parse_kernel_range(const char *s, struct port_range *ret)
{
	unsigned a, b;
	int n = 0;

	if (sscanf(s, "%u %u %n", &a, &b, &n) != 2 || s[n] != '\0')
		return -EINVAL;
	if (a < 1 || a > b || b > 65535)
		return -EINVAL;
	*ret = (struct port_range){ (uint16_t)a, (uint16_t)b };
	return 0;
}

enum port_range_source port_range_choose(const char *configured, const char *kernel_text,
					 struct port_range *ret)
{
	uint16_t a, b;

	if (configured && config_parse_port_range(configured, &a, &b) == 0) {
		*ret = (struct port_range){ a, b };
		return PORT_RANGE_CONFIG;
	}
	if (kernel_text && parse_kernel_range(kernel_text, ret) == 0)
		return PORT_RANGE_KERNEL;
	*ret = PORT_RANGE_DEFAULT;
	return PORT_RANGE_BUILTIN;
}

enum port_range_source port_range_load(const char *configured, struct port_range *ret)
{
	char buf[64];

	if (read_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_local_port_range", buf, sizeof(buf), NULL) < 0)
		return port_range_choose(configured, NULL, ret);
	return port_range_choose(configured, buf, ret);
}

static void cJSON_Deletep(cJSON **j)
{
	cJSON_Delete(*j);
}

int port_list_parse(const char *s, uint16_t *ret, size_t max, size_t *ret_n)
{
	_cleanup_(cJSON_Deletep) cJSON *j = NULL;
	const char *end = NULL;
	cJSON *it;
	size_t n = 0;

	j = cJSON_ParseWithOpts(s, &end, true);
	if (!j || !cJSON_IsArray(j))
		return -EINVAL;
	cJSON_ArrayForEach(it, j) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 65535 ||
		    it->valuedouble != (double)it->valueint)
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		ret[n++] = (uint16_t)it->valueint;
	}
	*ret_n = n;
	return 0;
}

bool port_probe_bind(enum port_proto proto, uint16_t port, void *userdata)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;

	(void)userdata;
	fd = socket(AF_INET, (proto == PORT_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (proto == PORT_TCP && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return false;
	return bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
}

static bool bit_get(const uint64_t *bits, uint16_t port)
{
	return bits[port / 64] & (1ULL << (port % 64));
}

static void bit_set(uint64_t *bits, uint16_t port, bool on)
{
	if (on)
		bits[port / 64] |= 1ULL << (port % 64);
	else
		bits[port / 64] &= ~(1ULL << (port % 64));
}

void port_alloc_init(struct port_alloc *a, struct port_range range, port_probe_fn probe,
		     void *probe_data)
{
	memset(a, 0, sizeof(*a));
	a->range = range;
	a->probe = probe;
	a->probe_data = probe_data;
}

int port_alloc_reserve(struct port_alloc *a, enum port_proto proto, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == 0)
			return -EINVAL;
	for (size_t i = 0; i < n; i++)
		bit_set(a->reserved[proto], ports[i], true);
	return 0;
}

bool port_alloc_is_reserved(const struct port_alloc *a, enum port_proto proto, uint16_t port)
{
	return bit_get(a->reserved[proto], port);
}

bool port_alloc_is_used(const struct port_alloc *a, enum port_proto proto, uint16_t port)
{
	return bit_get(a->used[proto], port);
}

static bool block_valid(uint16_t first, unsigned count)
{
	return first != 0 && count != 0 && (unsigned)first + count - 1 <= 65535;
}

static void mark(struct port_alloc *a, enum port_proto proto, uint16_t first, unsigned count, bool on)
{
	for (unsigned i = 0; i < count; i++)
		bit_set(a->used[proto], (uint16_t)(first + i), on);
}

/* Why PORT cannot be claimed: 0, -EACCES (reserved), -EADDRINUSE. */
static int port_check(const struct port_alloc *a, enum port_proto proto, uint16_t port)
{
	if (bit_get(a->reserved[proto], port))
		return -EACCES;
	if (bit_get(a->used[proto], port))
		return -EADDRINUSE;
	if (a->probe && !a->probe(proto, port, a->probe_data))
		return -EADDRINUSE;
	return 0;
}

/* Scans blocks starting at FROM..TO (block starts, inclusive).  Returns the
 * first free block's start, or 0. */
static uint16_t scan(const struct port_alloc *a, enum port_proto proto, unsigned from, unsigned to,
		     unsigned count)
{
	unsigned p = from;

	while (p <= to) {
		unsigned i;

		for (i = 0; i < count; i++)
			if (port_check(a, proto, (uint16_t)(p + i)) < 0)
				break;
		if (i == count)
			return (uint16_t)p;
		p += i + 1;     /* no block containing the busy port can be free */
	}
	return 0;
}

int port_alloc_dynamic(struct port_alloc *a, enum port_proto proto, unsigned count,
		       uint16_t *ret_first)
{
	unsigned first = a->range.first, last_start, start;
	uint16_t found;

	if (count == 0 || count > (unsigned)a->range.last - a->range.first + 1)
		return -EINVAL;
	last_start = a->range.last - count + 1;
	start = a->last[proto] ? (unsigned)a->last[proto] + 1 : first;
	if (start < first || start > last_start)
		start = first;

	found = scan(a, proto, start, last_start, count);
	if (!found && start > first)
		found = scan(a, proto, first, start - 1, count);
	if (!found)
		return -EADDRNOTAVAIL;
	mark(a, proto, found, count, true);
	a->last[proto] = (uint16_t)(found + count - 1);
	*ret_first = found;
	return 0;
}

int port_alloc_static(struct port_alloc *a, enum port_proto proto, uint16_t first, unsigned count)
{
	int r;

	if (!block_valid(first, count))
		return -EINVAL;
	for (unsigned i = 0; i < count; i++)
		if (bit_get(a->reserved[proto], (uint16_t)(first + i)))
			return -EACCES;
	for (unsigned i = 0; i < count; i++) {
		r = port_check(a, proto, (uint16_t)(first + i));
		if (r < 0)
			return r;
	}
	mark(a, proto, first, count, true);
	return 0;
}

int port_alloc_mark(struct port_alloc *a, enum port_proto proto, uint16_t first, unsigned count)
{
	if (!block_valid(first, count))
		return -EINVAL;
	mark(a, proto, first, count, true);
	return 0;
}

void port_alloc_release(struct port_alloc *a, enum port_proto proto, uint16_t first, unsigned count)
{
	if (!block_valid(first, count))
		return;
	mark(a, proto, first, count, false);
}
