/* runtime/shim_fields.h - per container start, what the shim adds to the
 * runtime's plan from the container definition: /etc/resolv.conf and
 * /etc/hosts (written into the task's run directory, bound over the
 * image's), host devices, the /dev/shm size. */
#pragma once

#include <sys/stat.h>

#include "runtime/runtime.h"
#include "runtime/shim_int.h"
#include "volumes/volumes.h"

struct shim_ctr_files {
	struct vol_attach_op ops[2];    /* resolv.conf, hosts: detached binds */
	struct vol_ctr_mounts mounts;
	struct rt_device *devices;
	/* linuxParameters.tmpfs as detached mounts: the plan's volumes until
	 * the task volumes come through spec.json (then they belong to that
	 * vol_plan, which holds a container's tmpfs too). */
	struct vol_ctr_mounts tmpfs;
};

/* Writes TASK_DIR/<name>.resolv.conf and <name>.hosts for container C of
 * task T, opens them as detached binds (read-only with a read-only root, as
 * Docker) and fills PLAN's files, devices and shm options.  On failure
 * nothing is left open; E names the step. */
int shim_fields_prepare(const struct shim_task *t, const struct shim_ctr_spec *c,
			const char *task_dir, struct rt_plan *plan, struct shim_ctr_files *ret,
			struct err *e);
/* After rt_container_start returned: closes the fds, frees the devices. */
void shim_fields_release(struct shim_ctr_files *f);

/* Pure: the device node C's D asks for, from the host node's stat ST:
 * type and device number, owner, and permission bits limited to what D's
 * permissions allow (read: r, write: w).  -ENODEV if ST is no device. */
int shim_device_node(const struct shim_device *d, const struct stat *st, struct rt_device *ret);
