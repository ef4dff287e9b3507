/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One frame through xdp_pxe (bpf_prog_test_run_opts), and the one outcome it must count. */
#ifndef XPXE_TEST_XDP_RUN_H
#define XPXE_TEST_XDP_RUN_H

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "counters.h"

/*
 * Runs PROG once on the LEN bytes of IN; the frame it leaves lands in OUT (at most OUT_SIZE
 * bytes), its length in *OUT_LEN. Fails the test unless OUTCOME moved by one, rx_frames by one
 * when COUNTS_RX (XDP counts it, tc does not), and no other counter moved (every frame ends
 * in one counted outcome). Returns the verdict.
 */
static inline int prog_run_counted(struct xpxe_bpf *skel, struct bpf_program *prog, bool counts_rx,
				   const void *in, size_t len, void *out, size_t out_size,
				   __u32 *out_len, enum xpxe_counter outcome)
{
	int counters_fd = bpf_map__fd(skel->maps.counters);
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = out_size, .repeat = 1);

	assert_int_equal(xpxe_counters_read(counters_fd, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &opts), 0);
	assert_int_equal(xpxe_counters_read(counters_fd, after), 0);
	for (int i = 0; i < XPXE_CNT_MAX; i++) {
		__u64 expect =
		    before[i] + ((counts_rx && i == XPXE_CNT_RX_FRAMES) || i == (int)outcome);

		if (after[i] != expect)
			fail_msg("%s: counter %s went %llu -> %llu (the outcome expected: %s)",
				 bpf_program__name(prog), xpxe_counter_names[i],
				 (unsigned long long)before[i], (unsigned long long)after[i],
				 xpxe_counter_names[outcome]);
	}
	if (out_len)
		*out_len = opts.data_size_out;
	return (int)opts.retval;
}

/* xdp_pxe through prog_run_counted. */
static inline int xdp_run_counted(struct xpxe_bpf *skel, const void *in, size_t len, void *out,
				  size_t out_size, __u32 *out_len, enum xpxe_counter outcome)
{
	return prog_run_counted(skel, skel->progs.xdp_pxe, true, in, len, out, out_size, out_len,
				outcome);
}

/* xdp_pxe_frags (jumbo MTU: the multi-buffer build of xdp_pxe) through prog_run_counted. */
static inline int xdp_frags_run_counted(struct xpxe_bpf *skel, const void *in, size_t len,
					void *out, size_t out_size, __u32 *out_len,
					enum xpxe_counter outcome)
{
	return prog_run_counted(skel, skel->progs.xdp_pxe_frags, true, in, len, out, out_size,
				out_len, outcome);
}

/*
 * tc_tftp through prog_run_counted. The run's device is the loopback of the caller's network
 * namespace: what tc_tftp sends back in (bpf_clone_redirect) arrives there.
 */
static inline int tc_run_counted(struct xpxe_bpf *skel, const void *in, size_t len, void *out,
				 size_t out_size, __u32 *out_len, enum xpxe_counter outcome)
{
	return prog_run_counted(skel, skel->progs.tc_tftp, false, in, len, out, out_size, out_len,
				outcome);
}

/*
 * Moves the test into a network namespace of its own with its loopback up, for tc_tftp's test
 * runs: the copies it sends back in for the stack (bpf_clone_redirect; a test run's device is
 * the loopback) arrive there and nowhere else. Returns a packet socket that reads them, or -1.
 */
static inline int tc_test_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd, sock;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "# unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 || ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return -1;
	close(fd);
	sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (sock < 0 || bind(sock, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "# a packet socket on lo: %s\n", strerror(errno));
		return -1;
	}
	return sock;
}

#endif /* XPXE_TEST_XDP_RUN_H */
