// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Full mode's DHCPv6 bindings: the table, its file (leases.c's pattern, atomic.h's writes). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "dhcp/leases6.h"
#include "log.h"

/* The low 64 bits of IP, and IP with them replaced. */
static uint64_t low64(const struct in6_addr *ip)
{
	uint64_t v = 0;

	for (int i = 8; i < 16; i++)
		v = v << 8 | ip->s6_addr[i];
	return v;
}

static struct in6_addr with_low64(const struct in6_addr *prefix, uint64_t v)
{
	struct in6_addr ip = *prefix;

	for (int i = 15; i >= 8; i--, v >>= 8)
		ip.s6_addr[i] = v & 0xff;
	return ip;
}

int xpxe_leases6_init(struct xpxe_leases6 *l, const char *path, const struct in6_addr *first,
		      const struct in6_addr *last)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "%s", path);
	if (IN6_IS_ADDR_UNSPECIFIED(first))
		return 0;
	if (xpxe_pool6_problem(first, last))
		return -ERANGE;
	l->first = *first;
	l->pool_size = (uint32_t)(low64(last) - low64(first) + 1);
	return 0;
}

void xpxe_leases6_free(struct xpxe_leases6 *l)
{
	free(l->items);
	free(l->reserved);
	free(l->declined);
	l->items = NULL;
	l->reserved = NULL;
	l->declined = NULL;
	l->n = l->cap = l->n_reserved = l->n_declined = 0;
}

int xpxe_leases6_set_reserved(struct xpxe_leases6 *l, const struct xpxe_reservation6 *r, int n)
{
	struct xpxe_reservation6 *copy = NULL;

	if (n && !(copy = calloc(n, sizeof(*copy))))
		return -ENOMEM;
	if (n)
		memcpy(copy, r, n * sizeof(*copy));
	free(l->reserved);
	l->reserved = copy;
	l->n_reserved = n;
	return 0;
}

const struct in6_addr *xpxe_leases6_reservation(const struct xpxe_leases6 *l,
						const unsigned char mac[6])
{
	for (int i = 0; i < l->n_reserved; i++)
		if (!memcmp(l->reserved[i].mac, mac, 6))
			return &l->reserved[i].ip;
	return NULL;
}

struct xpxe_lease6 *xpxe_leases6_find(struct xpxe_leases6 *l, const unsigned char mac[6])
{
	for (int i = 0; i < l->n; i++)
		if (!memcmp(l->items[i].mac, mac, 6))
			return &l->items[i];
	return NULL;
}

struct xpxe_lease6 *xpxe_leases6_holder(struct xpxe_leases6 *l, const struct in6_addr *ip)
{
	for (int i = 0; i < l->n; i++)
		if (IN6_ARE_ADDR_EQUAL(&l->items[i].ip, ip))
			return &l->items[i];
	return NULL;
}

bool xpxe_leases6_in_pool(const struct xpxe_leases6 *l, const struct in6_addr *ip)
{
	return l->pool_size && !memcmp(ip->s6_addr, l->first.s6_addr, 8) &&
	       low64(ip) >= low64(&l->first) && low64(ip) - low64(&l->first) < l->pool_size;
}

bool xpxe_leases6_on_link(const struct xpxe_leases6 *l, const struct in6_addr *ip)
{
	if (l->pool_size && !memcmp(ip->s6_addr, l->first.s6_addr, 8))
		return true;
	for (int i = 0; i < l->n_reserved; i++)
		if (!memcmp(ip->s6_addr, l->reserved[i].ip.s6_addr, 8))
			return true;
	return false;
}

static bool is_reserved(const struct xpxe_leases6 *l, const struct in6_addr *ip)
{
	for (int i = 0; i < l->n_reserved; i++)
		if (IN6_ARE_ADDR_EQUAL(&l->reserved[i].ip, ip))
			return true;
	return false;
}

static bool is_declined(const struct xpxe_leases6 *l, const struct in6_addr *ip)
{
	for (int i = 0; i < l->n_declined; i++)
		if (IN6_ARE_ADDR_EQUAL(&l->declined[i], ip))
			return true;
	return false;
}

static bool is_free(struct xpxe_leases6 *l, const struct in6_addr *ip)
{
	return xpxe_leases6_in_pool(l, ip) && !xpxe_leases6_holder(l, ip) && !is_reserved(l, ip) &&
	       !is_declined(l, ip);
}

/* The pool's offset of IP, or -1 outside it. */
static long pool_slot(const struct xpxe_leases6 *l, const struct in6_addr *ip)
{
	return xpxe_leases6_in_pool(l, ip) ? (long)(low64(ip) - low64(&l->first)) : -1;
}

static void mark_taken(uint64_t *taken, long slot)
{
	if (slot >= 0)
		taken[slot / 64] |= 1ULL << (slot % 64);
}

/*
 * The pool's lowest address no binding, reservation or decline holds, into IP: one pass over
 * each list into a bitmap of the pool (at most 65536 addresses), then one over the bitmap,
 * so a first contact costs O(bindings), not O(bindings) per address tried.
 */
static bool first_free(const struct xpxe_leases6 *l, struct in6_addr *ip)
{
	uint64_t *taken = calloc((l->pool_size + 63) / 64, sizeof(*taken));
	bool found = false;

	if (!taken)
		return false;
	for (int i = 0; i < l->n; i++)
		mark_taken(taken, pool_slot(l, &l->items[i].ip));
	for (int i = 0; i < l->n_reserved; i++)
		mark_taken(taken, pool_slot(l, &l->reserved[i].ip));
	for (int i = 0; i < l->n_declined; i++)
		mark_taken(taken, pool_slot(l, &l->declined[i]));
	for (uint32_t w = 0; w < (l->pool_size + 63) / 64 && !found; w++) {
		uint32_t slot;

		if (taken[w] == UINT64_MAX)
			continue;
		slot = w * 64 + (uint32_t)__builtin_ctzll(~taken[w]);
		if (slot < l->pool_size) {
			*ip = with_low64(&l->first, low64(&l->first) + slot);
			found = true;
		}
	}
	free(taken);
	return found;
}

static struct xpxe_lease6 *append(struct xpxe_leases6 *l, const struct xpxe_lease6 *lease)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		struct xpxe_lease6 *more = realloc(l->items, cap * sizeof(*more));

		if (!more)
			return NULL;
		l->items = more;
		l->cap = cap;
	}
	l->items[l->n] = *lease;
	return &l->items[l->n++];
}

struct xpxe_lease6 *xpxe_leases6_allocate(struct xpxe_leases6 *l, const unsigned char mac[6],
					  const struct in6_addr *want, time_t now, bool *created)
{
	struct xpxe_lease6 *lease = xpxe_leases6_find(l, mac), *oldest = NULL, *given_up = NULL;
	struct xpxe_lease6 *holder;
	const struct in6_addr *reserved = xpxe_leases6_reservation(l, mac);
	struct xpxe_lease6 fresh = { .offered = true };
	bool found = false;

	*created = false;
	if (lease && (!reserved || IN6_ARE_ADDR_EQUAL(&lease->ip, reserved))) {
		lease->released = false; /* its machine, back for it */
		return lease;
	}
	if (lease) /* a reservation made since: it wins over the pool's address */
		xpxe_leases6_remove(l, mac);
	memcpy(fresh.mac, mac, 6);
	if (reserved) {
		/* Whoever held it from the pool before the reservation loses it. */
		holder = xpxe_leases6_holder(l, reserved);
		if (holder)
			xpxe_leases6_remove(l, holder->mac);
		fresh.ip = *reserved;
		found = true;
	} else if (want && is_free(l, want)) {
		fresh.ip = *want;
		found = true;
	} else {
		found = first_free(l, &fresh.ip);
	}
	if (!found) {
		/*
		 * Exhausted: take over the binding that expired longest ago, else the address a
		 * Release left that its machine has held longest (the client gave it up).
		 */
		if (l->refresh)
			l->refresh(l->hook_ctx, l);
		for (int i = 0; i < l->n; i++)
			if (l->items[i].expires < now && xpxe_leases6_in_pool(l, &l->items[i].ip) &&
			    (!oldest || l->items[i].expires < oldest->expires))
				oldest = &l->items[i];
		for (int i = 0; i < l->n; i++)
			if (l->items[i].released && xpxe_leases6_in_pool(l, &l->items[i].ip) &&
			    (!given_up || l->items[i].expires < given_up->expires))
				given_up = &l->items[i];
		if (!oldest)
			oldest = given_up;
		if (!oldest)
			return NULL;
		fresh.ip = oldest->ip;
		if (l->forget)
			l->forget(l->hook_ctx, oldest->mac);
		*oldest = fresh;
		*created = true;
		return oldest;
	}
	lease = append(l, &fresh);
	*created = lease != NULL;
	return lease;
}

void xpxe_leases6_remove(struct xpxe_leases6 *l, const unsigned char mac[6])
{
	struct xpxe_lease6 *lease = xpxe_leases6_find(l, mac);

	if (!lease)
		return;
	if (l->forget)
		l->forget(l->hook_ctx, mac);
	*lease = l->items[--l->n];
}

int xpxe_leases6_decline(struct xpxe_leases6 *l, const struct in6_addr *ip)
{
	struct in6_addr *more;

	if (is_declined(l, ip))
		return 0;
	more = realloc(l->declined, (l->n_declined + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	l->declined = more;
	more[l->n_declined++] = *ip;
	return 0;
}

static int parse_hex(const char *s, uint8_t *out, unsigned int max, unsigned int *len)
{
	unsigned int n = 0;

	while (s[0] && s[1]) {
		unsigned int b;

		if (n == max || sscanf(s, "%2x", &b) != 1)
			return -EINVAL;
		out[n++] = (uint8_t)b;
		s += 2;
	}
	if (*s || n < 2)
		return -EINVAL;
	*len = n;
	return 0;
}

/* "MAC IPV6 EXPIRES IAID DUID". */
static int parse_line(const char *p, struct xpxe_lease6 *lease)
{
	char mac[32], ip[INET6_ADDRSTRLEN + 1], duid[2 * XPXE_DHCP6_DUID_LEN_MAX + 2];
	long long expires;
	unsigned long iaid;
	char extra;

	memset(lease, 0, sizeof(*lease));
	if (sscanf(p, "%31s %46s %lld %lu %261s %c", mac, ip, &expires, &iaid, duid, &extra) != 5)
		return -EINVAL;
	if (xpxe_parse_mac(mac, lease->mac) || inet_pton(AF_INET6, ip, &lease->ip) != 1 ||
	    expires < 0 || iaid > 0xffffffffUL ||
	    parse_hex(duid, lease->duid, sizeof(lease->duid), &lease->duid_len))
		return -EINVAL;
	lease->expires = (time_t)expires;
	lease->iaid = (uint32_t)iaid;
	return 0;
}

/* One line of the file into the table (xpxe_read_records). */
static int take_line(char *line, void *ctx)
{
	struct xpxe_leases6 *l = ctx;
	struct xpxe_lease6 lease;

	if (parse_line(line, &lease))
		return XPXE_RECORD_MALFORMED;
	if (xpxe_leases6_find(l, lease.mac) || xpxe_leases6_holder(l, &lease.ip))
		return XPXE_RECORD_DUPLICATE;
	return append(l, &lease) ? XPXE_RECORD_KEPT : -ENOMEM;
}

/*
 * One line of the release holds' file (read by xpxe_leases6_load, after the bindings): a hold
 * that ran out, whose MAC has a binding again or whose address someone holds (a crash between
 * the two files' writes, or a hold given up since the file's last write), or whose address is
 * no longer the pool's or is reserved for another MAC (a new configuration) is dropped, not an
 * error: only a line that does not parse is.
 */
static int take_hold(char *line, void *ctx)
{
	struct xpxe_leases6 *l = ctx;
	struct xpxe_lease6 hold;
	const struct in6_addr *reserved;

	if (parse_line(line, &hold))
		return XPXE_RECORD_MALFORMED;
	reserved = xpxe_leases6_reservation(l, hold.mac);
	if (hold.expires <= time(NULL) || xpxe_leases6_find(l, hold.mac) ||
	    xpxe_leases6_holder(l, &hold.ip) || is_declined(l, &hold.ip) ||
	    (reserved ? !IN6_ARE_ADDR_EQUAL(reserved, &hold.ip)
		      : !xpxe_leases6_in_pool(l, &hold.ip) || is_reserved(l, &hold.ip))) {
		l->holds_dropped++;
		return XPXE_RECORD_KEPT; /* read, and rightly left out */
	}
	hold.offered = hold.released = true;
	if (!append(l, &hold))
		return -ENOMEM;
	l->holds_loaded++;
	return XPXE_RECORD_KEPT;
}

void xpxe_leases6_holds_path(const struct xpxe_leases6 *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s.holds", l->path);
}

int xpxe_leases6_load(struct xpxe_leases6 *l)
{
	int bad = xpxe_read_records(l->path, "MAC IPV6 EXPIRES IAID DUID", take_line, l);
	char holds[sizeof(l->path) + 8];
	int err;

	if (bad < 0)
		return bad;
	/* The holds after the bindings, which win over them (take_hold). */
	xpxe_leases6_holds_path(l, holds, sizeof(holds));
	l->holds_loaded = l->holds_dropped = 0;
	err = xpxe_read_records(holds, "MAC IPV6 HOLD-UNTIL IAID DUID", take_hold, l);
	if (err < 0) {
		/* Unreadable: the holds are lost, the bindings are not (said, not fatal). */
		log_error("cannot read the DHCPv6 release holds %s: %s", holds, strerror(-err));
	} else if (err > 0) {
		l->holds_dirty = true; /* moved aside: the next save writes the good ones back */
	}
	if (l->holds_loaded || l->holds_dropped)
		log_info("%s: %d DHCPv6 release hold(s) kept for their machines, %d dropped (ran "
			 "out, or bound or taken since)",
			 holds, l->holds_loaded, l->holds_dropped);
	return bad;
}

/* One binding or hold, as a line of its file: "MAC IPV6 EXPIRES IAID DUID". */
static void put_line(FILE *f, const struct xpxe_lease6 *b)
{
	const unsigned char *m = b->mac;
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &b->ip, ip, sizeof(ip));
	fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x %s %lld %u ", m[0], m[1], m[2], m[3], m[4], m[5],
		ip, (long long)b->expires, b->iaid);
	for (unsigned int j = 0; j < b->duid_len; j++)
		fprintf(f, "%02x", b->duid[j]);
	fputc('\n', f);
}

static int write_bindings(FILE *f, void *ctx)
{
	const struct xpxe_leases6 *l = ctx;

	fprintf(f, "# xpxe DHCPv6 bindings: MAC IPV6 EXPIRES(unix seconds) IAID DUID(hex)\n");
	for (int i = 0; i < l->n; i++)
		if (!l->items[i].offered)
			put_line(f, &l->items[i]);
	return ferror(f) ? -EIO : 0;
}

static int write_holds(FILE *f, void *ctx)
{
	const struct xpxe_leases6 *l = ctx;
	time_t now = time(NULL);

	fprintf(f, "# xpxe DHCPv6 release holds (leases6.h): MAC IPV6 HOLD-UNTIL(unix seconds) "
		   "IAID DUID(hex)\n");
	for (int i = 0; i < l->n; i++)
		if (l->items[i].offered && l->items[i].released && l->items[i].expires > now)
			put_line(f, &l->items[i]);
	return ferror(f) ? -EIO : 0;
}

int xpxe_leases6_save(struct xpxe_leases6 *l)
{
	char holds[sizeof(l->path) + 8];
	int err;

	/*
	 * The holds first: a crash between the two writes leaves a released binding in both
	 * files, and the binding wins at the next start (take_hold), as if the Release had not
	 * come (its Reply had not left either). A hold that cannot be written stays dirty.
	 */
	if (l->holds_dirty) {
		xpxe_leases6_holds_path(l, holds, sizeof(holds));
		err = xpxe_write_atomically(holds, 0600, write_holds, l);
		if (err)
			log_error("cannot write the DHCPv6 release holds %s: %s", holds,
				  strerror(-err));
		else
			l->holds_dirty = false;
	}
	return xpxe_write_atomically(l->path, 0600, write_bindings, l);
}
