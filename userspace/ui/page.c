// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The page's files, built into the binary: the Makefile turns each file of
 * userspace/ui/page/ into a byte array of ui_page.h (xxd -i), so the page
 * needs nothing installed beside the binary and loads nothing from elsewhere.
 */
#include <string.h>

#include "ui/ui.h"
#include "ui_page.h"

#define FILE_OF(p, t, a)                                          \
	{                                                         \
		.path = p, .type = t, .data = a, .len = sizeof(a) \
	}

static const struct xpxe_ui_file files[] = {
	FILE_OF("/", "text/html; charset=utf-8", ui_page_index_html),
	FILE_OF("/style.css", "text/css; charset=utf-8", ui_page_style_css),
	FILE_OF("/app.js", "text/javascript; charset=utf-8", ui_page_app_js),
	FILE_OF("/favicon.svg", "image/svg+xml", ui_page_favicon_svg),
};

const struct xpxe_ui_file *xpxe_ui_file(const char *path)
{
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(files[i].path, path))
			return &files[i];
	return NULL;
}
