/* cli/ecs.h - the runner behind every `berth <ecs-verb>` subcommand. */
#pragma once

#include <cjson/cJSON.h>

/* Exit codes, as the aws CLI v2 uses them. */
#define CLI_EXIT_USAGE   252 /* bad flags or parameter values */
#define CLI_EXIT_SERVICE 254 /* the service answered with an error */
#define CLI_EXIT_FAILURE 255 /* no answer: connection, protocol, local failure */

/* Runs the verb named argv[0]; returns the process exit status. */
int ecs_verb_main(int argc, char **argv);

/* The nextToken of a list response PAGE as a malloc'd string in *RET (NULL
 * on the last page).  -ELOOP if it is SENT, the token the page was asked
 * for: a server that repeats a token would be followed forever (the aws CLI
 * stops there too); -ENOMEM. */
int ecs_next_token(const cJSON *page, const char *sent, char **ret);
