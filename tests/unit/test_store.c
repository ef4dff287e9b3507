// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The store's pieces that need no etcd: `store:` and --store, etcd's base64 and key ranges,
 * and the records xpxe keeps under its prefix: what is taken and what is refused, and why.
 * (tests/integration/test_store_*.sh run the whole against a real etcd.)
 */
#include <arpa/inet.h>
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
#include "store/internal.h"

static void test_base64(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "/xpxe/leases/ip/198.18.0.1" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v",
					     "L3hweGUvbGVhc2VzL2lwLzE5OC4xOC4wLjE=" };
	char out[128];
	unsigned char back[128];

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		b64_encode(plain[i], strlen(plain[i]), out);
		assert_string_equal(out, coded[i]);
		assert_int_equal(b64_decode(coded[i], back), (long)strlen(plain[i]));
		assert_memory_equal(back, plain[i], strlen(plain[i]));
	}
	/* Not base64: a length that is not a multiple of 4, a foreign character, bad padding. */
	assert_int_equal(b64_decode("Zm9", back), -1);
	assert_int_equal(b64_decode("Zm9*", back), -1);
	assert_int_equal(b64_decode("Z=9v", back), -1);
	assert_int_equal(b64_decode("Zm=v", back), -1);
}

static void test_range_end(void **state)
{
	char end[32];

	(void)state;
	range_end_of("/xpxe/", end, sizeof(end));
	assert_string_equal(end, "/xpxe0"); /* '/' + 1 */
}

static void test_urls(void **state)
{
	struct xpxe_store_cfg cfg;
	char why[256];

	(void)state;
	xpxe_store_cfg_default(&cfg);
	assert_int_equal(cfg.backend, XPXE_STORE_FILES);
	assert_int_equal(
	    xpxe_store_parse_url(&cfg, "etcd://198.18.200.11:2379,etcd-2:2379", why, sizeof(why)),
	    0);
	assert_int_equal(cfg.backend, XPXE_STORE_ETCD);
	assert_int_equal(cfg.n_endpoints, 2);
	assert_int_equal(xpxe_store_cfg_finish(&cfg, why, sizeof(why)), 0);
	assert_string_equal(cfg.endpoints[0], "http://198.18.200.11:2379");
	assert_string_equal(cfg.endpoints[1], "http://etcd-2:2379");
	/* With TLS options, https; a certificate needs its key. */
	snprintf(cfg.ca, sizeof(cfg.ca), "/etc/xpxe/etcd-ca.pem");
	assert_int_equal(xpxe_store_cfg_finish(&cfg, why, sizeof(why)), 0);
	assert_string_equal(cfg.endpoints[1], "https://etcd-2:2379");
	snprintf(cfg.cert, sizeof(cfg.cert), "/etc/xpxe/client.pem");
	assert_int_not_equal(xpxe_store_cfg_finish(&cfg, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "key"));
	assert_int_equal(xpxe_store_parse_url(&cfg, "files", why, sizeof(why)), 0);
	assert_int_equal(cfg.backend, XPXE_STORE_FILES);

	static const char *const bad[] = {
		"etcd://",	"etcd://host",	 "etcd://host:0",      "etcd://host:99999",
		"etcd://:2379", "http://h:2379", "etcd://h:2379/path", "consul://h:8500"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_not_equal(xpxe_store_parse_url(&cfg, bad[i], why, sizeof(why)), 0);
		assert_true(why[0]);
	}
	xpxe_store_cfg_default(&cfg);
	snprintf(cfg.prefix, sizeof(cfg.prefix), "xpxe");
	assert_int_not_equal(xpxe_store_cfg_finish(&cfg, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "prefix"));
}

static char path[64];

static int load(const char *text, struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/xpxe-store-test-%d.yaml", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return xpxe_config_load(path, cfg, err);
}

static void test_config_key(void **state)
{
	struct xpxe_config cfg;
	struct xpxe_config_error err;

	(void)state;
	assert_int_equal(load("interfaces: [prov0]\n", &cfg, &err), 0);
	assert_int_equal(cfg.store.backend, XPXE_STORE_FILES);
	xpxe_config_free(&cfg);
	assert_int_equal(load("store: etcd://198.18.200.11:2379\n", &cfg, &err), 0);
	assert_int_equal(cfg.store.backend, XPXE_STORE_ETCD);
	assert_string_equal(cfg.store.endpoints[0], "http://198.18.200.11:2379");
	xpxe_config_free(&cfg);
	assert_int_equal(load("store:\n  url: etcd://a:2379,b:2379\n  prefix: /site-1/\n"
			      "  name: rack-7\n  ca: /etc/xpxe/ca.pem\n  cert: /etc/xpxe/c.pem\n"
			      "  key: /etc/xpxe/c.key\n  timeout_ms: 500\n",
			      &cfg, &err),
			 0);
	assert_string_equal(cfg.store.endpoints[1], "https://b:2379");
	assert_string_equal(cfg.store.prefix, "/site-1/");
	assert_string_equal(cfg.store.name, "rack-7");
	assert_int_equal(cfg.store.timeout_ms, 500);
	xpxe_config_free(&cfg);
	/* Errors name the line and say what was expected. */
	assert_int_not_equal(load("store: etcd://nowhere\n", &cfg, &err), 0);
	assert_non_null(strstr(err.text, ":1:"));
	assert_non_null(strstr(err.text, "HOST:PORT"));
	assert_int_not_equal(load("store:\n  url: etcd://a:1\n  password: x\n", &cfg, &err), 0);
	assert_non_null(strstr(err.text, "unknown key 'password' in store"));
	assert_int_not_equal(load("store:\n  url: etcd://a:1\n  cert: /c.pem\n", &cfg, &err), 0);
	assert_non_null(strstr(err.text, "key"));
	unlink(path);
}

static void test_kinds(void **state)
{
	char name[100];

	(void)state;
	assert_int_equal(rec_kind_of("machines/mac:52:54:00:00:00:01", name, sizeof(name)),
			 REC_MACHINE);
	assert_string_equal(name, "mac:52:54:00:00:00:01");
	assert_int_equal(rec_kind_of("installed/uuid:abc", name, sizeof(name)), REC_MARK);
	assert_int_equal(rec_kind_of("leases/ip/198.18.0.5", name, sizeof(name)), REC_LEASE_IP);
	assert_int_equal(rec_kind_of("leases/mac/52:54:00:00:00:01", name, sizeof(name)),
			 REC_LEASE_MAC);
	assert_int_equal(rec_kind_of("responders/r1", name, sizeof(name)), REC_RESPONDER);
	assert_int_equal(rec_kind_of("machines/", name, sizeof(name)), REC_FOREIGN);
	assert_int_equal(rec_kind_of("machines/a/b", name, sizeof(name)), REC_FOREIGN);
	assert_int_equal(rec_kind_of("leases/other/x", name, sizeof(name)), REC_FOREIGN);
	assert_int_equal(rec_kind_of("something", name, sizeof(name)), REC_FOREIGN);
}

static void test_machine_records(void **state)
{
	struct xpxe_store_machine m;
	char why[256], *value;

	(void)state;
	value = rec_machine_value("{\"mac\": [\"52:54:00:00:00:01\"], \"hostname\": \"cp-1\"}");
	assert_int_equal(rec_machine_parse("mac:52:54:00:00:00:01", value, &m, why, sizeof(why)),
			 0);
	assert_string_equal(m.key, "mac:52:54:00:00:00:01");
	assert_non_null(strstr(m.json, "cp-1"));
	free(m.json);
	/* The key names another machine than the value. */
	assert_int_not_equal(
	    rec_machine_parse("mac:52:54:00:00:00:02", value, &m, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "the key names machine mac:52:54:00:00:00:02"));
	free(value);
	/* A machine known by its UUID only. */
	assert_int_equal(rec_machine_parse("uuid:4c4c4544-0042",
					   "{\"xpxe\":\"machine\",\"v\":1,\"machine\":{\"uuid\":"
					   "\"4c4c4544-0042\"}}",
					   &m, why, sizeof(why)),
			 0);
	free(m.json);

	static const struct {
		const char *value, *why;
	} bad[] = {
		{ "", "empty value" },
		{ "not json at all", "not a JSON object" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"kind\":\"machine\"}", "not an xpxe machine record" },
		{ "{\"xpxe\":\"installed\",\"v\":1}", "not an xpxe machine record" },
		{ "{\"xpxe\":\"machine\",\"v\":2,\"machine\":{}}", "record version 2" },
		{ "{\"xpxe\":\"machine\",\"v\":1,\"machine\":\"cp-1\"}", "is not an object" },
		{ "{\"xpxe\":\"machine\",\"v\":1,\"machine\":{\"mac\":\"zz\"}}",
		  "no valid selector" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_not_equal(
		    rec_machine_parse("mac:52:54:00:00:00:01", bad[i].value, &m, why, sizeof(why)),
		    0);
		if (!strstr(why, bad[i].why))
			fail_msg("'%s': expected '%s', got '%s'", bad[i].value, bad[i].why, why);
	}
}

static void test_lease_records(void **state)
{
	struct xpxe_store_lease l = { .mac = { 0x52, 0x54, 0, 0, 0, 9 },
				      .expires = 1800000000,
				      .offered = true,
				      .by = "responder-a" },
				back;
	char why[256], *value;

	(void)state;
	inet_pton(AF_INET, "198.18.0.9", &l.ip);
	value = rec_lease_value(&l);
	assert_int_equal(
	    rec_lease_parse(REC_LEASE_IP, "198.18.0.9", value, &back, why, sizeof(why)), 0);
	assert_memory_equal(back.mac, l.mac, 6);
	assert_int_equal(back.ip.s_addr, l.ip.s_addr);
	assert_int_equal(back.expires, l.expires);
	assert_true(back.offered);
	assert_string_equal(back.by, "responder-a");
	assert_int_equal(
	    rec_lease_parse(REC_LEASE_MAC, "52:54:00:00:00:09", value, &back, why, sizeof(why)), 0);
	/* The key and the value must name the same address, the same MAC. */
	assert_int_not_equal(
	    rec_lease_parse(REC_LEASE_IP, "198.18.0.10", value, &back, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "the key names address 198.18.0.10, the value 198.18.0.9"));
	assert_int_not_equal(
	    rec_lease_parse(REC_LEASE_MAC, "52:54:00:00:00:0a", value, &back, why, sizeof(why)), 0);
	free(value);
	assert_int_not_equal(rec_lease_parse(REC_LEASE_IP, "198.18.0.9",
					     "{\"xpxe\":\"lease\",\"v\":1,\"mac\":\"52:54:00:00:00:"
					     "09\",\"ip\":\"198.18.0.9\",\"expires\":-5,"
					     "\"offered\":false}",
					     &back, why, sizeof(why)),
			     0);
	assert_non_null(strstr(why, "expires"));
	assert_int_not_equal(rec_lease_parse(REC_LEASE_IP, "198.18.0.9",
					     "{\"xpxe\":\"lease\",\"v\":1,\"mac\":\"52:54:00:00:00:"
					     "09\",\"ip\":\"198.18.0.9\",\"expires\":5,"
					     "\"offered\":\"maybe\"}",
					     &back, why, sizeof(why)),
			     0);
	assert_non_null(strstr(why, "offered"));
}

static void test_mark_records(void **state)
{
	struct xpxe_store_mark m = { .key = "mac:52:54:00:00:00:01",
				     .when = 1700000000,
				     .by = "a\"b" },
			       back;
	char why[256], *value = rec_mark_value(&m);

	(void)state;
	assert_int_equal(rec_mark_parse(m.key, value, &back, why, sizeof(why)), 0);
	assert_int_equal(back.when, m.when);
	assert_string_equal(back.by, "a\"b"); /* quoted on the way in */
	free(value);
	assert_int_not_equal(rec_mark_parse("mac:nonsense", "{}", &back, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "is not a machine's key"));
	assert_int_not_equal(rec_mark_parse("hostname:cp-1",
					    "{\"xpxe\":\"installed\",\"v\":1,\"when\":\"soon\"}",
					    &back, why, sizeof(why)),
			     0);
	assert_non_null(strstr(why, "when"));
}

static void test_responder_records(void **state)
{
	char why[256], *value = rec_responder_value("rack-1", "prov0", 1700000000);

	(void)state;
	assert_int_equal(rec_responder_parse("rack-1", value, why, sizeof(why)), 0);
	assert_int_not_equal(rec_responder_parse("rack-2", value, why, sizeof(why)), 0);
	free(value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_range_end),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_config_key),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_machine_records),
		cmocka_unit_test(test_lease_records),
		cmocka_unit_test(test_mark_records),
		cmocka_unit_test(test_responder_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
