/* cli/verbs.h - the ECS verbs of the command-line client, as data.
 *
 * Every `berth <verb>` is one row: the kebab-case verb as `aws ecs` spells
 * it, the API action, and its flags with the JSON member each one fills and
 * the member's type.  One generic runner (cli/ecs.c) turns argv into the
 * request body with cli/args.c, so adding an action is adding a row.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum param_type {
	PT_STRING,  /* --flag VALUE */
	PT_INT,     /* --flag 10 */
	PT_BOOL,    /* --flag / --no-flag */
	PT_STRLIST, /* --flag a b c, or a JSON array */
	PT_KVLIST,  /* list of string structures: --tags key=a,value=b key=c,value=d, or JSON */
	PT_JSON,    /* a structure (or list of them, with .list): JSON text or file://PATH */
};

struct verb_param {
	const char *flag;            /* without the leading "--" */
	const char *member;          /* JSON member name in the request */
	enum param_type type;
	bool required;
	bool list;                   /* PT_JSON: the member is a list of structures */
	const char *const *keys;     /* PT_KVLIST: allowed shorthand keys, NULL-terminated */
};

struct verb {
	const char *name;            /* "register-task-definition" */
	const char *action;          /* "RegisterTaskDefinition" */
	const char *summary;
	const struct verb_param *params;
	size_t n_params;
	const char *page_key;        /* list member collected across pages, or NULL */
};

/* The verb named NAME, or NULL. */
const struct verb *verb_find(const char *name);
/* The parameter of V whose flag is FLAG (without "--"), or NULL. */
const struct verb_param *verb_param_by_flag(const struct verb *v, const char *flag);
/* The parameter of V that fills MEMBER, or NULL. */
const struct verb_param *verb_param_by_member(const struct verb *v, const char *member);
/* The table, for help and tests. */
const struct verb *verbs_begin(void);
const struct verb *verbs_end(void);
