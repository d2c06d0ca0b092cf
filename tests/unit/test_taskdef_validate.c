/* tests/unit/test_taskdef_validate.c - RegisterTaskDefinition validation
 * table (pure, no store): one valid and one invalid document per rule, then
 * hostile input.  JSON below is written with ' for " to stay readable. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/taskdef_validate.h"
#include "lib/cleanup.h"

static cJSON *parse_q(const char *q)
{
	char *s = strdup(q);
	cJSON *j;

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = cJSON_Parse(s);
	free(s);
	return j;
}

#define C1 "{'name':'app','image':'nginx:1.25','memory':128"
#define TD(body) "{'family':'web','containerDefinitions':[" body "]}"

struct tcase {
	const char *json;
	const char *want;  /* NULL: valid; else a substring of the message */
};

static const struct tcase cases[] = {
	/* valid documents */
	{ TD(C1 "}"), NULL },
	{ "{'family':'web','networkMode':'bridge','cpu':'512','memory':'1024','containerDefinitions':["
	  "{'name':'app','image':'registry.local/app:1.4','cpu':256,'memoryReservation':256,'essential':true,"
	  "'portMappings':[{'containerPort':8080,'hostPort':0,'protocol':'tcp','name':'http'}],"
	  "'environment':[{'name':'MODE','value':'prod'}],"
	  "'mountPoints':[{'sourceVolume':'cache','containerPath':'/cache'}],"
	  "'dependsOn':[{'containerName':'init','condition':'SUCCESS'}],"
	  "'healthCheck':{'command':['CMD-SHELL','curl -f http://localhost:8080/ || exit 1'],'interval':10,'retries':3,'startPeriod':20},"
	  "'stopTimeout':20,'linuxParameters':{'initProcessEnabled':true,'capabilities':{'drop':['NET_RAW']}},"
	  "'ulimits':[{'name':'nofile','softLimit':65535,'hardLimit':65535}],"
	  "'logConfiguration':{'logDriver':'json-file','options':{'max-size':'10m'}}},"
	  "{'name':'init','image':'registry.local/migrate:1.4','essential':false,'memory':128}],"
	  "'volumes':[{'name':'cache','host':{}}],"
	  "'placementConstraints':[{'type':'memberOf','expression':'attribute:ecs.cpu-architecture == x86_64'}]}", NULL },
	{ "{'family':'w','cpu':'1 vCPU','memory':'1GB','containerDefinitions':[{'name':'a','image':'x'}]}", NULL },
	{ "{'family':'w','cpu':'0.5 vcpu','memory':'0.5 GB','containerDefinitions':[{'name':'a','image':'x'}]}", NULL },
	{ "{'family':'w','cpu':1024,'memory':2048,'containerDefinitions':[{'name':'a','image':'x'}]}", NULL },
	{ "{'family':'w','networkMode':'awsvpc','containerDefinitions':[" C1 ",'portMappings':[{'containerPort':80,'hostPort':80}]}]}", NULL },
	/* dots that are not a '..' component; one volume shared with volumesFrom both ways round is no cycle */
	{ "{'family':'w','volumes':[{'name':'d','host':{'sourcePath':'/srv/a..b/..c'}},{'name':'e','configuredAtLaunch':false,'host':{}}],'containerDefinitions':[" C1 ",'mountPoints':[{'sourceVolume':'d','containerPath':'/x/..y'},{'sourceVolume':'e','containerPath':'/x/..y/z'}]},{'name':'b','image':'x','memory':64,'volumesFrom':[{'sourceContainer':'app'}]}]}", NULL },
	{ "{'family':'w','networkMode':'host','containerDefinitions':[" C1 ",'portMappings':[{'containerPort':80}]}]}", NULL },
	{ TD(C1 ",'portMappings':[{'containerPort':53,'protocol':'udp'},{'containerPort':53,'protocol':'tcp'}]}"), "cannot be exposed for more than one protocol" },
	{ TD(C1 ",'portMappings':[{'containerPortRange':'9000-9100'}]}"), NULL },
	{ TD("{'name':'app','memory':128,'image':'busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}"), NULL },
	{ TD(C1 ",'links':['db:database']},{'name':'db','image':'pg','memory':64}"), NULL },
	{ TD(C1 ",'dependsOn':[{'containerName':'db','condition':'HEALTHY'}]},{'name':'db','image':'pg','memory':64,'healthCheck':{'command':['CMD','true']}}"), NULL },
	{ TD(C1 ",'versionConsistency':'disabled','restartPolicy':{'enabled':true,'restartAttemptPeriod':60}}"), NULL },
	/* shape: unknown members, types, enums, required */
	{ "{'family':'w','bogus':1,'containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Unknown parameter in input: \"bogus\"" },
	{ TD(C1 ",'colour':'red'}"), "Unknown parameter in containerDefinitions[0]: \"colour\"" },
	{ TD(C1 ",'portMappings':[{'containerPort':80,'hostport':80}]}"), "containerDefinitions[0].portMappings[0]: \"hostport\"" },
	{ TD("{'name':'app','image':'x','memory':'128'}"), "Invalid type for parameter containerDefinitions[0].memory" },
	{ TD(C1 ",'essential':'yes'}"), "containerDefinitions[0].essential" },
	{ TD(C1 ",'command':'ls'}"), "containerDefinitions[0].command" },
	{ TD(C1 ",'command':['ls',1]}"), "containerDefinitions[0].command[1]" },
	{ TD(C1 ",'dockerLabels':{'a':1}}"), "containerDefinitions[0].dockerLabels.a" },
	{ TD(C1 ",'cpu':1.5}"), "containerDefinitions[0].cpu" },
	{ TD(C1 ",'cpu':1e300}"), "containerDefinitions[0].cpu" },
	{ TD(C1 ",'cpu':null}"), "containerDefinitions[0].cpu" },
	{ "{'family':'w','containerDefinitions':{}}", "containerDefinitions" },
	{ "{'family':'w','networkMode':'overlay','containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Invalid value for parameter networkMode" },
	{ TD(C1 ",'portMappings':[{'containerPort':80,'protocol':'sctp'}]}"), "protocol" },
	{ TD(C1 ",'dependsOn':[{'containerName':'app'}]}"), "Missing required parameter in containerDefinitions[0].dependsOn[0]: \"condition\"" },
	{ "{'containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Missing required parameter in input: \"family\"" },
	{ "{'family':'w','family':'v','containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Duplicate parameter" },
	{ "[1,2]", "must be a JSON object" },
	/* family and names */
	{ "{'family':'web app','containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Family contains invalid characters" },
	{ "{'family':'','containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Family contains invalid characters" },
	{ "{'family':'w','containerDefinitions':[]}", "Container list cannot be empty" },
	{ TD("{'image':'x','memory':64}"), "Container.name should not be null or empty" },
	{ TD("{'name':'a.b','image':'x','memory':64}"), "Invalid container name" },
	{ TD(C1 "}," C1 "}"), "Duplicate container name 'app'" },
	{ TD("{'name':'a','memory':64}"), "Container.image should not be null or empty" },
	{ TD("{'name':'a','image':'bad image','memory':64}"), "Invalid image reference" },
	{ TD("{'name':'a','image':'x@sha256:abc','memory':64}"), "Invalid image reference" },
	{ TD(C1 ",'essential':false}"), "At least one container must be marked as essential" },
	/* cpu and memory */
	{ "{'family':'w','cpu':'1.3 vCPU','containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Invalid 'cpu' setting for task" },
	{ "{'family':'w','cpu':'lots','containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Invalid 'cpu' setting for task" },
	{ "{'family':'w','cpu':'-5','containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "Invalid 'cpu' setting for task" },
	{ "{'family':'w','cpu':'64','containerDefinitions':[{'name':'a','image':'x','memory':64}]}", "between 128 and 196608" },
	{ "{'family':'w','memory':'1TB','containerDefinitions':[{'name':'a','image':'x'}]}", "Invalid 'memory' setting for task" },
	{ "{'family':'w','memory':'99999999999','containerDefinitions':[{'name':'a','image':'x'}]}", "Invalid 'memory' setting for task" },
	{ "{'family':'w','cpu':'256','containerDefinitions':[{'name':'a','image':'x','memory':64,'cpu':512}]}", "exceeds the task cpu" },
	{ TD(C1 ",'cpu':-1}"), "must not be negative" },
	{ TD("{'name':'a','image':'x'}"), "At least one of 'memory' or 'memoryReservation' must be specified" },
	{ TD("{'name':'a','image':'x','memory':4}"), "The minimum is 6 MiB" },
	{ TD("{'name':'a','image':'x','memory':64,'memoryReservation':128}"), "'memory' must be greater than 'memoryReservation'" },
	{ TD("{'name':'a','image':'x','memory':64,'memoryReservation':64}"), "'memory' must be greater than 'memoryReservation'" },
	{ TD("{'name':'a','image':'x','memoryReservation':0}"), "memoryReservation' setting" },
	{ "{'family':'w','memory':'128','containerDefinitions':[{'name':'a','image':'x','memory':256}]}", "exceeds the task memory" },
	{ "{'family':'w','memory':'128','containerDefinitions':[{'name':'a','image':'x','memoryReservation':100},{'name':'b','image':'x','memoryReservation':100}]}", "sum of the container memory reservations" },
	/* network modes and ports */
	{ "{'family':'w','networkMode':'awsvpc','containerDefinitions':[" C1 ",'portMappings':[{'containerPort':80,'hostPort':8080}]}]}", "must either be undefined or equal to the container port" },
	{ "{'family':'w','networkMode':'host','containerDefinitions':[" C1 ",'portMappings':[{'containerPort':80,'hostPort':0}]}]}", "must either be undefined" },
	{ "{'family':'w','networkMode':'none','containerDefinitions':[" C1 ",'portMappings':[{'containerPort':80}]}]}", "not supported in network mode none" },
	{ TD(C1 ",'portMappings':[{'containerPort':0}]}"), "'containerPort' must be between 1 and 65535" },
	{ TD(C1 ",'portMappings':[{'containerPort':70000}]}"), "'containerPort' must be between 1 and 65535" },
	{ TD(C1 ",'portMappings':[{'containerPort':80,'hostPort':-1}]}"), "'hostPort' must be between 0 and 65535" },
	{ TD(C1 ",'portMappings':[{'containerPort':80},{'containerPort':80}]}"), "mapped more than once" },
	{ TD(C1 ",'portMappings':[{'containerPort':80}]},{'name':'b','image':'x','memory':64,'portMappings':[{'containerPort':80}]}"), "also exposed by another container" },
	{ "{'family':'w','networkMode':'awsvpc','containerDefinitions':[" C1 ",'portMappings':[{'containerPortRange':'9000-9010'}]},{'name':'b','image':'x','memory':64,'portMappings':[{'containerPort':9005}]}]}", "9005/tcp is also exposed" },
	{ "{'family':'w','networkMode':'host','containerDefinitions':[" C1 ",'portMappings':[{'containerPort':80}]},{'name':'b','image':'x','memory':64,'portMappings':[{'containerPort':80}]}]}", "used by more than one port mapping" },
	{ TD(C1 ",'portMappings':[{'containerPort':80}]},{'name':'b','image':'x','memory':64,'portMappings':[{'containerPort':80,'protocol':'udp'}]}"), NULL },
	{ TD(C1 ",'portMappings':[{'containerPort':80,'hostPort':8080}]},{'name':'b','image':'x','memory':64,'portMappings':[{'containerPort':81,'hostPort':8080}]}"), "used by more than one port mapping" },
	{ TD(C1 ",'portMappings':[{'containerPort':80,'name':'Http'}]}"), "Port mapping name" },
	{ TD(C1 ",'portMappings':[{'containerPort':80,'name':'h'},{'containerPort':81,'name':'h'}]}"), "used more than once" },
	{ TD(C1 ",'portMappings':[{'containerPortRange':'9100-9000'}]}"), "'containerPortRange'" },
	{ TD(C1 ",'portMappings':[{'containerPortRange':'9000-9100','containerPort':9000}]}"), "Do not set 'containerPort' or 'hostPort'" },
	{ TD(C1 ",'portMappings':[{'containerPortRange':'9000-9100'},{'containerPort':9050}]}"), "mapped more than once" },
	{ "{'family':'w','networkMode':'host','containerDefinitions':[" C1 ",'portMappings':[{'containerPortRange':'1-2'}]}]}", "only supported in network modes bridge and awsvpc" },
	{ "{'family':'w','networkMode':'awsvpc','containerDefinitions':[" C1 ",'hostname':'h'}]}", "'hostname' is not supported" },
	{ "{'family':'w','networkMode':'awsvpc','containerDefinitions':[" C1 ",'extraHosts':[{'hostname':'a','ipAddress':'1.2.3.4'}]}]}", "'extraHosts' is not supported" },
	{ "{'family':'w','requiresCompatibilities':['FARGATE'],'containerDefinitions':[" C1 "}]}", "Fargate only supports network mode 'awsvpc'" },
	{ "{'family':'w','networkMode':'awsvpc','requiresCompatibilities':['FARGATE'],'containerDefinitions':[" C1 "}]}", "Fargate requires that 'cpu'" },
	/* links, dependsOn, volumes */
	{ "{'family':'w','networkMode':'host','containerDefinitions':[" C1 ",'links':['db']},{'name':'db','image':'pg','memory':64}]}", "only supported in network mode bridge" },
	{ TD(C1 ",'links':['nope']}"), "Link target 'nope'" },
	{ TD(C1 ",'links':['app']}"), "Link target 'app'" },
	{ TD(C1 ",'dependsOn':[{'containerName':'ghost','condition':'START'}]}"), "dependsOn container 'ghost'" },
	{ TD(C1 ",'dependsOn':[{'containerName':'app','condition':'START'}]}"), "dependsOn container 'app'" },
	{ TD(C1 ",'dependsOn':[{'containerName':'db','condition':'SUCCESS'}]},{'name':'db','image':'pg','memory':64}"), "cannot be used with essential container 'db'" },
	{ TD(C1 ",'dependsOn':[{'containerName':'db','condition':'HEALTHY'}]},{'name':'db','image':'pg','memory':64}"), "requires container 'db' to have a healthCheck" },
	{ TD(C1 ",'dependsOn':[{'containerName':'db','condition':'START'}]},{'name':'db','image':'pg','memory':64,'dependsOn':[{'containerName':'app','condition':'START'}]}"), "form a cycle" },
	{ TD(C1 ",'mountPoints':[{'sourceVolume':'data','containerPath':'/d'}]}"), "sourceVolume 'data' is not a volume" },
	{ "{'family':'w','volumes':[{'name':'d'}],'containerDefinitions':[" C1 ",'mountPoints':[{'sourceVolume':'d','containerPath':'rel'}]}]}", "containerPath must be an absolute path" },
	{ "{'family':'w','volumes':[{'name':'d'},{'name':'d'}],'containerDefinitions':[" C1 "}]}", "Duplicate volume name 'd'" },
	{ "{'family':'w','volumes':[{'name':'bad name'}],'containerDefinitions':[" C1 "}]}", "Invalid volume name" },
	{ "{'family':'w','volumes':[{'name':'d','host':{'sourcePath':'rel'}}],'containerDefinitions':[" C1 "}]}", "must be an absolute path" },
	{ "{'family':'w','volumes':[{'name':'d','dockerVolumeConfiguration':{'autoprovision':true,'scope':'task'}}],'containerDefinitions':[" C1 "}]}", "'autoprovision'" },
	{ TD(C1 ",'volumesFrom':[{'sourceContainer':'ghost'}]}"), "volumesFrom sourceContainer 'ghost'" },
	{ "{'family':'w','volumes':[{'name':'d','host':{'sourcePath':'/srv/../etc'}}],'containerDefinitions':[" C1 "}]}", "'host.sourcePath' must not contain '..'" },
	{ "{'family':'w','volumes':[{'name':'d','host':{'sourcePath':'/srv/..'}}],'containerDefinitions':[" C1 "}]}", "must not contain '..'" },
	{ "{'family':'w','volumes':[{'name':'d','host':{},'efsVolumeConfiguration':{'fileSystemId':'fs-1'}}],'containerDefinitions':[" C1 "}]}", "Only one of host, dockerVolumeConfiguration" },
	{ "{'family':'w','volumes':[{'name':'d'}],'containerDefinitions':[" C1 ",'mountPoints':[{'sourceVolume':'d','containerPath':'/a/../etc'}]}]}", "containerPath '/a/../etc' must not contain '..'" },
	{ "{'family':'w','volumes':[{'name':'d'}],'containerDefinitions':[" C1 ",'mountPoints':[{'sourceVolume':'d','containerPath':'/x'},{'sourceVolume':'d','containerPath':'/x'}]}]}", "Duplicate mount point '/x'" },
	{ TD(C1 ",'volumesFrom':[{'sourceContainer':'db'}]},{'name':'db','image':'pg','memory':64,'volumesFrom':[{'sourceContainer':'app'}]}"), "volumesFrom relationships form a cycle" },
	/* health checks */
	{ TD(C1 ",'healthCheck':{'command':[]}}"), "healthCheck command must not be empty" },
	{ TD(C1 ",'healthCheck':{'command':['CMD','true'],'interval':4}}"), "healthCheck interval must be between 5 and 300" },
	{ TD(C1 ",'healthCheck':{'command':['CMD','true'],'interval':301}}"), "healthCheck interval" },
	{ TD(C1 ",'healthCheck':{'command':['CMD','true'],'timeout':1}}"), "healthCheck timeout must be between 2 and 60" },
	{ TD(C1 ",'healthCheck':{'command':['CMD','true'],'retries':11}}"), "healthCheck retries must be between 1 and 10" },
	{ TD(C1 ",'healthCheck':{'command':['CMD','true'],'startPeriod':-1}}"), "healthCheck startPeriod must be between 0 and 300" },
	/* ulimits, linux parameters, placement, restart policy, timeouts */
	{ TD(C1 ",'ulimits':[{'name':'nofile','softLimit':10,'hardLimit':5}]}"), "softLimit must not exceed hardLimit" },
	{ TD(C1 ",'ulimits':[{'name':'nofile','softLimit':1,'hardLimit':5},{'name':'nofile','softLimit':1,'hardLimit':5}]}"), "set more than once" },
	{ TD(C1 ",'ulimits':[{'name':'files','softLimit':1,'hardLimit':5}]}"), "Invalid value for parameter containerDefinitions[0].ulimits[0].name" },
	{ TD(C1 ",'linuxParameters':{'capabilities':{'add':['CAP_SYS_ADMIN']}}}"), "Unknown capability 'CAP_SYS_ADMIN'" },
	{ TD(C1 ",'linuxParameters':{'devices':[{'hostPath':'dev/null'}]}}"), "Device paths must be absolute" },
	{ TD(C1 ",'linuxParameters':{'tmpfs':[{'containerPath':'/t','size':0}]}}"), "tmpfs size must be greater than 0" },
	{ TD(C1 ",'linuxParameters':{'swappiness':101}}"), "swappiness must be between 0 and 100" },
	/* hostname, dns, extraHosts, systemControls, devices (taskdef_rules_fields.c) */
	{ TD(C1 ",'hostname':'web-1.example','dnsServers':['10.0.0.2','fd00::53'],'dnsSearchDomains':['corp.example'],"
	     "'extraHosts':[{'hostname':'db','ipAddress':'10.1.2.3'}],"
	     "'systemControls':[{'namespace':'net.ipv4.ip_forward','value':'1'},{'namespace':'kernel.shmmax','value':'4096'},"
	     "{'namespace':'fs.mqueue.msg_max','value':'20'},{'namespace':'net/core/somaxconn','value':'1024'}]}"), NULL },
	{ TD(C1 ",'hostname':'web\\nevil'}"), "hostname 'web" },
	{ TD(C1 ",'hostname':'a b'}"), "not a valid host name" },
	{ TD(C1 ",'hostname':'-web'}"), "not a valid host name" },
	{ TD(C1 ",'hostname':'" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaa" "'}"), "at most 64 characters" },
	{ TD(C1 ",'dnsServers':['10.0.0.256']}"), "dnsServers '10.0.0.256' is not a valid IP address" },
	{ TD(C1 ",'dnsServers':['10.0.0.2\\nnameserver 6.6.6.6']}"), "is not a valid IP address" },
	{ TD(C1 ",'dnsServers':['']}"), "is not a valid IP address" },
	{ TD(C1 ",'dnsServers':['1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1',"
	     "'1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1','1.1.1.1']}"), "At most 16 dnsServers" },
	{ TD(C1 ",'dnsSearchDomains':['corp..example']}"), "dnsSearchDomains 'corp..example' is not a valid domain name" },
	{ TD(C1 ",'dnsSearchDomains':['a.example options ndots:15']}"), "not a valid domain name" },
	{ TD(C1 ",'extraHosts':[{'hostname':'db\\n1.2.3.4 evil','ipAddress':'10.1.2.3'}]}"), "extraHosts hostname" },
	{ TD(C1 ",'extraHosts':[{'hostname':'db','ipAddress':'db.example'}]}"), "extraHosts ipAddress 'db.example' is not a valid IP address" },
	{ TD(C1 ",'extraHosts':[{'hostname':'db','ipAddress':'10.1.2.3\\t'}]}"), "extraHosts ipAddress" },
	{ TD(C1 ",'systemControls':[{'namespace':'kernel.hostname','value':'x'}]}"), "'kernel.hostname' is not a namespaced kernel parameter" },
	{ TD(C1 ",'systemControls':[{'namespace':'vm.swappiness','value':'1'}]}"), "not a namespaced kernel parameter" },
	{ TD(C1 ",'systemControls':[{'namespace':'net..ipv4','value':'1'}]}"), "not a namespaced kernel parameter" },
	{ TD(C1 ",'systemControls':[{'namespace':'net.ipv4/../../vm/swappiness','value':'1'}]}"), "not a namespaced kernel parameter" },
	{ TD(C1 ",'systemControls':[{'namespace':'net.ipv4.ip_forward','value':'1\\n'}]}"), "must be 1 to 256 characters on one line" },
	{ TD(C1 ",'systemControls':[{'namespace':'net.ipv4.ip_forward'}]}"), "must be 1 to 256 characters" },
	{ "{'family':'w','networkMode':'host','containerDefinitions':[" C1 ",'systemControls':[{'namespace':'net.ipv4.ip_forward','value':'1'}]}]}", NULL },  /* fails at start */
	{ "{'family':'w','networkMode':'host','containerDefinitions':[" C1 ",'systemControls':[{'namespace':'kernel.shmmax','value':'1'}]}]}", NULL },
	{ "{'family':'w','ipcMode':'host','containerDefinitions':[" C1 ",'systemControls':[{'namespace':'kernel.shmmax','value':'1'}]}]}", "not supported with ipcMode host" },
	{ TD(C1 ",'linuxParameters':{'devices':[{'hostPath':'/dev/null','permissions':['execute']}]}}"), "permissions" },
	{ "{'family':'w','placementConstraints':[{'type':'memberOf'}],'containerDefinitions':[" C1 "}]}", "needs an expression" },
	{ TD(C1 ",'restartPolicy':{'enabled':true,'restartAttemptPeriod':30}}"), "restartAttemptPeriod must be between 60 and 1800" },
	{ TD(C1 ",'stopTimeout':-5}"), "stopTimeout must not be negative" },
	/* limits */
	{ TD(C1 "},{'name':'b','image':'x','memory':64},{'name':'c','image':'x','memory':64},{'name':'d','image':'x','memory':64},"
	     "{'name':'e','image':'x','memory':64},{'name':'f','image':'x','memory':64},{'name':'g','image':'x','memory':64},"
	     "{'name':'h','image':'x','memory':64},{'name':'i','image':'x','memory':64},{'name':'j','image':'x','memory':64},"
	     "{'name':'k','image':'x','memory':64}"), "at most 10 containers" },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *req = parse_q(cases[i].json), *doc = NULL;
		struct err e = ERR_INIT;
		int r;

		if (!req)
			fail_msg("case %zu: test JSON does not parse", i);
		r = taskdef_build(req, &doc, &e);
		if (cases[i].want == NULL && r < 0)
			fail_msg("case %zu: want valid, got '%s'", i, e.msg);
		if (cases[i].want && r == 0)
			fail_msg("case %zu: want '%s', got valid", i, cases[i].want);
		if (cases[i].want && !strstr(e.msg, cases[i].want))
			fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want, e.msg);
		if (cases[i].want)
			assert_string_equal(e.type, "ClientException");
		cJSON_Delete(doc);
		cJSON_Delete(req);
	}
}

static cJSON *build_ok(const char *q)
{
	cJSON *req = parse_q(q), *doc = NULL;
	struct err e = ERR_INIT;

	assert_non_null(req);
	if (taskdef_build(req, &doc, &e) < 0)
		fail_msg("unexpected: %s", e.msg);
	cJSON_Delete(req);
	return doc;
}

static void test_normalized(void **state)
{
	cJSON *doc = build_ok("{'family':'w','cpu':'0.25 vCPU','memory':'2 GB','tags':[{'key':'a','value':'b'}],"
			      "'containerDefinitions':[{'name':'a','image':'x','portMappings':[{'containerPort':80}],"
			      "'firelensConfiguration':{'type':'fluentbit'},'credentialSpecs':['s']}]}");
	cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "containerDefinitions"), 0);
	cJSON *pm = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "portMappings"), 0);

	(void)state;
	assert_string_equal(cJSON_GetObjectItem(doc, "cpu")->valuestring, "256");
	assert_string_equal(cJSON_GetObjectItem(doc, "memory")->valuestring, "2048");
	assert_null(cJSON_GetObjectItem(doc, "tags"));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c, "essential")));
	assert_int_equal(cJSON_GetObjectItem(c, "cpu")->valueint, 0);
	assert_string_equal(cJSON_GetObjectItem(pm, "protocol")->valuestring, "tcp");
	assert_int_equal(cJSON_GetObjectItem(pm, "hostPort")->valueint, 0);
	/* fields berth does not act on are kept */
	assert_non_null(cJSON_GetObjectItem(c, "firelensConfiguration"));
	assert_non_null(cJSON_GetObjectItem(c, "credentialSpecs"));
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(c, "mountPoints")));
	cJSON_Delete(doc);

	doc = build_ok("{'family':'w','networkMode':'awsvpc','containerDefinitions':[{'name':'a','image':'x','memory':64,"
		       "'portMappings':[{'containerPort':443}],'essential':false},{'name':'b','image':'x','memory':64}]}");
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "containerDefinitions"), 0);
	pm = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "portMappings"), 0);
	assert_int_equal(cJSON_GetObjectItem(pm, "hostPort")->valueint, 443);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(c, "essential")));
	cJSON_Delete(doc);
}

static void test_cpu_memory_strings(void **state)
{
	static const struct { const char *s; int64_t want; bool cpu; } ok[] = {
		{ "1024", 1024, true }, { "1 vCPU", 1024, true }, { "1 vcpu", 1024, true },
		{ "0.5 vcpu", 512, true }, { " 2vCPU ", 2048, true }, { "0.125 vCPU", 128, true },
		{ "1GB", 1024, false }, { "1 GB", 1024, false }, { "0.5GB", 512, false },
		{ "512", 512, false }, { "30 gb", 30720, false },
	};
	static const char *const bad[] = {
		"", " ", "vcpu", "1.", ".5", "1e3", "0x10", "-1", "+1", "1 vCPU x", "1,5",
		"1.0001 vCPU", "10.5", "nan", "inf", "1 MB", "99999999999", "1 vCPU vCPU",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		cJSON *v = cJSON_CreateString(ok[i].s);
		int64_t got = -1;

		assert_int_equal(ok[i].cpu ? taskdef_parse_cpu(v, &got) : taskdef_parse_memory(v, &got), 0);
		assert_int_equal(got, ok[i].want);
		cJSON_Delete(v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cJSON *v = cJSON_CreateString(bad[i]);
		int64_t got;

		if (taskdef_parse_cpu(v, &got) == 0 || taskdef_parse_memory(v, &got) == 0)
			fail_msg("'%s' accepted", bad[i]);
		cJSON_Delete(v);
	}
}

/* Hostile input: nothing may crash, everything is refused with a message. */
static void expect_refused(cJSON *req)
{
	struct err e = ERR_INIT;
	cJSON *doc = NULL;

	assert_int_equal(taskdef_build(req, &doc, &e), -EINVAL);
	assert_null(doc);
	assert_non_null(e.type);
	assert_true(strlen(e.msg) > 0);
}

static void test_hostile(void **state)
{
	char *big, *deep;
	cJSON *req;
	size_t n = 200000, depth = 500;

	(void)state;
	/* a huge string value: the 64 KiB document limit */
	big = malloc(n + 200);
	snprintf(big, n + 200, "{\"family\":\"w\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\","
		 "\"memory\":64,\"command\":[\"");
	memset(big + strlen(big), 'A', n);
	strcpy(big + strlen(big) - 0, "\"]}]}");
	req = cJSON_Parse(big);
	assert_non_null(req);
	expect_refused(req);
	cJSON_Delete(req);
	free(big);

	/* a huge family name */
	big = malloc(400);
	memset(big, 'f', 399);
	big[399] = '\0';
	req = parse_q("{'family':'x','containerDefinitions':[{'name':'a','image':'x','memory':64}]}");
	cJSON_ReplaceItemInObject(req, "family", cJSON_CreateString(big));
	expect_refused(req);
	cJSON_Delete(req);
	free(big);

	/* deep nesting where a map of strings is expected */
	deep = malloc(depth * 8 + 200);
	strcpy(deep, "{\"family\":\"w\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\",\"memory\":64,\"dockerLabels\":");
	for (size_t i = 0; i < depth; i++)
		strcat(deep, "{\"a\":");
	strcat(deep, "1");
	for (size_t i = 0; i < depth; i++)
		strcat(deep, "}");
	strcat(deep, "}]}");
	req = cJSON_Parse(deep);
	assert_non_null(req);
	expect_refused(req);
	cJSON_Delete(req);
	free(deep);

	/* wrong types everywhere at the top level */
	{
		static const char *const fields[] = {
			"family", "taskRoleArn", "networkMode", "containerDefinitions", "volumes",
			"placementConstraints", "requiresCompatibilities", "cpu", "memory", "tags",
			"pidMode", "ipcMode", "proxyConfiguration", "ephemeralStorage", "runtimePlatform",
		};
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
			req = parse_q("{'family':'w','containerDefinitions':[{'name':'a','image':'x','memory':64}]}");
			cJSON_DeleteItemFromObject(req, fields[i]);
			cJSON_AddItemToObject(req, fields[i], cJSON_CreateBool(1));
			expect_refused(req);
			cJSON_Delete(req);
		}
	}
	/* NaN-ish numbers */
	req = parse_q("{'family':'w','containerDefinitions':[{'name':'a','image':'x','memory':64}]}");
	cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(req, "containerDefinitions"), 0),
				  "memory", cJSON_CreateNumber(0.0 / 0.0));
	expect_refused(req);
	cJSON_Delete(req);
	req = parse_q("{'family':'w','cpu':1e308,'containerDefinitions':[{'name':'a','image':'x','memory':64}]}");
	expect_refused(req);
	cJSON_Delete(req);
	req = parse_q("{'family':'w','containerDefinitions':[{'name':'a','image':'x','memory':3000000000}]}");
	expect_refused(req);
	cJSON_Delete(req);
	/* a string with an embedded NUL byte in a name */
	req = cJSON_Parse("{\"family\":\"w\",\"containerDefinitions\":[{\"name\":\"a\\u0000b\",\"image\":\"x\",\"memory\":64},"
			  "{\"name\":\"a\",\"image\":\"x\",\"memory\":64}]}");
	assert_non_null(req);
	expect_refused(req);
	cJSON_Delete(req);
	/* NULL and non-objects */
	expect_refused(NULL);
	req = cJSON_CreateString("x");
	expect_refused(req);
	cJSON_Delete(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_normalized),
		cmocka_unit_test(test_cpu_memory_strings),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
