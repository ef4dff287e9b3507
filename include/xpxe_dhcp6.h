/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DHCPv6 (RFC 8415) boot answers shared between xdp_pxe (bpf/dhcp6.h) and the
 * daemon: the settings of one interface and the options each class of client
 * gets. Proxy-like mode: another server or SLAAC gives the address, xpxe
 * answers the boot options (option 59, RFC 5970), the way EDK2 takes them
 * (docs/dhcp6-edk2.md). Full mode (XPXE_DHCP6_F_FULL): the daemon answers.
 */
#ifndef XPXE_DHCP6_H
#define XPXE_DHCP6_H

#include <linux/types.h>

#include "xpxe_dhcp.h"

#define XPXE_PORT_DHCP6_CLIENT 546
#define XPXE_PORT_DHCP6_SERVER 547
/* The longest IPv6 packet the daemon's DHCPv6 server reads (its receive buffer): a longer one
 * is its bad_frame, so XDP answers none either (bpf/dhcp6.h dhcp6_daemon_takes). */
#define XPXE_DHCP6_PKT_MAX 2048
/* The longest UDP datagram (its header included) either parses: XDP's buffers are this size,
 * and a longer one the daemon counts bad_frame too, so padding a message past it cannot take
 * it around XDP's rate limits to the daemon. */
#define XPXE_DHCP6_UDP_MAX 1024

/* RFC 8415 section 11: a DUID is at most 128 bytes after its 2-byte type. */
#define XPXE_DHCP6_DUID_MAX 130
/* xpxe's own DUID (a DUID-LLT, 14 bytes for Ethernet) fits in this much. */
#define XPXE_DHCP6_SERVER_DUID_MAX 20

/* The settings of one interface, the one entry of the array map `dhcp6_config`. */
struct xpxe_dhcp6_config {
	__u32 enabled;	/* 0: pass every DHCPv6 frame (the interface has no global or ULA) */
	__u32 duid_len; /* bytes of DUID used */
	__u8 duid[XPXE_DHCP6_SERVER_DUID_MAX]; /* option 2 of every answer */
	__u8 server_mac[6];
	__u8 pad[2];
	__u8 server_ll[16];   /* the source of answers to multicast (ff02::1:2) */
	__u8 server_addr[16]; /* the global or ULA address the URLs name */
	__u32 flags;	      /* XPXE_DHCP6_F_* */
	__u8 prefix[16];      /* full mode: the pool's on-link prefix, for the RA (bpf/ndp.h) */
	__u8 prefix_len;      /* 0: the pool is a relayed link's, not this one's: no prefix */
	__u8 pad3[3];
};

/*
 * Full mode with a pool6: the daemon is the DHCPv6 server (userspace/dhcp/dhcp6_server.c).
 * XDP passes clients' messages to port 547 up to it (pass_dhcp6_to_daemon), and the RA
 * carries M=1, O=1 and the pool's prefix (on-link, not for SLAAC).
 */
#define XPXE_DHCP6_F_FULL 0x1

/*
 * The options after the client's own of one (profile, class): server id,
 * vendor class (PXEClient or HTTPClient, enterprise 343 as EDK2 checks), then
 * boot file URL (59), in wire format. Built by userspace; XDP copies them
 * behind the message header and appends the client id. LEN 0: no answer.
 */
#define XPXE_DHCP6_OPTS_MAX	  384
#define XPXE_DHCP6_ENTERPRISE_PXE 343 /* what EDK2 sends and checks (PxeBcDhcp6.h) */

struct xpxe_dhcp6_reply {
	__u16 len;
	__u16 pad;
	__u8 opts[XPXE_DHCP6_OPTS_MAX];
};

#define XPXE_DHCP6_REPLIES (XPXE_DHCP_MAX_PROFILES * XPXE_BOOT_MAX)

/*
 * Full mode: what the daemon's server puts before the client id in an answer that gives an
 * address, per (profile, class), in the array map `dhcp6_replies_full` (same index): the
 * proxy-like options less a PXEClient vendor class (dhcp6_proto.h,
 * xpxe_dhcp6_out_boot_with_address), or only the server id for a plain client. The daemon
 * and xdp_pxe both answer from it, so their answers carry the same bytes.
 */

/*
 * Full mode: a machine's DHCPv6 binding, in the hash map `dhcp6_bindings` keyed by its MAC
 * (struct xpxe_mac_key), written by the daemon once its bindings file holds it and removed
 * when the binding goes (Release, Decline, another machine takes the address). xdp_pxe
 * answers the Renew, Rebind, Request, Confirm and Information-request of such a machine
 * that match it (its DUID, IAID, address) with the Reply the daemon would send; the rest
 * goes up to the daemon. Renewals answered in XDP are not written to the file (as IPv4's):
 * LAST_SEEN_NS tells the daemon the machine still renews before it takes the address back.
 */
struct xpxe_dhcp6_binding {
	__u64 last_seen_ns; /* CLOCK_MONOTONIC (coarse) of the last renewal XDP answered; 0: none */
	__u8 ip[16];
	__u32 iaid;
	__u32 t1, t2;		/* seconds, as the daemon's IA_NA carries them */
	__u32 preferred, valid; /* the IA Address's lifetimes */
	__u32 flags;		/* XPXE_DHCP6_BIND_F_* */
	__u16 duid_len;		/* the client id's data the binding is for */
	__u8 duid[XPXE_DHCP6_DUID_MAX];
	__u8 pad[4];
};

/* The MAC has a --reserve6 reservation: answered even when not in dhcp_clients (the daemon's
 * rule, dhcp6_server.c machine_profile). */
#define XPXE_DHCP6_BIND_F_RESERVED 0x1

/* Index of a reply in the array map `dhcp6_replies`. */
static inline __u32 xpxe_dhcp6_reply_index(__u32 profile, __u32 boot)
{
	return profile * XPXE_BOOT_MAX + boot;
}

#endif /* XPXE_DHCP6_H */
