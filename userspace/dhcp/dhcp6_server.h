/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_DHCP6_SERVER_H
#define XPXE_DHCP6_SERVER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>

#include "xpxe_dhcp6.h"
#include "xpxe_events.h"
#include "dhcp_settings.h"
#include "dhcp/dhcp6_proto.h"
#include "dhcp/leases6.h"

struct xpxe_dataplane;
struct fy_node;
struct fy_document;

/* What became of the messages the server read (xpxe status, dhcp6.server). */
enum xpxe_dhcp6_srv_counter {
	XPXE_D6_RECEIVED,     /* datagrams read from the interface */
	XPXE_D6_BAD_FRAME,    /* not IPv6/UDP to 547, extension headers, a bad UDP checksum */
	XPXE_D6_MALFORMED,    /* the parser refused it (dhcp6_proto.h's verdicts) */
	XPXE_D6_OTHER_SERVER, /* names another server's DUID */
	XPXE_D6_UNKNOWN,      /* a machine not in the inventory, unknown ones not answered */
	XPXE_D6_ADVERTISE,
	XPXE_D6_REPLY,	     /* Replies of the exchanges (UseMulticast ones: use_multicast only) */
	XPXE_D6_BOUND,	     /* bindings made or extended (Request, Renew, Rebind, rapid commit) */
	XPXE_D6_NO_ADDRS,    /* NoAddrsAvail: the pool is exhausted */
	XPXE_D6_NO_BINDING,  /* NoBinding: a Renew/Rebind/Release of an address xpxe never gave */
	XPXE_D6_NOT_ON_LINK, /* a Confirm of addresses of another link */
	XPXE_D6_RELEASED,    /* bindings freed by a Release */
	XPXE_D6_DECLINED,    /* addresses declined: never given again until a restart */
	XPXE_D6_SAVE_ERRORS, /* the bindings file could not be written: not answered */
	XPXE_D6_SEND_ERRORS, /* sendto failed */
	XPXE_D6_UNICAST,     /* a Solicit, Confirm, Rebind or Information-request to our address */
	XPXE_D6_USE_MULTICAST,	   /* a Request, Renew, Release or Decline to it: UseMulticast */
	XPXE_D6_RELAYED,	   /* answers sent in a Relay-reply, to the relay */
	XPXE_D6_RELAY_OTHER_LINK,  /* a relayed message from a link with no pool6 or reservation */
	XPXE_D6_RELAY_NO_MAC,	   /* relayed, and neither its relay nor its DUID names a MAC */
	XPXE_D6_RELAY_SOURCE_PORT, /* Relay-replies to the relay's source port (RFC 8357) */
	XPXE_D6_RELAY_LIMITED,	   /* Relay-forwards over their relay's rate: dropped */
	XPXE_D6_RELAY_GLOBAL_LIMITED, /* over all relays' rate (a flood of addresses): dropped */
	XPXE_D6_PROXY_IGNORED,	      /* proxy mode: the address server's (Renew, Rebind, ...) */
	XPXE_D6_PROXY_NOT_PXE, /* proxy mode: a client with nothing to boot (plain, no file) */
	XPXE_D6_REPEATED,      /* xdp_pxe's Replies on port 4011 sent again (repeat below) */
	XPXE_D6_CNT_MAX,
};

/*
 * Proxy mode (PROXY): only Relay-forwards, whose clients get the boot options xdp_pxe's proxy
 * answers carry on the link (dhcp6_replies), no address: another server gives those. The
 * packet socket takes Relay-forwards only; answers leave from port 547 through a raw socket,
 * which does not hold the port: the address server may hold it on this host. It runs while
 * the interface has a global or ULA address (xdp_pxe's DHCPv6 answers): a reload follows.
 *
 * Full mode's DHCPv6 server on one interface (with a pool6 or reservations):
 * xdp_pxe passes the clients' messages up (pass_dhcp6_to_daemon); a packet
 * socket reads them with their Ethernet source (the MAC keys the machine,
 * whatever the DUID type), a UDP socket on [::]:547 joined to ff02::1:2 sends
 * the answers (and keeps the port bound). Bindings in LEASES (leases6.h).
 */
/* At most this many messages are read, answered and written to the bindings file at once. */
#define XPXE_DHCP6_BATCH 64

/* One answer of a batch, waiting for the batch's one write of the bindings (group commit). */
struct xpxe_dhcp6_queued {
	struct xpxe_dhcp6_out out;
	struct sockaddr_in6 to;
	uint8_t type; /* the client's answer's type, inside any Relay-reply: what it counts as */
	bool needs_write;   /* it makes or extends a binding: sent only once the file holds it */
	bool use_multicast; /* answer_unicast's: counted in use_multicast only, not in reply */
	bool source_port;   /* a Relay-reply to the relay's source port, not 547 (RFC 8357) */
};

/*
 * A relay's token bucket (--dhcp-relay-rate), kept as GCRA's theoretical arrival time: XDP's
 * limits go by MAC, and every relay's frames carry its router's MAC, so the daemon limits what
 * each relay address (where the answers go) makes it send. A small table, a relay heard only
 * lately evicted before one established (dhcp6_server.c's relay_admit); and one bucket of
 * XPXE_DHCP6_RELAY_GLOBAL_X times a relay's rate and burst over all relays, which a flood
 * from many (forged) addresses, each with a fresh bucket, cannot get past.
 */
#define XPXE_DHCP6_RELAYS	  64
#define XPXE_DHCP6_RELAY_GLOBAL_X 4

struct xpxe_dhcp6_relay_bucket {
	struct in6_addr addr;
	unsigned long long tat_ns;   /* a message at or after it finds the bucket full */
	unsigned long long seen_ns;  /* its last message (eviction: the oldest goes) */
	unsigned long long first_ns; /* its first since it took the slot */
	bool used;
};

/*
 * xdp_pxe's Replies to EDK2's boot service Requests (port 4011), sent again: EDK2 sends that
 * Request once, then sets up its read, and a Reply its network stack takes in before is lost
 * (docs/dhcp6-edk2.md); it waits 3 s. Each frame goes out again at the first ticks at least
 * XPXE_DHCP6_REPEAT_AFTER_NS after xdp_pxe's answer, XPXE_DHCP6_REPEAT_TIMES times, never
 * after XPXE_DHCP6_REPEAT_UNTIL_NS. A few slots: the oldest gives way.
 */
#define XPXE_DHCP6_REPEATS	   16
#define XPXE_DHCP6_REPEAT_TIMES	   2
#define XPXE_DHCP6_REPEAT_AFTER_NS 250000000ull
#define XPXE_DHCP6_REPEAT_UNTIL_NS 2500000000ull

struct xpxe_dhcp6_repeat {
	unsigned long long at_ns; /* xdp_pxe's answer (CLOCK_MONOTONIC); 0: a free slot */
	unsigned int len, sent, ifindex;
	unsigned char frame[XPXE_DP_FRAME6_MAX];
};

/* A binding a batch changed: how to take it back if the batch's write fails. */
struct xpxe_dhcp6_undo {
	unsigned char mac[6];
	struct xpxe_lease6 before;
};

struct xpxe_dhcp6_server {
	bool running;
	bool proxy; /* proxy mode: Relay-forwards only, boot options only (above) */
	int pkt_fd, udp_fd, ifindex;
	char ifname[16];
	int clients_fd, config_fd, config6_fd, replies_fd; /* the data plane's maps */
	int bindings_fd; /* dhcp6_bindings: what xdp_pxe answers renewals from; -1: none */
	unsigned int lease_time, offer_hold;
	__u8 duid[XPXE_DHCP6_SERVER_DUID_MAX]; /* ours, as dhcp6_config holds it */
	unsigned int duid_len;
	bool answer_unknown; /* machines not in dhcp_clients get DEFAULT_PROFILE's answers */
	unsigned int default_profile;
	struct xpxe_leases6 leases;
	/*
	 * While a batch is answered (xpxe_dhcp6_server_process): bindings change in memory only,
	 * their answers wait, and one write of the file (not one per message) lets them all go.
	 */
	bool batching, batch_dirty;
	int n_queued, n_undo;
	struct xpxe_dhcp6_queued *queued; /* XPXE_DHCP6_BATCH of them */
	struct xpxe_dhcp6_undo undo[XPXE_DHCP6_BATCH];
	/* Relay-forwards per second from one relay address and at once (0: no limit). */
	unsigned int relay_rate, relay_burst;
	struct xpxe_dhcp6_relay_bucket relays[XPXE_DHCP6_RELAYS];
	unsigned long long relays_tat_ns; /* all relays' bucket (XPXE_DHCP6_RELAY_GLOBAL_X) */
	struct xpxe_dhcp6_repeat repeats[XPXE_DHCP6_REPEATS];
	int repeat_fd; /* a packet socket that only sends them; opened at the first */
	bool repeat_open;
	unsigned long long (*clock_ns)(void); /* CLOCK_MONOTONIC in ns; NULL: the system's */
	unsigned long long cnt[XPXE_D6_CNT_MAX];
	unsigned long long malformed[XPXE_DHCP6_VERDICT_MAX];
	/*
	 * What /metrics shows (HTTP's threads): CNT as the loop's last process or reload left
	 * it, and whether the server ran then, under SHOWN_LOCK (its first start makes it).
	 */
	pthread_mutex_t shown_lock;
	bool shown_lock_made, shown_running;
	unsigned long long shown[XPXE_D6_CNT_MAX];
};

/* True when S asks for full mode's DHCPv6 (full mode, a pool6 or a v6 reservation). */
bool xpxe_dhcp6_full(const struct xpxe_dhcp_settings *s);

/* The address whose /64 the RA announces on-link: the pool's, else a reservation's. */
const struct in6_addr *xpxe_dhcp6_link_prefix(const struct xpxe_dhcp_settings *s);

/*
 * Starts the server on DP when S asks for it: full mode's, or proxy mode's for relays (a
 * no-op otherwise), after
 * xpxe_dhcp_install: loads the bindings, opens the sockets. Logs why on failure.
 */
int xpxe_dhcp6_server_start(struct xpxe_dhcp6_server *srv, struct xpxe_dataplane *dp,
			    const struct xpxe_dhcp_settings *s);

/*
 * Takes xdp_pxe's Reply EV (a boot service Reply on port 4011) to send again from
 * xpxe_dhcp6_server_tick (above: XPXE_DHCP6_REPEATS). Any mode, started or not.
 */
void xpxe_dhcp6_server_repeat(struct xpxe_dhcp6_server *srv,
			      const struct xpxe_dp_dhcp6_reply_event *ev);

/* The fd to poll, or -1. */
int xpxe_dhcp6_server_fd(const struct xpxe_dhcp6_server *srv);

/* Answers everything waiting. */
void xpxe_dhcp6_server_process(struct xpxe_dhcp6_server *srv);

/*
 * The two halves of xpxe_dhcp6_server_process, for a batch of frames: TAKE answers one IPv6
 * packet PKT (N bytes, from MAC) into the batch (bindings change in memory only; bad frames
 * are counted); FLUSH writes the bindings once for every message of the batch that changed
 * them, then sends the answers. A failed write takes back the batch's new bindings and
 * extensions, whose answers are not sent (each counted in save_errors, as one message's would
 * be); the other answers go. A TAKE into a full batch (XPXE_DHCP6_BATCH) flushes it first.
 */
void xpxe_dhcp6_server_take(struct xpxe_dhcp6_server *srv, const uint8_t *pkt, size_t n,
			    const unsigned char *mac);
void xpxe_dhcp6_server_flush(struct xpxe_dhcp6_server *srv);

/* NOW-dependent work: advertised addresses nobody requested in time go back to the pool. */
void xpxe_dhcp6_server_tick(struct xpxe_dhcp6_server *srv);

void xpxe_dhcp6_server_stop(struct xpxe_dhcp6_server *srv);

/* The relays' rate limit from S (a reload's): the buckets keep what they hold. */
void xpxe_dhcp6_server_set_limits(struct xpxe_dhcp6_server *srv,
				  const struct xpxe_dhcp_settings *s);

/*
 * A reload's settings S, once xpxe_dhcp_install has put them (and looked for the interface's
 * global or ULA address again) on DP: the relays' rate limit; in proxy mode the server starts
 * when xdp_pxe now answers DHCPv6 (an address came) and stops when it no longer does, logged.
 * Full mode's server stays as it started.
 */
void xpxe_dhcp6_server_follow(struct xpxe_dhcp6_server *srv, struct xpxe_dataplane *dp,
			      const struct xpxe_dhcp_settings *s);

/*
 * Makes dhcp6_bindings hold the table's bindings and nothing else (the entries of a previous
 * daemon's data plane keep what they know of renewals answered in XDP). 0 or -errno.
 */
int xpxe_dhcp6_server_sync_map(struct xpxe_dhcp6_server *srv);

/*
 * /metrics: xpxe_dhcp6_server_total{interface,outcome} lines of SRV's counters (HEADER: with
 * the family's HELP and TYPE first), from any thread; nothing while it does not run.
 */
void xpxe_dhcp6_server_metrics(struct xpxe_dhcp6_server *srv, FILE *f, bool header);

/* Its counters and bindings count, for `xpxe status`. */
struct fy_node *xpxe_dhcp6_server_status(const struct xpxe_dhcp6_server *srv,
					 struct fy_document *doc);

/*
 * Handles one DHCPv6 message MSG (LEN bytes) from the machine MAC: parses,
 * binds, builds the answer into OUT. Returns true when there is one to send.
 * Split from the sockets for the unit tests.
 */
bool xpxe_dhcp6_server_answer(struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
			      const uint8_t *msg, size_t len, struct xpxe_dhcp6_out *out);

#endif /* XPXE_DHCP6_SERVER_H */
