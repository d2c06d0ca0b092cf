/* netns/nft_monitor.c - notice when someone else changes `inet berth`
 * (a firewall reload running `nft flush ruleset`, a hand edit), so the
 * daemon can rebuild it.  Listens on NFNLGRP_NFTABLES; every nf_tables
 * notification carries the table name as attribute 1 and the sender's
 * netlink port id in nlmsg_pid. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/cleanup.h"
#include "netns/nft.h"

struct netns_nft_monitor {
	struct mnl_socket *nl;
	uint32_t ignore_portid;
};

int netns_nft_monitor_open(uint32_t ignore_portid, struct netns_nft_monitor **ret)
{
	_cleanup_free_ struct netns_nft_monitor *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->ignore_portid = ignore_portid;
	m->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!m->nl)
		return -errno;
	if (mnl_socket_bind(m->nl, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(m->nl);
		return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

void netns_nft_monitor_close(struct netns_nft_monitor *m)
{
	if (!m)
		return;
	mnl_socket_close(m->nl);
	free(m);
}

int netns_nft_monitor_fd(const struct netns_nft_monitor *m)
{
	return mnl_socket_get_fd(m->nl);
}

/* Is H a change to inet berth? */
static bool about_our_table(const struct nlmsghdr *h)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;

	if (NFNL_SUBSYS_ID(h->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return false;
	if (NFNL_MSG_TYPE(h->nlmsg_type) == NFT_MSG_NEWGEN)
		return false;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*g)) || g->nfgen_family != NFPROTO_INET)
		return false;
	mnl_attr_for_each(a, h, sizeof(*g)) {
		/* NFTA_{TABLE_NAME,CHAIN_TABLE,RULE_TABLE,SET_TABLE,SET_ELEM_LIST_TABLE} are all 1 */
		if (mnl_attr_get_type(a) == 1)
			return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
			       strcmp(mnl_attr_get_str(a), NETNS_NFT_TABLE) == 0;
	}
	return false;
}

int netns_nft_monitor_read(struct netns_nft_monitor *m, bool *ret_damaged)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (;;) {
		int k = (int)recv(mnl_socket_get_fd(m->nl), buf, sizeof(buf), MSG_DONTWAIT);

		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) {      /* events lost: assume the worst */
				*ret_damaged = true;
				continue;
			}
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, k); h = mnl_nlmsg_next(h, &k))
			if (h->nlmsg_pid != m->ignore_portid && about_our_table(h))
				*ret_damaged = true;
	}
}
