/* agent/net.c - task networks for bridge and awsvpc tasks (netns/).
 *
 * Before a task's shim starts, the agent gives the task a network namespace
 * (veth on BERTH_BRIDGE, an address from the persistent IPAM, default route,
 * lo up) and, in bridge mode, its host ports (static ones checked, dynamic
 * ones from the range) as elements of table inet berth, added in one
 * transaction.  The containers join the namespace (spec.json netnsPath).
 * Stopping - or failing to start - releases the elements, the veth, the
 * namespace and the lease in the same pass.
 *
 * The port record (STATE_DIR/netns/ports-<bridge>) is the desired state of
 * the table; on start the agent drops the record entries, leases and
 * namespaces of tasks that no longer run and rebuilds the table from what
 * is left in one transaction.  A netlink monitor in the loop rebuilds it
 * whenever someone else changes it (`nft flush ruleset`).
 *
 * Nothing here touches a host that never runs a bridge or awsvpc task: the
 * bridge and the table appear with the first one (or at start when there
 * is state to reconcile).
 *
 * What DescribeTasks shows of the network (networkBindings,
 * networkInterfaces, attachments) is kept as a report fragment in the task
 * dir (network.json) and sent with the task's RUNNING report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "netns/ipam.h"
#include "netns/netns.h"
#include "netns/nft.h"
#include "netns/portmap.h"
#include "netns/statefile.h"

#define NET_NOTE "network.json"
#define NET_NOTE_MAX (1u << 20)
#define MAX_REQUESTS 1024       /* port mappings of one task (ranges count once) */

struct agent_net {
	struct agent *a;
	struct netns_conf conf;
	struct netns_host *host;
	struct netns_nft *nft;
	struct netns_nft_monitor *mon;
	bool up;                /* bridge, table and monitor in place */
};

enum net_kind { NET_NONE, NET_HOST, NET_BRIDGE, NET_AWSVPC };

static enum net_kind net_kind(const cJSON *td)
{
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(td, "networkMode"));

	if (!m || strcmp(m, "bridge") == 0)   /* ECS: bridge when absent (EC2) */
		return NET_BRIDGE;
	if (strcmp(m, "awsvpc") == 0)
		return NET_AWSVPC;
	return strcmp(m, "host") == 0 ? NET_HOST : NET_NONE;
}

bool agent_net_wanted(const cJSON *td)
{
	return net_kind(td) >= NET_BRIDGE;
}

int agent_net_path(struct agent *a, const char *id, char *buf, size_t size)
{
	return netns_task_path(&a->net->conf, id, buf, size);
}

/* ---- the table ---- */

/* Locks and loads the port record and the map elements of ID (NULL: all).
 * On failure nothing stays locked or allocated. */
static int open_record(struct agent_net *n, const char *id, struct statefile *sf,
		       struct portmap_table *pm, struct netns_mapping **m, size_t *nm)
{
	int r = portmap_record_open(n->conf.state_dir, n->conf.bridge, sf, pm);

	if (r < 0)
		return r;
	r = portmap_mappings(pm, id, m, nm);
	if (r < 0) {
		statefile_unlock(sf);
		portmap_release_table(pm);
	}
	return r;
}

static int rebuild(struct agent_net *n, size_t *ret_n)
{
	struct statefile sf = STATEFILE_INIT;
	struct portmap_table pm = { 0 };
	_cleanup_free_ struct netns_mapping *m = NULL;
	size_t nm = 0;
	int r = open_record(n, NULL, &sf, &pm, &m, &nm);

	if (r < 0)
		return r;
	r = netns_nft_rebuild(n->nft, &n->conf, m, nm);
	statefile_unlock(&sf);
	portmap_release_table(&pm);
	if (r == 0 && ret_n)
		*ret_n = nm;
	return r;
}

static void on_monitor(struct loop *l, int fd, uint32_t events, void *data)
{
	struct agent_net *n = data;
	bool damaged = false;
	size_t nm = 0;
	int r;

	(void)l;
	(void)fd;
	(void)events;
	r = netns_nft_monitor_read(n->mon, &damaged);
	if (r < 0) {
		log_warn_errno(r, "reading the nftables monitor");
		return;
	}
	if (!damaged)
		return;
	r = rebuild(n, &nm);
	if (r < 0)
		log_error_errno(r, "table inet %s was changed by someone else; rebuilding it failed",
				NETNS_NFT_TABLE);
	else
		log_warn("table inet %s was changed by someone else: rebuilt with %zu mappings",
			 NETNS_NFT_TABLE, nm);
}

static int open_host(struct agent_net *n)
{
	return n->host ? 0 : netns_host_open(&n->conf, &n->host);
}

static int open_nft(struct agent_net *n)
{
	return n->nft ? 0 : netns_nft_open(&n->nft);
}

/* The bridge, the table (rebuilt from the record) and the monitor. */
static int net_up(struct agent_net *n, struct err *e)
{
	int r;

	if (n->up)
		return 0;
	if ((r = open_host(n)) < 0 || (r = open_nft(n)) < 0)
		return err_set(e, r, "open netlink");
	r = netns_bridge_ensure(n->host);
	if (r < 0)
		return err_set(e, r, "set up the bridge '%s'", n->conf.bridge);
	if (!n->mon) {
		r = netns_nft_monitor_open(netns_nft_portid(n->nft), &n->mon);
		if (r == 0)
			r = loop_add_fd(n->a->loop, netns_nft_monitor_fd(n->mon), EPOLLIN, on_monitor, n);
		if (r < 0)
			return err_set(e, r, "watch table inet %s", NETNS_NFT_TABLE);
	}
	r = rebuild(n, NULL);
	if (r < 0)
		return err_set(e, r, "build table inet %s", NETNS_NFT_TABLE);
	n->up = true;
	return 0;
}

/* ---- what a task asks for ---- */

struct net_req {
	struct portmap_request q[MAX_REQUESTS];
	const cJSON *pm[MAX_REQUESTS];      /* the port mapping each came from */
	const cJSON *ctr[MAX_REQUESTS];     /* its container definition */
	size_t n;
};

static int64_t num(const cJSON *o, const char *k, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

/* The port mappings as host port requests (registration checked the
 * values); host mode's host port is the container port. */
static int collect(const cJSON *td, bool host, struct net_req *rq, struct err *e)
{
	const cJSON *c, *pm;

	rq->n = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(td, "containerDefinitions"))
	cJSON_ArrayForEach(pm, cJSON_GetObjectItemCaseSensitive(c, "portMappings")) {
		const char *proto = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pm, "protocol"));
		const char *range = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pm, "containerPortRange"));
		struct portmap_request *q = &rq->q[rq->n];
		unsigned first = 0, last = 0;
		int64_t cp = num(pm, "containerPort", 0), hp = num(pm, "hostPort", 0);

		if (rq->n == MAX_REQUESTS)
			return err_setx(e, -E2BIG, "more than %d port mappings", MAX_REQUESTS);
		if (port_proto_from_string(proto ? proto : "tcp", &q->proto) < 0)
			return err_setx(e, -EINVAL, "unknown protocol '%s'", proto);
		if (range) {
			if (sscanf(range, "%u-%u", &first, &last) != 2 || first < 1 || last > 65535 ||
			    first > last)
				return err_setx(e, -EINVAL, "bad containerPortRange '%s'", range);
			*q = (struct portmap_request){ q->proto, (uint16_t)first, (uint16_t)(last - first + 1), 0 };
		} else {
			if (cp < 1 || cp > 65535 || hp < 0 || hp > 65535)
				return err_setx(e, -EINVAL, "bad port mapping");
			*q = (struct portmap_request){ q->proto, (uint16_t)cp, 1, (uint16_t)hp };
			if (host)
				q->host_port = q->port;
		}
		rq->pm[rq->n] = pm;
		rq->ctr[rq->n++] = c;
	}
	return 0;
}

/* ---- the report fragment (network.json) ---- */

static cJSON *ctr_entry(cJSON *ctrs, const char *name)
{
	cJSON *c;

	cJSON_ArrayForEach(c, ctrs)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name")), name) == 0)
			return c;
	c = cJSON_CreateObject();
	if (!c || !cJSON_AddItemToArray(ctrs, c) || !cJSON_AddStringToObject(c, "name", name) ||
	    !cJSON_AddArrayToObject(c, "networkBindings") || !cJSON_AddArrayToObject(c, "networkInterfaces"))
		return NULL;
	return c;
}

static int add_binding(cJSON *ctrs, const cJSON *def, const struct portmap_entry *pe)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(def, "name"));
	cJSON *c = name ? ctr_entry(ctrs, name) : NULL, *b = cJSON_CreateObject();
	char cr[16], hr[16];

	if (!c || !b || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(c, "networkBindings"), b))
		return cJSON_Delete(b), -ENOMEM;
	if (!cJSON_AddStringToObject(b, "bindIP", "0.0.0.0") ||
	    !cJSON_AddStringToObject(b, "protocol", port_proto_to_string(pe->proto)))
		return -ENOMEM;
	if (pe->count == 1)
		return cJSON_AddNumberToObject(b, "containerPort", pe->port) &&
		       cJSON_AddNumberToObject(b, "hostPort", pe->host_port) ? 0 : -ENOMEM;
	snprintf(cr, sizeof(cr), "%u-%u", pe->port, pe->port + pe->count - 1);
	snprintf(hr, sizeof(hr), "%u-%u", pe->host_port, pe->host_port + pe->count - 1);
	return cJSON_AddStringToObject(b, "containerPortRange", cr) &&
	       cJSON_AddStringToObject(b, "hostPortRange", hr) ? 0 : -ENOMEM;
}

/* ECS's ids, derived from the task id so a rewrite gives the same. */
static void attachment_id(const char *id, char buf[40])
{
	snprintf(buf, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16, id + 20);
}

static int add_detail(cJSON *details, const char *name, const char *value)
{
	cJSON *d = cJSON_CreateObject();

	if (!d || !cJSON_AddItemToArray(details, d))
		return cJSON_Delete(d), -ENOMEM;
	return cJSON_AddStringToObject(d, "name", name) && cJSON_AddStringToObject(d, "value", value)
		       ? 0 : -ENOMEM;
}

/* awsvpc: the task's "ENI" and each container's interface. */
static int add_awsvpc(cJSON *note, const char *id, const cJSON *td, uint32_t addr)
{
	cJSON *att = cJSON_CreateObject(), *details, *ctrs = cJSON_GetObjectItemCaseSensitive(note, "containers");
	char aid[40], eni[32], ip[INET_ADDRSTRLEN];
	const cJSON *def;

	if (!att || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(note, "attachments"), att))
		return cJSON_Delete(att), -ENOMEM;
	attachment_id(id, aid);
	snprintf(eni, sizeof(eni), "eni-%.17s", id);
	ipam_ntoa(addr, ip);
	if (!cJSON_AddStringToObject(att, "id", aid) ||
	    !cJSON_AddStringToObject(att, "type", "ElasticNetworkInterface") ||
	    !cJSON_AddStringToObject(att, "status", "ATTACHED") ||
	    !(details = cJSON_AddArrayToObject(att, "details")) ||
	    add_detail(details, "networkInterfaceId", eni) < 0 ||
	    add_detail(details, "privateIPv4Address", ip) < 0)
		return -ENOMEM;
	cJSON_ArrayForEach(def, cJSON_GetObjectItemCaseSensitive(td, "containerDefinitions")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(def, "name"));
		cJSON *c = name ? ctr_entry(ctrs, name) : NULL, *ni = cJSON_CreateObject();

		if (!c || !ni || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(c, "networkInterfaces"), ni))
			return cJSON_Delete(ni), -ENOMEM;
		if (!cJSON_AddStringToObject(ni, "attachmentId", aid) ||
		    !cJSON_AddStringToObject(ni, "privateIpv4Address", ip))
			return -ENOMEM;
	}
	return 0;
}

static int write_note(struct agent *a, const char *id, const cJSON *note)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(note), *dir = NULL;
	_cleanup_close_ int dfd = -1;
	int r;

	if (!text || asprintf(&dir, "%s/%s", a->run_tasks, id) < 0)
		return -ENOMEM;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = write_file_create_at(dfd, NET_NOTE ".tmp", text, strlen(text), 0600);
	if (r == 0 && renameat(dfd, NET_NOTE ".tmp", dfd, NET_NOTE) < 0)
		r = -errno;
	return r;
}

static int make_note(struct agent *a, const char *id, const cJSON *td, enum net_kind kind,
		     uint32_t addr, const struct net_req *rq, const struct portmap_entry *pe)
{
	_cleanup_(cJSON_Deletep) cJSON *note = cJSON_CreateObject();
	cJSON *ctrs;
	char ip[INET_ADDRSTRLEN];
	int r = 0;

	if (!note || !(ctrs = cJSON_AddArrayToObject(note, "containers")) ||
	    !cJSON_AddArrayToObject(note, "attachments") ||
	    (addr && !cJSON_AddStringToObject(note, "privateIPv4Address", ipam_ntoa(addr, ip))))
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < rq->n; i++)
		r = add_binding(ctrs, rq->ctr[i], &pe[i]);
	if (r == 0 && kind == NET_AWSVPC)
		r = add_awsvpc(note, id, td, addr);
	return r < 0 ? r : write_note(a, id, note);
}

/* ---- per task ---- */

/* The host ports of REQ for ID at ADDR: record, allocator, one transaction.
 * On success *ret_first indexes ID's new entries in the record copy RET_PM. */
static int map_ports(struct agent_net *n, const char *id, uint32_t addr, const struct net_req *rq,
		     struct portmap_table *pm, size_t *ret_first, struct err *e)
{
	struct statefile sf = STATEFILE_INIT;
	_cleanup_free_ struct port_alloc *alloc = NULL;
	_cleanup_free_ struct netns_mapping *m = NULL;
	struct portmap_table added;
	const char *bad = "";
	char why[160];
	size_t before, failed = 0, nm = 0;
	int r;

	r = portmap_record_open(n->conf.state_dir, n->conf.bridge, &sf, pm);
	if (r < 0)
		return err_set(e, r, "ResourceInitializationError: read the port record");
	r = port_alloc_configured(config_get(n->a->cfg, CFG_DYNAMIC_HOST_PORT_RANGE),
				  config_get(n->a->cfg, CFG_RESERVED_PORTS),
				  config_get(n->a->cfg, CFG_RESERVED_PORTS_UDP), port_probe_bind, &alloc, &bad);
	if (r == 0)
		r = portmap_table_seed(pm, alloc);
	if (r < 0) {
		statefile_unlock(&sf);
		return err_set(e, r, "ResourceInitializationError: reserved ports '%s'", bad);
	}
	before = pm->n;
	r = portmap_assign(pm, alloc, id, addr, rq->q, rq->n, &failed);
	if (r < 0) {
		statefile_unlock(&sf);
		return err_setx(e, r, "CannotStartContainerError: %s",
				portmap_reason(r, &rq->q[failed], why, sizeof(why)));
	}
	added = (struct portmap_table){ .v = pm->v + before, .n = pm->n - before };
	r = portmap_mappings(&added, NULL, &m, &nm);
	if (r == 0)
		r = portmap_record_save(&sf, pm);
	if (r == 0 && nm)
		r = netns_nft_add(n->nft, m, nm);
	statefile_unlock(&sf);
	if (r == -ENOENT)   /* the table is gone: put it all back */
		r = rebuild(n, NULL);
	if (r < 0)
		return err_set(e, r, "ResourceInitializationError: add the host port mappings");
	*ret_first = before;
	return 0;
}

/* host mode: nothing to set up, but ECS shows the bindings (host port =
 * container port). */
static int host_bindings(struct agent *a, const char *id, const cJSON *td, const struct net_req *rq,
			 struct err *e)
{
	_cleanup_free_ struct portmap_entry *pe = calloc(rq->n ? rq->n : 1, sizeof(*pe));
	int r;

	if (!rq->n)
		return 0;
	if (!pe)
		return err_set(e, -ENOMEM, "ResourceInitializationError");
	for (size_t i = 0; i < rq->n; i++)
		pe[i] = (struct portmap_entry){ .proto = rq->q[i].proto, .host_port = rq->q[i].port,
						.port = rq->q[i].port, .count = rq->q[i].count };
	r = make_note(a, id, td, NET_HOST, 0, rq, pe);
	return r < 0 ? err_set(e, r, "ResourceInitializationError: write '%s'", NET_NOTE) : 0;
}

int agent_net_setup(struct agent *a, const char *id, const cJSON *td, struct err *e)
{
	struct agent_net *n = a->net;
	enum net_kind kind = net_kind(td);
	_cleanup_free_ struct net_req *rq = calloc(1, sizeof(*rq));
	struct portmap_table pm = { 0 };
	struct netns_task nt;
	size_t first = 0;
	int r;

	if (kind == NET_NONE)
		return 0;
	if (!rq)
		return err_set(e, -ENOMEM, "ResourceInitializationError");
	r = kind != NET_AWSVPC ? collect(td, kind == NET_HOST, rq, e) : 0;
	if (r < 0)
		return err_wrap(e, "ResourceInitializationError");
	if (kind == NET_HOST)
		return host_bindings(a, id, td, rq, e);
	r = net_up(n, e);
	if (r < 0)
		return err_wrap(e, "ResourceInitializationError");
	r = netns_task_create(n->host, id, NETNS_MODE_BRIDGE, &nt);
	if (r == -EEXIST) {     /* a start that was cut short: begin again */
		agent_net_release(a, id);
		r = netns_task_create(n->host, id, NETNS_MODE_BRIDGE, &nt);
	}
	if (r < 0)
		return err_set(e, r, "ResourceInitializationError: create the task's network namespace");
	r = rq->n ? map_ports(n, id, nt.addr, rq, &pm, &first, e) : 0;
	if (r == 0) {
		r = make_note(a, id, td, kind, nt.addr, rq, pm.v + first);
		if (r < 0)
			err_set(e, r, "ResourceInitializationError: write '%s'", NET_NOTE);
	}
	portmap_release_table(&pm);
	if (r < 0)
		agent_net_release(a, id);
	return r;
}

/* Removes ID's record entries and their map elements. */
static int unmap(struct agent_net *n, const char *id)
{
	struct statefile sf = STATEFILE_INIT;
	struct portmap_table pm = { 0 };
	_cleanup_free_ struct netns_mapping *m = NULL;
	size_t nm = 0;
	int r = open_record(n, id, &sf, &pm, &m, &nm);

	if (r < 0)
		return r;
	if (nm) {
		r = open_nft(n);
		if (r == 0)
			r = netns_nft_del(n->nft, m, nm);
		if (r == -ENOENT)
			r = 0;          /* no table: nothing of ours is mapped */
		if (r == 0 && portmap_drop(&pm, NULL, id))
			r = portmap_record_save(&sf, &pm);
	}
	statefile_unlock(&sf);
	portmap_release_table(&pm);
	return r;
}

void agent_net_release(struct agent *a, const char *id)
{
	struct agent_net *n = a->net;
	char path[PATH_MAX];
	struct stat st;
	int r;

	if (!netns_id_valid(id) || netns_task_path(&n->conf, id, path, sizeof(path)) < 0)
		return;
	/* Only hosts that ran a task network have anything to release. */
	if (!n->up && stat(path, &st) < 0)
		return;
	r = unmap(n, id);
	if (r < 0)
		log_warn_errno(r, "task %s: removing its host port mappings", id);
	r = open_host(n);
	if (r == 0)
		r = netns_task_release(n->host, id);
	if (r < 0)
		log_warn_errno(r, "task %s: removing its network", id);
}

/* ECS: a stopped task's network interface is DELETED. */
static int mark_deleted(cJSON *atts)
{
	cJSON *it;

	cJSON_ArrayForEach(it, atts)
		if (!cJSON_ReplaceItemInObjectCaseSensitive(it, "status", cJSON_CreateString("DELETED")))
			return -ENOMEM;
	return 0;
}

/* ID's network.json; *ret = NULL when the task has none. */
static int read_note(struct agent *a, const char *id, cJSON **ret)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len;
	int r;

	*ret = NULL;
	if (asprintf(&path, "%s/%s/" NET_NOTE, a->run_tasks, id) < 0)
		return -ENOMEM;
	r = read_file_alloc(path, NET_NOTE_MAX, &text, &len);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	*ret = json_parse_strict(text, len);
	return *ret ? 0 : -EBADMSG;
}

int agent_net_address(struct agent *a, const char *id, char *buf)
{
	_cleanup_(cJSON_Deletep) cJSON *note = NULL;
	const char *ip;
	int r = read_note(a, id, &note);

	if (r < 0)
		return r;
	ip = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(note, "privateIPv4Address"));
	if (!ip || strlen(ip) >= INET_ADDRSTRLEN)
		return -ENOENT;
	strcpy(buf, ip);
	return 0;
}

int agent_net_report(struct agent *a, const char *id, cJSON *rep, bool stopped)
{
	_cleanup_(cJSON_Deletep) cJSON *note = NULL;
	cJSON *c, *att, *ctrs = cJSON_GetObjectItemCaseSensitive(rep, "containers");
	int r = read_note(a, id, &note);

	if (r < 0 || !note)
		return r;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(note, "containers")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
		cJSON *mine = NULL, *it;

		cJSON_ArrayForEach(it, ctrs)
			if (name && strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name")) ?: "",
					   name) == 0)
				mine = it;
		if (!mine)
			continue;
		for (const char *const *k = (const char *const[]){ "networkBindings", "networkInterfaces", NULL }; *k; k++) {
			cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(c, *k);

			if (v && !cJSON_AddItemToObject(mine, *k, v))
				return cJSON_Delete(v), -ENOMEM;
		}
	}
	att = cJSON_DetachItemFromObjectCaseSensitive(note, "attachments");
	if (stopped && mark_deleted(att) < 0)
		return cJSON_Delete(att), -ENOMEM;
	if (cJSON_GetArraySize(att) > 0 && !cJSON_AddItemToObject(rep, "attachments", att))
		return cJSON_Delete(att), -ENOMEM;
	if (cJSON_GetArraySize(att) == 0)
		cJSON_Delete(att);
	return 0;
}

/* ---- start: reconcile with the tasks that still run ---- */

static bool live(struct agent *a, const char *id)
{
	struct atask *t = atask_find(a, id);

	return t && !t->done;
}

/* Record entries of tasks that are gone. */
static int prune_record(struct agent_net *n, size_t *ret_left)
{
	struct statefile sf = STATEFILE_INIT;
	struct portmap_table pm = { 0 };
	bool changed = false;
	int r = portmap_record_open(n->conf.state_dir, n->conf.bridge, &sf, &pm);

	if (r < 0)
		return r;
	for (size_t i = 0; i < pm.n;) {
		char id[NETNS_ID_MAX + 1];

		snprintf(id, sizeof(id), "%s", pm.v[i].id);
		if (live(n->a, id)) {
			i++;
			continue;
		}
		portmap_drop(&pm, NULL, id);
		changed = true;
	}
	if (changed)
		r = portmap_record_save(&sf, &pm);
	*ret_left = pm.n;
	statefile_unlock(&sf);
	portmap_release_table(&pm);
	return r;
}

/* Leases and namespace files of tasks that are gone; *ret_left: what stays. */
static int prune_networks(struct agent_net *n, size_t *ret_left)
{
	struct ipam_table t = { 0 };
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	char dir[PATH_MAX];
	size_t left = 0;
	int r = ipam_load(n->conf.state_dir, n->conf.bridge, &t);

	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < t.n; i++) {
		if (live(n->a, t.leases[i].id)) {
			left++;
			continue;
		}
		r = open_host(n);
		if (r == 0)
			r = netns_task_release(n->host, t.leases[i].id);
	}
	ipam_release_table(&t);
	snprintf(dir, sizeof(dir), "%s/netns", n->conf.run_dir);
	d = opendir(dir);
	while (r == 0 && d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !netns_id_valid(de->d_name) || live(n->a, de->d_name))
			continue;
		r = open_host(n);
		if (r == 0)
			r = netns_task_release(n->host, de->d_name);
	}
	*ret_left = left;
	return r;
}

int agent_net_reconcile(struct agent *a, struct err *e)
{
	struct agent_net *n = a->net;
	_cleanup_free_ struct netns_mapping *m = NULL;
	size_t maps = 0, nets = 0, nm = 0;
	int r;

	r = prune_record(n, &maps);
	if (r < 0)
		return err_set(e, r, "read the port record in '%s/netns'", n->conf.state_dir);
	r = prune_networks(n, &nets);
	if (r < 0)
		return err_set(e, r, "release the networks of tasks that are gone");
	r = open_nft(n);
	if (r == 0)
		r = netns_nft_list(n->nft, &m, &nm);
	if (r == -ENOENT && maps == 0 && nets == 0)
		return 0;       /* never used here: leave the host alone */
	r = net_up(n, e);
	if (r == 0)
		log_info("task networks: %zu kept, table inet %s rebuilt with their mappings", nets,
			 NETNS_NFT_TABLE);
	return r;
}

int agent_net_open(struct agent *a, struct err *e)
{
	struct agent_net *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return err_set(e, -ENOMEM, "agent network");
	n->a = a;
	a->net = n;
	r = netns_conf_init(&n->conf, config_get(a->cfg, CFG_BRIDGE), config_get(a->cfg, CFG_BRIDGE_SUBNET),
			    config_get(a->cfg, CFG_RUN_DIR), config_get(a->cfg, CFG_STATE_DIR));
	if (r < 0)
		return err_setx(e, r, "invalid BERTH_BRIDGE or BERTH_BRIDGE_SUBNET (A.B.C.D/8..30, no host bits)");
	return 0;
}

void agent_net_free(struct agent *a)
{
	struct agent_net *n = a->net;

	if (!n)
		return;
	if (n->mon) {
		loop_del_fd(a->loop, netns_nft_monitor_fd(n->mon));
		netns_nft_monitor_close(n->mon);
	}
	netns_nft_close(n->nft);
	netns_host_close(n->host);
	free(n);
	a->net = NULL;
}
