/* cli/client.h - one ECS JSON 1.1 request over libcurl.
 *
 * The endpoint is the daemon's unix socket ("unix:///run/berth/api.sock",
 * peer-credential auth, nothing signed) or "http://host:port" (SigV4-signed
 * with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

#define ECS_TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."

enum endpoint_kind { EP_UNIX, EP_HTTP };

struct endpoint {
	enum endpoint_kind kind;
	char socket_path[108];  /* EP_UNIX */
	char url[512];          /* the URL curl requests ("http://localhost/" for the socket) */
	char host[256];         /* the Host header value ("127.0.0.1:8080") */
};

/* Parses "unix:///path", "unix:/path", "/path" or "http://host[:port][/]".
 * -EINVAL for anything else (https is not spoken: the API is local). */
int endpoint_parse(const char *s, struct endpoint *ret);

/* The endpoint used without --endpoint: $BERTH_ENDPOINT, else the unix
 * socket the daemon uses ($BERTH_API_SOCKET, else BERTH_API_SOCKET or
 * BERTH_RUN_DIR from /etc/berth/berth.conf, else /run/berth/api.sock). */
const char *endpoint_default(void);

struct client_req {
	const struct endpoint *ep;
	const char *action;     /* "CreateCluster" */
	const char *body;       /* JSON text */
	const char *region;     /* for signing */
	bool debug;             /* trace request and response on stderr */
};

struct client_resp {
	long status;            /* HTTP status */
	char *body;             /* malloc'd, NUL-terminated; may be empty */
	size_t len;
};

/* Sends the request and waits for the whole answer.  Fails (negative) only
 * when there is no HTTP answer; any status is returned in *ret. */
int client_call(const struct client_req *req, struct client_resp *ret, struct err *e);
void client_resp_release(struct client_resp *r);
/* libcurl's write callback appending to the struct client_resp USERDATA
 * (body kept NUL-terminated, at most 64 MiB): for callers that drive their
 * own curl handles. */
size_t client_on_body(char *data, size_t size, size_t n, void *userdata);

/* Splits an error body into the exception name (the part of "__type" after
 * '#' and before ':', or the HTTP status when the body is not an ECS error)
 * and message.  Pure; outputs are truncated to their sizes. */
void client_error_parse(long status, const char *body, char *type, size_t type_size,
			char *msg, size_t msg_size);
