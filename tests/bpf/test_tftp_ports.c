// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tftp_sessions by server port (include/xpxe_tftp.h): the programs find an ACK's transfer
 * at index (its destination port - the range's low port) and answer it only when that entry
 * is this very transfer: the client's address, its port and the server port all the ACK's.
 * On the real programs, loaded with the range 40000-56383 (tests/bpf/tftp_entry.h): an ACK
 * of the transfer gets its DATA from XDP and from tc; the same ACK from another address or
 * another client port to that server port, or to a port below or above the range, passes
 * (pass_other_port, tc_tftp_pass), and the session is left as it was. A stale entry (a port
 * of another range written at that index) answers nothing either.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "tftp_entry.h"
#include "assets.h"
#include "frames.h"
#include "xdp_run.h"
#include "xpxe_tftp.h"

#define CLIENT_IP   htonl(0xc6120064) /* 198.18.0.100 */
#define OTHER_IP    htonl(0xc6120065) /* 198.18.0.101 */
#define SERVER_IP   htonl(0xc6120001) /* 198.18.0.1 */
#define CLIENT_PORT 1554
#define ASSET_SIZE  (1u << 20)
#define BLKSIZE	    1468
#define PORT	    (TEST_TFTP_PORT_LOW + 100)
#define PORT_HIGH   (TEST_TFTP_PORT_LOW + XPXE_TFTP_PORTS_MAX - 1) /* the range's last */

static struct xpxe_bpf *skel;
static struct xpxe_assets assets;
static uint32_t slot;

static int setup(void **state)
{
	char path[] = "/tmp/xpxe-test-ports.XXXXXX";
	int fd, err, lo;

	(void)state;
	lo = tc_test_netns(); /* tc_tftp's copies for the stack land here */
	if (lo < 0)
		return -1;
	close(lo);
	skel = tftp_entry_open_and_load();
	if (!skel) {
		fprintf(stderr, "# cannot load xpxe.bpf.o (needs root and a BPF-capable kernel)\n");
		return -1;
	}
	xpxe_assets_init(&assets);
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, ASSET_SIZE))
		return -1;
	close(fd);
	err = xpxe_assets_add_outer(&assets, bpf_map__fd(skel->maps.tftp_assets));
	err = err ? err : xpxe_assets_load(&assets, "f", path);
	unlink(path);
	if (err)
		return -1;
	slot = xpxe_assets_find(&assets, "f")->slot;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xpxe_assets_free(&assets);
	xpxe_bpf__destroy(skel);
	return 0;
}

static struct xpxe_tftp_session session(void)
{
	return (struct xpxe_tftp_session){ .size = ASSET_SIZE,
					   .asset_slot = slot,
					   .blksize = BLKSIZE,
					   .final_block = ASSET_SIZE / BLKSIZE + 1,
					   .last_block = 0, /* the OACK went out */
					   .owner = { 1 },
					   .state = XPXE_TFTP_ACTIVE };
}

/* Writes the entry at index IDX as it is: KEY (maybe not of that index's port) and a session. */
static void put_raw(__u32 idx, struct xpxe_tftp_key key)
{
	struct xpxe_tftp_entry e = { .key = key, .s = session() };

	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.tftp_sessions), &idx, &e, BPF_ANY), 0);
}

static __u32 index_of(uint16_t port)
{
	return (__u32)(port - TEST_TFTP_PORT_LOW);
}

static struct xpxe_tftp_key key_of(__be32 ip, uint16_t client_port, uint16_t server_port)
{
	return (struct xpxe_tftp_key){ .client_ip = ip,
				       .client_port = htons(client_port),
				       .server_port = htons(server_port) };
}

static struct xpxe_tftp_entry entry_at(__u32 idx)
{
	struct xpxe_tftp_entry e;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.tftp_sessions), &idx, &e), 0);
	return e;
}

/* ACK 0 from IP:CLIENT_PORT to SERVER_PORT, through XDP (TC false) or tc: passes, counted. */
static void passes(bool tc, __be32 ip, uint16_t client_port, uint16_t server_port)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	uint8_t p[4] = { 0, XPXE_TFTP_ACK, 0, 0 };
	size_t len = frame_udp(in, ip, SERVER_IP, client_port, server_port, p, sizeof(p));
	int verdict;

	if (tc)
		verdict =
		    tc_run_counted(skel, in, len, out, sizeof(out), NULL, XPXE_CNT_TFTP_TC_PASS);
	else
		verdict = xdp_run_counted(skel, in, len, out, sizeof(out), NULL,
					  XPXE_CNT_PASS_OTHER_PORT);
	if (verdict != (tc ? TC_ACT_OK : XDP_PASS))
		fail_msg("%s: ACK from %08x:%u to port %u answered (verdict %d), not passed",
			 tc ? "tc" : "XDP", ntohl(ip), client_port, server_port, verdict);
}

/* The transfer's own ACK 0: DATA 1, from XDP or tc. */
static void answered(bool tc, uint16_t server_port)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	uint8_t p[4] = { 0, XPXE_TFTP_ACK, 0, 0 };
	size_t len = frame_udp(in, CLIENT_IP, SERVER_IP, CLIENT_PORT, server_port, p, sizeof(p));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	struct bpf_program *prog = tc ? skel->progs.tc_tftp : skel->progs.xdp_pxe;

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &opts), 0);
	if ((int)opts.retval != (tc ? TC_ACT_REDIRECT : XDP_TX))
		fail_msg("%s: the transfer's ACK on port %u got verdict %d", tc ? "tc" : "XDP",
			 server_port, opts.retval);
	assert_int_equal(opts.data_size_out, XPXE_TFTP_HDRS_LEN + BLKSIZE);
	assert_int_equal(entry_at(index_of(server_port)).s.last_block, 1);
}

static void test_own_ack_answered(void **state)
{
	(void)state;
	for (int tc = 0; tc < 2; tc++) {
		put_raw(index_of(PORT), key_of(CLIENT_IP, CLIENT_PORT, PORT));
		answered(tc, PORT);
		/* The range's first and last ports are its own too. */
		put_raw(0, key_of(CLIENT_IP, CLIENT_PORT, TEST_TFTP_PORT_LOW));
		answered(tc, TEST_TFTP_PORT_LOW);
		put_raw(index_of(PORT_HIGH), key_of(CLIENT_IP, CLIENT_PORT, PORT_HIGH));
		answered(tc, PORT_HIGH);
	}
}

static void test_other_client_passes(void **state)
{
	(void)state;
	for (int tc = 0; tc < 2; tc++) {
		put_raw(index_of(PORT), key_of(CLIENT_IP, CLIENT_PORT, PORT));
		passes(tc, OTHER_IP, CLIENT_PORT, PORT);      /* another machine */
		passes(tc, CLIENT_IP, CLIENT_PORT + 1, PORT); /* the same, another port */
		assert_int_equal(entry_at(index_of(PORT)).s.last_block, 0); /* untouched */
		/* An empty entry (the daemon's cleared one): all zero, nobody's. */
		put_raw(index_of(PORT), (struct xpxe_tftp_key){ 0 });
		passes(tc, CLIENT_IP, CLIENT_PORT, PORT);
	}
}

static void test_outside_range_passes(void **state)
{
	(void)state;
	for (int tc = 0; tc < 2; tc++) {
		/*
		 * Entries for the client at every index a wrong index could pick for the ports
		 * around the range: below it (39999: wraps to the last index, or index 0 with
		 * a 14-bit mask), and above it (56384: one past the last, or index 0 again).
		 */
		put_raw(0, key_of(CLIENT_IP, CLIENT_PORT, TEST_TFTP_PORT_LOW - 1));
		put_raw(index_of(PORT_HIGH), key_of(CLIENT_IP, CLIENT_PORT, PORT_HIGH + 1));
		passes(tc, CLIENT_IP, CLIENT_PORT, TEST_TFTP_PORT_LOW - 1);
		passes(tc, CLIENT_IP, CLIENT_PORT, PORT_HIGH + 1);
		passes(tc, CLIENT_IP, CLIENT_PORT, 69 + 1000);
		/* A stale entry: a transfer of another range at this index is not this port's. */
		put_raw(index_of(PORT), key_of(CLIENT_IP, CLIENT_PORT, PORT + 4096));
		passes(tc, CLIENT_IP, CLIENT_PORT, PORT);
		passes(tc, CLIENT_IP, CLIENT_PORT, PORT + 4096);
		assert_int_equal(entry_at(index_of(PORT)).s.last_block, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_ack_answered),
		cmocka_unit_test(test_other_client_passes),
		cmocka_unit_test(test_outside_range_passes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
