// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The TFTP data plane run by the kernel on crafted frames: an ACK in, the
 * DATA frame out, compared byte for byte with one built independently here
 * (frames.h computes its checksums the slow, obvious way). Each case runs
 * through both paths, xdp_pxe (XDP_TX) and tc_tftp (the tc fallback), on the
 * same sessions and the same assets, loaded by the daemon's own asset store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "tftp_entry.h"
#include "assets.h"
#include "counters.h"
#include "dhcp/dhcp.h"
#include "frames.h"
#include "test_assets.h"
#include "xpxe_events.h"
#include "xpxe_tftp.h"
#include "xsk.h"

#define CLIENT_IP   htonl(0xc6120064) /* 198.18.0.100 */
#define SERVER_IP   htonl(0xc6120001) /* 198.18.0.1 */
#define CLIENT_PORT 1554

enum { ASSET_RANDOM, ASSET_1024, ASSET_ROLLOVER, ASSET_ODD, ASSET_EXACT, ASSET_2_CHUNKS, N_ASSETS };

static const uint64_t asset_sizes[N_ASSETS] = {
	[ASSET_RANDOM] = 200000,
	[ASSET_1024] = 1024,
	[ASSET_ROLLOVER] = 65536 * 8 + 5, /* at blksize 8: block 65537 goes out as block 1 */
	/* The block sizes with stored sums (xpxe_tftp.h): a final block of odd length at each, */
	[ASSET_ODD] = 200001,
	/* an empty one at 1468, */
	[ASSET_EXACT] = 1468 * 100,
	/* and at 512 and 1024 an empty one at the start of a chunk of no bytes. */
	[ASSET_2_CHUNKS] = 2 * 65536,
};

static struct xpxe_bpf *skel;
static struct xpxe_assets assets;
/* An AF_XDP socket on lo's queue 0, the queue test runs see: the redirect target. */
static struct xpxe_xsk *xsk;
static uint8_t *content[N_ASSETS];
static uint32_t slot_of[N_ASSETS];

enum expect { SEND, DROP, PASS };

struct data_case {
	const char *name;
	int asset;
	unsigned blksize;
	uint32_t last_block; /* the session before the ACK */
	uint16_t ack;
	bool timed_out; /* the last DATA left long ago: a repeated ACK is a client's retry */
	enum expect expect;
	uint32_t block;		   /* the DATA expected (full number) */
	enum xpxe_counter counter; /* the outcome of a DROP (SEND: data_xdp or data_tc) */
};

static const struct data_case cases[] = {
	{ "ACK 0 of the OACK -> DATA 1", ASSET_RANDOM, 512, 0, 0, false, SEND, 1, XPXE_CNT_MAX },
	{ "ACK 1 -> DATA 2 at 1468", ASSET_RANDOM, 1468, 1, 1, false, SEND, 2, XPXE_CNT_MAX },
	{ "a block across the 64 KiB chunk boundary", ASSET_RANDOM, 1468, 44, 44, false, SEND, 45,
	  XPXE_CNT_MAX },
	{ "odd blksize, odd offset", ASSET_RANDOM, 1001, 1, 1, false, SEND, 2, XPXE_CNT_MAX },
	{ "odd blksize, even offset", ASSET_RANDOM, 1001, 2, 2, false, SEND, 3, XPXE_CNT_MAX },
	{ "blksize 8", ASSET_RANDOM, 8, 99, 99, false, SEND, 100, XPXE_CNT_MAX },
	{ "the final short block", ASSET_RANDOM, 1468, 136, 136, false, SEND, 137, XPXE_CNT_MAX },
	{ "the final empty block", ASSET_1024, 512, 2, 2, false, SEND, 3, XPXE_CNT_MAX },
	{ "block 65536 goes out as 0", ASSET_ROLLOVER, 8, 65535, 65535, false, SEND, 65536,
	  XPXE_CNT_MAX },
	{ "after the rollover: ACK 0 -> DATA 1 (65537)", ASSET_ROLLOVER, 8, 65536, 0, false, SEND,
	  65537, XPXE_CNT_MAX },
	{ "a repeated ACK after a client timeout resends", ASSET_RANDOM, 512, 5, 4, true, SEND, 5,
	  XPXE_CNT_MAX },
	{ "a repeated ACK right after the DATA: Sorcerer's Apprentice", ASSET_RANDOM, 512, 5, 4,
	  false, DROP, 0, XPXE_CNT_TFTP_ACK_DUP_IGNORED },
	{ "ACK of the final block ends the transfer", ASSET_1024, 512, 3, 3, false, DROP, 0,
	  XPXE_CNT_TFTP_SESSIONS_COMPLETED },
	{ "an ACK of an older block is stale", ASSET_RANDOM, 512, 9, 3, true, DROP, 0,
	  XPXE_CNT_TFTP_ACK_STALE },
	{ "an ACK of a block not sent yet is stale", ASSET_RANDOM, 512, 9, 10, true, DROP, 0,
	  XPXE_CNT_TFTP_ACK_STALE },
};

static int load_asset(int i)
{
	char name[16];

	content[i] = test_asset_content(asset_sizes[i], 0x9e3779b9u + i);
	snprintf(name, sizeof(name), "asset%d", i);
	return test_asset_load(&assets, name, content[i], asset_sizes[i], &slot_of[i]);
}

/* A network namespace of our own, with its lo up: the AF_XDP socket binds there. */
static int private_lo(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err;

	if (unshare(CLONE_NEWNET))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	err = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	err = err ? err : ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return err;
}

static int setup(void **state)
{
	int err;

	(void)state;
	if (private_lo()) {
		fprintf(stderr, "# cannot make a network namespace (needs root)\n");
		return -1;
	}
	skel = tftp_entry_open_and_load();
	if (!skel) {
		fprintf(stderr, "# cannot load xpxe.bpf.o (needs root and a BPF-capable kernel)\n");
		return -1;
	}
	xpxe_assets_init(&assets);
	if (xpxe_assets_add_outer(&assets, bpf_map__fd(skel->maps.tftp_assets)))
		return -1;
	for (int i = 0; i < N_ASSETS; i++)
		if (load_asset(i))
			return -1;
	{
		/* xdp_tftp6 in the slot xdp_pxe tail-calls, as the daemon puts it there; the
		 * frags build's in its own. */
		int fd = bpf_program__fd(skel->progs.xdp_tftp6);
		int fd_frags = bpf_program__fd(skel->progs.xdp_tftp6_frags);
		__u32 zero = 0;

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.tftp6_prog), &zero, &fd, BPF_ANY) ||
		    bpf_map_update_elem(bpf_map__fd(skel->maps.tftp6_prog_frags), &zero, &fd_frags,
					BPF_ANY))
			return -1;
	}
	err = xpxe_xsk_open(&xsk, "lo", 0, bpf_map__fd(skel->maps.tftp_xsks));
	if (err) {
		fprintf(stderr, "# cannot open an AF_XDP socket on lo: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xpxe_xsk_close(xsk);
	xpxe_assets_free(&assets);
	xpxe_bpf__destroy(skel);
	for (int i = 0; i < N_ASSETS; i++)
		free(content[i]);
	return 0;
}

/* A frame from the server back to the client, as xpxe builds them: DF set, no IP id. */
static size_t frame_from_server(uint8_t *buf, uint16_t sport, uint16_t dport, const void *payload,
				size_t plen)
{
	size_t len = frame_udp(buf, SERVER_IP, CLIENT_IP, sport, dport, payload, plen);
	struct ethhdr *eth = (struct ethhdr *)buf;
	frame_iphdr *iph = frame_iph(buf);

	memcpy(eth->h_dest, frame_client_mac, ETH_ALEN);
	memcpy(eth->h_source, frame_server_mac, ETH_ALEN);
	iph->frag_off = htons(0x4000);
	iph->check = 0;
	iph->check = htons(frame_csum_fold(frame_csum_add(0, iph, sizeof(*iph))));
	return len;
}

static size_t build_ack(uint8_t *buf, uint16_t server_port, uint16_t block)
{
	uint8_t ack[4] = { 0, XPXE_TFTP_ACK, block >> 8, block & 0xff };

	return frame_udp(buf, CLIENT_IP, SERVER_IP, CLIENT_PORT, server_port, ack, sizeof(ack));
}

static size_t build_data(uint8_t *buf, const struct data_case *c, uint16_t server_port)
{
	static uint8_t payload[4 + XPXE_TFTP_BLKSIZE_MAX];
	uint64_t off = (uint64_t)(c->block - 1) * c->blksize, size = asset_sizes[c->asset];
	size_t len = size - off < c->blksize ? size - off : c->blksize;

	payload[0] = 0;
	payload[1] = XPXE_TFTP_DATA;
	payload[2] = (c->block >> 8) & 0xff;
	payload[3] = c->block & 0xff;
	memcpy(payload + 4, content[c->asset] + off, len);
	return frame_from_server(buf, server_port, CLIENT_PORT, payload, 4 + len);
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

/*
 * The daemon's number for the transfer (xpxe_tftp_session.owner), as it gives them: never 0. A
 * program records its window only while the owner is the one it decided on (tftp_commit), so
 * each SEND case checks that the record lands in a session of a real owner, and every case that
 * no program writes the owner.
 */
static const uint8_t session_owner[3] = { 0xc7, 0xb6, 0xa5 };

static void put_session(uint16_t server_port, int asset, unsigned blksize, uint32_t last_block,
			bool timed_out)
{
	struct xpxe_tftp_key key = session_key(server_port);
	struct xpxe_tftp_session s = {
		.size = asset_sizes[asset],
		.asset_slot = slot_of[asset],
		.blksize = blksize,
		.last_block = last_block,
		.win_base = last_block ? last_block - 1 : 0, /* lockstep: a window of one */
		.final_block = asset_sizes[asset] / blksize + 1,
		.state = XPXE_TFTP_ACTIVE,
	};
	struct timespec now;

	/*
	 * Not timed out: the DATA "just went out", an hour ahead of now. The guard compares
	 * signed (the clocks of the daemon and the programs may differ by a tick), so the
	 * program reads it as recent however long this process is kept from reaching it; a
	 * stamp of now would turn into a client's retry past 50 ms on a busy machine.
	 */
	clock_gettime(CLOCK_MONOTONIC, &now);
	s.last_tx_ns = timed_out ? 0 : (uint64_t)(now.tv_sec + 3600) * 1000000000ull + now.tv_nsec;
	memcpy(s.owner, session_owner, sizeof(s.owner));
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

static void read_counters(__u64 *totals)
{
	assert_int_equal(xpxe_counters_read(bpf_map__fd(skel->maps.counters), totals), 0);
}

struct run {
	int retval;
	uint8_t out[FRAME_MAX];
	uint32_t out_len;
};

/* XDP runs go through xdp_pxe_frags (and the xdp_tftp6_frags it tail-calls) when set. */
static bool xdp_frags;

static void run_prog(bool tc, const uint8_t *in, size_t len, struct run *r)
{
	int fd = bpf_program__fd(tc	     ? skel->progs.tc_tftp
				 : xdp_frags ? skel->progs.xdp_pxe_frags
					     : skel->progs.xdp_pxe);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
	r->retval = opts.retval;
	r->out_len = opts.data_size_out;
}

static int verdict_of(bool tc, enum expect e)
{
	static const int xdp[] = { [SEND] = XDP_TX, [DROP] = XDP_DROP, [PASS] = XDP_PASS };
	static const int cls[] = {
		[SEND] = TC_ACT_REDIRECT, [DROP] = TC_ACT_SHOT, [PASS] = TC_ACT_OK
	};

	return tc ? cls[e] : xdp[e];
}

/* Every counter moved by exactly what WANT says, and no other. */
static void assert_counter_deltas(const char *name, const __u64 *before, const __u64 *after,
				  const __u64 *want)
{
	for (int i = 0; i < XPXE_CNT_MAX; i++)
		if (after[i] - before[i] != want[i])
			fail_msg("%s: counter %s moved by %llu, expected %llu", name,
				 xpxe_counter_names[i], (unsigned long long)(after[i] - before[i]),
				 (unsigned long long)want[i]);
}

static void run_data_case(const struct data_case *c, bool tc, uint16_t server_port)
{
	uint8_t in[FRAME_MAX] = { 0 }, want[FRAME_MAX];
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], delta[XPXE_CNT_MAX] = { 0 };
	size_t in_len, want_len;
	struct xpxe_tftp_session s;
	struct run r;

	put_session(server_port, c->asset, c->blksize, c->last_block, c->timed_out);
	in_len = build_ack(in, server_port, c->ack);
	read_counters(before);
	run_prog(tc, in, in_len, &r);
	read_counters(after);
	assert_int_equal(r.retval, verdict_of(tc, c->expect));
	if (!tc)
		delta[XPXE_CNT_RX_FRAMES] = 1;
	s = get_session(server_port);
	assert_memory_equal(s.owner, session_owner, sizeof(s.owner));
	if (c->expect == SEND) {
		bool resend = c->block == c->last_block;

		want_len = build_data(want, c, server_port);
		assert_int_equal(r.out_len, want_len);
		assert_memory_equal(r.out, want, want_len);
		assert_int_equal(s.last_block, c->block);
		assert_int_equal(s.retransmits, resend ? 1 : 0);
		delta[tc ? XPXE_CNT_TFTP_DATA_TC : XPXE_CNT_TFTP_DATA_XDP] = 1;
		delta[tc ? XPXE_CNT_TFTP_BYTES_TC : XPXE_CNT_TFTP_BYTES] =
		    want_len - XPXE_TFTP_HDRS_LEN;
		delta[XPXE_CNT_TFTP_RETRANSMITS] = resend;
	} else {
		assert_int_equal(r.out_len, in_len);
		assert_memory_equal(r.out, in, in_len);
		assert_int_equal(s.last_block, c->last_block);
		assert_int_equal(s.state, c->counter == XPXE_CNT_TFTP_SESSIONS_COMPLETED
					      ? XPXE_TFTP_DONE
					      : XPXE_TFTP_ACTIVE);
		delta[c->counter] = 1;
	}
	assert_counter_deltas(c->name, before, after, delta);
}

static void test_data_xdp(void **state)
{
	const struct data_case *c = *state;

	run_data_case(c, false, 40000 + (c - cases));
}

static void test_data_tc(void **state)
{
	const struct data_case *c = *state;

	run_data_case(c, true, 41000 + (c - cases));
}

/* --- IPv6: tc_tftp answers the ACKs of tftp_sessions6 (bpf/tftp6.h) ------------------------ */

static const uint8_t client6[16] = { 0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0x06, [15] = 2 };
static const uint8_t server6[16] = { 0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0x06, [15] = 1 };

static struct xpxe_tftp_key6 session_key6(uint16_t server_port)
{
	struct xpxe_tftp_key6 key = {
		.client_port = htons(CLIENT_PORT),
		.server_port = htons(server_port),
	};

	memcpy(key.client_ip, client6, 16);
	return key;
}

/* As put_session, in tftp_sessions6. */
static void put_session6(uint16_t server_port, int asset, unsigned blksize, uint32_t last_block,
			 bool timed_out)
{
	struct xpxe_tftp_key6 key = session_key6(server_port);
	struct xpxe_tftp_session s = {
		.size = asset_sizes[asset],
		.asset_slot = slot_of[asset],
		.blksize = blksize,
		.last_block = last_block,
		.win_base = last_block ? last_block - 1 : 0,
		.final_block = asset_sizes[asset] / blksize + 1,
		.state = XPXE_TFTP_ACTIVE,
	};
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s.last_tx_ns = timed_out ? 0 : (uint64_t)(now.tv_sec + 3600) * 1000000000ull + now.tv_nsec;
	memcpy(s.owner, session_owner, sizeof(s.owner));
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.tftp_sessions6), &key, &s, BPF_ANY), 0);
}

static struct xpxe_tftp_session get_session6(uint16_t server_port)
{
	struct xpxe_tftp_key6 key = session_key6(server_port);
	struct xpxe_tftp_session s;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.tftp_sessions6), &key, &s), 0);
	return s;
}

static size_t build_ack6(uint8_t *buf, uint16_t server_port, uint16_t block)
{
	uint8_t ack[4] = { 0, XPXE_TFTP_ACK, block >> 8, block & 0xff };

	return frame_udp6(buf, client6, server6, CLIENT_PORT, server_port, ack, sizeof(ack));
}

/* DATA C->block from the server, as xpxe builds it over IPv6: hop limit 64. */
static size_t build_data6(uint8_t *buf, const struct data_case *c, uint16_t server_port)
{
	static uint8_t payload[4 + XPXE_TFTP_BLKSIZE_MAX];
	uint64_t off = (uint64_t)(c->block - 1) * c->blksize, size = asset_sizes[c->asset];
	size_t len = size - off < c->blksize ? size - off : c->blksize, n;
	struct ethhdr *eth = (struct ethhdr *)buf;

	payload[0] = 0;
	payload[1] = XPXE_TFTP_DATA;
	payload[2] = (c->block >> 8) & 0xff;
	payload[3] = c->block & 0xff;
	memcpy(payload + 4, content[c->asset] + off, len);
	n = frame_udp6(buf, server6, client6, server_port, CLIENT_PORT, payload, 4 + len);
	memcpy(eth->h_dest, frame_client_mac, ETH_ALEN);
	memcpy(eth->h_source, frame_server_mac, ETH_ALEN);
	buf[ETH_HLEN + 7] = 64; /* the hop limit is in no checksum */
	return n;
}

/*
 * Every case of the IPv4 table, over IPv6 through tc_tftp (TC) or xdp_pxe and the xdp_tftp6 it
 * tail-calls: the same decisions, exact frames.
 */
static void run_data_case6(const struct data_case *c, bool tc, uint16_t server_port)
{
	uint8_t in[FRAME_MAX] = { 0 }, want[FRAME_MAX];
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], delta[XPXE_CNT_MAX] = { 0 };
	size_t in_len, want_len;
	struct xpxe_tftp_session s;
	struct run r;

	put_session6(server_port, c->asset, c->blksize, c->last_block, c->timed_out);
	in_len = build_ack6(in, server_port, c->ack);
	read_counters(before);
	run_prog(tc, in, in_len, &r);
	read_counters(after);
	assert_int_equal(r.retval, verdict_of(tc, c->expect));
	if (!tc)
		delta[XPXE_CNT_RX_FRAMES] = 1;
	s = get_session6(server_port);
	assert_memory_equal(s.owner, session_owner, sizeof(s.owner));
	if (c->expect == SEND) {
		bool resend = c->block == c->last_block;

		want_len = build_data6(want, c, server_port);
		assert_int_equal(r.out_len, want_len);
		assert_memory_equal(r.out, want, want_len);
		assert_int_equal(s.last_block, c->block);
		assert_int_equal(s.retransmits, resend ? 1 : 0);
		/* The session records which program sent it a block (its end event's path). */
		assert_int_equal(s.paths, 1u << (tc ? XPXE_TFTP_PATH_TC : XPXE_TFTP_PATH_XDP));
		delta[tc ? XPXE_CNT_TFTP6_DATA_TC : XPXE_CNT_TFTP6_DATA_XDP] = 1;
		delta[tc ? XPXE_CNT_TFTP_BYTES_TC : XPXE_CNT_TFTP_BYTES] =
		    want_len - XPXE_TFTP_HDRS6_LEN;
		delta[XPXE_CNT_TFTP_RETRANSMITS] = resend;
	} else {
		assert_int_equal(r.out_len, in_len);
		assert_memory_equal(r.out, in, in_len);
		assert_int_equal(s.last_block, c->last_block);
		assert_int_equal(s.paths, 0);
		assert_int_equal(s.state, c->counter == XPXE_CNT_TFTP_SESSIONS_COMPLETED
					      ? XPXE_TFTP_DONE
					      : XPXE_TFTP_ACTIVE);
		delta[c->counter] = 1;
	}
	assert_counter_deltas(c->name, before, after, delta);
}

static void test_data_tc6(void **state)
{
	const struct data_case *c = *state;

	run_data_case6(c, true, 42000 + (c - cases));
}

static void test_data_xdp6(void **state)
{
	const struct data_case *c = *state;

	run_data_case6(c, false, 44000 + (c - cases));
}

/*
 * The same through xdp_pxe_frags and xdp_tftp6_frags (jumbo MTUs: the multi-buffer builds),
 * which must decide as the others do: the same frames, the same counters.
 */
static void test_data_xdp6_frags(void **state)
{
	const struct data_case *c = *state;

	xdp_frags = true;
	run_data_case6(c, false, 46000 + (c - cases));
}

/* After each of those, failed or not: back to xdp_pxe. */
static int xdp_frags_off(void **state)
{
	(void)state;
	xdp_frags = false;
	return 0;
}

/* Puts xdp_tftp6 in the slot xdp_pxe tail-calls (ON), or empties it, as Linux 6.1 leaves it. */
static void set_tftp6_tail_call(bool on)
{
	int fd = bpf_program__fd(skel->progs.xdp_tftp6), map = bpf_map__fd(skel->maps.tftp6_prog);
	__u32 zero = 0;

	if (on)
		assert_int_equal(bpf_map_update_elem(map, &zero, &fd, BPF_ANY), 0);
	else
		assert_int_equal(bpf_map_delete_elem(map, &zero), 0);
}

/*
 * IN through xdp_pxe: passed on to tc unchanged (tftp6_xdp_to_tc), the session untouched;
 * then tc_tftp answers it with DATA 6, exact (the fallback decides what XDP would have).
 */
static void xdp6_leaves_to_tc(const char *name, const uint8_t *in, size_t len, uint16_t server_port)
{
	static const struct data_case c = { "6", ASSET_RANDOM, 512, 5, 5, true, SEND, 6, 0 };
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], delta[XPXE_CNT_MAX] = { 0 };
	uint8_t want[FRAME_MAX];
	size_t want_len;
	struct run r;

	read_counters(before);
	run_prog(false, in, len, &r);
	read_counters(after);
	assert_int_equal(r.retval, XDP_PASS);
	assert_int_equal(r.out_len, len);
	assert_memory_equal(r.out, in, len);
	assert_int_equal(get_session6(server_port).last_block, 5);
	delta[XPXE_CNT_RX_FRAMES] = 1;
	delta[XPXE_CNT_TFTP6_XDP_TO_TC] = 1;
	assert_counter_deltas(name, before, after, delta);
	run_prog(true, in, len, &r);
	assert_int_equal(r.retval, TC_ACT_REDIRECT);
	want_len = build_data6(want, &c, server_port);
	assert_int_equal(r.out_len, want_len);
	assert_memory_equal(r.out, want, want_len);
}

/* Where XDP has no room to grow an ACK (veth) or no tail call (6.1's dispatcher): tc's. */
static void test_xdp6_falls_back_to_tc(void **state)
{
	uint8_t in[FRAME_MAX];
	size_t len;

	(void)state;
	put_session6(45000, ASSET_RANDOM, 512, 5, true);
	len = build_ack6(in, 45000, 5);
	skel->bss->tftp_xdp_no_room = 1;
	xdp6_leaves_to_tc("no room", in, len, 45000);
	skel->bss->tftp_xdp_no_room = 0;
	put_session6(45000, ASSET_RANDOM, 512, 5, true);
	set_tftp6_tail_call(false);
	xdp6_leaves_to_tc("no tail call", in, len, 45000);
	set_tftp6_tail_call(true);
	/* Not the plain case: tc judges it (a window's ACK goes to the daemon from there). */
	put_session6(45000, ASSET_RANDOM, 512, 5, true);
	len = build_ack6(in, 45000, 5);
	in[len] = 0xab; /* a byte after the datagram */
	xdp6_leaves_to_tc("a byte after the ACK", in, len + 1, 45000);
}

/* What xdp_tftp6 does not answer goes on to tc unchanged; a bad checksum is dropped. */
static void test_xdp6_outcomes(void **state)
{
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], delta[XPXE_CNT_MAX];
	uint8_t in[FRAME_MAX];
	struct xpxe_tftp_key6 key = session_key6(45001);
	struct xpxe_tftp_session s;
	struct run r;
	size_t len;
	const struct {
		const char *name;
		int byte, value; /* the byte of the ACK changed (-1: none), to VALUE */
		uint16_t port;	 /* the server port it goes to */
		int verdict;
		enum xpxe_counter counter;
	} cases6[] = {
		{ "a wrong checksum", ETH_HLEN + 47, -1, 45001, XDP_DROP,
		  XPXE_CNT_TFTP6_DROP_BAD_CSUM },
		{ "no checksum", ETH_HLEN + 46, -2, 45001, XDP_DROP, XPXE_CNT_TFTP6_DROP_BAD_CSUM },
		{ "an ACK of no session", -1, 0, 45002, XDP_PASS, XPXE_CNT_TFTP6_XDP_TO_TC },
		/* Counted by xdp_pxe's IPv6 parser, before any tail call; tc counts it too. */
		{ "an extension header", ETH_HLEN + 6, 60, 45001, XDP_PASS,
		  XPXE_CNT_PASS_IPV6_EXT_HEADER },
		{ "to a multicast group", ETH_HLEN + 24, 0xff, 45001, XDP_PASS,
		  XPXE_CNT_TFTP6_XDP_TO_TC },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases6) / sizeof(cases6[0]); i++) {
		put_session6(45001, ASSET_RANDOM, 512, 5, true);
		len = build_ack6(in, cases6[i].port, 5);
		if (cases6[i].value == -1)
			in[cases6[i].byte] ^= 0x01;
		else if (cases6[i].value == -2)
			in[cases6[i].byte] = in[cases6[i].byte + 1] = 0;
		else if (cases6[i].byte >= 0)
			in[cases6[i].byte] = cases6[i].value;
		memset(delta, 0, sizeof(delta));
		read_counters(before);
		run_prog(false, in, len, &r);
		read_counters(after);
		assert_int_equal(r.retval, cases6[i].verdict);
		assert_int_equal(r.out_len, len);
		assert_memory_equal(r.out, in, len);
		assert_int_equal(get_session6(45001).last_block, 5);
		delta[XPXE_CNT_RX_FRAMES] = 1;
		delta[cases6[i].counter] = 1;
		assert_counter_deltas(cases6[i].name, before, after, delta);
	}
	/* A window's ACK with a wrong checksum: dropped before any window is decided. */
	put_session6(45001, ASSET_RANDOM, 512, 5, true);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.tftp_sessions6), &key, &s), 0);
	s.windowsize = 4;
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.tftp_sessions6), &key, &s, BPF_ANY), 0);
	len = build_ack6(in, 45001, 5);
	in[ETH_HLEN + 47] ^= 0x01;
	memset(delta, 0, sizeof(delta));
	read_counters(before);
	run_prog(false, in, len, &r);
	read_counters(after);
	assert_int_equal(r.retval, XDP_DROP);
	assert_int_equal(get_session6(45001).last_block, 5);
	delta[XPXE_CNT_RX_FRAMES] = 1;
	delta[XPXE_CNT_TFTP6_DROP_BAD_CSUM] = 1;
	assert_counter_deltas("a window's ACK, a wrong checksum", before, after, delta);
}

/* A whole IPv6 transfer through XDP past the rollover: every block exact, then the final ACK. */
static void test_whole_transfer_xdp6(void **state)
{
	uint32_t final = asset_sizes[ASSET_ROLLOVER] / 8 + 1;
	uint8_t in[FRAME_MAX], want[FRAME_MAX];
	struct run r;

	(void)state;
	put_session6(45003, ASSET_ROLLOVER, 8, 0, true);
	for (uint32_t b = 1; b <= final; b++) {
		struct data_case c = { "whole", ASSET_ROLLOVER, 8, 0, 0, true, SEND, b, 0 };
		size_t len = build_ack6(in, 45003, (uint16_t)(b - 1)), want_len;

		run_prog(false, in, len, &r);
		assert_int_equal(r.retval, XDP_TX);
		want_len = build_data6(want, &c, 45003);
		assert_int_equal(r.out_len, want_len);
		assert_memory_equal(r.out, want, want_len);
	}
	run_prog(false, in, build_ack6(in, 45003, (uint16_t) final), &r);
	assert_int_equal(r.retval, XDP_DROP);
	assert_int_equal(get_session6(45003).state, XPXE_TFTP_DONE);
}

/* IN through tc_tftp: verdict VERDICT, the frame unchanged, the session untouched, COUNTER +1. */
static void tc6_outcome(const char *name, const uint8_t *in, size_t len, uint16_t server_port,
			int verdict, enum xpxe_counter counter)
{
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], delta[XPXE_CNT_MAX] = { 0 };
	struct run r;

	read_counters(before);
	run_prog(true, in, len, &r);
	read_counters(after);
	assert_int_equal(r.retval, verdict);
	assert_int_equal(r.out_len, len);
	assert_memory_equal(r.out, in, len);
	assert_int_equal(get_session6(server_port).last_block, 5);
	delta[counter] = 1;
	assert_counter_deltas(name, before, after, delta);
}

/* An ACK with a wrong checksum, or none (forbidden over IPv6), is dropped and counted. */
static void test_bad_checksums6(void **state)
{
	uint8_t in[FRAME_MAX];
	size_t len;

	(void)state;
	put_session6(43000, ASSET_RANDOM, 512, 5, true);
	len = build_ack6(in, 43000, 5);
	in[ETH_HLEN + 40 + 7] ^= 0x01;
	tc6_outcome("a wrong checksum", in, len, 43000, TC_ACT_SHOT, XPXE_CNT_TFTP6_DROP_BAD_CSUM);
	len = build_ack6(in, 43000, 5);
	in[ETH_HLEN + 40 + 6] = in[ETH_HLEN + 40 + 7] = 0;
	tc6_outcome("no checksum", in, len, 43000, TC_ACT_SHOT, XPXE_CNT_TFTP6_DROP_BAD_CSUM);
	/* A byte of the address changed: the pseudo-header is in the sum. */
	len = build_ack6(in, 43000, 5);
	in[ETH_HLEN + 24 + 15] ^= 0x10;
	tc6_outcome("another destination", in, len, 43000, TC_ACT_SHOT,
		    XPXE_CNT_TFTP6_DROP_BAD_CSUM);
}

/* A sender's offload seed (the pseudo-header's sum, not complemented) is taken as intact. */
static void test_offload_seed6(void **state)
{
	static const struct data_case c = { "seed", ASSET_RANDOM, 512, 5, 5, true, SEND, 6, 0 };
	uint8_t in[FRAME_MAX], want[FRAME_MAX];
	uint32_t sum = frame_csum_add(0, client6, 16) + frame_csum_add(0, server6, 16) + 17 + 12;
	uint16_t seed = (uint16_t)~frame_csum_fold(sum);
	size_t len, want_len;
	struct run r;

	(void)state;
	put_session6(43001, ASSET_RANDOM, 512, 5, true);
	len = build_ack6(in, 43001, 5);
	in[ETH_HLEN + 40 + 6] = seed >> 8;
	in[ETH_HLEN + 40 + 7] = seed & 0xff;
	run_prog(true, in, len, &r);
	assert_int_equal(r.retval, TC_ACT_REDIRECT);
	want_len = build_data6(want, &c, 43001);
	assert_int_equal(r.out_len, want_len);
	assert_memory_equal(r.out, want, want_len);
}

/* What tc_tftp does not answer over IPv6 goes up unchanged, each outcome counted. */
static void test_tc6_passes(void **state)
{
	uint8_t in[FRAME_MAX], err[8] = { 0, XPXE_TFTP_ERROR, 0, 0, 'n', 'o', 0 };
	size_t len;

	(void)state;
	put_session6(43002, ASSET_RANDOM, 512, 5, true);
	len = build_ack6(in, 43002, 5);
	in[ETH_HLEN + 6] = 60; /* a destination options header in front of UDP */
	tc6_outcome("an extension header", in, len, 43002, TC_ACT_OK, XPXE_CNT_TFTP6_TC_EXT_HDR);
	len = build_ack6(in, 43002, 5);
	in[ETH_HLEN + 5] += 4; /* the IPv6 payload claims more than the frame holds */
	tc6_outcome("a payload length past the frame", in, len, 43002, TC_ACT_OK,
		    XPXE_CNT_TFTP6_TC_TRUNCATED);
	len = frame_udp6(in, client6, server6, CLIENT_PORT, 43002, err, 7);
	tc6_outcome("the client's ERROR (the daemon's socket ends the transfer)", in, len, 43002,
		    TC_ACT_OK, XPXE_CNT_TFTP6_TC_PASS_SESSION);
	len = build_ack6(in, 43003, 5);
	tc6_outcome("an ACK of no session", in, len, 43002, TC_ACT_OK, XPXE_CNT_TFTP_TC_PASS);
}

/* A whole IPv6 transfer through tc past the rollover: every block exact, then the final ACK. */
static void test_whole_transfer_tc6(void **state)
{
	uint32_t final = asset_sizes[ASSET_ROLLOVER] / 8 + 1;
	uint8_t in[FRAME_MAX], want[FRAME_MAX];
	struct run r;

	(void)state;
	put_session6(43004, ASSET_ROLLOVER, 8, 0, true);
	for (uint32_t b = 1; b <= final; b++) {
		struct data_case c = { "whole", ASSET_ROLLOVER, 8, 0, 0, true, SEND, b, 0 };
		size_t len = build_ack6(in, 43004, (uint16_t)(b - 1)), want_len;

		run_prog(true, in, len, &r);
		assert_int_equal(r.retval, TC_ACT_REDIRECT);
		want_len = build_data6(want, &c, 43004);
		assert_int_equal(r.out_len, want_len);
		assert_memory_equal(r.out, want, want_len);
	}
	run_prog(true, in, build_ack6(in, 43004, (uint16_t) final), &r);
	assert_int_equal(r.retval, TC_ACT_SHOT);
	assert_int_equal(get_session6(43004).state, XPXE_TFTP_DONE);
}

/* A transfer end to end through one program: every block equal, then the final ACK. */
/* --- the events of a transfer's end (the ring buffer `events`) --------------------------- */

static struct xpxe_dp_tftp_event seen[8];
static int n_seen;

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	assert_int_equal(size, sizeof(seen[0]));
	if (n_seen < 8)
		memcpy(&seen[n_seen], data, sizeof(seen[0]));
	n_seen++;
	return 0;
}

/* Reads the ring: how many records arrived since the last call (kept in seen[]). */
static int read_events(void)
{
	struct ring_buffer *rb =
	    ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);

	assert_non_null(rb);
	n_seen = 0;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n_seen;
}

/* The one record of a transfer's end: TYPE, the client's MAC and address, its session, PATH. */
static void assert_end_event(int type, uint16_t server_port, int path, uint8_t client_error)
{
	const struct xpxe_dp_tftp_event *e = &seen[0];

	assert_int_equal(read_events(), 1);
	assert_int_equal(e->h.type, type);
	assert_int_equal(e->h.boot, path);
	assert_memory_equal(e->h.mac, frame_client_mac, 6);
	assert_int_equal(e->h.ip, CLIENT_IP);
	assert_int_equal(e->key.client_ip, CLIENT_IP);
	assert_int_equal(e->key.client_port, htons(CLIENT_PORT));
	assert_int_equal(e->key.server_port, htons(server_port));
	assert_int_equal(e->client_error, client_error);
	assert_true(e->h.ts_ns > 0);
}

static void whole_transfer(bool tc, int asset, unsigned blksize)
{
	uint16_t port = tc ? 42001 : 42000;
	uint32_t final = asset_sizes[asset] / blksize + 1;
	uint8_t in[FRAME_MAX] = { 0 }, want[FRAME_MAX];
	struct run r;

	put_session(port, asset, blksize, 0, false);
	read_events();
	for (uint32_t b = 1; b <= final; b++) {
		struct data_case c = { .asset = asset, .blksize = blksize, .block = b };
		size_t want_len = build_data(want, &c, port);

		run_prog(tc, in, build_ack(in, port, (b - 1) & 0xffff), &r);
		assert_int_equal(r.retval, verdict_of(tc, SEND));
		assert_int_equal(r.out_len, want_len);
		if (memcmp(r.out, want, want_len))
			fail_msg("block %u differs", b);
	}
	/* Nothing per block ... */
	assert_int_equal(read_events(), 0);
	run_prog(tc, in, build_ack(in, port, final & 0xffff), &r);
	assert_int_equal(r.retval, verdict_of(tc, DROP));
	assert_int_equal(get_session(port).state, XPXE_TFTP_DONE);
	/* ... one record at the end, from the program that saw the last ACK; once. */
	assert_end_event(XPXE_EV_TFTP_DONE, port, tc ? XPXE_TFTP_PATH_TC : XPXE_TFTP_PATH_XDP, 0);
	run_prog(tc, in, build_ack(in, port, final & 0xffff), &r);
	assert_int_equal(read_events(), 0);
}

static void test_whole_transfer_xdp(void **state)
{
	(void)state;
	whole_transfer(false, ASSET_RANDOM, 1468);
	whole_transfer(false, ASSET_RANDOM, 777);
}

static void test_whole_transfer_tc(void **state)
{
	(void)state;
	whole_transfer(true, ASSET_RANDOM, 1468);
	whole_transfer(true, ASSET_RANDOM, 513);
}

/*
 * Every block, first, middle, across chunks and last (odd, short or empty), at each block
 * size whose sums the loader stores, byte for byte against frames summed here.
 */
static void stored_block_sums(bool tc)
{
	static const unsigned sizes[] = XPXE_TFTP_BSUM_SIZES;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_true(xpxe_tftp_bsum_index(sizes[i], 0) >= 0);
		whole_transfer(tc, ASSET_ODD, sizes[i]);
		whole_transfer(tc, ASSET_EXACT, sizes[i]);
		whole_transfer(tc, ASSET_2_CHUNKS, sizes[i]);
	}
	/* A size beside them: the prefix sums. */
	assert_int_equal(xpxe_tftp_bsum_index(1467, 0), -1);
	whole_transfer(tc, ASSET_ODD, 1467);
}

static void test_stored_block_sums_xdp(void **state)
{
	(void)state;
	stored_block_sums(false);
}

static void test_stored_block_sums_tc(void **state)
{
	(void)state;
	stored_block_sums(true);
}

static void test_wrq_refused_by_xdp(void **state)
{
	static const char wrq[] = "\0\2boot.img\0octet";
	static const char err[] = "\0\5\0\4" XPXE_TFTP_MSG_READ_ONLY;
	uint8_t in[FRAME_MAX] = { 0 }, want[FRAME_MAX];
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], delta[XPXE_CNT_MAX] = { 0 };
	size_t want_len;
	struct run r;

	(void)state;
	read_counters(before);
	run_prog(false, in, frame_udp(in, CLIENT_IP, SERVER_IP, CLIENT_PORT, 69, wrq, sizeof(wrq)),
		 &r);
	read_counters(after);
	assert_int_equal(r.retval, XDP_TX);
	want_len = frame_from_server(want, 69, CLIENT_PORT, err, sizeof(err));
	assert_int_equal(r.out_len, want_len);
	assert_memory_equal(r.out, want, want_len);
	delta[XPXE_CNT_RX_FRAMES] = delta[XPXE_CNT_TFTP_WRQ_REFUSED] = 1;
	assert_counter_deltas("wrq", before, after, delta);
}

/* Frames that are not the data plane's to answer leave unchanged, counted as such. */
static void passes_unchanged(bool tc, const uint8_t *in, size_t len, enum xpxe_counter counter)
{
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], delta[XPXE_CNT_MAX] = { 0 };
	struct run r;

	read_counters(before);
	run_prog(tc, in, len, &r);
	read_counters(after);
	assert_int_equal(r.retval, verdict_of(tc, PASS));
	assert_int_equal(r.out_len, len);
	assert_memory_equal(r.out, in, len);
	delta[counter] = 1;
	if (!tc)
		delta[XPXE_CNT_RX_FRAMES] = 1;
	assert_counter_deltas("pass", before, after, delta);
}

static void test_rrq_goes_to_the_daemon(void **state)
{
	static const char rrq[] = "\0\1snponly.efi\0octet\0tsize\0000\0blksize\0001468";
	uint8_t in[FRAME_MAX] = { 0 };
	size_t len = frame_udp(in, CLIENT_IP, SERVER_IP, CLIENT_PORT, 69, rrq, sizeof(rrq));

	struct xpxe_tftp_key key = { .client_ip = CLIENT_IP, .client_port = htons(CLIENT_PORT) };
	struct xpxe_tftp_rrq_mac mac;

	(void)state;
	passes_unchanged(false, in, len, XPXE_CNT_PASS_TFTP);
	passes_unchanged(true, in, len, XPXE_CNT_TFTP_TC_PASS);
	/* Its source MAC noted for the daemon, whose socket sees none. */
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.tftp_rrq_macs), &key, &mac), 0);
	assert_memory_equal(mac.mac, frame_client_mac, 6);
}

static void test_ack_without_session_passes(void **state)
{
	uint8_t in[FRAME_MAX] = { 0 };
	size_t len = build_ack(in, 43999, 1);

	(void)state;
	passes_unchanged(false, in, len, XPXE_CNT_PASS_OTHER_PORT);
	passes_unchanged(true, in, len, XPXE_CNT_TFTP_TC_PASS);
}

static void test_other_opcode_to_a_transfer_goes_to_the_daemon(void **state)
{
	static const char rrq[] = "\0\1x\0octet";
	uint8_t in[FRAME_MAX] = { 0 };
	size_t len = frame_udp(in, CLIENT_IP, SERVER_IP, CLIENT_PORT, 43001, rrq, sizeof(rrq));

	(void)state;
	put_session(43001, ASSET_RANDOM, 512, 1, false);
	passes_unchanged(false, in, len, XPXE_CNT_TFTP_PASS_SESSION);
}

static void test_session_without_asset_passes(void **state)
{
	uint8_t in[FRAME_MAX] = { 0 };
	size_t len = build_ack(in, 43002, 1);
	struct xpxe_tftp_key key = session_key(43002);
	struct xpxe_tftp_session s;

	(void)state;
	put_session(43002, ASSET_RANDOM, 512, 1, false);
	assert_int_equal(tftp_entry_lookup(bpf_map__fd(skel->maps.tftp_sessions), &key, &s), 0);
	s.asset_slot = XPXE_TFTP_ASSET_SLOTS - 1; /* nothing published there */
	assert_int_equal(
	    tftp_entry_update(bpf_map__fd(skel->maps.tftp_sessions), &key, &s, BPF_ANY), 0);
	passes_unchanged(false, in, len, XPXE_CNT_TFTP_NO_ASSET);
	assert_int_equal(get_session(43002).last_block, 1);
}

static void test_client_error_aborts(void **state)
{
	static const char err[] = "\0\5\0\10User aborted the transfer";
	uint8_t in[FRAME_MAX] = { 0 }, ack[FRAME_MAX] = { 0 };
	size_t len = frame_udp(in, CLIENT_IP, SERVER_IP, CLIENT_PORT, 43003, err, sizeof(err));
	struct xpxe_tftp_session s;
	struct run r;

	(void)state;
	put_session(43003, ASSET_RANDOM, 1468, 0, false);
	read_events();
	run_prog(false, in, len, &r);
	assert_int_equal(r.retval, XDP_DROP);
	s = get_session(43003);
	assert_int_equal(s.state, XPXE_TFTP_ABORTED);
	assert_int_equal(s.client_error, XPXE_TFTP_ERR_BAD_OPTION);
	assert_end_event(XPXE_EV_TFTP_ABORTED, 43003, XPXE_TFTP_PATH_XDP, XPXE_TFTP_ERR_BAD_OPTION);
	/* A late ACK of the aborted transfer gets nothing, a second ERROR no second event. */
	run_prog(false, ack, build_ack(ack, 43003, 0), &r);
	assert_int_equal(r.retval, XDP_DROP);
	run_prog(false, in, len, &r);
	assert_int_equal(read_events(), 0);
}

/* --- windows (RFC 7440): XDP decides, the daemon's AF_XDP socket sends -------------------- */

static void put_window_session(uint16_t server_port, unsigned windowsize, uint32_t base,
			       uint32_t last, bool timed_out)
{
	struct xpxe_tftp_key key = session_key(server_port);
	struct xpxe_tftp_session s;

	put_session(server_port, ASSET_RANDOM, 1468, last, timed_out);
	assert_int_equal(tftp_entry_lookup(bpf_map__fd(skel->maps.tftp_sessions), &key, &s), 0);
	s.windowsize = windowsize;
	s.win_base = base;
	assert_int_equal(
	    tftp_entry_update(bpf_map__fd(skel->maps.tftp_sessions), &key, &s, BPF_ANY), 0);
}

/* As put_window_session, in tftp_sessions6 (the same block size: the same windows). */
static void put_window_session6(uint16_t server_port, unsigned windowsize, uint32_t base,
				uint32_t last, bool timed_out)
{
	struct xpxe_tftp_key6 key = session_key6(server_port);
	struct xpxe_tftp_session s;

	put_session6(server_port, ASSET_RANDOM, 1468, last, timed_out);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.tftp_sessions6), &key, &s), 0);
	s.windowsize = windowsize;
	s.win_base = base;
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.tftp_sessions6), &key, &s, BPF_ANY), 0);
}

struct window_case {
	const char *name;
	uint32_t base, last;
	bool timed_out;
	uint16_t ack;
	int verdict;			  /* XDP's */
	enum xpxe_counter counter;	  /* its outcome */
	uint32_t first, win_last, resent; /* the window in the metadata, for XDP_REDIRECT */
};

static const struct window_case window_cases[] = {
	{ "ACK 0 of the OACK: the first window goes to AF_XDP", 0, 0, false, 0, XDP_REDIRECT,
	  XPXE_CNT_TFTP_ACK_TO_XSK, 1, 16, 0 },
	{ "ACK of the window's last block: the next window", 16, 32, false, 32, XDP_REDIRECT,
	  XPXE_CNT_TFTP_ACK_TO_XSK, 33, 48, 0 },
	{ "ACK inside the window: it starts again after it", 16, 32, false, 27, XDP_REDIRECT,
	  XPXE_CNT_TFTP_ACK_TO_XSK, 28, 43, 5 },
	{ "the window's base again after the client's timeout: resent whole", 16, 32, true, 16,
	  XDP_REDIRECT, XPXE_CNT_TFTP_ACK_TO_XSK, 17, 32, 16 },
	{ "the window's base again at once: its first block was lost, the window again now", 16, 32,
	  false, 16, XDP_REDIRECT, XPXE_CNT_TFTP_ACK_TO_XSK, 17, 32, 16 },
	{ "the last window is cut at the final block", 128, 130, false, 130, XDP_REDIRECT,
	  XPXE_CNT_TFTP_ACK_TO_XSK, 131, 137, 0 },
	{ "ACK of the final block: completed", 130, 137, false, 137, XDP_DROP,
	  XPXE_CNT_TFTP_SESSIONS_COMPLETED, 0, 0, 0 },
	{ "an ACK older than the window: stale", 16, 32, true, 3, XDP_DROP, XPXE_CNT_TFTP_ACK_STALE,
	  0, 0, 0 },
};

/*
 * C over IPv4 through xdp_pxe, or over IPv6 (IPV6) through xdp_pxe and the xdp_tftp6 it
 * tail-calls: the same decision, the same metadata in front of the ACK.
 */
static void run_window_case(const struct window_case *c, bool ipv6)
{
	uint16_t port = (ipv6 ? 46000 : 44000) + (c - window_cases);
	uint8_t in[FRAME_MAX] = { 0 };
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX], delta[XPXE_CNT_MAX] = { 0 };
	struct xpxe_tftp_xsk_meta meta;
	struct xpxe_tftp_session s;
	size_t in_len = ipv6 ? build_ack6(in, port, c->ack) : build_ack(in, port, c->ack);
	struct run r;

	if (ipv6)
		put_window_session6(port, 16, c->base, c->last, c->timed_out);
	else
		put_window_session(port, 16, c->base, c->last, c->timed_out);
	read_counters(before);
	run_prog(false, in, in_len, &r);
	read_counters(after);
	assert_int_equal(r.retval, c->verdict);
	delta[XPXE_CNT_RX_FRAMES] = delta[c->counter] = 1;
	assert_counter_deltas(c->name, before, after, delta);
	s = ipv6 ? get_session6(port) : get_session(port);
	if (c->verdict != XDP_REDIRECT) {
		assert_int_equal(r.out_len, in_len);
		assert_memory_equal(r.out, in, in_len);
		assert_int_equal(s.last_block, c->last);
		assert_int_equal(s.win_base, c->base);
		return;
	}
	/* The ACK as it came, behind the metadata that describes the window to send. */
	assert_int_equal(r.out_len, sizeof(meta) + in_len);
	assert_memory_equal(r.out + sizeof(meta), in, in_len);
	memcpy(&meta, r.out, sizeof(meta));
	assert_int_equal(meta.magic, XPXE_TFTP_XSK_MAGIC);
	assert_int_equal(meta.first_block, c->first);
	assert_int_equal(meta.last_block, c->win_last);
	assert_int_equal(meta.resent, c->resent);
	assert_int_equal(meta.size, asset_sizes[ASSET_RANDOM]);
	assert_int_equal(meta.asset_slot, slot_of[ASSET_RANDOM]);
	assert_int_equal(meta.blksize, 1468);
	assert_int_equal(meta.ntags, 0);
	/* The session records the window: the next ACK is judged against it. */
	assert_int_equal(s.win_base, c->first - 1);
	assert_int_equal(s.last_block, c->win_last);
	assert_int_equal(s.retransmits, c->resent);
	assert_int_equal(s.restarted, c->resent > 0);
}

static void test_window(void **state)
{
	run_window_case(*state, false);
}

static void test_window6(void **state)
{
	run_window_case(*state, true);
}

/*
 * A window restarted from its base (its first block lost): the re-ACKs of the
 * same base that the rest of the lost window brings are duplicates, dropped;
 * one restart per loss. Its last block's ACK asks for the next window.
 */
static void test_window_restarts_once(void **state)
{
	uint8_t in[FRAME_MAX] = { 0 };
	size_t in_len = build_ack(in, 44200, 16);
	struct xpxe_tftp_session s;
	struct run r;

	(void)state;
	put_window_session(44200, 16, 16, 32, false);
	run_prog(false, in, in_len, &r);
	assert_int_equal(r.retval, XDP_REDIRECT);
	s = get_session(44200);
	assert_int_equal(s.restarted, 1);
	assert_int_equal(s.retransmits, 16);
	for (int i = 0; i < 14; i++) {
		run_prog(false, in, in_len, &r);
		assert_int_equal(r.retval, XDP_DROP);
	}
	s = get_session(44200);
	assert_int_equal(s.retransmits, 16);
	assert_int_equal(s.win_base, 16);
	assert_int_equal(s.last_block, 32);
	run_prog(false, in, build_ack(in, 44200, 32), &r);
	assert_int_equal(r.retval, XDP_REDIRECT);
	s = get_session(44200);
	assert_int_equal(s.restarted, 0);
	assert_int_equal(s.win_base, 32);
	assert_int_equal(s.last_block, 48);
}

/*
 * No socket on the queue: XDP passes the ACK up untouched (the session too);
 * tc decides the window and records it in the session, in place, and passes
 * the ACK on to the daemon's socket, which sends the window recorded (and
 * writes no session: a whole value written from userspace would undo what a
 * program wrote meanwhile).
 */
static void test_window_without_af_xdp(void **state)
{
	uint8_t in[FRAME_MAX] = { 0 };
	size_t len = build_ack(in, 44100, 16);
	__u32 queue = 0;
	int fd = bpf_map__fd(skel->maps.tftp_xsks), xsk_fd = xpxe_xsk_fd(xsk);
	struct xpxe_tftp_session s;

	(void)state;
	put_window_session(44100, 16, 0, 16, false);
	assert_int_equal(bpf_map_delete_elem(fd, &queue), 0);
	passes_unchanged(false, in, len, XPXE_CNT_TFTP_ACK_TO_DAEMON);
	/* The socket back first: the tests after this one need it, whatever fails below. */
	assert_int_equal(bpf_map_update_elem(fd, &queue, &xsk_fd, BPF_ANY), 0);
	assert_int_equal(get_session(44100).last_block, 16);
	assert_int_equal(get_session(44100).win_base, 0);
	passes_unchanged(true, in, len, XPXE_CNT_TFTP_TC_PASS);
	s = get_session(44100);
	assert_int_equal(s.win_base, 16);
	assert_int_equal(s.last_block, 32);
	assert_int_equal(s.retransmits, 0);
}

/*
 * Where XDP cannot grow frames (veth), ACKs of lockstep transfers still go to
 * tc, but only after XDP looked for a windowed session: windows reach AF_XDP.
 */
static void test_window_where_xdp_has_no_room(void **state)
{
	uint8_t in[FRAME_MAX] = { 0 };
	struct run r;

	(void)state;
	skel->bss->tftp_xdp_no_room = 1;
	put_window_session(44101, 16, 0, 0, false);
	run_prog(false, in, build_ack(in, 44101, 0), &r);
	assert_int_equal(r.retval, XDP_REDIRECT);
	put_session(44102, ASSET_RANDOM, 1468, 3, false);
	passes_unchanged(false, in, build_ack(in, 44102, 3), XPXE_CNT_TFTP_ACK_TO_TC);
	assert_int_equal(get_session(44102).last_block, 3);
	skel->bss->tftp_xdp_no_room = 0;
}

/*
 * IPv6, no socket on the queue: xdp_tftp6 passes the window's ACK up untouched, counted as
 * IPv4's (tftp_ack_to_daemon), the session too; tc passes it on untouched (a session's frame
 * that is not a lockstep ACK), and the transfer's socket takes the transfer over (v6.c).
 */
static void test_window6_without_af_xdp(void **state)
{
	uint8_t in[FRAME_MAX] = { 0 };
	size_t len = build_ack6(in, 46100, 16);
	__u32 queue = 0;
	int fd = bpf_map__fd(skel->maps.tftp_xsks), xsk_fd = xpxe_xsk_fd(xsk);
	struct xpxe_tftp_session s;

	(void)state;
	put_window_session6(46100, 16, 0, 16, false);
	assert_int_equal(bpf_map_delete_elem(fd, &queue), 0);
	passes_unchanged(false, in, len, XPXE_CNT_TFTP_ACK_TO_DAEMON);
	/* Where XDP has no room either, xdp_pxe leaves it to tc without the tail call. */
	skel->bss->tftp_xdp_no_room = 1;
	passes_unchanged(false, in, len, XPXE_CNT_TFTP6_XDP_TO_TC);
	skel->bss->tftp_xdp_no_room = 0;
	/* The socket back first: the tests after this one need it, whatever fails below. */
	assert_int_equal(bpf_map_update_elem(fd, &queue, &xsk_fd, BPF_ANY), 0);
	passes_unchanged(true, in, len, XPXE_CNT_TFTP6_TC_PASS_SESSION);
	s = get_session6(46100);
	assert_int_equal(s.win_base, 0);
	assert_int_equal(s.last_block, 16);
	assert_int_equal(s.retransmits, 0);
}

/*
 * IPv6 where XDP cannot grow frames (veth): xdp_pxe still tail-calls xdp_tftp6 while an AF_XDP
 * socket waits on the queue, so windows reach it; a lockstep ACK goes to tc untouched, with no
 * try to grow it (tftp6_xdp_to_tc), the session untouched.
 */
static void test_window6_where_xdp_has_no_room(void **state)
{
	uint8_t in[FRAME_MAX] = { 0 };
	struct run r;

	(void)state;
	skel->bss->tftp_xdp_no_room = 1;
	put_window_session6(46101, 16, 0, 0, false);
	run_prog(false, in, build_ack6(in, 46101, 0), &r);
	assert_int_equal(r.retval, XDP_REDIRECT);
	assert_int_equal(get_session6(46101).last_block, 16);
	put_session6(46102, ASSET_RANDOM, 16, 3, false);
	passes_unchanged(false, in, build_ack6(in, 46102, 3), XPXE_CNT_TFTP6_XDP_TO_TC);
	assert_int_equal(get_session6(46102).last_block, 3);
	skel->bss->tftp_xdp_no_room = 0;
}

static void test_tc_passes_what_is_not_udp(void **state)
{
	uint8_t in[FRAME_MAX] = { 0 };
	size_t len = frame_eth(in, ETH_P_ARP) + 28;

	(void)state;
	passes_unchanged(true, in, len, XPXE_CNT_TFTP_TC_PASS);
}

/* --- on a VLAN trunk: xdp_pxe answers an ACK with its tags kept (bpf/vlan.h) ----------- */

/* Puts a tag (TPID, TCI) right after the MACs of the frame F of LEN bytes; returns the length. */
static size_t push_tag(uint8_t *f, size_t len, unsigned int tpid, unsigned int tci)
{
	memmove(f + 16, f + 12, len - 12);
	f[12] = (uint8_t)(tpid >> 8), f[13] = (uint8_t)tpid;
	f[14] = (uint8_t)(tci >> 8), f[15] = (uint8_t)tci;
	return len + 4;
}

/* The trunk's VLANs as the daemon loads them for --vlan 10=198.18.10.1/24 --vlan 100.20=.... */
static void load_vlans(void)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { .mode = XPXE_MODE_FULL, .lease_time = 3600 };
	struct xpxe_vlan_cfg v10 = { .vid = 10, .prefix = 24, .server_ip = { htonl(0xc6120a01) } },
			     v20 = { .vid = 20,
				     .outer_vid = 100,
				     .prefix = 24,
				     .server_ip = { htonl(0xc6121401) } };

	xpxe_dhcp_settings_default(&s);
	s.mode = XPXE_MODE_FULL;
	s.server_ip.s_addr = SERVER_IP;
	net.server_ip = s.server_ip;
	net.netmask.s_addr = htonl(0xffffff00);
	assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &v10, 1), 0);
	assert_int_equal(xpxe_vlan_load_maps(skel, &s, &net, &v20, 2), 0);
}

/*
 * The untagged ACK IN (IN_LEN bytes) with NTAGS tags (VLAN 10 with priority bits; VLAN 100.20)
 * into TAGGED: the frame xdp_pxe sees on the trunk. Returns its length.
 */
static size_t tag_ack(uint8_t *tagged, const uint8_t *in, size_t in_len, int ntags)
{
	size_t len;

	memcpy(tagged, in, in_len);
	if (ntags == 1)
		return push_tag(tagged, in_len, 0x8100, 0xa000 | 10); /* PCP 5 */
	len = push_tag(tagged, in_len, 0x8100, 20);
	return push_tag(tagged, len, 0x88a8, 0x2000 | 100);
}

/*
 * A block's ACK on a VLAN (802.1Q, and 802.1ad over 802.1Q): the DATA is the untagged ACK's,
 * byte for byte, with the ACK's tags after its MACs; a window's ACK goes to AF_XDP untagged
 * behind the metadata, which carries the tags; an ACK of no transfer goes up as it came.
 */
static void test_tagged_acks_xdp(void **state)
{
	static struct run u, t;
	uint8_t in[FRAME_MAX] = { 0 }, tagged[FRAME_MAX];
	struct xpxe_tftp_xsk_meta meta;

	(void)state;
	load_vlans();
	for (int ntags = 1; ntags <= 2; ntags++) {
		uint16_t port = 44300 + 10 * ntags;
		size_t in_len = build_ack(in, port, 3), len = tag_ack(tagged, in, in_len, ntags);
		size_t room = 4 * (size_t)ntags;

		/* Lockstep: the same session answered untagged, then tagged. */
		put_session(port, ASSET_RANDOM, 1468, 3, false);
		run_prog(false, in, in_len, &u);
		assert_int_equal(u.retval, XDP_TX);
		put_session(port, ASSET_RANDOM, 1468, 3, false);
		run_prog(false, tagged, len, &t);
		assert_int_equal(t.retval, XDP_TX);
		assert_int_equal(t.out_len, u.out_len + room);
		assert_memory_equal(t.out, u.out, 12);
		assert_memory_equal(t.out + 12, tagged + 12, room);
		assert_memory_equal(t.out + 12 + room, u.out + 12, u.out_len - 12);
		assert_int_equal(get_session(port).last_block, 4);

		/* A window: the untagged ACK behind the metadata, the tags in it. */
		put_window_session(port + 1, 16, 0, 0, false);
		in_len = build_ack(in, port + 1, 0);
		len = tag_ack(tagged, in, in_len, ntags);
		run_prog(false, tagged, len, &t);
		assert_int_equal(t.retval, XDP_REDIRECT);
		assert_int_equal(t.out_len, sizeof(meta) + in_len);
		assert_memory_equal(t.out + sizeof(meta), in, in_len);
		memcpy(&meta, t.out, sizeof(meta));
		assert_int_equal(meta.magic, XPXE_TFTP_XSK_MAGIC);
		assert_int_equal(meta.ntags, ntags);
		assert_int_equal(meta.first_block, 1);
		for (int i = 0; i < ntags; i++) {
			assert_memory_equal(&meta.tpid[i], tagged + 12 + 4 * i, 2);
			assert_memory_equal(&meta.tci[i], tagged + 14 + 4 * i, 2);
		}

		/* No transfer on that port: passed up as it came, tags and all. */
		in_len = build_ack(in, port + 2, 1);
		len = tag_ack(tagged, in, in_len, ntags);
		run_prog(false, tagged, len, &t);
		assert_int_equal(t.retval, XDP_PASS);
		assert_int_equal(t.out_len, len);
		assert_memory_equal(t.out, tagged, len);
	}
}

/* The ACK of BLOCK from the client to SERVER_PORT at TO (network order), VLAN's address. */
static size_t build_ack_to(uint8_t *buf, uint32_t to, uint16_t server_port, uint16_t block)
{
	uint8_t ack[4] = { 0, XPXE_TFTP_ACK, block >> 8, block & 0xff };

	return frame_udp(buf, CLIENT_IP, to, CLIENT_PORT, server_port, ack, sizeof(ack));
}

/*
 * The same on tc_tftp (the fallback where XDP has no room to grow), for ACKs to the VLAN's
 * server address: the DATA is built behind the ACK's tags, which stay in the frame as they
 * came (priority bits and all; before, tc popped them and pushed them back, the outer one out
 * of the frame), byte for byte the untagged ACK's DATA otherwise, and no tag is popped. What
 * goes up (a window's ACK, for the daemon's socket; an ACK of no transfer) goes up untagged.
 */
static void test_tagged_acks_tc(void **state)
{
	static const uint32_t vlan_ip[3] = { 0, 0xc6120a01, 0xc6121401 };
	static struct run u, t;
	uint8_t in[FRAME_MAX] = { 0 }, tagged[FRAME_MAX];
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX];

	(void)state;
	load_vlans();
	for (int ntags = 1; ntags <= 2; ntags++) {
		uint16_t port = 44400 + 10 * ntags;
		uint32_t to = htonl(vlan_ip[ntags]);
		size_t in_len = build_ack_to(in, to, port, 3),
		       len = tag_ack(tagged, in, in_len, ntags);
		size_t room = 4 * (size_t)ntags;

		/* Lockstep: the same session answered untagged, then tagged. */
		put_session(port, ASSET_RANDOM, 1468, 3, false);
		run_prog(true, in, in_len, &u);
		assert_int_equal(u.retval, TC_ACT_REDIRECT);
		put_session(port, ASSET_RANDOM, 1468, 3, false);
		read_counters(before);
		run_prog(true, tagged, len, &t);
		read_counters(after);
		assert_int_equal(t.retval, TC_ACT_REDIRECT);
		assert_int_equal(t.out_len, u.out_len + room);
		assert_memory_equal(t.out, u.out, 12);
		assert_memory_equal(t.out + 12, tagged + 12, room);
		assert_memory_equal(t.out + 12 + room, u.out + 12, u.out_len - 12);
		assert_int_equal(get_session(port).last_block, 4);
		assert_int_equal(after[XPXE_CNT_TFTP_DATA_TC] - before[XPXE_CNT_TFTP_DATA_TC], 1);
		assert_int_equal(after[XPXE_CNT_VLAN_TC_POPPED], before[XPXE_CNT_VLAN_TC_POPPED]);

		/* A window's ACK: recorded, and up to the daemon's socket untagged. */
		put_window_session(port + 1, 16, 0, 0, false);
		in_len = build_ack_to(in, to, port + 1, 0);
		len = tag_ack(tagged, in, in_len, ntags);
		read_counters(before);
		run_prog(true, tagged, len, &t);
		read_counters(after);
		assert_int_equal(t.retval, TC_ACT_OK);
		assert_int_equal(t.out_len, in_len);
		assert_memory_equal(t.out, in, in_len);
		assert_int_equal(after[XPXE_CNT_VLAN_TC_POPPED] - before[XPXE_CNT_VLAN_TC_POPPED],
				 1);

		/* No transfer on that port: up untagged too. */
		in_len = build_ack_to(in, to, port + 2, 1);
		len = tag_ack(tagged, in, in_len, ntags);
		run_prog(true, tagged, len, &t);
		assert_int_equal(t.retval, TC_ACT_OK);
		assert_int_equal(t.out_len, in_len);
		assert_memory_equal(t.out, in, in_len);
	}
}

int main(void)
{
	enum { N_CASES = sizeof(cases) / sizeof(cases[0]) };
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_whole_transfer_xdp),
		cmocka_unit_test(test_whole_transfer_tc),
		cmocka_unit_test(test_stored_block_sums_xdp),
		cmocka_unit_test(test_stored_block_sums_tc),
		cmocka_unit_test(test_wrq_refused_by_xdp),
		cmocka_unit_test(test_rrq_goes_to_the_daemon),
		cmocka_unit_test(test_ack_without_session_passes),
		cmocka_unit_test(test_other_opcode_to_a_transfer_goes_to_the_daemon),
		cmocka_unit_test(test_session_without_asset_passes),
		cmocka_unit_test(test_client_error_aborts),
		cmocka_unit_test(test_tc_passes_what_is_not_udp),
		cmocka_unit_test(test_window_without_af_xdp),
		cmocka_unit_test(test_window_where_xdp_has_no_room),
		cmocka_unit_test(test_window_restarts_once),
		cmocka_unit_test(test_tagged_acks_xdp),
		cmocka_unit_test(test_tagged_acks_tc),
		cmocka_unit_test(test_bad_checksums6),
		cmocka_unit_test(test_offload_seed6),
		cmocka_unit_test(test_tc6_passes),
		cmocka_unit_test(test_whole_transfer_tc6),
		cmocka_unit_test(test_xdp6_falls_back_to_tc),
		cmocka_unit_test(test_xdp6_outcomes),
		cmocka_unit_test(test_whole_transfer_xdp6),
		cmocka_unit_test(test_window6_without_af_xdp),
		cmocka_unit_test(test_window6_where_xdp_has_no_room),
	};
	enum { N_FIXED = sizeof(fixed) / sizeof(fixed[0]) };
	enum { N_WINDOWS = sizeof(window_cases) / sizeof(window_cases[0]) };
	static struct CMUnitTest tests[5 * N_CASES + N_FIXED + 2 * N_WINDOWS];
	static char names[5 * N_CASES + 2 * N_WINDOWS][128];

	for (int i = 0; i < N_CASES; i++) {
		snprintf(names[2 * i], sizeof(names[0]), "xdp: %s", cases[i].name);
		snprintf(names[2 * i + 1], sizeof(names[0]), "tc: %s", cases[i].name);
		tests[2 * i] = (struct CMUnitTest){ .name = names[2 * i],
						    .test_func = test_data_xdp,
						    .initial_state = (void *)&cases[i] };
		tests[2 * i + 1] = (struct CMUnitTest){ .name = names[2 * i + 1],
							.test_func = test_data_tc,
							.initial_state = (void *)&cases[i] };
	}
	memcpy(tests + 2 * N_CASES, fixed, sizeof(fixed));
	for (int i = 0; i < N_WINDOWS; i++) {
		snprintf(names[2 * N_CASES + i], sizeof(names[0]), "window: %s",
			 window_cases[i].name);
		tests[2 * N_CASES + N_FIXED + i] =
		    (struct CMUnitTest){ .name = names[2 * N_CASES + i],
					 .test_func = test_window,
					 .initial_state = (void *)&window_cases[i] };
	}
	for (int i = 0; i < N_CASES; i++) {
		int k = 2 * N_CASES + N_WINDOWS + i;

		snprintf(names[k], sizeof(names[0]), "tc, IPv6: %s", cases[i].name);
		tests[2 * N_CASES + N_FIXED + N_WINDOWS + i] =
		    (struct CMUnitTest){ .name = names[k],
					 .test_func = test_data_tc6,
					 .initial_state = (void *)&cases[i] };
	}
	for (int i = 0; i < N_CASES; i++) {
		int k = 3 * N_CASES + N_WINDOWS + i;

		snprintf(names[k], sizeof(names[0]), "xdp, IPv6: %s", cases[i].name);
		tests[3 * N_CASES + N_FIXED + N_WINDOWS + i] =
		    (struct CMUnitTest){ .name = names[k],
					 .test_func = test_data_xdp6,
					 .initial_state = (void *)&cases[i] };
	}
	for (int i = 0; i < N_WINDOWS; i++) {
		int k = 4 * N_CASES + N_WINDOWS + i;

		snprintf(names[k], sizeof(names[0]), "window, IPv6: %s", window_cases[i].name);
		tests[4 * N_CASES + N_FIXED + N_WINDOWS + i] =
		    (struct CMUnitTest){ .name = names[k],
					 .test_func = test_window6,
					 .initial_state = (void *)&window_cases[i] };
	}
	for (int i = 0; i < N_CASES; i++) {
		int k = 4 * N_CASES + 2 * N_WINDOWS + i;

		snprintf(names[k], sizeof(names[0]), "xdp frags, IPv6: %s", cases[i].name);
		tests[4 * N_CASES + N_FIXED + 2 * N_WINDOWS + i] =
		    (struct CMUnitTest){ .name = names[k],
					 .test_func = test_data_xdp6_frags,
					 .teardown_func = xdp_frags_off,
					 .initial_state = (void *)&cases[i] };
	}
	return _cmocka_run_group_tests("tftp_data", tests, 5 * N_CASES + N_FIXED + 2 * N_WINDOWS,
				       setup, teardown);
}
