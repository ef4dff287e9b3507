// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet page's listener (libmicrohttpd): one epoll thread of its own and
 * a connection limit of its own, apart from the HTTP that machines use, so a
 * page left open (or many) costs that HTTP neither threads nor connections.
 *
 * Why the page polls a JSON endpoint rather than holding a stream of events
 * (server-sent events): the fleet view is already a state, folded by
 * events.c; each machine's view carries the fleet's version at its last
 * change, so a poll "since VERSION" answers only what changed, as a stream
 * would, at the cost of one short request a second per page. A stream would
 * hold a connection per page and, in libmicrohttpd's epoll mode, need a
 * suspend/resume dance or a thread per client to wait for news; a poll holds
 * nothing between answers, survives proxies that buffer responses (a stream
 * through nginx needs proxy_buffering off) and any reconnection (the page
 * asks again from its last version; a restarted daemon has another epoch and
 * answers everything). The view moves at most once a second for the
 * programs' records (the daemon reads their ring that often), so a second
 * between polls adds no staleness that matters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "log.h"
#include "ui/ui.h"

static struct {
	struct MHD_Daemon *mhd;
	const struct xpxe_config *cfg; /* ui.allow is read under CFG_LOCK */
	pthread_mutex_t *cfg_lock;
	unsigned max_connections;
	uint64_t epoch;
	unsigned open; /* MHD's one thread changes it; /metrics reads it */
	time_t refusal_logged;
	/* counters: /metrics (xpxe_ui_*) */
	unsigned long long accepted, refused_limit, files, fleets, not_allowed, not_found, rows,
	    bytes;
	unsigned long long fleet_cpu_ns; /* the CPU time the answers of /api/fleet took to build */
} ui;

static void count(unsigned long long *c, unsigned long long n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static unsigned long long thread_cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (unsigned long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

static unsigned long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (unsigned long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Every answer: nothing it loads may come from elsewhere (the browser enforces
 * it), it is framed nowhere, and no browser guesses another type.
 */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
			      const char *cache, struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; style-src 'self'; "
				"connect-src 'self'; img-src 'self'; base-uri 'none'; "
				"form-action 'none'; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned status, const char *what)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "%u %s\n", status, what);

	return answer(conn, status, "text/plain; charset=utf-8", "no-store",
		      MHD_create_response_from_buffer((size_t)n < sizeof(body) ? (size_t)n : 0,
						      body, MHD_RESPMEM_MUST_COPY));
}

static bool allowed(struct in_addr src)
{
	bool ok = false;

	pthread_mutex_lock(ui.cfg_lock);
	for (int i = 0; i < ui.cfg->ui.n_allow && !ok; i++)
		ok = (src.s_addr & ui.cfg->ui.allow[i].mask.s_addr) ==
		     ui.cfg->ui.allow[i].addr.s_addr;
	pthread_mutex_unlock(ui.cfg_lock);
	return ok;
}

static enum MHD_Result fleet(struct MHD_Connection *conn)
{
	const char *since_arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
	const char *epoch_arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "epoch");
	struct xpxe_ui_fleet_meta meta = { .epoch = ui.epoch, .now_ms = now_ms() };
	struct xpxe_machine_view *rows;
	unsigned long long since = since_arg ? strtoull(since_arg, NULL, 10) : 0;
	unsigned long long cpu = thread_cpu_ns();
	char *json;
	size_t len;
	int n;

	/* A first look (epoch 0), or a page of another daemon (restarted since): everything. */
	meta.full = !epoch_arg || strtoull(epoch_arg, NULL, 10) != ui.epoch;
	n = xpxe_events_fleet_since(meta.full ? 0 : since, &rows, &meta.version);
	if (n < 0)
		return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	json = xpxe_ui_fleet_json(rows, n, &meta, &len);
	free(rows);
	if (!json)
		return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	count(&ui.fleets, 1);
	count(&ui.rows, n);
	count(&ui.bytes, len);
	count(&ui.fleet_cpu_ns, thread_cpu_ns() - cpu);
	return answer(conn, MHD_HTTP_OK, "application/json", "no-store",
		      MHD_create_response_from_buffer(len, json, MHD_RESPMEM_MUST_FREE));
}

/* A 403 for a source outside ui.allow: counted, logged at most once a second. */
static enum MHD_Result refuse(struct MHD_Connection *conn, struct in_addr src)
{
	time_t now = time(NULL);
	char addr[INET_ADDRSTRLEN];

	count(&ui.not_allowed, 1);
	if (now != ui.refusal_logged) {
		ui.refusal_logged = now;
		inet_ntop(AF_INET, &src, addr, sizeof(addr));
		log_warn("ui: refused %s: not in ui.allow (counted in xpxe_ui_requests_total)",
			 addr);
	}
	return text(conn, MHD_HTTP_FORBIDDEN,
		    "the fleet page is open only to the networks of ui.allow");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	static int headers_seen; /* its address marks a request whose headers came in */
	const union MHD_ConnectionInfo *ci;
	const struct xpxe_ui_file *file;
	struct in_addr src = { 0 };

	(void)cls, (void)version, (void)upload;
	if (!*req_cls) {
		/* Refused on the headers alone (and the connection closed): no body is read. */
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			src = ((const struct sockaddr_in *)ci->client_addr)->sin_addr;
		if (!allowed(src))
			return refuse(conn, src);
		if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
			return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "a read-only page: GET or HEAD");
		/* Answered at the next call, once MHD knows there is no body: the
		 * connection then stays open for the page's next poll. */
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_size)
		return text(conn, MHD_HTTP_BAD_REQUEST, "no request bodies here");
	if (!strcmp(url, "/api/fleet"))
		return fleet(conn);
	file = xpxe_ui_file(url);
	if (!file) {
		count(&ui.not_found, 1);
		return text(conn, MHD_HTTP_NOT_FOUND, "no such page");
	}
	count(&ui.files, 1);
	/* Built into the binary: the buffer outlives every response. */
	return answer(
	    conn, MHD_HTTP_OK, file->type, "no-cache",
	    MHD_create_response_from_buffer(file->len, (void *)file->data, MHD_RESPMEM_PERSISTENT));
}

/*
 * The page's own limit. MHD runs one thread here, which accepts, starts and
 * closes every connection, so the count below needs no lock and cannot race:
 * a connection counts from its start (MHD may still drop an accepted one
 * before that) to its close.
 */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)cls, (void)addr, (void)addrlen;
	if (__atomic_load_n(&ui.open, __ATOMIC_RELAXED) >= ui.max_connections) {
		count(&ui.refused_limit, 1);
		return MHD_NO;
	}
	count(&ui.accepted, 1);
	return MHD_YES;
}

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	(void)cls, (void)conn, (void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		__atomic_add_fetch(&ui.open, 1, __ATOMIC_RELAXED);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		__atomic_sub_fetch(&ui.open, 1, __ATOMIC_RELAXED);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_debug("ui: %s", line);
}

int xpxe_ui_start(const struct xpxe_config *cfg, pthread_mutex_t *cfg_lock)
{
	struct sockaddr_in addr;

	if (!cfg->ui.listen[0])
		return 0;
	if (xpxe_parse_listen(cfg->ui.listen, &addr)) {
		log_error("ui: '%s' is not ADDR:PORT with an IPv4 address", cfg->ui.listen);
		return -EINVAL;
	}
	ui.cfg = cfg;
	ui.cfg_lock = cfg_lock;
	ui.max_connections = cfg->ui.max_connections;
	ui.epoch = now_ms();
	ui.open = 0;
	ui.mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, accept_policy,
	    NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &addr,
	    /* MHD's own limit above ours, so that ours is the one that refuses (and counts). */
	    MHD_OPTION_CONNECTION_LIMIT, ui.max_connections + 8,
	    /* A page polls each second: a connection silent this long is gone. */
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_NOTIFY_CONNECTION,
	    notify_connection, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    /* Not MHD_OPTION_LISTENING_ADDRESS_REUSE (SO_REUSEPORT): on HTTP's address and
	     * port, the kernel would share the machines' connections with the page. */
	    MHD_OPTION_END);
	if (!ui.mhd) {
		log_error("ui: cannot listen on %s (address in use, or not on this host?)",
			  cfg->ui.listen);
		return -EADDRINUSE;
	}
	log_info("ui: the fleet page is at http://%s/ (open to %d network(s) of ui.allow; at "
		 "most %u connections)",
		 cfg->ui.listen, cfg->ui.n_allow, ui.max_connections);
	return 0;
}

void xpxe_ui_stop(void)
{
	if (ui.mhd)
		MHD_stop_daemon(ui.mhd);
	ui.mhd = NULL;
}

void xpxe_ui_metrics(FILE *f)
{
	const struct {
		const char *kind;
		unsigned long long *n;
	} kinds[] = {
		{ "file", &ui.files },
		{ "fleet", &ui.fleets },
		{ "not_allowed", &ui.not_allowed },
		{ "not_found", &ui.not_found },
	};

	fputs("# HELP xpxe_ui_connections_total Fleet page connections: accepted, or refused at "
	      "ui.max_connections\n# TYPE xpxe_ui_connections_total counter\n",
	      f);
	fprintf(f, "xpxe_ui_connections_total{outcome=\"accepted\"} %llu\n",
		__atomic_load_n(&ui.accepted, __ATOMIC_RELAXED));
	fprintf(f, "xpxe_ui_connections_total{outcome=\"refused_limit\"} %llu\n",
		__atomic_load_n(&ui.refused_limit, __ATOMIC_RELAXED));
	fputs("# HELP xpxe_ui_connections_open Fleet page connections open now\n"
	      "# TYPE xpxe_ui_connections_open gauge\n",
	      f);
	fprintf(f, "xpxe_ui_connections_open %u\n", __atomic_load_n(&ui.open, __ATOMIC_RELAXED));
	fputs("# HELP xpxe_ui_requests_total Fleet page requests by answer (file: the page's "
	      "files; fleet: its data; not_allowed: 403, outside ui.allow)\n"
	      "# TYPE xpxe_ui_requests_total counter\n",
	      f);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		fprintf(f, "xpxe_ui_requests_total{kind=\"%s\"} %llu\n", kinds[i].kind,
			__atomic_load_n(kinds[i].n, __ATOMIC_RELAXED));
	fputs("# HELP xpxe_ui_fleet_rows_total Machines' rows the page's data carried (only "
	      "those that changed since the page's last poll)\n"
	      "# TYPE xpxe_ui_fleet_rows_total counter\n",
	      f);
	fprintf(f, "xpxe_ui_fleet_rows_total %llu\n", __atomic_load_n(&ui.rows, __ATOMIC_RELAXED));
	fputs("# HELP xpxe_ui_fleet_bytes_total Bytes of the page's data (JSON) sent\n"
	      "# TYPE xpxe_ui_fleet_bytes_total counter\n",
	      f);
	fprintf(f, "xpxe_ui_fleet_bytes_total %llu\n",
		__atomic_load_n(&ui.bytes, __ATOMIC_RELAXED));
	fputs("# HELP xpxe_ui_fleet_cpu_seconds_total CPU time spent building the page's data "
	      "(the fleet view's copy and its JSON)\n"
	      "# TYPE xpxe_ui_fleet_cpu_seconds_total counter\n",
	      f);
	fprintf(f, "xpxe_ui_fleet_cpu_seconds_total %.6f\n",
		__atomic_load_n(&ui.fleet_cpu_ns, __ATOMIC_RELAXED) / 1e9);
}
