// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "xsk.h"

/*
 * The UMEM of one socket: RX_FRAMES frames for the ACKs XDP redirects (all
 * kept in the fill ring), the rest for DATA frames. An ACK asks for a whole
 * window, so few RX frames suffice; TX_FRAMES bound what is in flight per
 * queue (a window of XPXE_TFTP_WINDOWSIZE_LIMIT fits; in copy mode frames
 * come back as soon as sendto returns). 4 MiB a queue, pinned by the kernel:
 * a NIC with 64 queues costs 256 MiB.
 */
#define N_FRAMES   2048
#define RX_FRAMES  512
#define TX_FRAMES  (N_FRAMES - RX_FRAMES)
#define FILL_SIZE  RX_FRAMES
#define RX_SIZE	   RX_FRAMES
#define TX_SIZE	   2048 /* >= TX_FRAMES: a free frame always has a slot */
#define COMP_SIZE  2048
#define KICK_LIMIT 256 /* sendto calls per flush: copy mode sends 32 frames per call */

struct xpxe_xsk {
	struct xsk_socket *xsk;
	struct xsk_umem *umem;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint8_t *area;
	unsigned queue;
	int xskmap_fd;
	bool zerocopy;
	uint64_t free[TX_FRAMES]; /* TX frames not in flight, a stack */
	unsigned n_free;
	unsigned pushed; /* reserved in the TX ring and written, not yet submitted */
	uint64_t rx_frames, tx_sent, tx_no_frame, tx_kick_errors;
};

static void fill_rx(struct xpxe_xsk *x)
{
	__u32 idx;

	if (xsk_ring_prod__reserve(&x->fill, RX_FRAMES, &idx) != RX_FRAMES)
		return;
	for (unsigned i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * XPXE_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, RX_FRAMES);
}

int xpxe_xsk_open(struct xpxe_xsk **xp, const char *ifname, unsigned queue, int xskmap_fd)
{
	struct xsk_umem_config ucfg = {
		.fill_size = FILL_SIZE,
		.comp_size = COMP_SIZE,
		.frame_size = XPXE_XSK_FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = RX_SIZE,
		.tx_size = TX_SIZE,
		/* xpxe's own program redirects here: libxdp must load none. */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		/* No XDP_COPY or XDP_ZEROCOPY: the kernel tries zero-copy, else copies. */
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	struct xdp_options opts;
	socklen_t optlen = sizeof(opts);
	size_t len = (size_t)N_FRAMES * XPXE_XSK_FRAME_SIZE;
	struct xpxe_xsk *x = calloc(1, sizeof(*x));
	__u32 key = queue;
	int fd, err;

	if (!x)
		return -ENOMEM;
	x->queue = queue;
	x->xskmap_fd = -1;
	x->area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		err = -errno;
		x->area = NULL;
		goto fail;
	}
	err = xsk_umem__create(&x->umem, x->area, len, &x->fill, &x->comp, &ucfg);
	if (err)
		goto fail;
	err = xsk_socket__create(&x->xsk, ifname, queue, x->umem, &x->rx, &x->tx, &scfg);
	if (err)
		goto fail;
	fd = xsk_socket__fd(x->xsk);
	if (!getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen))
		x->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	fill_rx(x);
	for (unsigned i = 0; i < TX_FRAMES; i++)
		x->free[x->n_free++] = (uint64_t)(RX_FRAMES + i) * XPXE_XSK_FRAME_SIZE;
	/* Last: from here on XDP sends ACKs here, and the fill ring is ready for them. */
	if (bpf_map_update_elem(xskmap_fd, &key, &fd, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	x->xskmap_fd = xskmap_fd;
	*xp = x;
	return 0;
fail:
	xpxe_xsk_close(x);
	return err < 0 ? err : -err;
}

void xpxe_xsk_close(struct xpxe_xsk *x)
{
	__u32 key;

	if (!x)
		return;
	key = x->queue;
	/* Closing removes it too; this way no ACK is redirected to a socket on its way out. */
	if (x->xskmap_fd >= 0)
		bpf_map_delete_elem(x->xskmap_fd, &key);
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, (size_t)N_FRAMES * XPXE_XSK_FRAME_SIZE);
	free(x);
}

int xpxe_xsk_fd(const struct xpxe_xsk *x)
{
	return xsk_socket__fd(x->xsk);
}

unsigned xpxe_xsk_queue(const struct xpxe_xsk *x)
{
	return x->queue;
}

bool xpxe_xsk_zerocopy(const struct xpxe_xsk *x)
{
	return x->zerocopy;
}

unsigned xpxe_xsk_rx(struct xpxe_xsk *x, unsigned batch, size_t meta_len,
		     void (*fn)(void *arg, const uint8_t *frame, uint32_t len, const void *meta),
		     void *arg)
{
	__u32 idx, fidx;
	unsigned n = xsk_ring_cons__peek(&x->rx, batch, &idx);

	if (!n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		const uint8_t *frame = xsk_umem__get_data(x->area, d->addr);

		/* XDP put META_LEN bytes in front of the frame (bpf/tftp.h, tftp_xsk_redirect). */
		if (d->len < meta_len)
			continue;
		fn(arg, frame + meta_len, d->len - meta_len, frame);
	}
	/* Every frame came from the fill ring, so there is room to give them back. */
	if (xsk_ring_prod__reserve(&x->fill, n, &fidx) == n) {
		for (unsigned i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);

			*xsk_ring_prod__fill_addr(&x->fill, fidx + i) =
			    d->addr & ~(uint64_t)(XPXE_XSK_FRAME_SIZE - 1);
		}
		xsk_ring_prod__submit(&x->fill, n);
		/* A zero-copy driver may sleep on an empty fill ring: wake it (copy mode never
		 * asks). */
		if (xsk_ring_prod__needs_wakeup(&x->fill))
			recvfrom(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
	xsk_ring_cons__release(&x->rx, n);
	x->rx_frames += n;
	return n;
}

/* Takes back the TX frames the kernel is done with. */
static void reclaim(struct xpxe_xsk *x)
{
	__u32 idx;
	unsigned n = xsk_ring_cons__peek(&x->comp, COMP_SIZE, &idx);

	for (unsigned i = 0; i < n; i++)
		if (x->n_free < TX_FRAMES)
			x->free[x->n_free++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&x->comp, n);
}

uint8_t *xpxe_xsk_tx_frame(struct xpxe_xsk *x)
{
	if (!x->n_free)
		reclaim(x);
	if (!x->n_free || xsk_prod_nb_free(&x->tx, 1) < 1) {
		x->tx_no_frame++;
		return NULL;
	}
	return xsk_umem__get_data(x->area, x->free[x->n_free - 1]);
}

void xpxe_xsk_tx_push(struct xpxe_xsk *x, uint32_t len)
{
	__u32 idx;
	struct xdp_desc *d;

	/* xpxe_xsk_tx_frame checked the room: this reserve cannot fail. */
	if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1)
		return;
	d = xsk_ring_prod__tx_desc(&x->tx, idx);
	d->addr = x->free[--x->n_free];
	d->len = len;
	d->options = 0;
	x->pushed++;
}

static unsigned tx_queued(const struct xpxe_xsk *x)
{
	return __atomic_load_n(x->tx.producer, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(x->tx.consumer, __ATOMIC_ACQUIRE);
}

void xpxe_xsk_tx_flush(struct xpxe_xsk *x)
{
	int fd = xsk_socket__fd(x->xsk);

	if (x->pushed) {
		xsk_ring_prod__submit(&x->tx, x->pushed);
		x->tx_sent += x->pushed;
		x->pushed = 0;
	}
	/*
	 * In copy mode each sendto transmits up to 32 frames and says EAGAIN when
	 * more wait (or the completion ring or the driver is full): call again,
	 * taking back completed frames in between, until the ring is drained.
	 */
	for (int i = 0; i < KICK_LIMIT && tx_queued(x); i++) {
		reclaim(x);
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != EBUSY && errno != ENOBUFS && errno != EINTR) {
			x->tx_kick_errors++;
			break;
		}
	}
	reclaim(x);
}

static unsigned ring_level(const __u32 *producer, const __u32 *consumer)
{
	return __atomic_load_n(producer, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(consumer, __ATOMIC_ACQUIRE);
}

void xpxe_xsk_status(struct xpxe_xsk *x, struct xpxe_xsk_status *st)
{
	struct xdp_statistics xs = { 0 };
	socklen_t len = sizeof(xs);

	memset(st, 0, sizeof(*st));
	reclaim(x);
	st->queue = x->queue;
	st->zerocopy = x->zerocopy;
	st->fill = ring_level(x->fill.producer, x->fill.consumer);
	st->fill_size = x->fill.size;
	st->comp = ring_level(x->comp.producer, x->comp.consumer);
	st->comp_size = x->comp.size;
	st->rx = ring_level(x->rx.producer, x->rx.consumer);
	st->rx_size = x->rx.size;
	st->tx = ring_level(x->tx.producer, x->tx.consumer);
	st->tx_size = x->tx.size;
	st->tx_frames_free = x->n_free;
	st->tx_frames = TX_FRAMES;
	if (!getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_STATISTICS, &xs, &len)) {
		st->rx_dropped = xs.rx_dropped;
		st->rx_invalid = xs.rx_invalid_descs;
		st->tx_invalid = xs.tx_invalid_descs;
		st->rx_ring_full = xs.rx_ring_full;
		st->rx_fill_empty = xs.rx_fill_ring_empty_descs;
		st->tx_ring_empty = xs.tx_ring_empty_descs;
	}
	st->rx_frames = x->rx_frames;
	st->tx_sent = x->tx_sent;
	st->tx_no_frame = x->tx_no_frame;
	st->tx_kick_errors = x->tx_kick_errors;
}

unsigned xpxe_xsk_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned n = 0;

	if (fd < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	/* NICs count queue pairs as combined channels; veth counts RX channels only. */
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		n = ch.combined_count + ch.rx_count;
	close(fd);
	return n;
}
