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
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "parse.h"
#include "xpxe_tftp.h"

#define BLKSIZE 1468

/* The same definition as bpf/tftp.h's: the loader hands this program xdp_pxe's map. */
struct tftp_chunks {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xpxe_tftp_chunk));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XPXE_TFTP_ASSET_SLOTS);
	__type(key, __u32);
	__array(values, struct tftp_chunks);
} tftp_assets SEC(".maps");

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

SEC("xdp")
int xdp_block_copy(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	const struct xpxe_tftp_chunk *c;
	struct udphdr *udph;
	__u32 r, len;
	__u64 n;

	c = next_block(data, data_end, &r, &len);
	if (!c || r > XPXE_TFTP_CHUNK_DATA - BLKSIZE)
		return XDP_DROP;
	if (bpf_xdp_adjust_tail(ctx, (int)(HDRS + len) - (int)(data_end - data)))
		return XDP_DROP;
	n = len;
	barrier_var(n);
	if (n < 1 || n > BLKSIZE)
		return XDP_DROP;
	size_bounded(n, BLKSIZE);
	if (bpf_xdp_store_bytes(ctx, HDRS, (void *)(c->data + r), n))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	udph = data + 14 + 20;
	if ((void *)(udph + 1) > data_end)
		return XDP_DROP;
	udph->check = stored_sum(c, r);
	return XDP_TX;
}

SEC("xdp")
int xdp_grow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	const struct xpxe_tftp_chunk *c;
	struct udphdr *udph;
	__u32 r, len;

	c = next_block(data, data_end, &r, &len);
	if (!c || r > XPXE_TFTP_CHUNK_DATA - BLKSIZE)
		return XDP_DROP;
	if (bpf_xdp_adjust_tail(ctx, (int)(HDRS + len) - (int)(data_end - data)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	udph = data + 14 + 20;
	if ((void *)(udph + 1) > data_end)
		return XDP_DROP;
	udph->check = stored_sum(c, r);
	return XDP_TX;
}

SEC("xdp")
int xdp_copy_direct(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	const struct xpxe_tftp_chunk *c;
	struct udphdr *udph;
	const __u8 *src;
	__u8 *dst;
	__u32 r, len;
	__u64 n;

	c = next_block(data, data_end, &r, &len);
	if (!c || r > XPXE_TFTP_CHUNK_DATA - BLKSIZE)
		return XDP_DROP;
	if (bpf_xdp_adjust_tail(ctx, (int)(HDRS + len) - (int)(data_end - data)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	src = c->data + r;
	dst = data + HDRS;
	if (len == BLKSIZE && (void *)(dst + BLKSIZE) <= data_end) {
#pragma unroll
		for (int i = 0; i < BLKSIZE / 8; i++)
			((__u64 *)dst)[i] = ((const __u64 *)src)[i];
		*(__u32 *)(dst + BLKSIZE - 4) = *(const __u32 *)(src + BLKSIZE - 4);
	} else {
		n = len;
		barrier_var(n);
		if (n < 1 || n > BLKSIZE)
			return XDP_DROP;
		size_bounded(n, BLKSIZE);
		if (bpf_xdp_store_bytes(ctx, HDRS, (void *)src, n))
			return XDP_DROP;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
	}
	udph = data + 14 + 20;
	if ((void *)(udph + 1) > data_end)
		return XDP_DROP;
	udph->check = stored_sum(c, r);
	return XDP_TX;
}

SEC("tc")
int tc_block_copy(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	const struct xpxe_tftp_chunk *c;
	struct udphdr *udph;
	__u32 r, len;
	__u64 n;

	c = next_block(data, data_end, &r, &len);
	if (!c || r > XPXE_TFTP_CHUNK_DATA - BLKSIZE)
		return TC_ACT_SHOT;
	if (bpf_skb_change_tail(skb, HDRS + len, 0))
		return TC_ACT_SHOT;
	n = len;
	barrier_var(n);
	if (n < 1 || n > BLKSIZE)
		return TC_ACT_SHOT;
	size_bounded(n, BLKSIZE);
	if (bpf_skb_store_bytes(skb, HDRS, c->data + r, n, 0))
		return TC_ACT_SHOT;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	udph = data + 14 + 20;
	if ((void *)(udph + 1) > data_end)
		return TC_ACT_SHOT;
	udph->check = stored_sum(c, r);
	return bpf_redirect(skb->ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
