// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xpxe.yaml: what a good file gives, and the file:line:col of what a bad one got wrong. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libfyaml.h>

#include "config.h"

static char path[64];

static void write_file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/xpxe-config-test-%d.yaml", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char good[] = "interfaces: [prov0]\n"
			   "mode: full\n"
			   "server_ip: 198.18.0.1\n"
			   "http:\n"
			   "  listen: 198.18.0.1:8080\n"
			   "  allow: [198.18.0.0/15]\n"
			   "  max_per_ip: 8\n"
			   "  timeout: 5\n"
			   "ui:\n"
			   "  listen: 127.0.0.1:9090\n"
			   "  allow: [10.1.0.0/16, 192.0.2.7]\n"
			   "  max_connections: 4\n"
			   "dhcp:\n"
			   "  pool: 198.18.0.100-198.18.0.199\n"
			   "  router: 198.18.0.1\n"
			   "  lease_time: 600\n"
			   "  offer_hold: 10\n"
			   "  mac_rate: 5/15\n"
			   "  global_rate: 0\n"
			   "  relay_rate: 50/80\n"
			   "assets:\n"
			   "  vmlinuz: /srv/talos/vmlinuz-amd64\n"
			   "  initramfs: /srv/talos/initramfs-amd64.xz\n"
			   "profiles:\n"
			   "  default:\n"
			   "    kernel: vmlinuz\n"
			   "    initrd: initramfs\n"
			   "    cmdline: console=ttyS0\n"
			   "  tftp:\n"
			   "    kernel: vmlinuz\n"
			   "    initrd: initramfs\n"
			   "    transport: tftp\n"
			   "    strategy: bypass\n"
			   "    boot_files: {uefi-arm64: ipxe-arm64.efi}\n"
			   "default_profile: default\n"
			   "machines:\n"
			   "  - mac: [52:54:00:00:00:01, 52-54-00-00-00-11, 5254.0000.0021, "
			   "525400000031]\n"
			   "    hostname: cp-1\n"
			   "    ip: 198.18.0.50\n"
			   "  - uuid: 4C4C4544-0000-0000-0000-000000000002\n"
			   "    profile: tftp\n"
			   "    install_disk: /dev/sda\n";

static void test_good_file(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_config_error err;
	struct in_addr a;

	(void)state;
	write_file(good);
	assert_int_equal(xpxe_config_load(path, &cfg, &err), 0);
	assert_int_equal(cfg.n_interfaces, 1);
	assert_string_equal(cfg.interfaces[0], "prov0");
	assert_int_equal(cfg.dhcp.mode, XPXE_MODE_FULL);
	inet_pton(AF_INET, "198.18.0.199", &a);
	assert_int_equal(cfg.dhcp.pool_last.s_addr, a.s_addr);
	assert_int_equal(cfg.dhcp.lease_time, 600);
	assert_int_equal(cfg.dhcp.offer_hold, 10);
	assert_int_equal(cfg.dhcp.mac_rate, 5);
	assert_int_equal(cfg.dhcp.mac_burst, 15);
	assert_int_equal(cfg.dhcp.global_rate, 0); /* no limit */
	assert_int_equal(cfg.dhcp.relay_rate, 50);
	assert_int_equal(cfg.dhcp.relay_burst, 80);
	assert_int_equal(cfg.http_limits.max_per_ip, 8);
	assert_int_equal(cfg.http_limits.timeout_s, 5);
	assert_int_equal(cfg.http_limits.max_connections, XPXE_HTTP_MAX_CONNECTIONS);
	assert_int_equal(cfg.n_allow, 1);
	/* ui.allow replaces the default (loopback), it does not add to it. */
	assert_string_equal(cfg.ui.listen, "127.0.0.1:9090");
	assert_int_equal(cfg.ui.n_allow, 2);
	inet_pton(AF_INET, "10.1.0.0", &a);
	assert_int_equal(cfg.ui.allow[0].addr.s_addr, a.s_addr);
	assert_int_equal(cfg.ui.allow[0].mask.s_addr, htonl(0xffff0000));
	inet_pton(AF_INET, "192.0.2.7", &a);
	assert_int_equal(cfg.ui.allow[1].addr.s_addr, a.s_addr);
	assert_int_equal(cfg.ui.allow[1].mask.s_addr, 0xffffffff);
	assert_int_equal(cfg.ui.max_connections, 4);
	assert_int_equal(cfg.n_assets, 2);
	assert_int_equal(cfg.n_profiles, 2);
	assert_int_equal(cfg.profiles[1].transport, XPXE_TRANSPORT_TFTP);
	assert_string_equal(cfg.profiles[1].dhcp.boot_file[XPXE_BOOT_UEFI_ARM64], "ipxe-arm64.efi");
	/* A profile starts from the built-in defaults. */
	assert_string_equal(cfg.profiles[1].dhcp.boot_file[XPXE_BOOT_BIOS], "undionly.kpxe");
	assert_int_equal(cfg.n_machines, 2);
	assert_int_equal(cfg.machines[0].n_macs, 4);
	assert_int_equal(cfg.machines[0].macs[1][5], 0x11);
	/* Cisco's dotted and a BMC's bare spelling are the same MACs. */
	assert_memory_equal(cfg.machines[0].macs[2], "\x52\x54\x00\x00\x00\x21", 6);
	assert_memory_equal(cfg.machines[0].macs[3], "\x52\x54\x00\x00\x00\x31", 6);
	/* A profile written after "default" does not take default's cmdline. */
	assert_string_equal(cfg.profiles[0].cmdline, "console=ttyS0");
	assert_string_equal(cfg.profiles[1].cmdline, "");
	assert_int_equal(cfg.machines[0].profile, -1);
	assert_string_equal(cfg.machines[1].uuid, "4c4c4544-0000-0000-0000-000000000002");
	assert_int_equal(cfg.machines[1].profile, 1);
	xpxe_config_free(&cfg);
	unlink(path);
}

struct bad_case {
	const char *yaml;
	const char *expect; /* a substring of the message, after the path */
};

static const struct bad_case bad[] = {
	{ "interfaces: [prov0]\nmode: fast\n",
	  ":2:7: 'mode' takes proxy, full or off, not 'fast'" },
	{ "interfaces: [prov0]\nbogus: 1\n", ":2:1: unknown key 'bogus' in the top level" },
	{ "server_ip: 198.18.0.300\n", ":1:12: '198.18.0.300' is not an IPv4 address" },
	{ "dhcp:\n  pool: 198.18.0.9-198.18.0.1\n",
	  ":2:9: 'pool' 198.18.0.9-198.18.0.1: its first address comes after its last" },
	{ "dhcp:\n  pool: 198.18.0.9\n", ":2:9: 'pool' takes FIRST-LAST, not '198.18.0.9'" },
	/* A list of mappings where names are expected: the item's line and column, and why. */
	{ "interfaces:\n  - name: prov0\n",
	  ":2:5: 'interfaces' takes a list of interface names, such as [prov0] or '- prov0', "
	  "not a mapping" },
	{ "interfaces: [[prov0]]\n", ":1:15: 'interfaces' takes a list of interface names" },
	{ "interfaces: [prov0, 'a b']\n", "'a b' is not an interface name (1 to 15 bytes" },
	{ "profiles:\n  p:\n    kernel: nope\n",
	  ":3:13: profile 'p': no asset 'nope' for its kernel (define it under assets)" },
	{ "machines:\n  - uuid: 4c4c4544-0000-0000-0000-00000000002\n",
	  ":2:11: '4c4c4544-0000-0000-0000-00000000002' is not a UUID" },
	{ "machines:\n  - uuid: 4c4c4544x0000-0000-0000-000000000002\n", "is not a UUID" },
	{ "machines:\n  - hostname: cp 1\n", ":2:15: 'cp 1' is not a host name" },
	{ "machines:\n  - hostname: -cp\n", "'-cp' is not a host name" },
	{ "machines:\n  - hostname: cp..1\n", "'cp..1' is not a host name" },
	{ "dhcp:\n  lease_time: 5\n", ":2:15: 'lease_time' takes a number from 60" },
	{ "interfaces: [prov0\nmode: full\n", ":3:1: " },
	{ "machines:\n  - hostname: a\n    profile: missing\n", ":3:14: no profile 'missing'" },
	{ "machines:\n  - mac: 52:54:00:00:00:01\n  - mac: 52:54:00:00:00:01\n",
	  ":3: this MAC belongs to the machine of line 2 too" },
	{ "machines:\n  - mac: 52:54:00:00:00:0g\n",
	  ":2:10: '52:54:00:00:00:0g' is not a MAC: expected a MAC such as 52:54:00:12:34:56" },
	{ "machines:\n  - mac: 5254.0000.00001\n", "'5254.0000.00001' is not a MAC" },
	{ "machines:\n  - mac: 52:54-00:00:00:01\n", "'52:54-00:00:00:01' is not a MAC" },
	{ "machines:\n  - profile: default\n", "a machine needs a selector" },
	{ "mode: proxy\nmachines:\n  - mac: 52:54:00:00:00:01\n    ip: 198.18.0.5\n",
	  ":3: a machine's 'ip' is a reservation: it needs mode: full" },
	{ "profiles:\n  x:\n    boot_files: {amiga: a.bin}\n",
	  ":3:18: unknown client class 'amiga'" },
	{ "http: {config_without_address: maybe}\n",
	  ":1:32: 'config_without_address' takes refuse or serve, not 'maybe'" },
	{ "dhcp:\n  mac_rate: 5/0\n", ":2:13: 'mac_rate' takes RATE[/BURST]" },
	{ "dhcp:\n  global_rate: fast\n", ":2:16: 'global_rate' takes RATE[/BURST]" },
	{ "dhcp:\n  relay_rate: -1\n", ":2:15: 'relay_rate' takes RATE[/BURST]" },
	{ "dhcp:\n  offer_hold: 0\n", ":2:15: 'offer_hold' takes a number from 1 to 3600" },
	{ "http:\n  max_per_ip: 0\n", ":2:15: 'max_per_ip' takes a number from 1 to 65536" },
	{ "http:\n  allow: [198.18.0.0/33]\n", ":2:11: '198.18.0.0/33' is not an IPv4 network" },
	{ "ui:\n  listen: 9090\n", ":2:11: 'listen' takes ADDR:PORT with an IPv4 address" },
	{ "ui:\n  listen: localhost:9090\n", ":2:11: 'listen' takes ADDR:PORT with an IPv4" },
	{ "ui:\n  listen: 127.0.0.1:0\n", ":2:11: 'listen' takes ADDR:PORT" },
	{ "ui:\n  allow: []\n", ":2:3: 'allow' needs at least one network (0.0.0.0/0" },
	{ "ui:\n  allow: [10.0.0.0/8x]\n", ":2:11: '10.0.0.0/8x' is not an IPv4 network" },
	{ "ui:\n  max_connections: 0\n", ":2:20: 'max_connections' takes a number from 1" },
	{ "ui:\n  port: 1\n", ":2:3: unknown key 'port' in ui (expected one of: listen, allow" },
	{ "downloads:\n  max: 5000\n", ":2:8: 'max' takes a number from 0 to 4096" },
	{ "downloads:\n  slots: 1\n", ":2:3: unknown key 'slots' in downloads" },
	{ "machines:\n  - {mac: 52:54:00:00:00:01, role: boss}\n",
	  ":2:36: 'role' takes controlplane, init or worker, not 'boss'" },
	/* VLANs of a trunk (issue 22): where each mistake is, and what it is. */
	{ "interfaces: [trunk0]\nvlans:\n  trunk0: [10=198.18.10.1]\n",
	  ":3:12: VLAN '10=198.18.10.1': no /PREFIX after the address" },
	{ "interfaces: [trunk0]\nvlans:\n  trunk0: [4095=198.18.10.1/24]\n",
	  ":3:12: VLAN '4095=198.18.10.1/24': the VID is not a number from 1 to 4094" },
	{ "interfaces: [trunk0]\nvlans:\n  trunk0:\n    - 10=198.18.10.1/24\n"
	  "    - 10=198.18.11.1/24\n",
	  ":5:7: VLAN '10=198.18.11.1/24': this VLAN is configured twice" },
	{ "interfaces: [trunk0]\nvlans:\n  trunk1: [10=198.18.10.1/24]\n",
	  ":3:3: VLANs on 'trunk1', which 'interfaces' (above) does not list" },
	{ "interfaces: [trunk0]\nvlans:\n  trunk0: 10=198.18.10.1/24\n",
	  ":3:3: 'trunk0' takes a list of VLANs" },
	{ "interfaces: [trunk0]\nserver_ip: 198.18.10.1\nvlans:\n  trunk0: [10=198.18.10.1/24]\n",
	  ":4:12: VLAN '10=198.18.10.1/24': the VLAN's address is the untagged network's server "
	  "address" },
	{ "interfaces: [trunk0]\nvlans:\n  trunk0:\n    - "
	  "10=198.18.10.1/24,pool=198.18.11.1-198.18.11.9\n",
	  ":4:7: VLAN '10=198.18.10.1/24,pool=198.18.11.1-198.18.11.9': the pool is not inside the "
	  "VLAN's subnet" },
	{ "interfaces: [trunk0]\nvlans:\n  trunk0:\n    - "
	  "10=198.18.10.1/24,pool=198.18.10.1-198.18.10.9\n",
	  ":4:7: VLAN '10=198.18.10.1/24,pool=198.18.10.1-198.18.10.9': the pool holds the VLAN's "
	  "own "
	  "address" },
	{ "interfaces: [trunk0]\nvlans:\n  trunk0:\n    - "
	  "10=198.18.10.1/24,pool=198.18.10.9-198.18.10.2\n",
	  "its first address comes after its last" },
	{ "interfaces: [trunk0]\nvlans:\n  trunk0:\n    - "
	  "10=198.18.10.1/24,range=198.18.10.2-198.18.10.9\n",
	  "after the prefix only ,pool=FIRST-LAST may follow" },
	{ "", "the file is empty" },
};

/* vlans: the VLANs of one trunk, parsed. */
static void test_vlans(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_config_error err;

	(void)state;
	write_file("interfaces: [trunk0]\nvlans:\n  trunk0: [10=198.18.10.1/24, "
		   "100.20=198.18.20.1/16]\n");
	assert_int_equal(xpxe_config_load(path, &cfg, &err), 0);
	assert_string_equal(cfg.dhcp.vlan_ifname, "trunk0");
	assert_int_equal(cfg.dhcp.n_vlans, 2);
	assert_int_equal(cfg.dhcp.vlans[0].vid, 10);
	assert_int_equal(cfg.dhcp.vlans[0].prefix, 24);
	assert_int_equal(cfg.dhcp.vlans[1].outer_vid, 100);
	assert_int_equal(cfg.dhcp.vlans[1].vid, 20);
	assert_int_equal(cfg.dhcp.vlans[1].prefix, 16);
	assert_int_equal(cfg.dhcp.vlans[0].pool_first.s_addr, 0);
	xpxe_config_free(&cfg);
	/* A VLAN's pool: a block list (in a flow list [...] the comma would split the entry). */
	write_file("interfaces: [trunk0]\nvlans:\n  trunk0:\n"
		   "    - 10=198.18.10.1/24,pool=198.18.10.100-198.18.10.199\n");
	assert_int_equal(xpxe_config_load(path, &cfg, &err), 0);
	assert_int_equal(cfg.dhcp.n_vlans, 1);
	assert_int_equal(ntohl(cfg.dhcp.vlans[0].pool_first.s_addr), 0xc6120a64);
	assert_int_equal(ntohl(cfg.dhcp.vlans[0].pool_last.s_addr), 0xc6120ac7);
	xpxe_config_free(&cfg);
	unlink(path);
}

static void test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xpxe_config cfg;
		struct xpxe_config_error err;

		write_file(bad[i].yaml);
		if (xpxe_config_load(path, &cfg, &err) == 0)
			fail_msg("case %zu accepted:\n%s", i, bad[i].yaml);
		if (!strstr(err.text, bad[i].expect) || strncmp(err.text, path, strlen(path)))
			fail_msg("case %zu: got '%s', expected '%s'", i, err.text, bad[i].expect);
		/* Nothing half-filled is left behind. */
		assert_int_equal(cfg.n_machines, 0);
		assert_null(cfg.machines);
	}
	unlink(path);
}

/* The fleet page is off unless asked for, and then for this host alone. */
static void test_ui_defaults(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_config_error err;
	struct in_addr a;

	(void)state;
	write_file("interfaces: [prov0]\n");
	assert_int_equal(xpxe_config_load(path, &cfg, &err), 0);
	assert_string_equal(cfg.ui.listen, "");
	assert_int_equal(cfg.ui.n_allow, 1);
	inet_pton(AF_INET, "127.0.0.0", &a);
	assert_int_equal(cfg.ui.allow[0].addr.s_addr, a.s_addr);
	assert_int_equal(cfg.ui.allow[0].mask.s_addr, htonl(0xff000000));
	assert_int_equal(cfg.ui.max_connections, XPXE_UI_MAX_CONNECTIONS);
	xpxe_config_free(&cfg);
	unlink(path);
}

/* Admission of bulk downloads: its defaults, the file's keys, a machine's role. */
static void test_downloads(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_config_error err;

	(void)state;
	write_file("interfaces: [prov0]\n");
	assert_int_equal(xpxe_config_load(path, &cfg, &err), 0);
	assert_int_equal(cfg.downloads.max, 32);
	assert_int_equal(cfg.downloads.max_wait_s, 0);
	assert_int_equal(cfg.downloads.min_size, 1 << 20);
	assert_int_equal(cfg.downloads.tftp_max, XPXE_DOWNLOADS_TFTP_MAX_DEFAULT);
	assert_int_equal(cfg.downloads.tftp_max_wait_s, 2);
	assert_int_equal(cfg.downloads.tftp_pace_ms, XPXE_DOWNLOADS_TFTP_PACE_MS_DEFAULT);
	assert_int_equal(cfg.downloads.tftp_http_backlog, XPXE_DOWNLOADS_TFTP_HTTP_BACKLOG_DEFAULT);
	xpxe_config_free(&cfg);
	write_file("interfaces: [prov0]\ndownloads: {tftp_max_wait: 61}\n");
	assert_true(xpxe_config_load(path, &cfg, &err) < 0);
	write_file("interfaces: [prov0]\ndownloads: {tftp_pace_ms: 241}\n");
	assert_true(xpxe_config_load(path, &cfg, &err) < 0);
	write_file("interfaces: [prov0]\ndownloads: {max: 0, max_wait: 90, min_size_kib: 64, "
		   "tftp_max: 0, tftp_max_wait: 0, tftp_pace_ms: 0, tftp_http_backlog: 48}\n"
		   "machines:\n  - {mac: 52:54:00:00:00:01, role: controlplane}\n"
		   "  - {mac: 52:54:00:00:00:02, role: init}\n  - {mac: 52:54:00:00:00:03}\n");
	assert_int_equal(xpxe_config_load(path, &cfg, &err), 0);
	assert_int_equal(cfg.downloads.max, 0);
	assert_int_equal(cfg.downloads.max_wait_s, 90);
	assert_int_equal(cfg.downloads.min_size, 64 << 10);
	assert_int_equal(cfg.downloads.tftp_max, 0);
	assert_int_equal(cfg.downloads.tftp_max_wait_s, 0);
	assert_int_equal(cfg.downloads.tftp_pace_ms, 0);
	assert_int_equal(cfg.downloads.tftp_http_backlog, 48);
	assert_string_equal(cfg.machines[0].role, "controlplane");
	assert_string_equal(cfg.machines[1].role, "init");
	assert_string_equal(cfg.machines[2].role, "");
	xpxe_config_free(&cfg);
	unlink(path);
}

/* downloads.tftp_port_range: the default, a range, and what is refused (and why). */
static void test_tftp_port_range(void **state)
{
	static const char *const bad[] = { "1000-2000",	   "50000-40000", "40000-56384", "40000",
					   "40000-",	   "-40000",	  "40000-5x",	 "a-b",
					   "40000--50000", "1024-65536" };
	struct xpxe_config cfg;
	struct xpxe_config_error err;
	unsigned lo = 0, hi = 0;
	char why[160];

	(void)state;
	write_file("interfaces: [prov0]\n");
	assert_int_equal(xpxe_config_load(path, &cfg, &err), 0);
	assert_int_equal(cfg.downloads.tftp_port_low, 49152);
	assert_int_equal(cfg.downloads.tftp_port_high, 65535);
	xpxe_config_free(&cfg);
	write_file("interfaces: [prov0]\ndownloads: {tftp_port_range: 40000-56383}\n");
	assert_int_equal(xpxe_config_load(path, &cfg, &err), 0);
	assert_int_equal(cfg.downloads.tftp_port_low, 40000);
	assert_int_equal(cfg.downloads.tftp_port_high, 56383);
	xpxe_config_free(&cfg);
	write_file("interfaces: [prov0]\ndownloads: {tftp_port_range: 69-1000}\n");
	assert_true(xpxe_config_load(path, &cfg, &err) < 0);
	assert_non_null(strstr(err.text, "tftp_port_range"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!xpxe_tftp_port_range_parse(bad[i], &lo, &hi, why, sizeof(why)))
			fail_msg("'%s' taken as a port range (%u-%u)", bad[i], lo, hi);
	assert_int_equal(xpxe_tftp_port_range_parse("1024-1024", &lo, &hi, why, sizeof(why)), 0);
	assert_int_equal(lo, 1024);
	assert_int_equal(hi, 1024);
	assert_int_equal(xpxe_tftp_port_range_parse("40000-56384", &lo, &hi, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "at most 16384"));
	unlink(path);
}

static void test_missing_file(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_config_error err;

	(void)state;
	assert_true(xpxe_config_load("/nonexistent/xpxe.yaml", &cfg, &err) < 0);
	assert_string_equal(err.text, "/nonexistent/xpxe.yaml: No such file or directory");
}

/*
 * The quick start's pool and reservations against the interface's subnet (198.18.0.0/24)
 * and a relay's network routed through it (198.18.4.0/22).
 */
static void test_pool_and_reservations(void **state)
{
	static const struct {
		const char *first, *last, *mac, *ip, *expect; /* expect NULL: accepted */
	} cases[] = {
		{ "198.18.0.100", "198.18.0.199", NULL, NULL, NULL },
		{ "10.0.0.100", "10.0.0.199", NULL, NULL,
		  "--pool: pool 10.0.0.100-10.0.0.199 is outside the subnet of prov0 "
		  "(198.18.0.0/24)" },
		{ "198.18.0.200", "198.18.1.10", NULL, NULL, "is outside the subnet of prov0" },
		{ "198.18.0.1", "198.18.0.9", NULL, NULL,
		  "pool 198.18.0.1-198.18.0.9 holds the address of prov0 itself" },
		{ "198.18.0.200", "198.18.0.255", NULL, NULL,
		  "holds the network or broadcast address of 198.18.0.0/24" },
		{ "198.18.0.100", "198.18.0.199", "\x52\x54\x00\x00\x00\x01", "198.18.0.50", NULL },
		/* A relay's network, routed through prov0: its pool and reservations are fine. */
		{ "198.18.4.16", "198.18.7.250", NULL, NULL, NULL },
		{ "198.18.4.0", "198.18.4.250", NULL, NULL,
		  "holds the network or broadcast address of 198.18.4.0/22" },
		{ "198.18.8.16", "198.18.8.250", NULL, NULL,
		  "and no route sends it through prov0" },
		{ "198.18.0.100", "198.18.0.199", "\x52\x54\x00\x00\x00\x01", "198.18.5.5", NULL },
		{ "198.18.0.100", "198.18.0.199", "\x52\x54\x00\x00\x00\x01", "10.0.0.5",
		  "--reserve 52:54:00:00:00:01=10.0.0.5: ip 10.0.0.5 is outside every served "
		  "subnet (prov0: 198.18.0.0/24, prov0: 198.18.4.0/22 (routed))" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xpxe_config cfg;
		struct xpxe_config_error err = { "" };
		int ret;

		xpxe_config_defaults(&cfg);
		cfg.dhcp.mode = XPXE_MODE_FULL;
		inet_pton(AF_INET, cases[i].first, &cfg.dhcp.pool_first);
		inet_pton(AF_INET, cases[i].last, &cfg.dhcp.pool_last);
		if (cases[i].mac) {
			memcpy(cfg.dhcp.reservations[0].mac, cases[i].mac, 6);
			inet_pton(AF_INET, cases[i].ip, &cfg.dhcp.reservations[0].ip);
			cfg.dhcp.n_reservations = 1;
		}
		snprintf(cfg.subnets[0].ifname, sizeof(cfg.subnets[0].ifname), "prov0");
		inet_pton(AF_INET, "198.18.0.1", &cfg.subnets[0].addr);
		inet_pton(AF_INET, "255.255.255.0", &cfg.subnets[0].mask);
		snprintf(cfg.subnets[1].ifname, sizeof(cfg.subnets[1].ifname), "prov0");
		inet_pton(AF_INET, "198.18.4.0", &cfg.subnets[1].addr);
		inet_pton(AF_INET, "255.255.252.0", &cfg.subnets[1].mask);
		cfg.subnets[1].routed = true;
		cfg.n_subnets = 2;
		ret = xpxe_config_check(&cfg, &err);
		if (!cases[i].expect && ret)
			fail_msg("case %zu refused: %s", i, err.text);
		if (cases[i].expect && (!ret || !strstr(err.text, cases[i].expect)))
			fail_msg("case %zu: got '%s', expected '%s'", i,
				 ret ? err.text : "accepted", cases[i].expect);
	}
}

/* A full-mode config with one machine from the file and the served subnet 198.18.0.0/24. */
static void load_base(struct xpxe_config *cfg)
{
	struct xpxe_config_error err;

	write_file(
	    "mode: full\n"
	    "profiles: {other: {}}\n"
	    "machines:\n"
	    "  - {mac: 52:54:00:00:00:01, hostname: cp-1, uuid: 11111111-0000-0000-0000-0000000"
	    "00001, ip: 198.18.0.50}\n");
	if (xpxe_config_load(path, cfg, &err))
		fail_msg("%s", err.text);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/tmp/xpxe-state-%d", (int)getpid());
	snprintf(cfg->subnets[0].ifname, sizeof(cfg->subnets[0].ifname), "prov0");
	inet_pton(AF_INET, "198.18.0.1", &cfg->subnets[0].addr);
	inet_pton(AF_INET, "255.255.255.0", &cfg->subnets[0].mask);
	cfg->n_subnets = 1;
}

/* One machine as `xpxe machines add` sends it: checked as added (line 0), or NULL if invalid. */
static const char *try_add(struct xpxe_config *cfg, const char *json, struct xpxe_config_error *err)
{
	struct fy_document *doc = fy_document_build_from_string(NULL, json, FY_NT);
	struct xpxe_machine_cfg m;
	int ret;

	assert_non_null(doc);
	ret = xpxe_config_parse_machine(cfg, fy_document_root(doc), "the machine to add", &m, err);
	fy_document_destroy(doc);
	if (ret)
		return err->text;
	cfg->machines = realloc(cfg->machines, (cfg->n_machines + 1) * sizeof(m));
	cfg->machines[cfg->n_machines] = m;
	return xpxe_config_check_machine(cfg, cfg->n_machines, err) ? err->text : NULL;
}

static const struct {
	const char *json;
	const char *expect; /* NULL: accepted */
} adds[] = {
	{ "{\"mac\": [\"52-54-00-00-00-02\"], \"hostname\": \"w-2\", \"profile\": \"other\", "
	  "\"ip\": \"198.18.0.51\"}",
	  NULL },
	{ "{\"mac\": \"52:54:00:00:00:0g\"}",
	  "the machine to add: '52:54:00:00:00:0g' is not a MAC: expected a MAC such as "
	  "52:54:00:12:34:56" },
	{ "{\"mac\": \"52:54:00:00:00:04\", \"uuid\": \"not-a-uuid\"}",
	  "the machine to add: 'not-a-uuid' is not a UUID" },
	{ "{\"mac\": \"52:54:00:00:00:04\", \"hostname\": \"with space\"}",
	  "the machine to add: 'with space' is not a host name" },
	{ "{\"profile\": \"nope\", \"mac\": \"52:54:00:00:00:03\"}", "no profile 'nope'" },
	{ "{\"profile\": \"other\"}", "a machine needs a selector" },
	{ "{\"mac\": \"52:54:00:00:00:03\", \"color\": \"red\"}", "unknown key 'color'" },
	{ "{\"ip\": \"198.18.0.300\", \"mac\": \"52:54:00:00:00:03\"}",
	  "'198.18.0.300' is not an IPv4 address" },
	{ "{\"mac\": \"52:54:00:00:00:01\"}",
	  "the machine to add: this MAC belongs to the machine of /tmp/xpxe-config-test-" },
	{ "{\"mac\": \"52:54:00:00:00:03\", \"hostname\": \"CP-1\"}",
	  "hostname 'CP-1' names the machine of" },
	{ "{\"mac\": \"52:54:00:00:00:03\", \"ip\": \"198.18.0.50\"}",
	  "this ip is reserved for the machine of" },
	{ "{\"mac\": \"52:54:00:00:00:03\", \"ip\": \"10.1.2.3\"}",
	  "ip 10.1.2.3 is outside every served subnet (prov0: 198.18.0.0/24)" },
	{ "{\"mac\": \"52:54:00:00:00:03\", \"ip\": \"198.18.0.1\"}",
	  "ip 198.18.0.1 is the address of prov0 itself" },
	{ "{\"mac\": \"52:54:00:00:00:03\", \"ip\": \"198.18.0.255\"}",
	  "is the network or broadcast address of prov0" },
	/* The file may hold a shared UUID (a firmware bug); add refuses to make one. */
	{ "{\"uuid\": \"11111111-0000-0000-0000-000000000001\"}",
	  "uuid 11111111-0000-0000-0000-000000000001 is the machine of" },
};

static void test_machines_add_checks(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_config_error err;

	(void)state;
	load_base(&cfg);
	for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
		const char *got = try_add(&cfg, adds[i].json, &err);

		if (!adds[i].expect && got)
			fail_msg("case %zu refused: %s", i, got);
		if (adds[i].expect && (!got || !strstr(got, adds[i].expect)))
			fail_msg("case %zu: got '%s', expected '%s'", i, got ? got : "accepted",
				 adds[i].expect);
		if (!got)
			cfg.n_machines++;
	}
	assert_int_equal(cfg.n_machines, 2);
	assert_true(cfg.machines[1].added);
	assert_int_equal(cfg.machines[1].profile, xpxe_config_profile(&cfg, "other"));
	xpxe_config_free(&cfg);
	unlink(path);
}

/* STATE_DIR/machines.yaml: read back with lines for messages; a clash names both files. */
static void test_machines_file(void **state)
{
	char file[128];
	struct xpxe_config cfg;
	struct xpxe_config_error err;
	FILE *f;

	(void)state;
	load_base(&cfg);
	snprintf(file, sizeof(file), "%s.machines", path);
	assert_int_equal(xpxe_config_load_machines("/nonexistent/machines.yaml", &cfg, &err), 0);
	assert_int_equal(cfg.n_machines, 1);
	f = fopen(file, "w");
	fputs(
	    "# comment\nmachines:\n  - {\"mac\": [\"52:54:00:00:00:02\"], \"profile\": \"other\"}\n"
	    "  - {\"mac\": [\"52:54:00:00:00:03\"], \"ip\": \"198.18.0.52\"}\n",
	    f);
	fclose(f);
	assert_int_equal(xpxe_config_load_machines(file, &cfg, &err), 0);
	assert_int_equal(cfg.n_machines, 3);
	assert_true(cfg.machines[2].added);
	assert_int_equal(cfg.machines[2].line, 4);
	f = fopen(file, "w");
	fputs("machines:\n  - {\"mac\": [\"52:54:00:00:00:01\"]}\n", f);
	fclose(f);
	assert_int_not_equal(xpxe_config_load_machines(file, &cfg, &err), 0);
	assert_non_null(
	    strstr(err.text, "machines.yaml:2: this MAC belongs to the machine of /tmp/"));
	assert_int_equal(cfg.n_machines, 3); /* nothing of a bad file is kept */
	f = fopen(file, "w");
	fputs("machines:\n  - {\"mac\": [\"52:54:00:00:00:0x\"]}\n", f);
	fclose(f);
	assert_int_not_equal(xpxe_config_load_machines(file, &cfg, &err), 0);
	if (!strstr(err.text, ".machines:2:15: '52:54:00:00:00:0x' is not a MAC"))
		fail_msg("got %s", err.text);
	unlink(file);
	xpxe_config_free(&cfg);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_vlans),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_machines_add_checks),
		cmocka_unit_test(test_machines_file),
		cmocka_unit_test(test_pool_and_reservations),
		cmocka_unit_test(test_ui_defaults),
		cmocka_unit_test(test_downloads),
		cmocka_unit_test(test_tftp_port_range),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
