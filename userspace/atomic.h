/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_ATOMIC_H
#define XPXE_ATOMIC_H

#include <stdio.h>
#include <sys/types.h>

/*
 * Replaces PATH with what FILL writes, atomically: FILL writes to PATH.tmp,
 * which is flushed, fsynced and renamed over PATH, then the folder is fsynced.
 * A crash (or a full disk) at any moment leaves the old file or the new one,
 * never a mix. Missing parent folders are created. Returns 0 or -errno.
 */
int xpxe_write_atomically(const char *path, mode_t mode, int (*fill)(FILE *f, void *ctx),
			  void *ctx);

#endif /* XPXE_ATOMIC_H */
