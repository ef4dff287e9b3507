// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "atomic.h"
#include "json.h"
#include "inventory.h"
#include "events.h"
#include "log.h"

int xpxe_mac_normalize(const char *text, char out[18])
{
	unsigned char mac[6];

	if (!text || xpxe_parse_mac(text, mac))
		return -EINVAL;
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return 0;
}

void xpxe_inventory_key(const struct xpxe_machine_cfg *m, char *key, size_t size)
{
	const unsigned char *a = m->macs[0];

	if (m->n_macs)
		snprintf(key, size, "mac:%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3],
			 a[4], a[5]);
	else if (m->uuid[0])
		snprintf(key, size, "uuid:%s", m->uuid);
	else if (m->serial[0])
		snprintf(key, size, "serial:%s", m->serial);
	else
		snprintf(key, size, "hostname:%s", m->hostname);
}

/* KEY UNIXTIME: one boot-once mark (xpxe_read_records). */
static int take_state_line(char *line, void *ctx)
{
	struct xpxe_inventory *inv = ctx;
	struct installed *more;
	char key[80], extra;
	long long when;

	if (sscanf(line, "%79s %lld %c", key, &when, &extra) != 2 || when < 0)
		return XPXE_RECORD_MALFORMED;
	more = realloc(inv->installed, (inv->n_installed + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	inv->installed = more;
	snprintf(more[inv->n_installed].key, sizeof(more->key), "%s", key);
	more[inv->n_installed++].when = (time_t)when;
	return XPXE_RECORD_KEPT;
}

static int write_state(FILE *f, void *ctx)
{
	const struct xpxe_inventory *inv = ctx;

	fprintf(f, "# xpxe boot-once: machines that boot from their disk (KEY UNIXTIME)\n");
	for (int i = 0; i < inv->n_installed; i++)
		fprintf(f, "%s %lld\n", inv->installed[i].key, (long long)inv->installed[i].when);
	return ferror(f) ? -EIO : 0;
}

static int save_state(const struct xpxe_inventory *inv)
{
	return xpxe_write_atomically(inv->state_path, 0600, write_state, (void *)inv);
}

/* Bad lines are reported and the file moved aside; the good marks go back in place at once. */
static int load_state(struct xpxe_inventory *inv)
{
	int bad = xpxe_read_records(inv->state_path, "KEY UNIXTIME", take_state_line, inv);

	return bad > 0 ? save_state(inv) : bad;
}

void xpxe_state_move_aside(const char *path)
{
	char aside[XPXE_CFG_PATH_MAX + 64];

	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path, (long long)time(NULL));
	if (rename(path, aside))
		log_error("cannot move %s aside: %s", path, strerror(errno));
	else
		log_warn("%s moved aside to %s", path, aside);
}

static char *machine_line(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m);

struct learned_list {
	const struct xpxe_learned *items;
	int n;
};

static int write_learned(FILE *f, void *ctx)
{
	const struct learned_list *list = ctx;
	char ip[INET6_ADDRSTRLEN];

	fprintf(f, "# xpxe: addresses machines were seen using (KEY IP UNIXTIME HOW); their "
		   "configs go only there\n");
	for (int i = 0; i < list->n; i++) {
		if (list->items[i].v6)
			inet_ntop(AF_INET6, &list->items[i].ip6, ip, sizeof(ip));
		else
			inet_ntop(AF_INET, &list->items[i].ip, ip, sizeof(ip));
		fprintf(f, "%s %s %lld %s\n", list->items[i].key, ip,
			(long long)list->items[i].when, list->items[i].how);
	}
	return ferror(f) ? -EIO : 0;
}

/* KEY IP UNIXTIME HOW: where a machine was seen (xpxe_read_records). */
static int take_learned_line(char *line, void *ctx)
{
	struct xpxe_inventory *inv = ctx;
	char key[80], ip[INET6_ADDRSTRLEN], how[16], extra;
	struct xpxe_learned l = { 0 }, *more;
	long long when;

	/* IP: IPv4, or IPv6 (a machine seen over IPv6). */
	if (sscanf(line, "%79s %45s %lld %15s %c", key, ip, &when, how, &extra) != 4 ||
	    (inet_pton(AF_INET, ip, &l.ip) != 1 &&
	     !(l.v6 = inet_pton(AF_INET6, ip, &l.ip6) == 1)) ||
	    when < 0)
		return XPXE_RECORD_MALFORMED;
	more = realloc(inv->learned, (inv->n_learned + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	inv->learned = more;
	snprintf(l.key, sizeof(l.key), "%s", key);
	snprintf(l.how, sizeof(l.how), "%s", how);
	l.when = (time_t)when;
	more[inv->n_learned++] = l;
	return XPXE_RECORD_KEPT;
}

/* Bad lines are reported and the file moved aside; the good lines go back in place at once. */
static int load_learned(struct xpxe_inventory *inv)
{
	int bad =
	    xpxe_read_records(inv->learned_path, "KEY IP UNIXTIME HOW", take_learned_line, inv);

	if (bad <= 0)
		return bad;
	return xpxe_write_atomically(inv->learned_path, 0600, write_learned,
				     &(struct learned_list){ inv->learned, inv->n_learned });
}

/* KEY is at IP (V6: IP6): see xpxe_inventory_learn. */
static int learn(struct xpxe_inventory *inv, const char *key, bool v6, struct in_addr ip,
		 const struct in6_addr *ip6, const char *how)
{
	struct xpxe_learned *l = (struct xpxe_learned *)xpxe_inventory_learned(inv, key);
	char text[INET6_ADDRSTRLEN];

	if (l && l->v6 == v6 && l->ip.s_addr == ip.s_addr && !memcmp(&l->ip6, ip6, sizeof(*ip6))) {
		l->when = time(NULL); /* in memory only: no write for a machine that stays put */
		return 0;
	}
	if (!l && inv->n_learned == XPXE_LEARNED_MAX) {
		/* Bounded (anyone can name a MAC in a script URL): the oldest is forgotten. */
		l = &inv->learned[0];
		for (int i = 1; i < inv->n_learned; i++)
			if (inv->learned[i].when < l->when)
				l = &inv->learned[i];
		log_warn("%d machine addresses known: forgetting %s's", XPXE_LEARNED_MAX, l->key);
	} else if (!l) {
		l = realloc(inv->learned, (inv->n_learned + 1) * sizeof(*l));
		if (!l)
			return -ENOMEM;
		inv->learned = l;
		l = &l[inv->n_learned++];
		l->key[0] = '\0';
	}
	if (strcmp(l->key, key)) {
		memset(l, 0, sizeof(*l));
		snprintf(l->key, sizeof(l->key), "%s", key);
	}
	l->ip = ip;
	l->v6 = v6;
	l->ip6 = *ip6;
	l->when = time(NULL);
	snprintf(l->how, sizeof(l->how), "%s", how);
	if (v6)
		inet_ntop(AF_INET6, ip6, text, sizeof(text));
	else
		inet_ntop(AF_INET, &ip, text, sizeof(text));
	log_info("%s is at %s (%s): its config goes only there", key, text, how);
	inv->learned_unsaved = true;
	return 0;
}

int xpxe_inventory_learn(struct xpxe_inventory *inv, const char *key, struct in_addr ip,
			 const char *how)
{
	return learn(inv, key, false, ip, &in6addr_any, how);
}

int xpxe_inventory_learn6(struct xpxe_inventory *inv, const char *key, const struct in6_addr *ip6,
			  const char *how)
{
	return learn(inv, key, true, (struct in_addr){ 0 }, ip6, how);
}

int xpxe_inventory_save_learned(struct xpxe_inventory *inv, bool now)
{
	struct learned_list copy = { 0 };
	struct xpxe_learned *items = NULL;
	time_t t = time(NULL);
	int err;

	pthread_mutex_lock(&inv->lock);
	if (!inv->learned_unsaved || (!now && t == inv->learned_saved)) {
		pthread_mutex_unlock(&inv->lock);
		return 0;
	}
	if (inv->n_learned && !(items = malloc(inv->n_learned * sizeof(*items)))) {
		pthread_mutex_unlock(&inv->lock);
		return -ENOMEM;
	}
	if (items)
		memcpy(items, inv->learned, inv->n_learned * sizeof(*items));
	copy.items = items;
	copy.n = inv->n_learned;
	inv->learned_unsaved = false;
	inv->learned_saved = t;
	pthread_mutex_unlock(&inv->lock);

	err = xpxe_write_atomically(inv->learned_path, 0600, write_learned, &copy);
	free(items);
	if (err) {
		log_error("cannot save %s: %s", inv->learned_path, strerror(-err));
		pthread_mutex_lock(&inv->lock);
		inv->learned_unsaved = true; /* the next round tries again */
		pthread_mutex_unlock(&inv->lock);
	}
	return err;
}

int xpxe_inventory_retry_state(struct xpxe_inventory *inv)
{
	time_t t = time(NULL);
	int err = 0;

	pthread_mutex_lock(&inv->lock);
	if (inv->unsaved && t != inv->state_retried) {
		inv->state_retried = t;
		err = save_state(inv);
		if (!err) {
			inv->unsaved = false;
			log_info(
			    "saved %s: the boot-once changes held in memory since a failed write "
			    "are on disk now",
			    inv->state_path);
		}
	}
	pthread_mutex_unlock(&inv->lock);
	return err;
}

const struct xpxe_learned *xpxe_inventory_learned(const struct xpxe_inventory *inv, const char *key)
{
	for (int i = 0; i < inv->n_learned; i++)
		if (!strcmp(inv->learned[i].key, key))
			return &inv->learned[i];
	return NULL;
}

void xpxe_inventory_key_of_mac(const struct xpxe_inventory *inv, const unsigned char mac[6],
			       char *key, size_t size)
{
	const struct xpxe_config *cfg = inv->cfg;

	for (int i = 0; i < cfg->n_machines; i++)
		for (int j = 0; j < cfg->machines[i].n_macs; j++)
			if (!memcmp(cfg->machines[i].macs[j], mac, 6)) {
				xpxe_inventory_key(&cfg->machines[i], key, size);
				return;
			}
	snprintf(key, size, "mac:%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

char *xpxe_inventory_machine_json(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m)
{
	return machine_line(cfg, m);
}

/* One machine as the flow mapping of a line of machines.yaml (JSON is YAML). */
static char *machine_line(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m)
{
	struct fy_document *doc = fy_document_create(NULL);
	struct fy_node *map = fy_node_create_mapping(doc), *macs = fy_node_create_sequence(doc);
	char mac[18], ip[INET_ADDRSTRLEN];
	char *text;

	fy_document_set_root(doc, map);
	for (int j = 0; j < m->n_macs; j++) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m->macs[j][0],
			 m->macs[j][1], m->macs[j][2], m->macs[j][3], m->macs[j][4], m->macs[j][5]);
		fy_node_sequence_append(macs, fy_node_create_scalar_copy(doc, mac, strlen(mac)));
	}
	if (m->n_macs)
		xpxe_json_add_node(map, "mac", macs);
	else
		fy_node_free(macs);
	if (m->uuid[0])
		xpxe_json_add_str(map, "uuid", m->uuid);
	if (m->serial[0])
		xpxe_json_add_str(map, "serial", m->serial);
	if (m->hostname[0])
		xpxe_json_add_str(map, "hostname", m->hostname);
	if (m->install_disk[0])
		xpxe_json_add_str(map, "install_disk", m->install_disk);
	if (m->role[0])
		xpxe_json_add_str(map, "role", m->role);
	if (m->ip.s_addr)
		xpxe_json_add_str(map, "ip", inet_ntop(AF_INET, &m->ip, ip, sizeof(ip)));
	if (m->profile >= 0)
		xpxe_json_add_str(map, "profile", cfg->profiles[m->profile].name);
	if (m->talos_config[0])
		xpxe_json_add_str(map, "talos_config", m->talos_config);
	text = xpxe_json_emit(doc);
	fy_document_destroy(doc);
	return text;
}

#define MACHINES_HEADER_LINES 3

struct added_ctx {
	const struct xpxe_config *cfg;
};

static int write_added(FILE *f, void *ctx)
{
	const struct xpxe_config *cfg = ((struct added_ctx *)ctx)->cfg;

	/* MACHINES_HEADER_LINES lines, then one machine a line. */
	int n = 0;

	for (int i = 0; i < cfg->n_machines; i++)
		n += cfg->machines[i].added;
	fprintf(f,
		"# xpxe: machines added with 'xpxe machines add', merged with the config "
		"file's.\n# Change them with 'xpxe machines add' and 'xpxe machines rm'.\n"
		"machines:%s\n",
		n ? "" : " []");
	for (int i = 0; i < cfg->n_machines; i++) {
		char *line;

		if (!cfg->machines[i].added)
			continue;
		line = machine_line(cfg, &cfg->machines[i]);
		if (!line)
			return -ENOMEM;
		fprintf(f, "  - %s\n", line);
		free(line);
	}
	return ferror(f) ? -EIO : 0;
}

int xpxe_inventory_save_added(struct xpxe_inventory *inv, struct xpxe_config *cfg)
{
	struct added_ctx ctx = { cfg };
	int err = xpxe_write_atomically(inv->machines_path, 0600, write_added, &ctx);
	int line = MACHINES_HEADER_LINES;

	if (err) {
		log_error("cannot save %s: %s", inv->machines_path, strerror(-err));
		return err;
	}
	for (int i = 0; i < cfg->n_machines; i++)
		if (cfg->machines[i].added)
			cfg->machines[i].line = ++line;
	return 0;
}

int xpxe_inventory_open(struct xpxe_inventory *inv, const struct xpxe_config *cfg)
{
	int err;

	memset(inv, 0, sizeof(*inv));
	pthread_mutex_init(&inv->lock, NULL);
	inv->cfg = cfg;
	if (mkdir(cfg->state_dir, 0700) && errno != EEXIST) {
		log_error("cannot create the state folder %s: %s", cfg->state_dir, strerror(errno));
		return -errno;
	}
	snprintf(inv->state_path, sizeof(inv->state_path), "%s/installed", cfg->state_dir);
	snprintf(inv->learned_path, sizeof(inv->learned_path), "%s/addresses", cfg->state_dir);
	snprintf(inv->machines_path, sizeof(inv->machines_path), "%s/%s", cfg->state_dir,
		 XPXE_MACHINES_FILE);
	err = load_state(inv);
	if (err)
		log_error("cannot read %s: %s", inv->state_path, strerror(-err));
	if (!err && (err = load_learned(inv)))
		log_error("cannot read %s: %s", inv->learned_path, strerror(-err));
	return err;
}

void xpxe_inventory_close(struct xpxe_inventory *inv)
{
	xpxe_inventory_save_learned(inv, true);
	free(inv->installed);
	inv->installed = NULL;
	inv->n_installed = 0;
	free(inv->learned);
	inv->learned = NULL;
	inv->n_learned = 0;
	pthread_mutex_destroy(&inv->lock);
}

/* The one machine whose FIELD equals VALUE (case-insensitive), -1 for none, -2 for several. */
static int unique_match(const struct xpxe_config *cfg, size_t field_off, const char *value)
{
	int found = -1;

	if (!value || !*value)
		return -1;
	for (int i = 0; i < cfg->n_machines; i++) {
		const char *v = (const char *)&cfg->machines[i] + field_off;

		if (*v && !strcasecmp(v, value)) {
			if (found >= 0)
				return -2;
			found = i;
		}
	}
	return found;
}

int xpxe_inventory_find(const struct xpxe_inventory *inv, const struct xpxe_identity *id,
			const char **why)
{
	const struct xpxe_config *cfg = inv->cfg;
	unsigned char mac[6];
	int m;

	*why = NULL;
	if (id->mac && *id->mac) {
		if (xpxe_parse_mac(id->mac, mac)) {
			*why = "the MAC is not aa:bb:cc:dd:ee:ff";
			return -1;
		}
		for (int i = 0; i < cfg->n_machines; i++)
			for (int j = 0; j < cfg->machines[i].n_macs; j++)
				if (!memcmp(cfg->machines[i].macs[j], mac, 6))
					return i;
	}
	m = unique_match(cfg, offsetof(struct xpxe_machine_cfg, uuid), id->uuid);
	if (m >= 0)
		return m;
	/* A shared UUID names nobody, but the serial or hostname still may. */
	*why = m == -2 ? "its UUID is shared by several machines (a common firmware bug): add "
			 "its MAC"
		       : "no machine in the inventory has this MAC, UUID, serial or hostname";
	m = unique_match(cfg, offsetof(struct xpxe_machine_cfg, serial), id->serial);
	if (m < 0)
		m = unique_match(cfg, offsetof(struct xpxe_machine_cfg, hostname), id->hostname);
	if (m >= 0)
		*why = NULL;
	return m >= 0 ? m : -1;
}

int xpxe_inventory_set_installed(struct xpxe_inventory *inv, const char *key, bool installed)
{
	struct installed *more;
	bool change;
	int i, err;

	for (i = 0; i < inv->n_installed; i++)
		if (!strcmp(inv->installed[i].key, key))
			break;
	change = installed ? i == inv->n_installed : i < inv->n_installed;
	if (!change && !inv->unsaved)
		return 0;
	if (change && installed) {
		more = realloc(inv->installed, (inv->n_installed + 1) * sizeof(*more));
		if (!more)
			return -ENOMEM;
		inv->installed = more;
		snprintf(more[inv->n_installed].key, sizeof(more->key), "%s", key);
		more[inv->n_installed++].when = time(NULL);
	} else if (change) {
		inv->installed[i] = inv->installed[--inv->n_installed];
	}
	/*
	 * Memory follows the request even when the file cannot (disk full): a machine that
	 * took its config must boot its disk next, not install again. The file catches up at
	 * the next call that writes it; until then a restart would lose the change.
	 */
	err = save_state(inv);
	inv->unsaved = err != 0;
	if (err) {
		inv->save_errors++;
		log_error("cannot save %s: %s; %s is %s in memory only, until a write succeeds",
			  inv->state_path, strerror(-err), key, installed ? "installed" : "armed");
	} else if (change) {
		xpxe_event(installed ? XPXE_EV_INSTALLED : XPXE_EV_REARMED,
			   strncmp(key, "mac:", 4) ? NULL : key + 4, NULL, NULL, key, 0);
	}
	if (change)
		xpxe_store_mark(inv->store, key, installed, time(NULL));
	return err;
}

void xpxe_inventory_sync_marks(struct xpxe_inventory *inv, const struct xpxe_store_mark *marks,
			       int n)
{
	int added = 0, cleared = 0, err;

	pthread_mutex_lock(&inv->lock);
	/* Cleared: here, not in the store. */
	for (int i = inv->n_installed - 1; i >= 0; i--) {
		bool there = false;

		for (int j = 0; j < n && !there; j++)
			there = !strcmp(marks[j].key, inv->installed[i].key);
		if (there)
			continue;
		xpxe_event(XPXE_EV_REARMED,
			   strncmp(inv->installed[i].key, "mac:", 4) ? NULL
								     : inv->installed[i].key + 4,
			   NULL, NULL, "re-armed in the store", 0);
		inv->installed[i] = inv->installed[--inv->n_installed];
		cleared++;
	}
	/* Marked: in the store, not here. */
	for (int j = 0; j < n; j++) {
		struct installed *more;

		if (xpxe_inventory_is_installed(inv, marks[j].key, NULL))
			continue;
		more = realloc(inv->installed, (inv->n_installed + 1) * sizeof(*more));
		if (!more)
			break;
		inv->installed = more;
		snprintf(more[inv->n_installed].key, sizeof(more->key), "%s", marks[j].key);
		more[inv->n_installed++].when = marks[j].when;
		xpxe_event(XPXE_EV_INSTALLED,
			   strncmp(marks[j].key, "mac:", 4) ? NULL : marks[j].key + 4, NULL, NULL,
			   marks[j].by[0] ? marks[j].by : "marked in the store", 0);
		added++;
	}
	if (added || cleared) {
		log_info("store: boot-once from the store: %d marked, %d re-armed (%d in all)",
			 added, cleared, inv->n_installed);
		err = save_state(inv);
		inv->unsaved = err != 0;
		if (err) {
			inv->save_errors++;
			log_error("cannot save %s (this responder's copy of the marks): %s",
				  inv->state_path, strerror(-err));
		}
	}
	pthread_mutex_unlock(&inv->lock);
}

bool xpxe_inventory_is_installed(struct xpxe_inventory *inv, const char *key, time_t *when)
{
	for (int i = 0; i < inv->n_installed; i++) {
		if (!strcmp(inv->installed[i].key, key)) {
			if (when)
				*when = inv->installed[i].when;
			return true;
		}
	}
	return false;
}
