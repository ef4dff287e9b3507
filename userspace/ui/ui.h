/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_UI_H
#define XPXE_UI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "events.h"

/*
 * The fleet page: a read-only page that follows the fleet boot in a browser,
 * on a listener of its own (ui.listen, `serve --ui ADDR:PORT`; off by
 * default), open only to the networks of ui.allow (default: loopback), with
 * its own connection limit (ui.max_connections) and one thread of its own:
 * its clients never take a connection or a thread of the HTTP that machines
 * use, and never touch the data plane.
 *
 *   GET /                      the page (HTML, CSS and a script built into the binary)
 *   GET /style.css, /app.js
 *   GET /api/fleet?since=VERSION&epoch=EPOCH
 *       JSON of the machines whose view changed after the fleet's VERSION (all of
 *       them for 0, or when EPOCH is not this daemon's: it was restarted); the
 *       page asks once a second from the version of its last answer.
 *
 * Everything else gets 404; sources outside ui.allow get 403; both are counted
 * (/metrics: xpxe_ui_*).
 */

/*
 * Listens on CFG's ui.listen (nothing to do when it is ""); ui.allow is read
 * under CFG_LOCK at each request, so a reload that changes it applies at once.
 * Returns 0 or -errno after one log line that says why. One per process.
 */
int xpxe_ui_start(const struct xpxe_config *cfg, pthread_mutex_t *cfg_lock);
void xpxe_ui_stop(void);

/* The page's counters in Prometheus text (zeros while the page is off). */
void xpxe_ui_metrics(FILE *f);

/* A file of the page, built into the binary (userspace/ui/page/, embedded by the Makefile). */
struct xpxe_ui_file {
	const char *path; /* as requested: "/", "/app.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};

/* The file served at PATH, or NULL. */
const struct xpxe_ui_file *xpxe_ui_file(const char *path);

/* What an answer of /api/fleet says besides its machines. */
struct xpxe_ui_fleet_meta {
	uint64_t epoch;	  /* this daemon's: a page that saw another starts over */
	uint64_t version; /* ask from here next time */
	uint64_t now_ms;  /* the daemon's clock (CLOCK_REALTIME), for elapsed times */
	bool full;	  /* every machine: the page drops what it had */
};

/* The answer of /api/fleet for ROWS (N of them) as JSON text (free() it); NULL without memory. */
char *xpxe_ui_fleet_json(const struct xpxe_machine_view *rows, int n,
			 const struct xpxe_ui_fleet_meta *meta, size_t *len);

#endif /* XPXE_UI_H */
