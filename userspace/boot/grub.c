// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * grub.cfg for Debian's signed netboot GRUB (grubnetx64.efi.signed, which
 * shim loads as grubx64.efi from the folder it came from). Measured in QEMU:
 * after shim, GRUB asks over TFTP for /grub/x86_64-efi/{command,fs,crypto,
 * terminal}.lst (optional), then /grub/grub.cfg; a command it lacks makes it
 * ask for /grub/x86_64-efi/NAME.mod, which Secure Boot would refuse anyway
 * (http.mod: this image speaks TFTP only). So the machine's decisions are all
 * in the one file, and kernel and initrd come over TFTP from the data plane.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "config.h"
#include "inventory.h"

int xpxe_grub_quote(char *buf, size_t size, const char *arg)
{
	size_t pos = 0;

#define PUT(c)                          \
	do {                            \
		if (pos + 1 >= size)    \
			return -ENOSPC; \
		buf[pos++] = (c);       \
	} while (0)
	PUT('\'');
	for (const char *c = arg; *c; c++) {
		if (*c == '\'') {
			/* Close the quote, an escaped quote, open again: GRUB's sh-like rule. */
			PUT('\'');
			PUT('\\');
			PUT('\'');
			PUT('\'');
		} else if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			PUT(' '); /* no control characters in a config line */
		} else {
			PUT(*c);
		}
	}
	PUT('\'');
#undef PUT
	buf[pos] = '\0';
	return (int)pos;
}

/* Writes ARG quoted for GRUB. */
static void put_quoted(FILE *f, const char *arg)
{
	char quoted[4 * XPXE_CFG_CMDLINE_MAX + 8];

	if (xpxe_grub_quote(quoted, sizeof(quoted), arg) >= 0)
		fputs(quoted, f);
}

/* Each word of ARGS, quoted, after a space. */
static void put_words(FILE *f, const char *args)
{
	char word[XPXE_CFG_CMDLINE_MAX];

	while (*args) {
		size_t n;

		args += strspn(args, " \t\n");
		n = strcspn(args, " \t\n");
		if (!n || n >= sizeof(word))
			break;
		memcpy(word, args, n);
		word[n] = '\0';
		args += n;
		fputc(' ', f);
		put_quoted(f, word);
	}
}

static bool boots_kernel(const struct xpxe_profile_cfg *p)
{
	return (p->kernel[0] && p->initrd[0]) || (p->kernel_arm64[0] && p->initrd_arm64[0]);
}

/* The lines that boot KERNEL and INITRD of profile P, each after INDENT. */
static void put_boot(FILE *f, const struct xpxe_profile_cfg *p, const char *kernel,
		     const char *initrd, const char *indent)
{
	char path[XPXE_CFG_NAME_MAX + 2];

	snprintf(path, sizeof(path), "/%s", kernel);
	fprintf(f, "%slinux ", indent);
	put_quoted(f, path);
	fprintf(f, " talos.platform=metal slab_nomerge pti=on");
	put_words(f, p->cmdline);
	fprintf(f, " \"$xpxe_config\"\n");
	snprintf(path, sizeof(path), "/%s", initrd);
	fprintf(f, "%sinitrd ", indent);
	put_quoted(f, path);
	fputc('\n', f);
}

/* What GRUB does for a machine of an architecture P has no files for: it says so and leaves. */
static void put_refusal(FILE *f, const struct xpxe_profile_cfg *p, const char *arch,
			const char *indent)
{
	fprintf(f, "%secho \"xpxe: $1 is %s and profile\" ", indent, arch);
	put_quoted(f, p->name);
	fprintf(f, " \"has no %s kernel: back to the firmware\"\n", arch);
	fprintf(f, "%ssleep 5\n%sexit 1\n", indent, indent);
}

/*
 * One function per profile that boots a kernel: xpxe_profile_N NAME. The same
 * grub.cfg serves amd64 and arm64 GRUB: $grub_cpu picks the architecture's files.
 */
static void put_profile(FILE *f, int idx, const struct xpxe_profile_cfg *p)
{
	bool amd64 = p->kernel[0] && p->initrd[0];
	bool arm64 = p->kernel_arm64[0] && p->initrd_arm64[0];

	/* Names from the config are quoted: GRUB's script would expand or split them. */
	fprintf(f, "function xpxe_profile_%d {\n", idx);
	fprintf(f, "\techo \"xpxe: booting $1, profile\" ");
	put_quoted(f, p->name);
	fputc('\n', f);
	fprintf(f, "\tif [ \"$grub_cpu\" = arm64 ]; then\n");
	if (arm64)
		put_boot(f, p, p->kernel_arm64, p->initrd_arm64, "\t\t");
	else
		put_refusal(f, p, "arm64", "\t\t");
	fprintf(f, "\telse\n");
	if (amd64)
		put_boot(f, p, p->kernel, p->initrd, "\t\t");
	else
		put_refusal(f, p, "amd64", "\t\t");
	fprintf(f, "\tfi\n");
	fprintf(f, "\tboot\n");
	fprintf(f, "\techo \"xpxe: boot failed; back to the firmware in 5 s\"\n");
	fprintf(f, "\tsleep 5\n");
	fprintf(f, "\texit 1\n");
	fprintf(f, "}\n");
}

/* The test of GRUB's variables that names the machine of KEY ("mac:..", "uuid:.."); "" if none. */
static const char *key_test(const char *key, char *buf, size_t size)
{
	if (!strncmp(key, "mac:", 4))
		snprintf(buf, size, "[ \"$net_default_mac\" = \"%s\" ]", key + 4);
	else if (!strncmp(key, "uuid:", 5))
		snprintf(buf, size, "[ \"$xpxe_uuid\" = \"%s\" ]", key + 5);
	else
		return "";
	/* Keys hold no quotes or '$' (MACs, UUIDs as xpxe normalised them); be sure. */
	if (strpbrk(key, "\"$\\`"))
		return "";
	return buf;
}

/* A machine's test: any of its MACs, or its UUID. "" when GRUB cannot tell it. */
static void machine_test(const struct xpxe_machine_cfg *m, char *buf, size_t size)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (int i = 0; i < m->n_macs && pos < size; i++)
		pos += snprintf(buf + pos, size - pos,
				"%s[ \"$net_default_mac\" = \"%02x:%02x:%02x:%02x:%02x:%02x\" ]",
				pos ? " -o " : "", m->macs[i][0], m->macs[i][1], m->macs[i][2],
				m->macs[i][3], m->macs[i][4], m->macs[i][5]);
	if (m->uuid[0] && !strpbrk(m->uuid, "\"$\\`") && pos < size)
		snprintf(buf + pos, size - pos, "%s[ \"$xpxe_uuid\" = \"%s\" ]", pos ? " -o " : "",
			 m->uuid);
}

char *xpxe_grub_render(const struct xpxe_config *cfg, struct xpxe_inventory *inv,
		       const char *config_base, size_t *len)
{
	char *text = NULL, test[1024], key[80];
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	fprintf(f, "# xpxe: GRUB's grub.cfg, made from the inventory and the profiles (the same\n"
		   "# for every machine; each finds itself by its MAC or SMBIOS UUID below).\n"
		   "set timeout=0\n"
		   "set xpxe_uuid=\n"
		   "smbios --type 1 --get-uuid 8 --set xpxe_uuid\n");
	/* Talos's own ${mac} would be GRUB's to expand: the values go in as GRUB read them. */
	fprintf(f,
		"set xpxe_config=\"talos.config=%s/talos/config?mac=${net_default_mac}"
		"&uuid=${xpxe_uuid}\"\n",
		config_base);
	for (int i = 0; i < cfg->n_profiles; i++)
		if (boots_kernel(&cfg->profiles[i]))
			put_profile(f, i, &cfg->profiles[i]);

	/*
	 * Boot-once: an installed machine boots its disk. GRUB 2.06's `exit` returns
	 * EFI_SUCCESS whatever its argument, and firmware then shows its boot menu
	 * rather than try the next option (EDK2's BDS, seen in OVMF); so GRUB itself
	 * starts the disk's EFI loader at the removable path (Talos's systemd-boot
	 * is there, as is any OS's fallback), which the firmware verifies as usual.
	 */
	fprintf(f,
		"function xpxe_local {\n"
		"\techo \"xpxe: $1 is installed: booting from its disk (xpxe machines rearm "
		"to reinstall)\"\n"
		"\tset xpxe_loader=/EFI/BOOT/BOOTX64.EFI\n"
		"\tif [ \"$grub_cpu\" = arm64 ]; then set xpxe_loader=/EFI/BOOT/BOOTAA64.EFI; fi\n"
		"\tif search --no-floppy --file --set=xpxe_disk $xpxe_loader; then\n"
		"\t\tchainloader ($xpxe_disk)$xpxe_loader\n"
		"\t\tboot\n"
		"\tfi\n"
		"\techo \"xpxe: no disk holds $xpxe_loader: back to the firmware\"\n"
		"\tsleep 5\n"
		"\texit 1\n"
		"}\n");
	fprintf(f, "# installed machines (boot-once)\n");
	for (int i = 0; i < inv->n_installed; i++) {
		const char *t = key_test(inv->installed[i].key, test, sizeof(test));

		if (!*t)
			continue;
		fprintf(f, "if %s; then\n\txpxe_local ", t);
		{
			const char *name = inv->installed[i].key;

			for (int j = 0; j < cfg->n_machines; j++) {
				xpxe_inventory_key(&cfg->machines[j], key, sizeof(key));
				if (!strcmp(key, name) && cfg->machines[j].hostname[0])
					name = cfg->machines[j].hostname;
			}
			put_quoted(f, name);
		}
		fprintf(f, "\nfi\n");
	}
	fprintf(f, "# the machines of the inventory\n");
	for (int i = 0; i < cfg->n_machines; i++) {
		const struct xpxe_machine_cfg *m = &cfg->machines[i];
		int profile = m->profile >= 0		  ? m->profile
			      : cfg->default_profile >= 0 ? cfg->default_profile
							  : 0;

		machine_test(m, test, sizeof(test));
		if (!test[0] || !boots_kernel(&cfg->profiles[profile]))
			continue;
		xpxe_inventory_key(m, key, sizeof(key));
		fprintf(f, "if %s; then\n\txpxe_profile_%d ", test, profile);
		put_quoted(f, m->hostname[0] ? m->hostname : key);
		fputc('\n', f);
		fprintf(f, "fi\n");
	}
	if (cfg->default_profile >= 0 && boots_kernel(&cfg->profiles[cfg->default_profile])) {
		fprintf(f, "# machines outside the inventory: the default profile\n");
		fprintf(f, "xpxe_profile_%d \"$net_default_mac (not in the inventory)\"\n",
			cfg->default_profile);
	} else {
		fprintf(f, "echo \"xpxe: $net_default_mac is not in the inventory and the default "
			   "profile boots no kernel: back to the firmware\"\n"
			   "sleep 5\n"
			   "exit 1\n");
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}
