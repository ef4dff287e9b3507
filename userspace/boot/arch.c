// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Machines of two architectures from one profile (issue 26): which files are
 * whose. A profile's kernel and initrd are amd64's, kernel_arm64 and
 * initrd_arm64 arm64's; a machine says what it is through DHCP's option 93
 * (the boot class), iPXE's ${buildarch} or GRUB's $grub_cpu, and gets its own
 * architecture's files or a counted refusal, never the other's.
 */
#include <string.h>

#include "boot/boot.h"
#include "config.h"

const char *xpxe_arch_name(enum xpxe_arch arch)
{
	switch (arch) {
	case XPXE_ARCH_AMD64:
		return "amd64";
	case XPXE_ARCH_ARM64:
		return "arm64";
	case XPXE_ARCH_I386:
		return "i386";
	case XPXE_ARCH_ARM32:
		return "arm32";
	default:
		return "-";
	}
}

enum xpxe_arch xpxe_arch_of_buildarch(const char *buildarch)
{
	/* An old chain script sends none: x86, as every machine was before arm64. */
	if (!buildarch || !*buildarch)
		return XPXE_ARCH_AMD64;
	/* iPXE's BIOS build is i386 on any x86 CPU: an amd64 machine all the same. */
	if (!strcmp(buildarch, "x86_64") || !strcmp(buildarch, "i386"))
		return XPXE_ARCH_AMD64;
	if (!strcmp(buildarch, "arm64"))
		return XPXE_ARCH_ARM64;
	if (!strcmp(buildarch, "arm32"))
		return XPXE_ARCH_ARM32;
	return XPXE_ARCH_UNKNOWN;
}

static unsigned le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static enum xpxe_arch of_pe_machine(unsigned machine)
{
	switch (machine) {
	case XPXE_PE_MACHINE_X64:
		return XPXE_ARCH_AMD64;
	case XPXE_PE_MACHINE_ARM64:
		return XPXE_ARCH_ARM64;
	case 0x14c:
		return XPXE_ARCH_I386;
	case 0x1c2: /* ARM Thumb, the others arm32 EFI binaries use */
	case 0x1c4:
		return XPXE_ARCH_ARM32;
	default:
		return XPXE_ARCH_UNKNOWN;
	}
}

enum xpxe_arch xpxe_arch_sniff(const uint8_t *head, size_t len)
{
	/* PE (EFI binaries, and kernels with an EFI stub, x86 and arm64 alike): the machine. */
	if (len >= 0x40 && head[0] == 'M' && head[1] == 'Z') {
		uint32_t pe =
		    head[0x3c] | head[0x3d] << 8 | head[0x3e] << 16 | (uint32_t)head[0x3f] << 24;

		if (pe <= len - 6 && !memcmp(head + pe, "PE\0\0", 4))
			return of_pe_machine(le16(head + pe + 4));
	}
	/* ELF: e_machine. */
	if (len >= 20 && !memcmp(head,
				 "\x7f"
				 "ELF",
				 4)) {
		switch (le16(head + 18)) {
		case 62:
			return XPXE_ARCH_AMD64;
		case 183:
			return XPXE_ARCH_ARM64;
		case 3:
			return XPXE_ARCH_I386;
		case 40:
			return XPXE_ARCH_ARM32;
		}
		return XPXE_ARCH_UNKNOWN;
	}
	/* An arm64 Image without EFI stub: "ARM\x64" at 0x38 (arm64 booting.rst). */
	if (len >= 0x3c && !memcmp(head + 0x38, "ARM\x64", 4))
		return XPXE_ARCH_ARM64;
	/* An x86 bzImage: the setup header "HdrS" at 0x202 (x86 boot.rst). */
	if (len >= 0x206 && !memcmp(head + 0x202, "HdrS", 4))
		return XPXE_ARCH_AMD64;
	return XPXE_ARCH_UNKNOWN;
}

bool xpxe_profile_kernel(const struct xpxe_profile_cfg *p, enum xpxe_arch arch, const char **kernel,
			 const char **initrd)
{
	*kernel = *initrd = "";
	if (arch == XPXE_ARCH_AMD64) {
		*kernel = p->kernel;
		*initrd = p->initrd;
	} else if (arch == XPXE_ARCH_ARM64) {
		*kernel = p->kernel_arm64;
		*initrd = p->initrd_arm64;
	}
	return **kernel && **initrd;
}

const char *xpxe_profile_uki(const struct xpxe_profile_cfg *p, enum xpxe_arch arch)
{
	bool uki_arm64 = p->uki[0] && p->uki_machine == XPXE_PE_MACHINE_ARM64;

	if (arch == XPXE_ARCH_ARM64)
		return p->uki_arm64[0] ? p->uki_arm64 : uki_arm64 ? p->uki : NULL;
	/* uki_machine 0: not checked (yet); x86, as a profile's uki was before arm64. */
	if (arch == XPXE_ARCH_AMD64)
		return p->uki[0] && !uki_arm64 ? p->uki : NULL;
	return NULL;
}

enum xpxe_arch xpxe_asset_arch(const struct xpxe_config *cfg, const char *name, const uint8_t *head,
			       size_t len)
{
	enum xpxe_arch sniffed = xpxe_arch_sniff(head, len);
	bool amd64 = false, arm64 = false;

	if (sniffed != XPXE_ARCH_UNKNOWN)
		return sniffed;
	/* An initramfs says nothing of itself: the profiles that name it do. */
	for (int i = 0; cfg && i < cfg->n_profiles; i++) {
		const struct xpxe_profile_cfg *p = &cfg->profiles[i];

		amd64 |= !strcmp(p->kernel, name) || !strcmp(p->initrd, name);
		arm64 |= !strcmp(p->kernel_arm64, name) || !strcmp(p->initrd_arm64, name);
	}
	return amd64 == arm64 ? XPXE_ARCH_UNKNOWN : amd64 ? XPXE_ARCH_AMD64 : XPXE_ARCH_ARM64;
}
