/* lib/netname.h - names and addresses a task definition puts into a
 * container's /etc/hosts, /etc/resolv.conf and sysctls (pure).  Shared by
 * control/ (registration refuses bad input) and runtime/ (the shim checks
 * spec.json again: it is a file on disk). */
#pragma once

#include <stdbool.h>

#define NETNAME_HOST_MAX 253        /* a DNS name, dots included */
#define NETNAME_SYSCTL_NAME_MAX 128
#define NETNAME_SYSCTL_VALUE_MAX 256
/* How many a container may list (ECS states no limit; these leave room
 * beyond what a resolver uses). */
#define NETNAME_MAX_DNS_SERVERS 16
#define NETNAME_MAX_DNS_SEARCH 16
#define NETNAME_MAX_EXTRA_HOSTS 256

/* An IPv4 or IPv6 address in the usual text form (inet_pton). */
bool netname_ip_valid(const char *s);
/* A host or domain name: dot-separated labels of 1-63 [A-Za-z0-9_-], none
 * starting or ending with '-', at most 253 characters; no whitespace, no
 * control characters (one line in /etc/hosts or resolv.conf each). */
bool netname_host_valid(const char *s);

/* The namespace a sysctl belongs to: only namespaced ones may be set for a
 * container (Docker's and runc's list). */
enum sysctl_ns { SYSCTL_NS_NONE, SYSCTL_NS_NET, SYSCTL_NS_IPC };
/* NAME as "net.ipv4.ip_forward" (dots; '/' is accepted as runc does):
 * components of [A-Za-z0-9_-], no empty one.  SYSCTL_NS_NONE for a
 * malformed name and for every sysctl outside the net and ipc namespaces. */
enum sysctl_ns netname_sysctl_ns(const char *name);
/* A value one write(2) can carry: 1-256 printable characters or tabs, no
 * newline. */
bool netname_sysctl_value_valid(const char *v);
