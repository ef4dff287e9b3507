// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "xpxe.skel.h"
#include "dhcp.h"
#include "vlan.h"

static int parse_uint(const char *s, const char *end, unsigned int max, unsigned int *out)
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
	const char *eq = strchr(text, '='), *dot, *slash;
	char addr[INET_ADDRSTRLEN];

	memset(v, 0, sizeof(*v));
	if (!eq) {
		*why = "no '=' (expected " XPXE_VLAN_SPELLING ")";
		return -EINVAL;
	}
	dot = memchr(text, '.', (size_t)(eq - text));
	if (dot && (parse_uint(text, dot, XPXE_VID_MAX, &v->outer_vid) || !v->outer_vid)) {
		*why = "the outer VID is not a number from 1 to 4094";
		return -EINVAL;
	}
	if (parse_uint(dot ? dot + 1 : text, eq, XPXE_VID_MAX, &v->vid) || !v->vid) {
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
	if (parse_uint(slash + 1, slash + 1 + strlen(slash + 1), 30, &v->prefix) || v->prefix < 8) {
		*why = "the prefix is not a number from 8 to 30";
		return -EINVAL;
	}
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

void xpxe_vlan_name(const struct xpxe_vlan_cfg *v, char *buf, size_t size)
{
	if (v->outer_vid)
		snprintf(buf, size, "%u.%u", v->outer_vid, v->vid);
	else
		snprintf(buf, size, "%u", v->vid);
}

void xpxe_vlan_http_base(const char *base, struct in_addr addr, char *out, size_t size)
{
	const char *host = strstr(base, "://"), *rest;
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, ip, sizeof(ip));
	if (!host) {
		snprintf(out, size, "http://%s:8080", ip);
		return;
	}
	host += 3;
	rest = host + strcspn(host, ":/");
	snprintf(out, size, "%.*s%s%s", (int)(host - base), base, ip, rest);
}

int xpxe_vlan_load_maps(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *s,
			const struct xpxe_dhcp_net *net, const struct xpxe_vlan_cfg *v, __u32 netno)
{
	struct xpxe_dhcp_settings *sv = malloc(sizeof(*sv));
	struct xpxe_dhcp_net nv = *net;
	struct xpxe_dhcp_config cfg;
	struct xpxe_vlan val = {
		.server_ip = v->server_ip.s_addr,
		.net = netno,
		.vid = (__u16)v->vid,
		.outer_vid = (__u16)v->outer_vid,
		.prefix = (__u8)v->prefix,
	};
	__u32 key = xpxe_vlan_key(v->outer_vid, v->vid);
	int err = 0;

	if (!sv)
		return -ENOMEM;
	if (!netno || netno > XPXE_VLAN_MAX) {
		free(sv);
		return -EINVAL;
	}
	/* The untagged network's settings, answering as this VLAN's address. */
	*sv = *s;
	sv->server_ip = v->server_ip;
	xpxe_vlan_http_base(s->http_base, v->server_ip, sv->http_base, sizeof(sv->http_base));
	xpxe_dhcp_profile_defaults(&sv->profile, sv->boot_file_set, sv->http_base);
	nv.server_ip = v->server_ip;
	nv.netmask.s_addr = htonl(~0u << (32 - v->prefix));
	/* The untagged network's router and DNS are not this VLAN's. */
	nv.router.s_addr = 0;
	nv.dns.s_addr = 0;
	if (s->enabled) {
		err = xpxe_dhcp_install_templates(bpf_map__fd(skel->maps.vlan_templates),
						  xpxe_vlan_template_key(netno, 0), sv, &nv);
		if (!err) {
			xpxe_dhcp_config_of(sv, &nv, &cfg);
			/* Router Advertisements are the untagged network's only (bpf/vlan.h). */
			cfg.flags &= ~XPXE_DHCP_F_ROUTER_ADVERT;
			if (bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_config), &netno, &cfg,
						BPF_ANY))
				err = -errno;
		}
	}
	/* Written last: xdp_pxe takes the VLAN's frames once everything it reads is there. */
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.vlan_by_addr), &val.server_ip, &val,
					BPF_ANY))
		err = -errno;
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.vlans), &key, &val, BPF_ANY))
		err = -errno;
	free(sv);
	return err;
}
