// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: a DHCPv6 message as full mode's server reads it (userspace/dhcp/dhcp6_proto.c),
 * exactly as long as it came (ASan sees any read past it). Every input gets a verdict; an
 * accepted one is a client's message with its ids as RFC 8415 16 wants them, a DUID within
 * bounds and a class; an answer built from it never passes its buffer. The same input read
 * as a Relay-forward: an accepted one points inside it, and its Relay-reply fits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "dhcp/dhcp6_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct xpxe_dhcp6_msg m;
	struct xpxe_dhcp6_relay r;
	struct xpxe_dhcp6_out o, relayed;
	enum xpxe_dhcp6_verdict v;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	v = xpxe_dhcp6_parse(copy, size, &m);
	FUZZ_ASSERT(v >= XPXE_DHCP6_OK && v < XPXE_DHCP6_VERDICT_MAX);
	if (v == XPXE_DHCP6_OK) {
		FUZZ_ASSERT(m.duid_len <= XPXE_DHCP6_DUID_LEN_MAX);
		FUZZ_ASSERT(m.type != XPXE_DHCP6_ADVERTISE && m.type != XPXE_DHCP6_REPLY);
		FUZZ_ASSERT(m.type == XPXE_DHCP6_INFORMATION_REQUEST || m.duid_len >= 2);
		FUZZ_ASSERT(!m.sid_len || (m.sid >= copy && m.sid + m.sid_len <= copy + size));
		FUZZ_ASSERT(xpxe_dhcp6_boot_class(&m) < XPXE_BOOT_MAX);
		/* An answer as the server builds it: ids, an IA (with a stale address too). */
		xpxe_dhcp6_out_start(&o, XPXE_DHCP6_REPLY, m.xid);
		xpxe_dhcp6_out_opt(&o, XPXE_DHCP6_OPT_SERVERID, m.sid, m.sid_len);
		xpxe_dhcp6_out_opt(&o, XPXE_DHCP6_OPT_CLIENTID, m.duid, m.duid_len);
		xpxe_dhcp6_out_ia_stale(&o, m.ia.iaid, 1, 2, &m.ia.addr, 3, &m.ia.addr);
		xpxe_dhcp6_out_ia(&o, m.ia.iaid, 1, 2, NULL, 0, 0, XPXE_DHCP6_NO_BINDING, "x");
		FUZZ_ASSERT(o.len <= sizeof(o.buf));
	}
	v = xpxe_dhcp6_parse_relay(copy, size, &r);
	FUZZ_ASSERT(v >= XPXE_DHCP6_OK && v < XPXE_DHCP6_VERDICT_MAX);
	if (v == XPXE_DHCP6_OK) {
		FUZZ_ASSERT(r.msg > copy && r.msg_len && r.msg + r.msg_len <= copy + size);
		FUZZ_ASSERT(
		    !r.interface_id ||
		    (r.interface_id > copy && r.interface_id + r.interface_id_len <= copy + size));
		FUZZ_ASSERT(!r.relay_port ||
			    (r.relay_port > copy && r.relay_port + 2 <= copy + size));
		xpxe_dhcp6_out_start(&o, XPXE_DHCP6_REPLY, copy + 1);
		xpxe_dhcp6_out_raw(&o, r.msg, r.msg_len);
		xpxe_dhcp6_out_relay(&relayed, &r, &o);
		FUZZ_ASSERT(relayed.len <= sizeof(relayed.buf));
		FUZZ_ASSERT(relayed.overflow || relayed.buf[0] == XPXE_DHCP6_RELAY_REPL);
	}
	free(copy);
	return 0;
}
