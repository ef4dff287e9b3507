/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_XSK_H
#define XPXE_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * AF_XDP sockets (libxdp's xsk API) for windowed TFTP: one per RX queue of an
 * interface, each with a UMEM of its own, entered into xdp_pxe's XSKMAP under
 * its queue (xpxe's program redirects to it: libxdp loads no program of its
 * own). The kernel picks the mode: zero-copy where the driver offers it, else
 * copy mode (veth, most drivers without AF_XDP support: frames sent go out
 * through the driver's normal transmit path).
 *
 * RX carries the ACKs XDP redirected; TX the DATA frames the daemon builds
 * straight into UMEM frames. No thread of its own: the daemon's loop polls the
 * socket and calls xpxe_xsk_rx, then sends with xpxe_xsk_tx_frame/push/flush.
 */

struct xpxe_xsk;

/* What `xpxe status` shows of one socket. */
struct xpxe_xsk_status {
	unsigned queue;
	bool zerocopy;
	/* Ring fill levels (entries between producer and consumer) and sizes. */
	unsigned fill, fill_size, comp, comp_size, rx, rx_size, tx, tx_size;
	unsigned tx_frames_free, tx_frames; /* UMEM frames for DATA: free now, in all */
	/* The kernel's counts (XDP_STATISTICS). */
	uint64_t rx_dropped, rx_invalid, tx_invalid, rx_ring_full, rx_fill_empty, tx_ring_empty;
	/* Ours. */
	uint64_t rx_frames, tx_sent, tx_no_frame, tx_kick_errors;
};

/*
 * Opens a socket on IFNAME's RX queue QUEUE and enters it into XSKMAP_FD.
 * Returns 0, or a negative errno (-EINVAL: no such queue; -EBUSY: another
 * socket holds it; -EOPNOTSUPP, -EPERM: the kernel refused AF_XDP here).
 */
int xpxe_xsk_open(struct xpxe_xsk **xp, const char *ifname, unsigned queue, int xskmap_fd);

/* Removes the socket from the XSKMAP it was entered into, then closes it. */
void xpxe_xsk_close(struct xpxe_xsk *x);

/* The descriptor to poll for input (ACKs). */
int xpxe_xsk_fd(const struct xpxe_xsk *x);
unsigned xpxe_xsk_queue(const struct xpxe_xsk *x);
bool xpxe_xsk_zerocopy(const struct xpxe_xsk *x);

/*
 * Calls FN for each frame received (at most BATCH), with the frame and the
 * META_LEN bytes XDP put in front of it (the frame given to FN starts after them), then gives
 * the frames back to the kernel. Returns how many.
 */
unsigned xpxe_xsk_rx(struct xpxe_xsk *x, unsigned batch, size_t meta_len,
		     void (*fn)(void *arg, const uint8_t *frame, uint32_t len, const void *meta),
		     void *arg);

/*
 * A free TX frame to build into (XPXE_XSK_FRAME_SIZE bytes), or NULL when all
 * are in flight or the TX ring is full. Push it with its length, then flush.
 */
#define XPXE_XSK_FRAME_SIZE 2048
uint8_t *xpxe_xsk_tx_frame(struct xpxe_xsk *x);
void xpxe_xsk_tx_push(struct xpxe_xsk *x, uint32_t len);
/* Hands the pushed frames to the kernel and kicks it to send them. */
void xpxe_xsk_tx_flush(struct xpxe_xsk *x);

void xpxe_xsk_status(struct xpxe_xsk *x, struct xpxe_xsk_status *st);

/* The number of RX queues of IFNAME (ethtool channels), or 0 when the driver does not say. */
unsigned xpxe_xsk_rx_queues(const char *ifname);

#endif /* XPXE_XSK_H */
