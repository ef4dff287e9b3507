/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the libFuzzer harnesses share: an invariant that aborts (so libFuzzer
 * saves the input as a crash) with the condition that failed.
 */
#ifndef XPXE_FUZZ_H
#define XPXE_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                                       \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
				__LINE__);                                                      \
			abort();                                                                \
		}                                                                               \
	} while (0)

#endif /* XPXE_FUZZ_H */
