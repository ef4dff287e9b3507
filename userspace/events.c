// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpxe_dhcp.h"
#include "events.h"
#include "log.h"

/* The programs' event types follow the reply order (bpf/dhcp.h adds the reply to OFFER). */
_Static_assert(XPXE_EV_DHCP_ACK == XPXE_EV_DHCP_OFFER + XPXE_REPLY_ACK, "event order");
_Static_assert(XPXE_EV_DHCP_ACK_4011 == XPXE_EV_DHCP_OFFER + XPXE_REPLY_ACK_4011, "event order");
_Static_assert(XPXE_EV_DHCP_NAK == XPXE_EV_DHCP_OFFER + XPXE_REPLY_NAK, "event order");

const char *const xpxe_stage_names[XPXE_STAGE_MAX] = {
	[XPXE_STAGE_NONE] = "-",
	[XPXE_STAGE_DHCP] = "dhcp offer",
	[XPXE_STAGE_ADDRESS] = "address",
	[XPXE_STAGE_BOOT_FILE] = "boot file",
	[XPXE_STAGE_SCRIPT] = "ipxe script",
	[XPXE_STAGE_DOWNLOAD] = "downloading",
	[XPXE_STAGE_CONFIG] = "config",
	[XPXE_STAGE_INSTALLED] = "installed",
	[XPXE_STAGE_LOCAL_BOOT] = "local disk",
};

const char *const xpxe_event_names[XPXE_EV_MAX] = {
	[XPXE_EV_DHCP_OFFER] = "dhcp_offer",
	[XPXE_EV_DHCP_ACK] = "dhcp_ack",
	[XPXE_EV_DHCP_ACK_4011] = "dhcp_ack_4011",
	[XPXE_EV_DHCP_NAK] = "dhcp_nak",
	[XPXE_EV_LEASE_BOUND] = "lease_bound",
	[XPXE_EV_SCRIPT] = "script",
	[XPXE_EV_LOCAL_BOOT] = "local_boot_script",
	[XPXE_EV_ASSET] = "asset",
	[XPXE_EV_CONFIG] = "config",
	[XPXE_EV_CONFIG_REFUSED] = "config_refused",
	[XPXE_EV_INSTALLED] = "installed",
	[XPXE_EV_REARMED] = "rearmed",
};

static const int stage_of_event[XPXE_EV_MAX] = {
	[XPXE_EV_DHCP_OFFER] = XPXE_STAGE_DHCP,
	[XPXE_EV_DHCP_ACK] = XPXE_STAGE_ADDRESS,
	[XPXE_EV_DHCP_ACK_4011] = XPXE_STAGE_BOOT_FILE,
	[XPXE_EV_LEASE_BOUND] = XPXE_STAGE_DHCP,
	[XPXE_EV_SCRIPT] = XPXE_STAGE_SCRIPT,
	[XPXE_EV_LOCAL_BOOT] = XPXE_STAGE_LOCAL_BOOT,
	[XPXE_EV_ASSET] = XPXE_STAGE_DOWNLOAD,
	[XPXE_EV_CONFIG] = XPXE_STAGE_CONFIG,
	[XPXE_EV_INSTALLED] = XPXE_STAGE_INSTALLED,
};

static struct {
	pthread_mutex_t lock;
	/* Ring and fleet below are guarded by LOCK. */
	struct xpxe_event ring[XPXE_EVENT_RING];
	uint64_t next_seq; /* seq of the next event; the ring holds the last XPXE_EVENT_RING */
	struct xpxe_machine_view *machines;
	int n_machines, cap;
} ev = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_seq = 1 };

static struct xpxe_machine_view *view_of(const char *mac)
{
	struct xpxe_machine_view *more;

	for (int i = 0; i < ev.n_machines; i++)
		if (!strcmp(ev.machines[i].mac, mac))
			return &ev.machines[i];
	if (ev.n_machines == ev.cap) {
		/* A flood of random MACs must not grow memory without end. */
		if (ev.cap >= 65536)
			return NULL;
		more = realloc(ev.machines, (ev.cap ? ev.cap * 2 : 64) * sizeof(*more));
		if (!more)
			return NULL;
		ev.machines = more;
		ev.cap = ev.cap ? ev.cap * 2 : 64;
	}
	more = &ev.machines[ev.n_machines++];
	memset(more, 0, sizeof(*more));
	snprintf(more->mac, sizeof(more->mac), "%s", mac);
	return more;
}

static void log_line(const struct xpxe_event *e)
{
	const char *name = e->type > 0 && e->type < XPXE_EV_MAX && xpxe_event_names[e->type]
			       ? xpxe_event_names[e->type]
			       : "unknown";

	if (xpxe_log_json)
		xpxe_log(XPXE_LOG_INFO,
			 "{\"event\":\"%s\",\"mac\":\"%s\",\"ip\":\"%s\",\"iface\":\"%s\","
			 "\"detail\":\"%s\",\"bytes\":%llu}",
			 name, e->mac, e->ip, e->iface, e->detail, (unsigned long long)e->bytes);
	else
		xpxe_log(XPXE_LOG_INFO, "event=%s mac=%s ip=%s iface=%s%s%s%s bytes=%llu", name,
			 e->mac[0] ? e->mac : "-", e->ip[0] ? e->ip : "-",
			 e->iface[0] ? e->iface : "-", e->detail[0] ? " detail=\"" : "", e->detail,
			 e->detail[0] ? "\"" : "", (unsigned long long)e->bytes);
}

void xpxe_event(int type, const char *mac, const char *ip, const char *iface, const char *detail,
		uint64_t bytes)
{
	struct xpxe_event *e;
	struct xpxe_machine_view *m = NULL;

	pthread_mutex_lock(&ev.lock);
	e = &ev.ring[ev.next_seq % XPXE_EVENT_RING];
	memset(e, 0, sizeof(*e));
	e->seq = ev.next_seq++;
	clock_gettime(CLOCK_REALTIME, &e->when);
	e->type = type;
	snprintf(e->mac, sizeof(e->mac), "%s", mac ? mac : "");
	snprintf(e->ip, sizeof(e->ip), "%s", ip ? ip : "");
	snprintf(e->iface, sizeof(e->iface), "%s", iface ? iface : "");
	snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
	/* Details end up inside quotes in the log lines: keep them quote-free. */
	for (char *c = e->detail; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '\'';
	e->bytes = bytes;
	if (e->mac[0])
		m = view_of(e->mac);
	if (m) {
		int stage = type < XPXE_EV_MAX ? stage_of_event[type] : 0;

		if (!m->first.tv_sec)
			m->first = e->when;
		m->last = e->when;
		if (e->ip[0] && strcmp(e->ip, "0.0.0.0"))
			snprintf(m->ip, sizeof(m->ip), "%s", e->ip);
		m->bytes += bytes;
		if (type == XPXE_EV_DHCP_OFFER)
			m->dhcp_rounds++;
		if (type == XPXE_EV_CONFIG_REFUSED)
			snprintf(m->problem, sizeof(m->problem), "config refused: %s", e->detail);
		/* A new boot starts over at DHCP; otherwise a stage only moves forward. */
		if (stage &&
		    (stage > m->stage || type == XPXE_EV_DHCP_OFFER || type == XPXE_EV_REARMED)) {
			m->stage = stage;
			if (stage >= XPXE_STAGE_CONFIG)
				m->problem[0] = '\0';
		}
		if (type == XPXE_EV_REARMED)
			m->stage = XPXE_STAGE_NONE;
	}
	log_line(e);
	pthread_mutex_unlock(&ev.lock);
}

void xpxe_event_name(const char *mac, const char *hostname)
{
	struct xpxe_machine_view *m;

	pthread_mutex_lock(&ev.lock);
	m = view_of(mac);
	if (m)
		snprintf(m->hostname, sizeof(m->hostname), "%s", hostname);
	pthread_mutex_unlock(&ev.lock);
}

int xpxe_events_since(uint64_t since, const char *mac, struct xpxe_event *out, int max,
		      uint64_t *next)
{
	uint64_t first, seq;
	int n = 0;

	pthread_mutex_lock(&ev.lock);
	first = ev.next_seq > XPXE_EVENT_RING ? ev.next_seq - XPXE_EVENT_RING : 1;
	seq = since + 1 > first ? since + 1 : first;
	for (; seq < ev.next_seq && n < max; seq++) {
		const struct xpxe_event *e = &ev.ring[seq % XPXE_EVENT_RING];

		if (mac && strcmp(e->mac, mac))
			continue;
		out[n++] = *e;
	}
	*next = seq - 1;
	pthread_mutex_unlock(&ev.lock);
	return n;
}

int xpxe_events_fleet(struct xpxe_machine_view *out, int max)
{
	int n;

	pthread_mutex_lock(&ev.lock);
	n = ev.n_machines < max ? ev.n_machines : max;
	memcpy(out, ev.machines, n * sizeof(*out));
	pthread_mutex_unlock(&ev.lock);
	return n;
}

void xpxe_events_stage_counts(unsigned int counts[XPXE_STAGE_MAX])
{
	memset(counts, 0, XPXE_STAGE_MAX * sizeof(*counts));
	pthread_mutex_lock(&ev.lock);
	for (int i = 0; i < ev.n_machines; i++)
		counts[ev.machines[i].stage]++;
	pthread_mutex_unlock(&ev.lock);
}
