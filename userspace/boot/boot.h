/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_BOOT_H
#define XPXE_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Secure Boot's two ways in (issue 25), apart from the daemon's plumbing:
 *
 * UKIs: a Unified Kernel Image is one PE/COFF EFI binary holding the kernel
 * (.linux), the initramfs (.initrd) and the command line (.cmdline), signed as
 * a whole. xpxe checks a UKI when it loads it (xpxe_uki_check) and reads its
 * command line: under Secure Boot the stub ignores any other, so talos.config=
 * must be in it (xpxe_uki_talos_config reads it out, for the log at load).
 *
 * shim + GRUB: Microsoft-signed shim loads the distribution's signed GRUB,
 * which reads grub.cfg: xpxe renders it from the inventory and the profiles
 * (xpxe_grub_render), as it renders iPXE scripts.
 */

struct xpxe_config;
struct xpxe_config_error;
struct xpxe_dhcp_profile;
struct xpxe_inventory;
struct xpxe_profile_cfg;

/* What a UKI holds, as xpxe_uki_check found it. */
struct xpxe_uki_info {
	uint16_t machine;   /* PE machine type: 0x8664 x86-64, 0xaa64 arm64 */
	bool has_initrd;    /* a .initrd section */
	bool signed_image;  /* an Authenticode signature (the certificate table) */
	char cmdline[4096]; /* the .cmdline section, NUL-terminated; "" when none */
	uint64_t linux_size, initrd_size;
};

#define XPXE_PE_MACHINE_X64   0x8664
#define XPXE_PE_MACHINE_ARM64 0xaa64

/*
 * Checks that the LEN bytes at IMAGE are a UKI: an EFI application (PE32+ of
 * a known machine) with a .linux section that lies inside the file. Fills
 * INFO. Returns 0, or -EINVAL with WHY saying what is wrong in one line.
 */
int xpxe_uki_parse(const uint8_t *image, size_t len, struct xpxe_uki_info *info, char *why,
		   size_t why_size);

/* The same for the file PATH (mapped read-only, not copied). -errno when it cannot be read. */
int xpxe_uki_check(const char *path, struct xpxe_uki_info *info, char *why, size_t why_size);

/* "x86-64", "arm64" or "machine 0x...." for messages. */
const char *xpxe_pe_machine_name(uint16_t machine, char *buf, size_t size);

/*
 * The talos.config= value of CMDLINE (the first, as Talos takes it) into OUT;
 * false when there is none.
 */
bool xpxe_uki_talos_config(const char *cmdline, char *out, size_t size);

/*
 * GRUB's grub.cfg (served over TFTP as grub/grub.cfg, where Debian's signed
 * netboot GRUB looks: its prefix is /grub). Signed GRUB cannot load modules
 * under Secure Boot and Debian's netboot image has no HTTP, so everything is
 * in this one file, fetched over TFTP: it reads the machine's SMBIOS UUID,
 * sends machines marked installed back to the firmware (boot-once: the next
 * boot option, the disk), boots each machine of the inventory with its
 * profile's kernel and initrd over TFTP and Talos's arguments, and machines
 * outside it with the default profile's. talos.config= carries the MAC and
 * UUID that GRUB reads (${net_default_mac}, smbios), pointing at CONFIG_BASE.
 * Call with the inventory's lock held. Returns a malloc'd text of *LEN bytes,
 * or NULL when out of memory.
 */
char *xpxe_grub_render(const struct xpxe_config *cfg, struct xpxe_inventory *inv,
		       const char *config_base, size_t *len);

/*
 * Quotes ARG for GRUB's script language: single quotes, each ' written as
 * '\''. Returns the length written, or -ENOSPC.
 */
int xpxe_grub_quote(char *buf, size_t size, const char *arg);

/* --- profiles (boot/profile.c): what the config's uki and grub profiles need ------------- */

/*
 * Checks each uki profile's UKI (xpxe_uki_check) and records its machine type
 * in the profile; logs what its command line says about talos.config=. Checks
 * that grub profiles have shim and GRUB to serve. Run once the assets are
 * known (defaults included). Returns 0 or -EINVAL with ERR saying which
 * profile and why.
 */
int xpxe_boot_check_profiles(struct xpxe_config *cfg, struct xpxe_config_error *err);

/*
 * The boot files of profile PC's transport for the classes its config left
 * alone (SET): uki profiles give HTTP boot clients of the UKI's architecture
 * HTTP_BASE/uki/NAME; grub profiles give UEFI PXE clients shim (shimx64.efi,
 * shimaa64.efi). Others are left as they are.
 */
void xpxe_boot_profile_files(struct xpxe_dhcp_profile *p, const bool set[],
			     const struct xpxe_profile_cfg *pc, const char *http_base);

/* Debian's shim-signed and grub-efi-*-signed: the assets a grub profile serves by default. */
#define XPXE_SHIM_X64	"/usr/lib/shim/shimx64.efi.signed"
#define XPXE_GRUB_X64	"/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"
#define XPXE_SHIM_ARM64 "/usr/lib/shim/shimaa64.efi.signed"
#define XPXE_GRUB_ARM64 "/usr/lib/grub/arm64-efi-signed/grubnetaa64.efi.signed"
/* The name GRUB reads its first config under (its embedded prefix is /grub). */
#define XPXE_GRUB_CFG_NAME "grub/grub.cfg"

#endif /* XPXE_BOOT_H */
