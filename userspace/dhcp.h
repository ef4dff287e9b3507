/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_DHCP_SETUP_H
#define XPXE_DHCP_SETUP_H

#include <stdbool.h>
#include <netinet/in.h>

#include "dhcp_template.h"
#include "vlan.h"

struct xpxe_profile_cfg;
struct xpxe_machine_cfg;

#define XPXE_MAX_RESERVATIONS 256

struct xpxe_reservation {
	unsigned char mac[6];
	struct in_addr ip;
};

/* dhcp.router_advert: answer IPv6 Router Solicitations (bpf/ndp.h) or not. */
enum xpxe_router_advert {
	XPXE_RA_AUTO = 0, /* on in full mode, off in proxy mode (the site may have routers) */
	XPXE_RA_ON,
	XPXE_RA_OFF,
};

/* What `xpxe serve` was told about DHCP (flags today, the config file later). */
struct xpxe_dhcp_settings {
	bool enabled;
	enum xpxe_dhcp_mode mode;
	struct in_addr server_ip; /* 0: the interface's first IPv4 address */
	char http_base[128]; /* "http://IP:PORT": where iPXE scripts and HTTP boot files live */
	struct xpxe_dhcp_profile profile; /* profile 0, the default */
	bool answer_unknown;		  /* proxy mode: answer machines not in the inventory */
	enum xpxe_router_advert router_advert;
	/* full mode */
	struct in_addr pool_first, pool_last; /* 0: no pool, reservations only */
	struct in_addr router, dns;
	unsigned int lease_time;
	unsigned int offer_hold; /* seconds an offered address waits for the REQUEST */
	/* XDP's limits, frames per second and burst (0: no limit); global is per CPU */
	unsigned int mac_rate, mac_burst, global_rate, global_burst;
	struct xpxe_reservation reservations[XPXE_MAX_RESERVATIONS];
	int n_reservations;
	char leases_path[256];		   /* default XPXE_STATE_DIR/IFNAME.leases */
	bool boot_file_set[XPXE_BOOT_MAX]; /* given by a flag: no default filled in */
	/* From the config: every profile (index = profile id) and the inventory. */
	const struct xpxe_profile_cfg *profiles; /* NULL: PROFILE above is the only one */
	int n_profiles;
	int default_profile; /* for machines not in the inventory; -1: ignore them */
	const struct xpxe_machine_cfg *machines;
	int n_machines;
	/* VLANs on the trunk (--vlan, vlans:): each answered as its own address (bpf/vlan.h) */
	struct xpxe_vlan_cfg vlans[XPXE_VLAN_MAX];
	int n_vlans;
	char vlan_ifname[16]; /* the trunk they are on (one for now) */
};

#define XPXE_STATE_DIR "/var/lib/xpxe"

/* Fills SETTINGS with the defaults (proxy mode, Debian's iPXE binaries, HTTP on port 8080). */
void xpxe_dhcp_settings_default(struct xpxe_dhcp_settings *settings);

/* Completes SETTINGS for IFNAME: server address, URLs. Logs and returns -errno on failure. */
int xpxe_dhcp_settings_resolve(struct xpxe_dhcp_settings *settings, const char *ifname);

struct xpxe_dataplane;
struct xpxe_bpf;

/* Fills the DHCP maps of SKEL: templates of profile 0, reservations, then dhcp_config. */
int xpxe_dhcp_load_maps(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *settings,
			const struct xpxe_dhcp_net *net);

/*
 * Builds the templates of every profile of S for NET into FD: dhcp_templates (KEY_BASE 0) or a
 * VLAN's set in vlan_templates (KEY_BASE: xpxe_vlan_template_key(its net, 0)).
 */
int xpxe_dhcp_install_templates(int fd, __u32 key_base, const struct xpxe_dhcp_settings *s,
				const struct xpxe_dhcp_net *net);

/* The dhcp_config entry of S (enabled) on NET. */
void xpxe_dhcp_config_of(const struct xpxe_dhcp_settings *s, const struct xpxe_dhcp_net *net,
			 struct xpxe_dhcp_config *cfg);

/* Builds every template and fills dhcp_config/dhcp_clients of DP; DHCP answering starts here. */
int xpxe_dhcp_install(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *settings);

/*
 * Puts machine M in DP's dhcp_clients: its profile, its reservation (full
 * mode), else the address the pool gave it. For a machine added at run time.
 */
int xpxe_dhcp_put_machine(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *settings,
			  const struct xpxe_machine_cfg *m);

/* Whether S answers Router Solicitations (router_advert resolved against the mode). */
bool xpxe_dhcp_router_advert(const struct xpxe_dhcp_settings *s);

/*
 * IFNAME's IPv6 link-local address, or, when it has none (IPv6 off on it),
 * the one the kernel would give it: fe80::/64 with the EUI-64 of MAC.
 */
void xpxe_interface_link_local(const char *ifname, const unsigned char mac[6], struct in6_addr *ll);

/* IFNAME's first IPv4 address and its mask; -EADDRNOTAVAIL when it has none. */
int xpxe_interface_ipv4(const char *ifname, struct in_addr *ip, struct in_addr *mask);

/* Fills the boot files a profile did not set that depend on the HTTP address (ipxe, http-x64). */
void xpxe_dhcp_profile_defaults(struct xpxe_dhcp_profile *p, const bool set[XPXE_BOOT_MAX],
				const char *http_base);

/*
 * Parses a rate limit "RATE[/BURST]" (frames per second, 0: no limit; BURST
 * defaults to RATE, at least 1). -EINVAL when it is not one.
 */
int xpxe_parse_rate(const char *text, unsigned int *rate, unsigned int *burst);

/*
 * Parses a MAC in any of its usual spellings, any case: "aa:bb:cc:dd:ee:ff",
 * "aa-bb-cc-dd-ee-ff" (Windows, Talos file names), "aabb.ccdd.eeff" (Cisco) and
 * "aabbccddeeff" (BMCs). -EINVAL for anything else.
 */
int xpxe_parse_mac(const char *text, unsigned char mac[6]);

/* What messages show as the spellings xpxe_parse_mac takes. */
#define XPXE_MAC_SPELLINGS "52:54:00:12:34:56 (or 52-54-00-12-34-56, 5254.0012.3456, 525400123456)"

/* Why FIRST-LAST cannot be a pool (reversed, too large), or NULL when it can. */
const char *xpxe_pool_problem(struct in_addr first, struct in_addr last);

#endif /* XPXE_DHCP_SETUP_H */
