/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_CTL_H
#define XPXE_CTL_H

#include <stddef.h>

/*
 * The control socket: a unix stream socket, root-only, one JSON request line
 * per connection answered by one JSON reply line.
 */

#define XPXE_CTL_MAX_MSG (1 << 20)

/*
 * Binds PATH, refusing with -EADDRINUSE when a live daemon answers there
 * (a stale socket left by a crash is replaced). Returns the listening fd.
 */
int xpxe_ctl_listen(const char *path);

/* Reads one request from an accepted connection FD into a malloc'd string. */
int xpxe_ctl_read_request(int fd, char **request);

/* Writes REPLY and a newline to FD. */
int xpxe_ctl_write_reply(int fd, const char *reply);

/*
 * Sends REQUEST to the daemon at PATH and returns its reply (malloc'd) in *REPLY.
 * -ENOENT or -ECONNREFUSED mean no daemon listens there.
 */
int xpxe_ctl_request(const char *path, const char *request, char **reply);

#endif /* XPXE_CTL_H */
