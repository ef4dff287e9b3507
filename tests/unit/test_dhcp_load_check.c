// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The DHCP load generator's reply checker (scripts/bench/dhcp_load.h): a benchmark's figure is
 * only as good as the replies it counts, so a well-formed reply passes and every kind of broken
 * one it is fed is flagged, with the reason, never counted as answered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../scripts/bench/dhcp_load.h"

static const uint8_t client_mac[ETH_ALEN] = { 0x52, 0x54, 0x02, 0x00, 0x01, 0x02 };

/* A request as the generator sends it: TYPE from client_mac through relay 198.18.64.1. */
static size_t request(uint8_t *buf, uint8_t type)
{
	struct dl_request q = {
		.src_mac = { 0x02, 0, 0, 0, 0, 0x0b },
		.dst_mac = { 0x02, 0, 0, 0, 0, 0x01 },
		.relay_ip = htonl(0xc6124001),
		.server_ip = htonl(0xc6120001),
		.xid = htonl(0x01000007),
		.type = type,
		.cls = DL_UEFI64,
	};

	memcpy(q.chaddr, client_mac, ETH_ALEN);
	return dl_build_request(buf, &q);
}

/* Recomputes the IP and UDP checksums of a frame built by request() and then changed. */
static void resum(uint8_t *f)
{
	uint8_t *ip = f + XPXE_OFF_IP, *udp = f + XPXE_OFF_UDP;
	uint16_t c;

	ip[10] = ip[11] = 0;
	dl_put16(ip + 10, ~dl_fold(dl_sum(0, ip, 20)));
	udp[6] = udp[7] = 0;
	c = ~dl_udp_sum(ip, udp, 8 + DL_BOOTP_LEN);
	dl_put16(udp + 6, c ? c : 0xffff);
}

/* The reply a server would send to request(TYPE): op 2, an address, 53 and 54, a boot file. */
static size_t reply(uint8_t *f, uint8_t type)
{
	size_t len = request(f, 1);
	uint8_t *bp = f + XPXE_OFF_BOOTP, *o = f + XPXE_OFF_OPTIONS;

	bp[0] = 2;
	bp[16] = 198, bp[17] = 18, bp[18] = 64, bp[19] = 10;
	memcpy(bp + 108, "undionly.kpxe", 14);
	o[2] = type;
	o[3] = 54, o[4] = 4, o[5] = 198, o[6] = 18, o[7] = 0, o[8] = 1;
	resum(f);
	return len;
}

static void test_good_reply_passes(void **state)
{
	uint8_t f[DL_FRAME_LEN];
	struct dl_reply r;
	size_t len = reply(f, DL_OFFER);

	(void)state;
	assert_int_equal(dl_check_reply(f, len, &r), DL_OK);
	assert_int_equal(r.type, DL_OFFER);
	assert_int_equal(ntohl(r.yiaddr), 0xc612400a);
	assert_int_equal(ntohl(r.server_id), 0xc6120001);
	assert_int_equal(ntohl(r.xid), 0x01000007);
	assert_memory_equal(r.chaddr, client_mac, ETH_ALEN);
	assert_true(r.boot_file);
	assert_string_equal(r.vendor, "PXEClient:Arch:"); /* cut to the buffer, terminated */
}

/* A request is no reply; ARP or another port's UDP is not DHCP at all. */
static void test_requests_and_other_traffic(void **state)
{
	uint8_t f[DL_FRAME_LEN];
	struct dl_reply r;
	size_t len = request(f, DL_DISCOVER);

	(void)state;
	assert_int_equal(dl_check_reply(f, len, &r), DL_MALFORMED);
	assert_string_equal(r.problem, "BOOTP op/htype/hlen");
	f[XPXE_OFF_UDP + 1] = 53; /* from port 53 */
	assert_int_equal(dl_check_reply(f, len, &r), DL_OTHER);
	f[12] = 0x08, f[13] = 0x06; /* ARP */
	assert_int_equal(dl_check_reply(f, len, &r), DL_OTHER);
}

/* Each way of breaking a reply is caught, and says which. */
static void test_broken_replies_flagged(void **state)
{
	static const struct {
		const char *problem;
		size_t off;
		uint8_t value;
		bool resum;
	} cases[] = {
		{ "UDP checksum", XPXE_OFF_BOOTP + 20, 0x42, false }, /* a payload bit flipped */
		{ "IP checksum", XPXE_OFF_IP + 8, 1, false },	      /* TTL changed, sum not */
		{ "BOOTP op/htype/hlen", XPXE_OFF_BOOTP + 2, 8, true },
		{ "magic cookie", XPXE_OFF_BOOTP + 236, 0, true },
		{ "option 53", XPXE_OFF_OPTIONS + 1, 2, true },
		{ "IP fragment", XPXE_OFF_IP + 6, 0x20, true },
	};
	uint8_t f[DL_FRAME_LEN];
	struct dl_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = reply(f, DL_ACK);

		f[cases[i].off] = cases[i].value;
		if (cases[i].resum)
			resum(f);
		assert_int_equal(dl_check_reply(f, len, &r), DL_MALFORMED);
		assert_string_equal(r.problem, cases[i].problem);
	}
}

static void test_lengths_and_options_bounded(void **state)
{
	uint8_t f[DL_FRAME_LEN];
	struct dl_reply r;
	size_t len = reply(f, DL_ACK);
	uint8_t *o = f + XPXE_OFF_OPTIONS;

	(void)state;
	/* Cut short on the wire: the IP length says more than came. */
	assert_int_equal(dl_check_reply(f, len - 1, &r), DL_MALFORMED);
	assert_string_equal(r.problem, "IP length");
	/* No UDP checksum: allowed by RFC 768, never sent by a server worth measuring. */
	f[XPXE_OFF_UDP + 6] = f[XPXE_OFF_UDP + 7] = 0;
	assert_int_equal(dl_check_reply(f, len, &r), DL_MALFORMED);
	assert_string_equal(r.problem, "no UDP checksum");
	/* An option whose length runs past the message. */
	reply(f, DL_ACK);
	memset(o + 9, 0, DL_BOOTP_LEN - 240 - 9);
	o[DL_BOOTP_LEN - 240 - 2] = 60, o[DL_BOOTP_LEN - 240 - 1] = 8;
	resum(f);
	assert_int_equal(dl_check_reply(f, len, &r), DL_MALFORMED);
	assert_string_equal(r.problem, "option past the message");
	/* No end option: pads to the end. */
	reply(f, DL_ACK);
	memset(o + 9, 0, DL_BOOTP_LEN - 240 - 9);
	resum(f);
	assert_int_equal(dl_check_reply(f, len, &r), DL_MALFORMED);
	assert_string_equal(r.problem, "no end option");
	/* No message type. */
	reply(f, DL_ACK);
	o[0] = 0, o[1] = 0, o[2] = 0;
	resum(f);
	assert_int_equal(dl_check_reply(f, len, &r), DL_MALFORMED);
	assert_string_equal(r.problem, "no message type");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_reply_passes),
		cmocka_unit_test(test_requests_and_other_traffic),
		cmocka_unit_test(test_broken_replies_flagged),
		cmocka_unit_test(test_lengths_and_options_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
