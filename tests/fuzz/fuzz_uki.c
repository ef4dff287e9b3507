// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: the UKI check (boot/uki.c). The file is the operator's, but it is
 * often a download (Image Factory), and every offset in a PE header is the
 * file's word: the input is handed over in a buffer of exactly its length, so
 * any read past it trips ASan. Invariants: a verdict either way, a reason for
 * every refusal, and for an image taken a kernel and an initramfs that lie
 * inside it and a command line that is a string.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xpxe_uki_info info;
	char why[300] = "";
	uint8_t *copy = malloc(size ? size : 1);
	int ret;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	ret = xpxe_uki_parse(copy, size, &info, why, sizeof(why));
	if (ret) {
		FUZZ_ASSERT(ret == -EINVAL);
		FUZZ_ASSERT(why[0] != '\0');
	} else {
		FUZZ_ASSERT(info.linux_size > 0 && info.linux_size <= size);
		FUZZ_ASSERT(info.has_initrd && info.initrd_size <= size);
		FUZZ_ASSERT(memchr(info.cmdline, '\0', sizeof(info.cmdline)) != NULL);
	}
	free(copy);
	return 0;
}
