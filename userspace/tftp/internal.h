/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TFTP daemon's own state, shared by its files and nothing else: tftp.c (requests,
 * transfers, their ends and the sweep), window.c (windows, RFC 7440: the blocks the
 * daemon builds itself, into AF_XDP frames or through a transfer's UDP socket), v6.c
 * (TFTP over IPv6, whole, in the daemon) and iface.c (what they all use). Calls go
 * tftp.c -> window.c -> iface.c and tftp.c -> v6.c -> iface.c, no circle.
 */
#ifndef XPXE_TFTP_INTERNAL_H
#define XPXE_TFTP_INTERNAL_H

#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "events.h"
#include "tftp/proto.h"
#include "tftp/tftp.h"
#include "xpxe.h"
#include "xpxe_tftp.h"

#define MAX_IFACES 8
#define N_BUCKETS  4096

struct iface;

/*
 * After a transfer's final block went out, the client may end as it sends the final ACK, and
 * that ACK may be lost (RFC 1350 6: a firmware that boots at once, a NIC reset before its last
 * frame left). The daemon then sends the final block again on its own timeout (the client's
 * `timeout` option, else TFTP_FINAL_TIMEOUT_S), TFTP_FINAL_RESENDS times: a client still
 * there ACKs it again. Silence after that: the transfer ends as done, its final ACK not seen
 * (tftp_final_ack_missing), not held for the whole idle timeout (its slot counts against
 * --tftp-max-sessions). A transfer that stops before its final block expires as before.
 * A client that instead ACKs the block before the final one again (lockstep: it retransmits
 * its last ACK while the final block does not reach it) does not have the final block: it is
 * sent again (the data plane answers each such ACK), the wait starts over, and the transfer
 * ends as failed (expired), never as done.
 */
#define TFTP_FINAL_TIMEOUT_S 1
#define TFTP_FINAL_RESENDS   3

struct tftp_final {
	double since;	  /* when the sweep first saw the final block out at ACK MARK, or the
			     client's last repeat of ACK MARK since; 0: not */
	double first;	  /* when the sweep first saw the final block out at ACK MARK */
	uint32_t mark;	  /* the client's last ACK (window base) then */
	uint32_t repeats; /* the client's repeats of ACKs, as last seen (see tftp_final_step) */
	uint32_t repeats_first; /* ... when the sweep first saw the final block out */
	unsigned resends;	/* final blocks sent again since */
	bool asked; /* the client ACKed MARK again twice or more after the final block went out */
};

enum tftp_final_step {
	TFTP_FINAL_WAIT,   /* the final block is not out, or its ACK may still come */
	TFTP_FINAL_RESEND, /* send the final block again now */
	TFTP_FINAL_DONE,   /* end it as done, the final ACK not seen */
	TFTP_FINAL_FAILED, /* end it as expired: the client asked for the final block, never had it
			    */
};

/*
 * A transfer whose client has not acknowledged its first answer this long after it went out
 * gives its place among opts.max_at_once up (a forged RRQ, or a held machine that gave up
 * before its turn); a late ACK takes one again (tftp_place_sweep).
 */
#define TFTP_PLACE_UNCONFIRMED_NS (1000ull * 1000 * 1000)

/* An AF_XDP socket of an interface, as the epoll entry that wakes us for it. */
struct xsk_entry {
	struct iface *ifc;
	struct xpxe_xsk *xsk;
};

struct iface {
	bool used;
	char ifname[IFNAMSIZ];
	int ifindex;
	int sessions_fd;   /* tftp_sessions: by server port (tftp_session_get and the others) */
	int sessions6_fd;  /* tftp_sessions6: IPv6's lockstep transfers, served by tc (v6.c) */
	unsigned port_low; /* the port of tftp_sessions' first entry: opts.port_low */
	int counters_fd;
	int xskmap_fd;
	int rrq_macs_fd;
	unsigned blksize_max;
	unsigned windowsize_max; /* what RRQs are granted here; 1 without AF_XDP */
	char no_window[160];	 /* why windows are not offered here (empty: they are) */
	struct xsk_entry xsks[XPXE_TFTP_XSK_QUEUES_MAX];
	unsigned n_xsks;
	__u64 xsk_redirected, xsk_received; /* at the last sweep: see watch_xsk */
	unsigned xsk_stuck;
	unsigned transfers;
	unsigned running;	 /* transfers not ended, at the last sweep */
	bool lockstep_tc;	 /* XDP had no room to grow ACKs here: tc sends lockstep blocks */
	__u64 own[XPXE_CNT_MAX]; /* the counters the daemon writes (see xpxe.h) */
	bool own_dirty;		 /* own[] holds counts the map has not seen yet */
};

struct xfer {
	struct xfer *next; /* in its hash bucket; once dead, on xpxe_tftp.dead */
	struct iface *ifc;
	struct xpxe_tftp_key key;
	int fd; /* the transfer's port; -1 when a previous daemon's port could not be taken */
	bool port_held; /* its server port is held in xpxe_tftp.ports_used (tftp_bind_port) */
	uint32_t slot;
	bool adopted;
	bool ended;
	bool dead; /* finished: freed once the epoll batch that may still name it is done */
	char name[XPXE_TFTP_NAME_MAX + 1];
	uint64_t size;
	unsigned blksize;
	unsigned windowsize;
	unsigned idle_s;
	uint32_t last_block;
	uint32_t retransmits;	     /* as last reported */
	uint32_t window_retransmits; /* as the last window sent from its UDP socket saw them */
	char mac[18];		     /* the client's, "" when unknown */
	int path;		     /* enum xpxe_tftp_path: where its blocks go */
	bool reported; /* its end was reported (an event of the program, or the sweep) */
	bool counted;  /* holds one of opts.max_at_once's places (n_active) */
	bool gave_up;  /* gave its place up unacknowledged (tftp_place_give_up): a late ACK
			  takes one again, over the cap if need be (tftp_place_back) */
	__u64 started_ns;
	double progress, ended_at;
	unsigned timeout_s;			  /* the client's `timeout` option; 0: none asked */
	struct tftp_final final;		  /* waiting for the final ACK (tftp_final_step) */
	uint8_t first[4 + XPXE_TFTP_BLKSIZE_MAX]; /* the OACK or DATA 1, for a repeated RRQ */
	size_t first_len;
	uint64_t rrq_hash; /* of the RRQ's bytes: the same again is a copy, not a new request */
	size_t rrq_len;
	/*
	 * Until the client acknowledged the first answer, the transfer proves nothing: its
	 * RRQ may come from a forged address. Such transfers are also on a list, oldest
	 * first, the oldest dropped when a new RRQ needs room (make_room).
	 */
	bool confirmed;
	struct xfer *unconfirmed_prev, *unconfirmed_next;
	/*
	 * Paced (opts.pace_ms, tftp_pace.c): let in over the cap, its session is not in the
	 * map, so the programs pass its ACKs up to its port and the daemon answers each after a
	 * pause; PS is its session as the daemon keeps it (what a lookup of the map would give).
	 * PACE_DUE_NS: when the blocks after PS.win_base go (0: none waits). PROMOTE: it has a
	 * place already, and goes to the data plane at its next ACK.
	 */
	bool paced, promote;
	struct xpxe_tftp_session ps;
	__u64 pace_due_ns;
	struct xfer *pace_prev, *pace_next; /* on xpxe_tftp.paced_head, oldest first */
};

/*
 * Where an RRQ came from and the address it was sent to, over IPv4 (FAMILY AF_INET: FROM, PI)
 * or IPv6 (AF_INET6: FROM6, PI6).
 */
struct tftp_src {
	sa_family_t family;
	struct sockaddr_in from;
	struct in_pktinfo pi;
	struct sockaddr_in6 from6;
	struct in6_pktinfo pi6;
};

/*
 * An RRQ held at opts.max_at_once (tftp.c: tftp_hold), IPv4's and IPv6's in one queue,
 * answered in turn. A request is its client's address and the file it asks for: a client
 * repeats its RRQ while it waits, from its port or (some firmware) from a new one each time,
 * and a repeat keeps its place, its port and bytes those of the latest (what its turn
 * answers). A new file asked from the same port replaces the request too (it started over).
 */
struct tftp_held {
	struct tftp_held *next; /* in xpxe_tftp.held, first come first */
	struct tftp_src src;
	double since;			   /* when it was first held (monotonic seconds) */
	char mac[18];			   /* "" when unknown */
	char who[96];			   /* for the log: the machine's name or address */
	char name[XPXE_TFTP_NAME_MAX + 1]; /* the file asked for */
	size_t len;
	uint8_t buf[];
};

/*
 * Requests let in lately (tftp_let_in), by address and file: the same again, from any port,
 * goes at once (EDK2 asks for the size, ends that transfer, then asks for the file from a new
 * port): the identity held requests have (struct tftp_held).
 */
#define TFTP_LET_IN_SLOTS 1024

/* How many transfers one client address holds, for --tftp-max-per-ip. */
struct ip_count {
	struct ip_count *next; /* in its hash bucket */
	__be32 ip;
	unsigned n;
};

/*
 * A transfer over IPv6. The programs' sessions are IPv4's, so the daemon keeps this one's
 * state itself and its socket sends every block (v6.c): the slow path.
 */
struct xfer6 {
	struct xfer6 *next; /* on xpxe_tftp.xfers6; once dead, on xpxe_tftp.dead6 */
	bool dead;	    /* as struct xfer's */
	struct iface *ifc;
	struct sockaddr_in6 peer; /* the client's address and port */
	int fd;		/* the transfer's port, bound to the address the RRQ was sent to */
	in_port_t port; /* ... its number, held in xpxe_tftp.ports_used; 0: none */
	uint32_t slot;
	char name[XPXE_TFTP_NAME_MAX + 1];
	char who[INET6_ADDRSTRLEN + 8]; /* "[addr]:port", for log lines */
	uint64_t size;
	unsigned blksize, windowsize, idle_s;
	uint32_t final_block;
	uint32_t acked; /* the last block the client acknowledged (0: none) */
	uint32_t sent;	/* the last block sent (0: the OACK only) */
	uint32_t retransmits;
	bool ended, confirmed;
	bool counted, gave_up; /* as struct xfer's: a place of opts.max_at_once */
	uint32_t repeats;      /* ACKs of block ACKED again (tc's retransmits, or the socket's) */
	__u64 started_ns, last_tx_ns;
	__u64 final_tx_ns; /* when the final block first left (0: not yet): see report6 */
	double progress, ended_at;
	unsigned timeout_s;		    /* as struct xfer's */
	struct tftp_final final;	    /* as struct xfer's */
	uint8_t first[XPXE_TFTP_REPLY_MAX]; /* the OACK, for a repeated RRQ (DATA 1: rebuilt) */
	size_t first_len;
	uint64_t rrq_hash;
	size_t rrq_len;
	/*
	 * Lockstep: installed in tftp_sessions6 under KEY, whose blocks tc_tftp sends; the
	 * fields above follow the session at each sweep (sync6), the socket sends nothing
	 * after the first answer.
	 */
	bool kernel;
	struct xpxe_tftp_key6 key;
	uint8_t paths; /* the session's: which programs sent its blocks (path6) */
	/*
	 * An ACK tc passed up (an extension header, say: tc answers none of those, so a client
	 * whose every ACK carries one would stall) made the daemon take the transfer over: its
	 * session removed, the socket sends the rest, from this block on. 0: never taken over.
	 */
	uint32_t taken_over_at;
	/*
	 * Paced (opts.pace_ms, as IPv4's: pace.c): let in over the cap, never installed for tc;
	 * its socket sends the window after ACKED at PACE_DUE_NS (0: none waits), until a place
	 * frees (tftp6_pace_promote) and it answers each ACK at once.
	 */
	bool paced;
	__u64 pace_due_ns;
};

struct xpxe_tftp {
	struct xpxe_assets *assets;
	struct xpxe_tftp_opts opts;
	int epfd, listen_fd, timer_fd;
	int listen6_fd;	      /* UDP [::]:69, IPv6 only; -1 when IPv6 is off on the host */
	struct xfer6 *xfers6; /* transfers over IPv6 */
	unsigned n_xfers6;
	/*
	 * Transfers finished while an epoll batch may still hold events naming them (a new RRQ
	 * replacing one, the sweep's timer, an eviction): freed after the batch (tftp_free_dead),
	 * never in it, so a later event of the same batch finds them marked dead, not freed.
	 */
	struct xfer *dead;
	struct xfer6 *dead6;
	int ncpus;
	struct iface ifaces[MAX_IFACES];
	struct xfer *buckets[N_BUCKETS];
	struct ip_count *per_ip[N_BUCKETS];
	unsigned n_xfers; /* transfers held, all interfaces */
	/* Of those, not acknowledged yet (at most opts.max_sessions): oldest first. */
	unsigned n_unconfirmed;
	struct xfer *unconfirmed_head, *unconfirmed_tail;
	unsigned refused_recently; /* RRQs refused as busy since the last sweep (logged there) */
	unsigned unconfirmed_dropped_recently; /* ... unconfirmed transfers dropped (make_room) */
	unsigned refused_per_ip_recently;      /* ... at --tftp-max-per-ip */
	__be32 refused_per_ip_last;	       /* the address refused last, for that log line */
	/* Admission (opts.max_at_once): transfers running that hold a place (both families,
	 * taken over ones too), and the RRQs held behind them (both families). */
	unsigned n_active, n_held;
	struct tftp_held *held;
	unsigned long long held_total, held_overdue; /* RRQs ever held; of them let in overdue */
	unsigned long long cp_over;		     /* control planes' RRQs let in over the cap */
	unsigned long long
	    full_over; /* RRQs let in over the cap: the queue was full (held_limit) */
	unsigned long long held_moved; /* held requests asked again from a new port */
	uint32_t owners;	       /* the last session owner given (tftp_new_session) */
	/* The range's ports a transfer holds (bit port - opts.port_low), and where the search
	 * for a free one starts: after the last one taken (tftp_bind_port). */
	uint8_t ports_used[XPXE_TFTP_PORTS_MAX / 8];
	unsigned port_next;
	/* Paced transfers (opts.pace_ms), oldest first; their timer (tftp_pace.c). */
	struct xfer *paced_head, *paced_tail;
	unsigned n_paced;
	unsigned long long paced_total, promoted_total;
	int pace_fd;
	bool pace_armed;
	struct {
		uint8_t addr[16]; /* IPv4's as ::ffff:a.b.c.d */
		uint64_t file;	  /* tftp_rrq_hash of the name */
		double at;	  /* 0: free */
	} let_in[TFTP_LET_IN_SLOTS];
	struct xpxe_tftp_queue published; /* what /metrics was last told (xpxe_events) */
};

/* iface.c: what both files below use (it calls neither) */
void tftp_tally(struct iface *ifc, enum xpxe_counter c, __u64 n);
struct iface *tftp_find_iface(struct xpxe_tftp *t, int ifindex);
void tftp_addr_str(char *buf, size_t len, __be32 ip, __be16 port);
int tftp_watch(struct xpxe_tftp *t, int fd, void *tag);
__u64 tftp_program_counter(struct xpxe_tftp *t, struct iface *ifc, enum xpxe_counter c);

bool tftp_daemon_counter(int c);
void tftp_write_counter(struct xpxe_tftp *t, struct iface *ifc, enum xpxe_counter c);
void tftp_bump(struct xpxe_tftp *t, struct iface *ifc, enum xpxe_counter c);
enum xpxe_counter tftp_error_counter(int code);
__u64 tftp_now_ns(void);
/*
 * The seconds a transfer took, from START_NS to END_NS on tftp_now_ns's clock. That clock is
 * the kernel's coarse one (the data plane stamps its blocks with it: one tick of TICK_NS, 1 to
 * 10 ms): a transfer that ends within a tick of its RRQ (a small file on a LAN: 20 blocks in
 * ~1 ms) reads as 0 on it. It takes one tick then, an upper bound (its MB/s a lower bound),
 * never 0: 0 s and 0 MB/s said a transfer that had delivered its file never moved.
 * tftp_seconds: the same, with this host's tick.
 */
double tftp_span_s(__u64 start_ns, __u64 end_ns, __u64 tick_ns);
double tftp_seconds(__u64 start_ns, __u64 end_ns);
/*
 * A session to create in a sessions map, its owner the next number (xpxe_tftp_session.owner),
 * the rest zero. A port's entry of tftp_sessions goes to its next transfer as soon as the port
 * is free, under a program that may still hold the entry: the owner is what keeps that
 * program's late write out of the new session. (tftp_sessions6, a hash, reuses a freed entry
 * at once the same way.)
 */
void tftp_new_session(struct xpxe_tftp *t, struct xpxe_tftp_session *s);
/*
 * tftp_sessions, an array by server port (include/xpxe_tftp.h), as a map of transfers by KEY:
 * tftp_session_get reads the session of KEY's port when it is KEY's (else -1, errno ENOENT),
 * tftp_session_put writes KEY and S at KEY's port, tftp_session_clear empties KEY's port's
 * entry if it is KEY's. 0, or -1 with errno.
 */
int tftp_session_get(const struct iface *ifc, const struct xpxe_tftp_key *key,
		     struct xpxe_tftp_session *s);
int tftp_session_put(const struct iface *ifc, const struct xpxe_tftp_key *key,
		     const struct xpxe_tftp_session *s);
int tftp_session_clear(const struct iface *ifc, const struct xpxe_tftp_key *key);
/*
 * Binds FD (AF_INET or AF_INET6, SA of LEN with *PORT its port field) to a free port of the
 * range (opts.port_low..port_high), one no transfer of this daemon holds, and holds it.
 * Returns the port (host order), or -errno (-EADDRINUSE: every port is taken).
 * tftp_hold_port: PORT (network order) is held (a previous daemon's transfer); tftp_free_port:
 * free again. Ports outside the range are not held.
 */
int tftp_bind_port(struct xpxe_tftp *t, int fd, struct sockaddr *sa, socklen_t len,
		   in_port_t *port);
void tftp_hold_port(struct xpxe_tftp *t, __be16 port);
void tftp_free_port(struct xpxe_tftp *t, __be16 port);
uint64_t tftp_rrq_hash(const uint8_t *buf, size_t len);
void tftp_printable(char *out, size_t len, const char *in, size_t in_len);
void tftp_describe_request(char *what, size_t what_size, const uint8_t *buf, size_t len);
/*
 * What the sweep does about a transfer whose final block is out and every block before it
 * acknowledged (FINAL_SENT: a window's lost final ACK leaves blocks unconfirmed, so it
 * expires instead), and whose client acknowledged up to ACKED (a move resets the wait): see
 * struct tftp_final. CONFIRMED:
 * the client acknowledged anything at all (else its RRQ may be forged: it expires instead).
 * REPEATS: a count that grows each time the client ACKs ACKED again (the data plane's
 * retransmits for a repeated ACK): a change means it asks for the final block.
 * The wait ends at IDLE_S at the latest.
 */
enum tftp_final_step tftp_final_step(struct tftp_final *f, bool confirmed, bool final_sent,
				     uint32_t acked, uint32_t repeats, unsigned timeout_s,
				     unsigned idle_s, double now);

/*
 * Admission (opts.max_at_once): a transfer takes a place (*COUNTED, n_active), or gives it
 * back; each does nothing twice. tftp_place_sweep, each second: an unacknowledged transfer
 * (CONFIRMED false) started at STARTED_NS gives its place up after TFTP_PLACE_UNCONFIRMED_NS
 * (*GAVE_UP); once acknowledged it runs, so it takes a place again, over the cap if need be:
 * n_active counts every transfer that runs. WHO names it in the log.
 */
void tftp_place_take(struct xpxe_tftp *t, bool *counted);
void tftp_place_give(struct xpxe_tftp *t, bool *counted);
void tftp_place_sweep(struct xpxe_tftp *t, bool *counted, bool *gave_up, bool confirmed,
		      __u64 started_ns, const char *who);

/* v6.c: TFTP over IPv6 (tftp.c calls it; it calls iface.c only) */
int tftp6_listen(struct xpxe_tftp *t);
void tftp6_read_requests(struct xpxe_tftp *t);
void tftp6_read_transfer(struct xpxe_tftp *t, struct xfer6 *x);
void tftp6_sweep(struct xpxe_tftp *t);
void tftp6_remove_iface(struct xpxe_tftp *t, struct iface *ifc);
void tftp6_close(struct xpxe_tftp *t);
void tftp6_forget_sessions(struct iface *ifc);
void tftp_free_dead(struct xpxe_tftp *t);
bool tftp_make_room(struct xpxe_tftp *t);
void tftp_admit_held(struct xpxe_tftp *t);
/*
 * Admission (opts.max_at_once): true when the RRQ in BUF from SRC for the file NAME is held
 * (unanswered) in the queue, false when it goes now. tftp_let_in: SRC's request for NAME
 * started (its next for NAME, from any port, goes at once for XPXE_TFTP_LET_IN_KEEP_S).
 */
bool tftp_hold(struct xpxe_tftp *t, struct iface *ifc, const uint8_t *buf, size_t len,
	       const struct tftp_src *src, const char *name);
void tftp_let_in(struct xpxe_tftp *t, const struct tftp_src *src, const char *name);
/* An RRQ to [::]:69; ITS_TURN: a held one let in (tftp_admit_held), not held again. */
void tftp6_handle(struct xpxe_tftp *t, const uint8_t *buf, size_t len,
		  const struct sockaddr_in6 *from, const struct in6_pktinfo *pi, bool its_turn);
bool tftp6_drop_unconfirmed(struct xpxe_tftp *t, __u64 grace_ns);
/* IPv6's paced transfers: send what is due; the oldest waiting (NULL: none); promote it. */
void tftp6_pace_tick(struct xpxe_tftp *t);
struct xfer6 *tftp6_pace_next(const struct xpxe_tftp *t);
bool tftp6_pace_promote(struct xpxe_tftp *t);

/*
 * pace.c: transfers let in over the cap run paced, one window per opts.pace_ms, from the
 * daemon's socket, until a place frees (tftp_pace_promote).
 * tftp_session_of: X's session (the daemon's copy while paced, else the map's); 0 or -1.
 * tftp_pace_start: X's first answer went out, its session S not installed: paced from now.
 * tftp_pace_ack: its client's ACK of ACK (read from its port).
 * tftp_pace_error: its client's ERROR CODE: the transfer ends, as the programs end theirs.
 * tftp_pace_tick: sends what is due (the pace timer fired).
 * tftp_pace_promote: the oldest paced transfers take the free places (n_active < cap).
 * tftp_pace_forget: X ends: off the list.
 * tftp_pace_count: one more transfer paced (UP) or one fewer (an IPv6 one: v6.c keeps them).
 */
int tftp_session_of(const struct xfer *x, struct xpxe_tftp_session *s);
void tftp_pace_start(struct xpxe_tftp *t, struct xfer *x, const struct xpxe_tftp_session *s);
void tftp_pace_ack(struct xpxe_tftp *t, struct xfer *x, uint16_t ack);
void tftp_pace_error(struct xpxe_tftp *t, struct xfer *x, uint16_t code);
void tftp_pace_tick(struct xpxe_tftp *t);
void tftp_pace_promote(struct xpxe_tftp *t);
void tftp_pace_forget(struct xpxe_tftp *t, struct xfer *x);
void tftp_pace_count(struct xpxe_tftp *t, bool up);
/* Whose turn it is: the xfer of the oldest paced transfer without a place (NULL: none). */
struct xfer *tftp_pace_next(const struct xpxe_tftp *t);
/* HTTP's queue is long enough (opts.backlog_max): no transfer takes a free place now. */
bool tftp_http_fed(struct xpxe_tftp *t);

/* window.c */
void tftp_window_over_udp(struct xpxe_tftp *t, struct xfer *x, uint16_t ack);
void tftp_read_xsk(struct xpxe_tftp *t, struct xsk_entry *e);
void tftp_open_xsks(struct xpxe_tftp *t, struct iface *ifc);
void tftp_close_xsks(struct xpxe_tftp *t, struct iface *ifc);
void tftp_watch_xsk(struct xpxe_tftp *t, struct iface *ifc);

#endif /* XPXE_TFTP_INTERNAL_H */
