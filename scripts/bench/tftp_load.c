// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tftp_load: a lean many-session TFTP client for benchmarks. N transfers of
 * one file run at once, each on its own UDP socket, spread over one epoll
 * thread per CPU. Every DATA block is compared byte for byte with the same
 * bytes of FILE, a local copy whose SHA-256 must be the one given: each
 * download is checked whole, and the check costs a memcmp of hot memory, not a
 * hash per block. The client, not the server, is what usually limits a lab: it
 * does nothing per block but one recv, one memcmp and one send.
 *
 * With -W, it asks for windows of that many blocks (RFC 7440) and
 * acknowledges the last block of each window (what the OACK granted; without
 * windowsize in the OACK, every block); a gap in a window is acknowledged at
 * once with the last block in order, a silence at the timeout. Datagrams are
 * read in batches (recvmmsg) then.
 *
 * With -D, each ACK leaves DELAY_US microseconds after the block it answers came
 * in (the final one at once): a round trip like a real network's and a
 * firmware's stack add, which the lab's veth pair lacks (~10 us) and which no
 * qdisc of this kernel can add. Lockstep pays it per block, a window per window.
 *
 *   tftp_load -s SERVER -f NAME -r FILE -S SHA256 -n CLIENTS [-b BLKSIZE]
 *             [-W WINDOWSIZE] [-D DELAY_US] [-t THREADS] [-w TIMEOUT_MS]
 *
 * Prints one line of key=value pairs: clients, ok, failed, bytes, seconds,
 * mbps (aggregate MB/s, 10^6 bytes), retries, windowsize (the one granted to
 * the first transfer), p50 and p99 (seconds from the start, when every
 * transfer starts at once, until a transfer had its last block). Exits 1
 * when a transfer failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "stats.h"

#define MAX_RETRIES 20

struct xfer {
	int fd;
	struct sockaddr_in server; /* port 69 until the first answer names the transfer's port */
	uint8_t last[600];	   /* the last packet sent, for a resend */
	size_t last_len;
	uint32_t expect; /* the next block (full number) */
	unsigned blksize;
	unsigned window;    /* granted; 1: lockstep */
	unsigned in_window; /* blocks received in order since the last ACK */
	bool gap_acked;	    /* a gap in this window was acknowledged already */
	uint64_t bytes;
	double sent_at;
	double done_at; /* when its last block came (completion time = done_at - t0) */
	double ack_at;	/* -D: when the ACK in LAST is due; 0: none waits */
	unsigned retries;
	bool done, failed;
};

struct worker {
	pthread_t thread;
	struct xfer *xfers;
	int n;
};

static const char *opt_name, *opt_sha, *opt_file;
static const uint8_t *ref; /* the file's bytes */
static uint64_t ref_size;
static unsigned opt_blksize = 1468, opt_timeout_ms = 500, opt_window, opt_delay_us;
static struct in_addr opt_server;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void send_last(struct xfer *x)
{
	if (sendto(x->fd, x->last, x->last_len, 0, (struct sockaddr *)&x->server,
		   sizeof(x->server)) < 0 &&
	    errno != EAGAIN)
		x->failed = true;
	x->sent_at = now();
}

/* Sends ACK BLOCK, or with -D schedules it (AT_ONCE: the final one, never delayed). */
static void ack(struct xfer *x, uint16_t block, bool at_once)
{
	x->last[0] = 0;
	x->last[1] = 4;
	x->last[2] = block >> 8;
	x->last[3] = block & 0xff;
	x->last_len = 4;
	if (opt_delay_us && !at_once) {
		x->ack_at = now() + opt_delay_us / 1e6;
		x->sent_at = x->ack_at; /* the timeout runs from when it leaves */
		return;
	}
	x->ack_at = 0;
	send_last(x);
}

static void start(struct xfer *x)
{
	int n = snprintf((char *)x->last + 2, sizeof(x->last) - 2, "%s%coctet%cblksize%c%u%c",
			 opt_name, 0, 0, 0, opt_blksize, 0);

	if (opt_window)
		n += snprintf((char *)x->last + 2 + n, sizeof(x->last) - 2 - n, "windowsize%c%u%c",
			      0, opt_window, 0);
	x->last[0] = 0;
	x->last[1] = 1;
	x->last_len = 2 + n;
	x->expect = 1;
	x->blksize = 512; /* until an OACK says otherwise */
	x->window = 1;
	send_last(x);
}

static void finish(struct xfer *x)
{
	x->done = true;
	x->done_at = now();
	if (x->bytes != ref_size) {
		fprintf(stderr, "tftp_load: %llu bytes, want %llu\n", (unsigned long long)x->bytes,
			(unsigned long long)ref_size);
		x->failed = true;
	}
}

/* The block's bytes must be the file's at the same offset. */
static bool matches(const struct xfer *x, const uint8_t *data, size_t len)
{
	uint64_t off = (uint64_t)(x->expect - 1) * x->blksize;

	return off + len <= ref_size && !memcmp(ref + off, data, len);
}

/* Maps FILE and checks its SHA-256: what every download is compared with. */
static int load_reference(void)
{
	uint8_t digest[32];
	char hex[65];
	struct stat st;
	int fd = open(opt_file, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return -1;
	ref_size = st.st_size;
	ref = mmap(NULL, ref_size ? ref_size : 1, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (ref == MAP_FAILED || !EVP_Digest(ref, ref_size, digest, NULL, EVP_sha256(), NULL))
		return -1;
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
	if (strcmp(hex, opt_sha)) {
		fprintf(stderr, "tftp_load: %s has sha256 %s, not %s\n", opt_file, hex, opt_sha);
		return -1;
	}
	return 0;
}

static void on_packet(struct xfer *x, const uint8_t *p, ssize_t n, const struct sockaddr_in *from)
{
	uint16_t op, block;

	if (n < 4)
		return;
	op = p[0] << 8 | p[1];
	block = p[2] << 8 | p[3];
	x->server.sin_port = from->sin_port; /* the transfer's own port from now on */
	switch (op) {
	case 6: /* OACK: find blksize */
		for (const uint8_t *q = p + 2; q < p + n;) {
			const char *k = (const char *)q, *v = k + strnlen(k, p + n - q) + 1;

			if ((const uint8_t *)v >= p + n)
				break;
			if (!strcasecmp(k, "blksize"))
				x->blksize = atoi(v);
			if (!strcasecmp(k, "windowsize"))
				x->window = atoi(v) > 0 ? atoi(v) : 1;
			q = (const uint8_t *)v + strnlen(v, p + n - (const uint8_t *)v) + 1;
		}
		if (x->expect == 1)
			ack(x, 0, false);
		return;
	case 3:
		if (block == (uint16_t)x->expect) {
			bool last = (size_t)(n - 4) < x->blksize;

			if (!matches(x, p + 4, n - 4)) {
				fprintf(stderr, "tftp_load: block %u differs from the file\n",
					x->expect);
				x->failed = true;
				return;
			}
			x->bytes += n - 4;
			x->expect++;
			if (++x->in_window >= x->window || last) {
				ack(x, block, last);
				x->in_window = 0;
				x->gap_acked = false;
			}
			if (last)
				finish(x);
		} else if (x->window == 1 && block == (uint16_t)(x->expect - 1)) {
			ack(x, block, false); /* a duplicate: our ACK was lost */
		} else if (x->window > 1 && !x->gap_acked &&
			   (uint16_t)(block - x->expect) < 0x8000) {
			/* A block after a gap: resume after the last one in order. */
			ack(x, (uint16_t)(x->expect - 1), false);
			x->in_window = 0;
			x->gap_acked = true;
		}
		return;
	case 5:
		fprintf(stderr, "tftp_load: ERROR %u %.*s\n", block, (int)(n - 4), p + 4);
		x->failed = true;
		return;
	}
}

static void read_batch(struct xfer *x)
{
	enum { BATCH = 64 };
	static __thread uint8_t bufs[BATCH][2048];
	static __thread struct sockaddr_in froms[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int r;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &froms[i],
							 .msg_namelen = sizeof(froms[i]),
							 .msg_iov = &iov[i],
							 .msg_iovlen = 1 } };
	}
	r = recvmmsg(x->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < r && !x->done && !x->failed; i++)
		on_packet(x, bufs[i], msgs[i].msg_len, &froms[i]);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	int ep = epoll_create1(0), left = w->n;

	for (int i = 0; i < w->n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->xfers[i] };

		epoll_ctl(ep, EPOLL_CTL_ADD, w->xfers[i].fd, &ev);
		start(&w->xfers[i]);
	}
	while (left > 0) {
		struct timespec wait = { .tv_nsec = 20 * 1000 * 1000 };
		double t = now(), due = t + 0.02;
		int n;

		/* With -D: wake up for the first ACK due. */
		for (int i = 0; i < w->n; i++)
			if (w->xfers[i].ack_at && w->xfers[i].ack_at < due)
				due = w->xfers[i].ack_at;
		wait.tv_nsec = due > t ? (long)((due - t) * 1e9) : 0;
		n = epoll_pwait2(ep, evs, 256, &wait, NULL);

		for (int i = 0; i < n; i++) {
			struct xfer *x = evs[i].data.ptr;
			uint8_t buf[2048];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t r;

			/*
			 * One read per wake-up: in lockstep a transfer has one block in
			 * flight, and a second read would only return EAGAIN (epoll is
			 * level-triggered: anything more is reported again). Windows
			 * come in bursts: read them in one batch.
			 */
			if (x->done || x->failed)
				continue;
			if (opt_window) {
				read_batch(x);
				continue;
			}
			r = recvfrom(x->fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
			if (r > 0)
				on_packet(x, buf, r, &from);
		}
		t = now();
		left = 0;
		for (int i = 0; i < w->n; i++) {
			struct xfer *x = &w->xfers[i];

			if (x->done || x->failed)
				continue;
			if (x->ack_at && x->ack_at <= t) {
				x->ack_at = 0;
				send_last(x);
			}
			if (t - x->sent_at > opt_timeout_ms / 1e3) {
				if (++x->retries > MAX_RETRIES) {
					fprintf(stderr, "tftp_load: no answer after %u retries\n",
						MAX_RETRIES);
					x->failed = true;
					continue;
				}
				send_last(x);
			}
			left++;
		}
	}
	close(ep);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned clients = 1, threads = sysconf(_SC_NPROCESSORS_ONLN), ok = 0, failed = 0;
	unsigned long long bytes = 0, retries = 0;
	struct xfer *xfers;
	struct worker *ws;
	double t0, secs, *took;
	int c;

	while ((c = getopt(argc, argv, "s:f:r:n:S:b:t:w:W:D:")) != -1) {
		switch (c) {
		case 's':
			if (!inet_aton(optarg, &opt_server))
				return 2;
			break;
		case 'f':
			opt_name = optarg;
			break;
		case 'r':
			opt_file = optarg;
			break;
		case 'n':
			clients = atoi(optarg);
			break;
		case 'S':
			opt_sha = optarg;
			break;
		case 'b':
			opt_blksize = atoi(optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'w':
			opt_timeout_ms = atoi(optarg);
			break;
		case 'W':
			opt_window = atoi(optarg);
			break;
		case 'D':
			opt_delay_us = atoi(optarg);
			/* Microseconds, not the default 50 us of slack on every sleep. */
			prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
			break;
		default:
			return 2;
		}
	}
	if (!opt_name || !opt_sha || !opt_file || !opt_server.s_addr || !clients || !threads) {
		fprintf(stderr, "usage: tftp_load -s SERVER -f NAME -r FILE -S SHA256 -n CLIENTS "
				"[-b BLKSIZE] [-W WINDOWSIZE] [-D DELAY_US] [-t THREADS] "
				"[-w TIMEOUT_MS]\n");
		return 2;
	}
	if (load_reference())
		return 1;
	if (threads > clients)
		threads = clients;
	xfers = calloc(clients, sizeof(*xfers));
	ws = calloc(threads, sizeof(*ws));
	for (unsigned i = 0; i < clients; i++) {
		struct sockaddr_in any = { .sin_family = AF_INET };
		int buf = 1 << 20;

		xfers[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
		setsockopt(xfers[i].fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		if (xfers[i].fd < 0 || bind(xfers[i].fd, (struct sockaddr *)&any, sizeof(any))) {
			perror("tftp_load: socket");
			return 1;
		}
		xfers[i].server.sin_family = AF_INET;
		xfers[i].server.sin_addr = opt_server;
		xfers[i].server.sin_port = htons(69);
	}
	t0 = now();
	for (unsigned i = 0, first = 0; i < threads; i++) {
		unsigned n = clients / threads + (i < clients % threads);

		ws[i].xfers = xfers + first;
		ws[i].n = n;
		first += n;
		pthread_create(&ws[i].thread, NULL, run, &ws[i]);
	}
	for (unsigned i = 0; i < threads; i++)
		pthread_join(ws[i].thread, NULL);
	secs = now() - t0;
	took = calloc(clients, sizeof(*took));
	for (unsigned i = 0; i < clients; i++) {
		bytes += xfers[i].bytes;
		retries += xfers[i].retries;
		if (xfers[i].done && !xfers[i].failed)
			took[ok++] = xfers[i].done_at - t0;
		else
			failed++;
	}
	printf("clients=%u ok=%u failed=%u bytes=%llu seconds=%.3f mbps=%.1f retries=%llu "
	       "windowsize=%u p50=%.3f p99=%.3f\n",
	       clients, ok, failed, bytes, secs, bytes / secs / 1e6, retries, xfers[0].window,
	       bench_quantile(took, ok, 0.5), bench_quantile(took, ok, 0.99));
	return failed ? 1 : 0;
}
