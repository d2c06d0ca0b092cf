/* volumes/store.c - named volumes under $BERTH_STATE_DIR/volumes (driver
 * "local", as Docker's): metadata, users, driver mounts, rm and prune.
 * Every public function takes the store's flock itself. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "lib/rmtree.h"
#include "volumes/internal.h"

#define META_MAX (64 * 1024)

static void cJSON_Deletep(cJSON **j) { cJSON_Delete(*j); }
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

int vol_name_valid(const char *name)
{
	size_t n = 0;

	if (!name || name[0] == '.' || name[0] == '-')
		return 0;
	for (; name[n]; n++)
		if (!(name[n] >= 'a' && name[n] <= 'z') && !(name[n] >= 'A' && name[n] <= 'Z') &&
		    !(name[n] >= '0' && name[n] <= '9') && !strchr("_.-", name[n]))
			return 0;
	return n >= 1 && n <= VOL_NAME_MAX;
}

int vol_store_open(const char *state_dir, struct vol_store *ret)
{
	struct vol_store s = VOL_STORE_INIT;
	const char *base = state_dir && *state_dir ? state_dir : getenv("BERTH_STATE_DIR");
	int r;

	if (!base || !*base)
		base = "/var/lib/berth";
	if (base[0] != '/')
		return -EINVAL;
	if (snprintf(s.path, sizeof(s.path), "%s/volumes", base) >= (int)sizeof(s.path))
		return -ENAMETOOLONG;
	r = vol_mkdir_p(s.path, 0700);
	if (r < 0)
		return r;
	s.dirfd = open(s.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.dirfd < 0)
		return -errno;
	s.lockfd = openat(s.dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s.lockfd < 0) {
		r = -errno;
		close(s.dirfd);
		return r;
	}
	*ret = s;
	return 0;
}

void vol_store_close(struct vol_store *s)
{
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->lockfd = s->dirfd = -1;
}

/* EXPR, a call of a *_locked function, under the store's flock. */
#define LOCKED(s, exclusive, expr)                          \
	({                                                  \
		int r_ = vol_store_lock(s, exclusive);      \
		if (r_ == 0) {                              \
			r_ = (expr);                        \
			vol_store_unlock(s);                \
		}                                           \
		r_;                                         \
	})

int vol_store_lock(struct vol_store *s, bool exclusive)
{
	return flock(s->lockfd, exclusive ? LOCK_EX : LOCK_SH) < 0 ? -errno : 0;
}

void vol_store_unlock(struct vol_store *s)
{
	(void)flock(s->lockfd, LOCK_UN);
}

static int open_volume(struct vol_store *s, const char *name)
{
	int fd;

	if (!vol_name_valid(name))
		return -EINVAL;
	fd = openat(s->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int read_meta(int vfd, cJSON **ret)
{
	char buf[META_MAX];
	cJSON *j;
	int r;

	r = read_file_at(vfd, "meta.json", buf, sizeof(buf), NULL);
	if (r < 0)
		return r;
	j = cJSON_Parse(buf);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -EBADMSG;
	}
	*ret = j;
	return 0;
}

static int write_meta(int vfd, const cJSON *meta)
{
	_cleanup_free_ char *text = cJSON_Print(meta);

	if (!text)
		return -ENOMEM;
	return vol_write_atomic(vfd, "meta.json", text, strlen(text));
}

static cJSON *map_to_json(const struct vol_map *m)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o && m && i < m->n; i++)
		if (!cJSON_AddStringToObject(o, m->kv[i].key, m->kv[i].value)) {
			cJSON_Delete(o);
			return NULL;
		}
	return o;
}

static cJSON *new_meta(struct vol_store *s, const char *name, const struct vol_map *opts,
		       const struct vol_map *labels, const char *task_owner)
{
	cJSON *m = cJSON_CreateObject(), *o = map_to_json(opts), *l = map_to_json(labels);
	char created[32], mnt[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;

	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	snprintf(mnt, sizeof(mnt), "%s/%s/_data", s->path, name);
	if (!m || !o || !l || !cJSON_AddStringToObject(m, "Name", name) ||
	    !cJSON_AddStringToObject(m, "Driver", "local") ||
	    !cJSON_AddStringToObject(m, "Mountpoint", mnt) ||
	    !cJSON_AddStringToObject(m, "CreatedAt", created) ||
	    !cJSON_AddItemToObject(m, "Labels", l) || (l = NULL, false) ||
	    !cJSON_AddItemToObject(m, "Options", o) || (o = NULL, false) ||
	    !cJSON_AddStringToObject(m, "Scope", "local") ||
	    !(task_owner ? cJSON_AddStringToObject(m, "TaskOwner", task_owner)
			 : cJSON_AddNullToObject(m, "TaskOwner")) ||
	    !cJSON_AddFalseToObject(m, "Seeded")) {
		cJSON_Delete(m);
		cJSON_Delete(o);
		cJSON_Delete(l);
		return NULL;
	}
	return m;
}

static int create_locked(struct vol_store *s, const char *name, const struct vol_map *opts,
			 const struct vol_map *labels, const char *task_owner)
{
	_cleanup_json_ cJSON *meta = NULL;
	_cleanup_close_ int vfd = -1;
	int r;

	if (!vol_name_valid(name))
		return -EINVAL;
	for (size_t i = 0; opts && i < opts->n; i++)
		if (strcmp(opts->kv[i].key, "type") && strcmp(opts->kv[i].key, "device") &&
		    strcmp(opts->kv[i].key, "o"))
			return -EINVAL;
	meta = new_meta(s, name, opts, labels, task_owner);
	if (!meta)
		return -ENOMEM;
	if (mkdirat(s->dirfd, name, 0700) < 0)
		return -errno;
	vfd = open_volume(s, name);
	if (vfd < 0) {
		r = vfd;
		goto undo;
	}
	/* Docker's _data is 0755 root: the container decides what lives in it. */
	if (mkdirat(vfd, "_data", 0755) < 0 || fchmodat(vfd, "_data", 0755, 0) < 0) {
		r = -errno;
		goto undo;
	}
	r = write_meta(vfd, meta);
	if (r < 0)
		goto undo;
	return 0;
undo:
	(void)rm_rf_at(s->dirfd, name, RMTREE_SAME_MOUNT);
	return r;
}

int vol_store_create(struct vol_store *s, const char *name, const struct vol_map *opts,
		     const struct vol_map *labels, const char *task_owner)
{
	return LOCKED(s, true, create_locked(s, name, opts, labels, task_owner));
}

static int inspect_locked(struct vol_store *s, const char *name, cJSON **ret)
{
	_cleanup_close_ int vfd = open_volume(s, name);
	_cleanup_json_ cJSON *meta = NULL;
	cJSON *users;
	char **v = NULL;
	int r;

	if (vfd < 0)
		return vfd;
	if ((r = read_meta(vfd, &meta)) < 0 || (r = vol_users_read(vfd, &v)) < 0)
		return r;
	users = cJSON_CreateArray();
	for (size_t i = 0; users && v[i]; i++)
		cJSON_AddItemToArray(users, cJSON_CreateString(v[i]));
	vol_strv_free(v);
	if (!users)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "UsedBy");
	cJSON_AddItemToObject(meta, "UsedBy", users);
	*ret = TAKE_PTR(meta);
	return 0;
}

int vol_store_inspect(struct vol_store *s, const char *name, cJSON **ret)
{
	return LOCKED(s, false, inspect_locked(s, name, ret));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_locked(struct vol_store *s, char ***ret)
{
	DIR *d = vol_opendir_at(s->dirfd);
	size_t n = 0, cap = 16;
	struct dirent *de;
	char **v;
	int r = 0;

	if (!d)
		return -errno;
	v = calloc(cap + 1, sizeof(*v));
	while (v && r == 0 && (de = readdir(d))) {
		struct stat st;

		if (!vol_name_valid(de->d_name) ||
		    fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap * 2 + 1) * sizeof(*v));

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap *= 2;
		}
		v[n] = strdup(de->d_name);
		r = v[n] ? 0 : -ENOMEM;
		if (r == 0)
			v[++n] = NULL;
	}
	closedir(d);
	if (!v || r < 0) {   /* never a silently shortened list */
		vol_strv_free(v);
		return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), str_cmp);
	*ret = v;
	return 0;
}

int vol_store_list(struct vol_store *s, char ***ret)
{
	return LOCKED(s, false, list_locked(s, ret));
}

static const char *opt(const cJSON *meta, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(meta, "Options"), key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int acquire_locked(struct vol_store *s, const struct vol_cfg *c, const char *name,
			  const char *user, char *ret_path, size_t size)
{
	_cleanup_close_ int vfd = open_volume(s, name);
	_cleanup_json_ cJSON *meta = NULL;
	char path[PATH_MAX];
	int r, mounted;

	if (vfd < 0)
		return vfd;
	if ((r = read_meta(vfd, &meta)) < 0)
		return r;
	if (snprintf(path, sizeof(path), "%s/%s/_data", s->path, name) >= (int)sizeof(path) ||
	    strlen(path) >= size)
		return -ENAMETOOLONG;
	r = vol_users_add(vfd, user);
	if (r < 0)
		return r;
	if (opt(meta, "type")) {
		mounted = mount_root_at(vfd, "_data");
		r = mounted < 0 ? mounted
		    : mounted   ? 0
				: vol_driver_mount(c, opt(meta, "type"), opt(meta, "device"),
						   opt(meta, "o"), path);
		if (r < 0) {
			(void)vol_users_remove(vfd, user, NULL);
			return r;
		}
	}
	memcpy(ret_path, path, strlen(path) + 1);
	return 0;
}

int vol_store_acquire(struct vol_store *s, const struct vol_cfg *c, const char *name,
		      const char *user, char *ret_path, size_t size)
{
	return LOCKED(s, true, acquire_locked(s, c, name, user, ret_path, size));
}

/* Unmounts the driver mount of an unused volume, if there is one. */
static int unmount_unused(struct vol_store *s, int vfd, const char *name)
{
	char path[PATH_MAX];

	if (mount_root_at(vfd, "_data") != 1)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/_data", s->path, name);
	/* Detach: copies in container namespaces are theirs to drop. */
	return umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
}

static int release_locked(struct vol_store *s, const char *name, const char *user)
{
	_cleanup_close_ int vfd = open_volume(s, name);
	size_t left = 0;
	int r;

	if (vfd < 0)
		return vfd;
	r = vol_users_remove(vfd, user, &left);
	if (r < 0)
		return r;
	return left ? 0 : unmount_unused(s, vfd, name);
}

int vol_store_release(struct vol_store *s, const char *name, const char *user)
{
	return LOCKED(s, true, release_locked(s, name, user));
}

static int remove_locked(struct vol_store *s, const char *name)
{
	_cleanup_close_ int vfd = open_volume(s, name);
	char **v = NULL;
	bool used;
	int r;

	if (vfd < 0)
		return vfd;
	r = vol_users_read(vfd, &v);
	if (r < 0)
		return r;
	used = v[0] != NULL;
	vol_strv_free(v);
	if (used)
		return -EBUSY;
	r = unmount_unused(s, vfd, name);
	if (r < 0)
		return r;
	return rm_rf_at(s->dirfd, name, RMTREE_SAME_MOUNT);
}

int vol_store_remove(struct vol_store *s, const char *name)
{
	return LOCKED(s, true, remove_locked(s, name));
}

int vol_store_prune(struct vol_store *s, char ***ret_names)
{
	char **all = NULL, **gone;
	size_t n = 0, total = 0;
	int r, first = 0;

	r = vol_store_lock(s, true);
	if (r < 0)
		return r;
	r = list_locked(s, &all);
	if (r < 0)
		goto out;
	for (n = 0; all[n]; n++)
		;
	total = n;
	gone = calloc(n + 1, sizeof(*gone));
	if (!gone) {
		r = -ENOMEM;
		goto out;
	}
	n = 0;
	for (size_t i = 0; i < total; i++) {
		r = remove_locked(s, all[i]);
		if (r == 0)
			gone[n++] = TAKE_PTR(all[i]);
		else if (r != -EBUSY && first == 0)
			first = r;
	}
	r = first;
	if (ret_names)
		*ret_names = gone;
	else
		vol_strv_free(gone);
out:
	for (size_t i = 0; all && i < total; i++)   /* taken entries are NULL */
		free(all[i]);
	free(all);
	vol_store_unlock(s);
	return r;
}

static int seeded_locked(struct vol_store *s, const char *name, bool mark)
{
	_cleanup_close_ int vfd = open_volume(s, name);
	_cleanup_json_ cJSON *meta = NULL;
	int r;

	if (vfd < 0)
		return vfd;
	if ((r = read_meta(vfd, &meta)) < 0)
		return r;
	if (!mark)
		return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "Seeded"));
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "Seeded");
	if (!cJSON_AddTrueToObject(meta, "Seeded"))
		return -ENOMEM;
	return write_meta(vfd, meta);
}

int vol_store_mark_seeded(struct vol_store *s, const char *name)
{
	return LOCKED(s, true, seeded_locked(s, name, true));
}

int vol_store_is_seeded(struct vol_store *s, const char *name)
{
	return LOCKED(s, false, seeded_locked(s, name, false));
}
