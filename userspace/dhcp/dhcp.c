// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Puts the DHCP settings of an interface into its maps: templates, config, clients. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"

#include "boot/boot.h"
#include "dataplane.h"
#include "config.h"
#include "dhcp/dhcp.h"
#include "log.h"

/* A limit of RATE frames per second with BURST at once, as the program keeps it. */
static void rate_to_gcra(unsigned int rate, unsigned int burst, __u64 *interval, __u64 *tolerance)
{
	*interval = rate ? 1000000000ull / rate : 0;
	*tolerance = rate && burst > 1 ? (__u64)(burst - 1) * *interval : 0;
}

int xpxe_interface_ipv4(const char *ifname, struct in_addr *ip, struct in_addr *mask)
{
	struct ifaddrs *ifas, *ifa;
	int err = -EADDRNOTAVAIL;

	if (getifaddrs(&ifas))
		return -errno;
	for (ifa = ifas; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET ||
		    strcmp(ifa->ifa_name, ifname))
			continue;
		*ip = ((struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
		*mask = ((struct sockaddr_in *)ifa->ifa_netmask)->sin_addr;
		err = 0;
		break;
	}
	freeifaddrs(ifas);
	return err;
}

static int interface_mac(const char *ifname, unsigned char mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

bool xpxe_dhcp_router_advert(const struct xpxe_dhcp_settings *s)
{
	return s->router_advert == XPXE_RA_ON ||
	       (s->router_advert == XPXE_RA_AUTO && s->mode == XPXE_MODE_FULL);
}

void xpxe_interface_link_local(const char *ifname, const unsigned char mac[6], struct in6_addr *ll)
{
	struct ifaddrs *ifs, *ifa;

	if (!getifaddrs(&ifs)) {
		for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
			const struct sockaddr_in6 *a = (const void *)ifa->ifa_addr;

			if (a && a->sin6_family == AF_INET6 && !strcmp(ifa->ifa_name, ifname) &&
			    IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) {
				*ll = a->sin6_addr;
				freeifaddrs(ifs);
				return;
			}
		}
		freeifaddrs(ifs);
	}
	/* RFC 4291 appendix A: the MAC with ff:fe in the middle, the U/L bit flipped. */
	memset(ll, 0, sizeof(*ll));
	ll->s6_addr[0] = 0xfe;
	ll->s6_addr[1] = 0x80;
	ll->s6_addr[8] = mac[0] ^ 0x02;
	ll->s6_addr[9] = mac[1];
	ll->s6_addr[10] = mac[2];
	ll->s6_addr[11] = 0xff;
	ll->s6_addr[12] = 0xfe;
	ll->s6_addr[13] = mac[3];
	ll->s6_addr[14] = mac[4];
	ll->s6_addr[15] = mac[5];
}

int xpxe_dhcp_settings_resolve(struct xpxe_dhcp_settings *s, const char *ifname)
{
	struct in_addr ip = { 0 }, mask = { 0 };
	char text[INET_ADDRSTRLEN];
	int err;

	if (!s->enabled)
		return 0;
	err = xpxe_interface_ipv4(ifname, &ip, &mask);
	if (err && !s->server_ip.s_addr) {
		log_error("%s has no IPv4 address to answer DHCP from; give it one or pass "
			  "--server-ip",
			  ifname);
		return err;
	}
	if (!s->server_ip.s_addr)
		s->server_ip = ip;
	if (!s->http_base[0]) {
		inet_ntop(AF_INET, &s->server_ip, text, sizeof(text));
		snprintf(s->http_base, sizeof(s->http_base), "http://%s:8080", text);
	}
	xpxe_dhcp_profile_defaults(&s->profile, s->boot_file_set, s->http_base);
	if (!s->leases_path[0])
		snprintf(s->leases_path, sizeof(s->leases_path), "%s/%s.leases", XPXE_STATE_DIR,
			 ifname);
	if (s->mode == XPXE_MODE_FULL && !s->pool_first.s_addr && !s->n_reservations &&
	    IN6_IS_ADDR_UNSPECIFIED(&s->pool6_first) && !s->n_reservations6)
		log_warn("full mode without --pool or --reserve: no machine will get an address");
	return 0;
}

void xpxe_dhcp_profile_defaults(struct xpxe_dhcp_profile *p, const bool set[XPXE_BOOT_MAX],
				const char *http_base)
{
	/* A class the config left alone gets its default; an explicit empty file means none. */
	if (!set[XPXE_BOOT_IPXE])
		snprintf(p->boot_file[XPXE_BOOT_IPXE], XPXE_BOOT_FILE_MAX, "%s/boot.ipxe",
			 http_base);
	if (!set[XPXE_BOOT_HTTP_X64])
		snprintf(p->boot_file[XPXE_BOOT_HTTP_X64], XPXE_BOOT_FILE_MAX,
			 "%s/assets/snponly.efi", http_base);
}

/* Templates of PROFILE into FD: the array dhcp_templates, or a VLAN's in vlan_templates. */
static int install_profile(int fd, __u32 profile, const struct xpxe_dhcp_profile *p,
			   const struct xpxe_dhcp_net *net)
{
	struct xpxe_dhcp_template t;
	int err;

	for (__u32 reply = 0; reply < XPXE_REPLY_MAX; reply++) {
		for (__u32 boot = 0; boot < XPXE_BOOT_MAX; boot++) {
			__u32 idx = xpxe_dhcp_template_index(profile, reply, boot);

			err = xpxe_dhcp_template_build(&t, reply, boot, p, net);
			if (err) {
				log_error("the boot file for %s does not fit a DHCP reply",
					  xpxe_boot_class_names[boot]);
				return err;
			}
			if (bpf_map_update_elem(fd, &idx, &t, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

int xpxe_dhcp_install_templates(int fd, const struct xpxe_dhcp_settings *s,
				const struct xpxe_dhcp_net *net)
{
	int err = 0;

	if (!s->profiles)
		return install_profile(fd, 0, &s->profile, net);
	for (int i = 0; i < s->n_profiles && !err; i++) {
		struct xpxe_dhcp_profile p = s->profiles[i].dhcp;

		xpxe_dhcp_profile_defaults(&p, s->profiles[i].boot_file_set, s->http_base);
		xpxe_boot_profile_files(&p, s->profiles[i].boot_file_set, &s->profiles[i],
					s->http_base);
		err = install_profile(fd, i, &p, net);
	}
	return err;
}

/*
 * VLAN NETNO's templates: a new array (bpf/vlan.h's vlan_template_set) filled by S for NET,
 * then put in slot NETNO of vlan_templates in one update, so xdp_pxe sees the old set or the
 * new one, never a set half written, and no template of an earlier load lingers in it.
 */
static int install_vlan_templates(struct xpxe_bpf *skel, __u32 netno,
				  const struct xpxe_dhcp_settings *s,
				  const struct xpxe_dhcp_net *net)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vlan_template_s", sizeof(__u32),
				sizeof(struct xpxe_dhcp_template), XPXE_DHCP_TEMPLATES, NULL);
	int err;

	if (fd < 0)
		return -errno;
	err = xpxe_dhcp_install_templates(fd, s, net);
	if (!err &&
	    bpf_map_update_elem(bpf_map__fd(skel->maps.vlan_templates), &netno, &fd, BPF_ANY))
		err = -errno;
	close(fd); /* vlan_templates holds the set now */
	return err;
}

/*
 * A double-tagged VLAN V into vlan_qinq: the array of its outer VID (made when it is the first
 * VLAN of that outer VID) gets V at its inner VID.
 */
static int put_qinq(struct xpxe_bpf *skel, const struct xpxe_vlan *v)
{
	int outer = bpf_map__fd(skel->maps.vlan_qinq), fd, err = 0;
	__u32 outer_vid = v->outer_vid, vid = v->vid, id;

	if (!bpf_map_lookup_elem(outer, &outer_vid, &id)) {
		fd = bpf_map_get_fd_by_id(id);
	} else {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vlan_qinq_vids", sizeof(__u32),
				    sizeof(struct xpxe_vlan), XPXE_VID_SLOTS, NULL);
		if (fd >= 0 && bpf_map_update_elem(outer, &outer_vid, &fd, BPF_ANY))
			err = -errno;
	}
	if (fd < 0)
		return -errno;
	if (!err && bpf_map_update_elem(fd, &vid, v, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

/* M in dhcp_clients of the interface IFNAME (a reservation's network is its address's). */
static int put_machine(int fd, const struct xpxe_dhcp_settings *s, const char *ifname,
		       const struct xpxe_machine_cfg *m)
{
	int profile = m->profile >= 0 ? m->profile : s->default_profile;
	struct xpxe_dhcp_client client = {
		.ip = s->mode == XPXE_MODE_FULL ? m->ip.s_addr : 0,
		.profile = profile >= 0 ? (__u32)profile : 0,
		.flags = m->ip.s_addr ? XPXE_CLIENT_F_RESERVED : 0,
		.net = xpxe_net_of_ip(s, ifname, m->ip),
	};

	for (int j = 0; j < m->n_macs; j++) {
		struct xpxe_mac_key key = { 0 };
		struct xpxe_dhcp_client old, c = client;

		memcpy(key.addr, m->macs[j], 6);
		/*
		 * Keep an address the pool gave it (full mode, no reservation), never
		 * one a reservation it lost gave it: that one is the pool's again.
		 */
		if (!c.ip && !bpf_map_lookup_elem(fd, &key, &old) &&
		    !(old.flags & XPXE_CLIENT_F_RESERVED)) {
			c.ip = old.ip;
			c.net = old.net;
			/* Only offered, not bound: its REQUEST still goes to the daemon (which
			 * at start drops offers it does not hold: they are in no file). */
			c.flags |= old.flags & XPXE_CLIENT_F_OFFERED;
		}
		if (bpf_map_update_elem(fd, &key, &c, BPF_ANY))
			return -errno;
	}
	return 0;
}

int xpxe_dhcp_put_machine(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
			  const struct xpxe_machine_cfg *m)
{
	if (!s->enabled)
		return 0;
	return put_machine(bpf_map__fd(dp->skel->maps.dhcp_clients), s, dp->ifname, m);
}

/* The inventory's machines in dhcp_clients: their profile, and their reserved address. */
static int install_machines(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *s,
			    const char *ifname)
{
	int fd = bpf_map__fd(skel->maps.dhcp_clients), err = 0;

	for (int i = 0; i < s->n_machines && !err; i++)
		err = put_machine(fd, s, ifname, &s->machines[i]);
	return err;
}

int xpxe_dhcp_load_maps(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *s,
			const struct xpxe_dhcp_net *net)
{
	struct xpxe_dhcp_config cfg = { 0 };
	__u32 zero = 0;
	int err = 0;

	if (s->enabled) {
		err = xpxe_dhcp_install_templates(bpf_map__fd(skel->maps.dhcp_templates), s, net);
		if (!err)
			err = install_machines(skel, s, net->ifname);
		for (int i = 0; !err && i < s->n_reservations; i++) {
			struct xpxe_mac_key key = { 0 };
			struct xpxe_dhcp_client client = {
				.ip = s->reservations[i].ip.s_addr,
				.flags = XPXE_CLIENT_F_RESERVED,
				.net = xpxe_net_of_ip(s, net->ifname, s->reservations[i].ip),
			};

			memcpy(key.addr, s->reservations[i].mac, 6);
			if (bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_clients), &key, &client,
						BPF_ANY))
				err = -errno;
		}
		if (err)
			return err;
		xpxe_dhcp_config_of(s, net, &cfg);
	}
	/* Written last: the program starts answering only once everything it reads is there. */
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_config), &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

void xpxe_dhcp_config_of(const struct xpxe_dhcp_settings *s, const struct xpxe_dhcp_net *net,
			 struct xpxe_dhcp_config *cfg_out)
{
	struct xpxe_dhcp_config cfg = { 0 };

	cfg.enabled = 1;
	cfg.mode = s->mode;
	cfg.server_ip = s->server_ip.s_addr;
	cfg.default_profile = s->default_profile >= 0 ? (__u32)s->default_profile : 0;
	cfg.flags = s->answer_unknown && s->default_profile >= 0 ? XPXE_DHCP_F_ANSWER_UNKNOWN : 0;
	if (net->local_server)
		cfg.flags |= XPXE_DHCP_F_LOCAL_SERVER;
	if (xpxe_dhcp_router_advert(s))
		cfg.flags |= XPXE_DHCP_F_ROUTER_ADVERT;
	memcpy(cfg.server_mac, net->server_mac, sizeof(cfg.server_mac));
	memcpy(cfg.server_ll, &net->server_ll, sizeof(cfg.server_ll));
	rate_to_gcra(s->mac_rate, s->mac_burst, &cfg.mac_interval_ns, &cfg.mac_tolerance_ns);
	rate_to_gcra(s->global_rate, s->global_burst, &cfg.global_interval_ns,
		     &cfg.global_tolerance_ns);
	*cfg_out = cfg;
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
	struct xpxe_dhcp_config cfg = { 0 };
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
	/* A net out of vlan_templates' slots, or a VID out of the arrays by VID (0 and 4095 are
	 * not VLANs: xpxe_vlan_parse refuses them), is refused before any map is written. */
	if (!netno || netno > XPXE_VLAN_MAX || !v->vid || v->vid > XPXE_VID_MAX ||
	    v->outer_vid > XPXE_VID_MAX) {
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
	nv.local_server = false; /* the host has no device on the VLAN: XDP answers there */
	if (s->enabled) {
		err = install_vlan_templates(skel, netno, sv, &nv);
		/* Router Advertisements as on the untagged network, tagged (bpf/ndp.h); its
		 * DHCPv6 prefix is not the VLAN's: their RAs carry none. */
		if (!err)
			xpxe_dhcp_config_of(sv, &nv, &cfg);
	}
	/* Written whether DHCP is on or off: a reload that turns it off must leave no earlier
	 * daemon's settings in this VLAN's slot (zeroed: not enabled, nothing answered). */
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_config), &netno, &cfg, BPF_ANY))
		err = -errno;
	/* Written last: xdp_pxe takes the VLAN's frames once everything it reads is there. */
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.vlan_by_addr), &val.server_ip, &val,
					BPF_ANY))
		err = -errno;
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.vlans), &key, &val, BPF_ANY))
		err = -errno;
	/* A single tag's VLAN also by its VID, a double tag's by its two: xdp_pxe's and
	 * tc_tftp's lookups (bpf/vlan.h). */
	if (!err && !v->outer_vid &&
	    bpf_map_update_elem(bpf_map__fd(skel->maps.vlan_vids), &(__u32){ v->vid }, &val,
				BPF_ANY))
		err = -errno;
	if (!err && v->outer_vid)
		err = put_qinq(skel, &val);
	free(sv);
	return err;
}

void xpxe_vlan_clear_configs(struct xpxe_bpf *skel)
{
	const struct xpxe_dhcp_config none = { 0 };

	for (__u32 netno = 1; netno <= XPXE_VLAN_MAX; netno++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_config), &netno, &none, BPF_ANY);
}

/* Empties the map FD of __u32 or __be32 keys. */
static void clear_map(int fd)
{
	__u32 key;

	while (!bpf_map_get_next_key(fd, NULL, &key))
		if (bpf_map_delete_elem(fd, &key))
			break;
}

/*
 * Zeroes the slots of `vlan_vids` that `vlans` says are in use (an array's entries stay), and
 * drops the arrays of `vlan_qinq` of the outer VIDs it names.
 */
static void clear_vlan_vids(struct xpxe_bpf *skel)
{
	const struct xpxe_vlan none = { 0 };
	int qinq = bpf_map__fd(skel->maps.vlan_qinq);
	__u32 key, next, vid, outer, id;
	bool first = true;

	while (!bpf_map_get_next_key(bpf_map__fd(skel->maps.vlans), first ? NULL : &key, &next)) {
		key = next;
		first = false;
		vid = key & 0xffff;
		outer = key >> 16;
		if (!outer)
			bpf_map_update_elem(bpf_map__fd(skel->maps.vlan_vids), &vid, &none,
					    BPF_ANY);
		/* Once per outer VID (its other VLANs find it gone): a map of maps' delete
		 * waits for an RCU grace period (xpxe_vlan_clear_maps). */
		else if (!bpf_map_lookup_elem(qinq, &outer, &id))
			bpf_map_delete_elem(qinq, &outer);
	}
}

void xpxe_vlan_clear_maps(struct xpxe_bpf *skel, __u32 n_next)
{
	int sets = bpf_map__fd(skel->maps.vlan_templates);
	__u32 id;

	clear_vlan_vids(skel);
	clear_map(bpf_map__fd(skel->maps.vlans));
	clear_map(bpf_map__fd(skel->maps.vlan_by_addr));
	/* The VLAN slots of dhcp_config zeroed: those of VLANs a reload removed keep nothing
	 * (the configured ones are written again after). */
	xpxe_vlan_clear_configs(skel);
	/*
	 * The template sets of nets past N_NEXT dropped (memory back); those of nets 1..N_NEXT
	 * stay until their VLAN's new set replaces each in one update (unanswered meanwhile:
	 * dhcp_config is zero). Each write to a map of maps, a delete of an empty slot too,
	 * waits for an RCU grace period (the kernel's maybe_wait_bpf_programs; ~15 ms here):
	 * one write per VLAN, and none for an empty slot.
	 */
	for (__u32 netno = n_next + 1; netno <= XPXE_VLAN_MAX; netno++)
		if (!bpf_map_lookup_elem(sets, &netno, &id))
			bpf_map_delete_elem(sets, &netno);
}

/* S's VLANs into DP's maps (those of a previous install out first), each logged. */
static int install_vlans(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
			 const struct xpxe_dhcp_net *net)
{
	char name[16], ip[INET_ADDRSTRLEN];
	bool trunk = !strcmp(dp->ifname, s->vlan_ifname);
	int err;

	/* Template sets are made for each VLAN only with DHCP on. */
	xpxe_vlan_clear_maps(dp->skel, trunk && s->enabled ? (__u32)s->n_vlans : 0);
	for (int i = 0; i < s->n_vlans && !strcmp(dp->ifname, s->vlan_ifname); i++) {
		const struct xpxe_vlan_cfg *v = &s->vlans[i];

		err = xpxe_vlan_load_maps(dp->skel, s, net, v, (__u32)i + 1);
		if (err)
			return err;
		xpxe_vlan_name(v, name, sizeof(name));
		inet_ntop(AF_INET, &v->server_ip, ip, sizeof(ip));
		if (s->enabled)
			log_info("%s: VLAN %s: answering DHCP in %s mode as %s/%u", dp->ifname,
				 name, s->mode == XPXE_MODE_FULL ? "full" : "proxy", ip, v->prefix);
	}
	return 0;
}

int xpxe_dhcp_install(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s)
{
	struct xpxe_dhcp_net net = { 0 };
	struct in_addr ip, mask = { 0 };
	char text[INET_ADDRSTRLEN];
	int err = 0;

	if (s->enabled) {
		snprintf(net.ifname, sizeof(net.ifname), "%s", dp->ifname);
		net.mode = s->mode;
		net.server_ip = s->server_ip;
		net.router = s->router;
		net.dns = s->dns;
		net.lease_time = s->lease_time;
		if (!xpxe_interface_ipv4(dp->ifname, &ip, &mask))
			net.netmask = mask;
		else
			net.netmask.s_addr = htonl(0xffffff00);
		err = interface_mac(dp->ifname, net.server_mac);
		if (!err)
			xpxe_interface_link_local(dp->ifname, net.server_mac, &net.server_ll);
		net.local_server = xpxe_dhcp_local_server(s, xpxe_dhcp_port67_bound());
	}
	if (!err)
		err = xpxe_dhcp_load_maps(dp->skel, s, &net);
	/* IPv6 when the interface has a global or ULA address: no flag (bpf/dhcp6.h). */
	if (!err)
		err = xpxe_dhcp6_install(dp, s, net.server_mac, &net.server_ll);
	if (!err)
		err = install_vlans(dp, s, &net);
	if (err) {
		log_error("%s: cannot install the DHCP settings: %s", dp->ifname, strerror(-err));
		return err;
	}
	if (s->enabled) {
		inet_ntop(AF_INET, &s->server_ip, text, sizeof(text));
		char ll[INET6_ADDRSTRLEN];

		log_info("%s: answering DHCP in %s mode as %s", dp->ifname,
			 s->mode == XPXE_MODE_FULL ? "full" : "proxy", text);
		if (s->mode == XPXE_MODE_PROXY)
			log_info("%s: %s", dp->ifname,
				 xpxe_dhcp_local_server_says(s, net.local_server));
		if (xpxe_dhcp_router_advert(s))
			log_info("%s: answering its machines' IPv6 Router Solicitations from %s "
				 "(router lifetime 0)",
				 dp->ifname, inet_ntop(AF_INET6, &net.server_ll, ll, sizeof(ll)));
	} else {
		log_info("%s: DHCP answering is off", dp->ifname);
	}
	return 0;
}

/*
 * Whether the UDP table FILE (/proc/net/udp or udp6: this process's network namespace)
 * holds a socket bound to local port 67, whatever its address. A table that cannot be read
 * (but for a kernel without IPv6: no udp6, no such socket either) counts as holding one: tc's
 * path, which a server on this host needs, is the safe guess.
 */
static bool udp_table_has_port67(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[512];
	unsigned int port;
	bool found = false;

	if (!f)
		return errno != ENOENT;
	/* "  sl  local_address ...", then "   0: 00000000:0043 00000000:0000 07 ..." */
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, " %*u: %*[0-9A-Fa-f]:%x", &port) == 1 &&
			port == XPXE_PORT_DHCP_SERVER;
	if (ferror(f))
		found = true;
	fclose(f);
	return found;
}

bool xpxe_dhcp_port67_bound(void)
{
	return udp_table_has_port67("/proc/net/udp") || udp_table_has_port67("/proc/net/udp6");
}

bool xpxe_dhcp_local_server(const struct xpxe_dhcp_settings *s, bool bound)
{
	if (!s->enabled || s->mode != XPXE_MODE_PROXY)
		return false;
	return s->local_server == XPXE_LOCAL_SERVER_YES ||
	       (s->local_server == XPXE_LOCAL_SERVER_AUTO && bound);
}

const char *xpxe_dhcp_local_server_says(const struct xpxe_dhcp_settings *s, bool on)
{
	if (s->local_server == XPXE_LOCAL_SERVER_YES)
		return "a DHCP server on this host (dhcp.local_server: yes): DISCOVERs go up "
		       "to it, tc answers";
	if (s->local_server == XPXE_LOCAL_SERVER_NO)
		return "no DHCP server on this host (dhcp.local_server: no): XDP answers DISCOVERs";
	return on ? "a DHCP server on this host listens on port 67: DISCOVERs go up to it, tc "
		    "answers"
		  : "no DHCP server on this host: XDP answers DISCOVERs";
}

int xpxe_dhcp_set_local_server(struct xpxe_bpf *skel, bool on)
{
	int fd = bpf_map__fd(skel->maps.dhcp_config);
	struct xpxe_dhcp_config cfg;
	__u32 zero = 0, flags;

	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	flags = on ? cfg.flags | XPXE_DHCP_F_LOCAL_SERVER : cfg.flags & ~XPXE_DHCP_F_LOCAL_SERVER;
	if (flags == cfg.flags)
		return 0;
	/*
	 * One writer (the daemon's loop) and whole-value updates: the program reads the old
	 * entry or the new one. Between two sweeps a server that just bound port 67 misses
	 * at most a second of PXE DISCOVERs; its clients send them again.
	 */
	cfg.flags = flags;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 1;
}

bool xpxe_dhcp_local_server_flag(struct xpxe_bpf *skel)
{
	struct xpxe_dhcp_config cfg;
	__u32 zero = 0;

	return !bpf_map_lookup_elem(bpf_map__fd(skel->maps.dhcp_config), &zero, &cfg) &&
	       (cfg.flags & XPXE_DHCP_F_LOCAL_SERVER);
}
