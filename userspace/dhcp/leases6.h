/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_LEASES6_H
#define XPXE_LEASES6_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>

#include "dhcp_settings.h"
#include "dhcp/dhcp6_proto.h"

/*
 * Full mode's DHCPv6 bindings (IA_NA): one address per MAC, sticky, with the
 * client's DUID and IAID kept beside it (answers go to the DUID; the MAC, from
 * the frame, keys the machine whatever its DUID type). Persisted as leases.h's
 * v4 bindings are: a text file replaced atomically (atomic.h), one binding a
 * line: "MAC IPV6 EXPIRES IAID DUID" (EXPIRES in Unix seconds, DUID in hex),
 * '#' starts a comment. Addresses only advertised (held for the Request) stay
 * in memory; those a Release left, held for their machine, are written beside
 * the file (PATH.holds, the same line with the hold's end for EXPIRES) so that
 * a restart keeps them.
 */

struct xpxe_lease6 {
	unsigned char mac[6];
	bool offered;  /* only advertised, held until EXPIRES: never in the file */
	bool released; /* offered: what a Release left, held for its MAC (XPXE_DHCP6_RELEASE_HOLD_S)
			*/
	struct in6_addr ip;
	time_t expires;
	uint32_t iaid;
	uint8_t duid[XPXE_DHCP6_DUID_LEN_MAX];
	unsigned int duid_len;
};

/*
 * How long a released address stays its machine's (in memory, as an offer) before another
 * machine may have it, unless the pool has nothing else. EDK2 sends its Release once its
 * DHCPv6 exchange is done and goes on booting from the address (TFTP, HTTP, then iPXE's own
 * DHCPv6 with the same MAC): the address must not go to another machine meanwhile.
 */
#define XPXE_DHCP6_RELEASE_HOLD_S 600

struct xpxe_leases6 {
	char path[256];
	struct in6_addr first; /* the pool: FIRST and the POOL_SIZE addresses after it */
	uint32_t pool_size;    /* 0: reservations only */
	struct xpxe_lease6 *items;
	int n, cap;
	struct xpxe_reservation6 *reserved; /* never handed out to another MAC */
	int n_reserved;
	struct in6_addr *declined; /* DECLINEd (in use elsewhere): until the daemon restarts */
	int n_declined;
	bool holds_dirty;		 /* a Release since PATH.holds was written: the next save */
	int holds_loaded, holds_dropped; /* by the last load */
	/*
	 * The owner's hooks (NULL: none), for a copy of the bindings elsewhere (xdp_pxe's
	 * dhcp6_bindings): FORGET before MAC's binding leaves the table or goes to another
	 * MAC; REFRESH before expired bindings are looked for (their expiry may be older than
	 * what the copy knows). Set after xpxe_leases6_init.
	 */
	void (*forget)(void *ctx, const unsigned char mac[6]);
	void (*refresh)(void *ctx, struct xpxe_leases6 *l);
	void *hook_ctx;
};

/* Initialises L for PATH and the pool FIRST..LAST (both ::: none). -errno on failure. */
int xpxe_leases6_init(struct xpxe_leases6 *l, const char *path, const struct in6_addr *first,
		      const struct in6_addr *last);
void xpxe_leases6_free(struct xpxe_leases6 *l);

/* Replaces the reservations with R (N of them). */
int xpxe_leases6_set_reserved(struct xpxe_leases6 *l, const struct xpxe_reservation6 *r, int n);

/* MAC's reserved address, or NULL. */
const struct in6_addr *xpxe_leases6_reservation(const struct xpxe_leases6 *l,
						const unsigned char mac[6]);

struct xpxe_lease6 *xpxe_leases6_find(struct xpxe_leases6 *l, const unsigned char mac[6]);

/* The binding holding IP, or NULL. */
struct xpxe_lease6 *xpxe_leases6_holder(struct xpxe_leases6 *l, const struct in6_addr *ip);

/* True when IP lies in the pool. */
bool xpxe_leases6_in_pool(const struct xpxe_leases6 *l, const struct in6_addr *ip);

/* True when IP is on the served link: the pool's /64 or a reservation's. */
bool xpxe_leases6_on_link(const struct xpxe_leases6 *l, const struct in6_addr *ip);

/*
 * MAC's binding, made if needed: its reservation; else WANT (may be NULL) if
 * it is a free pool address; else the first free one; else the binding that
 * expired longest ago before NOW. NULL when nothing is left. A new binding is
 * marked offered; *CREATED tells whether the table changed.
 */
struct xpxe_lease6 *xpxe_leases6_allocate(struct xpxe_leases6 *l, const unsigned char mac[6],
					  const struct in6_addr *want, time_t now, bool *created);

/* Removes MAC's binding. */
void xpxe_leases6_remove(struct xpxe_leases6 *l, const unsigned char mac[6]);

/* Marks IP as DECLINEd: never handed out again until the daemon restarts. */
int xpxe_leases6_decline(struct xpxe_leases6 *l, const struct in6_addr *ip);

/*
 * Loads the file; a missing one is an empty table. Bad lines are reported with
 * their numbers, the file is moved aside to PATH.corrupt-UNIXTIME and the good
 * lines are kept. Then the release holds (PATH.holds, the same way): those still
 * running whose MAC has no binding and whose address is free come back as
 * released offers; the rest are dropped. Returns the number of bad lines of the
 * bindings' file or -errno (the holds' troubles are logged only).
 */
int xpxe_leases6_load(struct xpxe_leases6 *l);

/* The release holds' file of L: PATH.holds. */
void xpxe_leases6_holds_path(const struct xpxe_leases6 *l, char *buf, size_t len);

/*
 * Writes the bindings (not the offers): PATH.tmp, fsync, rename, fsync of the folder; first,
 * after a Release (holds_dirty), the release holds still running to PATH.holds the same way.
 */
int xpxe_leases6_save(struct xpxe_leases6 *l);

#endif /* XPXE_LEASES6_H */
