/* control/live.c - per-instance generations and last contact (live.h). */
#include "control/live.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void live_init(struct live *l, uint64_t base, int64_t timeout_ms)
{
	*l = (struct live){ .base = base, .timeout_ms = timeout_ms };
}

void live_release(struct live *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int key_cmp(const struct live_entry *en, const char *cluster, const char *id)
{
	int r = strcmp(en->cluster, cluster);

	return r ? r : strcmp(en->id, id);
}

/* Index of (CLUSTER, ID) or where it would go; *found tells which. */
static size_t locate(const struct live *l, const char *cluster, const char *id, bool *found)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = key_cmp(&l->v[mid], cluster, id);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct live_entry *live_find(const struct live *l, const char *cluster, const char *id)
{
	bool found;
	size_t i = locate(l, cluster, id, &found);

	return found ? &l->v[i] : NULL;
}

static struct live_entry *get(struct live *l, const char *cluster, const char *id)
{
	bool found;
	size_t i = locate(l, cluster, id, &found);

	if (found)
		return &l->v[i];
	if (strlen(cluster) > NAME_MAX_LEN || strlen(id) > NAME_MAX_LEN)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return NULL;
		l->v = p;
		l->cap = cap;
	}
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
	l->n++;
	l->v[i] = (struct live_entry){ .generation = l->base };
	snprintf(l->v[i].cluster, sizeof(l->v[i].cluster), "%s", cluster);
	snprintf(l->v[i].id, sizeof(l->v[i].id), "%s", id);
	return &l->v[i];
}

uint64_t live_generation(const struct live *l, const char *cluster, const char *id)
{
	const struct live_entry *en = live_find(l, cluster, id);

	return en ? en->generation : l->base;
}

int live_bump(struct live *l, const char *cluster, const char *id)
{
	struct live_entry *en = get(l, cluster, id);

	if (!en)
		return -ENOMEM;
	en->generation++;
	return 0;
}

int live_contact(struct live *l, const char *cluster, const char *id, int64_t now_ms,
		 int64_t hold_ms)
{
	struct live_entry *en = get(l, cluster, id);

	if (!en)
		return -ENOMEM;
	en->contact_ms = now_ms;
	en->held_until_ms = hold_ms > 0 ? now_ms + hold_ms : 0;
	return 0;
}

int live_set_local(struct live *l, const char *cluster, const char *id)
{
	struct live_entry *en = get(l, cluster, id);

	if (!en)
		return -ENOMEM;
	en->local = true;
	return 0;
}

bool live_connected(const struct live *l, const char *cluster, const char *id, int64_t now_ms)
{
	const struct live_entry *en = live_find(l, cluster, id);

	if (!en || (!en->local && en->contact_ms == 0))
		return false;
	return en->local || now_ms - en->contact_ms <= l->timeout_ms || now_ms <= en->held_until_ms;
}

void live_forget(struct live *l, const char *cluster, const char *id)
{
	bool found;
	size_t i = locate(l, cluster, id, &found);
	uint64_t gen;

	if (!found)
		return;
	/* The generation must not go back should the instance come again. */
	gen = l->v[i].generation;
	l->v[i].contact_ms = l->v[i].held_until_ms = 0;
	l->v[i].local = false;
	l->v[i].generation = gen;
}
