// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * etcd's v3 API through its JSON gateway (grpc-gateway: POST /v3/kv/range, /v3/kv/txn,
 * /v3/watch, /v3/lease/grant, /v3/lease/keepalive; keys and values in base64), over HTTP
 * with libcurl. Requests of one thread run at once on kept-alive connections; each that
 * finds no answer at one endpoint is sent to the next.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libfyaml.h>

#include "json.h"
#include "store/internal.h"

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(const void *data, size_t len, char *out)
{
	const unsigned char *in = data;
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = in[i] << 16;

		if (i + 1 < len)
			v |= in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64_chars[(v >> 18) & 63];
		out[o++] = b64_chars[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_chars[v & 63] : '=';
	}
	out[o] = '\0';
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

long b64_decode(const char *text, unsigned char *out)
{
	size_t len = strlen(text), o = 0;

	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];

		if (text[i + 2] == '=' && text[i + 3] != '=')
			return -1;
		for (int j = 0; j < 4; j++) {
			v[j] = text[i + j] == '=' && j >= 2 && i + 4 == len
				   ? 0
				   : b64_value(text[i + j]);
			if (v[j] < 0)
				return -1;
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (text[i + 2] != '=')
			out[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (text[i + 3] != '=')
			out[o++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	return (long)o;
}

void range_end_of(const char *prefix, char *out, size_t size)
{
	size_t len = strlen(prefix);

	snprintf(out, size, "%s", prefix);
	/* etcd's "every key with this prefix": the prefix with its last byte plus one. */
	if (len && len < size)
		out[len - 1]++;
}

char *json_quote(const char *text)
{
	size_t len = strlen(text), o = 0;
	char *out = malloc(len * 6 + 3);

	if (!out)
		return NULL;
	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20) {
			o += sprintf(out + o, "\\u%04x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static void quiet(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag, (void)user, (void)buf, (void)len;
}

struct fy_document *wire_parse_reply(struct wire_call *c)
{
	struct fy_diag_cfg diag_cfg;
	struct fy_parse_cfg cfg = { .flags = FYPCF_JSON_FORCE | FYPCF_QUIET };
	struct fy_document *doc;

	if (!c->reply)
		return NULL;
	fy_diag_cfg_default(&diag_cfg);
	diag_cfg.fp = NULL;
	diag_cfg.output_fn = quiet;
	diag_cfg.level = FYET_ERROR;
	cfg.diag = fy_diag_create(&diag_cfg);
	/* The document refers to the text rather than copying it: it takes it over. */
	doc = fy_document_build_from_malloc_string(&cfg, c->reply, c->reply_len);
	fy_diag_unref(cfg.diag);
	if (doc) {
		c->reply = NULL;
		c->reply_len = 0;
	}
	return doc;
}

long long wire_revision(struct fy_node *root)
{
	const char *rev = xpxe_json_str(root, "/header/revision");

	return rev ? atoll(rev) : 0;
}

static long long num_at(struct fy_node *node, const char *path)
{
	const char *text = xpxe_json_str(node, path);

	return text ? atoll(text) : 0;
}

int wire_kvs(struct fy_node *root, const char *path, struct wire_kv **out, int *n)
{
	struct fy_node *list = fy_node_by_path(root, path, FY_NT, FYNWF_DONT_FOLLOW);
	struct fy_node *item;
	void *iter = NULL;
	int count = 0;

	*out = NULL;
	*n = 0;
	if (!list)
		return 0;
	if (!fy_node_is_sequence(list))
		return -EPROTO;
	count = fy_node_sequence_item_count(list);
	*out = calloc(count + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	while ((item = fy_node_sequence_iterate(list, &iter))) {
		struct wire_kv *kv = &(*out)[*n];
		const char *key = xpxe_json_str(item, "/key"),
			   *value = xpxe_json_str(item, "/value");
		unsigned char *raw;
		long len;

		if (!key || strlen(key) >= sizeof(kv->key) * 3 / 4)
			continue;
		len = b64_decode(key, (unsigned char *)kv->key);
		if (len < 0)
			continue;
		kv->key[len] = '\0';
		kv->mod_rev = num_at(item, "/mod_revision");
		kv->create_rev = num_at(item, "/create_revision");
		kv->lease = num_at(item, "/lease");
		raw = malloc(value ? strlen(value) + 1 : 1);
		if (!raw) {
			wire_kvs_free(*out, *n);
			return -ENOMEM;
		}
		len = value ? b64_decode(value, raw) : 0;
		if (len < 0)
			len = 0; /* not base64: an empty value, which the records refuse */
		raw[len] = '\0';
		kv->value = (char *)raw;
		kv->value_len = (size_t)len;
		(*n)++;
	}
	return 0;
}

void wire_kvs_free(struct wire_kv *kvs, int n)
{
	for (int i = 0; i < n; i++)
		free(kvs[i].value);
	free(kvs);
}

/* --- HTTP ------------------------------------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct wire_call *c = ctx;
	size_t n = size * nmemb;
	char *more = realloc(c->reply, c->reply_len + n + 1);

	if (!more)
		return 0;
	c->reply = more;
	memcpy(c->reply + c->reply_len, ptr, n);
	c->reply_len += n;
	c->reply[c->reply_len] = '\0';
	return n;
}

void wire_setup(CURL *easy, const struct xpxe_store_cfg *cfg, long timeout_ms)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms > 0 && timeout_ms < 1000 ? timeout_ms : 1000L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never through $http_proxy */
	if (cfg->ca[0])
		curl_easy_setopt(easy, CURLOPT_CAINFO, cfg->ca);
	if (cfg->cert[0])
		curl_easy_setopt(easy, CURLOPT_SSLCERT, cfg->cert);
	if (cfg->key[0])
		curl_easy_setopt(easy, CURLOPT_SSLKEY, cfg->key);
}

int wire_init(struct wire *w, const struct xpxe_store_cfg *cfg)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->multi = curl_multi_init();
	if (!w->multi)
		return -ENOMEM;
	for (int i = 0; i < WIRE_PARALLEL; i++) {
		w->easy[i] = curl_easy_init();
		if (!w->easy[i]) {
			wire_free(w);
			return -ENOMEM;
		}
	}
	return 0;
}

void wire_free(struct wire *w)
{
	for (int i = 0; i < WIRE_PARALLEL; i++)
		if (w->easy[i])
			curl_easy_cleanup(w->easy[i]);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	memset(w, 0, sizeof(*w));
}

void wire_call_free(struct wire_call *c)
{
	free(c->reply);
	c->reply = NULL;
	c->reply_len = 0;
}

/* A call in flight on one handle: which endpoint it tries, how many it tried. */
struct slot {
	struct wire_call *call;
	int endpoint, tried;
	struct timespec start;
};

static void start(struct wire *w, CURL *easy, struct slot *s)
{
	char url[256];

	snprintf(url, sizeof(url), "%s%s", w->cfg->endpoints[s->endpoint], s->call->path);
	curl_easy_reset(easy);
	wire_setup(easy, w->cfg, w->cfg->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, s->call->body);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, s->call);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, s);
	wire_call_free(s->call);
	curl_multi_add_handle(w->multi, easy);
}

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

void wire_run(struct wire *w, struct wire_call *calls, int n)
{
	struct slot slots[WIRE_PARALLEL];
	int next = 0, running = 0, active = 0;

	for (int i = 0; i < WIRE_PARALLEL; i++)
		slots[i].call = NULL;
	while (next < n || active) {
		CURLMsg *msg;
		int left;

		/* Fill the free handles with the next calls. */
		for (int i = 0; i < WIRE_PARALLEL && next < n; i++) {
			if (slots[i].call)
				continue;
			slots[i] = (struct slot){ .call = &calls[next++],
						  .endpoint = w->current,
						  .tried = 1 };
			clock_gettime(CLOCK_MONOTONIC, &slots[i].start);
			start(w, w->easy[i], &slots[i]);
			active++;
		}
		curl_multi_perform(w->multi, &running);
		while ((msg = curl_multi_info_read(w->multi, &left))) {
			struct slot *s;
			CURL *easy = msg->easy_handle;
			long http = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
			curl_multi_remove_handle(w->multi, easy);
			if (msg->data.result != CURLE_OK || http == 0 || http >= 500) {
				/* No answer there (or a member without a leader): the next one. */
				if (s->tried < w->cfg->n_endpoints) {
					s->endpoint = (s->endpoint + 1) % w->cfg->n_endpoints;
					s->tried++;
					w->current = s->endpoint;
					start(w, easy, s);
					continue;
				}
				s->call->err = -EAGAIN;
			} else {
				s->call->err = http == 200 ? 0 : -EPROTO;
			}
			s->call->http = http;
			s->call->seconds = since(&s->start);
			s->call = NULL;
			active--;
		}
		if (active)
			curl_multi_poll(w->multi, NULL, 0, 100, NULL);
	}
}
