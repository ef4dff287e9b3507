/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_ASSETS_H
#define XPXE_ASSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "xpxe_tftp.h"

/*
 * The asset store: files loaded into BPF maps for the TFTP data plane. Each
 * load is one array map of chunks (layout in xpxe_tftp.h), published in a slot
 * of every served interface's tftp_assets map. Loading a name again puts the
 * new content in a new slot: transfers of the old one finish from the old
 * slot, which is freed when the last of them ends.
 */

#define XPXE_ASSETS_MAX_OUTER 8

struct xpxe_asset {
	char name[XPXE_TFTP_NAME_MAX + 1];
	char path[4096];
	uint64_t size;
	uint8_t sha256[32];
	uint32_t slot;
	uint32_t n_chunks;
	int map_fd;
	const struct xpxe_tftp_chunk *chunks; /* read-only view of the map */
	size_t map_len;
	unsigned refs; /* transfers reading this load */
	bool current;  /* what NAME resolves to; false: replaced, freed once refs is 0 */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	double load_ms;
	bool generated; /* made by the daemon (xpxe_assets_load_text): no file to watch */
};

struct xpxe_assets {
	struct xpxe_asset *slots[XPXE_TFTP_ASSET_SLOTS];
	/* Slots whose maps a previous daemon left to transfers still running. */
	unsigned orphan_refs[XPXE_TFTP_ASSET_SLOTS];
	/* Their chunks, mapped read-only once a window needs them (xpxe_assets_chunks). */
	const struct xpxe_tftp_chunk *orphan_chunks[XPXE_TFTP_ASSET_SLOTS];
	size_t orphan_len[XPXE_TFTP_ASSET_SLOTS];
	uint32_t orphan_n_chunks[XPXE_TFTP_ASSET_SLOTS];
	int outer_fds[XPXE_ASSETS_MAX_OUTER];
	int n_outer;
};

void xpxe_assets_init(struct xpxe_assets *a);

/* Frees every load this process holds (maps stay alive where an outer map holds them). */
void xpxe_assets_free(struct xpxe_assets *a);

/*
 * Serves the loads from the tftp_assets map OUTER_FD (one per interface) too:
 * publishes every current load in it and clears the slots that hold neither a
 * load nor a map a running transfer still reads (see xpxe_assets_hold_orphan).
 */
int xpxe_assets_add_outer(struct xpxe_assets *a, int outer_fd);
void xpxe_assets_remove_outer(struct xpxe_assets *a, int outer_fd);

/* Keeps SLOT, filled by a previous daemon, for a transfer that still runs; put releases it. */
void xpxe_assets_hold_orphan(struct xpxe_assets *a, uint32_t slot);

/*
 * Loads PATH as NAME (replacing a load of the same name, see above). Returns 0,
 * or a negative errno after logging why.
 */
int xpxe_assets_load(struct xpxe_assets *a, const char *name, const char *path);

/*
 * Loads LEN bytes of TEXT as NAME, a file the daemon makes itself (GRUB's
 * first grub.cfg); a reload leaves it alone. Returns 0 or a negative errno.
 */
int xpxe_assets_load_text(struct xpxe_assets *a, const char *name, const char *text, size_t len);

/* Loads again every asset whose file changed (size, mtime, inode). Returns how many, or -errno. */
int xpxe_assets_reload(struct xpxe_assets *a);

/* The current load of NAME, or NULL. */
struct xpxe_asset *xpxe_assets_find(struct xpxe_assets *a, const char *name);

/* A transfer starts or ends reading SLOT. */
void xpxe_assets_get(struct xpxe_assets *a, uint32_t slot);
void xpxe_assets_put(struct xpxe_assets *a, uint32_t slot);

/*
 * The chunks the transfers reading SLOT read, and how many (the daemon's view
 * of the same maps the programs read, no copy): a load's, or those of a map a
 * previous daemon left there for a transfer this one took over. NULL when the
 * slot holds neither.
 */
const struct xpxe_tftp_chunk *xpxe_assets_chunks(struct xpxe_assets *a, uint32_t slot,
						 uint32_t *n_chunks);

/* Copies block BLOCK (from 1) of BLKSIZE bytes into BUF; returns its length. */
size_t xpxe_asset_read_block(const struct xpxe_asset *as, uint32_t block, unsigned blksize,
			     uint8_t *buf);

/* True when NAME is acceptable as an asset name (what an RRQ can name; see README). */
bool xpxe_asset_name_valid(const char *name);

/* Lays out chunk IDX of the file FILE (SIZE bytes) into C: bytes, tail copy, prefix sums,
 * block sums. */
void xpxe_asset_fill_chunk(struct xpxe_tftp_chunk *c, const uint8_t *file, uint64_t size,
			   uint32_t idx);

#endif /* XPXE_ASSETS_H */
