// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xpxe watch`: the fleet as a table redrawn in place on a terminal, or the
 * events as lines when the output is not a terminal (a pipe, a log, ssh -T).
 * `xpxe trace MAC`: one machine's events as they come.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/cli.h"
#include "control/ctl.h"
#include "events.h"
#include "json.h"
#include "control/watch.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The daemon's answer; the document points into *RAW, so free *RAW only after it. */
static struct fy_document *ask(const char *socket_path, const char *request, char **raw, int *rc)
{
	struct fy_document *doc;
	int err;

	*raw = NULL;
	err = xpxe_ctl_request(socket_path, request, raw);
	if (err) {
		fprintf(stderr, "xpxe: no daemon answers on %s\n", socket_path);
		*rc = XPXE_EXIT_NO_DAEMON;
		return NULL;
	}
	doc = xpxe_json_parse(*raw, strlen(*raw));
	if (!doc || xpxe_json_str(fy_document_root(doc), "/error")) {
		const char *code = doc ? xpxe_json_str(fy_document_root(doc), "/code") : NULL;

		fprintf(stderr, "xpxe: %s\n",
			doc ? xpxe_json_str(fy_document_root(doc), "/error") : "bad reply");
		*rc = code && !strcmp(code, "not_found") ? XPXE_EXIT_NOT_FOUND : XPXE_EXIT_ERROR;
		fy_document_destroy(doc);
		free(*raw);
		*raw = NULL;
		return NULL;
	}
	return doc;
}

static void human_bytes(unsigned long long b, char *out, size_t size)
{
	if (b >= 10ull << 20)
		snprintf(out, size, "%llu MB", b >> 20);
	else if (b >= 10ull << 10)
		snprintf(out, size, "%llu kB", b >> 10);
	else
		snprintf(out, size, "%llu B", b);
}

static void clock_text(unsigned long long ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, size, "%H:%M:%S", &tm);
}

static void print_event(struct fy_node *e)
{
	char when[16], bytes[24] = "";
	const char *detail = xpxe_json_str(e, "/detail");
	unsigned long long b = xpxe_json_u64(e, "/bytes", 0);

	clock_text(xpxe_json_u64(e, "/time_ms", 0), when, sizeof(when));
	if (b)
		human_bytes(b, bytes, sizeof(bytes));
	printf("%s %-18s %-17s %-15s %s%s%s\n", when, xpxe_json_str(e, "/event"),
	       *xpxe_json_str(e, "/mac") ? xpxe_json_str(e, "/mac") : "-",
	       *xpxe_json_str(e, "/ip") ? xpxe_json_str(e, "/ip") : "-", detail ? detail : "",
	       b ? " " : "", bytes);
}

/* Prints the events after *SINCE (of MACHINE when given); returns the exit code. */
static int print_new_events(const char *socket_path, const char *machine, unsigned long long *since)
{
	struct fy_document *doc, *req = fy_document_create(NULL);
	struct fy_node *list, *e, *root = fy_node_create_mapping(req);
	char *request, *raw;
	void *iter = NULL;
	int rc = XPXE_EXIT_OK;

	/* Built, not printed: a hostname or serial may hold any character. */
	fy_document_set_root(req, root);
	xpxe_json_add_str(root, "cmd", "events");
	xpxe_json_add_u64(root, "since", *since);
	if (machine)
		xpxe_json_add_str(root, "machine", machine);
	request = xpxe_json_emit(req);
	fy_document_destroy(req);
	if (!request)
		return XPXE_EXIT_ERROR;
	doc = ask(socket_path, request, &raw, &rc);
	free(request);
	if (!doc)
		return rc;
	list = fy_node_by_path(fy_document_root(doc), "/events", FY_NT, FYNWF_DONT_FOLLOW);
	while (list && (e = fy_node_sequence_iterate(list, &iter)))
		print_event(e);
	*since = xpxe_json_u64(fy_document_root(doc), "/next", *since);
	fy_document_destroy(doc);
	free(raw);
	fflush(stdout);
	return rc;
}

/*
 * "FILE 42% tc", "FILE done xdp", "FILE failed", and the retransmits when any; "FILE 7% paced"
 * while a transfer let in over the cap is paced (its path once it takes a place).
 */
static void transfer_text(struct fy_node *x, unsigned long long pct, unsigned long long rtx,
			  char *out, size_t size)
{
	const char *state = xpxe_json_str(x, "/state");
	char what[8];
	int n;

	if (!strcmp(state, "running"))
		snprintf(what, sizeof(what), "%llu%%", pct);
	else
		snprintf(what, sizeof(what), "%s", state);
	n = snprintf(out, size, "%.16s %s %s", xpxe_json_str(x, "/file"), what,
		     xpxe_json_str(x, "/path"));
	if (rtx && n > 0 && (size_t)n < size)
		snprintf(out + n, size - n, " rtx=%llu", rtx);
}

/*
 * The line of bulk downloads: how many run, how many wait, and who is next (the queue's
 * order: control planes first); then TFTP's: transfers in a place, read requests held, and
 * transfers paced (let in over the cap, the daemon sending their blocks slowly). Nothing for
 * either when the daemon has no cap there.
 */
static void draw_downloads(struct fy_node *root)
{
	struct fy_node *list = fy_node_by_path(root, "/downloads/list", FY_NT, FYNWF_DONT_FOLLOW),
		       *item;
	void *iter = NULL;
	int shown = 0;
	bool http = xpxe_json_u64(root, "/downloads/max", 0),
	     tftp = xpxe_json_u64(root, "/downloads/tftp_max", 0);

	if (http) {
		printf("downloads: %llu running (at most %llu), %llu queued",
		       xpxe_json_u64(root, "/downloads/active", 0),
		       xpxe_json_u64(root, "/downloads/max", 0),
		       xpxe_json_u64(root, "/downloads/waiting", 0));
		while (list && (item = fy_node_sequence_iterate(list, &iter)))
			if (!strcmp(xpxe_json_str(item, "/state"), "queued") && shown++ < 8)
				printf("%s %s%s", shown == 1 ? "; next:" : ",",
				       xpxe_json_str(item, "/who"),
				       strcmp(xpxe_json_str(item, "/rank"), "controlplane")
					   ? ""
					   : " (control plane)");
		printf("%s\n", shown > 8 ? ", ..." : "");
	}
	if (tftp)
		printf(
		    "tftp: %llu running (at most %llu), %llu held, %llu paced (%llu let in paced, "
		    "%llu of them took a place)\n",
		    xpxe_json_u64(root, "/downloads/tftp_active", 0),
		    xpxe_json_u64(root, "/downloads/tftp_max", 0),
		    xpxe_json_u64(root, "/downloads/tftp_held", 0),
		    xpxe_json_u64(root, "/downloads/tftp_paced", 0),
		    xpxe_json_u64(root, "/downloads/tftp_paced_total", 0),
		    xpxe_json_u64(root, "/downloads/tftp_promoted", 0));
	if (http || tftp)
		printf("\n");
}

static void draw_fleet(struct fy_document *doc, bool once)
{
	struct fy_node *list = fy_node_by_path(fy_document_root(doc), "/machines", FY_NT,
					       FYNWF_DONT_FOLLOW),
		       *m;
	struct timespec now;
	void *iter = NULL;
	int n = 0, installed = 0, problems = 0;
	char when[16];

	clock_gettime(CLOCK_REALTIME, &now);
	while (list && (m = fy_node_sequence_iterate(list, &iter))) {
		n++;
		installed += xpxe_json_u64(m, "/stage_index", 0) >= XPXE_STAGE_INSTALLED;
		problems += *xpxe_json_str(m, "/problem") != '\0';
	}
	clock_text((unsigned long long)now.tv_sec * 1000, when, sizeof(when));
	/* Home, clear: redrawn in place, no scrolling. */
	printf("\033[H\033[J");
	printf("\033[1mxpxe watch\033[0m  %d machine(s), %d installed, %d with problems   %s%s\n\n",
	       n, installed, problems, when, once ? "" : "   (Ctrl-C quits)");
	draw_downloads(fy_document_root(doc));
	printf("%-17s %-14s %-15s %-12s %-12s %-9s %8s  %-28s %s\n", "MAC", "HOSTNAME", "IP",
	       "STAGE", "PROGRESS", "BYTES", "ELAPSED", "TRANSFER", "PROBLEM");
	iter = NULL;
	while (list && (m = fy_node_sequence_iterate(list, &iter))) {
		unsigned long long stage = xpxe_json_u64(m, "/stage_index", 0);
		unsigned long long first = xpxe_json_u64(m, "/first_ms", 0);
		unsigned long long last = xpxe_json_u64(m, "/last_ms", 0);
		const char *problem = xpxe_json_str(m, "/problem");
		struct fy_node *x = fy_node_by_path(m, "/transfer", FY_NT, FYNWF_DONT_FOLLOW);
		char bar[11], bytes[24], xfer[40] = "", elapsed[24];
		unsigned long long secs, done = 10 * stage, of = 10 * (XPXE_STAGE_MAX - 1);
		bool running = x && !strcmp(xpxe_json_str(x, "/state"), "running");
		unsigned long long rtx = x ? xpxe_json_u64(x, "/retransmits", 0) : 0;

		/* The current transfer's bytes while one runs; else the stages, OFFER to disk. */
		if (running) {
			done = xpxe_json_u64(x, "/done", 0);
			of = xpxe_json_u64(x, "/size", 0);
		}
		if (!of)
			of = done = 1;
		for (int i = 0; i < 10; i++)
			bar[i] = (unsigned long long)i < done * 10 / of ? '#' : '.';
		bar[10] = '\0';
		if (x)
			transfer_text(x, running ? done * 100 / of : 0, rtx, xfer, sizeof(xfer));
		human_bytes(xpxe_json_u64(m, "/bytes", 0), bytes, sizeof(bytes));
		secs = (stage >= XPXE_STAGE_CONFIG ? last : (unsigned long long)now.tv_sec * 1000) -
		       first;
		/* A machine of the inventory not seen yet has no first packet to count from. */
		if (first)
			snprintf(elapsed, sizeof(elapsed), "%llu:%02llu", secs / 60000,
				 secs / 1000 % 60);
		else
			snprintf(elapsed, sizeof(elapsed), "-");
		/* Red: a problem; yellow: blocks sent again in the current transfer. */
		printf("%s%-17s %-14.14s %-15s %-12s [%s] %-9s %8s  %-28s %s%s\n",
		       *problem		? "\033[31m"
		       : running && rtx ? "\033[33m"
					: "",
		       xpxe_json_str(m, "/mac"),
		       *xpxe_json_str(m, "/hostname") ? xpxe_json_str(m, "/hostname") : "-",
		       *xpxe_json_str(m, "/ip") ? xpxe_json_str(m, "/ip") : "-",
		       xpxe_json_str(m, "/stage"), bar, bytes, elapsed, xfer, problem,
		       *problem || (running && rtx) ? "\033[0m" : "");
	}
	fflush(stdout);
}

int xpxe_cli_watch(const char *socket_path, bool once, unsigned int interval_ms)
{
	bool tty = isatty(STDOUT_FILENO);
	unsigned long long since = 0;
	int rc = XPXE_EXIT_OK;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (tty)
		printf("\033[?25l"); /* no cursor flicker while redrawing */
	while (!stop) {
		if (tty) {
			char *raw;
			struct fy_document *doc =
			    ask(socket_path, "{\"cmd\":\"fleet\"}", &raw, &rc);

			if (!doc)
				break;
			draw_fleet(doc, once);
			fy_document_destroy(doc);
			free(raw);
		} else {
			rc = print_new_events(socket_path, NULL, &since);
			if (rc)
				break;
		}
		if (once)
			break;
		usleep(interval_ms * 1000);
	}
	if (tty)
		printf("\033[?25h\n");
	return rc;
}

int xpxe_cli_trace(const char *socket_path, const char *machine, bool once)
{
	unsigned long long since = 0;
	int rc = XPXE_EXIT_OK;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		rc = print_new_events(socket_path, machine, &since);
		if (rc || once)
			break;
		usleep(500 * 1000);
	}
	return rc;
}
