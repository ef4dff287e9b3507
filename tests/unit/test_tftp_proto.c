// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's half of TFTP as pure functions: requests as real clients send
 * them (the first two from OVMF, ../shared/captures/ovmf-pxe-full-tftp.pcap)
 * and hostile ones, each with the ERROR code it must get or the OACK bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "assets.h"
#include "tftp/proto.h"

/* A request written as a C string literal: the length excludes the literal's own NUL. */
#define REQ(s) s, sizeof(s) - 1

struct request_case {
	const char *name;
	const char *bytes;
	size_t len;
	int code;	   /* the ERROR expected; -2: accepted */
	const char *asset; /* when accepted: the name it resolves to */
	const char *oack;  /* when accepted: the OACK for a 173792-byte asset, MTU 1500, */
	size_t oack_len;   /* windows of up to 16 blocks; 0: no OACK, DATA 1 answers */
	unsigned blksize;
	unsigned windowsize; /* 0: 1 */
};

#define ACCEPTED -2
#define REFUSE(n, s, c)                                                      \
	{                                                                    \
		.name = (n), .bytes = (s), .len = sizeof(s) - 1, .code = (c) \
	}

static const struct request_case cases[] = {
	{ "OVMF size probe: tsize, blksize, windowsize",
	  REQ("\0\1snponly.efi\0octet\0tsize\0000\0blksize\0001468\0windowsize\0004\0"), ACCEPTED,
	  "snponly.efi", REQ("\0\6tsize\000173792\0blksize\0001468\0windowsize\0004\0"), 1468, 4 },
	{ "OVMF download: blksize, windowsize",
	  REQ("\0\1snponly.efi\0octet\0blksize\0001468\0windowsize\0004\0"), ACCEPTED,
	  "snponly.efi", REQ("\0\6blksize\0001468\0windowsize\0004\0"), 1468, 4 },
	{ "windowsize above the maximum is clamped", REQ("\0\1a\0octet\0windowsize\00064\0"),
	  ACCEPTED, "a", REQ("\0\6windowsize\00016\0"), 512, 16 },
	{ "windowsize 1 is accepted as it is", REQ("\0\1a\0octet\0WindowSize\0001\0"), ACCEPTED,
	  "a", REQ("\0\6windowsize\0001\0"), 512, 1 },
	{ "windowsize 65535 is the most", REQ("\0\1a\0octet\0windowsize\00065535\0"), ACCEPTED, "a",
	  REQ("\0\6windowsize\00016\0"), 512, 16 },
	{ "no options: DATA 1 at 512", REQ("\0\1undionly.kpxe\0octet\0"), ACCEPTED, "undionly.kpxe",
	  NULL, 0, 512, 1 },
	{ "mode and option names in any case", REQ("\0\1a\0OcTeT\0BLKSIZE\0001024\0"), ACCEPTED,
	  "a", REQ("\0\6blksize\0001024\0"), 1024, 1 },
	{ "blksize above the MTU is clamped", REQ("\0\1a\0octet\0blksize\00065464\0"), ACCEPTED,
	  "a", REQ("\0\6blksize\0001468\0"), 1468, 1 },
	{ "blksize 8 is the least", REQ("\0\1a\0octet\0blksize\0008\0"), ACCEPTED, "a",
	  REQ("\0\6blksize\0008\0"), 8, 1 },
	{ "timeout echoed", REQ("\0\1a\0octet\0timeout\0003\0"), ACCEPTED, "a",
	  REQ("\0\6timeout\0003\0"), 512, 1 },
	{ "timeout 10, the most granted, echoed", REQ("\0\1a\0octet\0timeout\00010\0"), ACCEPTED,
	  "a", REQ("\0\6timeout\00010\0"), 512, 1 },
	{ "timeout 11 declined: left out, so no OACK", REQ("\0\1a\0octet\0timeout\00011\0"),
	  ACCEPTED, "a", NULL, 0, 512, 1 },
	{ "timeout 255 declined, the other options answered",
	  REQ("\0\1a\0octet\0timeout\000255\0blksize\0001468\0tsize\0000\0"), ACCEPTED, "a",
	  REQ("\0\6blksize\0001468\0tsize\000173792\0"), 1468, 1 },
	{ "unknown options left out", REQ("\0\1a\0octet\0multicast\0\0rollover\0000\0"), ACCEPTED,
	  "a", NULL, 0, 512, 1 },
	{ "a leading slash is dropped", REQ("\0\1/undionly.kpxe\0octet\0"), ACCEPTED,
	  "undionly.kpxe", NULL, 0, 512, 1 },
	{ "several leading slashes too", REQ("\0\1///boot/x\0octet\0"), ACCEPTED, "boot/x", NULL, 0,
	  512, 1 },
	{ "NUL padding after the options", REQ("\0\1a\0octet\0\0\0\0"), ACCEPTED, "a", NULL, 0, 512,
	  1 },
	{ "case is kept: no folding", REQ("\0\1UNDIONLY.KPXE\0octet\0"), ACCEPTED, "UNDIONLY.KPXE",
	  NULL, 0, 512, 1 },
	REFUSE("WRQ: read-only", "\0\2a\0octet\0", 4),
	REFUSE("DATA to port 69", "\0\3\0\1xxxx", 4),
	REFUSE("unknown opcode", "\0\11a\0octet\0", 4),
	REFUSE("an ERROR gets nothing", "\0\5\0\1x\0", -1),
	REFUSE("an ACK gets nothing", "\0\4\0\1", -1),
	REFUSE("one byte", "\1", 4),
	REFUSE("no NUL after the name", "\0\1undionly.kpxe", 4),
	REFUSE("no mode", "\0\1a\0", 4),
	REFUSE("no NUL after the mode", "\0\1a\0octet", 4),
	REFUSE("netascii is not served", "\0\1a\0netascii\0", 0),
	REFUSE("mail is not served", "\0\1a\0mail\0", 0),
	REFUSE("unknown mode", "\0\1a\0binary\0", 4),
	REFUSE("NUL inside the name: the rest is the mode", "\0\1a\0../../etc/passwd\0octet\0", 4),
	REFUSE("'..' climbing out", "\0\1../etc/passwd\0octet\0", 2),
	REFUSE("'..' in the middle", "\0\1boot/../../x\0octet\0", 2),
	REFUSE("'..' with backslashes", "\0\1..\\..\\x\0octet\0", 2),
	REFUSE("'..' as the whole name", "\0\1..\0octet\0", 2),
	REFUSE("'..' after slashes", "\0\1/..\0octet\0", 2),
	REFUSE("empty name", "\0\1\0octet\0", 1),
	REFUSE("only slashes", "\0\1///\0octet\0", 1),
	REFUSE("blksize 7", "\0\1a\0octet\0blksize\0007\0", 8),
	REFUSE("blksize 65465", "\0\1a\0octet\0blksize\00065465\0", 8),
	REFUSE("blksize not a number", "\0\1a\0octet\0blksize\0big\0", 8),
	REFUSE("blksize with a sign", "\0\1a\0octet\0blksize\0+512\0", 8),
	REFUSE("blksize empty", "\0\1a\0octet\0blksize\0\0", 8),
	REFUSE("timeout 0", "\0\1a\0octet\0timeout\0000\0", 8),
	REFUSE("timeout 256", "\0\1a\0octet\0timeout\000256\0", 8),
	REFUSE("tsize not a number", "\0\1a\0octet\0tsize\0-1\0", 8),
	REFUSE("windowsize 0", "\0\1a\0octet\0windowsize\0000\0", 8),
	REFUSE("windowsize 65536", "\0\1a\0octet\0windowsize\00065536\0", 8),
	REFUSE("windowsize not a number", "\0\1a\0octet\0windowsize\0many\0", 8),
	REFUSE("an option given twice", "\0\1a\0octet\0blksize\000512\0BlkSize\0001024\0", 8),
	REFUSE("an option without a value", "\0\1a\0octet\0blksize\0", 8),
	REFUSE("an option without its NUL", "\0\1a\0octet\0blksize\0001468", 8),
};

static void run_case(void **state)
{
	const struct request_case *c = *state;
	struct xpxe_tftp_request req;
	struct xpxe_tftp_refusal why;
	struct xpxe_tftp_plan plan;
	int rc = xpxe_tftp_parse_request(c->bytes, c->len, &req, &why);

	if (c->code != ACCEPTED) {
		if (rc != -1 || why.code != c->code)
			fail_msg("%s: rc %d, code %d (%s); expected ERROR %d", c->name, rc,
				 why.code, why.message, c->code);
		return;
	}
	if (rc)
		fail_msg("%s: refused with ERROR %d (%s)", c->name, why.code, why.message);
	assert_string_equal(req.name, c->asset);
	xpxe_tftp_negotiate(&req, 173792, xpxe_tftp_blksize_for_mtu(1500), 16, &plan);
	assert_int_equal(plan.blksize, c->blksize);
	assert_int_equal(plan.windowsize, c->windowsize ? c->windowsize : 1);
	assert_int_equal(plan.oack_len, c->oack_len);
	if (c->oack_len)
		assert_memory_equal(plan.oack, c->oack, c->oack_len);
}

/* A name of XPXE_TFTP_NAME_MAX bytes is taken whole; one byte more is refused, never cut. */
static void test_name_length_bound(void **state)
{
	uint8_t rrq[2 + XPXE_TFTP_NAME_MAX + 1 + 1 + 6];
	struct xpxe_tftp_request req;
	struct xpxe_tftp_refusal why;

	(void)state;
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = XPXE_TFTP_NAME_MAX + extra, len = 0;

		rrq[len++] = 0;
		rrq[len++] = 1;
		memset(rrq + len, 'a', n);
		len += n;
		rrq[len++] = 0;
		memcpy(rrq + len, "octet", 6);
		len += 6;
		if (!extra) {
			assert_int_equal(xpxe_tftp_parse_request(rrq, len, &req, &why), 0);
			assert_int_equal(strlen(req.name), XPXE_TFTP_NAME_MAX);
		} else {
			assert_int_equal(xpxe_tftp_parse_request(rrq, len, &req, &why), -1);
			assert_int_equal(why.code, XPXE_TFTP_ERR_NOT_FOUND);
			assert_non_null(strstr(why.message, "name too long"));
		}
	}
}

static void test_tsize_of_an_empty_file_is_left_out(void **state)
{
	static const char rrq[] = "\0\1a\0octet\0tsize\0000\0blksize\0001468\0";
	static const char oack[] = "\0\6blksize\0001468";
	struct xpxe_tftp_request req;
	struct xpxe_tftp_refusal why;
	struct xpxe_tftp_plan plan;

	(void)state;
	assert_int_equal(xpxe_tftp_parse_request(rrq, sizeof(rrq) - 1, &req, &why), 0);
	xpxe_tftp_negotiate(&req, 0, 1468, 16, &plan);
	assert_int_equal(plan.oack_len, sizeof(oack));
	assert_memory_equal(plan.oack, oack, sizeof(oack));
	/* tsize alone: no OACK at all, DATA 1 (empty) answers. */
	assert_int_equal(xpxe_tftp_parse_request(rrq, 18, &req, &why), 0);
	xpxe_tftp_negotiate(&req, 0, 1468, 16, &plan);
	assert_int_equal(plan.oack_len, 0);
}

/* Without AF_XDP (or with --tftp-windowsize-max 1) the option is left out: lockstep. */
static void test_windowsize_left_out_without_windows(void **state)
{
	static const char rrq[] = "\0\1a\0octet\0blksize\0001468\0windowsize\0004\0";
	static const char oack[] = "\0\6blksize\0001468";
	struct xpxe_tftp_request req;
	struct xpxe_tftp_refusal why;
	struct xpxe_tftp_plan plan;

	(void)state;
	assert_int_equal(xpxe_tftp_parse_request(rrq, sizeof(rrq) - 1, &req, &why), 0);
	xpxe_tftp_negotiate(&req, 1000, 1468, 1, &plan);
	assert_int_equal(plan.windowsize, 1);
	assert_int_equal(plan.oack_len, sizeof(oack));
	assert_memory_equal(plan.oack, oack, sizeof(oack));
}

static void test_error_packet(void **state)
{
	static const uint8_t want[] = "\0\5\0\1file not found";
	uint8_t buf[XPXE_TFTP_REPLY_MAX];

	(void)state;
	assert_int_equal(xpxe_tftp_error_packet(buf, 1, "file not found"), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_error_packet_long_message_is_cut(void **state)
{
	char msg[1000];
	uint8_t buf[XPXE_TFTP_REPLY_MAX];
	size_t n;

	(void)state;
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	n = xpxe_tftp_error_packet(buf, 0, msg);
	assert_true(n <= XPXE_TFTP_REPLY_MAX);
	assert_int_equal(buf[n - 1], 0);
}

static void test_blksize_for_mtu(void **state)
{
	(void)state;
	assert_int_equal(xpxe_tftp_blksize_for_mtu(1500), 1468);
	assert_int_equal(xpxe_tftp_blksize_for_mtu(9000), 1468); /* the asset layout's limit */
	assert_int_equal(xpxe_tftp_blksize_for_mtu(1400), 1368);
	assert_int_equal(xpxe_tftp_blksize_for_mtu(68), 36);
	assert_int_equal(xpxe_tftp_blksize_for_mtu(20), 8);
}

static void test_blocks(void **state)
{
	(void)state;
	assert_int_equal(xpxe_tftp_blocks(0, 512), 1);
	assert_int_equal(xpxe_tftp_blocks(511, 512), 1);
	assert_int_equal(xpxe_tftp_blocks(512, 512), 2); /* then an empty block */
	assert_int_equal(xpxe_tftp_blocks(513, 512), 2);
}

static void test_asset_names(void **state)
{
	(void)state;
	assert_true(xpxe_asset_name_valid("undionly.kpxe"));
	assert_true(xpxe_asset_name_valid("talos/v1.9/vmlinuz"));
	assert_true(xpxe_asset_name_valid("a..b"));
	assert_false(xpxe_asset_name_valid(""));
	assert_false(xpxe_asset_name_valid("/vmlinuz"));
	assert_false(xpxe_asset_name_valid("dir/"));
	assert_false(xpxe_asset_name_valid("a//b"));
	assert_false(xpxe_asset_name_valid("../x"));
	assert_false(xpxe_asset_name_valid("a/./b"));
	assert_false(xpxe_asset_name_valid("a\\b"));
	assert_false(xpxe_asset_name_valid("a b"));
	assert_false(xpxe_asset_name_valid("a\tb"));
}

/* The prefix sums the data plane subtracts: check them against a direct sum. */
static void test_chunk_prefix_sums(void **state)
{
	static struct xpxe_tftp_chunk c;
	static uint8_t file[XPXE_TFTP_CHUNK * 2 + 100];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(file); i++) {
		x = x * 1103515245u + 12345u;
		file[i] = x >> 24;
	}
	xpxe_asset_fill_chunk(&c, file, sizeof(file), 1);
	assert_memory_equal(c.data, file + XPXE_TFTP_CHUNK, XPXE_TFTP_CHUNK + 100);
	for (size_t i = XPXE_TFTP_CHUNK + 100; i < XPXE_TFTP_CHUNK_DATA; i++)
		assert_int_equal(c.data[i], 0); /* past the end of the file */
	for (unsigned i = 0; i <= XPXE_TFTP_CHUNK_DATA / XPXE_TFTP_CSUM_STRIDE; i += 97) {
		uint64_t s = 0;

		for (unsigned b = 0; b < i * XPXE_TFTP_CSUM_STRIDE; b += 2)
			s += (uint32_t)c.data[b] << 8 | c.data[b + 1];
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		assert_int_equal(c.csum[i] % 0xffff, s % 0xffff);
	}
}

int main(void)
{
	enum { N_CASES = sizeof(cases) / sizeof(cases[0]) };
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_tsize_of_an_empty_file_is_left_out),
		cmocka_unit_test(test_windowsize_left_out_without_windows),
		cmocka_unit_test(test_error_packet),
		cmocka_unit_test(test_error_packet_long_message_is_cut),
		cmocka_unit_test(test_name_length_bound),
		cmocka_unit_test(test_blksize_for_mtu),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_asset_names),
		cmocka_unit_test(test_chunk_prefix_sums),
	};
	enum { N_FIXED = sizeof(fixed) / sizeof(fixed[0]) };
	static struct CMUnitTest tests[N_CASES + N_FIXED];

	for (int i = 0; i < N_CASES; i++)
		tests[i] = (struct CMUnitTest){ .name = cases[i].name,
						.test_func = run_case,
						.initial_state = (void *)&cases[i] };
	memcpy(tests + N_CASES, fixed, sizeof(fixed));
	return _cmocka_run_group_tests("tftp_proto", tests, N_CASES + N_FIXED, NULL, NULL);
}
