/* control/taskdef_rules_fields.c - rules for the container fields that
 * become files and kernel settings in the container (pure): hostname,
 * dnsServers, dnsSearchDomains, extraHosts (lines of /etc/hosts and
 * resolv.conf), systemControls (namespaced sysctls only, never the host's
 * namespaces) and linuxParameters.devices.  The limits on counts are
 * berth's (ECS states none): what a resolver or a task can use, with room. */
#include <errno.h>
#include <stdio.h>

#include "control/taskdef_internal.h"
#include "lib/cleanup.h"
#include "lib/netname.h"

#define MAX_SYSTEM_CONTROLS 64
#define MAX_DEVICES 64
#define HOSTNAME_MAX 64          /* the kernel's limit for sethostname */

static int check_count(struct td *t, const cJSON *c, const char *key, int max)
{
	if (cJSON_GetArraySize(get(c, key)) > max)
		return err_api(t->e, EXC, "Invalid setting for container '%s'. At most %d %s are "
			       "allowed.", cname(c), max, key);
	return 0;
}

static int check_names(struct td *t, const cJSON *c, const char *key, bool (*ok)(const char *),
		       const char *what)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, get(c, key))
		if (!ok(it->valuestring))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. %s '%.64s' is "
				       "not a valid %s.", cname(c), key, it->valuestring, what);
	return 0;
}

static int check_dns(struct td *t, const cJSON *c)
{
	const char *hostname = get_str(c, "hostname");
	const cJSON *h;
	int r;

	if (hostname && (!netname_host_valid(hostname) || strlen(hostname) > HOSTNAME_MAX))
		return err_api(t->e, EXC, "Invalid setting for container '%s'. hostname '%.64s' is "
			       "not a valid host name of at most %d characters.", cname(c), hostname,
			       HOSTNAME_MAX);
	if ((r = check_count(t, c, "dnsServers", NETNAME_MAX_DNS_SERVERS)) < 0 ||
	    (r = check_count(t, c, "dnsSearchDomains", NETNAME_MAX_DNS_SEARCH)) < 0 ||
	    (r = check_count(t, c, "extraHosts", NETNAME_MAX_EXTRA_HOSTS)) < 0 ||
	    (r = check_names(t, c, "dnsServers", netname_ip_valid, "IP address")) < 0 ||
	    (r = check_names(t, c, "dnsSearchDomains", netname_host_valid, "domain name")) < 0)
		return r;
	cJSON_ArrayForEach(h, get(c, "extraHosts")) {
		const char *name = get_str(h, "hostname"), *ip = get_str(h, "ipAddress");

		if (!netname_host_valid(name))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. extraHosts "
				       "hostname '%.64s' is not a valid host name.", cname(c),
				       name ? name : "");
		if (!netname_ip_valid(ip))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. extraHosts "
				       "ipAddress '%.64s' is not a valid IP address.", cname(c),
				       ip ? ip : "");
	}
	return 0;
}

int rule_dns(struct td *t)
{
	const cJSON *c;
	int r;

	cJSON_ArrayForEach(c, t->containers)
		if ((r = check_dns(t, c)) < 0)
			return r;
	return 0;
}

/* ECS-REFERENCE: with ipcMode host the ipc sysctls are rejected.  Network
 * sysctls with network mode host are "not supported" by ECS, but ECS
 * registers such definitions (users' existing ones include them) and Docker
 * refuses them only when the container is created: here the task fails to
 * start with the reason (runtime/shim_spec.c), registration accepts them. */
static int check_sysctl(struct td *t, const cJSON *c, const cJSON *sc)
{
	const char *name = get_str(sc, "namespace"), *value = get_str(sc, "value");
	const char *ipc = get_str(t->doc, "ipcMode");
	enum sysctl_ns ns = netname_sysctl_ns(name);

	if (ns == SYSCTL_NS_NONE)
		return err_api(t->e, EXC, "Invalid setting for container '%s'. systemControls "
			       "namespace '%.64s' is not a namespaced kernel parameter (net.*, "
			       "kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*).", cname(c),
			       name ? name : "");
	if (!netname_sysctl_value_valid(value))
		return err_api(t->e, EXC, "Invalid setting for container '%s'. systemControls "
			       "value for '%s' must be 1 to %d characters on one line.", cname(c),
			       name, NETNAME_SYSCTL_VALUE_MAX);
	if (ns == SYSCTL_NS_IPC && ipc && strcmp(ipc, "host") == 0)
		return err_api(t->e, EXC, "Invalid setting for container '%s'. systemControls "
			       "'%s' is an IPC parameter, not supported with ipcMode host.", cname(c),
			       name);
	return 0;
}

int rule_system_controls(struct td *t)
{
	const cJSON *c, *sc;
	int r;

	cJSON_ArrayForEach(c, t->containers) {
		if ((r = check_count(t, c, "systemControls", MAX_SYSTEM_CONTROLS)) < 0)
			return r;
		cJSON_ArrayForEach(sc, get(c, "systemControls"))
			if ((r = check_sysctl(t, c, sc)) < 0)
				return r;
	}
	return 0;
}

int rule_devices(struct td *t)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, t->containers)
		if (cJSON_GetArraySize(get(get(c, "linuxParameters"), "devices")) > MAX_DEVICES)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. At most %d "
				       "linuxParameters.devices are allowed.", cname(c), MAX_DEVICES);
	return 0;
}
