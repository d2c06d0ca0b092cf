/* scheduler/cql_int.h - the compiled form of a CQL expression, shared by
 * the compiler (cql.c) and the evaluator (cql_eval.c). */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum subject {
	S_AGENT_CONNECTED,
	S_AGENT_VERSION,
	S_ATTRIBUTE,
	S_EC2_INSTANCE_ID,
	S_REGISTERED_AT,
	S_RUNNING_TASKS,
	S_TASK_GROUP,
};

/* Positive operators; the negative spellings set atom.negate. */
enum op { OP_EQ, OP_GT, OP_GE, OP_LT, OP_LE, OP_IN, OP_MATCH, OP_EXISTS };

enum node_kind { N_ATOM, N_AND, N_OR, N_NOT };

struct node {
	enum node_kind kind;
	uint32_t a, b;        /* children, or a = atom index */
};

struct atom {
	enum subject subj;
	enum op op;
	bool negate;
	char *name;           /* attribute name */
	char **vals;
	size_t n_vals;
	int64_t *nums;        /* parsed vals for numeric subjects */
	regex_t re;
	bool has_re;
};

struct cql {
	struct node *nodes;
	size_t n_nodes, cap_nodes;
	struct atom *atoms;
	size_t n_atoms, cap_atoms;
	uint32_t root;
	bool dep_tasks;
};
