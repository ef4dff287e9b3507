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
 *                                            blksize 1468)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "assets.h"
#include "frames.h"
#include "log.h"
#include "xpxe.h"
#include "xpxe_tftp.h"

#define CLIENT_IP htonl(0xc6120064)
#define SERVER_IP htonl(0xc6120001)

static struct xpxe_bpf *skel;
static uint32_t SIZE = 32u << 20;
/* 1468 by default; another size times the blocks whose sums are not stored (xpxe_tftp.h). */
static uint32_t BLKSIZE = 1468;
/* The last data path's 10th percentile: the load of a shared machine moves it least. */
static uint32_t p10;

static size_t ack(uint8_t *buf, uint16_t server_port, uint16_t block)
{
	uint8_t p[4] = { 0, XPXE_TFTP_ACK, block >> 8, block & 0xff };

	return frame_udp(buf, CLIENT_IP, SERVER_IP, 1554, server_port, p, sizeof(p));
}

static void put_session(uint16_t server_port, uint32_t slot)
{
	struct xpxe_tftp_key key = { CLIENT_IP, htons(1554), htons(server_port) };
	struct xpxe_tftp_session s = {
		.size = SIZE,
		.asset_slot = slot,
		.blksize = BLKSIZE,
		.final_block = SIZE / BLKSIZE + 1,
		.state = XPXE_TFTP_ACTIVE,
	};

	bpf_map_update_elem(bpf_map__fd(skel->maps.tftp_sessions), &key, &s, BPF_ANY);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Every block of the file, one run each: the mean of the kernel's own timing, and in
 * *MEDIAN its median (on a shared machine a few preempted runs pull the mean up).
 */
static double data_path(int prog_fd, uint16_t port, uint32_t slot, int passes, int want,
			uint32_t *median)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX];
	unsigned long long total = 0, runs = 0;
	uint32_t *ns = calloc((size_t)passes * (SIZE / BLKSIZE + 1), sizeof(*ns));

	if (!ns)
		exit(1);

	for (int p = 0; p < passes; p++) {
		put_session(port, slot);
		for (uint32_t b = 0; b < SIZE / BLKSIZE + 1; b++) {
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
				    .data_size_in = ack(in, port, b & 0xffff), .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1);

			if (bpf_prog_test_run_opts(prog_fd, &opts) || (int)opts.retval != want) {
				fprintf(stderr, "block %u: retval %d\n", b + 1, opts.retval);
				exit(1);
			}
			total += opts.duration;
			ns[runs++] = opts.duration;
		}
	}
	qsort(ns, runs, sizeof(*ns), cmp_u32);
	*median = ns[runs / 2];
	p10 = ns[runs / 10];
	free(ns);
	return (double)total / runs;
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

		bpf_map_update_elem(bpf_map__fd(skel->maps.tftp_sessions), &key, &s, BPF_ANY);
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

int main(int argc, char **argv)
{
	int passes = argc > 1 ? atoi(argv[1]) : 3;

	if (argc > 2)
		SIZE = strtoul(argv[2], NULL, 0);
	if (argc > 3)
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
	skel = xpxe_bpf__open_and_load();
	if (!skel)
		return 1;
	xpxe_assets_init(&assets);
	if (xpxe_assets_add_outer(&assets, bpf_map__fd(skel->maps.tftp_assets)) ||
	    xpxe_assets_load(&assets, "bench", path))
		return 1;
	unlink(path);
	slot = xpxe_assets_find(&assets, "bench")->slot;
	printf("asset_load_ms=%.1f\n", xpxe_assets_find(&assets, "bench")->load_ms);

	uint32_t median;

	printf("xdp_data_ns=%.0f\n", data_path(bpf_program__fd(skel->progs.xdp_pxe), 40000, slot,
					       passes, XDP_TX, &median));
	printf("xdp_data_median_ns=%u\nxdp_data_p10_ns=%u\n", median, p10);
	printf("tc_data_ns=%.0f\n", data_path(bpf_program__fd(skel->progs.tc_tftp), 40001, slot,
					      passes, TC_ACT_REDIRECT, &median));
	printf("tc_data_median_ns=%u\ntc_data_p10_ns=%u\n", median, p10);
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
	xpxe_bpf__destroy(skel);
	free(content);
	return 0;
}
