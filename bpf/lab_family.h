/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lab_only4 / lab_only6: for the lab tests only. On a QEMU machine's tap (tc ingress: the
 * frames the machine sends) one lets one address family through, so a dual-stack segment
 * looks single-family to that machine and xpxe never hears its other family:
 *   lab_only4.bpf.o (ONLY_IPV4)  drops IPv6 frames
 *   lab_only6.bpf.o             drops IPv4 and ARP frames
 * (This kernel has neither matchall nor gact, so `tc filter ... action drop` cannot do it.)
 * One object each, in section "tc": the libbpf of the older kernels' bpftool (the QEMU
 * matrix) knows no "tc/NAME" sections.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int lab_family(struct __sk_buff *skb)
{
#ifdef ONLY_IPV4
	return skb->protocol == bpf_htons(ETH_P_IPV6) ? TC_ACT_SHOT : TC_ACT_OK;
#else
	if (skb->protocol == bpf_htons(ETH_P_IP) || skb->protocol == bpf_htons(ETH_P_ARP))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
#endif
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
