// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Paced transfers (opts.pace_ms). A transfer let in over the cap used to run at full speed:
 * in a storm, the ~850 RRQs held behind 128 places all went in together at max_wait, and
 * their lockstep blocks took the CPUs from the first machines' HTTP downloads. A paced
 * transfer is answered as any other, but its session stays out of the programs' map: XDP and
 * tc pass its ACKs up to its port (no session: not theirs), and the daemon answers each one
 * window at a time, opts.pace_ms after the ACK. The pause is shorter than any client's first
 * retransmission timeout, so no client counts a timeout:
 *   iPXE: retry.c's DEFAULT_MIN_TIMEOUT, a quarter second (its TFTP keeps the default; the
 *         timer then follows the measured round trip, up to 10 s before it fails);
 *   EDK2: Mtftp4's timeout is seconds (MTFTP4_DEFAULT_TIMEOUT 3 s; PxeBc asks for 4 s);
 *   storm.c's simulated machines: 1 s.
 * One send per window: a copy of the ACK that waits for its pause is ignored; a repeat of an
 * ACK whose window already went (a lost block) is answered at the next pause.
 *
 * When a place frees (n_active < cap), the oldest paced transfer takes it: its session is
 * written to the map with the window the daemon sends at once, and the programs answer the
 * next ACK at full speed. Only a transfer whose ACK the daemon holds is promoted so (nothing
 * of it is in flight: no ACK can reach the programs before its session does, or the daemon
 * after). One whose window is in flight keeps the place (PROMOTE) and goes at its ACK.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "log.h"
#include "tftp/internal.h"
#include "tftp/proto.h"

/* The pace timer's tick: a due window waits at most this much more than opts.pace_ms. */
#define PACE_TICK_NS (10ull * 1000 * 1000)

int tftp_session_of(const struct xfer *x, struct xpxe_tftp_session *s)
{
	if (x->paced) {
		*s = x->ps;
		return 0;
	}
	return tftp_session_get(x->ifc, &x->key, s);
}

static void arm(struct xpxe_tftp *t, bool on)
{
	struct itimerspec its = { 0 };

	if (t->pace_fd < 0 || t->pace_armed == on)
		return;
	if (on) {
		its.it_value.tv_nsec = PACE_TICK_NS;
		its.it_interval.tv_nsec = PACE_TICK_NS;
	}
	if (!timerfd_settime(t->pace_fd, 0, &its, NULL))
		t->pace_armed = on;
}

static void unlink_paced(struct xpxe_tftp *t, struct xfer *x)
{
	if (x->pace_prev)
		x->pace_prev->pace_next = x->pace_next;
	else
		t->paced_head = x->pace_next;
	if (x->pace_next)
		x->pace_next->pace_prev = x->pace_prev;
	else
		t->paced_tail = x->pace_prev;
	x->pace_prev = x->pace_next = NULL;
	t->n_paced--;
}

void tftp_pace_forget(struct xpxe_tftp *t, struct xfer *x)
{
	if (!x->paced)
		return;
	unlink_paced(t, x);
	x->paced = false;
	x->promote = false;
	if (!t->n_paced)
		arm(t, false);
}

void tftp_pace_count(struct xpxe_tftp *t, bool up)
{
	if (up) {
		t->n_paced++;
		t->paced_total++;
		arm(t, true);
	} else if (t->n_paced && !--t->n_paced) {
		arm(t, false);
	}
}

void tftp_pace_start(struct xpxe_tftp *t, struct xfer *x, const struct xpxe_tftp_session *s)
{
	x->paced = true;
	x->promote = false;
	x->ps = *s;
	x->pace_due_ns = 0;
	x->pace_next = NULL;
	x->pace_prev = t->paced_tail;
	if (t->paced_tail)
		t->paced_tail->pace_next = x;
	else
		t->paced_head = x;
	t->paced_tail = x;
	t->n_paced++;
	t->paced_total++;
	arm(t, true);
}

/* The blocks after X's window base, up to its window: from its socket. */
static void send_window(struct xpxe_tftp *t, struct xfer *x)
{
	static uint8_t buf[4 + XPXE_TFTP_BLKSIZE_MAX];
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = x->key.client_ip,
				  .sin_port = x->key.client_port };
	struct xpxe_tftp_session *s = &x->ps;
	unsigned ws = s->windowsize > 1 ? s->windowsize : 1;
	const struct xpxe_tftp_chunk *chunks;
	uint32_t n_chunks, sum, last, b;

	last = s->final_block - s->win_base > ws ? s->win_base + ws : s->final_block;
	chunks = xpxe_assets_chunks(t->assets, x->slot, &n_chunks);
	for (b = s->win_base + 1; chunks && x->fd >= 0 && b <= last; b++) {
		size_t len =
		    xpxe_tftp_data_payload(buf, chunks, n_chunks, x->size, x->blksize, b, &sum);

		if (!len)
			break;
		if (b <= s->last_block)
			s->retransmits++;
		if (sendto(x->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			log_debug("TFTP: sendto: %s", strerror(errno));
		tftp_bump(t, x->ifc, XPXE_CNT_TFTP_DATA_DAEMON);
		tftp_tally(x->ifc, XPXE_CNT_TFTP_BYTES_DAEMON, len - 4);
	}
	if (b - 1 > s->last_block)
		s->last_block = b - 1;
	s->restarted = b - 1 < s->last_block;
	s->last_tx_ns = tftp_now_ns();
	x->pace_due_ns = 0;
}

/*
 * X's session to the map, its next window sent now: the data plane has it from here. False
 * when the map refuses it (X stays paced).
 */
static bool promote(struct xpxe_tftp *t, struct xfer *x)
{
	struct xpxe_tftp_session s = x->ps;
	unsigned ws = s.windowsize > 1 ? s.windowsize : 1;
	char who[32];

	/* The window the daemon sends below, as the programs would have recorded it. */
	s.last_block = s.final_block - s.win_base > ws ? s.win_base + ws : s.final_block;
	s.restarted = 0;
	s.last_tx_ns = tftp_now_ns();
	s.state = XPXE_TFTP_ACTIVE;
	if (tftp_session_put(x->ifc, &x->key, &s)) {
		log_debug("TFTP: cannot install a paced transfer: %s", strerror(errno));
		return false;
	}
	send_window(t, x);
	tftp_pace_forget(t, x);
	t->promoted_total++;
	tftp_addr_str(who, sizeof(who), x->key.client_ip, x->key.client_port);
	log_info("tftp: %s of %s, paced, takes a place: the data plane sends the rest from "
		 "block %u",
		 x->name, who, s.win_base + 1);
	return true;
}

void tftp_pace_ack(struct xpxe_tftp *t, struct xfer *x, uint16_t ack)
{
	struct xpxe_tftp_session *s = &x->ps;
	uint32_t base = s->win_base, m = base + (uint16_t)(ack - (uint16_t)base);
	__u64 now = tftp_now_ns();

	if (s->state != XPXE_TFTP_ACTIVE || m > s->last_block)
		return; /* stale */
	if (m == s->last_block && m >= s->final_block) {
		s->win_base = m;
		s->state = XPXE_TFTP_DONE;
		s->last_tx_ns = now;
		return;
	}
	if (x->pace_due_ns)
		return; /* a copy of the ACK that waits for its pause */
	/* The echo of a duplicate block, as xpxe_tftp_decide tells it: not the ACK of all that
	 * went out (the OACK's ACK 0 comes back sooner than the guard on a LAN). */
	if (m == base && m < s->last_block && (s->windowsize <= 1 || s->restarted) &&
	    (__s64)(now - s->last_tx_ns) < (__s64)XPXE_TFTP_DUP_GUARD_NS)
		return;
	s->win_base = m;
	if (x->promote && promote(t, x))
		return; /* else it keeps its place, and tries again at its next ACK */
	x->pace_due_ns = now + (__u64)t->opts.pace_ms * 1000000ull;
}

void tftp_pace_error(struct xpxe_tftp *t, struct xfer *x, uint16_t code)
{
	(void)t;
	if (x->ps.state != XPXE_TFTP_ACTIVE)
		return;
	x->ps.state = XPXE_TFTP_ABORTED;
	x->ps.client_error = code > 255 ? 255 : (uint8_t)code;
}

void tftp_pace_tick(struct xpxe_tftp *t)
{
	uint64_t ticks;
	__u64 now = tftp_now_ns();

	if (read(t->pace_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	for (struct xfer *x = t->paced_head; x; x = x->pace_next)
		if (x->pace_due_ns && (__s64)(now - x->pace_due_ns) >= 0 &&
		    x->ps.state == XPXE_TFTP_ACTIVE)
			send_window(t, x);
	tftp6_pace_tick(t);
	/* Places that free while HTTP's queue shrinks (opts.backlog_max): taken now. */
	if (t->opts.backlog_max && t->n_active < t->opts.max_at_once)
		tftp_admit_held(t);
	if (!t->n_paced)
		arm(t, false);
}

struct xfer *tftp_pace_next(const struct xpxe_tftp *t)
{
	for (struct xfer *x = t->paced_head; x; x = x->pace_next)
		if (!x->promote && !x->ended && x->ps.state == XPXE_TFTP_ACTIVE)
			return x;
	return NULL;
}

bool tftp_http_fed(struct xpxe_tftp *t)
{
	return t->opts.backlog && t->opts.backlog_max &&
	       t->opts.backlog(t->opts.rank_ctx) >= t->opts.backlog_max;
}

void tftp_pace_promote(struct xpxe_tftp *t)
{
	struct xfer *x;

	if (!t->opts.max_at_once || t->n_active >= t->opts.max_at_once || tftp_http_fed(t))
		return;
	while (t->n_active < t->opts.max_at_once && (x = tftp_pace_next(t))) {
		/* Its place now, whether it goes now (its ACK waits here) or at its ACK. */
		tftp_place_take(t, &x->counted);
		if (!x->pace_due_ns || !promote(t, x))
			x->promote = true;
	}
	/* Then IPv6's (after IPv4's, whatever their age). */
	while (t->n_active < t->opts.max_at_once && tftp6_pace_promote(t))
		;
}
