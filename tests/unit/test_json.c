/* lib/json: strict parsing of outside input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"

static void test_strict_accepts_one_value(void **state)
{
	static const char *const good[] = { "{}", " {\"a\":1}\n", "[1,2]", "\"s\"\t", "0" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cJSON *j = json_parse_strict(good[i], strlen(good[i]));

		if (!j)
			fail_msg("refused '%s'", good[i]);
		cJSON_Delete(j);
	}
}

static void test_strict_refuses_trailing_and_broken(void **state)
{
	static const char *const bad[] = {
		"", " ", "{} junk", "{}{}", "{\"a\":1} 1", "{\"a\":", "[1,2", "nul", "{}\x01",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j = json_parse_strict(bad[i], strlen(bad[i]));

		if (j) {
			cJSON_Delete(j);
			fail_msg("accepted '%s'", bad[i]);
		}
	}
}

static void test_strict_stops_at_len(void **state)
{
	/* An embedded NUL inside LEN is trailing data, not an end of input. */
	static const char text[] = "{}\0junk";
	cJSON *j;

	(void)state;
	assert_null(json_parse_strict(text, sizeof(text) - 1));
	j = json_parse_strict(text, 2);
	assert_non_null(j);
	cJSON_Delete(j);
}

static void test_strict_refuses_nul(void **state)
{
	/* A NUL would end the C string early: "db\u0000evil" must not pass as
	 * "db".  An escaped backslash before "u0000" is text, and fine. */
	static const char raw[] = "{\"a\":\"db\0evil\"}";
	static const char *const bad[] = {
		"{\"a\":\"db\\u0000evil\"}", "[\"\\u0000\"]", "{\"\\u0000\":1}",
	};
	static const char ok[] = "[\"\\\\u0000\", \"\\u0001\"]";
	cJSON *j;

	(void)state;
	assert_null(json_parse_strict(raw, sizeof(raw) - 1));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if ((j = json_parse_strict(bad[i], strlen(bad[i])))) {
			cJSON_Delete(j);
			fail_msg("accepted '%s'", bad[i]);
		}
	j = json_parse_strict(ok, strlen(ok));
	assert_non_null(j);
	assert_string_equal(cJSON_GetArrayItem(j, 0)->valuestring, "\\u0000");
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_accepts_one_value),
		cmocka_unit_test(test_strict_refuses_trailing_and_broken),
		cmocka_unit_test(test_strict_stops_at_len),
		cmocka_unit_test(test_strict_refuses_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
