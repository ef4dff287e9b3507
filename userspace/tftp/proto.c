// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tftp/proto.h"

static const char *const opt_names[XPXE_TFTP_OPT_MAX] = {
	[XPXE_TFTP_OPT_BLKSIZE] = "blksize",
	[XPXE_TFTP_OPT_TSIZE] = "tsize",
	[XPXE_TFTP_OPT_TIMEOUT] = "timeout",
	[XPXE_TFTP_OPT_WINDOWSIZE] = "windowsize",
};

static int refuse(struct xpxe_tftp_refusal *why, int code, const char *fmt, const char *arg)
{
	why->code = code;
	snprintf(why->message, sizeof(why->message), fmt, arg ? arg : "");
	return -1;
}

/* The NUL-terminated string at *POS within [buf, end), or NULL when no NUL ends it. */
static const char *next_string(const char **pos, const char *end)
{
	const char *s = *pos, *nul;

	if (s >= end)
		return NULL;
	nul = memchr(s, '\0', end - s);
	if (!nul)
		return NULL;
	*pos = nul + 1;
	return s;
}

/* A decimal number of at most 10 digits, nothing else: no sign, no spaces. */
static bool parse_number(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return true;
}

/* True when a component of NAME (split on '/' or '\') is "..". */
static bool climbs_out(const char *name)
{
	const char *p = name;

	while (*p) {
		size_t n = strcspn(p, "/\\");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

static int parse_name(const char *raw, struct xpxe_tftp_request *req, struct xpxe_tftp_refusal *why)
{
	/* "/undionly.kpxe" is common (a path under a server root): the same asset. */
	while (*raw == '/')
		raw++;
	if (climbs_out(raw))
		return refuse(why, XPXE_TFTP_ERR_ACCESS, "access violation: '..' in a file name",
			      NULL);
	if (!*raw)
		return refuse(why, XPXE_TFTP_ERR_NOT_FOUND, "file not found: empty name", NULL);
	if (strlen(raw) > XPXE_TFTP_NAME_MAX)
		return refuse(why, XPXE_TFTP_ERR_NOT_FOUND, "file not found: name too long", NULL);
	strcpy(req->name, raw);
	return 0;
}

static int parse_option(const char *name, const char *value, struct xpxe_tftp_request *req,
			struct xpxe_tftp_refusal *why)
{
	unsigned long v;
	int opt;

	for (opt = 0; opt < XPXE_TFTP_OPT_MAX; opt++)
		if (!strcasecmp(name, opt_names[opt]))
			break;
	if (opt == XPXE_TFTP_OPT_MAX)
		return 0; /* unknown options are left out of the OACK (RFC 2347) */
	for (int i = 0; i < req->n_opts; i++)
		if (req->opt_order[i] == opt)
			return refuse(why, XPXE_TFTP_ERR_BAD_OPTION, "option %s given twice",
				      opt_names[opt]);
	if (!parse_number(value, &v) ||
	    (opt == XPXE_TFTP_OPT_BLKSIZE && (v < XPXE_TFTP_BLKSIZE_MIN || v > 65464)) ||
	    (opt == XPXE_TFTP_OPT_TIMEOUT && (v < 1 || v > 255)) ||
	    (opt == XPXE_TFTP_OPT_WINDOWSIZE && (v < 1 || v > 65535)))
		return refuse(why, XPXE_TFTP_ERR_BAD_OPTION, "bad value for option %s",
			      opt_names[opt]);
	req->opt_value[opt] = v;
	req->opt_order[req->n_opts++] = opt;
	return 0;
}

int xpxe_tftp_parse_request(const void *buf, size_t len, struct xpxe_tftp_request *req,
			    struct xpxe_tftp_refusal *why)
{
	const char *pos = (const char *)buf + 2, *end = (const char *)buf + len;
	const char *name, *mode, *opt, *value;

	memset(req, 0, sizeof(*req));
	why->code = -1;
	why->message[0] = '\0';
	if (len < 2)
		return refuse(why, XPXE_TFTP_ERR_ILLEGAL_OP, "malformed request", NULL);
	req->opcode = ((const uint8_t *)buf)[0] << 8 | ((const uint8_t *)buf)[1];
	switch (req->opcode) {
	case XPXE_TFTP_RRQ:
		break;
	case XPXE_TFTP_WRQ:
		return refuse(why, XPXE_TFTP_ERR_ILLEGAL_OP, XPXE_TFTP_MSG_READ_ONLY, NULL);
	case XPXE_TFTP_ERROR:
		return refuse(why, -1, "an ERROR is never answered", NULL);
	case XPXE_TFTP_ACK:
		/* tftp-hpa's client acknowledges the ERROR that refused its request. */
		return refuse(why, -1, "an ACK to port 69 is ignored", NULL);
	default:
		return refuse(why, XPXE_TFTP_ERR_ILLEGAL_OP, "illegal TFTP operation", NULL);
	}

	/* The name ends at its first NUL: whatever follows is the mode, then options. */
	name = next_string(&pos, end);
	mode = name ? next_string(&pos, end) : NULL;
	if (!mode)
		return refuse(why, XPXE_TFTP_ERR_ILLEGAL_OP, "malformed request", NULL);
	if (!strcasecmp(mode, "netascii") || !strcasecmp(mode, "mail"))
		return refuse(why, XPXE_TFTP_ERR_UNDEFINED,
			      "only octet (binary) mode is served, not %s", mode);
	if (strcasecmp(mode, "octet"))
		return refuse(why, XPXE_TFTP_ERR_ILLEGAL_OP, "unknown transfer mode", NULL);
	if (parse_name(name, req, why))
		return -1;
	while (pos < end) {
		/* Some clients pad the request with NULs: an all-NUL tail holds no option. */
		const char *p = pos;

		while (p < end && !*p)
			p++;
		if (p == end)
			break;
		opt = next_string(&pos, end);
		value = opt ? next_string(&pos, end) : NULL;
		if (!value)
			return refuse(why, XPXE_TFTP_ERR_BAD_OPTION, "option without a value",
				      NULL);
		if (parse_option(opt, value, req, why))
			return -1;
	}
	return 0;
}

static size_t put_string(uint8_t *buf, size_t pos, const char *s)
{
	size_t n = strlen(s) + 1;

	if (pos + n > XPXE_TFTP_REPLY_MAX)
		return pos;
	memcpy(buf + pos, s, n);
	return pos + n;
}

void xpxe_tftp_negotiate(const struct xpxe_tftp_request *req, uint64_t size, unsigned blksize_max,
			 unsigned windowsize_max, struct xpxe_tftp_plan *plan)
{
	char value[24];
	size_t pos = 2;

	memset(plan, 0, sizeof(*plan));
	plan->blksize = XPXE_TFTP_BLKSIZE_DEFAULT;
	plan->windowsize = 1;
	plan->oack[1] = XPXE_TFTP_OACK;
	for (int i = 0; i < req->n_opts; i++) {
		int opt = req->opt_order[i];
		unsigned long v = req->opt_value[opt];

		switch (opt) {
		case XPXE_TFTP_OPT_BLKSIZE:
			plan->blksize = v < blksize_max ? v : blksize_max;
			v = plan->blksize;
			break;
		case XPXE_TFTP_OPT_TSIZE:
			/* curl takes "tsize 0" for an error: an empty file goes without. */
			if (!size)
				continue;
			v = size;
			break;
		case XPXE_TFTP_OPT_TIMEOUT:
			/* RFC 2349: echoed as asked, or declined (the client keeps its own). */
			if (v > XPXE_TFTP_TIMEOUT_MAX)
				continue;
			plan->timeout_s = v;
			break;
		case XPXE_TFTP_OPT_WINDOWSIZE:
			/* 1 is what the client gets without the option: nothing to say. */
			if (windowsize_max <= 1)
				continue;
			plan->windowsize = v < windowsize_max ? v : windowsize_max;
			v = plan->windowsize;
			break;
		}
		snprintf(value, sizeof(value), "%lu", v);
		pos = put_string(plan->oack, pos, opt_names[opt]);
		pos = put_string(plan->oack, pos, value);
	}
	plan->oack_len = pos > 2 ? pos : 0;
}

size_t xpxe_tftp_error_packet(uint8_t *buf, int code, const char *message)
{
	size_t n = strnlen(message, XPXE_TFTP_REPLY_MAX - 5);

	buf[0] = 0;
	buf[1] = XPXE_TFTP_ERROR;
	buf[2] = (uint8_t)(code >> 8);
	buf[3] = (uint8_t)code;
	memcpy(buf + 4, message, n);
	buf[4 + n] = '\0';
	return 5 + n;
}

unsigned xpxe_tftp_blksize_for_mtu(unsigned mtu)
{
	unsigned max = mtu > 20 + 8 + 4 ? mtu - 20 - 8 - 4 : XPXE_TFTP_BLKSIZE_MIN;

	if (max < XPXE_TFTP_BLKSIZE_MIN)
		max = XPXE_TFTP_BLKSIZE_MIN;
	return max < XPXE_TFTP_BLKSIZE_MAX ? max : XPXE_TFTP_BLKSIZE_MAX;
}

static uint32_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* The sum of chunk bytes [0, X) as big-endian words: the stored sum, plus the bytes after it. */
static uint32_t prefix_sum(const struct xpxe_tftp_chunk *c, uint32_t x)
{
	uint32_t base = x & ~(XPXE_TFTP_CSUM_STRIDE - 1);
	uint64_t s = c->csum[x >> XPXE_TFTP_CSUM_SHIFT];

	/* BASE is even: bytes at even offsets from it are the high halves of words. */
	for (uint32_t i = base; i < x; i++)
		s += (i & 1) ? c->data[i] : (uint32_t)c->data[i] << 8;
	return fold(s);
}

uint16_t xpxe_tftp_chunk_sum(const struct xpxe_tftp_chunk *c, uint32_t r, uint32_t len)
{
	/* One's complement subtraction: adding the complement. */
	uint32_t s = fold((uint64_t)prefix_sum(c, r + len) + (~prefix_sum(c, r) & 0xffff));

	/* From an odd offset each byte weighs as the other half of its word (RFC 1071 2(B)). */
	if (r & 1)
		s = ((s & 0xff) << 8) | (s >> 8);
	return (uint16_t)s;
}

size_t xpxe_tftp_data_payload(uint8_t *buf, const struct xpxe_tftp_chunk *chunks, uint32_t n_chunks,
			      uint64_t size, unsigned blksize, uint32_t block, uint32_t *sum)
{
	uint64_t off = (uint64_t)(block - 1) * blksize;
	uint32_t idx = off >> XPXE_TFTP_CHUNK_SHIFT, r = off & (XPXE_TFTP_CHUNK - 1);
	size_t len;
	int j;

	if (block == 0 || off > size || idx >= n_chunks || blksize > XPXE_TFTP_BLKSIZE_MAX ||
	    blksize < XPXE_TFTP_BLKSIZE_MIN)
		return 0;
	len = size - off < blksize ? size - off : blksize;
	buf[0] = 0;
	buf[1] = XPXE_TFTP_DATA;
	buf[2] = (uint8_t)(block >> 8); /* rolls over past 65535 to 0 */
	buf[3] = (uint8_t)block;
	memcpy(buf + 4, chunks[idx].data + r, len);
	j = xpxe_tftp_bsum_index(blksize, r);
	/* The block's sum as the loader stored it, for the common sizes (xpxe_tftp.h). */
	*sum = XPXE_TFTP_DATA + (block & 0xffff) +
	       (j >= 0 && j < XPXE_TFTP_CHUNK_BSUMS ? chunks[idx].bsum[j]
						    : xpxe_tftp_chunk_sum(&chunks[idx], r, len));
	return 4 + len;
}

int xpxe_tftp_peer_from_frame(const uint8_t *frame, size_t len, struct xpxe_tftp_peer *p)
{
	const struct ethhdr *eth = (const void *)frame;
	/* Copied out: 14 bytes into the frame they are not 4-byte aligned. */
	struct iphdr iph;
	struct ipv6hdr ip6;
	struct udphdr udph;
	size_t ip_len;

	memset(p, 0, sizeof(*p));
	if (len < sizeof(*eth))
		return -1;
	if (eth->h_proto == htons(ETH_P_IP)) {
		if (len < sizeof(*eth) + sizeof(iph))
			return -1;
		memcpy(&iph, eth + 1, sizeof(iph));
		ip_len = iph.ihl * 4u;
		if (iph.version != 4 || iph.protocol != IPPROTO_UDP || ip_len < sizeof(iph))
			return -1;
		p->client_ip = iph.saddr;
		p->server_ip = iph.daddr;
	} else if (eth->h_proto == htons(ETH_P_IPV6)) {
		if (len < sizeof(*eth) + sizeof(ip6))
			return -1;
		memcpy(&ip6, eth + 1, sizeof(ip6));
		/* No extension headers: XDP redirects only plain ACKs (bpf/tftp6.h). */
		if (ip6.version != 6 || ip6.nexthdr != IPPROTO_UDP)
			return -1;
		ip_len = sizeof(ip6);
		p->ipv6 = true;
		memcpy(p->client_ip6, &ip6.saddr, 16);
		memcpy(p->server_ip6, &ip6.daddr, 16);
	} else {
		return -1;
	}
	if (len < sizeof(*eth) + ip_len + sizeof(udph))
		return -1;
	memcpy(&udph, frame + sizeof(*eth) + ip_len, sizeof(udph));
	memcpy(p->client_mac, eth->h_source, ETH_ALEN);
	memcpy(p->server_mac, eth->h_dest, ETH_ALEN);
	p->client_port = udph.source;
	p->server_port = udph.dest;
	return 0;
}

/* The sum of N bytes at P (N even) as big-endian words, unfolded. */
static uint64_t sum_words(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	return s;
}

/*
 * Writes P's IP header (IPv4 or IPv6) for UDP_LEN bytes of UDP at IP, and returns the sum of
 * the UDP pseudo-header (RFC 768, RFC 8200 8.1), unfolded. As the programs write them: IPv4
 * with DF, no id (RFC 6864), TTL 64, no options; IPv6 with traffic class and flow label 0, hop
 * limit 64. Built on the stack and copied in: 14 bytes into a UMEM frame (page aligned) is not
 * where a struct iphdr may be accessed in place.
 */
static uint64_t write_ip_header(uint8_t *ip, const struct xpxe_tftp_peer *p, uint16_t udp_len)
{
	if (p->ipv6) {
		struct ipv6hdr ip6 = { .version = 6,
				       .payload_len = htons(udp_len),
				       .nexthdr = IPPROTO_UDP,
				       .hop_limit = 64 };

		memcpy(&ip6.saddr, p->server_ip6, 16);
		memcpy(&ip6.daddr, p->client_ip6, 16);
		memcpy(ip, &ip6, sizeof(ip6));
		return sum_words(p->server_ip6, 16) + sum_words(p->client_ip6, 16) + IPPROTO_UDP +
		       udp_len;
	}
	struct iphdr iph = { .version = 4,
			     .ihl = 5,
			     .tot_len = htons(sizeof(iph) + udp_len),
			     .frag_off = htons(0x4000),
			     .ttl = 64,
			     .protocol = IPPROTO_UDP,
			     .saddr = p->server_ip,
			     .daddr = p->client_ip };

	iph.check = htons((uint16_t)~fold(sum_words(&iph, sizeof(iph))));
	memcpy(ip, &iph, sizeof(iph));
	return sum_words(&p->server_ip, 4) + sum_words(&p->client_ip, 4) + IPPROTO_UDP + udp_len;
}

size_t xpxe_tftp_data_frame(uint8_t *frame, const struct xpxe_tftp_peer *p,
			    const struct xpxe_tftp_chunk *chunks, uint32_t n_chunks, uint64_t size,
			    unsigned blksize, uint32_t block)
{
	struct ethhdr *eth = (void *)frame;
	size_t hdrs = xpxe_tftp_hdrs_len(p);
	/* UDP sits 34 or 54 bytes into the frame: 2-byte aligned, as its fields need. */
	struct udphdr *udph = (void *)(frame + hdrs - 4 - sizeof(*udph));
	uint32_t payload_sum;
	size_t n = xpxe_tftp_data_payload((uint8_t *)(udph + 1), chunks, n_chunks, size, blksize,
					  block, &payload_sum);
	uint16_t udp_len = sizeof(*udph) + n, c;
	uint64_t sum;

	if (!n)
		return 0;
	memcpy(eth->h_dest, p->client_mac, ETH_ALEN);
	memcpy(eth->h_source, p->server_mac, ETH_ALEN);
	eth->h_proto = htons(p->ipv6 ? ETH_P_IPV6 : ETH_P_IP);
	sum = write_ip_header(frame + sizeof(*eth), p, udp_len);
	udph->source = p->server_port;
	udph->dest = p->client_port;
	udph->len = htons(udp_len);
	sum += ntohs(p->server_port) + ntohs(p->client_port) + udp_len + payload_sum;
	c = (uint16_t)~fold(sum);
	/* A computed 0 goes as 0xffff (RFC 768); over IPv6 0 would mean none, which is refused. */
	udph->check = htons(c ? c : 0xffff);
	return hdrs - 4 - sizeof(*udph) + udp_len; /* Ethernet, IP, then UDP_LEN bytes */
}
