// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "json.h"

static void discard_diag(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag, (void)user, (void)buf, (void)len;
}

struct fy_document *xpxe_json_parse(const char *text, size_t len)
{
	/* Diagnostics go nowhere: a bad request is answered with an error, not logged twice. */
	struct fy_diag_cfg diag_cfg;
	struct fy_parse_cfg cfg = { .flags = FYPCF_JSON_FORCE | FYPCF_QUIET };
	struct fy_document *doc;

	fy_diag_cfg_default(&diag_cfg);
	diag_cfg.fp = NULL;
	diag_cfg.output_fn = discard_diag;
	diag_cfg.level = FYET_ERROR;
	cfg.diag = fy_diag_create(&diag_cfg);
	doc = fy_document_build_from_string(&cfg, text, len);
	fy_diag_unref(cfg.diag);
	return doc;
}

static struct fy_node *key_node(struct fy_node *map, const char *key)
{
	return fy_node_create_scalar_copy(fy_node_document(map), key, strlen(key));
}

void xpxe_json_add_node(struct fy_node *map, const char *key, struct fy_node *value)
{
	fy_node_mapping_append(map, key_node(map, key), value);
}

/*
 * A string node in a quoted style: without the quotes a string such as "123"
 * or "true" would come out of the JSON emitter as a number or a bool.
 * libfyaml 0.7 has no setter for a node's style, so the node is parsed from
 * its own quoted YAML form. Double-quoted, '"', '\' and control characters
 * are escaped; but libfyaml 0.7.12 leaks 512 bytes emitting a scalar that its
 * escapes cut into more than eight pieces (fy_atom_is_number returns without
 * freeing its iterator; found by tests/fuzz/fuzz_json.c). A string with '"' or
 * '\' and neither a "'" nor a control character is therefore single-quoted,
 * which needs no escape at all (escaped quotes, '', next to other quotes, come
 * out of its emitter wrong: the same fuzzer). Only a string that mixes both
 * quotes or carries control characters can still leak, and no reply does.
 */
static struct fy_node *quoted_scalar(struct fy_document *doc, const char *value)
{
	size_t len = strlen(value), pos = 0;
	char *text = malloc(len * 4 + 3);
	bool single = strpbrk(value, "\"\\") != NULL; /* when it spares escapes, */
	struct fy_node *node;

	if (!text)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)value; *p && single; p++)
		single = *p != '\'' && *p >= 0x20 && *p != 0x7f; /* and needs none itself */
	if (single) {
		text[pos++] = '\'';
		memcpy(text + pos, value, len);
		pos += len;
		text[pos++] = '\'';
	} else {
		text[pos++] = '"';
		for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
			if (*p == '"' || *p == '\\') {
				text[pos++] = '\\';
				text[pos++] = *p;
			} else if (*p < 0x20 || *p == 0x7f) {
				pos += sprintf(text + pos, "\\x%02x", *p);
			} else {
				text[pos++] = *p;
			}
		}
		text[pos++] = '"';
	}
	/* The node points into TEXT, which the document frees when it is destroyed. */
	node = fy_node_build_from_malloc_string(doc, text, pos);
	if (!node)
		free(text);
	return node;
}

void xpxe_json_add_str(struct fy_node *map, const char *key, const char *value)
{
	xpxe_json_add_node(map, key, quoted_scalar(fy_node_document(map), value));
}

void xpxe_json_add_u64(struct fy_node *map, const char *key, unsigned long long value)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%llu", value);

	xpxe_json_add_node(map, key, fy_node_create_scalar_copy(fy_node_document(map), text, n));
}

void xpxe_json_add_bool(struct fy_node *map, const char *key, bool value)
{
	const char *text = value ? "true" : "false";

	xpxe_json_add_node(map, key,
			   fy_node_create_scalar_copy(fy_node_document(map), text, strlen(text)));
}

const char *xpxe_json_str(struct fy_node *node, const char *path)
{
	struct fy_node *n = fy_node_by_path(node, path, FY_NT, FYNWF_DONT_FOLLOW);

	return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

unsigned long long xpxe_json_u64(struct fy_node *node, const char *path,
				 unsigned long long fallback)
{
	const char *text = xpxe_json_str(node, path);
	char *end;
	unsigned long long v;

	if (!text || !*text)
		return fallback;
	v = strtoull(text, &end, 10);
	return *end ? fallback : v;
}

char *xpxe_json_emit(struct fy_document *doc)
{
	char *text = fy_emit_document_to_string(doc, FYECF_MODE_JSON_ONELINE);
	size_t len;

	if (!text)
		return NULL;
	len = strlen(text);
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	return text;
}

struct fy_node *xpxe_json_event(struct fy_document *doc, const struct xpxe_event *e)
{
	struct fy_node *item = fy_node_create_mapping(doc);
	const char *name = e->type >= 0 && e->type < XPXE_EV_MAX ? xpxe_event_names[e->type] : NULL;

	xpxe_json_add_u64(item, "seq", e->seq);
	xpxe_json_add_u64(item, "time_ms",
			  (unsigned long long)e->when.tv_sec * 1000 + e->when.tv_nsec / 1000000);
	xpxe_json_add_str(item, "event", name ? name : "unknown");
	xpxe_json_add_str(item, "mac", e->mac);
	xpxe_json_add_str(item, "ip", e->ip);
	xpxe_json_add_str(item, "iface", e->iface);
	xpxe_json_add_str(item, "detail", e->detail);
	xpxe_json_add_u64(item, "bytes", e->bytes);
	return item;
}
