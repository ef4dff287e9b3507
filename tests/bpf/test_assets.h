/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Assets for the BPF tests: content only its seed predicts, loaded as the daemon loads files. */
#ifndef XPXE_TEST_ASSETS_H
#define XPXE_TEST_ASSETS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "assets.h"

/* SIZE bytes of a xorshift stream from SEED: no block repeats another, so a block copied from
 * the wrong offset shows. The caller frees it. */
static inline uint8_t *test_asset_content(uint64_t size, uint32_t seed)
{
	uint8_t *p = malloc(size ? size : 1);
	uint32_t x = seed;

	for (uint64_t i = 0; p && i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

/* Writes CONTENT to a file and loads it into ASSETS as NAME, through xpxe_assets_load; its map
 * slot goes to *SLOT. */
static inline int test_asset_load(struct xpxe_assets *assets, const char *name,
				  const uint8_t *content, uint64_t size, uint32_t *slot)
{
	char path[] = "/tmp/xpxe-test-asset.XXXXXX";
	int fd = mkstemp(path), err;

	if (fd < 0 || !content)
		return -1;
	if (write(fd, content, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	err = xpxe_assets_load(assets, name, path);
	unlink(path);
	if (err)
		return err;
	*slot = xpxe_assets_find(assets, name)->slot;
	return 0;
}

#endif /* XPXE_TEST_ASSETS_H */
