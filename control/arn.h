/* control/arn.h - ECS resource names and ARNs (ECS-REFERENCE §10.2), pure.
 *
 *   cluster             arn:aws:ecs:<region>:<account>:cluster/<name>
 *   task definition     arn:aws:ecs:<region>:<account>:task-definition/<family>:<rev>
 *   task                arn:aws:ecs:<region>:<account>:task/<cluster>/<id>
 *   service             arn:aws:ecs:<region>:<account>:service/<cluster>/<name>
 *   container instance  arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id>
 *   capacity provider   arn:aws:ecs:<region>:<account>:capacity-provider/<name>
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARN_MAX 1024
#define NAME_MAX_LEN 255

enum arn_kind {
	ARN_CLUSTER,
	ARN_TASK_DEFINITION,
	ARN_TASK,
	ARN_SERVICE,
	ARN_CONTAINER_INSTANCE,
	ARN_CAPACITY_PROVIDER,
	ARN__COUNT,
};

struct arn {
	enum arn_kind kind;
	char region[64];
	char account[64];
	char cluster[NAME_MAX_LEN + 1]; /* task, service, container instance */
	char name[NAME_MAX_LEN + 1];    /* cluster/family/service/provider name, task/instance id */
	int64_t revision;               /* task definition only */
};

/* 1-255 characters of [A-Za-z0-9_-]: cluster, family, container, volume names. */
bool ecs_name_is_valid(const char *s);
/* A task or container-instance id: 32 lowercase hex digits. */
bool ecs_id_is_valid(const char *s);

/* Parses a full ARN; -EINVAL unless every part is well formed. */
int arn_parse(const char *s, struct arn *ret);

/* Writes the ARN of A (kind, names, revision) for REGION/ACCOUNT into BUF.
 * -ENAMETOOLONG if it does not fit, -EINVAL for an invalid kind. */
int arn_format(char *buf, size_t size, const char *region, const char *account,
	       const struct arn *a);

/* A task definition reference: "family", "family:revision" or the full ARN.
 * *ret_revision is 0 when no revision was given.  -EINVAL for a malformed
 * family or ARN, -ERANGE for a revision that is not in 1..2^31-1. */
int taskdef_ref_parse(const char *s, char family[NAME_MAX_LEN + 1], int64_t *ret_revision,
		      struct arn *ret_arn);

/* "bare name or ARN of the right kind" -> name; -EINVAL otherwise. */
int cluster_ref_parse(const char *s, char name[NAME_MAX_LEN + 1], struct arn *ret_arn);
