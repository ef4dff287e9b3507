// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_block: for scripts/bench/tftp_prog_ns.c only, which times these programs the way it
 * times xdp_pxe and tc_tftp (one bpf_prog_test_run_opts per call), to read its figures against
 * two floors:
 *  - xdp_nop, tc_nop: return at once. What one timed run costs with no program work: the
 *    test run's timer (a ktime_get_ns at each end, bh off and on, the indirect call).
 *  - xdp_block_copy, tc_block_copy: only what a DATA block needs of memory, from the asset map
 *    the daemon's store loaded (shared with xdp_pxe's, by fd): the ACK's block number gives
 *    the next block's offset, the frame grows to a DATA frame's length, the block's bytes are
 *    copied into it from the same chunk at the same offset, its stored sum is read (into the
 *    UDP checksum field, so the load stays), and the frame goes back (XDP_TX; tc: redirect).
 *    No session, no checks, no headers. Untagged IPv4 ACKs without IP options only.
 *  - xdp_grow: xdp_block_copy without the copy (the lookups, the growth, the stored sum), and
 *    xdp_copy_direct: the copy made by the program's own loads and stores into the grown frame
 *    (8 bytes at a time, unrolled) instead of bpf_xdp_store_bytes: what each part costs, and
 *    the alternative to the helper.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "parse.h"
#include "xpxe_tftp.h"
#include "tftp_asset.h"

#define BLKSIZE 1468

/* Set by the loader before load: the asset's slot in tftp_assets and its size. */
const volatile __u32 asset_slot;
const volatile __u32 asset_size;

/* The header bytes in front of the block: Ethernet, IPv4 (no options), UDP, opcode, block. */
#define HDRS (14 + 20 + 8 + 4)

/*
 * The block the ACK behind DATA asks for: its chunk, its offset R in it and its length
 * (0 after the last). Returns NULL when there is none.
 */
static __always_inline const struct xpxe_tftp_chunk *next_block(void *data, void *data_end,
								__u32 *r, __u32 *len)
{
	const __be16 *ack = data + HDRS - 4;
	__u32 off, idx, slot = asset_slot;
	void *chunks;

	if ((void *)(ack + 2) > data_end)
		return NULL;
	off = (__u32)bpf_ntohs(ack[1]) * BLKSIZE;
	if (off >= asset_size)
		return NULL;
	*len = asset_size - off < BLKSIZE ? asset_size - off : BLKSIZE;
	idx = off >> XPXE_TFTP_CHUNK_SHIFT;
	*r = off & (XPXE_TFTP_CHUNK - 1);
	chunks = bpf_map_lookup_elem(&tftp_assets, &slot);
	return chunks ? bpf_map_lookup_elem(chunks, &idx) : NULL;
}

/* The block's stored sum (the common case of tftp_sum_block). */
static __always_inline __u16 stored_sum(const struct xpxe_tftp_chunk *c, __u32 r)
{
	__u32 j = XPXE_TFTP_BSUM_AT_1468 + r / BLKSIZE;

	index_bounded(j, XPXE_TFTP_CHUNK_BSUMS);
	return c->bsum[j];
}

SEC("xdp")
int xdp_nop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int tc_nop(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

/*
 * The ACK at DATA..DATA_END's next block: *C its chunk, *R its offset there, *LEN its length.
 * False when there is none to send.
 */
static __always_inline bool block_of_ack(void *data, void *data_end,
					 const struct xpxe_tftp_chunk **c, __u32 *r, __u32 *len)
{
	*c = next_block(data, data_end, r, len);
	return *c && *r <= XPXE_TFTP_CHUNK_DATA - BLKSIZE;
}

/* The block's LEN bytes from SRC into the frame at HDRS by XDP's store helper: 0 or an error. */
static __always_inline int xdp_store_block(struct xdp_md *ctx, const __u8 *src, __u32 len)
{
	__u64 n = len;

	barrier_var(n);
	if (n < 1 || n > BLKSIZE)
		return -1;
	size_bounded(n, BLKSIZE);
	return bpf_xdp_store_bytes(ctx, HDRS, (void *)src, n);
}

/* The same by tc's. */
static __always_inline int tc_store_block(struct __sk_buff *skb, const __u8 *src, __u32 len)
{
	__u64 n = len;

	barrier_var(n);
	if (n < 1 || n > BLKSIZE)
		return -1;
	size_bounded(n, BLKSIZE);
	return bpf_skb_store_bytes(skb, HDRS, src, n, 0);
}

/*
 * The grown frame at DATA..DATA_END gets the block's stored sum in its UDP checksum field (so
 * the load stays) and goes back: VERDICT, or DROP when the frame is too short.
 */
static __always_inline int send_block(void *data, void *data_end, const struct xpxe_tftp_chunk *c,
				      __u32 r, int verdict, int drop)
{
	struct udphdr *udph = data + 14 + 20;

	if ((void *)(udph + 1) > data_end)
		return drop;
	udph->check = stored_sum(c, r);
	return verdict;
}

/* Grows the ACK at CTX to its block's DATA frame: false when there is no block or no room. */
static __always_inline bool xdp_grow_to_block(struct xdp_md *ctx, const struct xpxe_tftp_chunk **c,
					      __u32 *r, __u32 *len)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	return block_of_ack(data, data_end, c, r, len) &&
	       !bpf_xdp_adjust_tail(ctx, (int)(HDRS + *len) - (int)(data_end - data));
}

SEC("xdp")
int xdp_block_copy(struct xdp_md *ctx)
{
	const struct xpxe_tftp_chunk *c;
	__u32 r, len;

	if (!xdp_grow_to_block(ctx, &c, &r, &len) || xdp_store_block(ctx, c->data + r, len))
		return XDP_DROP;
	return send_block((void *)(long)ctx->data, (void *)(long)ctx->data_end, c, r, XDP_TX,
			  XDP_DROP);
}

SEC("xdp")
int xdp_grow(struct xdp_md *ctx)
{
	const struct xpxe_tftp_chunk *c;
	__u32 r, len;

	if (!xdp_grow_to_block(ctx, &c, &r, &len))
		return XDP_DROP;
	return send_block((void *)(long)ctx->data, (void *)(long)ctx->data_end, c, r, XDP_TX,
			  XDP_DROP);
}

/* The copy as xdp_pxe makes a full block's (tftp_copy_const), the helper's for a short one. */
SEC("xdp")
int xdp_copy_direct(struct xdp_md *ctx)
{
	const struct xpxe_tftp_chunk *c;
	void *data, *data_end;
	__u32 r, len;

	if (!xdp_grow_to_block(ctx, &c, &r, &len))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (len == BLKSIZE && data + HDRS + BLKSIZE <= data_end)
		tftp_copy_const(data + HDRS, c->data + r, BLKSIZE);
	else if (xdp_store_block(ctx, c->data + r, len))
		return XDP_DROP;
	return send_block((void *)(long)ctx->data, (void *)(long)ctx->data_end, c, r, XDP_TX,
			  XDP_DROP);
}

SEC("tc")
int tc_block_copy(struct __sk_buff *skb)
{
	const struct xpxe_tftp_chunk *c;
	__u32 r, len;

	if (!block_of_ack((void *)(long)skb->data, (void *)(long)skb->data_end, &c, &r, &len) ||
	    bpf_skb_change_tail(skb, HDRS + len, 0) || tc_store_block(skb, c->data + r, len))
		return TC_ACT_SHOT;
	if (send_block((void *)(long)skb->data, (void *)(long)skb->data_end, c, r, 0, -1))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
