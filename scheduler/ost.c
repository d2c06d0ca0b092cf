/* scheduler/ost.c - the order-statistic treap (see ost.h).  Priorities are a
 * fixed hash of the index: deterministic, and balanced in expectation. */
#include "scheduler/ost.h"

#include <errno.h>
#include <stdlib.h>

int ost_init(struct ost *t, size_t n, const int64_t *key, size_t width)
{
	size_t m = n ? n : 1;

	t->l = malloc(m * sizeof(uint32_t));
	t->r = malloc(m * sizeof(uint32_t));
	t->sz = malloc(m * sizeof(uint32_t));
	t->prio = malloc(m * sizeof(uint32_t));
	t->key = key;
	t->width = width;
	if (!t->l || !t->r || !t->sz || !t->prio) {
		ost_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t h = (uint32_t)i * 0x9e3779b1u;

		h ^= h >> 15;
		h *= 0x85ebca6bu;
		h ^= h >> 13;
		t->prio[i] = h;
	}
	return 0;
}

void ost_free(struct ost *t)
{
	free(t->l);
	free(t->r);
	free(t->sz);
	free(t->prio);
	t->l = t->r = t->sz = t->prio = NULL;
}

int ost_key_cmp(const struct ost *t, uint32_t a, uint32_t b)
{
	const int64_t *x = t->key + (size_t)a * t->width, *y = t->key + (size_t)b * t->width;

	for (size_t i = 0; i < t->width; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static bool less(const struct ost *t, uint32_t a, uint32_t b)
{
	int c = ost_key_cmp(t, a, b);

	return c < 0 || (c == 0 && a < b);
}

static uint32_t size(const struct ost *t, uint32_t x)
{
	return x == OST_NIL ? 0 : t->sz[x];
}

static void update(struct ost *t, uint32_t x)
{
	t->sz[x] = 1 + size(t, t->l[x]) + size(t, t->r[x]);
}

/* Splits ROOT into nodes before X (*a) and after X (*b). */
static void split(struct ost *t, uint32_t root, uint32_t x, uint32_t *a, uint32_t *b)
{
	if (root == OST_NIL) {
		*a = *b = OST_NIL;
	} else if (less(t, root, x)) {
		split(t, t->r[root], x, &t->r[root], b);
		*a = root;
		update(t, root);
	} else {
		split(t, t->l[root], x, a, &t->l[root]);
		*b = root;
		update(t, root);
	}
}

static uint32_t merge(struct ost *t, uint32_t a, uint32_t b)
{
	if (a == OST_NIL)
		return b;
	if (b == OST_NIL)
		return a;
	if (t->prio[a] > t->prio[b]) {
		t->r[a] = merge(t, t->r[a], b);
		update(t, a);
		return a;
	}
	t->l[b] = merge(t, a, t->l[b]);
	update(t, b);
	return b;
}

uint32_t ost_insert(struct ost *t, uint32_t root, uint32_t x)
{
	if (root == OST_NIL || t->prio[x] > t->prio[root]) {
		split(t, root, x, &t->l[x], &t->r[x]);
		update(t, x);
		return x;
	}
	if (less(t, x, root))
		t->l[root] = ost_insert(t, t->l[root], x);
	else
		t->r[root] = ost_insert(t, t->r[root], x);
	update(t, root);
	return root;
}

uint32_t ost_erase(struct ost *t, uint32_t root, uint32_t x)
{
	if (root == OST_NIL)
		return OST_NIL;
	if (root == x)
		return merge(t, t->l[x], t->r[x]);
	if (less(t, x, root))
		t->l[root] = ost_erase(t, t->l[root], x);
	else
		t->r[root] = ost_erase(t, t->r[root], x);
	update(t, root);
	return root;
}

uint32_t ost_first(const struct ost *t, uint32_t root)
{
	if (root == OST_NIL)
		return OST_NIL;
	while (t->l[root] != OST_NIL)
		root = t->l[root];
	return root;
}

uint32_t ost_count_key_le(const struct ost *t, uint32_t root, uint32_t x)
{
	uint32_t n = 0;

	while (root != OST_NIL) {
		if (ost_key_cmp(t, root, x) <= 0) {
			n += size(t, t->l[root]) + 1;
			root = t->r[root];
		} else {
			root = t->l[root];
		}
	}
	return n;
}

uint32_t ost_select(const struct ost *t, uint32_t root, uint32_t k)
{
	while (root != OST_NIL) {
		uint32_t ls = size(t, t->l[root]);

		if (k < ls) {
			root = t->l[root];
		} else if (k == ls) {
			return root;
		} else {
			k -= ls + 1;
			root = t->r[root];
		}
	}
	return OST_NIL;
}
