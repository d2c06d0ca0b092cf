/* tests/unit/test_images_ref.c - image reference parsing (good and hostile
 * input) and the pull-behaviour decision table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "images/ref.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct good {
	const char *in, *defreg, *registry, *repo, *tag, *digest;
};

static void test_good(void **state)
{
	static const struct good cases[] = {
		{ "busybox", NULL, "docker.io", "library/busybox", "latest", "" },
		{ "busybox:1.36", NULL, "docker.io", "library/busybox", "1.36", "" },
		{ "user/app", NULL, "docker.io", "user/app", "latest", "" },
		{ "docker.io/busybox", NULL, "docker.io", "library/busybox", "latest", "" },
		{ "localhost/app", NULL, "localhost", "app", "latest", "" },
		{ "localhost:5000/a/b/c:v1", NULL, "localhost:5000", "a/b/c", "v1", "" },
		{ "127.0.0.1:5000/app:1.4", NULL, "127.0.0.1:5000", "app", "1.4", "" },
		{ "registry.local:5000/app:1.4", NULL, "registry.local:5000", "app", "1.4", "" },
		{ "app@sha256:" D64, NULL, "docker.io", "library/app", "", "sha256:" D64 },
		{ "r.io/app:t@sha256:" D64, NULL, "r.io", "app", "t", "sha256:" D64 },
		{ "app", "reg.example:443", "reg.example:443", "app", "latest", "" },
		{ "r.io/a.b-c__d---e/f_g", NULL, "r.io", "a.b-c__d---e/f_g", "latest", "" },
		{ "app:Tag_1.x-y", NULL, "docker.io", "library/app", "Tag_1.x-y", "" },
		{ "My-Host.example/app", NULL, "My-Host.example", "app", "latest", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct img_ref r;

		if (img_ref_parse(cases[i].in, cases[i].defreg, &r) != 0)
			fail_msg("rejected '%s'", cases[i].in);
		assert_string_equal(r.registry, cases[i].registry);
		assert_string_equal(r.repo, cases[i].repo);
		assert_string_equal(r.tag, cases[i].tag);
		assert_string_equal(r.digest, cases[i].digest);
	}
}

static void test_hostile(void **state)
{
	static const char *const bad[] = {
		"", ":", "@", "/", "//", "app:", "app@", "app@sha256:", "app@sha256:abc",
		"app@sha256:" D64 "0", "app@sha512:" D64, "app@SHA256:" D64,
		"App", "app/", "/app", "app//x", "a..b", "-app", "app-", "a___b", "a._b",
		"app:-tag", "app:.tag", "app:ta/g", "app:t:g", "host:0/app", "host:65536/app",
		"host:/app", "host:12a/app", "-host.io/app", "host-.io/app", "ho..st/app",
		"h_st.io/app", "a.b_c/app", "[::1]:5000/app", "app:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"app name", "app\n", "app\x01", "../app", "a/../b", "app:tag@", "ap$p",
		"r.io/../../etc/passwd",
	};
	char longname[400];
	struct img_ref r = { .repo = "untouched" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (img_ref_parse(bad[i], NULL, &r) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_string_equal(r.repo, "untouched");
	}
	assert_int_equal(img_ref_parse(NULL, NULL, &r), -EINVAL);
	assert_int_equal(img_ref_parse("app", "bad host!", &r), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(img_ref_parse(longname, NULL, &r), -EINVAL);
	longname[255] = '\0';
	assert_int_equal(img_ref_parse(longname, "r.io", &r), 0);
	/* library/ + 255 no longer fits the repository name. */
	assert_int_equal(img_ref_parse(longname, NULL, &r), -EINVAL);
}

static void test_format(void **state)
{
	struct img_ref r;
	char buf[600], tiny[8];

	(void)state;
	assert_int_equal(img_ref_parse("busybox", NULL, &r), 0);
	assert_int_equal(img_ref_format(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "docker.io/library/busybox:latest");
	assert_int_equal(img_ref_parse("h:5/a@sha256:" D64, NULL, &r), 0);
	assert_int_equal(img_ref_format(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "h:5/a@sha256:" D64);
	assert_int_equal(img_ref_format(&r, tiny, sizeof(tiny)), -ENAMETOOLONG);
	assert_string_equal(img_ref_api_host("docker.io"), "registry-1.docker.io");
	assert_string_equal(img_ref_api_host("r.io:5000"), "r.io:5000");
}

static void test_digest_and_lists(void **state)
{
	(void)state;
	assert_true(img_digest_valid("sha256:" D64));
	assert_false(img_digest_valid("sha256:" D64 "\n"));
	assert_false(img_digest_valid("sha256:../../" D64));
	assert_true(img_registry_listed("a.io, 127.0.0.1:5000 b", "127.0.0.1:5000"));
	assert_true(img_registry_listed("b", "b"));
	assert_false(img_registry_listed("127.0.0.1:50001", "127.0.0.1:5000"));
	assert_false(img_registry_listed("127.0.0.1", "127.0.0.1:5000"));
	assert_false(img_registry_listed(NULL, "x"));
	assert_false(img_registry_listed("", "x"));
}

static void test_pull_behavior(void **state)
{
	enum img_pull_behavior b;

	(void)state;
	assert_int_equal(img_pull_behavior_parse(NULL, &b), 0);
	assert_int_equal(b, IMG_PULL_DEFAULT);
	assert_int_equal(img_pull_behavior_parse("prefer-cached", &b), 0);
	assert_int_equal(b, IMG_PULL_PREFER_CACHED);
	assert_int_equal(img_pull_behavior_parse("once", &b), 0);
	assert_int_equal(b, IMG_PULL_ONCE);
	assert_int_equal(img_pull_behavior_parse("always", &b), 0);
	assert_int_equal(b, IMG_PULL_ALWAYS);
	assert_int_equal(img_pull_behavior_parse("Always", &b), -EINVAL);
	assert_int_equal(img_pull_behavior_parse("prefer_cached", &b), -EINVAL);

	assert_int_equal(img_pull_decide(IMG_PULL_PREFER_CACHED, true), IMG_USE_CACHED);
	assert_int_equal(img_pull_decide(IMG_PULL_PREFER_CACHED, false), IMG_PULL_REQUIRED);
	assert_int_equal(img_pull_decide(IMG_PULL_ONCE, true), IMG_USE_CACHED);
	assert_int_equal(img_pull_decide(IMG_PULL_ONCE, false), IMG_PULL_REQUIRED);
	assert_int_equal(img_pull_decide(IMG_PULL_DEFAULT, true), IMG_PULL_FALLBACK);
	assert_int_equal(img_pull_decide(IMG_PULL_DEFAULT, false), IMG_PULL_REQUIRED);
	assert_int_equal(img_pull_decide(IMG_PULL_ALWAYS, true), IMG_PULL_REQUIRED);
	assert_int_equal(img_pull_decide(IMG_PULL_ALWAYS, false), IMG_PULL_REQUIRED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_digest_and_lists),
		cmocka_unit_test(test_pull_behavior),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
