// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the parts of the TFTP daemon all use: tftp.c (requests, transfers, the sweep),
 * window.c (windows, AF_XDP) and v6.c (IPv6) call these, and this file calls none of them,
 * so they depend on it and tftp.c on the other two, never the other way round.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include <bpf/bpf.h>

#include "counters.h"
#include "log.h"
#include "tftp/internal.h"

/* Adds N to a counter in memory only: per window, a syscall would cost more than the window. */
void tftp_tally(struct iface *ifc, enum xpxe_counter c, __u64 n)
{
	ifc->own[c] += n;
	ifc->own_dirty = true;
}

/* The interface served as IFINDEX, or NULL. */
struct iface *tftp_find_iface(struct xpxe_tftp *t, int ifindex)
{
	for (int i = 0; i < MAX_IFACES; i++)
		if (t->ifaces[i].used && t->ifaces[i].ifindex == ifindex)
			return &t->ifaces[i];
	return NULL;
}

/* "a.b.c.d:port", for log lines. */
void tftp_addr_str(char *buf, size_t len, __be32 ip, __be16 port)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ip, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, ntohs(port));
}

/* KEY's entry in IFC's tftp_sessions (its server port's), as the map's key; false: none. */
static bool session_index(const struct iface *ifc, const struct xpxe_tftp_key *key, __u32 *idx)
{
	int i = xpxe_tftp_port_index(ntohs(key->server_port), ifc->port_low);

	*idx = (__u32)i;
	return i >= 0;
}

static bool same_key(const struct xpxe_tftp_key *a, const struct xpxe_tftp_key *b)
{
	return a->client_ip == b->client_ip && a->client_port == b->client_port &&
	       a->server_port == b->server_port;
}

int tftp_session_get(const struct iface *ifc, const struct xpxe_tftp_key *key,
		     struct xpxe_tftp_session *s)
{
	struct xpxe_tftp_entry e;
	__u32 idx;

	if (!session_index(ifc, key, &idx)) {
		errno = ENOENT;
		return -1;
	}
	if (bpf_map_lookup_elem(ifc->sessions_fd, &idx, &e))
		return -1;
	if (!same_key(&e.key, key)) {
		errno = ENOENT; /* another transfer's, or none */
		return -1;
	}
	*s = e.s;
	return 0;
}

int tftp_session_put(const struct iface *ifc, const struct xpxe_tftp_key *key,
		     const struct xpxe_tftp_session *s)
{
	struct xpxe_tftp_entry e = { .key = *key, .s = *s };
	__u32 idx;

	if (!session_index(ifc, key, &idx)) {
		errno = ERANGE; /* a port outside the range: the programs would never find it */
		return -1;
	}
	return bpf_map_update_elem(ifc->sessions_fd, &idx, &e, BPF_ANY);
}

int tftp_session_clear(const struct iface *ifc, const struct xpxe_tftp_key *key)
{
	struct xpxe_tftp_entry e, none = { 0 };
	__u32 idx;

	if (!session_index(ifc, key, &idx) || bpf_map_lookup_elem(ifc->sessions_fd, &idx, &e) ||
	    !same_key(&e.key, key)) {
		errno = ENOENT;
		return -1;
	}
	return bpf_map_update_elem(ifc->sessions_fd, &idx, &none, BPF_ANY);
}

static bool port_bit(struct xpxe_tftp *t, unsigned port, unsigned *i)
{
	if (port < t->opts.port_low || port > t->opts.port_high)
		return false;
	*i = port - t->opts.port_low;
	return *i < XPXE_TFTP_PORTS_MAX;
}

void tftp_hold_port(struct xpxe_tftp *t, __be16 port)
{
	unsigned i;

	if (port_bit(t, ntohs(port), &i))
		t->ports_used[i / 8] |= (uint8_t)(1u << (i % 8));
}

void tftp_free_port(struct xpxe_tftp *t, __be16 port)
{
	unsigned i;

	if (port_bit(t, ntohs(port), &i))
		t->ports_used[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

int tftp_bind_port(struct xpxe_tftp *t, int fd, struct sockaddr *sa, socklen_t len, in_port_t *port)
{
	unsigned n = t->opts.port_high - t->opts.port_low + 1;
	int err = -EADDRINUSE;

	/* From after the last port taken: a port just freed waits its turn (late ACKs). */
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (t->port_next + k) % n;

		if (t->ports_used[i / 8] & (1u << (i % 8)))
			continue;
		*port = htons((uint16_t)(t->opts.port_low + i));
		if (bind(fd, sa, len)) {
			/* Another program's (EADDRINUSE), or one this host keeps (EACCES). */
			if (errno == EADDRINUSE || errno == EACCES)
				continue;
			return -errno;
		}
		t->ports_used[i / 8] |= (uint8_t)(1u << (i % 8));
		t->port_next = (i + 1) % n;
		return (int)(t->opts.port_low + i);
	}
	return err;
}

/* FD in the daemon's epoll set, TAG its tag (see xpxe_tftp_process). */
int tftp_watch(struct xpxe_tftp *t, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* A counter of the programs': the sum of its per-CPU slots. */
__u64 tftp_program_counter(struct xpxe_tftp *t, struct iface *ifc, enum xpxe_counter c)
{
	__u64 values[t->ncpus], sum = 0;
	__u32 key = c;

	/* The kernel fills every CPU's value; valgrind believes only the first
	 * (tests/valgrind.supp). */
	memset(values, 0, sizeof(values));
	if (bpf_map_lookup_elem(ifc->counters_fd, &key, values))
		return 0;
	for (int i = 0; i < t->ncpus; i++)
		sum += values[i];
	return sum;
}

/* True for the counters only the daemon writes (see xpxe.h). */
bool tftp_daemon_counter(int c)
{
	return (c >= XPXE_CNT_TFTP_RRQ && c <= XPXE_CNT_TFTP_ERR_BAD_OPTION) ||
	       (c >= XPXE_CNT_TFTP_WINDOWS && c <= XPXE_CNT_TFTP_BYTES_XSK) ||
	       (c >= XPXE_CNT_TFTP_SESSIONS_REFUSED && c <= XPXE_CNT_TFTP_SESSIONS_REPLACED) ||
	       (c >= XPXE_CNT_TFTP6_RRQ && c <= XPXE_CNT_TFTP6_ABORTED) ||
	       c == XPXE_CNT_TFTP6_DATA_XSK;
}

void tftp_write_counter(struct xpxe_tftp *t, struct iface *ifc, enum xpxe_counter c)
{
	__u64 values[t->ncpus];
	__u32 key = c;

	/* Only the daemon writes these slots: the sum lives in CPU 0's, the others stay 0. */
	memset(values, 0, sizeof(values));
	values[0] = ifc->own[c];
	if (bpf_map_update_elem(ifc->counters_fd, &key, values, BPF_ANY))
		log_debug("cannot update counter %s: %s", xpxe_counter_names[c], strerror(errno));
}

/* One more of C, in memory and in the map at once. */
void tftp_bump(struct xpxe_tftp *t, struct iface *ifc, enum xpxe_counter c)
{
	ifc->own[c]++;
	tftp_write_counter(t, ifc, c);
}

/* The counter of an ERROR CODE the daemon sends; XPXE_CNT_MAX for none. */
enum xpxe_counter tftp_error_counter(int code)
{
	switch (code) {
	case XPXE_TFTP_ERR_UNDEFINED:
		return XPXE_CNT_TFTP_ERR_UNDEFINED;
	case XPXE_TFTP_ERR_NOT_FOUND:
		return XPXE_CNT_TFTP_ERR_NOT_FOUND;
	case XPXE_TFTP_ERR_ACCESS:
		return XPXE_CNT_TFTP_ERR_ACCESS;
	case XPXE_TFTP_ERR_ILLEGAL_OP:
		return XPXE_CNT_TFTP_ERR_ILLEGAL_OP;
	case XPXE_TFTP_ERR_UNKNOWN_TID:
		return XPXE_CNT_TFTP_ERR_UNKNOWN_TID;
	case XPXE_TFTP_ERR_BAD_OPTION:
		return XPXE_CNT_TFTP_ERR_BAD_OPTION;
	default:
		return XPXE_CNT_MAX;
	}
}

void tftp_new_session(struct xpxe_tftp *t, struct xpxe_tftp_session *s)
{
	uint32_t owner = ++t->owners & 0xffffff;

	memset(s, 0, sizeof(*s));
	s->owner[0] = owner & 0xff;
	s->owner[1] = (owner >> 8) & 0xff;
	s->owner[2] = owner >> 16;
}

__u64 tftp_now_ns(void)
{
	struct timespec ts;

	/* The clock bpf_ktime_get_coarse_ns reads: send times are compared across both. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

double tftp_span_s(__u64 start_ns, __u64 end_ns, __u64 tick_ns)
{
	return (end_ns > start_ns && end_ns - start_ns > tick_ns ? end_ns - start_ns : tick_ns) /
	       1e9;
}

double tftp_seconds(__u64 start_ns, __u64 end_ns)
{
	static __u64 tick_ns;
	struct timespec res;

	if (!tick_ns)
		tick_ns = !clock_getres(CLOCK_MONOTONIC_COARSE, &res) && (res.tv_sec || res.tv_nsec)
			      ? (__u64)res.tv_sec * 1000000000ull + res.tv_nsec
			      : 10000000; /* HZ=100's, the longest */
	return tftp_span_s(start_ns, end_ns, tick_ns);
}

/* A client's name, fit for a log line: printable ASCII, others escaped, cut at 80. */
void tftp_printable(char *out, size_t len, const char *in, size_t in_len)
{
	size_t o = 0;

	for (size_t i = 0; i < in_len && in[i] && o + 5 < len; i++) {
		unsigned char c = in[i];

		if (o >= 80) {
			o += snprintf(out + o, len - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = c;
		else
			o += snprintf(out + o, len - o, "\\x%02x", c);
	}
	out[o < len ? o : len - 1] = '\0';
}

/* What a datagram to port 69 asked, fit for a log line: "RRQ 'name'", or its opcode. */
void tftp_describe_request(char *what, size_t what_size, const uint8_t *buf, size_t len)
{
	char name[400];

	tftp_printable(name, sizeof(name), len > 2 ? (const char *)buf + 2 : "",
		       len > 2 ? len - 2 : 0);
	if (len >= 2 && buf[0] == 0 && (buf[1] == XPXE_TFTP_RRQ || buf[1] == XPXE_TFTP_WRQ))
		snprintf(what, what_size, "%s '%.100s'", buf[1] == XPXE_TFTP_WRQ ? "WRQ" : "RRQ",
			 name);
	else
		snprintf(what, what_size, "opcode %d to port 69",
			 len >= 2 ? buf[0] << 8 | buf[1] : -1);
}

/* FNV-1a of an RRQ's bytes: the same bytes again is a copy (repeated_rrq). */
uint64_t tftp_rrq_hash(const uint8_t *buf, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ buf[i]) * 1099511628211ull;
	return h;
}

enum tftp_final_step tftp_final_step(struct tftp_final *f, bool confirmed, bool final_sent,
				     uint32_t acked, uint32_t repeats, unsigned timeout_s,
				     unsigned idle_s, double now)
{
	double wait, step = timeout_s ? timeout_s : TFTP_FINAL_TIMEOUT_S;

	if (!confirmed || !final_sent) {
		f->since = 0;
		return TFTP_FINAL_WAIT;
	}
	if (!f->since || acked != f->mark) {
		f->since = f->first = now;
		f->mark = acked;
		f->repeats = f->repeats_first = repeats;
		f->resends = 0;
		f->asked = false;
		return TFTP_FINAL_WAIT;
	}
	if (repeats != f->repeats) {
		/*
		 * The client ACKed the block before the final one again: the final block did not
		 * reach it (the data plane sent it again for that ACK). The wait starts over. Once,
		 * then silence, is a client the final block reached the second time whose final ACK
		 * was lost (done, as a silent one); asking again after that resend means it never
		 * had it, and the end is a failure.
		 */
		f->repeats = repeats;
		f->asked = repeats - f->repeats_first >= 2;
		f->since = now;
		f->resends = 0;
	}
	wait = step * (TFTP_FINAL_RESENDS + 1);
	if (idle_s && wait > idle_s)
		wait = idle_s;
	/* A client that keeps asking gets the idle timeout from the first time, no more. */
	if (f->asked && idle_s && now - f->first >= idle_s)
		return TFTP_FINAL_FAILED;
	if (now - f->since >= wait)
		return f->asked ? TFTP_FINAL_FAILED : TFTP_FINAL_DONE;
	if (f->resends < TFTP_FINAL_RESENDS && now - f->since >= step * (f->resends + 1)) {
		f->resends++;
		return TFTP_FINAL_RESEND;
	}
	return TFTP_FINAL_WAIT;
}

void tftp_place_take(struct xpxe_tftp *t, bool *counted)
{
	if (*counted)
		return;
	*counted = true;
	t->n_active++;
}

void tftp_place_give(struct xpxe_tftp *t, bool *counted)
{
	if (!*counted)
		return;
	*counted = false;
	t->n_active--;
}

void tftp_place_sweep(struct xpxe_tftp *t, bool *counted, bool *gave_up, bool confirmed,
		      __u64 started_ns, const char *who)
{
	if (!confirmed && *counted && tftp_now_ns() - started_ns >= TFTP_PLACE_UNCONFIRMED_NS) {
		tftp_place_give(t, counted);
		*gave_up = true;
		/* Debug only: a flood of forged RRQs would log a line each. */
		if (t->opts.max_at_once)
			log_debug("tftp: %s gave its place up: no ACK of its first answer", who);
	} else if (confirmed && *gave_up) {
		/* It runs after all (a client slow to answer): counted, even over the cap. */
		*gave_up = false;
		tftp_place_take(t, counted);
		if (t->opts.max_at_once)
			log_info("tftp: %s acknowledged late: it runs, and takes a place again (%u "
				 "running)",
				 who, t->n_active);
	}
}
