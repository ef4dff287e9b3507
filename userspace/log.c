// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

enum xpxe_log_level xpxe_log_threshold = XPXE_LOG_INFO;
bool xpxe_log_json;
static bool to_stderr = true, to_journal;

/* syslog priorities, as the journal's PRIORITY field has them. */
static const int priorities[] = {
	[XPXE_LOG_ERROR] = 3,
	[XPXE_LOG_WARN] = 4,
	[XPXE_LOG_INFO] = 6,
	[XPXE_LOG_DEBUG] = 7,
};

int xpxe_log_set_target(enum xpxe_log_target target)
{
	int err = target == XPXE_LOG_TARGET_STDERR ? -ENOTCONN : xpxe_journal_open();

	to_journal = !err;
	switch (target) {
	case XPXE_LOG_TARGET_STDERR:
		to_stderr = true;
		return 0;
	case XPXE_LOG_TARGET_JOURNAL:
		to_stderr = !!err; /* the error is reported there */
		return err;
	default:
		/* A service's stderr already goes to the journal: one copy of each line. */
		to_stderr = !to_journal || !xpxe_journal_is_stderr();
		return 0;
	}
}

static const char *const level_names[] = {
	[XPXE_LOG_ERROR] = "error",
	[XPXE_LOG_WARN] = "warn",
	[XPXE_LOG_INFO] = "info",
	[XPXE_LOG_DEBUG] = "debug",
};

static void vlog(enum xpxe_log_level level, const struct xpxe_log_field *fields, int n_fields,
		 const char *fmt, va_list ap)
{
	struct timespec now;
	struct tm tm;
	char stamp[32];
	char line[1024];
	size_t len;

	if (level > xpxe_log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* Library messages arrive with their own newline; print exactly one. */
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	/* The journal stamps entries itself; if it refuses one, stderr gets the line. */
	if (to_journal && !xpxe_journal_send(priorities[level], line, fields, n_fields) &&
	    !to_stderr)
		return;
	if (!xpxe_log_json) {
		fprintf(stderr, "%s.%03ldZ %s %s\n", stamp, now.tv_nsec / 1000000,
			level_names[level], line);
		return;
	}
	/* An event line is already a JSON object's fields; anything else becomes "msg". */
	if (line[0] == '{') {
		fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",%s\n", stamp,
			now.tv_nsec / 1000000, level_names[level], line + 1);
		return;
	}
	fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"", stamp,
		now.tv_nsec / 1000000, level_names[level]);
	for (const char *c = line; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(stderr, "\\%c", *c);
		else if ((unsigned char)*c < 0x20)
			fprintf(stderr, "\\u%04x", *c);
		else
			fputc(*c, stderr);
	}
	fputs("\"}\n", stderr);
}

void xpxe_log(enum xpxe_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, NULL, 0, fmt, ap);
	va_end(ap);
}

void xpxe_log_with(enum xpxe_log_level level, const struct xpxe_log_field *fields, int n_fields,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fields, n_fields, fmt, ap);
	va_end(ap);
}

/*
 * While libxdp probes whether the kernel can run its dispatcher, libbpf warns
 * about the probe's rejected programs. Those warnings are held back and shown
 * only if the attach fails, where they (and any verifier log) explain why.
 */
static char held[16384];
static size_t held_len;
static bool holding;

void xpxe_log_hold_library_warnings(void)
{
	held_len = 0;
	holding = true;
}

void xpxe_log_release_library_warnings(bool show)
{
	char *line, *save = NULL;

	holding = false;
	held[held_len] = '\0';
	for (line = strtok_r(held, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		xpxe_log(show ? XPXE_LOG_WARN : XPXE_LOG_DEBUG, "%s", line);
	held_len = 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (level == LIBBPF_WARN && holding) {
		n = vsnprintf(held + held_len, sizeof(held) - held_len, fmt, ap);
		if (n > 0)
			held_len =
			    held_len + n < sizeof(held) - 1 ? held_len + n : sizeof(held) - 1;
		return 0;
	}
	/* libbpf's warnings include the verifier log of a rejected program: keep them visible. */
	vlog(level == LIBBPF_WARN ? XPXE_LOG_WARN : XPXE_LOG_DEBUG, NULL, 0, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	/*
	 * libxdp warns when the kernel cannot run its dispatcher and it falls back
	 * to a single program; xpxe reports that itself, so keep libxdp's at debug.
	 */
	(void)level;
	vlog(XPXE_LOG_DEBUG, NULL, 0, fmt, ap);
	return 0;
}

void xpxe_log_hook_libraries(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
