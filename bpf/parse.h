/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsers for the XDP programs, one per protocol. Each takes the
 * cursor and data_end, checks bounds in the pointer form the verifier
 * understands, advances the cursor and returns a value >= 0 or a negative
 * xpxe_counter-style reason the caller turns into a counted exit.
 */
#ifndef XPXE_BPF_PARSE_H
#define XPXE_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xpxe.h"

struct hdr_cursor {
	void *pos;
};

/*
 * A 16-bit field in host order, its bound kept where the verifier can see it. Before
 * Linux 6.18 (Debian 12's 6.1 and the 6.12 of Debian 13 included) the verifier forgets every
 * bound of a byte swap's result (BPF_END leaves the register unknown), so a length read with
 * bpf_ntohs() could be neither added to a packet pointer ("math between pkt pointer and
 * register with unbounded min value") nor kept in a spilled register. The compiler knows the
 * swap's result fits in 16 bits and drops a plain "& 0xffff"; this mask is in asm, so it stays:
 * one ALU instruction. Every length or offset that comes from a frame goes through it.
 */
static __always_inline __u32 ntohs_bounded(__be16 v)
{
	__u32 h = bpf_ntohs(v);

	asm("%0 &= 0xffff" : "+r"(h));
	return h;
}

/*
 * Bounds LEN, a size the caller's checks already hold in [1, MAX], once more in the register
 * that carries it to a helper (bpf_xdp_load_bytes, bpf_xdp_store_bytes). The compiler tends to
 * check a copy and keep LEN itself on the stack across calls, and Linux 6.1's verifier does not
 * carry a check made on a copy back to the spilled value ("R4 min value is negative", "R3 min
 * value is outside of the allowed memory range" at the call). A clamp to [1, MAX] in asm, which
 * the compiler cannot drop as redundant: four instructions that change no LEN the checks let
 * through. (JGT, not JNE: 6.1 learns no lower bound from "!= 0".)
 */
#define size_bounded(len, max) \
	asm("if %0 <= %1 goto +1; %0 = %1; if %0 > 0 goto +1; %0 = 1" : "+r"(len) : "i"(max))

/* The same for an array index IDX the caller's checks hold below N: [0, N) in its own register. */
#define index_bounded(idx, n) asm("if %0 < %1 goto +1; %0 = 0" : "+r"(idx) : "i"(n))

/* Returns the EtherType in host order, or -XPXE_CNT_* when the frame is not ours to parse. */
static __always_inline int parse_ethhdr(struct hdr_cursor *cur, void *data_end,
					struct ethhdr **ethp)
{
	struct ethhdr *eth = cur->pos;

	if ((void *)(eth + 1) > data_end)
		return -XPXE_CNT_PASS_TRUNCATED_ETH;
	*ethp = eth;
	cur->pos = eth + 1;
	/* VLAN-tagged provisioning networks are passed to the stack until configured. */
	if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
		return -XPXE_CNT_PASS_VLAN;
	return bpf_ntohs(eth->h_proto);
}

/* Returns the IP protocol number, or -XPXE_CNT_*. Fragments are left to the stack. */
static __always_inline int parse_iphdr(struct hdr_cursor *cur, void *data_end, struct iphdr **iphp)
{
	struct iphdr *iph = cur->pos;
	__u32 hdrsize;

	if ((void *)(iph + 1) > data_end)
		return -XPXE_CNT_PASS_TRUNCATED_IPV4;
	if (iph->version != 4 || iph->ihl < 5)
		return -XPXE_CNT_PASS_BAD_IPV4_HEADER;
	hdrsize = iph->ihl * 4;
	if (cur->pos + hdrsize > data_end)
		return -XPXE_CNT_PASS_TRUNCATED_IPV4;
	/* A total length that claims more than the frame holds is a lie we do not answer. */
	if (ntohs_bounded(iph->tot_len) < hdrsize ||
	    cur->pos + ntohs_bounded(iph->tot_len) > data_end)
		return -XPXE_CNT_PASS_BAD_IPV4_HEADER;
	if (iph->frag_off & bpf_htons(0x3fff)) /* MF set or a non-zero offset */
		return -XPXE_CNT_PASS_IPV4_FRAGMENT;
	*iphp = iph;
	cur->pos += hdrsize;
	return iph->protocol;
}

/* Returns the UDP payload length, or -XPXE_CNT_*. The UDP length must fit in the IP payload. */
static __always_inline int parse_udphdr(struct hdr_cursor *cur, void *data_end,
					const struct iphdr *iph, struct udphdr **udphp)
{
	struct udphdr *udph = cur->pos;
	__u32 udp_len, ip_payload;

	if ((void *)(udph + 1) > data_end)
		return -XPXE_CNT_PASS_TRUNCATED_UDP;
	udp_len = ntohs_bounded(udph->len);
	ip_payload = ntohs_bounded(iph->tot_len) - iph->ihl * 4;
	if (udp_len < sizeof(*udph) || udp_len > ip_payload)
		return -XPXE_CNT_PASS_TRUNCATED_UDP;
	*udphp = udph;
	cur->pos = udph + 1;
	return udp_len - sizeof(*udph);
}

#endif /* XPXE_BPF_PARSE_H */
