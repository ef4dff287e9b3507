// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Full mode's bindings: sticky, never duplicated, durable, and honest about bad files. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dhcp/leases.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xpxe-leases-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/sub/test.leases", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct in_addr ip(const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	return a;
}

static const unsigned char mac_a[6] = { 0x52, 0x54, 0, 0, 0, 0xa };
static const unsigned char mac_b[6] = { 0x52, 0x54, 0, 0, 0, 0xb };
static const unsigned char mac_c[6] = { 0x52, 0x54, 0, 0, 0, 0xc };

static void test_sticky_and_unique(void **state)
{
	struct xpxe_leases l;
	struct xpxe_lease *a, *b, evicted;
	struct in_addr none = { 0 };
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases_init(&l, path, ip("198.18.0.100"), ip("198.18.0.102")), 0);
	assert_int_equal(xpxe_leases_reserve_ip(&l, ip("198.18.0.100")), 0);
	a = xpxe_leases_allocate(&l, mac_a, none, 1000, &created, &evicted);
	assert_non_null(a);
	assert_true(created);
	assert_int_equal(a->ip.s_addr, ip("198.18.0.101").s_addr); /* .100 is reserved */
	a->expires = 5000;
	/* The same MAC again: the same address, nothing new. */
	a = xpxe_leases_allocate(&l, mac_a, ip("198.18.0.102"), 1000, &created, &evicted);
	assert_false(created);
	assert_int_equal(a->ip.s_addr, ip("198.18.0.101").s_addr);
	/* Another MAC asking for a taken address gets a free one. */
	b = xpxe_leases_allocate(&l, mac_b, ip("198.18.0.101"), 1000, &created, &evicted);
	assert_non_null(b);
	assert_int_equal(b->ip.s_addr, ip("198.18.0.102").s_addr);
	b->expires = 2000;
	assert_true(xpxe_leases_pool_full(&l));
	/* Full, and nothing expired at t=1000: refused. */
	assert_null(xpxe_leases_allocate(&l, mac_c, none, 1000, &created, &evicted));
	/* At t=3000 b's binding has expired (a's has not): c takes b's address. */
	b = xpxe_leases_allocate(&l, mac_c, none, 3000, &created, &evicted);
	assert_non_null(b);
	assert_true(created);
	assert_int_equal(b->ip.s_addr, ip("198.18.0.102").s_addr);
	assert_memory_equal(evicted.mac, mac_b, 6);
	assert_null(xpxe_leases_find(&l, mac_b));
	xpxe_leases_free(&l);
}

static void test_asked_address_is_honoured_when_free(void **state)
{
	struct xpxe_leases l;
	struct xpxe_lease *a, evicted;
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases_init(&l, path, ip("198.18.0.100"), ip("198.18.0.199")), 0);
	a = xpxe_leases_allocate(&l, mac_a, ip("198.18.0.150"), 1, &created, &evicted);
	assert_int_equal(a->ip.s_addr, ip("198.18.0.150").s_addr);
	/* Outside the pool: ignored. */
	a = xpxe_leases_allocate(&l, mac_b, ip("198.18.1.150"), 1, &created, &evicted);
	assert_int_equal(a->ip.s_addr, ip("198.18.0.100").s_addr);
	xpxe_leases_free(&l);
}

static void test_save_then_load(void **state)
{
	struct xpxe_leases l, back;
	struct xpxe_lease *a, evicted;
	struct in_addr none = { 0 };
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases_init(&l, path, ip("198.18.0.100"), ip("198.18.0.199")), 0);
	for (int i = 0; i < 3; i++) {
		unsigned char m[6] = { 2, 0, 0, 0, 0, (unsigned char)i };

		a = xpxe_leases_allocate(&l, m, none, 1, &created, &evicted);
		a->expires = 1000 + i;
	}
	assert_int_equal(xpxe_leases_save(&l), 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_not_equal(access(path, W_OK | R_OK), -1);

	assert_int_equal(xpxe_leases_init(&back, path, ip("198.18.0.100"), ip("198.18.0.199")), 0);
	assert_int_equal(xpxe_leases_load(&back), 0);
	assert_int_equal(back.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_memory_equal(back.items[i].mac, l.items[i].mac, 6);
		assert_int_equal(back.items[i].ip.s_addr, l.items[i].ip.s_addr);
		assert_int_equal(back.items[i].expires, 1000 + i);
	}
	/* Loaded bindings are taken: a new MAC gets the next address. */
	a = xpxe_leases_allocate(&back, mac_c, none, 1, &created, &evicted);
	assert_int_equal(a->ip.s_addr, ip("198.18.0.103").s_addr);
	xpxe_leases_free(&l);
	xpxe_leases_free(&back);
}

/*
 * An address only offered (held for a REQUEST) is never written: a flood of
 * DISCOVERs leaves the file alone. Once its hold has run out, it goes to the
 * next new MAC when the pool is full; while it runs, the new MAC is refused.
 */
static void test_offers_held_not_written(void **state)
{
	struct xpxe_leases l, back;
	struct xpxe_lease *a, *b, *c, evicted;
	struct in_addr none = { 0 };
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases_init(&l, path, ip("198.18.0.100"), ip("198.18.0.101")), 0);
	a = xpxe_leases_allocate(&l, mac_a, none, 100, &created, &evicted);
	a->expires = 100 + 3600;
	b = xpxe_leases_allocate(&l, mac_b, none, 100, &created, &evicted);
	b->offered = true;
	b->expires = 100 + 30;
	assert_int_equal(xpxe_leases_offered(&l), 1);
	assert_int_equal(xpxe_leases_save(&l), 0);
	assert_int_equal(xpxe_leases_init(&back, path, ip("198.18.0.100"), ip("198.18.0.101")), 0);
	assert_int_equal(xpxe_leases_load(&back), 0);
	assert_int_equal(back.n, 1);
	assert_memory_equal(back.items[0].mac, mac_a, 6);
	assert_false(back.items[0].offered);

	/* The pool is full: while the hold runs, a new MAC is refused... */
	assert_true(xpxe_leases_pool_full(&l));
	assert_null(xpxe_leases_allocate(&l, mac_c, none, 100 + 29, &created, &evicted));
	/* ... once it ran out, the new MAC takes its address, as a plain binding. */
	c = xpxe_leases_allocate(&l, mac_c, none, 100 + 31, &created, &evicted);
	assert_non_null(c);
	assert_true(created);
	assert_memory_equal(evicted.mac, mac_b, 6);
	assert_true(evicted.offered);
	assert_int_equal(c->ip.s_addr, ip("198.18.0.101").s_addr);
	assert_false(c->offered);
	xpxe_leases_free(&l);
	xpxe_leases_free(&back);
}

static void test_bad_file_moved_aside_good_lines_kept(void **state)
{
	struct xpxe_leases l;
	char pattern[160];
	glob_t g;
	FILE *f;

	(void)state;
	{
		char sub[96];

		snprintf(sub, sizeof(sub), "%s/sub", dir);
		assert_int_equal(mkdir(sub, 0700), 0);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# comment\n"
		   "52:54:00:00:00:0a 198.18.0.100 1000\n"
		   "this is not a binding\n"
		   "52:54:00:00:00:0b 198.18.0.100 1000\n" /* the same address twice */
		   "52:54:00:00:00:0c 198.18.0.101 12\n");
	fclose(f);
	assert_int_equal(xpxe_leases_init(&l, path, ip("198.18.0.100"), ip("198.18.0.199")), 0);
	assert_int_equal(xpxe_leases_load(&l), 2); /* two bad lines */
	assert_int_equal(l.n, 2);
	assert_non_null(xpxe_leases_find(&l, mac_a));
	assert_non_null(xpxe_leases_find(&l, mac_c));
	assert_null(xpxe_leases_find(&l, mac_b));
	/* The original is kept aside, never silently emptied. */
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(pattern, sizeof(pattern), "%s.corrupt-*", path);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	globfree(&g);
	xpxe_leases_free(&l);
}

static void test_unwritable_place_fails_loudly(void **state)
{
	struct xpxe_leases l;
	struct xpxe_lease *a, evicted;
	struct in_addr none = { 0 };
	bool created;

	(void)state;
	/* /proc refuses new files even to root: the save must fail, loudly. */
	assert_int_equal(
	    xpxe_leases_init(&l, "/proc/xpxe-no/leases", ip("198.18.0.100"), ip("198.18.0.199")),
	    0);
	a = xpxe_leases_allocate(&l, mac_a, none, 1, &created, &evicted);
	assert_non_null(a);
	assert_true(xpxe_leases_save(&l) < 0);
	xpxe_leases_free(&l);
}

/* A reload changes the reservations: a new one is never handed out, a removed one is free again. */
static void test_reservations_replaced(void **state)
{
	struct xpxe_leases l;
	struct xpxe_lease *a, evicted;
	struct in_addr none = { 0 }, two[2];
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases_init(&l, path, ip("198.18.0.100"), ip("198.18.0.103")), 0);
	assert_int_equal(xpxe_leases_reserve_ip(&l, ip("198.18.0.100")), 0);
	a = xpxe_leases_allocate(&l, mac_a, none, 1, &created, &evicted);
	assert_int_equal(a->ip.s_addr, ip("198.18.0.101").s_addr);
	assert_int_equal(xpxe_leases_quarantine_ip(&l, ip("198.18.0.103")), 0);
	/* The reload: .100 no longer reserved, .102 reserved now. */
	two[0] = ip("198.18.0.102");
	assert_int_equal(xpxe_leases_set_reserved(&l, two, 1), 0);
	assert_true(xpxe_leases_ip_free(&l, ip("198.18.0.100")));
	assert_false(xpxe_leases_ip_free(&l, ip("198.18.0.101"))); /* still a's */
	assert_false(xpxe_leases_ip_free(&l, ip("198.18.0.102"))); /* reserved */
	assert_false(xpxe_leases_ip_free(&l, ip("198.18.0.103"))); /* declined: stays out */
	a = xpxe_leases_allocate(&l, mac_b, ip("198.18.0.102"), 1, &created, &evicted);
	assert_int_equal(a->ip.s_addr, ip("198.18.0.100").s_addr);
	assert_true(xpxe_leases_pool_full(&l));
	assert_ptr_equal(xpxe_leases_holder(&l, ip("198.18.0.100")), a);
	assert_null(xpxe_leases_holder(&l, ip("198.18.0.102")));
	/* A binding removed on a reserved address leaves it reserved. */
	two[1] = ip("198.18.0.100");
	assert_int_equal(xpxe_leases_set_reserved(&l, two, 2), 0);
	xpxe_leases_remove(&l, mac_b);
	assert_false(xpxe_leases_ip_free(&l, ip("198.18.0.100")));
	assert_int_equal(xpxe_leases_set_reserved(&l, NULL, 0), 0);
	assert_true(xpxe_leases_ip_free(&l, ip("198.18.0.100")));
	assert_true(xpxe_leases_ip_free(&l, ip("198.18.0.102")));
	xpxe_leases_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sticky_and_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_asked_address_is_honoured_when_free, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_save_then_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offers_held_not_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_file_moved_aside_good_lines_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_place_fails_loudly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reservations_replaced, setup, teardown),
	};

	return cmocka_run_group_tests_name("leases", tests, NULL, NULL);
}
