// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <openssl/evp.h>

#include "assets.h"
#include "log.h"

void xpxe_assets_init(struct xpxe_assets *a)
{
	memset(a, 0, sizeof(*a));
}

bool xpxe_asset_name_valid(const char *name)
{
	size_t n = strlen(name);
	const char *p = name;

	if (n == 0 || n > XPXE_TFTP_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (const char *c = name; *c; c++)
		if (*c <= ' ' || *c == 0x7f || *c == '\\')
			return false;
	/* No empty, "." or ".." component: an RRQ could never name it. */
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && !strncmp(p, "..", 2)))
			return false;
		p += len;
		if (*p)
			p++;
	}
	return true;
}

/* Sum of big-endian 16-bit words of BUF (LEN even), not folded. */
static uint64_t sum_words(const uint8_t *buf, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)buf[i] << 8 | buf[i + 1];
	return s;
}

static uint16_t fold16(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The folded sum of chunk bytes [0, X) as big-endian words, from the prefix sums in C. */
static uint32_t prefix_sum(const struct xpxe_tftp_chunk *c, uint32_t x)
{
	uint64_t s = c->csum[x >> XPXE_TFTP_CSUM_SHIFT];

	/* The stride's start is even: bytes at even offsets are the high halves of words. */
	for (uint32_t i = x & ~(XPXE_TFTP_CSUM_STRIDE - 1); i < x; i++)
		s += (i & 1) ? c->data[i] : (uint32_t)c->data[i] << 8;
	return fold16(s);
}

/*
 * The sum of chunk bytes [R, R + LEN) as a frame that starts them at an even offset carries
 * it: the prefix sums' difference (one's complement: adding the complement), byte-swapped
 * from an odd R, where each byte weighs as the other half of its word (RFC 1071 2(B)).
 * A pass over the block's bytes would make loading several times slower.
 */
static uint16_t block_sum(const struct xpxe_tftp_chunk *c, uint32_t r, uint32_t len)
{
	uint32_t s = fold16((uint64_t)prefix_sum(c, r + len) + (~prefix_sum(c, r) & 0xffff));

	if (r & 1)
		s = ((s & 0xff) << 8) | (s >> 8);
	return (uint16_t)s;
}

/*
 * The sums of the blocks of each size in XPXE_TFTP_BSUM_SIZES that start in chunk C, which
 * holds the file's bytes from OFF (xpxe_tftp_bsum_index): the data and XDP paths read them
 * instead of summing the block. Blocks past the file's end (the final block is the one at
 * or before it) are never asked for: their slots stay 0.
 */
static void fill_block_sums(struct xpxe_tftp_chunk *c, uint64_t size, uint64_t off)
{
	static const uint32_t sizes[] = XPXE_TFTP_BSUM_SIZES;

	memset(c->bsum, 0, sizeof(c->bsum));
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint64_t bs = sizes[k];

		/* The first block of this size to start at or after OFF, then each one after it. */
		for (uint64_t b = (off + bs - 1) / bs * bs; b < off + XPXE_TFTP_CHUNK && b <= size;
		     b += bs) {
			uint32_t r = (uint32_t)(b - off);
			size_t len = size - b < bs ? size - b : bs;
			int j = xpxe_tftp_bsum_index(sizes[k], r);

			if (j >= 0 && j < XPXE_TFTP_CHUNK_BSUMS)
				c->bsum[j] = block_sum(c, r, (uint32_t)len);
		}
	}
}

void xpxe_asset_fill_chunk(struct xpxe_tftp_chunk *c, const uint8_t *file, uint64_t size,
			   uint32_t idx)
{
	uint64_t off = (uint64_t)idx << XPXE_TFTP_CHUNK_SHIFT;
	size_t n = off < size
		       ? (size - off < XPXE_TFTP_CHUNK_DATA ? size - off : XPXE_TFTP_CHUNK_DATA)
		       : 0;

	if (n) /* an empty file is mapped nowhere: FILE is NULL, and NULL + 0 is undefined */
		memcpy(c->data, file + off, n);
	memset(c->data + n, 0, XPXE_TFTP_CHUNK_DATA - n);
	c->csum[0] = 0;
	for (uint32_t i = 1; i <= XPXE_TFTP_CHUNK_DATA / XPXE_TFTP_CSUM_STRIDE; i++)
		c->csum[i] =
		    fold16(c->csum[i - 1] + sum_words(c->data + (i - 1) * XPXE_TFTP_CSUM_STRIDE,
						      XPXE_TFTP_CSUM_STRIDE));
	for (uint32_t i = XPXE_TFTP_CHUNK_DATA / XPXE_TFTP_CSUM_STRIDE + 1;
	     i < XPXE_TFTP_CHUNK_CSUMS; i++)
		c->csum[i] = 0;
	fill_block_sums(c, size, off);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void unload(struct xpxe_asset *as)
{
	if (as->chunks)
		munmap((void *)as->chunks, as->map_len);
	if (as->map_fd >= 0)
		close(as->map_fd);
	free(as);
}

/* Clears SLOT in every outer map: the kernel frees the chunks once no program runs on them. */
static void clear_slot(struct xpxe_assets *a, uint32_t slot)
{
	for (int i = 0; i < a->n_outer; i++)
		if (bpf_map_delete_elem(a->outer_fds[i], &slot) && errno != ENOENT)
			log_warn("cannot clear asset slot %u: %s", slot, strerror(errno));
}

static void release_slot(struct xpxe_assets *a, uint32_t slot)
{
	struct xpxe_asset *as = a->slots[slot];

	if (!as || as->current || as->refs)
		return;
	log_info("asset %s: the last transfer of the replaced content ended; freed slot %u",
		 as->name, slot);
	clear_slot(a, slot);
	a->slots[slot] = NULL;
	unload(as);
}

static void unmap_orphan(struct xpxe_assets *a, uint32_t slot)
{
	if (a->orphan_chunks[slot])
		munmap((void *)a->orphan_chunks[slot], a->orphan_len[slot]);
	a->orphan_chunks[slot] = NULL;
}

void xpxe_assets_free(struct xpxe_assets *a)
{
	for (uint32_t i = 0; i < XPXE_TFTP_ASSET_SLOTS; i++) {
		if (a->slots[i])
			unload(a->slots[i]);
		a->slots[i] = NULL;
		unmap_orphan(a, i);
	}
	a->n_outer = 0;
}

static int publish(struct xpxe_assets *a, const struct xpxe_asset *as)
{
	for (int i = 0; i < a->n_outer; i++) {
		if (bpf_map_update_elem(a->outer_fds[i], &as->slot, &as->map_fd, BPF_ANY)) {
			int err = -errno;

			log_error("asset %s: cannot publish it in slot %u: %s", as->name, as->slot,
				  strerror(errno));
			return err;
		}
	}
	return 0;
}

/*
 * Whether SLOT of the outer map holds a map (a lookup from userspace gives its id). Asked
 * before a delete: on 6.1 every delete on a map of maps waits for an RCU grace period
 * (maybe_wait_bpf_programs), even one that finds the slot empty; 6.12's guest showed no such
 * cost. Deleting all 256 slots blind took 0.2-0.9 s per delete on 6.1 under QEMU (strace in
 * the kernel-matrix guest), about a minute per start; a lookup waits for nothing.
 */
static bool slot_holds_map(int outer_fd, uint32_t slot)
{
	__u32 id;

	/* Only ENOENT says empty: on any other error, delete as before rather than leave a map. */
	return bpf_map_lookup_elem(outer_fd, &slot, &id) == 0 || errno != ENOENT;
}

int xpxe_assets_add_outer(struct xpxe_assets *a, int outer_fd)
{
	int err;

	if (a->n_outer == XPXE_ASSETS_MAX_OUTER)
		return -ENOSPC;
	a->outer_fds[a->n_outer++] = outer_fd;
	for (uint32_t slot = 0; slot < XPXE_TFTP_ASSET_SLOTS; slot++) {
		if (a->slots[slot]) {
			err = publish(a, a->slots[slot]);
			if (err)
				return err;
		} else if (!a->orphan_refs[slot] && slot_holds_map(outer_fd, slot) &&
			   bpf_map_delete_elem(outer_fd, &slot) == 0) {
			log_debug("cleared asset slot %u a previous daemon left", slot);
		}
	}
	return 0;
}

void xpxe_assets_remove_outer(struct xpxe_assets *a, int outer_fd)
{
	for (int i = 0; i < a->n_outer; i++) {
		if (a->outer_fds[i] == outer_fd) {
			a->outer_fds[i] = a->outer_fds[--a->n_outer];
			return;
		}
	}
}

void xpxe_assets_hold_orphan(struct xpxe_assets *a, uint32_t slot)
{
	if (slot < XPXE_TFTP_ASSET_SLOTS)
		a->orphan_refs[slot]++;
}

static int free_slot(const struct xpxe_assets *a)
{
	for (int i = 0; i < XPXE_TFTP_ASSET_SLOTS; i++)
		if (!a->slots[i] && !a->orphan_refs[i])
			return i;
	return -1;
}

/* Creates the chunk map and fills it from FD through a writable mapping. */
static int fill_map(struct xpxe_asset *as, int fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	size_t page = sysconf(_SC_PAGESIZE);
	const uint8_t *file = NULL;
	struct xpxe_tftp_chunk *chunks;
	EVP_MD_CTX *md = NULL;
	int err = 0;

	as->n_chunks = (uint32_t)(as->size >> XPXE_TFTP_CHUNK_SHIFT) + 1;
	as->map_len =
	    ((size_t)as->n_chunks * sizeof(struct xpxe_tftp_chunk) + page - 1) & ~(page - 1);
	as->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xpxe_asset", sizeof(__u32),
				    sizeof(struct xpxe_tftp_chunk), as->n_chunks, &opts);
	if (as->map_fd < 0)
		return -errno;
	chunks = mmap(NULL, as->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, as->map_fd, 0);
	if (chunks == MAP_FAILED)
		return -errno;
	if (as->size) {
		file = mmap(NULL, as->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (file == MAP_FAILED) {
			err = -errno;
			file = NULL;
			goto out;
		}
	}
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(md, file ? file : (const void *)"", as->size) ||
	    !EVP_DigestFinal_ex(md, as->sha256, NULL)) {
		err = -EIO;
		goto out;
	}
	for (uint32_t i = 0; i < as->n_chunks; i++)
		xpxe_asset_fill_chunk(&chunks[i], file, as->size, i);
out:
	EVP_MD_CTX_free(md);
	if (file)
		munmap((void *)file, as->size);
	munmap(chunks, as->map_len);
	if (err)
		return err;
	/* Immutable from here on: no syscall can change what transfers read. */
	if (bpf_map_freeze(as->map_fd))
		return -errno;
	as->chunks = mmap(NULL, as->map_len, PROT_READ, MAP_SHARED, as->map_fd, 0);
	if (as->chunks == MAP_FAILED) {
		as->chunks = NULL;
		return -errno;
	}
	return 0;
}

int xpxe_assets_load(struct xpxe_assets *a, const char *name, const char *path)
{
	struct xpxe_asset *as, *old = xpxe_assets_find(a, name);
	struct timespec t0;
	struct stat st;
	int fd, slot, err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!xpxe_asset_name_valid(name)) {
		log_error("asset name '%s' is not valid (1-255 printable bytes, no '\\', spaces, "
			  "empty, '.' or '..' parts, no leading or trailing '/')",
			  name);
		return -EINVAL;
	}
	slot = free_slot(a);
	if (slot < 0) {
		log_error("asset %s: all %d slots are taken", name, XPXE_TFTP_ASSET_SLOTS);
		return -ENOSPC;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		log_error("asset %s: cannot read %s: %s", name, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > XPXE_TFTP_ASSET_MAX) {
		log_error("asset %s: %s is %s", name, path,
			  S_ISREG(st.st_mode) ? "larger than 4 GiB - 1 byte"
					      : "not a regular file");
		close(fd);
		return -EINVAL;
	}
	as = calloc(1, sizeof(*as));
	if (!as) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(as->name, sizeof(as->name), "%s", name);
	snprintf(as->path, sizeof(as->path), "%s", path);
	as->size = st.st_size;
	as->dev = st.st_dev;
	as->ino = st.st_ino;
	as->mtime = st.st_mtim;
	as->slot = slot;
	as->map_fd = -1;
	err = fill_map(as, fd);
	close(fd);
	if (err) {
		log_error("asset %s: cannot load %s into a BPF map: %s", name, path,
			  strerror(-err));
		unload(as);
		return err;
	}
	a->slots[slot] = as;
	err = publish(a, as);
	if (err) {
		clear_slot(a, slot);
		a->slots[slot] = NULL;
		unload(as);
		return err;
	}
	as->current = true;
	as->load_ms = ms_since(&t0);
	log_info("asset %s: %llu bytes from %s in slot %u, loaded in %.1f ms (%.0f MB/s)%s", name,
		 (unsigned long long)as->size, path, slot, as->load_ms,
		 as->load_ms > 0 ? as->size / 1e3 / as->load_ms : 0.0,
		 old ? "; transfers of the previous content finish on it" : "");
	if (old) {
		old->current = false;
		release_slot(a, old->slot);
	}
	return 0;
}

int xpxe_assets_load_text(struct xpxe_assets *a, const char *name, const char *text, size_t len)
{
	char path[64];
	int fd = memfd_create(name, MFD_CLOEXEC), err;
	struct xpxe_asset *as;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		err = errno ? -errno : -EIO;
		close(fd);
		return err;
	}
	/* Loaded through its /proc path, like any file; the memfd goes once it is in the map. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err = xpxe_assets_load(a, name, path);
	close(fd);
	as = err ? NULL : xpxe_assets_find(a, name);
	if (as) {
		as->generated = true;
		snprintf(as->path, sizeof(as->path), "(made by xpxe)");
	}
	return err;
}

int xpxe_assets_reload(struct xpxe_assets *a)
{
	struct xpxe_asset *list[XPXE_TFTP_ASSET_SLOTS];
	int n = 0, changed = 0, err = 0;

	for (int i = 0; i < XPXE_TFTP_ASSET_SLOTS; i++)
		if (a->slots[i] && a->slots[i]->current && !a->slots[i]->generated)
			list[n++] = a->slots[i];
	for (int i = 0; i < n; i++) {
		struct xpxe_asset *as = list[i];
		struct stat st;
		int e;

		if (stat(as->path, &st)) {
			log_warn("asset %s: %s is gone (%s); keeping what is loaded", as->name,
				 as->path, strerror(errno));
			continue;
		}
		if ((uint64_t)st.st_size == as->size && st.st_ino == as->ino &&
		    st.st_dev == as->dev && st.st_mtim.tv_sec == as->mtime.tv_sec &&
		    st.st_mtim.tv_nsec == as->mtime.tv_nsec)
			continue;
		e = xpxe_assets_load(a, as->name, as->path);
		if (e)
			err = err ? err : e;
		else
			changed++;
	}
	return err ? err : changed;
}

struct xpxe_asset *xpxe_assets_find(struct xpxe_assets *a, const char *name)
{
	for (int i = 0; i < XPXE_TFTP_ASSET_SLOTS; i++)
		if (a->slots[i] && a->slots[i]->current && !strcmp(a->slots[i]->name, name))
			return a->slots[i];
	return NULL;
}

void xpxe_assets_get(struct xpxe_assets *a, uint32_t slot)
{
	if (slot < XPXE_TFTP_ASSET_SLOTS && a->slots[slot])
		a->slots[slot]->refs++;
}

void xpxe_assets_put(struct xpxe_assets *a, uint32_t slot)
{
	if (slot >= XPXE_TFTP_ASSET_SLOTS)
		return;
	if (a->slots[slot] && a->slots[slot]->refs) {
		a->slots[slot]->refs--;
		release_slot(a, slot);
	} else if (a->orphan_refs[slot] && !--a->orphan_refs[slot] && !a->slots[slot]) {
		log_info("the last transfer a previous daemon started from slot %u ended; freed it",
			 slot);
		unmap_orphan(a, slot);
		clear_slot(a, slot);
	}
}

size_t xpxe_asset_read_block(const struct xpxe_asset *as, uint32_t block, unsigned blksize,
			     uint8_t *buf)
{
	uint64_t off = (uint64_t)(block - 1) * blksize;
	size_t len;
	const struct xpxe_tftp_chunk *c;

	if (block == 0 || off > as->size)
		return 0;
	len = as->size - off < blksize ? as->size - off : blksize;
	c = &as->chunks[off >> XPXE_TFTP_CHUNK_SHIFT];
	memcpy(buf, c->data + (off & (XPXE_TFTP_CHUNK - 1)), len);
	return len;
}

/* Maps the chunks a previous daemon left in SLOT, found through the first outer map. */
static void map_orphan(struct xpxe_assets *a, uint32_t slot)
{
	struct bpf_map_info info = { 0 };
	__u32 id, info_len = sizeof(info);
	void *p;
	int fd;

	if (!a->n_outer || bpf_map_lookup_elem(a->outer_fds[0], &slot, &id))
		return;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len) &&
	    info.value_size == sizeof(struct xpxe_tftp_chunk) && info.max_entries) {
		size_t page = sysconf(_SC_PAGESIZE);
		size_t len =
		    ((size_t)info.max_entries * sizeof(struct xpxe_tftp_chunk) + page - 1) &
		    ~(page - 1);

		/* Frozen: only a read-only mapping is allowed, and all that is needed. */
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			a->orphan_chunks[slot] = p;
			a->orphan_len[slot] = len;
			a->orphan_n_chunks[slot] = info.max_entries;
		}
	}
	close(fd);
}

const struct xpxe_tftp_chunk *xpxe_assets_chunks(struct xpxe_assets *a, uint32_t slot,
						 uint32_t *n_chunks)
{
	if (slot >= XPXE_TFTP_ASSET_SLOTS)
		return NULL;
	if (a->slots[slot]) {
		*n_chunks = a->slots[slot]->n_chunks;
		return a->slots[slot]->chunks;
	}
	if (!a->orphan_refs[slot])
		return NULL;
	if (!a->orphan_chunks[slot])
		map_orphan(a, slot);
	*n_chunks = a->orphan_n_chunks[slot];
	return a->orphan_chunks[slot];
}
