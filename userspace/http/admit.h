/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_ADMIT_H
#define XPXE_ADMIT_H

#include <pthread.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/*
 * Admission for bulk downloads (kernel, initramfs over HTTP): at most MAX run at once,
 * the others wait in one queue and go in as slots free. When the link is the bottleneck,
 * sharing it among every machine of a boot storm makes them all finish near the end; letting
 * a batch at a time through makes them finish one batch after another, with the same last
 * one. The queue is ordered by rank (control planes first), then by the machine's arrival:
 * first come, first served within a rank, and a machine keeps its place for its next file
 * (its kernel after its initramfs), so machines finish whole, one after another, instead of
 * every machine waiting for its second file behind every other machine's first.
 *
 * A waiting client is held, not refused (firmware HTTP clients and iPXE retry badly, if at
 * all): its response's header goes out at once, then its body trickles, TRICKLE_BYTES every
 * TRICKLE_S seconds (a client that gives up on a silent connection sees bytes come), until it
 * is admitted and the rest goes at full speed. One that has waited MAX_WAIT seconds (when
 * set) is let in over the cap.
 *
 * No I/O here: the caller says what "resume" means (the HTTP server resumes a connection),
 * so the ordering is tested on its own (tests/unit/test_admit.c).
 */

#define XPXE_ADMIT_TRICKLE_S	 5    /* a held download gets bytes this often ... */
#define XPXE_ADMIT_TRICKLE_BYTES 1024 /* ... this many */

/* Clients whose place is kept (a collision loses one's place). */
#define XPXE_ADMIT_PLACES_BITS 13
#define XPXE_ADMIT_PLACES      (1u << XPXE_ADMIT_PLACES_BITS)
/*
 * How long a place is kept after its client's last download entered or left: its next file
 * comes within seconds (iPXE fetches them one after another). A machine back later (a
 * reboot, a reinstall) queues anew, behind those that came since, not ahead of the storm.
 */
#define XPXE_ADMIT_PLACE_KEEP_S 60

/* Ranks (enum xpxe_admit_rank, the higher goes first) are config.h's: a machine's role. */

enum xpxe_ticket_state {
	XPXE_TICKET_NEW = 0,
	XPXE_TICKET_WAITING,  /* in the queue */
	XPXE_TICKET_ADMITTED, /* holds a slot (or was let in over the cap) */
	XPXE_TICKET_CLOSED,   /* the server stops: answer without downloading */
	XPXE_TICKET_DONE,     /* left */
};

/* One download; owned by its request, linked into the queue while it waits. */
struct xpxe_admit_ticket {
	struct xpxe_admit_ticket *next;	       /* in the queue (or the list to resume) */
	struct xpxe_admit_ticket *run_next;    /* in the running list, while ADMITTED */
	struct xpxe_admit_ticket *resume_next; /* in a tick's list of those given their trickle */
	enum xpxe_ticket_state state;
	int rank;
	bool overdue;		/* let in over the cap after MAX_WAIT */
	bool controlplane_over; /* let in at once, over the cap, as a control plane */
	bool held;		/* the caller has suspended it (xpxe_admit_held) */
	unsigned budget;	/* bytes it may send while it waits (the trickle) */
	double trickled;	/* when it last got some */
	unsigned long long seq; /* its machine's arrival order (the queue's order in a rank) */
	uint64_t client; /* who asks (xpxe_admit_client_key); 0: unknown, a place of its own */
	double queued, admitted; /* monotonic seconds; queued 0: admitted at once */
	void *ctx;		 /* what RESUME gets (the HTTP connection) */
	char who[96];		 /* for xpxe watch and the log: the machine's name or address */
	char what[64];		 /* the asset */
};

struct xpxe_admit_stats {
	unsigned long long at_once, after_wait, overdue, closed;
	unsigned long long controlplane_over; /* of at_once: control planes let in over the cap */
	double wait_seconds;		      /* summed over those admitted after a wait */
};

struct xpxe_admit {
	pthread_mutex_t lock;
	unsigned max;	     /* 0: no cap (every download at once) */
	unsigned max_wait_s; /* 0: wait as long as it takes */
	unsigned active, waiting;
	unsigned active_controlplanes;	   /* of active: those of a control plane's rank */
	struct xpxe_admit_ticket *queue;   /* best first */
	struct xpxe_admit_ticket *running; /* the ADMITTED, newest first */
	unsigned long long seq;
	/* The place each recent client took with its first file, by a hash of its address. */
	struct xpxe_admit_place {
		uint64_t client;
		unsigned long long seq;
		double seen; /* when its client's last download entered or left */
	} places[XPXE_ADMIT_PLACES];
	struct xpxe_admit_stats stats;
	void (*resume)(void *ctx); /* called without the lock held */
	bool closing;
};

void xpxe_admit_init(struct xpxe_admit *a, unsigned max, unsigned max_wait_s,
		     void (*resume)(void *ctx));
void xpxe_admit_destroy(struct xpxe_admit *a);

/*
 * A download asks to start at NOW: true when it may (T holds a slot), false when T waits in
 * the queue (the caller suspends; RESUME(T->ctx) comes once T->state is ADMITTED or CLOSED).
 * T's rank, client, ctx, who and what are set by the caller before.
 */
/*
 * A client's key for its place in the queue: an IPv4 address as it is (network order), an
 * IPv6 one hashed whole into 64 bits with the top bit set, so two machines' places never
 * meet by their addresses (an IPv6 key is never an IPv4 one; two IPv6 keys meet 1 in 2^63).
 */
uint64_t xpxe_admit_client_key(bool v6, struct in_addr ip, const struct in6_addr *ip6);

bool xpxe_admit_enter(struct xpxe_admit *a, struct xpxe_admit_ticket *t, double now);

/* What a waiting download's body may do now (xpxe_admit_body). */
enum xpxe_body {
	XPXE_BODY_GO,	   /* admitted: all it wants */
	XPXE_BODY_TRICKLE, /* waiting, with *N bytes of its trickle to send */
	XPXE_BODY_HOLD,	   /* waiting, nothing to send: suspend, then xpxe_admit_held */
	XPXE_BODY_STOP,	   /* the server stops */
};

/* For a ticket that waited: what its body may send now, at most *N bytes (*N: how many). */
enum xpxe_body xpxe_admit_body(struct xpxe_admit *a, struct xpxe_admit_ticket *t, size_t *n);

/*
 * After a HOLD, once the caller has suspended T's client: true when T was let in (or closed,
 * or given bytes) in between, and the caller must resume it itself. Before this, nobody
 * resumes T: a connection is never resumed before it was suspended.
 */
bool xpxe_admit_held(struct xpxe_admit *a, struct xpxe_admit_ticket *t);

/* T's download ended (or its request did, waiting): its slot goes to the next in line. */
void xpxe_admit_leave(struct xpxe_admit *a, struct xpxe_admit_ticket *t, double now);

/*
 * Once a second: lets in, over the cap, those that have waited MAX_WAIT seconds by NOW, and
 * gives each held one its trickle every TRICKLE_S seconds (resumed). Returns how many went in.
 */
unsigned xpxe_admit_tick(struct xpxe_admit *a, double now);

/* The server stops: every waiting ticket is CLOSED and resumed; no new one waits. */
void xpxe_admit_close(struct xpxe_admit *a);

/*
 * A copy of the state for status, watch and /metrics: the counts and stats, and up to N of
 * the tickets (ADMITTED ones first, then the queue in its order) into OUT; returns how many.
 */
struct xpxe_admit_view {
	char who[96], what[64];
	bool waiting;
	int rank;
	double since; /* when it queued, or was admitted */
};
int xpxe_admit_snapshot(struct xpxe_admit *a, unsigned *active, unsigned *waiting,
			struct xpxe_admit_stats *stats, struct xpxe_admit_view *out, int n);

/*
 * Whether a download of the asset NAME may be held in the queue: not an EFI binary (a name
 * ending in .efi). UEFI firmware fetches those itself over HTTP boot (iPXE's snponly.efi,
 * GRUB, shim) and gives up on a held one (EDK2's HttpBootDxe times out on a body that
 * trickles); they are small next to a kernel and an initramfs, which iPXE fetches and waits
 * for. UKIs, EFI binaries too, never wait either (their own URL, /uki/).
 */
bool xpxe_admit_may_hold(const char *name);

#endif /* XPXE_ADMIT_H */
