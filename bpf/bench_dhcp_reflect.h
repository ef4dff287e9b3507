/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench_dhcp_reflect: for `make bench` only (scripts/bench/dhcp_load.sh attaches it to the
 * server's interface with `ip link set ... xdpdrv`). The cheapest DHCP server an XDP program can
 * be, to measure the lab's own ceiling for the DHCP load generator (scripts/bench/dhcp_load.c):
 * it turns each relayed request around in place, from no state, into a reply the generator
 * accepts, and sends it back (XDP_TX). Full mode (bench_dhcp_reflect.bpf.c): DISCOVER -> OFFER,
 * REQUEST -> ACK, the address made of the client's MAC (198.18.64.0/18), a boot file named "x";
 * proxy mode (bench_dhcp_reflect_proxy.bpf.c): DISCOVER -> OFFER with no address.
 *
 * It relies on the generator's layout, as no real client's: a 20-byte IP header, giaddr set
 * (the reply goes back to the relay it came from: addresses and MACs swapped, ports 67 both
 * ways) and options that start with 53 (3 bytes), 57 (4) and two pads, which it overwrites with
 * 53 and 54 (the server identifier: the address the request was sent to). Every other option
 * of the request stays (60 among them: a ProxyDHCP reply's vendor class). The checksums are
 * updated for the words it changed (RFC 1624), not summed again: what it costs is what the
 * veth pair and the client cost, and nearly nothing more. Anything else passes.
 */
#ifndef XPXE_BENCH_DHCP_REFLECT_H
#define XPXE_BENCH_DHCP_REFLECT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xpxe_dhcp.h"

#define REFLECT_OPT_LEN 10 /* 9 bytes rewritten, read as 5 whole words */

/* One's complement of OLD replaced by NEW, added to an accumulator of 16-bit words. */
static __always_inline __u32 reflect_word(__u32 sum, __u16 old, __u16 new)
{
	return sum + (__u16)~old + new;
}

static __always_inline int reflect(struct xdp_md *ctx, const int proxy)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u8 *f = data, mac[ETH_ALEN], *o, type;
	__u16 *w, old[REFLECT_OPT_LEN / 2];
	__u32 sum = 0, yiaddr, saddr, daddr;
	__u16 *check;

	if ((void *)(f + XPXE_OFF_OPTIONS + REFLECT_OPT_LEN) > data_end)
		return XDP_PASS;
	if (f[12] != 0x08 || f[13] != 0 || f[14] != 0x45 || f[14 + 9] != 17 ||
	    f[XPXE_OFF_UDP + 2] != 0 || f[XPXE_OFF_UDP + 3] != 67 || f[XPXE_OFF_BOOTP] != 1)
		return XDP_PASS;
	o = f + XPXE_OFF_OPTIONS;
	if (o[0] != 53 || o[1] != 1 || o[3] != 57 || o[4] != 2 || o[7] || o[8])
		return XDP_PASS;
	if (o[2] == 1)
		type = 2; /* DISCOVER -> OFFER */
	else if (o[2] == 3 && !proxy)
		type = 5; /* REQUEST -> ACK */
	else
		return XDP_PASS;
	__builtin_memcpy(&daddr, f + XPXE_OFF_IP + 16, 4);
	__builtin_memcpy(&saddr, f + XPXE_OFF_IP + 12, 4);
	if (!*(__u32 *)(f + XPXE_OFF_GIADDR))
		return XDP_PASS; /* not relayed: the reply would be a broadcast */

	/* Turned around: swapping the addresses changes neither checksum. */
	__builtin_memcpy(mac, f, ETH_ALEN);
	__builtin_memcpy(f, f + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(f + ETH_ALEN, mac, ETH_ALEN);
	__builtin_memcpy(f + XPXE_OFF_IP + 12, &daddr, 4);
	__builtin_memcpy(f + XPXE_OFF_IP + 16, &saddr, 4);

	w = (__u16 *)(f + XPXE_OFF_BOOTP); /* op 1 -> 2 */
	sum = reflect_word(sum, w[0], bpf_htons(0x0201));
	w[0] = bpf_htons(0x0201);
	if (!proxy) {
		w = (__u16 *)(f + XPXE_OFF_YIADDR); /* was 0: the address, from the MAC */
		yiaddr = bpf_htonl(0xc6124000 | (f[XPXE_OFF_CHADDR + 4] & 0x3f) << 8 |
				   f[XPXE_OFF_CHADDR + 5]);
		sum = reflect_word(sum, w[0], yiaddr & 0xffff);
		sum = reflect_word(sum, w[1], yiaddr >> 16);
		__builtin_memcpy(w, &yiaddr, 4);
		w = (__u16 *)(f + XPXE_OFF_BOOTP + 108); /* the file field: "x" */
		sum = reflect_word(sum, w[0], bpf_htons(0x7800));
		w[0] = bpf_htons(0x7800);
	}
	w = (__u16 *)o;
	__builtin_memcpy(old, w, REFLECT_OPT_LEN);
	o[2] = type;
	o[3] = 54;
	o[4] = 4;
	__builtin_memcpy(o + 5, &daddr, 4);
#pragma unroll
	for (int i = 0; i < REFLECT_OPT_LEN / 2; i++)
		sum = reflect_word(sum, old[i], w[i]);
	check = (__u16 *)(f + XPXE_OFF_UDP + 6);
	if (*check) {
		sum += (__u16) ~*check;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		*check = (__u16)~sum ? (__u16)~sum : 0xffff;
	}
	return XDP_TX;
}

#endif /* XPXE_BENCH_DHCP_REFLECT_H */
