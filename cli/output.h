/* cli/output.h - printing responses: JSON as the aws CLI prints it (4-space
 * indent), a boxed table (--output table) or tab-separated text. */
#pragma once

#include <cjson/cJSON.h>
#include <stdio.h>

#include "cli/args.h"

/* Prints J (any value) to OUT in FMT; TITLE heads the table (the action). */
void output_print(FILE *out, const cJSON *j, enum output_format fmt, const char *title);
/* Prints J as indented JSON followed by a newline. */
void output_json(FILE *out, const cJSON *j);
