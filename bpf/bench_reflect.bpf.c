// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_reflect: for `make bench` only (scripts/bench/tftp_reflect.c loads it). The cheapest TFTP
 * server a BPF program can be, to measure the load generator's own ceiling on the lab: on tc
 * ingress it answers an RRQ with an OACK of its blksize, and ACK N with DATA N+1, from no state
 * at all. Every block holds the same bytes (PATTERN, hot in cache), so the file it serves is that
 * pattern repeated, FILE_SIZE bytes long. It does what xpxe's tc path does to send a block (grow
 * the frame, copy the block, write the headers and checksums, redirect) and nothing it does to
 * find one (no session lookup, no window, no asset map of many pages).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "csum.h"
#include "parse.h"
#include "xpxe_tftp.h"

#define OACK_MAX 32

/* Set by the loader before load. */
const volatile __u32 blksize = XPXE_TFTP_BLKSIZE_MAX;
const volatile __u32 nblocks;	/* blocks of the file, the final short (maybe empty) one included */
const volatile __u32 last_len;	/* bytes in that final block: FILE_SIZE % blksize */
const volatile __u32 full_sum;	/* one's complement sum of PATTERN as big-endian words */
const volatile __u32 last_sum;	/* the same of its first last_len bytes */
const volatile __u16 data_port; /* the server's port for every transfer (network order) */
const volatile __u8 oack[OACK_MAX]; /* "\0\6blksize\0<blksize>\0" */
const volatile __u32 oack_len;
const volatile __u32 oack_sum;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[XPXE_TFTP_BLKSIZE_MAX]);
} pattern SEC(".maps");

/* What it did, read by the loader at the end. */
__u64 oacks, blocks, ends, others;

/* Turns the frame around: MACs, addresses and ports swapped, lengths and checksums for a UDP
 * payload of PAYLOAD_LEN bytes whose sum is PAYLOAD_SUM. */
static __always_inline int reflect_headers(struct __sk_buff *skb, __u32 payload_len,
					   __u32 payload_sum)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udph = (void *)(iph + 1);
	__u8 mac[ETH_ALEN];
	__be32 addr;
	__u16 udp_len = sizeof(*udph) + payload_len;

	if ((void *)(udph + 1) > data_end)
		return -1;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = addr;
	iph->tot_len = bpf_htons(sizeof(*iph) + udp_len);
	iph->id = 0;
	iph->frag_off = bpf_htons(0x4000);
	iph->ttl = 64;
	ipv4_set_csum(iph);
	udph->dest = udph->source;
	udph->source = data_port;
	udph->len = bpf_htons(udp_len);
	udph->check =
	    udp_csum_final(csum_udp_pseudo(iph->saddr, iph->daddr, udp_len) +
			   bpf_ntohs(udph->source) + bpf_ntohs(udph->dest) + udp_len + payload_sum);
	/* Final checksums: the receiver checks them, as it does xpxe's. */
	bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	return 0;
}

static __always_inline int send_oack(struct __sk_buff *skb)
{
	__u64 len = oack_len;

	barrier_var(len);
	if (len < 2 || len > OACK_MAX ||
	    bpf_skb_change_tail(skb, XPXE_TFTP_HDRS_LEN - 4 + len, 0) ||
	    bpf_skb_store_bytes(skb, XPXE_TFTP_HDRS_LEN - 4, (void *)oack, len, 0) ||
	    reflect_headers(skb, len, oack_sum))
		return TC_ACT_SHOT;
	oacks++;
	return bpf_redirect(skb->ifindex, 0);
}

static __always_inline int send_block(struct __sk_buff *skb, __u16 block)
{
	__u32 zero = 0, sum;
	__u64 len;
	__be16 *tftp;
	void *data_end;
	const __u8 *src = bpf_map_lookup_elem(&pattern, &zero);

	if (!src)
		return TC_ACT_SHOT;
	if (block == nblocks) {
		len = last_len;
		sum = last_sum;
	} else {
		len = blksize;
		sum = full_sum;
	}
	barrier_var(len);
	if (len > XPXE_TFTP_BLKSIZE_MAX || bpf_skb_change_tail(skb, XPXE_TFTP_HDRS_LEN + len, 0))
		return TC_ACT_SHOT;
	if (len >= 1 && len <= XPXE_TFTP_BLKSIZE_MAX &&
	    bpf_skb_store_bytes(skb, XPXE_TFTP_HDRS_LEN, src, len, 0))
		return TC_ACT_SHOT;
	tftp = (void *)(long)skb->data + XPXE_TFTP_HDRS_LEN - 4;
	data_end = (void *)(long)skb->data_end;
	if ((void *)(tftp + 2) > data_end)
		return TC_ACT_SHOT;
	tftp[0] = bpf_htons(XPXE_TFTP_DATA);
	tftp[1] = bpf_htons(block);
	if (reflect_headers(skb, 4 + len, XPXE_TFTP_DATA + block + sum))
		return TC_ACT_SHOT;
	blocks++;
	return bpf_redirect(skb->ifindex, 0);
}

SEC("tc")
int tc_reflect(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct hdr_cursor cur = { .pos = data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;
	__be16 *tftp;
	__u16 block;

	if (parse_ethhdr(&cur, data_end, &eth) != ETH_P_IP ||
	    parse_iphdr(&cur, data_end, &iph) != IPPROTO_UDP || iph->ihl != 5 ||
	    parse_udphdr(&cur, data_end, iph, &udph) < 4)
		goto other;
	tftp = cur.pos;
	if ((void *)(tftp + 2) > data_end)
		goto other;
	if (udph->dest == bpf_htons(69) && tftp[0] == bpf_htons(XPXE_TFTP_RRQ))
		return send_oack(skb);
	if (udph->dest != data_port || tftp[0] != bpf_htons(XPXE_TFTP_ACK))
		goto other;
	block = bpf_ntohs(tftp[1]);
	if (block >= nblocks) { /* the final block's ACK: the transfer is done */
		ends++;
		return TC_ACT_SHOT;
	}
	return send_block(skb, block + 1);
other:
	others++;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
