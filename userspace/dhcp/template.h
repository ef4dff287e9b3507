/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_DHCP_TEMPLATE_H
#define XPXE_DHCP_TEMPLATE_H

#include <stdbool.h>
#include <netinet/in.h>

#include "xpxe_dhcp.h"
#include "dhcp_settings.h"

/* The network facts every reply carries. */
struct xpxe_dhcp_net {
	enum xpxe_dhcp_mode mode;
	unsigned char server_mac[6];
	struct in_addr server_ip;
	struct in6_addr server_ll; /* the source of Router Advertisements */
	struct in_addr netmask;	   /* full mode: option 1 */
	struct in_addr router;	   /* full mode: option 3, omitted when 0 */
	struct in_addr dns;	   /* full mode: option 6, omitted when 0 */
	unsigned int lease_time;   /* full mode: option 51, seconds */
	char ifname[16];	   /* the interface: which network a reservation is on */
	bool local_server;	   /* proxy mode: a DHCP server here (XPXE_DHCP_F_LOCAL_SERVER) */
};

/*
 * Builds the template for (REPLY, BOOT) of PROFILE into T. A slot with nothing
 * to say (no boot file for the class, or a plain client in proxy mode) gets
 * len 0. Returns 0, or -ENAMETOOLONG when the boot file does not fit a reply.
 */
int xpxe_dhcp_template_build(struct xpxe_dhcp_template *t, enum xpxe_dhcp_reply reply,
			     enum xpxe_boot_class boot, const struct xpxe_dhcp_profile *profile,
			     const struct xpxe_dhcp_net *net);

/* The strategy actually used for BOOT under PROFILE (AUTO resolved; bypass for HTTP boot). */
enum xpxe_proxy_strategy xpxe_dhcp_strategy_for(const struct xpxe_dhcp_profile *profile,
						enum xpxe_boot_class boot);

#endif /* XPXE_DHCP_TEMPLATE_H */
