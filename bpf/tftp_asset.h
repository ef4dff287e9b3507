/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TFTP assets' memory: the maps that hold each loaded file in chunks (the daemon's store
 * fills them, xdp_pxe and tc_tftp read blocks from them, the benchmarks' bench_block times
 * the same reads), and the copy of a block out of them by the program's own loads.
 */
#ifndef XPXE_BPF_TFTP_ASSET_H
#define XPXE_BPF_TFTP_ASSET_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xpxe_tftp.h"

/* One asset: the template of the maps the daemon creates, one per loaded file. */
struct tftp_chunks {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	/* Mmapable so a 100 MB file is loaded with memcpy; INNER_MAP: any number of chunks. */
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	/* Sizes, not types: clang emits the chunk's BTF only as a forward declaration here. */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xpxe_tftp_chunk));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XPXE_TFTP_ASSET_SLOTS);
	__type(key, __u32);
	__array(values, struct tftp_chunks);
} tftp_assets SEC(".maps");

/*
 * Copies N bytes (a constant: the loop is unrolled) from SRC to DST with the program's own
 * 8-byte loads and stores. For a block read from beyond the L2 cache it beat the helpers' copy
 * (the kernel's memcpy) by ~120 ns a block here: their copy waited on each cache line of the
 * asset in turn, these loads are issued together (BENCHMARKS.md, issue 27, 2026-12-07).
 */
static __always_inline void tftp_copy_const(__u8 *dst, const __u8 *src, const __u32 n)
{
	const __u32 w = n & ~7u;

#pragma unroll
	for (__u32 i = 0; i < n / 8; i++)
		((__u64 *)dst)[i] = ((const __u64 *)src)[i];
	if (n & 4)
		*(__u32 *)(dst + w) = *(const __u32 *)(src + w);
	if (n & 2)
		*(__u16 *)(dst + w + (n & 4)) = *(const __u16 *)(src + w + (n & 4));
	if (n & 1)
		dst[n - 1] = src[n - 1];
}

#endif /* XPXE_BPF_TFTP_ASSET_H */
