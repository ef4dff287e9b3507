// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The etcd backend. A thread of its own connects (registers this responder under a
 * liveness lease), reads the whole prefix (a resync), then watches it from the next
 * revision and keeps the lease alive; it writes the boot-once marks queued by any thread.
 * What it learns goes into a cache of machines and marks and a list of binding changes,
 * which the daemon's loop takes (xpxe_store_take) when the eventfd says so.
 *
 * The daemon's own calls (machines added, bindings) run on the calling thread, on its own
 * connections, and fail at once while etcd is known to be away: nothing waits for a store
 * that does not answer longer than one request's timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libfyaml.h>

#include "json.h"
#include "log.h"
#include "store/internal.h"

#define LATENCY_RING 512

struct pending_mark {
	char key[XPXE_STORE_KEY_MAX];
	bool installed;
	time_t when;
};

struct etcd {
	struct xpxe_store *s;
	const struct xpxe_store_cfg *cfg;
	time_t started;

	/* The calling threads' connections (the daemon's loop: bindings, machines). */
	pthread_mutex_t call_lock;
	struct wire call_wire;
	long long hold_lease; /* the etcd lease offers held now are attached to */
	time_t hold_lease_at;

	/* The thread: watch, liveness, marks, resyncs. */
	pthread_t thread;
	bool thread_started;
	struct wire thread_wire;
	CURLM *watch_multi;
	CURL *watch;
	char *watch_buf;
	size_t watch_len;
	bool watch_failed;
	long long liveness_lease;
	time_t keepalive_at;

	int event_fd; /* readable: changes wait for xpxe_store_take */

	/* Below: shared, under LOCK. */
	pthread_mutex_t lock;
	bool stop;
	bool up;
	bool resync_wanted;
	char last_error[256];
	time_t state_since;
	long long revision;
	struct xpxe_store_machine *machines;
	int n_machines;
	bool machines_changed;
	struct xpxe_store_mark *marks;
	int n_marks;
	bool marks_changed;
	struct xpxe_store_lease_change *lchanges;
	int n_lchanges, cap_lchanges;
	bool leases_snapshot;
	long long snapshot_rev;
	char (*responders)[XPXE_STORE_NAME_MAX];
	int n_responders;
	struct pending_mark *pending;
	int n_pending;
	struct store_stats stats;
	double latency[LATENCY_RING];
	unsigned n_latency;
};

static void notify(struct etcd *e)
{
	uint64_t one = 1;

	/* A full counter (never here) would mean the daemon is woken anyway. */
	(void)!write(e->event_fd, &one, sizeof(one));
}

/* Counts a call (under LOCK). */
static void count(struct etcd *e, const struct wire_call *c)
{
	store_stats_count(&e->stats, c->seconds, c->err != 0);
	e->latency[e->n_latency++ % LATENCY_RING] = c->seconds;
}

static void set_down(struct etcd *e, const char *why)
{
	pthread_mutex_lock(&e->lock);
	if (e->up || strcmp(e->last_error, why)) {
		log_error("store: etcd %s: %s; serving what this responder knows, new machines "
			  "wait for it",
			  e->up ? "lost" : "still away", why);
		e->state_since = time(NULL);
	}
	e->up = false;
	snprintf(e->last_error, sizeof(e->last_error), "%s", why);
	pthread_mutex_unlock(&e->lock);
}

static void key_b64(const struct etcd *e, const char *rel, char *out)
{
	char full[600];

	snprintf(full, sizeof(full), "%s%s", e->cfg->prefix, rel);
	b64_encode(full, strlen(full), out);
}

static char *value_b64(const char *value)
{
	size_t len = strlen(value);
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out)
		b64_encode(value, len, out);
	return out;
}

/* One call on WIRE, counted; the parsed answer in *DOC when it is JSON. */
static int call(struct etcd *e, struct wire *w, const char *path, char *body,
		struct fy_document **doc)
{
	struct wire_call c = { .path = path, .body = body };
	int err;

	wire_run(w, &c, 1);
	pthread_mutex_lock(&e->lock);
	count(e, &c);
	pthread_mutex_unlock(&e->lock);
	err = c.err;
	if (doc) {
		*doc = wire_parse_reply(&c);
		if (!err && !*doc)
			err = -EPROTO;
	}
	if (err == -EPROTO)
		log_debug("store: %s answered %ld: %.200s", path, c.http, c.reply ? c.reply : "");
	wire_call_free(&c);
	return err;
}

/* --- the cache (under LOCK) ------------------------------------------------------------------- */

static void refuse(struct etcd *e, const char *rel, const char *why)
{
	e->stats.refused++;
	log_error("store: etcd key %s%s refused, not applied: %s", e->cfg->prefix, rel, why);
}

static int find_machine(struct etcd *e, const char *key)
{
	for (int i = 0; i < e->n_machines; i++)
		if (!strcmp(e->machines[i].key, key))
			return i;
	return -1;
}

static void put_machine(struct etcd *e, struct xpxe_store_machine *m)
{
	int i = find_machine(e, m->key);
	struct xpxe_store_machine *more;

	if (i >= 0) {
		if (!strcmp(e->machines[i].json, m->json)) {
			e->machines[i].rev = m->rev;
			free(m->json);
			return;
		}
		free(e->machines[i].json);
		e->machines[i] = *m;
	} else {
		more = realloc(e->machines, (e->n_machines + 1) * sizeof(*more));
		if (!more) {
			free(m->json);
			return;
		}
		e->machines = more;
		more[e->n_machines++] = *m;
	}
	e->machines_changed = true;
}

static void drop_machine(struct etcd *e, const char *key)
{
	int i = find_machine(e, key);

	if (i < 0)
		return;
	free(e->machines[i].json);
	e->machines[i] = e->machines[--e->n_machines];
	e->machines_changed = true;
}

static int find_mark(struct etcd *e, const char *key)
{
	for (int i = 0; i < e->n_marks; i++)
		if (!strcmp(e->marks[i].key, key))
			return i;
	return -1;
}

static void put_mark(struct etcd *e, const struct xpxe_store_mark *m)
{
	int i = find_mark(e, m->key);
	struct xpxe_store_mark *more;

	if (i >= 0) {
		e->marks[i] = *m;
		return; /* the time of a mark changes nothing the daemon does */
	}
	more = realloc(e->marks, (e->n_marks + 1) * sizeof(*more));
	if (!more)
		return;
	e->marks = more;
	more[e->n_marks++] = *m;
	e->marks_changed = true;
}

static void drop_mark(struct etcd *e, const char *key)
{
	int i = find_mark(e, key);

	if (i < 0)
		return;
	e->marks[i] = e->marks[--e->n_marks];
	e->marks_changed = true;
}

static void lease_change(struct etcd *e, const struct xpxe_store_lease_change *c)
{
	if (e->n_lchanges == e->cap_lchanges) {
		int cap = e->cap_lchanges ? e->cap_lchanges * 2 : 256;
		struct xpxe_store_lease_change *more = realloc(e->lchanges, cap * sizeof(*more));

		if (!more)
			return;
		e->lchanges = more;
		e->cap_lchanges = cap;
	}
	e->lchanges[e->n_lchanges++] = *c;
}

static void put_responder(struct etcd *e, const char *name)
{
	char(*more)[XPXE_STORE_NAME_MAX];

	for (int i = 0; i < e->n_responders; i++)
		if (!strcmp(e->responders[i], name))
			return;
	more = realloc(e->responders, (e->n_responders + 1) * sizeof(*more));
	if (!more)
		return;
	e->responders = more;
	snprintf(more[e->n_responders++], XPXE_STORE_NAME_MAX, "%.63s", name);
	log_info("store: responder %s is up", name);
}

static void drop_responder(struct etcd *e, const char *name)
{
	for (int i = 0; i < e->n_responders; i++)
		if (!strcmp(e->responders[i], name)) {
			log_info("store: responder %s is gone (its liveness lease ended)", name);
			memmove(e->responders[i], e->responders[--e->n_responders],
				XPXE_STORE_NAME_MAX);
			return;
		}
}

/* One key of the prefix, put (VALUE) or deleted (NULL), at revision REV; under LOCK. */
static void apply_kv(struct etcd *e, const char *full_key, const char *value, long long rev)
{
	const char *rel = full_key + strlen(e->cfg->prefix);
	char name[200], why[256];
	enum rec_kind kind;

	if (strncmp(full_key, e->cfg->prefix, strlen(e->cfg->prefix)))
		return;
	kind = rec_kind_of(rel, name, sizeof(name));
	if (kind == REC_FOREIGN) {
		if (value)
			refuse(e, rel,
			       "not a key xpxe writes (machines/, installed/, leases/ip/, "
			       "leases/mac/, responders/)");
		return;
	}
	if (!value) {
		struct xpxe_store_lease_change c = { .deleted = true };

		switch (kind) {
		case REC_MACHINE:
			drop_machine(e, name);
			break;
		case REC_MARK:
			drop_mark(e, name);
			break;
		case REC_LEASE_IP:
			if (inet_pton(AF_INET, name, &c.lease.ip) == 1) {
				c.lease.rev = rev;
				lease_change(e, &c);
			}
			break;
		case REC_RESPONDER:
			drop_responder(e, name);
			break;
		default:
			break;
		}
		return;
	}
	switch (kind) {
	case REC_MACHINE: {
		struct xpxe_store_machine m;

		if (rec_machine_parse(name, value, &m, why, sizeof(why)))
			refuse(e, rel, why);
		else {
			m.rev = rev;
			put_machine(e, &m);
		}
		break;
	}
	case REC_MARK: {
		struct xpxe_store_mark m;

		if (rec_mark_parse(name, value, &m, why, sizeof(why)))
			refuse(e, rel, why);
		else
			put_mark(e, &m);
		break;
	}
	case REC_LEASE_IP:
	case REC_LEASE_MAC: {
		struct xpxe_store_lease_change c = { 0 };

		if (rec_lease_parse(kind, name, value, &c.lease, why, sizeof(why))) {
			refuse(e, rel, why);
		} else if (kind == REC_LEASE_IP) {
			/* The address's key carries the binding; the MAC's is its index. */
			c.lease.rev = rev;
			lease_change(e, &c);
		}
		break;
	}
	case REC_RESPONDER:
		if (rec_responder_parse(name, value, why, sizeof(why)))
			refuse(e, rel, why);
		else
			put_responder(e, name);
		break;
	default:
		break;
	}
}

/* Pending marks go on top of what etcd said: they are newer. Under LOCK. */
static void overlay_pending(struct etcd *e)
{
	for (int i = 0; i < e->n_pending; i++) {
		struct xpxe_store_mark m = { .when = e->pending[i].when };

		snprintf(m.key, sizeof(m.key), "%s", e->pending[i].key);
		snprintf(m.by, sizeof(m.by), "%s", e->s->name);
		if (e->pending[i].installed)
			put_mark(e, &m);
		else
			drop_mark(e, m.key);
	}
}

/* --- the thread ------------------------------------------------------------------------------ */

static int grant(struct etcd *e, struct wire *w, unsigned ttl, long long *id)
{
	struct fy_document *doc;
	char body[64];
	const char *text;
	int err;

	snprintf(body, sizeof(body), "{\"TTL\":%u}", ttl);
	err = call(e, w, "/v3/lease/grant", body, &doc);
	text = doc ? xpxe_json_str(fy_document_root(doc), "/ID") : NULL;
	if (!err && !text)
		err = -EPROTO;
	if (!err)
		*id = atoll(text);
	fy_document_destroy(doc);
	return err;
}

/* Puts VALUE at REL (with etcd lease LEASE unless 0) or deletes REL (VALUE NULL). */
static int put_or_delete(struct etcd *e, struct wire *w, const char *rel, const char *value,
			 long long lease)
{
	char key[800], *val = value ? value_b64(value) : NULL, *body = NULL;
	int err;

	key_b64(e, rel, key);
	if (value && !val)
		return -ENOMEM;
	if (value)
		err = asprintf(&body, "{\"key\":\"%s\",\"value\":\"%s\",\"lease\":\"%lld\"}", key,
			       val, lease);
	else
		err = asprintf(&body, "{\"key\":\"%s\"}", key);
	free(val);
	if (err < 0)
		return -ENOMEM;
	err = call(e, w, value ? "/v3/kv/put" : "/v3/kv/deleterange", body, NULL);
	free(body);
	return err;
}

/* Registers this responder under a fresh liveness lease. */
static int register_self(struct etcd *e)
{
	char rel[XPXE_STORE_NAME_MAX + 16], *value;
	int err = grant(e, &e->thread_wire, XPXE_STORE_LIVENESS_TTL, &e->liveness_lease);

	if (err)
		return err;
	snprintf(rel, sizeof(rel), "responders/%s", e->s->name);
	value = rec_responder_value(e->s->name, e->s->ifname, e->started);
	if (!value)
		return -ENOMEM;
	err = put_or_delete(e, &e->thread_wire, rel, value, e->liveness_lease);
	free(value);
	e->keepalive_at = time(NULL);
	return err;
}

static int keepalive(struct etcd *e)
{
	struct fy_document *doc;
	char body[64];
	const char *text;
	long long ttl;
	int err;

	snprintf(body, sizeof(body), "{\"ID\":\"%lld\"}", e->liveness_lease);
	err = call(e, &e->thread_wire, "/v3/lease/keepalive", body, &doc);
	text = doc ? xpxe_json_str(fy_document_root(doc), "/result/TTL") : NULL;
	ttl = text ? atoll(text) : 0;
	fy_document_destroy(doc);
	e->keepalive_at = time(NULL);
	if (err)
		return err;
	if (ttl <= 0) {
		/* The lease ran out while etcd was away: register again. */
		log_info("store: this responder's liveness lease had ended: registering again");
		return register_self(e);
	}
	return 0;
}

/* Writes the queued marks, oldest first; stops at the first failure (kept for later). */
static int push_marks(struct etcd *e)
{
	for (;;) {
		struct pending_mark p;
		struct xpxe_store_mark m = { 0 };
		char rel[XPXE_STORE_KEY_MAX + 16], *value = NULL;
		int err;

		pthread_mutex_lock(&e->lock);
		if (!e->n_pending) {
			pthread_mutex_unlock(&e->lock);
			return 0;
		}
		p = e->pending[0];
		pthread_mutex_unlock(&e->lock);

		snprintf(rel, sizeof(rel), "installed/%s", p.key);
		if (p.installed) {
			snprintf(m.key, sizeof(m.key), "%s", p.key);
			snprintf(m.by, sizeof(m.by), "%s", e->s->name);
			m.when = p.when;
			value = rec_mark_value(&m);
			if (!value)
				return -ENOMEM;
		}
		err = put_or_delete(e, &e->thread_wire, rel, value, 0);
		free(value);
		if (err)
			return err;
		pthread_mutex_lock(&e->lock);
		/* Only the one written goes: another may have been queued for it meanwhile. */
		if (e->n_pending && !strcmp(e->pending[0].key, p.key) &&
		    e->pending[0].installed == p.installed) {
			memmove(e->pending, e->pending + 1, (e->n_pending - 1) * sizeof(p));
			e->n_pending--;
		}
		e->stats.marks_written++;
		pthread_mutex_unlock(&e->lock);
		log_debug("store: boot-once %s %s written", p.key, p.installed ? "mark" : "re-arm");
	}
}

/* The whole prefix, into the cache: what etcd holds replaces what was known. */
static int resync(struct etcd *e)
{
	struct fy_document *doc;
	struct wire_kv *kvs;
	char key[800], end_raw[300], end[800], *body = NULL;
	int n, err;

	key_b64(e, "", key);
	range_end_of(e->cfg->prefix, end_raw, sizeof(end_raw));
	b64_encode(end_raw, strlen(end_raw), end);
	if (asprintf(&body, "{\"key\":\"%s\",\"range_end\":\"%s\"}", key, end) < 0)
		return -ENOMEM;
	err = call(e, &e->thread_wire, "/v3/kv/range", body, &doc);
	free(body);
	if (err) {
		fy_document_destroy(doc);
		return err;
	}
	err = wire_kvs(fy_document_root(doc), "/kvs", &kvs, &n);
	if (err) {
		fy_document_destroy(doc);
		return err;
	}
	pthread_mutex_lock(&e->lock);
	e->revision = wire_revision(fy_document_root(doc));
	for (int i = 0; i < e->n_machines; i++)
		free(e->machines[i].json);
	e->n_machines = 0;
	e->n_marks = 0;
	e->n_lchanges = 0;
	e->n_responders = 0;
	for (int i = 0; i < n; i++)
		apply_kv(e, kvs[i].key, kvs[i].value, kvs[i].mod_rev);
	overlay_pending(e);
	e->machines_changed = e->marks_changed = e->leases_snapshot = true;
	e->snapshot_rev = e->revision;
	e->stats.resyncs++;
	pthread_mutex_unlock(&e->lock);
	wire_kvs_free(kvs, n);
	fy_document_destroy(doc);
	return 0;
}

static size_t on_watch_data(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct etcd *e = ctx;
	size_t n = size * nmemb;
	char *more = realloc(e->watch_buf, e->watch_len + n + 1);

	if (!more)
		return 0;
	e->watch_buf = more;
	memcpy(more + e->watch_len, ptr, n);
	e->watch_len += n;
	more[e->watch_len] = '\0';
	return n;
}

static int start_watch(struct etcd *e)
{
	char key[800], end_raw[300], end[800], url[300];
	static char body[2048];

	key_b64(e, "", key);
	range_end_of(e->cfg->prefix, end_raw, sizeof(end_raw));
	b64_encode(end_raw, strlen(end_raw), end);
	snprintf(body, sizeof(body),
		 "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\",\"start_revision\":\"%"
		 "lld\"}}",
		 key, end, e->revision + 1);
	snprintf(url, sizeof(url), "%s/v3/watch", e->cfg->endpoints[e->thread_wire.current]);
	e->watch = curl_easy_init();
	if (!e->watch)
		return -ENOMEM;
	wire_setup(e->watch, e->cfg, 0); /* a stream: no overall timeout */
	curl_easy_setopt(e->watch, CURLOPT_URL, url);
	curl_easy_setopt(e->watch, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->watch, CURLOPT_WRITEFUNCTION, on_watch_data);
	curl_easy_setopt(e->watch, CURLOPT_WRITEDATA, e);
	e->watch_len = 0;
	e->watch_failed = false;
	curl_multi_add_handle(e->watch_multi, e->watch);
	return 0;
}

static void stop_watch(struct etcd *e)
{
	if (!e->watch)
		return;
	curl_multi_remove_handle(e->watch_multi, e->watch);
	curl_easy_cleanup(e->watch);
	e->watch = NULL;
}

/* One line of the watch stream: {"result": {"header", "events", "created", "canceled"}}. */
static void watch_line(struct etcd *e, const char *line, size_t len)
{
	struct fy_document *doc = xpxe_json_parse(line, len);
	struct fy_node *root = doc ? fy_document_root(doc) : NULL;
	struct fy_node *events, *ev;
	void *iter = NULL;
	bool changed = false;

	if (!root) {
		fy_document_destroy(doc);
		return;
	}
	if (xpxe_json_str(root, "/error/message") || xpxe_json_str(root, "/result/canceled")) {
		const char *why = xpxe_json_str(root, "/result/cancel_reason");

		e->watch_failed = true;
		log_info("store: etcd cancelled the watch (%s): reading it all again",
			 why ? why : "compacted?");
		fy_document_destroy(doc);
		return;
	}
	events = fy_node_by_path(root, "/result/events", FY_NT, FYNWF_DONT_FOLLOW);
	pthread_mutex_lock(&e->lock);
	while (events && fy_node_is_sequence(events) &&
	       (ev = fy_node_sequence_iterate(events, &iter))) {
		const char *type = xpxe_json_str(ev, "/type");
		const char *key = xpxe_json_str(ev, "/kv/key"),
			   *value = xpxe_json_str(ev, "/kv/value");
		const char *rev = xpxe_json_str(ev, "/kv/mod_revision");
		bool deleted = type && !strcmp(type, "DELETE");
		unsigned char *raw_key, *raw_value = NULL;
		long klen, vlen = 0;

		if (!key)
			continue;
		raw_key = malloc(strlen(key) + 1);
		raw_value = malloc(value ? strlen(value) + 1 : 1);
		if (raw_key && raw_value && (klen = b64_decode(key, raw_key)) >= 0) {
			raw_key[klen] = '\0';
			vlen = value ? b64_decode(value, raw_value) : 0;
			raw_value[vlen > 0 ? vlen : 0] = '\0';
			apply_kv(e, (char *)raw_key, deleted ? NULL : (char *)raw_value,
				 rev ? atoll(rev) : 0);
			changed = true;
		}
		free(raw_key);
		free(raw_value);
	}
	if (xpxe_json_str(root, "/result/header/revision"))
		e->revision = atoll(xpxe_json_str(root, "/result/header/revision"));
	if (changed)
		overlay_pending(e);
	pthread_mutex_unlock(&e->lock);
	fy_document_destroy(doc);
	if (changed)
		notify(e);
}

static void watch_lines(struct etcd *e)
{
	char *nl;
	size_t used = 0;

	while ((nl = memchr(e->watch_buf + used, '\n', e->watch_len - used))) {
		watch_line(e, e->watch_buf + used, nl - (e->watch_buf + used));
		used = nl + 1 - e->watch_buf;
	}
	memmove(e->watch_buf, e->watch_buf + used, e->watch_len - used);
	e->watch_len -= used;
}

static bool stopping(struct etcd *e)
{
	bool stop;

	pthread_mutex_lock(&e->lock);
	stop = e->stop;
	pthread_mutex_unlock(&e->lock);
	return stop;
}

/* Connects: registers, writes the marks queued, reads everything, watches. */
static int connect_store(struct etcd *e)
{
	int err;

	stop_watch(e);
	err = register_self(e);
	if (!err)
		err = push_marks(e);
	if (!err)
		err = resync(e);
	if (!err)
		err = start_watch(e);
	if (err)
		return err;
	pthread_mutex_lock(&e->lock);
	if (!e->up)
		log_info("store: etcd reached at %s (revision %lld): %d machine(s), %d boot-once "
			 "mark(s), %d binding(s), %d responder(s)",
			 e->cfg->endpoints[e->thread_wire.current], e->revision, e->n_machines,
			 e->n_marks, e->n_lchanges, e->n_responders);
	e->up = true;
	e->resync_wanted = false;
	e->last_error[0] = '\0';
	e->state_since = time(NULL);
	pthread_mutex_unlock(&e->lock);
	notify(e);
	return 0;
}

static void *run(void *arg)
{
	struct etcd *e = arg;

	while (!stopping(e)) {
		bool up, resync_wanted;
		int running = 0, pending;

		pthread_mutex_lock(&e->lock);
		up = e->up;
		resync_wanted = e->resync_wanted;
		pending = e->n_pending;
		pthread_mutex_unlock(&e->lock);

		if (!up || resync_wanted || !e->watch) {
			int err = connect_store(e);

			if (err) {
				stop_watch(e);
				set_down(e, err == -EAGAIN
						? "no endpoint answers"
						: "etcd refused a request (see --verbose)");
				/* Try again in a second (or at once when told to stop). */
				curl_multi_poll(e->watch_multi, NULL, 0, 1000, NULL);
			}
			continue;
		}
		if (pending && push_marks(e))
			set_down(e, "writing a boot-once mark failed");
		if (time(NULL) - e->keepalive_at >= XPXE_STORE_LIVENESS_TTL / 3 && keepalive(e))
			set_down(e, "its liveness lease could not be renewed");
		curl_multi_perform(e->watch_multi, &running);
		if (e->watch_len)
			watch_lines(e);
		if (!running || e->watch_failed) {
			CURLMsg *msg;
			int left;
			char why[160] = "the watch stream ended";

			while ((msg = curl_multi_info_read(e->watch_multi, &left)))
				if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
					snprintf(why, sizeof(why), "the watch stream broke: %s",
						 curl_easy_strerror(msg->data.result));
			stop_watch(e);
			/*
			 * Its member may be gone while the others serve: read everything again
			 * through whichever answers, and watch there. Requests meanwhile fail over
			 * by themselves; only a failed reconnection means etcd is away.
			 */
			if (!e->watch_failed)
				log_info("store: %s: reconnecting", why);
			pthread_mutex_lock(&e->lock);
			e->resync_wanted = true;
			pthread_mutex_unlock(&e->lock);
			continue;
		}
		curl_multi_poll(e->watch_multi, NULL, 0, 500, NULL);
	}
	stop_watch(e);
	return NULL;
}

/* --- the daemon's calls ------------------------------------------------------------------------
 */

bool etcd_up(const struct etcd *e)
{
	bool up;

	pthread_mutex_lock((pthread_mutex_t *)&e->lock);
	up = e->up;
	pthread_mutex_unlock((pthread_mutex_t *)&e->lock);
	return up;
}

int etcd_fd(const struct etcd *e)
{
	return e->event_fd;
}

/* A call from the daemon found no endpoint: the thread reconnects and reads it all again. */
static void lost(struct etcd *e)
{
	set_down(e, "no endpoint answered the daemon's request");
	pthread_mutex_lock(&e->lock);
	e->resync_wanted = true;
	pthread_mutex_unlock(&e->lock);
	curl_multi_wakeup(e->watch_multi);
}

int etcd_open(struct xpxe_store *s)
{
	struct etcd *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return -ENOMEM;
	e->s = s;
	e->cfg = &s->cfg;
	e->started = time(NULL);
	e->state_since = e->started;
	snprintf(e->last_error, sizeof(e->last_error), "not reached yet");
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->call_lock, NULL);
	e->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = e->event_fd < 0 ? -errno : 0;
	if (!err)
		err = wire_init(&e->call_wire, e->cfg);
	if (!err)
		err = wire_init(&e->thread_wire, e->cfg);
	if (!err && !(e->watch_multi = curl_multi_init()))
		err = -ENOMEM;
	if (!err && (err = -pthread_create(&e->thread, NULL, run, e)) == 0)
		e->thread_started = true;
	s->etcd = e;
	if (err) {
		etcd_close(e);
		s->etcd = NULL;
		return err;
	}
	return 0;
}

void etcd_close(struct etcd *e)
{
	if (!e)
		return;
	if (e->thread_started) {
		pthread_mutex_lock(&e->lock);
		e->stop = true;
		pthread_mutex_unlock(&e->lock);
		curl_multi_wakeup(e->watch_multi);
		pthread_join(e->thread, NULL);
	}
	/* Marks still queued are written now if etcd answers (a daemon stopping after a boot). */
	if (etcd_up(e) && e->n_pending && push_marks(e))
		log_warn("store: %d boot-once change(s) not written to etcd before exit: this "
			 "responder's file has them",
			 e->n_pending);
	/* Leave the cluster's list of responders at once rather than at the lease's end. */
	if (e->liveness_lease && etcd_up(e)) {
		char body[64];

		snprintf(body, sizeof(body), "{\"ID\":\"%lld\"}", e->liveness_lease);
		call(e, &e->thread_wire, "/v3/lease/revoke", body, NULL);
	}
	if (e->watch_multi)
		curl_multi_cleanup(e->watch_multi);
	wire_free(&e->call_wire);
	wire_free(&e->thread_wire);
	if (e->event_fd >= 0)
		close(e->event_fd);
	for (int i = 0; i < e->n_machines; i++)
		free(e->machines[i].json);
	free(e->machines);
	free(e->marks);
	free(e->lchanges);
	free(e->responders);
	free(e->pending);
	free(e->watch_buf);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->call_lock);
	free(e);
}

void etcd_take(struct etcd *e, struct xpxe_store_changes *out)
{
	uint64_t n;

	memset(out, 0, sizeof(*out));
	/* Nothing signalled (EAGAIN): what is there is taken all the same. */
	(void)!read(e->event_fd, &n, sizeof(n));
	pthread_mutex_lock(&e->lock);
	if (e->machines_changed) {
		out->machines = calloc(e->n_machines + 1, sizeof(*out->machines));
		for (int i = 0; out->machines && i < e->n_machines; i++) {
			out->machines[i] = e->machines[i];
			out->machines[i].json = strdup(e->machines[i].json);
		}
		out->n_machines = out->machines ? e->n_machines : 0;
		out->machines_changed = out->machines != NULL;
		e->machines_changed = !out->machines_changed;
	}
	if (e->marks_changed) {
		out->marks = calloc(e->n_marks + 1, sizeof(*out->marks));
		if (out->marks && e->n_marks)
			memcpy(out->marks, e->marks, e->n_marks * sizeof(*out->marks));
		out->n_marks = out->marks ? e->n_marks : 0;
		out->marks_changed = out->marks != NULL;
		e->marks_changed = !out->marks_changed;
	}
	out->leases = e->lchanges;
	out->n_leases = e->n_lchanges;
	out->leases_snapshot = e->leases_snapshot;
	out->snapshot_rev = e->snapshot_rev;
	e->lchanges = NULL;
	e->n_lchanges = e->cap_lchanges = 0;
	e->leases_snapshot = false;
	pthread_mutex_unlock(&e->lock);
}

/* A transaction's answer: succeeded, or the kvs its failure branch read. */
static int txn_result(struct fy_document *doc, bool *succeeded)
{
	const char *ok = doc ? xpxe_json_str(fy_document_root(doc), "/succeeded") : NULL;

	if (!doc)
		return -EPROTO;
	*succeeded = ok && !strcmp(ok, "true");
	return 0;
}

int etcd_put_machine(struct etcd *e, const char *key, const char *json)
{
	char k[800], rel[XPXE_STORE_KEY_MAX + 16], *value = rec_machine_value(json), *v64,
						   *body = NULL;
	struct fy_document *doc = NULL;
	bool succeeded = false;
	int err;

	if (!value)
		return -ENOMEM;
	if (!etcd_up(e)) {
		free(value);
		return -EAGAIN;
	}
	snprintf(rel, sizeof(rel), "machines/%s", key);
	key_b64(e, rel, k);
	v64 = value_b64(value);
	if (v64 &&
	    asprintf(&body,
		     "{\"compare\":[{\"key\":\"%s\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		     "\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"%s\","
		     "\"value\":\"%s\"}}]}",
		     k, k, v64) < 0)
		body = NULL;
	free(v64);
	if (!body) {
		free(value);
		return -ENOMEM;
	}
	pthread_mutex_lock(&e->call_lock);
	err = call(e, &e->call_wire, "/v3/kv/txn", body, &doc);
	pthread_mutex_unlock(&e->call_lock);
	free(body);
	if (!err)
		err = txn_result(doc, &succeeded);
	if (!err && succeeded) {
		struct xpxe_store_machine m = { .rev = wire_revision(fy_document_root(doc)) };
		char why[200];

		/* Into the cache now: the watch confirms it later, the daemon applies it now. */
		if (!rec_machine_parse(key, value, &m, why, sizeof(why))) {
			pthread_mutex_lock(&e->lock);
			put_machine(e, &m);
			pthread_mutex_unlock(&e->lock);
		}
	} else if (!err) {
		pthread_mutex_lock(&e->lock);
		e->stats.conflicts++;
		pthread_mutex_unlock(&e->lock);
		err = -EEXIST;
	}
	fy_document_destroy(doc);
	free(value);
	if (err == -EAGAIN)
		lost(e);
	return err;
}

int etcd_delete_machine(struct etcd *e, const char *key)
{
	char rel[XPXE_STORE_KEY_MAX + 16];
	int err;

	if (!etcd_up(e))
		return -EAGAIN;
	snprintf(rel, sizeof(rel), "machines/%s", key);
	pthread_mutex_lock(&e->call_lock);
	err = put_or_delete(e, &e->call_wire, rel, NULL, 0);
	pthread_mutex_unlock(&e->call_lock);
	if (!err) {
		pthread_mutex_lock(&e->lock);
		drop_machine(e, key);
		pthread_mutex_unlock(&e->lock);
	} else if (err == -EAGAIN) {
		lost(e);
	}
	return err;
}

void etcd_mark(struct etcd *e, const char *key, bool installed, time_t when)
{
	struct pending_mark *more;

	pthread_mutex_lock(&e->lock);
	more = realloc(e->pending, (e->n_pending + 1) * sizeof(*more));
	if (more) {
		e->pending = more;
		snprintf(more[e->n_pending].key, sizeof(more->key), "%s", key);
		more[e->n_pending].installed = installed;
		more[e->n_pending++].when = when;
		overlay_pending(e);
	}
	if (!e->up)
		log_warn("store: etcd is away: boot-once %s of %s is written when it is back",
			 installed ? "mark" : "re-arm", key);
	pthread_mutex_unlock(&e->lock);
	curl_multi_wakeup(e->watch_multi);
}

/* --- bindings ----------------------------------------------------------------------------- */

static void lease_rel(char *out, size_t size, bool by_ip, const struct xpxe_store_lease *l)
{
	char ip[INET_ADDRSTRLEN];
	const unsigned char *m = l->mac;

	if (by_ip)
		snprintf(out, size, "leases/ip/%s", inet_ntop(AF_INET, &l->ip, ip, sizeof(ip)));
	else
		snprintf(out, size, "leases/mac/%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
			 m[3], m[4], m[5]);
}

/* Appends to a growing JSON text. */
struct text {
	char *s;
	size_t len;
	bool failed;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *piece, *more;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&piece, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = true;
		return;
	}
	more = realloc(t->s, t->len + n + 1);
	if (!more) {
		free(piece);
		t->failed = true;
		return;
	}
	memcpy(more + t->len, piece, n + 1);
	t->s = more;
	t->len += n;
	free(piece);
}

static void compare(struct text *t, bool *first, const char *key, long long rev)
{
	add(t, "%s{\"key\":\"%s\",\"target\":\"%s\",\"result\":\"EQUAL\",\"%s\":\"%lld\"}",
	    *first ? "" : ",", key, rev ? "MOD" : "CREATE",
	    rev ? "mod_revision" : "create_revision", rev);
	*first = false;
}

/* The body of REQ's transaction. LEASE: the etcd lease of a hold. */
static char *lease_txn(struct etcd *e, const struct xpxe_store_lease_req *req, long long lease)
{
	char rel[64], mac_key[200], ip_key[200], old_mac_key[200], old_ip_key[200];
	struct xpxe_store_lease want = req->want;
	bool first = true, old_mac = false, old_ip = false;
	struct text t = { 0 };
	char *value, *v64;

	lease_rel(rel, sizeof(rel), false, &want);
	key_b64(e, rel, mac_key);
	lease_rel(rel, sizeof(rel), true, &want);
	key_b64(e, rel, ip_key);
	add(&t, "{\"compare\":[");
	if (req->op == XPXE_STORE_HOLD) {
		const struct xpxe_store_lease *r = req->replace ? &req->replaced : NULL;

		old_mac = r && memcmp(r->mac, want.mac, 6);
		old_ip = r && r->ip.s_addr != want.ip.s_addr;
		compare(&t, &first, mac_key, r && !old_mac ? r->rev : 0);
		compare(&t, &first, ip_key, r && !old_ip ? r->rev : 0);
		if (old_mac) {
			lease_rel(rel, sizeof(rel), false, r);
			key_b64(e, rel, old_mac_key);
			compare(&t, &first, old_mac_key, r->rev);
		}
		if (old_ip) {
			lease_rel(rel, sizeof(rel), true, r);
			key_b64(e, rel, old_ip_key);
			compare(&t, &first, old_ip_key, r->rev);
		}
	} else {
		compare(&t, &first, mac_key, want.rev);
		compare(&t, &first, ip_key, want.rev);
	}
	add(&t, "],\"success\":[");
	if (req->op == XPXE_STORE_RELEASE) {
		add(&t, "{\"request_delete_range\":{\"key\":\"%s\"}},", mac_key);
		add(&t, "{\"request_delete_range\":{\"key\":\"%s\"}}", ip_key);
	} else {
		want.offered = req->op == XPXE_STORE_HOLD;
		snprintf(want.by, sizeof(want.by), "%s", e->s->name);
		value = rec_lease_value(&want);
		v64 = value ? value_b64(value) : NULL;
		free(value);
		if (!v64) {
			free(t.s);
			return NULL;
		}
		add(&t,
		    "{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\",\"lease\":\"%lld\"}},"
		    "{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\",\"lease\":\"%lld\"}}",
		    mac_key, v64, want.offered ? lease : 0, ip_key, v64, want.offered ? lease : 0);
		free(v64);
		if (old_mac)
			add(&t, ",{\"request_delete_range\":{\"key\":\"%s\"}}", old_mac_key);
		if (old_ip)
			add(&t, ",{\"request_delete_range\":{\"key\":\"%s\"}}", old_ip_key);
	}
	add(&t,
	    "],\"failure\":[{\"request_range\":{\"key\":\"%s\"}},{\"request_range\":{\"key\":"
	    "\"%s\"}}]}",
	    mac_key, ip_key);
	if (t.failed) {
		free(t.s);
		return NULL;
	}
	return t.s;
}

/* On a failed transaction: who holds the MAC's key (INDEX 0) and the address's (1). */
static void read_holders(struct etcd *e, struct fy_node *root, struct xpxe_store_lease_req *req)
{
	for (int which = 0; which < 2; which++) {
		char path[64], name[200], why[200];
		struct wire_kv *kvs;
		int n;

		snprintf(path, sizeof(path), "/responses/%d/response_range/kvs", which);
		if (wire_kvs(root, path, &kvs, &n))
			continue;
		for (int i = 0; i < n; i++) {
			const char *rel = kvs[i].key + strlen(e->cfg->prefix);
			enum rec_kind kind = rec_kind_of(rel, name, sizeof(name));
			struct xpxe_store_lease *l = which ? &req->by_ip : &req->by_mac;

			if (rec_lease_parse(kind, name, kvs[i].value, l, why, sizeof(why))) {
				pthread_mutex_lock(&e->lock);
				refuse(e, rel, why);
				pthread_mutex_unlock(&e->lock);
				continue;
			}
			l->rev = kvs[i].mod_rev;
			*(which ? &req->have_by_ip : &req->have_by_mac) = true;
		}
		wire_kvs_free(kvs, n);
	}
}

/* The etcd lease this second's holds attach to (one grant a second at most). */
static long long hold_lease(struct etcd *e, unsigned ttl)
{
	time_t now = time(NULL);

	if (!e->hold_lease || now != e->hold_lease_at) {
		long long id;

		if (grant(e, &e->call_wire, ttl ? ttl : 30, &id))
			return 0;
		e->hold_lease = id;
		e->hold_lease_at = now;
	}
	return e->hold_lease;
}

void etcd_leases(struct etcd *e, struct xpxe_store_lease_req *reqs, int n, unsigned hold_ttl)
{
	struct wire_call *calls;
	long long lease = 0;
	bool holds = false, lost_it = false;

	for (int i = 0; i < n; i++) {
		reqs[i].err = -EAGAIN;
		reqs[i].have_by_ip = reqs[i].have_by_mac = false;
		holds |= reqs[i].op == XPXE_STORE_HOLD;
	}
	if (!n || !etcd_up(e))
		return;
	calls = calloc(n, sizeof(*calls));
	if (!calls)
		return;
	pthread_mutex_lock(&e->call_lock);
	if (holds && !(lease = hold_lease(e, hold_ttl))) {
		pthread_mutex_unlock(&e->call_lock);
		free(calls);
		lost(e);
		return;
	}
	for (int i = 0; i < n; i++) {
		calls[i].path = "/v3/kv/txn";
		calls[i].body = lease_txn(e, &reqs[i], lease);
	}
	wire_run(&e->call_wire, calls, n);
	pthread_mutex_unlock(&e->call_lock);
	for (int i = 0; i < n; i++) {
		struct fy_document *doc = wire_parse_reply(&calls[i]);
		bool succeeded = false;
		int err = calls[i].err;

		pthread_mutex_lock(&e->lock);
		count(e, &calls[i]);
		pthread_mutex_unlock(&e->lock);
		if (!err)
			err = txn_result(doc, &succeeded);
		if (err == -EPROTO) {
			const char *msg =
			    doc ? xpxe_json_str(fy_document_root(doc), "/message") : NULL;

			log_error("store: etcd refused a binding's transaction: %s",
				  msg ? msg : "no reason given");
			if (msg && strstr(msg, "lease not found"))
				e->hold_lease = 0; /* it ran out: grant another next time */
			err = -EIO;
		}
		if (!err && succeeded) {
			reqs[i].err = 0;
			reqs[i].rev = wire_revision(fy_document_root(doc));
		} else if (!err) {
			reqs[i].err = -EEXIST;
			read_holders(e, fy_document_root(doc), &reqs[i]);
			pthread_mutex_lock(&e->lock);
			e->stats.conflicts++;
			pthread_mutex_unlock(&e->lock);
		} else {
			reqs[i].err = err;
			lost_it |= err == -EAGAIN;
		}
		fy_document_destroy(doc);
		wire_call_free(&calls[i]);
		free(calls[i].body);
	}
	free(calls);
	if (lost_it)
		lost(e);
}

bool etcd_responder_alive(struct etcd *e, const char *name)
{
	bool alive = false;

	pthread_mutex_lock(&e->lock);
	for (int i = 0; i < e->n_responders && !alive; i++)
		alive = !strcmp(e->responders[i], name);
	pthread_mutex_unlock(&e->lock);
	return alive;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void etcd_status(struct etcd *e, struct fy_document *doc, struct fy_node *node)
{
	struct fy_node *eps = fy_node_create_sequence(doc), *resp = fy_node_create_sequence(doc);
	double lat[LATENCY_RING];
	unsigned n;

	for (int i = 0; i < e->cfg->n_endpoints; i++)
		fy_node_sequence_append(eps,
					fy_node_create_scalar_copy(doc, e->cfg->endpoints[i],
								   strlen(e->cfg->endpoints[i])));
	xpxe_json_add_node(node, "endpoints", eps);
	pthread_mutex_lock(&e->lock);
	xpxe_json_add_bool(node, "up", e->up);
	xpxe_json_add_str(node, "health", e->up ? "ok" : e->last_error);
	xpxe_json_add_u64(node, "since", (unsigned long long)e->state_since);
	xpxe_json_add_u64(node, "revision", (unsigned long long)e->revision);
	xpxe_json_add_u64(node, "machines", e->n_machines);
	xpxe_json_add_u64(node, "marks", e->n_marks);
	xpxe_json_add_u64(node, "pending_marks", e->n_pending);
	xpxe_json_add_u64(node, "requests", e->stats.requests);
	xpxe_json_add_u64(node, "errors", e->stats.errors);
	xpxe_json_add_u64(node, "conflicts", e->stats.conflicts);
	xpxe_json_add_u64(node, "refused", e->stats.refused);
	xpxe_json_add_u64(node, "resyncs", e->stats.resyncs);
	for (int i = 0; i < e->n_responders; i++)
		fy_node_sequence_append(resp, fy_node_create_scalar_copy(doc, e->responders[i],
									 strlen(e->responders[i])));
	n = e->n_latency < LATENCY_RING ? e->n_latency : LATENCY_RING;
	memcpy(lat, e->latency, n * sizeof(*lat));
	pthread_mutex_unlock(&e->lock);
	xpxe_json_add_node(node, "responders", resp);
	qsort(lat, n, sizeof(*lat), cmp_double);
	/* Of the last LATENCY_RING requests, in microseconds. */
	xpxe_json_add_u64(node, "latency_p50_us", n ? (unsigned long long)(lat[n / 2] * 1e6) : 0);
	xpxe_json_add_u64(node, "latency_p99_us",
			  n ? (unsigned long long)(lat[n * 99 / 100] * 1e6) : 0);
}

void etcd_metrics(struct etcd *e, FILE *f)
{
	struct store_stats st;
	bool up;
	int pending, responders;
	unsigned long long cum = 0;

	pthread_mutex_lock(&e->lock);
	st = e->stats;
	up = e->up;
	pending = e->n_pending;
	responders = e->n_responders;
	pthread_mutex_unlock(&e->lock);
	fprintf(f,
		"# HELP xpxe_store_up Whether the store answers (1) or not (0)\n"
		"# TYPE xpxe_store_up gauge\nxpxe_store_up{backend=\"etcd\"} %d\n",
		up);
	fprintf(f,
		"# HELP xpxe_store_requests_total Requests made to etcd\n"
		"# TYPE xpxe_store_requests_total counter\nxpxe_store_requests_total %llu\n"
		"# HELP xpxe_store_errors_total Requests to etcd that failed (no answer, or "
		"refused)\n# TYPE xpxe_store_errors_total counter\nxpxe_store_errors_total %llu\n"
		"# HELP xpxe_store_conflicts_total Transactions that lost a race (address or MAC "
		"taken)\n# TYPE xpxe_store_conflicts_total counter\n"
		"xpxe_store_conflicts_total %llu\n"
		"# HELP xpxe_store_refused_total Values under the prefix refused (corrupt or "
		"foreign)\n# TYPE xpxe_store_refused_total counter\n"
		"xpxe_store_refused_total %llu\n"
		"# HELP xpxe_store_resyncs_total Times the whole prefix was read again\n"
		"# TYPE xpxe_store_resyncs_total counter\nxpxe_store_resyncs_total %llu\n"
		"# HELP xpxe_store_pending_marks Boot-once marks waiting for etcd\n"
		"# TYPE xpxe_store_pending_marks gauge\nxpxe_store_pending_marks %d\n"
		"# HELP xpxe_store_responders Responders alive in the store\n"
		"# TYPE xpxe_store_responders gauge\nxpxe_store_responders %d\n",
		st.requests, st.errors, st.conflicts, st.refused, st.resyncs, pending, responders);
	fprintf(f, "# HELP xpxe_store_request_seconds Time of one request to etcd\n"
		   "# TYPE xpxe_store_request_seconds histogram\n");
	for (int i = 0; i < STORE_BUCKETS; i++) {
		cum += st.bucket[i];
		fprintf(f, "xpxe_store_request_seconds_bucket{le=\"%g\"} %llu\n",
			store_bucket_le[i], cum);
	}
	cum += st.bucket[STORE_BUCKETS];
	fprintf(f,
		"xpxe_store_request_seconds_bucket{le=\"+Inf\"} %llu\n"
		"xpxe_store_request_seconds_sum %.6f\nxpxe_store_request_seconds_count %llu\n",
		cum, st.seconds_sum, st.requests);
}
