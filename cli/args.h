/* cli/args.h - argv -> ECS request body, driven by the verb table.
 *
 * Pure apart from reading file://PATH values.  Errors are usage errors (the
 * runner exits 252, as the aws CLI does) with aws-style wording in e->msg.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "cli/verbs.h"
#include "lib/err.h"

enum output_format { OUT_JSON, OUT_TABLE, OUT_TEXT };

/* The options that steer the client rather than fill the request.  Strings
 * point into argv. */
struct cli_opts {
	const char *endpoint;        /* --endpoint / --endpoint-url; NULL = default */
	const char *region;          /* --region; NULL = default */
	enum output_format output;   /* --output json|table|text */
	bool help;                   /* --help / -h */
	bool skeleton;               /* --generate-cli-skeleton */
	bool debug;                  /* --debug: request and response to stderr */
	/* paginated verbs only: */
	bool no_paginate;            /* one page: --no-paginate, or raw --max-results/--next-token */
	long max_items;              /* --max-items; 0 = all */
	long page_size;              /* --page-size; 0 = server default */
	const char *starting_token;  /* --starting-token */
};

/* Parses ARGV (argv[0] = the verb) for verb V into *opts and a new request
 * object *ret_req (cJSON_Delete it).  Values given on the command line
 * override members of --cli-input-json; members are checked against the
 * table (unknown member, wrong type, missing required flag).  With --help or
 * --generate-cli-skeleton the required check is skipped. */
int args_parse(const struct verb *v, int argc, char **argv, struct cli_opts *opts,
	       cJSON **ret_req, struct err *e);

/* Loads VALUE as a parameter value: "file://PATH" reads the file, anything
 * else is the value itself.  *ret is malloc'd.  FLAG names the parameter in
 * errors. */
int args_load_value(const char *flag, const char *value, char **ret, struct err *e);

/* The request skeleton of V: every member with an empty value of its type. */
cJSON *args_skeleton(const struct verb *v);

/* Human name of a parameter type, for help and errors ("string", ...). */
const char *param_type_name(const struct verb_param *p);
