/* tests/unit/test_sigv4.c - SigV4 against AWS's published vectors (the
 * Signature Version 4 test suite, credential AKIDEXAMPLE, 20150830T123600Z,
 * us-east-1/service; and the IAM ListUsers example of the SigV4 docs), plus
 * an ECS request; then every way verification must refuse, and hostile
 * Authorization headers.  Each expected value was recomputed independently
 * with python3's hmac/hashlib before being written here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/sigv4.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SCOPE "20150830/us-east-1/service/aws4_request"
#define EMPTY_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T0 1440938160   /* 20150830T123600Z */

static const struct sigv4_kv base_headers[] = {
	{ "Host", "example.amazonaws.com" },
	{ "X-Amz-Date", "20150830T123600Z" },
};

/* Signature of a suite request, through the exported steps. */
static void suite_signature(const struct sigv4_request *rq, const char *signed_headers, char sig[65])
{
	char *canonical = NULL, *sts = NULL;
	unsigned char key[32];

	assert_int_equal(sigv4_canonical_request(rq, signed_headers, &canonical), 0);
	assert_int_equal(sigv4_string_to_sign("20150830T123600Z", SCOPE, canonical, &sts), 0);
	sigv4_signing_key(SECRET, "20150830", "us-east-1", "service", key);
	sigv4_signature(key, sts, sig);
	free(canonical);
	free(sts);
}

static void test_get_vanilla(void **state)
{
	struct sigv4_request rq = { .method = "GET", .path = "/", .headers = base_headers, .n_headers = 2 };
	char *canonical = NULL, *sts = NULL, sig[65];
	unsigned char key[32];

	(void)state;
	assert_int_equal(sigv4_canonical_request(&rq, "host;x-amz-date", &canonical), 0);
	assert_string_equal(canonical, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
				       "host;x-amz-date\n" EMPTY_HASH);
	assert_int_equal(sigv4_string_to_sign("20150830T123600Z", SCOPE, canonical, &sts), 0);
	assert_string_equal(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n" SCOPE
				 "\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	sigv4_signing_key(SECRET, "20150830", "us-east-1", "service", key);
	sigv4_signature(key, sts, sig);
	assert_string_equal(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	free(canonical);
	free(sts);
}

static void test_suite_vectors(void **state)
{
	static const struct sigv4_kv trim_h[] = {
		{ "Host", "example.amazonaws.com" }, { "X-Amz-Date", "20150830T123600Z" },
		{ "My-Header1", " value1" }, { "My-Header2", "\"a   b   c\"" },
	};
	static const struct sigv4_kv case_h[] = {
		{ "Host", "example.amazonaws.com" }, { "My-Header1", "VALUE1" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	static const struct sigv4_kv dup_h[] = {
		{ "Host", "example.amazonaws.com" }, { "My-Header1", "value2" }, { "My-Header1", "value2" },
		{ "My-Header1", "value1" }, { "X-Amz-Date", "20150830T123600Z" },
	};
	static const struct sigv4_kv query[] = { { "Param2", "value2" }, { "Param1", "value1" } };
	const struct {
		const char *name;
		struct sigv4_request rq;
		const char *signed_headers;
		const char *sig;
	} v[] = {
		{ "post-vanilla", { "POST", "/", NULL, 0, base_headers, 2, NULL, 0 }, "host;x-amz-date",
		  "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
		{ "get-vanilla-query-order-key-case", { "GET", "/", query, 2, base_headers, 2, NULL, 0 },
		  "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
		{ "get-header-value-trim", { "GET", "/", NULL, 0, trim_h, 4, NULL, 0 },
		  "host;my-header1;my-header2;x-amz-date",
		  "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
		{ "post-header-value-case", { "POST", "/", NULL, 0, case_h, 3, NULL, 0 },
		  "host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d" },
		{ "get-header-key-duplicate", { "GET", "/", NULL, 0, dup_h, 5, NULL, 0 },
		  "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea" },
		{ "get-unreserved",
		  { "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", NULL, 0,
		    base_headers, 2, NULL, 0 },
		  "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char sig[65];

		suite_signature(&v[i].rq, v[i].signed_headers, sig);
		if (strcmp(sig, v[i].sig) != 0)
			fail_msg("%s: got %s", v[i].name, sig);
	}
}

static void test_canonical_header_rules(void **state)
{
	static const struct sigv4_kv h[] = {
		{ "Host", "example.amazonaws.com" }, { "X-Amz-Date", "20150830T123600Z" },
		{ "My-Header1", " value1" }, { "My-Header2", "\"a   b   c\"" },
	};
	static const struct sigv4_kv q[] = { { "b", "x y" }, { "a", "2" }, { "a", "1" }, { "c", "=&/" } };
	struct sigv4_request rq = { "GET", "/a b/c", q, 4, h, 4, NULL, 0 };
	char *c = NULL;

	(void)state;
	assert_int_equal(sigv4_canonical_request(&rq, "host;my-header1;my-header2;x-amz-date", &c), 0);
	assert_string_equal(c, "GET\n/a%20b/c\na=1&a=2&b=x%20y&c=%3D%26%2F\n"
			       "host:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
			       "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" EMPTY_HASH);
	free(c);
	/* A signed header that is not in the request. */
	assert_int_equal(sigv4_canonical_request(&rq, "host;x-amz-content-sha256;x-amz-date", &c), -ENOENT);
}

/* docs.aws.amazon.com SigV4 example: IAM ListUsers. */
static void test_iam_list_users(void **state)
{
	static const struct sigv4_kv h[] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "Host", "iam.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	static const struct sigv4_kv q[] = { { "Action", "ListUsers" }, { "Version", "2010-05-08" } };
	struct sigv4_request rq = { "GET", "/", q, 2, h, 3, NULL, 0 };
	char *c = NULL, *sts = NULL, hash[65], hex[65], sig[65];
	unsigned char key[32];

	(void)state;
	assert_int_equal(sigv4_canonical_request(&rq, "content-type;host;x-amz-date", &c), 0);
	sigv4_sha256_hex(c, strlen(c), hash);
	assert_string_equal(hash, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
	sigv4_signing_key(SECRET, "20150830", "us-east-1", "iam", key);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", key[i]);
	assert_string_equal(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
	assert_int_equal(sigv4_string_to_sign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", c, &sts), 0);
	sigv4_signature(key, sts, sig);
	assert_string_equal(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
	free(c);
	free(sts);
}

/* --- verification --- */

#define ECS_BODY "{\"clusterName\":\"prod\"}"

static const char *lookup(void *data, const char *id, const char **ret_principal)
{
	(void)data;
	if (strcmp(id, "AKIDEXAMPLE") == 0) {
		*ret_principal = "admin";
		return SECRET;
	}
	if (strcmp(id, "AKIDOTHER") == 0) {
		*ret_principal = "other";
		return "another-secret";
	}
	return NULL;
}

struct signed_rq {
	struct sigv4_kv h[5];
	struct sigv4_request rq;
	char *authz;
};

/* An ECS CreateCluster request as botocore sends it, signed by ID/SECRET_ at DATE. */
static void make_ecs(struct signed_rq *s, const char *id, const char *secret, const char *date,
		     const char *region)
{
	s->h[0] = (struct sigv4_kv){ "Host", "127.0.0.1:8080" };
	s->h[1] = (struct sigv4_kv){ "X-Amz-Date", date };
	s->h[2] = (struct sigv4_kv){ "Content-Type", "application/x-amz-json-1.1" };
	s->h[3] = (struct sigv4_kv){ "X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateCluster" };
	s->rq = (struct sigv4_request){ "POST", "/", NULL, 0, s->h, 4, ECS_BODY, strlen(ECS_BODY) };
	assert_int_equal(sigv4_sign(&s->rq, id, secret, region, "ecs",
				    "content-type;host;x-amz-date;x-amz-target", &s->authz), 0);
	s->h[4] = (struct sigv4_kv){ "Authorization", s->authz };
	s->rq.n_headers = 5;
}

static int verify(struct signed_rq *s, time_t now, const char **principal, struct err *e)
{
	struct sigv4_verify_opts o = { "local", "ecs", now, lookup, NULL };

	*principal = NULL;
	return sigv4_verify(&s->rq, &o, principal, e);
}

static void test_ecs_vector_and_verify(void **state)
{
	struct err e = ERR_INIT;
	struct signed_rq s;
	const char *p;

	(void)state;
	make_ecs(&s, "AKIDEXAMPLE", SECRET, "20150830T123600Z", "local");
	assert_string_equal(s.authz, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/ecs/aws4_request, "
				     "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
				     "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82");
	assert_int_equal(verify(&s, T0, &p, &e), 0);
	assert_string_equal(p, "admin");
	/* Up to five minutes either way is accepted. */
	assert_int_equal(verify(&s, T0 + 300, &p, &e), 0);
	assert_int_equal(verify(&s, T0 - 300, &p, &e), 0);
	free(s.authz);
}

static void expect_fail(struct signed_rq *s, time_t now, const char *type, const char *msg_part)
{
	struct err e = ERR_INIT;
	const char *p;

	assert_true(verify(s, now, &p, &e) < 0);
	assert_null(p);
	assert_non_null(e.type);
	if (strcmp(e.type, type) != 0 || !strstr(e.msg, msg_part))
		fail_msg("want %s '%s', got %s '%s'", type, msg_part, e.type, e.msg);
}

static void test_verify_refusals(void **state)
{
	struct signed_rq s;

	(void)state;
	/* Stale and future dates, with AWS's wording. */
	make_ecs(&s, "AKIDEXAMPLE", SECRET, "20150830T123600Z", "local");
	expect_fail(&s, T0 + 600, "InvalidSignatureException",
		    "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z (20150830T124600Z - 5 min.)");
	expect_fail(&s, T0 + 301, "InvalidSignatureException", "Signature expired");
	expect_fail(&s, T0 - 600, "InvalidSignatureException", "Signature not yet current");

	/* Tampered body, header, method. */
	s.rq.body = "{\"clusterName\":\"prod2\"}";
	s.rq.body_len = strlen(s.rq.body);
	expect_fail(&s, T0, "InvalidSignatureException", "does not match");
	s.rq.body = ECS_BODY;
	s.rq.body_len = strlen(ECS_BODY);
	s.h[3].value = "AmazonEC2ContainerServiceV20141113.DeleteCluster";
	expect_fail(&s, T0, "InvalidSignatureException", "does not match");
	s.h[3].value = "AmazonEC2ContainerServiceV20141113.CreateCluster";
	s.rq.method = "PUT";
	expect_fail(&s, T0, "InvalidSignatureException", "does not match");
	s.rq.method = "POST";
	/* A signed header dropped from the request. */
	s.h[3] = s.h[4];
	s.rq.n_headers = 4;
	expect_fail(&s, T0, "InvalidSignatureException", "missing");
	free(s.authz);

	/* Wrong secret, unknown key, wrong region, wrong service. */
	make_ecs(&s, "AKIDEXAMPLE", "not-the-secret", "20150830T123600Z", "local");
	expect_fail(&s, T0, "InvalidSignatureException", "does not match");
	free(s.authz);
	make_ecs(&s, "AKIDNOBODY", SECRET, "20150830T123600Z", "local");
	expect_fail(&s, T0, "UnrecognizedClientException", "security token included in the request is invalid");
	free(s.authz);
	make_ecs(&s, "AKIDOTHER", SECRET, "20150830T123600Z", "local");   /* known id, its secret differs */
	expect_fail(&s, T0, "InvalidSignatureException", "does not match");
	free(s.authz);
	make_ecs(&s, "AKIDEXAMPLE", SECRET, "20150830T123600Z", "us-east-1");
	expect_fail(&s, T0, "InvalidSignatureException", "scoped to a valid region, not 'us-east-1'");
	free(s.authz);
}

static void test_verify_header_problems(void **state)
{
	static const struct {
		const char *authz;
		const char *type;
		const char *msg;
	} cases[] = {
		{ "", "MissingAuthenticationTokenException", "Missing Authentication Token" },
		{ "AWS4-HMAC-SHA1 Credential=AKIDEXAMPLE/20150830/local/ecs/aws4_request, SignedHeaders=host;x-amz-date, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "IncompleteSignatureException", "algorithm" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/ecs/aws4_request, SignedHeaders=host;x-amz-date",
		  "IncompleteSignatureException", "'Signature'" },
		{ "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "IncompleteSignatureException", "'Credential'" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/ecs/aws4_request, SignedHeaders=host, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "IncompleteSignatureException", "must be SignedHeaders" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/ecs/aws4_request, SignedHeaders=host;x-amz-date, "
		  "Signature=D2AEEA5C2781AFC5AB41EFBB9E3F3B1BEF1F2EE0E732171F4A7D3F5A6F4A6F82",
		  "IncompleteSignatureException", "'Signature'" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/ecs, SignedHeaders=host;x-amz-date, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "IncompleteSignatureException", "'Credential'" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/ecs/aws4_request/x, SignedHeaders=host;x-amz-date, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "IncompleteSignatureException", "'Credential'" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/local/ecs/aws4_request, SignedHeaders=host;x-amz-date, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "IncompleteSignatureException", "'Credential'" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/ecs/aws4_request, Credential=x, "
		  "SignedHeaders=host;x-amz-date, Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "IncompleteSignatureException", "repeated" },
		{ "AWS4-HMAC-SHA256 garbage", "IncompleteSignatureException", "key=value" },
		{ "AWS4-HMAC-SHA256 ", "IncompleteSignatureException", "'Credential'" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/ecs/aws4_request, SignedHeaders=;;, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "IncompleteSignatureException", "'SignedHeaders'" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/local/iam/aws4_request, SignedHeaders=host;x-amz-date, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "InvalidSignatureException", "correct service: 'ecs'" },
		{ "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150829/local/ecs/aws4_request, SignedHeaders=host;x-amz-date, "
		  "Signature=d2aeea5c2781afc5ab41efbb9e3f3b1bef1f2ee0e732171f4a7d3f5a6f4a6f82",
		  "InvalidSignatureException", "Date in Credential scope" },
	};
	struct signed_rq s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_ecs(&s, "AKIDEXAMPLE", SECRET, "20150830T123600Z", "local");
		s.h[4].value = cases[i].authz;
		expect_fail(&s, T0, cases[i].type, cases[i].msg);
		free(s.authz);
	}
	/* No Authorization header at all; no or bad X-Amz-Date. */
	make_ecs(&s, "AKIDEXAMPLE", SECRET, "20150830T123600Z", "local");
	s.rq.n_headers = 4;
	expect_fail(&s, T0, "MissingAuthenticationTokenException", "Missing Authentication Token");
	s.rq.n_headers = 5;
	s.h[1].name = "X-Not-Date";
	expect_fail(&s, T0, "IncompleteSignatureException", "X-Amz-Date");
	s.h[1] = (struct sigv4_kv){ "X-Amz-Date", "2015-08-30T12:36:00Z" };
	expect_fail(&s, T0, "IncompleteSignatureException", "ISO-8601");
	free(s.authz);
}

/* Any change to the signature is refused; random bytes never crash the parser. */
static void test_hostile_authorization(void **state)
{
	struct signed_rq s;
	char *copy, *junk;
	struct err e = ERR_INIT;
	struct sigv4_auth a;
	const char *p;
	unsigned seed = 12345;

	(void)state;
	make_ecs(&s, "AKIDEXAMPLE", SECRET, "20150830T123600Z", "local");
	copy = strdup(s.authz);
	s.h[4].value = copy;
	for (size_t i = strlen(copy) - 64; i < strlen(copy); i++) {
		char orig = copy[i];

		copy[i] = orig == '0' ? '1' : '0';
		assert_true(verify(&s, T0, &p, &e) < 0);
		copy[i] = orig;
	}
	assert_int_equal(verify(&s, T0, &p, &e), 0);
	/* Truncations of a valid header. */
	for (size_t n = 0; n < strlen(s.authz); n++) {
		copy[n] = '\0';
		assert_true(verify(&s, T0, &p, &e) < 0);
		strcpy(copy, s.authz);
	}
	free(copy);
	free(s.authz);

	junk = malloc(6000);
	assert_non_null(junk);
	for (int round = 0; round < 5000; round++) {
		size_t n = (size_t)(rand_r(&seed) % 300);
		const char *prefix = round % 2 ? "AWS4-HMAC-SHA256 " : "";
		size_t plen = strlen(prefix);

		memcpy(junk, prefix, plen);
		for (size_t i = 0; i < n; i++)
			junk[plen + i] = (char)(rand_r(&seed) % 255 + 1);
		junk[plen + n] = '\0';
		(void)sigv4_parse_authorization(junk, &a, &e);
	}
	memset(junk, 'A', 5999);
	junk[5999] = '\0';
	assert_int_equal(sigv4_parse_authorization(junk, &a, &e), -EINVAL);
	assert_string_equal(e.type, "IncompleteSignatureException");
	free(junk);
}

static void test_amz_date(void **state)
{
	static const char *bad[] = { "", "20150830", "20150830T123600", "20150830T123600z", "2015083XT123600Z",
				     "20151330T123600Z", "20150830T253600Z", "20150830T123600Z1", " 20150830T123600Z" };
	time_t t;

	(void)state;
	assert_int_equal(sigv4_parse_amz_date("20150830T123600Z", &t), 0);
	assert_int_equal(t, T0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sigv4_parse_amz_date(bad[i], &t) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_vanilla),
		cmocka_unit_test(test_suite_vectors),
		cmocka_unit_test(test_canonical_header_rules),
		cmocka_unit_test(test_iam_list_users),
		cmocka_unit_test(test_ecs_vector_and_verify),
		cmocka_unit_test(test_verify_refusals),
		cmocka_unit_test(test_verify_header_problems),
		cmocka_unit_test(test_hostile_authorization),
		cmocka_unit_test(test_amz_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
