/* runtime/cmd_logs.c - `berth logs TASK [--container NAME] [--follow]
 * [--since T] [--tail N]`: a task's json-file logs (written by the shim),
 * oldest rotated file first; each entry's text goes to stdout or stderr as
 * the container wrote it.  TASK is a task id or ARN.  The task's stateDir
 * comes from its spec.json under $BERTH_RUN_DIR/tasks/<id>, else
 * $BERTH_STATE_DIR/tasks/<id> (both from berth.conf or the environment). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/log.h"
#include "runtime/shim_int.h"

#define CONFIG_PATH "/etc/berth/berth.conf"
#define LOG_FILES_MAX 101

struct logs_opts {
	const char *container;
	bool follow;
	bool since_set;
	double since;
	long tail;          /* -1 = all */
	char logs_dir[PATH_MAX - 256]; /* room for '/<container>.log.N' */
	char exited_path[PATH_MAX];
};

/* "2024-01-02T03:04:05.123Z" -> epoch seconds; -1 if not that form. */
static double parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	double frac = 0;

	if (!p)
		return -1;
	if (*p == '.') {
		char *end;

		frac = strtod(p, &end);
		p = end;
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	return (double)timegm(&tm) + frac;
}

/* --since: RFC 3339 (UTC), epoch seconds, or a duration back from now. */
static int parse_since(const char *s, double *ret)
{
	char *end;
	double v = parse_rfc3339(s);
	uint64_t usec;

	if (v >= 0) {
		*ret = v;
		return 0;
	}
	v = strtod(s, &end);
	if (end != s && *end == '\0' && v >= 0) {
		*ret = v;
		return 0;
	}
	if (config_parse_duration(s, &usec) == 0) {
		*ret = (double)time(NULL) - (double)usec / 1e6;
		return 0;
	}
	return -EINVAL;
}

/* One json-file line; false when it is not one. */
static bool print_entry(const char *line, size_t len, const struct logs_opts *o)
{
	_cleanup_(cJSON_Deletep) cJSON *j = json_parse_strict(line, len);
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "log");
	const cJSON *stream = cJSON_GetObjectItemCaseSensitive(j, "stream");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "time");

	if (!cJSON_IsString(text) || !cJSON_IsString(stream) || !cJSON_IsString(t))
		return false;
	if (o->since_set && parse_rfc3339(t->valuestring) < o->since)
		return true;
	fputs(text->valuestring, strcmp(stream->valuestring, "stderr") == 0 ? stderr : stdout);
	return true;
}

/* The files of CTR, oldest first: name.log.N ... name.log.1, name.log. */
static size_t list_files(const struct logs_opts *o, char paths[][PATH_MAX])
{
	size_t n = 0, rotated = 0;
	char p[PATH_MAX];

	while (rotated + 1 < LOG_FILES_MAX) {
		snprintf(p, sizeof(p), "%s/%s.log.%zu", o->logs_dir, o->container, rotated + 1);
		if (access(p, F_OK) < 0)
			break;
		rotated++;
	}
	for (size_t i = rotated; i > 0; i--)
		snprintf(paths[n++], PATH_MAX, "%s/%s.log.%zu", o->logs_dir, o->container, i);
	snprintf(paths[n++], PATH_MAX, "%s/%s.log", o->logs_dir, o->container);
	return n;
}

/* Every complete line of every file, then the --tail cut. */
static int print_existing(const struct logs_opts *o)
{
	static char paths[LOG_FILES_MAX][PATH_MAX];
	size_t n = list_files(o, paths), count = 0, skip = 0;

	for (int pass = 0; pass < 2; pass++) {
		size_t seen = 0;

		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *text = NULL;
			size_t len;
			char *line, *nl;

			if (read_file_alloc(paths[i], 1u << 30, &text, &len) < 0)
				continue;
			for (line = text; (nl = memchr(line, '\n', len - (size_t)(line - text))); line = nl + 1) {
				if (pass == 0) {
					count++;
					continue;
				}
				if (seen++ < skip)
					continue;
				(void)print_entry(line, (size_t)(nl - line), o);
			}
		}
		if (o->tail >= 0 && (size_t)o->tail < count)
			skip = count - (size_t)o->tail;
	}
	return 0;
}

static void follow_read(int fd, char *buf, size_t *len, size_t cap, const struct logs_opts *o)
{
	ssize_t n;

	while ((n = read(fd, buf + *len, cap - *len)) > 0) {
		char *line = buf, *nl;

		*len += (size_t)n;
		while ((nl = memchr(line, '\n', *len - (size_t)(line - buf)))) {
			(void)print_entry(line, (size_t)(nl - line), o);
			line = nl + 1;
		}
		*len -= (size_t)(line - buf);
		memmove(buf, line, *len);
		if (*len == cap)
			*len = 0; /* not a json-file line: skip it */
		fflush(stdout);
		fflush(stderr);
	}
}

/* Streams what is appended (and follows rotation) until the task's shim
 * is gone (its `exited` marker) and nothing is left to read. */
static int follow(const struct logs_opts *o)
{
	static char buf[SHIM_LOG_LINE_MAX * 8];
	char path[PATH_MAX];
	size_t len = 0;
	struct stat st, cur;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.log", o->logs_dir, o->container);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)lseek(fd, 0, SEEK_END);
	for (;;) {
		bool done = access(o->exited_path, F_OK) == 0;

		follow_read(fd, buf, &len, sizeof(buf), o);
		if (stat(path, &st) == 0 && fstat(fd, &cur) == 0 && st.st_ino != cur.st_ino) {
			follow_read(fd, buf, &len, sizeof(buf), o); /* the rest of the old file */
			close(fd);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return -errno;
			len = 0;
			continue;
		}
		if (done)
			break;
		usleep(100 * 1000);
	}
	close(fd);
	return 0;
}

/* Only one container: it needs no --container. */
static int pick_container(struct logs_opts *o, char *name, size_t size)
{
	DIR *d = opendir(o->logs_dir);
	struct dirent *de;
	int found = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 4 && strcmp(de->d_name + n - 4, ".log") == 0) {
			if (found++ == 0)
				snprintf(name, size, "%.*s", (int)(n - 4), de->d_name);
		}
	}
	closedir(d);
	if (found == 0)
		return -ENOENT;
	if (found > 1)
		return -E2BIG;
	o->container = name;
	return 0;
}

static void locate(const char *task, struct logs_opts *o)
{
	struct config cfg;
	struct err e = ERR_INIT;
	const char *id = strrchr(task, '/') ? strrchr(task, '/') + 1 : task;
	const char *run = "/run/berth", *state = "/var/lib/berth";
	_cleanup_free_ char *spec = NULL;
	char path[PATH_MAX];
	size_t len;
	bool loaded = config_load(&cfg, CONFIG_PATH, false, environ, &e) == 0;

	if (loaded) {
		run = config_get(&cfg, CFG_RUN_DIR);
		state = config_get(&cfg, CFG_STATE_DIR);
	}
	snprintf(o->exited_path, sizeof(o->exited_path), "%s/tasks/%s/exited", run, id);
	snprintf(o->logs_dir, sizeof(o->logs_dir), "%s/tasks/%s/logs", state, id);
	snprintf(path, sizeof(path), "%s/tasks/%s/spec.json", run, id);
	if (read_file_alloc(path, SHIM_SPEC_MAX, &spec, &len) == 0) {
		_cleanup_(cJSON_Deletep) cJSON *j = json_parse_strict(spec, len);
		const cJSON *sd = cJSON_GetObjectItemCaseSensitive(j, "stateDir");

		if (cJSON_IsString(sd) && sd->valuestring[0] == '/')
			snprintf(o->logs_dir, sizeof(o->logs_dir), "%s/logs", sd->valuestring);
	}
	if (loaded)
		config_release(&cfg);
}

static const char usage[] =
	"usage: berth logs TASK [--container NAME] [--follow] [--since TIME] [--tail N]\n"
	"  TASK      task id or ARN\n"
	"  --since   RFC 3339 time (UTC), epoch seconds, or a duration back (10m)\n";

static int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "container", required_argument, NULL, 'c' }, { "follow", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },     { "tail", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
	};
	struct logs_opts o = { .tail = -1 };
	char name[RT_NAME_MAX + 1];
	uint64_t v;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:fs:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': o.container = optarg; break;
		case 'f': o.follow = true; break;
		case 's':
			if (parse_since(optarg, &o.since) < 0) {
				log_error("--since '%s': want an RFC 3339 time, epoch seconds or a duration", optarg);
				return 2;
			}
			o.since_set = true;
			break;
		case 't':
			if (parse_u64(optarg, &v) < 0 || v > LONG_MAX) {
				log_error("--tail '%s': want a whole number", optarg);
				return 2;
			}
			o.tail = (long)v;
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (o.container && (!o.container[0] || strlen(o.container) > RT_NAME_MAX ||
			    strspn(o.container, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						"0123456789_-") != strlen(o.container))) {
		log_error("--container '%s': not a container name", o.container);
		return 2;
	}
	{
		const char *id = strrchr(argv[optind], '/') ? strrchr(argv[optind], '/') + 1 : argv[optind];

		if (!id[0] || strlen(id) > 64 ||
		    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(id)) {
			log_error("'%s': not a task id or ARN", argv[optind]);
			return 2;
		}
	}
	locate(argv[optind], &o);
	if (!o.container) {
		r = pick_container(&o, name, sizeof(name));
		if (r == -E2BIG) {
			log_error("task '%s' has several containers: pick one with --container", argv[optind]);
			return 1;
		}
		if (r < 0) {
			log_error_errno(r, "no json-file logs for task '%s' in '%s'", argv[optind], o.logs_dir);
			return 1;
		}
	}
	print_existing(&o);
	fflush(stdout);
	fflush(stderr);
	if (o.follow) {
		r = follow(&o);
		if (r < 0) {
			log_error_errno(r, "follow the log of container '%s'", o.container);
			return 1;
		}
	}
	return 0;
}

BERTH_COMMAND(logs, "logs", cmd_logs, "print a task's container logs (json-file)");
