/* tests/unit/test_agent.c - the agent's pure parts: shim status -> reports
 * (hostile status files too), lifecycle steps, host parsers (meminfo,
 * ports, attributes), the stable instance id, spec.json building. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/internal.h"
#include "images/config.h"
#include "lib/cleanup.h"
#include "lib/json.h"

static cJSON *q(const char *s)
{
	char *d = strdup(s);
	cJSON *j;

	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = cJSON_Parse(d);
	free(d);
	assert_non_null(j);
	return j;
}

static const char *s(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void test_report_from_status(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *st = q(
		"{'taskId':'x','shimPid':5,'updatedAt':9.5,'desiredStatus':'STOPPED',"
		"'lastStatus':'STOPPED','stopCode':'EssentialContainerExited',"
		"'stoppedReason':'Essential container in task exited','startedAt':1,'stoppingAt':null,"
		"'stoppedAt':7.25,'healthStatus':'UNKNOWN','containers':["
		"{'name':'app','lastStatus':'STOPPED','pid':null,'exitCode':3,'reason':null,"
		"'healthStatus':'UNKNOWN','startedAt':1,'finishedAt':7,'oomKilled':false},"
		"{'name':'hog','lastStatus':'STOPPED','exitCode':137,'oomKilled':true}]}");
	_cleanup_(cJSON_Deletep) cJSON *r = NULL;
	const cJSON *app, *hog;

	(void)state;
	assert_int_equal(report_from_status(st, &r), 0);
	assert_string_equal(s(r, "lastStatus"), "STOPPED");
	assert_string_equal(s(r, "stopCode"), "EssentialContainerExited");
	/* null = not set; an essential exit went straight to stopped */
	assert_true(cJSON_GetObjectItem(r, "stoppingAt")->valuedouble == 7.25);
	assert_null(cJSON_GetObjectItem(r, "shimPid"));      /* shim-only fields stay out */
	assert_true(cJSON_GetObjectItem(r, "executionStoppedAt")->valuedouble == 7.25);
	app = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "containers"), 0);
	hog = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "containers"), 1);
	assert_int_equal(cJSON_GetObjectItem(app, "exitCode")->valueint, 3);
	assert_null(cJSON_GetObjectItem(app, "reason"));
	assert_null(cJSON_GetObjectItem(app, "pid"));
	assert_string_equal(s(hog, "reason"), "OutOfMemoryError: Container killed due to memory usage");
}

static void test_report_from_status_hostile(void **state)
{
	static const char *const bad[] = {
		"[]", "1", "{}", "{'lastStatus':'DANCING'}", "{'lastStatus':7}",
		"{'lastStatus':'RUNNING','containers':[{'lastStatus':'RUNNING'}]}",
		"{'lastStatus':'RUNNING','containers':[{'name':5}]}",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_(cJSON_Deletep) cJSON *st = q(bad[i]);
		cJSON *r = NULL;

		assert_int_equal(report_from_status(st, &r), -EINVAL);
		assert_null(r);
	}
}

static void test_steps(void **state)
{
	enum task_status out[3];

	(void)state;
	assert_int_equal(report_steps(TASK_PENDING, TASK_RUNNING, true, out), 1);
	assert_int_equal(out[0], TASK_ACTIVATING);
	assert_int_equal(report_steps(TASK_RUNNING, TASK_STOPPED, true, out), 2);
	assert_int_equal(out[0], TASK_DEACTIVATING);
	assert_int_equal(out[1], TASK_DEPROVISIONING);
	assert_int_equal(report_steps(TASK_PENDING, TASK_STOPPED, true, out), 3);
	/* a task that never ran was never activated nor deactivated */
	assert_int_equal(report_steps(TASK_PENDING, TASK_STOPPED, false, out), 1);
	assert_int_equal(out[0], TASK_DEPROVISIONING);
	assert_int_equal(report_steps(TASK_STOPPED, TASK_STOPPED, true, out), 0);
	assert_int_equal(report_steps(TASK_STOPPING, TASK_RUNNING, true, out), 0);
}

static void test_failed_start(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *t = q("{'containers':[{'name':'a','lastStatus':'PENDING'},"
					      "{'name':'b','lastStatus':'STOPPED'}]}");
	_cleanup_(cJSON_Deletep) cJSON *r = NULL;

	(void)state;
	assert_int_equal(report_failed_start(t, "CannotPullContainerError: x", &r), 0);
	assert_string_equal(s(r, "stopCode"), "TaskFailedToStart");
	assert_string_equal(s(r, "lastStatus"), "STOPPED");
	assert_string_equal(s(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "containers"), 0), "reason"),
			    "CannotPullContainerError: x");
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "containers"), 1),
					"reason"));
}

static void test_meminfo(void **state)
{
	static const char *const bad[] = {
		"", "MemFree: 1 kB\n", "MemTotal: lots kB\n", "MemTotal: 100 MB\n",
		"XMemTotal: 100 kB\n", "MemTotal:",
	};
	int64_t mib;

	(void)state;
	assert_int_equal(host_parse_meminfo("MemTotal:       32768000 kB\nMemFree: 1 kB\n", &mib), 0);
	assert_int_equal(mib, 32000);
	assert_int_equal(host_parse_meminfo("Foo: 1 kB\nMemTotal: 2048 kB\n", &mib), 0);
	assert_int_equal(mib, 2);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(host_parse_meminfo(bad[i], &mib), -EINVAL);
}

static void test_ports_and_arch(void **state)
{
	static const char *const bad[] = {
		"", "{}", "[0]", "[65536]", "[\"22\"]", "[1.5]", "[22] x", "[-1]", "[22,",
	};
	uint16_t p[4];
	size_t n;

	(void)state;
	assert_int_equal(host_parse_ports("[22, 2375, 51678]", p, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[2], 51678);
	assert_int_equal(host_parse_ports("[]", p, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(host_parse_ports("[1,2,3,4,5]", p, 4, &n), -E2BIG);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(host_parse_ports(bad[i], p, 4, &n), -EINVAL);
	assert_string_equal(host_ecs_arch("x86_64"), "x86_64");
	assert_string_equal(host_ecs_arch("aarch64"), "arm64");
	assert_string_equal(host_ecs_arch("riscv64"), "riscv64");
}

static const char *attr(const cJSON *list, const char *name, bool *present)
{
	const cJSON *a;

	*present = false;
	cJSON_ArrayForEach(a, list)
		if (strcmp(s(a, "name"), name) == 0) {
			*present = true;
			return s(a, "value");
		}
	return NULL;
}

static void test_attributes(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *l = NULL;
	struct err e = ERR_INIT;
	bool present;

	(void)state;
	assert_int_equal(host_attributes("arm64", "{\"stack\":\"prod\"}", "[\"json-file\",\"syslog\"]",
					 &l, &e), 0);
	assert_string_equal(attr(l, "ecs.cpu-architecture", &present), "arm64");
	assert_string_equal(attr(l, "ecs.os-type", &present), "linux");
	assert_string_equal(attr(l, "stack", &present), "prod");
	assert_null(attr(l, "com.amazonaws.ecs.capability.logging-driver.syslog", &present));
	assert_true(present);
	attr(l, "com.amazonaws.ecs.capability.logging-driver.none", &present);
	assert_false(present);
	cJSON_Delete(l);
	l = NULL;
	assert_int_equal(host_attributes("x86_64", "[1]", "[]", &l, &e), -EINVAL);
	assert_int_equal(host_attributes("x86_64", "{\"a\":1}", "[]", &l, &e), -EINVAL);
	assert_int_equal(host_attributes("x86_64", "{}", "{}", &l, &e), -EINVAL);
	assert_int_equal(host_attributes("x86_64", "{} junk", "[]", &l, &e), -EINVAL);
	assert_null(l);
}

static void test_instance_id(void **state)
{
	char dir[] = "/tmp/berth-agent-XXXXXX", sub[64], id1[33], id2[33], cmd[128];
	struct err e = ERR_INIT;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/agent", dir);
	assert_int_equal(host_instance_id(sub, id1, &e), 0);
	assert_int_equal(strlen(id1), 32);
	assert_int_equal(host_instance_id(sub, id2, &e), 0);
	assert_string_equal(id1, id2);        /* a restart is the same instance */
	snprintf(cmd, sizeof(cmd), "%s/instance-id", sub);
	f = fopen(cmd, "w");
	fputs("not-an-id\n", f);
	fclose(f);
	assert_int_equal(host_instance_id(sub, id2, &e), -EINVAL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_spec(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *task = q("{'taskArn':'arn:aws:ecs:local:0:task/c/t'}");
	_cleanup_(cJSON_Deletep) cJSON *td = q(
		"{'family':'web','revision':4,'networkMode':'none','cpu':'512','containerDefinitions':["
		"{'name':'app','image':'i','memory':64,'essential':false,'dockerLabels':{'k':'v'},"
		"'linuxParameters':{'capabilities':{'add':['NET_ADMIN']},'initProcessEnabled':true},"
		"'dependsOn':[{'containerName':'db','condition':'START'}],"
		"'logConfiguration':{'logDriver':'none'}},{'name':'db','image':'j','stopTimeout':5}]}");
	char *argv[] = { "/bin/sh", "-c", "true", NULL }, *env[] = { "A=1", NULL };
	struct img_exec x1 = { .argv = argv, .env = env, .workdir = "/data", .user = "" };
	struct img_exec x2 = { .argv = argv, .env = env, .workdir = "/", .user = "1000:1000" };
	struct spec_container_in ci[] = { { "/r/app/rootfs", &x1 }, { "/r/db/rootfs", &x2 } };
	struct spec_in in = { .task = task, .taskdef = td, .task_id = "t", .cluster = "c",
			      .state_dir = "/s/t", .cgroup_enforce = false, .stop_timeout_sec = 30,
			      .containers = ci };
	_cleanup_(cJSON_Deletep) cJSON *spec = NULL;
	const cJSON *app, *db;

	(void)state;
	assert_int_equal(spec_build(&in, &spec), 0);
	assert_string_equal(s(spec, "networkMode"), "none");
	assert_null(cJSON_GetObjectItem(spec, "netnsPath"));
	assert_int_equal(cJSON_GetObjectItem(spec, "cpu")->valueint, 512);
	assert_null(cJSON_GetObjectItem(spec, "memory"));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(spec, "cgroupEnforce")));
	app = cJSON_GetArrayItem(cJSON_GetObjectItem(spec, "containers"), 0);
	db = cJSON_GetArrayItem(cJSON_GetObjectItem(spec, "containers"), 1);
	assert_string_equal(s(app, "rootfs"), "/r/app/rootfs");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(app, "user")));
	assert_string_equal(s(db, "user"), "1000:1000");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(app, "essential")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(db, "essential")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(app, "initProcessEnabled")));
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(app, "capAdd"), 0)->valuestring,
			    "NET_ADMIN");
	assert_string_equal(s(cJSON_GetObjectItem(app, "logConfiguration"), "logDriver"), "none");
	assert_string_equal(s(cJSON_GetObjectItem(db, "logConfiguration"), "logDriver"), "json-file");
	assert_int_equal(cJSON_GetObjectItem(db, "stopTimeout")->valueint, 5);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(app, "stopTimeout")));
	assert_string_equal(s(cJSON_GetObjectItem(app, "labels"), "k"), "v");
	assert_string_equal(s(cJSON_GetObjectItem(app, "labels"),
			      "com.amazonaws.ecs.task-definition-version"), "4");
}

static void test_overrides(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *def = q(
		"{'entryPoint':['/bin/sh','-c'],'environment':[{'name':'A','value':'1'},"
		"{'name':'B'},{'value':'orphan'}],'user':'nobody'}");
	struct img_overrides o;

	(void)state;
	assert_int_equal(spec_overrides(def, &o), 0);
	assert_string_equal(o.entrypoint[1], "-c");
	assert_null(o.entrypoint[2]);
	assert_null(o.command);               /* not given: the image's Cmd may apply */
	assert_string_equal(o.environment[0], "A=1");
	assert_string_equal(o.environment[1], "B=");
	assert_null(o.environment[2]);        /* an entry without a name is dropped */
	assert_string_equal(o.user, "nobody");
	assert_null(o.workdir);
	spec_overrides_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_from_status),
		cmocka_unit_test(test_report_from_status_hostile),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_failed_start),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_ports_and_arch),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_instance_id),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_overrides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
