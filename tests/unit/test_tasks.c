/* tests/unit/test_tasks.c - the pure task lifecycle (control/task_state.h):
 * status tables, overrides (checks and merging), resource reservation,
 * applying agent reports (hostile ones too) and StopTask. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/task_state.h"
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

static const char *s(const cJSON *o, const char *path)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, path));
}

static double n(const cJSON *o, const char *k)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void test_status_tables(void **state)
{
	static const char *const order[] = { "PROVISIONING", "PENDING", "ACTIVATING", "RUNNING",
					     "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED" };

	(void)state;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(task_status_parse(order[i]), i);
		assert_string_equal(task_status_name(i), order[i]);
		for (int j = 0; j < 8; j++)
			assert_int_equal(task_status_may_move(i, j), j >= i);
	}
	assert_int_equal(task_status_parse("running"), -1);
	assert_int_equal(task_status_parse(""), -1);
	assert_int_equal(task_status_parse(NULL), -1);
	assert_null(task_status_name(_TASK_STATUS_MAX));
	assert_false(task_status_may_move(TASK_RUNNING, (enum task_status)99));
	assert_int_equal(container_status_parse("STOPPED"), CONTAINER_STOPPED);
	assert_int_equal(container_status_parse("ACTIVATING"), -1);
}

#define TD "{'family':'web','revision':3,'networkMode':'host','containerDefinitions':[" \
	   "{'name':'app','image':'i','cpu':256,'memory':128,'command':['a'],"          \
	   "'environment':[{'name':'A','value':'1'},{'name':'B','value':'2'}],"         \
	   "'portMappings':[{'containerPort':80,'hostPort':80,'protocol':'tcp'},"       \
	   "{'containerPort':53,'hostPort':53,'protocol':'udp'}]},"                     \
	   "{'name':'side','image':'j','memoryReservation':64}]}"

static void test_overrides_check(void **state)
{
	static const char *const bad[] = {
		"{'containerOverrides':[{'name':'nope','command':['x']}]}",
		"{'containerOverrides':[{'name':'app'},{'name':'app','cpu':1}]}",
		"{'containerOverrides':[{'command':['x']}]}",
		"{'containerOverrides':[{'name':'app','memory':-1}]}",
		"{'cpu':'lots'}",
		"{'memory':'-5'}",
	};
	_cleanup_(cJSON_Deletep) cJSON *td = q(TD);
	struct err e = ERR_INIT;
	char big[9000];
	cJSON *o;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		o = q(bad[i]);
		e = (struct err)ERR_INIT;
		assert_int_equal(task_overrides_check(td, o, &e), -EINVAL);
		assert_string_equal(e.type, "InvalidParameterException");
		cJSON_Delete(o);
	}
	o = q("{'containerOverrides':[{'name':'app','command':['x'],'cpu':0},{}],'cpu':'1 vCPU'}");
	assert_int_equal(task_overrides_check(td, o, &e), 0);
	cJSON_Delete(o);
	assert_int_equal(task_overrides_check(td, NULL, &e), 0);
	/* the whole overrides object is limited to 8192 characters */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	o = q("{'containerOverrides':[{'name':'app','command':[]}]}");
	cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "containerOverrides"), 0), "command"),
			     cJSON_CreateString(big));
	e = (struct err)ERR_INIT;
	assert_int_equal(task_overrides_check(td, o, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "8192"));
	cJSON_Delete(o);
}

static void test_overrides_merge(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *td = q(TD);
	_cleanup_(cJSON_Deletep) cJSON *o = q(
		"{'containerOverrides':[{'name':'app','command':['b','c'],'memory':256,"
		"'environment':[{'name':'B','value':'two'},{'name':'C','value':'3'}]},"
		"{'name':'side','environment':[{'name':'X','value':'y'}]}],'memory':'1GB'}");
	_cleanup_(cJSON_Deletep) cJSON *eff = NULL;
	_cleanup_(cJSON_Deletep) cJSON *want = q(
		"[{'name':'A','value':'1'},{'name':'B','value':'two'},{'name':'C','value':'3'}]");
	const cJSON *app, *side;

	(void)state;
	assert_int_equal(task_effective_taskdef(td, o, &eff), 0);
	app = cJSON_GetArrayItem(cJSON_GetObjectItem(eff, "containerDefinitions"), 0);
	side = cJSON_GetArrayItem(cJSON_GetObjectItem(eff, "containerDefinitions"), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(app, "command")), 2);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(app, "command"), 1)->valuestring, "c");
	assert_true(cJSON_Compare(cJSON_GetObjectItem(app, "environment"), want, true));
	assert_int_equal(n(app, "memory"), 256);
	assert_int_equal(n(app, "cpu"), 256);
	assert_string_equal(s(cJSON_GetArrayItem(cJSON_GetObjectItem(side, "environment"), 0), "name"), "X");
	assert_string_equal(s(eff, "memory"), "1024");
	/* the stored definition is untouched */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(td, "containerDefinitions"), 0), "environment")), 2);
}

static void test_reservation(void **state)
{
	static const struct {
		const char *td;
		int64_t cpu, mem;
		const char *ports;
	} cases[] = {
		{ TD, 256, 128 + 64, "tcp:80,udp:53" },
		{ "{'cpu':'512','memory':'1 GB','containerDefinitions':[{'name':'a','memory':64}]}",
		  512, 1024, "" },
		{ "{'containerDefinitions':[{'name':'a','memory':100,'memoryReservation':50,"
		  "'portMappings':[{'containerPort':8080,'hostPort':0}]}]}", 0, 50, "" },
	};
	char ports[64];
	int64_t cpu, mem;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(cJSON_Deletep) cJSON *td = q(cases[i].td);

		assert_int_equal(task_reservation(td, &cpu, &mem, ports, sizeof(ports)), 0);
		assert_int_equal(cpu, cases[i].cpu);
		assert_int_equal(mem, cases[i].mem);
		assert_string_equal(ports, cases[i].ports);
	}
	{
		_cleanup_(cJSON_Deletep) cJSON *td = q(TD);
		/* no room for the ports text */
		assert_int_equal(task_reservation(td, &cpu, &mem, ports, 8), -ENOSPC);
	}
	{
		_cleanup_(cJSON_Deletep) cJSON *td = q("{'containerDefinitions':[{'name':'a',"
						       "'portMappings':[{'hostPort':70000}]}]}");
		assert_int_equal(task_reservation(td, &cpu, &mem, ports, sizeof(ports)), -EINVAL);
	}
}

static cJSON *new_task(void)
{
	_cleanup_(cJSON_Deletep) cJSON *td = q(TD);
	struct task_new nw = {
		.task_arn = "arn:aws:ecs:local:000000000000:task/default/0123456789abcdef0123456789abcdef",
		.cluster_arn = "arn:aws:ecs:local:000000000000:cluster/default",
		.taskdef_arn = "arn:aws:ecs:local:000000000000:task-definition/web:3",
		.instance_arn = "arn:aws:ecs:local:000000000000:container-instance/default/aa",
		.group = "family:web", .started_by = "me", .launch_type = "EC2", .eff_taskdef = td,
		.cpu_arch = "x86_64", .now = 100,
	};
	cJSON *t = NULL;

	assert_int_equal(task_new_doc(&nw, &t), 0);
	return t;
}

static void test_new_doc(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *t = new_task();
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "containers"), 1);

	(void)state;
	assert_string_equal(s(t, "lastStatus"), "PROVISIONING");
	assert_string_equal(s(t, "desiredStatus"), "RUNNING");
	assert_string_equal(s(t, "group"), "family:web");
	assert_int_equal(n(t, "version"), 1);
	assert_int_equal(n(t, "createdAt"), 100);
	assert_null(cJSON_GetObjectItem(t, "cpu"));   /* no task-level cpu */
	assert_string_equal(s(c, "name"), "side");
	assert_string_equal(s(c, "lastStatus"), "PENDING");
	assert_string_equal(s(c, "cpu"), "0");
	assert_string_equal(s(c, "memoryReservation"), "64");
	assert_null(cJSON_GetObjectItem(c, "memory"));
	assert_string_equal(s(c, "containerArn"), "arn:aws:ecs:local:000000000000:container/default/"
			    "0123456789abcdef0123456789abcdef/side");
}

static void apply(cJSON *t, const char *rep, double now, bool want_changed)
{
	_cleanup_(cJSON_Deletep) cJSON *r = q(rep);
	struct err e = ERR_INIT;
	bool changed = !want_changed;

	assert_int_equal(task_report_apply(t, r, now, &changed, &e), 0);
	assert_int_equal(changed, want_changed);
}

static void test_report_lifecycle(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *t = new_task();
	const cJSON *app;

	(void)state;
	apply(t, "{'lastStatus':'PENDING','pullStartedAt':101}", 101, true);
	apply(t, "{'lastStatus':'PENDING','pullStartedAt':101}", 101.5, false); /* same again */
	apply(t, "{'lastStatus':'ACTIVATING'}", 102, true);
	apply(t, "{'lastStatus':'RUNNING','startedAt':103,'containers':[{'name':'app',"
		 "'lastStatus':'RUNNING'},{'name':'side','lastStatus':'RUNNING'}]}", 103.5, true);
	assert_int_equal(n(t, "startedAt"), 103);   /* the report's own time wins */
	assert_string_equal(s(t, "connectivity"), "CONNECTED");
	/* a stale report never moves it back */
	apply(t, "{'lastStatus':'PENDING','containers':[{'name':'app','lastStatus':'PENDING'}]}", 104, false);
	assert_string_equal(s(t, "lastStatus"), "RUNNING");
	apply(t, "{'lastStatus':'STOPPING','stopCode':'EssentialContainerExited',"
		 "'stoppedReason':'Essential container in task exited','containers':[{'name':'app',"
		 "'lastStatus':'STOPPED','exitCode':3}]}", 105, true);
	assert_string_equal(s(t, "desiredStatus"), "STOPPED");
	assert_int_equal(n(t, "stoppingAt"), 105);
	/* the first stop code stays */
	apply(t, "{'lastStatus':'STOPPED','stopCode':'UserInitiated','stoppedAt':106,"
		 "'containers':[{'name':'side','lastStatus':'STOPPED','exitCode':137,"
		 "'reason':'OutOfMemoryError: Container killed due to memory usage'}]}", 107, true);
	assert_string_equal(s(t, "stopCode"), "EssentialContainerExited");
	assert_int_equal(n(t, "stoppedAt"), 106);
	assert_int_equal(n(t, "executionStoppedAt"), 107);
	app = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "containers"), 0);
	assert_int_equal(n(app, "exitCode"), 3);
	assert_string_equal(s(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "containers"), 1), "reason"),
			    "OutOfMemoryError: Container killed due to memory usage");
	/* an exit code, once known, is kept */
	apply(t, "{'containers':[{'name':'app','exitCode':0}]}", 108, false);
	assert_int_equal(n(app, "exitCode"), 3);
	assert_int_equal(n(t, "version"), 6);
}

/* The network the agent reports with RUNNING: per container, and the task's
 * attachments; the same report again changes nothing. */
static void test_report_network(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *t = new_task();
	const char *rep = "{'lastStatus':'RUNNING','attachments':[{'id':'a1','type':"
			  "'ElasticNetworkInterface','status':'ATTACHED','details':[{'name':"
			  "'privateIPv4Address','value':'10.213.0.2'}]}],'containers':[{'name':'app',"
			  "'lastStatus':'RUNNING','networkBindings':[{'bindIP':'0.0.0.0','containerPort':80,"
			  "'hostPort':40001,'protocol':'tcp'}],'networkInterfaces':[{'attachmentId':'a1',"
			  "'privateIpv4Address':'10.213.0.2'}]}]}";
	const cJSON *app, *side;

	(void)state;
	apply(t, rep, 10, true);
	apply(t, rep, 11, false);
	app = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "containers"), 0);
	side = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "containers"), 1);
	assert_int_equal(n(cJSON_GetArrayItem(cJSON_GetObjectItem(app, "networkBindings"), 0), "hostPort"),
			 40001);
	assert_string_equal(s(cJSON_GetArrayItem(cJSON_GetObjectItem(app, "networkInterfaces"), 0),
			      "privateIpv4Address"), "10.213.0.2");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(side, "networkBindings")), 0);
	assert_string_equal(s(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "attachments"), 0), "status"),
			    "ATTACHED");
}

static void test_report_hostile(void **state)
{
	static const char *const bad[] = {
		"[]", "'x'", "{'lastStatus':'WEIRD'}", "{'lastStatus':5}",
		"{'healthStatus':'FINE'}", "{'startedAt':'noon'}", "{'startedAt':-1}",
		"{'containers':[{'lastStatus':'RUNNING'}]}",
		"{'containers':[{'name':'app','lastStatus':'ACTIVATING'}]}",
		"{'containers':[{'name':'app','exitCode':1.5}]}",
		"{'containers':[{'name':'app','exitCode':1e30}]}",
		"{'containers':[{'name':'app','healthStatus':1}]}",
		"{'containers':[{'name':'app','networkBindings':{}}]}",
		"{'containers':[{'name':'app','networkBindings':[1]}]}",
		"{'containers':[{'name':'app','networkInterfaces':'x'}]}",
		"{'attachments':{'id':'a'}}", "{'attachments':[null]}",
	};
	_cleanup_(cJSON_Deletep) cJSON *t = new_task();
	_cleanup_free_ char *before = cJSON_PrintUnformatted(t), *after = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_(cJSON_Deletep) cJSON *r = q(bad[i]);
		struct err e = ERR_INIT;
		bool changed = false;

		assert_int_equal(task_report_apply(t, r, 1, &changed, &e), -EINVAL);
		assert_string_equal(e.type, "InvalidParameterException");
	}
	/* nothing was changed by a refused report; unknown containers are ignored */
	apply(t, "{'containers':[{'name':'ghost','lastStatus':'RUNNING'}]}", 1, false);
	after = cJSON_PrintUnformatted(t);
	assert_string_equal(before, after);
}

static void test_stop_request(void **state)
{
	_cleanup_(cJSON_Deletep) cJSON *t = new_task();
	_cleanup_(cJSON_Deletep) cJSON *u = new_task();
	bool changed;

	(void)state;
	/* never handed to an agent: STOPPED at once */
	assert_int_equal(task_stop_request(t, "bye", 200, &changed), 0);
	assert_true(changed);
	assert_string_equal(s(t, "lastStatus"), "STOPPED");
	assert_string_equal(s(t, "stopCode"), "UserInitiated");
	assert_string_equal(s(t, "stoppedReason"), "bye");
	assert_int_equal(n(t, "stoppedAt"), 200);
	assert_string_equal(s(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "containers"), 0), "lastStatus"),
			    "STOPPED");
	assert_int_equal(task_stop_request(t, "again", 201, &changed), 0);
	assert_false(changed);
	assert_string_equal(s(t, "stoppedReason"), "bye");
	/* running: only desired STOPPED; the agent moves lastStatus */
	apply(u, "{'lastStatus':'RUNNING'}", 150, true);
	assert_int_equal(task_stop_request(u, NULL, 210, &changed), 0);
	assert_string_equal(s(u, "lastStatus"), "RUNNING");
	assert_string_equal(s(u, "desiredStatus"), "STOPPED");
	assert_string_equal(s(u, "stoppedReason"), "Task stopped by user");
	assert_int_equal(n(u, "stoppingAt"), 210);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_tables),
		cmocka_unit_test(test_overrides_check),
		cmocka_unit_test(test_overrides_merge),
		cmocka_unit_test(test_reservation),
		cmocka_unit_test(test_new_doc),
		cmocka_unit_test(test_report_lifecycle),
		cmocka_unit_test(test_report_network),
		cmocka_unit_test(test_report_hostile),
		cmocka_unit_test(test_stop_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
