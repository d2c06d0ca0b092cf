/* control/taskdef_rules.c - the per-topic task definition rules (pure):
 * network mode and ports, links, dependencies, volumes, health checks,
 * ulimits, Linux parameters, placement, restart policy. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "control/arn.h"
#include "control/taskdef_internal.h"
#include "lib/cleanup.h"

#define MAX_PORT_RANGES 100

static bool net_is(const struct td *t, const char *mode)
{
	return strcmp(t->net, mode) == 0;
}

static bool has_item(const cJSON *list, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list)
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return true;
	return false;
}

static bool is_abs_path(const char *p)
{
	return p && p[0] == '/';
}

int rule_network(struct td *t)
{
	const cJSON *c;

	if (has_item(get(t->doc, "requiresCompatibilities"), "FARGATE")) {
		if (!net_is(t, "awsvpc"))
			return err_api(t->e, EXC, "Fargate only supports network mode 'awsvpc'.");
		if (t->cpu < 0)
			return err_api(t->e, EXC, "Fargate requires that 'cpu' be defined at the "
				       "task level.");
		if (t->memory < 0)
			return err_api(t->e, EXC, "Fargate requires that 'memory' be defined at the "
				       "task level.");
	}
	if (!net_is(t, "awsvpc"))
		return 0;
	cJSON_ArrayForEach(c, t->containers) {
		if (get(c, "hostname"))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. 'hostname' "
				       "is not supported in network mode awsvpc.", cname(c));
		if (cJSON_GetArraySize(get(c, "extraHosts")) > 0)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. 'extraHosts' "
				       "is not supported in network mode awsvpc.", cname(c));
	}
	return 0;
}

/* "first-last", both 1..65535, first < last. */
static bool parse_range(const char *s, long *first, long *last)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	*first = strtol(s, &end, 10);
	if (*end != '-' || !isdigit((unsigned char)end[1]))
		return false;
	*last = strtol(end + 1, &end, 10);
	return !*end && *first >= 1 && *last <= 65535 && *first < *last;
}

static bool port_name_is_valid(const char *n)
{
	size_t len = strlen(n);

	if (len < 1 || len > 64 || n[0] == '-')
		return false;
	for (; *n; n++)
		if (!islower((unsigned char)*n) && !isdigit((unsigned char)*n) && !strchr("_-", *n))
			return false;
	return true;
}

/* Ports a container already exposes, per protocol, to find overlaps. */
struct port_use {
	unsigned char used[2][65536 / 8];
	int ranges;
};

static bool mark_ports(struct port_use *u, int proto, long first, long last)
{
	for (long p = first; p <= last; p++) {
		if (u->used[proto][p / 8] & (1u << (p % 8)))
			return false;
		u->used[proto][p / 8] |= (unsigned char)(1u << (p % 8));
	}
	return true;
}

static bool any_marked(const struct port_use *u, int proto, long first, long last)
{
	for (long p = first; p <= last; p++)
		if (u->used[proto][p / 8] & (1u << (p % 8)))
			return true;
	return false;
}

static int check_mapping(struct td *t, const cJSON *c, const cJSON *pm, struct port_use *u)
{
	const char *proto = get_str(pm, "protocol"), *range = get_str(pm, "containerPortRange");
	int64_t cp = get_int(pm, "containerPort", -1), hp = get_int(pm, "hostPort", -1);
	int pi = proto && strcmp(proto, "udp") == 0;
	long first, last;

	if (range) {
		if (!net_is(t, "bridge") && !net_is(t, "awsvpc"))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. "
				       "'containerPortRange' is only supported in network modes "
				       "bridge and awsvpc.", cname(c));
		if (get(pm, "containerPort") || get(pm, "hostPort"))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. Do not set "
				       "'containerPort' or 'hostPort' with 'containerPortRange'.",
				       cname(c));
		if (!parse_range(range, &first, &last))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. "
				       "'containerPortRange' '%.32s' must be 'first-last' with "
				       "1 <= first < last <= 65535.", cname(c), range);
		if (++u->ranges > MAX_PORT_RANGES)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. At most %d "
				       "container port ranges are allowed.", cname(c),
				       MAX_PORT_RANGES);
	} else {
		if (cp < 1 || cp > 65535)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. "
				       "'containerPort' must be between 1 and 65535.", cname(c));
		if (get(pm, "hostPort") && (hp < 0 || hp > 65535))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. 'hostPort' "
				       "must be between 0 and 65535.", cname(c));
		if ((net_is(t, "host") || net_is(t, "awsvpc")) && get(pm, "hostPort") && hp != cp)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. When "
				       "networkMode=%s, the host ports must either be undefined or "
				       "equal to the container port (%lld).", cname(c), t->net,
				       (long long)cp);
		first = last = cp;
	}
	/* "You can't expose the same container port for multiple protocols"
	 * (ECS-REFERENCE 1.3). */
	if (any_marked(u, !pi, first, last))
		return err_api(t->e, EXC, "Invalid setting for container '%s'. Container port "
			       "%ld cannot be exposed for more than one protocol.", cname(c), first);
	if (!mark_ports(u, pi, first, last))
		return err_api(t->e, EXC, "Invalid setting for container '%s'. Container port "
			       "%ld/%s is mapped more than once.", cname(c), first, pi ? "udp" : "tcp");
	if (get_str(pm, "name") && !port_name_is_valid(get_str(pm, "name")))
		return err_api(t->e, EXC, "Invalid setting for container '%s'. Port mapping name "
			       "'%.64s' must be 1-64 lowercase letters, numbers, underscores or "
			       "hyphens and must not start with a hyphen.", cname(c),
			       get_str(pm, "name"));
	return 0;
}

/* Static host ports and port-mapping names are unique across the task. */
static int check_task_ports(struct td *t, struct port_use *host)
{
	const cJSON *c, *pm, *c2, *pm2;

	cJSON_ArrayForEach(c, t->containers) cJSON_ArrayForEach(pm, get(c, "portMappings")) {
		int64_t hp = get_int(pm, "hostPort", 0);
		const char *proto = get_str(pm, "protocol"), *name = get_str(pm, "name");
		int pi = proto && strcmp(proto, "udp") == 0;

		if (!net_is(t, "bridge") && !get(pm, "containerPortRange"))
			hp = get_int(pm, "containerPort", 0);
		if (hp > 0 && !mark_ports(host, pi, hp, hp))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. Host port "
				       "%lld/%s is used by more than one port mapping in the task.",
				       cname(c), (long long)hp, pi ? "udp" : "tcp");
		if (!name)
			continue;
		cJSON_ArrayForEach(c2, t->containers) cJSON_ArrayForEach(pm2, get(c2, "portMappings")) {
			if (pm2 == pm)
				goto next;
			if (get_str(pm2, "name") && strcmp(get_str(pm2, "name"), name) == 0)
				return err_api(t->e, EXC, "Port mapping name '%s' is used more than "
					       "once in the task definition.", name);
		}
next:		;
	}
	return 0;
}

/* bridge and awsvpc containers share the task's network namespace (berth
 * gives a task one): a container port can have only one owner.  TASK holds
 * the ports of the containers before C; C's own are in MINE. */
static int check_shared_ports(struct td *t, const cJSON *c, struct port_use *task,
			      const struct port_use *mine)
{
	for (int pi = 0; pi < 2; pi++) {
		for (long p = 1; p <= 65535; p++) {
			if (!(mine->used[pi][p / 8] & (1u << (p % 8))))
				continue;
			if (any_marked(task, pi, p, p))
				return err_api(t->e, EXC, "Invalid setting for container '%s'. "
					       "Container port %ld/%s is also exposed by another "
					       "container: the containers of a %s task share its "
					       "network namespace.", cname(c), p, pi ? "udp" : "tcp",
					       t->net);
			mark_ports(task, pi, p, p);
		}
	}
	return 0;
}

int rule_port_mappings(struct td *t)
{
	_cleanup_free_ struct port_use *u = malloc(sizeof(*u));
	_cleanup_free_ struct port_use *task = calloc(1, sizeof(*task));
	bool shared = net_is(t, "bridge") || net_is(t, "awsvpc");
	const cJSON *c, *pm;
	int r;

	if (!u || !task)
		return err_set(t->e, -ENOMEM, "check port mappings");
	cJSON_ArrayForEach(c, t->containers) {
		if (net_is(t, "none") && cJSON_GetArraySize(get(c, "portMappings")) > 0)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. Port "
				       "mappings are not supported in network mode none.", cname(c));
		memset(u, 0, sizeof(*u));
		cJSON_ArrayForEach(pm, get(c, "portMappings")) {
			r = check_mapping(t, c, pm, u);
			if (r < 0)
				return r;
		}
		if (shared && cJSON_GetArraySize(get(c, "portMappings")) > 0 &&
		    (r = check_shared_ports(t, c, task, u)) < 0)
			return r;
	}
	memset(u, 0, sizeof(*u));
	return check_task_ports(t, u);
}

int rule_links(struct td *t)
{
	const cJSON *c, *l;

	cJSON_ArrayForEach(c, t->containers) cJSON_ArrayForEach(l, get(c, "links")) {
		char target[NAME_MAX_LEN + 1];
		const char *colon = strchr(l->valuestring, ':');
		size_t n = colon ? (size_t)(colon - l->valuestring) : strlen(l->valuestring);

		if (!net_is(t, "bridge"))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. 'links' are "
				       "only supported in network mode bridge.", cname(c));
		if (n > NAME_MAX_LEN || (colon && !ecs_name_is_valid(colon + 1)))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. Invalid "
				       "link '%.64s'.", cname(c), l->valuestring);
		memcpy(target, l->valuestring, n);
		target[n] = '\0';
		if (!find_container(t, target) || strcmp(target, cname(c)) == 0)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. Link target "
				       "'%s' is not another container of this task definition.",
				       cname(c), target);
	}
	return 0;
}

int rule_depends_on(struct td *t)
{
	const cJSON *c, *d;

	cJSON_ArrayForEach(c, t->containers) cJSON_ArrayForEach(d, get(c, "dependsOn")) {
		const char *target = get_str(d, "containerName"), *cond = get_str(d, "condition");
		const cJSON *tc = find_container(t, target);

		if (!tc || tc == c)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. dependsOn "
				       "container '%.64s' is not another container of this task "
				       "definition.", cname(c), target);
		if ((strcmp(cond, "COMPLETE") == 0 || strcmp(cond, "SUCCESS") == 0) &&
		    is_essential(tc))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. dependsOn "
				       "condition %s cannot be used with essential container '%s'.",
				       cname(c), cond, target);
		if (strcmp(cond, "HEALTHY") == 0 && !get(tc, "healthCheck"))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. dependsOn "
				       "condition HEALTHY requires container '%s' to have a "
				       "healthCheck.", cname(c), target);
	}
	return 0;
}

static int container_index(const struct td *t, const char *name)
{
	const cJSON *c;
	int i = 0;

	cJSON_ArrayForEach(c, t->containers) {
		if (strcmp(cname(c), name) == 0)
			return i;
		i++;
	}
	return -1;
}

/* An edge list of the containers: LIST entries naming another by KEY. */
struct edges {
	const char *list, *key;
};

static const struct edges depends_edges = { "dependsOn", "containerName" };
static const struct edges from_edges = { "volumesFrom", "sourceContainer" };

/* Depth-first search; 1 = on the current path, 2 = done. */
static bool has_cycle(const struct td *t, const struct edges *g, int i, unsigned char *state)
{
	const cJSON *d;

	if (state[i] == 1)
		return true;
	if (state[i] == 2)
		return false;
	state[i] = 1;
	cJSON_ArrayForEach(d, get(cJSON_GetArrayItem(t->containers, i), g->list)) {
		int j = container_index(t, get_str(d, g->key));

		if (j >= 0 && has_cycle(t, g, j, state))
			return true;
	}
	state[i] = 2;
	return false;
}

static int no_cycle(struct td *t, const struct edges *g)
{
	unsigned char state[16] = { 0 }; /* rule_container_count capped containers at 10 */
	int n = cJSON_GetArraySize(t->containers);

	for (int i = 0; i < n; i++)
		if (has_cycle(t, g, i, state))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. The %s "
				       "relationships form a cycle.",
				       cname(cJSON_GetArrayItem(t->containers, i)), g->list);
	return 0;
}

int rule_depends_cycle(struct td *t)
{
	return no_cycle(t, &depends_edges);
}

static const cJSON *find_volume(const struct td *t, const char *name)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, get(t->doc, "volumes")) {
		const char *n = get_str(v, "name");

		if (n && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

/* A ".." component: a host path that walks up, or a containerPath whose
 * meaning depends on what the image has at its parents. */
static bool has_dotdot(const char *p)
{
	for (const char *c = p; c && (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return true;
	return false;
}

static const char *const volume_kinds[] = {
	"host", "dockerVolumeConfiguration", "efsVolumeConfiguration",
	"fsxWindowsFileServerVolumeConfiguration", "configuredAtLaunch",
};

static int volume_kind_count(const cJSON *v)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(volume_kinds); i++) {
		const cJSON *k = get(v, volume_kinds[i]);

		n += k && !cJSON_IsNull(k) && !cJSON_IsFalse(k);
	}
	return n;
}

int rule_volumes(struct td *t)
{
	const cJSON *v, *dvc;

	cJSON_ArrayForEach(v, get(t->doc, "volumes")) {
		const char *n = get_str(v, "name"), *src = get_str(get(v, "host"), "sourcePath");

		if (!ecs_name_is_valid(n))
			return err_api(t->e, EXC, "Invalid volume name '%.64s'. Up to 255 letters "
				       "(uppercase and lowercase), numbers, hyphens, and underscores "
				       "are allowed.", n ? n : "");
		if (find_volume(t, n) != v)
			return err_api(t->e, EXC, "Duplicate volume name '%s'.", n);
		if (src && !is_abs_path(src))
			return err_api(t->e, EXC, "Invalid setting for volume '%s'. "
				       "'host.sourcePath' must be an absolute path.", n);
		if (has_dotdot(src))
			return err_api(t->e, EXC, "Invalid setting for volume '%s'. "
				       "'host.sourcePath' must not contain '..' components.", n);
		if (volume_kind_count(v) > 1)
			return err_api(t->e, EXC, "Invalid setting for volume '%s'. Only one of host, "
				       "dockerVolumeConfiguration, efsVolumeConfiguration, "
				       "fsxWindowsFileServerVolumeConfiguration and configuredAtLaunch "
				       "may be set.", n);
		dvc = get(v, "dockerVolumeConfiguration");
		if (cJSON_IsTrue(get(dvc, "autoprovision")) &&
		    strcmp(get_str(dvc, "scope") ? get_str(dvc, "scope") : "task", "shared") != 0)
			return err_api(t->e, EXC, "Invalid setting for volume '%s'. 'autoprovision' "
				       "is only supported with scope 'shared'.", n);
	}
	return 0;
}

int rule_mount_points(struct td *t)
{
	const cJSON *c, *m;

	cJSON_ArrayForEach(c, t->containers) cJSON_ArrayForEach(m, get(c, "mountPoints")) {
		const char *src = get_str(m, "sourceVolume"), *path = get_str(m, "containerPath");

		if (!src || !find_volume(t, src))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. mountPoints "
				       "sourceVolume '%.64s' is not a volume of this task definition.",
				       cname(c), src ? src : "");
		if (!is_abs_path(path))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. mountPoints "
				       "containerPath must be an absolute path.", cname(c));
		if (has_dotdot(path))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. mountPoints "
				       "containerPath '%.64s' must not contain '..' components.",
				       cname(c), path);
		for (const cJSON *o = get(c, "mountPoints")->child; o != m; o = o->next)
			if (get_str(o, "containerPath") && strcmp(get_str(o, "containerPath"), path) == 0)
				return err_api(t->e, EXC, "Invalid setting for container '%s'. "
					       "Duplicate mount point '%.64s'.", cname(c), path);
	}
	return 0;
}

int rule_volumes_from(struct td *t)
{
	const cJSON *c, *v;

	cJSON_ArrayForEach(c, t->containers) cJSON_ArrayForEach(v, get(c, "volumesFrom")) {
		const char *src = get_str(v, "sourceContainer");
		const cJSON *sc = src ? find_container(t, src) : NULL;

		if (!sc || sc == c)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. volumesFrom "
				       "sourceContainer '%.64s' is not another container of this "
				       "task definition.", cname(c), src ? src : "");
	}
	return 0;
}

/* Runs after rule_volumes_from: every sourceContainer exists. */
int rule_volumes_from_cycle(struct td *t)
{
	return no_cycle(t, &from_edges);
}

static const struct hc_range {
	const char *field;
	int64_t min, max;
} hc_ranges[] = {
	{ "interval", 5, 300 },
	{ "timeout", 2, 60 },
	{ "retries", 1, 10 },
	{ "startPeriod", 0, 300 },
};

int rule_health_check(struct td *t)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, t->containers) {
		const cJSON *hc = get(c, "healthCheck");

		if (!hc)
			continue;
		if (cJSON_GetArraySize(get(hc, "command")) < 1)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. healthCheck "
				       "command must not be empty.", cname(c));
		for (size_t i = 0; i < ARRAY_SIZE(hc_ranges); i++) {
			const struct hc_range *h = &hc_ranges[i];
			int64_t v = get_int(hc, h->field, h->min);

			if (v < h->min || v > h->max)
				return err_api(t->e, EXC, "Invalid setting for container '%s'. "
					       "healthCheck %s must be between %lld and %lld.",
					       cname(c), h->field, (long long)h->min,
					       (long long)h->max);
		}
	}
	return 0;
}

int rule_ulimits(struct td *t)
{
	const cJSON *c, *u, *u2;

	cJSON_ArrayForEach(c, t->containers) cJSON_ArrayForEach(u, get(c, "ulimits")) {
		int64_t soft = get_int(u, "softLimit", 0), hard = get_int(u, "hardLimit", 0);
		const char *name = get_str(u, "name");

		/* -1 is "unlimited", as Docker takes it. */
		if (soft < -1 || hard < -1 || (hard != -1 && (soft == -1 || soft > hard)))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. ulimit '%s' "
				       "softLimit must not exceed hardLimit.", cname(c), name);
		cJSON_ArrayForEach(u2, get(c, "ulimits")) {
			if (u2 == u)
				break;
			if (strcmp(get_str(u2, "name"), name) == 0)
				return err_api(t->e, EXC, "Invalid setting for container '%s'. ulimit "
					       "'%s' is set more than once.", cname(c), name);
		}
	}
	return 0;
}

static const char *const capabilities[] = {
	"ALL", "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN",
	"DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL",
	"LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN",
	"NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
	"SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT",
	"SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG",
	"WAKE_ALARM",
};

static bool capability_is_known(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(capabilities); i++)
		if (strcmp(s, capabilities[i]) == 0)
			return true;
	return false;
}

static int check_linux_parameters(struct td *t, const cJSON *c, const cJSON *lp)
{
	static const char *const cap_lists[] = { "add", "drop" };
	const cJSON *it;

	for (size_t i = 0; i < ARRAY_SIZE(cap_lists); i++)
		cJSON_ArrayForEach(it, get(get(lp, "capabilities"), cap_lists[i]))
			if (!capability_is_known(it->valuestring))
				return err_api(t->e, EXC, "Invalid setting for container '%s'. "
					       "Unknown capability '%.64s' in linuxParameters."
					       "capabilities.%s.", cname(c), it->valuestring,
					       cap_lists[i]);
	cJSON_ArrayForEach(it, get(lp, "devices")) {
		const char *cp = get_str(it, "containerPath");

		if (!is_abs_path(get_str(it, "hostPath")) || (cp && !is_abs_path(cp)))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. Device paths "
				       "must be absolute.", cname(c));
	}
	cJSON_ArrayForEach(it, get(lp, "tmpfs")) {
		if (!is_abs_path(get_str(it, "containerPath")))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. tmpfs "
				       "containerPath must be an absolute path.", cname(c));
		if (get_int(it, "size", 0) < 1)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. tmpfs size "
				       "must be greater than 0.", cname(c));
	}
	if (get(lp, "sharedMemorySize") && get_int(lp, "sharedMemorySize", 0) < 1)
		return err_api(t->e, EXC, "Invalid setting for container '%s'. sharedMemorySize "
			       "must be greater than 0.", cname(c));
	if (get_int(lp, "maxSwap", 0) < 0)
		return err_api(t->e, EXC, "Invalid setting for container '%s'. maxSwap must not "
			       "be negative.", cname(c));
	if (get(lp, "swappiness") &&
	    (get_int(lp, "swappiness", 0) < 0 || get_int(lp, "swappiness", 0) > 100))
		return err_api(t->e, EXC, "Invalid setting for container '%s'. swappiness must be "
			       "between 0 and 100.", cname(c));
	return 0;
}

int rule_linux_parameters(struct td *t)
{
	const cJSON *c;
	int r;

	cJSON_ArrayForEach(c, t->containers) {
		const cJSON *lp = get(c, "linuxParameters");

		if (lp && (r = check_linux_parameters(t, c, lp)) < 0)
			return r;
	}
	return 0;
}

int rule_placement(struct td *t)
{
	const cJSON *pc, *list = get(t->doc, "placementConstraints");

	if (cJSON_GetArraySize(list) > 10)
		return err_api(t->e, EXC, "Too many placement constraints. At most 10 are "
			       "allowed.");
	cJSON_ArrayForEach(pc, list) {
		const char *expr = get_str(pc, "expression");

		if (!get_str(pc, "type"))
			return err_api(t->e, EXC, "Placement constraint type must be 'memberOf'.");
		if (!expr || !*expr || strlen(expr) > 2000)
			return err_api(t->e, EXC, "A memberOf placement constraint needs an "
				       "expression of 1 to 2000 characters.");
	}
	return 0;
}

int rule_restart_policy(struct td *t)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, t->containers) {
		const cJSON *rp = get(c, "restartPolicy");
		int64_t period = get_int(rp, "restartAttemptPeriod", 300);

		if (!rp)
			continue;
		if (cJSON_GetArraySize(get(rp, "ignoredExitCodes")) > 50)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. At most 50 "
				       "ignoredExitCodes are allowed.", cname(c));
		if (period < 60 || period > 1800)
			return err_api(t->e, EXC, "Invalid setting for container '%s'. "
				       "restartAttemptPeriod must be between 60 and 1800.", cname(c));
	}
	return 0;
}

int rule_timeouts(struct td *t)
{
	static const char *const fields[] = { "startTimeout", "stopTimeout" };
	const cJSON *c;

	cJSON_ArrayForEach(c, t->containers)
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			if (get_int(c, fields[i], 0) < 0)
				return err_api(t->e, EXC, "Invalid setting for container '%s'. %s "
					       "must not be negative.", cname(c), fields[i]);
	return 0;
}
