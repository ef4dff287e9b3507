// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TFTP admission's queue (tftp_hold, tftp_let_in): with the one place of opts.max_at_once
 * taken, IPv6's RRQs wait in the queue IPv4's wait in, in the order they came; a request is its
 * client's address and file, so the same file asked again from a new port (some firmware
 * retries so) keeps its one place, its port the latest; and a request let in lately goes at
 * once when its address asks for that file again (EDK2's size, then the file, from a new
 * port), not for another file: the same identity as held requests'.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tftp/internal.h"

static struct xpxe_tftp *t;
static struct iface ifc = { .used = true, .ifname = "lab0", .ifindex = 7, .rrq_macs_fd = -1 };

static int setup(void **state)
{
	(void)state;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->opts.max_at_once = 1;
	t->n_active = 1; /* the one place is taken */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (struct tftp_held *h = t->held, *next; h; h = next) {
		next = h->next;
		free(h);
	}
	free(t);
	return 0;
}

static struct tftp_src v4(const char *ip, unsigned port)
{
	struct tftp_src s = { .family = AF_INET };

	s.from.sin_family = AF_INET;
	s.from.sin_port = htons(port);
	inet_pton(AF_INET, ip, &s.from.sin_addr);
	s.pi.ipi_ifindex = ifc.ifindex;
	return s;
}

static struct tftp_src v6(const char *ip, unsigned port)
{
	struct tftp_src s = { .family = AF_INET6 };

	s.from6.sin6_family = AF_INET6;
	s.from6.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s.from6.sin6_addr);
	s.pi6.ipi6_ifindex = ifc.ifindex;
	return s;
}

/* An RRQ for NAME (octet, no options) from SRC: whether it is held. */
static bool ask(const struct tftp_src *src, const char *name)
{
	uint8_t buf[300];
	size_t n = strlen(name);

	buf[0] = 0;
	buf[1] = XPXE_TFTP_RRQ;
	memcpy(buf + 2, name, n + 1);
	memcpy(buf + 3 + n, "octet", 6);
	return tftp_hold(t, &ifc, buf, n + 9, src, name);
}

static void test_ipv6_held_in_the_same_queue(void **state)
{
	struct tftp_src a = v4("198.18.0.51", 2001), b = v6("fd00:198:18:23::52", 2002),
			c = v4("198.18.0.53", 2003);

	(void)state;
	assert_true(ask(&a, "boot.efi"));
	assert_true(ask(&b, "boot.efi"));
	assert_true(ask(&c, "boot.efi"));
	assert_int_equal(t->n_held, 3);
	/* In the order they asked, IPv6's among IPv4's. */
	assert_int_equal(t->held->src.family, AF_INET);
	assert_int_equal(t->held->next->src.family, AF_INET6);
	assert_string_equal(t->held->next->who, "fd00:198:18:23::52");
	assert_int_equal(t->held->next->next->src.family, AF_INET);
	/* Its repeat from its port keeps its place. */
	assert_true(ask(&b, "boot.efi"));
	assert_int_equal(t->n_held, 3);
	assert_int_equal(t->held_total, 3);
}

static void test_same_file_from_a_new_port_keeps_its_place(void **state)
{
	struct tftp_src a1 = v4("198.18.0.51", 2001), a2 = v4("198.18.0.51", 2099),
			a3 = v4("198.18.0.51", 3000), b = v4("198.18.0.52", 2001),
			c1 = v6("fd00::52", 4001), c2 = v6("fd00::52", 4002);

	(void)state;
	assert_true(ask(&a1, "boot.efi"));
	assert_true(ask(&b, "boot.efi"));
	assert_true(ask(&a2, "boot.efi")); /* the same machine, a new port */
	assert_int_equal(t->n_held, 2);
	assert_int_equal(t->held_moved, 1);
	/* First in line still, and its turn answers the latest port. */
	assert_int_equal(t->held->src.from.sin_addr.s_addr, a1.from.sin_addr.s_addr);
	assert_int_equal(ntohs(t->held->src.from.sin_port), 2099);
	/* The same over IPv6. */
	assert_true(ask(&c1, "boot.efi"));
	assert_true(ask(&c2, "boot.efi"));
	assert_int_equal(t->n_held, 3);
	assert_int_equal(ntohs(t->held->next->next->src.from6.sin6_port), 4002);
	/* Another file from that address is a request of its own. */
	assert_true(ask(&a3, "kernel"));
	assert_int_equal(t->n_held, 4);
	assert_int_equal(t->held_total, 4);
}

/*
 * A new file asked from the port of a held request is that request started over: it replaces it,
 * also when its address already waits for that file from another port (that request takes the
 * port). No request for the old file from that port stays behind: its turn would answer a port
 * whose client asks for something else, and replace the transfer running there.
 */
static void test_new_file_from_its_port_leaves_no_stale_request(void **state)
{
	struct tftp_src a1 = v4("198.18.0.51", 2001), a2 = v4("198.18.0.51", 2002),
			b1 = v4("198.18.0.52", 2001), b2 = v4("198.18.0.52", 2002);

	(void)state;
	/* The request for the old file first in line, then the one for the new file. */
	assert_true(ask(&a2, "kernel"));
	assert_true(ask(&a1, "boot.efi"));
	/* The other way round, from another address. */
	assert_true(ask(&b1, "boot.efi"));
	assert_true(ask(&b2, "kernel"));
	assert_int_equal(t->n_held, 4);
	assert_true(ask(&a2, "boot.efi"));
	assert_true(ask(&b2, "boot.efi"));
	assert_int_equal(t->n_held, 2);
	assert_string_equal(t->held->name, "boot.efi");
	assert_int_equal(t->held->src.from.sin_addr.s_addr, a1.from.sin_addr.s_addr);
	assert_int_equal(ntohs(t->held->src.from.sin_port), 2002);
	assert_non_null(t->held->next);
	assert_string_equal(t->held->next->name, "boot.efi");
	assert_int_equal(t->held->next->src.from.sin_addr.s_addr, b1.from.sin_addr.s_addr);
	assert_int_equal(ntohs(t->held->next->src.from.sin_port), 2002);
	assert_null(t->held->next->next);
}

static void test_let_in_by_address_and_file(void **state)
{
	struct tftp_src probe = v4("198.18.0.51", 2001), file = v4("198.18.0.51", 2002),
			other = v4("198.18.0.51", 2003), stranger = v4("198.18.0.52", 2001),
			p6 = v6("fd00::51", 2001), f6 = v6("fd00::51", 2002);

	(void)state;
	tftp_let_in(t, &probe, "boot.efi");
	tftp_let_in(t, &p6, "boot.efi");
	/* The file after its size probe, from a new port: at once, over the cap. */
	assert_false(ask(&file, "boot.efi"));
	assert_false(ask(&f6, "boot.efi"));
	/* Another file from that address waits its turn; so does another address. */
	assert_true(ask(&other, "kernel"));
	assert_true(ask(&stranger, "boot.efi"));
	assert_int_equal(t->n_held, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipv6_held_in_the_same_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_file_from_a_new_port_keeps_its_place,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_file_from_its_port_leaves_no_stale_request,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_let_in_by_address_and_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
