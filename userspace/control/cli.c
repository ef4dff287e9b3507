// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/cli.h"
#include "control/ctl.h"
#include "dataplane.h"
#include "json.h"
#include "log.h"
#include "privs.h"

/* Sends REQUEST; on success *DOC holds the parsed reply. Prints why not otherwise. */
static int ask_daemon(const char *socket_path, const char *request, struct fy_document **doc,
		      char **raw, bool quiet_if_absent)
{
	int err = xpxe_ctl_request(socket_path, request, raw);

	if (err == -ENOENT || err == -ECONNREFUSED) {
		if (!quiet_if_absent)
			fprintf(stderr,
				"xpxe: no daemon answers on %s (is 'xpxe serve' running?)\n",
				socket_path);
		return XPXE_EXIT_NO_DAEMON;
	}
	if (err == -EACCES) {
		fprintf(stderr, "xpxe: %s is root-only: run this as root\n", socket_path);
		return XPXE_EXIT_ERROR;
	}
	if (err) {
		fprintf(stderr, "xpxe: talking to the daemon on %s failed: %s\n", socket_path,
			strerror(-err));
		return XPXE_EXIT_ERROR;
	}
	*doc = xpxe_json_parse(*raw, strlen(*raw));
	if (!*doc) {
		fprintf(stderr, "xpxe: the daemon's reply is not JSON: %s\n", *raw);
		return XPXE_EXIT_ERROR;
	}
	return XPXE_EXIT_OK;
}

/* Windowed TFTP (RFC 7440): granted or why not, windows sent, each AF_XDP socket's rings. */
static void print_window(struct fy_node *iface)
{
	struct fy_node *socks =
	    fy_node_by_path(iface, "/tftp/window/sockets", FY_NT, FYNWF_DONT_FOLLOW);
	struct fy_node *sock;
	void *iter = NULL;

	if (xpxe_json_str(iface, "/tftp/window/why_not")) {
		printf("            windows not offered (clients go lockstep): %s\n",
		       xpxe_json_str(iface, "/tftp/window/why_not"));
		return;
	}
	printf("            windows of up to %llu blocks: %llu sent, %llu restarted (%llu blocks "
	       "again), %llu blocks not sent for want of AF_XDP frames; ACKs to AF_XDP %llu, "
	       "to the daemon's sockets %llu\n",
	       xpxe_json_u64(iface, "/tftp/window/windowsize_max", 0),
	       xpxe_json_u64(iface, "/tftp/window/windows", 0),
	       xpxe_json_u64(iface, "/tftp/window/restarts", 0),
	       xpxe_json_u64(iface, "/tftp/window/blocks_resent", 0),
	       xpxe_json_u64(iface, "/tftp/window/blocks_not_sent", 0),
	       xpxe_json_u64(iface, "/tftp/window/acks_to_xsk", 0),
	       xpxe_json_u64(iface, "/tftp/window/acks_to_daemon", 0));
	while (socks && (sock = fy_node_sequence_iterate(socks, &iter))) {
		printf("  af_xdp    queue %llu (%s mode): rings fill %llu/%llu, completion "
		       "%llu/%llu, rx %llu/%llu, tx %llu/%llu; TX frames free %llu/%llu\n",
		       xpxe_json_u64(sock, "/queue", 0), xpxe_json_str(sock, "/mode"),
		       xpxe_json_u64(sock, "/rings/fill/level", 0),
		       xpxe_json_u64(sock, "/rings/fill/size", 0),
		       xpxe_json_u64(sock, "/rings/completion/level", 0),
		       xpxe_json_u64(sock, "/rings/completion/size", 0),
		       xpxe_json_u64(sock, "/rings/rx/level", 0),
		       xpxe_json_u64(sock, "/rings/rx/size", 0),
		       xpxe_json_u64(sock, "/rings/tx/level", 0),
		       xpxe_json_u64(sock, "/rings/tx/size", 0),
		       xpxe_json_u64(sock, "/tx_frames_free", 0),
		       xpxe_json_u64(sock, "/tx_frames", 0));
		printf(
		    "            %llu ACKs in, %llu frames out; drops: rx %llu, rx ring full "
		    "%llu, fill ring empty %llu, invalid rx %llu / tx %llu; no TX frame %llu, "
		    "kick errors %llu\n",
		    xpxe_json_u64(sock, "/rx_acks", 0), xpxe_json_u64(sock, "/tx_sent", 0),
		    xpxe_json_u64(sock, "/rx_dropped", 0), xpxe_json_u64(sock, "/rx_ring_full", 0),
		    xpxe_json_u64(sock, "/rx_fill_empty", 0), xpxe_json_u64(sock, "/rx_invalid", 0),
		    xpxe_json_u64(sock, "/tx_invalid", 0), xpxe_json_u64(sock, "/tx_no_frame", 0),
		    xpxe_json_u64(sock, "/tx_kick_errors", 0));
	}
}

static void print_tftp(struct fy_node *iface)
{
	static const struct {
		const char *token, *what;
	} paths[] = {
		{ "xdp", "XDP (XDP_TX)" },
		{ "tc", "tc_tftp" },
		{ "af_xdp", "AF_XDP (windows)" },
		{ "udp", "the transfers' UDP sockets (windows without AF_XDP)" },
	};
	const char *path = xpxe_json_str(iface, "/tftp/path");
	char how[256] = "no DATA block sent yet";
	size_t n = 0;

	if (!path)
		return;
	/* PATH is "none yet" or tokens joined by '+': name each path that sent blocks. */
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		size_t len = strlen(paths[i].token);
		const char *p = path;

		while ((p = strstr(p, paths[i].token)) &&
		       ((p != path && p[-1] != '+') || (p[len] && p[len] != '+')))
			p += len;
		if (p)
			n += snprintf(how + n, sizeof(how) - n, "%s%s",
				      n ? ", " : "DATA blocks built by ", paths[i].what);
	}
	printf("  tftp      %s; tc fallback prog id %llu\n", how,
	       xpxe_json_u64(iface, "/tftp/tc_prog_id", 0));
	if (xpxe_json_str(iface, "/tftp/xdp_no_room") &&
	    !strcmp(xpxe_json_str(iface, "/tftp/xdp_no_room"), "true"))
		printf("            XDP cannot grow an ACK into a full block on this driver: "
		       "lockstep ACKs go to tc\n");
	printf("            blocks: xdp %llu, tc %llu, af_xdp %llu, udp %llu, daemon %llu; "
	       "%llu bytes; %llu transfers running\n",
	       xpxe_json_u64(iface, "/tftp/blocks_xdp", 0),
	       xpxe_json_u64(iface, "/tftp/blocks_tc", 0),
	       xpxe_json_u64(iface, "/tftp/blocks_af_xdp", 0),
	       xpxe_json_u64(iface, "/tftp/blocks_window_udp", 0),
	       xpxe_json_u64(iface, "/tftp/blocks_daemon", 0),
	       xpxe_json_u64(iface, "/tftp/bytes", 0), xpxe_json_u64(iface, "/tftp/transfers", 0));
	printf("            IPv6: %llu RRQs; blocks: xdp %llu, tc %llu (lockstep), af_xdp %llu "
	       "(windows), daemon %llu (first blocks, windows without AF_XDP; %llu resent); "
	       "%llu completed\n",
	       xpxe_json_u64(iface, "/tftp/ipv6/rrq", 0),
	       xpxe_json_u64(iface, "/tftp/ipv6/blocks_xdp", 0),
	       xpxe_json_u64(iface, "/tftp/ipv6/blocks_tc", 0),
	       xpxe_json_u64(iface, "/tftp/ipv6/blocks_af_xdp", 0),
	       xpxe_json_u64(iface, "/tftp/ipv6/blocks", 0),
	       xpxe_json_u64(iface, "/tftp/ipv6/blocks_resent", 0),
	       xpxe_json_u64(iface, "/tftp/ipv6/completed", 0));
	print_window(iface);
}

/*
 * Asks the daemon for a listing. Prints its error, or with JSON its answer as
 * it came; returns the exit code. *ROOT is set only when the caller still has
 * the answer to print as text.
 */
static int query(const char *socket_path, const char *request, bool json, struct fy_document **doc,
		 char **raw, struct fy_node **root)
{
	int rc = ask_daemon(socket_path, request, doc, raw, false);

	*root = NULL;
	if (rc)
		return rc;
	/* With --json the answer is printed as it came, an error too (scripts read both). */
	if (json)
		printf("%s\n", *raw);
	if (xpxe_json_str(fy_document_root(*doc), "/error")) {
		if (!json)
			fprintf(stderr, "xpxe: %s\n",
				xpxe_json_str(fy_document_root(*doc), "/error"));
		return XPXE_EXIT_ERROR;
	}
	if (json)
		return XPXE_EXIT_OK;
	*root = fy_document_root(*doc);
	return XPXE_EXIT_OK;
}

/*
 * Full mode's DHCPv6 line, and where a bound machine's renewals are answered: by XDP
 * (xdp_dhcp6_bound, a tail call from xdp_pxe) while its slot holds it; else by the daemon,
 * which says so here. Tail calls that failed are not told here: dhcp6_tail_call_failed is
 * pinned and counts since the counters were made, over slots emptied and filled again, so
 * it says nothing of now (the counters show it).
 */
static void print_dhcp6_full(struct fy_node *iface)
{
	const char *in_xdp = xpxe_json_str(iface, "/dhcp6/renewals_in_xdp");

	printf("  dhcpv6    full mode, server on [%s], %llu binding(s), DUID %s\n",
	       xpxe_json_str(iface, "/dhcp6/server_addr"),
	       xpxe_json_u64(iface, "/dhcp6/server/bindings", 0),
	       xpxe_json_str(iface, "/dhcp6/server_duid"));
	if (in_xdp && strcmp(in_xdp, "true"))
		printf("  renewals  answered by the daemon: xdp_dhcp6_bound is not in its "
		       "tail-call slot\n");
}

/* The trunk's VLANs (--vlan, vlans:), one line, and its receive VLAN offloads. */
static void print_vlans(struct fy_node *iface)
{
	struct fy_node *vlans = fy_node_by_path(iface, "/vlans", FY_NT, FYNWF_DONT_FOLLOW);
	struct fy_node *v;
	void *iter = NULL;
	const char *sep = "", *stag;

	if (!vlans)
		return;
	printf("  vlans    ");
	while ((v = fy_node_sequence_iterate(vlans, &iter))) {
		printf("%s %s as %s/%llu", sep, xpxe_json_str(v, "/vlan"),
		       xpxe_json_str(v, "/server_ip"), xpxe_json_u64(v, "/prefix", 0));
		sep = ",";
	}
	stag = xpxe_json_str(iface, "/rx_vlan_stag_offload");
	printf("; rx-vlan-offload %s; rx-vlan-stag-hw-parse %s\n",
	       xpxe_json_str(iface, "/rx_vlan_offload"), stag ? stag : "unknown");
}

static void print_iface(struct fy_node *iface, bool all)
{
	int zeros = 0;
	struct fy_node *counters = fy_node_by_path(iface, "/counters", FY_NT, FYNWF_DONT_FOLLOW);
	struct fy_node_pair *pair;
	void *iter = NULL;
	const char *via = xpxe_json_str(iface, "/attach_via");

	printf("interface %s (ifindex %llu)\n", xpxe_json_str(iface, "/name"),
	       xpxe_json_u64(iface, "/ifindex", 0));
	printf("  program   %s, prog id %llu\n",
	       xpxe_json_str(iface, "/prog_name") ? xpxe_json_str(iface, "/prog_name") : "xdp_pxe",
	       xpxe_json_u64(iface, "/prog_id", 0));
	printf("  attached  %s mode, %s\n", xpxe_json_str(iface, "/attach_mode"),
	       via && !strcmp(via, "dispatcher")
		   ? "through the libxdp dispatcher"
		   : "alone (this kernel cannot run the libxdp dispatcher)");
	printf("  pins      %s\n", xpxe_json_str(iface, "/pin_dir"));
	if (xpxe_json_str(iface, "/dhcp/mode")) {
		const char *mode = xpxe_json_str(iface, "/dhcp/mode");
		const char *ra = xpxe_json_str(iface, "/dhcp/router_advert");

		printf("  dhcp      %s", mode);
		if (strcmp(mode, "off"))
			printf(" mode, answering as %s", xpxe_json_str(iface, "/dhcp/server_ip"));
		if (!strcmp(mode, "full"))
			printf(", %llu binding(s) in %s, %llu offer(s) held (%llu s)",
			       xpxe_json_u64(iface, "/dhcp/bindings", 0),
			       xpxe_json_str(iface, "/dhcp/leases_file"),
			       xpxe_json_u64(iface, "/dhcp/offers_held", 0),
			       xpxe_json_u64(iface, "/dhcp/offer_hold_s", 0));
		if (ra && !strcmp(ra, "true"))
			printf(", empty IPv6 router advertisements");
		if (xpxe_json_u64(iface, "/dhcp/save_errors", 0))
			printf(" (%llu failed write(s): see the log)",
			       xpxe_json_u64(iface, "/dhcp/save_errors", 0));
		if (xpxe_json_u64(iface, "/dhcp/store_refused", 0))
			printf(" (%llu new machine(s) refused while the store was away)",
			       xpxe_json_u64(iface, "/dhcp/store_refused", 0));
		printf("\n");
		if (xpxe_json_str(iface, "/dhcp/local_server_says"))
			printf("  proxy     %s\n", xpxe_json_str(iface, "/dhcp/local_server_says"));
	}
	if (xpxe_json_str(iface, "/dhcp6/mode")) {
		const char *mode = xpxe_json_str(iface, "/dhcp6/mode");

		if (!strcmp(mode, "off"))
			printf("  dhcpv6    off (no global or ULA address on the interface)\n");
		else if (!strcmp(mode, "full"))
			print_dhcp6_full(iface);
		else
			printf("  dhcpv6    proxy-like: boot URLs on [%s], server DUID %s\n",
			       xpxe_json_str(iface, "/dhcp6/server_addr"),
			       xpxe_json_str(iface, "/dhcp6/server_duid"));
	}
	print_vlans(iface);
	print_tftp(iface);
	printf("  counters%s\n", all ? "" : " (not zero)");
	while (counters && (pair = fy_node_mapping_iterate(counters, &iter))) {
		const char *value = fy_node_get_scalar0(fy_node_pair_value(pair));

		/* Dozens of outcomes, most of them never seen: the rest with --all. */
		if (!all && !strcmp(value, "0")) {
			zeros++;
			continue;
		}
		printf("    %-26s %s\n", fy_node_get_scalar0(fy_node_pair_key(pair)), value);
	}
	if (zeros)
		printf("    (%d more at zero: xpxe status --all)\n", zeros);
}

/* Where machines and operators reach the daemon: HTTP, HTTPS, the fleet page. */
/* Bulk downloads: the cap, who downloads, who waits (control planes first). */
static void print_downloads(struct fy_node *root)
{
	struct fy_node *list =
			   fy_node_by_path(root, "/http/downloads/list", FY_NT, FYNWF_DONT_FOLLOW),
		       *item;
	void *iter = NULL;

	if (!xpxe_json_u64(root, "/http/downloads/max", 0)) {
		printf("downloads   no cap (downloads.max 0): every download at once\n");
		return;
	}
	printf("downloads   %llu running (at most %llu at once, files of %llu KiB or more), %llu "
	       "queued; %llu went in at once, %llu after a wait (%.1f s in all), %llu over the "
	       "cap after %llu s\n",
	       xpxe_json_u64(root, "/http/downloads/active", 0),
	       xpxe_json_u64(root, "/http/downloads/max", 0),
	       xpxe_json_u64(root, "/http/downloads/min_size", 0) >> 10,
	       xpxe_json_u64(root, "/http/downloads/waiting", 0),
	       xpxe_json_u64(root, "/http/downloads/admitted_at_once", 0),
	       xpxe_json_u64(root, "/http/downloads/admitted_after_wait", 0),
	       xpxe_json_u64(root, "/http/downloads/wait_ms_total", 0) / 1000.0,
	       xpxe_json_u64(root, "/http/downloads/admitted_over_cap", 0),
	       xpxe_json_u64(root, "/http/downloads/max_wait_s", 0));
	while (list && (item = fy_node_sequence_iterate(list, &iter)))
		printf("            %-11s %-12s %-24s %-16s %llu s\n",
		       xpxe_json_str(item, "/state"), xpxe_json_str(item, "/rank"),
		       xpxe_json_str(item, "/who"), xpxe_json_str(item, "/asset"),
		       xpxe_json_u64(item, "/seconds", 0));
}

/* TFTP's admission: transfers in a place, read requests held, transfers paced. */
static void print_tftp_downloads(struct fy_node *root)
{
	if (!fy_node_by_path(root, "/http/downloads/tftp_max", FY_NT, FYNWF_DONT_FOLLOW))
		return; /* no TFTP */
	if (!xpxe_json_u64(root, "/http/downloads/tftp_max", 0)) {
		printf("tftp        no cap (downloads.tftp_max 0): every transfer at once\n");
		return;
	}
	printf("tftp        %llu running (at most %llu at once), %llu held, %llu paced (a block "
	       "each %llu ms); %llu held in all, %llu let in paced, %llu of them took a place\n",
	       xpxe_json_u64(root, "/http/downloads/tftp_active", 0),
	       xpxe_json_u64(root, "/http/downloads/tftp_max", 0),
	       xpxe_json_u64(root, "/http/downloads/tftp_held", 0),
	       xpxe_json_u64(root, "/http/downloads/tftp_paced", 0),
	       xpxe_json_u64(root, "/http/downloads/tftp_pace_ms", 0),
	       xpxe_json_u64(root, "/http/downloads/tftp_held_total", 0),
	       xpxe_json_u64(root, "/http/downloads/tftp_paced_total", 0),
	       xpxe_json_u64(root, "/http/downloads/tftp_promoted", 0));
}

static void print_listeners(struct fy_node *root)
{
	const char *url = xpxe_json_str(root, "/http/url");
	const char *https = xpxe_json_str(root, "/http/https_url");
	const char *plain = xpxe_json_str(root, "/http/configs_over_http");
	const char *ui = xpxe_json_str(root, "/http/ui");

	if (url && *url)
		printf("            serving %s", url);
	if (https && *https)
		printf("%s %s%s", url && *url ? " and" : "            serving", https,
		       plain && !strcmp(plain, "false") ? " (configs over HTTPS only)" : "");
	if ((url && *url) || (https && *https))
		printf("\n");
	if (ui && *ui)
		printf("ui          the fleet page at http://%s/\n", ui);
}

/* The store: files, or etcd and its health (the daemon's "store" node). */
static void print_store(struct fy_node *root)
{
	struct fy_node *list;
	struct fy_node *item;
	void *iter = NULL;
	const char *backend = xpxe_json_str(root, "/store/backend");
	const char *up = xpxe_json_str(root, "/store/up");
	time_t since = (time_t)xpxe_json_u64(root, "/store/since", 0);
	char when[32] = "?";
	int n = 0;

	if (!backend)
		return;
	if (strcmp(backend, "etcd")) {
		printf("store       files (this host's state folder); nothing shared\n");
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&since));
	printf("store       etcd %s (prefix %s%s), this responder '%s'\n",
	       xpxe_json_str(root, "/store/url"), xpxe_json_str(root, "/store/prefix"),
	       strcmp(xpxe_json_str(root, "/store/tls") ?: "", "true") ? "" : ", TLS",
	       xpxe_json_str(root, "/store/name"));
	if (up && !strcmp(up, "true"))
		printf("            up since %s, revision %llu\n", when,
		       xpxe_json_u64(root, "/store/revision", 0));
	else
		printf("            AWAY since %s: %s; serving what it knows, new machines get no "
		       "address until it is back\n",
		       when, xpxe_json_str(root, "/store/health"));
	printf("            responders alive:");
	list = fy_node_by_path(root, "/store/responders", FY_NT, FYNWF_DONT_FOLLOW);
	while (list && (item = fy_node_sequence_iterate(list, &iter)))
		printf("%s %s", n++ ? "," : "", fy_node_get_scalar0(item));
	printf("%s\n", n ? "" : " none known");
	printf(
	    "            %llu request(s), %llu failed, %llu race(s) lost, %llu value(s) refused, "
	    "%llu resync(s); latency p50 %.1f ms, p99 %.1f ms; %llu boot-once change(s) "
	    "waiting\n",
	    xpxe_json_u64(root, "/store/requests", 0), xpxe_json_u64(root, "/store/errors", 0),
	    xpxe_json_u64(root, "/store/conflicts", 0), xpxe_json_u64(root, "/store/refused", 0),
	    xpxe_json_u64(root, "/store/resyncs", 0),
	    xpxe_json_u64(root, "/store/latency_p50_us", 0) / 1000.0,
	    xpxe_json_u64(root, "/store/latency_p99_us", 0) / 1000.0,
	    xpxe_json_u64(root, "/store/pending_marks", 0));
}

/* Each profile's files by architecture; a machine of an architecture without them is refused. */
static void print_profiles(struct fy_node *root)
{
	struct fy_node *list = fy_node_by_path(root, "/profiles", FY_NT, FYNWF_DONT_FOLLOW), *p;
	static const char *const arches[] = { "amd64", "arm64" };
	void *iter = NULL;

	while (list && (p = fy_node_sequence_iterate(list, &iter))) {
		printf("profile     %s:", xpxe_json_str(p, "/name"));
		for (size_t a = 0; a < 2; a++) {
			char path[32];
			const char *kernel, *initrd, *stage, *uki;

			snprintf(path, sizeof(path), "/%s/kernel", arches[a]);
			kernel = xpxe_json_str(p, path);
			snprintf(path, sizeof(path), "/%s/initrd", arches[a]);
			initrd = xpxe_json_str(p, path);
			snprintf(path, sizeof(path), "/%s/second_stage", arches[a]);
			stage = xpxe_json_str(p, path);
			snprintf(path, sizeof(path), "/%s/uki", arches[a]);
			uki = xpxe_json_str(p, path);
			if (kernel && *kernel && initrd && *initrd)
				printf("%s %s %s + %s%s%s%s", a ? ";" : "", arches[a], kernel,
				       initrd, stage ? " (through " : "", stage ? stage : "",
				       stage ? ")" : "");
			else if (!uki)
				printf("%s %s none (refused)", a ? ";" : "", arches[a]);
			else
				printf("%s %s", a ? ";" : "", arches[a]);
			if (uki)
				printf(", HTTP boot: UKI %s", uki);
		}
		printf("\n");
	}
	if (xpxe_json_u64(root, "/http/no_arch_files", 0))
		printf("            %llu iPXE script(s) refused: no files for the machine's "
		       "architecture\n",
		       xpxe_json_u64(root, "/http/no_arch_files", 0));
}

int xpxe_cli_status(const char *socket_path, bool json, bool all)
{
	struct fy_document *doc = NULL;
	struct fy_node *root, *ifaces, *iface;
	char *raw = NULL;
	void *iter = NULL;
	int rc;

	rc = query(socket_path, "{\"cmd\":\"status\"}", json, &doc, &raw, &root);
	if (rc || !root)
		goto out;
	printf("xpxe %s, daemon pid %llu, up %llus, control socket %s\n",
	       xpxe_json_str(root, "/version"), xpxe_json_u64(root, "/pid", 0),
	       xpxe_json_u64(root, "/uptime_s", 0), xpxe_json_str(root, "/socket"));
	ifaces = fy_node_by_path(root, "/interfaces", FY_NT, FYNWF_DONT_FOLLOW);
	while (ifaces && (iface = fy_node_sequence_iterate(ifaces, &iter)))
		print_iface(iface, all);
	printf("http        %llu connection(s) open (at most %llu, %llu per address, %llu s "
	       "idle); refused %llu at the total, %llu per address; %llu timed out without a "
	       "request\n",
	       xpxe_json_u64(root, "/http/connections_open", 0),
	       xpxe_json_u64(root, "/http/max_connections", 0),
	       xpxe_json_u64(root, "/http/max_per_ip", 0),
	       xpxe_json_u64(root, "/http/timeout_s", 0),
	       xpxe_json_u64(root, "/http/refused_total", 0),
	       xpxe_json_u64(root, "/http/refused_per_ip", 0),
	       xpxe_json_u64(root, "/http/timed_out", 0));
	print_downloads(root);
	print_tftp_downloads(root);
	print_listeners(root);
	print_profiles(root);
	print_store(root);
out:
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

int xpxe_cli_assets(const char *socket_path, bool json, bool reload)
{
	struct fy_document *doc = NULL;
	struct fy_node *root, *list, *as, *gone;
	char *raw = NULL;
	void *iter = NULL;
	int rc;

	rc = query(socket_path,
		   reload ? "{\"cmd\":\"assets\",\"reload\":true}" : "{\"cmd\":\"assets\"}", json,
		   &doc, &raw, &root);
	if (rc)
		goto out;
	/* Files gone from disk: TFTP serves what was loaded, HTTP answers 503 until they are back.
	 */
	gone = fy_node_by_path(fy_document_root(doc), "/gone", FY_NT, FYNWF_DONT_FOLLOW);
	while (gone && (as = fy_node_sequence_iterate(gone, &iter))) {
		if (!json)
			fprintf(stderr,
				"xpxe: asset %s: %s is gone from disk: TFTP serves what was "
				"loaded, HTTP answers 503 until the file is back and 'xpxe assets "
				"--reload' has run\n",
				xpxe_json_str(as, "/name"), xpxe_json_str(as, "/path"));
		rc = XPXE_EXIT_ERROR;
	}
	if (!root)
		goto out;
	iter = NULL;
	if (reload)
		printf("reloaded %llu changed asset(s)\n", xpxe_json_u64(root, "/reloaded", 0));
	printf("%-20s %-6s %12s %10s %10s %9s  %s\n", "NAME", "ARCH", "SIZE", "BLOCKS@512", "@1468",
	       "TRANSFERS", "SHA256");
	list = fy_node_by_path(root, "/assets", FY_NT, FYNWF_DONT_FOLLOW);
	while (list && (as = fy_node_sequence_iterate(list, &iter))) {
		const char *cur = xpxe_json_str(as, "/current");

		const char *arch = xpxe_json_str(as, "/arch");

		printf("%-20s %-6s %12llu %10llu %10llu %9llu  %s%s\n", xpxe_json_str(as, "/name"),
		       arch ? arch : "-", xpxe_json_u64(as, "/size", 0),
		       xpxe_json_u64(as, "/blocks_512", 0), xpxe_json_u64(as, "/blocks_1468", 0),
		       xpxe_json_u64(as, "/transfers", 0), xpxe_json_str(as, "/sha256"),
		       cur && !strcmp(cur, "false") ? "  (replaced; freed after its transfers)"
						    : "");
	}
out:
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

int xpxe_cli_detach(const char *socket_path, const char *ifname)
{
	struct fy_document *doc = NULL, *req = fy_document_create(NULL);
	struct fy_node *req_root = fy_node_create_mapping(req);
	char *request, *raw = NULL;
	const char *why, *code;
	int rc, err;

	fy_document_set_root(req, req_root);
	xpxe_json_add_str(req_root, "cmd", "detach");
	xpxe_json_add_str(req_root, "iface", ifname);
	request = xpxe_json_emit(req);
	fy_document_destroy(req);
	if (!request)
		return XPXE_EXIT_ERROR;
	rc = ask_daemon(socket_path, request, &doc, &raw, true);
	free(request);
	if (rc == XPXE_EXIT_OK) {
		struct fy_node *root = fy_document_root(doc);

		code = xpxe_json_str(root, "/code");
		if (!xpxe_json_str(root, "/error")) {
			printf("detached xpxe from %s\n", ifname);
			goto out;
		}
		if (!code || strcmp(code, "not_served")) {
			fprintf(stderr, "xpxe: %s\n", xpxe_json_str(root, "/error"));
			rc = XPXE_EXIT_ERROR;
			goto out;
		}
	} else if (rc != XPXE_EXIT_NO_DAEMON) {
		goto out;
	}

	/* No daemon serves it: remove what a killed daemon may have left running. */
	if (!xpxe_have_bpf_privileges(&why)) {
		fprintf(stderr, "xpxe: detaching needs root (CAP_BPF and CAP_NET_ADMIN): %s\n",
			why);
		rc = XPXE_EXIT_ERROR;
		goto out;
	}
	err = xpxe_dataplane_detach_orphan(ifname);
	if (err == -ENOENT) {
		fprintf(stderr, "xpxe: xpxe is not attached to %s (no program, no pins)\n", ifname);
		rc = XPXE_EXIT_NOT_FOUND;
	} else if (err) {
		rc = XPXE_EXIT_ERROR;
	} else {
		printf("detached xpxe from %s\n", ifname);
		rc = XPXE_EXIT_OK;
	}
out:
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

int xpxe_cli_leases(const char *socket_path, bool json)
{
	struct fy_document *doc = NULL;
	struct fy_node *root, *list, *item;
	char *raw = NULL, when[32];
	void *iter = NULL;
	int rc, n = 0;

	rc = query(socket_path, "{\"cmd\":\"leases\"}", json, &doc, &raw, &root);
	if (rc || !root)
		goto out;
	list = fy_node_by_path(root, "/leases", FY_NT, FYNWF_DONT_FOLLOW);
	printf("%-12s %-17s %-15s %-19s  %s\n", "INTERFACE", "MAC", "IP", "EXPIRES (UTC)", "BY");
	while (list && (item = fy_node_sequence_iterate(list, &iter))) {
		time_t t = (time_t)xpxe_json_u64(item, "/expires", 0);
		const char *by = xpxe_json_str(item, "/by");
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%-12s %-17s %-15s %-19s  %s\n", xpxe_json_str(item, "/interface"),
		       xpxe_json_str(item, "/mac"), xpxe_json_str(item, "/ip"), when,
		       by && *by ? by : "-");
		n++;
	}
	if (!n && xpxe_json_str(root, "/full_mode") &&
	    !strcmp(xpxe_json_str(root, "/full_mode"), "true"))
		printf("(no bindings yet)\n");
	else if (!n)
		printf("(no bindings: leases exist in full mode only, and no interface is served "
		       "in full mode)\n");
out:
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

int xpxe_cli_machines(const char *socket_path, bool json)
{
	struct fy_document *doc = NULL;
	struct fy_node *root, *list, *item;
	char *raw = NULL;
	void *iter = NULL;
	int rc;

	rc = query(socket_path, "{\"cmd\":\"machines\"}", json, &doc, &raw, &root);
	if (rc || !root)
		goto out;
	list = fy_node_by_path(root, "/machines", FY_NT, FYNWF_DONT_FOLLOW);
	printf("%-16s %-20s %-12s %-15s %-24s %s\n", "HOSTNAME", "MAC", "PROFILE", "IP", "BOOT",
	       "FROM");
	while (list && (item = fy_node_sequence_iterate(list, &iter))) {
		const char *host = xpxe_json_str(item, "/hostname");
		const char *ip = xpxe_json_str(item, "/ip");
		const char *inst = xpxe_json_str(item, "/installed");

		printf("%-16s %-20s %-12s %-15s %-24s %s\n", host && *host ? host : "-",
		       xpxe_json_str(item, "/mac"), xpxe_json_str(item, "/profile"),
		       ip && *ip ? ip : "-",
		       inst && !strcmp(inst, "true") ? "local disk (installed)" : "install",
		       xpxe_json_str(item, "/defined_at") ? xpxe_json_str(item, "/defined_at")
							  : "(booted, not listed)");
	}
out:
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

int xpxe_cli_reload(const char *socket_path, bool json)
{
	struct fy_document *doc = NULL;
	struct fy_node *root;
	char *raw = NULL;
	int rc;

	rc = query(socket_path, "{\"cmd\":\"reload\"}", json, &doc, &raw, &root);
	if (!rc && root)
		printf("reloaded: %llu machine(s), %llu profile(s), %llu asset(s); %llu pool "
		       "binding(s) dropped for new reservations\n",
		       xpxe_json_u64(root, "/machines", 0), xpxe_json_u64(root, "/profiles", 0),
		       xpxe_json_u64(root, "/assets", 0),
		       xpxe_json_u64(root, "/bindings_dropped", 0));
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

/* The exit code a machine command's error CODE stands for. */
static int machine_exit(const char *code)
{
	if (!code)
		return XPXE_EXIT_ERROR;
	if (!strcmp(code, "not_found"))
		return XPXE_EXIT_NOT_FOUND;
	if (!strcmp(code, "invalid"))
		return XPXE_EXIT_USAGE;
	if (!strcmp(code, "conflict") || !strcmp(code, "in_config"))
		return XPXE_EXIT_REFUSED;
	return XPXE_EXIT_ERROR;
}

/*
 * Sends REQ (consumed) and returns the exit code: the daemon's error printed
 * with its code's exit code; with JSON the answer printed as it came (an error
 * too); otherwise *ROOT left for the caller to print.
 */
static int machine_request(const char *socket_path, struct fy_document *req, bool json,
			   struct fy_document **doc, char **raw, struct fy_node **root)
{
	char *request = xpxe_json_emit(req);
	const char *error;
	int rc;

	fy_document_destroy(req);
	*root = NULL;
	if (!request)
		return XPXE_EXIT_ERROR;
	rc = ask_daemon(socket_path, request, doc, raw, false);
	free(request);
	if (rc)
		return rc;
	error = xpxe_json_str(fy_document_root(*doc), "/error");
	if (json)
		printf("%s\n", *raw);
	else if (error)
		fprintf(stderr, "xpxe: %s\n", error);
	if (error)
		return machine_exit(xpxe_json_str(fy_document_root(*doc), "/code"));
	if (!json)
		*root = fy_document_root(*doc);
	return XPXE_EXIT_OK;
}

static struct fy_document *machine_cmd(const char *cmd, struct fy_node **root)
{
	struct fy_document *req = fy_document_create(NULL);

	*root = fy_node_create_mapping(req);
	fy_document_set_root(req, *root);
	xpxe_json_add_str(*root, "cmd", cmd);
	return req;
}

static void print_time(const char *label, unsigned long long t, const char *after)
{
	char when[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%-12s %s%s\n", label, when, after);
}

static void print_field(const char *label, struct fy_node *m, const char *path)
{
	const char *v = xpxe_json_str(m, path);

	printf("%-12s %s\n", label, v && *v ? v : "-");
}

int xpxe_cli_machine_show(const char *socket_path, const char *machine, bool json)
{
	struct fy_node *req_root, *root, *m, *macs, *events, *item;
	struct fy_document *doc = NULL, *req = machine_cmd("machine-show", &req_root);
	char *raw = NULL;
	void *iter = NULL;
	const char *inst;
	int rc;

	xpxe_json_add_str(req_root, "machine", machine);
	rc = machine_request(socket_path, req, json, &doc, &raw, &root);
	if (rc || !root)
		goto out;
	m = fy_node_by_path(root, "/machine", FY_NT, FYNWF_DONT_FOLLOW);
	printf("%-12s %s\n", "machine", machine);
	if (!strcmp(xpxe_json_str(m, "/source"), "unknown"))
		printf("%-12s not in the inventory (the default profile's)\n", "defined");
	else
		printf("%-12s %s (%s)\n", "defined",
		       !strcmp(xpxe_json_str(m, "/source"), "added") ? "xpxe machines add"
								     : "the config file",
		       xpxe_json_str(m, "/defined_at"));
	macs = fy_node_by_path(m, "/macs", FY_NT, FYNWF_DONT_FOLLOW);
	while (macs && (item = fy_node_sequence_iterate(macs, &iter)))
		printf("%-12s %s\n", "mac", fy_node_get_scalar0(item));
	print_field("hostname", m, "/hostname");
	print_field("uuid", m, "/uuid");
	print_field("serial", m, "/serial");
	print_field("profile", m, "/profile");
	print_field("install disk", m, "/install_disk");
	print_field("role", m, "/role");
	print_field("reserved ip", m, "/reserved_ip");
	if (xpxe_json_str(m, "/lease/ip")) {
		char after[64];

		snprintf(after, sizeof(after), " (%s, %s)", xpxe_json_str(m, "/lease/ip"),
			 xpxe_json_str(m, "/lease/interface"));
		print_time("lease until", xpxe_json_u64(m, "/lease/expires", 0), after);
	} else {
		printf("%-12s -\n", "lease");
	}
	if (xpxe_json_str(m, "/seen_at/ip")) {
		char after[80];

		snprintf(after, sizeof(after), " at %s (%s)", xpxe_json_str(m, "/seen_at/ip"),
			 xpxe_json_str(m, "/seen_at/how"));
		print_time("seen", xpxe_json_u64(m, "/seen_at/when", 0), after);
	}
	print_field("config file", m, "/talos_config");
	printf("%-12s %s (%s)\n", "config to", xpxe_json_str(m, "/config_to"),
	       xpxe_json_str(m, "/config_to_why"));
	inst = xpxe_json_str(m, "/installed");
	if (inst && !strcmp(inst, "true"))
		print_time("installed", xpxe_json_u64(m, "/installed_at", 0),
			   ": its PXE boots go to its disk until 'xpxe machines rearm'");
	else
		printf("%-12s its next PXE boot installs it\n", "boot");
	if (xpxe_json_str(m, "/stage"))
		printf("%-12s %s%s%s\n", "stage", xpxe_json_str(m, "/stage"),
		       *xpxe_json_str(m, "/problem") ? "; last problem: " : "",
		       xpxe_json_str(m, "/problem"));
	events = fy_node_by_path(m, "/events", FY_NT, FYNWF_DONT_FOLLOW);
	iter = NULL;
	while (events && (item = fy_node_sequence_iterate(events, &iter))) {
		time_t t = (time_t)(xpxe_json_u64(item, "/time_ms", 0) / 1000);
		char when[16];
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		printf("%-12s %s %-14s %-15s %s\n", "event", when, xpxe_json_str(item, "/event"),
		       xpxe_json_str(item, "/ip"), xpxe_json_str(item, "/detail"));
	}
out:
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

int xpxe_cli_machine_add(const char *socket_path, const struct xpxe_cli_field *fields, int n,
			 bool json)
{
	struct fy_document *doc = NULL, *req;
	struct fy_node *req_root, *machine, *macs = NULL, *root;
	char *raw = NULL;
	int rc;

	req = machine_cmd("machine-add", &req_root);
	machine = fy_node_create_mapping(req);
	/* Names and values as given: the daemon checks them, as it checks the config file. */
	for (int i = 0; i < n; i++) {
		if (strcmp(fields[i].key, "mac")) {
			xpxe_json_add_str(machine, fields[i].key, fields[i].value);
			continue;
		}
		if (!macs)
			macs = fy_node_create_sequence(req);
		fy_node_sequence_append(macs, fy_node_create_scalar_copy(req, fields[i].value,
									 strlen(fields[i].value)));
	}
	if (macs)
		xpxe_json_add_node(machine, "mac", macs);
	xpxe_json_add_node(req_root, "machine", machine);
	rc = machine_request(socket_path, req, json, &doc, &raw, &root);
	if (!rc && root)
		printf("added %s (%s): it takes effect now\n",
		       *xpxe_json_str(root, "/machine/hostname")
			   ? xpxe_json_str(root, "/machine/hostname")
			   : "the machine",
		       xpxe_json_str(root, "/machine/defined_at"));
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

static int boot_once(const char *socket_path, const char *machine, bool installed, bool json)
{
	struct fy_node *req_root, *root;
	struct fy_document *doc = NULL,
			   *req = machine_cmd(installed ? "mark-installed" : "rearm", &req_root);
	char *raw = NULL;
	int rc;

	xpxe_json_add_str(req_root, "machine", machine);
	rc = machine_request(socket_path, req, json, &doc, &raw, &root);
	if (!rc && root)
		printf("%s: %s\n", xpxe_json_str(root, "/key"),
		       installed ? "installed: its next PXE boot goes to its disk"
				 : "re-armed: its next PXE boot installs it again");
	fy_document_destroy(doc);
	free(raw);
	return rc;
}

int xpxe_cli_mark_installed(const char *socket_path, const char *machine, bool json)
{
	return boot_once(socket_path, machine, true, json);
}

int xpxe_cli_rearm(const char *socket_path, const char *machine, bool json)
{
	return boot_once(socket_path, machine, false, json);
}

int xpxe_cli_machine_rm(const char *socket_path, const char *machine, bool json)
{
	struct fy_node *req_root, *root;
	struct fy_document *doc = NULL, *req = machine_cmd("machine-rm", &req_root);
	char *raw = NULL;
	int rc;

	xpxe_json_add_str(req_root, "machine", machine);
	rc = machine_request(socket_path, req, json, &doc, &raw, &root);
	if (!rc && root)
		printf("removed %s\n", machine);
	fy_document_destroy(doc);
	free(raw);
	return rc;
}
