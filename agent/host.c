/* agent/host.c - the host as a container instance: resources, attributes,
 * a stable instance id (ECS-REFERENCE 9.2, 9.3). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/json.h"

#define MEMINFO_MAX 65536

int host_parse_meminfo(const char *text, int64_t *ret_mib)
{
	const char *p = strstr(text, "MemTotal:");
	unsigned long long kib;
	char unit[8];

	if (!p || (p != text && p[-1] != '\n'))
		return -EINVAL;
	if (sscanf(p + strlen("MemTotal:"), "%llu %7s", &kib, unit) != 2 || strcmp(unit, "kB") != 0)
		return -EINVAL;
	*ret_mib = (int64_t)(kib / 1024);
	return 0;
}

const char *host_ecs_arch(const char *machine)
{
	static const struct { const char *uname, *ecs; } map[] = {
		{ "x86_64", "x86_64" }, { "aarch64", "arm64" }, { "arm64", "arm64" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(machine, map[i].uname) == 0)
			return map[i].ecs;
	return machine;
}

int host_parse_ports(const char *json, uint16_t *out, size_t max, size_t *ret_n)
{
	_cleanup_(cJSON_Deletep) cJSON *list = json_parse_strict(json, strlen(json));
	const cJSON *p;
	size_t n = 0;

	if (!cJSON_IsArray(list))
		return -EINVAL;
	cJSON_ArrayForEach(p, list) {
		if (!cJSON_IsNumber(p) || p->valuedouble < 1 || p->valuedouble > 65535 ||
		    p->valuedouble != (double)(int)p->valuedouble)
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		out[n++] = (uint16_t)p->valuedouble;
	}
	*ret_n = n;
	return 0;
}

static int add_attr(cJSON *list, const char *name, const char *value)
{
	cJSON *a = cJSON_CreateObject();

	if (!a || !cJSON_AddItemToArray(list, a)) {
		cJSON_Delete(a);
		return -ENOMEM;
	}
	if (!cJSON_AddStringToObject(a, "name", name))
		return -ENOMEM;
	if (value && !cJSON_AddStringToObject(a, "value", value))
		return -ENOMEM;
	return 0;
}

int host_attributes(const char *arch, const char *user_json, const char *drivers_json,
		    cJSON **ret, struct err *e)
{
	static const char *const caps[] = {
		"ecs.capability.task-cpu-mem-limit", "ecs.capability.container-health-check",
		"ecs.capability.container-ordering", "com.amazonaws.ecs.capability.privileged-container",
	};
	_cleanup_(cJSON_Deletep) cJSON *list = cJSON_CreateArray();
	_cleanup_(cJSON_Deletep) cJSON *user = NULL, *drivers = NULL;
	const cJSON *it;
	char name[300];
	int r = 0;

	if (!list || add_attr(list, "ecs.os-type", "linux") < 0 ||
	    add_attr(list, "ecs.os-family", "LINUX") < 0 ||
	    add_attr(list, "ecs.cpu-architecture", arch) < 0)
		return err_set(e, -ENOMEM, "host attributes");
	for (size_t i = 0; i < ARRAY_SIZE(caps) && r == 0; i++)
		r = add_attr(list, caps[i], NULL);
	drivers = json_parse_strict(drivers_json ? drivers_json : "[]",
				    strlen(drivers_json ? drivers_json : "[]"));
	if (!cJSON_IsArray(drivers))
		return err_setx(e, -EINVAL, "BERTH_AVAILABLE_LOGGING_DRIVERS is not a JSON array");
	cJSON_ArrayForEach(it, drivers) {
		if (!cJSON_IsString(it) || strlen(it->valuestring) > 200)
			return err_setx(e, -EINVAL, "BERTH_AVAILABLE_LOGGING_DRIVERS: not a driver name");
		snprintf(name, sizeof(name), "com.amazonaws.ecs.capability.logging-driver.%s",
			 it->valuestring);
		if (r == 0)
			r = add_attr(list, name, NULL);
	}
	user = json_parse_strict(user_json ? user_json : "{}", strlen(user_json ? user_json : "{}"));
	if (!cJSON_IsObject(user))
		return err_setx(e, -EINVAL, "BERTH_INSTANCE_ATTRIBUTES is not a JSON object");
	cJSON_ArrayForEach(it, user) {
		if (!cJSON_IsString(it))
			return err_setx(e, -EINVAL, "BERTH_INSTANCE_ATTRIBUTES: '%s' is not a string",
					it->string);
		if (r == 0)
			r = add_attr(list, it->string, it->valuestring);
	}
	if (r < 0)
		return err_set(e, r, "host attributes");
	*ret = TAKE_PTR(list);
	return 0;
}

static int tags_from_map(const char *json, cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *map = json_parse_strict(json ? json : "{}",
								 strlen(json ? json : "{}"));
	_cleanup_(cJSON_Deletep) cJSON *list = cJSON_CreateArray();
	const cJSON *it;

	if (!cJSON_IsObject(map))
		return err_setx(e, -EINVAL, "BERTH_CONTAINER_INSTANCE_TAGS is not a JSON object");
	cJSON_ArrayForEach(it, map) {
		cJSON *t = cJSON_CreateObject();

		if (!cJSON_IsString(it)) {
			cJSON_Delete(t);
			return err_setx(e, -EINVAL, "BERTH_CONTAINER_INSTANCE_TAGS: '%s' is not a string",
					it->string);
		}
		if (!t || !cJSON_AddItemToArray(list, t) || !cJSON_AddStringToObject(t, "key", it->string) ||
		    !cJSON_AddStringToObject(t, "value", it->valuestring))
			return err_set(e, -ENOMEM, "instance tags");
	}
	*ret = TAKE_PTR(list);
	return 0;
}

static int fsync_at(int dfd, const char *name)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	return fd < 0 || fsync(fd) < 0 ? -1 : 0;
}

int host_instance_id(const char *dir, char id[AGENT_ID_LEN + 1], struct err *e)
{
	_cleanup_close_ int dfd = -1;
	unsigned char b[AGENT_ID_LEN / 2];
	char buf[AGENT_ID_LEN + 2];
	size_t len;
	int r;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, -errno, "create '%s'", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(e, -errno, "open '%s'", dir);
	r = read_file_at(dfd, "instance-id", buf, sizeof(buf), &len);
	if (r == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strlen(buf) != AGENT_ID_LEN || strspn(buf, "0123456789abcdef") != AGENT_ID_LEN)
			return err_setx(e, -EINVAL, "'%s/instance-id' is not a container instance id", dir);
		memcpy(id, buf, AGENT_ID_LEN + 1);
		return 0;
	}
	if (r != -ENOENT)
		return err_set(e, r, "read '%s/instance-id'", dir);
	if (RAND_bytes(b, sizeof(b)) != 1)
		return err_setx(e, -EIO, "generate an instance id");
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
	buf[AGENT_ID_LEN] = '\n';
	/* Written whole and renamed: a crash never leaves half an id. */
	r = write_file_create_at(dfd, "instance-id.tmp", buf, AGENT_ID_LEN + 1, 0600);
	if (r == 0 && (fsync_at(dfd, "instance-id.tmp") < 0 ||
		       renameat(dfd, "instance-id.tmp", dfd, "instance-id") < 0))
		r = -errno;
	if (r < 0)
		return err_set(e, r, "write '%s/instance-id'", dir);
	buf[AGENT_ID_LEN] = '\0';
	memcpy(id, buf, AGENT_ID_LEN + 1);
	return 0;
}

static int load_resources(const struct config *cfg, struct host_info *h, struct err *e)
{
	_cleanup_free_ char *meminfo = NULL;
	uint64_t reserved = config_get_u64(cfg, CFG_RESERVED_MEMORY);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t mib;
	int r;

	r = read_file_alloc("/proc/meminfo", MEMINFO_MAX, &meminfo, NULL);
	if (r < 0)
		return err_set(e, r, "read /proc/meminfo");
	if (host_parse_meminfo(meminfo, &mib) < 0)
		return err_setx(e, -EINVAL, "/proc/meminfo has no MemTotal");
	if ((int64_t)reserved >= mib)
		return err_setx(e, -EINVAL, "BERTH_RESERVED_MEMORY (%llu MiB) is not less than the "
				"host's memory (%lld MiB)", (unsigned long long)reserved, (long long)mib);
	h->memory = mib - (int64_t)reserved;
	h->cpu = (ncpu > 0 ? ncpu : 1) * 1024;
	if (host_parse_ports(config_get(cfg, CFG_RESERVED_PORTS), h->ports_tcp,
			     ARRAY_SIZE(h->ports_tcp), &h->n_tcp) < 0 ||
	    host_parse_ports(config_get(cfg, CFG_RESERVED_PORTS_UDP), h->ports_udp,
			     ARRAY_SIZE(h->ports_udp), &h->n_udp) < 0)
		return err_setx(e, -EINVAL, "BERTH_RESERVED_PORTS / _UDP: not a JSON array of ports");
	return 0;
}

/* Where the host is and what class it is, for placement (edge: the site or
 * rack, the host class). */
static int add_placement_attrs(const struct config *cfg, cJSON *list, struct err *e)
{
	static const struct { enum config_key key; const char *name; } map[] = {
		{ CFG_AVAILABILITY_ZONE, "ecs.availability-zone" },
		{ CFG_INSTANCE_TYPE, "ecs.instance-type" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		const char *v = config_get(cfg, map[i].key);

		if (v && add_attr(list, map[i].name, v) < 0)
			return err_set(e, -ENOMEM, "host attributes");
	}
	return 0;
}

int host_info_load(const struct config *cfg, struct host_info *h, struct err *e)
{
	_cleanup_free_ char *dir = NULL;
	struct utsname u;
	int r;

	*h = (struct host_info){ 0 };
	if (asprintf(&dir, "%s/agent", config_get(cfg, CFG_STATE_DIR)) < 0)
		return err_set(e, -ENOMEM, "agent dir");
	r = host_instance_id(dir, h->id, e);
	if (r < 0)
		return r;
	if (uname(&u) < 0)
		return err_set(e, -errno, "uname");
	snprintf(h->hostname, sizeof(h->hostname), "%s", u.nodename);
	h->arch = host_ecs_arch(u.machine);
	r = load_resources(cfg, h, e);
	if (r >= 0)
		r = host_attributes(h->arch, config_get(cfg, CFG_INSTANCE_ATTRIBUTES),
				    config_get(cfg, CFG_AVAILABLE_LOGGING_DRIVERS), &h->attributes, e);
	if (r >= 0)
		r = add_placement_attrs(cfg, h->attributes, e);
	if (r >= 0)
		r = tags_from_map(config_get(cfg, CFG_CONTAINER_INSTANCE_TAGS), &h->tags, e);
	if (r < 0)
		host_info_release(h);
	return r;
}

void host_info_release(struct host_info *h)
{
	cJSON_Delete(h->attributes);
	cJSON_Delete(h->tags);
	h->attributes = h->tags = NULL;
}
