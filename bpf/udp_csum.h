/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The UDP checksum of a datagram the programs are about to act on (a DHCP or
 * port-4011 request, a TFTP request, ACK or ERROR): a corrupted frame must not
 * be answered. The stack checks what it receives; frames answered in XDP never
 * reach it, so the check is here. A checksum of 0 means none was sent (allowed
 * over IPv4, RFC 768); so does the seed a sender with checksum offload leaves
 * (udp_csum_partial). Long datagrams are copied to a map value and summed by
 * bpf_csum_diff (the kernel's csum_partial, 512 bytes a call); DHCP sums the
 * copy of the datagram it parses its options in;
 * the 12 bytes of a TFTP ACK are summed where they are, with no helper call.
 */
#ifndef XPXE_BPF_UDP_CSUM_H
#define XPXE_BPF_UDP_CSUM_H

#include <stdbool.h>

#include "parse.h"
#include "csum.h"

#define UDP_CSUM_CALL_MAX 512 /* bpf_csum_diff's limit: its scratch holds 128 words */
#define UDP_CSUM_CALLS	  3
#define UDP_CSUM_BUF	  (UDP_CSUM_CALLS * UDP_CSUM_CALL_MAX)
/*
 * The longest datagram summed (3 bytes of the buffer stay for zeros); a longer one is not
 * checked. None that xpxe answers is that long: DHCP options stop at 1024 bytes (dhcp.h),
 * TFTP requests and ACKs are far shorter.
 */
#define UDP_CSUM_BUF_MAX    (UDP_CSUM_BUF - 3)
#define UDP_CSUM_INLINE_MAX 16 /* datagrams up to this long are summed in the packet */

struct udp_csum_buf {
	__u8 b[UDP_CSUM_BUF];
};

/* The copy of a datagram to sum; one per CPU (XDP runs to its end on one CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct udp_csum_buf);
} udp_csum_scratch SEC(".maps");

/*
 * SEED (a bpf_csum_diff result, or 0) plus the sum of the LEN bytes at BUF, a map value of
 * SIZE bytes, in CALLS calls of bpf_csum_diff at most (LEN at most CALLS * UDP_CSUM_CALL_MAX
 * and SIZE - 3, SIZE at least CALLS * UDP_CSUM_CALL_MAX); negative if the helper refused or
 * LEN is longer. The up to 3 bytes after them are zeroed first: the helper sums whole 32-bit
 * words. CALLS and SIZE are constants: the loop unrolls into that many calls.
 */
static __always_inline __s64 udp_csum_add_buf(__s64 seed, __u8 *buf, __u32 len, const int calls,
					      const __u32 size)
{
	__u32 end = len;
	__s64 sum = seed;

	if (len > (__u32)calls * UDP_CSUM_CALL_MAX || len > size - 3)
		return -1;
	/* For the verifier: END below SIZE - 2, in its own register (see parse.h). */
	asm("if %0 < %1 goto +1; %0 = 0" : "+r"(end) : "r"(size - 2));
	buf[end] = 0;
	buf[end + 1] = 0;
	buf[end + 2] = 0;
#pragma unroll
	for (int i = 0; i < calls; i++) {
		__u32 n;

		if (len <= (__u32)i * UDP_CSUM_CALL_MAX)
			break;
		n = len - i * UDP_CSUM_CALL_MAX;
		n = n < UDP_CSUM_CALL_MAX ? (n + 3) & ~3u : UDP_CSUM_CALL_MAX;
		size_bounded(n, UDP_CSUM_CALL_MAX); /* for Linux 6.1: see parse.h */
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(buf + i * UDP_CSUM_CALL_MAX), n, sum);
		if (sum < 0)
			return -1;
	}
	return sum;
}

/*
 * A bpf_csum_diff result as the sum of big-endian 16-bit words, folded: the helper returns
 * csum_partial's sum of the words as they lie in memory (some kernels fold it to 16 bits,
 * some do not: folded here either way); swapped, it is the big-endian words' sum.
 */
static __always_inline __u32 udp_csum_of(__u64 sum)
{
	__u32 s;

	sum = (sum & 0xffffffff) + (sum >> 32);
	s = (__u32)sum + (__u32)(sum >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return bpf_ntohs((__u16)s);
}

/* Whether a datagram whose bytes sum to DATA_SUM (checksum field included) is intact. */
static __always_inline bool udp_csum_matches(__u32 data_sum, __be32 saddr, __be32 daddr,
					     __u32 udp_len)
{
	return !csum_fold(data_sum + csum_udp_pseudo(saddr, daddr, udp_len));
}

/*
 * Whether CHECK is the seed a sender with checksum offload left for the device to finish
 * (CHECKSUM_PARTIAL: a veth or tap peer with tx offload on, a VM's virtio-net): the
 * pseudo-header's folded sum, not complemented (Linux's udp4_hwcsum). Such a frame never
 * crossed a wire, so nothing computed a checksum to check: taken as "none", as 0 is, not as
 * corrupted. Asked only when the sum does not match, so intact frames pay nothing for it.
 */
static __always_inline bool udp_csum_partial(__be16 check, __be32 saddr, __be32 daddr,
					     __u32 udp_len)
{
	return check == (__u16)~csum_fold(csum_udp_pseudo(saddr, daddr, udp_len));
}

/* The sum of a datagram of at most UDP_CSUM_INLINE_MAX bytes at P, read in the packet. */
static __always_inline int udp_csum_small(const __u8 *p, __u32 len, void *data_end)
{
	__u32 sum = 0;

#pragma unroll
	for (__u32 i = 0; i < UDP_CSUM_INLINE_MAX; i += 2) {
		if (i + 2 <= len) {
			if ((void *)(p + i + 2) > data_end)
				return -1;
			sum += (__u32)p[i] << 8 | p[i + 1];
		} else if (i < len) {
			/* An odd last byte, as the high byte of a word padded with zero. */
			if ((void *)(p + i + 1) > data_end)
				return -1;
			sum += (__u32)p[i] << 8;
		}
	}
	return sum;
}

/*
 * XDP: whether the datagram behind UDPH, UDP_LEN bytes long (parse_udphdr checked it fits
 * in the frame), has a checksum that matches, or none. IPH is its IPv4 header.
 */
static __always_inline bool xdp_udp_csum_ok(struct xdp_md *ctx, const struct iphdr *iph,
					    const struct udphdr *udph, __u32 udp_len)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__be32 saddr = iph->saddr, daddr = iph->daddr;
	__be16 check = udph->check;
	struct udp_csum_buf *buf;
	__u32 zero = 0;
	__s64 sum;

	if (!check)
		return true;
	if (udp_len == 12) {
		/* A TFTP ACK (the per-block path): three 32-bit words, summed as in memory. */
		const __u32 *w = (const __u32 *)udph;

		if ((void *)(w + 3) > data_end)
			return false;
		sum = udp_csum_of((__u64)w[0] + w[1] + w[2]);
	} else if (udp_len <= UDP_CSUM_INLINE_MAX) {
		sum = udp_csum_small((const __u8 *)udph, udp_len, data_end);
	} else if (udp_len <= UDP_CSUM_BUF_MAX) {
		buf = bpf_map_lookup_elem(&udp_csum_scratch, &zero);
		if (!buf)
			return false;
		size_bounded(udp_len, UDP_CSUM_BUF_MAX); /* for Linux 6.1: see parse.h */
		if (bpf_xdp_load_bytes(ctx, (void *)udph - data, buf->b, udp_len))
			return false;
		sum = udp_csum_add_buf(0, buf->b, udp_len, UDP_CSUM_CALLS, UDP_CSUM_BUF);
		if (sum < 0)
			return false;
		sum = udp_csum_of(sum);
	} else {
		return true; /* longer than anything xpxe answers: not checked */
	}
	return sum >= 0 && (udp_csum_matches(sum, saddr, daddr, udp_len) ||
			    udp_csum_partial(check, saddr, daddr, udp_len));
}

#endif /* XPXE_BPF_UDP_CSUM_H */
