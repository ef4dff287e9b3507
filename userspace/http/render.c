// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/render.h"

/* The names, in the order of enum xpxe_var, and where each value sits in struct xpxe_vars. */
const char *const xpxe_var_names[XPXE_VAR_MAX] = {
	[XPXE_VAR_HOSTNAME] = "hostname",
	[XPXE_VAR_IP] = "ip",
	[XPXE_VAR_IP6] = "ip6",
	[XPXE_VAR_MAC] = "mac",
	[XPXE_VAR_MAC_HYPHEN] = "mac_hyphen",
	[XPXE_VAR_UUID] = "uuid",
	[XPXE_VAR_SERIAL] = "serial",
	[XPXE_VAR_INSTALL_DISK] = "install_disk",
};

static const size_t var_offsets[XPXE_VAR_MAX] = {
	[XPXE_VAR_HOSTNAME] = offsetof(struct xpxe_vars, hostname),
	[XPXE_VAR_IP] = offsetof(struct xpxe_vars, ip),
	[XPXE_VAR_IP6] = offsetof(struct xpxe_vars, ip6),
	[XPXE_VAR_MAC] = offsetof(struct xpxe_vars, mac),
	[XPXE_VAR_MAC_HYPHEN] = offsetof(struct xpxe_vars, mac_hyphen),
	[XPXE_VAR_UUID] = offsetof(struct xpxe_vars, uuid),
	[XPXE_VAR_SERIAL] = offsetof(struct xpxe_vars, serial),
	[XPXE_VAR_INSTALL_DISK] = offsetof(struct xpxe_vars, install_disk),
};

/* The variable NAME (LEN bytes) stands for, or -1. */
static int var_of(const char *name, size_t len)
{
	for (int v = 0; v < XPXE_VAR_MAX; v++)
		if (strlen(xpxe_var_names[v]) == len && !memcmp(xpxe_var_names[v], name, len))
			return v;
	return -1;
}

/*
 * A placeholder at T[I]: `{{ name }}`, a name of [a-z_] with spaces around it. Returns
 * the length of its name (0: none, plain text) with *NAME set and *END just past it.
 */
static size_t placeholder_at(const char *t, size_t len, size_t i, const char **name, size_t *end)
{
	size_t j = i + 2, name_len;

	if (i + 1 >= len || t[i] != '{' || t[i + 1] != '{')
		return 0;
	while (j < len && t[j] == ' ')
		j++;
	*name = t + j;
	/* A name: a letter or '_', then letters, '_' or digits (ip6). */
	while (j < len && (islower((unsigned char)t[j]) || t[j] == '_' ||
			   (t + j > *name && isdigit((unsigned char)t[j]))))
		j++;
	name_len = t + j - *name;
	while (j < len && t[j] == ' ')
		j++;
	if (j + 1 >= len || t[j] != '}' || t[j + 1] != '}')
		return 0;
	*end = j + 2;
	return name_len;
}

int xpxe_template_scan(const char *t, size_t len, int lines[XPXE_VAR_MAX], const char **bad_name,
		       int *bad_line)
{
	int line = 1;

	memset(lines, 0, XPXE_VAR_MAX * sizeof(*lines));
	for (size_t i = 0; i < len;) {
		const char *name;
		size_t end, name_len = placeholder_at(t, len, i, &name, &end);
		int v;

		if (!name_len) {
			line += t[i++] == '\n';
			continue;
		}
		v = var_of(name, name_len);
		if (v < 0) {
			*bad_name = name;
			*bad_line = line;
			return -EINVAL;
		}
		if (!lines[v])
			lines[v] = line;
		i = end;
	}
	return 0;
}

int xpxe_render_template(const char *t, size_t len, const struct xpxe_vars *vars, char **out,
			 size_t *out_len, const char **bad_name, int *bad_line)
{
	size_t cap = len + 256, pos = 0;
	char *buf = malloc(cap);
	int line = 1;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < len;) {
		const char *name = NULL, *value = NULL;
		size_t end = 0, need, name_len = placeholder_at(t, len, i, &name, &end);

		if (t[i] == '\n')
			line++;
		if (name_len) {
			int v = var_of(name, name_len);

			if (v < 0) {
				free(buf);
				*bad_name = name;
				*bad_line = line;
				return -EINVAL;
			}
			value = *(const char *const *)((const char *)vars + var_offsets[v]);
			if (!value)
				value = "";
		}
		/*
		 * Room for a value, or one byte of text, and the final NUL: one check for
		 * both (a "{{" that names nothing once skipped it, and a value the client
		 * chose, such as its uuid, could bring the text to the end of the buffer).
		 */
		need = name_len ? strlen(value) : 1;
		while (pos + need + 1 > cap) {
			char *bigger = realloc(buf, cap *= 2);

			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
		}
		if (name_len) {
			memcpy(buf + pos, value, need);
			pos += need;
			i = end;
		} else {
			buf[pos++] = t[i++];
		}
	}
	buf[pos] = '\0';
	*out = buf;
	*out_len = pos;
	return 0;
}

int xpxe_script_chain(char *buf, size_t size, const char *base)
{
	int n = snprintf(buf, size,
			 "#!ipxe\n"
			 "# xpxe: tell the server who this is, then get this machine's script\n"
			 "chain %s/boot.ipxe?mac=${mac:hexhyp}&uuid=${uuid}&serial=${serial}"
			 "&arch=${buildarch}&platform=${platform} || shell\n",
			 base);

	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

int xpxe_script_boot(char *buf, size_t size, const struct xpxe_script_in *in)
{
	const char *from = in->tftp ? in->tftp_base : in->base;
	const char *sub = in->tftp ? "" : "/assets";
	int n;

	/*
	 * initrd first, named, and named again on the kernel line: old iPXE booted
	 * from UEFI hands the kernel no initrd otherwise (PROTOCOL.md); under BIOS
	 * the extra argument is harmless. iPXE expands ${mac} and ${uuid} itself.
	 */
	n = snprintf(buf, size,
		     "#!ipxe\n"
		     "echo xpxe: booting %s\n"
		     "initrd --name initrd %s%s/%s || goto failed\n"
		     "kernel %s%s/%s initrd=initrd talos.platform=metal slab_nomerge pti=on %s "
		     "talos.config=%s/talos/config?mac=${mac}&uuid=${uuid}&serial=${serial} "
		     "|| goto failed\n"
		     "boot || goto failed\n"
		     ":failed\n"
		     "echo xpxe: boot failed, retrying in 5 s\n"
		     "sleep 5\n"
		     "chain %s/boot.ipxe?mac=${mac:hexhyp}&uuid=${uuid}&serial=${serial}"
		     "&arch=${buildarch}\n",
		     in->name, from, sub, in->initrd, from, sub, in->kernel, in->cmdline,
		     in->config_base ? in->config_base : in->base, in->base);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

int xpxe_script_uki(char *buf, size_t size, const char *name, const char *url, const char *base)
{
	/* The UKI's own command line applies (talos.config= inside it): iPXE passes none. */
	int n = snprintf(buf, size,
			 "#!ipxe\n"
			 "echo xpxe: booting %s from its UKI\n"
			 "chain %s || goto failed\n"
			 ":failed\n"
			 "echo xpxe: boot failed, retrying in 5 s\n"
			 "sleep 5\n"
			 "chain %s/boot.ipxe?mac=${mac:hexhyp}&uuid=${uuid}&serial=${serial}"
			 "&arch=${buildarch}\n",
			 name, url, base);

	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

int xpxe_script_local(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size,
			 "#!ipxe\n"
			 "echo xpxe: %s is installed: booting from its disk "
			 "(xpxe machines rearm to reinstall)\n"
			 "iseq ${platform} efi && exit 1 ||\n"
			 "sanboot --no-describe --drive 0x80 || exit 1\n",
			 name);

	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}
