/* bench/netns_bench.c - in-process timings of the netns library (run by
 * bench/netns inside a throwaway "host" namespace; never in the tests).
 *
 *   netns_bench setup N        N x (task network create + 1 mapping add +
 *                              mapping del + release); per-cycle µs
 *   netns_bench map BASE N     table rebuilt with BASE elements, then N x
 *                              add/del of one task's mapping; µs per op
 *
 * Prints "name median_us p99_us" lines.  Env: BERTH_RUN_DIR, BERTH_STATE_DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netns/netns.h"
#include "netns/nft.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	printf("%s %.1f %.1f\n", name, v[n / 2], v[(size_t)((n - 1) * 0.99)]);
}

static int die(const char *what, int r)
{
	fprintf(stderr, "netns_bench: %s: %s\n", what, strerror(-r));
	exit(1);
}

static void bench_setup(struct netns_host *h, struct netns_nft *nft, size_t n)
{
	double *t = calloc(n, sizeof(*t));
	struct netns_task task;
	int r;

	for (size_t i = 0; i < n; i++) {
		double t0 = now_us();
		struct netns_mapping m;

		r = netns_task_create(h, "bench", NETNS_MODE_BRIDGE, &task);
		if (r < 0)
			die("create", r);
		m = (struct netns_mapping){ PORT_TCP, 40000, task.addr, 80 };
		if ((r = netns_nft_add(nft, &m, 1)) < 0 || (r = netns_nft_del(nft, &m, 1)) < 0)
			die("map", r);
		if ((r = netns_task_release(h, "bench")) < 0)
			die("release", r);
		t[i] = now_us() - t0;
	}
	report("berth_task_setup_teardown", t, n);
	free(t);
}

static void bench_map(struct netns_nft *nft, const struct netns_conf *conf, size_t base, size_t n)
{
	struct netns_mapping *m = calloc(base + 1, sizeof(*m));
	double *ta = calloc(n, sizeof(*ta)), *td = calloc(n, sizeof(*td));
	char name[64];
	int r;

	for (size_t i = 0; i < base; i++)
		m[i] = (struct netns_mapping){ i % 2 ? PORT_UDP : PORT_TCP, (uint16_t)(1 + i / 2),
					       0x0ad50002 + (uint32_t)(i % 60000), 80 };
	r = netns_nft_rebuild(nft, conf, m, base);
	if (r < 0)
		die("rebuild", r);
	for (size_t i = 0; i < n; i++) {
		struct netns_mapping x = { PORT_TCP, 65000, 0x0ad5ff02, 8080 };
		double t0 = now_us();

		if ((r = netns_nft_add(nft, &x, 1)) < 0)
			die("add", r);
		ta[i] = now_us() - t0;
		t0 = now_us();
		if ((r = netns_nft_del(nft, &x, 1)) < 0)
			die("del", r);
		td[i] = now_us() - t0;
	}
	snprintf(name, sizeof(name), "map_add_with_%zu", base);
	report(name, ta, n);
	snprintf(name, sizeof(name), "map_del_with_%zu", base);
	report(name, td, n);
	free(m);
	free(ta);
	free(td);
}

int main(int argc, char **argv)
{
	struct netns_conf conf;
	struct netns_host *h = NULL;
	struct netns_nft *nft = NULL;
	int r;

	if (argc < 3)
		return fprintf(stderr, "usage: netns_bench setup N | map BASE N\n"), 2;
	r = netns_conf_init(&conf, NULL, NULL, getenv("BERTH_RUN_DIR"), getenv("BERTH_STATE_DIR"));
	if (r < 0)
		die("conf", r);
	if ((r = netns_host_open(&conf, &h)) < 0 || (r = netns_nft_open(&nft)) < 0)
		die("open", r);
	if (strcmp(argv[1], "setup") == 0) {
		if ((r = netns_bridge_ensure(h)) < 0 || (r = netns_nft_rebuild(nft, &conf, NULL, 0)) < 0)
			die("bridge", r);
		bench_setup(h, nft, strtoul(argv[2], NULL, 10));
	} else if (strcmp(argv[1], "map") == 0 && argc == 4) {
		bench_map(nft, &conf, strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10));
	} else {
		return 2;
	}
	netns_nft_close(nft);
	netns_host_close(h);
	return 0;
}
