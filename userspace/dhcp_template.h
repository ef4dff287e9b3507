/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_DHCP_TEMPLATE_H
#define XPXE_DHCP_TEMPLATE_H

#include <stdbool.h>
#include <netinet/in.h>

#include "xpxe_dhcp.h"

/* How a proxy hands a PXE ROM its boot file (PROTOCOL.md, ProxyDHCP). */
enum xpxe_proxy_strategy {
	XPXE_STRATEGY_AUTO = 0, /* UEFI classes: 4011 (as dnsmasq steers them); others: bypass */
	XPXE_STRATEGY_BYPASS,	/* boot file in the OFFER, option 43 discovery control 8 */
	XPXE_STRATEGY_4011,	/* OFFER without a boot file; the boot file in the ACK on 4011 */
};

/* A boot file name or URL, with its NUL; a DHCP option holds at most 255 bytes. */
#define XPXE_BOOT_FILE_MAX 256

/* What one profile boots: a file name (TFTP) or a URL (HTTP) per class; "": nothing. */
struct xpxe_dhcp_profile {
	char boot_file[XPXE_BOOT_MAX][XPXE_BOOT_FILE_MAX];
	enum xpxe_proxy_strategy strategy;
};

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

/* Names of the classes as flags and status print them ("bios", "uefi-x64", ...). */
extern const char *const xpxe_boot_class_names[XPXE_BOOT_MAX];

/* The class named NAME, or -1. */
int xpxe_boot_class_from_name(const char *name);

#endif /* XPXE_DHCP_TEMPLATE_H */
