/* scheduler/place.c - the placement fast path (see scheduler.h).
 *
 * Per call: every instance is checked once; the eligible ones go into one
 * order-statistic tree per "cell" (a combination of the values of the
 * spread attributes in the chain), keyed by the chain's per-instance
 * components (binpack remaining cpu/memory, spread instanceId count).
 * Inside a cell the attribute counts are equal, so the cell's first node
 * is its best instance; the best overall is the best of the cells' firsts
 * under the full chain key.  A placement changes one instance: it leaves
 * its tree, is re-checked and re-keyed, and goes back if still eligible.
 */
#include "scheduler/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "scheduler/ost.h"

#define NONE UINT32_MAX

struct ctx {
	const struct sched_plan *p;
	const struct sched_instance *inst;
	size_t n;
	struct sched_state *st;
	/* chain: for comp c, slot[c] indexes key[] (instance comps) or vid[]/count[] */
	bool is_attr[SCHED_MAX_STRATEGIES];
	size_t slot[SCHED_MAX_STRATEGIES];
	size_t n_ic, n_ac;
	int64_t *key;               /* n * n_ic */
	uint32_t *vid;              /* n * n_ac: value id per spread attribute */
	int64_t *count[SCHED_MAX_STRATEGIES];  /* per attribute comp, per value id */
	uint32_t *cell;             /* n */
	size_t n_cells;
	uint32_t *root, *cell_min, *cell_ties;  /* per cell */
	struct ost t;
};

static void ctx_free(struct ctx *c)
{
	free(c->st);
	free(c->key);
	free(c->vid);
	for (size_t i = 0; i < SCHED_MAX_STRATEGIES; i++)
		free(c->count[i]);
	free(c->cell);
	free(c->root);
	free(c->cell_min);
	free(c->cell_ties);
	ost_free(&c->t);
}

/* ---- interning: first appearance in index order gives the id --------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	if (!s)
		return 0x51ed270b27c5a1f3ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static size_t table_size(size_t n)
{
	size_t m = 16;

	while (m < 2 * n)
		m *= 2;
	return m;
}

/* vid[i * n_ac + a] for spread attribute comp A; returns the value count. */
static int intern_attr(struct ctx *c, size_t a, const char *attr, size_t *ret_n)
{
	size_t m = table_size(c->n), nv = 0;
	_cleanup_free_ uint32_t *rep = malloc(m * sizeof(uint32_t));   /* representative instance */
	_cleanup_free_ const char **val = malloc(c->n * sizeof(char *));

	if (!rep || !val)
		return -ENOMEM;
	memset(rep, 0xff, m * sizeof(uint32_t));
	for (size_t i = 0; i < c->n; i++) {
		size_t h;

		val[i] = sched_spread_value(&c->inst[i], attr);
		for (h = hash_str(val[i]) & (m - 1); rep[h] != NONE; h = (h + 1) & (m - 1))
			if (same_str(val[rep[h]], val[i]))
				break;
		if (rep[h] == NONE) {
			rep[h] = (uint32_t)i;
			c->vid[i * c->n_ac + a] = (uint32_t)nv++;
		} else {
			c->vid[i * c->n_ac + a] = c->vid[rep[h] * c->n_ac + a];
		}
	}
	*ret_n = nv;
	return 0;
}

static uint64_t hash_tuple(const uint32_t *v, size_t n)
{
	uint64_t h = 0x84222325cbf29ce4ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ v[i]) * 0x100000001b3ULL;
	return h;
}

static int assign_cells(struct ctx *c)
{
	size_t m = table_size(c->n);
	_cleanup_free_ uint32_t *rep = NULL;

	c->n_cells = 0;
	if (c->n_ac <= 1) {
		for (size_t i = 0; i < c->n; i++) {
			c->cell[i] = c->n_ac ? c->vid[i] : 0;
			if (c->cell[i] + 1 > c->n_cells)
				c->n_cells = c->cell[i] + 1;
		}
		return 0;
	}
	rep = malloc(m * sizeof(uint32_t));
	if (!rep)
		return -ENOMEM;
	memset(rep, 0xff, m * sizeof(uint32_t));
	for (size_t i = 0; i < c->n; i++) {
		const uint32_t *v = &c->vid[i * c->n_ac];
		size_t h;

		for (h = hash_tuple(v, c->n_ac) & (m - 1); rep[h] != NONE; h = (h + 1) & (m - 1))
			if (memcmp(&c->vid[rep[h] * c->n_ac], v, c->n_ac * sizeof(*v)) == 0)
				break;
		if (rep[h] == NONE) {
			rep[h] = (uint32_t)i;
			c->cell[i] = (uint32_t)c->n_cells++;
		} else {
			c->cell[i] = c->cell[rep[h]];
		}
	}
	return 0;
}

/* ---- keys ------------------------------------------------------------ */

static void set_key(struct ctx *c, size_t i)
{
	for (size_t k = 0; k < c->p->n_comps; k++) {
		if (c->is_attr[k])
			continue;
		switch (c->p->comps[k].kind) {
		case COMP_REM_CPU:
			c->key[i * c->n_ic + c->slot[k]] = c->st[i].rem_cpu;
			break;
		case COMP_REM_MEMORY:
			c->key[i * c->n_ic + c->slot[k]] = c->st[i].rem_memory;
			break;
		default:
			c->key[i * c->n_ic + c->slot[k]] = c->st[i].group_tasks;
			break;
		}
	}
}

/* Full chain key of instances A and B, the attribute counts included. */
static int full_cmp(const struct ctx *c, uint32_t a, uint32_t b)
{
	for (size_t k = 0; k < c->p->n_comps; k++) {
		int64_t x, y;
		size_t s = c->slot[k];

		if (c->is_attr[k]) {
			x = c->count[s][c->vid[a * c->n_ac + s]];
			y = c->count[s][c->vid[b * c->n_ac + s]];
		} else {
			x = c->key[a * c->n_ic + s];
			y = c->key[b * c->n_ic + s];
		}
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static void refresh_cell(struct ctx *c, uint32_t cell)
{
	uint32_t m = ost_first(&c->t, c->root[cell]);

	c->cell_min[cell] = m;
	c->cell_ties[cell] = m == OST_NIL ? 0 : ost_count_key_le(&c->t, c->root[cell], m);
}

/* ---- setup ----------------------------------------------------------- */

static int setup_chain(struct ctx *c)
{
	const struct sched_plan *p = c->p;

	for (size_t k = 0; k < p->n_comps; k++) {
		c->is_attr[k] = p->comps[k].kind == COMP_ATTRIBUTE;
		c->slot[k] = c->is_attr[k] ? c->n_ac++ : c->n_ic++;
	}
	c->key = calloc(c->n * c->n_ic + 1, sizeof(int64_t));
	c->vid = calloc(c->n * c->n_ac + 1, sizeof(uint32_t));
	c->cell = calloc(c->n + 1, sizeof(uint32_t));
	if (!c->key || !c->vid || !c->cell)
		return -ENOMEM;
	for (size_t k = 0; k < p->n_comps; k++) {
		size_t s = c->slot[k], nv;

		if (!c->is_attr[k])
			continue;
		if (intern_attr(c, s, p->comps[k].attr, &nv) < 0)
			return -ENOMEM;
		c->count[s] = calloc(nv + 1, sizeof(int64_t));
		if (!c->count[s])
			return -ENOMEM;
		for (size_t i = 0; i < c->n; i++)
			if (c->inst[i].status != SCHED_INSTANCE_INACTIVE)
				c->count[s][c->vid[i * c->n_ac + s]] += c->st[i].group_tasks;
	}
	return assign_cells(c);
}

static int setup(struct ctx *c)
{
	c->st = malloc((c->n + 1) * sizeof(*c->st));
	if (!c->st)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		sched_state_init(c->p, &c->inst[i], &c->st[i]);
	if (setup_chain(c) < 0)
		return -ENOMEM;
	c->root = malloc((c->n_cells + 1) * sizeof(uint32_t));
	c->cell_min = malloc((c->n_cells + 1) * sizeof(uint32_t));
	c->cell_ties = calloc(c->n_cells + 1, sizeof(uint32_t));
	if (!c->root || !c->cell_min || !c->cell_ties || ost_init(&c->t, c->n, c->key, c->n_ic) < 0)
		return -ENOMEM;
	for (size_t k = 0; k < c->n_cells; k++)
		c->root[k] = OST_NIL;
	for (size_t i = 0; i < c->n; i++) {
		if (sched_check(c->p, &c->inst[i], &c->st[i]) != STAGE_OK)
			continue;
		set_key(c, i);
		c->root[c->cell[i]] = ost_insert(&c->t, c->root[c->cell[i]], (uint32_t)i);
	}
	for (size_t k = 0; k < c->n_cells; k++)
		refresh_cell(c, (uint32_t)k);
	return 0;
}

/* ---- one task -------------------------------------------------------- */

/* The best instance, or NONE; draws from the seed only when one exists. */
static uint32_t choose(struct ctx *c, uint64_t *seed)
{
	uint32_t best = NONE;
	uint64_t ties = 0, k;

	for (size_t cl = 0; cl < c->n_cells; cl++) {
		uint32_t m = c->cell_min[cl];
		int d;

		if (m == OST_NIL)
			continue;
		d = best == NONE ? -1 : full_cmp(c, m, best);
		if (d < 0) {
			best = m;
			ties = c->cell_ties[cl];
		} else if (d == 0) {
			ties += c->cell_ties[cl];
		}
	}
	if (best == NONE)
		return NONE;
	k = sched_rand_below(seed, ties);
	for (size_t cl = 0; cl < c->n_cells; cl++) {
		uint32_t m = c->cell_min[cl];

		if (m == OST_NIL || full_cmp(c, m, best) != 0)
			continue;
		if (k < c->cell_ties[cl])
			return ost_select(&c->t, c->root[cl], (uint32_t)k);
		k -= c->cell_ties[cl];
	}
	return NONE;   /* unreachable: ties were counted above */
}

static void commit(struct ctx *c, uint32_t i)
{
	uint32_t cl = c->cell[i];

	c->root[cl] = ost_erase(&c->t, c->root[cl], i);
	sched_state_place(c->p, &c->st[i]);
	for (size_t s = 0; s < c->n_ac; s++)
		c->count[s][c->vid[i * c->n_ac + s]]++;
	if (sched_check(c->p, &c->inst[i], &c->st[i]) == STAGE_OK) {
		set_key(c, i);
		c->root[cl] = ost_insert(&c->t, c->root[cl], i);
	}
	refresh_cell(c, cl);
}

/* The closest matching instance: furthest through the checks, first wins. */
static void closest(const struct ctx *c, struct sched_placement *out)
{
	int best = STAGE_IGNORED;

	out->instance = -1;
	out->closest = -1;
	for (size_t i = 0; i < c->n; i++) {
		int s = sched_check(c->p, &c->inst[i], &c->st[i]);

		if (s > best) {
			best = s;
			out->closest = (int32_t)i;
		}
	}
	out->reason = sched_stage_reason(c->p, best);
}

struct sched_session {
	struct ctx c;
	uint64_t seed;
	bool failed;
	struct sched_placement failure;
};

void sched_session_free(struct sched_session *s)
{
	if (!s)
		return;
	ctx_free(&s->c);
	free(s);
}

int sched_session_new(const struct sched_plan *plan, const struct sched_instance *inst, size_t n,
		      uint64_t seed, struct sched_session **ret, struct err *e)
{
	_cleanup_(sched_session_freep) struct sched_session *s = NULL;

	if (n >= NONE)
		return err_setx(e, -E2BIG, "too many instances (%zu)", n);
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, -ENOMEM, "placement session");
	s->c = (struct ctx){ .p = plan, .inst = inst, .n = n };
	s->seed = seed;
	if (setup(&s->c) < 0)
		return err_set(e, -ENOMEM, "placement indexes for %zu instances", n);
	*ret = TAKE_PTR(s);
	return 0;
}

void sched_session_next(struct sched_session *s, struct sched_placement *out)
{
	uint32_t i;

	/* nothing changes after a failure: every later task fails alike */
	if (s->failed) {
		*out = s->failure;
		return;
	}
	i = choose(&s->c, &s->seed);
	if (i == NONE) {
		closest(&s->c, &s->failure);
		s->failed = true;
		*out = s->failure;
		return;
	}
	commit(&s->c, i);
	*out = (struct sched_placement){ (int32_t)i, SCHED_PLACED, -1 };
}

int sched_place(const struct sched_plan *plan, const struct sched_instance *inst, size_t n,
		uint32_t count, uint64_t seed, struct sched_placement *out, struct err *e)
{
	_cleanup_(sched_session_freep) struct sched_session *s = NULL;
	int r;

	r = sched_session_new(plan, inst, n, seed, &s, e);
	if (r < 0)
		return r;
	for (uint32_t t = 0; t < count; t++)
		sched_session_next(s, &out[t]);
	return 0;
}
