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
	/* An inventory machine keeps its profile; only the address is the pool's. */
	if (!bpf_map_lookup_elem(fd, &key, &old))
		client.profile = old.profile;
	else if (srv->settings.default_profile >= 0)
		client.profile = (__u32)srv->settings.default_profile;
	if (bpf_map_update_elem(fd, &key, &client, BPF_ANY))
		return -errno;
	return 0;
}

static void uninstall_binding(struct xpxe_dhcp_server *srv, const unsigned char mac[6])
{
	struct xpxe_mac_key key = { 0 };

	memcpy(key.addr, mac, 6);
	bpf_map_delete_elem(bpf_map__fd(srv->dp->skel->maps.dhcp_clients), &key);
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
		err = install_binding(srv, srv->leases.items[i].mac, srv->leases.items[i].ip, 0);
		if (err) {
			log_error("%s: cannot install a binding: %s", dp->ifname, strerror(-err));
			return err;
		}
	}
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

/* Runs the program on FRAME, as if it had just arrived, and sends what it answers. */
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

/* Binds, or unbinds, what Q asks; true when the request should then be answered. */
static bool take_request(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q, time_t now,
			 bool *changed)
{
	struct xpxe_leases *l = &srv->leases;
	struct xpxe_lease *lease, evicted;
	struct in_addr want = { .s_addr = q->requested_ip };
	char mac[18], ip[INET_ADDRSTRLEN];
	bool created;

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
		if (q->msg_type == 3 && !xpxe_leases_find(l, q->mac) &&
		    (!want.s_addr ||
		     (q->server_id && q->server_id != srv->settings.server_ip.s_addr)))
			return false; /* INIT-REBOOT of a stranger: RFC 2131 4.3.2 says stay silent
				       */
		if (xpxe_leases_pool_full(l))
			refresh_expiries(srv);
		lease = xpxe_leases_allocate(l, q->mac, want, now, &created, &evicted);
		if (!lease) {
			srv->exhausted++;
			log_warn("%s: no free address in the pool for %s", srv->dp->ifname, mac);
			return false;
		}
		if (evicted.ip.s_addr) {
			char old[18];

			mac_text(evicted.mac, old);
			uninstall_binding(srv, evicted.mac);
			log_info("%s: %s's expired binding goes to %s", srv->dp->ifname, old, mac);
		}
		lease->expires = now + srv->settings.lease_time;
		*changed = true;
		if (created) {
			srv->allocated++;
			inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip));
			xpxe_event(XPXE_EV_LEASE_BOUND, mac, ip, srv->dp->ifname, "from the pool",
				   0);
		}
		return true;
	case 4: /* DECLINE: someone else answers ARP for it; never offer it again */
		lease = xpxe_leases_find(l, q->mac);
		if (lease && lease->ip.s_addr == q->requested_ip) {
			inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip));
			log_warn("%s: %s declined %s (in use elsewhere?): quarantined",
				 srv->dp->ifname, mac, ip);
			xpxe_leases_reserve_ip(l, lease->ip);
			xpxe_leases_remove(l, q->mac);
			uninstall_binding(srv, q->mac);
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
			log_error("%s: cannot save %s: %s; %d request(s) left unanswered",
				  srv->dp->ifname, srv->leases.path, strerror(-err), srv->batch_n);
			/* Reload what is on disk, so memory never runs ahead of it. */
			xpxe_leases_forget(&srv->leases);
			xpxe_leases_load(&srv->leases);
			return;
		}
	}
	for (int i = 0; i < srv->batch_n; i++) {
		struct xpxe_lease *lease;

		if (!answer_it[i])
			continue;
		lease = xpxe_leases_find(&srv->leases, srv->batch[i].mac);
		if (!lease || install_binding(srv, lease->mac, lease->ip, 0))
			continue;
		answer(srv, &srv->batch[i]);
	}
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
