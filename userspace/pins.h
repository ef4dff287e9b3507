/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_PINS_H
#define XPXE_PINS_H

#include <stdbool.h>
#include <stddef.h>

/* Mounts bpffs on /sys/fs/bpf when nothing is mounted there (as bpftool does). */
int xpxe_bpffs_ensure(void);

/* Writes /sys/fs/bpf/xpxe/IFNAME[/LEAF] into BUF. */
int xpxe_pin_path(char *buf, size_t size, const char *ifname, const char *leaf);

/* Creates /sys/fs/bpf/xpxe/IFNAME/. */
int xpxe_pin_dir_create(const char *ifname);

/* True when /sys/fs/bpf/xpxe/IFNAME/ exists. */
bool xpxe_pin_dir_exists(const char *ifname);

/* Removes every pin in /sys/fs/bpf/xpxe/IFNAME/ and the folder itself. */
int xpxe_pin_dir_remove(const char *ifname);

/*
 * A network namespace, as the kernel names it (/proc/PID/ns/net: the nsfs device and
 * inode). Pins are named by interface, and an interface's name (like its index) can
 * repeat in another namespace: each pin folder records the namespace of its interface,
 * so that a daemon or a detach run elsewhere never takes or removes another's.
 */
struct xpxe_netns {
	unsigned long long dev, ino;
};

#define XPXE_PIN_NETNS "netns" /* a one-entry array map holding struct xpxe_netns */

/* This process's network namespace. */
int xpxe_netns_self(struct xpxe_netns *ns);

/* A name for NS: "NAME" (ip netns), "the host's" (PID 1's), else "net:[INODE]". */
void xpxe_netns_describe(const struct xpxe_netns *ns, char *out, size_t size);

/* The netns /run/netns/NAME stands for, when NS is one; else "". */
void xpxe_netns_named(const struct xpxe_netns *ns, char *name, size_t size);

/* Records this process's network namespace in IFNAME's pin folder (replacing a record). */
int xpxe_pin_netns_write(const char *ifname);

/* The namespace IFNAME's pins record: 0, or -ENOENT when they record none. */
int xpxe_pin_netns_read(const char *ifname, struct xpxe_netns *ns);

/*
 * True when this process has a mount namespace of its own (not PID 1's) with no
 * bpffs on /sys/fs/bpf: as under `ip netns exec`, which mounts a fresh sysfs.
 * Pins made or looked for there are not the host's.
 */
bool xpxe_bpffs_private(void);

#endif /* XPXE_PINS_H */
