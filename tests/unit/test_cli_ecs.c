/* tests/unit/test_cli_ecs.c - the paginator's token step: a server that
 * repeats nextToken must not be followed forever. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli/ecs.h"

static char *next_of(const char *page_json, const char *sent, int want_r)
{
	cJSON *page = cJSON_Parse(page_json);
	char *tok = (char *)1;

	assert_non_null(page);
	assert_int_equal(ecs_next_token(page, sent, &tok), want_r);
	cJSON_Delete(page);
	return tok;
}

static void test_next_token(void **state)
{
	char *t;

	(void)state;
	t = next_of("{\"clusterArns\": [], \"nextToken\": \"b\"}", "a", 0);
	assert_string_equal(t, "b");
	free(t);
	t = next_of("{\"nextToken\": \"a\"}", NULL, 0);     /* the first page */
	assert_string_equal(t, "a");
	free(t);
	/* the last page: absent, empty or not a string */
	assert_null(next_of("{\"clusterArns\": []}", "a", 0));
	assert_null(next_of("{\"nextToken\": \"\"}", "a", 0));
	assert_null(next_of("{\"nextToken\": null}", "a", 0));
	assert_null(next_of("{\"nextToken\": 5}", "a", 0));
	/* the token the page was asked with, again: stop */
	assert_null(next_of("{\"nextToken\": \"a\"}", "a", -ELOOP));
	assert_null(next_of("{\"nextToken\": \"tok-1\"}", "tok-1", -ELOOP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
