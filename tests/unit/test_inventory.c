// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The inventory's state folder: machines added at run time written by
 * xpxe_inventory_save_added and read back by the config loader (one format,
 * one parser), and the addresses machines were seen at, kept across a restart
 * and moved aside when the file is bad.
 */
#include <arpa/inet.h>
#include <glob.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "inventory.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xpxe-inventory-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void base_config(struct xpxe_config *cfg)
{
	xpxe_config_defaults(cfg);
	cfg->dhcp.mode = XPXE_MODE_FULL;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", dir);
	cfg->n_profiles = 2;
	cfg->profiles[1] = cfg->profiles[0];
	snprintf(cfg->profiles[1].name, XPXE_CFG_NAME_MAX, "worker");
}

static void test_added_machines_round_trip(void **state)
{
	struct xpxe_config cfg, back;
	struct xpxe_config_error err;
	struct xpxe_inventory inv;
	struct xpxe_machine_cfg *m;
	char file[128];

	(void)state;
	base_config(&cfg);
	cfg.machines = calloc(2, sizeof(*cfg.machines));
	cfg.n_machines = 2;
	cfg.machines[0] = (struct xpxe_machine_cfg){ .n_macs = 1, .profile = -1, .line = 7 };
	m = &cfg.machines[1];
	*m = (struct xpxe_machine_cfg){ .n_macs = 2, .profile = 1, .added = true };
	memcpy(m->macs[0], "\x52\x54\x00\x00\x00\x02", 6);
	memcpy(m->macs[1], "\x52\x54\x00\x00\x00\x12", 6);
	/* Values YAML would misread unquoted: the writer must quote them. */
	snprintf(m->hostname, sizeof(m->hostname), "w-2");
	snprintf(m->serial, sizeof(m->serial), "0012: \"yes\" # no comment");
	snprintf(m->uuid, sizeof(m->uuid), "4c4c4544-0000-0000-0000-000000000002");
	snprintf(m->install_disk, sizeof(m->install_disk), "/dev/disk/by-id/x y");
	snprintf(m->talos_config, sizeof(m->talos_config), "/srv/talos/w-2.yaml");
	inet_pton(AF_INET, "198.18.0.52", &m->ip);
	assert_int_equal(xpxe_inventory_open(&inv, &cfg), 0);
	assert_int_equal(xpxe_inventory_save_added(&inv, &cfg), 0);
	assert_int_equal(cfg.machines[1].line, 4); /* renumbered to the file */

	base_config(&back);
	snprintf(file, sizeof(file), "%s/%s", dir, XPXE_MACHINES_FILE);
	if (xpxe_config_load_machines(file, &back, &err))
		fail_msg("%s", err.text);
	assert_int_equal(back.n_machines, 1);
	assert_true(back.machines[0].added);
	assert_int_equal(back.machines[0].line, 4);
	assert_int_equal(back.machines[0].n_macs, 2);
	assert_memory_equal(back.machines[0].macs[1], m->macs[1], 6);
	assert_string_equal(back.machines[0].hostname, m->hostname);
	assert_string_equal(back.machines[0].serial, m->serial);
	assert_string_equal(back.machines[0].uuid, m->uuid);
	assert_string_equal(back.machines[0].install_disk, m->install_disk);
	assert_string_equal(back.machines[0].talos_config, m->talos_config);
	assert_int_equal(back.machines[0].ip.s_addr, m->ip.s_addr);
	assert_int_equal(back.machines[0].profile, 1);
	xpxe_config_free(&back);

	/* None left: still a file the loader takes, with no machine. */
	cfg.n_machines = 1;
	assert_int_equal(xpxe_inventory_save_added(&inv, &cfg), 0);
	base_config(&back);
	assert_int_equal(xpxe_config_load_machines(file, &back, &err), 0);
	assert_int_equal(back.n_machines, 0);
	xpxe_config_free(&back);
	xpxe_inventory_close(&inv);
	xpxe_config_free(&cfg);
}

static void test_learned_addresses(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_inventory inv;
	const struct xpxe_learned *l;
	struct in_addr a, b;
	char path[128];
	glob_t g;
	FILE *f;

	(void)state;
	base_config(&cfg);
	inet_pton(AF_INET, "198.18.0.61", &a);
	inet_pton(AF_INET, "198.18.0.62", &b);
	assert_int_equal(xpxe_inventory_open(&inv, &cfg), 0);
	assert_null(xpxe_inventory_learned(&inv, "mac:52:54:00:00:00:01"));
	assert_int_equal(xpxe_inventory_learn(&inv, "mac:52:54:00:00:00:01", a, "dhcp-4011"), 0);
	assert_int_equal(xpxe_inventory_learn(&inv, "serial:SN-2", b, "boot-script"), 0);
	/* The latest address wins: a machine may come back with another one. */
	assert_int_equal(xpxe_inventory_learn(&inv, "mac:52:54:00:00:00:01", b, "boot-script"), 0);
	xpxe_inventory_close(&inv);

	assert_int_equal(xpxe_inventory_open(&inv, &cfg), 0);
	l = xpxe_inventory_learned(&inv, "mac:52:54:00:00:00:01");
	assert_non_null(l);
	assert_int_equal(l->ip.s_addr, b.s_addr);
	assert_string_equal(l->how, "boot-script");
	assert_non_null(xpxe_inventory_learned(&inv, "serial:SN-2"));
	assert_int_equal(inv.n_learned, 2);
	xpxe_inventory_close(&inv);

	/* A bad line: reported, the file moved aside, the good lines kept. */
	snprintf(path, sizeof(path), "%s/addresses", dir);
	f = fopen(path, "a");
	fputs("mac:52:54:00:00:00:09 198.18.0.999 12 boot-script\n", f);
	fclose(f);
	assert_int_equal(xpxe_inventory_open(&inv, &cfg), 0);
	assert_int_equal(inv.n_learned, 2);
	snprintf(path, sizeof(path), "%s/addresses.corrupt-*", dir);
	assert_int_equal(glob(path, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	globfree(&g);
	snprintf(path, sizeof(path), "%s/addresses", dir);
	assert_int_equal(access(path, R_OK), 0); /* the good lines, back in place */
	xpxe_inventory_close(&inv);
	xpxe_config_free(&cfg);
}

/*
 * A boot-once mark that cannot be written (here: the temporary file cannot be made)
 * holds in memory, counted, the file untouched; the next call writes it.
 */
static void test_boot_once_survives_a_failed_write(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_inventory inv;
	char tmp[160], file[128];
	FILE *f;

	(void)state;
	base_config(&cfg);
	assert_int_equal(xpxe_inventory_open(&inv, &cfg), 0);
	snprintf(file, sizeof(file), "%s/installed", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	assert_int_equal(mkdir(tmp, 0700), 0); /* where the new file would be written */
	assert_int_not_equal(xpxe_inventory_set_installed(&inv, "mac:52:54:00:00:00:01", true), 0);
	assert_true(xpxe_inventory_is_installed(&inv, "mac:52:54:00:00:00:01", NULL));
	assert_true(inv.unsaved);
	assert_int_equal(inv.save_errors, 1);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(xpxe_inventory_set_installed(&inv, "mac:52:54:00:00:00:01", true), 0);
	assert_false(inv.unsaved);
	f = fopen(file, "r");
	assert_non_null(f);
	{
		char line[128];
		bool found = false;

		while (fgets(line, sizeof(line), f))
			found |= !strncmp(line, "mac:52:54:00:00:00:01 ", 22);
		assert_true(found);
	}
	fclose(f);
	xpxe_inventory_close(&inv);
	xpxe_config_free(&cfg);
}

/*
 * A bad line in the boot-once marks (a hand edit, a disk's damage): reported, the file moved
 * aside as evidence, the good marks kept and written back at once (a crash right after the
 * start must not lose them), never skipped in silence.
 */
static void test_boot_once_bad_line(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_inventory inv;
	char file[128], pattern[160], line[128];
	bool first = false, second = false, junk = false;
	glob_t g;
	FILE *f;

	(void)state;
	base_config(&cfg);
	snprintf(file, sizeof(file), "%s/installed", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("# marks\nmac:52:54:00:00:00:01 1700000000\nmac:52:54:00:00:00:02 soon\n"
	      "mac:52:54:00:00:00:03 1700000001 trailing\nmac:52:54:00:00:00:04 1700000002\n",
	      f);
	fclose(f);
	assert_int_equal(xpxe_inventory_open(&inv, &cfg), 0);
	assert_int_equal(inv.n_installed, 2);
	assert_true(xpxe_inventory_is_installed(&inv, "mac:52:54:00:00:00:01", NULL));
	assert_false(xpxe_inventory_is_installed(&inv, "mac:52:54:00:00:00:02", NULL));
	assert_true(xpxe_inventory_is_installed(&inv, "mac:52:54:00:00:00:04", NULL));
	snprintf(pattern, sizeof(pattern), "%s.corrupt-*", file);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	globfree(&g);
	f = fopen(file, "r"); /* written back: the two good marks, no bad line */
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		first |= !strncmp(line, "mac:52:54:00:00:00:01 1700000000", 32);
		second |= !strncmp(line, "mac:52:54:00:00:00:04 1700000002", 32);
		junk |= strstr(line, "soon") || strstr(line, "trailing");
	}
	fclose(f);
	assert_true(first && second);
	assert_false(junk);
	xpxe_inventory_close(&inv);
	xpxe_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_added_machines_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_once_bad_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_learned_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_once_survives_a_failed_write, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("inventory", tests, NULL, NULL);
}
