/* bench/images_overlay.c - per-container overlay setup cost: N x
 * (img_rootfs_mount + img_rootfs_umount) of one stored image through the
 * library (no process start in the figure).  Prints medians in µs.
 *   images_overlay STATE_DIR REF WORKDIR N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "images/rootfs.h"
#include "images/store.h"
#include "lib/err.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	struct img_store *s;
	char mp[PATH_MAX];
	double *up, *down, *both;
	int n;

	if (argc != 5)
		return 2;
	n = atoi(argv[4]);
	s = img_store_open(argv[1], &e);
	up = calloc((size_t)n, sizeof(double));
	down = calloc((size_t)n, sizeof(double));
	both = calloc((size_t)n, sizeof(double));
	if (!s || !up || !down || !both || mkdir(argv[3], 0755) < 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		double t0 = now_us(), t1, t2;

		if (img_rootfs_mount(s, argv[2], argv[3], mp, &e) < 0) {
			fprintf(stderr, "mount: %s\n", e.msg);
			return 1;
		}
		t1 = now_us();
		if (img_rootfs_umount(s, argv[3], &e) < 0) {
			fprintf(stderr, "umount: %s\n", e.msg);
			return 1;
		}
		t2 = now_us();
		up[i] = t1 - t0;
		down[i] = t2 - t1;
		both[i] = t2 - t0;
	}
	printf("overlay mount    median %8.0f us\n", median(up, n));
	printf("overlay teardown median %8.0f us\n", median(down, n));
	printf("mount+teardown   median %8.0f us  (n=%d)\n", median(both, n), n);
	img_store_free(s);
	free(up);
	free(down);
	free(both);
	return 0;
}
