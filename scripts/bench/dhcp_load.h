/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dhcp_load's two halves that need no network, so that a unit test can feed them frames
 * (tests/unit/test_dhcp_load_check.c): the requests a relayed PXE client sends, built whole with
 * real checksums, and the reply checker that every frame the generator receives goes through.
 *
 * Every request is relayed (giaddr set, UDP 67 -> 67), as perfdhcp's are in scripts/bench, so
 * that thousands of clients fit one subnet and every reply comes back to one address. Its
 * options start with the same nine bytes: 53 (type), 57 (max size 1472) and two pads, which
 * the lab's reflector (bpf/bench_dhcp_reflect.bpf.c) overwrites with 53 and 54 of its reply.
 */
#ifndef XPXE_BENCH_DHCP_LOAD_H
#define XPXE_BENCH_DHCP_LOAD_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>

#include "xpxe_dhcp.h"

#define DL_DISCOVER 1
#define DL_OFFER    2
#define DL_REQUEST  3
#define DL_ACK	    5
#define DL_NAK	    6

#define DL_BOOTP_LEN  400 /* about what OVMF's PXE sends; its options fit in 160 bytes */
#define DL_FRAME_LEN  (XPXE_OFF_BOOTP + DL_BOOTP_LEN)
#define DL_COOKIE     0x63825363u
#define DL_OPT_PREFIX 9 /* 53/1/T, 57/2/1472, 0, 0: what the reflector overwrites */

/* The firmware a client plays: what it puts in options 60, 93, 94 and 77. */
enum dl_class {
	DL_BIOS = 0, /* a BIOS PXE ROM: arch 0, UNDI 2.1 */
	DL_UEFI64,   /* OVMF's PXE: arch 7, UNDI 3.16 */
	DL_IPXE,     /* iPXE chainloaded from a BIOS ROM: arch 0 and user class "iPXE" */
	DL_HTTP64,   /* UEFI HTTP boot: arch 16, vendor class HTTPClient */
	DL_CLASS_MAX,
};

static const char *const dl_class_names[DL_CLASS_MAX] = { "bios", "uefi64", "ipxe", "http64" };

/* One request to build. Addresses in network order. */
struct dl_request {
	uint8_t src_mac[ETH_ALEN], dst_mac[ETH_ALEN]; /* the relay's, the server's */
	uint32_t relay_ip, server_ip;		      /* IP source (= giaddr) and destination */
	uint8_t chaddr[ETH_ALEN];
	uint32_t xid;
	uint8_t type;	       /* DL_DISCOVER or DL_REQUEST */
	enum dl_class cls;     /* options 60, 93, 94, 77 */
	uint32_t requested_ip; /* option 50 (REQUEST, SELECTING); 0: none */
	uint32_t server_id;    /* option 54 (REQUEST, SELECTING); 0: none */
	uint32_t ciaddr;       /* a renewal (REBINDING, relayed): ciaddr, no 50/54 */
};

static inline uint32_t dl_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t dl_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline void dl_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* The UDP checksum of the datagram at UDP (LEN bytes, header included) between SRC and DST. */
static inline uint16_t dl_udp_sum(const uint8_t *iph, const uint8_t *udp, size_t len)
{
	uint32_t sum = dl_sum(0, iph + 12, 8) + 17 + len;

	return dl_fold(dl_sum(sum, udp, len));
}

/* Writes the frame of Q into BUF (at least DL_FRAME_LEN bytes); returns its length. */
static inline size_t dl_build_request(uint8_t *buf, const struct dl_request *q)
{
	static const uint8_t params[] = { 1,   3,   6,	 12,  15,  17,	43,  60,  66, 67,
					  128, 129, 130, 131, 132, 133, 134, 135, 175 };
	uint8_t *ip = buf + XPXE_OFF_IP, *udp = buf + XPXE_OFF_UDP, *bp = buf + XPXE_OFF_BOOTP;
	uint8_t *o = bp + 240;
	uint16_t arch = q->cls == DL_UEFI64 ? 7 : q->cls == DL_HTTP64 ? 16 : 0;
	char vci[40];
	uint16_t csum;
	int n;

	memset(buf, 0, DL_FRAME_LEN);
	memcpy(buf, q->dst_mac, ETH_ALEN);
	memcpy(buf + ETH_ALEN, q->src_mac, ETH_ALEN);
	dl_put16(buf + 12, ETH_P_IP);
	ip[0] = 0x45;
	dl_put16(ip + 2, 20 + 8 + DL_BOOTP_LEN);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &q->relay_ip, 4);
	memcpy(ip + 16, &q->server_ip, 4);
	dl_put16(ip + 10, ~dl_fold(dl_sum(0, ip, 20)));
	dl_put16(udp, 67);
	dl_put16(udp + 2, 67);
	dl_put16(udp + 4, 8 + DL_BOOTP_LEN);

	bp[0] = 1; /* BOOTREQUEST, Ethernet, 6-byte addresses, one hop (the relay) */
	bp[1] = 1;
	bp[2] = 6;
	bp[3] = 1;
	memcpy(bp + 4, &q->xid, 4);
	memcpy(bp + 12, &q->ciaddr, 4);
	memcpy(bp + 24, &q->relay_ip, 4);
	memcpy(bp + 28, q->chaddr, ETH_ALEN);
	bp[236] = 0x63, bp[237] = 0x82, bp[238] = 0x53, bp[239] = 0x63;

	*o++ = 53, *o++ = 1, *o++ = q->type;
	*o++ = 57, *o++ = 2, *o++ = 1472 >> 8, *o++ = 1472 & 0xff;
	o += 2; /* two pads: the reflector's room for option 54 */
	*o++ = 61, *o++ = 7, *o++ = 1;
	memcpy(o, q->chaddr, ETH_ALEN);
	o += ETH_ALEN;
	if (q->requested_ip) {
		*o++ = 50, *o++ = 4;
		memcpy(o, &q->requested_ip, 4);
		o += 4;
	}
	if (q->server_id) {
		*o++ = 54, *o++ = 4;
		memcpy(o, &q->server_id, 4);
		o += 4;
	}
	*o++ = 55, *o++ = sizeof(params);
	memcpy(o, params, sizeof(params));
	o += sizeof(params);
	n = snprintf(vci, sizeof(vci), "%s:Arch:%05u:UNDI:%s",
		     q->cls == DL_HTTP64 ? "HTTPClient" : "PXEClient", arch,
		     q->cls == DL_BIOS || q->cls == DL_IPXE ? "002001" : "003016");
	*o++ = 60, *o++ = n;
	memcpy(o, vci, n);
	o += n;
	*o++ = 93, *o++ = 2, *o++ = arch >> 8, *o++ = arch & 0xff;
	*o++ = 94, *o++ = 3, *o++ = 1, *o++ = arch ? 3 : 2, *o++ = arch ? 16 : 1;
	*o++ = 97, *o++ = 17, *o++ = 0; /* a GUID made of the MAC, as a board's would be stable */
	memset(o, 0xa5, 10);
	memcpy(o + 10, q->chaddr, ETH_ALEN);
	o += 16;
	if (q->cls == DL_IPXE) {
		*o++ = 77, *o++ = 4;
		memcpy(o, "iPXE", 4);
		o += 4;
	}
	*o++ = 255;
	csum = ~dl_udp_sum(ip, udp, 8 + DL_BOOTP_LEN);
	dl_put16(udp + 6, csum ? csum : 0xffff);
	return DL_FRAME_LEN;
}

/* What the checker read from a reply; addresses in network order. */
struct dl_reply {
	uint32_t xid;
	uint8_t chaddr[ETH_ALEN];
	uint8_t type; /* option 53 */
	uint32_t yiaddr;
	uint32_t server_id;  /* option 54; 0: none */
	bool boot_file;	     /* a file name in the file field or option 67 */
	char vendor[16];     /* the start of option 60, NUL-terminated; "" when none */
	const char *problem; /* DL_MALFORMED: why */
};

enum dl_verdict {
	DL_OK,	      /* a well-formed DHCP reply: R filled in */
	DL_OTHER,     /* not for us: not IPv4/UDP from port 67 or 4011 to port 67 or 68 */
	DL_MALFORMED, /* meant as a DHCP reply but wrong: R->problem says how */
};

static inline enum dl_verdict dl_bad(struct dl_reply *r, const char *why)
{
	r->problem = why;
	return DL_MALFORMED;
}

/*
 * Checks the frame F (LEN bytes as received) as a DHCP reply: Ethernet, IPv4 (header checksum,
 * lengths, no fragment), UDP (length, checksum: never 0, always right), BOOTP (op, hardware
 * type and length, magic cookie) and options (each inside the message, an end option, one
 * message type). What it must say to one client is the caller's to check.
 */
static inline enum dl_verdict dl_check_reply(const uint8_t *f, size_t len, struct dl_reply *r)
{
	const uint8_t *ip = f + 14, *udp, *bp, *o, *end;
	size_t ihl, tot, ulen;
	uint16_t sport, dport;
	bool ended = false;

	memset(r, 0, sizeof(*r));
	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || (ip[0] >> 4) != 4 || ip[9] != 17)
		return DL_OTHER;
	ihl = (ip[0] & 0xf) * 4;
	if (ihl < 20 || len < 14 + ihl + 8)
		return DL_OTHER;
	udp = ip + ihl;
	sport = udp[0] << 8 | udp[1];
	dport = udp[2] << 8 | udp[3];
	if ((sport != 67 && sport != 4011) || (dport != 67 && dport != 68))
		return DL_OTHER;
	tot = ip[2] << 8 | ip[3];
	if (tot < ihl + 8 || 14 + tot > len)
		return dl_bad(r, "IP length");
	if (dl_fold(dl_sum(0, ip, ihl)) != 0xffff)
		return dl_bad(r, "IP checksum");
	if ((ip[6] & 0x3f) || ip[7])
		return dl_bad(r, "IP fragment");
	ulen = udp[4] << 8 | udp[5];
	if (ulen != tot - ihl)
		return dl_bad(r, "UDP length");
	if (!udp[6] && !udp[7])
		return dl_bad(r, "no UDP checksum");
	if (dl_udp_sum(ip, udp, ulen) != 0xffff)
		return dl_bad(r, "UDP checksum");
	if (ulen < 8 + 240)
		return dl_bad(r, "BOOTP too short");
	bp = udp + 8;
	end = udp + ulen;
	if (bp[0] != 2 || bp[1] != 1 || bp[2] != 6)
		return dl_bad(r, "BOOTP op/htype/hlen");
	if ((uint32_t)(bp[236] << 24 | bp[237] << 16 | bp[238] << 8 | bp[239]) != DL_COOKIE)
		return dl_bad(r, "magic cookie");
	memcpy(&r->xid, bp + 4, 4);
	memcpy(&r->yiaddr, bp + 16, 4);
	memcpy(r->chaddr, bp + 28, ETH_ALEN);
	r->boot_file = bp[108] != 0;
	for (o = bp + 240; o < end && !ended;) {
		uint8_t code = o[0], olen;

		if (code == 0) {
			o++;
			continue;
		}
		if (code == 255) {
			ended = true;
			break;
		}
		if (o + 2 > end || o + 2 + o[1] > end)
			return dl_bad(r, "option past the message");
		olen = o[1];
		switch (code) {
		case 53:
			if (olen != 1 || r->type)
				return dl_bad(r, "option 53");
			r->type = o[2];
			break;
		case 54:
			if (olen != 4)
				return dl_bad(r, "option 54");
			memcpy(&r->server_id, o + 2, 4);
			break;
		case 60: {
			size_t n = olen < sizeof(r->vendor) - 1 ? olen : sizeof(r->vendor) - 1;

			memcpy(r->vendor, o + 2, n);
			r->vendor[n] = 0;
			break;
		}
		case 67:
			r->boot_file |= olen > 0 && o[2];
			break;
		}
		o += 2 + olen;
	}
	if (!ended)
		return dl_bad(r, "no end option");
	if (!r->type)
		return dl_bad(r, "no message type");
	return DL_OK;
}

#endif /* XPXE_BENCH_DHCP_LOAD_H */
