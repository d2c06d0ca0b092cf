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
 */
#pragma once

#include <cjson/cJSON.h>

#include "lib/err.h"
#include "lib/loop.h"

struct api_keys;
struct api_server;

/* As control_call(): on success *ret_resp is a new object; on failure
 * e->type names the ECS exception (NULL means ServerException). */
typedef int api_handler_fn(void *data, const char *action, const cJSON *req, const char *principal,
			   cJSON **ret_resp, struct err *e);

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
/* Closes listeners and connections, removes the socket.  Accepts NULL. */
struct api_server *api_server_free(struct api_server *s);
