// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Puts the DHCPv6 boot answers of an interface into its maps (bpf/dhcp6.h): options, config. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"

#include "atomic.h"
#include "boot/boot.h"
#include "config.h"
#include "dataplane.h"
#include "dhcp/dhcp.h"
#include "dhcp/dhcp6_server.h"
#include "json.h"
#include "log.h"

#define OPT_SERVERID 2
#define OPT_VENDOR   16
#define OPT_BOOTFILE 59
#define DUID_FILE    "dhcp6-server.duid"
#define DUID_LLT     1
#define DUID_EPOCH   946684800 /* RFC 8415 11.2: seconds since 2000-01-01 UTC */
#define HWTYPE_ETHER 1

int xpxe_dhcp6_url(char *out, size_t size, const char *file, const struct in6_addr *addr)
{
	char host[INET6_ADDRSTRLEN];
	const char *rest = NULL, *scheme = NULL;
	int n;

	inet_ntop(AF_INET6, addr, host, sizeof(host));
	if (!strncmp(file, "http://", 7))
		scheme = "http", rest = file + 7;
	else if (!strncmp(file, "https://", 8))
		scheme = "https", rest = file + 8;
	if (rest) {
		/* Keep the port and the path; the host (an IPv4 address, a name) becomes ours. */
		const char *path = strchr(rest, '/'), *port = NULL;

		if (!path)
			path = rest + strlen(rest);
		for (const char *c = rest; c < path; c++)
			if (*c == ':')
				port = c;
		if (*rest == '[') /* already an IPv6 literal: its port is after the ']' */
			port = memchr(rest, ']', path - rest) ? strchr(rest, ']') + 1 : NULL;
		if (port && *port != ':')
			port = NULL;
		n = snprintf(out, size, "%s://[%s]%.*s%s", scheme, host,
			     port ? (int)(path - port) : 0, port ? port : "", path);
	} else {
		n = snprintf(out, size, "tftp://[%s]/%s", host, file);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool is_http_class(enum xpxe_boot_class boot)
{
	return boot >= XPXE_BOOT_HTTP_IA32 && boot <= XPXE_BOOT_HTTP_ARM64;
}

/* Appends option CODE of LEN bytes at DATA to R; -ENAMETOOLONG when it does not fit. */
static int put_option(struct xpxe_dhcp6_reply *r, unsigned int code, const void *data, size_t len)
{
	if (r->len + 4 + len > XPXE_DHCP6_OPTS_MAX)
		return -ENAMETOOLONG;
	r->opts[r->len] = code >> 8;
	r->opts[r->len + 1] = code & 0xff;
	r->opts[r->len + 2] = len >> 8;
	r->opts[r->len + 3] = len & 0xff;
	memcpy(r->opts + r->len + 4, data, len);
	r->len += 4 + len;
	return 0;
}

int xpxe_dhcp6_reply_build(struct xpxe_dhcp6_reply *r, enum xpxe_boot_class boot,
			   const struct xpxe_dhcp_profile *p, const struct xpxe_dhcp6_net *net)
{
	const char *file = p->boot_file[boot];
	char url[XPXE_DHCP6_OPTS_MAX];
	__u8 vendor[4 + 2 + 10];
	size_t vlen = 0;
	int err;

	memset(r, 0, sizeof(*r));
	/* BIOS has no IPv6 PXE; a plain or unknown client has nothing to boot. */
	if (boot == XPXE_BOOT_PLAIN || boot == XPXE_BOOT_BIOS || boot == XPXE_BOOT_UNKNOWN_ARCH ||
	    !file[0])
		return 0;
	err = xpxe_dhcp6_url(url, sizeof(url), file, &net->server_addr);
	if (err)
		return err;
	/* EDK2 takes an offer as PXE's or HTTP boot's by this class (docs/dhcp6-edk2.md). */
	if (boot != XPXE_BOOT_IPXE) {
		const char *cls = is_http_class(boot) ? "HTTPClient" : "PXEClient";
		size_t n = strlen(cls);

		vendor[0] = vendor[1] = 0;
		vendor[2] = XPXE_DHCP6_ENTERPRISE_PXE >> 8;
		vendor[3] = XPXE_DHCP6_ENTERPRISE_PXE & 0xff;
		vendor[4] = 0;
		vendor[5] = n;
		memcpy(vendor + 6, cls, n);
		vlen = 6 + n;
	}
	err = put_option(r, OPT_SERVERID, net->duid, net->duid_len);
	if (!err && vlen)
		err = put_option(r, OPT_VENDOR, vendor, vlen);
	/* Not the last option: XDP appends the client id, whose first byte (0) ends the URL
	 * for EDK2's HTTP boot, which reads it as a string. */
	if (!err)
		err = put_option(r, OPT_BOOTFILE, url, strlen(url));
	if (err)
		memset(r, 0, sizeof(*r));
	return err;
}

struct duid_ctx {
	const __u8 *duid;
	unsigned int len;
};

static int write_duid(FILE *f, void *ctx)
{
	const struct duid_ctx *d = ctx;

	for (unsigned int i = 0; i < d->len; i++)
		fprintf(f, "%02x%s", d->duid[i], i + 1 < d->len ? ":" : "\n");
	return ferror(f) ? -EIO : 0;
}

/* A DUID as written: hex bytes separated by ':'. */
static int read_duid(const char *path, __u8 *duid, unsigned int *len)
{
	char line[3 * XPXE_DHCP6_SERVER_DUID_MAX + 2], *p = line;
	FILE *f = fopen(path, "re");
	unsigned int n = 0;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	while (*p && *p != '\n') {
		char *end;
		unsigned long b = strtoul(p, &end, 16);

		if (end == p || b > 0xff || n == XPXE_DHCP6_SERVER_DUID_MAX)
			return -EINVAL;
		duid[n++] = (__u8)b;
		p = *end == ':' ? end + 1 : end;
	}
	if (n < 3)
		return -EINVAL;
	*len = n;
	return 0;
}

int xpxe_dhcp6_server_duid(const char *path, const unsigned char mac[6], __u8 *duid,
			   unsigned int *len)
{
	struct duid_ctx ctx = { duid, 14 };
	__u32 t = (__u32)(time(NULL) - DUID_EPOCH);
	int err = read_duid(path, duid, len);

	if (err != -ENOENT)
		return err;
	/* RFC 8415 11.2: type 1, hardware type 1, the time, the link-layer address. */
	duid[0] = 0, duid[1] = DUID_LLT, duid[2] = 0, duid[3] = HWTYPE_ETHER;
	duid[4] = t >> 24, duid[5] = t >> 16, duid[6] = t >> 8, duid[7] = t;
	memcpy(duid + 8, mac, 6);
	err = xpxe_write_atomically(path, 0644, write_duid, &ctx);
	if (!err)
		*len = ctx.len;
	return err;
}

/*
 * FULL: what full mode's server puts before the client id for class BOOT whose proxy-like
 * options are R (NULL: none), as dhcp6_replies_full holds it (xpxe_dhcp6.h): the boot
 * options less a PXEClient vendor class, or the server id alone. -ENAMETOOLONG when it does
 * not fit (never: it is R, shorter, or one option).
 */
static int full_reply(struct xpxe_dhcp6_reply *full, const struct xpxe_dhcp6_reply *r, __u32 boot,
		      const struct xpxe_dhcp6_net *net)
{
	static const uint8_t xid[3];
	struct xpxe_dhcp6_out o;

	xpxe_dhcp6_out_start(&o, 0, xid);
	if (boot != XPXE_BOOT_PLAIN && r && r->len && r->len <= XPXE_DHCP6_OPTS_MAX)
		xpxe_dhcp6_out_boot_with_address(&o, r->opts, r->len);
	else
		xpxe_dhcp6_out_opt(&o, XPXE_DHCP6_OPT_SERVERID, net->duid, net->duid_len);
	memset(full, 0, sizeof(*full));
	if (o.overflow || o.len - 4 > XPXE_DHCP6_OPTS_MAX)
		return -ENAMETOOLONG;
	full->len = (__u16)(o.len - 4);
	memcpy(full->opts, o.buf + 4, full->len);
	return 0;
}

int xpxe_dhcp6_load_maps(struct xpxe_bpf *skel, const struct xpxe_dhcp_settings *s,
			 const struct xpxe_dhcp6_net *net)
{
	int fd = bpf_map__fd(skel->maps.dhcp6_replies);
	int full_fd = bpf_map__fd(skel->maps.dhcp6_replies_full);
	struct xpxe_dhcp6_reply full;
	struct xpxe_dhcp6_config cfg = { 0 };
	struct xpxe_dhcp6_reply r;
	__u32 zero = 0;
	int n = s->profiles ? s->n_profiles : 1;

	for (int i = 0; net && i < n && i < XPXE_DHCP_MAX_PROFILES; i++) {
		struct xpxe_dhcp_profile p = s->profile;

		if (s->profiles) {
			p = s->profiles[i].dhcp;
			xpxe_dhcp_profile_defaults(&p, s->profiles[i].boot_file_set, s->http_base);
			xpxe_boot_profile_files(&p, s->profiles[i].boot_file_set, &s->profiles[i],
						s->http_base);
		}
		for (__u32 boot = 0; boot < XPXE_BOOT_MAX; boot++) {
			__u32 idx = xpxe_dhcp6_reply_index(i, boot);
			int err = xpxe_dhcp6_reply_build(&r, boot, &p, net);

			if (err) {
				log_error("the IPv6 boot URL for %s does not fit a DHCPv6 answer",
					  xpxe_boot_class_names[boot]);
				return err;
			}
			if (bpf_map_update_elem(fd, &idx, &r, BPF_ANY))
				return -errno;
			if (full_reply(&full, &r, boot, net) ||
			    bpf_map_update_elem(full_fd, &idx, &full, BPF_ANY))
				return -EIO;
		}
	}
	/* Profiles past the config's: the server id alone (as full mode's server answers). */
	for (int i = n; net && i < XPXE_DHCP_MAX_PROFILES; i++) {
		for (__u32 boot = 0; boot < XPXE_BOOT_MAX; boot++) {
			__u32 idx = xpxe_dhcp6_reply_index(i, boot);

			if (full_reply(&full, NULL, boot, net) ||
			    bpf_map_update_elem(full_fd, &idx, &full, BPF_ANY))
				return -EIO;
		}
	}
	if (net) {
		cfg.enabled = 1;
		cfg.duid_len = net->duid_len;
		memcpy(cfg.duid, net->duid, net->duid_len);
		memcpy(cfg.server_mac, net->server_mac, 6);
		memcpy(cfg.server_ll, &net->server_ll, 16);
		memcpy(cfg.server_addr, &net->server_addr, 16);
		if (xpxe_dhcp6_full(s)) {
			/* The RA's on-link prefix: the pool's /64 (or a reservation's), when it is
			 * this link's; a relayed link's is not on this one. */
			cfg.flags = XPXE_DHCP6_F_FULL;
			memcpy(cfg.prefix, xpxe_dhcp6_link_prefix(s), 8);
			cfg.prefix_len = net->pool_on_link ? 64 : 0;
		}
	}
	/* Written last: the program answers only once everything it reads is there. */
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp6_config), &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

/* IFNAME has an address in PREFIX's /64. */
static bool interface_in_prefix(const char *ifname, const struct in6_addr *prefix)
{
	struct ifaddrs *ifs, *ifa;
	bool found = false;

	if (getifaddrs(&ifs))
		return false;
	for (ifa = ifs; ifa && !found; ifa = ifa->ifa_next) {
		const struct sockaddr_in6 *a = (const void *)ifa->ifa_addr;

		found = a && a->sin6_family == AF_INET6 && !strcmp(ifa->ifa_name, ifname) &&
			!memcmp(a->sin6_addr.s6_addr, prefix->s6_addr, 8);
	}
	freeifaddrs(ifs);
	return found;
}

int xpxe_interface_ipv6(const char *ifname, struct in6_addr *addr)
{
	struct ifaddrs *ifs, *ifa;
	int err = -EADDRNOTAVAIL;

	if (getifaddrs(&ifs))
		return -errno;
	for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
		const struct sockaddr_in6 *a = (const void *)ifa->ifa_addr;

		if (!a || a->sin6_family != AF_INET6 || strcmp(ifa->ifa_name, ifname) ||
		    IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&a->sin6_addr) || IN6_IS_ADDR_SITELOCAL(&a->sin6_addr))
			continue;
		*addr = a->sin6_addr;
		err = 0;
		break;
	}
	freeifaddrs(ifs);
	return err;
}

int xpxe_dhcp6_install(struct xpxe_dataplane *dp, const struct xpxe_dhcp_settings *s,
		       const unsigned char mac[6], const struct in6_addr *ll)
{
	struct xpxe_dhcp6_net net = { 0 };
	char path[sizeof(s->leases_path) + sizeof(DUID_FILE) + 1], dir[sizeof(s->leases_path)];
	char text[INET6_ADDRSTRLEN];
	int err;

	if (!s->enabled || xpxe_interface_ipv6(dp->ifname, &net.server_addr))
		return xpxe_dhcp6_load_maps(dp->skel, s, NULL);
	/* One DUID for the host, beside the DHCP bindings: stable across restarts (RFC 8415 11). */
	snprintf(dir, sizeof(dir), "%s", s->leases_path);
	snprintf(path, sizeof(path), "%s/%s", dirname(dir), DUID_FILE);
	err = xpxe_dhcp6_server_duid(path, mac, net.duid, &net.duid_len);
	if (err) {
		log_error("%s: cannot read or make the DHCPv6 server DUID %s: %s", dp->ifname, path,
			  strerror(-err));
		return err;
	}
	memcpy(net.server_mac, mac, 6);
	net.server_ll = *ll;
	net.pool_on_link = interface_in_prefix(dp->ifname, xpxe_dhcp6_link_prefix(s));
	if (xpxe_dhcp6_full(s) && !net.pool_on_link) {
		struct in6_addr prefix = { 0 };

		memcpy(prefix.s6_addr, xpxe_dhcp6_link_prefix(s)->s6_addr, 8);
		inet_ntop(AF_INET6, &prefix, text, sizeof(text));
		log_info("%s: no address of it in %s/64: the pool6 is a relayed link's, and the RA "
			 "names no prefix",
			 dp->ifname, text);
	}
	err = xpxe_dhcp6_load_maps(dp->skel, s, &net);
	if (err) {
		log_error("%s: cannot install the DHCPv6 settings: %s", dp->ifname, strerror(-err));
		return err;
	}
	log_info("%s: answering DHCPv6 boot requests (%s) with URLs on %s", dp->ifname,
		 xpxe_dhcp6_full(s) ? "full mode: the daemon's server" : "proxy-like",
		 inet_ntop(AF_INET6, &net.server_addr, text, sizeof(text)));
	return 0;
}

struct fy_node *xpxe_dhcp6_status(const struct xpxe_dataplane *dp, struct fy_document *doc)
{
	struct fy_node *node = fy_node_create_mapping(doc);
	struct xpxe_dhcp6_config cfg = { 0 };
	char text[3 * XPXE_DHCP6_SERVER_DUID_MAX + 1] = "";
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.dhcp6_config), &zero, &cfg))
		cfg.enabled = 0;
	xpxe_json_add_str(node, "mode",
			  !cfg.enabled			  ? "off"
			  : cfg.flags & XPXE_DHCP6_F_FULL ? "full"
							  : "proxy");
	if (!cfg.enabled)
		return node;
	inet_ntop(AF_INET6, cfg.server_addr, text, sizeof(text));
	xpxe_json_add_str(node, "server_addr", text);
	for (unsigned int i = 0; i < cfg.duid_len && i < XPXE_DHCP6_SERVER_DUID_MAX; i++)
		snprintf(text + 3 * i, sizeof(text) - 3 * i, "%02x%s", cfg.duid[i],
			 i + 1 < cfg.duid_len ? ":" : "");
	xpxe_json_add_str(node, "server_duid", text);
	if (cfg.flags & XPXE_DHCP6_F_FULL) {
		/* Whether xdp_pxe can hand a bound machine's renewal to xdp_dhcp6_bound: its slot
		 * holds the program (a lookup from here reads its id), else the daemon answers. */
		struct bpf_map *slot = dp->frags ? dp->skel->maps.dhcp6_bound_prog_frags
						 : dp->skel->maps.dhcp6_bound_prog;
		__u32 id = 0;

		xpxe_json_add_bool(node, "renewals_in_xdp",
				   !bpf_map_lookup_elem(bpf_map__fd(slot), &zero, &id) && id);
	}
	return node;
}
