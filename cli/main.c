/* cli/main.c - `berth <command>`: finds the registered subcommand and runs it.
 *
 * Built twice (cli/lean.h): into the full binary, where every command is
 * registered, and with -DBERTH_LEAN into the lean `berth`, which execs the
 * full binary for --help and for any command it does not carry. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/lean.h"
#include "lib/cmd.h"
#include "lib/err.h"

extern const struct berth_cmd __start_berth_cmds[];
extern const struct berth_cmd __stop_berth_cmds[];

const struct berth_cmd *berth_cmds_begin(void) { return __start_berth_cmds; }
const struct berth_cmd *berth_cmds_end(void) { return __stop_berth_cmds; }

static char **main_argv;   /* as given, for berth_exec_full */

int berth_exec_full(struct err *e)
{
	char self[PATH_MAX], full[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n < 0)
		return err_set(e, -errno, "readlink /proc/self/exe");
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return err_setx(e, -ENOENT, "no directory in '%s'", self);
	if (snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - self), self,
		     BERTH_FULL_PATH) >= (int)sizeof(full))
		return err_setx(e, -ENAMETOOLONG, "'%s' too long for " BERTH_FULL_PATH, self);
	fflush(NULL);
	execv(full, main_argv);
	return err_set(e, -errno, "run '%s'", full);
}

/* Matches "WORD1 WORD2" names against argv[1..2], then single words. */
static const struct berth_cmd *find_command(int argc, char **argv, int *ret_words)
{
	char two[256];

	if (argc > 2) {
		snprintf(two, sizeof(two), "%s %s", argv[1], argv[2]);
		for (const struct berth_cmd *c = berth_cmds_begin(); c < berth_cmds_end(); c++)
			if (strcmp(c->name, two) == 0) {
				*ret_words = 2;
				return c;
			}
	}
	for (const struct berth_cmd *c = berth_cmds_begin(); c < berth_cmds_end(); c++)
		if (strcmp(c->name, argv[1]) == 0) {
			*ret_words = 1;
			return c;
		}
	return NULL;
}

#ifdef BERTH_LEAN
/* Not carried here (or --help, which lists every command): the full binary. */
static int not_here(int argc, char **argv)
{
	struct err e = ERR_INIT;

	(void)argc;
	(void)argv;
	berth_exec_full(&e);
	fprintf(stderr, "berth: %s\n", e.msg);
	return 2;
}
#else
static int by_name(const void *a, const void *b)
{
	return strcmp((*(const struct berth_cmd *const *)a)->name,
		      (*(const struct berth_cmd *const *)b)->name);
}

/* Lists the commands by name (the linker's order is arbitrary). */
static void usage(FILE *out)
{
	size_t n = (size_t)(berth_cmds_end() - berth_cmds_begin());
	const struct berth_cmd **sorted = calloc(n ? n : 1, sizeof(*sorted));

	fprintf(out, "usage: berth <command> [args...]\n\ncommands:\n");
	if (!sorted)
		return;
	for (size_t i = 0; i < n; i++)
		sorted[i] = berth_cmds_begin() + i;
	qsort(sorted, n, sizeof(*sorted), by_name);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-34s %s\n", sorted[i]->name, sorted[i]->summary);
	free(sorted);
}

static int not_here(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	fprintf(stderr, "berth: unknown command '%s' (see 'berth --help')\n", argv[1]);
	return 2;
}
#endif

int main(int argc, char **argv)
{
	const struct berth_cmd *cmd = NULL;
	int words = 0;

	main_argv = argv;
	if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)
		cmd = find_command(argc, argv, &words);
	if (!cmd)
		return not_here(argc, argv);
	return cmd->run(argc - words, argv + words);
}
