/* lib/netname.c - host names, addresses and namespaced sysctls (pure). */
#include "lib/netname.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "lib/cleanup.h"

bool netname_ip_valid(const char *s)
{
	unsigned char buf[16];

	return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool netname_host_valid(const char *s)
{
	size_t len, label = 0;

	if (!s || !(len = strlen(s)) || len > NETNAME_HOST_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			/* no empty label, none starting or ending with '-' */
			if (label == 0 || s[i - label] == '-' || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!label_char(c) || ++label > 63)
			return false;
	}
	return true;
}

/* The IPC namespace's sysctls (runc's validateSysctl, ipc part). */
static const char *const ipc_sysctls[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

enum sysctl_ns netname_sysctl_ns(const char *name)
{
	char buf[NETNAME_SYSCTL_NAME_MAX + 1];
	size_t len, label = 0;

	if (!name || !(len = strlen(name)) || len > NETNAME_SYSCTL_NAME_MAX)
		return SYSCTL_NS_NONE;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '.' || c == '/' || c == '\0') {
			if (label == 0)
				return SYSCTL_NS_NONE;
			buf[i] = '.';
			label = 0;
			continue;
		}
		if (!label_char(c))
			return SYSCTL_NS_NONE;
		buf[i] = c;
		label++;
	}
	buf[len] = '\0';
	if (strncmp(buf, "net.", 4) == 0)
		return SYSCTL_NS_NET;
	if (strncmp(buf, "fs.mqueue.", 10) == 0)
		return SYSCTL_NS_IPC;
	for (size_t i = 0; i < ARRAY_SIZE(ipc_sysctls); i++)
		if (strcmp(buf, ipc_sysctls[i]) == 0)
			return SYSCTL_NS_IPC;
	return SYSCTL_NS_NONE;
}

bool netname_sysctl_value_valid(const char *v)
{
	size_t len;

	if (!v || !(len = strlen(v)) || len > NETNAME_SYSCTL_VALUE_MAX)
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 ? *p != '\t' : *p == 0x7f)
			return false;
	return true;
}
