/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_SERVE_H
#define XPXE_SERVE_H

#include <stdbool.h>

#include "config.h"
#include "dhcp/dhcp.h"

#define XPXE_MAX_IFACES 8
#define XPXE_MAX_ASSETS 64

/* Debian's ipxe package: served under these names unless --no-default-assets. */
#define XPXE_IPXE_DIR	    "/usr/lib/ipxe"
#define XPXE_DEFAULT_ASSETS "undionly.kpxe", "ipxe.efi", "snponly.efi"

struct xpxe_serve_asset {
	const char *name;
	const char *path;
};

struct xpxe_serve_opts {
	const char *ifnames[XPXE_MAX_IFACES];
	int n_ifnames;
	const char *socket_path;
	bool allow_default_route;
	struct xpxe_dhcp_settings dhcp;
	struct xpxe_serve_asset assets[XPXE_MAX_ASSETS]; /* --asset, --kernel, --initrd */
	int n_assets;
	bool no_default_assets;
	unsigned tftp_idle_timeout_s; /* 0: the default */
	unsigned tftp_windowsize_max; /* --tftp-windowsize-max; 0: the default */
	unsigned tftp_max_sessions;   /* --tftp-max-sessions; 0: the default */
	unsigned tftp_max_per_ip;     /* --tftp-max-per-ip; 0: the default */
	/* --http-max-connections, --http-max-per-ip, --http-timeout; 0: the config's */
	unsigned http_max_connections, http_max_per_ip, http_timeout_s;
	/* --max-downloads, --download-max-wait (0 is a value: no cap, no bound); *_set: given */
	unsigned max_downloads, download_max_wait_s;
	bool max_downloads_set, download_max_wait_set;
	unsigned max_tftp_downloads; /* --max-tftp-downloads (0: no cap); *_set: given */
	bool max_tftp_downloads_set;
	unsigned tftp_max_wait_s; /* --tftp-max-wait (0: never); *_set: given */
	bool tftp_max_wait_set;
	unsigned tftp_pace_ms; /* --tftp-pace-ms (0: off); *_set: given */
	bool tftp_pace_ms_set;
	unsigned tftp_http_backlog; /* --tftp-http-backlog (0: off); *_set: given */
	bool tftp_http_backlog_set;
	unsigned tftp_port_low, tftp_port_high; /* --tftp-port-range; *_set: given */
	bool tftp_port_range_set;
	/* the config file, or the quick start's profile */
	const char *config_path;  /* -c FILE; NULL: quick start from the flags */
	const char *talos_config; /* --talos-config DIR or FILE */
	const char *cmdline;	  /* --cmdline */
	int transport;		  /* --transport, --uki: enum xpxe_transport */
	const char *tls_cert;	  /* --tls-cert: HTTPS on */
	const char *tls_key;	  /* --tls-key */
	const char *state_dir;	  /* --state-dir */
	const char *ui_listen;	  /* --ui ADDR:PORT: the fleet page */
	struct xpxe_net_cfg ui_allow[XPXE_CFG_MAX_ALLOW]; /* --ui-allow NET (repeatable) */
	int n_ui_allow;
	bool keep_attached;    /* --keep-attached: SIGTERM leaves the data plane serving */
	bool check_only;       /* `xpxe check`: run the checks before attaching, then return */
	const char *store_url; /* --store files|etcd://HOST:PORT,...: overrides store.url */
};

/*
 * Runs the daemon in the foreground until SIGINT/SIGTERM. Returns the process exit code.
 * Tells a service manager (sd_notify) when it serves and when it stops.
 */
int xpxe_serve(struct xpxe_serve_opts *opts);

#endif /* XPXE_SERVE_H */
