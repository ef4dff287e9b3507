/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* For the lab's drop programs (lab_drop*.bpf.c) only: which TFTP block a frame carries. */
#ifndef XPXE_BPF_LAB_TFTP_H
#define XPXE_BPF_LAB_TFTP_H

#include <linux/bpf.h>
#include <linux/ipv6.h>

#include "parse.h"
#include "xpxe_tftp.h"

/* The block number of the TFTP frame of opcode OP (DATA, ACK) in SKB, over IPv4 or IPv6, or -1
 * when it is not one. */
static __always_inline int lab_tftp_block(struct __sk_buff *skb, int op)
{
	void *data_end = (void *)(long)skb->data_end;
	struct hdr_cursor cur = { .pos = (void *)(long)skb->data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;
	__be16 *tftp;

	int proto = parse_ethhdr(&cur, data_end, &eth);

	if (proto == ETH_P_IPV6) {
		/* IPv6 without extension headers: what the lab's clients send. */
		struct ipv6hdr *ip6 = cur.pos;

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return -1;
		udph = (void *)(ip6 + 1);
		tftp = (void *)(udph + 1);
	} else {
		if (proto != ETH_P_IP || parse_iphdr(&cur, data_end, &iph) != IPPROTO_UDP ||
		    parse_udphdr(&cur, data_end, iph, &udph) < 4)
			return -1;
		tftp = cur.pos;
	}
	if ((void *)(tftp + 2) > data_end || tftp[0] != bpf_htons(op))
		return -1;
	return bpf_ntohs(tftp[1]);
}

/* The block number of the TFTP DATA frame in SKB, or -1 when it carries none. */
static __always_inline int lab_tftp_data_block(struct __sk_buff *skb)
{
	return lab_tftp_block(skb, XPXE_TFTP_DATA);
}

#endif /* XPXE_BPF_LAB_TFTP_H */
