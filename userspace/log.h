/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_LOG_H
#define XPXE_LOG_H

#include <stdbool.h>

#include "journal.h"

enum xpxe_log_level {
	XPXE_LOG_ERROR,
	XPXE_LOG_WARN,
	XPXE_LOG_INFO,
	XPXE_LOG_DEBUG,
};

/* Messages at or below this level reach stderr; `-v` raises it to DEBUG. */
extern enum xpxe_log_level xpxe_log_threshold;

/* One JSON object per line instead of text (--log-format json). */
extern bool xpxe_log_json;

/*
 * Where lines go (--log-target): AUTO sends them to journald when it listens,
 * and to stderr as well unless stderr is already journald's stream (a
 * service's); STDERR and JOURNAL only there.
 */
enum xpxe_log_target {
	XPXE_LOG_TARGET_AUTO,
	XPXE_LOG_TARGET_STDERR,
	XPXE_LOG_TARGET_JOURNAL,
};

/* Returns 0, or a negative errno when JOURNAL was asked for and no journald listens. */
int xpxe_log_set_target(enum xpxe_log_target target);

void xpxe_log(enum xpxe_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same, with fields for the journal (XPXE_EVENT=..., ...); stderr gets the line only. */
void xpxe_log_with(enum xpxe_log_level level, const struct xpxe_log_field *fields, int n_fields,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Routes libbpf's and libxdp's own messages through xpxe_log. */
void xpxe_log_hook_libraries(void);

/* Holds libbpf's warnings back until released: shown as warnings when SHOW, else at debug. */
void xpxe_log_hold_library_warnings(void);
void xpxe_log_release_library_warnings(bool show);

#define log_error(...) xpxe_log(XPXE_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  xpxe_log(XPXE_LOG_WARN, __VA_ARGS__)
#define log_info(...)  xpxe_log(XPXE_LOG_INFO, __VA_ARGS__)
#define log_debug(...) xpxe_log(XPXE_LOG_DEBUG, __VA_ARGS__)

#endif /* XPXE_LOG_H */
