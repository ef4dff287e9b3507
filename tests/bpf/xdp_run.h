/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One frame through xdp_pxe (bpf_prog_test_run_opts), and the one outcome it must count. */
#ifndef XPXE_TEST_XDP_RUN_H
#define XPXE_TEST_XDP_RUN_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "counters.h"

/*
 * Runs xdp_pxe of SKEL once on the LEN bytes of IN; the frame it leaves lands in OUT (at most
 * OUT_SIZE bytes), its length in *OUT_LEN. Fails the test unless OUTCOME and rx_frames moved
 * by one each and no other counter moved (every frame ends in one counted outcome). Returns
 * the verdict.
 */
static inline int xdp_run_counted(struct xpxe_bpf *skel, const void *in, size_t len, void *out,
				  size_t out_size, __u32 *out_len, enum xpxe_counter outcome)
{
	int counters_fd = bpf_map__fd(skel->maps.counters);
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = out_size, .repeat = 1);

	assert_int_equal(xpxe_counters_read(counters_fd, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_pxe), &opts), 0);
	assert_int_equal(xpxe_counters_read(counters_fd, after), 0);
	for (int i = 0; i < XPXE_CNT_MAX; i++) {
		__u64 expect = before[i] + (i == XPXE_CNT_RX_FRAMES || i == (int)outcome);

		if (after[i] != expect)
			fail_msg("counter %s went %llu -> %llu (the outcome expected: %s)",
				 xpxe_counter_names[i], (unsigned long long)before[i],
				 (unsigned long long)after[i], xpxe_counter_names[outcome]);
	}
	if (out_len)
		*out_len = opts.data_size_out;
	return (int)opts.retval;
}

/*
 * Runs tc_tftp of SKEL once on the LEN bytes of IN, as xdp_run_counted runs xdp_pxe: the
 * frame it leaves lands in OUT, OUTCOME and no other counter moves (tc does not count
 * rx_frames). Returns the verdict. The run's device is the loopback of the caller's network
 * namespace: what tc_tftp sends back in (bpf_clone_redirect) arrives there.
 */
static inline int tc_run_counted(struct xpxe_bpf *skel, const void *in, size_t len, void *out,
				 size_t out_size, __u32 *out_len, enum xpxe_counter outcome)
{
	int counters_fd = bpf_map__fd(skel->maps.counters);
	__u64 before[XPXE_CNT_MAX], after[XPXE_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = out_size, .repeat = 1);

	assert_int_equal(xpxe_counters_read(counters_fd, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.tc_tftp), &opts), 0);
	assert_int_equal(xpxe_counters_read(counters_fd, after), 0);
	for (int i = 0; i < XPXE_CNT_MAX; i++) {
		__u64 expect = before[i] + (i == (int)outcome);

		if (after[i] != expect)
			fail_msg("tc: counter %s went %llu -> %llu (the outcome expected: %s)",
				 xpxe_counter_names[i], (unsigned long long)before[i],
				 (unsigned long long)after[i], xpxe_counter_names[outcome]);
	}
	if (out_len)
		*out_len = opts.data_size_out;
	return (int)opts.retval;
}

#endif /* XPXE_TEST_XDP_RUN_H */
