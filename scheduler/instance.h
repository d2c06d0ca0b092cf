/* scheduler/instance.h - what the scheduler knows about one container
 * instance: a read-only snapshot the caller (control/) fills from its store.
 *
 * Every pointer is borrowed: the scheduler never frees or keeps them beyond
 * the call that received them.  Strings are NUL-terminated.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sched_instance_status {
	SCHED_INSTANCE_ACTIVE,
	SCHED_INSTANCE_DRAINING,    /* never a candidate (ECS-REFERENCE 4.1) */
	SCHED_INSTANCE_INACTIVE,    /* deregistered: ignored entirely */
};

/* One attribute.  value is NULL for name-only attributes (capabilities). */
struct sched_attr {
	const char *name;
	const char *value;
};

/* Tasks of one task group present on the instance (pending + running). */
struct sched_group_count {
	const char *group;
	uint32_t count;
};

struct sched_instance {
	const char *id;               /* container instance id, for the caller */
	const char *ec2_instance_id;  /* the `ec2InstanceId` CQL subject (berth: host id) */
	enum sched_instance_status status;
	bool agent_connected;
	int64_t registered_cpu, registered_memory;   /* CPU units, MiB */
	int64_t remaining_cpu, remaining_memory;
	/* Host ports unavailable for static mappings: the reserved ones plus
	 * every static host port of tasks already there.  Any order. */
	const uint16_t *ports_tcp;
	size_t n_ports_tcp;
	const uint16_t *ports_udp;
	size_t n_ports_udp;
	const struct sched_attr *attrs;   /* ecs.availability-zone, ecs.instance-type, custom... */
	size_t n_attrs;
	int64_t registered_at_ms;         /* `registeredAt`: ms since the epoch, UTC */
	const char *agent_version;        /* `agentVersion`: "1.14.5"; NULL if unknown */
	uint32_t running_tasks;           /* `runningTasksCount` */
	const struct sched_group_count *groups;  /* `task:group`, spread, distinctInstance */
	size_t n_groups;
};

/* The value of attribute NAME, or NULL; *present tells a name-only
 * attribute (value NULL, present) from a missing one. */
const char *sched_instance_attr(const struct sched_instance *in, const char *name,
				bool *present);

/* Tasks of GROUP on the instance according to the snapshot. */
uint32_t sched_instance_group_count(const struct sched_instance *in, const char *group);
