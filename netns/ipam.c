/* netns/ipam.c - persistent address leases (see ipam.h for the rules). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "netns/ipam.h"
#include "netns/statefile.h"

#define IPAM_HEADER "berth-ipam 1\n"

int ipam_subnet_parse(const char *cidr, struct netns_subnet *ret)
{
	char buf[INET_ADDRSTRLEN + 4];
	const char *slash = strchr(cidr, '/');
	struct in_addr a;
	unsigned prefix;
	int n = 0;
	uint32_t mask;

	if (!slash || (size_t)(slash - cidr) >= INET_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, cidr, (size_t)(slash - cidr));
	buf[slash - cidr] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	if (!(slash[1] >= '0' && slash[1] <= '9') || sscanf(slash + 1, "%u%n", &prefix, &n) != 1 ||
	    slash[1 + n] != '\0' || n > 2 || prefix < 8 || prefix > 30)
		return -EINVAL;
	mask = ~0u << (32 - prefix);
	if (ntohl(a.s_addr) & ~mask)
		return -EINVAL;
	*ret = (struct netns_subnet){ ntohl(a.s_addr), prefix };
	return 0;
}

uint32_t ipam_gateway(const struct netns_subnet *sn)
{
	return sn->net + 1;
}

const char *ipam_ntoa(uint32_t addr, char *buf)
{
	struct in_addr a = { htonl(addr) };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int table_add(struct ipam_table *t, uint32_t addr, const char *id)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct ipam_lease *v = realloc(t->leases, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->leases = v;
		t->cap = cap;
	}
	t->leases[t->n].addr = addr;
	snprintf(t->leases[t->n].id, sizeof(t->leases[t->n].id), "%s", id);
	t->n++;
	return 0;
}

static bool addr_leased(const struct ipam_table *t, uint32_t addr)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->leases[i].addr == addr)
			return true;
	return false;
}

static int parse_addr(const char *s, uint32_t *ret)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0)
		return -EBADMSG;
	*ret = ntohl(a.s_addr);
	return 0;
}

/* One "ADDR ID" or "last ADDR" line (NUL-terminated, no newline). */
static int parse_line(struct ipam_table *t, char *line)
{
	char *sp = strchr(line, ' ');
	uint32_t addr;

	if (!sp || strchr(sp + 1, ' '))
		return -EBADMSG;
	*sp = '\0';
	if (strcmp(line, "last") == 0)
		return parse_addr(sp + 1, &t->last);
	if (parse_addr(line, &addr) < 0 || !netns_id_valid(sp + 1))
		return -EBADMSG;
	if (addr_leased(t, addr) || ipam_table_find(t, sp + 1))
		return -EBADMSG;
	return table_add(t, addr, sp + 1);
}

int ipam_table_parse(const char *text, struct ipam_table *ret)
{
	_cleanup_free_ char *copy = NULL;
	struct ipam_table t = { 0 };
	char *line, *next;
	int r = 0;

	if (strncmp(text, IPAM_HEADER, strlen(IPAM_HEADER)) != 0)
		return -EBADMSG;
	copy = strdup(text + strlen(IPAM_HEADER));
	if (!copy)
		return -ENOMEM;
	for (line = copy; *line; line = next) {
		next = strchr(line, '\n');
		if (!next) {
			r = -EBADMSG;   /* a torn last line: rename makes this impossible */
			break;
		}
		*next++ = '\0';
		r = parse_line(&t, line);
		if (r < 0)
			break;
	}
	if (r < 0) {
		ipam_release_table(&t);
		return r;
	}
	*ret = t;
	return 0;
}

int ipam_table_format(const struct ipam_table *t, char **ret)
{
	char *buf = NULL, a[INET_ADDRSTRLEN];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fputs(IPAM_HEADER, f);
	if (t->last)
		fprintf(f, "last %s\n", ipam_ntoa(t->last, a));
	for (size_t i = 0; i < t->n; i++)
		fprintf(f, "%s %s\n", ipam_ntoa(t->leases[i].addr, a), t->leases[i].id);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

const struct ipam_lease *ipam_table_find(const struct ipam_table *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->leases[i].id, id) == 0)
			return &t->leases[i];
	return NULL;
}

int ipam_table_pick(struct ipam_table *t, const struct netns_subnet *sn, const char *id, uint32_t *ret)
{
	const struct ipam_lease *l;
	uint32_t lo = sn->net + 2, hi = sn->net + (uint32_t)((1ULL << (32 - sn->prefix)) - 2);
	uint32_t start, a, n;
	int r;

	if (!netns_id_valid(id))
		return -EINVAL;
	l = ipam_table_find(t, id);
	if (l) {
		*ret = l->addr;
		return 0;
	}
	start = t->last >= lo && t->last < hi ? t->last + 1 : lo;
	n = hi - lo + 1;
	for (uint32_t i = 0; i < n; i++) {
		a = lo + (start - lo + i) % n;
		if (addr_leased(t, a))
			continue;
		r = table_add(t, a, id);
		if (r < 0)
			return r;
		t->last = a;
		*ret = a;
		return 0;
	}
	return -EADDRNOTAVAIL;
}

int ipam_table_drop(struct ipam_table *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->leases[i].id, id) == 0) {
			t->leases[i] = t->leases[--t->n];
			return 1;
		}
	return 0;
}

void ipam_release_table(struct ipam_table *t)
{
	free(t->leases);
	*t = (struct ipam_table){ 0 };
}

static void ipam_release_tablep(struct ipam_table *t)
{
	ipam_release_table(t);
}

static void statefile_unlockp(struct statefile *sf)
{
	statefile_unlock(sf);
}

/* Locks and loads BRIDGE's table. */
static int open_table(const char *state_dir, const char *bridge, struct statefile *sf,
		      struct ipam_table *ret)
{
	_cleanup_free_ char *text = NULL;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "ipam-%s", bridge);
	r = statefile_lock(state_dir, name, sf);
	if (r < 0)
		return r;
	r = statefile_read(sf, &text);
	if (r < 0)
		return r;
	if (!text) {
		*ret = (struct ipam_table){ 0 };
		return 0;
	}
	return ipam_table_parse(text, ret);
}

static int save_table(struct statefile *sf, const struct ipam_table *t)
{
	_cleanup_free_ char *text = NULL;
	int r = ipam_table_format(t, &text);

	return r < 0 ? r : statefile_write(sf, text);
}

static bool bridge_name_ok(const char *bridge)
{
	return bridge[0] && strlen(bridge) < IFNAMSIZ && !strchr(bridge, '/') && bridge[0] != '.';
}

int ipam_acquire(const char *state_dir, const char *bridge, const struct netns_subnet *sn,
		 const char *id, uint32_t *ret)
{
	_cleanup_(ipam_release_tablep) struct ipam_table t = { 0 };
	_cleanup_(statefile_unlockp) struct statefile sf = STATEFILE_INIT;
	uint32_t addr;
	size_t before;
	int r;

	if (!bridge_name_ok(bridge) || !netns_id_valid(id))
		return -EINVAL;
	r = open_table(state_dir, bridge, &sf, &t);
	if (r < 0)
		return r;
	before = t.n;
	r = ipam_table_pick(&t, sn, id, &addr);
	if (r < 0)
		return r;
	if (t.n != before) {
		r = save_table(&sf, &t);
		if (r < 0)
			return r;
	}
	*ret = addr;
	return 0;
}

int ipam_release(const char *state_dir, const char *bridge, const char *id)
{
	_cleanup_(ipam_release_tablep) struct ipam_table t = { 0 };
	_cleanup_(statefile_unlockp) struct statefile sf = STATEFILE_INIT;
	int r;

	if (!bridge_name_ok(bridge) || !netns_id_valid(id))
		return -EINVAL;
	r = open_table(state_dir, bridge, &sf, &t);
	if (r < 0)
		return r;
	if (ipam_table_drop(&t, id) == 0)
		return 0;
	return save_table(&sf, &t);
}

int ipam_load(const char *state_dir, const char *bridge, struct ipam_table *ret)
{
	_cleanup_(statefile_unlockp) struct statefile sf = STATEFILE_INIT;

	if (!bridge_name_ok(bridge))
		return -EINVAL;
	return open_table(state_dir, bridge, &sf, ret);
}
