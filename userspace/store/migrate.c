// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xpxe store migrate`: the machines added at run time, the boot-once marks and full mode's
 * bindings, from this host's files into etcd (a site moving to several responders), or from
 * etcd back into files (a site going back to one). Run it with the daemons stopped, or
 * before the first one starts with --store etcd://...: it talks to the store directly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfyaml.h>

#include "atomic.h"
#include "dhcp_settings.h"
#include "json.h"
#include "store/internal.h"

#define EXIT_OK	   0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

const char xpxe_store_usage[] =
    "usage: xpxe store migrate --from files|etcd://HOST:PORT[,...] --to files|etcd://...\n"
    "                          [--state-dir DIR] [--leases FILE]... [--prefix PREFIX]\n"
    "                          [--ca FILE] [--cert FILE --key FILE] [--force]\n"
    "\n"
    "Moves what responders must agree on between this host's files and etcd: the\n"
    "machines added with 'xpxe machines add' (DIR/machines.yaml), the boot-once marks\n"
    "(DIR/installed) and full mode's bindings (each --leases FILE; default\n"
    "DIR/*.leases is not guessed: name them). Talks to etcd directly: run it before the\n"
    "responders start with --store, or with them stopped.\n"
    "\n"
    "  --from, --to    files, or etcd://HOST:PORT[,HOST:PORT...]\n"
    "  --state-dir DIR the files' folder (default " XPXE_STATE_DIR ")\n"
    "  --leases FILE   a bindings file (repeatable from files; one to files, which\n"
    "                  gets every binding of the store)\n"
    "  --prefix PREFIX etcd's key prefix (default " XPXE_STORE_PREFIX ")\n"
    "  --ca, --cert, --key  TLS to etcd (https): its CA, this client's certificate/key\n"
    "  --force         to etcd: replace keys it has already (else they are kept and\n"
    "                  counted); to files: replace files that exist (else refused)\n"
    "\n"
    "It prints what it moved and what it kept. Exit codes: 0 done, 1 failed (etcd not\n"
    "reached, a file unreadable or in the way), 2 bad usage.\n";

struct migrate {
	struct xpxe_store_cfg cfg;
	const char *state_dir;
	const char *leases[16];
	int n_leases;
	bool force;
	struct wire wire;
	/* what goes to etcd: relative key, value */
	char **keys, **values;
	int n, cap;
	int machines, marks, bindings;
};

static int usage(const char *what, const char *arg)
{
	fprintf(stderr, "xpxe store: ");
	fprintf(stderr, what, arg);
	fprintf(stderr, "\n\n%s", xpxe_store_usage);
	return EXIT_USAGE;
}

static int queue(struct migrate *m, const char *rel, char *value)
{
	if (!value)
		return -ENOMEM;
	if (m->n == m->cap) {
		int cap = m->cap ? m->cap * 2 : 64;
		char **k = realloc(m->keys, cap * sizeof(*k)), **v;

		if (!k)
			return -ENOMEM;
		m->keys = k;
		v = realloc(m->values, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->values = v;
		m->cap = cap;
	}
	m->keys[m->n] = strdup(rel);
	m->values[m->n++] = value;
	return m->keys[m->n - 1] ? 0 : -ENOMEM;
}

/* --- from files --------------------------------------------------------------------------------
 */

static int read_machines(struct migrate *m)
{
	char path[XPXE_STORE_PATH_MAX + 32], key[XPXE_STORE_KEY_MAX], rel[XPXE_STORE_KEY_MAX + 16];
	struct fy_document *doc;
	struct fy_node *list, *item;
	void *iter = NULL;

	snprintf(path, sizeof(path), "%s/machines.yaml", m->state_dir);
	if (access(path, F_OK))
		return 0;
	doc = fy_document_build_from_file(NULL, path);
	if (!doc) {
		fprintf(stderr, "xpxe store: %s is not YAML\n", path);
		return -EINVAL;
	}
	list = fy_node_by_path(fy_document_root(doc), "/machines", FY_NT, FYNWF_DONT_FOLLOW);
	while (list && fy_node_is_sequence(list) &&
	       (item = fy_node_sequence_iterate(list, &iter))) {
		struct fy_document *one;
		char *json;

		if (!fy_node_is_mapping(item) || rec_machine_key(item, key, sizeof(key))) {
			fprintf(stderr,
				"xpxe store: %s: an entry with no MAC, UUID, serial or "
				"hostname: skipped\n",
				path);
			continue;
		}
		one = fy_document_create(NULL);
		fy_document_set_root(one, fy_node_copy(one, item));
		json = xpxe_json_emit(one);
		fy_document_destroy(one);
		if (!json) {
			fy_document_destroy(doc);
			return -ENOMEM;
		}
		snprintf(rel, sizeof(rel), "machines/%s", key);
		if (queue(m, rel, rec_machine_value(json))) {
			free(json);
			fy_document_destroy(doc);
			return -ENOMEM;
		}
		free(json);
		m->machines++;
	}
	fy_document_destroy(doc);
	return 0;
}

static int read_marks(struct migrate *m)
{
	char path[XPXE_STORE_PATH_MAX + 32], line[200], rel[XPXE_STORE_KEY_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/installed", m->state_dir);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct xpxe_store_mark mark = { 0 };
		long long when;

		if (line[0] == '#' || sscanf(line, "%79s %lld", mark.key, &when) != 2)
			continue;
		mark.when = (time_t)when;
		snprintf(mark.by, sizeof(mark.by), "migrated from files");
		snprintf(rel, sizeof(rel), "installed/%s", mark.key);
		if (queue(m, rel, rec_mark_value(&mark))) {
			fclose(f);
			return -ENOMEM;
		}
		m->marks++;
	}
	fclose(f);
	return 0;
}

static int read_leases(struct migrate *m, const char *path)
{
	char line[256], mac[32], ip[32], rel[64];
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (!f) {
		fprintf(stderr, "xpxe store: cannot read %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		struct xpxe_store_lease l = { 0 };
		long long expires;
		char *value;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%31s %31s %lld", mac, ip, &expires) != 3 ||
		    xpxe_parse_mac(mac, l.mac) || inet_pton(AF_INET, ip, &l.ip) != 1) {
			fprintf(stderr, "xpxe store: %s:%d: not 'MAC IP EXPIRES': skipped\n", path,
				lineno);
			continue;
		}
		l.expires = (time_t)expires;
		snprintf(l.by, sizeof(l.by), "migrated");
		value = rec_lease_value(&l);
		snprintf(rel, sizeof(rel), "leases/ip/%s", ip);
		if (queue(m, rel, value)) {
			fclose(f);
			return -ENOMEM;
		}
		snprintf(rel, sizeof(rel), "leases/mac/%02x:%02x:%02x:%02x:%02x:%02x", l.mac[0],
			 l.mac[1], l.mac[2], l.mac[3], l.mac[4], l.mac[5]);
		if (queue(m, rel, strdup(value))) {
			fclose(f);
			return -ENOMEM;
		}
		m->bindings++;
	}
	fclose(f);
	return 0;
}

/* Writes the queued keys: each only where etcd has none (or over it, with --force). */
static int write_etcd(struct migrate *m)
{
	struct wire_call *calls = calloc(m->n + 1, sizeof(*calls));
	int kept = 0, failed = 0;

	if (!calls)
		return -ENOMEM;
	for (int i = 0; i < m->n; i++) {
		char full[600], *k64, *v64, *body = NULL;
		size_t vlen = strlen(m->values[i]);
		int len = -1;

		snprintf(full, sizeof(full), "%s%s", m->cfg.prefix, m->keys[i]);
		k64 = malloc(4 * ((strlen(full) + 2) / 3) + 1);
		v64 = malloc(4 * ((vlen + 2) / 3) + 1);
		if (k64 && v64) {
			b64_encode(full, strlen(full), k64);
			b64_encode(m->values[i], vlen, v64);
			if (m->force)
				len = asprintf(&body,
					       "{\"success\":[{\"request_put\":{\"key\":\"%s\","
					       "\"value\":\"%s\"}}]}",
					       k64, v64);
			else
				len = asprintf(&body,
					       "{\"compare\":[{\"key\":\"%s\",\"target\":"
					       "\"CREATE\",\"result\":"
					       "\"EQUAL\",\"create_revision\":\"0\"}],\"success\":["
					       "{\"request_put\":"
					       "{\"key\":\"%s\",\"value\":\"%s\"}}]}",
					       k64, k64, v64);
		}
		free(k64);
		free(v64);
		if (len < 0) {
			/* Nothing was sent yet: the bodies made so far go, and so does the run. */
			for (int j = 0; j < i; j++)
				free(calls[j].body);
			free(calls);
			return -ENOMEM;
		}
		calls[i].path = "/v3/kv/txn";
		calls[i].body = body;
	}
	wire_run(&m->wire, calls, m->n);
	for (int i = 0; i < m->n; i++) {
		if (calls[i].err) {
			if (!failed++)
				fprintf(stderr, "xpxe store: etcd did not take %s%s: %s\n",
					m->cfg.prefix, m->keys[i],
					calls[i].err == -EAGAIN
					    ? "no endpoint answers"
					    : (calls[i].reply ? calls[i].reply : "?"));
		} else if (!m->force && !strstr(calls[i].reply, "\"succeeded\":true")) {
			kept++;
		}
		wire_call_free(&calls[i]);
		free(calls[i].body);
	}
	free(calls);
	if (failed) {
		fprintf(stderr, "xpxe store: %d of %d key(s) not written\n", failed, m->n);
		return -EIO;
	}
	printf("to etcd %s (prefix %s): %d machine(s), %d boot-once mark(s), %d binding(s); "
	       "%d key(s) of %d kept as etcd had them%s\n",
	       m->cfg.url, m->cfg.prefix, m->machines, m->marks, m->bindings, kept, m->n,
	       kept ? " (--force replaces them)" : "");
	return 0;
}

/* --- to files ----------------------------------------------------------------------------------
 */

struct snapshot {
	struct wire_kv *kvs;
	int n;
	const struct migrate *m;
	FILE *out;
};

static int fill_machines(FILE *f, void *ctx)
{
	struct snapshot *s = ctx;
	char name[200], why[256];
	int n = 0;

	fprintf(f, "# xpxe: machines added with 'xpxe machines add', merged with the config "
		   "file's.\n# Change them with 'xpxe machines add' and 'xpxe machines rm'.\n"
		   "machines:\n");
	for (int i = 0; i < s->n; i++) {
		struct xpxe_store_machine mach;
		const char *rel = s->kvs[i].key + strlen(s->m->cfg.prefix);

		if (rec_kind_of(rel, name, sizeof(name)) != REC_MACHINE)
			continue;
		if (rec_machine_parse(name, s->kvs[i].value, &mach, why, sizeof(why))) {
			fprintf(stderr, "xpxe store: %s%s refused: %s\n", s->m->cfg.prefix, rel,
				why);
			continue;
		}
		fprintf(f, "  - %s\n", mach.json);
		free(mach.json);
		n++;
	}
	if (!n)
		fprintf(f, "  []\n");
	return ferror(f) ? -EIO : 0;
}

static int fill_marks(FILE *f, void *ctx)
{
	struct snapshot *s = ctx;
	char name[200], why[256];

	fprintf(f, "# xpxe boot-once: machines that boot from their disk (KEY UNIXTIME)\n");
	for (int i = 0; i < s->n; i++) {
		struct xpxe_store_mark mark;
		const char *rel = s->kvs[i].key + strlen(s->m->cfg.prefix);

		if (rec_kind_of(rel, name, sizeof(name)) != REC_MARK)
			continue;
		if (rec_mark_parse(name, s->kvs[i].value, &mark, why, sizeof(why))) {
			fprintf(stderr, "xpxe store: %s%s refused: %s\n", s->m->cfg.prefix, rel,
				why);
			continue;
		}
		fprintf(f, "%s %lld\n", mark.key, (long long)mark.when);
	}
	return ferror(f) ? -EIO : 0;
}

static int fill_leases(FILE *f, void *ctx)
{
	struct snapshot *s = ctx;
	char name[200], why[256], ip[INET_ADDRSTRLEN];

	fprintf(f, "# xpxe DHCP bindings: MAC IP EXPIRES(unix seconds)\n");
	for (int i = 0; i < s->n; i++) {
		struct xpxe_store_lease l;
		const char *rel = s->kvs[i].key + strlen(s->m->cfg.prefix);
		enum rec_kind kind = rec_kind_of(rel, name, sizeof(name));

		if (kind != REC_LEASE_IP)
			continue;
		if (rec_lease_parse(kind, name, s->kvs[i].value, &l, why, sizeof(why))) {
			fprintf(stderr, "xpxe store: %s%s refused: %s\n", s->m->cfg.prefix, rel,
				why);
			continue;
		}
		if (l.offered)
			continue; /* only held for a REQUEST: not a binding */
		fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x %s %lld\n", l.mac[0], l.mac[1], l.mac[2],
			l.mac[3], l.mac[4], l.mac[5], inet_ntop(AF_INET, &l.ip, ip, sizeof(ip)),
			(long long)l.expires);
		s->out = f;
	}
	return ferror(f) ? -EIO : 0;
}

static int count_kind(const struct snapshot *s, enum rec_kind want)
{
	char name[200];
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += rec_kind_of(s->kvs[i].key + strlen(s->m->cfg.prefix), name, sizeof(name)) ==
		     want;
	return n;
}

static int write_file(const struct migrate *m, const char *path, int (*fill)(FILE *, void *),
		      struct snapshot *s)
{
	int err;

	if (!m->force && !access(path, F_OK)) {
		fprintf(stderr, "xpxe store: %s exists: not replaced (--force replaces it)\n",
			path);
		return -EEXIST;
	}
	err = xpxe_write_atomically(path, 0600, fill, s);
	if (err)
		fprintf(stderr, "xpxe store: cannot write %s: %s\n", path, strerror(-err));
	return err;
}

static int to_files(struct migrate *m)
{
	struct snapshot s = { .m = m };
	struct wire_call c = { .path = "/v3/kv/range" };
	struct fy_document *doc;
	char k64[800], end_raw[300], e64[800], path[XPXE_STORE_PATH_MAX + 32];
	int err;

	b64_encode(m->cfg.prefix, strlen(m->cfg.prefix), k64);
	range_end_of(m->cfg.prefix, end_raw, sizeof(end_raw));
	b64_encode(end_raw, strlen(end_raw), e64);
	if (asprintf(&c.body, "{\"key\":\"%s\",\"range_end\":\"%s\"}", k64, e64) < 0)
		return -ENOMEM;
	wire_run(&m->wire, &c, 1);
	free(c.body);
	if (c.err) {
		fprintf(stderr, "xpxe store: cannot read %s: %s\n", m->cfg.url,
			c.err == -EAGAIN ? "no endpoint answers" : (c.reply ? c.reply : "?"));
		wire_call_free(&c);
		return -EIO;
	}
	doc = wire_parse_reply(&c);
	err = doc ? wire_kvs(fy_document_root(doc), "/kvs", &s.kvs, &s.n) : -EPROTO;
	fy_document_destroy(doc);
	wire_call_free(&c);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/machines.yaml", m->state_dir);
	err = write_file(m, path, fill_machines, &s);
	snprintf(path, sizeof(path), "%s/installed", m->state_dir);
	if (!err)
		err = write_file(m, path, fill_marks, &s);
	if (!err && m->n_leases)
		err = write_file(m, m->leases[0], fill_leases, &s);
	if (!err)
		printf("to files in %s: %d machine(s), %d boot-once mark(s)%s%s (%d binding(s) in "
		       "the store)\n",
		       m->state_dir, count_kind(&s, REC_MACHINE), count_kind(&s, REC_MARK),
		       m->n_leases ? ", bindings into " : "", m->n_leases ? m->leases[0] : "",
		       count_kind(&s, REC_LEASE_IP));
	wire_kvs_free(s.kvs, s.n);
	return err;
}

int xpxe_store_command(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "leases", required_argument, NULL, 'l' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct migrate m;
	const char *from = NULL, *to = NULL, *etcd_url;
	char why[256];
	int c, err;

	if (argc < 2 || strcmp(argv[1], "migrate")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(xpxe_store_usage, stdout);
			return EXIT_OK;
		}
		return usage("%s", argc < 2 ? "which? migrate" : "unknown subcommand");
	}
	argc--;
	argv++;
	xpxe_store_cfg_default(&m.cfg);
	m.state_dir = XPXE_STATE_DIR;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'd':
			m.state_dir = optarg;
			break;
		case 'l':
			if (m.n_leases == 16)
				return usage("%s", "at most 16 --leases files");
			m.leases[m.n_leases++] = optarg;
			break;
		case 'p':
			snprintf(m.cfg.prefix, sizeof(m.cfg.prefix), "%s", optarg);
			break;
		case 'A':
			snprintf(m.cfg.ca, sizeof(m.cfg.ca), "%s", optarg);
			break;
		case 'C':
			snprintf(m.cfg.cert, sizeof(m.cfg.cert), "%s", optarg);
			break;
		case 'K':
			snprintf(m.cfg.key, sizeof(m.cfg.key), "%s", optarg);
			break;
		case 'F':
			m.force = true;
			break;
		case 'h':
			fputs(xpxe_store_usage, stdout);
			return EXIT_OK;
		default:
			return usage("%s", "bad option");
		}
	}
	if (optind < argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (!from || !to)
		return usage("%s", "migrate needs --from and --to");
	if (!strcmp(from, "files") == !strcmp(to, "files"))
		return usage("%s", "one side is files, the other etcd://...");
	etcd_url = strcmp(from, "files") ? from : to;
	if (xpxe_store_parse_url(&m.cfg, etcd_url, why, sizeof(why)) ||
	    m.cfg.backend != XPXE_STORE_ETCD || xpxe_store_cfg_finish(&m.cfg, why, sizeof(why)))
		return usage("%s", m.cfg.backend != XPXE_STORE_ETCD ? "the other side is etcd://..."
								    : why);
	if (!strcmp(to, "files") && m.n_leases > 1)
		return usage("%s", "to files: one --leases FILE (it gets every binding)");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || wire_init(&m.wire, &m.cfg)) {
		fprintf(stderr, "xpxe store: libcurl cannot start\n");
		return EXIT_FAIL;
	}
	if (!strcmp(from, "files")) {
		err = read_machines(&m);
		if (!err)
			err = read_marks(&m);
		for (int i = 0; !err && i < m.n_leases; i++)
			err = read_leases(&m, m.leases[i]);
		if (!err)
			err = write_etcd(&m);
	} else {
		err = to_files(&m);
	}
	wire_free(&m.wire);
	for (int i = 0; i < m.n; i++) {
		free(m.keys[i]);
		free(m.values[i]);
	}
	free(m.keys);
	free(m.values);
	return err ? EXIT_FAIL : EXIT_OK;
}
