// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet view's index by MAC (userspace/events.c): every event finds its own
 * machine among thousands, across the index's growth and after machines are
 * forgotten, and a flood of new MACs stops at the view's bound. The tests run in
 * order on the one fleet of the process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "events.h"
#include "log.h"

#define MACHINES 5000  /* past several growths of the index (64, 128, ... 8192) */
#define VIEW_MAX 65536 /* the view's bound (events.c) */

static void mac_of(int i, char mac[18])
{
	snprintf(mac, 18, "52:54:00:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

/* The whole fleet, malloc'ed; *N its size. */
static struct xpxe_machine_view *fleet(int *n)
{
	struct xpxe_machine_view *rows = malloc(VIEW_MAX * sizeof(*rows));

	assert_non_null(rows);
	*n = xpxe_events_fleet(rows, VIEW_MAX);
	return rows;
}

/* Each name lands on its own machine, and naming them again adds none. */
static void test_distinct_machines(void **state)
{
	struct xpxe_machine_view *rows;
	char mac[18], host[64];
	int n;

	(void)state;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < MACHINES; i++) {
			mac_of(i, mac);
			snprintf(host, sizeof(host), "node%d-%d", i, round);
			xpxe_event_name(mac, host, "");
		}
	rows = fleet(&n);
	assert_int_equal(n, MACHINES);
	for (int i = 0; i < MACHINES; i++) {
		mac_of(i, mac);
		snprintf(host, sizeof(host), "node%d-1", i);
		assert_string_equal(rows[i].mac, mac);
		assert_string_equal(rows[i].hostname, host);
	}
	free(rows);
}

/* An event reaches the machine of its MAC: its stage moves, no machine is added. */
static void test_event_finds_its_machine(void **state)
{
	struct xpxe_machine_view *rows;
	char mac[18];
	int n;

	(void)state;
	for (int i = 0; i < MACHINES; i += 2) {
		mac_of(i, mac);
		xpxe_event(XPXE_EV_DHCP_ACK, mac, "198.18.0.61", "p0", NULL, 0);
	}
	rows = fleet(&n);
	assert_int_equal(n, MACHINES);
	for (int i = 0; i < MACHINES; i++)
		assert_int_equal(rows[i].stage, i % 2 ? XPXE_STAGE_NONE : XPXE_STAGE_ADDRESS);
	free(rows);
}

/* Forgetting the names drops the machines only named (the odd ones): the rest move up in
 * the view, and events still find them, not a new machine. */
static void test_clear_names_reindexes(void **state)
{
	struct xpxe_machine_view *rows;
	char mac[18];
	int n;

	(void)state;
	xpxe_events_clear_names();
	rows = fleet(&n);
	assert_int_equal(n, MACHINES / 2);
	free(rows);
	for (int i = 0; i < MACHINES; i += 2) {
		mac_of(i, mac);
		xpxe_event_name(mac, "again", "");
	}
	mac_of(1, mac);
	xpxe_event_name(mac, "new", "");
	rows = fleet(&n);
	assert_int_equal(n, MACHINES / 2 + 1);
	for (int i = 0; i < MACHINES / 2; i++) {
		mac_of(2 * i, mac);
		assert_string_equal(rows[i].mac, mac);
		assert_string_equal(rows[i].hostname, "again");
		assert_int_equal(rows[i].stage, XPXE_STAGE_ADDRESS);
	}
	mac_of(1, mac);
	assert_string_equal(rows[MACHINES / 2].mac, mac);
	free(rows);
}

/* A flood of new MACs stops at the bound; the machines already known are still found. */
static void test_bound(void **state)
{
	struct xpxe_machine_view *rows;
	char mac[18];
	int n;

	(void)state;
	for (int i = 0; i < VIEW_MAX + 100; i++) {
		mac_of(0x100000 + i, mac);
		xpxe_event_name(mac, "flood", "");
	}
	rows = fleet(&n);
	assert_int_equal(n, VIEW_MAX);
	free(rows);
	mac_of(0, mac);
	xpxe_event_name(mac, "still", "");
	rows = fleet(&n);
	assert_int_equal(n, VIEW_MAX);
	assert_string_equal(rows[0].mac, mac);
	assert_string_equal(rows[0].hostname, "still");
	free(rows);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distinct_machines),
		cmocka_unit_test(test_event_finds_its_machine),
		cmocka_unit_test(test_clear_names_reindexes),
		cmocka_unit_test(test_bound),
	};

	xpxe_log_threshold = XPXE_LOG_ERROR; /* the events' log lines */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
