// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet page's data: the fleet view's versions (what a poll "since" gets),
 * each machine's current boot (start, done) for the storm's plot, late records
 * of the programs, and the JSON the page parses, whatever a machine's texts hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "xpxe_dhcp.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "ui/ui.h"

static const struct xpxe_machine_view *find(const struct xpxe_machine_view *rows, int n,
					    const char *mac)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i].mac, mac))
			return &rows[i];
	return NULL;
}

/* A poll "since" its last version gets what changed, and only that. */
static void test_versions(void **state)
{
	struct xpxe_machine_view *rows;
	uint64_t v0, v1, v2, v3;
	int n;

	(void)state;
	xpxe_event(XPXE_EV_DHCP_OFFER, "52:54:00:28:00:01", "198.18.0.61", "p0", NULL, 0);
	xpxe_event(XPXE_EV_DHCP_OFFER, "52:54:00:28:00:02", "198.18.0.62", "p0", NULL, 0);
	n = xpxe_events_fleet_since(0, &rows, &v0);
	assert_true(n >= 2);
	assert_non_null(find(rows, n, "52:54:00:28:00:01"));
	free(rows);

	/* Nothing changed: nothing sent. */
	assert_int_equal(xpxe_events_fleet_since(v0, &rows, &v1), 0);
	assert_int_equal(v1, v0);
	free(rows);

	xpxe_event(XPXE_EV_DHCP_ACK, "52:54:00:28:00:02", "198.18.0.62", "p0", NULL, 0);
	n = xpxe_events_fleet_since(v1, &rows, &v2);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].mac, "52:54:00:28:00:02");
	assert_string_equal(xpxe_stage_names[rows[0].stage], "address");
	assert_true(v2 > v1);
	free(rows);

	/* The inventory's names and profiles, and the default profile, are changes too. */
	xpxe_event_name("52:54:00:28:00:01", "ui-1", "uefi");
	xpxe_events_default_profile("default");
	n = xpxe_events_fleet_since(v2, &rows, &v3);
	assert_int_equal(n, 2);
	assert_string_equal(find(rows, n, "52:54:00:28:00:01")->profile, "uefi");
	assert_string_equal(find(rows, n, "52:54:00:28:00:01")->hostname, "ui-1");
	/* Not named by the inventory: under the default profile. */
	assert_string_equal(find(rows, n, "52:54:00:28:00:02")->profile, "default");
	free(rows);
	/* The same names again change nothing. */
	xpxe_event_name("52:54:00:28:00:01", "ui-1", "uefi");
	assert_int_equal(xpxe_events_fleet_since(v3, &rows, &v0), 0);
	free(rows);
}

static struct xpxe_machine_view one(const char *mac)
{
	struct xpxe_machine_view *rows, m;
	uint64_t v;
	int n = xpxe_events_fleet_since(0, &rows, &v);
	const struct xpxe_machine_view *found = find(rows, n, mac);

	assert_non_null(found);
	m = *found;
	free(rows);
	return m;
}

/*
 * A boot: its start is the first event, its end the config; iPXE's own DHCP
 * within it starts nothing new; a DHCP offer after the config starts the next.
 */
static void test_boot_start_and_done(void **state)
{
	const char *mac = "52:54:00:28:00:03";
	struct xpxe_machine_view m;
	struct timespec start;

	(void)state;
	xpxe_event(XPXE_EV_DHCP_OFFER, mac, NULL, "p0", NULL, 0);
	m = one(mac);
	start = m.boot_start;
	assert_true(start.tv_sec > 0);
	assert_int_equal(m.done.tv_sec, 0);
	xpxe_event(XPXE_EV_DHCP_ACK, mac, "198.18.0.63", "p0", NULL, 0);
	xpxe_event(XPXE_EV_DHCP_OFFER, mac, NULL, "p0", NULL, 0); /* iPXE's own */
	xpxe_event(XPXE_EV_SCRIPT, mac, "198.18.0.63", NULL, NULL, 0);
	m = one(mac);
	assert_int_equal(m.boot_start.tv_sec, start.tv_sec);
	assert_int_equal(m.boot_start.tv_nsec, start.tv_nsec);
	assert_int_equal(m.done.tv_sec, 0);
	xpxe_event(XPXE_EV_CONFIG, mac, "198.18.0.63", NULL, NULL, 100);
	xpxe_event(XPXE_EV_INSTALLED, mac, NULL, NULL, NULL, 0);
	m = one(mac);
	assert_string_equal(xpxe_stage_names[m.stage], "installed");
	assert_true(m.done.tv_sec > 0);
	/* The next boot (it boots its disk now). */
	xpxe_event(XPXE_EV_DHCP_OFFER, mac, NULL, "p0", NULL, 0);
	m = one(mac);
	assert_string_equal(xpxe_stage_names[m.stage], "dhcp offer");
	assert_int_equal(m.done.tv_sec, 0);
	assert_true(m.boot_start.tv_sec > start.tv_sec ||
		    (m.boot_start.tv_sec == start.tv_sec && m.boot_start.tv_nsec > start.tv_nsec));
	xpxe_event(XPXE_EV_LOCAL_BOOT, mac, NULL, NULL, NULL, 0);
	m = one(mac);
	assert_true(m.done.tv_sec > 0); /* booting its disk ends a boot too */
	/* Re-armed: not done, and the next offer starts a boot. */
	xpxe_event(XPXE_EV_REARMED, mac, NULL, NULL, NULL, 0);
	m = one(mac);
	assert_int_equal(m.stage, XPXE_STAGE_NONE);
	assert_int_equal(m.done.tv_sec, 0);
}

/*
 * The programs' records are read up to a second late: an offer that happened
 * before the script (iPXE's DHCP, read after the script it fetched) does not
 * send the machine back to DHCP.
 */
static void test_late_record(void **state)
{
	const char *mac = "52:54:00:28:00:04";
	struct timespec before;
	struct xpxe_machine_view m;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &before);
	before.tv_sec -= 1;
	xpxe_event(XPXE_EV_LEASE_BOUND, mac, "198.18.0.64", NULL, NULL, 0);
	xpxe_event(XPXE_EV_SCRIPT, mac, "198.18.0.64", NULL, NULL, 0);
	xpxe_event_dhcp(&before, XPXE_EV_DHCP_OFFER, mac, NULL, "p0", XPXE_BOOT_IPXE);
	xpxe_event_dhcp(&before, XPXE_EV_DHCP_ACK, mac, "198.18.0.64", "p0", XPXE_BOOT_IPXE);
	m = one(mac);
	assert_string_equal(xpxe_stage_names[m.stage], "ipxe script");
	/* Its time is when it happened, the machine's first event, and its boot's start. */
	assert_int_equal(m.first.tv_sec, before.tv_sec);
	assert_int_equal(m.boot_start.tv_sec, before.tv_sec);
	/* An offer that is not late: a new DHCP, as ever. */
	xpxe_event(XPXE_EV_DHCP_OFFER, mac, NULL, "p0", NULL, 0);
	assert_string_equal(xpxe_stage_names[one(mac).stage], "dhcp offer");
}

/*
 * An operating system's own DHCP (no PXE, HTTP boot or iPXE identity) is not a
 * new boot: the installer's kernel asks for an address before its config, and
 * an installed node renews its lease; firmware's and iPXE's DHCP start over.
 */
static void test_os_dhcp(void **state)
{
	const char *mac = "52:54:00:28:00:07";
	struct timespec now;
	struct xpxe_machine_view m;

	(void)state;
	xpxe_event(XPXE_EV_SCRIPT, mac, "198.18.0.67", NULL, NULL, 0);
	xpxe_event(XPXE_EV_ASSET, mac, "198.18.0.67", NULL, "vmlinuz", 1000);
	clock_gettime(CLOCK_REALTIME, &now);
	xpxe_event_dhcp(&now, XPXE_EV_DHCP_OFFER, mac, "198.18.0.67", "p0", XPXE_BOOT_PLAIN);
	assert_string_equal(xpxe_stage_names[one(mac).stage], "downloading");
	xpxe_event(XPXE_EV_CONFIG, mac, "198.18.0.67", NULL, NULL, 100);
	xpxe_event(XPXE_EV_INSTALLED, mac, NULL, NULL, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &now);
	xpxe_event_dhcp(&now, XPXE_EV_DHCP_OFFER, mac, "198.18.0.67", "p0", XPXE_BOOT_PLAIN);
	m = one(mac);
	assert_string_equal(xpxe_stage_names[m.stage], "installed");
	assert_true(m.done.tv_sec > 0);
	/* Its firmware's, after: the next boot. */
	clock_gettime(CLOCK_REALTIME, &now);
	xpxe_event_dhcp(&now, XPXE_EV_DHCP_OFFER, mac, NULL, "p0", XPXE_BOOT_BIOS);
	m = one(mac);
	assert_string_equal(xpxe_stage_names[m.stage], "dhcp offer");
	assert_int_equal(m.done.tv_sec, 0);
}

/* Whatever a host name or a problem holds, the answer is JSON that says it back. */
static void test_json(void **state)
{
	struct xpxe_machine_view rows[2];
	struct xpxe_ui_fleet_meta meta = {
		.epoch = 17, .version = 42, .now_ms = 1000, .full = true
	};
	struct fy_document *doc;
	struct fy_node *root;
	const char *hostile = "a\"b\\c</script><b>&\x01\ttab";
	size_t len;
	char *json;

	(void)state;
	memset(rows, 0, sizeof(rows));
	snprintf(rows[0].mac, sizeof(rows[0].mac), "52:54:00:28:00:05");
	snprintf(rows[0].hostname, sizeof(rows[0].hostname), "%s", hostile);
	snprintf(rows[0].problem, sizeof(rows[0].problem), "%s", hostile);
	rows[0].stage = XPXE_STAGE_DOWNLOAD;
	rows[0].boot_start.tv_sec = 1700000000;
	rows[0].boot_start.tv_nsec = 5000000;
	rows[0].xfer.state = XPXE_XFER_RUNNING;
	rows[0].xfer.size = 1000;
	rows[0].xfer.done = 250;
	snprintf(rows[0].xfer.file, sizeof(rows[0].xfer.file), "vmlinuz");
	snprintf(rows[1].mac, sizeof(rows[1].mac), "52:54:00:28:00:06");
	rows[1].stage = XPXE_STAGE_MAX + 3; /* never out of the names' table */
	json = xpxe_ui_fleet_json(rows, 2, &meta, &len);
	assert_non_null(json);
	assert_int_equal(strlen(json), len);
	assert_null(strchr(json, '<')); /* no markup, whatever it holds */
	assert_null(strchr(json, '\x01'));
	doc = xpxe_json_parse(json, len);
	assert_non_null(doc);
	root = fy_document_root(doc);
	assert_int_equal(xpxe_json_u64(root, "/epoch", 0), 17);
	assert_int_equal(xpxe_json_u64(root, "/version", 0), 42);
	assert_string_equal(xpxe_json_str(root, "/stages/7"), "config");
	assert_int_equal(xpxe_json_u64(root, "/done_stage", 0), XPXE_STAGE_CONFIG);
	assert_string_equal(xpxe_json_str(root, "/machines/0/hostname"), hostile);
	assert_string_equal(xpxe_json_str(root, "/machines/0/problem"), hostile);
	assert_string_equal(xpxe_json_str(root, "/machines/0/stage"), "downloading");
	assert_int_equal(xpxe_json_u64(root, "/machines/0/boot_ms", 0), 1700000000005ull);
	assert_int_equal(xpxe_json_u64(root, "/machines/0/transfer/done", 0), 250);
	assert_string_equal(xpxe_json_str(root, "/machines/0/transfer/state"), "running");
	assert_string_equal(xpxe_json_str(root, "/machines/1/stage"), "-");
	assert_null(xpxe_json_str(root, "/machines/1/transfer"));
	fy_document_destroy(doc);
	free(json);

	/* A delta: no stage list. */
	meta.full = false;
	json = xpxe_ui_fleet_json(rows, 0, &meta, &len);
	assert_string_equal(json, "{\"epoch\":17,\"version\":42,\"now_ms\":1000,\"full\":false,"
				  "\"machines\":[]}\n");
	free(json);
}

/* The page's files are built in, and load nothing from elsewhere. */
static void test_files(void **state)
{
	const struct xpxe_ui_file *index = xpxe_ui_file("/");
	const char *paths[] = { "/", "/style.css", "/app.js", "/favicon.svg" };
	char *html;

	(void)state;
	assert_non_null(index);
	assert_string_equal(index->type, "text/html; charset=utf-8");
	assert_null(xpxe_ui_file("/index.html/../etc/passwd"));
	assert_null(xpxe_ui_file("/nope"));
	html = strndup((const char *)index->data, index->len);
	assert_non_null(strstr(html, "<script src=\"app.js\"></script>"));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct xpxe_ui_file *f = xpxe_ui_file(paths[i]);
		char *text;

		assert_non_null(f);
		text = strndup((const char *)f->data, f->len);
		/*
		 * No URL with a scheme or a host ("x://", "//host" in an attribute or a
		 * string): the only one is the SVG namespace's name, which loads nothing.
		 * A "//" after anything else starts a comment.
		 */
		for (char *at = strstr(text, "//"); at; at = strstr(at + 2, "//")) {
			bool url = at > text && strchr(":\"'(=", at[-1]);
			bool svg_ns = at - text >= 5 &&
				      !strncmp(at - 5, "http://www.w3.org/2000/svg", 26) &&
				      (at[21] == '"' || at[21] == '\'');

			if (url && !svg_ns)
				fail_msg("%s: a URL at '%.40s'", paths[i],
					 at > text + 6 ? at - 6 : at);
		}
		free(text);
	}
	free(html);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),    cmocka_unit_test(test_boot_start_and_done),
		cmocka_unit_test(test_late_record), cmocka_unit_test(test_os_dhcp),
		cmocka_unit_test(test_json),	    cmocka_unit_test(test_files),
	};

	xpxe_log_threshold = XPXE_LOG_ERROR; /* the events' log lines */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
