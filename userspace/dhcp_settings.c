// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The DHCP settings' defaults, the boot classes' names and the parsers of dhcp_settings.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp_settings.h"

const char *const xpxe_boot_class_names[XPXE_BOOT_MAX] = {
	[XPXE_BOOT_PLAIN] = "plain",
	[XPXE_BOOT_BIOS] = "bios",
	[XPXE_BOOT_UEFI_IA32] = "uefi-ia32",
	[XPXE_BOOT_UEFI_X64] = "uefi-x64",
	[XPXE_BOOT_UEFI_ARM32] = "uefi-arm32",
	[XPXE_BOOT_UEFI_ARM64] = "uefi-arm64",
	[XPXE_BOOT_HTTP_IA32] = "http-ia32",
	[XPXE_BOOT_HTTP_X64] = "http-x64",
	[XPXE_BOOT_HTTP_ARM32] = "http-arm32",
	[XPXE_BOOT_HTTP_ARM64] = "http-arm64",
	[XPXE_BOOT_UBOOT_ARM64] = "uboot-arm64",
	[XPXE_BOOT_RPI] = "rpi",
	[XPXE_BOOT_IPXE] = "ipxe",
	[XPXE_BOOT_UNKNOWN_ARCH] = "unknown-arch",
};

int xpxe_boot_class_from_name(const char *name)
{
	for (int i = 0; i < XPXE_BOOT_MAX; i++)
		if (!strcmp(xpxe_boot_class_names[i], name))
			return i;
	return -1;
}

void xpxe_dhcp_settings_default(struct xpxe_dhcp_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->enabled = true;
	s->mode = XPXE_MODE_PROXY;
	s->answer_unknown = true;
	s->default_profile = 0;
	s->lease_time = 3600;
	s->offer_hold = XPXE_DHCP_OFFER_HOLD;
	s->mac_rate = XPXE_DHCP_MAC_RATE;
	s->mac_burst = XPXE_DHCP_MAC_BURST;
	s->global_rate = XPXE_DHCP_GLOBAL_RATE;
	s->global_burst = XPXE_DHCP_GLOBAL_BURST;
	s->relay_rate = XPXE_DHCP6_RELAY_RATE;
	s->relay_burst = XPXE_DHCP6_RELAY_BURST;
	s->profile.strategy = XPXE_STRATEGY_AUTO;
	/* Debian's ipxe package: undionly.kpxe chains from a BIOS ROM, snponly.efi from UEFI. */
	snprintf(s->profile.boot_file[XPXE_BOOT_BIOS], XPXE_BOOT_FILE_MAX, "undionly.kpxe");
	snprintf(s->profile.boot_file[XPXE_BOOT_UEFI_X64], XPXE_BOOT_FILE_MAX, "snponly.efi");
}

int xpxe_parse_rate(const char *text, unsigned int *rate, unsigned int *burst)
{
	char *end;
	unsigned long r = strtoul(text, &end, 10), b;

	if (end == text || *text == '-' || r > 10000000)
		return -EINVAL;
	b = r ? r : 1;
	if (*end == '/') {
		const char *at = end + 1;

		b = strtoul(at, &end, 10);
		if (end == at || *at == '-' || !b || b > 10000000)
			return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*rate = (unsigned int)r;
	*burst = (unsigned int)b;
	return 0;
}

int xpxe_parse_mac(const char *text, unsigned char mac[6])
{
	char hex[13];
	size_t len = strlen(text), n = 0;
	int group; /* hex digits between separators: 2 (: or -), 4 (Cisco's .), 12 (none) */
	char sep = 0;

	if (len == 17 && (text[2] == ':' || text[2] == '-'))
		group = 2, sep = text[2];
	else if (len == 14 && text[4] == '.')
		group = 4, sep = '.';
	else if (len == 12)
		group = 12;
	else
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		/* A separator after every GROUP digits, and nowhere else. */
		if (sep && i % (group + 1) == (size_t)group) {
			if (text[i] != sep)
				return -EINVAL;
			continue;
		}
		if (!isxdigit((unsigned char)text[i]))
			return -EINVAL;
		hex[n++] = text[i];
	}
	for (int i = 0; i < 6; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };

		mac[i] = (unsigned char)strtoul(byte, NULL, 16);
	}
	return 0;
}

const char *xpxe_pool_problem(struct in_addr first, struct in_addr last)
{
	if (ntohl(last.s_addr) < ntohl(first.s_addr))
		return "its first address comes after its last (write it FIRST-LAST, low to high)";
	if (ntohl(last.s_addr) - ntohl(first.s_addr) >= 65536)
		return "more than 65536 addresses";
	return NULL;
}

const char *xpxe_pool6_problem(const struct in6_addr *first, const struct in6_addr *last)
{
	uint64_t lo_first = 0, lo_last = 0;

	if (memcmp(first->s6_addr, last->s6_addr, 8))
		return "its two ends are not in the same /64";
	if (IN6_IS_ADDR_MULTICAST(first) || IN6_IS_ADDR_LINKLOCAL(first) ||
	    IN6_IS_ADDR_UNSPECIFIED(first) || IN6_IS_ADDR_LOOPBACK(first))
		return "not a unicast global or unique local (fc00::/7) range";
	for (int i = 8; i < 16; i++) {
		lo_first = lo_first << 8 | first->s6_addr[i];
		lo_last = lo_last << 8 | last->s6_addr[i];
	}
	if (lo_last < lo_first)
		return "its first address comes after its last (write it FIRST-LAST, low to high)";
	if (lo_last - lo_first >= 65536)
		return "more than 65536 addresses";
	return NULL;
}

int xpxe_pool6_parse(const char *text, struct in6_addr *first, struct in6_addr *last,
		     const char **why)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *dash = strchr(text, '-');

	*why = "takes FIRST-LAST (two IPv6 addresses)";
	if (!dash || dash - text >= (long)sizeof(a))
		return -EINVAL;
	snprintf(a, sizeof(a), "%.*s", (int)(dash - text), text);
	if (inet_pton(AF_INET6, a, first) != 1 || inet_pton(AF_INET6, dash + 1, last) != 1)
		return -EINVAL;
	*why = xpxe_pool6_problem(first, last);
	return *why ? -EINVAL : 0;
}

static int parse_vid_part(const char *s, const char *end, unsigned int max, unsigned int *out)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

int xpxe_vlan_parse(const char *text, struct xpxe_vlan_cfg *v, const char **why)
{
	const char *eq = strchr(text, '='), *dot, *slash, *comma, *dash;
	char addr[INET_ADDRSTRLEN];
	in_addr_t mask;

	memset(v, 0, sizeof(*v));
	if (!eq) {
		*why = "no '=' (expected " XPXE_VLAN_SPELLING ")";
		return -EINVAL;
	}
	dot = memchr(text, '.', (size_t)(eq - text));
	if (dot && (parse_vid_part(text, dot, XPXE_VID_MAX, &v->outer_vid) || !v->outer_vid)) {
		*why = "the outer VID is not a number from 1 to 4094";
		return -EINVAL;
	}
	if (parse_vid_part(dot ? dot + 1 : text, eq, XPXE_VID_MAX, &v->vid) || !v->vid) {
		*why = "the VID is not a number from 1 to 4094";
		return -EINVAL;
	}
	slash = strchr(eq + 1, '/');
	if (!slash) {
		*why = "no /PREFIX after the address (expected " XPXE_VLAN_SPELLING ")";
		return -EINVAL;
	}
	if ((size_t)(slash - eq - 1) >= sizeof(addr)) {
		*why = "the address is not an IPv4 address";
		return -EINVAL;
	}
	memcpy(addr, eq + 1, (size_t)(slash - eq - 1));
	addr[slash - eq - 1] = '\0';
	if (inet_pton(AF_INET, addr, &v->server_ip) != 1) {
		*why = "the address is not an IPv4 address";
		return -EINVAL;
	}
	comma = strchr(slash + 1, ',');
	if (parse_vid_part(slash + 1, comma ? comma : slash + 1 + strlen(slash + 1), 30,
			   &v->prefix) ||
	    v->prefix < 8) {
		*why = "the prefix is not a number from 8 to 30";
		return -EINVAL;
	}
	if (!comma)
		return 0;
	/* ",pool=FIRST-LAST": addresses for the VLAN's machines without a reservation. */
	dash = strncmp(comma, ",pool=", 6) ? NULL : strchr(comma + 6, '-');
	if (!dash || (size_t)(dash - comma - 6) >= sizeof(addr)) {
		*why = "after the prefix only ,pool=FIRST-LAST may follow";
		return -EINVAL;
	}
	memcpy(addr, comma + 6, (size_t)(dash - comma - 6));
	addr[dash - comma - 6] = '\0';
	if (inet_pton(AF_INET, addr, &v->pool_first) != 1 ||
	    inet_pton(AF_INET, dash + 1, &v->pool_last) != 1) {
		*why = "the pool is not FIRST-LAST (two IPv4 addresses)";
		return -EINVAL;
	}
	mask = htonl(~0u << (32 - v->prefix));
	if ((v->pool_first.s_addr & mask) != (v->server_ip.s_addr & mask) ||
	    (v->pool_last.s_addr & mask) != (v->server_ip.s_addr & mask)) {
		*why = "the pool is not inside the VLAN's subnet";
		return -EINVAL;
	}
	if (ntohl(v->server_ip.s_addr) >= ntohl(v->pool_first.s_addr) &&
	    ntohl(v->server_ip.s_addr) <= ntohl(v->pool_last.s_addr)) {
		*why = "the pool holds the VLAN's own address";
		return -EINVAL;
	}
	if ((*why = xpxe_pool_problem(v->pool_first, v->pool_last)))
		return -EINVAL;
	return 0;
}

int xpxe_vlans_check(const struct xpxe_vlan_cfg *vlans, int n, struct in_addr untagged,
		     const char **why, int *at)
{
	if (n > XPXE_VLAN_MAX) {
		*why = "more VLANs than xpxe serves on one interface (64)";
		*at = XPXE_VLAN_MAX;
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		if (untagged.s_addr && vlans[i].server_ip.s_addr == untagged.s_addr) {
			*why = "the VLAN's address is the untagged network's server address";
			*at = i;
			return -EINVAL;
		}
		for (int j = 0; j < i; j++) {
			if (vlans[j].vid == vlans[i].vid &&
			    vlans[j].outer_vid == vlans[i].outer_vid) {
				*why = "this VLAN is configured twice";
				*at = i;
				return -EINVAL;
			}
			if (vlans[j].server_ip.s_addr == vlans[i].server_ip.s_addr) {
				*why = "two VLANs have the same server address";
				*at = i;
				return -EINVAL;
			}
		}
	}
	return 0;
}

const struct xpxe_vlan_cfg *xpxe_vlan_of_ip(const struct xpxe_dhcp_settings *s, const char *ifname,
					    struct in_addr ip)
{
	if (!ip.s_addr || strcmp(ifname, s->vlan_ifname))
		return NULL;
	for (int i = 0; i < s->n_vlans; i++) {
		in_addr_t mask = htonl(~0u << (32 - s->vlans[i].prefix));

		if ((ip.s_addr & mask) == (s->vlans[i].server_ip.s_addr & mask))
			return &s->vlans[i];
	}
	return NULL;
}

unsigned int xpxe_net_of_ip(const struct xpxe_dhcp_settings *s, const char *ifname,
			    struct in_addr ip)
{
	const struct xpxe_vlan_cfg *v = xpxe_vlan_of_ip(s, ifname, ip);

	return v ? (unsigned int)(v - s->vlans) + 1 : 0;
}

void xpxe_vlan_name(const struct xpxe_vlan_cfg *v, char *buf, size_t size)
{
	if (v->outer_vid)
		snprintf(buf, size, "%u.%u", v->outer_vid, v->vid);
	else
		snprintf(buf, size, "%u", v->vid);
}
