// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Secure Boot's pieces (issue 25): the UKI check on PE images built here byte
 * by byte, GRUB's quoting and grub.cfg, the boot files of uki and grub
 * profiles, and the config keys that turn them on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/boot.h"
#include "config.h"
#include "dhcp/dhcp.h"
#include "inventory.h"

/* --- PE images ----------------------------------------------------------------------- */

struct section {
	const char *name;
	const char *data;
	size_t len;
	size_t claim; /* SizeOfRawData to write; 0: LEN rounded up */
};

#define PE_AT	 0x40
#define OPT_SIZE 240 /* PE32+: 112 bytes, then 16 data directories */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

/* A PE32+ image of MACHINE and SUBSYSTEM with the sections S; *LEN its size. */
static uint8_t *pe(uint16_t machine, uint16_t subsystem, bool signed_image, const struct section *s,
		   int n, size_t *len)
{
	size_t headers = PE_AT + 24 + OPT_SIZE + 40 * n, pos, size = headers;
	uint8_t *img;

	for (int i = 0; i < n; i++)
		size += (s[i].len + 15) & ~15u;
	img = calloc(1, size);
	assert_non_null(img);
	img[0] = 'M';
	img[1] = 'Z';
	put32(img + 0x3c, PE_AT);
	memcpy(img + PE_AT, "PE\0\0", 4);
	put16(img + PE_AT + 4, machine);
	put16(img + PE_AT + 6, n);
	put16(img + PE_AT + 20, OPT_SIZE);
	put16(img + PE_AT + 24, 0x20b);
	put16(img + PE_AT + 24 + 68, subsystem);
	put32(img + PE_AT + 24 + 108, 16);
	if (signed_image) {
		put32(img + PE_AT + 24 + 112 + 4 * 8, (uint32_t)size);
		put32(img + PE_AT + 24 + 112 + 4 * 8 + 4, 8);
	}
	pos = headers;
	for (int i = 0; i < n; i++) {
		uint8_t *h = img + PE_AT + 24 + OPT_SIZE + 40 * i;
		size_t raw = (s[i].len + 15) & ~15u;

		memcpy(h, s[i].name, strlen(s[i].name));
		put32(h + 8, (uint32_t)s[i].len);
		put32(h + 16, (uint32_t)(s[i].claim ? s[i].claim : raw));
		put32(h + 20, (uint32_t)pos);
		memcpy(img + pos, s[i].data, s[i].len);
		pos += raw;
	}
	*len = size;
	return img;
}

#define CMDLINE "talos.platform=metal talos.config=https://x:8443/talos/config?mac=${mac} a\n"

static const struct section uki_sections[] = {
	{ ".osrel", "ID=t\n", 5, 0 },
	{ ".cmdline", CMDLINE, sizeof(CMDLINE), 0 },
	{ ".linux", "KERNEL-BYTES", 12, 0 },
	{ ".initrd", "INITRD", 6, 0 },
};

static int parse(const uint8_t *img, size_t len, struct xpxe_uki_info *info, char *why)
{
	why[0] = '\0';
	return xpxe_uki_parse(img, len, info, why, 300);
}

static void test_uki_valid(void **state)
{
	struct xpxe_uki_info info;
	char why[300], url[200];
	size_t len;
	uint8_t *img = pe(0x8664, 10, false, uki_sections, 4, &len);

	(void)state;
	assert_int_equal(parse(img, len, &info, why), 0);
	assert_int_equal(info.machine, XPXE_PE_MACHINE_X64);
	assert_false(info.signed_image);
	assert_int_equal(info.linux_size, 12);
	assert_int_equal(info.initrd_size, 6);
	/* Up to the NUL, the trailing newline gone. */
	assert_string_equal(info.cmdline,
			    "talos.platform=metal talos.config=https://x:8443/talos/config"
			    "?mac=${mac} a");
	assert_true(xpxe_uki_talos_config(info.cmdline, url, sizeof(url)));
	assert_string_equal(url, "https://x:8443/talos/config?mac=${mac}");
	assert_false(xpxe_uki_talos_config("talos.platform=metal talos.configx=1", url, 200));
	free(img);

	img = pe(0xaa64, 10, true, uki_sections, 4, &len);
	assert_int_equal(parse(img, len, &info, why), 0);
	assert_int_equal(info.machine, XPXE_PE_MACHINE_ARM64);
	assert_true(info.signed_image);
	free(img);
}

/* Each bad image: refused, and the reason names what is wrong. */
static void test_uki_refused(void **state)
{
	static const struct section no_linux[] = { { ".cmdline", "x", 1, 0 },
						   { ".initrd", "I", 1, 0 } };
	static const struct section no_initrd[] = { { ".linux", "K", 1, 0 } };
	static const struct section past_end[] = { { ".linux", "K", 1, 1 << 20 },
						   { ".initrd", "I", 1, 0 } };
	static const struct {
		uint16_t machine, subsystem;
		const struct section *s;
		int n;
		const char *why;
	} cases[] = {
		{ 0x8664, 3, uki_sections, 4, "not an EFI application (subsystem 3)" },
		{ 0x1234, 10, uki_sections, 4, "machine 0x1234" },
		{ 0x8664, 10, no_linux, 2, "no .linux section" },
		{ 0x8664, 10, no_initrd, 1, "without an .initrd section" },
		{ 0x8664, 10, past_end, 2, "past the end of the file" },
	};
	struct xpxe_uki_info info;
	char why[300];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *img =
		    pe(cases[i].machine, cases[i].subsystem, false, cases[i].s, cases[i].n, &len);

		assert_int_equal(parse(img, len, &info, why), -EINVAL);
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, why, cases[i].why);
		free(img);
	}
	assert_int_equal(parse((const uint8_t *)"#!/bin/sh\n", 10, &info, why), -EINVAL);
	assert_non_null(strstr(why, "no 'MZ' header"));
	{
		uint8_t *img = pe(0x8664, 10, false, uki_sections, 4, &len);

		put32(img + 0x3c, 0xfffffff0); /* e_lfanew far past the end */
		assert_int_equal(parse(img, len, &info, why), -EINVAL);
		assert_non_null(strstr(why, "no 'PE' signature"));
		free(img);
	}
}

/* A UKI cut anywhere is refused, never read past its end (ASan watches the heap copy). */
static void test_uki_every_truncation(void **state)
{
	struct xpxe_uki_info info;
	char why[300];
	size_t len;
	uint8_t *img = pe(0x8664, 10, false, uki_sections, 4, &len);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, img, cut);
		if (parse(copy, cut, &info, why) == 0)
			fail_msg("a UKI cut to %zu of %zu bytes was taken", cut, len);
		free(copy);
	}
	free(img);
}

static void test_uki_check_file(void **state)
{
	struct xpxe_uki_info info;
	char why[300], path[] = "/tmp/xpxe-test-uki.XXXXXX";
	size_t len;
	uint8_t *img = pe(0x8664, 10, false, uki_sections, 4, &len);
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	assert_int_equal(xpxe_uki_check(path, &info, why, sizeof(why)), 0);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(xpxe_uki_check(path, &info, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "the file is empty");
	unlink(path);
	assert_int_equal(xpxe_uki_check(path, &info, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "cannot read it"));
	free(img);
}

/* --- GRUB ---------------------------------------------------------------------------- */

static void test_grub_quote(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(xpxe_grub_quote(buf, sizeof(buf), "console=ttyS0"), 15);
	assert_string_equal(buf, "'console=ttyS0'");
	xpxe_grub_quote(buf, sizeof(buf), "it's $x\n");
	assert_string_equal(buf, "'it'\\''s $x '");
	assert_int_equal(xpxe_grub_quote(buf, 8, "toolongforit"), -ENOSPC);
}

static struct xpxe_config *two_profiles(void)
{
	static struct xpxe_config cfg;
	static struct xpxe_machine_cfg machines[2];

	xpxe_config_defaults(&cfg);
	snprintf(cfg.profiles[0].kernel, XPXE_CFG_NAME_MAX, "vmlinuz");
	snprintf(cfg.profiles[0].initrd, XPXE_CFG_NAME_MAX, "initramfs");
	snprintf(cfg.profiles[0].cmdline, XPXE_CFG_CMDLINE_MAX, "console=ttyS0 x='y'");
	cfg.profiles[0].transport = XPXE_TRANSPORT_GRUB;
	cfg.n_profiles = 2;
	snprintf(cfg.profiles[1].name, XPXE_CFG_NAME_MAX, "workers");
	snprintf(cfg.profiles[1].kernel, XPXE_CFG_NAME_MAX, "k2");
	snprintf(cfg.profiles[1].initrd, XPXE_CFG_NAME_MAX, "i2");
	memset(machines, 0, sizeof(machines));
	machines[0] = (struct xpxe_machine_cfg){ .macs = { { 0x52, 0x54, 0, 0, 0, 1 },
							   { 0x52, 0x54, 0, 0, 0, 2 } },
						 .n_macs = 2,
						 .uuid = "00000000-0000-4000-8000-000000000001",
						 .hostname = "w-1",
						 .profile = 1 };
	machines[1] = (struct xpxe_machine_cfg){ .uuid = "00000000-0000-4000-8000-000000000009",
						 .hostname = "by-uuid",
						 .profile = -1 };
	cfg.machines = machines;
	cfg.n_machines = 2;
	return &cfg;
}

static void test_grub_render(void **state)
{
	struct xpxe_config *cfg = two_profiles();
	struct installed marks[] = { { "mac:52:54:00:00:00:01", 0 },
				     { "uuid:00000000-0000-4000-8000-0000000000aa", 0 },
				     { "serial:SN1", 0 } };
	struct xpxe_inventory inv = { .installed = marks, .n_installed = 3 };
	size_t len;
	char *text;

	(void)state;
	text = xpxe_grub_render(cfg, &inv, "https://198.18.0.1:8443", &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
#define HAS(s)                                                         \
	do {                                                           \
		if (!strstr(text, s))                                  \
			fail_msg("grub.cfg lacks '%s':\n%s", s, text); \
	} while (0)
	HAS("smbios --type 1 --get-uuid 8 --set xpxe_uuid\n");
	HAS("set xpxe_config=\"talos.config=https://198.18.0.1:8443/talos/config"
	    "?mac=${net_default_mac}&uuid=${xpxe_uuid}\"\n");
	/* Each profile that boots a kernel, over TFTP, its arguments quoted. */
	HAS("function xpxe_profile_0 {\n");
	HAS("\telse\n\t\tlinux '/vmlinuz' talos.platform=metal slab_nomerge pti=on 'console=ttyS0' "
	    "'x='\\''y'\\''' \"$xpxe_config\"\n\t\tinitrd '/initramfs'\n\tfi\n\tboot\n");
	HAS("\techo \"xpxe: booting $1, profile\" 'workers'\n"
	    "\tif [ \"$grub_cpu\" = arm64 ]; then\n"
	    "\t\techo \"xpxe: $1 is arm64 and profile\" 'workers' \"has no arm64 kernel: back to "
	    "the firmware\"\n\t\tsleep 5\n\t\texit 1\n"
	    "\telse\n\t\tlinux '/k2' talos.platform=metal slab_nomerge pti=on \"$xpxe_config\"\n");
	/* Boot-once: installed MACs and UUIDs, by name where the inventory has one. */
	HAS("if [ \"$net_default_mac\" = \"52:54:00:00:00:01\" ]; then\n\txpxe_local 'w-1'\nfi\n");
	HAS("if [ \"$xpxe_uuid\" = \"00000000-0000-4000-8000-0000000000aa\" ]; then\n"
	    "\txpxe_local 'uuid:00000000-0000-4000-8000-0000000000aa'\nfi\n");
	assert_null(strstr(text, "SN1")); /* GRUB cannot read a serial: no test for it */
	HAS("chainloader ($xpxe_disk)$xpxe_loader\n");
	/* Machines: any MAC or the UUID; the default profile for one without its own. */
	HAS("if [ \"$net_default_mac\" = \"52:54:00:00:00:01\" ] -o [ \"$net_default_mac\" = "
	    "\"52:54:00:00:00:02\" ] -o [ \"$xpxe_uuid\" = "
	    "\"00000000-0000-4000-8000-000000000001\" ]; then\n\txpxe_profile_1 'w-1'\nfi\n");
	HAS("if [ \"$xpxe_uuid\" = \"00000000-0000-4000-8000-000000000009\" ]; then\n"
	    "\txpxe_profile_0 'by-uuid'\nfi\n");
	HAS("xpxe_profile_0 \"$net_default_mac (not in the inventory)\"\n");
	/* The installed ones come before any boot. */
	assert_true(strstr(text, "xpxe_local 'w-1'") < strstr(text, "xpxe_profile_1 'w-1'"));
	free(text);

	/* Unknown machines ignored (default_profile: none): they go back to the firmware. */
	cfg->default_profile = -1;
	text = xpxe_grub_render(cfg, &inv, "http://s:8080", &len);
	HAS("is not in the inventory and the default profile boots no kernel");
	assert_null(strstr(text, "(not in the inventory)\"\n"));
#undef HAS
	free(text);
}

/* One profile, two architectures: GRUB's $grub_cpu picks each one's files, or says it has none. */
static void test_grub_render_arches(void **state)
{
	struct xpxe_config *cfg = two_profiles();
	struct xpxe_inventory inv = { 0 };
	size_t len;
	char *text;

	(void)state;
	snprintf(cfg->profiles[1].kernel_arm64, XPXE_CFG_NAME_MAX, "k2-arm64");
	snprintf(cfg->profiles[1].initrd_arm64, XPXE_CFG_NAME_MAX, "i2-arm64");
	/* An arm64-only profile: an amd64 GRUB (shim's, Secure Boot) is told so. */
	cfg->profiles[0].kernel[0] = cfg->profiles[0].initrd[0] = '\0';
	snprintf(cfg->profiles[0].kernel_arm64, XPXE_CFG_NAME_MAX, "vmlinuz-arm64");
	snprintf(cfg->profiles[0].initrd_arm64, XPXE_CFG_NAME_MAX, "initramfs-arm64");
	text = xpxe_grub_render(cfg, &inv, "http://s:8080", &len);
	assert_non_null(text);
#define HAS(s)                                                         \
	do {                                                           \
		if (!strstr(text, s))                                  \
			fail_msg("grub.cfg lacks '%s':\n%s", s, text); \
	} while (0)
	HAS("\tif [ \"$grub_cpu\" = arm64 ]; then\n"
	    "\t\tlinux '/k2-arm64' talos.platform=metal slab_nomerge pti=on \"$xpxe_config\"\n"
	    "\t\tinitrd '/i2-arm64'\n"
	    "\telse\n"
	    "\t\tlinux '/k2' talos.platform=metal slab_nomerge pti=on \"$xpxe_config\"\n"
	    "\t\tinitrd '/i2'\n"
	    "\tfi\n\tboot\n");
	HAS("\t\tlinux '/vmlinuz-arm64' talos.platform=metal slab_nomerge pti=on 'console=ttyS0' ");
	HAS("\telse\n\t\techo \"xpxe: $1 is amd64 and profile\" 'default' \"has no amd64 kernel: "
	    "back to the firmware\"\n\t\tsleep 5\n\t\texit 1\n\tfi\n");
	/* A profile with arm64 files only still boots its machines (the default here). */
	HAS("xpxe_profile_0 \"$net_default_mac (not in the inventory)\"\n");
#undef HAS
	free(text);
	/* two_profiles' config is shared: as it was. */
	snprintf(cfg->profiles[0].kernel, XPXE_CFG_NAME_MAX, "vmlinuz");
	snprintf(cfg->profiles[0].initrd, XPXE_CFG_NAME_MAX, "initramfs");
	cfg->profiles[0].kernel_arm64[0] = cfg->profiles[0].initrd_arm64[0] = '\0';
	cfg->profiles[1].kernel_arm64[0] = cfg->profiles[1].initrd_arm64[0] = '\0';
}

/* --- architectures ------------------------------------------------------------------------ */

static void test_arch_sniff(void **state)
{
	static const struct section text[] = { { ".text", "X", 1, 0 } };
	uint8_t head[0x300] = { 0 }, *img;
	size_t len;

	(void)state;
	/* PE: EFI binaries and kernels with an EFI stub, by their machine. */
	img = pe(XPXE_PE_MACHINE_ARM64, 10, false, text, 1, &len);
	assert_int_equal(xpxe_arch_sniff(img, len), XPXE_ARCH_ARM64);
	/* A PE header past what was read: not guessed. */
	assert_int_equal(xpxe_arch_sniff(img, PE_AT + 3), XPXE_ARCH_UNKNOWN);
	free(img);
	img = pe(XPXE_PE_MACHINE_X64, 10, false, text, 1, &len);
	assert_int_equal(xpxe_arch_sniff(img, len), XPXE_ARCH_AMD64);
	put16(img + PE_AT + 4, 0x14c);
	assert_int_equal(xpxe_arch_sniff(img, len), XPXE_ARCH_I386);
	put16(img + PE_AT + 4, 0x1c4);
	assert_int_equal(xpxe_arch_sniff(img, len), XPXE_ARCH_ARM32);
	/* e_lfanew pointing anywhere, even near the top of 32 bits: no read there. */
	put32(img + 0x3c, 0xfffffffe);
	assert_int_equal(xpxe_arch_sniff(img, len), XPXE_ARCH_UNKNOWN);
	free(img);
	/* ELF by e_machine. */
	memcpy(head,
	       "\x7f"
	       "ELF",
	       4);
	put16(head + 18, 183);
	assert_int_equal(xpxe_arch_sniff(head, 64), XPXE_ARCH_ARM64);
	put16(head + 18, 62);
	assert_int_equal(xpxe_arch_sniff(head, 64), XPXE_ARCH_AMD64);
	put16(head + 18, 8); /* MIPS */
	assert_int_equal(xpxe_arch_sniff(head, 64), XPXE_ARCH_UNKNOWN);
	/* An arm64 Image without EFI stub; an x86 bzImage; a gzip'd initramfs. */
	memset(head, 0, sizeof(head));
	memcpy(head + 0x38, "ARM\x64", 4);
	assert_int_equal(xpxe_arch_sniff(head, sizeof(head)), XPXE_ARCH_ARM64);
	assert_int_equal(xpxe_arch_sniff(head, 0x3b), XPXE_ARCH_UNKNOWN);
	memset(head, 0, sizeof(head));
	memcpy(head + 0x202, "HdrS", 4);
	assert_int_equal(xpxe_arch_sniff(head, sizeof(head)), XPXE_ARCH_AMD64);
	memset(head, 0, sizeof(head));
	head[0] = 0x1f;
	head[1] = 0x8b;
	assert_int_equal(xpxe_arch_sniff(head, sizeof(head)), XPXE_ARCH_UNKNOWN);
	assert_int_equal(xpxe_arch_sniff(head, 0), XPXE_ARCH_UNKNOWN);
}

static void test_arch_of_machine(void **state)
{
	struct xpxe_config *cfg = two_profiles();
	const struct xpxe_profile_cfg *p = &cfg->profiles[1];
	const char *k, *i;
	uint8_t gz[64] = { 0x1f, 0x8b };

	(void)state;
	/* iPXE's ${buildarch}: its BIOS build says i386 on amd64 machines. */
	assert_int_equal(xpxe_arch_of_buildarch("x86_64"), XPXE_ARCH_AMD64);
	assert_int_equal(xpxe_arch_of_buildarch("i386"), XPXE_ARCH_AMD64);
	assert_int_equal(xpxe_arch_of_buildarch(NULL), XPXE_ARCH_AMD64);
	assert_int_equal(xpxe_arch_of_buildarch(""), XPXE_ARCH_AMD64);
	assert_int_equal(xpxe_arch_of_buildarch("arm64"), XPXE_ARCH_ARM64);
	assert_int_equal(xpxe_arch_of_buildarch("arm32"), XPXE_ARCH_ARM32);
	assert_int_equal(xpxe_arch_of_buildarch("riscv64"), XPXE_ARCH_UNKNOWN);
	assert_string_equal(xpxe_arch_name(XPXE_ARCH_ARM64), "arm64");
	assert_string_equal(xpxe_arch_name(XPXE_ARCH_UNKNOWN), "-");

	/* A profile without arm64 files has none to give an arm64 machine, never amd64's. */
	assert_true(xpxe_profile_kernel(p, XPXE_ARCH_AMD64, &k, &i));
	assert_string_equal(k, "k2");
	assert_false(xpxe_profile_kernel(p, XPXE_ARCH_ARM64, &k, &i));
	assert_string_equal(k, "");
	assert_false(xpxe_profile_kernel(p, XPXE_ARCH_ARM32, &k, &i));
	assert_false(xpxe_profile_kernel(p, XPXE_ARCH_UNKNOWN, &k, &i));
	snprintf(cfg->profiles[1].kernel_arm64, XPXE_CFG_NAME_MAX, "k2-arm64");
	snprintf(cfg->profiles[1].initrd_arm64, XPXE_CFG_NAME_MAX, "i2-arm64");
	assert_true(xpxe_profile_kernel(p, XPXE_ARCH_ARM64, &k, &i));
	assert_string_equal(k, "k2-arm64");
	assert_string_equal(i, "i2-arm64");

	/* UKIs (transport uki): each architecture's, never the other's. */
	{
		struct xpxe_profile_cfg u = { .uki = "x.efi", .uki_machine = XPXE_PE_MACHINE_X64 };

		assert_string_equal(xpxe_profile_uki(&u, XPXE_ARCH_AMD64), "x.efi");
		assert_null(xpxe_profile_uki(&u, XPXE_ARCH_ARM64));
		snprintf(u.uki_arm64, sizeof(u.uki_arm64), "a.efi");
		assert_string_equal(xpxe_profile_uki(&u, XPXE_ARCH_ARM64), "a.efi");
		assert_null(xpxe_profile_uki(&u, XPXE_ARCH_ARM32));
		/* A profile whose one UKI is arm64's: arm64 machines only. */
		u = (struct xpxe_profile_cfg){ .uki = "a.efi",
					       .uki_machine = XPXE_PE_MACHINE_ARM64 };
		assert_string_equal(xpxe_profile_uki(&u, XPXE_ARCH_ARM64), "a.efi");
		assert_null(xpxe_profile_uki(&u, XPXE_ARCH_AMD64));
	}

	/* An initramfs tells nothing: the profiles that name it do. */
	assert_int_equal(xpxe_asset_arch(cfg, "i2-arm64", gz, sizeof(gz)), XPXE_ARCH_ARM64);
	assert_int_equal(xpxe_asset_arch(cfg, "i2", gz, sizeof(gz)), XPXE_ARCH_AMD64);
	assert_int_equal(xpxe_asset_arch(cfg, "other", gz, sizeof(gz)), XPXE_ARCH_UNKNOWN);
	/* Named by both architectures: no one's in particular. */
	snprintf(cfg->profiles[0].initrd_arm64, XPXE_CFG_NAME_MAX, "i2");
	assert_int_equal(xpxe_asset_arch(cfg, "i2", gz, sizeof(gz)), XPXE_ARCH_UNKNOWN);
	cfg->profiles[0].initrd_arm64[0] = '\0';
	cfg->profiles[1].kernel_arm64[0] = cfg->profiles[1].initrd_arm64[0] = '\0';
}

/* --- profiles ---------------------------------------------------------------------------- */

static void test_profile_files(void **state)
{
	struct xpxe_profile_cfg pc = { .transport = XPXE_TRANSPORT_UKI,
				       .uki = "t.efi",
				       .uki_machine = XPXE_PE_MACHINE_X64 };
	struct xpxe_dhcp_profile p = { 0 };
	bool set[XPXE_BOOT_MAX] = { 0 };

	(void)state;
	xpxe_boot_profile_files(&p, set, &pc, "http://s:8080");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_X64], "http://s:8080/uki/t.efi");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_ARM64], "");
	memset(&p, 0, sizeof(p));
	pc.uki_machine = XPXE_PE_MACHINE_ARM64;
	xpxe_boot_profile_files(&p, set, &pc, "http://s:8080");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_ARM64], "http://s:8080/uki/t.efi");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_X64], "");
	/* A class the config set keeps its file. */
	set[XPXE_BOOT_HTTP_ARM64] = true;
	snprintf(p.boot_file[XPXE_BOOT_HTTP_ARM64], XPXE_BOOT_FILE_MAX, "mine");
	xpxe_boot_profile_files(&p, set, &pc, "http://s:8080");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_ARM64], "mine");

	memset(&p, 0, sizeof(p));
	memset(set, 0, sizeof(set));
	pc = (struct xpxe_profile_cfg){ .transport = XPXE_TRANSPORT_GRUB };
	xpxe_boot_profile_files(&p, set, &pc, "http://s:8080");
	assert_string_equal(p.boot_file[XPXE_BOOT_UEFI_X64], "shimx64.efi");
	assert_string_equal(p.boot_file[XPXE_BOOT_UEFI_ARM64], "shimaa64.efi");
	/* Signed GRUB has no HTTP: HTTP boot clients get no shim. */
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_X64], "");

	/*
	 * arm64 files (http transport): arm64 UEFI PXE clients get Debian's netboot GRUB;
	 * HTTP boot clients nothing (that GRUB stops at its prompt after HTTP boot) unless
	 * the profile has an arm64 UKI; amd64 classes are not touched.
	 */
	memset(&p, 0, sizeof(p));
	pc = (struct xpxe_profile_cfg){ .transport = XPXE_TRANSPORT_HTTP,
					.kernel_arm64 = "k",
					.initrd_arm64 = "i",
					.arm64_grub = true };
	xpxe_boot_profile_files(&p, set, &pc, "http://s:8080");
	assert_string_equal(p.boot_file[XPXE_BOOT_UEFI_ARM64], "grubaa64.efi");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_ARM64], "");
	assert_string_equal(p.boot_file[XPXE_BOOT_UEFI_X64], "");
	snprintf(pc.uki_arm64, sizeof(pc.uki_arm64), "a.efi");
	xpxe_boot_profile_files(&p, set, &pc, "http://s:8080");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_ARM64], "http://s:8080/uki/a.efi");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_X64], "");
	pc.uki_arm64[0] = '\0';
	/*
	 * Without the GRUB asset (or arm64 files) arm64 classes get no boot file: the data
	 * plane answers them nothing and counts pass_dhcp_no_boot_file.
	 */
	memset(&p, 0, sizeof(p));
	pc.arm64_grub = false;
	xpxe_boot_profile_files(&p, set, &pc, "http://s:8080");
	assert_string_equal(p.boot_file[XPXE_BOOT_UEFI_ARM64], "");
	assert_string_equal(p.boot_file[XPXE_BOOT_HTTP_ARM64], "");
	/* What the config set wins. */
	pc.arm64_grub = true;
	set[XPXE_BOOT_UEFI_ARM64] = true;
	snprintf(p.boot_file[XPXE_BOOT_UEFI_ARM64], XPXE_BOOT_FILE_MAX, "own.efi");
	xpxe_boot_profile_files(&p, set, &pc, "http://s:8080");
	assert_string_equal(p.boot_file[XPXE_BOOT_UEFI_ARM64], "own.efi");
}

/* Kernels named for the wrong architecture are refused at load, saying which. */
static void test_check_arches(void **state)
{
	static const struct section text[] = { { ".text", "X", 1, 0 } };
	char x64[] = "/tmp/xpxe-test-x64.XXXXXX", a64[] = "/tmp/xpxe-test-a64.XXXXXX";
	struct xpxe_config_error err;
	struct xpxe_config cfg;
	size_t len;
	uint8_t *img;
	int fd;

	(void)state;
	img = pe(XPXE_PE_MACHINE_X64, 10, false, text, 1, &len);
	fd = mkstemp(x64);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	free(img);
	img = pe(XPXE_PE_MACHINE_ARM64, 10, false, text, 1, &len);
	fd = mkstemp(a64);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	free(img);

	xpxe_config_defaults(&cfg);
	cfg.n_assets = 3;
	snprintf(cfg.assets[0].name, XPXE_CFG_NAME_MAX, "x64");
	snprintf(cfg.assets[0].path, XPXE_CFG_PATH_MAX, "%s", x64);
	snprintf(cfg.assets[1].name, XPXE_CFG_NAME_MAX, "a64");
	snprintf(cfg.assets[1].path, XPXE_CFG_PATH_MAX, "%s", a64);
	snprintf(cfg.assets[2].name, XPXE_CFG_NAME_MAX, "initrd");
	snprintf(cfg.assets[2].path, XPXE_CFG_PATH_MAX, "/dev/null");
	snprintf(cfg.profiles[0].initrd, XPXE_CFG_NAME_MAX, "initrd");
	snprintf(cfg.profiles[0].initrd_arm64, XPXE_CFG_NAME_MAX, "initrd");

	/* The right way round: taken; no GRUB asset, so arm64 machines get no second stage. */
	snprintf(cfg.profiles[0].kernel, XPXE_CFG_NAME_MAX, "x64");
	snprintf(cfg.profiles[0].kernel_arm64, XPXE_CFG_NAME_MAX, "a64");
	assert_int_equal(xpxe_boot_check_profiles(&cfg, &err), 0);
	assert_false(cfg.profiles[0].arm64_grub);
	assert_true(xpxe_boot_uses_grub(&cfg));
	/* With it, they do. */
	cfg.n_assets = 4;
	snprintf(cfg.assets[3].name, XPXE_CFG_NAME_MAX, "grubaa64.efi");
	snprintf(cfg.assets[3].path, XPXE_CFG_PATH_MAX, "%s", a64);
	assert_int_equal(xpxe_boot_check_profiles(&cfg, &err), 0);
	assert_true(cfg.profiles[0].arm64_grub);

	/* Swapped: each is refused with what it is. */
	snprintf(cfg.profiles[0].kernel, XPXE_CFG_NAME_MAX, "a64");
	assert_int_equal(xpxe_boot_check_profiles(&cfg, &err), -EINVAL);
	if (!strstr(err.text, "profile 'default': kernel a64: an arm64 kernel: name it as "
			      "kernel_arm64"))
		fail_msg("%s", err.text);
	snprintf(cfg.profiles[0].kernel, XPXE_CFG_NAME_MAX, "x64");
	snprintf(cfg.profiles[0].kernel_arm64, XPXE_CFG_NAME_MAX, "x64");
	assert_int_equal(xpxe_boot_check_profiles(&cfg, &err), -EINVAL);
	if (!strstr(err.text, "kernel_arm64 x64: an amd64 kernel, not arm64's"))
		fail_msg("%s", err.text);

	/* An arm64 UKI that is no UKI, or an x86-64 one: refused. */
	snprintf(cfg.profiles[0].kernel_arm64, XPXE_CFG_NAME_MAX, "a64");
	snprintf(cfg.profiles[0].uki_arm64, XPXE_CFG_NAME_MAX, "a64");
	assert_int_equal(xpxe_boot_check_profiles(&cfg, &err), -EINVAL);
	if (!strstr(err.text, "uki_arm64 a64 (") || !strstr(err.text, "no .linux section"))
		fail_msg("%s", err.text);
	{
		static const struct section s[] = { { ".linux", "K", 1, 0 },
						    { ".initrd", "I", 1, 0 } };

		img = pe(XPXE_PE_MACHINE_X64, 10, false, s, 2, &len);
		fd = open(x64, O_WRONLY | O_TRUNC);
		assert_int_equal(write(fd, img, len), (ssize_t)len);
		close(fd);
		free(img);
	}
	snprintf(cfg.profiles[0].uki_arm64, XPXE_CFG_NAME_MAX, "x64");
	assert_int_equal(xpxe_boot_check_profiles(&cfg, &err), -EINVAL);
	if (!strstr(err.text, "a UKI for x86-64, not arm64"))
		fail_msg("%s", err.text);
	cfg.profiles[0].uki_arm64[0] = '\0';

	/* No arm64 files (and no grub transport): no grub.cfg to make. */
	cfg.profiles[0].kernel_arm64[0] = cfg.profiles[0].initrd_arm64[0] = '\0';
	assert_false(xpxe_boot_uses_grub(&cfg));
	unlink(x64);
	unlink(a64);
}

/* --- config keys ----------------------------------------------------------------------- */

static char path[] = "/tmp/xpxe-test-boot-cfg.XXXXXX";

static int load(const char *yaml, struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	return xpxe_config_load(path, cfg, err);
}

static void test_config_keys(void **state)
{
	static const struct {
		const char *yaml, *error; /* NULL: taken */
	} cases[] = {
		{ "assets: {u: /x}\nprofiles:\n  s:\n    transport: uki\n    uki: u\n"
		  "http:\n  tls_cert: /c\n  tls_key: /k\n  tls_listen: 1.2.3.4:9443\n"
		  "  config_over_http: refuse\n",
		  NULL },
		{ "profiles:\n  s:\n    transport: uki\n", "transport uki needs 'uki: ASSET'" },
		{ "profiles:\n  s:\n    transport: uki\n    uki: nope\n",
		  "no asset 'nope' for its UKI" },
		{ "profiles:\n  s:\n    transport: ftp\n",
		  "takes http, tftp, uki or grub, not 'ftp'" },
		{ "http:\n  tls_cert: /c\n", "HTTPS needs both tls_cert and tls_key" },
		{ "http:\n  config_over_http: refuse\n", "config_over_http: refuse needs HTTPS" },
		{ "http:\n  config_over_http: maybe\n", "takes serve or refuse, not 'maybe'" },
		{ "assets: {k: /k}\nprofiles:\n  s:\n    kernel_arm64: k\n    initrd_arm64: nope\n",
		  "profile 's': no asset 'nope' for its arm64 initrd" },
		{ "assets: {k: /k}\nprofiles:\n  s:\n    kernel_arm64: k\n",
		  "kernel_arm64 and initrd_arm64 go together" },
		{ "profiles:\n  s:\n    kernel_arm65: k\n", "kernel_arm64, initrd_arm64" },
	};
	struct xpxe_config cfg;
	struct xpxe_config_error err;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = load(cases[i].yaml, &cfg, &err);

		if (!cases[i].error) {
			if (ret)
				fail_msg("case %zu refused: %s", i, err.text);
			assert_int_equal(cfg.profiles[1].transport, XPXE_TRANSPORT_UKI);
			assert_string_equal(cfg.profiles[1].uki, "u");
			assert_string_equal(cfg.tls.cert, "/c");
			assert_string_equal(cfg.tls.listen, "1.2.3.4:9443");
			assert_true(cfg.tls.refuse_plain);
		} else if (ret != -EINVAL || !strstr(err.text, cases[i].error)) {
			fail_msg("case %zu: %d '%s' does not say '%s'", i, ret, err.text,
				 cases[i].error);
		}
		xpxe_config_free(&cfg);
	}
	unlink(path);
}

/* The arm64 keys of a profile, as the file gives them. */
static void test_config_arm64_keys(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_config_error err;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/xpxe-test-boot-cfg.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	if (load("assets: {k: /k, i: /i, ka: /ka, ia: /ia, u: /u}\n"
		 "profiles:\n  mixed:\n    kernel: k\n    initrd: i\n    kernel_arm64: ka\n"
		 "    initrd_arm64: ia\n    uki_arm64: u\n",
		 &cfg, &err))
		fail_msg("refused: %s", err.text);
	assert_string_equal(cfg.profiles[1].name, "mixed");
	assert_string_equal(cfg.profiles[1].kernel, "k");
	assert_string_equal(cfg.profiles[1].kernel_arm64, "ka");
	assert_string_equal(cfg.profiles[1].initrd_arm64, "ia");
	assert_string_equal(cfg.profiles[1].uki_arm64, "u");
	assert_int_equal(cfg.profiles[1].kernel_arm64_at.line, 6);
	assert_true(xpxe_boot_uses_grub(&cfg));
	xpxe_config_free(&cfg);
	assert_int_equal(load("profiles:\n  s:\n    uki_arm64: nope\n", &cfg, &err), -EINVAL);
	if (!strstr(err.text, "no asset 'nope' for its arm64 UKI"))
		fail_msg("%s", err.text);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uki_valid),
		cmocka_unit_test(test_uki_refused),
		cmocka_unit_test(test_uki_every_truncation),
		cmocka_unit_test(test_uki_check_file),
		cmocka_unit_test(test_grub_quote),
		cmocka_unit_test(test_grub_render),
		cmocka_unit_test(test_grub_render_arches),
		cmocka_unit_test(test_arch_sniff),
		cmocka_unit_test(test_arch_of_machine),
		cmocka_unit_test(test_profile_files),
		cmocka_unit_test(test_check_arches),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_config_arm64_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
