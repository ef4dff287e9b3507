/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_CONFIG_H
#define XPXE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/types.h>

#include "dhcp_settings.h"
#include "store/store.h"

struct fy_node;

/*
 * The configuration: the YAML file (xpxe.yaml(5), `-c FILE`) or the quick
 * start flags of `xpxe serve`, both turned into this one structure. A config
 * is checked whole before it is used, so a bad one never replaces a good one.
 */

#define XPXE_CONFIG_PATH	"/etc/xpxe/xpxe.yaml"
#define XPXE_CFG_MAX_INTERFACES 8
#define XPXE_CFG_MAX_ASSETS	64
#define XPXE_CFG_MAX_ALLOW	16
#define XPXE_CFG_MAX_MACS	8 /* per machine: a server with several NICs */
#define XPXE_CFG_NAME_MAX	64
#define XPXE_CFG_PATH_MAX	256
#define XPXE_CFG_CMDLINE_MAX	1024

/* Where a value was in the file, for messages (line 0: not from a file, e.g. the flags). */
struct xpxe_cfg_mark {
	int line, col;
};

enum xpxe_transport {
	XPXE_TRANSPORT_HTTP = 0, /* iPXE fetches kernel and initrd over HTTP */
	XPXE_TRANSPORT_TFTP,	 /* ... over tftp:// from the XDP fast path */
	XPXE_TRANSPORT_UKI,	 /* one signed EFI binary (a UKI): HTTP boot, or iPXE's chain */
	XPXE_TRANSPORT_GRUB,	 /* shim + signed GRUB, whose grub.cfg xpxe renders */
};

struct xpxe_asset_cfg {
	char name[XPXE_CFG_NAME_MAX];
	char path[XPXE_CFG_PATH_MAX];
	struct xpxe_cfg_mark at;
	/*
	 * Not config: the file as the daemon loaded it into the maps (serve.c fills it in).
	 * HTTP serves the file only while it is still that one, so HTTP and TFTP never
	 * hand out different bytes under one name (see http.c).
	 */
	struct xpxe_file_id {
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime;
	} loaded;
};

struct xpxe_profile_cfg {
	char name[XPXE_CFG_NAME_MAX];
	char kernel[XPXE_CFG_NAME_MAX]; /* asset names; "" when the profile boots no kernel */
	char initrd[XPXE_CFG_NAME_MAX];
	char cmdline[XPXE_CFG_CMDLINE_MAX]; /* added after the Talos arguments */
	enum xpxe_transport transport;
	char uki[XPXE_CFG_NAME_MAX]; /* transport uki: the asset holding the UKI */
	/* Not config: the UKI's PE machine type, from its check at load (boot/profile.c). */
	unsigned short uki_machine;
	char talos_config[XPXE_CFG_PATH_MAX]; /* a file or a folder of MAC.yaml + default.yaml */
	/*
	 * arm64 machines' own kernel and initrd (kernel_arm64, initrd_arm64): one
	 * profile serves a mixed fleet, each machine its architecture's files (kernel
	 * and initrd above are amd64's). "": this profile boots no arm64 machine, which
	 * is then refused, counted (boot/arch.c).
	 */
	char kernel_arm64[XPXE_CFG_NAME_MAX];
	char initrd_arm64[XPXE_CFG_NAME_MAX];
	struct xpxe_cfg_mark kernel_arm64_at, initrd_arm64_at;
	/*
	 * arm64 UEFI HTTP boot clients' UKI (uki_arm64): Debian's netboot GRUB cannot go
	 * on after HTTP boot (it finds no network config there), so they boot a UKI.
	 */
	char uki_arm64[XPXE_CFG_NAME_MAX];
	/* Not config: arm64 UEFI machines get GRUB (boot/profile.c found the asset). */
	bool arm64_grub;
	struct xpxe_dhcp_profile dhcp; /* boot files by class, ProxyDHCP strategy */
	bool boot_file_set[XPXE_BOOT_MAX];
	struct xpxe_cfg_mark kernel_at, initrd_at, talos_config_at;
};

struct xpxe_net_cfg {
	struct in_addr addr, mask;
};

struct xpxe_machine_cfg {
	unsigned char macs[XPXE_CFG_MAX_MACS][6];
	int n_macs;
	char uuid[40]; /* lowercase, as Talos and iPXE print it */
	char serial[XPXE_CFG_NAME_MAX];
	char hostname[XPXE_CFG_NAME_MAX];
	char install_disk[XPXE_CFG_NAME_MAX];
	char role[16]; /* controlplane, init or worker; "": unset (its place in the download queue)
			*/
	int profile;   /* index in profiles; -1: the default profile */
	struct in_addr ip;		      /* full mode: reserved address; 0: from the pool */
	struct in6_addr ip6;		      /* full mode: reserved DHCPv6 address; :: none */
	char talos_config[XPXE_CFG_PATH_MAX]; /* overrides the profile's */
	struct xpxe_cfg_mark talos_config_at;
	int line;   /* where it is defined, for messages */
	bool added; /* by `xpxe machines add`, kept in STATE_DIR/machines.yaml, not the file */
};

/*
 * A network machines of an interface live on: its own (its address and mask), or one a
 * route sends through it (a relay's, ROUTED; ADDR is the network). Reserved addresses
 * and the pool must lie inside one.
 */
struct xpxe_subnet_cfg {
	char ifname[16];
	struct in_addr addr, mask;
	bool routed;
};

#define XPXE_CFG_MAX_SUBNETS 64

/* A config asked for a machine whose address xpxe does not know (http.config_without_address). */
enum xpxe_unbound_config {
	XPXE_UNBOUND_REFUSE = 0, /* 403: the machine must boot through xpxe first (default) */
	XPXE_UNBOUND_SERVE,	 /* served to whoever names it; boot-once is then not set */
};

/* HTTPS (http.tls_cert, tls_key, tls_listen): off while no certificate is given. */
struct xpxe_tls_cfg {
	char cert[XPXE_CFG_PATH_MAX], key[XPXE_CFG_PATH_MAX]; /* PEM files */
	char listen[64];				      /* ADDR:PORT; "" = SERVER_IP:8443 */
	bool refuse_plain; /* http.config_over_http: refuse (configs over HTTPS only) */
};

/* HTTP's limits on connections (http.max_connections, max_per_ip, timeout). */
struct xpxe_http_limits {
	unsigned max_connections, max_per_ip, timeout_s;
};

/*
 * The fleet page (ui:): its own listener, off while LISTEN is "", open only to
 * the networks of ALLOW (default: loopback), with its own connection limit.
 */
#define XPXE_UI_LISTEN_MAX 64

struct xpxe_ui_cfg {
	char listen[XPXE_UI_LISTEN_MAX]; /* ADDR:PORT */
	struct xpxe_net_cfg allow[XPXE_CFG_MAX_ALLOW];
	int n_allow;
	unsigned max_connections;
};

#define XPXE_UI_MAX_CONNECTIONS 32

/*
 * Admission of bulk downloads (downloads:, --max-downloads, --download-max-wait): at most MAX
 * kernel and initramfs downloads over HTTP (/assets/) at once, the rest held in a queue, control
 * planes first (userspace/http/admit.h). MAX 0: no cap. MAX_WAIT_S: a waiter is let in over the
 * cap after this long (0: never). MIN_SIZE: smaller files never queue.
 */
struct xpxe_downloads_cfg {
	unsigned max, max_wait_s;
	unsigned long long min_size;
	/* TFTP's (IPv4) transfers at once (downloads.tftp_max, --max-tftp-downloads): further
	 * RRQs are held, unanswered (a control plane's never: it goes over the cap; and none
	 * beyond 8 x this many: the rest go over the cap) (tftp/tftp.h). 0: no cap. */
	unsigned tftp_max;
	/* ... and a held RRQ is answered over the cap after this long (downloads.tftp_max_wait;
	 * 0: never): firmware repeats its RRQ for a while, then gives up. */
	unsigned tftp_max_wait_s;
	/* ... and one let in over the cap runs paced, a window each this many ms, until a place
	 * frees (downloads.tftp_pace_ms, --tftp-pace-ms; 0: off, it runs at full speed). */
	unsigned tftp_pace_ms;
	/* ... and none takes a free place while this many HTTP downloads wait in their queue
	 * (downloads.tftp_http_backlog, --tftp-http-backlog; 0: off). */
	unsigned tftp_http_backlog;
	/* The ports of TFTP transfers over IPv4, TFTP_PORT_LOW..TFTP_PORT_HIGH
	 * (downloads.tftp_port_range, --tftp-port-range; include/xpxe_tftp.h). */
	unsigned tftp_port_low, tftp_port_high;
};

/*
 * "LOW-HIGH" (downloads.tftp_port_range, --tftp-port-range): 1024 <= LOW <= HIGH <= 65535,
 * at most XPXE_TFTP_PORTS_MAX ports. 0, or -EINVAL with WHY.
 */
int xpxe_tftp_port_range_parse(const char *text, unsigned *low, unsigned *high, char *why,
			       size_t why_len);

#define XPXE_DOWNLOADS_MIN_SIZE (1ULL << 20)
/*
 * Measured (BENCHMARKS.md, a 1024-machine storm on a quiet host): 32 at once kept the link as
 * full as 64 (576 against 484-539 MB/s) and the median machine finished sooner (21-22 s
 * against 25-29 s); with 64 the first batch is 6 % of such a storm, and a control plane
 * finishes with it at best.
 */
#define XPXE_ADMIT_MAX_DEFAULT	    32
#define XPXE_ADMIT_MAX_WAIT_DEFAULT 0 /* never: the trickle keeps held clients alive */
/*
 * A boot storm's TFTP stage: 1024 lockstep transfers at once share the link and all finish
 * late (the first after 1.5 s, BENCHMARKS.md), and no machine starts its HTTP downloads before;
 * a batch at a time, the first machines move on at once. Not fewer: a lockstep transfer waits
 * a round trip per block, and once HTTP fills the link those take long (32 at once in a trial
 * of 256 machines took 13.8 s for the median machine's TFTP, against 1.8 s with 128).
 */
#define XPXE_DOWNLOADS_TFTP_MAX_DEFAULT 128
/*
 * Well inside what firmware waits for an answer to its RRQ (iPXE gives up after about 16 s,
 * EDK2's PXE after about 24 s), and short: on a busy host a batch of lockstep transfers is slow,
 * and those held 8 s went in when HTTP filled the link, where each block waits behind it (a
 * trial at 1024 machines: TFTP p50 57 s, last config 209 s against 152 s without the cap).
 */
#define XPXE_DOWNLOADS_TFTP_MAX_WAIT_DEFAULT 2
/*
 * Below every firmware's first retransmission timeout (iPXE's is 250 ms, EDK2's seconds,
 * userspace/tftp/pace.c), with room for a busy host's delay.
 */
#define XPXE_DOWNLOADS_TFTP_PACE_MS_DEFAULT 200
#define XPXE_DOWNLOADS_TFTP_PACE_MS_MAX	    240
/*
 * As many HTTP downloads waiting as run at once by default (downloads.max): BENCHMARKS.md,
 * "Paced TFTP transfers" (p50 / last config 0.544 against 0.570, 1024 machines, busy host).
 */
#define XPXE_DOWNLOADS_TFTP_HTTP_BACKLOG_DEFAULT 32

#define XPXE_HTTP_MAX_CONNECTIONS 2048
#define XPXE_HTTP_MAX_PER_IP	  32
#define XPXE_HTTP_TIMEOUT_S	  30

struct xpxe_config {
	char path[XPXE_CFG_PATH_MAX]; /* "" for a config made from flags */
	char interfaces[XPXE_CFG_MAX_INTERFACES][16];
	int n_interfaces;
	struct xpxe_dhcp_settings dhcp; /* mode, server, pool, router, ...; profile 0 = default */
	char http_listen[64];		/* ADDR:PORT; "" = SERVER_IP:8080 */
	/* Where the values checked against the host were written (server_ip, http.listen, pool). */
	struct xpxe_cfg_mark server_ip_at, http_listen_at, pool_at;
	struct xpxe_net_cfg allow[XPXE_CFG_MAX_ALLOW]; /* sources that may fetch configs */
	int n_allow;
	enum xpxe_unbound_config config_without_address;
	struct xpxe_http_limits http_limits;
	struct xpxe_downloads_cfg downloads;
	struct xpxe_tls_cfg tls;
	struct xpxe_ui_cfg ui;
	char state_dir[XPXE_CFG_PATH_MAX];
	struct xpxe_store_cfg store; /* where machines, marks and bindings are shared (store:) */
	struct xpxe_asset_cfg assets[XPXE_CFG_MAX_ASSETS];
	int n_assets;
	struct xpxe_profile_cfg profiles[XPXE_DHCP_MAX_PROFILES];
	int n_profiles;
	int default_profile;		   /* -1: machines not in `machines` are ignored */
	struct xpxe_machine_cfg *machines; /* the file's first, then those added at run time */
	int n_machines;
	/* Filled by the daemon from its interfaces (0: unknown, e.g. in unit tests). */
	struct xpxe_subnet_cfg subnets[XPXE_CFG_MAX_SUBNETS];
	int n_subnets;
};

/* Where machines added at run time are kept, below state_dir. */
#define XPXE_MACHINES_FILE "machines.yaml"

/* Where the first error was: "FILE:LINE:COL: what was expected". */
struct xpxe_config_error {
	char text[1024];
};

/* A config with the defaults: proxy mode, one profile "default" booting nothing yet. */
void xpxe_config_defaults(struct xpxe_config *cfg);

/*
 * Reads and checks PATH. On error returns -EINVAL (or -errno) and fills ERR;
 * CFG is then left empty, never half-filled.
 */
int xpxe_config_load(const char *path, struct xpxe_config *cfg, struct xpxe_config_error *err);

/* Checks a config made from flags the same way a file is checked. */
int xpxe_config_check(struct xpxe_config *cfg, struct xpxe_config_error *err);

void xpxe_config_free(struct xpxe_config *cfg);

/*
 * Checks machine I against machines 0..I-1 and the config (mode, subnets):
 * duplicate MACs, hostnames and reserved addresses, a reservation outside
 * every subnet or on a server's own address. The one check of a machine,
 * whether it comes from the file, the state folder or `xpxe machines add`.
 */
int xpxe_config_check_machine(const struct xpxe_config *cfg, int i, struct xpxe_config_error *err);

/*
 * Appends the machines of FILE (a YAML mapping with one key, `machines`, as
 * `xpxe machines add` writes it) to CFG, marked added. A missing file adds
 * nothing. Checks each like the config file's, with FILE:LINE:COL in errors.
 */
int xpxe_config_load_machines(const char *file, struct xpxe_config *cfg,
			      struct xpxe_config_error *err);

/*
 * Parses one machine from NODE (a mapping with the keys of a machine in
 * xpxe.yaml(5)) into M, exactly as the config file's machines are; WHERE
 * names the source in errors. M is not checked against the others.
 */
int xpxe_config_parse_machine(const struct xpxe_config *cfg, struct fy_node *node,
			      const char *where, struct xpxe_machine_cfg *m,
			      struct xpxe_config_error *err);

/*
 * Where a value of CFG came from, for messages: "FILE:LINE:COL" when AT has a
 * line, else the file, else FLAG (the quick start's flag, e.g. "--pool").
 */
void xpxe_config_where(const struct xpxe_config *cfg, struct xpxe_cfg_mark at, const char *flag,
		       char *out, size_t size);

/* "FILE:LINE" of M for messages (the config file, or the state folder's machines file). */
void xpxe_config_origin(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m, char *out,
			size_t size);

/* "http", "tftp", "uki" or "grub" into *OUT; -EINVAL for anything else. */
int xpxe_transport_parse(const char *text, enum xpxe_transport *out);
/* Parses "ADDR[/BITS]" (an IPv4 network) into NET; -EINVAL when it is not one. */
int xpxe_parse_net(const char *text, struct xpxe_net_cfg *net);

/* Parses "ADDR:PORT" (an IPv4 address and a port); -EINVAL when it is not one. */
int xpxe_parse_listen(const char *text, struct sockaddr_in *addr);

/* The profile named NAME, or -1. */
int xpxe_config_profile(const struct xpxe_config *cfg, const char *name);

/*
 * The index of the profile machine M boots with: its own, else (-1) the default profile,
 * else (default_profile -1: unknown machines ignored, but M is known) the first.
 */
int xpxe_config_machine_profile(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m);

/* The asset named NAME, or NULL. */
const struct xpxe_asset_cfg *xpxe_config_asset(const struct xpxe_config *cfg, const char *name);

/* A machine's place in the download queue by its role: the higher goes first (http/admit.h). */
enum xpxe_admit_rank {
	XPXE_RANK_WORKER = 0,
	XPXE_RANK_CONTROLPLANE = 1, /* role controlplane or init */
};

/* "controlplane", "init" -> XPXE_RANK_CONTROLPLANE; "worker" -> XPXE_RANK_WORKER; else -1. */
int xpxe_role_rank(const char *role);

#endif /* XPXE_CONFIG_H */
