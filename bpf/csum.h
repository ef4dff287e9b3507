/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internet checksums for replies built by the programs (RFC 1071). Sums are
 * kept as 32-bit one's complement accumulators of big-endian 16-bit words and
 * folded once at the end; userspace precomputes the sums of everything static
 * (templates, asset blocks) so the packet path only adds what it patched.
 */
#ifndef XPXE_BPF_CSUM_H
#define XPXE_BPF_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* One's complement addition with end-around carry. */
static __always_inline __u32 csum_add(__u32 sum, __u32 addend)
{
	sum += addend;
	return sum + (sum < addend);
}

/* Folds a 32-bit accumulator into the final 16-bit checksum (network order). */
static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return bpf_htons((__u16)~sum);
}

/* The sum of a 32-bit big-endian value as two 16-bit words. */
static __always_inline __u32 csum_be32(__be32 v)
{
	__u32 h = bpf_ntohl(v);

	return (h >> 16) + (h & 0xffff);
}

/* Sets iph->check for a 20-byte header (replies never carry IP options). */
static __always_inline void ipv4_set_csum(struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;

	iph->check = 0;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += bpf_ntohs(w[i]);
	iph->check = csum_fold(sum);
}

/* The UDP pseudo-header's sum: addresses, protocol and UDP length (host order). */
static __always_inline __u32 csum_udp_pseudo(__be32 saddr, __be32 daddr, __u16 udp_len)
{
	return csum_be32(saddr) + csum_be32(daddr) + 17 /* IPPROTO_UDP */ + udp_len;
}

/* A UDP checksum of 0 means "none"; a computed 0 is sent as 0xffff (RFC 768). */
static __always_inline __u16 udp_csum_final(__u32 sum)
{
	__u16 c = csum_fold(sum);

	return c ? c : 0xffff;
}

#endif /* XPXE_BPF_CSUM_H */
