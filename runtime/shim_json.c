/* runtime/shim_json.c - a growable buffer and JSON string output for the
 * shim's status and log lines (no cJSON tree per write: the shim stays
 * small). */
#include "runtime/shim_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sb_grow(struct sbuf *b, size_t more)
{
	size_t cap;
	char *n;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	n = realloc(b->buf, cap);
	if (!n) {
		b->oom = true;
		return false;
	}
	b->buf = n;
	b->cap = cap;
	return true;
}

void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (!sb_grow(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at S (at most N bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min, cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void sb_json_str(struct sbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	sb_add(b, "\"", 1);
	while (i < n) {
		size_t run = i, len;

		/* Copy plain runs in one go. */
		while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			sb_add(b, str + i, run - i);
			i = run;
			continue;
		}
		switch (s[i]) {
		case '"': sb_add(b, "\\\"", 2); break;
		case '\\': sb_add(b, "\\\\", 2); break;
		case '\n': sb_add(b, "\\n", 2); break;
		case '\r': sb_add(b, "\\r", 2); break;
		case '\t': sb_add(b, "\\t", 2); break;
		default:
			if (s[i] < 0x20) {
				sb_printf(b, "\\u%04x", s[i]);
				break;
			}
			len = utf8_len(s + i, n - i);
			if (len == 0) {
				sb_add(b, "\\ufffd", 6);
				break;
			}
			sb_add(b, str + i, len);
			i += len;
			continue;
		}
		i++;
	}
	sb_add(b, "\"", 1);
}

void sb_json_str_or_null(struct sbuf *b, const char *s)
{
	if (s)
		sb_json_str(b, s, strlen(s));
	else
		sb_puts(b, "null");
}

void sb_release(struct sbuf *b)
{
	free(b->buf);
	*b = (struct sbuf){ 0 };
}

size_t shim_format_time(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;
	size_t n;
	char frac[16];
	int f;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	f = snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
	while (f > 1 && frac[f - 1] == '0')
		f--;
	if (f == 1)
		f = 0; /* whole seconds: no fraction at all */
	frac[f] = '\0';
	n += (size_t)snprintf(buf + n, size - n, "%sZ", frac);
	return n;
}
