/* api/sigv4.c - AWS Signature Version 4: canonicalise, sign, verify. */
#include "api/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "lib/cleanup.h"

#define MAX_AUTH_LEN 4096
#define MAX_SIGNED_HEADERS 64

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data ? data : (const void *)"", len, md);
	hex_encode(md, sizeof(md), hex);
}

static void hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &n);
}

void sigv4_signing_key(const char *secret, const char *date, const char *region, const char *service,
		       unsigned char key[32])
{
	size_t slen = strlen(secret);
	_cleanup_free_ char *k0 = malloc(slen + 5);
	unsigned char a[32], b[32];

	if (!k0) {
		memset(key, 0, 32);     /* an all-zero key matches no signature */
		return;
	}
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, slen + 1);
	hmac(k0, slen + 4, date, a);
	hmac(a, 32, region, b);
	hmac(b, 32, service, a);
	hmac(a, 32, "aws4_request", key);
	OPENSSL_cleanse(k0, slen + 4);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
}

void sigv4_signature(const unsigned char key[32], const char *string_to_sign, char hex[65])
{
	unsigned char mac[32];

	hmac(key, 32, string_to_sign, mac);
	hex_encode(mac, sizeof(mac), hex);
}

/* --- canonical request --- */

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void uri_encode(FILE *f, const char *s, bool keep_slash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (unreserved(*p) || (keep_slash && *p == '/'))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
}

char *sigv4_uri_encode(const char *s, bool keep_slash)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	uri_encode(f, s, keep_slash);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

struct enc_pair {
	char *k, *v;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct enc_pair *x = a, *y = b;
	int r = strcmp(x->k, y->k);

	return r ? r : strcmp(x->v, y->v);
}

static int write_query(FILE *f, const struct sigv4_request *rq)
{
	struct enc_pair *pairs;
	int r = 0;

	if (rq->n_query == 0)
		return 0;
	pairs = calloc(rq->n_query, sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	for (size_t i = 0; i < rq->n_query; i++) {
		pairs[i].k = sigv4_uri_encode(rq->query[i].name, false);
		pairs[i].v = sigv4_uri_encode(rq->query[i].value ? rq->query[i].value : "", false);
		if (!pairs[i].k || !pairs[i].v)
			r = -ENOMEM;
	}
	if (r == 0) {
		qsort(pairs, rq->n_query, sizeof(*pairs), cmp_pair);
		for (size_t i = 0; i < rq->n_query; i++)
			fprintf(f, "%s%s=%s", i ? "&" : "", pairs[i].k, pairs[i].v);
	}
	for (size_t i = 0; i < rq->n_query; i++) {
		free(pairs[i].k);
		free(pairs[i].v);
	}
	free(pairs);
	return r;
}

/* Trimmed, with inner runs of spaces collapsed to one. */
static void write_header_value(FILE *f, const char *v)
{
	bool pending_space = false, started = false;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			pending_space = started;
			continue;
		}
		if (pending_space)
			fputc(' ', f);
		fputc(*v, f);
		pending_space = false;
		started = true;
	}
}

/* Writes "name:v1,v2\n" for one signed header; -ENOENT if it is absent. */
static int write_header(FILE *f, const struct sigv4_request *rq, const char *name, size_t nlen)
{
	bool found = false;

	for (size_t i = 0; i < rq->n_headers; i++) {
		const struct sigv4_kv *h = &rq->headers[i];

		if (strlen(h->name) != nlen || strncasecmp(h->name, name, nlen) != 0)
			continue;
		if (!found)
			fprintf(f, "%.*s:", (int)nlen, name);
		else
			fputc(',', f);
		write_header_value(f, h->value ? h->value : "");
		found = true;
	}
	if (!found)
		return -ENOENT;
	fputc('\n', f);
	return 0;
}

int sigv4_canonical_request(const struct sigv4_request *rq, const char *signed_headers, char **ret)
{
	char *buf = NULL, hash[65];
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -ENOMEM;
	fprintf(f, "%s\n", rq->method);
	/* The path as sent is encoded once more (all services but S3). */
	uri_encode(f, rq->path && *rq->path ? rq->path : "/", true);
	fputc('\n', f);
	r = write_query(f, rq);
	fputc('\n', f);
	for (const char *p = signed_headers; r == 0 && *p;) {
		size_t n = strcspn(p, ";");

		r = write_header(f, rq, p, n);
		p += n;
		if (*p == ';')
			p++;
	}
	sigv4_sha256_hex(rq->body, rq->body_len, hash);
	fprintf(f, "\n%s\n%s", signed_headers, hash);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

int sigv4_string_to_sign(const char *amz_date, const char *scope, const char *canonical, char **ret)
{
	char hash[65];

	sigv4_sha256_hex(canonical, strlen(canonical), hash);
	if (asprintf(ret, SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash) < 0)
		return -ENOMEM;
	return 0;
}

/* --- the Authorization header --- */

static bool all_chars(const char *s, size_t n, const char *extra, bool upper)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(islower(c) || isdigit(c) || (upper && isupper(c)) || strchr(extra, c)))
			return false;
	}
	return true;
}

/* Copies N bytes of S into DST[SIZE]; false if it does not fit or N is 0. */
static bool copy_field(char *dst, size_t size, const char *s, size_t n)
{
	if (n == 0 || n >= size)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* "AKID/20150830/us-east-1/ecs/aws4_request" */
static bool parse_credential(const char *s, size_t n, struct sigv4_auth *a)
{
	const char *parts[5];
	size_t lens[5], k = 0, start = 0;

	for (size_t i = 0; i <= n && k < 5; i++)
		if (i == n || s[i] == '/') {
			parts[k] = s + start;
			lens[k++] = i - start;
			start = i + 1;
			if (i == n)
				break;
		}
	if (k != 5 || start <= n)
		return false;
	return copy_field(a->access_key_id, sizeof(a->access_key_id), parts[0], lens[0]) &&
	       all_chars(parts[0], lens[0], "", true) &&
	       lens[1] == 8 && strspn(parts[1], "0123456789") >= 8 &&
	       copy_field(a->date, sizeof(a->date), parts[1], lens[1]) &&
	       copy_field(a->region, sizeof(a->region), parts[2], lens[2]) &&
	       all_chars(parts[2], lens[2], "-", false) &&
	       copy_field(a->service, sizeof(a->service), parts[3], lens[3]) &&
	       all_chars(parts[3], lens[3], "-", false) &&
	       lens[4] == 12 && strncmp(parts[4], "aws4_request", 12) == 0;
}

static bool parse_signed_headers(const char *s, size_t n, struct sigv4_auth *a)
{
	if (!copy_field(a->signed_headers, sizeof(a->signed_headers), s, n) ||
	    !all_chars(s, n, "-;", false) || s[0] == ';' || s[n - 1] == ';' || strstr(a->signed_headers, ";;"))
		return false;
	return true;
}

static bool parse_signature(const char *s, size_t n, struct sigv4_auth *a)
{
	return n == 64 && all_chars(s, n, "", false) && strspn(s, "0123456789abcdef") >= 64 &&
	       copy_field(a->signature, sizeof(a->signature), s, n);
}

int sigv4_parse_authorization(const char *value, struct sigv4_auth *ret, struct err *e)
{
	static const char *const names[] = { "Credential", "SignedHeaders", "Signature" };
	bool seen[3] = { false, false, false };
	const char *p = value;
	size_t alg = strlen(SIGV4_ALGORITHM);

	memset(ret, 0, sizeof(*ret));
	if (strnlen(value, MAX_AUTH_LEN + 1) > MAX_AUTH_LEN)
		return err_api(e, "IncompleteSignatureException", "Authorization header is too long.");
	if (strncmp(p, SIGV4_ALGORITHM, alg) != 0 || p[alg] != ' ')
		return err_api(e, "IncompleteSignatureException",
			       "Authorization header requires the '" SIGV4_ALGORITHM "' algorithm.");
	p += alg;
	while (*p) {
		size_t n, klen;
		const char *eq;
		int k;
		bool ok;

		p += strspn(p, " ,");
		if (!*p)
			break;
		n = strcspn(p, ",");
		while (n && p[n - 1] == ' ')
			n--;
		eq = memchr(p, '=', n);
		if (!eq)
			return err_api(e, "IncompleteSignatureException",
				       "Authorization header: '%.*s' is not a key=value pair.", (int)(n > 64 ? 64 : n), p);
		klen = (size_t)(eq - p);
		for (k = 0; k < 3; k++)
			if (strlen(names[k]) == klen && strncmp(p, names[k], klen) == 0)
				break;
		if (k == 3 || seen[k])
			return err_api(e, "IncompleteSignatureException",
				       "Authorization header: unexpected or repeated parameter '%.*s'.",
				       (int)(klen > 64 ? 64 : klen), p);
		seen[k] = true;
		n -= klen + 1;
		ok = k == 0 ? parse_credential(eq + 1, n, ret) :
		     k == 1 ? parse_signed_headers(eq + 1, n, ret) : parse_signature(eq + 1, n, ret);
		if (!ok)
			return err_api(e, "IncompleteSignatureException", "Authorization header: malformed '%s'.",
				       names[k]);
		p = eq + 1 + n;
	}
	for (int k = 0; k < 3; k++)
		if (!seen[k])
			return err_api(e, "IncompleteSignatureException",
				       "Authorization header requires '%s' parameter.", names[k]);
	return 0;
}

/* --- verification --- */

int sigv4_parse_amz_date(const char *s, time_t *ret)
{
	struct tm tm = { 0 };
	const char *end;
	time_t t;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || strspn(s, "0123456789") != 8 ||
	    strspn(s + 9, "0123456789") != 6)
		return -EINVAL;
	end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
	if (!end || *end)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = t;
	return 0;
}

static void format_amz_date(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static const char *find_header(const struct sigv4_request *rq, const char *name)
{
	for (size_t i = 0; i < rq->n_headers; i++)
		if (strcasecmp(rq->headers[i].name, name) == 0)
			return rq->headers[i].value;
	return NULL;
}

static bool signed_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ";");

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

static int check_time(time_t signed_at, const char *amz_date, time_t now, struct err *e)
{
	char now_s[17], limit_s[17];

	format_amz_date(now, now_s);
	if (now - signed_at > SIGV4_MAX_SKEW_SEC) {
		format_amz_date(now - SIGV4_MAX_SKEW_SEC, limit_s);
		return err_api(e, "InvalidSignatureException",
			       "Signature expired: %s is now earlier than %s (%s - 5 min.)", amz_date, limit_s, now_s);
	}
	if (signed_at - now > SIGV4_MAX_SKEW_SEC) {
		format_amz_date(now + SIGV4_MAX_SKEW_SEC, limit_s);
		return err_api(e, "InvalidSignatureException",
			       "Signature not yet current: %s is still later than %s (%s + 5 min.)", amz_date,
			       limit_s, now_s);
	}
	return 0;
}

static int check_scope(const struct sigv4_auth *a, const char *amz_date, const struct sigv4_verify_opts *o,
		       struct err *e)
{
	if (strncmp(a->date, amz_date, 8) != 0)
		return err_api(e, "InvalidSignatureException",
			       "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%.8s', from '%s'.",
			       a->date, amz_date, amz_date);
	if (strcmp(a->service, o->service) != 0)
		return err_api(e, "InvalidSignatureException",
			       "Credential should be scoped to correct service: '%s'.", o->service);
	if (strcmp(a->region, o->region) != 0)
		return err_api(e, "InvalidSignatureException",
			       "Credential should be scoped to a valid region, not '%s'.", a->region);
	return 0;
}

int sigv4_verify(const struct sigv4_request *rq, const struct sigv4_verify_opts *o,
		 const char **ret_principal, struct err *e)
{
	_cleanup_free_ char *canonical = NULL, *sts = NULL, *scope = NULL;
	const char *authz = find_header(rq, "authorization");
	const char *amz_date = find_header(rq, "x-amz-date");
	const char *secret, *principal = NULL;
	struct sigv4_auth a;
	unsigned char key[32];
	char sig[65];
	time_t signed_at;
	int r;

	if (!authz || !*authz)
		return err_api(e, "MissingAuthenticationTokenException", "Missing Authentication Token");
	r = sigv4_parse_authorization(authz, &a, e);
	if (r < 0)
		return r;
	if (!amz_date)
		return err_api(e, "IncompleteSignatureException",
			       "Authorization header requires existence of a 'X-Amz-Date' header.");
	if (sigv4_parse_amz_date(amz_date, &signed_at) < 0)
		return err_api(e, "IncompleteSignatureException",
			       "X-Amz-Date must be in ISO-8601 'basic format', e.g. 20150830T123600Z.");
	if (!signed_list_has(a.signed_headers, "host") || !signed_list_has(a.signed_headers, "x-amz-date"))
		return err_api(e, "IncompleteSignatureException",
			       "'Host' and 'X-Amz-Date' must be SignedHeaders in the AWS Authorization.");
	r = check_scope(&a, amz_date, o, e);
	if (r < 0)
		return r;
	secret = o->lookup(o->lookup_data, a.access_key_id, &principal);
	if (!secret)
		return err_api(e, "UnrecognizedClientException", "The security token included in the request is invalid.");
	r = check_time(signed_at, amz_date, o->now, e);
	if (r < 0)
		return r;
	r = sigv4_canonical_request(rq, a.signed_headers, &canonical);
	if (r == -ENOENT)
		return err_api(e, "InvalidSignatureException",
			       "A header listed in SignedHeaders is missing from the request.");
	if (r < 0)
		return err_set(e, r, "canonical request");
	if (asprintf(&scope, "%s/%s/%s/aws4_request", a.date, a.region, a.service) < 0 ||
	    sigv4_string_to_sign(amz_date, scope, canonical, &sts) < 0)
		return err_set(e, -ENOMEM, "string to sign");
	sigv4_signing_key(secret, a.date, a.region, a.service, key);
	sigv4_signature(key, sts, sig);
	OPENSSL_cleanse(key, sizeof(key));
	if (CRYPTO_memcmp(sig, a.signature, 64) != 0)
		return err_api(e, "InvalidSignatureException",
			       "The request signature we calculated does not match the signature you provided. "
			       "Check your AWS Secret Access Key and signing method. "
			       "Consult the service documentation for details.");
	*ret_principal = principal;
	return 0;
}

int sigv4_sign(const struct sigv4_request *rq, const char *access_key_id, const char *secret,
	       const char *region, const char *service, const char *signed_headers, char **ret)
{
	_cleanup_free_ char *canonical = NULL, *sts = NULL, *scope = NULL;
	const char *amz_date = find_header(rq, "x-amz-date");
	unsigned char key[32];
	char sig[65], date[9];
	int r;

	if (!amz_date || strlen(amz_date) < 8)
		return -EINVAL;
	r = sigv4_canonical_request(rq, signed_headers, &canonical);
	if (r < 0)
		return r;
	if (asprintf(&scope, "%.8s/%s/%s/aws4_request", amz_date, region, service) < 0)
		return -ENOMEM;
	r = sigv4_string_to_sign(amz_date, scope, canonical, &sts);
	if (r < 0)
		return r;
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	sigv4_signing_key(secret, date, region, service, key);
	sigv4_signature(key, sts, sig);
	OPENSSL_cleanse(key, sizeof(key));
	if (asprintf(ret, SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s", access_key_id,
		     scope, signed_headers, sig) < 0)
		return -ENOMEM;
	return 0;
}
