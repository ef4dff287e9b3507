/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_JOURNAL_H
#define XPXE_JOURNAL_H

#include <stdbool.h>

/*
 * journald's native protocol (systemd.journal-fields(7), "Native Journal
 * Protocol"): one datagram per entry on /run/systemd/journal/socket, made of
 * KEY=value lines, so each event keeps its fields (XPXE_EVENT, XPXE_MAC, ...)
 * as fields that journalctl can match on.
 */

#define XPXE_JOURNAL_SOCKET "/run/systemd/journal/socket"

struct xpxe_log_field {
	const char *key; /* upper case, digits, '_'; not starting with '_' */
	const char *value;
};

/* Connects to journald's socket. Returns 0, or a negative errno when no journald listens. */
int xpxe_journal_open(void);

/* True when stderr is journald's own stream for this service ($JOURNAL_STREAM). */
bool xpxe_journal_is_stderr(void);

/*
 * Sends one entry: MESSAGE, PRIORITY (syslog level), SYSLOG_IDENTIFIER=xpxe
 * and FIELDS (empty values left out). Returns 0 or a negative errno.
 */
int xpxe_journal_send(int priority, const char *message, const struct xpxe_log_field *fields,
		      int n_fields);

#endif /* XPXE_JOURNAL_H */
