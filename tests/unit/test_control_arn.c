/* tests/unit/test_control_arn.c - ARN parsing/formatting and references. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/arn.h"
#include "lib/cleanup.h"

static void test_round_trip(void **state)
{
	static const char *const good[] = {
		"arn:aws:ecs:local:000000000000:cluster/default",
		"arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42",
		"arn:aws:ecs:local:000000000000:task/default/0123456789abcdef0123456789abcdef",
		"arn:aws:ecs:local:000000000000:service/edge/api_v2",
		"arn:aws:ecs:local:000000000000:container-instance/edge/fedcba9876543210fedcba9876543210",
		"arn:aws:ecs:local:000000000000:capacity-provider/FARGATE",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct arn a;
		char buf[ARN_MAX];

		if (arn_parse(good[i], &a) < 0)
			fail_msg("refused '%s'", good[i]);
		assert_int_equal(arn_format(buf, sizeof(buf), a.region, a.account, &a), 0);
		assert_string_equal(buf, good[i]);
	}
}

static void test_garbage(void **state)
{
	static const char *const bad[] = {
		"", "arn", "arn:", "arn:aws", "arn:aws:ecs", "arn:aws:ecs:local", "arn:aws:ecs:local:0",
		"arn:aws:ecs:local:0:", "arn:aws:s3:local:0:cluster/a", "arn:aws:ecs::0:cluster/a",
		"arn:aws:ecs:local::cluster/a", "arn:aws:ecs:local:0:cluster/", "arn:aws:ecs:local:0:cluster",
		"arn:aws:ecs:local:0:cluster/a b", "arn:aws:ecs:local:0:cluster/a/b", "arn:aws:ecs:local:0:pod/a",
		"arn:aws:ecs:local:0:task-definition/web", "arn:aws:ecs:local:0:task-definition/web:",
		"arn:aws:ecs:local:0:task-definition/web:0", "arn:aws:ecs:local:0:task-definition/web:-1",
		"arn:aws:ecs:local:0:task-definition/web:+1", "arn:aws:ecs:local:0:task-definition/web:01",
		"arn:aws:ecs:local:0:task-definition/web:2147483648",
		"arn:aws:ecs:local:0:task-definition/web:99999999999999999999",
		"arn:aws:ecs:local:0:task-definition/:1", "arn:aws:ecs:local:0:task/default/xyz",
		"arn:aws:ecs:local:0:task/default/0123456789ABCDEF0123456789ABCDEF",
		"arn:aws:ecs:local:0:task/0123456789abcdef0123456789abcdef",
		"arn:AWS:ecs:local:0:cluster/a", "arn:aws:ecs:LOCAL:0:cluster/a",
		"arn:aws:ecs:local:0:cluster/a\n",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct arn a;

		if (arn_parse(bad[i], &a) == 0)
			fail_msg("accepted '%s'", bad[i]);
	}
	/* far too long */
	{
		char *big = malloc(5000);
		struct arn a;

		strcpy(big, "arn:aws:ecs:local:0:cluster/");
		memset(big + strlen(big), 'a', 4000);
		big[4028] = '\0';
		assert_int_equal(arn_parse(big, &a), -EINVAL);
		free(big);
	}
}

static void test_taskdef_refs(void **state)
{
	char fam[NAME_MAX_LEN + 1];
	struct arn a;
	int64_t rev;

	(void)state;
	assert_int_equal(taskdef_ref_parse("web", fam, &rev, &a), 0);
	assert_string_equal(fam, "web");
	assert_int_equal(rev, 0);
	assert_int_equal(taskdef_ref_parse("web:7", fam, &rev, &a), 0);
	assert_int_equal(rev, 7);
	assert_int_equal(taskdef_ref_parse("arn:aws:ecs:r:1:task-definition/w-1:3", fam, &rev, &a), 0);
	assert_string_equal(fam, "w-1");
	assert_int_equal(rev, 3);
	assert_string_equal(a.region, "r");
	assert_int_equal(taskdef_ref_parse("web:-1", fam, &rev, &a), -ERANGE);
	assert_int_equal(taskdef_ref_parse("web:0", fam, &rev, &a), -ERANGE);
	assert_int_equal(taskdef_ref_parse("web:x", fam, &rev, &a), -ERANGE);
	assert_int_equal(taskdef_ref_parse("web:", fam, &rev, &a), -ERANGE);
	assert_int_equal(taskdef_ref_parse(":1", fam, &rev, &a), -EINVAL);
	assert_int_equal(taskdef_ref_parse("we b", fam, &rev, &a), -EINVAL);
	assert_int_equal(taskdef_ref_parse("arn:aws:ecs:r:1:cluster/web", fam, &rev, &a), -EINVAL);
	assert_int_equal(cluster_ref_parse("edge", fam, &a), 0);
	assert_int_equal(cluster_ref_parse("arn:aws:ecs:r:1:cluster/edge", fam, &a), 0);
	assert_string_equal(fam, "edge");
	assert_int_equal(cluster_ref_parse("arn:aws:ecs:r:1:service/edge/x", fam, &a), -EINVAL);
	assert_int_equal(cluster_ref_parse("", fam, &a), -EINVAL);
}

static void test_names(void **state)
{
	char n[300];

	(void)state;
	assert_true(ecs_name_is_valid("a"));
	assert_true(ecs_name_is_valid("A-z_0"));
	assert_false(ecs_name_is_valid(""));
	assert_false(ecs_name_is_valid(NULL));
	assert_false(ecs_name_is_valid("a.b"));
	assert_false(ecs_name_is_valid("\xc3\xa9"));
	memset(n, 'a', 255);
	n[255] = '\0';
	assert_true(ecs_name_is_valid(n));
	n[255] = 'a';
	n[256] = '\0';
	assert_false(ecs_name_is_valid(n));
	assert_true(ecs_id_is_valid("0123456789abcdef0123456789abcdef"));
	assert_false(ecs_id_is_valid("0123456789abcdef0123456789abcdeg"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_taskdef_refs),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
