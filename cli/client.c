/* cli/client.c - ECS requests over libcurl (see client.h). */
#include "cli/client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sign.h"
#include "lib/cleanup.h"
#include "lib/config.h"

#define RESP_MAX (64u << 20)
#define DEFAULT_SOCKET "/run/berth/api.sock"
#define CLI_CONFIG_PATH "/etc/berth/berth.conf"

extern char **environ;

int endpoint_parse(const char *s, struct endpoint *ret)
{
	struct endpoint ep = { 0 };
	const char *path = NULL, *host, *end;
	size_t hlen;

	if (strncmp(s, "unix://", 7) == 0)
		path = s + 7;
	else if (strncmp(s, "unix:", 5) == 0)
		path = s + 5;
	else if (s[0] == '/')
		path = s;
	if (path) {
		if (path[0] != '/' || strlen(path) >= sizeof(ep.socket_path))
			return -EINVAL;
		ep.kind = EP_UNIX;
		strcpy(ep.socket_path, path);
		strcpy(ep.url, "http://localhost/");
		strcpy(ep.host, "localhost");
		*ret = ep;
		return 0;
	}
	if (strncmp(s, "http://", 7) != 0)
		return -EINVAL;
	host = s + 7;
	end = host + strcspn(host, "/?#");
	hlen = (size_t)(end - host);
	/* only "/" may follow: the ECS API lives at the root */
	if (hlen == 0 || hlen >= sizeof(ep.host) || (*end && strcmp(end, "/") != 0) ||
	    memchr(host, '@', hlen))
		return -EINVAL;
	ep.kind = EP_HTTP;
	memcpy(ep.host, host, hlen);
	snprintf(ep.url, sizeof(ep.url), "http://%s/", ep.host);
	*ret = ep;
	return 0;
}

/* The socket the daemon would use: berth.conf and the environment, as the
 * daemon reads them (so BERTH_RUN_DIR moves both). */
static const char *configured_socket(void)
{
	static char path[108];
	struct config cfg;
	struct err e = ERR_INIT;

	if (path[0])
		return path;
	if (config_load(&cfg, CLI_CONFIG_PATH, false, environ, &e) < 0)
		return DEFAULT_SOCKET;
	if (cfg.val[CFG_API_SOCKET] && strlen(cfg.val[CFG_API_SOCKET]) < sizeof(path))
		strcpy(path, cfg.val[CFG_API_SOCKET]);
	config_release(&cfg);
	return path[0] ? path : DEFAULT_SOCKET;
}

const char *endpoint_default(void)
{
	const char *s = getenv("BERTH_ENDPOINT");

	if (s && *s)
		return s;
	s = getenv("BERTH_API_SOCKET");
	return s && *s ? s : configured_socket();
}

size_t client_on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct client_resp *r = userdata;
	size_t len = size * n;
	char *b;

	if (r->len + len > RESP_MAX)
		return 0;
	b = realloc(r->body, r->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, data, len);
	r->len += len;
	b[r->len] = '\0';
	r->body = b;
	return len;
}

static void curl_easy_cleanupp(CURL **c)
{
	if (*c)
		curl_easy_cleanup(*c);
}

static void curl_slist_free_allp(struct curl_slist **l)
{
	curl_slist_free_all(*l);
}

static int add_header(struct curl_slist **list, const char *fmt, const char *val)
{
	char line[4096];
	struct curl_slist *l;

	if (snprintf(line, sizeof(line), fmt, val) >= (int)sizeof(line))
		return -E2BIG;
	l = curl_slist_append(*list, line);
	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

static int build_headers(const struct client_req *req, struct curl_slist **list, struct err *e)
{
	char target[128];
	struct sign_headers sh;
	int r;

	snprintf(target, sizeof(target), ECS_TARGET_PREFIX "%s", req->action);
	r = add_header(list, "Content-Type: %s", "application/x-amz-json-1.1");
	if (r >= 0)
		r = add_header(list, "X-Amz-Target: %s", target);
	if (r >= 0)
		r = add_header(list, "Expect:%s", "");
	if (r < 0)
		return err_set(e, r, "build request headers");
	if (req->ep->kind != EP_HTTP)
		return 0;
	r = sign_request(req->ep->host, target, req->body, req->region, &sh, e);
	if (r < 0)
		return r;
	r = add_header(list, "Host: %s", req->ep->host);
	if (r >= 0)
		r = add_header(list, "X-Amz-Date: %s", sh.amz_date);
	if (r >= 0)
		r = add_header(list, "Authorization: %s", sh.authorization);
	if (r >= 0 && sh.security_token[0])
		r = add_header(list, "X-Amz-Security-Token: %s", sh.security_token);
	if (r < 0)
		return err_set(e, r, "build request headers");
	return 0;
}

int client_call(const struct client_req *req, struct client_resp *ret, struct err *e)
{
	_cleanup_(curl_easy_cleanupp) CURL *c = curl_easy_init();
	_cleanup_(curl_slist_free_allp) struct curl_slist *hdrs = NULL;
	struct client_resp resp = { 0 };
	CURLcode cr;
	int r;

	if (!c)
		return err_setx(e, -ENOMEM, "curl_easy_init failed");
	r = build_headers(req, &hdrs, e);
	if (r < 0)
		return r;
	if (req->ep->kind == EP_UNIX)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, req->ep->socket_path);
	curl_easy_setopt(c, CURLOPT_URL, req->ep->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req->body));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "berth-cli");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, client_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_VERBOSE, req->debug ? 1L : 0L);
	cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		free(resp.body);
		return err_setx(e, -EIO, "Could not connect to the endpoint URL: \"%s\": %s",
				req->ep->kind == EP_UNIX ? req->ep->socket_path : req->ep->url,
				curl_easy_strerror(cr));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
	if (!resp.body) {
		resp.body = strdup("");
		if (!resp.body)
			return err_set(e, -ENOMEM, "read response");
	}
	if (req->debug)
		fprintf(stderr, "berth: debug: HTTP %ld, body: %s\n", resp.status, resp.body);
	*ret = resp;
	return 0;
}

void client_resp_release(struct client_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static void copy_trunc(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The exception name inside a __type such as "com.amazonaws.ecs#ClientException:http://..." */
static void exception_name(const char *t, char *type, size_t type_size)
{
	const char *hash = strchr(t, '#');

	if (hash)
		t = hash + 1;
	copy_trunc(type, type_size, t, strcspn(t, ":"));
}

void client_error_parse(long status, const char *body, char *type, size_t type_size,
			char *msg, size_t msg_size)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(j, "Message");
	if (cJSON_IsString(t) && t->valuestring[0])
		exception_name(t->valuestring, type, type_size);
	else
		snprintf(type, type_size, "%ld", status);
	if (cJSON_IsString(m))
		copy_trunc(msg, msg_size, m->valuestring, strlen(m->valuestring));
	else
		copy_trunc(msg, msg_size, body, strcspn(body, "\n"));
	cJSON_Delete(j);
}
