// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What uki and grub profiles need from the config, and the boot files they give. */
#include <fnmatch.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "config.h"
#include "dhcp_settings.h"
#include "log.h"

static int profile_fail(struct xpxe_config_error *err, const struct xpxe_config *cfg,
			const struct xpxe_profile_cfg *p, const char *what, const char *why)
{
	snprintf(err->text, sizeof(err->text), "%s: profile '%s': %s: %s",
		 cfg->path[0] ? cfg->path : "flags", p->name, what, why);
	return -EINVAL;
}

/* What the UKI's own command line means for its machines' configs, said once at load. */
static void note_cmdline(const struct xpxe_profile_cfg *p, const struct xpxe_asset_cfg *a,
			 const struct xpxe_uki_info *info)
{
	char url[1024], mbuf[24];

	log_info("profile %s: UKI %s (%s): %s, %s, kernel %llu bytes, initramfs %llu bytes, "
		 "command line '%s'",
		 p->name, a->name, a->path, xpxe_pe_machine_name(info->machine, mbuf, sizeof(mbuf)),
		 info->signed_image ? "signed" : "NOT signed", (unsigned long long)info->linux_size,
		 (unsigned long long)info->initrd_size, info->cmdline);
	if (!info->signed_image)
		log_warn("profile %s: UKI %s carries no signature: firmware with Secure Boot on "
			 "refuses it (sign it with sbsign or ukify)",
			 p->name, a->name);
	if (!xpxe_uki_talos_config(info->cmdline, url, sizeof(url)))
		log_warn("profile %s: UKI %s has no talos.config= in its command line, and under "
			 "Secure Boot nothing can add one: its machines get no config from xpxe "
			 "(Talos waits in maintenance mode). Build it with "
			 "talos.config=http(s)://SERVER/talos/config?mac=${mac}&uuid=${uuid}"
			 "&serial=${serial} (Image Factory: customization.extraKernelArgs)",
			 p->name, a->name);
	else if (!strstr(url, "/talos/config"))
		log_warn("profile %s: UKI %s's talos.config=%s is not xpxe's /talos/config: its "
			 "machines fetch their config elsewhere",
			 p->name, a->name, url);
}

/* What the file of asset NAME is for, from its first bytes; unknown when it cannot be read. */
static enum xpxe_arch file_arch(const struct xpxe_config *cfg, const char *name)
{
	const struct xpxe_asset_cfg *a = xpxe_config_asset(cfg, name);
	uint8_t head[4096];
	ssize_t n = -1;
	int fd;

	if (!a || (fd = open(a->path, O_RDONLY | O_CLOEXEC)) < 0)
		return XPXE_ARCH_UNKNOWN; /* the asset load says why, in its own words */
	n = read(fd, head, sizeof(head));
	close(fd);
	return n > 0 ? xpxe_arch_sniff(head, (size_t)n) : XPXE_ARCH_UNKNOWN;
}

/*
 * A kernel for the wrong machines boots nothing and says nothing: refused at
 * load. An amd64 kernel must not be arm64's and an arm64 one must be arm64's
 * (or of no architecture a header tells).
 */
static int check_arch(struct xpxe_config *cfg, struct xpxe_profile_cfg *p,
		      struct xpxe_config_error *err)
{
	enum xpxe_arch a;
	char what[XPXE_CFG_NAME_MAX + 40], why[80];

	if (p->kernel[0] && (a = file_arch(cfg, p->kernel)) != XPXE_ARCH_UNKNOWN &&
	    a != XPXE_ARCH_AMD64) {
		snprintf(what, sizeof(what), "kernel %s", p->kernel);
		snprintf(why, sizeof(why),
			 "an %s kernel: name it as kernel_arm64 (kernel is amd64's)",
			 xpxe_arch_name(a));
		return profile_fail(err, cfg, p, what, why);
	}
	if (p->kernel_arm64[0] && (a = file_arch(cfg, p->kernel_arm64)) != XPXE_ARCH_UNKNOWN &&
	    a != XPXE_ARCH_ARM64) {
		snprintf(what, sizeof(what), "kernel_arm64 %s", p->kernel_arm64);
		snprintf(why, sizeof(why), "an %s kernel, not arm64's", xpxe_arch_name(a));
		return profile_fail(err, cfg, p, what, why);
	}
	p->arm64_grub = false;
	if (p->kernel_arm64[0] && p->transport != XPXE_TRANSPORT_UKI) {
		p->arm64_grub = xpxe_config_asset(cfg, XPXE_GRUB_ARM64_NAME) != NULL;
		if (!p->arm64_grub)
			log_warn("profile %s: arm64 machines get no second stage: no asset %s "
				 "(install grub-efi-arm64-signed, whose %s it is, or name one "
				 "under assets: scripts/arm64.sh fetch gets Debian's)",
				 p->name, XPXE_GRUB_ARM64_NAME, XPXE_GRUB_ARM64);
	}
	return 0;
}

bool xpxe_boot_uses_grub(const struct xpxe_config *cfg)
{
	for (int i = 0; i < cfg->n_profiles; i++)
		if (cfg->profiles[i].transport == XPXE_TRANSPORT_GRUB ||
		    (cfg->profiles[i].kernel_arm64[0] &&
		     cfg->profiles[i].transport != XPXE_TRANSPORT_UKI))
			return true;
	return false;
}

bool xpxe_boot_optional_file(const char *name)
{
	const char *base;

	name += strspn(name, "/");
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	return !fnmatch("revocations_*.efi", base, 0) ||
	       !fnmatch("shim_certificate_*.efi", base, 0) ||
	       !fnmatch("grub/*-efi/*.lst", name, FNM_PATHNAME);
}

int xpxe_boot_check_profiles(struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	for (int i = 0; i < cfg->n_profiles; i++) {
		struct xpxe_profile_cfg *p = &cfg->profiles[i];

		if (check_arch(cfg, p, err))
			return -EINVAL;

		if (p->uki[0]) {
			const struct xpxe_asset_cfg *a = xpxe_config_asset(cfg, p->uki);
			struct xpxe_uki_info info;
			char why[300], what[XPXE_CFG_PATH_MAX + 80];

			if (!a)
				return profile_fail(err, cfg, p, p->uki, "no such asset");
			snprintf(what, sizeof(what), "UKI %s (%s)", a->name, a->path);
			if (xpxe_uki_check(a->path, &info, why, sizeof(why)))
				return profile_fail(err, cfg, p, what, why);
			p->uki_machine = info.machine;
			note_cmdline(p, a, &info);
		}
		if (p->uki_arm64[0]) {
			const struct xpxe_asset_cfg *a = xpxe_config_asset(cfg, p->uki_arm64);
			struct xpxe_uki_info info;
			char why[300], what[XPXE_CFG_PATH_MAX + 80];

			if (!a)
				return profile_fail(err, cfg, p, p->uki_arm64, "no such asset");
			snprintf(what, sizeof(what), "uki_arm64 %s (%s)", a->name, a->path);
			if (xpxe_uki_check(a->path, &info, why, sizeof(why)))
				return profile_fail(err, cfg, p, what, why);
			if (info.machine != XPXE_PE_MACHINE_ARM64) {
				char mbuf[24];

				snprintf(why, sizeof(why), "a UKI for %s, not arm64",
					 xpxe_pe_machine_name(info.machine, mbuf, sizeof(mbuf)));
				return profile_fail(err, cfg, p, what, why);
			}
			note_cmdline(p, a, &info);
		}
		if (p->transport == XPXE_TRANSPORT_GRUB) {
			if (!p->kernel[0] || !p->initrd[0])
				return profile_fail(err, cfg, p, "transport grub",
						    "it needs a kernel and an initrd to boot");
			if (!xpxe_config_asset(cfg, "shimx64.efi") ||
			    !xpxe_config_asset(cfg, "grubx64.efi"))
				return profile_fail(
				    err, cfg, p, "transport grub",
				    "no assets shimx64.efi and grubx64.efi to serve (install "
				    "shim-signed and grub-efi-amd64-signed, or name them under "
				    "assets)");
		}
	}
	return 0;
}

void xpxe_boot_profile_files(struct xpxe_dhcp_profile *p, const bool set[],
			     const struct xpxe_profile_cfg *pc, const char *http_base)
{
	if (pc->transport == XPXE_TRANSPORT_UKI && pc->uki[0]) {
		int class = pc->uki_machine == XPXE_PE_MACHINE_ARM64 ? XPXE_BOOT_HTTP_ARM64
			    : pc->uki_machine == 0x14c		     ? XPXE_BOOT_HTTP_IA32
								     : XPXE_BOOT_HTTP_X64;

		if (!set[class])
			snprintf(p->boot_file[class], XPXE_BOOT_FILE_MAX, "%s/uki/%s", http_base,
				 pc->uki);
	}
	/*
	 * arm64 UEFI firmware runs no iPXE (Debian ships none for it): GRUB, whose
	 * grub.cfg boots the profile's arm64 files over TFTP (PXE) or HTTP (HTTP boot).
	 */
	if (pc->arm64_grub && pc->transport != XPXE_TRANSPORT_GRUB && !set[XPXE_BOOT_UEFI_ARM64])
		snprintf(p->boot_file[XPXE_BOOT_UEFI_ARM64], XPXE_BOOT_FILE_MAX, "%s",
			 XPXE_GRUB_ARM64_NAME);
	/*
	 * HTTP boot: that GRUB, loaded over HTTP, finds no network config (it reads
	 * PXE's DHCP answer, which HTTP boot leaves none of) and stops at its prompt,
	 * measured with AAVMF. arm64 HTTP boot clients get the profile's arm64 UKI,
	 * or nothing (pass_dhcp_no_boot_file) rather than a machine stuck there.
	 */
	if (pc->uki_arm64[0] && !set[XPXE_BOOT_HTTP_ARM64])
		snprintf(p->boot_file[XPXE_BOOT_HTTP_ARM64], XPXE_BOOT_FILE_MAX, "%s/uki/%s",
			 http_base, pc->uki_arm64);
	if (pc->transport == XPXE_TRANSPORT_GRUB) {
		if (!set[XPXE_BOOT_UEFI_X64])
			snprintf(p->boot_file[XPXE_BOOT_UEFI_X64], XPXE_BOOT_FILE_MAX,
				 "shimx64.efi");
		if (!set[XPXE_BOOT_UEFI_ARM64])
			snprintf(p->boot_file[XPXE_BOOT_UEFI_ARM64], XPXE_BOOT_FILE_MAX,
				 "shimaa64.efi");
	}
}
