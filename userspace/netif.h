/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_NETIF_H
#define XPXE_NETIF_H

#include <stdbool.h>
#include <stdio.h>
#include <netinet/in.h>

/* True when NAME can be an interface name (1..15 bytes, no '/', no whitespace, not . or ..). */
bool xpxe_ifname_valid(const char *name);

/*
 * True when the routing table text in ROUTES (the format of /proc/net/route)
 * has a default route (destination and mask 0) through IFNAME.
 */
bool xpxe_route4_has_default(FILE *routes, const char *ifname);

/* The same for /proc/net/ipv6_route: destination ::/0 through IFNAME. */
bool xpxe_route6_has_default(FILE *routes, const char *ifname);

/*
 * The networks the routing table text ROUTES (/proc/net/route) sends through IFNAME,
 * the default route left out: at most MAX into NETS and MASKS; returns how many.
 */
int xpxe_route4_networks(FILE *routes, const char *ifname, struct in_addr *nets,
			 struct in_addr *masks, int max);

/* IFNAME's MTU (SIOCGIFMTU); 1500 when it cannot be read. */
unsigned xpxe_netif_mtu(const char *ifname);

/* Checks this network namespace's IPv4 and IPv6 tables. */
bool xpxe_netif_carries_default_route(const char *ifname);

#endif /* XPXE_NETIF_H */
