/* bench/tasks_load.c - task start latency and throughput over the API's
 * unix socket, one HTTP/1.1 keep-alive connection (bench/tasks drives it).
 *
 *   tasks_load SOCKET latency N FAMILY
 *	N times, one at a time: RunTask, poll DescribeTasks until RUNNING,
 *	StopTask, poll until STOPPED.  Prints p50/p99/max of
 *	  server: startedAt - createdAt (createdAt: RunTask accepted, ms
 *	          precision; startedAt: the shim saw the container exec'd)
 *	  client: RunTask sent -> a DescribeTasks answer saying RUNNING
 *	  stop:   StopTask sent -> STOPPED seen
 *   tasks_load SOCKET burst N FAMILY ARNFILE
 *	RunTask N tasks back to back (count 10 per call), wait until all are
 *	RUNNING; prints tasks started per second; leaves them running, their
 *	ARNs in ARNFILE.
 *   tasks_load SOCKET burst N FAMILY ARNFILE probe
 *	The same, while a second connection sends DescribeClusters back to
 *	back: its latency p50/p99/max during the burst (the API's
 *	responsiveness while the agent starts tasks).
 *   tasks_load SOCKET probe SECONDS
 *	DescribeClusters back to back for SECONDS (the idle baseline).
 *   tasks_load SOCKET stop ARNFILE
 *	StopTask each, wait until all are STOPPED.
 *
 * Bench code: the polling interval is 0.5 ms, so "client" figures carry up
 * to that much on top.  Never part of the tests.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#define POLL_NSEC 500000L
#define TIMEOUT_SEC 60.0
#define MAX_TASKS 10000

static int fd = -1;
static const char *sock_path;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = { 0, POLL_NSEC };

	nanosleep(&ts, NULL);
}

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "tasks_load: %s\n", what);
	exit(1);
}

static void connect_unix(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
}

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

/* One request, one response: the parsed body (the caller frees it). */
static cJSON *call(const char *action, const char *body)
{
	static char buf[1 << 22];
	char head[512];
	size_t have = 0, need;
	char *end = NULL, *cl;
	int status, n, closed;
	cJSON *j;

	if (fd < 0)
		connect_unix();
	n = snprintf(head, sizeof(head),
		     "POST / HTTP/1.1\r\nHost: localhost\r\n"
		     "Content-Type: application/x-amz-json-1.1\r\n"
		     "X-Amz-Target: AmazonEC2ContainerServiceV20141113.%s\r\n"
		     "Content-Length: %zu\r\n\r\n", action, strlen(body));
	write_all(head, (size_t)n);
	write_all(body, strlen(body));
	while (!end) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (r <= 0)
			die("read");
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		die("bad status line");
	cl = strcasestr(buf, "\r\ncontent-length:");
	if (!cl || cl > end)
		die("no content-length");
	closed = strcasestr(buf, "\r\nconnection: close") != NULL;
	need = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
	if (need >= sizeof(buf))
		die("response too large");
	while (have < need) {
		ssize_t r = read(fd, buf + have, need - have);

		if (r <= 0)
			die("read");
		have += (size_t)r;
	}
	buf[need] = '\0';
	if (closed) {
		close(fd);
		fd = -1;
	}
	if (status != 200) {
		fprintf(stderr, "tasks_load: %s: HTTP %d: %s\n", action, status, end + 4);
		exit(1);
	}
	j = cJSON_Parse(end + 4);
	if (!j)
		die("unparsable response");
	return j;
}

static const char *sget(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double nget(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* RunTask COUNT of FAMILY: ARNs appended to ARNS. */
static int run_task(const char *family, int count, char **arns)
{
	char body[512];
	cJSON *r, *t;
	int n = 0;

	snprintf(body, sizeof(body), "{\"taskDefinition\":\"%s\",\"count\":%d}", family, count);
	r = call("RunTask", body);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "failures")) > 0)
		die("RunTask reported failures");
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r, "tasks"))
		arns[n++] = strdup(sget(t, "taskArn"));
	cJSON_Delete(r);
	return n;
}

/* DescribeTasks of up to 100 ARNs; the answer's tasks array. */
static cJSON *describe(char **arns, int n)
{
	size_t size = 64 + (size_t)n * 200, len;
	char *body = malloc(size);
	cJSON *r;

	len = (size_t)snprintf(body, size, "{\"tasks\":[");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, size - len, "%s\"%s\"", i ? "," : "", arns[i]);
	snprintf(body + len, size - len, "]}");
	r = call("DescribeTasks", body);
	free(body);
	return r;
}

static void stop_task(const char *arn)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"task\":\"%s\",\"reason\":\"bench\"}", arn);
	cJSON_Delete(call("StopTask", body));
}

/* Polls until all N tasks reached STATUS (RUNNING or STOPPED); a task
 * that stops while RUNNING is wanted is a failure.  Fills STAMP_DIFF
 * (startedAt - createdAt, ms) when not NULL. */
static void wait_all(char **arns, int n, const char *status, double *stamp_diff)
{
	double t0 = mono();

	for (int off = 0; off < n;) {
		int chunk = n - off > 100 ? 100 : n - off, done = 0;
		cJSON *r = describe(arns + off, chunk), *t;

		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r, "tasks")) {
			const char *ls = sget(t, "lastStatus");

			if (strcmp(status, "RUNNING") == 0 && strcmp(ls, "STOPPED") == 0) {
				fprintf(stderr, "tasks_load: %s stopped: %s\n", sget(t, "taskArn"),
					sget(t, "stoppedReason") ? sget(t, "stoppedReason") : "?");
				exit(1);
			}
			if (strcmp(ls, status) == 0 || strcmp(ls, "STOPPED") == 0)
				done++;
		}
		if (done == chunk) {
			int i = 0;

			cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r, "tasks"))
				if (stamp_diff)
					stamp_diff[off + i++] = (nget(t, "startedAt") - nget(t, "createdAt")) * 1e3;
			off += chunk;
		} else {
			nap();
		}
		cJSON_Delete(r);
		if (mono() - t0 > TIMEOUT_SEC)
			die("timed out waiting for the tasks");
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_dist(const char *name, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	printf("%-46s p50 %7.2f  p99 %7.2f  max %7.2f ms\n", name, v[n / 2],
	       v[(int)((n - 1) * 0.99)], v[n - 1]);
}

static int latency(int n, const char *family)
{
	double *server = calloc((size_t)n, sizeof(double));
	double *client = calloc((size_t)n, sizeof(double));
	double *stop = calloc((size_t)n, sizeof(double));
	double t_all = mono();

	for (int i = 0; i < n; i++) {
		char *arn;
		double t0 = mono();

		run_task(family, 1, &arn);
		wait_all(&arn, 1, "RUNNING", &server[i]);
		client[i] = (mono() - t0) * 1e3;
		t0 = mono();
		stop_task(arn);
		wait_all(&arn, 1, "STOPPED", NULL);
		stop[i] = (mono() - t0) * 1e3;
		free(arn);
	}
	t_all = mono() - t_all;
	printf("%d tasks one at a time (run, RUNNING, stop, STOPPED) in %.1f s\n", n, t_all);
	print_dist("RunTask->RUNNING (startedAt - createdAt)", server, n);
	print_dist("RunTask->RUNNING (client, seen in Describe)", client, n);
	print_dist("StopTask->STOPPED (client)", stop, n);
	return 0;
}

#define PROBE_MAX 200000

/* DescribeClusters back to back on a connection of its own until STOP_FD
 * is readable (or SECONDS pass, if > 0); prints the latency distribution. */
static void probe_loop(const char *what, int stop_fd, double seconds)
{
	double *v = calloc(PROBE_MAX, sizeof(double)), t_end = mono() + seconds;
	int n = 0;

	if (fd >= 0)
		close(fd);
	fd = -1;
	while (n < PROBE_MAX) {
		struct pollfd p = { .fd = stop_fd, .events = POLLIN };
		double t0 = mono();

		cJSON_Delete(call("DescribeClusters", "{}"));
		v[n++] = (mono() - t0) * 1e3;
		if (seconds > 0 ? mono() >= t_end : poll(&p, 1, 0) != 0)
			break;
	}
	printf("%s (%d calls)\n", what, n);
	print_dist("  DescribeClusters latency", v, n);
	free(v);
}

/* Forks the prober; returns its pid, *ret_stop the pipe end that stops it. */
static pid_t probe_start(int *ret_stop)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[1]);
		probe_loop("API during the burst", p[0], 0);
		fflush(stdout);
		_exit(0);
	}
	close(p[0]);
	*ret_stop = p[1];
	return pid;
}

static int burst(int n, const char *family, const char *arn_file, bool probe)
{
	int stop = -1;
	pid_t prober = probe ? probe_start(&stop) : -1;
	char **arns = calloc((size_t)n, sizeof(char *));
	double *server = calloc((size_t)n, sizeof(double));
	double t0 = mono(), t_sent;
	FILE *f;
	int have = 0;

	while (have < n)
		have += run_task(family, n - have > 10 ? 10 : n - have, arns + have);
	t_sent = mono() - t0;
	wait_all(arns, n, "RUNNING", server);
	t0 = mono() - t0;
	if (prober > 0) {
		close(stop);
		waitpid(prober, NULL, 0);
	}
	printf("%d tasks at once (RunTask count 10): all accepted in %.2f s, all RUNNING in %.2f s"
	       " = %.1f tasks/s\n", n, t_sent, t0, n / t0);
	print_dist("  RunTask->RUNNING under load (stamps)", server, n);
	f = fopen(arn_file, "w");
	if (!f)
		die("write the ARN file");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\n", arns[i]);
	fclose(f);
	return 0;
}

static int stop_all(const char *arn_file)
{
	char **arns = calloc(MAX_TASKS, sizeof(char *)), line[512];
	FILE *f = fopen(arn_file, "r");
	double t0 = mono();
	int n = 0;

	if (!f)
		die("read the ARN file");
	while (n < MAX_TASKS && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		arns[n++] = strdup(line);
	}
	fclose(f);
	for (int i = 0; i < n; i++)
		stop_task(arns[i]);
	wait_all(arns, n, "STOPPED", NULL);
	printf("%d tasks stopped in %.2f s\n", n, mono() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		goto usage;
	sock_path = argv[1];
	if (strcmp(argv[2], "latency") == 0 && argc == 5)
		return latency(atoi(argv[3]) > 0 ? atoi(argv[3]) : 1, argv[4]);
	if (strcmp(argv[2], "burst") == 0 && (argc == 6 || argc == 7) && atoi(argv[3]) > 0 &&
	    atoi(argv[3]) <= MAX_TASKS)
		return burst(atoi(argv[3]), argv[4], argv[5], argc == 7 && strcmp(argv[6], "probe") == 0);
	if (strcmp(argv[2], "probe") == 0 && argc == 4 && atof(argv[3]) > 0) {
		probe_loop("API idle", -1, atof(argv[3]));
		return 0;
	}
	if (strcmp(argv[2], "stop") == 0 && argc == 4)
		return stop_all(argv[3]);
usage:
	fprintf(stderr, "usage: tasks_load SOCKET latency N FAMILY | burst N FAMILY ARNFILE [probe] | "
		"probe SECONDS | stop ARNFILE\n");
	return 2;
}
