/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The DHCP folder's interface: what the rest of xpxe uses of it. The settings it works from
 * are dhcp_settings.h's (a leaf: config, boot and the store use them too); dhcp.c fills the
 * BPF maps from them (below), server.h the daemon's DHCP server (first
 * contact, bindings, the BPF maps), template.h the reply template the XDP program copies.
 * dhcp6.h the DHCPv6 boot answers (maps, server DUID, status).
 * leases.h is the server's own lease store and stays inside this folder (and its unit test).
 */
#ifndef XPXE_DHCP_FOLDER_H
#define XPXE_DHCP_FOLDER_H

#include "dhcp_settings.h"
#include "dhcp/server.h"
#include "dhcp/template.h"
#include "dhcp/dhcp6.h"
#include "dhcp/dhcp6_server.h"

/* Completes SETTINGS for IFNAME: server address, URLs. Logs and returns -errno on failure. */
int xpxe_dhcp_settings_resolve(struct xpxe_dhcp_settings *settings, const char *ifname);

struct xpxe_dataplane;
struct xpxe_bpf;

/* Fills the DHCP maps of SKEL: templates of profile 0, reservations, then dhcp_config. */
int xpxe_dhcp_load_maps(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *settings,
			const struct xpxe_dhcp_net *net);

/*
 * Fills SKEL's maps for V, numbered NETNO (1..XPXE_VLAN_MAX): its reply templates (S's
 * profiles, with V's server address and its HTTP base), its dhcp_config entry (zeroed when S
 * has DHCP off), then the tag and address lookups that make xdp_pxe and tc answer on it. NET:
 * the trunk's untagged network (its MAC, lease time). Returns 0 or -errno (-EINVAL, nothing
 * written, for a NETNO, VID or outer VID out of range).
 */
int xpxe_vlan_load_maps(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *s,
			const struct xpxe_dhcp_net *net, const struct xpxe_vlan_cfg *v,
			__u32 netno);

/*
 * Writes into OUT the queued request Q (untagged) with V's tags put back, the request's priority
 * bits (PCP, DEI: Q->tci) on them, as the daemon re-runs it. OUT holds Q->frame_len + 8 bytes;
 * Q->frame_len is 14 or more. Returns the bytes written.
 */
size_t xpxe_dhcp_queued_tagged(const struct xpxe_vlan_cfg *v, const struct xpxe_dhcp_queued *q,
			       unsigned char *out);

/*
 * The net (1..N_VLANS) of the VLAN in VLANS whose tags the queued request Q came with
 * (Q->tci: one 802.1Q tag, or an 802.1ad outer tag over an inner one), or 0 when none has
 * them. Q->net is the number of its VLAN when it was queued, which a reload may have given
 * another VLAN since.
 */
unsigned int xpxe_dhcp_queued_net(const struct xpxe_vlan_cfg *vlans, int n_vlans,
				  const struct xpxe_dhcp_queued *q);

/* Zeroes the VLAN slots (1..XPXE_VLAN_MAX) of SKEL's dhcp_config: no VLAN answered. */
void xpxe_vlan_clear_configs(struct xpxe_bpf *skel);

/*
 * Takes every VLAN out of SKEL's maps (vlans, vlan_vids, vlan_qinq, vlan_by_addr, their
 * dhcp_config slots, the template sets of nets past N_NEXT), as a reload does before it loads
 * the N_NEXT VLANs configured (xpxe_vlan_load_maps, nets 1..N_NEXT, DHCP on: each replaces its
 * net's set; 0 with DHCP off): no entry of a VLAN it removed stays behind.
 */
void xpxe_vlan_clear_maps(struct xpxe_bpf *skel, __u32 n_next);

/* Writes BASE with its host replaced by ADDR: "http://198.18.0.1:8080" -> "http://ADDR:8080". */
void xpxe_vlan_http_base(const char *base, struct in_addr addr, char *out, size_t size);

/*
 * Builds the templates of every profile of S for NET into FD: dhcp_templates, or a VLAN's own
 * array in vlan_templates (same layout).
 */
int xpxe_dhcp_install_templates(int fd, const struct xpxe_dhcp_settings *s,
				const struct xpxe_dhcp_net *net);

/* The dhcp_config entry of S (enabled) on NET. */
void xpxe_dhcp_config_of(const struct xpxe_dhcp_settings *s, const struct xpxe_dhcp_net *net,
			 struct xpxe_dhcp_config *cfg);

/* Builds every template and fills dhcp_config/dhcp_clients of DP; DHCP answering starts here. */
int xpxe_dhcp_install(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *settings);

/*
 * Puts machine M in DP's dhcp_clients: its profile, its reservation (full
 * mode), else the address the pool gave it. For a machine added at run time.
 */
int xpxe_dhcp_put_machine(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *settings,
			  const struct xpxe_machine_cfg *m);

/*
 * A DHCP server on this host (proxy mode, README "DHCP"): whether a UDP socket in this
 * network namespace is bound to port 67 (/proc/net/udp and udp6); whether S's data plane
 * treats one as there (dhcp.local_server, AUTO resolved by BOUND; never outside proxy mode);
 * the sentence the log and `xpxe status` say about it (ON: the answer of the last two).
 */
bool xpxe_dhcp_port67_bound(void);
bool xpxe_dhcp_local_server(const struct xpxe_dhcp_settings *s, bool bound);
const char *xpxe_dhcp_local_server_says(const struct xpxe_dhcp_settings *s, bool on);

/*
 * Sets (ON) or clears XPXE_DHCP_F_LOCAL_SERVER in SKEL's dhcp_config entry of the untagged
 * network: 1 when it changed, 0 when it was so, or -errno. The flag as the program reads it.
 */
int xpxe_dhcp_set_local_server(struct xpxe_bpf *skel, bool on);
bool xpxe_dhcp_local_server_flag(struct xpxe_bpf *skel);

/* Whether S answers Router Solicitations (router_advert resolved against the mode). */
bool xpxe_dhcp_router_advert(const struct xpxe_dhcp_settings *s);

/*
 * IFNAME's IPv6 link-local address, or, when it has none (IPv6 off on it),
 * the one the kernel would give it: fe80::/64 with the EUI-64 of MAC.
 */
void xpxe_interface_link_local(const char *ifname, const unsigned char mac[6], struct in6_addr *ll);

/* IFNAME's first IPv4 address and its mask; -EADDRNOTAVAIL when it has none. */
int xpxe_interface_ipv4(const char *ifname, struct in_addr *ip, struct in_addr *mask);

/* Fills the boot files a profile did not set that depend on the HTTP address (ipxe, http-x64). */
void xpxe_dhcp_profile_defaults(struct xpxe_dhcp_profile *p, const bool set[XPXE_BOOT_MAX],
				const char *http_base);

#endif
