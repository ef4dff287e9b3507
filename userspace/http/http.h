/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_HTTP_H
#define XPXE_HTTP_H

#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <netinet/in.h>

#include "http/admit.h"
#include "http/render.h"
#include "config.h"
#include "inventory.h"

/*
 * The HTTP side (libmicrohttpd, epoll and a pool of threads, so a boot storm
 * never waits on one slow client):
 *   GET /boot.ipxe[?mac=..&uuid=..&serial=..]   the chain script, or a machine's script
 *   GET|HEAD /assets/NAME                        a file, zero-copy, with Range; a GET of
 *                                                a large one waits its turn (admit.h)
 *   GET /talos/config?mac=..&uuid=..&serial=..&hostname=..   a machine's Talos config
 *   GET /metrics                                  Prometheus text: counters, HTTP, inventory
 *   GET|HEAD /uki/NAME                            a profile's UKI, unless the machine asking
 *                                                 is installed (boot-once: 404, next option)
 * The same on HTTPS (http.tls_cert, tls_key) when it is on; configs may be
 * refused over plain HTTP (http.config_over_http: refuse).
 */

/* What HTTP reads of each interface's data plane: bindings (who holds which address), counters. */
struct xpxe_http_leases {
	int clients_fds[8];  /* dhcp_clients map of each interface */
	int counters_fds[8]; /* its per-CPU counters, for /metrics */
	char ifnames[8][16];
	int n;
	/* More /metrics lines, from the daemon's side (its DHCPv6 servers'); NULL: none. */
	void (*more_metrics)(FILE *f, void *ctx);
	void *more_ctx;
};

struct xpxe_http_stats {
	unsigned long long scripts, local_boots, assets, asset_bytes, configs, refused, not_found;
	unsigned long long refused_no_address; /* 403: no address known (of refused) */
	unsigned long long configs_no_address; /* served with no address known (serve) */
	/* connections: accepted, refused at the per-address or the total limit, and closed
	 * after the idle timeout without one complete request (slow clients, slowloris) */
	unsigned long long conn_accepted, conn_refused_per_ip, conn_refused_total, conn_timed_out;
	unsigned long long asset_changed; /* refused: the file is no longer what was loaded */
	/* iPXE scripts refused: the profile has no files for the machine's architecture */
	unsigned long long no_arch_files;
	unsigned long long refused_plain; /* configs refused over plain HTTP (of refused) */
	unsigned long long ukis;	  /* UKIs sent from /uki/ */
	/* configs refused: asked over another network (VLAN) than the machine's own */
	unsigned long long refused_other_vlan;
	/* requests to a local address that is neither the listener's nor a VLAN's (closed) */
	unsigned long long wrong_address;
};

/* A connection being served; slots of an array, so its limits can be counted. */
struct xpxe_http_conn {
	bool used;
	struct in6_addr src; /* IPv4 as ::ffff:a.b.c.d */
	double started;	     /* 0: accepted, MHD has not started it yet */
	unsigned requests;
};

struct xpxe_tls;

/* IPv6 addresses HTTP listens on besides its IPv4 one: one per interface served. */
#define XPXE_HTTP_V6_MAX 8

struct xpxe_http {
	struct MHD_Daemon *mhd;
	struct MHD_Daemon *mhd_tls; /* HTTPS, when the config names a certificate */
	struct xpxe_tls *tls;
	struct xpxe_inventory *inv; /* its lock also guards CFG during a reload */
	const struct xpxe_config *cfg;
	struct xpxe_http_leases leases;
	char base[96]; /* http://ADDR:PORT as machines reach it over IPv4 */
	char tftp_base[80];
	char tls_base[112];    /* https://ADDR:PORT; "" without HTTPS */
	char config_base[112]; /* where talos.config= URLs point: HTTPS when it is on */
	/* With VLANs the listeners take every address; requests name their site (http.c) */
	bool any_addr;
	struct in_addr listen_ip;
	unsigned port, tls_port; /* tls_port 0: no HTTPS */
	/* IPv6 (xpxe_http_listen6): its URLs name the address each request arrived on. */
	struct MHD_Daemon *mhd6[XPXE_HTTP_V6_MAX], *mhd6_tls[XPXE_HTTP_V6_MAX];
	int n_mhd6;
	struct xpxe_http_stats stats;
	struct xpxe_http_limits limits;
	struct xpxe_admit admit;	     /* bulk downloads: the cap and its queue */
	struct xpxe_downloads_cfg downloads; /* as it started (a change needs a restart) */
	unsigned long long closed_answered;  /* held downloads answered 503 at the stop */
	pthread_mutex_t conns_lock;	     /* MHD's threads accept and close connections */
	struct xpxe_http_conn *conns;
	unsigned n_conns_slots, n_open;
};

/*
 * Listens on LISTEN ("ADDR:PORT"); BASE is the URL machines use. Returns 0 or
 * -errno after one log line that says why.
 */
int xpxe_http_start(struct xpxe_http *http, const char *listen, struct xpxe_inventory *inv,
		    const struct xpxe_config *cfg, const struct xpxe_http_leases *leases);
void xpxe_http_stop(struct xpxe_http *http);

/*
 * Listens on [ADDR] too, on the IPv4 listener's port (and HTTPS's, when it is on). The scripts
 * and talos.config= URLs a request over IPv6 gets name the address it arrived on, in brackets.
 * Bound even while ADDR is still tentative (duplicate address detection). 0 or -errno, logged
 * (the daemon goes on serving IPv4 then).
 */
int xpxe_http_listen6(struct xpxe_http *http, const struct in6_addr *addr);

/* Once a second, from the daemon's loop: downloads queued past downloads.max_wait go in. */
void xpxe_http_tick(struct xpxe_http *http);

/*
 * `xpxe reload`: reads CFG's certificate and key again; the next TLS handshake
 * gets them, sessions in flight keep theirs. Returns 0, or -errno with WHY
 * (the running certificate is kept).
 */
int xpxe_http_tls_reload(struct xpxe_http *http, const struct xpxe_config *cfg, char *why,
			 size_t why_size);

/*
 * The address the config of a machine goes to, 0 when xpxe knows none: its
 * lease or reservation (full mode), else the address it was seen booting
 * from. IDX is its index in the inventory, or -1 with MAC for a machine
 * outside it; KEY its boot-once key. *HOW says which, for messages; *BOUND
 * whether it is a binding xpxe gave. Call with the inventory's lock held.
 */
in_addr_t xpxe_http_config_address(struct xpxe_http *h, int idx, const char *mac, const char *key,
				   const char **how, bool *bound);

/* The document PATH (a file, or a folder of MAC.yaml + default.yaml) gives MAC. */
void xpxe_http_document_path(const char *path, const char *mac, char *out, size_t size);

/*
 * Whether the Talos document at PATH says `machine:` `type: controlplane` (or init): a
 * machine's rank in the download queue when its inventory gives it no role.
 */
bool xpxe_http_document_says_controlplane(const char *path);

/*
 * The place in a download queue of the machine at IP (its DHCP binding's MAC), else of MAC
 * (aa:bb:cc:dd:ee:ff, may be NULL: the frame's source, which behind a relay is the router's):
 * its inventory role, else what its Talos document says (enum xpxe_admit_rank), as an HTTP
 * download's. WHO gets its name when it has one, MAC_OUT the MAC it went by ("" none). TFTP's
 * admission asks (tftp.h, opts.rank); H not started: a worker.
 */
int xpxe_http_machine_rank(struct xpxe_http *h, struct in_addr ip, const char *mac, char *who,
			   size_t who_size, char mac_out[18]);

/* Bulk downloads waiting in the queue now (TFTP's admission asks: tftp.h, opts.backlog). */
unsigned xpxe_http_downloads_waiting(struct xpxe_http *h);

/* True when SRC may fetch configs under CFG's allow list (empty list: everyone). */
bool xpxe_http_allowed(const struct xpxe_config *cfg, struct in_addr src);

#endif /* XPXE_HTTP_H */
