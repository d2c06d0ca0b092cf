/* tests/unit/test_instances.c - the pure parts of issue 8's control plane:
 * attribute rules, the authorization rule and key roles, per-instance
 * generations and agentConnected; and the long-poll hold through
 * control_call_hold(). */
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

#include "api/authz.h"
#include "api/keys.h"
#include "control/attr.h"
#include "control/control.h"
#include "control/live.h"
#include "lib/cleanup.h"

/* ---- attributes ---------------------------------------------------------- */

static void test_attr_names_and_values(void **state)
{
	static const struct { const char *s; bool name, value; } cases[] = {
		{ "stack", true, true },
		{ "ecs.instance-type", true, true },
		{ "a/b\\c_d-e.f", true, true },
		{ "with space", false, true },
		{ "user@host:1", false, true },
		{ " lead", false, false },
		{ "trail ", false, false },
		{ "", false, false },
		{ "bad!", false, false },
		{ "ünï", false, false },
		{ "a=b", false, false },
	};
	char long_ok[129], long_bad[130];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (attr_name_ok(cases[i].s) != cases[i].name)
			fail_msg("name '%s': want %d", cases[i].s, cases[i].name);
		if (attr_value_ok(cases[i].s) != cases[i].value)
			fail_msg("value '%s': want %d", cases[i].s, cases[i].value);
	}
	memset(long_ok, 'x', 128);
	long_ok[128] = '\0';
	memset(long_bad, 'x', 129);
	long_bad[129] = '\0';
	assert_true(attr_name_ok(long_ok));
	assert_false(attr_name_ok(long_bad));
	assert_false(attr_value_ok(long_bad));
	assert_false(attr_name_ok(NULL));
}

static void test_attr_custom_count_set_remove(void **state)
{
	cJSON *list = cJSON_CreateArray();

	(void)state;
	assert_true(attr_is_custom("stack"));
	assert_false(attr_is_custom("ecs.availability-zone"));
	assert_false(attr_is_custom("com.amazonaws.ecs.capability.privileged-container"));
	assert_int_equal(attr_set(list, "ecs.os-type", "linux"), 0);
	assert_int_equal(attr_set(list, "stack", "prod"), 0);
	assert_int_equal(attr_set(list, "gpu", NULL), 0);
	assert_int_equal(attr_count_custom(list), 2);
	/* setting again replaces */
	assert_int_equal(attr_set(list, "stack", "dev"), 0);
	assert_int_equal(cJSON_GetArraySize(list), 3);
	assert_true(attr_remove(list, "gpu"));
	assert_false(attr_remove(list, "gpu"));
	assert_int_equal(attr_count_custom(list), 1);
	cJSON_Delete(list);
}

static void test_attr_check_messages(void **state)
{
	struct err e = ERR_INIT;
	cJSON *a = cJSON_Parse("{\"name\":\"x\",\"value\":\"v\"}");

	(void)state;
	assert_int_equal(attr_check(a, true, &e), 0);
	assert_int_equal(attr_check(a, false, &e), -EINVAL);
	assert_string_equal(e.type, "InvalidParameterException");
	assert_non_null(strstr(e.msg, "deleting"));
	cJSON_Delete(a);
	a = cJSON_Parse("{\"name\":\"x!\"}");
	e = (struct err)ERR_INIT;
	assert_int_equal(attr_check(a, true, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'x!'"));
	cJSON_Delete(a);
}

/* ---- authorization ------------------------------------------------------- */

static void test_authorize(void **state)
{
	static const struct { enum api_role role; const char *action; bool ok; } cases[] = {
		{ API_ROLE_ROOT, "RunTask", true },
		{ API_ROLE_ROOT, "BerthPollWork", true },
		{ API_ROLE_USER, "RunTask", true },
		{ API_ROLE_USER, "RegisterContainerInstance", false },
		{ API_ROLE_USER, "BerthPollWork", false },
		{ API_ROLE_USER, "SubmitTaskStateChange", false },
		{ API_ROLE_USER, "SubmitContainerStateChange", false },
		{ API_ROLE_AGENT, "RegisterContainerInstance", true },
		{ API_ROLE_AGENT, "BerthPollWork", true },
		{ API_ROLE_AGENT, "SubmitTaskStateChange", true },
		{ API_ROLE_AGENT, "SubmitContainerStateChange", true },
		{ API_ROLE_AGENT, "RunTask", false },
		{ API_ROLE_AGENT, "PutAttributes", false },
		{ API_ROLE_AGENT, "NoSuchAction", false },
	};
	struct err e = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = api_authorize(cases[i].role, "p", cases[i].action, &e);

		if ((r == 0) != cases[i].ok)
			fail_msg("role %d %s: got %d", cases[i].role, cases[i].action, r);
	}
	assert_int_equal(api_authorize(API_ROLE_AGENT, "edge", "ListClusters", &e), -EACCES);
	assert_string_equal(e.type, "AccessDeniedException");
	assert_string_equal(e.msg, "User: edge is not authorized to perform: ecs:ListClusters");
}

static void test_key_roles(void **state)
{
	static const char good[] = "{\"accessKeys\":[{\"accessKeyId\":\"A1\",\"secretAccessKey\":\"s\","
		"\"principal\":\"admin\"},{\"accessKeyId\":\"A2\",\"secretAccessKey\":\"s\","
		"\"principal\":\"edge\",\"role\":\"agent\"},{\"accessKeyId\":\"A3\","
		"\"secretAccessKey\":\"s\",\"principal\":\"edge\",\"role\":\"agent\"}]}";
	static const char *const bad[] = {
		"{\"accessKeys\":[{\"accessKeyId\":\"A1\",\"secretAccessKey\":\"s\",\"principal\":\"a\",\"role\":\"root\"}]}",
		"{\"accessKeys\":[{\"accessKeyId\":\"A1\",\"secretAccessKey\":\"s\",\"principal\":\"a\",\"role\":1}]}",
		"{\"accessKeys\":[{\"accessKeyId\":\"A1\",\"secretAccessKey\":\"s\",\"principal\":\"a\"},"
		"{\"accessKeyId\":\"A2\",\"secretAccessKey\":\"s\",\"principal\":\"a\",\"role\":\"agent\"}]}",
	};
	struct api_keys *k = NULL;
	struct err e = ERR_INIT;
	enum api_role role;
	const char *p;

	(void)state;
	assert_int_equal(api_keys_parse(good, strlen(good), &k, &e), 0);
	assert_non_null(api_keys_lookup(k, "A2", &p));
	assert_int_equal(api_keys_role(k, p, &role), 0);
	assert_int_equal(role, API_ROLE_AGENT);
	assert_int_equal(api_keys_role(k, "admin", &role), 0);
	assert_int_equal(role, API_ROLE_USER);
	assert_int_equal(api_keys_role(k, "nobody", &role), -ENOENT);
	api_keys_free(k);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		k = NULL;
		e = (struct err)ERR_INIT;
		if (api_keys_parse(bad[i], strlen(bad[i]), &k, &e) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(k);
	}
}

/* ---- generations and agentConnected -------------------------------------- */

static void test_live_generations(void **state)
{
	struct live l;

	(void)state;
	live_init(&l, 1000, 60000);
	assert_int_equal(live_generation(&l, "c", "i1"), 1000);
	assert_int_equal(live_bump(&l, "c", "i1"), 0);
	assert_int_equal(live_bump(&l, "c", "i1"), 0);
	assert_int_equal(live_generation(&l, "c", "i1"), 1002);
	/* others keep theirs; entries in any order */
	assert_int_equal(live_bump(&l, "c", "i0"), 0);
	assert_int_equal(live_bump(&l, "b", "i9"), 0);
	assert_int_equal(live_generation(&l, "c", "i1"), 1002);
	assert_int_equal(live_generation(&l, "c", "i0"), 1001);
	assert_int_equal(live_generation(&l, "other", "i1"), 1000);
	/* forgetting (deregistration) never moves a generation back */
	live_forget(&l, "c", "i1");
	assert_int_equal(live_generation(&l, "c", "i1"), 1002);
	/* many entries stay findable */
	for (int i = 0; i < 300; i++) {
		char id[16];

		snprintf(id, sizeof(id), "x%03d", (i * 7919) % 300);
		assert_int_equal(live_bump(&l, "c", id), 0);
	}
	assert_int_equal(live_generation(&l, "c", "x123"), 1001);
	assert_int_equal(live_generation(&l, "c", "i1"), 1002);
	live_release(&l);
}

static void test_live_connected(void **state)
{
	struct live l;

	(void)state;
	live_init(&l, 1, 2000);
	assert_false(live_connected(&l, "c", "i", 0));
	/* a generation alone is no contact */
	assert_int_equal(live_bump(&l, "c", "i"), 0);
	assert_false(live_connected(&l, "c", "i", 10));
	assert_int_equal(live_contact(&l, "c", "i", 10000, 0), 0);
	assert_true(live_connected(&l, "c", "i", 12000));
	assert_false(live_connected(&l, "c", "i", 12001));
	/* a held poll keeps it connected while it waits */
	assert_int_equal(live_contact(&l, "c", "i", 20000, 20000), 0);
	assert_true(live_connected(&l, "c", "i", 39000));
	assert_false(live_connected(&l, "c", "i", 40001));
	/* the embedded agent's instance always is */
	assert_int_equal(live_set_local(&l, "c", "local"), 0);
	assert_true(live_connected(&l, "c", "local", 1LL << 40));
	live_forget(&l, "c", "local");
	assert_false(live_connected(&l, "c", "local", 0));
	live_release(&l);
}

/* ---- the hold through control_call_hold ---------------------------------- */

#define IA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"

struct fx {
	char dir[64];
	struct control *c;
	char woke[CONTROL_HOLD_KEY_MAX];
	int wakes;
};

static void on_gen(void *data, const char *key)
{
	struct fx *f = data;

	snprintf(f->woke, sizeof(f->woke), "%s", key);
	f->wakes++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct control_opts o = { .region = "local", .account_id = "000000000000" };
	struct err e = ERR_INIT;

	strcpy(f->dir, "/tmp/berth-inst-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	o.state_dir = f->dir;
	assert_int_equal(control_open(&o, &f->c, &e), 0);
	control_set_generation_listener(f->c, on_gen, f);
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

static int call(struct fx *f, const char *action, const char *body, struct control_hold *h,
		cJSON **ret, struct err *e)
{
	cJSON *req = cJSON_Parse(body);
	int r;

	assert_non_null(req);
	*ret = NULL;
	r = control_call_hold(f->c, action, req, "agent", h, ret, e);
	cJSON_Delete(req);
	return r;
}

static cJSON *ok(struct fx *f, const char *action, const char *body)
{
	struct err e = ERR_INIT;
	cJSON *r;

	if (call(f, action, body, NULL, &r, &e) != 0)
		fail_msg("%s: %s: %s", action, e.type, e.msg);
	return r;
}

static double poll_gen(struct fx *f)
{
	cJSON *r = ok(f, "BerthPollWork", "{\"containerInstance\":\"" IA "\",\"waitSeconds\":0}");
	double g = cJSON_GetNumberValue(cJSON_GetObjectItem(r, "generation"));

	cJSON_Delete(r);
	return g;
}

static void test_poll_hold(void **state)
{
	struct fx *f = *state;
	struct control_hold h = { 0 };
	struct err e = ERR_INIT;
	char body[256];
	cJSON *r;
	double g;

	cJSON_Delete(ok(f, "RegisterContainerInstance", "{\"containerInstanceArn\":\"" IA "\","
			"\"totalResources\":[{\"name\":\"CPU\",\"integerValue\":1024},"
			"{\"name\":\"MEMORY\",\"integerValue\":512}]}"));
	g = poll_gen(f);
	/* generations start at the control plane's start time in ms */
	assert_true(g > 1.7e12);
	snprintf(body, sizeof(body), "{\"containerInstance\":\"%s\",\"generation\":%.0f,"
		 "\"waitSeconds\":7}", IA, g);
	assert_int_equal(call(f, "BerthPollWork", body, &h, &r, &e), CONTROL_HOLD);
	assert_null(r);
	assert_string_equal(h.key, "default/" IA);
	assert_int_equal(h.wait_sec, 7);
	/* without a hold allowed (the wait is over) the same state is answered */
	assert_int_equal(call(f, "BerthPollWork", body, NULL, &r, &e), 0);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "generation")), g);
	cJSON_Delete(r);
	/* another generation: answered at once even when a hold is allowed */
	snprintf(body, sizeof(body), "{\"containerInstance\":\"%s\",\"generation\":1}", IA);
	assert_int_equal(call(f, "BerthPollWork", body, &h, &r, &e), 0);
	cJSON_Delete(r);
	/* a placement moves the generation and wakes the key */
	cJSON_Delete(ok(f, "RegisterTaskDefinition", "{\"family\":\"w\",\"networkMode\":\"host\","
			"\"containerDefinitions\":[{\"name\":\"w\",\"image\":\"i\",\"memory\":64}]}"));
	assert_int_equal(f->wakes, 0);
	cJSON_Delete(ok(f, "RunTask", "{\"taskDefinition\":\"w\"}"));
	assert_int_equal(f->wakes, 1);
	assert_string_equal(f->woke, "default/" IA);
	assert_true(poll_gen(f) == g + 1);
	/* a refused RunTask (rolled back) wakes nothing */
	assert_int_equal(call(f, "RunTask", "{\"taskDefinition\":\"nope\"}", NULL, &r, &e) < 0, 1);
	assert_int_equal(f->wakes, 1);
	/* unknown instances and bad waits are refused */
	e = (struct err)ERR_INIT;
	assert_true(call(f, "BerthPollWork", "{\"containerInstance\":\"cccccccccccccccccccccccccccccccc\"}",
			 &h, &r, &e) < 0);
	assert_string_equal(e.type, "InvalidParameterException");
	e = (struct err)ERR_INIT;
	assert_true(call(f, "BerthPollWork", "{\"containerInstance\":\"" IA "\",\"waitSeconds\":21}",
			 &h, &r, &e) < 0);
	assert_string_equal(e.type, "InvalidParameterException");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attr_names_and_values),
		cmocka_unit_test(test_attr_custom_count_set_remove),
		cmocka_unit_test(test_attr_check_messages),
		cmocka_unit_test(test_authorize),
		cmocka_unit_test(test_key_roles),
		cmocka_unit_test(test_live_generations),
		cmocka_unit_test(test_live_connected),
		cmocka_unit_test_setup_teardown(test_poll_hold, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
