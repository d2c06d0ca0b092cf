/* tests/unit/test_images_manifest.c - manifest and index parsing, platform
 * choice, registry auth challenge parsing and credential lookup, including
 * hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "images/image.h"
#include "images/registry.h"

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	     c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static void test_manifest(void **state)
{
	static const char oci[] =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"digest\":\"" D("a") "\",\"size\":7},"
		"\"layers\":[{\"digest\":\"" D("b") "\",\"size\":10},{\"digest\":\"" D("c") "\",\"size\":20}]}";
	struct img_manifest m;

	(void)state;
	assert_int_equal(img_manifest_parse(oci, strlen(oci), &m), 0);
	assert_string_equal(m.config.digest, D("a"));
	assert_int_equal(m.config.size, 7);
	assert_int_equal(m.nlayers, 2);
	assert_string_equal(m.layers[0].digest, D("b"));
	assert_string_equal(m.layers[1].digest, D("c"));
	assert_int_equal(m.layers[1].size, 20);
	img_manifest_release(&m);
	assert_false(img_is_index(oci, strlen(oci)));
}

static void test_manifest_hostile(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"layers\":[]}", "{\"config\":{},\"layers\":[]}",
		"{\"config\":{\"digest\":\"sha256:../../etc\"},\"layers\":[]}",
		"{\"config\":{\"digest\":\"" D("a") "\"},\"layers\":{}}",
		"{\"config\":{\"digest\":\"" D("a") "\"},\"layers\":[{\"digest\":\"md5:x\"}]}",
		"{\"config\":{\"digest\":\"" D("a") "\"},\"layers\":[7]}",
		"{\"config\":{\"digest\":\"" D("a") "\",\"size\":-1},\"layers\":[]}",
		"{\"config\":{\"digest\":\"" D("a") "\",\"size\":\"1\"},\"layers\":[]}",
		"{\"config\":{\"digest\":\"" D("A") "\"},\"layers\":[]}",
	};
	static const char index[] = "{\"manifests\":[]}";
	struct img_manifest m = { .nlayers = 99 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (img_manifest_parse(bad[i], strlen(bad[i]), &m) != -EBADMSG)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(m.nlayers, 99);
	assert_int_equal(img_manifest_parse(index, strlen(index), &m), -EMEDIUMTYPE);
	assert_true(img_is_index(index, strlen(index)));
	{
		/* Too many layers for any real image: refused before allocating. */
		size_t cap = 600 * 90 + 200, k;
		char *big = malloc(cap);

		k = (size_t)sprintf(big, "{\"config\":{\"digest\":\"" D("a") "\"},\"layers\":[");
		for (int i = 0; i < 600; i++)
			k += (size_t)sprintf(big + k, "%s{\"digest\":\"" D("b") "\"}", i ? "," : "");
		strcpy(big + k, "]}");
		assert_int_equal(img_manifest_parse(big, strlen(big), &m), -EBADMSG);
		free(big);
	}
}

static void test_index_pick(void **state)
{
	static const char idx[] =
		"{\"manifests\":["
		"{\"digest\":\"" D("1") "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
		"{\"digest\":\"" D("2") "\",\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}},"
		"{\"digest\":\"" D("3") "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
		"{\"digest\":\"" D("4") "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
		"{\"digest\":\"" D("5") "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
		"{\"digest\":\"" D("6") "\"}"
		"]}";
	struct img_desc d;

	(void)state;
	assert_int_equal(img_index_pick(idx, strlen(idx), "linux", "amd64", NULL, &d), 0);
	assert_string_equal(d.digest, D("3"));
	assert_int_equal(img_index_pick(idx, strlen(idx), "linux", "arm64", "v8", &d), 0);
	assert_string_equal(d.digest, D("1"));
	assert_int_equal(img_index_pick(idx, strlen(idx), "linux", "arm", "v7", &d), 0);
	assert_string_equal(d.digest, D("5"));
	assert_int_equal(img_index_pick(idx, strlen(idx), "linux", "s390x", NULL, &d), -ENOENT);
	assert_int_equal(img_index_pick("{}", 2, "linux", "amd64", NULL, &d), -EBADMSG);
	assert_int_equal(img_index_pick("{\"manifests\":[{\"digest\":\"bad\",\"platform\":"
					"{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
					84, "linux", "amd64", NULL, &d), -EBADMSG);
	assert_non_null(img_host_arch(NULL));
}

static void test_challenge(void **state)
{
	static const char c[] = "Bearer realm=\"https://auth.example/token\",service=\"reg.example\","
				"scope=\"repository:a/b:pull,push\"";
	char buf[128];

	(void)state;
	assert_int_equal(reg_challenge_param(c, "realm", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "https://auth.example/token");
	assert_int_equal(reg_challenge_param(c, "service", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "reg.example");
	/* A comma inside quotes does not end the value. */
	assert_int_equal(reg_challenge_param(c, "scope", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "repository:a/b:pull,push");
	assert_int_equal(reg_challenge_param(c, "error", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(reg_challenge_param("Bearer realm=plain, x=1", "realm", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "plain");
	assert_int_equal(reg_challenge_param("Bearer realm=\"unterminated", "realm", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unterminated");
	assert_int_equal(reg_challenge_param("Bearer xrealm=\"a\"", "realm", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(reg_challenge_param(c, "realm", buf, 5), -ENAMETOOLONG);
	assert_int_equal(reg_challenge_param("", "realm", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(reg_challenge_param("Bearer \"\"\"\",,,=", "realm", buf, sizeof(buf)), -ENOENT);
}

static void test_auth_env(void **state)
{
	char *u = NULL;

	(void)state;
	assert_int_equal(reg_auth_from_env("a.io=x:1, b.io:5000=y:2", "b.io:5000", NULL, &u), 0);
	assert_string_equal(u, "y:2");
	free(u);
	/* A bare user:pass goes only to the configured default registry ... */
	assert_int_equal(reg_auth_from_env("all:pw a.io=x:1", "c.io", "c.io", &u), 0);
	assert_string_equal(u, "all:pw");
	free(u);
	/* ... never to another one, nor anywhere when no default is set. */
	assert_int_equal(reg_auth_from_env("all:pw a.io=x:1", "evil.example", "c.io", &u), -ENOENT);
	assert_int_equal(reg_auth_from_env("all:pw", "c.io", NULL, &u), -ENOENT);
	assert_int_equal(reg_auth_from_env("all:pw", "docker.io", NULL, &u), -ENOENT);
	assert_int_equal(reg_auth_from_env("all:pw", "c.io:5000", "c.io", &u), -ENOENT);
	/* A host entry wins over the bare one. */
	assert_int_equal(reg_auth_from_env("all:pw a.io=x:1", "a.io", "a.io", &u), 0);
	assert_string_equal(u, "x:1");
	free(u);
	assert_int_equal(reg_auth_from_env("a.io=x:1", "a.io:5000", NULL, &u), -ENOENT);
	assert_int_equal(reg_auth_from_env("a.io=x:1", "b.a.io", NULL, &u), -ENOENT);
	assert_int_equal(reg_auth_from_env("nocolon", "a.io", "a.io", &u), -ENOENT);
	assert_int_equal(reg_auth_from_env(NULL, "a.io", NULL, &u), -ENOENT);
	assert_int_equal(reg_auth_from_env("", "a.io", "a.io", &u), -ENOENT);
}

/* A plain-HTTP token realm or redirect only for an insecure registry. */
static void test_realm_check(void **state)
{
	(void)state;
	assert_int_equal(reg_realm_check("https://auth.example/token", false), 0);
	assert_int_equal(reg_realm_check("https://auth.example/token", true), 0);
	assert_int_equal(reg_realm_check("http://auth.example/token", false), -EPERM);
	assert_int_equal(reg_realm_check("http://127.0.0.1:5001/token", true), 0);
	assert_int_equal(reg_realm_check("HTTP://auth.example/token", false), -EPERM);
	assert_int_equal(reg_realm_check("hTTpS://auth.example/token", false), 0);
	assert_int_equal(reg_realm_check("ftp://auth.example/token", true), -EPROTO);
	assert_int_equal(reg_realm_check("file:///etc/passwd", true), -EPROTO);
	assert_int_equal(reg_realm_check("https://", false), -EPROTO);
	assert_int_equal(reg_realm_check("", false), -EPROTO);
	assert_int_equal(reg_realm_check("/token", false), -EPROTO);
	assert_string_equal(reg_protocols(false), "https");
	assert_string_equal(reg_protocols(true), "http,https");
}

static void test_docker_config(void **state)
{
	/* "alice:s3cret" and "bob:pw" in base64 */
	static const char cfg[] =
		"{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"Ym9iOnB3\"},"
		"\"r.example:5000\":{\"auth\":\"YWxpY2U6czNjcmV0\"},"
		"\"bad.example\":{\"auth\":\"!!!!\"},\"nocolon.example\":{\"auth\":\"Ym9i\"},"
		"\"nul.example\":{\"auth\":\"YQBiOmM=\"}}}";
	char *u = NULL;

	(void)state;
	assert_int_equal(reg_auth_from_docker_config(cfg, strlen(cfg), "r.example:5000", &u), 0);
	assert_string_equal(u, "alice:s3cret");
	free(u);
	assert_int_equal(reg_auth_from_docker_config(cfg, strlen(cfg), "docker.io", &u), 0);
	assert_string_equal(u, "bob:pw");
	free(u);
	assert_int_equal(reg_auth_from_docker_config(cfg, strlen(cfg), "r.example", &u), -ENOENT);
	assert_int_equal(reg_auth_from_docker_config(cfg, strlen(cfg), "bad.example", &u), -EBADMSG);
	assert_int_equal(reg_auth_from_docker_config(cfg, strlen(cfg), "nocolon.example", &u), -EBADMSG);
	assert_int_equal(reg_auth_from_docker_config(cfg, strlen(cfg), "nul.example", &u), -EBADMSG);
	assert_int_equal(reg_auth_from_docker_config("nope", 4, "r.example", &u), -EBADMSG);
	assert_int_equal(reg_auth_from_docker_config("{}", 2, "r.example", &u), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_manifest_hostile),
		cmocka_unit_test(test_index_pick),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_auth_env),
		cmocka_unit_test(test_realm_check),
		cmocka_unit_test(test_docker_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
