/* Unit tests: the CLI's response printing (cli/output.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"

/* Prints JSON text DOC in FMT into a new string. */
static char *render(const char *doc, enum output_format fmt)
{
	cJSON *j = cJSON_Parse(doc);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(j);
	assert_non_null(f);
	output_print(f, j, fmt, "Act");
	fclose(f);
	cJSON_Delete(j);
	return buf;
}

static void test_json_like_aws(void **state)
{
	char *s;

	(void)state;
	s = render("{\"a\":[1,2.5,\"x\\\"y\\n\"],\"b\":{},\"c\":[],\"d\":{\"e\":true,\"f\":null}}", OUT_JSON);
	assert_string_equal(s,
		"{\n"
		"    \"a\": [\n"
		"        1,\n"
		"        2.5,\n"
		"        \"x\\\"y\\n\"\n"
		"    ],\n"
		"    \"b\": {},\n"
		"    \"c\": [],\n"
		"    \"d\": {\n"
		"        \"e\": true,\n"
		"        \"f\": null\n"
		"    }\n"
		"}\n");
	free(s);
	/* epoch seconds keep their fraction; big integers print whole */
	s = render("{\"t\":1700000000.25,\"n\":1048576}", OUT_JSON);
	assert_non_null(strstr(s, "\"t\": 1700000000.25"));
	assert_non_null(strstr(s, "\"n\": 1048576"));
	free(s);
}

static void test_table(void **state)
{
	char *s;

	(void)state;
	s = render("{\"cluster\":{\"clusterName\":\"edge\",\"status\":\"ACTIVE\","
		   "\"tags\":[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"bb\"}]}}", OUT_TABLE);
	assert_string_equal(s,
		"+----------------------+\n"
		"|     Act.cluster      |\n"
		"+-------------+--------+\n"
		"| clusterName | edge   |\n"
		"| status      | ACTIVE |\n"
		"+-------------+--------+\n"
		"+------------------+\n"
		"| Act.cluster.tags |\n"
		"+-----+------------+\n"
		"| key | value      |\n"
		"+-----+------------+\n"
		"| a   | 1          |\n"
		"| bb  |            |\n"
		"+-----+------------+\n");
	free(s);
	/* nothing to show: nothing printed, no crash */
	s = render("{\"failures\":[]}", OUT_TABLE);
	assert_string_equal(s, "");
	free(s);
}

static void test_text(void **state)
{
	char *s;

	(void)state;
	s = render("{\"clusterArns\":[\"a\",\"b\"],\"nextToken\":\"t\"}", OUT_TEXT);
	assert_string_equal(s, "NEXTTOKEN\tt\nCLUSTERARNS\ta\nCLUSTERARNS\tb\n");
	free(s);
	s = render("{\"failures\":[{\"arn\":\"x\",\"reason\":\"MISSING\"}]}", OUT_TEXT);
	assert_string_equal(s, "FAILURES\tx\tMISSING\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_like_aws),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
