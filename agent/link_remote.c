/* agent/link_remote.c - the agent on another host: AGENT-PROTOCOL.md over
 * HTTP with SigV4.
 *
 * Registration and the first look at the instance's tasks are blocking
 * calls at start (retried while the control plane cannot be reached).
 * Then one BerthPollWork long-poll is always out, driven by the loop
 * through a curl multi handle: its answer is the whole state of the
 * instance's tasks, kept as the snapshot task lookups read; a new
 * generation tells the agent to look at every task again (state-based:
 * starts are idempotent by task dir).  Reports are queued and sent one at a
 * time in order, retried until the control plane takes them; one it
 * refuses is logged and dropped (it would be refused forever).  The polls
 * are the heartbeat.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "agent/link.h"
#include "agent/link_http.h"
#include "cli/client.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/loop.h"

#define START_RETRY_MAX_SEC 5
#define RETRY_MIN_USEC 500000ull
#define RETRY_MAX_USEC 5000000ull
#define REPORT_TIMEOUT_SEC 30L

struct queued {
	struct queued *next;
	cJSON *req;                     /* SubmitTaskStateChange request */
};

struct remote {
	struct link base;
	struct loop *loop;
	struct endpoint ep;
	struct http_peer peer;
	char *akid, *secret, *region;
	unsigned wait_sec;
	char cluster[256];
	char instance[64];
	CURLM *multi;
	struct loop_timer *curl_timer, *poll_timer, *report_timer;
	struct http_xfer poll, report;  /* easy == NULL: none in flight */
	double generation;
	cJSON *snapshot;                /* the last answer's tasks: [{task, taskDefinition}] */
	control_task_cb *cb;
	void *cb_data;
	struct queued *head, **tail;
	unsigned poll_fails, report_fails;
};

static struct remote *R(struct link *l)
{
	return (struct remote *)l;
}

static uint64_t backoff_usec(unsigned fails)
{
	uint64_t u = RETRY_MIN_USEC << (fails < 4 ? fails : 4);

	return u > RETRY_MAX_USEC ? RETRY_MAX_USEC : u;
}

/* "arn:...:task/cluster/ID" or "ID" -> ID. */
static const char *arn_id(const char *arn)
{
	const char *s = arn ? strrchr(arn, '/') : NULL;

	return s ? s + 1 : arn;
}

static const cJSON *snap_find(struct remote *r, const char *task_id)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, r->snapshot) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "task");
		const char *id = arn_id(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "taskArn")));

		if (id && strcmp(id, task_id) == 0)
			return it;
	}
	return NULL;
}

/* A poll answer: keep its tasks; a new generation means new desired states. */
static int take_answer(struct remote *r, cJSON *resp, bool notify)
{
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(resp, "generation");
	cJSON *tasks = cJSON_DetachItemFromObjectCaseSensitive(resp, "tasks");
	const cJSON *it;
	bool changed;

	if (!cJSON_IsNumber(gen) || !cJSON_IsArray(tasks)) {
		cJSON_Delete(tasks);
		return -EBADMSG;
	}
	changed = gen->valuedouble != r->generation;
	r->generation = gen->valuedouble;
	cJSON_Delete(r->snapshot);
	r->snapshot = tasks;
	if (!changed || !notify || !r->cb)
		return 0;
	cJSON_ArrayForEach(it, r->snapshot) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "task");
		const char *id = arn_id(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "taskArn")));

		if (id)
			r->cb(r->cb_data, r->cluster, id, r->instance);
	}
	return 0;
}

static cJSON *poll_request(struct remote *r, unsigned wait_sec)
{
	cJSON *req = cJSON_CreateObject();

	if (!req || !cJSON_AddStringToObject(req, "cluster", r->cluster) ||
	    !cJSON_AddStringToObject(req, "containerInstance", r->instance) ||
	    !cJSON_AddNumberToObject(req, "generation", r->generation) ||
	    !cJSON_AddNumberToObject(req, "waitSeconds", wait_sec)) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

/* ---- blocking calls, at start ---- */

/* Retries while the control plane cannot be reached or is in trouble. */
static int call_retrying(struct remote *r, const char *action, const cJSON *req, cJSON **ret,
			 struct err *e)
{
	unsigned delay = 1;

	for (;;) {
		int rc = http_call(&r->peer, action, req, 30, ret, e);

		if (rc != -EAGAIN)
			return rc;
		log_warn("%s; retrying in %u s", e->msg, delay);
		*e = (struct err)ERR_INIT;
		sleep(delay);
		delay = delay * 2 > START_RETRY_MAX_SEC ? START_RETRY_MAX_SEC : delay * 2;
	}
}

static cJSON *add_resource(cJSON *list, const char *name, const char *type)
{
	cJSON *res = cJSON_CreateObject();

	if (!res || !cJSON_AddItemToArray(list, res)) {
		cJSON_Delete(res);
		return NULL;
	}
	return cJSON_AddStringToObject(res, "name", name) && cJSON_AddStringToObject(res, "type", type)
		       ? res : NULL;
}

static int add_int_resource(cJSON *list, const char *name, int64_t value)
{
	cJSON *res = add_resource(list, name, "INTEGER");

	return res && cJSON_AddNumberToObject(res, "integerValue", (double)value) ? 0 : -ENOMEM;
}

static int add_ports_resource(cJSON *list, const char *name, const uint16_t *ports, size_t n)
{
	cJSON *res = add_resource(list, name, "STRINGSET");
	cJSON *set = res ? cJSON_AddArrayToObject(res, "stringSetValue") : NULL;
	char buf[8];

	for (size_t i = 0; set && i < n; i++) {
		snprintf(buf, sizeof(buf), "%u", ports[i]);
		if (!cJSON_AddItemToArray(set, cJSON_CreateString(buf)))
			return -ENOMEM;
	}
	return set ? 0 : -ENOMEM;
}

static int add_copy(cJSON *o, const char *name, const cJSON *v)
{
	cJSON *c;

	if (!v)
		return 0;
	c = cJSON_Duplicate(v, true);
	return c && cJSON_AddItemToObject(o, name, c) ? 0 : -ENOMEM;
}

static cJSON *register_request(const struct control_instance_reg *g)
{
	_cleanup_(cJSON_Deletep) cJSON *req = cJSON_CreateObject();
	cJSON *res, *ver;

	if (!req || !cJSON_AddStringToObject(req, "cluster", g->cluster) ||
	    !cJSON_AddStringToObject(req, "containerInstanceArn", g->id) ||
	    !cJSON_AddStringToObject(req, "berthHostname", g->hostname) ||
	    !(res = cJSON_AddArrayToObject(req, "totalResources")) ||
	    add_int_resource(res, "CPU", g->cpu) < 0 ||
	    add_int_resource(res, "MEMORY", g->memory) < 0 ||
	    add_ports_resource(res, "PORTS", g->ports_tcp, g->n_ports_tcp) < 0 ||
	    add_ports_resource(res, "PORTS_UDP", g->ports_udp, g->n_ports_udp) < 0 ||
	    add_copy(req, "attributes", g->attributes) < 0 || add_copy(req, "tags", g->tags) < 0 ||
	    !(ver = cJSON_AddObjectToObject(req, "versionInfo")) ||
	    !cJSON_AddStringToObject(ver, "agentVersion", g->agent_version))
		return NULL;
	return TAKE_PTR(req);
}

/* Registers, then takes the instance's tasks as they are now (generation
 * 0 is never current: the answer comes at once). */
static int rem_register(struct link *l, const struct control_instance_reg *g, struct err *e)
{
	struct remote *r = R(l);
	_cleanup_(cJSON_Deletep) cJSON *req = register_request(g);
	_cleanup_(cJSON_Deletep) cJSON *resp = NULL, *preq = NULL, *presp = NULL;
	const char *arn;
	int rc;

	if (!req)
		return err_set(e, -ENOMEM, "RegisterContainerInstance request");
	snprintf(r->cluster, sizeof(r->cluster), "%s", g->cluster);
	snprintf(r->instance, sizeof(r->instance), "%s", g->id);
	rc = call_retrying(r, "RegisterContainerInstance", req, &resp, e);
	if (rc < 0)
		return rc;
	arn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(resp, "containerInstance"), "containerInstanceArn"));
	if (!arn || strcmp(arn_id(arn), g->id) != 0)
		return err_setx(e, -EBADMSG, "RegisterContainerInstance: the control plane answered "
				"with instance '%s', not '%s'", arn ? arn : "(none)", g->id);
	r->generation = 0;
	preq = poll_request(r, 0);
	if (!preq)
		return err_set(e, -ENOMEM, "BerthPollWork request");
	rc = call_retrying(r, "BerthPollWork", preq, &presp, e);
	if (rc < 0)
		return rc;
	if (take_answer(r, presp, false) < 0)
		return err_setx(e, -EBADMSG, "BerthPollWork: an answer without generation and tasks");
	log_info("connected to the control plane at %s", r->ep.url);
	return 0;
}

static int rem_tasks(struct link *l, const char *cluster, const char *instance_id,
		     control_task_id_cb *cb, void *data, struct err *e)
{
	struct remote *r = R(l);
	const cJSON *it;

	(void)instance_id;
	cJSON_ArrayForEach(it, r->snapshot) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "task");
		const char *id = arn_id(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "taskArn")));
		const char *last = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "lastStatus"));
		int rc;

		if (!id || (last && strcmp(last, "STOPPED") == 0))
			continue;
		rc = cb(cluster, id, data);
		if (rc < 0)
			return err_set(e, rc, "task %s", id);
	}
	return 0;
}

static int rem_task(struct link *l, const char *cluster, const char *task_id, cJSON **ret_task,
		    cJSON **ret_taskdef, struct err *e)
{
	const cJSON *it = snap_find(R(l), task_id), *t0, *td0;
	cJSON *task, *td;

	(void)cluster;
	if (!it)
		return err_setx(e, -ENOENT, "task %s is not assigned to this instance", task_id);
	t0 = cJSON_GetObjectItemCaseSensitive(it, "task");
	td0 = cJSON_GetObjectItemCaseSensitive(it, "taskDefinition");
	if (!cJSON_IsObject(t0) || !cJSON_IsObject(td0))
		return err_setx(e, -EBADMSG, "task %s: the control plane sent no task definition",
				task_id);
	task = cJSON_Duplicate(t0, true);
	td = cJSON_Duplicate(td0, true);
	if (!task || !td) {
		cJSON_Delete(task);
		cJSON_Delete(td);
		return err_set(e, -ENOMEM, "task %s", task_id);
	}
	*ret_task = task;
	*ret_taskdef = td;
	return 0;
}

static int rem_expire(struct link *l, double before, unsigned *ret_n, struct err *e)
{
	/* The control plane's own business: it keeps the tasks. */
	(void)l;
	(void)before;
	(void)e;
	*ret_n = 0;
	return 0;
}

/* ---- the loop drives curl ---- */

static void start_xfer(struct remote *r, struct http_xfer *x, const char *action, cJSON *req,
		       long timeout_sec)
{
	int rc = http_xfer_init(x, &r->peer, action, req, timeout_sec);

	if (rc == 0 && curl_multi_add_handle(r->multi, x->easy) != CURLM_OK) {
		http_xfer_release(x);
		rc = -ENOMEM;
	}
	if (rc < 0) {
		log_error_errno(rc, "%s: cannot send", action);
		loop_timer_arm(x == &r->poll ? r->poll_timer : r->report_timer, RETRY_MAX_USEC, 0);
	}
}

static void on_poll_timer(struct loop *lp, struct loop_timer *tm, void *data)
{
	struct remote *r = data;
	_cleanup_(cJSON_Deletep) cJSON *req = NULL;

	(void)lp;
	(void)tm;
	if (r->poll.easy || !r->cb)
		return;
	req = poll_request(r, r->wait_sec);
	if (!req) {
		loop_timer_arm(r->poll_timer, RETRY_MAX_USEC, 0);
		return;
	}
	start_xfer(r, &r->poll, "BerthPollWork", req, (long)r->wait_sec + 15);
}

static void on_report_timer(struct loop *lp, struct loop_timer *tm, void *data)
{
	struct remote *r = data;

	(void)lp;
	(void)tm;
	if (!r->report.easy && r->head)
		start_xfer(r, &r->report, "SubmitTaskStateChange", r->head->req, REPORT_TIMEOUT_SEC);
}

static void poll_done(struct remote *r, CURLcode cc)
{
	_cleanup_(cJSON_Deletep) cJSON *resp = NULL;
	struct err e = ERR_INIT;
	int rc = http_xfer_result(&r->poll, cc, r->ep.url, &resp, &e);

	http_xfer_release(&r->poll);
	if (rc == 0 && take_answer(r, resp, true) < 0)
		rc = err_setx(&e, -EBADMSG, "BerthPollWork: an answer without generation and tasks");
	if (rc == 0) {
		if (r->poll_fails)
			log_info("control plane at %s reached again", r->ep.url);
		r->poll_fails = 0;
		loop_timer_arm(r->poll_timer, 1, 0);
		return;
	}
	/* A refusal is for good (the instance was deregistered, the key is
	 * not an agent's): nothing would ever reach this agent again, so it
	 * stops, as ECS's agent does, and says why. */
	if (rc == -EPERM) {
		log_error("%s: the agent stops", e.msg);
		loop_quit(r->loop, LINK_REFUSED);
		return;
	}
	/* Every failure while it lasts would flood the log: the first, then every 20th. */
	if (r->poll_fails++ % 20 == 0)
		log_warn("%s", e.msg);
	loop_timer_arm(r->poll_timer, backoff_usec(r->poll_fails), 0);
}

static void report_done(struct remote *r, CURLcode cc)
{
	_cleanup_(cJSON_Deletep) cJSON *resp = NULL;
	struct err e = ERR_INIT;
	int rc = http_xfer_result(&r->report, cc, r->ep.url, &resp, &e);
	struct queued *q = r->head;

	http_xfer_release(&r->report);
	if (rc == -EAGAIN) {
		if (r->report_fails++ % 20 == 0)
			log_warn("%s (task %s; kept, retried)", e.msg,
				 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q->req, "task")));
		loop_timer_arm(r->report_timer, backoff_usec(r->report_fails), 0);
		return;
	}
	if (rc < 0)
		log_error("%s (task %s; report dropped)", e.msg,
			  cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q->req, "task")));
	r->report_fails = 0;
	r->head = q->next;
	if (!r->head)
		r->tail = &r->head;
	cJSON_Delete(q->req);
	free(q);
	if (r->head)
		loop_timer_arm(r->report_timer, 1, 0);
}

static void check_done(struct remote *r)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(r->multi, &left))) {
		CURL *easy = m->easy_handle;
		CURLcode cc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_multi_remove_handle(r->multi, easy);
		if (easy == r->poll.easy)
			poll_done(r, cc);
		else if (easy == r->report.easy)
			report_done(r, cc);
	}
}

static void on_curl_fd(struct loop *lp, int fd, uint32_t events, void *data)
{
	struct remote *r = data;
	int flags = (events & EPOLLIN ? CURL_CSELECT_IN : 0) | (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
		    (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
	int running;

	(void)lp;
	curl_multi_socket_action(r->multi, fd, flags, &running);
	check_done(r);
}

static void on_curl_timer(struct loop *lp, struct loop_timer *tm, void *data)
{
	struct remote *r = data;
	int running;

	(void)lp;
	(void)tm;
	curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(r);
}

/* curl says which sockets to watch for what. */
static int curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct remote *r = userp;
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	int rc;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socketp)
			loop_del_fd(r->loop, s);
		curl_multi_assign(r->multi, s, NULL);
		return 0;
	}
	if (socketp)
		return loop_mod_fd(r->loop, s, ev) < 0 ? -1 : 0;
	rc = loop_add_fd(r->loop, s, ev, on_curl_fd, r);
	if (rc == -EEXIST)
		rc = loop_mod_fd(r->loop, s, ev);
	if (rc < 0)
		return -1;
	curl_multi_assign(r->multi, s, r);
	return 0;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct remote *r = userp;

	(void)multi;
	if (timeout_ms < 0)
		return loop_timer_arm(r->curl_timer, 0, 0) < 0 ? -1 : 0;
	return loop_timer_arm(r->curl_timer, timeout_ms > 0 ? (uint64_t)timeout_ms * 1000 : 1, 0) < 0
		       ? -1 : 0;
}

/* ---- the agent's calls ---- */

static void rem_listener(struct link *l, control_task_cb *cb, void *data)
{
	struct remote *r = R(l);

	r->cb = cb;
	r->cb_data = data;
	if (cb && !r->poll.easy)
		loop_timer_arm(r->poll_timer, 1, 0);
}

static int rem_reports(struct link *l, const char *cluster, const char *task_id,
		       const cJSON *const *reports, size_t n, struct err *e)
{
	struct remote *r = R(l);
	_cleanup_(cJSON_Deletep) cJSON *req = cJSON_CreateObject();
	struct queued *q;
	cJSON *list;

	if (!req || !cJSON_AddStringToObject(req, "cluster", cluster) ||
	    !cJSON_AddStringToObject(req, "task", task_id) ||
	    !(list = cJSON_AddArrayToObject(req, "reports")))
		return err_set(e, -ENOMEM, "task %s: report", task_id);
	for (size_t i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(list, cJSON_Duplicate(reports[i], true)))
			return err_set(e, -ENOMEM, "task %s: report", task_id);
	q = calloc(1, sizeof(*q));
	if (!q)
		return err_set(e, -ENOMEM, "task %s: report", task_id);
	q->req = TAKE_PTR(req);
	*r->tail = q;
	r->tail = &q->next;
	if (!r->report.easy)
		loop_timer_arm(r->report_timer, 1, 0);
	return 0;
}

static void rem_free(struct link *l)
{
	struct remote *r = R(l);

	if (r->multi) {
		if (r->poll.easy)
			curl_multi_remove_handle(r->multi, r->poll.easy);
		if (r->report.easy)
			curl_multi_remove_handle(r->multi, r->report.easy);
	}
	http_xfer_release(&r->poll);
	http_xfer_release(&r->report);
	if (r->multi)
		curl_multi_cleanup(r->multi);
	loop_timer_free(r->curl_timer);
	loop_timer_free(r->poll_timer);
	loop_timer_free(r->report_timer);
	while (r->head) {
		struct queued *q = r->head;

		r->head = q->next;
		cJSON_Delete(q->req);
		free(q);
	}
	cJSON_Delete(r->snapshot);
	free(r->akid);
	free(r->secret);
	free(r->region);
	free(r);
}

static const struct link_ops remote_ops = {
	.register_instance = rem_register,
	.set_task_listener = rem_listener,
	.task_for_agent = rem_task,
	.task_reports = rem_reports,
	.instance_tasks = rem_tasks,
	.expire_tasks = rem_expire,
	.free = rem_free,
};

static int remote_init(struct remote *r, const struct link_remote_opts *o, struct err *e)
{
	if (endpoint_parse(o->url, &r->ep) < 0 || r->ep.kind != EP_HTTP)
		return err_setx(e, -EINVAL, "controller '%s': not an http://HOST:PORT URL", o->url);
	if (!o->access_key_id || !*o->access_key_id || !o->secret_access_key || !*o->secret_access_key)
		return err_setx(e, -EINVAL, "the agent needs its access key: set "
				"BERTH_AGENT_ACCESS_KEY_ID and BERTH_AGENT_SECRET_ACCESS_KEY");
	r->akid = strdup(o->access_key_id);
	r->secret = strdup(o->secret_access_key);
	r->region = strdup(o->region ? o->region : "local");
	r->multi = curl_multi_init();
	if (!r->akid || !r->secret || !r->region || !r->multi ||
	    loop_timer_new(o->loop, on_curl_timer, r, &r->curl_timer) < 0 ||
	    loop_timer_new(o->loop, on_poll_timer, r, &r->poll_timer) < 0 ||
	    loop_timer_new(o->loop, on_report_timer, r, &r->report_timer) < 0)
		return err_set(e, -ENOMEM, "agent link");
	r->peer = (struct http_peer){ r->ep.url, r->ep.host, r->akid, r->secret, r->region };
	curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
	curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
	return 0;
}

int link_remote_new(const struct link_remote_opts *o, struct link **ret, struct err *e)
{
	struct remote *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return err_set(e, -ENOMEM, "agent link");
	r->base.ops = &remote_ops;
	r->loop = o->loop;
	r->tail = &r->head;
	r->wait_sec = o->wait_sec < 1 ? 1 : o->wait_sec > 20 ? 20 : o->wait_sec;
	rc = remote_init(r, o, e);
	if (rc < 0) {
		rem_free(&r->base);
		return rc;
	}
	*ret = &r->base;
	return 0;
}
