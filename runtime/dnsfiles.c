/* runtime/dnsfiles.c - resolv.conf and hosts text for a container (pure). */
#include "runtime/dnsfiles.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/netname.h"
#include "runtime/shim_int.h"

/* Docker's default hosts entries for a container with its own network. */
static const char default_hosts[] =
	"127.0.0.1\tlocalhost\n"
	"::1\tlocalhost ip6-localhost ip6-loopback\n"
	"fe00::0\tip6-localnet\n"
	"ff00::0\tip6-mcastprefix\n"
	"ff02::1\tip6-allnodes\n"
	"ff02::2\tip6-allrouters\n";

static bool input_ok(const struct dns_files_in *in)
{
	if (in->n_servers > DNS_MAX_SERVERS || in->n_search > DNS_MAX_SEARCH ||
	    in->n_extra > DNS_MAX_EXTRA_HOSTS)
		return false;
	for (size_t i = 0; i < in->n_servers; i++)
		if (!netname_ip_valid(in->servers[i]))
			return false;
	for (size_t i = 0; i < in->n_search; i++)
		if (!netname_host_valid(in->search[i]))
			return false;
	for (size_t i = 0; i < in->n_extra; i++)
		if (!netname_host_valid(in->extra[i].hostname) || !netname_ip_valid(in->extra[i].ip))
			return false;
	for (char *const *a = in->addrs; a && *a; a++)
		if (!netname_ip_valid(*a))
			return false;
	return !in->hostname || netname_host_valid(in->hostname);
}

static int finish(struct sbuf *b, char **ret)
{
	sb_add(b, "", 1); /* the NUL, counted nowhere */
	if (b->oom) {
		sb_release(b);
		return -ENOMEM;
	}
	*ret = b->buf;
	return 0;
}

/* A nameserver line (N bytes at LINE) naming a loopback address. */
static bool is_loopback_server(const char *line, size_t n)
{
	const char *a = line + strlen("nameserver");

	while (a < line + n && (*a == ' ' || *a == '\t'))
		a++;
	return (line + n - a >= 4 && strncmp(a, "127.", 4) == 0) ||
	       (line + n - a == 3 && strncmp(a, "::1", 3) == 0);
}

static bool line_is(const char *line, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n > w && strncmp(line, word, w) == 0 && (line[w] == ' ' || line[w] == '\t');
}

/* The host's lines the task keeps: its nameservers unless the task names
 * its own (and, with another network namespace, not loopback ones), its
 * search/domain unless the task gives search domains, all the rest. */
static void host_resolv_lines(const struct dns_files_in *in, struct sbuf *b)
{
	const char *p = in->host_resolv;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (line_is(p, n, "nameserver")) {
			if (in->n_servers || (in->net == DNS_NET_OWN && is_loopback_server(p, n)))
				goto next;
		} else if (line_is(p, n, "search") || line_is(p, n, "domain")) {
			if (in->n_search)
				goto next;
		}
		sb_add(b, p, n);
		sb_puts(b, "\n");
next:
		p += n + (nl ? 1 : 0);
	}
}

int dns_resolv_conf(const struct dns_files_in *in, char **ret)
{
	struct sbuf b = { 0 };

	if (!input_ok(in))
		return -EINVAL;
	sb_puts(&b, "# written by berth\n");
	if (in->net != DNS_NET_NONE)
		host_resolv_lines(in, &b);
	for (size_t i = 0; i < in->n_servers; i++)
		sb_printf(&b, "nameserver %s\n", in->servers[i]);
	if (in->n_search) {
		sb_puts(&b, "search");
		for (size_t i = 0; i < in->n_search; i++)
			sb_printf(&b, " %s", in->search[i]);
		sb_puts(&b, "\n");
	}
	return finish(&b, ret);
}

int dns_hosts_file(const struct dns_files_in *in, char **ret)
{
	struct sbuf b = { 0 };

	if (!input_ok(in))
		return -EINVAL;
	if (in->net == DNS_NET_HOST && in->host_hosts) {
		sb_puts(&b, in->host_hosts);
		if (b.len && b.buf[b.len - 1] != '\n')
			sb_puts(&b, "\n");
	} else {
		sb_puts(&b, default_hosts);
	}
	for (size_t i = 0; i < in->n_extra; i++)
		sb_printf(&b, "%s\t%s\n", in->extra[i].ip, in->extra[i].hostname);
	for (char *const *a = in->addrs; in->hostname && a && *a; a++)
		sb_printf(&b, "%s\t%s\n", *a, in->hostname);
	return finish(&b, ret);
}
