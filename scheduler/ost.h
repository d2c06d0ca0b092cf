/* scheduler/ost.h - order-statistic treap over instance indexes, keyed by a
 * caller-owned table of int64 tuples (then the index, so order is total).
 * Nodes are the instance indexes themselves: no allocation per operation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OST_NIL UINT32_MAX

struct ost {
	uint32_t *l, *r, *sz, *prio;
	const int64_t *key;   /* key[i * width .. + width) */
	size_t width;
};

int ost_init(struct ost *t, size_t n, const int64_t *key, size_t width);
void ost_free(struct ost *t);

/* Insert / erase node X (its key must not change while it is in a tree). */
uint32_t ost_insert(struct ost *t, uint32_t root, uint32_t x);
uint32_t ost_erase(struct ost *t, uint32_t root, uint32_t x);
uint32_t ost_first(const struct ost *t, uint32_t root);
/* Number of nodes whose key tuple is <= that of X (indexes ignored). */
uint32_t ost_count_key_le(const struct ost *t, uint32_t root, uint32_t x);
/* The K-th node (0-based) in order. */
uint32_t ost_select(const struct ost *t, uint32_t root, uint32_t k);
/* Compares the key tuples of A and B only. */
int ost_key_cmp(const struct ost *t, uint32_t a, uint32_t b);
