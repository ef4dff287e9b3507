// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <string.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netif.h"

bool xpxe_ifname_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return false;
	return true;
}

bool xpxe_route4_has_default(FILE *routes, const char *ifname)
{
	char line[512], dev[IFNAMSIZ + 1];
	unsigned long dest, gateway, flags, refcnt, use, metric, mask;

	if (!fgets(line, sizeof(line), routes)) /* header */
		return false;
	while (fgets(line, sizeof(line), routes)) {
		if (sscanf(line, "%16s %lx %lx %lx %lu %lu %lu %lx", dev, &dest, &gateway, &flags,
			   &refcnt, &use, &metric, &mask) != 8)
			continue;
		if (dest == 0 && mask == 0 && !strcmp(dev, ifname))
			return true;
	}
	return false;
}

int xpxe_route4_networks(FILE *routes, const char *ifname, struct in_addr *nets,
			 struct in_addr *masks, int max)
{
	char line[512], dev[IFNAMSIZ + 1];
	unsigned long dest, gateway, flags, refcnt, use, metric, mask;
	int n = 0;

	if (!fgets(line, sizeof(line), routes)) /* header */
		return 0;
	/* The file holds addresses as the kernel stores them: network order, printed as one
	 * native-endian number. */
	while (n < max && fgets(line, sizeof(line), routes)) {
		if (sscanf(line, "%16s %lx %lx %lx %lu %lu %lu %lx", dev, &dest, &gateway, &flags,
			   &refcnt, &use, &metric, &mask) != 8 ||
		    !mask || strcmp(dev, ifname))
			continue;
		nets[n].s_addr = (in_addr_t)dest;
		masks[n++].s_addr = (in_addr_t)mask;
	}
	return n;
}

bool xpxe_route6_has_default(FILE *routes, const char *ifname)
{
	char line[512], dest[33], src[33], next[33], dev[IFNAMSIZ + 1];
	unsigned int dest_len, src_len;
	unsigned long metric, refcnt, use, flags;

	/* RTF_REJECT entries (the kernel's unreachable default on lo) carry no traffic. */
	while (fgets(line, sizeof(line), routes)) {
		if (sscanf(line, "%32s %x %32s %x %32s %lx %lx %lx %lx %16s", dest, &dest_len, src,
			   &src_len, next, &metric, &refcnt, &use, &flags, dev) != 10)
			continue;
		if (dest_len == 0 && !(flags & 0x0200) && !strcmp(dev, ifname))
			return true;
	}
	return false;
}

bool xpxe_netif_carries_default_route(const char *ifname)
{
	bool found = false;
	FILE *f;

	f = fopen("/proc/net/route", "r");
	if (f) {
		found = xpxe_route4_has_default(f, ifname);
		fclose(f);
	}
	if (found)
		return true;
	f = fopen("/proc/net/ipv6_route", "r");
	if (f) {
		found = xpxe_route6_has_default(f, ifname);
		fclose(f);
	}
	return found;
}

unsigned xpxe_netif_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned mtu = 1500;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && !ioctl(fd, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	if (fd >= 0)
		close(fd);
	return mtu;
}
