/* runtime/shim_spec_fields.c - spec.json's container fields that become
 * files and kernel settings in the container: dnsServers, dnsSearchDomains,
 * extraHosts, systemControls, linuxParameters devices and tmpfs.  Checked
 * here as outside input; runtime/shim_fields.c applies them. */
#include "runtime/shim_spec_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "lib/netname.h"
#include "volumes/volumes.h"

#define SYSCTLS_MAX 64
#define DEVICES_MAX 64

static int parse_dns(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o, const char *what,
		     struct err *e)
{
	const cJSON *it;
	size_t i = 0;
	void *list;
	int r;

	if ((r = shim_get_checked_strv(t, o, what, "dnsServers", DNS_MAX_SERVERS, netname_ip_valid,
				       &c->dns_servers, &c->n_dns_servers, e)) < 0 ||
	    (r = shim_get_checked_strv(t, o, what, "dnsSearchDomains", DNS_MAX_SEARCH, netname_host_valid,
				       &c->dns_search, &c->n_dns_search, e)) < 0 ||
	    (r = shim_get_obj_list(t, o, what, "extraHosts", DNS_MAX_EXTRA_HOSTS, sizeof(*c->extra_hosts),
				   &list, &c->n_extra_hosts, e)) < 0)
		return r;
	c->extra_hosts = list;
	cJSON_ArrayForEach(it, shim_field(o, "extraHosts")) {
		struct dns_extra_host *h = &c->extra_hosts[i++];
		char *name, *ip;

		if ((r = shim_get_str(t, it, what, "hostname", &name, e)) < 0 ||
		    (r = shim_get_str(t, it, what, "ipAddress", &ip, e)) < 0)
			return r;
		if (!netname_host_valid(name) || !netname_ip_valid(ip))
			return err_setx(e, -EINVAL, "%s: an extraHosts entry needs a valid 'hostname' and 'ipAddress'",
					what);
		h->hostname = name;
		h->ip = ip;
	}
	return 0;
}

/* systemControls: only namespaced sysctls, and only of namespaces the
 * container does not share with the host. */
static int parse_sysctls(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			 const char *what, struct err *e)
{
	struct rt_sysctl *sc;
	const cJSON *it;
	size_t i = 0, n;
	void *list;
	int r = shim_get_obj_list(t, o, what, "systemControls", SYSCTLS_MAX, sizeof(*sc), &list, &n, e);

	if (r < 0)
		return r;
	sc = list;
	cJSON_ArrayForEach(it, shim_field(o, "systemControls")) {
		char *name, *value;
		enum sysctl_ns ns;

		if ((r = shim_get_str(t, it, what, "namespace", &name, e)) < 0 ||
		    (r = shim_get_str(t, it, what, "value", &value, e)) < 0)
			return r;
		ns = netname_sysctl_ns(name);
		if (ns == SYSCTL_NS_NONE || !netname_sysctl_value_valid(value))
			return err_setx(e, -EINVAL, "%s: systemControls '%.64s' is not a namespaced sysctl with a one-line value",
					what, name ? name : "");
		if ((ns == SYSCTL_NS_NET && t->net == SHIM_NET_HOST) ||
		    (ns == SYSCTL_NS_IPC && t->ipc_mode == SHIM_NS_HOST))
			return err_setx(e, -EINVAL, "%s: systemControls '%.64s' would change the host's %s namespace",
					what, name, ns == SYSCTL_NS_NET ? "network" : "ipc");
		sc[i].name = name;
		sc[i++].value = value;
	}
	c->rt.sysctls = sc;
	c->rt.n_sysctls = n;
	return 0;
}

static int parse_devices(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			 const char *what, struct err *e)
{
	static const char *const perms[] = { "read", "write", "mknod" };
	const cJSON *it;
	size_t i = 0;
	void *list;
	int r = shim_get_obj_list(t, o, what, "devices", DEVICES_MAX, sizeof(*c->devices), &list,
				  &c->n_devices, e);

	if (r < 0)
		return r;
	c->devices = list;
	cJSON_ArrayForEach(it, shim_field(o, "devices")) {
		struct shim_device *d = &c->devices[i++];
		const cJSON *p, *pl = shim_field(it, "permissions");

		if ((r = shim_get_str(t, it, what, "hostPath", &d->host_path, e)) < 0 ||
		    (r = shim_get_str(t, it, what, "containerPath", &d->container_path, e)) < 0)
			return r;
		if (!d->container_path)
			d->container_path = d->host_path;
		if (!d->host_path || !shim_abs_path_ok(d->host_path) || !shim_abs_path_ok(d->container_path) ||
		    strlen(d->container_path) >= PATH_MAX)
			return err_setx(e, -EINVAL, "%s: a device needs absolute 'hostPath' and 'containerPath'",
					what);
		/* ECS: without permissions, all three. */
		d->read = d->write = d->mknod = !pl;
		if (pl && !cJSON_IsArray(pl))
			return err_setx(e, -EINVAL, "%s: device 'permissions' must be an array", what);
		cJSON_ArrayForEach(p, pl) {
			int k;

			for (k = 0; k < 3 && !(cJSON_IsString(p) && strcmp(p->valuestring, perms[k]) == 0); k++)
				;
			if (k == 3)
				return err_setx(e, -EINVAL, "%s: device permissions are read, write and mknod", what);
			*(k == 0 ? &d->read : k == 1 ? &d->write : &d->mknod) = true;
		}
	}
	return 0;
}

/* linuxParameters.tmpfs: kept as JSON text for volumes/, checked now. */
static int parse_tmpfs(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
		       const char *what, struct err *e)
{
	const cJSON *v = shim_field(o, "tmpfs");
	struct vol_spec vs;
	int r;

	if (!v)
		return 0;
	if (!cJSON_IsArray(v))
		return err_setx(e, -EINVAL, "%s: 'tmpfs' must be an array", what);
	if (cJSON_GetArraySize(v) == 0)
		return 0;
	c->tmpfs_json = shim_own(t, cJSON_PrintUnformatted(v));
	if (!c->tmpfs_json)
		return err_set(e, -ENOMEM, "%s", what);
	r = shim_tmpfs_spec(c->name, c->tmpfs_json, &vs, e);
	if (r < 0)
		return err_wrap(e, "%s", what);
	vol_spec_free(&vs);
	return 0;
}

int shim_parse_ctr_fields(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			  const char *what, struct err *e)
{
	int r;

	if ((r = parse_dns(t, c, o, what, e)) < 0 || (r = parse_sysctls(t, c, o, what, e)) < 0 ||
	    (r = parse_devices(t, c, o, what, e)) < 0)
		return r;
	return parse_tmpfs(t, c, o, what, e);
}
