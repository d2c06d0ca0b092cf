/* runtime/dnsfiles.h - the text of a container's /etc/resolv.conf and
 * /etc/hosts (pure), as Docker writes them for ECS's dnsServers,
 * dnsSearchDomains, extraHosts and hostname.  The shim writes the text into
 * the task's run directory and binds it over the image's files.
 *
 * Network modes:
 *   DNS_NET_HOST  the host's resolv.conf and hosts, with the task's
 *                 dnsServers / dnsSearchDomains replacing the host's
 *                 nameserver / search lines and extraHosts appended;
 *   DNS_NET_OWN   the task has its own network (bridge, awsvpc): the host's
 *                 resolv.conf without loopback nameservers (unreachable from
 *                 another namespace), a fresh hosts file with the task's
 *                 ADDRS named HOSTNAME;
 *   DNS_NET_NONE  no network: nothing is taken from the host (its resolvers
 *                 are unreachable and need not be disclosed), only what the
 *                 task definition gives; a fresh hosts file.
 */
#pragma once

#include <stddef.h>

#include "lib/netname.h"

enum dns_net { DNS_NET_HOST, DNS_NET_OWN, DNS_NET_NONE };

struct dns_extra_host {
	const char *hostname, *ip;
};

#define DNS_MAX_SERVERS NETNAME_MAX_DNS_SERVERS
#define DNS_MAX_SEARCH NETNAME_MAX_DNS_SEARCH
#define DNS_MAX_EXTRA_HOSTS NETNAME_MAX_EXTRA_HOSTS

struct dns_files_in {
	enum dns_net net;
	const char *host_resolv;     /* the host's /etc/resolv.conf text; NULL = none */
	const char *host_hosts;      /* the host's /etc/hosts text (DNS_NET_HOST); NULL = none */
	char *const *servers;        /* dnsServers, N_SERVERS of them */
	size_t n_servers;
	char *const *search;         /* dnsSearchDomains */
	size_t n_search;
	const struct dns_extra_host *extra;   /* extraHosts */
	size_t n_extra;
	const char *hostname;        /* the container's host name; NULL = none */
	char *const *addrs;          /* the task's own addresses, NULL-terminated;
				      * NULL for host and none (networking) */
};

/* *RET = malloc'd file text.  -EINVAL when a name, address or count is not
 * acceptable (netname.h; checked again here: these become lines of a file),
 * -ENOMEM. */
int dns_resolv_conf(const struct dns_files_in *in, char **ret);
int dns_hosts_file(const struct dns_files_in *in, char **ret);
