/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_INVENTORY_H
#define XPXE_INVENTORY_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"

/*
 * The machines xpxe knows (from the config) and their boot-once state: a
 * machine that has fetched its Talos config, or was marked installed, boots
 * from its disk until it is re-armed. The state is kept in STATE_DIR/installed,
 * written atomically.
 */

/* What identifies a machine in a request; any field may be NULL or "". */
struct xpxe_identity {
	const char *mac; /* aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff, any case */
	const char *uuid;
	const char *serial;
	const char *hostname;
};

struct xpxe_inventory {
	pthread_mutex_t lock; /* HTTP threads and the control socket share it */
	const struct xpxe_config *cfg;
	char state_path[XPXE_CFG_PATH_MAX + 16];
	/* boot-once: keys of installed machines ("mac:..." / "uuid:..." / ...) and when */
	struct installed {
		char key[80];
		time_t when;
	} * installed;
	int n_installed;
};

/* Binds INV to CFG and loads the boot-once state. -errno and a log line on failure. */
int xpxe_inventory_open(struct xpxe_inventory *inv, const struct xpxe_config *cfg);
void xpxe_inventory_close(struct xpxe_inventory *inv);

/*
 * The machine ID names: a MAC match wins; then a UUID, a serial, a hostname,
 * each only when exactly one machine has it (bare-metal UUIDs are often
 * duplicated). Returns the index in cfg->machines, or -1 with WHY set.
 */
int xpxe_inventory_find(const struct xpxe_inventory *inv, const struct xpxe_identity *id,
			const char **why);

/* The key a machine's boot-once state is stored under. */
void xpxe_inventory_key(const struct xpxe_machine_cfg *m, char *key, size_t size);

/* Boot-once: marks or clears KEY; persisted before returning 0. */
int xpxe_inventory_set_installed(struct xpxe_inventory *inv, const char *key, bool installed);
bool xpxe_inventory_is_installed(struct xpxe_inventory *inv, const char *key, time_t *when);

/* "aa:bb:cc:dd:ee:ff" from any accepted spelling; -EINVAL otherwise. */
int xpxe_mac_normalize(const char *text, char out[18]);

#endif /* XPXE_INVENTORY_H */
