// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "log.h"

static int mkdir_parents(const char *path)
{
	char *copy = strdup(path);
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p && !err; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) && errno != EEXIST)
			err = -errno;
		*p = '/';
	}
	free(copy);
	return err;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, err = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int xpxe_write_atomically(const char *path, mode_t mode, int (*fill)(FILE *f, void *ctx), void *ctx)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + 5);
	FILE *f;
	int fd, err;

	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp", 5);
	err = mkdir_parents(path);
	if (err)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		goto out;
	}
	err = fill(f, ctx);
	/* A full disk shows up here or at fsync: the old file stays as it was. */
	if (!err && (fflush(f) || fsync(fd)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	else
		err = fsync_dir_of(path);
out:
	free(tmp);
	return err;
}

int xpxe_read_records(const char *path, const char *format, int (*take)(char *line, void *ctx),
		      void *ctx)
{
	char line[512], aside[PATH_MAX + 32];
	int lineno = 0, bad = 0, kept = 0, err = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (!strchr(p, '\n') && !feof(f)) {
			log_error("%s:%d: line too long", path, lineno);
			bad++;
			while (fgets(line, sizeof(line), f) && !strchr(line, '\n'))
				;
			continue;
		}
		err = take(p, ctx);
		if (err < 0)
			break;
		if (err == XPXE_RECORD_MALFORMED)
			log_error("%s:%d: expected '%s', got: %.*s", path, lineno, format,
				  (int)strcspn(p, "\n"), p);
		else if (err == XPXE_RECORD_DUPLICATE)
			log_error("%s:%d: duplicate MAC or address, line ignored", path, lineno);
		if (err == XPXE_RECORD_KEPT)
			kept++;
		else
			bad++;
		err = 0;
	}
	fclose(f);
	if (err)
		return err;
	if (bad) {
		snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path, (long long)time(NULL));
		if (rename(path, aside))
			return -errno;
		log_warn("%s had %d bad line(s): moved aside to %s, %d record(s) kept", path, bad,
			 aside, kept);
	}
	return bad;
}
