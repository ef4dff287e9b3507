// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pxe checks the UDP checksum of every TFTP frame it acts on (bpf/udp_csum.h), run by
 * the kernel (bpf_prog_test_run_opts) on frames built here with real checksums, then with a
 * bit flipped in flight: an ACK or ERROR of a transfer is dropped (passed, tc_tftp would
 * answer it) with its session untouched, an RRQ or WRQ passed unanswered (the stack drops
 * it), each counted. Odd lengths, the in-packet sum of short datagrams and the helper's of
 * long ones are covered; a checksum of 0 (none sent) is taken as it is, and so is the seed a
 * sender with checksum offload leaves (CHECKSUM_PARTIAL). DHCP's checks are
 * cases of test_xdp_dhcp.c.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "tftp_entry.h"
#include "assets.h"
#include "counters.h"
#include "frames.h"
#include "test_assets.h"
#include "xdp_run.h"
#include "xpxe_tftp.h"

#define CLIENT_IP   htonl(0xc6120064) /* 198.18.0.100 */
#define SERVER_IP   htonl(0xc6120001) /* 198.18.0.1 */
#define CLIENT_PORT 1554
#define ASSET_SIZE  100000

static struct xpxe_bpf *skel;
static struct xpxe_assets assets;
static uint8_t *content;
static uint32_t asset_slot;

static int setup(void **state)
{
	(void)state;
	skel = tftp_entry_open_and_load();
	if (!skel) {
		fprintf(stderr, "# cannot load xpxe.bpf.o (needs root and a BPF-capable kernel)\n");
		return -1;
	}
	xpxe_assets_init(&assets);
	content = test_asset_content(ASSET_SIZE, 0x1234567u);
	if (xpxe_assets_add_outer(&assets, bpf_map__fd(skel->maps.tftp_assets)) ||
	    test_asset_load(&assets, "asset", content, ASSET_SIZE, &asset_slot)) {
		fprintf(stderr, "# cannot load the test asset\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xpxe_assets_free(&assets);
	xpxe_bpf__destroy(skel);
	free(content);
	return 0;
}

static struct xpxe_tftp_key session_key(uint16_t server_port)
{
	struct xpxe_tftp_key key = {
		.client_ip = CLIENT_IP,
		.client_port = htons(CLIENT_PORT),
		.server_port = htons(server_port),
	};

	return key;
}

/* A transfer at blksize 512 whose block LAST_BLOCK went out long ago (an ACK of it is due). */
static void put_session(uint16_t server_port, uint32_t last_block)
{
	struct xpxe_tftp_key key = session_key(server_port);
	struct xpxe_tftp_session s = {
		.size = ASSET_SIZE,
		.asset_slot = asset_slot,
		.blksize = 512,
		.last_block = last_block,
		.win_base = last_block ? last_block - 1 : 0,
		.final_block = ASSET_SIZE / 512 + 1,
		.state = XPXE_TFTP_ACTIVE,
	};

	assert_int_equal(
	    tftp_entry_update(bpf_map__fd(skel->maps.tftp_sessions), &key, &s, BPF_ANY), 0);
}

static struct xpxe_tftp_session get_session(uint16_t server_port)
{
	struct xpxe_tftp_key key = session_key(server_port);
	struct xpxe_tftp_session s;

	assert_int_equal(tftp_entry_lookup(bpf_map__fd(skel->maps.tftp_sessions), &key, &s), 0);
	return s;
}

/* A frame from the client to SERVER_PORT carrying PAYLOAD, its checksums right. */
static size_t from_client(uint8_t *buf, uint16_t server_port, const void *payload, size_t plen)
{
	return frame_udp(buf, CLIENT_IP, SERVER_IP, CLIENT_PORT, server_port, payload, plen);
}

static size_t ack(uint8_t *buf, uint16_t server_port, uint16_t block)
{
	const uint8_t a[4] = { 0, XPXE_TFTP_ACK, block >> 8, block & 0xff };

	return from_client(buf, server_port, a, sizeof(a));
}

static struct udphdr *udp_of(uint8_t *buf)
{
	return (struct udphdr *)(frame_iph(buf) + 1);
}

/* Runs FRAME through xdp_pxe: VERDICT and OUTCOME, and a frame not answered left as it came. */
static void expect(const uint8_t *frame, size_t len, int verdict, enum xpxe_counter outcome)
{
	uint8_t out[FRAME_MAX + 512];
	__u32 out_len;

	assert_int_equal(xdp_run_counted(skel, frame, len, out, sizeof(out), &out_len, outcome),
			 verdict);
	if (verdict != XDP_TX) {
		assert_int_equal(out_len, len);
		assert_memory_equal(out, frame, len);
	}
}

/* Runs ACK (of block BLOCK - 1) through xdp_pxe: DATA BLOCK must come back, counted data_xdp. */
static void expect_data(const uint8_t *ack_frame, size_t len, uint16_t block)
{
	int fd = bpf_map__fd(skel->maps.counters);
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX];
	uint8_t out[FRAME_MAX + 512];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = ack_frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(xpxe_counters_read(fd, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_pxe), &opts), 0);
	assert_int_equal(xpxe_counters_read(fd, after), 0);
	assert_int_equal(opts.retval, XDP_TX);
	assert_int_equal(after[XPXE_CNT_TFTP_DATA_XDP] - before[XPXE_CNT_TFTP_DATA_XDP], 1);
	assert_int_equal(after[XPXE_CNT_DROP_BAD_UDP_CSUM], before[XPXE_CNT_DROP_BAD_UDP_CSUM]);
	assert_int_equal(opts.data_size_out, XPXE_TFTP_HDRS_LEN + 512);
	assert_int_equal(out[XPXE_TFTP_HDRS_LEN - 3], XPXE_TFTP_DATA);
	assert_int_equal(out[XPXE_TFTP_HDRS_LEN - 2] << 8 | out[XPXE_TFTP_HDRS_LEN - 1], block);
	assert_memory_equal(out + XPXE_TFTP_HDRS_LEN, content + (block - 1) * 512, 512);
}

/* An ACK with a bit flipped (its block number) is dropped and the transfer stays where it was;
 * intact, or with no checksum at all, it gets its DATA. */
static void test_ack(void **state)
{
	uint8_t in[FRAME_MAX];
	size_t len;

	(void)state;
	skel->bss->tftp_xdp_no_room = 0;
	put_session(44000, 3);
	len = ack(in, 44000, 3);
	in[len - 1] ^= 0x04; /* ACK 7: a block not sent yet, stale were it believed */
	expect(in, len, XDP_DROP, XPXE_CNT_DROP_BAD_UDP_CSUM);
	assert_int_equal(get_session(44000).last_block, 3);
	len = ack(in, 44000, 3);
	udp_of(in)->check ^= htons(0x0100); /* the checksum itself damaged */
	expect(in, len, XDP_DROP, XPXE_CNT_DROP_BAD_UDP_CSUM);
	assert_int_equal(get_session(44000).last_block, 3);
	expect_data(in, ack(in, 44000, 3), 4);
	assert_int_equal(get_session(44000).last_block, 4);
	put_session(44000, 4);
	len = ack(in, 44000, 4);
	udp_of(in)->check = 0;
	expect_data(in, len, 5);
}

/* Where XDP hands ACKs to tc (no room to grow them), a corrupted one is dropped before. */
static void test_ack_left_to_tc(void **state)
{
	uint8_t in[FRAME_MAX];
	size_t len;

	(void)state;
	skel->bss->tftp_xdp_no_room = 1;
	put_session(44001, 3);
	len = ack(in, 44001, 3);
	in[len - 2] ^= 0x80;
	expect(in, len, XDP_DROP, XPXE_CNT_DROP_BAD_UDP_CSUM);
	expect(in, ack(in, 44001, 3), XDP_PASS, XPXE_CNT_TFTP_ACK_TO_TC);
	skel->bss->tftp_xdp_no_room = 0;
}

/*
 * A client's ERROR ends its transfer: a corrupted one must not. Odd lengths: 13 bytes of UDP
 * (summed in the packet), then a message of 700 bytes (copied and summed in two helper calls).
 */
static void test_error(void **state)
{
	static char long_err[4 + 700 + 1];
	static const char short_err[] = "\0\5\0\0"; /* code 0, an empty message: 5 bytes */
	const struct {
		const char *payload;
		size_t len;
	} errors[] = { { short_err, sizeof(short_err) }, { long_err, sizeof(long_err) } };
	uint8_t in[FRAME_MAX];

	(void)state;
	memcpy(long_err, "\0\5\0\0", 4);
	memset(long_err + 4, 'x', 700);
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		size_t len = from_client(in, 44002, errors[i].payload, errors[i].len);

		assert_int_equal(len % 2, 1);
		put_session(44002, 3);
		in[len - 1] ^= 0x01; /* the last, odd byte */
		expect(in, len, XDP_DROP, XPXE_CNT_DROP_BAD_UDP_CSUM);
		assert_int_equal(get_session(44002).state, XPXE_TFTP_ACTIVE);
		in[len - 1] ^= 0x01;
		expect(in, len, XDP_DROP, XPXE_CNT_TFTP_SESSIONS_ABORTED);
		assert_int_equal(get_session(44002).state, XPXE_TFTP_ABORTED);
	}
}

/* A corrupted WRQ gets no ERROR from XDP; a corrupted RRQ leaves no MAC noted for the daemon. */
static void test_requests(void **state)
{
	static const char wrq[] = "\0\2boot.img\0octet";
	static const char rrq[] = "\0\1undionly.kpxe\0octet\0blksize\0001468"; /* 39 bytes */
	struct xpxe_tftp_key key = { .client_ip = CLIENT_IP, .client_port = htons(CLIENT_PORT) };
	int macs_fd = bpf_map__fd(skel->maps.tftp_rrq_macs);
	struct xpxe_tftp_rrq_mac mac;
	uint8_t in[FRAME_MAX];
	size_t len;

	(void)state;
	len = from_client(in, 69, wrq, sizeof(wrq));
	in[len - 3] ^= 0x20;
	expect(in, len, XDP_PASS, XPXE_CNT_PASS_BAD_UDP_CSUM);
	expect(in, from_client(in, 69, wrq, sizeof(wrq)), XDP_TX, XPXE_CNT_TFTP_WRQ_REFUSED);

	bpf_map_delete_elem(macs_fd, &key);
	len = from_client(in, 69, rrq, sizeof(rrq));
	in[45] ^= 0x01; /* a letter of the file name */
	expect(in, len, XDP_PASS, XPXE_CNT_PASS_BAD_UDP_CSUM);
	assert_int_not_equal(bpf_map_lookup_elem(macs_fd, &key, &mac), 0);
	expect(in, from_client(in, 69, rrq, sizeof(rrq)), XDP_PASS, XPXE_CNT_PASS_TFTP);
	assert_int_equal(bpf_map_lookup_elem(macs_fd, &key, &mac), 0);
}

/*
 * Frames from a sender with tx checksum offload (a veth or tap peer, a VM's virtio-net) carry
 * only the pseudo-header's seed: nothing computed a checksum, so they are taken as "none",
 * not dropped as corrupted. An ACK (summed in the packet), a long ERROR (summed by the
 * helper), an RRQ; a seed one off is still a damaged checksum.
 */
static void test_offload_seed(void **state)
{
	static char long_err[4 + 700 + 1];
	static const char rrq[] = "\0\1undionly.kpxe\0octet\0blksize\0001468";
	struct xpxe_tftp_key key = { .client_ip = CLIENT_IP, .client_port = htons(CLIENT_PORT) };
	int macs_fd = bpf_map__fd(skel->maps.tftp_rrq_macs);
	struct xpxe_tftp_rrq_mac mac;
	uint8_t in[FRAME_MAX];
	size_t len;

	(void)state;
	skel->bss->tftp_xdp_no_room = 0;
	put_session(44003, 3);
	len = ack(in, 44003, 3);
	frame_udp_offload_seed(in);
	udp_of(in)->check ^= htons(0x0001);
	expect(in, len, XDP_DROP, XPXE_CNT_DROP_BAD_UDP_CSUM);
	assert_int_equal(get_session(44003).last_block, 3);
	frame_udp_offload_seed(in);
	expect_data(in, len, 4);

	memcpy(long_err, "\0\5\0\0", 4);
	memset(long_err + 4, 'y', 700);
	put_session(44004, 3);
	len = from_client(in, 44004, long_err, sizeof(long_err));
	frame_udp_offload_seed(in);
	expect(in, len, XDP_DROP, XPXE_CNT_TFTP_SESSIONS_ABORTED);
	assert_int_equal(get_session(44004).state, XPXE_TFTP_ABORTED);

	bpf_map_delete_elem(macs_fd, &key);
	len = from_client(in, 69, rrq, sizeof(rrq));
	frame_udp_offload_seed(in);
	expect(in, len, XDP_PASS, XPXE_CNT_PASS_TFTP);
	assert_int_equal(bpf_map_lookup_elem(macs_fd, &key, &mac), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack),	     cmocka_unit_test(test_ack_left_to_tc),
		cmocka_unit_test(test_error),	     cmocka_unit_test(test_requests),
		cmocka_unit_test(test_offload_seed),
	};

	return cmocka_run_group_tests_name("xdp_udp_csum", tests, setup, teardown);
}
