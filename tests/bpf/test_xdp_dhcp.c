// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pxe's DHCP answers, run by the kernel (bpf_prog_test_run_opts) on the
 * requests real firmware sent in this lab (tests/fixtures/) and on crafted
 * bad ones. Each case names the input, the settings, the verdict, the counter
 * that must grow and, for a reply, what every field of it must hold; replies
 * are decoded here independently of the code that built them, checksums
 * included.
 */
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
#define OVMF_PROXY  XPXE_FIXTURES "/ovmf-pxe-proxy-4011-dhcp.pcap"
#define OVMF_FULL   XPXE_FIXTURES "/ovmf-pxe-full-tftp-dhcp.pcap"
#define SEABIOS	    XPXE_FIXTURES "/seabios-ipxe-rom-full-dhcp.pcap"
#define HTTPBOOT    XPXE_FIXTURES "/ovmf-httpboot-discover-dhcp.pcap"
#define HTTP_FULL   XPXE_FIXTURES "/ovmf-httpboot-full-dhcp.pcap"
#define HTTP_PROXY  XPXE_FIXTURES "/ovmf-httpboot-proxy-dhcp.pcap"
#define SNPONLY_URL "http://198.18.0.1:8080/assets/snponly.efi"

#define SERVER_IP "198.18.0.1"
#define LEASE_IP  "198.18.0.125"

enum dest_kind {
	TO_BROADCAST = 1, /* ff:ff:ff:ff:ff:ff, 255.255.255.255:68 */
	TO_SOURCE,	  /* the request's MAC, IP and port */
	TO_YIADDR,	  /* chaddr, yiaddr:68 */
	TO_RELAY,	  /* the request's MAC, giaddr:67 */
};

struct dhcp_case {
	const char *name;
	const char *pcap;
	int frame;
	void (*mutate)(uint8_t *frame, size_t *len);
	enum xpxe_dhcp_mode mode;
	enum xpxe_proxy_strategy strategy;
	bool ignore_unknown;
	bool known_client; /* the request's MAC is in dhcp_clients with LEASE_IP */
	/*
	 * xdp_pxe passes the frame (dhcp_proxy_to_tc) for tc_tftp to answer: VERDICT and
	 * COUNTER are then tc_tftp's, and a reply comes with the stack's copy of the request.
	 */
	bool via_tc;
	int verdict;
	enum xpxe_counter counter;
	/* the reply (verdict XDP_TX) */
	uint8_t msg_type;
	enum dest_kind dest;
	bool yiaddr_is_lease;
	bool ciaddr_echoed;
	const char *boot_file; /* option 67 and the file field; NULL: neither */
	const char *vendor;    /* option 60; NULL: absent */
	bool discovery_ctl;    /* option 43 = 06 01 08 ff */
	bool guid_echoed;      /* option 97 = the request's */
	bool lease_options;    /* options 51, 58, 59, 1 */
	bool no_pxedhcp;       /* option 175 = b0 01 01 (iPXE: do not wait for ProxyDHCP) */
	bool broadcast_bit;    /* flags: the request's with the broadcast bit set, not a copy */
};

/* --- mutations of real requests into bad or special ones ---------------------- */

static uint8_t *bootp_of(uint8_t *f)
{
	return f + 42;
}

static uint8_t *find_option(uint8_t *f, size_t len, uint8_t code)
{
	uint8_t *o = bootp_of(f) + 240, *end = f + len;

	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (*o == code)
			return o;
		o += 2 + o[1];
	}
	return NULL;
}

static void fix_lengths_and_checksums(uint8_t *f, size_t len)
{
	frame_iphdr *iph = frame_iph(f);
	struct udphdr *udph = (struct udphdr *)(iph + 1);
	size_t udp_len = len - 34;
	uint32_t sum;
	uint16_t c;

	iph->tot_len = htons(len - 14);
	iph->check = 0;
	iph->check = htons(frame_csum_fold(frame_csum_add(0, iph, 20)));
	udph->len = htons(udp_len);
	udph->check = 0;
	sum = frame_csum_add(0, &iph->saddr, 8) + IPPROTO_UDP + udp_len;
	c = frame_csum_fold(frame_csum_add(sum, udph, udp_len));
	udph->check = htons(c ? c : 0xffff);
}

static void cut_end_option(uint8_t *f, size_t *len)
{
	uint8_t *o = bootp_of(f) + 240;

	/* Walk to END, then cut the frame right before it. */
	while (*o != 255)
		o = *o ? o + 2 + o[1] : o + 1;
	*len = o - f;
	fix_lengths_and_checksums(f, *len);
}

static void option_runs_past_end(uint8_t *f, size_t *len)
{
	uint8_t *o = find_option(f, *len, 60);

	o[1] = 250; /* claims far more than the frame holds */
	fix_lengths_and_checksums(f, *len);
}

static void bad_magic(uint8_t *f, size_t *len)
{
	bootp_of(f)[236] = 0x64;
	fix_lengths_and_checksums(f, *len);
}

static void hlen_16(uint8_t *f, size_t *len)
{
	bootp_of(f)[2] = 16;
	fix_lengths_and_checksums(f, *len);
}

static void truncated_bootp(uint8_t *f, size_t *len)
{
	*len = 42 + 200; /* a header cut short: no room for the cookie */
	fix_lengths_and_checksums(f, *len);
}

static void with_overload(uint8_t *f, size_t *len)
{
	uint8_t *o = find_option(f, *len, 94); /* reuse the 3-byte UNDI option's bytes */

	o[0] = 52;
	o[1] = 1;
	o[2] = 3;
	o[3] = 0; /* the third byte becomes a PAD */
	fix_lengths_and_checksums(f, *len);
}

static void arch_arm64(uint8_t *f, size_t *len)
{
	uint8_t *o = find_option(f, *len, 93);

	o[2] = 0;
	o[3] = 11;
	fix_lengths_and_checksums(f, *len);
}

static void arch_x64_pxe(uint8_t *f, size_t *len)
{
	uint8_t *o = find_option(f, *len, 93);

	o[2] = 0;
	o[3] = 7; /* an HTTPClient naming a PXE architecture */
	fix_lengths_and_checksums(f, *len);
}

static void other_lease_requested(uint8_t *f, size_t *len)
{
	uint8_t *o = find_option(f, *len, 50);

	o[5] = 99; /* 198.18.0.99 instead of the lease */
	fix_lengths_and_checksums(f, *len);
}

static void other_server_id(uint8_t *f, size_t *len)
{
	uint8_t *o = find_option(f, *len, 54);

	o[5] = 2; /* 198.18.0.2: the client chose another server's offer */
	fix_lengths_and_checksums(f, *len);
}

static void relayed(uint8_t *f, size_t *len)
{
	uint8_t relay[4] = { 198, 18, 5, 1 };

	memcpy(bootp_of(f) + 24, relay, 4);
	bootp_of(f)[3] = 1; /* hops */
	fix_lengths_and_checksums(f, *len);
}

/* A relayed REQUEST for an address not the client's, broadcast bit clear (a renewing client). */
static void relayed_other_lease(uint8_t *f, size_t *len)
{
	bootp_of(f)[10] = 0; /* flags */
	other_lease_requested(f, len);
	relayed(f, len);
}

/* A REQUEST for an address not the client's, broadcast bit clear, not relayed. */
static void flags_clear_other_lease(uint8_t *f, size_t *len)
{
	bootp_of(f)[10] = 0; /* flags */
	bootp_of(f)[11] = 0;
	other_lease_requested(f, len);
}

/* A bit flipped in flight (the xid's): the UDP checksum no longer matches. */
static void corrupted(uint8_t *f, size_t *len)
{
	(void)len;
	bootp_of(f)[4] ^= 0x10;
}

/* Sent without a UDP checksum (0: none, allowed over IPv4). */
static void no_udp_checksum(uint8_t *f, size_t *len)
{
	(void)len;
	((struct udphdr *)(frame_iph(f) + 1))->check = 0;
}

/* From a sender with tx checksum offload: the pseudo-header's seed, no checksum computed. */
static void offload_seed(uint8_t *f, size_t *len)
{
	(void)len;
	frame_udp_offload_seed(f);
}

/* ... and a seed one off: a checksum damaged in flight like any other. */
static void offload_seed_corrupted(uint8_t *f, size_t *len)
{
	offload_seed(f, len);
	((struct udphdr *)(frame_iph(f) + 1))->check ^= htons(0x0100);
}

/*
 * Options filled up to 1023 bytes (the longest xpxe parses is 1024) with options 250...: a UDP
 * datagram of 1271 bytes, summed in three calls of 512 bytes and an odd last byte.
 */
static void long_options(uint8_t *f, size_t *len)
{
	uint8_t *start = bootp_of(f) + 240, *o = start, code = 250;
	size_t fill;

	while (*o != 255)
		o = *o ? o + 2 + o[1] : o + 1;
	fill = 1023 - 1 - (size_t)(o - start);
	while (fill) {
		size_t n = fill > 257 ? 257 : fill == 258 ? 200 : fill;

		if (n == 1) {
			*o++ = 0; /* a PAD */
		} else {
			o[0] = code++; /* site-specific options, each once */
			o[1] = (uint8_t)(n - 2);
			memset(o + 2, 0xa5, n - 2);
			o += n;
		}
		fill -= n;
	}
	*o++ = 255;
	*len = (size_t)(o - f);
	assert_int_equal(*len, 42 + 8 + 240 + 1023 - 8);
	fix_lengths_and_checksums(f, *len);
}

/* ... and one byte of the last 512 flipped in flight. */
static void long_options_corrupted(uint8_t *f, size_t *len)
{
	long_options(f, len);
	f[*len - 20] ^= 0x01;
}

static void to_port_67(uint8_t *f, size_t *len)
{
	struct udphdr *udph = (struct udphdr *)(frame_iph(f) + 1);

	udph->dest = htons(67);
	fix_lengths_and_checksums(f, *len);
}

static void vlan_tagged(uint8_t *f, size_t *len)
{
	memmove(f + 16, f + 12, *len - 12);
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = 0x00;
	f[15] = 0x05;
	*len += 4;
}

static void truncated_ip(uint8_t *f __attribute__((unused)), size_t *len)
{
	*len = 100; /* the IP header says ~370 bytes */
}

/* --- the cases ------------------------------------------------------------------ */

/* A proxy-mode PXE DISCOVER: xdp_pxe passes it, tc_tftp answers after the stack's copy. */
#define TC_OFFER .via_tc = true, .verdict = TC_ACT_REDIRECT, .counter = XPXE_CNT_DHCP_OFFER
#define PROXY_OFFER_4011 \
	TC_OFFER, .msg_type = 2, .dest = TO_BROADCAST, .vendor = "PXEClient", .guid_echoed = true

static const struct dhcp_case cases[] = {
	{ "proxy: OVMF DISCOVER (arch 7), strategy 4011: OFFER without a file", OVMF_PROXY, 0, NULL,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, PROXY_OFFER_4011 },
	{ "proxy: OVMF DISCOVER, strategy bypass: OFFER with file and option 43", OVMF_PROXY, 0,
	  NULL, XPXE_MODE_PROXY, XPXE_STRATEGY_BYPASS, PROXY_OFFER_4011, .boot_file = "snponly.efi",
	  .discovery_ctl = true },
	{ "proxy: OVMF boot server REQUEST from 4011 to 4011: ACK to its source", OVMF_PROXY, 5,
	  NULL, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_ACK_4011, .msg_type = 5, .dest = TO_SOURCE,
	  .ciaddr_echoed = true, .boot_file = "snponly.efi", .vendor = "PXEClient",
	  .guid_echoed = true },
	{ "proxy: iPXE's proxy REQUEST from port 68 to 4011: ACK to port 68", OVMF_PROXY, 12, NULL,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_TX, .counter = XPXE_CNT_DHCP_ACK_4011,
	  .msg_type = 5, .dest = TO_SOURCE, .ciaddr_echoed = true,
	  .boot_file = "http://198.18.0.1:8080/boot.ipxe", .vendor = "PXEClient",
	  .guid_echoed = true },
	{ "proxy: a 4011 REQUEST naming another boot server (option 54) is that server's",
	  OVMF_PROXY, 12, other_server_id, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_DHCP_OTHER_SERVER },
	{ "full: a 4011 REQUEST naming another boot server passes too", OVMF_FULL, 26,
	  other_server_id, XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true,
	  .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_DHCP_OTHER_SERVER },
	{ "full: a 4011 REQUEST naming us (option 54) gets its ACK", OVMF_FULL, 26, NULL,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_ACK_4011, .msg_type = 5, .dest = TO_SOURCE,
	  .ciaddr_echoed = true, .boot_file = "http://198.18.0.1:8080/boot.ipxe",
	  .vendor = "PXEClient", .guid_echoed = true },
	{ "proxy: SeaBIOS iPXE ROM DISCOVER: OFFER with the script URL", SEABIOS, 0, NULL,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, TC_OFFER, .msg_type = 2, .dest = TO_BROADCAST,
	  .boot_file = "http://198.18.0.1:8080/boot.ipxe", .vendor = "PXEClient",
	  .discovery_ctl = true, .guid_echoed = true },
	{ "proxy: UEFI HTTP boot DISCOVER (arch 16): OFFER with HTTPClient and a URL", HTTPBOOT, 4,
	  NULL, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, TC_OFFER, .msg_type = 2, .dest = TO_BROADCAST,
	  .boot_file = SNPONLY_URL, .vendor = "HTTPClient", .discovery_ctl = true,
	  .guid_echoed = true },
	{ "proxy: HTTP boot DISCOVER, strategy 4011: the URL is in the OFFER all the same",
	  HTTP_PROXY, 0, NULL, XPXE_MODE_PROXY, XPXE_STRATEGY_4011, TC_OFFER, .msg_type = 2,
	  .dest = TO_BROADCAST, .boot_file = SNPONLY_URL, .vendor = "HTTPClient",
	  .discovery_ctl = true, .guid_echoed = true },
	{ "proxy: HTTP boot REQUEST to the site's server is left to it", HTTP_PROXY, 3, NULL,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_DHCP_IGNORED },
	{ "proxy: an HTTPClient with a PXE architecture gets no PXE answer", HTTPBOOT, 4,
	  arch_x64_pxe, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .via_tc = true, .verdict = TC_ACT_OK,
	  .counter = XPXE_CNT_PASS_DHCP_NO_BOOT_FILE },
	{ "proxy: a plain udhcpc DISCOVER is not ours", SEABIOS, 6, NULL, XPXE_MODE_PROXY,
	  XPXE_STRATEGY_AUTO, .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_DHCP_NOT_PXE },
	{ "proxy: a REQUEST to the site's server is left to it", OVMF_PROXY, 3, NULL,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_DHCP_IGNORED },
	{ "proxy: another server's BOOTREPLY to port 68 passes", OVMF_PROXY, 2, NULL,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_OTHER_PORT },
	{ "proxy: a BOOTREPLY sent to port 67 is ignored", OVMF_PROXY, 2, to_port_67,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_DHCP_IGNORED },
	{ "proxy: unknown machines ignored when told so", OVMF_PROXY, 0, NULL, XPXE_MODE_PROXY,
	  XPXE_STRATEGY_AUTO, .ignore_unknown = true, .via_tc = true, .verdict = TC_ACT_OK,
	  .counter = XPXE_CNT_PASS_DHCP_UNKNOWN_MACHINE },
	{ "proxy: ... but a known machine is answered", OVMF_PROXY, 0, NULL, XPXE_MODE_PROXY,
	  XPXE_STRATEGY_AUTO, .ignore_unknown = true, .known_client = true, PROXY_OFFER_4011 },
	{ "proxy: ARM64 UEFI with no boot file configured passes", OVMF_PROXY, 0, arch_arm64,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .via_tc = true, .verdict = TC_ACT_OK,
	  .counter = XPXE_CNT_PASS_DHCP_NO_BOOT_FILE },

	{ "full: OVMF DISCOVER of a known MAC: OFFER with lease and file", OVMF_FULL, 0, NULL,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_OFFER, .msg_type = 2, .dest = TO_BROADCAST,
	  .yiaddr_is_lease = true, .boot_file = "snponly.efi", .lease_options = true },
	{ "full: OVMF REQUEST for its lease: ACK", OVMF_FULL, 2, NULL, XPXE_MODE_FULL,
	  XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX, .counter = XPXE_CNT_DHCP_ACK,
	  .msg_type = 5, .dest = TO_BROADCAST, .yiaddr_is_lease = true, .boot_file = "snponly.efi",
	  .lease_options = true },
	{ "full: OVMF HTTP boot DISCOVER: OFFER with lease, URL and HTTPClient", HTTP_FULL, 0, NULL,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_OFFER, .msg_type = 2, .dest = TO_BROADCAST,
	  .yiaddr_is_lease = true, .boot_file = SNPONLY_URL, .vendor = "HTTPClient",
	  .lease_options = true },
	{ "full: OVMF HTTP boot REQUEST for its lease: ACK with URL and HTTPClient", HTTP_FULL, 2,
	  NULL, XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_ACK, .msg_type = 5, .dest = TO_BROADCAST,
	  .yiaddr_is_lease = true, .boot_file = SNPONLY_URL, .vendor = "HTTPClient",
	  .lease_options = true },
	{ "full: a REQUEST for another address: NAK", OVMF_FULL, 2, other_lease_requested,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_NAK, .msg_type = 6, .dest = TO_BROADCAST },
	{ "full: ... broadcast bit clear, not relayed: the NAK is broadcast all the same, flags "
	  "as they came (RFC 2131 4.3.2)",
	  OVMF_FULL, 2, flags_clear_other_lease, XPXE_MODE_FULL, XPXE_STRATEGY_AUTO,
	  .known_client = true, .verdict = XDP_TX, .counter = XPXE_CNT_DHCP_NAK, .msg_type = 6,
	  .dest = TO_BROADCAST },
	{ "full: a relayed REQUEST for another address: NAK to the relay, broadcast bit set",
	  OVMF_FULL, 2, relayed_other_lease, XPXE_MODE_FULL, XPXE_STRATEGY_AUTO,
	  .known_client = true, .verdict = XDP_TX, .counter = XPXE_CNT_DHCP_NAK, .msg_type = 6,
	  .dest = TO_RELAY, .broadcast_bit = true },
	{ "full: a REQUEST for another server's offer passes", OVMF_FULL, 2, other_server_id,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_DHCP_OTHER_SERVER },
	{ "full: DISCOVER of an unknown MAC goes to the daemon", OVMF_FULL, 0, NULL, XPXE_MODE_FULL,
	  XPXE_STRATEGY_AUTO, .verdict = XDP_DROP, .counter = XPXE_CNT_DHCP_TO_DAEMON },
	{ "full: REQUEST of a MAC without binding goes to the daemon", OVMF_FULL, 2, NULL,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .verdict = XDP_DROP,
	  .counter = XPXE_CNT_DHCP_TO_DAEMON },
	{ "full: iPXE DISCOVER, broadcast flag clear: unicast to the lease, no ProxyDHCP wait",
	  SEABIOS, 0, NULL, XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true,
	  .verdict = XDP_TX, .counter = XPXE_CNT_DHCP_OFFER, .msg_type = 2, .dest = TO_YIADDR,
	  .yiaddr_is_lease = true, .boot_file = "http://198.18.0.1:8080/boot.ipxe",
	  .lease_options = true, .no_pxedhcp = true },
	{ "full: snponly.efi's iPXE DISCOVER (UEFI): OFFER with no-pxedhcp", HTTP_FULL, 4, NULL,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_OFFER, .msg_type = 2, .dest = TO_YIADDR, .yiaddr_is_lease = true,
	  .boot_file = "http://198.18.0.1:8080/boot.ipxe", .lease_options = true,
	  .no_pxedhcp = true },
	{ "full: snponly.efi's iPXE REQUEST (UEFI): ACK with no-pxedhcp", HTTP_FULL, 8, NULL,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_ACK, .msg_type = 5, .dest = TO_YIADDR, .yiaddr_is_lease = true,
	  .boot_file = "http://198.18.0.1:8080/boot.ipxe", .lease_options = true,
	  .no_pxedhcp = true },
	{ "full: the booted kernel's udhcpc gets an address only", SEABIOS, 6, NULL, XPXE_MODE_FULL,
	  XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_OFFER, .msg_type = 2, .dest = TO_YIADDR, .yiaddr_is_lease = true,
	  .lease_options = true },
	{ "full: relayed (giaddr set): unicast to the relay's port 67", OVMF_FULL, 0, relayed,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_OFFER, .msg_type = 2, .dest = TO_RELAY, .yiaddr_is_lease = true,
	  .boot_file = "snponly.efi", .lease_options = true },

	{ "bad: no END option", OVMF_PROXY, 0, cut_end_option, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO,
	  .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_DHCP_MALFORMED },
	{ "bad: an option running past the end", OVMF_PROXY, 0, option_runs_past_end,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_DHCP_MALFORMED },
	{ "bad: wrong magic cookie", OVMF_PROXY, 0, bad_magic, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO,
	  .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_DHCP_MALFORMED },
	{ "bad: hlen 16", OVMF_PROXY, 0, hlen_16, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO,
	  .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_DHCP_MALFORMED },
	{ "bad: BOOTP header cut short", OVMF_PROXY, 0, truncated_bootp, XPXE_MODE_PROXY,
	  XPXE_STRATEGY_AUTO, .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_DHCP_MALFORMED },
	{ "bad: option overload (52) is left to the daemon", OVMF_PROXY, 0, with_overload,
	  XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_DHCP_OVERLOAD },
	{ "bad: a DISCOVER corrupted in flight (UDP checksum wrong) passes unanswered", OVMF_PROXY,
	  0, corrupted, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .via_tc = true, .verdict = TC_ACT_OK,
	  .counter = XPXE_CNT_PASS_BAD_UDP_CSUM },
	{ "bad: ... a boot server REQUEST (4011) too", OVMF_PROXY, 5, corrupted, XPXE_MODE_PROXY,
	  XPXE_STRATEGY_AUTO, .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_BAD_UDP_CSUM },
	{ "bad: ... a full-mode REQUEST of a bound MAC is not ACKed", OVMF_FULL, 2, corrupted,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_BAD_UDP_CSUM },
	{ "bad: ... a new MAC's DISCOVER is not queued to the daemon", OVMF_FULL, 0, corrupted,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_BAD_UDP_CSUM },
	{ "bad: ... a DISCOVER of 1271 bytes of UDP, a byte of its last 512 flipped", OVMF_PROXY, 0,
	  long_options_corrupted, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, .via_tc = true,
	  .verdict = TC_ACT_OK, .counter = XPXE_CNT_PASS_BAD_UDP_CSUM },
	{ "proxy: the same DISCOVER intact: its checksum (three helper calls) matches", OVMF_PROXY,
	  0, long_options, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, PROXY_OFFER_4011 },
	{ "proxy: a DISCOVER without a UDP checksum (0: none) is answered", OVMF_PROXY, 0,
	  no_udp_checksum, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, PROXY_OFFER_4011 },
	{ "proxy: a DISCOVER with an offload seed as its checksum (CHECKSUM_PARTIAL) is answered",
	  OVMF_PROXY, 0, offload_seed, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, PROXY_OFFER_4011 },
	{ "full: ... a REQUEST of a bound MAC with one gets its ACK", OVMF_FULL, 2, offload_seed,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_TX,
	  .counter = XPXE_CNT_DHCP_ACK, .msg_type = 5, .dest = TO_BROADCAST,
	  .yiaddr_is_lease = true, .boot_file = "snponly.efi", .lease_options = true },
	{ "bad: ... but a seed one off passes unanswered", OVMF_FULL, 2, offload_seed_corrupted,
	  XPXE_MODE_FULL, XPXE_STRATEGY_AUTO, .known_client = true, .verdict = XDP_PASS,
	  .counter = XPXE_CNT_PASS_BAD_UDP_CSUM },
	{ "bad: VLAN-tagged DISCOVER passes", OVMF_PROXY, 0, vlan_tagged, XPXE_MODE_PROXY,
	  XPXE_STRATEGY_AUTO, .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_VLAN },
	{ "bad: frame shorter than its IP length", OVMF_PROXY, 0, truncated_ip, XPXE_MODE_PROXY,
	  XPXE_STRATEGY_AUTO, .verdict = XDP_PASS, .counter = XPXE_CNT_PASS_BAD_IPV4_HEADER },
};

/* --- set-up ----------------------------------------------------------------------- */

static struct xpxe_bpf *skel;
static struct ring_buffer *queue;
static int lo_sock = -1;
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

static int setup(void **state)
{
	(void)state;
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

static void clear_tc_copies(void)
{
	int fd = bpf_map__fd(skel->maps.dhcp_tc_copies);
	struct xpxe_dhcp_tc_copy_key key;

	while (!bpf_map_get_next_key(fd, NULL, &key))
		assert_int_equal(bpf_map_delete_elem(fd, &key), 0);
}

/* Every DISCOVER answered in tc as if long ago (past XPXE_DHCP_TC_COPY_NS). */
static void age_tc_copies(void)
{
	int fd = bpf_map__fd(skel->maps.dhcp_tc_copies);
	struct xpxe_dhcp_tc_copy_key key, *prev = NULL, next;
	__u64 long_ago = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		assert_int_equal(bpf_map_update_elem(fd, &key, &long_ago, BPF_EXIST), 0);
	}
}

static void configure(const struct dhcp_case *c, const uint8_t *request)
{
	static uint8_t stray[FRAME_MAX + 512];
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client = { 0 };
	int clients_fd = bpf_map__fd(skel->maps.dhcp_clients);

	xpxe_dhcp_settings_default(&s);
	s.mode = c->mode;
	s.profile.strategy = c->strategy;
	s.answer_unknown = !c->ignore_unknown;
	inet_pton(AF_INET, SERVER_IP, &s.server_ip);
	snprintf(s.http_base, sizeof(s.http_base), "http://%s:8080", SERVER_IP);
	snprintf(s.profile.boot_file[XPXE_BOOT_IPXE], XPXE_BOOT_FILE_MAX, "%s/boot.ipxe",
		 s.http_base);
	snprintf(s.profile.boot_file[XPXE_BOOT_HTTP_X64], XPXE_BOOT_FILE_MAX,
		 "%s/assets/snponly.efi", s.http_base);

	net.mode = c->mode;
	memcpy(net.server_mac, frame_server_mac, 6);
	net.server_ip = s.server_ip;
	inet_pton(AF_INET, "255.255.255.0", &net.netmask);
	net.lease_time = 3600;
	/* A DHCP server on this host: proxy DISCOVERs go to tc (run_via_tc turns it off too). */
	net.local_server = true;
	assert_int_equal(xpxe_dhcp_load_maps(skel, &s, &net), 0);

	/* No DISCOVER was answered in tc a moment ago (dhcp_tc_copies): each case is its own. */
	clear_tc_copies();
	/* Nor is a copy for the stack a failed case left unread on the loopback. */
	while (recv(lo_sock, stray, sizeof(stray), MSG_DONTWAIT) >= 0)
		;
	/* Each case starts from an empty client table, then adds its own. */
	memcpy(key.addr, bootp_of((uint8_t *)request) + 28, 6);
	bpf_map_delete_elem(clients_fd, &key);
	if (c->known_client) {
		inet_pton(AF_INET, LEASE_IP, &client.ip);
		assert_int_equal(bpf_map_update_elem(clients_fd, &key, &client, BPF_ANY), 0);
	}
}

/* --- checking a reply, independently of how it was built --------------------------- */

struct option_view {
	const uint8_t *v[256];
	uint8_t len[256];
};

static void decode_options(const uint8_t *o, const uint8_t *end, struct option_view *ov)
{
	memset(ov, 0, sizeof(*ov));
	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		assert_true(o + 2 <= end);
		assert_true(o + 2 + o[1] <= end);
		assert_null(ov->v[*o]); /* each option once */
		ov->v[*o] = o + 2;
		ov->len[*o] = o[1];
		o += 2 + o[1];
	}
	assert_true(o < end); /* an END option */
}

static void expect_option(const struct option_view *ov, uint8_t code, const void *value, size_t len)
{
	if (!value) {
		if (ov->v[code])
			fail_msg("option %u present, expected absent", code);
		return;
	}
	if (!ov->v[code])
		fail_msg("option %u absent", code);
	assert_int_equal(ov->len[code], len);
	assert_memory_equal(ov->v[code], value, len);
}

static void check_reply(const struct dhcp_case *c, const uint8_t *req, size_t req_len,
			const uint8_t *out, size_t out_len)
{
	const frame_iphdr *req_iph = frame_iph((uint8_t *)req);
	const struct udphdr *req_udph = (const void *)(req_iph + 1);
	const frame_iphdr *iph = (const void *)(out + 14);
	const struct udphdr *udph = (const void *)(iph + 1);
	const uint8_t *bp = out + 42, *req_bp = req + 42;
	struct in_addr server, lease, zero = { 0 }, want_ip;
	uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint16_t want_port;
	const uint8_t *want_mac;
	struct option_view ov;
	uint32_t sum;
	size_t udp_len;

	(void)req_len;
	inet_pton(AF_INET, SERVER_IP, &server);
	inet_pton(AF_INET, LEASE_IP, &lease);

	/* Frame, IPv4 and UDP are well formed, checksums included. */
	assert_true(out_len >= 42 + 300 && out_len <= XPXE_DHCP_FRAME_MAX);
	assert_memory_equal(out + 6, frame_server_mac, 6);
	assert_int_equal(out[12] << 8 | out[13], ETH_P_IP);
	assert_int_equal(iph->version, 4);
	assert_int_equal(iph->ihl, 5);
	assert_int_equal(ntohs(iph->tot_len), out_len - 14);
	assert_int_equal(iph->protocol, IPPROTO_UDP);
	assert_int_equal(frame_csum_fold(frame_csum_add(0, iph, 20)), 0);
	assert_int_equal(iph->saddr, server.s_addr);
	udp_len = ntohs(udph->len);
	assert_int_equal(udp_len, out_len - 34);
	assert_int_not_equal(udph->check, 0);
	sum = frame_csum_add(0, &iph->saddr, 8) + IPPROTO_UDP + udp_len;
	assert_int_equal(frame_csum_fold(frame_csum_add(sum, udph, udp_len)), 0);

	/* Where it goes. */
	switch (c->dest) {
	case TO_BROADCAST:
		want_mac = bcast;
		want_ip.s_addr = 0xffffffff;
		want_port = 68;
		break;
	case TO_SOURCE:
		want_mac = req + 6;
		want_ip.s_addr = req_iph->saddr;
		want_port = ntohs(req_udph->source);
		break;
	case TO_YIADDR:
		want_mac = req_bp + 28;
		want_ip = lease;
		want_port = 68;
		break;
	default:
		want_mac = req + 6;
		memcpy(&want_ip.s_addr, req_bp + 24, 4);
		want_port = 67;
	}
	assert_memory_equal(out, want_mac, 6);
	assert_int_equal(iph->daddr, want_ip.s_addr);
	assert_int_equal(ntohs(udph->dest), want_port);
	assert_int_equal(ntohs(udph->source), c->counter == XPXE_CNT_DHCP_ACK_4011 ? 4011 : 67);

	/* BOOTP. */
	assert_int_equal(bp[0], 2);
	assert_int_equal(bp[1], 1);
	assert_int_equal(bp[2], 6);
	assert_memory_equal(bp + 4, req_bp + 4, 4); /* xid */
	if (c->broadcast_bit) {
		assert_int_equal(bp[10], req_bp[10] | 0x80); /* flags */
		assert_int_equal(bp[11], req_bp[11]);
	} else {
		assert_memory_equal(bp + 10, req_bp + 10, 2);
	}
	assert_memory_equal(bp + 12, c->ciaddr_echoed ? req_bp + 12 : (uint8_t *)&zero, 4);
	assert_memory_equal(bp + 16, c->yiaddr_is_lease ? (uint8_t *)&lease : (uint8_t *)&zero, 4);
	assert_memory_equal(bp + 24, req_bp + 24, 4); /* giaddr */
	assert_memory_equal(bp + 28, req_bp + 28, 6); /* chaddr */
	assert_int_equal(bp[236] << 24 | bp[237] << 16 | bp[238] << 8 | bp[239], 0x63825363);
	if (c->boot_file) {
		assert_string_equal((const char *)bp + 108, c->boot_file);
		assert_string_equal((const char *)bp + 44, SERVER_IP);
		assert_memory_equal(bp + 20, &server.s_addr, 4);
	} else {
		assert_int_equal(bp[108], 0);
	}

	decode_options(bp + 240, out + out_len, &ov);
	expect_option(&ov, 53, &c->msg_type, 1);
	expect_option(&ov, 54, &server.s_addr, 4);
	expect_option(&ov, 67, c->boot_file, c->boot_file ? strlen(c->boot_file) : 0);
	expect_option(&ov, 66, c->boot_file ? SERVER_IP : NULL, strlen(SERVER_IP));
	expect_option(&ov, 60, c->vendor, c->vendor ? strlen(c->vendor) : 0);
	expect_option(&ov, 43, c->discovery_ctl ? "\x06\x01\x08\xff" : NULL, 4);
	expect_option(&ov, 175, c->no_pxedhcp ? "\xb0\x01\x01" : NULL, 3);
	if (c->guid_echoed) {
		const uint8_t *req_opts = req_bp + 240;
		struct option_view req_ov;

		decode_options(req_opts, req + req_len, &req_ov);
		assert_non_null(req_ov.v[97]);
		expect_option(&ov, 97, req_ov.v[97], req_ov.len[97]);
	} else {
		expect_option(&ov, 97, NULL, 0);
	}
	if (c->lease_options) {
		uint32_t lease_time = htonl(3600), t1 = htonl(1800), t2 = htonl(3150);
		struct in_addr mask;

		inet_pton(AF_INET, "255.255.255.0", &mask);
		expect_option(&ov, 51, &lease_time, 4);
		expect_option(&ov, 58, &t1, 4);
		expect_option(&ov, 59, &t2, 4);
		expect_option(&ov, 1, &mask.s_addr, 4);
	} else {
		expect_option(&ov, 51, NULL, 0);
		expect_option(&ov, 1, NULL, 0);
	}
}

/*
 * The copy of a request tc_tftp sent back in for the stack, as the loopback device of this
 * test's namespace received it (the test runs' device): its length, or -1 when none comes
 * within WAIT_MS.
 */
static int stack_copy(uint8_t *buf, size_t size, int wait_ms)
{
	struct pollfd p = { .fd = lo_sock, .events = POLLIN };

	if (poll(&p, 1, wait_ms) != 1)
		return -1;
	return (int)recv(lo_sock, buf, size, MSG_DONTWAIT);
}

/*
 * A proxy-mode PXE DISCOVER: xdp_pxe passes it untouched, counted dhcp_proxy_to_tc; tc_tftp
 * then sends the stack its copy, byte for byte what came in, and answers from the frame
 * (TC_ACT_REDIRECT), or lets the frame itself up (TC_ACT_OK) with no copy.
 */
static void run_via_tc(const struct dhcp_case *c, const uint8_t *in, size_t len,
		       uint8_t out[FRAME_MAX + 512], __u32 *out_lenp)
{
	uint8_t copy[FRAME_MAX + 512];
	__u32 out_len;
	int n;

	assert_int_equal(xdp_run_counted(skel, in, len, out, FRAME_MAX + 512, &out_len,
					 XPXE_CNT_DHCP_PROXY_TO_TC),
			 XDP_PASS);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
	assert_int_equal(tc_run_counted(skel, in, len, out, FRAME_MAX + 512, &out_len, c->counter),
			 c->verdict);
	*out_lenp = out_len;
	if (c->verdict != TC_ACT_REDIRECT) {
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
		assert_int_equal(stack_copy(copy, sizeof(copy), 0), -1);
		return;
	}
	n = stack_copy(copy, sizeof(copy), 2000);
	if (n < 0)
		fail_msg("the stack got no copy of the DISCOVER tc_tftp answered");
	assert_int_equal(n, len);
	assert_memory_equal(copy, in, len);
	assert_int_equal(stack_copy(copy, sizeof(copy), 0), -1); /* one copy */
	check_reply(c, in, len, out, out_len);
}

/*
 * What xdp_pxe passed (IN, LEN bytes) through tc_tftp: untouched, counted tftp_tc_pass and
 * nothing else (xdp_pxe counted its outcome), no copy for the stack; no second decision, and
 * no second rate-limit token, whatever XPXE_DHCP_F_LOCAL_SERVER says.
 */
static void tc_leaves_passed(const uint8_t *in, size_t len)
{
	uint8_t out[FRAME_MAX + 512];
	__u32 out_len;

	assert_int_equal(
	    tc_run_counted(skel, in, len, out, sizeof(out), &out_len, XPXE_CNT_TFTP_TC_PASS),
	    TC_ACT_OK);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
	assert_int_equal(stack_copy(out, sizeof(out), 0), -1);
}

/*
 * The same DISCOVER with no DHCP server on this host (XPXE_DHCP_F_LOCAL_SERVER clear, as the
 * daemon's sweep sets it): xdp_pxe answers it itself, XDP_TX, byte for byte the OFFER tc_tftp
 * sent (TC_OUT, TC_LEN), counted dhcp_offer and the dhcp_proxy_xdp tally; what tc let up
 * unanswered, XDP passes untouched with the same outcome, and tc then leaves it alone (XDP
 * decided it). Nothing goes to the stack.
 */
static void run_via_xdp(const struct dhcp_case *c, const uint8_t *in, size_t len,
			const uint8_t *tc_out, __u32 tc_len)
{
	int counters_fd = bpf_map__fd(skel->maps.counters);
	uint8_t out[FRAME_MAX + 512], copy[FRAME_MAX + 512];
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX];
	__u32 out_len;
	int verdict;

	assert_int_equal(xpxe_dhcp_set_local_server(skel, false), 1);
	assert_int_equal(xpxe_dhcp_set_local_server(skel, false), 0); /* already so */
	assert_false(xpxe_dhcp_local_server_flag(skel));
	clear_tc_copies();
	assert_int_equal(xpxe_counters_read(counters_fd, before), 0);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_pxe), &opts), 0);
	assert_int_equal(xpxe_counters_read(counters_fd, after), 0);
	verdict = (int)opts.retval;
	out_len = opts.data_size_out;
	for (int i = 0; i < XPXE_CNT_MAX; i++) {
		__u64 expect =
		    before[i] + (i == XPXE_CNT_RX_FRAMES || i == (int)c->counter ||
				 (c->verdict == TC_ACT_REDIRECT && i == XPXE_CNT_DHCP_PROXY_XDP));

		if (after[i] != expect)
			fail_msg("xdp_pxe, no local server: counter %s went %llu -> %llu",
				 xpxe_counter_names[i], (unsigned long long)before[i],
				 (unsigned long long)after[i]);
	}
	assert_int_equal(stack_copy(copy, sizeof(copy), 0), -1);
	if (c->verdict != TC_ACT_REDIRECT) {
		assert_int_equal(verdict, XDP_PASS);
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
		tc_leaves_passed(in, len);
		return;
	}
	assert_int_equal(verdict, XDP_TX);
	assert_int_equal(out_len, tc_len);
	assert_memory_equal(out, tc_out, tc_len);
	check_reply(c, in, len, out, out_len);
}

static void run_case(void **state)
{
	const struct dhcp_case *c = *state;
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	int n = pcap_frame(c->pcap, c->frame, in, sizeof(in));
	size_t len;
	__u32 out_len;

	if (n < 0)
		fail_msg("cannot read frame %d of %s (run from the repository root)", c->frame,
			 c->pcap);
	len = (size_t)n;
	configure(c, in);
	ring_buffer__consume(queue); /* what a failed case before left queued is not this one's */
	if (c->mutate)
		c->mutate(in, &len);
	if (c->via_tc) {
		run_via_tc(c, in, len, out, &out_len);
		run_via_xdp(c, in, len, out, out_len);
		return;
	}
	assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, c->counter),
			 c->verdict);
	if (c->verdict == XDP_PASS) {
		/* What XDP passes, tc passes too, untouched, and counts nothing but that: with
		 * a DHCP server on this host and without one. */
		tc_leaves_passed(in, len);
		assert_true(xpxe_dhcp_set_local_server(skel, false) >= 0);
		assert_false(xpxe_dhcp_local_server_flag(skel));
		tc_leaves_passed(in, len);
	}
	n_queued = 0;
	ring_buffer__consume(queue);
	if (c->verdict == XDP_DROP) {
		/* Queued for the daemon: what XDP parsed, and the frame as it came. */
		const uint8_t *req_bp = bootp_of(in);

		assert_int_equal(n_queued, 1);
		assert_memory_equal(last_queued.mac, req_bp + 28, 6);
		assert_int_equal(last_queued.msg_type, c->frame == 0 ? 1 : 3);
		assert_int_equal(last_queued.frame_len, len);
		assert_memory_equal(last_queued.frame, in, len);
		return;
	}
	assert_int_equal(n_queued, 0);
	if (c->verdict == XDP_PASS) {
		/* A frame passed to the stack is the frame that came in. */
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
		return;
	}
	check_reply(c, in, len, out, out_len);
}

/* The cases above would all pass with DHCP answering off; this one proves it is on. */
static void test_off_passes_everything(void **state)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	int n = pcap_frame(OVMF_PROXY, 0, in, sizeof(in));

	(void)state;
	assert_true(n > 0);
	xpxe_dhcp_settings_default(&s);
	s.enabled = false;
	assert_int_equal(xpxe_dhcp_load_maps(skel, &s, &net), 0);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = n, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_pxe), &opts), 0);
	assert_int_equal(opts.retval, XDP_PASS);
}

/* Fills slot SLOT of dhcp_scratch with BYTE on every CPU. */
static void scratch_fill(__u32 slot, uint8_t byte, uint8_t *buf, size_t size)
{
	memset(buf, byte, size);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_scratch), &slot, buf, 0),
			 0);
}

/*
 * The daemon's re-run of a queued request (a test run, as here) parses into a scratch slot of
 * its own, never the one of frames from the wire: before Linux 6.3 a frame arriving on the
 * same CPU can run the program in the middle of a re-run (xpxe_dhcp.h). Every test run here
 * comes in on the loopback device, as the daemon's do.
 */
static void test_rerun_scratch_is_its_own(void **state)
{
	static const struct dhcp_case c = { .name = "rerun", .mode = XPXE_MODE_PROXY };
	int ncpus = libbpf_num_possible_cpus();
	size_t value = (bpf_map__value_size(skel->maps.dhcp_scratch) + 7) / 8 * 8;
	size_t size = value * (size_t)ncpus;
	uint8_t in[FRAME_MAX], out[FRAME_MAX], *buf;
	int n = pcap_frame(OVMF_PROXY, 5, in, sizeof(in)), rerun_cpus = 0; /* a 4011 REQUEST */
	__u32 slot;

	(void)state;
	assert_true(n > 0 && ncpus > 0);
	assert_int_equal(bpf_map__max_entries(skel->maps.dhcp_scratch), XPXE_DHCP_SCRATCH_SLOTS);
	buf = malloc(size);
	assert_non_null(buf);
	configure(&c, in);
	scratch_fill(XPXE_DHCP_SCRATCH_WIRE, 0xa5, buf, size);
	scratch_fill(XPXE_DHCP_SCRATCH_RERUN, 0, buf, size);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = n, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_pxe), &opts), 0);
	assert_int_equal(opts.retval, XDP_TX);

	/* The wire's slot is as it was on every CPU... */
	slot = XPXE_DHCP_SCRATCH_WIRE;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.dhcp_scratch), &slot, buf), 0);
	for (size_t i = 0; i < size; i++)
		if (buf[i] != 0xa5)
			fail_msg("the re-run wrote the wire's scratch slot (byte %zu)", i);
	/* ... and the re-run's holds the REQUEST it parsed (msg_type comes first) on one. */
	slot = XPXE_DHCP_SCRATCH_RERUN;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.dhcp_scratch), &slot, buf), 0);
	for (int cpu = 0; cpu < ncpus; cpu++)
		rerun_cpus += buf[(size_t)cpu * value] == 3;
	assert_int_equal(rerun_cpus, 1);
	free(buf);
}

/* tc_tftp on IN with skb mark MARK: the verdict, counted OUTCOME; *MARK_OUT the mark after. */
static int tc_run_marked(const uint8_t *in, size_t len, __u32 mark, __u32 *mark_out, uint8_t *out,
			 size_t out_size, __u32 *out_len, enum xpxe_counter outcome)
{
	struct __sk_buff ctx = { .mark = mark };
	int verdict = prog_run_counted_ctx(skel, skel->progs.tc_tftp, false, in, len, &ctx,
					   sizeof(ctx), out, out_size, out_len, outcome);

	*mark_out = ctx.mark;
	return verdict;
}

static const struct dhcp_case proxy_offer = {
	"proxy", OVMF_PROXY, 0, NULL, XPXE_MODE_PROXY, XPXE_STRATEGY_AUTO, PROXY_OFFER_4011
};

/* The proxy DISCOVER of OVMF_PROXY into IN, maps configured for it; its length. */
static size_t proxy_discover(uint8_t *in, size_t size)
{
	int n = pcap_frame(OVMF_PROXY, 0, in, size);

	assert_true(n > 0);
	configure(&proxy_offer, in);
	return (size_t)n;
}

/*
 * The stack's copy of a DISCOVER answered in tc comes round with its mark: let up as it is,
 * the mark cleared, counted dhcp_tc_stack_copy, no OFFER and no copy of the copy.
 */
static void test_tc_marked_copy(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512], copy[FRAME_MAX + 512];
	size_t len = proxy_discover(in, sizeof(in));
	__u32 out_len, mark;

	(void)state;
	assert_int_equal(tc_run_marked(in, len, XPXE_SKB_MARK_STACK_COPY, &mark, out, sizeof(out),
				       &out_len, XPXE_CNT_DHCP_TC_STACK_COPY),
			 TC_ACT_OK);
	assert_int_equal(mark, 0);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
	assert_int_equal(stack_copy(copy, sizeof(copy), 0), -1);
	/* Another mark is not ours: the DISCOVER is answered, and its own mark kept. */
	assert_int_equal(
	    tc_run_marked(in, len, 7, &mark, out, sizeof(out), &out_len, XPXE_CNT_DHCP_OFFER),
	    TC_ACT_REDIRECT);
	assert_int_equal(mark, 7);
	assert_int_equal(stack_copy(copy, sizeof(copy), 2000), (int)len);
	check_reply(&proxy_offer, in, len, out, out_len);
}

/*
 * Should another filter rewrite the copy's mark, the copy is still known (dhcp_tc_copies, by
 * xid and chaddr, for a moment): let up, not answered and copied again round and round; so is
 * a duplicate within that moment. The client's own repeat, seconds later, is answered.
 */
static void test_tc_copy_mark_rewritten(void **state)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512], copy[FRAME_MAX + 512];
	size_t len = proxy_discover(in, sizeof(in));
	__u32 out_len, mark;
	int n;

	(void)state;
	assert_int_equal(
	    tc_run_counted(skel, in, len, out, sizeof(out), &out_len, XPXE_CNT_DHCP_OFFER),
	    TC_ACT_REDIRECT);
	n = stack_copy(copy, sizeof(copy), 2000);
	assert_int_equal(n, (int)len);
	/* The copy, its mark gone. */
	assert_int_equal(tc_run_marked(copy, (size_t)n, 0, &mark, out, sizeof(out), &out_len,
				       XPXE_CNT_DHCP_TC_STACK_COPY),
			 TC_ACT_OK);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
	assert_int_equal(stack_copy(copy, sizeof(copy), 0), -1);
	assert_int_equal(tc_run_marked(in, len, 0, &mark, out, sizeof(out), &out_len,
				       XPXE_CNT_DHCP_TC_STACK_COPY),
			 TC_ACT_OK);
	assert_int_equal(stack_copy(copy, sizeof(copy), 0), -1);
	/* The client asks again, past the window (its entry made old): answered. */
	age_tc_copies();
	assert_int_equal(
	    tc_run_counted(skel, in, len, out, sizeof(out), &out_len, XPXE_CNT_DHCP_OFFER),
	    TC_ACT_REDIRECT);
	assert_int_equal(stack_copy(copy, sizeof(copy), 2000), (int)len);
	check_reply(&proxy_offer, in, len, out, out_len);
}

/*
 * A DISCOVER with IP options (ihl 6) is xdp_pxe's and tc_tftp's as one without: passed for tc,
 * answered there (the OFFER has no options), the stack's copy as it came. (Test runs give tc
 * a linear skb: dhcp_tc_pull's reading of a non-linear one is not reached here.)
 */
static void test_tc_ip_options(void **state)
{
	static const uint8_t options[4] = { 1, 1, 1, 0 }; /* NOP NOP NOP END */
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512], copy[FRAME_MAX + 512];
	size_t len = proxy_discover(in, sizeof(in));
	frame_iphdr *iph = frame_iph(in);
	struct udphdr *udph;
	uint8_t *bp;
	uint32_t sum;
	__u32 out_len;

	(void)state;
	memmove(in + 34 + 4, in + 34, len - 34);
	memcpy(in + 34, options, 4);
	len += 4;
	iph->ihl = 6;
	iph->tot_len = htons(len - 14);
	iph->check = 0;
	iph->check = htons(frame_csum_fold(frame_csum_add(0, iph, 24)));
	udph = (struct udphdr *)(in + 38);
	udph->check = 0;
	sum = frame_csum_add(0, &iph->saddr, 8) + IPPROTO_UDP + ntohs(udph->len);
	udph->check = htons(frame_csum_fold(frame_csum_add(sum, udph, ntohs(udph->len))));
	bp = in + 46;

	assert_int_equal(
	    xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, XPXE_CNT_DHCP_PROXY_TO_TC),
	    XDP_PASS);
	assert_int_equal(
	    tc_run_counted(skel, in, len, out, sizeof(out), &out_len, XPXE_CNT_DHCP_OFFER),
	    TC_ACT_REDIRECT);
	assert_int_equal(stack_copy(copy, sizeof(copy), 2000), (int)len);
	assert_memory_equal(copy, in, len);
	assert_int_equal(out[14], 0x45);
	assert_int_equal(out[42], 2);			/* BOOTREPLY */
	assert_memory_equal(out + 42 + 4, bp + 4, 4);	/* xid */
	assert_memory_equal(out + 42 + 28, bp + 28, 6); /* chaddr */
}

int main(void)
{
	enum { N_CASES = sizeof(cases) / sizeof(cases[0]), N_FIXED = 5 };
	struct CMUnitTest tests[N_CASES + N_FIXED] = {
		cmocka_unit_test(test_off_passes_everything),
		cmocka_unit_test(test_rerun_scratch_is_its_own),
		cmocka_unit_test(test_tc_marked_copy),
		cmocka_unit_test(test_tc_copy_mark_rewritten),
		cmocka_unit_test(test_tc_ip_options),
	};

	for (int i = 0; i < N_CASES; i++) {
		tests[i + N_FIXED] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = run_case,
			.initial_state = (void *)&cases[i],
		};
	}
	return _cmocka_run_group_tests("xdp_dhcp", tests, N_CASES + N_FIXED, setup, teardown);
}
