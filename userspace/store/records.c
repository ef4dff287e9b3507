// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The values xpxe keeps under its prefix, each a JSON object with "xpxe": KIND and "v": 1.
 * Decoding refuses, with a reason for the log, anything else: a value that is not JSON,
 * one of another program or version, a field of the wrong type, a key that names another
 * machine or address than its value. Nothing refused is ever applied.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfyaml.h>

#include "dhcp_settings.h"
#include "json.h"
#include "store/internal.h"

#define REC_VERSION "1"

enum rec_kind rec_kind_of(const char *rel, char *name, size_t size)
{
	static const struct {
		const char *dir;
		enum rec_kind kind;
	} dirs[] = {
		{ "machines/", REC_MACHINE },	  { "installed/", REC_MARK },
		{ "leases/ip/", REC_LEASE_IP },	  { "leases/mac/", REC_LEASE_MAC },
		{ "responders/", REC_RESPONDER },
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		size_t len = strlen(dirs[i].dir);

		if (!strncmp(rel, dirs[i].dir, len) && rel[len] && !strchr(rel + len, '/') &&
		    strlen(rel + len) < size) {
			snprintf(name, size, "%s", rel + len);
			return dirs[i].kind;
		}
	}
	snprintf(name, size, "%s", "");
	return REC_FOREIGN;
}

/* The value as a document whose root is a mapping with "xpxe": KIND and "v": 1. */
static struct fy_document *open_value(const char *value, const char *kind, char *why, size_t size)
{
	struct fy_document *doc;
	struct fy_node *root;
	const char *k, *v;

	if (!value || !*value) {
		snprintf(why, size, "empty value");
		return NULL;
	}
	doc = xpxe_json_parse(value, strlen(value));
	root = doc ? fy_document_root(doc) : NULL;
	if (!root || !fy_node_is_mapping(root)) {
		snprintf(why, size, "not a JSON object");
		fy_document_destroy(doc);
		return NULL;
	}
	k = xpxe_json_str(root, "/xpxe");
	v = xpxe_json_str(root, "/v");
	if (!k || strcmp(k, kind)) {
		snprintf(why, size, "not an xpxe %s record (\"xpxe\": %s%s%s)", kind, k ? "\"" : "",
			 k ? k : "missing", k ? "\"" : "");
		fy_document_destroy(doc);
		return NULL;
	}
	if (!v || strcmp(v, REC_VERSION)) {
		snprintf(why, size, "record version %s, this xpxe reads version %s",
			 v ? v : "missing", REC_VERSION);
		fy_document_destroy(doc);
		return NULL;
	}
	return doc;
}

static bool number(struct fy_node *root, const char *path, long long *out)
{
	const char *text = xpxe_json_str(root, path);
	char *end;

	if (!text || !*text)
		return false;
	*out = strtoll(text, &end, 10);
	return !*end && *out >= 0;
}

static void copy_by(struct fy_node *root, char *by, size_t size)
{
	const char *text = xpxe_json_str(root, "/by");

	snprintf(by, size, "%s", text ? text : "");
}

/* "mac:..." from the first MAC, else "uuid:...", ... as xpxe_inventory_key makes it. */
int rec_machine_key(struct fy_node *m, char *key, size_t size)
{
	struct fy_node *mac = fy_node_by_path(m, "/mac", FY_NT, FYNWF_DONT_FOLLOW);
	const char *first = NULL;
	char norm[18];
	unsigned char a[6];

	if (mac && fy_node_is_sequence(mac)) {
		void *iter = NULL;
		struct fy_node *item = fy_node_sequence_iterate(mac, &iter);

		first = item && fy_node_is_scalar(item) ? fy_node_get_scalar0(item) : NULL;
	} else if (mac && fy_node_is_scalar(mac)) {
		first = fy_node_get_scalar0(mac);
	}
	if (first) {
		if (xpxe_parse_mac(first, a))
			return -EINVAL;
		snprintf(norm, sizeof(norm), "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2],
			 a[3], a[4], a[5]);
		snprintf(key, size, "mac:%s", norm);
	} else if (xpxe_json_str(m, "/uuid")) {
		snprintf(key, size, "uuid:%s", xpxe_json_str(m, "/uuid"));
	} else if (xpxe_json_str(m, "/serial")) {
		snprintf(key, size, "serial:%s", xpxe_json_str(m, "/serial"));
	} else if (xpxe_json_str(m, "/hostname")) {
		snprintf(key, size, "hostname:%s", xpxe_json_str(m, "/hostname"));
	} else {
		return -EINVAL;
	}
	return 0;
}

char *rec_machine_value(const char *json)
{
	size_t len = strlen(json) + 64;
	char *out = malloc(len);

	if (out)
		snprintf(out, len, "{\"xpxe\":\"machine\",\"v\":" REC_VERSION ",\"machine\":%s}",
			 json);
	return out;
}

int rec_machine_parse(const char *name, const char *value, struct xpxe_store_machine *out,
		      char *why, size_t size)
{
	struct fy_document *doc = open_value(value, "machine", why, size), *one;
	struct fy_node *m;
	char key[XPXE_STORE_KEY_MAX];

	memset(out, 0, sizeof(*out));
	if (!doc)
		return -EINVAL;
	m = fy_node_by_path(fy_document_root(doc), "/machine", FY_NT, FYNWF_DONT_FOLLOW);
	if (!m || !fy_node_is_mapping(m)) {
		snprintf(why, size, "\"machine\" is not an object");
		fy_document_destroy(doc);
		return -EINVAL;
	}
	if (rec_machine_key(m, key, sizeof(key)) || strcmp(key, name)) {
		snprintf(why, size, "the key names machine %s, the value %s", name,
			 rec_machine_key(m, key, sizeof(key)) ? "no machine (no valid selector)"
							      : key);
		fy_document_destroy(doc);
		return -EINVAL;
	}
	/* The machine alone, as one line of JSON: the daemon parses it as the config's own. */
	one = fy_document_create(NULL);
	fy_document_set_root(one, fy_node_copy(one, m));
	out->json = xpxe_json_emit(one);
	fy_document_destroy(one);
	fy_document_destroy(doc);
	snprintf(out->key, sizeof(out->key), "%s", name);
	return out->json ? 0 : -ENOMEM;
}

char *rec_mark_value(const struct xpxe_store_mark *m)
{
	char *by = json_quote(m->by), *out = NULL;

	if (by &&
	    asprintf(&out, "{\"xpxe\":\"installed\",\"v\":" REC_VERSION ",\"when\":%lld,\"by\":%s}",
		     (long long)m->when, by) < 0)
		out = NULL;
	free(by);
	return out;
}

static bool valid_mark_key(const char *key)
{
	static const char *const kinds[] = { "mac:", "uuid:", "serial:", "hostname:" };
	unsigned char mac[6];

	if (!strncmp(key, "mac:", 4))
		return !xpxe_parse_mac(key + 4, mac);
	for (size_t i = 1; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(key, kinds[i], strlen(kinds[i])) && key[strlen(kinds[i])])
			return !strpbrk(key, " \t\n");
	return false;
}

int rec_mark_parse(const char *name, const char *value, struct xpxe_store_mark *out, char *why,
		   size_t size)
{
	struct fy_document *doc;
	long long when;

	memset(out, 0, sizeof(*out));
	if (!valid_mark_key(name)) {
		snprintf(why, size, "'%s' is not a machine's key (mac:, uuid:, serial:, hostname:)",
			 name);
		return -EINVAL;
	}
	doc = open_value(value, "installed", why, size);
	if (!doc)
		return -EINVAL;
	if (!number(fy_document_root(doc), "/when", &when)) {
		snprintf(why, size, "\"when\" is not a time in Unix seconds");
		fy_document_destroy(doc);
		return -EINVAL;
	}
	snprintf(out->key, sizeof(out->key), "%s", name);
	out->when = (time_t)when;
	copy_by(fy_document_root(doc), out->by, sizeof(out->by));
	fy_document_destroy(doc);
	return 0;
}

char *rec_lease_value(const struct xpxe_store_lease *l)
{
	char ip[INET_ADDRSTRLEN], *by = json_quote(l->by), *out = NULL;
	const unsigned char *m = l->mac;

	inet_ntop(AF_INET, &l->ip, ip, sizeof(ip));
	if (by &&
	    asprintf(&out,
		     "{\"xpxe\":\"lease\",\"v\":" REC_VERSION ",\"mac\":\"%02x:%02x:%02x:%02x:"
		     "%02x:%02x\",\"ip\":\"%s\",\"expires\":%lld,\"offered\":%s,\"by\":%s}",
		     m[0], m[1], m[2], m[3], m[4], m[5], ip, (long long)l->expires,
		     l->offered ? "true" : "false", by) < 0)
		out = NULL;
	free(by);
	return out;
}

int rec_lease_parse(enum rec_kind kind, const char *name, const char *value,
		    struct xpxe_store_lease *out, char *why, size_t size)
{
	struct fy_document *doc = open_value(value, "lease", why, size);
	struct fy_node *root;
	const char *mac, *ip, *offered;
	unsigned char key_mac[6];
	struct in_addr key_ip;
	long long expires;

	memset(out, 0, sizeof(*out));
	if (!doc)
		return -EINVAL;
	root = fy_document_root(doc);
	mac = xpxe_json_str(root, "/mac");
	ip = xpxe_json_str(root, "/ip");
	offered = xpxe_json_str(root, "/offered");
	if (!mac || xpxe_parse_mac(mac, out->mac)) {
		snprintf(why, size, "\"mac\" is not aa:bb:cc:dd:ee:ff");
	} else if (!ip || inet_pton(AF_INET, ip, &out->ip) != 1 || !out->ip.s_addr) {
		snprintf(why, size, "\"ip\" is not an IPv4 address");
	} else if (!number(root, "/expires", &expires)) {
		snprintf(why, size, "\"expires\" is not a time in Unix seconds");
	} else if (!offered || (strcmp(offered, "true") && strcmp(offered, "false"))) {
		snprintf(why, size, "\"offered\" is not true or false");
	} else if (kind == REC_LEASE_IP &&
		   (inet_pton(AF_INET, name, &key_ip) != 1 || key_ip.s_addr != out->ip.s_addr)) {
		snprintf(why, size, "the key names address %s, the value %s", name, ip);
	} else if (kind == REC_LEASE_MAC &&
		   (xpxe_parse_mac(name, key_mac) || memcmp(key_mac, out->mac, 6))) {
		snprintf(why, size, "the key names MAC %s, the value %s", name, mac);
	} else {
		out->expires = (time_t)expires;
		out->offered = !strcmp(offered, "true");
		copy_by(root, out->by, sizeof(out->by));
		fy_document_destroy(doc);
		return 0;
	}
	fy_document_destroy(doc);
	return -EINVAL;
}

char *rec_responder_value(const char *name, const char *ifname, time_t started)
{
	char *n = json_quote(name), *i = json_quote(ifname), *out = NULL;

	if (n && i &&
	    asprintf(&out,
		     "{\"xpxe\":\"responder\",\"v\":" REC_VERSION
		     ",\"name\":%s,\"interface\":%s,\"started\":%lld,\"pid\":%d}",
		     n, i, (long long)started, (int)getpid()) < 0)
		out = NULL;
	free(n);
	free(i);
	return out;
}

int rec_responder_parse(const char *name, const char *value, char *why, size_t size)
{
	struct fy_document *doc = open_value(value, "responder", why, size);
	const char *n;

	if (!doc)
		return -EINVAL;
	n = xpxe_json_str(fy_document_root(doc), "/name");
	if (!n || strcmp(n, name)) {
		snprintf(why, size, "the key names responder %s, the value %s", name,
			 n ? n : "none");
		fy_document_destroy(doc);
		return -EINVAL;
	}
	fy_document_destroy(doc);
	return 0;
}
