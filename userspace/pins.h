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

#endif /* XPXE_PINS_H */
