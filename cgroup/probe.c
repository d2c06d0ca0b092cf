/* cgroup/probe.c - what the host's cgroup hierarchies offer. */
#include "cgroup/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"

/* Copies the mountinfo field at S (up to a space) into OUT, undoing the
 * kernel's octal escapes (\040 for a space, ...).  -ENAMETOOLONG/-EINVAL. */
static int unescape_field(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (c == '\0')
			return -EINVAL;
		if (o + 1 >= size)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* True if the comma-separated LIST (length LEN) holds WORD. */
static bool list_has(const char *list, size_t len, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (n == wl && memcmp(p, word, wl) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

/* Splits LINE (length LEN, no newline) into space-separated fields. */
static size_t split_fields(const char *line, size_t len, const char **f, size_t *fl, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		f[n] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		fl[n] = (size_t)(line + i - f[n]);
		n++;
	}
	return n;
}

/* One mountinfo line: "id parent maj:min root mnt opts [optional...] - fstype src superopts". */
static int parse_line(const char *line, size_t len, struct cg_host *h, bool *found_v2)
{
	const char *f[64];
	size_t fl[64], n, dash;
	int r;

	n = split_fields(line, len, f, fl, ARRAY_SIZE(f));
	for (dash = 6; dash < n; dash++)
		if (fl[dash] == 1 && f[dash][0] == '-')
			break;
	if (dash + 1 >= n)
		return 0; /* not a line we understand: not a cgroup either */
	if (fl[dash + 1] == 7 && memcmp(f[dash + 1], "cgroup2", 7) == 0) {
		if (*found_v2)
			return 0;
		r = unescape_field(f[4], fl[4], h->mount, sizeof(h->mount));
		if (r < 0)
			return r;
		*found_v2 = true;
	} else if (fl[dash + 1] == 6 && memcmp(f[dash + 1], "cgroup", 6) == 0 && dash + 3 < n) {
		if (list_has(f[dash + 3], fl[dash + 3], "cpu"))
			h->v1_cpu = true;
		if (list_has(f[dash + 3], fl[dash + 3], "memory"))
			h->v1_memory = true;
	}
	return 0;
}

int cg_parse_mountinfo(const char *text, struct cg_host *ret)
{
	struct cg_host h = { 0 };
	bool found = false;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		int r = parse_line(p, len, &h, &found);

		if (r < 0)
			return r;
		p += len + (nl ? 1 : 0);
	}
	if (!found)
		return -ENOENT;
	*ret = h;
	return 0;
}

void cg_parse_controllers(const char *text, struct cg_host *ret)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
		{ "cpu", offsetof(struct cg_host, has_cpu) },
		{ "memory", offsetof(struct cg_host, has_memory) },
		{ "pids", offsetof(struct cg_host, has_pids) },
	};
	const char *p = text;

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		*(bool *)((char *)ret + known[i].off) = false;
	while (*p) {
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			if (n == strlen(known[i].name) && memcmp(p, known[i].name, n) == 0)
				*(bool *)((char *)ret + known[i].off) = true;
		p += n;
	}
}

static int probe_mounts(const char *mountinfo, struct cg_host *ret)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = read_file_alloc(mountinfo ? mountinfo : "/proc/self/mountinfo", 4 << 20, &text, NULL);
	if (r < 0)
		return r;
	return cg_parse_mountinfo(text, ret);
}

void cg_parse_proc_cgroups(const char *text, struct cg_host *ret)
{
	const char *p = text;

	ret->v1_cpu = ret->v1_memory = false;
	while (*p) {
		char line[128], name[32];
		unsigned long hier, n, enabled;
		size_t len = strcspn(p, "\n");

		/* One line at a time: sscanf would read numbers across lines. */
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (line[0] != '#' && len < sizeof(line) &&
		    sscanf(line, "%31s %lu %lu %lu", name, &hier, &n, &enabled) == 4 &&
		    hier != 0 && enabled) {
			if (strcmp(name, "cpu") == 0)
				ret->v1_cpu = true;
			else if (strcmp(name, "memory") == 0)
				ret->v1_memory = true;
		}
		p += len + (p[len] == '\n');
	}
}

/* cgroup2 where hosts mount it: a pure v2 host at /sys/fs/cgroup, a
 * hybrid one at /sys/fs/cgroup/unified (cpu/memory then in v1, as
 * /proc/cgroups tells).  One statfs each instead of mountinfo, which grows
 * with every running container's mounts.  -ENOENT: look further. */
static int probe_usual(struct cg_host *ret)
{
	static const char *const usual[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct cg_host h = { 0 };
	struct statfs sf;
	char text[2048];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(usual); i++) {
		if (statfs(usual[i], &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		snprintf(h.mount, sizeof(h.mount), "%s", usual[i]);
		if (i > 0) {
			r = read_file_at(AT_FDCWD, "/proc/cgroups", text, sizeof(text), NULL);
			if (r < 0)
				return -ENOENT;
			cg_parse_proc_cgroups(text, &h);
		}
		*ret = h;
		return 0;
	}
	return -ENOENT;
}

/* Where cgroup2 and the v1 cpu/memory hierarchies are mounted does not
 * change under a running berth: probed once per process (a shim probes for
 * itself, its task and each container). */
static int probe_mounts_cached(struct cg_host *ret)
{
	static struct cg_host cached;
	static bool known;
	int r;

	if (!known) {
		r = probe_usual(&cached);
		if (r < 0)
			r = probe_mounts(NULL, &cached);
		if (r < 0)
			return r;
		known = true;
	}
	*ret = cached;
	return 0;
}

int cg_host_probe(const char *mountinfo, struct cg_host *ret)
{
	_cleanup_close_ int fd = -1;
	struct cg_host h;
	char ctl[512];
	int r;

	r = mountinfo ? probe_mounts(mountinfo, &h) : probe_mounts_cached(&h);
	if (r < 0)
		return r;
	fd = open(h.mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_file_at(fd, "cgroup.controllers", ctl, sizeof(ctl), NULL);
	if (r < 0)
		return r;
	cg_parse_controllers(ctl, &h);
	*ret = h;
	return 0;
}
