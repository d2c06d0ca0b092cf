/* agent/link_http.h - the remote link's signed requests (libcurl, api/sigv4). */
#pragma once

#include <stddef.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli/client.h"
#include "lib/err.h"

struct http_peer {
	const char *url;             /* "http://host:port/" */
	const char *host;            /* the Host header: "host:port" */
	const char *access_key_id, *secret, *region;
};

/* One request: its easy handle (CURLOPT_PRIVATE = the xfer), headers, body
 * and the answer as it arrives. */
struct http_xfer {
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	struct client_resp resp;
	char action[64];
};

/* A signed POST of REQ as X-Amz-Target ACTION.  -ENOMEM / -errno. */
int http_xfer_init(struct http_xfer *x, const struct http_peer *p, const char *action,
		   const cJSON *req, long timeout_sec);
void http_xfer_release(struct http_xfer *x);
/* After the transfer: 0 with the answer in *RET; -EAGAIN when worth
 * retrying (no answer, 5xx, throttled); -EPERM when the control plane
 * refused it (the ECS exception and message in E). */
int http_xfer_result(struct http_xfer *x, CURLcode cc, const char *url, cJSON **ret,
		     struct err *e);
/* Blocking: init, perform, result, release. */
int http_call(const struct http_peer *p, const char *action, const cJSON *req, long timeout_sec,
	      cJSON **ret, struct err *e);
