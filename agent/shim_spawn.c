/* agent/shim_spawn.c - shim_spawn() (runtime/shim.h) as the contract
 * describes it: run `berth shim --task-dir DIR`, which detaches itself, and
 * wait until it has.  Weak: runtime/shim*.c may provide its own, which then
 * wins at link time. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/shim.h"

__attribute__((weak)) int shim_spawn(const char *berth_path, const char *task_dir)
{
	char pidfile[4096];
	struct stat st;
	int status;
	pid_t pid;

	if (snprintf(pidfile, sizeof(pidfile), "%s/shim.pid", task_dir) >= (int)sizeof(pidfile))
		return -ENAMETOOLONG;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t none;

		/* The daemon blocks signals for its signalfd: the shim must not inherit that. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(berth_path, "berth", "shim", "--task-dir", task_dir, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOEXEC : -EIO;
	return stat(pidfile, &st) == 0 ? 0 : -ESRCH;
}
