// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include <bpf/bpf.h>

#include "xpxe.h"
#include "log.h"
#include "pins.h"

static bool bpffs_mounted(void)
{
	struct statfs st;

	return !statfs(XPXE_BPFFS_ROOT, &st) && st.f_type == BPF_FS_MAGIC;
}

static bool same_ns(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* True when this process's mount namespace is not that of PROC (when it can be read). */
static bool other_mount_ns(const char *proc)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/ns/mnt", proc);
	return !stat(path, &st) && !same_ns("/proc/self/ns/mnt", path);
}

bool xpxe_bpffs_private(void)
{
	char parent[32];

	/* PID 1's namespace, or where it cannot be read (a container), the parent's: `ip netns
	 * exec` makes one for the command it runs. Unknown: not worth a warning. */
	snprintf(parent, sizeof(parent), "/proc/%d", (int)getppid());
	return !bpffs_mounted() && (other_mount_ns("/proc/1") || other_mount_ns(parent));
}

int xpxe_bpffs_ensure(void)
{
	bool private = xpxe_bpffs_private();

	if (bpffs_mounted())
		return 0;
	if (mount("bpf", XPXE_BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		int err = -errno;

		log_error("cannot mount bpffs on %s: %s", XPXE_BPFFS_ROOT, strerror(errno));
		return err;
	}
	log_info("mounted bpffs on %s", XPXE_BPFFS_ROOT);
	if (private)
		log_warn("%s is a bpffs of this process's own mount namespace (as under 'ip netns "
			 "exec', which mounts a sysfs of its own): the pins are private to it, so "
			 "a data plane left attached (SIGKILL, --keep-attached) cannot be adopted "
			 "or detached by a later xpxe; start the daemon with 'nsenter "
			 "--net=/run/netns/NAME xpxe serve ...' (network namespace only) to keep "
			 "them in the host's %s",
			 XPXE_BPFFS_ROOT, XPXE_BPFFS_ROOT);
	return 0;
}

int xpxe_netns_self(struct xpxe_netns *ns)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	ns->dev = st.st_dev;
	ns->ino = st.st_ino;
	return 0;
}

void xpxe_netns_named(const struct xpxe_netns *ns, char *name, size_t size)
{
	DIR *d = opendir("/run/netns");
	struct dirent *ent;
	char path[300];
	struct stat st;

	name[0] = '\0';
	while (d && (ent = readdir(d))) {
		snprintf(path, sizeof(path), "/run/netns/%s", ent->d_name);
		if (ent->d_name[0] != '.' && !stat(path, &st) && st.st_dev == ns->dev &&
		    st.st_ino == ns->ino) {
			snprintf(name, size, "%s", ent->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
}

void xpxe_netns_describe(const struct xpxe_netns *ns, char *out, size_t size)
{
	char name[256];
	struct stat st;

	xpxe_netns_named(ns, name, sizeof(name));
	if (name[0])
		snprintf(out, size, "%s", name);
	else if (!stat("/proc/1/ns/net", &st) && st.st_dev == ns->dev && st.st_ino == ns->ino)
		snprintf(out, size, "the host's");
	else
		snprintf(out, size, "net:[%llu]", ns->ino);
}

int xpxe_pin_netns_write(const char *ifname)
{
	struct xpxe_netns ns;
	char path[256];
	__u32 key = 0;
	int fd, err;

	err = xpxe_netns_self(&ns);
	if (!err)
		err = xpxe_pin_path(path, sizeof(path), ifname, XPXE_PIN_NETNS);
	if (err)
		return err;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xpxe_netns", sizeof(key), sizeof(ns), 1, NULL);
	if (fd < 0)
		return fd;
	err = bpf_map_update_elem(fd, &key, &ns, BPF_ANY) ? -errno : 0;
	unlink(path);
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	if (err)
		log_error("%s: cannot record the network namespace in %s: %s", ifname, path,
			  strerror(-err));
	return err;
}

int xpxe_pin_netns_read(const char *ifname, struct xpxe_netns *ns)
{
	char path[256];
	__u32 key = 0;
	int fd, err;

	err = xpxe_pin_path(path, sizeof(path), ifname, XPXE_PIN_NETNS);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	err = bpf_map_lookup_elem(fd, &key, ns) ? -ENOENT : 0;
	close(fd);
	return err;
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
