/* volumes/volumes.h - ECS task volumes on one host (ECS-REFERENCE §2).
 *
 *   parse    vol_spec_parse()      task definition JSON -> struct vol_spec   pure
 *   plan     vol_ctr_plan()        one container's mounts, ordered            pure
 *   host     vol_task_prepare()    volumes exist on the host: host paths
 *                                  checked and created, task dirs, named
 *                                  volumes, shared filesystems mounted once
 *                                  per host (refcounted by task id)
 *            vol_ctr_prepare()     per container start: seeds new volumes
 *                                  from the image, and opens every mount as a
 *                                  DETACHED mount fd (open_tree/fsmount) with
 *                                  read-only and private propagation set
 *   child    vol_ctr_attach()      in the container's mount namespace, after
 *                                  the rootfs bind and before pivot_root:
 *                                  resolves each containerPath inside the
 *                                  rootfs (openat2 RESOLVE_IN_ROOT, creating
 *                                  what is missing) and move_mount()s the
 *                                  detached mount onto it.  Syscalls only, no
 *                                  allocation: safe in a clone child.
 *   stop     vol_task_release()    drops the task's uses (unmounts shared
 *                                  filesystems and driver volumes no task
 *                                  uses, removes scope=task named volumes)
 *            vol_task_cleanup()    removes the task-scoped host volumes
 *                                  (the agent's delayed task cleanup)
 *
 * Detached mounts vanish when their last fd closes, so a failure anywhere
 * before vol_ctr_attach() leaves nothing mounted anywhere; attach undoes its
 * own mounts on failure.
 *
 * Layout under $BERTH_STATE_DIR (default /var/lib/berth):
 *   volumes/<name>/meta.json       named volume metadata (atomic rewrite)
 *   volumes/<name>/users           task ids using it, one a line
 *   volumes/<name>/_data           the data, or a driver mount point
 *   volumes/.lock                  flock for every change above
 *   tasks/<id>/volumes/<name>      host {} volumes of task <id>
 *   tasks/<id>/volumes/.<name>.seeded
 *   efs/<fileSystemId>/{mnt,users} shared filesystems mounted once per host
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"

struct cJSON;

#define VOL_NAME_MAX 255

enum vol_kind {
	VOL_HOST_PATH,   /* host.sourcePath */
	VOL_TASK_LOCAL,  /* host {} or name only */
	VOL_DOCKER,      /* dockerVolumeConfiguration */
	VOL_EFS,         /* efsVolumeConfiguration */
};

enum vol_scope { VOL_SCOPE_TASK, VOL_SCOPE_SHARED };

struct vol_kv {
	char *key, *value;
};

/* A string map, kept sorted by key (so two maps compare with memcmp-like walks). */
struct vol_map {
	struct vol_kv *kv;
	size_t n;
};

struct vol_def {                 /* one entry of volumes[] */
	char *name;
	enum vol_kind kind;
	char *source_path;       /* VOL_HOST_PATH: absolute, no ".." */
	enum vol_scope scope;    /* VOL_DOCKER */
	bool autoprovision;
	char *driver;            /* VOL_DOCKER: only "local" */
	struct vol_map driver_opts, labels;
	char *fs_id;             /* VOL_EFS */
	char *root_dir;          /* VOL_EFS: "/" by default */
};

struct vol_mount_point {
	char *source_volume;
	char *container_path;    /* normalised: absolute, no "//", "." or trailing "/" */
	bool read_only;
};

struct vol_from {
	char *source_container;
	bool read_only;
};

struct vol_tmpfs {
	char *container_path;
	uint64_t size;           /* bytes */
	unsigned int attr;       /* MOUNT_ATTR_* from mountOptions (ro, nosuid, ...) */
	char *fs_opts;           /* the rest, "mode=1777,uid=0", for fsconfig; may be "" */
};

struct vol_ctr {
	char *name;
	struct vol_mount_point *mounts;
	size_t n_mounts;
	struct vol_from *from;
	size_t n_from;
	struct vol_tmpfs *tmpfs;
	size_t n_tmpfs;
	uint64_t shm_size;       /* bytes; 0 = the runtime's default */
};

struct vol_spec {
	char *family;            /* for ECS-style names of scope=task volumes */
	long revision;
	struct vol_def *vols;
	size_t n_vols;
	struct vol_ctr *ctrs;
	size_t n_ctrs;
};

/* Parses volumes[] and, per container, mountPoints, volumesFrom,
 * linuxParameters.tmpfs and sharedMemorySize from a task definition object
 * (the RegisterTaskDefinition shape).  Checks every reference and path.
 * Pure; E gets one line naming the field. */
int vol_spec_parse(const struct cJSON *taskdef, struct vol_spec *ret, struct err *e);
int vol_spec_parse_json(const char *json, struct vol_spec *ret, struct err *e);
void vol_spec_free(struct vol_spec *s);
const struct vol_def *vol_spec_find(const struct vol_spec *s, const char *name);

/* Normalises an absolute path into OUT: collapses "//" and "/./", drops a
 * trailing "/"; -EINVAL if relative, empty or with a ".." component. */
int vol_path_normalise(const char *path, char *out, size_t size);
/* Parses tmpfs mountOptions into mount attributes and filesystem options.
 * -EINVAL (with *ret_bad = the offending option) for unknown or unsafe ones. */
int vol_tmpfs_options(const struct cJSON *list, unsigned int *ret_attr, char **ret_fs_opts,
		      const char **ret_bad);

/* ---- one container's plan (pure) ---- */

enum vol_mount_kind { VOL_M_BIND, VOL_M_TMPFS };

struct vol_mount {
	enum vol_mount_kind kind;
	const struct vol_def *vol;        /* VOL_M_BIND */
	const struct vol_tmpfs *tmpfs;    /* VOL_M_TMPFS */
	const char *target;               /* containerPath, borrowed from the spec */
	bool read_only;
	const char *via;                  /* volumesFrom container, or NULL */
};

struct vol_plan {
	struct vol_mount *m;              /* parents before children */
	size_t n;
	uint64_t shm_size;
};

/* The mounts of container CTR: its mountPoints, then those of its
 * volumesFrom containers (transitively; readOnly sticks) for targets it does
 * not mount itself, then its tmpfs; sorted so a path's parent is mounted
 * first.  Refuses two mounts on one path and volumesFrom cycles. */
int vol_plan_build(const struct vol_spec *s, const char *ctr, struct vol_plan *ret, struct err *e);
void vol_plan_free(struct vol_plan *p);
/* One line per mount, stable text: "bind <vol> -> <target> ro|rw" etc. */
void vol_plan_dump(const struct vol_plan *p, FILE *out);

/* ---- host configuration ---- */

struct vol_cfg {
	char state_dir[1024];
	char **host_roots;                /* BERTH_HOST_VOLUME_ROOTS; NULL = anywhere */
	size_t n_host_roots;
	bool match_full_config;           /* BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG */
	struct cJSON *shared_fs;          /* BERTH_SHARED_FILESYSTEMS, owned */
};

/* From the environment: BERTH_STATE_DIR, BERTH_HOST_VOLUME_ROOTS (JSON array
 * or ':'-separated absolute paths), BERTH_SHARED_VOLUME_MATCH_FULL_CONFIG (or
 * ECS_SHARED_VOLUME_MATCH_FULL_CONFIG), BERTH_SHARED_FILESYSTEMS (JSON object:
 * id -> "/host/path" | {"type", "device", "options"}). */
int vol_cfg_from_env(struct vol_cfg *ret, struct err *e);
/* The same from the values themselves (berth.conf's, as the agent has them);
 * NULL or "" = the default. */
int vol_cfg_from(const char *state_dir, const char *host_roots, const char *match_full,
		 const char *shared_fs, struct vol_cfg *ret, struct err *e);
void vol_cfg_free(struct vol_cfg *c);

/* ---- a task's volumes in the runtime's spec.json (volumes/taskjson.c) ---- */

/* TASKDEF's volumes, mountPoints and volumesFrom with the host settings (the
 * strings as vol_cfg_from takes them) as one object; both are checked here,
 * so a task that cannot have its volumes fails before anything starts. */
int vol_task_json_build(const struct cJSON *taskdef, const char *state_dir,
			const char *host_roots, const char *match_full, const char *shared_fs,
			struct cJSON **ret, struct err *e);
/* That object back: RET_CFG and RET_SPEC, both to be freed by the caller. */
int vol_task_json_parse(const struct cJSON *obj, struct vol_cfg *ret_cfg,
			struct vol_spec *ret_spec, struct err *e);

/* Checks a host sourcePath against the rules and the allow-list: absolute,
 * no "..", below one of the roots.  Pure (the canonical check is in prepare). */
int vol_host_path_check(const struct vol_cfg *c, const char *path, struct err *e);

/* ---- named volumes (volumes/store.c); leaf: 0 / -errno ---- */

struct vol_store {
	int dirfd;       /* $BERTH_STATE_DIR/volumes */
	int lockfd;
	char path[PATH_MAX - 256];
};
#define VOL_STORE_INIT { .dirfd = -1, .lockfd = -1 }

int vol_store_open(const char *state_dir, struct vol_store *ret);
void vol_store_close(struct vol_store *s);
int vol_store_lock(struct vol_store *s, bool exclusive);
void vol_store_unlock(struct vol_store *s);
int vol_name_valid(const char *name);   /* 1-255 of [A-Za-z0-9_.-], not starting with '.' */
/* Creates NAME (driver "local"); -EEXIST if it exists.  OPTS may hold type,
 * device, o (anything else: -EINVAL).  TASK_OWNER marks a scope=task volume. */
int vol_store_create(struct vol_store *s, const char *name, const struct vol_map *opts,
		     const struct vol_map *labels, const char *task_owner);
/* The metadata object (caller frees), with "Mountpoint" and "UsedBy" added. */
int vol_store_inspect(struct vol_store *s, const char *name, struct cJSON **ret);
/* Names, sorted; NULL-terminated array the caller frees with vol_strv_free. */
int vol_store_list(struct vol_store *s, char ***ret);
/* Adds USER; mounts the driver on first use, under C's allow-list and the
 * rules of vol_driver_mount (volumes/driver.c).  *ret_path = the data dir. */
int vol_store_acquire(struct vol_store *s, const struct vol_cfg *c, const char *name,
		      const char *user, char *ret_path, size_t size);
/* Removes USER; unmounts the driver when nobody uses the volume. */
int vol_store_release(struct vol_store *s, const char *name, const char *user);
/* -EBUSY while someone uses it. */
int vol_store_remove(struct vol_store *s, const char *name);
/* Removes every unused volume; *ret_names (may be NULL) lists them. */
int vol_store_prune(struct vol_store *s, char ***ret_names);
int vol_store_mark_seeded(struct vol_store *s, const char *name);
int vol_store_is_seeded(struct vol_store *s, const char *name);   /* 1, 0 or -errno */
void vol_strv_free(char **v);

/* ---- a task's volumes on this host ---- */

struct vol_src {                 /* per vol_def, same index */
	int fd;                  /* O_PATH of the host directory bound into containers */
	char path[PATH_MAX];     /* the same, for messages */
	bool seedable;           /* new empty task/named volume: seed once */
	bool acquired;           /* holds a use (named volume or shared fs) */
	bool created;            /* prepare created this scope=task named volume */
	char store_name[VOL_NAME_MAX + 1];   /* VOL_DOCKER */
};

struct vol_task {
	const struct vol_cfg *cfg;
	const struct vol_spec *spec;
	char id[128];
	struct vol_src *src;     /* spec->n_vols entries */
	struct vol_store store;  /* open when the task has dockerVolumeConfiguration */
};

/* Makes every volume of SPEC exist for task ID.  On failure undoes what it
 * did; E names the volume and says why (for a missing shared volume with
 * autoprovision false: ECS's reason). */
int vol_task_prepare(const struct vol_cfg *c, const struct vol_spec *s, const char *id,
		     struct vol_task *ret, struct err *e);
/* The task stopped: release named volumes and shared filesystems (best
 * effort, the first error is returned); keeps task-scoped host volumes. */
int vol_task_release(struct vol_task *t, struct err *e);
/* The same for a task whose preparing process is gone (killed, or done):
 * drops every use task ID may hold and removes its scope=task named
 * volumes.  Idempotent: what was released already is skipped. */
int vol_task_release_id(const struct vol_cfg *c, const struct vol_spec *s, const char *id,
			struct err *e);
/* The agent's task cleanup: removes $STATE/tasks/<id>/volumes.  Refuses
 * (-EBUSY) while anything below it is a mount point. */
int vol_task_cleanup(const struct vol_cfg *c, const char *id, struct err *e);

/* ---- one container start ---- */

struct vol_attach_op {
	int fd;                  /* detached mount (open_tree/fsmount), CLOEXEC */
	char target[PATH_MAX];   /* containerPath */
	bool dir;                /* mount point must be a directory (else a file) */
};

struct vol_ctr_mounts {
	struct vol_attach_op *op;
	size_t n;
	uint64_t shm_size;
};

/* Seeds new volumes from ROOTFS (host path of the container's root) and
 * opens every mount of PLAN as a detached mount.  Nothing is attached yet;
 * vol_ctr_mounts_free() closes the fds, which dissolves unattached mounts. */
int vol_ctr_prepare(struct vol_task *t, const struct vol_plan *p, const char *rootfs,
		    struct vol_ctr_mounts *ret, struct err *e);
void vol_ctr_mounts_free(struct vol_ctr_mounts *m);
/* Appends SRC's mounts to DST (SRC is left empty; its shm_size is not
 * taken).  -ENOMEM: both unchanged. */
int vol_ctr_mounts_move(struct vol_ctr_mounts *dst, struct vol_ctr_mounts *src);

/* In the container's mount namespace, ROOTFS_FD an O_PATH fd of the rootfs
 * (already a private mount), before pivot_root.  Attaches each mount at its
 * containerPath resolved inside the rootfs.  On failure undoes its mounts,
 * sets *ret_failed to the index of the failing op and returns -errno.  No
 * allocation, no stdio: callable in a clone child.  Each M attaches once. */
int vol_ctr_attach(const struct vol_ctr_mounts *m, int rootfs_fd, size_t *ret_failed);
/* Detaches what vol_ctr_attach mounted (tests, and callers that keep the
 * namespace; needs /proc).  Best effort; returns the first error. */
int vol_ctr_detach(const struct vol_ctr_mounts *m);
/* The tmpfs options for /dev/shm ("mode=1777,size=N") into BUF, or "" for
 * the default.  For the runtime's /dev setup after pivot_root. */
int vol_shm_options(const struct vol_ctr_mounts *m, char *buf, size_t size);

/* Resolves PATH inside ROOT_FD (symlinks stay inside), creating missing
 * directories (and the last component as a file when !DIR).  Returns an
 * O_PATH fd.  Async-signal-safe. */
int vol_resolve_in_root(int root_fd, const char *path, bool dir, int *ret_fd);
