/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lab_vlanVID: for the lab tests only. The kernel here has no 802.1Q (no VLAN devices, no
 * vlan_filtering bridge), so the lab's switch makes access ports out of plain bridge ports
 * with these programs, one object per VID (lab_vlan10.bpf.c, ...: the file defines VID):
 * on a port's tc ingress (what its machine sends) SEC("tc") puts the port's tag on; on its
 * tc egress (toward the machine) SEC("classifier") takes that tag off and drops everything
 * else, as an access port of a real switch would. The bridge forwards the tagged frames to
 * and from the trunk port as they are.
 *   tc filter add dev PORT ingress bpf da obj lab_vlan10.bpf.o sec tc
 *   tc filter add dev PORT egress bpf da obj lab_vlan10.bpf.o sec classifier
 * With OUTER defined too (lab_vlan100_20.bpf.c), the port is double-tagged, as a provider's
 * (802.1ad) port in front of a customer's VLAN: an 802.1Q tag of VID inside an 802.1ad one of
 * OUTER, both put on toward the trunk and both taken off (and checked) toward the machine.
 */
#ifndef XPXE_BPF_LAB_VLAN_H
#define XPXE_BPF_LAB_VLAN_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int lab_vlan_push(struct __sk_buff *skb)
{
	/* A machine on an access port sends untagged. */
	if (skb->vlan_present || bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), VID))
		return TC_ACT_SHOT;
#ifdef OUTER
	/* The 802.1Q tag moves into the frame, the 802.1ad one goes out of band before it. */
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021AD), OUTER))
		return TC_ACT_SHOT;
#endif
	return TC_ACT_OK;
}

/* The stack moved the tag out of the frame (skb->vlan_tci) when the trunk port took it. */
SEC("classifier")
int lab_vlan_pop(struct __sk_buff *skb)
{
#ifdef OUTER
	/* Popping the outer tag moves the inner one (still in the frame) out of band. */
	if (!skb->vlan_present || skb->vlan_proto != bpf_htons(ETH_P_8021AD) ||
	    (skb->vlan_tci & 0x0fff) != OUTER || bpf_skb_vlan_pop(skb))
		return TC_ACT_SHOT;
	if (!skb->vlan_present || skb->vlan_proto != bpf_htons(ETH_P_8021Q))
		return TC_ACT_SHOT;
#endif
	if (!skb->vlan_present || (skb->vlan_tci & 0x0fff) != VID || bpf_skb_vlan_pop(skb))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#endif /* XPXE_BPF_LAB_VLAN_H */
