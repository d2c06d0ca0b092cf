/* tests/unit/test_agent_link.c - agent/link_remote against a scripted
 * control plane (an HTTP server thread on 127.0.0.1): signed requests,
 * registration and the first snapshot, the long-poll's new generation
 * reaching the listener, reports sent in order, retried after a 5xx,
 * dropped after a refusal; bad settings refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "agent/link.h"
#include "lib/loop.h"

#define TASK "0123456789abcdef0123456789abcdef"
#define INST "fedcba9876543210fedcba9876543210"
#define MAX_REQ 64

struct server {
	int lfd;
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t mu;
	char *reqs[MAX_REQ];       /* "Action body" */
	int n_reqs;
	int submits;               /* SubmitTaskStateChange requests seen */
	bool unsigned_seen;
	int conns[16];
	pthread_t conn_threads[16];
	int n_conns;
};

static struct server srv;
static int junk;   /* 1: odd snapshot entries, 2: an answer without a generation */

static const char *answer(const char *action, const char *body, int *status)
{
	*status = 200;
	if (strcmp(action, "RegisterContainerInstance") == 0)
		return "{\"containerInstance\":{\"containerInstanceArn\":"
		       "\"arn:aws:ecs:local:000000000000:container-instance/default/" INST "\"}}";
	if (strcmp(action, "BerthPollWork") == 0) {
		if (junk == 1)
			return "{\"generation\":7,\"tasks\":[{\"task\":{\"taskArn\":\"a/" TASK "\"}},"
			       "5,{\"other\":1},{\"task\":{\"taskArn\":7}},{\"task\":\"x\"}]}";
		if (junk == 2)
			return "{\"tasks\":[]}";
		if (strstr(body, "\"generation\":0"))
			return "{\"generation\":5,\"tasks\":[{\"task\":{\"taskArn\":"
			       "\"arn:aws:ecs:local:000000000000:task/default/" TASK "\","
			       "\"lastStatus\":\"PENDING\",\"desiredStatus\":\"RUNNING\"},"
			       "\"taskDefinition\":{\"family\":\"f\"}}]}";
		usleep(100000);
		return "{\"generation\":6,\"tasks\":[{\"task\":{\"taskArn\":"
		       "\"arn:aws:ecs:local:000000000000:task/default/" TASK "\","
		       "\"lastStatus\":\"RUNNING\",\"desiredStatus\":\"STOPPED\"},"
		       "\"taskDefinition\":{\"family\":\"f\"}}]}";
	}
	if (strcmp(action, "SubmitTaskStateChange") == 0) {
		if (srv.submits++ == 0) {
			*status = 500;
			return "{\"__type\":\"ServerException\",\"message\":\"busy\"}";
		}
		if (strstr(body, "\"task\":\"refused\"")) {
			*status = 400;
			return "{\"__type\":\"InvalidParameterException\",\"message\":\"no such task\"}";
		}
		return "{\"acknowledgment\":\"ACK\"}";
	}
	*status = 400;
	return "{\"__type\":\"UnknownOperationException\",\"message\":\"?\"}";
}

static const char *header(const char *head, const char *name)
{
	const char *p = strcasestr(head, name);

	return p ? p + strlen(name) : NULL;
}

/* One request of a keep-alive connection: 0, or -1 when it closed. */
static int serve_one(int fd)
{
	char buf[65536], action[64] = "", out[70000];
	const char *resp, *h;
	size_t len = 0, clen;
	char *end;
	int status;

	while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			return -1;
		len += (size_t)n;
	}
	*end = '\0';
	h = header(buf, "\nContent-Length: ");
	clen = h ? strtoul(h, NULL, 10) : 0;
	h = header(buf, "\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.");
	if (h)
		snprintf(action, sizeof(action), "%.*s", (int)strcspn(h, "\r"), h);
	char *body = end + 4;
	size_t have = len - (size_t)(body - buf);

	while (have < clen) {
		ssize_t n = read(fd, body + have, clen - have);

		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	body[clen] = '\0';
	pthread_mutex_lock(&srv.mu);
	if (!header(buf, "\nAuthorization: AWS4-HMAC-SHA256 Credential=AKTEST/"))
		srv.unsigned_seen = true;
	if (srv.n_reqs < MAX_REQ && asprintf(&srv.reqs[srv.n_reqs], "%s %s", action, body) > 0)
		srv.n_reqs++;
	resp = answer(action, body, &status);
	pthread_mutex_unlock(&srv.mu);
	snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Type: application/x-amz-json-1.1\r\n"
		 "Content-Length: %zu\r\n\r\n%s", status, strlen(resp), resp);
	return write(fd, out, strlen(out)) == (ssize_t)strlen(out) ? 0 : -1;
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;

	while (serve_one(fd) == 0)
		;
	return NULL;
}

static void *server_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(srv.lfd, NULL, NULL);

		if (fd < 0)
			return NULL;
		pthread_mutex_lock(&srv.mu);
		if (srv.n_conns < 16) {
			srv.conns[srv.n_conns] = fd;
			pthread_create(&srv.conn_threads[srv.n_conns++], NULL, conn_main, (void *)(intptr_t)fd);
		} else {
			close(fd);
		}
		pthread_mutex_unlock(&srv.mu);
	}
}

static void server_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.mu, NULL);
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv.lfd >= 0);
	assert_int_equal(bind(srv.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(srv.lfd, 16), 0);
	assert_int_equal(getsockname(srv.lfd, (struct sockaddr *)&sa, &sl), 0);
	srv.port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
}

static void server_stop(void)
{
	shutdown(srv.lfd, SHUT_RDWR);
	pthread_join(srv.thread, NULL);
	close(srv.lfd);
	for (int i = 0; i < srv.n_conns; i++) {
		shutdown(srv.conns[i], SHUT_RDWR);
		pthread_join(srv.conn_threads[i], NULL);
		close(srv.conns[i]);
	}
	for (int i = 0; i < srv.n_reqs; i++)
		free(srv.reqs[i]);
	pthread_mutex_destroy(&srv.mu);
}

struct seen {
	char ids[4][64];
	int n;
	int notes;
	struct loop *loop;
};

static int collect(const char *cluster, const char *task_id, void *data)
{
	struct seen *s = data;

	assert_string_equal(cluster, "c1");
	snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", task_id);
	return 0;
}

static void on_note(void *data, const char *cluster, const char *task_id, const char *instance_id)
{
	struct seen *s = data;

	assert_string_equal(cluster, "c1");
	assert_string_equal(task_id, TASK);
	assert_string_equal(instance_id, INST);
	s->notes++;
}

/* Ends the loop once the listener heard of generation 6 and four reports
 * reached the server (or after 10 s: the asserts then fail). */
static void on_check(struct loop *l, struct loop_timer *t, void *data)
{
	struct seen *s = data;
	static int ticks;
	int submits;

	(void)t;
	pthread_mutex_lock(&srv.mu);
	submits = srv.submits;
	pthread_mutex_unlock(&srv.mu);
	if ((s->notes > 0 && submits >= 4) || ++ticks > 1000)
		loop_quit(l, 0);
}

static cJSON *report(const char *status)
{
	cJSON *r = cJSON_CreateObject();

	assert_non_null(cJSON_AddStringToObject(r, "lastStatus", status));
	return r;
}

static void test_remote_link(void **state)
{
	struct loop *l;
	struct loop_timer *check;
	struct link *lk;
	struct err e = ERR_INIT;
	struct seen s = { 0 };
	char url[64];
	uint16_t ports[] = { 22, 2375 };
	cJSON *task = NULL, *td = NULL, *r1 = report("PENDING"), *r2 = report("RUNNING");
	const cJSON *one[1];
	struct control_instance_reg reg = {
		.cluster = "c1", .id = INST, .hostname = "h", .cpu = 2048, .memory = 1024,
		.ports_tcp = ports, .n_ports_tcp = 2, .agent_version = "0.1.0",
	};

	(void)state;
	server_start();
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", srv.port);
	assert_int_equal(loop_new(&l), 0);
	struct link_remote_opts o = { .loop = l, .url = url, .access_key_id = "AKTEST",
				      .secret_access_key = "secret", .region = "local", .wait_sec = 1 };
	assert_int_equal(link_remote_new(&o, &lk, &e), 0);

	assert_int_equal(link_register_instance(lk, &reg, &e), 0);
	assert_int_equal(srv.n_reqs, 2);
	assert_non_null(strstr(srv.reqs[0], "RegisterContainerInstance {"));
	assert_non_null(strstr(srv.reqs[0], "{\"name\":\"CPU\",\"type\":\"INTEGER\",\"integerValue\":2048}"));
	assert_non_null(strstr(srv.reqs[0], "{\"name\":\"PORTS\",\"type\":\"STRINGSET\",\"stringSetValue\":[\"22\",\"2375\"]}"));
	assert_non_null(strstr(srv.reqs[0], "\"containerInstanceArn\":\"" INST "\""));
	assert_non_null(strstr(srv.reqs[1], "BerthPollWork {"));
	assert_non_null(strstr(srv.reqs[1], "\"waitSeconds\":0"));

	/* the first snapshot: what restore adopts */
	assert_int_equal(link_instance_tasks(lk, "c1", INST, collect, &s, &e), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], TASK);
	assert_int_equal(link_task_for_agent(lk, "c1", TASK, &task, &td, &e), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(task, "desiredStatus")), "RUNNING");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(td, "family")), "f");
	cJSON_Delete(task);
	cJSON_Delete(td);
	assert_int_equal(link_task_for_agent(lk, "c1", "nope", &task, &td, &e), -ENOENT);

	/* queued: the first is refused with a 5xx and retried, the refused
	 * task's report is dropped, the order holds */
	one[0] = r1;
	assert_int_equal(link_task_reports(lk, "c1", TASK, one, 1, &e), 0);
	assert_int_equal(link_task_reports(lk, "c1", "refused", one, 1, &e), 0);
	one[0] = r2;
	assert_int_equal(link_task_reports(lk, "c1", TASK, one, 1, &e), 0);
	link_set_task_listener(lk, on_note, &s);
	assert_int_equal(loop_timer_new(l, on_check, &s, &check), 0);
	assert_int_equal(loop_timer_arm(check, 10000, 10000), 0);
	assert_int_equal(loop_run(l), 0);

	assert_true(s.notes >= 1);
	assert_int_equal(link_task_for_agent(lk, "c1", TASK, &task, &td, &e), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(task, "desiredStatus")), "STOPPED");
	cJSON_Delete(task);
	cJSON_Delete(td);

	pthread_mutex_lock(&srv.mu);
	const char *want[] = { "\"task\":\"" TASK "\",\"reports\":[{\"lastStatus\":\"PENDING\"}]",
			       "\"task\":\"" TASK "\",\"reports\":[{\"lastStatus\":\"PENDING\"}]",
			       "\"task\":\"refused\"",
			       "\"task\":\"" TASK "\",\"reports\":[{\"lastStatus\":\"RUNNING\"}]" };
	int k = 0;

	for (int i = 0; i < srv.n_reqs && k < 4; i++) {
		if (strncmp(srv.reqs[i], "SubmitTaskStateChange ", 22) != 0)
			continue;
		assert_non_null(strstr(srv.reqs[i], want[k]));
		k++;
	}
	assert_int_equal(k, 4);
	assert_false(srv.unsigned_seen);
	pthread_mutex_unlock(&srv.mu);

	link_free(lk);
	loop_timer_free(check);
	loop_free(l);
	server_stop();
	cJSON_Delete(r1);
	cJSON_Delete(r2);
}

static void test_remote_bad_settings(void **state)
{
	struct loop *l;
	struct link *lk = NULL;
	struct err e = ERR_INIT;
	struct link_remote_opts o = { .url = "https://cp:443", .access_key_id = "a",
				      .secret_access_key = "b", .wait_sec = 20 };

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	o.loop = l;
	assert_int_equal(link_remote_new(&o, &lk, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not an http://HOST:PORT URL"));
	o.url = "http://user@cp:80";
	assert_int_equal(link_remote_new(&o, &lk, &e), -EINVAL);
	o.url = "http://cp:80";
	o.secret_access_key = "";
	e = (struct err)ERR_INIT;
	assert_int_equal(link_remote_new(&o, &lk, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "BERTH_AGENT_SECRET_ACCESS_KEY"));
	assert_null(lk);
	loop_free(l);
}

/* Hostile answers: odd entries are skipped, a task without its definition
 * is not started, an answer without a generation fails the start. */
static void test_remote_junk(void **state)
{
	struct control_instance_reg reg = { .cluster = "c1", .id = INST, .hostname = "h",
					    .agent_version = "0" };
	struct loop *l;
	struct link *lk;
	struct err e = ERR_INIT;
	struct seen s = { 0 };
	cJSON *task = NULL, *td = NULL;
	char url[64];

	(void)state;
	server_start();
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", srv.port);
	assert_int_equal(loop_new(&l), 0);
	struct link_remote_opts o = { .loop = l, .url = url, .access_key_id = "AKTEST",
				      .secret_access_key = "secret", .wait_sec = 1 };
	junk = 1;
	assert_int_equal(link_remote_new(&o, &lk, &e), 0);
	assert_int_equal(link_register_instance(lk, &reg, &e), 0);
	assert_int_equal(link_instance_tasks(lk, "c1", INST, collect, &s, &e), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], TASK);
	assert_int_equal(link_task_for_agent(lk, "c1", TASK, &task, &td, &e), -EBADMSG);
	assert_null(task);
	link_free(lk);
	junk = 2;
	e = (struct err)ERR_INIT;
	assert_int_equal(link_remote_new(&o, &lk, &e), 0);
	assert_int_equal(link_register_instance(lk, &reg, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "without generation"));
	link_free(lk);
	junk = 0;
	loop_free(l);
	server_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_link),
		cmocka_unit_test(test_remote_junk),
		cmocka_unit_test(test_remote_bad_settings),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
