#include "lib/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int err_vset(struct err *e, int code, const char *type, int with_errno,
		    const char *fmt, va_list ap)
{
	int n;

	if (code >= 0)
		code = -EINVAL;
	e->code = code;
	e->type = type;
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(-code));
	return code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vset(e, code, NULL, 1, fmt, ap);
	va_end(ap);
	return r;
}

int err_setx(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vset(e, code, NULL, 0, fmt, ap);
	va_end(ap);
	return r;
}

int err_api(struct err *e, const char *type, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vset(e, -EINVAL, type, 0, fmt, ap);
	va_end(ap);
	return r;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char prefix[sizeof(e->msg)];
	char old[sizeof(e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* Truncation keeps the newest context, which is the most useful part. */
	if (snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old) < 0)
		e->msg[0] = '\0';
	if (e->code == 0)
		e->code = -EINVAL;
	return e->code;
}

void err_clear(struct err *e)
{
	e->code = 0;
	e->type = NULL;
	e->msg[0] = '\0';
}
