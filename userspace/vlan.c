// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "dataplane.h"
#include "dhcp.h"
#include "log.h"
#include "vlan.h"

/* tc_vlan_out's filter on clsact egress: its own handle beside tc_tftp's on ingress. */
#define XPXE_VLAN_TC_HANDLE 0x7871
#define XPXE_VLAN_TC_PRIO   1

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

/* Adds (NEW) or removes IFINDEX's address ADDR/PREFIX through rtnetlink. Returns 0 or -errno. */
static int addr_change(int ifindex, struct in_addr addr, unsigned int prefix, bool add)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req = { 0 };
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
		char more[256];
	} ack;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct rtattr *rta;
	int fd, err;
	ssize_t n;

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	req.ifa.ifa_family = AF_INET;
	req.ifa.ifa_prefixlen = (unsigned char)prefix;
	req.ifa.ifa_index = (unsigned int)ifindex;
	for (int type = IFA_LOCAL; type >= IFA_ADDRESS; type--) {
		rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = (unsigned short)type;
		rta->rta_len = RTA_LENGTH(sizeof(addr));
		memcpy(RTA_DATA(rta), &addr, sizeof(addr));
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	n = recv(fd, &ack, sizeof(ack), 0);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || ack.nh.nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ack.err.error;
}

/*
 * Turns receive VLAN offload off on IFNAME, so a NIC leaves the tags in the frame where XDP
 * reads them (with it on, drivers take the tag out before XDP runs, and XDP cannot read it
 * on the kernels xpxe supports). Returns what was done, for the log and status.
 */
static const char *rx_offload_off(const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GFLAGS };
	struct ifreq ifr = { 0 };
	const char *what;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return "unknown (no socket)";
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		what = "unknown (the driver does not say)";
	} else if (!(ev.data & ETH_FLAG_RXVLAN)) {
		what = "off";
	} else {
		ev.cmd = ETHTOOL_SFLAGS;
		ev.data &= ~(__u32)ETH_FLAG_RXVLAN;
		what = ioctl(fd, SIOCETHTOOL, &ifr) ? "on (could not be turned off)"
						    : "off (turned off by xpxe)";
	}
	close(fd);
	return what;
}

static int attach_egress(struct xpxe_dataplane *dp)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dp->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XPXE_VLAN_TC_HANDLE, .priority = XPXE_VLAN_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(dp->skel->progs.tc_vlan_out));
	int err;

	/* The clsact qdisc is there already (tc_tftp's): libbpf's warning about it is noise. */
	xpxe_log_hold_library_warnings();
	err = bpf_tc_hook_create(&hook);
	xpxe_log_release_library_warnings(err && err != -EEXIST);
	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

int xpxe_vlan_start(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
		    struct xpxe_vlan_runtime *rt)
{
	char name[16], ip[INET_ADDRSTRLEN];
	int err;

	memset(rt, 0, sizeof(*rt));
	if (!s->n_vlans || strcmp(dp->ifname, s->vlan_ifname))
		return 0;
	rt->offload = rx_offload_off(dp->ifname);
	log_info("%s: trunk of %d VLAN(s); rx-vlan-offload %s", dp->ifname, s->n_vlans,
		 rt->offload);
	if (!strncmp(rt->offload, "on", 2))
		log_warn("%s: with receive VLAN offload on, the driver takes tags out before XDP: "
			 "tagged requests will not be answered",
			 dp->ifname);
	err = attach_egress(dp);
	if (err) {
		log_error("%s: cannot attach tc_vlan_out on tc egress: %s", dp->ifname,
			  strerror(-err));
		return err;
	}
	rt->egress = true;
	for (int i = 0; i < s->n_vlans; i++) {
		const struct xpxe_vlan_cfg *v = &s->vlans[i];

		xpxe_vlan_name(v, name, sizeof(name));
		inet_ntop(AF_INET, &v->server_ip, ip, sizeof(ip));
		err = addr_change(dp->ifindex, v->server_ip, v->prefix, true);
		if (err && err != -EEXIST) {
			log_error("%s: VLAN %s: cannot add the address %s/%u: %s", dp->ifname, name,
				  ip, v->prefix, strerror(-err));
			xpxe_vlan_stop(dp, rt);
			return err;
		}
		rt->addrs[rt->n] = v->server_ip;
		rt->prefixes[rt->n] = (unsigned char)v->prefix;
		rt->added[rt->n] = !err;
		rt->n++;
		log_info("%s: VLAN %s: %s/%u on the trunk%s", dp->ifname, name, ip, v->prefix,
			 err ? " (already there)" : "");
	}
	return 0;
}

void xpxe_vlan_stop(struct xpxe_dataplane *dp, struct xpxe_vlan_runtime *rt)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dp->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XPXE_VLAN_TC_HANDLE,
		    .priority = XPXE_VLAN_TC_PRIO);

	for (int i = 0; i < rt->n; i++)
		if (rt->added[i])
			addr_change(dp->ifindex, rt->addrs[i], rt->prefixes[i], false);
	if (rt->egress)
		bpf_tc_detach(&hook, &opts);
	rt->n = 0;
	rt->egress = false;
}
