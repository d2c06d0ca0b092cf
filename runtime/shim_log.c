/* runtime/shim_log.c - the containers' stdout/stderr, written by the shim:
 * json-file (Docker's format and rotation), none, and syslog.
 *
 * The shim reads the pipes itself and never waits on a driver: a file write
 * that fails is dropped, a syslog socket that would block drops the
 * message (as Docker's non-blocking mode), so a container never stalls on a
 * full pipe, whether or not the daemon runs. */
#include "runtime/shim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"

struct shim_stream_buf {
	char *buf;          /* the unfinished line, allocated on first need */
	size_t len;
};

struct shim_logger {
	const struct shim_log_spec *spec;
	const char *name;
	int dirfd;          /* json-file: the logs directory */
	int fd;             /* json-file: the current file; syslog: the socket */
	bool stream_sock;   /* syslog over SOCK_STREAM: newline-framed */
	char file[RT_NAME_MAX + 8];
	uint64_t size;
	struct shim_stream_buf out[2];
	char hostname[65];
};

static const char *const stream_names[] = { "stdout", "stderr" };

void shim_log_json_entry(struct sbuf *b, const char *text, size_t n, int stream,
			 const struct timespec *ts)
{
	char t[48];

	sb_puts(b, "{\"log\":");
	sb_json_str(b, text, n);
	sb_printf(b, ",\"stream\":\"%s\",\"time\":\"", stream_names[stream == 2]);
	shim_format_time(ts, t, sizeof(t));
	sb_puts(b, t);
	sb_puts(b, "\"}\n");
}

void shim_log_syslog_entry(struct sbuf *b, const struct shim_log_spec *spec, const char *tag,
			   const char *hostname, int pid, const char *text, size_t n, int stream,
			   const struct timespec *ts)
{
	/* stdout at severity info (6), stderr at err (3), as Docker. */
	unsigned pri = spec->facility * 8 + (stream == 2 ? 3 : 6);
	char t[48];
	struct tm tm;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	switch (spec->format) {
	case SHIM_SYSLOG_RFC5424:
		shim_format_time(ts, t, sizeof(t));
		sb_printf(b, "<%u>1 %s %s %s %d %s - ", pri, t, hostname, tag, pid, tag);
		break;
	case SHIM_SYSLOG_RFC3164:
	case SHIM_SYSLOG_LOCAL:
		localtime_r(&ts->tv_sec, &tm);
		strftime(t, sizeof(t), "%b %e %H:%M:%S", &tm);
		if (spec->format == SHIM_SYSLOG_RFC3164)
			sb_printf(b, "<%u>%s %s %s[%d]: ", pri, t, hostname, tag, pid);
		else
			sb_printf(b, "<%u>%s %s[%d]: ", pri, t, tag, pid);
		break;
	}
	sb_add(b, text, n);
}

/* ---- json-file ---- */

int shim_log_rotate(int dirfd, const char *name, unsigned max_file)
{
	char from[RT_NAME_MAX + 16], to[RT_NAME_MAX + 16];
	int fd;

	if (max_file > 1) {
		for (unsigned i = max_file - 1; i > 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", name, i - 1);
			snprintf(to, sizeof(to), "%s.%u", name, i);
			if (renameat(dirfd, from, dirfd, to) < 0 && errno != ENOENT)
				return -errno;
		}
		snprintf(to, sizeof(to), "%s.1", name);
		if (renameat(dirfd, name, dirfd, to) < 0 && errno != ENOENT)
			return -errno;
	}
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	return fd < 0 ? -errno : fd;
}

static void json_write(struct shim_logger *l, const char *text, size_t n, int stream)
{
	struct sbuf b = { 0 };
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	shim_log_json_entry(&b, text, n, stream, &ts);
	if (b.oom)
		goto out;
	if (l->spec->max_size && l->size > 0 && l->size + b.len > l->spec->max_size) {
		int fd = shim_log_rotate(l->dirfd, l->file, l->spec->max_file);

		if (fd >= 0) {
			close(l->fd);
			l->fd = fd;
			l->size = 0;
		}
	}
	if (l->fd >= 0 && write(l->fd, b.buf, b.len) == (ssize_t)b.len)
		l->size += b.len;
out:
	sb_release(&b);
}

static int json_open(struct shim_logger *l, const char *logs_dir)
{
	struct stat st;

	if (mkdir(logs_dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	l->dirfd = open(logs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return -errno;
	snprintf(l->file, sizeof(l->file), "%s.log", l->name);
	l->fd = openat(l->dirfd, l->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd < 0)
		return -errno;
	if (fstat(l->fd, &st) == 0)
		l->size = (uint64_t)st.st_size; /* a restarted container appends */
	return 0;
}

/* ---- syslog ---- */

static int syslog_connect(struct shim_logger *l)
{
	const char *addr = l->spec->syslog_address;
	const char *path = addr ? strstr(addr, "://") + 3 : "/dev/log";
	bool only_stream = addr && strncmp(addr, "unix://", 7) == 0;
	bool only_dgram = addr && strncmp(addr, "unixgram://", 11) == 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	int r = -ENOENT;

	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		int fd;

		if ((types[i] == SOCK_DGRAM && only_stream) || (types[i] == SOCK_STREAM && only_dgram))
			continue;
		fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS) {
			l->fd = fd;
			l->stream_sock = types[i] == SOCK_STREAM;
			return 0;
		}
		r = -errno;
		close(fd);
	}
	return r;
}

static void syslog_write(struct shim_logger *l, const char *text, size_t n, int stream)
{
	const char *tag = l->spec->tag ? l->spec->tag : l->name;
	struct sbuf b = { 0 };
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	shim_log_syslog_entry(&b, l->spec, tag, l->hostname, (int)getpid(), text, n, stream, &ts);
	if (l->stream_sock)
		sb_add(&b, "\n", 1);
	if (b.oom)
		goto out;
	/* One reconnect when the syslog daemon restarted; EAGAIN drops. */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (l->fd >= 0 && send(l->fd, b.buf, b.len, MSG_NOSIGNAL) >= 0)
			break;
		if (l->fd >= 0 && errno == EAGAIN)
			break;
		if (syslog_connect(l) < 0)
			break;
	}
out:
	sb_release(&b);
}

/* ---- lines ---- */

static void write_entry(struct shim_logger *l, const char *text, size_t n, int stream)
{
	if (n == 0)
		return;
	if (l->spec->driver == SHIM_LOG_JSON_FILE)
		json_write(l, text, n, stream);
	else if (l->spec->driver == SHIM_LOG_SYSLOG)
		syslog_write(l, text, n, stream);
}

void shim_log_feed(struct shim_logger *l, int stream, const char *data, size_t n)
{
	struct shim_stream_buf *sb = &l->out[stream == 2];

	if (l->spec->driver == SHIM_LOG_NONE)
		return;
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) + 1 : n;

		if (sb->len == 0 && nl && take <= SHIM_LOG_LINE_MAX) {
			write_entry(l, data, take, stream); /* the common case: no copy */
		} else {
			if (!sb->buf && !(sb->buf = malloc(SHIM_LOG_LINE_MAX)))
				return;
			if (take > SHIM_LOG_LINE_MAX - sb->len)
				take = SHIM_LOG_LINE_MAX - sb->len;
			memcpy(sb->buf + sb->len, data, take);
			sb->len += take;
			if (sb->buf[sb->len - 1] == '\n' || sb->len == SHIM_LOG_LINE_MAX) {
				write_entry(l, sb->buf, sb->len, stream);
				sb->len = 0;
			}
		}
		data += take;
		n -= take;
	}
	if (sb->len == 0 && sb->buf) {
		free(sb->buf); /* long lines are rare: do not keep 16 KiB per stream */
		sb->buf = NULL;
	}
}

void shim_log_flush(struct shim_logger *l, int stream)
{
	struct shim_stream_buf *sb = &l->out[stream == 2];

	if (sb->len)
		write_entry(l, sb->buf, sb->len, stream);
	free(sb->buf);
	*sb = (struct shim_stream_buf){ 0 };
}

int shim_log_open(const struct shim_log_spec *spec, const char *logs_dir, const char *name,
		  struct shim_logger **ret)
{
	struct shim_logger *l = calloc(1, sizeof(*l));
	int r = 0;

	if (!l)
		return -ENOMEM;
	l->spec = spec;
	l->name = name;
	l->dirfd = l->fd = -1;
	if (spec->driver == SHIM_LOG_JSON_FILE) {
		r = json_open(l, logs_dir);
	} else if (spec->driver == SHIM_LOG_SYSLOG) {
		if (gethostname(l->hostname, sizeof(l->hostname) - 1) < 0)
			snprintf(l->hostname, sizeof(l->hostname), "localhost");
		(void)syslog_connect(l); /* no syslog daemon yet: retried per message */
	}
	if (r < 0) {
		shim_log_close(l);
		return r;
	}
	*ret = l;
	return 0;
}

void shim_log_close(struct shim_logger *l)
{
	if (!l)
		return;
	shim_log_flush(l, 1);
	shim_log_flush(l, 2);
	if (l->fd >= 0)
		close(l->fd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l);
}
