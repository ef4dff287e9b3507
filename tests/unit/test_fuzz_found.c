// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the libFuzzer harnesses (tests/fuzz/) found, as plain unit tests: each
 * input that crashed, leaked or hung a parser, with what it must give now.
 * The inputs themselves stay in tests/fuzz/corpus/ too, where make fuzz
 * replays them under ASan and UBSan.
 */
#include <errno.h>
#include <signal.h>
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
#include "json.h"
#include "http/http.h"

/*
 * render: a "{{" that names nothing was copied without the room check every
 * other byte gets. A value the client chose (a uuid from its HTTP query, for a
 * machine not in the inventory) could bring the output to the end of the
 * buffer, and a run of '{' then wrote past it.
 */
static void test_render_stray_braces_after_a_long_value(void **state)
{
	char uuid[301], t[8 + 200], want[300 + 200 + 1];
	struct xpxe_vars vars = { .uuid = uuid };
	const char *bad;
	size_t len;
	char *out;
	int line;

	(void)state;
	memset(uuid, 'u', 300);
	uuid[300] = '\0';
	memcpy(t, "{{uuid}}", 8);
	memset(t + 8, '{', 200);
	memcpy(want, uuid, 300);
	memset(want + 300, '{', 200);
	want[500] = '\0';
	assert_int_equal(xpxe_render_template(t, sizeof(t), &vars, &out, &len, &bad, &line), 0);
	assert_int_equal(len, 500);
	assert_string_equal(out, want);
	free(out);
}

/*
 * json: replies were built from double-quoted YAML with escapes, and libfyaml
 * 0.7.12 leaks 512 bytes emitting a scalar that escapes cut into more than
 * eight pieces; they now take the quoting with fewer escapes. Strings must
 * still come back exactly (leading spaces too), and stay strings when they
 * look like numbers.
 */
static void test_json_strings_come_back_as_they_went(void **state)
{
	static const char *const values[] = {
		"a\"b\"c\"d\"e\"f\\g\\h\\i\\j",
		"\x01\x02\x03\x04\x05\x06\x7f\x7f tab\tnl\n",
		"detaEEEQ\x7fqqqq\x7fqqqq\x7fqq\x7fqq\x7f",
		"123",
		"true",
		"null",
		"-1.5e3",
		"",
		" lead: [x] #c ",
		" oq55",
		"it's a'b'c'd'e'f",
		"q\"q\"q\"q\"q\\q\\q",
		"q\"q\"q\"q\"q\"q\\q\\q\\=0bc''q",
		"q\"\"\"''q",
		"\xc3\xa9\xf0\x9f\x98\x80",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct fy_document *doc = fy_document_create(NULL), *back;
		struct fy_node *map = fy_node_create_mapping(doc);
		char *text;

		fy_document_set_root(doc, map);
		xpxe_json_add_str(map, "v", values[i]);
		text = xpxe_json_emit(doc);
		assert_non_null(text);
		assert_null(strchr(text, '\n'));
		back = xpxe_json_parse(text, strlen(text));
		assert_non_null(back);
		assert_string_equal(xpxe_json_str(fy_document_root(back), "/v"), values[i]);
		/* Quoted: "123" is the string, not the number. */
		assert_non_null(strstr(text, "\"v\": \""));
		fy_document_destroy(back);
		free(text);
		fy_document_destroy(doc);
	}
}

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "# xpxe_config_load hung\n");
	_exit(1);
}

/*
 * config: libfyaml 0.7.12 loops forever on a '%' directive followed by bytes
 * that are not UTF-8 (two bytes, "%\x91", hang it). The file is refused first,
 * with where it stops being UTF-8; UTF-8 text still loads.
 */
static void test_config_not_utf8_is_refused_not_hung_on(void **state)
{
	static const struct {
		const char *text;
		const char *expect;
	} cases[] = {
		{ "%\x91", ":1:2: not UTF-8 text (a sequence starting with byte 0x91)" },
		{ "mode: full\n%\xc3", ":2:2: not UTF-8" },
		{ "mode: full\nx: \xff\n", ":2:4: not UTF-8" },
		{ "a: \xc0\x80", ":1:4: not UTF-8" },	      /* overlong NUL */
		{ "a: \xed\xa0\x80", ":1:4: not UTF-8" },     /* a surrogate */
		{ "a: \xf4\x90\x80\x80", ":1:4: not UTF-8" }, /* past U+10FFFF */
		{ "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\nmode: full\n", NULL },
	};
	static struct xpxe_config cfg;
	struct xpxe_config_error err;
	char path[64];

	(void)state;
	signal(SIGALRM, on_alarm);
	snprintf(path, sizeof(path), "/tmp/xpxe-fuzz-found-%d.yaml", (int)getpid());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(path, "wb");
		int ret;

		assert_non_null(f);
		fputs(cases[i].text, f);
		fclose(f);
		alarm(10);
		ret = xpxe_config_load(path, &cfg, &err);
		alarm(0);
		if (!cases[i].expect) {
			assert_int_equal(ret, 0);
			xpxe_config_free(&cfg);
			continue;
		}
		assert_int_equal(ret, -EINVAL);
		if (!strstr(err.text, cases[i].expect))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.text, cases[i].expect);
	}
	unlink(path);
}

/* config: a key with line breaks made a multi-line error; errors are one line. */
static void test_config_error_is_one_line(void **state)
{
	static struct xpxe_config cfg;
	struct xpxe_config_error err;
	char path[64];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/xpxe-fuzz-found-%d.yaml", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"interfaces\": [\"prov0\"], \"htt\n\n\n\np\": 1}\n", f);
	fclose(f);
	assert_int_equal(xpxe_config_load(path, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.text, ": unknown key 'htt"));
	assert_null(strchr(err.text, '\n'));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_stray_braces_after_a_long_value),
		cmocka_unit_test(test_json_strings_come_back_as_they_went),
		cmocka_unit_test(test_config_not_utf8_is_refused_not_hung_on),
		cmocka_unit_test(test_config_error_is_one_line),
	};

	return cmocka_run_group_tests_name("fuzz_found", tests, NULL, NULL);
}
