/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A trunk's VLANs on the host: receive VLAN offload, each VLAN's address on the interface,
 * tc_vlan_out on its egress (bpf/vlan.h). The VLANs themselves are settings
 * (dhcp_settings.h); their maps are filled with the DHCP ones (dhcp/dhcp.h).
 */
#ifndef XPXE_VLAN_SETUP_H
#define XPXE_VLAN_SETUP_H

#include <stdbool.h>
#include <netinet/in.h>

#include "dhcp_settings.h"

struct xpxe_dataplane;

/* What xpxe_vlan_start changed on the trunk, so that xpxe_vlan_stop undoes only that. */
struct xpxe_vlan_runtime {
	int n;				     /* VLANs started */
	struct in_addr addrs[XPXE_VLAN_MAX]; /* their server addresses */
	unsigned char prefixes[XPXE_VLAN_MAX];
	bool added[XPXE_VLAN_MAX]; /* the address was not on the trunk before */
	bool egress;		   /* tc_vlan_out attached on clsact egress */
	const char *offload;	   /* what was done to rx-vlan-offload, for status */
	const char *stag_offload;  /* what was done to rx-vlan-stag-hw-parse, for status */
};

/*
 * Makes DP's interface a trunk for S's VLANs: rx VLAN offload off, 802.1Q's and 802.1ad's
 * (rx-vlan-offload, rx-vlan-stag-hw-parse: so XDP sees the tags in the frame; left off at
 * the stop, as a NIC on a trunk should be), each VLAN's server address on it (the kernel answers
 * ARP, TFTP requests, HTTP there), and tc_vlan_out on clsact egress (tags what leaves from those
 * addresses). Nothing when S has no VLANs. Returns 0, or -errno after logging why.
 */
int xpxe_vlan_start(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
		    struct xpxe_vlan_runtime *rt);

/*
 * A reload: the addresses of VLANs S no longer has go (those xpxe added), those of new
 * VLANs come; the first VLANs start the trunk, none left stops it. Returns 0 or -errno.
 */
int xpxe_vlan_update(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
		     struct xpxe_vlan_runtime *rt);

/* The VLAN addresses a previous daemon left on an adopted trunk (--keep-attached). */
struct xpxe_vlan_left {
	int n;
	struct in_addr addrs[XPXE_VLAN_MAX];
	unsigned char prefixes[XPXE_VLAN_MAX];
};

/*
 * Reads from DP's adopted maps (vlan_by_addr) the VLANs the previous daemon served, before
 * this daemon's settings replace them. Nothing when DP was not adopted.
 */
void xpxe_vlan_read_left(struct xpxe_dataplane *dp, struct xpxe_vlan_left *left);

/*
 * After xpxe_vlan_start: takes off the trunk the addresses in LEFT of VLANs that S no
 * longer has (the config changed between the two daemons).
 */
void xpxe_vlan_drop_left(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
			 const struct xpxe_vlan_left *left);

/* Undoes what xpxe_vlan_start did (addresses it added, its egress filter). */
void xpxe_vlan_stop(struct xpxe_dataplane *dp, struct xpxe_vlan_runtime *rt);

#endif /* XPXE_VLAN_SETUP_H */
