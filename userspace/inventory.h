/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_INVENTORY_H
#define XPXE_INVENTORY_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "store/store.h"

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

/*
 * An address xpxe saw a machine use (proxy mode, or a machine without a
 * binding): the source of its port-4011 boot server request, or of its
 * /boot.ipxe fetch. Its config is served only there (http.config_access).
 */
#define XPXE_LEARNED_MAX 16384 /* addresses kept; the oldest goes first */

struct xpxe_learned {
	char key[80];	     /* the machine's boot-once key */
	struct in_addr ip;   /* 0 when the address is IPv6 */
	bool v6;	     /* the address is IP6: the machine last showed up over IPv6 */
	struct in6_addr ip6; /* :: when the address is IPv4 */
	time_t when;
	char how[16]; /* "dhcp-4011", "boot-script" */
};

struct xpxe_inventory {
	pthread_mutex_t lock; /* HTTP threads and the control socket share it */
	const struct xpxe_config *cfg;
	char state_path[XPXE_CFG_PATH_MAX + 16];
	char learned_path[XPXE_CFG_PATH_MAX + 16];  /* STATE_DIR/addresses */
	char machines_path[XPXE_CFG_PATH_MAX + 16]; /* STATE_DIR/machines.yaml */
	struct xpxe_learned *learned;
	int n_learned;
	/* boot-once: keys of installed machines ("mac:..." / "uuid:..." / ...) and when */
	struct installed {
		char key[80];
		time_t when;
	} * installed;
	int n_installed;
	unsigned long long save_errors; /* the boot-once file could not be written */
	bool unsaved;			/* memory holds a change the file does not */
	time_t state_retried;		/* when the daemon's loop last tried that file again */
	bool learned_unsaved;		/* a learned address the addresses file lacks */
	time_t learned_saved;		/* when that file was last written */
	struct xpxe_store *store;	/* marks are shared through it (etcd); NULL: files only */
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

/*
 * Boot-once: marks or clears KEY; persisted before returning 0. With a shared store the
 * change goes there too (queued: written at once, or when the store is back).
 */
int xpxe_inventory_set_installed(struct xpxe_inventory *inv, const char *key, bool installed);
bool xpxe_inventory_is_installed(struct xpxe_inventory *inv, const char *key, time_t *when);

/*
 * Records that the machine of KEY uses address IP (HOW: what showed it). Call with the lock
 * held. The file follows within a second (xpxe_inventory_save_learned), not here: anyone can
 * name a new MAC in a script URL, and a write each would stall every HTTP thread.
 */
int xpxe_inventory_learn(struct xpxe_inventory *inv, const char *key, struct in_addr ip,
			 const char *how);
/* The same for an IPv6 address: it replaces the IPv4 one (a machine is at one address). */
int xpxe_inventory_learn6(struct xpxe_inventory *inv, const char *key, const struct in6_addr *ip6,
			  const char *how);

/*
 * Writes STATE_DIR/addresses (atomically) when a learned address changed, at most once a
 * second unless NOW: from a copy taken under the lock, written outside it. Called by the
 * daemon's loop each round, and with NOW when it stops. -errno on failure (retried later).
 */
int xpxe_inventory_save_learned(struct xpxe_inventory *inv, bool now);

/*
 * Writes the boot-once file again after a write failed (disk full) and none succeeded since:
 * at most once a second, from the daemon's loop, so that marks held in memory reach the disk
 * once there is room, not only at the next mark. -errno on failure (tried again later).
 */
int xpxe_inventory_retry_state(struct xpxe_inventory *inv);

/* The address learned for KEY, or NULL. Call with the lock held. */
const struct xpxe_learned *xpxe_inventory_learned(const struct xpxe_inventory *inv,
						  const char *key);

/* The boot-once key of whoever has MAC: its machine's, else "mac:MAC". */
void xpxe_inventory_key_of_mac(const struct xpxe_inventory *inv, const unsigned char mac[6],
			       char *key, size_t size);

/*
 * Writes the machines of CFG marked added to STATE_DIR/machines.yaml,
 * atomically, and renumbers their lines to match the file. -errno on failure.
 */
int xpxe_inventory_save_added(struct xpxe_inventory *inv, struct xpxe_config *cfg);

/*
 * The store's boot-once marks (the whole set): what they add or clear takes effect here
 * and in STATE_DIR/installed, this responder's copy. Takes the lock.
 */
void xpxe_inventory_sync_marks(struct xpxe_inventory *inv, const struct xpxe_store_mark *marks,
			       int n);

/* One machine as a line of JSON, as STATE_DIR/machines.yaml and the store hold it; free() it. */
char *xpxe_inventory_machine_json(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m);

/* Moves a state file that cannot be read aside to PATH.corrupt-UNIXTIME; logs where. */
void xpxe_state_move_aside(const char *path);

/* "aa:bb:cc:dd:ee:ff" from any accepted spelling; -EINVAL otherwise. */
int xpxe_mac_normalize(const char *text, char out[18]);

#endif /* XPXE_INVENTORY_H */
