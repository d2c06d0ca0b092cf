/* scheduler/cql_regex.h - the regexes of =~ / !~, checked before glibc's
 * regcomp sees them.
 *
 * regcomp expands every repetition by copying its operand (a+ becomes
 * a a*, a{0,30} thirty optional copies), so stacked or nested quantifiers
 * grow exponentially: "a++++++++++++++++++++++" takes ~3 GiB and seconds.
 * Patterns come from API callers and the daemon is single-threaded, so a
 * pattern is refused unless its expansion is provably small:
 *   - at most CQL_RE_MAX_LEN bytes;
 *   - no quantifier (* + ? {) directly after another one, nor on a group
 *     whose only content is already repeated ("(a+)+", "((a{2}){3}){4}");
 *   - {m,n} bounds at most CQL_RE_MAX_BOUND;
 *   - the product of the repetition counts nested around any element at
 *     most CQL_RE_MAX_PRODUCT (+ counts 2, {m,n} counts n, {m,} m+1);
 *   - at most CQL_RE_MAX_NODES elements once every repetition is expanded;
 *   - no back-references (\1..\9: their matching is exponential).
 */
#pragma once

#include <regex.h>
#include <stddef.h>

#define CQL_RE_MAX_LEN     256
#define CQL_RE_MAX_BOUND   255
#define CQL_RE_MAX_PRODUCT 1000
#define CQL_RE_MAX_NODES   1024

/* Checks PATTERN against the limits above, then compiles it (REG_EXTENDED).
 * Returns 0, -EINVAL with *ret_off (byte offset in PATTERN) and *ret_why
 * (what was expected, a static string), or -ENOMEM. */
int cql_regex_compile(regex_t *re, const char *pattern, size_t *ret_off, const char **ret_why);
