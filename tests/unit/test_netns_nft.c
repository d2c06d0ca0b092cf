/* tests/unit/test_netns_nft.c - the nftables messages berth builds, checked
 * without a kernel (STYLE P8): build into a buffer, parse back, compare.
 * The expected rule texts are what nft(8) itself generates for the same
 * rules (`nft --debug=netlink`). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netns/nft.h"

#ifndef NELEM
#define NELEM 512     /* what one message carries (ELEMS_PER_MSG) */
#endif

static char buf[1 << 20];

/* The value inside NFTA_SET_ELEM_KEY/DATA (a nest holding NFTA_DATA_VALUE). */
static const void *data_value(const struct nlattr *nest, uint32_t *len)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == NFTA_DATA_VALUE) {
			*len = mnl_attr_get_payload_len(a);
			return mnl_attr_get_payload(a);
		}
	return NULL;
}

/* Walks the elements by hand: libnftnl 1.2.4 numbers the element nests
 * 1, 2, 3... when building (the kernel ignores the type) but insists on
 * NFTA_LIST_ELEM when parsing, so it cannot parse its own multi-element
 * messages. */
static size_t check_elements(const struct nlmsghdr *nlh, const struct netns_mapping *m)
{
	const struct nlattr *a, *list = NULL, *el, *f;
	size_t i = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_TABLE)
			assert_string_equal(mnl_attr_get_str(a), "berth");
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			assert_string_equal(mnl_attr_get_str(a), "ports");
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			list = a;
	}
	assert_non_null(list);
	mnl_attr_for_each_nested(el, list) {
		const void *k = NULL, *d = NULL;
		uint32_t kl = 0, dl = 0;
		struct netns_mapping got;

		mnl_attr_for_each_nested(f, el) {
			if (mnl_attr_get_type(f) == NFTA_SET_ELEM_KEY)
				k = data_value(f, &kl);
			if (mnl_attr_get_type(f) == NFTA_SET_ELEM_DATA)
				d = data_value(f, &dl);
		}
		assert_non_null(k);
		assert_non_null(d);
		assert_int_equal(netns_nft_decode(k, kl, d, dl, &got), 0);
		assert_memory_equal(&got, &m[i], sizeof(got));
		i++;
	}
	return i;
}

static void test_elements_roundtrip(void **state)
{
	static struct netns_mapping m[NELEM];
	struct nftnl_set *in;
	struct nlmsghdr *nlh;

	(void)state;
	for (size_t k = 0; k < NELEM; k++)
		m[k] = (struct netns_mapping){ k % 2 ? PORT_UDP : PORT_TCP, (uint16_t)(40000 + k),
					       0x0ad50000 + (uint32_t)k, (uint16_t)(k + 1) };
	in = netns_nft_elems(m, NELEM, true);
	assert_non_null(in);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET, NLM_F_CREATE, 1);
	nftnl_set_elems_nlmsg_build_payload(nlh, in);
	/* one message's element list must fit a 16-bit attribute length */
	assert_true(nlh->nlmsg_len < 65535);
	assert_int_equal(check_elements(nlh, m), NELEM);
	nftnl_set_free(in);
}

static void test_key_layout(void **state)
{
	/* nft prints "tcp . 8080 : 172.31.0.2 . 80" as 00000006 0000901f : 02001fac 00005000 */
	static const uint8_t key[8] = { 6, 0, 0, 0, 0x1f, 0x90, 0, 0 };
	static const uint8_t data[8] = { 0xac, 0x1f, 0, 2, 0, 0x50, 0, 0 };
	struct netns_mapping m = { PORT_TCP, 8080, 0xac1f0002, 80 }, got;
	struct nftnl_set *s = netns_nft_elems(&m, 1, true);
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it);
	uint32_t kl, dl;

	(void)state;
	assert_memory_equal(nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &kl), key, 8);
	assert_memory_equal(nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &dl), data, 8);
	assert_int_equal(netns_nft_decode(key, 8, data, 8, &got), 0);
	assert_memory_equal(&got, &m, sizeof(m));
	/* foreign shapes are refused */
	assert_int_equal(netns_nft_decode(key, 4, data, 8, &got), -EBADMSG);
	assert_int_equal(netns_nft_decode((uint8_t[8]){ 1 }, 8, data, 8, &got), -EBADMSG);
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	/* keys only, for deletion */
	s = netns_nft_elems(&m, 1, false);
	it = nftnl_set_elems_iter_create(s);
	e = nftnl_set_elems_iter_next(it);
	assert_false(nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA));
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
}

/* The expressions of a rule as nft --debug=netlink prints them, one per line. */
static const char *const want_rules[][2] = {
	{ "prerouting", "[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] [ fib daddr type => reg 1 ] "
			"[ cmp eq reg 1 0x00000002 ] [ meta load l4proto => reg 1 ] "
			"[ payload load 2b @ transport header + 2 => reg 9 ] [ lookup reg 1 set ports dreg 1 ] "
			"[ nat dnat ip addr_min reg 1 proto_min reg 9 ]" },
	{ "output", "[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] [ fib daddr type => reg 1 ] "
		    "[ cmp eq reg 1 0x00000002 ] [ meta load l4proto => reg 1 ] "
		    "[ payload load 2b @ transport header + 2 => reg 9 ] [ lookup reg 1 set ports dreg 1 ] "
		    "[ nat dnat ip addr_min reg 1 proto_min reg 9 ]" },
	{ "postrouting", "[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
			 "[ payload load 4b @ network header + 12 => reg 1 ] "
			 "[ bitwise reg 1 = ( reg 1 & 0x0000ffff ) ^ 0x00000000 ] [ cmp eq reg 1 0x0000d50a ] "
			 "[ meta load oifname => reg 1 ] "
			 "[ cmp neq reg 1 0x74726562 0x00003068 0x00000000 0x00000000 ] [ masq ]" },
	{ "postrouting", "[ meta load oifname => reg 1 ] [ cmp eq reg 1 0x74726562 0x00003068 0x00000000 0x00000000 ] "
			 "[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
			 "[ payload load 4b @ network header + 12 => reg 1 ] "
			 "[ bitwise reg 1 = ( reg 1 & 0x000000ff ) ^ 0x00000000 ] [ cmp eq reg 1 0x0000007f ] [ masq ]" },
	{ "postrouting", "[ meta load oifname => reg 1 ] [ cmp eq reg 1 0x74726562 0x00003068 0x00000000 0x00000000 ] "
			 "[ ct load status => reg 1 ] [ bitwise reg 1 = ( reg 1 & 0x00000020 ) ^ 0x00000000 ] "
			 "[ cmp neq reg 1 0x00000000 ] [ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
			 "[ payload load 4b @ network header + 12 => reg 1 ] "
			 "[ bitwise reg 1 = ( reg 1 & 0x0000ffff ) ^ 0x00000000 ] [ cmp eq reg 1 0x0000d50a ] [ masq ]" },
	{ "forward", "[ ct load state => reg 1 ] [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ] "
		     "[ cmp neq reg 1 0x00000000 ] [ immediate reg 0 accept ]" },
	{ "forward", "[ ct load status => reg 1 ] [ bitwise reg 1 = ( reg 1 & 0x00000020 ) ^ 0x00000000 ] "
		     "[ cmp neq reg 1 0x00000000 ] [ immediate reg 0 accept ]" },
	{ "forward", "[ meta load iifname => reg 1 ] [ cmp eq reg 1 0x74726562 0x00003068 0x00000000 0x00000000 ] "
		     "[ immediate reg 0 accept ]" },
};

/* Squeezes whitespace so the comparison ignores layout. */
static void squeeze(char *s)
{
	char *w = s;
	bool space = true;

	for (char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\n' || *r == '\t') {
			if (!space)
				*w++ = ' ';
			space = true;
		} else {
			*w++ = *r;
			space = false;
		}
	}
	if (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

static void test_rules_roundtrip(void **state)
{
	struct netns_conf c;
	struct nftnl_rule **v;
	size_t n = 0;

	(void)state;
	assert_int_equal(netns_conf_init(&c, NULL, NULL, NULL, NULL), 0);
	v = netns_nft_rules(&c);
	assert_non_null(v);
	for (; v[n]; n++) {
		struct nftnl_rule *out = nftnl_rule_alloc();
		struct nlmsghdr *nlh;
		char text[4096], *exprs;

		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_CREATE, 1);
		nftnl_rule_nlmsg_build_payload(nlh, v[n]);
		assert_int_equal(nftnl_rule_nlmsg_parse(nlh, out), 0);
		assert_string_equal(nftnl_rule_get_str(out, NFTNL_RULE_TABLE), "berth");
		assert_true(n < sizeof(want_rules) / sizeof(want_rules[0]));
		assert_string_equal(nftnl_rule_get_str(out, NFTNL_RULE_CHAIN), want_rules[n][0]);
		nftnl_rule_snprintf(text, sizeof(text), out, NFTNL_OUTPUT_DEFAULT, 0);
		exprs = strchr(text, '[');
		assert_non_null(exprs);
		squeeze(exprs);
		assert_string_equal(exprs, want_rules[n][1]);
		nftnl_rule_free(out);
		nftnl_rule_free(v[n]);
	}
	free(v);
	assert_int_equal(n, sizeof(want_rules) / sizeof(want_rules[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elements_roundtrip),
		cmocka_unit_test(test_key_layout),
		cmocka_unit_test(test_rules_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
