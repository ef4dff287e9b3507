// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Windowed TFTP (RFC 7440) in the daemon. An XDP program answers one frame with one frame, so a
 * window's blocks are built here: into the UMEM frames of the interface's AF_XDP sockets, which
 * XDP redirects a window's ACK to with the window it decided (struct xpxe_tftp_xsk_meta; over
 * IPv4 from xdp_pxe, over IPv6 from xdp_tftp6: the frames are the ACK's family's), or,
 * where no AF_XDP socket took the ACK, through the transfer's own UDP socket. Also the sockets'
 * life: opened per RX queue at start, watched once a second, closed when AF_XDP proves broken.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "assets.h"
#include "log.h"
#include "tftp/internal.h"
#include "tftp/proto.h"
#include "xsk.h"

/* ACKs of windows taken from an AF_XDP socket per wake-up. */
#define XSK_BATCH 64
/* Seconds in a row in which XDP redirected ACKs to AF_XDP and none arrived: AF_XDP is broken. */
#define XSK_STUCK_S 3

/*
 * The ACK of a window that reached the transfer's own socket: XDP found no
 * AF_XDP socket on its queue (none was ever opened there, or AF_XDP broke).
 * tc_tftp decided the window (the same decision as everywhere) and recorded it
 * in the session on the way up; the window the session records is sent from
 * this socket (the kernel's UDP stack builds the frames): slower, but the
 * transfer goes on. The session is only read here: a write of the whole value
 * from userspace would undo whatever the programs wrote to it meanwhile (the
 * client's ERROR, the final ACK, the next window).
 */
void tftp_window_over_udp(struct xpxe_tftp *t, struct xfer *x, uint16_t ack)
{
	enum { BATCH = 64 };
	static uint8_t bufs[BATCH][4 + XPXE_TFTP_BLKSIZE_MAX];
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = x->key.client_ip,
				  .sin_port = x->key.client_port };
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	struct xpxe_tftp_session s;
	const struct xpxe_tftp_chunk *chunks;
	struct iface *ifc = x->ifc;
	uint32_t n_chunks, sum, block;
	__u64 bytes = 0;
	char who[32];

	tftp_addr_str(who, sizeof(who), x->key.client_ip, x->key.client_port);
	if (tftp_session_get(ifc, &x->key, &s)) {
		/* Only when the session left the map under us (the transfer ended). */
		log_debug("TFTP %s: an ACK reached the daemon; its session is gone", who);
		return;
	}
	/* Lockstep ACKs are the programs' to answer: one that reached us came by accident. */
	if (s.state != XPXE_TFTP_ACTIVE || s.windowsize <= 1)
		return;
	/*
	 * tc recorded this ACK's window: it starts right after the ACK. Else a later ACK
	 * was recorded since (its own copy is on the way: that window goes then), or
	 * none (tc dropped this one as a duplicate or stale before it came up).
	 */
	if ((uint16_t)s.win_base != ack || s.last_block <= s.win_base ||
	    s.last_block - s.win_base > XPXE_TFTP_WINDOWSIZE_LIMIT || s.last_block > s.final_block)
		return;
	chunks = xpxe_assets_chunks(t->assets, s.asset_slot, &n_chunks);
	if (!chunks)
		return;
	for (block = s.win_base + 1; block <= s.last_block;) {
		unsigned n = 0;

		for (; n < BATCH && block <= s.last_block; n++, block++) {
			size_t len = xpxe_tftp_data_payload(bufs[n], chunks, n_chunks, s.size,
							    s.blksize, block, &sum);

			if (!len)
				break;
			iov[n] = (struct iovec){ .iov_base = bufs[n], .iov_len = len };
			msgs[n] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to,
								 .msg_namelen = sizeof(to),
								 .msg_iov = &iov[n],
								 .msg_iovlen = 1 } };
			bytes += len - 4;
		}
		if (!n || sendmmsg(x->fd, msgs, n, 0) < 0)
			break;
		tftp_tally(ifc, XPXE_CNT_TFTP_DATA_WINDOW_UDP, n);
	}
	tftp_tally(ifc, XPXE_CNT_TFTP_WINDOWS, 1);
	tftp_tally(ifc, XPXE_CNT_TFTP_BYTES_DAEMON, bytes);
	/* The blocks the window sent again: what the session's count grew by since the last. */
	if (s.restarted) {
		tftp_tally(ifc, XPXE_CNT_TFTP_WINDOW_RESTARTS, 1);
		tftp_tally(ifc, XPXE_CNT_TFTP_WINDOW_RESENT, s.retransmits - x->window_retransmits);
	}
	x->window_retransmits = s.retransmits;
}

/*
 * The ACK of a window that XDP redirected to an AF_XDP socket, with the window
 * it decided in front (struct xpxe_tftp_xsk_meta): its blocks, built straight
 * into the socket's UMEM frames from the asset maps. Sent at the batch's end.
 */
struct xsk_rx {
	struct xpxe_tftp *t;
	struct iface *ifc;
	struct xpxe_xsk *xsk;
};

/*
 * Builds block BLOCK of the window M into the UMEM frame F (XPXE_XSK_FRAME_SIZE bytes) for
 * PEER, with M's VLAN tags after the MACs when the ACK came tagged. Returns its length, 0 on
 * failure.
 */
static size_t window_frame(uint8_t *f, const struct xpxe_tftp_xsk_meta *m,
			   const struct xpxe_tftp_peer *peer, const struct xpxe_tftp_chunk *chunks,
			   uint32_t n_chunks, uint32_t block)
{
	size_t tags = (size_t)m->ntags * 4, flen;

	/* Built after room for the tags, then its MACs move in front of them. */
	flen = xpxe_tftp_data_frame(f + tags, peer, chunks, n_chunks, m->size, m->blksize, block);
	if (!flen || !tags)
		return flen;
	memmove(f, f + tags, 12);
	for (unsigned i = 0; i < m->ntags; i++) {
		memcpy(f + 12 + 4 * i, &m->tpid[i], 2);
		memcpy(f + 14 + 4 * i, &m->tci[i], 2);
	}
	return flen + tags;
}

static void window_over_xsk(void *arg, const uint8_t *frame, uint32_t len, const void *meta_p)
{
	struct xsk_rx *rx = arg;
	struct iface *ifc = rx->ifc;
	struct xpxe_tftp_xsk_meta m;
	struct xpxe_tftp_peer peer;
	const struct xpxe_tftp_chunk *chunks;
	uint32_t n_chunks, block, sent = 0;
	__u64 bytes = 0;

	memcpy(&m, meta_p, sizeof(m));
	if (m.magic != XPXE_TFTP_XSK_MAGIC || !m.first_block || m.last_block < m.first_block ||
	    m.last_block - m.first_block >= XPXE_TFTP_WINDOWSIZE_LIMIT || m.ntags > 2 ||
	    xpxe_tftp_peer_from_frame(frame, len, &peer))
		return;
	chunks = xpxe_assets_chunks(rx->t->assets, m.asset_slot, &n_chunks);
	if (!chunks)
		return;
	for (block = m.first_block; block <= m.last_block; block++) {
		uint8_t *f = xpxe_xsk_tx_frame(rx->xsk);
		size_t flen;

		if (!f) {
			/* Send what is queued: in copy mode that completes frames at once. */
			xpxe_xsk_tx_flush(rx->xsk);
			f = xpxe_xsk_tx_frame(rx->xsk);
		}
		if (!f)
			break;
		flen = window_frame(f, &m, &peer, chunks, n_chunks, block);
		if (!flen)
			break;
		xpxe_xsk_tx_push(rx->xsk, flen);
		sent++;
		bytes += flen - xpxe_tftp_hdrs_len(&peer) - (size_t)m.ntags * 4;
	}
	/* What did not fit comes again at the client's retry: the ACK of what it got. */
	if (block <= m.last_block)
		tftp_tally(ifc, XPXE_CNT_TFTP_XSK_TX_FULL, m.last_block - block + 1);
	tftp_tally(ifc, XPXE_CNT_TFTP_WINDOWS, 1);
	tftp_tally(ifc, XPXE_CNT_TFTP_DATA_XSK, sent);
	if (peer.ipv6)
		tftp_tally(ifc, XPXE_CNT_TFTP6_DATA_XSK, sent);
	tftp_tally(ifc, XPXE_CNT_TFTP_BYTES_XSK, bytes);
	if (m.resent) {
		tftp_tally(ifc, XPXE_CNT_TFTP_WINDOW_RESTARTS, 1);
		tftp_tally(ifc, XPXE_CNT_TFTP_WINDOW_RESENT, m.resent);
	}
}

void tftp_read_xsk(struct xpxe_tftp *t, struct xsk_entry *e)
{
	struct xsk_rx rx = { .t = t, .ifc = e->ifc, .xsk = e->xsk };

	/* A bounded batch: epoll is level-triggered, the rest wakes us again. */
	if (xpxe_xsk_rx(e->xsk, XSK_BATCH, sizeof(struct xpxe_tftp_xsk_meta), window_over_xsk, &rx))
		xpxe_xsk_tx_flush(e->xsk);
}

void tftp_close_xsks(struct xpxe_tftp *t, struct iface *ifc)
{
	for (unsigned q = 0; q < ifc->n_xsks; q++) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, xpxe_xsk_fd(ifc->xsks[q].xsk), NULL);
		xpxe_xsk_close(ifc->xsks[q].xsk);
	}
	ifc->n_xsks = 0;
}

/*
 * Once a second: did the ACKs XDP redirected to AF_XDP arrive? The program
 * cannot see a redirect fail (the kernel drops the frame after it returned).
 * When several seconds in a row saw redirects and no arrival, the kernel
 * refuses AF_XDP on this interface: the sockets are closed, so running windowed
 * transfers go on through their UDP sockets and new ones get windowsize 1.
 */
void tftp_watch_xsk(struct xpxe_tftp *t, struct iface *ifc)
{
	__u64 redirected, received = 0;

	if (!ifc->n_xsks)
		return;
	redirected = tftp_program_counter(t, ifc, XPXE_CNT_TFTP_ACK_TO_XSK);
	for (unsigned q = 0; q < ifc->n_xsks; q++) {
		struct xpxe_xsk_status st;

		xpxe_xsk_status(ifc->xsks[q].xsk, &st);
		received += st.rx_frames;
	}
	if (received != ifc->xsk_received || redirected == ifc->xsk_redirected)
		ifc->xsk_stuck = 0;
	else
		ifc->xsk_stuck++;
	ifc->xsk_redirected = redirected;
	ifc->xsk_received = received;
	if (ifc->xsk_stuck < XSK_STUCK_S)
		return;
	log_error("%s: XDP redirected ACKs of windowed TFTP transfers to AF_XDP for %d s and none "
		  "arrived: AF_XDP does not work here; windows go out through the transfers' UDP "
		  "sockets, and new transfers get no windowsize",
		  ifc->ifname, XSK_STUCK_S);
	snprintf(ifc->no_window, sizeof(ifc->no_window),
		 "AF_XDP sockets received none of the ACKs XDP redirected to them");
	tftp_close_xsks(t, ifc);
	ifc->windowsize_max = 1;
}

void tftp_open_xsks(struct xpxe_tftp *t, struct iface *ifc)
{
	unsigned queues = xpxe_xsk_rx_queues(ifc->ifname), probing = !queues;
	int err = 0;

	if (t->opts.windowsize_max <= 1) {
		snprintf(ifc->no_window, sizeof(ifc->no_window), "--tftp-windowsize-max is 1");
		return;
	}
	/* A driver that does not say how many queues it has: open until the kernel says no. */
	if (probing)
		queues = XPXE_TFTP_XSK_QUEUES_MAX;
	if (queues > XPXE_TFTP_XSK_QUEUES_MAX) {
		snprintf(ifc->no_window, sizeof(ifc->no_window),
			 "%u RX queues, more than the %d AF_XDP sockets xpxe opens", queues,
			 XPXE_TFTP_XSK_QUEUES_MAX);
		goto fail;
	}
	for (unsigned q = 0; q < queues; q++) {
		struct xsk_entry *e = &ifc->xsks[q];

		err = xpxe_xsk_open(&e->xsk, ifc->ifname, q, ifc->xskmap_fd);
		if (err == -EINVAL && probing && q > 0)
			break; /* past the last queue */
		if (err) {
			snprintf(ifc->no_window, sizeof(ifc->no_window),
				 "cannot open an AF_XDP socket on RX queue %u: %s", q,
				 strerror(-err));
			goto fail;
		}
		e->ifc = ifc;
		ifc->n_xsks++;
		err = tftp_watch(t, xpxe_xsk_fd(e->xsk), e);
		if (err) {
			snprintf(ifc->no_window, sizeof(ifc->no_window), "epoll: %s",
				 strerror(-err));
			goto fail;
		}
	}
	ifc->windowsize_max = t->opts.windowsize_max;
	ifc->no_window[0] = '\0';
	/* The pinned counter may hold a previous daemon's redirects: count from here. */
	ifc->xsk_redirected = tftp_program_counter(t, ifc, XPXE_CNT_TFTP_ACK_TO_XSK);
	return;
fail:
	tftp_close_xsks(t, ifc);
	log_warn("%s: TFTP windowsize not offered (clients go lockstep): %s", ifc->ifname,
		 ifc->no_window);
}

int xpxe_tftp_window_status(struct xpxe_tftp *t, int ifindex, struct xpxe_tftp_window_status *ws)
{
	struct iface *ifc = tftp_find_iface(t, ifindex);

	memset(ws, 0, sizeof(*ws));
	if (!ifc)
		return -ENOENT;
	ws->windowsize_max = ifc->windowsize_max;
	snprintf(ws->why_not, sizeof(ws->why_not), "%s", ifc->no_window);
	ws->n_xsks = ifc->n_xsks;
	for (unsigned q = 0; q < ifc->n_xsks; q++)
		xpxe_xsk_status(ifc->xsks[q].xsk, &ws->xsks[q]);
	return 0;
}
