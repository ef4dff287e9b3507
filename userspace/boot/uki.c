// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * UKI checks: the PE/COFF headers (Microsoft's PE format: DOS stub, "PE\0\0",
 * COFF file header, optional header, section table) read with bounds checks
 * against the file's length, never trusting an offset in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"

#define PE_SUBSYSTEM_EFI_APPLICATION 10
#define PE_MAGIC_PE32		     0x10b
#define PE_MAGIC_PE32PLUS	     0x20b
#define PE_SECTION_HEADER	     40
#define PE_DIR_SECURITY		     4 /* the certificate table: Authenticode signatures */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *xpxe_pe_machine_name(uint16_t machine, char *buf, size_t size)
{
	switch (machine) {
	case XPXE_PE_MACHINE_X64:
		return "x86-64";
	case XPXE_PE_MACHINE_ARM64:
		return "arm64";
	case 0x14c:
		return "ia32";
	}
	snprintf(buf, size, "machine 0x%04x", machine);
	return buf;
}

int xpxe_uki_parse(const uint8_t *img, size_t len, struct xpxe_uki_info *info, char *why,
		   size_t why_size)
{
	uint32_t pe, opt, n_dirs, sections;
	uint16_t n_sections, opt_size, magic, subsystem;
	bool has_linux = false;
	char name[16];

	memset(info, 0, sizeof(*info));
	if (len < 0x40 || img[0] != 'M' || img[1] != 'Z')
		return bad(why, why_size, "not an EFI binary (no 'MZ' header)");
	pe = le32(img + 0x3c);
	if (pe > len - 24 || memcmp(img + pe, "PE\0\0", 4))
		return bad(why, why_size, "not a PE image (no 'PE' signature where 'MZ' points)");
	info->machine = le16(img + pe + 4);
	n_sections = le16(img + pe + 6);
	opt_size = le16(img + pe + 20);
	opt = pe + 24;
	if (opt_size < 72 || (uint64_t)opt + opt_size > len)
		return bad(why, why_size, "the PE optional header is cut short");
	magic = le16(img + opt);
	if (magic != PE_MAGIC_PE32 && magic != PE_MAGIC_PE32PLUS)
		return bad(why, why_size, "unknown PE optional header (magic 0x%x)", magic);
	subsystem = le16(img + opt + 68);
	if (subsystem != PE_SUBSYSTEM_EFI_APPLICATION)
		return bad(why, why_size, "a PE image, but not an EFI application (subsystem %u)",
			   subsystem);
	if (info->machine != XPXE_PE_MACHINE_X64 && info->machine != XPXE_PE_MACHINE_ARM64 &&
	    info->machine != 0x14c)
		return bad(why, why_size,
			   "an EFI application for machine 0x%04x, which xpxe has no "
			   "HTTP boot class for (x86-64, arm64, ia32)",
			   info->machine);
	/* The data directories: PE32+ has them at 112, PE32 at 96; the count before them. */
	{
		uint32_t dirs = magic == PE_MAGIC_PE32PLUS ? 112 : 96;

		n_dirs = dirs <= opt_size ? le32(img + opt + dirs - 4) : 0;
		if (n_dirs > PE_DIR_SECURITY && dirs + (PE_DIR_SECURITY + 1) * 8 <= opt_size)
			info->signed_image = le32(img + opt + dirs + PE_DIR_SECURITY * 8 + 4) != 0;
	}
	sections = opt + opt_size;
	if (!n_sections || (uint64_t)sections + (uint64_t)n_sections * PE_SECTION_HEADER > len)
		return bad(why, why_size, "the PE section table is cut short");
	for (uint16_t i = 0; i < n_sections; i++) {
		const uint8_t *s = img + sections + (size_t)i * PE_SECTION_HEADER;
		uint32_t vsize = le32(s + 8), raw_size = le32(s + 16), raw = le32(s + 20);
		uint32_t size = vsize && vsize < raw_size ? vsize : raw_size;

		memcpy(name, s, 8);
		name[8] = '\0';
		if (strcmp(name, ".linux") && strcmp(name, ".initrd") && strcmp(name, ".cmdline"))
			continue;
		if ((uint64_t)raw + raw_size > len)
			return bad(why, why_size,
				   "section %s ends at byte %llu, past the end of the file (%zu "
				   "bytes): a truncated image",
				   name, (unsigned long long)raw + raw_size, len);
		if (!strcmp(name, ".linux")) {
			has_linux = size > 0;
			info->linux_size = size;
		} else if (!strcmp(name, ".initrd")) {
			info->has_initrd = size > 0;
			info->initrd_size = size;
		} else {
			size_t n =
			    size < sizeof(info->cmdline) - 1 ? size : sizeof(info->cmdline) - 1;

			memcpy(info->cmdline, img + raw, n);
			info->cmdline[n] = '\0';
			/* The stub takes the text up to its NUL; a newline at its end is common. */
			n = strlen(info->cmdline);
			while (n && (info->cmdline[n - 1] == '\n' || info->cmdline[n - 1] == ' '))
				info->cmdline[--n] = '\0';
		}
	}
	if (!has_linux)
		return bad(why, why_size,
			   "an EFI application, but not a UKI: no .linux section (the kernel)");
	if (!info->has_initrd)
		return bad(why, why_size,
			   "a UKI without an .initrd section (Talos's UKIs carry "
			   "their initramfs)");
	return 0;
}

int xpxe_uki_check(const char *path, struct xpxe_uki_info *info, char *why, size_t why_size)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(why, why_size, "cannot read it: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return bad(why, why_size, "%s",
			   S_ISREG(st.st_mode) ? "the file is empty" : "not a regular file");
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		ret = -errno;
		snprintf(why, why_size, "cannot map it: %s", strerror(errno));
		return ret;
	}
	ret = xpxe_uki_parse(map, st.st_size, info, why, why_size);
	munmap(map, st.st_size);
	return ret;
}

bool xpxe_uki_talos_config(const char *cmdline, char *out, size_t size)
{
	const char *p = cmdline;

	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		n = strcspn(p, " \t\n");
		if (n > 13 && !strncmp(p, "talos.config=", 13)) {
			snprintf(out, size, "%.*s", (int)(n - 13), p + 13);
			return true;
		}
		p += n;
	}
	return false;
}
