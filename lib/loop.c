/* lib/loop.c - epoll loop with timerfd, signalfd and pidfd watchers. */
#include "lib/loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_EVENTS 32

struct watch {
	struct watch *next;
	int fd;
	bool dead;          /* removed during a dispatch batch: skip, free later */
	bool close_fd;      /* the loop made this fd (pidfd) */
	loop_fd_cb *cb;
	void *data;
	void *owned;        /* freed with the watch */
};

struct loop_timer {
	struct loop_timer *next;
	struct loop *l;
	int fd;
	loop_timer_cb *cb;
	void *data;
};

struct sig_handler {
	loop_signal_cb *cb;
	void *data;
};

struct pid_watch {
	pid_t pid;
	loop_pid_cb *cb;
	void *data;
};

struct loop {
	int epfd;
	struct watch *watches;
	struct watch *graveyard;    /* removed while dispatching */
	struct loop_timer *timers;
	int sigfd;
	sigset_t sigmask;           /* signals routed to sigfd */
	sigset_t old_mask;          /* restored by loop_free */
	bool mask_changed;
	struct sig_handler sigs[_NSIG];
	loop_prepare_cb *prepare;
	void *prepare_data;
	bool quit;
	int quit_code;
};

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void watch_destroy(struct watch *w)
{
	if (w->close_fd && w->fd >= 0)
		close(w->fd);
	free(w->owned);
	free(w);
}

static void free_list(struct watch *w)
{
	while (w) {
		struct watch *next = w->next;

		watch_destroy(w);
		w = next;
	}
}

struct loop *loop_free(struct loop *l)
{
	if (!l)
		return NULL;
	while (l->timers)
		loop_timer_free(l->timers);
	free_list(l->watches);
	free_list(l->graveyard);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->mask_changed)
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	close(l->epfd);
	free(l);
	return NULL;
}

static struct watch *find_watch(struct loop *l, int fd, struct watch ***ret_link)
{
	for (struct watch **p = &l->watches; *p; p = &(*p)->next)
		if ((*p)->fd == fd) {
			if (ret_link)
				*ret_link = p;
			return *p;
		}
	return NULL;
}

static int add_watch(struct loop *l, int fd, uint32_t events, loop_fd_cb *cb, void *data,
		     struct watch **ret)
{
	struct epoll_event ev = { .events = events };
	struct watch *w;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (find_watch(l, fd, NULL))
		return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->data = data;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;

		free(w);
		return r;
	}
	w->next = l->watches;
	l->watches = w;
	if (ret)
		*ret = w;
	return 0;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb *cb, void *data)
{
	return add_watch(l, fd, events, cb, data, NULL);
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct watch *w = find_watch(l, fd, NULL);
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOENT;
	ev.data.ptr = w;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int loop_del_fd(struct loop *l, int fd)
{
	struct watch **link, *w = find_watch(l, fd, &link);

	if (!w)
		return -ENOENT;
	/* The fd may already be closed by its owner: then epoll dropped it. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	*link = w->next;
	/* An event for W may still sit in the current batch: free it later. */
	w->dead = true;
	w->next = l->graveyard;
	l->graveyard = w;
	return 0;
}

/* --- timers --- */

static void on_timerfd(struct loop *l, int fd, uint32_t events, void *data)
{
	struct loop_timer *t = data;
	uint64_t expirations;

	(void)events;
	/* EAGAIN: re-armed or disarmed since it fired; nothing is due. */
	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	t->cb(l, t, t->data);
}

int loop_timer_new(struct loop *l, loop_timer_cb *cb, void *data, struct loop_timer **ret)
{
	struct loop_timer *t;
	int r;

	if (!cb)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0) {
		r = -errno;
		free(t);
		return r;
	}
	r = add_watch(l, t->fd, EPOLLIN, on_timerfd, t, NULL);
	if (r < 0) {
		close(t->fd);
		free(t);
		return r;
	}
	t->l = l;
	t->cb = cb;
	t->data = data;
	t->next = l->timers;
	l->timers = t;
	*ret = t;
	return 0;
}

static struct timespec usec_to_ts(uint64_t usec)
{
	return (struct timespec){ .tv_sec = (time_t)(usec / 1000000),
				  .tv_nsec = (long)(usec % 1000000) * 1000 };
}

int loop_timer_arm(struct loop_timer *t, uint64_t usec, uint64_t interval_usec)
{
	struct itimerspec its = {
		.it_value = usec_to_ts(usec),
		.it_interval = usec ? usec_to_ts(interval_usec) : usec_to_ts(0),
	};

	return timerfd_settime(t->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

struct loop_timer *loop_timer_free(struct loop_timer *t)
{
	if (!t)
		return NULL;
	for (struct loop_timer **p = &t->l->timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	loop_del_fd(t->l, t->fd);
	close(t->fd);
	free(t);
	return NULL;
}

/* --- signals --- */

static void on_signalfd(struct loop *l, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)data;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		struct sig_handler *h = si.ssi_signo < _NSIG ? &l->sigs[si.ssi_signo] : NULL;

		if (h && h->cb)
			h->cb(l, &si, h->data);
	}
}

int loop_add_signal(struct loop *l, int signo, loop_signal_cb *cb, void *data)
{
	sigset_t mask = l->sigmask, old;
	int fd, r;

	if (signo <= 0 || signo >= _NSIG || !cb)
		return -EINVAL;
	if (l->sigs[signo].cb)
		return -EEXIST;
	sigaddset(&mask, signo);
	fd = signalfd(l->sigfd, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		r = add_watch(l, fd, EPOLLIN, on_signalfd, NULL, NULL);
		if (r < 0) {
			close(fd);
			return r;
		}
		l->sigfd = fd;
	}
	if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
		return -errno;
	if (!l->mask_changed) {
		l->old_mask = old;
		l->mask_changed = true;
	}
	l->sigmask = mask;
	l->sigs[signo] = (struct sig_handler){ cb, data };
	return 0;
}

/* --- child processes --- */

static void on_pidfd(struct loop *l, int fd, uint32_t events, void *data)
{
	struct pid_watch pw = *(struct pid_watch *)data;
	siginfo_t info = { 0 };
	bool reaped, gone;
	int r;

	(void)events;
	r = waitid(P_PIDFD, (id_t)fd, &info, WEXITED | WNOHANG);
	reaped = r == 0 && info.si_pid != 0;
	/* ECHILD: not our child, or reaped elsewhere.  errno means something
	 * only when waitid failed; after a success it is stale. */
	gone = r < 0 && errno == ECHILD;
	if (!reaped && !gone)
		return;         /* spurious wake-up (or EINTR): epoll asks again */
	loop_del_fd(l, fd); /* frees DATA after this batch; PW is a copy */
	pw.cb(l, pw.pid, reaped ? &info : NULL, pw.data);
}

int loop_add_pid(struct loop *l, pid_t pid, loop_pid_cb *cb, void *data)
{
	struct pid_watch *pw;
	struct watch *w;
	int fd, r;

	if (pid <= 0 || !cb)
		return -EINVAL;
	pw = malloc(sizeof(*pw));
	if (!pw)
		return -ENOMEM;
	*pw = (struct pid_watch){ pid, cb, data };
	fd = pidfd_open(pid, 0);
	if (fd < 0) {
		r = -errno;
		free(pw);
		return r;
	}
	r = add_watch(l, fd, EPOLLIN, on_pidfd, pw, &w);
	if (r < 0) {
		close(fd);
		free(pw);
		return r;
	}
	w->close_fd = true;
	w->owned = pw;
	return 0;
}

/* --- running --- */

void loop_set_prepare(struct loop *l, loop_prepare_cb *cb, void *data)
{
	l->prepare = cb;
	l->prepare_data = data;
}

void loop_quit(struct loop *l, int code)
{
	l->quit = true;
	l->quit_code = code;
}

static void dispatch(struct loop *l, struct epoll_event *evs, int n)
{
	for (int i = 0; i < n && !l->quit; i++) {
		struct watch *w = evs[i].data.ptr;

		if (!w->dead)
			w->cb(l, w->fd, evs[i].events, w->data);
	}
	free_list(l->graveyard);
	l->graveyard = NULL;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[MAX_EVENTS];

	l->quit = false;
	while (!l->quit) {
		int n;

		if (l->prepare)
			l->prepare(l, l->prepare_data);
		if (l->quit)
			break;
		n = epoll_wait(l->epfd, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		dispatch(l, evs, n);
	}
	return l->quit_code;
}
