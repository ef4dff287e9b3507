// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: what the HTTP handlers do with a request's query before anything
 * is served (userspace/http/http.c: identify). libmicrohttpd splits and decodes the
 * query; the values (mac, uuid, serial, hostname: any bytes an unauthenticated
 * client sends) then go through xpxe_mac_normalize and xpxe_inventory_find
 * against a fixed inventory with the hard cases: a machine with two NICs, a
 * UUID two machines share, selectors that differ only in case. The input is
 * the four values, NUL-separated. The machine found must really be the one
 * the values name, and a miss must say why.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fuzz.h"
#include "inventory.h"

static const char inventory_yaml[] = "state_dir: /tmp/xpxe-fuzz-http-state\n"
				     "machines:\n"
				     "  - mac: [52:54:00:00:00:01, 52-54-00-00-00-11]\n"
				     "    hostname: cp-1\n"
				     "    uuid: 4c4c4544-0000-0000-0000-000000000001\n"
				     "  - mac: 52:54:00:00:00:02\n"
				     "    uuid: 03000200-0400-0500-0006-000700080009\n"
				     "    serial: SN-2\n"
				     "  - uuid: 03000200-0400-0500-0006-000700080009\n"
				     "    hostname: Worker-3\n"
				     "  - serial: sn-4\n";

static struct xpxe_config cfg;
static struct xpxe_inventory inv;

static void remove_state(void)
{
	rmdir(cfg.state_dir);
}

static void load_inventory(void)
{
	char path[] = "/tmp/xpxe-fuzz-http.XXXXXX";
	struct xpxe_config_error err;
	int fd = mkstemp(path);

	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, inventory_yaml, sizeof(inventory_yaml) - 1) ==
		    (ssize_t)sizeof(inventory_yaml) - 1);
	close(fd);
	FUZZ_ASSERT(xpxe_config_load(path, &cfg, &err) == 0);
	unlink(path);
	FUZZ_ASSERT(xpxe_inventory_open(&inv, &cfg) == 0);
	atexit(remove_state);
}

static bool same_text(const char *config_value, const char *asked)
{
	return asked && *asked && *config_value && !strcasecmp(config_value, asked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *fields[4] = { NULL }, *p, normal[18], key[80];
	struct xpxe_identity id;
	unsigned char mac[6];
	const char *why;
	int m, owner, n = 0;

	if (!copy)
		return 0;
	if (!cfg.machines)
		load_inventory();
	memcpy(copy, data, size);
	copy[size] = '\0';
	/* Absent or empty: as arg() in http.c, which gives NULL for both. */
	for (p = copy; n < 4 && p <= copy + size; p += strlen(p) + 1, n++)
		fields[n] = *p ? p : NULL;
	id = (struct xpxe_identity){ fields[0], fields[1], fields[2], fields[3] };

	if (id.mac && !xpxe_mac_normalize(id.mac, normal)) {
		/* Normalised: lower-case hex and colons, and the same MAC again. */
		FUZZ_ASSERT(strlen(normal) == 17);
		for (int i = 0; i < 17; i++)
			FUZZ_ASSERT(i % 3 == 2 ? normal[i] == ':'
					       : isxdigit((unsigned char)normal[i]) &&
						     !isupper((unsigned char)normal[i]));
		FUZZ_ASSERT(!xpxe_parse_mac(normal, mac));
	}

	/* Which machine owns the MAC asked for, if any: a MAC match wins. */
	owner = -1;
	if (id.mac && !xpxe_parse_mac(id.mac, mac))
		for (int k = 0; k < cfg.n_machines && owner < 0; k++)
			for (int i = 0; i < cfg.machines[k].n_macs; i++)
				if (!memcmp(cfg.machines[k].macs[i], mac, 6))
					owner = k;

	m = xpxe_inventory_find(&inv, &id, &why);
	if (owner >= 0)
		FUZZ_ASSERT(m == owner);
	if (m < 0) {
		FUZZ_ASSERT(m == -1 && why && *why);
	} else {
		const struct xpxe_machine_cfg *mc = &cfg.machines[m];
		bool by_other =
		    same_text(mc->serial, id.serial) || same_text(mc->hostname, id.hostname);

		FUZZ_ASSERT(m < cfg.n_machines && !why);
		FUZZ_ASSERT(m == owner || same_text(mc->uuid, id.uuid) || by_other);
		/* The UUID machines 1 and 2 share names neither of them. */
		if (m == 1 || m == 2)
			FUZZ_ASSERT(m == owner || by_other);
		xpxe_inventory_key(mc, key, sizeof(key));
		FUZZ_ASSERT(memchr(key, '\0', sizeof(key)) && strchr(key, ':'));
	}
	free(copy);
	return 0;
}
