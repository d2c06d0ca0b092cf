/* control/taskdef_validate.c - RegisterTaskDefinition validation (pure).
 *
 * First the request is checked against the model shape (unknown members,
 * JSON types, enums), then normalized, then each rule of ECS-REFERENCE §1.4
 * runs in turn from a table; the first broken rule is reported.
 */
#include "control/taskdef_validate.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "control/arn.h"
#include "control/schema.h"
#include "lib/cleanup.h"

#define TASK_CPU_MIN 128
#define TASK_CPU_MAX 196608

#include "control/taskdef_internal.h"

/* ---- cpu / memory strings ---------------------------------------------- */

/* "12", "0.5", " 2 " with an optional case-insensitive SUFFIX; the value in
 * thousandths.  Up to 9 integer and 3 fraction digits. */
static int parse_decimal(const char *s, const char *suffix, bool *had_suffix, int64_t *milli)
{
	int64_t ip = 0, fp = 0;
	int nip = 0, nfp = 0;

	while (*s == ' ')
		s++;
	for (; isdigit((unsigned char)*s); s++, nip++) {
		if (nip >= 9)
			return -EINVAL;
		ip = ip * 10 + (*s - '0');
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, nfp++) {
			if (nfp >= 3)
				return -EINVAL;
			fp = fp * 10 + (*s - '0');
		}
		if (nfp == 0)
			return -EINVAL;
	}
	if (nip == 0)
		return -EINVAL;
	for (int i = nfp; i < 3; i++)
		fp *= 10;
	while (*s == ' ')
		s++;
	*had_suffix = false;
	if (*s && strncasecmp(s, suffix, strlen(suffix)) == 0) {
		*had_suffix = true;
		s += strlen(suffix);
		while (*s == ' ')
			s++;
	}
	if (*s)
		return -EINVAL;
	*milli = ip * 1000 + fp;
	return 0;
}

/* Whole number, or "<x><SUFFIX>" meaning x * 1024 (vCPU -> units, GB -> MiB). */
static int parse_scaled(const cJSON *v, const char *suffix, int64_t *ret)
{
	bool scaled;
	int64_t milli;

	if (cJSON_IsNumber(v)) {
		if (!json_number_is_int(v->valuedouble, 0, 2147483647.0))
			return -EINVAL;
		*ret = (int64_t)v->valuedouble;
		return 0;
	}
	if (!cJSON_IsString(v) || parse_decimal(v->valuestring, suffix, &scaled, &milli) < 0)
		return -EINVAL;
	if (!scaled) {
		if (milli % 1000)
			return -EINVAL;
		*ret = milli / 1000;
	} else {
		if ((milli * 1024) % 1000)
			return -EINVAL;
		*ret = milli * 1024 / 1000;
	}
	return *ret <= 2147483647 ? 0 : -EINVAL;
}

int taskdef_parse_cpu(const cJSON *v, int64_t *ret)
{
	return parse_scaled(v, "vcpu", ret);
}

int taskdef_parse_memory(const cJSON *v, int64_t *ret)
{
	return parse_scaled(v, "gb", ret);
}

/* ---- normalization ----------------------------------------------------- */

static int set_default(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return -ENOMEM;
	if (get(o, k)) {
		cJSON_Delete(v);
		return 0;
	}
	if (!cJSON_AddItemToObject(o, k, v)) {
		cJSON_Delete(v);
		return -ENOMEM;
	}
	return 0;
}

static int set_number_string(cJSON *o, const char *k, int64_t v)
{
	char buf[32];
	cJSON *s;

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	s = cJSON_CreateString(buf);
	if (!s || !cJSON_ReplaceItemInObjectCaseSensitive(o, k, s)) {
		cJSON_Delete(s);
		return -ENOMEM;
	}
	return 0;
}

static int normalize_ports(struct td *t, cJSON *c)
{
	cJSON *pm;
	int r = 0;

	cJSON_ArrayForEach(pm, get(c, "portMappings")) {
		const cJSON *cp = get(pm, "containerPort");

		r = set_default(pm, "protocol", cJSON_CreateString("tcp"));
		if (r == 0 && cp && !get(pm, "containerPortRange"))
			r = set_default(pm, "hostPort",
					cJSON_CreateNumber(strcmp(t->net, "bridge") == 0
							   ? 0 : cp->valuedouble));
		if (r < 0)
			return r;
	}
	return 0;
}

static int normalize(struct td *t)
{
	static const char *const container_lists[] = {
		"portMappings", "environment", "mountPoints", "volumesFrom",
	};
	cJSON *c;
	int r;

	r = set_default(t->doc, "volumes", cJSON_CreateArray());
	if (r == 0)
		r = set_default(t->doc, "placementConstraints", cJSON_CreateArray());
	if (r == 0 && t->cpu >= 0)
		r = set_number_string(t->doc, "cpu", t->cpu);
	if (r == 0 && t->memory >= 0)
		r = set_number_string(t->doc, "memory", t->memory);
	cJSON_ArrayForEach(c, t->containers) {
		if (r == 0)
			r = set_default(c, "cpu", cJSON_CreateNumber(0));
		for (size_t i = 0; r == 0 && i < ARRAY_SIZE(container_lists); i++)
			r = set_default(c, container_lists[i], cJSON_CreateArray());
		if (r == 0)
			r = set_default(c, "essential", cJSON_CreateTrue());
		if (r == 0)
			r = normalize_ports(t, c);
	}
	return r < 0 ? err_set(t->e, r, "normalize task definition") : 0;
}

/* ---- rules, one per check ---------------------------------------------- */

static int rule_family(struct td *t)
{
	if (!ecs_name_is_valid(get_str(t->doc, "family")))
		return err_api(t->e, EXC, "Family contains invalid characters or is too long. "
			       "Up to 255 letters (uppercase and lowercase), numbers, hyphens, "
			       "and underscores are allowed.");
	return 0;
}

static int rule_container_count(struct td *t)
{
	int n = cJSON_GetArraySize(t->containers);

	if (n < 1)
		return err_api(t->e, EXC, "Container list cannot be empty.");
	if (n > TASKDEF_MAX_CONTAINERS)
		return err_api(t->e, EXC, "Too many containers: %d. A task definition can have "
			       "at most %d containers.", n, TASKDEF_MAX_CONTAINERS);
	return 0;
}

static int rule_container_names(struct td *t)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, t->containers) {
		const char *n = get_str(c, "name");

		if (!n || !*n)
			return err_api(t->e, EXC, "Container.name should not be null or empty.");
		if (!ecs_name_is_valid(n))
			return err_api(t->e, EXC, "Invalid container name '%.64s'. Up to 255 letters "
				       "(uppercase and lowercase), numbers, hyphens, and underscores "
				       "are allowed.", n);
		if (find_container(t, n) != c)
			return err_api(t->e, EXC, "Duplicate container name '%s'. Container names "
				       "must be unique within a task definition.", n);
	}
	return 0;
}

static bool image_is_valid(const char *img)
{
	const char *at = strchr(img, '@');
	size_t n = at ? (size_t)(at - img) : strlen(img);

	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)img[i]) && !strchr("-_:./#", img[i]))
			return false;
	if (!at)
		return true;
	if (strncmp(at + 1, "sha256:", 7) != 0 || strlen(at + 8) != 64)
		return false;
	for (const char *p = at + 8; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return false;
	return true;
}

static int rule_images(struct td *t)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, t->containers) {
		const char *img = get_str(c, "image");

		if (!img || !*img)
			return err_api(t->e, EXC, "Container.image should not be null or empty.");
		if (!image_is_valid(img))
			return err_api(t->e, EXC, "Invalid setting for container '%s'. Invalid image "
				       "reference '%.64s'.", get_str(c, "name"), img);
	}
	return 0;
}

static int rule_essential(struct td *t)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, t->containers)
		if (is_essential(c))
			return 0;
	return err_api(t->e, EXC, "Invalid setting for containers. At least one container must "
		       "be marked as essential.");
}

static int rule_task_sizes(struct td *t)
{
	if (t->cpu >= 0 && (t->cpu < TASK_CPU_MIN || t->cpu > TASK_CPU_MAX))
		return err_api(t->e, EXC, "Invalid 'cpu' setting for task. The value must be "
			       "between %d and %d CPU units.", TASK_CPU_MIN, TASK_CPU_MAX);
	if (t->memory >= 0 && t->memory < MIN_CONTAINER_MEMORY)
		return err_api(t->e, EXC, "Invalid 'memory' setting for task. The minimum is %d "
			       "MiB.", MIN_CONTAINER_MEMORY);
	return 0;
}

static int rule_container_cpu(struct td *t)
{
	const cJSON *c;
	int64_t sum = 0;

	cJSON_ArrayForEach(c, t->containers) {
		int64_t cpu = get_int(c, "cpu", 0);

		if (cpu < 0)
			return err_api(t->e, EXC, "Invalid 'cpu' setting for container '%s'. The "
				       "value must not be negative.", get_str(c, "name"));
		sum += cpu;
	}
	if (t->cpu >= 0 && sum > t->cpu)
		return err_api(t->e, EXC, "Invalid 'cpu' setting for task. The sum of the "
			       "container cpu values (%lld) exceeds the task cpu (%lld).",
			       (long long)sum, (long long)t->cpu);
	return 0;
}

static int check_container_memory(struct td *t, const cJSON *c, int64_t *reserve)
{
	const char *name = get_str(c, "name");
	int64_t mem = get_int(c, "memory", -1), res = get_int(c, "memoryReservation", -1);

	if (mem >= 0 && mem < MIN_CONTAINER_MEMORY)
		return err_api(t->e, EXC, "Invalid 'memory' setting for container '%s'. The "
			       "minimum is %d MiB.", name, MIN_CONTAINER_MEMORY);
	if (get(c, "memoryReservation") && res < 1)
		return err_api(t->e, EXC, "Invalid 'memoryReservation' setting for container "
			       "'%s'. The value must be greater than 0.", name);
	if (mem < 0 && res < 0 && t->memory < 0)
		return err_api(t->e, EXC, "Invalid setting for container '%s'. At least one of "
			       "'memory' or 'memoryReservation' must be specified.", name);
	/* ECS documents "if you specify both, memory must be greater than
	 * memoryReservation" (ECS-REFERENCE 1.4 rule 3): equal is refused. */
	if (mem >= 0 && res >= mem)
		return err_api(t->e, EXC, "Invalid setting for container '%s'. 'memory' must be "
			       "greater than 'memoryReservation'.", name);
	if (t->memory >= 0 && mem > t->memory)
		return err_api(t->e, EXC, "Invalid 'memory' setting for container '%s'. The "
			       "container memory (%lld) exceeds the task memory (%lld).", name,
			       (long long)mem, (long long)t->memory);
	*reserve = res >= 0 ? res : mem >= 0 ? mem : 0;
	return 0;
}

static int rule_memory(struct td *t)
{
	const cJSON *c;
	int64_t sum = 0, one = 0;
	int r;

	cJSON_ArrayForEach(c, t->containers) {
		r = check_container_memory(t, c, &one);
		if (r < 0)
			return r;
		sum += one;
	}
	if (t->memory >= 0 && sum > t->memory)
		return err_api(t->e, EXC, "Invalid 'memory' setting for task. The sum of the "
			       "container memory reservations (%lld) exceeds the task memory "
			       "(%lld).", (long long)sum, (long long)t->memory);
	return 0;
}


typedef int rule_fn(struct td *t);

/* In the order they are reported: request-level first, then per container. */
static rule_fn *const rules[] = {
	rule_family,
	rule_container_count,
	rule_container_names,
	rule_images,
	rule_essential,
	rule_task_sizes,
	rule_container_cpu,
	rule_memory,
	rule_network,
	rule_port_mappings,
	rule_links,
	rule_depends_on,
	rule_depends_cycle,
	rule_volumes,
	rule_mount_points,
	rule_volumes_from,
	rule_volumes_from_cycle,
	rule_health_check,
	rule_ulimits,
	rule_linux_parameters,
	rule_dns,
	rule_system_controls,
	rule_devices,
	rule_placement,
	rule_restart_policy,
	rule_timeouts,
};

static int task_sizes(struct td *t, const cJSON *req)
{
	const cJSON *cpu = get(req, "cpu"), *mem = get(req, "memory");

	t->cpu = t->memory = -1;
	if (cpu && taskdef_parse_cpu(cpu, &t->cpu) < 0)
		return err_api(t->e, EXC, "Invalid 'cpu' setting for task. Specify CPU units as "
			       "an integer ('1024') or vCPUs ('1 vCPU').");
	if (mem && taskdef_parse_memory(mem, &t->memory) < 0)
		return err_api(t->e, EXC, "Invalid 'memory' setting for task. Specify MiB as an "
			       "integer ('1024') or GB ('1 GB').");
	return 0;
}

int taskdef_build(const cJSON *req, cJSON **ret_doc, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *doc = NULL;
	_cleanup_free_ char *text = NULL;
	struct td t = { .e = e };
	int r;

	r = schema_check(req, &shape_RegisterTaskDefinitionRequest, EXC, e);
	if (r < 0)
		return r;
	r = task_sizes(&t, req);
	if (r < 0)
		return r;
	doc = cJSON_Duplicate(req, true);
	if (!doc)
		return err_set(e, -ENOMEM, "copy task definition");
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "tags");
	t.doc = doc;
	t.containers = cJSON_GetObjectItemCaseSensitive(doc, "containerDefinitions");
	t.net = get_str(doc, "networkMode") ? get_str(doc, "networkMode") : "bridge";
	/* Rules run before defaults are filled in, so "omitted" stays visible. */
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		r = rules[i](&t);
		if (r < 0)
			return r;
	}
	r = normalize(&t);
	if (r < 0)
		return r;
	text = cJSON_PrintUnformatted(doc);
	if (!text)
		return err_set(e, -ENOMEM, "serialize task definition");
	if (strlen(text) > TASKDEF_MAX_DOC_BYTES)
		return err_api(e, EXC, "Task definition size (%zu bytes) exceeds the maximum of "
			       "%d bytes.", strlen(text), TASKDEF_MAX_DOC_BYTES);
	*ret_doc = TAKE_PTR(doc);
	return 0;
}
