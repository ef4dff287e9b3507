// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dhcp_load: a DHCP load generator that can outrun the server, from one thread on one core.
 * It plays N PXE clients through a relay (giaddr, as perfdhcp does in scripts/bench), each with
 * its own state: DISCOVER -> OFFER -> REQUEST -> ACK in full mode (and renewals), DISCOVER ->
 * OFFER in proxy mode, the options of its firmware class (BIOS ROM, OVMF, iPXE, UEFI HTTP).
 * Frames go out and come in on an AF_XDP socket of IFNAME (queue 0; copy mode on veth): its own
 * XDP program (bpf/bench_xsk_dhcp.bpf.c, attached for the run) hands it the replies before the
 * kernel makes a socket buffer of them, and requests go out in batches from its UMEM. -P uses a
 * packet socket instead (AF_PACKET, sendmmsg/recvmmsg in batches of 64, qdisc bypassed): on
 * this lab's veth pair, in runs alternated against the reflector on a busy machine, AF_XDP
 * answered about a third more exchanges per second (medians; single rounds vary both ways)
 * with a p50 latency of 300 us against 395 in every round (BENCHMARKS.md). Either way, no UDP
 * socket and no kernel stack in the client's path but the driver's.
 *
 * Every frame received goes through the reply checker (dhcp_load.h: IP and UDP checksums,
 * lengths, BOOTP fields, options) and then against what that client expects: its xid and MAC,
 * the message type its state waits for, a server identifier, the address (the one offered in
 * the ACK; the one it was bound to before, with -b, for a returning machine; none in proxy
 * mode), a boot file (full mode) or the PXE vendor class (proxy mode), sent to the relay.
 *
 *   dhcp_load -i IFNAME -d SERVER_MAC -s SERVER_IP -g RELAY_IP [-n CLIENTS] [-m full|proxy]
 *             [-r RATE] [-t SECONDS] [-c CLASSES] [-R RENEW_PCT] [-1] [-b BINDINGS]
 *             [-M MAC_BASE] [-w TIMEOUT_MS] [-C CPU] [-P [-V VID]]
 *
 * -V VID (with -P): every request carries an 802.1Q tag of VID, as an access port of that VLAN
 * puts it on toward a trunk (scripts/bench/vlan.sh). The replies arrive tagged and the client's
 * kernel takes the tag off before the packet socket sees them, so the checker reads them as
 * untagged ones.
 *
 * RATE: new exchanges (a DISCOVER, or a renewal's REQUEST) per second, 0 (the default) as fast
 * as it can; the REQUEST that follows an OFFER leaves at once, as perfdhcp's does. CLASSES: a
 * comma list of bios, uefi64, ipxe, http64, dealt to the clients in turn. -1: every client
 * makes one exchange (first contact: a DORA), retrying after a loss, then it stops. -b FILE:
 * the clients' addresses from an earlier run are read from FILE (each must get its own again)
 * and written there at the end. RELAY_IP needs no address on IFNAME: the server is told the
 * relay's MAC (a static neighbour entry), so the client's kernel drops the replies unseen.
 *
 * Prints one line of key=value pairs (see the end of main) and, on stderr, why replies were
 * malformed or wrong. Exits 3 when any reply was malformed or wrong, 1 on an error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bench_xsk_dhcp.skel.h"
#include "dhcp_load.h"
#include "xsk.h"

#define BATCH	   64
#define FRAME_BUF  2048
#define LAT_US_MAX 200000 /* latency histogram: 1 us buckets up to 200 ms, then one */
#define REASONS	   16

/* OFFERED: its REQUEST waits in the ready ring (no timeout runs until it is sent). */
enum state { IDLE, WAIT_OFFER, OFFERED, WAIT_ACK, WAIT_RENEW_ACK, DONE };

struct client {
	uint8_t mac[ETH_ALEN];
	uint8_t cls, state;
	uint8_t gen; /* the xid's top byte: a new one per exchange */
	uint32_t offered, bound, server_id;
	uint64_t sent_ns;
};

struct ring { /* of client indexes; each client is in at most one ring at a time */
	uint32_t *v, head, tail, cap;
};

static void ring_push(struct ring *r, uint32_t i)
{
	r->v[r->tail++ % r->cap] = i;
}

static bool ring_pop(struct ring *r, uint32_t *i)
{
	if (r->head == r->tail)
		return false;
	*i = r->v[r->head++ % r->cap];
	return true;
}

static struct {
	uint64_t discovers, requests, renewals, tx_errors;
	uint64_t offers, acks, naks, answered, lost, malformed, wrong, stray, other;
} st;

static struct {
	const char *why;
	uint64_t n;
} reasons[REASONS];

static void note(const char *why)
{
	for (int i = 0; i < REASONS; i++) {
		if (!reasons[i].why)
			reasons[i].why = why;
		if (reasons[i].why == why) {
			reasons[i].n++;
			return;
		}
	}
}

static uint32_t lat[LAT_US_MAX + 1];
static uint64_t lat_n;
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double lat_quantile(double p)
{
	uint64_t want = (uint64_t)(p * (lat_n - 1)) + 1, seen = 0;

	for (int i = 0; i <= LAT_US_MAX; i++) {
		seen += lat[i];
		if (seen >= want)
			return i;
	}
	return LAT_US_MAX;
}

/* The run's settings and its clients. */
static struct client *clients;
static uint32_t nclients;
static bool proxy, once;
static struct dl_request tmpl; /* addresses and MACs of every request */
static struct ring idle, ready;
static uint64_t timeout_ns = 1000000000ull;
static unsigned vlan_vid; /* -V: the 802.1Q tag's VID; 0: untagged */

static bool parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6;
}

/* Builds the next request of client I into BUF; returns its length. */
static size_t next_request(uint32_t i, uint8_t *buf, uint64_t now, bool renew)
{
	struct client *c = &clients[i];
	struct dl_request q = tmpl;

	memcpy(q.chaddr, c->mac, ETH_ALEN);
	q.cls = c->cls;
	if (c->state == OFFERED) { /* the REQUEST after an OFFER: SELECTING, same xid */
		c->state = WAIT_ACK;
		q.type = DL_REQUEST;
		q.requested_ip = c->offered;
		q.server_id = c->server_id;
		st.requests++;
	} else if (renew) { /* REBINDING, as a relay forwards it: ciaddr, no 50/54 */
		c->gen++;
		c->state = WAIT_RENEW_ACK;
		q.type = DL_REQUEST;
		q.ciaddr = c->bound;
		st.renewals++;
	} else {
		c->gen++;
		c->state = WAIT_OFFER;
		q.type = DL_DISCOVER;
		st.discovers++;
	}
	q.xid = htonl((uint32_t)c->gen << 24 | i);
	c->sent_ns = now;
	return dl_build_request(buf, &q);
}

/* The client's exchange is over: answered (OK) or lost. */
static void finish(uint32_t i, bool ok)
{
	struct client *c = &clients[i];

	if (ok)
		st.answered++;
	if (once && ok) {
		c->state = DONE;
		return;
	}
	c->state = IDLE;
	ring_push(&idle, i);
}

static void wrong(uint32_t i, const char *why)
{
	st.wrong++;
	note(why);
	finish(i, false);
}

static void on_frame(const uint8_t *f, size_t len, uint64_t now)
{
	struct dl_reply r;
	struct client *c;
	uint32_t xid, i;
	uint64_t us;

	switch (dl_check_reply(f, len, &r)) {
	case DL_OTHER:
		st.other++;
		return;
	case DL_MALFORMED:
		st.malformed++;
		note(r.problem);
		return;
	case DL_OK:
		break;
	}
	xid = ntohl(r.xid);
	i = xid & 0xffffff;
	if (i >= nclients || (xid >> 24) != clients[i].gen ||
	    memcmp(r.chaddr, clients[i].mac, ETH_ALEN) ||
	    (clients[i].state != WAIT_OFFER && clients[i].state != WAIT_ACK &&
	     clients[i].state != WAIT_RENEW_ACK)) {
		st.stray++; /* late (after its timeout), a duplicate, or no client's */
		return;
	}
	c = &clients[i];
	us = (now - c->sent_ns) / 1000;
	lat[us < LAT_US_MAX ? us : LAT_US_MAX]++;
	lat_n++;
	if (memcmp(f, tmpl.src_mac, ETH_ALEN) && memcmp(f, "\xff\xff\xff\xff\xff\xff", ETH_ALEN))
		return wrong(i, "Ethernet destination not the relay's");
	if (memcmp(f + 14 + 16, &tmpl.relay_ip, 4) || f[14 + 20 + 2] != 0 || f[14 + 20 + 3] != 67)
		return wrong(i, "not sent to the relay (giaddr:67)");
	if (r.type == DL_NAK) {
		st.naks++;
		note("NAK");
		return finish(i, false);
	}
	if (!r.server_id)
		return wrong(i, "no server identifier (54)");
	if (c->state == WAIT_OFFER) {
		if (r.type != DL_OFFER)
			return wrong(i, "DISCOVER answered, not with an OFFER");
		st.offers++;
		if (proxy) {
			const char *want = c->cls == DL_HTTP64 ? "HTTPClient" : "PXEClient";

			if (r.yiaddr)
				return wrong(i, "proxy OFFER with an address");
			if (strncmp(r.vendor, want, strlen(want)))
				return wrong(i,
					     "proxy OFFER without the client's vendor class (60)");
			return finish(i, true);
		}
		if (!r.yiaddr)
			return wrong(i, "OFFER without an address");
		if (c->bound && r.yiaddr != c->bound)
			return wrong(i, "returning machine offered another address");
		if (!r.boot_file)
			return wrong(i, "OFFER to a PXE client without a boot file");
		c->offered = r.yiaddr;
		c->server_id = r.server_id;
		c->state = OFFERED;
		ring_push(&ready, i);
		return;
	}
	if (r.type != DL_ACK)
		return wrong(i, "REQUEST answered, not with an ACK");
	st.acks++;
	if (r.yiaddr != (c->state == WAIT_ACK ? c->offered : c->bound))
		return wrong(i, "ACK for another address than requested");
	if (c->state == WAIT_ACK && !r.boot_file)
		return wrong(i, "ACK to a PXE client without a boot file");
	c->bound = r.yiaddr;
	finish(i, true);
}

/* Exchanges waiting longer than the timeout are lost; their clients start over. */
static void expire(uint64_t now)
{
	for (uint32_t i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		if ((c->state == WAIT_OFFER || c->state == WAIT_ACK ||
		     c->state == WAIT_RENEW_ACK) &&
		    now - c->sent_ns > timeout_ns) {
			st.lost++;
			finish(i, false);
		}
	}
}

static uint32_t waiting(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < nclients; i++)
		n += clients[i].state == WAIT_OFFER || clients[i].state == WAIT_ACK ||
		     clients[i].state == WAIT_RENEW_ACK;
	return n;
}

static void load_bindings(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned i;
	char ip[32];

	if (!f)
		return; /* the first run: no machine has an address yet */
	while (fscanf(f, "%u %31s", &i, ip) == 2) {
		struct in_addr a;

		if (i < nclients && inet_pton(AF_INET, ip, &a) == 1)
			clients[i].bound = a.s_addr;
	}
	fclose(f);
}

static void save_bindings(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "dhcp_load: %s: %s\n", path, strerror(errno));
		return;
	}
	for (uint32_t i = 0; i < nclients; i++) {
		struct in_addr a = { clients[i].bound };

		if (a.s_addr)
			fprintf(f, "%u %s\n", i, inet_ntoa(a));
	}
	fclose(f);
}

/* A frame from the AF_XDP socket's RX ring. */
static uint64_t rx_now;

static void xsk_frame(void *arg, const uint8_t *frame, uint32_t len, const void *meta)
{
	(void)arg;
	(void)meta;
	on_frame(frame, len, rx_now);
}

/* Client I's next request into BUF (DL_FRAME_LEN + 4 bytes), tagged with -V's VID. */
static size_t request_frame(uint32_t i, uint8_t *buf, uint64_t now, bool renew)
{
	size_t len = next_request(i, buf, now, renew);

	if (!vlan_vid)
		return len;
	memmove(buf + 16, buf + 12, len - 12);
	buf[12] = 0x81, buf[13] = 0x00;
	buf[14] = (uint8_t)(vlan_vid >> 8), buf[15] = (uint8_t)vlan_vid;
	return len + 4;
}

/* A request of LEN bytes built: pushed to the AF_XDP TX ring, or its iovec sized. */
static void tx_put(struct xpxe_xsk *xsk, struct iovec *v, size_t len)
{
	if (xsk)
		xpxe_xsk_tx_push(xsk, len);
	else
		v->iov_len = len;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dhcp_load -i IFNAME -d SERVER_MAC -s SERVER_IP -g RELAY_IP [-n CLIENTS]\n"
		"                 [-m full|proxy] [-r RATE] [-t SECONDS] [-c CLASSES]\n"
		"                 [-R RENEW_PCT] [-1] [-b BINDINGS] [-M MAC_BASE]\n"
		"                 [-w TIMEOUT_MS] [-C CPU] [-P [-V VID]]\n");
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *bindings = NULL, *classes = "bios";
	uint8_t base[ETH_ALEN] = { 0x52, 0x54, 0x02, 0, 0, 0 };
	uint8_t cls_list[32];
	unsigned ncls = 0, renew_pct = 0;
	double rate = 0, seconds = 5;
	int c, fd, cpu = -1, one = 1, rcvbuf = 8 << 20;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	static uint8_t txbuf[BATCH][DL_FRAME_LEN + 4], rxbuf[BATCH][FRAME_BUF];
	struct mmsghdr txm[BATCH], rxm[BATCH];
	struct iovec txv[BATCH], rxv[BATCH];
	struct tpacket_stats pst;
	socklen_t pst_len = sizeof(pst);
	uint64_t t0, t_end, now, started = 0, credit = 0, last_expire = 0, rx_drops = 0, t_last = 0;
	struct rusage ru;
	bool have_dst = false, draining = false, use_xsk = true;
	struct bench_xsk_dhcp_bpf *skel = NULL;
	struct xpxe_xsk *xsk = NULL;
	int err;
	char *save, *tok, *list;

	nclients = 1000;
	while ((c = getopt(argc, argv, "i:d:s:g:n:m:r:t:c:R:1b:M:w:C:PV:h")) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			have_dst = parse_mac(optarg, tmpl.dst_mac);
			break;
		case 's':
			inet_pton(AF_INET, optarg, &tmpl.server_ip);
			break;
		case 'g':
			inet_pton(AF_INET, optarg, &tmpl.relay_ip);
			break;
		case 'n':
			nclients = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			proxy = !strcmp(optarg, "proxy");
			if (!proxy && strcmp(optarg, "full")) {
				usage(stderr);
				return 2;
			}
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'c':
			classes = optarg;
			break;
		case 'R':
			renew_pct = strtoul(optarg, NULL, 0);
			break;
		case '1':
			once = true;
			break;
		case 'b':
			bindings = optarg;
			break;
		case 'M':
			if (!parse_mac(optarg, base)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'w':
			timeout_ns = strtoull(optarg, NULL, 0) * 1000000ull;
			break;
		case 'C':
			cpu = atoi(optarg);
			break;
		case 'P':
			use_xsk = false;
			break;
		case 'V':
			vlan_vid = (unsigned)atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || !have_dst || !tmpl.server_ip || !tmpl.relay_ip || !nclients ||
	    nclients > 0xffffff || seconds <= 0 || renew_pct > 100 || !timeout_ns ||
	    vlan_vid > 4094 || (vlan_vid && use_xsk)) {
		usage(stderr);
		return 2;
	}
	list = strdup(classes);
	for (tok = strtok_r(list, ",", &save); tok && ncls < sizeof(cls_list);
	     tok = strtok_r(NULL, ",", &save)) {
		int k;

		for (k = 0; k < DL_CLASS_MAX && strcmp(tok, dl_class_names[k]); k++)
			;
		if (k == DL_CLASS_MAX) {
			fprintf(stderr, "dhcp_load: no class %s (bios, uefi64, ipxe, http64)\n",
				tok);
			return 2;
		}
		cls_list[ncls++] = k;
	}
	free(list);
	if (!ncls)
		return 2;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("dhcp_load: sched_setaffinity");
	}

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	sll.sll_ifindex = if_nametoindex(ifname);
	if (fd < 0 || !sll.sll_ifindex) {
		fprintf(stderr, "dhcp_load: packet socket on %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	/* Our own frames are not looped back to us; the send path skips the qdisc (the NIC's
	 * queue is the only one, as with a real generator); a buffer for bursts of replies. */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "dhcp_load: bind to %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	{
		struct ifreq ifr = { 0 };

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
			perror("dhcp_load: SIOCGIFHWADDR");
			return 1;
		}
		memcpy(tmpl.src_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	}

	clients = calloc(nclients, sizeof(*clients));
	idle.cap = ready.cap = nclients;
	idle.v = calloc(nclients, sizeof(uint32_t));
	ready.v = calloc(nclients, sizeof(uint32_t));
	if (!clients || !idle.v || !ready.v) {
		perror("dhcp_load");
		return 1;
	}
	for (uint32_t i = 0; i < nclients; i++) {
		memcpy(clients[i].mac, base, ETH_ALEN);
		clients[i].mac[3] += i >> 16;
		clients[i].mac[4] += (i >> 8) & 0xff;
		clients[i].mac[5] += i & 0xff;
		clients[i].cls = cls_list[i % ncls];
		ring_push(&idle, i);
	}
	if (bindings)
		load_bindings(bindings);
	for (int k = 0; k < BATCH; k++) {
		txv[k] = (struct iovec){ txbuf[k], sizeof(txbuf[k]) };
		rxv[k] = (struct iovec){ rxbuf[k], FRAME_BUF };
		txm[k].msg_hdr = (struct msghdr){ .msg_name = &sll,
						  .msg_namelen = sizeof(sll),
						  .msg_iov = &txv[k],
						  .msg_iovlen = 1 };
		rxm[k].msg_hdr = (struct msghdr){ .msg_iov = &rxv[k], .msg_iovlen = 1 };
	}
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &pst, &pst_len); /* zeroes them */
	if (use_xsk) {
		/* Replies go to an AF_XDP socket on queue 0 (veth has one) from our XDP program;
		 * requests leave through it too. The packet socket stays for nothing else. */
		skel = bench_xsk_dhcp_bpf__open_and_load();
		if (!skel) {
			fprintf(stderr, "dhcp_load: loading bench_xsk_dhcp: %s\n", strerror(errno));
			return 1;
		}
		err = bpf_xdp_attach(sll.sll_ifindex, bpf_program__fd(skel->progs.xdp_xsk_dhcp),
				     XDP_FLAGS_DRV_MODE, NULL);
		if (!err)
			err = xpxe_xsk_open(&xsk, ifname, 0, bpf_map__fd(skel->maps.xsks));
		if (err) {
			fprintf(stderr, "dhcp_load: AF_XDP on %s: %s (-P: a packet socket)\n",
				ifname, strerror(-err));
			bpf_xdp_detach(sll.sll_ifindex, XDP_FLAGS_DRV_MODE, NULL);
			return 1;
		}
		close(fd);
		fd = xpxe_xsk_fd(xsk);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	t0 = now_ns();
	t_end = t0 + (uint64_t)(seconds * 1e9);
	for (;;) {
		int ntx = 0, nrx, sent;
		uint8_t *buf;
		uint64_t budget = BATCH;
		uint32_t i;

		now = now_ns();
		if (!draining &&
		    (now >= t_end || interrupted || (once && st.answered >= nclients))) {
			draining = true;
			t_last = now;
		}
		if (draining && (interrupted || !waiting() || now - t_last > timeout_ns))
			break;
		/* New exchanges: as many as the rate allows by now. A lag is made up in bursts, as
		 * perfdhcp does, up to a second's worth (a generator descheduled on a busy machine
		 * would otherwise offer less than it was told); the offered rate printed is what
		 * went out. */
		if (draining) {
			budget = 0;
		} else if (rate > 0) {
			double due = rate * (now - t0) / 1e9;

			if (due - credit > rate + BATCH)
				credit = due - rate - BATCH;
			budget = due > credit ? (uint64_t)(due - credit) : 0;
		}
		/* REQUESTs after OFFERs first. AF_XDP: a UMEM frame to build into, or none
		 * until the kernel has sent some. */
		while (ntx < BATCH && (buf = use_xsk ? xpxe_xsk_tx_frame(xsk) : txbuf[ntx]) &&
		       ring_pop(&ready, &i))
			tx_put(xsk, &txv[ntx++], request_frame(i, buf, now, false));
		while (ntx < BATCH && budget > 0 &&
		       (buf = use_xsk ? xpxe_xsk_tx_frame(xsk) : txbuf[ntx]) &&
		       ring_pop(&idle, &i)) {
			bool renew = !proxy && clients[i].bound && renew_pct &&
				     (unsigned)(rand() % 100) < renew_pct;

			tx_put(xsk, &txv[ntx++], request_frame(i, buf, now, renew));
			budget--;
			started++;
			credit++;
		}
		if (use_xsk && ntx)
			xpxe_xsk_tx_flush(xsk);
		for (int k = 0; !use_xsk && k < ntx; k += sent) {
			sent = sendmmsg(fd, txm + k, ntx - k, 0);
			if (sent <= 0) {
				if (errno != ENOBUFS && errno != EAGAIN) {
					perror("dhcp_load: sendmmsg");
					return 1;
				}
				st.tx_errors += ntx - k; /* they wait for their timeout */
				break;
			}
		}
		do {
			if (use_xsk) {
				rx_now = now = now_ns();
				nrx = xpxe_xsk_rx(xsk, BATCH, 0, xsk_frame, NULL);
				continue;
			}
			for (int k = 0; k < BATCH; k++)
				rxv[k].iov_len = FRAME_BUF;
			nrx = recvmmsg(fd, rxm, BATCH, MSG_DONTWAIT, NULL);
			now = now_ns();
			for (int k = 0; k < nrx; k++)
				on_frame(rxbuf[k], rxm[k].msg_len, now);
		} while (nrx == BATCH);
		if (now - last_expire > 10000000ull) {
			expire(now);
			last_expire = now;
		}
		if (!ntx && nrx <= 0) { /* nothing to do until a reply or the next token */
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, 1);
		}
	}
	now = now_ns();
	st.lost += waiting(); /* only when interrupted */
	if (use_xsk) {
		struct xpxe_xsk_status xs;

		xpxe_xsk_status(xsk, &xs);
		rx_drops = xs.rx_dropped + xs.rx_ring_full + xs.rx_fill_empty;
		st.tx_errors += xs.tx_kick_errors;
		xpxe_xsk_close(xsk);
		bpf_xdp_detach(sll.sll_ifindex, XDP_FLAGS_DRV_MODE, NULL);
		bench_xsk_dhcp_bpf__destroy(skel);
	} else if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &pst, &pst_len) == 0) {
		rx_drops = pst.tp_drops;
	}
	getrusage(RUSAGE_SELF, &ru);
	if (bindings)
		save_bindings(bindings);
	{
		double secs = ((draining ? t_last : now) - t0) / 1e9;
		uint64_t sent = st.discovers + st.requests + st.renewals;
		uint64_t replies = st.offers + st.acks + st.naks;

		printf(
		    "mode=%s clients=%u classes=%s offered_per_s=%.0f seconds=%.3f sent=%llu "
		    "discovers=%llu requests=%llu renewals=%llu answered=%llu answered_per_s=%.0f "
		    "offers=%llu acks=%llu naks=%llu lost=%llu loss=%.2f%% malformed=%llu "
		    "wrong=%llu "
		    "stray=%llu other=%llu rx_drops=%llu tx_errors=%llu p50_us=%.0f p90_us=%.0f "
		    "p99_us=%.0f p999_us=%.0f cpu_s=%.2f\n",
		    proxy ? "proxy" : "full", nclients, classes, started / secs, secs,
		    (unsigned long long)sent, (unsigned long long)st.discovers,
		    (unsigned long long)st.requests, (unsigned long long)st.renewals,
		    (unsigned long long)st.answered, st.answered / secs,
		    (unsigned long long)st.offers, (unsigned long long)st.acks,
		    (unsigned long long)st.naks, (unsigned long long)st.lost,
		    sent ? 100.0 * (sent > replies ? sent - replies : 0) / sent : 0.0,
		    (unsigned long long)st.malformed, (unsigned long long)st.wrong,
		    (unsigned long long)st.stray, (unsigned long long)st.other,
		    (unsigned long long)rx_drops, (unsigned long long)st.tx_errors,
		    lat_n ? lat_quantile(0.5) : 0, lat_n ? lat_quantile(0.9) : 0,
		    lat_n ? lat_quantile(0.99) : 0, lat_n ? lat_quantile(0.999) : 0,
		    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	for (int k = 0; k < REASONS && reasons[k].why; k++)
		fprintf(stderr, "dhcp_load: %llu x %s\n", (unsigned long long)reasons[k].n,
			reasons[k].why);
	return st.malformed || st.wrong ? 3 : 0;
}
