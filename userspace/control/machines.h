/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_MACHINES_H
#define XPXE_MACHINES_H

#include <libfyaml.h>

#include "config.h"
#include "dhcp/dhcp.h"
#include "http/http.h"
#include "inventory.h"

/*
 * The control socket's machine commands: list, show, add, rm, mark-installed
 * and rearm. Machines added at run time join the config's (marked added),
 * are written to STATE_DIR/machines.yaml before the answer, and reach the
 * DHCP maps of every interface at once. Errors carry a "code" the CLI turns
 * into its exit code: not_found, invalid, conflict, in_config.
 */
struct xpxe_machines_ctl {
	struct xpxe_config *cfg;
	struct xpxe_inventory *inv;
	struct xpxe_http *http;
	struct xpxe_dhcp_server *dhcp[XPXE_CFG_MAX_INTERFACES]; /* each served interface */
	int n_dhcp;
	struct xpxe_store *store; /* machines added go there first (etcd); NULL: files only */
};

/*
 * Answers CMD: "machines" (the list), "machine-show", "machine-add", "machine-rm",
 * "mark-installed" or "rearm". False when CMD is none of those.
 */
bool xpxe_machines_reply(struct xpxe_machines_ctl *c, const char *cmd, struct fy_document *doc,
			 struct fy_node *request, struct fy_node *reply);

/*
 * The MACs (at most MAX) of the machine MACHINE names (a MAC, hostname, UUID or
 * serial; a MAC outside the inventory stands for itself): how many, or -ENOENT
 * with *WHY.
 */
int xpxe_machines_macs(struct xpxe_machines_ctl *c, const char *machine, char (*macs)[18], int max,
		       const char **why);

/*
 * The store's machines (the whole set of machines added at run time, by any responder):
 * those this responder lacks are added, those gone from the store removed, each checked
 * as `machines add` checks it (one that fails is refused with a log line, never applied);
 * STATE_DIR/machines.yaml follows as this responder's copy.
 */
void xpxe_machines_sync(struct xpxe_machines_ctl *c, const struct xpxe_store_machine *machines,
			int n);

/* The inventory's names, for the fleet view (those no longer in it are dropped). */
void xpxe_machines_name(const struct xpxe_config *cfg);

#endif /* XPXE_MACHINES_H */
