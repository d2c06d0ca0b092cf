/* runtime/sysctl.c - a container's namespaced sysctls (runs in the child:
 * no allocation). */
#include "runtime/child.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/netname.h"

/* "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward" in BUF.  A name
 * with a slash is taken as the path already, as sysctl(8) takes it: dots
 * stay, for interfaces such as "net/ipv4/conf/eth0.100/forwarding". */
bool rt_sysctl_path(const char *name, char *buf, size_t size)
{
	static const char prefix[] = "/proc/sys/";
	size_t n = strlen(name);
	bool slashed = strchr(name, '/') != NULL;

	if (sizeof(prefix) + n > size)
		return false;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	for (size_t i = 0; i <= n; i++)
		buf[sizeof(prefix) - 1 + i] = name[i] == '.' && !slashed ? '/' : name[i];
	return true;
}

int rt_apply_sysctls(const struct rt_spec *s, struct rt_fail *f)
{
	char path[sizeof("/proc/sys/") + NETNAME_SYSCTL_NAME_MAX];

	for (size_t i = 0; i < s->n_sysctls; i++) {
		const struct rt_sysctl *sc = &s->sysctls[i];
		size_t len = strlen(sc->value);
		ssize_t n;
		int fd;

		if (!rt_sysctl_path(sc->name, path, sizeof(path)))
			return rt_fail(f, ENAMETOOLONG, "set sysctl", sc->name);
		/* The container's own /proc (mounted just before): net.* files
		 * are those of our network namespace, the ipc ones of our ipc
		 * namespace. */
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return rt_fail(f, errno, "set sysctl", sc->name);
		n = write(fd, sc->value, len);
		if (n != (ssize_t)len) {
			int err = n < 0 ? errno : EIO;

			close(fd);
			return rt_fail(f, err, "set sysctl", sc->name);
		}
		close(fd);
	}
	return 0;
}
