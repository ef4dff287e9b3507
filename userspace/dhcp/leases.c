// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "dhcp_settings.h"
#include "dhcp/leases.h"
#include "log.h"

#define POOL_MAX 65536

int xpxe_leases_init(struct xpxe_leases *l, const char *path, struct in_addr first,
		     struct in_addr last)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "%s", path);
	if (!first.s_addr)
		return 0;
	if (ntohl(last.s_addr) < ntohl(first.s_addr) ||
	    ntohl(last.s_addr) - ntohl(first.s_addr) >= POOL_MAX)
		return -ERANGE;
	l->pool_first = first;
	l->pool_last = last;
	l->pool_size = ntohl(last.s_addr) - ntohl(first.s_addr) + 1;
	l->pool_used = calloc(l->pool_size, 1);
	return l->pool_used ? 0 : -ENOMEM;
}

/* The slot of IP in pool_used, or -1 outside the pool. */
static long pool_slot(const struct xpxe_leases *l, struct in_addr ip)
{
	uint32_t h = ntohl(ip.s_addr), first = ntohl(l->pool_first.s_addr);

	if (!l->pool_size || h < first || h - first >= l->pool_size)
		return -1;
	return (long)(h - first);
}

static void mark(struct xpxe_leases *l, struct in_addr ip, unsigned char used)
{
	long slot = pool_slot(l, ip);

	if (slot >= 0)
		l->pool_used[slot] = used;
}

void xpxe_leases_free(struct xpxe_leases *l)
{
	free(l->items);
	free(l->reserved);
	free(l->quarantined);
	free(l->pool_used);
	l->items = NULL;
	l->reserved = NULL;
	l->quarantined = NULL;
	l->pool_used = NULL;
	l->n = l->cap = l->n_reserved = l->n_quarantined = 0;
}

static int add_ip(struct in_addr **list, int *n, struct in_addr ip)
{
	struct in_addr *more = realloc(*list, (*n + 1) * sizeof(*more));

	if (!more)
		return -ENOMEM;
	*list = more;
	more[(*n)++] = ip;
	return 0;
}

int xpxe_leases_reserve_ip(struct xpxe_leases *l, struct in_addr ip)
{
	int err = add_ip(&l->reserved, &l->n_reserved, ip);

	if (!err)
		mark(l, ip, 1);
	return err;
}

int xpxe_leases_quarantine_ip(struct xpxe_leases *l, struct in_addr ip)
{
	int err = add_ip(&l->quarantined, &l->n_quarantined, ip);

	if (!err)
		mark(l, ip, 1);
	return err;
}

/* Every pool address again from what holds it: bindings, reservations, quarantine. */
static void remark(struct xpxe_leases *l)
{
	if (l->pool_used)
		memset(l->pool_used, 0, l->pool_size);
	for (int i = 0; i < l->n; i++)
		mark(l, l->items[i].ip, 1);
	for (int i = 0; i < l->n_reserved; i++)
		mark(l, l->reserved[i], 1);
	for (int i = 0; i < l->n_quarantined; i++)
		mark(l, l->quarantined[i], 1);
}

int xpxe_leases_set_reserved(struct xpxe_leases *l, const struct in_addr *ips, int n)
{
	struct in_addr *copy = NULL;

	if (n && !(copy = malloc(n * sizeof(*copy))))
		return -ENOMEM;
	if (n)
		memcpy(copy, ips, n * sizeof(*copy));
	free(l->reserved);
	l->reserved = copy;
	l->n_reserved = n;
	remark(l);
	return 0;
}

struct xpxe_lease *xpxe_leases_holder(struct xpxe_leases *l, struct in_addr ip)
{
	for (int i = 0; i < l->n; i++)
		if (l->items[i].ip.s_addr == ip.s_addr)
			return &l->items[i];
	return NULL;
}

static int append(struct xpxe_leases *l, const struct xpxe_lease *lease)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		struct xpxe_lease *more = realloc(l->items, cap * sizeof(*more));

		if (!more)
			return -ENOMEM;
		l->items = more;
		l->cap = cap;
	}
	l->items[l->n++] = *lease;
	mark(l, lease->ip, 1);
	return 0;
}

struct xpxe_lease *xpxe_leases_find(struct xpxe_leases *l, const unsigned char mac[6])
{
	for (int i = 0; i < l->n; i++)
		if (!memcmp(l->items[i].mac, mac, 6))
			return &l->items[i];
	return NULL;
}

static bool ip_bound(const struct xpxe_leases *l, struct in_addr ip)
{
	long slot = pool_slot(l, ip);

	if (slot >= 0)
		return l->pool_used[slot];
	for (int i = 0; i < l->n; i++)
		if (l->items[i].ip.s_addr == ip.s_addr)
			return true;
	return false;
}

static bool in_pool(const struct xpxe_leases *l, struct in_addr ip)
{
	return pool_slot(l, ip) >= 0;
}

bool xpxe_leases_in_pool(const struct xpxe_leases *l, struct in_addr ip)
{
	return in_pool(l, ip);
}

struct xpxe_lease *xpxe_leases_put(struct xpxe_leases *l, const struct xpxe_lease *lease)
{
	return append(l, lease) ? NULL : &l->items[l->n - 1];
}

bool xpxe_leases_ip_free(const struct xpxe_leases *l, struct in_addr ip)
{
	long slot = pool_slot(l, ip);

	return slot >= 0 && !l->pool_used[slot];
}

static int parse_line(char *line, struct xpxe_lease *lease)
{
	char mac[32], ip[32];
	long long expires;
	char extra;

	memset(lease, 0, sizeof(*lease));
	if (sscanf(line, "%31s %31s %lld %c", mac, ip, &expires, &extra) != 3)
		return -EINVAL;
	if (xpxe_parse_mac(mac, lease->mac) || inet_pton(AF_INET, ip, &lease->ip) != 1 ||
	    expires < 0)
		return -EINVAL;
	lease->expires = (time_t)expires;
	return 0;
}

/* One line of the file into the table (xpxe_read_records). */
static int take_line(char *line, void *ctx)
{
	struct xpxe_leases *l = ctx;
	struct xpxe_lease lease;

	if (parse_line(line, &lease))
		return XPXE_RECORD_MALFORMED;
	if (xpxe_leases_find(l, lease.mac) || ip_bound(l, lease.ip))
		return XPXE_RECORD_DUPLICATE;
	int err = append(l, &lease);

	return err ? err : XPXE_RECORD_KEPT;
}

int xpxe_leases_load(struct xpxe_leases *l)
{
	return xpxe_read_records(l->path, "MAC IP EXPIRES", take_line, l);
}

static int write_bindings(FILE *f, void *ctx)
{
	const struct xpxe_leases *l = ctx;
	char ip[INET_ADDRSTRLEN];

	fprintf(f, "# xpxe DHCP bindings: MAC IP EXPIRES(unix seconds)\n");
	for (int i = 0; i < l->n; i++) {
		const unsigned char *m = l->items[i].mac;

		if (l->items[i].offered)
			continue;
		inet_ntop(AF_INET, &l->items[i].ip, ip, sizeof(ip));
		fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x %s %lld\n", m[0], m[1], m[2], m[3], m[4],
			m[5], ip, (long long)l->items[i].expires);
	}
	return ferror(f) ? -EIO : 0;
}

int xpxe_leases_save(const struct xpxe_leases *l)
{
	return xpxe_write_atomically(l->path, 0600, write_bindings, (void *)l);
}

struct xpxe_lease *xpxe_leases_allocate(struct xpxe_leases *l, const unsigned char mac[6],
					struct in_addr want, time_t now, bool *created,
					struct xpxe_lease *evicted)
{
	struct xpxe_lease *lease = xpxe_leases_find(l, mac), *oldest = NULL;
	struct xpxe_lease fresh = { 0 };
	long slot;

	*created = false;
	memset(evicted, 0, sizeof(*evicted));
	if (lease)
		return lease;
	if (!l->pool_size)
		return NULL;
	memcpy(fresh.mac, mac, 6);
	slot = pool_slot(l, want);
	if (slot >= 0 && !l->pool_used[slot]) {
		fresh.ip = want;
	} else {
		for (uint32_t n = 0; n < l->pool_size; n++) {
			uint32_t i = (l->scan_from + n) % l->pool_size;

			if (!l->pool_used[i]) {
				fresh.ip.s_addr = htonl(ntohl(l->pool_first.s_addr) + i);
				break;
			}
		}
	}
	if (!fresh.ip.s_addr) {
		/* Exhausted: take over the binding that expired longest ago, if any. */
		for (int i = 0; i < l->n; i++)
			if (l->items[i].expires < now && in_pool(l, l->items[i].ip) &&
			    (!oldest || l->items[i].expires < oldest->expires))
				oldest = &l->items[i];
		if (!oldest)
			return NULL;
		*evicted = *oldest;
		memcpy(oldest->mac, mac, 6);
		oldest->offered = false;
		oldest->rev = 0;
		oldest->by[0] = '\0';
		*created = true;
		return oldest;
	}
	if (append(l, &fresh))
		return NULL;
	*created = true;
	return &l->items[l->n - 1];
}

void xpxe_leases_remove(struct xpxe_leases *l, const unsigned char mac[6])
{
	struct xpxe_lease *lease = xpxe_leases_find(l, mac);

	struct in_addr ip;

	if (!lease)
		return;
	ip = lease->ip;
	*lease = l->items[--l->n];
	mark(l, ip, 0);
	for (int i = 0; i < l->n_reserved; i++)
		if (l->reserved[i].s_addr == ip.s_addr)
			mark(l, ip, 1);
	for (int i = 0; i < l->n_quarantined; i++)
		if (l->quarantined[i].s_addr == ip.s_addr)
			mark(l, ip, 1);
}

int xpxe_leases_offered(const struct xpxe_leases *l)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		n += l->items[i].offered;
	return n;
}

bool xpxe_leases_pool_full(const struct xpxe_leases *l)
{
	for (uint32_t i = 0; i < l->pool_size; i++)
		if (!l->pool_used[i])
			return false;
	return l->pool_size != 0;
}

void xpxe_leases_forget(struct xpxe_leases *l)
{
	while (l->n)
		xpxe_leases_remove(l, l->items[l->n - 1].mac);
}
