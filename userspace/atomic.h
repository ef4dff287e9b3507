/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_ATOMIC_H
#define XPXE_ATOMIC_H

#include <stdio.h>
#include <sys/types.h>

/*
 * Replaces PATH with what FILL writes, atomically: FILL writes to PATH.tmp,
 * which is flushed, fsynced and renamed over PATH, then the folder is fsynced.
 * A crash (or a full disk) at any moment leaves the old file or the new one,
 * never a mix. Missing parent folders are created. Returns 0 or -errno.
 */
int xpxe_write_atomically(const char *path, mode_t mode, int (*fill)(FILE *f, void *ctx),
			  void *ctx);

/* What a record file's reader made of one line (xpxe_read_records). */
enum xpxe_record {
	XPXE_RECORD_KEPT,
	XPXE_RECORD_MALFORMED, /* logged with the file's FORMAT */
	XPXE_RECORD_DUPLICATE, /* its key or address is already taken */
};

/*
 * Reads PATH, a file of one record per line as xpxe_write_atomically wrote it: blank lines,
 * '#' comments and leading blanks are skipped, each other line (its '\n' kept) goes to TAKE,
 * which returns an enum xpxe_record or a negative errno that stops the read. A line too long,
 * malformed or duplicate is logged with its file and line number and skipped; when there were
 * any, the file is moved aside to PATH.corrupt-TIME as evidence (the next save rewrites the
 * good records). FORMAT names what a line should hold, for the log. Returns the number of bad
 * lines (0 when PATH does not exist) or a negative errno.
 */
int xpxe_read_records(const char *path, const char *format, int (*take)(char *line, void *ctx),
		      void *ctx);

#endif /* XPXE_ATOMIC_H */
