// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VLAN trunks (bpf/vlan.h), run by the kernel (bpf_prog_test_run_opts): real firmware requests
 * (tests/fixtures/) tagged as a trunk carries them. A configured VLAN's request is answered
 * with the same tags (priority bits kept) from that VLAN's server address, checksums right; a
 * frame of a VLAN it passes goes up exactly as it came; unconfigured VLANs, double tags and
 * priority tags are passed untouched, each its own counted outcome; tc takes the tags off what
 * is for a VLAN's address and puts them on what leaves from it.
 */
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "counters.h"
#include "dhcp/dhcp.h"
#include "vlan.h"
#include "frames.h"
#include "xdp_run.h"
#include "pcap.h"

#ifndef XPXE_FIXTURES
#define XPXE_FIXTURES "tests/fixtures"
#endif
#define OVMF_PROXY XPXE_FIXTURES "/ovmf-pxe-proxy-4011-dhcp.pcap"
#define OVMF_FULL  XPXE_FIXTURES "/ovmf-pxe-full-tftp-dhcp.pcap"
#define IPXE_RS	   XPXE_FIXTURES "/seabios-ipxe-rom-rs.pcap" /* iPXE's RS, with its SLLA */
#define SERVER_LL  "fe80::ff:fe00:1"

#define SERVER_IP "198.18.0.1"
#define VLAN10_IP "198.18.10.1" /* VLAN 10, one 802.1Q tag */
#define QINQ_IP	  "198.18.20.1" /* VLAN 100.20: an 802.1ad outer tag 100, inner 20 */
#define LEASE_IP  "198.18.10.50"

static struct xpxe_bpf *skel;
static struct ring_buffer *queue;
static struct xpxe_dhcp_queued last_queued;
static int n_queued;

static int on_queued(void *ctx, void *data, size_t size)
{
	(void)ctx;
	assert_int_equal(size, sizeof(last_queued));
	memcpy(&last_queued, data, sizeof(last_queued));
	n_queued++;
	return 0;
}

/* The trunk: an untagged network, VLAN 10 and VLAN 100.20, in MODE, Router Advertisements RA. */
static void configure_ra(enum xpxe_dhcp_mode mode, int ra)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_vlan_cfg v10, v20;
	const char *why;

	xpxe_dhcp_settings_default(&s);
	s.mode = mode;
	s.answer_unknown = true;
	s.router_advert = ra;
	inet_pton(AF_INET, SERVER_IP, &s.server_ip);
	snprintf(s.http_base, sizeof(s.http_base), "http://%s:8080", SERVER_IP);
	xpxe_dhcp_profile_defaults(&s.profile, s.boot_file_set, s.http_base);
	net.mode = mode;
	memcpy(net.server_mac, frame_server_mac, 6);
	net.server_ip = s.server_ip;
	inet_pton(AF_INET, "255.255.255.0", &net.netmask);
	net.lease_time = 3600;
	inet_pton(AF_INET6, SERVER_LL, &net.server_ll);
	/* A DHCP server on this host, on the untagged network: a VLAN's DISCOVERs are XDP's. */
	net.local_server = true;
	assert_int_equal(xpxe_dhcp_load_maps(skel, &s, &net), 0);
	assert_int_equal(xpxe_vlan_parse("10=" VLAN10_IP "/24", &v10, &why), 0);
	assert_int_equal(xpxe_vlan_parse("100.20=" QINQ_IP "/24", &v20, &why), 0);
	xpxe_vlan_clear_maps(skel, 2); /* as install_vlans: what an earlier test loaded goes */
	assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &v10, 1), 0);
	assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &v20, 2), 0);
}

static void configure(enum xpxe_dhcp_mode mode)
{
	configure_ra(mode, XPXE_RA_AUTO);
}

static int setup(void **state)
{
	(void)state;
	if (tc_test_netns() < 0)
		return -1;
	skel = xpxe_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "# cannot load xpxe.bpf.o (needs root and a BPF-capable kernel)\n");
		return -1;
	}
	queue = ring_buffer__new(bpf_map__fd(skel->maps.dhcp_queue), on_queued, NULL, NULL);
	return queue ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ring_buffer__free(queue);
	xpxe_bpf__destroy(skel);
	return 0;
}

/* Puts a tag (TPID, TCI) right after the MACs of the frame F of *LEN bytes. */
static void push_tag(uint8_t *f, size_t *len, uint16_t tpid, uint16_t tci)
{
	memmove(f + 16, f + 12, *len - 12);
	f[12] = tpid >> 8;
	f[13] = tpid & 0xff;
	f[14] = tci >> 8;
	f[15] = tci & 0xff;
	*len += 4;
}

/* Frame N of PCAP into IN, with the tags (outer first; TCI 0 ends the list) put on. */
static size_t tagged(uint8_t *in, const char *pcap, int n, uint16_t outer_tpid, uint16_t outer,
		     uint16_t inner)
{
	int got = pcap_frame(pcap, n, in, FRAME_MAX - 8);
	size_t len;

	if (got < 0)
		fail_msg("cannot read frame %d of %s (run from the repository root)", n, pcap);
	len = (size_t)got;
	if (inner)
		push_tag(in, &len, ETH_P_8021Q, inner);
	if (outer)
		push_tag(in, &len, outer_tpid, outer);
	return len;
}

/*
 * Runs PROG on IN; fails unless exactly OUTCOME and the tallies listed (0-terminated) moved
 * by one each, rx_frames too when COUNTS_RX. Returns the verdict.
 */
static int run(struct bpf_program *prog, bool counts_rx, const uint8_t *in, size_t len,
	       uint8_t *out, __u32 *out_len, enum xpxe_counter outcome, ...)
{
	int fd = bpf_map__fd(skel->maps.counters);
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], want[XPXE_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = FRAME_MAX, .repeat = 1);
	va_list ap;
	int c;

	assert_int_equal(xpxe_counters_read(fd, before), 0);
	memcpy(want, before, sizeof(want));
	want[outcome]++;
	if (counts_rx)
		want[XPXE_CNT_RX_FRAMES]++;
	va_start(ap, outcome);
	while ((c = va_arg(ap, int)) != 0)
		want[c]++;
	va_end(ap);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &opts), 0);
	assert_int_equal(xpxe_counters_read(fd, after), 0);
	for (int i = 0; i < XPXE_CNT_MAX; i++)
		if (after[i] != want[i])
			fail_msg("counter %s went %llu -> %llu, expected %llu",
				 xpxe_counter_names[i], (unsigned long long)before[i],
				 (unsigned long long)after[i], (unsigned long long)want[i]);
	*out_len = opts.data_size_out;
	return (int)opts.retval;
}

/*
 * A DHCP reply OUT (OUT_LEN bytes) that must carry the tags of the request IN (NTAGS of them,
 * byte for byte: TPIDs, VIDs, priority bits), come from SERVER, and be well formed under them.
 */
static void check_tagged_reply(const uint8_t *in, int ntags, const uint8_t *out, size_t out_len,
			       const char *server, uint8_t msg_type)
{
	size_t l2 = 14 + 4 * (size_t)ntags;
	const frame_iphdr *iph = (const void *)(out + l2);
	const struct udphdr *udph = (const void *)(iph + 1);
	const uint8_t *bp = (const uint8_t *)(udph + 1), *o;
	struct in_addr ip;
	uint32_t sum;
	size_t udp_len;
	bool saw_type = false, saw_server = false;

	inet_pton(AF_INET, server, &ip);
	assert_true(out_len > l2 + 28 + 240);
	assert_memory_equal(out + 6, frame_server_mac, 6);
	assert_memory_equal(out + 12, in + 12, 4 * (size_t)ntags); /* the tags, as they came */
	assert_int_equal(out[l2 - 2] << 8 | out[l2 - 1], ETH_P_IP);
	assert_int_equal(ntohs(iph->tot_len), out_len - l2);
	assert_int_equal(frame_csum_fold(frame_csum_add(0, iph, 20)), 0);
	assert_int_equal(iph->saddr, ip.s_addr);
	udp_len = ntohs(udph->len);
	assert_int_equal(udp_len, out_len - l2 - 20);
	sum = frame_csum_add(0, &iph->saddr, 8) + IPPROTO_UDP + udp_len;
	assert_int_equal(frame_csum_fold(frame_csum_add(sum, udph, udp_len)), 0);
	assert_int_equal(bp[0], 2);			    /* BOOTREPLY */
	assert_memory_equal(bp + 4, in + l2 + 28 + 4, 4);   /* xid */
	assert_memory_equal(bp + 28, in + l2 + 28 + 28, 6); /* chaddr */
	assert_memory_equal(bp + 20, &ip.s_addr, 4);	    /* siaddr */
	for (o = bp + 240; o < out + out_len && *o != 255; o += *o ? 2 + o[1] : 1) {
		if (o[0] == 53 && o[1] == 1 && o[2] == msg_type)
			saw_type = true;
		if (o[0] == 54 && o[1] == 4 && !memcmp(o + 2, &ip.s_addr, 4))
			saw_server = true;
	}
	assert_true(saw_type);
	assert_true(saw_server); /* option 54: this VLAN's address */
}

/* A boot server REQUEST (port 4011) on VLAN 10 with priority 5: an ACK, tag and PCP kept. */
static void test_4011_on_vlan(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	size_t len = tagged(in, OVMF_PROXY, 5, 0, 0, 5 << 13 | 10);
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_PROXY);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_DHCP_ACK_4011, XPXE_CNT_VLAN_RX, XPXE_CNT_VLAN_PCP, 0),
			 XDP_TX);
	check_tagged_reply(in, 1, out, out_len, VLAN10_IP, 5);
}

/*
 * Proxy mode's DISCOVER: on the untagged network tc answers it (after the stack's copy); on a
 * VLAN the host has no DHCP server of its own, and XDP answers at once.
 */
static void test_proxy_discover_on_vlan(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	size_t len = tagged(in, OVMF_PROXY, 0, 0, 0, 10);
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_PROXY);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len, XPXE_CNT_DHCP_OFFER,
			     XPXE_CNT_VLAN_RX, XPXE_CNT_DHCP_PROXY_XDP, 0),
			 XDP_TX);
	check_tagged_reply(in, 1, out, out_len, VLAN10_IP, 2);
}

/* An 802.1ad outer tag (100) over an 802.1Q one (20), configured as 100.20: both kept. */
static void test_qinq_configured(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	size_t len = tagged(in, OVMF_PROXY, 5, ETH_P_8021AD, 100, 3 << 13 | 20);
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_PROXY);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_DHCP_ACK_4011, XPXE_CNT_VLAN_RX, XPXE_CNT_VLAN_PCP, 0),
			 XDP_TX);
	check_tagged_reply(in, 2, out, out_len, QINQ_IP, 5);
	assert_int_equal(out[12] << 8 | out[13], ETH_P_8021AD);
}

/* Full mode: a known machine's DISCOVER on a VLAN is offered its address from the VLAN's. */
static void test_full_known_on_vlan(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	size_t len = tagged(in, OVMF_FULL, 0, 0, 0, 10);
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client = { 0 };
	struct in_addr lease;
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_FULL);
	memcpy(key.addr, in + 18 + 28 + 28, 6);
	inet_pton(AF_INET, LEASE_IP, &lease);
	client.ip = lease.s_addr;
	client.net = 1; /* VLAN 10's binding */
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_clients), &key, &client, BPF_ANY), 0);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len, XPXE_CNT_DHCP_OFFER,
			     XPXE_CNT_VLAN_RX, 0),
			 XDP_TX);
	check_tagged_reply(in, 1, out, out_len, VLAN10_IP, 2);
	assert_memory_equal(out + 18 + 28 + 16, &lease.s_addr, 4); /* yiaddr */
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(skel->maps.dhcp_clients), &key), 0);
}

/*
 * Full mode: a MAC bound on the untagged network (or another VLAN) that asks on VLAN 10 is
 * not offered that address: its DISCOVER goes to the daemon as a first contact on VLAN 10,
 * counted dhcp_other_net.
 */
static void test_full_bound_elsewhere_queued(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	size_t len = tagged(in, OVMF_FULL, 0, 0, 0, 10);
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client = { 0 };
	struct in_addr lease;
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_FULL);
	ring_buffer__consume(queue);
	n_queued = 0;
	memcpy(key.addr, in + 18 + 28 + 28, 6);
	inet_pton(AF_INET, LEASE_IP, &lease);
	for (__u32 net = 0; net <= 2; net += 2) { /* the untagged network's, then VLAN 100.20's */
		client.ip = lease.s_addr;
		client.net = net;
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_clients), &key,
						     &client, BPF_ANY),
				 0);
		assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
				     XPXE_CNT_DHCP_TO_DAEMON, XPXE_CNT_VLAN_RX,
				     XPXE_CNT_DHCP_OTHER_NET, 0),
				 XDP_DROP);
		ring_buffer__consume(queue);
		assert_int_equal(last_queued.net, 1);
	}
	assert_int_equal(n_queued, 2);
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(skel->maps.dhcp_clients), &key), 0);
}

/* Full mode: a new machine's DISCOVER on a VLAN is queued for the daemon with its VLAN. */
static void test_full_new_queued_with_vlan(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	size_t len = tagged(in, OVMF_FULL, 0, 0, 0, 10);
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_FULL);
	ring_buffer__consume(queue);
	n_queued = 0;
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_DHCP_TO_DAEMON, XPXE_CNT_VLAN_RX, 0),
			 XDP_DROP);
	ring_buffer__consume(queue);
	assert_int_equal(n_queued, 1);
	assert_int_equal(last_queued.net, 1);
	assert_int_equal(last_queued.frame_len, len - 4); /* untagged: the VLAN is in NET */
	assert_memory_equal(last_queued.frame, in, 12);
	assert_memory_equal(last_queued.frame + 12, in + 16, len - 16);
}

/*
 * Frames XDP passes: unchanged, byte for byte, each with its own outcome (and the tallies
 * TALLY, TALLY2 where not 0).
 */
static void expect_passed(const uint8_t *in, size_t len, enum xpxe_counter outcome, int tally,
			  int tally2)
{
	uint8_t out[FRAME_MAX];
	__u32 out_len;

	assert_int_equal(
	    run(skel->progs.xdp_pxe, true, in, len, out, &out_len, outcome, tally, tally2, 0),
	    XDP_PASS);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
}

static void test_passed_untouched(void **state)
{
	uint8_t in[FRAME_MAX];
	size_t len;

	(void)state;
	configure(XPXE_MODE_PROXY);
	len = tagged(in, OVMF_PROXY, 0, 0, 0, 11); /* VLAN 11: not configured */
	expect_passed(in, len, XPXE_CNT_PASS_VLAN, 0, 0);
	len = tagged(in, OVMF_PROXY, 0, ETH_P_8021AD, 100, 10); /* 100.10: not configured */
	expect_passed(in, len, XPXE_CNT_PASS_VLAN_QINQ, 0, 0);
	len = tagged(in, OVMF_PROXY, 0, 0, 0, 20); /* 20 alone, without its outer tag 100 */
	expect_passed(in, len, XPXE_CNT_PASS_VLAN, 0, 0);
	len = tagged(in, OVMF_PROXY, 0, 0, 0, 6 << 13); /* VID 0: a priority tag */
	expect_passed(in, len, XPXE_CNT_PASS_VLAN_PRIORITY, 0, 0);
	/* A configured VLAN's frame xpxe does not answer: up as it came, tags and all. */
	len = tagged(in, OVMF_PROXY, 3, 0, 0, 4 << 13 | 10); /* a DHCPREQUEST to port 67 */
	expect_passed(in, len, XPXE_CNT_PASS_DHCP_IGNORED, XPXE_CNT_VLAN_RX, XPXE_CNT_VLAN_PCP);
}

/* --- Router Solicitations on a VLAN (bpf/ndp.h) ------------------------------------- */

/* The one's complement sum of N bytes at P as big-endian words (N even). */
static uint32_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	return s;
}

/* Whether the ICMPv6 message of the IPv6 packet at IP6 (ICMP_LEN bytes) sums right. */
static bool icmp6_csum_ok(const uint8_t *ip6, size_t icmp_len)
{
	uint32_t s =
	    sum16(ip6 + 8, 32) + (uint32_t)icmp_len + IPPROTO_ICMPV6 + sum16(ip6 + 40, icmp_len);

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* iPXE's RS into IN with the tags put on (as tagged() does), its MAC known in proxy mode. */
static size_t tagged_rs(uint8_t *in, uint16_t outer_tpid, uint16_t outer, uint16_t inner,
			bool known)
{
	size_t len = tagged(in, IPXE_RS, 0, outer_tpid, outer, inner);
	size_t l2 = 14 + (inner ? 4 : 0) + (outer ? 4 : 0);
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client = { 0 };
	int fd = bpf_map__fd(skel->maps.dhcp_clients);

	assert_int_equal(in[l2 - 2] << 8 | in[l2 - 1], ETH_P_IPV6);
	assert_int_equal(in[l2 + 40], 133);
	assert_true(icmp6_csum_ok(in + l2, 16));
	memcpy(key.addr, in + 6, 6);
	if (known)
		assert_int_equal(bpf_map_update_elem(fd, &key, &client, BPF_ANY), 0);
	else
		bpf_map_delete_elem(fd, &key);
	return len;
}

/*
 * The RA OUT (OUT_LEN bytes) to the RS IN of NTAGS tags: those tags byte for byte (TPIDs,
 * VIDs, priority bits), the trunk's MAC and link-local address (the VLAN's entry names
 * them), no prefix (the untagged network's DHCPv6 is not the VLAN's), checksum right.
 */
static void check_tagged_ra(const uint8_t *in, int ntags, const uint8_t *out, size_t out_len)
{
	size_t l2 = 14 + 4 * (size_t)ntags;
	const uint8_t *ip6 = out + l2, *icmp = ip6 + 40;
	struct in6_addr ll;

	inet_pton(AF_INET6, SERVER_LL, &ll);
	assert_int_equal(out_len, l2 + 40 + 24);
	assert_memory_equal(out, in + 6, 6); /* to the solicitor's MAC */
	assert_memory_equal(out + 6, frame_server_mac, 6);
	assert_memory_equal(out + 12, in + 12, 4 * (size_t)ntags); /* the tags, as they came */
	assert_int_equal(out[l2 - 2] << 8 | out[l2 - 1], ETH_P_IPV6);
	assert_int_equal(ip6[0], 0x60);
	assert_int_equal(ip6[4] << 8 | ip6[5], 24);
	assert_int_equal(ip6[6], IPPROTO_ICMPV6);
	assert_int_equal(ip6[7], 255);
	assert_memory_equal(ip6 + 8, &ll, 16);		/* from our link-local address */
	assert_memory_equal(ip6 + 24, in + l2 + 8, 16); /* to the solicitor's */
	assert_int_equal(icmp[0], 134);
	assert_int_equal(icmp[1], 0);
	assert_true(icmp6_csum_ok(ip6, 24));
	assert_int_equal(icmp[5], 0);  /* no M/O: no DHCPv6 on a VLAN */
	assert_int_equal(icmp[16], 1); /* one option, the SLLA: ours */
	assert_memory_equal(icmp + 18, frame_server_mac, 6);
}

/* An RS on VLAN 10 with priority 6: the RA goes back with the tag, PCP kept. */
static void test_rs_on_vlan(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 64];
	size_t len;
	__u32 out_len;

	(void)state;
	configure_ra(XPXE_MODE_PROXY, XPXE_RA_ON);
	len = tagged_rs(in, 0, 0, 6 << 13 | 10, true);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_NDP_RA_SENT, XPXE_CNT_VLAN_RX, XPXE_CNT_VLAN_PCP, 0),
			 XDP_TX);
	check_tagged_ra(in, 1, out, out_len);
}

/* An RS on 100.20 (both tags with priority bits): the RA carries both, as they came. */
static void test_rs_on_qinq(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 64];
	size_t len;
	__u32 out_len;

	(void)state;
	configure_ra(XPXE_MODE_PROXY, XPXE_RA_ON);
	len = tagged_rs(in, ETH_P_8021AD, 2 << 13 | 100, 5 << 13 | 20, true);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_NDP_RA_SENT, XPXE_CNT_VLAN_RX, XPXE_CNT_VLAN_PCP, 0),
			 XDP_TX);
	check_tagged_ra(in, 2, out, out_len);
	assert_int_equal(out[12] << 8 | out[13], ETH_P_8021AD);
}

/*
 * The RS's that are not answered: on VLAN 11 (not configured), untouched before any parsing
 * (pass_vlan); on VLAN 10 from an unknown MAC, or with RAs off, the same outcomes as
 * untagged, the frame up as it came, tag and all.
 */
static void test_rs_on_vlan_passed(void **state)
{
	uint8_t in[FRAME_MAX];
	size_t len;

	(void)state;
	configure_ra(XPXE_MODE_PROXY, XPXE_RA_ON);
	len = tagged_rs(in, 0, 0, 3 << 13 | 11, true);
	expect_passed(in, len, XPXE_CNT_PASS_VLAN, 0, 0);
	len = tagged_rs(in, 0, 0, 10, false);
	expect_passed(in, len, XPXE_CNT_PASS_NDP_RS_IGNORED, XPXE_CNT_VLAN_RX, 0);
	configure_ra(XPXE_MODE_PROXY, XPXE_RA_OFF);
	len = tagged_rs(in, 0, 0, 10, true);
	expect_passed(in, len, XPXE_CNT_PASS_NDP_RS_IGNORED, XPXE_CNT_VLAN_RX, 0);
	/* Its checksum broken: invalid, as untagged. */
	configure_ra(XPXE_MODE_PROXY, XPXE_RA_ON);
	len = tagged_rs(in, 0, 0, 10, true);
	in[18 + 40 + 3] ^= 1;
	expect_passed(in, len, XPXE_CNT_PASS_NDP_RS_INVALID, XPXE_CNT_VLAN_RX, 0);
}

/*
 * Full mode: an RS on VLAN 10 is answered for a machine bound on VLAN 10 (network 1), not for
 * one bound on the untagged network (its DHCP there goes to the daemon as a first contact).
 */
static void test_rs_on_vlan_of_its_binding(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 64];
	struct xpxe_dhcp_client client = { .ip = htonl(0xc6120a32) };
	struct xpxe_mac_key key = { 0 };
	int fd = bpf_map__fd(skel->maps.dhcp_clients);
	__u32 out_len;
	size_t len;

	(void)state;
	configure_ra(XPXE_MODE_FULL, XPXE_RA_ON);
	len = tagged_rs(in, 0, 0, 10, true);
	memcpy(key.addr, in + 6, 6);
	client.net = 0;
	assert_int_equal(bpf_map_update_elem(fd, &key, &client, BPF_ANY), 0);
	expect_passed(in, len, XPXE_CNT_PASS_NDP_RS_IGNORED, XPXE_CNT_VLAN_RX, 0);
	client.net = 1;
	assert_int_equal(bpf_map_update_elem(fd, &key, &client, BPF_ANY), 0);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_NDP_RA_SENT, XPXE_CNT_VLAN_RX, 0),
			 XDP_TX);
	check_tagged_ra(in, 1, out, out_len);
	bpf_map_delete_elem(fd, &key);
}

/*
 * tc on the trunk's ingress: a VLAN's frame for the VLAN's address loses its tag (the kernel
 * takes it); one for another address keeps it and passes.
 */
static void test_tc_pops_for_vlan_address(void **state)
{
	static const char rrq[] = "\0\1undionly.kpxe\0octet";
	uint8_t in[FRAME_MAX], out[FRAME_MAX], plain[FRAME_MAX];
	struct in_addr client, vlan_ip, other;
	size_t len, plain_len;
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_PROXY);
	inet_pton(AF_INET, "198.18.10.77", &client);
	inet_pton(AF_INET, VLAN10_IP, &vlan_ip);
	inet_pton(AF_INET, "198.18.10.2", &other);
	plain_len = frame_udp(plain, client.s_addr, vlan_ip.s_addr, 40000, 69, rrq, sizeof(rrq));
	memcpy(in, plain, plain_len);
	len = plain_len;
	push_tag(in, &len, ETH_P_8021Q, 10);
	assert_int_equal(run(skel->progs.tc_tftp, false, in, len, out, &out_len,
			     XPXE_CNT_TFTP_TC_PASS, XPXE_CNT_VLAN_TC_POPPED, 0),
			 TC_ACT_OK);
	assert_int_equal(out_len, plain_len);
	assert_memory_equal(out, plain, plain_len);

	plain_len = frame_udp(plain, client.s_addr, other.s_addr, 40000, 69, rrq, sizeof(rrq));
	memcpy(in, plain, plain_len);
	len = plain_len;
	push_tag(in, &len, ETH_P_8021Q, 10);
	assert_int_equal(
	    run(skel->progs.tc_tftp, false, in, len, out, &out_len, XPXE_CNT_TFTP_TC_PASS, 0),
	    TC_ACT_OK);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
}

/* A TFTP WRQ on VLAN 10 (priority 2): refused by XDP_TX with the tag kept, checksums right. */
static void test_tftp_wrq_refused_on_vlan(void **state)
{
	static const char wrq[] = "\0\2upload.bin\0octet";
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	struct in_addr client, vlan_ip;
	const frame_iphdr *iph = (const void *)(out + 18);
	const struct udphdr *udph = (const void *)(iph + 1);
	size_t len, udp_len;
	__u32 out_len;
	uint32_t sum;

	(void)state;
	configure(XPXE_MODE_PROXY);
	inet_pton(AF_INET, "198.18.10.77", &client);
	inet_pton(AF_INET, VLAN10_IP, &vlan_ip);
	len = frame_udp(in, client.s_addr, vlan_ip.s_addr, 40000, 69, wrq, sizeof(wrq));
	push_tag(in, &len, ETH_P_8021Q, 2 << 13 | 10);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_TFTP_WRQ_REFUSED, XPXE_CNT_VLAN_RX, XPXE_CNT_VLAN_PCP, 0),
			 XDP_TX);
	assert_memory_equal(out, frame_client_mac, 6);
	assert_memory_equal(out + 12, in + 12, 4); /* the tag, priority included */
	assert_int_equal(out[16] << 8 | out[17], ETH_P_IP);
	assert_int_equal(iph->saddr, vlan_ip.s_addr);
	assert_int_equal(iph->daddr, client.s_addr);
	assert_int_equal(frame_csum_fold(frame_csum_add(0, iph, 20)), 0);
	udp_len = ntohs(udph->len);
	assert_int_equal(udp_len, out_len - 18 - 20);
	sum = frame_csum_add(0, &iph->saddr, 8) + IPPROTO_UDP + udp_len;
	assert_int_equal(frame_csum_fold(frame_csum_add(sum, udph, udp_len)), 0);
	assert_int_equal(ntohs(udph->dest), 40000);
	assert_int_equal(((const uint8_t *)(udph + 1))[1], 5); /* ERROR */
}

/*
 * tc on the trunk's egress: what leaves from a VLAN's address (IPv4, ARP) is tagged; the rest
 * is not touched. (A test run keeps the pushed tag out of the frame, as the stack does until
 * the driver: the count says it was put on.)
 */
static void test_tc_egress_tags_vlan_address(void **state)
{
	static const char data[] = "\0\3\0\1x";
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	struct in_addr client, vlan_ip, untagged;
	size_t len;
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_PROXY);
	inet_pton(AF_INET, "198.18.10.77", &client);
	inet_pton(AF_INET, VLAN10_IP, &vlan_ip);
	inet_pton(AF_INET, SERVER_IP, &untagged);
	len = frame_udp(in, vlan_ip.s_addr, client.s_addr, 50000, 40000, data, sizeof(data));
	assert_int_equal(
	    run(skel->progs.tc_vlan_out, false, in, len, out, &out_len, XPXE_CNT_VLAN_TC_PUSHED, 0),
	    TC_ACT_OK);
	/* An ARP reply from the VLAN's address. */
	len = frame_eth(in, ETH_P_ARP);
	memcpy(in + len, "\0\1\10\0\6\4\0\2", 8);
	memcpy(in + len + 8, frame_server_mac, 6);
	memcpy(in + len + 14, &vlan_ip.s_addr, 4);
	memcpy(in + len + 18, frame_client_mac, 6);
	memcpy(in + len + 24, &client.s_addr, 4);
	len += 28 + 18;
	assert_int_equal(
	    run(skel->progs.tc_vlan_out, false, in, len, out, &out_len, XPXE_CNT_VLAN_TC_PUSHED, 0),
	    TC_ACT_OK);
	/* From the untagged network's address: untouched, nothing counted. */
	len = frame_udp(in, untagged.s_addr, client.s_addr, 50000, 40000, data, sizeof(data));
	{
		int fd = bpf_map__fd(skel->maps.counters);
		__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX];
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len,
			    .data_out = out, .data_size_out = FRAME_MAX, .repeat = 1);

		assert_int_equal(xpxe_counters_read(fd, before), 0);
		assert_int_equal(
		    bpf_prog_test_run_opts(bpf_program__fd(skel->progs.tc_vlan_out), &opts), 0);
		assert_int_equal(opts.retval, TC_ACT_OK);
		assert_int_equal(xpxe_counters_read(fd, after), 0);
		assert_memory_equal(before, after, sizeof(before));
		assert_int_equal(opts.data_size_out, len);
		assert_memory_equal(out, in, len);
	}
}

/*
 * Full mode: a new machine's request with priority bits (PCP, DEI) on its tags is queued with
 * them, and the daemon's re-run puts them back on, byte for byte as the request came: its
 * reply keeps them as XDP's own do (one 802.1Q tag; an 802.1ad outer tag over an inner one).
 */
static void test_queued_keeps_priority(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX], again[FRAME_MAX];
	struct xpxe_vlan_cfg v10, v20;
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client = { 0 };
	const char *why;
	size_t len;
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_FULL);
	assert_int_equal(xpxe_vlan_parse("10=" VLAN10_IP "/24", &v10, &why), 0);
	assert_int_equal(xpxe_vlan_parse("100.20=" QINQ_IP "/24", &v20, &why), 0);
	for (int two = 0; two < 2; two++) {
		len = two ? tagged(in, OVMF_FULL, 0, ETH_P_8021AD, 3 << 13 | 1 << 12 | 100,
				   5 << 13 | 20)
			  : tagged(in, OVMF_FULL, 0, 0, 0, 6 << 13 | 1 << 12 | 10);
		ring_buffer__consume(queue);
		n_queued = 0;
		assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
				     XPXE_CNT_DHCP_TO_DAEMON, XPXE_CNT_VLAN_RX, XPXE_CNT_VLAN_PCP,
				     0),
				 XDP_DROP);
		ring_buffer__consume(queue);
		assert_int_equal(n_queued, 1);
		assert_int_equal(last_queued.net, two ? 2 : 1);
		assert_memory_equal(&last_queued.tci[0], in + 14, 2);
		if (two)
			assert_memory_equal(&last_queued.tci[1], in + 18, 2);
		/* Its VLAN by its tags under a reload's renumbered list (100.20 first, then 10),
		 * none once its VLAN is gone, whatever its net was at queueing. */
		{
			const struct xpxe_vlan_cfg swapped[2] = { v20, v10 };

			assert_int_equal(xpxe_dhcp_queued_net(swapped, 2, &last_queued),
					 two ? 1 : 2);
			assert_int_equal(xpxe_dhcp_queued_net(two ? &v10 : &v20, 1, &last_queued),
					 0);
		}
		/* The re-run's frame: the request as it came, priority bits and all. */
		assert_int_equal(xpxe_dhcp_queued_tagged(two ? &v20 : &v10, &last_queued, again),
				 len);
		assert_memory_equal(again, in, len);
		/* Bound meanwhile (as the daemon binds it): the re-run's OFFER keeps them. */
		memcpy(key.addr, in + 14 + 4 * (two + 1) + 28 + 28, 6);
		client.ip = htonl(two ? 0xc6121432 : 0xc6120a32); /* 198.18.20.50, 198.18.10.50 */
		client.net = two ? 2 : 1;
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_clients), &key,
						     &client, BPF_ANY),
				 0);
		assert_int_equal(run(skel->progs.xdp_pxe, true, again, len, out, &out_len,
				     XPXE_CNT_DHCP_OFFER, XPXE_CNT_VLAN_RX, XPXE_CNT_VLAN_PCP, 0),
				 XDP_TX);
		check_tagged_reply(in, two + 1, out, out_len, two ? QINQ_IP : VLAN10_IP, 2);
		bpf_map_delete_elem(bpf_map__fd(skel->maps.dhcp_clients), &key);
	}
}

/*
 * tc: a request on VLAN 100.20 that goes up to the stack (a TFTP RRQ) with priority bits
 * leaves them for what the kernel sends back to its sender (tc_vlan_out); another sender's
 * replies get none. (A test run keeps the outer tag out of the frame, where the stack keeps
 * it until the driver; the inner one goes into the frame, its bits there to check.)
 */
static void test_tc_replies_keep_priority(void **state)
{
	static const char rrq[] = "\0\1undionly.kpxe\0octet", data[] = "\0\3\0\1x";
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	struct in_addr client, other, vlan_ip;
	size_t len;
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_PROXY);
	inet_pton(AF_INET, "198.18.20.77", &client);
	inet_pton(AF_INET, "198.18.20.78", &other);
	inet_pton(AF_INET, QINQ_IP, &vlan_ip);
	len = frame_udp(in, client.s_addr, vlan_ip.s_addr, 40000, 69, rrq, sizeof(rrq));
	push_tag(in, &len, ETH_P_8021Q, 5 << 13 | 1 << 12 | 20);
	push_tag(in, &len, ETH_P_8021AD, 2 << 13 | 100);
	assert_int_equal(run(skel->progs.tc_tftp, false, in, len, out, &out_len,
			     XPXE_CNT_TFTP_TC_PASS, XPXE_CNT_VLAN_TC_POPPED, 0),
			 TC_ACT_OK);
	len = frame_udp(in, vlan_ip.s_addr, client.s_addr, 50000, 40000, data, sizeof(data));
	assert_int_equal(
	    run(skel->progs.tc_vlan_out, false, in, len, out, &out_len, XPXE_CNT_VLAN_TC_PUSHED, 0),
	    TC_ACT_OK);
	assert_int_equal(out_len, len + 4);
	assert_int_equal(out[12] << 8 | out[13], ETH_P_8021Q);
	assert_int_equal(out[14] << 8 | out[15], 5 << 13 | 1 << 12 | 20); /* its bits kept */
	assert_memory_equal(out + 16, in + 12, len - 12);
	len = frame_udp(in, vlan_ip.s_addr, other.s_addr, 50000, 40000, data, sizeof(data));
	assert_int_equal(
	    run(skel->progs.tc_vlan_out, false, in, len, out, &out_len, XPXE_CNT_VLAN_TC_PUSHED, 0),
	    TC_ACT_OK);
	assert_int_equal(out[14] << 8 | out[15], 20); /* a sender that gave none: none */
	/* The same sender again without bits: its replies go back without them too. */
	len = frame_udp(in, client.s_addr, vlan_ip.s_addr, 40000, 69, rrq, sizeof(rrq));
	push_tag(in, &len, ETH_P_8021Q, 20);
	push_tag(in, &len, ETH_P_8021AD, 100);
	assert_int_equal(run(skel->progs.tc_tftp, false, in, len, out, &out_len,
			     XPXE_CNT_TFTP_TC_PASS, XPXE_CNT_VLAN_TC_POPPED, 0),
			 TC_ACT_OK);
	len = frame_udp(in, vlan_ip.s_addr, client.s_addr, 50000, 40000, data, sizeof(data));
	assert_int_equal(
	    run(skel->progs.tc_vlan_out, false, in, len, out, &out_len, XPXE_CNT_VLAN_TC_PUSHED, 0),
	    TC_ACT_OK);
	assert_int_equal(out[14] << 8 | out[15], 20);
}

/*
 * A reload that renumbers the VLANs (one removed before another, one added: 100.20 goes from
 * net 2 to net 1, VLAN 100.30 takes net 2) leaves vlan_prios as it is. A peer's bits, noted on
 * 100.20 before it, stay 100.20's: its replies there keep them, and the same address on the
 * VLAN that took 100.20's old number gets none. (Keyed by net, both went wrong.)
 */
static void test_tc_priority_survives_renumbering(void **state)
{
	static const char rrq[] = "\0\1undionly.kpxe\0octet", data[] = "\0\3\0\1x";
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_vlan_cfg v20, v30;
	struct in_addr peer, qinq_ip, v30_ip;
	const char *why;
	size_t len;
	__u32 out_len;

	(void)state;
	configure(XPXE_MODE_PROXY);
	inet_pton(AF_INET, "198.18.20.79", &peer);
	inet_pton(AF_INET, QINQ_IP, &qinq_ip);
	inet_pton(AF_INET, "198.18.30.1", &v30_ip);
	len = frame_udp(in, peer.s_addr, qinq_ip.s_addr, 40000, 69, rrq, sizeof(rrq));
	push_tag(in, &len, ETH_P_8021Q, 5 << 13 | 1 << 12 | 20);
	push_tag(in, &len, ETH_P_8021AD, 2 << 13 | 100);
	assert_int_equal(run(skel->progs.tc_tftp, false, in, len, out, &out_len,
			     XPXE_CNT_TFTP_TC_PASS, XPXE_CNT_VLAN_TC_POPPED, 0),
			 TC_ACT_OK);

	/* The reload, as install_vlans makes it: VLAN 10 gone, 100.20 now net 1, 100.30 net 2. */
	xpxe_dhcp_settings_default(&s);
	s.mode = XPXE_MODE_PROXY;
	inet_pton(AF_INET, SERVER_IP, &s.server_ip);
	snprintf(s.http_base, sizeof(s.http_base), "http://%s:8080", SERVER_IP);
	net.mode = XPXE_MODE_PROXY;
	memcpy(net.server_mac, frame_server_mac, 6);
	net.server_ip = s.server_ip;
	net.lease_time = 3600;
	assert_int_equal(xpxe_vlan_parse("100.20=" QINQ_IP "/24", &v20, &why), 0);
	assert_int_equal(xpxe_vlan_parse("100.30=198.18.30.1/24", &v30, &why), 0);
	xpxe_vlan_clear_maps(skel, 2);
	assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &v20, 1), 0);
	assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &v30, 2), 0);

	/* 100.20's reply to the peer: its bits, on the inner tag (the outer is out of band). */
	len = frame_udp(in, qinq_ip.s_addr, peer.s_addr, 50000, 40000, data, sizeof(data));
	assert_int_equal(
	    run(skel->progs.tc_vlan_out, false, in, len, out, &out_len, XPXE_CNT_VLAN_TC_PUSHED, 0),
	    TC_ACT_OK);
	assert_int_equal(out_len, len + 4);
	assert_int_equal(out[14] << 8 | out[15], 5 << 13 | 1 << 12 | 20);
	/* 100.30's frame to the same address: its inner tag, no bits. */
	len = frame_udp(in, v30_ip.s_addr, peer.s_addr, 50000, 40000, data, sizeof(data));
	assert_int_equal(
	    run(skel->progs.tc_vlan_out, false, in, len, out, &out_len, XPXE_CNT_VLAN_TC_PUSHED, 0),
	    TC_ACT_OK);
	assert_int_equal(out_len, len + 4);
	assert_int_equal(out[12] << 8 | out[13], ETH_P_8021Q);
	assert_int_equal(out[14] << 8 | out[15], 30);
}

/*
 * A reload as install_vlans makes it: every VLAN out (xpxe_vlan_clear_maps; the template sets
 * of nets past N too), then SPECS (N --vlan entries) in as nets 1..N, proxy mode, unknown
 * machines answered.
 */
static void reload_vlans(const char *const *specs, int n)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_vlan_cfg v;
	const char *why;

	xpxe_dhcp_settings_default(&s);
	s.mode = XPXE_MODE_PROXY;
	s.answer_unknown = true;
	inet_pton(AF_INET, SERVER_IP, &s.server_ip);
	snprintf(s.http_base, sizeof(s.http_base), "http://%s:8080", SERVER_IP);
	xpxe_dhcp_profile_defaults(&s.profile, s.boot_file_set, s.http_base);
	net.mode = XPXE_MODE_PROXY;
	memcpy(net.server_mac, frame_server_mac, 6);
	net.server_ip = s.server_ip;
	inet_pton(AF_INET, "255.255.255.0", &net.netmask);
	net.lease_time = 3600;
	xpxe_vlan_clear_maps(skel, (__u32)n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(xpxe_vlan_parse(specs[i], &v, &why), 0);
		assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &v, (__u32)i + 1), 0);
	}
}

/* A boot server REQUEST on OUTER.VID (an 802.1ad outer tag): answered from SERVER, both tags. */
static void expect_qinq_answered(uint16_t outer, uint16_t vid, const char *server)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	size_t len = tagged(in, OVMF_PROXY, 5, ETH_P_8021AD, outer, vid);
	__u32 out_len;

	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_DHCP_ACK_4011, XPXE_CNT_VLAN_RX, 0),
			 XDP_TX);
	check_tagged_reply(in, 2, out, out_len, server, 5);
}

/* The same request on OUTER.VID: passed untouched, counted pass_vlan_qinq. */
static void expect_qinq_passed(uint16_t outer, uint16_t vid)
{
	uint8_t in[FRAME_MAX];
	size_t len = tagged(in, OVMF_PROXY, 5, ETH_P_8021AD, outer, vid);

	expect_passed(in, len, XPXE_CNT_PASS_VLAN_QINQ, 0, 0);
}

/* Whether vlan_templates has a set in slot NET. */
static bool template_set(__u32 net)
{
	__u32 id;

	return !bpf_map_lookup_elem(bpf_map__fd(skel->maps.vlan_templates), &net, &id);
}

/* VLAN VID's entry in vlan_qinq's array of outer VID OUTER (zeroed when none); false: no array. */
static bool qinq_entry(__u32 outer, __u32 vid, struct xpxe_vlan *v)
{
	__u32 id;
	int fd;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.vlan_qinq), &outer, &id))
		return false;
	fd = bpf_map_get_fd_by_id(id);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &vid, v), 0);
	close(fd);
	return true;
}

/*
 * Several double-tagged VLANs under one outer VID, through reloads that add, renumber and
 * remove them: each answered from its own address (its own template set, not the set its net
 * had before), a removed one passed, its template set and its entry in the outer VID's array
 * gone, and the outer VID's array gone with its last VLAN.
 */
static void test_qinq_inner_vids_reload(void **state)
{
	static const char *const three[] = { "100.30=198.18.30.1/24", "100.20=" QINQ_IP "/24",
					     "100.40=198.18.40.1/24" };
	static const char *const one[] = { "100.20=" QINQ_IP "/24" };
	uint8_t in[FRAME_MAX];
	struct xpxe_vlan v;
	size_t len;

	(void)state;
	configure(XPXE_MODE_PROXY); /* 10 (net 1), 100.20 (net 2) */
	expect_qinq_answered(100, 20, QINQ_IP);
	/* VLAN 10 out, 100.30 in as net 1 (VLAN 10's number), 100.20 stays net 2, 100.40 net 3. */
	reload_vlans(three, 3);
	expect_qinq_answered(100, 30, "198.18.30.1");
	expect_qinq_answered(100, 20, QINQ_IP);
	expect_qinq_answered(100, 40, "198.18.40.1");
	len = tagged(in, OVMF_PROXY, 5, 0, 0, 10);
	expect_passed(in, len, XPXE_CNT_PASS_VLAN, 0, 0);
	assert_true(template_set(1) && template_set(2) && template_set(3));
	assert_false(template_set(4));
	assert_true(qinq_entry(100, 40, &v));
	assert_int_equal(v.net, 3);
	/* 100.30 and 100.40 out, 100.20 now net 1. */
	reload_vlans(one, 1);
	expect_qinq_answered(100, 20, QINQ_IP);
	expect_qinq_passed(100, 30);
	expect_qinq_passed(100, 40);
	assert_true(template_set(1));
	assert_false(template_set(2));
	assert_false(template_set(3));
	assert_true(qinq_entry(100, 30, &v));
	assert_int_equal(v.net, 0);
	assert_true(qinq_entry(100, 20, &v));
	assert_int_equal(v.net, 1);
	/* No VLAN left: nothing of outer VID 100. */
	reload_vlans(NULL, 0);
	expect_qinq_passed(100, 20);
	assert_false(template_set(1));
	assert_false(qinq_entry(100, 20, &v));
}

/*
 * VIDs at the ends of the 12 bits: 0 (a priority tag) and 4095 (reserved) are no VLAN, in
 * either tag, and their frames pass, each counted, in XDP and in tc; 4094.4094, the last
 * slot of both arrays, is a VLAN like any other; a VID out of range is refused before any
 * map is written.
 */
static void test_edge_vids(void **state)
{
	static const char rrq[] = "\0\1undionly.kpxe\0octet";
	static const char *const edge[] = { "10=" VLAN10_IP "/24", "100.20=" QINQ_IP "/24",
					    "4094.4094=198.18.94.1/24" };
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_vlan_cfg bad = { 0 };
	struct in_addr client, qinq_ip;
	size_t len;
	__u32 out_len;

	(void)state;
	reload_vlans(edge, 3);
	expect_qinq_answered(4094, 4094, "198.18.94.1");
	len = tagged(in, OVMF_PROXY, 5, 0, 0, 4095); /* one tag, VID 4095 */
	expect_passed(in, len, XPXE_CNT_PASS_VLAN, 0, 0);
	expect_qinq_passed(4095, 20);
	expect_qinq_passed(4095, 4095);
	expect_qinq_passed(100, 4095);
	expect_qinq_passed(100, 3 << 13); /* inner VID 0: a priority tag inside 100 */
	expect_qinq_passed(5 << 13, 20);  /* outer VID 0 */
	/* tc: the same tags on a TFTP request to 100.20's address are left on, the frame passed. */
	inet_pton(AF_INET, "198.18.20.77", &client);
	inet_pton(AF_INET, QINQ_IP, &qinq_ip);
	const uint16_t tags[][2] = { { 4095, 20 }, { 100, 4095 }, { 100, 0 }, { 0, 20 } };
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		len = frame_udp(in, client.s_addr, qinq_ip.s_addr, 40000, 69, rrq, sizeof(rrq));
		push_tag(in, &len, ETH_P_8021Q, tags[i][1]);
		push_tag(in, &len, ETH_P_8021AD, tags[i][0]);
		assert_int_equal(run(skel->progs.tc_tftp, false, in, len, out, &out_len,
				     XPXE_CNT_TFTP_TC_PASS, 0),
				 TC_ACT_OK);
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
	}
	len = frame_udp(in, client.s_addr, qinq_ip.s_addr, 40000, 69, rrq, sizeof(rrq));
	push_tag(in, &len, ETH_P_8021Q, 4095);
	assert_int_equal(
	    run(skel->progs.tc_tftp, false, in, len, out, &out_len, XPXE_CNT_TFTP_TC_PASS, 0),
	    TC_ACT_OK);
	assert_int_equal(out_len, len);
	/* Out of range, past the parser: refused, and net 4 got no template set. */
	xpxe_dhcp_settings_default(&s);
	memcpy(net.server_mac, frame_server_mac, 6);
	inet_pton(AF_INET, "198.18.95.1", &bad.server_ip);
	bad.prefix = 24;
	for (unsigned int i = 0; i < 4; i++) {
		bad.vid = i == 0 ? 0 : i == 1 ? 4095 : 20;
		bad.outer_vid = i == 2 ? 4095 : 0;
		assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &bad, i == 3 ? 65 : 4),
				 -EINVAL);
	}
	assert_false(template_set(4));
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.vlan_by_addr), &bad.server_ip,
					     &(struct xpxe_vlan){ 0 }),
			 -ENOENT);
}

/*
 * A reload that turns DHCP off (or drops a VLAN) leaves nothing in the VLAN's dhcp_config
 * slot: the VLAN's requests are passed (pass_dhcp), not answered with the settings of before.
 */
static void test_dhcp_off_zeroes_vlan_config(void **state)
{
	const struct xpxe_dhcp_config none = { 0 };
	struct xpxe_dhcp_config cfg;
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_vlan_cfg v10;
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	size_t len = tagged(in, OVMF_PROXY, 5, 0, 0, 10);
	int fd = bpf_map__fd(skel->maps.dhcp_config);
	const char *why;
	__u32 out_len, one = 1, two = 2;

	(void)state;
	configure(XPXE_MODE_PROXY);
	assert_int_equal(bpf_map_lookup_elem(fd, &one, &cfg), 0);
	assert_int_equal(cfg.enabled, 1);
	assert_int_equal(run(skel->progs.xdp_pxe, true, in, len, out, &out_len,
			     XPXE_CNT_DHCP_ACK_4011, XPXE_CNT_VLAN_RX, 0),
			 XDP_TX);
	/* The reload: the same VLAN, DHCP off. */
	xpxe_dhcp_settings_default(&s);
	s.enabled = false;
	memcpy(net.server_mac, frame_server_mac, 6);
	assert_int_equal(xpxe_vlan_parse("10=" VLAN10_IP "/24", &v10, &why), 0);
	assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &v10, 1), 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &one, &cfg), 0);
	assert_memory_equal(&cfg, &none, sizeof(cfg));
	expect_passed(in, len, XPXE_CNT_PASS_DHCP, XPXE_CNT_VLAN_RX, 0);
	/* A VLAN the reload dropped (net 2, 100.20): its slot zeroed too. */
	assert_int_equal(bpf_map_lookup_elem(fd, &two, &cfg), 0);
	assert_int_equal(cfg.enabled, 1);
	xpxe_vlan_clear_configs(skel);
	assert_int_equal(bpf_map_lookup_elem(fd, &two, &cfg), 0);
	assert_memory_equal(&cfg, &none, sizeof(cfg));
}

/* The parser of --vlan and vlans: entries. */
static void test_parse(void **state)
{
	struct xpxe_vlan_cfg v;
	const char *why;
	char name[16];

	(void)state;
	assert_int_equal(xpxe_vlan_parse("10=198.18.10.1/24", &v, &why), 0);
	assert_int_equal(v.vid, 10);
	assert_int_equal(v.outer_vid, 0);
	assert_int_equal(v.prefix, 24);
	assert_int_equal(xpxe_vlan_parse("100.4094=198.18.20.1/16", &v, &why), 0);
	assert_int_equal(v.outer_vid, 100);
	assert_int_equal(v.vid, 4094);
	xpxe_vlan_name(&v, name, sizeof(name));
	assert_string_equal(name, "100.4094");
	assert_int_equal(xpxe_vlan_parse("0=198.18.10.1/24", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("4095=198.18.10.1/24", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("4095.10=198.18.10.1/24", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("0.10=198.18.10.1/24", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("100.0=198.18.10.1/24", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("100.4095=198.18.10.1/24", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("10=198.18.10.1", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("10=198.18.10/24", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("10=198.18.10.1/31", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("x10=198.18.10.1/24", &v, &why), -EINVAL);
	assert_int_equal(xpxe_vlan_parse("10", &v, &why), -EINVAL);
	{
		char base[64];
		struct in_addr a;

		inet_pton(AF_INET, "198.18.10.1", &a);
		xpxe_vlan_http_base("http://198.18.0.1:8080", a, base, sizeof(base));
		assert_string_equal(base, "http://198.18.10.1:8080");
		xpxe_vlan_http_base("http://boot.example/x", a, base, sizeof(base));
		assert_string_equal(base, "http://198.18.10.1/x");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_4011_on_vlan),
		cmocka_unit_test(test_proxy_discover_on_vlan),
		cmocka_unit_test(test_qinq_configured),
		cmocka_unit_test(test_full_known_on_vlan),
		cmocka_unit_test(test_full_bound_elsewhere_queued),
		cmocka_unit_test(test_full_new_queued_with_vlan),
		cmocka_unit_test(test_passed_untouched),
		cmocka_unit_test(test_rs_on_vlan),
		cmocka_unit_test(test_rs_on_qinq),
		cmocka_unit_test(test_rs_on_vlan_passed),
		cmocka_unit_test(test_rs_on_vlan_of_its_binding),
		cmocka_unit_test(test_tc_pops_for_vlan_address),
		cmocka_unit_test(test_tftp_wrq_refused_on_vlan),
		cmocka_unit_test(test_tc_egress_tags_vlan_address),
		cmocka_unit_test(test_dhcp_off_zeroes_vlan_config),
		cmocka_unit_test(test_queued_keeps_priority),
		cmocka_unit_test(test_tc_replies_keep_priority),
		cmocka_unit_test(test_tc_priority_survives_renumbering),
		cmocka_unit_test(test_qinq_inner_vids_reload),
		cmocka_unit_test(test_edge_vids),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
