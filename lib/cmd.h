/* lib/cmd.h - subcommand registration.
 *
 * Each front-end file registers its own subcommand with BERTH_COMMAND(); the
 * linker collects them into the `berth_cmds` section and cli/main.c walks it.
 * So adding a subcommand touches only its own file.  NAME may be two words
 * ("container run", "image load"): main matches the longest name first.
 * RUN gets argv with argv[0] = the last word of NAME and returns the process
 * exit status.
 */
#pragma once

struct berth_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

#define BERTH_COMMAND(ident, name_, run_, summary_)                           \
	static const struct berth_cmd berth_cmd_##ident                       \
		__attribute__((used, section("berth_cmds"),                   \
			       aligned(__alignof__(struct berth_cmd)))) = {   \
			.name = (name_), .run = (run_), .summary = (summary_) \
		}

/* Walks the registered commands; defined in cli/main.c. */
const struct berth_cmd *berth_cmds_begin(void);
const struct berth_cmd *berth_cmds_end(void);
