// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TFTP over IPv6. Lockstep transfers are installed in tftp_sessions6 (the session IPv4 uses,
 * under an IPv6 key): after the daemon's first answer (OACK or DATA 1) tc_tftp answers each
 * ACK with the next block (bpf/tftp6.h), and the sweep follows the session (sync6); an ACK tc
 * passed up to the transfer's socket makes the daemon take the transfer over (take_over6).
 * Windows (RFC 7440) go as IPv4's where the interface has AF_XDP sockets: installed the same
 * way, xdp_tftp6 decides each window and redirects its ACK to AF_XDP, whose frames window.c
 * builds (one frame builder for both families, proto.c). Elsewhere, and once an ACK of a
 * window comes past XDP to the transfer's socket (no AF_XDP socket on its queue: counted
 * tftp_ack_to_daemon), the daemon keeps their state itself and its own UDP socket sends every
 * block, the kernel's UDP stack building the frames and their checksums.
 * The XDP program passes IPv6 requests up. Requests get what IPv4's get: the same parser
 * (proto.c: hostile names, modes, options), the same assets, limits (--tftp-max-sessions
 * counts both families, --tftp-max-per-ip each address), idle timeout, counters and events.
 * Called by tftp.c; calls iface.c only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "assets.h"
#include "boot/boot.h"
#include "events.h"
#include "log.h"
#include "tftp/internal.h"
#include "tftp/proto.h"

/* Requests handled per wake-up, as IPv4's. */
#define RRQ6_BATCH 256
/* A block unacknowledged this long is sent again (from the sweep; a repeated ACK sooner). */
#define RESEND_NS (1000ull * 1000 * 1000)
/*
 * A repeated ACK this soon after the blocks it asks for went out is a late copy, not a loss:
 * answering it would double every block after it (the Sorcerer's Apprentice, RFC 1123 4.2.3.1).
 */
#define DUP_ACK_NS (200ull * 1000 * 1000)
/* An ended transfer stays this long, so its late ACKs are dropped rather than refused. */
#define ENDED6_GRACE_S 2
/* An RRQ identical to the running transfer's this soon after our last block: a copy. */
#define RRQ6_COPY_NS (1000ull * 1000 * 1000)

static double now6_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* epoll tags of IPv6 transfers carry bit 0 (see xpxe_tftp_process): pointers are aligned. */
static int watch6(struct xpxe_tftp *t, int fd, struct xfer6 *x)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uintptr_t)x | 1 };

	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void who6(char *buf, size_t len, const struct sockaddr_in6 *sa)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &sa->sin6_addr, a, sizeof(a));
	snprintf(buf, len, "[%s]:%u", a, ntohs(sa->sin6_port));
}

/*
 * The path of X's blocks: the daemon's socket for the windows it serves, AF_XDP for the
 * windows XDP redirects; for lockstep transfers the programs that sent them, as the session
 * records (paths, read by sync6): XDP (xdp_tftp6), tc, or both (xdp/tc: XDP where it had room
 * to grow the ACK, tc where not); tc before any block.
 */
static int path6(const struct xfer6 *x)
{
	const unsigned xdp = 1u << XPXE_TFTP_PATH_XDP, tc = 1u << XPXE_TFTP_PATH_TC;

	if (x->paced)
		return XPXE_TFTP_PATH_PACED;
	if (!x->kernel)
		return XPXE_TFTP_PATH_UDP;
	if (x->windowsize > 1)
		return XPXE_TFTP_PATH_AF_XDP;
	if ((x->paths & (xdp | tc)) == (xdp | tc))
		return XPXE_TFTP_PATH_LOCKSTEP;
	return x->paths & xdp ? XPXE_TFTP_PATH_XDP : XPXE_TFTP_PATH_TC;
}

static void report6(int type, const struct xfer6 *x, const char *why, int error)
{
	char ip[INET6_ADDRSTRLEN], taken[48];
	__u64 done = (__u64)x->acked * x->blksize, end;

	/*
	 * From the RRQ to the end (tftp_seconds: never 0). tc's transfers end at the last block
	 * tc sent (the session keeps no ACK's moment; the sweep sees the end later); the
	 * socket's at their final ACK, now, or, when it never came (final_ack=not_seen: the
	 * sweep ends it done with the final block unacknowledged), at the final block's first
	 * send: its resends time the daemon's wait, not the transfer, as IPv4's (tftp.c).
	 */
	if (x->kernel)
		end = x->ended ? x->last_tx_ns : tftp_now_ns();
	else if (type == XPXE_EV_TFTP_DONE && x->acked < x->final_block && x->final_tx_ns)
		end = x->final_tx_ns;
	else
		end = tftp_now_ns();
	inet_ntop(AF_INET6, &x->peer.sin6_addr, ip, sizeof(ip));
	/* The end of a transfer the daemon took over from tc says so (tftp6_takeover). */
	if (!why && x->taken_over_at && type == XPXE_EV_TFTP_DONE) {
		snprintf(taken, sizeof(taken), "taken over from tc at block %u", x->taken_over_at);
		why = taken;
	}
	xpxe_event_tftp(type, &(struct xpxe_tftp_report){
				  .mac = "",
				  .ip = ip,
				  .iface = x->ifc->ifname,
				  .file = x->name,
				  .path = path6(x),
				  .size = x->size,
				  .done = done < x->size ? done : x->size,
				  .blksize = x->blksize,
				  .windowsize = x->windowsize,
				  .retransmits = x->retransmits,
				  .block = x->acked,
				  .final_block = x->final_block,
				  /* to END, above */
				  .seconds = tftp_seconds(x->started_ns, end),
				  .error = error,
				  .why = why,
			      });
}

/* Answers from port 69, from the address the request was sent to (PI). */
static void send_from_69_v6(struct xpxe_tftp *t, const void *buf, size_t len,
			    const struct sockaddr_in6 *to, const struct in6_pktinfo *pi)
{
	char control[CMSG_SPACE(sizeof(struct in6_pktinfo))] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = (void *)to,
		.msg_namelen = sizeof(*to),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(*pi));
	memcpy(CMSG_DATA(cm), pi, sizeof(*pi));
	if (sendmsg(t->listen6_fd, &msg, 0) < 0)
		log_debug("TFTP: sendmsg (IPv6): %s", strerror(errno));
}

/* As tftp.c's refuse(), for IPv6: an event, the ERROR from port 69, its counter. */
static void refuse6(struct xpxe_tftp *t, struct iface *ifc, const struct xpxe_tftp_refusal *why,
		    const char *what, const char *file, const struct sockaddr_in6 *from,
		    const struct in6_pktinfo *pi)
{
	uint8_t pkt[XPXE_TFTP_REPLY_MAX];
	char who[INET6_ADDRSTRLEN + 8], ip[INET6_ADDRSTRLEN], detail[320];

	who6(who, sizeof(who), from);
	if (why->code < 0) {
		log_debug("TFTP %s: %s: %s", who, what, why->message);
		return;
	}
	inet_ntop(AF_INET6, &from->sin6_addr, ip, sizeof(ip));
	snprintf(detail, sizeof(detail), "%s: ERROR %d (%s) from port 69 to %s", what, why->code,
		 why->message, who);
	xpxe_event_tftp(
	    XPXE_EV_TFTP_ERROR,
	    &(struct xpxe_tftp_report){ .mac = "",
					.ip = ip,
					.iface = ifc ? ifc->ifname : NULL,
					.path = -1,
					.error = why->code,
					.why = detail,
					.expected = file && why->code == XPXE_TFTP_ERR_NOT_FOUND &&
						    xpxe_boot_optional_file(file) });
	send_from_69_v6(t, pkt, xpxe_tftp_error_packet(pkt, why->code, why->message), from, pi);
	if (ifc && tftp_error_counter(why->code) != XPXE_CNT_MAX)
		tftp_bump(t, ifc, tftp_error_counter(why->code));
}

/*
 * Follows the session of X, a transfer tc serves: what was acknowledged and sent, when the
 * last block left. Returns the session's state, or -1 when it left the map (evicted).
 */
static int sync6(struct xfer6 *x)
{
	struct xpxe_tftp_session s;

	if (!x->kernel)
		return XPXE_TFTP_ACTIVE;
	if (bpf_map_lookup_elem(x->ifc->sessions6_fd, &x->key, &s))
		return -1;
	if (s.last_block != x->sent || s.win_base != x->acked) {
		x->progress = now6_s();
		x->confirmed = true; /* a program moved it on: the client acknowledged */
	}
	x->acked = s.state == XPXE_TFTP_DONE ? s.last_block : s.win_base;
	x->sent = s.last_block;
	x->retransmits = x->repeats = s.retransmits;
	x->last_tx_ns = s.last_tx_ns;
	x->paths = s.paths;
	return s.state;
}

/*
 * Installs X, a transfer whose first answer is about to leave from FD, in tftp_sessions6
 * (before it leaves: the first ACK may come back at once): lockstep, or windowed where AF_XDP
 * sends the windows. False when it cannot be: the daemon's socket serves it then.
 */
static bool install6(struct xpxe_tftp *t, struct xfer6 *x, int fd)
{
	struct sockaddr_in6 sa;
	socklen_t sa_len = sizeof(sa);
	struct xpxe_tftp_session s;

	if (x->ifc->sessions6_fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &sa_len))
		return false;
	tftp_new_session(t, &s);
	s.size = (__u32)x->size;
	s.asset_slot = x->slot;
	s.blksize = x->blksize;
	s.windowsize = x->windowsize;
	s.final_block = x->final_block;
	s.last_block = x->first_len ? 0 : 1; /* the OACK (block 0) or DATA 1 */
	s.state = XPXE_TFTP_ACTIVE;
	s.last_tx_ns = tftp_now_ns();
	memcpy(x->key.client_ip, &x->peer.sin6_addr, sizeof(x->key.client_ip));
	x->key.client_port = x->peer.sin6_port;
	x->key.server_port = sa.sin6_port;
	/* A stale entry of this very key is replaced: see tftp_new_session. */
	if (bpf_map_update_elem(x->ifc->sessions6_fd, &x->key, &s, BPF_ANY)) {
		log_debug("TFTP %s: cannot install the transfer for tc: %s", x->who,
			  strerror(errno));
		return false;
	}
	return true;
}

/* A restarted daemon has lost its IPv6 transfers: their sessions go with them. */
void tftp6_forget_sessions(struct iface *ifc)
{
	struct xpxe_tftp_key6 key;

	while (ifc->sessions6_fd >= 0 && !bpf_map_get_next_key(ifc->sessions6_fd, NULL, &key))
		if (bpf_map_delete_elem(ifc->sessions6_fd, &key))
			break;
}

/*
 * Sends X's blocks FIRST to the end of the window after its last acknowledged block (or to
 * its final block), from its socket. RESENT: they went out before.
 */
static void send_blocks(struct xpxe_tftp *t, struct xfer6 *x, uint32_t first, bool resent)
{
	static uint8_t buf[4 + XPXE_TFTP_BLKSIZE_MAX];
	const struct xpxe_tftp_chunk *chunks;
	uint32_t n_chunks, sum, last = x->acked + x->windowsize;
	__u64 bytes = 0, n = 0;

	if (last > x->final_block)
		last = x->final_block;
	chunks = xpxe_assets_chunks(t->assets, x->slot, &n_chunks);
	if (!chunks)
		return;
	for (uint32_t b = first; b <= last; b++) {
		size_t len =
		    xpxe_tftp_data_payload(buf, chunks, n_chunks, x->size, x->blksize, b, &sum);

		if (!len)
			break;
		if (sendto(x->fd, buf, len, 0, (struct sockaddr *)&x->peer, sizeof(x->peer)) < 0) {
			log_debug("TFTP %s: sendto: %s", x->who, strerror(errno));
			break;
		}
		bytes += len - 4;
		n++;
		if (b > x->sent)
			x->sent = b;
	}
	x->last_tx_ns = tftp_now_ns();
	if (x->sent >= x->final_block && !x->final_tx_ns)
		x->final_tx_ns = x->last_tx_ns;
	tftp_tally(x->ifc, XPXE_CNT_TFTP6_DATA, n);
	tftp_tally(x->ifc, XPXE_CNT_TFTP_BYTES_DAEMON, bytes);
	if (resent) {
		tftp_tally(x->ifc, XPXE_CNT_TFTP6_RETRANSMITS, n);
		x->retransmits += n;
	}
	if (x->windowsize > 1) {
		tftp_tally(x->ifc, XPXE_CNT_TFTP_WINDOWS, 1);
		/* As IPv4's windows that no AF_XDP socket sent (window.c). */
		tftp_tally(x->ifc, XPXE_CNT_TFTP_DATA_WINDOW_UDP, n);
	}
}

static void end6(struct xpxe_tftp *t, struct xfer6 *x, int type, const char *why, int error)
{
	if (x->ended)
		return;
	sync6(x);
	x->gave_up = false; /* ended: its place is free, and no late ACK takes one again */
	tftp_place_give(t, &x->counted);
	x->ended = true;
	x->ended_at = now6_s();
	/* Late ACKs then reach the socket, which drops them (ended). */
	if (x->kernel && bpf_map_delete_elem(x->ifc->sessions6_fd, &x->key) && errno != ENOENT)
		log_debug("TFTP %s: cannot delete its session: %s", x->who, strerror(errno));
	report6(type, x, why, error);
	if (x->paced) {
		x->paced = false;
		tftp_pace_count(t, false);
	}
}

static void free6(struct xpxe_tftp *t, struct xfer6 *x)
{
	struct xfer6 **pp = &t->xfers6;

	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	if (x->kernel && !x->ended)
		bpf_map_delete_elem(x->ifc->sessions6_fd, &x->key);
	tftp_place_give(t, &x->counted);
	if (x->paced) {
		x->paced = false;
		tftp_pace_count(t, false);
	}
	if (x->fd >= 0) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, x->fd, NULL);
		close(x->fd);
	}
	tftp_free_port(t, x->port);
	x->port = 0;
	xpxe_assets_put(t->assets, x->slot);
	x->ifc->transfers--;
	t->n_xfers6--;
	x->fd = -1;
	x->dead = true;
	x->next = t->dead6;
	t->dead6 = x;
}

static struct xfer6 *find6(struct xpxe_tftp *t, const struct sockaddr_in6 *from)
{
	for (struct xfer6 *x = t->xfers6; x; x = x->next)
		if (x->peer.sin6_port == from->sin6_port &&
		    !memcmp(&x->peer.sin6_addr, &from->sin6_addr, sizeof(from->sin6_addr)))
			return x;
	return NULL;
}

static unsigned from_address(struct xpxe_tftp *t, const struct in6_addr *a)
{
	unsigned n = 0;

	for (struct xfer6 *x = t->xfers6; x; x = x->next)
		n += !x->ended && !memcmp(&x->peer.sin6_addr, a, sizeof(*a));
	return n;
}

/* The largest block an IPv6 frame carries on IFC: IPv6's header is 20 bytes longer. */
static unsigned blksize6(const struct iface *ifc)
{
	return ifc->blksize_max > 20 + 512 ? ifc->blksize_max - 20 : 512;
}

static void start6(struct xpxe_tftp *t, struct iface *ifc, const struct xpxe_tftp_request *req,
		   struct xpxe_asset *as, const struct sockaddr_in6 *from,
		   const struct in6_pktinfo *pi, uint64_t hash, size_t rrq_len, bool paced)
{
	struct xpxe_tftp_refusal why = { .code = XPXE_TFTP_ERR_UNDEFINED };
	struct sockaddr_in6 local = { .sin6_family = AF_INET6, .sin6_addr = pi->ipi6_addr };
	struct xpxe_tftp_plan plan;
	struct xfer6 *x;
	int fd, port;

	/* A link-local request is answered from the link it came on. */
	if (IN6_IS_ADDR_LINKLOCAL(&local.sin6_addr))
		local.sin6_scope_id = pi->ipi6_ifindex;
	xpxe_tftp_negotiate(req, as->size, blksize6(ifc), t->opts.windowsize_max, &plan);
	/* A port of the range (--tftp-port-range), as IPv4's: one port, one transfer. */
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	port = fd < 0 ? -errno
		      : tftp_bind_port(t, fd, (struct sockaddr *)&local, sizeof(local),
				       &local.sin6_port);
	if (port < 0) {
		snprintf(why.message, sizeof(why.message), "out of ports: %s", strerror(-port));
		if (fd >= 0)
			close(fd);
		refuse6(t, ifc, &why, "RRQ", NULL, from, pi);
		return;
	}
	x = calloc(1, sizeof(*x));
	if (!x || watch6(t, fd, x)) {
		free(x);
		close(fd);
		tftp_free_port(t, local.sin6_port);
		return;
	}
	x->port = local.sin6_port;
	x->ifc = ifc;
	x->peer = *from;
	x->fd = fd;
	x->slot = as->slot;
	x->size = as->size;
	x->blksize = plan.blksize;
	x->windowsize = plan.windowsize;
	x->final_block = (uint32_t)xpxe_tftp_blocks(as->size, plan.blksize);
	x->idle_s = t->opts.idle_timeout_s;
	if (plan.timeout_s && plan.timeout_s * 3 > x->idle_s)
		x->idle_s = plan.timeout_s * 3;
	x->timeout_s = plan.timeout_s;
	x->started_ns = x->last_tx_ns = tftp_now_ns();
	x->progress = now6_s();
	x->rrq_hash = hash;
	x->rrq_len = rrq_len;
	snprintf(x->name, sizeof(x->name), "%s", as->name);
	who6(x->who, sizeof(x->who), from);
	xpxe_assets_get(t->assets, as->slot);
	x->next = t->xfers6;
	t->xfers6 = x;
	t->n_xfers6++;
	ifc->transfers++;
	/* It runs: a place of opts.max_at_once, as IPv4's; or paced, as theirs. */
	x->paced = paced;
	if (paced)
		tftp_pace_count(t, true);
	else
		tftp_place_take(t, &x->counted);
	if (plan.oack_len) {
		memcpy(x->first, plan.oack, plan.oack_len);
		x->first_len = plan.oack_len;
	}
	/* Windows to the data plane where AF_XDP sockets send them (xdp_tftp6 redirects there). */
	if (!paced && (!plan.oack_len || plan.windowsize <= 1 || ifc->n_xsks))
		x->kernel = install6(t, x, fd);
	if (plan.oack_len) {
		if (sendto(fd, x->first, x->first_len, 0, (struct sockaddr *)&x->peer,
			   sizeof(x->peer)) < 0)
			log_debug("TFTP %s: sendto: %s", x->who, strerror(errno));
	} else {
		/* No option: DATA 1 answers, lockstep. */
		x->windowsize = 1;
		send_blocks(t, x, 1, false);
		tftp_bump(t, ifc, XPXE_CNT_TFTP_DATA_DAEMON);
	}
	tftp_bump(t, ifc, XPXE_CNT_TFTP_RRQ);
	tftp_bump(t, ifc, XPXE_CNT_TFTP6_RRQ);
	tftp_bump(t, ifc, XPXE_CNT_TFTP_SESSIONS_OPENED);
	report6(XPXE_EV_TFTP_START, x, NULL, 0);
	log_debug("TFTP %s: RRQ %s (%llu bytes) over IPv6, blksize %u, windowsize %u%s%s", x->who,
		  as->name, (unsigned long long)as->size, plan.blksize, plan.windowsize,
		  plan.oack_len ? ", OACK" : "",
		  paced		      ? ", paced"
		  : !x->kernel	      ? ""
		  : x->windowsize > 1 ? ", windows through AF_XDP"
				      : ", blocks from the data plane");
}

void tftp6_handle(struct xpxe_tftp *t, const uint8_t *buf, size_t len,
		  const struct sockaddr_in6 *from, const struct in6_pktinfo *pi, bool its_turn)
{
	struct iface *ifc = tftp_find_iface(t, pi->ipi6_ifindex);
	struct xpxe_tftp_refusal why;
	struct xpxe_tftp_request req;
	struct xpxe_asset *as;
	struct xfer6 *x;
	char what[128];
	bool rrq = len >= 2 && buf[0] == 0 && buf[1] == XPXE_TFTP_RRQ;
	uint64_t hash = tftp_rrq_hash(buf, len);
	unsigned long long cp_over;
	bool paced;

	if (!from->sin6_port || IN6_IS_ADDR_UNSPECIFIED(&from->sin6_addr) ||
	    IN6_IS_ADDR_MULTICAST(&from->sin6_addr))
		return;
	tftp_describe_request(what, sizeof(what), buf, len);
	if (!ifc) {
		why.code = XPXE_TFTP_ERR_UNDEFINED;
		snprintf(why.message, sizeof(why.message),
			 "TFTP is served only on the interfaces xpxe serves");
		refuse6(t, NULL, &why, what, NULL, from, pi);
		return;
	}
	x = rrq ? find6(t, from) : NULL;
	if (x)
		sync6(x);
	if (x && !x->ended && x->rrq_len == len && x->rrq_hash == hash &&
	    (!x->confirmed || tftp_now_ns() - x->last_tx_ns < RRQ6_COPY_NS)) {
		/* A copy of the running transfer's RRQ: its answer again, if not acknowledged. */
		tftp_bump(t, ifc, XPXE_CNT_TFTP_RRQ_REPEATED);
		if (!x->confirmed && x->first_len)
			sendto(x->fd, x->first, x->first_len, 0, (struct sockaddr *)&x->peer,
			       sizeof(x->peer));
		else if (!x->confirmed)
			send_blocks(t, x, 1, true);
		return;
	}
	if (xpxe_tftp_parse_request(buf, len, &req, &why)) {
		refuse6(t, ifc, &why, what, NULL, from, pi);
		return;
	}
	as = xpxe_assets_find(t->assets, req.name);
	if (!as) {
		why.code = XPXE_TFTP_ERR_NOT_FOUND;
		snprintf(why.message, sizeof(why.message), "file not found");
		refuse6(t, ifc, &why, what, req.name, from, pi);
		return;
	}
	if (x) {
		/* A new request from the port of a transfer: the client started over. */
		if (!x->ended) {
			end6(t, x, XPXE_EV_TFTP_EXPIRED,
			     "a new read request from its address and port replaced it", 0);
			tftp_bump(t, ifc, XPXE_CNT_TFTP_SESSIONS_REPLACED);
		}
		free6(t, x);
	}
	/* Held as IPv4's are, in the same queue: its transfer would take a place as theirs do. */
	cp_over = t->cp_over;
	if (!its_turn &&
	    tftp_hold(t, ifc, buf, len,
		      &(struct tftp_src){ .family = AF_INET6, .from6 = *from, .pi6 = *pi },
		      req.name))
		return;
	/* Let in over the cap (as IPv4's: tftp.c's handle_request), a control plane's not. */
	paced = t->opts.pace_ms && t->opts.max_at_once &&
		(t->n_active >= t->opts.max_at_once || tftp_http_fed(t)) && t->cp_over == cp_over;
	if (from_address(t, &from->sin6_addr) >= t->opts.max_per_ip) {
		why.code = XPXE_TFTP_ERR_UNDEFINED;
		snprintf(why.message, sizeof(why.message),
			 "too many transfers from your address, try again later");
		uint8_t pkt[XPXE_TFTP_REPLY_MAX];

		tftp_bump(t, ifc, XPXE_CNT_TFTP_SESSIONS_REFUSED_PER_IP);
		t->refused_per_ip_recently++;
		send_from_69_v6(t, pkt, xpxe_tftp_error_packet(pkt, why.code, why.message), from,
				pi);
		return;
	}
	/* The cap holds for both families together, and so does making room under it. */
	if (!tftp_make_room(t)) {
		static const char busy[] = "server busy: too many transfers, try again later";
		uint8_t pkt[XPXE_TFTP_REPLY_MAX];

		send_from_69_v6(t, pkt, xpxe_tftp_error_packet(pkt, XPXE_TFTP_ERR_UNDEFINED, busy),
				from, pi);
		tftp_bump(t, ifc, XPXE_CNT_TFTP_SESSIONS_REFUSED);
		t->refused_recently++;
		return;
	}
	start6(t, ifc, &req, as, from, pi, hash, len, paced);
	tftp_let_in(t, &(struct tftp_src){ .family = AF_INET6, .from6 = *from, .pi6 = *pi },
		    req.name);
}

void tftp6_read_requests(struct xpxe_tftp *t)
{
	for (int i = 0; i < RRQ6_BATCH; i++) {
		uint8_t buf[2048];
		char control[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct sockaddr_in6 from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control,
			.msg_controllen = sizeof(control),
		};
		struct in6_pktinfo pi;
		bool have = false;
		ssize_t n = recvmsg(t->listen6_fd, &msg, 0);

		/* All read: the held requests overdue by now go in below, not at the sweep. */
		if (n < 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				have = true;
			}
		if (!have)
			continue;
		if (msg.msg_flags & MSG_TRUNC) {
			struct xpxe_tftp_refusal why = { .code = XPXE_TFTP_ERR_ILLEGAL_OP };

			snprintf(why.message, sizeof(why.message), "request too long");
			refuse6(t, tftp_find_iface(t, pi.ipi6_ifindex), &why, "request to port 69",
				NULL, &from, &pi);
			continue;
		}
		tftp6_handle(t, buf, n, &from, &pi, false);
	}
	tftp_admit_held(t);
}

/*
 * X, a transfer tc serves, becomes the socket's: its session leaves tftp_sessions6 (read as
 * it leaves, so no block tc sent before is lost to X's state), and the socket sends the rest
 * as it does windows' blocks. False when the session had already ended or left the map (the
 * sweep follows that).
 */
static bool take_over6(struct xpxe_tftp *t, struct xfer6 *x)
{
	struct xpxe_tftp_session s;
	int err = bpf_map_lookup_and_delete_elem(x->ifc->sessions6_fd, &x->key, &s) ? -errno : 0;

	if (err) {
		/*
		 * Not taken: tc keeps it and the next ACK that comes up tries again; a session
		 * that left the map (evicted) is the sweep's to end, as without an ACK.
		 */
		log_debug("TFTP %s: cannot take the transfer over from tc: %s", x->who,
			  strerror(-err));
		return false;
	}
	x->acked = s.state == XPXE_TFTP_DONE ? s.last_block : s.win_base;
	x->sent = s.last_block;
	x->retransmits = x->repeats = s.retransmits;
	x->last_tx_ns = s.last_tx_ns;
	if (x->sent >= x->final_block && !x->final_tx_ns)
		x->final_tx_ns = s.last_tx_ns; /* tc sent it: its last block, as far as known */
	if (s.state != XPXE_TFTP_ACTIVE) {
		/* Ended in tc between the ACK and now: the end is reported as the sweep would. */
		bool done = s.state == XPXE_TFTP_DONE;

		tftp_bump(t, x->ifc, done ? XPXE_CNT_TFTP6_COMPLETED : XPXE_CNT_TFTP6_ABORTED);
		end6(t, x, done ? XPXE_EV_TFTP_DONE : XPXE_EV_TFTP_ABORTED, NULL, 0);
		return false;
	}
	x->kernel = false;
	/* The ACK that came up is, but for a repeat, of the last block tc sent. */
	x->taken_over_at = s.last_block + 1; /* the first block the socket sends */
	tftp_bump(t, x->ifc, XPXE_CNT_TFTP6_TAKEOVER);
	log_info("TFTP %s: %s: an ACK came past %s: the daemon serves the rest from its socket, "
		 "after block %u of %u",
		 x->who, x->name,
		 x->windowsize > 1 ? "XDP and tc (no AF_XDP socket on its queue, or an IPv6 "
				     "extension header?)"
				   : "tc (an IPv6 extension header?)",
		 x->acked, x->final_block);
	return true;
}

/* The full block number a 16-bit ACK names within X's blocks in flight, or -1. */
static int64_t acked_block(const struct xfer6 *x, uint16_t ack)
{
	/* Blocks roll over at 65535 (RFC 7440 and iPXE count on 16 bits). */
	uint32_t b = (x->acked & ~0xffffu) | ack;

	if (b < x->acked)
		b += 0x10000;
	return b >= x->acked && b <= x->sent ? (int64_t)b : -1;
}

void tftp6_read_transfer(struct xpxe_tftp *t, struct xfer6 *x)
{
	uint8_t buf[2048], pkt[XPXE_TFTP_REPLY_MAX];
	struct sockaddr_in6 from;
	socklen_t from_len = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(x->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len)) >=
	       0) {
		int op = n >= 2 ? buf[0] << 8 | buf[1] : -1;
		int64_t b;

		from_len = sizeof(from);
		if (from.sin6_port != x->peer.sin6_port ||
		    memcmp(&from.sin6_addr, &x->peer.sin6_addr, sizeof(from.sin6_addr))) {
			char who[INET6_ADDRSTRLEN + 8], ip[INET6_ADDRSTRLEN], why[160];

			if (op == XPXE_TFTP_ERROR)
				continue;
			who6(who, sizeof(who), &from);
			inet_ntop(AF_INET6, &from.sin6_addr, ip, sizeof(ip));
			snprintf(why, sizeof(why),
				 "%s sent to the port of a transfer to another client: ERROR 5",
				 who);
			xpxe_event_tftp(XPXE_EV_TFTP_ERROR, &(struct xpxe_tftp_report){
								.ip = ip,
								.iface = x->ifc->ifname,
								.path = -1,
								.error = XPXE_TFTP_ERR_UNKNOWN_TID,
								.why = why });
			sendto(x->fd, pkt,
			       xpxe_tftp_error_packet(pkt, XPXE_TFTP_ERR_UNKNOWN_TID,
						      "unknown transfer ID"),
			       0, (struct sockaddr *)&from, sizeof(from));
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP_ERR_UNKNOWN_TID);
			continue;
		}
		if (x->ended)
			continue; /* a late ACK of an ended transfer */
		if (op == XPXE_TFTP_ERROR) {
			/* The client stopped (a tsize probe does so after the OACK). */
			int code = n >= 4 ? buf[2] << 8 | buf[3] : 0;

			tftp_bump(t, x->ifc, XPXE_CNT_TFTP6_ABORTED);
			end6(t, x, XPXE_EV_TFTP_ABORTED, NULL, code);
			continue;
		}
		/*
		 * A lockstep ACK tc passed up (an extension header, lengths, no room): tc
		 * would pass the client's next try up the same way (a client whose every ACK
		 * carries an extension header stalled here), so the daemon takes the
		 * transfer over and handles this ACK itself.
		 */
		if (x->kernel && op == XPXE_TFTP_ACK && n >= 4 && !take_over6(t, x))
			continue; /* tc had already ended it: take_over6 reported its end */
		if (op != XPXE_TFTP_ACK || n < 4) {
			char why[64];

			snprintf(why, sizeof(why), "opcode %d during the transfer: ERROR 4 sent",
				 op);
			report6(XPXE_EV_TFTP_ERROR, x, why, XPXE_TFTP_ERR_ILLEGAL_OP);
			sendto(x->fd, pkt,
			       xpxe_tftp_error_packet(pkt, XPXE_TFTP_ERR_ILLEGAL_OP,
						      "illegal TFTP operation"),
			       0, (struct sockaddr *)&from, sizeof(from));
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP_ERR_ILLEGAL_OP);
			continue;
		}
		b = acked_block(x, (uint16_t)(buf[2] << 8 | buf[3]));
		if (b < 0)
			continue; /* of no block in flight: stale */
		x->confirmed = true;
		if ((uint32_t)b == x->final_block) {
			x->acked = (uint32_t)b;
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP6_COMPLETED);
			/* the programs counted none of this one's in tftp_sessions_completed */
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP6_COMPLETED_UDP);
			end6(t, x, XPXE_EV_TFTP_DONE, NULL, 0);
			continue;
		}
		if ((uint32_t)b == x->acked && x->sent > x->acked) {
			/* The same ACK again: what followed it was lost, unless this is a copy. */
			if (tftp_now_ns() - x->last_tx_ns >= DUP_ACK_NS && !x->pace_due_ns) {
				x->repeats++;
				if (x->paced)
					x->pace_due_ns =
					    tftp_now_ns() + t->opts.pace_ms * 1000000ull;
				else
					send_blocks(t, x, x->acked + 1, true);
			}
			continue;
		}
		x->acked = (uint32_t)b;
		x->progress = now6_s();
		if (x->paced) {
			/* The next window after the pause (tftp6_pace_tick); a copy waits with it.
			 */
			if (!x->pace_due_ns)
				x->pace_due_ns = tftp_now_ns() + t->opts.pace_ms * 1000000ull;
			continue;
		}
		/*
		 * Lockstep, or the window's last block: the next window. An ACK inside the
		 * window (RFC 7440: a block was lost) starts the next one right after it.
		 */
		send_blocks(t, x, x->acked + 1, x->acked + 1 <= x->sent);
	}
}

void tftp6_sweep(struct xpxe_tftp *t)
{
	double now = now6_s();

	for (struct xfer6 *x = t->xfers6, *next; x; x = next) {
		next = x->next;
		if (x->ended) {
			if (now - x->ended_at >= ENDED6_GRACE_S)
				free6(t, x);
			continue;
		}
		switch (sync6(x)) {
		case XPXE_TFTP_ACTIVE:
			break;
		case XPXE_TFTP_DONE:
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP6_COMPLETED);
			end6(t, x, XPXE_EV_TFTP_DONE, NULL, 0);
			continue;
		case XPXE_TFTP_ABORTED:
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP6_ABORTED);
			end6(t, x, XPXE_EV_TFTP_ABORTED, NULL, 0);
			continue;
		default:
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP_SESSIONS_EXPIRED);
			end6(t, x, XPXE_EV_TFTP_EXPIRED,
			     "the session left the table (too many transfers at once?)", 0);
			free6(t, x);
			continue;
		}
		/* As IPv4's: a place of opts.max_at_once while it runs (tftp_place_sweep). */
		tftp_place_sweep(t, &x->counted, &x->gave_up, x->confirmed, x->started_ns, x->who);
		/* The final block out and the client silent: see struct tftp_final. */
		switch (tftp_final_step(&x->final, x->confirmed,
					x->sent >= x->final_block && x->acked + 1 >= x->final_block,
					x->acked, x->repeats, x->timeout_s, x->idle_s, now)) {
		case TFTP_FINAL_RESEND:
			/* The socket's transfers: the timeout below sends what is in flight. */
			if (x->kernel && x->confirmed)
				send_blocks(t, x, x->final_block, true);
			break;
		case TFTP_FINAL_DONE:
			if (sync6(x) != XPXE_TFTP_ACTIVE)
				break; /* the final ACK came meanwhile: the next sweep ends it */
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP_FINAL_ACK_MISSING);
			end6(t, x, XPXE_EV_TFTP_DONE, "final_ack=not_seen", 0);
			free6(t, x);
			continue;
		case TFTP_FINAL_FAILED: {
			char why[96];

			if (sync6(x) != XPXE_TFTP_ACTIVE)
				break; /* the final ACK came meanwhile: the next sweep ends it */
			snprintf(
			    why, sizeof(why),
			    "the client ACKed block %u again: the final block %u never reached "
			    "it",
			    x->acked, x->final_block);
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP_SESSIONS_EXPIRED);
			end6(t, x, XPXE_EV_TFTP_EXPIRED, why, 0);
			free6(t, x);
			continue;
		}
		case TFTP_FINAL_WAIT:
			break;
		}
		if (!x->final.since && now - x->progress >= x->idle_s) {
			char why[80];

			snprintf(why, sizeof(why), "no ACK for %u s after block %u of %u",
				 x->idle_s, x->acked, x->final_block);
			tftp_bump(t, x->ifc, XPXE_CNT_TFTP_SESSIONS_EXPIRED);
			end6(t, x, XPXE_EV_TFTP_EXPIRED, why, 0);
			free6(t, x);
			continue;
		}
		/* Nothing acknowledged for a while: what is in flight again (our timeout). */
		if (tftp_now_ns() - x->last_tx_ns >= RESEND_NS && !(x->kernel && x->confirmed) &&
		    !x->pace_due_ns) {
			if (x->sent > x->acked)
				send_blocks(t, x, x->acked + 1, true);
			else if (x->first_len)
				sendto(x->fd, x->first, x->first_len, 0,
				       (struct sockaddr *)&x->peer, sizeof(x->peer));
			x->last_tx_ns = tftp_now_ns();
		}
		x->ifc->running++;
	}
}

int tftp6_listen(struct xpxe_tftp *t)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(XPXE_PORT_TFTP) };
	int one = 1, rcvbuf = 4 << 20, err;

	t->listen6_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->listen6_fd < 0) {
		/* A host without IPv6: IPv4 is served all the same. */
		log_info("TFTP: no IPv6 socket (%s): TFTP over IPv4 only", strerror(errno));
		return 0;
	}
	/* IPv6 only: IPv4's requests keep going to the IPv4 socket (IP_PKTINFO there). */
	if (setsockopt(t->listen6_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(t->listen6_fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) ||
	    bind(t->listen6_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		/* IPv4 is served all the same, as before IPv6 was: said, not fatal. */
		err = -errno;
		log_error("cannot bind UDP [::]:%d for TFTP over IPv6: %s%s; TFTP over IPv4 only",
			  XPXE_PORT_TFTP, strerror(-err),
			  err == -EADDRINUSE ? " (another TFTP server runs in this network "
					       "namespace: stop it)"
					     : "");
		close(t->listen6_fd);
		t->listen6_fd = -1;
		return 0;
	}
	setsockopt(t->listen6_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return 0;
}

/*
 * The oldest IPv6 transfer whose client never acknowledged its first answer, GRACE_NS after
 * it, dropped to make room (tftp_make_room): false when there is none.
 */
bool tftp6_drop_unconfirmed(struct xpxe_tftp *t, __u64 grace_ns)
{
	__u64 now = tftp_now_ns();
	struct xfer6 *oldest = NULL;

	for (struct xfer6 *x = t->xfers6; x; x = x->next)
		if (sync6(x) >= 0 && !x->confirmed && !x->ended &&
		    now - x->started_ns >= grace_ns &&
		    (!oldest || x->started_ns < oldest->started_ns))
			oldest = x;
	if (!oldest)
		return false;
	report6(XPXE_EV_TFTP_EXPIRED, oldest,
		"no ACK of its first answer: dropped for a newer request", 0);
	tftp_bump(t, oldest->ifc, XPXE_CNT_TFTP_SESSIONS_UNCONFIRMED);
	t->unconfirmed_dropped_recently++;
	free6(t, oldest);
	return true;
}

void tftp6_pace_tick(struct xpxe_tftp *t)
{
	__u64 now = tftp_now_ns();

	for (struct xfer6 *x = t->xfers6; x; x = x->next)
		if (x->paced && x->pace_due_ns && !x->ended && (__s64)(now - x->pace_due_ns) >= 0) {
			x->pace_due_ns = 0;
			send_blocks(t, x, x->acked + 1, x->acked + 1 <= x->sent);
		}
}

struct xfer6 *tftp6_pace_next(const struct xpxe_tftp *t)
{
	struct xfer6 *oldest = NULL;

	/* The list is newest first: the oldest is the last paced one. */
	for (struct xfer6 *x = t->xfers6; x; x = x->next)
		if (x->paced && !x->ended && !x->dead)
			oldest = x;
	return oldest;
}

/*
 * The oldest paced IPv6 transfer takes a free place: its socket answers each ACK at once from
 * now (it is not handed to tc), and what waits for its pause goes now. False: none waits.
 */
bool tftp6_pace_promote(struct xpxe_tftp *t)
{
	struct xfer6 *x = tftp6_pace_next(t);

	if (!x)
		return false;
	x->paced = false;
	tftp_pace_count(t, false);
	t->promoted_total++;
	tftp_place_take(t, &x->counted);
	if (x->pace_due_ns) {
		x->pace_due_ns = 0;
		send_blocks(t, x, x->acked + 1, x->acked + 1 <= x->sent);
	}
	log_info("tftp: %s of %s, paced, takes a place: its socket sends the rest at once, from "
		 "block %u",
		 x->name, x->who, x->acked + 1);
	return true;
}

void tftp6_remove_iface(struct xpxe_tftp *t, struct iface *ifc)
{
	for (struct xfer6 *x = t->xfers6, *next; x; x = next) {
		next = x->next;
		if (x->ifc == ifc)
			free6(t, x);
	}
}

void tftp6_close(struct xpxe_tftp *t)
{
	for (struct xfer6 *x = t->xfers6, *next; x; x = next) {
		next = x->next;
		if (x->fd >= 0)
			close(x->fd);
		free(x);
	}
	t->xfers6 = NULL;
	if (t->listen6_fd >= 0)
		close(t->listen6_fd);
	t->listen6_fd = -1;
}
