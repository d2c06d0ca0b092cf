/* bench/api_load.c - load generator for the ECS API on the unix socket.
 *
 *   api_load SOCKET ACTION BODY_FILE CLIENTS REQUESTS
 *
 * CLIENTS threads each keep one HTTP/1.1 keep-alive connection and send
 * their share of REQUESTS pre-built requests back to back, timing each one.
 * Prints one line: action, clients, requests, errors, seconds, req/s,
 * p50/p90/p99/max latency in ms.  This measures the server, not process
 * spawning; it is bench code, so responses are parsed only as far as the
 * status line and Content-Length.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct worker {
	pthread_t thread;
	const char *socket_path;
	const char *req;
	size_t req_len;
	int count;
	double *lat;     /* seconds, one per request */
	int errors;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one response; returns its status or -1.  *closed: server will close. */
static int read_response(int fd, char *buf, size_t size, int *closed)
{
	size_t have = 0, body_len, need;
	char *end = NULL, *cl;
	int status;

	while (!end) {
		ssize_t n = read(fd, buf + have, size - 1 - have);

		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end && have >= size - 1)
			return -1;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	cl = strcasestr(buf, "\r\ncontent-length:");
	if (!cl || cl > end)
		return -1;
	body_len = strtoul(cl + 17, NULL, 10);
	*closed = strcasestr(buf, "\r\nconnection: close") != NULL;
	need = (size_t)(end + 4 - buf) + body_len;
	while (have < need) {
		char drain[65536];
		ssize_t n = read(fd, drain, sizeof(drain) < need - have ? sizeof(drain) : need - have);

		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return status;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	static __thread char buf[1 << 16];
	int fd = -1;

	for (int i = 0; i < w->count; i++) {
		double t0 = now();
		int closed = 0, status;

		if (fd < 0)
			fd = connect_unix(w->socket_path);
		if (fd < 0 || write_all(fd, w->req, w->req_len) < 0 ||
		    (status = read_response(fd, buf, sizeof(buf), &closed)) < 0) {
			w->errors++;
			if (fd >= 0)
				close(fd);
			fd = -1;
			w->lat[i] = now() - t0;
			continue;
		}
		if (status != 200)
			w->errors++;
		w->lat[i] = now() - t0;
		if (closed) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static char *build_request(const char *action, const char *body_file, size_t *ret_len)
{
	FILE *f = fopen(body_file, "r");
	char *body = NULL, *req = NULL;
	size_t blen = 0;
	int n;

	if (!f)
		return NULL;
	body = malloc(1 << 20);
	if (body)
		blen = fread(body, 1, (1 << 20) - 1, f);
	fclose(f);
	if (!body)
		return NULL;
	while (blen && (body[blen - 1] == '\n' || body[blen - 1] == ' '))
		blen--;
	body[blen] = '\0';
	n = asprintf(&req,
		     "POST / HTTP/1.1\r\nHost: localhost\r\n"
		     "Content-Type: application/x-amz-json-1.1\r\n"
		     "X-Amz-Target: AmazonEC2ContainerServiceV20141113.%s\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     action, blen, body);
	free(body);
	if (n < 0)
		return NULL;
	*ret_len = (size_t)n;
	return req;
}

int main(int argc, char **argv)
{
	struct worker *w;
	double *all, t0, secs;
	int clients, total, errors = 0, k = 0;
	size_t req_len;
	char *req;

	if (argc != 6) {
		fprintf(stderr, "usage: %s SOCKET ACTION BODY_FILE CLIENTS REQUESTS\n", argv[0]);
		return 2;
	}
	clients = atoi(argv[4]);
	total = atoi(argv[5]);
	if (clients < 1 || total < clients)
		return 2;
	req = build_request(argv[2], argv[3], &req_len);
	w = calloc((size_t)clients, sizeof(*w));
	all = calloc((size_t)total, sizeof(*all));
	if (!req || !w || !all) {
		perror("setup");
		return 1;
	}
	for (int i = 0; i < clients; i++) {
		w[i] = (struct worker){ .socket_path = argv[1], .req = req, .req_len = req_len,
					.count = total / clients + (i < total % clients) };
		w[i].lat = all + k;
		k += w[i].count;
	}
	t0 = now();
	for (int i = 0; i < clients; i++)
		pthread_create(&w[i].thread, NULL, run, &w[i]);
	for (int i = 0; i < clients; i++) {
		pthread_join(w[i].thread, NULL);
		errors += w[i].errors;
	}
	secs = now() - t0;
	qsort(all, (size_t)total, sizeof(*all), cmp_double);
	printf("%-24s clients=%-2d requests=%-6d errors=%-4d %7.2fs %9.1f req/s  "
	       "p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n",
	       argv[2], clients, total, errors, secs, total / secs, all[total / 2] * 1e3,
	       all[total * 9 / 10] * 1e3, all[total * 99 / 100] * 1e3, all[total - 1] * 1e3);
	free(all);
	free(w);
	free(req);
	return errors ? 1 : 0;
}
