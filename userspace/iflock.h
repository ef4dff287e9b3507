/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_IFLOCK_H
#define XPXE_IFLOCK_H

#include <sys/types.h>

/*
 * One xpxe process at a time owns an interface: it holds an flock on
 * /run/xpxe/lock/IFNAME, which the kernel releases when the process dies, so a
 * crashed daemon never blocks its successor.
 *
 * Returns the lock's fd, or -EBUSY with *OWNER set to the holder's pid (0 if unknown),
 * or another negative errno.
 */
int xpxe_iflock_take(const char *ifname, pid_t *owner);

/* Drops the lock and removes its file. */
void xpxe_iflock_release(int fd, const char *ifname);

#endif /* XPXE_IFLOCK_H */
