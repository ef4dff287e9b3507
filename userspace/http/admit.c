// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <strings.h>

#include "http/admit.h"

void xpxe_admit_init(struct xpxe_admit *a, unsigned max, unsigned max_wait_s,
		     void (*resume)(void *ctx))
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->max = max;
	a->max_wait_s = max_wait_s;
	a->resume = resume;
}

void xpxe_admit_destroy(struct xpxe_admit *a)
{
	pthread_mutex_destroy(&a->lock);
}

/* A control plane's rank (role controlplane or init) is above a worker's 0. */
static bool controlplane(const struct xpxe_admit_ticket *t)
{
	return t->rank > 0;
}

/* Puts T (just ADMITTED) on the running list, which status and watch show. */
static void run(struct xpxe_admit *a, struct xpxe_admit_ticket *t)
{
	t->run_next = a->running;
	a->running = t;
	a->active_controlplanes += controlplane(t);
}

static void unrun(struct xpxe_admit *a, struct xpxe_admit_ticket *t)
{
	a->active_controlplanes -= controlplane(t);
	for (struct xpxe_admit_ticket **p = &a->running; *p; p = &(*p)->run_next)
		if (*p == t) {
			*p = t->run_next;
			t->run_next = NULL;
			return;
		}
}

/* Removes T from LIST; false when it was not there. */
static bool unlink_from(struct xpxe_admit_ticket **list, struct xpxe_admit_ticket *t)
{
	for (struct xpxe_admit_ticket **p = list; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			t->next = NULL;
			return true;
		}
	return false;
}

/* Whether A goes before B: the higher rank, then the earlier machine, then the earlier file. */
static bool ahead(const struct xpxe_admit_ticket *a, const struct xpxe_admit_ticket *b)
{
	if (a->rank != b->rank)
		return a->rank > b->rank;
	return a->seq <= b->seq;
}

/* Queues T in its place: behind every ticket that goes before it. */
static void insert_waiting(struct xpxe_admit *a, struct xpxe_admit_ticket *t)
{
	struct xpxe_admit_ticket **p = &a->queue;

	while (*p && ahead(*p, t))
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

/* T leaves the queue (admitted or closed): onto RESUMED when its client is held, else its
 * caller resumes it (xpxe_admit_held) */
static void to_resume(struct xpxe_admit_ticket *t, struct xpxe_admit_ticket **resumed)
{
	t->next = NULL;
	if (!t->held)
		return;
	t->held = false; /* resumed: its next hold marks it again */
	t->next = *resumed;
	*resumed = t;
}

/*
 * Moves the head of the queue to the active list (ADMITTED) while slots are free; links
 * them through RESUMED (their ->next no longer in use: the queue is done with them, and an
 * admitted ticket is in no list but the caller's) for the caller to resume outside the lock.
 */
static void admit_heads(struct xpxe_admit *a, double now, struct xpxe_admit_ticket **resumed)
{
	while (a->queue && (!a->max || a->active < a->max)) {
		struct xpxe_admit_ticket *t = a->queue;

		a->queue = t->next;
		a->waiting--;
		a->active++;
		t->state = XPXE_TICKET_ADMITTED;
		t->admitted = now;
		run(a, t);
		a->stats.after_wait++;
		a->stats.wait_seconds += now - t->queued;
		to_resume(t, resumed);
	}
}

static void resume_all(struct xpxe_admit *a, struct xpxe_admit_ticket *list)
{
	while (list) {
		struct xpxe_admit_ticket *next = list->next;

		/* After this call the request owns T again and may free it: NEXT is read first. */
		list->next = NULL;
		if (a->resume)
			a->resume(list->ctx);
		list = next;
	}
}

uint64_t xpxe_admit_client_key(bool v6, struct in_addr ip, const struct in6_addr *ip6)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	if (!v6)
		return ip.s_addr;
	for (int i = 0; i < 16; i++)
		h = (h ^ ip6->s6_addr[i]) * 0x100000001b3ull;
	return h | 1ull << 63;
}

/*
 * CLIENT's place. Knuth's multiplicative hash, its top bits: an address in network order varies
 * in its top byte, which the product's low bits never see; a storm's consecutive addresses
 * land apart. An IPv4 key has no high half, so the fold leaves it as it is.
 */
static struct xpxe_admit_place *place_of(struct xpxe_admit *a, uint64_t client)
{
	uint32_t folded = (uint32_t)(client ^ client >> 32);

	return &a->places[(folded * 2654435761u) >> (32 - XPXE_ADMIT_PLACES_BITS)];
}

bool xpxe_admit_enter(struct xpxe_admit *a, struct xpxe_admit_ticket *t, double now)
{
	bool go;

	pthread_mutex_lock(&a->lock);
	if (t->client) {
		/* Its machine's place, taken with its first file, while it is recent. */
		struct xpxe_admit_place *pl = place_of(a, t->client);

		if (pl->client != t->client || now - pl->seen > XPXE_ADMIT_PLACE_KEEP_S)
			*pl = (struct xpxe_admit_place){ t->client, ++a->seq, now };
		pl->seen = now;
		t->seq = pl->seq;
	} else {
		t->seq = ++a->seq;
	}
	t->next = NULL;
	t->overdue = false;
	t->controlplane_over = false;
	t->held = false;
	/* Nobody waits ahead (of this rank or higher) and a slot is free: straight in. */
	go = !a->max || a->closing || (a->active < a->max && !(a->queue && ahead(a->queue, t)));
	/*
	 * A control plane goes at once, over the cap, while fewer than MAX control planes
	 * download: at the front of the queue it would wait for a download to end, and in a
	 * storm the first batch all started together and ends together, so it would finish
	 * with the second batch. The workers it passes wait the longer (it counts in active).
	 * Past MAX of them (a fleet that calls every machine a control plane), they queue.
	 */
	if (!go && controlplane(t) && a->active_controlplanes < a->max) {
		go = true;
		t->controlplane_over = true;
		a->stats.controlplane_over++;
	}
	if (go) {
		t->state = XPXE_TICKET_ADMITTED;
		t->queued = 0;
		t->admitted = now;
		a->active++;
		run(a, t);
		a->stats.at_once++;
	} else {
		t->state = XPXE_TICKET_WAITING;
		t->queued = now;
		t->budget = 1; /* the header goes out with a first byte */
		t->trickled = now;
		a->waiting++;
		insert_waiting(a, t);
	}
	pthread_mutex_unlock(&a->lock);
	return go;
}

enum xpxe_body xpxe_admit_body(struct xpxe_admit *a, struct xpxe_admit_ticket *t, size_t *n)
{
	enum xpxe_body what = XPXE_BODY_HOLD;

	pthread_mutex_lock(&a->lock);
	if (t->state == XPXE_TICKET_ADMITTED) {
		what = XPXE_BODY_GO;
	} else if (t->state != XPXE_TICKET_WAITING) {
		what = XPXE_BODY_STOP;
	} else if (t->budget) {
		what = XPXE_BODY_TRICKLE;
		*n = *n < t->budget ? *n : t->budget;
		t->budget -= *n;
	}
	pthread_mutex_unlock(&a->lock);
	return what;
}

bool xpxe_admit_held(struct xpxe_admit *a, struct xpxe_admit_ticket *t)
{
	bool owed;

	pthread_mutex_lock(&a->lock);
	owed = t->state != XPXE_TICKET_WAITING || t->budget;
	t->held = !owed;
	pthread_mutex_unlock(&a->lock);
	return owed;
}

void xpxe_admit_leave(struct xpxe_admit *a, struct xpxe_admit_ticket *t, double now)
{
	struct xpxe_admit_ticket *resumed = NULL;

	pthread_mutex_lock(&a->lock);
	/* Its place is kept from here on (XPXE_ADMIT_PLACE_KEEP_S), for its next file. */
	if (t->client && place_of(a, t->client)->client == t->client)
		place_of(a, t->client)->seen = now;
	if (t->state == XPXE_TICKET_WAITING) {
		if (unlink_from(&a->queue, t))
			a->waiting--;
	} else if (t->state == XPXE_TICKET_ADMITTED) {
		unrun(a, t);
		a->active--;
		admit_heads(a, now, &resumed);
	}
	t->state = XPXE_TICKET_DONE;
	pthread_mutex_unlock(&a->lock);
	resume_all(a, resumed);
}

unsigned xpxe_admit_tick(struct xpxe_admit *a, double now)
{
	struct xpxe_admit_ticket *resumed = NULL, *resumed_trickle = NULL, **p;
	unsigned n = 0;

	pthread_mutex_lock(&a->lock);
	/* Slots freed without a leave (a cap raised): fill them first. */
	admit_heads(a, now, &resumed);
	for (p = &a->queue; *p;) {
		struct xpxe_admit_ticket *t = *p;

		if (!a->max_wait_s || now - t->queued < a->max_wait_s) {
			/* Still waiting: its trickle, when it is due and it is held. */
			if (t->held && now - t->trickled >= XPXE_ADMIT_TRICKLE_S) {
				t->budget += XPXE_ADMIT_TRICKLE_BYTES;
				t->trickled = now;
				t->held = false;
				t->resume_next = resumed_trickle;
				resumed_trickle = t;
			}
			p = &t->next;
			continue;
		}
		*p = t->next;
		a->waiting--;
		a->active++;
		t->state = XPXE_TICKET_ADMITTED;
		t->overdue = true;
		t->admitted = now;
		run(a, t);
		a->stats.overdue++;
		a->stats.wait_seconds += now - t->queued;
		to_resume(t, &resumed);
		n++;
	}
	pthread_mutex_unlock(&a->lock);
	resume_all(a, resumed);
	/* The trickled stay in the queue (->next is its link): their own list. */
	while (resumed_trickle) {
		struct xpxe_admit_ticket *t = resumed_trickle;

		resumed_trickle = t->resume_next;
		if (a->resume)
			a->resume(t->ctx);
	}
	return n;
}

void xpxe_admit_close(struct xpxe_admit *a)
{
	struct xpxe_admit_ticket *list = NULL;

	pthread_mutex_lock(&a->lock);
	a->closing = true;
	while (a->queue) {
		struct xpxe_admit_ticket *t = a->queue;

		a->queue = t->next;
		t->state = XPXE_TICKET_CLOSED;
		a->waiting--;
		a->stats.closed++;
		to_resume(t, &list);
	}
	pthread_mutex_unlock(&a->lock);
	resume_all(a, list);
}

int xpxe_admit_snapshot(struct xpxe_admit *a, unsigned *active, unsigned *waiting,
			struct xpxe_admit_stats *stats, struct xpxe_admit_view *out, int n)
{
	int k = 0;

	pthread_mutex_lock(&a->lock);
	*active = a->active;
	*waiting = a->waiting;
	*stats = a->stats;
	for (struct xpxe_admit_ticket *t = a->running; t && k < n; t = t->run_next, k++) {
		memcpy(out[k].who, t->who, sizeof(out[k].who));
		memcpy(out[k].what, t->what, sizeof(out[k].what));
		out[k].waiting = false;
		out[k].rank = t->rank;
		out[k].since = t->admitted;
	}
	for (struct xpxe_admit_ticket *t = a->queue; t && k < n; t = t->next, k++) {
		memcpy(out[k].who, t->who, sizeof(out[k].who));
		memcpy(out[k].what, t->what, sizeof(out[k].what));
		out[k].waiting = true;
		out[k].rank = t->rank;
		out[k].since = t->queued;
	}
	pthread_mutex_unlock(&a->lock);
	return k;
}

bool xpxe_admit_may_hold(const char *name)
{
	size_t n = strlen(name);

	return n < 4 || strcasecmp(name + n - 4, ".efi");
}
