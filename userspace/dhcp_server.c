// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"

#include "config.h"
#include "counters.h"
#include "dhcp.h"
#include "dataplane.h"
#include "dhcp_server.h"
#include "events.h"
#include "log.h"

#define BATCH_MAX 256

static int on_queued(void *ctx, void *data, size_t size)
{
	struct xpxe_dhcp_server *srv = ctx;

	if (size < sizeof(struct xpxe_dhcp_queued))
		return 0;
	if (srv->batch_n >= BATCH_MAX) /* not reached: the round stops at a full batch */
		return -E2BIG;
	memcpy(&srv->batch[srv->batch_n++], data, sizeof(struct xpxe_dhcp_queued));
	/*
	 * A full batch stops this round: the rest waits in the ring for the next one. Only a
	 * negative return stops libbpf (a positive one is ignored, and a rack of more than
	 * BATCH_MAX new machines wrote past the batch); this sample is consumed all the same.
	 */
	return srv->batch_n == BATCH_MAX ? -E2BIG : 0;
}

static void mac_text(const unsigned char *m, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int install_binding(struct xpxe_dhcp_server *srv, const unsigned char mac[6],
			   struct in_addr ip, __u32 flags)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients);
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client = { .ip = ip.s_addr, .flags = flags }, old;

	memcpy(key.addr, mac, 6);
	/* An inventory machine keeps its profile; only the address is the pool's. The last
	 * renewal XDP answered stays too: the file's expiry does not see those. */
	if (!bpf_map_lookup_elem(fd, &key, &old)) {
		client.profile = old.profile;
		if (old.ip == client.ip)
			client.last_seen_ns = old.last_seen_ns;
	} else if (srv->settings.default_profile >= 0)
		client.profile = (__u32)srv->settings.default_profile;
	if (bpf_map_update_elem(fd, &key, &client, BPF_ANY))
		return -errno;
	return 0;
}

/* The machine of SETTINGS that has MAC, or NULL. */
static const struct xpxe_machine_cfg *machine_of(const struct xpxe_dhcp_settings *s,
						 const unsigned char mac[6])
{
	for (int i = 0; i < s->n_machines; i++)
		for (int j = 0; j < s->machines[i].n_macs; j++)
			if (!memcmp(s->machines[i].macs[j], mac, 6))
				return &s->machines[i];
	return NULL;
}

/* MAC's map entry once it holds no pool address: an inventory machine keeps its entry. */
static void unbind_entry(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *s,
			 const unsigned char mac[6])
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients);
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client;

	memcpy(key.addr, mac, 6);
	if (!machine_of(s, mac)) {
		bpf_map_delete_elem(fd, &key);
	} else if (!bpf_map_lookup_elem(fd, &key, &client)) {
		client.ip = 0;
		client.flags &= ~XPXE_CLIENT_F_OFFERED;
		bpf_map_update_elem(fd, &key, &client, BPF_ANY);
	}
}

/*
 * Offers a previous daemon held (SIGKILL, pins adopted) or that a reload of
 * the file forgot: no longer in the table, so their REQUEST would go unanswered
 * while the program kept OFFERing them. Taken out of the program.
 */
static void drop_stale_offers(struct xpxe_dhcp_server *srv)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients);
	struct xpxe_mac_key key, next, stale[256];
	void *prev = NULL;
	int n;

	do {
		n = 0;
		prev = NULL;
		while (n < 256 && !bpf_map_get_next_key(fd, prev, &next)) {
			struct xpxe_dhcp_client client;
			struct xpxe_lease *lease;

			if (!bpf_map_lookup_elem(fd, &next, &client) &&
			    (client.flags & XPXE_CLIENT_F_OFFERED) &&
			    (!(lease = xpxe_leases_find(&srv->leases, next.addr)) ||
			     !lease->offered))
				stale[n++] = next;
			key = next;
			prev = &key;
		}
		for (int i = 0; i < n; i++)
			unbind_entry(srv, &srv->settings, stale[i].addr);
	} while (n == 256);
}

int xpxe_dhcp_server_start(struct xpxe_dhcp_server *srv, struct xpxe_dataplane *dp,
			   const struct xpxe_dhcp_settings *settings)
{
	const struct xpxe_dhcp_settings *s = settings;
	int err, bad;

	memset(srv, 0, sizeof(*srv));
	srv->packet_fd = -1;
	srv->dp = dp;
	srv->settings = *settings;
	if (!s->enabled || s->mode != XPXE_MODE_FULL)
		return 0;

	err = xpxe_leases_init(&srv->leases, s->leases_path, s->pool_first, s->pool_last);
	if (err) {
		log_error("%s: the pool is too large or reversed (at most 65536 addresses)",
			  dp->ifname);
		return err;
	}
	for (int i = 0; i < s->n_reservations; i++)
		xpxe_leases_reserve_ip(&srv->leases, s->reservations[i].ip);
	for (int i = 0; i < s->n_machines; i++)
		if (s->machines[i].ip.s_addr)
			xpxe_leases_reserve_ip(&srv->leases, s->machines[i].ip);
	bad = xpxe_leases_load(&srv->leases);
	if (bad < 0) {
		log_error("%s: cannot read %s: %s", dp->ifname, s->leases_path, strerror(-bad));
		return bad;
	}
	if (bad > 0 && (err = xpxe_leases_save(&srv->leases))) {
		log_error("%s: cannot rewrite %s: %s", dp->ifname, s->leases_path, strerror(-err));
		return err;
	}
	for (int i = 0; i < srv->leases.n; i++) {
		struct xpxe_lease *lease = &srv->leases.items[i];

		/*
		 * Renewals are answered in XDP and never reach the file, so its expiry says
		 * nothing of a machine still renewing. Adopted maps know (last_seen_ns); a fresh
		 * data plane does not: every binding gets a whole lease before it can be reclaimed.
		 */
		if (!dp->adopted && lease->expires < time(NULL) + (time_t)s->lease_time)
			lease->expires = time(NULL) + (time_t)s->lease_time;
		err = install_binding(srv, lease->mac, lease->ip, 0);
		if (err) {
			log_error("%s: cannot install a binding: %s", dp->ifname, strerror(-err));
			return err;
		}
	}
	drop_stale_offers(srv);
	srv->batch = calloc(BATCH_MAX, sizeof(*srv->batch));
	if (!srv->batch)
		return -ENOMEM;
	srv->queue = ring_buffer__new(bpf_map__fd(dp->skel->maps.dhcp_queue), on_queued, srv, NULL);
	if (!srv->queue) {
		log_error("%s: cannot open the DHCP queue: %s", dp->ifname, strerror(errno));
		return -errno;
	}
	srv->packet_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (srv->packet_fd < 0) {
		err = -errno;
		log_error("%s: cannot open a packet socket for replies: %s", dp->ifname,
			  strerror(errno));
		return err;
	}
	log_info("%s: %d binding(s) from %s", dp->ifname, srv->leases.n, s->leases_path);
	return 0;
}

int xpxe_dhcp_server_fd(const struct xpxe_dhcp_server *srv)
{
	return srv->queue ? ring_buffer__epoll_fd(srv->queue) : -1;
}

/*
 * Runs the program on FRAME, as if it had just arrived, and sends what it answers. A test
 * run's frame comes in on the loopback device: the program parses it in a scratch slot of
 * its own, which a frame from the wire cannot overwrite mid-run (XPXE_DHCP_SCRATCH_RERUN).
 */
static void answer(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q)
{
	unsigned char out[XPXE_DHCP_FRAME_MAX + 512];
	struct sockaddr_ll to = { .sll_family = AF_PACKET };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = q->frame, .data_size_in = q->frame_len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(srv->dp->skel->progs.xdp_pxe), &opts)) {
		log_error("%s: running the program on a queued request failed: %s", srv->dp->ifname,
			  strerror(errno));
		srv->send_errors++;
		return;
	}
	if (opts.retval != XDP_TX)
		return; /* a NAK-less silence, or the binding went away meanwhile */
	to.sll_ifindex = srv->dp->ifindex;
	to.sll_protocol = htons(ETH_P_IP);
	to.sll_halen = 6;
	memcpy(to.sll_addr, out, 6);
	if (sendto(srv->packet_fd, out, opts.data_size_out, 0, (struct sockaddr *)&to, sizeof(to)) <
	    0) {
		log_error("%s: sending a reply failed: %s", srv->dp->ifname, strerror(errno));
		srv->send_errors++;
		return;
	}
	srv->sent++;
}

/* The CLOCK_BOOTTIME of "now", to turn the program's last_seen_ns into wall time. */
static time_t expiry_from_last_seen(__u64 last_seen_ns, unsigned int lease_time)
{
	struct timespec boot;
	__u64 now_ns;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	now_ns = (__u64)boot.tv_sec * 1000000000ull + boot.tv_nsec;
	if (last_seen_ns > now_ns)
		last_seen_ns = now_ns;
	return time(NULL) - (time_t)((now_ns - last_seen_ns) / 1000000000ull) + lease_time;
}

/*
 * Renewals are answered in XDP and never reach the daemon: before it reclaims
 * an "expired" binding, it takes the program's last_seen_ns into account, so
 * an address still in use is never handed to a second machine.
 */
static void refresh_expiries(struct xpxe_dhcp_server *srv)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients);

	for (int i = 0; i < srv->leases.n; i++) {
		struct xpxe_mac_key key = { 0 };
		struct xpxe_dhcp_client client;
		time_t seen;

		memcpy(key.addr, srv->leases.items[i].mac, 6);
		if (bpf_map_lookup_elem(fd, &key, &client) || !client.last_seen_ns)
			continue;
		seen = expiry_from_last_seen(client.last_seen_ns, srv->settings.lease_time);
		if (seen > srv->leases.items[i].expires)
			srv->leases.items[i].expires = seen;
	}
}

/*
 * With default_profile none, only the inventory's machines get an address: they
 * are in dhcp_clients (with address 0 until the pool gives one).
 */
static bool known_or_welcome(struct xpxe_dhcp_server *srv, const unsigned char mac[6])
{
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client;

	if (srv->settings.default_profile >= 0)
		return true;
	memcpy(key.addr, mac, 6);
	return !bpf_map_lookup_elem(bpf_map__fd(srv->dp->skel->maps.dhcp_clients), &key, &client);
}

/*
 * A DISCOVER from a MAC without a binding: an address is held for it (in
 * memory only, for offer_hold seconds) and offered. A flood of DISCOVERs from
 * made-up MACs thus holds the pool only as long as it keeps sending, writes
 * nothing to disk, and every held address goes back once its hold ran out.
 */
static bool hold_offer(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q, time_t now,
		       bool *changed)
{
	struct xpxe_leases *l = &srv->leases;
	struct in_addr want = { .s_addr = q->requested_ip };
	struct xpxe_lease *lease, evicted;
	char mac[18], old[18];
	bool created;

	mac_text(q->mac, mac);
	if (xpxe_leases_pool_full(l))
		refresh_expiries(srv);
	lease = xpxe_leases_allocate(l, q->mac, want, now, &created, &evicted);
	if (!lease) {
		/* Logged once a second at most: a flood would fill the log, not the pool. */
		if (!srv->exhausted || now != srv->exhausted_logged) {
			log_warn("%s: no free address in the pool for %s (%llu new MACs "
				 "refused so far)",
				 srv->dp->ifname, mac, srv->exhausted + 1);
			srv->exhausted_logged = now;
		}
		srv->exhausted++;
		return false;
	}
	if (!created)
		return true; /* bound or held already: offered again */
	if (evicted.ip.s_addr) {
		mac_text(evicted.mac, old);
		unbind_entry(srv, &srv->settings, evicted.mac);
		if (evicted.offered) {
			srv->holds_reclaimed++;
			log_debug("%s: %s never asked for its offer; the address goes to %s",
				  srv->dp->ifname, old, mac);
		} else {
			*changed = true; /* the file loses the expired binding */
			log_info("%s: %s's expired binding goes to %s", srv->dp->ifname, old, mac);
		}
	}
	lease->offered = true;
	lease->expires = now + srv->settings.offer_hold;
	srv->held++;
	return true;
}

/* A REQUEST that reached the daemon: it confirms its offer, or renews a binding. */
static bool bind_request(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q, time_t now,
			 bool *changed)
{
	struct xpxe_lease *lease = xpxe_leases_find(&srv->leases, q->mac);
	char mac[18], ip[INET_ADDRSTRLEN];

	mac_text(q->mac, mac);
	/*
	 * No offer and no binding (INIT-REBOOT of a stranger, a REQUEST for an
	 * offer this daemon never made or has forgotten): RFC 2131 4.3.2 says stay
	 * silent; the client starts over with a DISCOVER. A REQUEST for another
	 * address than the one held is left unanswered too: the daemon only
	 * answers what the program can then ACK.
	 */
	if (!lease || (q->requested_ip && q->requested_ip != lease->ip.s_addr)) {
		srv->unoffered++;
		log_debug("%s: REQUEST from %s for an address it was not offered: silence",
			  srv->dp->ifname, mac);
		return false;
	}
	lease->expires = now + srv->settings.lease_time;
	*changed = true;
	if (lease->offered) {
		lease->offered = false;
		srv->allocated++;
		inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip));
		xpxe_event(XPXE_EV_LEASE_BOUND, mac, ip, srv->dp->ifname, "from the pool", 0);
	}
	return true;
}

/* Holds, binds or unbinds what Q asks; true when the request should then be answered. */
static bool take_request(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q, time_t now,
			 bool *changed)
{
	struct xpxe_leases *l = &srv->leases;
	struct xpxe_lease *lease;
	char mac[18], ip[INET_ADDRSTRLEN];

	mac_text(q->mac, mac);
	switch (q->msg_type) {
	case 1: /* DISCOVER */
	case 3: /* REQUEST */
		if (!known_or_welcome(srv, q->mac)) {
			srv->ignored++;
			log_debug("%s: %s is not in the inventory and default_profile is none",
				  srv->dp->ifname, mac);
			return false;
		}
		return q->msg_type == 1 ? hold_offer(srv, q, now, changed)
					: bind_request(srv, q, now, changed);
	case 4: /* DECLINE: someone else answers ARP for it; never offer it again */
		lease = xpxe_leases_find(l, q->mac);
		if (lease && lease->ip.s_addr == q->requested_ip) {
			inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip));
			log_warn("%s: %s declined %s (in use elsewhere?): quarantined",
				 srv->dp->ifname, mac, ip);
			xpxe_leases_quarantine_ip(l, lease->ip);
			xpxe_leases_remove(l, q->mac);
			unbind_entry(srv, &srv->settings, q->mac);
			srv->declined++;
			*changed = true;
		}
		return false;
	case 7: /* RELEASE: bindings are sticky, the address waits for this MAC */
		srv->released++;
		log_info("%s: %s released its address (kept for its next boot)", srv->dp->ifname,
			 mac);
		return false;
	}
	return false;
}

/* Adds what this round counted to the interface's counters (xpxe.h: written by the daemon). */
static void flush_counters(struct xpxe_dhcp_server *srv)
{
	const struct {
		enum xpxe_counter c;
		unsigned long long *now;
	} own[] = {
		{ XPXE_CNT_DHCP_OFFER_HOLDS, &srv->held },
		{ XPXE_CNT_DHCP_HOLDS_RECLAIMED, &srv->holds_reclaimed },
		{ XPXE_CNT_DHCP_POOL_EXHAUSTED, &srv->exhausted },
		{ XPXE_CNT_DHCP_REQUEST_UNOFFERED, &srv->unoffered },
	};
	int fd = xpxe_dataplane_counters_fd(srv->dp);

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		__u64 *flushed = &srv->flushed[own[i].c - XPXE_CNT_DHCP_OFFER_HOLDS];

		if (*own[i].now != *flushed &&
		    !xpxe_counter_add(fd, own[i].c, *own[i].now - *flushed))
			*flushed = *own[i].now;
	}
}

/* Installs the bindings the map lacks; those there keep their record of the last ACK. */
static void reinstall_missing(struct xpxe_dhcp_server *srv)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients);

	for (int i = 0; i < srv->leases.n; i++) {
		struct xpxe_mac_key key = { 0 };
		struct xpxe_dhcp_client client;

		memcpy(key.addr, srv->leases.items[i].mac, 6);
		if (bpf_map_lookup_elem(fd, &key, &client))
			install_binding(srv, key.addr, srv->leases.items[i].ip, 0);
	}
}

void xpxe_dhcp_server_process(struct xpxe_dhcp_server *srv)
{
	bool answer_it[BATCH_MAX];
	bool changed = false;
	time_t now = time(NULL);
	int err;

	if (!srv->queue)
		return;
	srv->batch_n = 0;
	ring_buffer__consume(srv->queue);
	for (int i = 0; i < srv->batch_n; i++)
		answer_it[i] = take_request(srv, &srv->batch[i], now, &changed);

	/* Durable first: a binding that is not on disk is never installed or offered. */
	if (changed) {
		err = xpxe_leases_save(&srv->leases);
		if (err) {
			srv->save_errors++;
			log_error("%s: cannot save %s: %s; %d request(s) left unanswered",
				  srv->dp->ifname, srv->leases.path, strerror(-err), srv->batch_n);
			/*
			 * Reload what is on disk, so memory never runs ahead of it, and put
			 * its bindings back in the map (an expired one given away in this
			 * batch was taken out of it).
			 */
			xpxe_leases_forget(&srv->leases);
			xpxe_leases_load(&srv->leases);
			drop_stale_offers(srv);
			reinstall_missing(srv);
			return;
		}
	}
	for (int i = 0; i < srv->batch_n; i++) {
		struct xpxe_lease *lease;

		if (!answer_it[i])
			continue;
		lease = xpxe_leases_find(&srv->leases, srv->batch[i].mac);
		/* A held address is OFFERed by the program, which sends its REQUEST back here. */
		if (!lease)
			continue;
		err = install_binding(srv, lease->mac, lease->ip,
				      lease->offered ? XPXE_CLIENT_F_OFFERED : 0);
		if (err) {
			/*
			 * The map is full (E2BIG): the binding (or the offer held) keeps
			 * the address for this MAC, but XDP cannot answer it; each retry
			 * comes back here and is counted, never answered by anything else.
			 */
			char mac[18];

			mac_text(lease->mac, mac);
			srv->install_errors++;
			log_error("%s: cannot install %s's binding in dhcp_clients: %s; request "
				  "left unanswered",
				  srv->dp->ifname, mac,
				  err == -E2BIG ? "the map is full" : strerror(-err));
			continue;
		}
		answer(srv, &srv->batch[i]);
	}
	flush_counters(srv);
}

void xpxe_dhcp_server_stop(struct xpxe_dhcp_server *srv)
{
	if (srv->queue)
		ring_buffer__free(srv->queue);
	if (srv->packet_fd >= 0)
		close(srv->packet_fd);
	xpxe_leases_free(&srv->leases);
	free(srv->batch);
	srv->batch = NULL;
	srv->queue = NULL;
	srv->packet_fd = -1;
}

/* Drops MAC_IN's pool binding (WHY for the log). */
static void drop_binding(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *s,
			 const unsigned char mac_in[6], const char *why)
{
	struct xpxe_lease *lease = xpxe_leases_find(&srv->leases, mac_in);
	char text[18], ip[INET_ADDRSTRLEN];
	unsigned char mac[6];

	if (!lease)
		return;
	/* MAC_IN may point into the table, whose last lease takes the removed one's slot. */
	memcpy(mac, mac_in, 6);
	mac_text(mac, text);
	inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip));
	log_warn("%s: %s's pool binding %s dropped: %s", srv->dp->ifname, text, ip, why);
	xpxe_leases_remove(&srv->leases, mac);
	unbind_entry(srv, s, mac);
}

int xpxe_dhcp_server_sync(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *s,
			  const unsigned char (*gone)[6], int n_gone)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients), n = 0, before, err;
	struct in_addr ips[XPXE_MAX_RESERVATIONS + 1];
	struct in_addr *reserved = ips;

	srv->settings.machines = s->machines;
	srv->settings.n_machines = s->n_machines;
	srv->settings.default_profile = s->default_profile;
	for (int i = 0; i < n_gone; i++) {
		struct xpxe_mac_key key = { 0 };
		struct xpxe_dhcp_client client = { 0 };
		struct xpxe_lease *lease =
		    srv->queue ? xpxe_leases_find(&srv->leases, gone[i]) : NULL;

		if (machine_of(s, gone[i]))
			continue; /* still listed (moved to another machine entry) */
		memcpy(key.addr, gone[i], 6);
		if (lease && s->default_profile >= 0) {
			client.ip = lease->ip.s_addr;
			client.profile = (__u32)s->default_profile;
			client.flags = lease->offered ? XPXE_CLIENT_F_OFFERED : 0;
			bpf_map_update_elem(fd, &key, &client, BPF_ANY);
		} else {
			bpf_map_delete_elem(fd, &key);
		}
	}
	if (!srv->queue)
		return 0; /* proxy mode, or DHCP off: no pool */

	if (s->n_reservations + s->n_machines > XPXE_MAX_RESERVATIONS &&
	    !(reserved = calloc(s->n_reservations + s->n_machines, sizeof(*reserved))))
		return -ENOMEM;
	before = srv->leases.n;
	for (int i = 0; i < s->n_reservations; i++)
		reserved[n++] = s->reservations[i].ip;
	for (int i = 0; i < s->n_machines; i++) {
		const struct xpxe_machine_cfg *m = &s->machines[i];
		struct xpxe_lease *holder;

		if (!m->ip.s_addr)
			continue;
		reserved[n++] = m->ip;
		/* A reserved machine is answered from its reservation: no pool address too. */
		for (int j = 0; j < m->n_macs; j++)
			drop_binding(srv, s, m->macs[j], "the machine has a reservation now");
		holder = xpxe_leases_holder(&srv->leases, m->ip);
		if (holder)
			drop_binding(srv, s, holder->mac, "its address is reserved now");
	}
	for (int i = 0; i < s->n_reservations; i++) {
		struct xpxe_lease *holder = xpxe_leases_holder(&srv->leases, s->reservations[i].ip);

		if (holder && memcmp(holder->mac, s->reservations[i].mac, 6))
			drop_binding(srv, s, holder->mac, "its address is reserved now");
	}
	err = xpxe_leases_set_reserved(&srv->leases, reserved, n);
	if (reserved != ips)
		free(reserved);
	if (err)
		return err;
	if (srv->leases.n != before) {
		err = xpxe_leases_save(&srv->leases);
		if (err) {
			log_error("%s: cannot save %s: %s", srv->dp->ifname, srv->leases.path,
				  strerror(-err));
			return err;
		}
	}
	return before - srv->leases.n;
}
