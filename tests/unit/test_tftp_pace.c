// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Paced transfers (userspace/tftp/pace.c): the ones let in over the cap wait off the data
 * plane, their ACKs answered by the daemon after a pause, one window per ACK; when a place
 * frees, the oldest takes it first come first served, its session then written to the map
 * (which the test's own wrap records) at once when the daemon holds its ACK, else at the ACK.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "tftp/internal.h"

/* The session map: what was written to it, in order (client ports), and its last value. */
static unsigned n_written;
static __be16 written[8];
static struct xpxe_tftp_session last_written;

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	const struct xpxe_tftp_entry *e = value; /* at the transfer's port (xpxe_tftp.h) */

	(void)fd;
	(void)key;
	(void)flags;
	if (n_written < 8)
		written[n_written++] = e->key.client_port;
	last_written = e->s;
	return 0;
}

/* No asset: the windows are decided, nothing sent. */
const struct xpxe_tftp_chunk *__wrap_xpxe_assets_chunks(struct xpxe_assets *a, uint32_t slot,
							uint32_t *n_chunks);
const struct xpxe_tftp_chunk *__wrap_xpxe_assets_chunks(struct xpxe_assets *a, uint32_t slot,
							uint32_t *n_chunks)
{
	(void)a;
	(void)slot;
	*n_chunks = 0;
	return NULL;
}

static struct xpxe_tftp *t;
static struct iface ifc = { .used = true, .ifname = "lab0", .ifindex = 7, .sessions_fd = -1 };
static struct xfer xs[4];

static int setup(void **state)
{
	(void)state;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->pace_fd = -1;
	t->opts.max_at_once = 1;
	t->opts.pace_ms = 200;
	t->n_active = 1; /* the one place is taken */
	memset(xs, 0, sizeof(xs));
	n_written = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(t);
	return 0;
}

/* Transfer I (client port 1000 + I) of 100 lockstep blocks, let in paced: DATA 1 went out. */
static struct xfer *paced(int i)
{
	struct xfer *x = &xs[i];
	struct xpxe_tftp_session s = {
		.state = XPXE_TFTP_ACTIVE, .blksize = 512, .final_block = 100, .last_block = 1
	};

	x->ifc = &ifc;
	x->fd = -1;
	x->key.client_port = htons(1000 + i);
	x->blksize = 512;
	x->size = 99 * 512 + 10;
	tftp_pace_start(t, x, &s);
	return x;
}

/* A place frees: the transfer that ended gives it back, and the oldest paced one takes it. */
static void place_frees(void)
{
	t->n_active--;
	tftp_pace_promote(t);
}

/* Each waits with its ACK held (the pause): a place goes to the oldest, at once. */
static void test_promoted_first_come_first_served(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		tftp_pace_ack(t, paced(i), 1);
	assert_int_equal(t->n_paced, 3);
	assert_int_equal(t->paced_total, 3);
	for (int i = 0; i < 3; i++)
		assert_true(xs[i].pace_due_ns != 0); /* each waits for its pause */

	tftp_pace_promote(t); /* no place free: nothing moves */
	assert_int_equal(n_written, 0);

	for (int i = 0; i < 3; i++) {
		place_frees();
		assert_int_equal(n_written, i + 1);
		assert_int_equal(ntohs(written[i]), 1000 + i);
		assert_false(xs[i].paced);
		assert_true(xs[i].counted);
		assert_int_equal(t->n_active, 1);
		assert_int_equal(t->n_paced, 2 - i);
		assert_int_equal(t->promoted_total, i + 1);
	}
	/* The session the programs take over: DATA 2 out (the daemon sent it), ACK 1 its base. */
	assert_int_equal(last_written.state, XPXE_TFTP_ACTIVE);
	assert_int_equal(last_written.win_base, 1);
	assert_int_equal(last_written.last_block, 2);
}

/*
 * The oldest has its block in flight (no ACK held): it takes the place now, but its session
 * goes to the map only at its ACK; the next does not take a second place meanwhile.
 */
static void test_in_flight_promoted_at_its_ack(void **state)
{
	struct xfer *a = paced(0), *b = paced(1);

	(void)state;
	tftp_pace_ack(t, b, 1); /* b's ACK waits for its pause; a's block is in flight */
	place_frees();
	assert_true(a->promote);
	assert_true(a->counted);
	assert_true(a->paced);
	assert_int_equal(n_written, 0);
	assert_int_equal(t->n_active, 1);
	tftp_pace_promote(t); /* b waits: a has the place */
	assert_true(b->paced);
	assert_false(b->counted);

	tftp_pace_ack(t, a, 1); /* a's ACK: promoted at once, not after a pause */
	assert_int_equal(n_written, 1);
	assert_int_equal(ntohs(written[0]), 1000);
	assert_false(a->paced);
	assert_int_equal(t->n_paced, 1);
	assert_int_equal(t->n_active, 1);
}

/* One send per block: a copy of an ACK that waits is ignored; the final ACK ends it. */
static void test_ack_rules(void **state)
{
	struct xfer *a = paced(0);
	__u64 due;

	(void)state;
	tftp_pace_ack(t, a, 1);
	due = a->pace_due_ns;
	assert_true(due != 0);
	assert_int_equal(a->ps.win_base, 1);
	tftp_pace_ack(t, a, 1); /* the client's copy: the same pause */
	assert_true(a->pace_due_ns == due);
	tftp_pace_ack(t, a, 7); /* no block 7 went out: stale */
	assert_int_equal(a->ps.win_base, 1);

	/* The final block out: its ACK ends the transfer. */
	a->pace_due_ns = 0;
	a->ps.win_base = 99;
	a->ps.last_block = 100;
	tftp_pace_ack(t, a, 100);
	assert_int_equal(a->ps.state, XPXE_TFTP_DONE);
	tftp_pace_forget(t, a);
	assert_int_equal(t->n_paced, 0);
	assert_null(tftp_pace_next(t));
}

/*
 * Let in with an OACK (block 0 out, just now): the client's ACK 0 comes back within the
 * duplicate guard, and is the ACK of all that went out, not an echo: DATA 1 goes after the
 * pause. (It was taken for an echo: the client waited for its 1-s timeout, and sent ACK 0
 * again: a retry for every paced transfer in storm.c's storms.) A repeat of that ACK as soon
 * after DATA 1 went out is the echo, and is ignored.
 */
static void test_oack_ack_at_once(void **state)
{
	struct xfer *a = &xs[0];
	struct xpxe_tftp_session s = { .state = XPXE_TFTP_ACTIVE,
				       .blksize = 512,
				       .final_block = 100,
				       .last_block = 0,
				       .last_tx_ns = tftp_now_ns() };

	(void)state;
	a->ifc = &ifc;
	a->fd = -1;
	a->key.client_port = htons(1000);
	a->blksize = 512;
	a->size = 99 * 512 + 10;
	tftp_pace_start(t, a, &s);
	tftp_pace_ack(t, a, 0);
	assert_true(a->pace_due_ns != 0); /* DATA 1 after the pause */
	assert_int_equal(a->ps.win_base, 0);

	/* DATA 1 goes (here: decided, nothing sent); ACK 0 again at once: an echo. */
	a->pace_due_ns = 0;
	a->ps.last_block = 1;
	a->ps.last_tx_ns = tftp_now_ns();
	tftp_pace_ack(t, a, 0);
	assert_true(a->pace_due_ns == 0);
}

/* HTTP's queue as the test sets it (opts.backlog). */
static unsigned waiting;
static unsigned backlog(void *ctx)
{
	(void)ctx;
	return waiting;
}

/* While HTTP's queue holds opts.backlog_max downloads, a free place stays free. */
static void test_http_fed_waits(void **state)
{
	struct xfer *a = paced(0);

	(void)state;
	t->opts.backlog = backlog;
	t->opts.backlog_max = 4;
	waiting = 4;
	tftp_pace_ack(t, a, 1);
	place_frees();
	assert_true(a->paced);
	assert_false(a->counted);
	assert_int_equal(n_written, 0);
	assert_int_equal(t->n_active, 0);

	waiting = 3; /* it shrinks: the place goes to the oldest */
	tftp_pace_promote(t);
	assert_false(a->paced);
	assert_int_equal(n_written, 1);
	assert_int_equal(t->n_active, 1);
}

/* The client's ERROR (EDK2 ends its size probe so) aborts it. */
static void test_error_aborts(void **state)
{
	struct xfer *a = paced(0);

	(void)state;
	tftp_pace_error(t, a, 0);
	assert_int_equal(a->ps.state, XPXE_TFTP_ABORTED);
	assert_null(tftp_pace_next(t)); /* an ended one takes no place */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_promoted_first_come_first_served, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_flight_promoted_at_its_ack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ack_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oack_ack_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_fed_waits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
