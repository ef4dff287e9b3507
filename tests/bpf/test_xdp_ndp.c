// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pxe's answers to IPv6 Router Solicitations (bpf/ndp.h), run by the
 * kernel (bpf_prog_test_run_opts) on the RS iPXE sent in this lab
 * (tests/fixtures/seabios-ipxe-rom-rs.pcap) and on bad ones made from it.
 * Each case names the settings, the verdict and the counter that must grow;
 * an RA is decoded here field by field, its checksum computed independently.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "dhcp/dhcp.h"
#include "frames.h"
#include "xdp_run.h"
#include "pcap.h"

#ifndef XPXE_FIXTURES
#define XPXE_FIXTURES "tests/fixtures"
#endif
#define IPXE_RS XPXE_FIXTURES "/seabios-ipxe-rom-rs.pcap"

/* Offsets in an Ethernet + IPv6 frame. */
#define OFF_IP6	 14
#define OFF_PLEN (OFF_IP6 + 4)
#define OFF_HLIM (OFF_IP6 + 7)
#define OFF_SRC	 (OFF_IP6 + 8)
#define OFF_DST	 (OFF_IP6 + 24)
#define OFF_ICMP (OFF_IP6 + 40)

/* frame_server_mac's EUI-64 link-local: what the fallback must derive. */
#define SERVER_LL "fe80::ff:fe00:1"

enum client_kind {
	CLIENT_NONE = 0, /* the RS's MAC is not in dhcp_clients */
	CLIENT_BOUND,	 /* full mode: leased; proxy mode: in the inventory */
	CLIENT_OFFERED,	 /* full mode: an address only offered */
};

struct ndp_case {
	const char *name;
	void (*mutate)(uint8_t *frame, size_t *len);
	enum xpxe_dhcp_mode mode;
	enum xpxe_router_advert ra;
	bool dhcp_off;
	enum client_kind client;
	int verdict;
	enum xpxe_counter counter;
	bool to_all_nodes; /* the RA goes to ff02::1 (the RS came from ::) */
};

static struct xpxe_bpf *skel;
static struct in6_addr server_ll;

/* --- an ICMPv6 checksum, computed here independently (RFC 4443 2.3) ------------------ */

static uint32_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* The one's complement sum over the pseudo-header and the ICMP message: 0xffff if valid. */
static uint16_t icmp6_folded(const uint8_t *f, size_t icmp_len)
{
	uint32_t s =
	    sum16(f + OFF_SRC, 32) + (uint32_t)icmp_len + 58 + sum16(f + OFF_ICMP, icmp_len);

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void set_icmp6_csum(uint8_t *f)
{
	size_t icmp_len = (size_t)f[OFF_PLEN] << 8 | f[OFF_PLEN + 1];
	uint16_t c;

	f[OFF_ICMP + 2] = f[OFF_ICMP + 3] = 0;
	c = (uint16_t)~icmp6_folded(f, icmp_len);
	f[OFF_ICMP + 2] = c >> 8;
	f[OFF_ICMP + 3] = c & 0xff;
}

static void set_plen(uint8_t *f, size_t plen)
{
	f[OFF_PLEN] = plen >> 8;
	f[OFF_PLEN + 1] = plen & 0xff;
}

/* --- mutations of iPXE's RS ------------------------------------------------------ */

static void hop_limit_254(uint8_t *f, size_t *len)
{
	(void)len;
	f[OFF_HLIM] = 254;
}

static void bad_checksum(uint8_t *f, size_t *len)
{
	(void)len;
	f[OFF_ICMP + 3] ^= 0x01;
}

/* The frame ends inside the SLLA option the IPv6 length still counts. */
static void truncated(uint8_t *f, size_t *len)
{
	(void)f;
	*len -= 4;
}

/* Too short for an RS header at all. */
static void truncated_header(uint8_t *f, size_t *len)
{
	set_plen(f, 4);
	*len = OFF_ICMP + 4;
}

static void code_1(uint8_t *f, size_t *len)
{
	(void)len;
	f[OFF_ICMP + 1] = 1;
	set_icmp6_csum(f);
}

static void option_len_0(uint8_t *f, size_t *len)
{
	(void)len;
	f[OFF_ICMP + 9] = 0;
	set_icmp6_csum(f);
}

static void unspecified_with_slla(uint8_t *f, size_t *len)
{
	(void)len;
	memset(f + OFF_SRC, 0, 16);
	set_icmp6_csum(f);
}

/* :: and no options: RFC 4861 6.2.6 sends the RA to all nodes. */
static void unspecified_no_option(uint8_t *f, size_t *len)
{
	memset(f + OFF_SRC, 0, 16);
	set_plen(f, 8);
	*len = OFF_ICMP + 8;
	set_icmp6_csum(f);
}

/* A nonce option (RFC 3971, type 14) besides the SLLA: a 78-byte frame, no resize. */
static void with_nonce(uint8_t *f, size_t *len)
{
	static const uint8_t nonce[8] = { 14, 1, 1, 2, 3, 4, 5, 6 };

	memcpy(f + *len, nonce, sizeof(nonce));
	*len += sizeof(nonce);
	set_plen(f, (size_t)f[OFF_PLEN] << 8 | (f[OFF_PLEN + 1] + 8));
	set_icmp6_csum(f);
}

/* Bytes after the IPv6 payload (trailer, padding): the RA must shrink the frame. */
static void padded(uint8_t *f, size_t *len)
{
	memset(f + *len, 0xee, 40);
	*len += 40;
}

static void to_other_router(uint8_t *f, size_t *len)
{
	(void)len;
	inet_pton(AF_INET6, "fe80::1", f + OFF_DST);
	set_icmp6_csum(f);
}

static void to_us(uint8_t *f, size_t *len)
{
	(void)len;
	memcpy(f + OFF_DST, &server_ll, 16);
	set_icmp6_csum(f);
}

static void neighbor_solicitation(uint8_t *f, size_t *len)
{
	(void)len;
	f[OFF_ICMP] = 135;
	set_icmp6_csum(f);
}

static void not_icmp(uint8_t *f, size_t *len)
{
	(void)len;
	f[OFF_IP6 + 6] = 17;
}

static const struct ndp_case cases[] = {
	{ "ipxe_rs_full_bound_gets_ra", NULL, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND,
	  XDP_TX, XPXE_CNT_NDP_RA_SENT, false },
	{ "ipxe_rs_full_on_gets_ra", NULL, XPXE_MODE_FULL, XPXE_RA_ON, false, CLIENT_BOUND, XDP_TX,
	  XPXE_CNT_NDP_RA_SENT, false },
	{ "ipxe_rs_proxy_on_known_gets_ra", NULL, XPXE_MODE_PROXY, XPXE_RA_ON, false, CLIENT_BOUND,
	  XDP_TX, XPXE_CNT_NDP_RA_SENT, false },
	{ "rs_with_nonce_gets_ra", with_nonce, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND,
	  XDP_TX, XPXE_CNT_NDP_RA_SENT, false },
	{ "rs_padded_gets_ra", padded, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND, XDP_TX,
	  XPXE_CNT_NDP_RA_SENT, false },
	{ "rs_to_our_address_gets_ra", to_us, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND,
	  XDP_TX, XPXE_CNT_NDP_RA_SENT, false },
	{ "rs_from_unspecified_gets_ra_to_all_nodes", unspecified_no_option, XPXE_MODE_FULL,
	  XPXE_RA_AUTO, false, CLIENT_BOUND, XDP_TX, XPXE_CNT_NDP_RA_SENT, true },
	/* Not ours to answer. */
	{ "unknown_mac_passes", NULL, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_NONE, XDP_PASS,
	  XPXE_CNT_PASS_NDP_RS_IGNORED, false },
	{ "offered_only_passes", NULL, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_OFFERED,
	  XDP_PASS, XPXE_CNT_PASS_NDP_RS_IGNORED, false },
	{ "proxy_auto_passes", NULL, XPXE_MODE_PROXY, XPXE_RA_AUTO, false, CLIENT_BOUND, XDP_PASS,
	  XPXE_CNT_PASS_NDP_RS_IGNORED, false },
	{ "full_off_passes", NULL, XPXE_MODE_FULL, XPXE_RA_OFF, false, CLIENT_BOUND, XDP_PASS,
	  XPXE_CNT_PASS_NDP_RS_IGNORED, false },
	{ "dhcp_off_passes", NULL, XPXE_MODE_FULL, XPXE_RA_ON, true, CLIENT_BOUND, XDP_PASS,
	  XPXE_CNT_PASS_NDP_RS_IGNORED, false },
	{ "rs_to_other_router_passes", to_other_router, XPXE_MODE_FULL, XPXE_RA_AUTO, false,
	  CLIENT_BOUND, XDP_PASS, XPXE_CNT_PASS_NDP_RS_IGNORED, false },
	/* RFC 4861 6.1.1: invalid, from a machine that would otherwise get an RA. */
	{ "hop_limit_254_passes", hop_limit_254, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND,
	  XDP_PASS, XPXE_CNT_PASS_NDP_RS_INVALID, false },
	{ "bad_checksum_passes", bad_checksum, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND,
	  XDP_PASS, XPXE_CNT_PASS_NDP_RS_INVALID, false },
	{ "truncated_passes", truncated, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND,
	  XDP_PASS, XPXE_CNT_PASS_NDP_RS_INVALID, false },
	{ "truncated_header_passes", truncated_header, XPXE_MODE_FULL, XPXE_RA_AUTO, false,
	  CLIENT_BOUND, XDP_PASS, XPXE_CNT_PASS_NDP_RS_INVALID, false },
	{ "code_1_passes", code_1, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND, XDP_PASS,
	  XPXE_CNT_PASS_NDP_RS_INVALID, false },
	{ "option_len_0_passes", option_len_0, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND,
	  XDP_PASS, XPXE_CNT_PASS_NDP_RS_INVALID, false },
	{ "unspecified_with_slla_passes", unspecified_with_slla, XPXE_MODE_FULL, XPXE_RA_AUTO,
	  false, CLIENT_BOUND, XDP_PASS, XPXE_CNT_PASS_NDP_RS_INVALID, false },
	/* Other IPv6 is not ours. */
	{ "neighbor_solicitation_passes", neighbor_solicitation, XPXE_MODE_FULL, XPXE_RA_AUTO,
	  false, CLIENT_BOUND, XDP_PASS, XPXE_CNT_PASS_NOT_IPV4, false },
	{ "ipv6_udp_passes", not_icmp, XPXE_MODE_FULL, XPXE_RA_AUTO, false, CLIENT_BOUND, XDP_PASS,
	  XPXE_CNT_PASS_NOT_IPV4, false },
};

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

static void configure(const struct ndp_case *c, const uint8_t *rs)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client = { 0 };
	int clients_fd = bpf_map__fd(skel->maps.dhcp_clients);

	xpxe_dhcp_settings_default(&s);
	s.enabled = !c->dhcp_off;
	s.mode = c->mode;
	s.router_advert = c->ra;
	inet_pton(AF_INET, "198.18.0.1", &s.server_ip);
	snprintf(s.http_base, sizeof(s.http_base), "http://198.18.0.1:8080");
	net.mode = c->mode;
	memcpy(net.server_mac, frame_server_mac, 6);
	net.server_ip = s.server_ip;
	net.server_ll = server_ll;
	assert_int_equal(xpxe_dhcp_load_maps(skel, &s, &net), 0);

	memcpy(key.addr, rs + 6, 6);
	bpf_map_delete_elem(clients_fd, &key);
	if (c->client == CLIENT_NONE)
		return;
	if (c->mode == XPXE_MODE_FULL)
		inet_pton(AF_INET, "198.18.0.125", &client.ip);
	if (c->client == CLIENT_OFFERED)
		client.flags = XPXE_CLIENT_F_OFFERED;
	assert_int_equal(bpf_map_update_elem(clients_fd, &key, &client, BPF_ANY), 0);
}

/* Every field of the RA, against the RS it answers. */
static void check_ra(const struct ndp_case *c, const uint8_t *rs, const uint8_t *ra, size_t len)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	const uint8_t *icmp = ra + OFF_ICMP;

	assert_int_equal(len, 14 + 40 + 16 + 8);
	assert_memory_equal(ra, rs + 6, 6); /* to the solicitor's MAC */
	assert_memory_equal(ra + 6, frame_server_mac, 6);
	assert_int_equal(ra[12], 0x86);
	assert_int_equal(ra[13], 0xdd);
	/* IPv6: version 6, no traffic class or flow label, 24 bytes of ICMPv6, hop limit 255. */
	assert_int_equal(ra[OFF_IP6], 0x60);
	assert_int_equal(ra[OFF_IP6 + 1] | ra[OFF_IP6 + 2] | ra[OFF_IP6 + 3], 0);
	assert_int_equal(ra[OFF_PLEN] << 8 | ra[OFF_PLEN + 1], 24);
	assert_int_equal(ra[OFF_IP6 + 6], 58);
	assert_int_equal(ra[OFF_HLIM], 255);
	assert_memory_equal(ra + OFF_SRC, &server_ll, 16);
	assert_int_equal(ra[OFF_SRC] == 0xfe && (ra[OFF_SRC + 1] & 0xc0) == 0x80, 1);
	if (c->to_all_nodes)
		assert_memory_equal(ra + OFF_DST, all_nodes, 16);
	else
		assert_memory_equal(ra + OFF_DST, rs + OFF_SRC, 16);
	/* The RA: type 134, code 0, no hop limit, no M/O flags, lifetime 0, no timers. */
	assert_int_equal(icmp[0], 134);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(icmp6_folded(ra, 24), 0xffff);
	for (int i = 4; i < 16; i++)
		assert_int_equal(icmp[i], 0);
	/* One option: the source link-layer address, ours. */
	assert_int_equal(icmp[16], 1);
	assert_int_equal(icmp[17], 1);
	assert_memory_equal(icmp + 18, frame_server_mac, 6);
}

static void run_case(void **state)
{
	const struct ndp_case *c = *state;
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	int n = pcap_frame(IPXE_RS, 0, in, sizeof(in) - 64);
	size_t len;
	__u32 out_len;

	if (n < 0)
		fail_msg("cannot read %s (run from the repository root)", IPXE_RS);
	len = (size_t)n;
	/* The fixture is what it claims: iPXE's RS with its SLLA option, checksum valid. */
	assert_int_equal(len, 70);
	assert_int_equal(in[OFF_ICMP], 133);
	assert_int_equal(icmp6_folded(in, 16), 0xffff);
	configure(c, in);
	if (c->mutate)
		c->mutate(in, &len);
	assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, c->counter),
			 c->verdict);
	if (c->verdict == XDP_PASS) {
		/* A frame passed to the stack is the frame that came in. */
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
		return;
	}
	check_ra(c, in, out, out_len);
}

/* One RS through xdp_pxe: its verdict, with COUNTER its one outcome. */
static int send_rs(const uint8_t *in, size_t len, enum xpxe_counter counter)
{
	uint8_t out[FRAME_MAX + 512];

	return xdp_run_counted(skel, in, len, out, sizeof(out), NULL, counter);
}

/* A machine's solicitations share its DHCP rate limit: past it, no RA until the bucket refills. */
static void test_rs_rate_limited(void **state)
{
	static const struct ndp_case bound = {
		"rate",	      NULL,   XPXE_MODE_FULL,	    XPXE_RA_AUTO, false,
		CLIENT_BOUND, XDP_TX, XPXE_CNT_NDP_RA_SENT, false
	};
	const __u64 second = 1000000000ull, t0 = 1000 * second;
	struct xpxe_dhcp_rate_key key;
	struct xpxe_dhcp_config cfg;
	uint8_t in[FRAME_MAX];
	int n = pcap_frame(IPXE_RS, 0, in, sizeof(in) - 64),
	    fd = bpf_map__fd(skel->maps.dhcp_config);
	__u32 zero = 0;

	(void)state;
	assert_true(n > 0);
	configure(&bound, in);
	/* One a second, no burst, on a clock the test drives. */
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
	cfg.mac_interval_ns = second;
	cfg.mac_tolerance_ns = 0;
	cfg.clock_ns = t0;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
	memcpy(key.src, in + 6, 6); /* the machine's own: charged to (its MAC, its MAC) */
	memcpy(key.chaddr, in + 6, 6);
	bpf_map_delete_elem(bpf_map__fd(skel->maps.dhcp_rate_mac), &key);

	assert_int_equal(send_rs(in, n, XPXE_CNT_NDP_RA_SENT), XDP_TX);
	assert_int_equal(send_rs(in, n, XPXE_CNT_PASS_NDP_RS_RATE), XDP_PASS);
	cfg.clock_ns = t0 + second;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
	assert_int_equal(send_rs(in, n, XPXE_CNT_NDP_RA_SENT), XDP_TX);
	bpf_map_delete_elem(bpf_map__fd(skel->maps.dhcp_rate_mac), &key);
}

/*
 * Full mode with a pool6 (dhcp6_config's XPXE_DHCP6_F_FULL): the RA says M=1 O=1 and carries
 * the pool's /64 on-link (L=1) but not for SLAAC (A=0), router lifetime still 0, or no prefix
 * when the pool is a relayed link's (prefix_len 0); a machine
 * not in dhcp_clients gets it too (the DHCPv6 server answers strangers), unless strangers
 * are not answered.
 */
static void test_ra_full_pool6(void **state)
{
	static const struct ndp_case stranger = {
		"full6",     NULL,   XPXE_MODE_FULL,	   XPXE_RA_AUTO, false,
		CLIENT_NONE, XDP_TX, XPXE_CNT_NDP_RA_SENT, false
	};
	static const uint8_t prefix[16] = { 0xfd, 0x00, 0x01, 0x98, 0x00, 0x18 };
	struct xpxe_dhcp6_config cfg6 = { .enabled = 1,
					  .flags = XPXE_DHCP6_F_FULL,
					  .prefix_len = 64 };
	int fd6 = bpf_map__fd(skel->maps.dhcp6_config), fd = bpf_map__fd(skel->maps.dhcp_config);
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	int n = pcap_frame(IPXE_RS, 0, in, sizeof(in) - 64);
	const uint8_t *icmp = out + OFF_ICMP, *pio = icmp + 24;
	struct xpxe_dhcp_config cfg;
	__u32 zero = 0, out_len;

	(void)state;
	assert_true(n > 0);
	configure(&stranger, in);
	memcpy(cfg6.prefix, prefix, 16);
	assert_int_equal(bpf_map_update_elem(fd6, &zero, &cfg6, BPF_ANY), 0);
	assert_int_equal(
	    xdp_run_counted(skel, in, n, out, sizeof(out), &out_len, XPXE_CNT_NDP_RA_SENT), XDP_TX);
	assert_int_equal(out_len, 14 + 40 + 16 + 8 + 32);
	assert_int_equal(out[OFF_PLEN] << 8 | out[OFF_PLEN + 1], 16 + 8 + 32);
	assert_int_equal(icmp[0], 134);
	assert_int_equal(icmp6_folded(out, 16 + 8 + 32), 0xffff);
	assert_int_equal(icmp[5], 0xc0);	     /* M and O */
	assert_int_equal(icmp[6] << 8 | icmp[7], 0); /* router lifetime: not a router */
	assert_int_equal(icmp[16], 1);		     /* the source link-layer option first */
	assert_memory_equal(icmp + 18, frame_server_mac, 6);
	assert_int_equal(pio[0], 3); /* Prefix Information, 32 bytes */
	assert_int_equal(pio[1], 4);
	assert_int_equal(pio[2], 64);
	assert_int_equal(pio[3], 0x80); /* L, not A */
	assert_int_equal(pio[4] << 24 | pio[5] << 16 | pio[6] << 8 | pio[7], 86400);
	assert_int_equal(pio[8] << 24 | pio[9] << 16 | pio[10] << 8 | pio[11], 14400);
	assert_memory_equal(pio + 16, prefix, 16);

	/* The pool a relayed link's (prefix_len 0): M and O, no Prefix Information. */
	cfg6.prefix_len = 0;
	assert_int_equal(bpf_map_update_elem(fd6, &zero, &cfg6, BPF_ANY), 0);
	assert_int_equal(
	    xdp_run_counted(skel, in, n, out, sizeof(out), &out_len, XPXE_CNT_NDP_RA_SENT), XDP_TX);
	assert_int_equal(out_len, 14 + 40 + 16 + 8);
	assert_int_equal(out[OFF_PLEN] << 8 | out[OFF_PLEN + 1], 16 + 8);
	assert_int_equal(icmp6_folded(out, 16 + 8), 0xffff);
	assert_int_equal(icmp[5], 0xc0);
	assert_int_equal(icmp[16], 1);

	/* Strangers not answered (default_profile none): no RA for them either. */
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
	cfg.flags &= ~XPXE_DHCP_F_ANSWER_UNKNOWN;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
	assert_int_equal(send_rs(in, n, XPXE_CNT_PASS_NDP_RS_IGNORED), XDP_PASS);

	memset(&cfg6, 0, sizeof(cfg6)); /* the other cases run without DHCPv6 */
	assert_int_equal(bpf_map_update_elem(fd6, &zero, &cfg6, BPF_ANY), 0);
}

/* With no link-local address on the interface, the kernel's EUI-64 one. */
static void test_link_local_fallback(void **state)
{
	struct in6_addr want;

	(void)state;
	inet_pton(AF_INET6, SERVER_LL, &want);
	assert_memory_equal(&server_ll, &want, 16);
}

int main(void)
{
	enum { N_CASES = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[N_CASES + 3] = {
		cmocka_unit_test(test_link_local_fallback),
		cmocka_unit_test(test_rs_rate_limited),
		cmocka_unit_test(test_ra_full_pool6),
	};

	xpxe_interface_link_local("xpxe-no-such0", frame_server_mac, &server_ll);
	for (int i = 0; i < N_CASES; i++) {
		tests[i + 3] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = run_case,
			.initial_state = (void *)&cases[i],
		};
	}
	return _cmocka_run_group_tests("xdp_ndp", tests, N_CASES + 3, setup, teardown);
}
