// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lab_family: for the lab tests only. On a QEMU machine's tap (tc ingress: the frames the
 * machine sends) it lets one address family through, so a dual-stack segment looks
 * single-family to that machine and xpxe never hears its other family:
 *   tc/only4  drops IPv6 frames
 *   tc/only6  drops IPv4 and ARP frames
 * (This kernel has neither matchall nor gact, so `tc filter ... action drop` cannot do it.)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("tc/only4")
int lab_only4(struct __sk_buff *skb)
{
	return skb->protocol == bpf_htons(ETH_P_IPV6) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc/only6")
int lab_only6(struct __sk_buff *skb)
{
	if (skb->protocol == bpf_htons(ETH_P_IP) || skb->protocol == bpf_htons(ETH_P_ARP))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
