/* cli/verbs.c - the verb table (see verbs.h) and its registration as
 * `berth <verb>` subcommands.  Flags and members follow the ECS model and the
 * aws CLI's spelling of it. */
#include "cli/verbs.h"

#include <string.h>

#include "cli/ecs.h"
#include "lib/cleanup.h"
#include "lib/cmd.h"

static const char *const tag_keys[] = { "key", "value", NULL };
static const char *const setting_keys[] = { "name", "value", NULL };
static const char *const attribute_keys[] = { "name", "value", "targetType", "targetId", NULL };

#define S(f, m)      { .flag = f, .member = m, .type = PT_STRING }
#define SREQ(f, m)   { .flag = f, .member = m, .type = PT_STRING, .required = true }
#define I(f, m)      { .flag = f, .member = m, .type = PT_INT }
#define B(f, m)      { .flag = f, .member = m, .type = PT_BOOL }
#define L(f, m)      { .flag = f, .member = m, .type = PT_STRLIST }
#define LREQ(f, m)   { .flag = f, .member = m, .type = PT_STRLIST, .required = true }
#define J(f, m)      { .flag = f, .member = m, .type = PT_JSON }
#define JL(f, m)     { .flag = f, .member = m, .type = PT_JSON, .list = true }
#define JLREQ(f, m)  { .flag = f, .member = m, .type = PT_JSON, .list = true, .required = true }
#define TAGS         { .flag = "tags", .member = "tags", .type = PT_KVLIST, .keys = tag_keys }
#define TAGS_REQ     { .flag = "tags", .member = "tags", .type = PT_KVLIST, .keys = tag_keys, .required = true }
#define PAGES        I("max-results", "maxResults"), S("next-token", "nextToken")

static const struct verb_param create_cluster_params[] = {
	S("cluster-name", "clusterName"),
	TAGS,
	{ .flag = "settings", .member = "settings", .type = PT_KVLIST, .keys = setting_keys },
	J("configuration", "configuration"),
	L("capacity-providers", "capacityProviders"),
	JL("default-capacity-provider-strategy", "defaultCapacityProviderStrategy"),
	J("service-connect-defaults", "serviceConnectDefaults"),
};

static const struct verb_param describe_clusters_params[] = {
	L("clusters", "clusters"),
	L("include", "include"),
};

static const struct verb_param list_clusters_params[] = {
	PAGES,
};

static const struct verb_param delete_cluster_params[] = {
	SREQ("cluster", "cluster"),
};

static const struct verb_param register_task_definition_params[] = {
	SREQ("family", "family"),
	S("task-role-arn", "taskRoleArn"),
	S("execution-role-arn", "executionRoleArn"),
	S("network-mode", "networkMode"),
	JLREQ("container-definitions", "containerDefinitions"),
	JL("volumes", "volumes"),
	JL("placement-constraints", "placementConstraints"),
	L("requires-compatibilities", "requiresCompatibilities"),
	S("cpu", "cpu"),
	S("memory", "memory"),
	TAGS,
	S("pid-mode", "pidMode"),
	S("ipc-mode", "ipcMode"),
	J("proxy-configuration", "proxyConfiguration"),
	JL("inference-accelerators", "inferenceAccelerators"),
	J("ephemeral-storage", "ephemeralStorage"),
	J("runtime-platform", "runtimePlatform"),
	B("enable-fault-injection", "enableFaultInjection"),
};

static const struct verb_param describe_task_definition_params[] = {
	SREQ("task-definition", "taskDefinition"),
	L("include", "include"),
};

static const struct verb_param list_task_definitions_params[] = {
	S("family-prefix", "familyPrefix"),
	S("status", "status"),
	S("sort", "sort"),
	PAGES,
};

static const struct verb_param list_task_definition_families_params[] = {
	S("family-prefix", "familyPrefix"),
	S("status", "status"),
	PAGES,
};

static const struct verb_param deregister_task_definition_params[] = {
	SREQ("task-definition", "taskDefinition"),
};

static const struct verb_param delete_task_definitions_params[] = {
	LREQ("task-definitions", "taskDefinitions"),
};

static const struct verb_param tag_resource_params[] = {
	SREQ("resource-arn", "resourceArn"),
	TAGS_REQ,
};

static const struct verb_param untag_resource_params[] = {
	SREQ("resource-arn", "resourceArn"),
	LREQ("tag-keys", "tagKeys"),
};

static const struct verb_param list_tags_for_resource_params[] = {
	SREQ("resource-arn", "resourceArn"),
};

static const struct verb_param run_task_params[] = {
	SREQ("task-definition", "taskDefinition"),
	S("cluster", "cluster"),
	I("count", "count"),
	S("group", "group"),
	S("started-by", "startedBy"),
	S("launch-type", "launchType"),
	JL("capacity-provider-strategy", "capacityProviderStrategy"),
	JL("placement-constraints", "placementConstraints"),
	JL("placement-strategy", "placementStrategy"),
	J("overrides", "overrides"),
	J("network-configuration", "networkConfiguration"),
	TAGS,
	S("propagate-tags", "propagateTags"),
	S("client-token", "clientToken"),
};

static const struct verb_param start_task_params[] = {
	SREQ("task-definition", "taskDefinition"),
	LREQ("container-instances", "containerInstances"),
	S("cluster", "cluster"),
	S("group", "group"),
	S("started-by", "startedBy"),
	J("overrides", "overrides"),
	J("network-configuration", "networkConfiguration"),
	TAGS,
};

static const struct verb_param stop_task_params[] = {
	SREQ("task", "task"),
	S("cluster", "cluster"),
	S("reason", "reason"),
};

static const struct verb_param describe_tasks_params[] = {
	LREQ("tasks", "tasks"),
	S("cluster", "cluster"),
	L("include", "include"),
};

static const struct verb_param list_tasks_params[] = {
	S("cluster", "cluster"),
	S("container-instance", "containerInstance"),
	S("family", "family"),
	S("started-by", "startedBy"),
	S("service-name", "serviceName"),
	S("desired-status", "desiredStatus"),
	S("launch-type", "launchType"),
	PAGES,
};

static const struct verb_param describe_container_instances_params[] = {
	LREQ("container-instances", "containerInstances"),
	S("cluster", "cluster"),
	L("include", "include"),
};

static const struct verb_param list_container_instances_params[] = {
	S("cluster", "cluster"),
	S("filter", "filter"),
	S("status", "status"),
	PAGES,
};

static const struct verb_param update_container_instances_state_params[] = {
	LREQ("container-instances", "containerInstances"),
	SREQ("status", "status"),
	S("cluster", "cluster"),
};

static const struct verb_param deregister_container_instance_params[] = {
	SREQ("container-instance", "containerInstance"),
	S("cluster", "cluster"),
	B("force", "force"),
};

#define ATTRIBUTES { .flag = "attributes", .member = "attributes", .type = PT_KVLIST, \
		     .keys = attribute_keys, .required = true }

static const struct verb_param put_attributes_params[] = {
	ATTRIBUTES,
	S("cluster", "cluster"),
};

static const struct verb_param delete_attributes_params[] = {
	ATTRIBUTES,
	S("cluster", "cluster"),
};

static const struct verb_param list_attributes_params[] = {
	SREQ("target-type", "targetType"),
	S("cluster", "cluster"),
	S("attribute-name", "attributeName"),
	S("attribute-value", "attributeValue"),
	PAGES,
};

/* X(ident, verb, Action, page_key, summary): one line per verb feeds both the
 * table and the subcommand registration. */
#define ECS_VERBS(X)                                                                          \
	X(create_cluster, "create-cluster", "CreateCluster", NULL,                            \
	  "Create a cluster")                                                                 \
	X(describe_clusters, "describe-clusters", "DescribeClusters", NULL,                   \
	  "Describe clusters")                                                                \
	X(list_clusters, "list-clusters", "ListClusters", "clusterArns",                      \
	  "List cluster ARNs")                                                                \
	X(delete_cluster, "delete-cluster", "DeleteCluster", NULL,                            \
	  "Delete a cluster")                                                                 \
	X(register_task_definition, "register-task-definition", "RegisterTaskDefinition",     \
	  NULL, "Register a task definition revision")                                        \
	X(describe_task_definition, "describe-task-definition", "DescribeTaskDefinition",     \
	  NULL, "Describe a task definition")                                                 \
	X(list_task_definitions, "list-task-definitions", "ListTaskDefinitions",              \
	  "taskDefinitionArns", "List task definition ARNs")                                  \
	X(list_task_definition_families, "list-task-definition-families",                     \
	  "ListTaskDefinitionFamilies", "families", "List task definition families")          \
	X(deregister_task_definition, "deregister-task-definition",                           \
	  "DeregisterTaskDefinition", NULL, "Deregister a task definition revision")          \
	X(delete_task_definitions, "delete-task-definitions", "DeleteTaskDefinitions", NULL,  \
	  "Delete inactive task definition revisions")                                        \
	X(tag_resource, "tag-resource", "TagResource", NULL, "Add tags to a resource")        \
	X(untag_resource, "untag-resource", "UntagResource", NULL,                            \
	  "Remove tags from a resource")                                                      \
	X(list_tags_for_resource, "list-tags-for-resource", "ListTagsForResource", NULL,      \
	  "List the tags of a resource")                                                      \
	X(run_task, "run-task", "RunTask", NULL, "Run tasks from a task definition")          \
	X(start_task, "start-task", "StartTask", NULL,                                        \
	  "Start tasks on chosen container instances")                                        \
	X(stop_task, "stop-task", "StopTask", NULL, "Stop a task")                            \
	X(describe_tasks, "describe-tasks", "DescribeTasks", NULL, "Describe tasks")          \
	X(list_tasks, "list-tasks", "ListTasks", "taskArns", "List task ARNs")                \
	X(describe_container_instances, "describe-container-instances",                       \
	  "DescribeContainerInstances", NULL, "Describe container instances")                 \
	X(list_container_instances, "list-container-instances", "ListContainerInstances",     \
	  "containerInstanceArns", "List container instance ARNs")                            \
	X(update_container_instances_state, "update-container-instances-state",               \
	  "UpdateContainerInstancesState", NULL, "Set container instances ACTIVE or DRAINING")  \
	X(deregister_container_instance, "deregister-container-instance",                     \
	  "DeregisterContainerInstance", NULL, "Deregister a container instance")             \
	X(put_attributes, "put-attributes", "PutAttributes", NULL,                            \
	  "Put attributes on container instances")                                            \
	X(delete_attributes, "delete-attributes", "DeleteAttributes", NULL,                   \
	  "Delete attributes from container instances")                                       \
	X(list_attributes, "list-attributes", "ListAttributes", "attributes",                 \
	  "List the attributes of container instances")

#define VERB_ROW(id, name_, action_, page_, summary_)                                         \
	{ .name = name_, .action = action_, .summary = summary_, .params = id##_params,        \
	  .n_params = ARRAY_SIZE(id##_params), .page_key = page_ },

static const struct verb verbs[] = { ECS_VERBS(VERB_ROW) };

#define VERB_REGISTER(id, name_, action_, page_, summary_)                                    \
	BERTH_COMMAND(ecs_##id, name_, ecs_verb_main, summary_ " (" action_ ")");

ECS_VERBS(VERB_REGISTER)

const struct verb *verbs_begin(void)
{
	return verbs;
}

const struct verb *verbs_end(void)
{
	return verbs + ARRAY_SIZE(verbs);
}

const struct verb *verb_find(const char *name)
{
	for (const struct verb *v = verbs_begin(); v < verbs_end(); v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

const struct verb_param *verb_param_by_flag(const struct verb *v, const char *flag)
{
	for (size_t i = 0; i < v->n_params; i++)
		if (strcmp(v->params[i].flag, flag) == 0)
			return &v->params[i];
	return NULL;
}

const struct verb_param *verb_param_by_member(const struct verb *v, const char *member)
{
	for (size_t i = 0; i < v->n_params; i++)
		if (strcmp(v->params[i].member, member) == 0)
			return &v->params[i];
	return NULL;
}
