/* agent/link_http.c - one signed ECS JSON 1.1 request of the remote link,
 * as a curl easy handle (run blocking, or driven by the loop through a
 * multi handle: link_remote.c). */
#include "agent/link_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/sigv4.h"
#include "lib/cleanup.h"

#define SIGNED_HEADERS "content-type;host;x-amz-date;x-amz-target"

static int add_header(struct curl_slist **list, const char *name, const char *val)
{
	_cleanup_free_ char *line = NULL;
	struct curl_slist *l;

	if (asprintf(&line, "%s: %s", name, val) < 0)
		return -ENOMEM;
	l = curl_slist_append(*list, line);
	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/* The SigV4 headers of a POST / of BODY to HOST, with the agent's key. */
static int sign(const struct http_peer *p, const char *target, const char *body,
		struct curl_slist **hdrs)
{
	_cleanup_free_ char *auth = NULL;
	char date[17];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (!gmtime_r(&now, &tm) || !strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm))
		return -EINVAL;

	const struct sigv4_kv headers[] = {
		{ "content-type", "application/x-amz-json-1.1" },
		{ "host", p->host },
		{ "x-amz-date", date },
		{ "x-amz-target", target },
	};
	const struct sigv4_request rq = {
		.method = "POST", .path = "/", .headers = headers, .n_headers = ARRAY_SIZE(headers),
		.body = body, .body_len = strlen(body),
	};

	r = sigv4_sign(&rq, p->access_key_id, p->secret, p->region, "ecs", SIGNED_HEADERS, &auth);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(headers); i++)
		r = add_header(hdrs, i == 0 ? "Content-Type" : i == 1 ? "Host" : i == 2 ? "X-Amz-Date"
					 : "X-Amz-Target", headers[i].value);
	if (r >= 0)
		r = add_header(hdrs, "Authorization", auth);
	if (r >= 0)
		r = add_header(hdrs, "Expect", "");
	return r < 0 ? r : 0;
}

int http_xfer_init(struct http_xfer *x, const struct http_peer *p, const char *action,
		   const cJSON *req, long timeout_sec)
{
	char target[128];
	int r;

	memset(x, 0, sizeof(*x));
	snprintf(target, sizeof(target), ECS_TARGET_PREFIX "%s", action);
	x->body = cJSON_PrintUnformatted(req);
	x->easy = curl_easy_init();
	if (!x->body || !x->easy) {
		http_xfer_release(x);
		return -ENOMEM;
	}
	r = sign(p, target, x->body, &x->hdrs);
	if (r < 0) {
		http_xfer_release(x);
		return r;
	}
	curl_easy_setopt(x->easy, CURLOPT_URL, p->url);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "berth-agent");
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, client_on_body);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, &x->resp);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, timeout_sec);
	snprintf(x->action, sizeof(x->action), "%s", action);
	return 0;
}

void http_xfer_release(struct http_xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	free(x->body);
	free(x->resp.body);
	memset(x, 0, sizeof(*x));
}

int http_xfer_result(struct http_xfer *x, CURLcode cc, const char *url, cJSON **ret,
		     struct err *e)
{
	char type[128], msg[512];
	long status = 0;

	if (cc != CURLE_OK)
		return err_setx(e, -EAGAIN, "%s: cannot reach the control plane at %s: %s", x->action,
				url, curl_easy_strerror(cc));
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200) {
		*ret = cJSON_Parse(x->resp.body ? x->resp.body : "");
		if (!cJSON_IsObject(*ret)) {
			cJSON_Delete(*ret);
			*ret = NULL;
			return err_setx(e, -EAGAIN, "%s: the control plane's answer is not a JSON object",
					x->action);
		}
		return 0;
	}
	client_error_parse(status, x->resp.body ? x->resp.body : "", type, sizeof(type), msg, sizeof(msg));
	/* The control plane's own trouble passes; a refusal would repeat. */
	if (status >= 500 || status == 429 || strcmp(type, "ThrottlingException") == 0)
		return err_setx(e, -EAGAIN, "%s: HTTP %ld %s: %s", x->action, status, type, msg);
	return err_setx(e, -EPERM, "%s: %s: %s", x->action, type, msg);
}

int http_call(const struct http_peer *p, const char *action, const cJSON *req, long timeout_sec,
	      cJSON **ret, struct err *e)
{
	struct http_xfer x;
	CURLcode cc;
	int r = http_xfer_init(&x, p, action, req, timeout_sec);

	if (r < 0)
		return err_set(e, r, "%s: build the request", action);
	cc = curl_easy_perform(x.easy);
	r = http_xfer_result(&x, cc, p->url, ret, e);
	http_xfer_release(&x);
	return r;
}
