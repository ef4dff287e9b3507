// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * storm: a boot storm. M simulated machines power on at once and each does
 * what a UEFI PXE ROM, iPXE and a Talos kernel would do, in order:
 *
 *   1. DHCP: DISCOVER, OFFER, REQUEST, ACK with the PXE options (60
 *      "PXEClient:Arch:00007:...", 93 arch 7, 94, 97), through a relay: each
 *      thread is a DHCP relay (giaddr RELAY+thread, UDP port 67), so replies
 *      come back unicast to an address this namespace owns and no raw socket
 *      is needed. The ACK must name the boot file -F.
 *   2. TFTP of that file (blksize 1468, lockstep) from the ACK's next-server,
 *      from the machine's new address; every block compared with -T.
 *   3. HTTP GET of the iPXE script (-u, ${mac:hexhyp} expanded as iPXE does);
 *      the script's "initrd" and "kernel" URLs, fetched in that order and
 *      compared byte for byte with -I and -K; then the kernel line's
 *      talos.config= URL (${mac} expanded), whose body must be -C's text with
 *      every {{mac}} replaced by the machine's MAC (-P's text for the control
 *      planes -p names).
 *
 * Every machine's address is its own (yiaddr): the namespace must own the
 * pool, e.g. `ip route add local 198.18.8.0/21 dev lo` (the kernel's AnyIP).
 * Downloads are streamed and compared with the reference files, mapped once;
 * nothing per machine is kept but its state (M x 80 MiB never sits in memory).
 * One epoll thread per CPU, each with a share of the machines.
 *
 *   storm -s SERVER -g RELAY -n MACHINES -F BOOTFILE -T FILE -I FILE -K FILE -C FILE
 *         [-P FILE -p I,J,...] [-u SCRIPT_URL] [-t THREADS] [-x MACBYTE] [-w TIMEOUT_MS]
 *         [-W DEADLINE_S] [-o CSV]
 *
 * DHCP is sent again after 4, 8, 16 then every 32 s as a PXE ROM does; TFTP's
 * requests and ACKs after -w (default 1000 ms). A machine fails after 20
 * unanswered tries in a row (a block that arrives resets the count, as a
 * ROM's per-packet retries), an HTTP download silent for 30 s, or at the deadline -W
 * (default 600 s from the start); the others carry on.
 *
 * Prints one line of key=value pairs: machines, ok, failed, seconds (until
 * the last machine had its config), p50/p90/p99/max of one machine's time from
 * its DISCOVER to its config; with -p, cp_s (when the last of the control
 * planes, machines I, J, ..., had its config) and cp_pct (the share of the
 * machines that had theirs by then, in percent), the median time of each phase, bytes, mbps
 * (aggregate, 10^6 bytes/s), retries, storm_cpu_s (this program's own CPU
 * time), and the retries by kind: retries_dhcp (DHCP sent again, or a NAK), retries_rrq
 * (a TFTP read request unanswered), retries_ack (a TFTP ACK whose next packet did not come),
 * retries_unread (of those, ones whose answer had come but sat unread in the socket: this
 * program's own delay, not the server's). -o writes one line per machine: its MAC, address
 * and the time each phase ended (seconds from the start). -R writes a line per TFTP retry
 * ("retry T MAC rrq|ack BLOCK UNREAD_BYTES") and per block that came after an ACK retry
 * ("answer T MAC BLOCK SECONDS_AFTER_THE_RETRY"). Exits 1 when a machine failed, with
 * the first five reasons on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define MAX_TRIES   20
#define XID_BASE    0x53000000u
#define BODY_SMALL  16384 /* the script and the config: kept, then compared */
#define URL_MAX	    512
#define READ_CHUNK  (256 * 1024)
#define TFTP_BLKSZ  1468
#define DHCP_MAGIC  0x63825363u
#define DHCP_OPTOFF 240

enum phase {
	PH_DISCOVER,
	PH_REQUEST,
	PH_TFTP,
	PH_SCRIPT,
	PH_INITRD,
	PH_KERNEL,
	PH_CONFIG,
	PH_DONE,
	PH_FAILED,
};
static const char *const phase_names[] = { "discover", "dhcp",	 "tftp", "script", "initrd",
					   "kernel",   "config", "done", "failed" };

struct ref { /* a reference file, mapped once */
	const uint8_t *data;
	uint64_t size;
};

struct machine {
	uint8_t mac[6];
	char mac_colon[18], mac_hyphen[18];
	int thread;
	enum phase phase, failed_in;
	bool cp; /* a control plane (-p): its config is -P's */
	struct in_addr ip, server_id, next_server;
	double t_start, t_end[PH_DONE]; /* t_end[p]: when phase p ended */
	double sent_at;
	unsigned tries, retries;
	unsigned r_dhcp, r_rrq, r_ack, r_unread; /* retries by kind (see the top) */
	double retry_at;			 /* the last TFTP ACK retry (0: none pending) */
	int fd;
	const char *why; /* why it failed */
	/* TFTP */
	struct sockaddr_in peer;
	uint8_t last[64];
	size_t last_len;
	uint32_t expect;
	unsigned blksize;
	uint64_t got;
	/* HTTP */
	const struct ref *want; /* NULL: a small body, kept in SMALL */
	char req[URL_MAX + 128];
	size_t req_len;
	bool connected, in_body;
	char hdr[4096];
	size_t hdr_len;
	uint64_t body_len, body_got;
	char *small;
	char initrd_url[URL_MAX], kernel_url[URL_MAX], config_url[URL_MAX];
};

struct worker {
	pthread_t thread;
	int index, relay_fd, ep;
	struct machine *ms;
	int n;
	uint64_t bytes;
};

static struct in_addr opt_server, opt_relay;
static const char *opt_boot = "snponly.efi", *opt_script_url, *opt_csv;
static FILE *retry_log; /* -R */
static unsigned opt_timeout_ms = 1000, opt_deadline_s = 600, opt_mac_byte;
static struct ref ref_tftp, ref_kernel, ref_initrd;
static char *config_template, *cp_template; /* -C, and -P for the control planes */
static double t0;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int map_file(const char *path, struct ref *r)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "storm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	r->size = st.st_size;
	r->data = mmap(NULL, r->size ? r->size : 1, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	return r->data == MAP_FAILED ? -1 : 0;
}

static void fail(struct machine *m, const char *why)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->why = why;
	m->failed_in = m->phase;
	m->phase = PH_FAILED;
}

static void phase_done(struct machine *m, enum phase next)
{
	m->t_end[m->phase] = now() - t0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->phase = next;
	m->tries = 0;
}

/* --- DHCP, as a relay ------------------------------------------------------------------ */

static uint8_t *opt_put(uint8_t *p, uint8_t code, const void *val, uint8_t len)
{
	*p++ = code;
	*p++ = len;
	memcpy(p, val, len);
	return p + len;
}

static void dhcp_send(struct worker *w, struct machine *m)
{
	static const char vci[] = "PXEClient:Arch:00007:UNDI:003016";
	static const uint8_t arch[2] = { 0, 7 }, undi[3] = { 1, 3, 16 },
			     prl[] = { 1, 3, 6, 43, 54, 60, 66, 67, 97 };
	uint8_t msg[548] = { 0 }, guid[17] = { 0 }, *p = msg + DHCP_OPTOFF;
	uint8_t type = m->phase == PH_DISCOVER ? 1 : 3;
	uint32_t xid = htonl(XID_BASE + (uint32_t)(m - w->ms) + (uint32_t)w->index * 0x10000);
	uint16_t secs = htons((uint16_t)(now() - t0 - m->t_start));
	uint32_t magic = htonl(DHCP_MAGIC);
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr = opt_server,
				  .sin_port = htons(67) };
	struct in_addr giaddr = { htonl(ntohl(opt_relay.s_addr) + w->index) };

	msg[0] = 1; /* BOOTREQUEST */
	msg[1] = 1; /* Ethernet */
	msg[2] = 6;
	msg[3] = 1; /* hops: one relay */
	memcpy(msg + 4, &xid, 4);
	memcpy(msg + 8, &secs, 2);
	memcpy(msg + 24, &giaddr, 4);
	memcpy(msg + 28, m->mac, 6);
	memcpy(msg + 236, &magic, 4);
	p = opt_put(p, 53, &type, 1);
	if (type == 3) {
		p = opt_put(p, 50, &m->ip, 4);
		p = opt_put(p, 54, &m->server_id, 4);
	}
	p = opt_put(p, 55, prl, sizeof(prl));
	p = opt_put(p, 60, vci, sizeof(vci) - 1);
	p = opt_put(p, 93, arch, 2);
	p = opt_put(p, 94, undi, 3);
	memcpy(guid + 11, m->mac, 6); /* a GUID of its own per machine */
	p = opt_put(p, 97, guid, 17);
	*p++ = 255;
	if (sendto(w->relay_fd, msg, p - msg, 0, (struct sockaddr *)&to, sizeof(to)) < 0 &&
	    errno != EAGAIN)
		fail(m, "sendto(DHCP) failed");
	m->sent_at = now();
}

static void tftp_start(struct machine *m);

/* Handles one reply; returns the machine it moved on to TFTP (a new socket to watch), or NULL. */
static struct machine *dhcp_receive(struct worker *w)
{
	uint8_t msg[1500];
	ssize_t n = recv(w->relay_fd, msg, sizeof(msg), MSG_DONTWAIT);
	uint32_t xid, idx, magic;
	uint8_t type = 0;
	char file[129] = "";
	struct in_addr sid = { 0 };
	struct machine *m;

	if (n < DHCP_OPTOFF + 4 || msg[0] != 2)
		return NULL;
	memcpy(&xid, msg + 4, 4);
	memcpy(&magic, msg + 236, 4);
	idx = ntohl(xid) - XID_BASE - (uint32_t)w->index * 0x10000;
	if (idx >= (uint32_t)w->n || ntohl(magic) != DHCP_MAGIC)
		return NULL;
	m = &w->ms[idx];
	if (memcmp(msg + 28, m->mac, 6))
		return NULL;
	memcpy(file, msg + 108, 128);
	for (ssize_t i = DHCP_OPTOFF; i + 1 < n && msg[i] != 255;) {
		uint8_t code = msg[i], len;

		if (code == 0) {
			i++;
			continue;
		}
		len = msg[i + 1];
		if (i + 2 + len > n)
			break;
		if (code == 53 && len == 1)
			type = msg[i + 2];
		if (code == 54 && len == 4)
			memcpy(&sid, msg + i + 2, 4);
		if (code == 67) {
			memcpy(file, msg + i + 2, len);
			file[len] = 0;
		}
		i += 2 + len;
	}
	if (m->phase == PH_DISCOVER && type == 2) { /* OFFER */
		memcpy(&m->ip, msg + 16, 4);
		m->server_id = sid;
		m->t_end[PH_DISCOVER] = now() - t0;
		m->phase = PH_REQUEST;
		m->tries = 0;
		dhcp_send(w, m);
	} else if (m->phase == PH_REQUEST && type == 5) { /* ACK */
		memcpy(&m->ip, msg + 16, 4);
		memcpy(&m->next_server, msg + 20, 4);
		if (!m->next_server.s_addr)
			m->next_server = sid;
		if (strcmp(file, opt_boot)) {
			fprintf(stderr, "storm: %s: ACK names boot file '%s', want '%s'\n",
				m->mac_colon, file, opt_boot);
			fail(m, "wrong boot file");
			return NULL;
		}
		phase_done(m, PH_TFTP);
		tftp_start(m);
		return m;
	} else if (m->phase == PH_REQUEST && type == 6) { /* NAK: start over */
		m->phase = PH_DISCOVER;
		m->tries = 0;
		m->retries++;
		m->r_dhcp++;
		dhcp_send(w, m);
	}
	return NULL;
}

/* --- TFTP ------------------------------------------------------------------------------- */

static int bound_socket(struct machine *m, int type)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr = m->ip };
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void tftp_send_last(struct machine *m)
{
	if (sendto(m->fd, m->last, m->last_len, 0, (struct sockaddr *)&m->peer, sizeof(m->peer)) <
		0 &&
	    errno != EAGAIN)
		fail(m, "sendto(TFTP) failed");
	m->sent_at = now();
}

static void tftp_ack(struct machine *m, uint16_t block)
{
	m->last[0] = 0;
	m->last[1] = 4;
	m->last[2] = block >> 8;
	m->last[3] = block & 0xff;
	m->last_len = 4;
	tftp_send_last(m);
}

static void http_get(struct machine *m, const char *url, const struct ref *want);

static void tftp_start(struct machine *m)
{
	int n;

	m->fd = bound_socket(m, SOCK_DGRAM);
	if (m->fd < 0) {
		fail(m, "cannot bind the machine's address (is the pool local here?)");
		return;
	}
	m->peer = (struct sockaddr_in){ .sin_family = AF_INET,
					.sin_addr = m->next_server,
					.sin_port = htons(69) };
	n = snprintf((char *)m->last + 2, sizeof(m->last) - 2, "%s%coctet%cblksize%c%u%c", opt_boot,
		     0, 0, 0, TFTP_BLKSZ, 0);
	m->last[0] = 0;
	m->last[1] = 1;
	m->last_len = 2 + n;
	m->expect = 1;
	m->blksize = 512;
	m->got = 0;
	m->tries = 0;
	tftp_send_last(m);
}

static void tftp_receive(struct worker *w, struct machine *m)
{
	uint8_t p[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(m->fd, p, sizeof(p), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	uint16_t op, block;

	if (n < 4)
		return;
	op = p[0] << 8 | p[1];
	block = p[2] << 8 | p[3];
	m->peer.sin_port = from.sin_port; /* the transfer's own port */
	if (op == 6) {			  /* OACK */
		for (const uint8_t *q = p + 2; q < p + n;) {
			const char *k = (const char *)q, *v = k + strnlen(k, p + n - q) + 1;

			if ((const uint8_t *)v >= p + n)
				break;
			if (!strcasecmp(k, "blksize"))
				m->blksize = atoi(v);
			q = (const uint8_t *)v + strnlen(v, p + n - (const uint8_t *)v) + 1;
		}
		if (m->expect == 1) {
			m->tries = 0;
			tftp_ack(m, 0);
		}
	} else if (op == 3 && block == (uint16_t)m->expect) {
		uint64_t off = (uint64_t)(m->expect - 1) * m->blksize, len = n - 4;

		if (off + len > ref_tftp.size || memcmp(ref_tftp.data + off, p + 4, len)) {
			fail(m, "a TFTP block differs from the file");
			return;
		}
		if (m->retry_at && retry_log)
			fprintf(retry_log, "answer %.4f %s %u %.4f\n", now() - t0, m->mac_colon,
				m->expect, now() - m->retry_at);
		m->retry_at = 0;
		m->got += len;
		w->bytes += len;
		m->expect++;
		/* 20 unanswered tries in a row fail a machine, as a ROM's per-packet retries do:
		 * not 20 over the whole transfer (a 1 MiB file is 715 blocks). */
		m->tries = 0;
		tftp_ack(m, block);
		if (len < m->blksize) {
			if (m->got != ref_tftp.size) {
				fail(m, "TFTP: the file came short");
				return;
			}
			phase_done(m, PH_SCRIPT);
			http_get(m, opt_script_url, NULL);
		}
	} else if (op == 3 && block == (uint16_t)(m->expect - 1)) {
		tftp_ack(m, block); /* our ACK was lost */
	} else if (op == 5) {
		fprintf(stderr, "storm: %s: TFTP ERROR %u %.*s\n", m->mac_colon, block,
			(int)(n - 4), p + 4);
		fail(m, "TFTP ERROR");
	}
}

/* --- HTTP ------------------------------------------------------------------------------- */

/* Expands iPXE's ${mac} and ${mac:hexhyp}; any other ${...} (uuid, serial) is empty. */
static void expand(const struct machine *m, const char *in, char *out, size_t size)
{
	size_t o = 0;

	while (*in && o + 1 < size) {
		const char *end;

		if (in[0] == '$' && in[1] == '{' && (end = strchr(in, '}'))) {
			const char *v = "";
			size_t name = end - in - 2;

			if (name == 3 && !strncmp(in + 2, "mac", 3))
				v = m->mac_colon;
			else if (name == 10 && !strncmp(in + 2, "mac:hexhyp", 10))
				v = m->mac_hyphen;
			o += snprintf(out + o, size - o, "%s", v);
			in = end + 1;
			continue;
		}
		out[o++] = *in++;
	}
	out[o < size ? o : size - 1] = 0;
}

static void http_get(struct machine *m, const char *url, const struct ref *want)
{
	char expanded[URL_MAX], host[64];
	const char *rest, *path;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80) };
	size_t hl;

	expand(m, url, expanded, sizeof(expanded));
	if (strncmp(expanded, "http://", 7)) {
		fail(m, "a URL that is not http://");
		return;
	}
	rest = expanded + 7;
	path = strchr(rest, '/');
	hl = path ? (size_t)(path - rest) : strlen(rest);
	if (!path || hl >= sizeof(host)) {
		fail(m, "a URL without a path");
		return;
	}
	memcpy(host, rest, hl);
	host[hl] = 0;
	if (strchr(host, ':')) {
		to.sin_port = htons(atoi(strchr(host, ':') + 1));
		*strchr(host, ':') = 0;
	}
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1) {
		fail(m, "a URL whose host is not an IPv4 address");
		return;
	}
	m->req_len = snprintf(m->req, sizeof(m->req),
			      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: storm\r\n"
			      "Connection: close\r\n\r\n",
			      path, host);
	m->want = want;
	m->connected = m->in_body = false;
	m->hdr_len = 0;
	m->body_len = m->body_got = 0;
	m->fd = bound_socket(m, SOCK_STREAM);
	if (m->fd < 0) {
		fail(m, "cannot bind the machine's address (is the pool local here?)");
		return;
	}
	if (connect(m->fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS) {
		fail(m, "connect failed");
		return;
	}
	m->sent_at = now();
}

/* The script's initrd and kernel URLs, and talos.config= of its kernel line. */
static int parse_script(struct machine *m)
{
	char *save = NULL;

	m->initrd_url[0] = m->kernel_url[0] = m->config_url[0] = 0;
	for (char *line = strtok_r(m->small, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool kernel = !strncmp(line, "kernel ", 7), initrd = !strncmp(line, "initrd ", 7);
		char *tsave = NULL;

		if (!kernel && !initrd)
			continue;
		for (char *t = strtok_r(line, " ", &tsave); t; t = strtok_r(NULL, " ", &tsave)) {
			if (!strncmp(t, "http://", 7) && initrd && !m->initrd_url[0])
				snprintf(m->initrd_url, URL_MAX, "%s", t);
			else if (!strncmp(t, "http://", 7) && kernel && !m->kernel_url[0])
				snprintf(m->kernel_url, URL_MAX, "%s", t);
			else if (!strncmp(t, "talos.config=", 13) && kernel)
				snprintf(m->config_url, URL_MAX, "%s", t + 13);
		}
	}
	return m->initrd_url[0] && m->kernel_url[0] && m->config_url[0] ? 0 : -1;
}

/* The config template with every {{mac}} replaced by the MAC. */
static bool config_matches(const struct machine *m, const char *body, size_t len)
{
	const char *t = m->cp ? cp_template : config_template;
	size_t o = 0;

	while (*t) {
		if (!strncmp(t, "{{mac}}", 7)) {
			if (o + 17 > len || memcmp(body + o, m->mac_colon, 17))
				return false;
			o += 17;
			t += 7;
		} else {
			if (o >= len || body[o] != *t)
				return false;
			o++;
			t++;
		}
	}
	return o == len;
}

/* One download is complete: check it, then the next step. */
static void http_done(struct machine *m)
{
	switch (m->phase) {
	case PH_SCRIPT:
		m->small[m->body_got] = 0;
		if (parse_script(m)) {
			fail(m, "the script names no initrd, kernel or talos.config");
			return;
		}
		phase_done(m, PH_INITRD);
		http_get(m, m->initrd_url, &ref_initrd);
		break;
	case PH_INITRD:
		phase_done(m, PH_KERNEL);
		http_get(m, m->kernel_url, &ref_kernel);
		break;
	case PH_KERNEL:
		phase_done(m, PH_CONFIG);
		http_get(m, m->config_url, NULL);
		break;
	case PH_CONFIG:
		if (!config_matches(m, m->small, m->body_got)) {
			fprintf(stderr, "storm: %s: config '%.*s'\n", m->mac_colon,
				(int)(m->body_got < 200 ? m->body_got : 200), m->small);
			fail(m, "the config is not the machine's");
			return;
		}
		phase_done(m, PH_DONE);
		break;
	default:
		break;
	}
}

static void http_body(struct worker *w, struct machine *m, const char *data, size_t n)
{
	if (m->body_got + n > m->body_len) {
		fail(m, "HTTP: more bytes than Content-Length");
		return;
	}
	if (m->want) {
		if (memcmp(m->want->data + m->body_got, data, n)) {
			fail(m, "an HTTP download differs from the file");
			return;
		}
	} else {
		memcpy(m->small + m->body_got, data, n);
	}
	m->body_got += n;
	w->bytes += n;
	if (m->body_got == m->body_len)
		http_done(m);
}

static void http_headers(struct worker *w, struct machine *m)
{
	char *end = memmem(m->hdr, m->hdr_len, "\r\n\r\n", 4), *cl;
	size_t head, extra;

	if (!end) {
		if (m->hdr_len == sizeof(m->hdr))
			fail(m, "HTTP: headers too long");
		return;
	}
	*end = 0;
	head = end + 4 - m->hdr;
	extra = m->hdr_len - head;
	if (strncmp(m->hdr, "HTTP/1.", 7) || strncmp(m->hdr + 8, " 200", 4)) {
		fprintf(stderr, "storm: %s: %s: %.40s\n", m->mac_colon, phase_names[m->phase],
			m->hdr);
		fail(m, "HTTP: not 200");
		return;
	}
	cl = strcasestr(m->hdr, "\r\nContent-Length:");
	if (!cl) {
		fail(m, "HTTP: no Content-Length");
		return;
	}
	m->body_len = strtoull(cl + 17, NULL, 10);
	if (m->want ? m->body_len != m->want->size : m->body_len >= BODY_SMALL) {
		fail(m, "HTTP: not the file's size");
		return;
	}
	m->in_body = true;
	if (!m->body_len)
		http_done(m);
	else if (extra)
		http_body(w, m, end + 4, extra);
}

static void http_event(struct worker *w, struct machine *m, uint32_t events, char *buf)
{
	ssize_t n;

	if (!m->connected) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || send(m->fd, m->req, m->req_len, MSG_NOSIGNAL) != (ssize_t)m->req_len) {
			fail(m, "HTTP: connect or send failed");
			return;
		}
		m->connected = true;
		epoll_ctl(w->ep, EPOLL_CTL_MOD, m->fd,
			  &(struct epoll_event){ .events = EPOLLIN, .data.ptr = m });
		return;
	}
	if (!m->in_body) {
		n = recv(m->fd, m->hdr + m->hdr_len, sizeof(m->hdr) - m->hdr_len, MSG_DONTWAIT);
		if (n > 0) {
			m->hdr_len += n;
			http_headers(w, m);
		}
	} else {
		n = recv(m->fd, buf, READ_CHUNK, MSG_DONTWAIT);
		if (n > 0)
			http_body(w, m, buf, n);
	}
	if (n == 0 && m->phase < PH_DONE)
		fail(m, "HTTP: connection closed early");
	else if (n < 0 && errno != EAGAIN)
		fail(m, "HTTP: recv failed");
	else if (n > 0)
		m->sent_at = now();
}

/* --- the loop ----------------------------------------------------------------------------- */

static void watch(struct worker *w, struct machine *m)
{
	struct epoll_event ev = { .events = m->phase == PH_TFTP ? EPOLLIN : EPOLLIN | EPOLLOUT,
				  .data.ptr = m };

	if (m->fd >= 0)
		epoll_ctl(w->ep, EPOLL_CTL_ADD, m->fd, &ev);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	char *buf = malloc(READ_CHUNK);
	struct sockaddr_in relay = { .sin_family = AF_INET, .sin_port = htons(67) };
	int rcvbuf = 4 << 20, left = w->n;

	relay.sin_addr.s_addr = htonl(ntohl(opt_relay.s_addr) + w->index);
	w->ep = epoll_create1(0);
	w->relay_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	setsockopt(w->relay_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (!buf || bind(w->relay_fd, (struct sockaddr *)&relay, sizeof(relay))) {
		fprintf(stderr, "storm: bind %s:67: %s\n", inet_ntoa(relay.sin_addr),
			strerror(errno));
		exit(1);
	}
	epoll_ctl(w->ep, EPOLL_CTL_ADD, w->relay_fd,
		  &(struct epoll_event){ .events = EPOLLIN, .data.ptr = NULL });
	for (int i = 0; i < w->n; i++) {
		w->ms[i].t_start = now() - t0;
		dhcp_send(w, &w->ms[i]);
	}
	while (left > 0) {
		int n = epoll_wait(w->ep, evs, 256, 5);
		double t;

		for (int i = 0; i < n; i++) {
			struct machine *m = evs[i].data.ptr;
			enum phase before;
			int fd;

			if (!m) {
				m = dhcp_receive(w);
				if (m && m->phase == PH_TFTP)
					watch(w, m);
				continue;
			}
			before = m->phase;
			fd = m->fd;
			if (m->phase == PH_TFTP)
				tftp_receive(w, m);
			else if (m->phase >= PH_SCRIPT && m->phase <= PH_CONFIG)
				http_event(w, m, evs[i].events, buf);
			/* A new socket (the old one closed, so it left epoll). */
			if ((m->phase != before || m->fd != fd) && m->phase < PH_DONE)
				watch(w, m);
		}
		t = now();
		left = 0;
		for (int i = 0; i < w->n; i++) {
			struct machine *m = &w->ms[i];

			if (m->phase >= PH_DONE)
				continue;
			if (t - t0 > opt_deadline_s) {
				fail(m, "deadline passed");
				continue;
			}
			left++;
			/* HTTP: TCP retransmits; a transfer silent for 30 s has failed. */
			if (m->phase >= PH_SCRIPT) {
				if (t - m->sent_at > 30)
					fail(m, "HTTP: silent for 30 s");
				continue;
			}
			/* DHCP as a PXE ROM: 4, 8, 16, 32 s; TFTP: -w. */
			if (t - m->sent_at < (m->phase == PH_TFTP
						  ? opt_timeout_ms / 1e3
						  : 4 << (m->tries < 3 ? m->tries : 3)))
				continue;
			if (++m->tries > MAX_TRIES) {
				fail(m,
				     m->phase == PH_TFTP ? "TFTP: no answer" : "DHCP: no answer");
				continue;
			}
			m->retries++;
			if (m->phase == PH_TFTP) {
				int unread = 0;
				bool rrq = m->last[1] == 1;

				if (rrq) {
					m->r_rrq++;
				} else {
					m->r_ack++;
					m->retry_at = t;
					if (!ioctl(m->fd, FIONREAD, &unread) && unread > 0)
						m->r_unread++;
				}
				if (retry_log)
					fprintf(retry_log, "retry %.4f %s %s %u %d\n", t - t0,
						m->mac_colon, rrq ? "rrq" : "ack", m->expect,
						unread);
				tftp_send_last(m);
			} else {
				m->r_dhcp++;
				dhcp_send(w, m);
			}
		}
	}
	free(buf);
	close(w->relay_fd);
	close(w->ep);
	return NULL;
}

static char *read_text(const char *path)
{
	struct ref r;
	char *s;

	if (map_file(path, &r))
		return NULL;
	s = malloc(r.size + 1);
	if (s) {
		memcpy(s, r.data, r.size);
		s[r.size] = 0;
	}
	return s;
}

static void usage(void)
{
	fprintf(stderr, "usage: storm -s SERVER -g RELAY -n MACHINES -F BOOTFILE -T FILE -I FILE "
			"-K FILE -C FILE [-P FILE -p I,J,...] [-u SCRIPT_URL] [-t THREADS] "
			"[-x MACBYTE] "
			"[-w TIMEOUT_MS] [-W DEADLINE_S] [-o CSV] [-R RETRY_LOG]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned machines = 0, threads = sysconf(_SC_NPROCESSORS_ONLN), ok = 0, failed = 0;
	unsigned long long retries = 0, bytes = 0, r_dhcp = 0, r_rrq = 0, r_ack = 0, r_unread = 0;
	const char *why_first = NULL;
	char default_url[128];
	struct machine *ms;
	struct worker *ws;
	double last = 0, *total, *phase[PH_DONE], cp_last = 0;
	const char *cp_list = NULL;
	unsigned n_cp = 0, cp_ok = 0, by_cp = 0;
	FILE *csv = NULL;
	struct rusage ru;
	int c;

	while ((c = getopt(argc, argv, "s:g:n:F:T:I:K:C:P:p:u:t:x:w:W:o:R:")) != -1) {
		switch (c) {
		case 's':
			if (!inet_aton(optarg, &opt_server))
				usage();
			break;
		case 'g':
			if (!inet_aton(optarg, &opt_relay))
				usage();
			break;
		case 'n':
			machines = atoi(optarg);
			break;
		case 'F':
			opt_boot = optarg;
			break;
		case 'T':
			if (map_file(optarg, &ref_tftp))
				return 1;
			break;
		case 'I':
			if (map_file(optarg, &ref_initrd))
				return 1;
			break;
		case 'K':
			if (map_file(optarg, &ref_kernel))
				return 1;
			break;
		case 'C':
			config_template = read_text(optarg);
			break;
		case 'P':
			cp_template = read_text(optarg);
			break;
		case 'p':
			cp_list = optarg;
			break;
		case 'u':
			opt_script_url = optarg;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'x':
			opt_mac_byte = strtoul(optarg, NULL, 0) & 0xff;
			break;
		case 'w':
			opt_timeout_ms = atoi(optarg);
			break;
		case 'W':
			opt_deadline_s = atoi(optarg);
			break;
		case 'o':
			opt_csv = optarg;
			break;
		case 'R':
			retry_log = fopen(optarg, "w");
			if (!retry_log) {
				perror(optarg);
				return 1;
			}
			break;
		default:
			usage();
		}
	}
	if (!opt_server.s_addr || !opt_relay.s_addr || !machines || machines > 65536 ||
	    !ref_tftp.data || !ref_initrd.data || !ref_kernel.data || !config_template ||
	    !threads || !opt_timeout_ms)
		usage();
	if (!opt_script_url) {
		snprintf(default_url, sizeof(default_url),
			 "http://%s:8080/boot.ipxe?mac=${mac:hexhyp}", inet_ntoa(opt_server));
		opt_script_url = default_url;
	}
	if (threads > machines)
		threads = machines;
	ms = calloc(machines, sizeof(*ms));
	ws = calloc(threads, sizeof(*ws));
	for (unsigned i = 0; i < machines; i++) {
		struct machine *m = &ms[i];
		uint8_t mac[6] = { 0x02, 0x53, opt_mac_byte, 0, i >> 8, i & 0xff };

		memcpy(m->mac, mac, 6);
		snprintf(m->mac_colon, sizeof(m->mac_colon), "%02x:%02x:%02x:%02x:%02x:%02x",
			 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		snprintf(m->mac_hyphen, sizeof(m->mac_hyphen), "%02x-%02x-%02x-%02x-%02x-%02x",
			 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		m->fd = -1;
		for (const char *p = cp_list; p && *p; p += strcspn(p, ",") + !!p[strcspn(p, ",")])
			if ((unsigned)atoi(p) == i && cp_template) {
				m->cp = true;
				n_cp++;
			}
		m->small = malloc(BODY_SMALL);
		if (!m->small)
			return 1;
	}
	t0 = now();
	for (unsigned i = 0, first = 0; i < threads; i++) {
		unsigned n = machines / threads + (i < machines % threads);

		ws[i].index = i;
		ws[i].ms = ms + first;
		ws[i].n = n;
		for (unsigned j = 0; j < n; j++)
			ms[first + j].thread = i;
		first += n;
		pthread_create(&ws[i].thread, NULL, run, &ws[i]);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(ws[i].thread, NULL);
		bytes += ws[i].bytes;
	}

	total = calloc(machines, sizeof(double));
	for (int p = 0; p < PH_DONE; p++)
		phase[p] = calloc(machines, sizeof(double));
	if (opt_csv && !(csv = fopen(opt_csv, "w")))
		perror(opt_csv);
	if (csv)
		fprintf(csv, "# mac ip start discover dhcp tftp script initrd kernel config\n");
	for (unsigned i = 0; i < machines; i++) {
		struct machine *m = &ms[i];

		retries += m->retries;
		r_dhcp += m->r_dhcp;
		r_rrq += m->r_rrq;
		r_ack += m->r_ack;
		r_unread += m->r_unread;
		if (m->phase != PH_DONE) {
			if (failed++ < 5)
				fprintf(
				    stderr,
				    "storm: %s (%s) failed in %s: %s (TFTP block %u, HTTP %llu of "
				    "%llu bytes)\n",
				    m->mac_colon, inet_ntoa(m->ip), phase_names[m->failed_in],
				    m->why ? m->why : "?", m->expect,
				    (unsigned long long)m->body_got,
				    (unsigned long long)m->body_len);
			why_first = why_first ? why_first : m->why;
			continue;
		}
		total[ok] = m->t_end[PH_CONFIG] - m->t_start;
		for (int p = 0; p < PH_DONE; p++)
			phase[p][ok] = m->t_end[p] - (p ? m->t_end[p - 1] : m->t_start);
		ok++;
		if (m->t_end[PH_CONFIG] > last)
			last = m->t_end[PH_CONFIG];
		if (m->cp && m->t_end[PH_CONFIG] > cp_last)
			cp_last = m->t_end[PH_CONFIG];
		cp_ok += m->cp;
		if (csv) {
			fprintf(csv, "%s %s %.4f", m->mac_colon, inet_ntoa(m->ip), m->t_start);
			for (int p = 0; p < PH_DONE; p++)
				fprintf(csv, " %.4f", m->t_end[p]);
			fprintf(csv, "\n");
		}
	}
	if (csv)
		fclose(csv);
	printf("machines=%u ok=%u failed=%u seconds=%.3f p50=%.3f p90=%.3f p99=%.3f max=%.3f",
	       machines, ok, failed, last, bench_quantile(total, ok, 0.5),
	       bench_quantile(total, ok, 0.9), bench_quantile(total, ok, 0.99),
	       bench_quantile(total, ok, 1));
	/* The control planes: when the last had its config, and how many machines had theirs. */
	if (n_cp && cp_ok == n_cp) {
		for (unsigned i = 0; i < machines; i++)
			by_cp += ms[i].phase == PH_DONE && ms[i].t_end[PH_CONFIG] <= cp_last;
		printf(" cp_s=%.3f cp_pct=%.1f", cp_last, 100.0 * by_cp / machines);
	} else if (n_cp) {
		printf(" cp_s=- cp_pct=-");
	}
	/* DORA as one phase: DISCOVER->OFFER and REQUEST->ACK. */
	printf(" dhcp_p50=%.3f", bench_quantile(phase[PH_DISCOVER], ok, 0.5) +
				     bench_quantile(phase[PH_REQUEST], ok, 0.5));
	for (int p = PH_TFTP; p < PH_DONE; p++)
		printf(" %s_p50=%.3f", phase_names[p], bench_quantile(phase[p], ok, 0.5));
	getrusage(RUSAGE_SELF, &ru);
	printf(" bytes=%llu mbps=%.1f retries=%llu retries_dhcp=%llu retries_rrq=%llu "
	       "retries_ack=%llu retries_unread=%llu storm_cpu_s=%.1f\n",
	       bytes, last > 0 ? bytes / last / 1e6 : 0, retries, r_dhcp, r_rrq, r_ack, r_unread,
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if (retry_log)
		fclose(retry_log);
	/* Freed, so a sanitized build's leak check (test_storm_retries) sees only real leaks. */
	for (unsigned i = 0; i < machines; i++)
		free(ms[i].small);
	for (int p = 0; p < PH_DONE; p++)
		free(phase[p]);
	free(total);
	free(ws);
	free(ms);
	return failed ? 1 : 0;
}
