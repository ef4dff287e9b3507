/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * VLANs on a trunk (`--vlan VID=ADDR/PREFIX`, `vlans:` of an interface): parsing them, and the
 * maps that make xdp_pxe answer on them (bpf/vlan.h).
 */
#ifndef XPXE_VLAN_SETUP_H
#define XPXE_VLAN_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <linux/types.h>

#include "xpxe_vlan.h"

struct xpxe_bpf;
struct xpxe_dhcp_settings;
struct xpxe_dhcp_net;

struct xpxe_vlan_cfg {
	unsigned int vid;	/* 1..4094 */
	unsigned int outer_vid; /* 0: one 802.1Q tag; else the 802.1ad outer tag's VID */
	struct in_addr server_ip;
	unsigned int prefix; /* 8..30 */
};

/* What messages show as the spelling of a VLAN. */
#define XPXE_VLAN_SPELLING "VID=ADDR/PREFIX (e.g. 10=198.18.10.1/24; OUTER.VID=... for 802.1ad)"

/*
 * Parses "VID=ADDR/PREFIX" or "OUTER.VID=ADDR/PREFIX" into V. Returns 0, or -EINVAL with
 * *WHY saying what is wrong.
 */
int xpxe_vlan_parse(const char *text, struct xpxe_vlan_cfg *v, const char **why);

/*
 * Checks VLANS (N of them) against each other and the untagged network's address UNTAGGED:
 * no tag twice, no address twice. Returns 0, or -EINVAL with *WHY set and *AT the index of
 * the offending VLAN.
 */
int xpxe_vlans_check(const struct xpxe_vlan_cfg *vlans, int n, struct in_addr untagged,
		     const char **why, int *at);

/* The VLAN of S's trunk IFNAME whose subnet holds IP, or NULL. */
const struct xpxe_vlan_cfg *xpxe_vlan_of_ip(const struct xpxe_dhcp_settings *s, const char *ifname,
					    struct in_addr ip);

/* "10" or "100.10": the tag(s) of V, for logs and status. */
void xpxe_vlan_name(const struct xpxe_vlan_cfg *v, char *buf, size_t size);

/*
 * Fills SKEL's maps for V, numbered NETNO (1..XPXE_VLAN_MAX): its reply templates (S's
 * profiles, with V's server address and its HTTP base), its dhcp_config entry, then the tag
 * and address lookups that make xdp_pxe and tc answer on it. NET: the trunk's untagged
 * network (its MAC, lease time). Returns 0 or -errno.
 */
int xpxe_vlan_load_maps(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *s,
			const struct xpxe_dhcp_net *net, const struct xpxe_vlan_cfg *v,
			__u32 netno);

/* Writes BASE with its host replaced by ADDR: "http://198.18.0.1:8080" -> "http://ADDR:8080". */
void xpxe_vlan_http_base(const char *base, struct in_addr addr, char *out, size_t size);

struct xpxe_dataplane;

/* What xpxe_vlan_start changed on the trunk, so that xpxe_vlan_stop undoes only that. */
struct xpxe_vlan_runtime {
	int n;				     /* VLANs started */
	struct in_addr addrs[XPXE_VLAN_MAX]; /* their server addresses */
	unsigned char prefixes[XPXE_VLAN_MAX];
	bool added[XPXE_VLAN_MAX]; /* the address was not on the trunk before */
	bool egress;		   /* tc_vlan_out attached on clsact egress */
	const char *offload;	   /* what was done to rx-vlan-offload, for status */
};

/*
 * Makes DP's interface a trunk for S's VLANs: rx VLAN offload off (so XDP sees the tags in
 * the frame), each VLAN's server address on it (the kernel answers ARP, TFTP requests, HTTP
 * there), and tc_vlan_out on clsact egress (tags what leaves from those addresses). Nothing
 * when S has no VLANs. Returns 0, or -errno after logging why.
 */
int xpxe_vlan_start(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
		    struct xpxe_vlan_runtime *rt);

/* Undoes what xpxe_vlan_start did (addresses it added, its egress filter). */
void xpxe_vlan_stop(struct xpxe_dataplane *dp, struct xpxe_vlan_runtime *rt);

#endif /* XPXE_VLAN_SETUP_H */
