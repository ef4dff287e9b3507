/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * VLANs on a trunk, handled in BPF (bpf/vlan.h): what the programs and the daemon share. The
 * kernels xpxe runs on may have no 8021q module, so xpxe takes tags off and puts them back
 * itself. Each configured VLAN is a network of its own, numbered 1..XPXE_VLAN_MAX ("net"; 0 is
 * the trunk's untagged network): that number picks its entry of dhcp_config and its set of
 * DHCP reply templates (an array of its own in vlan_templates, an array of maps).
 */
#ifndef XPXE_VLAN_H
#define XPXE_VLAN_H

#include <linux/types.h>

#define XPXE_VLAN_MAX  64 /* configured VLANs per interface */
#define XPXE_VID_MAX   4094
#define XPXE_VID_SLOTS 4096 /* entries of `vlan_vids`: every 12-bit VID */

/*
 * Key of `vlans`: the tag's VID, and the VID of an 802.1ad outer tag when the VLAN is
 * configured double-tagged (0 for a single 802.1Q tag).
 */
static inline __u32 xpxe_vlan_key(__u32 outer_vid, __u32 vid)
{
	return outer_vid << 16 | vid;
}

/*
 * A configured VLAN: value of `vlans` (by tag), of `vlan_vids` (an array by VID: the single
 * 802.1Q tagged VLANs again, so that a tagged frame's lookup is an index, not a hash), of
 * `vlan_qinq`'s arrays (the double-tagged ones again, by outer VID then VID) and of
 * `vlan_by_addr` (by server address).
 */
struct xpxe_vlan {
	__be32 server_ip; /* this VLAN's server address (given to the kernel on the trunk) */
	__u32 net;	  /* 1..XPXE_VLAN_MAX: its dhcp_config entry and template set */
	__u16 vid;
	__u16 outer_vid; /* 0: one 802.1Q tag; else the 802.1ad (0x88a8) outer tag's VID */
	__u8 prefix;	 /* of the VLAN's subnet */
	__u8 pad[3];
};

#endif /* XPXE_VLAN_H */
