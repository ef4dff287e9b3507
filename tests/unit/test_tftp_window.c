// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Windowed TFTP (RFC 7440) in the daemon's half: the one ACK decision all
 * paths make (xpxe_tftp_decide, include/xpxe_tftp.h), case by case, and the
 * DATA frames the daemon builds for AF_XDP, over IPv4 and IPv6, byte for byte
 * against frames built the slow, obvious way (tests/bpf/frames.h), at every
 * awkward offset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../bpf/frames.h"
#include "assets.h"
#include "tftp/proto.h"

#define NOW	 (10ull * 1000 * 1000 * 1000)
#define RECENT	 (NOW - 1000 * 1000)		   /* 1 ms ago */
#define LONG_AGO (NOW - 2ull * 1000 * 1000 * 1000) /* 2 s ago: a client's retry */

struct decide_case {
	const char *name;
	uint32_t base, last, final;
	unsigned windowsize;
	uint64_t last_tx;
	uint16_t ack;
	enum xpxe_tftp_verdict verdict;
	uint32_t first, win_last, resent; /* for SEND */
};

static const struct decide_case decide_cases[] = {
	{ "ACK 0 of the OACK: the first window", 0, 0, 100, 16, RECENT, 0, XPXE_TFTP_SEND, 1, 16,
	  0 },
	{ "ACK of the window's last block: the next window", 0, 16, 100, 16, RECENT, 16,
	  XPXE_TFTP_SEND, 17, 32, 0 },
	{ "the last window is cut at the final block", 80, 96, 100, 16, RECENT, 96, XPXE_TFTP_SEND,
	  97, 100, 0 },
	{ "ACK of the final block: completed", 96, 100, 100, 16, RECENT, 100, XPXE_TFTP_COMPLETED,
	  0, 0, 0 },
	{ "ACK inside the window (loss after it): resume right after it", 16, 32, 100, 16, RECENT,
	  20, XPXE_TFTP_SEND, 21, 36, 12 },
	{ "ACK of the window's base, long after: the whole window again", 16, 32, 100, 16, LONG_AGO,
	  16, XPXE_TFTP_SEND, 17, 32, 16 },
	{ "ACK of the window's base right after it went out: its first block was lost, the "
	  "window starts again at once",
	  16, 32, 100, 16, RECENT, 16, XPXE_TFTP_SEND, 17, 32, 16 },

	{ "an ACK older than the window is stale", 16, 32, 100, 16, LONG_AGO, 15, XPXE_TFTP_STALE,
	  0, 0, 0 },
	{ "an ACK of a block not sent is stale", 16, 32, 100, 16, LONG_AGO, 33, XPXE_TFTP_STALE, 0,
	  0, 0 },
	{ "lockstep: ACK n -> DATA n+1", 4, 5, 100, 1, RECENT, 5, XPXE_TFTP_SEND, 6, 6, 0 },
	{ "lockstep: ACK n-1 after a timeout -> DATA n again", 4, 5, 100, 1, LONG_AGO, 4,
	  XPXE_TFTP_SEND, 5, 5, 1 },
	{ "lockstep: ACK n-1 right away: the Sorcerer's Apprentice", 4, 5, 100, 1, RECENT, 4,
	  XPXE_TFTP_DUP, 0, 0, 0 },
	{ "windowsize 0 (a session written before windows) is lockstep", 0, 0, 100, 0, RECENT, 0,
	  XPXE_TFTP_SEND, 1, 1, 0 },
	{ "rollover: ACK 0 after block 65535 ends block 65536", 65520, 65535, 200000, 16, RECENT,
	  65535, XPXE_TFTP_SEND, 65536, 65551, 0 },
	{ "rollover: an ACK that rolled over inside the window", 65530, 65546, 200000, 16, RECENT,
	  2, XPXE_TFTP_SEND, 65539, 65554, 8 },
	{ "rollover: the window's last block after the rollover", 65530, 65546, 200000, 16, RECENT,
	  10, XPXE_TFTP_SEND, 65547, 65562, 0 },
	{ "DATA 1 without options: ACK 0 right away is a duplicate", 0, 1, 100, 1, RECENT, 0,
	  XPXE_TFTP_DUP, 0, 0, 0 },
};

/* The same, when the last window was itself a restart (the session's `restarted`). */
static const struct decide_case after_restart_cases[] = {
	{ "ACK of the window's base right after a restart from it: a duplicate (the lost "
	  "window's later blocks each bring one)",
	  16, 32, 100, 16, RECENT, 16, XPXE_TFTP_DUP, 0, 0, 0 },
	{ "a repeated ACK after a restart from inside the window is a duplicate too", 20, 36, 100,
	  16, RECENT, 20, XPXE_TFTP_DUP, 0, 0, 0 },
	{ "long after a restart, a loss again: the window once more", 20, 36, 100, 16, LONG_AGO, 20,
	  XPXE_TFTP_SEND, 21, 36, 16 },
	{ "after a restart, the ACK of its last block: the next window", 20, 36, 100, 16, RECENT,
	  36, XPXE_TFTP_SEND, 37, 52, 0 },
};

static void decide_one(const struct decide_case *c, bool restarted)
{
	struct xpxe_tftp_session s = {
		.last_tx_ns = c->last_tx,
		.last_block = c->last,
		.final_block = c->final,
		.win_base = c->base,
		.windowsize = c->windowsize,
		.blksize = 512,
		.size = (c->final - 1) * 512,
		.state = XPXE_TFTP_ACTIVE,
		.restarted = restarted,
	};
	struct xpxe_tftp_window w = { 0 };
	enum xpxe_tftp_verdict v = xpxe_tftp_decide(&s, c->ack, NOW, &w);

	if (v != c->verdict)
		fail_msg("%s: verdict %d, expected %d", c->name, v, c->verdict);
	if (v != XPXE_TFTP_SEND)
		return;
	assert_int_equal(w.first, c->first);
	assert_int_equal(w.last, c->win_last);
	assert_int_equal(w.resent, c->resent);
	assert_int_equal(w.acked, c->first - 1);
}

static void run_decide(void **state)
{
	decide_one(*state, false);
}

static void run_decide_after_restart(void **state)
{
	decide_one(*state, true);
}

/* An asset laid out as the daemon does, in chunks, from random bytes. */
struct asset {
	uint8_t *file;
	uint64_t size;
	struct xpxe_tftp_chunk *chunks;
	uint32_t n_chunks;
};

static struct asset make_asset(uint64_t size, uint32_t seed)
{
	struct asset a = { .size = size };

	a.file = malloc(size ? size : 1);
	for (uint64_t i = 0; i < size; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		a.file[i] = (uint8_t)seed;
	}
	a.n_chunks = (uint32_t)(size >> XPXE_TFTP_CHUNK_SHIFT) + 1;
	a.chunks = calloc(a.n_chunks, sizeof(*a.chunks));
	for (uint32_t i = 0; i < a.n_chunks; i++)
		xpxe_asset_fill_chunk(&a.chunks[i], a.file, size, i);
	return a;
}

static void free_asset(struct asset *a)
{
	free(a->file);
	free(a->chunks);
}

/* The sum of every [r, r + len) against a direct sum, at odd and even starts. */
static void test_chunk_sum(void **state)
{
	struct asset a = make_asset(3 * XPXE_TFTP_CHUNK, 7);

	(void)state;
	for (uint32_t r = 0; r < XPXE_TFTP_CHUNK; r += 997) {
		for (uint32_t len = 0; len <= XPXE_TFTP_BLKSIZE_MAX; len += 131) {
			uint32_t want = frame_csum_add(0, a.chunks[1].data + r, len);
			uint32_t got = xpxe_tftp_chunk_sum(&a.chunks[1], r, len);

			while (want >> 16)
				want = (want & 0xffff) + (want >> 16);
			/* One's complement: 0 and 0xffff are the same number. */
			if (got % 0xffff != want % 0xffff)
				fail_msg("r %u len %u: sum %#x, expected %#x", r, len, got, want);
		}
	}
	free_asset(&a);
}

static const struct xpxe_tftp_peer peer = {
	.client_mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	.server_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	.client_ip = 0x640012c6, /* 198.18.0.100, network order on a little-endian host */
	.server_ip = 0x010012c6, /* 198.18.0.1 */
	.client_port = 0x1206,	 /* 1554 */
	.server_port = 0x409c,	 /* 40000 */
};

/* DATA BLOCK as the programs send it, built independently: DF set, no IP id. */
static size_t reference_frame(uint8_t *buf, const struct asset *a, unsigned blksize, uint32_t block)
{
	static uint8_t payload[4 + XPXE_TFTP_BLKSIZE_MAX];
	uint64_t off = (uint64_t)(block - 1) * blksize;
	size_t len = a->size - off < blksize ? a->size - off : blksize, n;
	struct ethhdr *eth = (struct ethhdr *)buf;
	frame_iphdr *iph = frame_iph(buf);

	payload[0] = 0;
	payload[1] = XPXE_TFTP_DATA;
	payload[2] = (block >> 8) & 0xff;
	payload[3] = block & 0xff;
	memcpy(payload + 4, a->file + off, len);
	n = frame_udp(buf, peer.server_ip, peer.client_ip, ntohs(peer.server_port),
		      ntohs(peer.client_port), payload, 4 + len);
	memcpy(eth->h_dest, peer.client_mac, ETH_ALEN);
	memcpy(eth->h_source, peer.server_mac, ETH_ALEN);
	iph->frag_off = htons(0x4000);
	iph->check = 0;
	iph->check = htons(frame_csum_fold(frame_csum_add(0, iph, sizeof(*iph))));
	return n;
}

/* The same peer over IPv6: fd00:198:18:6::2 and ::1, as the lab's. */
static const struct xpxe_tftp_peer peer6 = {
	.client_mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	.server_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	.ipv6 = true,
	.client_ip6 = { 0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0x06, [15] = 2 },
	.server_ip6 = { 0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0x06, [15] = 1 },
	.client_port = 0x1206,
	.server_port = 0x409c,
};

/* DATA BLOCK over IPv6 as the programs send it (bpf/tftp6.h), built independently: hop limit 64. */
static size_t reference_frame6(uint8_t *buf, const struct asset *a, unsigned blksize,
			       uint32_t block)
{
	static uint8_t payload[4 + XPXE_TFTP_BLKSIZE_MAX];
	uint64_t off = (uint64_t)(block - 1) * blksize;
	size_t len = a->size - off < blksize ? a->size - off : blksize, n;
	struct ethhdr *eth = (struct ethhdr *)buf;

	payload[0] = 0;
	payload[1] = XPXE_TFTP_DATA;
	payload[2] = (block >> 8) & 0xff;
	payload[3] = block & 0xff;
	memcpy(payload + 4, a->file + off, len);
	n = frame_udp6(buf, peer6.server_ip6, peer6.client_ip6, ntohs(peer6.server_port),
		       ntohs(peer6.client_port), payload, 4 + len);
	memcpy(eth->h_dest, peer6.client_mac, ETH_ALEN);
	memcpy(eth->h_source, peer6.server_mac, ETH_ALEN);
	buf[ETH_HLEN + 7] = 64; /* the hop limit is in no checksum */
	return n;
}

static void frames_equal_to(const struct xpxe_tftp_peer *p, const struct asset *a, unsigned blksize,
			    uint32_t block)
{
	static uint8_t got[FRAME_MAX], want[FRAME_MAX];
	size_t n = xpxe_tftp_data_frame(got, p, a->chunks, a->n_chunks, a->size, blksize, block);
	size_t m = p->ipv6 ? reference_frame6(want, a, blksize, block)
			   : reference_frame(want, a, blksize, block);

	if (n != m || memcmp(got, want, m))
		fail_msg("%s, blksize %u block %u: %zu bytes, expected %zu%s",
			 p->ipv6 ? "IPv6" : "IPv4", blksize, block, n, m,
			 n == m ? ", contents differ" : "");
}

/* Both families: one frame builder (proto.c), each against its own reference. */
static void frames_equal(const struct asset *a, unsigned blksize, uint32_t block)
{
	frames_equal_to(&peer, a, blksize, block);
	frames_equal_to(&peer6, a, blksize, block);
}

static void test_data_frames(void **state)
{
	static const unsigned sizes[] = { 8, 512, 513, 1001, 1024, 1467, 1468 };
	struct asset a = make_asset(200000, 99), empty = make_asset(1024, 3);

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t final = a.size / sizes[i] + 1;

		/* Every block near each chunk boundary, and the first and last ones. */
		for (uint32_t b = 1; b <= final; b++) {
			uint64_t off = (uint64_t)(b - 1) * sizes[i];

			if (b <= 3 || b + 3 >= final ||
			    (off & (XPXE_TFTP_CHUNK - 1)) + 2 * sizes[i] > XPXE_TFTP_CHUNK ||
			    (off & (XPXE_TFTP_CHUNK - 1)) < sizes[i])
				frames_equal(&a, sizes[i], b);
		}
	}
	frames_equal(&empty, 512, 3); /* the final, empty block */
	free_asset(&a);
	free_asset(&empty);
}

static void test_blocks_outside_the_asset(void **state)
{
	static uint8_t buf[FRAME_MAX];
	struct asset a = make_asset(1024, 5);

	(void)state;
	assert_int_equal(xpxe_tftp_data_frame(buf, &peer, a.chunks, a.n_chunks, a.size, 512, 0), 0);
	assert_int_equal(xpxe_tftp_data_frame(buf, &peer, a.chunks, a.n_chunks, a.size, 512, 4), 0);
	/* A size that claims more chunks than the asset has. */
	assert_int_equal(xpxe_tftp_data_frame(buf, &peer, a.chunks, a.n_chunks, 1 << 20, 1468, 500),
			 0);
	free_asset(&a);
}

static void test_peer_from_an_ack(void **state)
{
	static const uint8_t ack[4] = { 0, XPXE_TFTP_ACK, 0, 7 };
	uint8_t buf[FRAME_MAX];
	struct xpxe_tftp_peer p;
	size_t n = frame_udp(buf, peer.client_ip, peer.server_ip, 1554, 40000, ack, sizeof(ack));

	(void)state;
	assert_int_equal(xpxe_tftp_peer_from_frame(buf, n, &p), 0);
	assert_memory_equal(&p, &peer, sizeof(p));
	assert_int_equal(xpxe_tftp_peer_from_frame(buf, 20, &p), -1);
	frame_eth(buf, ETH_P_ARP);
	assert_int_equal(xpxe_tftp_peer_from_frame(buf, n, &p), -1);
}

static void test_peer_from_an_ack6(void **state)
{
	static const uint8_t ack[4] = { 0, XPXE_TFTP_ACK, 0, 7 };
	uint8_t buf[FRAME_MAX];
	struct xpxe_tftp_peer p;
	size_t n =
	    frame_udp6(buf, peer6.client_ip6, peer6.server_ip6, 1554, 40000, ack, sizeof(ack));

	(void)state;
	assert_int_equal(xpxe_tftp_peer_from_frame(buf, n, &p), 0);
	assert_memory_equal(&p, &peer6, sizeof(p));
	assert_int_equal(xpxe_tftp_hdrs_len(&p), XPXE_TFTP_HDRS6_LEN);
	/* Cut inside the UDP header. */
	assert_int_equal(xpxe_tftp_peer_from_frame(buf, ETH_HLEN + 40 + 4, &p), -1);
	/* An extension header (hop-by-hop) in front of UDP: not an ACK XDP redirects. */
	buf[ETH_HLEN + 6] = 0;
	assert_int_equal(xpxe_tftp_peer_from_frame(buf, n, &p), -1);
	/* Not version 6. */
	buf[ETH_HLEN + 6] = IPPROTO_UDP;
	buf[ETH_HLEN] = 0x40;
	assert_int_equal(xpxe_tftp_peer_from_frame(buf, n, &p), -1);
}

/*
 * IPv6's checksum is mandatory (RFC 8200 8.1): a datagram whose sum comes to 0 carries 0xffff,
 * never 0 (which says "none"). The block's first word is set to make it so, then the frame is
 * checked whole.
 */
static void test_ipv6_checksum_never_zero(void **state)
{
	static uint8_t got[FRAME_MAX];
	struct asset a = make_asset(1000, 11);
	uint8_t *udp = got + ETH_HLEN + 40;
	uint32_t s0, w0, w, sum;
	size_t n;

	(void)state;
	n = xpxe_tftp_data_frame(got, &peer6, a.chunks, a.n_chunks, a.size, 512, 1);
	assert_int_equal(n, XPXE_TFTP_HDRS6_LEN + 512);
	/* The sum the checksum complements; the file's first word moves it one for one. */
	s0 = ~(udp[6] << 8 | udp[7]) & 0xffff;
	w0 = a.file[0] << 8 | a.file[1];
	w = (w0 + 0xffff - s0) % 0xffff;
	a.file[0] = w >> 8;
	a.file[1] = w & 0xff;
	xpxe_asset_fill_chunk(&a.chunks[0], a.file, a.size, 0);
	n = xpxe_tftp_data_frame(got, &peer6, a.chunks, a.n_chunks, a.size, 512, 1);
	assert_int_equal(udp[6], 0xff);
	assert_int_equal(udp[7], 0xff);
	/* 0xffff stands for 0: the datagram with its pseudo-header still sums to all ones. */
	sum = frame_csum_add(0, got + ETH_HLEN + 8, 32) + IPPROTO_UDP + (n - ETH_HLEN - 40);
	assert_int_equal(frame_csum_fold(frame_csum_add(sum, udp, n - ETH_HLEN - 40)), 0);
	free_asset(&a);
}

int main(void)
{
	enum { N_CASES = sizeof(decide_cases) / sizeof(decide_cases[0]) };
	enum { N_AFTER = sizeof(after_restart_cases) / sizeof(after_restart_cases[0]) };
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_chunk_sum),
		cmocka_unit_test(test_data_frames),
		cmocka_unit_test(test_blocks_outside_the_asset),
		cmocka_unit_test(test_peer_from_an_ack),
		cmocka_unit_test(test_peer_from_an_ack6),
		cmocka_unit_test(test_ipv6_checksum_never_zero),
	};
	enum { N_FIXED = sizeof(fixed) / sizeof(fixed[0]) };
	static struct CMUnitTest tests[N_CASES + N_AFTER + N_FIXED];

	for (int i = 0; i < N_CASES; i++)
		tests[i] = (struct CMUnitTest){ .name = decide_cases[i].name,
						.test_func = run_decide,
						.initial_state = (void *)&decide_cases[i] };
	for (int i = 0; i < N_AFTER; i++)
		tests[N_CASES + i] =
		    (struct CMUnitTest){ .name = after_restart_cases[i].name,
					 .test_func = run_decide_after_restart,
					 .initial_state = (void *)&after_restart_cases[i] };
	memcpy(tests + N_CASES + N_AFTER, fixed, sizeof(fixed));
	return _cmocka_run_group_tests("tftp_window", tests, N_CASES + N_AFTER + N_FIXED, NULL,
				       NULL);
}
