/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The UDP checksum of a datagram the programs are about to act on (a DHCP or
 * port-4011 request, a TFTP request, ACK or ERROR): a corrupted frame must not
 * be answered. The stack checks what it receives; frames answered in XDP never
 * reach it, so the check is here. A checksum of 0 means none was sent (allowed
 * over IPv4, RFC 768). Long datagrams are copied to a map value and summed by
 * bpf_csum_diff (the kernel's csum_partial, 512 bytes a call); the 12 bytes of
 * a TFTP ACK are summed where they are, with no helper call.
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
 * The sum (RFC 1071) of the LEN bytes at BUF, a map value of UDP_CSUM_BUF bytes (LEN at
 * most UDP_CSUM_BUF_MAX), folded to 16 bits as big-endian words; -1 if the helper refused.
 * The up to 3 bytes after them are zeroed first: bpf_csum_diff sums whole 32-bit words.
 */
static __always_inline int udp_csum_buf_sum(__u8 *buf, __u32 len)
{
	__u32 end = len, s;
	__s64 sum = 0;

	index_bounded(end, UDP_CSUM_BUF_MAX + 1); /* for the verifier: see parse.h */
	buf[end] = 0;
	buf[end + 1] = 0;
	buf[end + 2] = 0;
#pragma unroll
	for (int i = 0; i < UDP_CSUM_CALLS; i++) {
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
	/*
	 * csum_partial's sum of the words as they lie in memory (some kernels fold it to 16
	 * bits, some do not: folded here either way); swapped, it is the big-endian words' sum.
	 */
	s = (__u32)sum;
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
	struct udp_csum_buf *buf;
	__u32 zero = 0;
	int sum;

	if (!udph->check)
		return true;
	if (udp_len <= UDP_CSUM_INLINE_MAX) {
		sum = udp_csum_small((const __u8 *)udph, udp_len, data_end);
	} else if (udp_len <= UDP_CSUM_BUF_MAX) {
		buf = bpf_map_lookup_elem(&udp_csum_scratch, &zero);
		if (!buf)
			return false;
		size_bounded(udp_len, UDP_CSUM_BUF_MAX); /* for Linux 6.1: see parse.h */
		if (bpf_xdp_load_bytes(ctx, (void *)udph - data, buf->b, udp_len))
			return false;
		sum = udp_csum_buf_sum(buf->b, udp_len);
	} else {
		return true; /* longer than anything xpxe answers: not checked */
	}
	return sum >= 0 && udp_csum_matches(sum, saddr, daddr, udp_len);
}

#endif /* XPXE_BPF_UDP_CSUM_H */
