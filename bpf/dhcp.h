/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DHCP and ProxyDHCP in XDP: parse a BOOTREQUEST, decide what it gets, and
 * turn the frame into the reply from a template userspace built.
 */
#ifndef XPXE_BPF_DHCP_H
#define XPXE_BPF_DHCP_H

#include <stdbool.h>

#include "parse.h"
#include "csum.h"
#include "udp_csum.h"
#include "xpxe_dhcp.h"
#include "events.h"
#include "vlan.h"

#define BOOTP_FIXED_LEN 236
#define DHCP_MAGIC	0x63825363
/* Where the options start in the UDP datagram: after its header, BOOTP's and the cookie. */
#define DHCP_UDP_OPTS_OFF (8 + BOOTP_FIXED_LEN + 4)
/* The datagram is copied to a per-CPU buffer and its options walked there: offsets
 * into a map value are bounded by a mask, which the verifier follows where packet
 * pointers at data-dependent offsets would need a bounds check per byte. The UDP
 * checksum sums the copy, whole: one bpf_csum_diff call for most requests (the fixed
 * part summed in the packet and the options in a copy of their own took two: 20-30 ns
 * more a reply here). */
#define DHCP_OPTS_MAX	 1024 /* longer option areas are not parsed (counted malformed) */
#define DHCP_UDP_MAX	 (DHCP_UDP_OPTS_OFF + DHCP_OPTS_MAX) /* the longest datagram copied */
#define DHCP_CSUM_CALLS	 3 /* bpf_csum_diff calls for DHCP_UDP_MAX bytes (udp_csum.h) */
#define DHCP_OPTS_MASK	 (DHCP_OPTS_MAX - 1)
#define DHCP_MAX_OPTIONS 96 /* an option area with more entries before END is malformed */

enum dhcp_msg_type {
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
};

/* Vendor class (option 60) prefixes. */
enum dhcp_vendor {
	VENDOR_NONE = 0,
	VENDOR_PXE,  /* "PXEClient" */
	VENDOR_HTTP, /* "HTTPClient" */
};

/* What the walk over the options found; lives in the per-CPU scratch map. */
struct dhcp_request {
	__u8 msg_type;
	__u8 vendor;	     /* enum dhcp_vendor */
	__u8 is_ipxe;	     /* option 77 "iPXE" or option 175 */
	__u8 has_arch;	     /* option 93 seen */
	__u8 has_guid;	     /* option 97 of 17 bytes seen */
	__u8 overload;	     /* option 52 seen */
	__u8 found_end;	     /* option 255 reached inside the UDP payload */
	__u8 malformed;	     /* an option ran past the payload */
	__u8 net;	     /* the VLAN it came on (bpf/vlan.h), 0: untagged */
	__u8 room;	     /* bytes the reply leaves in front for its tags (vlan_room) */
	__u16 arch;	     /* option 93, host order */
	__u16 vendor_arch;   /* the 5 decimal digits after "...Client:Arch:", 0xffff if absent */
	__be32 requested_ip; /* option 50 */
	__be32 server_id;    /* option 54 */
	__u8 guid[XPXE_DHCP_GUID_LEN];
	__u8 pad[2];
};

struct dhcp_scratch {
	struct dhcp_request req;
	/* The datagram from its UDP header on; its options start at DHCP_UDP_OPTS_OFF. */
	__u8 udp[DHCP_CSUM_CALLS * UDP_CSUM_CALL_MAX];
};

/* The options of S's copy. */
#define dhcp_opts(s) ((s)->udp + DHCP_UDP_OPTS_OFF)

_Static_assert(DHCP_UDP_MAX <= DHCP_CSUM_CALLS * UDP_CSUM_CALL_MAX &&
		   DHCP_UDP_MAX + 3 <= sizeof(((struct dhcp_scratch *)0)->udp) &&
		   /* +2+255: an option's value may be read up to 257 bytes past an offset
		    * below the mask */
		   DHCP_UDP_MAX + 2 + 255 + 1 <= sizeof(((struct dhcp_scratch *)0)->udp),
	       "every datagram parsed can be walked and summed in its buffer");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPXE_DHCP_SCRATCH_SLOTS); /* the wire's, the re-runs' (xpxe_dhcp.h) */
	__type(key, __u32);
	__type(value, struct dhcp_scratch);
} dhcp_scratch SEC(".maps");

/* Entry 0: the untagged network's settings; entry N: those of the VLAN numbered N. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 + XPXE_VLAN_MAX);
	__type(key, __u32);
	__type(value, struct xpxe_dhcp_config);
} dhcp_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XPXE_DHCP_TEMPLATES);
	__type(key, __u32);
	__type(value, struct xpxe_dhcp_template);
} dhcp_templates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xpxe_mac_key);
	__type(value, struct xpxe_dhcp_client);
} dhcp_clients SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* ~900 queued requests: a rack's first DISCOVERs */
} dhcp_queue SEC(".maps");

/*
 * Per-MAC rate limit: each sender's GCRA timestamp, keyed by what a neighbour cannot forge
 * for another machine (struct xpxe_dhcp_rate_key); strangers that rotate MACs age out first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct xpxe_dhcp_rate_key);
	__type(value, __u64);
} dhcp_rate_mac SEC(".maps");

/* The global limit for MACs not in dhcp_clients, one timestamp per CPU: no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dhcp_rate_global SEC(".maps");

/* The fixed BOOTP header, as far as the reply needs it. */
struct bootp_hdr {
	__u8 op;
	__u8 htype;
	__u8 hlen;
	__u8 hops;
	__be32 xid;
	__be16 secs;
	__be16 flags;
	__be32 ciaddr;
	__be32 yiaddr;
	__be32 siaddr;
	__be32 giaddr;
	__u8 chaddr[16];
	/* sname[64], file[128], then the magic cookie at offset 236 */
};

static __always_inline __u16 digit_value(__u8 c)
{
	return c >= '0' && c <= '9' ? c - '0' : 0xffff;
}

/* "PXEClient:Arch:00007:..." / "HTTPClient:Arch:00016:...": the vendor and the decimal arch. */
static __always_inline void parse_vendor_class(struct dhcp_request *rq, const __u8 *v, __u32 len)
{
	__u32 arch_at, arch = 0;

	if (len >= 9 && v[0] == 'P' && v[1] == 'X' && v[2] == 'E' && v[3] == 'C' && v[4] == 'l' &&
	    v[5] == 'i' && v[6] == 'e' && v[7] == 'n' && v[8] == 't') {
		rq->vendor = VENDOR_PXE;
		arch_at = 15; /* after "PXEClient:Arch:" */
	} else if (len >= 10 && v[0] == 'H' && v[1] == 'T' && v[2] == 'T' && v[3] == 'P' &&
		   v[4] == 'C' && v[5] == 'l' && v[6] == 'i' && v[7] == 'e' && v[8] == 'n' &&
		   v[9] == 't') {
		rq->vendor = VENDOR_HTTP;
		arch_at = 16; /* after "HTTPClient:Arch:" */
	} else {
		return;
	}
	if (len < arch_at + 5)
		return;
#pragma unroll
	for (int i = 0; i < 5; i++) {
		__u16 d = digit_value(v[arch_at + i]);

		if (d > 9)
			return;
		arch = arch * 10 + d;
	}
	if (arch <= 0xffff)
		rq->vendor_arch = arch;
}

static __always_inline void take_option(struct dhcp_request *rq, __u8 code, const __u8 *v,
					__u32 len)
{
	switch (code) {
	case 53:
		if (len >= 1)
			rq->msg_type = v[0];
		break;
	case 50:
		if (len == 4)
			__builtin_memcpy(&rq->requested_ip, v, 4);
		break;
	case 54:
		if (len == 4)
			__builtin_memcpy(&rq->server_id, v, 4);
		break;
	case 52:
		rq->overload = 1;
		break;
	case 60:
		parse_vendor_class(rq, v, len);
		break;
	case 77:
		/* iPXE sends the bare string; RFC 3004 puts a length byte before each class. */
		if ((len == 4 && v[0] == 'i' && v[1] == 'P' && v[2] == 'X' && v[3] == 'E') ||
		    (len >= 5 && v[0] == 4 && v[1] == 'i' && v[2] == 'P' && v[3] == 'X' &&
		     v[4] == 'E'))
			rq->is_ipxe = 1;
		break;
	case 93:
		if (len >= 2) {
			rq->arch = (__u16)v[0] << 8 | v[1];
			rq->has_arch = 1;
		}
		break;
	case 97:
		if (len == XPXE_DHCP_GUID_LEN) {
			__builtin_memcpy(rq->guid, v, XPXE_DHCP_GUID_LEN);
			rq->has_guid = 1;
		}
		break;
	case 175:
		rq->is_ipxe = 1;
		break;
	}
}

/*
 * Walks the OPTS_LEN bytes of options a loader (dhcp_parse_options here, the
 * tc path's in dhcp_tc.h) copied to S->udp with the rest of the datagram, into S->req.
 */
static __always_inline int dhcp_walk_options(struct dhcp_scratch *s, __u32 opts_len)
{
	struct dhcp_request *rq = &s->req;
	const __u8 *opts = dhcp_opts(s);
	__u32 off = 0;

	for (int i = 0; i < DHCP_MAX_OPTIONS; i++) {
		__u8 code, len;

		off &= DHCP_OPTS_MASK;
		if (off >= opts_len)
			return -1; /* no END inside the payload */
		code = opts[off];
		if (code == 255) {
			rq->found_end = 1;
			return 0;
		}
		if (code == 0) {
			off++;
			continue;
		}
		if (off + 2 > opts_len)
			return -1;
		len = opts[(off + 1) & DHCP_OPTS_MASK];
		if (off + 2 + len > opts_len)
			return -1; /* the option claims more than the payload holds */
		take_option(rq, code, &opts[off + 2], len);
		off += 2 + len;
	}
	return -1;
}

/* The request's state before a walk; false when OPTS_LEN is none or more than xpxe parses. */
static __always_inline bool dhcp_options_start(struct dhcp_scratch *s, __u32 opts_len)
{
	__builtin_memset(&s->req, 0, sizeof(s->req));
	s->req.vendor_arch = 0xffff;
	return opts_len > 0 && opts_len <= DHCP_OPTS_MAX;
}

/*
 * Copies the BOOTREQUEST whose UDP header is at UDP_OFF in the frame, its
 * options OPTS_LEN bytes (the rest of the UDP payload), and walks them.
 */
static __always_inline int dhcp_parse_options(struct xdp_md *ctx, struct dhcp_scratch *s,
					      __u32 udp_off, __u32 opts_len)
{
	__u32 len = DHCP_UDP_OPTS_OFF + opts_len;

	if (!dhcp_options_start(s, opts_len))
		return -1;
	size_bounded(len, DHCP_UDP_MAX); /* for Linux 6.1: see parse.h */
	if (bpf_xdp_load_bytes(ctx, udp_off, s->udp, len))
		return -1;
	return dhcp_walk_options(s, opts_len);
}

/* The class option 93 (or the digits of option 60) names. */
static __always_inline __u32 arch_class(__u32 arch)
{
	switch (arch) {
	case 0:
		return XPXE_BOOT_BIOS;
	case 6:
		return XPXE_BOOT_UEFI_IA32;
	case 7:
	case 9:
		return XPXE_BOOT_UEFI_X64;
	case 10:
		return XPXE_BOOT_UEFI_ARM32;
	case 11:
		return XPXE_BOOT_UEFI_ARM64;
	case 15:
		return XPXE_BOOT_HTTP_IA32;
	case 16:
		return XPXE_BOOT_HTTP_X64;
	case 18:
		return XPXE_BOOT_HTTP_ARM32;
	case 19:
		return XPXE_BOOT_HTTP_ARM64;
	case 22:
		return XPXE_BOOT_UBOOT_ARM64;
	case 41:
		return XPXE_BOOT_RPI;
	}
	return XPXE_BOOT_UNKNOWN_ARCH;
}

/* The client class, from what the options said (PROTOCOL.md: PXE client DHCP). */
static __always_inline __u32 dhcp_boot_class(const struct dhcp_request *rq)
{
	__u32 class;

	if (rq->is_ipxe)
		return XPXE_BOOT_IPXE;
	if (rq->vendor == VENDOR_NONE)
		return XPXE_BOOT_PLAIN;
	class = arch_class(rq->has_arch ? rq->arch : rq->vendor_arch);
	/* An HTTPClient takes only an HTTP boot answer: a PXE architecture from it is unknown. */
	if (rq->vendor == VENDOR_HTTP &&
	    (class < XPXE_BOOT_HTTP_IA32 || class > XPXE_BOOT_HTTP_ARM64))
		return XPXE_BOOT_UNKNOWN_ARCH;
	return class;
}

/* Where a reply goes (RFC 2131 4.1, PXE 2.1 for port 4011). */
struct dhcp_dest {
	__u8 mac[6];
	__be16 port;
	__be32 ip;
};

/* Everything of the request the reply needs, saved before the frame is rewritten. */
struct dhcp_echo {
	__be32 xid;
	__be16 flags;
	__u8 chaddr[6];
	__be32 ciaddr;
	__be32 giaddr;
};

static __always_inline __u32 csum_words(const __u8 *p, int n)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i + 1 < n; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (__u32)p[n - 1] << 8;
	return sum;
}

/*
 * Patches the copy of template T at DATA (the frame, up to DATA_END) for this
 * client. Returns 0, or the counter that explains why not.
 */
static __always_inline int dhcp_patch_reply(void *data, void *data_end,
					    const struct xpxe_dhcp_template *t,
					    const struct dhcp_echo *echo,
					    const struct dhcp_dest *dest, __be32 yiaddr,
					    __be32 ciaddr, const struct dhcp_request *rq)
{
	__u32 guid_off = t->guid_off;
	struct bootp_hdr *bp;
	struct iphdr *iph;
	struct udphdr *udph;
	struct ethhdr *eth;
	__u32 sum;

	if (data + XPXE_OFF_OPTIONS > data_end)
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	eth = data;
	iph = data + XPXE_OFF_IP;
	udph = data + XPXE_OFF_UDP;
	bp = data + XPXE_OFF_BOOTP;

	__builtin_memcpy(eth->h_dest, dest->mac, ETH_ALEN);
	iph->daddr = dest->ip;
	ipv4_set_csum(iph);
	udph->dest = dest->port;
	bp->xid = echo->xid;
	bp->flags = echo->flags;
	bp->ciaddr = ciaddr;
	bp->yiaddr = yiaddr;
	bp->giaddr = echo->giaddr;
	__builtin_memcpy(bp->chaddr, echo->chaddr, 6);

	sum = t->csum_base + csum_be32(dest->ip) + bpf_ntohs(dest->port);
	sum += csum_be32(echo->xid) + bpf_ntohs(echo->flags);
	sum += csum_be32(ciaddr) + csum_be32(yiaddr) + csum_be32(echo->giaddr);
	sum += csum_words(echo->chaddr, 6);

	/* The slot of option 97 stays PAD (zeros) when the client sent no GUID. */
	if (guid_off && rq->has_guid) {
		__u8 *slot;

		guid_off &= 0x3fe;
		slot = data + guid_off;
		if ((void *)(slot + 2 + XPXE_DHCP_GUID_LEN) > data_end)
			return XPXE_CNT_PASS_DHCP_NO_ROOM;
		slot[0] = 97;
		slot[1] = XPXE_DHCP_GUID_LEN;
		__builtin_memcpy(slot + 2, rq->guid, XPXE_DHCP_GUID_LEN);
		sum += (97 << 8 | XPXE_DHCP_GUID_LEN) + csum_words(rq->guid, XPXE_DHCP_GUID_LEN);
	}
	udph->check = udp_csum_final(sum);
	return 0;
}

/*
 * Rewrites the frame in CTX into template T, patched for this client, ready
 * for XDP_TX. Returns 0, or the counter that explains why not.
 */
static __always_inline int dhcp_build_reply(struct xdp_md *ctx, const struct xpxe_dhcp_template *t,
					    const struct dhcp_echo *echo,
					    const struct dhcp_dest *dest, __be32 yiaddr,
					    __be32 ciaddr, const struct dhcp_request *rq)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* On a VLAN the reply leaves room in front for its tags (vlan_room), as the request
	 * had it: the one resize below is all, and vlan_xdp_restore moves no head. 0, 4 or 8. */
	__u32 room = rq->room & 0xc;
	__u32 len = t->len;
	int delta = (int)(len + room) - (int)(data_end - data);

	if (len < XPXE_OFF_OPTIONS || len > XPXE_DHCP_FRAME_MAX)
		return XPXE_CNT_PASS_DHCP_NO_BOOT_FILE;
	/* Grow at the head: XDP guarantees headroom, not tailroom (DESIGN.md, lab facts). */
	if (delta > 0 && bpf_xdp_adjust_head(ctx, -delta))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	size_bounded(len, XPXE_DHCP_FRAME_MAX); /* for Linux 6.1: see parse.h */
	if (bpf_xdp_store_bytes(ctx, room, (void *)t->frame, len))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	return dhcp_patch_reply((void *)(long)ctx->data + room, (void *)(long)ctx->data_end, t,
				echo, dest, yiaddr, ciaddr, rq);
}

/* Where the reply to this request goes. */
static __always_inline void dhcp_pick_dest(struct dhcp_dest *dest, const struct ethhdr *req_eth,
					   const struct iphdr *req_iph,
					   const struct udphdr *req_udph,
					   const struct dhcp_echo *echo, __u32 reply, __be32 yiaddr)
{
	static const __u8 broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (reply == XPXE_REPLY_ACK_4011) {
		/* A boot server request comes from an address: answer to its source. */
		__builtin_memcpy(dest->mac, req_eth->h_source, 6);
		dest->ip = req_iph->saddr;
		dest->port = req_udph->source;
	} else if (echo->giaddr) {
		/* Relayed: to the relay, server port, by unicast. */
		__builtin_memcpy(dest->mac, req_eth->h_source, 6);
		dest->ip = echo->giaddr;
		dest->port = bpf_htons(XPXE_PORT_DHCP_SERVER);
	} else if (echo->ciaddr && reply != XPXE_REPLY_NAK) {
		/* Renewing: the client has its address. */
		__builtin_memcpy(dest->mac, req_eth->h_source, 6);
		dest->ip = echo->ciaddr;
		dest->port = bpf_htons(XPXE_PORT_DHCP_CLIENT);
	} else if (!(echo->flags & bpf_htons(0x8000)) && yiaddr && reply != XPXE_REPLY_NAK) {
		/* Broadcast flag clear: unicast to the new address at the client's MAC. */
		__builtin_memcpy(dest->mac, echo->chaddr, 6);
		dest->ip = yiaddr;
		dest->port = bpf_htons(XPXE_PORT_DHCP_CLIENT);
	} else {
		__builtin_memcpy(dest->mac, broadcast, 6);
		dest->ip = 0xffffffff;
		dest->port = bpf_htons(XPXE_PORT_DHCP_CLIENT);
	}
}

/*
 * GCRA (a token bucket kept as one timestamp): true when a frame at NOW fits,
 * and then *TAT moves on by one interval. BURST frames fit at once, then one
 * per interval.
 */
static __always_inline bool rate_allow(__u64 *tat, __u64 now, __u64 interval, __u64 tolerance)
{
	__u64 t = *tat > now ? *tat : now;

	if (t - now > tolerance)
		return false;
	*tat = t + interval;
	return true;
}

/* The rate key of a frame from the Ethernet source SRC for the client CHADDR. */
static __always_inline void dhcp_rate_key(struct xpxe_dhcp_rate_key *key, const __u8 *src,
					  const __u8 *chaddr)
{
	__builtin_memcpy(key->src, src, 6);
	__builtin_memcpy(key->chaddr, chaddr, 6);
}

/*
 * The limits of CFG for a request charged to KEY (KNOWN: its chaddr is in
 * dhcp_clients). Returns 0, or the drop counter that says which limit it broke.
 * Races between CPUs on one MAC's entry can let a frame or two more through:
 * a limit, not an exact count.
 */
static __always_inline int dhcp_rate_check(const struct xpxe_dhcp_config *cfg,
					   const struct xpxe_dhcp_rate_key *key, bool known)
{
	bool global = cfg->global_interval_ns && !known;
	__u32 zero = 0;
	__u64 now, *tat;

	/* No limit applies: no clock read either (it was 30-50 ns of a reply here). */
	if (!cfg->mac_interval_ns && !global)
		return 0;
	now = cfg->clock_ns ? cfg->clock_ns : bpf_ktime_get_ns();
	if (cfg->mac_interval_ns) {
		tat = bpf_map_lookup_elem(&dhcp_rate_mac, key);
		if (!tat) {
			__u64 first = now + cfg->mac_interval_ns;

			bpf_map_update_elem(&dhcp_rate_mac, key, &first, BPF_ANY);
		} else if (!rate_allow(tat, now, cfg->mac_interval_ns, cfg->mac_tolerance_ns)) {
			return XPXE_CNT_DROP_DHCP_RATE_MAC;
		}
	}
	if (global) {
		tat = bpf_map_lookup_elem(&dhcp_rate_global, &zero);
		if (tat && !rate_allow(tat, now, cfg->global_interval_ns, cfg->global_tolerance_ns))
			return XPXE_CNT_DROP_DHCP_RATE_GLOBAL;
	}
	return 0;
}

/*
 * Hands the request to the daemon (full mode's slow path); the frame leaves the wire. On a
 * VLAN, the untagged frame after the room its tags left (RQ->room: bpf/vlan.h).
 */
static __always_inline int dhcp_queue_to_daemon(struct xdp_md *ctx, const struct bootp_hdr *bp,
						const struct dhcp_request *rq, int *verdict)
{
	__u32 room = rq->room & 0xc;
	__u32 len = ctx->data_end - ctx->data - room;
	struct xpxe_dhcp_queued *q;

	if (len < 14 || len > XPXE_DHCP_QUEUE_FRAME_MAX)
		return XPXE_CNT_PASS_DHCP_MALFORMED;
	q = bpf_ringbuf_reserve(&dhcp_queue, sizeof(*q), 0);
	if (!q)
		return XPXE_CNT_PASS_DHCP_QUEUE_FULL;
	__builtin_memcpy(q->mac, bp->chaddr, 6);
	q->msg_type = rq->msg_type;
	q->requested_ip = rq->requested_ip ? rq->requested_ip : bp->ciaddr;
	q->server_id = rq->server_id;
	q->frame_len = len;
	q->net = rq->net;
	q->tci[0] = 0;
	q->tci[1] = 0;
	if (rq->net) {
		/* The tags xdp_pxe took off (bpf/vlan.h): the daemon's reply keeps their bits. */
		__u32 slot = ctx->ingress_ifindex == XPXE_LOOPBACK_IFINDEX ? XPXE_DHCP_SCRATCH_RERUN
									   : XPXE_DHCP_SCRATCH_WIRE;
		const struct vlan_frame *vf = bpf_map_lookup_elem(&vlan_frames, &slot);

		if (vf) {
			q->tci[0] = vf->tag[0].tci;
			q->tci[1] = vf->tag[1].tci;
		}
	}
	size_bounded(len, XPXE_DHCP_QUEUE_FRAME_MAX); /* the verifier's bound: see parse.h */
	if (bpf_xdp_load_bytes(ctx, room, q->frame, len)) {
		bpf_ringbuf_discard(q, 0);
		return XPXE_CNT_PASS_DHCP_MALFORMED;
	}
	bpf_ringbuf_submit(q, 0);
	*verdict = XDP_DROP;
	return XPXE_CNT_DHCP_TO_DAEMON;
}

/*
 * What a request xpxe answers or queues must pass, checked once it knows the
 * request is its own (a frame meant for another DHCP server on this host, proxy
 * mode's plain clients and their REQUESTs, goes to the stack even in a flood):
 * an intact UDP checksum (UDPH's datagram, UDP_LEN bytes, summed in S's copy
 * of it; a corrupted one is passed, the stack drops it, and it takes no
 * token), then the limits (KNOWN: its
 * chaddr is in dhcp_clients). Returns 0, or the counter of the outcome with
 * *VERDICT set.
 */
static __always_inline int dhcp_admit(const struct xpxe_dhcp_config *cfg,
				      const struct xpxe_dhcp_rate_key *rkey, bool known,
				      struct dhcp_scratch *s, const struct iphdr *iph,
				      const struct udphdr *udph, __u32 udp_len, int *verdict)
{
	__s64 sum;
	int ret;

	/*
	 * 0: the client sent none (RFC 768); an offload seed, none computed either
	 * (udp_csum_partial).
	 */
	if (udph->check) {
		sum = udp_csum_add_buf(0, s->udp, udp_len, DHCP_CSUM_CALLS, sizeof(s->udp));
		if (sum < 0 ||
		    (!udp_csum_matches(udp_csum_of(sum), iph->saddr, iph->daddr, udp_len) &&
		     !udp_csum_partial(udph->check, iph->saddr, iph->daddr, udp_len)))
			return XPXE_CNT_PASS_BAD_UDP_CSUM;
	}
	ret = dhcp_rate_check(cfg, rkey, known);
	if (ret)
		*verdict = XDP_DROP;
	return ret;
}

/* A request for the daemon: admitted (dhcp_admit), then queued. */
static __always_inline int
dhcp_admit_then_queue(struct xdp_md *ctx, const struct xpxe_dhcp_config *cfg,
		      const struct xpxe_dhcp_rate_key *rkey, const struct xpxe_dhcp_client *client,
		      const struct bootp_hdr *bp, struct dhcp_scratch *s, const struct iphdr *iph,
		      const struct udphdr *udph, __u32 udp_len, int *verdict)
{
	int ret = dhcp_admit(cfg, rkey, client != NULL, s, iph, udph, udp_len, verdict);

	return ret ? ret : dhcp_queue_to_daemon(ctx, bp, &s->req, verdict);
}

/*
 * The template of REPLY for a request of class BOOT (CLIENT: its chaddr's entry
 * in dhcp_clients, if any), once dhcp_admit let it through (RKEY, S, IPH, UDPH,
 * UDP_LEN: see there). Returns 0 with *TP set, or the counter of why there is
 * no reply. XDP and tc (dhcp_tc.h) decide alike.
 */
static __always_inline int dhcp_choose_template(const struct xpxe_dhcp_config *cfg,
						const struct xpxe_dhcp_rate_key *rkey,
						const struct xpxe_dhcp_client *client, __u32 reply,
						__u32 boot, struct dhcp_scratch *s,
						const struct iphdr *iph, const struct udphdr *udph,
						__u32 udp_len, const struct xpxe_dhcp_template **tp)
{
	const struct xpxe_dhcp_template *t;
	__u32 profile, idx;
	int ret, verdict;

	if (client) {
		profile = client->profile;
	} else if (cfg->flags & XPXE_DHCP_F_ANSWER_UNKNOWN) {
		profile = cfg->default_profile;
	} else {
		return XPXE_CNT_PASS_DHCP_UNKNOWN_MACHINE;
	}
	if (reply == XPXE_REPLY_NAK) {
		profile = 0;
		boot = XPXE_BOOT_PLAIN;
	}
	if (profile >= XPXE_DHCP_MAX_PROFILES)
		return XPXE_CNT_PASS_DHCP_NO_BOOT_FILE;
	ret = dhcp_admit(cfg, rkey, client != NULL, s, iph, udph, udp_len, &verdict);
	if (ret)
		return ret;
	idx = xpxe_dhcp_template_index(profile, reply, boot);
	t = s->req.net ? vlan_template(s->req.net, idx)
		       : bpf_map_lookup_elem(&dhcp_templates, &idx);
	if (!t || !t->len)
		return XPXE_CNT_PASS_DHCP_NO_BOOT_FILE;
	*tp = t;
	return 0;
}

/* Tells the daemon's fleet view that REPLY went to the MAC CHADDR. */
static __always_inline void dhcp_reply_event(struct xpxe_dhcp_client *client, __u32 reply,
					     __u32 boot, __be32 ip, __u32 ifindex,
					     const __u8 *chaddr)
{
	/* The coarse clock: jiffies are enough for a log line and a lease's age (xpxe_events.h). */
	__u64 now = bpf_ktime_get_coarse_ns();
	struct xpxe_dp_event *ev;

	if (client && reply == XPXE_REPLY_ACK)
		client->last_seen_ns = now;
	/*
	 * A full ring loses a fleet-view event, never a reply. No wakeup: waking
	 * the daemon cost ~7 us a reply here (see bpf/events.h); it reads the
	 * ring each round, at least once a second. Written in place: no copy.
	 */
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->type = XPXE_EV_DHCP_OFFER + reply; /* enum order matches xpxe_dhcp_reply */
	ev->boot = boot;
	__builtin_memcpy(ev->mac, chaddr, 6);
	ev->ip = ip;
	ev->ifindex = ifindex;
	ev->ts_ns = now;
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

/*
 * Handles a frame to UDP port 67 or 4011, on the untagged network (NET 0) or the
 * VLAN numbered NET (its tags off: bpf/vlan.h; ROOM: vlan_room's). Returns the counter of the
 * outcome and sets *VERDICT (XDP_TX when a reply was built, else XDP_PASS).
 */
static __always_inline int handle_dhcp(struct xdp_md *ctx, struct ethhdr *eth, struct iphdr *iph,
				       struct udphdr *udph, __u32 payload_len, __u32 net,
				       __u32 room, void *counters_map, int *verdict)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct xpxe_dhcp_template *t;
	struct xpxe_dhcp_config *cfg;
	struct xpxe_dhcp_client *client;
	struct xpxe_mac_key key = {};
	struct xpxe_dhcp_rate_key rkey;
	struct dhcp_scratch *s;
	struct dhcp_echo echo;
	struct dhcp_dest dest;
	struct bootp_hdr *bp;
	__u32 reply, boot, slot, udp_len = payload_len + sizeof(*udph);
	__be32 yiaddr = 0, ciaddr = 0, wanted, seen_at = 0, here;
	__be32 *magic;
	int on_4011 = udph->dest == bpf_htons(XPXE_PORT_PXE_BOOT);
	int ret;

	*verdict = XDP_PASS;
	cfg = bpf_map_lookup_elem(&dhcp_config, &net);
	if (!cfg || !cfg->enabled)
		return XPXE_CNT_PASS_DHCP;

	bp = (void *)(udph + 1);
	magic = (void *)bp + BOOTP_FIXED_LEN;
	if ((void *)(magic + 1) > data_end || payload_len < BOOTP_FIXED_LEN + 4)
		return XPXE_CNT_PASS_DHCP_MALFORMED;
	if (bp->op != 2 && bp->op != 1)
		return XPXE_CNT_PASS_DHCP_MALFORMED;
	if (bp->op == 2)
		return XPXE_CNT_PASS_DHCP_IGNORED; /* another server's reply */
	if (bp->htype != 1 || bp->hlen != 6 || *magic != bpf_htonl(DHCP_MAGIC))
		return XPXE_CNT_PASS_DHCP_MALFORMED;

	__builtin_memcpy(key.addr, bp->chaddr, 6);
	dhcp_rate_key(&rkey, eth->h_source, bp->chaddr);
	slot = ctx->ingress_ifindex == XPXE_LOOPBACK_IFINDEX ? XPXE_DHCP_SCRATCH_RERUN
							     : XPXE_DHCP_SCRATCH_WIRE;
	s = bpf_map_lookup_elem(&dhcp_scratch, &slot);
	if (!s)
		return XPXE_CNT_PASS_DHCP_MALFORMED;
	if (dhcp_parse_options(ctx, s, (void *)udph - data, payload_len - BOOTP_FIXED_LEN - 4))
		return XPXE_CNT_PASS_DHCP_MALFORMED;
	if (s->req.overload)
		return XPXE_CNT_PASS_DHCP_OVERLOAD;
	s->req.net = net;
	s->req.room = room;

	echo.xid = bp->xid;
	echo.flags = bp->flags;
	echo.ciaddr = bp->ciaddr;
	echo.giaddr = bp->giaddr;
	__builtin_memcpy(echo.chaddr, bp->chaddr, 6);
	boot = dhcp_boot_class(&s->req);

	/* Proxy mode's DHCP port: passed on, a PXE DISCOVER to tc (answered here on a VLAN). */
	if (!on_4011 && cfg->mode == XPXE_MODE_PROXY) {
		if (s->req.msg_type != DHCPDISCOVER)
			return XPXE_CNT_PASS_DHCP_IGNORED; /* the site's server handles the rest */
		if (boot == XPXE_BOOT_PLAIN)
			return XPXE_CNT_PASS_DHCP_NOT_PXE;
		/*
		 * A DHCP server on this host (dnsmasq, Kea, one started after xpxe: the daemon
		 * looks each second) must get this DISCOVER too, or its PXE clients never get
		 * an address. XDP cannot both pass a frame and send one: tc_tftp answers it,
		 * after a copy went up to the stack (bpf/dhcp_tc.h). With none, and on a VLAN
		 * (the host has no device for it), XDP answers (below): no skb, no copy.
		 */
		if (!net && (cfg->flags & XPXE_DHCP_F_LOCAL_SERVER))
			return XPXE_CNT_DHCP_PROXY_TO_TC;
	}
	/* Only for what is answered here: a proxy-mode pass does without (~30 ns a lookup). */
	client = bpf_map_lookup_elem(&dhcp_clients, &key);
	if (on_4011) {
		/* Boot server discovery (PXE 2.1), in both modes. */
		if (s->req.msg_type != DHCPREQUEST && s->req.msg_type != DHCPINFORM)
			return XPXE_CNT_PASS_DHCP_IGNORED;
		if (boot == XPXE_BOOT_PLAIN)
			return XPXE_CNT_PASS_DHCP_NOT_PXE;
		/* Option 54 naming another boot server (a WDS beside xpxe): that server's. */
		if (s->req.server_id && s->req.server_id != cfg->server_ip)
			return XPXE_CNT_PASS_DHCP_OTHER_SERVER;
		reply = XPXE_REPLY_ACK_4011;
		ciaddr = echo.ciaddr;
		seen_at = iph->saddr; /* read now: building the reply moves the packet */
	} else if (cfg->mode == XPXE_MODE_PROXY) {
		reply = XPXE_REPLY_OFFER; /* a PXE DISCOVER XDP answers (checked above) */
	} else {
		/*
		 * A binding is answered only on its own network: a MAC that moved (to another
		 * VLAN, or between a VLAN and the untagged network) is a first contact there,
		 * for the daemon, which gives it an address of that network.
		 */
		here = client && client->net == net ? client->ip : 0;
		if (client && client->ip && !here)
			vlan_tally(counters_map, XPXE_CNT_DHCP_OTHER_NET);
		switch (s->req.msg_type) {
		case DHCPDISCOVER:
			if (!here)
				return dhcp_admit_then_queue(ctx, cfg, &rkey, client, bp, s, iph,
							     udph, udp_len, verdict);
			reply = XPXE_REPLY_OFFER;
			yiaddr = here;
			break;
		case DHCPREQUEST:
			if (s->req.server_id && s->req.server_id != cfg->server_ip)
				return XPXE_CNT_PASS_DHCP_OTHER_SERVER;
			/* An offer is only held: the daemon binds (and persists) before the ACK. */
			if (!here || !client || (client->flags & XPXE_CLIENT_F_OFFERED))
				return dhcp_admit_then_queue(ctx, cfg, &rkey, client, bp, s, iph,
							     udph, udp_len, verdict);
			wanted = s->req.requested_ip ? s->req.requested_ip : echo.ciaddr;
			if (wanted == here) {
				reply = XPXE_REPLY_ACK;
				yiaddr = here;
				ciaddr = echo.ciaddr;
			} else {
				reply = XPXE_REPLY_NAK;
			}
			break;
		case DHCPDECLINE:
		case DHCPRELEASE:
			return dhcp_admit_then_queue(ctx, cfg, &rkey, client, bp, s, iph, udph,
						     udp_len, verdict);
		default:
			return XPXE_CNT_PASS_DHCP_IGNORED;
		}
	}

	/*
	 * RFC 2131 4.3.2: a NAK through a relay MUST have the broadcast bit set; the relay
	 * then broadcasts it, as the client may no longer have its address.
	 */
	if (reply == XPXE_REPLY_NAK && echo.giaddr)
		echo.flags |= bpf_htons(0x8000);
	ret = dhcp_choose_template(cfg, &rkey, client, reply, boot, s, iph, udph, udp_len, &t);
	if (ret) {
		if (ret == XPXE_CNT_DROP_DHCP_RATE_MAC || ret == XPXE_CNT_DROP_DHCP_RATE_GLOBAL)
			*verdict = XDP_DROP;
		return ret;
	}

	dhcp_pick_dest(&dest, eth, iph, udph, &echo, reply, yiaddr);
	ret = dhcp_build_reply(ctx, t, &echo, &dest, yiaddr, ciaddr, &s->req);
	if (ret)
		return ret;
	dhcp_reply_event(client, reply, reply == XPXE_REPLY_NAK ? XPXE_BOOT_PLAIN : boot,
			 yiaddr ? yiaddr : seen_at, /* its new address, or its 4011 source */
			 ctx->ingress_ifindex, echo.chaddr);
	*verdict = XDP_TX;
	switch (reply) {
	case XPXE_REPLY_OFFER:
		if (cfg->mode == XPXE_MODE_PROXY)
			vlan_tally(counters_map, XPXE_CNT_DHCP_PROXY_XDP);
		return XPXE_CNT_DHCP_OFFER;
	case XPXE_REPLY_ACK:
		return XPXE_CNT_DHCP_ACK;
	case XPXE_REPLY_ACK_4011:
		return XPXE_CNT_DHCP_ACK_4011;
	default:
		return XPXE_CNT_DHCP_NAK;
	}
}

#endif /* XPXE_BPF_DHCP_H */
