/* lib/loop.h - the daemon's single-threaded event loop (STYLE P11).
 *
 * epoll plus an fd for everything: timers are timerfds, signals arrive on
 * one signalfd, a child's exit is a readable pidfd.  Callbacks run one at a
 * time from loop_run(); they may add and remove any watcher, including
 * their own.  A prepare hook runs before every sleep (libmicrohttpd's timeout
 * is re-armed there).  Nothing here logs; every call returns 0 or -errno.
 *
 * Ownership: the loop owns its watchers; removing a watcher never closes
 * the caller's fd (timers and pid watches close the fds they made).
 * loop_free() releases everything still registered and restores the signal
 * mask loop_add_signal() changed.
 */
#pragma once

#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/types.h>

struct loop;
struct loop_timer;

typedef void loop_fd_cb(struct loop *l, int fd, uint32_t events, void *data);
typedef void loop_timer_cb(struct loop *l, struct loop_timer *t, void *data);
typedef void loop_signal_cb(struct loop *l, const struct signalfd_siginfo *si, void *data);
/* INFO is the reaped exit status, or NULL when the process was not our
 * child (waitid fails with ECHILD); the watch is gone when this runs. */
typedef void loop_pid_cb(struct loop *l, pid_t pid, const siginfo_t *info, void *data);
typedef void loop_prepare_cb(struct loop *l, void *data);

int loop_new(struct loop **ret);
/* Accepts NULL; returns NULL. */
struct loop *loop_free(struct loop *l);

/* Watches FD for EVENTS (EPOLLIN, EPOLLOUT, ...).  -EEXIST if already watched. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb *cb, void *data);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* -ENOENT if FD is not watched.  Safe from inside any callback. */
int loop_del_fd(struct loop *l, int fd);

/* A timer starts disarmed. */
int loop_timer_new(struct loop *l, loop_timer_cb *cb, void *data, struct loop_timer **ret);
/* First expiry after USEC (0 disarms); then every INTERVAL_USEC (0 = one-shot). */
int loop_timer_arm(struct loop_timer *t, uint64_t usec, uint64_t interval_usec);
/* Accepts NULL; returns NULL. */
struct loop_timer *loop_timer_free(struct loop_timer *t);

/* Blocks SIGNO and delivers it through the loop's signalfd.  One callback per
 * signal; -EEXIST if SIGNO already has one. */
int loop_add_signal(struct loop *l, int signo, loop_signal_cb *cb, void *data);

/* Calls CB once when PID exits (through a pidfd; reaps it if it is our child). */
int loop_add_pid(struct loop *l, pid_t pid, loop_pid_cb *cb, void *data);

/* CB runs before every wait; NULL removes it. */
void loop_set_prepare(struct loop *l, loop_prepare_cb *cb, void *data);

/* Dispatches until loop_quit().  Returns the code given to loop_quit(), or
 * -errno if epoll_wait fails. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l, int code);
