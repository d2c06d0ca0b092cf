/* tests/unit/test_shim_spec.c - spec.json parsing for the shim (hostile
 * input included), dependsOn start order and cycles, size units. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/shim_int.h"

#define TOP "\"taskId\":\"t1\",\"stateDir\":\"/var/lib/berth/tasks/t1\""
#define C(name, extra) "{\"name\":\"" name "\",\"rootfs\":\"/r\",\"argv\":[\"/bin/true\"]" extra "}"

static int parse(const char *text, struct shim_task *t, struct err *e)
{
	return shim_spec_parse(text, strlen(text), t, e);
}

static void test_full(void **state)
{
	const char *spec =
		"{" TOP ",\"taskArn\":\"arn:aws:ecs:r:1:task/c/t1\",\"cgroupParent\":\"berth/tasks\","
		"\"cgroupEnforce\":false,\"cpu\":512,\"memory\":1024,\"pidsLimit\":100,"
		"\"networkMode\":\"host\",\"pidMode\":\"task\",\"ipcMode\":\"none\",\"stopTimeoutDefault\":7,"
		"\"containers\":["
		C("init", ",\"essential\":false,\"env\":[\"A=1\",\"B=x=y\"],\"user\":\"1000:1000\","
			  "\"workingDirectory\":\"/tmp\",\"capAdd\":[\"NET_ADMIN\"],\"capDrop\":[\"ALL\"],"
			  "\"ulimits\":[{\"name\":\"nofile\",\"softLimit\":100,\"hardLimit\":200}],"
			  "\"cpu\":256,\"memory\":64,\"memoryReservation\":32,\"stopTimeout\":3,"
			  "\"hostname\":\"h1\",\"initProcessEnabled\":true,\"labels\":{\"k\":\"v\"},"
			  "\"logConfiguration\":{\"logDriver\":\"syslog\",\"options\":{\"tag\":\"x\","
			  "\"syslog-facility\":\"local3\",\"syslog-format\":\"rfc5424\","
			  "\"syslog-address\":\"unixgram:///dev/log\",\"mode\":\"non-blocking\"}}") ","
		C("app", ",\"dependsOn\":[{\"containerName\":\"init\",\"condition\":\"SUCCESS\"}],"
			 "\"startTimeout\":5,\"healthCheck\":{\"command\":[\"CMD-SHELL\",\"curl -f x\"],"
			 "\"interval\":10,\"timeout\":2,\"retries\":4,\"startPeriod\":20},"
			 "\"logConfiguration\":{\"logDriver\":\"json-file\",\"options\":{\"max-size\":\"1m\",\"max-file\":\"5\"}}")
		"]}";
	struct err e = ERR_INIT;
	struct shim_task t;
	const struct shim_ctr_spec *init, *app;

	(void)state;
	assert_int_equal(parse(spec, &t, &e), 0);
	assert_string_equal(t.task_id, "t1");
	assert_string_equal(t.cgroup_parent_task, "berth/tasks/t1");
	assert_string_equal(t.shim_cgroup, SHIM_DEFAULT_SHIM_CGROUP);
	assert_false(t.cgroup_enforce);
	assert_int_equal(t.cpu, 512);
	assert_int_equal(t.memory, 1024);
	assert_int_equal(t.pids_limit, 100);
	assert_int_equal(t.net, SHIM_NET_HOST);
	assert_int_equal(t.pid_mode, SHIM_NS_TASK);
	assert_int_equal(t.ipc_mode, SHIM_NS_NONE);
	assert_int_equal(t.stop_timeout_default, 7);
	assert_int_equal(t.n_ctrs, 2);
	init = &t.ctrs[0];
	app = &t.ctrs[1];
	assert_false(init->essential);
	assert_true(app->essential);
	assert_int_equal(init->rt.n_env, 2);
	assert_string_equal(init->rt.env[1], "B=x=y");
	assert_string_equal(init->rt.user, "1000:1000");
	assert_string_equal(init->rt.workdir, "/tmp");
	assert_int_equal(init->rt.n_cap_add, 1);
	assert_int_equal(init->rt.n_ulimits, 1);
	assert_int_equal(init->rt.ulimits[0].limit.rlim_max, 200);
	assert_int_equal(init->rt.cpu_units, 256);
	assert_int_equal(init->rt.memory_mib, 64);
	assert_int_equal(init->rt.memory_reservation_mib, 32);
	assert_int_equal(init->stop_timeout, 3);
	assert_true(init->rt.init);
	assert_string_equal(init->rt.hostname, "h1");
	assert_string_equal(init->rt.name, "init");
	assert_int_equal(init->log.driver, SHIM_LOG_SYSLOG);
	assert_int_equal(init->log.facility, 19);
	assert_int_equal(init->log.format, SHIM_SYSLOG_RFC5424);
	assert_string_equal(init->log.tag, "x");
	assert_int_equal(app->n_deps, 1);
	assert_int_equal(app->deps[0].idx, 0);
	assert_int_equal(app->deps[0].cond, SHIM_COND_SUCCESS);
	assert_int_equal(app->start_timeout, 5);
	assert_int_equal(app->stop_timeout, -1);
	assert_non_null(app->health);
	assert_string_equal(app->health->argv[0], "/bin/sh");
	assert_string_equal(app->health->argv[2], "curl -f x");
	assert_null(app->health->argv[3]);
	assert_int_equal(app->health->retries, 4);
	assert_int_equal(app->health->start_period, 20);
	assert_int_equal(app->log.max_size, 1u << 20);
	assert_int_equal(app->log.max_file, 5);
	assert_int_equal(t.order[0], 0);
	assert_int_equal(t.order[1], 1);
	shim_task_release(&t);
}

static void test_defaults(void **state)
{
	struct err e = ERR_INIT;
	struct shim_task t;

	(void)state;
	assert_int_equal(parse("{" TOP ",\"containers\":[" C("a", ",\"healthCheck\":{\"command\":[\"CMD\",\"true\"]}") "]}", &t, &e), 0);
	assert_true(t.cgroup_enforce);
	assert_string_equal(t.cgroup_parent, "berth/tasks");
	assert_int_equal(t.net, SHIM_NET_NONE);
	assert_int_equal(t.pid_mode, SHIM_NS_PRIVATE);
	assert_int_equal(t.stop_timeout_default, 30);
	assert_true(t.ctrs[0].essential);
	assert_int_equal(t.ctrs[0].log.driver, SHIM_LOG_JSON_FILE);
	assert_int_equal(t.ctrs[0].log.max_size, 10u << 20);
	assert_int_equal(t.ctrs[0].log.max_file, 3);
	assert_int_equal(t.ctrs[0].rt.n_env, 0);
	assert_non_null(t.ctrs[0].rt.env);
	assert_string_equal(t.ctrs[0].health->argv[0], "true");
	assert_int_equal(t.ctrs[0].health->interval, 30);
	assert_int_equal(t.ctrs[0].health->timeout, 5);
	assert_int_equal(t.ctrs[0].health->retries, 3);
	assert_int_equal(t.ctrs[0].rt.net_fd, -1);
	assert_null(t.vol);   /* no "volumes": none */
	shim_task_release(&t);
	/* A valid volumes object is kept for the shim's prepare. */
	assert_int_equal(parse("{" TOP ",\"volumes\":{\"stateDir\":\"/s\",\"taskDefinition\":{\"volumes\":"
			       "[{\"name\":\"v\"}],\"containerDefinitions\":[{\"name\":\"a\",\"mountPoints\":"
			       "[{\"sourceVolume\":\"v\",\"containerPath\":\"/v\"}]}]}},\"containers\":["
			       C("a", "") "]}", &t, &e), 0);
	assert_non_null(t.vol);
	shim_task_release(&t);
	assert_null(t.vol);
}

/* bridge and awsvpc tasks join the namespace the agent made. */
static void test_netns_join(void **state)
{
	static const char *const modes[] = { "bridge", "awsvpc" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char spec[512];
		struct err e = ERR_INIT;
		struct shim_task t;

		snprintf(spec, sizeof(spec), "{" TOP ",\"networkMode\":\"%s\",\"netnsPath\":"
			 "\"/run/berth/netns/t1\",\"containers\":[" C("a", "") "]}", modes[i]);
		assert_int_equal(parse(spec, &t, &e), 0);
		assert_int_equal(t.net, SHIM_NET_JOIN);
		assert_string_equal(t.netns_path, "/run/berth/netns/t1");
		shim_task_release(&t);
	}
}

static void test_hostile(void **state)
{
	static const struct {
		const char *spec;
		const char *msg;
	} bad[] = {
		{ "", "not valid JSON" },
		{ "{} trailing", "not valid JSON" },
		{ "[]", "not a JSON object" },
		{ "{\"taskId\":\"t\"}", "stateDir" },
		{ "{\"taskId\":\"../x\",\"stateDir\":\"/s\",\"containers\":[" C("a", "") "]}", "taskId" },
		{ "{\"taskId\":7,\"stateDir\":\"/s\"}", "'taskId' must be a string" },
		{ "{\"taskId\":\"t\",\"stateDir\":\"rel\"}", "stateDir" },
		{ "{\"taskId\":\"t\",\"stateDir\":\"/a/../b\"}", "stateDir" },
		{ "{" TOP ",\"cgroupParent\":\"/abs\",\"containers\":[" C("a", "") "]}", "cgroupParent" },
		{ "{" TOP ",\"cgroupParent\":\"a/../b\",\"containers\":[" C("a", "") "]}", "cgroupParent" },
		{ "{" TOP ",\"containers\":[]}", "containers" },
		{ "{" TOP ",\"containers\":{}}", "containers" },
		{ "{" TOP ",\"containers\":[" C("a", "") "," C("a", "") "]}", "used twice" },
		{ "{" TOP ",\"containers\":[" C("a/b", "") "]}", "'name'" },
		{ "{" TOP ",\"containers\":[{\"name\":\"a\",\"image\":\"busybox\",\"argv\":[\"x\"]}]}", "rootfs" },
		{ "{" TOP ",\"containers\":[{\"name\":\"a\",\"rootfs\":\"/r\",\"argv\":[]}]}", "argv" },
		{ "{" TOP ",\"containers\":[{\"name\":\"a\",\"rootfs\":\"/r\",\"argv\":[1]}]}", "only strings" },
		{ "{" TOP ",\"containers\":[{\"name\":\"a\",\"rootfs\":\"/r\",\"argv\":[\"\"]}]}", "argv" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"env\":[\"NOEQUALS\"]") "]}", "K=V" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"env\":[\"=v\"]") "]}", "K=V" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"user\":\":0\"") "]}", "'user'" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"workingDirectory\":\"tmp\"") "]}", "workingDirectory" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"memory\":5") "]}", "'memory'" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"memory\":64.5") "]}", "'memory'" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"memory\":-1") "]}", "'memory'" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"cpu\":1e300") "]}", "'cpu'" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"memory\":64,\"memoryReservation\":64") "]}", "memoryReservation" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"essential\":\"yes\"") "]}", "'essential'" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"dependsOn\":[{\"containerName\":\"zz\",\"condition\":\"START\"}]") "]}", "no container" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"dependsOn\":[{\"containerName\":\"a\",\"condition\":\"START\"}]") "]}", "itself" },
		{ "{" TOP ",\"containers\":[" C("a", "") "," C("b", ",\"dependsOn\":[{\"containerName\":\"a\",\"condition\":\"LATER\"}]") "]}", "condition" },
		{ "{" TOP ",\"containers\":[" C("a", "") "," C("b", ",\"dependsOn\":[{\"containerName\":\"a\"}]") "]}", "condition" },
		{ "{" TOP ",\"containers\":[" C("a", "") "," C("b", ",\"dependsOn\":[{\"containerName\":\"a\",\"condition\":\"HEALTHY\"}]") "]}", "no healthCheck" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"healthCheck\":{\"command\":[\"CMD-SHELL\"]}") "]}", "healthCheck" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"healthCheck\":{\"command\":[\"CMD-SHELL\",\"a\",\"b\"]}") "]}", "healthCheck" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"healthCheck\":{\"command\":[\"CMD\",\"x\"],\"interval\":0}") "]}", "interval" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"healthCheck\":{\"command\":[\"CMD\",\"x\"],\"retries\":11}") "]}", "retries" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"logConfiguration\":{\"logDriver\":\"awslogs\"}") "]}", "logDriver" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"logConfiguration\":{\"options\":{\"max-size\":\"10x\"}}") "]}", "max-size" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"logConfiguration\":{\"options\":{\"max-size\":\"99999999999999999999999k\"}}") "]}", "max-size" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"logConfiguration\":{\"options\":{\"max-file\":\"0\"}}") "]}", "max-file" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"logConfiguration\":{\"options\":{\"max-file\":7}}") "]}", "string" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"logConfiguration\":{\"logDriver\":\"syslog\",\"options\":{\"syslog-address\":\"tcp://1.2.3.4:514\"}}") "]}", "syslog-address" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"ulimits\":[{\"name\":\"nofile\"}]") "]}", "softLimit" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"ulimits\":[{\"name\":\"bogus\",\"softLimit\":1,\"hardLimit\":1}]") "]}", "ulimits" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"hostname\":\"a b\"") "]}", "hostname" },
		{ "{" TOP ",\"networkMode\":\"bridge\",\"containers\":[" C("a", "") "]}", "netnsPath" },
		{ "{" TOP ",\"networkMode\":\"awsvpc\",\"netnsPath\":\"run/x\",\"containers\":[" C("a", "") "]}", "netnsPath" },
		{ "{" TOP ",\"networkMode\":\"host\",\"netnsPath\":\"/run/x\",\"containers\":[" C("a", "") "]}", "only for networkMode bridge" },
		{ "{" TOP ",\"netnsPath\":\"/run/x\",\"containers\":[" C("a", "") "]}", "only for networkMode bridge" },
		{ "{" TOP ",\"networkMode\":\"bridge\",\"netnsPath\":7,\"containers\":[" C("a", "") "]}", "netnsPath" },
		{ "{" TOP ",\"networkMode\":\"nat\",\"containers\":[" C("a", "") "]}", "networkMode" },
		{ "{" TOP ",\"pidMode\":\"none\",\"containers\":[" C("a", "") "]}", "pidMode" },
		{ "{" TOP ",\"containers\":[" C("a", ",\"labels\":[]") "]}", "labels" },
		{ "{" TOP ",\"volumes\":[],\"containers\":[" C("a", "") "]}", "volumes" },
		{ "{" TOP ",\"volumes\":{},\"containers\":[" C("a", "") "]}", "stateDir" },
		{ "{" TOP ",\"volumes\":{\"stateDir\":\"/s\",\"taskDefinition\":{\"volumes\":[{\"name\":\"v\",\"host\":{\"sourcePath\":\"/a/../etc\"}}]}},\"containers\":[" C("a", "") "]}", "sourcePath" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = ERR_INIT;
		struct shim_task t;
		int r = parse(bad[i].spec, &t, &e);

		if (r >= 0 || !strstr(e.msg, bad[i].msg))
			fail_msg("spec %zu: r=%d msg '%s', want '%s'", i, r, e.msg, bad[i].msg);
		assert_null(t.owned); /* released */
	}
}

/* Random bytes and truncations of a valid spec: no crash, no leak. */
static void test_fuzz(void **state)
{
	const char *good = "{" TOP ",\"containers\":[" C("a", ",\"env\":[\"A=1\"]") ","
			   C("b", ",\"dependsOn\":[{\"containerName\":\"a\",\"condition\":\"COMPLETE\"}]") "]}";
	size_t n = strlen(good);
	char buf[1024];

	(void)state;
	srand(7);
	for (size_t cut = 0; cut < n; cut++) {
		struct err e = ERR_INIT;
		struct shim_task t;

		assert_true(shim_spec_parse(good, cut, &t, &e) < 0);
	}
	for (int round = 0; round < 3000; round++) {
		struct err e = ERR_INIT;
		struct shim_task t;

		memcpy(buf, good, n);
		for (int k = 0; k < 3; k++)
			buf[rand() % (int)n] = (char)(rand() % 256);
		if (shim_spec_parse(buf, n, &t, &e) == 0)
			shim_task_release(&t);
	}
}

static void test_order_and_cycles(void **state)
{
	struct err e = ERR_INIT;
	struct shim_task t;
	const char *chain = "{" TOP ",\"containers\":["
		C("web", ",\"dependsOn\":[{\"containerName\":\"app\",\"condition\":\"START\"}]") ","
		C("app", ",\"dependsOn\":[{\"containerName\":\"db\",\"condition\":\"START\"},"
			 "{\"containerName\":\"migrate\",\"condition\":\"SUCCESS\"}]") ","
		C("migrate", ",\"essential\":false,\"dependsOn\":[{\"containerName\":\"db\",\"condition\":\"START\"}]") ","
		C("db", "") "," C("side", "") "]}";
	const char *cycle = "{" TOP ",\"containers\":["
		C("a", ",\"dependsOn\":[{\"containerName\":\"c\",\"condition\":\"START\"}]") ","
		C("b", ",\"dependsOn\":[{\"containerName\":\"a\",\"condition\":\"START\"}]") ","
		C("c", ",\"dependsOn\":[{\"containerName\":\"b\",\"condition\":\"START\"}]") "," C("d", "") "]}";
	size_t pos[5];

	(void)state;
	assert_int_equal(parse(chain, &t, &e), 0);
	for (size_t i = 0; i < t.n_ctrs; i++)
		pos[t.order[i]] = i;
	/* db(3) < migrate(2) < app(1) < web(0); side(4) anywhere */
	assert_true(pos[3] < pos[2]);
	assert_true(pos[2] < pos[1]);
	assert_true(pos[3] < pos[1]);
	assert_true(pos[1] < pos[0]);
	assert_int_equal(t.order[0], 3); /* stable: the first ready one in definition order */
	shim_task_release(&t);

	assert_int_equal(parse(cycle, &t, &e), -ELOOP);
	assert_non_null(strstr(e.msg, "cycle among 'a', 'b', 'c'"));
	assert_null(strstr(e.msg, "'d'"));
}

static void test_sizes(void **state)
{
	static const struct { const char *s; int r; uint64_t v; } cases[] = {
		{ "10m", 0, 10u << 20 }, { "1k", 0, 1024 }, { "1K", 0, 1024 }, { "2g", 0, 2ull << 30 },
		{ "512", 0, 512 }, { "7b", 0, 7 }, { "", -EINVAL, 0 }, { "m", -EINVAL, 0 },
		{ "1mb", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { " 1", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 }, { "17179869184g", -ERANGE, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;

		assert_int_equal(shim_parse_size(cases[i].s, &v), cases[i].r);
		if (cases[i].r == 0)
			assert_int_equal(v, cases[i].v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_netns_join),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_order_and_cycles),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
