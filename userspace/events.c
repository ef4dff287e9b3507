// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpxe_dhcp.h"
#include "dhcp_settings.h"
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
	[XPXE_STAGE_TFTP] = "tftp",
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
	[XPXE_EV_TFTP_DONE] = "tftp_done",
	[XPXE_EV_TFTP_ABORTED] = "tftp_aborted",
	[XPXE_EV_LEASE_BOUND] = "lease_bound",
	[XPXE_EV_SCRIPT] = "script",
	[XPXE_EV_LOCAL_BOOT] = "local_boot_script",
	[XPXE_EV_ASSET] = "asset",
	[XPXE_EV_CONFIG] = "config",
	[XPXE_EV_CONFIG_REFUSED] = "config_refused",
	[XPXE_EV_INSTALLED] = "installed",
	[XPXE_EV_REARMED] = "rearmed",
	[XPXE_EV_TFTP_START] = "tftp_start",
	[XPXE_EV_TFTP_RETRANSMIT] = "tftp_retransmit",
	[XPXE_EV_TFTP_ERROR] = "tftp_error",
	[XPXE_EV_TFTP_EXPIRED] = "tftp_expired",
	[XPXE_EV_DOWNLOAD_QUEUED] = "download_queued",
};

const char *const xpxe_transfer_state_names[] = {
	[XPXE_XFER_NONE] = "",
	[XPXE_XFER_RUNNING] = "running",
	[XPXE_XFER_DONE] = "done",
	[XPXE_XFER_FAILED] = "failed",
};

const char *const xpxe_tftp_path_names[XPXE_TFTP_PATH_PACED + 1] = {
	[XPXE_TFTP_PATH_XDP] = "xdp",	      [XPXE_TFTP_PATH_TC] = "tc",
	[XPXE_TFTP_PATH_AF_XDP] = "af_xdp",   [XPXE_TFTP_PATH_UDP] = "udp",
	[XPXE_TFTP_PATH_LOCKSTEP] = "xdp/tc", [XPXE_TFTP_PATH_PACED] = "paced",
};

/* Events that tell of a problem are logged as warnings. */
static const bool warn_event[XPXE_EV_MAX] = {
	[XPXE_EV_CONFIG_REFUSED] = true,
	[XPXE_EV_TFTP_ERROR] = true,
	[XPXE_EV_TFTP_EXPIRED] = true,
	[XPXE_EV_TFTP_RETRANSMIT] = true,
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
	[XPXE_EV_TFTP_START] = XPXE_STAGE_TFTP,
};

static struct {
	pthread_mutex_t lock;
	/* Ring and fleet below are guarded by LOCK. */
	struct xpxe_event ring[XPXE_EVENT_RING];
	uint64_t next_seq; /* seq of the next event; the ring holds the last XPXE_EVENT_RING */
	struct xpxe_machine_view *machines;
	int n_machines, cap;
	/*
	 * MAC -> index in machines: open addressing, linear probing, -1 empty, 2 * cap slots
	 * (a power of two). A linear scan per event was 76-88 % of the daemon's CPU under a
	 * storm of thousands of machines.
	 */
	int *slots;
	unsigned int n_slots;
	uint64_t version;	  /* bumped by every change of a machine's view */
	char default_profile[64]; /* shown for machines whose view names none */
	struct {
		char name[16];
		unsigned int transfers;
	} in_flight[XPXE_EVENTS_IFACES];
	struct xpxe_tftp_queue tftp_queue;
} ev = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_seq = 1 };

/* FNV-1a of the MAC string: what the index is keyed by (strings compared as strcmp does). */
static unsigned int mac_hash(const char *mac)
{
	unsigned int h = 2166136261u;

	for (; *mac; mac++)
		h = (h ^ (unsigned char)*mac) * 16777619u;
	return h;
}

/* The slot of MAC in the index: where it is, or the empty slot where it would go. */
static unsigned int slot_of(const char *mac)
{
	unsigned int mask = ev.n_slots - 1, i = mac_hash(mac) & mask;

	while (ev.slots[i] >= 0 && strcmp(ev.machines[ev.slots[i]].mac, mac))
		i = (i + 1) & mask;
	return i;
}

/* Fills the index with every machine (after growth, or machines removed). */
static void index_all(void)
{
	memset(ev.slots, 0xff, ev.n_slots * sizeof(*ev.slots));
	for (int i = 0; i < ev.n_machines; i++)
		ev.slots[slot_of(ev.machines[i].mac)] = i;
}

static struct xpxe_machine_view *view_of(const char *mac)
{
	struct xpxe_machine_view *more;
	char key[sizeof(more->mac)];
	unsigned int slot = 0; /* set below: no index yet means no room yet */

	/* As the view stores it: a longer string finds the machine its first 17 bytes name. */
	snprintf(key, sizeof(key), "%s", mac);
	if (ev.n_slots) {
		slot = slot_of(key);
		if (ev.slots[slot] >= 0)
			return &ev.machines[ev.slots[slot]];
	}
	if (ev.n_machines == ev.cap) {
		int cap = ev.cap ? ev.cap * 2 : 64, *slots;

		/* A flood of random MACs must not grow memory without end. */
		if (ev.cap >= 65536)
			return NULL;
		/* At most half full: probes stay short. */
		slots = malloc(2 * cap * sizeof(*slots));
		if (!slots)
			return NULL;
		more = realloc(ev.machines, cap * sizeof(*more));
		if (!more) {
			free(slots);
			return NULL;
		}
		ev.machines = more;
		ev.cap = cap;
		free(ev.slots);
		ev.slots = slots;
		ev.n_slots = 2 * cap;
		index_all();
		slot = slot_of(key);
	}
	more = &ev.machines[ev.n_machines];
	memset(more, 0, sizeof(*more));
	memcpy(more->mac, key, sizeof(key));
	ev.slots[slot] = ev.n_machines++;
	return more;
}

static void log_line(const struct xpxe_event *e, bool problem)
{
	const char *name = e->type > 0 && e->type < XPXE_EV_MAX && xpxe_event_names[e->type]
			       ? xpxe_event_names[e->type]
			       : "unknown";
	enum xpxe_log_level level = problem ? XPXE_LOG_WARN : XPXE_LOG_INFO;
	char bytes[24];
	const struct xpxe_log_field fields[] = {
		{ "XPXE_EVENT", name },	    { "XPXE_MAC", e->mac },	  { "XPXE_IP", e->ip },
		{ "XPXE_IFACE", e->iface }, { "XPXE_DETAIL", e->detail }, { "XPXE_BYTES", bytes },
	};

#define N_FIELDS (int)(sizeof(fields) / sizeof(fields[0]))
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)e->bytes);
	/* The journal gets the fields as such (journalctl XPXE_MAC=...), stderr the line. */
	if (xpxe_log_json)
		xpxe_log_with(level, fields, N_FIELDS,
			      "{\"event\":\"%s\",\"mac\":\"%s\",\"ip\":\"%s\",\"iface\":\"%s\","
			      "\"detail\":\"%s\",\"bytes\":%llu}",
			      name, e->mac, e->ip, e->iface, e->detail,
			      (unsigned long long)e->bytes);
	else
		xpxe_log_with(level, fields, N_FIELDS,
			      "event=%s mac=%s ip=%s iface=%s%s%s%s bytes=%llu", name,
			      e->mac[0] ? e->mac : "-", e->ip[0] ? e->ip : "-",
			      e->iface[0] ? e->iface : "-", e->detail[0] ? " detail=\"" : "",
			      e->detail, e->detail[0] ? "\"" : "", (unsigned long long)e->bytes);
}

/* Moves M's transfer view along for a TFTP event; the problem it shows, if any. */
static void fold_transfer(struct xpxe_machine_view *m, int type, const struct xpxe_tftp_report *r,
			  bool problem)
{
	struct xpxe_transfer_view *x = &m->xfer;

	if (type == XPXE_EV_TFTP_START || !x->state || strcmp(x->file, r->file)) {
		memset(x, 0, sizeof(*x));
		snprintf(x->file, sizeof(x->file), "%s", r->file);
		x->size = r->size;
		x->state = XPXE_XFER_RUNNING;
	}
	if (r->path >= 0 && r->path <= XPXE_TFTP_PATH_PACED)
		snprintf(x->path, sizeof(x->path), "%s", xpxe_tftp_path_names[r->path]);
	if (r->done > x->done)
		x->done = r->done;
	if (r->retransmits > x->retransmits)
		x->retransmits = r->retransmits;
	switch (type) {
	case XPXE_EV_TFTP_DONE:
		x->state = XPXE_XFER_DONE;
		x->done = x->size;
		if (!strncmp(m->problem, "tftp", 4))
			m->problem[0] = '\0'; /* a retry got through */
		break;
	case XPXE_EV_TFTP_ABORTED:
	case XPXE_EV_TFTP_EXPIRED:
		/* A size probe (aborted after the OACK) fetched nothing, and failed nothing. */
		x->state = problem ? XPXE_XFER_FAILED : XPXE_XFER_NONE;
		break;
	}
}

static bool before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* What a record is besides its type. */
enum {
	RECORD_PROBLEM = 1, /* logged as a warning; the machine's last problem */
	RECORD_OS_DHCP = 2, /* an operating system's DHCP: never a stage back, nor a new boot */
};

/* WHEN: when it happened (NULL: now). */
/* The trunk's VLANs (xpxe_events_set_vlans); under ev.lock. */
static struct {
	char trunk[16];
	int n;
	struct {
		in_addr_t net, mask;
		char name[16];
	} v[XPXE_VLAN_MAX];
} vlans;

void xpxe_events_set_vlans(const char *iface, const struct xpxe_vlan_cfg *v, int n)
{
	pthread_mutex_lock(&ev.lock);
	snprintf(vlans.trunk, sizeof(vlans.trunk), "%s", iface ? iface : "");
	vlans.n = 0;
	for (int i = 0; i < n && i < XPXE_VLAN_MAX; i++) {
		vlans.v[i].mask = htonl(~0u << (32 - v[i].prefix));
		vlans.v[i].net = v[i].server_ip.s_addr & vlans.v[i].mask;
		xpxe_vlan_name(&v[i], vlans.v[i].name, sizeof(vlans.v[i].name));
		vlans.n++;
	}
	pthread_mutex_unlock(&ev.lock);
}

/*
 * An event of a machine on a VLAN of the trunk (its address IP in the VLAN's subnet) names
 * the interface TRUNK.VID, whoever reported it as the trunk's or without one (HTTP).
 */
static void vlan_iface(char *iface, size_t size, const char *ip)
{
	struct in_addr a;

	if (!vlans.n || (iface[0] && strcmp(iface, vlans.trunk)) || !ip ||
	    inet_pton(AF_INET, ip, &a) != 1)
		return;
	for (int i = 0; i < vlans.n; i++)
		if ((a.s_addr & vlans.v[i].mask) == vlans.v[i].net) {
			/* Cut to IFACE's size, as a VLAN device's name would be. */
			if (snprintf(iface, size, "%s.%s", vlans.trunk, vlans.v[i].name) < 0)
				iface[0] = '\0';
			return;
		}
}

static void record(const struct timespec *when, int type, const char *mac, const char *ip,
		   const char *iface, const char *detail, uint64_t bytes,
		   const struct xpxe_tftp_report *r, int flags)
{
	bool problem = flags & RECORD_PROBLEM;

	struct xpxe_event *e;
	struct xpxe_machine_view *m = NULL;

	pthread_mutex_lock(&ev.lock);
	e = &ev.ring[ev.next_seq % XPXE_EVENT_RING];
	memset(e, 0, sizeof(*e));
	e->seq = ev.next_seq++;
	if (when)
		e->when = *when;
	else
		clock_gettime(CLOCK_REALTIME, &e->when);
	e->type = type;
	snprintf(e->mac, sizeof(e->mac), "%s", mac ? mac : "");
	snprintf(e->ip, sizeof(e->ip), "%s", ip ? ip : "");
	snprintf(e->iface, sizeof(e->iface), "%s", iface ? iface : "");
	vlan_iface(e->iface, sizeof(e->iface), ip);
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
		/*
		 * The programs' records are read up to a second late, after what the daemon
		 * saw meanwhile (iPXE's DHCP, read after the script it fetched 40 ms later): a
		 * late one never moves the machine back, nor starts a new boot. Nor does an
		 * operating system's own DHCP (the installer's kernel before it fetches its
		 * config, a node renewing its lease): only firmware and iPXE start over.
		 */
		bool late = before(e->when, m->last);
		bool may_restart = !late && !(flags & RECORD_OS_DHCP);

		/* A transfer after the script is the kernel or initramfs: downloading. */
		if (stage == XPXE_STAGE_TFTP && m->stage >= XPXE_STAGE_SCRIPT)
			stage = XPXE_STAGE_DOWNLOAD;
		if (!m->first.tv_sec || before(e->when, m->first))
			m->first = e->when;
		if (!late)
			m->last = e->when;
		if (e->ip[0] && strcmp(e->ip, "0.0.0.0"))
			snprintf(m->ip, sizeof(m->ip), "%s", e->ip);
		m->bytes += bytes;
		if (type == XPXE_EV_DHCP_OFFER)
			m->dhcp_rounds++;
		/* A boot starts with the machine's first event, or a DHCP offer after the last
		 * one ended (its config, or its disk): iPXE's own DHCP is part of the same boot. */
		if (stage &&
		    (m->stage == XPXE_STAGE_NONE || (type == XPXE_EV_DHCP_OFFER && may_restart &&
						     m->stage >= XPXE_STAGE_CONFIG))) {
			m->boot_start = e->when;
			m->done = (struct timespec){ 0 };
		} else if (stage && before(e->when, m->boot_start)) {
			/* A record read late belongs to the boot under way (the ring is read in
			 * order: the last boot's records came before this one's first): it started
			 * then. */
			m->boot_start = e->when;
		}
		if (r && r->file)
			fold_transfer(m, type, r, problem);
		if (type == XPXE_EV_CONFIG_REFUSED)
			snprintf(m->problem, sizeof(m->problem), "config refused: %s", e->detail);
		else if (problem && type != XPXE_EV_TFTP_RETRANSMIT)
			snprintf(m->problem, sizeof(m->problem), "%s: %s", xpxe_event_names[type],
				 r && r->why ? r->why : e->detail);
		/* A new boot starts over at DHCP; otherwise a stage only moves forward. */
		if (stage && (stage > m->stage || (may_restart && (type == XPXE_EV_DHCP_OFFER ||
								   type == XPXE_EV_REARMED)))) {
			m->stage = stage;
			if (stage >= XPXE_STAGE_CONFIG)
				m->problem[0] = '\0';
		}
		if (type == XPXE_EV_REARMED) {
			m->stage = XPXE_STAGE_NONE;
			m->done = (struct timespec){ 0 };
		}
		if (m->stage >= XPXE_STAGE_CONFIG && !m->done.tv_sec)
			m->done = e->when;
		m->version = ++ev.version;
	}
	log_line(e, problem);
	pthread_mutex_unlock(&ev.lock);
}

void xpxe_event(int type, const char *mac, const char *ip, const char *iface, const char *detail,
		uint64_t bytes)
{
	record(NULL, type, mac, ip, iface, detail, bytes, NULL,
	       type < XPXE_EV_MAX && warn_event[type] ? RECORD_PROBLEM : 0);
}

void xpxe_event_dhcp(const struct timespec *when, int type, const char *mac, const char *ip,
		     const char *iface, int boot_class)
{
	record(when, type, mac, ip, iface,
	       boot_class >= 0 && boot_class < XPXE_BOOT_MAX ? xpxe_boot_class_names[boot_class]
							     : NULL,
	       0, NULL, boot_class == XPXE_BOOT_PLAIN ? RECORD_OS_DHCP : 0);
}

void xpxe_event_tftp(int type, const struct xpxe_tftp_report *r)
{
	char detail[160];
	const char *path =
	    r->path >= 0 && r->path <= XPXE_TFTP_PATH_PACED ? xpxe_tftp_path_names[r->path] : "-";
	bool problem = type < XPXE_EV_MAX && warn_event[type];
	uint64_t bytes = 0;

	switch (type) {
	case XPXE_EV_TFTP_START:
		snprintf(detail, sizeof(detail), "%s size=%llu blksize=%u windowsize=%u path=%s",
			 r->file, (unsigned long long)r->size, r->blksize, r->windowsize, path);
		break;
	case XPXE_EV_TFTP_DONE:
		/* WHY: how it went, when it was not the usual way (IPv6: taken over from tc; the
		 * final ACK not seen: final_ack=not_seen, tftp.c's sweep and v6.c's) */
		snprintf(detail, sizeof(detail),
			 "%s blocks=%u path=%s retransmits=%u seconds=%.3f MB/s=%.2f%s%s", r->file,
			 r->final_block, path, r->retransmits, r->seconds,
			 r->seconds > 0 ? r->size / r->seconds / 1e6 : 0.0, r->why ? " " : "",
			 r->why ? r->why : "");
		bytes = r->size;
		break;
	case XPXE_EV_TFTP_RETRANSMIT:
		snprintf(detail, sizeof(detail), "%s retransmits=%u (+%u) at block %u of %u",
			 r->file, r->retransmits, r->new_retransmits, r->block, r->final_block);
		break;
	case XPXE_EV_TFTP_ABORTED:
		/* OVMF asks for the size, then ends the transfer after the OACK: not a problem. */
		problem = !(r->block == 0 && r->error == 8);
		snprintf(detail, sizeof(detail), "%s ERROR %d from the client at block %u of %u%s",
			 r->file, r->error, r->block, r->final_block,
			 problem ? "" : " (a size probe)");
		break;
	default: /* an ERROR sent, an expiry */
		if (r->expected)
			problem = false;
		/* First: a detail is cut at 95 characters. */
		snprintf(detail, sizeof(detail), "%s%s%s%s", r->expected ? "(optional) " : "",
			 r->file ? r->file : "", r->file ? ": " : "", r->why ? r->why : "");
		break;
	}
	record(NULL, type, r->mac && r->mac[0] ? r->mac : NULL, r->ip, r->iface, detail, bytes, r,
	       problem ? RECORD_PROBLEM : 0);
}

void xpxe_event_tftp_progress(const char *mac, const char *file, uint64_t done,
			      unsigned int retransmits, int path)
{
	const char *p =
	    path >= 0 && path <= XPXE_TFTP_PATH_PACED ? xpxe_tftp_path_names[path] : NULL;
	struct xpxe_machine_view *m;

	pthread_mutex_lock(&ev.lock);
	m = view_of(mac);
	if (m && m->xfer.state == XPXE_XFER_RUNNING && !strcmp(m->xfer.file, file) &&
	    (done > m->xfer.done || retransmits != m->xfer.retransmits ||
	     (p && strcmp(p, m->xfer.path)))) {
		if (done > m->xfer.done)
			m->xfer.done = done;
		m->xfer.retransmits = retransmits;
		if (p)
			snprintf(m->xfer.path, sizeof(m->xfer.path), "%s", p);
		m->version = ++ev.version;
	}
	pthread_mutex_unlock(&ev.lock);
}

void xpxe_events_set_tftp_in_flight(const char *iface, unsigned int n)
{
	int free_slot = -1;

	pthread_mutex_lock(&ev.lock);
	for (int i = 0; i < XPXE_EVENTS_IFACES; i++) {
		if (!strcmp(ev.in_flight[i].name, iface)) {
			ev.in_flight[i].transfers = n;
			free_slot = -2;
			break;
		}
		if (!ev.in_flight[i].name[0] && free_slot == -1)
			free_slot = i;
	}
	if (free_slot >= 0) {
		snprintf(ev.in_flight[free_slot].name, sizeof(ev.in_flight[free_slot].name), "%s",
			 iface);
		ev.in_flight[free_slot].transfers = n;
	}
	pthread_mutex_unlock(&ev.lock);
}

int xpxe_events_tftp_in_flight(char names[][16], unsigned int *counts, int max)
{
	int n = 0;

	pthread_mutex_lock(&ev.lock);
	for (int i = 0; i < XPXE_EVENTS_IFACES && n < max; i++) {
		if (!ev.in_flight[i].name[0])
			continue;
		memcpy(names[n], ev.in_flight[i].name, 16);
		counts[n++] = ev.in_flight[i].transfers;
	}
	pthread_mutex_unlock(&ev.lock);
	return n;
}

void xpxe_events_set_tftp_queue(const struct xpxe_tftp_queue *q)
{
	pthread_mutex_lock(&ev.lock);
	ev.tftp_queue = *q;
	pthread_mutex_unlock(&ev.lock);
}

void xpxe_events_tftp_queue(struct xpxe_tftp_queue *out)
{
	pthread_mutex_lock(&ev.lock);
	*out = ev.tftp_queue;
	pthread_mutex_unlock(&ev.lock);
}

void xpxe_events_clear_names(void)
{
	int kept = 0;

	pthread_mutex_lock(&ev.lock);
	for (int i = 0; i < ev.n_machines; i++) {
		/* Listed only for its name, never seen: it goes with its name. */
		if (!ev.machines[i].first.tv_sec)
			continue;
		ev.machines[i].hostname[0] = '\0';
		ev.machines[i].profile[0] = '\0';
		ev.machines[i].version = ++ev.version;
		ev.machines[kept++] = ev.machines[i];
	}
	ev.n_machines = kept;
	if (ev.n_slots)
		index_all(); /* the kept ones moved */
	pthread_mutex_unlock(&ev.lock);
}

void xpxe_event_name(const char *mac, const char *hostname, const char *profile)
{
	struct xpxe_machine_view *m;

	pthread_mutex_lock(&ev.lock);
	m = view_of(mac);
	if (m && (strcmp(m->hostname, hostname) || strcmp(m->profile, profile))) {
		snprintf(m->hostname, sizeof(m->hostname), "%s", hostname);
		snprintf(m->profile, sizeof(m->profile), "%s", profile);
		m->version = ++ev.version;
	}
	pthread_mutex_unlock(&ev.lock);
}

void xpxe_events_default_profile(const char *profile)
{
	pthread_mutex_lock(&ev.lock);
	if (strcmp(ev.default_profile, profile)) {
		snprintf(ev.default_profile, sizeof(ev.default_profile), "%s", profile);
		/* Those shown under the default now show another name. */
		for (int i = 0; i < ev.n_machines; i++)
			if (!ev.machines[i].profile[0])
				ev.machines[i].version = ++ev.version;
	}
	pthread_mutex_unlock(&ev.lock);
}

/* A copy of M as the fleet's readers see it: the default profile where it names none. */
static void copy_view(struct xpxe_machine_view *out, const struct xpxe_machine_view *m)
{
	*out = *m;
	if (!out->profile[0])
		memcpy(out->profile, ev.default_profile, sizeof(out->profile));
}

/* True when MAC is one of MACS (N of them); any MAC when N is 0. */
static bool mac_among(const char *mac, const char (*macs)[18], int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(mac, macs[i]))
			return true;
	return !n;
}

int xpxe_events_since(uint64_t since, const char (*macs)[18], int n_macs, struct xpxe_event *out,
		      int max, uint64_t *next)
{
	uint64_t first, seq;
	int n = 0;

	pthread_mutex_lock(&ev.lock);
	first = ev.next_seq > XPXE_EVENT_RING ? ev.next_seq - XPXE_EVENT_RING : 1;
	seq = since + 1 > first ? since + 1 : first;
	for (; seq < ev.next_seq && n < max; seq++) {
		const struct xpxe_event *e = &ev.ring[seq % XPXE_EVENT_RING];

		if (!mac_among(e->mac, macs, n_macs))
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
	for (int i = 0; i < n; i++)
		copy_view(&out[i], &ev.machines[i]);
	pthread_mutex_unlock(&ev.lock);
	return n;
}

int xpxe_events_fleet_since(uint64_t since, struct xpxe_machine_view **out, uint64_t *version)
{
	int n = 0;

	pthread_mutex_lock(&ev.lock);
	for (int i = 0; i < ev.n_machines; i++)
		n += ev.machines[i].version > since;
	/* One more: malloc(0) may return NULL, which would read as out of memory. */
	*out = malloc((n + 1) * sizeof(**out));
	if (!*out) {
		pthread_mutex_unlock(&ev.lock);
		return -ENOMEM;
	}
	n = 0;
	for (int i = 0; i < ev.n_machines; i++)
		if (ev.machines[i].version > since)
			copy_view(&(*out)[n++], &ev.machines[i]);
	*version = ev.version;
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
