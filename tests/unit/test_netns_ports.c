/* tests/unit/test_netns_ports.c - the host port allocator (pure, with a fake
 * probe), range selection, reserved-port parsing, and the real bind probe. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <stdlib.h>

#include "netns/portmap.h"
#include "netns/ports.h"

/* A fake host: ports in busy[] cannot be bound; counts probes. */
struct fake_host {
	uint16_t busy[64];
	size_t n_busy;
	unsigned probes;
};

static bool fake_probe(enum port_proto proto, uint16_t port, void *data)
{
	struct fake_host *h = data;

	(void)proto;
	h->probes++;
	for (size_t i = 0; i < h->n_busy; i++)
		if (h->busy[i] == port)
			return false;
	return true;
}

static struct port_alloc A;  /* 32 KiB: keep it off the stack */

static void test_proto_names(void **state)
{
	enum port_proto p;

	(void)state;
	assert_int_equal(port_proto_from_string("tcp", &p), 0);
	assert_int_equal(p, PORT_TCP);
	assert_int_equal(port_proto_from_string("udp", &p), 0);
	assert_int_equal(p, PORT_UDP);
	assert_int_equal(port_proto_from_string("TCP", &p), -EINVAL);
	assert_int_equal(port_proto_from_string("sctp", &p), -EINVAL);
	assert_int_equal(port_proto_from_string("", &p), -EINVAL);
	assert_string_equal(port_proto_to_string(PORT_UDP), "udp");
	assert_int_equal(port_proto_ipproto(PORT_TCP), IPPROTO_TCP);
}

static void test_range_choose(void **state)
{
	static const struct {
		const char *conf, *kernel;
		enum port_range_source src;
		uint16_t first, last;
	} cases[] = {
		{ "40000-40010", "32768\t60999\n", PORT_RANGE_CONFIG, 40000, 40010 },
		{ NULL, "32768\t60999\n", PORT_RANGE_KERNEL, 32768, 60999 },
		{ "", "32768\t60999\n", PORT_RANGE_KERNEL, 32768, 60999 },
		{ "bogus", "1024 65535", PORT_RANGE_KERNEL, 1024, 65535 },
		{ "50000-40000", "32768 60999", PORT_RANGE_KERNEL, 32768, 60999 },
		{ "0-100", NULL, PORT_RANGE_BUILTIN, 49153, 65535 },
		{ "1-70000", NULL, PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, NULL, PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, "", PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, "32768", PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, "60999 32768", PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, "0 100", PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, "1 65536", PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, "1 2 3", PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, "-5 10", PORT_RANGE_BUILTIN, 49153, 65535 },
		{ NULL, "5000 5000\n", PORT_RANGE_KERNEL, 5000, 5000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct port_range r = { 0, 0 };

		assert_int_equal(port_range_choose(cases[i].conf, cases[i].kernel, &r), cases[i].src);
		assert_int_equal(r.first, cases[i].first);
		assert_int_equal(r.last, cases[i].last);
	}
}

static void test_port_list(void **state)
{
	static const char *const bad[] = {
		"", "22", "[22,]", "[\"22\"]", "[0]", "[65536]", "[22.5]", "[-1]", "{}",
		"[22] x", "[[22]]", "[true]", "[1e9]", "[22, null]",
	};
	uint16_t p[8];
	size_t n = 99;

	(void)state;
	assert_int_equal(port_list_parse("[22, 2375, 2376, 51678, 51679]", p, 8, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(p[0], 22);
	assert_int_equal(p[4], 51679);
	assert_int_equal(port_list_parse(" [ ] ", p, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(port_list_parse("[65535, 1]", p, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(port_list_parse("[1,2,3]", p, 2, &n), -E2BIG);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(port_list_parse(bad[i], p, 8, &n), -EINVAL);
}

static void test_dynamic_sequence_and_wrap(void **state)
{
	struct fake_host h = { .n_busy = 0 };
	uint16_t p;

	(void)state;
	port_alloc_init(&A, (struct port_range){ 100, 104 }, fake_probe, &h);
	for (uint16_t want = 100; want <= 104; want++) {
		assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
		assert_int_equal(p, want);
	}
	/* full */
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), -EADDRNOTAVAIL);
	/* udp is independent */
	assert_int_equal(port_alloc_dynamic(&A, PORT_UDP, 1, &p), 0);
	assert_int_equal(p, 100);
	/* free 102: next-after-last (104) wraps and finds 102, not 100's neighbour */
	port_alloc_release(&A, PORT_TCP, 102, 1);
	port_alloc_release(&A, PORT_TCP, 101, 1);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 101);
	/* after 101 comes 102 (scan forward from last+1), not a restart */
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 102);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), -EADDRNOTAVAIL);
}

static void test_dynamic_next_after_last(void **state)
{
	struct fake_host h = { .n_busy = 0 };
	uint16_t p;

	(void)state;
	port_alloc_init(&A, (struct port_range){ 1000, 1999 }, fake_probe, &h);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 1000);
	port_alloc_release(&A, PORT_TCP, 1000, 1);
	/* a released port is not handed out again at once */
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 1001);
	/* a cursor outside the range (range changed) restarts at the first port */
	A.last[PORT_TCP] = 5000;
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 1000);
	A.last[PORT_TCP] = 1999;
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 1002);
}

static void test_dynamic_skips_busy_and_reserved(void **state)
{
	struct fake_host h = { .busy = { 201, 203 }, .n_busy = 2 };
	uint16_t res[] = { 202, 205 };
	uint16_t p, got[4];

	(void)state;
	port_alloc_init(&A, (struct port_range){ 200, 206 }, fake_probe, &h);
	assert_int_equal(port_alloc_reserve(&A, PORT_TCP, res, 2), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &got[i]), 0);
	assert_int_equal(got[0], 200);
	assert_int_equal(got[1], 204);
	assert_int_equal(got[2], 206);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), -EADDRNOTAVAIL);
	/* reserved for tcp only */
	assert_int_equal(port_alloc_dynamic(&A, PORT_UDP, 1, &p), 0);
	assert_int_equal(p, 200);
	assert_true(port_alloc_is_reserved(&A, PORT_TCP, 202));
	assert_false(port_alloc_is_reserved(&A, PORT_UDP, 202));
	assert_int_equal(port_alloc_reserve(&A, PORT_TCP, (uint16_t[]){ 0 }, 1), -EINVAL);
}

static void test_dynamic_contiguous(void **state)
{
	struct fake_host h = { .busy = { 303 }, .n_busy = 1 };
	uint16_t p;

	(void)state;
	port_alloc_init(&A, (struct port_range){ 300, 309 }, fake_probe, &h);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 3, &p), 0);
	assert_int_equal(p, 300);                  /* 300-302 */
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 3, &p), 0);
	assert_int_equal(p, 304);                  /* 303 busy: 304-306 */
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 3, &p), 0);
	assert_int_equal(p, 307);                  /* 307-309, ends exactly at the range end */
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), -EADDRNOTAVAIL);
	for (unsigned q = 300; q <= 309; q++)
		assert_int_equal(port_alloc_is_used(&A, PORT_TCP, q), q != 303);
	/* wrap-around for a block: free 300-302, cursor at the end */
	port_alloc_release(&A, PORT_TCP, 300, 3);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 3, &p), 0);
	assert_int_equal(p, 300);
	/* blocks never straddle the end of the range */
	port_alloc_init(&A, (struct port_range){ 300, 309 }, NULL, NULL);
	A.last[PORT_TCP] = 307;
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 3, &p), 0);
	assert_int_equal(p, 300);
	/* a block larger than the range, or zero */
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 11, &p), -EINVAL);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 0, &p), -EINVAL);
	/* the whole range as one block */
	port_alloc_init(&A, (struct port_range){ 300, 309 }, NULL, NULL);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 10, &p), 0);
	assert_int_equal(p, 300);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), -EADDRNOTAVAIL);
}

static void test_exhaustion_full_range(void **state)
{
	struct fake_host h = { .n_busy = 0 };
	uint16_t p;
	unsigned n = 0;

	(void)state;
	port_alloc_init(&A, (struct port_range){ 1, 65535 }, fake_probe, &h);
	while (port_alloc_dynamic(&A, PORT_UDP, 1, &p) == 0) {
		assert_int_equal(p, n + 1);
		n++;
	}
	assert_int_equal(n, 65535);
	h.probes = 0;
	assert_int_equal(port_alloc_dynamic(&A, PORT_UDP, 1, &p), -EADDRNOTAVAIL);
	assert_int_equal(h.probes, 0);          /* berth-held ports are not probed */
	port_alloc_release(&A, PORT_UDP, 65535, 1);
	assert_int_equal(port_alloc_dynamic(&A, PORT_UDP, 1, &p), 0);
	assert_int_equal(p, 65535);
}

static void test_static(void **state)
{
	struct fake_host h = { .busy = { 8081 }, .n_busy = 1 };
	uint16_t res[] = { 22 };
	uint16_t p;

	(void)state;
	port_alloc_init(&A, (struct port_range){ 8000, 8010 }, fake_probe, &h);
	assert_int_equal(port_alloc_reserve(&A, PORT_TCP, res, 1), 0);
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 80, 1), 0);       /* outside the range is fine */
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 80, 1), -EADDRINUSE);
	assert_int_equal(port_alloc_static(&A, PORT_UDP, 80, 1), 0);
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 22, 1), -EACCES);
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 8081, 1), -EADDRINUSE);
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 0, 1), -EINVAL);
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 65535, 2), -EINVAL);
	/* a block with one bad port claims nothing */
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 8079, 3), -EADDRINUSE);
	assert_false(port_alloc_is_used(&A, PORT_TCP, 8079));
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 20, 5), -EACCES);
	assert_false(port_alloc_is_used(&A, PORT_TCP, 20));
	/* dynamic skips a static port inside the range */
	assert_int_equal(port_alloc_static(&A, PORT_TCP, 8000, 1), 0);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 8001);
	assert_int_equal(port_alloc_dynamic(&A, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 8002);              /* 8081 is outside; the range is 8000-8010 */
	/* mark (restore) never probes and ignores busy */
	h.probes = 0;
	assert_int_equal(port_alloc_mark(&A, PORT_TCP, 8081, 1), 0);
	assert_int_equal(h.probes, 0);
	assert_true(port_alloc_is_used(&A, PORT_TCP, 8081));
	assert_int_equal(port_alloc_mark(&A, PORT_TCP, 0, 1), -EINVAL);
	port_alloc_release(&A, PORT_TCP, 0, 1);          /* harmless */
}

/* The configured allocator: range and reserved lists; a bad list is named. */
static void test_configured(void **state)
{
	struct port_alloc *a = NULL;
	const char *bad = NULL;
	uint16_t p;

	(void)state;
	assert_int_equal(port_alloc_configured("41000-41002", "[41000, 22]", "[]", NULL, &a, &bad), 0);
	assert_true(port_alloc_is_reserved(a, PORT_TCP, 41000));
	assert_true(port_alloc_is_reserved(a, PORT_TCP, 22));
	assert_false(port_alloc_is_reserved(a, PORT_UDP, 41000));
	assert_int_equal(port_alloc_dynamic(a, PORT_TCP, 1, &p), 0);
	assert_int_equal(p, 41001);
	assert_int_equal(port_alloc_static(a, PORT_TCP, 22, 1), -EACCES);
	free(a);
	a = NULL;
	assert_int_equal(port_alloc_configured(NULL, "[22]", "[0]", NULL, &a, &bad), -EINVAL);
	assert_null(a);
	assert_string_equal(bad, "[0]");
	assert_int_equal(port_alloc_configured(NULL, "22, 23", NULL, NULL, &a, &bad), -EINVAL);
	assert_string_equal(bad, "22, 23");
}

/* What a failed task shows as its reason. */
static void test_reason_words(void **state)
{
	struct portmap_request q = { PORT_UDP, 53, 1, 5353 }, rq = { PORT_TCP, 7000, 5, 0 };
	char buf[128];

	(void)state;
	assert_string_equal(portmap_reason(-EACCES, &q, buf, sizeof(buf)), "host port 5353/udp is reserved");
	assert_string_equal(portmap_reason(-EADDRINUSE, &q, buf, sizeof(buf)),
			    "host port 5353/udp is already in use");
	assert_string_equal(portmap_reason(-EADDRNOTAVAIL, &q, buf, sizeof(buf)), "a host port is unavailable");
	assert_string_equal(portmap_reason(-EADDRNOTAVAIL, &rq, buf, sizeof(buf)),
			    "5 contiguous host ports are unavailable");
	assert_string_equal(portmap_reason(-ENOMEM, &rq, buf, sizeof(buf)), strerror(ENOMEM));
}

static void test_probe_bind_real(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd, ufd;
	uint16_t port;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	assert_false(port_probe_bind(PORT_TCP, port, NULL));

	ufd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(ufd >= 0);
	sin.sin_port = 0;
	assert_int_equal(bind(ufd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	len = sizeof(sin);
	assert_int_equal(getsockname(ufd, (struct sockaddr *)&sin, &len), 0);
	assert_false(port_probe_bind(PORT_UDP, ntohs(sin.sin_port), NULL));
	close(ufd);
	close(fd);
	/* closed again: bindable (tcp uses SO_REUSEADDR, so no TIME_WAIT issue) */
	assert_true(port_probe_bind(PORT_TCP, port, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_names),
		cmocka_unit_test(test_range_choose),
		cmocka_unit_test(test_port_list),
		cmocka_unit_test(test_dynamic_sequence_and_wrap),
		cmocka_unit_test(test_dynamic_next_after_last),
		cmocka_unit_test(test_dynamic_skips_busy_and_reserved),
		cmocka_unit_test(test_dynamic_contiguous),
		cmocka_unit_test(test_exhaustion_full_range),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_configured),
		cmocka_unit_test(test_reason_words),
		cmocka_unit_test(test_probe_bind_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
