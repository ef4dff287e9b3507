/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_DHCP_SERVER_H
#define XPXE_DHCP_SERVER_H

#include "dhcp_settings.h"
#include "dhcp/template.h"
#include "dhcp/leases.h"
#include "store/store.h"

struct xpxe_dataplane;
struct ring_buffer;

/*
 * Full mode's slow path on one interface: takes the requests XDP queued
 * (dhcp_queue), binds addresses from the pool, persists them, installs them in
 * dhcp_clients and runs the program on the queued frame again so the reply is
 * built by the one reply builder, then sends it.
 */
struct xpxe_dhcp_server {
	struct xpxe_dataplane *dp;
	struct xpxe_dhcp_settings settings;
	struct xpxe_leases leases;
	/*
	 * The pools of the trunk's VLANs, by net - 1 (xpxe_vlan.h): a table and a file each
	 * (LEASES.vlanVID); pool_size 0: the VLAN has none (its reservations only).
	 */
	struct xpxe_leases vlan_leases[XPXE_VLAN_MAX];
	struct ring_buffer *queue;
	struct xpxe_dhcp_queued *batch; /* what one round took from the queue */
	int batch_n;
	int packet_fd; /* AF_PACKET socket the replies leave through */
	/* what the last batch found; counted for status */
	unsigned long long allocated, exhausted, declined, released, sent, send_errors;
	unsigned long long ignored;	    /* unknown MACs refused (default_profile none) */
	unsigned long long vlan_unanswered; /* VLAN requests no pool could answer */
	/* offers held, holds given to another MAC, REQUESTs without an offer (see xpxe.h) */
	unsigned long long held, holds_reclaimed, unoffered;
	__u64 flushed[4]; /* the part of held..unoffered already in the counters map */
	time_t exhausted_logged;
	unsigned long long save_errors;	   /* the bindings file could not be written (disk full) */
	unsigned long long install_errors; /* a binding the dhcp_clients map refused (full) */
	/*
	 * A shared store (etcd): bindings are made there first; the file is this responder's
	 * copy, written from the daemon's loop (xpxe_dhcp_server_tick).
	 */
	struct xpxe_store *store;
	struct xpxe_store_lease_req *reqs;  /* one round's transactions */
	unsigned long long store_refused;   /* new machines left unanswered: the store was away */
	unsigned long long store_conflicts; /* transactions another responder won */
	time_t store_refused_logged;
	bool copy_dirty; /* the file lags the table */
};

/*
 * Prepares the slow path of DP (full mode only; a no-op in proxy mode). STORE: where bindings
 * are made (a shared store makes them there, the file is then a copy). Logs why on failure.
 */
int xpxe_dhcp_server_start(struct xpxe_dhcp_server *srv, struct xpxe_dataplane *dp,
			   const struct xpxe_dhcp_settings *settings, struct xpxe_store *store);

/*
 * Bindings that came from the shared store (made by any responder): into the table and
 * dhcp_clients when their address is in this pool; a delete takes them out. SNAPSHOT: the
 * list is the whole set at SNAPSHOT_REV (a resync): bindings of the pool it lacks go, those
 * made since stay.
 */
void xpxe_dhcp_server_apply(struct xpxe_dhcp_server *srv,
			    const struct xpxe_store_lease_change *changes, int n, bool snapshot,
			    long long snapshot_rev);

/* Once a second from the daemon's loop: writes the copy of the bindings when it lags. */
void xpxe_dhcp_server_tick(struct xpxe_dhcp_server *srv);

/* The fd to poll for queued requests, or -1 when there is no slow path. */
int xpxe_dhcp_server_fd(const struct xpxe_dhcp_server *srv);

/* Handles everything queued. */
void xpxe_dhcp_server_process(struct xpxe_dhcp_server *srv);

void xpxe_dhcp_server_stop(struct xpxe_dhcp_server *srv);

/*
 * After the inventory changed (a reload, `machines add` or `rm`), with SETTINGS
 * the new one: the MACs in GONE (machines no longer listed) lose what the
 * inventory gave them in dhcp_clients (they keep a pool binding when unknown
 * machines are answered); a pool binding on an address that is now reserved,
 * or held by a machine that now has a reservation, is dropped, in every network's pool
 * (the untagged one and the VLANs'; its MAC gets
 * another address at its next DHCP); the pool's reserved addresses are marked
 * again, so a new reservation is never handed out and a removed one becomes
 * allocatable. Call it before xpxe_dhcp_install / xpxe_dhcp_put_machine.
 * Returns the number of bindings dropped, or -errno.
 */
int xpxe_dhcp_server_sync(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *settings,
			  const unsigned char (*gone)[6], int n_gone);

#endif /* XPXE_DHCP_SERVER_H */
