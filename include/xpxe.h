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
	XPXE_CNT_PASS_VLAN, /* one tag of a VLAN not configured (bpf/vlan.h), passed untouched */
	XPXE_CNT_PASS_NOT_IPV4,
	XPXE_CNT_PASS_TRUNCATED_IPV4,
	XPXE_CNT_PASS_BAD_IPV4_HEADER,
	XPXE_CNT_PASS_IPV4_FRAGMENT,
	XPXE_CNT_PASS_MULTI_BUFFER, /* longer than the driver's first buffer (jumbo MTU): passed */
	XPXE_CNT_PASS_NOT_UDP,
	XPXE_CNT_PASS_TRUNCATED_UDP,
	XPXE_CNT_PASS_OTHER_PORT,
	XPXE_CNT_PASS_DHCP, /* DHCP answering is off on this interface */
	XPXE_CNT_PASS_TFTP,
	/*
	 * A request xpxe would act on (DHCP or port 4011, a TFTP RRQ or WRQ) whose UDP checksum
	 * is wrong: passed unanswered; the stack drops it.
	 */
	XPXE_CNT_PASS_BAD_UDP_CSUM,
	/* A TFTP ACK or ERROR whose UDP checksum is wrong: dropped (passed, tc_tftp answers it). */
	XPXE_CNT_DROP_BAD_UDP_CSUM,
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
	XPXE_CNT_PASS_DHCP_OTHER_SERVER, /* a REQUEST (67 or 4011) whose option 54 is not us */
	XPXE_CNT_PASS_DHCP_IGNORED, /* BOOTREPLY, or a message type this mode does not answer */
	XPXE_CNT_PASS_DHCP_NO_ROOM, /* the driver gave no room to grow the frame */
	/*
	 * Proxy mode: a PXE DISCOVER is for this host's own DHCP server as well (one may run, or
	 * start, beside xpxe), so XDP passes it and tc_tftp answers it after a copy of the frame,
	 * untouched, went up to the stack (bpf/dhcp_tc.h). tc counts the OFFER in dhcp_offer, or
	 * why it sent none in the pass_dhcp_* counters above or drop_dhcp_rate_* below. In
	 * generic XDP mode xdp_pxe runs on the copy as well (skbs sent back in meet it again), so
	 * there each such DISCOVER counts twice in rx_frames and dhcp_proxy_to_tc.
	 */
	XPXE_CNT_DHCP_PROXY_TO_TC,   /* XDP: a proxy-mode PXE DISCOVER passed for tc to answer */
	XPXE_CNT_DHCP_TC_STACK_COPY, /* tc: the stack's copy of a DISCOVER it answered, passed up */
	XPXE_CNT_DHCP_TC_NO_COPY,    /* tc: no copy could be made: the frame passed, unanswered */
	/* TFTP */
	/*
	 * pass_tftp above counts the RRQs (and other requests to port 69) passed to
	 * the daemon. Below: the XDP outcomes, then the tc program's outcomes, two
	 * tallies and the daemon's own counts, each group marked.
	 */
	XPXE_CNT_TFTP_DATA_XDP,	  /* an ACK answered with the next DATA by XDP_TX */
	XPXE_CNT_TFTP_ACK_TO_TC,  /* an ACK left to the tc program: no room to grow it here */
	XPXE_CNT_TFTP_DATA_TC,	  /* tc: an ACK answered with the next DATA (bpf_redirect) */
	XPXE_CNT_TFTP_TC_NO_ROOM, /* tc: the frame could not be grown either; passed */
	XPXE_CNT_TFTP_TC_PASS,	  /* tc: not an ACK it answers (none, or a window's: recorded
				   * for the daemon's socket, which sends it); passed up */
	XPXE_CNT_TFTP_SESSIONS_COMPLETED, /* the ACK of the final block (dropped) */
	XPXE_CNT_TFTP_SESSIONS_ABORTED,	  /* an ERROR from the client, e.g. after a tsize probe */
	XPXE_CNT_TFTP_ACK_STALE,       /* an ACK of no block in flight, or of an ended transfer */
	XPXE_CNT_TFTP_ACK_DUP_IGNORED, /* a repeated ACK too soon: the Sorcerer's Apprentice */
	XPXE_CNT_TFTP_PASS_SESSION,    /* another opcode to a transfer port: to the daemon */
	XPXE_CNT_TFTP_NO_ASSET,	       /* the transfer's asset is not in its slot: passed */
	XPXE_CNT_TFTP_WRQ_REFUSED,     /* a WRQ answered with ERROR 4 by XDP_TX */
	XPXE_CNT_TFTP_BUILD_FAILED,    /* a grown frame could not be written (never expected) */
	/* Tallies, not outcomes: XDP and tc add to them besides counting the outcome. */
	XPXE_CNT_TFTP_BYTES,	   /* DATA payload bytes sent by XDP (XDP_TX) */
	XPXE_CNT_TFTP_RETRANSMITS, /* DATA blocks sent again for a repeated ACK */
	XPXE_CNT_TFTP_BYTES_TC,	   /* DATA payload bytes sent by tc (not in tftp_bytes) */
	/* Written by the daemon only (the RRQ slow path): never by a program. */
	XPXE_CNT_TFTP_RRQ,		/* RRQs answered with an OACK or DATA 1 */
	XPXE_CNT_TFTP_RRQ_REPEATED,	/* an RRQ repeated by a client: its answer sent again */
	XPXE_CNT_TFTP_DATA_DAEMON,	/* DATA 1 sent by the daemon (RRQs without options), and
					   final blocks it sent again (no final ACK in time) */
	XPXE_CNT_TFTP_SESSIONS_OPENED,	/* transfers installed in tftp_sessions */
	XPXE_CNT_TFTP_SESSIONS_EXPIRED, /* transfers whose client went silent */
	/* Ended as done: the final block went out (and again), its ACK never came (RFC 1350 6) */
	XPXE_CNT_TFTP_FINAL_ACK_MISSING,
	XPXE_CNT_TFTP_ERR_UNDEFINED,   /* ERROR 0 sent (e.g. netascii asked for) */
	XPXE_CNT_TFTP_ERR_NOT_FOUND,   /* ERROR 1 sent */
	XPXE_CNT_TFTP_ERR_ACCESS,      /* ERROR 2 sent ('..' in a name) */
	XPXE_CNT_TFTP_ERR_ILLEGAL_OP,  /* ERROR 4 sent (WRQ, malformed request) */
	XPXE_CNT_TFTP_ERR_UNKNOWN_TID, /* ERROR 5 sent to a stranger on a transfer port */
	XPXE_CNT_TFTP_ERR_BAD_OPTION,  /* ERROR 8 sent */
	/*
	 * Windowed transfers (RFC 7440): XDP's outcomes for the ACKs of windows,
	 * then the daemon's counts (it sends the windows).
	 */
	XPXE_CNT_TFTP_ACK_TO_XSK,    /* window decided; the ACK redirected to the daemon's AF_XDP */
	XPXE_CNT_TFTP_ACK_TO_DAEMON, /* no AF_XDP socket on its queue: passed up to its port */
	/* Written by the daemon only. */
	XPXE_CNT_TFTP_WINDOWS,	       /* windows sent (AF_XDP or the transfer's UDP socket) */
	XPXE_CNT_TFTP_WINDOW_RESTARTS, /* windows started again after an ACK of an earlier block */
	XPXE_CNT_TFTP_DATA_XSK,	       /* DATA blocks of windows sent through AF_XDP */
	XPXE_CNT_TFTP_DATA_WINDOW_UDP, /* ... through the transfer's UDP socket (AF_XDP fallback) */
	XPXE_CNT_TFTP_WINDOW_RESENT,   /* DATA blocks of windows that were sent before */
	XPXE_CNT_TFTP_XSK_TX_FULL,     /* DATA blocks not sent: AF_XDP had no free frame or slot */
	XPXE_CNT_TFTP_BYTES_DAEMON,    /* DATA payload bytes the daemon's UDP sockets sent (DATA 1,
					* windows without AF_XDP) */
	XPXE_CNT_TFTP_BYTES_XSK,       /* DATA payload bytes of windows sent through AF_XDP */
	/*
	 * Abuse limits (SECURITY.md): XDP's drops of DHCP requests over a rate,
	 * then the daemon's refusals (it writes those).
	 */
	/* A proxy-mode DISCOVER over a rate is not answered but still passed up (tc): not ours
	   alone. */
	XPXE_CNT_DROP_DHCP_RATE_MAC,	/* over its MAC's rate (dhcp.mac_rate): dropped */
	XPXE_CNT_DROP_DHCP_RATE_GLOBAL, /* a MAC not in dhcp_clients, over this CPU's rate */
	/* Written by the daemon only. */
	XPXE_CNT_DHCP_OFFER_HOLDS,     /* pool addresses held for a new MAC's DISCOVER */
	XPXE_CNT_DHCP_HOLDS_RECLAIMED, /* holds given to another MAC: no REQUEST in time */
	XPXE_CNT_DHCP_POOL_EXHAUSTED,  /* new MACs refused: no free, held-out or expired address */
	XPXE_CNT_DHCP_REQUEST_UNOFFERED, /* REQUESTs of a MAC with no offer nor binding: silence */
	XPXE_CNT_TFTP_SESSIONS_REFUSED,	 /* RRQs answered ERROR 0 at tftp.max_sessions */
	XPXE_CNT_TFTP_SESSIONS_REFUSED_PER_IP, /* ... at --tftp-max-per-ip from one address */
	XPXE_CNT_TFTP_SESSIONS_UNCONFIRMED,    /* dropped before their first ACK, for a newer RRQ */
	XPXE_CNT_TFTP_SESSIONS_REPLACED, /* ended by a new RRQ from the same address and port */
	/*
	 * IPv6 Router Solicitations (bpf/ndp.h); other IPv6 frames count in pass_not_ipv4 (but
	 * for UDP 69: pass_tftp6).
	 */
	XPXE_CNT_NDP_RA_SENT,	      /* an RS answered with an empty RA by XDP_TX */
	XPXE_CNT_PASS_NDP_RS_IGNORED, /* a valid RS not ours to answer: off, or not our machine */
	XPXE_CNT_PASS_NDP_RS_INVALID, /* fails RFC 4861 6.1.1 (or longer than xpxe parses) */
	XPXE_CNT_PASS_NDP_NO_ROOM,    /* the frame could not be resized into the RA */
	XPXE_CNT_PASS_NDP_RS_RATE,    /* an RS past its MAC's DHCP rate limit: not answered */
	/*
	 * DHCPv6 to UDP 547 or 4011 (bpf/dhcp6.h, proxy-like answers). A bad checksum counts in
	 * pass_bad_udp_csum, rate limits in drop_dhcp_rate_*, an unknown machine or a class
	 * with nothing to boot in pass_dhcp_unknown_machine and pass_dhcp_no_boot_file.
	 */
	XPXE_CNT_PASS_IPV6_EXT_HEADER,	  /* an IPv6 frame with extension headers: not parsed */
	XPXE_CNT_DHCP6_ADVERTISE,	  /* a Solicit answered with an Advertise by XDP_TX */
	XPXE_CNT_DHCP6_REPLY,		  /* a Request or Information-request answered (Reply) */
	XPXE_CNT_PASS_DHCP6,		  /* DHCPv6 answering is off on this interface */
	XPXE_CNT_PASS_DHCP6_MALFORMED,	  /* lying lengths, truncated options, no client id... */
	XPXE_CNT_PASS_DHCP6_RELAY,	  /* Relay-forward/Relay-reply: not answered */
	XPXE_CNT_PASS_DHCP6_IGNORED,	  /* a message type xpxe does not answer (Renew, ...) */
	XPXE_CNT_PASS_DHCP6_NOT_PXE,	  /* no vendor class, user class iPXE or ORO 59 */
	XPXE_CNT_PASS_DHCP6_OTHER_SERVER, /* a Request naming another server's DUID */
	XPXE_CNT_PASS_DHCP6_TO_DAEMON,	  /* full mode with a pool6: a client's message, to 547 */
	XPXE_CNT_DHCP6_REPLY_BOUND,	  /* full mode: a bound machine's Renew, Rebind, Request,
					     Confirm or Information-request answered from
					     dhcp6_bindings (xdp_dhcp6_bound) */
	XPXE_CNT_DHCP6_TAIL_CALL_FAILED,  /* full mode: a renewal xdp_dhcp6_bound would answer,
					     passed to the daemon: the tail call failed (its
					     prog array empty, or refused under the dispatcher) */
	XPXE_CNT_PASS_DHCP6_BAD_FRAME,	  /* xdp_dhcp6_bound: a source not link-local, or a
					     destination MAC neither ours nor a group's: the
					     daemon's bad_frame (it drops it) */
	/* VLAN trunks (bpf/vlan.h); pass_vlan above counts a tag of a VLAN not configured. */
	XPXE_CNT_PASS_VLAN_QINQ,     /* two tags no configured VLAN has (or three): untouched */
	XPXE_CNT_PASS_VLAN_PRIORITY, /* a priority tag (VID 0): untouched, the kernel's */
	/* Tallies, not outcomes: a frame of a configured VLAN also ends in one outcome above. */
	XPXE_CNT_VLAN_RX,	    /* frames of configured VLANs, their tags taken off by XDP */
	XPXE_CNT_VLAN_PCP,	    /* ... with priority bits, kept on what goes back */
	XPXE_CNT_VLAN_RETAG_FAILED, /* XDP, tc_tftp: tags could not go back on: dropped (never
				       expected) */
	XPXE_CNT_VLAN_TC_POPPED,    /* tc: frames for a VLAN's address untagged for the kernel */
	XPXE_CNT_VLAN_TC_PUSHED,    /* tc egress: frames from a VLAN's address tagged */
	/* Full mode: a request of a MAC bound on another network (VLAN/untagged): to the daemon */
	XPXE_CNT_DHCP_OTHER_NET,
	/*
	 * TFTP over IPv6, written by the daemon (but pass_tftp6): its sockets send the first block
	 * of each transfer and every block of windows; tc_tftp the rest (below). Its RRQs,
	 * errors, refusals and payload bytes also count in tftp_rrq, tftp_err_*, tftp_sessions_*
	 * and tftp_bytes_daemon, as IPv4's do.
	 */
	XPXE_CNT_PASS_TFTP6,	      /* XDP: an IPv6 frame to UDP 69, passed to the daemon */
	XPXE_CNT_TFTP6_RRQ,	      /* RRQs over IPv6 answered with an OACK or DATA 1 */
	XPXE_CNT_TFTP6_DATA,	      /* DATA blocks sent over IPv6 by the daemon */
	XPXE_CNT_TFTP6_RETRANSMITS,   /* ... of them sent again (a repeated ACK, or our timeout) */
	XPXE_CNT_TFTP6_COMPLETED,     /* IPv6 transfers whose final block was acknowledged */
	XPXE_CNT_TFTP6_COMPLETED_UDP, /* ... of them, the daemon's socket saw that ACK (windows,
				       taken over): the programs count theirs in
				       tftp_sessions_completed */
	XPXE_CNT_TFTP6_ABORTED,	      /* ... ended by the client's ERROR (a tsize probe, say) */
	/*
	 * tc_tftp, on IPv6 frames: lockstep transfers the daemon installed in tftp_sessions6
	 * get their DATA blocks from tc, as IPv4's (tftp_ack_stale, tftp_ack_dup_ignored,
	 * tftp_retransmits, tftp_bytes_tc and tftp_no_asset count for both families).
	 */
	XPXE_CNT_TFTP6_DATA_TC,		/* tc: an IPv6 ACK answered with the next DATA */
	XPXE_CNT_TFTP6_TC_EXT_HDR,	/* tc: IPv6 with an extension header: to the stack */
	XPXE_CNT_TFTP6_TC_TRUNCATED,	/* tc: a session's IPv6 frame with lengths that do not
					   hold: to the stack, which drops it */
	XPXE_CNT_TFTP6_DROP_BAD_CSUM,	/* tc: a session's IPv6 ACK with a wrong or zero UDP
					   checksum: dropped */
	XPXE_CNT_TFTP6_TC_PASS_SESSION, /* tc: a session's IPv6 frame not a plain ACK (ERROR,
					   trailing bytes): to the daemon's socket */
	XPXE_CNT_TFTP6_TAKEOVER,	/* daemon: an ACK of a transfer tc served reached its
					   socket (tc passed it up): the daemon serves the rest */
	/*
	 * A tally, not an outcome (the frame's is dhcp_offer): a proxy-mode PXE DISCOVER answered
	 * by xdp_pxe itself (XDP_TX), on a VLAN or, with no DHCP server on this host
	 * (XPXE_DHCP_F_LOCAL_SERVER clear), on the untagged network.
	 */
	XPXE_CNT_DHCP_PROXY_XDP,
	/*
	 * xdp_tftp6, tail-called by xdp_pxe for an IPv6 frame shaped like a TFTP ACK: a lockstep
	 * transfer's next DATA block by XDP_TX (its bytes in tftp_bytes), as IPv4's; where it
	 * cannot (no room to grow the frame, no tail call, not a plain ACK) the frame goes on to
	 * tc_tftp, which serves it (tftp6_data_tc).
	 */
	XPXE_CNT_TFTP6_DATA_XDP,  /* XDP: an IPv6 ACK answered with the next DATA by XDP_TX */
	XPXE_CNT_TFTP6_XDP_TO_TC, /* XDP: an IPv6 frame shaped like an ACK, left to tc_tftp */
	/*
	 * IPv6 windows go as IPv4's: xdp_tftp6 redirects a window's ACK to AF_XDP (counted in
	 * tftp_ack_to_xsk, or tftp_ack_to_daemon without a socket) and the daemon builds its
	 * blocks (tftp_data_xsk, tftp_windows, tftp_bytes_xsk): those of them over IPv6.
	 */
	XPXE_CNT_TFTP6_DATA_XSK, /* daemon: DATA blocks of IPv6 windows sent through AF_XDP */
	XPXE_CNT_MAX,
};

/* Pinned below /sys/fs/bpf/xpxe/<ifname>/ (see userspace/pins.c). */
#define XPXE_BPFFS_ROOT "/sys/fs/bpf"
#define XPXE_PIN_ROOT	XPXE_BPFFS_ROOT "/xpxe"
#define XPXE_PIN_PROG	"xdp_pxe"
#define XPXE_PIN_LAYOUT "layout" /* the build that made the pins: see dataplane.c */
/* The filled tail-call slots of the attached program (prog arrays: xdp_dhcp6_bound's, xdp_tftp6's),
 * pinned so the kernel keeps them while no daemon runs; never reused (see dataplane.c). */
#define XPXE_PIN_TAIL_CALLS	  "tail_calls"
#define XPXE_PIN_TAIL_CALLS_TFTP6 "tail_calls_tftp6"
#define XPXE_RUN_DIR		  "/run/xpxe"
#define XPXE_SOCKET_PATH	  XPXE_RUN_DIR "/xpxe.sock"

/*
 * The skb mark of the copy of a proxy-mode DISCOVER that tc_tftp sends back in on ingress for
 * the stack (bpf/dhcp_tc.h): the copy passes tc_tftp again, which knows it by this mark and
 * clears it. A mark crosses a redirect within a namespace (skb_scrub_packet clears it only
 * across namespaces). The bytes spell "xpxe". Not the only guard: another filter may rewrite
 * marks (dhcp_tc_copies, xpxe_dhcp.h).
 */
#define XPXE_SKB_MARK_STACK_COPY 0x78707865

/* Names the XDP program carries in the kernel: how xpxe recognises its own. The second is
 * its multi-buffer build (bpf/xpxe.bpf.c), attached instead where an MTU needs it. */
#define XPXE_PROG_NAME	     "xdp_pxe"
#define XPXE_PROG_NAME_FRAGS "xdp_pxe_frags"

#endif /* XPXE_H */
