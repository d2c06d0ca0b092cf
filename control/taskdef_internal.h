/* control/taskdef_internal.h - shared by the task definition validation files. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "lib/err.h"
#include "lib/json.h"

#define EXC "ClientException"
#define MIN_CONTAINER_MEMORY 6   /* MiB: Docker >= 20.10 refuses less */

struct td {
	cJSON *doc;            /* normalized document */
	cJSON *containers;     /* doc.containerDefinitions */
	const char *net;       /* network mode, "bridge" when omitted */
	int64_t cpu, memory;   /* task level, -1 when absent */
	struct err *e;
};

static inline const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static inline const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Integer member or DEF; the shape check already proved it is an integer. */
static inline int64_t get_int(const cJSON *o, const char *k, int64_t def)
{
	const cJSON *v = get(o, k);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

static inline bool is_essential(const cJSON *c)
{
	return !cJSON_IsFalse(get(c, "essential"));
}

static inline const cJSON *find_container(const struct td *t, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, t->containers) {
		const char *n = get_str(c, "name");

		if (n && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

static inline const char *cname(const cJSON *c)
{
	const char *n = get_str(c, "name");

	return n ? n : "";
}

/* Rules in taskdef_rules.c; each returns 0 or err_api(t->e, EXC, ...). */
int rule_network(struct td *t);
int rule_port_mappings(struct td *t);
int rule_links(struct td *t);
int rule_depends_on(struct td *t);
int rule_depends_cycle(struct td *t);
int rule_volumes(struct td *t);
int rule_mount_points(struct td *t);
int rule_volumes_from(struct td *t);
int rule_volumes_from_cycle(struct td *t);
int rule_health_check(struct td *t);
int rule_ulimits(struct td *t);
int rule_linux_parameters(struct td *t);
int rule_placement(struct td *t);
int rule_restart_policy(struct td *t);
int rule_timeouts(struct td *t);
/* taskdef_rules_fields.c */
int rule_dns(struct td *t);
int rule_system_controls(struct td *t);
int rule_devices(struct td *t);
