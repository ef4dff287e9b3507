/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_DATAPLANE_H
#define XPXE_DATAPLANE_H

#include <stdbool.h>
#include <sys/types.h>
#include <net/if.h>
#include <linux/types.h>

#include "xpxe.h"

struct xpxe_bpf;
struct xdp_program;

/* The data plane of one interface: the loaded programs, their maps and how they are attached. */
struct xpxe_dataplane {
	char ifname[IFNAMSIZ];
	int ifindex;
	int lock_fd;
	struct xpxe_bpf *skel;
	struct xdp_program *prog;
	struct bpf_program *xdp;   /* the build of xdp_pxe loaded: xdp_pxe, or xdp_pxe_frags */
	bool frags;		   /* ... xdp_pxe_frags: an MTU above 1500 (dataplane.c) */
	bool native;		   /* driver mode; false: generic (skb) mode */
	bool dispatcher;	   /* attached through libxdp's dispatcher; false: alone */
	bool alone_for_tail_calls; /* alone: the dispatcher's extension could not tail call */
	bool adopted;		   /* a previous daemon's pins were found and reused */
	__u32 prog_id;
	__u32 tc_prog_id;	/* tc_tftp on clsact ingress: TFTP blocks XDP cannot grow */
	unsigned tftp_port_low; /* the programs' tftp_port_low (xpxe_attach_opts) */
};

struct xpxe_attach_opts {
	bool allow_default_route;
	/* The TFTP port range's low port (--tftp-port-range): where tftp_sessions' entries
	 * start (include/xpxe_tftp.h). 0: the default. */
	unsigned tftp_port_low;
};

/*
 * The checks of IFNAME before anything touches it: a valid name, here in this
 * network namespace, no default route unless allowed, not locked by another xpxe
 * (-EBUSY, *OWNER its pid; not logged: the caller says what it means), and pins,
 * if any, of this namespace. Returns 0 or a negative errno after logging why.
 */
int xpxe_dataplane_check(const char *ifname, const struct xpxe_attach_opts *opts, pid_t *owner);

/*
 * Checks IFNAME (as xpxe_dataplane_check), loads the programs, attaches them and pins their maps.
 * Returns 0 or a negative errno after logging one clear message that says why.
 */
int xpxe_dataplane_attach(struct xpxe_dataplane *dp, const char *ifname,
			  const struct xpxe_attach_opts *opts);

/* Detaches the program, removes the pins and frees everything. */
void xpxe_dataplane_detach(struct xpxe_dataplane *dp);

/*
 * Lets go of DP without touching the kernel: the programs stay attached and the
 * maps pinned, serving as after SIGKILL, until the next serve adopts them or
 * `xpxe detach` removes them. Frees this process's handles and its lock.
 */
void xpxe_dataplane_release(struct xpxe_dataplane *dp);

/* The maps the TFTP slow path fills. */
int xpxe_dataplane_tftp_sessions_fd(const struct xpxe_dataplane *dp);
int xpxe_dataplane_tftp_sessions6_fd(const struct xpxe_dataplane *dp);
int xpxe_dataplane_tftp_assets_fd(const struct xpxe_dataplane *dp);
/* The XSKMAP where the TFTP daemon enters its AF_XDP sockets (windowed transfers). */
int xpxe_dataplane_tftp_xsks_fd(const struct xpxe_dataplane *dp);
/* Where XDP notes each RRQ's source MAC (the daemon's socket sees none). */
int xpxe_dataplane_tftp_rrq_macs_fd(const struct xpxe_dataplane *dp);
int xpxe_dataplane_counters_fd(const struct xpxe_dataplane *dp);
int xpxe_dataplane_dhcp_clients_fd(const struct xpxe_dataplane *dp);
int xpxe_dataplane_events_fd(const struct xpxe_dataplane *dp);

/* True once XDP found no room to grow an ACK into a full DATA frame here (tc builds them). */
bool xpxe_dataplane_xdp_no_room(const struct xpxe_dataplane *dp);

/* Sums the per-CPU counters of DP. */
int xpxe_dataplane_counters(const struct xpxe_dataplane *dp, __u64 totals[XPXE_CNT_MAX]);

/*
 * For `xpxe detach` when no daemon serves IFNAME: detaches xpxe's program left
 * on it (a daemon killed with SIGKILL leaves the data plane running) and removes
 * its pins. Returns 0, -ENOENT when neither program nor pins were there, -EXDEV
 * when they are another network namespace's (nothing touched), or a negative
 * errno after logging why.
 */
int xpxe_dataplane_detach_orphan(const char *ifname);

/*
 * Puts xdp_dhcp6_bound and xdp_tftp6 (FRAGS: their xdp.frags builds) in the slots xdp_pxe
 * tail-calls for a bound machine's DHCPv6 renewal (bpf/dhcp6.h) and an IPv6 TFTP ACK
 * (bpf/tftp6.h), once SKEL is loaded. 0 or -errno.
 */
int xpxe_dataplane_set_tail_calls(struct xpxe_bpf *skel, bool frags);

#endif /* XPXE_DATAPLANE_H */
