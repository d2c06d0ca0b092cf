/* tests/unit/test_control.c - the ECS actions through control_call(), on a
 * database in a temporary directory. */
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
#include <sqlite3.h>

#include "control/control.h"
#include "lib/cleanup.h"

struct fx {
	char dir[64];
	struct control *c;
};

static void ctl_open(struct fx *f)
{
	struct control_opts o = { .state_dir = f->dir, .region = "local", .account_id = "000000000000" };
	struct err e = ERR_INIT;

	if (control_open(&o, &f->c, &e) < 0)
		fail_msg("control_open: %s", e.msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/berth-ctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	ctl_open(f);
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

/* Runs ACTION; returns the response (NULL on error, with *e filled). */
static cJSON *call(struct fx *f, const char *action, const char *q, struct err *e)
{
	cJSON *req = parse_q(q), *resp = NULL;
	int r;

	assert_non_null(req);
	err_clear(e);
	r = control_call(f->c, action, req, "admin", &resp, e);
	cJSON_Delete(req);
	if (r < 0) {
		assert_null(resp);
		assert_non_null(e->type);
		return NULL;
	}
	assert_non_null(resp);
	return resp;
}

static cJSON *call_ok(struct fx *f, const char *action, const char *q)
{
	struct err e = ERR_INIT;
	cJSON *r = call(f, action, q, &e);

	if (!r)
		fail_msg("%s %s: %s: %s", action, q, e.type, e.msg);
	return r;
}

static void call_fail(struct fx *f, const char *action, const char *q, const char *type,
		      const char *msg)
{
	struct err e = ERR_INIT;
	cJSON *r = call(f, action, q, &e);

	if (r)
		fail_msg("%s %s: unexpected success", action, q);
	if (strcmp(e.type, type) != 0 || (msg && !strstr(e.msg, msg)))
		fail_msg("%s %s: want %s '%s', got %s '%s'", action, q, type, msg ? msg : "",
			 e.type, e.msg);
}

static const char *path_str(cJSON *o, const char *a, const char *b)
{
	cJSON *v = cJSON_GetObjectItem(o, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

#define TDQ(fam) "{'family':'" fam "','containerDefinitions':[{'name':'a','image':'x','memory':64}]}"

static void test_default_cluster_and_create(void **state)
{
	struct fx *f = *state;
	cJSON *r;

	r = call_ok(f, "DescribeClusters", "{}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "clusters")), 1);
	assert_string_equal(path_str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "clusters"), 0), "clusterArn", NULL),
			    "arn:aws:ecs:local:000000000000:cluster/default");
	cJSON_Delete(r);

	r = call_ok(f, "CreateCluster", "{'clusterName':'edge','tags':[{'key':'team','value':'ops'}],"
		    "'settings':[{'name':'containerInsights','value':'enabled'}]}");
	assert_string_equal(path_str(r, "cluster", "status"), "ACTIVE");
	assert_string_equal(path_str(r, "cluster", "clusterName"), "edge");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "cluster"), "tags")), 1);
	cJSON_Delete(r);
	/* idempotent */
	r = call_ok(f, "CreateCluster", "{'clusterName':'edge'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "cluster"), "tags")), 1);
	cJSON_Delete(r);

	call_fail(f, "CreateCluster", "{'clusterName':'bad name'}", "InvalidParameterException", "Cluster name");
	call_fail(f, "CreateCluster", "{'clusterName':'x','settings':[{'name':'containerInsights','value':'maybe'}]}",
		  "InvalidParameterException", "containerInsights");
	call_fail(f, "CreateCluster", "{'clusterName':'x','capacityProviders':['MINE']}",
		  "InvalidParameterException", "capacity provider");
	call_fail(f, "CreateCluster", "{'clusterName':'x','tags':[{'key':'aws:x','value':'y'}]}",
		  "InvalidParameterException", "reserved");
	call_fail(f, "CreateCluster", "{'clusterName':5}", "InvalidParameterException", "clusterName");
	call_fail(f, "CreateCluster", "{'name':'x'}", "InvalidParameterException", "Unknown parameter");
	/* nothing was stored by the refused calls */
	r = call_ok(f, "ListClusters", "{}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "clusterArns")), 2);
	cJSON_Delete(r);
}

static void test_describe_clusters(void **state)
{
	struct fx *f = *state;
	cJSON *r, *c;

	cJSON_Delete(call_ok(f, "CreateCluster", "{'clusterName':'a','tags':[{'key':'k','value':'v'}]}"));
	r = call_ok(f, "DescribeClusters", "{'clusters':['a','arn:aws:ecs:local:000000000000:cluster/default',"
		    "'nope','arn:aws:ecs:other:000000000000:cluster/a','not/valid'],'include':['TAGS','STATISTICS','SETTINGS']}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "clusters")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "failures")), 3);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "clusters"), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "tags")), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "statistics")), 8);
	assert_non_null(cJSON_GetObjectItem(c, "settings"));
	assert_int_equal(cJSON_GetObjectItem(c, "registeredContainerInstancesCount")->valueint, 0);
	assert_string_equal(path_str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "failures"), 0), "reason", NULL), "MISSING");
	assert_string_equal(path_str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "failures"), 0), "arn", NULL),
			    "arn:aws:ecs:local:000000000000:cluster/nope");
	cJSON_Delete(r);
	/* without include: no tags, no settings */
	r = call_ok(f, "DescribeClusters", "{'clusters':['a']}");
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "clusters"), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "tags")), 0);
	assert_null(cJSON_GetObjectItem(c, "settings"));
	cJSON_Delete(r);
	call_fail(f, "DescribeClusters", "{'include':['EVERYTHING']}", "InvalidParameterException", "include");
}

static void test_list_clusters_pagination(void **state)
{
	struct fx *f = *state;
	char q[256], *tok = NULL;
	int seen = 0, pages = 0;

	for (int i = 0; i < 7; i++) {
		snprintf(q, sizeof(q), "{'clusterName':'c%d'}", i);
		cJSON_Delete(call_ok(f, "CreateCluster", q));
	}
	do {
		cJSON *r, *t;

		if (tok)
			snprintf(q, sizeof(q), "{'maxResults':3,'nextToken':'%s'}", tok);
		else
			snprintf(q, sizeof(q), "{'maxResults':3}");
		free(tok);
		tok = NULL;
		r = call_ok(f, "ListClusters", q);
		seen += cJSON_GetArraySize(cJSON_GetObjectItem(r, "clusterArns"));
		t = cJSON_GetObjectItem(r, "nextToken");
		if (t)
			tok = strdup(t->valuestring);
		pages++;
		cJSON_Delete(r);
	} while (tok);
	assert_int_equal(seen, 8); /* 7 + default */
	assert_int_equal(pages, 3);

	call_fail(f, "ListClusters", "{'maxResults':0}", "InvalidParameterException", "maxResults");
	call_fail(f, "ListClusters", "{'maxResults':101}", "InvalidParameterException", "maxResults");
	call_fail(f, "ListClusters", "{'nextToken':'garbage'}", "InvalidParameterException", "nextToken");
	call_fail(f, "ListClusters", "{'nextToken':''}", "InvalidParameterException", "nextToken");
	call_fail(f, "ListClusters", "{'nextToken':'....'}", "InvalidParameterException", "nextToken");
}

static char *first_token(struct fx *f, const char *action, const char *q)
{
	cJSON *r = call_ok(f, action, q);
	char *t = strdup(path_str(r, "nextToken", NULL));

	cJSON_Delete(r);
	return t;
}

static void test_tampered_tokens(void **state)
{
	struct fx *f = *state;
	char q[1024], *tok;

	for (int i = 0; i < 3; i++)
		cJSON_Delete(call_ok(f, "RegisterTaskDefinition", TDQ("web")));
	tok = first_token(f, "ListTaskDefinitions", "{'maxResults':1}");
	/* flip each character of the payload and of the MAC in turn */
	for (size_t i = 0; i < strlen(tok); i++) {
		char saved = tok[i];

		if (tok[i] == '.')
			continue;
		tok[i] = tok[i] == 'A' ? 'B' : 'A';
		snprintf(q, sizeof(q), "{'maxResults':1,'nextToken':'%s'}", tok);
		call_fail(f, "ListTaskDefinitions", q, "InvalidParameterException", "nextToken");
		tok[i] = saved;
	}
	/* the genuine token works, but not for other filters or another action */
	snprintf(q, sizeof(q), "{'maxResults':1,'nextToken':'%s'}", tok);
	cJSON_Delete(call_ok(f, "ListTaskDefinitions", q));
	snprintf(q, sizeof(q), "{'maxResults':1,'sort':'DESC','nextToken':'%s'}", tok);
	call_fail(f, "ListTaskDefinitions", q, "InvalidParameterException", "keep them constant");
	snprintf(q, sizeof(q), "{'nextToken':'%s'}", tok);
	call_fail(f, "ListClusters", q, "InvalidParameterException", "nextToken");
	free(tok);
}

static void test_delete_cluster(void **state)
{
	struct fx *f = *state;
	char db[128];
	sqlite3 *s;
	cJSON *r;

	cJSON_Delete(call_ok(f, "CreateCluster", "{'clusterName':'busy','tags':[{'key':'a','value':'b'}]}"));
	/* later issues fill these tables; simulate an instance, a service, a task */
	control_free(f->c);
	snprintf(db, sizeof(db), "%s/berth.db", f->dir);
	assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
	assert_int_equal(sqlite3_exec(s, "INSERT INTO container_instances VALUES('busy','i1','ACTIVE','{}');"
				      "INSERT INTO services VALUES('busy','s1','ACTIVE','{}');"
				      "INSERT INTO tasks(cluster, id, last_status, desired_status, doc) "
				      "VALUES('busy','t1','RUNNING','RUNNING','{}');",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
	ctl_open(f);
	r = call_ok(f, "DescribeClusters", "{'clusters':['busy']}");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "clusters"), 0),
					     "runningTasksCount")->valueint, 1);
	cJSON_Delete(r);
	call_fail(f, "DeleteCluster", "{'cluster':'busy'}", "ClusterContainsContainerInstancesException", NULL);
	control_free(f->c);
	assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
	assert_int_equal(sqlite3_exec(s, "UPDATE container_instances SET status='INACTIVE'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
	ctl_open(f);
	call_fail(f, "DeleteCluster", "{'cluster':'busy'}", "ClusterContainsServicesException", NULL);
	control_free(f->c);
	assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
	assert_int_equal(sqlite3_exec(s, "UPDATE services SET status='INACTIVE'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
	ctl_open(f);
	call_fail(f, "DeleteCluster", "{'cluster':'busy'}", "ClusterContainsTasksException", NULL);
	control_free(f->c);
	assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
	assert_int_equal(sqlite3_exec(s, "UPDATE tasks SET last_status='STOPPED'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
	ctl_open(f);
	r = call_ok(f, "DeleteCluster", "{'cluster':'arn:aws:ecs:local:000000000000:cluster/busy'}");
	assert_string_equal(path_str(r, "cluster", "status"), "INACTIVE");
	cJSON_Delete(r);
	/* gone from lists, still describable as INACTIVE, deleting again fails */
	r = call_ok(f, "ListClusters", "{}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "clusterArns")), 1);
	cJSON_Delete(r);
	r = call_ok(f, "DescribeClusters", "{'clusters':['busy']}");
	assert_string_equal(path_str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "clusters"), 0), "status", NULL), "INACTIVE");
	cJSON_Delete(r);
	call_fail(f, "DeleteCluster", "{'cluster':'busy'}", "ClusterNotFoundException", "Cluster not found.");
	call_fail(f, "DeleteCluster", "{'cluster':'never'}", "ClusterNotFoundException", "Cluster not found.");
	call_fail(f, "DeleteCluster", "{}", "InvalidParameterException", "cluster");
	call_fail(f, "TagResource", "{'resourceArn':'arn:aws:ecs:local:000000000000:cluster/busy','tags':[{'key':'a','value':'b'}]}",
		  "ClusterNotFoundException", NULL);
	/* re-created clean: the old tags are gone */
	r = call_ok(f, "CreateCluster", "{'clusterName':'busy'}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "cluster"), "tags")), 0);
	cJSON_Delete(r);
}

static void test_register_describe(void **state)
{
	struct fx *f = *state;
	cJSON *r, *td;

	r = call_ok(f, "RegisterTaskDefinition", "{'family':'web','cpu':'1 vCPU','memory':'1GB','tags':[{'key':'app','value':'web'}],"
		    "'containerDefinitions':[{'name':'a','image':'nginx','firelensConfiguration':{'type':'fluentd'}}]}");
	td = cJSON_GetObjectItem(r, "taskDefinition");
	assert_string_equal(path_str(td, "taskDefinitionArn", NULL), "arn:aws:ecs:local:000000000000:task-definition/web:1");
	assert_int_equal(cJSON_GetObjectItem(td, "revision")->valueint, 1);
	assert_string_equal(path_str(td, "status", NULL), "ACTIVE");
	assert_string_equal(path_str(td, "cpu", NULL), "1024");
	assert_string_equal(path_str(td, "registeredBy", NULL), "admin");
	assert_true(cJSON_GetObjectItem(td, "registeredAt")->valuedouble > 1.6e9);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tags")), 1);
	cJSON_Delete(r);
	cJSON_Delete(call_ok(f, "RegisterTaskDefinition", TDQ("web")));

	r = call_ok(f, "DescribeTaskDefinition", "{'taskDefinition':'web'}");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "taskDefinition"), "revision")->valueint, 2);
	assert_null(cJSON_GetObjectItem(r, "tags"));
	cJSON_Delete(r);
	r = call_ok(f, "DescribeTaskDefinition", "{'taskDefinition':'web:1','include':['TAGS']}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tags")), 1);
	/* kept verbatim */
	assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "taskDefinition"),
			"containerDefinitions"), 0), "firelensConfiguration"));
	cJSON_Delete(r);
	cJSON_Delete(call_ok(f, "DescribeTaskDefinition", "{'taskDefinition':'arn:aws:ecs:local:000000000000:task-definition/web:2'}"));

	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'web:3'}", "ClientException", "Unable to describe task definition.");
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'nope'}", "ClientException", "Unable to describe task definition.");
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'web:-1'}", "ClientException", "Invalid revision number");
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'web:0'}", "ClientException", "Invalid revision number");
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'web:99999999999'}", "ClientException", "Invalid revision number");
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'web:1:2'}", "ClientException", NULL);
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'arn:aws:ecs:local:000000000000:cluster/web'}", "ClientException", NULL);
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'arn:aws:ecs:elsewhere:000000000000:task-definition/web:1'}",
		  "ClientException", "Unable to describe");
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'arn:::::'}", "ClientException", NULL);
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':''}", "ClientException", NULL);
	call_fail(f, "DescribeTaskDefinition", "{}", "ClientException", "taskDefinition");
	call_fail(f, "RegisterTaskDefinition", "{'family':'web','containerDefinitions':[{'name':'a','image':'x'}]}",
		  "ClientException", "At least one of 'memory'");
	/* a refused registration did not use up a revision */
	r = call_ok(f, "RegisterTaskDefinition", TDQ("web"));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "taskDefinition"), "revision")->valueint, 3);
	cJSON_Delete(r);
}

static void test_revisions_never_reused(void **state)
{
	struct fx *f = *state;
	cJSON *r;

	cJSON_Delete(call_ok(f, "RegisterTaskDefinition", TDQ("job")));
	cJSON_Delete(call_ok(f, "RegisterTaskDefinition", TDQ("job")));
	r = call_ok(f, "DeregisterTaskDefinition", "{'taskDefinition':'job:2'}");
	assert_string_equal(path_str(r, "taskDefinition", "status"), "INACTIVE");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "taskDefinition"), "deregisteredAt"));
	cJSON_Delete(r);
	r = call_ok(f, "DeleteTaskDefinitions", "{'taskDefinitions':['job:2','job:1','job:9','job']}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "taskDefinitions")), 1);
	assert_string_equal(path_str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "taskDefinitions"), 0), "status", NULL),
			    "DELETE_IN_PROGRESS");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "failures")), 3);
	cJSON_Delete(r);
	/* the family's latest revision now is 1; the next one is 3, never 2 again */
	r = call_ok(f, "DescribeTaskDefinition", "{'taskDefinition':'job'}");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "taskDefinition"), "revision")->valueint, 1);
	cJSON_Delete(r);
	r = call_ok(f, "RegisterTaskDefinition", TDQ("job"));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "taskDefinition"), "revision")->valueint, 3);
	cJSON_Delete(r);
	/* across a restart as well */
	control_free(f->c);
	ctl_open(f);
	r = call_ok(f, "RegisterTaskDefinition", TDQ("job"));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "taskDefinition"), "revision")->valueint, 4);
	cJSON_Delete(r);

	call_fail(f, "DeregisterTaskDefinition", "{'taskDefinition':'job'}", "ClientException", "revision");
	call_fail(f, "DeregisterTaskDefinition", "{'taskDefinition':'job:2'}", "ClientException", "does not exist");
	call_fail(f, "DeregisterTaskDefinition", "{'taskDefinition':'job:77'}", "ClientException", "does not exist");
	call_fail(f, "DeleteTaskDefinitions", "{'taskDefinitions':[]}", "ClientException", "1 to 10");
	call_fail(f, "DeleteTaskDefinitions", "{'taskDefinitions':['a:1','a:2','a:3','a:4','a:5','a:6','a:7','a:8','a:9','a:10','a:11']}",
		  "ClientException", "1 to 10");
	/* deregistering twice is harmless */
	cJSON_Delete(call_ok(f, "DeregisterTaskDefinition", "{'taskDefinition':'job:1'}"));
	cJSON_Delete(call_ok(f, "DeregisterTaskDefinition", "{'taskDefinition':'job:1'}"));
}

static int count_list(struct fx *f, const char *action, const char *field, const char *q)
{
	cJSON *r = call_ok(f, action, q);
	int n = cJSON_GetArraySize(cJSON_GetObjectItem(r, field));

	cJSON_Delete(r);
	return n;
}

static void test_list_task_definitions(void **state)
{
	struct fx *f = *state;
	char q[1024], *tok = NULL;
	cJSON *r;
	int n = 0;

	for (int i = 0; i < 3; i++) {
		cJSON_Delete(call_ok(f, "RegisterTaskDefinition", TDQ("alpha")));
		cJSON_Delete(call_ok(f, "RegisterTaskDefinition", TDQ("beta")));
	}
	cJSON_Delete(call_ok(f, "RegisterTaskDefinition", TDQ("alphabet")));
	cJSON_Delete(call_ok(f, "DeregisterTaskDefinition", "{'taskDefinition':'beta:2'}"));

	assert_int_equal(count_list(f, "ListTaskDefinitions", "taskDefinitionArns", "{}"), 6);
	assert_int_equal(count_list(f, "ListTaskDefinitions", "taskDefinitionArns", "{'familyPrefix':'alpha'}"), 3);
	assert_int_equal(count_list(f, "ListTaskDefinitions", "taskDefinitionArns", "{'status':'INACTIVE'}"), 1);
	assert_int_equal(count_list(f, "ListTaskDefinitions", "taskDefinitionArns", "{'status':'DELETE_IN_PROGRESS'}"), 0);
	r = call_ok(f, "ListTaskDefinitions", "{'sort':'DESC','maxResults':2}");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "taskDefinitionArns"), 0)->valuestring,
			    "arn:aws:ecs:local:000000000000:task-definition/beta:3");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "taskDefinitionArns"), 1)->valuestring,
			    "arn:aws:ecs:local:000000000000:task-definition/beta:1");
	cJSON_Delete(r);
	/* every page in ascending order, none missing, none twice */
	do {
		cJSON *t, *it;

		snprintf(q, sizeof(q), tok ? "{'maxResults':4,'nextToken':'%s'}" : "{'maxResults':4}", tok);
		free(tok);
		tok = NULL;
		r = call_ok(f, "ListTaskDefinitions", q);
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(r, "taskDefinitionArns")) {
			static const char *const want[] = { "alpha:1", "alpha:2", "alpha:3", "alphabet:1", "beta:1", "beta:3" };

			assert_true(n < 6);
			assert_non_null(strstr(it->valuestring, want[n]));
			n++;
		}
		t = cJSON_GetObjectItem(r, "nextToken");
		tok = t ? strdup(t->valuestring) : NULL;
		cJSON_Delete(r);
	} while (tok);
	assert_int_equal(n, 6);

	assert_int_equal(count_list(f, "ListTaskDefinitionFamilies", "families", "{}"), 3);
	assert_int_equal(count_list(f, "ListTaskDefinitionFamilies", "families", "{'familyPrefix':'alpha'}"), 2);
	assert_int_equal(count_list(f, "ListTaskDefinitionFamilies", "families", "{'familyPrefix':'alpha','maxResults':1}"), 1);
	for (int i = 1; i <= 3; i++) {
		snprintf(q, sizeof(q), "{'taskDefinition':'alpha:%d'}", i);
		cJSON_Delete(call_ok(f, "DeregisterTaskDefinition", q));
	}
	assert_int_equal(count_list(f, "ListTaskDefinitionFamilies", "families", "{'status':'ACTIVE'}"), 2);
	assert_int_equal(count_list(f, "ListTaskDefinitionFamilies", "families", "{'status':'INACTIVE'}"), 1);
	assert_int_equal(count_list(f, "ListTaskDefinitionFamilies", "families", "{'status':'ALL'}"), 3);
	tok = first_token(f, "ListTaskDefinitionFamilies", "{'maxResults':1}");
	snprintf(q, sizeof(q), "{'maxResults':5,'nextToken':'%s'}", tok);
	assert_int_equal(count_list(f, "ListTaskDefinitionFamilies", "families", q), 2);
	snprintf(q, sizeof(q), "{'familyPrefix':'b','nextToken':'%s'}", tok);
	call_fail(f, "ListTaskDefinitionFamilies", q, "InvalidParameterException", NULL);
	free(tok);
	call_fail(f, "ListTaskDefinitionFamilies", "{'status':'GONE'}", "InvalidParameterException", "status");
	call_fail(f, "ListTaskDefinitions", "{'sort':'UP'}", "InvalidParameterException", "sort");
	call_fail(f, "ListTaskDefinitions", "{'maxResults':'5'}", "InvalidParameterException", "maxResults");
}

static void test_tags(void **state)
{
	struct fx *f = *state;
	const char *arn = "arn:aws:ecs:local:000000000000:task-definition/t:1";
	char q[8192];
	size_t len;
	cJSON *r;

	cJSON_Delete(call_ok(f, "RegisterTaskDefinition", TDQ("t")));
	snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[{'key':'a','value':'1'},{'key':'b'}]}", arn);
	cJSON_Delete(call_ok(f, "TagResource", q));
	snprintf(q, sizeof(q), "{'resourceArn':'%s'}", arn);
	r = call_ok(f, "ListTagsForResource", q);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tags")), 2);
	cJSON_Delete(r);
	snprintf(q, sizeof(q), "{'resourceArn':'%s','tagKeys':['a','zz']}", arn);
	cJSON_Delete(call_ok(f, "UntagResource", q));
	snprintf(q, sizeof(q), "{'resourceArn':'%s'}", arn);
	r = call_ok(f, "ListTagsForResource", q);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tags")), 1);
	cJSON_Delete(r);
	cJSON_Delete(call_ok(f, "TagResource", "{'resourceArn':'arn:aws:ecs:local:000000000000:cluster/default',"
			     "'tags':[{'key':'env','value':'edge \u00e9t\u00e9 +-=._:/@'}]}"));

	/* the rules */
	snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[{'key':'','value':'1'}]}", arn);
	call_fail(f, "TagResource", q, "InvalidParameterException", "Tag keys");
	snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[{'key':'AWS:x','value':'1'}]}", arn);
	call_fail(f, "TagResource", q, "InvalidParameterException", "reserved");
	snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[{'key':'k','value':'aws:v'}]}", arn);
	call_fail(f, "TagResource", q, "InvalidParameterException", "reserved");
	snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[{'key':'a*b','value':'1'}]}", arn);
	call_fail(f, "TagResource", q, "InvalidParameterException", "Tag keys");
	snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[{'key':'k','value':'1'},{'key':'k','value':'2'}]}", arn);
	call_fail(f, "TagResource", q, "InvalidParameterException", "Duplicate");
	len = (size_t)snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[{'key':'", arn);
	memset(q + len, 'k', 129);
	snprintf(q + len + 129, sizeof(q) - len - 129, "','value':'1'}]}");
	call_fail(f, "TagResource", q, "InvalidParameterException", "Tag keys");
	len = (size_t)snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[{'key':'k','value':'", arn);
	memset(q + len, 'v', 257);
	snprintf(q + len + 257, sizeof(q) - len - 257, "'}]}");
	call_fail(f, "TagResource", q, "InvalidParameterException", "Tag values");
	/* 50 in total, counting the ones already there (b) */
	len = (size_t)snprintf(q, sizeof(q), "{'resourceArn':'%s','tags':[", arn);
	for (int i = 0; i < 50; i++)
		len += (size_t)snprintf(q + len, sizeof(q) - len, "%s{'key':'k%d','value':'v'}", i ? "," : "", i);
	snprintf(q + len, sizeof(q) - len, "]}");
	call_fail(f, "TagResource", q, "InvalidParameterException", "at most 50");
	snprintf(q, sizeof(q), "{'resourceArn':'%s'}", arn);
	r = call_ok(f, "ListTagsForResource", q);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tags")), 1);  /* nothing applied */
	cJSON_Delete(r);

	/* resources */
	call_fail(f, "ListTagsForResource", "{'resourceArn':'nonsense'}", "InvalidParameterException", "resourceArn");
	call_fail(f, "ListTagsForResource", "{'resourceArn':'arn:aws:ecs:local:000000000000:task-definition/t:2'}",
		  "ClientException", NULL);
	call_fail(f, "ListTagsForResource", "{'resourceArn':'arn:aws:ecs:local:000000000000:cluster/none'}",
		  "ClusterNotFoundException", NULL);
	call_fail(f, "ListTagsForResource", "{'resourceArn':'arn:aws:ecs:local:000000000000:task/default/0123456789abcdef0123456789abcdef'}",
		  "ResourceNotFoundException", NULL);
	call_fail(f, "TagResource", "{'resourceArn':'arn:aws:ecs:local:000000000000:cluster/default'}",
		  "InvalidParameterException", "tags");
}

static void test_unknown_and_hostile(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	cJSON *resp = NULL, *req;

	call_fail(f, "LaunchRockets", "{}", "UnknownOperationException", NULL);
	assert_true(control_call(f->c, NULL, NULL, NULL, &resp, &e) < 0);
	assert_string_equal(e.type, "UnknownOperationException");
	/* a NULL request is an empty one */
	assert_int_equal(control_call(f->c, "ListClusters", NULL, NULL, &resp, &e), 0);
	cJSON_Delete(resp);
	resp = NULL;
	req = cJSON_CreateArray();
	assert_true(control_call(f->c, "ListClusters", req, "admin", &resp, &e) < 0);
	assert_null(resp);
	cJSON_Delete(req);
	call_fail(f, "DescribeClusters", "{'clusters':[1]}", "InvalidParameterException", "clusters[0]");
	call_fail(f, "DescribeClusters", "{'clusters':'default'}", "InvalidParameterException", "clusters");
	call_fail(f, "ListClusters", "{'maxResults':1.5}", "InvalidParameterException", "maxResults");
	call_fail(f, "ListClusters", "{'maxResults':-1e400}", "InvalidParameterException", "maxResults");
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'arn:aws:ecs:local:000000000000:task-definition/x:-3'}",
		  "ClientException", NULL);
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'x:+3'}", "ClientException", NULL);
	call_fail(f, "DescribeTaskDefinition", "{'taskDefinition':'x: 3'}", "ClientException", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_cluster_and_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_describe_clusters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_clusters_pagination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_describe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revisions_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_task_definitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_hostile, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
