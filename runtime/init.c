/* runtime/init.c - the tiny init a container gets with initProcessEnabled
 * (`--init`): pid 1 forks the command, forwards signals to it, reaps every
 * orphan the namespace hands it, and exits with the command's status.
 *
 * Runs in the container child after all setup (user, capabilities, seccomp
 * already applied), so it needs nothing from the host: no binary is mounted
 * into the container, as with docker-init.  Async-signal-safe calls only. */
#include "runtime/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child: the command itself, with every signal unblocked.  It execs
 * only once init holds nothing but stdio (GO reads EOF when init closed its
 * end), so the command never sees init's startup descriptors in
 * /proc/1/fd.  ERR_FD (close-on-exec) still reports a failed exec. */
static _Noreturn void exec_command(const char *path, char *const argv[], char *const envp[],
				   int err_fd, int go[2])
{
	struct rt_fail f = { 0 };
	sigset_t none;
	char c;

	close(go[1]);
	while (read(go[0], &c, 1) < 0 && errno == EINTR)
		;
	close(go[0]);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
	(void)rt_fail(&f, errno, "exec", path);
	(void)!write(err_fd, &f, sizeof(f));
	_exit(127);
}

/* Reaps every exited child; returns the command's wait status once it is
 * among them, else -1. */
static int reap_all(pid_t cmd)
{
	int status, cmd_status = -1;
	pid_t w;

	while ((w = waitpid(-1, &status, WNOHANG)) > 0)
		if (w == cmd)
			cmd_status = status;
	return cmd_status;
}

int rt_init_run(const char *path, char *const argv[], char *const envp[], int err_fd,
		struct rt_fail *f)
{
	int go[2], status;
	sigset_t all;
	pid_t cmd;

	/* Everything waits in the queue for sigwaitinfo; blocked signals reach
	 * a namespace's pid 1 even without a handler. */
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
		return rt_fail(f, errno, "block signals in init", NULL);
	if (pipe2(go, O_CLOEXEC) < 0)
		return rt_fail(f, errno, "create the init's start pipe", NULL);
	cmd = fork();
	if (cmd < 0)
		return rt_fail(f, errno, "fork the command from init", NULL);
	if (cmd == 0)
		exec_command(path, argv, envp, err_fd, go);
	/* The command holds ERR_FD until its exec, which is all the parent
	 * waits for; init keeps only stdio.  Closing GO's write end last
	 * lets the command go. */
	close(err_fd);
	close(go[0]);
	close(go[1]);
	(void)prctl(PR_SET_NAME, "init", 0, 0, 0);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			(void)kill(cmd, sig);
			continue;
		}
		status = reap_all(cmd);
		if (status < 0)
			continue;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}
