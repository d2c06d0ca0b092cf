/* runtime/shim_ctl.c - shim.sock: newline-delimited JSON requests from the
 * agent (status, stop, watch; runtime/shim.h).  Client input never crashes
 * the shim: a malformed or oversized line closes that connection, a
 * client that does not read its answers is dropped. */
#include "runtime/shim_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/json.h"

#define LINE_MAX_BYTES 4096
#define OUT_MAX (1u << 20)
#define CLIENTS_MAX 64

struct shim_client {
	struct shim_client *next;
	struct shim *shim;
	int fd;
	bool watch;
	bool closing;       /* close once the output is out */
	char in[LINE_MAX_BYTES];
	size_t in_len;
	struct sbuf out;
	size_t out_off;
};

static void client_free(struct shim *s, struct shim_client *cl)
{
	for (struct shim_client **p = &s->clients; *p; p = &(*p)->next)
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	(void)loop_del_fd(s->loop, cl->fd);
	close(cl->fd);
	sb_release(&cl->out);
	free(cl);
}

/* Writes what it can; false when the client is gone or was dropped. */
static bool client_flush(struct shim_client *cl)
{
	struct shim *s = cl->shim;

	while (cl->out_off < cl->out.len) {
		ssize_t n = send(cl->fd, cl->out.buf + cl->out_off, cl->out.len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (cl->out.len - cl->out_off > OUT_MAX)
				break; /* too slow: dropped below */
			(void)loop_mod_fd(s->loop, cl->fd, EPOLLIN | EPOLLOUT);
			return true;
		}
		if (n <= 0)
			break;
		cl->out_off += (size_t)n;
	}
	if (cl->out_off < cl->out.len || cl->closing) {
		client_free(s, cl);
		return false;
	}
	cl->out.len = cl->out_off = 0;
	(void)loop_mod_fd(s->loop, cl->fd, EPOLLIN);
	return true;
}

static void send_status(struct shim_client *cl)
{
	shim_status_json(cl->shim, &cl->out);
	sb_puts(&cl->out, "\n");
}

/* Handles one request line; false closes the connection. */
static bool handle_line(struct shim_client *cl, const char *line, size_t len)
{
	_cleanup_(cJSON_Deletep) cJSON *req = json_parse_strict(line, len);
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");

	if (!cJSON_IsObject(req) || !cJSON_IsString(op))
		return false;
	if (strcmp(op->valuestring, "status") == 0) {
		send_status(cl);
	} else if (strcmp(op->valuestring, "watch") == 0) {
		cl->watch = true;
		send_status(cl);
	} else if (strcmp(op->valuestring, "stop") == 0) {
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(req, "reason");
		char buf[1025];

		if (reason && !cJSON_IsString(reason) && !cJSON_IsNull(reason))
			return false;
		/* ECS: a reason is at most 1024 characters (cut, not refused). */
		snprintf(buf, sizeof(buf), "%s",
			 cJSON_IsString(reason) ? reason->valuestring : "Task stopped by user");
		sb_puts(&cl->out, "{\"ok\":true}\n");
		shim_task_stop(cl->shim, "UserInitiated", buf);
		shim_schedule(cl->shim);
	} else {
		char msg[160];

		snprintf(msg, sizeof(msg), "unknown op '%.128s'", op->valuestring);
		sb_puts(&cl->out, "{\"ok\":false,\"error\":");
		sb_json_str(&cl->out, msg, strlen(msg));
		sb_puts(&cl->out, "}\n");
	}
	return true;
}

static void on_client(struct loop *l, int fd, uint32_t events, void *data)
{
	struct shim_client *cl = data;
	ssize_t n;

	(void)l;
	(void)fd;
	if ((events & EPOLLOUT) && !client_flush(cl))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl->shim, cl);
		return;
	}
	cl->in_len += (size_t)n;
	for (;;) {
		char *nl = memchr(cl->in, '\n', cl->in_len);
		size_t used;

		if (!nl) {
			if (cl->in_len == sizeof(cl->in)) {
				client_free(cl->shim, cl); /* a line longer than we take */
				return;
			}
			break;
		}
		used = (size_t)(nl - cl->in) + 1;
		if (!handle_line(cl, cl->in, used - 1)) {
			client_free(cl->shim, cl);
			return;
		}
		memmove(cl->in, cl->in + used, cl->in_len - used);
		cl->in_len -= used;
	}
	(void)client_flush(cl);
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *data)
{
	struct shim *s = data;
	struct shim_client *cl;
	size_t n = 0;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (cl = s->clients; cl; cl = cl->next)
		n++;
	cl = n < CLIENTS_MAX ? calloc(1, sizeof(*cl)) : NULL;
	if (!cl) {
		close(cfd);
		return;
	}
	cl->shim = s;
	cl->fd = cfd;
	if (loop_add_fd(l, cfd, EPOLLIN, on_client, cl) < 0) {
		close(cfd);
		free(cl);
		return;
	}
	cl->next = s->clients;
	s->clients = cl;
}

int shim_ctl_listen(struct shim *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "shim.sock" };
	mode_t old;
	int fd, r;

	/* Relative to the task directory, our working directory: any length
	 * of task dir works. */
	(void)unlink("shim.sock");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = loop_add_fd(s->loop, fd, EPOLLIN, on_accept, s);
	if (r < 0) {
		close(fd);
		(void)unlink("shim.sock");
		return r;
	}
	s->listen_fd = fd;
	return 0;
}

void shim_ctl_notify(struct shim *s)
{
	struct shim_client *cl = s->clients, *next;

	for (; cl; cl = next) {
		next = cl->next;
		if (!cl->watch)
			continue;
		send_status(cl);
		if (s->finished)
			cl->closing = true; /* the last line: the task is STOPPED */
		(void)client_flush(cl);
	}
}

void shim_ctl_close_all(struct shim *s)
{
	while (s->clients) {
		struct shim_client *cl = s->clients;

		/* A last try for what is still queued; blocking is not ours to do. */
		(void)send(cl->fd, cl->out.buf + cl->out_off, cl->out.len - cl->out_off,
			   MSG_NOSIGNAL | MSG_DONTWAIT);
		client_free(s, cl);
	}
	if (s->listen_fd >= 0) {
		(void)loop_del_fd(s->loop, s->listen_fd);
		close(s->listen_fd);
		s->listen_fd = -1;
		(void)unlink("shim.sock");
	}
}
