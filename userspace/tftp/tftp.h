/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_TFTP_SERVER_H
#define XPXE_TFTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include "assets.h"
#include "xpxe_events.h"
#include "xsk.h"

/*
 * The TFTP slow path in the daemon: a UDP socket on port 69 answers each RRQ
 * (OACK, DATA 1 or ERROR) from a new port of its own, after installing the
 * transfer in the interface's tftp_sessions map; the data plane sends every
 * later block. The socket of each transfer stays open while it runs: it keeps
 * the port reserved and answers strangers with ERROR 5. Once a second the
 * daemon looks at its transfers: logs those done, expires silent ones.
 */

struct xpxe_tftp;

struct xpxe_tftp_opts {
	unsigned idle_timeout_s; /* a client silent this long has gone: its transfer expires */
	unsigned windowsize_max; /* the largest window granted (RFC 7440); 1: none; 0: default */
	unsigned max_sessions;	 /* transfers at once, all interfaces; 0: default */
	unsigned max_per_ip;	 /* transfers at once from one client address; 0: default */
	/*
	 * Admission (downloads.tftp_max, --max-tftp-downloads): at most this many transfers run
	 * at once (IPv6's and those taken over count); a further RRQ (IPv4's or IPv6's) is held,
	 * unanswered, in one queue (in the order they asked, one per address and file, whatever
	 * the port it is repeated from) and answered when a transfer ends, or once it has waited
	 * MAX_WAIT_S (0: never). A control plane's is never held (RANK). MAX_AT_ONCE 0: no cap.
	 */
	unsigned max_at_once, max_wait_s;
	/*
	 * Pacing (downloads.tftp_pace_ms, --tftp-pace-ms): a transfer let in over the cap (held
	 * MAX_WAIT_S, or the queue full) is answered at once but paced: the programs leave its
	 * ACKs to the daemon, which sends the next window PACE_MS after each, below every
	 * firmware's first retransmission timeout. When a place frees, the oldest paced transfer
	 * takes it (before any held RRQ) and the data plane sends the rest at full speed.
	 * 0: off (let in over the cap at full speed).
	 */
	unsigned pace_ms;
	/*
	 * Feeding HTTP (downloads.tftp_http_backlog, --tftp-http-backlog): while BACKLOG (the
	 * HTTP downloads waiting in their queue) is at least BACKLOG_MAX, no further transfer
	 * takes a place at full speed (a held RRQ waits, a paced one stays paced): a machine
	 * whose TFTP ends now would only wait for HTTP, and its blocks take CPU from those
	 * downloading. 0 or no BACKLOG: off. Called with RANK_CTX.
	 */
	unsigned (*backlog)(void *ctx);
	unsigned backlog_max;
	/*
	 * The ports transfers bind, one each, IPv4's and IPv6's (downloads.tftp_port_range,
	 * --tftp-port-range): tftp_sessions' entry of an IPv4 transfer is at (its port -
	 * PORT_LOW), as the programs were loaded with it. 0: the default range.
	 */
	unsigned port_low, port_high;
	/* A machine's rank (enum xpxe_admit_rank; above 0: a control plane), by its address's
	 * DHCP binding, else MAC (the RRQ's source, NULL when unknown); WHO gets its name,
	 * MAC_OUT the MAC it went by. NULL: every machine is a worker. */
	int (*rank)(void *ctx, struct in_addr ip, const char *mac, char *who, size_t who_size,
		    char mac_out[18]);
	void *rank_ctx;
};

#define XPXE_TFTP_IDLE_TIMEOUT_DEFAULT 30
/* Far above a rack's boot (one transfer per machine), far below the fd limit and the map. */
#define XPXE_TFTP_MAX_SESSIONS_DEFAULT 4096
/*
 * A firmware runs one transfer at a time, and a few more linger when it starts over from a
 * new port (the old one waits out its idle timeout): far below this. One host cannot take
 * the whole --tftp-max-sessions from the rack.
 */
#define XPXE_TFTP_MAX_PER_IP_DEFAULT 32
/* An address whose request for a file was let in this long ago is not held again for that
 * file: EDK2 asks for the size first (an RRQ it ends after the OACK), then for the file at
 * once, from a new port. */
#define XPXE_TFTP_LET_IN_KEEP_S 10

int xpxe_tftp_open(struct xpxe_tftp **tp, struct xpxe_assets *assets,
		   const struct xpxe_tftp_opts *opts);

/*
 * Serves TFTP on an interface whose data plane has the maps SESSIONS_FD,
 * SESSIONS6_FD (IPv6's lockstep transfers), COUNTERS_FD and XSKMAP_FD. Transfers a previous daemon
 * left in SESSIONS_FD are taken over (and the asset slots they read are kept): call this before
 * publishing assets. Opens an AF_XDP socket per RX queue for windowed
 * transfers; where that fails, windowsize is not offered (logged, and said in
 * xpxe_tftp_window_status), and TFTP is served all the same.
 */
int xpxe_tftp_add_iface(struct xpxe_tftp *t, const char *ifname, int ifindex, int sessions_fd,
			int sessions6_fd, int counters_fd, int xskmap_fd, int rrq_macs_fd);

/*
 * A program saw a transfer end on IFINDEX (the ACK of its final block, or the
 * client's ERROR): reported at once, rather than at the next sweep.
 */
void xpxe_tftp_on_end(struct xpxe_tftp *t, int ifindex, const struct xpxe_dp_tftp_event *e);

/* Admission (opts.max_at_once), for xpxe status. */
struct xpxe_tftp_admission {
	unsigned active, held;		  /* transfers running (holding a place); RRQs held, now */
	unsigned long long held_total;	  /* RRQs ever held */
	unsigned long long overdue;	  /* ... of them answered over the cap (opts.max_wait_s) */
	unsigned long long controlplanes; /* control planes' RRQs let in over the cap */
	unsigned long long queue_full;	  /* RRQs let in over the cap: 8 x the cap already held */
	unsigned long long moved;	  /* held requests asked again from a new port */
	unsigned paced;			  /* transfers paced now (opts.pace_ms) */
	unsigned long long paced_total;	  /* transfers ever let in paced */
	unsigned long long promoted;	  /* paced transfers that took a place since */
};
void xpxe_tftp_admission(const struct xpxe_tftp *t, struct xpxe_tftp_admission *out);

/* Ends the transfers of IFINDEX and forgets it (its data plane is going away). */
void xpxe_tftp_remove_iface(struct xpxe_tftp *t, int ifindex);

/* Binds UDP port 69 (in this network namespace). Returns 0 or a negative errno, logged. */
int xpxe_tftp_listen(struct xpxe_tftp *t);

/* A descriptor that becomes readable when there is work: then call xpxe_tftp_process. */
int xpxe_tftp_fd(const struct xpxe_tftp *t);
void xpxe_tftp_process(struct xpxe_tftp *t);

/* Transfers running on IFINDEX. */
unsigned xpxe_tftp_transfers(const struct xpxe_tftp *t, int ifindex);

/* Writes the counts kept in memory to the counters map (done each second anyway). */
void xpxe_tftp_flush_counters(struct xpxe_tftp *t);

/* Windowed TFTP on one interface: what is granted, and its AF_XDP sockets. */
struct xpxe_tftp_window_status {
	unsigned windowsize_max; /* 1: windows not offered */
	char why_not[160];	 /* why not, when they are not */
	unsigned n_xsks;
	struct xpxe_xsk_status xsks[XPXE_TFTP_XSK_QUEUES_MAX];
};

int xpxe_tftp_window_status(struct xpxe_tftp *t, int ifindex, struct xpxe_tftp_window_status *ws);

void xpxe_tftp_close(struct xpxe_tftp *t);

#endif /* XPXE_TFTP_SERVER_H */
