/* tests/unit/test_cql.c - the cluster query language: a table of valid
 * expressions with their value on two instances, a table of invalid ones
 * with the position of the error, each operator and spelling, precedence,
 * regex full match, times and versions, and hostile input. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "scheduler/cql.h"

static const struct sched_attr attrs_a[] = {
	{ "ecs.availability-zone", "us-east-1a" },
	{ "ecs.instance-type", "t2.small" },
	{ "stack", "prod" },
	{ "slots", "12" },
	{ "ecs.capability.efs", NULL },
};
static const struct sched_group_count groups_a[] = {
	{ "service:production", 2 },
	{ "database", 1 },
	{ "family:gone", 0 },
};
static const struct sched_attr attrs_b[] = {
	{ "ecs.availability-zone", "us-east-1d" },
	{ "ecs.instance-type", "g2.2xlarge" },
	{ "slots", "9" },
};

/* A: 2018-06-18T22:28:28Z, agent 1.14.5, 3 tasks.  B: 2018-02-01, agent 1.9.0, none. */
static const struct sched_instance inst_a = {
	.id = "a", .ec2_instance_id = "i-abcd1234", .agent_connected = true,
	.attrs = attrs_a, .n_attrs = ARRAY_SIZE(attrs_a),
	.registered_at_ms = 1529360908000LL, .agent_version = "1.14.5", .running_tasks = 3,
	.groups = groups_a, .n_groups = ARRAY_SIZE(groups_a),
};
static const struct sched_instance inst_b = {
	.id = "b", .ec2_instance_id = "i-wxyz7890", .agent_connected = false,
	.attrs = attrs_b, .n_attrs = ARRAY_SIZE(attrs_b),
	.registered_at_ms = 1517443200000LL, .agent_version = "1.9.0", .running_tasks = 0,
};

struct valid_case {
	const char *expr;
	bool on_a, on_b;
};

static const struct valid_case valid[] = {
	/* the guide's examples */
	{ "attribute:ecs.instance-type == t2.small", true, false },
	{ "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true, false },
	{ "attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", false, false },
	{ "attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1a", false, true },
	{ "task:group == service:production", true, false },
	{ "not(task:group == database)", false, true },
	{ "runningTasksCount == 1", false, false },
	{ "agentVersion < 1.14.5", false, true },
	{ "registeredAt < 2018-02-13", false, true },
	{ "ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true, false },
	{ "attribute:stack exists", true, false },
	/* every operator, both spellings */
	{ "attribute:stack equals prod", true, false },
	{ "attribute:stack not_equals prod", false, true },
	{ "attribute:stack != prod", false, true },
	{ "attribute:slots > 10", true, false },
	{ "attribute:slots greater_than 9", true, false },
	{ "attribute:slots >= 9", true, true },
	{ "attribute:slots greater_than_equal 12", true, false },
	{ "attribute:slots < 10", false, true },
	{ "attribute:slots less_than 13", true, true },
	{ "attribute:slots <= 9", false, true },
	{ "attribute:slots less_than_equal 8.5", false, false },
	{ "attribute:ecs.instance-type < u", true, true },       /* byte-wise */
	{ "attribute:stack !exists", false, true },
	{ "attribute:stack not_exists", false, true },
	{ "attribute:ecs.capability.efs exists", true, false },
	{ "attribute:ecs.capability.efs == x", false, false },   /* name-only */
	{ "attribute:ecs.instance-type in [t2.small]", true, false },
	{ "attribute:ecs.instance-type in t2.small", true, false },
	{ "attribute:ecs.instance-type !in [t2.small, x]", false, true },
	{ "attribute:ecs.instance-type not_in [t2.small,g2.2xlarge]", false, false },
	{ "attribute:ecs.instance-type matches 't2\\..*'", true, false },
	{ "attribute:ecs.instance-type =~ t2", false, false },    /* full match */
	{ "attribute:ecs.instance-type !~ t2.*", false, true },
	{ "attribute:ecs.instance-type not_matches 'g2.(2x|x)large'", true, false },
	{ "attribute:ecs.instance-type =~ 't2.small|t2'", true, false },
	{ "attribute:missing != x", true, true },
	{ "attribute:missing == x", false, false },
	{ "attribute:missing !~ x", true, true },
	{ "agentConnected == true", true, false },
	{ "agentConnected != TRUE", false, true },
	{ "agentConnected in [false]", false, true },
	{ "agentConnected =~ 'f.*'", false, true },
	{ "agentVersion == 1.14.5.0", true, false },
	{ "agentVersion >= 1.10", true, false },
	{ "agentVersion greater_than 1.9", true, false },
	{ "agentVersion <= 1.9", false, true },
	{ "ec2InstanceId == i-wxyz7890", false, true },
	{ "ec2InstanceId =~ 'i-[a-d]+[0-9]{4}'", true, false },
	{ "ec2InstanceId !in [i-abcd1234]", false, true },
	{ "registeredAt == 2018-06-18T22:28:28Z", true, false },
	{ "registeredAt == 2018-06-18T22:28:28", true, false },
	{ "registeredAt == 2018-06-18T22:28:28+00:00", true, false },
	{ "registeredAt == 2018-06-19T00:28:28+02:00", true, false },
	{ "registeredAt == 2018-06-18T22:28:28.000Z", true, false },
	{ "registeredAt > 2018-06-18", true, false },
	{ "registeredAt <= 2018-02-01", false, true },
	{ "runningTasksCount > 2", true, false },
	{ "runningTasksCount <= 0", false, true },
	{ "runningTasksCount != 3", false, true },
	{ "task:group in [x, database]", true, false },
	{ "task:group != database", false, true },
	{ "task:group =~ 'service:.*'", true, false },
	{ "task:group == family:gone", false, false },           /* count 0 */
	{ "task:group not_in [family:gone]", true, true },
	/* regexes within the limits: anchors first/last only, dropped (full match anyway) */
	{ "attribute:ecs.instance-type =~ '^t2[.](small|micro)$'", true, false },
	{ "attribute:ecs.instance-type =~ '^g2'", false, false },
	{ "attribute:stack =~ '^(prod|)$'", true, false },
	{ "attribute:slots =~ '[[:digit:]]{1,2}'", true, true },
	{ "attribute:ecs.instance-type =~ '(g2|t2)+[.][]a-z0-9]+'", true, true },
	{ "ec2InstanceId =~ 'i-[^0-9]{0,255}[0-9]{4}'", true, true },
	{ "attribute:ecs.instance-type =~ 't2\\.small$'", true, false },
	{ "attribute:ecs.availability-zone =~ 'us-east-1[a-c]{,1}'", true, false },
	/* boolean structure: precedence not > and > or */
	{ "attribute:stack exists or attribute:slots == 9 and agentConnected == true", true, false },
	{ "(attribute:stack exists or attribute:slots == 9) and agentConnected == false", false, true },
	{ "not attribute:stack exists and attribute:slots == 9", false, true },
	{ "not (attribute:stack exists and attribute:slots == 9)", true, true },
	{ "!attribute:stack exists || runningTasksCount > 1", true, true },
	{ "attribute:stack exists && attribute:slots == 12 || ec2InstanceId == i-wxyz7890", true, true },
	{ "ec2InstanceId == i-wxyz7890 || attribute:stack exists && attribute:slots == 9", false, true },
	{ "not not attribute:stack exists", true, false },
	{ "((((attribute:stack exists))))", true, false },
	{ "attribute:stack exists AND NOT agentConnected == false Or runningTasksCount == 0", true, true },
	{ "attribute:slots==12&&agentConnected==true", true, false },
	{ "  \tattribute:stack == 'prod'  ", true, false },
	{ "attribute:stack == \"prod\"", true, false },
	{ "attribute:stack == 'pr od'", false, false },
	{ "attribute:stack in ['a b', prod]", true, false },
	{ "(task:group == service:production)and(attribute:stack == prod)", true, false },
};

static void test_valid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		_cleanup_(cql_freep) struct cql *q = NULL;
		struct err e = ERR_INIT;
		int r = cql_compile(valid[i].expr, &q, NULL, &e);

		if (r < 0)
			fail_msg("%s: %s", valid[i].expr, e.msg);
		if (cql_eval(q, &inst_a, NULL) != valid[i].on_a || cql_eval(q, &inst_b, NULL) != valid[i].on_b)
			fail_msg("%s: a=%d b=%d, want a=%d b=%d", valid[i].expr, cql_eval(q, &inst_a, NULL),
				 cql_eval(q, &inst_b, NULL), valid[i].on_a, valid[i].on_b);
	}
}

struct invalid_case {
	const char *expr;
	size_t pos;
	const char *expected;   /* substring of the message */
};

static const struct invalid_case invalid[] = {
	{ "", 0, "a subject" },
	{ "   ", 3, "a subject" },
	{ "attribute: == x", 0, "a subject" },
	{ "attribute:a:b == x", 11, "attribute name" },
	{ "color == red", 0, "a subject" },
	{ "attribute:x", 11, "an operator" },
	{ "attribute:x = y", 12, "an operator" },
	{ "attribute:x ==", 14, "a value" },
	{ "attribute:x == 'abc", 15, "closing quote" },
	{ "attribute:x in [a, b", 20, "',' or ']'" },
	{ "attribute:x in []", 16, "a value" },
	{ "attribute:x in [a,,b]", 18, "a value" },
	{ "attribute:x == [a]", 15, "a value" },
	{ "attribute:x == a b", 17, "'and', 'or'" },
	{ "attribute:x == a and", 20, "a subject" },
	{ "(attribute:x == a", 17, "')'" },
	{ "attribute:x == a)", 16, "'and', 'or'" },
	{ "not", 3, "a subject" },
	{ "agentVersion in [1.2]", 13, "valid for this subject" },
	{ "agentVersion == 1..2", 16, "a version" },
	{ "agentVersion =~ 1.*", 13, "valid for this subject" },
	{ "runningTasksCount == -1", 21, "non-negative integer" },
	{ "runningTasksCount > 99999999999999999999", 20, "non-negative integer" },
	{ "runningTasksCount exists", 18, "valid for this subject" },
	{ "runningTasksCount in [0, 7]", 18, "valid for this subject" },
	{ "registeredAt < 2018-13-01", 15, "a time" },
	{ "registeredAt < 2018-02-30", 15, "a time" },
	{ "registeredAt < 2018-02-01T25:00:00", 15, "a time" },
	{ "registeredAt < 2018-02-01Z", 15, "a time" },
	{ "agentConnected == yes", 18, "true or false" },
	{ "ec2InstanceId > i-1", 14, "valid for this subject" },
	{ "task:group exists", 11, "valid for this subject" },
	{ "attribute:x =~ '('", 16, "')' closing this group of the regular expression" },
	{ "attribute:x =~ [a, b]", 15, "a value" },
	{ "attribute:x in [a] or", 21, "a subject" },
	{ "attribute:x == a andb == c", 17, "'and', 'or'" },
	{ "attribute:x == a \x01", 17, "printable" },
	{ "attribute:x == \x7f", 15, "printable" },
	{ "(((", 3, "a subject" },
	{ "!!", 2, "a subject" },
};

static void test_invalid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		struct cql *q = NULL;
		struct err e = ERR_INIT;
		size_t pos = 9999;
		int r = cql_compile(invalid[i].expr, &q, &pos, &e);

		if (r != -EINVAL)
			fail_msg("'%s' compiled (r=%d)", invalid[i].expr, r);
		assert_null(q);
		assert_string_equal(e.type, "InvalidParameterException");
		if (pos != invalid[i].pos || !strstr(e.msg, invalid[i].expected))
			fail_msg("'%s': pos %zu msg '%s', want pos %zu and '%s'", invalid[i].expr, pos,
				 e.msg, invalid[i].pos, invalid[i].expected);
	}
}

/* Patterns glibc's regcomp would expand into gigabytes (stacked and nested
 * quantifiers copy their operand; an anchor copies the epsilon closure
 * behind it once per path): refused before regcomp, with the position of
 * the offending byte in the expression.  Without the checks the first one
 * alone takes ~3 GiB and seconds. */
static const struct invalid_case hostile_regex[] = {
	{ "attribute:x =~ \"a++++++++++++++++++++++\"", 18, "directly after another quantifier" },
	{ "attribute:x =~ \"(((a{0,30}){0,30}){0,30})\"", 27, "group that holds only a repeated element" },
	{ "attribute:x =~ a**", 17, "directly after another quantifier" },
	{ "attribute:x =~ 'a*?'", 18, "directly after another quantifier" },
	{ "attribute:x =~ 'a{2}{3}'", 20, "directly after another quantifier" },
	{ "attribute:x =~ '(a+)+'", 20, "group that holds only a repeated element" },
	{ "attribute:x =~ '((a*))*'", 22, "group that holds only a repeated element" },
	{ "task:group =~ '+a'", 15, "something to repeat" },
	{ "attribute:x =~ 'a{256}'", 17, "at most 255" },
	{ "attribute:x =~ 'a{1,99999999999999999999}'", 17, "at most 255" },
	{ "attribute:x =~ 'a{3,2}'", 17, "m <= n" },
	{ "attribute:x =~ 'a{x}'", 17, "an interval" },
	{ "attribute:x =~ 'a{2'", 17, "an interval" },
	{ "attribute:x =~ '((ab{0,20}){0,20}c){0,5}'", 35, "multiply to at most 1000" },
	{ "attribute:x =~ '(abcdefghij){0,100}'", 28, "at most 1024 elements" },
	{ "attribute:x =~ '(a?b?c?d?e?f?g?h?i?j?k?l?m?n?o?p?q?r?s?t?u?v?w?x?y?z?){19}'", 70, "at most 1024 elements" },
	{ "attribute:x =~ 'a{255}a{255}a{255}a{255}'", 28, "at most 1024 elements" },
	{ "attribute:x =~ '$(|||||||){55}'", 16, "'$' only at the end" },
	{ "attribute:x =~ '(^|$|^|$|^|$|^|$){30}'", 17, "'^' only at the start" },
	{ "attribute:x =~ 'a(b$)'", 19, "'$' only at the end" },
	{ "ec2InstanceId =~ '\\b(|||||||){40}'", 18, "word or buffer anchor" },
	{ "ec2InstanceId =~ 'x\\`'", 19, "word or buffer anchor" },
	{ "attribute:x =~ '(a)\\1'", 19, "back-reference" },
	{ "attribute:x =~ '((a*)*b)*\\2'", 21, "group that holds only a repeated element" },
	{ "attribute:x =~ '[[:alpha:]'", 16, "']' closing this bracket" },
	{ "attribute:x =~ '[a'", 16, "']' closing this bracket" },
	{ "attribute:x =~ 'ab\\'", 18, "a character after" },
	{ "attribute:x =~ '[[:nope:]]'", 16, "a valid POSIX extended regular expression" },
};

static void test_hostile_regex(void **state)
{
	char buf[400];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hostile_regex); i++) {
		const struct invalid_case *c = &hostile_regex[i];
		struct cql *q = NULL;
		struct err e = ERR_INIT;
		size_t pos = 9999;
		int r = cql_compile(c->expr, &q, &pos, &e);

		if (r != -EINVAL)
			fail_msg("'%s' compiled (r=%d)", c->expr, r);
		assert_null(q);
		assert_string_equal(e.type, "InvalidParameterException");
		if (pos != c->pos || !strstr(e.msg, c->expected))
			fail_msg("'%s': pos %zu msg '%s', want pos %zu and '%s'", c->expr, pos,
				 e.msg, c->pos, c->expected);
	}
	/* 256 bytes of pattern compile, 257 do not */
	snprintf(buf, sizeof(buf), "attribute:x =~ '%0256d'", 7);
	assert_int_equal(strlen(buf), 16 + 256 + 1);
	{
		_cleanup_(cql_freep) struct cql *q = NULL;
		struct err e = ERR_INIT;

		assert_int_equal(cql_compile(buf, &q, NULL, &e), 0);
	}
	snprintf(buf, sizeof(buf), "attribute:x =~ '%0257d'", 7);
	{
		struct cql *q = NULL;
		struct err e = ERR_INIT;
		size_t pos = 0;

		assert_int_equal(cql_compile(buf, &q, &pos, &e), -EINVAL);
		assert_int_equal(pos, 16 + 256);
		assert_non_null(strstr(e.msg, "at most 256 characters"));
	}
}

/* A "Name:   N kB" line of /proc/self/status, in KiB; -1 if missing. */
static long proc_status_kib(const char *name)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, name, strlen(name)) == 0)
			v = strtol(line + strlen(name), NULL, 10);
	return v;
}

/* Run as "test_cql --peak EXPR": prints the peak resident memory, in KiB,
 * that compiling EXPR added (-1 if it did not compile). */
static int peak_main(const char *expr)
{
	struct cql *q = NULL;
	struct err e = ERR_INIT;
	long before = proc_status_kib("VmRSS:");

	/* "5" resets VmHWM to the current RSS: the peak starts here */
	if (write_file_at(AT_FDCWD, "/proc/self/clear_refs", "5", 1) < 0)
		return 1;
	printf("%ld\n", cql_compile(expr, &q, NULL, &e) == 0 ? proc_status_kib("VmHWM:") - before : -1L);
	cql_free(q);
	return 0;
}

/* Peak memory of compiling EXPR, in a fresh copy of this program whose ASan
 * keeps no quarantine (else every byte regcomp frees would stay resident
 * and count).  In KiB; negative if it did not compile or did not report. */
static long compile_peak_kib(const char *expr)
{
	char *argv[] = { "test_cql", "--peak", (char *)expr, NULL };
	char *envp[] = { "ASAN_OPTIONS=quarantine_size_mb=0:detect_leaks=0", NULL };
	int fd[2], status;
	long kib = -2;
	FILE *f;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	close(fd[1]);
	f = fdopen(fd[0], "r");
	assert_non_null(f);
	if (fscanf(f, "%ld", &kib) != 1)
		kib = -2;
	fclose(f);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return kib;
}

/* The costliest shapes that still pass the checks (found by a mutating
 * search for the slowest regcomp) stay small: each took 1-3.5 GiB before
 * the anchors and the expanded size were bounded. */
static void test_accepted_regex_memory(void **state)
{
	static const char *const worst[] = {
		"attribute:x =~ '^(|||||||){55}'",
		"attribute:x =~ '(a?b?c?d?e?f?g?h?i?j?k?l?m?n?o?p?q?r?s?t?u?v?w?x?y?z?){18}'",
		"attribute:x =~ '(a*|b*|c*|d*|e*|f*|g*|h*|i*|j*|k*|l*|m*|n*|o*|p*|q*|r*|s*|t*|u*|v*|w*|x*|y*|z*){12}'",
		"attribute:x =~ '(()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*()*){8}'",
		"attribute:x =~ '(||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||){16}'",
		"attribute:x =~ '((.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)(.*)){9}'",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(worst); i++) {
		long kib = compile_peak_kib(worst[i]);

		if (kib < 0 || kib > 64 * 1024)
			fail_msg("%s: peak %ld KiB", worst[i], kib);
		print_message("# %ld KiB for %s\n", kib, worst[i]);
	}
}

/* Random patterns over the regex alphabet: refused at a position inside the
 * expression, or compiled and evaluable (ASan checks the walk's bounds). */
static void test_regex_garbage(void **state)
{
	static const char alphabet[] = "ab.()|*+?{}0123456789,[]^$\\:-=";
	uint64_t x = 0x2545f4914f6cdd1dULL;
	char buf[200];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct cql *q = NULL;
		struct err e = ERR_INIT;
		size_t pos = SIZE_MAX, len, n;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len = x % 40;
		n = (size_t)snprintf(buf, sizeof(buf), "attribute:stack =~ '");
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[n++] = alphabet[x % (sizeof(alphabet) - 1)];
		}
		snprintf(buf + n, sizeof(buf) - n, "'");
		if (cql_compile(buf, &q, &pos, &e) == 0) {
			(void)cql_eval(q, &inst_a, NULL);
			cql_free(q);
		} else {
			assert_true(pos <= strlen(buf));
			assert_true(e.msg[0] != '\0');
		}
	}
}

static void test_delta_counts_placed_tasks(void **state)
{
	_cleanup_(cql_freep) struct cql *g = NULL;
	_cleanup_(cql_freep) struct cql *n = NULL;
	_cleanup_(cql_freep) struct cql *a = NULL;
	struct cql_delta d = { "web", 2 };
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(cql_compile("not(task:group == web)", &g, NULL, &e), 0);
	assert_int_equal(cql_compile("runningTasksCount < 4", &n, NULL, &e), 0);
	assert_int_equal(cql_compile("attribute:stack == prod", &a, NULL, &e), 0);
	assert_true(cql_depends_on_tasks(g));
	assert_true(cql_depends_on_tasks(n));
	assert_false(cql_depends_on_tasks(a));
	assert_true(cql_eval(g, &inst_a, NULL));
	assert_false(cql_eval(g, &inst_a, &d));
	assert_true(cql_eval(n, &inst_a, NULL));
	assert_false(cql_eval(n, &inst_a, &d));
}

static void test_time_and_version(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(cql_parse_time("1970-01-01", 10, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(cql_parse_time("2000-02-29T00:00:01.5Z", 22, &ms), 0);
	assert_int_equal(ms, 951782401500LL);
	assert_int_equal(cql_parse_time("1969-12-31T23:00:00-01:00", 25, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(cql_parse_time("1900-02-29", 10, &ms), -EINVAL);
	assert_int_equal(cql_parse_time("2018-06-18T22:28", 16, &ms), -EINVAL);
	assert_int_equal(cql_parse_time("2018-06-18T22:28:28+0200", 24, &ms), -EINVAL);
	assert_true(cql_version_cmp("1.9", "1.14.5") < 0);
	assert_true(cql_version_cmp("1.14.5", "1.14.5") == 0);
	assert_true(cql_version_cmp("1.2", "1.2.0") == 0);
	assert_true(cql_version_cmp("2", "1.99.99") > 0);
	assert_true(cql_version_cmp("1.2.1", "1.2") > 0);
}

static void test_length_and_depth_limits(void **state)
{
	char buf[4200];
	struct cql *q = NULL;
	struct err e = ERR_INIT;
	size_t pos, n;

	(void)state;
	/* exactly 2000 characters compiles, 2001 does not */
	n = (size_t)snprintf(buf, sizeof(buf), "attribute:x in [");
	while (n < 2000 - 4)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "v,");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%.*s]", (int)(2000 - 1 - n), "zzzzzzzz");
	assert_int_equal(strlen(buf), 2000);
	assert_int_equal(cql_compile(buf, &q, &pos, &e), 0);
	assert_true(cql_eval(q, &(struct sched_instance){ .attrs = (struct sched_attr[]){ { "x", "v" } }, .n_attrs = 1 }, NULL));
	cql_free(q);
	q = NULL;
	strcat(buf, " ");
	assert_int_equal(cql_compile(buf, &q, &pos, &e), -EINVAL);
	assert_int_equal(pos, 2000);
	assert_non_null(strstr(e.msg, "2000"));

	/* 64 levels nest, 65 do not; 1000 '(' fail cleanly */
	n = 0;
	for (int i = 0; i < 63; i++)
		buf[n++] = '(';
	n += (size_t)sprintf(buf + n, "runningTasksCount == 3");
	for (int i = 0; i < 63; i++)
		buf[n++] = ')';
	buf[n] = '\0';
	assert_int_equal(cql_compile(buf, &q, &pos, &e), 0);
	assert_true(cql_eval(q, &inst_a, NULL));
	cql_free(q);
	q = NULL;
	memset(buf, '(', 1000);
	strcpy(buf + 1000, "runningTasksCount == 3");
	assert_int_equal(cql_compile(buf, &q, &pos, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "nesting"));
	memset(buf, '!', 1999);
	buf[1999] = '\0';
	assert_int_equal(cql_compile(buf, &q, &pos, &e), -EINVAL);
	assert_null(q);
}

/* Random bytes and random splices of valid expressions: compile either
 * fails with a position inside the input or yields something evaluable. */
static void test_garbage(void **state)
{
	static const char alphabet[] = "()[],'\" !=<>~&|andortexistsin:attribute.task:group1\x01\xff";
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char buf[300];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct cql *q = NULL;
		struct err e = ERR_INIT;
		size_t pos = SIZE_MAX, len;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len = x % 120;
		if (round % 2) {
			const char *v = valid[(x >> 8) % ARRAY_SIZE(valid)].expr;
			size_t vl = strlen(v), cut = (x >> 20) % (vl + 1);

			snprintf(buf, sizeof(buf), "%.*s", (int)cut, v);
			len = cut;
			if (len && (x >> 40) % 3 == 0)
				buf[(x >> 30) % len] = alphabet[(x >> 50) % (sizeof(alphabet) - 1)];
		} else {
			for (size_t i = 0; i < len; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				buf[i] = alphabet[x % (sizeof(alphabet) - 1)];
			}
			buf[len] = '\0';
		}
		if (cql_compile(buf, &q, &pos, &e) == 0) {
			(void)cql_eval(q, &inst_a, NULL);
			(void)cql_eval(q, &inst_b, &(struct cql_delta){ "g", 1 });
			cql_free(q);
		} else {
			assert_true(pos <= strlen(buf));
			assert_true(e.msg[0] != '\0');
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--peak") == 0)
		return peak_main(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_invalid_table),
		cmocka_unit_test(test_hostile_regex),
		cmocka_unit_test(test_accepted_regex_memory),
		cmocka_unit_test(test_regex_garbage),
		cmocka_unit_test(test_delta_counts_placed_tasks),
		cmocka_unit_test(test_time_and_version),
		cmocka_unit_test(test_length_and_depth_limits),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
