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
	if (bpf_ntohs(iph->tot_len) < hdrsize || cur->pos + bpf_ntohs(iph->tot_len) > data_end)
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
	udp_len = bpf_ntohs(udph->len);
	ip_payload = bpf_ntohs(iph->tot_len) - iph->ihl * 4;
	if (udp_len < sizeof(*udph) || udp_len > ip_payload)
		return -XPXE_CNT_PASS_TRUNCATED_UDP;
	*udphp = udph;
	cur->pos = udph + 1;
	return udp_len - sizeof(*udph);
}

#endif /* XPXE_BPF_PARSE_H */
