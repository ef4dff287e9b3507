// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lab_drop: for the lab tests only. On a client's tc ingress it drops the first
 * TFTP DATA frame of block 5 it sees, once, so a test can watch a transfer
 * recover from a lost block. (This kernel has neither netem nor gact.)
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "parse.h"
#include "xpxe_tftp.h"

__u32 dropped;

SEC("tc")
int lab_drop(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	struct hdr_cursor cur = { .pos = (void *)(long)skb->data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;
	__be16 *tftp;

	if (parse_ethhdr(&cur, data_end, &eth) != ETH_P_IP ||
	    parse_iphdr(&cur, data_end, &iph) != IPPROTO_UDP ||
	    parse_udphdr(&cur, data_end, iph, &udph) < 4)
		return TC_ACT_OK;
	tftp = cur.pos;
	if ((void *)(tftp + 2) > data_end || tftp[0] != bpf_htons(XPXE_TFTP_DATA) ||
	    tftp[1] != bpf_htons(5) || dropped)
		return TC_ACT_OK;
	dropped = 1;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
