/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TFTP in the data plane: the maps, the ACK -> DATA decision and the block
 * builder, shared by the XDP program and its tc fallback (see xpxe.bpf.c).
 * The daemon answers RRQs and installs sessions; everything here runs per
 * ACK and must stay cheap: one session lookup, two array lookups, one copy,
 * and a checksum made of precomputed sums (see xpxe_tftp.h): the block's own
 * for the common block sizes, two prefix sums for the others. For windowed
 * transfers (RFC 7440) XDP decides the window and redirects the ACK, with the
 * window written in front of it, to the daemon's AF_XDP socket, which sends it.
 */
#ifndef XPXE_BPF_TFTP_H
#define XPXE_BPF_TFTP_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xpxe.h"
#include "xpxe_tftp.h"
#include "parse.h"
#include "csum.h"
#include "events.h"
#include "tftp_asset.h"

/* IPv4's transfers, by server port: the entry at (port - tftp_port_low) (xpxe_tftp.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XPXE_TFTP_PORTS_MAX);
	__type(key, __u32);
	__type(value, struct xpxe_tftp_entry);
} tftp_sessions SEC(".maps");

/*
 * The low port of the daemon's range (--tftp-port-range), set by the loader before the
 * programs load: a constant to the verifier, so the index costs a subtraction.
 */
const volatile __u32 tftp_port_low = XPXE_TFTP_PORT_LOW_DEFAULT;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XPXE_TFTP_RRQ_MACS_MAX);
	__type(key, struct xpxe_tftp_key);
	__type(value, struct xpxe_tftp_rrq_mac);
} tftp_rrq_macs SEC(".maps");

/*
 * The daemon's AF_XDP sockets, by RX queue: where XDP redirects the ACKs of
 * windowed transfers. An empty slot (no daemon, or AF_XDP refused) sends them
 * to the daemon's UDP socket of the transfer instead (tftp_ack_to_daemon).
 */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XPXE_TFTP_XSK_QUEUES_MAX);
	__type(key, __u32);
	__type(value, __u32);
} tftp_xsks SEC(".maps");

/*
 * Set once XDP could not grow an ACK into a full block on this interface (veth,
 * NICs with 2 KiB buffers). From then on XDP hands every ACK-looking frame to
 * tc_tftp, which looks the session up anyway, without a lookup of its own.
 * Each interface loads its own copy of the programs: this is per interface.
 */
__u32 tftp_xdp_no_room;

enum tftp_action {
	TFTP_SEND,     /* answer with the block described by struct tftp_block */
	TFTP_DROP,     /* consumed: nothing to send */
	TFTP_PASS,     /* not ours to answer: to the next layer */
	TFTP_REDIRECT, /* a window: the ACK goes to the daemon's AF_XDP socket */
};

/* What an ACK asks for: the block to send, and where the reply goes. */
struct tftp_block {
	struct xpxe_tftp_session *s;
	const struct xpxe_tftp_chunk *chunk; /* the chunk that holds the block */
	const __u8 *src;		     /* the block's bytes, inside it */
	__u64 off;			     /* the block's offset in the asset */
	__u32 len;			     /* 0..blksize */
	__u32 block;			     /* full (32-bit) block number */
	struct xpxe_tftp_window win;	     /* the window it starts (block = win.first) */
	__u32 data_sum; /* one's complement sum of the bytes, as the packet aligns them */
	__u64 now_ns;	/* the coarse clock when the ACK was decided; its send time too */
	__be32 client_ip, server_ip;
	__be16 client_port, server_port;
	__u8 client_mac[ETH_ALEN], server_mac[ETH_ALEN];
	bool retransmit;
	bool summed; /* data_sum is the stored sum, read by tftp_load_block */
	__u32 owner; /* the session's owner when the window was decided (tftp_commit) */
};

static __always_inline __u32 tftp_owner(const struct xpxe_tftp_session *s)
{
	return s->owner[0] | (__u32)s->owner[1] << 8 | (__u32)s->owner[2] << 16;
}

/*
 * Whether a frame was sent to one host: a unicast MAC and a unicast IPv4
 * destination. The data plane answers from the request's destination, so an
 * answer to a broadcast or multicast request would leave from a group MAC or
 * address, which receivers discard (and IEEE 802.3 and RFC 1122 forbid). Such
 * requests are the daemon's: its socket answers from the interface's address.
 */
static __always_inline bool tftp_to_unicast(const struct ethhdr *eth, const struct iphdr *iph)
{
	__u32 daddr = bpf_ntohl(iph->daddr);

	/* Not 0.0.0.0, not 224.0.0.0/4 (multicast), not 240.0.0.0/4 (255.255.255.255 included). */
	return !(eth->h_dest[0] & 1) && daddr && (daddr >> 28) < 0xe;
}

/* Adds N to a per-CPU tally (the caller's counters map) without counting an outcome. */
static __always_inline void tftp_tally(void *counters_map, __u32 idx, __u64 n)
{
	__u64 *slot = bpf_map_lookup_elem(counters_map, &idx);

	if (slot)
		*slot += n;
}

/* The TFTP opcode of the UDP payload behind UDPH, or -1 when there is none. */
static __always_inline int tftp_opcode(const struct udphdr *udph, void *data_end)
{
	const __be16 *op = (const void *)(udph + 1);

	if ((void *)(op + 2) > data_end || bpf_ntohs(udph->len) < sizeof(*udph) + 4)
		return -1;
	return bpf_ntohs(op[0]);
}

/*
 * The sum of the first K (0..15) bytes at P as 16-bit words in memory order,
 * folded. P must have 16 readable bytes. Two 8-byte loads and masks instead of
 * a byte loop: this runs twice per block.
 */
static __always_inline __u32 tftp_sum_head(const __u8 *p, __u32 k)
{
	__u64 lo = *(const __u64 *)p, hi = *(const __u64 *)(p + 8);
	__u32 s;

	if (k < 8) {
		lo &= (1ull << (k * 8)) - 1;
		hi = 0;
	} else {
		hi &= (1ull << ((k - 8) * 8)) - 1;
	}
	s = (lo & 0xffff) + ((lo >> 16) & 0xffff) + ((lo >> 32) & 0xffff) + (lo >> 48);
	s += (hi & 0xffff) + ((hi >> 16) & 0xffff) + ((hi >> 32) & 0xffff) + (hi >> 48);
	s = (s & 0xffff) + (s >> 16);
	return (s & 0xffff) + (s >> 16);
}

/*
 * The folded sum, as big-endian words, of chunk bytes [0, X): the stored sum
 * up to the stride below X plus the few bytes after it. Loads in memory order
 * give byte-swapped words on little-endian machines; bpf_ntohs swaps them back.
 */
static __always_inline __u32 tftp_prefix_sum(const struct xpxe_tftp_chunk *c, __u32 x)
{
	__u32 base = x & ~(XPXE_TFTP_CSUM_STRIDE - 1), idx = x >> XPXE_TFTP_CSUM_SHIFT;
	__u32 head;

	/* Both hold for every X the callers pass; the verifier needs to see them. */
	if (base > XPXE_TFTP_CHUNK_DATA - XPXE_TFTP_CSUM_STRIDE || idx >= XPXE_TFTP_CHUNK_CSUMS)
		return 0;
	head = tftp_sum_head(c->data + base, x & (XPXE_TFTP_CSUM_STRIDE - 1));
	index_bounded(idx, XPXE_TFTP_CHUNK_CSUMS); /* for Linux 6.1: see parse.h */
	return c->csum[idx] + bpf_ntohs((__u16)head);
}

/* The sum of chunk bytes [R, R + LEN) as a packet that starts them at an even offset sees it. */
static __always_inline __u32 tftp_block_sum(const struct xpxe_tftp_chunk *c, __u32 r, __u32 len)
{
	__u32 s = tftp_prefix_sum(c, r + len) + 0x1fffe - tftp_prefix_sum(c, r);

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	/*
	 * Starting at an odd offset, each byte's weight in the sum swaps between
	 * high and low: the packet's sum is the byte-swapped one (RFC 1071 2(B)).
	 */
	if (r & 1)
		s = ((s & 0xff) << 8) | (s >> 8);
	return s;
}

/*
 * Decides what an ACK asks for (xpxe_tftp_decide): the window to send, whose
 * first block B describes, or in *REASON why nothing. The bytes come after, in
 * tftp_load_block (only for a block to send, not for a window). The session
 * changes only once the reply is on its way (tftp_commit), so XDP can leave the
 * same decision to tc.
 */
static __always_inline enum tftp_action tftp_on_ack(struct xpxe_tftp_session *s, __u16 acked,
						    struct tftp_block *b, __u32 *reason)
{
	__u64 off;

	if (s->state != XPXE_TFTP_ACTIVE) {
		*reason = XPXE_CNT_TFTP_ACK_STALE;
		return TFTP_DROP;
	}
	/* Read once a block: tftp_commit records it as the send time (a call each, ~10 ns). */
	b->now_ns = bpf_ktime_get_coarse_ns();
	b->owner = tftp_owner(s);
	switch (xpxe_tftp_decide(s, acked, b->now_ns, &b->win)) {
	case XPXE_TFTP_SEND:
		break;
	case XPXE_TFTP_COMPLETED:
		s->state = XPXE_TFTP_DONE;
		*reason = XPXE_CNT_TFTP_SESSIONS_COMPLETED;
		return TFTP_DROP;
	case XPXE_TFTP_DUP:
		*reason = XPXE_CNT_TFTP_ACK_DUP_IGNORED;
		return TFTP_DROP;
	default:
		*reason = XPXE_CNT_TFTP_ACK_STALE;
		return TFTP_DROP;
	}
	b->block = b->win.first;
	b->retransmit = b->win.resent > 0;
	off = (__u64)(b->block - 1) * s->blksize;
	if (off > s->size || s->blksize > XPXE_TFTP_BLKSIZE_MAX) {
		*reason = XPXE_CNT_TFTP_ACK_STALE; /* a session the daemon never wrote */
		return TFTP_DROP;
	}
	b->s = s;
	b->off = off;
	b->len = s->size - off < s->blksize ? s->size - off : s->blksize;
	return TFTP_SEND;
}

/*
 * Starts the reads of a block's BLKSIZE_MAX bytes at SRC: one load in each of its cache lines
 * (volatile: their values are not used), issued together, so that the lines are on their way
 * while the program resizes the frame (bpf_xdp_adjust_tail zeroes what it adds, tc's
 * bpf_skb_change_tail reallocates) and the copy then finds them in cache (BENCHMARKS.md,
 * issue 27). The chunk holds BLKSIZE_MAX bytes after any block start (its tail), so a
 * shorter block's reads stay in it: they fetch the next block's lines.
 */
static __always_inline void tftp_touch_block(const __u8 *src)
{
#pragma unroll
	for (__u32 i = 0; i < XPXE_TFTP_BLKSIZE_MAX; i += 64)
		(void)*(volatile const __u8 *)(src + i);
	(void)*(volatile const __u8 *)(src + XPXE_TFTP_BLKSIZE_MAX - 1);
}

/*
 * B's sum as the loader stored it for the common block sizes (one load, the next blocks'
 * sums in the same cache line), into B->data_sum; false for the other sizes, whose sum
 * tftp_sum_block makes from the prefix sums.
 */
static __always_inline bool tftp_stored_sum(struct tftp_block *b)
{
	int j = xpxe_tftp_bsum_index(b->s->blksize, b->off & (XPXE_TFTP_CHUNK - 1));

	if (j < 0 || j >= XPXE_TFTP_CHUNK_BSUMS)
		return false;
	index_bounded(j, XPXE_TFTP_CHUNK_BSUMS); /* for Linux 6.1: see parse.h */
	b->data_sum = b->chunk->bsum[j];
	return true;
}

/*
 * Finds B's bytes in its asset, starts their reads (tftp_touch_block) and reads their stored
 * sum, all before the frame is resized. TFTP_PASS when the asset is gone.
 */
static __always_inline enum tftp_action tftp_load_block(struct tftp_block *b, __u32 *reason)
{
	const struct xpxe_tftp_chunk *c;
	__u32 idx = b->off >> XPXE_TFTP_CHUNK_SHIFT, r = b->off & (XPXE_TFTP_CHUNK - 1);
	void *chunks;

	chunks = bpf_map_lookup_elem(&tftp_assets, &b->s->asset_slot);
	c = chunks ? bpf_map_lookup_elem(chunks, &idx) : NULL;
	if (!c) {
		*reason = XPXE_CNT_TFTP_NO_ASSET;
		return TFTP_PASS;
	}
	b->chunk = c;
	b->src = c->data + r;
	tftp_touch_block(b->src);
	b->summed = tftp_stored_sum(b);
	return TFTP_SEND;
}

/*
 * Sums B's bytes where tftp_load_block found no stored sum: from the prefix sums, once the
 * bytes are copied into the frame, so that the few bytes read at each end are then in cache
 * and only the stored sums miss.
 */
static __always_inline void tftp_sum_block(struct tftp_block *b)
{
	__u32 len = b->len > XPXE_TFTP_BLKSIZE_MAX ? XPXE_TFTP_BLKSIZE_MAX : b->len;

	if (!b->summed)
		b->data_sum = tftp_block_sum(b->chunk, b->off & (XPXE_TFTP_CHUNK - 1), len);
}

/* Notes the source MAC of an RRQ on its way up to the daemon (see tftp_rrq_macs). */
static __always_inline void tftp_note_rrq(const struct ethhdr *eth, const struct iphdr *iph,
					  const struct udphdr *udph)
{
	struct xpxe_tftp_key key = { .client_ip = iph->saddr, .client_port = udph->source };
	struct xpxe_tftp_rrq_mac v = {};

	__builtin_memcpy(v.mac, eth->h_source, ETH_ALEN);
	bpf_map_update_elem(&tftp_rrq_macs, &key, &v, BPF_ANY);
}

/*
 * Reports the end of a transfer (the caller saw it ACTIVE, so once): the ACK
 * of its final block or the client's ERROR. HOW is the event type, with the
 * path of the program that saw it (enum xpxe_tftp_path) shifted left by 8. The
 * only event TFTP sends from here, and a function of its own (a BPF-to-BPF
 * call, five arguments at most): off the per-block path, it leaves that code
 * as it was.
 */
static __noinline void tftp_report_end(const __u8 *mac, const struct xpxe_tftp_key *key,
				       const struct xpxe_tftp_session *s, __u32 how, __u32 ifindex)
{
	struct xpxe_dp_tftp_event ev = {
		.h = { .type = how & 0xff,
		       .boot = how >> 8,
		       .ip = key->client_ip,
		       .ifindex = ifindex,
		       .ts_ns = bpf_ktime_get_coarse_ns() }, /* the clock of every event */
		.key = *key,
		.retransmits = s->retransmits,
		.client_error = s->client_error,
	};

	/* XDP saw the ACK, but where it has no room to grow them tc sent the blocks. */
	if (ev.h.boot == XPXE_TFTP_PATH_XDP && tftp_xdp_no_room)
		ev.h.boot = XPXE_TFTP_PATH_TC;
	__builtin_memcpy(ev.h.mac, mac, ETH_ALEN);
	/*
	 * No wakeup: waking the daemon cost ~6 us a record here (a self-IPI in a
	 * VM), ~60 times the record. It reads the ring at least each second.
	 */
	bpf_ringbuf_output(&events, &ev, sizeof(ev), BPF_RB_NO_WAKEUP);
}

/*
 * A frame to a port other than the well-known ones: an ACK or ERROR of a
 * transfer in tftp_sessions (its port's entry, for this client), or not ours
 * (*REASON pass_other_port). IFINDEX
 * and PATH (enum xpxe_tftp_path: the calling program) go into the event
 * reporting a transfer's end.
 */
static __always_inline enum tftp_action tftp_on_session_frame(struct ethhdr *eth, struct iphdr *iph,
							      struct udphdr *udph, void *data_end,
							      struct tftp_block *b, __u32 *reason,
							      __u32 ifindex, __u8 path)
{
	struct xpxe_tftp_key key = {
		.client_ip = iph->saddr,
		.client_port = udph->source,
		.server_port = udph->dest,
	};
	struct xpxe_tftp_entry *e;
	struct xpxe_tftp_session *s;
	const __be16 *p = (const void *)(udph + 1);
	__u32 idx = (__u32)bpf_ntohs(udph->dest) - tftp_port_low;
	__u64 want, have;
	int op;

	/* A transfer's frames come to the server alone: to a group address, they are not ours. */
	if (!tftp_to_unicast(eth, iph)) {
		*reason = XPXE_CNT_PASS_OTHER_PORT;
		return TFTP_PASS;
	}
	/*
	 * The port's entry (below the range, idx wraps above it), its transfer this client's:
	 * the key compared as one word. Another client's, or none (zero): not a session of ours.
	 */
	e = idx < XPXE_TFTP_PORTS_MAX ? bpf_map_lookup_elem(&tftp_sessions, &idx) : NULL;
	__builtin_memcpy(&want, &key, sizeof(want));
	if (e)
		__builtin_memcpy(&have, &e->key, sizeof(have));
	if (!e || have != want) {
		*reason = XPXE_CNT_PASS_OTHER_PORT;
		return TFTP_PASS;
	}
	s = &e->s;
	op = tftp_opcode(udph, data_end);
	if (op == XPXE_TFTP_ERROR) {
		if (s->state == XPXE_TFTP_ACTIVE) {
			s->state = XPXE_TFTP_ABORTED;
			s->client_error = bpf_ntohs(p[1]);
			tftp_report_end(eth->h_source, &key, s,
					XPXE_EV_TFTP_ABORTED | (__u32)path << 8, ifindex);
		}
		*reason = XPXE_CNT_TFTP_SESSIONS_ABORTED;
		return TFTP_DROP;
	}
	if (op != XPXE_TFTP_ACK) {
		/* The daemon's socket on that port answers it (ERROR 4). */
		*reason = XPXE_CNT_TFTP_PASS_SESSION;
		return TFTP_PASS;
	}
	__builtin_memcpy(b->client_mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(b->server_mac, eth->h_dest, ETH_ALEN);
	b->client_ip = iph->saddr;
	b->server_ip = iph->daddr;
	b->client_port = udph->source;
	b->server_port = udph->dest;
	b->retransmit = false;
	if (tftp_on_ack(s, bpf_ntohs(p[1]), b, reason) == TFTP_SEND)
		return TFTP_SEND;
	if (*reason == XPXE_CNT_TFTP_SESSIONS_COMPLETED)
		tftp_report_end(eth->h_source, &key, s, XPXE_EV_TFTP_DONE | (__u32)path << 8,
				ifindex);
	return TFTP_DROP;
}

/*
 * Writes Ethernet, IPv4 and UDP headers of a reply from server to client
 * carrying PAYLOAD_LEN bytes of UDP payload whose sum is PAYLOAD_SUM.
 */
static __always_inline int tftp_write_headers(void *data, void *data_end,
					      const struct tftp_block *b, __u32 payload_len,
					      __u32 payload_sum)
{
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udph = (void *)(iph + 1);
	__u16 udp_len = sizeof(*udph) + payload_len;
	__u32 sum;

	if ((void *)(udph + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, b->client_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, b->server_mac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	iph->version = 4;
	iph->ihl = 5;
	iph->tos = 0;
	iph->tot_len = bpf_htons(sizeof(*iph) + udp_len);
	iph->id = 0;			   /* atomic datagram (RFC 6864): DF and no id */
	iph->frag_off = bpf_htons(0x4000); /* DF */
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = b->server_ip;
	iph->daddr = b->client_ip;
	ipv4_set_csum(iph);

	udph->source = b->server_port;
	udph->dest = b->client_port;
	udph->len = bpf_htons(udp_len);
	sum = csum_udp_pseudo(b->server_ip, b->client_ip, udp_len) + bpf_ntohs(b->server_port) +
	      bpf_ntohs(b->client_port) + udp_len + payload_sum;
	udph->check = udp_csum_final(sum);
	return 0;
}

/* Writes the headers of DATA B into a frame of XPXE_TFTP_HDRS_LEN + B->len bytes. */
static __always_inline int tftp_write_data_headers(void *data, void *data_end,
						   const struct tftp_block *b)
{
	__be16 *tftp = data + XPXE_TFTP_HDRS_LEN - 4;
	__u16 block = b->block & 0xffff; /* rolls over past 65535 to 0 */

	if ((void *)(tftp + 2) > data_end)
		return -1;
	tftp[0] = bpf_htons(XPXE_TFTP_DATA);
	tftp[1] = bpf_htons(block);
	return tftp_write_headers(data, data_end, b, 4 + b->len,
				  XPXE_TFTP_DATA + block + b->data_sum);
}

/*
 * Records that B's window went out: the next ACK is judged against it. Unless the session is
 * another transfer's now: ended and cleared by the daemon while the frame was built, its port's
 * entry written at once for the daemon's next transfer (see xpxe_tftp_session.owner). What is left
 * of that window is the few stores below, not the whole build.
 */
static __always_inline void tftp_commit(const struct tftp_block *b)
{
	struct xpxe_tftp_session *s = b->s;

	if (tftp_owner(s) != b->owner)
		return;
	s->win_base = b->win.acked;
	s->last_block = b->win.last;
	s->last_tx_ns = b->now_ns;
	s->retransmits += b->win.resent;
	s->restarted = b->win.resent > 0;
}

/* BYTES: the sending program's byte tally (tftp_bytes for XDP, tftp_bytes_tc for tc). */
static __always_inline void tftp_tally_block(void *counters_map, const struct tftp_block *b,
					     __u32 bytes)
{
	tftp_tally(counters_map, bytes, b->len);
	if (b->retransmit)
		tftp_tally(counters_map, XPXE_CNT_TFTP_RETRANSMITS, 1);
}

/*
 * Copies B's block into the frame from DATA to DATA_END at HDRS by the program's own loads
 * and stores (tftp_copy_const) for the two full block sizes most transfers use: 1468 (what
 * a 1500-byte MTU carries, the most a client gets) and 1432 (iPXE's request). Returns false
 * for other lengths (GRUB's 1024, no option's 512, final blocks), which the callers' helper
 * copies. The chunk holds at least BLKSIZE_MAX bytes after any block start (its tail).
 */
static __always_inline bool tftp_copy_full(void *data, void *data_end, __u32 hdrs,
					   const struct tftp_block *b)
{
	__u8 *dst = data + hdrs;

	if (b->len == XPXE_TFTP_BLKSIZE_MAX && (void *)(dst + XPXE_TFTP_BLKSIZE_MAX) <= data_end) {
		tftp_copy_const(dst, b->src, XPXE_TFTP_BLKSIZE_MAX);
		return true;
	}
	if (b->len == 1432 && (void *)(dst + 1432) <= data_end) {
		tftp_copy_const(dst, b->src, 1432);
		return true;
	}
	return false;
}

/*
 * HDRS: the headers' length in front of the block, XPXE_TFTP_HDRS_LEN or XPXE_TFTP_HDRS6_LEN
 * (XDP: plus the room for VLAN tags, 0, 4 or 8).
 * The helpers' copies need the verifier to see 1 <= len <= BLKSIZE_MAX in the very
 * register passed: the barrier stops clang from re-deriving it from a spill,
 * and size_bounded gives Linux 6.1 the lower bound (clang turns len < 1 into
 * len == 0, from which 6.1 learns none; see parse.h).
 */
static __always_inline int tftp_xdp_store(struct xdp_md *ctx, const struct tftp_block *b,
					  __u32 hdrs)
{
	__u64 len = b->len;

	if (hdrs <= XPXE_TFTP_HDRS6_LEN + 8 &&
	    tftp_copy_full((void *)(long)ctx->data, (void *)(long)ctx->data_end, hdrs, b))
		return 0;
	barrier_var(len);
	if (len < 1 || len > XPXE_TFTP_BLKSIZE_MAX)
		return -1;
	size_bounded(len, XPXE_TFTP_BLKSIZE_MAX);
	return bpf_xdp_store_bytes(ctx, hdrs, (void *)b->src, len);
}

/* HDRS: as tftp_xdp_store's. */
static __always_inline int tftp_skb_store(struct __sk_buff *skb, const struct tftp_block *b,
					  __u32 hdrs)
{
	__u64 len = b->len;

	if (hdrs <= XPXE_TFTP_HDRS6_LEN &&
	    tftp_copy_full((void *)(long)skb->data, (void *)(long)skb->data_end, hdrs, b))
		return 0;
	barrier_var(len);
	if (len < 1 || len > XPXE_TFTP_BLKSIZE_MAX)
		return -1;
	size_bounded(len, XPXE_TFTP_BLKSIZE_MAX);
	return bpf_skb_store_bytes(skb, hdrs, b->src, len, 0);
}

/*
 * XDP: grows the ACK in place into the DATA frame and sends it back. Where the
 * driver leaves no room to grow (veth, 2 KiB NIC buffers), the ACK goes up to
 * the tc program instead, with the session untouched so tc decides the same.
 * The block is found first: its reads start before the growth (tftp_load_block),
 * and a missing asset passes the ACK on as it came. ROOM (0, 4 or 8: vlan_room):
 * bytes left in front of the DATA frame for its VLAN tags, made by the same one
 * resize.
 */
static __always_inline enum tftp_action tftp_xdp_send(struct xdp_md *ctx, struct tftp_block *b,
						      void *counters_map, __u32 *reason, __u32 room)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	int delta;

	room &= 0xc; /* 0, 4 or 8: said so to the verifier */
	/*
	 * An ACK longer than its DATA frame (padding, trailing bytes, IP options, before a short
	 * last block) shrinks: delta < 0.
	 */
	delta = (int)(XPXE_TFTP_HDRS_LEN + b->len + room) - (int)(data_end - data);
	if (tftp_load_block(b, reason) != TFTP_SEND)
		return TFTP_PASS;
	if (bpf_xdp_adjust_tail(ctx, delta)) {
		/* Small growths may work where a full block does not: only a big one counts. */
		if (delta > XPXE_TFTP_BLKSIZE_MAX / 2)
			tftp_xdp_no_room = 1;
		*reason = XPXE_CNT_TFTP_ACK_TO_TC;
		return TFTP_PASS;
	}
	*reason = XPXE_CNT_TFTP_BUILD_FAILED;
	if (b->len && tftp_xdp_store(ctx, b, XPXE_TFTP_HDRS_LEN + room))
		return TFTP_DROP;
	tftp_sum_block(b);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (tftp_write_data_headers(data + room, data_end, b))
		return TFTP_DROP;
	tftp_commit(b);
	tftp_tally_block(counters_map, b, XPXE_CNT_TFTP_BYTES);
	*reason = XPXE_CNT_TFTP_DATA_XDP;
	return TFTP_SEND;
}

/* Whether the daemon's AF_XDP socket waits on this frame's RX queue (tftp_xsks). */
static __always_inline bool tftp_xsk_on_queue(struct xdp_md *ctx)
{
	__u32 queue = ctx->rx_queue_index;

	return bpf_map_lookup_elem(&tftp_xsks, &queue) != NULL;
}

/*
 * True when XDP should leave this frame to tc_tftp at once (see
 * tftp_xdp_no_room): only where no AF_XDP socket waits on this queue for the
 * ACKs of windowed transfers, which only XDP can hand to it.
 */
static __always_inline bool tftp_xdp_leave_to_tc(struct xdp_md *ctx, const struct udphdr *udph,
						 void *data_end)
{
	return tftp_xdp_no_room && tftp_opcode(udph, data_end) == XPXE_TFTP_ACK &&
	       !tftp_xsk_on_queue(ctx);
}

/*
 * XDP, for a windowed transfer: the window is decided (B); the ACK goes to the
 * daemon's AF_XDP socket on this queue with the window in front of it, and
 * the daemon sends the blocks. Without a socket there (no daemon, AF_XDP
 * refused on this interface) the ACK is passed up untouched: tc decides the
 * same window, commits it and passes the ACK on to the daemon's UDP socket of
 * the transfer, which sends the window the session now records. TAGS: the ACK's VLAN
 * tags (its ntags, tpid, tci; ntags 0 when it came untagged), for the window's frames.
 * ROOM (vlan_room: 0, 4 or 8): the bytes in front of the untagged ACK, which the window
 * takes the place of (the daemon reads the untagged ACK after it).
 */
static __always_inline enum tftp_action tftp_xsk_redirect(struct xdp_md *ctx, struct tftp_block *b,
							  const struct xpxe_tftp_xsk_meta *tags,
							  __u32 *reason, __u32 room)
{
	struct xpxe_tftp_xsk_meta *meta;
	__u32 queue = ctx->rx_queue_index;
	int grow = (int)sizeof(*meta) - (int)(room & 0xc);
	void *data_end;

	*reason = XPXE_CNT_TFTP_ACK_TO_DAEMON;
	if (!bpf_map_lookup_elem(&tftp_xsks, &queue))
		return TFTP_PASS;
	/*
	 * The window goes in front of the frame itself, in its headroom, not in XDP metadata:
	 * some kernels refuse bpf_xdp_adjust_meta in every XDP program (6.18.44 here: "program
	 * of this type cannot use helper"), which would refuse xdp_pxe whole. Without room in
	 * front the daemon's UDP socket takes the ACK.
	 */
	if (bpf_xdp_adjust_head(ctx, -grow))
		return TFTP_PASS;
	meta = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if ((void *)(meta + 1) > data_end) {
		bpf_xdp_adjust_head(ctx, grow);
		return TFTP_PASS;
	}
	meta->first_block = b->win.first;
	meta->last_block = b->win.last;
	meta->size = b->s->size;
	meta->asset_slot = b->s->asset_slot;
	meta->blksize = b->s->blksize;
	meta->resent = b->win.resent;
	meta->magic = XPXE_TFTP_XSK_MAGIC;
	meta->ntags = tags->ntags;
	meta->tpid[0] = tags->tpid[0];
	meta->tpid[1] = tags->tpid[1];
	meta->tci[0] = tags->tci[0];
	meta->tci[1] = tags->tci[1];
	if (bpf_redirect_map(&tftp_xsks, queue, XDP_PASS) != XDP_REDIRECT) {
		bpf_xdp_adjust_head(ctx, grow); /* the socket left meanwhile */
		return TFTP_PASS;
	}
	tftp_commit(b);
	*reason = XPXE_CNT_TFTP_ACK_TO_XSK;
	return TFTP_REDIRECT;
}

/*
 * XDP, on port 69: a WRQ is refused with ERROR 4 from the data plane itself.
 * Returns TFTP_PASS when the frame cannot be resized (the daemon answers then).
 * ROOM (vlan_room: 0, 4 or 8): the bytes in front of the untagged WRQ, and of the
 * ERROR built in its place.
 */
static __always_inline enum tftp_action tftp_xdp_refuse_wrq(struct xdp_md *ctx, __u32 *reason,
							    __u32 room)
{
	/* A literal, not a static array: clang folds it into stores, no .rodata map. */
	const char *msg = XPXE_TFTP_MSG_READ_ONLY;
	const __u32 msg_size = sizeof(XPXE_TFTP_MSG_READ_ONLY);
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data + (room &= 0xc);
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udph = (void *)(iph + 1);
	struct tftp_block b = {};
	__u8 *payload;
	__u32 sum = XPXE_TFTP_ERROR + XPXE_TFTP_ERR_ILLEGAL_OP;
	int delta = (int)(XPXE_TFTP_HDRS_LEN + msg_size) - (int)(data_end - data);

	/* The caller parsed these; options in the request's IP header move nothing we read. */
	if ((void *)(udph + 1) > data_end || iph->ihl != 5 || !tftp_to_unicast(eth, iph)) {
		*reason = XPXE_CNT_PASS_TFTP;
		return TFTP_PASS;
	}
	__builtin_memcpy(b.client_mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(b.server_mac, eth->h_dest, ETH_ALEN);
	b.client_ip = iph->saddr;
	b.server_ip = iph->daddr;
	b.client_port = udph->source;
	b.server_port = udph->dest;
	if (bpf_xdp_adjust_tail(ctx, delta)) {
		*reason = XPXE_CNT_PASS_TFTP;
		return TFTP_PASS;
	}
	data = (void *)(long)ctx->data + room;
	data_end = (void *)(long)ctx->data_end;
	payload = data + XPXE_TFTP_HDRS_LEN - 4;
	if ((void *)(payload + 4 + msg_size) > data_end) {
		*reason = XPXE_CNT_TFTP_BUILD_FAILED;
		return TFTP_DROP;
	}
	payload[0] = 0;
	payload[1] = XPXE_TFTP_ERROR;
	payload[2] = 0;
	payload[3] = XPXE_TFTP_ERR_ILLEGAL_OP;
	__builtin_memcpy(payload + 4, msg, msg_size);
#pragma unroll
	for (int i = 0; i < (int)msg_size; i++)
		sum += i & 1 ? msg[i] : msg[i] << 8;
	if (tftp_write_headers(data, data_end, &b, 4 + msg_size, sum)) {
		*reason = XPXE_CNT_TFTP_BUILD_FAILED;
		return TFTP_DROP;
	}
	*reason = XPXE_CNT_TFTP_WRQ_REFUSED;
	return TFTP_SEND;
}

#endif /* XPXE_BPF_TFTP_H */
