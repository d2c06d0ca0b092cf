/* scheduler/instance.c - lookups on an instance snapshot. */
#include "scheduler/instance.h"

#include <string.h>

const char *sched_instance_attr(const struct sched_instance *in, const char *name, bool *present)
{
	for (size_t i = 0; i < in->n_attrs; i++) {
		if (strcmp(in->attrs[i].name, name) == 0) {
			*present = true;
			return in->attrs[i].value;
		}
	}
	*present = false;
	return NULL;
}

uint32_t sched_instance_group_count(const struct sched_instance *in, const char *group)
{
	uint32_t n = 0;

	for (size_t i = 0; i < in->n_groups; i++)
		if (strcmp(in->groups[i].group, group) == 0)
			n += in->groups[i].count;
	return n;
}
