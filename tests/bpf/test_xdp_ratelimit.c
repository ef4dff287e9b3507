// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pxe's limits on DHCP requests, run by the kernel (bpf_prog_test_run_opts)
 * on a real firmware DISCOVER: the per-MAC bucket and the per-CPU bucket for
 * MACs not yet known. Time is driven through dhcp_config's clock_ns, so the
 * "N+1th frame in the window" and "the bucket refills" are exact, not timed.
 * The test pins itself to one CPU: the global bucket is per CPU.
 *
 * Proxy mode's DISCOVERs are answered by tc_tftp (bpf/dhcp_tc.h), which applies the same limits
 * after xdp_pxe passed them: over a limit, the frame goes up unanswered (TC_ACT_OK).
 *
 * Also here: a binding only offered (XPXE_CLIENT_F_OFFERED) is OFFERed by XDP
 * but its REQUEST goes to the daemon, which binds before the ACK.
 */
#include <arpa/inet.h>
#include <sched.h>
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
#define OVMF_PROXY		XPXE_FIXTURES "/ovmf-pxe-proxy-4011-dhcp.pcap"
#define OVMF_FULL		XPXE_FIXTURES "/ovmf-pxe-full-tftp-dhcp.pcap"
#define SEABIOS			XPXE_FIXTURES "/seabios-ipxe-rom-full-dhcp.pcap"
#define IPXE_RS			XPXE_FIXTURES "/seabios-ipxe-rom-rs.pcap"
#define OVMF_PROXY_SITE_REQUEST 3  /* OVMF's REQUEST to the site's DHCP server */
#define OVMF_PROXY_4011_REQUEST 5  /* OVMF's boot server REQUEST, 4011 to 4011 */
#define OVMF_FULL_DISCOVER	0  /* full mode: the DISCOVER ... */
#define OVMF_FULL_REQUEST	2  /* ... the REQUEST for 198.18.0.125 ... */
#define OVMF_FULL_4011_REQUEST	19 /* ... and the boot server REQUEST (no option 54) */
#define SEABIOS_UDHCPC_DISCOVER 6  /* the booted kernel's plain DISCOVER */

#define MS     1000000ull
#define T0     (1000ull * 1000 * MS) /* any fixed "now" */
#define CHADDR 42 + 28		     /* the client MAC in the BOOTP header */

static struct xpxe_bpf *skel;
static struct ring_buffer *queue;
static int n_queued;
static int lo_sock = -1; /* tc_tftp's copies for the stack arrive on its loopback */

static int on_queued(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	n_queued++;
	return 0;
}

static int setup(void **state)
{
	cpu_set_t one;

	(void)state;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		fprintf(stderr, "# cannot pin the test to CPU 0: the global bucket is per CPU\n");
		return -1;
	}
	lo_sock = tc_test_netns();
	if (lo_sock < 0)
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

/* Fresh settings and empty buckets: MODE, the two limits (0: none), no known MACs. */
static void configure(enum xpxe_dhcp_mode mode, unsigned mac_rate, unsigned mac_burst,
		      unsigned global_rate, unsigned global_burst)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { .mode = mode, .lease_time = 3600 };
	int clients_fd = bpf_map__fd(skel->maps.dhcp_clients),
	    rate_fd = bpf_map__fd(skel->maps.dhcp_rate_mac);
	struct xpxe_mac_key key;
	struct xpxe_dhcp_rate_key rkey;
	__u32 zero = 0;
	__u64 tat[512] = { 0 }; /* per CPU */

	xpxe_dhcp_settings_default(&s);
	s.mode = mode;
	s.mac_rate = mac_rate;
	s.mac_burst = mac_burst;
	s.global_rate = global_rate;
	s.global_burst = global_burst;
	inet_pton(AF_INET, "198.18.0.1", &s.server_ip);
	snprintf(s.http_base, sizeof(s.http_base), "http://198.18.0.1:8080");
	net.server_ip = s.server_ip;
	memcpy(net.server_mac, frame_server_mac, 6);
	inet_pton(AF_INET, "255.255.255.0", &net.netmask);
	net.local_server = true; /* proxy DISCOVERs to tc, as these cases expect */
	assert_int_equal(xpxe_dhcp_load_maps(skel, &s, &net), 0);
	while (!bpf_map_get_next_key(clients_fd, NULL, &key))
		assert_int_equal(bpf_map_delete_elem(clients_fd, &key), 0);
	while (!bpf_map_get_next_key(rate_fd, NULL, &rkey))
		assert_int_equal(bpf_map_delete_elem(rate_fd, &rkey), 0);
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_rate_global), &zero, tat, BPF_ANY), 0);
}

/* Sets the program's "now" (dhcp_config.clock_ns). */
static void set_clock(__u64 now)
{
	struct xpxe_dhcp_config cfg;
	int fd = bpf_map__fd(skel->maps.dhcp_config);
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
	cfg.clock_ns = now;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
}

static void make_known(uint8_t last_byte, __u32 flags)
{
	struct xpxe_mac_key key = { .addr = { 0x52, 0x54, 0x00, 0xab, 0x00, last_byte } };
	struct xpxe_dhcp_client client = { .flags = flags };

	inet_pton(AF_INET, "198.18.0.125", &client.ip);
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_clients), &key, &client, BPF_ANY), 0);
}

/*
 * Frame FRAME of PCAP into IN, sent from the Ethernet source 52:54:00:ab:00:SRC for the
 * client (chaddr) 52:54:00:ab:00:CHADDR, relayed by GIADDR when it is not 0 (UDP checksum
 * 0: none, valid for IPv4). Returns its length.
 */
static int frame_as(uint8_t *in, size_t size, const char *pcap, int frame, uint8_t src,
		    uint8_t chaddr, const char *giaddr)
{
	const uint8_t src_mac[6] = { 0x52, 0x54, 0x00, 0xab, 0x00, src };
	const uint8_t client[6] = { 0x52, 0x54, 0x00, 0xab, 0x00, chaddr };
	int n = pcap_frame(pcap, frame, in, size);

	if (n < 0)
		fail_msg("cannot read frame %d of %s (run from the repository root)", frame, pcap);
	memcpy(in + CHADDR, client, 6);
	memcpy(in + 6, src_mac, 6);
	if (giaddr) {
		assert_int_equal(inet_pton(AF_INET, giaddr, in + CHADDR - 4), 1);
		in[CHADDR - 25] = 1; /* hops */
	}
	((struct udphdr *)(frame_iph(in) + 1))->check = 0;
	return n;
}

/*
 * Runs frame_as's frame through xdp_pxe and checks that exactly OUTCOME was counted
 * (besides rx_frames) and VERDICT returned.
 */
static void run_as(const char *pcap, int frame, uint8_t src, uint8_t chaddr, const char *giaddr,
		   int verdict, enum xpxe_counter outcome)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	int n = frame_as(in, sizeof(in), pcap, frame, src, chaddr, giaddr);

	assert_int_equal(xdp_run_counted(skel, in, n, out, sizeof(out), NULL, outcome), verdict);
	ring_buffer__consume(queue);
}

/*
 * A proxy-mode PXE DISCOVER (frame_as's frame): xdp_pxe passes it to tc_tftp, which applies
 * the limits, returns VERDICT and counts OUTCOME. Each with an xid of its own: tc_tftp takes
 * the same DISCOVER again within a moment for the stack's copy of the one it answered, not
 * for a request (dhcp_tc_copies), and a flood is of requests.
 */
static void run_as_tc(const char *pcap, int frame, uint8_t src, uint8_t chaddr, const char *giaddr,
		      int verdict, enum xpxe_counter outcome)
{
	static uint32_t xid = 0x7a000000;
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	int n = frame_as(in, sizeof(in), pcap, frame, src, chaddr, giaddr);

	xid++;
	memcpy(in + CHADDR - 24, &xid, 4);

	assert_int_equal(
	    xdp_run_counted(skel, in, n, out, sizeof(out), NULL, XPXE_CNT_DHCP_PROXY_TO_TC),
	    XDP_PASS);
	assert_int_equal(tc_run_counted(skel, in, n, out, sizeof(out), NULL, outcome), verdict);
}

/* A machine's own frame: its MAC is both the Ethernet source and chaddr. */
static void run(const char *pcap, int frame, uint8_t last_byte, int verdict,
		enum xpxe_counter outcome)
{
	run_as(pcap, frame, last_byte, last_byte, NULL, verdict, outcome);
}

/* iPXE's Router Solicitation from 52:54:00:ab:00:SRC (its checksum does not cover the MAC). */
static void solicit(uint8_t src, int verdict, enum xpxe_counter outcome)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0x00, src };
	int n = pcap_frame(IPXE_RS, 0, in, sizeof(in));

	if (n < 0)
		fail_msg("cannot read %s (run from the repository root)", IPXE_RS);
	memcpy(in + 6, mac, 6);
	assert_int_equal(xdp_run_counted(skel, in, n, out, sizeof(out), NULL, outcome), verdict);
}

static void offer(uint8_t mac)
{
	run_as_tc(OVMF_PROXY, 0, mac, mac, NULL, TC_ACT_REDIRECT, XPXE_CNT_DHCP_OFFER);
}

/* Over a limit: no OFFER; the frame still goes up, for a DHCP server on this host. */
static void dropped(uint8_t mac, enum xpxe_counter why)
{
	run_as_tc(OVMF_PROXY, 0, mac, mac, NULL, TC_ACT_OK, why);
}

/* 10/s, burst 3: the 4th DISCOVER at one instant is dropped; another MAC is not affected. */
static void test_mac_burst_then_drop(void **state)
{
	(void)state;
	configure(XPXE_MODE_PROXY, 10, 3, 0, 0);
	set_clock(T0);
	for (int i = 0; i < 3; i++)
		offer(1);
	dropped(1, XPXE_CNT_DROP_DHCP_RATE_MAC);
	dropped(1, XPXE_CNT_DROP_DHCP_RATE_MAC);
	offer(2);
	offer(2);
	offer(2);
	dropped(2, XPXE_CNT_DROP_DHCP_RATE_MAC);
}

/* One interval (100 ms at 10/s) refills one frame; a long pause refills the burst, no more. */
static void test_mac_bucket_refills(void **state)
{
	(void)state;
	configure(XPXE_MODE_PROXY, 10, 3, 0, 0);
	set_clock(T0);
	for (int i = 0; i < 3; i++)
		offer(1);
	dropped(1, XPXE_CNT_DROP_DHCP_RATE_MAC);
	set_clock(T0 + 99 * MS);
	dropped(1, XPXE_CNT_DROP_DHCP_RATE_MAC);
	set_clock(T0 + 100 * MS);
	offer(1);
	dropped(1, XPXE_CNT_DROP_DHCP_RATE_MAC);
	set_clock(T0 + 60000 * MS);
	for (int i = 0; i < 3; i++)
		offer(1);
	dropped(1, XPXE_CNT_DROP_DHCP_RATE_MAC);
}

/* The per-CPU bucket holds strangers only: a known MAC is answered when it is empty. */
static void test_global_strangers_only(void **state)
{
	(void)state;
	configure(XPXE_MODE_PROXY, 0, 0, 10, 2);
	make_known(9, 0);
	set_clock(T0);
	offer(1);
	offer(2);
	dropped(3, XPXE_CNT_DROP_DHCP_RATE_GLOBAL);
	dropped(1, XPXE_CNT_DROP_DHCP_RATE_GLOBAL);
	for (int i = 0; i < 5; i++)
		offer(9); /* known: no global limit, and no MAC limit configured */
	set_clock(T0 + 100 * MS);
	offer(3);
	dropped(4, XPXE_CNT_DROP_DHCP_RATE_GLOBAL);
}

/* A frame the MAC limit drops does not take a token from the global bucket. */
static void test_mac_limit_first(void **state)
{
	(void)state;
	configure(XPXE_MODE_PROXY, 10, 1, 10, 2);
	set_clock(T0);
	offer(1);
	for (int i = 0; i < 5; i++)
		dropped(1, XPXE_CNT_DROP_DHCP_RATE_MAC);
	offer(2);
	dropped(3, XPXE_CNT_DROP_DHCP_RATE_GLOBAL);
}

/*
 * Proxy mode: what is another server's to answer goes to the stack whatever the
 * limits, and takes no token: a REQUEST to the site's server from a MAC whose
 * bucket is empty, and plain DISCOVERs from more strangers than the global
 * bucket holds.
 */
static void test_not_ours_never_limited(void **state)
{
	(void)state;
	configure(XPXE_MODE_PROXY, 10, 1, 10, 2);
	set_clock(T0);
	offer(1);
	for (int i = 0; i < 5; i++)
		run(OVMF_PROXY, OVMF_PROXY_SITE_REQUEST, 1, XDP_PASS, XPXE_CNT_PASS_DHCP_IGNORED);
	for (int m = 20; m < 30; m++)
		run(SEABIOS, SEABIOS_UDHCPC_DISCOVER, (uint8_t)m, XDP_PASS,
		    XPXE_CNT_PASS_DHCP_NOT_PXE);
	dropped(1, XPXE_CNT_DROP_DHCP_RATE_MAC);
	offer(2);
	dropped(3, XPXE_CNT_DROP_DHCP_RATE_GLOBAL);
}

/* Rate 0: no limit at all. */
static void test_off(void **state)
{
	(void)state;
	configure(XPXE_MODE_PROXY, 0, 0, 0, 0);
	set_clock(T0);
	for (int i = 0; i < 200; i++)
		offer(1);
}

/*
 * The defaults never trip for real boots: 1000 machines powering on at the
 * same instant (each DISCOVER from a MAC not known yet), then each firmware
 * retrying its DISCOVER every second for a minute.
 */
static void test_defaults_carry_a_rack(void **state)
{
	(void)state;
	configure(XPXE_MODE_PROXY, XPXE_DHCP_MAC_RATE, XPXE_DHCP_MAC_BURST, XPXE_DHCP_GLOBAL_RATE,
		  XPXE_DHCP_GLOBAL_BURST);
	set_clock(T0);
	for (int m = 0; m < 250; m++) /* 250 MACs by the last byte, 4 frames each: 1000 */
		for (int i = 0; i < 4; i++)
			offer((uint8_t)m);
	for (int s = 1; s <= 60; s++) {
		set_clock(T0 + (__u64)s * 1000 * MS);
		offer(7);
	}
}

/*
 * Issue 19: a neighbour naming a victim's chaddr, from its own MAC, at far more than the
 * limit. It empties its own bucket, not the victim's: the victim's DISCOVER, REQUEST, boot
 * server REQUEST and Router Solicitation, all after the flood, are all answered. Keyed on
 * chaddr, the flood left the victim nothing until its bucket refilled.
 */
static void test_spoofed_chaddr_spares_the_victim(void **state)
{
	const uint8_t victim = 5, neighbour = 66;

	(void)state;
	configure(XPXE_MODE_FULL, 10, 4, 0, 0);
	make_known(victim, 0);
	set_clock(T0);
	for (int i = 0; i < 4; i++)
		run_as(OVMF_FULL, OVMF_FULL_DISCOVER, neighbour, victim, NULL, XDP_TX,
		       XPXE_CNT_DHCP_OFFER);
	for (int i = 0; i < 20; i++)
		run_as(OVMF_FULL, OVMF_FULL_DISCOVER, neighbour, victim, NULL, XDP_DROP,
		       XPXE_CNT_DROP_DHCP_RATE_MAC);
	run(OVMF_FULL, OVMF_FULL_DISCOVER, victim, XDP_TX, XPXE_CNT_DHCP_OFFER);
	run(OVMF_FULL, OVMF_FULL_REQUEST, victim, XDP_TX, XPXE_CNT_DHCP_ACK);
	run(OVMF_FULL, OVMF_FULL_4011_REQUEST, victim, XDP_TX, XPXE_CNT_DHCP_ACK_4011);
	solicit(victim, XDP_TX, XPXE_CNT_NDP_RA_SENT);
	/* The victim's own limit still holds: its fifth frame at this instant is one too many. */
	solicit(victim, XDP_PASS, XPXE_CNT_PASS_NDP_RS_RATE);
	run(OVMF_FULL, OVMF_FULL_DISCOVER, victim, XDP_DROP, XPXE_CNT_DROP_DHCP_RATE_MAC);
}

/*
 * Behind a relay (giaddr set) or a router (a 4011 request from another subnet) every
 * machine's frames come from the relay's MAC: each machine has its bucket all the same
 * (chaddr tells them apart), and a neighbour that copies the relay's giaddr but sends
 * from its own MAC drains none of them.
 */
static void test_relay_clients_apart(void **state)
{
	const uint8_t relay = 200, neighbour = 66;

	(void)state;
	configure(XPXE_MODE_PROXY, 10, 3, 0, 0);
	set_clock(T0);
	for (uint8_t m = 1; m <= 100; m++)
		for (int i = 0; i < 3; i++)
			run_as_tc(OVMF_PROXY, 0, relay, m, "198.18.5.1", TC_ACT_REDIRECT,
				  XPXE_CNT_DHCP_OFFER);
	for (uint8_t m = 101; m <= 200; m++)
		for (int i = 0; i < 3; i++)
			run_as(OVMF_PROXY, OVMF_PROXY_4011_REQUEST, relay, m, NULL, XDP_TX,
			       XPXE_CNT_DHCP_ACK_4011);
	for (int i = 0; i < 10; i++)
		run_as_tc(OVMF_PROXY, 0, neighbour, 1, "198.18.5.1",
			  i < 3 ? TC_ACT_REDIRECT : TC_ACT_OK,
			  i < 3 ? XPXE_CNT_DHCP_OFFER : XPXE_CNT_DROP_DHCP_RATE_MAC);
	set_clock(T0 + 100 * MS);
	run_as_tc(OVMF_PROXY, 0, relay, 1, "198.18.5.1", TC_ACT_REDIRECT, XPXE_CNT_DHCP_OFFER);
	run_as_tc(OVMF_PROXY, 0, relay, 1, "198.18.5.1", TC_ACT_OK, XPXE_CNT_DROP_DHCP_RATE_MAC);
}

/*
 * Proxy mode without a DHCP server on this host (XPXE_DHCP_F_LOCAL_SERVER clear): xdp_pxe
 * decides a PXE DISCOVER itself, its limits included. One it admitted (a token taken) but
 * could not answer (no boot file for ARM64) goes up, and tc_tftp lets it by untouched: no
 * second decision, no second token. With burst 3, the fourth at one instant is XDP's drop;
 * tc taking a token for each, the second pair had gone over already.
 */
static void test_no_local_server_one_token(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	int n;

	(void)state;
	configure(XPXE_MODE_PROXY, 10, 3, 0, 0);
	assert_int_equal(xpxe_dhcp_set_local_server(skel, false), 1);
	set_clock(T0);
	n = frame_as(in, sizeof(in), OVMF_PROXY, 0, 1, 1, NULL);
	/* Option 93 (client architecture, after the 240 bytes of BOOTP) to 11: ARM64 UEFI. */
	for (int o = 42 + 240; o + 3 < n && in[o] != 255; o += in[o] ? 2 + in[o + 1] : 1)
		if (in[o] == 93) {
			in[o + 2] = 0;
			in[o + 3] = 11;
		}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(xdp_run_counted(skel, in, n, out, sizeof(out), NULL,
						 XPXE_CNT_PASS_DHCP_NO_BOOT_FILE),
				 XDP_PASS);
		assert_int_equal(
		    tc_run_counted(skel, in, n, out, sizeof(out), NULL, XPXE_CNT_TFTP_TC_PASS),
		    TC_ACT_OK);
	}
	assert_int_equal(
	    xdp_run_counted(skel, in, n, out, sizeof(out), NULL, XPXE_CNT_DROP_DHCP_RATE_MAC),
	    XDP_DROP);
}

/* An address only offered: XDP OFFERs it again, the REQUEST goes to the daemon. */
static void test_offered_request_to_daemon(void **state)
{
	(void)state;
	configure(XPXE_MODE_FULL, 0, 0, 0, 0);
	make_known(5, XPXE_CLIENT_F_OFFERED);
	n_queued = 0;
	run(OVMF_FULL, 0, 5, XDP_TX, XPXE_CNT_DHCP_OFFER);
	run(OVMF_FULL, 2, 5, XDP_DROP, XPXE_CNT_DHCP_TO_DAEMON);
	assert_int_equal(n_queued, 1);
	make_known(5, 0); /* bound by the daemon: XDP ACKs */
	run(OVMF_FULL, 2, 5, XDP_TX, XPXE_CNT_DHCP_ACK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_burst_then_drop),
		cmocka_unit_test(test_mac_bucket_refills),
		cmocka_unit_test(test_global_strangers_only),
		cmocka_unit_test(test_mac_limit_first),
		cmocka_unit_test(test_not_ours_never_limited),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_defaults_carry_a_rack),
		cmocka_unit_test(test_offered_request_to_daemon),
		cmocka_unit_test(test_spoofed_chaddr_spares_the_victim),
		cmocka_unit_test(test_relay_clients_apart),
		cmocka_unit_test(test_no_local_server_one_token),
	};

	return cmocka_run_group_tests_name("xdp_ratelimit", tests, setup, teardown);
}
