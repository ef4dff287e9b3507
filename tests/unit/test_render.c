// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Talos config templates, iPXE scripts, and who is who in the inventory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inventory.h"
#include "http/http.h"

static const struct xpxe_vars vars = {
	.hostname = "cp-1",
	.ip = "198.18.0.50",
	.ip6 = "fd00:198:18::50",
	.mac = "52:54:00:00:00:01",
	.mac_hyphen = "52-54-00-00-00-01",
	.uuid = "4c4c4544-0000",
	.serial = "SN1",
	.install_disk = "/dev/sda",
};

static void test_template_fills_every_name(void **state)
{
	const char t[] = "machine:\n  network:\n    hostname: {{hostname}}\n"
			 "  install:\n    disk: {{ install_disk }}\n"
			 "# {{ip}} {{mac}} {{mac_hyphen}} {{uuid}} {{serial}}\n"
			 "# {{ ip6 }}/64 {{6ip}}\n"
			 "talos: ${mac} stays, { {not} } stays, {{ }} stays\n";
	char *out;
	size_t len;
	const char *bad;
	int line;

	(void)state;
	assert_int_equal(xpxe_render_template(t, strlen(t), &vars, &out, &len, &bad, &line), 0);
	assert_string_equal(out,
			    "machine:\n  network:\n    hostname: cp-1\n"
			    "  install:\n    disk: /dev/sda\n"
			    "# 198.18.0.50 52:54:00:00:00:01 52-54-00-00-00-01 4c4c4544-0000 SN1\n"
			    "# fd00:198:18::50/64 {{6ip}}\n"
			    "talos: ${mac} stays, { {not} } stays, {{ }} stays\n");
	assert_int_equal(len, strlen(out));
	free(out);
}

static void test_template_unknown_name_is_an_error(void **state)
{
	const char t[] = "a: 1\nb: 2\nc: {{hostnme}}\nd: {{ip7}}\n";
	char *out = NULL;
	size_t len;
	const char *bad;
	int line;

	(void)state;
	assert_int_equal(xpxe_render_template(t, strlen(t), &vars, &out, &len, &bad, &line),
			 -EINVAL);
	assert_int_equal(line, 3);
	assert_memory_equal(bad, "hostnme", 7);
	assert_null(out);
}

static void test_boot_script(void **state)
{
	char s[4096];
	struct xpxe_script_in in = { .base = "http://198.18.0.1:8080",
				     .tftp_base = "tftp://198.18.0.1",
				     .name = "cp-1",
				     .kernel = "vmlinuz",
				     .initrd = "initramfs",
				     .cmdline = "console=ttyS0" };

	(void)state;
	assert_int_equal(xpxe_script_boot(s, sizeof(s), &in), 0);
	assert_true(!strncmp(s, "#!ipxe\n", 7));
	/* initrd named and named on the kernel line: old iPXE under UEFI needs both. */
	assert_non_null(strstr(s, "initrd --name initrd http://198.18.0.1:8080/assets/initramfs"));
	assert_non_null(strstr(s, "kernel http://198.18.0.1:8080/assets/vmlinuz initrd=initrd "
				  "talos.platform=metal slab_nomerge pti=on console=ttyS0 "
				  "talos.config=http://198.18.0.1:8080/talos/config?mac=${mac}"
				  "&uuid=${uuid}&serial=${serial}"));
	assert_non_null(strstr(s, "\nboot "));
	in.tftp = 1;
	assert_int_equal(xpxe_script_boot(s, sizeof(s), &in), 0);
	assert_non_null(strstr(s, "kernel tftp://198.18.0.1/vmlinuz initrd=initrd"));
	assert_int_equal(xpxe_script_boot(s, 64, &in), -ENOSPC);
}

static void test_chain_and_local_scripts(void **state)
{
	char s[1024];

	(void)state;
	assert_int_equal(xpxe_script_chain(s, sizeof(s), "http://198.18.0.1:8080"), 0);
	assert_non_null(strstr(s, "chain http://198.18.0.1:8080/boot.ipxe?mac=${mac:hexhyp}"));
	assert_int_equal(xpxe_script_local(s, sizeof(s), "cp-1"), 0);
	assert_non_null(strstr(s, "sanboot --no-describe --drive 0x80"));
	assert_non_null(strstr(s, "iseq ${platform} efi && exit"));
}

static void test_inventory_rules(void **state)
{
	struct xpxe_machine_cfg machines[4] = { 0 };
	struct xpxe_config cfg = { .machines = machines, .n_machines = 4 };
	struct xpxe_inventory inv = { .cfg = &cfg };
	const char *why;

	(void)state;
	xpxe_parse_mac("52:54:00:00:00:01", machines[0].macs[0]);
	machines[0].n_macs = 1;
	strcpy(machines[0].uuid, "aaaa");
	strcpy(machines[1].uuid, "bbbb");
	strcpy(machines[2].uuid, "bbbb"); /* two boards with the same UUID */
	strcpy(machines[2].serial, "SN3");
	strcpy(machines[3].hostname, "worker-4");

	/* MAC, any spelling, wins over a UUID that names another machine. */
	assert_int_equal(
	    xpxe_inventory_find(
		&inv, &(struct xpxe_identity){ .mac = "52-54-00-00-00-01", .uuid = "bbbb" }, &why),
	    0);
	assert_int_equal(
	    xpxe_inventory_find(&inv, &(struct xpxe_identity){ .mac = "52:54:00:00:00:01" }, &why),
	    0);
	assert_int_equal(xpxe_inventory_find(&inv, &(struct xpxe_identity){ .uuid = "AAAA" }, &why),
			 0);
	/* A shared UUID matches none, and says so. */
	assert_int_equal(xpxe_inventory_find(&inv, &(struct xpxe_identity){ .uuid = "bbbb" }, &why),
			 -1);
	assert_non_null(strstr(why, "shared"));
	/* ... but the serial still finds the machine. */
	assert_int_equal(
	    xpxe_inventory_find(&inv, &(struct xpxe_identity){ .uuid = "bbbb", .serial = "SN3" },
				&why),
	    2);
	assert_int_equal(
	    xpxe_inventory_find(&inv, &(struct xpxe_identity){ .hostname = "worker-4" }, &why), 3);
	assert_int_equal(
	    xpxe_inventory_find(&inv, &(struct xpxe_identity){ .mac = "52:54:00:00:00:99" }, &why),
	    -1);
	assert_int_equal(
	    xpxe_inventory_find(&inv, &(struct xpxe_identity){ .mac = "nonsense" }, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_fills_every_name),
		cmocka_unit_test(test_template_unknown_name_is_an_error),
		cmocka_unit_test(test_boot_script),
		cmocka_unit_test(test_chain_and_local_scripts),
		cmocka_unit_test(test_inventory_rules),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
