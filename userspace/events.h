/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_EVENTS_USER_H
#define XPXE_EVENTS_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "xpxe_events.h"

/*
 * The daemon's event log and fleet view: every event (from the programs'
 * ring buffer or the daemon itself) is logged as one structured line, kept in
 * a bounded in-memory ring with a sequence number (for `xpxe trace`), and
 * folded into its machine's boot timeline (for `xpxe watch`). One per process,
 * shared by the main loop and the HTTP threads.
 */

/* Where a machine is in its boot, in the order a boot goes through them. */
enum xpxe_stage {
	XPXE_STAGE_NONE = 0,
	XPXE_STAGE_DHCP,       /* offered */
	XPXE_STAGE_ADDRESS,    /* ACKed */
	XPXE_STAGE_BOOT_FILE,  /* a boot server ACK on 4011 */
	XPXE_STAGE_SCRIPT,     /* iPXE runs: it fetched its script */
	XPXE_STAGE_DOWNLOAD,   /* kernel / initramfs over HTTP */
	XPXE_STAGE_CONFIG,     /* the Talos config fetched */
	XPXE_STAGE_INSTALLED,  /* boot-once set */
	XPXE_STAGE_LOCAL_BOOT, /* booting its disk */
	XPXE_STAGE_MAX,
};

extern const char *const xpxe_stage_names[XPXE_STAGE_MAX];
extern const char *const xpxe_event_names[XPXE_EV_MAX];

#define XPXE_EVENT_RING 4096

struct xpxe_event {
	uint64_t seq;
	struct timespec when; /* CLOCK_REALTIME */
	int type;	      /* enum xpxe_event_type */
	char mac[18];	      /* "" when unknown */
	char ip[16];
	char iface[16];
	char detail[96];
	uint64_t bytes;
};

struct xpxe_machine_view {
	char mac[18];
	char ip[16];
	char hostname[64];
	int stage;
	struct timespec first, last;
	uint64_t bytes;
	unsigned int dhcp_rounds; /* OFFERs seen: many without an ACK is a stuck machine */
	char problem[96];	  /* the last refusal, "" when none */
};

/* Records an event; MAC may be NULL. Thread-safe. */
void xpxe_event(int type, const char *mac, const char *ip, const char *iface, const char *detail,
		uint64_t bytes);

/* Sets the hostname shown for MAC (from the inventory). */
void xpxe_event_name(const char *mac, const char *hostname);

/*
 * Copies events with seq > SINCE (for MAC only, when not NULL) into OUT, at
 * most MAX; returns how many. *NEXT gets the seq to ask from next time.
 */
int xpxe_events_since(uint64_t since, const char *mac, struct xpxe_event *out, int max,
		      uint64_t *next);

/* Copies the fleet (at most MAX machines) into OUT; returns how many. */
int xpxe_events_fleet(struct xpxe_machine_view *out, int max);

/* How many machines are at each stage (for /metrics). */
void xpxe_events_stage_counts(unsigned int counts[XPXE_STAGE_MAX]);

#endif /* XPXE_EVENTS_USER_H */
