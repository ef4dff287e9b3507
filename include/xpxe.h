/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one definition of everything the XDP programs and userspace share:
 * counter indexes, map value layouts, limits and well-known names.
 * Fixed-width types only; every struct is padded explicitly so both
 * compilers agree on its layout.
 */
#ifndef XPXE_H
#define XPXE_H

#include <linux/types.h>

#define XPXE_VERSION "0.1.0"

/* Ports the data plane answers on. */
#define XPXE_PORT_DHCP_SERVER 67
#define XPXE_PORT_DHCP_CLIENT 68
#define XPXE_PORT_PXE_BOOT    4011
#define XPXE_PORT_TFTP	      69

/*
 * Every frame the XDP program sees ends in exactly one of these outcomes,
 * counted in the per-CPU array `counters`; `xpxe status` prints them by name
 * (see xpxe_counter_names in userspace/counters.c), so keep the two in step.
 */
enum xpxe_counter {
	XPXE_CNT_RX_FRAMES = 0, /* every frame the program was run on */
	XPXE_CNT_PASS_TRUNCATED_ETH,
	XPXE_CNT_PASS_VLAN,
	XPXE_CNT_PASS_NOT_IPV4,
	XPXE_CNT_PASS_TRUNCATED_IPV4,
	XPXE_CNT_PASS_BAD_IPV4_HEADER,
	XPXE_CNT_PASS_IPV4_FRAGMENT,
	XPXE_CNT_PASS_NOT_UDP,
	XPXE_CNT_PASS_TRUNCATED_UDP,
	XPXE_CNT_PASS_OTHER_PORT,
	XPXE_CNT_PASS_DHCP, /* DHCP answering is off on this interface */
	XPXE_CNT_PASS_TFTP,
	/* DHCP */
	XPXE_CNT_DHCP_OFFER,
	XPXE_CNT_DHCP_ACK,
	XPXE_CNT_DHCP_ACK_4011,
	XPXE_CNT_DHCP_NAK,
	XPXE_CNT_PASS_DHCP_MALFORMED, /* bad op/htype/hlen/cookie, options past the end, no end */
	XPXE_CNT_PASS_DHCP_OVERLOAD,  /* option 52: options in sname/file, left to the daemon */
	XPXE_CNT_PASS_DHCP_NOT_PXE,   /* proxy mode: a plain DHCP client, not ours */
	XPXE_CNT_PASS_DHCP_UNKNOWN_MACHINE, /* proxy mode: not in the inventory, unknowns ignored */
	XPXE_CNT_PASS_DHCP_NO_BOOT_FILE,    /* nothing configured for this architecture */
	XPXE_CNT_DHCP_TO_DAEMON, /* full mode: new client, DECLINE, RELEASE: queued, then dropped */
	XPXE_CNT_PASS_DHCP_QUEUE_FULL,	 /* ... but the daemon's queue was full */
	XPXE_CNT_PASS_DHCP_OTHER_SERVER, /* a REQUEST for another server's offer */
	XPXE_CNT_PASS_DHCP_IGNORED, /* BOOTREPLY, or a message type this mode does not answer */
	XPXE_CNT_PASS_DHCP_NO_ROOM, /* the driver gave no room to grow the frame */
	XPXE_CNT_MAX,
};

/* Pinned below /sys/fs/bpf/xpxe/<ifname>/ (see userspace/pins.c). */
#define XPXE_BPFFS_ROOT	 "/sys/fs/bpf"
#define XPXE_PIN_ROOT	 XPXE_BPFFS_ROOT "/xpxe"
#define XPXE_PIN_PROG	 "xdp_pxe"
#define XPXE_RUN_DIR	 "/run/xpxe"
#define XPXE_SOCKET_PATH XPXE_RUN_DIR "/xpxe.sock"

/* Name the XDP program carries in the kernel: how xpxe recognises its own. */
#define XPXE_PROG_NAME "xdp_pxe"

#endif /* XPXE_H */
