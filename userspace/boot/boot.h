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
/*
 * arm64 UEFI firmware's second stage when a profile has arm64 files and no
 * transport of its own says otherwise: Debian's netboot GRUB, served as this
 * asset (XPXE_GRUB_ARM64 where grub-efi-arm64-signed is installed, or named
 * under assets; scripts/arm64.sh fetches it), reading grub.cfg as above.
 */
#define XPXE_GRUB_ARM64_NAME "grubaa64.efi"
/* The name GRUB reads its first config under (its embedded prefix is /grub). */
#define XPXE_GRUB_CFG_NAME "grub/grub.cfg"

/*
 * Whether CFG needs grub/grub.cfg (and Debian's GRUB among its assets): a grub
 * profile, or one with arm64 files (arm64 machines boot through GRUB).
 */
bool xpxe_boot_uses_grub(const struct xpxe_config *cfg);

/*
 * Whether NAME (a TFTP file name) is one shim or GRUB asks for and goes on without: shim's
 * revocations_N.efi and shim_certificate_N.efi, the .lst files of GRUB's grub/ARCH-efi folder.
 * Refusing it is the expected answer, not a machine's problem.
 */
bool xpxe_boot_optional_file(const char *name);

/* --- architectures (boot/arch.c) ----------------------------------------------------------- */

enum xpxe_arch {
	XPXE_ARCH_UNKNOWN = 0, /* not said, or not one a file tells */
	XPXE_ARCH_AMD64,       /* x86: a profile's kernel and initrd */
	XPXE_ARCH_ARM64,       /* its kernel_arm64 and initrd_arm64 */
	XPXE_ARCH_I386,	       /* what a file may be; no profile keeps files for these */
	XPXE_ARCH_ARM32,
};

/* "amd64", "arm64", "i386", "arm32"; "-" for unknown. */
const char *xpxe_arch_name(enum xpxe_arch arch);

/*
 * The architecture of iPXE's ${buildarch}: x86_64 and i386 (iPXE's BIOS build,
 * on any x86 CPU) are amd64, and so is none (an old chain script); arm64,
 * arm32; anything else unknown.
 */
enum xpxe_arch xpxe_arch_of_buildarch(const char *buildarch);

/*
 * What a file's first LEN bytes say it runs on: PE's machine (EFI binaries,
 * kernels with an EFI stub), ELF's, an arm64 Image's or an x86 bzImage's
 * magic. Unknown for anything else (an initramfs).
 */
enum xpxe_arch xpxe_arch_sniff(const uint8_t *head, size_t len);

/* P's kernel and initrd for ARCH into *KERNEL, *INITRD (""); false when P has none for it. */
bool xpxe_profile_kernel(const struct xpxe_profile_cfg *p, enum xpxe_arch arch, const char **kernel,
			 const char **initrd);

/*
 * The UKI of profile P for machines of ARCH: uki_arm64 for arm64 (or uki, when
 * that is an arm64 image), uki for amd64 unless it is arm64's. NULL: none.
 */
const char *xpxe_profile_uki(const struct xpxe_profile_cfg *p, enum xpxe_arch arch);

/*
 * Which architecture asset NAME is for, as `xpxe assets` shows it: sniffed
 * from its first bytes HEAD, else from the profiles that name it (an initrd
 * of arm64 machines only is arm64's); unknown when neither tells.
 */
enum xpxe_arch xpxe_asset_arch(const struct xpxe_config *cfg, const char *name, const uint8_t *head,
			       size_t len);

#endif /* XPXE_BOOT_H */
