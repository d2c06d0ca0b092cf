/* control/schema_berth.c - shapes of berth's own agent-protocol members
 * (AGENT-PROTOCOL.md), written by hand: they are not in ECS's model. */
#include "control/schema.h"

static const struct jfield fields_binding[] = {
	{ "bindIP", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "containerPort", JT_INT, JT_NONE, false, NULL, NULL },
	{ "hostPort", JT_INT, JT_NONE, false, NULL, NULL },
	{ "protocol", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "containerPortRange", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "hostPortRange", JT_STRING, JT_NONE, false, NULL, NULL },
};
static const struct jshape shape_binding = { "NetworkBinding", fields_binding,
					     ARRAY_SIZE(fields_binding) };

static const struct jfield fields_netif[] = {
	{ "attachmentId", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "privateIpv4Address", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "ipv6Address", JT_STRING, JT_NONE, false, NULL, NULL },
};
static const struct jshape shape_netif = { "NetworkInterface", fields_netif, ARRAY_SIZE(fields_netif) };

static const struct jfield fields_kv[] = {
	{ "name", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "value", JT_STRING, JT_NONE, false, NULL, NULL },
};
static const struct jshape shape_kv = { "KeyValuePair", fields_kv, ARRAY_SIZE(fields_kv) };

static const struct jfield fields_attachment[] = {
	{ "id", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "type", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "status", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "details", JT_LIST, JT_OBJECT, false, &shape_kv, NULL },
};
static const struct jshape shape_attachment = { "Attachment", fields_attachment,
						ARRAY_SIZE(fields_attachment) };

static const struct jfield fields_container_report[] = {
	{ "name", JT_STRING, JT_NONE, true, NULL, NULL },
	{ "lastStatus", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "exitCode", JT_INT, JT_NONE, false, NULL, NULL },
	{ "reason", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "healthStatus", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "runtimeId", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "networkBindings", JT_LIST, JT_OBJECT, false, &shape_binding, NULL },
	{ "networkInterfaces", JT_LIST, JT_OBJECT, false, &shape_netif, NULL },
};
static const struct jshape shape_container_report = {
	"ContainerReport", fields_container_report, ARRAY_SIZE(fields_container_report)
};

static const struct jfield fields_report[] = {
	{ "lastStatus", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "desiredStatus", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "stopCode", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "stoppedReason", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "healthStatus", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "pullStartedAt", JT_NUMBER, JT_NONE, false, NULL, NULL },
	{ "pullStoppedAt", JT_NUMBER, JT_NONE, false, NULL, NULL },
	{ "startedAt", JT_NUMBER, JT_NONE, false, NULL, NULL },
	{ "stoppingAt", JT_NUMBER, JT_NONE, false, NULL, NULL },
	{ "stoppedAt", JT_NUMBER, JT_NONE, false, NULL, NULL },
	{ "executionStoppedAt", JT_NUMBER, JT_NONE, false, NULL, NULL },
	{ "containers", JT_LIST, JT_OBJECT, false, &shape_container_report, NULL },
	{ "attachments", JT_LIST, JT_OBJECT, false, &shape_attachment, NULL },
};
const struct jshape shape_BerthTaskReport = { "TaskReport", fields_report,
					      ARRAY_SIZE(fields_report) };

static const struct jfield fields_poll[] = {
	{ "cluster", JT_STRING, JT_NONE, false, NULL, NULL },
	{ "containerInstance", JT_STRING, JT_NONE, true, NULL, NULL },
	{ "generation", JT_LONG, JT_NONE, false, NULL, NULL },
	{ "waitSeconds", JT_INT, JT_NONE, false, NULL, NULL },
};
const struct jshape shape_BerthPollWorkRequest = { "BerthPollWorkRequest", fields_poll,
						   ARRAY_SIZE(fields_poll) };
