/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DHCPv6 boot answers in XDP (RFC 8415, RFC 5970), proxy-like: a Solicit from
 * a PXE, HTTP boot or iPXE client gets an Advertise without IA_NA, a Request or
 * Information-request naming us (to 547, or to 4011 as EDK2's PXE sends it)
 * gets a Reply; both carry the client's id, ours, the vendor class EDK2 checks
 * and option 59, the boot file URL (docs/dhcp6-edk2.md). The address comes
 * from another server or SLAAC. One parser, over a copy of the datagram in a
 * per-CPU map (masked offsets the verifier follows); every frame that is not
 * answered gets a counted outcome.
 */
#ifndef XPXE_BPF_DHCP6_H
#define XPXE_BPF_DHCP6_H

#include <linux/ipv6.h>

#include "parse.h"
#include "csum.h"
#include "udp_csum.h"
#include "dhcp.h"
#include "xpxe_dhcp6.h"

#define DHCP6_NOT_MINE	     (-1) /* not DHCPv6: the caller tries the next IPv6 handler */
#define DHCP6_ETH_IP6_LEN    (14 + 40)
#define DHCP6_UDP_MAX	     XPXE_DHCP6_UDP_MAX /* longer: not parsed (counted malformed) */
#define DHCP6_UDP_CALLS	     2 /* bpf_csum_diff calls for DHCP6_UDP_MAX bytes (udp_csum.h) */
#define DHCP6_UDP_MASK	     (DHCP6_UDP_MAX - 1)
#define DHCP6_MSG_OFF	     8	/* the message in the datagram: after the UDP header */
#define DHCP6_OPTS_OFF	     12 /* its options: after the type and the transaction id */
#define DHCP6_MAX_OPTIONS    48 /* a message with more options is malformed */
#define DHCP6_ORO_MAX	     (DHCP6_UDP_MAX / 2) /* codes of an ORO: all a datagram holds */
#define DHCP6_HOP_LIMIT	     64
#define DHCP6_OPT_CLIENTID   1
#define DHCP6_OPT_SERVERID   2
#define DHCP6_OPT_IA_NA	     3
#define DHCP6_OPT_IA_TA	     4
#define DHCP6_OPT_IAADDR     5
#define DHCP6_OPT_ORO	     6
#define DHCP6_OPT_STATUS     13
#define DHCP6_OPT_USER_CLASS 15
#define DHCP6_OPT_VENDOR_CLS 16
#define DHCP6_OPT_IA_PD	     25
#define DHCP6_OPT_BOOTFILE   59
#define DHCP6_OPT_ARCH	     61
#define DHCP6_IA_NA_HDR	     12 /* IAID, T1, T2 */
#define DHCP6_IAADDR_LEN     24 /* address, preferred and valid lifetimes */
#define DHCP6_IA_OPTS	     4	/* options inside an IA_NA looked at (more: the daemon's) */
/* A bound machine's answer ends in its IA_NA (one IA Address) or a Status Code. */
#define DHCP6_TAIL_MAX (4 + DHCP6_IA_NA_HDR + 4 + DHCP6_IAADDR_LEN)
/* The reply: headers, the message header, the class's options, the client id (+4: zeros),
 * the tail. */
#define DHCP6_REPLY_UDP_MAX \
	(DHCP6_MSG_OFF + 4 + XPXE_DHCP6_OPTS_MAX + 4 + XPXE_DHCP6_DUID_MAX + DHCP6_TAIL_MAX)

enum dhcp6_msg_type {
	DHCP6_SOLICIT = 1,
	DHCP6_ADVERTISE = 2,
	DHCP6_REQUEST = 3,
	DHCP6_CONFIRM = 4,
	DHCP6_RENEW = 5,
	DHCP6_REBIND = 6,
	DHCP6_REPLY = 7,
	DHCP6_RELEASE = 8,
	DHCP6_DECLINE = 9,
	DHCP6_INFORMATION_REQUEST = 11,
	DHCP6_RELAY_FORW = 12,
	DHCP6_RELAY_REPL = 13,
};

/* What the walk over the options found. */
struct dhcp6_request {
	struct dhcp_request v4; /* vendor, is_ipxe, arch: what the IPv4 classifier reads */
	__u16 cid_off;		/* the client id option (header included) in the datagram */
	__u16 cid_len;		/* its length with the header; 0: none */
	__u16 sid_off;		/* the server id option's data in the datagram */
	__u16 sid_len;		/* its data's length; 0: none */
	__u8 wants_url;		/* the ORO asks for option 59 */
	/* IA_NA, walked only for a bound machine's message (dhcp6_walk_options' WITH_IA) */
	__u8 n_ia_na;	  /* IA_NA options seen */
	__u8 has_ia_addr; /* the first IA_NA holds an IA Address: IA_ADDR */
	__u8 odd_ia;	  /* an IA_NA or IA Address too short, or more inside than looked at */
	__u32 iaid;	  /* the first IA_NA's */
	__u8 ia_addr[16];
	__u8 any_ia; /* an IA_NA, IA_TA or IA_PD: never in an Information-request (16.12) */
	__u8 pad[5];
};

struct dhcp6_scratch {
	struct dhcp6_request req;
	/* the request's UDP datagram; +264: an option is read up to 260 bytes past a masked offset
	 */
	__u8 in[DHCP6_UDP_MAX + 264];
	__u8 hdr[DHCP6_ETH_IP6_LEN + 2]; /* the reply's Ethernet and IPv6 headers */
	__u8 udp[DHCP6_UDP_MAX + 8];	 /* its UDP datagram (udp_csum_add_buf's room) */
	/* A UseMulticast Reply's options (dhcp6_use_multicast): our server id, then its status */
	struct xpxe_dhcp6_reply own;
	__u8 tail[DHCP6_TAIL_MAX];
};

_Static_assert(DHCP6_REPLY_UDP_MAX <= DHCP6_UDP_MAX, "a reply fits its buffer");
_Static_assert(DHCP6_UDP_MAX <= DHCP6_UDP_CALLS * UDP_CSUM_CALL_MAX &&
		   DHCP6_UDP_CALLS * UDP_CSUM_CALL_MAX <= DHCP6_UDP_MAX + 8 - 3,
	       "every datagram parsed or sent can be summed in its buffer");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dhcp6_scratch);
} dhcp6_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xpxe_dhcp6_config);
} dhcp6_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XPXE_DHCP6_REPLIES);
	__type(key, __u32);
	__type(value, struct xpxe_dhcp6_reply);
} dhcp6_replies SEC(".maps");

/* Full mode: the bindings the daemon made (xpxe_dhcp6.h), by MAC. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xpxe_mac_key);
	__type(value, struct xpxe_dhcp6_binding);
} dhcp6_bindings SEC(".maps");

/* Full mode: what goes before the client id, per (profile, class) (xpxe_dhcp6.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XPXE_DHCP6_REPLIES);
	__type(key, __u32);
	__type(value, struct xpxe_dhcp6_reply);
} dhcp6_replies_full SEC(".maps");

/*
 * xdp_dhcp6_bound (xdp_dhcp6_bound_frags for xdp_pxe_frags: a tail call needs the same
 * multi-buffer flag on both sides), in slot 0, put there by the daemon: a bound machine's
 * message, tail-called from xdp_pxe so that its answer is verified apart, within its own
 * budget of instructions. Empty: the message goes to the daemon, as before.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dhcp6_bound_prog SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dhcp6_bound_prog_frags SEC(".maps");

static __always_inline __u32 dhcp6_get16(const __u8 *p)
{
	return (__u32)p[0] << 8 | p[1];
}

/* The sum of the 16 bytes of an IPv6 address as big-endian words. */
static __always_inline __u32 dhcp6_sum_addr(const __u8 *a)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 16; i += 2)
		sum += (__u32)a[i] << 8 | a[i + 1];
	return sum;
}

/* RFC 8415 7.3: the messages a client sends to servers. */
static __always_inline bool dhcp6_from_client(__u8 type)
{
	switch (type) {
	case DHCP6_SOLICIT:
	case DHCP6_REQUEST:
	case 4: /* Confirm */
	case 5: /* Renew */
	case 6: /* Rebind */
	case 8: /* Release */
	case 9: /* Decline */
	case DHCP6_INFORMATION_REQUEST:
		return true;
	}
	return false;
}

/* RFC 8200 4.1: the next headers that are extension headers (and ESP, which hides the rest). */
static __always_inline bool dhcp6_is_ext_header(__u8 nexthdr)
{
	switch (nexthdr) {
	case 0:	  /* hop-by-hop options */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253: /* experiments */
	case 254:
		return true;
	}
	return false;
}

/*
 * Whether an ORO whose data is LEN bytes at S->in[OFF] asks for option 59: 1 or 0. Every
 * code, as the daemon's parser reads them (dhcp6_proto.c take_option): a client that names
 * 59 late in a long list gets the same class here and there. A global function: the
 * verifier walks its loop once, not once for each option of the walk that calls it.
 */
__noinline int dhcp6_oro_wants_url(const struct dhcp6_scratch *s, __u32 off, __u32 len)
{
	if (!s)
		return 0;
	for (__u32 i = 0; i < DHCP6_ORO_MAX; i++) {
		__u32 at = off + 2 * i;

		if (2 * i + 2 > len)
			break;
		at &= DHCP6_UDP_MASK;
		if (dhcp6_get16(&s->in[at]) == DHCP6_OPT_BOOTFILE)
			return 1;
	}
	return 0;
}

static __always_inline __u32 dhcp6_get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/*
 * An IA_NA whose data is LEN bytes at S->in[OFF]: its IAID and first IA Address into
 * S->req, as the daemon's parser reads them (dhcp6_proto.c take_ia). What that parser would
 * refuse, or more than DHCP6_IA_OPTS options inside, marks the request odd_ia: the daemon's
 * to answer. A global function: the verifier checks it once, not once for each path
 * through the walk that calls it (inlined, the walk took more than its 1M instructions).
 */
__noinline int dhcp6_take_ia(struct dhcp6_scratch *s, __u32 off, __u32 len)
{
	struct dhcp6_request *rq;
	__u32 at = DHCP6_IA_NA_HDR;

	if (!s)
		return 0;
	rq = &s->req;
	off &= DHCP6_UDP_MASK; /* below DHCP6_UDP_MAX already: for the verifier */
	if (len < DHCP6_IA_NA_HDR) {
		rq->odd_ia = 1;
		return 0;
	}
	if (rq->n_ia_na++)
		return 0; /* the first IA only, as the daemon */
	rq->iaid = dhcp6_get32(&s->in[off]);
	for (int i = 0; i < DHCP6_IA_OPTS; i++) {
		__u32 p, code, olen;

		if (at == len)
			return 0;
		if (at + 4 > len)
			break;
		p = (off + at) & DHCP6_UDP_MASK;
		code = dhcp6_get16(&s->in[p]);
		olen = dhcp6_get16(&s->in[p + 2]);
		if (olen > len - at - 4)
			break;
		if (code == DHCP6_OPT_IAADDR) {
			if (olen < DHCP6_IAADDR_LEN)
				break;
			if (!rq->has_ia_addr) {
				__builtin_memcpy(rq->ia_addr, &s->in[p + 4], 16);
				rq->has_ia_addr = 1;
			}
		}
		at += 4 + olen;
	}
	rq->odd_ia = 1;
	return 0;
}

/*
 * One option: CODE, LEN bytes of data at IN[OFF] (OFF below DHCP6_UDP_MAX). WITH_IA (a
 * constant): IA_NAs too, and client and server ids of lengths the daemon's parser refuses
 * mark the request odd_ia.
 */
static __always_inline void dhcp6_take_option(struct dhcp6_scratch *s, __u32 off, __u32 code,
					      __u32 len, const bool with_ia)
{
	struct dhcp6_request *rq = &s->req;
	const __u8 *in = s->in;
	const __u8 *v = &in[off];
	__u32 n;

	if (code == DHCP6_OPT_IA_NA || code == DHCP6_OPT_IA_TA || code == DHCP6_OPT_IA_PD)
		rq->any_ia = 1;
	if (with_ia && (code == DHCP6_OPT_CLIENTID || code == DHCP6_OPT_SERVERID) &&
	    (len < 2 || len > XPXE_DHCP6_DUID_MAX))
		rq->odd_ia = 1;
	switch (code) {
	case DHCP6_OPT_IA_NA:
		if (with_ia)
			dhcp6_take_ia(s, off, len);
		break;
	case DHCP6_OPT_CLIENTID:
		if (!rq->cid_len && len >= 2 && len <= XPXE_DHCP6_DUID_MAX) {
			rq->cid_off = off - 4;
			rq->cid_len = len + 4;
		}
		break;
	case DHCP6_OPT_SERVERID:
		if (!rq->sid_len && len >= 2 && len <= XPXE_DHCP6_DUID_MAX) {
			rq->sid_off = off;
			rq->sid_len = len;
		}
		break;
	case DHCP6_OPT_ORO:
		if (!rq->wants_url && dhcp6_oro_wants_url(s, off, len))
			rq->wants_url = 1;
		break;
	case DHCP6_OPT_USER_CLASS:
		/* RFC 8415 21.15: a list of (2-byte length, data); iPXE sends one, "iPXE". */
		if (len >= 6 && dhcp6_get16(v) == 4 && v[2] == 'i' && v[3] == 'P' && v[4] == 'X' &&
		    v[5] == 'E')
			rq->v4.is_ipxe = 1;
		break;
	case DHCP6_OPT_VENDOR_CLS:
		/* Enterprise number, then (2-byte length, data): "PXEClient:Arch:00007:...". */
		if (len < 6)
			break;
		n = dhcp6_get16(v + 4);
		if (n > len - 6)
			n = len - 6;
		parse_vendor_class(&rq->v4, v + 6, n);
		break;
	case DHCP6_OPT_ARCH:
		/* RFC 5970: a list of architecture types; the first names this boot. The first
		 * option 61 of the message, as the daemon's parser takes it. */
		if (len >= 2 && !rq->v4.has_arch) {
			rq->v4.arch = (__u16)dhcp6_get16(v);
			rq->v4.has_arch = 1;
		}
		break;
	}
}

/*
 * Walks the options of the UDP_LEN-byte datagram in S->in. 0, or -1 when malformed. WITH_IA
 * (a constant): the IA_NA too (dhcp6_take_option), for a bound machine's message.
 */
static __always_inline int dhcp6_walk_options(struct dhcp6_scratch *s, __u32 udp_len,
					      const bool with_ia)
{
	const __u8 *in = s->in;
	__u32 off = DHCP6_OPTS_OFF;

	for (int i = 0; i < DHCP6_MAX_OPTIONS; i++) {
		__u32 code, len;

		if (off == udp_len)
			return 0;
		if (off + 4 > udp_len)
			return -1; /* an option header cut by the end */
		off &= DHCP6_UDP_MASK;
		code = dhcp6_get16(&in[off]);
		len = dhcp6_get16(&in[off + 2]);
		if (off + 4 + len > udp_len)
			return -1; /* the option claims more than the message holds */
		dhcp6_take_option(s, off + 4, code, len, with_ia);
		off += 4 + len;
	}
	return -1;
}

/*
 * The class of a request: the IPv4 classifier's (vendor class, user class,
 * option 61 as option 93), and a client that asks for option 59 with nothing
 * else than its architecture is a PXE client of that architecture.
 */
static __always_inline __u32 dhcp6_boot_class(const struct dhcp6_request *rq)
{
	__u32 boot = dhcp_boot_class(&rq->v4);

	if (boot == XPXE_BOOT_PLAIN && rq->wants_url && rq->v4.has_arch)
		boot = arch_class(rq->v4.arch);
	return boot;
}

/* Whether the server id the request names (S->req.sid_*) is our DUID. */
static __always_inline bool dhcp6_names_us(const struct dhcp6_scratch *s,
					   const struct xpxe_dhcp6_config *cfg)
{
	__u32 off = s->req.sid_off;

	if (s->req.sid_len != cfg->duid_len || cfg->duid_len > XPXE_DHCP6_SERVER_DUID_MAX)
		return false;
	off &= DHCP6_UDP_MASK;
#pragma unroll
	for (int i = 0; i < XPXE_DHCP6_SERVER_DUID_MAX; i++)
		if (i < (int)cfg->duid_len && s->in[off + i] != cfg->duid[i])
			return false;
	return true;
}

static __always_inline void dhcp6_put16(__u8 *p, __u32 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static __always_inline void dhcp6_put32(__u8 *p, __u32 v)
{
	dhcp6_put16(p, v >> 16);
	dhcp6_put16(p + 2, v);
}

/* The messages RFC 8415 18.4 answers with UseMulticast when sent to our address. */
static __always_inline bool dhcp6_use_multicast_type(__u8 type)
{
	return type == DHCP6_REQUEST || type == DHCP6_RENEW || type == DHCP6_RELEASE ||
	       type == DHCP6_DECLINE;
}

#define DHCP6_USE_MULTICAST	5
#define DHCP6_USE_MULTICAST_MSG "use ff02::1:2" /* the daemon's words (dhcp6_server.c) */

/*
 * The options of a Reply of UseMulticast (RFC 8415 18.4: our server id, the client's id and
 * the status only) into S->own and S->tail; the tail's length. dhcp6_build puts the client id
 * between them.
 */
static __always_inline __u32 dhcp6_use_multicast(struct dhcp6_scratch *s,
						 const struct xpxe_dhcp6_config *cfg)
{
	__u32 duid_len = cfg->duid_len, msg_len = sizeof(DHCP6_USE_MULTICAST_MSG) - 1;

	if (duid_len > XPXE_DHCP6_SERVER_DUID_MAX)
		duid_len = XPXE_DHCP6_SERVER_DUID_MAX;
	dhcp6_put16(s->own.opts, DHCP6_OPT_SERVERID);
	dhcp6_put16(s->own.opts + 2, duid_len);
	__builtin_memcpy(s->own.opts + 4, cfg->duid, XPXE_DHCP6_SERVER_DUID_MAX);
	s->own.len = 4 + duid_len;
	dhcp6_put16(s->tail, DHCP6_OPT_STATUS);
	dhcp6_put16(s->tail + 2, 2 + msg_len);
	dhcp6_put16(s->tail + 4, DHCP6_USE_MULTICAST);
	__builtin_memcpy(s->tail + 6, DHCP6_USE_MULTICAST_MSG, sizeof(DHCP6_USE_MULTICAST_MSG) - 1);
	return 6 + msg_len;
}

/*
 * Builds the answer of TYPE in S->hdr and S->udp, from the request in S->in
 * (IP6 and UDPH: its headers, in the packet), with the options R, the client
 * id, then TAIL_LEN bytes of TAIL (DHCP6_TAIL_MAX readable; 0: none), then
 * writes it over the frame. FROM_LL (a constant): from our link-local address
 * whatever the request went to, as the daemon's socket answers a link-local
 * client. Returns 0, or the counter of why not.
 */
static __always_inline int dhcp6_build(struct xdp_md *ctx, struct dhcp6_scratch *s,
				       const struct xpxe_dhcp6_config *cfg,
				       const struct xpxe_dhcp6_reply *r, const struct ethhdr *eth,
				       const struct ipv6hdr *ip6, const struct udphdr *udph,
				       __u8 type, const __u8 *tail, __u32 tail_len,
				       const bool from_ll)
{
	struct ethhdr *oeth = (void *)s->hdr;
	struct ipv6hdr *oip6 = (void *)(s->hdr + 14);
	struct udphdr *oudp = (void *)s->udp;
	__u32 opts_len = r->len, cid_len = s->req.cid_len, cid_at, udp_len, sum;
	__s64 csum;
	int delta;

	if (!opts_len || opts_len > XPXE_DHCP6_OPTS_MAX)
		return XPXE_CNT_PASS_DHCP_NO_BOOT_FILE;
	if (cid_len > XPXE_DHCP6_DUID_MAX + 4 || tail_len > DHCP6_TAIL_MAX)
		return XPXE_CNT_PASS_DHCP6_MALFORMED;
	udp_len = DHCP6_OPTS_OFF + opts_len + cid_len + tail_len;

	__builtin_memcpy(oeth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(oeth->h_source, cfg->server_mac, ETH_ALEN);
	oeth->h_proto = bpf_htons(ETH_P_IPV6);
	__builtin_memset(oip6, 0, sizeof(*oip6));
	oip6->version = 6;
	oip6->payload_len = bpf_htons(udp_len);
	oip6->nexthdr = IPPROTO_UDP;
	oip6->hop_limit = DHCP6_HOP_LIMIT;
	/* From the address the request went to, or our link-local one when that was ff02::1:2. */
	if (from_ll || ip6->daddr.s6_addr[0] == 0xff)
		__builtin_memcpy(&oip6->saddr, cfg->server_ll, 16);
	else
		oip6->saddr = ip6->daddr;
	oip6->daddr = ip6->saddr;

	oudp->source = udph->dest;
	oudp->dest = udph->source;
	oudp->len = bpf_htons(udp_len);
	oudp->check = 0;
	s->udp[DHCP6_MSG_OFF] = type;
	s->udp[DHCP6_MSG_OFF + 1] = s->in[DHCP6_MSG_OFF + 1]; /* the transaction id */
	s->udp[DHCP6_MSG_OFF + 2] = s->in[DHCP6_MSG_OFF + 2];
	s->udp[DHCP6_MSG_OFF + 3] = s->in[DHCP6_MSG_OFF + 3];
	__builtin_memcpy(s->udp + DHCP6_OPTS_OFF, r->opts, XPXE_DHCP6_OPTS_MAX);
	/* The client id last: the URL before it ends in its 0 byte (EDK2 reads it as a string). */
	if (cid_len) {
		__u32 from = DHCP6_ETH_IP6_LEN + s->req.cid_off;

		cid_at = DHCP6_OPTS_OFF + opts_len;
		size_bounded(cid_len, XPXE_DHCP6_DUID_MAX + 4); /* for Linux 6.1: see parse.h */
		asm("if %0 <= %1 goto +1; %0 = %1"
		    : "+r"(cid_at)
		    : "i"(DHCP6_OPTS_OFF + XPXE_DHCP6_OPTS_MAX));
		if (bpf_xdp_load_bytes(ctx, from, s->udp + cid_at, cid_len))
			return XPXE_CNT_PASS_DHCP6_MALFORMED;
	}
	if (tail_len) {
		__u32 tail_at = DHCP6_OPTS_OFF + opts_len + cid_len;

		asm("if %0 <= %1 goto +1; %0 = %1"
		    : "+r"(tail_at)
		    : "i"(DHCP6_OPTS_OFF + XPXE_DHCP6_OPTS_MAX + XPXE_DHCP6_DUID_MAX + 4));
		__builtin_memcpy(s->udp + tail_at, tail, DHCP6_TAIL_MAX);
	}

	csum = udp_csum_add_buf(0, s->udp, udp_len, DHCP6_UDP_CALLS, sizeof(s->udp));
	if (csum < 0)
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	sum = udp_csum_of(csum) + dhcp6_sum_addr(oip6->saddr.s6_addr) +
	      dhcp6_sum_addr(oip6->daddr.s6_addr) + IPPROTO_UDP + udp_len;
	oudp->check = udp_csum_final(sum); /* network order already */

	/* Grow at the head: XDP guarantees headroom, not tailroom (DESIGN.md, lab facts). */
	delta = (int)(DHCP6_ETH_IP6_LEN + udp_len) - (int)((long)ctx->data_end - (long)ctx->data);
	if (delta > 0 && bpf_xdp_adjust_head(ctx, -delta))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	if (bpf_xdp_store_bytes(ctx, 0, s->hdr, DHCP6_ETH_IP6_LEN))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	size_bounded(udp_len, DHCP6_REPLY_UDP_MAX); /* for Linux 6.1: see parse.h */
	if (bpf_xdp_store_bytes(ctx, DHCP6_ETH_IP6_LEN, s->udp, udp_len))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	return 0;
}

/* The messages a bound machine sends that XDP may answer from its binding (xdp_dhcp6_bound). */
static __always_inline bool dhcp6_bound_may_answer(__u8 type)
{
	return type == DHCP6_REQUEST || type == DHCP6_CONFIRM || type == DHCP6_RENEW ||
	       type == DHCP6_REBIND || type == DHCP6_INFORMATION_REQUEST;
}

/*
 * Whether the frame passes the daemon's receive path (dhcp6_server.c xpxe_dhcp6_server_take
 * and _process) where xdp_pxe has not checked it already: a source in fe80::/10, and a
 * destination MAC ours (the kernel's PACKET_HOST) or a group's (PACKET_MULTICAST,
 * PACKET_BROADCAST), not another host's (PACKET_OTHERHOST); an IPv6 payload length within
 * the frame; an IPv6 packet (the frame after its Ethernet header, fragments included) that
 * fits the daemon's receive buffer (XPXE_DHCP6_PKT_MAX). A unicast destination address is
 * the daemon's to drop or answer (UseMulticast): the callers send it up.
 */
static __always_inline bool dhcp6_daemon_takes(struct xdp_md *ctx, const struct ethhdr *eth,
					       const struct ipv6hdr *ip6, const void *data_end,
					       const struct xpxe_dhcp6_config *cfg6)
{
	const __u8 *src = ip6->saddr.s6_addr, *dst = eth->h_dest;

	if (src[0] != 0xfe || (src[1] & 0xc0) != 0x80)
		return false;
	if ((void *)(ip6 + 1) + ntohs_bounded(ip6->payload_len) > data_end)
		return false;
	if (bpf_xdp_get_buff_len(ctx) > sizeof(struct ethhdr) + XPXE_DHCP6_PKT_MAX)
		return false;
	if (dst[0] & 1)
		return true;
	return dst[0] == cfg6->server_mac[0] && dst[1] == cfg6->server_mac[1] &&
	       dst[2] == cfg6->server_mac[2] && dst[3] == cfg6->server_mac[3] &&
	       dst[4] == cfg6->server_mac[4] && dst[5] == cfg6->server_mac[5];
}

/*
 * A frame that is not IPv4: returns DHCP6_NOT_MINE when it is no DHCPv6 (the
 * next handler's), else the counter of its outcome, with *VERDICT set. FRAGS
 * (a constant): called from xdp_pxe_frags.
 */
_Static_assert(DHCP6_ETH_IP6_LEN + DHCP6_REPLY_UDP_MAX <= XPXE_DP_FRAME6_MAX,
	       "a reply's frame fits in its event");

/*
 * Hands the Reply just built in S (the frame: S->hdr, then S->udp, LEN bytes in all) to the
 * daemon, which sends it again (include/xpxe_events.h): EDK2's boot service exchange on port
 * 4011 loses a Reply that comes before its read is set up. A full ring loses the repeat only.
 */
static __always_inline void dhcp6_repeat_event(struct xdp_md *ctx, const struct dhcp6_scratch *s,
					       __u32 len, __u32 boot)
{
	struct xpxe_dp_dhcp6_reply_event *ev;

	if (len <= DHCP6_ETH_IP6_LEN || len > DHCP6_ETH_IP6_LEN + DHCP6_REPLY_UDP_MAX)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->h.type = XPXE_EV_DHCP6_REPLY_4011;
	ev->h.boot = boot;
	__builtin_memcpy(ev->h.mac, s->hdr, ETH_ALEN); /* the reply's destination */
	ev->h.ip = 0;
	ev->h.ifindex = ctx->ingress_ifindex;
	ev->h.ts_ns = bpf_ktime_get_coarse_ns();
	ev->len = len;
	ev->pad = 0;
	__builtin_memcpy(ev->frame, s->hdr, DHCP6_ETH_IP6_LEN);
	__builtin_memcpy(ev->frame + DHCP6_ETH_IP6_LEN, s->udp, DHCP6_REPLY_UDP_MAX);
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

static __always_inline int handle_dhcp6(struct xdp_md *ctx, int *verdict, const bool frags)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	struct udphdr *udph = (void *)(ip6 + 1);
	const struct xpxe_dhcp6_reply *r;
	struct xpxe_dhcp6_config *cfg6;
	struct xpxe_dhcp_config *cfg;
	struct xpxe_dhcp_client *client;
	struct xpxe_mac_key key = {};
	struct xpxe_dhcp_rate_key rkey;
	struct dhcp6_scratch *s;
	__u32 zero = 0, udp_len, profile, boot, idx, sum, tail_len = 0;
	__u8 type, answer;
	bool unicast, boot_server;
	__s64 csum;
	int ret;

	*verdict = XDP_PASS;
	if ((void *)(ip6 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6) ||
	    ip6->version != 6)
		return DHCP6_NOT_MINE;
	if (dhcp6_is_ext_header(ip6->nexthdr))
		return XPXE_CNT_PASS_IPV6_EXT_HEADER;
	if (ip6->nexthdr != IPPROTO_UDP || (void *)(udph + 1) > data_end ||
	    (udph->dest != bpf_htons(XPXE_PORT_DHCP6_SERVER) &&
	     udph->dest != bpf_htons(XPXE_PORT_PXE_BOOT)))
		return DHCP6_NOT_MINE;

	cfg6 = bpf_map_lookup_elem(&dhcp6_config, &zero);
	cfg = bpf_map_lookup_elem(&dhcp_config, &zero);
	if (!cfg6 || !cfg6->enabled || !cfg || !cfg->enabled)
		return XPXE_CNT_PASS_DHCP6;
	udp_len = ntohs_bounded(udph->len);
	if (udp_len < DHCP6_OPTS_OFF || udp_len > ntohs_bounded(ip6->payload_len) ||
	    udp_len > DHCP6_UDP_MAX || (void *)udph + udp_len > data_end)
		return XPXE_CNT_PASS_DHCP6_MALFORMED;
	s = bpf_map_lookup_elem(&dhcp6_scratch, &zero);
	if (!s)
		return XPXE_CNT_PASS_DHCP6_MALFORMED;
	__builtin_memset(&s->req, 0, sizeof(s->req));
	s->req.v4.vendor_arch = 0xffff;
	size_bounded(udp_len, DHCP6_UDP_MAX); /* for Linux 6.1: see parse.h */
	if (bpf_xdp_load_bytes(ctx, DHCP6_ETH_IP6_LEN, s->in, udp_len))
		return XPXE_CNT_PASS_DHCP6_MALFORMED;
	/* Not optional in IPv6 (RFC 8200 8.1): 0 is as wrong as any other bad sum. */
	csum = udp_csum_add_buf(0, s->in, udp_len, DHCP6_UDP_CALLS, sizeof(s->in));
	if (csum < 0 || !udph->check)
		return XPXE_CNT_PASS_BAD_UDP_CSUM;
	sum = udp_csum_of(csum) + dhcp6_sum_addr(ip6->saddr.s6_addr) +
	      dhcp6_sum_addr(ip6->daddr.s6_addr) + IPPROTO_UDP + udp_len;
	if (csum_fold(sum))
		return XPXE_CNT_PASS_BAD_UDP_CSUM;

	type = s->in[DHCP6_MSG_OFF];
	if (type == DHCP6_RELAY_FORW || type == DHCP6_RELAY_REPL)
		return XPXE_CNT_PASS_DHCP6_RELAY;
	/* Full mode with a pool6: the daemon's server binds addresses; what a client sends to 547
	 * goes up to it (4011 stays here: EDK2's PXE asks a proxy's boot file there). */
	if ((cfg6->flags & XPXE_DHCP6_F_FULL) && udph->dest == bpf_htons(XPXE_PORT_DHCP6_SERVER) &&
	    dhcp6_from_client(type)) {
		/* The limits of v4's path to the daemon: a flood of made-up MACs stops here. */
		__builtin_memcpy(key.addr, eth->h_source, ETH_ALEN);
		dhcp_rate_key(&rkey, eth->h_source, eth->h_source);
		ret = dhcp_rate_check(cfg, &rkey, bpf_map_lookup_elem(&dhcp_clients, &key) != NULL);
		if (ret) {
			*verdict = XDP_DROP;
			return ret;
		}
		/* What the daemon's receive path refuses is counted so whatever the message. */
		if (!dhcp6_daemon_takes(ctx, eth, ip6, data_end, cfg6))
			return XPXE_CNT_PASS_DHCP6_BAD_FRAME;
		/* A bound machine's renewal may be answered here (S->in holds it, checked): it
		 * does not come back when the tail call happens. It comes back when the prog
		 * array is empty (a daemon left with --keep-attached: its array went with it) or
		 * the kernel refuses the call (Linux 6.1 under libxdp's dispatcher): the daemon
		 * answers, counted apart so that the lost fast path shows. One sent to our
		 * address, not to ff02::1:2, is the daemon's (RFC 8415 16, 18.4: it drops it or
		 * answers UseMulticast; xpxe sends no Server Unicast option). */
		if (dhcp6_bound_may_answer(type) && ip6->daddr.s6_addr[0] == 0xff) {
			bpf_tail_call(
			    ctx,
			    frags ? (void *)&dhcp6_bound_prog_frags : (void *)&dhcp6_bound_prog, 0);
			return XPXE_CNT_DHCP6_TAIL_CALL_FAILED;
		}
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
	}
	/* RFC 8415 16, 18.4: xpxe sends no Server Unicast option, so a message to 547 at our
	 * address, not at ff02::1:2, is a Solicit, Confirm, Rebind or Information-request it
	 * drops, or a Request, Renew, Release or Decline that, naming us, gets a Reply of
	 * UseMulticast only: the client sends it again to the group (the daemon's
	 * answer_unicast). 4011 is EDK2's boot-server exchange, unicast by design. */
	unicast = udph->dest == bpf_htons(XPXE_PORT_DHCP6_SERVER) && ip6->daddr.s6_addr[0] != 0xff;
	boot_server = udph->dest == bpf_htons(XPXE_PORT_PXE_BOOT);
	if (unicast && !dhcp6_use_multicast_type(type))
		return XPXE_CNT_PASS_DHCP6_IGNORED;
	if (dhcp6_walk_options(s, udp_len, false))
		return XPXE_CNT_PASS_DHCP6_MALFORMED;
	/* Those four carry both ids as a Request does (16), checked the same way. */
	switch (unicast ? DHCP6_REQUEST : type) {
	case DHCP6_SOLICIT:
		/* RFC 8415 16.2: a Solicit carries a client id and no server id. */
		if (!s->req.cid_len || s->req.sid_len)
			return XPXE_CNT_PASS_DHCP6_MALFORMED;
		answer = DHCP6_ADVERTISE;
		break;
	case DHCP6_REQUEST:
		/* 16.4 (16.5, 16.8, 16.9): both ids; one naming another server is that
		 * server's. */
		if (!s->req.cid_len || !s->req.sid_len)
			return XPXE_CNT_PASS_DHCP6_MALFORMED;
		if (!dhcp6_names_us(s, cfg6))
			return XPXE_CNT_PASS_DHCP6_OTHER_SERVER;
		answer = DHCP6_REPLY;
		break;
	case DHCP6_INFORMATION_REQUEST:
		/* 16.12: one with an IA is discarded (a malformed message); a server id, if
		 * any, ours. */
		if (s->req.any_ia)
			return XPXE_CNT_PASS_DHCP6_MALFORMED;
		if (s->req.sid_len && !dhcp6_names_us(s, cfg6))
			return XPXE_CNT_PASS_DHCP6_OTHER_SERVER;
		answer = DHCP6_REPLY;
		break;
	default:
		/* Advertise/Reply of other servers, and the exchanges of addresses we never gave.
		 */
		return XPXE_CNT_PASS_DHCP6_IGNORED;
	}
	/* A UseMulticast Reply carries no boot options: any client naming us gets it. */
	boot = dhcp6_boot_class(&s->req);
	if (boot == XPXE_BOOT_PLAIN && !unicast)
		return XPXE_CNT_PASS_DHCP6_NOT_PXE;

	/* On the link, the Ethernet source is the machine: its MAC keys the inventory. */
	__builtin_memcpy(key.addr, eth->h_source, ETH_ALEN);
	client = bpf_map_lookup_elem(&dhcp_clients, &key);
	if (client)
		profile = client->profile;
	else if (cfg->flags & XPXE_DHCP_F_ANSWER_UNKNOWN)
		profile = cfg->default_profile;
	else
		return XPXE_CNT_PASS_DHCP_UNKNOWN_MACHINE;
	if (profile >= XPXE_DHCP_MAX_PROFILES)
		return XPXE_CNT_PASS_DHCP_NO_BOOT_FILE;
	dhcp_rate_key(&rkey, eth->h_source, eth->h_source);
	ret = dhcp_rate_check(cfg, &rkey, client != NULL);
	if (ret) {
		*verdict = XDP_DROP;
		return ret;
	}
	if (unicast) {
		tail_len = dhcp6_use_multicast(s, cfg6);
		r = &s->own;
	} else {
		idx = xpxe_dhcp6_reply_index(profile, boot);
		r = bpf_map_lookup_elem(&dhcp6_replies, &idx);
		if (!r)
			return XPXE_CNT_PASS_DHCP_NO_BOOT_FILE;
	}
	ret = dhcp6_build(ctx, s, cfg6, r, eth, ip6, udph, answer, s->tail, tail_len, false);
	if (ret)
		return ret;
	*verdict = XDP_TX;
	if (boot_server && answer == DHCP6_REPLY)
		dhcp6_repeat_event(ctx, s, (long)ctx->data_end - (long)ctx->data, boot);
	if (unicast)
		return XPXE_CNT_DHCP6_USE_MULTICAST;
	return answer == DHCP6_ADVERTISE ? XPXE_CNT_DHCP6_ADVERTISE : XPXE_CNT_DHCP6_REPLY;
}

/* Whether the client id S's request carries (its data) is the DUID of binding B. */
static __always_inline bool dhcp6_same_duid(const struct dhcp6_scratch *s,
					    const struct xpxe_dhcp6_binding *b)
{
	__u32 len = b->duid_len, off = s->req.cid_off + 4;

	if (!s->req.cid_len || s->req.cid_len - 4 != len || len > XPXE_DHCP6_DUID_MAX)
		return false;
	for (int i = 0; i < XPXE_DHCP6_DUID_MAX; i++) {
		if (i >= (int)len)
			break;
		if (s->in[(off + i) & DHCP6_UDP_MASK] != b->duid[i])
			return false;
	}
	return true;
}

static __always_inline bool dhcp6_same_addr(const __u8 *a, const __u8 *b)
{
	__u32 diff = 0;

#pragma unroll
	for (int i = 0; i < 16; i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

/*
 * xdp_dhcp6_bound's body, tail-called by xdp_pxe for a Request, Confirm, Renew, Rebind or
 * Information-request to 547 in full mode, admitted there (checksum, rate limits) and
 * copied to dhcp6_scratch. A machine with a binding in dhcp6_bindings whose message
 * matches it gets the Reply the daemon's server would send (dhcp6_server.c): the options of
 * dhcp6_replies_full, its client id, then its IA_NA at the daemon's lifetimes (Request,
 * Renew, Rebind) or Success (Confirm of its address). Anything else, or anything the daemon
 * would answer otherwise (another DUID or IAID, another address, two IA_NAs, ids RFC 8415 16
 * forbids, another server's id), goes up to the daemon (pass_dhcp6_to_daemon). Returns the
 * counter of the outcome with *VERDICT set.
 */
static __always_inline int handle_dhcp6_bound(struct xdp_md *ctx, int *verdict)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	struct udphdr *udph = (void *)(ip6 + 1);
	const struct xpxe_dhcp6_reply *r;
	struct xpxe_dhcp6_binding *b;
	struct xpxe_dhcp6_config *cfg6;
	struct xpxe_dhcp_config *cfg;
	struct xpxe_dhcp_client *client;
	struct xpxe_mac_key key = {};
	struct dhcp6_scratch *s;
	__u8 tail[DHCP6_TAIL_MAX] = {};
	__u32 zero = 0, udp_len, profile, idx, tail_len = 0;
	bool cid, sid, extends = false;
	__u8 type;
	int ret;

	*verdict = XDP_PASS;
	if ((void *)(udph + 1) > data_end)
		return XPXE_CNT_PASS_DHCP6_MALFORMED; /* never: xdp_pxe checked */
	cfg6 = bpf_map_lookup_elem(&dhcp6_config, &zero);
	cfg = bpf_map_lookup_elem(&dhcp_config, &zero);
	s = bpf_map_lookup_elem(&dhcp6_scratch, &zero);
	if (!cfg6 || !cfg || !s)
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
	udp_len = ntohs_bounded(udph->len);
	if (udp_len < DHCP6_OPTS_OFF || udp_len > DHCP6_UDP_MAX ||
	    (void *)udph + udp_len > data_end)
		return XPXE_CNT_PASS_DHCP6_MALFORMED; /* never: xdp_pxe checked */
	/* What the daemon would not take is no binding's either: it goes up, where the daemon
	 * counts it (bad_frame) and drops it. */
	if (!dhcp6_daemon_takes(ctx, eth, ip6, data_end, cfg6))
		return XPXE_CNT_PASS_DHCP6_BAD_FRAME;
	__builtin_memcpy(key.addr, eth->h_source, ETH_ALEN);
	b = bpf_map_lookup_elem(&dhcp6_bindings, &key);
	if (!b)
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
	__builtin_memset(&s->req, 0, sizeof(s->req));
	s->req.v4.vendor_arch = 0xffff;
	if (dhcp6_walk_options(s, udp_len, true) || s->req.odd_ia || s->req.n_ia_na > 1)
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
	/* The ids of RFC 8415 16 (the daemon's check_ids); a server id, ours. */
	type = s->in[DHCP6_MSG_OFF];
	cid = s->req.cid_len != 0;
	sid = s->req.sid_len != 0;
	switch (type) {
	case DHCP6_REQUEST:
	case DHCP6_RENEW:
		if (!cid || !sid)
			return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
		break;
	case DHCP6_REBIND:
	case DHCP6_CONFIRM:
		if (!cid || sid)
			return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
		break;
	case DHCP6_INFORMATION_REQUEST:
		if (s->req.any_ia) /* 16.12: the daemon drops it (info_request_ia) */
			return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
		break;
	default:
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
	}
	if (sid && !dhcp6_names_us(s, cfg6))
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
	/* The machine's profile, as the daemon's machine_profile picks it. */
	client = bpf_map_lookup_elem(&dhcp_clients, &key);
	if (client)
		profile = client->profile;
	else if ((cfg->flags & XPXE_DHCP_F_ANSWER_UNKNOWN) ||
		 (b->flags & XPXE_DHCP6_BIND_F_RESERVED))
		profile = cfg->default_profile < XPXE_DHCP_MAX_PROFILES ? cfg->default_profile : 0;
	else
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
	if (profile >= XPXE_DHCP_MAX_PROFILES)
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;

	if (type != DHCP6_INFORMATION_REQUEST) {
		/* Its binding, for this DUID, this IA and this address (else the daemon's). */
		if (!dhcp6_same_duid(s, b) || !s->req.n_ia_na)
			return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
		if (s->req.has_ia_addr && !dhcp6_same_addr(s->req.ia_addr, b->ip))
			return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
		if (type == DHCP6_CONFIRM) {
			/* A Confirm with no address gets no answer (the daemon's, 18.3.3). */
			if (!s->req.has_ia_addr)
				return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
			dhcp6_put16(tail, DHCP6_OPT_STATUS);
			dhcp6_put16(tail + 2, 2);
			tail_len = 6; /* status 0, Success: its address is on the link */
		} else {
			if (s->req.iaid != b->iaid)
				return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
			dhcp6_put16(tail, DHCP6_OPT_IA_NA);
			dhcp6_put16(tail + 2, DHCP6_IA_NA_HDR + 4 + DHCP6_IAADDR_LEN);
			dhcp6_put32(tail + 4, b->iaid);
			dhcp6_put32(tail + 8, b->t1);
			dhcp6_put32(tail + 12, b->t2);
			dhcp6_put16(tail + 16, DHCP6_OPT_IAADDR);
			dhcp6_put16(tail + 18, DHCP6_IAADDR_LEN);
			__builtin_memcpy(tail + 20, b->ip, 16);
			dhcp6_put32(tail + 36, b->preferred);
			dhcp6_put32(tail + 40, b->valid);
			tail_len = DHCP6_TAIL_MAX;
			extends = true;
		}
	}
	idx = xpxe_dhcp6_reply_index(profile, dhcp6_boot_class(&s->req));
	r = bpf_map_lookup_elem(&dhcp6_replies_full, &idx);
	if (!r)
		return XPXE_CNT_PASS_DHCP6_TO_DAEMON;
	ret = dhcp6_build(ctx, s, cfg6, r, eth, ip6, udph, DHCP6_REPLY, tail, tail_len, true);
	if (ret)
		return ret;
	/* Not written to the file: the daemon reads this before it takes the address back. */
	if (extends)
		b->last_seen_ns = bpf_ktime_get_coarse_ns();
	*verdict = XDP_TX;
	return XPXE_CNT_DHCP6_REPLY_BOUND;
}

#endif /* XPXE_BPF_DHCP6_H */
