/* cli/sign.h - SigV4 headers for a request to an http:// endpoint, with the
 * credentials of the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * optional AWS_SESSION_TOKEN).  The signing itself is api/sigv4's. */
#pragma once

#include "lib/err.h"

struct sign_headers {
	char amz_date[17];          /* 20150830T123600Z */
	char authorization[512];
	char security_token[2048];  /* empty unless AWS_SESSION_TOKEN is set */
};

/* Signs POST / to HOST with X-Amz-Target TARGET and BODY for service "ecs"
 * in REGION (NULL: $AWS_REGION, $AWS_DEFAULT_REGION, else "local"). */
int sign_request(const char *host, const char *target, const char *body, const char *region,
		 struct sign_headers *ret, struct err *e);
