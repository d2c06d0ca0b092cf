/* scheduler/cql.h - ECS cluster query language (ECS-REFERENCE 4.4): the
 * memberOf constraint and ListContainerInstances --filter.
 *
 * An expression is compiled once into an AST (regexes compiled, numbers,
 * versions and timestamps parsed) and evaluated against any number of
 * instances without re-parsing.
 *
 * Grammar (precedence not > and > or; parentheses group):
 *
 *   expr     := and_expr { ("||" | "or") and_expr }
 *   and_expr := not_expr { ("&&" | "and") not_expr }
 *   not_expr := ("!" | "not") not_expr | "(" expr ")" | atom
 *   atom     := subject ( binop argument | "exists" | "!exists" | "not_exists" )
 *   argument := value | "[" value { "," value } "]"     (lists: in / not_in)
 *   value    := 'quoted' | "quoted" | bare
 *
 * A bare value ends at whitespace, ',', '[', ']', '(', ')', "&&" or "||";
 * quote anything else (regexes with groups, spaces).  Quotes have no
 * escapes: a value runs to the next identical quote.  Operator and boolean
 * words are case-insensitive (AND, Not, EQUALS); subjects are not.
 *
 * Subjects and their operators (anything else is a compile error):
 *   agentConnected    == != in !in =~ !~          true/false
 *   agentVersion      == != > >= < <=             numeric per dot component
 *   attribute:NAME    all, incl. exists / !exists
 *   ec2InstanceId     == != in !in =~ !~
 *   registeredAt      == != > >= < <=             2018-06-18[T22:28:28[.fff][Z|+hh:mm]]
 *   runningTasksCount == != > >= < <=             integer
 *   task:group        == != in !in =~ !~          "hosts a task of that group"
 *
 * Semantics chosen where ECS publishes none (UNVERIFIED, conservative):
 *   - every negative operator is the exact negation of its positive one
 *     (!=, !in, !~, !exists): so `attribute:x != a` holds on an instance
 *     without attribute x, and `task:group != g` means "hosts no task of g";
 *   - the positive operators are false on a missing attribute, and on a
 *     name-only attribute except `exists`;
 *   - attribute ordering (> >= < <=) compares numerically when both sides
 *     are decimal numbers, byte-wise otherwise;
 *   - registeredAt without a zone is UTC; a bare date is its midnight.
 *
 * Regex (=~ / !~): POSIX extended (regcomp REG_EXTENDED), and the whole
 * value must match (`t2.*` matches "t2.micro", `t2` does not).  ECS uses
 * java.util.regex; the differences a user may hit: no lazy (*?) or
 * possessive quantifiers, no lookaround, no \d \D (use [0-9] or
 * [[:digit:]]), no (?i) flags, no \Q..\E; alternation picks the longest
 * match (POSIX) rather than the first alternative (Java), which only
 * matters for partial matches, never for a full match.  Client patterns
 * are bounded before regcomp sees them (cql_regex.h): at most 256 bytes,
 * no stacked quantifiers ("a++", "(a*)*"), {m,n} up to 255, a small
 * expanded size, no back-references, '^' only first and '$' only last.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "scheduler/instance.h"

#define CQL_MAX_LEN   2000   /* ECS: memberOf expression <= 2000 characters */
#define CQL_MAX_DEPTH 64     /* nesting of parentheses / not */

struct cql;

/* How the instance differs from its snapshot while a request is placed:
 * ADDED tasks of GROUP were placed on it.  NULL means "as in the snapshot". */
struct cql_delta {
	const char *group;
	uint32_t added;
};

/* Compiles EXPR.  On a syntax error returns -EINVAL with e->type
 * "InvalidParameterException" and a message naming the position (0-based
 * byte offset) and what was expected; *ret_pos gets the position if not
 * NULL.  -ENOMEM on allocation failure. */
int cql_compile(const char *expr, struct cql **ret, size_t *ret_pos, struct err *e);
void cql_free(struct cql *q);
static inline void cql_freep(struct cql **q) { if (*q) cql_free(*q); }

/* Evaluates the compiled expression on one instance.  Pure. */
bool cql_eval(const struct cql *q, const struct sched_instance *in,
	      const struct cql_delta *d);

/* True if the result can change when tasks are placed on an instance
 * (it reads runningTasksCount or task:group). */
bool cql_depends_on_tasks(const struct cql *q);

/* Parses a registeredAt argument into ms since the epoch; 0 or -EINVAL.
 * Exposed for the API layer and tests. */
int cql_parse_time(const char *s, size_t len, int64_t *ret_ms);
/* Compares dotted versions numerically ("1.9" < "1.14.5", "1.2" == "1.2.0"). */
int cql_version_cmp(const char *a, const char *b);
