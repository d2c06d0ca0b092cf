/* tests/unit/test_loop.c - lib/loop: fds, timers, signals, pidfds, removal
 * during dispatch, and that nothing leaks. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/loop.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

struct pipe_ctx {
	int fds[2];
	int calls;
	int other_fd;       /* removed by this callback when >= 0 */
	struct pipe_ctx *other;
};

static void on_pipe(struct loop *l, int fd, uint32_t events, void *data)
{
	struct pipe_ctx *p = data;
	char c;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	p->calls++;
	if (p->other_fd >= 0)
		assert_int_equal(loop_del_fd(l, p->other_fd), 0);
	loop_quit(l, 42);
}

static void test_fd_readable(void **state)
{
	struct pipe_ctx p = { .other_fd = -1 };
	struct loop *l;
	int before = count_fds();

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(loop_add_fd(l, p.fds[0], EPOLLIN, on_pipe, &p), 0);
	assert_int_equal(loop_add_fd(l, p.fds[0], EPOLLIN, on_pipe, &p), -EEXIST);
	assert_int_equal(write(p.fds[1], "x", 1), 1);
	assert_int_equal(loop_run(l), 42);
	assert_int_equal(p.calls, 1);
	assert_int_equal(loop_del_fd(l, p.fds[0]), 0);
	assert_int_equal(loop_del_fd(l, p.fds[0]), -ENOENT);
	assert_int_equal(loop_del_fd(l, 12345), -ENOENT);
	assert_int_equal(loop_add_fd(l, -1, EPOLLIN, on_pipe, &p), -EINVAL);
	loop_free(l);
	close(p.fds[0]);
	close(p.fds[1]);
	assert_int_equal(count_fds(), before);
}

/* Both pipes are readable in one batch; whichever runs first removes the
 * other, which then must not run (its watcher is freed after the batch). */
static void test_remove_pending_watcher(void **state)
{
	struct pipe_ctx a = { 0 }, b = { 0 };
	struct loop *l;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(pipe(a.fds), 0);
	assert_int_equal(pipe(b.fds), 0);
	a.other_fd = b.fds[0];
	b.other_fd = a.fds[0];
	assert_int_equal(loop_add_fd(l, a.fds[0], EPOLLIN, on_pipe, &a), 0);
	assert_int_equal(loop_add_fd(l, b.fds[0], EPOLLIN, on_pipe, &b), 0);
	assert_int_equal(write(a.fds[1], "x", 1), 1);
	assert_int_equal(write(b.fds[1], "x", 1), 1);
	assert_int_equal(loop_run(l), 42);
	assert_int_equal(a.calls + b.calls, 1);
	loop_free(l);
	for (int i = 0; i < 2; i++) {
		close(a.fds[i]);
		close(b.fds[i]);
	}
}

struct timer_ctx {
	int fired;
	int quit_after;
	int *order;         /* shared sequence counter */
	int seq;            /* value of *order when this timer first fired */
};

static void on_timer(struct loop *l, struct loop_timer *t, void *data)
{
	struct timer_ctx *c = data;

	(void)t;
	if (c->fired++ == 0 && c->order)
		c->seq = ++*c->order;
	if (c->quit_after && c->fired >= c->quit_after)
		loop_quit(l, 0);
}

static void test_timers(void **state)
{
	struct timer_ctx once = { 0 }, periodic = { .quit_after = 3 }, disarmed = { 0 };
	struct loop_timer *t1, *t2, *t3;
	struct loop *l;
	int before = count_fds();

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &once, &t1), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &periodic, &t2), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &disarmed, &t3), 0);
	assert_int_equal(loop_timer_arm(t1, 1000, 0), 0);
	assert_int_equal(loop_timer_arm(t3, 1000, 0), 0);
	assert_int_equal(loop_timer_arm(t3, 0, 0), 0);          /* disarm */
	assert_int_equal(loop_timer_arm(t2, 20000, 20000), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(once.fired, 1);       /* one-shot: once only */
	assert_int_equal(periodic.fired, 3);
	assert_int_equal(disarmed.fired, 0);
	loop_timer_free(t1);
	loop_timer_free(t2);
	/* t3 is released by loop_free. */
	loop_free(l);
	assert_int_equal(count_fds(), before);
}

/* Expiry order follows the deadlines, not the order of arming. */
static void test_timer_order(void **state)
{
	int order = 0;
	struct timer_ctx late = { .order = &order, .quit_after = 1 }, early = { .order = &order };
	struct loop_timer *t1, *t2;
	struct loop *l;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &late, &t1), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &early, &t2), 0);
	assert_int_equal(loop_timer_arm(t1, 200000, 0), 0);
	assert_int_equal(loop_timer_arm(t2, 1000, 0), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(early.seq, 1);
	assert_int_equal(late.seq, 2);
	loop_free(l);
}

static int last_signo;

static void on_signal(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	(void)data;
	last_signo = (int)si->ssi_signo;
	loop_quit(l, 7);
}

static void test_signal(void **state)
{
	struct loop *l;
	sigset_t cur;
	int before = count_fds();

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_add_signal(l, SIGUSR1, on_signal, NULL), 0);
	assert_int_equal(loop_add_signal(l, SIGUSR2, on_signal, NULL), 0);
	assert_int_equal(loop_add_signal(l, SIGUSR1, on_signal, NULL), -EEXIST);
	assert_int_equal(loop_add_signal(l, 0, on_signal, NULL), -EINVAL);
	assert_int_equal(raise(SIGUSR2), 0);    /* blocked: queued on the signalfd */
	assert_int_equal(loop_run(l), 7);
	assert_int_equal(last_signo, SIGUSR2);
	loop_free(l);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	assert_false(sigismember(&cur, SIGUSR1));   /* mask restored */
	assert_false(sigismember(&cur, SIGUSR2));
	assert_int_equal(count_fds(), before);
}

struct pid_ctx {
	pid_t pid;
	int status;
	int calls;
};

static void on_exit_cb(struct loop *l, pid_t pid, const siginfo_t *info, void *data)
{
	struct pid_ctx *c = data;

	c->calls++;
	assert_int_equal(pid, c->pid);
	assert_non_null(info);
	assert_int_equal(info->si_code, CLD_EXITED);
	c->status = info->si_status;
	loop_quit(l, 0);
}

static void test_pid(void **state)
{
	struct pid_ctx c = { 0 };
	struct loop *l;
	int before = count_fds();

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0)
		_exit(7);
	assert_int_equal(loop_add_pid(l, c.pid, on_exit_cb, &c), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.status, 7);
	/* Reaped by the loop: nothing left to wait for. */
	assert_int_equal(waitpid(c.pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(loop_add_pid(l, 0, on_exit_cb, &c), -EINVAL);
	loop_free(l);
	assert_int_equal(count_fds(), before);
}

/* Fault injection for the pidfd watch: while fake_still_running > 0, a
 * WNOHANG waitid() answers "nothing to reap" (0, si_pid 0), as it does for a
 * process that still runs, and leaves a stale ECHILD in errno (a call that
 * succeeds does not touch errno).  Otherwise the real system call. */
static int fake_still_running;

int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	if (fake_still_running > 0 && (options & WNOHANG)) {
		fake_still_running--;
		memset(info, 0, sizeof(*info));
		errno = ECHILD;
		return 0;
	}
	return (int)syscall(SYS_waitid, idtype, id, info, options, NULL);
}

/* A wake-up whose waitid finds nothing is not an exit, whatever errno holds:
 * the callback runs once, when the child is really reaped. */
static void test_pid_spurious_wakeup(void **state)
{
	struct pid_ctx c = { 0 };
	struct loop *l;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0)
		_exit(9);
	assert_int_equal(loop_add_pid(l, c.pid, on_exit_cb, &c), 0);
	fake_still_running = 1;
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(fake_still_running, 0);        /* the fake answered once */
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.status, 9);
	loop_free(l);
}

static int prepared;

static void on_prepare(struct loop *l, void *data)
{
	(void)data;
	if (++prepared == 3)
		loop_quit(l, 3);
}

static void on_always(struct loop *l, int fd, uint32_t events, void *data)
{
	(void)l;
	(void)fd;
	(void)events;
	(void)data;
}

static void test_prepare(void **state)
{
	struct loop *l;
	int fds[2];

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(pipe(fds), 0);
	/* A write end is always writable: every wait returns at once. */
	assert_int_equal(loop_add_fd(l, fds[1], EPOLLOUT, on_always, NULL), 0);
	loop_set_prepare(l, on_prepare, NULL);
	assert_int_equal(loop_run(l), 3);
	assert_int_equal(prepared, 3);
	assert_int_equal(loop_mod_fd(l, fds[1], EPOLLIN), 0);
	assert_int_equal(loop_mod_fd(l, fds[0], EPOLLIN), -ENOENT);
	loop_free(l);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_readable),
		cmocka_unit_test(test_remove_pending_watcher),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_pid_spurious_wakeup),
		cmocka_unit_test(test_prepare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
