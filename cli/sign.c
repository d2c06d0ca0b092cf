/* cli/sign.c - SigV4 for the CLI's http:// requests, via api/sigv4. */
#include "cli/sign.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/sigv4.h"
#include "lib/cleanup.h"

#define SIGNED_HEADERS "content-type;host;x-amz-date;x-amz-target"
#define SIGNED_HEADERS_TOKEN "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"

static const char *env_or(const char *a, const char *b, const char *dflt)
{
	const char *s = getenv(a);

	if (s && *s)
		return s;
	s = b ? getenv(b) : NULL;
	return s && *s ? s : dflt;
}

int sign_request(const char *host, const char *target, const char *body, const char *region,
		 struct sign_headers *ret, struct err *e)
{
	const char *akid = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	_cleanup_free_ char *auth = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (!akid || !*akid || !secret || !*secret)
		return err_setx(e, -ENOKEY,
				"Unable to locate credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
				" (or use the unix socket endpoint)");
	if (!region)
		region = env_or("AWS_REGION", "AWS_DEFAULT_REGION", "local");
	if (token && *token && strlen(token) >= sizeof(ret->security_token))
		return err_setx(e, -E2BIG, "AWS_SESSION_TOKEN is too long");
	if (!gmtime_r(&now, &tm) || !strftime(ret->amz_date, sizeof(ret->amz_date),
					      "%Y%m%dT%H%M%SZ", &tm))
		return err_setx(e, -EINVAL, "cannot format the request date");

	const struct sigv4_kv headers[] = {
		{ "content-type", "application/x-amz-json-1.1" },
		{ "host", host },
		{ "x-amz-date", ret->amz_date },
		{ "x-amz-target", target },
		{ "x-amz-security-token", token ? token : "" },
	};
	const bool with_token = token && *token;
	const struct sigv4_request rq = {
		.method = "POST",
		.path = "/",
		.headers = headers,
		.n_headers = ARRAY_SIZE(headers) - (with_token ? 0 : 1),
		.body = body,
		.body_len = strlen(body),
	};

	r = sigv4_sign(&rq, akid, secret, region, "ecs",
		       with_token ? SIGNED_HEADERS_TOKEN : SIGNED_HEADERS, &auth);
	if (r < 0)
		return err_set(e, r, "sign the request");
	if (strlen(auth) >= sizeof(ret->authorization))
		return err_setx(e, -E2BIG, "the Authorization header is too long");
	strcpy(ret->authorization, auth);
	snprintf(ret->security_token, sizeof(ret->security_token), "%s", with_token ? token : "");
	return 0;
}
