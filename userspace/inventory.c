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

#include "atomic.h"
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

static int load_state(struct xpxe_inventory *inv)
{
	char line[160], key[80];
	long long when;
	FILE *f = fopen(inv->state_path, "r");

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct installed *more;

		if (line[0] == '#' || sscanf(line, "%79s %lld", key, &when) != 2)
			continue;
		more = realloc(inv->installed, (inv->n_installed + 1) * sizeof(*more));
		if (!more) {
			fclose(f);
			return -ENOMEM;
		}
		inv->installed = more;
		snprintf(more[inv->n_installed].key, sizeof(more->key), "%s", key);
		more[inv->n_installed++].when = (time_t)when;
	}
	fclose(f);
	return 0;
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
	err = load_state(inv);
	if (err)
		log_error("cannot read %s: %s", inv->state_path, strerror(-err));
	return err;
}

void xpxe_inventory_close(struct xpxe_inventory *inv)
{
	free(inv->installed);
	inv->installed = NULL;
	inv->n_installed = 0;
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
	int i, err;

	for (i = 0; i < inv->n_installed; i++)
		if (!strcmp(inv->installed[i].key, key))
			break;
	if (installed && i < inv->n_installed)
		return 0;
	if (!installed && i == inv->n_installed)
		return 0;
	if (installed) {
		more = realloc(inv->installed, (inv->n_installed + 1) * sizeof(*more));
		if (!more)
			return -ENOMEM;
		inv->installed = more;
		snprintf(more[inv->n_installed].key, sizeof(more->key), "%s", key);
		more[inv->n_installed++].when = time(NULL);
	} else {
		inv->installed[i] = inv->installed[--inv->n_installed];
	}
	err = save_state(inv);
	if (err)
		log_error("cannot save %s: %s", inv->state_path, strerror(-err));
	else
		xpxe_event(installed ? XPXE_EV_INSTALLED : XPXE_EV_REARMED,
			   strncmp(key, "mac:", 4) ? NULL : key + 4, NULL, NULL, key, 0);
	return err;
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
