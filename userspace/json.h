/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_JSON_H
#define XPXE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <libfyaml.h>

/*
 * Thin helpers over libfyaml for the control socket's JSON: building
 * replies with typed values, parsing requests, emitting one line.
 */

struct fy_document *xpxe_json_parse(const char *text, size_t len);

/* Adds KEY: VALUE to the mapping MAP; strings are always quoted, numbers never. */
void xpxe_json_add_str(struct fy_node *map, const char *key, const char *value);
void xpxe_json_add_u64(struct fy_node *map, const char *key, unsigned long long value);
void xpxe_json_add_bool(struct fy_node *map, const char *key, bool value);
void xpxe_json_add_node(struct fy_node *map, const char *key, struct fy_node *value);

/* The scalar at PATH below NODE (e.g. "/iface"), or NULL. */
const char *xpxe_json_str(struct fy_node *node, const char *path);

/* The unsigned number at PATH, or FALLBACK when absent or not a number. */
unsigned long long xpxe_json_u64(struct fy_node *node, const char *path,
				 unsigned long long fallback);

struct xpxe_event;

/* An event as the control socket sends it (xpxe trace, xpxe machines show). */
struct fy_node *xpxe_json_event(struct fy_document *doc, const struct xpxe_event *e);

/* One line of JSON without the trailing newline; free() it. */
char *xpxe_json_emit(struct fy_document *doc);

#endif /* XPXE_JSON_H */
