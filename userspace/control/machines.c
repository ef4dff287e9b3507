// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane.h"
#include "events.h"
#include "http/http.h"
#include "json.h"
#include "log.h"
#include "control/machines.h"

static void mac_text(const unsigned char *m, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void fail(struct fy_node *reply, const char *code, const char *why)
{
	xpxe_json_add_str(reply, "error", why);
	xpxe_json_add_str(reply, "code", code);
}

static const char *profile_name(const struct xpxe_config *cfg, int profile)
{
	if (profile < 0)
		profile = cfg->default_profile;
	return profile >= 0 ? cfg->profiles[profile].name : "";
}

/*
 * The machine REQUEST's "machine" names (MAC, hostname, UUID or serial), with
 * the inventory locked: its index, or -1 for a MAC outside it (MAC set, only
 * when ANY_MAC), or -2 after an error reply (not locked then).
 */
static int find_locked(struct xpxe_machines_ctl *c, struct fy_node *request, struct fy_node *reply,
		       bool any_mac, char mac[18])
{
	const char *machine = xpxe_json_str(request, "/machine"), *why;
	struct xpxe_identity id = { 0 };
	int idx;

	mac[0] = '\0';
	if (!machine) {
		fail(reply, "invalid", "needs \"machine\"");
		return -2;
	}
	/* A MAC first; else (or a serial that reads as a bare-hex MAC) the other selectors. */
	if (!xpxe_mac_normalize(machine, mac))
		id.mac = machine;
	id.hostname = id.uuid = id.serial = machine;
	pthread_mutex_lock(&c->inv->lock);
	idx = xpxe_inventory_find(c->inv, &id, &why);
	if (idx < 0 && (!any_mac || !mac[0])) {
		pthread_mutex_unlock(&c->inv->lock);
		fail(reply, "not_found", why);
		return -2;
	}
	return idx;
}

/* The machine-level facts of M (selectors, profile, reservation, origin) into ITEM. */
static void add_facts(struct xpxe_machines_ctl *c, struct fy_document *doc, struct fy_node *item,
		      const struct xpxe_machine_cfg *m)
{
	struct fy_node *macs = fy_node_create_sequence(doc);
	char mac[18], ip[INET_ADDRSTRLEN], where[XPXE_CFG_PATH_MAX + 40];

	for (int j = 0; j < m->n_macs; j++) {
		mac_text(m->macs[j], mac);
		fy_node_sequence_append(macs, fy_node_create_scalar_copy(doc, mac, strlen(mac)));
	}
	xpxe_json_add_str(item, "hostname", m->hostname);
	xpxe_json_add_node(item, "macs", macs);
	xpxe_json_add_str(item, "uuid", m->uuid);
	xpxe_json_add_str(item, "serial", m->serial);
	xpxe_json_add_str(item, "install_disk", m->install_disk);
	xpxe_json_add_str(item, "role", m->role);
	xpxe_json_add_str(item, "profile", profile_name(c->cfg, m->profile));
	xpxe_json_add_str(item, "reserved_ip",
			  m->ip.s_addr ? inet_ntop(AF_INET, &m->ip, ip, sizeof(ip)) : "");
	xpxe_json_add_str(item, "source", m->added ? "added" : "config");
	xpxe_config_origin(c->cfg, m, where, sizeof(where));
	xpxe_json_add_str(item, "defined_at", where);
}

/* The inventory and each machine's boot-once state; installed unknown machines too. */
static void reply_list(struct xpxe_machines_ctl *c, struct fy_document *doc, struct fy_node *reply)
{
	struct fy_node *list = fy_node_create_sequence(doc);
	const struct xpxe_config *cfg = c->cfg;
	char key[80], mac[18 * XPXE_CFG_MAX_MACS], ip[INET_ADDRSTRLEN];
	time_t when;

	pthread_mutex_lock(&c->inv->lock);
	for (int i = 0; i < cfg->n_machines; i++) {
		const struct xpxe_machine_cfg *m = &cfg->machines[i];
		struct fy_node *item = fy_node_create_mapping(doc);
		size_t pos = 0;
		bool installed;

		mac[0] = '\0';
		for (int j = 0; j < m->n_macs; j++) {
			pos += snprintf(mac + pos, sizeof(mac) - pos, "%s", j ? "," : "");
			mac_text(m->macs[j], mac + pos);
			pos += 17;
		}
		xpxe_inventory_key(m, key, sizeof(key));
		installed = xpxe_inventory_is_installed(c->inv, key, &when);
		add_facts(c, doc, item, m);
		xpxe_json_add_str(item, "mac", mac);
		inet_ntop(AF_INET, &m->ip, ip, sizeof(ip));
		xpxe_json_add_str(item, "ip", m->ip.s_addr ? ip : "");
		xpxe_json_add_str(item, "key", key);
		xpxe_json_add_bool(item, "installed", installed);
		xpxe_json_add_u64(item, "installed_at", installed ? (unsigned long long)when : 0);
		fy_node_sequence_append(list, item);
	}
	/* Machines outside the inventory that booted under the default profile. */
	for (int i = 0; i < c->inv->n_installed; i++) {
		const char *k = c->inv->installed[i].key;
		struct fy_node *item;
		bool listed = false;

		for (int j = 0; j < cfg->n_machines && !listed; j++) {
			xpxe_inventory_key(&cfg->machines[j], key, sizeof(key));
			listed = !strcmp(key, k);
		}
		if (listed)
			continue;
		item = fy_node_create_mapping(doc);
		xpxe_json_add_str(item, "hostname", "");
		xpxe_json_add_str(item, "mac", strncmp(k, "mac:", 4) ? "" : k + 4);
		xpxe_json_add_str(item, "profile", profile_name(cfg, -1));
		xpxe_json_add_str(item, "source", "unknown");
		xpxe_json_add_str(item, "key", k);
		xpxe_json_add_bool(item, "installed", true);
		xpxe_json_add_u64(item, "installed_at",
				  (unsigned long long)c->inv->installed[i].when);
		fy_node_sequence_append(list, item);
	}
	pthread_mutex_unlock(&c->inv->lock);
	xpxe_json_add_node(reply, "machines", list);
}

/* mark-installed / rearm: by MAC, hostname, UUID or serial; an unknown MAC works too. */
static void reply_boot_once(struct xpxe_machines_ctl *c, struct fy_node *request,
			    struct fy_node *reply, bool installed)
{
	char key[80], mac[18];
	int idx = find_locked(c, request, reply, true, mac), err;
	bool unsaved;

	if (idx == -2)
		return;
	if (idx >= 0)
		xpxe_inventory_key(&c->cfg->machines[idx], key, sizeof(key));
	else
		snprintf(key, sizeof(key), "mac:%s", mac);
	err = xpxe_inventory_set_installed(c->inv, key, installed);
	unsaved = c->inv->unsaved;
	pthread_mutex_unlock(&c->inv->lock);
	if (err) {
		char why[160];

		/* A write that failed (disk full) leaves the change in effect, in memory. */
		snprintf(why, sizeof(why), "%s%s", strerror(-err),
			 unsaved ? "; in effect, but in memory only until the state can be written"
				 : "");
		xpxe_json_add_str(reply, "error", why);
		return;
	}
	log_info("%s: %s", key,
		 installed ? "marked installed: boots from its disk"
			   : "re-armed: installs again at its next PXE boot");
	xpxe_json_add_str(reply, "key", key);
	xpxe_json_add_bool(reply, "installed", installed);
}

/* Full mode's binding of any MAC of M (or of MAC), with its interface. */
static const struct xpxe_lease *lease_of(struct xpxe_machines_ctl *c,
					 const struct xpxe_machine_cfg *m, const unsigned char *mac,
					 const char **ifname)
{
	for (int i = 0; i < c->n_dhcp; i++) {
		struct xpxe_leases *l = &c->dhcp[i]->leases;
		const struct xpxe_lease *lease = NULL;

		for (int j = 0; m && j < m->n_macs && !lease; j++)
			lease = xpxe_leases_find(l, m->macs[j]);
		if (!m && mac)
			lease = xpxe_leases_find(l, mac);
		if (lease) {
			*ifname = c->dhcp[i]->dp->ifname;
			return lease;
		}
	}
	return NULL;
}

/* The last events of MAC, newest last, and its stage in the fleet view. */
static void add_history(struct fy_document *doc, struct fy_node *item, const char *mac)
{
	static struct xpxe_event events[XPXE_EVENT_RING];
	static struct xpxe_machine_view views[4096];
	struct fy_node *list = fy_node_create_sequence(doc);
	uint64_t next;
	int n = xpxe_events_since(0, (const char(*)[18])mac, 1, events, XPXE_EVENT_RING, &next);
	int nv = xpxe_events_fleet(views, 4096);

	for (int i = n > 10 ? n - 10 : 0; i < n; i++)
		fy_node_sequence_append(list, xpxe_json_event(doc, &events[i]));
	xpxe_json_add_node(item, "events", list);
	for (int i = 0; i < nv; i++) {
		if (strcmp(views[i].mac, mac))
			continue;
		xpxe_json_add_str(item, "stage", xpxe_stage_names[views[i].stage]);
		xpxe_json_add_u64(item, "last_seen_ms",
				  (unsigned long long)views[i].last.tv_sec * 1000 +
				      views[i].last.tv_nsec / 1000000);
		xpxe_json_add_str(item, "problem", views[i].problem);
	}
}

/* Everything known about one machine, or one MAC outside the inventory. */
static void reply_show(struct xpxe_machines_ctl *c, struct fy_document *doc,
		       struct fy_node *request, struct fy_node *reply)
{
	const char *how, *ifname = NULL;
	struct fy_node *item;
	const struct xpxe_machine_cfg *m = NULL;
	const struct xpxe_learned *learned;
	const struct xpxe_lease *lease;
	char key[80], mac[18], ip[INET6_ADDRSTRLEN], doc_path[XPXE_CFG_PATH_MAX + 32];
	unsigned char addr[6];
	const char *talos, *to_text;
	int profile;
	in_addr_t to;
	bool bound;
	time_t when;
	int idx;

	idx = find_locked(c, request, reply, true, mac);
	if (idx == -2)
		return;
	item = fy_node_create_mapping(doc);
	if (idx >= 0) {
		m = &c->cfg->machines[idx];
		add_facts(c, doc, item, m);
		xpxe_inventory_key(m, key, sizeof(key));
		if (!mac[0] && m->n_macs)
			mac_text(m->macs[0], mac);
	} else {
		/* A MAC outside the inventory: what the default profile gives it. */
		xpxe_json_add_str(item, "source", "unknown");
		xpxe_json_add_str(item, "profile", profile_name(c->cfg, -1));
		snprintf(key, sizeof(key), "mac:%s", mac);
	}
	xpxe_json_add_bool(item, "in_inventory", m != NULL);
	xpxe_json_add_str(item, "key", key);
	xpxe_parse_mac(mac[0] ? mac : "00:00:00:00:00:00", addr);
	lease = lease_of(c, m, mac[0] ? addr : NULL, &ifname);
	if (lease) {
		struct fy_node *l = fy_node_create_mapping(doc);

		xpxe_json_add_str(l, "ip", inet_ntop(AF_INET, &lease->ip, ip, sizeof(ip)));
		xpxe_json_add_str(l, "interface", ifname);
		xpxe_json_add_u64(l, "expires", (unsigned long long)lease->expires);
		xpxe_json_add_node(item, "lease", l);
	}
	learned = xpxe_inventory_learned(c->inv, key);
	if (learned) {
		struct fy_node *l = fy_node_create_mapping(doc);

		xpxe_json_add_str(l, "ip",
				  learned->v6 ? inet_ntop(AF_INET6, &learned->ip6, ip, sizeof(ip))
					      : inet_ntop(AF_INET, &learned->ip, ip, sizeof(ip)));
		xpxe_json_add_str(l, "how", learned->how);
		xpxe_json_add_u64(l, "when", (unsigned long long)learned->when);
		xpxe_json_add_node(item, "seen_at", l);
	}
	/* Who its config goes to, and which document: what /talos/config would do. */
	profile = m && m->profile >= 0 ? m->profile : c->cfg->default_profile;
	if (m && profile < 0)
		profile = 0; /* as identify() in http.c: a listed machine is never ignored */
	talos = m && m->talos_config[0] ? m->talos_config
		: profile >= 0		? c->cfg->profiles[profile].talos_config
					: "";
	xpxe_http_document_path(talos, mac, doc_path, sizeof(doc_path));
	xpxe_json_add_str(item, "talos_config", doc_path);
	to = c->http ? xpxe_http_config_address(c->http, idx, mac, key, &how, &bound) : 0;
	if (profile < 0) {
		to_text = "nobody";
		how = "not in the inventory, and default_profile is none";
	} else if (to) {
		to_text = inet_ntop(AF_INET, &to, ip, sizeof(ip));
	} else if (learned && learned->v6) {
		/* Seen over IPv6 last: its config goes to that address only (http.c). */
		to_text = inet_ntop(AF_INET6, &learned->ip6, ip, sizeof(ip));
		how = "the address it fetched its script from";
	} else if (c->cfg->config_without_address == XPXE_UNBOUND_SERVE) {
		to_text = "anyone";
		how = "no address known; http.config_without_address: serve";
	} else {
		to_text = "nobody";
		how = "no address known yet: it must boot through xpxe first";
	}
	xpxe_json_add_str(item, "config_to", to_text);
	xpxe_json_add_str(item, "config_to_why", how);
	xpxe_json_add_bool(item, "installed", xpxe_inventory_is_installed(c->inv, key, &when));
	xpxe_json_add_u64(item, "installed_at",
			  xpxe_inventory_is_installed(c->inv, key, &when) ? (unsigned long long)when
									  : 0);
	pthread_mutex_unlock(&c->inv->lock);
	if (mac[0])
		add_history(doc, item, mac);
	xpxe_json_add_node(reply, "machine", item);
}

/*
 * The machines array moved or changed: the DHCP side reads it through these, each server
 * through its own copy of the settings, at once (a refused add has moved it too).
 */
static void relink(struct xpxe_machines_ctl *c)
{
	c->cfg->dhcp.machines = c->cfg->machines;
	c->cfg->dhcp.n_machines = c->cfg->n_machines;
	for (int i = 0; i < c->n_dhcp; i++) {
		c->dhcp[i]->settings.machines = c->cfg->machines;
		c->dhcp[i]->settings.n_machines = c->cfg->n_machines;
	}
}

/* Every interface's DHCP maps and pool after the inventory changed (GONE: MACs removed). */
static void apply(struct xpxe_machines_ctl *c, const struct xpxe_machine_cfg *added,
		  const unsigned char (*gone)[6], int n_gone)
{
	for (int i = 0; i < c->n_dhcp; i++) {
		struct xpxe_dhcp_server *srv = c->dhcp[i];
		struct xpxe_dhcp_settings s = srv->settings;
		int err;

		s.machines = c->cfg->machines;
		s.n_machines = c->cfg->n_machines;
		err = xpxe_dhcp_server_sync(srv, &s, gone, n_gone);
		if (err >= 0 && added)
			err = xpxe_dhcp_put_machine(srv->dp, &srv->settings, added);
		if (err < 0)
			log_error("%s: cannot update the DHCP maps: %s", srv->dp->ifname,
				  strerror(-err));
	}
}

/* Another MAC's pool binding on IP refuses the reservation: that machine uses it. */
static bool ip_taken(struct xpxe_machines_ctl *c, const struct xpxe_machine_cfg *m, char *why,
		     size_t size)
{
	char ip[INET_ADDRSTRLEN], holder[18];

	if (!m->ip.s_addr)
		return false;
	for (int i = 0; i < c->n_dhcp; i++) {
		struct xpxe_lease *lease = xpxe_leases_holder(&c->dhcp[i]->leases, m->ip);
		bool own = false;

		for (int j = 0; lease && j < m->n_macs; j++)
			own |= !memcmp(lease->mac, m->macs[j], 6);
		if (!lease || own)
			continue;
		mac_text(lease->mac, holder);
		snprintf(why, size,
			 "the machine to add: ip %s is bound to %s from the pool on %s; reserve "
			 "another address",
			 inet_ntop(AF_INET, &m->ip, ip, sizeof(ip)), holder,
			 c->dhcp[i]->dp->ifname);
		return true;
	}
	return false;
}

/* A machine to add, into the shared store first: -errno with WHY when it cannot go there. */
static int put_in_store(struct xpxe_machines_ctl *c, const struct xpxe_machine_cfg *m, char *why,
			size_t size)
{
	char key[80], *json;
	int err;

	if (!xpxe_store_shared(c->store))
		return 0;
	xpxe_inventory_key(m, key, sizeof(key));
	json = xpxe_inventory_machine_json(c->cfg, m);
	if (!json) {
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	}
	err = xpxe_store_put_machine(c->store, key, json);
	free(json);
	if (err == -EEXIST)
		snprintf(why, size,
			 "the store already has machine %s (another responder added it): see 'xpxe "
			 "machines show'",
			 key);
	else if (err == -EAGAIN)
		snprintf(
		    why, size,
		    "the store (etcd) cannot be reached: machines can be added when it is back "
		    "(xpxe status says when)");
	else if (err)
		snprintf(why, size, "the store refused the machine: %s", strerror(-err));
	return err;
}

static void reply_add(struct xpxe_machines_ctl *c, struct fy_document *doc, struct fy_node *request,
		      struct fy_node *reply)
{
	struct fy_node *node = fy_node_by_path(request, "/machine", FY_NT, FYNWF_DONT_FOLLOW);
	struct xpxe_config *cfg = c->cfg;
	struct xpxe_config_error err;
	struct xpxe_machine_cfg m, *more;
	struct fy_node *item;
	char why[sizeof(err.text)];
	int err_store;

	if (xpxe_config_parse_machine(cfg, node, "the machine to add", &m, &err)) {
		fail(reply, "invalid", err.text);
		return;
	}
	pthread_mutex_lock(&c->inv->lock);
	more = realloc(cfg->machines, (cfg->n_machines + 1) * sizeof(*more));
	if (!more) {
		pthread_mutex_unlock(&c->inv->lock);
		fail(reply, "error", "out of memory");
		return;
	}
	cfg->machines = more;
	relink(c);
	more[cfg->n_machines] = m;
	if (xpxe_config_check_machine(cfg, cfg->n_machines, &err)) {
		pthread_mutex_unlock(&c->inv->lock);
		fail(reply, "conflict", err.text);
		return;
	}
	if (ip_taken(c, &m, why, sizeof(why))) {
		pthread_mutex_unlock(&c->inv->lock);
		fail(reply, "conflict", why);
		return;
	}
	cfg->n_machines++;
	if ((err_store = put_in_store(c, &cfg->machines[cfg->n_machines - 1], why, sizeof(why)))) {
		cfg->n_machines--;
		pthread_mutex_unlock(&c->inv->lock);
		fail(reply, err_store == -EEXIST ? "conflict" : "error", why);
		return;
	}
	if (xpxe_inventory_save_added(c->inv, cfg)) {
		cfg->n_machines--;
		pthread_mutex_unlock(&c->inv->lock);
		fail(reply, "error", "cannot save the machines file: see the daemon's log");
		return;
	}
	relink(c);
	m = cfg->machines[cfg->n_machines - 1];
	item = fy_node_create_mapping(doc);
	add_facts(c, doc, item, &m);
	pthread_mutex_unlock(&c->inv->lock);
	apply(c, &m, NULL, 0);
	xpxe_machines_name(cfg);
	xpxe_json_add_node(reply, "machine", item);
	xpxe_json_add_bool(reply, "added", true);
	log_info("machine added (%s:%d): %s", c->inv->machines_path, m.line,
		 m.hostname[0] ? m.hostname : "no hostname");
}

static void reply_rm(struct xpxe_machines_ctl *c, struct fy_node *request, struct fy_node *reply)
{
	struct xpxe_config *cfg = c->cfg;
	unsigned char gone[XPXE_CFG_MAX_MACS][6];
	struct xpxe_machine_cfg m;
	char mac[18], where[XPXE_CFG_PATH_MAX + 40], text[XPXE_CFG_PATH_MAX + 200];
	int idx = find_locked(c, request, reply, false, mac), n_gone;

	if (idx < 0)
		return;
	m = cfg->machines[idx];
	if (!m.added) {
		pthread_mutex_unlock(&c->inv->lock);
		xpxe_config_origin(cfg, &m, where, sizeof(where));
		snprintf(text, sizeof(text),
			 "defined in the config file at %s: edit the file and run 'xpxe reload'",
			 where);
		fail(reply, "in_config", text);
		return;
	}
	if (xpxe_store_shared(c->store)) {
		char key[80];
		int err;

		xpxe_inventory_key(&m, key, sizeof(key));
		err = xpxe_store_delete_machine(c->store, key);
		if (err) {
			pthread_mutex_unlock(&c->inv->lock);
			snprintf(text, sizeof(text), "%s",
				 err == -EAGAIN
				     ? "the store (etcd) cannot be reached: machines can "
				       "be removed when it is back"
				     : "the store refused the removal: see the daemon's log");
			fail(reply, "error", text);
			return;
		}
	}
	memmove(&cfg->machines[idx], &cfg->machines[idx + 1],
		(cfg->n_machines - idx - 1) * sizeof(m));
	cfg->n_machines--;
	relink(c);
	if (xpxe_inventory_save_added(c->inv, cfg)) {
		memmove(&cfg->machines[idx + 1], &cfg->machines[idx],
			(cfg->n_machines - idx) * sizeof(m));
		cfg->machines[idx] = m;
		cfg->n_machines++;
		relink(c);
		pthread_mutex_unlock(&c->inv->lock);
		fail(reply, "error", "cannot save the machines file: see the daemon's log");
		return;
	}
	pthread_mutex_unlock(&c->inv->lock);
	n_gone = m.n_macs;
	memcpy(gone, m.macs, sizeof(gone));
	apply(c, NULL, (const unsigned char(*)[6])gone, n_gone);
	xpxe_machines_name(cfg);
	log_info("machine removed: %s",
		 m.hostname[0] ? m.hostname : xpxe_json_str(request, "/machine"));
	xpxe_json_add_bool(reply, "removed", true);
	xpxe_json_add_str(reply, "hostname", m.hostname);
}

bool xpxe_machines_reply(struct xpxe_machines_ctl *c, const char *cmd, struct fy_document *doc,
			 struct fy_node *request, struct fy_node *reply)
{
	if (!strcmp(cmd, "machines"))
		reply_list(c, doc, reply);
	else if (!strcmp(cmd, "machine-show"))
		reply_show(c, doc, request, reply);
	else if (!strcmp(cmd, "machine-add"))
		reply_add(c, doc, request, reply);
	else if (!strcmp(cmd, "machine-rm"))
		reply_rm(c, request, reply);
	else if (!strcmp(cmd, "mark-installed") || !strcmp(cmd, "rearm"))
		reply_boot_once(c, request, reply, !strcmp(cmd, "mark-installed"));
	else
		return false;
	return true;
}

int xpxe_machines_macs(struct xpxe_machines_ctl *c, const char *machine, char (*macs)[18], int max,
		       const char **why)
{
	struct fy_document *doc = fy_document_create(NULL);
	struct fy_node *request = fy_node_create_mapping(doc), *reply = fy_node_create_mapping(doc);
	struct fy_node *root = fy_node_create_mapping(doc);
	char mac[18];
	int idx, n = 0;

	/* Nodes outside the document's tree outlive fy_document_destroy: hang both on its root. */
	xpxe_json_add_node(root, "request", request);
	xpxe_json_add_node(root, "reply", reply);
	fy_document_set_root(doc, root);
	xpxe_json_add_str(request, "machine", machine);
	idx = find_locked(c, request, reply, true, mac);
	if (idx == -2) {
		/* find_locked's own words, kept past the document. */
		static __thread char text[160];

		snprintf(text, sizeof(text), "%s", xpxe_json_str(reply, "/error"));
		*why = text;
		fy_document_destroy(doc);
		return -ENOENT;
	}
	if (idx < 0) {
		snprintf(macs[n++], 18, "%s", mac); /* a machine booted, not in the inventory */
	} else {
		for (int j = 0; j < c->cfg->machines[idx].n_macs && n < max; j++)
			mac_text(c->cfg->machines[idx].macs[j], macs[n++]);
		if (!n)
			*why = "the machine has no MAC in the inventory: its events cannot be told "
			       "apart (add its MAC)";
	}
	pthread_mutex_unlock(&c->inv->lock);
	fy_document_destroy(doc);
	return n ? n : -ENOENT;
}

/* Store machines refused already (KEY at REV): said once in the log, not at every change. */
static struct refused {
	char key[80];
	long long rev;
} refused[64];
static int n_refused;

static bool refused_before(const char *key, long long rev)
{
	for (int i = 0; i < n_refused; i++)
		if (!strcmp(refused[i].key, key) && refused[i].rev == rev)
			return true;
	snprintf(refused[n_refused % 64].key, sizeof(refused->key), "%s", key);
	refused[n_refused % 64].rev = rev;
	n_refused = n_refused < 64 ? n_refused + 1 : 64;
	return false;
}

/* The store's machine SM as a machine of CFG (checked against the others); -EINVAL, logged. */
static int from_store(struct xpxe_config *cfg, const struct xpxe_store_machine *sm,
		      struct xpxe_machine_cfg *m)
{
	struct fy_document *doc = xpxe_json_parse(sm->json, strlen(sm->json));
	struct xpxe_config_error err = { "" };
	char where[120];
	int ret;

	snprintf(where, sizeof(where), "the store's machines/%s", sm->key);
	ret = doc ? xpxe_config_parse_machine(cfg, fy_document_root(doc), where, m, &err) : -EINVAL;
	fy_document_destroy(doc);
	if (!ret) {
		struct xpxe_machine_cfg *more =
		    realloc(cfg->machines, (cfg->n_machines + 1) * sizeof(*more));

		if (!more)
			return -ENOMEM;
		cfg->machines = more;
		more[cfg->n_machines] = *m;
		more[cfg->n_machines].added = true;
		ret = xpxe_config_check_machine(cfg, cfg->n_machines, &err);
		if (!ret)
			cfg->n_machines++;
	}
	if (ret && !refused_before(sm->key, sm->rev))
		log_error("store: machine %s refused, not applied on this responder: %s", sm->key,
			  err.text[0] ? err.text : "not a machine");
	return ret;
}

void xpxe_machines_sync(struct xpxe_machines_ctl *c, const struct xpxe_store_machine *ms, int n)
{
	struct xpxe_config *cfg = c->cfg;
	unsigned char(*gone)[6] = NULL;
	int n_gone = 0, removed = 0, first_new, added = 0;
	char key[80], *json;

	pthread_mutex_lock(&c->inv->lock);
	gone = calloc((size_t)cfg->n_machines * XPXE_CFG_MAX_MACS + 1, sizeof(*gone));
	if (!gone) {
		pthread_mutex_unlock(&c->inv->lock);
		return;
	}
	/* Added machines the store no longer has as they are here: out. */
	for (int i = cfg->n_machines - 1; i >= 0; i--) {
		struct xpxe_machine_cfg *m = &cfg->machines[i];
		bool same = false;

		if (!m->added)
			continue;
		xpxe_inventory_key(m, key, sizeof(key));
		json = xpxe_inventory_machine_json(cfg, m);
		for (int j = 0; j < n && !same; j++)
			same = !strcmp(ms[j].key, key) && json && !strcmp(ms[j].json, json);
		free(json);
		if (same)
			continue;
		for (int j = 0; j < m->n_macs; j++)
			memcpy(gone[n_gone++], m->macs[j], 6);
		memmove(m, m + 1, (cfg->n_machines - i - 1) * sizeof(*m));
		cfg->n_machines--;
		removed++;
	}
	/* The store's machines this responder lacks: in, each checked. */
	first_new = cfg->n_machines;
	for (int j = 0; j < n; j++) {
		struct xpxe_machine_cfg m;
		bool have = false;

		for (int i = 0; i < cfg->n_machines && !have; i++) {
			if (!cfg->machines[i].added)
				continue;
			xpxe_inventory_key(&cfg->machines[i], key, sizeof(key));
			have = !strcmp(key, ms[j].key);
		}
		if (!have && !from_store(cfg, &ms[j], &m))
			added++;
	}
	relink(c);
	if (added || removed)
		xpxe_inventory_save_added(c->inv, cfg);
	pthread_mutex_unlock(&c->inv->lock);
	if (!added && !removed) {
		free(gone);
		return;
	}
	apply(c, NULL, (const unsigned char(*)[6])gone, n_gone);
	for (int i = first_new; i < cfg->n_machines; i++)
		for (int k = 0; k < c->n_dhcp; k++)
			xpxe_dhcp_put_machine(c->dhcp[k]->dp, &c->dhcp[k]->settings,
					      &cfg->machines[i]);
	xpxe_machines_name(cfg);
	free(gone);
	log_info("store: machines from the store: %d added, %d removed (%d in the inventory)",
		 added, removed, cfg->n_machines);
}

void xpxe_machines_name(const struct xpxe_config *cfg)
{
	char mac[18];

	/* Machines removed from the inventory lose their names (and, never seen, their row). */
	xpxe_events_clear_names();
	xpxe_events_default_profile(
	    cfg->default_profile >= 0 ? cfg->profiles[cfg->default_profile].name : "");
	for (int i = 0; i < cfg->n_machines; i++) {
		const struct xpxe_machine_cfg *m = &cfg->machines[i];
		/* As HTTP picks it: its own, else the default, else the first. */
		int p = m->profile >= 0 ? m->profile
					: (cfg->default_profile >= 0 ? cfg->default_profile : 0);

		for (int j = 0; j < m->n_macs; j++) {
			mac_text(m->macs[j], mac);
			xpxe_event_name(mac, m->hostname, cfg->profiles[p].name);
		}
	}
}
