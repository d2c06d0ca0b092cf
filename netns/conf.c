/* netns/conf.c - configuration, names and libnl error translation. */
#include <errno.h>
#include <netlink/errno.h>
#include <stdio.h>
#include <string.h>

#include "netns/ipam.h"
#include "netns/netns.h"

bool netns_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > NETNS_ID_MAX || id[0] == '.' || id[0] == '-')
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < IFNAMSIZ && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	       strcspn(s, "/: \t\n") == n;
}

static int copy_dir(char *dst, size_t size, const char *src)
{
	if (src[0] != '/' || strlen(src) >= size)
		return -EINVAL;
	strcpy(dst, src);
	return 0;
}

int netns_conf_init(struct netns_conf *conf, const char *bridge, const char *subnet,
		    const char *run_dir, const char *state_dir)
{
	struct netns_conf c = { 0 };
	int r;

	bridge = bridge && *bridge ? bridge : NETNS_DEFAULT_BRIDGE;
	if (!ifname_valid(bridge))
		return -EINVAL;
	strcpy(c.bridge, bridge);
	r = ipam_subnet_parse(subnet && *subnet ? subnet : NETNS_DEFAULT_SUBNET, &c.subnet);
	if (r < 0)
		return r;
	r = copy_dir(c.run_dir, sizeof(c.run_dir), run_dir && *run_dir ? run_dir : "/run/berth");
	if (r < 0)
		return r;
	r = copy_dir(c.state_dir, sizeof(c.state_dir), state_dir && *state_dir ? state_dir : "/var/lib/berth");
	if (r < 0)
		return r;
	*conf = c;
	return 0;
}

int netns_nl_errno(int nle)
{
	static const struct { int nle, err; } map[] = {
		{ NLE_NOMEM, -ENOMEM },       { NLE_EXIST, -EEXIST },
		{ NLE_NODEV, -ENODEV },       { NLE_OBJ_NOTFOUND, -ENOENT },
		{ NLE_PERM, -EPERM },         { NLE_NOACCESS, -EACCES },
		{ NLE_INVAL, -EINVAL },       { NLE_RANGE, -ERANGE },
		{ NLE_BUSY, -EBUSY },         { NLE_AGAIN, -EAGAIN },
		{ NLE_NOADDR, -EADDRNOTAVAIL }, { NLE_OPNOTSUPP, -EOPNOTSUPP },
		{ NLE_AF_NOSUPPORT, -EAFNOSUPPORT }, { NLE_MSGSIZE, -EMSGSIZE },
	};

	if (nle >= 0)
		return nle;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (-nle == map[i].nle)
			return map[i].err;
	return -EIO;   /* detail: nl_geterror(nle) */
}

void netns_veth_name(const char *id, char ret[IFNAMSIZ])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(ret, IFNAMSIZ, "bv%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

int netns_task_path(const struct netns_conf *conf, const char *id, char *buf, size_t size)
{
	if (!netns_id_valid(id))
		return -EINVAL;
	if ((size_t)snprintf(buf, size, "%s/netns/%s", conf->run_dir, id) >= size)
		return -ENAMETOOLONG;
	return 0;
}
