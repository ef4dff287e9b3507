// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet page's data: the machines' views as JSON, written straight into
 * a buffer (a thousand rows in well under a millisecond; a libfyaml document
 * of them would cost ten times that, once a second per page).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ui/ui.h"

/*
 * A JSON string. Quotes, backslashes and control characters escaped; so are
 * '<', '>' and '&', so that no text of a machine (a host name, a problem) can
 * be read as markup wherever the JSON ends up.
 */
static void str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&')
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static unsigned long long ms(struct timespec t)
{
	return (unsigned long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void row(FILE *f, const struct xpxe_machine_view *m)
{
	int stage = m->stage >= 0 && m->stage < XPXE_STAGE_MAX ? m->stage : 0;

	fputs("{\"mac\":", f);
	str(f, m->mac);
	fputs(",\"hostname\":", f);
	str(f, m->hostname);
	fputs(",\"ip\":", f);
	str(f, m->ip);
	fputs(",\"profile\":", f);
	str(f, m->profile);
	fputs(",\"stage\":", f);
	str(f, xpxe_stage_names[stage]);
	fprintf(f,
		",\"stage_index\":%d,\"first_ms\":%llu,\"last_ms\":%llu,\"boot_ms\":%llu,"
		"\"done_ms\":%llu,\"bytes\":%llu,\"dhcp_rounds\":%u,\"problem\":",
		stage, ms(m->first), ms(m->last), ms(m->boot_start), ms(m->done),
		(unsigned long long)m->bytes, m->dhcp_rounds);
	str(f, m->problem);
	if (m->xfer.state > XPXE_XFER_NONE && m->xfer.state <= XPXE_XFER_FAILED) {
		fputs(",\"transfer\":{\"file\":", f);
		str(f, m->xfer.file);
		fputs(",\"path\":", f);
		str(f, m->xfer.path);
		fputs(",\"state\":", f);
		str(f, xpxe_transfer_state_names[m->xfer.state]);
		fprintf(f, ",\"size\":%llu,\"done\":%llu,\"retransmits\":%u}",
			(unsigned long long)m->xfer.size, (unsigned long long)m->xfer.done,
			m->xfer.retransmits);
	}
	fputc('}', f);
}

char *xpxe_ui_fleet_json(const struct xpxe_machine_view *rows, int n,
			 const struct xpxe_ui_fleet_meta *meta, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	fprintf(f, "{\"epoch\":%llu,\"version\":%llu,\"now_ms\":%llu,\"full\":%s",
		(unsigned long long)meta->epoch, (unsigned long long)meta->version,
		(unsigned long long)meta->now_ms, meta->full ? "true" : "false");
	/* The stages in boot order, and the first one that counts as done (the plot's). */
	if (meta->full) {
		fputs(",\"stages\":[", f);
		for (int i = 0; i < XPXE_STAGE_MAX; i++) {
			if (i)
				fputc(',', f);
			str(f, xpxe_stage_names[i]);
		}
		fprintf(f, "],\"done_stage\":%d", XPXE_STAGE_CONFIG);
	}
	fputs(",\"machines\":[", f);
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		row(f, &rows[i]);
	}
	fputs("]}\n", f);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}
