/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_TFTP_PROTO_H
#define XPXE_TFTP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xpxe_tftp.h"

/*
 * The TFTP requests the daemon answers (RFC 1350, options per RFC 2347/2348/
 * 2349), as pure functions: bytes in, a decision and bytes out. The sockets
 * live in tftp.c.
 */

/* The longest answer the daemon builds: an OACK or an ERROR. */
#define XPXE_TFTP_REPLY_MAX 512

/* Options in the order the client listed them; only those xpxe answers. */
enum xpxe_tftp_opt {
	XPXE_TFTP_OPT_BLKSIZE,
	XPXE_TFTP_OPT_TSIZE,
	XPXE_TFTP_OPT_TIMEOUT,
	XPXE_TFTP_OPT_WINDOWSIZE,
	XPXE_TFTP_OPT_MAX,
};

struct xpxe_tftp_request {
	int opcode;
	char name[XPXE_TFTP_NAME_MAX + 1]; /* leading slashes dropped */
	unsigned long opt_value[XPXE_TFTP_OPT_MAX];
	int opt_order[XPXE_TFTP_OPT_MAX]; /* enum xpxe_tftp_opt, in the client's order */
	int n_opts;
};

/* Why a request is refused: the ERROR to send (code < 0: send nothing). */
struct xpxe_tftp_refusal {
	int code;
	char message[128];
};

/*
 * Parses a request received on port 69. Returns 0 with REQ filled when it is
 * an RRQ for a name that may be an asset, or -1 with WHY filled: a WRQ (4), a
 * malformed request (4), another opcode (4; an ERROR or ACK gets no answer,
 * code -1), a mode other than octet (0 for netascii and mail, else 4), a name
 * that climbs out with '..' (2), an over-long or empty name (1), an option with
 * a bad value (blksize 8..65464, timeout 1..255, windowsize 1..65535) or given
 * twice (8). See "TFTP" in README.md.
 */
int xpxe_tftp_parse_request(const void *buf, size_t len, struct xpxe_tftp_request *req,
			    struct xpxe_tftp_refusal *why);

/* What is negotiated for one transfer. */
/*
 * The largest timeout option granted. A transfer lasts at least three of its client's timeouts
 * without an ACK: 255 s would let one forged RRQ hold a session for 13 minutes. 10 s keeps
 * that within the default --tftp-idle-timeout; a larger ask is declined (left out of the
 * OACK: RFC 2349 lets the server only echo the value), and the client keeps its own timeout.
 */
#define XPXE_TFTP_TIMEOUT_MAX 10

struct xpxe_tftp_plan {
	unsigned blksize;
	unsigned windowsize; /* 1: lockstep */
	unsigned timeout_s;  /* 0: none asked */
	uint8_t oack[XPXE_TFTP_REPLY_MAX];
	size_t oack_len; /* 0: no option accepted, the answer is DATA 1 */
};

/*
 * Negotiates REQ's options for an asset of SIZE bytes on an interface that
 * carries at most BLKSIZE_MAX bytes per block and sends windows of at most
 * WINDOWSIZE_MAX blocks: blksize clamped, tsize answered with SIZE (left out
 * when SIZE is 0), timeout echoed up to XPXE_TFTP_TIMEOUT_MAX (left out above), windowsize clamped
 * (left out when that leaves 1: the client then goes lockstep, as RFC 7440 says), others left out.
 */
void xpxe_tftp_negotiate(const struct xpxe_tftp_request *req, uint64_t size, unsigned blksize_max,
			 unsigned windowsize_max, struct xpxe_tftp_plan *plan);

/* Writes an ERROR packet into BUF (XPXE_TFTP_REPLY_MAX bytes); returns its length. */
size_t xpxe_tftp_error_packet(uint8_t *buf, int code, const char *message);

/* The largest block for an interface MTU (IPv4, UDP and TFTP headers), within the layout. */
unsigned xpxe_tftp_blksize_for_mtu(unsigned mtu);

/* The number of DATA blocks a transfer of SIZE bytes takes (the last one short, maybe empty). */
static inline uint64_t xpxe_tftp_blocks(uint64_t size, unsigned blksize)
{
	return size / blksize + 1;
}

/*
 * DATA frames built by the daemon (the blocks of windows sent through AF_XDP),
 * byte for byte what the programs build (bpf/tftp.h): the reply to an ACK, from
 * the asset's chunks, with the checksums made of the chunks' prefix sums.
 */

/*
 * Where a reply goes: the ACK's addresses and ports, swapped. All in network order. IPV6:
 * the addresses are CLIENT_IP6 and SERVER_IP6 (the frame is IPv6's), else CLIENT_IP and
 * SERVER_IP.
 */
struct xpxe_tftp_peer {
	uint8_t client_mac[6], server_mac[6];
	bool ipv6;
	uint32_t client_ip, server_ip;
	uint8_t client_ip6[16], server_ip6[16];
	uint16_t client_port, server_port;
};

/*
 * Reads the peer from an ACK frame (Ethernet, then IPv4 or IPv6 without extension headers,
 * UDP). Returns 0, or -1 when it is not one.
 */
int xpxe_tftp_peer_from_frame(const uint8_t *frame, size_t len, struct xpxe_tftp_peer *p);

/* The length of the headers in front of a block to P: XPXE_TFTP_HDRS_LEN or _HDRS6_LEN. */
static inline size_t xpxe_tftp_hdrs_len(const struct xpxe_tftp_peer *p)
{
	return p->ipv6 ? XPXE_TFTP_HDRS6_LEN : XPXE_TFTP_HDRS_LEN;
}

/*
 * The one's complement sum of chunk bytes [R, R + LEN) (R + LEN within the
 * chunk's data) as a packet that starts them at an even offset sees it.
 */
uint16_t xpxe_tftp_chunk_sum(const struct xpxe_tftp_chunk *c, uint32_t r, uint32_t len);

/*
 * Writes DATA BLOCK (full number, from 1) of an asset of SIZE bytes in
 * N_CHUNKS chunks, BLKSIZE bytes a block, as TFTP payload into BUF (4 + up to
 * BLKSIZE bytes); *SUM gets the payload's sum. Returns the payload's length,
 * or 0 when the block is not in the asset.
 */
size_t xpxe_tftp_data_payload(uint8_t *buf, const struct xpxe_tftp_chunk *chunks, uint32_t n_chunks,
			      uint64_t size, unsigned blksize, uint32_t block, uint32_t *sum);

/*
 * The whole frame of DATA BLOCK to P (xpxe_tftp_hdrs_len + its bytes), over IPv4 or IPv6 as P
 * says, with its UDP checksum (never 0: mandatory over IPv6). Returns its length or 0.
 */
size_t xpxe_tftp_data_frame(uint8_t *frame, const struct xpxe_tftp_peer *p,
			    const struct xpxe_tftp_chunk *chunks, uint32_t n_chunks, uint64_t size,
			    unsigned blksize, uint32_t block);

#endif /* XPXE_TFTP_PROTO_H */
