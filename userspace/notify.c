// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sd_notify(3) in a few lines: one more library (libsystemd) for one datagram
 * would be a poor trade, and the protocol is stable and documented.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static int send_state(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len, n = strlen(state);
	ssize_t sent;
	int fd, err = 0;

	if (!name || !*name)
		return 0;
	len = strlen(name);
	/* A path (absolute) or an abstract name; systemd 254's "vsock:" is not for us. */
	if ((name[0] != '/' && name[0] != '@') || len < 2)
		return -EAFNOSUPPORT;
	if (len > sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, name, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: the length below, not a NUL, ends it */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, state, n, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		      offsetof(struct sockaddr_un, sun_path) + len);
	if (sent < 0)
		err = -errno;
	else if ((size_t)sent != n)
		err = -EMSGSIZE;
	close(fd);
	return err ? err : 1;
}

int xpxe_notify(const char *state)
{
	int err = send_state(state);

	/* systemd would wait for READY=1 until its start timeout: say why it never came. */
	if (err < 0)
		log_warn("cannot notify the service manager (NOTIFY_SOCKET=%s) of %.*s: %s",
			 getenv("NOTIFY_SOCKET"), (int)strcspn(state, "\n"), state, strerror(-err));
	return err;
}
