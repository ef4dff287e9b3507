/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_DHCP6_SETUP_H
#define XPXE_DHCP6_SETUP_H

#include <stdbool.h>
#include <netinet/in.h>

#include "xpxe_dhcp6.h"
#include "dhcp/template.h"

struct xpxe_dhcp_settings;
struct xpxe_dataplane;
struct xpxe_bpf;

/* The facts every DHCPv6 answer carries. */
struct xpxe_dhcp6_net {
	unsigned char server_mac[6];
	struct in6_addr server_ll;   /* the source of answers to ff02::1:2 */
	struct in6_addr server_addr; /* global or ULA: the host of every URL */
	__u8 duid[XPXE_DHCP6_SERVER_DUID_MAX];
	unsigned int duid_len;
	/* The interface has an address in the pool6's /64: its link's, not a relayed link's. */
	bool pool_on_link;
};

/*
 * The options after the client id that class BOOT of profile P gets (server
 * id, vendor class, option 59) into R; len 0 when the class boots nothing
 * over IPv6. -ENAMETOOLONG when the URL does not fit.
 */
int xpxe_dhcp6_reply_build(struct xpxe_dhcp6_reply *r, enum xpxe_boot_class boot,
			   const struct xpxe_dhcp_profile *p, const struct xpxe_dhcp6_net *net);

/*
 * The boot URL of FILE (a TFTP file name, or an http(s):// URL whose host is
 * replaced) on ADDR, into OUT: tftp://[ADDR]/FILE or http://[ADDR]:PORT/PATH.
 */
int xpxe_dhcp6_url(char *out, size_t size, const char *file, const struct in6_addr *addr);

/*
 * This server's DUID, kept in PATH: read, or made once (DUID-LLT of MAC and
 * the time) and written there atomically. Returns 0 or -errno.
 */
int xpxe_dhcp6_server_duid(const char *path, const unsigned char mac[6], __u8 *duid,
			   unsigned int *len);

/* Fills dhcp6_replies for every profile of S, then dhcp6_config (NET NULL: answering off). */
int xpxe_dhcp6_load_maps(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *s,
			 const struct xpxe_dhcp6_net *net);

/* IFNAME's first global or unique local IPv6 address; -EADDRNOTAVAIL when it has none. */
int xpxe_interface_ipv6(const char *ifname, struct in6_addr *addr);

/*
 * Answers DHCPv6 boot requests on DP when it has a global or ULA address
 * (proxy-like: the boot options only), else turns answering off. The server
 * DUID lives beside S's leases file.
 */
int xpxe_dhcp6_install(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
		       const unsigned char mac[6], const struct in6_addr *ll);

struct fy_node;
struct fy_document;

/* What `xpxe status` says of DHCPv6 on DP: mode (proxy or off), the URLs' address, the DUID. */
struct fy_node *xpxe_dhcp6_status(const struct xpxe_dataplane *dp, struct fy_document *doc);

#endif /* XPXE_DHCP6_SETUP_H */
