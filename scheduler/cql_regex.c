/* scheduler/cql_regex.c - a walk over a POSIX extended regex that measures
 * what regcomp would build from it, and refuses what would be too big.
 * See cql_regex.h for the limits and why they exist. */
#include "scheduler/cql_regex.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

struct rx {
	const char *s;
	size_t len, pos;
	bool dollar;       /* ends with the anchor '$' */
	size_t err_off;
	const char *why;
};

/* What an element, a group or a whole branch list amounts to. */
struct rx_size {
	size_t nodes;      /* elements once every repetition is expanded */
	size_t product;    /* largest product of repetition counts inside */
	bool repeated;     /* exactly one element, and that one repeated */
};

static int rx_fail(struct rx *x, size_t off, const char *why)
{
	x->err_off = off;
	x->why = why;
	return -EINVAL;
}

static bool is_quantifier(char c)
{
	return c == '*' || c == '+' || c == '?' || c == '{';
}

/* Digits at pos (saturating far above any bound); false if there are none. */
static bool rx_number(struct rx *x, size_t *ret)
{
	size_t v = 0, start = x->pos;

	for (; x->pos < x->len && x->s[x->pos] >= '0' && x->s[x->pos] <= '9'; x->pos++)
		v = v > 100000 ? v : v * 10 + (size_t)(x->s[x->pos] - '0');
	*ret = v;
	return x->pos > start;
}

/* "{m}", "{m,}", "{m,n}" or "{,n}" at pos: *ret = copies regcomp makes. */
static int rx_interval(struct rx *x, size_t *ret)
{
	size_t at = x->pos++, m = 0, n = 0;
	bool has_m = rx_number(x, &m), has_n = false, comma = false;

	if (x->pos < x->len && x->s[x->pos] == ',') {
		x->pos++;
		comma = true;
		has_n = rx_number(x, &n);
	}
	if (x->pos >= x->len || x->s[x->pos] != '}' || (!has_m && !has_n))
		return rx_fail(x, at, "an interval like {m}, {m,} or {m,n}");
	x->pos++;
	if (m > CQL_RE_MAX_BOUND || n > CQL_RE_MAX_BOUND)
		return rx_fail(x, at, "interval bounds of at most 255");
	if (!comma)
		n = m;
	else if (!has_n)
		n = m + 1;      /* {m,}: m copies and a star */
	else if (m > n)
		return rx_fail(x, at, "an interval {m,n} with m <= n");
	*ret = n ? n : 1;
	return 0;
}

/* A quantifier at pos applied to EL (the element before it, if any). */
static int rx_repeat(struct rx *x, bool has_el, bool quantified, struct rx_size *el)
{
	size_t at = x->pos, factor = 1;
	int r;

	if (!has_el)
		return rx_fail(x, at, "something to repeat before this quantifier");
	if (quantified)
		return rx_fail(x, at, "no quantifier directly after another quantifier");
	if (el->repeated)
		return rx_fail(x, at, "no quantifier on a group that holds only a repeated element");
	if (x->s[at] == '{') {
		r = rx_interval(x, &factor);
		if (r < 0)
			return r;
	} else {
		factor = x->s[at] == '+' ? 2 : 1;   /* a+ is compiled as a a* */
		x->pos++;
	}
	if (el->product * factor > CQL_RE_MAX_PRODUCT)
		return rx_fail(x, at, "nested repetitions whose counts multiply to at most 1000");
	if ((el->nodes + 1) * factor > CQL_RE_MAX_NODES)
		return rx_fail(x, at, "a regular expression of at most 1024 elements once repetitions are expanded");
	el->product *= factor;
	el->nodes = (el->nodes + 1) * factor;   /* each copy and its operator */
	el->repeated = true;
	return 0;
}

/* "[...]" at pos, with "[:class:]", "[.coll.]", "[=equiv=]" and a leading ']'. */
static int rx_bracket(struct rx *x)
{
	size_t open = x->pos++;

	if (x->pos < x->len && x->s[x->pos] == '^')
		x->pos++;
	if (x->pos < x->len && x->s[x->pos] == ']')
		x->pos++;
	while (x->pos < x->len && x->s[x->pos] != ']') {
		char kind = x->pos + 1 < x->len ? x->s[x->pos + 1] : '\0';

		if (x->s[x->pos] != '[' || (kind != ':' && kind != '.' && kind != '=')) {
			x->pos++;
			continue;
		}
		for (x->pos += 2; x->pos + 1 < x->len; x->pos++)
			if (x->s[x->pos] == kind && x->s[x->pos + 1] == ']')
				break;
		if (x->pos + 1 >= x->len)
			break;
		x->pos += 2;
	}
	if (x->pos >= x->len || x->s[x->pos] != ']')
		return rx_fail(x, open, "a ']' closing this bracket expression");
	x->pos++;
	return 0;
}

/* '|', or an anchor at pos.  glibc copies the epsilon closure behind an
 * anchor once per path ("^(|||||||){40}" takes ~2 GiB), and as the whole
 * value must match anyway, '^' is allowed only first and '$' only last:
 * both are dropped before regcomp. */
static int rx_anchor(struct rx *x, unsigned depth)
{
	char c = x->s[x->pos];

	if (c == '^' && x->pos != 0)
		return rx_fail(x, x->pos, "'^' only at the start of the regular expression");
	if (c == '$' && (depth > 0 || x->pos + 1 != x->len))
		return rx_fail(x, x->pos, "'$' only at the end of the regular expression");
	x->dollar = c == '$';
	x->pos++;
	return 0;
}

static int rx_seq(struct rx *x, unsigned depth, struct rx_size *ret);

/* One element at pos: a group, a bracket expression, an escape or a character. */
static int rx_atom(struct rx *x, unsigned depth, struct rx_size *el)
{
	size_t at = x->pos;
	struct rx_size inner;
	int r;

	*el = (struct rx_size){ 1, 1, false };
	switch (x->s[at]) {
	case '(':
		x->pos++;
		r = rx_seq(x, depth + 1, &inner);
		if (r < 0)
			return r;
		if (x->pos >= x->len)
			return rx_fail(x, at, "a ')' closing this group of the regular expression");
		x->pos++;
		*el = (struct rx_size){ inner.nodes + 3, inner.product, inner.repeated };
		return 0;
	case '[':
		return rx_bracket(x);
	case '\\':
		if (at + 1 >= x->len)
			return rx_fail(x, at, "a character after '\\'");
		if (x->s[at + 1] >= '1' && x->s[at + 1] <= '9')
			return rx_fail(x, at, "no back-reference (\\1 to \\9 are not supported)");
		if (strchr("bB<>`'", x->s[at + 1]))
			return rx_fail(x, at, "no word or buffer anchor (\\b \\B \\< \\> \\` \\' are not supported)");
		x->pos += 2;
		return 0;
	default:        /* also ')' outside any group: a literal for glibc */
		x->pos++;
		return 0;
	}
}

/* Adds the element that started at AT to SUM. */
static int rx_add(struct rx *x, struct rx_size *sum, const struct rx_size *el, size_t at)
{
	sum->nodes += el->nodes;
	if (el->product > sum->product)
		sum->product = el->product;
	if (sum->nodes > CQL_RE_MAX_NODES)
		return rx_fail(x, at, "a regular expression of at most 1024 elements once repetitions are expanded");
	return 0;
}

/* Branches up to the ')' closing this depth, or the end of the pattern. */
static int rx_seq(struct rx *x, unsigned depth, struct rx_size *ret)
{
	struct rx_size sum = { 0, 1, false }, el = { 0, 1, false };
	bool has_el = false, quantified = false;
	size_t n_el = 0, el_at = 0;
	int r = 0;

	while (x->pos < x->len && !(depth > 0 && x->s[x->pos] == ')')) {
		char c = x->s[x->pos];

		if (is_quantifier(c)) {
			r = rx_repeat(x, has_el, quantified, &el);
			if (r < 0)
				return r;
			quantified = true;
			continue;
		}
		if (has_el && (r = rx_add(x, &sum, &el, el_at)) < 0)
			return r;
		has_el = quantified = false;
		if (c == '|' || c == '^' || c == '$') {
			r = rx_anchor(x, depth);
			if (r < 0)
				return r;
			n_el += 2;      /* not a single element; anchors take no quantifier */
			sum.nodes++;
			continue;
		}
		el_at = x->pos;
		r = rx_atom(x, depth, &el);
		if (r < 0)
			return r;
		has_el = true;
		n_el++;
	}
	if (has_el && (r = rx_add(x, &sum, &el, el_at)) < 0)
		return r;
	sum.repeated = n_el == 1 && has_el && el.repeated;
	*ret = sum;
	return 0;
}

/* Compiles the checked pattern without its leading '^' and trailing '$'. */
static int rx_regcomp(struct rx *x, regex_t *re)
{
	size_t start = x->len && x->s[0] == '^';
	_cleanup_free_ char *body = strndup(x->s + start, x->len - start - x->dollar);
	int r;

	if (!body)
		return -ENOMEM;
	r = regcomp(re, body, REG_EXTENDED);
	if (r == REG_ESPACE)
		return -ENOMEM;
	if (r != 0)
		return rx_fail(x, 0, "a valid POSIX extended regular expression");
	return 0;
}

int cql_regex_compile(regex_t *re, const char *pattern, size_t *ret_off, const char **ret_why)
{
	struct rx x = { .s = pattern, .len = strlen(pattern) };
	struct rx_size all;
	int r;

	if (x.len > CQL_RE_MAX_LEN)
		r = rx_fail(&x, CQL_RE_MAX_LEN, "a regular expression of at most 256 characters");
	else
		r = rx_seq(&x, 0, &all);
	if (r == 0)
		r = rx_regcomp(&x, re);
	if (r < 0) {
		*ret_off = x.err_off;
		*ret_why = x.why;
	}
	return r;
}
