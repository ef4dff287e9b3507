// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpxe: one binary. `xpxe serve` is the daemon; every other subcommand is a
 * client of it over the control socket.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpxe.h"
#include "cli.h"
#include "log.h"
#include "netif.h"
#include "serve.h"

static const char usage_main[] =
    "usage: xpxe [--socket PATH] [-v] COMMAND [ARGS]\n"
    "\n"
    "A PXE responder whose DHCP and TFTP answers run in XDP.\n"
    "\n"
    "commands:\n"
    "  serve -i IFACE [-i IFACE...]   attach to IFACE and serve, in the foreground\n"
    "  status [--json]                interfaces, attach mode, program ids, counters\n"
    "  assets [--json] [--reload]     the files served over TFTP: size, sha256, blocks\n"
    "  detach -i IFACE                remove xpxe's program and pins from IFACE\n"
    "  version                        print the version\n"
    "  help [COMMAND]                 this text, or a command's\n"
    "\n"
    "options:\n"
    "  --socket PATH   control socket (default " XPXE_SOCKET_PATH ", or $XPXE_SOCKET)\n"
    "  -v, --verbose   log libbpf's and libxdp's own messages too\n"
    "\n"
    "exit codes: 0 done, 1 failed, 2 bad usage, 3 no daemon answers, 4 not attached\n";

static const char usage_serve[] =
    "usage: xpxe serve -i IFACE [-i IFACE...] [--allow-default-route]\n"
    "                  [--asset NAME=FILE...] [--kernel FILE] [--initrd FILE]\n"
    "                  [--no-default-assets] [--tftp-idle-timeout SECONDS]\n"
    "\n"
    "Loads xpxe's XDP program, attaches it to each IFACE (native mode where the\n"
    "driver supports it, else generic; through the libxdp dispatcher where the\n"
    "kernel can run it, else alone) with its TFTP fallback on tc ingress, pins\n"
    "its maps under " XPXE_PIN_ROOT "/IFACE/, listens on the control socket\n"
    "and logs to stderr. SIGINT or SIGTERM detach and remove the pins. A daemon\n"
    "killed with SIGKILL leaves the programs serving (running TFTP transfers\n"
    "go on); the next 'xpxe serve' on IFACE takes them over, 'xpxe detach'\n"
    "removes them.\n"
    "\n"
    "TFTP: the daemon answers each read request on UDP port 69 (in its network\n"
    "namespace) and the data plane sends every further block from BPF maps. The\n"
    "files are loaded into those maps at start: each --asset, --kernel as\n"
    "'vmlinuz', --initrd as 'initramfs', and Debian's iPXE binaries from\n" XPXE_IPXE_DIR
    " (undionly.kpxe, ipxe.efi, snponly.efi) where present and\n"
    "no other file took the name. A client names exactly an asset's name (a\n"
    "leading '/' is ignored); nothing else is ever served. Writes are refused.\n"
    "'xpxe assets --reload' loads changed files again.\n"
    "\n"
    "It refuses: an IFACE that does not exist; one that carries the default route\n"
    "(a responder there would be a rogue DHCP server); one another xpxe serves;\n"
    "an asset it cannot load; UDP port 69 taken by another server; and running\n"
    "without CAP_BPF and CAP_NET_ADMIN.\n"
    "\n"
    "  -i, --interface IFACE       interface to serve (up to 8)\n"
    "  --allow-default-route       serve an interface that carries the default route\n"
    "  --asset NAME=FILE           serve FILE over TFTP as NAME (up to 64; repeatable)\n"
    "  --kernel FILE               the same as --asset vmlinuz=FILE\n"
    "  --initrd FILE               the same as --asset initramfs=FILE\n"
    "  --no-default-assets         do not serve Debian's iPXE binaries\n"
    "  --tftp-idle-timeout SECONDS end a transfer whose client is silent this long\n"
    "                              (default 30, at least 3x its timeout option)\n";

static const char usage_status[] = "usage: xpxe status [--json]\n"
				   "\n"
				   "Asks the daemon for each interface it serves: attach mode,\n"
				   "program id, pin folder and the data plane's counters.\n"
				   "\n"
				   "  --json   print the daemon's answer as one line of JSON\n";

static const char usage_assets[] =
    "usage: xpxe assets [--json] [--reload]\n"
    "\n"
    "Asks the daemon what it serves over TFTP: each asset's name, size, sha256,\n"
    "number of blocks at blksize 512 and 1468, and transfers reading it. A\n"
    "replaced asset is listed until its last transfer ends.\n"
    "\n"
    "  --reload   first load again every asset whose file changed; transfers\n"
    "             running finish with the content they started with\n"
    "  --json     print the daemon's answer as one line of JSON\n";

static const char usage_detach[] =
    "usage: xpxe detach -i IFACE\n"
    "\n"
    "Removes xpxe's XDP program and its pins from IFACE. When a daemon serves\n"
    "IFACE it is asked to do it (and exits once it serves nothing); otherwise the\n"
    "program and pins a killed daemon left are removed directly (needs root).\n"
    "\n"
    "  -i, --interface IFACE    interface to detach from\n";

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "xpxe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return XPXE_EXIT_USAGE;
}

/* Adds NAME=PATH to OPTS->assets; a later flag for the same name wins. */
static int add_asset(struct xpxe_serve_opts *opts, const char *name, const char *path)
{
	for (int i = 0; i < opts->n_assets; i++) {
		if (!strcmp(opts->assets[i].name, name)) {
			opts->assets[i].path = path;
			return 0;
		}
	}
	if (opts->n_assets == XPXE_MAX_ASSETS)
		return usage_error(usage_serve, "%s", "at most 64 assets");
	if (!*path)
		return usage_error(usage_serve, "asset %s: no file given", name);
	opts->assets[opts->n_assets].name = name;
	opts->assets[opts->n_assets].path = path;
	opts->n_assets++;
	return 0;
}

static int cmd_serve(int argc, char **argv, const char *socket_path)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "allow-default-route", no_argument, NULL, 'D' },
		{ "asset", required_argument, NULL, 'a' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'r' },
		{ "no-default-assets", no_argument, NULL, 'N' },
		{ "tftp-idle-timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct xpxe_serve_opts opts = { .socket_path = socket_path };
	char *eq, *end;
	unsigned long v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!xpxe_ifname_valid(optarg))
				return usage_error(usage_serve, "'%s' is not an interface name",
						   optarg);
			if (opts.n_ifnames == XPXE_MAX_IFACES)
				return usage_error(usage_serve, "%s", "at most 8 interfaces");
			opts.ifnames[opts.n_ifnames++] = optarg;
			break;
		case 'D':
			opts.allow_default_route = true;
			break;
		case 'a':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return usage_error(usage_serve, "--asset wants NAME=FILE, not '%s'",
						   optarg);
			*eq = '\0';
			rc = add_asset(&opts, optarg, eq + 1);
			if (rc)
				return rc;
			break;
		case 'k':
		case 'r':
			rc = add_asset(&opts, c == 'k' ? "vmlinuz" : "initramfs", optarg);
			if (rc)
				return rc;
			break;
		case 'N':
			opts.no_default_assets = true;
			break;
		case 'T':
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < 1 || v > 86400)
				return usage_error(
				    usage_serve,
				    "--tftp-idle-timeout wants 1..86400 seconds, not '%s'", optarg);
			opts.tftp_idle_timeout_s = v;
			break;
		case 'h':
			fputs(usage_serve, stdout);
			return XPXE_EXIT_OK;
		default:
			fputs(usage_serve, stderr);
			return XPXE_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage_serve, "unexpected argument '%s'", argv[optind]);
	if (!opts.n_ifnames)
		return usage_error(usage_serve, "%s", "serve needs an interface: -i IFACE");
	return xpxe_serve(&opts);
}

static int cmd_status(int argc, char **argv, const char *socket_path)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_status, stdout);
			return XPXE_EXIT_OK;
		default:
			fputs(usage_status, stderr);
			return XPXE_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage_status, "unexpected argument '%s'", argv[optind]);
	return xpxe_cli_status(socket_path, json);
}

static int cmd_assets(int argc, char **argv, const char *socket_path)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "reload", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false, reload = false;
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'R':
			reload = true;
			break;
		case 'h':
			fputs(usage_assets, stdout);
			return XPXE_EXIT_OK;
		default:
			fputs(usage_assets, stderr);
			return XPXE_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage_assets, "unexpected argument '%s'", argv[optind]);
	return xpxe_cli_assets(socket_path, json, reload);
}

static int cmd_detach(int argc, char **argv, const char *socket_path)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *ifname = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "+i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'h':
			fputs(usage_detach, stdout);
			return XPXE_EXIT_OK;
		default:
			fputs(usage_detach, stderr);
			return XPXE_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage_detach, "unexpected argument '%s'", argv[optind]);
	if (!ifname)
		return usage_error(usage_detach, "%s", "detach needs an interface: -i IFACE");
	if (!xpxe_ifname_valid(ifname))
		return usage_error(usage_detach, "'%s' is not an interface name", ifname);
	return xpxe_cli_detach(socket_path, ifname);
}

struct command {
	const char *name;
	int (*run)(int argc, char **argv, const char *socket_path);
	const char *usage;
};

static const struct command commands[] = {
	{ "serve", cmd_serve, usage_serve },
	{ "status", cmd_status, usage_status },
	{ "assets", cmd_assets, usage_assets },
	{ "detach", cmd_detach, usage_detach },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *socket_path = getenv("XPXE_SOCKET");
	const struct command *cmd;
	int c;

	if (!socket_path || !*socket_path)
		socket_path = XPXE_SOCKET_PATH;
	/* '+': stop at the command name, its flags are its own. */
	while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'v':
			xpxe_log_threshold = XPXE_LOG_DEBUG;
			break;
		case 'h':
			fputs(usage_main, stdout);
			return XPXE_EXIT_OK;
		case 'V':
			printf("xpxe %s\n", XPXE_VERSION);
			return XPXE_EXIT_OK;
		default:
			fputs(usage_main, stderr);
			return XPXE_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_main, stderr);
		return XPXE_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt for the command's own flags (0: full re-initialisation) */

	if (!strcmp(argv[0], "version")) {
		printf("xpxe %s\n", XPXE_VERSION);
		return XPXE_EXIT_OK;
	}
	if (!strcmp(argv[0], "help")) {
		cmd = argc > 1 ? find_command(argv[1]) : NULL;
		if (argc > 1 && !cmd)
			return usage_error(usage_main, "unknown command '%s'", argv[1]);
		fputs(cmd ? cmd->usage : usage_main, stdout);
		return XPXE_EXIT_OK;
	}
	cmd = find_command(argv[0]);
	if (!cmd)
		return usage_error(usage_main, "unknown command '%s'", argv[0]);
	xpxe_log_hook_libraries();
	return cmd->run(argc, argv, socket_path);
}
