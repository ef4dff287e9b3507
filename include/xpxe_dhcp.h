/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DHCP/ProxyDHCP shared between the XDP program and the daemon: the classes
 * of clients, the reply templates userspace builds and XDP patches, the
 * per-MAC client table and the settings of one interface.
 */
#ifndef XPXE_DHCP_H
#define XPXE_DHCP_H

#include <linux/types.h>

/* What a client boots as, decided from options 60, 77, 93 and 175 (see PROTOCOL.md). */
enum xpxe_boot_class {
	XPXE_BOOT_PLAIN = 0,	/* no PXE/HTTP/iPXE identity: an address only (full mode) */
	XPXE_BOOT_BIOS,		/* arch 0 */
	XPXE_BOOT_UEFI_IA32,	/* arch 6 */
	XPXE_BOOT_UEFI_X64,	/* arch 7, and 9 which x64 firmware sends too (RFC 4578 erratum) */
	XPXE_BOOT_UEFI_ARM32,	/* arch 10 */
	XPXE_BOOT_UEFI_ARM64,	/* arch 11 */
	XPXE_BOOT_HTTP_IA32,	/* arch 15, HTTPClient */
	XPXE_BOOT_HTTP_X64,	/* arch 16, HTTPClient */
	XPXE_BOOT_HTTP_ARM32,	/* arch 18, HTTPClient */
	XPXE_BOOT_HTTP_ARM64,	/* arch 19, HTTPClient */
	XPXE_BOOT_UBOOT_ARM64,	/* arch 22 */
	XPXE_BOOT_RPI,		/* arch 41 */
	XPXE_BOOT_IPXE,		/* option 77 "iPXE" or option 175: gets the script URL */
	XPXE_BOOT_UNKNOWN_ARCH, /* a PXE client of an architecture xpxe has no class for */
	XPXE_BOOT_MAX,
};

/* Which reply a template is for. */
enum xpxe_dhcp_reply {
	XPXE_REPLY_OFFER = 0,
	XPXE_REPLY_ACK,	     /* to a REQUEST on port 67 (full mode) */
	XPXE_REPLY_ACK_4011, /* to a boot server REQUEST on port 4011 (PXE 2.1) */
	XPXE_REPLY_NAK,
	XPXE_REPLY_MAX,
};

#define XPXE_DHCP_MAX_PROFILES 16
#define XPXE_DHCP_TEMPLATES    (XPXE_DHCP_MAX_PROFILES * XPXE_REPLY_MAX * XPXE_BOOT_MAX)

/* Index of a template in the array map `dhcp_templates`. */
static inline __u32 xpxe_dhcp_template_index(__u32 profile, __u32 reply, __u32 boot)
{
	return (profile * XPXE_REPLY_MAX + reply) * XPXE_BOOT_MAX + boot;
}

/*
 * A reply is at most 14 + 20 + 8 + 548 bytes: a DHCP message of 548 bytes is
 * the largest that every client must accept (an IP datagram of 576).
 */
#define XPXE_DHCP_MSG_MAX   548
#define XPXE_DHCP_FRAME_MAX (14 + 20 + 8 + XPXE_DHCP_MSG_MAX)

/* Offsets in a reply frame (Ethernet + 20-byte IPv4 + UDP + BOOTP). */
#define XPXE_OFF_ETH_DST   0
#define XPXE_OFF_IP	   14
#define XPXE_OFF_UDP	   34
#define XPXE_OFF_BOOTP	   42
#define XPXE_OFF_XID	   (XPXE_OFF_BOOTP + 4)
#define XPXE_OFF_FLAGS	   (XPXE_OFF_BOOTP + 10)
#define XPXE_OFF_CIADDR	   (XPXE_OFF_BOOTP + 12)
#define XPXE_OFF_YIADDR	   (XPXE_OFF_BOOTP + 16)
#define XPXE_OFF_GIADDR	   (XPXE_OFF_BOOTP + 24)
#define XPXE_OFF_CHADDR	   (XPXE_OFF_BOOTP + 28)
#define XPXE_OFF_OPTIONS   (XPXE_OFF_BOOTP + 240) /* after the magic cookie */
#define XPXE_DHCP_GUID_LEN 17			  /* option 97: type 0 + a 16-byte GUID */

/*
 * A reply frame built by userspace. Everything that differs per client is
 * zero in FRAME and patched by XDP (by tc for proxy mode's OFFERs): Ethernet
 * destination, IP destination and checksum, UDP ports and checksum, xid, flags,
 * ciaddr, yiaddr, giaddr, chaddr, and option 97's GUID at GUID_OFF (0: the
 * template echoes no option 97).
 * CSUM_BASE is the one's complement sum of the UDP pseudo-header (without the
 * destination address) and of the UDP header and payload as templated, so XDP
 * only adds what it patched.
 */
struct xpxe_dhcp_template {
	__u16 len;	/* of FRAME in bytes; 0: no reply for this slot */
	__u16 guid_off; /* even, so the GUID's words line up for the checksum */
	__u32 csum_base;
	__u8 frame[XPXE_DHCP_FRAME_MAX];
	__u8 pad[2];
};

enum xpxe_dhcp_mode {
	XPXE_MODE_PROXY = 0, /* another server gives addresses; answer PXE/iPXE clients */
	XPXE_MODE_FULL = 1,  /* xpxe is the DHCP server of an isolated network */
};

/* The settings of one interface, the one entry of the array map `dhcp_config`. */
struct xpxe_dhcp_config {
	__u32 enabled;	       /* 0: pass every DHCP frame (the skeleton's behaviour) */
	__u32 mode;	       /* enum xpxe_dhcp_mode */
	__be32 server_ip;      /* option 54, siaddr, the IP source of replies */
	__u32 default_profile; /* profile for machines not in dhcp_clients (proxy mode) */
	__u32 flags;	       /* XPXE_DHCP_F_* */
	__u32 pad;
	/*
	 * Rate limits on requests (GCRA: a token bucket kept as one timestamp,
	 * the "theoretical arrival time"): an interval of 1e9/RATE ns between
	 * frames, and a tolerance of (BURST - 1) intervals. Interval 0: no limit.
	 * The MAC limit holds for every request; the global one, per CPU, only
	 * for MACs not in dhcp_clients, so strangers cannot crowd out machines
	 * already known.
	 */
	__u64 mac_interval_ns;
	__u64 mac_tolerance_ns;
	__u64 global_interval_ns;
	__u64 global_tolerance_ns;
	__u64 clock_ns; /* tests only: "now" for the limits; 0: bpf_ktime_get_ns() */
	/* Router Advertisements (XPXE_DHCP_F_ROUTER_ADVERT, bpf/ndp.h): their sources. */
	__u8 server_mac[6];
	__u8 pad2[2];
	__u8 server_ll[16]; /* the interface's IPv6 link-local address */
};

/* Proxy mode: answer machines that are not in dhcp_clients with the default profile. */
#define XPXE_DHCP_F_ANSWER_UNKNOWN 0x1
/*
 * Answer the IPv6 Router Solicitations of the machines in dhcp_clients (bound
 * or reserved, in full mode) with an empty Router Advertisement: it ends iPXE's
 * wait for routers (README.md, iPXE's waits) and makes no one use us as a router.
 */
#define XPXE_DHCP_F_ROUTER_ADVERT 0x2
/*
 * Proxy mode: a DHCP server runs on this host (something listens on UDP port 67 in the
 * daemon's network namespace, or dhcp.local_server says so). It must see each PXE DISCOVER
 * too: xdp_pxe passes them on the untagged network and tc_tftp answers after a copy went up
 * (bpf/dhcp_tc.h). Clear: xdp_pxe answers them itself with XDP_TX, as on a VLAN, which has no
 * host server (the daemon sets it from its sweep: userspace/dhcp/dhcp.c).
 */
#define XPXE_DHCP_F_LOCAL_SERVER 0x4

/* Key of `dhcp_clients`: the client's MAC, padded to 8 bytes. */
struct xpxe_mac_key {
	__u8 addr[6];
	__u8 pad[2];
};

/*
 * Key of `dhcp_rate_mac`, the per-sender limit: the frame's Ethernet source and the client
 * it speaks for (chaddr; an RS's is its Ethernet source). A neighbour chooses chaddr freely,
 * but a switch delivers its frames with its own source MAC: a flood naming a victim's chaddr
 * empties the flooder's bucket, never the victim's (a machine's own frames are keyed
 * (MAC, MAC)). The machines behind one relay or router share its source MAC and are told
 * apart by chaddr.
 */
struct xpxe_dhcp_rate_key {
	__u8 src[6];
	__u8 chaddr[6];
};

/* A machine the daemon knows: its address (full mode) and the profile it boots. */
struct xpxe_dhcp_client {
	__be32 ip;     /* leased or reserved address; 0 in proxy mode */
	__u32 profile; /* < XPXE_DHCP_MAX_PROFILES */
	__u32 flags;   /* XPXE_CLIENT_F_* */
	/*
	 * The network IP belongs to (xpxe_vlan.h: 0 the untagged one, N the VLAN numbered N):
	 * XDP answers the binding only there; a request from another network goes to the
	 * daemon as a first contact on that one (dhcp_other_net), which replaces the binding.
	 */
	__u32 net;
	__u64 last_seen_ns; /* CLOCK_MONOTONIC (coarse) of the last request XDP answered */
};

#define XPXE_CLIENT_F_RESERVED 0x1 /* a reservation from the config: never expires */
/*
 * An address offered to a new MAC and held for offer_hold seconds: XDP
 * repeats the OFFER, but its REQUEST goes to the daemon, which makes (and
 * persists) the binding before the ACK.
 */
#define XPXE_CLIENT_F_OFFERED 0x2

/* True when C holds its address (leased or reserved), not one only offered. */
static inline int xpxe_dhcp_client_bound(const struct xpxe_dhcp_client *c)
{
	return c->ip && !(c->flags & XPXE_CLIENT_F_OFFERED);
}

/* Defaults of the limits (dhcp.mac_rate/mac_burst, global_rate/global_burst). */
#define XPXE_DHCP_MAC_RATE     20 /* frames/s per MAC; firmware retries every few seconds */
#define XPXE_DHCP_MAC_BURST    60
#define XPXE_DHCP_GLOBAL_RATE  10000 /* frames/s per CPU from MACs not known yet */
#define XPXE_DHCP_GLOBAL_BURST 10000 /* a rack of 1000 machines powering on at once, 10 times */
#define XPXE_DHCP_OFFER_HOLD   30    /* seconds an offered address waits for its REQUEST */

/*
 * Full mode's slow path: a request XDP cannot answer alone (a MAC without a
 * binding, DECLINE, RELEASE) is queued to the daemon in the ring buffer
 * `dhcp_queue` with what XDP parsed and the frame itself; the daemon binds an
 * address and runs the program on the frame again to produce the reply.
 */
#define XPXE_DHCP_QUEUE_FRAME_MAX 1024

struct xpxe_dhcp_queued {
	__u8 mac[6];
	__u8 msg_type;
	__u8 pad;
	__be32 requested_ip; /* option 50, or ciaddr */
	__be32 server_id;
	__u16 frame_len; /* bytes of FRAME used; frames longer than FRAME are not queued */
	__u16 net;	 /* the VLAN it came on (xpxe_vlan.h; FRAME is untagged), 0: untagged */
	__be16 tci[2];	 /* its tags' TCIs, outer first (their priority bits go on the reply) */
	__u8 frame[XPXE_DHCP_QUEUE_FRAME_MAX];
};

/*
 * The re-run has a scratch slot of its own: dhcp_scratch (per CPU, where the program
 * keeps the request it parsed) holds one for frames from the wire and one for the
 * daemon's re-runs. Before Linux 6.3, bpf_prog_test_run leaves bottom halves enabled,
 * so a frame arriving on the same CPU runs the program in the middle of a re-run: with
 * one slot it overwrote the request the re-run was answering. A test run's frame comes
 * in on the loopback device (ifindex 1 in every network namespace), which xpxe never
 * serves: that is how the program knows which slot is its own.
 */
#define XPXE_DHCP_SCRATCH_WIRE	0
#define XPXE_DHCP_SCRATCH_RERUN 1
#define XPXE_DHCP_SCRATCH_SLOTS 2
#define XPXE_LOOPBACK_IFINDEX	1

/*
 * The proxy-mode DISCOVERs tc_tftp answered and sent a copy of up for the stack, by xid and
 * chaddr, with when (bpf/dhcp_tc.h): the copy comes round again within microseconds and is
 * known by its skb mark (XPXE_SKB_MARK_STACK_COPY); should another filter rewrite marks, it is
 * known by this, or it would be answered and copied again, round and round. The same DISCOVER
 * within the window is not answered again: a copy, or a duplicate of one answered (a client
 * repeats a DISCOVER after seconds, RFC 2131: 4; PXE: 4, 8, 16, 32).
 */
#define XPXE_DHCP_TC_COPIES_MAX 1024
#define XPXE_DHCP_TC_COPY_NS	(100ull * 1000 * 1000)

struct xpxe_dhcp_tc_copy_key {
	__be32 xid;
	__u8 chaddr[6];
	__u8 pad[2];
};

#endif /* XPXE_DHCP_H */
