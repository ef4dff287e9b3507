// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Full mode's DHCPv6 server (RFC 8415): IA_NA addresses from --pool6 and
 * --reserve6, with the boot options xdp_pxe gives in proxy-like mode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"

#include "config.h"
#include "dataplane.h"
#include "dhcp/dhcp6_server.h"
#include "events.h"
#include "json.h"
#include "log.h"

#define IP6_HDR_LEN 40
#define UDP_HDR_LEN 8

static const char *const counter_names[XPXE_D6_CNT_MAX] = {
	[XPXE_D6_RECEIVED] = "received",
	[XPXE_D6_BAD_FRAME] = "bad_frame",
	[XPXE_D6_MALFORMED] = "malformed",
	[XPXE_D6_OTHER_SERVER] = "other_server",
	[XPXE_D6_UNKNOWN] = "unknown_ignored",
	[XPXE_D6_ADVERTISE] = "advertise",
	[XPXE_D6_REPLY] = "reply",
	[XPXE_D6_BOUND] = "bound",
	[XPXE_D6_NO_ADDRS] = "no_addrs_avail",
	[XPXE_D6_NO_BINDING] = "no_binding",
	[XPXE_D6_NOT_ON_LINK] = "not_on_link",
	[XPXE_D6_RELEASED] = "released",
	[XPXE_D6_DECLINED] = "declined",
	[XPXE_D6_SAVE_ERRORS] = "save_errors",
	[XPXE_D6_SEND_ERRORS] = "send_errors",
	[XPXE_D6_UNICAST] = "unicast_dropped",
	[XPXE_D6_USE_MULTICAST] = "use_multicast",
	[XPXE_D6_RELAYED] = "relayed",
	[XPXE_D6_RELAY_OTHER_LINK] = "relay_other_link",
	[XPXE_D6_RELAY_NO_MAC] = "relay_no_mac",
	[XPXE_D6_RELAY_SOURCE_PORT] = "relay_source_port",
	[XPXE_D6_RELAY_LIMITED] = "relay_limited",
	[XPXE_D6_RELAY_GLOBAL_LIMITED] = "relay_global_limited",
	[XPXE_D6_PROXY_IGNORED] = "proxy_ignored",
	[XPXE_D6_PROXY_NOT_PXE] = "proxy_not_pxe",
	[XPXE_D6_REPEATED] = "repeated_4011",
};

bool xpxe_dhcp6_full(const struct xpxe_dhcp_settings *s)
{
	if (!s->enabled || s->mode != XPXE_MODE_FULL)
		return false;
	if (!IN6_IS_ADDR_UNSPECIFIED(&s->pool6_first) || s->n_reservations6)
		return true;
	for (int i = 0; i < s->n_machines; i++)
		if (!IN6_IS_ADDR_UNSPECIFIED(&s->machines[i].ip6))
			return true;
	return false;
}

const struct in6_addr *xpxe_dhcp6_link_prefix(const struct xpxe_dhcp_settings *s)
{
	if (!IN6_IS_ADDR_UNSPECIFIED(&s->pool6_first))
		return &s->pool6_first;
	if (s->n_reservations6)
		return &s->reservations6[0].ip;
	for (int i = 0; i < s->n_machines; i++)
		if (!IN6_IS_ADDR_UNSPECIFIED(&s->machines[i].ip6))
			return &s->machines[i].ip6;
	return &s->pool6_first;
}

static void mac_text(const unsigned char *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/*
 * The profile MAC boots with: the inventory's (dhcp_clients), or the default
 * one for a reservation or, when answered, a stranger. False: not answered.
 * MAC NULL (a relayed client in proxy mode with no MAC to go by): a stranger.
 */
static bool machine_profile(const struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
			    __u32 *profile)
{
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client c;
	struct xpxe_dhcp_config cfg;
	bool answer_unknown = srv->answer_unknown;
	__u32 zero = 0, def = srv->default_profile;

	if (mac)
		memcpy(key.addr, mac, 6);
	if (mac && srv->clients_fd >= 0 && !bpf_map_lookup_elem(srv->clients_fd, &key, &c)) {
		*profile = c.profile;
		return true;
	}
	/* The data plane's settings as they are now: a reload may have changed them. */
	if (srv->config_fd >= 0 && !bpf_map_lookup_elem(srv->config_fd, &zero, &cfg)) {
		answer_unknown = cfg.flags & XPXE_DHCP_F_ANSWER_UNKNOWN;
		def = cfg.default_profile;
	}
	*profile = def < XPXE_DHCP_MAX_PROFILES ? def : 0;
	return answer_unknown || (mac && xpxe_leases6_reservation(&srv->leases, mac));
}

/*
 * The options before the client id, from dhcp6_replies_full (xpxe_dhcp6.h), where xdp_pxe
 * takes them too for a bound machine's renewal: the boot options of (PROFILE, class of M)
 * as xdp_pxe sends them (server id, vendor class, option 59) less a PXEClient vendor class
 * (EDK2 would ask port 4011 again), or only the server id for a plain client (an address,
 * nothing to boot). Without the map (unit tests), the server id.
 */
static void put_server_options(const struct xpxe_dhcp6_server *srv, __u32 profile,
			       const struct xpxe_dhcp6_msg *m, struct xpxe_dhcp6_out *o)
{
	enum xpxe_boot_class boot = xpxe_dhcp6_boot_class(m);
	struct xpxe_dhcp6_reply r = { 0 };
	__u32 idx = xpxe_dhcp6_reply_index(profile, boot);

	if (srv->replies_fd >= 0 && !bpf_map_lookup_elem(srv->replies_fd, &idx, &r) && r.len &&
	    r.len <= XPXE_DHCP6_OPTS_MAX) {
		xpxe_dhcp6_out_raw(o, r.opts, r.len);
		return;
	}
	xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_SERVERID, srv->duid, srv->duid_len);
}

/* The lifetimes of every binding's IA_NA: T1, T2, preferred, valid (put_binding's). */
static void lifetimes(const struct xpxe_dhcp6_server *srv, __u32 *t1, __u32 *t2, __u32 *life)
{
	*t1 = srv->lease_time / 2;
	*t2 = srv->lease_time / 5 * 4;
	*life = srv->lease_time;
}

/* LEASE, a binding on disk, into dhcp6_bindings, keeping what XDP saw of its renewals. */
static void map_put(const struct xpxe_dhcp6_server *srv, const struct xpxe_lease6 *lease)
{
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp6_binding b = { 0 }, old;
	const struct in6_addr *reserved;

	if (srv->bindings_fd < 0 || lease->offered || lease->duid_len > sizeof(b.duid))
		return;
	memcpy(key.addr, lease->mac, 6);
	reserved = xpxe_leases6_reservation(&srv->leases, lease->mac);
	/*
	 * A binding from the file that this start's pool6 or reservations no longer give (an
	 * address off the link, or the MAC reserved elsewhere): the daemon answers it (NotOnLink,
	 * or the move to its reservation), not XDP.
	 */
	if (!xpxe_leases6_on_link(&srv->leases, &lease->ip) ||
	    (reserved && memcmp(reserved, &lease->ip, 16))) {
		bpf_map_delete_elem(srv->bindings_fd, &key);
		return;
	}
	memcpy(b.ip, &lease->ip, 16);
	b.iaid = lease->iaid;
	lifetimes(srv, &b.t1, &b.t2, &b.valid);
	b.preferred = b.valid;
	if (reserved)
		b.flags |= XPXE_DHCP6_BIND_F_RESERVED;
	b.duid_len = (__u16)lease->duid_len;
	memcpy(b.duid, lease->duid, lease->duid_len);
	if (!bpf_map_lookup_elem(srv->bindings_fd, &key, &old) && !memcmp(old.ip, b.ip, 16))
		b.last_seen_ns = old.last_seen_ns;
	if (bpf_map_update_elem(srv->bindings_fd, &key, &b, BPF_ANY))
		log_warn("%s: DHCPv6 binding not in the data plane (%s): its renewals come here",
			 srv->ifname, strerror(errno));
}

/* The leases table's hook: MAC's binding goes, and XDP must not answer it any more. */
static void map_forget(void *ctx, const unsigned char mac[6])
{
	const struct xpxe_dhcp6_server *srv = ctx;
	struct xpxe_mac_key key = { 0 };

	if (srv->bindings_fd < 0)
		return;
	memcpy(key.addr, mac, 6);
	bpf_map_delete_elem(srv->bindings_fd, &key);
}

/*
 * The leases table's hook, before it takes back expired bindings: renewals answered in XDP
 * never reach the file, so a binding's expiry moves to a whole lease after the last renewal
 * XDP answered (last_seen_ns, CLOCK_MONOTONIC as the program's clock), as IPv4's does.
 */
static void map_refresh(void *ctx, struct xpxe_leases6 *l)
{
	const struct xpxe_dhcp6_server *srv = ctx;
	struct timespec mono;
	__u64 now_ns;

	if (srv->bindings_fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	now_ns = (__u64)mono.tv_sec * 1000000000ull + (__u64)mono.tv_nsec;
	for (int i = 0; i < l->n; i++) {
		struct xpxe_mac_key key = { 0 };
		struct xpxe_dhcp6_binding b;
		__u64 seen;
		time_t until;

		memcpy(key.addr, l->items[i].mac, 6);
		if (l->items[i].offered || bpf_map_lookup_elem(srv->bindings_fd, &key, &b) ||
		    !b.last_seen_ns || memcmp(b.ip, &l->items[i].ip, 16))
			continue;
		seen = b.last_seen_ns > now_ns ? now_ns : b.last_seen_ns;
		until = time(NULL) - (time_t)((now_ns - seen) / 1000000000ull) +
			(time_t)srv->lease_time;
		if (until > l->items[i].expires)
			l->items[i].expires = until;
	}
}

int xpxe_dhcp6_server_sync_map(struct xpxe_dhcp6_server *srv)
{
	struct xpxe_mac_key key, next;
	bool more;

	if (srv->bindings_fd < 0)
		return 0;
	/* Out: what the table does not hold as a binding (deleting while walking: restart). */
	do {
		more = false;
		for (int err = bpf_map_get_next_key(srv->bindings_fd, NULL, &next); !err;
		     err = bpf_map_get_next_key(srv->bindings_fd, &key, &next)) {
			const struct xpxe_lease6 *lease =
			    xpxe_leases6_find(&srv->leases, next.addr);

			key = next;
			if (!lease || lease->offered) {
				bpf_map_delete_elem(srv->bindings_fd, &key);
				more = true;
				break;
			}
		}
	} while (more);
	for (int i = 0; i < srv->leases.n; i++)
		map_put(srv, &srv->leases.items[i]);
	return 0;
}

static bool names_us(const struct xpxe_dhcp6_server *srv, const struct xpxe_dhcp6_msg *m)
{
	return m->sid_len == srv->duid_len && !memcmp(m->sid, srv->duid, srv->duid_len);
}

/* The IA_NA of the binding; an address the client named that is not it, at lifetimes 0. */
static void put_binding(const struct xpxe_dhcp6_server *srv, const struct xpxe_dhcp6_msg *m,
			const struct xpxe_lease6 *lease, struct xpxe_dhcp6_out *o)
{
	unsigned int t = srv->lease_time;

	if (m->ia.has_addr && !IN6_ARE_ADDR_EQUAL(&m->ia.addr, &lease->ip) &&
	    m->type != XPXE_DHCP6_SOLICIT)
		xpxe_dhcp6_out_ia_stale(o, m->ia.iaid, t / 2, t / 5 * 4, &lease->ip, t,
					&m->ia.addr);
	else
		xpxe_dhcp6_out_ia(o, m->ia.iaid, t / 2, t / 5 * 4, &lease->ip, t, t,
				  XPXE_DHCP6_SUCCESS, NULL);
}

/* LEASE (BEFORE: what it was) is on disk: counted; a new binding logged and an event. */
static void bound(struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
		  const struct xpxe_lease6 *before, const struct xpxe_lease6 *lease)
{
	char ip[INET6_ADDRSTRLEN], text[18];

	srv->cnt[XPXE_D6_BOUND]++;
	map_put(srv, lease); /* on disk: XDP may answer its renewals */
	if (!before->offered && before->duid_len == lease->duid_len)
		return; /* an extension */
	mac_text(mac, text, sizeof(text));
	inet_ntop(AF_INET6, &lease->ip, ip, sizeof(ip));
	log_info("%s: DHCPv6 bound %s to %s", srv->ifname, text, ip);
	xpxe_event(XPXE_EV_LEASE_BOUND, text, ip, srv->ifname, "DHCPv6", 0);
}

/* Makes LEASE a binding until NOW + lease time, for M's DUID and IAID, and writes the file. */
static int commit(struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
		  struct xpxe_lease6 *lease, const struct xpxe_dhcp6_msg *m, time_t now)
{
	struct xpxe_lease6 before = *lease;
	int err;

	lease->offered = false;
	lease->expires = now + srv->lease_time;
	lease->iaid = m->ia.iaid;
	memcpy(lease->duid, m->duid, m->duid_len);
	lease->duid_len = m->duid_len;
	if (srv->batching && srv->n_undo < XPXE_DHCP6_BATCH) {
		/* Written once for the whole batch, before any of its answers leaves. */
		memcpy(srv->undo[srv->n_undo].mac, mac, 6);
		srv->undo[srv->n_undo++].before = before;
		srv->batch_dirty = true;
		return 0;
	}
	/* On disk before the answer: a client never holds an address the file does not. */
	err = xpxe_leases6_save(&srv->leases);
	if (err) {
		*lease = before;
		srv->cnt[XPXE_D6_SAVE_ERRORS]++;
		log_error("%s: cannot write the DHCPv6 bindings %s: %s (not answered)", srv->ifname,
			  srv->leases.path, strerror(-err));
		return err;
	}
	bound(srv, mac, &before, lease);
	return 0;
}

/* Solicit (18.3.1, 18.3.9) and Request (18.3.2): an address for the client's IA_NA. */
static bool answer_bind(struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
			const struct xpxe_dhcp6_msg *m, struct xpxe_dhcp6_out *o, time_t now)
{
	bool solicit = m->type == XPXE_DHCP6_SOLICIT, created;
	bool rapid = solicit && m->rapid_commit;
	struct xpxe_lease6 *lease;

	if (!m->has_ia)
		return true; /* boot options only (an IA_TA or IA_PD xpxe does not give) */
	lease = xpxe_leases6_allocate(&srv->leases, mac, m->ia.has_addr ? &m->ia.addr : NULL, now,
				      &created);
	if (!lease) {
		srv->cnt[XPXE_D6_NO_ADDRS]++;
		if (solicit)
			xpxe_dhcp6_out_status(o, XPXE_DHCP6_NO_ADDRS_AVAIL, "no addresses left");
		else
			xpxe_dhcp6_out_ia(o, m->ia.iaid, 0, 0, NULL, 0, 0,
					  XPXE_DHCP6_NO_ADDRS_AVAIL, "no addresses left");
		return true;
	}
	if (solicit && !rapid) {
		/*
		 * Held for the Request, in memory only (an Advertise binds nothing); an address
		 * its machine released keeps the rest of its hold (leases6.h).
		 */
		if (lease->offered) {
			if (lease->expires < now + (time_t)srv->offer_hold)
				lease->expires = now + srv->offer_hold;
			lease->iaid = m->ia.iaid;
		}
		put_binding(srv, m, lease, o);
		return true;
	}
	if (commit(srv, mac, lease, m, now))
		return false;
	put_binding(srv, m, lease, o);
	if (rapid)
		xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	return true;
}

/* Renew (18.3.4) and Rebind (18.3.5): the binding extended, or NoBinding. */
static bool answer_extend(struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
			  const struct xpxe_dhcp6_msg *m, struct xpxe_dhcp6_out *o, time_t now)
{
	struct xpxe_lease6 *lease = xpxe_leases6_find(&srv->leases, mac);

	if (!m->has_ia)
		return true;
	if (!lease || lease->offered) {
		srv->cnt[XPXE_D6_NO_BINDING]++;
		xpxe_dhcp6_out_ia(o, m->ia.iaid, 0, 0, NULL, 0, 0, XPXE_DHCP6_NO_BINDING,
				  "no binding for this client");
		return true;
	}
	if (commit(srv, mac, lease, m, now))
		return false;
	put_binding(srv, m, lease, o);
	return true;
}

/* Release (18.3.7) and Decline (18.3.8): the binding freed (a declined address kept aside). */
static void answer_free(struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
			const struct xpxe_dhcp6_msg *m, struct xpxe_dhcp6_out *o)
{
	struct xpxe_lease6 *lease = xpxe_leases6_find(&srv->leases, mac);
	char ip[INET6_ADDRSTRLEN], text[18];

	mac_text(mac, text, sizeof(text));
	if (!lease || lease->offered ||
	    (m->ia.has_addr && !IN6_ARE_ADDR_EQUAL(&m->ia.addr, &lease->ip))) {
		srv->cnt[XPXE_D6_NO_BINDING]++;
		if (m->has_ia)
			xpxe_dhcp6_out_ia(o, m->ia.iaid, 0, 0, NULL, 0, 0, XPXE_DHCP6_NO_BINDING,
					  "no binding for this client");
		xpxe_dhcp6_out_status(o, XPXE_DHCP6_SUCCESS, NULL);
		return;
	}
	inet_ntop(AF_INET6, &lease->ip, ip, sizeof(ip));
	map_forget(srv, mac); /* XDP answers it no more */
	if (m->type == XPXE_DHCP6_DECLINE) {
		xpxe_leases6_decline(&srv->leases, &lease->ip);
		srv->cnt[XPXE_D6_DECLINED]++;
		log_warn("%s: %s declined %s (in use elsewhere?): not given again until a restart",
			 srv->ifname, text, ip);
		xpxe_leases6_remove(&srv->leases, mac);
	} else {
		srv->cnt[XPXE_D6_RELEASED]++;
		log_info("%s: DHCPv6 %s released %s (held for it %d s)", srv->ifname, text, ip,
			 XPXE_DHCP6_RELEASE_HOLD_S);
		/* Out of the file, but its machine's a while yet (leases6.h), across a restart. */
		lease->offered = lease->released = true;
		lease->expires = time(NULL) + XPXE_DHCP6_RELEASE_HOLD_S;
		srv->leases.holds_dirty = true;
	}
	if (srv->batching)
		srv->batch_dirty = true;
	else if (xpxe_leases6_save(&srv->leases))
		srv->cnt[XPXE_D6_SAVE_ERRORS]++; /* the next write catches up */
	xpxe_dhcp6_out_status(o, XPXE_DHCP6_SUCCESS, NULL);
}

bool xpxe_dhcp6_server_answer(struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
			      const uint8_t *msg, size_t len, struct xpxe_dhcp6_out *o)
{
	struct xpxe_dhcp6_msg m;
	enum xpxe_dhcp6_verdict v = xpxe_dhcp6_parse(msg, len, &m);
	bool send = true, advertise = false;
	time_t now = time(NULL);
	__u32 profile;

	if (v) {
		srv->cnt[XPXE_D6_MALFORMED]++;
		srv->malformed[v]++;
		return false;
	}
	if (m.sid_len && !names_us(srv, &m)) {
		srv->cnt[XPXE_D6_OTHER_SERVER]++;
		return false;
	}
	if (!machine_profile(srv, mac, &profile)) {
		srv->cnt[XPXE_D6_UNKNOWN]++;
		return false;
	}
	/* A Confirm with no address to confirm gets no answer (18.3.3). */
	if (m.type == XPXE_DHCP6_CONFIRM && !m.ia.has_addr)
		return false;
	advertise = m.type == XPXE_DHCP6_SOLICIT && !m.rapid_commit;
	xpxe_dhcp6_out_start(o, advertise ? XPXE_DHCP6_ADVERTISE : XPXE_DHCP6_REPLY, m.xid);
	put_server_options(srv, profile, &m, o);
	/* The client id after the boot URL: its first byte (0) ends the URL for EDK2. */
	if (m.duid_len)
		xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_CLIENTID, m.duid, m.duid_len);
	switch (m.type) {
	case XPXE_DHCP6_SOLICIT:
	case XPXE_DHCP6_REQUEST:
		send = answer_bind(srv, mac, &m, o, now);
		break;
	case XPXE_DHCP6_RENEW:
	case XPXE_DHCP6_REBIND:
		send = answer_extend(srv, mac, &m, o, now);
		break;
	case XPXE_DHCP6_CONFIRM:
		if (xpxe_leases6_on_link(&srv->leases, &m.ia.addr)) {
			xpxe_dhcp6_out_status(o, XPXE_DHCP6_SUCCESS, NULL);
		} else {
			srv->cnt[XPXE_D6_NOT_ON_LINK]++;
			xpxe_dhcp6_out_status(o, XPXE_DHCP6_NOT_ON_LINK, "not on this link");
		}
		break;
	case XPXE_DHCP6_RELEASE:
	case XPXE_DHCP6_DECLINE:
		answer_free(srv, mac, &m, o);
		break;
	default: /* Information-request: the options, no address */
		break;
	}
	if (!send || o->overflow)
		return false;
	if (!srv->batching) /* else counted when it is sent (xpxe_dhcp6_server_flush) */
		srv->cnt[advertise ? XPXE_D6_ADVERTISE : XPXE_D6_REPLY]++;
	return true;
}

/*
 * A message to one of our addresses, not to ff02::1:2. xpxe never sends a Server Unicast
 * option, so RFC 8415 16 discards a Solicit, Confirm, Rebind or Information-request sent so,
 * and 18.4 answers a Request, Renew, Release or Decline with a Reply of our id, the client's
 * and UseMulticast only: it sends it again to the group. Returns whether O is to be sent.
 */
static bool answer_unicast(struct xpxe_dhcp6_server *srv, const unsigned char mac[6],
			   const uint8_t *msg, size_t len, struct xpxe_dhcp6_out *o)
{
	struct xpxe_dhcp6_msg m;
	enum xpxe_dhcp6_verdict v = xpxe_dhcp6_parse(msg, len, &m);
	__u32 profile;

	if (v) {
		srv->cnt[XPXE_D6_MALFORMED]++;
		srv->malformed[v]++;
		return false;
	}
	if (m.type != XPXE_DHCP6_REQUEST && m.type != XPXE_DHCP6_RENEW &&
	    m.type != XPXE_DHCP6_RELEASE && m.type != XPXE_DHCP6_DECLINE) {
		srv->cnt[XPXE_D6_UNICAST]++;
		return false;
	}
	if (!names_us(srv, &m)) { /* these carry a server id (check_ids) */
		srv->cnt[XPXE_D6_OTHER_SERVER]++;
		return false;
	}
	if (!machine_profile(srv, mac, &profile)) {
		srv->cnt[XPXE_D6_UNKNOWN]++;
		return false;
	}
	xpxe_dhcp6_out_start(o, XPXE_DHCP6_REPLY, m.xid);
	xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_SERVERID, srv->duid, srv->duid_len);
	xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_CLIENTID, m.duid, m.duid_len);
	xpxe_dhcp6_out_status(o, XPXE_DHCP6_USE_MULTICAST, "use ff02::1:2");
	if (o->overflow)
		return false;
	srv->cnt[XPXE_D6_USE_MULTICAST]++; /* and not in reply: no answer of the exchange */
	return true;
}

/*
 * The machine behind the innermost Relay-forward R, by MAC as every binding is: the MAC its
 * relay copied (RFC 6939), else the one in its DUID. The client's link, LINK (the link-address
 * of the relay nearest the client that names one: a lightweight relay's is ::, RFC 6221 6.2),
 * must be the pool6's or a reservation's; :: all the way out is a lightweight relay on our own
 * link.
 */
static bool relayed_machine(struct xpxe_dhcp6_server *srv, const struct xpxe_dhcp6_relay *r,
			    const struct in6_addr *link, unsigned char mac[6])
{
	struct xpxe_dhcp6_msg m;
	enum xpxe_dhcp6_verdict v;

	if (!IN6_IS_ADDR_UNSPECIFIED(link) && !xpxe_leases6_on_link(&srv->leases, link)) {
		srv->cnt[XPXE_D6_RELAY_OTHER_LINK]++;
		return false;
	}
	if (r->has_mac) {
		memcpy(mac, r->mac, 6);
		return true;
	}
	v = xpxe_dhcp6_parse(r->msg, r->msg_len, &m);
	if (v) {
		srv->cnt[XPXE_D6_MALFORMED]++;
		srv->malformed[v]++;
		return false;
	}
	if (!xpxe_dhcp6_duid_mac(m.duid, m.duid_len, mac)) {
		srv->cnt[XPXE_D6_RELAY_NO_MAC]++;
		return false;
	}
	return true;
}

/*
 * Proxy mode, a relayed client's message MSG (from the machine MAC, NULL: none known): what
 * xdp_pxe answers on the link (bpf/dhcp6.h), a Solicit with an Advertise, a Request naming us
 * or an Information-request with a Reply, of the boot options of the machine's profile and
 * class (dhcp6_replies: server id, vendor class, option 59) and its client id, no address.
 * The rest is the address server's. Without the map (unit tests), the server id.
 */
static bool answer_proxy(struct xpxe_dhcp6_server *srv, const unsigned char *mac,
			 const uint8_t *msg, size_t len, struct xpxe_dhcp6_out *o)
{
	struct xpxe_dhcp6_msg m;
	struct xpxe_dhcp6_reply r = { 0 };
	enum xpxe_dhcp6_verdict v = xpxe_dhcp6_parse(msg, len, &m);
	enum xpxe_boot_class boot;
	__u32 profile, idx;

	if (v) {
		srv->cnt[XPXE_D6_MALFORMED]++;
		srv->malformed[v]++;
		return false;
	}
	if (m.type != XPXE_DHCP6_SOLICIT && m.type != XPXE_DHCP6_REQUEST &&
	    m.type != XPXE_DHCP6_INFORMATION_REQUEST) {
		srv->cnt[XPXE_D6_PROXY_IGNORED]++;
		return false;
	}
	if (m.sid_len && !names_us(srv, &m)) {
		srv->cnt[XPXE_D6_OTHER_SERVER]++;
		return false;
	}
	boot = xpxe_dhcp6_boot_class(&m);
	if (boot == XPXE_BOOT_PLAIN) {
		srv->cnt[XPXE_D6_PROXY_NOT_PXE]++;
		return false;
	}
	if (!machine_profile(srv, mac, &profile)) {
		srv->cnt[XPXE_D6_UNKNOWN]++;
		return false;
	}
	idx = xpxe_dhcp6_reply_index(profile, boot);
	if (profile >= XPXE_DHCP_MAX_PROFILES ||
	    (srv->replies_fd >= 0 && (bpf_map_lookup_elem(srv->replies_fd, &idx, &r) || !r.len ||
				      r.len > XPXE_DHCP6_OPTS_MAX))) {
		srv->cnt[XPXE_D6_PROXY_NOT_PXE]++;
		return false;
	}
	xpxe_dhcp6_out_start(
	    o, m.type == XPXE_DHCP6_SOLICIT ? XPXE_DHCP6_ADVERTISE : XPXE_DHCP6_REPLY, m.xid);
	if (srv->replies_fd >= 0)
		xpxe_dhcp6_out_raw(o, r.opts, r.len);
	else
		xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_SERVERID, srv->duid, srv->duid_len);
	/* After the URL: the client id's first byte (0) ends it for EDK2 (as XDP's). */
	if (m.duid_len)
		xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_CLIENTID, m.duid, m.duid_len);
	return !o->overflow;
}

/*
 * Proxy mode: the MAC of the client behind the innermost Relay-forward R, for its profile:
 * the one its relay copied (RFC 6939), else its DUID-LL(T)'s. None: NULL (a stranger).
 */
static const unsigned char *proxy_machine(const struct xpxe_dhcp6_relay *r, unsigned char mac[6])
{
	struct xpxe_dhcp6_msg m;

	if (r->has_mac) {
		memcpy(mac, r->mac, 6);
		return mac;
	}
	if (xpxe_dhcp6_parse(r->msg, r->msg_len, &m) ||
	    !xpxe_dhcp6_duid_mac(m.duid, m.duid_len, mac))
		return NULL;
	return mac;
}

/*
 * A Relay-forward (RFC 8415 19): the client's message inside it answered as if it came to
 * ff02::1:2 (its client sent it so, to the relay), the answer wrapped in a Relay-reply for
 * each Relay-forward around it. LINK: the innermost non-zero link-address of the relays
 * around this one (:: for the outermost). TYPE: the answer's own type; *SOURCE_PORT: whether
 * the outermost one (DEPTH 1, the relay that sent it to us) carries a Relay Source Port option
 * (RFC 8357 5.3). Returns whether O is to be sent.
 */
static bool answer_relayed(struct xpxe_dhcp6_server *srv, const uint8_t *msg, size_t len, int depth,
			   const struct in6_addr *link, struct xpxe_dhcp6_out *o, uint8_t *type,
			   bool *source_port)
{
	struct xpxe_dhcp6_relay r;
	struct xpxe_dhcp6_out inner;
	enum xpxe_dhcp6_verdict v = xpxe_dhcp6_parse_relay(msg, len, &r);
	unsigned char mac[6];

	if (!v && r.msg[0] == XPXE_DHCP6_RELAY_FORW && depth == XPXE_DHCP6_RELAY_DEPTH_MAX)
		v = XPXE_DHCP6_BAD_RELAY;
	if (v) {
		srv->cnt[XPXE_D6_MALFORMED]++;
		srv->malformed[v]++;
		return false;
	}
	if (depth == 1)
		*source_port = r.relay_port != NULL;
	if (!IN6_IS_ADDR_UNSPECIFIED(&r.link))
		link = &r.link;
	if (r.msg[0] == XPXE_DHCP6_RELAY_FORW) {
		if (!answer_relayed(srv, r.msg, r.msg_len, depth + 1, link, &inner, type,
				    source_port))
			return false;
	} else if (srv->proxy) {
		if (!answer_proxy(srv, proxy_machine(&r, mac), r.msg, r.msg_len, &inner))
			return false;
		*type = inner.buf[0];
	} else {
		if (!relayed_machine(srv, &r, link, mac) ||
		    !xpxe_dhcp6_server_answer(srv, mac, r.msg, r.msg_len, &inner))
			return false;
		*type = inner.buf[0];
	}
	xpxe_dhcp6_out_relay(o, &r, &inner);
	if (o->overflow) {
		srv->cnt[XPXE_D6_SEND_ERRORS]++;
		log_debug("%s: a relayed DHCPv6 answer does not fit in %d bytes", srv->ifname,
			  XPXE_DHCP6_OUT_MAX);
		return false;
	}
	return true;
}

static unsigned long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

/* Whether a message at NOW fits the GCRA bucket of theoretical arrival time TAT within TOL. */
static bool gcra_fits(unsigned long long tat, unsigned long long now, unsigned long long tol)
{
	return tat <= now || tat - now <= tol;
}

/* Takes one message of INTERVAL from the bucket at TAT (it fits: gcra_fits). */
static void gcra_take(unsigned long long *tat, unsigned long long now, unsigned long long interval)
{
	*tat = (*tat < now ? now : *tat) + interval;
}

/* A relay heard over at least this long (its first and last message) is established. */
#define RELAY_SETTLE_NS 1000000000ull

static bool relay_established(const struct xpxe_dhcp6_relay_bucket *b)
{
	return b->seen_ns - b->first_ns >= RELAY_SETTLE_NS;
}

enum relay_verdict { RELAY_ADMITTED, RELAY_LIMITED, RELAY_GLOBAL_LIMITED };

/*
 * Whether the relay at ADDR may have one more Relay-forward answered. Its own bucket holds
 * relay_burst messages and fills at relay_rate a second (GCRA: the same as a token bucket,
 * with one number); all relays together share one of XPXE_DHCP6_RELAY_GLOBAL_X times that.
 * A flood from forged addresses gets a fresh bucket for each address, so the shared one
 * is what holds it: a relay not yet established (heard over less than RELAY_SETTLE_NS) may
 * take it down to half, an established one to empty; so a flood of new addresses leaves
 * half the burst, and every token it cannot take first, to the relays that were there
 * before it. A new relay takes a free slot, else the least recently heard one of those not
 * established, else the least recently heard one: a relay refused by the shared bucket
 * takes none, so the flood evicts no more than it is answered, and never an established
 * relay while a newer one is in the table.
 */
static enum relay_verdict relay_admit(struct xpxe_dhcp6_server *srv, const struct in6_addr *addr)
{
	struct xpxe_dhcp6_relay_bucket *b = NULL, *free_b = NULL, *young = NULL, *old = NULL;
	unsigned long long now, interval, tol, g_interval, g_tol, burst;
	bool established;

	if (!srv->relay_rate)
		return RELAY_ADMITTED;
	now = srv->clock_ns ? srv->clock_ns() : mono_ns();
	for (int i = 0; i < XPXE_DHCP6_RELAYS && !b; i++) {
		struct xpxe_dhcp6_relay_bucket *e = &srv->relays[i];

		if (!e->used) {
			free_b = free_b ? free_b : e;
		} else if (IN6_ARE_ADDR_EQUAL(&e->addr, addr)) {
			b = e;
		} else {
			if (!relay_established(e) && (!young || e->seen_ns < young->seen_ns))
				young = e;
			if (!old || e->seen_ns < old->seen_ns)
				old = e;
		}
	}
	burst = srv->relay_burst ? srv->relay_burst : 1;
	interval = 1000000000ull / srv->relay_rate;
	tol = interval * (burst - 1);
	g_interval =
	    1000000000ull / ((unsigned long long)srv->relay_rate * XPXE_DHCP6_RELAY_GLOBAL_X);
	g_tol = g_interval * (burst * XPXE_DHCP6_RELAY_GLOBAL_X - 1);
	if (b) {
		b->seen_ns = now;
		if (!gcra_fits(b->tat_ns, now, tol))
			return RELAY_LIMITED;
	}
	established = b && relay_established(b);
	if (!gcra_fits(srv->relays_tat_ns, now, established ? g_tol : g_tol / 2))
		return RELAY_GLOBAL_LIMITED;
	if (!b) {
		b = free_b ? free_b : young ? young : old;
		*b = (struct xpxe_dhcp6_relay_bucket){
			.addr = *addr, .tat_ns = now, .seen_ns = now, .first_ns = now, .used = true
		};
	}
	gcra_take(&b->tat_ns, now, interval);
	gcra_take(&srv->relays_tat_ns, now, g_interval);
	return RELAY_ADMITTED;
}

/* The UDP checksum of the datagram at UDP (LEN bytes) between SRC and DST: 0 when right. */
static uint16_t udp6_check(const struct in6_addr *src, const struct in6_addr *dst,
			   const uint8_t *udp, size_t len)
{
	uint32_t sum = 17 + (uint32_t)len;

	for (int i = 0; i < 16; i += 2)
		sum += (src->s6_addr[i] << 8 | src->s6_addr[i + 1]) +
		       (dst->s6_addr[i] << 8 | dst->s6_addr[i + 1]);
	for (size_t i = 0; i < len; i += 2)
		sum += udp[i] << 8 | (i + 1 < len ? udp[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Puts back what the batch's commits from the FROMth on did to their bindings, last first. */
static void unwind(struct xpxe_dhcp6_server *srv, int from)
{
	for (int i = srv->n_undo - 1; i >= from; i--) {
		struct xpxe_lease6 *lease = xpxe_leases6_find(&srv->leases, srv->undo[i].mac);

		if (lease)
			*lease = srv->undo[i].before;
	}
	srv->n_undo = from;
}

void xpxe_dhcp6_server_take(struct xpxe_dhcp6_server *srv, const uint8_t *pkt, size_t n,
			    const unsigned char *mac)
{
	struct xpxe_dhcp6_queued *q;
	struct in6_addr src, dst;
	int undo_before;
	const uint8_t *udp = pkt + IP6_HDR_LEN, *msg = udp + UDP_HDR_LEN;
	size_t plen, ulen, mlen;
	bool answered, relayed, source_port = false;
	enum relay_verdict limit;
	uint16_t sport;

	if (srv->n_queued == XPXE_DHCP6_BATCH || srv->n_undo == XPXE_DHCP6_BATCH)
		xpxe_dhcp6_server_flush(srv);
	srv->batching = true;
	srv->cnt[XPXE_D6_RECEIVED]++;
	if (n < IP6_HDR_LEN + UDP_HDR_LEN || pkt[0] >> 4 != 6 || pkt[6] != 17) {
		srv->cnt[XPXE_D6_BAD_FRAME]++;
		return;
	}
	plen = (size_t)pkt[4] << 8 | pkt[5];
	ulen = (size_t)udp[4] << 8 | udp[5];
	memcpy(&src, pkt + 8, 16);
	memcpy(&dst, pkt + 24, 16);
	if (plen > n - IP6_HDR_LEN || ulen < UDP_HDR_LEN || ulen > plen ||
	    ulen > XPXE_DHCP6_UDP_MAX || (udp[2] << 8 | udp[3]) != XPXE_PORT_DHCP6_SERVER ||
	    (!udp[6] && !udp[7]) || udp6_check(&src, &dst, udp, ulen)) {
		srv->cnt[XPXE_D6_BAD_FRAME]++;
		return;
	}
	mlen = ulen - UDP_HDR_LEN;
	relayed = mlen && msg[0] == XPXE_DHCP6_RELAY_FORW;
	sport = (uint16_t)(udp[0] << 8 | udp[1]);
	/*
	 * A client sends from its link-local address (RFC 8415 13.1); a relay from one of its
	 * own, any scope, to one of ours or to a group, from a port an answer can go to.
	 */
	if (relayed ? IN6_IS_ADDR_MULTICAST(&src) || IN6_IS_ADDR_UNSPECIFIED(&src) || !sport
		    : !IN6_IS_ADDR_LINKLOCAL(&src)) {
		srv->cnt[XPXE_D6_BAD_FRAME]++;
		return;
	}
	/*
	 * A relay's frames carry its router's MAC, which XDP's limits cannot tell apart: each
	 * relay address (where the answers go: a spoofed one would be a reflection's target)
	 * has its own rate.
	 */
	if (relayed && (limit = relay_admit(srv, &src)) != RELAY_ADMITTED) {
		srv->cnt[limit == RELAY_LIMITED ? XPXE_D6_RELAY_LIMITED
						: XPXE_D6_RELAY_GLOBAL_LIMITED]++;
		return;
	}
	if (srv->proxy && !relayed) { /* the socket's filter takes none: a client is XDP's */
		srv->cnt[XPXE_D6_BAD_FRAME]++;
		return;
	}
	q = &srv->queued[srv->n_queued];
	undo_before = srv->n_undo;
	/* To ff02::1:2, or to one of our addresses (answer_unicast: RFC 8415 16, 18.4). */
	if (relayed)
		answered = answer_relayed(srv, msg, mlen, 1, &in6addr_any, &q->out, &q->type,
					  &source_port);
	else if (IN6_IS_ADDR_MULTICAST(&dst))
		answered = xpxe_dhcp6_server_answer(srv, mac, msg, mlen, &q->out);
	else
		answered = answer_unicast(srv, mac, msg, mlen, &q->out);
	if (!answered) {
		/* Nothing goes out (say, a Relay-reply too big for a datagram, around a forged
		 * Interface-Id): a binding made on the way is put back, so that the file never
		 * holds an address its machine was not told of. */
		unwind(srv, undo_before);
		return;
	}
	if (!relayed)
		q->type = q->out.buf[0];
	/*
	 * A Relay-reply goes to the relay's port 547 (RFC 8415 7.2), whatever it sent from,
	 * unless the Relay-forward that came to us carries a Relay Source Port option: then to
	 * the port it came from (RFC 8357 5.3; the option's value is for the relay, not us).
	 */
	q->source_port = relayed && source_port;
	q->to = (struct sockaddr_in6){
		.sin6_family = AF_INET6,
		.sin6_addr = src,
		.sin6_port = htons(relayed && !source_port ? XPXE_PORT_DHCP6_SERVER : sport),
		.sin6_scope_id = srv->ifindex
	};
	q->needs_write = srv->n_undo != undo_before;
	/* A relay sends to our address by design (19): only a client's own message is told so. */
	q->use_multicast = !relayed && !IN6_IS_ADDR_MULTICAST(&dst);
	srv->n_queued++;
}

/*
 * Sends Q's answer from port 547: through the UDP socket bound to it, or in proxy mode the
 * raw socket with a UDP header of ours (the kernel fills in the checksum: IPV6_CHECKSUM).
 */
static ssize_t send_answer(const struct xpxe_dhcp6_server *srv, const struct xpxe_dhcp6_queued *q)
{
	struct sockaddr_in6 to = q->to;
	uint8_t udp[UDP_HDR_LEN] = { XPXE_PORT_DHCP6_SERVER >> 8, XPXE_PORT_DHCP6_SERVER & 0xff };
	struct iovec iov[2] = { { udp, sizeof(udp) }, { (void *)q->out.buf, q->out.len } };
	struct msghdr mh = {
		.msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = iov, .msg_iovlen = 2
	};

	if (!srv->proxy)
		return sendto(srv->udp_fd, q->out.buf, q->out.len, 0, (const struct sockaddr *)&to,
			      sizeof(to));
	memcpy(udp + 2, &to.sin6_port, 2);
	udp[4] = (uint8_t)((UDP_HDR_LEN + q->out.len) >> 8);
	udp[5] = (uint8_t)(UDP_HDR_LEN + q->out.len);
	to.sin6_port = 0; /* a raw socket's: 0 or its protocol */
	return sendmsg(srv->udp_fd, &mh, 0);
}

void xpxe_dhcp6_server_flush(struct xpxe_dhcp6_server *srv)
{
	bool written = true;
	int err = 0;

	if (srv->batch_dirty && (err = xpxe_leases6_save(&srv->leases))) {
		written = false;
		log_error("%s: cannot write the DHCPv6 bindings %s: %s (%d answer(s) not sent)",
			  srv->ifname, srv->leases.path, strerror(-err), srv->n_undo);
		srv->cnt[XPXE_D6_SAVE_ERRORS] += srv->n_undo ? srv->n_undo : 1;
		unwind(srv, 0);
	}
	for (int i = 0; written && i < srv->n_undo; i++) {
		const struct xpxe_lease6 *lease = xpxe_leases6_find(&srv->leases, srv->undo[i].mac);

		if (lease && !lease->offered) /* else released (or declined) later in the batch */
			bound(srv, srv->undo[i].mac, &srv->undo[i].before, lease);
	}
	for (int i = 0; i < srv->n_queued; i++) {
		struct xpxe_dhcp6_queued *q = &srv->queued[i];

		if (q->needs_write && !written)
			continue;
		if (!q->use_multicast) /* counted as it was made (answer_unicast) */
			srv->cnt[q->type == XPXE_DHCP6_ADVERTISE ? XPXE_D6_ADVERTISE
								 : XPXE_D6_REPLY]++;
		if (q->out.buf[0] == XPXE_DHCP6_RELAY_REPL)
			srv->cnt[XPXE_D6_RELAYED]++;
		if (q->source_port)
			srv->cnt[XPXE_D6_RELAY_SOURCE_PORT]++;
		if (send_answer(srv, q) < 0) {
			srv->cnt[XPXE_D6_SEND_ERRORS]++;
			log_debug("%s: DHCPv6 answer not sent: %s", srv->ifname, strerror(errno));
		}
	}
	srv->batching = srv->batch_dirty = false;
	srv->n_queued = srv->n_undo = 0;
}

/* What /metrics shows: the counters as they are now, and whether the server runs. */
static void show(struct xpxe_dhcp6_server *srv)
{
	if (!srv->shown_lock_made)
		return;
	pthread_mutex_lock(&srv->shown_lock);
	memcpy(srv->shown, srv->cnt, sizeof(srv->shown));
	srv->shown_running = srv->running;
	pthread_mutex_unlock(&srv->shown_lock);
}

void xpxe_dhcp6_server_metrics(struct xpxe_dhcp6_server *srv, FILE *f, bool header)
{
	unsigned long long cnt[XPXE_D6_CNT_MAX];
	bool running;

	if (header)
		fprintf(f, "# HELP xpxe_dhcp6_server_total What the daemon's DHCPv6 server (full "
			   "mode, proxy mode's relays) did with the messages it read, by interface "
			   "(dhcp6.server in xpxe status)\n"
			   "# TYPE xpxe_dhcp6_server_total counter\n");
	if (!srv->shown_lock_made)
		return;
	pthread_mutex_lock(&srv->shown_lock);
	memcpy(cnt, srv->shown, sizeof(cnt));
	running = srv->shown_running;
	pthread_mutex_unlock(&srv->shown_lock);
	for (int i = 0; running && i < XPXE_D6_CNT_MAX; i++)
		fprintf(f, "xpxe_dhcp6_server_total{interface=\"%s\",outcome=\"%s\"} %llu\n",
			srv->ifname, counter_names[i], cnt[i]);
}

void xpxe_dhcp6_server_process(struct xpxe_dhcp6_server *srv)
{
	uint8_t pkt[XPXE_DHCP6_PKT_MAX];

	if (!srv->running)
		return;
	for (int i = 0; i < XPXE_DHCP6_BATCH; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(srv->pkt_fd, pkt, sizeof(pkt), MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		/*
		 * OTHERHOST: a frame of a VLAN the kernel has no device for (it took the tag off
		 * and kept it): xpxe's DHCPv6 server is the untagged network's, and XDP's rate
		 * limits never saw such a frame. Counted as a bad frame.
		 */
		if (from.sll_pkttype == PACKET_OUTGOING || from.sll_halen != 6)
			continue;
		if (from.sll_pkttype == PACKET_OTHERHOST) {
			srv->cnt[XPXE_D6_RECEIVED]++;
			srv->cnt[XPXE_D6_BAD_FRAME]++;
			continue;
		}
		if ((size_t)n > sizeof(pkt)) {
			srv->cnt[XPXE_D6_RECEIVED]++;
			srv->cnt[XPXE_D6_BAD_FRAME]++;
			continue;
		}
		xpxe_dhcp6_server_take(srv, pkt, (size_t)n, from.sll_addr);
	}
	xpxe_dhcp6_server_flush(srv);
	/* The UDP socket gets the same datagrams: it is there to hold the port and the group. */
	while (recv(srv->udp_fd, pkt, sizeof(pkt), MSG_DONTWAIT) >= 0)
		;
	show(srv);
}

void xpxe_dhcp6_server_repeat(struct xpxe_dhcp6_server *srv,
			      const struct xpxe_dp_dhcp6_reply_event *ev)
{
	struct xpxe_dhcp6_repeat *slot = &srv->repeats[0];

	if (ev->len <= 14 || ev->len > sizeof(ev->frame))
		return;
	for (int i = 0; i < XPXE_DHCP6_REPEATS; i++) {
		struct xpxe_dhcp6_repeat *e = &srv->repeats[i];

		if (!e->at_ns) {
			slot = e;
			break;
		}
		if (e->at_ns < slot->at_ns)
			slot = e;
	}
	slot->at_ns = ev->h.ts_ns ? ev->h.ts_ns : 1;
	slot->len = ev->len;
	slot->sent = 0;
	slot->ifindex = ev->h.ifindex;
	memcpy(slot->frame, ev->frame, ev->len);
}

/* Sends the frame of R again: its IPv6 packet, to the MAC it went to. */
static void repeat_send(struct xpxe_dhcp6_server *srv, const struct xpxe_dhcp6_repeat *r)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IPV6),
				  .sll_ifindex = (int)r->ifindex,
				  .sll_halen = 6 };

	if (!srv->repeat_open) {
		/* Protocol 0: it receives nothing. */
		srv->repeat_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		srv->repeat_open = srv->repeat_fd >= 0;
		if (!srv->repeat_open) {
			srv->cnt[XPXE_D6_SEND_ERRORS]++;
			log_debug("%s: no socket to repeat a DHCPv6 Reply: %s", srv->ifname,
				  strerror(errno));
			return;
		}
	}
	memcpy(to.sll_addr, r->frame, 6);
	if (sendto(srv->repeat_fd, r->frame + 14, r->len - 14, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0) {
		srv->cnt[XPXE_D6_SEND_ERRORS]++;
		log_debug("%s: DHCPv6 Reply not repeated: %s", srv->ifname, strerror(errno));
		return;
	}
	srv->cnt[XPXE_D6_REPEATED]++;
}

/* The repeats due: each tick (once a second) sends those XPXE_DHCP6_REPEAT_AFTER_NS old. */
static void repeat_tick(struct xpxe_dhcp6_server *srv)
{
	unsigned long long now = srv->clock_ns ? srv->clock_ns() : mono_ns();

	for (int i = 0; i < XPXE_DHCP6_REPEATS; i++) {
		struct xpxe_dhcp6_repeat *r = &srv->repeats[i];

		if (!r->at_ns || now < r->at_ns + XPXE_DHCP6_REPEAT_AFTER_NS)
			continue;
		if (now < r->at_ns + XPXE_DHCP6_REPEAT_UNTIL_NS)
			repeat_send(srv, r);
		if (++r->sent >= XPXE_DHCP6_REPEAT_TIMES ||
		    now >= r->at_ns + XPXE_DHCP6_REPEAT_UNTIL_NS)
			r->at_ns = 0;
	}
}

void xpxe_dhcp6_server_tick(struct xpxe_dhcp6_server *srv)
{
	time_t now = time(NULL);

	repeat_tick(srv);

	for (int i = 0; srv->running && i < srv->leases.n; i++) {
		if (srv->leases.items[i].offered && srv->leases.items[i].expires < now) {
			xpxe_leases6_remove(&srv->leases, srv->leases.items[i].mac);
			i--;
		}
	}
	show(srv); /* the repeats' counts, between messages */
}

/*
 * Packet socket filter: IPv6 (SOCK_DGRAM: the network header first) with UDP to 547; in
 * proxy mode (PROXY) a Relay-forward only.
 */
static int attach_filter(int fd, bool proxy)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6), /* next header */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, IP6_HDR_LEN + 2), /* UDP destination port */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, XPXE_PORT_DHCP6_SERVER, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter relays[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 5),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, IP6_HDR_LEN + 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, XPXE_PORT_DHCP6_SERVER, 0, 3),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, IP6_HDR_LEN + UDP_HDR_LEN), /* message type */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, XPXE_DHCP6_RELAY_FORW, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (proxy)
		prog = (struct sock_fprog){ .len = sizeof(relays) / sizeof(relays[0]),
					    .filter = relays };
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static int open_sockets(struct xpxe_dhcp6_server *srv)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IPV6),
				  .sll_ifindex = srv->ifindex };
	struct sockaddr_in6 any = { .sin6_family = AF_INET6,
				    .sin6_port = htons(XPXE_PORT_DHCP6_SERVER) };
	struct ipv6_mreq group = { .ipv6mr_interface = srv->ifindex };
	int one = 1;

	inet_pton(AF_INET6, "ff02::1:2", &group.ipv6mr_multiaddr);
	srv->pkt_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->pkt_fd < 0 || attach_filter(srv->pkt_fd, srv->proxy))
		return -errno;
	ll.sll_protocol = htons(ETH_P_IPV6);
	if (bind(srv->pkt_fd, (struct sockaddr *)&ll, sizeof(ll)))
		return -errno;
	/*
	 * Proxy mode: port 547 is the address server's, maybe on this host, so no UDP socket of
	 * ours may hold it. A raw socket of UDP sends the Relay-replies from 547 all the same, as
	 * full mode's (send_answer: our UDP header, the kernel's checksum), and reads nothing.
	 */
	if (srv->proxy) {
		struct sock_filter none[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
		struct sock_fprog prog = { .len = 1, .filter = none };
		int csum = 6; /* the UDP checksum's offset */

		srv->udp_fd =
		    socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
		return srv->udp_fd < 0 ||
			       setsockopt(srv->udp_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
					  sizeof(prog)) ||
			       setsockopt(srv->udp_fd, IPPROTO_IPV6, IPV6_CHECKSUM, &csum,
					  sizeof(csum)) ||
			       setsockopt(srv->udp_fd, SOL_SOCKET, SO_BINDTODEVICE, srv->ifname,
					  strlen(srv->ifname))
			   ? -errno
			   : 0;
	}
	srv->udp_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->udp_fd < 0 ||
	    setsockopt(srv->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(srv->udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(srv->udp_fd, SOL_SOCKET, SO_BINDTODEVICE, srv->ifname,
		       strlen(srv->ifname)) ||
	    bind(srv->udp_fd, (struct sockaddr *)&any, sizeof(any)) ||
	    setsockopt(srv->udp_fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &group, sizeof(group)))
		return -errno;
	return 0;
}

/* Both modes: the interface and the data plane's maps the server reads (REPLIES: its mode's). */
static void take_maps(struct xpxe_dhcp6_server *srv, const struct xpxe_dataplane *dp,
		      int replies_fd)
{
	snprintf(srv->ifname, sizeof(srv->ifname), "%s", dp->ifname);
	srv->ifindex = dp->ifindex;
	srv->clients_fd = bpf_map__fd(dp->skel->maps.dhcp_clients);
	srv->config_fd = bpf_map__fd(dp->skel->maps.dhcp_config);
	srv->config6_fd = bpf_map__fd(dp->skel->maps.dhcp6_config);
	srv->replies_fd = replies_fd;
}

/* Both modes: what the server takes from the programs' config (CFG6 read) and the settings. */
static void take_config(struct xpxe_dhcp6_server *srv, const struct xpxe_dhcp6_config *cfg6,
			const struct xpxe_dhcp_settings *s)
{
	struct xpxe_dhcp_config cfg = { 0 };
	__u32 zero = 0;

	if (!bpf_map_lookup_elem(srv->config_fd, &zero, &cfg)) {
		srv->answer_unknown = cfg.flags & XPXE_DHCP_F_ANSWER_UNKNOWN;
		srv->default_profile = cfg.default_profile;
	}
	srv->duid_len = cfg6->duid_len;
	memcpy(srv->duid, cfg6->duid, sizeof(srv->duid));
	xpxe_dhcp6_server_set_limits(srv, s);
}

/*
 * Proxy mode: relays' clients answered with the boot options, when xdp_pxe answers DHCPv6 (a
 * global or ULA address on the interface); nothing to load, no bindings.
 */
static int start_proxy(struct xpxe_dhcp6_server *srv, struct xpxe_dataplane *dp,
		       const struct xpxe_dhcp_settings *s)
{
	struct xpxe_dhcp6_config cfg6 = { 0 };
	__u32 zero = 0;
	int err;

	srv->proxy = true;
	take_maps(srv, dp, bpf_map__fd(dp->skel->maps.dhcp6_replies));
	if (bpf_map_lookup_elem(srv->config6_fd, &zero, &cfg6) || !cfg6.enabled)
		return 0; /* no DHCPv6 here (xpxe status says why) */
	take_config(srv, &cfg6, s);
	err = (srv->queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv->queued))) ? open_sockets(srv)
									     : -ENOMEM;
	if (err) {
		log_error("%s: cannot start answering DHCPv6 relays: %s", dp->ifname,
			  strerror(-err));
		xpxe_dhcp6_server_stop(srv);
		return err;
	}
	srv->running = true;
	show(srv);
	log_info("%s: DHCPv6 relays' clients get the boot options (proxy mode)", dp->ifname);
	return 0;
}

int xpxe_dhcp6_server_start(struct xpxe_dhcp6_server *srv, struct xpxe_dataplane *dp,
			    const struct xpxe_dhcp_settings *s)
{
	struct xpxe_dhcp6_config cfg6 = { 0 };
	struct xpxe_reservation6 res[XPXE_MAX_RESERVATIONS];
	char path[sizeof(s->leases_path) + 2];
	__u32 zero = 0;
	int err, n = 0;

	memset(srv, 0, sizeof(*srv));
	srv->pkt_fd = srv->udp_fd = srv->bindings_fd = -1;
	srv->shown_lock_made = !pthread_mutex_init(&srv->shown_lock, NULL);
	if (!xpxe_dhcp6_full(s))
		return s->enabled && s->mode == XPXE_MODE_PROXY ? start_proxy(srv, dp, s) : 0;
	take_maps(srv, dp, bpf_map__fd(dp->skel->maps.dhcp6_replies_full));
	srv->bindings_fd = bpf_map__fd(dp->skel->maps.dhcp6_bindings);
	if (bpf_map_lookup_elem(srv->config6_fd, &zero, &cfg6) || !cfg6.enabled ||
	    !(cfg6.flags & XPXE_DHCP6_F_FULL)) {
		log_error("%s: --pool6/--reserve6 need a global or ULA IPv6 address on the "
			  "interface (the source of the boot URLs); none found",
			  dp->ifname);
		return -EADDRNOTAVAIL;
	}
	take_config(srv, &cfg6, s);
	srv->lease_time = s->lease_time ? s->lease_time : 3600;
	srv->offer_hold = s->offer_hold ? s->offer_hold : 30;
	snprintf(path, sizeof(path), "%s6", s->leases_path);
	err = xpxe_leases6_init(&srv->leases, path, &s->pool6_first, &s->pool6_last);
	srv->leases.forget = map_forget;
	srv->leases.refresh = map_refresh;
	srv->leases.hook_ctx = srv;
	/* Reservations: the flags', then the machines' ip6. */
	for (int i = 0; !err && i < s->n_reservations6 && n < XPXE_MAX_RESERVATIONS; i++)
		res[n++] = s->reservations6[i];
	for (int i = 0; !err && i < s->n_machines; i++) {
		const struct xpxe_machine_cfg *m = &s->machines[i];

		for (int j = 0; !IN6_IS_ADDR_UNSPECIFIED(&m->ip6) && j < m->n_macs &&
				n < XPXE_MAX_RESERVATIONS;
		     j++) {
			memcpy(res[n].mac, m->macs[j], 6);
			res[n++].ip = m->ip6;
		}
	}
	if (!err)
		err = xpxe_leases6_set_reserved(&srv->leases, res, n);
	if (!err) {
		err = xpxe_leases6_load(&srv->leases);
		/*
		 * Bad lines (in the bindings or the holds file): the file was moved aside and
		 * only memory holds the good records; written back at once (as the v4 file),
		 * else a restart before the next commit would find no file and give their
		 * addresses to other machines.
		 */
		if ((err > 0 || (err == 0 && srv->leases.holds_dirty)) &&
		    (err = xpxe_leases6_save(&srv->leases)))
			log_error(
			    "%s: cannot write back the DHCPv6 bindings kept from a damaged file",
			    dp->ifname);
	}
	if (!err && !dp->adopted) {
		/*
		 * Renewals answered in XDP never reach the file, so its expiries say nothing of
		 * a machine still renewing. Adopted maps know (last_seen_ns, map_refresh); a
		 * fresh data plane does not: every binding gets a whole lease first (as IPv4's).
		 */
		for (int i = 0; i < srv->leases.n; i++)
			if (srv->leases.items[i].expires < time(NULL) + (time_t)srv->lease_time)
				srv->leases.items[i].expires = time(NULL) + (time_t)srv->lease_time;
	}
	if (!err)
		err = xpxe_dhcp6_server_sync_map(srv);
	if (!err && !(srv->queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv->queued))))
		err = -ENOMEM;
	if (!err)
		err = open_sockets(srv);
	if (err) {
		log_error("%s: cannot start the DHCPv6 server: %s", dp->ifname, strerror(-err));
		xpxe_dhcp6_server_stop(srv);
		return err;
	}
	srv->running = true;
	show(srv);
	log_info("%s: DHCPv6 server (full mode): %d binding(s) from %s, %d reservation(s)",
		 dp->ifname, srv->leases.n, srv->leases.path, n);
	return 0;
}

void xpxe_dhcp6_server_set_limits(struct xpxe_dhcp6_server *srv, const struct xpxe_dhcp_settings *s)
{
	srv->relay_rate = s->relay_rate;
	srv->relay_burst = s->relay_burst;
}

void xpxe_dhcp6_server_follow(struct xpxe_dhcp6_server *srv, struct xpxe_dataplane *dp,
			      const struct xpxe_dhcp_settings *s)
{
	struct xpxe_dhcp6_config cfg6 = { 0 };
	__u32 zero = 0;
	bool want;

	xpxe_dhcp6_server_set_limits(srv, s);
	if (xpxe_dhcp6_full(s) || (srv->running && !srv->proxy))
		return; /* full mode's: as it started (a reload cannot change the mode) */
	want = s->enabled && s->mode == XPXE_MODE_PROXY &&
	       !bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.dhcp6_config), &zero, &cfg6) &&
	       cfg6.enabled;
	if (want && srv->running) {
		take_config(srv, &cfg6,
			    s); /* the DUID and the strangers' answer, as they are now */
	} else if (want) {
		srv->pkt_fd = srv->udp_fd = -1;
		log_info("%s: a global or ULA IPv6 address now: DHCPv6 relays get answered",
			 dp->ifname);
		start_proxy(srv, dp, s);
	} else if (srv->running) {
		xpxe_dhcp6_server_stop(srv);
		log_info("%s: %s: DHCPv6 relays no longer answered", dp->ifname,
			 s->enabled ? "no global or ULA IPv6 address now"
				    : "DHCP answering is off");
	}
}

int xpxe_dhcp6_server_fd(const struct xpxe_dhcp6_server *srv)
{
	return srv->running ? srv->pkt_fd : -1;
}

void xpxe_dhcp6_server_stop(struct xpxe_dhcp6_server *srv)
{
	if (srv->pkt_fd >= 0)
		close(srv->pkt_fd);
	if (srv->udp_fd >= 0)
		close(srv->udp_fd);
	srv->pkt_fd = srv->udp_fd = -1;
	srv->running = false;
	if (srv->repeat_open)
		close(srv->repeat_fd);
	srv->repeat_open = false;
	memset(srv->repeats, 0, sizeof(srv->repeats));
	show(srv);
	free(srv->queued);
	srv->queued = NULL;
	xpxe_leases6_free(&srv->leases);
}

struct fy_node *xpxe_dhcp6_server_status(const struct xpxe_dhcp6_server *srv,
					 struct fy_document *doc)
{
	struct fy_node *node = fy_node_create_mapping(doc), *bad = fy_node_create_mapping(doc);
	int bound = 0;

	xpxe_json_add_str(node, "answers",
			  srv->proxy ? "relays, boot options only (proxy mode)"
				     : "addresses (full mode)");
	for (int i = 0; i < srv->leases.n; i++)
		bound += !srv->leases.items[i].offered;
	xpxe_json_add_u64(node, "bindings", bound);
	xpxe_json_add_u64(node, "offers_held", srv->leases.n - bound);
	xpxe_json_add_u64(node, "pool_size", srv->leases.pool_size);
	xpxe_json_add_str(node, "leases_file", srv->leases.path);
	for (int i = 0; i < XPXE_D6_CNT_MAX; i++)
		xpxe_json_add_u64(node, counter_names[i], srv->cnt[i]);
	for (int i = 1; i < XPXE_DHCP6_VERDICT_MAX; i++)
		xpxe_json_add_u64(bad, xpxe_dhcp6_verdict_names[i], srv->malformed[i]);
	xpxe_json_add_node(node, "malformed_by_kind", bad);
	return node;
}
