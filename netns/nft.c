/* netns/nft.c - the `inet berth` table: build, batch, dump (see nft.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/cleanup.h"
#include "netns/nft.h"

/* nft's datatype numbers (nftables src/datatype.h) so `nft list` shows the
 * map readably: concatenations are (type << 6) | type. */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_INET_PROTOCOL 12
#define NFT_TYPE_INET_SERVICE 13
#define NFT_CONCAT(a, b) (((a) << 6) | (b))
#define MAP_SET_ID 1
#define ELEMS_PER_MSG 512        /* keeps one message's element nest < 64 KiB */

struct netns_nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
};

static void nftnl_set_freep(struct nftnl_set **s) { if (*s) nftnl_set_free(*s); }
static void nftnl_rule_freep(struct nftnl_rule **r) { if (*r) nftnl_rule_free(*r); }

int netns_nft_open(struct netns_nft **ret)
{
	_cleanup_free_ struct netns_nft *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!n->nl)
		return -errno;
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		mnl_socket_close(n->nl);
		return r;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	n->seq = (uint32_t)time(NULL);
	*ret = TAKE_PTR(n);
	return 0;
}

void netns_nft_close(struct netns_nft *n)
{
	if (!n)
		return;
	mnl_socket_close(n->nl);
	free(n);
}

uint32_t netns_nft_portid(const struct netns_nft *n)
{
	return n->portid;
}

/* --- elements --------------------------------------------------------- */

/* Registers are 32 bits wide: each part of a concatenation is padded to 4. */
static void encode_key(const struct netns_mapping *m, uint8_t key[8])
{
	uint16_t port = htons(m->host_port);

	memset(key, 0, 8);
	key[0] = (uint8_t)port_proto_ipproto(m->proto);
	memcpy(key + 4, &port, 2);
}

static void encode_data(const struct netns_mapping *m, uint8_t data[8])
{
	uint32_t addr = htonl(m->addr);
	uint16_t port = htons(m->port);

	memset(data, 0, 8);
	memcpy(data, &addr, 4);
	memcpy(data + 4, &port, 2);
}

int netns_nft_decode(const void *key, uint32_t klen, const void *data, uint32_t dlen,
		     struct netns_mapping *ret)
{
	const uint8_t *k = key, *d = data;
	uint32_t addr;
	uint16_t hp, cp;

	if (klen != 8 || dlen != 8)
		return -EBADMSG;
	if (k[0] == IPPROTO_TCP)
		ret->proto = PORT_TCP;
	else if (k[0] == IPPROTO_UDP)
		ret->proto = PORT_UDP;
	else
		return -EBADMSG;
	memcpy(&hp, k + 4, 2);
	memcpy(&addr, d, 4);
	memcpy(&cp, d + 4, 2);
	ret->host_port = ntohs(hp);
	ret->addr = ntohl(addr);
	ret->port = ntohs(cp);
	return 0;
}

static struct nftnl_set *set_ref(void)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NETNS_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, NETNS_NFT_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	return s;
}

struct nftnl_set *netns_nft_elems(const struct netns_mapping *m, size_t n_m, bool with_data)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = set_ref();

	if (!s)
		return NULL;
	for (size_t i = 0; i < n_m; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint8_t key[8], data[8];

		if (!e)
			return NULL;
		encode_key(&m[i], key);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
		if (with_data) {
			encode_data(&m[i], data);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, sizeof(data));
		}
		nftnl_set_elem_add(s, e);
	}
	return TAKE_PTR(s);
}

/* --- rules ------------------------------------------------------------ */

static int add_expr(struct nftnl_rule *r, const char *name, struct nftnl_expr **ret)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	*ret = e;
	return 0;
}

static int meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e;
	int ret = add_expr(r, "meta", &e);

	if (ret == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return ret;
}

static int cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e;
	int ret = add_expr(r, "cmp", &e);

	if (ret == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return ret;
}

static int cmp_u32(struct nftnl_rule *r, uint32_t op, uint32_t v)
{
	return cmp(r, op, &v, sizeof(v));
}

/* reg1 = (reg1 & MASK); LEN bytes. */
static int mask(struct nftnl_rule *r, const void *m, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e;
	int ret = add_expr(r, "bitwise", &e);

	if (ret == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, m, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return ret;
}

static int payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e;
	int ret = add_expr(r, "payload", &e);

	if (ret == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	}
	return ret;
}

/* meta nfproto ipv4 */
static int match_ipv4(struct nftnl_rule *r)
{
	uint8_t v = NFPROTO_IPV4;

	return meta(r, NFT_META_NFPROTO) ?: cmp(r, NFT_CMP_EQ, &v, 1);
}

/* meta iifname/oifname OP NAME */
static int match_ifname(struct nftnl_rule *r, uint32_t key, uint32_t op, const char *name)
{
	char buf[IFNAMSIZ] = { 0 };

	snprintf(buf, sizeof(buf), "%s", name);
	return meta(r, key) ?: cmp(r, op, buf, sizeof(buf));
}

/* ip saddr NET/PREFIX (after match_ipv4) */
static int match_saddr(struct nftnl_rule *r, uint32_t net, unsigned prefix)
{
	uint32_t m = htonl(prefix ? ~0u << (32 - prefix) : 0), n = htonl(net);

	return payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1) ?: mask(r, &m, 4) ?:
	       cmp(r, NFT_CMP_EQ, &n, 4);
}

/* ct KEY & BITS != 0 */
static int match_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t bits)
{
	struct nftnl_expr *e;
	int ret = add_expr(r, "ct", &e);

	if (ret < 0)
		return ret;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	return mask(r, &bits, 4) ?: cmp_u32(r, NFT_CMP_NEQ, 0);
}

static int verdict_accept(struct nftnl_rule *r)
{
	struct nftnl_expr *e;
	int ret = add_expr(r, "immediate", &e);

	if (ret == 0) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	}
	return ret;
}

static int masquerade(struct nftnl_rule *r)
{
	struct nftnl_expr *e;

	return add_expr(r, "masq", &e);
}

/* meta nfproto ipv4 fib daddr type local dnat ip to meta l4proto . th dport map @ports */
static int rule_dnat(struct nftnl_rule *r, const struct netns_conf *c)
{
	struct nftnl_expr *fib = NULL, *lk = NULL, *nat = NULL;
	int ret;

	(void)c;
	ret = match_ipv4(r) ?: add_expr(r, "fib", &fib);
	if (ret < 0)
		return ret;
	nftnl_expr_set_u32(fib, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(fib, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(fib, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	ret = cmp_u32(r, NFT_CMP_EQ, RTN_LOCAL) ?: meta(r, NFT_META_L4PROTO) ?:
	      payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01) ?: add_expr(r, "lookup", &lk);
	if (ret < 0)
		return ret;
	nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
	nftnl_expr_set_str(lk, NFTNL_EXPR_LOOKUP_SET, NETNS_NFT_MAP);
	nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_SET_ID, MAP_SET_ID);
	ret = add_expr(r, "nat", &nat);
	if (ret < 0)
		return ret;
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	return 0;
}

static int rule_egress(struct nftnl_rule *r, const struct netns_conf *c)
{
	return match_ipv4(r) ?: match_saddr(r, c->subnet.net, c->subnet.prefix) ?:
	       match_ifname(r, NFT_META_OIFNAME, NFT_CMP_NEQ, c->bridge) ?: masquerade(r);
}

static int rule_localhost(struct nftnl_rule *r, const struct netns_conf *c)
{
	return match_ifname(r, NFT_META_OIFNAME, NFT_CMP_EQ, c->bridge) ?: match_ipv4(r) ?:
	       match_saddr(r, 0x7f000000, 8) ?: masquerade(r);
}

static int rule_hairpin(struct nftnl_rule *r, const struct netns_conf *c)
{
	return match_ifname(r, NFT_META_OIFNAME, NFT_CMP_EQ, c->bridge) ?:
	       match_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT) ?: match_ipv4(r) ?:
	       match_saddr(r, c->subnet.net, c->subnet.prefix) ?: masquerade(r);
}

static int rule_fwd_established(struct nftnl_rule *r, const struct netns_conf *c)
{
	(void)c;
	return match_ct_bits(r, NFT_CT_STATE,
			     NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)) ?:
	       verdict_accept(r);
}

static int rule_fwd_dnat(struct nftnl_rule *r, const struct netns_conf *c)
{
	(void)c;
	return match_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT) ?: verdict_accept(r);
}

static int rule_fwd_bridge(struct nftnl_rule *r, const struct netns_conf *c)
{
	return match_ifname(r, NFT_META_IIFNAME, NFT_CMP_EQ, c->bridge) ?: verdict_accept(r);
}

static const struct chain_def {
	const char *name, *type;
	uint32_t hook;
	int32_t prio;
} chains[] = {
	{ "prerouting", "nat", NF_INET_PRE_ROUTING, -100 },
	{ "output", "nat", NF_INET_LOCAL_OUT, -100 },
	{ "postrouting", "nat", NF_INET_POST_ROUTING, 100 },
	{ "forward", "filter", NF_INET_FORWARD, 0 },
};

static const struct rule_def {
	const char *chain;
	int (*build)(struct nftnl_rule *r, const struct netns_conf *c);
} rules[] = {
	{ "prerouting", rule_dnat },
	{ "output", rule_dnat },
	{ "postrouting", rule_egress },
	{ "postrouting", rule_localhost },
	{ "postrouting", rule_hairpin },
	{ "forward", rule_fwd_established },
	{ "forward", rule_fwd_dnat },
	{ "forward", rule_fwd_bridge },
};

struct nftnl_rule **netns_nft_rules(const struct netns_conf *conf)
{
	struct nftnl_rule **v = calloc(ARRAY_SIZE(rules) + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		_cleanup_(nftnl_rule_freep) struct nftnl_rule *r = nftnl_rule_alloc();

		if (!r)
			goto fail;
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NETNS_NFT_TABLE);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, rules[i].chain);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
		if (rules[i].build(r, conf) < 0)
			goto fail;
		v[i] = TAKE_PTR(r);
	}
	return v;
fail:
	for (size_t i = 0; v[i]; i++)
		nftnl_rule_free(v[i]);
	free(v);
	return NULL;
}

/* --- batches ---------------------------------------------------------- */

struct batch {
	char *buf;
	size_t size;
	struct mnl_nlmsg_batch *b;
	struct netns_nft *n;
	unsigned acks;          /* messages that asked for an ACK */
};

static void batch_free(struct batch *bt)
{
	if (bt->b)
		mnl_nlmsg_batch_stop(bt->b);
	free(bt->buf);
}

static int batch_start(struct batch *bt, struct netns_nft *n, size_t size)
{
	*bt = (struct batch){ .size = size + 2 * MNL_SOCKET_BUFFER_SIZE, .n = n };
	bt->buf = malloc(bt->size);
	if (!bt->buf)
		return -ENOMEM;
	bt->b = mnl_nlmsg_batch_start(bt->buf, bt->size);
	if (!bt->b)
		return -ENOMEM;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->n->seq++);
	mnl_nlmsg_batch_next(bt->b);
	return 0;
}

/* A header for the next command message, asking for an ACK. */
static struct nlmsghdr *batch_hdr(struct batch *bt, uint16_t type, uint16_t flags)
{
	bt->acks++;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, NFPROTO_INET,
				     flags | NLM_F_ACK, bt->n->seq++);
}

static int batch_next(struct batch *bt)
{
	/* batch_start sized the buffer for everything; running out is a bug */
	return mnl_nlmsg_batch_next(bt->b) ? 0 : -ENOBUFS;
}

/* Sends the batch and collects the answers.  The kernel runs a batch inside
 * sendmsg(), so every ACK or error is queued by the time it returns. */
static int batch_send(struct batch *bt)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = bt->n->nl;
	unsigned got = 0;
	int first_err = 0;
	size_t len;
	int k;

	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->n->seq++);
	mnl_nlmsg_batch_next(bt->b);
	len = mnl_nlmsg_batch_size(bt->b);
	if (len > 200000) {
		int sz = (int)len + 65536;

		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	}
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt->b), len) < 0)
		return -errno;
	while (got < bt->acks) {
		k = (int)recv(mnl_socket_get_fd(nl), rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (k < 0)
			return errno == EAGAIN ? (first_err ?: -EIO) : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(h, k);
		     h = mnl_nlmsg_next(h, &k)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			got++;
			if (e->error && !first_err)
				first_err = e->error;
		}
	}
	return first_err;
}

static int batch_elems(struct batch *bt, uint16_t type, uint16_t flags,
		       const struct netns_mapping *m, size_t n_m, bool with_data)
{
	for (size_t i = 0; i < n_m; i += ELEMS_PER_MSG) {
		size_t k = n_m - i < ELEMS_PER_MSG ? n_m - i : ELEMS_PER_MSG;
		_cleanup_(nftnl_set_freep) struct nftnl_set *s = netns_nft_elems(m + i, k, with_data);
		struct nlmsghdr *h;

		if (!s)
			return -ENOMEM;
		h = batch_hdr(bt, type, flags);
		nftnl_set_elems_nlmsg_build_payload(h, s);
		if (batch_next(bt) < 0)
			return -ENOBUFS;
	}
	return 0;
}

#define ELEM_BYTES 64   /* one encoded element, generously */

static int elems_txn(struct netns_nft *n, uint16_t type, uint16_t flags,
		     const struct netns_mapping *m, size_t n_m, bool with_data)
{
	struct batch bt;
	int r;

	if (n_m == 0)
		return 0;
	r = batch_start(&bt, n, n_m * ELEM_BYTES);
	if (r == 0)
		r = batch_elems(&bt, type, flags, m, n_m, with_data);
	if (r == 0)
		r = batch_send(&bt);
	batch_free(&bt);
	return r;
}

int netns_nft_add(struct netns_nft *n, const struct netns_mapping *m, size_t n_m)
{
	return elems_txn(n, NFT_MSG_NEWSETELEM, NLM_F_CREATE, m, n_m, true);
}

int netns_nft_del(struct netns_nft *n, const struct netns_mapping *m, size_t n_m)
{
	int r = elems_txn(n, NFT_MSG_DELSETELEM, 0, m, n_m, false);

	if (r != -ENOENT)
		return r;
	/* someone removed some of them: remove the rest one by one */
	for (size_t i = 0; i < n_m; i++) {
		r = elems_txn(n, NFT_MSG_DELSETELEM, 0, &m[i], 1, false);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

static void put_table(struct batch *bt, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *h = batch_hdr(bt, type, flags);

	if (!t)
		return;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NETNS_NFT_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_nlmsg_build_payload(h, t);
	nftnl_table_free(t);
}

static int batch_table(struct batch *bt)
{
	/* "add; delete; add": delete-if-exists inside one transaction */
	put_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (batch_next(bt) < 0)
		return -ENOBUFS;
	put_table(bt, NFT_MSG_DELTABLE, 0);
	if (batch_next(bt) < 0)
		return -ENOBUFS;
	put_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	return batch_next(bt);
}

static int batch_map(struct batch *bt)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = set_ref();
	struct nlmsghdr *h;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_CONCAT(NFT_TYPE_INET_PROTOCOL, NFT_TYPE_INET_SERVICE));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 8);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_CONCAT(NFT_TYPE_IPADDR, NFT_TYPE_INET_SERVICE));
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 8);
	nftnl_set_set_u32(s, NFTNL_SET_ID, MAP_SET_ID);
	h = batch_hdr(bt, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_set_nlmsg_build_payload(h, s);
	return batch_next(bt);
}

static int batch_chains(struct batch *bt)
{
	for (size_t i = 0; i < ARRAY_SIZE(chains); i++) {
		struct nftnl_chain *c = nftnl_chain_alloc();
		struct nlmsghdr *h;

		if (!c)
			return -ENOMEM;
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NETNS_NFT_TABLE);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chains[i].name);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, chains[i].type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, chains[i].hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, chains[i].prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		h = batch_hdr(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL);
		nftnl_chain_nlmsg_build_payload(h, c);
		nftnl_chain_free(c);
		if (batch_next(bt) < 0)
			return -ENOBUFS;
	}
	return 0;
}

static int batch_rules(struct batch *bt, const struct netns_conf *conf)
{
	struct nftnl_rule **v = netns_nft_rules(conf);
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; v[i]; i++) {
		if (r == 0) {
			struct nlmsghdr *h = batch_hdr(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);

			nftnl_rule_nlmsg_build_payload(h, v[i]);
			r = batch_next(bt);
		}
		nftnl_rule_free(v[i]);
	}
	free(v);
	return r;
}

int netns_nft_rebuild(struct netns_nft *n, const struct netns_conf *conf,
		      const struct netns_mapping *m, size_t n_m)
{
	struct batch bt;
	int r;

	r = batch_start(&bt, n, n_m * ELEM_BYTES + 16384);
	if (r == 0)
		r = batch_table(&bt) ?: batch_map(&bt) ?: batch_chains(&bt) ?: batch_rules(&bt, conf) ?:
		    batch_elems(&bt, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, m, n_m, true);
	if (r == 0)
		r = batch_send(&bt);
	batch_free(&bt);
	return r;
}

int netns_nft_delete_table(struct netns_nft *n)
{
	struct batch bt;
	int r;

	r = batch_start(&bt, n, 4096);
	if (r == 0) {
		put_table(&bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		r = batch_next(&bt);
	}
	if (r == 0) {
		put_table(&bt, NFT_MSG_DELTABLE, 0);
		r = batch_next(&bt) ?: batch_send(&bt);
	}
	batch_free(&bt);
	return r;
}

/* --- dump ------------------------------------------------------------- */

struct dump {
	struct netns_mapping *v;
	size_t n, cap;
	int err;
};

static int dump_elem(struct nftnl_set_elem *e, void *data)
{
	struct dump *d = data;
	const void *k, *v;
	uint32_t kl = 0, vl = 0;
	struct netns_mapping m;

	k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &kl);
	v = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &vl);
	if (!k || !v || netns_nft_decode(k, kl, v, vl, &m) < 0)
		return 0;          /* not ours to judge: list what we understand */
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct netns_mapping *nv = realloc(d->v, cap * sizeof(*nv));

		if (!nv) {
			d->err = -ENOMEM;
			return -1;
		}
		d->v = nv;
		d->cap = cap;
	}
	d->v[d->n++] = m;
	return 0;
}

static int dump_cb(const struct nlmsghdr *h, void *data)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = nftnl_set_alloc();
	struct dump *d = data;

	if (!s) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_set_elems_nlmsg_parse(h, s) < 0) {
		d->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	nftnl_set_elem_foreach(s, dump_elem, d);
	return d->err ? MNL_CB_ERROR : MNL_CB_OK;
}

int netns_nft_list(struct netns_nft *n, struct netns_mapping **ret, size_t *ret_n)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = set_ref();
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct dump d = { 0 };
	struct nlmsghdr *h;
	uint32_t seq = n->seq++;
	int k;

	if (!s)
		return -ENOMEM;
	h = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(h, s);
	if (mnl_socket_sendto(n->nl, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		k = (int)mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
		if (k < 0) {
			free(d.v);
			return -errno;
		}
		k = mnl_cb_run(buf, (size_t)k, seq, n->portid, dump_cb, &d);
		if (k <= 0)
			break;
	}
	if (k < 0) {
		int r = d.err ?: -errno;

		free(d.v);
		return r;
	}
	*ret = d.v;
	*ret_n = d.n;
	return 0;
}
