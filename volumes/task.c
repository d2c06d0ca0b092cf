/* volumes/task.c - a task's volumes on this host: configuration, host path
 * rules, prepare (every kind), release, cleanup. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "volumes/internal.h"

static void cJSON_Deletep(cJSON **j) { cJSON_Delete(*j); }

/* ---- configuration ---- */

static int add_root(struct vol_cfg *c, const char *root, struct err *e)
{
	char norm[PATH_MAX], real[PATH_MAX];
	char **n;

	if (vol_path_normalise(root, norm, sizeof(norm)) < 0)
		return err_setx(e, -EINVAL, "BERTH_HOST_VOLUME_ROOTS: '%s' is not an absolute path "
				"without '..'", root);
	/* Compare against where the root really is: a symlinked root must not
	 * make every path below its target look foreign, nor the reverse. */
	if (realpath(norm, real))
		snprintf(norm, sizeof(norm), "%s", real);
	n = realloc(c->host_roots, (c->n_host_roots + 1) * sizeof(*n));
	if (!n)
		return err_set(e, -ENOMEM, "BERTH_HOST_VOLUME_ROOTS");
	c->host_roots = n;
	c->host_roots[c->n_host_roots] = strdup(norm);
	if (!c->host_roots[c->n_host_roots])
		return err_set(e, -ENOMEM, "BERTH_HOST_VOLUME_ROOTS");
	c->n_host_roots++;
	return 0;
}

static int parse_roots(struct vol_cfg *c, const char *v, struct err *e)
{
	int r = 0;

	if (v[0] == '[') {
		_cleanup_(cJSON_Deletep) cJSON *j = cJSON_Parse(v);
		const cJSON *it;

		if (!cJSON_IsArray(j))
			return err_setx(e, -EINVAL, "BERTH_HOST_VOLUME_ROOTS is not a JSON list");
		cJSON_ArrayForEach(it, j) {
			if (!cJSON_IsString(it))
				return err_setx(e, -EINVAL, "BERTH_HOST_VOLUME_ROOTS: not a list of strings");
			if ((r = add_root(c, it->valuestring, e)) < 0)
				return r;
		}
		return 0;
	}
	_cleanup_free_ char *copy = strdup(v);
	char *save = NULL;

	if (!copy)
		return err_set(e, -ENOMEM, "BERTH_HOST_VOLUME_ROOTS");
	for (char *p = strtok_r(copy, ":", &save); p && r == 0; p = strtok_r(NULL, ":", &save))
		r = add_root(c, p, e);
	return r;
}

static int parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "true", "1", "yes", "on" }, *const no[] = { "false", "0", "no", "off" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *ret = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}

int vol_cfg_from(const char *state_dir, const char *host_roots, const char *match_full,
		 const char *shared_fs, struct vol_cfg *ret, struct err *e)
{
	struct vol_cfg c = { 0 };
	const char *v = state_dir && *state_dir ? state_dir : "/var/lib/berth";
	int r = 0;

	if (v[0] != '/' || strlen(v) >= sizeof(c.state_dir))
		return err_setx(e, -EINVAL, "BERTH_STATE_DIR must be an absolute path");
	strcpy(c.state_dir, v);
	if (host_roots && *host_roots)
		r = parse_roots(&c, host_roots, e);
	if (r == 0 && match_full && *match_full && parse_bool(match_full, &c.match_full_config) < 0)
		r = err_setx(e, -EINVAL, "BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG: '%s' is not true or false",
			     match_full);
	if (r == 0 && shared_fs && *shared_fs) {
		c.shared_fs = cJSON_Parse(shared_fs);
		if (!cJSON_IsObject(c.shared_fs))
			r = err_setx(e, -EINVAL, "BERTH_SHARED_FILESYSTEMS is not a JSON object");
	}
	if (r < 0) {
		vol_cfg_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}

int vol_cfg_from_env(struct vol_cfg *ret, struct err *e)
{
	const char *match = getenv("BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG");

	if (!match || !*match)
		match = getenv("ECS_SHARED_VOLUME_MATCH_FULL_CONFIG");
	return vol_cfg_from(getenv("BERTH_STATE_DIR"), getenv("BERTH_HOST_VOLUME_ROOTS"), match,
			    getenv("BERTH_SHARED_FILESYSTEMS"), ret, e);
}

void vol_cfg_free(struct vol_cfg *c)
{
	for (size_t i = 0; i < c->n_host_roots; i++)
		free(c->host_roots[i]);
	free(c->host_roots);
	cJSON_Delete(c->shared_fs);
	c->host_roots = NULL;
	c->n_host_roots = 0;
	c->shared_fs = NULL;
}

/* ---- prepare, one kind each ---- */

static int id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= 128)
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int open_dir_fd(const char *path, struct vol_src *src)
{
	src->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (src->fd < 0)
		return -errno;
	snprintf(src->path, sizeof(src->path), "%s", path);
	return 0;
}

static int prep_host(struct vol_task *t, const struct vol_def *v, struct vol_src *src, struct err *e)
{
	/* Created if missing, as ECS does; beneath the allowed root, so a
	 * symlink inside it cannot lead the bind (or the mkdir) elsewhere. */
	if (vol_host_open(t->cfg, "sourcePath", v->source_path, true, &src->fd, e) < 0)
		return err_wrap(e, "volume '%s'", v->name);
	snprintf(src->path, sizeof(src->path), "%s", v->source_path);
	return 0;
}

static int task_vol_dir(const struct vol_task *t, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/tasks/%s/volumes%s%s", t->cfg->state_dir, t->id,
			 name ? "/" : "", name ? name : "");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int prep_task_local(struct vol_task *t, const struct vol_def *v, struct vol_src *src,
			   struct err *e)
{
	char path[PATH_MAX], marker[PATH_MAX];
	int r;

	if ((r = task_vol_dir(t, v->name, path, sizeof(path))) < 0 ||
	    (r = vol_mkdir_p(path, 0755)) < 0 || (r = open_dir_fd(path, src)) < 0)
		return err_set(e, r, "volume '%s': create '%s'", v->name, path);
	task_vol_dir(t, NULL, marker, sizeof(marker));
	snprintf(marker + strlen(marker), sizeof(marker) - strlen(marker), "/.%s.seeded", v->name);
	src->seedable = access(marker, F_OK) < 0;
	return 0;
}

/* ECS names scope=task volumes ecs-<family>-<revision>-<volume>-<hex>; our
 * hex comes from the task id, so a restarted agent finds the same one. */
static void task_volume_name(const struct vol_task *t, const struct vol_def *v, char *buf, size_t size)
{
	unsigned long long h = 1469598103934665603ULL;

	for (const char *p = t->id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	if ((size_t)snprintf(buf, size, "ecs-%s-%ld-%s-%016llx", t->spec->family, t->spec->revision,
			     v->name, h) < size)
		return;
	for (const char *p = v->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(buf, size, "ecs-%ld-%016llx", t->spec->revision, h);
}

static bool map_equal(const struct vol_map *m, const cJSON *obj)
{
	if (cJSON_GetArraySize(obj) != (int)m->n)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, m->kv[i].key);

		if (!cJSON_IsString(v) || strcmp(v->valuestring, m->kv[i].value))
			return false;
	}
	return true;
}

/* Go's %v of a map[string]string: map[k1:v1 k2:v2], keys sorted. */
static void go_map(char *buf, size_t size, const struct vol_map *m, const cJSON *obj)
{
	size_t n = (size_t)snprintf(buf, size, "map[");
	const cJSON *it;

	for (size_t i = 0; m && i < m->n && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s:%s", i ? " " : "", m->kv[i].key,
				      m->kv[i].value);
	if (obj) {   /* metadata objects are written from sorted maps */
		bool first = true;

		cJSON_ArrayForEach(it, obj)
			if (n < size && cJSON_IsString(it))
				n += (size_t)snprintf(buf + n, size - n, "%s%s:%s", first ? "" : " ",
						      it->string, it->valuestring), first = false;
	}
	if (n < size)
		snprintf(buf + n, size - n, "]");
}

/* ECS's addSharedVolumes, with its messages (agent/api/task/task.go). */
static int shared_check(struct vol_task *t, const struct vol_def *v, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *meta = NULL;
	char have[200], want[200];
	const cJSON *labels, *opts;
	int r;

	r = vol_store_inspect(&t->store, v->name, &meta);
	if (r == -ENOENT && !v->autoprovision)
		/* The agent wraps Docker's inspect error after ": "; there is no
		 * Docker here, so the reason ends with ECS's own words. */
		return err_setx(e, -ENOENT, "initialize volume: volume detection failed, volume '%s' "
				"does not exist and autoprovision is set to false", v->name);
	if (r == -ENOENT) {
		r = vol_store_create(&t->store, v->name, &v->driver_opts, &v->labels, NULL);
		if (r < 0 && r != -EEXIST)
			return err_set(e, r, "volume '%s': create shared volume", v->name);
		return 0;
	}
	if (r < 0)
		return err_set(e, r, "volume '%s': inspect shared volume", v->name);
	if (!v->autoprovision || !t->cfg->match_full_config)
		return 0;   /* matched on the name only */
	labels = cJSON_GetObjectItemCaseSensitive(meta, "Labels");
	opts = cJSON_GetObjectItemCaseSensitive(meta, "Options");
	if (!map_equal(&v->labels, labels)) {
		go_map(have, sizeof(have), NULL, labels);
		go_map(want, sizeof(want), &v->labels, NULL);
		/* "intialize" is the agent's spelling. */
		return err_setx(e, -EINVAL, "intialize volume: non-autoprovisioned volume does not match "
				"existing volume labels: existing: %s, expected: %s", have, want);
	}
	if (!map_equal(&v->driver_opts, opts)) {
		go_map(have, sizeof(have), NULL, opts);
		go_map(want, sizeof(want), &v->driver_opts, NULL);
		return err_setx(e, -EINVAL, "initialize volume: non-autoprovisioned volume does not match "
				"existing volume options: existing: %s, expected: %s", have, want);
	}
	return 0;
}

static int prep_docker(struct vol_task *t, const struct vol_def *v, struct vol_src *src, struct err *e)
{
	char path[PATH_MAX];
	int r;

	if (t->store.dirfd < 0 && (r = vol_store_open(t->cfg->state_dir, &t->store)) < 0)
		return err_set(e, r, "open volume store");
	if (vol_driver_check(t->cfg, &v->driver_opts, e) < 0)
		return err_wrap(e, "volume '%s'", v->name);
	if (v->scope == VOL_SCOPE_TASK) {
		task_volume_name(t, v, src->store_name, sizeof(src->store_name));
		r = vol_store_create(&t->store, src->store_name, &v->driver_opts, &v->labels, t->id);
		if (r < 0 && r != -EEXIST)
			return err_set(e, r, "volume '%s': create '%s'", v->name, src->store_name);
		src->created = r == 0;
	} else {
		snprintf(src->store_name, sizeof(src->store_name), "%s", v->name);
		if ((r = shared_check(t, v, e)) < 0)
			return r;
	}
	r = vol_store_acquire(&t->store, t->cfg, src->store_name, t->id, path, sizeof(path));
	if (r < 0)
		return err_set(e, r, "volume '%s': mount '%s' (driver local)", v->name, src->store_name);
	src->acquired = true;
	r = open_dir_fd(path, src);
	if (r < 0)
		return err_set(e, r, "volume '%s': open '%s'", v->name, path);
	r = vol_store_is_seeded(&t->store, src->store_name);
	src->seedable = r == 0;
	return 0;
}

/* ---- shared filesystems (EFS analogue), mounted once per host ---- */

static int efs_dir(const struct vol_task *t, const char *id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/efs%s%s", t->cfg->state_dir, id ? "/" : "", id ? id : "");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int efs_lock(const struct vol_task *t)
{
	char path[PATH_MAX];
	int fd, r;

	if ((r = efs_dir(t, NULL, path, sizeof(path))) < 0 || (r = vol_mkdir_p(path, 0700)) < 0)
		return r;
	strncat(path, "/.lock", sizeof(path) - strlen(path) - 1);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Mounts filesystem ID (described by FS) at $STATE/efs/<id>/mnt unless it is
 * already, and records the task's use.  *ret_fd: O_PATH of the mount. */
static int efs_acquire(struct vol_task *t, const char *id, const cJSON *fs, int *ret_fd)
{
	_cleanup_close_ int lock = efs_lock(t), dfd = -1;
	char path[PATH_MAX];
	int r, mounted;

	if (lock < 0)
		return lock;
	if ((r = efs_dir(t, id, path, sizeof(path))) < 0 || (r = vol_mkdir_p(path, 0700)) < 0)
		return r;
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (mkdirat(dfd, "mnt", 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((r = vol_users_add(dfd, t->id)) < 0)
		return r;
	strncat(path, "/mnt", sizeof(path) - strlen(path) - 1);
	mounted = vol_is_mountpoint(dfd, "mnt");
	r = mounted < 0 ? mounted
	    : mounted   ? 0
			: vol_fs_mount(json_str(fs, "type"), json_str(fs, "device"),
				       json_str(fs, "options"), path);
	if (r == 0) {
		*ret_fd = openat(dfd, "mnt", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = *ret_fd < 0 ? -errno : 0;
	}
	if (r < 0)
		(void)vol_users_remove(dfd, t->id, NULL);
	return r;
}

static int efs_release(struct vol_task *t, const char *id)
{
	_cleanup_close_ int lock = efs_lock(t), dfd = -1;
	char path[PATH_MAX];
	size_t left = 0;
	int r;

	if (lock < 0)
		return lock;
	if ((r = efs_dir(t, id, path, sizeof(path))) < 0)
		return r;
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	if ((r = vol_users_remove(dfd, t->id, &left)) < 0 || left)
		return r;
	if (vol_is_mountpoint(dfd, "mnt") != 1)
		return 0;
	strncat(path, "/mnt", sizeof(path) - strlen(path) - 1);
	return umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
}

static int prep_efs(struct vol_task *t, const struct vol_def *v, struct vol_src *src, struct err *e)
{
	const cJSON *fs = cJSON_GetObjectItemCaseSensitive(t->cfg->shared_fs, v->fs_id);
	_cleanup_close_ int base = -1;
	int r;

	if (cJSON_IsString(fs)) {
		/* A host path standing in for the filesystem: nothing to mount. */
		if (fs->valuestring[0] != '/')
			return err_setx(e, -EINVAL, "volume '%s': BERTH_SHARED_FILESYSTEMS['%s'] must be an "
					"absolute path", v->name, v->fs_id);
		base = open(fs->valuestring, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (base < 0)
			return err_set(e, -errno, "volume '%s': shared filesystem '%s' at '%s'", v->name,
				       v->fs_id, fs->valuestring);
	} else if (cJSON_IsObject(fs) && json_str(fs, "type")) {
		r = efs_acquire(t, v->fs_id, fs, &base);
		if (r < 0)
			return err_set(e, r, "volume '%s': mount shared filesystem '%s' (%s)", v->name,
				       v->fs_id, json_str(fs, "type"));
		src->acquired = true;
	} else {
		return err_setx(e, -ENOENT, "volume '%s': fileSystemId '%s' is not configured in "
				"BERTH_SHARED_FILESYSTEMS", v->name, v->fs_id);
	}
	/* rootDirectory must exist (as on EFS) and stay inside the filesystem. */
	r = vol_resolve_beneath(base, v->root_dir, false, &src->fd);
	if (r < 0)
		return err_set(e, r, "volume '%s': rootDirectory '%s' of '%s'", v->name, v->root_dir,
			       v->fs_id);
	snprintf(src->path, sizeof(src->path), "%s:%s", v->fs_id, v->root_dir);
	return 0;
}

/* ---- the task ---- */

static int release_one(struct vol_task *t, size_t i)
{
	const struct vol_def *v = &t->spec->vols[i];
	struct vol_src *src = &t->src[i];
	/* A scope=task volume goes with the task, also when prepare made it
	 * and then failed to mount it (nothing else can hold a use of it). */
	bool remove = v->kind == VOL_DOCKER && v->scope == VOL_SCOPE_TASK &&
		      (src->acquired || src->created);
	int r = 0;

	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
	src->created = false;
	if (src->acquired) {
		src->acquired = false;
		if (v->kind == VOL_EFS)
			return efs_release(t, v->fs_id);
		r = vol_store_release(&t->store, src->store_name, t->id);
	}
	if (r == 0 && remove)
		r = vol_store_remove(&t->store, src->store_name);
	return r == -ENOENT ? 0 : r;
}

int vol_task_release(struct vol_task *t, struct err *e)
{
	int first = 0;

	if (!t->src)   /* released already */
		return 0;
	for (size_t i = t->spec->n_vols; i-- > 0;) {
		int r = release_one(t, i);

		if (r < 0 && first == 0)
			first = err_set(e, r, "release volume '%s'", t->spec->vols[i].name);
	}
	vol_store_close(&t->store);
	free(t->src);
	t->src = NULL;
	return first;
}

/* What a prepare of S for ID may have taken, as a prepared task holds it:
 * every named volume and mounted shared filesystem marked in use. */
static bool may_hold(const struct vol_task *t, const struct vol_def *v, struct vol_src *src)
{
	if (v->kind == VOL_EFS)
		return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(t->cfg->shared_fs, v->fs_id));
	if (v->kind != VOL_DOCKER)
		return false;
	if (v->scope == VOL_SCOPE_TASK)
		task_volume_name(t, v, src->store_name, sizeof(src->store_name));
	else
		snprintf(src->store_name, sizeof(src->store_name), "%s", v->name);
	src->created = v->scope == VOL_SCOPE_TASK;
	return true;
}

/* A task handle for ID with nothing taken yet (every fd -1). */
static int task_init(const struct vol_cfg *c, const struct vol_spec *s, const char *id,
		     struct vol_task *t, struct err *e)
{
	*t = (struct vol_task){ .cfg = c, .spec = s, .store = VOL_STORE_INIT };
	if (!id_ok(id))
		return err_setx(e, -EINVAL, "task id '%s' is not 1-127 of [A-Za-z0-9_-]", id);
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->src = calloc(s->n_vols + 1, sizeof(*t->src));
	if (!t->src)
		return err_set(e, -ENOMEM, "task volumes");
	for (size_t i = 0; i < s->n_vols; i++)
		t->src[i].fd = -1;
	return 0;
}

int vol_task_release_id(const struct vol_cfg *c, const struct vol_spec *s, const char *id,
			struct err *e)
{
	struct vol_task t;
	int r = task_init(c, s, id, &t, e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_vols; i++) {
		t.src[i].acquired = may_hold(&t, &s->vols[i], &t.src[i]);
		if (s->vols[i].kind == VOL_DOCKER && t.store.dirfd < 0 &&
		    (r = vol_store_open(c->state_dir, &t.store)) < 0) {
			free(t.src);
			return err_set(e, r, "open volume store");
		}
	}
	return vol_task_release(&t, e);
}

typedef int (*prep_fn)(struct vol_task *, const struct vol_def *, struct vol_src *, struct err *);

static const prep_fn preps[] = {
	[VOL_HOST_PATH] = prep_host,
	[VOL_TASK_LOCAL] = prep_task_local,
	[VOL_DOCKER] = prep_docker,
	[VOL_EFS] = prep_efs,
};

int vol_task_prepare(const struct vol_cfg *c, const struct vol_spec *s, const char *id,
		     struct vol_task *ret, struct err *e)
{
	struct vol_task t;
	int r = task_init(c, s, id, &t, e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_vols && r == 0; i++)
		r = preps[s->vols[i].kind](&t, &s->vols[i], &t.src[i], e);
	if (r < 0) {
		struct err ignored = ERR_INIT;

		(void)vol_task_release(&t, &ignored);   /* undo; E keeps the first error */
		return r;
	}
	*ret = t;
	return 0;
}

int vol_task_cleanup(const struct vol_cfg *c, const char *id, struct err *e)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	if (!id_ok(id))
		return err_setx(e, -EINVAL, "task id '%s' is not 1-127 of [A-Za-z0-9_-]", id);
	snprintf(path, sizeof(path), "%s/tasks/%s", c->state_dir, id);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : err_set(e, -errno, "open '%s'", path);
	r = vol_rm_rf_at(fd, "volumes");
	if (r == -EBUSY)
		return err_setx(e, r, "remove task volumes under '%s': something is still mounted there",
				path);
	if (r < 0)
		return err_set(e, r, "remove task volumes under '%s'", path);
	return 0;
}
