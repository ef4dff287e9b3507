/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TFTP: what the data plane (XDP and tc) and the daemon share. The daemon
 * answers each RRQ (names, options) and installs a session; from then on
 * every DATA block is built in the kernel from the client's ACK, out of the
 * asset maps laid out below.
 */
#ifndef XPXE_TFTP_H
#define XPXE_TFTP_H

#include <linux/types.h>

/* Opcodes and error codes (RFC 1350, 2347). */
#define XPXE_TFTP_RRQ	1
#define XPXE_TFTP_WRQ	2
#define XPXE_TFTP_DATA	3
#define XPXE_TFTP_ACK	4
#define XPXE_TFTP_ERROR 5
#define XPXE_TFTP_OACK	6

#define XPXE_TFTP_ERR_UNDEFINED	  0
#define XPXE_TFTP_ERR_NOT_FOUND	  1
#define XPXE_TFTP_ERR_ACCESS	  2
#define XPXE_TFTP_ERR_ILLEGAL_OP  4
#define XPXE_TFTP_ERR_UNKNOWN_TID 5
#define XPXE_TFTP_ERR_BAD_OPTION  8

/* The WRQ refusal, built by XDP and by the daemon alike (so both send the same bytes). */
#define XPXE_TFTP_MSG_READ_ONLY "read-only server"

/*
 * Block sizes: 512 without the option; a negotiated one is clamped to what a
 * 1500-byte MTU carries unfragmented (1500 - IPv4 20 - UDP 8 - TFTP 4), which
 * is also what the asset layout below is built for.
 */
#define XPXE_TFTP_BLKSIZE_DEFAULT 512
#define XPXE_TFTP_BLKSIZE_MIN	  8
#define XPXE_TFTP_BLKSIZE_MAX	  1468
#define XPXE_TFTP_HDRS_LEN	  46 /* Ethernet 14 + IPv4 20 + UDP 8 + TFTP 4 */

/*
 * Asset layout. An asset is an array map of chunks, each holding 64 KiB of the
 * file at offset index * 64 KiB, followed by a copy of the next 1472 bytes.
 * Any block of up to 1468 bytes therefore lies inside one chunk and is sent
 * with one copy from one map value, whatever the block size and offset.
 *
 * csum[i] is the folded one's complement sum of the chunk's bytes [0, 16 i) as
 * big-endian 16-bit words (the last byte zero-padded). The sum of a block's
 * bytes is then csum at its end minus csum at its start, plus at most 15
 * bytes at each end: the UDP checksum costs a few loads, not a pass over
 * 1468 bytes.
 */
#define XPXE_TFTP_CHUNK_SHIFT 16
#define XPXE_TFTP_CHUNK	      (1u << XPXE_TFTP_CHUNK_SHIFT)
#define XPXE_TFTP_CHUNK_TAIL  1472 /* >= BLKSIZE_MAX, a multiple of the stride */
#define XPXE_TFTP_CHUNK_DATA  (XPXE_TFTP_CHUNK + XPXE_TFTP_CHUNK_TAIL)
#define XPXE_TFTP_CSUM_SHIFT  4
#define XPXE_TFTP_CSUM_STRIDE (1u << XPXE_TFTP_CSUM_SHIFT)
#define XPXE_TFTP_CHUNK_CSUMS 4192 /* >= CHUNK_DATA / STRIDE + 1, rounded up to 8 bytes */

/*
 * Block sums. For the block sizes clients ask for most, each chunk also holds
 * the folded sum of every block that starts in it, as its DATA frame carries it
 * (big-endian words from the block's first byte; an odd last byte is the high
 * half of a word), computed once when the asset is loaded: the block's
 * checksum is then one load, not two prefix sums and the bytes beside them.
 * The final block's sum is of its own bytes (short, odd or empty). Its index:
 * xpxe_tftp_bsum_index. Other block sizes use csum[] above.
 *   1468: what a 1500-byte MTU carries, and what a client asking for more gets
 *   1432: iPXE's request; 1024: GRUB's; 512: no blksize option
 * A block starting at R in its chunk is the (R / blksize)th to start there: at
 * most ceil(65536 / blksize) per chunk, 45, 46, 64 and 128.
 */
#define XPXE_TFTP_BSUM_AT_1468 0
#define XPXE_TFTP_BSUM_AT_1432 45
#define XPXE_TFTP_BSUM_AT_1024 91
#define XPXE_TFTP_BSUM_AT_512  155
#define XPXE_TFTP_CHUNK_BSUMS  284 /* 283, rounded up to 8 bytes */

struct xpxe_tftp_chunk {
	__u8 data[XPXE_TFTP_CHUNK_DATA];
	__u16 csum[XPXE_TFTP_CHUNK_CSUMS];
	__u16 bsum[XPXE_TFTP_CHUNK_BSUMS];
};

/*
 * Where in bsum[] the sum of the block of BLKSIZE bytes that starts at R
 * (0..65535) in its chunk is; -1 for a block size without stored sums.
 * Constant divisors: the compiler multiplies.
 */
static inline int xpxe_tftp_bsum_index(__u32 blksize, __u32 r)
{
	r &= XPXE_TFTP_CHUNK - 1;
	switch (blksize) {
	case 1468:
		return XPXE_TFTP_BSUM_AT_1468 + r / 1468;
	case 1432:
		return XPXE_TFTP_BSUM_AT_1432 + r / 1432;
	case 1024:
		return XPXE_TFTP_BSUM_AT_1024 + (r >> 10);
	case 512:
		return XPXE_TFTP_BSUM_AT_512 + (r >> 9);
	}
	return -1;
}

/* The block sizes with stored sums, for the loader. */
#define XPXE_TFTP_BSUM_SIZES          \
	{                             \
		1468, 1432, 1024, 512 \
	}

/* Assets are published in slots of the outer map tftp_assets (array of maps). */
#define XPXE_TFTP_ASSET_SLOTS 256
/* The largest asset: 4 GiB - 1, so a byte offset and the block count fit in 32 bits. */
#define XPXE_TFTP_ASSET_MAX 0xffffffffull
/* Asset names: what an RRQ must name (after leading slashes are dropped). */
#define XPXE_TFTP_NAME_MAX 255

/* A transfer, as the client's ACKs name it: its address and port, and the server port. */
struct xpxe_tftp_key {
	__be32 client_ip;
	__be16 client_port;
	__be16 server_port;
};

/*
 * The same over IPv6, in tftp_sessions6 (the same session value): lockstep transfers, whose
 * ACKs xdp_tftp6 or tc_tftp answer with DATA frames of XPXE_TFTP_HDRS6_LEN bytes of headers,
 * and windowed ones where the interface has AF_XDP sockets: xdp_tftp6 redirects their ACKs
 * there, as IPv4's (userspace/tftp/v6.c).
 */
struct xpxe_tftp_key6 {
	__u8 client_ip[16];
	__be16 client_port;
	__be16 server_port;
};

#define XPXE_TFTP_HDRS6_LEN 66 /* Ethernet 14 + IPv6 40 + UDP 8 + TFTP 4 */

enum xpxe_tftp_state {
	XPXE_TFTP_ACTIVE = 1,
	XPXE_TFTP_DONE = 2,    /* the final block was acknowledged */
	XPXE_TFTP_ABORTED = 3, /* the client sent an ERROR (a tsize probe ends this way) */
};

struct xpxe_tftp_session {
	__u64 last_tx_ns;  /* CLOCK_MONOTONIC when the last DATA (or OACK) went out */
	__u32 size;	   /* the asset's size in bytes */
	__u32 asset_slot;  /* slot in tftp_assets */
	__u32 last_block;  /* full number of the last DATA sent; 0: only the OACK so far */
	__u32 final_block; /* number of the last (short, maybe empty) block: size / blksize + 1 */
	__u32 retransmits; /* DATA blocks sent again for a repeated ACK */
	__u32 win_base;	   /* the ACK the last window answered: it was win_base + 1 .. last_block */
	__u16 blksize;	   /* negotiated, XPXE_TFTP_BLKSIZE_MIN..MAX */
	__u16 windowsize;  /* negotiated (RFC 7440); 0 or 1: lockstep, one block per ACK */
	__u8 state;	   /* enum xpxe_tftp_state */
	__u8 client_error; /* the error code the client sent, when ABORTED */
	__u8 client_mac[6]; /* the RRQ's source MAC (tftp_rrq_macs), for the fleet view */
	__u8 restarted;	    /* the last window was sent again from an earlier ACK (resent > 0) */
	/*
	 * The daemon's number for the transfer (24 bits, little-endian), set as it creates the
	 * session and never written after. A program that decided a window records it only
	 * while this is unchanged (tftp_commit): the daemon clears a port's entry when its
	 * transfer ends and writes the port's next transfer there, under a program that may
	 * still hold the entry, and the old transfer's window would land in the new session.
	 */
	__u8 owner[3];
	/*
	 * IPv6: 1 << enum xpxe_tftp_path of each program that sent it a block (XDP, tc), so that
	 * its end event names its own path, not the interface's (tftp6_mark_path, under the
	 * owner check as tftp_commit). One byte at offset 48: owner took the old pad, so the
	 * struct grew from 48 to 56 bytes; pad, bytes 49-55, is free. A plain |=: lockstep ACKs
	 * come one at a time, and a bit lost to a repeated ACK only blurs an event.
	 */
	__u8 paths;
	__u8 pad[7];
};

/*
 * The source MAC of each RRQ, by client address and port (server_port 0),
 * noted by XDP as the RRQ passes up: the daemon's socket sees no MAC, and
 * the fleet view follows machines by MAC. Per RRQ, never per block.
 */
#define XPXE_TFTP_RRQ_MACS_MAX 4096

struct xpxe_tftp_rrq_mac {
	__u8 mac[6];
	__u8 pad[2];
};

/*
 * A repeated ACK n normally means DATA n+1 was lost: it is answered by sending
 * DATA n+1 again. One that arrives sooner than this after DATA n+1 went out is
 * instead the echo of a delayed duplicate DATA (the Sorcerer's Apprentice,
 * RFC 1123 4.2.3.1) and is ignored; no client retransmits that fast.
 */
#define XPXE_TFTP_DUP_GUARD_NS (50ull * 1000 * 1000)

/* Room for thousands of concurrent transfers. */
#define XPXE_TFTP_SESSIONS_MAX 16384

/*
 * The ports of IPv4 transfers. The daemon binds each transfer's socket (its server port, the
 * port its client ACKs) from a range, --tftp-port-range LOW-HIGH (downloads.tftp_port_range),
 * each port to one transfer at a time, so the programs find a block's session with one array
 * lookup, inlined by the verifier, at index (server port - LOW), where a hash map cost a
 * kernel call and a key compare per block (BENCHMARKS.md, issue 27). The default, 49152-65535,
 * is IANA's dynamic range: 16384 ports, as many as transfers may run at once
 * (--tftp-max-sessions at most); a range holds at least --tftp-max-sessions ports and at most
 * XPXE_TFTP_PORTS_MAX.
 */
#define XPXE_TFTP_PORTS_MAX	    16384
#define XPXE_TFTP_PORT_LOW_DEFAULT  49152
#define XPXE_TFTP_PORT_HIGH_DEFAULT 65535

/*
 * An entry of tftp_sessions: the transfer on that port, KEY its client's address and port and
 * the port itself. An entry whose key is not the ACK's (another client, or all zero: no
 * transfer on that port) is no session: the ACK passes, as one to no transfer.
 */
struct xpxe_tftp_entry {
	struct xpxe_tftp_key key;
	struct xpxe_tftp_session s;
};

/* The entry of tftp_sessions for server port PORT (host order) in a range from LOW; -1: none. */
static inline int xpxe_tftp_port_index(__u32 port, __u32 low)
{
	return port >= low && port - low < XPXE_TFTP_PORTS_MAX ? (int)(port - low) : -1;
}

/*
 * Windowed transfers (RFC 7440). The client asks for a window of W blocks per
 * ACK; xpxe grants up to the configured maximum (--tftp-windowsize-max), and
 * only where the daemon has AF_XDP sockets on the interface: an XDP program
 * answers one frame with one frame, so the W blocks of a window are sent by
 * the daemon through an AF_XDP socket, after XDP decided the window (the same
 * decision below for every path) and redirected the ACK to that socket.
 */
#define XPXE_TFTP_WINDOWSIZE_DEFAULT_MAX 16
#define XPXE_TFTP_WINDOWSIZE_LIMIT	 1024 /* fits the TX frames of one socket (xsk.c) */
/* AF_XDP sockets: one per RX queue, at most this many queues per interface. */
#define XPXE_TFTP_XSK_QUEUES_MAX 64

/*
 * What XDP hands the daemon in front of a redirected ACK (in the frame, before its
 * Ethernet header): the window to send, and where from. The reply's addresses and
 * ports are the ACK's own, swapped; on a VLAN (xpxe_vlan.h) the ACK arrives with its
 * tags off, and they are here, for the window's frames to carry as the ACK did. 32
 * bytes, taken from the frame's headroom.
 */
struct xpxe_tftp_xsk_meta {
	__u32 first_block; /* full block numbers */
	__u32 last_block;
	__u32 size; /* the asset's size and slot, as in the session */
	__u32 asset_slot;
	__u16 blksize;
	__u16 resent; /* blocks of the window sent before (a restart when > 0) */
	__u16 magic;  /* XPXE_TFTP_XSK_MAGIC: what the daemon checks first */
	__u16 ntags;  /* 0: untagged; 1 or 2: the ACK's tags below, outer first */
	__be16 tpid[2];
	__be16 tci[2]; /* as on the wire: VID and priority bits */
};

#define XPXE_TFTP_XSK_MAGIC 0x7877

/* What an ACK asks for. */
enum xpxe_tftp_verdict {
	XPXE_TFTP_SEND,	     /* send blocks first..last of struct xpxe_tftp_window */
	XPXE_TFTP_COMPLETED, /* the ACK of the final block: the transfer is done */
	XPXE_TFTP_DUP,	     /* a repeated ACK too soon after its window: ignored */
	XPXE_TFTP_STALE,     /* an ACK of no block of the last window */
};

struct xpxe_tftp_window {
	__u32 acked;	   /* full number of the block the ACK names */
	__u32 first, last; /* the blocks to send, full numbers */
	__u32 resent;	   /* how many of them were sent before */
};

/*
 * The one decision about an ACK, made by XDP and tc (lockstep, one block per
 * ACK), XDP for windows sent through AF_XDP, and tc for windows the daemon
 * sends through its UDP socket: pure, so that whoever decides commits it in
 * place (tftp_commit). The daemon never writes a running session: a write of
 * the whole value would undo what the programs wrote meanwhile.
 *
 * The last window was blocks win_base + 1 .. last_block. ACK n is read as the
 * full block number in [win_base, last_block] that ends in n (16-bit numbers
 * roll over); any other is stale. The ACK of the window's last block asks for
 * the next window; the ACK of an earlier block says the blocks after it were
 * lost: the window starts again right after it (RFC 7440 section 4). With a
 * window of 1 this is the lockstep rule: ACK n of DATA n gets DATA n+1, ACK
 * n-1 gets DATA n again.
 *
 * A repeated ACK of win_base sooner than XPXE_TFTP_DUP_GUARD_NS after the
 * window went out: in lockstep it is the echo of a duplicate, not a loss (the
 * Sorcerer's Apprentice), and is ignored; no client times out that fast, so a
 * loss is still answered at the client's retry. In a window it is what a
 * client sends at once when a later block arrives and the window's first one
 * did not: the window starts again now, not at the client's timeout. Only
 * once: when the window was itself such a restart, the re-ACKs the rest of the
 * lost window's blocks bring are ignored (one restart per loss, no storm).
 */
static inline enum xpxe_tftp_verdict xpxe_tftp_decide(const struct xpxe_tftp_session *s, __u16 ack,
						      __u64 now_ns, struct xpxe_tftp_window *w)
{
	__u32 base = s->win_base, last = s->last_block, final = s->final_block;
	__u32 ws = s->windowsize > 1 ? s->windowsize : 1;
	__u32 m = base + (__u16)(ack - (__u16)base);

	if (m > last)
		return XPXE_TFTP_STALE;
	if (m == last && last >= final)
		return XPXE_TFTP_COMPLETED;
	/* The coarse clocks of the daemon and the programs may differ by a tick: signed. */
	if (m == base && m < last && (ws <= 1 || s->restarted) &&
	    (__s64)(now_ns - s->last_tx_ns) < (__s64)XPXE_TFTP_DUP_GUARD_NS)
		return XPXE_TFTP_DUP;
	if (m >= final)
		return XPXE_TFTP_STALE; /* a session the daemon never wrote */
	w->acked = m;
	w->first = m + 1;
	w->last = final - m > ws ? m + ws : final;
	w->resent = last > m ? (w->last < last ? w->last : last) - m : 0;
	return XPXE_TFTP_SEND;
}

/*
 * The tc fallback (clsact ingress), for drivers where XDP cannot grow an ACK
 * into a DATA frame: its program name, pin and filter handle/priority, by
 * which xpxe finds its own filter again (after a restart, or to detach it).
 */
#define XPXE_TFTP_TC_PROG_NAME "tc_tftp"
#define XPXE_TFTP_PIN_TC_PROG  "tc_tftp"
#define XPXE_TFTP_TC_HANDLE    0x7870
#define XPXE_TFTP_TC_PRIO      1

#endif /* XPXE_TFTP_H */
