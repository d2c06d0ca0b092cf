/* cli/ecs.h - the runner behind every `berth <ecs-verb>` subcommand. */
#pragma once

/* Exit codes, as the aws CLI v2 uses them. */
#define CLI_EXIT_USAGE   252 /* bad flags or parameter values */
#define CLI_EXIT_SERVICE 254 /* the service answered with an error */
#define CLI_EXIT_FAILURE 255 /* no answer: connection, protocol, local failure */

/* Runs the verb named argv[0]; returns the process exit status. */
int ecs_verb_main(int argc, char **argv);
