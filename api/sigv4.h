/* api/sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256), as pure functions.
 *
 * Server side: sigv4_verify() checks one request against a key lookup and a
 * clock value; it never reads the clock or any file itself.  The steps
 * (canonical request, string to sign, signing key, signature) are exported
 * for the unit tests and for clients that sign.  Failures set e->type to the
 * AWS exception name (MissingAuthenticationTokenException,
 * IncompleteSignatureException, InvalidSignatureException,
 * UnrecognizedClientException) and e->msg to AWS's wording.
 *
 * Canonicalisation follows AWS's rules for every service but S3: the path
 * is URI-encoded once more as sent (no dot-segment normalisation: ECS only
 * uses "/"), query parameters are encoded and sorted, signed headers are
 * lower-cased, their values trimmed with inner runs of spaces collapsed and
 * duplicates joined with ','; the payload hash is always computed from the
 * body received, never taken from a header.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/err.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_MAX_SKEW_SEC 300

struct sigv4_kv {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;
	const char *path;               /* as sent on the wire (percent-encoded) */
	const struct sigv4_kv *query;   /* decoded parameters, any order */
	size_t n_query;
	const struct sigv4_kv *headers; /* as received: any case, duplicates kept */
	size_t n_headers;
	const void *body;
	size_t body_len;
};

/* A parsed Authorization header. */
struct sigv4_auth {
	char access_key_id[129];
	char date[9];                   /* YYYYMMDD of the credential scope */
	char region[65];
	char service[65];
	char signed_headers[1025];      /* "host;x-amz-date", lower case */
	char signature[65];             /* 64 lower-case hex digits */
};

/* Parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
 * -EINVAL with IncompleteSignatureException if anything is missing or malformed. */
int sigv4_parse_authorization(const char *value, struct sigv4_auth *ret, struct err *e);

/* The canonical request for SIGNED_HEADERS (';'-separated, lower case).
 * *ret is malloc'd.  -ENOENT if a signed header is absent, -ENOMEM. */
int sigv4_canonical_request(const struct sigv4_request *rq, const char *signed_headers, char **ret);
/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical>"; *ret malloc'd. */
int sigv4_string_to_sign(const char *amz_date, const char *scope, const char *canonical, char **ret);
/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"). */
void sigv4_signing_key(const char *secret, const char *date, const char *region, const char *service,
		       unsigned char key[32]);
/* Lower-case hex HMAC-SHA256(key, string_to_sign). */
void sigv4_signature(const unsigned char key[32], const char *string_to_sign, char hex[65]);
/* Hex SHA-256 of LEN bytes. */
void sigv4_sha256_hex(const void *data, size_t len, char hex[65]);

/* AWS URI encoding: all but A-Z a-z 0-9 - _ . ~ (and '/' if KEEP_SLASH)
 * become %XX.  Returns a malloc'd string, NULL on ENOMEM. */
char *sigv4_uri_encode(const char *s, bool keep_slash);

/* Parses "YYYYMMDDTHHMMSSZ"; -EINVAL. */
int sigv4_parse_amz_date(const char *s, time_t *ret);

/* Signs RQ (which must carry the host and x-amz-date headers named in
 * SIGNED_HEADERS) and returns the Authorization value in *ret (malloc'd). */
int sigv4_sign(const struct sigv4_request *rq, const char *access_key_id, const char *secret,
	       const char *region, const char *service, const char *signed_headers, char **ret);

/* Returns the secret of ACCESS_KEY_ID (and its principal), or NULL if unknown. */
typedef const char *sigv4_lookup_fn(void *data, const char *access_key_id, const char **ret_principal);

struct sigv4_verify_opts {
	const char *region;             /* the credential scope must name it */
	const char *service;            /* "ecs" */
	time_t now;
	sigv4_lookup_fn *lookup;
	void *lookup_data;
};

/* 0 and *ret_principal (borrowed from the lookup) when RQ is signed by a
 * known key, within SIGV4_MAX_SKEW_SEC of NOW; else negative with e->type set. */
int sigv4_verify(const struct sigv4_request *rq, const struct sigv4_verify_opts *o,
		 const char **ret_principal, struct err *e);
