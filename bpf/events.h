/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ring buffer of events (include/xpxe_events.h) that DHCP replies and
 * TFTP transfer ends are reported through, for the daemon's fleet view.
 */
#ifndef XPXE_BPF_EVENTS_H
#define XPXE_BPF_EVENTS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xpxe_events.h"

/*
 * Lossy by design when full: a lost event costs a line of the fleet view, never
 * a reply. Records go in with BPF_RB_NO_WAKEUP: a wakeup (when the daemon has
 * caught up, so for nearly every record outside a storm) cost 6-7 us in this VM
 * (irq_work, a self-IPI), twenty times a DHCP reply; the daemon reads the ring
 * in every round of its loop instead, which its one-second TFTP timer bounds,
 * and before it answers the control socket (so `xpxe watch` misses nothing).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

#endif /* XPXE_BPF_EVENTS_H */
