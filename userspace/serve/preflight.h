/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_PREFLIGHT_H
#define XPXE_PREFLIGHT_H

#include <stdbool.h>

#include "config.h"
#include "dhcp/dhcp.h"
#include "serve/serve.h"

/*
 * Everything `xpxe serve` can check before it touches an interface, so that a
 * typo never puts a half-configured responder on a network, not even for the
 * milliseconds between an attach and its undoing. `xpxe check` runs the same
 * functions and stops there; `xpxe reload` runs the checks of the files.
 */

/* What the checks of the host resolved, for serve to use as it attaches. */
struct xpxe_preflight {
	/* Per interface of the config, in its order: server address, URLs, leases file. */
	struct xpxe_dhcp_settings dhcp[XPXE_MAX_IFACES];
	char http_listen[64];	     /* ADDR:PORT */
	char https_listen[64];	     /* ADDR:PORT, "" without HTTPS */
	bool daemon_answers;	     /* check: a daemon answers on the control socket */
	pid_t busy[XPXE_MAX_IFACES]; /* check: the xpxe serving each interface now, or 0 */
};

/*
 * The files CFG names: each asset a readable regular file of at most 4 GiB - 1,
 * each talos_config a file or folder there whose documents use only known
 * {{placeholders}}. Returns 0, or -EINVAL with ERR "WHERE: what" (the config's
 * file:line:col, or the flag). A placeholder some machine would get empty
 * ({{hostname}} of a machine without one, {{ip}} outside full mode) is logged
 * as a warning naming the document's line and the machines.
 */
int xpxe_preflight_files(const struct xpxe_config *cfg, struct xpxe_config_error *err);

/*
 * The host: bpffs, the control socket, each interface (xpxe_dataplane_check), its
 * addresses (server IP here, the pool and reservations checked by the config
 * against its subnet), HTTP's ADDR:PORT and UDP port 69 (bound and let go), and
 * fills PF. Returns 0, or a negative errno after logging the problem. With
 * OPTS->check_only a running xpxe (on the socket, or serving an interface) is a
 * note in PF, not a problem, and nothing is mounted.
 */
int xpxe_preflight_host(const struct xpxe_config *cfg, const struct xpxe_serve_opts *opts,
			struct xpxe_preflight *pf);

/* `xpxe check`'s answer on stdout: what serve would serve, from CFG and PF. */
void xpxe_preflight_report(const struct xpxe_config *cfg, const struct xpxe_serve_opts *opts,
			   const struct xpxe_preflight *pf);

#endif /* XPXE_PREFLIGHT_H */
