/* tests/unit/test_api_protocol.c - X-Amz-Target parsing (hostile input),
 * error statuses and bodies, request ids, the access-key file. */
#include <errno.h>
#include <fcntl.h>
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

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "api/keys.h"
#include "api/protocol.h"

static void test_target(void **state)
{
	static const char *bad[] = {
		"", "AmazonEC2ContainerServiceV20141113", "AmazonEC2ContainerServiceV20141113.",
		"AmazonEC2ContainerServiceV20141113.List Clusters", "AmazonEC2ContainerServiceV20141113.ListClusters ",
		"AmazonEC2ContainerServiceV20141113.List/Clusters", "AmazonEC2ContainerServiceV20141113.ListClusters\n",
		"AmazonEC2ContainerServiceV20141113.ListClusters.x",
		"AmazonEC2ContainerServiceV20141113.12", "AmazonEC2ContainerServiceV20141113ListClusters",
		"AmazonEC2ContainerServiceV20141113.\xc3\xa9",
	};
	char action[API_MAX_ACTION + 1], long_target[256];
	enum api_service svc;

	(void)state;
	assert_int_equal(api_parse_target("AmazonEC2ContainerServiceV20141113.ListClusters", &svc, action), 0);
	assert_int_equal(svc, API_SVC_ECS);
	assert_string_equal(action, "ListClusters");
	assert_int_equal(api_parse_target(NULL, &svc, action), -EINVAL);
	assert_int_equal(api_parse_target("Logs_20140328.PutLogEvents", &svc, action), -ENOENT);
	assert_int_equal(api_parse_target("amazonec2containerservicev20141113.ListClusters", &svc, action), -ENOENT);
	assert_int_equal(api_parse_target("AnyScaleFrontendService.RegisterScalableTarget", &svc, action), -ENOENT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (api_parse_target(bad[i], &svc, action) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	/* 64 letters fit, 65 do not (ACTION is never overrun). */
	snprintf(long_target, sizeof(long_target), "%s%.64s", API_ECS_TARGET_PREFIX,
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(api_parse_target(long_target, &svc, action), 0);
	assert_int_equal(strlen(action), 64);
	strcat(long_target, "B");
	assert_int_equal(api_parse_target(long_target, &svc, action), -EINVAL);
}

/* Random bytes after the prefix: never a crash, accepted only when all letters. */
static void test_target_fuzz(void **state)
{
	char buf[200], action[API_MAX_ACTION + 1];
	size_t plen = strlen(API_ECS_TARGET_PREFIX);
	enum api_service svc;
	unsigned seed = 7;

	(void)state;
	memcpy(buf, API_ECS_TARGET_PREFIX, plen);
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % 80);
		bool letters = n > 0 && n <= API_MAX_ACTION;

		for (size_t i = 0; i < n; i++) {
			char c = (char)(rand_r(&seed) % 255 + 1);

			if (round % 2)
				c = (char)('A' + rand_r(&seed) % 26);
			buf[plen + i] = c;
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
				letters = false;
		}
		buf[plen + n] = '\0';
		assert_int_equal(api_parse_target(buf, &svc, action) == 0, letters);
	}
}

static void test_content_type(void **state)
{
	static const char *const good[] = {
		"application/x-amz-json-1.1", "application/x-amz-json-1.1; charset=utf-8",
		"Application/X-Amz-JSON-1.1", " application/x-amz-json-1.1 ", "application/x-amz-json-1.1;",
		"application/x-amz-json-1.1\t; charset=UTF-8",
	};
	static const char *const bad[] = {
		"", " ", "application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.10",
		"application/x-amz-json-1", "application/x-amz-json-1.1x", "application/x-amz-json-1.1 x",
		"application/x-www-form-urlencoded", "text/plain; type=application/x-amz-json-1.1",
		"application/x-amz-json-1.1,text/plain", "xapplication/x-amz-json-1.1",
	};

	(void)state;
	assert_false(api_content_type_ok(NULL));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!api_content_type_ok(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (api_content_type_ok(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

static void test_error_status_and_body(void **state)
{
	char *body;
	cJSON *j;

	(void)state;
	assert_int_equal(api_error_status("ServerException"), 500);
	assert_int_equal(api_error_status("ClientException"), 400);
	assert_int_equal(api_error_status("InvalidParameterException"), 400);
	assert_int_equal(api_error_status("MissingAuthenticationTokenException"), 403);
	assert_int_equal(api_error_status("IncompleteSignatureException"), 400);
	assert_int_equal(api_error_status("UnrecognizedClientException"), 403);
	assert_int_equal(api_error_status("InvalidSignatureException"), 403);
	assert_int_equal(api_error_status("AccessDeniedException"), 403);
	assert_int_equal(api_error_status("RequestEntityTooLargeException"), 413);
	assert_int_equal(api_error_status(NULL), 400);

	body = api_error_body("ClientException", "bad \"quote\" \\ and\nnewline \x01");
	assert_non_null(body);
	j = cJSON_Parse(body);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "__type")->valuestring, "ClientException");
	assert_string_equal(cJSON_GetObjectItem(j, "message")->valuestring, "bad \"quote\" \\ and\nnewline \x01");
	assert_int_equal(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	free(body);
}

static void test_request_id(void **state)
{
	char a[37], b[37];

	(void)state;
	assert_int_equal(api_request_id(a), 0);
	assert_int_equal(api_request_id(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	assert_int_equal(a[8], '-');
	assert_int_equal(a[14], '4');           /* version 4 */
	assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
	assert_int_equal(strspn(a, "0123456789abcdef-"), 36);
}

static void test_keys_parse(void **state)
{
	static const struct { const char *json; const char *msg; } bad[] = {
		{ "", "not a JSON object" },
		{ "[]", "not a JSON object" },
		{ "{\"accessKeys\": [{\"accessKeyId\": \"AKID\", \"secretAccessKey\": \"s\", \"principal\": \"p\"}]} junk",
		  "not a JSON object" },
		{ "{}", "accessKeys" },
		{ "{\"accessKeys\": []}", "accessKeys" },
		{ "{\"accessKeys\": {}}", "accessKeys" },
		{ "{\"accessKeys\": [1]}", "expected an object" },
		{ "{\"accessKeys\": [{\"accessKeyId\": \"AKID\", \"secretAccessKey\": \"s\"}]}", "principal" },
		{ "{\"accessKeys\": [{\"accessKeyId\": \"AK/ID\", \"secretAccessKey\": \"s\", \"principal\": \"p\"}]}", "accessKeyId" },
		{ "{\"accessKeys\": [{\"accessKeyId\": \"AKID\", \"secretAccessKey\": \"\", \"principal\": \"p\"}]}", "secretAccessKey" },
		{ "{\"accessKeys\": [{\"accessKeyId\": \"AKID\", \"secretAccessKey\": 5, \"principal\": \"p\"}]}", "secretAccessKey" },
		{ "{\"accessKeys\": [{\"accessKeyId\": \"AKID\", \"secretAccesKey\": \"s\", \"principal\": \"p\"}]}", "unknown field 'secretAccesKey'" },
		{ "{\"accessKeys\": [{\"accessKeyId\": \"AKID\", \"secretAccessKey\": \"s\", \"principal\": \"p\"},"
		  "{\"accessKeyId\": \"AKID\", \"secretAccessKey\": \"t\", \"principal\": \"q\"}]}", "appears twice" },
		{ "{\"accessKeys\": [{\"accessKeyId\": \"AKID\", \"secretAccessKey\": \"s\", \"principal\": \"p\"}], \"x\": 1}", "top-level" },
	};
	const char *good = "{\"accessKeys\": [{\"accessKeyId\": \"AKIDEXAMPLE\", \"secretAccessKey\": \"sekrit\","
			   " \"principal\": \"admin\"}, {\"accessKeyId\": \"AKID2\", \"secretAccessKey\": \"two\","
			   " \"principal\": \"ops\"}]}";
	struct api_keys *k = NULL;
	struct err e = ERR_INIT;
	const char *p = NULL;

	(void)state;
	assert_int_equal(api_keys_parse(good, strlen(good), &k, &e), 0);
	assert_int_equal(api_keys_count(k), 2);
	assert_string_equal(api_keys_lookup(k, "AKID2", &p), "two");
	assert_string_equal(p, "ops");
	assert_null(api_keys_lookup(k, "AKID3", &p));
	assert_null(api_keys_lookup(k, "akid2", &p));
	api_keys_free(k);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k = NULL;
		if (api_keys_parse(bad[i].json, strlen(bad[i].json), &k, &e) != -EINVAL || !strstr(e.msg, bad[i].msg))
			fail_msg("case %zu: got '%s'", i, e.msg);
		assert_null(k);
	}
}

static void test_keys_file_mode(void **state)
{
	const char *good = "{\"accessKeys\": [{\"accessKeyId\": \"AKID\", \"secretAccessKey\": \"s\", \"principal\": \"p\"}]}";
	char path[] = "/tmp/berth-test-keys-XXXXXX";
	struct api_keys *k = NULL;
	struct err e = ERR_INIT;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(api_keys_load(path, &k, &e), 0);
	assert_int_equal(api_keys_count(k), 1);
	k = api_keys_free(k);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(api_keys_load(path, &k, &e), -EPERM);
	assert_non_null(strstr(e.msg, "chmod 600"));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(api_keys_load(path, &k, &e), -EPERM);
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(api_keys_load(path, &k, &e), -EPERM);
	assert_null(k);
	unlink(path);
	assert_int_equal(api_keys_load(path, &k, &e), -ENOENT);
	assert_non_null(strstr(e.msg, path));
	assert_int_equal(api_keys_load("/tmp", &k, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_target_fuzz),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_error_status_and_body),
		cmocka_unit_test(test_request_id),
		cmocka_unit_test(test_keys_parse),
		cmocka_unit_test(test_keys_file_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
