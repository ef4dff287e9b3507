/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_WATCH_H
#define XPXE_WATCH_H

#include <stdbool.h>

/* The fleet, redrawn every INTERVAL_MS on a terminal; events as lines otherwise. */
int xpxe_cli_watch(const char *socket_path, bool once, unsigned int interval_ms);

/*
 * The events of MACHINE (a MAC, hostname, UUID or serial: the daemon resolves it to
 * the machine's MACs) as they come; ONCE: those so far, then exit.
 */
int xpxe_cli_trace(const char *socket_path, const char *machine, bool once);

#endif /* XPXE_WATCH_H */
