/* tests/unit/test_tasks_control.c - the task actions through control_call()
 * with an instance registered the way the agent does it: placement and
 * resource accounting, failures[], the agent notifications, agent reports,
 * ListTasks filters and pages, retention. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/control.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define ID "0123456789abcdef0123456789abcdef"

struct fx {
	char dir[64];
	struct control *c;
	int notes;
	char last_task[64];
};

static void on_note(void *data, const char *cluster, const char *task, const char *instance)
{
	struct fx *f = data;

	assert_string_equal(cluster, "default");
	assert_string_equal(instance, ID);
	snprintf(f->last_task, sizeof(f->last_task), "%s", task);
	f->notes++;
}

static int setup(void **state)
{
	static const uint16_t ports[] = { 22 };
	struct fx *f = calloc(1, sizeof(*f));
	struct control_opts o = { .region = "local", .account_id = "000000000000" };
	struct control_instance_reg g = {
		.id = ID, .hostname = "host", .cpu = 2048, .memory = 1000,
		.ports_tcp = ports, .n_ports_tcp = 1, .agent_version = "0.1.0",
	};
	struct err e = ERR_INIT;

	strcpy(f->dir, "/tmp/berth-tasks-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	o.state_dir = f->dir;
	assert_int_equal(control_open(&o, &f->c, &e), 0);
	assert_int_equal(control_register_instance(f->c, &g, &e), 0);
	control_set_task_listener(f->c, on_note, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	control_free(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static cJSON *call(struct fx *f, const char *action, const char *q, struct err *e)
{
	char *s = strdup(q);
	cJSON *req, *resp = NULL;

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	req = cJSON_Parse(s);
	free(s);
	assert_non_null(req);
	if (control_call(f->c, action, req, "admin", &resp, e) < 0)
		resp = NULL;
	cJSON_Delete(req);
	return resp;
}

static cJSON *ok(struct fx *f, const char *action, const char *q)
{
	struct err e = ERR_INIT;
	cJSON *r = call(f, action, q, &e);

	if (!r)
		fail_msg("%s %s: %s: %s", action, q, e.type, e.msg);
	return r;
}

static void refused(struct fx *f, const char *action, const char *q, const char *type,
		    const char *msg)
{
	struct err e = ERR_INIT;
	cJSON *r = call(f, action, q, &e);

	if (r)
		fail_msg("%s %s: unexpected success", action, q);
	if (strcmp(e.type, type) != 0 || (msg && !strstr(e.msg, msg)))
		fail_msg("%s: want %s '%s', got %s '%s'", action, type, msg ? msg : "", e.type, e.msg);
}

static void reg(struct fx *f, const char *family, int memory, int host_port)
{
	char q[512];

	snprintf(q, sizeof(q), "{'family':'%s','networkMode':'host','containerDefinitions':["
		 "{'name':'app','image':'i','memory':%d%s}]}", family, memory,
		 host_port ? ",'portMappings':[{'containerPort':8080}]" : "");
	cJSON_Delete(ok(f, "RegisterTaskDefinition", q));
}

static int64_t remaining(struct fx *f, const char *name)
{
	_cleanup_(cJSON_Deletep) cJSON *r = ok(f, "DescribeContainerInstances",
					       "{'containerInstances':['" ID "']}");
	const cJSON *res;

	cJSON_ArrayForEach(res, cJSON_GetObjectItem(cJSON_GetArrayItem(
			   cJSON_GetObjectItem(r, "containerInstances"), 0), "remainingResources"))
		if (strcmp(cJSON_GetObjectItem(res, "name")->valuestring, name) == 0)
			return (int64_t)cJSON_GetObjectItem(res, "integerValue")->valuedouble;
	fail_msg("no %s", name);
	return -1;
}

static void test_placement_and_accounting(void **state)
{
	struct fx *f = *state;
	cJSON *r;

	reg(f, "small", 300, 0);
	reg(f, "web", 10, 1);
	r = ok(f, "RunTask", "{'taskDefinition':'small','count':3}");
	/* 1000 MiB: three of 300 fit, not four */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 3);
	assert_int_equal(f->notes, 3);
	cJSON_Delete(r);
	assert_int_equal(remaining(f, "MEMORY"), 100);
	r = ok(f, "RunTask", "{'taskDefinition':'small'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 0);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "failures"), 0),
						"reason")->valuestring, "RESOURCE:MEMORY");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "failures"), 0),
						"arn")->valuestring,
			    "arn:aws:ecs:local:000000000000:container-instance/default/" ID);
	cJSON_Delete(r);
	assert_int_equal(f->notes, 3);
	/* a static host port: one copy per host */
	r = ok(f, "RunTask", "{'taskDefinition':'web','count':2}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "failures"), 0),
						"reason")->valuestring, "RESOURCE:PORTS");
	cJSON_Delete(r);
	/* stopping frees what the task reserved, and tells the agent */
	{
		char q[256];

		snprintf(q, sizeof(q), "{'task':'%s','reason':'r'}", f->last_task);
		cJSON_Delete(ok(f, "StopTask", q));
		assert_int_equal(f->notes, 5);
		assert_int_equal(remaining(f, "MEMORY"), 100);
		cJSON_Delete(ok(f, "StopTask", q));   /* already stopping: no note */
		assert_int_equal(f->notes, 5);
	}
	refused(f, "RunTask", "{'taskDefinition':'small','count':0}", "InvalidParameterException", "count");
	refused(f, "RunTask", "{'taskDefinition':'small','count':11}", "InvalidParameterException", "count");
	refused(f, "RunTask", "{'taskDefinition':'small','placementConstraints':[{'type':'memberOf',"
		"'expression':'attribute:x =='}]}", "InvalidParameterException", NULL);
	assert_int_equal(f->notes, 5);
}

static void test_reports_and_listing(void **state)
{
	struct fx *f = *state;
	char q[512], id[3][64];
	struct err e = ERR_INIT;
	cJSON *r, *rep;

	reg(f, "a", 10, 0);
	reg(f, "b", 10, 0);
	for (int i = 0; i < 3; i++) {
		cJSON_Delete(ok(f, "RunTask", i < 2 ? "{'taskDefinition':'a','startedBy':'cron'}"
						    : "{'taskDefinition':'b'}"));
		snprintf(id[i], sizeof(id[i]), "%s", f->last_task);
	}
	/* the agent's view: the effective definition and the task */
	{
		cJSON *task = NULL, *td = NULL;

		assert_int_equal(control_task_for_agent(f->c, "default", id[0], &task, &td, &e), 0);
		assert_string_equal(cJSON_GetObjectItem(td, "family")->valuestring, "a");
		cJSON_Delete(task);
		cJSON_Delete(td);
		assert_int_equal(control_task_for_agent(f->c, "default", ID, &task, &td, &e), -ENOENT);
	}
	rep = cJSON_Parse("{\"lastStatus\":\"STOPPED\",\"stopCode\":\"EssentialContainerExited\","
			  "\"containers\":[{\"name\":\"app\",\"lastStatus\":\"STOPPED\",\"exitCode\":2}]}");
	assert_int_equal(control_task_report(f->c, "default", id[0], rep, &e), 0);
	cJSON_Delete(rep);
	rep = cJSON_Parse("{\"lastStatus\":\"BOGUS\"}");
	assert_int_equal(control_task_report(f->c, "default", id[1], rep, &e), -EINVAL);
	cJSON_Delete(rep);

	r = ok(f, "ListTasks", "{}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "taskArns")), 2);
	cJSON_Delete(r);
	r = ok(f, "ListTasks", "{'desiredStatus':'STOPPED'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "taskArns")), 1);
	cJSON_Delete(r);
	r = ok(f, "ListTasks", "{'family':'a'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "taskArns")), 1);
	cJSON_Delete(r);
	r = ok(f, "ListTasks", "{'startedBy':'cron','desiredStatus':'STOPPED'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "taskArns")), 1);
	cJSON_Delete(r);
	r = ok(f, "ListTasks", "{'desiredStatus':'PENDING'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "taskArns")), 0);
	cJSON_Delete(r);
	r = ok(f, "ListTasks", "{'maxResults':1}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "taskArns")), 1);
	snprintf(q, sizeof(q), "{'maxResults':1,'nextToken':'%s'}",
		 cJSON_GetObjectItem(r, "nextToken")->valuestring);
	cJSON_Delete(r);
	r = ok(f, "ListTasks", q);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "taskArns")), 1);
	assert_null(cJSON_GetObjectItem(r, "nextToken"));
	cJSON_Delete(r);
	refused(f, "ListTasks", "{'startedBy':'cron','family':'a'}", "InvalidParameterException", NULL);
	refused(f, "ListTasks", "{'containerInstance':'garbage'}", "InvalidParameterException", NULL);

	/* retention: stopped tasks go, running ones stay */
	{
		unsigned n;

		assert_int_equal(control_expire_tasks(f->c, 1, &n, &e), 0);
		assert_int_equal(n, 0);
		assert_int_equal(control_expire_tasks(f->c, 4e9, &n, &e), 0);
		assert_int_equal(n, 1);
	}
	snprintf(q, sizeof(q), "{'tasks':['%s','%s']}", id[0], id[1]);
	r = ok(f, "DescribeTasks", q);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "failures"), 0),
						"reason")->valuestring, "MISSING");
	cJSON_Delete(r);
}

/* The agent's batches: one transaction, all or nothing. */
static void test_report_batch(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	char q[256];
	cJSON *reps[2], *r, *t;
	double version;

	reg(f, "a", 10, 0);
	cJSON_Delete(ok(f, "RunTask", "{'taskDefinition':'a'}"));
	snprintf(q, sizeof(q), "{'tasks':['%s']}", f->last_task);
	reps[0] = cJSON_Parse("{\"lastStatus\":\"ACTIVATING\"}");
	reps[1] = cJSON_Parse("{\"lastStatus\":\"RUNNING\",\"startedAt\":5,"
			      "\"containers\":[{\"name\":\"app\",\"lastStatus\":\"RUNNING\"}]}");
	assert_int_equal(control_task_reports(f->c, "default", f->last_task,
					      (const cJSON *const *)reps, 2, &e), 0);
	cJSON_Delete(reps[0]);
	cJSON_Delete(reps[1]);
	r = ok(f, "DescribeTasks", q);
	t = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "tasks"), 0);
	assert_string_equal(cJSON_GetObjectItem(t, "lastStatus")->valuestring, "RUNNING");
	assert_true(cJSON_GetObjectItem(t, "startedAt")->valuedouble == 5);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "containers"), 0),
						"lastStatus")->valuestring, "RUNNING");
	version = cJSON_GetObjectItem(t, "version")->valuedouble;
	cJSON_Delete(r);

	/* a bad report anywhere in a batch refuses all of it */
	reps[0] = cJSON_Parse("{\"lastStatus\":\"STOPPING\"}");
	reps[1] = cJSON_Parse("{\"lastStatus\":\"BOGUS\"}");
	assert_int_equal(control_task_reports(f->c, "default", f->last_task,
					      (const cJSON *const *)reps, 2, &e), -EINVAL);
	cJSON_Delete(reps[0]);
	cJSON_Delete(reps[1]);
	/* an empty batch changes nothing */
	assert_int_equal(control_task_reports(f->c, "default", f->last_task, NULL, 0, &e), 0);
	r = ok(f, "DescribeTasks", q);
	t = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "tasks"), 0);
	assert_string_equal(cJSON_GetObjectItem(t, "lastStatus")->valuestring, "RUNNING");
	assert_string_equal(cJSON_GetObjectItem(t, "desiredStatus")->valuestring, "RUNNING");
	assert_true(cJSON_GetObjectItem(t, "version")->valuedouble == version);
	cJSON_Delete(r);
}

static int count_cb(const char *cluster, const char *task, void *data)
{
	(void)cluster;
	(void)task;
	(*(int *)data)++;
	return 0;
}

static void test_instance_tasks(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct control_instance_reg g = { .id = ID, .cpu = 1024, .memory = 500 };
	cJSON *r;
	int n = 0;

	reg(f, "a", 10, 0);
	cJSON_Delete(ok(f, "RunTask", "{'taskDefinition':'a','count':2}"));
	assert_int_equal(control_instance_tasks(f->c, "default", ID, count_cb, &n, &e), 0);
	assert_int_equal(n, 2);
	/* re-registering keeps the instance and takes the new resources */
	assert_int_equal(control_register_instance(f->c, &g, &e), 0);
	r = ok(f, "ListContainerInstances", "{}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "containerInstanceArns")), 1);
	cJSON_Delete(r);
	assert_int_equal(remaining(f, "MEMORY"), 480);
	assert_int_equal(remaining(f, "CPU"), 1024);
	r = ok(f, "ListContainerInstances", "{'filter':'attribute:x exists'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "containerInstanceArns")), 0);
	cJSON_Delete(r);
	r = ok(f, "ListContainerInstances", "{'filter':'not(attribute:x exists)'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "containerInstanceArns")), 1);
	cJSON_Delete(r);
	refused(f, "ListContainerInstances", "{'filter':'attribute:x =='}",
		"InvalidParameterException", "position");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_placement_and_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports_and_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_tasks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
