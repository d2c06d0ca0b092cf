/* tests/unit/test_images_config.c - image config parsing and the Docker/ECS
 * override rules (entrypoint/command/env/workdir/user). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "images/config.h"

static const char IMAGE[] =
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
	"\"Entrypoint\":[\"/bin/ep\",\"-x\"],\"Cmd\":[\"serve\",\"--port\",\"80\"],"
	"\"Env\":[\"PATH=/opt/bin:/bin\",\"A=1\",\"B=2\"],\"WorkingDir\":\"/srv\","
	"\"User\":\"app:app\",\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}}}}";

static void assert_strv(char **v, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++) {
		assert_non_null(v[n]);
		assert_string_equal(v[n], want[n]);
	}
	assert_null(v[n]);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_parse(void **state)
{
	struct img_config c;

	(void)state;
	assert_int_equal(img_config_parse(IMAGE, strlen(IMAGE), &c), 0);
	assert_strv(c.entrypoint, STRV("/bin/ep", "-x"));
	assert_strv(c.cmd, STRV("serve", "--port", "80"));
	assert_strv(c.exposed_ports, STRV("80/tcp", "53/udp"));
	assert_string_equal(c.workdir, "/srv");
	assert_string_equal(c.user, "app:app");
	assert_string_equal(c.os, "linux");
	assert_string_equal(c.arch, "amd64");
	img_config_release(&c);
}

static void test_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"", "[]", "null", "{", "{\"config\":[]}", "{\"config\":{\"Cmd\":\"sh\"}}",
		"{\"config\":{\"Cmd\":[1]}}", "{\"config\":{\"Env\":[\"A=1\",null]}}",
		"{\"config\":{\"User\":7}}", "{\"config\":{\"ExposedPorts\":[\"80\"]}}",
		"{\"os\":[]}",
	};
	struct img_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (img_config_parse(bad[i], strlen(bad[i]), &c) != -EBADMSG)
			fail_msg("accepted '%s'", bad[i]);
	/* An image without any config is valid; it just has no command. */
	assert_int_equal(img_config_parse("{\"config\":null}", 15, &c), 0);
	assert_null(c.cmd);
	img_config_release(&c);
}

struct merge_case {
	const char *name;
	struct img_overrides o;
	const char *const *argv;
};

static void test_merge_command_rules(void **state)
{
	char *ep[] = { "/bin/other", NULL }, *cmd[] = { "run", "fast", NULL }, *empty[] = { NULL };
	const struct merge_case cases[] = {
		{ "image only", { 0 }, STRV("/bin/ep", "-x", "serve", "--port", "80") },
		{ "command", { .command = cmd }, STRV("/bin/ep", "-x", "run", "fast") },
		{ "entryPoint drops image Cmd", { .entrypoint = ep }, STRV("/bin/other") },
		{ "both", { .entrypoint = ep, .command = cmd }, STRV("/bin/other", "run", "fast") },
		{ "empty command", { .command = empty }, STRV("/bin/ep", "-x") },
		{ "empty entryPoint", { .entrypoint = empty, .command = cmd }, STRV("run", "fast") },
	};
	struct img_config c;

	(void)state;
	assert_int_equal(img_config_parse(IMAGE, strlen(IMAGE), &c), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct img_exec x;

		print_message("# %s\n", cases[i].name);
		assert_int_equal(img_exec_merge(&c, &cases[i].o, &x), 0);
		assert_strv(x.argv, cases[i].argv);
		img_exec_release(&x);
	}
	{
		struct img_overrides o = { .entrypoint = empty };
		struct img_exec x = { 0 };

		assert_int_equal(img_exec_merge(&c, &o, &x), -ENOEXEC);
		assert_null(x.argv);
	}
	img_config_release(&c);
}

static void test_merge_cmd_only_image(void **state)
{
	static const char J[] = "{\"config\":{\"Cmd\":[\"/bin/sh\"]}}";
	char *ep[] = { "/bin/echo", NULL };
	struct img_overrides o = { .entrypoint = ep };
	struct img_config c;
	struct img_exec x;

	(void)state;
	assert_int_equal(img_config_parse(J, strlen(J), &c), 0);
	assert_int_equal(img_exec_merge(&c, NULL, &x), 0);
	assert_strv(x.argv, STRV("/bin/sh"));
	assert_string_equal(x.workdir, "/");
	assert_string_equal(x.user, "");
	/* No PATH anywhere: Docker's default is added. */
	assert_strv(x.env, STRV(IMG_DEFAULT_PATH));
	img_exec_release(&x);
	assert_int_equal(img_exec_merge(&c, &o, &x), 0);
	assert_strv(x.argv, STRV("/bin/echo"));
	img_exec_release(&x);
	img_config_release(&c);
}

static void test_merge_env_workdir_user(void **state)
{
	char *env[] = { "B=task", "C=3", "A=", "C=4", NULL };
	struct img_overrides o = { .environment = env, .workdir = "/work", .user = "1000:1000" };
	struct img_config c;
	struct img_exec x;

	(void)state;
	assert_int_equal(img_config_parse(IMAGE, strlen(IMAGE), &c), 0);
	assert_int_equal(img_exec_merge(&c, &o, &x), 0);
	/* Image order kept, task values win, new names appended, last one wins. */
	assert_strv(x.env, STRV("PATH=/opt/bin:/bin", "A=", "B=task", "C=4"));
	assert_string_equal(x.workdir, "/work");
	assert_string_equal(x.user, "1000:1000");
	img_exec_release(&x);

	o = (struct img_overrides){ .workdir = "", .user = "" };
	assert_int_equal(img_exec_merge(&c, &o, &x), 0);
	assert_string_equal(x.workdir, "/srv");
	assert_string_equal(x.user, "app:app");
	assert_strv(x.env, STRV("PATH=/opt/bin:/bin", "A=1", "B=2"));
	img_exec_release(&x);
	img_config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_merge_command_rules),
		cmocka_unit_test(test_merge_cmd_only_image),
		cmocka_unit_test(test_merge_env_workdir_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
