/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TFTP over IPv6 in tc_tftp: the ACKs of the lockstep transfers the daemon installed in
 * tftp_sessions6 get their next DATA block from tc, as IPv4's do where XDP has no room
 * (tftp.h): the same decision (tftp_on_ack), the same block maps and stored block sums, the
 * same commit and tallies; only the headers differ. xdp_pxe tail-calls xdp_tftp6 (below) for
 * the ACKs, which answers them by XDP_TX where the frame can grow; what it cannot answer it
 * passes up untouched, so tc sees it: skbs always grow.
 *
 * The UDP checksum is mandatory over IPv6 (RFC 8200 8.1): an ACK with a wrong or zero one is
 * dropped and counted. Frames that are not plain ACKs of a session (extension headers,
 * lengths that do not hold, a client's ERROR, trailing bytes) go up to the stack, counted:
 * the kernel checks them and the transfer's socket in the daemon takes what is left
 * (a client's ERROR ends the transfer there). A window's ACK xdp_tftp6 redirects to the
 * daemon's AF_XDP socket, as IPv4's (tftp_xsk_redirect); tc passes it up.
 */
#ifndef XPXE_BPF_TFTP6_H
#define XPXE_BPF_TFTP6_H

#include <linux/in6.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

#include "tftp.h"
#include "udp_csum.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XPXE_TFTP_SESSIONS_MAX);
	__type(key, struct xpxe_tftp_key6);
	__type(value, struct xpxe_tftp_session);
} tftp_sessions6 SEC(".maps");

/*
 * Records in the session that PATH's program sent it a block (its paths byte), unless the
 * entry now belongs to another transfer (the owner check of tftp_commit).
 */
static __always_inline void tftp6_mark_path(const struct tftp_block *b, __u32 path)
{
	if (tftp_owner(b->s) == b->owner)
		b->s->paths |= 1 << path;
}

/* The sum of an IPv6 address (a copy on the stack) as eight big-endian words. */
static __always_inline __u32 csum_in6(const __u8 *a)
{
	const __be32 *w = (const void *)a;

	return csum_be32(w[0]) + csum_be32(w[1]) + csum_be32(w[2]) + csum_be32(w[3]);
}

/* The IPv6 pseudo-header's sum (RFC 8200 8.1) for UDP: addresses, length, next header. */
static __always_inline __u32 csum_udp6_pseudo(const __u8 *saddr, const __u8 *daddr, __u32 udp_len)
{
	return csum_in6(saddr) + csum_in6(daddr) + IPPROTO_UDP + udp_len;
}

/*
 * Writes the Ethernet, IPv6, UDP and TFTP headers of DATA B, from SERVER_IP to CLIENT_IP,
 * into a frame of XPXE_TFTP_HDRS6_LEN + B->len bytes whose block is already in place.
 */
static __always_inline int tftp6_write_data_headers(void *data, void *data_end,
						    const struct tftp_block *b,
						    const __u8 *client_ip, const __u8 *server_ip)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udph = (void *)(ip6 + 1);
	__be16 *tftp = (void *)(udph + 1);
	__u16 block = b->block & 0xffff; /* rolls over past 65535 to 0 */
	__u16 udp_len = sizeof(*udph) + 4 + b->len;
	__u32 sum;

	if ((void *)(tftp + 2) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, b->client_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, b->server_mac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	*(__be32 *)ip6 = bpf_htonl(0x60000000); /* version 6; traffic class, flow label 0 */
	ip6->payload_len = bpf_htons(udp_len);
	ip6->nexthdr = IPPROTO_UDP;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, server_ip, 16);
	__builtin_memcpy(&ip6->daddr, client_ip, 16);
	udph->source = b->server_port;
	udph->dest = b->client_port;
	udph->len = bpf_htons(udp_len);
	tftp[0] = bpf_htons(XPXE_TFTP_DATA);
	tftp[1] = bpf_htons(block);
	sum = csum_udp6_pseudo(server_ip, client_ip, udp_len) + bpf_ntohs(b->server_port) +
	      bpf_ntohs(b->client_port) + udp_len + XPXE_TFTP_DATA + block + b->data_sum;
	udph->check = udp_csum_final(sum);
	return 0;
}

/*
 * tc_tftp's IPv6 frames (untagged). Returns the counter of the outcome, *VERDICT the tc
 * verdict: the next DATA block sent back out where the ACK came in, a bad or spent ACK
 * dropped, anything else passed on unchanged.
 */
/*
 * The checksum of a 12-byte ACK, summed where it is (as xdp_udp_csum_ok does), one rule for tc
 * and XDP: a zero checksum is no checksum, which IPv6 forbids; a sender's offload seed is fine.
 */
static __always_inline bool tftp6_ack_csum_ok(const struct udphdr *udph, const __u8 *client_ip,
					      const __u8 *server_ip, __u32 udp_len)
{
	__u32 sum = udp_csum_of((__u64)((const __u32 *)udph)[0] + ((const __u32 *)udph)[1] +
				((const __u32 *)udph)[2]);
	__u32 pseudo = csum_udp6_pseudo(client_ip, server_ip, udp_len);

	return udph->check &&
	       (!csum_fold(sum + pseudo) || udph->check == (__u16)~csum_fold(pseudo));
}

/* The block's addressing from the ACK (the IPv6 addresses are the session key's). */
static __always_inline void tftp6_block_from_ack(struct tftp_block *b, const struct ethhdr *eth,
						 const struct udphdr *udph)
{
	__builtin_memcpy(b->client_mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(b->server_mac, eth->h_dest, ETH_ALEN);
	b->client_ip = 0; /* IPv4's */
	b->server_ip = 0;
	b->client_port = udph->source;
	b->server_port = udph->dest;
	b->retransmit = false;
}

static __always_inline __u32 tftp6_tc(struct __sk_buff *skb, void *counters_map, int *verdict)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udph = (void *)(ip6 + 1);
	const __be16 *p = (const void *)(udph + 1);
	struct xpxe_tftp_key6 key = {};
	struct xpxe_tftp_session *s;
	struct tftp_block b;
	__u8 server_ip[16];
	__u32 reason, udp_len;

	*verdict = TC_ACT_OK;
	/* An ACK's headers in the linear part, where a driver left them in pages (one call). */
	if (data + XPXE_TFTP_HDRS6_LEN > data_end && skb->len >= XPXE_TFTP_HDRS6_LEN) {
		bpf_skb_pull_data(skb, XPXE_TFTP_HDRS6_LEN); /* pointers reloaded, success or not */
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		eth = data;
		ip6 = (void *)(eth + 1);
		udph = (void *)(ip6 + 1);
		p = (const void *)(udph + 1);
	}
	if ((void *)(ip6 + 1) > data_end)
		return XPXE_CNT_TFTP6_TC_TRUNCATED;
	switch (ip6->nexthdr) {
	case IPPROTO_UDP:
		break;
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
		/* Not parsed here: the stack delivers it (a transfer's socket ignores ACKs). */
		return XPXE_CNT_TFTP6_TC_EXT_HDR;
	default:
		return XPXE_CNT_TFTP_TC_PASS;
	}
	if ((void *)(udph + 1) > data_end)
		return XPXE_CNT_TFTP6_TC_TRUNCATED;
	__builtin_memcpy(key.client_ip, &ip6->saddr, sizeof(key.client_ip));
	key.client_port = udph->source;
	key.server_port = udph->dest;
	s = bpf_map_lookup_elem(&tftp_sessions6, &key);
	if (!s)
		return XPXE_CNT_TFTP_TC_PASS;
	udp_len = ntohs_bounded(udph->len);
	if (udp_len < sizeof(*udph) + 4 || ntohs_bounded(ip6->payload_len) != udp_len ||
	    (void *)udph + udp_len > data_end)
		return XPXE_CNT_TFTP6_TC_TRUNCATED;
	/* Sent to one host: the reply leaves from the ACK's destination (see tftp_to_unicast). */
	if ((eth->h_dest[0] & 1) || ip6->daddr.in6_u.u6_addr8[0] == 0xff)
		return XPXE_CNT_TFTP_TC_PASS;
	/* The client's ERROR, other opcodes, an ACK with bytes after it: the daemon's socket. */
	if (udp_len != sizeof(*udph) + 4 || (void *)(p + 2) > data_end ||
	    p[0] != bpf_htons(XPXE_TFTP_ACK) || s->windowsize > 1)
		return XPXE_CNT_TFTP6_TC_PASS_SESSION;
	__builtin_memcpy(server_ip, &ip6->daddr, sizeof(server_ip));
	if (!tftp6_ack_csum_ok(udph, key.client_ip, server_ip, udp_len)) {
		*verdict = TC_ACT_SHOT;
		return XPXE_CNT_TFTP6_DROP_BAD_CSUM;
	}
	tftp6_block_from_ack(&b, eth, udph);
	if (tftp_on_ack(s, bpf_ntohs(p[1]), &b, &reason) != TFTP_SEND) {
		/* Completed, duplicate or stale; the daemon's sweep sees the end in the session. */
		*verdict = TC_ACT_SHOT;
		return reason;
	}
	if (tftp_load_block(&b, &reason) != TFTP_SEND)
		return reason;
	if (bpf_skb_change_tail(skb, XPXE_TFTP_HDRS6_LEN + b.len, 0))
		return XPXE_CNT_TFTP_TC_NO_ROOM;
	*verdict = TC_ACT_SHOT;
	if (b.len && tftp_skb_store(skb, &b, XPXE_TFTP_HDRS6_LEN))
		return XPXE_CNT_TFTP_BUILD_FAILED;
	tftp_sum_block(&b);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (tftp6_write_data_headers(data, data_end, &b, key.client_ip, server_ip))
		return XPXE_CNT_TFTP_BUILD_FAILED;
	/* The checksums are final: let the receiver check them, as one on a wire would. */
	bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	tftp_commit(&b);
	tftp6_mark_path(&b, XPXE_TFTP_PATH_TC);
	tftp_tally_block(counters_map, &b, XPXE_CNT_TFTP_BYTES_TC);
	*verdict = bpf_redirect(skb->ifindex, 0);
	return XPXE_CNT_TFTP6_DATA_TC;
}

/*
 * xdp_tftp6 (xdp_tftp6_frags for xdp_pxe_frags: a tail call needs the same multi-buffer flag
 * on both sides), in slot 0, put there by the daemon: xdp_pxe tail-calls it for an IPv6 frame
 * shaped like a TFTP ACK, so that the block is built in a program verified apart, within its
 * own budget of instructions. Empty (Linux 6.1 refuses it where xdp_pxe runs in libxdp's
 * dispatcher): the frame goes on to tc_tftp, as before.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tftp6_prog SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tftp6_prog_frags SEC(".maps");

/*
 * Whether an untagged frame is IPv6 (no extension headers) carrying a UDP datagram of 12
 * bytes whose TFTP opcode is ACK: what xdp_pxe tail-calls xdp_tftp6 for. The rest of the
 * checks are xdp_tftp6's, whose budget is its own.
 */
static __always_inline bool tftp6_ack_shaped(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udph = (void *)(ip6 + 1);
	const __be16 *p = (const void *)(udph + 1);

	return (void *)(p + 2) <= data_end && eth->h_proto == bpf_htons(ETH_P_IPV6) &&
	       ip6->nexthdr == IPPROTO_UDP && udph->len == bpf_htons(sizeof(*udph) + 4) &&
	       p[0] == bpf_htons(XPXE_TFTP_ACK);
}

/*
 * xdp_tftp6's body: the ACK of a lockstep transfer in tftp_sessions6 grown in place into its
 * next DATA block and sent back (XDP_TX), with tc's decision, block builder and checksum
 * (tftp6_tc); the ACK of a windowed one, its window decided, redirected to the daemon's AF_XDP
 * socket on its queue (XDP_REDIRECT), which builds the window's frames. Returns the counter of
 * the outcome, *VERDICT the XDP verdict. Everything that is not the plain case goes on to
 * tc_tftp untouched, which judges and counts it as it always has: a frame that is not exactly
 * an ACK's 66 bytes, one to a group address (tftp6_xdp_to_tc), a window's ACK with no AF_XDP
 * socket on its queue (tftp_ack_to_daemon), and the lockstep ACKs XDP has no room to grow
 * (veth, 2 KiB NIC buffers: then tftp_xdp_no_room, and xdp_pxe calls here only while an AF_XDP
 * socket waits on the queue, for windows). The session is written (tftp_commit) only once the
 * DATA frame is built or the ACK redirected, so that tc decides the same.
 */
static __always_inline __u32 tftp6_xdp(struct xdp_md *ctx, void *counters_map, int *verdict)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udph = (void *)(ip6 + 1);
	const __be16 *p = (const void *)(udph + 1);
	struct xpxe_tftp_key6 key = {};
	struct xpxe_tftp_session *s;
	struct tftp_block b;
	__u8 server_ip[16];
	__u32 reason, udp_len = sizeof(*udph) + 4;

	*verdict = XDP_PASS;
	/* xdp_pxe checked the shape; this program is verified alone, so it checks again. */
	if (!tftp6_ack_shaped(ctx) || (void *)(p + 2) > data_end)
		return XPXE_CNT_PASS_NOT_IPV4;
	if (data_end - data != XPXE_TFTP_HDRS6_LEN || ip6->payload_len != bpf_htons(udp_len) ||
	    (eth->h_dest[0] & 1) || ip6->daddr.in6_u.u6_addr8[0] == 0xff)
		return XPXE_CNT_TFTP6_XDP_TO_TC;
	__builtin_memcpy(key.client_ip, &ip6->saddr, sizeof(key.client_ip));
	key.client_port = udph->source;
	key.server_port = udph->dest;
	s = bpf_map_lookup_elem(&tftp_sessions6, &key);
	/* Where XDP has no room (xdp_pxe calls here for the windows' AF_XDP sockets then), tc. */
	if (!s || (s->windowsize <= 1 && tftp_xdp_no_room))
		return XPXE_CNT_TFTP6_XDP_TO_TC;
	__builtin_memcpy(server_ip, &ip6->daddr, sizeof(server_ip));
	if (!tftp6_ack_csum_ok(udph, key.client_ip, server_ip, udp_len)) {
		*verdict = XDP_DROP;
		return XPXE_CNT_TFTP6_DROP_BAD_CSUM;
	}
	tftp6_block_from_ack(&b, eth, udph);
	if (tftp_on_ack(s, bpf_ntohs(p[1]), &b, &reason) != TFTP_SEND) {
		/* Completed, duplicate or stale: as tc_tftp, dropped. */
		*verdict = XDP_DROP;
		return reason;
	}
	/*
	 * A window: to the daemon's AF_XDP socket on this queue, as IPv4's (tftp_xsk_redirect;
	 * untagged: IPv6 TFTP is the untagged network's). Without one the ACK goes up untouched,
	 * counted as IPv4's (tftp_ack_to_daemon): tc passes a window's ACK on, and the
	 * transfer's socket in the daemon takes the transfer over (v6.c, take_over6).
	 */
	if (s->windowsize > 1) {
		struct xpxe_tftp_xsk_meta untagged = {};

		if (tftp_xsk_redirect(ctx, &b, &untagged, &reason, 0) == TFTP_REDIRECT)
			*verdict = XDP_REDIRECT;
		return reason;
	}
	/*
	 * The block first (its reads start before the growth: tftp_load_block). Without its
	 * asset the ACK goes on as it came: tc decides (and counts) it again, counted here as
	 * handed over, not twice as REASON.
	 */
	if (tftp_load_block(&b, &reason) != TFTP_SEND)
		return XPXE_CNT_TFTP6_XDP_TO_TC;
	/* The frame is exactly the ACK's 66 bytes: it grows by the block's length. */
	if (bpf_xdp_adjust_tail(ctx, (int)b.len)) {
		/* Small growths may work where a full block does not: only a big one counts. */
		if (b.len > XPXE_TFTP_BLKSIZE_MAX / 2)
			tftp_xdp_no_room = 1;
		return XPXE_CNT_TFTP6_XDP_TO_TC;
	}
	*verdict = XDP_DROP;
	if (b.len && tftp_xdp_store(ctx, &b, XPXE_TFTP_HDRS6_LEN))
		return XPXE_CNT_TFTP_BUILD_FAILED;
	tftp_sum_block(&b);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (tftp6_write_data_headers(data, data_end, &b, key.client_ip, server_ip))
		return XPXE_CNT_TFTP_BUILD_FAILED;
	tftp_commit(&b);
	tftp6_mark_path(&b, XPXE_TFTP_PATH_XDP);
	tftp_tally_block(counters_map, &b, XPXE_CNT_TFTP_BYTES);
	*verdict = XDP_TX;
	return XPXE_CNT_TFTP6_DATA_XDP;
}

#endif /* XPXE_BPF_TFTP6_H */
