/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Builds test frames for bpf_prog_test_run_opts: Ethernet/IPv4/UDP with real
 * checksums, so a program under test sees what a wire would carry.
 */
#ifndef XPXE_TEST_FRAMES_H
#define XPXE_TEST_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#define FRAME_MAX 2048

static const uint8_t frame_client_mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t frame_server_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static inline uint16_t frame_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint32_t frame_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* Writes an Ethernet header; returns its length. */
/*
 * The IPv4 header starts 14 bytes into a frame, so it is at best 2-byte aligned: the tests
 * reach it through this type, which promises no alignment (a struct iphdr * there is
 * undefined behaviour, and UBSan says so under make SANITIZE=1).
 */
typedef struct iphdr __attribute__((aligned(1))) frame_iphdr;

static inline size_t frame_eth(uint8_t *buf, uint16_t proto)
{
	struct ethhdr *eth = (struct ethhdr *)buf;

	memcpy(eth->h_dest, frame_server_mac, ETH_ALEN);
	memcpy(eth->h_source, frame_client_mac, ETH_ALEN);
	eth->h_proto = htons(proto);
	return sizeof(*eth);
}

/* A whole Ethernet/IPv4/UDP frame carrying PAYLOAD; returns the frame length. */
static inline size_t frame_udp(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint16_t sport,
			       uint16_t dport, const void *payload, size_t plen)
{
	size_t off = frame_eth(buf, ETH_P_IP);
	frame_iphdr *iph = (frame_iphdr *)(buf + off);
	struct udphdr *udph = (struct udphdr *)(iph + 1);
	uint32_t sum;
	uint16_t csum;

	memset(iph, 0, sizeof(*iph));
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->tot_len = htons(sizeof(*iph) + sizeof(*udph) + plen);
	iph->saddr = saddr;
	iph->daddr = daddr;
	csum = htons(frame_csum_fold(frame_csum_add(0, iph, sizeof(*iph))));
	iph->check = csum;

	udph->source = htons(sport);
	udph->dest = htons(dport);
	udph->len = htons(sizeof(*udph) + plen);
	udph->check = 0;
	memcpy(udph + 1, payload, plen);
	/* The pseudo-header: addresses, protocol, UDP length. */
	sum = frame_csum_add(0, &iph->saddr, 8);
	sum += IPPROTO_UDP + sizeof(*udph) + plen;
	sum = frame_csum_add(sum, udph, sizeof(*udph) + plen);
	csum = htons(frame_csum_fold(sum));
	udph->check = csum ? csum : 0xffff;
	return off + sizeof(*iph) + sizeof(*udph) + plen;
}

static inline frame_iphdr *frame_iph(uint8_t *buf)
{
	return (frame_iphdr *)(buf + sizeof(struct ethhdr));
}

/*
 * Puts in the UDP checksum of the frame in BUF what a sender with checksum offload leaves
 * there for its device to finish (CHECKSUM_PARTIAL, Linux's udp4_hwcsum): the pseudo-header's
 * folded sum, not complemented. Frames from a veth or tap peer with tx offload on carry it.
 */
static inline void frame_udp_offload_seed(uint8_t *buf)
{
	frame_iphdr *iph = frame_iph(buf);
	struct udphdr *udph = (struct udphdr *)((uint8_t *)iph + iph->ihl * 4);
	uint32_t sum = frame_csum_add(0, &iph->saddr, 8) + IPPROTO_UDP + ntohs(udph->len);

	udph->check = htons((uint16_t)~frame_csum_fold(sum));
}

/*
 * A whole Ethernet/IPv6/UDP frame from SRC to DST (16 bytes each) carrying PAYLOAD, hop limit
 * 1 (DHCPv6 clients send that to ff02::1:2), the checksum mandatory in IPv6 (RFC 8200 8.1);
 * returns the frame length.
 */
static inline size_t frame_udp6(uint8_t *buf, const uint8_t *src, const uint8_t *dst,
				uint16_t sport, uint16_t dport, const void *payload, size_t plen)
{
	size_t off = frame_eth(buf, ETH_P_IPV6), ulen = 8 + plen;
	uint8_t *ip6 = buf + off, *udp = ip6 + 40;
	uint32_t sum;
	uint16_t csum;

	memset(ip6, 0, 48);
	ip6[0] = 0x60;
	ip6[4] = ulen >> 8, ip6[5] = ulen & 0xff;
	ip6[6] = IPPROTO_UDP;
	ip6[7] = 1;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
	udp[0] = sport >> 8, udp[1] = sport & 0xff;
	udp[2] = dport >> 8, udp[3] = dport & 0xff;
	udp[4] = ulen >> 8, udp[5] = ulen & 0xff;
	memcpy(udp + 8, payload, plen);
	sum = frame_csum_add(0, ip6 + 8, 32) + IPPROTO_UDP + ulen;
	csum = frame_csum_fold(frame_csum_add(sum, udp, ulen));
	csum = csum ? csum : 0xffff;
	udp[6] = csum >> 8, udp[7] = csum & 0xff;
	return off + 40 + ulen;
}

#endif /* XPXE_TEST_FRAMES_H */
