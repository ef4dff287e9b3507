// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pxe run by the kernel on crafted frames (bpf_prog_test_run_opts): each
 * case names a frame, the verdict expected and the one counter that must grow.
 * The output frame must equal the input: a passed frame is never modified.
 * Each case runs through xdp_pxe and xdp_pxe_frags (the build for jumbo MTUs), which must
 * classify alike; a frame longer than one buffer only through the latter (no driver gives
 * xdp_pxe one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "counters.h"
#include "frames.h"
#include "xdp_run.h"

#define CLIENT_IP htonl(0xc6120064) /* 198.18.0.100 */
#define SERVER_IP htonl(0xc6120001) /* 198.18.0.1 */

struct classify_case {
	const char *name;
	size_t (*build)(uint8_t *buf);
	int verdict;
	enum xpxe_counter counter;
};

static const uint8_t some_payload[300] = { 1, 1, 6, 0 }; /* a BOOTREQUEST's first bytes */

static size_t build_arp(uint8_t *buf)
{
	size_t len = frame_eth(buf, ETH_P_ARP);

	memset(buf + len, 0, 28);
	return len + 28;
}

static size_t build_eth_only(uint8_t *buf)
{
	/* Shorter frames never reach XDP: the kernel refuses them before the program runs. */
	return frame_eth(buf, ETH_P_IP);
}

static size_t build_vlan(uint8_t *buf)
{
	size_t len = frame_eth(buf, ETH_P_8021Q);

	/* VID 5 (no VLAN is configured here); a TCI of 0 would be a priority tag. */
	memset(buf + len, 0, 46);
	buf[len + 1] = 5;
	return len + 46;
}

static size_t build_dhcp(uint8_t *buf)
{
	return frame_udp(buf, 0, 0xffffffff, 68, 67, some_payload, sizeof(some_payload));
}

static size_t build_pxe_4011(uint8_t *buf)
{
	return frame_udp(buf, CLIENT_IP, SERVER_IP, 4011, 4011, some_payload, sizeof(some_payload));
}

static size_t build_tftp(uint8_t *buf)
{
	static const char rrq[] = "\0\1undionly.kpxe\0octet";

	return frame_udp(buf, CLIENT_IP, SERVER_IP, 40000, 69, rrq, sizeof(rrq));
}

static size_t build_other_udp(uint8_t *buf)
{
	return frame_udp(buf, CLIENT_IP, SERVER_IP, 5353, 53, some_payload, 20);
}

static size_t build_icmp(uint8_t *buf)
{
	size_t len = build_other_udp(buf);

	frame_iph(buf)->protocol = IPPROTO_ICMP;
	return len;
}

static size_t build_ip_truncated(uint8_t *buf)
{
	build_dhcp(buf);
	return sizeof(struct ethhdr) + 12; /* half an IPv4 header */
}

static size_t build_ihl_too_small(uint8_t *buf)
{
	size_t len = build_dhcp(buf);

	frame_iph(buf)->ihl = 4;
	return len;
}

static size_t build_tot_len_lies(uint8_t *buf)
{
	size_t len = build_dhcp(buf);

	frame_iph(buf)->tot_len = htons(1400); /* the frame holds far less */
	return len;
}

static size_t build_fragment(uint8_t *buf)
{
	size_t len = build_dhcp(buf);

	frame_iph(buf)->frag_off = htons(0x2000); /* more fragments */
	return len;
}

static size_t build_udp_len_lies(uint8_t *buf)
{
	size_t len = build_dhcp(buf);
	struct udphdr *udph = (struct udphdr *)(frame_iph(buf) + 1);

	udph->len = htons(ntohs(udph->len) + 1);
	return len;
}

static size_t build_udp_len_too_small(uint8_t *buf)
{
	size_t len = build_dhcp(buf);
	struct udphdr *udph = (struct udphdr *)(frame_iph(buf) + 1);

	udph->len = htons(4);
	return len;
}

static size_t build_ipv6(uint8_t *buf)
{
	size_t len = frame_eth(buf, ETH_P_IPV6);

	memset(buf + len, 0, 60);
	buf[len] = 0x60;
	buf[len + 6] = 59; /* no next header */
	return len + 60;
}

/*
 * Jumbo frames (MTU 9000). A test run puts what exceeds one page (minus headroom and the
 * shared info, ~3.5 KB) in fragments, as a driver does with a frame longer than its first
 * buffer: xdp_pxe must pass such a frame untouched, never answer from its first part.
 */
#define JUMBO_MTU   9000
#define JUMBO_FRAME (ETH_HLEN + JUMBO_MTU)

static size_t build_dhcp_sized(uint8_t *buf, size_t ip_len)
{
	static uint8_t payload[JUMBO_MTU] = { 1, 1, 6, 0 };

	return frame_udp(buf, 0, 0xffffffff, 68, 67, payload, ip_len - 28);
}

static size_t build_dhcp_jumbo(uint8_t *buf)
{
	return build_dhcp_sized(buf, JUMBO_MTU);
}

/* Longer than a standard frame, still in the first buffer: classified as any other. */
static size_t build_dhcp_3000(uint8_t *buf)
{
	return build_dhcp_sized(buf, 3000);
}

/* Extension headers are not walked (bpf/dhcp6.h): a hop-by-hop header, as MLD reports carry. */
static size_t build_ipv6_hop_by_hop(uint8_t *buf)
{
	size_t len = build_ipv6(buf);

	buf[14 + 6] = 0;
	return len;
}

/* UDP over IPv6 to PORT: TFTP's is the daemon's (pass_tftp6), others pass_not_ipv4. */
static size_t build_ipv6_udp(uint8_t *buf, uint16_t port)
{
	size_t len = build_ipv6(buf);

	buf[14 + 4] = 0;
	buf[14 + 5] = 12; /* payload length: UDP header and 4 bytes */
	buf[14 + 6] = IPPROTO_UDP;
	buf[14 + 40 + 0] = 0xc0; /* source port 49152 */
	buf[14 + 40 + 2] = port >> 8;
	buf[14 + 40 + 3] = port & 0xff;
	buf[14 + 40 + 5] = 12;
	return len;
}

static size_t build_ipv6_tftp(uint8_t *buf)
{
	return build_ipv6_udp(buf, 69);
}

/* An ACK to a transfer's port: XDP cannot tell it from any other UDP (no IPv6 sessions). */
static size_t build_ipv6_udp_other(uint8_t *buf)
{
	return build_ipv6_udp(buf, 40000);
}

static const struct classify_case cases[] = {
	{ "arp", build_arp, XDP_PASS, XPXE_CNT_PASS_NOT_IPV4 },
	{ "ipv6", build_ipv6, XDP_PASS, XPXE_CNT_PASS_NOT_IPV4 },
	{ "ipv6 hop-by-hop", build_ipv6_hop_by_hop, XDP_PASS, XPXE_CNT_PASS_IPV6_EXT_HEADER },
	{ "tftp over ipv6 (udp 69)", build_ipv6_tftp, XDP_PASS, XPXE_CNT_PASS_TFTP6 },
	{ "other udp over ipv6", build_ipv6_udp_other, XDP_PASS, XPXE_CNT_PASS_NOT_IPV4 },
	{ "ethernet header only", build_eth_only, XDP_PASS, XPXE_CNT_PASS_TRUNCATED_IPV4 },
	{ "vlan tagged", build_vlan, XDP_PASS, XPXE_CNT_PASS_VLAN },
	{ "icmp", build_icmp, XDP_PASS, XPXE_CNT_PASS_NOT_UDP },
	{ "dhcp to 67", build_dhcp, XDP_PASS, XPXE_CNT_PASS_DHCP },
	{ "pxe to 4011", build_pxe_4011, XDP_PASS, XPXE_CNT_PASS_DHCP },
	{ "tftp rrq", build_tftp, XDP_PASS, XPXE_CNT_PASS_TFTP },
	{ "other udp", build_other_udp, XDP_PASS, XPXE_CNT_PASS_OTHER_PORT },
	{ "ipv4 header cut", build_ip_truncated, XDP_PASS, XPXE_CNT_PASS_TRUNCATED_IPV4 },
	{ "ihl below 5", build_ihl_too_small, XDP_PASS, XPXE_CNT_PASS_BAD_IPV4_HEADER },
	{ "tot_len past the frame", build_tot_len_lies, XDP_PASS, XPXE_CNT_PASS_BAD_IPV4_HEADER },
	{ "ipv4 fragment", build_fragment, XDP_PASS, XPXE_CNT_PASS_IPV4_FRAGMENT },
	{ "udp len past the packet", build_udp_len_lies, XDP_PASS, XPXE_CNT_PASS_TRUNCATED_UDP },
	{ "udp len below 8", build_udp_len_too_small, XDP_PASS, XPXE_CNT_PASS_TRUNCATED_UDP },
	{ "dhcp in a 9000-byte frame (multi-buffer)", build_dhcp_jumbo, XDP_PASS,
	  XPXE_CNT_PASS_MULTI_BUFFER },
	{ "dhcp in a 3000-byte frame (one buffer)", build_dhcp_3000, XDP_PASS, XPXE_CNT_PASS_DHCP },
};

static struct xpxe_bpf *skel;

static int setup(void **state)
{
	(void)state;
	skel = xpxe_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "# cannot load xpxe.bpf.o (needs root and a BPF-capable kernel)\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xpxe_bpf__destroy(skel);
	return 0;
}

static void run_case(void **state)
{
	const struct classify_case *c = *state;
	static uint8_t in[JUMBO_FRAME], out[JUMBO_FRAME];
	size_t len;
	__u32 out_len;

	memset(in, 0, sizeof(in));
	len = c->build(in);

	if (c->counter != XPXE_CNT_PASS_MULTI_BUFFER) {
		assert_int_equal(
		    xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, c->counter),
		    c->verdict);
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
	}
	memset(out, 0, sizeof(out));
	assert_int_equal(
	    xdp_frags_run_counted(skel, in, len, out, sizeof(out), &out_len, c->counter),
	    c->verdict);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
}

static void test_every_counter_has_a_name(void **state)
{
	(void)state;
	for (int i = 0; i < XPXE_CNT_MAX; i++)
		assert_non_null(xpxe_counter_names[i]);
}

int main(void)
{
	enum { N_CASES = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[N_CASES + 1] = {
		cmocka_unit_test(test_every_counter_has_a_name),
	};

	for (int i = 0; i < N_CASES; i++) {
		tests[i + 1] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = run_case,
			.initial_state = (void *)&cases[i],
		};
	}
	return _cmocka_run_group_tests("xdp_classify", tests, N_CASES + 1, setup, teardown);
}
