// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The control socket's JSON: typed values out, hostile text in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static char *emit_one(const char *key, const char *str, unsigned long long num)
{
	struct fy_document *doc = fy_document_create(NULL);
	struct fy_node *map = fy_node_create_mapping(doc);
	char *out;

	fy_document_set_root(doc, map);
	xpxe_json_add_str(map, key, str);
	xpxe_json_add_u64(map, "n", num);
	xpxe_json_add_bool(map, "b", true);
	out = xpxe_json_emit(doc);
	fy_document_destroy(doc);
	return out;
}

static void test_strings_stay_strings(void **state)
{
	char *out = emit_one("name", "123", 42);

	(void)state;
	/* A string that looks like a number must not turn into one. */
	assert_string_equal(out, "{\"name\": \"123\", \"n\": 42, \"b\": true}");
	free(out);
}

static void test_quotes_and_controls_escaped(void **state)
{
	char *out = emit_one("s", "a\"b\\c\n", 0);
	struct fy_document *back;

	(void)state;
	back = xpxe_json_parse(out, strlen(out));
	assert_non_null(back);
	assert_string_equal(xpxe_json_str(fy_document_root(back), "/s"), "a\"b\\c\n");
	fy_document_destroy(back);
	free(out);
}

static void test_request_fields(void **state)
{
	const char *req = "{\"cmd\":\"detach\",\"iface\":\"xpxe-s0\",\"n\":\"7\"}";
	struct fy_document *doc = xpxe_json_parse(req, strlen(req));
	struct fy_node *root;

	(void)state;
	assert_non_null(doc);
	root = fy_document_root(doc);
	assert_string_equal(xpxe_json_str(root, "/cmd"), "detach");
	assert_string_equal(xpxe_json_str(root, "/iface"), "xpxe-s0");
	assert_null(xpxe_json_str(root, "/missing"));
	assert_int_equal(xpxe_json_u64(root, "/n", 99), 7);
	assert_int_equal(xpxe_json_u64(root, "/cmd", 99), 99); /* not a number: fallback */
	fy_document_destroy(doc);
}

static void test_broken_requests_rejected(void **state)
{
	static const char *const bad[] = { "{\"cmd\":", "{cmd: status}", "", "\x01\x02" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fy_document *doc = xpxe_json_parse(bad[i], strlen(bad[i]));
		struct fy_node *root = doc ? fy_document_root(doc) : NULL;

		/* Either no document, or one without a usable "cmd". */
		assert_true(!doc || !root || !xpxe_json_str(root, "/cmd"));
		fy_document_destroy(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_stay_strings),
		cmocka_unit_test(test_quotes_and_controls_escaped),
		cmocka_unit_test(test_request_fields),
		cmocka_unit_test(test_broken_requests_rejected),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
