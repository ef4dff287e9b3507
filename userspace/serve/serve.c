// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "counters.h"
#include "control/control.h"
#include "dataplane.h"
#include "dhcp/dhcp.h"
#include "json.h"
#include "log.h"
#include "netif.h"
#include "notify.h"
#include "privs.h"
#include "serve/serve.h"
#include "boot/boot.h"
#include "dhcp/dhcp6.h"
#include "tftp/tftp.h"
#include "config.h"
#include "http/http.h"
#include "inventory.h"
#include "events.h"
#include "serve/preflight.h"
#include "ui/ui.h"
#include "vlan.h"
#include <bpf/libbpf.h>

/* One interface the daemon serves: its data plane and full mode's slow path. */
struct served {
	struct xpxe_inventory *inv; /* where a 4011 request's address is learned */
	struct xpxe_dataplane dp;
	struct xpxe_dhcp_server dhcp;
	struct xpxe_dhcp6_server dhcp6; /* full mode's DHCPv6 (--pool6, --reserve6) */
	struct ring_buffer *events;	/* the programs' replies, for the fleet view */
	struct xpxe_tftp *tftp;		/* where the ends of transfers go; NULL until TFTP starts */
	struct xpxe_vlan_runtime vlan;	/* what serving VLANs changed on the trunk */
};

struct daemon {
	struct served ifaces[XPXE_MAX_IFACES];
	int n_ifaces;
	struct xpxe_assets assets;
	struct xpxe_tftp *tftp;
	const struct xpxe_serve_opts *opts;
	struct xpxe_config cfg;
	struct xpxe_inventory inv;
	struct xpxe_store *store; /* machines, marks, bindings shared with other responders */
	struct xpxe_http http;
	const char *socket_path;
	struct timespec started;
	bool stop;
	bool keep_attached;   /* --keep-attached */
	bool signalled;	      /* stopped by SIGINT/SIGTERM, not by the last detach */
	int dropped_bindings; /* by the last reload: pool bindings on now reserved addresses */
	char *grub_cfg;	      /* GRUB's grub.cfg as TFTP serves it (grub profiles) */
	size_t grub_cfg_len;
	time_t grub_checked; /* when the loop last made it again */
};

/* One AF_XDP socket of windowed TFTP: its rings' fill levels, the kernel's drops, ours. */
static struct fy_node *xsk_status(struct fy_document *doc, const struct xpxe_xsk_status *st)
{
	struct fy_node *node = fy_node_create_mapping(doc), *rings = fy_node_create_mapping(doc);
	const struct {
		const char *name;
		unsigned level, size;
	} r[] = {
		{ "fill", st->fill, st->fill_size },
		{ "completion", st->comp, st->comp_size },
		{ "rx", st->rx, st->rx_size },
		{ "tx", st->tx, st->tx_size },
	};

	xpxe_json_add_u64(node, "queue", st->queue);
	xpxe_json_add_str(node, "mode", st->zerocopy ? "zero-copy" : "copy");
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		struct fy_node *ring = fy_node_create_mapping(doc);

		xpxe_json_add_u64(ring, "level", r[i].level);
		xpxe_json_add_u64(ring, "size", r[i].size);
		xpxe_json_add_node(rings, r[i].name, ring);
	}
	xpxe_json_add_node(node, "rings", rings);
	xpxe_json_add_u64(node, "tx_frames_free", st->tx_frames_free);
	xpxe_json_add_u64(node, "tx_frames", st->tx_frames);
	xpxe_json_add_u64(node, "rx_acks", st->rx_frames);
	xpxe_json_add_u64(node, "tx_sent", st->tx_sent);
	xpxe_json_add_u64(node, "tx_no_frame", st->tx_no_frame);
	xpxe_json_add_u64(node, "tx_kick_errors", st->tx_kick_errors);
	xpxe_json_add_u64(node, "rx_dropped", st->rx_dropped);
	xpxe_json_add_u64(node, "rx_ring_full", st->rx_ring_full);
	xpxe_json_add_u64(node, "rx_fill_empty", st->rx_fill_empty);
	xpxe_json_add_u64(node, "rx_invalid", st->rx_invalid);
	xpxe_json_add_u64(node, "tx_invalid", st->tx_invalid);
	xpxe_json_add_u64(node, "tx_ring_empty", st->tx_ring_empty);
	return node;
}

/* Windowed TFTP: what is granted, how many windows went out, and the AF_XDP sockets. */
static struct fy_node *window_status(struct daemon *d, struct fy_document *doc,
				     const struct xpxe_dataplane *dp, const __u64 *totals)
{
	static struct xpxe_tftp_window_status ws;
	struct fy_node *node = fy_node_create_mapping(doc), *socks = fy_node_create_sequence(doc);

	if (!d->tftp || xpxe_tftp_window_status(d->tftp, dp->ifindex, &ws))
		memset(&ws, 0, sizeof(ws));
	xpxe_json_add_u64(node, "windowsize_max", ws.windowsize_max);
	xpxe_json_add_bool(node, "af_xdp", ws.n_xsks > 0);
	if (ws.why_not[0])
		xpxe_json_add_str(node, "why_not", ws.why_not);
	xpxe_json_add_u64(node, "windows", totals[XPXE_CNT_TFTP_WINDOWS]);
	xpxe_json_add_u64(node, "restarts", totals[XPXE_CNT_TFTP_WINDOW_RESTARTS]);
	xpxe_json_add_u64(node, "blocks_resent", totals[XPXE_CNT_TFTP_WINDOW_RESENT]);
	xpxe_json_add_u64(node, "blocks_not_sent", totals[XPXE_CNT_TFTP_XSK_TX_FULL]);
	xpxe_json_add_u64(node, "acks_to_xsk", totals[XPXE_CNT_TFTP_ACK_TO_XSK]);
	xpxe_json_add_u64(node, "acks_to_daemon", totals[XPXE_CNT_TFTP_ACK_TO_DAEMON]);
	for (unsigned q = 0; q < ws.n_xsks; q++)
		fy_node_sequence_append(socks, xsk_status(doc, &ws.xsks[q]));
	xpxe_json_add_node(node, "sockets", socks);
	return node;
}

/* Which paths built this interface's TFTP blocks: the counters tell. */
static struct fy_node *tftp_status(struct daemon *d, struct fy_document *doc,
				   const struct xpxe_dataplane *dp, const __u64 *totals)
{
	struct fy_node *node = fy_node_create_mapping(doc);
	__u64 xdp = totals[XPXE_CNT_TFTP_DATA_XDP], tc = totals[XPXE_CNT_TFTP_DATA_TC];
	__u64 xsk = totals[XPXE_CNT_TFTP_DATA_XSK], udp = totals[XPXE_CNT_TFTP_DATA_WINDOW_UDP];
	char path[32] = "";

	/* "xdp", "tc", "af_xdp" (windows), "udp" (windows without AF_XDP), joined by '+'. */
	if (xdp)
		strcat(path, "+xdp");
	if (tc)
		strcat(path, "+tc");
	if (xsk)
		strcat(path, "+af_xdp");
	if (udp)
		strcat(path, "+udp");
	xpxe_json_add_str(node, "path", path[0] ? path + 1 : "none yet");
	xpxe_json_add_u64(node, "tc_prog_id", dp->tc_prog_id);
	xpxe_json_add_bool(node, "xdp_no_room", xpxe_dataplane_xdp_no_room(dp));
	xpxe_json_add_u64(node, "blocks_xdp", xdp);
	xpxe_json_add_u64(node, "blocks_tc", tc);
	xpxe_json_add_u64(node, "blocks_af_xdp", xsk);
	xpxe_json_add_u64(node, "blocks_window_udp", udp);
	xpxe_json_add_u64(node, "blocks_daemon", totals[XPXE_CNT_TFTP_DATA_DAEMON]);
	xpxe_json_add_u64(node, "acks_to_tc", totals[XPXE_CNT_TFTP_ACK_TO_TC]);
	xpxe_json_add_u64(node, "bytes",
			  totals[XPXE_CNT_TFTP_BYTES] + totals[XPXE_CNT_TFTP_BYTES_TC] +
			      totals[XPXE_CNT_TFTP_BYTES_XSK] + totals[XPXE_CNT_TFTP_BYTES_DAEMON]);
	xpxe_json_add_u64(node, "transfers",
			  d->tftp ? xpxe_tftp_transfers(d->tftp, dp->ifindex) : 0);
	xpxe_json_add_node(node, "window", window_status(d, doc, dp, totals));
	{
		/*
		 * IPv6: XDP (xdp_tftp6) or, where it cannot, tc sends lockstep blocks; AF_XDP
		 * windows, as IPv4's; the daemon's sockets first blocks, and windows where no
		 * AF_XDP socket sends them.
		 */
		struct fy_node *v6 = fy_node_create_mapping(doc);
		char path6[32];

		snprintf(path6, sizeof(path6), "%stc%s+daemon",
			 totals[XPXE_CNT_TFTP6_DATA_XDP] ? "xdp+" : "",
			 totals[XPXE_CNT_TFTP6_DATA_XSK] ? "+af_xdp" : "");
		xpxe_json_add_str(v6, "path", path6);
		xpxe_json_add_u64(v6, "rrq", totals[XPXE_CNT_TFTP6_RRQ]);
		xpxe_json_add_u64(v6, "blocks", totals[XPXE_CNT_TFTP6_DATA]);
		xpxe_json_add_u64(v6, "blocks_xdp", totals[XPXE_CNT_TFTP6_DATA_XDP]);
		xpxe_json_add_u64(v6, "blocks_tc", totals[XPXE_CNT_TFTP6_DATA_TC]);
		xpxe_json_add_u64(v6, "blocks_af_xdp", totals[XPXE_CNT_TFTP6_DATA_XSK]);
		xpxe_json_add_u64(v6, "acks_to_tc", totals[XPXE_CNT_TFTP6_XDP_TO_TC]);
		xpxe_json_add_u64(v6, "dropped_bad_csum", totals[XPXE_CNT_TFTP6_DROP_BAD_CSUM]);
		xpxe_json_add_u64(v6, "blocks_resent", totals[XPXE_CNT_TFTP6_RETRANSMITS]);
		xpxe_json_add_u64(v6, "completed", totals[XPXE_CNT_TFTP6_COMPLETED]);
		xpxe_json_add_u64(v6, "aborted", totals[XPXE_CNT_TFTP6_ABORTED]);
		xpxe_json_add_node(node, "ipv6", v6);
	}
	return node;
}

static struct fy_node *iface_status(struct daemon *d, struct fy_document *doc,
				    const struct served *sv)
{
	const struct xpxe_dataplane *dp = &sv->dp;
	const struct xpxe_dhcp_settings *ds = &sv->dhcp.settings;
	struct fy_node *dhcp = fy_node_create_mapping(doc);
	char ip[INET_ADDRSTRLEN];
	struct fy_node *node = fy_node_create_mapping(doc);
	struct fy_node *counters = fy_node_create_mapping(doc);
	char pin_dir[256];
	__u64 totals[XPXE_CNT_MAX] = { 0 };

	snprintf(pin_dir, sizeof(pin_dir), "%s/%s", XPXE_PIN_ROOT, dp->ifname);
	xpxe_json_add_str(node, "name", dp->ifname);
	xpxe_json_add_u64(node, "ifindex", dp->ifindex);
	xpxe_json_add_str(node, "attach_mode", dp->native ? "native" : "generic");
	xpxe_json_add_str(node, "attach_via", dp->dispatcher ? "dispatcher" : "single");
	xpxe_json_add_str(node, "prog_name", bpf_program__name(dp->xdp));
	xpxe_json_add_u64(node, "prog_id", dp->prog_id);
	xpxe_json_add_str(node, "pin_dir", pin_dir);
	xpxe_json_add_bool(node, "adopted", dp->adopted);
	/* The daemon keeps its per-window counts in memory between writes: write them now. */
	if (d->tftp)
		xpxe_tftp_flush_counters(d->tftp);
	if (!xpxe_dataplane_counters(dp, totals))
		for (int i = 0; i < XPXE_CNT_MAX; i++)
			xpxe_json_add_u64(counters, xpxe_counter_names[i], totals[i]);
	xpxe_json_add_node(node, "tftp", tftp_status(d, doc, dp, totals));
	xpxe_json_add_node(node, "counters", counters);
	xpxe_json_add_str(dhcp, "mode",
			  !ds->enabled		       ? "off"
			  : ds->mode == XPXE_MODE_FULL ? "full"
						       : "proxy");
	if (ds->enabled) {
		inet_ntop(AF_INET, &ds->server_ip, ip, sizeof(ip));
		xpxe_json_add_str(dhcp, "server_ip", ip);
		xpxe_json_add_bool(dhcp, "router_advert", xpxe_dhcp_router_advert(ds));
	}
	if (ds->enabled && ds->mode == XPXE_MODE_PROXY) {
		/* As the program reads it (the sweep's last answer), not as configured. */
		bool on = xpxe_dhcp_local_server_flag(dp->skel);

		xpxe_json_add_bool(dhcp, "local_server", on);
		xpxe_json_add_str(dhcp, "local_server_says", xpxe_dhcp_local_server_says(ds, on));
	}
	if (ds->n_vlans && !strcmp(dp->ifname, ds->vlan_ifname)) {
		struct fy_node *vlans = fy_node_create_sequence(doc);
		char name[16];

		for (int i = 0; i < ds->n_vlans; i++) {
			struct fy_node *v = fy_node_create_mapping(doc);

			xpxe_vlan_name(&ds->vlans[i], name, sizeof(name));
			xpxe_json_add_str(v, "vlan", name);
			xpxe_json_add_u64(v, "vid", ds->vlans[i].vid);
			xpxe_json_add_u64(v, "outer_vid", ds->vlans[i].outer_vid);
			inet_ntop(AF_INET, &ds->vlans[i].server_ip, ip, sizeof(ip));
			xpxe_json_add_str(v, "server_ip", ip);
			xpxe_json_add_u64(v, "prefix", ds->vlans[i].prefix);
			/* Its pool, once served: the range and the bindings made from it. */
			if (sv->dhcp.vlan_leases[i].pool_size) {
				const struct xpxe_leases *l = &sv->dhcp.vlan_leases[i];
				char last[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &ds->vlans[i].pool_first, ip, sizeof(ip));
				inet_ntop(AF_INET, &ds->vlans[i].pool_last, last, sizeof(last));
				xpxe_json_add_str(v, "pool_first", ip);
				xpxe_json_add_str(v, "pool_last", last);
				xpxe_json_add_u64(v, "bindings", l->n - xpxe_leases_offered(l));
				xpxe_json_add_u64(v, "offers_held", xpxe_leases_offered(l));
			}
			fy_node_sequence_append(vlans, v);
		}
		xpxe_json_add_node(node, "vlans", vlans);
		xpxe_json_add_str(node, "rx_vlan_offload",
				  sv->vlan.offload ? sv->vlan.offload : "unknown");
		xpxe_json_add_str(node, "rx_vlan_stag_offload",
				  sv->vlan.stag_offload ? sv->vlan.stag_offload : "unknown");
	}
	if (ds->enabled && ds->mode == XPXE_MODE_FULL) {
		xpxe_json_add_u64(dhcp, "bindings",
				  sv->dhcp.leases.n - xpxe_leases_offered(&sv->dhcp.leases));
		xpxe_json_add_u64(dhcp, "offers_held", xpxe_leases_offered(&sv->dhcp.leases));
		xpxe_json_add_u64(dhcp, "offer_hold_s", ds->offer_hold);
		xpxe_json_add_u64(dhcp, "allocated", sv->dhcp.allocated);
		xpxe_json_add_u64(dhcp, "pool_exhausted", sv->dhcp.exhausted);
		xpxe_json_add_u64(dhcp, "unknown_ignored", sv->dhcp.ignored);
		xpxe_json_add_u64(dhcp, "vlan_unanswered", sv->dhcp.vlan_unanswered);
		xpxe_json_add_u64(dhcp, "declined", sv->dhcp.declined);
		xpxe_json_add_u64(dhcp, "replies_sent", sv->dhcp.sent);
		xpxe_json_add_u64(dhcp, "send_errors", sv->dhcp.send_errors);
		xpxe_json_add_u64(dhcp, "save_errors", sv->dhcp.save_errors);
		xpxe_json_add_u64(dhcp, "install_errors", sv->dhcp.install_errors);
		xpxe_json_add_u64(dhcp, "store_refused", sv->dhcp.store_refused);
		xpxe_json_add_u64(dhcp, "store_conflicts", sv->dhcp.store_conflicts);
		xpxe_json_add_str(dhcp, "leases_file", ds->leases_path);
	}
	xpxe_json_add_node(node, "dhcp", dhcp);
	dhcp = xpxe_dhcp6_status(dp, doc);
	if (sv->dhcp6.running)
		xpxe_json_add_node(dhcp, "server", xpxe_dhcp6_server_status(&sv->dhcp6, doc));
	xpxe_json_add_node(node, "dhcp6", dhcp);
	return node;
}

/* Tells HTTP which file each asset's maps were loaded from (see xpxe_asset_cfg). */
static void note_loaded_assets(struct daemon *d)
{
	pthread_mutex_lock(&d->inv.lock);
	for (int i = 0; i < d->cfg.n_assets; i++) {
		const struct xpxe_asset *as = xpxe_assets_find(&d->assets, d->cfg.assets[i].name);

		d->cfg.assets[i].loaded = as ? (struct xpxe_file_id){ .dev = as->dev,
								      .ino = as->ino,
								      .size = (off_t)as->size,
								      .mtime = as->mtime }
					     : (struct xpxe_file_id){ 0 };
	}
	pthread_mutex_unlock(&d->inv.lock);
}

/* Which architecture AS is for: its first bytes as loaded, else the profiles that name it. */
static enum xpxe_arch asset_arch(struct daemon *d, const struct xpxe_asset *as)
{
	uint8_t head[1468];
	size_t n = as->size && as->chunks ? xpxe_asset_read_block(as, 1, sizeof(head), head) : 0;

	return xpxe_asset_arch(&d->cfg, as->name, head, n);
}

static void reply_assets(struct daemon *d, struct fy_document *doc, struct fy_node *request,
			 struct fy_node *reply)
{
	struct fy_node *list = fy_node_create_sequence(doc);
	const char *reload = xpxe_json_str(request, "/reload");

	struct fy_node *gone = fy_node_create_sequence(doc);

	if (reload && !strcmp(reload, "true")) {
		int n = xpxe_assets_reload(&d->assets);

		note_loaded_assets(d);
		if (n < 0)
			xpxe_json_add_str(reply, "error", "reloading failed: see the daemon's log");
		else
			xpxe_json_add_u64(reply, "reloaded", n);
	}
	/* A file deleted since it was loaded: TFTP still serves it, HTTP cannot (503). */
	for (int i = 0; i < XPXE_TFTP_ASSET_SLOTS; i++) {
		const struct xpxe_asset *as = d->assets.slots[i];
		struct fy_node *node;

		if (!as || !as->current || as->generated || !access(as->path, F_OK))
			continue;
		node = fy_node_create_mapping(doc);
		xpxe_json_add_str(node, "name", as->name);
		xpxe_json_add_str(node, "path", as->path);
		fy_node_sequence_append(gone, node);
	}
	xpxe_json_add_node(reply, "gone", gone);
	for (int i = 0; i < XPXE_TFTP_ASSET_SLOTS; i++) {
		const struct xpxe_asset *as = d->assets.slots[i];
		struct fy_node *node;
		char hex[65];

		if (!as)
			continue;
		node = fy_node_create_mapping(doc);
		for (int b = 0; b < 32; b++)
			sprintf(hex + 2 * b, "%02x", as->sha256[b]);
		xpxe_json_add_str(node, "name", as->name);
		xpxe_json_add_str(node, "path", as->path);
		xpxe_json_add_u64(node, "size", as->size);
		xpxe_json_add_str(node, "sha256", hex);
		xpxe_json_add_str(node, "arch", xpxe_arch_name(asset_arch(d, as)));
		xpxe_json_add_u64(node, "blocks_512", as->size / 512 + 1);
		xpxe_json_add_u64(node, "blocks_1468", as->size / 1468 + 1);
		xpxe_json_add_u64(node, "slot", as->slot);
		xpxe_json_add_u64(node, "map_bytes", as->map_len);
		xpxe_json_add_u64(node, "load_us", (unsigned long long)(as->load_ms * 1000));
		xpxe_json_add_u64(node, "transfers", as->refs);
		xpxe_json_add_bool(node, "current", as->current);
		fy_node_sequence_append(list, node);
	}
	xpxe_json_add_node(reply, "assets", list);
}

/* Bulk downloads: the cap, who downloads and who waits, in the queue's order. */
static struct fy_node *downloads_status(struct daemon *d, struct fy_document *doc)
{
	struct xpxe_http *h = &d->http;
	struct fy_node *node = fy_node_create_mapping(doc), *list = fy_node_create_sequence(doc);
	struct xpxe_admit_view *v = calloc(256, sizeof(*v));
	struct xpxe_admit_stats st = { 0 };
	unsigned active = 0, waiting = 0;
	struct timespec now;
	int n = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (h->conns && v)
		n = xpxe_admit_snapshot(&h->admit, &active, &waiting, &st, v, 256);
	xpxe_json_add_u64(node, "max", h->downloads.max);
	xpxe_json_add_u64(node, "max_wait_s", h->downloads.max_wait_s);
	xpxe_json_add_u64(node, "min_size", h->downloads.min_size);
	xpxe_json_add_u64(node, "active", active);
	xpxe_json_add_u64(node, "waiting", waiting);
	xpxe_json_add_u64(node, "admitted_at_once", st.at_once);
	xpxe_json_add_u64(node, "admitted_after_wait", st.after_wait);
	xpxe_json_add_u64(node, "admitted_over_cap", st.overdue);
	xpxe_json_add_u64(node, "admitted_controlplane_over_cap", st.controlplane_over);
	xpxe_json_add_u64(node, "wait_ms_total", (unsigned long long)(st.wait_seconds * 1000));
	for (int i = 0; i < n; i++) {
		struct fy_node *item = fy_node_create_mapping(doc);

		xpxe_json_add_str(item, "who", v[i].who);
		xpxe_json_add_str(item, "asset", v[i].what);
		xpxe_json_add_str(item, "state", v[i].waiting ? "queued" : "downloading");
		xpxe_json_add_str(item, "rank",
				  v[i].rank == XPXE_RANK_CONTROLPLANE ? "controlplane" : "worker");
		xpxe_json_add_u64(
		    item, "seconds",
		    (unsigned long long)(now.tv_sec + now.tv_nsec / 1e9 - v[i].since));
		fy_node_sequence_append(list, item);
	}
	free(v);
	xpxe_json_add_node(node, "list", list);
	if (d->tftp) {
		struct xpxe_tftp_admission ta;

		xpxe_tftp_admission(d->tftp, &ta);
		xpxe_json_add_u64(node, "tftp_max", d->cfg.downloads.tftp_max);
		xpxe_json_add_u64(node, "tftp_max_wait_s", d->cfg.downloads.tftp_max_wait_s);
		xpxe_json_add_u64(node, "tftp_active", ta.active);
		xpxe_json_add_u64(node, "tftp_held", ta.held);
		xpxe_json_add_u64(node, "tftp_held_total", ta.held_total);
		xpxe_json_add_u64(node, "tftp_over_cap_waited", ta.overdue);
		xpxe_json_add_u64(node, "tftp_over_cap_controlplane", ta.controlplanes);
		xpxe_json_add_u64(node, "tftp_over_cap_queue_full", ta.queue_full);
		xpxe_json_add_u64(node, "tftp_held_moved", ta.moved);
		xpxe_json_add_u64(node, "tftp_pace_ms", d->cfg.downloads.tftp_pace_ms);
		xpxe_json_add_u64(node, "tftp_http_backlog", d->cfg.downloads.tftp_http_backlog);
		xpxe_json_add_u64(node, "tftp_paced", ta.paced);
		xpxe_json_add_u64(node, "tftp_paced_total", ta.paced_total);
		xpxe_json_add_u64(node, "tftp_promoted", ta.promoted);
	}
	return node;
}

/* Each profile's files by architecture, as `xpxe status` shows them. */
static struct fy_node *profiles_status(struct daemon *d, struct fy_document *doc)
{
	struct fy_node *list = fy_node_create_sequence(doc);

	for (int i = 0; i < d->cfg.n_profiles; i++) {
		const struct xpxe_profile_cfg *p = &d->cfg.profiles[i];
		struct fy_node *node = fy_node_create_mapping(doc);
		static const enum xpxe_arch arches[] = { XPXE_ARCH_AMD64, XPXE_ARCH_ARM64 };

		xpxe_json_add_str(node, "name", p->name);
		for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
			struct fy_node *files = fy_node_create_mapping(doc);
			const char *kernel, *initrd;

			xpxe_profile_kernel(p, arches[a], &kernel, &initrd);
			xpxe_json_add_str(files, "kernel", kernel);
			xpxe_json_add_str(files, "initrd", initrd);
			if (arches[a] == XPXE_ARCH_ARM64 && p->arm64_grub)
				xpxe_json_add_str(files, "second_stage", XPXE_GRUB_ARM64_NAME);
			if (arches[a] == XPXE_ARCH_ARM64 && p->uki_arm64[0])
				xpxe_json_add_str(files, "uki", p->uki_arm64);
			xpxe_json_add_node(node, xpxe_arch_name(arches[a]), files);
		}
		fy_node_sequence_append(list, node);
	}
	return list;
}

/* HTTP's connections and their limits (the listener serves every interface). */
static struct fy_node *http_status(struct daemon *d, struct fy_document *doc)
{
	const struct xpxe_http *h = &d->http;
	struct fy_node *node = fy_node_create_mapping(doc);

	xpxe_json_add_u64(node, "connections_open", h->n_open);
	xpxe_json_add_u64(node, "connections_accepted", h->stats.conn_accepted);
	xpxe_json_add_u64(node, "refused_per_ip", h->stats.conn_refused_per_ip);
	xpxe_json_add_u64(node, "refused_total", h->stats.conn_refused_total);
	xpxe_json_add_u64(node, "timed_out", h->stats.conn_timed_out);
	xpxe_json_add_u64(node, "max_connections", h->limits.max_connections);
	xpxe_json_add_u64(node, "max_per_ip", h->limits.max_per_ip);
	xpxe_json_add_u64(node, "timeout_s", h->limits.timeout_s);
	xpxe_json_add_str(node, "url", h->base);
	xpxe_json_add_str(node, "https_url", h->tls_base);
	xpxe_json_add_bool(node, "configs_over_http", !d->cfg.tls.refuse_plain);
	xpxe_json_add_str(node, "ui", d->cfg.ui.listen);
	xpxe_json_add_node(node, "downloads", downloads_status(d, doc));
	xpxe_json_add_u64(node, "no_arch_files", h->stats.no_arch_files);
	return node;
}

static void reply_status(struct daemon *d, struct fy_document *doc, struct fy_node *reply)
{
	struct fy_node *list = fy_node_create_sequence(doc);
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	xpxe_json_add_str(reply, "version", XPXE_VERSION);
	xpxe_json_add_u64(reply, "pid", getpid());
	xpxe_json_add_u64(reply, "uptime_s", now.tv_sec - d->started.tv_sec);
	xpxe_json_add_str(reply, "socket", d->socket_path);
	xpxe_json_add_u64(reply, "state_save_errors", d->inv.save_errors);
	for (int i = 0; i < d->n_ifaces; i++)
		fy_node_sequence_append(list, iface_status(d, doc, &d->ifaces[i]));
	xpxe_json_add_node(reply, "interfaces", list);
	xpxe_json_add_node(reply, "http", http_status(d, doc));
	xpxe_json_add_node(reply, "profiles", profiles_status(d, doc));
	{
		struct fy_node *store = fy_node_create_mapping(doc);

		xpxe_store_status(d->store, doc, store);
		xpxe_json_add_node(reply, "store", store);
	}
}

/* Full mode's bindings of every interface, with when the program last answered each. */
static void reply_leases(struct daemon *d, struct fy_document *doc, struct fy_node *reply)
{
	struct fy_node *list = fy_node_create_sequence(doc);
	char mac[18], ip[INET_ADDRSTRLEN];
	bool full = false;

	for (int i = 0; i < d->n_ifaces; i++)
		full |= d->ifaces[i].dhcp.settings.enabled &&
			d->ifaces[i].dhcp.settings.mode == XPXE_MODE_FULL;
	xpxe_json_add_bool(reply, "full_mode", full);

	/* Each interface's table, then its VLANs' pools (named IFACE.VID, as their events). */
	for (int t = 0; t < d->n_ifaces * (1 + XPXE_VLAN_MAX); t++) {
		int i = t / (1 + XPXE_VLAN_MAX), net = t % (1 + XPXE_VLAN_MAX);
		const struct xpxe_dhcp_server *srv = &d->ifaces[i].dhcp;
		const struct xpxe_leases *l = net ? &srv->vlan_leases[net - 1] : &srv->leases;
		char iface[40];

		if (net && !l->pool_size)
			continue;
		if (net)
			xpxe_vlan_name(&srv->settings.vlans[net - 1], mac, sizeof(mac));
		snprintf(iface, sizeof(iface), "%s%s%s", d->ifaces[i].dp.ifname, net ? "." : "",
			 net ? mac : "");
		for (int j = 0; j < l->n; j++) {
			struct fy_node *item;
			const unsigned char *m = l->items[j].mac;

			if (l->items[j].offered)
				continue; /* only held for a REQUEST: not a lease (status counts
					     them) */
			item = fy_node_create_mapping(doc);

			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
				 m[2], m[3], m[4], m[5]);
			inet_ntop(AF_INET, &l->items[j].ip, ip, sizeof(ip));
			xpxe_json_add_str(item, "interface", iface);
			xpxe_json_add_str(item, "mac", mac);
			xpxe_json_add_str(item, "ip", ip);
			xpxe_json_add_u64(item, "expires", (unsigned long long)l->items[j].expires);
			/* The responder that made it, with a shared store ("": this one's file). */
			xpxe_json_add_str(item, "by", l->items[j].by);
			xpxe_json_add_str(item, "family", "ipv4");
			fy_node_sequence_append(list, item);
		}
	}
	/* DHCPv6 bindings (full mode with --pool6/--reserve6): with the client's DUID and IAID. */
	for (int i = 0; i < d->n_ifaces; i++) {
		const struct xpxe_leases6 *l = &d->ifaces[i].dhcp6.leases;
		char ip6[INET6_ADDRSTRLEN], duid[2 * XPXE_DHCP6_DUID_LEN_MAX + 1];

		for (int j = 0; d->ifaces[i].dhcp6.running && j < l->n; j++) {
			const struct xpxe_lease6 *b = &l->items[j];
			struct fy_node *item;

			if (b->offered)
				continue;
			item = fy_node_create_mapping(doc);
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b->mac[0],
				 b->mac[1], b->mac[2], b->mac[3], b->mac[4], b->mac[5]);
			inet_ntop(AF_INET6, &b->ip, ip6, sizeof(ip6));
			for (unsigned int k = 0; k < b->duid_len; k++)
				snprintf(duid + 2 * k, 3, "%02x", b->duid[k]);
			duid[2 * b->duid_len] = '\0';
			xpxe_json_add_str(item, "interface", d->ifaces[i].dp.ifname);
			xpxe_json_add_str(item, "mac", mac);
			xpxe_json_add_str(item, "ip", ip6);
			xpxe_json_add_u64(item, "expires", (unsigned long long)b->expires);
			xpxe_json_add_str(item, "by", "");
			xpxe_json_add_str(item, "family", "ipv6");
			xpxe_json_add_u64(item, "iaid", b->iaid);
			xpxe_json_add_str(item, "duid", duid);
			fy_node_sequence_append(list, item);
		}
	}
	xpxe_json_add_node(reply, "leases", list);
}

/* A program's time (CLOCK_MONOTONIC ns) as CLOCK_REALTIME: its events are read up to 1 s late. */
static const struct timespec *mono_to_realtime(__u64 ns, struct timespec *out)
{
	struct timespec mono, real;
	__s64 t;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	t = (__s64)real.tv_sec * 1000000000 + real.tv_nsec -
	    ((__s64)mono.tv_sec * 1000000000 + mono.tv_nsec - (__s64)ns);
	out->tv_sec = t / 1000000000;
	out->tv_nsec = t % 1000000000;
	return out;
}

static int on_dp_event(void *ctx, void *data, size_t size)
{
	const struct served *sv = ctx;
	const struct xpxe_dp_event *e = data;
	char mac[18], ip[INET_ADDRSTRLEN], iface[32], vlan[16];
	const struct xpxe_vlan_cfg *v;
	struct timespec when;

	if (size < sizeof(*e) || e->type >= XPXE_EV_MAX)
		return 0;
	if (e->type == XPXE_EV_TFTP_DONE || e->type == XPXE_EV_TFTP_ABORTED) {
		if (size >= sizeof(struct xpxe_dp_tftp_event) && sv->tftp)
			xpxe_tftp_on_end(sv->tftp, sv->dp.ifindex, data);
		return 0;
	}
	/* A Reply on 4011 to send again (ctx is the served interface, not const: its server's). */
	if (e->type == XPXE_EV_DHCP6_REPLY_4011) {
		if (size >= sizeof(struct xpxe_dp_dhcp6_reply_event))
			xpxe_dhcp6_server_repeat(&((struct served *)ctx)->dhcp6, data);
		return 0;
	}
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1], e->mac[2],
		 e->mac[3], e->mac[4], e->mac[5]);
	inet_ntop(AF_INET, &e->ip, ip, sizeof(ip));
	/* A boot server request (4011) comes from the machine's own address: its config goes
	 * there. */
	if (e->type == XPXE_EV_DHCP_ACK_4011 && e->ip) {
		char key[80];

		pthread_mutex_lock(&sv->inv->lock);
		xpxe_inventory_key_of_mac(sv->inv, e->mac, key, sizeof(key));
		xpxe_inventory_learn(sv->inv, key, (struct in_addr){ e->ip }, "dhcp-4011");
		pthread_mutex_unlock(&sv->inv->lock);
	}
	/* On a VLAN (its subnet holds the address): IFACE.VID, as a VLAN device would be named. */
	v = xpxe_vlan_of_ip(&sv->dhcp.settings, sv->dp.ifname, (struct in_addr){ e->ip });
	if (v) {
		xpxe_vlan_name(v, vlan, sizeof(vlan));
		snprintf(iface, sizeof(iface), "%s.%s", sv->dp.ifname, vlan);
	} else {
		snprintf(iface, sizeof(iface), "%s", sv->dp.ifname);
	}
	xpxe_event_dhcp(mono_to_realtime(e->ts_ns, &when), e->type, mac, e->ip ? ip : NULL, iface,
			e->boot);
	return 0;
}

static void serve_stop(struct daemon *d, struct served *sv)
{
	ring_buffer__free(sv->events);
	sv->events = NULL;
	xpxe_dhcp_server_stop(&sv->dhcp);
	xpxe_dhcp6_server_stop(&sv->dhcp6);
	if (d->tftp)
		xpxe_tftp_remove_iface(d->tftp, sv->dp.ifindex);
	xpxe_assets_remove_outer(&d->assets, xpxe_dataplane_tftp_assets_fd(&sv->dp));
	xpxe_vlan_stop(&sv->dp, &sv->vlan);
	xpxe_dataplane_detach(&sv->dp);
}

/* --keep-attached: this daemon goes, the data plane stays (see xpxe_dataplane_release). */
static void serve_release(struct daemon *d, struct served *sv)
{
	const struct xpxe_dhcp_settings *s = &sv->dhcp.settings;

	/*
	 * Nobody watches port 67 until a daemon adopts the data plane: a DHCP server started
	 * meanwhile must see the DISCOVERs, so they go up (tc answers) as with a server here.
	 */
	if (s->enabled && s->mode == XPXE_MODE_PROXY && s->local_server == XPXE_LOCAL_SERVER_AUTO &&
	    xpxe_dhcp_set_local_server(sv->dp.skel, true) > 0)
		log_info("%s: PXE DISCOVERs go up to the stack (tc answers them) until a daemon "
			 "watches port 67 again",
			 sv->dp.ifname);
	ring_buffer__free(sv->events);
	sv->events = NULL;
	xpxe_dhcp_server_stop(&sv->dhcp);
	xpxe_dhcp6_server_stop(&sv->dhcp6);
	xpxe_assets_remove_outer(&d->assets, xpxe_dataplane_tftp_assets_fd(&sv->dp));
	xpxe_dataplane_release(&sv->dp);
}

static void reply_detach(struct daemon *d, struct fy_node *request, struct fy_node *reply)
{
	const char *ifname = xpxe_json_str(request, "/iface");

	if (!ifname) {
		xpxe_json_add_str(reply, "error", "detach needs \"iface\"");
		return;
	}
	for (int i = 0; i < d->n_ifaces; i++) {
		if (strcmp(d->ifaces[i].dp.ifname, ifname))
			continue;
		log_info("%s: detach requested over the control socket", ifname);
		serve_stop(d, &d->ifaces[i]);
		d->ifaces[i] = d->ifaces[--d->n_ifaces];
		d->ifaces[i].dhcp.dp = &d->ifaces[i].dp; /* it moved */
		if (d->ifaces[i].events) {
			/* The ring's callback context moved with it: make it anew. */
			ring_buffer__free(d->ifaces[i].events);
			d->ifaces[i].events =
			    ring_buffer__new(xpxe_dataplane_events_fd(&d->ifaces[i].dp),
					     on_dp_event, &d->ifaces[i], NULL);
		}
		xpxe_json_add_str(reply, "detached", ifname);
		if (!d->n_ifaces) {
			log_info("no interface left to serve; exiting");
			d->stop = true;
		}
		return;
	}
	xpxe_json_add_str(reply, "error", "this daemon does not serve that interface");
	xpxe_json_add_str(reply, "code", "not_served");
}

static void reply_reload(struct daemon *d, struct fy_node *reply);
static int reload(struct daemon *d, char *why, size_t why_size);

static void add_time(struct fy_node *node, const char *key, struct timespec t)
{
	xpxe_json_add_u64(node, key, (unsigned long long)t.tv_sec * 1000 + t.tv_nsec / 1000000);
}

/* The fleet view: each machine's stage, address, bytes and last problem. */
static void reply_fleet(struct fy_document *doc, struct fy_node *reply)
{
	static struct xpxe_machine_view views[4096];
	struct fy_node *list = fy_node_create_sequence(doc);
	int n = xpxe_events_fleet(views, 4096);

	for (int i = 0; i < n; i++) {
		struct fy_node *item = fy_node_create_mapping(doc);

		xpxe_json_add_str(item, "mac", views[i].mac);
		xpxe_json_add_str(item, "hostname", views[i].hostname);
		xpxe_json_add_str(item, "ip", views[i].ip);
		xpxe_json_add_str(item, "stage", xpxe_stage_names[views[i].stage]);
		xpxe_json_add_u64(item, "stage_index", views[i].stage);
		add_time(item, "first_ms", views[i].first);
		add_time(item, "last_ms", views[i].last);
		xpxe_json_add_u64(item, "bytes", views[i].bytes);
		xpxe_json_add_u64(item, "dhcp_rounds", views[i].dhcp_rounds);
		xpxe_json_add_str(item, "problem", views[i].problem);
		if (views[i].xfer.state) {
			const struct xpxe_transfer_view *x = &views[i].xfer;
			struct fy_node *t = fy_node_create_mapping(doc);

			xpxe_json_add_str(t, "file", x->file);
			xpxe_json_add_str(t, "path", x->path);
			xpxe_json_add_str(t, "state", xpxe_transfer_state_names[x->state]);
			xpxe_json_add_u64(t, "size", x->size);
			xpxe_json_add_u64(t, "done", x->done);
			xpxe_json_add_u64(t, "retransmits", x->retransmits);
			xpxe_json_add_node(item, "transfer", t);
		}
		fy_node_sequence_append(list, item);
	}
	xpxe_json_add_node(reply, "machines", list);
}

/* Events after "since", of one "machine" (any selector) or "mac" when given; "next" says where
 * to ask from next time. */
static void reply_events(struct daemon *d, struct fy_document *doc, struct fy_node *request,
			 struct fy_node *reply)
{
	static struct xpxe_event events[512];
	struct fy_node *list;
	struct xpxe_machines_ctl c = { .cfg = &d->cfg, .inv = &d->inv, .http = &d->http };
	char macs[XPXE_CFG_MAX_MACS][18];
	const char *want = xpxe_json_str(request, "/machine"), *why = NULL;
	uint64_t next;
	int n, n_macs = 0;

	if (!want)
		want = xpxe_json_str(request, "/mac");
	if (want) {
		n_macs = xpxe_machines_macs(&c, want, macs, XPXE_CFG_MAX_MACS, &why);
		if (n_macs < 0) {
			xpxe_json_add_str(reply, "error", why);
			xpxe_json_add_str(reply, "code", "not_found");
			return;
		}
	}
	n = xpxe_events_since(xpxe_json_u64(request, "/since", 0), (const char(*)[18])macs, n_macs,
			      events, 512, &next);
	list = fy_node_create_sequence(doc); /* after the refusal above, which would leak it */
	for (int i = 0; i < n; i++)
		fy_node_sequence_append(list, xpxe_json_event(doc, &events[i]));
	xpxe_json_add_node(reply, "events", list);
	xpxe_json_add_u64(reply, "next", next);
}
static int reload(struct daemon *d, char *why, size_t why_size);
static int refresh_grub_cfg(struct daemon *d);

/* The machine commands, with every interface's DHCP side. */
static bool machines_reply(struct daemon *d, const char *cmd, struct fy_document *doc,
			   struct fy_node *request, struct fy_node *reply)
{
	struct xpxe_machines_ctl c = {
		.cfg = &d->cfg, .inv = &d->inv, .http = &d->http, .store = d->store
	};

	for (int i = 0; i < d->n_ifaces; i++)
		c.dhcp[c.n_dhcp++] = &d->ifaces[i].dhcp;
	return xpxe_machines_reply(&c, cmd, doc, request, reply);
}

static char *handle_request(struct daemon *d, const char *text)
{
	struct fy_document *req = xpxe_json_parse(text, strlen(text));
	struct fy_document *doc = fy_document_create(NULL);
	struct fy_node *reply = fy_node_create_mapping(doc);
	const char *cmd = req ? xpxe_json_str(fy_document_root(req), "/cmd") : NULL;
	char *out;

	fy_document_set_root(doc, reply);
	if (!req)
		xpxe_json_add_str(reply, "error", "request is not valid JSON");
	else if (!cmd)
		xpxe_json_add_str(reply, "error", "request has no \"cmd\"");
	else if (!strcmp(cmd, "status"))
		reply_status(d, doc, reply);
	else if (!strcmp(cmd, "detach"))
		reply_detach(d, fy_document_root(req), reply);
	else if (!strcmp(cmd, "leases"))
		reply_leases(d, doc, reply);
	else if (!strcmp(cmd, "reload"))
		reply_reload(d, reply);
	else if (!strcmp(cmd, "fleet")) {
		reply_fleet(doc, reply);
		/* Who downloads and who waits for it (xpxe watch's line of downloads). */
		xpxe_json_add_node(reply, "downloads", downloads_status(d, doc));
	} else if (!strcmp(cmd, "events"))
		reply_events(d, doc, fy_document_root(req), reply);
	else if (machines_reply(d, cmd, doc, fy_document_root(req), reply))
		;
	else if (!strcmp(cmd, "assets"))
		reply_assets(d, doc, fy_document_root(req), reply);
	else
		xpxe_json_add_str(reply, "error", "unknown command");
	out = xpxe_json_emit(doc);
	fy_document_destroy(doc);
	fy_document_destroy(req);
	return out;
}

static void serve_connection(struct daemon *d, int listen_fd)
{
	char *request = NULL, *reply;
	int fd, err;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	err = xpxe_ctl_read_request(fd, &request);
	if (err) {
		log_debug("control socket: dropped a client: %s", strerror(-err));
		close(fd);
		return;
	}
	reply = handle_request(d, request);
	if (reply && xpxe_ctl_write_reply(fd, reply))
		log_debug("control socket: client left before its reply");
	free(reply);
	free(request);
	close(fd);
}

static int block_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	/* A CLI that disconnects early must not kill the daemon with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* What changed in the shared store (any responder's doing) into this one's maps and files. */
static void take_store_changes(struct daemon *d)
{
	struct xpxe_store_changes ch;

	xpxe_store_take(d->store, &ch);
	if (ch.machines_changed) {
		struct xpxe_machines_ctl c = {
			.cfg = &d->cfg, .inv = &d->inv, .http = &d->http, .store = d->store
		};

		for (int i = 0; i < d->n_ifaces; i++)
			c.dhcp[c.n_dhcp++] = &d->ifaces[i].dhcp;
		xpxe_machines_sync(&c, ch.machines, ch.n_machines);
	}
	if (ch.marks_changed)
		xpxe_inventory_sync_marks(&d->inv, ch.marks, ch.n_marks);
	if (ch.n_leases || ch.leases_snapshot)
		for (int i = 0; i < d->n_ifaces; i++)
			xpxe_dhcp_server_apply(&d->ifaces[i].dhcp, ch.leases, ch.n_leases,
					       ch.leases_snapshot, ch.snapshot_rev);
	xpxe_store_changes_free(&ch);
}

/*
 * Proxy mode, once a second: whether a DHCP server on this host started or stopped (a UDP
 * socket on port 67 in this network namespace), so PXE DISCOVERs go up to it and tc answers,
 * or XDP answers them (XPXE_DHCP_F_LOCAL_SERVER). Logged when it changes.
 */
static void sweep_local_server(struct daemon *d)
{
	bool looked = false, bound = false;

	for (int i = 0; i < d->n_ifaces; i++) {
		struct served *sv = &d->ifaces[i];
		const struct xpxe_dhcp_settings *s = &sv->dhcp.settings;
		bool on;
		int ret;

		if (!s->enabled || s->mode != XPXE_MODE_PROXY)
			continue;
		if (!looked) {
			bound = xpxe_dhcp_port67_bound();
			looked = true;
		}
		on = xpxe_dhcp_local_server(s, bound);
		ret = xpxe_dhcp_set_local_server(sv->dp.skel, on);
		if (ret > 0)
			log_info("%s: %s", sv->dp.ifname, xpxe_dhcp_local_server_says(s, on));
		else if (ret < 0)
			log_error("%s: cannot update dhcp_config: %s", sv->dp.ifname,
				  strerror(-ret));
	}
}

static void run_loop(struct daemon *d, int listen_fd, int sig_fd)
{
	struct pollfd pfds[4 + 3 * XPXE_MAX_IFACES];
	time_t ticked = 0;
	int n;

	while (!d->stop) {
		/* Rebuilt each round: a detach changes the set of interfaces. */
		pfds[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		pfds[1] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		pfds[2] = (struct pollfd){ .fd = xpxe_tftp_fd(d->tftp), .events = POLLIN };
		for (n = 0; n < d->n_ifaces; n++) {
			pfds[3 + n] =
			    (struct pollfd){ .fd = xpxe_dhcp_server_fd(&d->ifaces[n].dhcp),
					     .events = POLLIN };
			pfds[3 + XPXE_MAX_IFACES + n] =
			    (struct pollfd){ .fd = d->ifaces[n].events
						       ? ring_buffer__epoll_fd(d->ifaces[n].events)
						       : -1,
					     .events = POLLIN };
		}
		/* Unused slots between the groups have fd -1: poll skips them. */
		for (int i = n; i < XPXE_MAX_IFACES; i++) {
			pfds[3 + i] = (struct pollfd){ .fd = -1 };
			pfds[3 + XPXE_MAX_IFACES + i] = (struct pollfd){ .fd = -1 };
		}
		for (int i = 0; i < XPXE_MAX_IFACES; i++)
			pfds[3 + 2 * XPXE_MAX_IFACES + i] =
			    (struct pollfd){ .fd = i < n ? xpxe_dhcp6_server_fd(&d->ifaces[i].dhcp6)
							 : -1,
					     .events = POLLIN };
		pfds[3 + 3 * XPXE_MAX_IFACES] =
		    (struct pollfd){ .fd = xpxe_store_fd(d->store), .events = POLLIN };
		if (poll(pfds, 4 + 3 * XPXE_MAX_IFACES, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			return;
		}
		if (pfds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				char why[1100];

				log_info("received SIGHUP: reloading");
				if (reload(d, why, sizeof(why)))
					log_error("reload refused: %s", why);
				continue;
			}
			log_info("received %s; %s", strsignal(si.ssi_signo),
				 d->keep_attached
				     ? "exiting with the data plane left attached "
				       "(--keep-attached): it keeps answering from its "
				       "pinned maps, the next 'xpxe serve' adopts it, "
				       "'xpxe detach -i IFACE' removes it"
				     : "detaching and exiting");
			d->signalled = true;
			return;
		}
		for (int i = 0; i < n && i < d->n_ifaces; i++) {
			if (pfds[3 + i].revents & POLLIN)
				xpxe_dhcp_server_process(&d->ifaces[i].dhcp);
			if (pfds[3 + 2 * XPXE_MAX_IFACES + i].revents & POLLIN)
				xpxe_dhcp6_server_process(&d->ifaces[i].dhcp6);
			/*
			 * Each round, not only when woken: the ends of TFTP transfers are
			 * written without a wakeup (it cost ~6 us a record here), and the
			 * TFTP timer brings a round each second, before its sweep.
			 */
			if (d->ifaces[i].events)
				ring_buffer__consume(d->ifaces[i].events);
		}
		if (pfds[1].revents & POLLIN)
			serve_connection(d, listen_fd);
		if (pfds[2].revents & POLLIN)
			xpxe_tftp_process(d->tftp);
		if (pfds[3 + 3 * XPXE_MAX_IFACES].revents & POLLIN)
			take_store_changes(d);
		if (time(NULL) != ticked) {
			ticked = time(NULL);
			for (int i = 0; i < d->n_ifaces; i++) {
				xpxe_dhcp_server_tick(&d->ifaces[i].dhcp);
				xpxe_dhcp6_server_tick(&d->ifaces[i].dhcp6);
			}
			xpxe_http_tick(&d->http); /* downloads waiting past their bound go in */
			sweep_local_server(d);
		}
		xpxe_inventory_save_learned(&d->inv, false);
		xpxe_inventory_retry_state(&d->inv);
		if (time(NULL) != d->grub_checked) {
			d->grub_checked = time(NULL);
			refresh_grub_cfg(d);
		}
	}
}

static bool file_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Every asset of the config: TFTP serves them from maps, HTTP from their files. */
static int load_assets(struct daemon *d)
{
	for (int i = 0; i < d->cfg.n_assets; i++) {
		int err =
		    xpxe_assets_load(&d->assets, d->cfg.assets[i].name, d->cfg.assets[i].path);

		if (err)
			return err;
	}
	note_loaded_assets(d);
	return 0;
}

/* Debian's iPXE binaries join the assets under the names nothing else took. */
static void add_default_assets(struct xpxe_config *cfg)
{
	static const char *const defaults[] = { XPXE_DEFAULT_ASSETS };

	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		struct xpxe_asset_cfg *a = &cfg->assets[cfg->n_assets];

		if (xpxe_config_asset(cfg, defaults[i]) || cfg->n_assets == XPXE_CFG_MAX_ASSETS)
			continue;
		snprintf(a->path, sizeof(a->path), "%s/%s", XPXE_IPXE_DIR, defaults[i]);
		if (!file_exists(a->path)) {
			log_info("no %s (Debian package ipxe): not serving %s", a->path,
				 defaults[i]);
			continue;
		}
		snprintf(a->name, sizeof(a->name), "%s", defaults[i]);
		cfg->n_assets++;
	}
}

static bool has_grub_profile(const struct xpxe_config *cfg)
{
	return xpxe_boot_uses_grub(cfg);
}

/* Debian's signed shim and GRUB join the assets of a config with a grub profile. */
static void add_grub_assets(struct xpxe_config *cfg)
{
	static const char *const files[][2] = {
		{ "shimx64.efi", XPXE_SHIM_X64 },
		{ "grubx64.efi", XPXE_GRUB_X64 },
		{ "shimaa64.efi", XPXE_SHIM_ARM64 },
		{ "grubaa64.efi", XPXE_GRUB_ARM64 },
	};

	if (!has_grub_profile(cfg))
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct xpxe_asset_cfg *a = &cfg->assets[cfg->n_assets];

		if (xpxe_config_asset(cfg, files[i][0]) || cfg->n_assets == XPXE_CFG_MAX_ASSETS ||
		    !file_exists(files[i][1]))
			continue;
		snprintf(a->name, sizeof(a->name), "%s", files[i][0]);
		snprintf(a->path, sizeof(a->path), "%s", files[i][1]);
		cfg->n_assets++;
	}
}

/*
 * GRUB's grub.cfg, served over TFTP as grub/grub.cfg: made again from the
 * inventory and the profiles, and loaded when it differs from what TFTP serves
 * (boot-once marks, reloads, machines added). The daemon's loop calls this
 * once a second, so a storm of installs costs one load a second at most.
 */
static int refresh_grub_cfg(struct daemon *d)
{
	char *text;
	size_t len;
	int err;

	if (!has_grub_profile(&d->cfg))
		return 0;
	pthread_mutex_lock(&d->inv.lock);
	text = xpxe_grub_render(&d->cfg, &d->inv, d->http.config_base, &len);
	pthread_mutex_unlock(&d->inv.lock);
	if (!text)
		return -ENOMEM;
	if (d->grub_cfg && d->grub_cfg_len == len && !memcmp(d->grub_cfg, text, len)) {
		free(text);
		return 0;
	}
	err = xpxe_assets_load_text(&d->assets, XPXE_GRUB_CFG_NAME, text, len);
	if (err) {
		log_error("cannot serve %s over TFTP: %s", XPXE_GRUB_CFG_NAME, strerror(-err));
		free(text);
		return err;
	}
	free(d->grub_cfg);
	d->grub_cfg = text;
	d->grub_cfg_len = len;
	return 0;
}

/* The quick start: one profile, "default", made of the flags. */
static int config_from_flags(struct xpxe_config *cfg, const struct xpxe_serve_opts *opts,
			     struct xpxe_config_error *err)
{
	struct xpxe_profile_cfg *p = &cfg->profiles[0];

	xpxe_config_defaults(cfg);
	cfg->dhcp = opts->dhcp;
	p->dhcp = opts->dhcp.profile;
	memcpy(p->boot_file_set, opts->dhcp.boot_file_set, sizeof(p->boot_file_set));
	for (int i = 0; i < opts->n_assets; i++) {
		struct xpxe_asset_cfg *a = &cfg->assets[cfg->n_assets++];

		snprintf(a->name, sizeof(a->name), "%s", opts->assets[i].name);
		snprintf(a->path, sizeof(a->path), "%s", opts->assets[i].path);
	}
	if (xpxe_config_asset(cfg, "vmlinuz"))
		snprintf(p->kernel, sizeof(p->kernel), "vmlinuz");
	if (xpxe_config_asset(cfg, "initramfs"))
		snprintf(p->initrd, sizeof(p->initrd), "initramfs");
	if (xpxe_config_asset(cfg, "vmlinuz-arm64"))
		snprintf(p->kernel_arm64, sizeof(p->kernel_arm64), "vmlinuz-arm64");
	if (xpxe_config_asset(cfg, "initramfs-arm64"))
		snprintf(p->initrd_arm64, sizeof(p->initrd_arm64), "initramfs-arm64");
	if (xpxe_config_asset(cfg, "uki-arm64"))
		snprintf(p->uki_arm64, sizeof(p->uki_arm64), "uki-arm64");
	if (xpxe_config_asset(cfg, "uki"))
		snprintf(p->uki, sizeof(p->uki), "uki");
	if (opts->tls_cert)
		snprintf(cfg->tls.cert, sizeof(cfg->tls.cert), "%s", opts->tls_cert);
	if (opts->tls_key)
		snprintf(cfg->tls.key, sizeof(cfg->tls.key), "%s", opts->tls_key);
	snprintf(p->cmdline, sizeof(p->cmdline), "%s", opts->cmdline ? opts->cmdline : "");
	if (opts->talos_config)
		snprintf(p->talos_config, sizeof(p->talos_config), "%s", opts->talos_config);
	p->transport = (enum xpxe_transport)opts->transport;
	if (opts->dhcp.http_base[0])
		snprintf(cfg->http_listen, sizeof(cfg->http_listen), "%s",
			 opts->dhcp.http_base + strlen("http://"));
	/* --ui, --ui-allow: main.c checked them */
	if (opts->ui_listen)
		snprintf(cfg->ui.listen, sizeof(cfg->ui.listen), "%s", opts->ui_listen);
	if (opts->n_ui_allow) {
		cfg->ui.n_allow = opts->n_ui_allow;
		memcpy(cfg->ui.allow, opts->ui_allow, sizeof(cfg->ui.allow));
	}
	cfg->default_profile = opts->dhcp.answer_unknown ? 0 : -1;
	return xpxe_config_check(cfg, err);
}

/* The config this daemon runs: the file, else the flags; -i and --state-dir apply to both. */
/*
 * The networks of each interface, for the checks of the pool and reserved addresses: its
 * own address and network, and those its routes send through it (relayed networks).
 */
static void find_subnets(struct xpxe_config *cfg)
{
	struct in_addr nets[XPXE_CFG_MAX_SUBNETS], masks[XPXE_CFG_MAX_SUBNETS];

	cfg->n_subnets = 0;
	for (int i = 0; i < cfg->n_interfaces; i++) {
		struct xpxe_subnet_cfg *n = &cfg->subnets[cfg->n_subnets];

		if (xpxe_interface_ipv4(cfg->interfaces[i], &n->addr, &n->mask))
			continue;
		snprintf(n->ifname, sizeof(n->ifname), "%s", cfg->interfaces[i]);
		n->routed = false;
		cfg->n_subnets++;
	}
	for (int i = 0; i < cfg->n_interfaces; i++) {
		FILE *f = fopen("/proc/net/route", "r");
		int n = f ? xpxe_route4_networks(f, cfg->interfaces[i], nets, masks,
						 XPXE_CFG_MAX_SUBNETS - cfg->n_subnets)
			  : 0;

		if (f)
			fclose(f);
		for (int j = 0; j < n; j++) {
			struct xpxe_subnet_cfg *s = &cfg->subnets[cfg->n_subnets++];

			snprintf(s->ifname, sizeof(s->ifname), "%s", cfg->interfaces[i]);
			s->addr = nets[j];
			s->mask = masks[j];
			s->routed = true;
		}
	}
	/* The trunk's VLANs: their addresses go on the interface when it is served. */
	for (int i = 0;
	     i < cfg->dhcp.n_vlans && cfg->n_interfaces && cfg->n_subnets < XPXE_CFG_MAX_SUBNETS;
	     i++) {
		struct xpxe_subnet_cfg *n = &cfg->subnets[cfg->n_subnets++];

		snprintf(n->ifname, sizeof(n->ifname), "%s", cfg->dhcp.vlan_ifname);
		n->addr = cfg->dhcp.vlans[i].server_ip;
		n->mask.s_addr = htonl(~0u << (32 - cfg->dhcp.vlans[i].prefix));
		n->routed = false;
	}
}

/*
 * The machines added at run time (STATE_DIR/machines.yaml) join the config's.
 * At start a file that cannot be taken is reported and moved aside (the daemon
 * serves the config file's machines); at a reload it refuses the reload.
 */
static int load_added_machines(struct xpxe_config *cfg, bool starting,
			       struct xpxe_config_error *err)
{
	char path[XPXE_CFG_PATH_MAX + 32];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, XPXE_MACHINES_FILE);
	ret = xpxe_config_load_machines(path, cfg, err);
	if (!ret || !starting)
		return ret;
	log_error("%s", err->text);
	log_error("the machines added with 'xpxe machines add' cannot be taken: serving the "
		  "config's machines only");
	xpxe_state_move_aside(path);
	return 0;
}

static int load_config(struct xpxe_config *cfg, const struct xpxe_serve_opts *opts, bool starting,
		       struct xpxe_config_error *err)
{
	int ret;

	if (opts->config_path)
		ret = xpxe_config_load(opts->config_path, cfg, err);
	else
		ret = config_from_flags(cfg, opts, err);
	if (ret)
		return ret;
	if (opts->n_ifnames) {
		cfg->n_interfaces = 0;
		for (int i = 0; i < opts->n_ifnames; i++)
			snprintf(cfg->interfaces[cfg->n_interfaces++], 16, "%s", opts->ifnames[i]);
	}
	if (!cfg->n_interfaces) {
		snprintf(err->text, sizeof(err->text),
			 "%s: no interface to serve: list them under 'interfaces' or pass -i",
			 opts->config_path);
		xpxe_config_free(cfg);
		return -EINVAL;
	}
	if (opts->state_dir)
		snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", opts->state_dir);
	if (opts->store_url &&
	    (xpxe_store_parse_url(&cfg->store, opts->store_url, err->text, sizeof(err->text)) ||
	     xpxe_store_cfg_finish(&cfg->store, err->text, sizeof(err->text)))) {
		xpxe_config_free(cfg);
		return -EINVAL;
	}
	if (opts->http_max_connections)
		cfg->http_limits.max_connections = opts->http_max_connections;
	if (opts->http_max_per_ip)
		cfg->http_limits.max_per_ip = opts->http_max_per_ip;
	if (opts->http_timeout_s)
		cfg->http_limits.timeout_s = opts->http_timeout_s;
	if (opts->max_downloads_set)
		cfg->downloads.max = opts->max_downloads;
	if (opts->download_max_wait_set)
		cfg->downloads.max_wait_s = opts->download_max_wait_s;
	if (opts->max_tftp_downloads_set)
		cfg->downloads.tftp_max = opts->max_tftp_downloads;
	if (opts->tftp_max_wait_set)
		cfg->downloads.tftp_max_wait_s = opts->tftp_max_wait_s;
	if (opts->tftp_pace_ms_set)
		cfg->downloads.tftp_pace_ms = opts->tftp_pace_ms;
	if (opts->tftp_http_backlog_set)
		cfg->downloads.tftp_http_backlog = opts->tftp_http_backlog;
	if (opts->tftp_port_range_set) {
		cfg->downloads.tftp_port_low = opts->tftp_port_low;
		cfg->downloads.tftp_port_high = opts->tftp_port_high;
	}
	/* Each transfer (IPv4's or IPv6's) binds a port of its own from the range. */
	if (cfg->downloads.tftp_port_high - cfg->downloads.tftp_port_low + 1 <
	    (opts->tftp_max_sessions ? opts->tftp_max_sessions : XPXE_TFTP_MAX_SESSIONS_DEFAULT)) {
		snprintf(
		    err->text, sizeof(err->text),
		    "the TFTP port range %u-%u (downloads.tftp_port_range, "
		    "--tftp-port-range) holds %u ports, fewer than the %u transfers "
		    "--tftp-max-sessions lets run at once: each needs a port of its own; widen "
		    "the range or lower --tftp-max-sessions",
		    cfg->downloads.tftp_port_low, cfg->downloads.tftp_port_high,
		    cfg->downloads.tftp_port_high - cfg->downloads.tftp_port_low + 1,
		    opts->tftp_max_sessions ? opts->tftp_max_sessions
					    : XPXE_TFTP_MAX_SESSIONS_DEFAULT);
		xpxe_config_free(cfg);
		return -EINVAL;
	}
	/* Again, now that the interfaces' subnets are known; then the added machines. */
	find_subnets(cfg);
	ret = xpxe_config_check(cfg, err);
	if (!ret)
		ret = load_added_machines(cfg, starting, err);
	if (ret) {
		xpxe_config_free(cfg);
		return ret;
	}
	if (!opts->no_default_assets) {
		add_default_assets(cfg);
		add_grub_assets(cfg);
	}
	ret = xpxe_boot_check_profiles(cfg, err);
	if (ret) {
		xpxe_config_free(cfg);
		return ret;
	}
	if (cfg->http_listen[0] && !cfg->dhcp.http_base[0])
		snprintf(cfg->dhcp.http_base, sizeof(cfg->dhcp.http_base), "http://%s",
			 cfg->http_listen);
	/* The files it names, before anything is loaded from them (start, check, reload). */
	ret = xpxe_preflight_files(cfg, err);
	if (ret)
		xpxe_config_free(cfg);
	return ret;
}

/* The DHCP side reads the inventory and the profiles from the config, where it now lives. */
static void link_config(struct xpxe_config *cfg)
{
	cfg->dhcp.profiles = cfg->profiles;
	cfg->dhcp.n_profiles = cfg->n_profiles;
	cfg->dhcp.default_profile = cfg->default_profile;
	cfg->dhcp.machines = cfg->machines;
	cfg->dhcp.n_machines = cfg->n_machines;
}

static int make_config(struct daemon *d, const struct xpxe_serve_opts *opts)
{
	struct xpxe_config_error err;
	int ret = load_config(&d->cfg, opts, true, &err);

	if (ret) {
		log_error("%s", err.text);
		return ret;
	}
	link_config(&d->cfg);
	return 0;
}

/* The text of a config's mode, for messages. */
static const char *mode_text(const struct xpxe_config *cfg)
{
	return !cfg->dhcp.enabled ? "off" : cfg->dhcp.mode == XPXE_MODE_FULL ? "full" : "proxy";
}

static void interfaces_text(const struct xpxe_config *cfg, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < cfg->n_interfaces && n < size; i++)
		n += snprintf(out + n, size - n, "%s%s", i ? "," : "", cfg->interfaces[i]);
}

static void pool_text(const struct xpxe_config *cfg, char *out, size_t size)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (!cfg->dhcp.pool_first.s_addr) {
		snprintf(out, size, "none");
		return;
	}
	inet_ntop(AF_INET, &cfg->dhcp.pool_first, a, sizeof(a));
	inet_ntop(AF_INET, &cfg->dhcp.pool_last, b, sizeof(b));
	snprintf(out, size, "%s-%s", a, b);
}

/*
 * Whether a VLAN's pool changed: each pool's table is its VLAN's place in the list (its net),
 * set up at the start; VLANs without pools may come and go (add them at the end of the list).
 * WAS and NOW say which, for the message.
 */
/* Whether every machine of A with an ip6 has the same MACs' ip6 in B. */
static bool ip6_machines_in(const struct xpxe_config *a, const struct xpxe_config *b)
{
	for (int i = 0; i < a->n_machines; i++) {
		const struct xpxe_machine_cfg *m = &a->machines[i];
		bool found = IN6_IS_ADDR_UNSPECIFIED(&m->ip6);

		for (int j = 0; !found && j < b->n_machines; j++)
			found =
			    !memcmp(&b->machines[j].ip6, &m->ip6, sizeof(m->ip6)) &&
			    b->machines[j].n_macs == m->n_macs &&
			    !memcmp(b->machines[j].macs, m->macs, sizeof(m->macs[0]) * m->n_macs);
		if (!found)
			return false;
	}
	return true;
}

/*
 * Whether the DHCPv6 reservations changed (--reserve6, a machine's ip6): the DHCPv6 server
 * takes them, and whether it runs at all, at start only, while a reload would change what
 * xdp_pxe passes up to it.
 */
static bool reservations6_changed(const struct xpxe_config *old, const struct xpxe_config *new)
{
	if (old->dhcp.n_reservations6 != new->dhcp.n_reservations6)
		return true;
	for (int i = 0; i < old->dhcp.n_reservations6; i++) {
		const struct xpxe_reservation6 *a = &old->dhcp.reservations6[i];
		const struct xpxe_reservation6 *b = &new->dhcp.reservations6[i];

		if (memcmp(a->mac, b->mac, sizeof(a->mac)) || memcmp(&a->ip, &b->ip, sizeof(a->ip)))
			return true;
	}
	return !ip6_machines_in(old, new) || !ip6_machines_in(new, old);
}

/* How many DHCPv6 reservations CFG has: --reserve6 and machines' ip6. */
static int reservations6_count(const struct xpxe_config *cfg)
{
	int n = cfg->dhcp.n_reservations6;

	for (int i = 0; i < cfg->n_machines; i++)
		n += !IN6_IS_ADDR_UNSPECIFIED(&cfg->machines[i].ip6);
	return n;
}

static bool vlan_pools_moved(const struct xpxe_config *old, const struct xpxe_config *new,
			     char *was, size_t was_size, char *now, size_t now_size)
{
	int n = old->dhcp.n_vlans > new->dhcp.n_vlans ? old->dhcp.n_vlans : new->dhcp.n_vlans;

	for (int i = 0; i < n; i++) {
		const struct xpxe_vlan_cfg none = { 0 };
		const struct xpxe_vlan_cfg *a = i < old->dhcp.n_vlans ? &old->dhcp.vlans[i] : &none;
		const struct xpxe_vlan_cfg *b = i < new->dhcp.n_vlans ? &new->dhcp.vlans[i] : &none;
		char name[16], first[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];

		if (!a->pool_first.s_addr && !b->pool_first.s_addr)
			continue;
		if (a->vid == b->vid && a->outer_vid == b->outer_vid &&
		    a->pool_first.s_addr == b->pool_first.s_addr &&
		    a->pool_last.s_addr == b->pool_last.s_addr)
			continue;
		xpxe_vlan_name(a, name, sizeof(name));
		inet_ntop(AF_INET, &a->pool_first, first, sizeof(first));
		inet_ntop(AF_INET, &a->pool_last, last, sizeof(last));
		snprintf(was, was_size, "VLAN %s pool %s-%s", a->vid ? name : "-", first, last);
		xpxe_vlan_name(b, name, sizeof(name));
		inet_ntop(AF_INET, &b->pool_first, first, sizeof(first));
		inet_ntop(AF_INET, &b->pool_last, last, sizeof(last));
		snprintf(now, now_size, "VLAN %s pool %s-%s", b->vid ? name : "-", first, last);
		return true;
	}
	return false;
}

/*
 * What a reload cannot apply (the data plane, the listeners and the pool were set up
 * with it): the first key that differs between OLD and NEW, named with both values in
 * WHY; 0 when none does.
 */
static int restart_only_change(const struct xpxe_config *old, const struct xpxe_config *new,
			       char *why, size_t why_size)
{
	char was[300], now[300];
	const char *key = NULL;

	if (old->n_interfaces != new->n_interfaces ||
	    memcmp(old->interfaces, new->interfaces, sizeof(old->interfaces))) {
		key = "interfaces";
		interfaces_text(old, was, sizeof(was));
		interfaces_text(new, now, sizeof(now));
	} else if (strcmp(mode_text(old), mode_text(new))) {
		key = "mode";
		snprintf(was, sizeof(was), "%s", mode_text(old));
		snprintf(now, sizeof(now), "%s", mode_text(new));
	} else if (old->dhcp.server_ip.s_addr != new->dhcp.server_ip.s_addr) {
		key = "server_ip";
		inet_ntop(AF_INET, &old->dhcp.server_ip, was, sizeof(was));
		inet_ntop(AF_INET, &new->dhcp.server_ip, now, sizeof(now));
	} else if (strcmp(old->http_listen, new->http_listen)) {
		key = "http.listen";
		snprintf(was, sizeof(was), "%s",
			 old->http_listen[0] ? old->http_listen : "default");
		snprintf(now, sizeof(now), "%s",
			 new->http_listen[0] ? new->http_listen : "default");
	} else if (memcmp(&old->http_limits, &new->http_limits, sizeof(old->http_limits))) {
		key = "http.max_connections, max_per_ip or timeout";
		snprintf(was, sizeof(was), "%u, %u, %u s", old->http_limits.max_connections,
			 old->http_limits.max_per_ip, old->http_limits.timeout_s);
		snprintf(now, sizeof(now), "%u, %u, %u s", new->http_limits.max_connections,
			 new->http_limits.max_per_ip, new->http_limits.timeout_s);
	} else if (old->downloads.tftp_port_low != new->downloads.tftp_port_low ||
		   old->downloads.tftp_port_high != new->downloads.tftp_port_high) {
		key = "downloads.tftp_port_range";
		snprintf(was, sizeof(was), "%u-%u", old->downloads.tftp_port_low,
			 old->downloads.tftp_port_high);
		snprintf(now, sizeof(now), "%u-%u", new->downloads.tftp_port_low,
			 new->downloads.tftp_port_high);
	} else if (memcmp(&old->downloads, &new->downloads, sizeof(old->downloads))) {
		key = "downloads.max, max_wait, min_size_kib, tftp_max, tftp_max_wait, "
		      "tftp_pace_ms or tftp_http_backlog";
		snprintf(was, sizeof(was), "%u, %u s, %llu KiB, %u, %u s, %u ms, %u",
			 old->downloads.max, old->downloads.max_wait_s,
			 old->downloads.min_size >> 10, old->downloads.tftp_max,
			 old->downloads.tftp_max_wait_s, old->downloads.tftp_pace_ms,
			 old->downloads.tftp_http_backlog);
		snprintf(now, sizeof(now), "%u, %u s, %llu KiB, %u, %u s, %u ms, %u",
			 new->downloads.max, new->downloads.max_wait_s,
			 new->downloads.min_size >> 10, new->downloads.tftp_max,
			 new->downloads.tftp_max_wait_s, new->downloads.tftp_pace_ms,
			 new->downloads.tftp_http_backlog);
	} else if (old->dhcp.pool_first.s_addr != new->dhcp.pool_first.s_addr ||
		   old->dhcp.pool_last.s_addr != new->dhcp.pool_last.s_addr) {
		key = "dhcp.pool";
		pool_text(old, was, sizeof(was));
		pool_text(new, now, sizeof(now));
	} else if (memcmp(&old->dhcp.pool6_first, &new->dhcp.pool6_first, 16) ||
		   memcmp(&old->dhcp.pool6_last, &new->dhcp.pool6_last, 16)) {
		key = "dhcp.pool6";
		inet_ntop(AF_INET6, &old->dhcp.pool6_first, was, sizeof(was));
		inet_ntop(AF_INET6, &new->dhcp.pool6_first, now, sizeof(now));
	} else if (reservations6_changed(old, new)) {
		key = "DHCPv6 reservations (--reserve6, machines' ip6)";
		snprintf(was, sizeof(was), "%d of them", reservations6_count(old));
		snprintf(now, sizeof(now), "%d, or other addresses or MACs",
			 reservations6_count(new));
	} else if (vlan_pools_moved(old, new, was, sizeof(was), now, sizeof(now))) {
		key = "a VLAN's pool (or the VLAN at a pool's place in vlans:)";
	} else if (strcmp(old->dhcp.leases_path, new->dhcp.leases_path)) {
		key = "dhcp.leases";
		snprintf(was, sizeof(was), "%s",
			 old->dhcp.leases_path[0] ? old->dhcp.leases_path : "default");
		snprintf(now, sizeof(now), "%s",
			 new->dhcp.leases_path[0] ? new->dhcp.leases_path : "default");
	} else if (strcmp(old->state_dir, new->state_dir)) {
		key = "state_dir";
		snprintf(was, sizeof(was), "%s", old->state_dir);
		snprintf(now, sizeof(now), "%s", new->state_dir);
	} else if (!old->tls.cert[0] != !new->tls.cert[0]) {
		key = "HTTPS (http.tls_cert and tls_key)";
		snprintf(was, sizeof(was), "%s", old->tls.cert[0] ? "on" : "off");
		snprintf(now, sizeof(now), "%s", new->tls.cert[0] ? "on" : "off");
	} else if (strcmp(old->tls.listen, new->tls.listen)) {
		key = "http.tls_listen";
		snprintf(was, sizeof(was), "%s", old->tls.listen[0] ? old->tls.listen : "default");
		snprintf(now, sizeof(now), "%s", new->tls.listen[0] ? new->tls.listen : "default");
	} else if (memcmp(&old->store, &new->store, sizeof(old->store))) {
		key = "store";
		snprintf(was, sizeof(was), "%.200s", old->store.url);
		snprintf(now, sizeof(now), "%.200s%s", new->store.url,
			 strcmp(old->store.url, new->store.url) ? "" : " (prefix, name or TLS)");
	}
	if (!key)
		return 0;
	snprintf(why, why_size,
		 "%s changed (%s -> %s): it changes only with a restart (so do interfaces, mode, "
		 "server_ip, http.listen, http's limits, HTTPS on or off, http.tls_listen, "
		 "dhcp.pool, dhcp.pool6, DHCPv6 reservations, VLANs' pools, dhcp.leases, "
		 "state_dir and store); "
		 "the running config is kept",
		 key, was, now);
	return -EINVAL;
}

/*
 * Reload: the new config is read and checked whole first; a bad one changes
 * nothing. What a reload can change: machines, profiles, assets, boot files,
 * Talos configs. Interfaces, mode, addresses and the HTTP listener need a
 * restart (refused with that reason). Transfers in flight keep going: the
 * asset store keeps replaced content until its last transfer ends.
 */
static int reload(struct daemon *d, char *why, size_t why_size)
{
	static struct xpxe_config fresh;
	struct xpxe_config_error err;
	struct xpxe_config old;
	unsigned char(*gone)[6];
	int ret, n_gone = 0, dropped = 0;

	ret = load_config(&fresh, d->opts, false, &err);
	if (ret) {
		snprintf(why, why_size, "%s; the running config is kept", err.text);
		return ret;
	}
	ret = restart_only_change(&d->cfg, &fresh, why, why_size);
	if (ret) {
		xpxe_config_free(&fresh);
		return ret;
	}
	/* The certificate first: a bad one refuses the reload before anything changed. */
	ret = xpxe_http_tls_reload(&d->http, &fresh, why, why_size);
	if (ret) {
		xpxe_config_free(&fresh);
		snprintf(why + strlen(why), why_size - strlen(why), "; the running config is kept");
		return ret;
	}
	for (int i = 0; i < fresh.n_assets; i++) {
		ret = xpxe_assets_load(&d->assets, fresh.assets[i].name, fresh.assets[i].path);
		if (ret) {
			xpxe_config_free(&fresh);
			snprintf(why, why_size, "asset %s (%s): %s; the running config is kept",
				 fresh.assets[i].name, fresh.assets[i].path, strerror(-ret));
			return ret;
		}
	}
	/* Every MAC of the old inventory: those no longer listed lose what it gave them. */
	for (int i = 0; i < d->cfg.n_machines; i++)
		n_gone += d->cfg.machines[i].n_macs;
	gone = calloc(n_gone + 1, sizeof(*gone));
	if (!gone) {
		xpxe_config_free(&fresh);
		snprintf(why, why_size, "out of memory; the running config is kept");
		return -ENOMEM;
	}
	n_gone = 0;
	for (int i = 0; i < d->cfg.n_machines; i++)
		for (int j = 0; j < d->cfg.machines[i].n_macs; j++)
			memcpy(gone[n_gone++], d->cfg.machines[i].macs[j], 6);
	/* HTTP threads read the config under the inventory's lock. */
	pthread_mutex_lock(&d->inv.lock);
	old = d->cfg;
	d->cfg = fresh;
	link_config(&d->cfg);
	/* Each server's settings point into the config: none may outlive the old one, even
	 * when an interface below fails to take the new settings. */
	for (int i = 0; i < d->n_ifaces; i++) {
		struct xpxe_dhcp_settings *s = &d->ifaces[i].dhcp.settings;

		s->profiles = d->cfg.dhcp.profiles;
		s->n_profiles = d->cfg.dhcp.n_profiles;
		s->default_profile = d->cfg.dhcp.default_profile;
		s->machines = d->cfg.dhcp.machines;
		s->n_machines = d->cfg.dhcp.n_machines;
	}
	pthread_mutex_unlock(&d->inv.lock);
	xpxe_config_free(&old);
	note_loaded_assets(d);
	for (int i = 0; i < d->n_ifaces; i++) {
		struct served *sv = &d->ifaces[i];
		struct xpxe_dhcp_settings dhcp = d->cfg.dhcp;

		/* What the interface resolved at start (its address, URLs, bindings file) stays. */
		dhcp.server_ip = sv->dhcp.settings.server_ip;
		memcpy(dhcp.http_base, sv->dhcp.settings.http_base, sizeof(dhcp.http_base));
		memcpy(dhcp.leases_path, sv->dhcp.settings.leases_path, sizeof(dhcp.leases_path));
		xpxe_dhcp_settings_resolve(&dhcp, sv->dp.ifname);
		/* Reservations re-marked in the pool, stale entries out, before the maps. */
		ret = xpxe_dhcp_server_sync(&sv->dhcp, &dhcp, (const unsigned char(*)[6])gone,
					    n_gone);
		if (ret > 0)
			dropped += ret;
		ret = ret < 0 ? ret : xpxe_dhcp_install(&sv->dp, &dhcp);
		if (ret) {
			snprintf(why, why_size, "%s: DHCP settings: %s", sv->dp.ifname,
				 strerror(-ret));
			free(gone);
			return ret;
		}
		sv->dhcp.settings = dhcp;
		xpxe_dhcp6_server_follow(&sv->dhcp6, &sv->dp, &dhcp);
		/* The trunk's VLAN addresses follow the VLANs (the maps took them above). */
		ret = xpxe_vlan_update(&sv->dp, &dhcp, &sv->vlan);
		if (ret) {
			snprintf(why, why_size, "%s: VLAN addresses: %s", sv->dp.ifname,
				 strerror(-ret));
			free(gone);
			return ret;
		}
		xpxe_events_set_vlans(sv->dp.ifname, dhcp.vlans,
				      strcmp(sv->dp.ifname, dhcp.vlan_ifname) ? 0 : dhcp.n_vlans);
		if (dhcp.n_vlans && !d->http.any_addr)
			log_warn("%s: HTTP listens on one address (no VLANs at the start): the "
				 "VLANs' machines reach it after a restart",
				 sv->dp.ifname);
	}
	xpxe_machines_name(&d->cfg);
	free(gone);
	refresh_grub_cfg(d);
	d->dropped_bindings = dropped;
	log_info("reloaded %s: %d machine(s), %d profile(s), %d asset(s)",
		 d->opts->config_path ? d->opts->config_path : "the flags", d->cfg.n_machines,
		 d->cfg.n_profiles, d->cfg.n_assets);
	return 0;
}

static void reply_reload(struct daemon *d, struct fy_node *reply)
{
	char why[1100];

	if (reload(d, why, sizeof(why))) {
		log_error("reload refused: %s", why);
		xpxe_json_add_str(reply, "error", why);
		return;
	}
	xpxe_json_add_u64(reply, "machines", d->cfg.n_machines);
	xpxe_json_add_u64(reply, "profiles", d->cfg.n_profiles);
	xpxe_json_add_u64(reply, "assets", d->cfg.n_assets);
	xpxe_json_add_u64(reply, "bindings_dropped", d->dropped_bindings);
}

/* /metrics (an HTTP thread): each interface's DHCPv6 server's counters. */
static void dhcp6_metrics(FILE *f, void *ctx)
{
	struct daemon *d = ctx;

	for (int i = 0; i < d->n_ifaces; i++)
		xpxe_dhcp6_server_metrics(&d->ifaces[i].dhcp6, f, i == 0);
}

static int start_http(struct daemon *d, const char *listen)
{
	struct xpxe_http_leases leases = { 0 };
	int err;

	err = xpxe_inventory_open(&d->inv, &d->cfg);
	if (err)
		return err;
	d->inv.store = d->store;
	for (int i = 0; i < d->n_ifaces && leases.n < 8; i++) {
		leases.clients_fds[leases.n] = xpxe_dataplane_dhcp_clients_fd(&d->ifaces[i].dp);
		leases.counters_fds[leases.n] = xpxe_dataplane_counters_fd(&d->ifaces[i].dp);
		snprintf(leases.ifnames[leases.n++], 16, "%s", d->ifaces[i].dp.ifname);
	}
	leases.more_metrics = dhcp6_metrics;
	leases.more_ctx = d;
	err = xpxe_http_start(&d->http, listen, &d->inv, &d->cfg, &leases);
	/*
	 * And on each interface's IPv6 address, the one DHCPv6's boot URLs name. Without it
	 * (logged) IPv4 is served all the same, as before IPv6 was.
	 */
	for (int i = 0; i < d->n_ifaces && !err; i++) {
		struct in6_addr a6;

		if (!xpxe_interface_ipv6(d->ifaces[i].dp.ifname, &a6))
			xpxe_http_listen6(&d->http, &a6);
	}
	return err;
}

/* A held RRQ's place (TFTP's admission): its machine's, as its HTTP downloads'. */
static int tftp_rank(void *ctx, struct in_addr ip, const char *mac, char *who, size_t who_size,
		     char mac_out[18])
{
	return xpxe_http_machine_rank(ctx, ip, mac, who, who_size, mac_out);
}

/* HTTP's download queue, for TFTP's admission (it feeds that queue). */
static unsigned tftp_backlog(void *ctx)
{
	return xpxe_http_downloads_waiting(ctx);
}

/* Takes over running transfers first, so their asset slots are kept, then loads and listens. */
static int start_tftp(struct daemon *d, const struct xpxe_serve_opts *opts)
{
	struct xpxe_tftp_opts topts = { .idle_timeout_s = opts->tftp_idle_timeout_s,
					.windowsize_max = opts->tftp_windowsize_max,
					.max_sessions = opts->tftp_max_sessions,
					.max_per_ip = opts->tftp_max_per_ip,
					.max_at_once = d->cfg.downloads.tftp_max,
					.max_wait_s = d->cfg.downloads.tftp_max_wait_s,
					.pace_ms = d->cfg.downloads.tftp_pace_ms,
					.backlog = tftp_backlog,
					.backlog_max = d->cfg.downloads.tftp_http_backlog,
					.port_low = d->cfg.downloads.tftp_port_low,
					.port_high = d->cfg.downloads.tftp_port_high,
					.rank = tftp_rank,
					.rank_ctx = &d->http };
	int err;

	xpxe_assets_init(&d->assets);
	err = xpxe_tftp_open(&d->tftp, &d->assets, &topts);
	if (err) {
		log_error("cannot start TFTP: %s", strerror(-err));
		return err;
	}
	for (int i = 0; i < d->n_ifaces && !err; i++)
		err = xpxe_tftp_add_iface(d->tftp, d->ifaces[i].dp.ifname, d->ifaces[i].dp.ifindex,
					  xpxe_dataplane_tftp_sessions_fd(&d->ifaces[i].dp),
					  xpxe_dataplane_tftp_sessions6_fd(&d->ifaces[i].dp),
					  xpxe_dataplane_counters_fd(&d->ifaces[i].dp),
					  xpxe_dataplane_tftp_xsks_fd(&d->ifaces[i].dp),
					  xpxe_dataplane_tftp_rrq_macs_fd(&d->ifaces[i].dp));
	for (int i = 0; i < d->n_ifaces && !err; i++)
		err = xpxe_assets_add_outer(&d->assets,
					    xpxe_dataplane_tftp_assets_fd(&d->ifaces[i].dp));
	if (!err)
		err = load_assets(d);
	if (!err)
		err = xpxe_tftp_listen(d->tftp);
	return err;
}

int xpxe_serve(struct xpxe_serve_opts *opts)
{
	static struct daemon d;
	static struct xpxe_preflight pf;
	const char *why;
	int listen_fd, sig_fd, exit_code = 1;

	if (!xpxe_have_bpf_privileges(&why)) {
		log_error("xpxe %s needs root (CAP_BPF and CAP_NET_ADMIN): %s",
			  opts->check_only ? "check (as serve)" : "serve", why);
		return 1;
	}
	d.opts = opts;
	/* Everything that can be checked, before any interface is touched (xpxe check too). */
	if (make_config(&d, opts))
		return 1;
	if (xpxe_preflight_host(&d.cfg, opts, &pf)) {
		xpxe_config_free(&d.cfg);
		return 1;
	}
	if (opts->check_only) {
		xpxe_preflight_report(&d.cfg, opts, &pf);
		xpxe_config_free(&d.cfg);
		return 0;
	}
	d.socket_path = opts->socket_path;
	d.keep_attached = opts->keep_attached;
	clock_gettime(CLOCK_MONOTONIC, &d.started);
	sig_fd = block_signals();
	if (sig_fd < 0) {
		log_error("cannot set up signal handling: %s", strerror(-sig_fd));
		return 1;
	}
	/* The store's thread starts now; the daemon does not wait for etcd to answer. */
	if (xpxe_store_open(&d.store, &d.cfg.store, d.cfg.interfaces[0])) {
		close(sig_fd);
		return 1;
	}
	listen_fd = xpxe_ctl_listen(opts->socket_path);
	if (listen_fd == -EADDRINUSE) {
		log_error("another xpxe daemon answers on %s; stop it, or give this one its own "
			  "--socket",
			  opts->socket_path);
		goto out_sig;
	}
	if (listen_fd < 0) {
		log_error("cannot listen on %s: %s", opts->socket_path, strerror(-listen_fd));
		goto out_sig;
	}
	for (int i = 0; i < d.cfg.n_interfaces; i++) {
		struct xpxe_attach_opts attach_opts = {
			.allow_default_route = opts->allow_default_route,
			.tftp_port_low = d.cfg.downloads.tftp_port_low,
		};

		/* Per interface: the server address and URLs follow each interface's own address
		 * (resolved by the checks). */
		struct xpxe_dhcp_settings *dhcp = &pf.dhcp[i];
		struct xpxe_vlan_left left;
		struct served *sv = &d.ifaces[d.n_ifaces];

		sv->inv = &d.inv;
		if (xpxe_dataplane_attach(&sv->dp, d.cfg.interfaces[i], &attach_opts))
			goto out_detach;
		d.n_ifaces++;
		sv->dhcp.packet_fd = -1;
		sv->dhcp6.pkt_fd = sv->dhcp6.udp_fd = -1;
		/* What a previous daemon's VLANs left on the trunk, before the maps are set. */
		xpxe_vlan_read_left(&sv->dp, &left);
		if (xpxe_dhcp_install(&sv->dp, dhcp) ||
		    xpxe_dhcp_server_start(&sv->dhcp, &sv->dp, dhcp, d.store) ||
		    xpxe_dhcp6_server_start(&sv->dhcp6, &sv->dp, dhcp) ||
		    xpxe_vlan_start(&sv->dp, dhcp, &sv->vlan))
			goto out_detach;
		xpxe_vlan_drop_left(&sv->dp, dhcp, &left);
		if (dhcp->n_vlans && !strcmp(sv->dp.ifname, dhcp->vlan_ifname))
			xpxe_events_set_vlans(sv->dp.ifname, dhcp->vlans, dhcp->n_vlans);
		sv->events =
		    ring_buffer__new(xpxe_dataplane_events_fd(&sv->dp), on_dp_event, sv, NULL);
	}
	if (start_tftp(&d, opts) || start_http(&d, pf.http_listen) || refresh_grub_cfg(&d) ||
	    xpxe_ui_start(&d.cfg, &d.inv.lock))
		goto out_detach;
	for (int i = 0; i < d.n_ifaces; i++)
		d.ifaces[i].tftp = d.tftp;
	xpxe_machines_name(&d.cfg);
	log_info("xpxe %s serving %d interface(s); control socket %s", XPXE_VERSION, d.n_ifaces,
		 opts->socket_path);
	xpxe_notify("READY=1\nSTATUS=serving; the programs are attached and HTTP listens");
	run_loop(&d, listen_fd, sig_fd);
	/* The ends of transfers the programs wrote since the last round (no wakeup): logged. */
	for (int i = 0; i < d.n_ifaces; i++)
		if (d.ifaces[i].events)
			ring_buffer__consume(d.ifaces[i].events);
	xpxe_notify("STOPPING=1");
	exit_code = 0;
out_detach:
	xpxe_ui_stop();
	xpxe_http_stop(&d.http);
	/* The store's queued marks go first, while it may still answer (see xpxe_store_close). */
	xpxe_store_close(d.store);
	d.store = NULL;
	d.inv.store = NULL;
	xpxe_inventory_close(&d.inv);
	xpxe_tftp_close(d.tftp);
	d.tftp = NULL;
	for (int i = 0; i < d.n_ifaces; i++) {
		/* Only a signal leaves it attached: a failed start undoes what it did. */
		if (d.keep_attached && d.signalled)
			serve_release(&d, &d.ifaces[i]);
		else
			serve_stop(&d, &d.ifaces[i]);
	}
	d.n_ifaces = 0;
	xpxe_assets_free(&d.assets);
	free(d.grub_cfg);
	close(listen_fd);
	unlink(opts->socket_path);
out_sig:
	xpxe_store_close(d.store);
	d.store = NULL;
	close(sig_fd);
	return exit_code;
}
