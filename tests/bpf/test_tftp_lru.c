// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The TFTP session map full. tftp_sessions is an LRU hash: when the daemon installs a
 * transfer in a full map, the kernel evicts the entry used least recently. A transfer
 * that runs is looked up by the program at each of its ACKs; a dead one (its client
 * gone) is not. So with the map full of dead sessions and some live ones, new
 * transfers push out dead sessions, never a live one. Here, on the real program and
 * map (shrunk to 4096 entries so the test is quick): 256 live sessions are installed
 * first (the oldest entries), then dead ones up to the map's size, then 2048 new
 * transfers; every live session ACKs after each 64 installs, as a running client does
 * (through tc_tftp, the path the lab takes). An LRU hash evicts before it holds
 * max_entries (free entries wait in per-CPU lists), so eviction starts during the fill. Every live
 * session survives; the evicted ones are all dead ones, and there are as many as the new ones
 * needed room (the daemon counts a transfer whose session left the map as tftp_sessions_expired,
 * see userspace/tftp/tftp.c).
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
#include "assets.h"
#include "frames.h"
#include "xpxe_tftp.h"

#define MAP_SIZE    4096
#define N_LIVE	    256
#define N_NEW	    2048
#define BATCH	    64
#define CLIENT_IP   htonl(0xc6120064) /* 198.18.0.100 */
#define SERVER_IP   htonl(0xc6120001) /* 198.18.0.1 */
#define ASSET_SIZE  (4u << 20)
#define BLKSIZE	    512
#define FIRST_DEAD  10000 /* server ports: dead sessions, live ones, new ones */
#define FIRST_LIVE  20000
#define FIRST_NEW   30000
#define CLIENT_PORT 1554

static struct xpxe_bpf *skel;
static struct xpxe_assets assets;
static uint32_t slot;
static uint16_t live_block[N_LIVE]; /* the last block each live session was sent */

static int setup(void **state)
{
	char path[] = "/tmp/xpxe-test-lru.XXXXXX";
	int fd, err;

	(void)state;
	skel = xpxe_bpf__open();
	if (!skel || bpf_map__set_max_entries(skel->maps.tftp_sessions, MAP_SIZE) ||
	    xpxe_bpf__load(skel)) {
		fprintf(stderr, "# cannot load xpxe.bpf.o (needs root and a BPF-capable kernel)\n");
		return -1;
	}
	xpxe_assets_init(&assets);
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, ASSET_SIZE))
		return -1;
	close(fd);
	err = xpxe_assets_add_outer(&assets, bpf_map__fd(skel->maps.tftp_assets));
	err = err ? err : xpxe_assets_load(&assets, "big", path);
	unlink(path);
	if (err)
		return -1;
	slot = xpxe_assets_find(&assets, "big")->slot;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xpxe_assets_free(&assets);
	xpxe_bpf__destroy(skel);
	return 0;
}

static struct xpxe_tftp_key key_of(uint16_t server_port)
{
	return (struct xpxe_tftp_key){ .client_ip = CLIENT_IP,
				       .client_port = htons(CLIENT_PORT),
				       .server_port = htons(server_port) };
}

/* What the daemon does for a new transfer: its session, as the OACK left it. */
static int install(uint16_t server_port)
{
	struct xpxe_tftp_key key = key_of(server_port);
	struct xpxe_tftp_session s = { .size = ASSET_SIZE,
				       .asset_slot = slot,
				       .blksize = BLKSIZE,
				       .final_block = ASSET_SIZE / BLKSIZE + 1,
				       .state = XPXE_TFTP_ACTIVE };

	return bpf_map_update_elem(bpf_map__fd(skel->maps.tftp_sessions), &key, &s, BPF_ANY);
}

static bool present(uint16_t server_port)
{
	struct xpxe_tftp_key key = key_of(server_port);
	struct xpxe_tftp_session s;

	/* A lookup from userspace does not count as a use for the LRU. */
	return !bpf_map_lookup_elem(bpf_map__fd(skel->maps.tftp_sessions), &key, &s);
}

/* Live session I's client ACKs the last block it got: tc_tftp answers the next. */
static void ack(int i)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	uint8_t payload[4] = { 0, XPXE_TFTP_ACK, live_block[i] >> 8, live_block[i] & 0xff };
	size_t len = frame_udp(in, CLIENT_IP, SERVER_IP, CLIENT_PORT, FIRST_LIVE + i, payload,
			       sizeof(payload));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.tc_tftp), &opts), 0);
	if (opts.retval != TC_ACT_REDIRECT)
		fail_msg("live session %d: ACK %u was not answered (verdict %d)", i, live_block[i],
			 opts.retval);
	live_block[i]++;
}

/* Installs N sessions from server port FIRST on, the live ones ACKing every BATCH of them. */
static void install_while_live_ack(uint16_t first, int n)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(install(first + i), 0);
		if (i % BATCH == BATCH - 1)
			for (int j = 0; j < N_LIVE; j++)
				ack(j);
	}
}

static void test_live_sessions_outlive_dead_ones(void **state)
{
	int dead = MAP_SIZE - N_LIVE, evicted_dead = 0, missing_new = 0;

	(void)state;
	/* The live ones are the oldest entries: only their ACKs can keep them. */
	for (int i = 0; i < N_LIVE; i++) {
		assert_int_equal(install(FIRST_LIVE + i), 0);
		ack(i);
	}
	install_while_live_ack(FIRST_DEAD, dead); /* their clients go away at once */
	install_while_live_ack(FIRST_NEW, N_NEW); /* the map is full: each one evicts */
	for (int i = 0; i < N_LIVE; i++)
		if (!present(FIRST_LIVE + i))
			fail_msg("live session %d was evicted", i);
	for (int i = 0; i < dead; i++)
		evicted_dead += !present(FIRST_DEAD + i);
	for (int i = 0; i < N_NEW; i++)
		missing_new += !present(FIRST_NEW + i);
	printf("# %d dead sessions evicted for %d new ones; %d new ones evicted again; %d live "
	       "ones, all kept\n",
	       evicted_dead, N_NEW, missing_new, N_LIVE);
	/* Room for the new ones came from the dead ones: at least as many as were added. */
	assert_true(evicted_dead + missing_new >= N_NEW);
	assert_true(evicted_dead >= N_NEW / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_sessions_outlive_dead_ones),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
