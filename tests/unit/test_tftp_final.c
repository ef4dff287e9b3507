// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tftp_final_step: what the daemon's sweeps (IPv4's and IPv6's) do once a transfer's final
 * block is out and its ACK does not come (RFC 1350 6: the client may end as it sends it, and
 * it may be lost). The final block goes out again each timeout, TFTP_FINAL_RESENDS times,
 * then the transfer ends as done; a client that ACKs the block before the final one again
 * (it lacks the final block) fails instead; a client that never acknowledged anything, or whose
 * transfer stopped before its final block, is left to the idle timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tftp/internal.h"

#define IDLE 30

/* The steps of sweeps at the times T[0..N) of a confirmed transfer whose final block is out. */
static void steps(struct tftp_final *f, unsigned timeout_s, unsigned idle_s, const double *t,
		  const enum tftp_final_step *want, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(tftp_final_step(f, true, true, 19, 0, timeout_s, idle_s, t[i]),
				 want[i]);
}

static void test_resends_then_done(void **state)
{
	struct tftp_final f = { 0 };
	const double t[] = { 100, 100.5, 101, 101.5, 102, 103, 103.9, 104 };
	const enum tftp_final_step want[] = { TFTP_FINAL_WAIT, TFTP_FINAL_WAIT,	  TFTP_FINAL_RESEND,
					      TFTP_FINAL_WAIT, TFTP_FINAL_RESEND, TFTP_FINAL_RESEND,
					      TFTP_FINAL_WAIT, TFTP_FINAL_DONE };

	(void)state;
	steps(&f, 0, IDLE, t, want, 8);
}

/* Sweeps late (a busy host): never more resends than TFTP_FINAL_RESENDS, done on time. */
static void test_late_sweeps(void **state)
{
	struct tftp_final f = { 0 };
	const double t[] = { 100, 103.5, 103.6, 103.7, 104.2 };
	const enum tftp_final_step want[] = { TFTP_FINAL_WAIT, TFTP_FINAL_RESEND, TFTP_FINAL_RESEND,
					      TFTP_FINAL_RESEND, TFTP_FINAL_DONE };

	(void)state;
	steps(&f, 0, IDLE, t, want, 5);
	assert_int_equal(f.resends, TFTP_FINAL_RESENDS);
}

/* The client's own `timeout` option paces it: 2 s, done after 8 s. */
static void test_client_timeout(void **state)
{
	struct tftp_final f = { 0 };
	const double t[] = { 50, 51, 52, 53, 54, 56, 57.9, 58 };
	const enum tftp_final_step want[] = { TFTP_FINAL_WAIT, TFTP_FINAL_WAIT,	  TFTP_FINAL_RESEND,
					      TFTP_FINAL_WAIT, TFTP_FINAL_RESEND, TFTP_FINAL_RESEND,
					      TFTP_FINAL_WAIT, TFTP_FINAL_DONE };

	(void)state;
	steps(&f, 2, IDLE, t, want, 8);
}

/* --tftp-idle-timeout shorter than the resends: done at the idle timeout. */
static void test_idle_caps(void **state)
{
	struct tftp_final f = { 0 };
	const double t[] = { 10, 11, 12, 13 };
	const enum tftp_final_step want[] = { TFTP_FINAL_WAIT, TFTP_FINAL_RESEND, TFTP_FINAL_RESEND,
					      TFTP_FINAL_DONE };

	(void)state;
	steps(&f, 0, 3, t, want, 4);
}

/* An ACK that moves (a window's earlier block) starts the wait again. */
static void test_ack_moves(void **state)
{
	struct tftp_final f = { 0 };

	(void)state;
	assert_int_equal(tftp_final_step(&f, true, true, 16, 0, 0, IDLE, 10), TFTP_FINAL_WAIT);
	assert_int_equal(tftp_final_step(&f, true, true, 16, 0, 0, IDLE, 11), TFTP_FINAL_RESEND);
	assert_int_equal(tftp_final_step(&f, true, true, 18, 0, 0, IDLE, 12), TFTP_FINAL_WAIT);
	assert_int_equal(tftp_final_step(&f, true, true, 18, 0, 0, IDLE, 13), TFTP_FINAL_RESEND);
	assert_int_equal(tftp_final_step(&f, true, true, 18, 0, 0, IDLE, 15.9), TFTP_FINAL_RESEND);
	assert_int_equal(tftp_final_step(&f, true, true, 18, 0, 0, IDLE, 16), TFTP_FINAL_DONE);
}

/* Unconfirmed (a forged RRQ?) or stopped before the final block: the idle timeout's. */
static void test_not_ours(void **state)
{
	struct tftp_final f = { 0 };

	(void)state;
	for (double t = 10; t < 100; t += 1) {
		assert_int_equal(tftp_final_step(&f, false, true, 0, 0, 0, IDLE, t),
				 TFTP_FINAL_WAIT);
		assert_int_equal(tftp_final_step(&f, true, false, 19, 0, 0, IDLE, t),
				 TFTP_FINAL_WAIT);
	}
	assert_true(f.since == 0);
}

/*
 * A lockstep client that ACKs block 19 again after the final block 20 went out (REPEATS grows:
 * the data plane sent block 20 again for each): it does not have the final block. Never
 * done: the wait starts over at each repeat, and ends as a failure (expired).
 */
static void test_client_repeats_before_final(void **state)
{
	struct tftp_final f = { 0 };

	(void)state;
	assert_int_equal(tftp_final_step(&f, true, true, 19, 5, 0, IDLE, 100), TFTP_FINAL_WAIT);
	assert_int_equal(tftp_final_step(&f, true, true, 19, 6, 0, IDLE, 101), TFTP_FINAL_WAIT);
	/* Each second a repeat, for longer than the silent client's 4 s: still not done. */
	for (unsigned r = 7, t = 102; t < 100 + IDLE; r++, t++)
		assert_int_equal(tftp_final_step(&f, true, true, 19, r, 0, IDLE, t),
				 TFTP_FINAL_WAIT);
	assert_true(f.asked);
	/* Still asking at the idle timeout from the first wait: it failed. */
	assert_int_equal(tftp_final_step(&f, true, true, 19, 99, 0, IDLE, 100 + IDLE),
			 TFTP_FINAL_FAILED);
}

/* Two repeats, then silence: the final block sent again, then the end is a failure. */
static void test_repeats_then_silence(void **state)
{
	struct tftp_final f = { 0 };
	const double t[] = { 100, 101, 102, 103, 104, 104.9, 105 };
	const uint32_t r[] = { 0, 2, 2, 2, 2, 2, 2 };
	const enum tftp_final_step want[] = { TFTP_FINAL_WAIT,	 TFTP_FINAL_WAIT,
					      TFTP_FINAL_RESEND, TFTP_FINAL_RESEND,
					      TFTP_FINAL_RESEND, TFTP_FINAL_WAIT,
					      TFTP_FINAL_FAILED };

	(void)state;
	for (int i = 0; i < 7; i++)
		assert_int_equal(tftp_final_step(&f, true, true, 19, r[i], 0, IDLE, t[i]), want[i]);
}

/*
 * One repeat, then silence: the block sent again for it reached the client, whose final ACK
 * was lost (what tftp_final_ack_missing counts): done, not a failure.
 */
static void test_one_repeat_then_silence(void **state)
{
	struct tftp_final f = { 0 };
	const double t[] = { 100, 101, 102, 103, 104, 104.9, 105 };
	const uint32_t r[] = { 0, 1, 1, 1, 1, 1, 1 };
	const enum tftp_final_step want[] = { TFTP_FINAL_WAIT,	 TFTP_FINAL_WAIT,
					      TFTP_FINAL_RESEND, TFTP_FINAL_RESEND,
					      TFTP_FINAL_RESEND, TFTP_FINAL_WAIT,
					      TFTP_FINAL_DONE };

	(void)state;
	for (int i = 0; i < 7; i++)
		assert_int_equal(tftp_final_step(&f, true, true, 19, r[i], 0, IDLE, t[i]), want[i]);
	assert_false(f.asked);
}

/* The final ACK's ACK moving on clears it: a window's earlier ACK, then silence: done. */
static void test_repeat_then_ack_moves(void **state)
{
	struct tftp_final f = { 0 };

	(void)state;
	assert_int_equal(tftp_final_step(&f, true, true, 16, 0, 0, IDLE, 10), TFTP_FINAL_WAIT);
	assert_int_equal(tftp_final_step(&f, true, true, 16, 1, 0, IDLE, 11), TFTP_FINAL_WAIT);
	assert_int_equal(tftp_final_step(&f, true, true, 18, 1, 0, IDLE, 12), TFTP_FINAL_WAIT);
	assert_false(f.asked);
	assert_int_equal(tftp_final_step(&f, true, true, 18, 1, 0, IDLE, 16), TFTP_FINAL_DONE);
}

/*
 * tftp_span_s: tftp_done's seconds. A transfer that ends within the tick of the coarse clock its
 * RRQ came in (20 blocks of 512 bytes on a LAN: ~1 ms against 4 ms at HZ=250) takes the tick,
 * never 0 (that read "seconds=0.000 MB/s=0.00"); longer ones their span.
 */
#define TICK 4000000ull
static void test_span(void **state)
{
	const unsigned long long t0 = 5000000000ull;

	(void)state;
	assert_true(tftp_span_s(t0, t0, TICK) == 0.004); /* the same tick */
	assert_true(tftp_span_s(t0, t0 + TICK, TICK) == 0.004);
	assert_true(tftp_span_s(t0, t0 + 2 * TICK, TICK) == 0.008);
	assert_true(tftp_span_s(t0, t0 + 1500000000ull, TICK) == 1.5);
	assert_true(tftp_span_s(t0, t0 - TICK, TICK) == 0.004); /* never below the tick */
	assert_true(tftp_span_s(t0, 0, 1000000) == 0.001);	/* nor 0: an unset stamp */
	assert_true(tftp_seconds(t0, t0) > 0);			/* this host's tick */
	assert_true(tftp_seconds(t0, t0) <= 0.01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resends_then_done),
		cmocka_unit_test(test_late_sweeps),
		cmocka_unit_test(test_client_timeout),
		cmocka_unit_test(test_idle_caps),
		cmocka_unit_test(test_ack_moves),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_client_repeats_before_final),
		cmocka_unit_test(test_repeats_then_silence),
		cmocka_unit_test(test_one_repeat_then_silence),
		cmocka_unit_test(test_repeat_then_ack_moves),
		cmocka_unit_test(test_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
