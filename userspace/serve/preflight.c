// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The checks serve runs before it touches an interface (and check runs alone,
 * and reload runs on the files): see preflight.h.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xpxe_tftp.h"
#include "control/control.h"
#include "dataplane.h"
#include "http/http.h"
#include "log.h"
#include "pins.h"
#include "serve/preflight.h"
#include "tls/tls.h"

#define DOC_MAX (16 << 20) /* as HTTP reads them */

static int failf(struct xpxe_config_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The flag of the quick start that made asset NAME, for messages. */
static const char *asset_flag(const char *name, char *buf, size_t size)
{
	if (!strcmp(name, "vmlinuz"))
		return "--kernel";
	if (!strcmp(name, "initramfs"))
		return "--initrd";
	snprintf(buf, size, "--asset %s=", name);
	return buf;
}

/* Each asset: a file xpxe can load into its maps (what xpxe_assets_load will do). */
static int check_assets(const struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	char where[XPXE_CFG_PATH_MAX + 80], flag[96];
	struct stat st;

	for (int i = 0; i < cfg->n_assets; i++) {
		const struct xpxe_asset_cfg *a = &cfg->assets[i];
		int fd = open(a->path, O_RDONLY | O_CLOEXEC);

		xpxe_config_where(cfg, a->at, asset_flag(a->name, flag, sizeof(flag)), where,
				  sizeof(where));
		if (fd < 0 || fstat(fd, &st)) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return failf(err, "%s: asset %s: cannot read %s: %s", where, a->name,
				     a->path, strerror(e));
		}
		close(fd);
		if (!S_ISREG(st.st_mode))
			return failf(err, "%s: asset %s: %s is not a regular file", where, a->name,
				     a->path);
		if ((unsigned long long)st.st_size > XPXE_TFTP_ASSET_MAX)
			return failf(err, "%s: asset %s: %s is larger than 4 GiB - 1 byte", where,
				     a->name, a->path);
	}
	return 0;
}

/* Reads PATH whole (at most DOC_MAX); NULL with errno set otherwise. */
static char *read_doc(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	char *buf = NULL;

	if (!f)
		return NULL;
	if (!fstat(fileno(f), &st) && st.st_size <= DOC_MAX && (buf = malloc(st.st_size + 1))) {
		if (fread(buf, 1, st.st_size, f) != (size_t)st.st_size) {
			free(buf);
			buf = NULL;
			errno = EIO;
		} else {
			buf[st.st_size] = '\0';
			*len = st.st_size;
		}
	} else if (!buf) {
		errno = st.st_size > DOC_MAX ? EFBIG : errno;
	}
	fclose(f);
	return buf;
}

/* The documents already read, with the placeholders each uses (a fleet shares a few). */
struct docs {
	struct doc {
		char path[XPXE_CFG_PATH_MAX + 32];
		int lines[XPXE_VAR_MAX];
	} * items;
	int n;
};

/* Scans document PATH once: its placeholders into *OUT; an unknown one fails with ERR. */
static int scan_doc(struct docs *docs, const char *path, const char *owner, const struct doc **out,
		    struct xpxe_config_error *err)
{
	const char *bad_name;
	int bad_line, ret;
	struct doc *more;
	size_t len;
	char *text;

	for (int i = 0; i < docs->n; i++) {
		if (!strcmp(docs->items[i].path, path)) {
			*out = &docs->items[i];
			return 0;
		}
	}
	text = read_doc(path, &len);
	if (!text)
		return failf(err, "%s: %s (the Talos config of %s)", path, strerror(errno), owner);
	more = realloc(docs->items, (docs->n + 1) * sizeof(*more));
	if (!more) {
		free(text);
		return -ENOMEM;
	}
	docs->items = more;
	snprintf(more[docs->n].path, sizeof(more->path), "%s", path);
	ret = xpxe_template_scan(text, len, more[docs->n].lines, &bad_name, &bad_line);
	if (ret) {
		int name_len = (int)strcspn(bad_name, " }");

		ret = failf(err,
			    "%s:%d: unknown placeholder '{{%.*s}}' in the Talos config of %s "
			    "(known: hostname, ip, mac, mac_hyphen, uuid, serial, install_disk)",
			    path, bad_line, name_len > 64 ? 64 : name_len, bad_name, owner);
	}
	free(text);
	if (ret)
		return ret;
	*out = &docs->items[docs->n++];
	return 0;
}

/*
 * A talos_config: a file, or a folder whose *.yaml documents (one per MAC, and
 * default.yaml) are each scanned.
 */
static int check_talos_config(struct docs *docs, const struct xpxe_config *cfg, const char *path,
			      struct xpxe_cfg_mark at, const char *flag, const char *owner,
			      struct xpxe_config_error *err)
{
	char where[XPXE_CFG_PATH_MAX + 80], doc[XPXE_CFG_PATH_MAX + 300];
	const struct doc *d;
	struct dirent *ent;
	struct stat st;
	DIR *dir;
	int ret = 0;

	xpxe_config_where(cfg, at, flag, where, sizeof(where));
	if (stat(path, &st))
		return failf(err, "%s: talos_config of %s: %s: %s", where, owner, path,
			     strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return scan_doc(docs, path, owner, &d, err);
	dir = opendir(path);
	if (!dir)
		return failf(err, "%s: talos_config of %s: %s: %s", where, owner, path,
			     strerror(errno));
	while (!ret && (ent = readdir(dir))) {
		size_t n = strlen(ent->d_name);

		if (ent->d_name[0] == '.' || n < 6 || strcmp(ent->d_name + n - 5, ".yaml"))
			continue;
		snprintf(doc, sizeof(doc), "%s/%s", path, ent->d_name);
		if (!stat(doc, &st) && S_ISREG(st.st_mode))
			ret = scan_doc(docs, doc, owner, &d, err);
	}
	closedir(dir);
	return ret;
}

/* One warning per (document, placeholder) that some machines would get empty. */
struct empty {
	const struct doc *doc;
	int var, machines;
	char first[XPXE_CFG_NAME_MAX + 24];
};

static void note_empty(struct empty *e, int *n, int max, const struct doc *doc, int var,
		       const char *who)
{
	for (int i = 0; i < *n; i++) {
		if (e[i].doc == doc && e[i].var == var) {
			e[i].machines++;
			return;
		}
	}
	if (*n == max)
		return;
	e[*n] = (struct empty){ .doc = doc, .var = var, .machines = 1 };
	snprintf(e[*n].first, sizeof(e[*n].first), "%s", who);
	(*n)++;
}

/* The placeholders of DOC that machine M (NULL: one not in the inventory) would get empty. */
static void empties_of(const struct xpxe_config *cfg, const struct xpxe_machine_cfg *m,
		       const char *who, const struct doc *doc, struct empty *e, int *n, int max)
{
	if (doc->lines[XPXE_VAR_HOSTNAME] && !(m && m->hostname[0]))
		note_empty(e, n, max, doc, XPXE_VAR_HOSTNAME, who);
	if (doc->lines[XPXE_VAR_INSTALL_DISK] && !(m && m->install_disk[0]))
		note_empty(e, n, max, doc, XPXE_VAR_INSTALL_DISK, who);
	/* {{ip}} is the address xpxe gave: none outside full mode. */
	if (doc->lines[XPXE_VAR_IP] && (!cfg->dhcp.enabled || cfg->dhcp.mode != XPXE_MODE_FULL))
		note_empty(e, n, max, doc, XPXE_VAR_IP, who);
}

/* The document a machine gets (as HTTP picks it), scanned already; NULL when there is none. */
static const struct doc *doc_for(struct docs *docs, const char *path, const char *mac)
{
	char doc[XPXE_CFG_PATH_MAX + 32];

	if (!path[0])
		return NULL;
	xpxe_http_document_path(path, mac, doc, sizeof(doc));
	for (int i = 0; i < docs->n; i++)
		if (!strcmp(docs->items[i].path, doc))
			return &docs->items[i];
	return NULL;
}

static void warn_empties(const struct xpxe_config *cfg, struct docs *docs)
{
	struct empty e[32];
	int n = 0;

	for (int i = 0; i < cfg->n_machines; i++) {
		const struct xpxe_machine_cfg *m = &cfg->machines[i];
		int p = m->profile >= 0 ? m->profile
					: (cfg->default_profile >= 0 ? cfg->default_profile : 0);
		char mac[18] = "", who[XPXE_CFG_NAME_MAX + 24];
		const struct doc *d;

		if (m->n_macs)
			snprintf(mac, sizeof(mac), "%02x-%02x-%02x-%02x-%02x-%02x", m->macs[0][0],
				 m->macs[0][1], m->macs[0][2], m->macs[0][3], m->macs[0][4],
				 m->macs[0][5]);
		d = doc_for(docs,
			    m->talos_config[0] ? m->talos_config : cfg->profiles[p].talos_config,
			    mac);
		if (m->hostname[0])
			snprintf(who, sizeof(who), "%s", m->hostname);
		else
			xpxe_config_origin(cfg, m, who, sizeof(who));
		if (d)
			empties_of(cfg, m, who, d, e, &n, 32);
	}
	/* Machines not in the inventory get their profile's file, or its folder's default.yaml. */
	if (cfg->default_profile >= 0) {
		const struct doc *d =
		    doc_for(docs, cfg->profiles[cfg->default_profile].talos_config, "");

		if (d)
			empties_of(cfg, NULL, "machines not in the inventory", d, e, &n, 32);
	}
	for (int i = 0; i < n; i++)
		log_warn(
		    "%s:%d: {{%s}} is empty for %s%s%.0d%s: it would be served so; %s",
		    e[i].doc->path, e[i].doc->lines[e[i].var], xpxe_var_names[e[i].var], e[i].first,
		    e[i].machines > 1 ? " and " : "", e[i].machines > 1 ? e[i].machines - 1 : 0,
		    e[i].machines > 1 ? " more machine(s)" : "",
		    e[i].var == XPXE_VAR_IP ? "{{ip}} is the address xpxe gives, in full mode only"
					    : "give them that key, or leave the placeholder out");
}

int xpxe_preflight_files(const struct xpxe_config *cfg, struct xpxe_config_error *err)
{
	struct docs docs = { 0 };
	char owner[XPXE_CFG_PATH_MAX + 80];
	int ret;

	err->text[0] = '\0';
	ret = check_assets(cfg, err);
	if (!ret && cfg->tls.cert[0]) {
		/* Loaded now, as HTTPS will load it: a bad pair never waits for the attach. */
		struct xpxe_tls *tls;
		char why[512];

		if (xpxe_tls_open(&tls, cfg->tls.cert, cfg->tls.key, why, sizeof(why)))
			ret = failf(err, "%s: http.tls_cert/tls_key: %s",
				    cfg->path[0] ? cfg->path : "--tls-cert/--tls-key", why);
		else
			xpxe_tls_free(tls);
	}
	for (int i = 0; !ret && i < cfg->n_profiles; i++) {
		const struct xpxe_profile_cfg *p = &cfg->profiles[i];

		snprintf(owner, sizeof(owner), "profile '%s'", p->name);
		if (p->talos_config[0])
			ret = check_talos_config(&docs, cfg, p->talos_config, p->talos_config_at,
						 "--talos-config", owner, err);
	}
	for (int i = 0; !ret && i < cfg->n_machines; i++) {
		const struct xpxe_machine_cfg *m = &cfg->machines[i];
		char at[XPXE_CFG_PATH_MAX + 40];

		xpxe_config_origin(cfg, m, at, sizeof(at));
		snprintf(owner, sizeof(owner), "the machine of %s", at);
		if (m->talos_config[0])
			ret = check_talos_config(&docs, cfg, m->talos_config, m->talos_config_at,
						 NULL, owner, err);
	}
	if (!ret)
		warn_empties(cfg, &docs);
	free(docs.items);
	return ret;
}

/* --- the host ----------------------------------------------------------------------- */

/* True when IP is an address of an interface of this network namespace. */
static bool address_is_local(struct in_addr ip)
{
	struct ifaddrs *ifas, *ifa;
	bool found = false;

	if (getifaddrs(&ifas))
		return true; /* cannot tell: the bind below will */
	for (ifa = ifas; ifa && !found; ifa = ifa->ifa_next)
		found = ifa->ifa_addr && ifa->ifa_addr->sa_family == AF_INET &&
			((struct sockaddr_in *)ifa->ifa_addr)->sin_addr.s_addr == ip.s_addr;
	freeifaddrs(ifas);
	return found;
}

/* IFNAME's address for messages: "198.18.0.1/24", or "no IPv4 address". */
static void iface_address(const char *ifname, char *out, size_t size)
{
	struct in_addr ip, mask;
	char a[INET_ADDRSTRLEN];

	if (xpxe_interface_ipv4(ifname, &ip, &mask)) {
		snprintf(out, size, "no IPv4 address");
		return;
	}
	inet_ntop(AF_INET, &ip, a, sizeof(a));
	snprintf(out, size, "%s/%d", a, __builtin_popcount(mask.s_addr));
}

/* The settings of interface I: those of the config, resolved against the interface. */
static int resolve_iface(const struct xpxe_config *cfg, int i, struct xpxe_dhcp_settings *s)
{
	const char *ifname = cfg->interfaces[i];
	char where[XPXE_CFG_PATH_MAX + 40], ip[INET_ADDRSTRLEN], has[40];
	struct in_addr addr, mask;
	int err;

	*s = cfg->dhcp;
	/* The bindings file follows state_dir unless dhcp.leases (--leases) names one. */
	if (!s->leases_path[0] && snprintf(s->leases_path, sizeof(s->leases_path), "%s/%s.leases",
					   cfg->state_dir, ifname) >= (int)sizeof(s->leases_path)) {
		log_error("%s/%s.leases: the state folder's path is too long", cfg->state_dir,
			  ifname);
		return -ENAMETOOLONG;
	}
	err = xpxe_dhcp_settings_resolve(s, ifname);
	if (err)
		return err;
	/* Without DHCP, HTTP still listens on the interface's address by default. */
	if (!s->server_ip.s_addr && !xpxe_interface_ipv4(ifname, &addr, &mask))
		s->server_ip = addr;
	if (s->server_ip.s_addr && !address_is_local(s->server_ip)) {
		xpxe_config_where(cfg, cfg->server_ip_at, "--server-ip", where, sizeof(where));
		inet_ntop(AF_INET, &s->server_ip, ip, sizeof(ip));
		iface_address(ifname, has, sizeof(has));
		log_error("%s: server_ip %s is not an address of this host (in this network "
			  "namespace; %s has %s): machines would be sent there for TFTP and HTTP",
			  where, ip, ifname, has);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/* Parses ADDR:PORT (an IPv4 address) into SA; WHAT and WHERE name it in the message. */
static int parse_listen(const char *listen, const char *what, const char *where,
			struct sockaddr_in *sa)
{
	const char *colon = strrchr(listen, ':');
	char host[64], *end;
	unsigned long port;

	*sa = (struct sockaddr_in){ .sin_family = AF_INET };
	if (colon && colon - listen < (long)sizeof(host)) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
		port = strtoul(colon + 1, &end, 10);
		if (!*end && colon[1] && port && port <= 65535 &&
		    inet_pton(AF_INET, host, &sa->sin_addr) == 1) {
			sa->sin_port = htons((uint16_t)port);
			return 0;
		}
	}
	log_error("%s: %s's '%s' is not ADDR:PORT with an IPv4 address (such as "
		  "198.18.0.1:8080)",
		  where, what, listen);
	return -EINVAL;
}

/* Binds a socket of TYPE to SA and lets it go: whether serve's bind will succeed. */
static int try_bind(int type, const struct sockaddr_in *sa)
{
	int one = 1, err = 0, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* As HTTP's listener: a port in TIME_WAIT is free; one that listens is not. */
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		err = -errno;
	close(fd);
	return err;
}

/* Whether WHAT (HTTP, HTTPS, the fleet page) can listen on LISTEN (logged when not). */
static int check_listener(const char *what, const char *listen, const char *where)
{
	struct sockaddr_in sa;
	int err = parse_listen(listen, what, where, &sa);

	if (err)
		return err;
	err = try_bind(SOCK_STREAM, &sa);
	if (err)
		log_error("%s: %s cannot listen on %s: %s%s", where, what, listen, strerror(-err),
			  err == -EADDRNOTAVAIL ? " (not an address of this host, in this network "
						  "namespace)"
			  : err == -EADDRINUSE	? " (another server listens there)"
						: "");
	return err;
}

static int check_ports(const struct xpxe_config *cfg, const struct xpxe_preflight *pf)
{
	struct sockaddr_in sa;
	char where[XPXE_CFG_PATH_MAX + 40];
	int err;

	xpxe_config_where(cfg, cfg->http_listen_at, cfg->http_listen[0] ? "--http" : NULL, where,
			  sizeof(where));
	if (!cfg->http_listen[0])
		snprintf(where, sizeof(where), "HTTP (SERVER_IP:8080: no http.listen or --http)");
	err = check_listener("HTTP", pf->http_listen, where);
	if (!err && pf->https_listen[0])
		err = check_listener("HTTPS", pf->https_listen,
				     cfg->tls.listen[0] ? "http.tls_listen"
							: "HTTPS (SERVER_IP:8443)");
	if (!err && cfg->ui.listen[0])
		err = check_listener("the fleet page", cfg->ui.listen,
				     cfg->path[0] ? "ui.listen" : "--ui");
	if (err)
		return err;
	sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(XPXE_PORT_TFTP) };
	err = try_bind(SOCK_DGRAM, &sa);
	if (err) {
		log_error("cannot bind UDP port %d for TFTP: %s%s", XPXE_PORT_TFTP, strerror(-err),
			  err == -EADDRINUSE ? " (another TFTP server runs in this network "
					       "namespace: stop it)"
			  : err == -EACCES   ? " (needs CAP_NET_BIND_SERVICE)"
					     : "");
		return err;
	}
	return 0;
}

int xpxe_preflight_host(const struct xpxe_config *cfg, const struct xpxe_serve_opts *opts,
			struct xpxe_preflight *pf)
{
	const struct xpxe_attach_opts attach = { .allow_default_route = opts->allow_default_route };
	char *reply = NULL, ip[INET_ADDRSTRLEN];
	bool busy = false;
	int err;

	memset(pf, 0, sizeof(*pf));
	/* The pins' folder: seen (and, for serve, mounted) before the interfaces are judged. */
	if (opts->check_only) {
		if (xpxe_bpffs_private())
			log_warn("this process has a mount namespace of its own without bpffs on "
				 "/sys/fs/bpf (as under 'ip netns exec'): serve would mount one "
				 "private to it, whose pins no later xpxe could adopt or detach; "
				 "use 'nsenter --net=/run/netns/NAME' instead");
	} else {
		err = xpxe_bpffs_ensure();
		if (err)
			return err;
	}
	if (!xpxe_ctl_request(opts->socket_path, "{\"cmd\":\"status\"}", &reply)) {
		free(reply);
		if (!opts->check_only) {
			log_error(
			    "another xpxe daemon answers on %s; stop it, or give this one its "
			    "own --socket",
			    opts->socket_path);
			return -EADDRINUSE;
		}
		pf->daemon_answers = true;
	}
	for (int i = 0; i < cfg->n_interfaces; i++) {
		err = xpxe_dataplane_check(cfg->interfaces[i], &attach, &pf->busy[i]);
		if (err == -EBUSY && opts->check_only) {
			busy = true;
		} else if (err == -EBUSY) {
			log_error("%s is already served by another xpxe (pid %d); stop it first, "
				  "or use 'xpxe detach -i %s'",
				  cfg->interfaces[i], (int)pf->busy[i], cfg->interfaces[i]);
			return err;
		} else if (err) {
			return err;
		}
		err = resolve_iface(cfg, i, &pf->dhcp[i]);
		if (err)
			return err;
	}
	if (cfg->http_listen[0]) {
		snprintf(pf->http_listen, sizeof(pf->http_listen), "%s", cfg->http_listen);
	} else if (pf->dhcp[0].server_ip.s_addr) {
		/* Where the DHCP answers point: the first interface's server address. */
		inet_ntop(AF_INET, &pf->dhcp[0].server_ip, ip, sizeof(ip));
		snprintf(pf->http_listen, sizeof(pf->http_listen), "%s:8080", ip);
	} else {
		log_error("HTTP has no address to listen on: %s has no IPv4 address; give it one, "
			  "or set http.listen (--http ADDR:PORT)",
			  cfg->interfaces[0]);
		return -EADDRNOTAVAIL;
	}
	if (cfg->tls.cert[0]) {
		/* As HTTPS listens: http.tls_listen, or HTTP's address on port 8443. */
		const char *colon = strrchr(pf->http_listen, ':');

		if (cfg->tls.listen[0])
			snprintf(pf->https_listen, sizeof(pf->https_listen), "%s", cfg->tls.listen);
		else
			snprintf(pf->https_listen, sizeof(pf->https_listen), "%.*s:8443",
				 colon ? (int)(colon - pf->http_listen) : 0, pf->http_listen);
	}
	/* A running xpxe holds the ports itself: bound, they would say nothing. */
	if (pf->daemon_answers || busy)
		return 0;
	return check_ports(cfg, pf);
}

void xpxe_preflight_report(const struct xpxe_config *cfg, const struct xpxe_serve_opts *opts,
			   const struct xpxe_preflight *pf)
{
	char ip[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], has[40];
	bool busy = false;

	printf("xpxe check: %s pass%s every check; serve would start with %s:\n",
	       cfg->path[0] ? cfg->path : "the quick start's flags", cfg->path[0] ? "es" : "",
	       cfg->path[0] ? "it" : "them");
	for (int i = 0; i < cfg->n_interfaces; i++) {
		const struct xpxe_dhcp_settings *s = &pf->dhcp[i];

		iface_address(cfg->interfaces[i], has, sizeof(has));
		inet_ntop(AF_INET, &s->server_ip, ip, sizeof(ip));
		printf("  %-15s %s; ", cfg->interfaces[i], has);
		if (!s->enabled)
			printf("DHCP off");
		else
			printf("%s mode, answering as %s",
			       s->mode == XPXE_MODE_FULL ? "full" : "proxy", ip);
		if (s->enabled && s->mode == XPXE_MODE_FULL) {
			inet_ntop(AF_INET, &s->pool_first, a, sizeof(a));
			inet_ntop(AF_INET, &s->pool_last, b, sizeof(b));
			if (s->pool_first.s_addr)
				printf(", pool %s-%s", a, b);
			printf(", bindings in %s", s->leases_path);
		}
		if (pf->busy[i]) {
			printf(" (served now by xpxe pid %d)", (int)pf->busy[i]);
			busy = true;
		}
		printf("\n");
		for (int v = 0; v < s->n_vlans && !strcmp(cfg->interfaces[i], s->vlan_ifname);
		     v++) {
			char name[16];

			xpxe_vlan_name(&s->vlans[v], name, sizeof(name));
			inet_ntop(AF_INET, &s->vlans[v].server_ip, ip, sizeof(ip));
			printf("  %-15s VLAN %s, answering as %s/%u (the address goes on %s)", "",
			       name, ip, s->vlans[v].prefix, cfg->interfaces[i]);
			if (s->vlans[v].pool_first.s_addr && s->mode == XPXE_MODE_FULL) {
				char last[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &s->vlans[v].pool_first, ip, sizeof(ip));
				inet_ntop(AF_INET, &s->vlans[v].pool_last, last, sizeof(last));
				printf(", pool %s-%s, bindings in %s.vlan%s", ip, last,
				       s->leases_path, name);
			}
			printf("\n");
		}
	}
	printf("  %-15s %s\n", "http", pf->http_listen);
	if (pf->https_listen[0])
		printf("  %-15s %s (%s)\n", "https", pf->https_listen, cfg->tls.cert);
	if (cfg->ui.listen[0])
		printf("  %-15s %s\n", "fleet page", cfg->ui.listen);
	printf("  %-15s UDP port %d\n", "tftp", XPXE_PORT_TFTP);
	printf("  %-15s %d asset(s), %d profile(s), %d machine(s); state in %s\n", "config",
	       cfg->n_assets, cfg->n_profiles, cfg->n_machines, cfg->state_dir);
	if (pf->daemon_answers || busy)
		printf("A daemon runs already (%s): serve would refuse to start beside it; 'xpxe "
		       "reload' applies a changed file to it. The ports it holds were not "
		       "checked.\n",
		       pf->daemon_answers ? opts->socket_path : "on these interfaces");
}
