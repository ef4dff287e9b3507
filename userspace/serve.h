/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_SERVE_H
#define XPXE_SERVE_H

#include <stdbool.h>

#include "dhcp.h"

#define XPXE_MAX_IFACES 8

struct xpxe_serve_opts {
	const char *ifnames[XPXE_MAX_IFACES];
	int n_ifnames;
	const char *socket_path;
	bool allow_default_route;
	struct xpxe_dhcp_settings dhcp;
};

/* Runs the daemon in the foreground until SIGINT/SIGTERM. Returns the process exit code. */
int xpxe_serve(struct xpxe_serve_opts *opts);

#endif /* XPXE_SERVE_H */
