/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_CLI_H
#define XPXE_CLI_H

#include <stdbool.h>

/* Exit codes every subcommand uses, so scripts can tell the cases apart. */
enum xpxe_exit {
	XPXE_EXIT_OK = 0,
	XPXE_EXIT_ERROR = 1,	 /* the command ran and failed */
	XPXE_EXIT_USAGE = 2,	 /* bad flags or arguments */
	XPXE_EXIT_NO_DAEMON = 3, /* no daemon answers on the control socket */
	XPXE_EXIT_NOT_FOUND = 4, /* the interface (or object) named is not there */
	XPXE_EXIT_REFUSED = 5,	 /* refused: it clashes with the inventory, or is the file's */
};

/* One KEY VALUE of `machines add`, passed to the daemon as given. */
struct xpxe_cli_field {
	const char *key, *value;
};

int xpxe_cli_status(const char *socket_path, bool json, bool all);
int xpxe_cli_assets(const char *socket_path, bool json, bool reload);
int xpxe_cli_detach(const char *socket_path, const char *ifname);
int xpxe_cli_leases(const char *socket_path, bool json);
int xpxe_cli_machines(const char *socket_path, bool json);
int xpxe_cli_reload(const char *socket_path, bool json);
int xpxe_cli_machine_show(const char *socket_path, const char *machine, bool json);
int xpxe_cli_machine_add(const char *socket_path, const struct xpxe_cli_field *fields, int n,
			 bool json);
int xpxe_cli_machine_rm(const char *socket_path, const char *machine, bool json);
int xpxe_cli_mark_installed(const char *socket_path, const char *machine, bool json);
int xpxe_cli_rearm(const char *socket_path, const char *machine, bool json);

#endif /* XPXE_CLI_H */
