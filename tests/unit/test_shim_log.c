/* tests/unit/test_shim_log.c - the shim's log drivers: json-file entries
 * (escaping, time), line splitting, rotation, and syslog formats. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fileio.h"
#include "lib/json.h"
#include "runtime/shim_int.h"

static const struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 123450000 };

static void test_json_entry(void **state)
{
	struct sbuf b = { 0 };

	(void)state;
	shim_log_json_entry(&b, "hi \"x\"\\\t\x01\n", 10, 1, &ts);
	assert_string_equal(b.buf, "{\"log\":\"hi \\\"x\\\"\\\\\\t\\u0001\\n\",\"stream\":\"stdout\","
				   "\"time\":\"2023-11-14T22:13:20.12345Z\"}\n");
	b.len = 0;
	/* valid UTF-8 passes; broken sequences become U+FFFD, the line stays JSON */
	shim_log_json_entry(&b, "\xc3\xa9\xff\xe2\x82", 5, 2, &ts);
	assert_non_null(strstr(b.buf, "\"log\":\"\xc3\xa9\\ufffd\\ufffd\\ufffd\""));
	assert_non_null(strstr(b.buf, "\"stream\":\"stderr\""));
	sb_release(&b);
}

static void test_time_format(void **state)
{
	char buf[64];
	struct timespec whole = { .tv_sec = 0, .tv_nsec = 0 }, nano = { .tv_sec = 1, .tv_nsec = 1 };

	(void)state;
	shim_format_time(&whole, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	shim_format_time(&nano, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:01.000000001Z");
}

static void test_syslog_formats(void **state)
{
	struct shim_log_spec spec = { .driver = SHIM_LOG_SYSLOG, .facility = 3 };
	struct sbuf b = { 0 };

	(void)state;
	spec.format = SHIM_SYSLOG_RFC5424;
	shim_log_syslog_entry(&b, &spec, "web", "host1", 42, "hello\n", 6, 1, &ts);
	assert_string_equal(b.buf, "<30>1 2023-11-14T22:13:20.12345Z host1 web 42 web - hello");
	b.len = 0;
	spec.format = SHIM_SYSLOG_RFC3164;
	spec.facility = 16;
	shim_log_syslog_entry(&b, &spec, "web", "host1", 42, "oops\n", 5, 2, &ts);
	/* local0 * 8 + err: <131>; the local time stamp is 15 characters */
	assert_memory_equal(b.buf, "<131>", 5);
	assert_string_equal(b.buf + 5 + 15, " host1 web[42]: oops");
	b.len = 0;
	spec.format = SHIM_SYSLOG_LOCAL;
	shim_log_syslog_entry(&b, &spec, "web", "host1", 42, "x", 1, 1, &ts);
	assert_string_equal(b.buf + 5 + 15, " web[42]: x");
	sb_release(&b);
}

static char dir[] = "/tmp/test_shim_log.XXXXXX";

static int setup_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int count_lines(const char *name, char *last, size_t size)
{
	char path[256], *text = NULL, *p;
	size_t len;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file_alloc(path, 1 << 20, &text, &len) < 0)
		return -1;
	for (p = text; *p; p++)
		n += *p == '\n';
	if (last && n) {
		char *end = text + len - 1, *start = end;

		while (start > text && start[-1] != '\n')
			start--;
		snprintf(last, size, "%.*s", (int)(end - start), start);
	}
	free(text);
	return n;
}

static void test_rotation(void **state)
{
	struct shim_log_spec spec = { .driver = SHIM_LOG_JSON_FILE, .max_size = 1024, .max_file = 3 };
	struct shim_logger *l;
	char line[64], last[256], path[256];
	struct stat st;

	(void)state;
	assert_int_equal(shim_log_open(&spec, dir, "app", &l), 0);
	for (int i = 0; i < 100; i++) {
		int n = snprintf(line, sizeof(line), "line %03d ------------------\n", i);

		shim_log_feed(l, 1, line, (size_t)n);
	}
	shim_log_close(l);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/app.log%s", dir, i == 0 ? "" : i == 1 ? ".1" : ".2");
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size <= 1024);
		assert_true(st.st_size > 512);
	}
	snprintf(path, sizeof(path), "%s/app.log.3", dir);
	assert_int_equal(stat(path, &st), -1);
	assert_true(count_lines("app.log", last, sizeof(last)) > 0);
	assert_non_null(strstr(last, "line 099"));
	/* the three files hold consecutive lines: .2 ends where .1 begins */
	assert_true(count_lines("app.log.2", last, sizeof(last)) > 0);
	assert_non_null(strstr(last, "\"stream\":\"stdout\""));
}

static void test_rotate_one_file(void **state)
{
	int fd;
	char path[256];
	struct stat st;

	(void)state;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(write_file_create_at(fd, "one.log", "old\n", 4, 0640), 0);
	int nfd = shim_log_rotate(fd, "one.log", 1);

	assert_true(nfd >= 0);
	close(nfd);
	snprintf(path, sizeof(path), "%s/one.log", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0); /* max-file 1: emptied, nothing kept */
	snprintf(path, sizeof(path), "%s/one.log.1", dir);
	assert_int_equal(stat(path, &st), -1);
	close(fd);
}

static void test_split_lines(void **state)
{
	struct shim_log_spec spec = { .driver = SHIM_LOG_JSON_FILE, .max_size = 0, .max_file = 1 };
	struct shim_logger *l;
	char path[256], *text = NULL, *big;
	size_t len;
	cJSON *j;

	(void)state;
	assert_int_equal(shim_log_open(&spec, dir, "split", &l), 0);
	/* a line in three reads, two lines in one read, a partial at the end */
	shim_log_feed(l, 1, "hel", 3);
	shim_log_feed(l, 1, "lo wo", 5);
	shim_log_feed(l, 1, "rld\nsecond\nthird\n", 17);
	shim_log_feed(l, 2, "err-no-newline", 14);
	big = malloc(SHIM_LOG_LINE_MAX + 10);
	assert_non_null(big);
	memset(big, 'x', SHIM_LOG_LINE_MAX + 9);
	big[SHIM_LOG_LINE_MAX + 9] = '\n';
	shim_log_feed(l, 1, big, SHIM_LOG_LINE_MAX + 10);
	free(big);
	shim_log_close(l); /* flushes the stderr partial */
	snprintf(path, sizeof(path), "%s/split.log", dir);
	assert_int_equal(read_file_alloc(path, 1 << 20, &text, &len), 0);
	const char *want[] = { "hello world\n", "second\n", "third\n", NULL, NULL, "err-no-newline" };
	size_t want_len[] = { 12, 7, 6, SHIM_LOG_LINE_MAX, 10, 14 };
	char *p = text;

	for (size_t i = 0; i < 6; i++) {
		char *nl = strchr(p, '\n');
		const cJSON *log;

		assert_non_null(nl);
		j = json_parse_strict(p, (size_t)(nl - p));
		assert_non_null(j);
		log = cJSON_GetObjectItem(j, "log");
		assert_int_equal(strlen(log->valuestring), want_len[i]);
		if (want[i])
			assert_string_equal(log->valuestring, want[i]);
		cJSON_Delete(j);
		p = nl + 1;
	}
	assert_int_equal(*p, '\0');
	free(text);
}

static void test_none_driver(void **state)
{
	struct shim_log_spec spec = { .driver = SHIM_LOG_NONE };
	struct shim_logger *l;
	char path[256];
	struct stat st;

	(void)state;
	assert_int_equal(shim_log_open(&spec, dir, "quiet", &l), 0);
	shim_log_feed(l, 1, "x\n", 2);
	shim_log_close(l);
	snprintf(path, sizeof(path), "%s/quiet.log", dir);
	assert_int_equal(stat(path, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_entry),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_syslog_formats),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_rotate_one_file),
		cmocka_unit_test(test_split_lines),
		cmocka_unit_test(test_none_driver),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
