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
#include "log.h"
#include "vlan.h"

/* tc_vlan_out's filter on clsact egress: its own handle beside tc_tftp's on ingress. */
#define XPXE_VLAN_TC_HANDLE 0x7871
#define XPXE_VLAN_TC_PRIO   1

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

/*
 * IFNAME's ethtool feature NAME through FD (an AF_INET socket): ETHTOOL_GSSET_INFO and
 * ETHTOOL_GSTRINGS find its bit among the kernel's feature names, ETHTOOL_GFEATURES reads
 * it. Returns 1 (on), 0 (off) or -1 (the driver or kernel does not say), and sets *BIT and
 * *WORDS (the feature blocks) for feature_set.
 */
static int feature_get(int fd, const char *ifname, const char *name, __u32 *bit, __u32 *words)
{
	struct ethtool_sset_info *info = calloc(1, sizeof(*info) + sizeof(__u32));
	struct ethtool_gstrings *names = NULL;
	struct ethtool_gfeatures *feat = NULL;
	struct ifreq ifr = { 0 };
	__u32 n;
	int on = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!info)
		return -1;
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	ifr.ifr_data = (void *)info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) || !(info->sset_mask & (1ULL << ETH_SS_FEATURES)))
		goto out;
	n = info->data[0];
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	if (!names)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_FEATURES;
	names->len = n;
	ifr.ifr_data = (void *)names;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;
	for (*bit = 0; *bit < names->len; (*bit)++)
		if (!strncmp((const char *)names->data + (size_t)*bit * ETH_GSTRING_LEN, name,
			     ETH_GSTRING_LEN))
			break;
	if (*bit == names->len)
		goto out; /* a kernel without it */
	*words = (n + 31) / 32;
	feat = calloc(1, sizeof(*feat) + *words * sizeof(feat->features[0]));
	if (!feat)
		goto out;
	feat->cmd = ETHTOOL_GFEATURES;
	feat->size = *words;
	ifr.ifr_data = (void *)feat;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		on = !!(feat->features[*bit / 32].active & (1u << (*bit % 32)));
out:
	free(feat);
	free(names);
	free(info);
	return on;
}

/* Asks (ETHTOOL_SFEATURES) for feature BIT of IFNAME (WORDS blocks, from feature_get) off. */
static void feature_off(int fd, const char *ifname, __u32 bit, __u32 words)
{
	struct ethtool_sfeatures *feat =
	    calloc(1, sizeof(*feat) + words * sizeof(feat->features[0]));
	struct ifreq ifr = { 0 };

	if (!feat)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	feat->cmd = ETHTOOL_SFEATURES;
	feat->size = words;
	feat->features[bit / 32].valid = 1u << (bit % 32); /* requested: 0, off */
	ifr.ifr_data = (void *)feat;
	/* Its answer may be a partial success: what counts is the feature read back after. */
	(void)ioctl(fd, SIOCETHTOOL, &ifr);
	free(feat);
}

/*
 * Turns receive parsing of 802.1ad service tags off on IFNAME (rx-vlan-stag-hw-parse, which
 * rxvlan leaves alone): with it on, a NIC takes an OUTER.VID VLAN's outer tag out of the
 * frame before XDP runs, as rxvlan does an 802.1Q one. Returns what was done, for the log and
 * status.
 */
static const char *rx_stag_offload_off(const char *ifname)
{
	const char *what;
	__u32 bit = 0, words = 0;
	int on, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return "unknown (no socket)";
	on = feature_get(fd, ifname, "rx-vlan-stag-hw-parse", &bit, &words);
	if (on < 0) {
		what = "unknown (the driver does not say)";
	} else if (!on) {
		what = "off";
	} else {
		feature_off(fd, ifname, bit, words);
		what = feature_get(fd, ifname, "rx-vlan-stag-hw-parse", &bit, &words) == 0
			   ? "off (turned off by xpxe)"
			   : "on (could not be turned off)";
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
	rt->stag_offload = rx_stag_offload_off(dp->ifname);
	log_info("%s: trunk of %d VLAN(s); rx-vlan-offload %s; rx-vlan-stag-hw-parse %s",
		 dp->ifname, s->n_vlans, rt->offload, rt->stag_offload);
	if (!strncmp(rt->offload, "on", 2))
		log_warn("%s: with receive VLAN offload on, the driver takes tags out before XDP: "
			 "tagged requests will not be answered",
			 dp->ifname);
	if (!strncmp(rt->stag_offload, "on", 2))
		log_warn("%s: with rx-vlan-stag-hw-parse on, the driver takes 802.1ad tags out "
			 "before XDP: requests on double-tagged VLANs will not be answered",
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
		/*
		 * Already there on a data plane this daemon adopted: the previous daemon's,
		 * left for the handover (--keep-attached), so this one removes it at its stop.
		 */
		rt->added[rt->n] = !err || dp->adopted;
		rt->n++;
		log_info(
		    "%s: VLAN %s: %s/%u on the trunk%s", dp->ifname, name, ip, v->prefix,
		    err ? (dp->adopted ? " (kept from the previous daemon)" : " (already there)")
			: "");
	}
	return 0;
}

/* Whether S has a VLAN with server address ADDR/PREFIX. */
static bool vlan_has(const struct xpxe_dhcp_settings *s, struct in_addr addr, unsigned prefix)
{
	for (int i = 0; i < s->n_vlans; i++)
		if (s->vlans[i].server_ip.s_addr == addr.s_addr && s->vlans[i].prefix == prefix)
			return true;
	return false;
}

void xpxe_vlan_read_left(struct xpxe_dataplane *dp, struct xpxe_vlan_left *left)
{
	int fd = bpf_map__fd(dp->skel->maps.vlan_by_addr);
	__be32 key, next, *prev = NULL;
	struct xpxe_vlan v;

	left->n = 0;
	if (!dp->adopted)
		return;
	while (left->n < XPXE_VLAN_MAX && !bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &v)) {
			left->addrs[left->n].s_addr = v.server_ip;
			left->prefixes[left->n++] = v.prefix;
		}
		key = next;
		prev = &key;
	}
}

void xpxe_vlan_drop_left(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
			 const struct xpxe_vlan_left *left)
{
	bool trunk = s->n_vlans && !strcmp(dp->ifname, s->vlan_ifname);
	char ip[INET_ADDRSTRLEN];

	for (int i = 0; i < left->n; i++) {
		if (trunk && vlan_has(s, left->addrs[i], left->prefixes[i]))
			continue;
		inet_ntop(AF_INET, &left->addrs[i], ip, sizeof(ip));
		if (!addr_change(dp->ifindex, left->addrs[i], left->prefixes[i], false))
			log_info("%s: %s/%u off the trunk (the previous daemon's VLAN, no longer "
				 "configured)",
				 dp->ifname, ip, left->prefixes[i]);
	}
}

int xpxe_vlan_update(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
		     struct xpxe_vlan_runtime *rt)
{
	bool trunk = s->n_vlans && !strcmp(dp->ifname, s->vlan_ifname);
	char ip[INET_ADDRSTRLEN];
	int err;

	if (!rt->egress)
		return trunk ? xpxe_vlan_start(dp, s, rt) : 0;
	if (!trunk) {
		log_info("%s: no VLAN left: their addresses and tc_vlan_out go", dp->ifname);
		xpxe_vlan_stop(dp, rt);
		return 0;
	}
	for (int i = rt->n - 1; i >= 0; i--) {
		if (vlan_has(s, rt->addrs[i], rt->prefixes[i]))
			continue;
		inet_ntop(AF_INET, &rt->addrs[i], ip, sizeof(ip));
		if (rt->added[i])
			addr_change(dp->ifindex, rt->addrs[i], rt->prefixes[i], false);
		log_info("%s: %s/%u %s the trunk (its VLAN is no longer configured)", dp->ifname,
			 ip, rt->prefixes[i], rt->added[i] ? "off" : "left on (not xpxe's)");
		rt->n--;
		rt->addrs[i] = rt->addrs[rt->n];
		rt->prefixes[i] = rt->prefixes[rt->n];
		rt->added[i] = rt->added[rt->n];
	}
	for (int i = 0; i < s->n_vlans; i++) {
		const struct xpxe_vlan_cfg *v = &s->vlans[i];
		bool there = false;

		for (int j = 0; j < rt->n && !there; j++)
			there = rt->addrs[j].s_addr == v->server_ip.s_addr &&
				rt->prefixes[j] == v->prefix;
		if (there || rt->n == XPXE_VLAN_MAX)
			continue;
		inet_ntop(AF_INET, &v->server_ip, ip, sizeof(ip));
		err = addr_change(dp->ifindex, v->server_ip, v->prefix, true);
		if (err && err != -EEXIST) {
			log_error("%s: cannot add the address %s/%u: %s", dp->ifname, ip, v->prefix,
				  strerror(-err));
			return err;
		}
		rt->addrs[rt->n] = v->server_ip;
		rt->prefixes[rt->n] = (unsigned char)v->prefix;
		rt->added[rt->n++] = !err;
		log_info("%s: %s/%u on the trunk (a VLAN the reload added)%s", dp->ifname, ip,
			 v->prefix, err ? " (already there)" : "");
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
