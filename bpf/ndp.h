/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPv6 Router Solicitation -> empty Router Advertisement (RFC 4861), in XDP.
 * iPXE before v1.21.1 waits ~15.75 s for a router before it fetches its
 * script (README.md, iPXE's waits); any RA ends that wait. Ours says "no
 * router here" (router lifetime 0, no flags, no prefixes), so a host keeps
 * any real router it hears from. Answered only when dhcp_config enables it
 * and only for machines in dhcp_clients. Full mode with a pool6
 * (XPXE_DHCP6_F_FULL): M=1 and O=1 (addresses and options from DHCPv6) and a
 * Prefix Information option for the pool's prefix, on-link (L=1) but not for
 * SLAAC (A=0), still with router lifetime 0; every machine the DHCPv6 server
 * would answer gets it.
 */
#ifndef XPXE_BPF_NDP_H
#define XPXE_BPF_NDP_H

#include <linux/ipv6.h>
#include <linux/icmpv6.h>

#include "parse.h"
#include "csum.h"
#include "xpxe_dhcp.h"
#include "dhcp6.h"

#define NDP_RS		  133
#define NDP_RA		  134
#define NDP_OPT_SLLA	  1   /* source link-layer address option */
#define NDP_HOP_LIMIT	  255 /* RFC 4861 6.1.1: only on-link senders can send 255 */
#define NDP_ICMP_HDR_LEN  8   /* an RS: type, code, checksum, reserved */
#define NDP_RS_MAX	  128 /* longer solicitations (many options) are not parsed */
#define NDP_ETH_IP6_LEN	  (14 + 40)
#define NDP_RA_ICMP_LEN	  (16 + 8) /* the RA header, one SLLA option */
#define NDP_RA_FRAME_LEN  (NDP_ETH_IP6_LEN + NDP_RA_ICMP_LEN)
#define NDP_OPT_PREFIX	  3	/* Prefix Information (RFC 4861 4.6.2) */
#define NDP_PIO_LEN	  32	/* its length */
#define NDP_RA_F_MANAGED  0x80	/* M: addresses from DHCPv6 */
#define NDP_RA_F_OTHER	  0x40	/* O: other settings from DHCPv6 */
#define NDP_PIO_F_ONLINK  0x80	/* L; A (0x40, autonomous: SLAAC) stays clear */
#define NDP_PIO_VALID	  86400 /* seconds, radvd's defaults */
#define NDP_PIO_PREFERRED 14400
#define NDP_ALL_ROUTERS_2 0x02 /* ff02::2, last byte */
#define NDP_ALL_NODES_1	  0x01 /* ff02::1, last byte */

/* The reply, built on the stack and written over the frame in one store. */
struct ndp_ra_frame {
	struct ethhdr eth;
	struct ipv6hdr ip6;
	__u8 type;
	__u8 code;
	__be16 csum;
	__u8 cur_hop_limit;
	__u8 flags;
	__be16 router_lifetime;
	__be32 reachable_time;
	__be32 retrans_timer;
	__u8 opt_type;
	__u8 opt_len; /* in units of 8 bytes */
	__u8 opt_mac[ETH_ALEN];
	/* Full mode with a pool6 only: the frame is sent without these otherwise. */
	__u8 pio_type;
	__u8 pio_len; /* in units of 8 bytes: 4 */
	__u8 pio_prefix_len;
	__u8 pio_flags;
	__be32 pio_valid;
	__be32 pio_preferred;
	__be32 pio_reserved;
	__u8 pio_prefix[16];
} __attribute__((packed));

_Static_assert(sizeof(struct ndp_ra_frame) == NDP_RA_FRAME_LEN + NDP_PIO_LEN, "RA frame layout");

/*
 * The RS and the RA under construction: too big for xdp_pxe's stack next to the rest.
 * One slot: the daemon re-runs DHCP requests only (see XPXE_DHCP_SCRATCH_RERUN).
 */
struct ndp_scratch {
	__u8 msg[NDP_RS_MAX + 8]; /* the RS's ICMP message, zero after it; +8: masked reads */
	struct ndp_ra_frame ra;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ndp_scratch);
} ndp_scratch SEC(".maps");

/* The sum of N bytes at P as big-endian 16-bit words (N even). */
static __always_inline __u32 ndp_sum(const __u8 *p, int n)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < n; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	return sum;
}

/* ff02::N, link-local scope all-nodes (1) or all-routers (2). */
static __always_inline bool ndp_is_ff02(const struct in6_addr *a, __u8 n)
{
	return a->s6_addr32[0] == bpf_htonl(0xff020000) && !a->s6_addr32[1] && !a->s6_addr32[2] &&
	       a->s6_addr32[3] == bpf_htonl(n);
}

static __always_inline bool ndp_is_unspecified(const struct in6_addr *a)
{
	return !(a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2] | a->s6_addr32[3]);
}

static __always_inline bool ndp_addr_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	return !((a->s6_addr32[0] ^ b->s6_addr32[0]) | (a->s6_addr32[1] ^ b->s6_addr32[1]) |
		 (a->s6_addr32[2] ^ b->s6_addr32[2]) | (a->s6_addr32[3] ^ b->s6_addr32[3]));
}

/*
 * RFC 4861 6.1.1 on the ICMP message copied to MSG (LEN bytes, 8 or more,
 * zero after; the caller checked the hop limit): code 0, a valid checksum,
 * every option of non-zero length, no source link-layer option from ::.
 */
static __always_inline bool ndp_rs_valid(const struct ipv6hdr *ip6, const __u8 *msg, __u32 len)
{
	__u32 sum, off = NDP_ICMP_HDR_LEN;
	bool unspecified = ndp_is_unspecified(&ip6->saddr);

	if (msg[1] != 0)
		return false;
	sum = ndp_sum(ip6->saddr.s6_addr, 16) + ndp_sum(ip6->daddr.s6_addr, 16) + len +
	      IPPROTO_ICMPV6;
	/* Zero-padded: an odd last byte sums as RFC 1071 says. A loop: unrolled, it spills. */
#pragma clang loop unroll(disable)
	for (int i = 0; i < NDP_RS_MAX; i += 2)
		sum += (__u32)msg[i] << 8 | msg[i + 1];
	if (csum_fold(sum))
		return false;
	/* Options: at most one per 8 bytes, each a multiple of 8 bytes (a bounded loop). */
	for (int i = 0; i < (NDP_RS_MAX - NDP_ICMP_HDR_LEN) / 8; i++) {
		__u32 opt_len;

		if (off >= len)
			break;
		if (off + 2 > len)
			return false;
		opt_len = msg[(off + 1) & (NDP_RS_MAX - 1)] * 8;
		if (!opt_len || off + opt_len > len)
			return false;
		if (unspecified && msg[off & (NDP_RS_MAX - 1)] == NDP_OPT_SLLA)
			return false;
		off += opt_len;
	}
	return true;
}

/*
 * Whether the RS of the machine with MAC, on network NET, gets an answer: enabled, and ours.
 * FULL6: the DHCPv6 server's machines, known or (when answered) unknown (untagged only).
 * Full mode: a machine bound on this network, as its DHCP is answered only there.
 */
static __always_inline bool ndp_answers(const struct xpxe_dhcp_config *cfg, const __u8 *mac,
					bool full6, __u32 net)
{
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client *c;

	if (!cfg->enabled || !(cfg->flags & XPXE_DHCP_F_ROUTER_ADVERT))
		return false;
	__builtin_memcpy(key.addr, mac, ETH_ALEN);
	c = bpf_map_lookup_elem(&dhcp_clients, &key);
	if (full6)
		return c || (cfg->flags & XPXE_DHCP_F_ANSWER_UNKNOWN);
	if (!c)
		return false;
	/* Full mode: a machine holding its address, not one only offered one. */
	return cfg->mode != XPXE_MODE_FULL || (xpxe_dhcp_client_bound(c) && c->net == net);
}

/*
 * A frame that is not IPv4 (its Ethernet header checked): returns the counter
 * of its outcome and sets *VERDICT. Anything but an RS is not ours
 * (pass_not_ipv4). NET: the VLAN the frame came on with its tags off
 * (bpf/vlan.h; 0: untagged): answered with that VLAN's dhcp_config entry (its
 * settings, its server's addresses), never with the untagged network's DHCPv6
 * prefix; xdp_pxe puts the tags back on the RA. ROOM (vlan_room: 0, 4 or 8): the
 * bytes in front of the untagged frame, and in front of the RA built in its place.
 */
static __always_inline int handle_ndp(struct xdp_md *ctx, int *verdict, __u32 net, __u32 room)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data + (room &= 0xc);
	struct xpxe_dhcp_rate_key key;
	struct xpxe_dhcp_config *cfg;
	struct xpxe_dhcp6_config *cfg6;
	struct ndp_scratch *s;
	struct ndp_ra_frame *ra;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	struct ethhdr *eth = data;
	__u8 *icmp = (__u8 *)(ip6 + 1);
	__u32 zero = 0, len, icmp_len = NDP_RA_ICMP_LEN;
	bool full6;
	int delta;

	*verdict = XDP_PASS;
	/*
	 * Its own test of the EtherType, which the compiler cannot merge with the
	 * caller's: merged, they became a tree that IPv4 frames paid for as well.
	 */
	barrier_var(eth);
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XPXE_CNT_PASS_NOT_IPV4;
	if (icmp + 1 > (__u8 *)data_end || ip6->version != 6 || ip6->nexthdr != IPPROTO_ICMPV6 ||
	    icmp[0] != NDP_RS)
		return XPXE_CNT_PASS_NOT_IPV4;

	len = ntohs_bounded(ip6->payload_len);
	if (ip6->hop_limit != NDP_HOP_LIMIT || len < NDP_ICMP_HDR_LEN || len > NDP_RS_MAX ||
	    icmp + NDP_ICMP_HDR_LEN > (__u8 *)data_end || (void *)icmp + len > data_end)
		return XPXE_CNT_PASS_NDP_RS_INVALID;
	s = bpf_map_lookup_elem(&ndp_scratch, &zero);
	if (!s)
		return XPXE_CNT_PASS_NDP_RS_INVALID;
	__builtin_memset(s, 0, sizeof(*s));
	size_bounded(len, NDP_RS_MAX); /* for Linux 6.1: see parse.h */
	if (bpf_xdp_load_bytes(ctx, room + NDP_ETH_IP6_LEN, s->msg, len))
		return XPXE_CNT_PASS_NDP_RS_INVALID;
	if (!ndp_rs_valid(ip6, s->msg, len))
		return XPXE_CNT_PASS_NDP_RS_INVALID;

	cfg = bpf_map_lookup_elem(&dhcp_config, &net);
	cfg6 = bpf_map_lookup_elem(&dhcp6_config, &zero);
	full6 = !net && cfg6 && cfg6->enabled && (cfg6->flags & XPXE_DHCP6_F_FULL);
	if (!cfg || !ndp_answers(cfg, eth->h_source, full6, net))
		return XPXE_CNT_PASS_NDP_RS_IGNORED;
	/* To all routers, or to us: an RS to another router's address is not ours to answer. */
	if (!ndp_is_ff02(&ip6->daddr, NDP_ALL_ROUTERS_2) &&
	    !ndp_addr_equal(&ip6->daddr, (const struct in6_addr *)cfg->server_ll))
		return XPXE_CNT_PASS_NDP_RS_IGNORED;
	/* The machine's DHCP limit covers its solicitations too: whoever spoofs its MAC gets no
	 * stream of RAs from us (a firmware sends a handful per boot). Its own DHCP requests are
	 * charged to (its MAC, its MAC): so is its RS. */
	dhcp_rate_key(&key, eth->h_source, eth->h_source);
	if (dhcp_rate_check(cfg, &key, !full6 || bpf_map_lookup_elem(&dhcp_clients, &key)))
		return XPXE_CNT_PASS_NDP_RS_RATE;

	ra = &s->ra;
	/* RFC 4861 6.2.6: to the solicitor's address, or all nodes when it has none yet. */
	__builtin_memcpy(ra->eth.h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(ra->eth.h_source, cfg->server_mac, ETH_ALEN);
	ra->eth.h_proto = bpf_htons(ETH_P_IPV6);
	ra->ip6.version = 6;
	ra->ip6.payload_len = bpf_htons(NDP_RA_ICMP_LEN);
	ra->ip6.nexthdr = IPPROTO_ICMPV6;
	ra->ip6.hop_limit = NDP_HOP_LIMIT;
	__builtin_memcpy(&ra->ip6.saddr, cfg->server_ll, 16);
	if (ndp_is_unspecified(&ip6->saddr)) {
		ra->ip6.daddr.s6_addr32[0] = bpf_htonl(0xff020000);
		ra->ip6.daddr.s6_addr32[3] = bpf_htonl(NDP_ALL_NODES_1);
	} else {
		ra->ip6.daddr = ip6->saddr;
	}
	ra->type = NDP_RA;
	ra->opt_type = NDP_OPT_SLLA;
	ra->opt_len = 1;
	__builtin_memcpy(ra->opt_mac, cfg->server_mac, ETH_ALEN);
	if (full6 && cfg6)
		/* DHCPv6 gives addresses and options. */
		ra->flags = NDP_RA_F_MANAGED | NDP_RA_F_OTHER;
	/* The pool's prefix is on-link, not for SLAAC; none when the pool is a relayed link's. */
	if (full6 && cfg6 && cfg6->prefix_len) {
		ra->pio_type = NDP_OPT_PREFIX;
		ra->pio_len = NDP_PIO_LEN / 8;
		ra->pio_prefix_len = cfg6->prefix_len;
		ra->pio_flags = NDP_PIO_F_ONLINK;
		ra->pio_valid = bpf_htonl(NDP_PIO_VALID);
		ra->pio_preferred = bpf_htonl(NDP_PIO_PREFERRED);
		__builtin_memcpy(ra->pio_prefix, cfg6->prefix, 16);
		icmp_len += NDP_PIO_LEN;
		ra->ip6.payload_len = bpf_htons(NDP_RA_ICMP_LEN + NDP_PIO_LEN);
	}
	/* The option is all zeros when not sent: the sum over it adds nothing then. */
	ra->csum = csum_fold(ndp_sum(ra->ip6.saddr.s6_addr, 16) +
			     ndp_sum(ra->ip6.daddr.s6_addr, 16) + icmp_len + IPPROTO_ICMPV6 +
			     ndp_sum(&ra->type, NDP_RA_ICMP_LEN + NDP_PIO_LEN));

	/* Grow at the head: XDP guarantees headroom, not tailroom (DESIGN.md, lab facts). */
	delta = (int)(NDP_ETH_IP6_LEN + icmp_len) - (int)(data_end - data);
	if (delta > 0 && bpf_xdp_adjust_head(ctx, -delta))
		return XPXE_CNT_PASS_NDP_NO_ROOM;
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return XPXE_CNT_PASS_NDP_NO_ROOM;
	if (icmp_len != NDP_RA_ICMP_LEN) {
		if (bpf_xdp_store_bytes(ctx, room, ra, sizeof(*ra)))
			return XPXE_CNT_PASS_NDP_NO_ROOM;
	} else if (bpf_xdp_store_bytes(ctx, room, ra, NDP_RA_FRAME_LEN)) {
		return XPXE_CNT_PASS_NDP_NO_ROOM;
	}
	*verdict = XDP_TX;
	return XPXE_CNT_NDP_RA_SENT;
}

#endif /* XPXE_BPF_NDP_H */
