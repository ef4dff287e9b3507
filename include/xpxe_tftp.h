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

struct xpxe_tftp_chunk {
	__u8 data[XPXE_TFTP_CHUNK_DATA];
	__u16 csum[XPXE_TFTP_CHUNK_CSUMS];
};

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
	__u16 blksize;	   /* negotiated, XPXE_TFTP_BLKSIZE_MIN..MAX */
	__u8 state;	   /* enum xpxe_tftp_state */
	__u8 client_error; /* the error code the client sent, when ABORTED */
};

/*
 * A repeated ACK n normally means DATA n+1 was lost: it is answered by sending
 * DATA n+1 again. One that arrives sooner than this after DATA n+1 went out is
 * instead the echo of a delayed duplicate DATA (the Sorcerer's Apprentice,
 * RFC 1123 4.2.3.1) and is ignored; no client retransmits that fast.
 */
#define XPXE_TFTP_DUP_GUARD_NS (50ull * 1000 * 1000)

/* Room for thousands of concurrent transfers; the least recently used go first. */
#define XPXE_TFTP_SESSIONS_MAX 16384

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
