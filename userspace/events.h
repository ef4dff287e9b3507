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
	XPXE_STAGE_TFTP,       /* the boot file over TFTP */
	XPXE_STAGE_SCRIPT,     /* iPXE runs: it fetched its script */
	XPXE_STAGE_DOWNLOAD,   /* kernel / initramfs (HTTP, or TFTP after the script) */
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
	char ip[46];	      /* IPv4, or IPv6 (INET6_ADDRSTRLEN) */
	char iface[16];
	char detail[96];
	uint64_t bytes;
};

/* A machine's current (or last) transfer, for its progress bar. */
enum xpxe_transfer_state {
	XPXE_XFER_NONE = 0,
	XPXE_XFER_RUNNING,
	XPXE_XFER_DONE,
	XPXE_XFER_FAILED,
};

extern const char *const xpxe_transfer_state_names[];
/* A lockstep transfer before the interface showed which of XDP and tc sends its blocks. */
#define XPXE_TFTP_PATH_LOCKSTEP XPXE_TFTP_PATH_MAX
/* A transfer let in over the cap, paced: the daemon's socket sends its blocks, one window per
 * pause (downloads.tftp_pace_ms), until it takes a place and the data plane sends the rest. */
#define XPXE_TFTP_PATH_PACED (XPXE_TFTP_PATH_LOCKSTEP + 1)
extern const char *const xpxe_tftp_path_names[XPXE_TFTP_PATH_PACED + 1];

struct xpxe_transfer_view {
	char file[64];
	char path[8]; /* xdp, tc, af_xdp, udp, xdp/tc, paced */
	uint64_t size, done;
	unsigned int retransmits;
	int state; /* enum xpxe_transfer_state */
};

struct xpxe_machine_view {
	char mac[18];
	char ip[46]; /* IPv4, or IPv6 (INET6_ADDRSTRLEN) */
	char hostname[64];
	char profile[64]; /* its profile's name; "" outside the inventory without a default */
	int stage;
	struct timespec first, last;
	/* Its current boot: the first event after the last one ended (or was re-armed), and when
	 * it reached its config or its disk (0 until then): the fleet page's storm plot. */
	struct timespec boot_start, done;
	uint64_t version; /* the fleet's version at its last change (xpxe_events_fleet_since) */
	uint64_t bytes;
	unsigned int dhcp_rounds; /* OFFERs seen: many without an ACK is a stuck machine */
	char problem[96];	  /* the last refusal, "" when none */
	struct xpxe_transfer_view xfer;
};

/* Records an event; MAC may be NULL. Thread-safe. */
void xpxe_event(int type, const char *mac, const char *ip, const char *iface, const char *detail,
		uint64_t bytes);

/*
 * A DHCP reply of the programs (XPXE_EV_DHCP_*), which happened at WHEN
 * (CLOCK_REALTIME; their records are read up to a second late), to a client of
 * BOOT_CLASS (enum xpxe_boot_class: its detail). A plain client (no PXE, HTTP
 * boot or iPXE identity) is an operating system's own DHCP: part of the boot
 * under way, or of none, it never sends its machine back to DHCP.
 */
void xpxe_event_dhcp(const struct timespec *when, int type, const char *mac, const char *ip,
		     const char *iface, int boot_class);

/* A TFTP transfer's facts, for its events and its machine's progress bar. */
struct xpxe_tftp_report {
	const char *mac; /* NULL or "" when unknown */
	const char *ip, *iface;
	const char *file;
	int path; /* enum xpxe_tftp_path, XPXE_TFTP_PATH_LOCKSTEP or XPXE_TFTP_PATH_PACED */
	uint64_t size;
	uint64_t done; /* bytes the client acknowledged */
	unsigned int blksize, windowsize;
	unsigned int retransmits, new_retransmits;
	unsigned int block, final_block;
	double seconds;	 /* since the RRQ */
	int error;	 /* the ERROR code sent or received */
	const char *why; /* what went wrong, in words */
	bool expected;	 /* a refusal the client expects and goes on from: no problem */
};

/*
 * Records a TFTP event (XPXE_EV_TFTP_*, or an error with no transfer: FILE
 * NULL) and moves its machine's transfer view along. Thread-safe.
 */
void xpxe_event_tftp(int type, const struct xpxe_tftp_report *r);

/*
 * A running transfer's progress, read from its session each second: the view only, no event.
 * PATH as xpxe_tftp_report's (a paced transfer that took a place changes it), -1: unchanged.
 */
void xpxe_event_tftp_progress(const char *mac, const char *file, uint64_t done,
			      unsigned int retransmits, int path);

/* Transfers running on IFACE now, for /metrics (set by the TFTP slow path). */
#define XPXE_EVENTS_IFACES 8
void xpxe_events_set_tftp_in_flight(const char *iface, unsigned int n);
/* Copies at most MAX (interface, transfers running) pairs; returns how many. */
int xpxe_events_tftp_in_flight(char names[][16], unsigned int *counts, int max);

/*
 * TFTP's admission (downloads.tftp_max), for /metrics: published by the TFTP slow path when
 * it changes, read by HTTP's threads (a copy under the events' lock).
 */
struct xpxe_tftp_queue {
	unsigned max;			/* downloads.tftp_max (0: no cap) */
	unsigned active, held, paced;	/* transfers holding a place; RRQs held; transfers paced */
	unsigned long long held_total;	/* RRQs ever held */
	unsigned long long paced_total; /* transfers ever let in paced */
	unsigned long long promoted;	/* paced transfers that took a place since */
};
void xpxe_events_set_tftp_queue(const struct xpxe_tftp_queue *q);
void xpxe_events_tftp_queue(struct xpxe_tftp_queue *out);

/*
 * The VLANs (N of them) of the trunk IFACE: events of a machine whose address lies in a
 * VLAN's subnet name the interface IFACE.VID, as a VLAN device would be named, whichever
 * part reports them (DHCP, TFTP, HTTP). N 0 forgets them.
 */
struct xpxe_vlan_cfg;
void xpxe_events_set_vlans(const char *iface, const struct xpxe_vlan_cfg *vlans, int n);

/* Sets the hostname and profile shown for MAC (from the inventory). */
void xpxe_event_name(const char *mac, const char *hostname, const char *profile);

/* The profile of machines outside the inventory ("" when they get no answer). */
void xpxe_events_default_profile(const char *profile);

/* Forgets every name given with xpxe_event_name, and the machines listed only for theirs. */
void xpxe_events_clear_names(void);

/*
 * Copies events with seq > SINCE (of the N_MACS MACS only, when N_MACS is not 0)
 * into OUT, at most MAX; returns how many. *NEXT gets the seq to ask from next time.
 */
int xpxe_events_since(uint64_t since, const char (*macs)[18], int n_macs, struct xpxe_event *out,
		      int max, uint64_t *next);

/* Copies the fleet (at most MAX machines) into OUT; returns how many. */
int xpxe_events_fleet(struct xpxe_machine_view *out, int max);

/*
 * The machines that changed after the fleet's version SINCE (all of them for 0),
 * in the fleet's order, in *OUT (malloc'ed; free() it). *VERSION gets the
 * fleet's version now: ask from there next time. Returns how many, or -ENOMEM.
 */
int xpxe_events_fleet_since(uint64_t since, struct xpxe_machine_view **out, uint64_t *version);

/* How many machines are at each stage (for /metrics). */
void xpxe_events_stage_counts(unsigned int counts[XPXE_STAGE_MAX]);

#endif /* XPXE_EVENTS_USER_H */
