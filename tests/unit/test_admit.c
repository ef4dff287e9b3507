// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Admission of bulk downloads: the cap, the queue's order (control planes, then arrival). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "config.h"
#include "http/http.h"

/* What the server would resume, in order: the tickets' ctx. */
static int resumed[64], n_resumed;

static void note_resume(void *ctx)
{
	resumed[n_resumed++] = (int)(intptr_t)ctx;
}

static struct xpxe_admit_ticket tickets[32];

static struct xpxe_admit_ticket *ticket(int id, int rank)
{
	struct xpxe_admit_ticket *t = &tickets[id];

	memset(t, 0, sizeof(*t));
	t->rank = rank;
	t->ctx = (void *)(intptr_t)id;
	snprintf(t->who, sizeof(t->who), "m%d", id);
	return t;
}

/* A held body as the server runs it: sends what its trickle allows, then is suspended. */
static void hold(struct xpxe_admit *a, struct xpxe_admit_ticket *t)
{
	size_t n = 1 << 20;

	while (xpxe_admit_body(a, t, &n) == XPXE_BODY_TRICKLE)
		n = 1 << 20;
	assert_false(xpxe_admit_held(a, t));
}

/* Enters T as the server does: a false (queued) is followed by its held body. */
static bool wait_in(struct xpxe_admit *a, struct xpxe_admit_ticket *t, double now)
{
	size_t n = 4096;

	if (xpxe_admit_enter(a, t, now))
		return true;
	/* The header goes out with a first byte, then nothing until its turn or its trickle. */
	assert_int_equal(xpxe_admit_body(a, t, &n), XPXE_BODY_TRICKLE);
	assert_int_equal(n, 1);
	hold(a, t);
	return false;
}

static int setup(void **state)
{
	(void)state;
	n_resumed = 0;
	memset(resumed, 0, sizeof(resumed));
	return 0;
}

/* MAX run at once; the next waits, and goes in when one leaves. */
static void test_cap_then_fifo(void **state)
{
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 2, 0, note_resume);
	assert_true(xpxe_admit_enter(&a, ticket(1, XPXE_RANK_WORKER), 1.0));
	assert_true(xpxe_admit_enter(&a, ticket(2, XPXE_RANK_WORKER), 1.0));
	assert_false(wait_in(&a, ticket(3, XPXE_RANK_WORKER), 1.0));
	assert_false(wait_in(&a, ticket(4, XPXE_RANK_WORKER), 1.1));
	assert_int_equal(a.active, 2);
	assert_int_equal(a.waiting, 2);
	assert_int_equal(tickets[3].state, XPXE_TICKET_WAITING);
	assert_int_equal(n_resumed, 0);

	xpxe_admit_leave(&a, &tickets[2], 3.0);
	assert_int_equal(n_resumed, 1);
	assert_int_equal(resumed[0], 3); /* first come, first served */
	assert_int_equal(tickets[3].state, XPXE_TICKET_ADMITTED);
	assert_int_equal(tickets[4].state, XPXE_TICKET_WAITING);
	assert_int_equal(a.active, 2);
	assert_int_equal(a.waiting, 1);

	xpxe_admit_leave(&a, &tickets[1], 4.0);
	assert_int_equal(resumed[1], 4);
	assert_int_equal(a.stats.at_once, 2);
	assert_int_equal(a.stats.after_wait, 2);
	/* 3 waited 2 s, 4 waited 2.9 s */
	assert_float_equal(a.stats.wait_seconds, 4.9, 1e-9);
	xpxe_admit_leave(&a, &tickets[3], 5.0);
	xpxe_admit_leave(&a, &tickets[4], 5.0);
	assert_int_equal(a.active, 0);
	assert_int_equal(a.waiting, 0);
	assert_null(a.running);
	xpxe_admit_destroy(&a);
}

/*
 * A control plane goes at once, over the cap, while fewer than the cap's number of control
 * planes download (at the front of the queue it would wait for a batch that started together
 * to end); past that it waits before every worker, in its own arrival order. It counts in
 * active, so the workers it passed wait the longer.
 */
static void test_controlplane_over_the_cap(void **state)
{
	struct xpxe_admit a;
	const int want[] = { 7, 2, 3, 4, 6 };

	(void)state;
	xpxe_admit_init(&a, 1, 0, note_resume);
	assert_true(xpxe_admit_enter(&a, ticket(1, XPXE_RANK_WORKER), 0));
	assert_false(wait_in(&a, ticket(2, XPXE_RANK_WORKER), 1));
	assert_false(wait_in(&a, ticket(3, XPXE_RANK_WORKER), 2));
	assert_false(wait_in(&a, ticket(4, XPXE_RANK_WORKER), 3));
	assert_true(xpxe_admit_enter(&a, ticket(5, XPXE_RANK_CONTROLPLANE), 4));
	assert_true(tickets[5].controlplane_over);
	assert_int_equal(a.active, 2);
	assert_int_equal(a.active_controlplanes, 1);
	assert_int_equal(a.stats.controlplane_over, 1);
	assert_int_equal(a.stats.at_once, 2);
	assert_false(wait_in(&a, ticket(6, XPXE_RANK_WORKER), 5));
	/* A second control plane: one is over the cap already (cap 1), so it waits, first. */
	assert_false(wait_in(&a, ticket(7, XPXE_RANK_CONTROLPLANE), 6));
	assert_false(tickets[7].controlplane_over);
	/* 1 ends: 5 still runs over the cap, so the one slot is taken and nobody goes in. */
	xpxe_admit_leave(&a, &tickets[1], 10);
	assert_int_equal(n_resumed, 0);
	xpxe_admit_leave(&a, &tickets[5], 11); /* 7 takes the slot */
	assert_int_equal(a.active_controlplanes, 1);
	/* Each one that finishes hands its slot to the next in line. */
	for (int i = 0; i < 4; i++)
		xpxe_admit_leave(&a, &tickets[want[i]], 12 + i);
	assert_int_equal(n_resumed, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(resumed[i], want[i]);
	assert_int_equal(a.stats.controlplane_over, 1);
	xpxe_admit_destroy(&a);
}

/* A control plane arriving with a slot free while only workers wait still waits for none. */
static void test_controlplane_passes_waiting_workers(void **state)
{
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 1, 0, note_resume);
	assert_true(xpxe_admit_enter(&a, ticket(1, XPXE_RANK_WORKER), 0));
	assert_false(wait_in(&a, ticket(2, XPXE_RANK_WORKER), 0));
	/* A worker never overtakes the queue, even with a slot free (none is here: cap 1). */
	a.max = 2;
	assert_false(wait_in(&a, ticket(3, XPXE_RANK_WORKER), 0));
	assert_true(xpxe_admit_enter(&a, ticket(4, XPXE_RANK_CONTROLPLANE), 0));
	/* The raised cap's slot is filled at the next tick. */
	assert_int_equal(xpxe_admit_tick(&a, 1), 0);
	assert_int_equal(n_resumed, 0); /* 1 and 4 hold both slots */
	xpxe_admit_leave(&a, &tickets[4], 2);
	assert_int_equal(n_resumed, 1);
	assert_int_equal(resumed[0], 2);
	xpxe_admit_destroy(&a);
}

/*
 * A machine keeps its place for its next file: its kernel, asked after its initramfs, goes
 * before the first file of every machine that came after it (machines finish whole, one
 * after another), but not before a control plane's (the second here: the first went in at
 * once, over the cap of 1).
 */
static void test_machine_keeps_its_place(void **state)
{
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 1, 0, note_resume);
	/* Addresses as the server has them: network order (198.18.8.1, .2, ...). */
	ticket(1, XPXE_RANK_WORKER)->client = htonl(0xc6120801); /* A's initramfs */
	assert_true(xpxe_admit_enter(&a, &tickets[1], 0));
	ticket(2, XPXE_RANK_WORKER)->client = htonl(0xc6120802); /* B's initramfs */
	assert_false(wait_in(&a, &tickets[2], 1));
	ticket(3, XPXE_RANK_WORKER)->client = htonl(0xc6120803); /* C's initramfs */
	assert_false(wait_in(&a, &tickets[3], 2));
	ticket(4, XPXE_RANK_CONTROLPLANE)->client = htonl(0xc6120804); /* a control plane's */
	assert_true(xpxe_admit_enter(&a, &tickets[4], 3));
	ticket(7, XPXE_RANK_CONTROLPLANE)->client = htonl(0xc6120807); /* another one's */
	assert_false(wait_in(&a, &tickets[7], 3));
	xpxe_admit_leave(&a, &tickets[1], 4); /* A's initramfs is done: 4 holds the slot */
	ticket(5, XPXE_RANK_WORKER)->client =
	    htonl(0xc6120801); /* A's kernel: A's place, before B */
	assert_false(wait_in(&a, &tickets[5], 5));
	assert_int_equal(tickets[5].seq, tickets[1].seq);
	xpxe_admit_leave(&a, &tickets[4], 6); /* the waiting cp goes */
	xpxe_admit_leave(&a, &tickets[7], 7);
	xpxe_admit_leave(&a, &tickets[5], 8);
	xpxe_admit_leave(&a, &tickets[2], 9);
	assert_int_equal(n_resumed, 4);
	assert_int_equal(resumed[0], 7);
	assert_int_equal(resumed[1], 5);
	assert_int_equal(resumed[2], 2);
	assert_int_equal(resumed[3], 3);
	/* A client of no known address takes a place of its own each time. */
	assert_true(ticket(6, XPXE_RANK_WORKER)->client == 0);
	xpxe_admit_destroy(&a);
}

/*
 * A place is kept for the machine's next file, not forever: A back long after its last
 * download (a reboot) queues behind B, who came since; within XPXE_ADMIT_PLACE_KEEP_S of
 * its last download's end it still goes first.
 */
static void test_place_ages_out(void **state)
{
	const double later = 10 + XPXE_ADMIT_PLACE_KEEP_S + 1;
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 1, 0, note_resume);
	ticket(1, XPXE_RANK_WORKER)->client = htonl(0xc6120801); /* A, first boot */
	assert_true(xpxe_admit_enter(&a, &tickets[1], 0));
	xpxe_admit_leave(&a, &tickets[1], 10);
	ticket(2, XPXE_RANK_WORKER)->client = htonl(0xc6120809); /* X holds the slot */
	assert_true(xpxe_admit_enter(&a, &tickets[2], later - 1));
	ticket(3, XPXE_RANK_WORKER)->client = htonl(0xc6120802); /* B waits */
	assert_false(wait_in(&a, &tickets[3], later - 1));
	ticket(4, XPXE_RANK_WORKER)->client = htonl(0xc6120801); /* A again, much later */
	assert_false(wait_in(&a, &tickets[4], later));
	assert_true(tickets[4].seq > tickets[3].seq);
	xpxe_admit_leave(&a, &tickets[2], later + 1);
	assert_int_equal(n_resumed, 1);
	assert_int_equal(resumed[0], 3); /* B first */
	xpxe_admit_leave(&a, &tickets[3], later + 2);
	assert_int_equal(resumed[1], 4);
	xpxe_admit_leave(&a, &tickets[4], later + 3);

	/* Within the time kept, counted from its last download's end (not its start). */
	ticket(5, XPXE_RANK_WORKER)->client = htonl(0xc6120809); /* X holds the slot */
	assert_true(xpxe_admit_enter(&a, &tickets[5], later + 4));
	ticket(6, XPXE_RANK_WORKER)->client = htonl(0xc6120803); /* C waits */
	assert_false(wait_in(&a, &tickets[6], later + 4));
	ticket(7, XPXE_RANK_WORKER)->client = htonl(0xc6120801); /* A's next file */
	assert_false(wait_in(&a, &tickets[7], later + 3 + XPXE_ADMIT_PLACE_KEEP_S - 1));
	assert_int_equal(tickets[7].seq, tickets[4].seq);
	xpxe_admit_leave(&a, &tickets[5], later + 70);
	assert_int_equal(resumed[2], 7); /* A before C */
	xpxe_admit_leave(&a, &tickets[7], later + 71);
	xpxe_admit_leave(&a, &tickets[6], later + 72);
	xpxe_admit_destroy(&a);
}

/* A storm's machines (a /21 of addresses) each keep a place of their own. */
static void test_places_of_a_storm(void **state)
{
	static struct xpxe_admit_ticket t[2048];
	struct xpxe_admit a;
	unsigned kept = 0;

	(void)state;
	xpxe_admit_init(&a, 0, 0, NULL);
	for (unsigned i = 0; i < 2048; i++) {
		t[i].client = htonl(0xc6120800 + i);
		assert_true(xpxe_admit_enter(&a, &t[i], 0));
	}
	/* Their second files: the same place as their first, unless a collision took it. */
	for (unsigned i = 0; i < 2048; i++) {
		struct xpxe_admit_ticket again = { .client = htonl(0xc6120800 + i) };

		assert_true(xpxe_admit_enter(&a, &again, 1));
		kept += again.seq == t[i].seq;
	}
	/* The low bits of a multiplicative hash would keep 1 of 2048 here. */
	assert_true(kept >= 1900);
	xpxe_admit_destroy(&a);
}

/*
 * IPv6 machines of one /64 whose addresses fold alike (fd00::1:0:0:2 and fd00::2:1:0: their
 * 32-bit words XOR to the same) keep places of their own, and none takes an IPv4 machine's.
 */
static void test_places_of_ipv6(void **state)
{
	struct xpxe_admit_ticket first[3] = { 0 }, again[3] = { 0 };
	const char *text[3] = { "fd00::1:0:0:2", "fd00::2:1:0", NULL };
	struct in6_addr ip6[2];
	struct in_addr ip4 = { htonl(0xc6120801) };
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 0, 0, NULL);
	for (int i = 0; i < 3; i++) {
		if (text[i])
			assert_int_equal(inet_pton(AF_INET6, text[i], &ip6[i]), 1);
		first[i].client = xpxe_admit_client_key(text[i] != NULL, ip4, &ip6[i % 2]);
		assert_true(first[i].client != 0);
		assert_true(xpxe_admit_enter(&a, &first[i], 0));
	}
	assert_true(first[0].client != first[1].client);
	assert_true(first[2].client == ip4.s_addr);
	for (int i = 0; i < 3; i++) {
		again[i].client = first[i].client;
		assert_true(xpxe_admit_enter(&a, &again[i], 1));
		assert_true(again[i].seq == first[i].seq);
	}
	assert_true(first[0].seq != first[1].seq && first[1].seq != first[2].seq);
	xpxe_admit_destroy(&a);
}

/* A request that ends while it waits leaves the queue without taking a slot. */
static void test_leave_while_waiting(void **state)
{
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 1, 0, note_resume);
	assert_true(xpxe_admit_enter(&a, ticket(1, XPXE_RANK_WORKER), 0));
	assert_false(wait_in(&a, ticket(2, XPXE_RANK_WORKER), 0));
	assert_false(wait_in(&a, ticket(3, XPXE_RANK_WORKER), 0));
	xpxe_admit_leave(&a, &tickets[2], 1);
	assert_int_equal(a.waiting, 1);
	assert_int_equal(a.active, 1);
	assert_int_equal(n_resumed, 0);
	xpxe_admit_leave(&a, &tickets[1], 2);
	assert_int_equal(n_resumed, 1);
	assert_int_equal(resumed[0], 3);
	xpxe_admit_destroy(&a);
}

/* Past MAX_WAIT a waiter is let in over the cap: it must not time out in its firmware. */
static void test_overdue_over_the_cap(void **state)
{
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 1, 30, note_resume);
	assert_true(xpxe_admit_enter(&a, ticket(1, XPXE_RANK_WORKER), 0));
	assert_false(wait_in(&a, ticket(2, XPXE_RANK_WORKER), 0));
	assert_false(wait_in(&a, ticket(3, XPXE_RANK_WORKER), 10));
	assert_int_equal(xpxe_admit_tick(&a, 29.9), 0);
	/* Both got their trickle (resumed) and were held again. */
	assert_int_equal(n_resumed, 2);
	hold(&a, &tickets[2]);
	hold(&a, &tickets[3]);
	n_resumed = 0;
	assert_int_equal(xpxe_admit_tick(&a, 30), 1);
	assert_int_equal(resumed[0], 2);
	assert_true(tickets[2].overdue);
	assert_int_equal(a.active, 2);
	assert_int_equal(a.stats.overdue, 1);
	/* Over the cap: 1 leaving frees no slot for 3 (2 still runs, and the cap is 1). */
	xpxe_admit_leave(&a, &tickets[1], 31);
	assert_int_equal(n_resumed, 1);
	xpxe_admit_leave(&a, &tickets[2], 32);
	assert_int_equal(n_resumed, 2);
	assert_int_equal(resumed[1], 3);
	xpxe_admit_destroy(&a);
}

/*
 * A slot frees between the enter that queued T and the suspension of T's client: T is
 * admitted but not resumed (its connection is not suspended yet); held() says so instead.
 */
static void test_resume_never_before_suspend(void **state)
{
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 1, 0, note_resume);
	assert_true(xpxe_admit_enter(&a, ticket(1, XPXE_RANK_WORKER), 0));
	assert_false(xpxe_admit_enter(&a, ticket(2, XPXE_RANK_WORKER), 0));
	xpxe_admit_leave(&a, &tickets[1], 1);
	assert_int_equal(tickets[2].state, XPXE_TICKET_ADMITTED);
	assert_int_equal(n_resumed, 0);
	assert_true(xpxe_admit_held(&a, &tickets[2])); /* the caller resumes it */
	xpxe_admit_leave(&a, &tickets[2], 2);
	assert_int_equal(a.active, 0);
	xpxe_admit_destroy(&a);
}

/*
 * A held download gets TRICKLE_BYTES every TRICKLE_S seconds (its client sees bytes come),
 * only once it is held (suspended), and goes at full speed once admitted.
 */
static void test_trickle(void **state)
{
	struct xpxe_admit a;
	size_t n;

	(void)state;
	xpxe_admit_init(&a, 1, 0, note_resume);
	assert_true(xpxe_admit_enter(&a, ticket(1, XPXE_RANK_WORKER), 0));
	assert_false(wait_in(&a, ticket(2, XPXE_RANK_WORKER), 0));
	assert_int_equal(xpxe_admit_tick(&a, XPXE_ADMIT_TRICKLE_S - 0.1), 0);
	assert_int_equal(n_resumed, 0); /* not due yet */
	xpxe_admit_tick(&a, XPXE_ADMIT_TRICKLE_S);
	assert_int_equal(n_resumed, 1);
	assert_int_equal(resumed[0], 2);
	/* Resumed: its body may send the trickle's bytes, in pieces, then holds again. */
	n = 1000;
	assert_int_equal(xpxe_admit_body(&a, &tickets[2], &n), XPXE_BODY_TRICKLE);
	assert_int_equal(n, 1000);
	n = 1000;
	assert_int_equal(xpxe_admit_body(&a, &tickets[2], &n), XPXE_BODY_TRICKLE);
	assert_int_equal(n, XPXE_ADMIT_TRICKLE_BYTES - 1000);
	n = 1000;
	assert_int_equal(xpxe_admit_body(&a, &tickets[2], &n), XPXE_BODY_HOLD);
	/* Not held (still running its body): the next tick gives it nothing. */
	xpxe_admit_tick(&a, 2 * XPXE_ADMIT_TRICKLE_S);
	assert_int_equal(n_resumed, 1);
	assert_false(xpxe_admit_held(&a, &tickets[2]));
	/* Its turn: resumed, and the body goes at full speed. */
	xpxe_admit_leave(&a, &tickets[1], 11);
	assert_int_equal(n_resumed, 2);
	n = 1 << 20;
	assert_int_equal(xpxe_admit_body(&a, &tickets[2], &n), XPXE_BODY_GO);
	/* A held body of a server that stops: resumed, and it ends. */
	assert_false(wait_in(&a, ticket(3, XPXE_RANK_WORKER), 12));
	xpxe_admit_close(&a);
	assert_int_equal(n_resumed, 3);
	assert_int_equal(resumed[2], 3);
	n = 1 << 20;
	assert_int_equal(xpxe_admit_body(&a, &tickets[3], &n), XPXE_BODY_STOP);
	xpxe_admit_destroy(&a);
}

/* No cap: everyone at once, nothing queued. */
static void test_no_cap(void **state)
{
	struct xpxe_admit a;

	(void)state;
	xpxe_admit_init(&a, 0, 0, note_resume);
	for (int i = 0; i < 20; i++)
		assert_true(xpxe_admit_enter(&a, ticket(i, XPXE_RANK_WORKER), 0));
	assert_int_equal(a.active, 20);
	xpxe_admit_destroy(&a);
}

/* Stopping: every waiter is resumed CLOSED, and the snapshot lists runners then the queue. */
static void test_close_and_snapshot(void **state)
{
	struct xpxe_admit a;
	struct xpxe_admit_view v[8];
	struct xpxe_admit_stats st;
	unsigned active, waiting;
	int n;

	(void)state;
	xpxe_admit_init(&a, 1, 0, note_resume);
	assert_true(xpxe_admit_enter(&a, ticket(1, XPXE_RANK_WORKER), 0));
	assert_false(wait_in(&a, ticket(2, XPXE_RANK_WORKER), 1));
	assert_true(xpxe_admit_enter(&a, ticket(3, XPXE_RANK_CONTROLPLANE), 2)); /* over the cap */
	assert_false(wait_in(&a, ticket(4, XPXE_RANK_CONTROLPLANE), 2));
	n = xpxe_admit_snapshot(&a, &active, &waiting, &st, v, 8);
	assert_int_equal(n, 4);
	assert_int_equal(active, 2);
	assert_int_equal(waiting, 2);
	assert_int_equal(st.controlplane_over, 1);
	assert_string_equal(v[0].who, "m3"); /* running, newest first */
	assert_false(v[0].waiting);
	assert_string_equal(v[1].who, "m1");
	assert_false(v[1].waiting);
	assert_string_equal(v[2].who, "m4"); /* the queue, best first */
	assert_true(v[2].waiting);
	assert_string_equal(v[3].who, "m2");
	xpxe_admit_close(&a);
	assert_int_equal(n_resumed, 2);
	assert_int_equal(tickets[2].state, XPXE_TICKET_CLOSED);
	assert_int_equal(tickets[4].state, XPXE_TICKET_CLOSED);
	assert_int_equal(a.waiting, 0);
	/* A CLOSED ticket leaving frees nothing. */
	xpxe_admit_leave(&a, &tickets[4], 3);
	assert_int_equal(a.active, 2);
	xpxe_admit_destroy(&a);
}

static void test_rank_of_role(void **state)
{
	(void)state;
	assert_int_equal(xpxe_role_rank("controlplane"), XPXE_RANK_CONTROLPLANE);
	assert_int_equal(xpxe_role_rank("init"), XPXE_RANK_CONTROLPLANE);
	assert_int_equal(xpxe_role_rank("worker"), XPXE_RANK_WORKER);
	assert_int_equal(xpxe_role_rank("Controlplane"), -1);
}

/* Writes TEXT to a file of its own; its path in PATH (PATH_MAX bytes). */
static void write_doc(char *path, const char *text)
{
	int fd;

	snprintf(path, 64, "/tmp/xpxe-test-admit-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * A Talos document ranks its machine when the inventory gives no role: `type:` under
 * `machine:`, after lines of any length (a long one read in pieces ended machine: early).
 */
static void test_document_rank(void **state)
{
	static char doc[8192];
	char path[64];
	int n;

	(void)state;
	n = snprintf(doc, sizeof(doc), "version: v1alpha1\nmachine:\n  certSANs: [");
	for (int i = 0; i < 100; i++)
		n +=
		    snprintf(doc + n, sizeof(doc) - n, "%shost-%03d.example.com", i ? ", " : "", i);
	snprintf(doc + n, sizeof(doc) - n, "]\n  type: controlplane\ncluster:\n  name: c\n");
	assert_true(strlen(strchr(doc, '[')) > 1024);
	write_doc(path, doc);
	assert_true(xpxe_http_document_says_controlplane(path));
	unlink(path);

	write_doc(path, "machine:\n  type: worker\n");
	assert_false(xpxe_http_document_says_controlplane(path));
	unlink(path);
	write_doc(path, "machine:\n  install: {}\ncluster:\n  type: controlplane\n");
	assert_false(xpxe_http_document_says_controlplane(path)); /* not machine's */
	unlink(path);
	write_doc(path, "# a comment\nmachine:\n  type: \"init\"\n");
	assert_true(xpxe_http_document_says_controlplane(path));
	unlink(path);
	assert_false(xpxe_http_document_says_controlplane(""));
	assert_false(xpxe_http_document_says_controlplane("/nonexistent/xpxe.yaml"));
}

/*
 * The profile whose Talos document ranks a machine: its own, else the default profile (a
 * machine of profile -1 took profile 0's document, whatever the default was).
 */
static void test_machine_profile(void **state)
{
	static struct xpxe_config cfg;
	struct xpxe_machine_cfg m = { .profile = -1 };

	(void)state;
	cfg.n_profiles = 3;
	cfg.default_profile = 2;
	assert_int_equal(xpxe_config_machine_profile(&cfg, &m), 2);
	m.profile = 1;
	assert_int_equal(xpxe_config_machine_profile(&cfg, &m), 1);
	m.profile = -1;
	cfg.default_profile = -1; /* unknown machines ignored; a known one boots the first */
	assert_int_equal(xpxe_config_machine_profile(&cfg, &m), 0);
}

/* What may be held: kernels and initramfs, not the EFI binaries firmware fetches itself. */
static void test_may_hold(void **state)
{
	(void)state;
	assert_true(xpxe_admit_may_hold("vmlinuz"));
	assert_true(xpxe_admit_may_hold("initramfs.xz"));
	assert_true(xpxe_admit_may_hold("efi"));
	assert_true(xpxe_admit_may_hold("kernel.efi.sig"));
	assert_false(xpxe_admit_may_hold("grubaa64.efi"));
	assert_false(xpxe_admit_may_hold("BOOTX64.EFI"));
	assert_false(xpxe_admit_may_hold("snponly.efi"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_resume_never_before_suspend, setup),
		cmocka_unit_test_setup(test_cap_then_fifo, setup),
		cmocka_unit_test_setup(test_controlplane_over_the_cap, setup),
		cmocka_unit_test_setup(test_controlplane_passes_waiting_workers, setup),
		cmocka_unit_test_setup(test_machine_keeps_its_place, setup),
		cmocka_unit_test_setup(test_places_of_a_storm, setup),
		cmocka_unit_test_setup(test_places_of_ipv6, setup),
		cmocka_unit_test_setup(test_place_ages_out, setup),
		cmocka_unit_test_setup(test_leave_while_waiting, setup),
		cmocka_unit_test_setup(test_overdue_over_the_cap, setup),
		cmocka_unit_test_setup(test_trickle, setup),
		cmocka_unit_test_setup(test_no_cap, setup),
		cmocka_unit_test_setup(test_close_and_snapshot, setup),
		cmocka_unit_test(test_rank_of_role),
		cmocka_unit_test(test_document_rank),
		cmocka_unit_test(test_machine_profile),
		cmocka_unit_test(test_may_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
