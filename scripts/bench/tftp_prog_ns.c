// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tftp_prog_ns: the programs' own cost per TFTP DATA block, measured by the
 * kernel (bpf_prog_test_run_opts, its `duration`), for xdp_pxe (ACK grown
 * into DATA, XDP_TX) and tc_tftp (the fallback), 1468-byte blocks of a 32 MiB
 * asset loaded by the daemon's asset store.
 *
 * A run turns the ACK into the DATA frame in place, and with `repeat` the
 * kernel runs the program again on that output, not on the ACK: so the data
 * path is timed one run per call (repeat = 1, every block of the file in
 * turn, several passes), and `repeat` is used where a run leaves its input
 * as it was (a frame for no transfer: parse and lookup only).
 *
 *   tftp_prog_ns [PASSES [SIZE [BLKSIZE]]]   prints key=value lines (default 3 passes, 32 MiB,
 *                                            blksize 1468). Each data path's figures come raw
 *                                            (NAME_median_ns: the kernel's timing as it is)
 *                                            and with the test run's own share taken off
 *                                            (NAME_median_net_ns: less NAME_floor_median_ns,
 *                                            an empty program's, timed the same way). With
 *                                            blksize 1468 also the copy's floor (xdp_copy,
 *                                            tc_copy: bpf/bench_block.bpf.c) and a memcpy
 *                                            of the blocks in userspace.
 *   tftp_prog_ns PASSES SIZE tags    the data paths only, for an untagged ACK, one on
 *                                    VLAN 10 (802.1Q) and one on VLAN 100.20 (802.1ad over
 *                                    802.1Q), in turn (scripts/bench/vlan.sh)
 *   tftp_prog_ns PASSES SIZE v6      the IPv6 data paths only: xdp_pxe with its tail call to
 *                                    xdp_tftp6 (XDP_TX) and tc_tftp (redirect), pass by pass
 *                                    in turn (BLKSIZE 1468)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "tftp_entry.h"
#include "bench_block.skel.h"
#include "assets.h"
#include "dhcp/dhcp.h"
#include "frames.h"
#include "log.h"
#include "xpxe.h"
#include "xpxe_tftp.h"

#define CLIENT_IP htonl(0xc6120064)
#define SERVER_IP htonl(0xc6120001)

static struct xpxe_bpf *skel;
/* The floors: an empty program, a block's copy alone (bpf/bench_block.bpf.c). */
static struct bench_block_bpf *floors;
static uint32_t SIZE = 32u << 20;
/* 1468 by default; another size times the blocks whose sums are not stored (xpxe_tftp.h). */
static uint32_t BLKSIZE = 1468;

static size_t ack(uint8_t *buf, uint16_t server_port, uint16_t block)
{
	uint8_t p[4] = { 0, XPXE_TFTP_ACK, block >> 8, block & 0xff };

	return frame_udp(buf, CLIENT_IP, SERVER_IP, 1554, server_port, p, sizeof(p));
}

static void put_session_for(uint32_t client_ip, uint16_t server_port, uint32_t slot)
{
	struct xpxe_tftp_key key = { client_ip, htons(1554), htons(server_port) };
	struct xpxe_tftp_session s = {
		.size = SIZE,
		.asset_slot = slot,
		.blksize = BLKSIZE,
		.final_block = SIZE / BLKSIZE + 1,
		.state = XPXE_TFTP_ACTIVE,
	};

	tftp_entry_update(bpf_map__fd(skel->maps.tftp_sessions), &key, &s, BPF_ANY);
}

static void put_session(uint16_t server_port, uint32_t slot)
{
	put_session_for(CLIENT_IP, server_port, slot);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The test run's own share of each figure. bpf_prog_test_run_opts times from a ktime_get_ns
 * before the run to one after it (net/bpf/test_run.c: bpf_test_timer_enter, then per run
 * the run context, bh off, the program's indirect call, bh on, and bpf_test_timer_continue's
 * count and second ktime_get_ns), so every one-run figure carries that. An empty program
 * (bench_block's xdp_nop and tc_nop) timed the same way, one run per call on the same ACK,
 * measures it: FLOOR_RUNS calls before each pass of the data paths.
 */
#define FLOOR_RUNS 5000

/* A program timed over every block of the file, one run per call, pass by pass. */
struct path {
	const char *name;
	int fd, floor_fd, want;
	uint16_t port;
	uint32_t *ns, *floor;
	size_t runs, floor_runs;
	unsigned long long total;
};

static void path_init(struct path *p, const char *name, int fd, int floor_fd, int want,
		      uint16_t port, int passes)
{
	*p = (struct path){
		.name = name, .fd = fd, .floor_fd = floor_fd, .want = want, .port = port
	};
	p->ns = calloc((size_t)passes * (SIZE / BLKSIZE + 1), sizeof(*p->ns));
	p->floor = calloc((size_t)passes * FLOOR_RUNS, sizeof(*p->floor));
	if (!p->ns || !p->floor)
		exit(1);
}

/* One pass of P: the floor's runs, then every block of the file in turn, one run each. */
static void path_pass(struct path *p, uint32_t slot)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];

	for (int i = 0; i < FLOOR_RUNS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
			    .data_size_in = ack(in, p->port, 1), .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		if (bpf_prog_test_run_opts(p->floor_fd, &opts)) {
			fprintf(stderr, "%s floor: error\n", p->name);
			exit(1);
		}
		p->floor[p->floor_runs++] = opts.duration;
	}
	put_session(p->port, slot);
	for (uint32_t b = 0; b < SIZE / BLKSIZE + 1; b++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
			    .data_size_in = ack(in, p->port, b & 0xffff), .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		if (bpf_prog_test_run_opts(p->fd, &opts) || (int)opts.retval != p->want) {
			fprintf(stderr, "%s block %u: retval %d\n", p->name, b + 1, opts.retval);
			exit(1);
		}
		p->total += opts.duration;
		p->ns[p->runs++] = opts.duration;
	}
}

/*
 * P's figures: the kernel's timing of one run per call as it is (raw: mean, median, 10th
 * percentile), the floor's median, and the median and 10th percentile with the floor's
 * median taken off ("_net").
 */
static void path_print(struct path *p)
{
	uint32_t median, p10, floor;

	qsort(p->ns, p->runs, sizeof(*p->ns), cmp_u32);
	qsort(p->floor, p->floor_runs, sizeof(*p->floor), cmp_u32);
	median = p->ns[p->runs / 2];
	p10 = p->ns[p->runs / 10];
	floor = p->floor[p->floor_runs / 2];
	printf("%s_ns=%.0f\n", p->name, (double)p->total / (double)p->runs);
	printf("%s_median_ns=%u\n%s_p10_ns=%u\n", p->name, median, p->name, p10);
	printf("%s_floor_median_ns=%u\n", p->name, floor);
	printf("%s_median_net_ns=%d\n%s_p10_net_ns=%d\n", p->name, (int)median - (int)floor,
	       p->name, (int)p10 - (int)floor);
	free(p->ns);
	free(p->floor);
}

/*
 * A userspace reference for the copy: memcpy of the file's blocks in order into a frame
 * buffer, each timed alone (clock_gettime around it, the clock's own median taken off),
 * after a write over 64 MiB elsewhere that pushes the file out of L2. Prints the median
 * per block, and the mean per block of a whole pass timed at once.
 */
static void memcpy_reference(const uint8_t *file, int passes)
{
	size_t blocks = SIZE / BLKSIZE + 1, evict_len = 64u << 20;
	uint8_t *evict = malloc(evict_len), frame[FRAME_MAX];
	uint32_t *ns = calloc((size_t)passes * blocks, sizeof(*ns)), clock_ns[1000];
	size_t runs = 0;
	double pass_ns = 0;
	struct timespec t0, t1;

	if (!evict || !ns)
		exit(1);
	for (int i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		clock_ns[i] =
		    (uint32_t)((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec));
	}
	qsort(clock_ns, 1000, sizeof(*clock_ns), cmp_u32);
	for (int p = 0; p < passes; p++) {
		memset(evict, p + 1, evict_len);
		for (size_t b = 0; b < blocks; b++) {
			size_t off = b * BLKSIZE, len = SIZE - off < BLKSIZE ? SIZE - off : BLKSIZE;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			memcpy(frame + 46, file + off, len);
			__asm__ volatile("" : : "r"(frame) : "memory");
			clock_gettime(CLOCK_MONOTONIC, &t1);
			ns[runs++] = (uint32_t)((t1.tv_sec - t0.tv_sec) * 1000000000L +
						(t1.tv_nsec - t0.tv_nsec));
		}
		memset(evict, p + 2, evict_len);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (size_t b = 0; b < blocks; b++) {
			size_t off = b * BLKSIZE, len = SIZE - off < BLKSIZE ? SIZE - off : BLKSIZE;

			memcpy(frame + 46, file + off, len);
			__asm__ volatile("" : : "r"(frame) : "memory");
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		pass_ns +=
		    (double)((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec)) /
		    (double)blocks;
	}
	qsort(ns, runs, sizeof(*ns), cmp_u32);
	printf("memcpy_block_median_ns=%d\n", (int)ns[runs / 2] - (int)clock_ns[500]);
	printf("memcpy_block_pass_mean_ns=%.0f\n", pass_ns / passes);
	printf("memcpy_clock_median_ns=%u\n", clock_ns[500]);
	free(ns);
	free(evict);
}

static int drop_event(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

/*
 * The ACK of a transfer's final block, one run per call: the end of a transfer
 * (with its event into the ring buffer, emptied between runs, untimed, as the
 * daemon would).
 */
static double final_ack(int prog_fd, uint16_t port, uint32_t slot, int want)
{
	struct xpxe_tftp_key key = { CLIENT_IP, htons(1554), htons(port) };
	struct ring_buffer *rb =
	    ring_buffer__new(bpf_map__fd(skel->maps.events), drop_event, NULL, NULL);
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	uint32_t final = SIZE / BLKSIZE + 1;
	unsigned long long total = 0;
	int n = 100000;

	for (int i = 0; i < n; i++) {
		struct xpxe_tftp_session s = {
			.size = SIZE,
			.asset_slot = slot,
			.blksize = BLKSIZE,
			.final_block = final,
			.last_block = final,
			.win_base = final - 1,
			.state = XPXE_TFTP_ACTIVE,
		};
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
			    .data_size_in = ack(in, port, final & 0xffff), .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		tftp_entry_update(bpf_map__fd(skel->maps.tftp_sessions), &key, &s, BPF_ANY);
		if (bpf_prog_test_run_opts(prog_fd, &opts) || (int)opts.retval != want) {
			fprintf(stderr, "final ACK: retval %d\n", opts.retval);
			exit(1);
		}
		total += opts.duration;
		if (rb)
			ring_buffer__consume(rb);
	}
	ring_buffer__free(rb);
	return (double)total / n;
}

/* The same frame for no transfer, one run per call: what a single timed run costs by itself. */
static double single(int prog_fd, const uint8_t *in, size_t len, int want)
{
	uint8_t out[FRAME_MAX];
	unsigned long long total = 0;
	int n = 100000;

	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		if (bpf_prog_test_run_opts(prog_fd, &opts) || (int)opts.retval != want)
			exit(1);
		total += opts.duration;
	}
	return (double)total / n;
}

static double repeated(int prog_fd, const uint8_t *in, size_t len, int want)
{
	uint8_t out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1000000);

	if (bpf_prog_test_run_opts(prog_fd, &opts) || (int)opts.retval != want) {
		fprintf(stderr, "repeat: retval %d\n", opts.retval);
		exit(1);
	}
	return opts.duration; /* the kernel reports the mean over the repeats */
}

/* The networks of the tags mode: the untagged one and the trunk's two VLANs. */
struct net_case {
	const char *name;
	uint32_t client_ip, server_ip; /* host order */
	unsigned int vid, outer;       /* the 802.1Q VID, the 802.1ad outer VID; 0: none */
};

static const struct net_case nets[] = {
	{ "untagged", 0xc6120064, 0xc6120001, 0, 0 },
	{ "q10", 0xc6120a64, 0xc6120a01, 10, 0 },	   /* 198.18.10.100 -> .10.1 */
	{ "qinq100_20", 0xc6121464, 0xc6121401, 20, 100 }, /* 198.18.20.x */
};
#define N_NETS (sizeof(nets) / sizeof(nets[0]))

/* Puts a tag (TPID, VID) right after the MACs of the frame F of LEN bytes; returns the length. */
static size_t push_tag(uint8_t *f, size_t len, unsigned int tpid, unsigned int vid)
{
	memmove(f + 16, f + 12, len - 12);
	f[12] = (uint8_t)(tpid >> 8), f[13] = (uint8_t)tpid;
	f[14] = (uint8_t)(vid >> 8), f[15] = (uint8_t)vid;
	return len + 4;
}

/* The ACK of BLOCK from N's client to SERVER_PORT, tagged as N's trunk carries it. */
static size_t net_ack(uint8_t *buf, const struct net_case *n, uint16_t server_port, uint16_t block)
{
	uint8_t p[4] = { 0, XPXE_TFTP_ACK, block >> 8, block & 0xff };
	size_t len = frame_udp(buf, htonl(n->client_ip), htonl(n->server_ip), 1554, server_port, p,
			       sizeof(p));

	if (n->vid)
		len = push_tag(buf, len, 0x8100, n->vid);
	if (n->outer)
		len = push_tag(buf, len, 0x88a8, n->outer);
	return len;
}

/* The trunk's maps as the daemon fills them for --vlan 10=198.18.10.1/24 --vlan 100.20=... */
static int load_vlans(void)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { .mode = XPXE_MODE_FULL, .lease_time = 3600 };
	struct xpxe_vlan_cfg v10 = { .vid = 10,
				     .prefix = 24,
				     .server_ip = { htonl(nets[1].server_ip) } },
			     v20 = { .vid = 20,
				     .outer_vid = 100,
				     .prefix = 24,
				     .server_ip = { htonl(nets[2].server_ip) } };

	xpxe_dhcp_settings_default(&s);
	s.mode = XPXE_MODE_FULL;
	s.server_ip.s_addr = SERVER_IP;
	snprintf(s.http_base, sizeof(s.http_base), "http://198.18.0.1:8080");
	net.server_ip = s.server_ip;
	net.netmask.s_addr = htonl(0xffffff00);
	return xpxe_dhcp_load_maps(skel, &s, &net) ||
	       xpxe_vlan_load_maps(skel, &s, &net, &v10, 1) ||
	       xpxe_vlan_load_maps(skel, &s, &net, &v20, 2);
}

static uint32_t median_of(uint32_t *ns, size_t n)
{
	qsort(ns, n, sizeof(*ns), cmp_u32);
	return ns[n / 2];
}

static double mean_of(const uint32_t *ns, size_t n)
{
	unsigned long long total = 0;

	for (size_t i = 0; i < n; i++)
		total += ns[i];
	return (double)total / (double)n;
}

/*
 * The data paths for each network in turn, pass by pass (the order rotating, so drift in
 * the machine's load falls on all alike): xdp_pxe (ACK grown into DATA, tags back on,
 * XDP_TX); tc_tftp (ACK grown into DATA behind its tags, redirect) and tc_vlan_out, which on
 * the trunk's egress leaves that tagged DATA alone (on the untagged network: a lookup that
 * finds none). Every block one run per call. Prints key=value lines.
 */
static int tags_mode(uint32_t slot, int passes)
{
	size_t blocks = SIZE / BLKSIZE + 1, cap = (size_t)passes * blocks, runs[N_NETS][2] = { 0 };
	uint32_t *ns[N_NETS][4]; /* xdp, tc_tftp, tc_vlan_out, the last two per block */
	uint8_t in[FRAME_MAX], out[FRAME_MAX], out2[FRAME_MAX];
	int fds[2] = { bpf_program__fd(skel->progs.xdp_pxe), bpf_program__fd(skel->progs.tc_tftp) };
	int out_fd = bpf_program__fd(skel->progs.tc_vlan_out);

	if (load_vlans()) {
		fprintf(stderr, "cannot load the VLAN maps\n");
		return 1;
	}
	for (size_t i = 0; i < N_NETS; i++)
		for (int k = 0; k < 4; k++)
			if (!(ns[i][k] = calloc(cap, sizeof(uint32_t))))
				return 1;
	for (int p = 0; p < passes; p++)
		for (int path = 0; path < 2; path++)
			for (size_t j = 0; j < N_NETS; j++) {
				size_t i = (j + (size_t)p) % N_NETS,
				       ntags = !!nets[i].vid + !!nets[i].outer;
				uint16_t port = (uint16_t)(41000 + 10 * i + (size_t)path);

				put_session_for(htonl(nets[i].client_ip), port, slot);
				for (uint32_t b = 0; b < blocks; b++) {
					size_t len = net_ack(in, &nets[i], port, b & 0xffff);
					LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
						    .data_size_in = len, .data_out = out,
						    .data_size_out = sizeof(out), .repeat = 1);
					int want = path ? TC_ACT_REDIRECT : XDP_TX;

					if (bpf_prog_test_run_opts(fds[path], &opts) ||
					    (int)opts.retval != want) {
						fprintf(stderr, "%s %s block %u: retval %d\n",
							nets[i].name, path ? "tc" : "xdp", b + 1,
							opts.retval);
						return 1;
					}
					/*
					 * Both paths' DATA keeps the ACK's tags where they came:
					 * in the frame (tc's is built behind them).
					 */
					if (!b && (opts.data_size_out < 14 + 4 * ntags + 28 + 4 ||
						   memcmp(out + 12, in + 12, 4 * ntags))) {
						fprintf(stderr, "%s %s: not the DATA expected\n",
							nets[i].name, path ? "tc" : "xdp");
						return 1;
					}
					size_t r = runs[i][path]++;

					if (!path) {
						ns[i][0][r] = opts.duration;
						continue;
					}
					ns[i][1][r] = opts.duration;
					/* On a trunk tc_vlan_out finds tc_tftp's DATA tagged
					 * already and leaves it. */
					LIBBPF_OPTS(bpf_test_run_opts, eg, .data_in = out,
						    .data_size_in = opts.data_size_out,
						    .data_out = out2, .data_size_out = sizeof(out2),
						    .repeat = 1);
					if (bpf_prog_test_run_opts(out_fd, &eg) ||
					    (int)eg.retval != TC_ACT_OK) {
						fprintf(stderr, "%s tc_vlan_out: retval %d\n",
							nets[i].name, eg.retval);
						return 1;
					}
					ns[i][2][r] = eg.duration;
					ns[i][3][r] = opts.duration + eg.duration;
				}
			}
	for (size_t i = 0; i < N_NETS; i++) {
		static const char *const keys[4] = { "xdp", "tc", "tc_vlan_out", "tc_both" };

		for (int k = 0; k < 4; k++) {
			size_t n = runs[i][k ? 1 : 0];

			printf("%s_%s_ns=%.0f\n", keys[k], nets[i].name, mean_of(ns[i][k], n));
			printf("%s_%s_median_ns=%u\n", keys[k], nets[i].name,
			       median_of(ns[i][k], n));
			free(ns[i][k]);
		}
	}
	printf("blocks_per_pass=%zu passes=%d size=%u\n", blocks, passes, SIZE);
	return 0;
}

static const uint8_t client6[16] = { 0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0x06, [15] = 2 };
static const uint8_t server6[16] = { 0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0x06, [15] = 1 };

/*
 * The IPv6 data paths, pass by pass, the order swapping each pass (drift in the machine's
 * load falls on both alike): xdp_pxe, which tail-calls xdp_tftp6 (put in its slot here, as
 * the daemon does), and tc_tftp. Every block one run per call. Prints key=value lines.
 */
static int v6_mode(uint32_t slot, int passes)
{
	size_t blocks = SIZE / BLKSIZE + 1, runs[2] = { 0 };
	uint32_t *ns[2];
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	int fds[2] = { bpf_program__fd(skel->progs.xdp_pxe), bpf_program__fd(skel->progs.tc_tftp) };
	int tail = bpf_program__fd(skel->progs.xdp_tftp6);
	static const char *const keys[2] = { "xdp6", "tc6" };
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tftp6_prog), &zero, &tail, BPF_ANY))
		return 1;
	for (int k = 0; k < 2; k++)
		if (!(ns[k] = calloc((size_t)passes * blocks, sizeof(uint32_t))))
			return 1;
	for (int p = 0; p < passes; p++)
		for (int j = 0; j < 2; j++) {
			int path = (j + p) % 2, want = path ? TC_ACT_REDIRECT : XDP_TX;
			uint16_t port = (uint16_t)(42000 + path);
			struct xpxe_tftp_key6 key = { .client_port = htons(1554),
						      .server_port = htons(port) };
			struct xpxe_tftp_session s = {
				.size = SIZE,
				.asset_slot = slot,
				.blksize = BLKSIZE,
				.final_block = SIZE / BLKSIZE + 1,
				.state = XPXE_TFTP_ACTIVE,
			};

			memcpy(key.client_ip, client6, 16);
			if (bpf_map_update_elem(bpf_map__fd(skel->maps.tftp_sessions6), &key, &s,
						BPF_ANY))
				return 1;
			for (uint32_t b = 0; b < blocks; b++) {
				uint8_t p4[4] = { 0, XPXE_TFTP_ACK, (b >> 8) & 0xff, b & 0xff };
				LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
					    .data_size_in = frame_udp6(in, client6, server6, 1554,
								       port, p4, sizeof(p4)),
					    .data_out = out, .data_size_out = sizeof(out),
					    .repeat = 1);

				if (bpf_prog_test_run_opts(fds[path], &opts) ||
				    (int)opts.retval != want) {
					fprintf(stderr, "%s block %u: retval %d\n", keys[path],
						b + 1, opts.retval);
					return 1;
				}
				ns[path][runs[path]++] = opts.duration;
			}
		}
	for (int k = 0; k < 2; k++) {
		printf("%s_data_ns=%.0f\n", keys[k], mean_of(ns[k], runs[k]));
		printf("%s_data_median_ns=%u\n", keys[k], median_of(ns[k], runs[k]));
		printf("%s_data_p10_ns=%u\n", keys[k], ns[k][runs[k] / 10]);
		free(ns[k]);
	}
	printf("blocks_per_pass=%zu passes=%d size=%u blksize=%u\n", blocks, passes, SIZE, BLKSIZE);
	return 0;
}

int main(int argc, char **argv)
{
	int passes = argc > 1 ? atoi(argv[1]) : 3;

	if (argc > 2)
		SIZE = strtoul(argv[2], NULL, 0);
	if (argc > 3 && strcmp(argv[3], "tags") && strcmp(argv[3], "v6"))
		BLKSIZE = strtoul(argv[3], NULL, 0);
	if (BLKSIZE < XPXE_TFTP_BLKSIZE_MIN || BLKSIZE > XPXE_TFTP_BLKSIZE_MAX)
		return 1;
	char path[] = "/tmp/xpxe-bench-asset.XXXXXX";
	struct xpxe_assets assets;
	uint8_t *content, frame[FRAME_MAX];
	uint32_t slot;
	int fd = mkstemp(path);

	xpxe_log_threshold = XPXE_LOG_WARN;
	content = malloc(SIZE);
	for (size_t i = 0; i < SIZE; i++)
		content[i] = (uint8_t)(i * 2654435761u >> 13);
	if (fd < 0 || write(fd, content, SIZE) != (ssize_t)SIZE)
		return 1;
	close(fd);
	skel = tftp_entry_open_and_load();
	if (!skel)
		return 1;
	xpxe_assets_init(&assets);
	if (xpxe_assets_add_outer(&assets, bpf_map__fd(skel->maps.tftp_assets)) ||
	    xpxe_assets_load(&assets, "bench", path))
		return 1;
	unlink(path);
	slot = xpxe_assets_find(&assets, "bench")->slot;
	printf("asset_load_ms=%.1f\n", xpxe_assets_find(&assets, "bench")->load_ms);
	/* The floors read the same asset: xdp_pxe's tftp_assets, by fd. */
	floors = bench_block_bpf__open();
	if (!floors)
		return 1;
	floors->rodata->asset_slot = slot;
	floors->rodata->asset_size = SIZE;
	if (bpf_map__reuse_fd(floors->maps.tftp_assets, bpf_map__fd(skel->maps.tftp_assets)) ||
	    bench_block_bpf__load(floors)) {
		fprintf(stderr, "cannot load the floors (bench_block)\n");
		return 1;
	}

	if (argc > 3 && (!strcmp(argv[3], "tags") || !strcmp(argv[3], "v6"))) {
		int ret = strcmp(argv[3], "v6") ? tags_mode(slot, passes) : v6_mode(slot, passes);

		xpxe_assets_free(&assets);
		bench_block_bpf__destroy(floors);
		xpxe_bpf__destroy(skel);
		free(content);
		return ret;
	}
	{
		/* The paths pass by pass, the order rotating: drift in the load falls on all. */
		struct path paths[6];
		int n = BLKSIZE == 1468 ? 6 : 2; /* the copy's floor has 1468-byte blocks */

		path_init(&paths[0], "xdp_data", bpf_program__fd(skel->progs.xdp_pxe),
			  bpf_program__fd(floors->progs.xdp_nop), XDP_TX, 40000, passes);
		path_init(&paths[1], "tc_data", bpf_program__fd(skel->progs.tc_tftp),
			  bpf_program__fd(floors->progs.tc_nop), TC_ACT_REDIRECT, 40001, passes);
		path_init(&paths[2], "xdp_copy", bpf_program__fd(floors->progs.xdp_block_copy),
			  bpf_program__fd(floors->progs.xdp_nop), XDP_TX, 40004, passes);
		path_init(&paths[3], "tc_copy", bpf_program__fd(floors->progs.tc_block_copy),
			  bpf_program__fd(floors->progs.tc_nop), TC_ACT_REDIRECT, 40005, passes);
		path_init(&paths[4], "xdp_grow", bpf_program__fd(floors->progs.xdp_grow),
			  bpf_program__fd(floors->progs.xdp_nop), XDP_TX, 40006, passes);
		path_init(&paths[5], "xdp_copy_direct",
			  bpf_program__fd(floors->progs.xdp_copy_direct),
			  bpf_program__fd(floors->progs.xdp_nop), XDP_TX, 40007, passes);
		for (int p = 0; p < passes; p++)
			for (int j = 0; j < n; j++)
				path_pass(&paths[(j + p) % n], slot);
		for (int j = 0; j < n; j++)
			path_print(&paths[j]);
		if (n == 6)
			memcpy_reference(content, passes);
	}
	printf("xdp_no_session_repeat_ns=%.0f\n", repeated(bpf_program__fd(skel->progs.xdp_pxe),
							   frame, ack(frame, 49999, 1), XDP_PASS));
	printf("tc_no_session_repeat_ns=%.0f\n", repeated(bpf_program__fd(skel->progs.tc_tftp),
							  frame, ack(frame, 49999, 1), TC_ACT_OK));
	printf("xdp_no_session_single_ns=%.0f\n",
	       single(bpf_program__fd(skel->progs.xdp_pxe), frame, ack(frame, 49999, 1), XDP_PASS));
	printf("tc_no_session_single_ns=%.0f\n", single(bpf_program__fd(skel->progs.tc_tftp), frame,
							ack(frame, 49999, 1), TC_ACT_OK));
	printf("xdp_end_ns=%.0f\n",
	       final_ack(bpf_program__fd(skel->progs.xdp_pxe), 40002, slot, XDP_DROP));
	printf("tc_end_ns=%.0f\n",
	       final_ack(bpf_program__fd(skel->progs.tc_tftp), 40003, slot, TC_ACT_SHOT));
	{
		static const uint8_t rrq[] = "\0\1bench\0octet\0blksize\0"
					     "1468";

		printf("xdp_rrq_repeat_ns=%.0f\n",
		       repeated(bpf_program__fd(skel->progs.xdp_pxe), frame,
				frame_udp(frame, CLIENT_IP, SERVER_IP, 1555, XPXE_PORT_TFTP, rrq,
					  sizeof(rrq)),
				XDP_PASS));
	}
	printf("blocks_per_pass=%u passes=%d size=%u blksize=%u\n", SIZE / BLKSIZE + 1, passes,
	       SIZE, BLKSIZE);
	xpxe_assets_free(&assets);
	bench_block_bpf__destroy(floors);
	xpxe_bpf__destroy(skel);
	free(content);
	return 0;
}
