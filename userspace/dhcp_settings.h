/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xpxe is told about DHCP and boot files: the settings, a profile's boot files, the
 * names of the boot classes and the parsers of what flags and the config spell (MACs, rates,
 * pools). A leaf every other part may use (config, boot, store, events, the DHCP server).
 */
#ifndef XPXE_DHCP_SETTINGS_H
#define XPXE_DHCP_SETTINGS_H

#include <stdbool.h>
#include <netinet/in.h>

#include "xpxe_dhcp.h"
#include "xpxe_vlan.h"

/* A VLAN of a trunk (--vlan, vlans:): parsed here, served by bpf/vlan.h. */
struct xpxe_vlan_cfg {
	unsigned int vid;	/* 1..4094 */
	unsigned int outer_vid; /* 0: one 802.1Q tag; else the 802.1ad outer tag's VID */
	struct in_addr server_ip;
	unsigned int prefix; /* 8..30 */
	/* its pool (",pool=FIRST-LAST"; both 0: none, only reservations are answered) */
	struct in_addr pool_first, pool_last;
};

/* What messages show as the spelling of a VLAN. */
#define XPXE_VLAN_SPELLING \
	"VID=ADDR/PREFIX[,pool=FIRST-LAST] (e.g. 10=198.18.10.1/24; OUTER.VID=... for 802.1ad)"

/*
 * Parses "VID=ADDR/PREFIX" or "OUTER.VID=ADDR/PREFIX", either followed by
 * ",pool=FIRST-LAST" (inside the subnet), into V. Returns 0, or -EINVAL with
 * *WHY saying what is wrong.
 */
int xpxe_vlan_parse(const char *text, struct xpxe_vlan_cfg *v, const char **why);

/*
 * Checks VLANS (N of them) against each other and the untagged network's address UNTAGGED:
 * no tag twice, no address twice. Returns 0, or -EINVAL with *WHY set and *AT the index of
 * the offending VLAN.
 */
int xpxe_vlans_check(const struct xpxe_vlan_cfg *vlans, int n, struct in_addr untagged,
		     const char **why, int *at);

/* The VLAN of S's trunk IFNAME whose subnet holds IP, or NULL. */
struct xpxe_dhcp_settings;
const struct xpxe_vlan_cfg *xpxe_vlan_of_ip(const struct xpxe_dhcp_settings *s, const char *ifname,
					    struct in_addr ip);

/*
 * The network of IP on the interface IFNAME (xpxe_vlan.h): N for the VLAN numbered N of S's
 * trunk whose subnet holds it, else 0 (the untagged network).
 */
unsigned int xpxe_net_of_ip(const struct xpxe_dhcp_settings *s, const char *ifname,
			    struct in_addr ip);

/* "10" or "100.10": the tag(s) of V, for logs and status. */
void xpxe_vlan_name(const struct xpxe_vlan_cfg *v, char *buf, size_t size);

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

/* Names of the classes as flags and status print them ("bios", "uefi-x64", ...). */
extern const char *const xpxe_boot_class_names[XPXE_BOOT_MAX];

/* The class named NAME, or -1. */
int xpxe_boot_class_from_name(const char *name);

struct xpxe_profile_cfg;
struct xpxe_machine_cfg;

#define XPXE_MAX_RESERVATIONS 256

struct xpxe_reservation {
	unsigned char mac[6];
	struct in_addr ip;
};

/* --reserve6 MAC=IPV6: full mode's DHCPv6 address for MAC (userspace/dhcp/dhcp6_server.c). */
struct xpxe_reservation6 {
	unsigned char mac[6];
	struct in6_addr ip;
};

/* dhcp.router_advert: answer IPv6 Router Solicitations (bpf/ndp.h) or not. */
enum xpxe_router_advert {
	XPXE_RA_AUTO = 0, /* on in full mode, off in proxy mode (the site may have routers) */
	XPXE_RA_ON,
	XPXE_RA_OFF,
};

/*
 * Proxy mode: whether a DHCP server runs on this host (it must see the PXE DISCOVERs too,
 * so tc answers them after a copy went up; with none, XDP answers). AUTO: the daemon looks
 * for a UDP socket on port 67 at start and each second; YES for servers on raw sockets only.
 */
enum xpxe_local_server {
	XPXE_LOCAL_SERVER_AUTO = 0,
	XPXE_LOCAL_SERVER_YES,
	XPXE_LOCAL_SERVER_NO,
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
	enum xpxe_local_server local_server; /* proxy mode: --dhcp-local-server */
	/* full mode */
	struct in_addr pool_first, pool_last; /* 0: no pool, reservations only */
	struct in_addr router, dns;
	unsigned int lease_time;
	unsigned int offer_hold; /* seconds an offered address waits for the REQUEST */
	/* XDP's limits, frames per second and burst (0: no limit); global is per CPU */
	unsigned int mac_rate, mac_burst, global_rate, global_burst;
	/* the DHCPv6 server's per relay (dhcp6_server.h), messages per second and burst */
	unsigned int relay_rate, relay_burst;
	struct xpxe_reservation reservations[XPXE_MAX_RESERVATIONS];
	int n_reservations;
	char leases_path[256]; /* default XPXE_STATE_DIR/IFNAME.leases */
	/* full mode's DHCPv6 (--pool6, dhcp.pool6; --reserve6, a machine's ip6): bindings in
	 * LEASES_PATH with "6" appended */
	struct in6_addr pool6_first, pool6_last; /* :: : no pool */
	struct xpxe_reservation6 reservations6[XPXE_MAX_RESERVATIONS];
	int n_reservations6;
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

/* Relay-forwards per second from one relay address, and at once (--dhcp-relay-rate). */
#define XPXE_DHCP6_RELAY_RATE  200
#define XPXE_DHCP6_RELAY_BURST 400

/* Fills SETTINGS with the defaults (proxy mode, Debian's iPXE binaries, HTTP on port 8080). */
void xpxe_dhcp_settings_default(struct xpxe_dhcp_settings *settings);

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

/* The same for a DHCPv6 pool: one /64, at most 65536 addresses, no multicast or link-local. */
const char *xpxe_pool6_problem(const struct in6_addr *first, const struct in6_addr *last);

/* Parses "FIRST-LAST" (two IPv6 addresses) into FIRST and LAST; -EINVAL with *WHY set. */
int xpxe_pool6_parse(const char *text, struct in6_addr *first, struct in6_addr *last,
		     const char **why);

#endif /* XPXE_DHCP_SETTINGS_H */
