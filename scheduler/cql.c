/* scheduler/cql.c - cluster query language: recursive-descent compiler to a
 * small AST (cql_int.h); cql_eval.c evaluates it.  See cql.h for the grammar
 * and semantics. */
#include "scheduler/cql.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/cleanup.h"
#include "scheduler/cql_int.h"
#include "scheduler/cql_regex.h"

#define M(o) (1u << (o))
#define ORDERING (M(OP_GT) | M(OP_GE) | M(OP_LT) | M(OP_LE))

static const struct {
	const char *name;
	enum subject subj;
	unsigned ops;
} subjects[] = {
	{ "agentConnected", S_AGENT_CONNECTED, M(OP_EQ) | M(OP_IN) | M(OP_MATCH) },
	{ "agentVersion", S_AGENT_VERSION, M(OP_EQ) | ORDERING },
	{ "ec2InstanceId", S_EC2_INSTANCE_ID, M(OP_EQ) | M(OP_IN) | M(OP_MATCH) },
	{ "registeredAt", S_REGISTERED_AT, M(OP_EQ) | ORDERING },
	{ "runningTasksCount", S_RUNNING_TASKS, M(OP_EQ) | ORDERING },
	{ "task:group", S_TASK_GROUP, M(OP_EQ) | M(OP_IN) | M(OP_MATCH) },
};
#define ATTR_OPS (M(OP_EQ) | ORDERING | M(OP_IN) | M(OP_MATCH) | M(OP_EXISTS))

/* Symbols first, longest first where one is a prefix of another. */
static const struct {
	const char *text;
	enum op op;
	bool negate;
	bool word;     /* must end at a word boundary */
} operators[] = {
	{ "==", OP_EQ, false, false },
	{ "!=", OP_EQ, true, false },
	{ ">=", OP_GE, false, false },
	{ ">", OP_GT, false, false },
	{ "<=", OP_LE, false, false },
	{ "<", OP_LT, false, false },
	{ "=~", OP_MATCH, false, false },
	{ "!~", OP_MATCH, true, false },
	{ "!in", OP_IN, true, true },
	{ "!exists", OP_EXISTS, true, true },
	{ "equals", OP_EQ, false, true },
	{ "not_equals", OP_EQ, true, true },
	{ "greater_than_equal", OP_GE, false, true },
	{ "greater_than", OP_GT, false, true },
	{ "less_than_equal", OP_LE, false, true },
	{ "less_than", OP_LT, false, true },
	{ "in", OP_IN, false, true },
	{ "not_in", OP_IN, true, true },
	{ "matches", OP_MATCH, false, true },
	{ "not_matches", OP_MATCH, true, true },
	{ "exists", OP_EXISTS, false, true },
	{ "not_exists", OP_EXISTS, true, true },
};

struct parser {
	const char *s;
	size_t len, pos;
	unsigned depth;
	struct cql *q;
	struct err *e;
	size_t *err_pos;
};

/* ---- errors ---------------------------------------------------------- */

static int fail_at(struct parser *p, size_t pos, const char *expected)
{
	char found[40];

	if (p->err_pos)
		*p->err_pos = pos;
	if (pos >= p->len)
		snprintf(found, sizeof(found), "end of expression");
	else
		snprintf(found, sizeof(found), "'%.16s'", p->s + pos);
	return err_api(p->e, "InvalidParameterException",
		       "Invalid placement constraint expression: at position %zu: expected %s, found %s",
		       pos, expected, found);
}

/* ---- lexing helpers -------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Characters of a subject: names, "task:group", "attribute:NAME". */
static bool is_subject_char(char c)
{
	return is_word(c) || c == ':' || c == '.' || c == '/' || c == '\\' || c == '-';
}

static bool is_name_char(char c)
{
	return is_word(c) || c == '.' || c == '/' || c == '\\' || c == '-';
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && is_space(p->s[p->pos]))
		p->pos++;
}

static char peek(const struct parser *p, size_t off)
{
	return p->pos + off < p->len ? p->s[p->pos + off] : '\0';
}

/* Matches keyword KW (case-insensitive) at pos, ending at a word boundary. */
static bool at_keyword(const struct parser *p, const char *kw)
{
	size_t n = strlen(kw);

	if (p->len - p->pos < n || strncasecmp(p->s + p->pos, kw, n) != 0)
		return false;
	return p->pos + n == p->len || !is_word(p->s[p->pos + n]);
}

static bool at_bool_op(const struct parser *p, const char *sym, const char *word)
{
	return (peek(p, 0) == sym[0] && peek(p, 1) == sym[1]) || at_keyword(p, word);
}

static void eat_bool_op(struct parser *p, const char *word)
{
	p->pos += is_word(peek(p, 0)) ? strlen(word) : 2;
}

/* ---- AST building ---------------------------------------------------- */

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	void *n;
	size_t c;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	n = reallocarray(*arr, c, size);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = c;
	return 0;
}

static int add_node(struct parser *p, enum node_kind k, uint32_t a, uint32_t b, uint32_t *ret)
{
	struct cql *q = p->q;

	if (grow((void **)&q->nodes, &q->cap_nodes, q->n_nodes + 1, sizeof(*q->nodes)) < 0)
		return err_set(p->e, -ENOMEM, "compile expression");
	q->nodes[q->n_nodes] = (struct node){ k, a, b };
	*ret = (uint32_t)q->n_nodes++;
	return 0;
}

/* ---- values ---------------------------------------------------------- */

static bool ends_bare(const struct parser *p, size_t i)
{
	char c = p->s[i];

	if (is_space(c) || c == ',' || c == '[' || c == ']' || c == '(' || c == ')')
		return true;
	if (i + 1 < p->len && ((c == '&' && p->s[i + 1] == '&') || (c == '|' && p->s[i + 1] == '|')))
		return true;
	return false;
}

static int parse_value(struct parser *p, char **ret)
{
	size_t start, end;
	char q;

	skip_ws(p);
	start = p->pos;
	q = peek(p, 0);
	if (q == '\'' || q == '"') {
		const char *close = memchr(p->s + start + 1, q, p->len - start - 1);

		if (!close)
			return fail_at(p, start, "a closing quote for the value starting here");
		end = (size_t)(close - p->s);
		p->pos = end + 1;
		start++;
	} else {
		while (p->pos < p->len && !ends_bare(p, p->pos))
			p->pos++;
		end = p->pos;
		if (end == start)
			return fail_at(p, start, "a value");
	}
	*ret = strndup(p->s + start, end - start);
	if (!*ret)
		return err_set(p->e, -ENOMEM, "compile expression");
	return 0;
}

static int push_value(struct parser *p, struct atom *a)
{
	char *v = NULL, **vals;
	int r;

	r = parse_value(p, &v);
	if (r < 0)
		return r;
	vals = reallocarray(a->vals, a->n_vals + 1, sizeof(char *));
	if (!vals) {
		free(v);
		return err_set(p->e, -ENOMEM, "compile expression");
	}
	a->vals = vals;
	a->vals[a->n_vals++] = v;
	return 0;
}

/* "[a, b]" or a single value. */
static int parse_list(struct parser *p, struct atom *a)
{
	int r;

	skip_ws(p);
	if (peek(p, 0) != '[')
		return push_value(p, a);
	p->pos++;
	for (;;) {
		r = push_value(p, a);
		if (r < 0)
			return r;
		skip_ws(p);
		if (peek(p, 0) == ']') {
			p->pos++;
			return 0;
		}
		if (peek(p, 0) != ',')
			return fail_at(p, p->pos, "',' or ']'");
		p->pos++;
	}
}

/* ---- typed arguments ------------------------------------------------- */

static bool parse_int(const char *s, int64_t *ret)
{
	int64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return true;
}

static bool is_version(const char *s)
{
	bool digit = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digit = true;
		else if (*s == '.' && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Reads exactly N digits at *s. */
static bool digits(const char **s, const char *end, unsigned n, unsigned *ret)
{
	unsigned v = 0;

	if ((size_t)(end - *s) < n)
		return false;
	for (unsigned i = 0; i < n; i++) {
		char c = (*s)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*s += n;
	*ret = v;
	return true;
}

static bool lit(const char **s, const char *end, char c)
{
	if (*s < end && **s == c) {
		(*s)++;
		return true;
	}
	return false;
}

int cql_parse_time(const char *s, size_t len, int64_t *ret_ms)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *end = s + len;
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, oh = 0, om = 0;
	int sign = 0;
	bool leap;

	if (!digits(&s, end, 4, &y) || !lit(&s, end, '-') || !digits(&s, end, 2, &mo) ||
	    !lit(&s, end, '-') || !digits(&s, end, 2, &d))
		return -EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return -EINVAL;
	if (lit(&s, end, 'T')) {
		if (!digits(&s, end, 2, &h) || !lit(&s, end, ':') || !digits(&s, end, 2, &mi) ||
		    !lit(&s, end, ':') || !digits(&s, end, 2, &sec) || h > 23 || mi > 59 || sec > 59)
			return -EINVAL;
		if (lit(&s, end, '.')) {
			unsigned n = 0, scale = 100;

			while (s < end && *s >= '0' && *s <= '9' && n < 9) {
				ms += (unsigned)(*s++ - '0') * scale;
				scale /= 10;
				n++;
			}
			if (n == 0)
				return -EINVAL;
		}
		if (lit(&s, end, 'Z')) {
			;
		} else if (s < end && (*s == '+' || *s == '-')) {
			sign = *s++ == '+' ? 1 : -1;
			if (!digits(&s, end, 2, &oh) || !lit(&s, end, ':') || !digits(&s, end, 2, &om) ||
			    oh > 23 || om > 59)
				return -EINVAL;
		}
	}
	if (s != end)
		return -EINVAL;
	*ret_ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
		   sign * (int64_t)(oh * 3600 + om * 60)) * 1000 + ms;
	return 0;
}

int cql_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		uint64_t x = 0, y = 0;

		for (; *a >= '0' && *a <= '9'; a++)
			x = x < UINT64_MAX / 16 ? x * 10 + (uint64_t)(*a - '0') : x;
		for (; *b >= '0' && *b <= '9'; b++)
			y = y < UINT64_MAX / 16 ? y * 10 + (uint64_t)(*b - '0') : y;
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		else if (*a)
			return *b ? strcmp(a, b) : 1;   /* suffixes ("-beta") byte-wise */
		if (*b == '.')
			b++;
		else if (*b)
			return -1;
	}
	return 0;
}

/* Checks and converts the arguments of a finished atom. */
static int type_values(struct parser *p, struct atom *a, size_t vpos)
{
	int r;

	if (a->op == OP_MATCH) {
		size_t off = 0, body = vpos + (p->s[vpos] == '\'' || p->s[vpos] == '"');
		const char *why = NULL;

		if (a->n_vals != 1)
			return fail_at(p, vpos, "a single regular expression");
		r = cql_regex_compile(&a->re, a->vals[0], &off, &why);
		if (r == -EINVAL)
			return fail_at(p, body + off, why);
		if (r < 0)
			return err_set(p->e, r, "compile expression");
		a->has_re = true;
		return 0;
	}
	if (a->subj != S_AGENT_CONNECTED && a->subj != S_REGISTERED_AT &&
	    a->subj != S_RUNNING_TASKS)
		goto check_versions;
	a->nums = calloc(a->n_vals, sizeof(*a->nums));
	if (!a->nums)
		return err_set(p->e, -ENOMEM, "compile expression");
	for (size_t i = 0; i < a->n_vals; i++) {
		const char *v = a->vals[i];

		if (a->subj == S_AGENT_CONNECTED) {
			if (strcasecmp(v, "true") && strcasecmp(v, "false"))
				return fail_at(p, vpos, "true or false");
			a->nums[i] = strcasecmp(v, "true") == 0;
		} else if (a->subj == S_RUNNING_TASKS) {
			if (!parse_int(v, &a->nums[i]))
				return fail_at(p, vpos, "a non-negative integer");
		} else if (cql_parse_time(v, strlen(v), &a->nums[i]) < 0) {
			return fail_at(p, vpos, "a time like 2018-06-18T22:28:28Z or 2018-06-18");
		}
	}
	return 0;
check_versions:
	if (a->subj == S_AGENT_VERSION && !is_version(a->vals[0]))
		return fail_at(p, vpos, "a version like 1.14.5");
	return 0;
}

/* ---- grammar --------------------------------------------------------- */

static int parse_subject(struct parser *p, struct atom *a, unsigned *ops)
{
	size_t start = p->pos, n;
	const char *w = p->s + start;

	while (p->pos < p->len && is_subject_char(p->s[p->pos]))
		p->pos++;
	n = p->pos - start;
	if (n > 10 && strncmp(w, "attribute:", 10) == 0) {
		for (size_t i = 10; i < n; i++)
			if (!is_name_char(w[i]))
				return fail_at(p, start + i, "an attribute name (letters, digits, - _ / \\ .)");
		if (n - 10 > 128)
			return fail_at(p, start + 10, "an attribute name of at most 128 characters");
		a->subj = S_ATTRIBUTE;
		*ops = ATTR_OPS;
		a->name = strndup(w + 10, n - 10);
		return a->name ? 0 : err_set(p->e, -ENOMEM, "compile expression");
	}
	for (size_t i = 0; i < ARRAY_SIZE(subjects); i++) {
		if (strlen(subjects[i].name) == n && strncmp(w, subjects[i].name, n) == 0) {
			a->subj = subjects[i].subj;
			*ops = subjects[i].ops;
			return 0;
		}
	}
	return fail_at(p, start, "a subject (attribute:<name>, agentConnected, agentVersion, "
		       "ec2InstanceId, registeredAt, runningTasksCount, task:group), 'not' or '('");
}

static int parse_operator(struct parser *p, struct atom *a, unsigned ops)
{
	size_t start = p->pos;

	for (size_t i = 0; i < ARRAY_SIZE(operators); i++) {
		const char *t = operators[i].text;
		size_t n = strlen(t);
		bool hit;

		if (p->len - start < n)
			continue;
		hit = operators[i].word && t[0] != '!' ?
			      strncasecmp(p->s + start, t, n) == 0 :
			      strncmp(p->s + start, t, n) == 0;
		if (!hit || (operators[i].word && start + n < p->len && is_word(p->s[start + n])))
			continue;
		if (!(ops & M(operators[i].op)))
			return fail_at(p, start, "an operator valid for this subject");
		a->op = operators[i].op;
		a->negate = operators[i].negate;
		p->pos += n;
		return 0;
	}
	return fail_at(p, start, "an operator (==, !=, >, >=, <, <=, in, not_in, =~, !~, exists, !exists)");
}

static int parse_atom(struct parser *p, uint32_t *ret)
{
	struct cql *q = p->q;
	struct atom *a;
	unsigned ops = 0;
	size_t vpos;
	int r;

	if (grow((void **)&q->atoms, &q->cap_atoms, q->n_atoms + 1, sizeof(*q->atoms)) < 0)
		return err_set(p->e, -ENOMEM, "compile expression");
	a = &q->atoms[q->n_atoms++];
	memset(a, 0, sizeof(*a));
	r = parse_subject(p, a, &ops);
	if (r < 0)
		return r;
	skip_ws(p);
	r = parse_operator(p, a, ops);
	if (r < 0)
		return r;
	if (a->subj == S_RUNNING_TASKS || a->subj == S_TASK_GROUP)
		q->dep_tasks = true;
	if (a->op != OP_EXISTS) {
		skip_ws(p);
		vpos = p->pos;
		r = a->op == OP_IN ? parse_list(p, a) : push_value(p, a);
		if (r < 0)
			return r;
		r = type_values(p, a, vpos);
		if (r < 0)
			return r;
	}
	return add_node(p, N_ATOM, (uint32_t)(q->n_atoms - 1), 0, ret);
}

static int parse_level(struct parser *p, size_t level, uint32_t *ret);

static int parse_not(struct parser *p, uint32_t *ret)
{
	uint32_t child;
	int r;

	skip_ws(p);
	if (++p->depth > CQL_MAX_DEPTH)
		return fail_at(p, p->pos, "less nesting (at most 64 levels of '(' and 'not')");
	if (peek(p, 0) == '!' || at_keyword(p, "not")) {
		p->pos += peek(p, 0) == '!' ? 1 : 3;
		r = parse_not(p, &child);
		if (r >= 0)
			r = add_node(p, N_NOT, child, 0, ret);
	} else if (peek(p, 0) == '(') {
		p->pos++;
		r = parse_level(p, 0, ret);
		if (r >= 0) {
			skip_ws(p);
			if (peek(p, 0) != ')')
				r = fail_at(p, p->pos, "')' or a boolean operator");
			else
				p->pos++;
		}
	} else {
		r = parse_atom(p, ret);
	}
	p->depth--;
	return r;
}

/* The binary levels, loosest first: "a or b and c" is "a or (b and c)". */
static const struct {
	const char *sym, *word;
	enum node_kind kind;
} levels[] = {
	{ "||", "or", N_OR },
	{ "&&", "and", N_AND },
};

static int parse_operand(struct parser *p, size_t level, uint32_t *ret)
{
	return level + 1 < ARRAY_SIZE(levels) ? parse_level(p, level + 1, ret) : parse_not(p, ret);
}

/* operand { op operand }, left-associative. */
static int parse_level(struct parser *p, size_t level, uint32_t *ret)
{
	uint32_t l, rr;
	int r;

	r = parse_operand(p, level, &l);
	for (skip_ws(p); r >= 0 && at_bool_op(p, levels[level].sym, levels[level].word); skip_ws(p)) {
		eat_bool_op(p, levels[level].word);
		r = parse_operand(p, level, &rr);
		if (r >= 0)
			r = add_node(p, levels[level].kind, l, rr, &l);
	}
	if (r >= 0)
		*ret = l;
	return r;
}

void cql_free(struct cql *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_atoms; i++) {
		struct atom *a = &q->atoms[i];

		for (size_t j = 0; j < a->n_vals; j++)
			free(a->vals[j]);
		free(a->vals);
		free(a->nums);
		free(a->name);
		if (a->has_re)
			regfree(&a->re);
	}
	free(q->atoms);
	free(q->nodes);
	free(q);
}

int cql_compile(const char *expr, struct cql **ret, size_t *ret_pos, struct err *e)
{
	_cleanup_(cql_freep) struct cql *q = NULL;
	struct parser p = { .s = expr, .e = e, .err_pos = ret_pos };
	int r;

	p.len = strlen(expr);
	if (p.len > CQL_MAX_LEN)
		return fail_at(&p, CQL_MAX_LEN, "an expression of at most 2000 characters");
	for (size_t i = 0; i < p.len; i++) {
		unsigned char c = (unsigned char)expr[i];

		if ((c < 0x20 && !is_space((char)c)) || c == 0x7f)
			return fail_at(&p, i, "a printable character");
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return err_set(e, -ENOMEM, "compile expression");
	p.q = q;
	r = parse_level(&p, 0, &q->root);
	if (r < 0)
		return r;
	skip_ws(&p);
	if (p.pos != p.len)
		return fail_at(&p, p.pos, "'and', 'or' or the end of the expression");
	*ret = TAKE_PTR(q);
	return 0;
}

bool cql_depends_on_tasks(const struct cql *q)
{
	return q->dep_tasks;
}
