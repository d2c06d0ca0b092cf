/* api/server.h - the ECS JSON 1.1 API over HTTP (libmicrohttpd), driven by
 * the daemon's event loop.
 *
 * Two listeners: the unix socket (mode 0600, peer uid must be 0: root is
 * the administrator, principal "root") and, optionally, TCP where every
 * request carries SigV4 checked against the access keys.  Each MHD daemon
 * runs without threads in epoll mode: its epoll fd sits in our loop and its
 * timeout arms one timerfd, so an idle daemon sleeps in epoll_wait.
 *
 * The server calls HANDLER for each authenticated request; the daemon
 * passes control_call().  Responses carry Content-Type
 * application/x-amz-json-1.1 and x-amzn-RequestId; errors are
 * {"__type", "message"} with api_error_status().
 *
 * Authorization (api/authz.h): root over the unix socket may call every
 * action; over TCP the key's role decides (agent keys: the agent actions
 * only; user keys: all the others).
 */
#pragma once

#include <cjson/cJSON.h>

#include "lib/err.h"
#include "lib/loop.h"

struct api_keys;
struct api_server;

#define API_HOLD 1
#define API_HOLD_KEY_MAX 520

/* A request the handler chose to hold (long-poll). */
struct api_hold {
	char key[API_HOLD_KEY_MAX];  /* api_server_wake(KEY) answers it */
	unsigned wait_sec;           /* else it is answered after this long */
};

/* As control_call(): on success *ret_resp is a new object; on failure
 * e->type names the ECS exception (NULL means ServerException).  With HOLD
 * non-NULL the handler may instead return API_HOLD with *HOLD filled: the
 * connection is suspended and the handler called again with the same
 * request when KEY is woken (HOLD non-NULL) or WAIT_SEC passed (HOLD NULL:
 * answer now). */
typedef int api_handler_fn(void *data, const char *action, const cJSON *req, const char *principal,
			   struct api_hold *hold, cJSON **ret_resp, struct err *e);

struct api_server_opts {
	struct loop *loop;
	const char *unix_path;          /* created (stale socket replaced), removed on free */
	const char *tcp_listen;         /* "ADDR:PORT" or NULL */
	const struct api_keys *keys;    /* required with tcp_listen */
	const char *region;             /* SigV4 credential scope */
	unsigned max_connections;       /* per listener */
	unsigned connection_timeout_sec;
	api_handler_fn *handler;
	void *handler_data;
};

int api_server_start(const struct api_server_opts *o, struct api_server **ret, struct err *e);
/* Answers the held requests waiting for KEY (they run the handler again). */
void api_server_wake(struct api_server *s, const char *key);
/* Closes listeners and connections (held ones too), removes the socket.
 * Accepts NULL. */
struct api_server *api_server_free(struct api_server *s);
