/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_RENDER_H
#define XPXE_RENDER_H

#include <stddef.h>

/*
 * What xpxe writes for a machine: its iPXE script and its Talos config.
 *
 * Talos configs are templates: `{{name}}` (spaces allowed inside the braces)
 * is replaced by the machine's value. Names: hostname, ip, ip6, mac (aa:bb:...),
 * mac_hyphen (aa-bb-...), uuid, serial, install_disk. An unknown name is an
 * error, never silently empty. `${...}` is left alone: it is Talos's and iPXE's.
 */

struct xpxe_vars {
	const char *hostname, *ip, *ip6, *mac, *mac_hyphen, *uuid, *serial, *install_disk;
};

/* The placeholders, by the names templates use (xpxe_var_names). */
enum xpxe_var {
	XPXE_VAR_HOSTNAME,
	XPXE_VAR_IP,
	XPXE_VAR_IP6,
	XPXE_VAR_MAC,
	XPXE_VAR_MAC_HYPHEN,
	XPXE_VAR_UUID,
	XPXE_VAR_SERIAL,
	XPXE_VAR_INSTALL_DISK,
	XPXE_VAR_MAX,
};

extern const char *const xpxe_var_names[XPXE_VAR_MAX];

/*
 * Which placeholders TEMPLATE (LEN bytes) uses, without rendering it: LINES[v] is
 * the line of v's first use, 0 when unused. Returns 0, or -EINVAL at an unknown
 * name (*BAD_NAME, *BAD_LINE), as xpxe_render_template would: the same scanner.
 */
int xpxe_template_scan(const char *t, size_t len, int lines[XPXE_VAR_MAX], const char **bad_name,
		       int *bad_line);

/*
 * Renders TEMPLATE (LEN bytes) with VARS into a malloc'd *OUT of *OUT_LEN bytes.
 * Returns 0, or -EINVAL with *BAD_NAME pointing into TEMPLATE at the unknown
 * name (and *BAD_LINE its line) — the caller reports it.
 */
int xpxe_render_template(const char *template, size_t len, const struct xpxe_vars *vars, char **out,
			 size_t *out_len, const char **bad_name, int *bad_line);

/* The inputs of a boot script. */
struct xpxe_script_in {
	const char *base;	     /* http://SERVER:PORT */
	const char *config_base;     /* where talos.config= points (https://... with HTTPS) */
	const char *tftp_base;	     /* tftp://SERVER */
	const char *name;	     /* the machine's name for the log line in the script */
	const char *kernel, *initrd; /* asset names */
	const char *cmdline;	     /* the profile's own arguments */
	int tftp;		     /* fetch kernel and initrd over TFTP */
};

/*
 * The first script, the same for everyone: it chains to the per-machine one
 * with what iPXE knows of the machine, so the daemon can tell who asks.
 */
int xpxe_script_chain(char *buf, size_t size, const char *base);

/* The per-machine script that boots the kernel with Talos's arguments. */
int xpxe_script_boot(char *buf, size_t size, const struct xpxe_script_in *in);

/* The per-machine script of a uki profile: iPXE chains to the UKI at URL. */
int xpxe_script_uki(char *buf, size_t size, const char *name, const char *url, const char *base);

/* Boot-once: the script for an installed machine, which boots its local disk. */
int xpxe_script_local(char *buf, size_t size, const char *name);

#endif /* XPXE_RENDER_H */
