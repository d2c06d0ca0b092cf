/* lib/err.h - the one error convention for multi-step operations.
 *
 * Leaf functions (cgroup/, netns/, volumes/, small lib/ helpers) return 0 or a
 * negative errno and never log.  Anything that needs context (runtime/,
 * control/, api/, policy/ builders) takes a `struct err *` and fails with a
 * one-line `return err_set(e, r, "...")`.  Nothing is allocated on the error
 * path.  `type` is set only by code that speaks the ECS API: it names the
 * exception ("ClientException", ...) that api/ puts in "__type".
 */
#pragma once

#include <stddef.h>

struct err {
	int code;          /* negative errno; 0 while unset */
	const char *type;  /* static ECS exception name, or NULL */
	char msg[512];     /* newest context first: "start 'web': create cgroup: ..." */
};

#define ERR_INIT { 0, NULL, "" }

/* Records the error (code must be negative) and returns it, so a failure is
 * `return err_set(e, -EINVAL, "...")`.  Appends strerror(-code) after ": "
 * unless the message already describes the problem (use err_setx for that). */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As err_set, without appending strerror. */
int err_setx(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As err_setx, and names the ECS exception for the API layer. */
int err_api(struct err *e, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes context to an error a callee already set; returns e->code. */
int err_wrap(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Forgets an error that is deliberately dropped. */
void err_clear(struct err *e);
