/* agent/spec.c - a task's spec.json (runtime/shim.h) from the effective task
 * definition and each container's image config (pure). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "images/config.h"
#include "lib/cleanup.h"
#include "lib/json.h"


static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool add(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return false;
	if (!cJSON_AddItemToObject(o, k, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}

static cJSON *dup_or(const cJSON *v, cJSON *def)
{
	if (!v)
		return def;
	cJSON_Delete(def);
	return cJSON_Duplicate(v, true);
}

static cJSON *strv(char *const *v)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && v && v[i]; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* null for an unset optional number. */
static cJSON *num_or_null(const cJSON *v)
{
	return cJSON_IsNumber(v) ? cJSON_CreateNumber(v->valuedouble) : cJSON_CreateNull();
}

static cJSON *labels(const struct spec_in *in, const cJSON *def)
{
	cJSON *l = dup_or(get(def, "dockerLabels"), cJSON_CreateObject());
	char rev[32];

	snprintf(rev, sizeof(rev), "%d", (int)cJSON_GetNumberValue(get(in->taskdef, "revision")));
	if (!l || !cJSON_AddStringToObject(l, "com.amazonaws.ecs.cluster", in->cluster) ||
	    !cJSON_AddStringToObject(l, "com.amazonaws.ecs.container-name", json_get_str(def, "name")) ||
	    !cJSON_AddStringToObject(l, "com.amazonaws.ecs.task-arn", json_get_str(in->task, "taskArn")) ||
	    !cJSON_AddStringToObject(l, "com.amazonaws.ecs.task-definition-family",
				     json_get_str(in->taskdef, "family") ? json_get_str(in->taskdef, "family") : "") ||
	    !cJSON_AddStringToObject(l, "com.amazonaws.ecs.task-definition-version", rev)) {
		cJSON_Delete(l);
		return NULL;
	}
	return l;
}

static cJSON *log_config(const cJSON *def)
{
	const cJSON *lc = get(def, "logConfiguration");
	cJSON *o = cJSON_CreateObject();

	if (!o || !add(o, "logDriver", cJSON_CreateString(json_get_str(lc, "logDriver") ? json_get_str(lc, "logDriver")
										: "json-file")) ||
	    !add(o, "options", dup_or(get(lc, "options"), cJSON_CreateObject()))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *caps(const cJSON *def, const char *which)
{
	return dup_or(get(get(get(def, "linuxParameters"), "capabilities"), which), cJSON_CreateArray());
}

/* The container definition's list KEY (of LP when given), or []. */
static cJSON *list_of(const cJSON *def, const char *key)
{
	return dup_or(get(def, key), cJSON_CreateArray());
}

/* resolv.conf, hosts, sysctls, devices, /dev/shm: the shim checks them again. */
static bool add_fields(cJSON *c, const cJSON *def)
{
	const cJSON *lp = get(def, "linuxParameters");

	return add(c, "dnsServers", list_of(def, "dnsServers")) &&
	       add(c, "dnsSearchDomains", list_of(def, "dnsSearchDomains")) &&
	       add(c, "extraHosts", list_of(def, "extraHosts")) &&
	       add(c, "systemControls", list_of(def, "systemControls")) &&
	       add(c, "devices", list_of(lp, "devices")) &&
	       add(c, "tmpfs", list_of(lp, "tmpfs")) &&
	       add(c, "sharedMemorySize", num_or_null(get(lp, "sharedMemorySize")));
}

static cJSON *container(const struct spec_in *in, const cJSON *def,
			const struct spec_container_in *ci)
{
	_cleanup_(cJSON_Deletep) cJSON *c = cJSON_CreateObject();
	const struct img_exec *x = ci->exec;
	const cJSON *hc = get(def, "healthCheck");

	if (!c || !add(c, "name", cJSON_CreateString(json_get_str(def, "name"))) ||
	    !add(c, "rootfs", cJSON_CreateString(ci->rootfs)) || !add(c, "argv", strv(x->argv)) ||
	    !add(c, "env", strv(x->env)) ||
	    !add(c, "user", x->user && *x->user ? cJSON_CreateString(x->user) : cJSON_CreateNull()) ||
	    !add(c, "workingDirectory", x->workdir ? cJSON_CreateString(x->workdir) : cJSON_CreateNull()) ||
	    !add(c, "readonlyRootFilesystem", cJSON_CreateBool(cJSON_IsTrue(get(def, "readonlyRootFilesystem")))) ||
	    !add(c, "privileged", cJSON_CreateBool(cJSON_IsTrue(get(def, "privileged")))) ||
	    !add(c, "capAdd", caps(def, "add")) || !add(c, "capDrop", caps(def, "drop")) ||
	    !add(c, "ulimits", dup_or(get(def, "ulimits"), cJSON_CreateArray())) ||
	    !add(c, "cpu", cJSON_CreateNumber(cJSON_GetNumberValue(get(def, "cpu")) > 0
					      ? cJSON_GetNumberValue(get(def, "cpu")) : 0)) ||
	    !add(c, "memory", num_or_null(get(def, "memory"))) ||
	    !add(c, "memoryReservation", num_or_null(get(def, "memoryReservation"))) ||
	    !add(c, "essential", cJSON_CreateBool(!cJSON_IsFalse(get(def, "essential")))) ||
	    !add(c, "dependsOn", dup_or(get(def, "dependsOn"), cJSON_CreateArray())) ||
	    !add(c, "startTimeout", num_or_null(get(def, "startTimeout"))) ||
	    !add(c, "stopTimeout", num_or_null(get(def, "stopTimeout"))) ||
	    !add(c, "healthCheck", hc ? cJSON_Duplicate(hc, true) : cJSON_CreateNull()) ||
	    !add(c, "logConfiguration", log_config(def)) ||
	    !add(c, "hostname", json_get_str(def, "hostname") ? cJSON_CreateString(json_get_str(def, "hostname"))
						     : cJSON_CreateNull()) ||
	    !add(c, "initProcessEnabled",
		 cJSON_CreateBool(cJSON_IsTrue(get(get(def, "linuxParameters"), "initProcessEnabled")))) ||
	    !add(c, "labels", labels(in, def)) || !add_fields(c, def))
		return NULL;
	return TAKE_PTR(c);
}

static cJSON *task_number(const cJSON *taskdef, const char *k)
{
	const char *s = json_get_str(taskdef, k);

	return s ? cJSON_CreateNumber(strtod(s, NULL)) : NULL;
}

static cJSON *mode_or_null(const cJSON *taskdef, const char *k)
{
	return json_get_str(taskdef, k) ? cJSON_CreateString(json_get_str(taskdef, k)) : cJSON_CreateNull();
}

int spec_build(const struct spec_in *in, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *s = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray(), *v;
	const cJSON *def;
	char tasks_cg[256], shims_cg[256];
	size_t i = 0;

	snprintf(tasks_cg, sizeof(tasks_cg), "%s/tasks", in->cgroup_parent ? in->cgroup_parent : "berth");
	snprintf(shims_cg, sizeof(shims_cg), "%s/shims", in->cgroup_parent ? in->cgroup_parent : "berth");
	if (!s || !add(s, "containers", list) ||
	    !add(s, "taskArn", cJSON_CreateString(json_get_str(in->task, "taskArn"))) ||
	    !add(s, "taskId", cJSON_CreateString(in->task_id)) ||
	    !add(s, "stateDir", cJSON_CreateString(in->state_dir)) ||
	    !add(s, "cgroupParent", cJSON_CreateString(tasks_cg)) ||
	    !add(s, "shimCgroup", cJSON_CreateString(shims_cg)) ||
	    !add(s, "cgroupEnforce", cJSON_CreateBool(in->cgroup_enforce)) ||
	    !add(s, "networkMode", cJSON_CreateString(json_get_str(in->taskdef, "networkMode")
						      ? json_get_str(in->taskdef, "networkMode") : "bridge")) ||
	    !add(s, "pidMode", mode_or_null(in->taskdef, "pidMode")) ||
	    !add(s, "ipcMode", mode_or_null(in->taskdef, "ipcMode")) ||
	    !add(s, "stopTimeoutDefault", cJSON_CreateNumber((double)in->stop_timeout_sec)))
		return -ENOMEM;
	if ((v = task_number(in->taskdef, "cpu")) && !add(s, "cpu", v))
		return -ENOMEM;
	if ((v = task_number(in->taskdef, "memory")) && !add(s, "memory", v))
		return -ENOMEM;
	if (in->netns_path && !add(s, "netnsPath", cJSON_CreateString(in->netns_path)))
		return -ENOMEM;
	if (in->pids_limit > 0 && !add(s, "pidsLimit", cJSON_CreateNumber((double)in->pids_limit)))
		return -ENOMEM;
	if (in->volumes && !add(s, "volumes", cJSON_Duplicate(in->volumes, true)))
		return -ENOMEM;
	if (in->addresses && !add(s, "addresses", strv(in->addresses)))
		return -ENOMEM;
	cJSON_ArrayForEach(def, get(in->taskdef, "containerDefinitions")) {
		if (!cJSON_AddItemToArray(list, container(in, def, &in->containers[i++])))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

/* ["a", "b"] -> malloc'd NULL-terminated vector of borrowed strings. */
static char **borrowed_strv(const cJSON *list)
{
	char **v;
	size_t n = 0;
	const cJSON *it;

	if (!list)
		return NULL;
	v = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*v));
	cJSON_ArrayForEach(it, list)
		if (v && cJSON_IsString(it))
			v[n++] = it->valuestring;
	return v;
}

int spec_overrides(const cJSON *def, struct img_overrides *o)
{
	const cJSON *env = get(def, "environment"), *kv;
	char **e = NULL;
	size_t n = 0;

	*o = (struct img_overrides){ 0 };
	if (get(def, "entryPoint") && !(o->entrypoint = borrowed_strv(get(def, "entryPoint"))))
		return -ENOMEM;
	if (get(def, "command") && !(o->command = borrowed_strv(get(def, "command"))))
		goto fail;
	if (env) {
		e = calloc((size_t)cJSON_GetArraySize(env) + 1, sizeof(*e));
		if (!e)
			goto fail;
		o->environment = e;
		cJSON_ArrayForEach(kv, env) {
			const char *k = json_get_str(kv, "name"), *v = json_get_str(kv, "value");

			if (!k)
				continue;
			if (asprintf(&e[n], "%s=%s", k, v ? v : "") < 0) {
				e[n] = NULL;
				goto fail;
			}
			n++;
		}
	}
	o->workdir = json_get_str(def, "workingDirectory");
	o->user = json_get_str(def, "user");
	return 0;
fail:
	spec_overrides_release(o);
	return -ENOMEM;
}

void spec_overrides_release(struct img_overrides *o)
{
	free((void *)o->entrypoint);
	free((void *)o->command);
	for (char *const *p = o->environment; p && *p; p++)
		free(*p);
	free((void *)o->environment);
	*o = (struct img_overrides){ 0 };
}
