/* tests/unit/test_netns_state.c - IPAM and the port record: pure parsing
 * (with hostile files), picking, assignment all-or-nothing, and the
 * file-backed lease store in a tmpdir; names and config validation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netns/ipam.h"
#include "netns/netns.h"
#include "netns/portmap.h"

static struct port_alloc A;

static void test_ids_and_names(void **state)
{
	static const char *const bad[] = { "", ".", "..", ".x", "-x", "a/b", "a b", "a\n",
		"0123456789012345678901234567890123456789012345678901234567890123456789" };
	char v1[IFNAMSIZ], v2[IFNAMSIZ];

	(void)state;
	assert_true(netns_id_valid("9f3c2a1b8e7d4c6a"));
	assert_true(netns_id_valid("task-1_a.b"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(netns_id_valid(bad[i]));
	netns_veth_name("abc", v1);
	netns_veth_name("abd", v2);
	assert_int_equal(strlen(v1), 14);
	assert_memory_equal(v1, "bv", 2);
	assert_string_not_equal(v1, v2);
	netns_veth_name("abc", v2);
	assert_string_equal(v1, v2);
}

static void test_conf(void **state)
{
	struct netns_conf c;
	char p[PATH_MAX];

	(void)state;
	assert_int_equal(netns_conf_init(&c, NULL, NULL, NULL, NULL), 0);
	assert_string_equal(c.bridge, "berth0");
	assert_int_equal(c.subnet.net, 0x0ad50000);
	assert_int_equal(c.subnet.prefix, 16);
	assert_string_equal(c.run_dir, "/run/berth");
	assert_int_equal(netns_conf_init(&c, "br-x", "192.168.77.0/24", "/r", "/s"), 0);
	assert_int_equal(netns_task_path(&c, "t1", p, sizeof(p)), 0);
	assert_string_equal(p, "/r/netns/t1");
	assert_int_equal(netns_task_path(&c, "../t1", p, sizeof(p)), -EINVAL);
	assert_int_equal(netns_conf_init(&c, "a-name-too-long-1", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(netns_conf_init(&c, "a/b", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(netns_conf_init(&c, NULL, NULL, "relative", NULL), -EINVAL);
	assert_int_equal(netns_conf_init(&c, NULL, "10.0.0.1/16", NULL, NULL), -EINVAL);
}

static void test_subnet_parse(void **state)
{
	static const char *const bad[] = { "", "10.0.0.0", "10.0.0.0/", "10.0.0.0/7", "10.0.0.0/31",
		"10.0.0.0/33", "10.0.0.1/24", "10.0.0.0/2x", "10.0.0.0/016", "300.0.0.0/8", "/16",
		"10.0.0.0/-1", "10.0.0.0/ 16", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/16" };
	struct netns_subnet sn;
	char buf[INET_ADDRSTRLEN];

	(void)state;
	assert_int_equal(ipam_subnet_parse("10.213.0.0/16", &sn), 0);
	assert_string_equal(ipam_ntoa(ipam_gateway(&sn), buf), "10.213.0.1");
	assert_int_equal(ipam_subnet_parse("192.168.1.0/30", &sn), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ipam_subnet_parse(bad[i], &sn), -EINVAL);
}

static void test_ipam_pick(void **state)
{
	struct netns_subnet sn;
	struct ipam_table t = { 0 };
	uint32_t a, b, c;

	(void)state;
	assert_int_equal(ipam_subnet_parse("10.1.0.0/29", &sn), 0);   /* hosts .1-.6; .1 is the bridge */
	assert_int_equal(ipam_table_pick(&t, &sn, "t1", &a), 0);
	assert_int_equal(a, 0x0a010002);
	assert_int_equal(ipam_table_pick(&t, &sn, "t1", &b), 0);       /* idempotent */
	assert_int_equal(b, a);
	assert_int_equal(ipam_table_pick(&t, &sn, "t2", &b), 0);
	assert_int_equal(b, 0x0a010003);
	assert_int_equal(ipam_table_drop(&t, "t1"), 1);
	assert_int_equal(ipam_table_drop(&t, "t1"), 0);
	/* next after last, not the just-freed .2 */
	assert_int_equal(ipam_table_pick(&t, &sn, "t3", &c), 0);
	assert_int_equal(c, 0x0a010004);
	for (const char *id = "t4"; id; id = strcmp(id, "t4") == 0 ? "t5" : NULL)
		assert_int_equal(ipam_table_pick(&t, &sn, id, &c), 0);
	assert_int_equal(c, 0x0a010006);                                 /* never .7 (broadcast) */
	assert_int_equal(ipam_table_pick(&t, &sn, "t6", &c), 0);
	assert_int_equal(c, 0x0a010002);                                 /* wrapped to the freed one */
	assert_int_equal(ipam_table_pick(&t, &sn, "t7", &c), -EADDRNOTAVAIL);
	assert_int_equal(ipam_table_pick(&t, &sn, "bad/id", &c), -EINVAL);
	ipam_release_table(&t);
}

static void test_ipam_roundtrip_and_hostile(void **state)
{
	static const char *const bad[] = {
		"", "berth-ipam 2\n", "garbage\n",
		"berth-ipam 1\n10.0.0.2 t1",                       /* torn line */
		"berth-ipam 1\n10.0.0.2 t1\n10.0.0.2 t2\n",        /* duplicate address */
		"berth-ipam 1\n10.0.0.2 t1\n10.0.0.3 t1\n",        /* duplicate id */
		"berth-ipam 1\n10.0.0.2 ../etc\n",
		"berth-ipam 1\n10.0.0.2  t1\n",
		"berth-ipam 1\n10.0.0.999 t1\n",
		"berth-ipam 1\n0.0.0.0 t1\n",
		"berth-ipam 1\nlast x\n",
		"berth-ipam 1\n10.0.0.2 t1 extra\n",
		"berth-ipam 1\n\n",
	};
	struct ipam_table t = { 0 }, u = { 0 };
	char *text = NULL;

	(void)state;
	assert_int_equal(ipam_table_parse("berth-ipam 1\nlast 10.0.0.3\n10.0.0.2 t1\n10.0.0.3 t2\n", &t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.last, 0x0a000003);
	assert_string_equal(ipam_table_find(&t, "t2")->id, "t2");
	assert_int_equal(ipam_table_format(&t, &text), 0);
	assert_string_equal(text, "berth-ipam 1\nlast 10.0.0.3\n10.0.0.2 t1\n10.0.0.3 t2\n");
	assert_int_equal(ipam_table_parse(text, &u), 0);
	assert_int_equal(u.n, 2);
	free(text);
	ipam_release_table(&t);
	ipam_release_table(&u);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ipam_table_parse(bad[i], &t), -EBADMSG);
}

static void test_ipam_files(void **state)
{
	char dir[] = "/tmp/berth-ipam-XXXXXX", cmd[64];
	struct netns_subnet sn;
	struct ipam_table t = { 0 };
	uint32_t a, b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ipam_subnet_parse("10.9.0.0/24", &sn), 0);
	assert_int_equal(ipam_acquire(dir, "br0", &sn, "t1", &a), 0);
	assert_int_equal(ipam_acquire(dir, "br0", &sn, "t2", &b), 0);
	assert_int_not_equal(a, b);
	assert_int_equal(ipam_acquire(dir, "br0", &sn, "t1", &b), 0);   /* survives: same lease */
	assert_int_equal(b, a);
	assert_int_equal(ipam_release(dir, "br0", "t1"), 0);
	assert_int_equal(ipam_release(dir, "br0", "t1"), 0);            /* idempotent */
	assert_int_equal(ipam_load(dir, "br0", &t), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.leases[0].id, "t2");
	ipam_release_table(&t);
	assert_int_equal(ipam_acquire(dir, "../x", &sn, "t1", &a), -EINVAL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_portmap_roundtrip_and_hostile(void **state)
{
	static const char *const bad[] = {
		"", "berth-ports 2\n",
		"berth-ports 1\nmap t1 tcp 0 1 10.0.0.2 80\n",
		"berth-ports 1\nmap t1 tcp 65535 2 10.0.0.2 80\n",
		"berth-ports 1\nmap t1 sctp 100 1 10.0.0.2 80\n",
		"berth-ports 1\nmap t1 tcp 100 1 10.0.0.x 80\n",
		"berth-ports 1\nmap t/1 tcp 100 1 10.0.0.2 80\n",
		"berth-ports 1\nmap t1 tcp 100 3 10.0.0.2 80\nmap t2 tcp 102 1 10.0.0.3 80\n", /* overlap */
		"berth-ports 1\nmap t1 tcp 100 1 10.0.0.2 80 9\n",
		"berth-ports 1\nlast tcp 70000\n",
		"berth-ports 1\nlast tcp\n",
		"berth-ports 1\nmap t1 tcp +100 1 10.0.0.2 80\n",
		"berth-ports 1\nmap t1 tcp 100 1 10.0.0.2 80",
	};
	const char *good = "berth-ports 1\nlast tcp 102\nlast udp 0\n"
			   "map t1 tcp 100 3 10.0.0.2 8000\nmap t1 udp 100 1 10.0.0.2 53\n";
	struct portmap_table t = { 0 };
	struct netns_mapping *m = NULL;
	size_t n = 0;
	char *text = NULL;

	(void)state;
	assert_int_equal(portmap_table_parse(good, &t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(portmap_table_format(&t, &text), 0);
	assert_string_equal(text, good);
	free(text);
	assert_int_equal(portmap_mappings(&t, "t1", &m, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(m[2].host_port, 102);
	assert_int_equal(m[2].port, 8002);
	assert_int_equal(m[3].proto, PORT_UDP);
	free(m);
	assert_int_equal(portmap_mappings(&t, "nobody", &m, &n), 0);
	assert_int_equal(n, 0);
	assert_null(m);
	portmap_release_table(&t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(portmap_table_parse(bad[i], &t), -EBADMSG);
}

static void test_portmap_assign(void **state)
{
	struct portmap_table t = { 0 };
	struct portmap_request q[] = {
		{ PORT_TCP, 80, 1, 0 },
		{ PORT_TCP, 9000, 3, 0 },
		{ PORT_UDP, 53, 1, 0 },
		{ PORT_TCP, 81, 1, 500 },
	};
	uint16_t res[] = { 22 };
	size_t failed = 99;

	(void)state;
	port_alloc_init(&A, (struct port_range){ 1000, 1009 }, NULL, NULL);
	assert_int_equal(port_alloc_reserve(&A, PORT_TCP, res, 1), 0);
	assert_int_equal(portmap_assign(&t, &A, "t1", 0x0a000002, q, 4, &failed), 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.v[0].host_port, 1000);
	assert_int_equal(t.v[1].host_port, 1001);
	assert_int_equal(t.v[1].count, 3);
	assert_int_equal(t.v[2].host_port, 1000);          /* udp has its own ports */
	assert_int_equal(t.v[3].host_port, 500);
	assert_int_equal(t.last[PORT_TCP], 1003);
	/* all or nothing: the second request fails (reserved), the first is undone */
	struct portmap_request q2[] = { { PORT_TCP, 80, 1, 0 }, { PORT_TCP, 80, 1, 22 } };
	assert_int_equal(portmap_assign(&t, &A, "t2", 0x0a000003, q2, 2, &failed), -EACCES);
	assert_int_equal(failed, 1);
	assert_int_equal(t.n, 4);
	assert_false(port_alloc_is_used(&A, PORT_TCP, 1004));
	assert_int_equal(A.last[PORT_TCP], 1003);
	struct portmap_request q3[] = { { PORT_TCP, 80, 1, 500 } };
	assert_int_equal(portmap_assign(&t, &A, "t2", 0x0a000003, q3, 1, &failed), -EADDRINUSE);
	struct portmap_request q4[] = { { PORT_TCP, 65535, 2, 0 } };
	assert_int_equal(portmap_assign(&t, &A, "t2", 0x0a000003, q4, 1, &failed), -EINVAL);
	/* a fresh allocator seeded from the record sees the same ports as used */
	port_alloc_init(&A, (struct port_range){ 1000, 1009 }, NULL, NULL);
	assert_int_equal(portmap_table_seed(&t, &A), 0);
	assert_true(port_alloc_is_used(&A, PORT_TCP, 1003));
	assert_true(port_alloc_is_used(&A, PORT_TCP, 500));
	assert_int_equal(portmap_drop(&t, &A, "t1"), 4);
	assert_int_equal(t.n, 0);
	assert_false(port_alloc_is_used(&A, PORT_TCP, 1003));
	portmap_release_table(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_names),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_subnet_parse),
		cmocka_unit_test(test_ipam_pick),
		cmocka_unit_test(test_ipam_roundtrip_and_hostile),
		cmocka_unit_test(test_ipam_files),
		cmocka_unit_test(test_portmap_roundtrip_and_hostile),
		cmocka_unit_test(test_portmap_assign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
