/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Percentiles of a set of times, for the load generators' summary lines. */
#ifndef XPXE_BENCH_STATS_H
#define XPXE_BENCH_STATS_H

#include <stdlib.h>

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts V (N values) and returns its P-th quantile (0..1, nearest rank); 0 when empty. */
static inline double bench_quantile(double *v, int n, double p)
{
	if (n <= 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return v[(int)(p * (n - 1) + 0.5)];
}

#endif
