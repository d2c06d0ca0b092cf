/* scheduler/cql_eval.c - evaluates a compiled CQL expression against one
 * instance, without re-parsing. */
#include "scheduler/cql.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/cql_int.h"

static bool by_order(enum op op, int c)
{
	switch (op) {
	case OP_EQ:
		return c == 0;
	case OP_GT:
		return c > 0;
	case OP_GE:
		return c >= 0;
	case OP_LT:
		return c < 0;
	case OP_LE:
		return c <= 0;
	default:
		return false;
	}
}

static int cmp_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

static bool is_decimal(const char *s, double *ret)
{
	char *end;

	if (!*s || !((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.'))
		return false;
	*ret = strtod(s, &end);
	return *end == '\0';
}

static int cmp_attr(const char *v, const char *arg)
{
	double x, y;

	if (is_decimal(v, &x) && is_decimal(arg, &y))
		return (x > y) - (x < y);
	return strcmp(v, arg);
}

static bool full_match(const regex_t *re, const char *s)
{
	regmatch_t m;

	return regexec(re, s, 1, &m, 0) == 0 && m.rm_so == 0 && (size_t)m.rm_eo == strlen(s);
}

/* A string subject: value S (NULL = absent or name-only). */
static bool eval_string(const struct atom *a, const char *s)
{
	if (!s)
		return false;
	switch (a->op) {
	case OP_IN:
		for (size_t i = 0; i < a->n_vals; i++)
			if (strcmp(s, a->vals[i]) == 0)
				return true;
		return false;
	case OP_MATCH:
		return full_match(&a->re, s);
	default:
		return by_order(a->op, a->op == OP_EQ ? strcmp(s, a->vals[0]) : cmp_attr(s, a->vals[0]));
	}
}

static bool has_group(const struct sched_instance *in, const struct cql_delta *d, const char *g)
{
	if (d && d->added && strcmp(d->group, g) == 0)
		return true;
	return sched_instance_group_count(in, g) > 0;
}

static bool eval_group(const struct atom *a, const struct sched_instance *in,
		       const struct cql_delta *d)
{
	if (a->op != OP_MATCH) {
		for (size_t i = 0; i < a->n_vals; i++)
			if (has_group(in, d, a->vals[i]))
				return true;
		return false;
	}
	if (d && d->added && full_match(&a->re, d->group))
		return true;
	for (size_t i = 0; i < in->n_groups; i++)
		if (in->groups[i].count && full_match(&a->re, in->groups[i].group))
			return true;
	return false;
}

static bool eval_num(const struct atom *a, int64_t v)
{
	for (size_t i = 0; i < a->n_vals; i++)
		if (by_order(a->op == OP_IN ? OP_EQ : a->op, cmp_i64(v, a->nums[i])))
			return true;
	return false;
}

static bool eval_positive(const struct atom *a, const struct sched_instance *in,
			  const struct cql_delta *d)
{
	bool present;
	const char *v;

	switch (a->subj) {
	case S_ATTRIBUTE:
		v = sched_instance_attr(in, a->name, &present);
		return a->op == OP_EXISTS ? present : eval_string(a, v);
	case S_EC2_INSTANCE_ID:
		return eval_string(a, in->ec2_instance_id);
	case S_AGENT_CONNECTED:
		if (a->op == OP_MATCH)
			return eval_string(a, in->agent_connected ? "true" : "false");
		return eval_num(a, in->agent_connected);
	case S_AGENT_VERSION:
		return in->agent_version && by_order(a->op, cql_version_cmp(in->agent_version, a->vals[0]));
	case S_REGISTERED_AT:
		return eval_num(a, in->registered_at_ms);
	case S_RUNNING_TASKS:
		return eval_num(a, (int64_t)in->running_tasks + (d ? d->added : 0));
	case S_TASK_GROUP:
		return eval_group(a, in, d);
	}
	return false;
}

static bool eval_node(const struct cql *q, uint32_t n, const struct sched_instance *in,
		      const struct cql_delta *d)
{
	const struct node *nd = &q->nodes[n];
	const struct atom *a;

	switch (nd->kind) {
	case N_AND:
		return eval_node(q, nd->a, in, d) && eval_node(q, nd->b, in, d);
	case N_OR:
		return eval_node(q, nd->a, in, d) || eval_node(q, nd->b, in, d);
	case N_NOT:
		return !eval_node(q, nd->a, in, d);
	case N_ATOM:
		a = &q->atoms[nd->a];
		return eval_positive(a, in, d) != a->negate;
	}
	return false;
}

bool cql_eval(const struct cql *q, const struct sched_instance *in, const struct cql_delta *d)
{
	return eval_node(q, q->root, in, d);
}
