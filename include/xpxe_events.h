/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Events: compact records the programs put in the ring buffer `events` for
 * the daemon, which adds its own and keeps a boot timeline per machine. A
 * record costs one bpf_ringbuf_output of 24 bytes on a reply, nothing on a pass.
 */
#ifndef XPXE_EVENTS_H
#define XPXE_EVENTS_H

#include <linux/types.h>

enum xpxe_event_type {
	XPXE_EV_DHCP_OFFER = 1,
	XPXE_EV_DHCP_ACK,
	XPXE_EV_DHCP_ACK_4011,
	XPXE_EV_DHCP_NAK,
	/* the daemon's own, never sent by a program */
	XPXE_EV_LEASE_BOUND = 32,
	XPXE_EV_SCRIPT,		/* the per-machine iPXE script */
	XPXE_EV_LOCAL_BOOT,	/* boot-once: the local-disk script */
	XPXE_EV_ASSET,		/* an asset over HTTP (bytes) */
	XPXE_EV_CONFIG,		/* the Talos config served (bytes) */
	XPXE_EV_CONFIG_REFUSED, /* 403/404/500 for a config */
	XPXE_EV_INSTALLED,	/* boot-once set */
	XPXE_EV_REARMED,	/* boot-once cleared */
	XPXE_EV_MAX,
};

/* What a program sends; the daemon stamps it with the time it read it. */
struct xpxe_dp_event {
	__u8 type; /* enum xpxe_event_type */
	__u8 boot; /* enum xpxe_boot_class of the request */
	__u8 mac[6];
	__be32 ip; /* the address given (yiaddr); a 4011 request's source; else 0 */
	__u32 ifindex;
	__u64 ts_ns; /* CLOCK_BOOTTIME */
};

#endif /* XPXE_EVENTS_H */
