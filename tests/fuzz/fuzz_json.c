// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: a control-socket request through the daemon's JSON helpers: the
 * parse (as handle_request in serve.c does it, on a NUL-terminated line), the
 * lookups the daemon and the CLI make, and a reply that echoes the request's
 * strings (as "detach" and "mark-installed" do). The reply must be one line of
 * JSON that parses back to the same strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

static const char *const paths[] = {
	"/cmd",	 "/iface", "/machine",	 "/reload",    "/error",
	"/code", "/key",   "/tftp/path", "/dhcp/mode", "/interfaces/0/name"
};

/* The echoed string must come back, unless libfyaml could not make a node of it. */
static void check_echo(struct fy_node *back, const char *path, const char *sent)
{
	const char *got = xpxe_json_str(back, path);

	if (sent && got)
		FUZZ_ASSERT(!strcmp(got, sent));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *out;
	struct fy_document *req, *doc, *back;
	struct fy_node *root, *reply;
	const char *cmd, *iface, *machine;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	req = xpxe_json_parse(text, strlen(text));
	if (!req) {
		free(text);
		return 0;
	}
	root = fy_document_root(req);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		xpxe_json_str(root, paths[i]);
		xpxe_json_u64(root, paths[i], 7);
	}
	cmd = xpxe_json_str(root, "/cmd");
	iface = xpxe_json_str(root, "/iface");
	machine = xpxe_json_str(root, "/machine");

	doc = fy_document_create(NULL);
	FUZZ_ASSERT(doc);
	reply = fy_node_create_mapping(doc);
	fy_document_set_root(doc, reply);
	if (cmd)
		xpxe_json_add_str(reply, "cmd", cmd);
	if (iface)
		xpxe_json_add_str(reply, "detached", iface);
	if (machine)
		xpxe_json_add_str(reply, "key", machine);
	xpxe_json_add_u64(reply, "pid", xpxe_json_u64(root, "/pid", ~0ull));
	xpxe_json_add_bool(reply, "installed", machine != NULL);
	out = xpxe_json_emit(doc);
	FUZZ_ASSERT(out);
	FUZZ_ASSERT(!strchr(out, '\n'));
	back = xpxe_json_parse(out, strlen(out));
	FUZZ_ASSERT(back);
	check_echo(fy_document_root(back), "/cmd", cmd);
	check_echo(fy_document_root(back), "/detached", iface);
	check_echo(fy_document_root(back), "/key", machine);
	fy_document_destroy(back);
	free(out);
	fy_document_destroy(doc);
	fy_document_destroy(req);
	free(text);
	return 0;
}
