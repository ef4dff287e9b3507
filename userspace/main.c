// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpxe: one binary. `xpxe serve` is the daemon; every other subcommand is a
 * client of it over the control socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xpxe.h"
#include "xpxe_tftp.h" /* XPXE_TFTP_WINDOWSIZE_LIMIT, 1024 in the usage */
#include "control/control.h"
#include "inventory.h"
#include "config.h"
#include "log.h"
#include "netif.h"
#include "serve/serve.h"
#include "store/store.h"

static const char usage_main[] =
    "usage: xpxe [--socket PATH] [-v] COMMAND [ARGS]\n"
    "\n"
    "A PXE responder whose DHCP and TFTP answers run in XDP.\n"
    "\n"
    "commands:\n"
    "  serve -c FILE | -i IFACE ...   attach and serve, in the foreground\n"
    "  check -c FILE | -i IFACE ...   what serve checks before it attaches, then exit\n"
    "  status [--json] [--all]        interfaces, attach mode, program ids, counters\n"
    "  assets [--json] [--reload]     the files served over TFTP: size, sha256, blocks\n"
    "  detach -i IFACE                remove xpxe's program and pins from IFACE\n"
    "  leases [--json]                full mode's DHCP bindings (MAC, IP, expiry)\n"
    "  machines [list|show|add|rm|mark-installed|rearm]  the inventory, boot-once\n"
    "  store migrate --from SRC --to DST  files <-> etcd: machines, marks, bindings\n"
    "  reload [--json]                read the config again (a bad one changes nothing)\n"
    "  watch [--once]                 the fleet as it boots, live (lines when not a tty)\n"
    "  trace MACHINE [--once]         one machine's events as they come\n"
    "  version                        print the version\n"
    "  help [COMMAND]                 this text, or a command's\n"
    "\n"
    "options (before the command or among its flags):\n"
    "  --socket PATH   control socket (default " XPXE_SOCKET_PATH ", or $XPXE_SOCKET)\n"
    "  -v, --verbose   log libbpf's and libxdp's own messages too\n"
    "  --log-format text|json\n"
    "                  the daemon's log lines: text with key=value events (default),\n"
    "                  or one JSON object per line\n"
    "  --log-target auto|stderr|journal\n"
    "                  where the daemon's lines go: auto (default) sends them to\n"
    "                  journald when it listens (" XPXE_JOURNAL_SOCKET "),\n"
    "                  with each event's fields (XPXE_EVENT, XPXE_MAC, XPXE_IP, ...),\n"
    "                  and to stderr too unless stderr is already the journal's;\n"
    "                  journal: only there (fails when no journald listens)\n"
    "\n"
    "exit codes: 0 done, 1 failed, 2 bad usage, 3 no daemon answers, 4 not attached (or\n"
    "no such machine), 5 refused (it clashes with the inventory, or is the config file's)\n";

static const char usage_serve[] =
    "usage: xpxe serve -i IFACE [-i IFACE...] [OPTIONS]\n"
    "\n"
    "Loads xpxe's XDP program, attaches it to each IFACE (native mode where the\n"
    "driver supports it, else generic; through the libxdp dispatcher where the\n"
    "kernel can run it, else alone) with its TFTP fallback on tc ingress, pins\n"
    "its maps under " XPXE_PIN_ROOT "/IFACE/, answers DHCP from XDP, listens on\n"
    "the control socket and logs to journald and/or stderr (--log-target, see\n"
    "'xpxe help'). SIGINT or SIGTERM detach and remove\n"
    "the pins (unless --keep-attached). A daemon killed with SIGKILL leaves the\n"
    "programs serving (DHCP for known machines, running TFTP transfers); the\n"
    "next 'xpxe serve' on IFACE takes them over, 'xpxe detach' removes them.\n"
    "\n"
    "TFTP: the daemon answers each read request on UDP port 69 (in its network\n"
    "namespace) and the data plane sends every further block from BPF maps. The\n"
    "files are loaded into those maps at start: each --asset, --kernel as\n"
    "'vmlinuz', --initrd as 'initramfs', and Debian's iPXE binaries from\n" XPXE_IPXE_DIR
    " (undionly.kpxe, ipxe.efi, snponly.efi) where present and\n"
    "no other file took the name. A client names exactly an asset's name (a\n"
    "leading '/' is ignored); nothing else is ever served. Writes are refused.\n"
    "'xpxe assets --reload' loads changed files again. Clients that ask for a\n"
    "windowsize (RFC 7440) get their windows through the daemon's AF_XDP sockets,\n"
    "one per RX queue of IFACE, from the same maps.\n"
    "\n"
    "It refuses, before it touches any interface: an IFACE that does not exist\n"
    "here; one that carries the default route (a responder there would be a rogue\n"
    "DHCP server); one another xpxe serves, or whose pins are another network\n"
    "namespace's; an asset file it cannot read; a Talos config that does not\n"
    "exist or uses an unknown {{placeholder}}; a server IP this host does not\n"
    "have; a pool or reservation outside IFACE's subnet; an HTTP address that is\n"
    "not this host's or is taken; UDP port 69 taken by another server; and\n"
    "running without CAP_BPF and CAP_NET_ADMIN. 'xpxe check' runs these checks\n"
    "alone.\n"
    "\n"
    "HTTP (SERVER:8080 unless --http or http.listen says otherwise): /boot.ipxe\n"
    "(iPXE's script, per machine), /assets/NAME (the assets, with Range),\n"
    "/talos/config?mac=&uuid=&serial= (the machine's Talos config, to its own\n"
    "address and http.allow's networks only; once served, the machine boots from\n"
    "its disk until 'xpxe machines rearm'), /uki/NAME (a uki profile's UKI),\n"
    "/metrics. With --tls-cert/--tls-key (http.tls_cert, tls_key) the same over\n"
    "HTTPS on SERVER:8443, and talos.config= URLs point there.\n"
    "\n"
    "Without -c, /etc/xpxe/xpxe.yaml is read when it exists and no -i or quick-start\n"
    "flag is given; otherwise the flags below make a config of one profile.\n"
    "\n"
    "  -c, --config FILE           the config file (see xpxe.yaml in README.md)\n"
    "  -i, --interface IFACE       interface to serve (up to 8; overrides the file's)\n"
    "  --allow-default-route       serve an interface that carries the default route\n"
    "  --state-dir DIR             boot-once marks, added machines, default leases\n"
    "                              files (default " XPXE_STATE_DIR ")\n"
    "  --store files|etcd://HOST:PORT[,HOST:PORT...]\n"
    "                              where machines added, boot-once marks and full mode's\n"
    "                              bindings live (default files: this host's state\n"
    "                              folder); etcd: shared by every responder using the\n"
    "                              same etcd, the files stay as this one's copy\n"
    "                              (overrides store: in the file; TLS options there)\n"
    "  --keep-attached             on SIGINT/SIGTERM exit but leave the programs\n"
    "                              attached and pinned, as SIGKILL would: they keep\n"
    "                              answering; the next serve adopts them (the\n"
    "                              systemd units use this for restarts)\n"
    "\n"
    "Quick start (no config file):\n"
    "  --talos-config DIR|FILE     Talos configs: DIR/aa-bb-cc-dd-ee-ff.yaml for the\n"
    "                              machine with that MAC, else DIR/default.yaml\n"
    "  --cmdline \"ARGS\"            kernel arguments after talos.platform=metal\n"
    "                              slab_nomerge pti=on (e.g. console=ttyS0)\n"
    "  --transport http|tftp|uki|grub\n"
    "                              http, tftp: how iPXE fetches kernel and initrd\n"
    "                              (default http); uki: boot the UKI of --uki; grub:\n"
    "                              UEFI machines boot through shim and signed GRUB\n"
    "                              (Secure Boot; Debian's shim-signed and\n"
    "                              grub-efi-amd64-signed, or --asset shimx64.efi=,\n"
    "                              grubx64.efi=), GRUB loads kernel and initrd\n"
    "  --uki FILE                  serve FILE, a signed Unified Kernel Image, as\n"
    "                              asset 'uki' and boot it (--transport uki): UEFI\n"
    "                              HTTP boot clients get /uki/uki, iPXE chains to\n"
    "                              it. Under Secure Boot its own command line is the\n"
    "                              only one: it must carry talos.config= (xpxe logs\n"
    "                              what it finds); refused unless it is a PE image\n"
    "                              with .linux and .initrd\n"
    "  --tls-cert FILE --tls-key FILE\n"
    "                              HTTPS on SERVER:8443 with this PEM certificate and\n"
    "                              key (reread on 'xpxe reload'); talos.config= URLs\n"
    "                              then point there\n"
    "\n"
    "TFTP:\n"
    "  --asset NAME=FILE           serve FILE over TFTP as NAME (up to 64; repeatable)\n"
    "  --kernel FILE               the same as --asset vmlinuz=FILE\n"
    "  --initrd FILE               the same as --asset initramfs=FILE\n"
    "  --kernel-arm64 FILE         arm64 machines' kernel (--asset vmlinuz-arm64=FILE)\n"
    "  --initrd-arm64 FILE         ... and initramfs (--asset initramfs-arm64=FILE):\n"
    "                              arm64 UEFI PXE clients get Debian's netboot\n"
    "                              GRUB (grubaa64.efi: grub-efi-arm64-signed's, or\n"
    "                              --asset grubaa64.efi=FILE), whose grub.cfg boots\n"
    "                              these; amd64 machines keep --kernel and --initrd.\n"
    "                              A machine whose architecture has no files gets\n"
    "                              none (counted)\n"
    "  --uki-arm64 FILE            arm64 UEFI HTTP boot clients' UKI (asset\n"
    "                              'uki-arm64', /uki/uki-arm64): GRUB cannot go on\n"
    "                              after HTTP boot; checked as --uki is\n"
    "  --no-default-assets         do not serve Debian's iPXE binaries\n"
    "  --tftp-idle-timeout SECONDS end a transfer whose client is silent this long\n"
    "                              (default 30, at least 3x its timeout option, which\n"
    "                              is granted up to 10 s)\n"
    "  --tftp-windowsize-max N     grant clients windows of up to N blocks (RFC 7440,\n"
    "                              1..1024, default 16; 1: lockstep only), sent through\n"
    "                              AF_XDP sockets; without AF_XDP, windowsize is not\n"
    "                              offered\n"
    "  --tftp-max-sessions N       transfers at once, over all interfaces (default\n"
    "                              4096); at the limit a read request takes the place\n"
    "                              of the oldest transfer never acknowledged\n"
    "                              (tftp_sessions_unconfirmed), or gets ERROR 0 'server\n"
    "                              busy' (tftp_sessions_refused)\n"
    "  --tftp-max-per-ip N         transfers at once from one address (default 32); a\n"
    "                              read request beyond gets ERROR 0 'too many transfers\n"
    "                              from your address' (tftp_sessions_refused_per_ip)\n"
    "  --tftp-port-range LOW-HIGH  the ports of transfers over IPv4 and IPv6, one\n"
    "                              each (default 49152-65535; 1024..65535, at most\n"
    "                              16384 ports and at least --tftp-max-sessions);\n"
    "                              as dnsmasq's, for firewalls (downloads.tftp_port_range)\n"
    "\n"
    "HTTP (these six also go with -c, and override the file's http: and downloads:):\n"
    "  --http-max-connections N    connections at once (default 2048)\n"
    "  --http-max-per-ip N         connections at once from one address (default 32)\n"
    "  --http-timeout SECONDS      close a connection silent this long (default 30)\n"
    "  --max-downloads N           kernel and initramfs downloads (files of 1 MiB\n"
    "                              or more) at once (default 32; 0: no cap); the others\n"
    "                              are held in a queue in the order they asked;\n"
    "                              machines with role controlplane or init go at once\n"
    "  --download-max-wait SECONDS let a queued download in over the cap after this\n"
    "                              long (default 0: never; held ones get a trickle)\n"
    "  --max-tftp-downloads N      TFTP transfers at once, IPv4 and IPv6 (default\n"
    "                              128; 0: no cap); further read requests are held\n"
    "                              unanswered (the firmware repeats them) in the\n"
    "                              order they asked, a control plane's at once\n"
    "  --tftp-max-wait SECONDS     let a held TFTP read request in over the cap after\n"
    "                              this long (default 2; 0: never; at most 60)\n"
    "  --tftp-pace-ms MS           a TFTP transfer let in over the cap runs paced, one\n"
    "                              block each MS until a place frees (default 200;\n"
    "                              0: off, full speed; at most 240)\n"
    "  --tftp-http-backlog N       no TFTP transfer takes a free place at full speed\n"
    "                              while N HTTP downloads wait (default 32; 0: off)\n"
    "\n"
    "Fleet page (quick start; ui: in a config file):\n"
    "  --ui ADDR:PORT              serve the fleet page there (default: off): each\n"
    "                              machine's stage, progress, address, profile and\n"
    "                              last problem, live, and the storm's plot; its own\n"
    "                              listener and connection limit (32), apart from\n"
    "                              the machines' HTTP\n"
    "  --ui-allow NETWORK          who may see it (ADDR[/BITS], repeatable; default\n"
    "                              127.0.0.0/8 only); others get 403\n"
    "\n"
    "DHCP:\n"
    "  --mode proxy|full|off    proxy (default): another server gives addresses, xpxe\n"
    "                           answers PXE, HTTP-boot and iPXE clients with boot\n"
    "                           information; full: xpxe is the DHCP server of an\n"
    "                           isolated network; off: no DHCP answers\n"
    "  --server-ip IP           address to answer as (default: IFACE's first IPv4);\n"
    "                           one of this host's\n"
    "  --http ADDR:PORT         where iPXE scripts and HTTP boot files are served\n"
    "                           (default: SERVER-IP:8080)\n"
    "  --boot-file CLASS=FILE   boot file (TFTP name or http:// URL) for a client class:\n"
    "                           bios (default undionly.kpxe), uefi-x64 (snponly.efi),\n"
    "                           uefi-ia32, uefi-arm32, uefi-arm64, http-x64\n"
    "                           (HTTP/assets/snponly.efi), http-ia32, http-arm32,\n"
    "                           http-arm64, uboot-arm64, rpi, ipxe (HTTP/boot.ipxe);\n"
    "                           a class without a file gets no answer\n"
    "  --proxy-strategy auto|bypass|4011\n"
    "                           how proxy mode hands PXE ROMs their file: in the OFFER\n"
    "                           (bypass) or in the ACK to a request on port 4011;\n"
    "                           auto (default): 4011 for UEFI, bypass otherwise;\n"
    "                           HTTP boot clients always get their URL in the OFFER\n"
    "  --unknown answer|ignore  proxy mode: answer machines not in the inventory\n"
    "                           (default answer)\n"
    "  --dhcp-local-server auto|yes|no\n"
    "                           proxy mode: whether a DHCP server runs on this host; it\n"
    "                           gets every PXE DISCOVER too (tc answers them after a\n"
    "                           copy went up), else XDP answers them; auto (default):\n"
    "                           yes while a UDP socket is bound to port 67 here\n"
    "                           (looked at each second); yes for servers on raw sockets\n"
    "                           or in a VM or container bridged to IFACE (their port 67\n"
    "                           is in another network namespace: auto cannot see it)\n"
    "  --router-advert auto|on|off\n"
    "                           answer the IPv6 Router Solicitations of the machines\n"
    "                           xpxe serves with an empty Router Advertisement (ends\n"
    "                           old iPXE's 15 s wait for a router); auto (default):\n"
    "                           on in full mode, off in proxy mode\n"
    "  --pool FIRST-LAST        full mode: addresses for machines without a reservation,\n"
    "                           inside IFACE's subnet or a network routed through it\n"
    "                           (a relay's); a MAC keeps its address across boots\n"
    "  --reserve MAC=IP         full mode: a fixed address for MAC (repeatable), inside\n"
    "                           those networks; MAC as aa:bb:cc:dd:ee:ff,\n"
    "                           aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff\n"
    "  --pool6 FIRST-LAST       full mode: DHCPv6 addresses (IA_NA) from this range of\n"
    "                           one /64 (at most 65536); IFACE needs a global or ULA\n"
    "                           address; the RA then says M=1 O=1 with the /64 on-link\n"
    "  --reserve6 MAC=IPV6      full mode: a fixed DHCPv6 address for MAC (repeatable)\n"
    "  --vlan VID=ADDR/PREFIX   serve VLAN VID of the trunk IFACE (repeatable; one -i):\n"
    "                           DHCP, 4011 and TFTP answered in XDP with the request's\n"
    "                           tag as ADDR, which xpxe puts on IFACE for the kernel\n"
    "                           (ARP, TFTP requests); OUTER.VID=... for an 802.1ad\n"
    "                           outer tag. Full mode: machines reserved inside\n"
    "                           ADDR/PREFIX (--reserve), and with ,pool=FIRST-LAST\n"
    "                           new machines from the VLAN's pool (bindings in\n"
    "                           LEASES.vlanVID); the untagged network stays served\n"
    "  --leases FILE            full mode: where bindings are kept\n"
    "                           (default STATE_DIR/IFACE.leases)\n"
    "  --router IP, --dns IP    full mode: options 3 and 6\n"
    "  --lease-time SECONDS     full mode: lease time (default 3600)\n"
    "  --offer-hold SECONDS     full mode: how long an address offered to a new MAC\n"
    "                           is held for its REQUEST (default 30); unclaimed, it\n"
    "                           goes back to the pool (nothing is written to disk\n"
    "                           before the REQUEST)\n"
    "  --dhcp-mac-rate RATE[/BURST]\n"
    "                           requests per second from one MAC, BURST at once\n"
    "                           (default 20/60; 0: no limit); more are dropped in XDP\n"
    "                           (drop_dhcp_rate_mac). Charged to the frame's source\n"
    "                           MAC and the client it names (chaddr)\n"
    "  --dhcp-global-rate RATE[/BURST]\n"
    "                           requests per second per CPU from MACs not known yet\n"
    "                           (default 10000/10000; 0: no limit); more are dropped\n"
    "                           (drop_dhcp_rate_global); known machines never wait\n"
    "  --dhcp-relay-rate RATE[/BURST]\n"
    "                           DHCPv6 Relay-forwards per second from one relay\n"
    "                           address, BURST at once (default 200/400; 0: no\n"
    "                           limit); more are dropped by the daemon (relay_limited).\n"
    "                           All relays together: 4 x RATE and BURST\n"
    "                           (relay_global_limited)\n";

static const char usage_check[] =
    "usage: xpxe check -c FILE | -i IFACE [-i IFACE...] [OPTIONS]\n"
    "\n"
    "Runs every check 'xpxe serve' runs before it touches an interface, with the\n"
    "same flags, and exits: the config (file or quick-start flags) and what it\n"
    "names on this host: each interface (it exists here, carries no default route\n"
    "unless --allow-default-route, no other xpxe serves it, its pins are this\n"
    "network namespace's), the addresses (server IP, pool and reservations inside\n"
    "the interface's subnet), the asset files, the Talos configs and their\n"
    "{{placeholders}}, the HTTP address and UDP port 69 (free, and this host's),\n"
    "the control socket, and the privileges serve needs. Nothing is attached,\n"
    "loaded or bound. Prints what serve would serve, or the first problem.\n"
    "A daemon already serving the interfaces is reported, not counted as a\n"
    "problem: 'xpxe reload' applies a file to it.\n"
    "\n"
    "  OPTIONS   those of 'xpxe serve' (see 'xpxe help serve')\n"
    "\n"
    "exit codes: 0 serve would start, 1 a problem (the message says where),\n"
    "2 bad usage\n";

static const char usage_version[] = "usage: xpxe version\n"
				    "\n"
				    "Prints the version (the same as 'xpxe --version').\n";

static const char usage_help[] = "usage: xpxe help [COMMAND]\n"
				 "\n"
				 "Prints the usage of xpxe, or of COMMAND (the same as\n"
				 "'xpxe COMMAND --help').\n";

static const char usage_status[] =
    "usage: xpxe status [--json] [--all]\n"
    "\n"
    "Asks the daemon for each interface it serves: attach mode, program id, pin\n"
    "folder, the TFTP paths and the data plane's counters: those that are not zero\n"
    "(every frame ends in one of them), all of them with --all.\n"
    "\n"
    "  --all    list the counters that are still zero too\n"
    "  --json   print the daemon's answer as one line of JSON (every counter)\n";

static const char usage_machines[] =
    "usage: xpxe machines [list] [--json]\n"
    "       xpxe machines show MACHINE [--json]\n"
    "       xpxe machines add --mac MAC [--mac MAC...] [--hostname NAME] [--uuid UUID]\n"
    "                         [--serial SERIAL] [--profile NAME] [--ip IP]\n"
    "                         [--install-disk DISK] [--talos-config FILE]\n"
    "                         [--role controlplane|init|worker] [--json]\n"
    "       xpxe machines rm MACHINE [--json]\n"
    "       xpxe machines mark-installed MACHINE [--json]\n"
    "       xpxe machines rearm MACHINE [--json]\n"
    "\n"
    "The inventory: the config file's machines and those added at run time, and\n"
    "each machine's boot-once state. A machine that has fetched its Talos config\n"
    "(or was marked installed) gets a script that boots its local disk at every\n"
    "PXE boot, until it is re-armed. MACHINE is a MAC (aa:bb:cc:dd:ee:ff,\n"
    "aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff), a hostname, a UUID or a\n"
    "serial; a MAC not in the inventory works too (machines booted under the\n"
    "default profile).\n"
    "\n"
    "  show     everything known about one machine: selectors, profile, reserved\n"
    "           address, lease, the address it was seen at, which config document\n"
    "           it gets and to which address, boot-once, stage and last events\n"
    "  add      a machine, checked as the config file's are (at least one of\n"
    "           --mac, --uuid, --serial, --hostname); it takes effect at once (DHCP\n"
    "           maps, scripts, configs) and is kept in STATE_DIR/machines.yaml, so\n"
    "           it survives restarts and reloads. Refused (exit 5) when a MAC,\n"
    "           hostname, UUID, serial or address is another machine's, or the\n"
    "           address is outside the served subnet or bound from the pool\n"
    "  rm       a machine added with 'add'; a machine of the config file is\n"
    "           refused (exit 5): edit the file and run 'xpxe reload'\n"
    "\n"
    "  --mac MAC, --hostname NAME, --uuid UUID, --serial SERIAL, --profile NAME,\n"
    "  --ip IP, --install-disk DISK, --talos-config FILE\n"
    "           the machine's keys, as in xpxe.yaml(5) (--ip: full mode's reservation)\n"
    "  --role controlplane|init|worker\n"
    "           its place in the queue of bulk downloads: controlplane and init go to\n"
    "           the front, worker keeps its turn (unset: its Talos config's type)\n"
    "  --json   print the daemon's answer as one line of JSON\n"
    "\n"
    "exit codes: 0 done, 2 bad usage or an invalid value, 3 no daemon, 4 no such\n"
    "machine, 5 refused (a clash, or the config file's machine), 1 other failures\n";

static const char usage_reload[] =
    "usage: xpxe reload [--json]\n"
    "\n"
    "Asks the daemon to read its config again (the file given with -c, or the\n"
    "quick start's files). The new config is checked whole first: a bad one\n"
    "changes nothing and the error says where. Machines, profiles, assets and\n"
    "boot files change in place; transfers in flight finish with what they\n"
    "started with. Interfaces, mode, server_ip, http.listen, ui.listen,\n"
    "ui.max_connections and state_dir need a restart, and so do http's limits,\n"
    "HTTPS on or off, http.tls_listen, dhcp.pool, dhcp.leases and store: a reload\n"
    "that changes one is refused, naming it. SIGHUP does the same.\n"
    "\n"
    "  --json   print the daemon's answer as one line of JSON\n";

static const char usage_watch[] =
    "usage: xpxe watch [--once] [--interval SECONDS]\n"
    "\n"
    "The fleet as it boots: each machine's MAC, hostname, address, stage (dhcp\n"
    "offer, address, boot file, tftp, ipxe script, downloading, config,\n"
    "installed, local disk), a progress bar (of the running TFTP transfer while\n"
    "there is one, else of the stages), bytes fetched, time since its first\n"
    "DHCP packet ('-' for a machine of the inventory not seen yet), its current\n"
    "or last TFTP transfer (file, percentage or done/failed, the path that sends\n"
    "its blocks: xdp, tc, af_xdp or udp, and rtx=N blocks sent again) and its\n"
    "last problem (in red; a transfer with retransmits in yellow). On a terminal\n"
    "the table is redrawn in place; when the output is not a terminal, every\n"
    "event is printed as one line instead (see 'xpxe help trace').\n"
    "\n"
    "  --once               print once and exit\n"
    "  --interval SECONDS   refresh period (default 1)\n";

static const char usage_trace[] =
    "usage: xpxe trace MACHINE [--once]\n"
    "\n"
    "One machine's events as they come, one line each, until Ctrl-C: DHCP\n"
    "(dhcp_offer, dhcp_ack, dhcp_ack_4011, dhcp_nak, lease_bound), TFTP\n"
    "(tftp_start, tftp_retransmit, tftp_done, tftp_aborted, tftp_error,\n"
    "tftp_expired), HTTP (script, download_queued, asset, config,\n"
    "config_refused, local_boot_script) and boot-once (installed, rearmed).\n"
    "MACHINE is a MAC, a hostname, a UUID or a serial, as for 'xpxe machines\n"
    "show'; the events of each of the machine's MACs are shown.\n"
    "\n"
    "  --once   print the events so far and exit\n";

static const char usage_leases[] =
    "usage: xpxe leases [--json]\n"
    "\n"
    "Lists full mode's DHCP bindings of every interface the daemon\n"
    "serves: MAC, address and expiry. A MAC keeps its address across\n"
    "boots and daemon restarts.\n"
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
    "program and pins a killed daemon left are removed directly (needs root), in\n"
    "IFACE's network namespace only: elsewhere it refuses (exit 1), removes\n"
    "nothing and says what to run there.\n"
    "\n"
    "  -i, --interface IFACE    interface to detach from\n";

/* After a usage error: where the usage is, not the whole of it (it would bury the error). */
static int usage_hint(const char *usage)
{
	char cmd[16] = "";

	/* "usage: xpxe serve ...": the command's name; the main usage has none. */
	if (sscanf(usage, "usage: xpxe %15[a-z]", cmd) == 1)
		fprintf(stderr, "Try 'xpxe help %s' for its usage.\n", cmd);
	else
		fprintf(stderr, "Try 'xpxe help' for the usage.\n");
	return XPXE_EXIT_USAGE;
}

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "xpxe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return usage_hint(usage);
}

/*
 * The global options: before the command or anywhere among its own flags
 * (`xpxe status --socket PATH` as well as `xpxe --socket PATH status`).
 */
enum {
	OPT_SOCKET = 2000,
	OPT_LOG_FORMAT,
	OPT_LOG_TARGET,
};

#define GLOBAL_LONGOPTS                                                                           \
	{ "socket", required_argument, NULL, OPT_SOCKET }, { "verbose", no_argument, NULL, 'v' }, \
	    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },                            \
	{                                                                                         \
		"log-target", required_argument, NULL, OPT_LOG_TARGET                             \
	}

/* The case labels of the global options, in every command's switch. */
#define CASE_GLOBAL_OPTION   \
	case 'v':            \
	case OPT_SOCKET:     \
	case OPT_LOG_FORMAT: \
	case OPT_LOG_TARGET

static int global_option(int c, const char *arg);

/*
 * What every command's flags share: --help, the global options, a flag it does not
 * know. Returns -1 to go on parsing, else the exit code.
 */
static int common_option(int c, const char *usage)
{
	int rc;

	switch (c) {
	case 'h':
		fputs(usage, stdout);
		return XPXE_EXIT_OK;
	CASE_GLOBAL_OPTION:
		rc = global_option(c, optarg);
		return rc ? rc : -1;
	default:
		return usage_hint(usage);
	}
}

static struct {
	const char *socket;
	enum xpxe_log_target target;
	bool target_given;
} g;

/* Applies global option C (with ARG); returns 0, or the exit code of a usage error. */
static int global_option(int c, const char *arg)
{
	switch (c) {
	case OPT_SOCKET:
		g.socket = arg;
		return 0;
	case 'v':
		xpxe_log_threshold = XPXE_LOG_DEBUG;
		return 0;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return usage_error(usage_main, "--log-format takes text or json, not '%s'",
					   arg);
		xpxe_log_json = !strcmp(arg, "json");
		return 0;
	case OPT_LOG_TARGET:
		if (!strcmp(arg, "auto"))
			g.target = XPXE_LOG_TARGET_AUTO;
		else if (!strcmp(arg, "stderr"))
			g.target = XPXE_LOG_TARGET_STDERR;
		else if (!strcmp(arg, "journal"))
			g.target = XPXE_LOG_TARGET_JOURNAL;
		else
			return usage_error(usage_main,
					   "--log-target takes auto, stderr or journal, not '%s'",
					   arg);
		g.target_given = true;
		return 0;
	}
	return usage_error(usage_main, "%s", "unknown option");
}

static int parse_ip(const char *text, struct in_addr *ip)
{
	return inet_pton(AF_INET, text, ip) == 1 ? 0 : -EINVAL;
}

/* One DHCP flag of `serve`; returns 0 or a usage error already printed. */
/* Codes of the long options that have no short letter. */
enum {
	OPT_OFFER_HOLD = 1000,
	OPT_MAC_RATE,
	OPT_GLOBAL_RATE,
	OPT_RELAY_RATE,
	OPT_TFTP_MAX_SESSIONS,
	OPT_TFTP_MAX_PER_IP,
	OPT_HTTP_MAX_CONNECTIONS,
	OPT_HTTP_MAX_PER_IP,
	OPT_HTTP_TIMEOUT,
	OPT_MAX_DOWNLOADS,
	OPT_DOWNLOAD_MAX_WAIT,
	OPT_MAX_TFTP_DOWNLOADS,
	OPT_TFTP_MAX_WAIT,
	OPT_TFTP_PACE_MS,
	OPT_TFTP_HTTP_BACKLOG,
	OPT_TFTP_PORT_RANGE,
	OPT_ROUTER_ADVERT,
	OPT_STORE,
	OPT_UKI,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_UI,
	OPT_UI_ALLOW,
	OPT_KERNEL_ARM64,
	OPT_INITRD_ARM64,
	OPT_UKI_ARM64,
	OPT_VLAN,
	OPT_POOL6,
	OPT_RESERVE6,
	OPT_LOCAL_SERVER,
};

/* The usage serve's flags are errors of: serve's, or check's (the same flags). */
static const char *serve_usage = usage_serve;

static int serve_dhcp_flag(int c, const char *arg, struct xpxe_dhcp_settings *dhcp)
{
	char text[300], *eq;
	int class;

	switch (c) {
	case 'm':
		if (!strcmp(arg, "proxy")) {
			dhcp->mode = XPXE_MODE_PROXY;
		} else if (!strcmp(arg, "full")) {
			dhcp->mode = XPXE_MODE_FULL;
		} else if (!strcmp(arg, "off")) {
			dhcp->enabled = false;
		} else {
			return usage_error(serve_usage, "--mode takes proxy, full or off, not '%s'",
					   arg);
		}
		return 0;
	case 'S':
		if (parse_ip(arg, &dhcp->server_ip))
			return usage_error(serve_usage, "--server-ip: '%s' is not an IPv4 address",
					   arg);
		return 0;
	case 'H':
		if (!strchr(arg, ':') || strlen(arg) > 100)
			return usage_error(serve_usage, "--http takes ADDR:PORT, not '%s'", arg);
		snprintf(dhcp->http_base, sizeof(dhcp->http_base), "http://%s", arg);
		return 0;
	case 'B':
		snprintf(text, sizeof(text), "%s", arg);
		eq = strchr(text, '=');
		if (eq)
			*eq = '\0';
		class = xpxe_boot_class_from_name(text);
		if (!eq || class <= XPXE_BOOT_PLAIN || class == XPXE_BOOT_UNKNOWN_ARCH)
			return usage_error(serve_usage,
					   "--boot-file takes CLASS=FILE with a class "
					   "listed below, not '%s'",
					   arg);
		if (strlen(eq + 1) >= XPXE_BOOT_FILE_MAX)
			return usage_error(serve_usage, "--boot-file: '%s' is too long", arg);
		snprintf(dhcp->profile.boot_file[class], XPXE_BOOT_FILE_MAX, "%s", eq + 1);
		dhcp->boot_file_set[class] = true;
		return 0;
	case 'P':
		if (!strcmp(arg, "auto"))
			dhcp->profile.strategy = XPXE_STRATEGY_AUTO;
		else if (!strcmp(arg, "bypass"))
			dhcp->profile.strategy = XPXE_STRATEGY_BYPASS;
		else if (!strcmp(arg, "4011"))
			dhcp->profile.strategy = XPXE_STRATEGY_4011;
		else
			return usage_error(serve_usage,
					   "--proxy-strategy takes auto, bypass or 4011, not '%s'",
					   arg);
		return 0;
	case 'U':
		if (strcmp(arg, "answer") && strcmp(arg, "ignore"))
			return usage_error(serve_usage,
					   "--unknown takes answer or ignore, not '%s'", arg);
		dhcp->answer_unknown = !strcmp(arg, "answer");
		return 0;
	case OPT_LOCAL_SERVER:
		if (!strcmp(arg, "auto"))
			dhcp->local_server = XPXE_LOCAL_SERVER_AUTO;
		else if (!strcmp(arg, "yes"))
			dhcp->local_server = XPXE_LOCAL_SERVER_YES;
		else if (!strcmp(arg, "no"))
			dhcp->local_server = XPXE_LOCAL_SERVER_NO;
		else
			return usage_error(serve_usage,
					   "--dhcp-local-server takes auto, yes or no, not '%s'",
					   arg);
		return 0;
	case OPT_ROUTER_ADVERT:
		if (!strcmp(arg, "auto"))
			dhcp->router_advert = XPXE_RA_AUTO;
		else if (!strcmp(arg, "on"))
			dhcp->router_advert = XPXE_RA_ON;
		else if (!strcmp(arg, "off"))
			dhcp->router_advert = XPXE_RA_OFF;
		else
			return usage_error(serve_usage,
					   "--router-advert takes auto, on or off, not '%s'", arg);
		return 0;
	case 'R': {
		struct xpxe_reservation *r = &dhcp->reservations[dhcp->n_reservations];

		snprintf(text, sizeof(text), "%s", arg);
		eq = strchr(text, '=');
		if (eq)
			*eq = '\0';
		if (dhcp->n_reservations == XPXE_MAX_RESERVATIONS)
			return usage_error(serve_usage, "%s", "too many --reserve");
		if (!eq)
			return usage_error(serve_usage, "--reserve takes MAC=IP, not '%s'", arg);
		if (xpxe_parse_mac(text, r->mac))
			return usage_error(serve_usage,
					   "--reserve %s: not a MAC: expected a MAC such "
					   "as " XPXE_MAC_SPELLINGS,
					   text);
		if (parse_ip(eq + 1, &r->ip))
			return usage_error(serve_usage, "--reserve: '%s' is not an IPv4 address",
					   eq + 1);
		dhcp->n_reservations++;
		return 0;
	}
	case OPT_POOL6: {
		const char *why;

		if (xpxe_pool6_parse(arg, &dhcp->pool6_first, &dhcp->pool6_last, &why)) {
			snprintf(text, sizeof(text), "--pool6 %s: %s", arg, why);
			return usage_error(serve_usage, "%s", text);
		}
		return 0;
	}
	case OPT_RESERVE6: {
		struct xpxe_reservation6 *r = &dhcp->reservations6[dhcp->n_reservations6];

		snprintf(text, sizeof(text), "%s", arg);
		eq = strchr(text, '=');
		if (eq)
			*eq = '\0';
		if (dhcp->n_reservations6 == XPXE_MAX_RESERVATIONS)
			return usage_error(serve_usage, "%s", "too many --reserve6");
		if (!eq)
			return usage_error(serve_usage, "--reserve6 takes MAC=IPV6, not '%s'", arg);
		if (xpxe_parse_mac(text, r->mac))
			return usage_error(serve_usage,
					   "--reserve6 %s: not a MAC: expected a MAC such "
					   "as " XPXE_MAC_SPELLINGS,
					   text);
		if (inet_pton(AF_INET6, eq + 1, &r->ip) != 1 || IN6_IS_ADDR_MULTICAST(&r->ip) ||
		    IN6_IS_ADDR_LINKLOCAL(&r->ip))
			return usage_error(serve_usage,
					   "--reserve6: '%s' is not a global or ULA IPv6 address",
					   eq + 1);
		dhcp->n_reservations6++;
		return 0;
	}
	case OPT_VLAN: {
		const char *why;

		if (dhcp->n_vlans == XPXE_VLAN_MAX)
			return usage_error(serve_usage, "%s", "at most 64 --vlan");
		if (xpxe_vlan_parse(arg, &dhcp->vlans[dhcp->n_vlans], &why)) {
			snprintf(text, sizeof(text), "--vlan %s: %s", arg, why);
			return usage_error(serve_usage, "%s", text);
		}
		dhcp->n_vlans++;
		return 0;
	}
	case 'p':
		snprintf(text, sizeof(text), "%s", arg);
		eq = strchr(text, '-');
		if (eq)
			*eq = '\0';
		if (!eq || parse_ip(text, &dhcp->pool_first) || parse_ip(eq + 1, &dhcp->pool_last))
			return usage_error(serve_usage,
					   "--pool takes FIRST-LAST (two IPv4 addresses), not '%s'",
					   arg);
		if (xpxe_pool_problem(dhcp->pool_first, dhcp->pool_last)) {
			snprintf(text, sizeof(text), "--pool %s: %s", arg,
				 xpxe_pool_problem(dhcp->pool_first, dhcp->pool_last));
			return usage_error(serve_usage, "%s", text);
		}
		return 0;
	case 'L':
		if (strlen(arg) >= sizeof(dhcp->leases_path))
			return usage_error(serve_usage, "--leases: '%s' is too long", arg);
		snprintf(dhcp->leases_path, sizeof(dhcp->leases_path), "%s", arg);
		return 0;
	case 'G':
		if (parse_ip(arg, &dhcp->router))
			return usage_error(serve_usage, "--router: '%s' is not an IPv4 address",
					   arg);
		return 0;
	case 'd':
		if (parse_ip(arg, &dhcp->dns))
			return usage_error(serve_usage, "--dns: '%s' is not an IPv4 address", arg);
		return 0;
	case 'E': {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (*end || !*arg || v < 60 || v > 0x7fffffff)
			return usage_error(
			    serve_usage, "--lease-time takes seconds (at least 60), not '%s'", arg);
		dhcp->lease_time = (unsigned int)v;
		return 0;
	}
	case OPT_OFFER_HOLD: {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (*end || !*arg || v < 1 || v > 3600)
			return usage_error(serve_usage,
					   "--offer-hold takes 1..3600 seconds, not '%s'", arg);
		dhcp->offer_hold = (unsigned int)v;
		return 0;
	}
	case OPT_MAC_RATE:
	case OPT_GLOBAL_RATE:
		if (xpxe_parse_rate(arg, c == OPT_MAC_RATE ? &dhcp->mac_rate : &dhcp->global_rate,
				    c == OPT_MAC_RATE ? &dhcp->mac_burst : &dhcp->global_burst))
			return usage_error(
			    serve_usage,
			    c == OPT_MAC_RATE ? "--dhcp-mac-rate takes RATE[/BURST] (frames per "
						"second, 0: no limit), not '%s'"
					      : "--dhcp-global-rate takes RATE[/BURST] (frames per "
						"second, 0: no limit), not '%s'",
			    arg);
		return 0;
	case OPT_RELAY_RATE:
		if (xpxe_parse_rate(arg, &dhcp->relay_rate, &dhcp->relay_burst))
			return usage_error(serve_usage,
					   "--dhcp-relay-rate takes RATE[/BURST] (messages per "
					   "second, 0: no limit), not '%s'",
					   arg);
		return 0;
	}
	return usage_error(serve_usage, "%s", "unknown option");
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
		return usage_error(serve_usage, "%s", "at most 64 assets");
	if (!*path)
		return usage_error(serve_usage, "asset %s: no file given", name);
	opts->assets[opts->n_assets].name = name;
	opts->assets[opts->n_assets].path = path;
	opts->n_assets++;
	return 0;
}

/*
 * The flags serve takes beside -c FILE: how to run, not what to serve (the file says
 * that). The refusal lists them from here, and test_docs.sh checks xpxe(8) against it.
 */
static const char *const with_config_flags[] = {
	"-i",
	"--allow-default-route",
	"--state-dir",
	"--no-default-assets",
	"--tftp-idle-timeout",
	"--tftp-windowsize-max",
	"--tftp-max-sessions",
	"--tftp-max-per-ip",
	"--http-max-connections",
	"--http-max-per-ip",
	"--http-timeout",
	"--max-downloads",
	"--download-max-wait",
	"--max-tftp-downloads",
	"--tftp-max-wait",
	"--tftp-pace-ms",
	"--tftp-http-backlog",
	"--tftp-port-range",
	"--keep-attached",
	"--store",
};

/* `serve`, and `check` (CHECK): the same flags, the same checks; check stops before attaching. */
static int serve_or_check(int argc, char **argv, bool check)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "allow-default-route", no_argument, NULL, 'D' },
		{ "asset", required_argument, NULL, 'a' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'r' },
		{ "kernel-arm64", required_argument, NULL, OPT_KERNEL_ARM64 },
		{ "initrd-arm64", required_argument, NULL, OPT_INITRD_ARM64 },
		{ "uki-arm64", required_argument, NULL, OPT_UKI_ARM64 },
		{ "no-default-assets", no_argument, NULL, 'N' },
		{ "tftp-idle-timeout", required_argument, NULL, 'T' },
		{ "tftp-windowsize-max", required_argument, NULL, 'W' },
		{ "config", required_argument, NULL, 'c' },
		{ "talos-config", required_argument, NULL, 'C' },
		{ "cmdline", required_argument, NULL, 'K' },
		{ "transport", required_argument, NULL, 'X' },
		{ "uki", required_argument, NULL, OPT_UKI },
		{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
		{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
		{ "state-dir", required_argument, NULL, 'V' },
		{ "keep-attached", no_argument, NULL, 'A' },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "mode", required_argument, NULL, 'm' },
		{ "server-ip", required_argument, NULL, 'S' },
		{ "http", required_argument, NULL, 'H' },
		{ "boot-file", required_argument, NULL, 'B' },
		{ "proxy-strategy", required_argument, NULL, 'P' },
		{ "unknown", required_argument, NULL, 'U' },
		{ "router-advert", required_argument, NULL, OPT_ROUTER_ADVERT },
		{ "dhcp-local-server", required_argument, NULL, OPT_LOCAL_SERVER },
		{ "reserve", required_argument, NULL, 'R' },
		{ "pool", required_argument, NULL, 'p' },
		{ "vlan", required_argument, NULL, OPT_VLAN },
		{ "pool6", required_argument, NULL, OPT_POOL6 },
		{ "reserve6", required_argument, NULL, OPT_RESERVE6 },
		{ "leases", required_argument, NULL, 'L' },
		{ "router", required_argument, NULL, 'G' },
		{ "dns", required_argument, NULL, 'd' },
		{ "lease-time", required_argument, NULL, 'E' },
		{ "offer-hold", required_argument, NULL, OPT_OFFER_HOLD },
		{ "dhcp-mac-rate", required_argument, NULL, OPT_MAC_RATE },
		{ "dhcp-global-rate", required_argument, NULL, OPT_GLOBAL_RATE },
		{ "dhcp-relay-rate", required_argument, NULL, OPT_RELAY_RATE },
		{ "tftp-max-sessions", required_argument, NULL, OPT_TFTP_MAX_SESSIONS },
		{ "tftp-max-per-ip", required_argument, NULL, OPT_TFTP_MAX_PER_IP },
		{ "http-max-connections", required_argument, NULL, OPT_HTTP_MAX_CONNECTIONS },
		{ "http-max-per-ip", required_argument, NULL, OPT_HTTP_MAX_PER_IP },
		{ "http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT },
		{ "max-downloads", required_argument, NULL, OPT_MAX_DOWNLOADS },
		{ "download-max-wait", required_argument, NULL, OPT_DOWNLOAD_MAX_WAIT },
		{ "max-tftp-downloads", required_argument, NULL, OPT_MAX_TFTP_DOWNLOADS },
		{ "tftp-max-wait", required_argument, NULL, OPT_TFTP_MAX_WAIT },
		{ "tftp-pace-ms", required_argument, NULL, OPT_TFTP_PACE_MS },
		{ "tftp-http-backlog", required_argument, NULL, OPT_TFTP_HTTP_BACKLOG },
		{ "tftp-port-range", required_argument, NULL, OPT_TFTP_PORT_RANGE },
		{ "ui", required_argument, NULL, OPT_UI },
		{ "ui-allow", required_argument, NULL, OPT_UI_ALLOW },
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	static struct xpxe_serve_opts opts;
	char *eq, *end, text[512];
	unsigned long v;
	int c, rc, quick_start_flags = 0, err;
	size_t n;

	serve_usage = check ? usage_check : usage_serve;
	xpxe_dhcp_settings_default(&opts.dhcp);
	while ((c = getopt_long(argc, argv, "+i:c:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case '?':
		CASE_GLOBAL_OPTION:
			rc = common_option(c, serve_usage);
			if (rc >= 0)
				return rc;
			break;
		case 'i':
			if (!xpxe_ifname_valid(optarg))
				return usage_error(serve_usage, "'%s' is not an interface name",
						   optarg);
			if (opts.n_ifnames == XPXE_MAX_IFACES)
				return usage_error(serve_usage, "%s", "at most 8 interfaces");
			opts.ifnames[opts.n_ifnames++] = optarg;
			break;
		case 'D':
			opts.allow_default_route = true;
			break;
		case 'c':
			opts.config_path = optarg;
			break;
		case 'C':
			opts.talos_config = optarg;
			quick_start_flags++;
			break;
		case 'K':
			if (strlen(optarg) >= XPXE_CFG_CMDLINE_MAX)
				return usage_error(serve_usage, "%s", "--cmdline is too long");
			opts.cmdline = optarg;
			quick_start_flags++;
			break;
		case 'X': {
			enum xpxe_transport t;

			if (xpxe_transport_parse(optarg, &t))
				return usage_error(serve_usage,
						   "--transport takes http, tftp, uki or grub, not "
						   "'%s'",
						   optarg);
			opts.transport = t;
			quick_start_flags++;
			break;
		}
		case OPT_UKI:
			rc = add_asset(&opts, "uki", optarg);
			if (rc)
				return rc;
			opts.transport = XPXE_TRANSPORT_UKI;
			break;
		case OPT_TLS_CERT:
			opts.tls_cert = optarg;
			quick_start_flags++;
			break;
		case OPT_TLS_KEY:
			opts.tls_key = optarg;
			quick_start_flags++;
			break;
		case 'V':
			opts.state_dir = optarg;
			break;
		case 'A':
			opts.keep_attached = true;
			break;
		case OPT_STORE: {
			struct xpxe_store_cfg st;
			char why[256];

			xpxe_store_cfg_default(&st);
			if (xpxe_store_parse_url(&st, optarg, why, sizeof(why)))
				return usage_error(serve_usage, "--store: %s", why);
			opts.store_url = optarg;
			break;
		}
		case 'a':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return usage_error(serve_usage, "--asset wants NAME=FILE, not '%s'",
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
		case OPT_KERNEL_ARM64:
		case OPT_INITRD_ARM64:
		case OPT_UKI_ARM64:
			rc = add_asset(&opts,
				       c == OPT_KERNEL_ARM64   ? "vmlinuz-arm64"
				       : c == OPT_INITRD_ARM64 ? "initramfs-arm64"
							       : "uki-arm64",
				       optarg);
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
				    serve_usage,
				    "--tftp-idle-timeout wants 1..86400 seconds, not '%s'", optarg);
			opts.tftp_idle_timeout_s = v;
			break;
		case 'W':
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < 1 || v > XPXE_TFTP_WINDOWSIZE_LIMIT)
				return usage_error(
				    serve_usage,
				    "--tftp-windowsize-max wants 1..1024 blocks, not '%s'", optarg);
			opts.tftp_windowsize_max = v;
			break;
		case OPT_TFTP_MAX_SESSIONS:
		case OPT_TFTP_MAX_PER_IP:
		case OPT_HTTP_MAX_CONNECTIONS:
		case OPT_HTTP_MAX_PER_IP:
		case OPT_HTTP_TIMEOUT: {
			static const struct {
				const char *why;
				unsigned long max;
			} lim[] = {
				{ "--tftp-max-sessions wants 1..16384 transfers, not '%s'",
				  XPXE_TFTP_SESSIONS_MAX },
				{ "--tftp-max-per-ip wants 1..16384 transfers, not '%s'",
				  XPXE_TFTP_SESSIONS_MAX },
				{ "--http-max-connections wants 1..65536, not '%s'", 65536 },
				{ "--http-max-per-ip wants 1..65536, not '%s'", 65536 },
				{ "--http-timeout wants 1..3600 seconds, not '%s'", 3600 },
			};
			int k = c - OPT_TFTP_MAX_SESSIONS;
			unsigned *to[] = { &opts.tftp_max_sessions, &opts.tftp_max_per_ip,
					   &opts.http_max_connections, &opts.http_max_per_ip,
					   &opts.http_timeout_s };

			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < 1 || v > lim[k].max)
				return usage_error(serve_usage, lim[k].why, optarg);
			*to[k] = v;
			break;
		}
		case OPT_MAX_DOWNLOADS:
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v > 4096)
				return usage_error(
				    serve_usage,
				    "--max-downloads wants 0..4096 (0: no cap), not '%s'", optarg);
			opts.max_downloads = v;
			opts.max_downloads_set = true;
			break;
		case OPT_DOWNLOAD_MAX_WAIT:
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v > 3600)
				return usage_error(
				    serve_usage,
				    "--download-max-wait wants 0..3600 seconds (0: no "
				    "bound), not '%s'",
				    optarg);
			opts.download_max_wait_s = v;
			opts.download_max_wait_set = true;
			break;
		case OPT_MAX_TFTP_DOWNLOADS:
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v > 4096)
				return usage_error(
				    serve_usage,
				    "--max-tftp-downloads wants 0..4096 (0: no cap), not '%s'",
				    optarg);
			opts.max_tftp_downloads = v;
			opts.max_tftp_downloads_set = true;
			break;
		case OPT_TFTP_MAX_WAIT:
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v > 60)
				return usage_error(
				    serve_usage,
				    "--tftp-max-wait wants 0..60 seconds (0: never), "
				    "not '%s'",
				    optarg);
			opts.tftp_max_wait_s = v;
			opts.tftp_max_wait_set = true;
			break;
		case OPT_TFTP_PACE_MS:
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v > XPXE_DOWNLOADS_TFTP_PACE_MS_MAX)
				return usage_error(
				    serve_usage,
				    "--tftp-pace-ms wants 0..240 ms (0: off), not '%s'", optarg);
			opts.tftp_pace_ms = v;
			opts.tftp_pace_ms_set = true;
			break;
		case OPT_TFTP_HTTP_BACKLOG:
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v > 65536)
				return usage_error(
				    serve_usage,
				    "--tftp-http-backlog wants 0..65536 (0: off), not '%s'",
				    optarg);
			opts.tftp_http_backlog = v;
			opts.tftp_http_backlog_set = true;
			break;
		case OPT_TFTP_PORT_RANGE: {
			char why[160];

			if (xpxe_tftp_port_range_parse(optarg, &opts.tftp_port_low,
						       &opts.tftp_port_high, why, sizeof(why)))
				return usage_error(serve_usage, "--tftp-port-range: %s", why);
			opts.tftp_port_range_set = true;
			break;
		}
		case OPT_UI: {
			struct sockaddr_in addr;

			if (strlen(optarg) >= XPXE_UI_LISTEN_MAX ||
			    xpxe_parse_listen(optarg, &addr))
				return usage_error(serve_usage,
						   "--ui takes ADDR:PORT with an IPv4 address, not "
						   "'%s'",
						   optarg);
			opts.ui_listen = optarg;
			quick_start_flags++;
			break;
		}
		case OPT_UI_ALLOW:
			if (opts.n_ui_allow == XPXE_CFG_MAX_ALLOW)
				return usage_error(serve_usage, "%s",
						   "at most 16 --ui-allow networks");
			if (xpxe_parse_net(optarg, &opts.ui_allow[opts.n_ui_allow]))
				return usage_error(
				    serve_usage, "--ui-allow takes a network ADDR[/BITS], not '%s'",
				    optarg);
			opts.n_ui_allow++;
			quick_start_flags++;
			break;
		default:
			rc = serve_dhcp_flag(c, optarg, &opts.dhcp);
			if (rc)
				return rc;
			quick_start_flags++;
		}
	}
	if (optind < argc)
		return usage_error(serve_usage, "unexpected argument '%s'", argv[optind]);
	/* A config file is the whole story: quick-start flags beside it would be ignored. */
	if (opts.config_path && (quick_start_flags || opts.n_assets)) {
		n = snprintf(text, sizeof(text), "-c FILE takes no quick-start flags (only");
		for (size_t i = 0; i < sizeof(with_config_flags) / sizeof(with_config_flags[0]);
		     i++)
			n += snprintf(text + n, sizeof(text) - n, "%s%s", i ? ", " : " ",
				      with_config_flags[i]);
		snprintf(text + n, sizeof(text) - n, "): put them in the file");
		return usage_error(serve_usage, "%s", text);
	}
	if (!opts.config_path && !opts.n_ifnames && !access(XPXE_CONFIG_PATH, R_OK) &&
	    !quick_start_flags && !opts.n_assets)
		opts.config_path = XPXE_CONFIG_PATH;
	if (!opts.config_path && !opts.n_ifnames)
		return usage_error(serve_usage, "%s",
				   "serve needs an interface (-i IFACE) or a config file "
				   "(-c FILE, default " XPXE_CONFIG_PATH ")");
	if ((opts.dhcp.n_reservations || opts.dhcp.pool_first.s_addr || opts.dhcp.n_reservations6 ||
	     !IN6_IS_ADDR_UNSPECIFIED(&opts.dhcp.pool6_first)) &&
	    opts.dhcp.mode != XPXE_MODE_FULL)
		return usage_error(serve_usage, "%s",
				   "--pool, --reserve, --pool6 and --reserve6 need --mode full");
	if (opts.dhcp.n_vlans) {
		const char *why;
		int at;

		if (opts.n_ifnames != 1)
			return usage_error(
			    serve_usage, "%s",
			    "--vlan needs exactly one -i: the trunk the VLANs are on");
		snprintf(opts.dhcp.vlan_ifname, sizeof(opts.dhcp.vlan_ifname), "%s",
			 opts.ifnames[0]);
		if (xpxe_vlans_check(opts.dhcp.vlans, opts.dhcp.n_vlans, opts.dhcp.server_ip, &why,
				     &at)) {
			snprintf(text, sizeof(text), "--vlan %u: %s", opts.dhcp.vlans[at].vid, why);
			return usage_error(serve_usage, "%s", text);
		}
	}
	opts.socket_path = g.socket;
	opts.check_only = check;
	/* Only the daemon logs; check reports on stderr, as the client commands do. */
	if (check && !g.target_given)
		g.target = XPXE_LOG_TARGET_STDERR;
	err = xpxe_log_set_target(g.target);
	if (err) {
		log_error("--log-target journal: no journald listens on %s: %s",
			  XPXE_JOURNAL_SOCKET, strerror(-err));
		return XPXE_EXIT_ERROR;
	}
	return xpxe_serve(&opts);
}

static int cmd_serve(int argc, char **argv)
{
	return serve_or_check(argc, argv, false);
}

static int cmd_check(int argc, char **argv)
{
	return serve_or_check(argc, argv, true);
}

/*
 * The flags of a command whose flags are --json (and --all where ALL is not NULL), up
 * to its arguments (NARGS of them, after the flags or between them). Returns -1 to go
 * on, else the exit code.
 */
static int json_flag(int argc, char **argv, const char *usage, int nargs, bool *json, bool *all)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	int c, rc;

	*json = false;
	while ((c = getopt_long(argc, argv, nargs ? "hv" : "+hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'a':
			if (!all)
				return usage_error(usage, "%s", "unrecognized option '--all'");
			*all = true;
			break;
		default:
			rc = common_option(c, usage);
			if (rc >= 0)
				return rc;
		}
	}
	if (!nargs && optind < argc)
		return usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (nargs && optind + nargs != argc)
		return usage_error(usage, "%s needs one MACHINE", argv[0]);
	return -1;
}

/* A command whose one flag is --json: leases, machines list, reload. */
static int json_only_command(int argc, char **argv, const char *usage,
			     int (*run)(const char *socket_path, bool json))
{
	bool json;
	int rc = json_flag(argc, argv, usage, 0, &json, NULL);

	return rc >= 0 ? rc : run(g.socket, json);
}

static int cmd_status(int argc, char **argv)
{
	bool json, all = false;
	int rc = json_flag(argc, argv, usage_status, 0, &json, &all);

	return rc >= 0 ? rc : xpxe_cli_status(g.socket, json, all);
}

/* machines show|rm|mark-installed|rearm MACHINE [--json] */
static int machines_one(int argc, char **argv,
			int (*run)(const char *socket_path, const char *machine, bool json))
{
	bool json;
	int rc = json_flag(argc, argv, usage_machines, 1, &json, NULL);

	return rc >= 0 ? rc : run(g.socket, argv[optind], json);
}

static int machines_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mac", required_argument, NULL, 'm' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "uuid", required_argument, NULL, 'u' },
		{ "serial", required_argument, NULL, 's' },
		{ "profile", required_argument, NULL, 'p' },
		{ "ip", required_argument, NULL, 'i' },
		{ "install-disk", required_argument, NULL, 'd' },
		{ "talos-config", required_argument, NULL, 't' },
		{ "role", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	struct xpxe_cli_field fields[32];
	bool json = false;
	int c, n = 0, idx, rc;

	while ((c = getopt_long(argc, argv, "hv", longopts, &idx)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
		case '?':
		CASE_GLOBAL_OPTION:
			rc = common_option(c, usage_machines);
			if (rc >= 0)
				return rc;
			break;
		default:
			if (n == (int)(sizeof(fields) / sizeof(fields[0])))
				return usage_error(usage_machines, "%s", "too many flags");
			/* The config file's key: the flag's name with '_' for '-'. */
			fields[n].key = c == 'd'   ? "install_disk"
					: c == 't' ? "talos_config"
						   : longopts[idx].name;
			fields[n++].value = optarg;
		}
	}
	if (optind < argc)
		return usage_error(usage_machines, "unexpected argument '%s'", argv[optind]);
	if (!n)
		return usage_error(usage_machines, "%s",
				   "add needs the machine: --mac, --uuid, --serial or --hostname");
	return xpxe_cli_machine_add(g.socket, fields, n, json);
}

static int cmd_machines(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "mark-installed"))
		return machines_one(argc - 1, argv + 1, xpxe_cli_mark_installed);
	if (argc >= 2 && !strcmp(argv[1], "rearm"))
		return machines_one(argc - 1, argv + 1, xpxe_cli_rearm);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return machines_one(argc - 1, argv + 1, xpxe_cli_machine_show);
	if (argc >= 2 && !strcmp(argv[1], "rm"))
		return machines_one(argc - 1, argv + 1, xpxe_cli_machine_rm);
	if (argc >= 2 && !strcmp(argv[1], "add"))
		return machines_add(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	return json_only_command(argc, argv, usage_machines, xpxe_cli_machines);
}

static int cmd_reload(int argc, char **argv)
{
	return json_only_command(argc, argv, usage_reload, xpxe_cli_reload);
}

static int cmd_watch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	unsigned int interval_ms = 1000;
	bool once = false;
	char *end;
	double v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			once = true;
			break;
		case 'n':
			v = strtod(optarg, &end);
			if (*end || v < 0.1 || v > 3600)
				return usage_error(
				    usage_watch, "--interval takes 0.1..3600 s, not '%s'", optarg);
			interval_ms = (unsigned int)(v * 1000);
			break;
		default:
			rc = common_option(c, usage_watch);
			if (rc >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return usage_error(usage_watch, "unexpected argument '%s'", argv[optind]);
	return xpxe_cli_watch(g.socket, once, interval_ms);
}

static int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	bool once = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			once = true;
			break;
		default:
			rc = common_option(c, usage_trace);
			if (rc >= 0)
				return rc;
		}
	}
	if (optind + 1 != argc || !*argv[optind])
		return usage_error(usage_trace, "%s",
				   "trace takes one MACHINE: a MAC, hostname, UUID or serial");
	return xpxe_cli_trace(g.socket, argv[optind], once);
}

static int cmd_leases(int argc, char **argv)
{
	return json_only_command(argc, argv, usage_leases, xpxe_cli_leases);
}

static int cmd_assets(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "reload", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	bool json = false, reload = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'R':
			reload = true;
			break;
		default:
			rc = common_option(c, usage_assets);
			if (rc >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return usage_error(usage_assets, "unexpected argument '%s'", argv[optind]);
	return xpxe_cli_assets(g.socket, json, reload);
}

static int cmd_detach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	const char *ifname = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+i:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		default:
			rc = common_option(c, usage_detach);
			if (rc >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return usage_error(usage_detach, "unexpected argument '%s'", argv[optind]);
	if (!ifname)
		return usage_error(usage_detach, "%s", "detach needs an interface: -i IFACE");
	if (!xpxe_ifname_valid(ifname))
		return usage_error(usage_detach, "'%s' is not an interface name", ifname);
	return xpxe_cli_detach(g.socket, ifname);
}

/* `version` and `help` take no flags of their own but --help (and the global ones). */
static int no_flags(int argc, char **argv, const char *usage, int max_args)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, "+hv", longopts, NULL)) != -1) {
		switch (c) {
		default:
			rc = common_option(c, usage);
			if (rc >= 0)
				return rc;
		}
	}
	if (argc - optind > max_args)
		return usage_error(usage, "unexpected argument '%s'", argv[optind + max_args]);
	return -1;
}

static int cmd_version(int argc, char **argv)
{
	int rc = no_flags(argc, argv, usage_version, 0);

	if (rc >= 0)
		return rc;
	printf("xpxe %s\n", XPXE_VERSION);
	return XPXE_EXIT_OK;
}

static int cmd_help(int argc, char **argv);

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

/* The store is reached directly: no daemon needed. */
static int cmd_store(int argc, char **argv)
{
	return xpxe_store_command(argc, argv);
}

static const struct command commands[] = {
	{ "serve", cmd_serve, usage_serve },
	{ "check", cmd_check, usage_check },
	{ "status", cmd_status, usage_status },
	{ "assets", cmd_assets, usage_assets },
	{ "detach", cmd_detach, usage_detach },
	{ "leases", cmd_leases, usage_leases },
	{ "machines", cmd_machines, usage_machines },
	{ "reload", cmd_reload, usage_reload },
	{ "watch", cmd_watch, usage_watch },
	{ "trace", cmd_trace, usage_trace },
	{ "store", cmd_store, xpxe_store_usage },
	{ "version", cmd_version, usage_version },
	{ "help", cmd_help, usage_help },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *cmd;
	int rc = no_flags(argc, argv, usage_help, 1);

	if (rc >= 0)
		return rc;
	if (optind == argc) {
		fputs(usage_main, stdout);
		return XPXE_EXIT_OK;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error(usage_main, "unknown command '%s'", argv[optind]);
	fputs(cmd->usage, stdout);
	return XPXE_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		GLOBAL_LONGOPTS,
		{ 0 },
	};
	const struct command *cmd;
	int c, rc;

	g.socket = getenv("XPXE_SOCKET");
	if (!g.socket || !*g.socket)
		g.socket = XPXE_SOCKET_PATH;
	/* '+': stop at the command name, its flags are its own. */
	while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'V':
			printf("xpxe %s\n", XPXE_VERSION);
			return XPXE_EXIT_OK;
		default:
			rc = common_option(c, usage_main);
			if (rc >= 0)
				return rc;
		}
	}
	if (optind >= argc) {
		fputs(usage_main, stderr);
		return XPXE_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt for the command's own flags (0: full re-initialisation) */
	cmd = find_command(argv[0]);
	if (!cmd)
		return usage_error(usage_main, "unknown command '%s'", argv[0]);
	xpxe_log_hook_libraries();
	return cmd->run(argc, argv);
}
