/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Events: compact records the programs put in the ring buffer `events` for
 * the daemon, which adds its own and keeps a boot timeline per machine. A
 * record costs one bpf_ringbuf_output of 24 bytes on a reply, nothing on a pass.
 */
#ifndef XPXE_EVENTS_H
#define XPXE_EVENTS_H

#include <linux/types.h>

#include "xpxe_tftp.h"

enum xpxe_event_type {
	XPXE_EV_DHCP_OFFER = 1,
	XPXE_EV_DHCP_ACK,
	XPXE_EV_DHCP_ACK_4011,
	XPXE_EV_DHCP_NAK,
	/* TFTP, sent by a program as struct xpxe_dp_tftp_event */
	XPXE_EV_TFTP_DONE,    /* the ACK of the final block */
	XPXE_EV_TFTP_ABORTED, /* an ERROR from the client */
	/* DHCPv6, sent as struct xpxe_dp_dhcp6_reply_event: a Reply to EDK2's boot service
	 * Request (port 4011), for the daemon to send again (xpxe_dhcp6_server_repeat) */
	XPXE_EV_DHCP6_REPLY_4011,
	/* the daemon's own, never sent by a program */
	XPXE_EV_LEASE_BOUND = 32,
	XPXE_EV_SCRIPT,		 /* the per-machine iPXE script */
	XPXE_EV_LOCAL_BOOT,	 /* boot-once: the local-disk script */
	XPXE_EV_ASSET,		 /* an asset over HTTP (bytes) */
	XPXE_EV_CONFIG,		 /* the Talos config served (bytes) */
	XPXE_EV_CONFIG_REFUSED,	 /* 403/404/500 for a config */
	XPXE_EV_INSTALLED,	 /* boot-once set */
	XPXE_EV_REARMED,	 /* boot-once cleared */
	XPXE_EV_TFTP_START,	 /* an RRQ answered: a transfer installed */
	XPXE_EV_TFTP_RETRANSMIT, /* blocks sent again in the last second (a burst) */
	XPXE_EV_TFTP_ERROR,	 /* an ERROR sent: a request refused */
	XPXE_EV_TFTP_EXPIRED,	 /* the client went silent, or its session was evicted */
	XPXE_EV_DOWNLOAD_QUEUED, /* a bulk HTTP download waits its turn (downloads.max) */
	XPXE_EV_MAX,
};

/* What a program sends; the daemon stamps it with the time it read it. */
struct xpxe_dp_event {
	__u8 type; /* enum xpxe_event_type */
	__u8 boot; /* enum xpxe_boot_class of the request */
	__u8 mac[6];
	__be32 ip; /* the address given (yiaddr); a 4011 request's source; else 0 */
	__u32 ifindex;
	/* CLOCK_MONOTONIC at jiffy resolution (bpf_ktime_get_coarse_ns: the boot clock's read
	 * cost ~10 ns of each DHCP reply) */
	__u64 ts_ns;
};

/* Which path sent a transfer's blocks (the `boot` byte of a TFTP event). */
enum xpxe_tftp_path {
	XPXE_TFTP_PATH_XDP,
	XPXE_TFTP_PATH_TC,
	XPXE_TFTP_PATH_AF_XDP,
	XPXE_TFTP_PATH_UDP, /* the daemon's socket of the transfer */
	XPXE_TFTP_PATH_MAX,
};

/*
 * The end of a transfer, seen by a program (once per transfer: the ACK of
 * the final block, or the client's ERROR): the record above (mac and ip the
 * client's, boot the path) and the session it ended. Nothing per block: the
 * daemon follows progress and retransmits in tftp_sessions once a second.
 */
struct xpxe_dp_tftp_event {
	struct xpxe_dp_event h;
	struct xpxe_tftp_key key;
	__u32 retransmits;
	__u8 client_error;
	__u8 pad[3];
};

/* Room for a DHCPv6 reply's frame: Ethernet, IPv6, UDP, message (bpf/dhcp6.h checks it). */
#define XPXE_DP_FRAME6_MAX 640

/*
 * A Reply xdp_pxe sent to a boot service Request on port 4011: the record above (mac the
 * client's, boot its class) and the frame as it went out (LEN bytes). EDK2 takes in that
 * Reply only once its read is set up, which it does after its send: one taken in before is
 * lost, and EDK2 never sends its Request again (docs/dhcp6-edk2.md). The daemon sends the
 * frame again, twice, within EDK2's three seconds of waiting.
 */
struct xpxe_dp_dhcp6_reply_event {
	struct xpxe_dp_event h;
	__u32 len;
	__u32 pad;
	__u8 frame[XPXE_DP_FRAME6_MAX];
};

#endif /* XPXE_EVENTS_H */
