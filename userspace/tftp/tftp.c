// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "boot/boot.h"
#include "events.h"
#include "log.h"
#include "netif.h"
#include "tftp/tftp.h"
#include "tftp/internal.h"
#include "tftp/proto.h"
#include "xsk.h"

/* A transfer whose end the data plane recorded stays this long, so late ACKs are dropped. */
#define ENDED_GRACE_S 2
/* Requests handled per wake-up, so a storm cannot starve the control socket. */
#define RRQ_BATCH 256
/*
 * An RRQ identical to a running transfer's, sooner than this after the transfer's last block
 * went out, is a late copy of it: the transfer goes on. Later, the client stopped and asks
 * again from the same port (a firmware that rebooted reuses it): a new transfer. No reboot is
 * this fast, no running transfer this slow (its client ACKs each block within its timeout).
 */
#define RRQ_COPY_NS (1000ull * 1000 * 1000)
/*
 * A transfer whose client has not acknowledged our first answer this long after it went out
 * may make room for a new RRQ (make_room). A client on the segment answers within a few ms;
 * younger ones are kept, or a burst of RRQs would push out each other's transfers before
 * their ACKs could arrive.
 */
#define UNCONFIRMED_GRACE_NS (100ull * 1000 * 1000)

/* Tags for the epoll entries that are not transfers. */
/* Aligned, as every tag is: bit 0 of a tag marks an IPv6 transfer (v6.c). */
static uint64_t listen_tag, listen6_tag, timer_tag, pace_tag;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes what tftp_tally() counted to the map (each second, and before `xpxe status`). */
static void flush_tallies(struct xpxe_tftp *t, struct iface *ifc)
{
	if (!ifc->own_dirty)
		return;
	for (int c = 0; c < XPXE_CNT_MAX; c++)
		if (tftp_daemon_counter(c))
			tftp_write_counter(t, ifc, c);
	ifc->own_dirty = false;
}

static unsigned bucket_of(__be32 ip, __be16 port)
{
	uint32_t h = ntohl(ip) * 2654435761u ^ ntohs(port) * 40503u;

	return (h ^ (h >> 16)) % N_BUCKETS;
}

static struct ip_count **ip_slot(struct xpxe_tftp *t, __be32 ip)
{
	struct ip_count **pp = &t->per_ip[bucket_of(ip, 0)];

	while (*pp && (*pp)->ip != ip)
		pp = &(*pp)->next;
	return pp;
}

static unsigned transfers_from(struct xpxe_tftp *t, __be32 ip)
{
	const struct ip_count *c = *ip_slot(t, ip);

	return c ? c->n : 0;
}

/*
 * One transfer more (DELTA 1) or fewer (-1) from IP. Without memory for its entry the address
 * goes uncounted: the cap is then looser for it, never stricter.
 */
static void count_ip(struct xpxe_tftp *t, __be32 ip, int delta)
{
	struct ip_count **pp = ip_slot(t, ip), *c = *pp;

	if (!c) {
		if (delta < 0 || !(c = calloc(1, sizeof(*c))))
			return;
		c->ip = ip;
		*pp = c;
	}
	if (delta < 0 && --c->n == 0) {
		*pp = c->next;
		free(c);
	} else if (delta > 0) {
		c->n++;
	}
}

static struct xfer *find_xfer(struct xpxe_tftp *t, const struct iface *ifc, __be32 ip, __be16 port)
{
	for (struct xfer *x = t->buckets[bucket_of(ip, port)]; x; x = x->next)
		if (x->ifc == ifc && x->key.client_ip == ip && x->key.client_port == port)
			return x;
	return NULL;
}

static void mac_str(char *buf, const uint8_t mac[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* The MAC XDP saw on the RRQ from IP:PORT (tftp_rrq_macs); false when it saw none. */
static bool rrq_mac(const struct iface *ifc, __be32 ip, __be16 port, uint8_t mac[6])
{
	struct xpxe_tftp_key key = { .client_ip = ip, .client_port = port };
	struct xpxe_tftp_rrq_mac v;

	if (!ifc || bpf_map_lookup_elem(ifc->rrq_macs_fd, &key, &v))
		return false;
	memcpy(mac, v.mac, 6);
	return true;
}

/* The path a lockstep transfer's blocks take here: XDP, tc, or not known yet. */
static int lockstep_path(struct xpxe_tftp *t, struct iface *ifc);

/* An event about transfer X, with what the session S (may be NULL) says of its progress. */
static void report(int type, const struct xfer *x, const struct xpxe_tftp_session *s,
		   const char *why)
{
	char ip[INET_ADDRSTRLEN];
	struct xpxe_tftp_report r = {
		.mac = x->mac,
		.ip = ip,
		.iface = x->ifc->ifname,
		.file = x->name,
		.path = x->paced ? XPXE_TFTP_PATH_PACED : x->path,
		.size = x->size,
		.blksize = x->blksize,
		.windowsize = x->windowsize,
		.why = why,
	};

	inet_ntop(AF_INET, &x->key.client_ip, ip, sizeof(ip));
	if (s) {
		/* Blocks up to the window's base are acknowledged (the last one may be short). */
		__u64 acked = (__u64)s->win_base * x->blksize;

		r.done = acked < x->size ? acked : x->size;
		r.retransmits = s->retransmits;
		r.new_retransmits = s->retransmits - x->retransmits;
		r.block = s->last_block;
		r.final_block = s->final_block;
		r.error = s->client_error;
		/*
		 * From the RRQ to the end: the final ACK's moment when the program's event
		 * told it (xpxe_tftp_on_end), else the last DATA the data plane sent (the
		 * sweep sees the end up to a second late). With the final ACK never seen
		 * (final_ack=not_seen) that is the final block as the data plane sent it:
		 * the daemon's resends of it while it waited (resend_final) leave the
		 * session's stamp alone, as they time the wait, not the transfer. Never 0
		 * (tftp_seconds: a transfer within one tick of the clock takes the tick).
		 */
		r.seconds = tftp_seconds(x->started_ns, s->last_tx_ns);
	}
	xpxe_event_tftp(type, &r);
}

/*
 * The end of X, as its session S records it: reported once, by the program's
 * event when it arrives (xpxe_tftp_on_end), else by the sweep.
 */
static void tftp_report_end(struct xfer *x, const struct xpxe_tftp_session *s)
{
	if (x->reported)
		return;
	x->reported = true;
	/* Blocks sent again since the last sweep: their burst before the end. */
	if (s->retransmits > x->retransmits) {
		report(XPXE_EV_TFTP_RETRANSMIT, x, s, NULL);
		x->retransmits = s->retransmits;
	}
	report(s->state == XPXE_TFTP_DONE ? XPXE_EV_TFTP_DONE : XPXE_EV_TFTP_ABORTED, x, s, NULL);
}

/* Whether the client acknowledged X's first answer: a program moved its session on since. */
static bool acknowledged(const struct xfer *x, const struct xpxe_tftp_session *s)
{
	/* The first answer was the OACK (block 0) or DATA 1: each later one is recorded. */
	return s->state != XPXE_TFTP_ACTIVE || s->win_base ||
	       s->last_block != (x->first[1] == XPXE_TFTP_OACK ? 0u : 1u);
}

/* X's client acknowledged it: off the list of transfers that prove nothing yet. */
static void confirm(struct xpxe_tftp *t, struct xfer *x)
{
	if (x->confirmed)
		return;
	if (x->unconfirmed_prev)
		x->unconfirmed_prev->unconfirmed_next = x->unconfirmed_next;
	else
		t->unconfirmed_head = x->unconfirmed_next;
	if (x->unconfirmed_next)
		x->unconfirmed_next->unconfirmed_prev = x->unconfirmed_prev;
	else
		t->unconfirmed_tail = x->unconfirmed_prev;
	x->unconfirmed_prev = x->unconfirmed_next = NULL;
	x->confirmed = true;
	t->n_unconfirmed--;
}

/* X ended (or goes): its place among opts.max_at_once is free (tftp_admit_held fills it). */
static void release(struct xpxe_tftp *t, struct xfer *x)
{
	x->gave_up = false; /* it ended: no late ACK takes a place again */
	tftp_place_give(t, &x->counted);
}

static void finish(struct xpxe_tftp *t, struct xfer *x, bool delete_session)
{
	struct xfer **pp = &t->buckets[bucket_of(x->key.client_ip, x->key.client_port)];

	confirm(t, x); /* off that list */
	release(t, x);
	tftp_pace_forget(t, x);

	if (delete_session && tftp_session_clear(x->ifc, &x->key) && errno != ENOENT)
		log_debug("cannot delete a TFTP session: %s", strerror(errno));
	if (x->fd >= 0) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, x->fd, NULL);
		close(x->fd);
	}
	/* Its port's entry is empty (or another's never: a port is one transfer's): free. */
	if (x->port_held)
		tftp_free_port(t, x->key.server_port);
	xpxe_assets_put(t->assets, x->slot);
	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	x->ifc->transfers--;
	t->n_xfers--;
	count_ip(t, x->key.client_ip, -1);
	x->fd = -1;
	x->dead = true;
	x->next = t->dead;
	t->dead = x;
}

void tftp_free_dead(struct xpxe_tftp *t)
{
	for (struct xfer *x = t->dead, *next; x; x = next) {
		next = x->next;
		free(x);
	}
	for (struct xfer6 *x = t->dead6, *next; x; x = next) {
		next = x->next;
		free(x);
	}
	t->dead = NULL;
	t->dead6 = NULL;
}

static struct xfer *new_xfer(struct xpxe_tftp *t, struct iface *ifc,
			     const struct xpxe_tftp_key *key)
{
	struct xfer *x = calloc(1, sizeof(*x));
	unsigned b;

	if (!x)
		return NULL;
	x->ifc = ifc;
	x->key = *key;
	x->fd = -1;
	x->started_ns = tftp_now_ns();
	x->progress = now_s();
	x->idle_s = t->opts.idle_timeout_s;
	b = bucket_of(key->client_ip, key->client_port);
	x->next = t->buckets[b];
	t->buckets[b] = x;
	ifc->transfers++;
	t->n_xfers++;
	count_ip(t, key->client_ip, 1);
	/* Unconfirmed until its client acknowledges the first answer: last on that list. */
	x->unconfirmed_prev = t->unconfirmed_tail;
	if (t->unconfirmed_tail)
		t->unconfirmed_tail->unconfirmed_next = x;
	else
		t->unconfirmed_head = x;
	t->unconfirmed_tail = x;
	t->n_unconfirmed++;
	return x;
}

/* A UDP socket on LOCAL:PORT (0: the kernel picks), non-blocking. */
static int udp_socket(__be32 local, __be16 port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = local,
				  .sin_port = port };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void send_to(int fd, const void *buf, size_t len, __be32 ip, __be16 port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = ip, .sin_port = port };

	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		log_debug("TFTP: sendto: %s", strerror(errno));
}

/* Answers from port 69 with the address the request was sent to as the source. */
static void send_from_69(struct xpxe_tftp *t, const void *buf, size_t len, __be32 ip, __be16 port,
			 struct in_addr local)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = ip, .sin_port = port };
	char control[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &to,
		.msg_namelen = sizeof(to),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cm);

	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi->ipi_spec_dst = local;
	if (sendmsg(t->listen_fd, &msg, 0) < 0)
		log_debug("TFTP: sendmsg: %s", strerror(errno));
}

/* FILE: the file refused (NULL when the request named none or was not read). */
static void refuse(struct xpxe_tftp *t, struct iface *ifc, const struct xpxe_tftp_refusal *why,
		   const char *what, const char *file, __be32 ip, __be16 port, struct in_addr local)
{
	uint8_t pkt[XPXE_TFTP_REPLY_MAX];
	char who[32];

	tftp_addr_str(who, sizeof(who), ip, port);
	if (why->code < 0) {
		log_debug("TFTP %s: %s: %s", who, what, why->message);
		return;
	}
	{
		char mac[18] = "", ip_text[INET_ADDRSTRLEN], detail[200];
		uint8_t raw[6];

		if (rrq_mac(ifc, ip, port, raw))
			mac_str(mac, raw);
		inet_ntop(AF_INET, &ip, ip_text, sizeof(ip_text));
		snprintf(detail, sizeof(detail), "%s: ERROR %d (%s) from port 69 to %s", what,
			 why->code, why->message, who);
		xpxe_event_tftp(XPXE_EV_TFTP_ERROR,
				&(struct xpxe_tftp_report){
				    .mac = mac,
				    .ip = ip_text,
				    .iface = ifc ? ifc->ifname : NULL,
				    .path = -1,
				    .error = why->code,
				    .why = detail,
				    .expected = file && why->code == XPXE_TFTP_ERR_NOT_FOUND &&
						xpxe_boot_optional_file(file) });
	}
	send_from_69(t, pkt, xpxe_tftp_error_packet(pkt, why->code, why->message), ip, port, local);
	if (ifc && tftp_error_counter(why->code) != XPXE_CNT_MAX)
		tftp_bump(t, ifc, tftp_error_counter(why->code));
}

/*
 * An RRQ from the port of running transfer X, the same bytes as X's own. Returns true when
 * it is a copy of X's request: answered again while the client has not acknowledged that
 * answer (it may have been lost), ignored while the transfer runs. False when it is a new
 * request: X has ended, or stalled (the client started over from the same port).
 *
 * The session is only read: the programs update it in place, and a write of the whole value
 * from here would undo a block they recorded meanwhile.
 */
static bool repeated_rrq(struct xpxe_tftp *t, struct xfer *x)
{
	struct xpxe_tftp_session s;

	if (x->ended || tftp_session_of(x, &s) || s.state != XPXE_TFTP_ACTIVE)
		return false;
	if (acknowledged(x, &s) && (__s64)(tftp_now_ns() - s.last_tx_ns) >= (__s64)RRQ_COPY_NS)
		return false;
	tftp_bump(t, x->ifc, XPXE_CNT_TFTP_RRQ_REPEATED);
	if (x->fd >= 0 && !acknowledged(x, &s))
		send_to(x->fd, x->first, x->first_len, x->key.client_ip, x->key.client_port);
	return true;
}

/*
 * Whether X still runs. One that ended (the final ACK, the client's ERROR, as a size probe
 * ends; or its session gone) gets its end reported, if the program's event has not yet.
 */
static bool running(struct xfer *x)
{
	struct xpxe_tftp_session s;

	if (x->ended || tftp_session_of(x, &s))
		return false;
	if (s.state == XPXE_TFTP_ACTIVE)
		return true;
	tftp_report_end(x, &s);
	return false;
}

/* A running transfer ended by a new request from its client's address and port. */
static void replace(struct xpxe_tftp *t, struct xfer *x)
{
	struct xpxe_tftp_session s;
	bool have = !tftp_session_of(x, &s);

	report(XPXE_EV_TFTP_EXPIRED, x, have ? &s : NULL,
	       "a new read request from its address and port replaced it");
	tftp_bump(t, x->ifc, XPXE_CNT_TFTP_SESSIONS_REPLACED);
	finish(t, x, true);
}

/*
 * Room for one more transfer, at --tftp-max-sessions: the oldest transfer whose client never
 * acknowledged our first answer (UNCONFIRMED_GRACE_NS after it) makes way, IPv4's first, then
 * IPv6's (the cap is both families'). Forged RRQs (their answer goes to a machine that never
 * asked) cannot hold the sessions against real clients. Transfers found acknowledged on the
 * way become ones like any other. Returns false when there is no room: every transfer is
 * acknowledged, or too young to tell.
 */
bool tftp_make_room(struct xpxe_tftp *t)
{
	while (t->n_xfers + t->n_xfers6 >= t->opts.max_sessions && t->unconfirmed_head) {
		struct xfer *x = t->unconfirmed_head;
		struct xpxe_tftp_session s;

		if (!tftp_session_of(x, &s) && acknowledged(x, &s)) {
			confirm(t, x);
			continue;
		}
		if (tftp_now_ns() - x->started_ns < UNCONFIRMED_GRACE_NS)
			break; /* the oldest is too young: so are the others */
		report(XPXE_EV_TFTP_EXPIRED, x, NULL,
		       "no ACK of its first answer: dropped for a newer request");
		tftp_bump(t, x->ifc, XPXE_CNT_TFTP_SESSIONS_UNCONFIRMED);
		t->unconfirmed_dropped_recently++;
		finish(t, x, true);
	}
	while (t->n_xfers + t->n_xfers6 >= t->opts.max_sessions &&
	       tftp6_drop_unconfirmed(t, UNCONFIRMED_GRACE_NS))
		;
	return t->n_xfers + t->n_xfers6 < t->opts.max_sessions;
}

static void start_transfer(struct xpxe_tftp *t, struct iface *ifc,
			   const struct xpxe_tftp_request *req, struct xpxe_asset *as,
			   const struct sockaddr_in *from, struct in_addr local, uint64_t hash,
			   size_t rrq_len, bool paced)
{
	struct xpxe_tftp_refusal why = { .code = XPXE_TFTP_ERR_UNDEFINED };
	struct xpxe_tftp_plan plan;
	struct xpxe_tftp_session s = { 0 };
	struct xpxe_tftp_key key = {
		.client_ip = from->sin_addr.s_addr,
		.client_port = from->sin_port,
	};
	struct sockaddr_in sa;
	struct xfer *x;
	char who[32];
	int fd, port;

	tftp_addr_str(who, sizeof(who), key.client_ip, key.client_port);
	xpxe_tftp_negotiate(req, as->size, ifc->blksize_max, ifc->windowsize_max, &plan);
	/* A port of the range (--tftp-port-range): the programs find the session by it. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr = local };
	port = fd < 0 ? -errno
		      : tftp_bind_port(t, fd, (struct sockaddr *)&sa, sizeof(sa), &sa.sin_port);
	if (port < 0) {
		snprintf(why.message, sizeof(why.message), "out of ports: %s", strerror(-port));
		if (fd >= 0)
			close(fd);
		refuse(t, ifc, &why, "RRQ", NULL, key.client_ip, key.client_port, local);
		return;
	}
	key.server_port = sa.sin_port;
	tftp_new_session(t, &s);
	s.size = (__u32)as->size;
	s.asset_slot = as->slot;
	s.blksize = plan.blksize;
	s.windowsize = plan.windowsize;
	s.final_block = (__u32)xpxe_tftp_blocks(as->size, plan.blksize);
	s.last_block = plan.oack_len ? 0 : 1;
	s.win_base = 0; /* the OACK (block 0) or DATA 1 answered the RRQ */
	s.state = XPXE_TFTP_ACTIVE;
	s.last_tx_ns = tftp_now_ns();
	rrq_mac(ifc, key.client_ip, key.client_port, s.client_mac);
	/* Installed before the answer leaves: the first ACK may come back at once. A session
	 * of this very key (a stale one) is replaced: see tftp_new_session. A paced one is not
	 * installed (the daemon answers its ACKs): a stale one of its key goes. */
	if (paced ? tftp_session_clear(ifc, &key) && errno != ENOENT
		  : tftp_session_put(ifc, &key, &s)) {
		snprintf(why.message, sizeof(why.message), "cannot install the transfer: %s",
			 strerror(errno));
		close(fd);
		tftp_free_port(t, key.server_port);
		refuse(t, ifc, &why, "RRQ", NULL, key.client_ip, key.client_port, local);
		return;
	}
	x = new_xfer(t, ifc, &key);
	if (!x || tftp_watch(t, fd, x)) {
		tftp_session_clear(ifc, &key);
		close(fd);
		if (x) {
			x->fd = -1;
			x->slot = XPXE_TFTP_ASSET_SLOTS; /* holds nothing */
			x->port_held = true;
			finish(t, x, false);
		} else {
			tftp_free_port(t, key.server_port);
		}
		return;
	}
	x->port_held = true;
	x->fd = fd;
	x->rrq_hash = hash;
	x->rrq_len = rrq_len;
	if (paced)
		tftp_pace_start(t, x, &s);
	else
		tftp_place_take(t, &x->counted);
	x->slot = as->slot;
	x->size = as->size;
	x->blksize = plan.blksize;
	x->windowsize = plan.windowsize;
	x->last_block = s.last_block;
	x->path = plan.windowsize <= 1 ? lockstep_path(t, ifc)
		  : ifc->n_xsks	       ? XPXE_TFTP_PATH_AF_XDP
				       : XPXE_TFTP_PATH_UDP;
	if (memcmp(s.client_mac, (uint8_t[6]){ 0 }, 6))
		mac_str(x->mac, s.client_mac);
	if (plan.timeout_s && plan.timeout_s * 3 > x->idle_s)
		x->idle_s = plan.timeout_s * 3;
	x->timeout_s = plan.timeout_s;
	snprintf(x->name, sizeof(x->name), "%s", as->name);
	xpxe_assets_get(t->assets, as->slot);
	if (plan.oack_len) {
		memcpy(x->first, plan.oack, plan.oack_len);
		x->first_len = plan.oack_len;
	} else {
		x->first[1] = XPXE_TFTP_DATA;
		x->first[3] = 1;
		x->first_len = 4 + xpxe_asset_read_block(as, 1, plan.blksize, x->first + 4);
		tftp_bump(t, ifc, XPXE_CNT_TFTP_DATA_DAEMON);
		tftp_tally(ifc, XPXE_CNT_TFTP_BYTES_DAEMON, x->first_len - 4);
	}
	send_to(fd, x->first, x->first_len, key.client_ip, key.client_port);
	tftp_bump(t, ifc, XPXE_CNT_TFTP_RRQ);
	tftp_bump(t, ifc, XPXE_CNT_TFTP_SESSIONS_OPENED);
	report(XPXE_EV_TFTP_START, x, NULL, NULL);
	log_debug("TFTP %s: RRQ %s (%llu bytes), blksize %u, windowsize %u%s, from port %u%s", who,
		  as->name, (unsigned long long)as->size, plan.blksize, plan.windowsize,
		  plan.oack_len ? ", OACK" : "", ntohs(key.server_port), paced ? ", paced" : "");
}

/* Whether REQ for AS would make the transfer X runs: the same size, block and window sizes. */
static bool same_transfer(const struct iface *ifc, const struct xfer *x,
			  const struct xpxe_tftp_request *req, const struct xpxe_asset *as)
{
	struct xpxe_tftp_plan plan;

	xpxe_tftp_negotiate(req, as->size, ifc->blksize_max, ifc->windowsize_max, &plan);
	return as->size == x->size && plan.blksize == x->blksize &&
	       plan.windowsize == x->windowsize;
}

/* SRC's address in 16 bytes: IPv4's as ::ffff:a.b.c.d, so one table holds both families. */
static void src_addr16(const struct tftp_src *src, uint8_t out[16])
{
	if (src->family == AF_INET6) {
		memcpy(out, &src->from6.sin6_addr, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &src->from.sin_addr, 4);
}

static bool same_address(const struct tftp_src *a, const struct tftp_src *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET6)
		return !memcmp(&a->from6.sin6_addr, &b->from6.sin6_addr, 16);
	return a->from.sin_addr.s_addr == b->from.sin_addr.s_addr;
}

static __be16 src_port(const struct tftp_src *src)
{
	return src->family == AF_INET6 ? src->from6.sin6_port : src->from.sin_port;
}

static int src_ifindex(const struct tftp_src *src)
{
	return src->family == AF_INET6 ? (int)src->pi6.ipi6_ifindex : src->pi.ipi_ifindex;
}

/* The let_in slot of ADDR's request for the file whose name hashes to FILE. */
static unsigned let_in_slot(const uint8_t addr[16], uint64_t file)
{
	uint64_t h = file;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	return (unsigned)((h ^ (h >> 32)) % TFTP_LET_IN_SLOTS);
}

static uint64_t file_hash(const char *name)
{
	return tftp_rrq_hash((const uint8_t *)name, strlen(name));
}

/* Whether SRC's address had its request for NAME let in lately: this one is not held again. */
static bool let_in_lately(const struct xpxe_tftp *t, const struct tftp_src *src, const char *name,
			  double now)
{
	uint8_t addr[16];
	uint64_t file = file_hash(name);
	unsigned i;

	src_addr16(src, addr);
	i = let_in_slot(addr, file);
	return t->let_in[i].at && !memcmp(t->let_in[i].addr, addr, 16) &&
	       t->let_in[i].file == file && now - t->let_in[i].at < XPXE_TFTP_LET_IN_KEEP_S;
}

void tftp_let_in(struct xpxe_tftp *t, const struct tftp_src *src, const char *name)
{
	uint8_t addr[16];
	uint64_t file = file_hash(name);
	unsigned i;

	if (!t->opts.max_at_once)
		return;
	src_addr16(src, addr);
	i = let_in_slot(addr, file);
	memcpy(t->let_in[i].addr, addr, 16);
	t->let_in[i].file = file;
	t->let_in[i].at = now_s();
}

/* The MAC in an IPv6 address's EUI-64 interface identifier (SLAAC, link-local), if any. */
static bool eui64_mac(const struct in6_addr *a, uint8_t mac[6])
{
	const uint8_t *b = a->s6_addr;

	if (b[11] != 0xff || b[12] != 0xfe)
		return false;
	mac[0] = b[8] ^ 0x02;
	mac[1] = b[9];
	mac[2] = b[10];
	mac[3] = b[13];
	mac[4] = b[14];
	mac[5] = b[15];
	return true;
}

/*
 * A queue this long drains past any firmware's patience (a flood of forged RRQs, each held
 * until its place is taken and given back): the rest go at once, over the cap.
 */
static unsigned held_limit(const struct xpxe_tftp *t)
{
	unsigned long long limit = 8ull * t->opts.max_at_once;

	return limit < XPXE_TFTP_SESSIONS_MAX ? (unsigned)limit : XPXE_TFTP_SESSIONS_MAX;
}

/*
 * Admission (opts.max_at_once). A client repeats its RRQ while it waits: the copy (or a new
 * request from the same address and port) takes the place its first one had, and so does the
 * same file asked from the same address from a new port (some firmware retries from a new port
 * each time: one machine never holds two places). A held machine that gives up costs nothing:
 * its turn answers a port that no longer listens, and the transfer expires unacknowledged. A
 * control plane is never held: it goes at once, over the cap. (At the front of the queue it
 * would still wait for a transfer to end, and a lockstep transfer in a storm takes seconds: it
 * would reach HTTP behind the first batch, and finish with it.) IPv6's RRQs wait in the same
 * queue: their transfers take places as IPv4's do.
 */
bool tftp_hold(struct xpxe_tftp *t, struct iface *ifc, const uint8_t *buf, size_t len,
	       const struct tftp_src *src, const char *name)
{
	struct tftp_held *h, **p, **by_port = NULL, **by_name = NULL;
	char ip[INET6_ADDRSTRLEN];
	uint8_t mac[6];
	bool have_mac;
	double now = now_s();

	if (!t->opts.max_at_once)
		return false;
	/*
	 * A request is its address and file; a repeat from its port that names another file
	 * replaces it too (the client started over). Two machines behind one address (a relay,
	 * NAT) asking for two files are two requests, each with its place.
	 */
	for (p = &t->held; *p; p = &(*p)->next) {
		if (!same_address(&(*p)->src, src))
			continue;
		if (!by_name && !strcmp((*p)->name, name))
			by_name = p;
		if (!by_port && src_port(&(*p)->src) == src_port(src))
			by_port = p;
	}
	/*
	 * Its port's request for another file when the address waits for this one from another
	 * port too: that one goes, as a new file from a port replaces its request (its turn would
	 * answer a client that asks for something else, and replace the transfer from its port).
	 */
	if (by_name && by_port && *by_port != *by_name) {
		struct tftp_held *stale = *by_port;

		if (by_name == &stale->next)
			by_name = by_port; /* the next entry's link is the one left */
		*by_port = stale->next;
		t->n_held--;
		log_debug("tftp: %s asks for %s from the port it asked %s from: that request goes",
			  stale->who, name, stale->name);
		free(stale);
	}
	p = by_name ? by_name : by_port;
	if (!p && let_in_lately(t, src, name, now))
		return false;
	if (p) {
		/* Its place kept; the latest bytes and port are what its turn answers. */
		h = realloc(*p, sizeof(*h) + len);
		if (!h)
			return true; /* the old bytes stay */
		*p = h;
		if (src_port(&h->src) != src_port(src)) {
			t->held_moved++;
			log_debug("tftp: %s asks for %s again from another port: its place kept",
				  h->who, name);
		}
		memcpy(h->buf, buf, len);
		h->len = len;
		h->src = *src;
		snprintf(h->name, sizeof(h->name), "%s", name);
		return true;
	}
	if (!t->held && t->n_active < t->opts.max_at_once && !tftp_http_fed(t))
		return false;
	if (t->n_held >= held_limit(t)) {
		t->full_over++;
		return false;
	}
	h = calloc(1, sizeof(*h) + len);
	if (!h)
		return false;
	memcpy(h->buf, buf, len);
	h->len = len;
	h->src = *src;
	h->since = now;
	snprintf(h->name, sizeof(h->name), "%s", name);
	if (src->family == AF_INET6) {
		inet_ntop(AF_INET6, &src->from6.sin6_addr, ip, sizeof(ip));
		have_mac = eui64_mac(&src->from6.sin6_addr, mac);
	} else {
		inet_ntop(AF_INET, &src->from.sin_addr, ip, sizeof(ip));
		have_mac = rrq_mac(ifc, src->from.sin_addr.s_addr, src->from.sin_port, mac);
	}
	snprintf(h->who, sizeof(h->who), "%s", ip);
	if (have_mac)
		mac_str(h->mac, mac);
	/* IPv6's: by the MAC its address carries, if any (no DHCP binding of IPv4's to go by). */
	if (t->opts.rank && (src->family == AF_INET || have_mac)) {
		char seen[18];
		struct in_addr v4 = { src->family == AF_INET ? src->from.sin_addr.s_addr : 0 };

		snprintf(seen, sizeof(seen), "%s", h->mac);
		if (t->opts.rank(t->opts.rank_ctx, v4, seen[0] ? seen : NULL, h->who,
				 sizeof(h->who), h->mac) > 0) {
			log_info("tftp: %s of %s goes at once, over the cap (control plane)", name,
				 h->who);
			t->cp_over++;
			free(h);
			return false;
		}
	}
	for (p = &t->held; *p; p = &(*p)->next) /* last in line */
		;
	*p = h;
	t->n_held++;
	t->held_total++;
	log_info("tftp: %s of %s held (%u transfers at once, %u others waiting)", name, h->who,
		 t->opts.max_at_once, t->n_held - 1);
	xpxe_event(XPXE_EV_DOWNLOAD_QUEUED, h->mac[0] ? h->mac : NULL, ip, ifc->ifname, name, 0);
	return true;
}

static void handle_request(struct xpxe_tftp *t, const uint8_t *buf, size_t len,
			   const struct sockaddr_in *from, const struct in_pktinfo *pi,
			   bool its_turn);

/*
 * Answers held RRQs while places are free, first come first, and those held opts.max_wait_s
 * whatever the queue (over the cap: their firmware would give up).
 */
void tftp_admit_held(struct xpxe_tftp *t)
{
	double now = now_s();

	tftp_pace_promote(t); /* paced transfers waited longer than any held RRQ */

	for (struct tftp_held **p = &t->held; *p;) {
		struct tftp_held *h = *p;
		bool turn = (t->n_active < t->opts.max_at_once && !tftp_pace_next(t) &&
			     !tftp6_pace_next(t) && !tftp_http_fed(t)) ||
			    !t->opts.max_at_once;
		bool overdue = t->opts.max_wait_s && now - h->since >= t->opts.max_wait_s;

		/* In line by arrival (a repeat keeps its place): none after it is due either. */
		if (!turn && !overdue)
			break;
		*p = h->next;
		t->n_held--;
		if (!turn)
			t->held_overdue++;
		log_info("tftp: %s starts after %.1f s in the queue%s", h->who, now - h->since,
			 turn		   ? ""
			 : t->opts.pace_ms ? " (over the cap: it waited too long; paced)"
					   : " (over the cap: it waited too long)");
		if (h->src.family == AF_INET6)
			tftp6_handle(t, h->buf, h->len, &h->src.from6, &h->src.pi6, true);
		else
			handle_request(t, h->buf, h->len, &h->src.from, &h->src.pi, true);
		free(h);
	}
}

/* Forgets the RRQs held on IFINDEX (its interface goes), or all (IFINDEX 0). */
static void drop_held(struct xpxe_tftp *t, int ifindex)
{
	for (struct tftp_held **p = &t->held; *p;) {
		struct tftp_held *h = *p;

		if (ifindex && src_ifindex(&h->src) != ifindex) {
			p = &h->next;
			continue;
		}
		*p = h->next;
		t->n_held--;
		free(h);
	}
}

/* The admission's figures to /metrics (HTTP's threads), when they changed. */
static void publish_queue(struct xpxe_tftp *t)
{
	struct xpxe_tftp_queue q = { .max = t->opts.max_at_once,
				     .active = t->n_active,
				     .held = t->n_held,
				     .paced = t->n_paced,
				     .held_total = t->held_total,
				     .paced_total = t->paced_total,
				     .promoted = t->promoted_total };

	if (memcmp(&q, &t->published, sizeof(q))) {
		t->published = q;
		xpxe_events_set_tftp_queue(&q);
	}
}

void xpxe_tftp_admission(const struct xpxe_tftp *t, struct xpxe_tftp_admission *out)
{
	out->active = t->n_active;
	out->held = t->n_held;
	out->held_total = t->held_total;
	out->overdue = t->held_overdue;
	out->controlplanes = t->cp_over;
	out->queue_full = t->full_over;
	out->moved = t->held_moved;
	out->paced = t->n_paced;
	out->paced_total = t->paced_total;
	out->promoted = t->promoted_total;
}

/* ITS_TURN: a held RRQ let in (tftp_admit_held), not held again. */
static void handle_request(struct xpxe_tftp *t, const uint8_t *buf, size_t len,
			   const struct sockaddr_in *from, const struct in_pktinfo *pi,
			   bool its_turn)
{
	struct iface *ifc = tftp_find_iface(t, pi->ipi_ifindex);
	struct xpxe_tftp_refusal why;
	struct xpxe_tftp_request req;
	struct xpxe_asset *as;
	struct xfer *x;
	char what[128];
	bool rrq = len >= 2 && buf[0] == 0 && buf[1] == XPXE_TFTP_RRQ;
	uint64_t hash = tftp_rrq_hash(buf, len);
	unsigned long long cp_over;
	bool paced;

	if (!from->sin_port || from->sin_addr.s_addr == INADDR_ANY ||
	    from->sin_addr.s_addr == INADDR_BROADCAST)
		return;
	tftp_describe_request(what, sizeof(what), buf, len);
	if (!ifc) {
		why.code = XPXE_TFTP_ERR_UNDEFINED;
		snprintf(why.message, sizeof(why.message),
			 "TFTP is served only on the interfaces xpxe serves");
		refuse(t, NULL, &why, what, NULL, from->sin_addr.s_addr, from->sin_port,
		       pi->ipi_spec_dst);
		return;
	}
	x = rrq ? find_xfer(t, ifc, from->sin_addr.s_addr, from->sin_port) : NULL;
	if (x && !running(x)) {
		finish(t, x, true); /* a new request from the port of an ended transfer */
		x = NULL;
	} else if (x && x->rrq_len == len && x->rrq_hash == hash && repeated_rrq(t, x)) {
		return;
	}
	if (xpxe_tftp_parse_request(buf, len, &req, &why)) {
		refuse(t, ifc, &why, what, NULL, from->sin_addr.s_addr, from->sin_port,
		       pi->ipi_spec_dst);
		return;
	}
	as = xpxe_assets_find(t->assets, req.name);
	if (!as) {
		why.code = XPXE_TFTP_ERR_NOT_FOUND;
		snprintf(why.message, sizeof(why.message), "file not found");
		refuse(t, ifc, &why, what, req.name, from->sin_addr.s_addr, from->sin_port,
		       pi->ipi_spec_dst);
		return;
	}
	/*
	 * A transfer a previous daemon started (adopt_sessions) has no RRQ bytes to compare
	 * with: the same file (its size) with the same options is taken for its RRQ, whose bytes
	 * are kept from now on, and a copy of it within the transfer leaves it be.
	 */
	if (x && x->adopted && !x->rrq_len && same_transfer(ifc, x, &req, as)) {
		x->rrq_hash = hash;
		x->rrq_len = len;
		if (repeated_rrq(t, x))
			return;
	}
	/*
	 * Another file, or the same after the transfer stalled (repeated_rrq): the client has
	 * started over from that port, and waits for no more of the old transfer.
	 */
	if (x)
		replace(t, x);
	cp_over = t->cp_over;
	if (!its_turn &&
	    tftp_hold(t, ifc, buf, len,
		      &(struct tftp_src){ .family = AF_INET, .from = *from, .pi = *pi }, req.name))
		return;
	/* Let in over the cap (it waited max_wait, the queue is full), a control plane's not. */
	paced = t->opts.pace_ms && t->opts.max_at_once &&
		(t->n_active >= t->opts.max_at_once || tftp_http_fed(t)) && t->cp_over == cp_over;
	if (transfers_from(t, from->sin_addr.s_addr) >= t->opts.max_per_ip) {
		/* One host holds its share: the rest of the rack keeps the other sessions. */
		static const char mine[] = "too many transfers from your address, try again later";
		uint8_t pkt[XPXE_TFTP_REPLY_MAX];

		send_from_69(t, pkt, xpxe_tftp_error_packet(pkt, XPXE_TFTP_ERR_UNDEFINED, mine),
			     from->sin_addr.s_addr, from->sin_port, pi->ipi_spec_dst);
		tftp_bump(t, ifc, XPXE_CNT_TFTP_SESSIONS_REFUSED_PER_IP);
		t->refused_per_ip_recently++;
		t->refused_per_ip_last = from->sin_addr.s_addr;
		return;
	}
	if (!tftp_make_room(t)) {
		/* A flood of RRQs: a clear answer, logged once a second (sweep), not per request.
		 */
		static const char busy[] = "server busy: too many transfers, try again later";
		uint8_t pkt[XPXE_TFTP_REPLY_MAX];

		send_from_69(t, pkt, xpxe_tftp_error_packet(pkt, XPXE_TFTP_ERR_UNDEFINED, busy),
			     from->sin_addr.s_addr, from->sin_port, pi->ipi_spec_dst);
		tftp_bump(t, ifc, XPXE_CNT_TFTP_SESSIONS_REFUSED);
		t->refused_recently++;
		return;
	}
	start_transfer(t, ifc, &req, as, from, pi->ipi_spec_dst, hash, len, paced);
	tftp_let_in(t, &(struct tftp_src){ .family = AF_INET, .from = *from, .pi = *pi }, req.name);
}

static void read_requests(struct xpxe_tftp *t)
{
	for (int i = 0; i < RRQ_BATCH; i++) {
		uint8_t buf[2048];
		char control[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct sockaddr_in from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control,
			.msg_controllen = sizeof(control),
		};
		struct in_pktinfo *pi = NULL;
		ssize_t n = recvmsg(t->listen_fd, &msg, 0);

		/* All read: the held requests overdue by now go in below, not at the sweep. */
		if (n < 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
				pi = (struct in_pktinfo *)CMSG_DATA(cm);
		if (!pi)
			continue;
		if (msg.msg_flags & MSG_TRUNC) {
			/* No request is this long (a name is at most 255 bytes): refused, counted.
			 */
			struct xpxe_tftp_refusal why = { .code = XPXE_TFTP_ERR_ILLEGAL_OP };

			snprintf(why.message, sizeof(why.message), "request too long");
			refuse(t, tftp_find_iface(t, pi->ipi_ifindex), &why, "request to port 69",
			       NULL, from.sin_addr.s_addr, from.sin_port, pi->ipi_spec_dst);
			continue;
		}
		handle_request(t, buf, n, &from, pi, false);
	}
	tftp_admit_held(t);
}

/* A packet from FROM (WHO) to the port of X's transfer, which is not FROM's: ERROR 5. */
static void stranger_error(const struct xfer *x, const struct sockaddr_in *from, const char *who)
{
	char ip[INET_ADDRSTRLEN], why[96];

	inet_ntop(AF_INET, &from->sin_addr, ip, sizeof(ip));
	snprintf(why, sizeof(why), "%s sent to the port of a transfer to another client: ERROR 5",
		 who);
	xpxe_event_tftp(XPXE_EV_TFTP_ERROR,
			&(struct xpxe_tftp_report){ .ip = ip,
						    .iface = x->ifc->ifname,
						    .path = -1,
						    .error = XPXE_TFTP_ERR_UNKNOWN_TID,
						    .why = why });
}

/* Paced X's client ACKed its final block, or sent an ERROR: it ends, as the sweep ends one. */
static void end_paced(struct xpxe_tftp *t, struct xfer *x)
{
	struct xpxe_tftp_session s = x->ps;

	x->path = XPXE_TFTP_PATH_PACED; /* its blocks came from the daemon's socket */
	tftp_pace_forget(t, x);
	tftp_bump(t, x->ifc,
		  s.state == XPXE_TFTP_DONE ? XPXE_CNT_TFTP_SESSIONS_COMPLETED
					    : XPXE_CNT_TFTP_SESSIONS_ABORTED);
	x->ps = s; /* what the sweep reads until it frees X */
	tftp_report_end(x, &s);
	release(t, x);
	x->ended = true;
	x->ended_at = now_s();
	tftp_admit_held(t);
}

/* Something reached a transfer's port that the data plane left to us. */
static void read_transfer(struct xpxe_tftp *t, struct xfer *x)
{
	uint8_t buf[2048], pkt[XPXE_TFTP_REPLY_MAX];
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	char who[32];
	ssize_t n;

	while ((n = recvfrom(x->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len)) >=
	       0) {
		int op = n >= 2 ? buf[0] << 8 | buf[1] : -1;

		tftp_addr_str(who, sizeof(who), from.sin_addr.s_addr, from.sin_port);
		from_len = sizeof(from);
		if (x->paced && !x->ended && from.sin_addr.s_addr == x->key.client_ip &&
		    from.sin_port == x->key.client_port &&
		    (op == XPXE_TFTP_ACK || op == XPXE_TFTP_ERROR) && n >= 4) {
			/* Its session is the daemon's: what the programs do, done here. */
			if (op == XPXE_TFTP_ACK)
				tftp_pace_ack(t, x, (uint16_t)(buf[2] << 8 | buf[3]));
			else
				tftp_pace_error(t, x, (uint16_t)(buf[2] << 8 | buf[3]));
			if (!x->confirmed && x->paced && acknowledged(x, &x->ps))
				confirm(t, x);
			if (x->paced && x->ps.state != XPXE_TFTP_ACTIVE)
				end_paced(t, x);
			continue;
		}
		if (op == XPXE_TFTP_ERROR)
			continue; /* never answered; the data plane records a client's ERROR */
		if (from.sin_addr.s_addr != x->key.client_ip ||
		    from.sin_port != x->key.client_port) {
			stranger_error(x, &from, who);
			send_to(x->fd, pkt,
				xpxe_tftp_error_packet(pkt, XPXE_TFTP_ERR_UNKNOWN_TID,
						       "unknown transfer ID"),
				from.sin_addr.s_addr, from.sin_port);
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP_ERR_UNKNOWN_TID);
			continue;
		}
		if (op == XPXE_TFTP_ACK) {
			if (n >= 4)
				tftp_window_over_udp(t, x, (uint16_t)(buf[2] << 8 | buf[3]));
			continue;
		}
		{
			char why[64];

			snprintf(why, sizeof(why), "opcode %d during the transfer: ERROR 4 sent",
				 op);
			report(XPXE_EV_TFTP_ERROR, x, NULL, why);
		}
		send_to(
		    x->fd, pkt,
		    xpxe_tftp_error_packet(pkt, XPXE_TFTP_ERR_ILLEGAL_OP, "illegal TFTP operation"),
		    from.sin_addr.s_addr, from.sin_port);
		tftp_bump(t, x->ifc, XPXE_CNT_TFTP_ERR_ILLEGAL_OP);
	}
}

/*
 * The final block of X again, from its port (tftp_final_step): the programs send blocks only
 * for ACKs, and a client whose final ACK was lost sends none. Without its port (a previous
 * daemon's transfer) nothing is sent: the wait ends all the same.
 */
static void resend_final(struct xpxe_tftp *t, struct xfer *x, uint32_t block)
{
	static uint8_t buf[4 + XPXE_TFTP_BLKSIZE_MAX];
	const struct xpxe_tftp_chunk *chunks;
	uint32_t n_chunks, sum;
	size_t len;

	if (x->fd < 0 || x->blksize > XPXE_TFTP_BLKSIZE_MAX)
		return;
	chunks = xpxe_assets_chunks(t->assets, x->slot, &n_chunks);
	len = chunks
		  ? xpxe_tftp_data_payload(buf, chunks, n_chunks, x->size, x->blksize, block, &sum)
		  : 0;
	if (!len)
		return;
	send_to(x->fd, buf, len, x->key.client_ip, x->key.client_port);
	tftp_bump(t, x->ifc, XPXE_CNT_TFTP_DATA_DAEMON);
	tftp_tally(x->ifc, XPXE_CNT_TFTP_BYTES_DAEMON, len - 4);
}

static void sweep(struct xpxe_tftp *t)
{
	double now = now_s();

	if (t->refused_recently) {
		log_warn("TFTP: %u read request(s) refused in the last second: %u transfers "
			 "running (--tftp-max-sessions)",
			 t->refused_recently, t->n_xfers);
		t->refused_recently = 0;
	}
	if (t->unconfirmed_dropped_recently) {
		log_warn("TFTP: %u transfer(s) whose client never acknowledged the first answer "
			 "dropped in the last second for newer requests (forged RRQs?)",
			 t->unconfirmed_dropped_recently);
		t->unconfirmed_dropped_recently = 0;
	}
	if (t->refused_per_ip_recently) {
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &t->refused_per_ip_last, ip, sizeof(ip));
		log_warn("TFTP: %u read request(s) refused in the last second from addresses "
			 "already running %u transfers, %s the last (--tftp-max-per-ip)",
			 t->refused_per_ip_recently, t->opts.max_per_ip, ip);
		t->refused_per_ip_recently = 0;
	}
	for (int i = 0; i < MAX_IFACES; i++) {
		if (!t->ifaces[i].used)
			continue;
		tftp_watch_xsk(t, &t->ifaces[i]);
		flush_tallies(t, &t->ifaces[i]);
		t->ifaces[i].running = 0;
		/* XDP hands ACKs to tc once it found no room to grow them: tc sends the blocks. */
		if (tftp_program_counter(t, &t->ifaces[i], XPXE_CNT_TFTP_ACK_TO_TC))
			t->ifaces[i].lockstep_tc = true;
	}

	for (int b = 0; b < N_BUCKETS; b++) {
		struct xfer *x = t->buckets[b], *next;

		for (; x; x = next) {
			struct xpxe_tftp_session s;
			char why[96], who[32];

			next = x->next;
			if (x->ended) {
				if (now - x->ended_at >= ENDED_GRACE_S)
					finish(t, x, true);
				continue;
			}
			if (tftp_session_of(x, &s)) {
				report(XPXE_EV_TFTP_EXPIRED, x, NULL,
				       "the session left the table (too many transfers at once?)");
				tftp_bump(t, x->ifc, XPXE_CNT_TFTP_SESSIONS_EXPIRED);
				finish(t, x, false);
				continue;
			}
			if (!x->confirmed && acknowledged(x, &s))
				confirm(t, x);
			if (s.state != XPXE_TFTP_ACTIVE) {
				if (x->paced) /* its blocks came from the daemon: said so */
					x->path = XPXE_TFTP_PATH_PACED;
				else if (x->windowsize <= 1)
					x->path = lockstep_path(t, x->ifc);
				tftp_pace_forget(t, x);
				tftp_report_end(x, &s);
				release(t, x);
				x->ended = true;
				x->ended_at = now;
				continue;
			}
			/*
			 * Unacknowledged a second after its answer: a forged RRQ, or a held
			 * machine that gave up before its turn. It keeps no place of
			 * opts.max_at_once (it expires at its idle timeout, or makes room),
			 * until its client acknowledges after all: then it runs, and counts.
			 */
			if ((!x->confirmed && x->counted) || x->gave_up) {
				tftp_addr_str(who, sizeof(who), x->key.client_ip,
					      x->key.client_port);
				tftp_place_sweep(t, &x->counted, &x->gave_up, x->confirmed,
						 x->started_ns, who);
			}
			/* Retransmits since the last second: one event per burst, not per block. */
			if (s.retransmits > x->retransmits) {
				report(XPXE_EV_TFTP_RETRANSMIT, x, &s, NULL);
				x->retransmits = s.retransmits;
			}
			switch (tftp_final_step(
			    &x->final, x->confirmed,
			    s.last_block >= s.final_block && s.win_base + 1 >= s.final_block,
			    s.win_base, s.retransmits, x->timeout_s, x->idle_s, now)) {
			case TFTP_FINAL_RESEND:
				resend_final(t, x, s.final_block);
				break;
			case TFTP_FINAL_DONE:
				/* Unless the final ACK came since the session was read. */
				if (tftp_session_of(x, &s) || s.state != XPXE_TFTP_ACTIVE)
					break; /* the next sweep ends it as the session says */
				if (x->windowsize <= 1)
					x->path = lockstep_path(t, x->ifc);
				x->reported = true;
				report(XPXE_EV_TFTP_DONE, x, &s, "final_ack=not_seen");
				tftp_bump(t, x->ifc, XPXE_CNT_TFTP_FINAL_ACK_MISSING);
				finish(t, x, true);
				continue;
			case TFTP_FINAL_FAILED:
				/* Unless the final ACK came since the session was read. */
				if (tftp_session_of(x, &s) || s.state != XPXE_TFTP_ACTIVE)
					break;
				snprintf(why, sizeof(why),
					 "the client ACKed block %u again: the final block %u "
					 "never reached it",
					 s.win_base, s.final_block);
				report(XPXE_EV_TFTP_EXPIRED, x, &s, why);
				tftp_bump(t, x->ifc, XPXE_CNT_TFTP_SESSIONS_EXPIRED);
				finish(t, x, true);
				continue;
			case TFTP_FINAL_WAIT:
				break;
			}
			if (s.last_block != x->last_block) {
				x->last_block = s.last_block;
				x->progress = now;
				if (x->mac[0])
					xpxe_event_tftp_progress(
					    x->mac, x->name,
					    (__u64)s.win_base * x->blksize < x->size
						? (__u64)s.win_base * x->blksize
						: x->size,
					    s.retransmits,
					    x->paced ? XPXE_TFTP_PATH_PACED : x->path);
			} else if (!x->final.since && now - x->progress >= x->idle_s) {
				/* Once the final block is out, tftp_final_step ends it instead. */
				snprintf(why, sizeof(why), "no ACK for %u s after block %u of %u",
					 x->idle_s, s.last_block, s.final_block);
				report(XPXE_EV_TFTP_EXPIRED, x, &s, why);
				tftp_bump(t, x->ifc, XPXE_CNT_TFTP_SESSIONS_EXPIRED);
				finish(t, x, true);
				continue;
			}
			x->ifc->running++;
		}
	}
	tftp6_sweep(t);
	tftp_admit_held(t);
	if (t->n_held)
		log_info("TFTP: %u transfers running, %u read requests held (--max-tftp-downloads)",
			 t->n_active, t->n_held);
	for (int i = 0; i < MAX_IFACES; i++)
		if (t->ifaces[i].used)
			xpxe_events_set_tftp_in_flight(t->ifaces[i].ifname, t->ifaces[i].running);
}

/*
 * The path of lockstep transfers here: tc once XDP handed it ACKs it had no room to
 * grow, XDP once it sent blocks itself; before either, not known (the first transfer
 * on an interface: its events say xdp/tc, its end says which).
 */
static int lockstep_path(struct xpxe_tftp *t, struct iface *ifc)
{
	if (!ifc->lockstep_tc && tftp_program_counter(t, ifc, XPXE_CNT_TFTP_ACK_TO_TC))
		ifc->lockstep_tc = true;
	if (ifc->lockstep_tc)
		return XPXE_TFTP_PATH_TC;
	return tftp_program_counter(t, ifc, XPXE_CNT_TFTP_DATA_XDP) ? XPXE_TFTP_PATH_XDP
								    : XPXE_TFTP_PATH_LOCKSTEP;
}

void xpxe_tftp_on_end(struct xpxe_tftp *t, int ifindex, const struct xpxe_dp_tftp_event *e)
{
	struct iface *ifc = tftp_find_iface(t, ifindex);
	struct xfer *x = ifc ? find_xfer(t, ifc, e->key.client_ip, e->key.client_port) : NULL;
	struct xpxe_tftp_session s;

	if (!x || x->key.server_port != e->key.server_port || x->reported ||
	    tftp_session_get(ifc, &x->key, &s))
		return;
	/*
	 * Windows leave through AF_XDP (or UDP) whichever program saw their last ACK. A
	 * lockstep transfer's path is the program that saw its final ACK, but XDP also
	 * completes transfers whose blocks tc sent (it could not grow those ACKs, and a
	 * final ACK needs no block): where XDP never sent a block here, tc sent them.
	 */
	if (x->windowsize <= 1 && e->h.boot < XPXE_TFTP_PATH_MAX) {
		x->path = e->h.boot == XPXE_TFTP_PATH_XDP &&
				  !tftp_program_counter(t, ifc, XPXE_CNT_TFTP_DATA_XDP)
			      ? XPXE_TFTP_PATH_TC
			      : e->h.boot;
		ifc->lockstep_tc |= x->path == XPXE_TFTP_PATH_TC;
	}
	if (!x->mac[0])
		mac_str(x->mac, e->h.mac);
	/* Timed to the end itself: the event's moment is on started_ns's clock (tftp_now_ns). */
	s.last_tx_ns = e->h.ts_ns;
	tftp_report_end(x, &s);
	release(t, x);
	tftp_admit_held(t);
	publish_queue(t);
}

/* The AF_XDP socket TAG stands for, or NULL when it is a transfer's. */
static struct xsk_entry *xsk_of_tag(struct xpxe_tftp *t, void *tag)
{
	for (int i = 0; i < MAX_IFACES; i++) {
		struct iface *ifc = &t->ifaces[i];

		if (ifc->used && ifc->n_xsks && (struct xsk_entry *)tag >= ifc->xsks &&
		    (struct xsk_entry *)tag < ifc->xsks + ifc->n_xsks)
			return tag;
	}
	return NULL;
}

void xpxe_tftp_process(struct xpxe_tftp *t)
{
	struct epoll_event evs[64];
	int n = epoll_wait(t->epfd, evs, 64, 0);

	for (int i = 0; i < n; i++) {
		void *tag = evs[i].data.ptr;
		struct xsk_entry *e;

		/* An IPv6 transfer's tag has bit 0 set (v6.c): no other tag has. */
		if (evs[i].data.u64 & 1) {
			struct xfer6 *x6 = (struct xfer6 *)(uintptr_t)(evs[i].data.u64 & ~1ull);

			if (!x6->dead)
				tftp6_read_transfer(t, x6);
			tftp_admit_held(t); /* it may have ended, its place free */
		} else if ((e = xsk_of_tag(t, tag))) {
			tftp_read_xsk(t, e);
		} else if (tag == &listen_tag) {
			read_requests(t);
		} else if (tag == &listen6_tag) {
			tftp6_read_requests(t);
		} else if (tag == &pace_tag) {
			tftp_pace_tick(t);
		} else if (tag == &timer_tag) {
			uint64_t ticks;

			if (read(t->timer_fd, &ticks, sizeof(ticks)) > 0)
				sweep(t);
		} else if (!((struct xfer *)tag)->dead) {
			read_transfer(t, tag);
		}
	}
	tftp_free_dead(t);
	publish_queue(t);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* One socket per running transfer: thousands, far past the usual 1024. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int xpxe_tftp_open(struct xpxe_tftp **tp, struct xpxe_assets *assets,
		   const struct xpxe_tftp_opts *opts)
{
	struct itimerspec every_second = { .it_interval.tv_sec = 1, .it_value.tv_sec = 1 };
	struct xpxe_tftp *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return -ENOMEM;
	t->assets = assets;
	t->opts = *opts;
	if (!t->opts.idle_timeout_s)
		t->opts.idle_timeout_s = XPXE_TFTP_IDLE_TIMEOUT_DEFAULT;
	if (!t->opts.windowsize_max)
		t->opts.windowsize_max = XPXE_TFTP_WINDOWSIZE_DEFAULT_MAX;
	if (!t->opts.max_sessions)
		t->opts.max_sessions = XPXE_TFTP_MAX_SESSIONS_DEFAULT;
	if (!t->opts.max_per_ip)
		t->opts.max_per_ip = XPXE_TFTP_MAX_PER_IP_DEFAULT;
	if (!t->opts.port_low || t->opts.port_high < t->opts.port_low ||
	    t->opts.port_high - t->opts.port_low >= XPXE_TFTP_PORTS_MAX) {
		t->opts.port_low = XPXE_TFTP_PORT_LOW_DEFAULT;
		t->opts.port_high = XPXE_TFTP_PORT_HIGH_DEFAULT;
	}
	t->listen_fd = t->listen6_fd = t->timer_fd = t->pace_fd = -1;
	t->ncpus = libbpf_num_possible_cpus();
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	t->pace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->ncpus <= 0 || t->epfd < 0 || t->timer_fd < 0 || t->pace_fd < 0 ||
	    timerfd_settime(t->timer_fd, 0, &every_second, NULL)) {
		err = t->ncpus <= 0 ? -EINVAL : -errno;
		xpxe_tftp_close(t);
		return err;
	}
	err = tftp_watch(t, t->timer_fd, &timer_tag);
	if (!err)
		err = tftp_watch(t, t->pace_fd, &pace_tag);
	if (err) {
		xpxe_tftp_close(t);
		return err;
	}
	raise_fd_limit();
	publish_queue(t);
	*tp = t;
	return 0;
}

/*
 * Takes over the transfers a previous daemon left running in IFC's map. One whose entry is not
 * at its port's index in this daemon's range (the range changed) is dropped: the programs,
 * loaded with the new range, never find it again.
 */
static void adopt_sessions(struct xpxe_tftp *t, struct iface *ifc)
{
	static const struct xpxe_tftp_entry none;
	unsigned adopted = 0, dropped = 0;

	for (__u32 idx = 0; idx < XPXE_TFTP_PORTS_MAX; idx++) {
		struct xpxe_tftp_entry e;
		struct xpxe_tftp_session s;
		struct xpxe_tftp_key key;
		struct xfer *x;

		if (bpf_map_lookup_elem(ifc->sessions_fd, &idx, &e) || !e.key.client_ip)
			continue;
		key = e.key;
		s = e.s;
		if (xpxe_tftp_port_index(ntohs(key.server_port), ifc->port_low) != (int)idx ||
		    ntohs(key.server_port) > t->opts.port_high) {
			bpf_map_update_elem(ifc->sessions_fd, &idx, &none, BPF_ANY);
			dropped += s.state == XPXE_TFTP_ACTIVE;
			continue;
		}
		if (s.state != XPXE_TFTP_ACTIVE) {
			/* ended meanwhile */
			bpf_map_update_elem(ifc->sessions_fd, &idx, &none, BPF_ANY);
			continue;
		}
		x = new_xfer(t, ifc, &key);
		if (!x)
			break;
		x->adopted = true;
		confirm(t, x); /* its first answer is not known here: treated as acknowledged */
		/* It runs: it holds a place of opts.max_at_once as one started here would. */
		tftp_place_take(t, &x->counted);
		x->slot = s.asset_slot;
		x->size = s.size;
		x->blksize = s.blksize;
		x->windowsize = s.windowsize;
		x->last_block = s.last_block;
		x->retransmits = x->window_retransmits = s.retransmits;
		x->path = s.windowsize > 1 ? XPXE_TFTP_PATH_AF_XDP : XPXE_TFTP_PATH_XDP;
		if (memcmp(s.client_mac, (uint8_t[6]){ 0 }, 6))
			mac_str(x->mac, s.client_mac);
		snprintf(x->name, sizeof(x->name), "(slot %u, from a previous daemon)",
			 s.asset_slot);
		xpxe_assets_hold_orphan(t->assets, s.asset_slot);
		/* Reserve its port again, so the kernel gives it to no one else. */
		x->fd = udp_socket(INADDR_ANY, key.server_port);
		if (x->fd >= 0 && tftp_watch(t, x->fd, x)) {
			close(x->fd);
			x->fd = -1;
		}
		tftp_hold_port(t, key.server_port);
		x->port_held = true;
		adopted++;
	}
	if (adopted)
		log_info("%s: took over %u TFTP transfer(s) a previous xpxe left running",
			 ifc->ifname, adopted);
	if (dropped)
		log_warn(
		    "%s: dropped %u TFTP transfer(s) a previous xpxe left running on ports "
		    "outside this daemon's range (--tftp-port-range changed): they start again",
		    ifc->ifname, dropped);
}

/*
 * Windows need the daemon's AF_XDP sockets, one per RX queue: without all of
 * them, windowsize is not offered here (every transfer goes lockstep, served
 * by XDP or tc), and IFC->no_window says why.
 */
int xpxe_tftp_add_iface(struct xpxe_tftp *t, const char *ifname, int ifindex, int sessions_fd,
			int sessions6_fd, int counters_fd, int xskmap_fd, int rrq_macs_fd)
{
	__u64 totals[XPXE_CNT_MAX];
	struct iface *ifc = NULL;

	for (int i = 0; i < MAX_IFACES && !ifc; i++)
		if (!t->ifaces[i].used)
			ifc = &t->ifaces[i];
	if (!ifc)
		return -ENOSPC;
	memset(ifc, 0, sizeof(*ifc));
	ifc->used = true;
	snprintf(ifc->ifname, sizeof(ifc->ifname), "%s", ifname);
	ifc->ifindex = ifindex;
	ifc->sessions_fd = sessions_fd;
	ifc->sessions6_fd = sessions6_fd;
	ifc->port_low = t->opts.port_low;
	tftp6_forget_sessions(ifc);
	ifc->counters_fd = counters_fd;
	ifc->xskmap_fd = xskmap_fd;
	ifc->rrq_macs_fd = rrq_macs_fd;
	ifc->blksize_max = xpxe_tftp_blksize_for_mtu(xpxe_netif_mtu(ifname));
	ifc->windowsize_max = 1;
	/* Counters a previous daemon wrote (pinned map): carry on from them. */
	if (!xpxe_counters_read(counters_fd, totals)) {
		for (int c = 0; c < XPXE_CNT_MAX; c++)
			if (tftp_daemon_counter(c))
				ifc->own[c] = totals[c];
		ifc->lockstep_tc = totals[XPXE_CNT_TFTP_ACK_TO_TC] > 0;
	}
	adopt_sessions(t, ifc);
	tftp_open_xsks(t, ifc);
	if (ifc->n_xsks)
		log_info("%s: TFTP windows up to %u blocks, sent through %u AF_XDP socket(s) "
			 "(%s mode)",
			 ifname, ifc->windowsize_max, ifc->n_xsks,
			 xpxe_xsk_zerocopy(ifc->xsks[0].xsk) ? "zero-copy" : "copy");
	return 0;
}

void xpxe_tftp_remove_iface(struct xpxe_tftp *t, int ifindex)
{
	struct iface *ifc = tftp_find_iface(t, ifindex);

	if (!ifc)
		return;
	for (int b = 0; b < N_BUCKETS; b++) {
		struct xfer *x = t->buckets[b], *next;

		for (; x; x = next) {
			next = x->next;
			if (x->ifc == ifc)
				finish(t, x, false);
		}
	}
	drop_held(t, ifindex);
	tftp6_remove_iface(t, ifc);
	tftp_close_xsks(t, ifc);
	ifc->used = false;
}

int xpxe_tftp_listen(struct xpxe_tftp *t)
{
	int one = 1, rcvbuf = 4 << 20, err;

	t->listen_fd = udp_socket(INADDR_ANY, htons(XPXE_PORT_TFTP));
	if (t->listen_fd < 0) {
		err = t->listen_fd;
		t->listen_fd = -1;
		log_error("cannot bind UDP port %d for TFTP: %s%s", XPXE_PORT_TFTP, strerror(-err),
			  err == -EADDRINUSE ? " (another TFTP server runs in this network "
					       "namespace: stop it)"
					     : "");
		return err;
	}
	/* A boot storm sends a burst of RRQs: room for them while one is answered. */
	setsockopt(t->listen_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(t->listen_fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)))
		return -errno;
	err = tftp_watch(t, t->listen_fd, &listen_tag);
	if (!err)
		err = tftp6_listen(t);
	if (!err && t->listen6_fd >= 0)
		err = tftp_watch(t, t->listen6_fd, &listen6_tag);
	return err;
}

int xpxe_tftp_fd(const struct xpxe_tftp *t)
{
	return t->epfd;
}

unsigned xpxe_tftp_transfers(const struct xpxe_tftp *t, int ifindex)
{
	for (int i = 0; i < MAX_IFACES; i++)
		if (t->ifaces[i].used && t->ifaces[i].ifindex == ifindex)
			return t->ifaces[i].transfers;
	return 0;
}

void xpxe_tftp_flush_counters(struct xpxe_tftp *t)
{
	for (int i = 0; i < MAX_IFACES; i++)
		if (t->ifaces[i].used)
			flush_tallies(t, &t->ifaces[i]);
}

void xpxe_tftp_close(struct xpxe_tftp *t)
{
	if (!t)
		return;
	for (int i = 0; i < MAX_IFACES; i++)
		if (t->ifaces[i].used)
			tftp_close_xsks(t, &t->ifaces[i]);
	for (int b = 0; b < N_BUCKETS; b++) {
		struct xfer *x = t->buckets[b], *next;

		for (; x; x = next) {
			next = x->next;
			if (x->fd >= 0)
				close(x->fd);
			free(x);
		}
		for (struct ip_count *c = t->per_ip[b], *next; c; c = next) {
			next = c->next;
			free(c);
		}
	}
	drop_held(t, 0);
	tftp6_close(t);
	tftp_free_dead(t);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	if (t->timer_fd >= 0)
		close(t->timer_fd);
	if (t->pace_fd >= 0)
		close(t->pace_fd);
	if (t->epfd >= 0)
		close(t->epfd);
	free(t);
}
