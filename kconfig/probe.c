/* kconfig/probe.c - live probes for `berth check`.
 *
 * Anything that creates kernel objects runs in a forked child that first
 * unshares a new network namespace: the objects die with the child, and the
 * host's own namespaces are never touched.  Children report through their
 * exit status: 0 = present, else the positive errno.
 */
#include "kconfig/kconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"

/* Runs FN(ARG) in a forked child and returns its verdict (0 or -errno). */
static int in_child(int (*fn)(const void *arg), const void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int r = fn(arg);

		_exit(r < 0 ? (-r > 255 ? 255 : -r) : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

int probe_clone3(void)
{
	/* A zero size is always invalid: EINVAL means the call exists. */
	if (syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS)
		return -ENOSYS;
	return 0;
}

int probe_seccomp_filter(void)
{
	unsigned int action = SECCOMP_RET_ERRNO;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		return -errno;
	return 0;
}

static int do_unshare(const void *arg)
{
	if (unshare(*(const int *)arg) < 0)
		return -errno;
	return 0;
}

int probe_user_ns(void)
{
	static const int flag = CLONE_NEWUSER;

	return in_child(do_unshare, &flag);
}

int probe_net_ns(void)
{
	static const int flag = CLONE_NEWNET;

	return in_child(do_unshare, &flag);
}

int probe_filesystem(const char *filesystems, const char *fstype)
{
	_cleanup_free_ char *buf = NULL;
	size_t len, fl = strlen(fstype);
	const char *p;
	int r;

	r = read_file_alloc(filesystems ? filesystems : "/proc/filesystems", 1 << 20, &buf, &len);
	if (r < 0)
		return r;
	/* lines are "nodev\toverlay" or "\text4" */
	for (p = buf; (p = strstr(p, fstype)); p += fl)
		if (p > buf && p[-1] == '\t' && (p[fl] == '\n' || p[fl] == '\0'))
			return 0;
	return -ENODEV;
}

/* Sends one request built in BUF and waits for its ack: 0 or -errno. */
static int mnl_request(int bus, struct nlmsghdr *nlh, size_t len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int portid;
	ssize_t n;
	int r;

	nl = mnl_socket_open(bus);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, len) < 0) {
		r = -errno;
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		r = -errno;
		goto out;
	}
	r = mnl_cb_run(buf, (size_t)n, 0, portid, NULL, NULL) < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return r;
}

static int new_link(const void *arg)
{
	const char *kind = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *info;

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "berthprobe0");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_nest_end(nlh, info);
	return mnl_request(NETLINK_ROUTE, nlh, nlh->nlmsg_len);
}

int probe_link_kind(const char *kind)
{
	return in_child(new_link, kind);
}

static void nftnl_table_freep(struct nftnl_table **t)
{
	if (*t)
		nftnl_table_free(*t);
}

static int new_table(const void *arg)
{
	_cleanup_(nftnl_table_freep) struct nftnl_table *t = NULL;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_nlmsg_batch *batch;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);
	int r;

	(void)arg;
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, "berth-probe");
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);

	batch = mnl_nlmsg_batch_start(buf, sizeof(buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	nlh = nftnl_table_nlmsg_build_hdr(mnl_nlmsg_batch_current(batch), NFT_MSG_NEWTABLE,
					  NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(batch);
	nftnl_batch_end(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	r = mnl_request(NETLINK_NETFILTER, mnl_nlmsg_batch_head(batch),
			mnl_nlmsg_batch_size(batch));
	mnl_nlmsg_batch_stop(batch);
	return r;
}

int probe_nf_tables(void)
{
	return in_child(new_table, NULL);
}
