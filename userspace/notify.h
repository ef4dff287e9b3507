/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_NOTIFY_H
#define XPXE_NOTIFY_H

/*
 * The service manager's readiness protocol (sd_notify(3)) without libsystemd:
 * sends STATE (e.g. "READY=1", "STOPPING=1", lines joined by '\n') as one
 * datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, a path or, when it
 * starts with '@', an abstract name. Returns 1 when sent, 0 when
 * $NOTIFY_SOCKET is unset or empty (not run by systemd with Type=notify),
 * or a negative errno.
 */
int xpxe_notify(const char *state);

#endif /* XPXE_NOTIFY_H */
