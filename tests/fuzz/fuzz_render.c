// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: the Talos config renderer. The template is the operator's file,
 * but the values come from the machine's HTTP request (uuid, serial, mac of a
 * machine not in the inventory), so both are fuzzed: an input starting with
 * 0x01 carries the eight values first, NUL-separated (hostname, ip, ip6, mac,
 * mac_hyphen, uuid, serial, install_disk; empty: NULL), then the template;
 * any other input is a template rendered with fixed values. The template is
 * handed over in a buffer of exactly its length, as a file read gives it, so
 * any read past it trips ASan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v[8] = { "cp-1",
			     "198.18.0.50",
			     "fd00:198:18::50",
			     "52:54:00:00:00:01",
			     "52-54-00-00-00-01",
			     "4c4c4544-0000-0000-0000-000000000002",
			     "SN-0123456789",
			     "/dev/disk/by-id/nvme-eui.0123456789abcdef" };
	char *values = NULL, *t, *out = NULL;
	const char *p = (const char *)data, *end = p + size, *bad_name = NULL;
	size_t out_len = 0;
	int bad_line = 0, ret;

	if (size && data[0] == 1) {
		values = malloc(size);
		if (!values)
			return 0;
		memcpy(values, data + 1, size - 1);
		values[size - 1] = '\0';
		p = values;
		end = values + size - 1;
		for (int i = 0; i < 8; i++) {
			const char *nul = memchr(p, '\0', end - p);

			if (!nul || nul == end)
				break;
			v[i] = *p ? p : NULL;
			p = nul + 1;
		}
	}
	t = malloc(end > p ? (size_t)(end - p) : 1);
	if (!t) {
		free(values);
		return 0;
	}
	memcpy(t, p, end - p);

	ret = xpxe_render_template(t, end - p,
				   &(struct xpxe_vars){ .hostname = v[0],
							.ip = v[1],
							.ip6 = v[2],
							.mac = v[3],
							.mac_hyphen = v[4],
							.uuid = v[5],
							.serial = v[6],
							.install_disk = v[7] },
				   &out, &out_len, &bad_name, &bad_line);
	if (ret == 0) {
		FUZZ_ASSERT(out && out[out_len] == '\0');
		/* Without a "{{", a template is its own rendering. */
		if (!memmem(t, end - p, "{{", 2))
			FUZZ_ASSERT(out_len == (size_t)(end - p) && !memcmp(out, t, out_len));
		free(out);
	} else {
		FUZZ_ASSERT(ret == -EINVAL || ret == -ENOMEM);
		if (ret == -EINVAL)
			FUZZ_ASSERT(bad_name >= t && bad_name < t + (end - p) && bad_line >= 1);
	}
	free(t);
	free(values);
	return 0;
}
