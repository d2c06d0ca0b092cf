/* netns/portmap.c - the host port assignment table (see portmap.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "netns/ipam.h"
#include "netns/portmap.h"

#define PORTMAP_HEADER "berth-ports 1\n"

static int entry_add(struct portmap_table *t, const struct portmap_entry *e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct portmap_entry *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *e;
	return 0;
}

static bool overlaps(const struct portmap_table *t, const struct portmap_entry *e)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct portmap_entry *o = &t->v[i];

		if (o->proto == e->proto && o->host_port < e->host_port + e->count &&
		    e->host_port < o->host_port + o->count)
			return true;
	}
	return false;
}

static int parse_u16(const char *s, unsigned min, uint16_t *ret)
{
	char *end;
	unsigned long v;

	if (!(*s >= '0' && *s <= '9'))
		return -EBADMSG;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > 65535)
		return -EBADMSG;
	*ret = (uint16_t)v;
	return 0;
}

/* "map ID PROTO HOSTPORT COUNT ADDR PORT" split into 7 words. */
static int parse_map(struct portmap_table *t, char **w)
{
	struct portmap_entry e = { 0 };
	struct in_addr a;

	if (!netns_id_valid(w[1]) || port_proto_from_string(w[2], &e.proto) < 0 ||
	    parse_u16(w[3], 1, &e.host_port) < 0 || parse_u16(w[4], 1, &e.count) < 0 ||
	    inet_pton(AF_INET, w[5], &a) != 1 || parse_u16(w[6], 1, &e.port) < 0)
		return -EBADMSG;
	if ((unsigned)e.host_port + e.count - 1 > 65535 || (unsigned)e.port + e.count - 1 > 65535)
		return -EBADMSG;
	snprintf(e.id, sizeof(e.id), "%s", w[1]);
	e.addr = ntohl(a.s_addr);
	if (overlaps(t, &e))
		return -EBADMSG;
	return entry_add(t, &e);
}

static int parse_line(struct portmap_table *t, char *line)
{
	char *w[8], *save = NULL;
	size_t n = 0;
	enum port_proto p;

	for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n == ARRAY_SIZE(w))
			return -EBADMSG;
		w[n++] = tok;
	}
	if (n == 3 && strcmp(w[0], "last") == 0) {
		if (port_proto_from_string(w[1], &p) < 0)
			return -EBADMSG;
		return parse_u16(w[2], 0, &t->last[p]);
	}
	if (n == 7 && strcmp(w[0], "map") == 0)
		return parse_map(t, w);
	return -EBADMSG;
}

int portmap_table_parse(const char *text, struct portmap_table *ret)
{
	_cleanup_free_ char *copy = NULL;
	struct portmap_table t = { 0 };
	char *line, *next;
	int r = 0;

	if (strncmp(text, PORTMAP_HEADER, strlen(PORTMAP_HEADER)) != 0)
		return -EBADMSG;
	copy = strdup(text + strlen(PORTMAP_HEADER));
	if (!copy)
		return -ENOMEM;
	for (line = copy; *line; line = next) {
		next = strchr(line, '\n');
		if (!next) {
			r = -EBADMSG;
			break;
		}
		*next++ = '\0';
		r = parse_line(&t, line);
		if (r < 0)
			break;
	}
	if (r < 0) {
		portmap_release_table(&t);
		return r;
	}
	*ret = t;
	return 0;
}

int portmap_table_format(const struct portmap_table *t, char **ret)
{
	char *buf = NULL, a[INET_ADDRSTRLEN];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fputs(PORTMAP_HEADER, f);
	for (unsigned p = 0; p < _PORT_PROTO_MAX; p++)
		fprintf(f, "last %s %u\n", port_proto_to_string(p), t->last[p]);
	for (size_t i = 0; i < t->n; i++) {
		const struct portmap_entry *e = &t->v[i];

		fprintf(f, "map %s %s %u %u %s %u\n", e->id, port_proto_to_string(e->proto), e->host_port,
			e->count, ipam_ntoa(e->addr, a), e->port);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

void portmap_release_table(struct portmap_table *t)
{
	free(t->v);
	*t = (struct portmap_table){ 0 };
}

int portmap_table_seed(const struct portmap_table *t, struct port_alloc *a)
{
	int r;

	for (size_t i = 0; i < t->n; i++) {
		r = port_alloc_mark(a, t->v[i].proto, t->v[i].host_port, t->v[i].count);
		if (r < 0)
			return r;
	}
	memcpy(a->last, t->last, sizeof(a->last));
	return 0;
}

int portmap_assign(struct portmap_table *t, struct port_alloc *a, const char *id, uint32_t addr,
		   const struct portmap_request *req, size_t n, size_t *ret_failed)
{
	uint16_t last[_PORT_PROTO_MAX];
	size_t before = t->n, i;
	int r = 0;

	if (!netns_id_valid(id))
		return -EINVAL;
	memcpy(last, a->last, sizeof(last));
	for (i = 0; i < n; i++) {
		struct portmap_entry e = { .proto = req[i].proto, .port = req[i].port,
					   .count = req[i].count, .addr = addr };

		snprintf(e.id, sizeof(e.id), "%s", id);
		if (e.count == 0 || e.port == 0 || (unsigned)e.port + e.count - 1 > 65535) {
			r = -EINVAL;
			break;
		}
		if (req[i].host_port)
			r = port_alloc_static(a, e.proto, req[i].host_port, e.count);
		else
			r = port_alloc_dynamic(a, e.proto, e.count, &e.host_port);
		if (r < 0)
			break;
		if (req[i].host_port)
			e.host_port = req[i].host_port;
		r = entry_add(t, &e);
		if (r < 0) {
			port_alloc_release(a, e.proto, e.host_port, e.count);
			break;
		}
	}
	if (r == 0) {
		memcpy(t->last, a->last, sizeof(t->last));
		return 0;
	}
	for (size_t k = before; k < t->n; k++)
		port_alloc_release(a, t->v[k].proto, t->v[k].host_port, t->v[k].count);
	t->n = before;
	memcpy(a->last, last, sizeof(last));
	if (ret_failed)
		*ret_failed = i;
	return r;
}

size_t portmap_drop(struct portmap_table *t, struct port_alloc *a, const char *id)
{
	size_t k = 0, dropped = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].id, id) == 0) {
			if (a)
				port_alloc_release(a, t->v[i].proto, t->v[i].host_port, t->v[i].count);
			dropped++;
			continue;
		}
		t->v[k++] = t->v[i];
	}
	t->n = k;
	return dropped;
}

int portmap_mappings(const struct portmap_table *t, const char *id, struct netns_mapping **ret,
		     size_t *ret_n)
{
	struct netns_mapping *v = NULL;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < t->n; i++)
		if (!id || strcmp(t->v[i].id, id) == 0)
			n += t->v[i].count;
	if (n) {
		v = calloc(n, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct portmap_entry *e = &t->v[i];

		if (id && strcmp(e->id, id) != 0)
			continue;
		for (unsigned j = 0; j < e->count; j++)
			v[k++] = (struct netns_mapping){ e->proto, (uint16_t)(e->host_port + j), e->addr,
							 (uint16_t)(e->port + j) };
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
