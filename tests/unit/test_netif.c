// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The interface checks `xpxe serve` refuses with: names and default routes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "netif.h"

static FILE *text(const char *s)
{
	return fmemopen((void *)s, strlen(s), "r");
}

static const char route4[] =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "prov0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";

static void test_route4_default_found(void **state)
{
	FILE *f = text(route4);

	(void)state;
	assert_true(xpxe_route4_has_default(f, "eth0"));
	fclose(f);
}

static void test_route4_subnet_only_is_not_default(void **state)
{
	FILE *f = text(route4);

	(void)state;
	assert_false(xpxe_route4_has_default(f, "prov0"));
	fclose(f);
}

static void test_route4_prefix_name_does_not_match(void **state)
{
	FILE *f = text(route4);

	(void)state;
	/* "eth" is a prefix of "eth0": a prefix match would refuse the wrong interface. */
	assert_false(xpxe_route4_has_default(f, "eth"));
	fclose(f);
}

static const char route6[] =
    "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";

static void test_route6_default_found(void **state)
{
	FILE *f = text(route6);

	(void)state;
	assert_true(xpxe_route6_has_default(f, "eth0"));
	fclose(f);
}

static void test_route6_reject_route_ignored(void **state)
{
	FILE *f = text(route6);

	(void)state;
	/* The kernel's unreachable ::/0 on lo (RTF_REJECT) carries no traffic. */
	assert_false(xpxe_route6_has_default(f, "lo"));
	fclose(f);
}

static void test_ifname_validation(void **state)
{
	(void)state;
	assert_true(xpxe_ifname_valid("eth0"));
	assert_true(xpxe_ifname_valid("xpxe-s0"));
	assert_true(xpxe_ifname_valid("123456789012345"));
	assert_false(xpxe_ifname_valid("1234567890123456")); /* 16 bytes: past IFNAMSIZ */
	assert_false(xpxe_ifname_valid(""));
	assert_false(xpxe_ifname_valid("."));
	assert_false(xpxe_ifname_valid(".."));
	assert_false(xpxe_ifname_valid("../etc"));
	assert_false(xpxe_ifname_valid("a b"));
	assert_false(xpxe_ifname_valid("eth0:1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route4_default_found),
		cmocka_unit_test(test_route4_subnet_only_is_not_default),
		cmocka_unit_test(test_route4_prefix_name_does_not_match),
		cmocka_unit_test(test_route6_default_found),
		cmocka_unit_test(test_route6_reject_route_ignored),
		cmocka_unit_test(test_ifname_validation),
	};

	return cmocka_run_group_tests_name("netif", tests, NULL, NULL);
}
