/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_LOG_H
#define XPXE_LOG_H

#include <stdbool.h>

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

void xpxe_log(enum xpxe_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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
