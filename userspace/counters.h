/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_COUNTERS_H
#define XPXE_COUNTERS_H

#include <linux/types.h>

#include "xpxe.h"

/* Name of each enum xpxe_counter, as status, JSON and metrics print it. */
extern const char *const xpxe_counter_names[XPXE_CNT_MAX];

/* Sums the per-CPU array MAP_FD into TOTALS, one value per enum xpxe_counter. */
int xpxe_counters_read(int map_fd, __u64 totals[XPXE_CNT_MAX]);

/* Adds N to counter C of MAP_FD, one the daemon writes (never a program). -errno on failure. */
int xpxe_counter_add(int map_fd, enum xpxe_counter c, __u64 n);

#endif /* XPXE_COUNTERS_H */
