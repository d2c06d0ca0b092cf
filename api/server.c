/* api/server.c - libmicrohttpd in our event loop: listeners, limits,
 * authentication, the JSON 1.1 envelope. */
#include "api/server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api/authz.h"
#include "api/keys.h"
#include "api/protocol.h"
#include "api/sigv4.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/config.h"
#include "lib/log.h"

#define MAX_HEADERS 100
#define LISTEN_BACKLOG 128

struct listener {
	struct api_server *srv;
	struct MHD_Daemon *mhd;
	int epfd;               /* MHD's epoll fd, watched by our loop; -1 when not */
	bool tcp;
};

struct request {
	char id[37];
	char *body;
	size_t len;
	bool too_big;
	bool answered;
	/* Kept from the first dispatch for a held request's later answer. */
	struct listener *lst;
	struct MHD_Connection *conn;
	cJSON *req;
	char action[API_MAX_ACTION + 1];
	const char *principal;          /* borrowed from the keys, or "root" */
	/* While held (suspended): in the server's list until woken or expired. */
	bool held, expired;
	char key[API_HOLD_KEY_MAX];
	uint64_t deadline_ms;
	struct request *prev, *next;
};

struct api_server {
	struct api_server_opts o;       /* strings borrowed: they outlive the server */
	struct listener lst[2];
	size_t n_lst;
	struct loop_timer *timer;
	bool socket_created;
	struct stat socket_st;          /* the socket file we bound */
	struct request *held;           /* suspended requests (long-poll) */
};

/* --- responses --- */

static enum MHD_Result respond(struct MHD_Connection *c, struct request *rq, unsigned status, char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	if (!body)
		return MHD_NO;          /* out of memory: drop the connection */
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, API_CONTENT_TYPE);
	MHD_add_response_header(resp, "x-amzn-RequestId", rq->id);
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	rq->answered = true;
	return r;
}

static enum MHD_Result respond_error(struct MHD_Connection *c, struct request *rq, const char *type,
				     const char *msg)
{
	unsigned status = api_error_status(type);

	if (status >= 500)
		log_error("request %s: %s: %s", rq->id, type, msg);
	else
		log_debug("request %s: %s: %s", rq->id, type, msg);
	return respond(c, rq, status, api_error_body(type, msg));
}

/* --- authentication --- */

static int peer_uid(struct MHD_Connection *c, uid_t *ret)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!ci)
		return -EBADF;
	if (getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*ret = cred.uid;
	return 0;
}

struct kv_vec {
	struct sigv4_kv *v;
	size_t n, cap;
};

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct kv_vec *vec = cls;

	(void)kind;
	if (vec->n == vec->cap)
		return MHD_NO;
	vec->v[vec->n++] = (struct sigv4_kv){ key, value ? value : "" };
	return MHD_YES;
}

static int collect(struct MHD_Connection *c, enum MHD_ValueKind kind, struct kv_vec *vec, struct sigv4_kv *buf)
{
	int n = MHD_get_connection_values(c, kind, NULL, NULL);

	if (n < 0 || n > MAX_HEADERS)
		return -E2BIG;
	*vec = (struct kv_vec){ buf, 0, MAX_HEADERS };
	MHD_get_connection_values(c, kind, collect_kv, vec);
	return 0;
}

static int check_sigv4(struct listener *l, struct MHD_Connection *c, struct request *rq, const char *url,
		       const char *method, const char **ret_principal, struct err *e)
{
	struct sigv4_kv hbuf[MAX_HEADERS], qbuf[MAX_HEADERS];
	struct kv_vec headers, query;
	_cleanup_free_ char *path = sigv4_uri_encode(url, true);  /* MHD hands us the path decoded */
	struct sigv4_verify_opts vo = {
		.region = l->srv->o.region,
		.service = "ecs",
		.now = time(NULL),
		.lookup = api_keys_lookup,
		.lookup_data = (void *)l->srv->o.keys,
	};
	struct sigv4_request sr;

	if (!path)
		return err_api(e, "ServerException", "out of memory");
	if (collect(c, MHD_HEADER_KIND, &headers, hbuf) < 0 || collect(c, MHD_GET_ARGUMENT_KIND, &query, qbuf) < 0)
		return err_api(e, "IncompleteSignatureException", "Too many headers or query parameters.");
	sr = (struct sigv4_request){
		.method = method, .path = path,
		.query = query.v, .n_query = query.n,
		.headers = headers.v, .n_headers = headers.n,
		.body = rq->body, .body_len = rq->len,
	};
	return sigv4_verify(&sr, &vo, ret_principal, e);
}

/* --- the request --- */

/* The body must be exactly one JSON object, with nothing but whitespace
 * after it; an empty body means {}.  NULL otherwise. */
static cJSON *parse_body(const struct request *rq)
{
	cJSON *j;

	if (rq->len == 0)
		return cJSON_CreateObject();
	j = json_parse_strict(rq->body, rq->len);
	if (j && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void unlink_held(struct api_server *s, struct request *rq)
{
	if (!rq->held)
		return;
	if (rq->prev)
		rq->prev->next = rq->next;
	else
		s->held = rq->next;
	if (rq->next)
		rq->next->prev = rq->prev;
	rq->prev = rq->next = NULL;
	rq->held = false;
}

/* Suspends the connection until api_server_wake(KEY) or the deadline. */
static enum MHD_Result hold(struct listener *l, struct MHD_Connection *c, struct request *rq,
			    const struct api_hold *h)
{
	struct api_server *s = l->srv;

	snprintf(rq->key, sizeof(rq->key), "%s", h->key);
	rq->deadline_ms = mono_ms() + 1000 * (uint64_t)h->wait_sec;
	rq->held = true;
	rq->next = s->held;
	if (s->held)
		s->held->prev = rq;
	s->held = rq;
	MHD_suspend_connection(c);
	return MHD_YES;
}

/* Resumes a held request: MHD calls on_request again, which answers it. */
static void release(struct api_server *s, struct request *rq, bool expired)
{
	unlink_held(s, rq);
	rq->expired = expired;
	MHD_resume_connection(rq->conn);
}

void api_server_wake(struct api_server *s, const char *key)
{
	struct request *rq = s ? s->held : NULL, *next;

	for (; rq; rq = next) {
		next = rq->next;
		if (strcmp(rq->key, key) == 0)
			release(s, rq, false);
	}
}

static void expire_held(struct api_server *s)
{
	uint64_t now = mono_ms();
	struct request *rq, *next;

	for (rq = s->held; rq; rq = next) {
		next = rq->next;
		if (rq->deadline_ms <= now)
			release(s, rq, true);
	}
}

/* Runs the action of a parsed, authorized request (again, for a held one). */
static enum MHD_Result answer(struct listener *l, struct MHD_Connection *c, struct request *rq)
{
	_cleanup_(cJSON_Deletep) cJSON *resp = NULL;
	struct api_hold h = { 0 };
	struct err e = ERR_INIT;
	int r;

	r = l->srv->o.handler(l->srv->o.handler_data, rq->action, rq->req, rq->principal,
			      rq->expired ? NULL : &h, &resp, &e);
	if (r == API_HOLD)
		return hold(l, c, rq, &h);
	if (r < 0)
		return respond_error(c, rq, e.type ? e.type : "ServerException", e.msg);
	return respond(c, rq, 200, resp ? cJSON_PrintUnformatted(resp) : strdup("{}"));
}

static int authorize(struct listener *l, const char *principal, const char *action, struct err *e)
{
	enum api_role role = API_ROLE_ROOT;

	if (l->tcp && api_keys_role(l->srv->o.keys, principal, &role) < 0)
		return err_api(e, "AccessDeniedException", "Unknown principal.");
	return api_authorize(role, principal, action, e);
}

static enum MHD_Result dispatch(struct listener *l, struct MHD_Connection *c, struct request *rq,
				const char *url, const char *method)
{
	const char *principal = "root", *target;
	enum api_service svc;
	struct err e = ERR_INIT;
	int r;

	if (rq->req)
		return answer(l, c, rq);        /* a held request's second turn */
	if (rq->too_big)
		return respond_error(c, rq, "RequestEntityTooLargeException",
				     "Request body is larger than the limit of 1048576 bytes.");
	if (l->tcp && check_sigv4(l, c, rq, url, method, &principal, &e) < 0)
		return respond_error(c, rq, e.type ? e.type : "ServerException", e.msg);
	if (strcmp(method, "POST") != 0 || strcmp(url, "/") != 0)
		return respond_error(c, rq, "UnknownOperationException",
				     "Only POST / with an X-Amz-Target header is served.");
	/* AWS picks the protocol by Content-Type, so a request that is not JSON
	 * 1.1 names no operation it knows: UnknownOperationException, HTTP 400
	 * (what JSON 1.1 services such as Kinesis answer a client that sends
	 * application/octet-stream).  Only 1.1, ECS's protocol; parameters are
	 * ignored, as Smithy's awsJson1_1 server tests require. */
	if (!api_content_type_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return respond_error(c, rq, "UnknownOperationException",
				     "The request Content-Type must be " API_CONTENT_TYPE ".");
	target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
	r = api_parse_target(target, &svc, rq->action);
	if (r < 0)
		return respond_error(c, rq, "UnknownOperationException",
				     !target ? "Missing X-Amz-Target header." :
				     r == -ENOENT ? "Unknown service in X-Amz-Target." :
				     "Malformed X-Amz-Target header.");
	if (authorize(l, principal, rq->action, &e) < 0)
		return respond_error(c, rq, e.type, e.msg);
	rq->req = parse_body(rq);
	if (!rq->req)
		return respond_error(c, rq, "SerializationException",
				     "The request body is not a single JSON object.");
	log_debug("request %s: %s by '%s'", rq->id, rq->action, principal);
	rq->lst = l;
	rq->conn = c;
	rq->principal = principal;
	return answer(l, c, rq);
}

static enum MHD_Result first_call(struct listener *l, struct MHD_Connection *c, struct request *rq)
{
	const char *clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uid_t uid = (uid_t)-1;
	char msg[160];

	if (!l->tcp) {
		int r = peer_uid(c, &uid);

		if (r < 0 || uid != 0) {
			snprintf(msg, sizeof(msg),
				 "The berth API socket serves root only; the caller runs as uid %d.", r < 0 ? -1 : (int)uid);
			return respond_error(c, rq, "AccessDeniedException", msg);
		}
	}
	/* Refuse a declared oversized body before reading it. */
	if (clen && strtoull(clen, NULL, 10) > API_MAX_BODY)
		return respond_error(c, rq, "RequestEntityTooLargeException",
				     "Request body is larger than the limit of 1048576 bytes.");
	return MHD_YES;
}

static void append_body(struct request *rq, const char *data, size_t size)
{
	char *nb;

	if (rq->too_big || rq->len + size > API_MAX_BODY) {
		rq->too_big = true;     /* keep reading (and dropping) to answer 413 */
		return;
	}
	nb = realloc(rq->body, rq->len + size + 1);
	if (!nb) {
		rq->too_big = true;
		return;
	}
	memcpy(nb + rq->len, data, size);
	rq->len += size;
	nb[rq->len] = '\0';
	rq->body = nb;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	struct request *rq = *con_cls;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		if (api_request_id(rq->id) < 0)
			strcpy(rq->id, "00000000-0000-0000-0000-000000000000");
		*con_cls = rq;
		return first_call(l, c, rq);
	}
	if (*upload_size) {
		if (!rq->answered)
			append_body(rq, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	return dispatch(l, c, rq, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)code;
	if (rq) {
		if (rq->lst)
			unlink_held(rq->lst->srv, rq);
		cJSON_Delete(rq->req);
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

/* --- loop integration --- */

static unsigned open_connections(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return i ? i->num_connections : 0;
}

/* MHD frees closed connections at the end of a run but re-arms a listener
 * that was at its connection cap only at the start of the next one: run
 * again when connections went away, or a waiting client is never accepted. */
static void run_mhd(struct MHD_Daemon *d)
{
	unsigned before = open_connections(d);

	MHD_run(d);
	if (open_connections(d) < before)
		MHD_run(d);
}

static void on_mhd_ready(struct loop *lp, int fd, uint32_t events, void *data)
{
	struct listener *l = data;

	(void)lp;
	(void)fd;
	(void)events;
	run_mhd(l->mhd);
}

static void on_mhd_timer(struct loop *lp, struct loop_timer *t, void *data)
{
	struct api_server *s = data;

	(void)lp;
	(void)t;
	expire_held(s);
	for (size_t i = 0; i < s->n_lst; i++)
		run_mhd(s->lst[i].mhd);
}

/* Before every sleep: arm the timer for MHD's nearest connection timeout
 * (none while no connection is open, so an idle daemon never wakes). */
static void on_prepare(struct loop *lp, void *data)
{
	struct api_server *s = data;
	uint64_t best = UINT64_MAX;

	(void)lp;
	for (size_t i = 0; i < s->n_lst; i++) {
		MHD_UNSIGNED_LONG_LONG ms;

		if (MHD_get_timeout(s->lst[i].mhd, &ms) == MHD_YES && ms < best)
			best = ms;
	}
	/* And the nearest deadline of a held request. */
	if (s->held) {
		uint64_t now = mono_ms();

		for (struct request *rq = s->held; rq; rq = rq->next) {
			uint64_t left = rq->deadline_ms > now ? rq->deadline_ms - now : 0;

			if (left < best)
				best = left;
		}
	}
	if (best == UINT64_MAX)
		(void)loop_timer_arm(s->timer, 0, 0);
	else
		(void)loop_timer_arm(s->timer, best ? best * 1000 : 1, 0);
}

/* --- listeners --- */

/* Replaces a stale socket, refuses one a live daemon answers on, and never
 * removes anything that is not a socket (a typo in BERTH_API_SOCKET must not
 * cost a file). */
static int clear_stale_socket(const struct sockaddr_un *sa, struct err *e)
{
	_cleanup_close_ int probe = -1;
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, -errno, "API socket path '%s'", sa->sun_path);
	}
	if (!S_ISSOCK(st.st_mode))
		return err_setx(e, -EEXIST, "API socket path '%s' exists and is not a socket", sa->sun_path);
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return err_set(e, -errno, "socket");
	if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return err_setx(e, -EADDRINUSE, "API socket '%s' is in use by another process", sa->sun_path);
	if (errno == ENOENT)
		return 0;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return err_set(e, -errno, "remove stale API socket '%s'", sa->sun_path);
	return 0;
}

/* Binds PATH; *RET_ST identifies the socket file it made, so that only that
 * file is removed at shutdown. */
static int listen_unix(const char *path, int *ret_fd, struct stat *ret_st, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_setx(e, -ENAMETOOLONG, "API socket path '%s' is too long", path);
	strcpy(sa.sun_path, path);
	r = clear_stale_socket(&sa, e);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, -errno, "socket");
	/* Born 0600: no window in which others could connect. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return err_set(e, -errno, "bind API socket '%s'", path);
	if (lstat(path, ret_st) < 0 || chmod(path, 0600) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		unlink(path);
		return err_set(e, r, "listen on API socket '%s'", path);
	}
	*ret_fd = take_fd(&fd);
	return 0;
}

/* Removes the socket file at PATH only if it is still the one we bound. */
static void remove_own_socket(const char *path, const struct stat *own)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == own->st_dev &&
	    st.st_ino == own->st_ino)
		unlink(path);
}

static int listen_tcp(const char *addr, int *ret_fd, struct err *e)
{
	struct sockaddr_storage ss;
	_cleanup_close_ int fd = -1;
	socklen_t len;
	int one = 1;

	if (config_parse_listen(addr, &ss, &len) < 0)
		return err_setx(e, -EINVAL, "invalid API listen address '%s'", addr);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, -errno, "socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return err_set(e, -errno, "bind API address %s", addr);
	if (listen(fd, LISTEN_BACKLOG) < 0)
		return err_set(e, -errno, "listen on API address %s", addr);
	*ret_fd = take_fd(&fd);
	return 0;
}

static int start_listener(struct api_server *s, int fd, bool tcp, struct err *e)
{
	struct listener *l = &s->lst[s->n_lst];
	const union MHD_DaemonInfo *info;
	int r;

	*l = (struct listener){ .srv = s, .epfd = -1, .tcp = tcp };
	l->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0,
				  NULL, NULL, on_request, l,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections,
				  MHD_OPTION_CONNECTION_TIMEOUT, s->o.connection_timeout_sec,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				  MHD_OPTION_END);
	if (!l->mhd) {
		close(fd);
		return err_setx(e, -EIO, "start the HTTP server on the %s listener", tcp ? "TCP" : "unix");
	}
	s->n_lst++;     /* from here MHD owns FD and api_server_free stops it */
	info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return err_setx(e, -EIO, "HTTP server has no epoll fd");
	r = loop_add_fd(s->o.loop, info->epoll_fd, EPOLLIN, on_mhd_ready, l);
	if (r < 0)
		return err_set(e, r, "watch the HTTP server");
	l->epfd = info->epoll_fd;
	return 0;
}

int api_server_start(const struct api_server_opts *o, struct api_server **ret, struct err *e)
{
	struct api_server *s;
	int fd = -1, r;

	if (o->tcp_listen && api_keys_count(o->keys) == 0)
		return err_setx(e, -EINVAL, "a TCP listener needs access keys (BERTH_ACCESS_KEYS)");
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, -ENOMEM, "API server");
	s->o = *o;
	r = loop_timer_new(o->loop, on_mhd_timer, s, &s->timer);
	if (r < 0) {
		free(s);
		return err_set(e, r, "API timer");
	}
	r = listen_unix(o->unix_path, &fd, &s->socket_st, e);
	if (r >= 0) {
		s->socket_created = true;
		r = start_listener(s, fd, false, e);
	}
	if (r >= 0 && o->tcp_listen) {
		r = listen_tcp(o->tcp_listen, &fd, e);
		if (r >= 0)
			r = start_listener(s, fd, true, e);
	}
	if (r < 0) {
		api_server_free(s);
		return r;
	}
	loop_set_prepare(o->loop, on_prepare, s);
	*ret = s;
	return 0;
}

struct api_server *api_server_free(struct api_server *s)
{
	if (!s)
		return NULL;
	loop_set_prepare(s->o.loop, NULL, NULL);
	/* MHD must not be stopped with suspended connections: resume them;
	 * stopping then closes them unanswered (the agent polls again). */
	while (s->held)
		release(s, s->held, true);
	for (size_t i = 0; i < s->n_lst; i++) {
		if (s->lst[i].epfd >= 0)
			loop_del_fd(s->o.loop, s->lst[i].epfd);
		/* Closes the listening socket and every open connection. */
		MHD_stop_daemon(s->lst[i].mhd);
	}
	if (s->socket_created)
		remove_own_socket(s->o.unix_path, &s->socket_st);
	loop_timer_free(s->timer);
	free(s);
	return NULL;
}
