/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reads frame N of a classic pcap file (the fixtures under tests/fixtures/). */
#ifndef XPXE_TEST_PCAP_H
#define XPXE_TEST_PCAP_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Copies frame INDEX (0-based) of PATH into BUF; returns its length, or -1. */
static inline int pcap_frame(const char *path, int index, uint8_t *buf, size_t size)
{
	uint8_t global[24], rec[16];
	uint32_t magic, caplen;
	FILE *f = fopen(path, "rb");
	int len = -1;

	if (!f)
		return -1;
	if (fread(global, 1, sizeof(global), f) != sizeof(global))
		goto out;
	memcpy(&magic, global, 4);
	if (magic != 0xa1b2c3d4) /* microsecond pcap, this machine's byte order */
		goto out;
	for (int i = 0;; i++) {
		if (fread(rec, 1, sizeof(rec), f) != sizeof(rec))
			goto out;
		memcpy(&caplen, rec + 8, 4);
		if (caplen > size)
			goto out;
		if (fread(buf, 1, caplen, f) != caplen)
			goto out;
		if (i == index) {
			len = (int)caplen;
			goto out;
		}
	}
out:
	fclose(f);
	return len;
}

#endif /* XPXE_TEST_PCAP_H */
