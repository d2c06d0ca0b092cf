/* scheduler/scalein.c - which tasks stop when a service shrinks
 * (ECS-REFERENCE 4.7).  The plan's chain, turned around: the task whose
 * instance has the most remaining resource (binpack: most free after the
 * stop), the value / instance with the most tasks of the service (spread);
 * without a strategy the service default [spread AZ, spread instanceId]
 * is exactly the documented rule.  Brute force over the service's tasks:
 * O(stop x tasks x chain), which is exact and small for one service. */
#include "scheduler/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

struct scalein {
	const struct sched_plan *p;
	const struct sched_instance *inst;
	const struct sched_task_ref *tasks;
	size_t n_tasks;
	int64_t *rem_cpu, *rem_mem, *on_inst;    /* per instance */
	uint32_t *vid[SCHED_MAX_STRATEGIES];    /* per comp, per task: value id */
	int64_t *per_val[SCHED_MAX_STRATEGIES]; /* per comp, per value id */
	bool *gone;
};

static int64_t comp_value(const struct scalein *s, size_t k, size_t t)
{
	uint32_t i = s->tasks[t].instance;

	switch (s->p->comps[k].kind) {
	case COMP_REM_CPU:
		return s->rem_cpu[i];
	case COMP_REM_MEMORY:
		return s->rem_mem[i];
	case COMP_INSTANCE:
		return s->on_inst[i];
	case COMP_ATTRIBUTE:
		return s->per_val[k][s->vid[k][t]];
	}
	return 0;
}

/* Larger chain key first: positive when task A should stop before B. */
static int cmp(const struct scalein *s, size_t a, size_t b)
{
	for (size_t k = 0; k < s->p->n_comps; k++) {
		int64_t x = comp_value(s, k, a), y = comp_value(s, k, b);

		if (x != y)
			return x > y ? 1 : -1;
	}
	return 0;
}

/* Value ids per task for spread attribute comp K (values are few: AZs). */
static int intern(struct scalein *s, size_t k)
{
	_cleanup_free_ const char **vals = malloc((s->n_tasks + 1) * sizeof(char *));
	size_t nv = 0;

	s->vid[k] = malloc((s->n_tasks + 1) * sizeof(uint32_t));
	s->per_val[k] = calloc(s->n_tasks + 1, sizeof(int64_t));
	if (!vals || !s->vid[k] || !s->per_val[k])
		return -ENOMEM;
	for (size_t t = 0; t < s->n_tasks; t++) {
		const char *v = sched_spread_value(&s->inst[s->tasks[t].instance], s->p->comps[k].attr);
		size_t j;

		for (j = 0; j < nv; j++)
			if (vals[j] == v || (v && vals[j] && strcmp(vals[j], v) == 0))
				break;
		if (j == nv)
			vals[nv++] = v;
		s->vid[k][t] = (uint32_t)j;
		s->per_val[k][j]++;
	}
	return 0;
}

static size_t pick(const struct scalein *s, uint64_t *seed)
{
	size_t best = SIZE_MAX, ties = 0, k;

	for (size_t t = 0; t < s->n_tasks; t++) {
		int d;

		if (s->gone[t] || s->tasks[t].protected_)
			continue;
		d = best == SIZE_MAX ? 1 : cmp(s, t, best);
		if (d > 0) {
			best = t;
			ties = 1;
		} else if (d == 0) {
			ties++;
		}
	}
	if (best == SIZE_MAX)
		return SIZE_MAX;
	k = sched_rand_below(seed, ties);
	for (size_t t = best; t < s->n_tasks; t++) {
		if (s->gone[t] || s->tasks[t].protected_ || cmp(s, t, best) != 0)
			continue;
		if (k-- == 0)
			return t;
	}
	return SIZE_MAX;
}

static void stop_task(struct scalein *s, size_t t)
{
	uint32_t i = s->tasks[t].instance;

	s->gone[t] = true;
	s->rem_cpu[i] += s->p->cpu;
	s->rem_mem[i] += s->p->memory;
	s->on_inst[i]--;
	for (size_t k = 0; k < s->p->n_comps; k++)
		if (s->p->comps[k].kind == COMP_ATTRIBUTE)
			s->per_val[k][s->vid[k][t]]--;
}

static void scalein_free(struct scalein *s)
{
	free(s->rem_cpu);
	free(s->rem_mem);
	free(s->on_inst);
	free(s->gone);
	for (size_t k = 0; k < SCHED_MAX_STRATEGIES; k++) {
		free(s->vid[k]);
		free(s->per_val[k]);
	}
}

static int scalein_setup(struct scalein *s, size_t n)
{
	s->rem_cpu = calloc(n + 1, sizeof(int64_t));
	s->rem_mem = calloc(n + 1, sizeof(int64_t));
	s->on_inst = calloc(n + 1, sizeof(int64_t));
	s->gone = calloc(s->n_tasks + 1, sizeof(bool));
	if (!s->rem_cpu || !s->rem_mem || !s->on_inst || !s->gone)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->rem_cpu[i] = s->inst[i].remaining_cpu;
		s->rem_mem[i] = s->inst[i].remaining_memory;
	}
	for (size_t t = 0; t < s->n_tasks; t++)
		s->on_inst[s->tasks[t].instance]++;
	for (size_t k = 0; k < s->p->n_comps; k++)
		if (s->p->comps[k].kind == COMP_ATTRIBUTE && intern(s, k) < 0)
			return -ENOMEM;
	return 0;
}

int sched_scale_in(const struct sched_plan *plan, const struct sched_instance *inst, size_t n,
		   const struct sched_task_ref *tasks, size_t n_tasks, uint32_t stop,
		   uint64_t seed, uint32_t *ret_victims, size_t *ret_n, struct err *e)
{
	struct scalein s = { .p = plan, .inst = inst, .tasks = tasks, .n_tasks = n_tasks };
	size_t got = 0;
	int r = 0;

	for (size_t t = 0; t < n_tasks; t++)
		if (tasks[t].instance >= n)
			return err_setx(e, -EINVAL, "task %zu names instance %u of %zu", t,
					tasks[t].instance, n);
	if (scalein_setup(&s, n) < 0) {
		r = err_set(e, -ENOMEM, "scale-in choice over %zu tasks", n_tasks);
		goto out;
	}
	while (got < stop) {
		size_t t = pick(&s, &seed);

		if (t == SIZE_MAX)
			break;
		stop_task(&s, t);
		ret_victims[got++] = (uint32_t)t;
	}
	*ret_n = got;
out:
	scalein_free(&s);
	return r;
}
