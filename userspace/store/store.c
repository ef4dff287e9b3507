// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The store seam: the files backend (nothing shared; the callers' own files are the
 * truth) or etcd (store/etcd.c). Parsing of `store:` and `--store`, status and metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfyaml.h>

#include "json.h"
#include "log.h"
#include "store/internal.h"

const double store_bucket_le[STORE_BUCKETS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
						0.025,	0.05,  0.1,    0.5,   2.5 };

void store_stats_count(struct store_stats *st, double seconds, bool err)
{
	int b = 0;

	st->requests++;
	st->errors += err;
	st->seconds_sum += seconds;
	while (b < STORE_BUCKETS && seconds > store_bucket_le[b])
		b++;
	st->bucket[b]++;
}

void xpxe_store_cfg_default(struct xpxe_store_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = XPXE_STORE_FILES;
	snprintf(cfg->url, sizeof(cfg->url), "files");
	snprintf(cfg->prefix, sizeof(cfg->prefix), "%s", XPXE_STORE_PREFIX);
	cfg->timeout_ms = XPXE_STORE_TIMEOUT_MS;
}

int xpxe_store_parse_url(struct xpxe_store_cfg *cfg, const char *url, char *why, size_t size)
{
	char list[XPXE_STORE_URL_MAX], *save = NULL, *hostport;

	if (strlen(url) >= sizeof(cfg->url)) {
		snprintf(why, size, "the store's URL is longer than %zu characters",
			 sizeof(cfg->url) - 1);
		return -EINVAL;
	}
	if (!strcmp(url, "files")) {
		cfg->backend = XPXE_STORE_FILES;
		cfg->n_endpoints = 0;
		snprintf(cfg->url, sizeof(cfg->url), "files");
		return 0;
	}
	if (strncmp(url, "etcd://", 7)) {
		snprintf(why, size,
			 "the store is 'files' or etcd://HOST:PORT[,HOST:PORT...], not '%s'", url);
		return -EINVAL;
	}
	snprintf(list, sizeof(list), "%s", url + 7);
	cfg->n_endpoints = 0;
	for (hostport = strtok_r(list, ",", &save); hostport;
	     hostport = strtok_r(NULL, ",", &save)) {
		const char *colon = strrchr(hostport, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;

		if (!colon || colon == hostport || !colon[1] || *end || port < 1 || port > 65535 ||
		    strpbrk(hostport, "/?#@ ")) {
			snprintf(why, size, "store endpoint '%s' is not HOST:PORT", hostport);
			return -EINVAL;
		}
		if (cfg->n_endpoints == XPXE_STORE_MAX_ENDPOINTS) {
			snprintf(why, size, "at most %d etcd endpoints", XPXE_STORE_MAX_ENDPOINTS);
			return -EINVAL;
		}
		/* The scheme is settled by xpxe_store_cfg_finish (TLS options or not). */
		snprintf(cfg->endpoints[cfg->n_endpoints++], sizeof(cfg->endpoints[0]), "%.120s",
			 hostport);
	}
	if (!cfg->n_endpoints) {
		snprintf(why, size, "etcd:// names no HOST:PORT");
		return -EINVAL;
	}
	cfg->backend = XPXE_STORE_ETCD;
	snprintf(cfg->url, sizeof(cfg->url), "%s", url);
	return 0;
}

int xpxe_store_cfg_finish(struct xpxe_store_cfg *cfg, char *why, size_t size)
{
	bool tls = cfg->ca[0] || cfg->cert[0];
	size_t plen = strlen(cfg->prefix);

	if (plen < 2 || cfg->prefix[0] != '/' || cfg->prefix[plen - 1] != '/' ||
	    strpbrk(cfg->prefix, " \t\n")) {
		snprintf(why, size, "store.prefix '%s' must start and end with '/' (e.g. /xpxe/)",
			 cfg->prefix);
		return -EINVAL;
	}
	if (!!cfg->cert[0] != !!cfg->key[0]) {
		snprintf(why, size, "store: a client certificate needs its key (cert and key)");
		return -EINVAL;
	}
	if (cfg->timeout_ms < 100 || cfg->timeout_ms > 60000) {
		snprintf(why, size, "store.timeout_ms is 100..60000, not %u", cfg->timeout_ms);
		return -EINVAL;
	}
	for (int i = 0; i < cfg->n_endpoints; i++) {
		char *hp = strstr(cfg->endpoints[i], "://");
		char bare[128];

		snprintf(bare, sizeof(bare), "%s", hp ? hp + 3 : cfg->endpoints[i]);
		snprintf(cfg->endpoints[i], sizeof(cfg->endpoints[i]), "%s://%.118s",
			 tls ? "https" : "http", bare);
	}
	return 0;
}

int xpxe_store_open(struct xpxe_store **out, const struct xpxe_store_cfg *cfg,
		    const char *first_ifname)
{
	struct xpxe_store *s = calloc(1, sizeof(*s));
	char host[64] = "";
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	snprintf(s->ifname, sizeof(s->ifname), "%s", first_ifname ? first_ifname : "");
	if (cfg->name[0]) {
		snprintf(s->name, sizeof(s->name), "%s", cfg->name);
	} else {
		gethostname(host, sizeof(host) - 1);
		snprintf(s->name, sizeof(s->name), "%.40s-%.16s", host[0] ? host : "xpxe",
			 first_ifname ? first_ifname : "");
	}
	if (cfg->backend == XPXE_STORE_ETCD) {
		static bool curl_ready;

		if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT)) {
			free(s);
			log_error("store: libcurl cannot start");
			return -ENOMEM;
		}
		curl_ready = true;
		err = etcd_open(s);
		if (err) {
			log_error("store: cannot start the etcd client: %s", strerror(-err));
			free(s);
			return err;
		}
		log_info("store: etcd at %s (prefix %s), this responder is '%s'", cfg->url,
			 cfg->prefix, s->name);
	}
	*out = s;
	return 0;
}

void xpxe_store_close(struct xpxe_store *s)
{
	if (!s)
		return;
	etcd_close(s->etcd);
	free(s);
}

bool xpxe_store_shared(const struct xpxe_store *s)
{
	return s && s->etcd;
}

bool xpxe_store_up(const struct xpxe_store *s)
{
	return !s || !s->etcd || etcd_up(s->etcd);
}

const char *xpxe_store_name(const struct xpxe_store *s)
{
	return s ? s->name : "";
}

int xpxe_store_fd(const struct xpxe_store *s)
{
	return s && s->etcd ? etcd_fd(s->etcd) : -1;
}

void xpxe_store_take(struct xpxe_store *s, struct xpxe_store_changes *out)
{
	memset(out, 0, sizeof(*out));
	if (s && s->etcd)
		etcd_take(s->etcd, out);
}

void xpxe_store_changes_free(struct xpxe_store_changes *c)
{
	for (int i = 0; i < c->n_machines; i++)
		free(c->machines[i].json);
	free(c->machines);
	free(c->marks);
	free(c->leases);
	memset(c, 0, sizeof(*c));
}

int xpxe_store_put_machine(struct xpxe_store *s, const char *key, const char *json)
{
	return s && s->etcd ? etcd_put_machine(s->etcd, key, json) : 0;
}

int xpxe_store_delete_machine(struct xpxe_store *s, const char *key)
{
	return s && s->etcd ? etcd_delete_machine(s->etcd, key) : 0;
}

void xpxe_store_mark(struct xpxe_store *s, const char *key, bool installed, time_t when)
{
	if (s && s->etcd)
		etcd_mark(s->etcd, key, installed, when);
}

void xpxe_store_leases(struct xpxe_store *s, struct xpxe_store_lease_req *reqs, int n,
		       unsigned hold_ttl)
{
	if (s && s->etcd) {
		etcd_leases(s->etcd, reqs, n, hold_ttl);
		return;
	}
	for (int i = 0; i < n; i++)
		reqs[i].err = 0;
}

bool xpxe_store_responder_alive(struct xpxe_store *s, const char *name)
{
	if (s && s->etcd)
		return etcd_responder_alive(s->etcd, name);
	return !name[0] || (s && !strcmp(name, s->name));
}

void xpxe_store_status(struct xpxe_store *s, struct fy_document *doc, struct fy_node *node)
{
	xpxe_json_add_str(node, "backend", s && s->etcd ? "etcd" : "files");
	xpxe_json_add_str(node, "url", s ? s->cfg.url : "files");
	xpxe_json_add_str(node, "name", xpxe_store_name(s));
	if (s && s->etcd) {
		xpxe_json_add_str(node, "prefix", s->cfg.prefix);
		xpxe_json_add_bool(node, "tls", s->cfg.ca[0] || s->cfg.cert[0]);
		etcd_status(s->etcd, doc, node);
	} else {
		xpxe_json_add_bool(node, "up", true);
		xpxe_json_add_str(node, "health", "ok");
	}
}

void xpxe_store_metrics(struct xpxe_store *s, void *file)
{
	FILE *f = file;

	if (s && s->etcd) {
		etcd_metrics(s->etcd, f);
		return;
	}
	fprintf(f, "# HELP xpxe_store_up Whether the store answers (1) or not (0)\n"
		   "# TYPE xpxe_store_up gauge\nxpxe_store_up{backend=\"files\"} 1\n");
}
