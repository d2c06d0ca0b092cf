/* Unit tests: the CLI signs http:// requests (cli/sign.c) so that the
 * server's verifier (api/sigv4.c) accepts them, and only them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/sigv4.h"
#include "cli/sign.h"
#include "lib/cleanup.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TARGET "AmazonEC2ContainerServiceV20141113.ListClusters"

static const char *lookup(void *data, const char *id, const char **ret_principal)
{
	(void)data;
	*ret_principal = "admin";
	return strcmp(id, AKID) == 0 ? SECRET : NULL;
}

/* Verifies what sign_request produced, as the server would see it. */
static int verify(const struct sign_headers *sh, const char *host, const char *body,
		  const char *region, struct err *e)
{
	const struct sigv4_kv headers[] = {
		{ "Content-Type", "application/x-amz-json-1.1" },
		{ "Host", host },
		{ "X-Amz-Date", sh->amz_date },
		{ "X-Amz-Target", TARGET },
		{ "Authorization", sh->authorization },
		{ "X-Amz-Security-Token", sh->security_token },
	};
	const struct sigv4_request rq = {
		.method = "POST", .path = "/", .headers = headers,
		.n_headers = ARRAY_SIZE(headers) - (sh->security_token[0] ? 0 : 1),
		.body = body, .body_len = strlen(body),
	};
	const struct sigv4_verify_opts o = {
		.region = region, .service = "ecs", .now = time(NULL), .lookup = lookup,
	};
	const char *principal = NULL;

	return sigv4_verify(&rq, &o, &principal, e);
}

static void test_roundtrip(void **state)
{
	struct sign_headers sh;
	struct err e = ERR_INIT;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	assert_int_equal(sign_request("127.0.0.1:8080", TARGET, "{}", NULL, &sh, &e), 0);
	assert_non_null(strstr(sh.authorization, "Credential=" AKID "/"));
	assert_non_null(strstr(sh.authorization, "/local/ecs/aws4_request"));
	assert_int_equal(verify(&sh, "127.0.0.1:8080", "{}", "local", &e), 0);
	/* the body, host and region are all covered */
	assert_int_not_equal(verify(&sh, "127.0.0.1:8080", "{ }", "local", &e), 0);
	assert_string_equal(e.type, "InvalidSignatureException");
	assert_int_not_equal(verify(&sh, "127.0.0.1:8081", "{}", "local", &e), 0);
	assert_int_not_equal(verify(&sh, "127.0.0.1:8080", "{}", "eu-west-1", &e), 0);
}

static void test_region_and_token(void **state)
{
	struct sign_headers sh;
	struct err e = ERR_INIT;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	setenv("AWS_SESSION_TOKEN", "tok123", 1);
	assert_int_equal(sign_request("h:1", TARGET, "{\"a\":1}", NULL, &sh, &e), 0);
	assert_string_equal(sh.security_token, "tok123");
	assert_non_null(strstr(sh.authorization, "x-amz-security-token"));
	assert_int_equal(verify(&sh, "h:1", "{\"a\":1}", "eu-west-1", &e), 0);
	/* an explicit region wins over the environment */
	assert_int_equal(sign_request("h:1", TARGET, "{}", "local", &sh, &e), 0);
	assert_int_equal(verify(&sh, "h:1", "{}", "local", &e), 0);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_DEFAULT_REGION");
}

static void test_wrong_secret_rejected(void **state)
{
	struct sign_headers sh;
	struct err e = ERR_INIT;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
	assert_int_equal(sign_request("h:1", TARGET, "{}", "local", &sh, &e), 0);
	assert_int_not_equal(verify(&sh, "h:1", "{}", "local", &e), 0);
	assert_string_equal(e.type, "InvalidSignatureException");
}

static void test_no_credentials(void **state)
{
	struct sign_headers sh;
	struct err e = ERR_INIT;

	(void)state;
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	assert_int_equal(sign_request("h:1", TARGET, "{}", "local", &sh, &e), -ENOKEY);
	assert_non_null(strstr(e.msg, "Unable to locate credentials"));
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", "", 1);
	assert_int_equal(sign_request("h:1", TARGET, "{}", "local", &sh, &e), -ENOKEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_region_and_token),
		cmocka_unit_test(test_wrong_secret_rejected),
		cmocka_unit_test(test_no_credentials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
