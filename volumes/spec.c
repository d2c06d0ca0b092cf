/* volumes/spec.c - task definition JSON -> struct vol_spec (pure).
 *
 * Outside input: every field is type-checked, every string bounded, every
 * reference resolved, every path normalised before anything trusts it. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "lib/cleanup.h"
#include "volumes/volumes.h"

#define MAX_VOLUMES 256          /* far above any real task definition */
#define MAX_PER_CTR 256
#define MAX_MIB (1024 * 1024)    /* 1 TiB in MiB: tmpfs size, sharedMemorySize */
#define MAX_MAP 64

/* Names under which the runtime, not a volume, owns the container's view. */
static const char *const runtime_paths[] = { "/proc", "/sys", "/dev" };

static int name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!(s[n] >= 'a' && s[n] <= 'z') && !(s[n] >= 'A' && s[n] <= 'Z') &&
		    !(s[n] >= '0' && s[n] <= '9') && s[n] != '_' && s[n] != '-')
			return 0;
	return n >= 1 && n <= VOL_NAME_MAX;
}

int vol_path_normalise(const char *path, char *out, size_t size)
{
	size_t o = 0;
	const char *p = path;

	if (!path || path[0] != '/' || size < 2)
		return -EINVAL;
	while (*p) {
		const char *c;
		size_t len;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - c);
		if (len == 0 || (len == 1 && c[0] == '.'))
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return -EINVAL;
		if (o + 1 + len + 1 > size)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, c, len);
		o += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

static const cJSON *field(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A string field: NULL when absent or null; -EINVAL if another type. */
static int get_str(const cJSON *obj, const char *key, const char **ret, const char *what,
		   struct err *e)
{
	const cJSON *v = field(obj, key);

	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return err_setx(e, -EINVAL, "%s: '%s' must be a string", what, key);
	if (strlen(v->valuestring) >= PATH_MAX)
		return err_setx(e, -EINVAL, "%s: '%s' is too long", what, key);
	*ret = v->valuestring;
	return 0;
}

static int get_bool(const cJSON *obj, const char *key, bool *ret, const char *what, struct err *e)
{
	const cJSON *v = field(obj, key);

	*ret = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return err_setx(e, -EINVAL, "%s: '%s' must be true or false", what, key);
	*ret = cJSON_IsTrue(v);
	return 0;
}

/* An integer number of MiB in 1..MAX_MIB, as bytes; *ret = 0 when absent. */
static int get_mib(const cJSON *obj, const char *key, uint64_t *ret, const char *what,
		   struct err *e)
{
	const cJSON *v = field(obj, key);
	double d;

	*ret = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!(d >= 1 && d <= MAX_MIB) || d != floor(d))
		return err_setx(e, -EINVAL, "%s: '%s' must be a whole number of MiB in 1..%d", what,
				key, MAX_MIB);
	*ret = (uint64_t)d << 20;
	return 0;
}

/* An array field (absent/null = empty) of at most MAX items. */
static int get_array(const cJSON *obj, const char *key, const cJSON **ret, size_t *ret_n,
		     size_t max, const char *what, struct err *e)
{
	const cJSON *v = field(obj, key);
	int n;

	*ret = NULL;
	*ret_n = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return err_setx(e, -EINVAL, "%s: '%s' must be a list", what, key);
	n = cJSON_GetArraySize(v);
	if ((size_t)n > max)
		return err_setx(e, -EINVAL, "%s: '%s' has more than %zu entries", what, key, max);
	*ret = v;
	*ret_n = (size_t)n;
	return 0;
}

static int dup_str(const char *s, char **ret, struct err *e)
{
	*ret = strdup(s ? s : "");
	return *ret ? 0 : err_set(e, -ENOMEM, "parse volumes");
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vol_kv *)a)->key, ((const struct vol_kv *)b)->key);
}

static void map_free(struct vol_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->kv[i].key);
		free(m->kv[i].value);
	}
	free(m->kv);
	m->kv = NULL;
	m->n = 0;
}

/* A JSON object of string values (driverOpts, labels), sorted by key. */
static int get_map(const cJSON *obj, const char *key, struct vol_map *ret, const char *what,
		   struct err *e)
{
	const cJSON *v = field(obj, key), *it;
	int n, r;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return err_setx(e, -EINVAL, "%s: '%s' must be an object of strings", what, key);
	n = cJSON_GetArraySize(v);
	if (n > MAX_MAP)
		return err_setx(e, -EINVAL, "%s: '%s' has more than %d entries", what, key, MAX_MAP);
	ret->kv = calloc((size_t)n + 1, sizeof(*ret->kv));
	if (!ret->kv)
		return err_set(e, -ENOMEM, "parse volumes");
	cJSON_ArrayForEach(it, v) {
		struct vol_kv *kv = &ret->kv[ret->n];

		if (!cJSON_IsString(it) || !it->string || strlen(it->valuestring) >= PATH_MAX ||
		    strlen(it->string) > VOL_NAME_MAX)
			return err_setx(e, -EINVAL, "%s: '%s' must be an object of strings", what, key);
		for (size_t i = 0; i < ret->n; i++)
			if (strcmp(ret->kv[i].key, it->string) == 0)
				return err_setx(e, -EINVAL, "%s: '%s' repeats '%s'", what, key, it->string);
		if ((r = dup_str(it->string, &kv->key, e)) < 0 ||
		    (r = dup_str(it->valuestring, &kv->value, e)) < 0)
			return r;
		ret->n++;
	}
	qsort(ret->kv, ret->n, sizeof(*ret->kv), kv_cmp);
	return 0;
}

static int parse_docker(const cJSON *d, struct vol_def *v, const char *what, struct err *e)
{
	const char *scope, *driver;
	int r;

	if (!cJSON_IsObject(d))
		return err_setx(e, -EINVAL, "%s: 'dockerVolumeConfiguration' must be an object", what);
	v->kind = VOL_DOCKER;
	if ((r = get_str(d, "scope", &scope, what, e)) < 0 ||
	    (r = get_str(d, "driver", &driver, what, e)) < 0 ||
	    (r = get_bool(d, "autoprovision", &v->autoprovision, what, e)) < 0)
		return r;
	if (!scope || strcmp(scope, "task") == 0)
		v->scope = VOL_SCOPE_TASK;
	else if (strcmp(scope, "shared") == 0)
		v->scope = VOL_SCOPE_SHARED;
	else
		return err_setx(e, -EINVAL, "%s: scope must be 'task' or 'shared'", what);
	if (v->scope == VOL_SCOPE_TASK && v->autoprovision)
		return err_setx(e, -EINVAL, "%s: autoprovision is only for scope 'shared'", what);
	if (driver && strcmp(driver, "local") != 0)
		return err_setx(e, -EINVAL, "%s: volume driver '%s' is not available (only 'local')",
				what, driver);
	if ((r = dup_str("local", &v->driver, e)) < 0 ||
	    (r = get_map(d, "driverOpts", &v->driver_opts, what, e)) < 0 ||
	    (r = get_map(d, "labels", &v->labels, what, e)) < 0)
		return r;
	for (size_t i = 0; i < v->driver_opts.n; i++) {
		const char *k = v->driver_opts.kv[i].key;

		if (strcmp(k, "type") && strcmp(k, "device") && strcmp(k, "o"))
			return err_setx(e, -EINVAL, "%s: driverOpts '%s' unknown to driver 'local' "
					"(type, device, o)", what, k);
	}
	return 0;
}

static int parse_efs(const cJSON *d, struct vol_def *v, const char *what, struct err *e)
{
	const char *id, *root, *enc;
	char norm[PATH_MAX];
	int r;

	if (!cJSON_IsObject(d))
		return err_setx(e, -EINVAL, "%s: 'efsVolumeConfiguration' must be an object", what);
	v->kind = VOL_EFS;
	if ((r = get_str(d, "fileSystemId", &id, what, e)) < 0 ||
	    (r = get_str(d, "rootDirectory", &root, what, e)) < 0 ||
	    (r = get_str(d, "transitEncryption", &enc, what, e)) < 0)
		return r;
	if (!id || !name_ok(id))
		return err_setx(e, -EINVAL, "%s: 'fileSystemId' is required (letters, digits, '-', '_')",
				what);
	/* berth has no TLS tunnel or IAM for the shared filesystem: refusing
	 * beats silently mounting in clear what the user asked to encrypt. */
	if (enc && strcmp(enc, "DISABLED") != 0)
		return err_setx(e, -EINVAL, "%s: transitEncryption '%s' is not supported", what, enc);
	if (field(d, "authorizationConfig") && !cJSON_IsNull(field(d, "authorizationConfig")))
		return err_setx(e, -EINVAL, "%s: authorizationConfig is not supported", what);
	if (vol_path_normalise(root ? root : "/", norm, sizeof(norm)) < 0)
		return err_setx(e, -EINVAL, "%s: rootDirectory must be absolute, without '..'", what);
	if ((r = dup_str(id, &v->fs_id, e)) < 0 || (r = dup_str(norm, &v->root_dir, e)) < 0)
		return r;
	return 0;
}

static const char *const unsupported_kinds[] = {
	"fsxWindowsFileServerVolumeConfiguration", "s3filesVolumeConfiguration", "configuredAtLaunch",
};

static int parse_volume(const cJSON *j, struct vol_def *v, size_t idx, struct err *e)
{
	const cJSON *host = field(j, "host"), *docker = field(j, "dockerVolumeConfiguration"),
		    *efs = field(j, "efsVolumeConfiguration");
	char what[300], norm[PATH_MAX];
	const char *name, *src = NULL;
	int kinds = 0, r;

	snprintf(what, sizeof(what), "volumes[%zu]", idx);
	if (!cJSON_IsObject(j))
		return err_setx(e, -EINVAL, "%s must be an object", what);
	if ((r = get_str(j, "name", &name, what, e)) < 0)
		return r;
	if (!name || !name_ok(name))
		return err_setx(e, -EINVAL, "%s: 'name' must be 1-255 letters, digits, '-' or '_'", what);
	snprintf(what, sizeof(what), "volume '%s'", name);
	if ((r = dup_str(name, &v->name, e)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(unsupported_kinds); i++) {
		const cJSON *k = field(j, unsupported_kinds[i]);

		if (k && !cJSON_IsNull(k) && !cJSON_IsFalse(k))
			return err_setx(e, -EINVAL, "%s: %s is not supported", what, unsupported_kinds[i]);
	}
	kinds = (host && !cJSON_IsNull(host)) + (docker && !cJSON_IsNull(docker)) +
		(efs && !cJSON_IsNull(efs));
	if (kinds > 1)
		return err_setx(e, -EINVAL, "%s: give one of host, dockerVolumeConfiguration, "
				"efsVolumeConfiguration", what);
	if (docker && !cJSON_IsNull(docker))
		return parse_docker(docker, v, what, e);
	if (efs && !cJSON_IsNull(efs))
		return parse_efs(efs, v, what, e);
	if (host && !cJSON_IsNull(host)) {
		if (!cJSON_IsObject(host))
			return err_setx(e, -EINVAL, "%s: 'host' must be an object", what);
		if ((r = get_str(host, "sourcePath", &src, what, e)) < 0)
			return r;
	}
	if (!src || !*src) {
		v->kind = VOL_TASK_LOCAL;
		return 0;
	}
	r = vol_path_normalise(src, norm, sizeof(norm));
	if (r < 0)
		return err_setx(e, r, "%s: sourcePath '%s' must be an absolute path without '..'", what,
				src);
	v->kind = VOL_HOST_PATH;
	return dup_str(norm, &v->source_path, e);
}

/* A containerPath: absolute, no "..", not "/" and not the runtime's own
 * /proc, /sys, /dev (the runtime mounts those after volumes, hiding them). */
static int container_path(const char *p, char **ret, const char *what, struct err *e)
{
	char norm[PATH_MAX];

	if (!p || vol_path_normalise(p, norm, sizeof(norm)) < 0)
		return err_setx(e, -EINVAL, "%s: containerPath '%s' must be an absolute path without '..'",
				what, p ? p : "");
	if (strcmp(norm, "/") == 0)
		return err_setx(e, -EINVAL, "%s: containerPath cannot be '/'", what);
	for (size_t i = 0; i < ARRAY_SIZE(runtime_paths); i++) {
		size_t n = strlen(runtime_paths[i]);

		if (strncmp(norm, runtime_paths[i], n) == 0 && (norm[n] == '\0' || norm[n] == '/'))
			return err_setx(e, -EINVAL, "%s: containerPath '%s' is under %s, which the runtime "
					"manages", what, norm, runtime_paths[i]);
	}
	return dup_str(norm, ret, e);
}

static int parse_mount_points(const cJSON *c, struct vol_ctr *ctr, const struct vol_spec *s,
			      struct err *e)
{
	const cJSON *arr, *it;
	char what[300];
	size_t n;
	int r;

	snprintf(what, sizeof(what), "container '%s': mountPoints", ctr->name);
	if ((r = get_array(c, "mountPoints", &arr, &n, MAX_PER_CTR, what, e)) < 0 || n == 0)
		return r;
	ctr->mounts = calloc(n, sizeof(*ctr->mounts));
	if (!ctr->mounts)
		return err_set(e, -ENOMEM, "parse volumes");
	cJSON_ArrayForEach(it, arr) {
		struct vol_mount_point *m = &ctr->mounts[ctr->n_mounts++];
		const char *src, *path;

		if (!cJSON_IsObject(it))
			return err_setx(e, -EINVAL, "%s: each entry must be an object", what);
		if ((r = get_str(it, "sourceVolume", &src, what, e)) < 0 ||
		    (r = get_str(it, "containerPath", &path, what, e)) < 0 ||
		    (r = get_bool(it, "readOnly", &m->read_only, what, e)) < 0)
			return r;
		if (!src || !vol_spec_find(s, src))
			return err_setx(e, -EINVAL, "%s: sourceVolume '%s' is not a volume of the task",
					what, src ? src : "");
		if ((r = dup_str(src, &m->source_volume, e)) < 0 ||
		    (r = container_path(path, &m->container_path, what, e)) < 0)
			return r;
	}
	return 0;
}

static int parse_volumes_from(const cJSON *c, struct vol_ctr *ctr, const cJSON *all,
			      struct err *e)
{
	const cJSON *arr, *it;
	char what[300];
	size_t n;
	int r;

	snprintf(what, sizeof(what), "container '%s': volumesFrom", ctr->name);
	if ((r = get_array(c, "volumesFrom", &arr, &n, MAX_PER_CTR, what, e)) < 0 || n == 0)
		return r;
	ctr->from = calloc(n, sizeof(*ctr->from));
	if (!ctr->from)
		return err_set(e, -ENOMEM, "parse volumes");
	cJSON_ArrayForEach(it, arr) {
		struct vol_from *f = &ctr->from[ctr->n_from++];
		const cJSON *o;
		const char *src, *oname;
		bool found = false;

		if (!cJSON_IsObject(it))
			return err_setx(e, -EINVAL, "%s: each entry must be an object", what);
		if ((r = get_str(it, "sourceContainer", &src, what, e)) < 0 ||
		    (r = get_bool(it, "readOnly", &f->read_only, what, e)) < 0)
			return r;
		cJSON_ArrayForEach(o, all)
			if (get_str(o, "name", &oname, what, e) == 0 && oname && src &&
			    strcmp(oname, src) == 0)
				found = true;
		err_clear(e);
		if (!src || !found || strcmp(src, ctr->name) == 0)
			return err_setx(e, -EINVAL, "%s: sourceContainer '%s' is not another container "
					"of the task", what, src ? src : "");
		if ((r = dup_str(src, &f->source_container, e)) < 0)
			return r;
	}
	return 0;
}

static int parse_tmpfs(const cJSON *lp, struct vol_ctr *ctr, struct err *e)
{
	const cJSON *arr, *it;
	char what[300];
	size_t n;
	int r;

	snprintf(what, sizeof(what), "container '%s': linuxParameters.tmpfs", ctr->name);
	if ((r = get_array(lp, "tmpfs", &arr, &n, MAX_PER_CTR, what, e)) < 0 || n == 0)
		return r;
	ctr->tmpfs = calloc(n, sizeof(*ctr->tmpfs));
	if (!ctr->tmpfs)
		return err_set(e, -ENOMEM, "parse volumes");
	cJSON_ArrayForEach(it, arr) {
		struct vol_tmpfs *t = &ctr->tmpfs[ctr->n_tmpfs++];
		const char *path, *bad = NULL;

		if (!cJSON_IsObject(it))
			return err_setx(e, -EINVAL, "%s: each entry must be an object", what);
		if ((r = get_str(it, "containerPath", &path, what, e)) < 0 ||
		    (r = container_path(path, &t->container_path, what, e)) < 0 ||
		    (r = get_mib(it, "size", &t->size, what, e)) < 0)
			return r;
		if (t->size == 0)
			return err_setx(e, -EINVAL, "%s: 'size' is required", what);
		r = vol_tmpfs_options(field(it, "mountOptions"), &t->attr, &t->fs_opts, &bad);
		if (r == -ENOMEM)
			return err_set(e, r, "parse volumes");
		if (r < 0)
			return err_setx(e, r, "%s: mount option '%s' is not allowed", what,
					bad ? bad : "(not a list of strings)");
	}
	return 0;
}

static int parse_container(const cJSON *c, struct vol_ctr *ctr, const cJSON *all,
			   const struct vol_spec *s, struct err *e)
{
	const cJSON *lp;
	const char *name;
	char what[300];
	int r;

	if (!cJSON_IsObject(c))
		return err_setx(e, -EINVAL, "containerDefinitions: each entry must be an object");
	if ((r = get_str(c, "name", &name, "containerDefinitions", e)) < 0)
		return r;
	if (!name || !name_ok(name))
		return err_setx(e, -EINVAL, "containerDefinitions: 'name' must be 1-255 letters, "
				"digits, '-' or '_'");
	if ((r = dup_str(name, &ctr->name, e)) < 0 ||
	    (r = parse_mount_points(c, ctr, s, e)) < 0 ||
	    (r = parse_volumes_from(c, ctr, all, e)) < 0)
		return r;
	lp = field(c, "linuxParameters");
	if (!lp || cJSON_IsNull(lp))
		return 0;
	snprintf(what, sizeof(what), "container '%s': linuxParameters", name);
	if (!cJSON_IsObject(lp))
		return err_setx(e, -EINVAL, "%s must be an object", what);
	if ((r = parse_tmpfs(lp, ctr, e)) < 0)
		return r;
	return get_mib(lp, "sharedMemorySize", &ctr->shm_size, what, e);
}

static int parse_all(const cJSON *td, struct vol_spec *s, struct err *e)
{
	const cJSON *vols, *ctrs, *it, *rev;
	const char *family;
	size_t n;
	int r;

	if (!cJSON_IsObject(td))
		return err_setx(e, -EINVAL, "task definition must be a JSON object");
	if ((r = get_str(td, "family", &family, "task definition", e)) < 0)
		return r;
	if ((r = dup_str(family && name_ok(family) ? family : "task", &s->family, e)) < 0)
		return r;
	rev = field(td, "revision");
	s->revision = cJSON_IsNumber(rev) && rev->valuedouble >= 1 && rev->valuedouble < 1e9 ?
			      (long)rev->valuedouble : 1;
	if ((r = get_array(td, "volumes", &vols, &n, MAX_VOLUMES, "task definition", e)) < 0)
		return r;
	s->vols = calloc(n + 1, sizeof(*s->vols));
	if (!s->vols)
		return err_set(e, -ENOMEM, "parse volumes");
	cJSON_ArrayForEach(it, vols) {
		struct vol_def *v = &s->vols[s->n_vols];

		r = parse_volume(it, v, s->n_vols, e);
		s->n_vols++;
		if (r < 0)
			return r;
		for (size_t i = 0; i + 1 < s->n_vols; i++)
			if (strcmp(s->vols[i].name, v->name) == 0)
				return err_setx(e, -EINVAL, "volume name '%s' is used twice", v->name);
	}
	if ((r = get_array(td, "containerDefinitions", &ctrs, &n, MAX_VOLUMES, "task definition",
			   e)) < 0)
		return r;
	s->ctrs = calloc(n + 1, sizeof(*s->ctrs));
	if (!s->ctrs)
		return err_set(e, -ENOMEM, "parse volumes");
	cJSON_ArrayForEach(it, ctrs) {
		r = parse_container(it, &s->ctrs[s->n_ctrs], ctrs, s, e);
		s->n_ctrs++;
		if (r < 0)
			return r;
		for (size_t i = 0; i + 1 < s->n_ctrs; i++)
			if (strcmp(s->ctrs[i].name, s->ctrs[s->n_ctrs - 1].name) == 0)
				return err_setx(e, -EINVAL, "container name '%s' is used twice",
						s->ctrs[i].name);
	}
	return 0;
}

int vol_spec_parse(const cJSON *td, struct vol_spec *ret, struct err *e)
{
	struct vol_spec s = { 0 };
	int r;

	r = parse_all(td, &s, e);
	if (r < 0) {
		vol_spec_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int vol_spec_parse_json(const char *json, struct vol_spec *ret, struct err *e)
{
	cJSON *td = cJSON_Parse(json);
	int r;

	if (!td)
		return err_setx(e, -EINVAL, "task definition is not valid JSON");
	r = vol_spec_parse(td, ret, e);
	cJSON_Delete(td);
	return r;
}

void vol_spec_free(struct vol_spec *s)
{
	for (size_t i = 0; i < s->n_vols; i++) {
		struct vol_def *v = &s->vols[i];

		free(v->name);
		free(v->source_path);
		free(v->driver);
		map_free(&v->driver_opts);
		map_free(&v->labels);
		free(v->fs_id);
		free(v->root_dir);
	}
	for (size_t i = 0; i < s->n_ctrs; i++) {
		struct vol_ctr *c = &s->ctrs[i];

		for (size_t j = 0; j < c->n_mounts; j++) {
			free(c->mounts[j].source_volume);
			free(c->mounts[j].container_path);
		}
		for (size_t j = 0; j < c->n_from; j++)
			free(c->from[j].source_container);
		for (size_t j = 0; j < c->n_tmpfs; j++) {
			free(c->tmpfs[j].container_path);
			free(c->tmpfs[j].fs_opts);
		}
		free(c->mounts);
		free(c->from);
		free(c->tmpfs);
		free(c->name);
	}
	free(s->vols);
	free(s->ctrs);
	free(s->family);
	*s = (struct vol_spec){ 0 };
}

const struct vol_def *vol_spec_find(const struct vol_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_vols; i++)
		if (strcmp(s->vols[i].name, name) == 0)
			return &s->vols[i];
	return NULL;
}
