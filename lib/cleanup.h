/* lib/cleanup.h - scope-bound ownership (STYLE P3).
 *
 * A local that owns memory or an fd is declared with _cleanup_free_ /
 * _cleanup_close_ / _cleanup_fclose_; it leaves the function only through
 * TAKE_PTR() or take_fd(), so every hand-over is visible.  Library objects get
 * their own *_freep next to their use (cJSON_Deletep below, nl/sqlite ones in
 * their folders).
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
static inline int take_fd(int *fd) { int r = *fd; *fd = -1; return r; }

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
