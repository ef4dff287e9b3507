// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "xpxe.h"
#include "log.h"
#include "pins.h"

int xpxe_bpffs_ensure(void)
{
	struct statfs st;

	if (!statfs(XPXE_BPFFS_ROOT, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", XPXE_BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		int err = -errno;

		log_error("cannot mount bpffs on %s: %s", XPXE_BPFFS_ROOT, strerror(errno));
		return err;
	}
	log_info("mounted bpffs on %s", XPXE_BPFFS_ROOT);
	return 0;
}

int xpxe_pin_path(char *buf, size_t size, const char *ifname, const char *leaf)
{
	int n;

	if (leaf)
		n = snprintf(buf, size, "%s/%s/%s", XPXE_PIN_ROOT, ifname, leaf);
	else
		n = snprintf(buf, size, "%s/%s", XPXE_PIN_ROOT, ifname);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int mkdir_exist_ok(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int xpxe_pin_dir_create(const char *ifname)
{
	char dir[256];
	int err;

	err = xpxe_pin_path(dir, sizeof(dir), ifname, NULL);
	if (!err)
		err = mkdir_exist_ok(XPXE_PIN_ROOT);
	if (!err)
		err = mkdir_exist_ok(dir);
	if (err)
		log_error("cannot create pin folder %s: %s", dir, strerror(-err));
	return err;
}

bool xpxe_pin_dir_exists(const char *ifname)
{
	char dir[256];
	struct stat st;

	return !xpxe_pin_path(dir, sizeof(dir), ifname, NULL) && !stat(dir, &st) &&
	       S_ISDIR(st.st_mode);
}

int xpxe_pin_dir_remove(const char *ifname)
{
	char dir[256], leaf[512];
	struct dirent *ent;
	DIR *d;
	int err = 0;

	if (xpxe_pin_path(dir, sizeof(dir), ifname, NULL))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((ent = readdir(d))) {
		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		snprintf(leaf, sizeof(leaf), "%s/%s", dir, ent->d_name);
		if (unlink(leaf) && errno != ENOENT) {
			err = -errno;
			log_error("cannot remove pin %s: %s", leaf, strerror(errno));
		}
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT) {
		err = -errno;
		log_error("cannot remove pin folder %s: %s", dir, strerror(errno));
	}
	/* The shared root goes too once the last interface is gone. */
	rmdir(XPXE_PIN_ROOT);
	return err;
}
