// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <microhttpd.h>

#include "boot/boot.h"
#include "counters.h"
#include "http/http.h"
#include "events.h"
#include "log.h"
#include "http/render.h"
#include "tls/tls.h"
#include "ui/ui.h"

#define SCRIPT_MAX 4096

/*
 * What one HTTP request leaves for its end (libmicrohttpd's completion
 * callback): a config's boot-once mark is set only once the whole document
 * went out to the machine, never for a HEAD or a client that left early.
 */
struct pending {
	char key[80]; /* boot-once key to set; "" for none */
	char name[XPXE_CFG_NAME_MAX + 24];
	char src_text[INET6_ADDRSTRLEN];
	struct xpxe_admit_ticket ticket; /* a bulk download's place (admit.h); NEW: none */
	char mac[18];			 /* of the machine downloading, "" unknown */
};

static double mono_now(void);

struct request {
	struct MHD_Connection *conn;
	struct in_addr src; /* 0 over IPv6 */
	bool v6;	    /* came over IPv6, from SRC6 */
	struct in6_addr src6;
	char src_text[INET6_ADDRSTRLEN];
	bool head;
	bool tls; /* came in over HTTPS */
	struct pending *pending;
	/* Where it came in (request_site): the URLs it gets name that address. */
	struct in_addr local; /* 0 over IPv6 */
	const char *base, *tftp_base, *config_base;
	char site[3][112]; /* a VLAN's (or the IPv6 address's) base, tftp_base and config_base */
};

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned int status, const char *type,
				 const char *text, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned int status, const char *why)
{
	char text[512];
	int n = snprintf(text, sizeof(text), "%u %s\n", status, why);

	return send_text(conn, status, "text/plain", text, (size_t)n < sizeof(text) ? n : 0);
}

static const char *arg(struct MHD_Connection *conn, const char *name)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);

	return v && *v ? v : NULL;
}

/* The address the program's bindings give MAC, or 0. */
static in_addr_t binding_of(const struct xpxe_http_leases *l, const unsigned char mac[6])
{
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp_client client;

	memcpy(key.addr, mac, 6);
	for (int i = 0; i < l->n; i++)
		if (!bpf_map_lookup_elem(l->clients_fds[i], &key, &client) &&
		    xpxe_dhcp_client_bound(&client))
			return client.ip;
	return 0;
}

/* The MAC holding address IP in the bindings; false when none does. */
static bool mac_of(const struct xpxe_http_leases *l, struct in_addr ip, unsigned char mac[6])
{
	for (int i = 0; i < l->n; i++) {
		struct xpxe_mac_key key, next;
		struct xpxe_dhcp_client client;
		void *prev = NULL;

		while (!bpf_map_get_next_key(l->clients_fds[i], prev, &next)) {
			if (!bpf_map_lookup_elem(l->clients_fds[i], &next, &client) &&
			    xpxe_dhcp_client_bound(&client) && client.ip == ip.s_addr) {
				memcpy(mac, next.addr, 6);
				return true;
			}
			key = next;
			prev = &key;
		}
	}
	return false;
}

in_addr_t xpxe_http_config_address(struct xpxe_http *h, int idx, const char *mac, const char *key,
				   const char **how, bool *bound)
{
	const struct xpxe_machine_cfg *m = idx >= 0 ? &h->cfg->machines[idx] : NULL;
	const struct xpxe_learned *learned;
	unsigned char addr[6];
	in_addr_t held = 0;

	if (m) {
		for (int i = 0; i < m->n_macs && !held; i++)
			held = binding_of(&h->leases, m->macs[i]);
	} else if (mac && !xpxe_parse_mac(mac, addr)) {
		held = binding_of(&h->leases, addr);
	}
	*bound = held != 0;
	if (held) {
		*how = m && m->ip.s_addr == held ? "its reservation" : "its lease";
		return held;
	}
	learned = xpxe_inventory_learned(h->inv, key);
	if (learned && !learned->v6) {
		*how = !strcmp(learned->how, "dhcp-4011")
			   ? "the address of its boot server request"
			   : "the address it fetched its script from";
		return learned->ip.s_addr;
	}
	*how = "no address known";
	return 0;
}

bool xpxe_http_allowed(const struct xpxe_config *cfg, struct in_addr src)
{
	if (!cfg->n_allow)
		return true;
	for (int i = 0; i < cfg->n_allow; i++)
		if ((src.s_addr & cfg->allow[i].mask.s_addr) == cfg->allow[i].addr.s_addr)
			return true;
	return false;
}

/* Who asks: a machine of the inventory (*IDX >= 0) or an unknown one under the default profile. */
struct who {
	int idx;
	int profile;
	char mac[18]; /* normalised, "" when unknown */
	char name[XPXE_CFG_NAME_MAX + 24];
	char key[80]; /* boot-once key */
};

static int identify(struct xpxe_http *h, const struct request *rq, const struct xpxe_identity *id,
		    struct who *who, const char **why)
{
	const struct xpxe_config *cfg = h->cfg;
	const struct xpxe_machine_cfg *m;

	memset(who, 0, sizeof(*who));
	if (id->mac && xpxe_mac_normalize(id->mac, who->mac)) {
		*why = "the MAC is not aa:bb:cc:dd:ee:ff";
		return -1;
	}
	who->idx = xpxe_inventory_find(h->inv, id, why);
	if (who->idx < 0) {
		if (cfg->default_profile < 0)
			return -1; /* unknown machines are ignored: WHY says why */
		if (!who->mac[0]) {
			*why = "an unknown machine must give its MAC";
			return -1;
		}
		who->profile = cfg->default_profile;
		snprintf(who->name, sizeof(who->name), "%s (not in the inventory)", who->mac);
		snprintf(who->key, sizeof(who->key), "mac:%s", who->mac);
		*why = NULL;
		return 0;
	}
	m = &cfg->machines[who->idx];
	who->profile = xpxe_config_machine_profile(cfg, m);
	if (!who->mac[0] && m->n_macs)
		snprintf(who->mac, sizeof(who->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m->macs[0][0],
			 m->macs[0][1], m->macs[0][2], m->macs[0][3], m->macs[0][4], m->macs[0][5]);
	snprintf(who->name, sizeof(who->name), "%s", m->hostname[0] ? m->hostname : who->mac);
	if (!who->name[0])
		snprintf(who->name, sizeof(who->name), "line %d of the config", m->line);
	xpxe_inventory_key(m, who->key, sizeof(who->key));
	(void)rq;
	return 0;
}

static enum MHD_Result boot_script(struct xpxe_http *h, struct request *rq)
{
	struct xpxe_identity id = { arg(rq->conn, "mac"), arg(rq->conn, "uuid"),
				    arg(rq->conn, "serial"), NULL };
	const char *buildarch = arg(rq->conn, "arch");
	char script[SCRIPT_MAX], mac_text[18], detail[XPXE_CFG_NAME_MAX * 2 + 16];
	const struct xpxe_profile_cfg *p;
	const char *why = NULL, *kernel, *initrd;
	enum xpxe_arch arch;
	struct who who;
	unsigned char mac[6];
	int err;

	/*
	 * A bare request: the address may name the machine through its binding, but not its
	 * architecture. Without arch=, the chain script asks again with ${buildarch}: an arm64
	 * iPXE must not get amd64's files (what a request without arch= means below: an old
	 * chain script's, from before arm64).
	 */
	if (!id.mac && !id.uuid && !id.serial && buildarch && mac_of(&h->leases, rq->src, mac)) {
		snprintf(mac_text, sizeof(mac_text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
			 mac[1], mac[2], mac[3], mac[4], mac[5]);
		id.mac = mac_text;
	}
	if (!id.mac && !id.uuid && !id.serial) {
		xpxe_script_chain(script, sizeof(script), rq->base);
		return send_text(rq->conn, MHD_HTTP_OK, "text/plain", script, strlen(script));
	}

	pthread_mutex_lock(&h->inv->lock);
	err = identify(h, rq, &id, &who, &why);
	if (err) {
		pthread_mutex_unlock(&h->inv->lock);
		__atomic_add_fetch(&h->stats.not_found, 1, __ATOMIC_RELAXED);
		log_info("http: no boot script for %s (mac=%s uuid=%s): %s", rq->src_text,
			 id.mac ? id.mac : "-", id.uuid ? id.uuid : "-", why);
		return send_error(rq->conn, MHD_HTTP_NOT_FOUND, why);
	}
	/* Where the machine boots from: its config goes there (unless a binding says else). */
	if (rq->v6)
		xpxe_inventory_learn6(h->inv, who.key, &rq->src6, "boot-script");
	else if (rq->src.s_addr)
		xpxe_inventory_learn(h->inv, who.key, rq->src, "boot-script");
	if (xpxe_inventory_is_installed(h->inv, who.key, NULL)) {
		pthread_mutex_unlock(&h->inv->lock);
		xpxe_script_local(script, sizeof(script), who.name);
		__atomic_add_fetch(&h->stats.local_boots, 1, __ATOMIC_RELAXED);
		xpxe_event(XPXE_EV_LOCAL_BOOT, who.mac, rq->src_text, NULL, who.name, 0);
		return send_text(rq->conn, MHD_HTTP_OK, "text/plain", script, strlen(script));
	}
	p = &h->cfg->profiles[who.profile];
	/* The machine's architecture's files (iPXE's ${buildarch}), never another's. */
	arch = xpxe_arch_of_buildarch(buildarch);
	if (p->transport == XPXE_TRANSPORT_UKI && p->uki[0]) {
		const char *name = xpxe_profile_uki(p, arch);
		char url[XPXE_CFG_NAME_MAX + 128];

		if (!name) {
			/* P is the config's: formatted before a reload may free it. */
			snprintf(url, sizeof(url), "profile '%s' has no %s UKI", p->name,
				 arch == XPXE_ARCH_UNKNOWN ? "such an architecture's"
							   : xpxe_arch_name(arch));
			pthread_mutex_unlock(&h->inv->lock);
			__atomic_add_fetch(&h->stats.no_arch_files, 1, __ATOMIC_RELAXED);
			log_warn("http: no boot script for %s (%s): %s", who.name, rq->src_text,
				 url);
			return send_error(rq->conn, MHD_HTTP_NOT_FOUND, url);
		}
		snprintf(url, sizeof(url), "%s/uki/%s", rq->base, name);
		err = xpxe_script_uki(script, sizeof(script), who.name, url, rq->base);
		pthread_mutex_unlock(&h->inv->lock);
		if (err)
			return send_error(rq->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "script too long");
		__atomic_add_fetch(&h->stats.scripts, 1, __ATOMIC_RELAXED);
		xpxe_event(XPXE_EV_SCRIPT, who.mac, rq->src_text, NULL, who.name, 0);
		return send_text(rq->conn, MHD_HTTP_OK, "text/plain", script, strlen(script));
	}
	if (!xpxe_profile_kernel(p, arch, &kernel, &initrd)) {
		char reason[XPXE_CFG_NAME_MAX * 2 + 96];
		/* A machine of an architecture its profile has no files for, or a profile
		 * without a kernel. P is the config's: read before a reload may free it. */
		bool wrong_arch = arch != XPXE_ARCH_AMD64 || p->kernel_arm64[0];

		if (wrong_arch)
			snprintf(reason, sizeof(reason), "profile '%s' has no %s kernel and initrd",
				 p->name,
				 /* not the client's text: it goes to the log */
				 arch == XPXE_ARCH_UNKNOWN ? "such an architecture's"
							   : xpxe_arch_name(arch));
		else
			snprintf(reason, sizeof(reason),
				 "profile '%s' of %s names no kernel/initrd", p->name, who.name);
		pthread_mutex_unlock(&h->inv->lock);
		if (wrong_arch) {
			__atomic_add_fetch(&h->stats.no_arch_files, 1, __ATOMIC_RELAXED);
			log_warn("http: no boot script for %s (%s): %s", who.name, rq->src_text,
				 reason);
			return send_error(rq->conn, MHD_HTTP_NOT_FOUND, reason);
		}
		log_warn("http: %s", reason);
		return send_error(rq->conn, MHD_HTTP_NOT_FOUND,
				  "the machine's profile boots no kernel");
	}
	err = xpxe_script_boot(
	    script, sizeof(script),
	    &(struct xpxe_script_in){ .base = rq->base,
				      .config_base = rq->config_base,
				      .tftp_base = rq->tftp_base,
				      .name = who.name,
				      .kernel = kernel,
				      .initrd = initrd,
				      .cmdline = p->cmdline,
				      .tftp = p->transport == XPXE_TRANSPORT_TFTP });
	snprintf(detail, sizeof(detail), "%s, profile %s", who.name, p->name);
	pthread_mutex_unlock(&h->inv->lock);
	if (err)
		return send_error(rq->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "script too long");
	__atomic_add_fetch(&h->stats.scripts, 1, __ATOMIC_RELAXED);
	xpxe_event(XPXE_EV_SCRIPT, who.mac, rq->src_text, NULL, detail, 0);
	return send_text(rq->conn, MHD_HTTP_OK, "text/plain", script, strlen(script));
}

/* Parses "bytes=A-B" / "bytes=A-" / "bytes=-N" for a file of SIZE bytes. */
static int parse_range(const char *h, off_t size, off_t *from, off_t *to)
{
	char *end;
	long long a, b;

	if (strncmp(h, "bytes=", 6) || strchr(h, ','))
		return -EINVAL; /* several ranges: not supported, answered whole by the caller */
	h += 6;
	if (*h == '-') {
		b = strtoll(h + 1, &end, 10);
		if (*end || b <= 0)
			return -EINVAL;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
	} else {
		a = strtoll(h, &end, 10);
		if (*end != '-' || a < 0)
			return -EINVAL;
		if (end[1]) {
			b = strtoll(end + 1, &end, 10);
			if (*end || b < a)
				return -EINVAL;
		} else {
			b = size - 1;
		}
		*from = a;
		*to = b >= size ? size - 1 : b;
	}
	return *from < size ? 0 : -ERANGE;
}

static bool is_uki(const struct xpxe_config *cfg, const char *name);

/*
 * Whether a machine's Talos document says `machine:` ... `type: controlplane` (or init). A
 * scan of lines, not a YAML parse: the document may hold {{placeholders}} that are YAML only
 * once rendered. Reads at most its first 8192 lines, each whole (getline): a long line (a
 * certificate, a list of SANs) read in pieces had its rest taken for a top-level key, which
 * ended machine: before its type.
 */
bool xpxe_http_document_says_controlplane(const char *path)
{
	char *line = NULL;
	size_t size = 0;
	bool in_machine = false, yes = false;
	int lines = 0;
	FILE *f = path[0] ? fopen(path, "r") : NULL;

	if (!f)
		return false;
	while (!yes && getline(&line, &size, f) >= 0 && ++lines < 8192) {
		const char *p = line;
		char word[16];

		if (line[0] != ' ' && line[0] != '\t' && line[0] != '#' && line[0] != '\n') {
			in_machine = !strncmp(line, "machine:", 8);
			continue;
		}
		if (!in_machine)
			continue;
		p += strspn(p, " \t");
		/* `type:` one level below machine: (its indentation is the first key's). */
		if (strncmp(p, "type:", 5))
			continue;
		p += 5 + strspn(p + 5, " \t\"'");
		snprintf(word, sizeof(word), "%.*s", (int)strcspn(p, " \t\"'#\r\n"), p);
		yes = xpxe_role_rank(word) == XPXE_RANK_CONTROLPLANE;
	}
	free(line);
	fclose(f);
	return yes;
}

/* Whether L, a learned address, is RQ's source (either family). */
static bool learned_at(const struct xpxe_learned *l, const struct request *rq)
{
	if (rq->v6)
		return l->v6 && !memcmp(&l->ip6, &rq->src6, sizeof(rq->src6));
	return !l->v6 && l->ip.s_addr == rq->src.s_addr;
}

/*
 * Who downloads from the source address, and its place in the queue: the machine holding the
 * address (its binding, else the address it fetched its script from), its inventory role, else
 * what its Talos document says. Fills WHO (a name for watch and the log) and MAC ("" unknown).
 */
static int download_rank(struct xpxe_http *h, struct request *rq, char *who_text, size_t who_size,
			 char mac_text[18])
{
	struct xpxe_identity id = { 0 };
	const struct xpxe_learned *seen = NULL;
	const struct xpxe_machine_cfg *m = NULL;
	const char *why;
	char doc[XPXE_CFG_PATH_MAX + 32], key[80];
	struct who who;
	unsigned char mac[6];
	int rank = XPXE_RANK_WORKER;
	bool has_role;

	snprintf(who_text, who_size, "%s", rq->src_text);
	mac_text[0] = '\0';
	doc[0] = '\0';
	if (mac_of(&h->leases, rq->src, mac)) {
		snprintf(mac_text, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
			 mac[3], mac[4], mac[5]);
		id.mac = mac_text;
	}
	pthread_mutex_lock(&h->inv->lock);
	if (!id.mac) /* the latest machine seen at this address */
		for (int i = 0; i < h->inv->n_learned; i++)
			if (learned_at(&h->inv->learned[i], rq) &&
			    (!seen || h->inv->learned[i].when >= seen->when))
				seen = &h->inv->learned[i];
	if (seen && !strncmp(seen->key, "mac:", 4)) {
		snprintf(mac_text, 18, "%s", seen->key + 4);
		id.mac = mac_text;
	} else if (seen) {
		for (int i = 0; i < h->cfg->n_machines && !m; i++) {
			xpxe_inventory_key(&h->cfg->machines[i], key, sizeof(key));
			if (!strcmp(key, seen->key))
				m = &h->cfg->machines[i];
		}
		if (m)
			snprintf(who_text, who_size, "%s",
				 m->hostname[0] ? m->hostname : seen->key);
	}
	if (id.mac && !identify(h, rq, &id, &who, &why)) {
		snprintf(who_text, who_size, "%s", who.name);
		m = who.idx >= 0 ? &h->cfg->machines[who.idx] : NULL;
		xpxe_http_document_path(m && m->talos_config[0]
					    ? m->talos_config
					    : h->cfg->profiles[who.profile].talos_config,
					who.mac, doc, sizeof(doc));
	} else if (m) {
		xpxe_http_document_path(
		    m->talos_config[0]
			? m->talos_config
			: h->cfg->profiles[xpxe_config_machine_profile(h->cfg, m)].talos_config,
		    "", doc, sizeof(doc));
	}
	/* M is the config's: read before a reload may free it. */
	has_role = m && m->role[0];
	if (has_role)
		rank = xpxe_role_rank(m->role);
	pthread_mutex_unlock(&h->inv->lock);
	if (!has_role && doc[0] && xpxe_http_document_says_controlplane(doc))
		rank = XPXE_RANK_CONTROLPLANE;
	return rank < 0 ? XPXE_RANK_WORKER : rank;
}

unsigned xpxe_http_downloads_waiting(struct xpxe_http *h)
{
	unsigned n;

	pthread_mutex_lock(&h->admit.lock);
	n = h->admit.waiting;
	pthread_mutex_unlock(&h->admit.lock);
	return n;
}

int xpxe_http_machine_rank(struct xpxe_http *h, struct in_addr ip, const char *mac, char *who_text,
			   size_t who_size, char mac_out[18])
{
	struct xpxe_identity id = { 0 };
	const struct xpxe_machine_cfg *m;
	const char *why;
	char doc[XPXE_CFG_PATH_MAX + 32];
	struct who who;
	unsigned char bound[6];
	int rank = XPXE_RANK_WORKER;
	bool has_role;

	mac_out[0] = '\0';
	if (!h->inv || !h->cfg)
		return XPXE_RANK_WORKER;
	/* The frame's MAC bound to IP: one lookup, not a walk of every binding (a storm's RRQs). */
	if (mac && xpxe_parse_mac(mac, bound) == 0 && binding_of(&h->leases, bound) == ip.s_addr)
		snprintf(mac_out, 18, "%s", mac);
	else if (mac_of(&h->leases, ip, bound))
		snprintf(mac_out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", bound[0], bound[1], bound[2],
			 bound[3], bound[4], bound[5]);
	else if (mac)
		snprintf(mac_out, 18, "%s", mac);
	if (!mac_out[0])
		return XPXE_RANK_WORKER;
	id.mac = mac_out;
	doc[0] = '\0';
	pthread_mutex_lock(&h->inv->lock);
	if (identify(h, NULL, &id, &who, &why)) {
		pthread_mutex_unlock(&h->inv->lock);
		return XPXE_RANK_WORKER;
	}
	if (who.idx >= 0)
		snprintf(who_text, who_size, "%s", who.name);
	m = who.idx >= 0 ? &h->cfg->machines[who.idx] : NULL;
	xpxe_http_document_path(
	    m && m->talos_config[0] ? m->talos_config : h->cfg->profiles[who.profile].talos_config,
	    who.mac, doc, sizeof(doc));
	/* M is the config's: read before a reload may free it. */
	has_role = m && m->role[0];
	if (has_role)
		rank = xpxe_role_rank(m->role);
	pthread_mutex_unlock(&h->inv->lock);
	if (!has_role && doc[0] && xpxe_http_document_says_controlplane(doc))
		rank = XPXE_RANK_CONTROLPLANE;
	return rank < 0 ? XPXE_RANK_WORKER : rank;
}

/*
 * A bulk download's turn (admit.h): 1 to send it now, 0 when it waits in the queue (its
 * body is then a held one: held_read), -1 when the server stops.
 */
static int take_turn(struct xpxe_http *h, struct request *rq, const char *name, char mac[18])
{
	struct xpxe_admit_ticket *t = &rq->pending->ticket;
	unsigned ahead;

	if (t->state == XPXE_TICKET_CLOSED)
		return -1;
	t->rank = download_rank(h, rq, t->who, sizeof(t->who), mac);
	t->client = xpxe_admit_client_key(
	    rq->v6, rq->src, &rq->src6); /* its next file keeps the place of its first */
	memcpy(rq->pending->mac, mac, 18);
	snprintf(t->what, sizeof(t->what), "%s", name);
	t->ctx = rq->conn;
	if (xpxe_admit_enter(&h->admit, t, mono_now())) {
		if (t->controlplane_over)
			log_info("http: %s of %s goes at once, over the cap (control plane; %u "
				 "downloads at once)",
				 name, t->who, h->admit.max);
		return 1;
	}
	/*
	 * Held, not refused: firmware HTTP clients retry badly or not at all. The others
	 * waiting: this one may have been let in (and left the count) meanwhile.
	 */
	pthread_mutex_lock(&h->admit.lock);
	ahead = h->admit.waiting ? h->admit.waiting - 1 : 0;
	pthread_mutex_unlock(&h->admit.lock);
	log_info("http: %s of %s queued%s (%u downloads at once, %u others waiting)", name, t->who,
		 t->rank == XPXE_RANK_CONTROLPLANE ? " ahead of the workers (control plane)" : "",
		 h->admit.max, ahead);
	xpxe_event(XPXE_EV_DOWNLOAD_QUEUED, mac, rq->src_text, NULL, name, 0);
	return 0;
}

/*
 * The body of a download that waits in the queue: the header went out at once; the file's
 * first bytes trickle (admit.h) until its turn comes, then the rest at full speed. Read with
 * pread, not sendfile: MHD cannot pause a file response, and a held one must pause.
 */
struct held_body {
	struct xpxe_http *h;
	struct MHD_Connection *conn;
	struct xpxe_admit_ticket *t; /* in the request's pending: lives as long as the body */
	int fd;
	off_t from, len;
	off_t size; /* the file's, and its modification time, when it was opened */
	struct timespec mtime;
	bool started; /* its turn came: said once */
};

/*
 * Whether B's file is as it was when its download was queued. A held download reads it long
 * after asset() checked it against the copy TFTP serves: a file rewritten in place meanwhile
 * (replaced by rename, the open file keeps the bytes that were checked) would send other
 * bytes than its first ones, or than TFTP's. Asked until it starts, as the file is not read
 * at full speed until then.
 */
static bool held_file_unchanged(const struct held_body *b)
{
	struct stat st;

	return !fstat(b->fd, &st) && st.st_size == b->size &&
	       st.st_mtim.tv_sec == b->mtime.tv_sec && st.st_mtim.tv_nsec == b->mtime.tv_nsec;
}

static ssize_t held_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct held_body *b = cls;
	struct xpxe_admit_ticket *t = b->t;
	size_t n = max;
	ssize_t got;

	if ((off_t)pos >= b->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (!b->started && !held_file_unchanged(b)) {
		/* Ended short of its Content-Length: the client retries, and gets a 503. */
		__atomic_add_fetch(&b->h->stats.asset_changed, 1, __ATOMIC_RELAXED);
		log_warn("http: %s of %s: the file changed on disk while the download waited; "
			 "ended, refused until 'xpxe assets --reload' loads it again",
			 t->what, t->who);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	switch (xpxe_admit_body(&b->h->admit, t, &n)) {
	case XPXE_BODY_GO:
		if (!b->started) {
			b->started = true;
			log_info("http: %s of %s starts after %.1f s in the queue%s", t->what,
				 t->who, t->admitted - t->queued,
				 t->overdue ? " (let in over the cap: downloads.max_wait)" : "");
		}
		break;
	case XPXE_BODY_TRICKLE:
		break;
	case XPXE_BODY_STOP:
		return MHD_CONTENT_READER_END_WITH_ERROR;
	case XPXE_BODY_HOLD:
		/* Nothing to send: off MHD's loop until its turn or its trickle (no busy loop). */
		MHD_suspend_connection(b->conn);
		if (xpxe_admit_held(&b->h->admit, t))
			MHD_resume_connection(b->conn); /* it changed before it was suspended */
		return 0;
	}
	if ((off_t)n > b->len - (off_t)pos)
		n = b->len - pos;
	got = pread(b->fd, buf, n, b->from + (off_t)pos);
	return got > 0 ? got : MHD_CONTENT_READER_END_WITH_ERROR; /* shrunk: end it short */
}

static void held_free(void *cls)
{
	struct held_body *b = cls;

	close(b->fd);
	free(b);
}

/*
 * A file of the assets. MAY_WAIT: a large one waits its turn (iPXE's downloads). A UKI does
 * not: UEFI HTTP boot firmware (EDK2's HttpBootDxe) gives up on a response whose header does
 * not come within seconds, and a held download has none.
 */
static enum MHD_Result asset(struct xpxe_http *h, struct request *rq, const char *name,
			     bool may_wait)
{
	const char *range = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Range");
	const struct xpxe_asset_cfg *a;
	struct xpxe_file_id loaded;
	struct MHD_Response *r;
	char path[XPXE_CFG_PATH_MAX], text[96];
	struct stat st;
	off_t from = 0, to;
	unsigned int status = MHD_HTTP_OK;
	enum MHD_Result ret;
	char mac_text[18] = "";
	bool who_known = false; /* MAC_TEXT is known (take_turn found it) */
	int turn = 1;		/* 0: it waits its turn (a held body) */
	bool efi = false;
	int fd, err;

	pthread_mutex_lock(&h->inv->lock);
	a = xpxe_config_asset(h->cfg, name);
	if (a) {
		snprintf(path, sizeof(path), "%s", a->path);
		loaded = a->loaded;
		efi = is_uki(h->cfg, name);
	}
	pthread_mutex_unlock(&h->inv->lock);
	if (!a)
		return send_error(rq->conn, MHD_HTTP_NOT_FOUND, "no such asset");
	/* A large file waits its turn; small ones, EFI binaries (and HEAD) never queue. */
	if (may_wait && !rq->head && h->downloads.max &&
	    (unsigned long long)loaded.size >= h->downloads.min_size && xpxe_admit_may_hold(name)) {
		turn = take_turn(h, rq, name, mac_text);
		if (turn < 0)
			return send_error(rq->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "the server is stopping");
		who_known = true;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* Gone since it was loaded: as for a replaced file, TFTP still has the bytes. */
		__atomic_add_fetch(&h->stats.asset_changed, 1, __ATOMIC_RELAXED);
		log_warn("http: asset %s: %s is gone from disk since it was loaded; refused until "
			 "it is back and 'xpxe assets --reload' loads it again",
			 name, path);
		return send_error(rq->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "asset file gone from disk since it was loaded: put it back, "
				  "then xpxe assets --reload");
	}
	if (fd < 0 || fstat(fd, &st)) {
		log_error("http: asset %s: %s: %s", name, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return send_error(rq->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "asset unreadable");
	}
	/*
	 * TFTP serves the copy loaded into the maps (`xpxe assets` lists its sha256). A file
	 * replaced, truncated or still being written since then is not served at all: never
	 * other bytes than TFTP's under the same name, never a half-copied kernel. A file
	 * that shrinks during a response ends it short: the client sees a body shorter than
	 * its Content-Length, never other bytes.
	 */
	if (st.st_dev != loaded.dev || st.st_ino != loaded.ino || st.st_size != loaded.size ||
	    st.st_mtim.tv_sec != loaded.mtime.tv_sec ||
	    st.st_mtim.tv_nsec != loaded.mtime.tv_nsec) {
		close(fd);
		__atomic_add_fetch(&h->stats.asset_changed, 1, __ATOMIC_RELAXED);
		log_warn("http: asset %s: %s changed on disk since it was loaded; refused until "
			 "'xpxe assets --reload' loads it again",
			 name, path);
		return send_error(
		    rq->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "asset changed on disk since it was loaded: xpxe assets --reload");
	}
	to = st.st_size - 1;
	if (range) {
		err = parse_range(range, st.st_size, &from, &to);
		if (err == -ERANGE) {
			close(fd);
			r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
			snprintf(text, sizeof(text), "bytes */%lld", (long long)st.st_size);
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, text);
			ret = MHD_queue_response(rq->conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
			MHD_destroy_response(r);
			return ret;
		}
		if (!err)
			status = MHD_HTTP_PARTIAL_CONTENT;
		else
			from = 0, to = st.st_size - 1;
	}
	if (!turn) {
		struct held_body *b = calloc(1, sizeof(*b));

		if (b) {
			*b = (struct held_body){ .h = h,
						 .conn = rq->conn,
						 .t = &rq->pending->ticket,
						 .fd = fd,
						 .from = from,
						 .len = st.st_size ? to - from + 1 : 0,
						 .size = st.st_size,
						 .mtime = st.st_mtim };
			r = MHD_create_response_from_callback(b->len, 256 << 10, held_read, b,
							      held_free);
			if (!r)
				free(b);
		} else {
			r = NULL;
		}
	} else {
		/* The response owns FD and sends it with sendfile. */
		r = MHD_create_response_from_fd_at_offset64(st.st_size ? to - from + 1 : 0, fd,
							    from);
	}
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	/*
	 * UEFI HTTP boot (EDK2's HttpBootCheckImageType) runs only what is
	 * application/efi or has a name ending in .efi: anything else fails before the
	 * download ("Could not retrieve NBP file size", then "Not Found"), seen with
	 * AAVMF and /uki/uki-arm64, every time. UKIs say what they are.
	 */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				efi ? "application/efi" : "application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (status == MHD_HTTP_PARTIAL_CONTENT) {
		snprintf(text, sizeof(text), "bytes %lld-%lld/%lld", (long long)from, (long long)to,
			 (long long)st.st_size);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, text);
	}
	ret = MHD_queue_response(rq->conn, status, r);
	MHD_destroy_response(r);
	__atomic_add_fetch(&h->stats.assets, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->stats.asset_bytes, st.st_size ? to - from + 1 : 0, __ATOMIC_RELAXED);
	{
		unsigned char mac[6];

		/* Which machine: the one holding the source address, when there is a binding. */
		if (!who_known && mac_of(&h->leases, rq->src, mac))
			snprintf(mac_text, sizeof(mac_text), "%02x:%02x:%02x:%02x:%02x:%02x",
				 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		xpxe_event(XPXE_EV_ASSET, mac_text, rq->src_text, NULL, name,
			   st.st_size ? (uint64_t)(to - from + 1) : 0);
	}
	return ret;
}

static bool is_uki(const struct xpxe_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_profiles; i++)
		if (!strcmp(cfg->profiles[i].uki, name) ||
		    !strcmp(cfg->profiles[i].uki_arm64, name))
			return true;
	return false;
}

/*
 * GET /uki/NAME: the UKI HTTP boot clients get in their DHCP answer. Boot-once
 * applies when xpxe knows who asks (the binding of the source address): an
 * installed machine gets a 404, and its firmware goes on to its next boot
 * option, the disk.
 */
static enum MHD_Result uki(struct xpxe_http *h, struct request *rq, const char *name)
{
	struct xpxe_identity id = { 0 };
	unsigned char mac[6];
	char mac_text[18] = "";
	const char *why;
	struct who who;
	bool known, installed = false;

	pthread_mutex_lock(&h->inv->lock);
	known = is_uki(h->cfg, name);
	if (known && mac_of(&h->leases, rq->src, mac)) {
		snprintf(mac_text, sizeof(mac_text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
			 mac[1], mac[2], mac[3], mac[4], mac[5]);
		id.mac = mac_text;
		if (!identify(h, rq, &id, &who, &why)) {
			xpxe_inventory_learn(h->inv, who.key, rq->src, "boot-script");
			installed = xpxe_inventory_is_installed(h->inv, who.key, NULL);
		}
	}
	pthread_mutex_unlock(&h->inv->lock);
	if (!known)
		return send_error(rq->conn, MHD_HTTP_NOT_FOUND, "no profile boots such a UKI");
	if (installed) {
		__atomic_add_fetch(&h->stats.local_boots, 1, __ATOMIC_RELAXED);
		log_info("http: %s is installed: no UKI for it, its firmware goes on to its disk "
			 "(xpxe machines rearm to reinstall)",
			 who.name);
		xpxe_event(XPXE_EV_LOCAL_BOOT, who.mac, rq->src_text, NULL, who.name, 0);
		return send_error(rq->conn, MHD_HTTP_NOT_FOUND,
				  "this machine is installed: boot from its disk");
	}
	__atomic_add_fetch(&h->stats.ukis, 1, __ATOMIC_RELAXED);
	return asset(h, rq, name, false);
}

void xpxe_http_document_path(const char *path, const char *mac, char *out, size_t size)
{
	char hyphen[18];
	struct stat st;

	snprintf(out, size, "%s", path);
	if (!path[0] || stat(path, &st) || !S_ISDIR(st.st_mode))
		return;
	snprintf(hyphen, sizeof(hyphen), "%s", mac);
	for (char *c = hyphen; *c; c++)
		*c = *c == ':' ? '-' : *c;
	snprintf(out, size, "%s/%s.yaml", path, hyphen);
	if (!mac[0] || access(out, R_OK))
		snprintf(out, size, "%s/default.yaml", path);
}

/* Reads the machine's config document: a file, or DIR/<mac-hyphen>.yaml, else DIR/default.yaml. */
static char *read_document(const char *path, const char *mac, char *used, size_t used_size,
			   size_t *len)
{
	char candidate[XPXE_CFG_PATH_MAX + 32];
	struct stat st;
	char *buf;
	FILE *f;

	if (!path[0])
		return NULL;
	xpxe_http_document_path(path, mac, candidate, sizeof(candidate));
	f = fopen(candidate, "r");
	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) || st.st_size > (16 << 20)) {
		fclose(f);
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	if (buf && fread(buf, 1, st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[st.st_size] = '\0';
		*len = st.st_size;
		snprintf(used, used_size, "%s", candidate);
	}
	return buf;
}

/*
 * The IPv6 address KEY's machine was last seen at (it fetched its script over IPv6), into
 * *ADDR; false when its last known address is not IPv6. Call with the inventory's lock held.
 */
static bool config_address6(struct xpxe_http *h, const char *key, struct in6_addr *addr)
{
	const struct xpxe_learned *learned = xpxe_inventory_learned(h->inv, key);

	*addr = in6addr_any;
	if (!learned || !learned->v6)
		return false;
	*addr = learned->ip6;
	return true;
}

/*
 * Whether a config may go to RQ's source, the machine's addresses being KNOWN (IPv4: its
 * binding, else where it was seen; 0: none; BOUND: a lease or reservation xpxe holds) and
 * KNOWN6 (HAVE6: it was last seen over IPv6). The rule is IPv4's for both families: a
 * machine whose address xpxe knows gets its config there only. Over IPv6 that is its
 * reserved IPv6 address (RESERVED6, not ::) when it has one, else the address it fetched its
 * script from over IPv6. An address xpxe gave out outranks one a machine was merely seen
 * at: anyone can fetch a script naming another machine's MAC, so a machine with an IPv4
 * binding gets nothing over IPv6 (else a stranger's script fetch over IPv6 would win its
 * config), and one known only by an IPv4 address gets nothing over IPv6, and the other way
 * round.
 */
static bool config_to_source(const struct request *rq, in_addr_t known, bool bound, bool have6,
			     const struct in6_addr *known6, const struct in6_addr *reserved6)
{
	if (rq->v6) {
		if (!IN6_IS_ADDR_UNSPECIFIED(reserved6))
			return !memcmp(reserved6, &rq->src6, sizeof(*reserved6));
		if (bound)
			return false;
		return have6 ? !memcmp(known6, &rq->src6, sizeof(*known6)) : !known;
	}
	return known ? known == rq->src.s_addr : !have6;
}

/* The trunk's VLAN whose server address is ADDR, or NULL (CFG's lock held). */
static const struct xpxe_vlan_cfg *vlan_at(const struct xpxe_config *cfg, struct in_addr addr)
{
	for (int i = 0; i < cfg->dhcp.n_vlans; i++)
		if (cfg->dhcp.vlans[i].server_ip.s_addr == addr.s_addr)
			return &cfg->dhcp.vlans[i];
	return NULL;
}

/*
 * Whether a request that came in on LOCAL may have the config of a machine at KNOWN: on a
 * trunk, only over the machine's own network, the VLAN whose subnet holds KNOWN (its server
 * address, which tc lets in from that VLAN only) or the untagged network. Else a machine of
 * VLAN 10 that took the address of a machine of VLAN 20 would get its config: the kernel
 * answers it from VLAN 10's address, so tagged for VLAN 10 (bpf/vlan.h). CFG's lock held.
 */
static bool same_network(const struct xpxe_config *cfg, struct in_addr local, in_addr_t known)
{
	const struct xpxe_vlan_cfg *v;

	if (!cfg->dhcp.n_vlans)
		return true;
	v = xpxe_vlan_of_ip(&cfg->dhcp, cfg->dhcp.vlan_ifname, (struct in_addr){ known });
	return v ? v->server_ip.s_addr == local.s_addr : !vlan_at(cfg, local);
}

/* A 403 for a config, with the lock held: counted, logged, an event for the fleet view. */
static enum MHD_Result refuse_config(struct xpxe_http *h, struct request *rq, const struct who *who,
				     const char *log_why, const char *answer)
{
	pthread_mutex_unlock(&h->inv->lock);
	__atomic_add_fetch(&h->stats.refused, 1, __ATOMIC_RELAXED);
	log_warn("http: config of %s refused to %s: %s", who->name, rq->src_text, log_why);
	xpxe_event(XPXE_EV_CONFIG_REFUSED, who->mac, rq->src_text, NULL, answer, 0);
	return send_error(rq->conn, MHD_HTTP_FORBIDDEN, answer);
}

static enum MHD_Result talos_config(struct xpxe_http *h, struct request *rq)
{
	struct xpxe_identity id = { arg(rq->conn, "mac"), arg(rq->conn, "uuid"),
				    arg(rq->conn, "serial"), arg(rq->conn, "hostname") };
	const struct xpxe_machine_cfg *m = NULL;
	char used[XPXE_CFG_PATH_MAX + 32], ip_text[INET6_ADDRSTRLEN] = "", hyphen[18];
	char ip6_text[INET6_ADDRSTRLEN] = "";
	char *doc, *out = NULL;
	const char *why = NULL, *bad_name, *how;
	struct who who;
	size_t len, out_len;
	in_addr_t known;
	struct in6_addr known6;
	bool bound, have6;
	int bad_line, err;

	pthread_mutex_lock(&h->inv->lock);
	if (h->cfg->tls.refuse_plain && !rq->tls) {
		pthread_mutex_unlock(&h->inv->lock);
		__atomic_add_fetch(&h->stats.refused, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&h->stats.refused_plain, 1, __ATOMIC_RELAXED);
		log_warn("http: config refused to %s over plain HTTP (http.config_over_http: "
			 "refuse): its talos.config= must be %s/talos/config",
			 rq->src_text, h->tls_base);
		return send_error(rq->conn, MHD_HTTP_FORBIDDEN,
				  "configs are served over HTTPS only");
	}
	if (!xpxe_http_allowed(h->cfg, rq->src)) {
		pthread_mutex_unlock(&h->inv->lock);
		__atomic_add_fetch(&h->stats.refused, 1, __ATOMIC_RELAXED);
		log_warn("http: config refused to %s: not in http.allow", rq->src_text);
		return send_error(rq->conn, MHD_HTTP_FORBIDDEN, "source not allowed");
	}
	if (identify(h, rq, &id, &who, &why)) {
		pthread_mutex_unlock(&h->inv->lock);
		__atomic_add_fetch(&h->stats.not_found, 1, __ATOMIC_RELAXED);
		log_warn("http: no config for %s (mac=%s uuid=%s serial=%s): %s", rq->src_text,
			 id.mac ? id.mac : "-", id.uuid ? id.uuid : "-",
			 id.serial ? id.serial : "-", why);
		return send_error(rq->conn, MHD_HTTP_NOT_FOUND, why);
	}
	if (who.idx >= 0)
		m = &h->cfg->machines[who.idx];
	/*
	 * Configs hold cluster secrets: a machine whose address xpxe knows (its
	 * lease or reservation, else the address it booted from) gets it there only.
	 */
	known = xpxe_http_config_address(h, who.idx, who.mac, who.key, &how, &bound);
	have6 = config_address6(h, who.key, &known6);
	if (!config_to_source(rq, known, bound, have6, &known6, m ? &m->ip6 : &in6addr_any)) {
		char log_why[96];

		if (rq->v6 && m && !IN6_IS_ADDR_UNSPECIFIED(&m->ip6)) {
			inet_ntop(AF_INET6, &m->ip6, ip_text, sizeof(ip_text));
			how = "its IPv6 reservation";
		} else if (known && (!rq->v6 || bound || !have6)) {
			inet_ntop(AF_INET, &known, ip_text, sizeof(ip_text));
		} else {
			inet_ntop(AF_INET6, &known6, ip_text, sizeof(ip_text));
			how = "the address it fetched its script from, over IPv6";
		}
		snprintf(log_why, sizeof(log_why), "the machine is at %s (%s)", ip_text, how);
		return refuse_config(h, rq, &who, log_why,
				     "this machine's config is served only to its own address");
	}
	/* VLANs are IPv4's: over IPv6 the address itself (config_to_source) decides. */
	if (!rq->v6 && known && !same_network(h->cfg, rq->local, known)) {
		__atomic_add_fetch(&h->stats.refused_other_vlan, 1, __ATOMIC_RELAXED);
		return refuse_config(h, rq, &who,
				     "the request came in on another network's address (VLAN) than "
				     "the machine's",
				     "this machine's config is served only on its own network");
	}
	if (!known && !have6 && h->cfg->config_without_address == XPXE_UNBOUND_REFUSE) {
		__atomic_add_fetch(&h->stats.refused_no_address, 1, __ATOMIC_RELAXED);
		return refuse_config(h, rq, &who,
				     "xpxe has seen no address of this machine (it did not boot "
				     "through xpxe; http.config_without_address: refuse)",
				     "xpxe knows no address of this machine: it must boot through "
				     "xpxe first");
	}
	/* {{ip}}: the address xpxe gave it, not one it was merely seen at. */
	if (bound)
		inet_ntop(AF_INET, &known, ip_text, sizeof(ip_text));
	else if (m && m->ip.s_addr)
		inet_ntop(AF_INET, &m->ip, ip_text, sizeof(ip_text));
	/*
	 * {{ip6}}: its IPv6 reservation, else over IPv6 the address it fetches from (its own:
	 * config_to_source said so above); none over IPv4 without a reservation.
	 */
	if (m && !IN6_IS_ADDR_UNSPECIFIED(&m->ip6))
		inet_ntop(AF_INET6, &m->ip6, ip6_text, sizeof(ip6_text));
	else if (rq->v6)
		inet_ntop(AF_INET6, &rq->src6, ip6_text, sizeof(ip6_text));
	doc = read_document(m && m->talos_config[0] ? m->talos_config
						    : h->cfg->profiles[who.profile].talos_config,
			    who.mac, used, sizeof(used), &len);
	if (!doc) {
		char profile[XPXE_CFG_NAME_MAX];

		/* The config's: copied before a reload may free it. */
		snprintf(profile, sizeof(profile), "%s", h->cfg->profiles[who.profile].name);
		pthread_mutex_unlock(&h->inv->lock);
		__atomic_add_fetch(&h->stats.not_found, 1, __ATOMIC_RELAXED);
		log_warn("http: no config document for %s (profile %s)", who.name, profile);
		xpxe_event(XPXE_EV_CONFIG_REFUSED, who.mac, rq->src_text, NULL,
			   "no config document", 0);
		return send_error(rq->conn, MHD_HTTP_NOT_FOUND,
				  "no config document for this machine");
	}
	snprintf(hyphen, sizeof(hyphen), "%s", who.mac);
	for (char *c = hyphen; *c; c++)
		*c = *c == ':' ? '-' : *c;
	err = xpxe_render_template(
	    doc, len,
	    &(struct xpxe_vars){ .hostname = m ? m->hostname : "",
				 .ip = ip_text,
				 .ip6 = ip6_text,
				 .mac = who.mac,
				 .mac_hyphen = hyphen,
				 .uuid = m && m->uuid[0] ? m->uuid : id.uuid,
				 .serial = m && m->serial[0] ? m->serial : id.serial,
				 .install_disk = m ? m->install_disk : "" },
	    &out, &out_len, &bad_name, &bad_line);
	if (err) {
		pthread_mutex_unlock(&h->inv->lock);
		log_error("http: %s:%d: unknown template variable '{{%.*s}}'", used, bad_line,
			  (int)strcspn(bad_name, " }"), bad_name);
		xpxe_event(XPXE_EV_CONFIG_REFUSED, who.mac, rq->src_text, NULL, "template error",
			   0);
		free(doc);
		return send_error(rq->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "config template error");
	}
	free(doc);
	pthread_mutex_unlock(&h->inv->lock);
	/*
	 * Boot-once: from now on this machine boots its disk, until re-armed. Set
	 * once the whole document has gone to the machine's own address (completed()).
	 */
	if ((known || have6) && !rq->head) {
		snprintf(rq->pending->key, sizeof(rq->pending->key), "%s", who.key);
		snprintf(rq->pending->name, sizeof(rq->pending->name), "%s", who.name);
		snprintf(rq->pending->src_text, sizeof(rq->pending->src_text), "%s", rq->src_text);
	} else if (!known && !have6) {
		__atomic_add_fetch(&h->stats.configs_no_address, 1, __ATOMIC_RELAXED);
		log_warn("http: config of %s served to %s, an address xpxe never saw it use "
			 "(http.config_without_address: serve): boot-once not set",
			 who.name, rq->src_text);
	}
	__atomic_add_fetch(&h->stats.configs, 1, __ATOMIC_RELAXED);
	xpxe_event(XPXE_EV_CONFIG, who.mac, rq->src_text, NULL, who.name, out_len);
	{
		struct MHD_Response *r =
		    MHD_create_response_from_buffer(out_len, out, MHD_RESPMEM_MUST_FREE);
		enum MHD_Result ret;

		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/yaml");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		ret = MHD_queue_response(rq->conn, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
}

static void metric(FILE *f, const char *name, const char *help, const char *type)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Bulk downloads (admit.h): how many run and wait, how they went in, and who is where. */
static void download_metrics(FILE *f, struct xpxe_http *h)
{
	enum { SHOWN = 1024 };
	struct xpxe_admit_view *v = calloc(SHOWN, sizeof(*v));
	struct xpxe_admit_stats st;
	unsigned active, waiting;
	int n;

	if (!v)
		return;
	n = xpxe_admit_snapshot(&h->admit, &active, &waiting, &st, v, SHOWN);
	metric(f, "xpxe_http_downloads_max", "Bulk downloads allowed at once (0: no cap)", "gauge");
	fprintf(f, "xpxe_http_downloads_max %u\n", h->downloads.max);
	metric(f, "xpxe_http_downloads_active", "Bulk downloads running", "gauge");
	fprintf(f, "xpxe_http_downloads_active %u\n", active);
	metric(f, "xpxe_http_downloads_waiting", "Bulk downloads held in the queue", "gauge");
	fprintf(f, "xpxe_http_downloads_waiting %u\n", waiting);
	metric(f, "xpxe_http_downloads_admitted_total",
	       "Bulk downloads started: at once (controlplane: of those, control planes over the "
	       "cap), after a wait, over the cap after max_wait",
	       "counter");
	fprintf(f, "xpxe_http_downloads_admitted_total{how=\"at_once\"} %llu\n", st.at_once);
	fprintf(f, "xpxe_http_downloads_admitted_total{how=\"after_wait\"} %llu\n", st.after_wait);
	fprintf(f, "xpxe_http_downloads_admitted_total{how=\"over_cap\"} %llu\n", st.overdue);
	fprintf(f, "xpxe_http_downloads_admitted_total{how=\"controlplane\"} %llu\n",
		st.controlplane_over);
	metric(f, "xpxe_http_download_wait_seconds_total",
	       "Seconds bulk downloads waited in the queue before they started", "counter");
	fprintf(f, "xpxe_http_download_wait_seconds_total %.3f\n", st.wait_seconds);
	metric(f, "xpxe_http_download", "Who is downloading and who is queued, by machine",
	       "gauge");
	for (int i = 0; i < n; i++)
		fprintf(f,
			"xpxe_http_download{machine=\"%s\",asset=\"%s\",state=\"%s\","
			"rank=\"%s\"} 1\n",
			v[i].who, v[i].what, v[i].waiting ? "queued" : "downloading",
			v[i].rank == XPXE_RANK_CONTROLPLANE ? "controlplane" : "worker");
	free(v);
}

/*
 * A counter of the programs shown as a label's value (outcome="completed", path="tc"), plus
 * PLUS when it is not XPXE_CNT_MAX: IPv6's ends the programs did not count.
 */
struct labelled_counter {
	const char *value;
	enum xpxe_counter c, plus;
};

/* NAME{interface=...,LABEL=...} for each interface whose counters were read (OK) and each of T. */
static void labelled_lines(FILE *f, const char *name, const char *label,
			   const struct labelled_counter *t, size_t n,
			   const struct xpxe_http_leases *l, __u64 totals[][XPXE_CNT_MAX],
			   const bool *ok)
{
	for (int i = 0; i < l->n; i++)
		for (size_t k = 0; ok[i] && k < n; k++)
			fprintf(f, "%s{interface=\"%s\",%s=\"%s\"} %llu\n", name, l->ifnames[i],
				label, t[k].value,
				(unsigned long long)(totals[i][t[k].c] + (t[k].plus != XPXE_CNT_MAX
									      ? totals[i][t[k].plus]
									      : 0)));
}

/* TFTP by interface: transfers running and ended, errors, bytes by the path that sent them. */
static void tftp_metrics(FILE *f, const struct xpxe_http_leases *l)
{
	/*
	 * Both families: the programs (XDP, tc) count the ends of IPv6's lockstep transfers in
	 * tftp_sessions_completed as IPv4's; the daemon's socket sees the rest of IPv6's (windows,
	 * transfers taken over, every client ERROR).
	 */
	static const struct labelled_counter ends[] = {
		{ "started", XPXE_CNT_TFTP_SESSIONS_OPENED, XPXE_CNT_MAX },
		{ "completed", XPXE_CNT_TFTP_SESSIONS_COMPLETED, XPXE_CNT_TFTP6_COMPLETED_UDP },
		{ "aborted", XPXE_CNT_TFTP_SESSIONS_ABORTED, XPXE_CNT_TFTP6_ABORTED },
		{ "expired", XPXE_CNT_TFTP_SESSIONS_EXPIRED, XPXE_CNT_MAX },
		{ "final_ack_missing", XPXE_CNT_TFTP_FINAL_ACK_MISSING, XPXE_CNT_MAX },
	};
	static const struct labelled_counter paths[] = {
		{ "xdp", XPXE_CNT_TFTP_BYTES, XPXE_CNT_MAX },
		{ "tc", XPXE_CNT_TFTP_BYTES_TC, XPXE_CNT_MAX },
		{ "af_xdp", XPXE_CNT_TFTP_BYTES_XSK, XPXE_CNT_MAX },
		{ "udp", XPXE_CNT_TFTP_BYTES_DAEMON, XPXE_CNT_MAX },
	};
	__u64 totals[8][XPXE_CNT_MAX];
	bool ok[8]; /* as many as struct xpxe_http_leases holds */
	char names[XPXE_EVENTS_IFACES][16];
	unsigned int running[XPXE_EVENTS_IFACES];
	int n_running = xpxe_events_tftp_in_flight(names, running, XPXE_EVENTS_IFACES);
	struct xpxe_tftp_queue q;

	for (int i = 0; i < l->n; i++)
		ok[i] = !xpxe_counters_read(l->counters_fds[i], totals[i]);
	metric(f, "xpxe_tftp_transfers_in_flight", "TFTP transfers running (each second)", "gauge");
	for (int i = 0; i < n_running; i++)
		fprintf(f, "xpxe_tftp_transfers_in_flight{interface=\"%s\"} %u\n", names[i],
			running[i]);
	xpxe_events_tftp_queue(&q);
	metric(f, "xpxe_tftp_downloads_max",
	       "TFTP transfers allowed at once at full speed (downloads.tftp_max; 0: no cap)",
	       "gauge");
	fprintf(f, "xpxe_tftp_downloads_max %u\n", q.max);
	metric(f, "xpxe_tftp_downloads_active",
	       "TFTP transfers running in one of those places (the data plane sends their blocks)",
	       "gauge");
	fprintf(f, "xpxe_tftp_downloads_active %u\n", q.active);
	metric(f, "xpxe_tftp_downloads_held", "TFTP read requests held unanswered in the queue",
	       "gauge");
	fprintf(f, "xpxe_tftp_downloads_held %u\n", q.held);
	metric(f, "xpxe_tftp_downloads_paced",
	       "TFTP transfers let in over the cap and paced (the daemon sends their blocks, one "
	       "window per downloads.tftp_pace_ms) until a place frees",
	       "gauge");
	fprintf(f, "xpxe_tftp_downloads_paced %u\n", q.paced);
	metric(f, "xpxe_tftp_downloads_held_total", "TFTP read requests ever held", "counter");
	fprintf(f, "xpxe_tftp_downloads_held_total %llu\n", q.held_total);
	metric(f, "xpxe_tftp_downloads_paced_total", "TFTP transfers ever let in paced", "counter");
	fprintf(f, "xpxe_tftp_downloads_paced_total %llu\n", q.paced_total);
	metric(f, "xpxe_tftp_downloads_promoted_total",
	       "Paced TFTP transfers that took a freed place (the data plane sent the rest)",
	       "counter");
	fprintf(f, "xpxe_tftp_downloads_promoted_total %llu\n", q.promoted);
	metric(f, "xpxe_tftp_transfers_total",
	       "TFTP transfers started, and ended by outcome (aborted: an ERROR from the client; "
	       "expired: silent, or evicted; final_ack_missing: sent whole, the final ACK never "
	       "came)",
	       "counter");
	labelled_lines(f, "xpxe_tftp_transfers_total", "outcome", ends,
		       sizeof(ends) / sizeof(ends[0]), l, totals, ok);
	metric(f, "xpxe_tftp_errors_sent_total", "TFTP ERROR packets sent (requests refused)",
	       "counter");
	for (int i = 0; i < l->n; i++) {
		__u64 sent = 0;

		if (!ok[i])
			continue;
		sent = totals[i][XPXE_CNT_TFTP_WRQ_REFUSED];
		for (int c = XPXE_CNT_TFTP_ERR_UNDEFINED; c <= XPXE_CNT_TFTP_ERR_BAD_OPTION; c++)
			sent += totals[i][c];
		fprintf(f, "xpxe_tftp_errors_sent_total{interface=\"%s\"} %llu\n", l->ifnames[i],
			(unsigned long long)sent);
	}
	metric(f, "xpxe_tftp_retransmits_total", "TFTP DATA blocks sent again", "counter");
	for (int i = 0; i < l->n; i++)
		if (ok[i])
			fprintf(f, "xpxe_tftp_retransmits_total{interface=\"%s\"} %llu\n",
				l->ifnames[i],
				(unsigned long long)(totals[i][XPXE_CNT_TFTP_RETRANSMITS] +
						     totals[i][XPXE_CNT_TFTP_WINDOW_RESENT]));
	metric(f, "xpxe_tftp_bytes_total",
	       "TFTP DATA payload bytes by the path that sent them (udp: the daemon's sockets)",
	       "counter");
	labelled_lines(f, "xpxe_tftp_bytes_total", "path", paths, sizeof(paths) / sizeof(paths[0]),
		       l, totals, ok);
}

/* Prometheus text format: the programs' counters summed over CPUs, HTTP and inventory figures. */
static enum MHD_Result metrics(struct xpxe_http *h, struct request *rq)
{
	__u64 totals[XPXE_CNT_MAX];
	char *text = NULL;
	size_t len = 0;
	int installed, machines;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return send_error(rq->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	metric(f, "xpxe_frames_total",
	       "Frames the XDP/tc programs handled, by interface and outcome (one outcome each; "
	       "tftp_bytes and tftp_retransmits are tallies)",
	       "counter");
	for (int i = 0; i < h->leases.n; i++) {
		if (xpxe_counters_read(h->leases.counters_fds[i], totals))
			continue;
		for (int c = 0; c < XPXE_CNT_MAX; c++)
			fprintf(f, "xpxe_frames_total{interface=\"%s\",outcome=\"%s\"} %llu\n",
				h->leases.ifnames[i], xpxe_counter_names[c],
				(unsigned long long)totals[c]);
	}
	tftp_metrics(f, &h->leases);
	metric(f, "xpxe_dhcp_bindings", "DHCP bindings (full mode) held in the program's map",
	       "gauge");
	for (int i = 0; i < h->leases.n; i++) {
		struct xpxe_mac_key key, next;
		void *prev = NULL;
		int n = 0;

		while (!bpf_map_get_next_key(h->leases.clients_fds[i], prev, &next)) {
			struct xpxe_dhcp_client client;

			if (!bpf_map_lookup_elem(h->leases.clients_fds[i], &next, &client) &&
			    xpxe_dhcp_client_bound(&client))
				n++;
			key = next;
			prev = &key;
		}
		fprintf(f, "xpxe_dhcp_bindings{interface=\"%s\"} %d\n", h->leases.ifnames[i], n);
	}
	metric(f, "xpxe_http_requests_total", "HTTP answers by kind", "counter");
	fprintf(f, "xpxe_http_requests_total{kind=\"script\"} %llu\n", h->stats.scripts);
	fprintf(f, "xpxe_http_requests_total{kind=\"local_boot_script\"} %llu\n",
		h->stats.local_boots);
	fprintf(f, "xpxe_http_requests_total{kind=\"asset\"} %llu\n", h->stats.assets);
	fprintf(f, "xpxe_http_requests_total{kind=\"config\"} %llu\n", h->stats.configs);
	fprintf(f, "xpxe_http_requests_total{kind=\"refused\"} %llu\n", h->stats.refused);
	fprintf(f, "xpxe_http_requests_total{kind=\"refused_no_address\"} %llu\n",
		h->stats.refused_no_address);
	fprintf(f, "xpxe_http_requests_total{kind=\"config_no_address\"} %llu\n",
		h->stats.configs_no_address);
	fprintf(f, "xpxe_http_requests_total{kind=\"not_found\"} %llu\n", h->stats.not_found);
	fprintf(f, "xpxe_http_requests_total{kind=\"asset_changed\"} %llu\n",
		h->stats.asset_changed);
	fprintf(f, "xpxe_http_requests_total{kind=\"refused_plain_http\"} %llu\n",
		h->stats.refused_plain);
	fprintf(f, "xpxe_http_requests_total{kind=\"uki\"} %llu\n", h->stats.ukis);
	fprintf(f, "xpxe_http_requests_total{kind=\"refused_other_vlan\"} %llu\n",
		h->stats.refused_other_vlan);
	fprintf(f, "xpxe_http_requests_total{kind=\"wrong_address\"} %llu\n",
		h->stats.wrong_address);
	fprintf(f, "xpxe_http_requests_total{kind=\"no_arch_files\"} %llu\n",
		h->stats.no_arch_files);
	metric(f, "xpxe_http_connections_total",
	       "HTTP connections: accepted, refused at a limit, timed out without a request",
	       "counter");
	fprintf(f, "xpxe_http_connections_total{outcome=\"accepted\"} %llu\n",
		h->stats.conn_accepted);
	fprintf(f, "xpxe_http_connections_total{outcome=\"refused_per_ip\"} %llu\n",
		h->stats.conn_refused_per_ip);
	fprintf(f, "xpxe_http_connections_total{outcome=\"refused_total\"} %llu\n",
		h->stats.conn_refused_total);
	fprintf(f, "xpxe_http_connections_total{outcome=\"timed_out\"} %llu\n",
		h->stats.conn_timed_out);
	metric(f, "xpxe_http_connections_open", "HTTP connections open now", "gauge");
	fprintf(f, "xpxe_http_connections_open %u\n", h->n_open);
	download_metrics(f, h);
	metric(f, "xpxe_http_asset_bytes_total", "Asset bytes sent over HTTP", "counter");
	fprintf(f, "xpxe_http_asset_bytes_total %llu\n", h->stats.asset_bytes);
	pthread_mutex_lock(&h->inv->lock);
	machines = h->cfg->n_machines;
	installed = h->inv->n_installed;
	pthread_mutex_unlock(&h->inv->lock);
	{
		unsigned int stages[XPXE_STAGE_MAX];

		xpxe_events_stage_counts(stages);
		metric(f, "xpxe_machines_by_stage", "Machines seen, by their boot stage", "gauge");
		for (int i = 1; i < XPXE_STAGE_MAX; i++)
			fprintf(f, "xpxe_machines_by_stage{stage=\"%s\"} %u\n", xpxe_stage_names[i],
				stages[i]);
	}
	metric(f, "xpxe_machines", "Machines in the inventory", "gauge");
	fprintf(f, "xpxe_machines %d\n", machines);
	metric(f, "xpxe_machines_installed", "Machines that boot their disk (boot-once)", "gauge");
	fprintf(f, "xpxe_machines_installed %d\n", installed);
	if (h->leases.more_metrics)
		h->leases.more_metrics(f, h->leases.more_ctx);
	xpxe_store_metrics(h->inv->store, f);
	xpxe_ui_metrics(f);
	fclose(f);
	{
		struct MHD_Response *r =
		    MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
		enum MHD_Result ret;

		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; version=0.0.4");
		ret = MHD_queue_response(rq->conn, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
}

/*
 * The URLs a request over IPv6 gets: the server's address the connection arrived on (its
 * socket's local address), in brackets: a machine that came over IPv6 is sent back the way it
 * came, whichever of the daemon's IPv6 addresses that was. HTTPS's port when it is on (it
 * listens on the IPv6 addresses too), as over IPv4.
 */
static bool request_site6(const struct xpxe_http *h, struct request *rq,
			  const union MHD_ConnectionInfo *ci)
{
	struct sockaddr_in6 local;
	socklen_t len = sizeof(local);
	char a[INET6_ADDRSTRLEN];

	if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&local, &len) ||
	    local.sin6_family != AF_INET6)
		return false;
	inet_ntop(AF_INET6, &local.sin6_addr, a, sizeof(a));
	snprintf(rq->site[0], sizeof(rq->site[0]), "http://[%s]:%u", a, h->port);
	snprintf(rq->site[1], sizeof(rq->site[1]), "tftp://[%s]", a);
	if (h->tls_port)
		snprintf(rq->site[2], sizeof(rq->site[2]), "https://[%s]:%u", a, h->tls_port);
	rq->base = rq->site[0];
	rq->tftp_base = rq->site[1];
	rq->config_base = h->tls_port ? rq->site[2] : rq->site[0];
	return true;
}

/*
 * Where RQ came in: the listener's own address (URLs name h->base), or with VLANs, where
 * the listener takes every address (xpxe_http_start), a VLAN's server address on the trunk:
 * the scripts and talos.config= URLs a machine gets then name that address, its VLAN's.
 * Returns false for any other local address (refused and counted).
 */
static bool request_site(struct xpxe_http *h, struct request *rq)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_in local = { 0 };
	socklen_t len = sizeof(local);
	char ip[INET_ADDRSTRLEN];
	bool known;

	rq->base = h->base;
	rq->tftp_base = h->tftp_base;
	rq->config_base = h->config_base;
	if (rq->v6)
		return request_site6(h, rq, ci);
	if (!h->any_addr)
		return true;
	if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&local, &len) ||
	    local.sin_family != AF_INET)
		return false;
	rq->local = local.sin_addr;
	pthread_mutex_lock(&h->inv->lock);
	known = vlan_at(h->cfg, rq->local) != NULL;
	pthread_mutex_unlock(&h->inv->lock);
	/* Not a VLAN's: the listener's own address (any address when it was told 0.0.0.0). */
	if (!known)
		return rq->local.s_addr == h->listen_ip.s_addr || !h->listen_ip.s_addr;
	inet_ntop(AF_INET, &rq->local, ip, sizeof(ip));
	snprintf(rq->site[0], sizeof(rq->site[0]), "http://%s:%u", ip, h->port);
	snprintf(rq->site[1], sizeof(rq->site[1]), "tftp://%s", ip);
	if (h->tls_port)
		snprintf(rq->site[2], sizeof(rq->site[2]), "https://%s:%u", ip, h->tls_port);
	rq->base = rq->site[0];
	rq->tftp_base = rq->site[1];
	rq->config_base = h->tls_port ? rq->site[2] : rq->site[0];
	return true;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	struct xpxe_http *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct request rq = { .conn = conn };

	(void)version;
	(void)upload;
	if (!*req_cls) { /* a whole request head: this connection is not a slow one */
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci && ci->socket_context) {
			pthread_mutex_lock(&h->conns_lock);
			((struct xpxe_http_conn *)ci->socket_context)->requests++;
			pthread_mutex_unlock(&h->conns_lock);
		}
	}
	/* Refused on the headers alone: a body is never read. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only");
	if (!*req_cls) { /* the headers are in; come back for the rest */
		*req_cls = calloc(1, sizeof(struct pending));
		return *req_cls ? MHD_YES : MHD_NO;
	}
	rq.pending = *req_cls;
	rq.head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
	if (*upload_size)
		return send_error(conn, MHD_HTTP_BAD_REQUEST, "no request bodies here");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		rq.src = ((const struct sockaddr_in *)ci->client_addr)->sin_addr;
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
		rq.v6 = true;
		rq.src6 = ((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr;
		inet_ntop(AF_INET6, &rq.src6, rq.src_text, sizeof(rq.src_text));
	} else {
		inet_ntop(AF_INET, &rq.src, rq.src_text, sizeof(rq.src_text));
	}
	if (!request_site(h, &rq)) {
		__atomic_add_fetch(&h->stats.wrong_address, 1, __ATOMIC_RELAXED);
		return MHD_NO; /* closes the connection */
	}
	/* The daemon a connection reports is its worker thread's: ask for a TLS session. */
	ci = h->mhd_tls ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
	rq.tls = ci && ci->tls_session;

	if (!strcmp(url, "/boot.ipxe"))
		return boot_script(h, &rq);
	if (!strncmp(url, "/assets/", 8) && url[8] && !strchr(url + 8, '/'))
		return asset(h, &rq, url + 8, true);
	if (!strcmp(url, "/talos/config"))
		return talos_config(h, &rq);
	if (!strncmp(url, "/uki/", 5) && url[5] && !strchr(url + 5, '/'))
		return uki(h, &rq, url + 5);
	if (!strcmp(url, "/metrics"))
		return metrics(h, &rq);
	return send_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
}

/* The end of a request: boot-once is set only for a config that went out whole. */
static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct xpxe_http *h = cls;
	struct pending *p = *req_cls;

	(void)conn;
	if (p && p->ticket.state == XPXE_TICKET_CLOSED)
		__atomic_add_fetch(&h->closed_answered, 1, __ATOMIC_RELAXED);
	/* A held download's end frees its slot for the next in line: said, as its start was. */
	if (p && p->ticket.state == XPXE_TICKET_ADMITTED)
		log_info("http: %s of %s %s; its slot goes to the next in line", p->ticket.what,
			 p->ticket.who,
			 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "sent" : "ended early");
	if (p &&
	    (p->ticket.state == XPXE_TICKET_ADMITTED || p->ticket.state == XPXE_TICKET_WAITING))
		xpxe_admit_leave(&h->admit, &p->ticket, mono_now());
	if (p && p->key[0]) {
		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
			pthread_mutex_lock(&h->inv->lock);
			xpxe_inventory_set_installed(h->inv, p->key, true);
			pthread_mutex_unlock(&h->inv->lock);
		} else {
			log_warn("http: the config of %s did not reach %s whole (code %d): "
				 "boot-once not set",
				 p->name, p->src_text, (int)toe);
		}
	}
	free(p);
	*req_cls = NULL;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The limits on connections, checked here rather than by MHD's own options
 * so that each refusal is counted: at most max_per_ip from one address and
 * max_connections in all. MHD's threads accept in parallel, so a connection
 * takes its slot here, under the lock, before the next one is counted; MHD's
 * own limit sits above ours, so nothing MHD refuses has taken a slot.
 */
/* A client's address as one IPv6 address: IPv4 as ::ffff:a.b.c.d; :: when neither. */
static struct in6_addr conn_addr(const struct sockaddr *addr, socklen_t addrlen)
{
	struct in6_addr a = in6addr_any;

	if (addr && addr->sa_family == AF_INET && addrlen >= sizeof(struct sockaddr_in)) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], &((const struct sockaddr_in *)addr)->sin_addr, 4);
	} else if (addr && addr->sa_family == AF_INET6 && addrlen >= sizeof(struct sockaddr_in6)) {
		a = ((const struct sockaddr_in6 *)addr)->sin6_addr;
	}
	return a;
}

static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct xpxe_http *h = cls;
	struct in6_addr src = conn_addr(addr, addrlen);
	struct xpxe_http_conn *free_slot = NULL;
	unsigned same = 0;
	enum MHD_Result ret = MHD_NO;

	pthread_mutex_lock(&h->conns_lock);
	for (unsigned i = 0; i < h->n_conns_slots; i++) {
		if (!h->conns[i].used)
			free_slot = free_slot ? free_slot : &h->conns[i];
		else
			same += !memcmp(&h->conns[i].src, &src, sizeof(src));
	}
	if (h->n_open >= h->limits.max_connections || !free_slot) {
		h->stats.conn_refused_total++;
	} else if (same >= h->limits.max_per_ip) {
		h->stats.conn_refused_per_ip++;
	} else {
		*free_slot = (struct xpxe_http_conn){ .used = true, .src = src };
		h->n_open++;
		h->stats.conn_accepted++;
		ret = MHD_YES;
	}
	pthread_mutex_unlock(&h->conns_lock);
	return ret;
}

/* Ties a connection to the slot it took, and counts those that ended without a request. */
static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	struct xpxe_http *h = cls;
	struct xpxe_http_conn *c = *socket_context;

	pthread_mutex_lock(&h->conns_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		struct in6_addr src =
		    conn_addr(ci ? ci->client_addr : NULL,
			      ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6
				  ? sizeof(struct sockaddr_in6)
				  : sizeof(struct sockaddr_in));

		for (unsigned i = 0; i < h->n_conns_slots && !*socket_context; i++) {
			c = &h->conns[i];
			if (c->used && !c->started && !memcmp(&c->src, &src, sizeof(src))) {
				c->started = mono_now();
				*socket_context = c;
			}
		}
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && c) {
		/* Silent past the timeout without one whole request: a slow client, dropped. */
		if (!c->requests && mono_now() - c->started >= h->limits.timeout_s - 0.5)
			h->stats.conn_timed_out++;
		c->used = false;
		*socket_context = NULL;
		h->n_open--;
	}
	pthread_mutex_unlock(&h->conns_lock);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char text[512];

	(void)cls;
	vsnprintf(text, sizeof(text), fmt, ap);
	log_debug("http: %s", text);
}

/*
 * One listener (FLAGS: 0, or MHD_USE_TLS) with the limits, callbacks and handler of H; WHERE
 * says where it listens (an address, or a socket of ours: MHD_OPTION_LISTEN_SOCKET).
 */
static struct MHD_Daemon *start_mhd_at(struct xpxe_http *h, unsigned int flags,
				       const struct MHD_OptionItem *where)
{
	/* Without TLS the list ends one option early: the certificate callback is left out. */
	enum MHD_OPTION last =
	    flags & MHD_USE_TLS ? MHD_OPTION_HTTPS_CERT_CALLBACK : MHD_OPTION_END;

	return MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
		MHD_ALLOW_SUSPEND_RESUME | flags,
	    0, accept_policy, h, handle, h, MHD_OPTION_ARRAY, where, MHD_OPTION_THREAD_POOL_SIZE, 4,
	    /* A slow or stalled client is dropped, so it cannot hold a slot. */
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)h->limits.timeout_s,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)h->n_conns_slots,
	    /* A held download's body is read into the connection's
	     * buffer (held_read): 128 KiB a write, not MHD's 32 KiB. */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 << 10), MHD_OPTION_NOTIFY_CONNECTION,
	    notify_connection, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_NOTIFY_COMPLETED, completed, h, last,
	    xpxe_tls_callback(), MHD_OPTION_END);
}

/* One listener on IPv4 ADDR: see start_mhd_at. */
static struct MHD_Daemon *start_mhd(struct xpxe_http *h, unsigned int flags,
				    const struct sockaddr_in *addr)
{
	struct MHD_OptionItem where[] = { { MHD_OPTION_SOCK_ADDR, 0, (void *)addr },
					  { MHD_OPTION_END, 0, NULL } };

	return start_mhd_at(h, flags, where);
}

static int start_tls(struct xpxe_http *h, const struct xpxe_config *cfg, const char *host);

/* admit.h's resume: a download whose turn came (or whose server stops) goes on. */
static void resume_download(void *ctx)
{
	MHD_resume_connection(ctx);
}

void xpxe_http_tick(struct xpxe_http *h)
{
	if (h->conns)
		xpxe_admit_tick(&h->admit, mono_now());
}

int xpxe_http_start(struct xpxe_http *h, const char *listen, struct xpxe_inventory *inv,
		    const struct xpxe_config *cfg, const struct xpxe_http_leases *leases)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(listen, ':');
	char *end;
	unsigned long port;

	memset(h, 0, sizeof(*h));
	h->inv = inv;
	h->cfg = cfg;
	h->leases = *leases;
	h->limits = cfg->http_limits;
	h->downloads = cfg->downloads;
	xpxe_admit_init(&h->admit, h->downloads.max, h->downloads.max_wait_s, resume_download);
	/* A few slots more than the limit: MHD's threads may accept a handful at once. */
	h->n_conns_slots = h->limits.max_connections + 64;
	h->conns = calloc(h->n_conns_slots, sizeof(*h->conns));
	if (!h->conns)
		return -ENOMEM;
	pthread_mutex_init(&h->conns_lock, NULL);
	if (!colon || colon - listen >= (long)sizeof(host)) {
		log_error("http: '%s' is not ADDR:PORT", listen);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		log_error("http: '%s' is not ADDR:PORT with an IPv4 address", listen);
		return -EINVAL;
	}
	addr.sin_port = htons((uint16_t)port);
	h->listen_ip = addr.sin_addr;
	h->port = (unsigned)port;
	/*
	 * A trunk's VLANs reach HTTP at their own server addresses: the listener takes every
	 * address and request_site turns away those that are neither its own nor a VLAN's.
	 */
	if (cfg->dhcp.n_vlans) {
		h->any_addr = true;
		addr.sin_addr.s_addr = htonl(INADDR_ANY);
	}
	snprintf(h->base, sizeof(h->base), "http://%s", listen);
	snprintf(h->config_base, sizeof(h->config_base), "%s", h->base);
	snprintf(h->tftp_base, sizeof(h->tftp_base), "tftp://%s", host);
	h->mhd = start_mhd(h, 0, &addr);
	if (!h->mhd) {
		log_error("http: cannot listen on %s%s (address in use, or not on this host?)",
			  listen, h->any_addr ? " (with VLANs: port on every address)" : "");
		return -EADDRINUSE;
	}
	log_info("http: serving on %s%s", h->base,
		 h->any_addr ? " and on the VLANs' addresses (the port on every address; others "
			       "are closed)"
			     : "");
	return cfg->tls.cert[0] ? start_tls(h, cfg, host) : 0;
}

/*
 * HTTPS beside HTTP: the same handler, limits and connection slots (the limits
 * count both). Assets stay on plain HTTP too, for firmware without TLS.
 */
static int start_tls(struct xpxe_http *h, const struct xpxe_config *cfg, const char *host)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	char listen[96], why[512], text[160];
	const char *colon;
	unsigned long port = 0;
	int err;

	if (!MHD_is_feature_supported(MHD_FEATURE_TLS) ||
	    !MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK)) {
		log_error("http: this libmicrohttpd has no TLS (GnuTLS): no HTTPS");
		return -ENOTSUP;
	}
	if (cfg->tls.listen[0])
		snprintf(listen, sizeof(listen), "%s", cfg->tls.listen);
	else
		snprintf(listen, sizeof(listen), "%.63s:8443", host);
	colon = strrchr(listen, ':');
	if (colon)
		port = strtoul(colon + 1, NULL, 10);
	if (!colon || !port || port > 65535 ||
	    inet_pton(AF_INET,
		      (snprintf(text, sizeof(text), "%.*s", (int)(colon - listen), listen), text),
		      &addr.sin_addr) != 1) {
		log_error("http: tls_listen '%s' is not ADDR:PORT with an IPv4 address", listen);
		return -EINVAL;
	}
	addr.sin_port = htons((uint16_t)port);
	if (h->any_addr)
		addr.sin_addr.s_addr = htonl(INADDR_ANY); /* the VLANs' addresses too */
	err = xpxe_tls_open(&h->tls, cfg->tls.cert, cfg->tls.key, why, sizeof(why));
	if (err) {
		log_error("http: %s", why);
		return err;
	}
	xpxe_tls_bind(h->tls);
	h->mhd_tls = start_mhd(h, MHD_USE_TLS, &addr);
	if (!h->mhd_tls) {
		log_error("http: cannot listen for HTTPS on %s (address in use, or not on this "
			  "host?)",
			  listen);
		return -EADDRINUSE;
	}
	h->tls_port = (unsigned)port;
	snprintf(h->tls_base, sizeof(h->tls_base), "https://%s", listen);
	snprintf(h->config_base, sizeof(h->config_base), "%s", h->tls_base);
	xpxe_tls_describe(h->tls, text, sizeof(text));
	log_info("http: serving HTTPS on %s (%s, %s); talos.config= URLs point there%s",
		 h->tls_base, cfg->tls.cert, text,
		 cfg->tls.refuse_plain ? "; configs over plain HTTP are refused" : "");
	return 0;
}

int xpxe_http_tls_reload(struct xpxe_http *h, const struct xpxe_config *cfg, char *why,
			 size_t why_size)
{
	struct xpxe_tls *fresh;
	char text[160];
	int err;

	if (!h->tls)
		return 0;
	err = xpxe_tls_open(&fresh, cfg->tls.cert, cfg->tls.key, why, why_size);
	if (err)
		return err;
	xpxe_tls_swap(h->tls, fresh);
	xpxe_tls_describe(h->tls, text, sizeof(text));
	log_info("http: HTTPS now serves %s (%s) to new connections", cfg->tls.cert, text);
	return 0;
}

/* A TCP socket listening on [ADDR]:PORT, IPv6 only, bound even to a tentative address. */
static int listen_socket6(const struct in6_addr *addr, unsigned port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_addr = *addr,
				   .sin6_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1024)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int xpxe_http_listen6(struct xpxe_http *h, const struct in6_addr *addr)
{
	char text[INET6_ADDRSTRLEN];
	int fd, n = h->n_mhd6;

	inet_ntop(AF_INET6, addr, text, sizeof(text));
	if (n >= XPXE_HTTP_V6_MAX)
		return -ENOSPC;
	for (int i = 0; i < 2; i++) {
		unsigned port = i ? h->tls_port : h->port;
		struct MHD_Daemon **d = i ? &h->mhd6_tls[n] : &h->mhd6[n];

		if (i && !h->mhd_tls)
			break;
		fd = listen_socket6(addr, port);
		if (fd >= 0) {
			struct MHD_OptionItem where[] = { { MHD_OPTION_LISTEN_SOCKET, fd, NULL },
							  { MHD_OPTION_END, 0, NULL } };

			*d = start_mhd_at(h, i ? MHD_USE_TLS : 0, where);
			if (!*d)
				close(fd);
		}
		if (fd < 0 || !*d) {
			log_error("http: cannot listen on [%s]:%u: %s", text, port,
				  fd < 0 ? strerror(-fd) : "libmicrohttpd refused the socket");
			/* HTTP without its HTTPS would hand IPv6 clients https URLs nobody serves.
			 */
			if (i && h->mhd6[n]) {
				MHD_stop_daemon(h->mhd6[n]);
				h->mhd6[n] = NULL;
			}
			return fd < 0 ? fd : -EINVAL;
		}
		log_info("http: serving %s on [%s]:%u; URLs to IPv6 clients name it",
			 i ? "HTTPS" : "HTTP", text, port);
	}
	h->n_mhd6++;
	return 0;
}

void xpxe_http_stop(struct xpxe_http *h)
{
	/*
	 * Held downloads are ended first: they are resumed, and MHD's threads end them within a
	 * moment (a second at most is given). Their header (200 or 206) went out when they were
	 * queued, so no status can say why: each body ends short of its Content-Length
	 * (held_read's XPXE_BODY_STOP), which a client takes as a failed download to retry,
	 * never as a whole file.
	 */
	if (h->conns) {
		struct timespec tick = { 0, 10 * 1000 * 1000 };
		struct xpxe_admit_stats st;
		unsigned active, waiting;

		xpxe_admit_close(&h->admit);
		xpxe_admit_snapshot(&h->admit, &active, &waiting, &st, NULL, 0);
		for (int i = 0;
		     i < 100 && __atomic_load_n(&h->closed_answered, __ATOMIC_RELAXED) < st.closed;
		     i++)
			nanosleep(&tick, NULL);
	}
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
	if (h->mhd_tls)
		MHD_stop_daemon(h->mhd_tls);
	h->mhd_tls = NULL;
	for (int i = 0; i < h->n_mhd6; i++) {
		if (h->mhd6[i])
			MHD_stop_daemon(h->mhd6[i]);
		if (h->mhd6_tls[i])
			MHD_stop_daemon(h->mhd6_tls[i]);
		h->mhd6[i] = h->mhd6_tls[i] = NULL;
	}
	h->n_mhd6 = 0;
	xpxe_tls_free(h->tls);
	h->tls = NULL;
	if (h->conns) {
		pthread_mutex_destroy(&h->conns_lock);
		xpxe_admit_destroy(&h->admit);
	}
	free(h->conns);
	h->conns = NULL;
}
