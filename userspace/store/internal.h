/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_STORE_INTERNAL_H
#define XPXE_STORE_INTERNAL_H

/* Shared by the files of store/ only; the rest of xpxe sees store/store.h. */

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>

#include <curl/curl.h>

#include "store/store.h"

/* --- wire.c: etcd's v3 JSON gateway over HTTP (libcurl) ---------------------------------- */

#define WIRE_PARALLEL 16 /* requests in flight at once from one thread */

/* One thread's connections to etcd. */
struct wire {
	const struct xpxe_store_cfg *cfg;
	int current; /* the endpoint that answered last: tried first */
	CURLM *multi;
	CURL *easy[WIRE_PARALLEL]; /* reused: connections are kept alive */
};

struct wire_call {
	const char *path; /* "/v3/kv/txn" */
	char *body;	  /* owned by the caller */
	/* results */
	int err;     /* 0; -EAGAIN no endpoint answered; -EPROTO etcd said no (reply has why) */
	long http;   /* the status of the answer */
	char *reply; /* malloc'd, NUL-terminated */
	size_t reply_len;
	double seconds; /* how long it took, failovers included */
};

int wire_init(struct wire *w, const struct xpxe_store_cfg *cfg);
void wire_free(struct wire *w);
/* Runs CALLS at once (WIRE_PARALLEL at a time), each failing over across the endpoints. */
void wire_run(struct wire *w, struct wire_call *calls, int n);
void wire_call_free(struct wire_call *c);
/*
 * The answer of C as a JSON document, which takes C's reply over (libfyaml keeps pointers
 * into the text it parsed, so the text lives as long as the document); NULL if not JSON.
 */
struct fy_document *wire_parse_reply(struct wire_call *c);
/* The TLS and timeout options of CFG on one handle (the watch's uses them too). */
void wire_setup(CURL *easy, const struct xpxe_store_cfg *cfg, long timeout_ms);

/* base64 of LEN bytes into OUT (4 * ((LEN + 2) / 3) + 1 bytes). */
void b64_encode(const void *data, size_t len, char *out);
/* Decodes TEXT; returns the length, or -1 when it is not base64. OUT holds strlen(TEXT). */
long b64_decode(const char *text, unsigned char *out);
/* The etcd key that ends a range of every key starting with PREFIX. */
void range_end_of(const char *prefix, char *out, size_t size);

/* A JSON string literal of TEXT (quotes included), malloc'd. */
char *json_quote(const char *text);

/* One key-value from a range, a txn's range or a watch event (decoded). */
struct wire_kv {
	char key[512];
	char *value; /* NUL-terminated; NULL for a delete */
	size_t value_len;
	long long mod_rev, create_rev, lease;
};

/* The kvs of a range answer at PATH below ROOT ("/kvs", "/responses/0/response_range/kvs"). */
int wire_kvs(struct fy_node *root, const char *path, struct wire_kv **out, int *n);
void wire_kvs_free(struct wire_kv *kvs, int n);
long long wire_revision(struct fy_node *root); /* header.revision, 0 if none */

/* --- records.c: the values xpxe keeps under the prefix ------------------------------------- */

enum rec_kind {
	REC_FOREIGN = 0, /* not one of ours */
	REC_MACHINE,
	REC_MARK,
	REC_LEASE_IP,
	REC_LEASE_MAC,
	REC_RESPONDER,
};

/* What the key (below the prefix) says it is; its last part (the name) into NAME. */
enum rec_kind rec_kind_of(const char *rel_key, char *name, size_t size);

/* The boot-once key of machine mapping M ("mac:..." from its first MAC, else uuid:, ...). */
int rec_machine_key(struct fy_node *m, char *key, size_t size);

/* Values: malloc'd JSON. */
char *rec_machine_value(const char *json);
char *rec_mark_value(const struct xpxe_store_mark *m);
char *rec_lease_value(const struct xpxe_store_lease *l);
char *rec_responder_value(const char *name, const char *ifname, time_t started);

/*
 * Decodes VALUE of KIND stored under name NAME; 0, or -EINVAL with WHY (a clear reason:
 * not JSON, not xpxe's, another version, the key and the value disagree, a bad field).
 */
int rec_machine_parse(const char *name, const char *value, struct xpxe_store_machine *out,
		      char *why, size_t size);
int rec_mark_parse(const char *name, const char *value, struct xpxe_store_mark *out, char *why,
		   size_t size);
int rec_lease_parse(enum rec_kind kind, const char *name, const char *value,
		    struct xpxe_store_lease *out, char *why, size_t size);
int rec_responder_parse(const char *name, const char *value, char *why, size_t size);

/* --- the backends ---------------------------------------------------------------------------- */

/* Request latency histogram buckets (seconds), for /metrics. */
#define STORE_BUCKETS 10
extern const double store_bucket_le[STORE_BUCKETS];

struct store_stats {
	unsigned long long requests, errors, refused, conflicts, resyncs, marks_written;
	unsigned long long bucket[STORE_BUCKETS + 1]; /* the last: +Inf */
	double seconds_sum;
};

struct xpxe_store {
	struct xpxe_store_cfg cfg;
	char name[XPXE_STORE_NAME_MAX];
	char ifname[16];   /* the first interface served (in this responder's liveness record) */
	struct etcd *etcd; /* NULL: the files backend */
};

struct etcd;
int etcd_open(struct xpxe_store *s);
void etcd_close(struct etcd *e);
bool etcd_up(const struct etcd *e);
int etcd_fd(const struct etcd *e);
void etcd_take(struct etcd *e, struct xpxe_store_changes *out);
int etcd_put_machine(struct etcd *e, const char *key, const char *json);
int etcd_delete_machine(struct etcd *e, const char *key);
void etcd_mark(struct etcd *e, const char *key, bool installed, time_t when);
void etcd_leases(struct etcd *e, struct xpxe_store_lease_req *reqs, int n, unsigned hold_ttl);
bool etcd_responder_alive(struct etcd *e, const char *name);
void etcd_status(struct etcd *e, struct fy_document *doc, struct fy_node *node);
void etcd_metrics(struct etcd *e, FILE *f);

/* Counts one request of SECONDS (ERR: it failed) into ST. */
void store_stats_count(struct store_stats *st, double seconds, bool err);

#endif /* XPXE_STORE_INTERNAL_H */
