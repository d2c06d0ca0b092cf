/* images/config.c - image config parsing and the Docker/ECS override rules. */
#include "images/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/json.h"

size_t img_strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

char **img_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static char **img_strv_new(size_t n)
{
	return calloc(n + 1, sizeof(char *));
}

/* Copies A then B (either may be NULL) into a new vector. */
static int img_strv_concat(char *const *a, char *const *b, char ***ret)
{
	size_t na = img_strv_length(a), nb = img_strv_length(b), k = 0;
	char **v = img_strv_new(na + nb);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < na + nb; i++) {
		v[k] = strdup(i < na ? a[i] : b[i - na]);
		if (!v[k++]) {
			img_strv_free(v);
			return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

static int json_strv(const cJSON *arr, char ***ret)
{
	const cJSON *it;
	char **v;
	size_t k = 0;

	*ret = NULL;
	if (!arr || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return -EBADMSG;
	v = img_strv_new((size_t)cJSON_GetArraySize(arr));
	if (!v)
		return -ENOMEM;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || !(v[k++] = strdup(it->valuestring))) {
			int r = cJSON_IsString(it) ? -ENOMEM : -EBADMSG;

			img_strv_free(v);
			return r;
		}
	}
	*ret = v;
	return 0;
}

/* ExposedPorts is an object whose keys are the ports. */
static int json_keys(const cJSON *obj, char ***ret)
{
	const cJSON *it;
	char **v;
	size_t k = 0;

	*ret = NULL;
	if (!obj || cJSON_IsNull(obj))
		return 0;
	if (!cJSON_IsObject(obj))
		return -EBADMSG;
	v = img_strv_new((size_t)cJSON_GetArraySize(obj));
	if (!v)
		return -ENOMEM;
	cJSON_ArrayForEach(it, obj) {
		if (!(v[k++] = strdup(it->string))) {
			img_strv_free(v);
			return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

static int json_str(const cJSON *s, char **ret)
{
	*ret = NULL;
	if (!s || cJSON_IsNull(s))
		return 0;
	if (!cJSON_IsString(s))
		return -EBADMSG;
	if (!*s->valuestring)
		return 0;
	*ret = strdup(s->valuestring);
	return *ret ? 0 : -ENOMEM;
}

int img_config_parse(const char *json, size_t len, struct img_config *ret)
{
	_cleanup_(cJSON_Deletep) cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *cfg;
	struct img_config c = { 0 };
	int r;

	if (!root || !cJSON_IsObject(root))
		return -EBADMSG;
	cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
	if (cfg && !cJSON_IsNull(cfg) && !cJSON_IsObject(cfg))
		return -EBADMSG;
	if ((r = json_strv(cJSON_GetObjectItemCaseSensitive(cfg, "Entrypoint"), &c.entrypoint)) < 0 ||
	    (r = json_strv(cJSON_GetObjectItemCaseSensitive(cfg, "Cmd"), &c.cmd)) < 0 ||
	    (r = json_strv(cJSON_GetObjectItemCaseSensitive(cfg, "Env"), &c.env)) < 0 ||
	    (r = json_keys(cJSON_GetObjectItemCaseSensitive(cfg, "ExposedPorts"), &c.exposed_ports)) < 0 ||
	    (r = json_str(cJSON_GetObjectItemCaseSensitive(cfg, "WorkingDir"), &c.workdir)) < 0 ||
	    (r = json_str(cJSON_GetObjectItemCaseSensitive(cfg, "User"), &c.user)) < 0 ||
	    (r = json_str(cJSON_GetObjectItemCaseSensitive(root, "os"), &c.os)) < 0 ||
	    (r = json_str(cJSON_GetObjectItemCaseSensitive(root, "architecture"), &c.arch)) < 0) {
		img_config_release(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void img_config_release(struct img_config *c)
{
	c->entrypoint = img_strv_free(c->entrypoint);
	c->cmd = img_strv_free(c->cmd);
	c->env = img_strv_free(c->env);
	c->exposed_ports = img_strv_free(c->exposed_ports);
	free(c->workdir);
	free(c->user);
	free(c->os);
	free(c->arch);
	*c = (struct img_config){ 0 };
}

static size_t env_name_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* Index of the entry in V naming the same variable as KV, or -1. */
static long env_find(char *const *v, size_t n, const char *kv)
{
	size_t len = env_name_len(kv);

	for (size_t i = 0; i < n; i++)
		if (env_name_len(v[i]) == len && strncmp(v[i], kv, len) == 0)
			return (long)i;
	return -1;
}

static int env_merge(char *const *image, char *const *task, char ***ret)
{
	size_t ni = img_strv_length(image), nt = img_strv_length(task), n = 0;
	char **v = img_strv_new(ni + nt + 1);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < ni + nt; i++) {
		const char *kv = i < ni ? image[i] : task[i - ni];
		long at = env_find(v, n, kv);
		char *dup = strdup(kv);

		if (!dup) {
			img_strv_free(v);
			return -ENOMEM;
		}
		if (at >= 0) {
			free(v[at]);
			v[at] = dup;
		} else {
			v[n++] = dup;
		}
	}
	if (env_find(v, n, "PATH=") < 0 && !(v[n++] = strdup(IMG_DEFAULT_PATH))) {
		img_strv_free(v);
		return -ENOMEM;
	}
	*ret = v;
	return 0;
}

int img_exec_merge(const struct img_config *c, const struct img_overrides *o, struct img_exec *ret)
{
	static const struct img_overrides none = { 0 };
	char *const *ep, *const *cmd;
	struct img_exec x = { 0 };
	int r;

	if (!o)
		o = &none;
	ep = o->entrypoint ? o->entrypoint : c->entrypoint;
	if (o->command)
		cmd = o->command;
	else
		cmd = o->entrypoint ? NULL : c->cmd;
	r = img_strv_concat(ep, cmd, &x.argv);
	if (r == 0 && !x.argv[0])
		r = -ENOEXEC;
	if (r == 0)
		r = env_merge(c->env, o->environment, &x.env);
	if (r == 0) {
		const char *wd = o->workdir && *o->workdir ? o->workdir : c->workdir ? c->workdir : "/";
		const char *user = o->user && *o->user ? o->user : c->user ? c->user : "";

		x.workdir = strdup(wd);
		x.user = strdup(user);
		if (!x.workdir || !x.user)
			r = -ENOMEM;
	}
	if (r < 0) {
		img_exec_release(&x);
		return r;
	}
	*ret = x;
	return 0;
}

void img_exec_release(struct img_exec *x)
{
	x->argv = img_strv_free(x->argv);
	x->env = img_strv_free(x->env);
	free(x->workdir);
	free(x->user);
	x->workdir = x->user = NULL;
}
