// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

static const char *lookup(const struct xpxe_vars *v, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} names[] = {
		{ "hostname", offsetof(struct xpxe_vars, hostname) },
		{ "ip", offsetof(struct xpxe_vars, ip) },
		{ "mac", offsetof(struct xpxe_vars, mac) },
		{ "mac_hyphen", offsetof(struct xpxe_vars, mac_hyphen) },
		{ "uuid", offsetof(struct xpxe_vars, uuid) },
		{ "serial", offsetof(struct xpxe_vars, serial) },
		{ "install_disk", offsetof(struct xpxe_vars, install_disk) },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == len && !memcmp(names[i].name, name, len)) {
			const char *value = *(const char *const *)((const char *)v + names[i].off);

			return value ? value : "";
		}
	}
	return NULL;
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
		size_t name_len = 0, j = i + 2, need;

		if (t[i] == '\n')
			line++;
		/* {{ name }}: a name of [a-z_], spaces around it; anything else is text. */
		if (i + 1 < len && t[i] == '{' && t[i + 1] == '{') {
			while (j < len && t[j] == ' ')
				j++;
			name = t + j;
			while (j < len && (islower((unsigned char)t[j]) || t[j] == '_'))
				j++;
			name_len = t + j - name;
			while (j < len && t[j] == ' ')
				j++;
			if (j + 1 >= len || t[j] != '}' || t[j + 1] != '}')
				name_len = 0;
		}
		if (name_len) {
			value = lookup(vars, name, name_len);
			if (!value) {
				free(buf);
				*bad_name = name;
				*bad_line = line;
				return -EINVAL;
			}
		}
		/*
		 * Room for a value, or one byte of text, and the final NUL: one check for
		 * both (a "{{" that names nothing once skipped it, and a value the client
		 * chose, such as its uuid, could bring the text to the end of the buffer).
		 */
		need = value ? strlen(value) : 1;
		while (pos + need + 1 > cap) {
			char *bigger = realloc(buf, cap *= 2);

			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
		}
		if (value) {
			memcpy(buf + pos, value, need);
			pos += need;
			i = j + 2;
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
		     "chain %s/boot.ipxe?mac=${mac:hexhyp}&uuid=${uuid}&serial=${serial}\n",
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
			 "chain %s/boot.ipxe?mac=${mac:hexhyp}&uuid=${uuid}&serial=${serial}\n",
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
