/* runtime/shim_fields.c - resolv.conf, hosts, devices and /dev/shm for one
 * container start (runtime/shim_fields.h). */
#include "runtime/shim_fields.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "runtime/dnsfiles.h"

#define HOST_FILE_MAX (1u << 20)

static const char *const etc_files[] = { "resolv.conf", "hosts" };

/* The host's file, or NULL when it has none. */
static int read_host_file(const char *path, char **ret)
{
	int r = read_file_alloc(path, HOST_FILE_MAX, ret, NULL);

	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	return r;
}

static enum dns_net dns_net_of(const struct shim_task *t)
{
	if (t->net == SHIM_NET_HOST)
		return DNS_NET_HOST;
	if (t->net == SHIM_NET_NONE)
		return DNS_NET_NONE;
	return DNS_NET_OWN;     /* bridge, awsvpc: the task's own network */
}

/* The two texts, in etc_files order. */
static int etc_texts(const struct shim_task *t, const struct shim_ctr_spec *c, const char *hostname,
		     char *text[2], struct err *e)
{
	_cleanup_free_ char *resolv = NULL, *hosts = NULL;
	struct dns_files_in in = {
		.net = dns_net_of(t),
		.servers = c->dns_servers, .n_servers = c->n_dns_servers,
		.search = c->dns_search, .n_search = c->n_dns_search,
		.extra = c->extra_hosts, .n_extra = c->n_extra_hosts,
		.hostname = hostname, .addrs = t->addrs,
	};
	int r;

	if ((r = read_host_file("/etc/resolv.conf", &resolv)) < 0 ||
	    (r = read_host_file("/etc/hosts", &hosts)) < 0)
		return err_set(e, r, "read the host's /etc/resolv.conf and /etc/hosts");
	in.host_resolv = resolv;
	in.host_hosts = hosts;
	r = dns_resolv_conf(&in, &text[0]);
	if (r < 0)
		return err_set(e, r, "container '%s': build resolv.conf", c->name);
	r = dns_hosts_file(&in, &text[1]);
	if (r < 0) {
		free(text[0]);
		return err_set(e, r, "container '%s': build hosts", c->name);
	}
	return 0;
}

/* A detached bind of the file PATH (a clone: private), read-only if RO. */
static int open_file_bind(const char *path, bool ro, int *ret_fd)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	_cleanup_close_ int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ro && mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return -errno;
	*ret_fd = take_fd(&fd);
	return 0;
}

static int prepare_etc(const struct shim_task *t, const struct shim_ctr_spec *c,
		       const char *task_dir, const struct rt_plan *plan, struct shim_ctr_files *f,
		       struct err *e)
{
	char *text[2] = { NULL, NULL }, path[PATH_MAX];
	int r = etc_texts(t, c, plan->hostname, text, e);

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(etc_files); i++) {
		struct vol_attach_op *op = &f->ops[i];

		snprintf(path, sizeof(path), "%s/%s.%s", task_dir, c->name, etc_files[i]);
		r = write_file_create_at(AT_FDCWD, path, text[i], strlen(text[i]), 0644);
		if (r == 0)
			r = open_file_bind(path, c->rt.read_only, &op->fd);
		if (r < 0) {
			err_set(e, r, "container '%s': prepare '%s'", c->name, path);
			break;
		}
		snprintf(op->target, sizeof(op->target), "/etc/%s", etc_files[i]);
		op->dir = false;
		f->mounts.n++;
	}
	free(text[0]);
	free(text[1]);
	return r;
}

int shim_device_node(const struct shim_device *d, const struct stat *st, struct rt_device *ret)
{
	mode_t allowed = (d->read ? 0444 : 0) | (d->write ? 0222 : 0);

	if (!S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode))
		return -ENODEV;
	if (strlen(d->container_path) >= sizeof(ret->path))
		return -ENAMETOOLONG;
	strcpy(ret->path, d->container_path);
	ret->mode = (st->st_mode & S_IFMT) | (st->st_mode & allowed);
	ret->dev = st->st_rdev;
	ret->uid = st->st_uid;
	ret->gid = st->st_gid;
	ret->access = (d->read ? BPF_DEVCG_ACC_READ : 0) | (d->write ? BPF_DEVCG_ACC_WRITE : 0) |
		      (d->mknod ? BPF_DEVCG_ACC_MKNOD : 0);
	return 0;
}

static int prepare_devices(const struct shim_ctr_spec *c, struct shim_ctr_files *f, struct err *e)
{
	if (!c->n_devices)
		return 0;
	f->devices = calloc(c->n_devices, sizeof(*f->devices));
	if (!f->devices)
		return err_set(e, -ENOMEM, "devices");
	for (size_t i = 0; i < c->n_devices; i++) {
		struct stat st;
		int r = stat(c->devices[i].host_path, &st) < 0 ? -errno : 0;

		if (r == 0)
			r = shim_device_node(&c->devices[i], &st, &f->devices[i]);
		if (r < 0)
			return err_set(e, r, "container '%s': device '%s'", c->name, c->devices[i].host_path);
	}
	return 0;
}

int shim_tmpfs_spec(const char *name, const char *tmpfs_json, struct vol_spec *ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *td = cJSON_CreateObject();
	cJSON *list = cJSON_Parse(tmpfs_json), *ctrs, *c, *lp;

	if (!list || !td || !cJSON_AddItemToObject(td, "containerDefinitions", ctrs = cJSON_CreateArray()) ||
	    !cJSON_AddItemToArray(ctrs, c = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(c, "name", name) ||
	    !cJSON_AddItemToObject(c, "linuxParameters", lp = cJSON_CreateObject()) ||
	    !cJSON_AddItemToObject(lp, "tmpfs", list)) {
		cJSON_Delete(list);
		return err_set(e, -ENOMEM, "tmpfs");
	}
	return vol_spec_parse(td, ret, e);
}

/* Each tmpfs as a detached mount (volumes/: size, mode and options
 * checked, nosuid/nodev/noexec as asked). */
static int prepare_tmpfs(const struct shim_ctr_spec *c, const char *rootfs,
			 struct vol_ctr_mounts *ret, struct err *e)
{
	struct vol_spec spec;
	struct vol_plan vp;
	struct vol_task none = { 0 };   /* tmpfs needs no host volume */
	int r;

	if (!c->tmpfs_json)
		return 0;
	r = shim_tmpfs_spec(c->name, c->tmpfs_json, &spec, e);
	if (r < 0)
		return r;
	none.spec = &spec;
	r = vol_plan_build(&spec, c->name, &vp, e);
	if (r == 0) {
		r = vol_ctr_prepare(&none, &vp, rootfs, ret, e);
		vol_plan_free(&vp);
	}
	vol_spec_free(&spec);
	return r;
}

int shim_fields_prepare(const struct shim_task *t, const struct shim_ctr_spec *c,
			const char *task_dir, struct rt_plan *plan, struct shim_ctr_files *ret,
			struct err *e)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < ARRAY_SIZE(ret->ops); i++)
		ret->ops[i].fd = -1;
	ret->mounts.op = ret->ops;
	if ((r = prepare_etc(t, c, task_dir, plan, ret, e)) < 0 ||
	    (r = prepare_devices(c, ret, e)) < 0 ||
	    (r = prepare_tmpfs(c, plan->rootfs, &ret->tmpfs, e)) < 0) {
		shim_fields_release(ret);
		return r;
	}
	/* sharedMemorySize: the runtime's /dev/shm tmpfs, sized (volumes/'s
	 * vol_shm_options form). */
	if (c->rt.shm_size_mib)
		snprintf(plan->shm_options, sizeof(plan->shm_options), "mode=1777,size=%llu",
			 (unsigned long long)c->rt.shm_size_mib << 20);
	plan->files = &ret->mounts;
	if (ret->tmpfs.n)
		plan->volumes = &ret->tmpfs;
	plan->devices = ret->devices;
	plan->n_devices = c->n_devices;
	return 0;
}

void shim_fields_release(struct shim_ctr_files *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(f->ops); i++)
		if (f->ops[i].fd >= 0)
			close(take_fd(&f->ops[i].fd));
	f->mounts.n = 0;
	vol_ctr_mounts_free(&f->tmpfs);
	free(f->devices);
	f->devices = NULL;
}
