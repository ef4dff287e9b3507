// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xpxe.h"
#include "iflock.h"

#define LOCK_DIR XPXE_RUN_DIR "/lock"

static void lock_path(char *buf, size_t size, const char *ifname)
{
	snprintf(buf, size, "%s/%s", LOCK_DIR, ifname);
}

int xpxe_iflock_take(const char *ifname, pid_t *owner)
{
	char path[128], pidtext[24];
	struct stat held, named;
	ssize_t n;
	int fd;

	*owner = 0;
	if ((mkdir(XPXE_RUN_DIR, 0755) && errno != EEXIST) ||
	    (mkdir(LOCK_DIR, 0700) && errno != EEXIST))
		return -errno;
	lock_path(path, sizeof(path), ifname);
retry:
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		n = pread(fd, pidtext, sizeof(pidtext) - 1, 0);
		if (n > 0) {
			pidtext[n] = '\0';
			*owner = (pid_t)strtol(pidtext, NULL, 10);
		}
		close(fd);
		return err;
	}
	/* The holder we waited on may have unlinked this file: then lock the new one. */
	if (fstat(fd, &held) || stat(path, &named) || held.st_ino != named.st_ino) {
		close(fd);
		goto retry;
	}
	n = snprintf(pidtext, sizeof(pidtext), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pidtext, n, 0) != n) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void xpxe_iflock_release(int fd, const char *ifname)
{
	char path[128];

	if (fd < 0)
		return;
	/* Unlink while still holding the lock, so nobody can lock the old file in between. */
	lock_path(path, sizeof(path), ifname);
	unlink(path);
	close(fd);
}
