// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpxe.yaml: read with libfyaml, walked against the schema below, checked
 * whole. Every error names the file, the line and the column, and says what
 * was expected there (xpxe.yaml(5) documents the keys).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libfyaml.h>

#include "config.h"
#include "netif.h"
#include "xpxe_tftp.h"

struct walker {
	const char *path;
	struct xpxe_config_error *err;
	int failed;
	bool no_marks; /* a control socket request: its line and column mean nothing */
	bool added;    /* the state folder's machines file */
	bool profile_defined[XPXE_DHCP_MAX_PROFILES];
};

/*
 * Where node N starts. libfyaml marks scalars only: a mapping is where its first key is,
 * a sequence where its first item is (0, 0 for an empty one: the caller names its key).
 */
static void mark_of(struct fy_node *n, int *line, int *col)
{
	struct fy_token *t = NULL;
	const struct fy_mark *m;
	void *iter = NULL;

	while (n && !fy_node_is_scalar(n)) {
		if (fy_node_is_mapping(n)) {
			struct fy_node_pair *first = fy_node_mapping_iterate(n, &iter);

			n = first ? fy_node_pair_key(first) : NULL;
		} else {
			n = fy_node_sequence_iterate(n, &iter);
		}
		iter = NULL;
	}
	t = n ? fy_node_get_scalar_token(n) : NULL;
	m = t ? fy_token_start_mark(t) : NULL;
	*line = m ? m->line + 1 : 0;
	*col = m ? m->column + 1 : 0;
}

static struct xpxe_cfg_mark mark(const struct walker *w, struct fy_node *n)
{
	struct xpxe_cfg_mark at = { 0, 0 };

	if (!w->no_marks)
		mark_of(n, &at.line, &at.col);
	return at;
}

/* Errors are one line (a log line, a line on stderr), whatever a key or value in the file holds. */
static void one_line(char *text)
{
	for (char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

/* Records the first error only: later ones are often its consequences. */
static int fail(struct walker *w, struct fy_node *at, const char *fmt, ...)
{
	char what[384];
	va_list ap;
	int line, col;

	if (w->failed++)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	one_line(what);
	mark_of(w->no_marks ? NULL : at, &line, &col);
	if (line)
		snprintf(w->err->text, sizeof(w->err->text), "%s:%d:%d: %s", w->path, line, col,
			 what);
	else
		snprintf(w->err->text, sizeof(w->err->text), "%s: %s", w->path, what);
	return -EINVAL;
}

static const char *scalar(struct walker *w, struct fy_node *key, struct fy_node *v,
			  const char *what)
{
	if (!v || !fy_node_is_scalar(v)) {
		fail(w, key, "'%s' takes %s", fy_node_get_scalar0(key), what);
		return NULL;
	}
	return fy_node_get_scalar0(v);
}

static int copy_str(struct walker *w, struct fy_node *key, struct fy_node *v, char *dst,
		    size_t size, const char *what)
{
	const char *s = scalar(w, key, v, what);

	if (!s)
		return -EINVAL;
	if (strlen(s) >= size)
		return fail(w, v, "'%s' is longer than %zu bytes", fy_node_get_scalar0(key),
			    size - 1);
	snprintf(dst, size, "%s", s);
	return 0;
}

static int get_ip(struct walker *w, struct fy_node *key, struct fy_node *v, struct in_addr *ip)
{
	const char *s = scalar(w, key, v, "an IPv4 address");

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, ip) != 1)
		return fail(w, v, "'%s' is not an IPv4 address", s);
	return 0;
}

int xpxe_parse_net(const char *s, struct xpxe_net_cfg *net)
{
	char addr[32], *end;
	const char *slash = strchr(s, '/');
	unsigned long bits = 32;

	if (strlen(s) >= sizeof(addr))
		return -EINVAL;
	snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	if (slash) {
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > 32 || !slash[1] || slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
	}
	if (inet_pton(AF_INET, addr, &net->addr) != 1)
		return -EINVAL;
	net->mask.s_addr = bits ? htonl(0xffffffffu << (32 - bits)) : 0;
	net->addr.s_addr &= net->mask.s_addr;
	return 0;
}

int xpxe_parse_listen(const char *s, struct sockaddr_in *addr)
{
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN], *end;
	unsigned long port;

	if (!colon || colon - s >= (long)sizeof(host))
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || colon[1] < '0' || colon[1] > '9' || !port || port > 65535)
		return -EINVAL;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -EINVAL;
}

static int get_net(struct walker *w, struct fy_node *v, struct xpxe_net_cfg *net)
{
	const char *s = fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;

	if (!s)
		return fail(w, v, "expected a network such as 198.18.0.0/15");
	if (xpxe_parse_net(s, net))
		return fail(w, v, "'%s' is not an IPv4 network (ADDR or ADDR/BITS, BITS 0..32)", s);
	return 0;
}

/* A list of networks into NETS (at most XPXE_CFG_MAX_ALLOW), replacing what it held. */
static int get_nets(struct walker *w, struct fy_node *key, struct fy_node *v,
		    struct xpxe_net_cfg *nets, int *n)
{
	struct fy_node *item;
	void *iter = NULL;

	if (!fy_node_is_sequence(v))
		return fail(w, key, "'%s' takes a list of networks", fy_node_get_scalar0(key));
	*n = 0;
	while ((item = fy_node_sequence_iterate(v, &iter))) {
		if (*n == XPXE_CFG_MAX_ALLOW)
			return fail(w, item, "at most %d networks in '%s'", XPXE_CFG_MAX_ALLOW,
				    fy_node_get_scalar0(key));
		if (get_net(w, item, &nets[(*n)++]))
			return -EINVAL;
	}
	return 0;
}

static int get_uint(struct walker *w, struct fy_node *key, struct fy_node *v, unsigned int min,
		    unsigned int max, unsigned int *out)
{
	const char *s = scalar(w, key, v, "a number");
	char *end;
	unsigned long n;

	if (!s)
		return -EINVAL;
	n = strtoul(s, &end, 10);
	if (!*s || *end || n < min || n > max)
		return fail(w, v, "'%s' takes a number from %u to %u, not '%s'",
			    fy_node_get_scalar0(key), min, max, s);
	*out = (unsigned int)n;
	return 0;
}

static int get_strategy(struct walker *w, struct fy_node *key, struct fy_node *v,
			enum xpxe_proxy_strategy *out)
{
	const char *s = scalar(w, key, v, "auto, bypass or 4011");

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "auto"))
		*out = XPXE_STRATEGY_AUTO;
	else if (!strcmp(s, "bypass"))
		*out = XPXE_STRATEGY_BYPASS;
	else if (!strcmp(s, "4011"))
		*out = XPXE_STRATEGY_4011;
	else
		return fail(w, v, "'%s' takes auto, bypass or 4011, not '%s'",
			    fy_node_get_scalar0(key), s);
	return 0;
}

/* Calls FN for each KEY: VALUE of the mapping at NODE (named WHAT in messages). */
typedef int (*pair_fn)(struct walker *w, struct fy_node *key, struct fy_node *value, void *ctx);

static int each_pair(struct walker *w, struct fy_node *at, struct fy_node *node, const char *what,
		     pair_fn fn, void *ctx)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int err;

	if (!node || !fy_node_is_mapping(node))
		return fail(w, at, "%s must be a mapping of key: value", what);
	while ((pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *key = fy_node_pair_key(pair);

		if (!key || !fy_node_is_scalar(key))
			return fail(w, at, "%s: keys must be plain names", what);
		err = fn(w, key, fy_node_pair_value(pair), ctx);
		if (err)
			return err;
	}
	return 0;
}

static bool is(struct fy_node *key, const char *name)
{
	return !strcmp(fy_node_get_scalar0(key), name);
}

static int unknown(struct walker *w, struct fy_node *key, const char *where, const char *known)
{
	return fail(w, key, "unknown key '%s' in %s (expected one of: %s)",
		    fy_node_get_scalar0(key), where, known);
}

/* --- sections ------------------------------------------------------------------- */

/* A profile as xpxe starts it: the default boot files and strategy, nothing to boot yet. */
static void builtin_profile(struct xpxe_profile_cfg *p, const char *name)
{
	struct xpxe_dhcp_settings d;

	xpxe_dhcp_settings_default(&d);
	memset(p, 0, sizeof(*p));
	snprintf(p->name, XPXE_CFG_NAME_MAX, "%s", name);
	p->dhcp = d.profile;
}

/* store: etcd://HOST:PORT,... | files, or a mapping with url, prefix, name, ca, cert, key. */
static int store_url(struct walker *w, struct fy_node *v, struct xpxe_store_cfg *st)
{
	char why[256];

	if (xpxe_store_parse_url(st, fy_node_get_scalar0(v), why, sizeof(why)))
		return fail(w, v, "%s", why);
	return 0;
}

static int store_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_store_cfg *st = ctx;

	if (is(key, "url"))
		return scalar(w, key, v, "files or etcd://HOST:PORT[,HOST:PORT...]")
			   ? store_url(w, v, st)
			   : -EINVAL;
	if (is(key, "prefix"))
		return copy_str(w, key, v, st->prefix, sizeof(st->prefix), "a key prefix");
	if (is(key, "name"))
		return copy_str(w, key, v, st->name, sizeof(st->name), "this responder's name");
	if (is(key, "ca"))
		return copy_str(w, key, v, st->ca, sizeof(st->ca), "a file");
	if (is(key, "cert"))
		return copy_str(w, key, v, st->cert, sizeof(st->cert), "a file");
	if (is(key, "key"))
		return copy_str(w, key, v, st->key, sizeof(st->key), "a file");
	if (is(key, "timeout_ms"))
		return get_uint(w, key, v, 100, 60000, &st->timeout_ms);
	return unknown(w, key, "store", "url, prefix, name, ca, cert, key, timeout_ms");
}

static int parse_store(struct walker *w, struct fy_node *key, struct fy_node *v,
		       struct xpxe_config *cfg)
{
	char why[256];

	if (v && fy_node_is_scalar(v)) {
		if (store_url(w, v, &cfg->store))
			return -EINVAL;
	} else if (each_pair(w, key, v, "store", store_key, &cfg->store)) {
		return -EINVAL;
	}
	if (xpxe_store_cfg_finish(&cfg->store, why, sizeof(why)))
		return fail(w, key, "%s", why);
	return 0;
}

static int http_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_config *cfg = ctx;

	if (is(key, "listen")) {
		cfg->http_listen_at = mark(w, v);
		return copy_str(w, key, v, cfg->http_listen, sizeof(cfg->http_listen), "ADDR:PORT");
	}
	if (is(key, "allow"))
		return get_nets(w, key, v, cfg->allow, &cfg->n_allow);
	if (is(key, "max_connections"))
		return get_uint(w, key, v, 1, 65536, &cfg->http_limits.max_connections);
	if (is(key, "max_per_ip"))
		return get_uint(w, key, v, 1, 65536, &cfg->http_limits.max_per_ip);
	if (is(key, "timeout"))
		return get_uint(w, key, v, 1, 3600, &cfg->http_limits.timeout_s);
	if (is(key, "tls_cert"))
		return copy_str(w, key, v, cfg->tls.cert, sizeof(cfg->tls.cert), "a PEM file");
	if (is(key, "tls_key"))
		return copy_str(w, key, v, cfg->tls.key, sizeof(cfg->tls.key), "a PEM file");
	if (is(key, "tls_listen"))
		return copy_str(w, key, v, cfg->tls.listen, sizeof(cfg->tls.listen), "ADDR:PORT");
	if (is(key, "config_over_http")) {
		const char *s = scalar(w, key, v, "serve or refuse");

		if (!s)
			return -EINVAL;
		if (strcmp(s, "serve") && strcmp(s, "refuse"))
			return fail(w, v, "'config_over_http' takes serve or refuse, not '%s'", s);
		cfg->tls.refuse_plain = !strcmp(s, "refuse");
		return 0;
	}
	if (is(key, "config_without_address")) {
		const char *s = scalar(w, key, v, "refuse or serve");

		if (!s)
			return -EINVAL;
		if (!strcmp(s, "refuse"))
			cfg->config_without_address = XPXE_UNBOUND_REFUSE;
		else if (!strcmp(s, "serve"))
			cfg->config_without_address = XPXE_UNBOUND_SERVE;
		else
			return fail(w, v,
				    "'config_without_address' takes refuse or serve, not '%s'", s);
		return 0;
	}
	return unknown(w, key, "http",
		       "listen, allow, config_without_address, max_connections, max_per_ip, "
		       "timeout, tls_cert, tls_key, tls_listen, config_over_http");
}

int xpxe_tftp_port_range_parse(const char *text, unsigned *low, unsigned *high, char *why,
			       size_t why_len)
{
	unsigned long lo, hi;
	char *end;

	lo = strtoul(text, &end, 10);
	if (end == text || *end != '-' || !end[1] || end[1] == '-' || end[1] == '+') {
		snprintf(why, why_len, "'%s' is no port range: LOW-HIGH, e.g. %u-%u", text,
			 XPXE_TFTP_PORT_LOW_DEFAULT, XPXE_TFTP_PORT_HIGH_DEFAULT);
		return -EINVAL;
	}
	hi = strtoul(end + 1, &end, 10);
	if (*end || *text == '-' || *text == '+') {
		snprintf(why, why_len, "'%s' is no port range: LOW-HIGH, e.g. %u-%u", text,
			 XPXE_TFTP_PORT_LOW_DEFAULT, XPXE_TFTP_PORT_HIGH_DEFAULT);
		return -EINVAL;
	}
	if (lo < 1024 || hi > 65535 || lo > hi) {
		snprintf(why, why_len,
			 "'%s': ports from 1024 to 65535, the low one first (port 69 and the other "
			 "well-known ports are not for transfers)",
			 text);
		return -EINVAL;
	}
	if (hi - lo + 1 > XPXE_TFTP_PORTS_MAX) {
		snprintf(why, why_len, "'%s' holds %lu ports: at most %u (the data plane's table)",
			 text, hi - lo + 1, XPXE_TFTP_PORTS_MAX);
		return -EINVAL;
	}
	*low = (unsigned)lo;
	*high = (unsigned)hi;
	return 0;
}

/* Admission of bulk downloads (admit.h). */
static int downloads_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_downloads_cfg *dl = ctx;
	unsigned kib;

	if (is(key, "max"))
		return get_uint(w, key, v, 0, 4096, &dl->max);
	if (is(key, "max_wait"))
		return get_uint(w, key, v, 0, 3600, &dl->max_wait_s);
	if (is(key, "tftp_max"))
		return get_uint(w, key, v, 0, 4096, &dl->tftp_max);
	if (is(key, "tftp_max_wait"))
		return get_uint(w, key, v, 0, 60, &dl->tftp_max_wait_s);
	if (is(key, "tftp_http_backlog"))
		return get_uint(w, key, v, 0, 65536, &dl->tftp_http_backlog);
	if (is(key, "tftp_pace_ms"))
		return get_uint(w, key, v, 0, XPXE_DOWNLOADS_TFTP_PACE_MS_MAX, &dl->tftp_pace_ms);
	if (is(key, "tftp_port_range")) {
		const char *s = scalar(w, key, v, "a port range, LOW-HIGH");
		char why[160];

		if (!s)
			return -EINVAL;
		if (xpxe_tftp_port_range_parse(s, &dl->tftp_port_low, &dl->tftp_port_high, why,
					       sizeof(why)))
			return fail(w, v, "'tftp_port_range': %s", why);
		return 0;
	}
	if (is(key, "min_size_kib")) {
		if (get_uint(w, key, v, 0, 1 << 22, &kib))
			return -EINVAL;
		dl->min_size = (unsigned long long)kib << 10;
		return 0;
	}
	return unknown(w, key, "downloads",
		       "max, max_wait, min_size_kib, tftp_max, tftp_max_wait, tftp_pace_ms, "
		       "tftp_http_backlog, tftp_port_range");
}

/* The fleet page: off unless listen is set; only to the allow list (default: loopback). */
static int ui_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_ui_cfg *ui = ctx;
	struct sockaddr_in addr;

	if (is(key, "listen")) {
		if (copy_str(w, key, v, ui->listen, sizeof(ui->listen), "ADDR:PORT"))
			return -EINVAL;
		if (xpxe_parse_listen(ui->listen, &addr))
			return fail(w, v, "'listen' takes ADDR:PORT with an IPv4 address, not '%s'",
				    ui->listen);
		return 0;
	}
	if (is(key, "allow")) {
		if (get_nets(w, key, v, ui->allow, &ui->n_allow))
			return -EINVAL;
		if (!ui->n_allow)
			return fail(w, key,
				    "'allow' needs at least one network (0.0.0.0/0 lets everyone "
				    "see the page)");
		return 0;
	}
	if (is(key, "max_connections"))
		return get_uint(w, key, v, 1, 1024, &ui->max_connections);
	return unknown(w, key, "ui", "listen, allow, max_connections");
}

static int parse_pool(struct walker *w, struct fy_node *key, struct fy_node *v,
		      struct xpxe_config *cfg)
{
	struct xpxe_dhcp_settings *d = &cfg->dhcp;
	const char *s = scalar(w, key, v, "FIRST-LAST"), *why;
	char first[32];
	const char *dash;

	if (!s)
		return -EINVAL;
	dash = strchr(s, '-');
	if (!dash || dash - s >= (long)sizeof(first))
		return fail(w, v, "'pool' takes FIRST-LAST, not '%s'", s);
	snprintf(first, sizeof(first), "%.*s", (int)(dash - s), s);
	if (inet_pton(AF_INET, first, &d->pool_first) != 1 ||
	    inet_pton(AF_INET, dash + 1, &d->pool_last) != 1)
		return fail(w, v, "'pool' takes FIRST-LAST (two IPv4 addresses), not '%s'", s);
	why = xpxe_pool_problem(d->pool_first, d->pool_last);
	if (why)
		return fail(w, v, "'pool' %s: %s", s, why);
	cfg->pool_at = mark(w, v);
	return 0;
}

static int dhcp_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_config *cfg = ctx;
	struct xpxe_dhcp_settings *d = &cfg->dhcp;

	if (is(key, "pool"))
		return parse_pool(w, key, v, cfg);
	if (is(key, "pool6")) {
		const char *s = scalar(w, key, v, "FIRST-LAST"), *why;

		if (!s)
			return -EINVAL;
		if (xpxe_pool6_parse(s, &d->pool6_first, &d->pool6_last, &why))
			return fail(w, v, "'pool6' %s: %s", s, why);
		return 0;
	}
	if (is(key, "router"))
		return get_ip(w, key, v, &d->router);
	if (is(key, "dns"))
		return get_ip(w, key, v, &d->dns);
	if (is(key, "lease_time"))
		return get_uint(w, key, v, 60, 0x7fffffff, &d->lease_time);
	if (is(key, "leases"))
		return copy_str(w, key, v, d->leases_path, sizeof(d->leases_path), "a file");
	if (is(key, "offer_hold"))
		return get_uint(w, key, v, 1, 3600, &d->offer_hold);
	if (is(key, "mac_rate") || is(key, "global_rate") || is(key, "relay_rate")) {
		const char *s = scalar(w, key, v, "RATE[/BURST]");
		bool mac = is(key, "mac_rate"), relay = is(key, "relay_rate");

		if (!s)
			return -EINVAL;
		if (xpxe_parse_rate(s,
				    relay ? &d->relay_rate
				    : mac ? &d->mac_rate
					  : &d->global_rate,
				    relay ? &d->relay_burst
				    : mac ? &d->mac_burst
					  : &d->global_burst))
			return fail(w, v,
				    "'%s' takes RATE[/BURST] (frames per second, 0: no limit), "
				    "not '%s'",
				    fy_node_get_scalar0(key), s);
		return 0;
	}
	if (is(key, "unknown")) {
		const char *s = scalar(w, key, v, "answer or ignore");

		if (!s)
			return -EINVAL;
		if (strcmp(s, "answer") && strcmp(s, "ignore"))
			return fail(w, v, "'unknown' takes answer or ignore, not '%s'", s);
		d->answer_unknown = !strcmp(s, "answer");
		return 0;
	}
	if (is(key, "router_advert")) {
		const char *s = scalar(w, key, v, "auto, on or off");

		if (!s)
			return -EINVAL;
		if (!strcmp(s, "auto"))
			d->router_advert = XPXE_RA_AUTO;
		else if (!strcmp(s, "on"))
			d->router_advert = XPXE_RA_ON;
		else if (!strcmp(s, "off"))
			d->router_advert = XPXE_RA_OFF;
		else
			return fail(w, v, "'router_advert' takes auto, on or off, not '%s'", s);
		return 0;
	}
	if (is(key, "local_server")) {
		const char *s = scalar(w, key, v, "auto, yes or no");

		if (!s)
			return -EINVAL;
		if (!strcmp(s, "auto"))
			d->local_server = XPXE_LOCAL_SERVER_AUTO;
		else if (!strcmp(s, "yes"))
			d->local_server = XPXE_LOCAL_SERVER_YES;
		else if (!strcmp(s, "no"))
			d->local_server = XPXE_LOCAL_SERVER_NO;
		else
			return fail(w, v, "'local_server' takes auto, yes or no, not '%s'", s);
		return 0;
	}
	return unknown(w, key, "dhcp",
		       "pool, pool6, router, dns, lease_time, leases, unknown, offer_hold, "
		       "mac_rate, global_rate, relay_rate, router_advert, local_server");
}

/* vlans: {IFACE: [VID=ADDR/PREFIX, ...]}: the VLANs of a trunk (one trunk for now). */
static int vlan_iface_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_config *cfg = ctx;
	struct xpxe_dhcp_settings *d = &cfg->dhcp;
	const char *ifname = fy_node_get_scalar0(key), *why;
	struct fy_node *item;
	void *iter = NULL;
	bool listed = false;
	int at;

	if (d->vlan_ifname[0])
		return fail(w, key, "VLANs on one interface only for now (%s has them)",
			    d->vlan_ifname);
	for (int i = 0; i < cfg->n_interfaces; i++)
		listed |= !strcmp(cfg->interfaces[i], ifname);
	if (!listed)
		return fail(w, key, "VLANs on '%s', which 'interfaces' (above) does not list",
			    ifname);
	if (!fy_node_is_sequence(v))
		return fail(w, key,
			    "'%s' takes a list of VLANs, such as [10=198.18.10.1/24, "
			    "20=198.18.20.1/24]",
			    ifname);
	snprintf(d->vlan_ifname, sizeof(d->vlan_ifname), "%s", ifname);
	while ((item = fy_node_sequence_iterate(v, &iter))) {
		const char *s = fy_node_is_scalar(item) ? fy_node_get_scalar0(item) : NULL;

		if (!s)
			return fail(w, item, "a VLAN is " XPXE_VLAN_SPELLING ", not %s",
				    fy_node_is_mapping(item) ? "a mapping" : "a list");
		if (d->n_vlans == XPXE_VLAN_MAX)
			return fail(w, item, "at most %d VLANs", XPXE_VLAN_MAX);
		if (xpxe_vlan_parse(s, &d->vlans[d->n_vlans], &why))
			return fail(w, item, "VLAN '%s': %s", s, why);
		d->n_vlans++;
		if (xpxe_vlans_check(d->vlans, d->n_vlans, d->server_ip, &why, &at))
			return fail(w, item, "VLAN '%s': %s", s, why);
	}
	return 0;
}

static int asset_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_config *cfg = ctx;
	struct xpxe_asset_cfg *a;

	if (cfg->n_assets == XPXE_CFG_MAX_ASSETS)
		return fail(w, key, "at most %d assets", XPXE_CFG_MAX_ASSETS);
	if (xpxe_config_asset(cfg, fy_node_get_scalar0(key)))
		return fail(w, key, "asset '%s' is defined twice", fy_node_get_scalar0(key));
	a = &cfg->assets[cfg->n_assets];
	if (strlen(fy_node_get_scalar0(key)) >= sizeof(a->name) ||
	    strchr(fy_node_get_scalar0(key), '/'))
		return fail(w, key, "asset names are at most %zu bytes, without '/'",
			    sizeof(a->name) - 1);
	snprintf(a->name, sizeof(a->name), "%s", fy_node_get_scalar0(key));
	if (copy_str(w, key, v, a->path, sizeof(a->path), "a file path"))
		return -EINVAL;
	a->at = mark(w, v);
	cfg->n_assets++;
	return 0;
}

static int boot_file_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_profile_cfg *p = ctx;
	int class = xpxe_boot_class_from_name(fy_node_get_scalar0(key));

	if (class <= XPXE_BOOT_PLAIN || class == XPXE_BOOT_UNKNOWN_ARCH)
		return fail(w, key,
			    "unknown client class '%s' (expected bios, uefi-ia32, uefi-x64, "
			    "uefi-arm32, uefi-arm64, http-ia32, http-x64, http-arm32, http-arm64, "
			    "uboot-arm64, rpi, ipxe)",
			    fy_node_get_scalar0(key));
	p->boot_file_set[class] = true;
	return copy_str(w, key, v, p->dhcp.boot_file[class], XPXE_BOOT_FILE_MAX,
			"a file name or URL");
}

static int profile_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_profile_cfg *p = ctx;

	if (is(key, "kernel")) {
		p->kernel_at = mark(w, v);
		return copy_str(w, key, v, p->kernel, sizeof(p->kernel), "an asset name");
	}
	if (is(key, "initrd")) {
		p->initrd_at = mark(w, v);
		return copy_str(w, key, v, p->initrd, sizeof(p->initrd), "an asset name");
	}
	if (is(key, "kernel_arm64")) {
		p->kernel_arm64_at = mark(w, v);
		return copy_str(w, key, v, p->kernel_arm64, sizeof(p->kernel_arm64),
				"an asset name");
	}
	if (is(key, "initrd_arm64")) {
		p->initrd_arm64_at = mark(w, v);
		return copy_str(w, key, v, p->initrd_arm64, sizeof(p->initrd_arm64),
				"an asset name");
	}
	if (is(key, "cmdline"))
		return copy_str(w, key, v, p->cmdline, sizeof(p->cmdline), "kernel arguments");
	if (is(key, "talos_config")) {
		p->talos_config_at = mark(w, v);
		return copy_str(w, key, v, p->talos_config, sizeof(p->talos_config),
				"a file or folder");
	}
	if (is(key, "strategy"))
		return get_strategy(w, key, v, &p->dhcp.strategy);
	if (is(key, "uki"))
		return copy_str(w, key, v, p->uki, sizeof(p->uki), "an asset name");
	if (is(key, "uki_arm64"))
		return copy_str(w, key, v, p->uki_arm64, sizeof(p->uki_arm64), "an asset name");
	if (is(key, "transport")) {
		const char *s = scalar(w, key, v, "http, tftp, uki or grub");

		if (!s)
			return -EINVAL;
		if (xpxe_transport_parse(s, &p->transport))
			return fail(w, v, "'transport' takes http, tftp, uki or grub, not '%s'", s);
		return 0;
	}
	if (is(key, "boot_files"))
		return each_pair(w, key, v, "boot_files", boot_file_key, p);
	return unknown(w, key, "a profile",
		       "kernel, initrd, kernel_arm64, initrd_arm64, uki, uki_arm64, cmdline, "
		       "transport, strategy, talos_config, boot_files");
}

static int profiles_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_config *cfg = ctx;
	const char *name = fy_node_get_scalar0(key);
	struct xpxe_profile_cfg *p;
	int idx = xpxe_config_profile(cfg, name);

	/* "default" exists from the start; a file may define it, once, like any other. */
	if (idx >= 0 && w->profile_defined[idx])
		return fail(w, key, "profile '%s' is defined twice", name);
	if (idx < 0) {
		if (cfg->n_profiles == XPXE_DHCP_MAX_PROFILES)
			return fail(w, key, "at most %d profiles", XPXE_DHCP_MAX_PROFILES);
		if (strlen(name) >= XPXE_CFG_NAME_MAX)
			return fail(w, key, "profile names are at most %d bytes",
				    XPXE_CFG_NAME_MAX - 1);
		idx = cfg->n_profiles++;
		/* The built-in profile, never what the file made of "default" so far: a
		 * profile's contents do not depend on where it is written. */
		builtin_profile(&cfg->profiles[idx], name);
	}
	w->profile_defined[idx] = true;
	p = &cfg->profiles[idx];
	return each_pair(w, key, v, "a profile", profile_key, p);
}

/* 8-4-4-4-12 hex digits, any case: the SMBIOS UUID as firmware, iPXE and Talos print it. */
static bool uuid_valid(const char *u)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(u) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '-' ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
			return false;
	return true;
}

/* RFC 1123: labels of letters, digits and '-' (not first or last), 1..63 bytes, dots between. */
static bool hostname_valid(const char *h)
{
	size_t label = 0;

	for (const char *c = h;; c++) {
		if (*c == '.' || !*c) {
			if (!label || c[-1] == '-')
				return false;
			if (!*c)
				return true;
			label = 0;
		} else if (isalnum((unsigned char)*c) || (*c == '-' && label)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
}

struct machine_ctx {
	struct xpxe_machine_cfg *m;
	struct fy_node *profile_node;
};

static int machine_mac(struct walker *w, struct fy_node *v, struct xpxe_machine_cfg *m)
{
	const char *s = fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;

	if (m->n_macs == XPXE_CFG_MAX_MACS)
		return fail(w, v, "at most %d MACs per machine", XPXE_CFG_MAX_MACS);
	if (!s)
		return fail(w, v, "expected a MAC such as " XPXE_MAC_SPELLINGS);
	if (xpxe_parse_mac(s, m->macs[m->n_macs]))
		return fail(w, v, "'%s' is not a MAC: expected a MAC such as " XPXE_MAC_SPELLINGS,
			    s);
	m->n_macs++;
	return 0;
}

static int machine_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct machine_ctx *mc = ctx;
	struct xpxe_machine_cfg *m = mc->m;

	if (is(key, "mac")) {
		struct fy_node *item;
		void *iter = NULL;

		if (!fy_node_is_sequence(v))
			return machine_mac(w, v, m);
		while ((item = fy_node_sequence_iterate(v, &iter)))
			if (machine_mac(w, item, m))
				return -EINVAL;
		return 0;
	}
	if (is(key, "uuid")) {
		if (copy_str(w, key, v, m->uuid, sizeof(m->uuid), "a UUID"))
			return -EINVAL;
		if (!uuid_valid(m->uuid))
			return fail(w, v,
				    "'%s' is not a UUID (32 hex digits as 8-4-4-4-12, such as "
				    "4c4c4544-0042-3510-8051-b4c04f4b4d32)",
				    fy_node_get_scalar0(v));
		for (char *c = m->uuid; *c; c++)
			*c = (*c >= 'A' && *c <= 'F') ? *c - 'A' + 'a' : *c;
		return 0;
	}
	if (is(key, "serial"))
		return copy_str(w, key, v, m->serial, sizeof(m->serial), "a serial number");
	if (is(key, "hostname")) {
		if (copy_str(w, key, v, m->hostname, sizeof(m->hostname), "a host name"))
			return -EINVAL;
		if (!hostname_valid(m->hostname))
			return fail(w, v,
				    "'%s' is not a host name (letters, digits and '-', in labels "
				    "of 1 to 63 separated by '.', no '-' at either end of one)",
				    m->hostname);
		return 0;
	}
	if (is(key, "install_disk"))
		return copy_str(w, key, v, m->install_disk, sizeof(m->install_disk), "a disk");
	if (is(key, "role")) {
		if (copy_str(w, key, v, m->role, sizeof(m->role), "controlplane, init or worker"))
			return -EINVAL;
		if (xpxe_role_rank(m->role) < 0)
			return fail(w, v, "'role' takes controlplane, init or worker, not '%s'",
				    m->role);
		return 0;
	}
	if (is(key, "ip"))
		return get_ip(w, key, v, &m->ip);
	if (is(key, "ip6")) {
		const char *s = scalar(w, key, v, "an IPv6 address");

		if (!s)
			return -EINVAL;
		if (inet_pton(AF_INET6, s, &m->ip6) != 1 || IN6_IS_ADDR_MULTICAST(&m->ip6) ||
		    IN6_IS_ADDR_LINKLOCAL(&m->ip6) || IN6_IS_ADDR_UNSPECIFIED(&m->ip6))
			return fail(w, v, "'ip6' takes a global or ULA IPv6 address, not '%s'", s);
		return 0;
	}
	if (is(key, "talos_config")) {
		m->talos_config_at = mark(w, v);
		return copy_str(w, key, v, m->talos_config, sizeof(m->talos_config), "a file");
	}
	if (is(key, "profile")) {
		mc->profile_node = v;
		return scalar(w, key, v, "a profile name") ? 0 : -EINVAL;
	}
	return unknown(w, key, "a machine",
		       "mac, uuid, serial, hostname, install_disk, ip, ip6, profile, role, "
		       "talos_config");
}

/* One machine of a `machines` list (AT names the list in messages), into M. */
static int machine_from_node(struct walker *w, struct fy_node *at, struct fy_node *item,
			     const struct xpxe_config *cfg, struct xpxe_machine_cfg *m)
{
	struct machine_ctx mc = { .m = m };
	struct fy_node *first;
	int line, col;

	memset(m, 0, sizeof(*m));
	m->added = w->added;
	if (each_pair(w, at, item, "a machine", machine_key, &mc))
		return -EINVAL;
	first = fy_node_pair_key(fy_node_mapping_iterate(item, &(void *){ NULL }));
	mark_of(w->no_marks ? NULL : first, &line, &col);
	m->line = line;
	if (!m->n_macs && !m->uuid[0] && !m->serial[0] && !m->hostname[0])
		return fail(w, first ? first : at,
			    "a machine needs a selector: mac, uuid, serial or hostname");
	if (mc.profile_node) {
		const char *name = fy_node_get_scalar0(mc.profile_node);

		m->profile = xpxe_config_profile(cfg, name);
		if (m->profile < 0)
			return fail(w, mc.profile_node,
				    "no profile '%s' (profiles are defined before the "
				    "machines that use them)",
				    name);
	} else {
		m->profile = -1; /* the default profile, whatever it is at the end */
	}
	return 0;
}

/* Appends the machines of LIST to CFG's. */
static int load_machines(struct walker *w, struct fy_node *key, struct fy_node *list,
			 struct xpxe_config *cfg)
{
	struct xpxe_machine_cfg *more;
	struct fy_node *item;
	void *iter = NULL;
	int n;

	if (!fy_node_is_sequence(list))
		return fail(w, key, "'machines' takes a list of machines");
	n = fy_node_sequence_item_count(list);
	more = realloc(cfg->machines, (cfg->n_machines + n + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	cfg->machines = more;
	while ((item = fy_node_sequence_iterate(list, &iter))) {
		if (machine_from_node(w, key, item, cfg, &cfg->machines[cfg->n_machines]))
			return -EINVAL;
		cfg->n_machines++;
	}
	return 0;
}

static int top_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	struct xpxe_config *cfg = ctx;

	if (is(key, "interfaces")) {
		struct fy_node *item;
		void *iter = NULL;

		if (!fy_node_is_sequence(v))
			return fail(w, key, "'interfaces' takes a list of interface names");
		while ((item = fy_node_sequence_iterate(v, &iter))) {
			const char *s = fy_node_is_scalar(item) ? fy_node_get_scalar0(item) : NULL;

			/* `- name: prov0` is a mapping: say what the list holds instead. */
			if (!s)
				return fail(w, item,
					    "'interfaces' takes a list of interface names, such as "
					    "[prov0] or '- prov0', not %s",
					    fy_node_is_mapping(item) ? "a mapping (key: value)"
								     : "a list");
			if (cfg->n_interfaces == XPXE_CFG_MAX_INTERFACES)
				return fail(w, item, "at most %d interfaces",
					    XPXE_CFG_MAX_INTERFACES);
			if (!xpxe_ifname_valid(s))
				return fail(w, item,
					    "'%s' is not an interface name (1 to 15 bytes, no "
					    "'/', ':' or spaces)",
					    s);
			snprintf(cfg->interfaces[cfg->n_interfaces++], 16, "%s", s);
		}
		return 0;
	}
	if (is(key, "mode")) {
		const char *s = scalar(w, key, v, "proxy, full or off");

		if (!s)
			return -EINVAL;
		if (!strcmp(s, "proxy"))
			cfg->dhcp.mode = XPXE_MODE_PROXY;
		else if (!strcmp(s, "full"))
			cfg->dhcp.mode = XPXE_MODE_FULL;
		else if (!strcmp(s, "off"))
			cfg->dhcp.enabled = false;
		else
			return fail(w, v, "'mode' takes proxy, full or off, not '%s'", s);
		return 0;
	}
	if (is(key, "server_ip")) {
		cfg->server_ip_at = mark(w, v);
		return get_ip(w, key, v, &cfg->dhcp.server_ip);
	}
	if (is(key, "state_dir"))
		return copy_str(w, key, v, cfg->state_dir, sizeof(cfg->state_dir), "a folder");
	if (is(key, "http"))
		return each_pair(w, key, v, "http", http_key, cfg);
	if (is(key, "store"))
		return parse_store(w, key, v, cfg);
	if (is(key, "ui"))
		return each_pair(w, key, v, "ui", ui_key, &cfg->ui);
	if (is(key, "downloads"))
		return each_pair(w, key, v, "downloads", downloads_key, &cfg->downloads);
	if (is(key, "dhcp"))
		return each_pair(w, key, v, "dhcp", dhcp_key, cfg);
	if (is(key, "assets"))
		return each_pair(w, key, v, "assets", asset_key, cfg);
	if (is(key, "vlans"))
		return each_pair(w, key, v, "vlans", vlan_iface_key, cfg);
	if (is(key, "profiles"))
		return each_pair(w, key, v, "profiles", profiles_key, cfg);
	if (is(key, "default_profile")) {
		const char *s = fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;

		/* null or "none": machines that are not listed get no answer. */
		if (!s || !strcmp(s, "none") || !strcmp(s, "null") || !strcmp(s, "~") || !*s) {
			cfg->default_profile = -1;
			return 0;
		}
		cfg->default_profile = xpxe_config_profile(cfg, s);
		if (cfg->default_profile < 0)
			return fail(w, v, "no profile '%s' (define it under profiles, before this)",
				    s);
		return 0;
	}
	if (is(key, "machines"))
		return load_machines(w, key, v, cfg);
	return unknown(w, key, "the top level",
		       "interfaces, mode, server_ip, http, ui, downloads, dhcp, vlans, state_dir, "
		       "store, assets, profiles, default_profile, machines");
}

/* --- the whole ---------------------------------------------------------------------- */

void xpxe_config_defaults(struct xpxe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	xpxe_dhcp_settings_default(&cfg->dhcp);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", XPXE_STATE_DIR);
	xpxe_store_cfg_default(&cfg->store);
	cfg->n_profiles = 1;
	builtin_profile(&cfg->profiles[0], "default");
	cfg->default_profile = 0;
	cfg->http_limits = (struct xpxe_http_limits){ .max_connections = XPXE_HTTP_MAX_CONNECTIONS,
						      .max_per_ip = XPXE_HTTP_MAX_PER_IP,
						      .timeout_s = XPXE_HTTP_TIMEOUT_S };
	cfg->downloads =
	    (struct xpxe_downloads_cfg){ .max = XPXE_ADMIT_MAX_DEFAULT,
					 .max_wait_s = XPXE_ADMIT_MAX_WAIT_DEFAULT,
					 .min_size = XPXE_DOWNLOADS_MIN_SIZE,
					 .tftp_max = XPXE_DOWNLOADS_TFTP_MAX_DEFAULT,
					 .tftp_max_wait_s = XPXE_DOWNLOADS_TFTP_MAX_WAIT_DEFAULT,
					 .tftp_pace_ms = XPXE_DOWNLOADS_TFTP_PACE_MS_DEFAULT,
					 .tftp_http_backlog =
					     XPXE_DOWNLOADS_TFTP_HTTP_BACKLOG_DEFAULT,
					 .tftp_port_low = XPXE_TFTP_PORT_LOW_DEFAULT,
					 .tftp_port_high = XPXE_TFTP_PORT_HIGH_DEFAULT };
	/* The fleet page, when it is turned on, is for this host alone unless ui.allow says. */
	cfg->ui.max_connections = XPXE_UI_MAX_CONNECTIONS;
	cfg->ui.n_allow = 1;
	xpxe_parse_net("127.0.0.0/8", &cfg->ui.allow[0]);
}

int xpxe_transport_parse(const char *text, enum xpxe_transport *out)
{
	static const char *const names[] = { "http", "tftp", "uki", "grub" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(text, names[i])) {
			*out = (enum xpxe_transport)i;
			return 0;
		}
	}
	return -EINVAL;
}

int xpxe_config_profile(const struct xpxe_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_profiles; i++)
		if (!strcmp(cfg->profiles[i].name, name))
			return i;
	return -1;
}

int xpxe_config_machine_profile(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m)
{
	if (m->profile >= 0)
		return m->profile;
	return cfg->default_profile >= 0 ? cfg->default_profile : 0;
}

const struct xpxe_asset_cfg *xpxe_config_asset(const struct xpxe_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_assets; i++)
		if (!strcmp(cfg->assets[i].name, name))
			return &cfg->assets[i];
	return NULL;
}

void xpxe_config_free(struct xpxe_config *cfg)
{
	free(cfg->machines);
	cfg->machines = NULL;
	cfg->n_machines = 0;
}

/* The text of one error of a whole-config check: "WHERE: what". */
static int check_fail(struct xpxe_config_error *err, const char *where, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	one_line(what);
	snprintf(err->text, sizeof(err->text), "%s: %s", where, what);
	return -EINVAL;
}

static const char *config_name(const struct xpxe_config *cfg)
{
	return cfg->path[0] ? cfg->path : "flags";
}

void xpxe_config_origin(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m, char *out,
			size_t size)
{
	if (m->added && !m->line)
		snprintf(out, size, "the machine to add");
	else if (m->added)
		snprintf(out, size, "%s/%s:%d", cfg->state_dir, XPXE_MACHINES_FILE, m->line);
	else if (m->line)
		snprintf(out, size, "%s:%d", config_name(cfg), m->line);
	else
		snprintf(out, size, "%s", config_name(cfg));
}

/* "line N" within the same file, else "FILE:LINE", of the machine O that M clashes with. */
static void other_origin(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m,
			 const struct xpxe_machine_cfg *o, char *out, size_t size)
{
	if (m->added == o->added && m->line)
		snprintf(out, size, "line %d", o->line);
	else
		xpxe_config_origin(cfg, o, out, size);
}

static bool same_mac(const struct xpxe_machine_cfg *m, const struct xpxe_machine_cfg *o)
{
	for (int a = 0; a < m->n_macs; a++)
		for (int b = 0; b < o->n_macs; b++)
			if (!memcmp(m->macs[a], o->macs[b], 6))
				return true;
	return false;
}

/* "prov0: 198.18.0.0/24, prov0: 198.18.4.0/22 (routed)": each network once, for messages. */
static void served_networks(const struct xpxe_config *cfg, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < cfg->n_subnets && n < size; i++) {
		const struct xpxe_subnet_cfg *s = &cfg->subnets[i];
		struct in_addr net = { s->addr.s_addr & s->mask.s_addr };
		char text[INET_ADDRSTRLEN];
		bool seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = (cfg->subnets[j].addr.s_addr & cfg->subnets[j].mask.s_addr) ==
				   net.s_addr &&
			       cfg->subnets[j].mask.s_addr == s->mask.s_addr;
		if (seen)
			continue;
		inet_ntop(AF_INET, &net, text, sizeof(text));
		n += snprintf(out + n, size - n, "%s%s: %s/%d%s", n ? ", " : "", s->ifname, text,
			      __builtin_popcount(s->mask.s_addr), s->routed ? " (routed)" : "");
	}
}

/* A reservation must be a host address of a served subnet, and not a server's own. */
static int check_subnet(const struct xpxe_config *cfg, const char *at, struct in_addr ip,
			struct xpxe_config_error *err)
{
	char text[INET_ADDRSTRLEN];

	if (!cfg->n_subnets)
		return 0;
	inet_ntop(AF_INET, &ip, text, sizeof(text));
	for (int i = 0; i < cfg->n_subnets; i++) {
		const struct xpxe_subnet_cfg *n = &cfg->subnets[i];
		in_addr_t net = n->addr.s_addr & n->mask.s_addr;

		if ((ip.s_addr & n->mask.s_addr) != net)
			continue;
		if (!n->routed && ip.s_addr == n->addr.s_addr)
			return check_fail(err, at, "ip %s is the address of %s itself", text,
					  n->ifname);
		if (n->mask.s_addr != 0xffffffff &&
		    (ip.s_addr == net || ip.s_addr == (net | ~n->mask.s_addr)))
			return check_fail(err, at,
					  "ip %s is the network or broadcast address of %s", text,
					  n->ifname);
		return 0;
	}
	{
		char nets[200];

		served_networks(cfg, nets, sizeof(nets));
		return check_fail(err, at, "ip %s is outside every served subnet (%s)", text, nets);
	}
}

int xpxe_config_check_machine(const struct xpxe_config *cfg, int i, struct xpxe_config_error *err)
{
	const struct xpxe_machine_cfg *m = &cfg->machines[i];
	char at[XPXE_CFG_PATH_MAX + 40], other[XPXE_CFG_PATH_MAX + 40];
	/* The file may list machines that share a UUID (a firmware bug: they match none by it);
	 * `machines add` refuses to make one, since the older machine would lose its match. */
	bool strict = m->added && !m->line;

	xpxe_config_origin(cfg, m, at, sizeof(at));
	if (m->ip.s_addr && cfg->dhcp.mode != XPXE_MODE_FULL)
		return check_fail(err, at,
				  "a machine's 'ip' is a reservation: it needs mode: full");
	if (m->ip.s_addr && check_subnet(cfg, at, m->ip, err))
		return -EINVAL;
	if (!IN6_IS_ADDR_UNSPECIFIED(&m->ip6) && cfg->dhcp.mode != XPXE_MODE_FULL)
		return check_fail(err, at,
				  "a machine's 'ip6' is a DHCPv6 reservation: it needs mode: full");
	for (int j = 0; j < i; j++) {
		const struct xpxe_machine_cfg *o = &cfg->machines[j];

		other_origin(cfg, m, o, other, sizeof(other));
		if (same_mac(m, o))
			return check_fail(err, at, "this MAC belongs to the machine of %s too",
					  other);
		if (m->ip.s_addr && m->ip.s_addr == o->ip.s_addr)
			return check_fail(err, at, "this ip is reserved for the machine of %s too",
					  other);
		if (m->hostname[0] && !strcasecmp(m->hostname, o->hostname))
			return check_fail(err, at, "hostname '%s' names the machine of %s too",
					  m->hostname, other);
		if (strict && m->uuid[0] && !strcmp(m->uuid, o->uuid))
			return check_fail(err, at, "uuid %s is the machine of %s's too", m->uuid,
					  other);
		if (strict && m->serial[0] && !strcasecmp(m->serial, o->serial))
			return check_fail(err, at, "serial '%s' is the machine of %s's too",
					  m->serial, other);
	}
	return 0;
}

void xpxe_config_where(const struct xpxe_config *cfg, struct xpxe_cfg_mark at, const char *flag,
		       char *out, size_t size)
{
	if (at.line)
		snprintf(out, size, "%s:%d:%d", config_name(cfg), at.line, at.col);
	else if (cfg->path[0] || !flag)
		snprintf(out, size, "%s", config_name(cfg));
	else
		snprintf(out, size, "%s", flag);
}

/* The network of IFNAME (its own, or a routed one) that holds FIRST..LAST (host order), or NULL. */
static const struct xpxe_subnet_cfg *
subnet_holding(const struct xpxe_config *cfg, const char *ifname, in_addr_t first, in_addr_t last)
{
	for (int i = 0; i < cfg->n_subnets; i++) {
		const struct xpxe_subnet_cfg *n = &cfg->subnets[i];
		in_addr_t mask = ntohl(n->mask.s_addr), net = ntohl(n->addr.s_addr) & mask;

		if (!strcmp(n->ifname, ifname) && (first & mask) == net && (last & mask) == net)
			return n;
	}
	return NULL;
}

/*
 * The pool lies inside a network of each served interface: its own subnet (clear of its
 * address, network and broadcast addresses), or one a route sends through it (a relay's).
 */
static int check_pool(const struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	in_addr_t first = ntohl(cfg->dhcp.pool_first.s_addr),
		  last = ntohl(cfg->dhcp.pool_last.s_addr);
	char where[XPXE_CFG_PATH_MAX + 40], pool[40], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (!cfg->dhcp.enabled || cfg->dhcp.mode != XPXE_MODE_FULL || !first)
		return 0;
	xpxe_config_where(cfg, cfg->pool_at, "--pool", where, sizeof(where));
	inet_ntop(AF_INET, &cfg->dhcp.pool_first, a, sizeof(a));
	inet_ntop(AF_INET, &cfg->dhcp.pool_last, b, sizeof(b));
	snprintf(pool, sizeof(pool), "%s-%s", a, b);
	for (int i = 0; i < cfg->n_subnets; i++) {
		const struct xpxe_subnet_cfg *n = &cfg->subnets[i], *in;
		in_addr_t mask = ntohl(n->mask.s_addr), own = ntohl(n->addr.s_addr);
		in_addr_t net, bcast;
		struct in_addr net_be = { htonl(own & mask) };

		if (n->routed)
			continue; /* judged with its interface's own subnet, below */
		inet_ntop(AF_INET, &net_be, a, sizeof(a));
		in = subnet_holding(cfg, n->ifname, first, last);
		if (!in)
			return check_fail(
			    err, where,
			    "pool %s is outside the subnet of %s (%s/%d), and no route "
			    "sends it through %s (a relay's network needs one): machines "
			    "there could not use its addresses",
			    pool, n->ifname, a, __builtin_popcount(mask), n->ifname);
		mask = ntohl(in->mask.s_addr);
		net = ntohl(in->addr.s_addr) & mask;
		bcast = net | ~mask;
		inet_ntop(AF_INET, &(struct in_addr){ htonl(net) }, a, sizeof(a));
		if (!in->routed && own >= first && own <= last)
			return check_fail(err, where, "pool %s holds the address of %s itself",
					  pool, n->ifname);
		if (mask < 0xfffffffe && ((net >= first && net <= last) || bcast <= last))
			return check_fail(err, where,
					  "pool %s holds the network or broadcast address of %s/%d",
					  pool, a, __builtin_popcount(mask));
	}
	return 0;
}

/* --reserve MAC=IP (the quick start's reservations): inside a served subnet, one each. */
static int check_reservations(const struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	const struct xpxe_dhcp_settings *d = &cfg->dhcp;
	char at[80], ip[INET_ADDRSTRLEN];

	if (d->n_reservations && d->mode != XPXE_MODE_FULL)
		return check_fail(err, config_name(cfg), "reservations need mode: full");
	if ((d->n_reservations6 || !IN6_IS_ADDR_UNSPECIFIED(&d->pool6_first)) &&
	    d->mode != XPXE_MODE_FULL)
		return check_fail(err, config_name(cfg),
				  "pool6 and DHCPv6 reservations need mode: full");
	for (int i = 0; i < d->n_reservations6; i++)
		for (int j = 0; j < i; j++)
			if (!memcmp(d->reservations6[i].mac, d->reservations6[j].mac, 6) ||
			    IN6_ARE_ADDR_EQUAL(&d->reservations6[i].ip, &d->reservations6[j].ip))
				return check_fail(
				    err, config_name(cfg),
				    "a MAC or an IPv6 address is reserved twice (--reserve6)");
	for (int i = 0; i < d->n_reservations; i++) {
		const unsigned char *m = d->reservations[i].mac;

		inet_ntop(AF_INET, &d->reservations[i].ip, ip, sizeof(ip));
		snprintf(at, sizeof(at), "--reserve %02x:%02x:%02x:%02x:%02x:%02x=%s", m[0], m[1],
			 m[2], m[3], m[4], m[5], ip);
		if (check_subnet(cfg, at, d->reservations[i].ip, err))
			return -EINVAL;
		for (int j = 0; j < i; j++) {
			if (!memcmp(d->reservations[j].mac, m, 6))
				return check_fail(err, at, "this MAC is reserved twice");
			if (d->reservations[j].ip.s_addr == d->reservations[i].ip.s_addr)
				return check_fail(err, at, "ip %s is reserved twice", ip);
		}
	}
	return 0;
}

/* NAME ("" : none) names an asset of CFG, or ERR says which profile lacks it for WHAT. */
static int check_asset(const struct xpxe_config *cfg, struct xpxe_config_error *err,
		       const struct xpxe_profile_cfg *p, const char *name, struct xpxe_cfg_mark at,
		       const char *what)
{
	char where[XPXE_CFG_PATH_MAX + 40];

	if (!name[0] || xpxe_config_asset(cfg, name))
		return 0;
	xpxe_config_where(cfg, at, NULL, where, sizeof(where));
	return check_fail(err, where,
			  "profile '%s': no asset '%s' for its %s (define it under assets)",
			  p->name, name, what);
}

int xpxe_config_check(struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	char where[XPXE_CFG_PATH_MAX + 40];

	for (int i = 0; i < cfg->n_profiles; i++) {
		const struct xpxe_profile_cfg *p = &cfg->profiles[i];

		if (p->kernel[0] && !xpxe_config_asset(cfg, p->kernel)) {
			xpxe_config_where(cfg, p->kernel_at, NULL, where, sizeof(where));
			return check_fail(err, where,
					  "profile '%s': no asset '%s' for its kernel (define it "
					  "under assets)",
					  p->name, p->kernel);
		}
		if (p->initrd[0] && !xpxe_config_asset(cfg, p->initrd)) {
			xpxe_config_where(cfg, p->initrd_at, NULL, where, sizeof(where));
			return check_fail(err, where,
					  "profile '%s': no asset '%s' for its initrd (define it "
					  "under assets)",
					  p->name, p->initrd);
		}
		if (check_asset(cfg, err, p, p->kernel_arm64, p->kernel_arm64_at, "arm64 kernel") ||
		    check_asset(cfg, err, p, p->initrd_arm64, p->initrd_arm64_at, "arm64 initrd"))
			return -EINVAL;
		if (p->uki_arm64[0] && !xpxe_config_asset(cfg, p->uki_arm64))
			return check_fail(
			    err, config_name(cfg),
			    "profile '%s': no asset '%s' for its arm64 UKI (define it "
			    "under assets)",
			    p->name, p->uki_arm64);
		if (!p->kernel_arm64[0] != !p->initrd_arm64[0])
			return check_fail(err, config_name(cfg),
					  "profile '%s': kernel_arm64 and initrd_arm64 go together "
					  "(arm64 machines boot both)",
					  p->name);
		if (p->transport == XPXE_TRANSPORT_UKI && !p->uki[0])
			return check_fail(
			    err, config_name(cfg),
			    "profile '%s': transport uki needs 'uki: ASSET', the asset "
			    "holding the UKI",
			    p->name);
		if (p->uki[0] && !xpxe_config_asset(cfg, p->uki))
			return check_fail(
			    err, config_name(cfg),
			    "profile '%s': no asset '%s' for its UKI (define it under "
			    "assets)",
			    p->name, p->uki);
	}
	if (!cfg->tls.cert[0] != !cfg->tls.key[0])
		return check_fail(err, config_name(cfg),
				  "http: HTTPS needs both tls_cert and tls_key");
	if (cfg->tls.refuse_plain && !cfg->tls.cert[0])
		return check_fail(err, config_name(cfg),
				  "http: config_over_http: refuse needs HTTPS (tls_cert, tls_key): "
				  "configs would reach no one");
	for (int i = 0; i < cfg->n_machines; i++)
		if (xpxe_config_check_machine(cfg, i, err))
			return -EINVAL;
	if (check_reservations(cfg, err) || check_pool(cfg, err))
		return -EINVAL;
	return 0;
}

/*
 * Refuses a file that is not UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF), as YAML requires, before libfyaml reads it: libfyaml
 * 0.7.12 loops forever on a '%' directive followed by an invalid sequence (two
 * bytes "%\x91" hang it; found by tests/fuzz/fuzz_config.c). Returns 0 when the
 * file is UTF-8 or cannot be read (the caller then says why).
 */
static int check_utf8(const char *path, struct xpxe_config_error *err)
{
	FILE *f = fopen(path, "rb");
	int c, line = 1, col = 1, ret = 0;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF) {
		unsigned int cp, more, min;
		int first = c;

		if (c < 0x80) {
			if (c == '\n')
				line++, col = 0;
			col++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			cp = c & 0x1f, more = 1, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			cp = c & 0x0f, more = 2, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			cp = c & 0x07, more = 3, min = 0x10000;
		else
			more = 0, cp = 0,
			min = 1; /* a stray continuation byte, or 0xc0, 0xc1, 0xf5.. */
		for (unsigned int i = 0; i < more; i++) {
			c = fgetc(f);
			if (c == EOF || (c & 0xc0) != 0x80) {
				cp = 0;
				break;
			}
			cp = cp << 6 | (c & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			snprintf(err->text, sizeof(err->text),
				 "%s:%d:%d: not UTF-8 text (a sequence starting with byte 0x%02x)",
				 path, line, col, first);
			ret = -EINVAL;
			break;
		}
		col++;
	}
	fclose(f);
	return ret;
}

/* Reads PATH into *DOC; an error names the file, and the line and column where it can. */
static int build_document(const char *path, struct fy_document **doc, struct xpxe_config_error *err)
{
	struct fy_parse_cfg pcfg = { .flags = FYPCF_QUIET };
	struct fy_diag_cfg diag_cfg;
	struct fy_diag *diag;
	FILE *capture;
	char *diag_text = NULL;
	size_t diag_len = 0;
	int ret;

	err->text[0] = '\0';
	ret = check_utf8(path, err);
	if (ret)
		return ret;

	/* libfyaml's own message for a syntax error already says file:line:col. */
	capture = open_memstream(&diag_text, &diag_len);
	fy_diag_cfg_default(&diag_cfg);
	diag_cfg.fp = capture;
	diag_cfg.colorize = false;
	diag_cfg.show_source = false;
	diag = fy_diag_create(&diag_cfg);
	pcfg.diag = diag;
	*doc = fy_document_build_from_file(&pcfg, path);
	fy_diag_unref(diag);
	if (capture)
		fclose(capture);
	if (!*doc) {
		FILE *probe = fopen(path, "r");

		if (!probe) {
			snprintf(err->text, sizeof(err->text), "%s: %s", path, strerror(errno));
			ret = -errno;
		} else {
			bool empty = true;
			int c;

			/* Only blanks and comments: libfyaml builds no document, say why plainly.
			 */
			while (empty && (c = fgetc(probe)) != EOF) {
				if (c == '#')
					while ((c = fgetc(probe)) != EOF && c != '\n')
						;
				else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
					empty = false;
			}
			fclose(probe);
			if (empty)
				snprintf(err->text, sizeof(err->text), "%s: the file is empty",
					 path);
			else if (diag_text && !strncmp(diag_text, path, strlen(path)))
				snprintf(err->text, sizeof(err->text), "%s", diag_text);
			else
				snprintf(err->text, sizeof(err->text), "%s: not valid YAML", path);
			ret = -EINVAL;
		}
		free(diag_text);
		/* One line: drop libfyaml's trailing newline. */
		err->text[strcspn(err->text, "\n")] = '\0';
		return ret;
	}
	free(diag_text);
	if (!fy_document_root(*doc)) {
		fy_document_destroy(*doc);
		*doc = NULL;
		snprintf(err->text, sizeof(err->text), "%s: the file is empty", path);
		return -EINVAL;
	}
	return 0;
}

int xpxe_config_load(const char *path, struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	struct walker w = { .path = path, .err = err };
	struct fy_document *doc;
	int ret;

	xpxe_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	ret = build_document(path, &doc, err);
	if (ret)
		return ret;
	ret = each_pair(&w, fy_document_root(doc), fy_document_root(doc), "the file", top_key, cfg);
	cfg->dhcp.profile =
	    cfg->profiles[cfg->default_profile >= 0 ? cfg->default_profile : 0].dhcp;
	fy_document_destroy(doc);
	if (!ret)
		ret = xpxe_config_check(cfg, err);
	if (ret) {
		xpxe_config_free(cfg);
		xpxe_config_defaults(cfg);
	}
	return ret;
}

static int machines_key(struct walker *w, struct fy_node *key, struct fy_node *v, void *ctx)
{
	if (is(key, "machines"))
		return load_machines(w, key, v, ctx);
	return fail(w, key, "unknown key '%s' (this file holds only 'machines')",
		    fy_node_get_scalar0(key));
}

int xpxe_config_load_machines(const char *file, struct xpxe_config *cfg,
			      struct xpxe_config_error *err)
{
	struct walker w = { .path = file, .err = err, .added = true };
	struct fy_document *doc;
	int first = cfg->n_machines, ret;

	if (access(file, F_OK) && errno == ENOENT)
		return 0;
	ret = build_document(file, &doc, err);
	if (ret)
		return ret;
	ret = each_pair(&w, fy_document_root(doc), fy_document_root(doc), "the file", machines_key,
			cfg);
	fy_document_destroy(doc);
	for (int i = first; !ret && i < cfg->n_machines; i++)
		ret = xpxe_config_check_machine(cfg, i, err);
	if (ret)
		cfg->n_machines = first;
	return ret;
}

int xpxe_config_parse_machine(const struct xpxe_config *cfg, struct fy_node *node,
			      const char *where, struct xpxe_machine_cfg *m,
			      struct xpxe_config_error *err)
{
	struct walker w = { .path = where, .err = err, .no_marks = true, .added = true };

	err->text[0] = '\0';
	if (!node || !fy_node_is_mapping(node)) {
		snprintf(err->text, sizeof(err->text), "%s: a machine is a mapping of key: value",
			 where);
		return -EINVAL;
	}
	return machine_from_node(&w, node, node, cfg, m) ? -EINVAL : 0;
}

int xpxe_role_rank(const char *role)
{
	if (!strcmp(role, "controlplane") || !strcmp(role, "init"))
		return XPXE_RANK_CONTROLPLANE;
	if (!strcmp(role, "worker"))
		return XPXE_RANK_WORKER;
	return -1;
}
