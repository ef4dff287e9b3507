/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_LEASES_H
#define XPXE_LEASES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>

#include "store/store.h"

/*
 * Full mode's address bindings: one address per MAC, sticky (a MAC that comes
 * back gets the address it had), persisted to a text file that is replaced
 * atomically, so a crash at any moment leaves either the old or the new file.
 *
 * File format, one binding a line: "MAC IP EXPIRES" (EXPIRES in Unix seconds),
 * '#' starts a comment. Addresses only offered (held for a REQUEST) are in the
 * table but not in the file: an offer binds nothing (RFC 2131 4.3.1).
 */

struct xpxe_lease {
	unsigned char mac[6];
	bool offered; /* only held for a DISCOVER until EXPIRES: in memory, never in the file */
	struct in_addr ip;
	time_t expires;
	/* A shared store (etcd): the pair's revision there (0: not from it), who made it. */
	long long rev;
	char by[XPXE_STORE_NAME_MAX];
	bool seen; /* a resync of the store names it */
};

struct xpxe_leases {
	char path[256];
	struct in_addr pool_first, pool_last; /* host order comparisons; 0: no pool */
	struct xpxe_lease *items;
	int n, cap;
	/* addresses that are never handed out from the pool: reservations, ... */
	struct in_addr *reserved;
	int n_reserved;
	/* ... and addresses a client DECLINEd (in use elsewhere), until the daemon restarts */
	struct in_addr *quarantined;
	int n_quarantined;
	/* one byte per pool address: bound or reserved, so allocation is not quadratic */
	unsigned char *pool_used;
	uint32_t pool_size;
	/* where the search for a free address starts: responders sharing a pool start apart */
	uint32_t scan_from;
};

/* Initialises L for PATH and the pool FIRST..LAST (both 0: reservations only). -errno on failure.
 */
int xpxe_leases_init(struct xpxe_leases *l, const char *path, struct in_addr first,
		     struct in_addr last);
void xpxe_leases_free(struct xpxe_leases *l);

/* Marks IP as not allocatable from the pool. */
int xpxe_leases_reserve_ip(struct xpxe_leases *l, struct in_addr ip);

/*
 * Replaces the reservations with IPS (a reload, a machine added or removed):
 * an address no longer reserved becomes allocatable, unless bound or
 * quarantined; a new one is never handed out again.
 */
int xpxe_leases_set_reserved(struct xpxe_leases *l, const struct in_addr *ips, int n);

/* Marks IP as DECLINEd: never handed out again (until the daemon restarts). */
int xpxe_leases_quarantine_ip(struct xpxe_leases *l, struct in_addr ip);

/* True when IP is free to allocate: in the pool, not bound, reserved or quarantined. */
bool xpxe_leases_ip_free(const struct xpxe_leases *l, struct in_addr ip);

/* The binding holding IP, or NULL. */
struct xpxe_lease *xpxe_leases_holder(struct xpxe_leases *l, struct in_addr ip);

/*
 * Loads the file. A missing file is an empty table. A file with bad lines is
 * reported (each line, with its number), moved aside to PATH.corrupt-UNIXTIME,
 * and its good lines are kept. Returns the number of bad lines or -errno.
 */
int xpxe_leases_load(struct xpxe_leases *l);

/* Writes the table: PATH.tmp, fsync, rename over PATH, fsync of the folder. */
int xpxe_leases_save(const struct xpxe_leases *l);

/* The binding of MAC, or NULL. */
struct xpxe_lease *xpxe_leases_find(struct xpxe_leases *l, const unsigned char mac[6]);

/*
 * The binding for MAC, made if needed: WANT if it is a free pool address (a
 * client that asks for the address it had), else the first free one, else the
 * binding that expired longest ago (NOW given; its old holder is copied to
 * *EVICTED, whose MAC is all zeros otherwise). Returns NULL when the pool is
 * exhausted. *CREATED tells whether the table changed.
 */
struct xpxe_lease *xpxe_leases_allocate(struct xpxe_leases *l, const unsigned char mac[6],
					struct in_addr want, time_t now, bool *created,
					struct xpxe_lease *evicted);

/* Adds LEASE (its MAC and address free in the table). NULL when out of memory. */
struct xpxe_lease *xpxe_leases_put(struct xpxe_leases *l, const struct xpxe_lease *lease);

/* True when IP lies in the pool. */
bool xpxe_leases_in_pool(const struct xpxe_leases *l, struct in_addr ip);

/* Bindings held only for an offer. */
int xpxe_leases_offered(const struct xpxe_leases *l);

/* True when every pool address is bound or reserved. */
bool xpxe_leases_pool_full(const struct xpxe_leases *l);

/* Drops every binding (reservations stay), e.g. before reloading the file. */
void xpxe_leases_forget(struct xpxe_leases *l);

/* Removes MAC's binding (after a DECLINE, the address goes on a quarantine the caller keeps). */
void xpxe_leases_remove(struct xpxe_leases *l, const unsigned char mac[6]);

#endif /* XPXE_LEASES_H */
