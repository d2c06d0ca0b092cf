/* lib/log.h - logging at the edges (STYLE P12).
 *
 * Only daemon/, api/, cli/ and command front-ends log above DEBUG; leaf code
 * returns errors instead.  Messages: what failed first, subjects in 'single
 * quotes', non-fatal problems end with ", ignoring".  Output goes to stderr
 * as "berth: <level>: <message>[: <strerror>]".
 */
#pragma once

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
/* Parses "error|warn|info|debug"; returns 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *ret);
/* ERR is a negative errno appended as ": strerror", or 0. */
void log_msg(enum log_level lvl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...)          log_msg(LOG_LVL_ERR, 0, __VA_ARGS__)
#define log_error_errno(r, ...) log_msg(LOG_LVL_ERR, (r), __VA_ARGS__)
#define log_warn(...)           log_msg(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_warn_errno(r, ...)  log_msg(LOG_LVL_WARN, (r), __VA_ARGS__)
#define log_info(...)           log_msg(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...)          log_msg(LOG_LVL_DEBUG, 0, __VA_ARGS__)
