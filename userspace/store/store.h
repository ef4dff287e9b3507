/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_STORE_H
#define XPXE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <netinet/in.h>

struct fy_document;
struct fy_node;

/*
 * Where the truth that several responders must agree on lives: machines added with
 * `xpxe machines add`, boot-once marks, full mode's bindings (and which responder made
 * each), and each responder's liveness. Two backends:
 *
 * - files (the default): this host's own files under the state folder, as always;
 *   nothing else to run, nothing shared. The callers' file writes are the durable step
 *   and every call below succeeds at once.
 * - etcd: an etcd cluster (v3 API, through its JSON gateway over HTTP with libcurl) is the
 *   truth; the same files stay as the local copy each responder serves from when etcd
 *   is away. A thread keeps a watch on the prefix: changes made anywhere arrive here
 *   (xpxe_store_take) within a second. Bindings are made by transactions that fail when
 *   the address or the MAC is taken. While etcd cannot be reached, calls that need it
 *   fail at once (-EAGAIN); boot-once marks are queued and written when it is back.
 *
 * Keys below the prefix (default /xpxe/): machines/KEY, installed/KEY, leases/ip/IP,
 * leases/mac/MAC, responders/NAME. Values are JSON objects with "xpxe": KIND and
 * "v": 1; anything else under the prefix is refused with a log line, never applied.
 */

#define XPXE_STORE_URL_MAX	 512
#define XPXE_STORE_PATH_MAX	 256
#define XPXE_STORE_NAME_MAX	 64
#define XPXE_STORE_KEY_MAX	 80 /* a boot-once key: "mac:aa:bb:cc:dd:ee:ff", "uuid:..." */
#define XPXE_STORE_MAX_ENDPOINTS 8
#define XPXE_STORE_PREFIX	 "/xpxe/"
#define XPXE_STORE_TIMEOUT_MS	 2000 /* one request to etcd, at most */
#define XPXE_STORE_LIVENESS_TTL	 10   /* seconds a responder stays listed after its last word */

enum xpxe_store_backend {
	XPXE_STORE_FILES = 0,
	XPXE_STORE_ETCD,
};

/* The `store:` key of xpxe.yaml(5), or `--store URL`. */
struct xpxe_store_cfg {
	enum xpxe_store_backend backend;
	char url[XPXE_STORE_URL_MAX]; /* as given: "files" or "etcd://HOST:PORT[,HOST:PORT...]" */
	char endpoints[XPXE_STORE_MAX_ENDPOINTS][128]; /* http(s)://HOST:PORT */
	int n_endpoints;
	char prefix[128];		/* ends with '/' */
	char name[XPXE_STORE_NAME_MAX]; /* this responder; "" = HOSTNAME-FIRST_INTERFACE */
	char ca[XPXE_STORE_PATH_MAX];	/* client TLS: the CA that signed etcd's certificate */
	char cert[XPXE_STORE_PATH_MAX]; /* ... this client's certificate and key */
	char key[XPXE_STORE_PATH_MAX];
	unsigned timeout_ms;
};

/* The files backend, default prefix and timeout. */
void xpxe_store_cfg_default(struct xpxe_store_cfg *cfg);

/*
 * Parses URL ("files", "etcd://H:P[,H:P...]"; https is used when cfg->ca or cert is set,
 * see xpxe_store_cfg_finish) into CFG. -EINVAL with WHY filled on a bad URL.
 */
int xpxe_store_parse_url(struct xpxe_store_cfg *cfg, const char *url, char *why, size_t size);

/* Settles the endpoints' scheme once the TLS options are known; checks the prefix. */
int xpxe_store_cfg_finish(struct xpxe_store_cfg *cfg, char *why, size_t size);

/* A full-mode binding as the store holds it. */
struct xpxe_store_lease {
	unsigned char mac[6];
	struct in_addr ip;
	time_t expires;
	bool offered;		      /* only held for a REQUEST (expires with an etcd lease) */
	char by[XPXE_STORE_NAME_MAX]; /* the responder that made it */
	long long rev;		      /* etcd's mod revision of the pair; 0 unknown */
};

/* A boot-once mark: KEY boots its disk since WHEN. */
struct xpxe_store_mark {
	char key[XPXE_STORE_KEY_MAX];
	time_t when;
	char by[XPXE_STORE_NAME_MAX];
};

/* A machine added at run time: KEY (its boot-once key) and its machines.yaml mapping. */
struct xpxe_store_machine {
	char key[XPXE_STORE_KEY_MAX];
	char *json; /* one line of JSON, as STATE_DIR/machines.yaml holds it */
	long long rev;
};

/* A change to the bindings that came from the store: a PUT, or the delete of IP's pair. */
struct xpxe_store_lease_change {
	bool deleted;
	struct xpxe_store_lease lease; /* a delete fills ip and rev only */
};

/* What changed in the store since the last xpxe_store_take (each part owned by the caller). */
struct xpxe_store_changes {
	bool machines_changed; /* MACHINES is then the whole set */
	struct xpxe_store_machine *machines;
	int n_machines;
	bool marks_changed; /* MARKS is then the whole set */
	struct xpxe_store_mark *marks;
	int n_marks;
	bool leases_snapshot;	/* LEASES is the whole set (a resync), not changes */
	long long snapshot_rev; /* ... as of this revision: newer bindings are not in it */
	struct xpxe_store_lease_change *leases;
	int n_leases;
};

/* One transaction on a binding (xpxe_store_leases). */
enum xpxe_store_lease_op {
	XPXE_STORE_HOLD,    /* an offer: both keys new (or REPLACED's, same revision), etcd lease */
	XPXE_STORE_BIND,    /* the REQUEST: the held pair (at want.rev) becomes a binding */
	XPXE_STORE_RELEASE, /* a DECLINE, a reservation now: the pair at want.rev goes */
};

struct xpxe_store_lease_req {
	enum xpxe_store_lease_op op;
	struct xpxe_store_lease want;
	bool replace; /* HOLD: take over REPLACED's pair (expired, moved) */
	struct xpxe_store_lease replaced;
	/* results */
	int err;       /* 0 done; -EEXIST refused (what holds the keys below); -EAGAIN store away */
	long long rev; /* the new revision when done */
	bool have_by_mac, have_by_ip; /* on -EEXIST: what holds the MAC, the address */
	struct xpxe_store_lease by_mac, by_ip;
};

struct xpxe_store;

/*
 * Opens the store of CFG for the responder serving IFNAMES (its default name). The etcd
 * backend starts its thread, which connects, registers this responder and watches; it does
 * not wait for etcd (the daemon serves its local copy meanwhile). -errno and a log line.
 */
int xpxe_store_open(struct xpxe_store **out, const struct xpxe_store_cfg *cfg,
		    const char *first_ifname);
void xpxe_store_close(struct xpxe_store *s);

/* True for a store other responders share (etcd): bindings then go through it. */
bool xpxe_store_shared(const struct xpxe_store *s);
/* True while the store answers (files: always). */
bool xpxe_store_up(const struct xpxe_store *s);
/* This responder's name in the store. */
const char *xpxe_store_name(const struct xpxe_store *s);

/* An fd that turns readable when changes wait for xpxe_store_take; -1 for files. */
int xpxe_store_fd(const struct xpxe_store *s);
/* Takes what changed (see struct xpxe_store_changes); free it with xpxe_store_changes_free. */
void xpxe_store_take(struct xpxe_store *s, struct xpxe_store_changes *out);
void xpxe_store_changes_free(struct xpxe_store_changes *c);

/*
 * Machines added or removed with `xpxe machines add/rm`: written to the store before the
 * daemon applies them. ADD fails with -EEXIST when another responder added KEY first.
 */
int xpxe_store_put_machine(struct xpxe_store *s, const char *key, const char *json);
int xpxe_store_delete_machine(struct xpxe_store *s, const char *key);

/*
 * Boot-once: KEY marked (INSTALLED) or re-armed. Never waits for etcd: queued, and written
 * by the store's thread at once, or when etcd is back. Safe from any thread.
 */
void xpxe_store_mark(struct xpxe_store *s, const char *key, bool installed, time_t when);

/*
 * Runs REQS (holds, binds, releases) against the store, all at once; each gets its own
 * result. HOLD_TTL: seconds a held offer lives. Files: every request succeeds at once.
 */
void xpxe_store_leases(struct xpxe_store *s, struct xpxe_store_lease_req *reqs, int n,
		       unsigned hold_ttl);

/* True when responder NAME is alive (its liveness key is there); files: only this one. */
bool xpxe_store_responder_alive(struct xpxe_store *s, const char *name);

/* `xpxe status`: backend, endpoints, health, errors, latency, responders. */
void xpxe_store_status(struct xpxe_store *s, struct fy_document *doc, struct fy_node *node);
/* /metrics: xpxe_store_* lines. */
void xpxe_store_metrics(struct xpxe_store *s, void *file);

/* `xpxe store ...`: migrate between the backends. Returns the exit code. */
int xpxe_store_command(int argc, char **argv);
extern const char xpxe_store_usage[];

#endif /* XPXE_STORE_H */
