// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xpxe.skel.h"

#include "counters.h"
#include "dataplane.h"
#include "iflock.h"
#include "log.h"
#include "netif.h"
#include "pins.h"
#include "xpxe_dhcp.h"
#include "xpxe_tftp.h"

/* NAME is one of the two builds of xpxe's XDP program. */
static bool is_xpxe_prog(const char *name)
{
	return !strcmp(name, XPXE_PROG_NAME) || !strcmp(name, XPXE_PROG_NAME_FRAGS);
}

/*
 * Finds xpxe's program on IFINDEX and detaches it. Returns 1 when one was
 * detached, 0 when none is attached, -EEXIST when another tool's program
 * holds the interface alone (no dispatcher to share it through).
 */
static int detach_attached_xpxe(const char *ifname, int ifindex)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int err = 0;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (!p) {
			err = 0;
		} else if (!is_xpxe_prog(xdp_program__name(p))) {
			log_error("%s runs XDP program '%s' (id %u), which is not xpxe's; "
				  "detach it first (ip link set dev %s xdp off)",
				  ifname, xdp_program__name(p), xdp_program__id(p), ifname);
			err = -EEXIST;
		} else {
			err = xdp_multiprog__detach(mp);
			err = err ? err : 1;
		}
		goto out;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (!is_xpxe_prog(xdp_program__name(p)))
			continue;
		err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
		err = err ? err : 1;
		break;
	}
out:
	xdp_multiprog__close(mp);
	return err;
}

static int read_attachment(struct xpxe_dataplane *dp)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(dp->ifindex);

	if (libxdp_get_error(mp) || !mp)
		return -ENOENT;
	dp->native = xdp_multiprog__attach_mode(mp) == XDP_MODE_NATIVE;
	dp->dispatcher = !xdp_multiprog__is_legacy(mp);
	dp->prog_id = xdp_program__id(dp->prog);
	xdp_multiprog__close(mp);
	return 0;
}

static int set_map_pins(struct xpxe_bpf *skel, const char *ifname)
{
	struct bpf_map *map;
	char path[256];
	int err;

	/* libbpf reuses a map already pinned there, so a restarted daemon keeps its state. */
	bpf_object__for_each_map (map, skel->obj) {
		/*
		 * Not the tail calls' slots (bpf/dhcp6.h): a prog array belongs to the kind of
		 * program that first used it (before Linux 6.3 or so, the libxdp dispatcher's
		 * extension, not XDP), and a pinned one would refuse the next daemon's program
		 * of the other kind. Each daemon fills fresh ones.
		 */
		if (bpf_map__is_internal(map) || bpf_map__type(map) == BPF_MAP_TYPE_PROG_ARRAY)
			continue;
		err = xpxe_pin_path(path, sizeof(path), ifname, bpf_map__name(map));
		if (!err)
			err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/* The build id the pinned maps of IFNAME were made by; 0 when there is none (pins of a build
 * from before the layout map). */
static __u64 pinned_layout(const char *ifname)
{
	char path[256];
	__u32 key = 0;
	__u64 id = 0;
	int fd;

	if (xpxe_pin_path(path, sizeof(path), ifname, XPXE_PIN_LAYOUT))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &key, &id))
		id = 0;
	close(fd);
	return id;
}

static int write_layout(struct xpxe_dataplane *dp)
{
	__u32 key = 0;
	__u64 id = XPXE_LAYOUT_ID;
	int err =
	    bpf_map__update_elem(dp->skel->maps.layout, &key, sizeof(key), &id, sizeof(id), 0);

	if (err)
		log_error("%s: cannot record the build in the layout map: %s", dp->ifname,
			  strerror(-err));
	return err;
}

static int pin_program(struct xpxe_dataplane *dp)
{
	char path[256];
	int err;

	err = xpxe_pin_path(path, sizeof(path), dp->ifname, XPXE_PIN_PROG);
	if (err)
		return err;
	unlink(path); /* a previous daemon's pin of the program it ran */
	err = bpf_program__pin(dp->xdp, path);
	if (err)
		log_error("cannot pin the program at %s: %s", path, strerror(-err));
	return err;
}

/*
 * The kernel empties a prog array once no process and no pin holds it, even while the
 * attached program still uses it: without these pins, a daemon gone (--keep-attached, a
 * crash) would leave bound machines' DHCPv6 renewals unanswered (where IPv4's are answered
 * from XDP alone) and IPv6 TFTP blocks to tc. The next daemon unlinks them (the kernel frees
 * the old arrays once the old program is replaced) and pins its own: a pinned prog array
 * belongs to the kind of program that first used it, so it is never reused (set_map_pins).
 */
static void pin_tail_call(struct xpxe_dataplane *dp, struct bpf_map *map, const char *leaf)
{
	char path[256];

	if (xpxe_pin_path(path, sizeof(path), dp->ifname, leaf))
		return;
	unlink(path);
	if (bpf_obj_pin(bpf_map__fd(map), path))
		log_warn("%s: cannot pin the tail calls at %s (%s): while no daemon runs, they "
			 "are not made",
			 dp->ifname, path, strerror(errno));
}

static void pin_tail_calls(struct xpxe_dataplane *dp)
{
	struct xpxe_bpf *skel = dp->skel;

	pin_tail_call(dp,
		      dp->frags ? skel->maps.dhcp6_bound_prog_frags : skel->maps.dhcp6_bound_prog,
		      XPXE_PIN_TAIL_CALLS);
	pin_tail_call(dp, dp->frags ? skel->maps.tftp6_prog_frags : skel->maps.tftp6_prog,
		      XPXE_PIN_TAIL_CALLS_TFTP6);
}

static bool prog_is_named(__u32 prog_id, const char *name)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id);
	bool match;

	if (fd < 0)
		return false;
	match = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name);
	close(fd);
	return match;
}

/*
 * Removes xpxe's tc_tftp filter from IFINDEX's clsact ingress. Returns 1 when
 * one was removed, 0 when none is there. The clsact qdisc stays: other tools
 * may hang filters on it.
 */
static int detach_tc(const char *ifname, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XPXE_TFTP_TC_HANDLE,
		    .priority = XPXE_TFTP_TC_PRIO);
	int err;

	xpxe_log_hold_library_warnings();
	err = bpf_tc_query(&hook, &opts);
	xpxe_log_release_library_warnings(false);
	if (err || !prog_is_named(opts.prog_id, XPXE_TFTP_TC_PROG_NAME))
		return 0;
	opts.prog_id = 0;
	opts.prog_fd = 0;
	opts.flags = 0;
	err = bpf_tc_detach(&hook, &opts);
	if (err) {
		log_error("%s: cannot remove the tc filter of %s: %s", ifname,
			  XPXE_TFTP_TC_PROG_NAME, strerror(-err));
		return err;
	}
	return 1;
}

/*
 * tc_tftp on clsact ingress (the TFTP fallback, and proxy mode's PXE DISCOVERs: bpf/dhcp_tc.h),
 * replacing the one a previous daemon left.
 */
static int attach_tc(struct xpxe_dataplane *dp)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dp->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XPXE_TFTP_TC_HANDLE, .priority = XPXE_TFTP_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE, .prog_fd = bpf_program__fd(dp->skel->progs.tc_tftp));
	char path[256];
	int err;

	xpxe_log_hold_library_warnings();
	err = bpf_tc_hook_create(&hook);
	xpxe_log_release_library_warnings(err && err != -EEXIST);
	if (err && err != -EEXIST) {
		log_error("%s: cannot add a clsact qdisc for tc_tftp: %s", dp->ifname,
			  strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		log_error("%s: cannot attach %s on tc ingress: %s", dp->ifname,
			  XPXE_TFTP_TC_PROG_NAME, strerror(-err));
		return err;
	}
	dp->tc_prog_id = opts.prog_id;
	err = xpxe_pin_path(path, sizeof(path), dp->ifname, XPXE_TFTP_PIN_TC_PROG);
	if (err)
		return err;
	unlink(path);
	err = bpf_program__pin(dp->skel->progs.tc_tftp, path);
	if (err)
		log_error("cannot pin the program at %s: %s", path, strerror(-err));
	return err;
}

/* -EXDEV when IFNAME's pins record another network namespace than this one (logged). */
static int check_pins_netns(const char *ifname)
{
	struct xpxe_netns theirs, ours;
	char where[300], name[256];

	if (!xpxe_pin_dir_exists(ifname) || xpxe_pin_netns_read(ifname, &theirs) ||
	    xpxe_netns_self(&ours) || (theirs.dev == ours.dev && theirs.ino == ours.ino))
		return 0;
	xpxe_netns_describe(&theirs, where, sizeof(where));
	xpxe_netns_named(&theirs, name, sizeof(name));
	log_error("%s/%s/ holds the pins of an interface %s of network namespace %s, not this "
		  "one (pins are named by interface: one namespace at a time serves a name); "
		  "detach it there first: %s%s%sxpxe detach -i %s",
		  XPXE_PIN_ROOT, ifname, ifname, where,
		  name[0] ? "nsenter --net=/run/netns/" : "nsenter --net=NETNS_FILE ", name,
		  name[0] ? " " : "", ifname);
	return -EXDEV;
}

int xpxe_dataplane_check(const char *ifname, const struct xpxe_attach_opts *opts, pid_t *owner)
{
	unsigned int ifindex;
	int fd;

	*owner = 0;
	if (!xpxe_ifname_valid(ifname)) {
		log_error("'%s' is not a valid interface name", ifname);
		return -EINVAL;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		log_error("interface %s does not exist in this network namespace", ifname);
		return -ENODEV;
	}
	if (ifindex == XPXE_LOOPBACK_IFINDEX) {
		/* No PXE client is there, and the program takes its frames for re-runs. */
		log_error("refusing %s: it is the loopback device", ifname);
		return -EINVAL;
	}
	if (!opts->allow_default_route && xpxe_netif_carries_default_route(ifname)) {
		log_error("refusing %s: it carries the default route, so it is likely a production "
			  "network where a PXE responder would be a rogue DHCP server; "
			  "pass --allow-default-route if this is really the provisioning network",
			  ifname);
		return -EPERM;
	}
	/* Free, or whose: the daemon that holds it keeps it; we only looked. */
	fd = xpxe_iflock_take(ifname, owner);
	if (fd == -EBUSY)
		return -EBUSY;
	if (fd < 0) {
		log_error("cannot lock %s under %s: %s", ifname, XPXE_RUN_DIR, strerror(-fd));
		return fd;
	}
	xpxe_iflock_release(fd, ifname);
	return check_pins_netns(ifname);
}

static int check_interface(struct xpxe_dataplane *dp, const char *ifname,
			   const struct xpxe_attach_opts *opts)
{
	pid_t owner;
	int err = xpxe_dataplane_check(ifname, opts, &owner);

	if (err == -EBUSY)
		log_error("%s is already served by another xpxe (pid %d); stop it first, "
			  "or use 'xpxe detach -i %s'",
			  ifname, (int)owner, ifname);
	if (err)
		return err;
	snprintf(dp->ifname, sizeof(dp->ifname), "%s", ifname);
	dp->ifindex = if_nametoindex(ifname);
	dp->lock_fd = xpxe_iflock_take(ifname, &owner);
	if (dp->lock_fd == -EBUSY) {
		log_error("%s is already served by another xpxe (pid %d); stop it first, "
			  "or use 'xpxe detach -i %s'",
			  ifname, (int)owner, ifname);
		return -EBUSY;
	}
	if (dp->lock_fd < 0) {
		log_error("cannot lock %s under %s: %s", ifname, XPXE_RUN_DIR,
			  strerror(-dp->lock_fd));
		return dp->lock_fd;
	}
	return 0;
}

/*
 * Which build of the XDP program to load (bpf/xpxe.bpf.c): xdp_pxe_frags where the MTU exceeds
 * a standard frame's (a driver attaches a program without multi-buffer support only up to
 * about one page of MTU: veth ~3.5 KB, many NICs less); xdp_pxe everywhere else.
 */
static void choose_build(struct xpxe_dataplane *dp)
{
	unsigned mtu = xpxe_netif_mtu(dp->ifname);

	dp->frags = mtu > 1500;
	if (dp->frags)
		log_info("%s: MTU %u: attaching the multi-buffer build of the XDP program (%s)",
			 dp->ifname, mtu, XPXE_PROG_NAME_FRAGS);
}

/*
 * ERR, from an attach through the dispatcher, may be the dispatcher's doing, so that the
 * program alone may attach: -EINVAL from kernels that refuse xdp_pxe in Debian 12's
 * dispatcher; -ERANGE (the driver's "MTU too large") for xdp_pxe_frags where libxdp built
 * the dispatcher without multi-buffer support (measured: Linux 6.1 with libxdp 1.3.1).
 */
static bool dispatcher_may_be_why(const struct xpxe_dataplane *dp, int err)
{
	return err == -EINVAL || (err == -ERANGE && dp->frags);
}

/* Whether the libxdp dispatcher on IFINDEX holds xpxe's program and nothing else; its
 * attach mode in MODE. */
static bool dispatcher_holds_only_xpxe(int ifindex, enum xdp_attach_mode *mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int n = 0, others = 0;

	if (libxdp_get_error(mp) || !mp)
		return false;
	if (!xdp_multiprog__is_legacy(mp))
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			n++;
			others += !is_xpxe_prog(xdp_program__name(p));
		}
	*mode = xdp_multiprog__attach_mode(mp);
	xdp_multiprog__close(mp);
	return n == 1 && !others;
}

/* Puts PROG in slot 0 of the program array MAP. 0 or -errno. */
static int set_tail_call(struct bpf_map *map, struct bpf_program *prog)
{
	int fd = bpf_program__fd(prog);
	__u32 zero = 0;

	if (fd < 0)
		return -EBADF;
	return bpf_map_update_elem(bpf_map__fd(map), &zero, &fd, BPF_ANY) ? -errno : 0;
}

int xpxe_dataplane_set_tail_calls(struct xpxe_bpf *skel, bool frags)
{
	int err =
	    set_tail_call(frags ? skel->maps.dhcp6_bound_prog_frags : skel->maps.dhcp6_bound_prog,
			  frags ? skel->progs.xdp_dhcp6_bound_frags : skel->progs.xdp_dhcp6_bound);

	if (err)
		return err;
	return set_tail_call(frags ? skel->maps.tftp6_prog_frags : skel->maps.tftp6_prog,
			     frags ? skel->progs.xdp_tftp6_frags : skel->progs.xdp_tftp6);
}

/* libxdp reads it when it attaches: set, it attaches the program alone. */
#define SKIP_DISPATCHER "LIBXDP_SKIP_DISPATCHER"

/* load_and_attach's "attached through the dispatcher, whose extension may not tail call:
 * detached again, try alone". */
#define RETRY_ALONE 1

/*
 * Opens the embedded object, with its maps pinned (or reused) under the interface's pin
 * directory, and attaches xdp_pxe through libxdp: as a dispatcher component where the kernel
 * allows, else alone; ALONE: alone in any case. Undoes what it did when it fails. 0,
 * -errno, or RETRY_ALONE.
 */
static int load_and_attach(struct xpxe_dataplane *dp, bool alone)
{
	struct xdp_program_opts prog_opts = { .sz = sizeof(prog_opts) };
	enum xdp_attach_mode mode;
	int err;

	dp->skel = xpxe_bpf__open();
	if (!dp->skel) {
		err = -errno;
		log_error("cannot open the embedded BPF object: %s", strerror(errno));
		return err;
	}
	err = set_map_pins(dp->skel, dp->ifname);
	if (err)
		goto fail;
	dp->skel->rodata->tftp_port_low = dp->tftp_port_low;
	/* Only the build chosen is loaded: the other need not pass this kernel's verifier. */
	dp->xdp = dp->frags ? dp->skel->progs.xdp_pxe_frags : dp->skel->progs.xdp_pxe;
	bpf_program__set_autoload(
	    dp->frags ? dp->skel->progs.xdp_pxe : dp->skel->progs.xdp_pxe_frags, false);
	bpf_program__set_autoload(dp->frags ? dp->skel->progs.xdp_dhcp6_bound
					    : dp->skel->progs.xdp_dhcp6_bound_frags,
				  false);
	bpf_program__set_autoload(
	    dp->frags ? dp->skel->progs.xdp_tftp6 : dp->skel->progs.xdp_tftp6_frags, false);
	prog_opts.obj = dp->skel->obj;
	prog_opts.prog_name = bpf_program__name(dp->xdp);
	dp->prog = xdp_program__create(&prog_opts);
	err = libxdp_get_error(dp->prog);
	if (err) {
		dp->prog = NULL;
		log_error("cannot prepare the XDP program: %s", strerror(-err));
		goto fail;
	}
	if (alone)
		setenv(SKIP_DISPATCHER, "1", 1);
	xpxe_log_hold_library_warnings();
	err = xdp_program__attach(dp->prog, dp->ifindex, XDP_MODE_UNSPEC, 0);
	/* A refusal that a second try without the dispatcher may cure is no news yet. */
	xpxe_log_release_library_warnings(err != 0 && (alone || !dispatcher_may_be_why(dp, err)));
	if (alone)
		unsetenv(SKIP_DISPATCHER);
	if (err) {
		if (alone || !dispatcher_may_be_why(dp, err))
			log_error("cannot attach the XDP program to %s: %s", dp->ifname,
				  strerror(-err));
		goto fail;
	}
	/*
	 * Refused where xdp_pxe runs as the libxdp dispatcher's extension and the kernel takes
	 * an extension for another kind of program than XDP (Linux 6.1): then the daemon
	 * answers bound machines' DHCPv6 renewals too, as it answers their first contact.
	 */
	err = xpxe_dataplane_set_tail_calls(dp->skel, dp->frags);
	/*
	 * The dispatcher is there to share the interface; with nobody to share it with, xdp_pxe
	 * alone keeps its tail calls, which Linux 6.1 refuses from the dispatcher's extension.
	 */
	if (err && !alone && dispatcher_holds_only_xpxe(dp->ifindex, &mode)) {
		log_warn(
		    "%s: the kernel refused xdp_pxe's tail calls from the libxdp dispatcher "
		    "(%s), and no other XDP program shares %s: attaching xdp_pxe alone, so "
		    "bound machines' DHCPv6 renewals and IPv6 TFTP blocks stay in XDP (another "
		    "XDP program can no longer join it there)",
		    dp->ifname, strerror(-err), dp->ifname);
		err = xdp_program__detach(dp->prog, dp->ifindex, mode, 0);
		if (err) {
			log_error("%s: cannot detach xdp_pxe from the dispatcher: %s", dp->ifname,
				  strerror(-err));
			goto fail;
		}
		dp->alone_for_tail_calls = true;
		err = RETRY_ALONE;
		goto fail;
	}
	if (err)
		log_warn("%s: DHCPv6 renewals of bound machines go to the daemon, IPv6 TFTP "
			 "blocks come from tc, not XDP, and IPv6 windows from the transfers' "
			 "sockets, not AF_XDP (the kernel refused xdp_pxe's tail calls%s: %s)",
			 dp->ifname, alone ? "" : " from the libxdp dispatcher", strerror(-err));
	return 0;
fail:
	if (dp->prog)
		xdp_program__close(dp->prog);
	dp->prog = NULL;
	xpxe_bpf__destroy(dp->skel);
	dp->skel = NULL;
	dp->xdp = NULL;
	return err;
}

int xpxe_dataplane_attach(struct xpxe_dataplane *dp, const char *ifname,
			  const struct xpxe_attach_opts *opts)
{
	int err, replaced;
	__u64 layout;

	memset(dp, 0, sizeof(*dp));
	dp->lock_fd = -1;
	dp->tftp_port_low = opts->tftp_port_low ? opts->tftp_port_low : XPXE_TFTP_PORT_LOW_DEFAULT;
	err = check_interface(dp, ifname, opts);
	if (err)
		goto fail;
	err = xpxe_bpffs_ensure();
	if (err)
		goto fail;

	/* The lock is ours, so anything xpxe left here belongs to a daemon that died. */
	dp->adopted = xpxe_pin_dir_exists(ifname);
	layout = dp->adopted ? pinned_layout(ifname) : XPXE_LAYOUT_ID;
	err = replaced = detach_attached_xpxe(ifname, dp->ifindex);
	if (err < 0)
		goto fail;
	/* Another build's maps may hold other structs or count other things under the same
	 * index: reusing them would read garbage. What matters survives on disk. */
	if (layout != XPXE_LAYOUT_ID) {
		log_warn(
		    "%s: the pinned maps were made by another xpxe build (layout %016llx, this "
		    "build %016llx): starting a fresh data plane; leases and boot-once marks "
		    "come back from disk, TFTP transfers in flight must start again",
		    ifname, (unsigned long long)layout, (unsigned long long)XPXE_LAYOUT_ID);
		err = xpxe_pin_dir_remove(ifname);
		if (err) {
			log_error("%s: cannot remove the old pins: %s", ifname, strerror(-err));
			goto fail;
		}
		dp->adopted = false;
	}
	if (replaced > 0 || dp->adopted)
		log_info("%s: taking over the data plane a previous xpxe left (%s)", ifname,
			 dp->adopted ? "pinned maps reused" : "program replaced");

	err = xpxe_pin_dir_create(ifname);
	if (!err)
		err = xpxe_pin_netns_write(ifname);
	if (err)
		goto fail;
	choose_build(dp);
	err = load_and_attach(dp, false);
	if (err == RETRY_ALONE) {
		err = load_and_attach(dp, true);
	} else if (dispatcher_may_be_why(dp, err) && !getenv(SKIP_DISPATCHER)) {
		/* Debian 12's libxdp (1.3) builds a dispatcher whose slots do not change packet
		 * data; kernels from 6.12 on refuse to put xdp_pxe, which does, in them. On 6.1 it
		 * builds one without multi-buffer support, which a jumbo MTU refuses. */
		log_warn("%s: the kernel refused %s in the libxdp dispatcher (%s): attaching it "
			 "alone",
			 ifname, dp->frags ? XPXE_PROG_NAME_FRAGS : XPXE_PROG_NAME, strerror(-err));
		err = load_and_attach(dp, true);
	}
	if (err)
		goto fail;
	err = read_attachment(dp);
	if (!err)
		err = write_layout(dp);
	if (!err)
		err = pin_program(dp);
	if (!err)
		pin_tail_calls(dp);
	if (!err)
		err = attach_tc(dp);
	if (err) {
		xpxe_dataplane_detach(dp);
		return err;
	}
	log_info("%s: attached %s (prog id %u) in %s mode, %s; %s (TFTP fallback, proxy DISCOVERs; "
		 "prog id %u) on tc ingress",
		 ifname, bpf_program__name(dp->xdp), dp->prog_id, dp->native ? "native" : "generic",
		 dp->dispatcher ? "through the libxdp dispatcher"
		 : dp->alone_for_tail_calls
		     ? "alone (keeping its tail calls)"
		     : "alone (this kernel cannot run the libxdp dispatcher)",
		 XPXE_TFTP_TC_PROG_NAME, dp->tc_prog_id);
	return 0;
fail:
	if (dp->prog)
		xdp_program__close(dp->prog);
	xpxe_bpf__destroy(dp->skel);
	if (dp->lock_fd >= 0 && !dp->adopted)
		xpxe_pin_dir_remove(ifname);
	xpxe_iflock_release(dp->lock_fd, dp->ifname);
	memset(dp, 0, sizeof(*dp));
	dp->lock_fd = -1;
	return err;
}

void xpxe_dataplane_detach(struct xpxe_dataplane *dp)
{
	int err;

	if (!dp->skel)
		return;
	if (dp->tc_prog_id)
		detach_tc(dp->ifname, dp->ifindex);
	err = xdp_program__detach(dp->prog, dp->ifindex,
				  dp->native ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
	if (err)
		log_error("%s: cannot detach prog id %u: %s", dp->ifname, dp->prog_id,
			  strerror(-err));
	else
		log_info("%s: detached prog id %u", dp->ifname, dp->prog_id);
	xpxe_pin_dir_remove(dp->ifname);
	xdp_program__close(dp->prog);
	xpxe_bpf__destroy(dp->skel);
	xpxe_iflock_release(dp->lock_fd, dp->ifname);
	memset(dp, 0, sizeof(*dp));
	dp->lock_fd = -1;
}

void xpxe_dataplane_release(struct xpxe_dataplane *dp)
{
	if (!dp->skel)
		return;
	/*
	 * Neither closing libxdp's program nor destroying the skeleton detaches: the
	 * interface holds the XDP program, clsact the tc one, bpffs the maps.
	 */
	log_info("%s: left attached (prog id %u, tc prog id %u) with its pins in %s/%s", dp->ifname,
		 dp->prog_id, dp->tc_prog_id, XPXE_PIN_ROOT, dp->ifname);
	xdp_program__close(dp->prog);
	xpxe_bpf__destroy(dp->skel);
	xpxe_iflock_release(dp->lock_fd, dp->ifname);
	memset(dp, 0, sizeof(*dp));
	dp->lock_fd = -1;
}

int xpxe_dataplane_tftp_sessions_fd(const struct xpxe_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.tftp_sessions);
}

int xpxe_dataplane_tftp_sessions6_fd(const struct xpxe_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.tftp_sessions6);
}

int xpxe_dataplane_tftp_xsks_fd(const struct xpxe_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.tftp_xsks);
}

int xpxe_dataplane_tftp_rrq_macs_fd(const struct xpxe_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.tftp_rrq_macs);
}

int xpxe_dataplane_tftp_assets_fd(const struct xpxe_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.tftp_assets);
}

int xpxe_dataplane_events_fd(const struct xpxe_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.events);
}

int xpxe_dataplane_dhcp_clients_fd(const struct xpxe_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.dhcp_clients);
}

int xpxe_dataplane_counters_fd(const struct xpxe_dataplane *dp)
{
	return bpf_map__fd(dp->skel->maps.counters);
}

bool xpxe_dataplane_xdp_no_room(const struct xpxe_dataplane *dp)
{
	__u32 zero = 0;
	struct xpxe_bpf__bss bss;

	/* The program's .bss, read through its map: libxdp loaded it, not the skeleton. */
	return !bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.bss), &zero, &bss) &&
	       bss.tftp_xdp_no_room;
}

int xpxe_dataplane_counters(const struct xpxe_dataplane *dp, __u64 totals[XPXE_CNT_MAX])
{
	return xpxe_counters_read(bpf_map__fd(dp->skel->maps.counters), totals);
}

int xpxe_dataplane_detach_orphan(const char *ifname)
{
	struct xpxe_netns theirs, ours;
	bool had_pins, recorded;
	pid_t owner;
	int ifindex, lock_fd, detached = 0, err = 0;

	if (!xpxe_ifname_valid(ifname)) {
		log_error("'%s' is not a valid interface name", ifname);
		return -EINVAL;
	}
	lock_fd = xpxe_iflock_take(ifname, &owner);
	if (lock_fd == -EBUSY) {
		log_error(
		    "%s is served by xpxe pid %d, which does not answer on its control socket",
		    ifname, (int)owner);
		return -EBUSY;
	}
	had_pins = xpxe_pin_dir_exists(ifname);
	ifindex = if_nametoindex(ifname);
	recorded = had_pins && !xpxe_pin_netns_read(ifname, &theirs);
	/*
	 * Pins of another namespace's IFNAME: its program runs there, out of reach; removing
	 * the pins would only hide it. Pins of this namespace whose interface is gone are
	 * stale (the program went with the interface).
	 */
	if ((recorded && !xpxe_netns_self(&ours) &&
	     (theirs.dev != ours.dev || theirs.ino != ours.ino)) ||
	    (had_pins && !recorded && !ifindex)) {
		char where[300], name[256] = "";

		if (recorded) {
			xpxe_netns_describe(&theirs, where, sizeof(where));
			xpxe_netns_named(&theirs, name, sizeof(name));
		}
		log_error("%s is attached in network namespace %s, not this one: nothing was "
			  "detached; run it there: %s%s%sxpxe detach -i %s",
			  ifname, recorded ? where : "(unknown: its pins record none)",
			  name[0] ? "nsenter --net=/run/netns/" : "nsenter --net=NETNS_FILE ", name,
			  name[0] ? " " : "", ifname);
		xpxe_iflock_release(lock_fd, ifname);
		return -EXDEV;
	}
	if (!had_pins && xpxe_bpffs_private())
		log_warn("%s: this process has a mount namespace of its own without %s (as under "
			 "'ip netns exec'): the pins, if any, are out of its sight and stay; run "
			 "'nsenter --net=/run/netns/NAME xpxe detach -i %s' to remove them too",
			 ifname, XPXE_BPFFS_ROOT, ifname);
	if (ifindex) {
		int tc = detach_tc(ifname, ifindex);

		detached = detach_attached_xpxe(ifname, ifindex);
		if (detached < 0)
			err = detached;
		else if (tc < 0)
			err = tc;
		else if (tc > 0 && !detached)
			detached = 1;
	}
	if (had_pins && xpxe_pin_dir_remove(ifname))
		err = err ? err : -EIO;
	xpxe_iflock_release(lock_fd, ifname);
	if (!err && !detached && !had_pins)
		return -ENOENT;
	if (!err)
		log_info("%s: %s%s", ifname, detached > 0 ? "detached xpxe's program" : "",
			 had_pins ? (detached > 0 ? " and removed its pins"
				     : ifindex	  ? "removed stale pins"
						  : "removed stale pins (the interface is gone)")
				  : "");
	return err;
}
