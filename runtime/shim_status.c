/* runtime/shim_status.c - status.json (runtime/shim.h), written atomically
 * on every change and sent to the socket's watchers. */
#include "runtime/shim_run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void add_time(struct sbuf *b, const char *key, double t)
{
	if (t > 0)
		sb_printf(b, ",\"%s\":%.6f", key, t);
	else
		sb_printf(b, ",\"%s\":null", key);
}

static void add_container(struct sbuf *b, const struct shim_ctr *c)
{
	sb_puts(b, "{\"name\":");
	sb_json_str_or_null(b, c->spec->name);
	sb_printf(b, ",\"lastStatus\":\"%s\"", shim_ctr_state_name(c->state));
	if (c->state == CTR_RUNNING)
		sb_printf(b, ",\"pid\":%d", (int)c->rc.pid);
	else
		sb_puts(b, ",\"pid\":null");
	if (c->has_exit)
		sb_printf(b, ",\"exitCode\":%d", c->exit_code);
	else
		sb_puts(b, ",\"exitCode\":null");
	sb_puts(b, ",\"reason\":");
	sb_json_str_or_null(b, c->reason);
	sb_printf(b, ",\"healthStatus\":\"%s\"", shim_health_name(c->health));
	add_time(b, "startedAt", c->started_at);
	add_time(b, "finishedAt", c->finished_at);
	sb_printf(b, ",\"oomKilled\":%s}", c->oom ? "true" : "false");
}

static const char *task_last_status(const struct shim *s)
{
	if (s->finished)
		return "STOPPED";
	if (s->desired_stopped)
		return "STOPPING";
	return s->running ? "RUNNING" : "PENDING";
}

void shim_status_json(const struct shim *s, struct sbuf *b)
{
	sb_puts(b, "{\"taskId\":");
	sb_json_str_or_null(b, s->task.task_id);
	sb_printf(b, ",\"shimPid\":%d,\"updatedAt\":%.6f", (int)getpid(), shim_now());
	sb_printf(b, ",\"desiredStatus\":\"%s\",\"lastStatus\":\"%s\"",
		  s->desired_stopped ? "STOPPED" : "RUNNING", task_last_status(s));
	sb_puts(b, ",\"stopCode\":");
	sb_json_str_or_null(b, s->stop_code);
	sb_puts(b, ",\"stoppedReason\":");
	sb_json_str_or_null(b, s->stopped_reason);
	add_time(b, "startedAt", s->started_at);
	add_time(b, "stoppingAt", s->stopping_at);
	add_time(b, "stoppedAt", s->stopped_at);
	sb_printf(b, ",\"healthStatus\":\"%s\",\"containers\":[", shim_health_name(shim_task_health(s)));
	for (size_t i = 0; i < s->task.n_ctrs; i++) {
		if (i)
			sb_puts(b, ",");
		add_container(b, &s->ctrs[i]);
	}
	sb_puts(b, "]}");
}

/* In the task directory (the shim's working directory). */
int shim_status_write(const struct shim *s)
{
	struct sbuf b = { 0 };
	int fd, r = 0;

	shim_status_json(s, &b);
	sb_puts(&b, "\n");
	if (b.oom) {
		sb_release(&b);
		return -ENOMEM;
	}
	fd = open("status.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
	} else {
		if (write(fd, b.buf, b.len) != (ssize_t)b.len)
			r = -EIO;
		if (close(fd) < 0 && r == 0)
			r = -errno;
		if (r == 0 && rename("status.json.tmp", "status.json") < 0)
			r = -errno;
	}
	sb_release(&b);
	return r;
}
