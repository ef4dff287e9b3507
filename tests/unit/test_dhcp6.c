// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Full mode's DHCPv6: the one parser (every lying or truncated option a counted verdict,
 * never a crash), the answers' bytes, the bindings file, and the server's answers to each
 * message type (RFC 8415 18.3) without sockets or maps.
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
#include <cmocka.h>

#include "config.h"
#include "dhcp/dhcp6_proto.h"
#include "dhcp/dhcp6_server.h"
#include "dhcp/leases6.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xpxe-dhcp6-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/test.leases6", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct in6_addr ip6(const char *text)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, text, &a), 1);
	return a;
}

/* --- building requests --------------------------------------------------------------- */

struct req {
	uint8_t b[2048]; /* room for 257 empty options */
	size_t n;
};

static void r_start(struct req *r, uint8_t type)
{
	r->b[0] = type;
	r->b[1] = 0x12, r->b[2] = 0x34, r->b[3] = 0x56;
	r->n = 4;
}

static void r_opt(struct req *r, uint16_t code, const void *data, size_t len)
{
	r->b[r->n] = code >> 8, r->b[r->n + 1] = code & 0xff;
	r->b[r->n + 2] = len >> 8, r->b[r->n + 3] = len & 0xff;
	if (len) /* an empty option (rapid commit) comes with no data: NULL */
		memcpy(r->b + r->n + 4, data, len);
	r->n += 4 + len;
}

static const uint8_t cid[] = {
	0,    4,    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00
}; /* DUID-UUID */
static const uint8_t sid[] = { 0, 1, 0, 1, 0x32, 0xa7, 0xcd, 0x01, 2, 0, 0, 0, 0, 1 };
static const uint8_t other_sid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 9 };

/* An IA_NA for IAID, with ADDR (NULL: none). */
static void r_ia(struct req *r, uint32_t iaid, const char *addr)
{
	uint8_t ia[12 + 28] = { iaid >> 24, iaid >> 16, iaid >> 8, iaid };
	size_t n = 12;

	if (addr) {
		struct in6_addr a = ip6(addr);

		ia[12] = 0, ia[13] = 5, ia[14] = 0, ia[15] = 24;
		memcpy(ia + 16, &a, 16);
		n += 28;
	}
	r_opt(r, XPXE_DHCP6_OPT_IA_NA, ia, n);
}

static void r_msg(struct req *r, uint8_t type, bool with_sid, const char *addr)
{
	r_start(r, type);
	r_opt(r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
	if (with_sid)
		r_opt(r, XPXE_DHCP6_OPT_SERVERID, sid, sizeof(sid));
	r_ia(r, 7, addr);
}

/* --- the parser ------------------------------------------------------------------------ */

static void test_parse_solicit(void **state)
{
	static const uint8_t vendor[] = "\0\0\x01\x57\0\x20PXEClient:Arch:00007:UNDI:003000";
	static const uint8_t oro[] = { 0, 59, 0, 60 }, arch[] = { 0, 7 };
	struct xpxe_dhcp6_msg m;
	struct req r;

	(void)state;
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, "fd00::5");
	r_opt(&r, XPXE_DHCP6_OPT_VENDOR_CLASS, vendor, sizeof(vendor) - 1);
	r_opt(&r, XPXE_DHCP6_OPT_ORO, oro, sizeof(oro));
	r_opt(&r, XPXE_DHCP6_OPT_ARCH, arch, sizeof(arch));
	r_opt(&r, XPXE_DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_OK);
	assert_int_equal(m.type, XPXE_DHCP6_SOLICIT);
	assert_int_equal(m.duid_len, sizeof(cid));
	assert_memory_equal(m.duid, cid, sizeof(cid));
	assert_true(m.has_ia);
	assert_int_equal(m.ia.iaid, 7);
	assert_true(m.ia.has_addr);
	assert_true(m.rapid_commit);
	assert_true(m.wants_url);
	assert_int_equal(m.vendor, 1);
	assert_int_equal(m.vendor_arch, 7);
	assert_int_equal(xpxe_dhcp6_boot_class(&m), XPXE_BOOT_UEFI_X64);
}

static void test_classes(void **state)
{
	static const uint8_t ipxe[] = { 0, 4, 'i', 'P', 'X', 'E' };
	static const uint8_t http[] = "\0\0\x01\x57\0\x21HTTPClient:Arch:00016:UNDI:003000";
	static const uint8_t oro[] = { 0, 59 }, arm64[] = { 0, 11 };
	struct xpxe_dhcp6_msg m;
	struct req r;

	(void)state;
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_OK);
	assert_int_equal(xpxe_dhcp6_boot_class(&m), XPXE_BOOT_PLAIN);
	r_opt(&r, XPXE_DHCP6_OPT_USER_CLASS, ipxe, sizeof(ipxe));
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_OK);
	assert_int_equal(xpxe_dhcp6_boot_class(&m), XPXE_BOOT_IPXE);
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_opt(&r, XPXE_DHCP6_OPT_VENDOR_CLASS, http, sizeof(http) - 1);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_OK);
	assert_int_equal(xpxe_dhcp6_boot_class(&m), XPXE_BOOT_HTTP_X64);
	/* Only an ORO for 59 and an architecture: a PXE client of that architecture. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_opt(&r, XPXE_DHCP6_OPT_ORO, oro, sizeof(oro));
	r_opt(&r, XPXE_DHCP6_OPT_ARCH, arm64, sizeof(arm64));
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_OK);
	assert_int_equal(xpxe_dhcp6_boot_class(&m), XPXE_BOOT_UEFI_ARM64);
}

/* Every lie a message can tell: a verdict, and the parser reads nothing past the end. */
static void test_parse_malformed(void **state)
{
	static const uint8_t big[200] = { 0, 2 };
	struct xpxe_dhcp6_msg m;
	struct req r = { { 0 }, 0 };
	uint8_t *copy;

	(void)state;
	assert_int_equal(xpxe_dhcp6_parse(r.b, 0, &m), XPXE_DHCP6_TOO_SHORT);
	assert_int_equal(xpxe_dhcp6_parse((const uint8_t *)"\x01\x00", 2, &m),
			 XPXE_DHCP6_TOO_SHORT);
	/* an option claiming 200 bytes */
	r_start(&r, XPXE_DHCP6_SOLICIT);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
	r.b[6] = 0, r.b[7] = 200;
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_TRUNCATED);
	/* an option header cut by the end */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n + 3, &m) == XPXE_DHCP6_OK, 0);
	r.b[r.n] = 0, r.b[r.n + 1] = 8, r.b[r.n + 2] = 0;
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n + 3, &m), XPXE_DHCP6_TRUNCATED);
	/* an IA_NA shorter than its header; an IA Address shorter than 24 bytes; one inside
	 * the IA that runs past the IA */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_opt(&r, XPXE_DHCP6_OPT_IA_NA, "\0\0\0\1", 4);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_BAD_OPTION);
	r_start(&r, XPXE_DHCP6_SOLICIT);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
	r_opt(&r, XPXE_DHCP6_OPT_IA_NA, "\0\0\0\1\0\0\0\0\0\0\0\0\0\5\0\4abcd", 20);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_BAD_OPTION);
	r_start(&r, XPXE_DHCP6_SOLICIT);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
	r_opt(&r, XPXE_DHCP6_OPT_IA_NA, "\0\0\0\1\0\0\0\0\0\0\0\0\0\5\0\x30", 16);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_TRUNCATED);
	/* a DUID of 1 byte, and of 200 */
	r_start(&r, XPXE_DHCP6_SOLICIT);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, cid, 1);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_BAD_OPTION);
	r_start(&r, XPXE_DHCP6_SOLICIT);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, big, sizeof(big));
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_BAD_OPTION);
	/* ids against RFC 8415 16: no client id; a Solicit naming a server; a Request without */
	r_start(&r, XPXE_DHCP6_SOLICIT);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_MISSING_IDS);
	r_msg(&r, XPXE_DHCP6_SOLICIT, true, NULL);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_MISSING_IDS);
	r_msg(&r, XPXE_DHCP6_REQUEST, false, NULL);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_MISSING_IDS);
	/* 16.12: an Information-request with an IA_TA or IA_PD (any IA) is discarded; without
	 * one it is taken */
	r_start(&r, XPXE_DHCP6_INFORMATION_REQUEST);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_OK);
	r_opt(&r, XPXE_DHCP6_OPT_IA_TA, "\0\0\0\1", 4);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_INFO_REQ_IA);
	r_start(&r, XPXE_DHCP6_INFORMATION_REQUEST);
	r_opt(&r, XPXE_DHCP6_OPT_IA_PD, "\0\0\0\1\0\0\0\0\0\0\0\0", 12);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_INFO_REQ_IA);
	/* servers' and relays' messages, unknown types */
	for (int t = 0; t < 256; t++) {
		r_msg(&r, (uint8_t)t, t == 3 || t == 5 || t == 8 || t == 9, NULL);
		if (t == 1 || t == 3 || (t >= 4 && t <= 6) || t == 8 || t == 9)
			assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_OK);
		else if (t == 11) /* with r_msg's IA_NA: RFC 8415 16.12 discards it */
			assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_INFO_REQ_IA);
		else
			assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_NOT_CLIENT);
	}
	/* Every prefix of a valid message, in a buffer of exactly that size (ASan/valgrind
	 * catch a read past it): a verdict each time. */
	r_msg(&r, XPXE_DHCP6_REQUEST, true, "fd00::9");
	for (size_t n = 0; n <= r.n; n++) {
		copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, r.b, n);
		assert_in_range(xpxe_dhcp6_parse(copy, n, &m), XPXE_DHCP6_OK,
				XPXE_DHCP6_VERDICT_MAX - 1);
		free(copy);
	}
	/* 256 empty options: as many as the parser walks; 257: more, refused */
	r_start(&r, XPXE_DHCP6_INFORMATION_REQUEST);
	for (int i = 0; i < 256; i++)
		r_opt(&r, 0x7777, NULL, 0);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_OK);
	r_opt(&r, 0x7777, NULL, 0);
	assert_int_equal(xpxe_dhcp6_parse(r.b, r.n, &m), XPXE_DHCP6_TRUNCATED);
}

static void test_build_ia(void **state)
{
	static const uint8_t want[] = {
		7, 0x12, 0x34, 0x56, 0, 3, 0, 40, 0,	0, 0,	 7,    0, 0, 0x07, 0x08,
		0, 0,	 0x0b, 0x40, 0, 5, 0, 24, 0xfd, 0, 0,	 0,    0, 0, 0,	   0,
		0, 0,	 0,    0,    0, 0, 0, 9,  0,	0, 0x0e, 0x10, 0, 0, 0x0e, 0x10,
	};
	static const uint8_t xid[3] = { 0x12, 0x34, 0x56 };
	struct xpxe_dhcp6_out o;
	struct in6_addr a = ip6("fd00::9");

	(void)state;
	xpxe_dhcp6_out_start(&o, XPXE_DHCP6_REPLY, xid);
	xpxe_dhcp6_out_ia(&o, 7, 1800, 2880, &a, 3600, 3600, XPXE_DHCP6_SUCCESS, NULL);
	assert_false(o.overflow);
	assert_int_equal(o.len, sizeof(want));
	assert_memory_equal(o.buf, want, sizeof(want));
	/* NoBinding inside the IA: IA header, then the status option */
	xpxe_dhcp6_out_start(&o, XPXE_DHCP6_REPLY, xid);
	xpxe_dhcp6_out_ia(&o, 7, 0, 0, NULL, 0, 0, XPXE_DHCP6_NO_BINDING, "x");
	assert_int_equal(o.len, 4 + 4 + 12 + 4 + 3);
	assert_int_equal(o.buf[4 + 4 + 12 + 1], 13);
	assert_int_equal(o.buf[4 + 4 + 12 + 5], XPXE_DHCP6_NO_BINDING);
	/* what does not fit sets overflow and is not written */
	for (int i = 0; i < 100 && !o.overflow; i++)
		xpxe_dhcp6_out_opt(&o, 1, cid, sizeof(cid));
	assert_true(o.overflow);
	assert_true(o.len <= XPXE_DHCP6_OUT_MAX);
}

/* --- the bindings ----------------------------------------------------------------------- */

static const unsigned char mac1[6] = { 0x52, 0x54, 0, 0xd7, 0, 1 };
static const unsigned char mac2[6] = { 0x52, 0x54, 0, 0xd7, 0, 2 };
static const unsigned char mac3[6] = { 0x52, 0x54, 0, 0xd7, 0, 3 };

/*
 * First fit skips what is held (a binding, a reservation inside the pool, a declined
 * address) and finds a hole left by a released binding; a whole pool gives nothing more.
 */
static void test_leases6_first_fit(void **state)
{
	struct in6_addr first = ip6("fd00::1:0"), last = ip6("fd00::1:ff");
	struct xpxe_reservation6 res = { { 0x52, 0x54, 0, 0xd7, 0, 0xee }, ip6("fd00::1:1") };
	struct in6_addr declined = ip6("fd00::1:2"), want;
	unsigned char mac[6] = { 0x52, 0x54, 0, 0xd8, 0, 0 };
	struct xpxe_leases6 l;
	struct xpxe_lease6 *b;
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases6_init(&l, path, &first, &last), 0);
	assert_int_equal(xpxe_leases6_set_reserved(&l, &res, 1), 0);
	assert_int_equal(xpxe_leases6_decline(&l, &declined), 0);
	/* ::1:0, then ::1:3 onwards: ::1:1 is reserved, ::1:2 declined */
	for (int i = 0; i < 254; i++) {
		mac[5] = (unsigned char)i;
		b = xpxe_leases6_allocate(&l, mac, NULL, 1000, &created);
		assert_non_null(b);
		assert_true(created);
		want = ip6(i == 0 ? "fd00::1:0" : "fd00::1:3");
		want.s6_addr[15] = (unsigned char)(i == 0 ? 0 : i + 2);
		assert_memory_equal(&b->ip, &want, 16);
		b->expires = 5000; /* held (an offer's deadline), not expired at 1000 */
	}
	mac[5] = 0xfe; /* all 256 held: nothing, and none expired to take over */
	assert_null(xpxe_leases6_allocate(&l, mac, NULL, 1000, &created));
	mac[5] = 40; /* released: its address is the first hole */
	xpxe_leases6_remove(&l, mac);
	mac[5] = 0xfe;
	b = xpxe_leases6_allocate(&l, mac, NULL, 1000, &created);
	assert_non_null(b);
	want = ip6("fd00::1:2a");
	assert_memory_equal(&b->ip, &want, 16);
	xpxe_leases6_free(&l);
}

/*
 * A released address stays its machine's for XPXE_DHCP6_RELEASE_HOLD_S (EDK2 releases and
 * boots on from it): another machine gets another address while the pool has one, its own
 * machine gets it back, and only a full pool gives it away.
 */
static void test_leases6_release_hold(void **state)
{
	struct in6_addr first = ip6("fd00::200"), last = ip6("fd00::201");
	struct xpxe_leases6 l;
	struct xpxe_lease6 *a, *b;
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases6_init(&l, path, &first, &last), 0);
	a = xpxe_leases6_allocate(&l, mac1, NULL, 1000, &created);
	assert_memory_equal(&a->ip, &first, 16);
	a->offered = a->released = true; /* what a Release leaves */
	a->expires = 1000 + XPXE_DHCP6_RELEASE_HOLD_S;
	b = xpxe_leases6_allocate(&l, mac2, NULL, 1001, &created);
	assert_non_null(b);
	assert_memory_equal(&b->ip, &last, 16);
	b->offered = false, b->expires = 9000;
	a = xpxe_leases6_allocate(&l, mac1, NULL, 1002, &created);
	assert_memory_equal(&a->ip, &first, 16);
	assert_false(created);
	assert_false(a->released);
	a->released = true; /* released again; the pool is full: a third machine takes it */
	a = xpxe_leases6_allocate(&l, mac3, NULL, 1003, &created);
	assert_non_null(a);
	assert_true(created);
	assert_memory_equal(&a->ip, &first, 16);
	assert_null(xpxe_leases6_find(&l, mac1));
	xpxe_leases6_free(&l);
}

static void test_leases6_file(void **state)
{
	struct in6_addr first = ip6("fd00::100"), last = ip6("fd00::101");
	struct xpxe_reservation6 res = { { 0x52, 0x54, 0, 0xd7, 0, 3 }, ip6("fd00::50") };
	struct xpxe_leases6 l;
	struct xpxe_lease6 *a, *b;
	char aside[200];
	glob_t g;
	FILE *f;
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases6_init(&l, path, &first, &last), 0);
	assert_int_equal(xpxe_leases6_set_reserved(&l, &res, 1), 0);
	a = xpxe_leases6_allocate(&l, mac1, NULL, 1000, &created);
	assert_non_null(a);
	assert_true(created && a->offered);
	assert_memory_equal(&a->ip, &first, 16);
	a->offered = false, a->expires = 5000, a->iaid = 7;
	memcpy(a->duid, cid, sizeof(cid)), a->duid_len = sizeof(cid);
	b = xpxe_leases6_allocate(&l, mac2, NULL, 1000, &created);
	assert_non_null(b);
	assert_memory_equal(&b->ip, &last, 16);
	b->expires = 2000; /* held for its Request until then */
	/* the pool is taken: a third MAC gets nothing; the reserved MAC its address */
	assert_null(xpxe_leases6_allocate(&l, (unsigned char[6]){ 1, 2, 3, 4, 5, 6 }, NULL, 1000,
					  &created));
	a = xpxe_leases6_allocate(&l, mac3, NULL, 1000, &created);
	assert_non_null(a);
	assert_memory_equal(&a->ip, &res.ip, 16);
	a->offered = false, a->expires = 6000, a->duid_len = 2;
	assert_int_equal(xpxe_leases6_save(&l), 0);
	xpxe_leases6_free(&l);

	/* reloaded: the two bindings, not the offer */
	assert_int_equal(xpxe_leases6_init(&l, path, &first, &last), 0);
	assert_int_equal(xpxe_leases6_load(&l), 0);
	assert_int_equal(l.n, 2);
	a = xpxe_leases6_find(&l, mac1);
	assert_non_null(a);
	assert_int_equal(a->iaid, 7);
	assert_int_equal(a->expires, 5000);
	assert_int_equal(a->duid_len, sizeof(cid));
	assert_memory_equal(a->duid, cid, sizeof(cid));
	assert_null(xpxe_leases6_find(&l, mac2));
	xpxe_leases6_free(&l);

	/* a bad line: reported, the file moved aside, the good lines kept */
	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f,
		"52:54:00:d7:00:09 not-an-address 1 2 0001\n52:54:00:d7:00:01 fd00::7 1 1 0001\n");
	fclose(f);
	assert_int_equal(xpxe_leases6_init(&l, path, &first, &last), 0);
	assert_int_equal(xpxe_leases6_load(&l), 2);
	assert_int_equal(l.n, 2);
	snprintf(aside, sizeof(aside), "%s.corrupt-*", path);
	assert_int_equal(glob(aside, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	globfree(&g);
	xpxe_leases6_free(&l);
}

/*
 * Release holds across a restart: written beside the bindings (PATH.holds) after a Release,
 * reloaded as released offers; one that ran out, one whose MAC is bound again, one whose
 * address another machine holds are dropped; a bad line moves the file aside.
 */
static void test_leases6_holds_file(void **state)
{
	struct in6_addr first = ip6("fd00::300"), last = ip6("fd00::303");
	unsigned char mac4[6] = { 0x52, 0x54, 0, 0xd7, 0, 4 };
	time_t now = time(NULL);
	struct xpxe_leases6 l;
	struct xpxe_lease6 *a, *b, *c;
	char holds[200], aside[220];
	glob_t g;
	FILE *f;
	bool created;

	(void)state;
	assert_int_equal(xpxe_leases6_init(&l, path, &first, &last), 0);
	a = xpxe_leases6_allocate(&l, mac1, NULL, now, &created); /* released: held */
	a->offered = a->released = true, a->expires = now + XPXE_DHCP6_RELEASE_HOLD_S;
	a->iaid = 9, a->duid_len = sizeof(cid), memcpy(a->duid, cid, sizeof(cid));
	b = xpxe_leases6_allocate(&l, mac2, NULL, now, &created); /* bound */
	b->offered = false, b->expires = now + 3600, b->duid_len = 2;
	c = xpxe_leases6_allocate(&l, mac3, NULL, now, &created); /* released long ago */
	c->offered = c->released = true, c->expires = now - 1, c->duid_len = 2;
	/* no Release since the last write: no holds file */
	assert_int_equal(xpxe_leases6_save(&l), 0);
	xpxe_leases6_holds_path(&l, holds, sizeof(holds));
	assert_int_equal(access(holds, F_OK), -1);
	l.holds_dirty = true; /* what a Release sets */
	assert_int_equal(xpxe_leases6_save(&l), 0);
	assert_false(l.holds_dirty);
	assert_int_equal(access(holds, F_OK), 0);
	/* a hold from a crash between the two writes (its MAC still bound): the binding wins */
	f = fopen(holds, "a");
	assert_non_null(f);
	fprintf(f, "52:54:00:d7:00:02 fd00::303 %lld 1 0001\n", (long long)now + 100);
	/* another machine's hold of a bound address: dropped too */
	fprintf(f, "52:54:00:d7:00:04 fd00::301 %lld 1 0001\n", (long long)now + 100);
	fclose(f);
	xpxe_leases6_free(&l);

	assert_int_equal(xpxe_leases6_init(&l, path, &first, &last), 0);
	assert_int_equal(xpxe_leases6_load(&l), 0);
	assert_int_equal(l.holds_loaded, 1);
	assert_int_equal(l.holds_dropped, 2);
	assert_int_equal(l.n, 2);
	a = xpxe_leases6_find(&l, mac1);
	assert_non_null(a);
	assert_true(a->offered && a->released);
	assert_memory_equal(&a->ip, &first, 16);
	assert_int_equal(a->expires, now + XPXE_DHCP6_RELEASE_HOLD_S);
	assert_int_equal(a->iaid, 9);
	assert_memory_equal(a->duid, cid, sizeof(cid));
	assert_null(xpxe_leases6_find(&l, mac3)); /* ran out */
	assert_null(xpxe_leases6_find(&l, mac4));
	b = xpxe_leases6_find(&l, mac2);
	assert_non_null(b);
	assert_false(b->offered); /* the binding, not the hold */
	/* held for mac1: another machine gets the next free address, mac1 its own */
	c = xpxe_leases6_allocate(&l, mac4, NULL, now, &created);
	assert_non_null(c);
	assert_memory_not_equal(&c->ip, &first, 16);
	a = xpxe_leases6_allocate(&l, mac1, NULL, now, &created);
	assert_false(created);
	assert_memory_equal(&a->ip, &first, 16);
	xpxe_leases6_free(&l);

	/* a bad line: the holds file moved aside, the good hold kept, the bindings untouched */
	f = fopen(holds, "a");
	assert_non_null(f);
	fprintf(f, "52:54:00:d7:00:09 not-an-address 1 2 0001\n");
	fclose(f);
	assert_int_equal(xpxe_leases6_init(&l, path, &first, &last), 0);
	assert_int_equal(xpxe_leases6_load(&l), 0);
	assert_int_equal(l.holds_loaded, 1);
	assert_true(l.holds_dirty); /* the next save writes it back */
	snprintf(aside, sizeof(aside), "%s.corrupt-*", holds);
	assert_int_equal(glob(aside, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	globfree(&g);
	assert_int_equal(xpxe_leases6_save(&l), 0);
	assert_int_equal(access(holds, F_OK), 0);
	xpxe_leases6_free(&l);
}

/* --- the server's answers ------------------------------------------------------------- */

static void server(struct xpxe_dhcp6_server *srv)
{
	struct in6_addr first = ip6("fd00::100"), last = ip6("fd00::100");
	struct xpxe_reservation6 res = { { 0x52, 0x54, 0, 0xd7, 0, 3 }, ip6("fd00::50") };

	memset(srv, 0, sizeof(*srv));
	srv->pkt_fd = srv->udp_fd = srv->clients_fd = srv->config_fd = srv->config6_fd =
	    srv->replies_fd = srv->bindings_fd = -1;
	snprintf(srv->ifname, sizeof(srv->ifname), "test0");
	srv->lease_time = 3600;
	srv->offer_hold = 30;
	srv->answer_unknown = true;
	memcpy(srv->duid, sid, sizeof(sid));
	srv->duid_len = sizeof(sid);
	assert_int_equal(xpxe_leases6_init(&srv->leases, path, &first, &last), 0);
	assert_int_equal(xpxe_leases6_set_reserved(&srv->leases, &res, 1), 0);
}

/* The option CODE at the top level of answer O (NULL: absent). */
static const uint8_t *find(const struct xpxe_dhcp6_out *o, uint16_t code, size_t *len)
{
	for (size_t off = 4; off + 4 <= o->len;) {
		size_t n = (size_t)o->buf[off + 2] << 8 | o->buf[off + 3];

		if ((o->buf[off] << 8 | o->buf[off + 1]) == code) {
			*len = n;
			return o->buf + off + 4;
		}
		off += 4 + n;
	}
	return NULL;
}

/* The address in answer O's IA_NA (NULL: none), and the IA's status (-1: none). */
static const uint8_t *ia_addr(const struct xpxe_dhcp6_out *o, int *status)
{
	size_t n, off = 12;
	const uint8_t *ia = find(o, XPXE_DHCP6_OPT_IA_NA, &n), *addr = NULL;

	*status = -1;
	while (ia && off + 4 <= n) {
		size_t len = (size_t)ia[off + 2] << 8 | ia[off + 3];

		if (ia[off + 1] == 5)
			addr = ia + off + 4;
		if (ia[off + 1] == 13)
			*status = ia[off + 4] << 8 | ia[off + 5];
		off += 4 + len;
	}
	return addr;
}

static int top_status(const struct xpxe_dhcp6_out *o)
{
	size_t n;
	const uint8_t *s = find(o, XPXE_DHCP6_OPT_STATUS, &n);

	return s && n >= 2 ? s[0] << 8 | s[1] : -1;
}

/* Full mode's boot options: PXEClient's vendor class left out (EDK2 would go to port
 * 4011 without a server id), HTTPClient's kept, the rest as they are. */
static void test_boot_with_address(void **state)
{
	static const uint8_t pxe[] = {
		0,   2,	  0,   4,   0xde, 0xad, 0xbe, 0xef, /* server id */
		0,   16,  0,   15,  0,	  0,	1,    0x57, 0, 9, 'P', 'X', 'E',
		'C', 'l', 'i', 'e', 'n',  't',	0,    59,   0, 3, 'u', 'r', 'l', /* boot file URL */
	};
	static const uint8_t http[] = {
		0,   2,	  0,   4,    0xde, 0xad, 0xbe, 0xef, 0,	  16,  0,   16,
		0,   0,	  1,   0x57, 0,	   10,	 'H',  'T',  'T', 'P', 'C', 'l',
		'i', 'e', 'n', 't',  0,	   59,	 0,    3,    'u', 'r', 'l',
	};
	static const uint8_t lying[] = { 0, 2, 0, 4, 0xde, 0xad, 0xbe, 0xef, 0, 16, 0, 40, 0, 0 };
	struct xpxe_dhcp6_out o;
	const uint8_t xid[3] = { 1, 2, 3 };
	size_t n;

	(void)state;
	xpxe_dhcp6_out_start(&o, XPXE_DHCP6_ADVERTISE, xid);
	xpxe_dhcp6_out_boot_with_address(&o, pxe, sizeof(pxe));
	assert_false(o.overflow);
	assert_int_equal(o.len, 4 + 8 + 7);
	assert_null(find(&o, XPXE_DHCP6_OPT_VENDOR_CLASS, &n));
	assert_non_null(find(&o, XPXE_DHCP6_OPT_SERVERID, &n));
	assert_int_equal(n, 4);
	assert_memory_equal(find(&o, XPXE_DHCP6_OPT_BOOTFILE_URL, &n), "url", 3);
	assert_int_equal(n, 3);

	xpxe_dhcp6_out_start(&o, XPXE_DHCP6_ADVERTISE, xid);
	xpxe_dhcp6_out_boot_with_address(&o, http, sizeof(http));
	assert_int_equal(o.len, 4 + sizeof(http));
	assert_memory_equal(o.buf + 4, http, sizeof(http));

	/* a blob that does not parse goes out whole (it is ours: never seen) */
	xpxe_dhcp6_out_start(&o, XPXE_DHCP6_ADVERTISE, xid);
	xpxe_dhcp6_out_boot_with_address(&o, lying, sizeof(lying));
	assert_int_equal(o.len, 4 + sizeof(lying));
}

static void test_server_exchanges(void **state)
{
	struct xpxe_dhcp6_server srv;
	struct xpxe_dhcp6_out o;
	struct in6_addr pool = ip6("fd00::100"), res = ip6("fd00::50");
	const uint8_t *a;
	size_t n;
	int st;
	struct req r;

	(void)state;
	server(&srv);
	/* Solicit -> Advertise with the pool's address, our id, the client's echoed */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(o.buf[0], XPXE_DHCP6_ADVERTISE);
	assert_memory_equal(o.buf + 1, r.b + 1, 3);
	a = ia_addr(&o, &st);
	assert_non_null(a);
	assert_memory_equal(a, &pool, 16);
	assert_non_null(find(&o, XPXE_DHCP6_OPT_SERVERID, &n));
	assert_int_equal(n, sizeof(sid));
	assert_non_null(find(&o, XPXE_DHCP6_OPT_CLIENTID, &n));
	assert_int_equal(n, sizeof(cid));
	assert_true(access(path, F_OK) != 0); /* an Advertise binds nothing */
	/* another MAC meanwhile: NoAddrsAvail */
	assert_true(xpxe_dhcp6_server_answer(&srv, mac2, r.b, r.n, &o));
	assert_int_equal(top_status(&o), XPXE_DHCP6_NO_ADDRS_AVAIL);
	/* Request -> Reply, on disk */
	r_msg(&r, XPXE_DHCP6_REQUEST, true, "fd00::100");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(o.buf[0], XPXE_DHCP6_REPLY);
	a = ia_addr(&o, &st);
	assert_non_null(a);
	assert_memory_equal(a, &pool, 16);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(srv.cnt[XPXE_D6_BOUND], 1);
	/* a Request naming another server: not ours, no answer */
	r_start(&r, XPXE_DHCP6_REQUEST);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
	r_opt(&r, XPXE_DHCP6_OPT_SERVERID, other_sid, sizeof(other_sid));
	assert_false(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(srv.cnt[XPXE_D6_OTHER_SERVER], 1);
	/* Renew -> the same address; Rebind too */
	r_msg(&r, XPXE_DHCP6_RENEW, true, "fd00::100");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_memory_equal(ia_addr(&o, &st), &pool, 16);
	r_msg(&r, XPXE_DHCP6_REBIND, false, "fd00::100");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_memory_equal(ia_addr(&o, &st), &pool, 16);
	/* Renew of another address: the binding's, and that one at lifetimes 0 */
	r_msg(&r, XPXE_DHCP6_RENEW, true, "fd00::77");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	a = find(&o, XPXE_DHCP6_OPT_IA_NA, &n);
	assert_non_null(a);
	assert_int_equal(n, 12 + 2 * 28);
	assert_memory_equal(a + 16, &pool, 16);
	assert_int_equal(a[12 + 24 + 3], 0x10); /* valid 3600 = 0x0e10 */
	assert_int_equal(a[12 + 28 + 4 + 15], 0x77);
	assert_int_equal(a[12 + 28 + 4 + 16 + 7], 0); /* lifetimes 0 */
	/* Renew of a machine without a binding: NoBinding in its IA */
	r_msg(&r, XPXE_DHCP6_RENEW, true, "fd00::100");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac2, r.b, r.n, &o));
	assert_null(ia_addr(&o, &st));
	assert_int_equal(st, XPXE_DHCP6_NO_BINDING);
	/* Confirm: on the link, or not */
	r_msg(&r, XPXE_DHCP6_CONFIRM, false, "fd00::100");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(top_status(&o), XPXE_DHCP6_SUCCESS);
	r_msg(&r, XPXE_DHCP6_CONFIRM, false, "fd99::1");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(top_status(&o), XPXE_DHCP6_NOT_ON_LINK);
	/* Information-request: a Reply without an IA */
	r_start(&r, XPXE_DHCP6_INFORMATION_REQUEST);
	assert_true(xpxe_dhcp6_server_answer(&srv, mac2, r.b, r.n, &o));
	assert_int_equal(o.buf[0], XPXE_DHCP6_REPLY);
	assert_null(find(&o, XPXE_DHCP6_OPT_IA_NA, &n));
	/*
	 * Release: out of the file, held for its machine (an offer); the one-address pool has
	 * nothing else, so the other machine takes it over (rapid commit: a Reply at once).
	 */
	r_msg(&r, XPXE_DHCP6_RELEASE, true, "fd00::100");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(top_status(&o), XPXE_DHCP6_SUCCESS);
	assert_true(xpxe_leases6_find(&srv.leases, mac1)->offered);
	assert_true(xpxe_leases6_find(&srv.leases, mac1)->released);
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_opt(&r, XPXE_DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	assert_true(xpxe_dhcp6_server_answer(&srv, mac2, r.b, r.n, &o));
	assert_int_equal(o.buf[0], XPXE_DHCP6_REPLY);
	assert_non_null(find(&o, XPXE_DHCP6_OPT_RAPID_COMMIT, &n));
	assert_memory_equal(ia_addr(&o, &st), &pool, 16);
	assert_false(xpxe_leases6_find(&srv.leases, mac2)->offered);
	assert_null(xpxe_leases6_find(&srv.leases, mac1));
	/* Decline: the address is never given again */
	r_msg(&r, XPXE_DHCP6_DECLINE, true, "fd00::100");
	assert_true(xpxe_dhcp6_server_answer(&srv, mac2, r.b, r.n, &o));
	assert_int_equal(srv.cnt[XPXE_D6_DECLINED], 1);
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	assert_true(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(top_status(&o), XPXE_DHCP6_NO_ADDRS_AVAIL);
	/* the reservation */
	assert_true(xpxe_dhcp6_server_answer(&srv, mac3, r.b, r.n, &o));
	assert_memory_equal(ia_addr(&o, &st), &res, 16);
	/* malformed: counted by kind, no answer */
	assert_false(xpxe_dhcp6_server_answer(&srv, mac1, r.b, 6, &o));
	assert_int_equal(srv.malformed[XPXE_DHCP6_TRUNCATED], 1);
	assert_int_equal(srv.cnt[XPXE_D6_MALFORMED], 1);
	/* strangers not answered: counted */
	srv.answer_unknown = false;
	assert_false(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(srv.cnt[XPXE_D6_UNKNOWN], 1);
	xpxe_leases6_free(&srv.leases);
}

/* A binding that cannot be written is not answered, and memory keeps what the file holds. */
static void test_server_save_error(void **state)
{
	struct xpxe_dhcp6_server srv;
	struct xpxe_dhcp6_out o;
	struct req r;

	(void)state;
	server(&srv);
	snprintf(srv.leases.path, sizeof(srv.leases.path), "/proc/xpxe-no/leases6");
	r_msg(&r, XPXE_DHCP6_REQUEST, true, NULL);
	assert_false(xpxe_dhcp6_server_answer(&srv, mac1, r.b, r.n, &o));
	assert_int_equal(srv.cnt[XPXE_D6_SAVE_ERRORS], 1);
	assert_true(xpxe_leases6_find(&srv.leases, mac1)->offered);
	xpxe_leases6_free(&srv.leases);
}

/*
 * R as the IPv6 packet the packet socket reads (from fe80::1 port 546 to ff02::1:2 port 547,
 * its UDP checksum right) into PKT; returns its length.
 */
static size_t r_packet_from(const struct req *r, uint8_t *pkt, const char *from, const char *to,
			    uint16_t sport)
{
	struct in6_addr src = ip6(from), dst = ip6(to);
	size_t ulen = 8 + r->n;
	uint32_t sum = 17 + (uint32_t)ulen;
	uint8_t *udp = pkt + 40;

	memset(pkt, 0, 48);
	pkt[0] = 0x60;
	pkt[4] = (uint8_t)(ulen >> 8), pkt[5] = (uint8_t)ulen;
	pkt[6] = 17, pkt[7] = 255;
	memcpy(pkt + 8, &src, 16);
	memcpy(pkt + 24, &dst, 16);
	udp[1] = sport & 0xff, udp[0] = sport >> 8;
	udp[3] = 547 & 0xff, udp[2] = 547 >> 8;
	udp[4] = pkt[4], udp[5] = pkt[5];
	memcpy(udp + 8, r->b, r->n);
	udp[8 + r->n] = 0; /* the pad byte of an odd length */
	for (size_t i = 8; i < 40; i += 2)
		sum += pkt[i] << 8 | pkt[i + 1];
	for (size_t i = 0; i < ulen; i += 2)
		sum += udp[i] << 8 | (i + 1 < ulen ? udp[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	udp[6] = (uint8_t)(sum >> 8), udp[7] = (uint8_t)sum;
	return 40 + ulen;
}

static size_t r_packet(const struct req *r, uint8_t *pkt)
{
	return r_packet_from(r, pkt, "fe80::1", "ff02::1:2", 546);
}

/*
 * A batch: its messages' bindings are written once, before any answer of the batch goes. A
 * batch whose write fails takes back its Request's binding (not answered, counted) and still
 * answers what needed no write (an Information-request).
 */
static void test_server_batch(void **state)
{
	struct xpxe_dhcp6_server srv;
	uint8_t pkt[2200];
	char line[256];
	bool has1 = false, has3 = false;
	struct req r;
	FILE *f;

	(void)state;
	server(&srv);
	srv.queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv.queued));
	assert_non_null(srv.queued);
	snprintf(srv.leases.path, sizeof(srv.leases.path), "/proc/xpxe-no/leases6");
	r_msg(&r, XPXE_DHCP6_REQUEST, true, NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet(&r, pkt), mac1);
	r_start(&r, XPXE_DHCP6_INFORMATION_REQUEST);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
	xpxe_dhcp6_server_take(&srv, pkt, r_packet(&r, pkt), mac1);
	assert_int_equal(srv.cnt[XPXE_D6_RECEIVED], 2);
	assert_int_equal(srv.cnt[XPXE_D6_BAD_FRAME], 0);
	assert_false(xpxe_leases6_find(&srv.leases, mac1)->offered); /* in memory, not yet sent */
	assert_int_equal(srv.cnt[XPXE_D6_REPLY], 0);
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_SAVE_ERRORS], 1);
	assert_int_equal(srv.cnt[XPXE_D6_BOUND], 0);
	assert_true(xpxe_leases6_find(&srv.leases, mac1)->offered); /* taken back */
	assert_int_equal(srv.cnt[XPXE_D6_REPLY], 1);		    /* the Information-request's */
	assert_int_equal(srv.cnt[XPXE_D6_SEND_ERRORS], 1);	    /* (no socket here) */

	/* Written: two machines bound by one batch, both in the file. */
	snprintf(srv.leases.path, sizeof(srv.leases.path), "%s", path);
	r_msg(&r, XPXE_DHCP6_REQUEST, true, NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet(&r, pkt), mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet(&r, pkt), mac3);
	assert_int_equal(access(path, F_OK), -1);
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_SAVE_ERRORS], 1);
	assert_int_equal(srv.cnt[XPXE_D6_BOUND], 2);
	assert_int_equal(srv.cnt[XPXE_D6_REPLY], 3);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		has1 |= !strncmp(line, "52:54:00:d7:00:01 fd00::100 ", 28);
		has3 |= !strncmp(line, "52:54:00:d7:00:03 fd00::50 ", 27);
	}
	fclose(f);
	assert_true(has1 && has3);
	free(srv.queued);
	xpxe_leases6_free(&srv.leases);
}

/*
 * Messages to our address, not to ff02::1:2 (RFC 8415 16, 18.4; xpxe sends no Server Unicast
 * option): a Solicit, Confirm, Rebind or Information-request is dropped (unicast_dropped); a
 * Request, Renew, Release or Decline naming us gets a Reply of our id, the client's and
 * UseMulticast only, counted in use_multicast and not in reply; none binds or frees anything.
 */
static void test_server_unicast(void **state)
{
	static const uint8_t drop[] = { XPXE_DHCP6_SOLICIT, XPXE_DHCP6_CONFIRM, XPXE_DHCP6_REBIND,
					XPXE_DHCP6_INFORMATION_REQUEST };
	static const uint8_t use_mc[] = { XPXE_DHCP6_REQUEST, XPXE_DHCP6_RENEW, XPXE_DHCP6_RELEASE,
					  XPXE_DHCP6_DECLINE };
	struct xpxe_dhcp6_server srv;
	uint8_t pkt[2200];
	const uint8_t *v;
	size_t n;
	struct req r;

	(void)state;
	server(&srv);
	srv.queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv.queued));
	assert_non_null(srv.queued);
	for (size_t i = 0; i < sizeof(drop); i++) {
		if (drop[i] == XPXE_DHCP6_INFORMATION_REQUEST) { /* no IA (16.12) */
			r_start(&r, drop[i]);
			r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
		} else {
			r_msg(&r, drop[i], false, "fd00::100");
		}
		xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fe80::1", "fe80::2", 546),
				       mac1);
	}
	assert_int_equal(srv.n_queued, 0);
	assert_int_equal(srv.cnt[XPXE_D6_UNICAST], 4);
	for (size_t i = 0; i < sizeof(use_mc); i++) {
		r_msg(&r, use_mc[i], true, "fd00::100");
		xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fe80::1", "fd00::1", 546),
				       mac1);
		assert_int_equal(srv.n_queued, (int)i + 1);
		assert_true(srv.queued[i].use_multicast);
		assert_int_equal(srv.queued[i].out.buf[0], XPXE_DHCP6_REPLY);
		v = find(&srv.queued[i].out, XPXE_DHCP6_OPT_STATUS, &n);
		assert_non_null(v);
		assert_int_equal(v[0] << 8 | v[1], XPXE_DHCP6_USE_MULTICAST);
		assert_null(find(&srv.queued[i].out, XPXE_DHCP6_OPT_IA_NA, &n));
		v = find(&srv.queued[i].out, XPXE_DHCP6_OPT_SERVERID, &n);
		assert_true(v && n == sizeof(sid) && !memcmp(v, sid, n));
		v = find(&srv.queued[i].out, XPXE_DHCP6_OPT_CLIENTID, &n);
		assert_true(v && n == sizeof(cid) && !memcmp(v, cid, n));
	}
	/* Another server's id: not ours to answer, even with UseMulticast. */
	r_start(&r, XPXE_DHCP6_REQUEST);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
	r_opt(&r, XPXE_DHCP6_OPT_SERVERID, other_sid, sizeof(other_sid));
	r_ia(&r, 7, NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fe80::1", "fd00::1", 546), mac1);
	assert_int_equal(srv.cnt[XPXE_D6_OTHER_SERVER], 1);
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_USE_MULTICAST], 4);
	assert_int_equal(srv.cnt[XPXE_D6_REPLY], 0);
	assert_int_equal(srv.cnt[XPXE_D6_ADVERTISE], 0);
	assert_int_equal(srv.cnt[XPXE_D6_SEND_ERRORS], 4); /* (no socket here) */
	assert_int_equal(srv.cnt[XPXE_D6_BOUND], 0);
	assert_null(xpxe_leases6_find(&srv.leases, mac1));
	/* The same Request to ff02::1:2: answered, and counted in reply. */
	r_msg(&r, XPXE_DHCP6_REQUEST, true, NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet(&r, pkt), mac1);
	assert_false(srv.queued[0].use_multicast);
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_REPLY], 1);
	assert_int_equal(srv.cnt[XPXE_D6_USE_MULTICAST], 4);
	free(srv.queued);
	xpxe_leases6_free(&srv.leases);
}

/*
 * R wrapped in a Relay-forward of HOP and LINK, with option 79 naming MAC (NULL: none) and a
 * Relay Source Port option (RFC 8357) of value PORT (-1: none).
 */
static void r_relay_port(struct req *r, uint8_t hop, const char *link, const unsigned char *mac,
			 int port)
{
	struct req in = *r;
	struct in6_addr l = ip6(link), peer = ip6("fe80::5054:ff:fed7:1");
	uint8_t lladdr[8] = { 0, 1 };

	r->b[0] = XPXE_DHCP6_RELAY_FORW;
	r->b[1] = hop;
	memcpy(r->b + 2, &l, 16);
	memcpy(r->b + 18, &peer, 16);
	r->n = 34;
	r_opt(r, XPXE_DHCP6_OPT_INTERFACE_ID, "ge-0/0/7", 8);
	if (mac) {
		memcpy(lladdr + 2, mac, 6);
		r_opt(r, XPXE_DHCP6_OPT_CLIENT_LLADDR, lladdr, sizeof(lladdr));
	}
	if (port >= 0) {
		uint8_t v[2] = { (uint8_t)(port >> 8), (uint8_t)port };

		r_opt(r, XPXE_DHCP6_OPT_RELAY_PORT, v, sizeof(v));
	}
	r_opt(r, XPXE_DHCP6_OPT_RELAY_MSG, in.b, in.n);
}

static void r_relay(struct req *r, uint8_t hop, const char *link, const unsigned char *mac)
{
	r_relay_port(r, hop, link, mac, -1);
}

/* The option CODE of the Relay-reply O's own layer (NULL: absent). */
static const uint8_t *relay_opt(const struct xpxe_dhcp6_out *o, uint16_t code, size_t *len)
{
	static struct xpxe_dhcp6_out hdr;

	hdr = *o;
	memmove(hdr.buf + 4, hdr.buf + 34, hdr.len - 34); /* find() reads options from 4 */
	hdr.len -= 30;
	return find(&hdr, code, len);
}

/* The Relay Message in the Relay-reply O, as an answer of its own (false: none). */
static bool relayed_answer(const struct xpxe_dhcp6_out *o, struct xpxe_dhcp6_out *inner)
{
	struct xpxe_dhcp6_out hdr = *o;
	const uint8_t *m;
	size_t n;

	if (o->buf[0] != XPXE_DHCP6_RELAY_REPL)
		return false;
	memmove(hdr.buf + 4, hdr.buf + 34, hdr.len - 34); /* find() reads options from 4 */
	hdr.len -= 30;
	m = find(&hdr, XPXE_DHCP6_OPT_RELAY_MSG, &n);
	if (!m)
		return false;
	memcpy(inner->buf, m, n);
	inner->len = n;
	return true;
}

/*
 * Relays (RFC 8415 19): a Relay-forward from a relay's own address is answered with a
 * Relay-reply to its port 547 that echoes its hop count, addresses and Interface-Id around the
 * client's answer; the machine is option 79's MAC or its DUID-LL's; nested relays are answered
 * nested. A relay of another link, a client with no MAC to go by, and broken Relay-forwards get
 * their counted outcomes, no answer.
 */
static void test_server_relayed(void **state)
{
	static const uint8_t duid_ll3[] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0xd7, 0, 3 };
	struct in6_addr pool = ip6("fd00::100"), res = ip6("fd00::50"), relay = ip6("fd00::2");
	struct in6_addr peer = ip6("fe80::5054:ff:fed7:1"), link = ip6("fd00::");
	struct xpxe_dhcp6_server srv;
	struct xpxe_dhcp6_out in, in2;
	struct xpxe_dhcp6_queued *q;
	uint8_t pkt[2200];
	const uint8_t *a;
	struct req r;
	int st;

	(void)state;
	server(&srv);
	srv.queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv.queued));
	assert_non_null(srv.queued);
	/* A Solicit through one relay, its MAC in option 79: the pool's address for mac1. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "fd00::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547),
			       mac2 /* the relay's MAC: not the machine's */);
	assert_int_equal(srv.n_queued, 1);
	q = &srv.queued[0];
	assert_int_equal(q->type, XPXE_DHCP6_ADVERTISE);
	assert_memory_equal(&q->to.sin6_addr, &relay, 16);
	assert_int_equal(ntohs(q->to.sin6_port), 547);
	assert_int_equal(q->out.buf[0], XPXE_DHCP6_RELAY_REPL);
	assert_int_equal(q->out.buf[1], 0);
	assert_memory_equal(q->out.buf + 2, &link, 16);
	assert_memory_equal(q->out.buf + 18, &peer, 16);
	assert_int_equal(q->out.buf[34 + 1], XPXE_DHCP6_OPT_INTERFACE_ID);
	assert_memory_equal(q->out.buf + 38, "ge-0/0/7", 8);
	assert_true(relayed_answer(&q->out, &in));
	assert_int_equal(in.buf[0], XPXE_DHCP6_ADVERTISE);
	assert_memory_equal(in.buf + 1, "\x12\x34\x56", 3); /* the client's xid (r_start) */
	a = ia_addr(&in, &st);
	assert_non_null(a);
	assert_memory_equal(a, &pool, 16);
	assert_non_null(xpxe_leases6_find(&srv.leases, mac1));
	assert_null(xpxe_leases6_find(&srv.leases, mac2));
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_ADVERTISE], 1);
	assert_int_equal(srv.cnt[XPXE_D6_RELAYED], 1);
	/* To our address, as relays send: not a client's unicast (no UseMulticast). */
	assert_int_equal(srv.cnt[XPXE_D6_USE_MULTICAST], 0);

	/* Two relays, the inner one with no option 79: the DUID-LL's MAC, mac3's reservation. */
	r_start(&r, XPXE_DHCP6_SOLICIT);
	r_opt(&r, XPXE_DHCP6_OPT_CLIENTID, duid_ll3, sizeof(duid_ll3));
	r_ia(&r, 7, NULL);
	r_relay(&r, 0, "fd00::1:2", NULL);
	r_relay(&r, 1, "::", NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "ff05::1:3", 547),
			       mac2);
	assert_int_equal(srv.n_queued, 1);
	q = &srv.queued[0];
	assert_int_equal(q->out.buf[1], 1);
	assert_true(relayed_answer(&q->out, &in));
	assert_int_equal(in.buf[0], XPXE_DHCP6_RELAY_REPL);
	assert_int_equal(in.buf[1], 0);
	assert_true(relayed_answer(&in, &in2));
	assert_int_equal(in2.buf[0], XPXE_DHCP6_ADVERTISE);
	a = ia_addr(&in2, &st);
	assert_non_null(a);
	assert_memory_equal(a, &res, 16);
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_RELAYED], 2);

	/* A relay of a link with no pool6 or reservation: not answered. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "fd01::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.n_queued, 0);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_OTHER_LINK], 1);
	/*
	 * A lightweight relay's (link ::) behind a relay of that other link: the link is the
	 * first relay's out from the client that names one (RFC 6221 6.2), not ours.
	 */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "::", mac1);
	r_relay(&r, 1, "fd01::", NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.n_queued, 0);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_OTHER_LINK], 2);
	/* The same behind a relay of the pool's link: answered. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "::", mac1);
	r_relay(&r, 1, "fd00::1", NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.n_queued, 1);
	xpxe_dhcp6_server_flush(&srv);
	/* No option 79 and a DUID-UUID: no MAC to bind. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "fd00::", NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.n_queued, 0);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_NO_MAC], 1);
	/* No Relay Message; nine relays deep; a Relay-forward of 20 bytes. */
	r_start(&r, XPXE_DHCP6_RELAY_FORW);
	memset(r.b + 2, 0, 32);
	r.n = 34;
	r_opt(&r, XPXE_DHCP6_OPT_INTERFACE_ID, "x", 1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	for (int i = 0; i < XPXE_DHCP6_RELAY_DEPTH_MAX + 1; i++)
		r_relay(&r, (uint8_t)i, "fd00::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.malformed[XPXE_DHCP6_BAD_RELAY], 2);
	r.n = 20;
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.malformed[XPXE_DHCP6_TOO_SHORT], 1);
	/* Eight deep is still answered. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	for (int i = 0; i < XPXE_DHCP6_RELAY_DEPTH_MAX; i++)
		r_relay(&r, (uint8_t)i, "fd00::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.n_queued, 1);
	assert_int_equal(srv.queued[0].out.buf[1], XPXE_DHCP6_RELAY_DEPTH_MAX - 1);
	xpxe_dhcp6_server_flush(&srv);
	/* A client's own message from a global address is still a bad frame. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "ff02::1:2", 546),
			       mac1);
	assert_int_equal(srv.cnt[XPXE_D6_BAD_FRAME], 1);
	assert_int_equal(srv.n_queued, 0);
	free(srv.queued);
	xpxe_leases6_free(&srv.leases);
}

/*
 * RFC 8357 5.3: a Relay-forward that came with a Relay Source Port option is answered to the
 * port it came from, not 547, and each layer's option is echoed in its own Relay-reply (its
 * Downstream Source Port tells that relay where to forward the reply). Only the outermost
 * layer's option (the relay that sent it to us) moves our answer. Without one: port 547,
 * whatever the source port. An option not of 2 bytes is a bad relay; a relay's datagram from
 * port 0 a bad frame.
 */
static void test_server_relay_port(void **state)
{
	struct xpxe_dhcp6_server srv;
	struct xpxe_dhcp6_out in;
	struct xpxe_dhcp6_queued *q;
	const uint8_t *v;
	uint8_t pkt[2200];
	size_t n;
	struct req r;

	(void)state;
	server(&srv);
	srv.queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv.queued));
	assert_non_null(srv.queued);
	/* One relay on port 10547 with the option (0: its client is on its own link). */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay_port(&r, 0, "fd00::", mac1, 0);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 10547),
			       mac2);
	assert_int_equal(srv.n_queued, 1);
	q = &srv.queued[0];
	assert_int_equal(ntohs(q->to.sin6_port), 10547);
	v = relay_opt(&q->out, XPXE_DHCP6_OPT_RELAY_PORT, &n);
	assert_non_null(v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0] << 8 | v[1], 0);
	assert_true(relayed_answer(&q->out, &in));
	assert_int_equal(in.buf[0], XPXE_DHCP6_ADVERTISE);
	/* The same relay port without the option: 547, nothing echoed. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "fd00::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 10547),
			       mac2);
	assert_int_equal(srv.n_queued, 2);
	q = &srv.queued[1];
	assert_int_equal(ntohs(q->to.sin6_port), 547);
	assert_null(relay_opt(&q->out, XPXE_DHCP6_OPT_RELAY_PORT, &n));
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_RELAYED], 2);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_SOURCE_PORT], 1);

	/* Two relays, the option in the inner one only: 547; the inner layer's echoed. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay_port(&r, 0, "fd00::", mac1, 0);
	r_relay(&r, 1, "::", NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 10547),
			       mac2);
	q = &srv.queued[0];
	assert_int_equal(ntohs(q->to.sin6_port), 547);
	assert_null(relay_opt(&q->out, XPXE_DHCP6_OPT_RELAY_PORT, &n));
	assert_true(relayed_answer(&q->out, &in));
	assert_non_null(relay_opt(&in, XPXE_DHCP6_OPT_RELAY_PORT, &n));
	/* Both with it, the outer naming the inner's port 3547: to the outer's source port. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay_port(&r, 0, "fd00::", mac1, 0);
	r_relay_port(&r, 1, "::", NULL, 3547);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 20547),
			       mac2);
	q = &srv.queued[1];
	assert_int_equal(ntohs(q->to.sin6_port), 20547);
	v = relay_opt(&q->out, XPXE_DHCP6_OPT_RELAY_PORT, &n);
	assert_true(v && n == 2 && (v[0] << 8 | v[1]) == 3547);
	assert_true(relayed_answer(&q->out, &in));
	v = relay_opt(&in, XPXE_DHCP6_OPT_RELAY_PORT, &n);
	assert_true(v && n == 2 && (v[0] << 8 | v[1]) == 0);
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_SOURCE_PORT], 2);

	/* An option of 3 bytes: bad_relay; a relay from port 0: a bad frame. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "fd00::", mac1);
	memmove(r.b + 34 + 12 + 7, r.b + 34 + 12, r.n - 34 - 12); /* after Interface-Id */
	memcpy(r.b + 34 + 12, "\0\x87\0\x03\x27\x1b\0", 7);
	r.n += 7;
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 10547),
			       mac2);
	assert_int_equal(srv.malformed[XPXE_DHCP6_BAD_RELAY], 1);
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay_port(&r, 0, "fd00::", mac1, 0);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 0), mac2);
	assert_int_equal(srv.cnt[XPXE_D6_BAD_FRAME], 1);
	assert_int_equal(srv.n_queued, 0);
	free(srv.queued);
	xpxe_leases6_free(&srv.leases);
}

static unsigned long long fake_now_ns;

static unsigned long long fake_clock(void)
{
	return fake_now_ns;
}

/* A Solicit through one relay at FROM, taken by SRV (answered, or dropped and counted). */
static void relayed_solicit(struct xpxe_dhcp6_server *srv, const char *from)
{
	uint8_t pkt[2200];
	struct req r;

	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "fd00::", mac1);
	xpxe_dhcp6_server_take(srv, pkt, r_packet_from(&r, pkt, from, "fd00::1", 547), mac2);
}

static bool relay_tracked(const struct xpxe_dhcp6_server *srv, const char *addr)
{
	struct in6_addr a = ip6(addr);

	for (int i = 0; i < XPXE_DHCP6_RELAYS; i++)
		if (srv->relays[i].used && IN6_ARE_ADDR_EQUAL(&srv->relays[i].addr, &a))
			return true;
	return false;
}

/*
 * Each relay address has its token bucket (--dhcp-relay-rate): BURST Relay-forwards at once,
 * then RATE a second; more are dropped before any answer, counted relay_limited. Another
 * relay has its own bucket. The table holds XPXE_DHCP6_RELAYS of them: a new relay takes the
 * least recently heard one's place. The default is 200/400; 0 is no limit.
 */
static void test_server_relay_limit(void **state)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp6_server srv;
	char addr[64];

	(void)state;
	server(&srv);
	srv.queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv.queued));
	assert_non_null(srv.queued);
	xpxe_dhcp_settings_default(&s);
	xpxe_dhcp6_server_set_limits(&srv, &s);
	assert_int_equal(srv.relay_rate, 200);
	assert_int_equal(srv.relay_burst, 400);
	s.relay_rate = 1, s.relay_burst = 3;
	xpxe_dhcp6_server_set_limits(&srv, &s);
	srv.clock_ns = fake_clock;
	fake_now_ns = 5000000000ull;
	/* A burst of 3, the fourth dropped; another relay not held back by it. */
	for (int i = 0; i < 4; i++)
		relayed_solicit(&srv, "fd00::2");
	assert_int_equal(srv.n_queued, 3);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_LIMITED], 1);
	relayed_solicit(&srv, "fd00::3");
	assert_int_equal(srv.n_queued, 4);
	/* A second later: one more, not two. */
	fake_now_ns += 1000000000ull;
	relayed_solicit(&srv, "fd00::2");
	relayed_solicit(&srv, "fd00::2");
	assert_int_equal(srv.n_queued, 5);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_LIMITED], 2);
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_RELAYED], 5);
	/*
	 * The table full (62 more relays, at a rate all relays' bucket lets through), a new one
	 * takes the place of the least recently heard one not established (::3; ::2, heard over
	 * a second, is).
	 */
	s.relay_rate = 1000;
	xpxe_dhcp6_server_set_limits(&srv, &s);
	fake_now_ns += 1000000000ull;
	for (int i = 0; i < XPXE_DHCP6_RELAYS - 2; i++) {
		fake_now_ns += 1000000ull;
		snprintf(addr, sizeof(addr), "fd00:1::%x", i);
		relayed_solicit(&srv, addr);
		xpxe_dhcp6_server_flush(&srv);
	}
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_LIMITED], 2);
	assert_true(relay_tracked(&srv, "fd00::2") && relay_tracked(&srv, "fd00::3"));
	fake_now_ns += 1000000ull;
	relayed_solicit(&srv, "fd00:2::1");
	assert_false(relay_tracked(&srv, "fd00::3"));
	assert_true(relay_tracked(&srv, "fd00::2"));
	/* ::2, still empty, kept: a new relay pushes out the oldest newcomer, fd00:1::0. */
	relayed_solicit(&srv, "fd00::2");
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_LIMITED], 3);
	relayed_solicit(&srv, "fd00:2::2");
	assert_false(relay_tracked(&srv, "fd00:1::0"));
	assert_true(relay_tracked(&srv, "fd00::2"));
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_GLOBAL_LIMITED], 0);
	xpxe_dhcp6_server_flush(&srv);
	/* No limit: never dropped. */
	s.relay_rate = 0;
	xpxe_dhcp6_server_set_limits(&srv, &s);
	for (int i = 0; i < 10; i++)
		relayed_solicit(&srv, "fd00::2");
	assert_int_equal(srv.n_queued, 10);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_LIMITED], 3);
	xpxe_dhcp6_server_flush(&srv);
	free(srv.queued);
	xpxe_leases6_free(&srv.leases);
}

/* Relay-forwards SRV dropped so far, at its own rate or all relays'. */
static unsigned long long relay_drops(const struct xpxe_dhcp6_server *srv)
{
	return srv->cnt[XPXE_D6_RELAY_LIMITED] + srv->cnt[XPXE_D6_RELAY_GLOBAL_LIMITED];
}

/*
 * A flood from ever new (forged) relay addresses, each with a fresh bucket of its own: all
 * relays' bucket (XPXE_DHCP6_RELAY_GLOBAL_X times one relay's rate and burst) caps what is
 * answered, counted relay_global_limited; newcomers take it down to half only, and an
 * established relay (heard over a second) keeps its slot and is answered through the flood.
 */
static void test_server_relay_flood(void **state)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp6_server srv;
	unsigned long long drops, forged = 0, forged_dropped = 0;
	char addr[64];

	(void)state;
	server(&srv);
	srv.queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv.queued));
	assert_non_null(srv.queued);
	xpxe_dhcp_settings_default(&s);
	s.relay_rate = 10, s.relay_burst = 20; /* all relays: 40 a second, 80 at once */
	xpxe_dhcp6_server_set_limits(&srv, &s);
	srv.clock_ns = fake_clock;
	fake_now_ns = 5000000000ull;
	relayed_solicit(&srv, "fd00::2");
	fake_now_ns += 1000000000ull;
	relayed_solicit(&srv, "fd00::2");
	assert_int_equal(relay_drops(&srv), 0);
	/* 3 s of a new address every 100 us (30000); the relay heard at 1.5 s and 3 s. */
	for (int i = 1; i <= 30000; i++) {
		fake_now_ns += 100000ull;
		drops = relay_drops(&srv);
		snprintf(addr, sizeof(addr), "fd00:f::%x:%x", i >> 16, i & 0xffff);
		relayed_solicit(&srv, addr);
		forged++;
		forged_dropped += relay_drops(&srv) - drops;
		if (i % 15000 == 0) {
			drops = relay_drops(&srv);
			assert_true(relay_tracked(&srv, "fd00::2"));
			relayed_solicit(&srv, "fd00::2");
			assert_int_equal(relay_drops(&srv), drops);
		}
	}
	xpxe_dhcp6_server_flush(&srv);
	/* Half the burst, then 40 a second for 3 s, less what the relay took. */
	assert_true(forged - forged_dropped <= 40 + 3 * 40 + 1);
	assert_true(forged - forged_dropped >= 40 + 3 * 40 - 4);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_GLOBAL_LIMITED], forged_dropped);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_LIMITED], 0);
	assert_int_equal(srv.cnt[XPXE_D6_RELAYED], forged - forged_dropped + 4);
	/* Established relays together are held to the whole bucket too: 6 at once, 20 each. */
	fake_now_ns += 10000000000ull;
	for (int r = 0; r < 6; r++) {
		snprintf(addr, sizeof(addr), "fd00:e::%x", r);
		relayed_solicit(&srv, addr);
		xpxe_dhcp6_server_flush(&srv);
	}
	fake_now_ns += 1000000000ull;
	drops = relay_drops(&srv);
	for (int i = 0; i < 19; i++)
		for (int r = 0; r < 6; r++) {
			snprintf(addr, sizeof(addr), "fd00:e::%x", r);
			relayed_solicit(&srv, addr);
			xpxe_dhcp6_server_flush(&srv);
		}
	/* 114 sent, 80 at once (the 6 a second ago have come back): the rest dropped. */
	assert_int_equal(relay_drops(&srv) - drops, 6 * 19 - 80);
	assert_int_equal(srv.cnt[XPXE_D6_RELAY_LIMITED], 0);
	free(srv.queued);
	xpxe_leases6_free(&srv.leases);
}

/* How many times the repeats tried to send (here the sends fail: no such interface). */
static unsigned long long repeat_tries(const struct xpxe_dhcp6_server *srv)
{
	return srv->cnt[XPXE_D6_REPEATED] + srv->cnt[XPXE_D6_SEND_ERRORS];
}

/*
 * xdp_pxe's Replies on 4011 sent again (EDK2 loses one that comes before its read is set up,
 * docs/dhcp6-edk2.md): at the first tick at least 250 ms after the Reply, once more at the
 * next, then never; none once 2.5 s have passed. A 17th waiting Reply takes the oldest's
 * slot.
 */
static void test_server_repeat(void **state)
{
	static struct xpxe_dp_dhcp6_reply_event ev;
	struct xpxe_dhcp6_server srv;

	(void)state;
	server(&srv);
	srv.clock_ns = fake_clock;
	ev.h.type = XPXE_EV_DHCP6_REPLY_4011;
	ev.h.ifindex = 0; /* no such interface: each send fails, counted */
	ev.len = 14 + 40 + 8 + 100;
	ev.h.ts_ns = fake_now_ns = 10000000000ull;
	xpxe_dhcp6_server_repeat(&srv, &ev);
	fake_now_ns += 100000000ull; /* 100 ms: too early */
	xpxe_dhcp6_server_tick(&srv);
	assert_int_equal(repeat_tries(&srv), 0);
	fake_now_ns += 200000000ull; /* 300 ms */
	xpxe_dhcp6_server_tick(&srv);
	assert_int_equal(repeat_tries(&srv), 1);
	assert_int_equal(srv.cnt[XPXE_D6_REPEATED], 0);
	fake_now_ns += 1000000000ull; /* 1.3 s */
	xpxe_dhcp6_server_tick(&srv);
	assert_int_equal(repeat_tries(&srv), 2);
	fake_now_ns += 1000000000ull; /* 2.3 s: done */
	xpxe_dhcp6_server_tick(&srv);
	assert_int_equal(repeat_tries(&srv), 2);
	/* Not read in time (the daemon busy 2.5 s): dropped, not sent. */
	ev.h.ts_ns = fake_now_ns;
	xpxe_dhcp6_server_repeat(&srv, &ev);
	fake_now_ns += 2600000000ull;
	xpxe_dhcp6_server_tick(&srv);
	assert_int_equal(repeat_tries(&srv), 2);
	for (int i = 0; i < XPXE_DHCP6_REPEATS; i++)
		assert_int_equal(srv.repeats[i].at_ns, 0);
	/* A 17th: the oldest slot goes. A frame too short or too long: not taken. */
	for (int i = 0; i <= XPXE_DHCP6_REPEATS; i++) {
		ev.h.ts_ns = fake_now_ns + (unsigned long long)i;
		xpxe_dhcp6_server_repeat(&srv, &ev);
	}
	for (int i = 0; i < XPXE_DHCP6_REPEATS; i++)
		assert_true(srv.repeats[i].at_ns > fake_now_ns);
	ev.len = 14;
	ev.h.ts_ns = fake_now_ns + 100;
	xpxe_dhcp6_server_repeat(&srv, &ev);
	ev.len = sizeof(ev.frame) + 1;
	xpxe_dhcp6_server_repeat(&srv, &ev);
	for (int i = 0; i < XPXE_DHCP6_REPEATS; i++)
		assert_true(srv.repeats[i].at_ns <= fake_now_ns + XPXE_DHCP6_REPEATS);
	xpxe_dhcp6_server_stop(&srv);
}

/* A UEFI x64 PXE client's message of TYPE (ORO 59, architecture 7, PXEClient), IA_NA or not. */
static void r_pxe(struct req *r, uint8_t type, const uint8_t *server_id, size_t sid_len, bool ia)
{
	static const uint8_t vendor[] = "\0\0\x01\x57\0\x20PXEClient:Arch:00007:UNDI:003000";
	static const uint8_t oro[] = { 0, 59 }, arch[] = { 0, 7 };

	r_start(r, type);
	r_opt(r, XPXE_DHCP6_OPT_CLIENTID, cid, sizeof(cid));
	if (server_id)
		r_opt(r, XPXE_DHCP6_OPT_SERVERID, server_id, sid_len);
	if (ia)
		r_ia(r, 7, NULL);
	r_opt(r, XPXE_DHCP6_OPT_VENDOR_CLASS, vendor, sizeof(vendor) - 1);
	r_opt(r, XPXE_DHCP6_OPT_ORO, oro, sizeof(oro));
	r_opt(r, XPXE_DHCP6_OPT_ARCH, arch, sizeof(arch));
}

/*
 * Proxy mode through relays: a boot client's Solicit, Request naming us and
 * Information-request get the boot options (here, without the maps, the server id) and its
 * client id in a Relay-reply, no address and no binding, from any link, whatever MAC (option
 * 79, a DUID's, none: a stranger's profile); the address server's messages (a Request naming
 * it, a Renew), plain clients and client messages not relayed are not answered, each counted.
 */
static void test_server_relay_proxy(void **state)
{
	struct xpxe_dhcp6_server srv;
	struct xpxe_dhcp6_out in;
	struct xpxe_dhcp6_queued *q;
	const uint8_t *v;
	uint8_t pkt[2200];
	size_t n;
	struct req r;
	int st;

	(void)state;
	server(&srv);
	srv.proxy = true;
	srv.queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv.queued));
	assert_non_null(srv.queued);
	/* A Solicit with an IA_NA through a relay of a link xpxe has no pool for. */
	r_pxe(&r, XPXE_DHCP6_SOLICIT, NULL, 0, true);
	r_relay(&r, 0, "fd01::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.n_queued, 1);
	q = &srv.queued[0];
	assert_int_equal(q->type, XPXE_DHCP6_ADVERTISE);
	assert_int_equal(ntohs(q->to.sin6_port), 547);
	assert_true(relayed_answer(&q->out, &in));
	assert_int_equal(in.buf[0], XPXE_DHCP6_ADVERTISE);
	assert_null(find(&in, XPXE_DHCP6_OPT_IA_NA, &n));
	assert_null(ia_addr(&in, &st));
	v = find(&in, XPXE_DHCP6_OPT_SERVERID, &n);
	assert_true(v && n == sizeof(sid) && !memcmp(v, sid, n));
	v = find(&in, XPXE_DHCP6_OPT_CLIENTID, &n);
	assert_true(v && n == sizeof(cid) && !memcmp(v, cid, n));
	assert_null(xpxe_leases6_find(&srv.leases, mac1));
	/* A Request naming us, an Information-request: Replies. */
	r_pxe(&r, XPXE_DHCP6_REQUEST, sid, sizeof(sid), true);
	r_relay(&r, 0, "fd01::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	r_pxe(&r, XPXE_DHCP6_INFORMATION_REQUEST, NULL, 0, false);
	r_relay(&r, 0, "fd01::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.n_queued, 3);
	assert_int_equal(srv.queued[1].type, XPXE_DHCP6_REPLY);
	assert_int_equal(srv.queued[2].type, XPXE_DHCP6_REPLY);
	/* No MAC to go by (a DUID-UUID, no option 79): a stranger, answered while they are. */
	r_pxe(&r, XPXE_DHCP6_SOLICIT, NULL, 0, true);
	r_relay(&r, 0, "fd01::", NULL);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.n_queued, 4);
	srv.answer_unknown = false;
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.cnt[XPXE_D6_UNKNOWN], 1);
	srv.answer_unknown = true;
	/* The address server's: a Request naming it, a Renew. */
	r_pxe(&r, XPXE_DHCP6_REQUEST, other_sid, sizeof(other_sid), true);
	r_relay(&r, 0, "fd01::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.cnt[XPXE_D6_OTHER_SERVER], 1);
	r_pxe(&r, XPXE_DHCP6_RENEW, other_sid, sizeof(other_sid), true);
	r_relay(&r, 0, "fd01::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.cnt[XPXE_D6_PROXY_IGNORED], 1);
	/* A plain client (nothing to boot); a client's own Solicit, not relayed. */
	r_msg(&r, XPXE_DHCP6_SOLICIT, false, NULL);
	r_relay(&r, 0, "fd01::", mac1);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet_from(&r, pkt, "fd00::2", "fd00::1", 547), mac2);
	assert_int_equal(srv.cnt[XPXE_D6_PROXY_NOT_PXE], 1);
	r_pxe(&r, XPXE_DHCP6_SOLICIT, NULL, 0, true);
	xpxe_dhcp6_server_take(&srv, pkt, r_packet(&r, pkt), mac1);
	assert_int_equal(srv.cnt[XPXE_D6_BAD_FRAME], 1);
	assert_int_equal(srv.n_queued, 4);
	xpxe_dhcp6_server_flush(&srv);
	assert_int_equal(srv.cnt[XPXE_D6_ADVERTISE], 2);
	assert_int_equal(srv.cnt[XPXE_D6_REPLY], 2);
	assert_int_equal(srv.cnt[XPXE_D6_RELAYED], 4);
	assert_int_equal(srv.cnt[XPXE_D6_BOUND], 0);
	assert_int_equal(srv.leases.n, 0);
	free(srv.queued);
	xpxe_leases6_free(&srv.leases);
}

/* Full mode's DHCPv6 is on with a pool6, a --reserve6 or a machine's ip6, and only then. */
static void test_full_when(void **state)
{
	struct xpxe_machine_cfg m = { .n_macs = 1 };
	struct xpxe_dhcp_settings s;
	struct in6_addr want = ip6("fd00:5::50");

	(void)state;
	xpxe_dhcp_settings_default(&s);
	s.mode = XPXE_MODE_FULL;
	assert_false(xpxe_dhcp6_full(&s));
	s.machines = &m;
	s.n_machines = 1;
	assert_false(xpxe_dhcp6_full(&s));
	m.ip6 = want;
	assert_true(xpxe_dhcp6_full(&s));
	assert_memory_equal(xpxe_dhcp6_link_prefix(&s), &want, 8);
	s.pool6_first = ip6("fd00:6::100");
	s.pool6_last = ip6("fd00:6::1ff");
	assert_memory_equal(xpxe_dhcp6_link_prefix(&s), &s.pool6_first, 8);
	s.mode = XPXE_MODE_PROXY;
	assert_false(xpxe_dhcp6_full(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_solicit),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_build_ia),
		cmocka_unit_test(test_full_when),
		cmocka_unit_test(test_boot_with_address),
		cmocka_unit_test_setup_teardown(test_leases6_first_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases6_release_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases6_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases6_holds_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_exchanges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_save_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_unicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_relayed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_relay_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_relay_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_relay_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_relay_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_repeat, setup, teardown),
	};

	return cmocka_run_group_tests_name("dhcp6", tests, NULL, NULL);
}
