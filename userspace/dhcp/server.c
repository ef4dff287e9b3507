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
#include "dhcp/dhcp.h"
#include "dataplane.h"
#include "dhcp/server.h"
#include "events.h"
#include "log.h"

#define BATCH_MAX 256

/* The bindings of network NET (0: the untagged one; a VLAN's when it has a pool), or NULL. */
static struct xpxe_leases *leases_of(struct xpxe_dhcp_server *srv, unsigned int net)
{
	if (!net)
		return &srv->leases;
	if (net > XPXE_VLAN_MAX || !srv->vlan_leases[net - 1].pool_size)
		return NULL;
	return &srv->vlan_leases[net - 1];
}

/* The interface events name for network NET: IFACE, or IFACE.VID for a VLAN. */
static const char *iface_of(const struct xpxe_dhcp_server *srv, unsigned int net, char *buf,
			    size_t size)
{
	char vlan[16];

	if (!net || net > (unsigned int)srv->settings.n_vlans)
		return srv->dp->ifname;
	xpxe_vlan_name(&srv->settings.vlans[net - 1], vlan, sizeof(vlan));
	snprintf(buf, size, "%s.%s", srv->dp->ifname, vlan);
	return buf;
}

/* MAC's entry in any network's table (its network in *NET), or NULL. */
static struct xpxe_lease *find_any(struct xpxe_dhcp_server *srv, const unsigned char mac[6],
				   unsigned int *net)
{
	struct xpxe_lease *lease = xpxe_leases_find(&srv->leases, mac);

	*net = 0;
	for (int i = 0; !lease && i < XPXE_VLAN_MAX; i++)
		if (srv->vlan_leases[i].pool_size &&
		    (lease = xpxe_leases_find(&srv->vlan_leases[i], mac)))
			*net = (unsigned int)i + 1;
	return lease;
}

/*
 * The address reserved for MAC (--reserve, or its machine's ip) when it is on network NET of
 * this interface, else 0. A reserved machine that moved to another network and back gets its
 * reservation again from here: XDP answers a binding only on its own network.
 */
static in_addr_t reserved_on(const struct xpxe_dhcp_server *srv, const unsigned char mac[6],
			     unsigned int net)
{
	const struct xpxe_dhcp_settings *s = &srv->settings;
	struct in_addr ip = { 0 };

	for (int i = 0; !ip.s_addr && i < s->n_machines; i++)
		for (int j = 0; j < s->machines[i].n_macs; j++)
			if (!memcmp(s->machines[i].macs[j], mac, 6))
				ip = s->machines[i].ip;
	for (int i = 0; !ip.s_addr && i < s->n_reservations; i++)
		if (!memcmp(s->reservations[i].mac, mac, 6))
			ip = s->reservations[i].ip;
	if (!ip.s_addr || xpxe_net_of_ip(s, srv->dp->ifname, ip) != net)
		return 0;
	return ip.s_addr;
}

/* Q is a DISCOVER or REQUEST of a MAC with a reservation on Q's network. */
static bool asks_reservation(const struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q)
{
	return (q->msg_type == 1 || q->msg_type == 3) && reserved_on(srv, q->mac, q->net);
}

unsigned int xpxe_dhcp_queued_net(const struct xpxe_vlan_cfg *vlans, int n_vlans,
				  const struct xpxe_dhcp_queued *q)
{
	unsigned int outer = ntohs(q->tci[0]) & 0xfffu, inner = ntohs(q->tci[1]) & 0xfffu;

	for (int i = 0; i < n_vlans; i++)
		if (vlans[i].outer_vid ? vlans[i].outer_vid == outer && vlans[i].vid == inner
				       : vlans[i].vid == outer && !q->tci[1])
			return (unsigned int)i + 1;
	return 0;
}

static int on_queued(void *ctx, void *data, size_t size)
{
	struct xpxe_dhcp_server *srv = ctx;
	struct xpxe_dhcp_queued *q;

	if (size < sizeof(struct xpxe_dhcp_queued))
		return 0;
	if (srv->batch_n >= BATCH_MAX) /* not reached: the round stops at a full batch */
		return -E2BIG;
	q = &srv->batch[srv->batch_n];
	memcpy(q, data, sizeof(*q));
	/*
	 * A VLAN's request: its net again from its tags, under the VLANs of now. A reload
	 * between its queueing and this round renumbers the nets (a VLAN added or removed
	 * before its own), never the tags: by the net it came with, it was another VLAN's
	 * request, answered with that VLAN's tags and settings. Its VLAN gone: unanswered.
	 */
	if (q->net) {
		q->net = (__u16)xpxe_dhcp_queued_net(
		    srv->settings.vlans,
		    strcmp(srv->dp->ifname, srv->settings.vlan_ifname) ? 0 : srv->settings.n_vlans,
		    q);
		if (!q->net) {
			srv->vlan_unanswered++;
			return 0;
		}
	}
	/*
	 * A request from a VLAN (bpf/vlan.h) of a MAC XDP could not answer: that VLAN's pool
	 * takes it; a VLAN without one answers only its reservations (never from the
	 * untagged network's pool).
	 */
	if (!leases_of(srv, q->net) && !reserved_on(srv, q->mac, q->net)) {
		if (!srv->vlan_unanswered++)
			log_warn("%s: a machine without a reservation asked for an address on a "
				 "VLAN without a pool: give the VLAN one (,pool=FIRST-LAST) or "
				 "reserve its address (--reserve MAC=IP)%s",
				 srv->dp->ifname,
				 srv->reqs ? " (VLAN pools do not work with a shared store yet)"
					   : "");
		return 0;
	}
	srv->batch_n++;
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

/* MAC's binding to IP on network NET (xpxe_vlan.h), for XDP to answer there. */
static int install_binding(struct xpxe_dhcp_server *srv, const unsigned char mac[6],
			   struct in_addr ip, __u32 flags, unsigned int net)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients);
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client = { .ip = ip.s_addr, .flags = flags, .net = net }, old;

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

/*
 * MAC's map entry once it holds no pool address IP: an inventory machine keeps its entry. An
 * entry with another address is left alone: the MAC moved to another network, whose binding
 * it is (IP 0: whatever the entry holds).
 */
static void unbind_entry(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *s,
			 const unsigned char mac[6], struct in_addr ip)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients);
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client;

	memcpy(key.addr, mac, 6);
	if (ip.s_addr && (bpf_map_lookup_elem(fd, &key, &client) || client.ip != ip.s_addr))
		return;
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
			unsigned int net;

			if (!bpf_map_lookup_elem(fd, &next, &client) &&
			    (client.flags & XPXE_CLIENT_F_OFFERED) &&
			    (!(lease = find_any(srv, next.addr, &net)) || !lease->offered))
				stale[n++] = next;
			key = next;
			prev = &key;
		}
		for (int i = 0; i < n; i++)
			unbind_entry(srv, &srv->settings, stale[i].addr, (struct in_addr){ 0 });
	} while (n == 256);
}

/* FNV-1a of NAME: where this responder starts looking for a free address. */
static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

/*
 * The pools of S's VLANs on this interface: a table each, in a file of its own beside the
 * untagged network's (LEASES.vlanVID), its bindings installed. Not with a shared store
 * (its transactions know one pool per responder): those VLANs answer reservations only.
 */
static int start_vlan_pools(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *s,
			    struct xpxe_store *store)
{
	char name[16], path[sizeof(srv->leases.path)];
	int err;

	for (int i = 0; i < s->n_vlans && !strcmp(srv->dp->ifname, s->vlan_ifname); i++) {
		const struct xpxe_vlan_cfg *v = &s->vlans[i];
		struct xpxe_leases *l = &srv->vlan_leases[i];

		if (!v->pool_first.s_addr)
			continue;
		xpxe_vlan_name(v, name, sizeof(name));
		if (xpxe_store_shared(store)) {
			log_warn(
			    "%s: VLAN %s: its pool is not served with a shared store (not yet): "
			    "reservations only",
			    srv->dp->ifname, name);
			continue;
		}
		if (snprintf(path, sizeof(path), "%s.vlan%s", s->leases_path, name) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		err = xpxe_leases_init(l, path, v->pool_first, v->pool_last);
		if (err)
			return err;
		for (int j = 0; j < s->n_reservations; j++)
			xpxe_leases_reserve_ip(l, s->reservations[j].ip);
		for (int j = 0; j < s->n_machines; j++)
			if (s->machines[j].ip.s_addr)
				xpxe_leases_reserve_ip(l, s->machines[j].ip);
		err = xpxe_leases_load(l);
		if (err > 0)
			err = xpxe_leases_save(l);
		if (err < 0) {
			log_error("%s: VLAN %s: cannot read or rewrite %s: %s", srv->dp->ifname,
				  name, path, strerror(-err));
			return err;
		}
		for (int j = 0; j < l->n; j++) {
			if (!srv->dp->adopted &&
			    l->items[j].expires < time(NULL) + (time_t)s->lease_time)
				l->items[j].expires = time(NULL) + (time_t)s->lease_time;
			err = install_binding(srv, l->items[j].mac, l->items[j].ip, 0, i + 1);
			if (err)
				return err;
		}
		log_info("%s: VLAN %s: a pool of %u address(es), %d binding(s) from %s",
			 srv->dp->ifname, name, l->pool_size, l->n, path);
	}
	return 0;
}

int xpxe_dhcp_server_start(struct xpxe_dhcp_server *srv, struct xpxe_dataplane *dp,
			   const struct xpxe_dhcp_settings *settings, struct xpxe_store *store)
{
	const struct xpxe_dhcp_settings *s = settings;
	int err, bad;

	memset(srv, 0, sizeof(*srv));
	srv->packet_fd = -1;
	srv->dp = dp;
	srv->settings = *settings;
	srv->store = store;
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
		err = install_binding(srv, lease->mac, lease->ip, 0, 0);
		if (err) {
			log_error("%s: cannot install a binding: %s", dp->ifname, strerror(-err));
			return err;
		}
	}
	err = start_vlan_pools(srv, s, store);
	if (err)
		return err;
	drop_stale_offers(srv);
	srv->batch = calloc(BATCH_MAX, sizeof(*srv->batch));
	if (!srv->batch)
		return -ENOMEM;
	if (xpxe_store_shared(store)) {
		/* Responders sharing the pool look for free addresses from different places. */
		if (srv->leases.pool_size)
			srv->leases.scan_from =
			    name_hash(xpxe_store_name(store)) % srv->leases.pool_size;
		srv->reqs = calloc(BATCH_MAX, sizeof(*srv->reqs));
		if (!srv->reqs)
			return -ENOMEM;
	}
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
	log_info("%s: %d binding(s) from %s%s", dp->ifname, srv->leases.n, s->leases_path,
		 xpxe_store_shared(store) ? " (this responder's copy; the store's follow)" : "");
	return 0;
}

int xpxe_dhcp_server_fd(const struct xpxe_dhcp_server *srv)
{
	return srv->queue ? ring_buffer__epoll_fd(srv->queue) : -1;
}

size_t xpxe_dhcp_queued_tagged(const struct xpxe_vlan_cfg *v, const struct xpxe_dhcp_queued *q,
			       unsigned char *out)
{
	/* The request's priority bits (PCP, DEI), outer tag first, as xdp_pxe keeps them. */
	unsigned int outer_bits = ntohs(q->tci[0]) & 0xf000u,
		     bits = ntohs(q->tci[v->outer_vid ? 1 : 0]) & 0xf000u;
	size_t off = 12;

	memcpy(out, q->frame, off);
	if (v->outer_vid) {
		out[off++] = 0x88;
		out[off++] = 0xa8;
		out[off++] = (unsigned char)((outer_bits | v->outer_vid) >> 8);
		out[off++] = (unsigned char)v->outer_vid;
	}
	out[off++] = 0x81;
	out[off++] = 0x00;
	out[off++] = (unsigned char)((bits | v->vid) >> 8);
	out[off++] = (unsigned char)v->vid;
	memcpy(out + off, q->frame + 12, q->frame_len - 12u);
	return off + q->frame_len - 12u;
}

/*
 * Runs the program on FRAME, as if it had just arrived, and sends what it answers. A test
 * run's frame comes in on the loopback device: the program parses it in a scratch slot of
 * its own, which a frame from the wire cannot overwrite mid-run (XPXE_DHCP_SCRATCH_RERUN).
 */
static void answer(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q)
{
	unsigned char out[XPXE_DHCP_FRAME_MAX + 512], in[XPXE_DHCP_QUEUE_FRAME_MAX + 8];
	struct sockaddr_ll to = { .sll_family = AF_PACKET };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = q->frame, .data_size_in = q->frame_len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	/*
	 * A VLAN's request was queued untagged: its tags go back on (its priority bits with
	 * them), so the program answers it as that VLAN's and tags the reply, as on the wire.
	 */
	if (q->net && q->net <= srv->settings.n_vlans && q->frame_len >= 14 &&
	    q->frame_len <= XPXE_DHCP_QUEUE_FRAME_MAX) {
		opts.data_in = in;
		opts.data_size_in =
		    (unsigned int)xpxe_dhcp_queued_tagged(&srv->settings.vlans[q->net - 1], q, in);
	} else if (q->net) {
		return; /* never: on_queued numbered it under the VLANs of now */
	}

	if (bpf_prog_test_run_opts(bpf_program__fd(srv->dp->xdp), &opts)) {
		log_error("%s: running the program on a queued request failed: %s", srv->dp->ifname,
			  strerror(errno));
		srv->send_errors++;
		return;
	}
	if (opts.retval != XDP_TX)
		return; /* a NAK-less silence, or the binding went away meanwhile */
	to.sll_ifindex = srv->dp->ifindex;
	/* The reply's own ethertype: IPv4, or its VLAN's tag. */
	memcpy(&to.sll_protocol, out + 12, sizeof(to.sll_protocol));
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

/*
 * The CLOCK_MONOTONIC of "now" (the program's clock, xpxe_dhcp.h), to turn its last_seen_ns
 * into wall time. A host's suspended time does not age a lease: xpxe serves, it does not sleep.
 */
static time_t expiry_from_last_seen(__u64 last_seen_ns, unsigned int lease_time)
{
	struct timespec mono;
	__u64 now_ns;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	now_ns = (__u64)mono.tv_sec * 1000000000ull + mono.tv_nsec;
	if (last_seen_ns > now_ns)
		last_seen_ns = now_ns;
	return time(NULL) - (time_t)((now_ns - last_seen_ns) / 1000000000ull) + lease_time;
}

/*
 * Renewals are answered in XDP and never reach the daemon: before it reclaims
 * an "expired" binding, it takes the program's last_seen_ns into account, so
 * an address still in use is never handed to a second machine.
 */
static void refresh_expiries(struct xpxe_dhcp_server *srv, struct xpxe_leases *l)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients);

	for (int i = 0; i < l->n; i++) {
		struct xpxe_mac_key key = { 0 };
		struct xpxe_dhcp_client client;
		time_t seen;

		memcpy(key.addr, l->items[i].mac, 6);
		/*
		 * Another responder's binding: its renewals go to that responder, which this one
		 * cannot see. While that responder lives, the binding is taken as in use.
		 */
		if (l->items[i].by[0] && strcmp(l->items[i].by, xpxe_store_name(srv->store)) &&
		    xpxe_store_responder_alive(srv->store, l->items[i].by)) {
			l->items[i].expires = time(NULL) + srv->settings.lease_time;
			continue;
		}
		/* Another address: the MAC is bound on another network now, not renewing this. */
		if (bpf_map_lookup_elem(fd, &key, &client) || !client.last_seen_ns ||
		    client.ip != l->items[i].ip.s_addr)
			continue;
		seen = expiry_from_last_seen(client.last_seen_ns, srv->settings.lease_time);
		if (seen > l->items[i].expires)
			l->items[i].expires = seen;
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
 * Q's MAC's binding, or a free pool address for it (an expired binding when the pool is
 * full: its holder in *EVICTED); NULL, counted and logged once a second, when there is none.
 */
static struct xpxe_lease *take_address(struct xpxe_dhcp_server *srv, struct xpxe_leases *l,
				       const struct xpxe_dhcp_queued *q, time_t now, bool *created,
				       struct xpxe_lease *evicted)
{
	struct in_addr want = { .s_addr = q->requested_ip };
	struct xpxe_lease *lease;
	char mac[18];

	if (xpxe_leases_pool_full(l))
		refresh_expiries(srv, l);
	lease = xpxe_leases_allocate(l, q->mac, want, now, created, evicted);
	if (lease)
		return lease;
	/* Logged once a second at most: a flood would fill the log, not the pool. */
	mac_text(q->mac, mac);
	if (!srv->exhausted || now != srv->exhausted_logged) {
		log_warn("%s: no free address in the pool for %s (%llu new MACs refused so far)",
			 srv->dp->ifname, mac, srv->exhausted + 1);
		srv->exhausted_logged = now;
	}
	srv->exhausted++;
	return NULL;
}

/*
 * A DISCOVER from a MAC without a binding: an address is held for it (in
 * memory only, for offer_hold seconds) and offered. A flood of DISCOVERs from
 * made-up MACs thus holds the pool only as long as it keeps sending, writes
 * nothing to disk, and every held address goes back once its hold ran out.
 */
static bool hold_offer(struct xpxe_dhcp_server *srv, struct xpxe_leases *l,
		       const struct xpxe_dhcp_queued *q, time_t now, bool *changed)
{
	struct xpxe_lease *lease, evicted;
	char mac[18], old[18];
	bool created;

	mac_text(q->mac, mac);
	lease = take_address(srv, l, q, now, &created, &evicted);
	if (!lease)
		return false;
	if (!created)
		return true; /* bound or held already: offered again */
	if (evicted.ip.s_addr) {
		mac_text(evicted.mac, old);
		unbind_entry(srv, &srv->settings, evicted.mac, evicted.ip);
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
static bool bind_request(struct xpxe_dhcp_server *srv, struct xpxe_leases *l,
			 const struct xpxe_dhcp_queued *q, time_t now, bool *changed)
{
	struct xpxe_lease *lease = xpxe_leases_find(l, q->mac);
	char mac[18], ip[INET_ADDRSTRLEN], iface[40];

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
		xpxe_event(XPXE_EV_LEASE_BOUND, mac, ip,
			   iface_of(srv, q->net, iface, sizeof(iface)), "from the pool", 0);
	}
	return true;
}

/* Holds, binds or unbinds what Q asks; true when the request should then be answered. */
static bool take_request(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q, time_t now,
			 bool *changed)
{
	struct xpxe_leases *l = leases_of(srv, q->net);
	struct xpxe_lease *lease;
	char mac[18], ip[INET_ADDRSTRLEN];

	mac_text(q->mac, mac);
	if (!l)
		return false; /* not queued (on_queued) */
	switch (q->msg_type) {
	case 1: /* DISCOVER */
	case 3: /* REQUEST */
		if (!known_or_welcome(srv, q->mac)) {
			srv->ignored++;
			log_debug("%s: %s is not in the inventory and default_profile is none",
				  srv->dp->ifname, mac);
			return false;
		}
		return q->msg_type == 1 ? hold_offer(srv, l, q, now, changed)
					: bind_request(srv, l, q, now, changed);
	case 4: /* DECLINE: someone else answers ARP for it; never offer it again */
		lease = xpxe_leases_find(l, q->mac);
		if (lease && lease->ip.s_addr == q->requested_ip) {
			struct in_addr declined = lease->ip; /* LEASE goes from the table */

			inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip));
			log_warn("%s: %s declined %s (in use elsewhere?): quarantined",
				 srv->dp->ifname, mac, ip);
			xpxe_leases_quarantine_ip(l, declined);
			xpxe_leases_remove(l, q->mac);
			unbind_entry(srv, &srv->settings, q->mac, declined);
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
			install_binding(srv, key.addr, srv->leases.items[i].ip, 0, 0);
	}
}

/* --- a shared store (etcd): bindings agreed with the other responders ------------------------ */

static void answer_batch(struct xpxe_dhcp_server *srv, const bool *answer_it);

static void to_store(const struct xpxe_lease *lease, struct xpxe_store_lease *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->mac, lease->mac, 6);
	out->ip = lease->ip;
	out->expires = lease->expires;
	out->offered = lease->offered;
	out->rev = lease->rev;
	snprintf(out->by, sizeof(out->by), "%s", lease->by);
}

/* Removes MAC_IN's entry from the table and its pool address from dhcp_clients. */
static void forget(struct xpxe_dhcp_server *srv, const unsigned char mac_in[6])
{
	struct xpxe_lease *lease = xpxe_leases_find(&srv->leases, mac_in);
	struct in_addr ip = { lease ? lease->ip.s_addr : 0 };
	unsigned char mac[6];

	memcpy(mac, mac_in, 6); /* MAC_IN may point into the table */
	xpxe_leases_remove(&srv->leases, mac);
	unbind_entry(srv, &srv->settings, mac, ip);
	srv->copy_dirty = true;
}

/*
 * Takes SL (what the store holds) into the table, in place of whatever disagrees with it,
 * and into dhcp_clients, so XDP answers that MAC as every responder does. NULL when its
 * address is not in this pool (another segment's), or older than what the table has.
 */
static struct xpxe_lease *adopt(struct xpxe_dhcp_server *srv, const struct xpxe_store_lease *sl)
{
	struct xpxe_leases *l = &srv->leases;
	struct xpxe_lease *cur, fresh = { 0 };

	if (!xpxe_leases_in_pool(l, sl->ip))
		return NULL;
	cur = xpxe_leases_find(l, sl->mac);
	if (cur && cur->rev > sl->rev && sl->rev)
		return cur->ip.s_addr == sl->ip.s_addr ? cur : NULL;
	if (cur && cur->ip.s_addr != sl->ip.s_addr) {
		forget(srv, sl->mac);
		cur = NULL;
	}
	if (!cur) {
		struct xpxe_lease *other = xpxe_leases_holder(l, sl->ip);

		if (other)
			forget(srv, other->mac);
		memcpy(fresh.mac, sl->mac, 6);
		fresh.ip = sl->ip;
		cur = xpxe_leases_put(l, &fresh);
		if (!cur)
			return NULL;
	}
	if (cur->offered != sl->offered || cur->expires != sl->expires || cur->rev != sl->rev)
		srv->copy_dirty = true;
	cur->offered = sl->offered;
	cur->expires = sl->expires;
	cur->rev = sl->rev;
	snprintf(cur->by, sizeof(cur->by), "%s", sl->by);
	cur->seen = true;
	install_binding(srv, cur->mac, cur->ip, cur->offered ? XPXE_CLIENT_F_OFFERED : 0, 0);
	return cur;
}

/* The store is away: the new machine gets nothing (never a guess that could double-book). */
static void refuse_away(struct xpxe_dhcp_server *srv, const unsigned char *m, time_t now)
{
	char mac[18];

	mac_text(m, mac);
	if (now != srv->store_refused_logged) {
		log_warn("%s: the store is away: %s (a new machine) gets no address until it is "
			 "back (%llu refused so far)",
			 srv->dp->ifname, mac, srv->store_refused + 1);
		srv->store_refused_logged = now;
	}
	srv->store_refused++;
}

/*
 * What request Q needs: nothing more (*ANSWER says whether to answer), or the transaction
 * in REQ (true). A DISCOVER of a new MAC takes a free address of the table (which holds
 * every responder's bindings) and holds it in the store; a REQUEST for a held address
 * binds it there. MOVED: the MAC's binding on another segment, which the hold takes over.
 */
static bool plan(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q, time_t now,
		 const struct xpxe_store_lease *moved, bool *answer,
		 struct xpxe_store_lease_req *req)
{
	struct xpxe_leases *l = &srv->leases;
	struct xpxe_lease *lease = xpxe_leases_find(l, q->mac), evicted;
	bool created;
	char mac[18];

	*answer = false;
	memset(req, 0, sizeof(*req));
	mac_text(q->mac, mac);
	if (asks_reservation(srv, q)) {
		*answer = true; /* from its reservation: answer_batch */
		return false;
	}
	switch (q->msg_type) {
	case 1: /* DISCOVER */
	case 3: /* REQUEST */
		if (!known_or_welcome(srv, q->mac)) {
			srv->ignored++;
			return false;
		}
		break;
	case 4: /* DECLINE */
		if (lease && lease->ip.s_addr == q->requested_ip) {
			log_warn("%s: %s declined its address (in use elsewhere?): quarantined",
				 srv->dp->ifname, mac);
			req->op = XPXE_STORE_RELEASE;
			to_store(lease, &req->want);
			xpxe_leases_quarantine_ip(l, lease->ip);
			forget(srv, q->mac);
			srv->declined++;
			return true;
		}
		return false;
	case 7: /* RELEASE: sticky, as without a store */
		srv->released++;
		return false;
	default:
		return false;
	}
	if (q->msg_type == 3) {
		if (!lease || (q->requested_ip && q->requested_ip != lease->ip.s_addr)) {
			srv->unoffered++;
			return false;
		}
		if (!lease->offered) {
			*answer = true; /* bound already, by this responder or another */
			return false;
		}
		if (!xpxe_store_up(srv->store)) {
			refuse_away(srv, q->mac, now);
			return false;
		}
		req->op = XPXE_STORE_BIND;
		to_store(lease, &req->want);
		req->want.offered = false;
		req->want.expires = now + srv->settings.lease_time;
		return true;
	}
	if (lease) {
		*answer = true; /* held or bound (by anyone): offered again, the same address */
		return false;
	}
	if (!xpxe_store_up(srv->store)) {
		refuse_away(srv, q->mac, now);
		return false;
	}
	lease = take_address(srv, &srv->leases, q, now, &created, &evicted);
	if (!lease)
		return false;
	lease->offered = true;
	lease->expires = now + srv->settings.offer_hold;
	lease->rev = 0;
	lease->by[0] = '\0';
	req->op = XPXE_STORE_HOLD;
	to_store(lease, &req->want);
	if (evicted.ip.s_addr) {
		unbind_entry(srv, &srv->settings, evicted.mac, evicted.ip);
		req->replace = true;
		to_store(&evicted, &req->replaced);
	} else if (moved) {
		req->replace = true;
		req->replaced = *moved;
	}
	return true;
}

/* The answer to one transaction; true when its request is to be planned again. */
static bool settle(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_queued *q,
		   struct xpxe_store_lease_req *req, time_t now, bool *answer)
{
	struct xpxe_lease *lease = xpxe_leases_find(&srv->leases, q->mac);
	const char *me = xpxe_store_name(srv->store);
	char mac[18], ip[INET_ADDRSTRLEN];

	mac_text(q->mac, mac);
	if (req->op == XPXE_STORE_RELEASE)
		return false;
	if (req->err == 0) {
		if (!lease || lease->ip.s_addr != req->want.ip.s_addr)
			return false; /* the watch moved it meanwhile: its next request is served */
		lease->rev = req->rev;
		snprintf(lease->by, sizeof(lease->by), "%s", me);
		if (req->op == XPXE_STORE_BIND) {
			lease->offered = false;
			lease->expires = req->want.expires;
			srv->allocated++;
			inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip));
			xpxe_event(XPXE_EV_LEASE_BOUND, mac, ip, srv->dp->ifname,
				   "from the pool, in the store", 0);
		} else {
			srv->held++;
		}
		srv->copy_dirty = true;
		*answer = true;
		return false;
	}
	if (req->err != -EEXIST) {
		/* The store went away in the middle: no address for it (never a guess). */
		if (req->op == XPXE_STORE_HOLD && lease && !lease->rev)
			forget(srv, q->mac);
		refuse_away(srv, q->mac, now);
		return false;
	}
	srv->store_conflicts++;
	if (req->op == XPXE_STORE_HOLD && lease && !lease->rev)
		forget(srv, q->mac); /* the candidate address was not ours to give */
	if (req->have_by_ip && memcmp(req->by_ip.mac, q->mac, 6))
		adopt(srv, &req->by_ip); /* another MAC has that address: the table learns it */
	if (!req->have_by_mac) {
		/* The MAC has nothing in the store: a hold that ran out before its REQUEST. */
		if (req->op == XPXE_STORE_BIND && lease)
			forget(srv, q->mac);
		return req->op == XPXE_STORE_HOLD;
	}
	if (!xpxe_leases_in_pool(&srv->leases, req->by_mac.ip)) {
		/* The MAC was bound on another segment: it moves here (HOLD replacing it). */
		if (req->op != XPXE_STORE_HOLD || req->replace)
			return false;
		return true;
	}
	lease = adopt(srv, &req->by_mac);
	if (!lease)
		return false;
	if (req->op == XPXE_STORE_HOLD || !lease->offered) {
		/* Another responder holds or bound this MAC: the same address, from here too. */
		*answer = true;
		return false;
	}
	/* BIND: held again meanwhile (by another responder): bind at its revision. */
	return lease->ip.s_addr == req->want.ip.s_addr;
}

/*
 * The batch against the store: every request's transaction at once, then those that lost a
 * race (the address was taken meanwhile) planned again with what the store said, a few times.
 */
static void process_shared(struct xpxe_dhcp_server *srv, bool *answer_it, time_t now)
{
	static struct xpxe_store_lease moved[BATCH_MAX];
	static bool has_moved[BATCH_MAX];
	int todo[BATCH_MAX], n_todo = 0, slot[BATCH_MAX];

	for (int i = 0; i < srv->batch_n; i++) {
		todo[n_todo++] = i;
		has_moved[i] = false;
	}
	for (int round = 0; round < 4 && n_todo; round++) {
		int n = 0, again = 0;

		for (int t = 0; t < n_todo; t++) {
			int i = todo[t];

			if (plan(srv, &srv->batch[i], now, has_moved[i] ? &moved[i] : NULL,
				 &answer_it[i], &srv->reqs[n]))
				slot[n++] = i;
		}
		xpxe_store_leases(srv->store, srv->reqs, n, srv->settings.offer_hold);
		for (int k = 0; k < n; k++) {
			struct xpxe_store_lease_req *req = &srv->reqs[k];
			int i = slot[k];

			if (!settle(srv, &srv->batch[i], req, now, &answer_it[i]))
				continue;
			if (req->have_by_mac && req->op == XPXE_STORE_HOLD &&
			    !xpxe_leases_in_pool(&srv->leases, req->by_mac.ip)) {
				moved[i] = req->by_mac;
				has_moved[i] = true;
			}
			todo[again++] = i;
		}
		n_todo = again;
	}
}

void xpxe_dhcp_server_apply(struct xpxe_dhcp_server *srv,
			    const struct xpxe_store_lease_change *changes, int n, bool snapshot,
			    long long snapshot_rev)
{
	struct xpxe_leases *l = &srv->leases;
	int before = l->n;

	if (!srv->reqs)
		return; /* no pool here, or no shared store */
	if (snapshot)
		for (int i = 0; i < l->n; i++)
			l->items[i].seen = false;
	for (int i = 0; i < n; i++) {
		const struct xpxe_store_lease_change *c = &changes[i];
		struct xpxe_lease *holder;

		if (!c->deleted) {
			adopt(srv, &c->lease);
			continue;
		}
		holder = xpxe_leases_holder(l, c->lease.ip);
		/* A delete older than what the table has (a new hold on the address) is stale. */
		if (holder && (!holder->rev || holder->rev <= c->lease.rev))
			forget(srv, holder->mac);
	}
	if (snapshot) {
		/* What the store no longer has goes; holds this responder is making stay. */
		for (int i = l->n - 1; i >= 0; i--)
			if (!l->items[i].seen && l->items[i].rev <= snapshot_rev &&
			    (l->items[i].rev || !l->items[i].offered) &&
			    xpxe_leases_in_pool(l, l->items[i].ip))
				forget(srv, l->items[i].mac);
		log_info("%s: %d binding(s) of the pool after reading the store (%d before)",
			 srv->dp->ifname, l->n - xpxe_leases_offered(l), before);
	}
}

void xpxe_dhcp_server_tick(struct xpxe_dhcp_server *srv)
{
	int err;

	if (!srv->queue || !srv->copy_dirty)
		return;
	err = xpxe_leases_save(&srv->leases);
	if (err) {
		srv->save_errors++;
		log_error("%s: cannot save the copy of the bindings %s: %s (the store has them)",
			  srv->dp->ifname, srv->leases.path, strerror(-err));
		return;
	}
	srv->copy_dirty = false;
}

/*
 * Writes VLAN NET's bindings; on failure (counted, logged) the table goes back to what its
 * file holds and false is returned: the request that changed it stays unanswered.
 */
static bool save_vlan(struct xpxe_dhcp_server *srv, unsigned int net)
{
	struct xpxe_leases *l = leases_of(srv, net);
	int err = l ? xpxe_leases_save(l) : -ENOENT;

	if (!err)
		return true;
	srv->save_errors++;
	if (!l)
		return false;
	log_error("%s: cannot save %s: %s; the request is left unanswered", srv->dp->ifname,
		  l->path, strerror(-err));
	xpxe_leases_forget(l);
	xpxe_leases_load(l);
	drop_stale_offers(srv);
	return false;
}

void xpxe_dhcp_server_process(struct xpxe_dhcp_server *srv)
{
	bool answer_it[BATCH_MAX];
	bool changed = false, vlan_changed;
	time_t now = time(NULL);
	int err;

	if (!srv->queue)
		return;
	srv->batch_n = 0;
	ring_buffer__consume(srv->queue);
	if (srv->reqs) {
		process_shared(srv, answer_it, now);
		answer_batch(srv, answer_it);
		return;
	}
	for (int i = 0; i < srv->batch_n; i++) {
		if (asks_reservation(srv, &srv->batch[i])) {
			answer_it[i] = true; /* from its reservation: answer_batch */
			continue;
		}
		if (!srv->batch[i].net) {
			answer_it[i] = take_request(srv, &srv->batch[i], now, &changed);
			continue;
		}
		/* A VLAN's pool: its file is written before its answers go, as below. */
		vlan_changed = false;
		answer_it[i] = take_request(srv, &srv->batch[i], now, &vlan_changed);
		if (vlan_changed && !save_vlan(srv, srv->batch[i].net))
			answer_it[i] = false;
	}

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
	answer_batch(srv, answer_it);
}

/* Installs what the batch's answered requests hold in dhcp_clients and answers them. */
static void answer_batch(struct xpxe_dhcp_server *srv, const bool *answer_it)
{
	struct in_addr reserved;
	int err;

	for (int i = 0; i < srv->batch_n; i++) {
		struct xpxe_lease *lease;

		if (!answer_it[i])
			continue;
		reserved.s_addr = reserved_on(srv, srv->batch[i].mac, srv->batch[i].net);
		if (reserved.s_addr) {
			/* Back on its reservation's network: the reservation, for XDP to answer. */
			if (!install_binding(srv, srv->batch[i].mac, reserved,
					     XPXE_CLIENT_F_RESERVED, srv->batch[i].net))
				answer(srv, &srv->batch[i]);
			continue;
		}
		lease = leases_of(srv, srv->batch[i].net)
			    ? xpxe_leases_find(leases_of(srv, srv->batch[i].net), srv->batch[i].mac)
			    : NULL;
		/* A held address is OFFERed by the program, which sends its REQUEST back here. */
		if (!lease)
			continue;
		err =
		    install_binding(srv, lease->mac, lease->ip,
				    lease->offered ? XPXE_CLIENT_F_OFFERED : 0, srv->batch[i].net);
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
	if (srv->copy_dirty && srv->queue)
		xpxe_leases_save(&srv->leases);
	xpxe_leases_free(&srv->leases);
	for (int i = 0; i < XPXE_VLAN_MAX; i++)
		if (srv->vlan_leases[i].pool_size)
			xpxe_leases_free(&srv->vlan_leases[i]);
	memset(srv->vlan_leases, 0, sizeof(srv->vlan_leases));
	free(srv->batch);
	free(srv->reqs);
	srv->reqs = NULL;
	srv->batch = NULL;
	srv->queue = NULL;
	srv->packet_fd = -1;
}

/* Drops MAC_IN's pool binding (WHY for the log). */
static void drop_binding(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *s,
			 unsigned int net, const unsigned char mac_in[6], const char *why)
{
	struct xpxe_leases *l = leases_of(srv, net);
	struct xpxe_lease *lease = l ? xpxe_leases_find(l, mac_in) : NULL;
	char text[18], ip[INET_ADDRSTRLEN], iface[40];
	unsigned char mac[6];
	struct in_addr addr;

	if (!lease)
		return;
	addr = lease->ip;
	/* MAC_IN may point into the table, whose last lease takes the removed one's slot. */
	memcpy(mac, mac_in, 6);
	mac_text(mac, text);
	inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip));
	log_warn("%s: %s's pool binding %s dropped: %s", iface_of(srv, net, iface, sizeof(iface)),
		 text, ip, why);
	if (!net && srv->reqs && lease->rev) {
		/* The store's too: every responder drops it the same way, one of them wins. */
		struct xpxe_store_lease_req req = { .op = XPXE_STORE_RELEASE };

		to_store(lease, &req.want);
		xpxe_store_leases(srv->store, &req, 1, 0);
	}
	xpxe_leases_remove(l, mac);
	unbind_entry(srv, s, mac, addr);
}

/*
 * What a reload's reservations take from the pools of every network (the untagged one, the
 * VLANs'): the pool binding of a machine that has a reservation now, and the binding of
 * another MAC that holds a newly reserved address. Returns how many bindings went; a VLAN's
 * file is written when its table changed (its untagged counterpart: by the caller).
 */
static int drop_reserved(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *s)
{
	int dropped = 0, err;

	for (unsigned int net = 0; net <= XPXE_VLAN_MAX; net++) {
		struct xpxe_leases *l = leases_of(srv, net);
		int before;

		if (!l)
			continue;
		before = l->n;
		for (int i = 0; i < s->n_machines; i++) {
			const struct xpxe_machine_cfg *m = &s->machines[i];
			struct xpxe_lease *holder;

			if (!m->ip.s_addr)
				continue;
			/*
			 * Answered from its reservation on the reservation's network: no pool
			 * address there too. On another network (it moved) its pool binding is
			 * the one it uses.
			 */
			for (int j = 0;
			     j < m->n_macs && xpxe_net_of_ip(s, srv->dp->ifname, m->ip) == net; j++)
				drop_binding(srv, s, net, m->macs[j],
					     "the machine has a reservation now");
			holder = xpxe_leases_holder(l, m->ip);
			if (holder)
				drop_binding(srv, s, net, holder->mac,
					     "its address is reserved now");
		}
		for (int i = 0; i < s->n_reservations; i++) {
			struct xpxe_lease *holder = xpxe_leases_holder(l, s->reservations[i].ip);

			if (holder && memcmp(holder->mac, s->reservations[i].mac, 6))
				drop_binding(srv, s, net, holder->mac,
					     "its address is reserved now");
		}
		dropped += before - l->n;
		if (net && l->n != before && (err = xpxe_leases_save(l))) {
			srv->save_errors++;
			log_error("%s: cannot save %s: %s", srv->dp->ifname, l->path,
				  strerror(-err));
		}
	}
	return dropped;
}

int xpxe_dhcp_server_sync(struct xpxe_dhcp_server *srv, const struct xpxe_dhcp_settings *s,
			  const unsigned char (*gone)[6], int n_gone)
{
	int fd = bpf_map__fd(srv->dp->skel->maps.dhcp_clients), n = 0, before, err, dropped;
	struct in_addr ips[XPXE_MAX_RESERVATIONS + 1];
	struct in_addr *reserved = ips;

	srv->settings.machines = s->machines;
	srv->settings.n_machines = s->n_machines;
	/* reserved_on answers a machine back on its reservation's network: the new ones. */
	memcpy(srv->settings.reservations, s->reservations, sizeof(s->reservations));
	srv->settings.n_reservations = s->n_reservations;
	srv->settings.default_profile = s->default_profile;
	for (int i = 0; i < n_gone; i++) {
		struct xpxe_mac_key key = { 0 };
		struct xpxe_dhcp_client client = { 0 };
		unsigned int net = 0;
		struct xpxe_lease *lease = srv->queue ? find_any(srv, gone[i], &net) : NULL;

		if (machine_of(s, gone[i]))
			continue; /* still listed (moved to another machine entry) */
		memcpy(key.addr, gone[i], 6);
		if (lease && s->default_profile >= 0) {
			client.ip = lease->ip.s_addr;
			client.profile = (__u32)s->default_profile;
			client.flags = lease->offered ? XPXE_CLIENT_F_OFFERED : 0;
			client.net = net;
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
	for (int i = 0; i < s->n_machines; i++)
		if (s->machines[i].ip.s_addr)
			reserved[n++] = s->machines[i].ip;
	dropped = drop_reserved(srv, s);
	err = xpxe_leases_set_reserved(&srv->leases, reserved, n);
	/* The VLANs' pools skip the new reservations too. */
	for (int i = 0; !err && i < XPXE_VLAN_MAX; i++)
		if (srv->vlan_leases[i].pool_size)
			err = xpxe_leases_set_reserved(&srv->vlan_leases[i], reserved, n);
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
	return dropped;
}
