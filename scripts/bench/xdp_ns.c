// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ns per reply inside xdp_pxe, measured by the kernel: bpf_prog_test_run_opts
 * reports the program's run time. `repeat` cannot be used for replies: the
 * kernel runs every repetition on the same buffer, so from the second run on
 * the program sees its own reply. Instead each run has repeat 1 on a fresh
 * copy, and the kernel-measured durations are averaged. Frames are the real
 * firmware requests of tests/fixtures/.
 *
 *   build/bench/xdp_ns [RUNS [CASE]]   CASE: only the cases whose name contains it
 *                                     (a profile of one case: perf record on it);
 *                                     "A|B|...": those matching A, then B, ... in turn
 *                                     (scripts/bench/vlan.sh: each untagged case beside
 *                                     its tagged ones); XDP_NS_REVERSE=1: in reverse
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "dataplane.h"
#include "dhcp/dhcp.h"
#include "vlan.h"
#include "../../tests/bpf/frames.h"
#include "../../tests/bpf/pcap.h"

struct bench_case {
	const char *name;
	const char *pcap;
	int frame;
	enum xpxe_dhcp_mode mode;
	int known; /* install the request's MAC with an address */
	int verdict;
	int mac_off; /* where that MAC is in the frame; 0: the DHCP chaddr */
	int tc;	     /* run tc_tftp, not xdp_pxe (proxy mode's OFFERs: bpf/dhcp_tc.h) */
	int vid;     /* tagged with this VID (VLANs 10 and 100.20 are configured); 0: untagged */
	int outer;   /* and an 802.1ad outer tag with this VID over it (VLAN 100.20); 0: none */
	int v6;	     /* DHCPv6 (bpf/dhcp6.h): 1 proxy-like, 2 full mode with a pool6; 0: off */
	int local;   /* proxy mode: a DHCP server on the host (XPXE_DHCP_F_LOCAL_SERVER) */
};

/* DHCPv6's modes (the case's v6). */
#define V6_PROXY 1
#define V6_FULL	 2
#define V6_BOUND 3 /* full mode, the machine bound (dhcp6_bindings): its Renew, built here */

static const struct bench_case cases[] = {
	/*
	 * Proxy mode's OFFER: XDP answers the DISCOVER when no DHCP server runs on the host;
	 * with one, XDP passes it and tc answers it (the stack's copy goes on to that server).
	 */
	{ "proxy OFFER to OVMF DISCOVER", "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 0,
	  XPXE_MODE_PROXY, 0, XDP_TX, 0, 0, 0, 0, 0, 0 },
	{ "proxy pass of a PXE DISCOVER to tc (a DHCP server here)",
	  "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 0, XPXE_MODE_PROXY, 0, XDP_PASS, 0, 0, 0,
	  0, 0, 1 },
	{ "tc: proxy OFFER to OVMF DISCOVER (+ stack copy)",
	  "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 0, XPXE_MODE_PROXY, 0, TC_ACT_REDIRECT, 0,
	  1, 0, 0, 0, 1 },
	{ "proxy ACK to OVMF 4011 REQUEST", "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 5,
	  XPXE_MODE_PROXY, 0, XDP_TX, 0, 0, 0, 0, 0, 0 },
	{ "full OFFER to iPXE DISCOVER (known MAC)",
	  "tests/fixtures/seabios-ipxe-rom-full-dhcp.pcap", 0, XPXE_MODE_FULL, 1, XDP_TX, 0, 0, 0,
	  0, 0, 0 },
	{ "full ACK to OVMF REQUEST (known MAC)", "tests/fixtures/ovmf-pxe-full-tftp-dhcp.pcap", 2,
	  XPXE_MODE_FULL, 1, XDP_TX, 0, 0, 0, 0, 0, 0 },
	{ "proxy pass of a plain udhcpc DISCOVER", "tests/fixtures/seabios-ipxe-rom-full-dhcp.pcap",
	  6, XPXE_MODE_PROXY, 0, XDP_PASS, 0, 0, 0, 0, 0, 0 },
	/* IPv6 (bpf/ndp.h): an answered RS, and one from a stranger. */
	{ "full RA to iPXE RS (known MAC)", "tests/fixtures/seabios-ipxe-rom-rs.pcap", 0,
	  XPXE_MODE_FULL, 1, XDP_TX, 6, 0, 0, 0, 0, 0 },
	{ "full pass of an RS (unknown MAC)", "tests/fixtures/seabios-ipxe-rom-rs.pcap", 0,
	  XPXE_MODE_FULL, 0, XDP_PASS, 6, 0, 0, 0, 0, 0 },
	/*
	 * The same replies on a VLAN (scripts/bench/vlan.sh): the tags off, the VLAN's config and
	 * templates, the tags back on. Each beside its untagged case above, whose name it ends
	 * with; the MAC is reserved in the VLAN's subnet and a REQUEST's options 50 and 54 name
	 * the VLAN's addresses (request_for_net).
	 */
	{ "802.1Q 10: full OFFER to iPXE DISCOVER (known MAC)",
	  "tests/fixtures/seabios-ipxe-rom-full-dhcp.pcap", 0, XPXE_MODE_FULL, 1, XDP_TX, 0, 0, 10,
	  0, 0, 0 },
	{ "802.1ad 100.20: full OFFER to iPXE DISCOVER (known MAC)",
	  "tests/fixtures/seabios-ipxe-rom-full-dhcp.pcap", 0, XPXE_MODE_FULL, 1, XDP_TX, 0, 0, 20,
	  100, 0, 0 },
	{ "802.1Q 10: full ACK to OVMF REQUEST (known MAC)",
	  "tests/fixtures/ovmf-pxe-full-tftp-dhcp.pcap", 2, XPXE_MODE_FULL, 1, XDP_TX, 0, 0, 10, 0,
	  0, 0 },
	{ "802.1ad 100.20: full ACK to OVMF REQUEST (known MAC)",
	  "tests/fixtures/ovmf-pxe-full-tftp-dhcp.pcap", 2, XPXE_MODE_FULL, 1, XDP_TX, 0, 0, 20,
	  100, 0, 0 },
	{ "802.1Q 10: proxy ACK to OVMF 4011 REQUEST",
	  "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 5, XPXE_MODE_PROXY, 0, XDP_TX, 0, 0, 10,
	  0, 0, 0 },
	{ "802.1ad 100.20: proxy ACK to OVMF 4011 REQUEST",
	  "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 5, XPXE_MODE_PROXY, 0, XDP_TX, 0, 0, 20,
	  100, 0, 0 },
	{ "VLAN 11 (not served): pass", "tests/fixtures/ovmf-pxe-full-tftp-dhcp.pcap", 2,
	  XPXE_MODE_FULL, 1, XDP_PASS, 0, 0, 11, 0, 0, 0 },
	/*
	 * DHCPv6 (scripts/bench/dhcp6.sh), OVMF's own messages: proxy-like answers in XDP (the
	 * boot options; the address from elsewhere), and full mode, where xdp_pxe passes a
	 * client's message up to the daemon's server (its cost here: the checks before the pass).
	 */
	{ "DHCPv6 proxy-like Advertise to OVMF PXE Solicit",
	  "tests/fixtures/ovmf-dhcp6-pxe-http.pcap", 0, XPXE_MODE_PROXY, 0, XDP_TX, 6, 0, 0, 0,
	  V6_PROXY, 0 },
	{ "DHCPv6 proxy-like Reply to OVMF 4011 Request", "tests/fixtures/ovmf-dhcp6-pxe-http.pcap",
	  1, XPXE_MODE_PROXY, 0, XDP_TX, 6, 0, 0, 0, V6_PROXY, 0 },
	{ "DHCPv6 full: pass of OVMF Solicit to the daemon",
	  "tests/fixtures/ovmf-dhcp6-pxe-http.pcap", 0, XPXE_MODE_FULL, 1, XDP_PASS, 6, 0, 0, 0,
	  V6_FULL, 0 },
	/* A bound machine's Renew (dhclient -6's shape), answered by xdp_dhcp6_bound. */
	{ "DHCPv6 full: Reply to a bound machine's Renew (XDP)", NULL, 0, XPXE_MODE_FULL, 1, XDP_TX,
	  6, 0, 0, 0, V6_BOUND, 0 },
};

#define RENEW_IAID 0x00000001
static const unsigned char renew_duid[] = { 0, 3, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/*
 * A Renew as dhclient -6 sends it, from frame_client_mac to ff02::1:2: client id (DUID-LL),
 * our server id, elapsed time, IA_NA of RENEW_IAID holding fd00:198:18::100, ORO (DNS).
 * Into F; its length.
 */
static int renew_frame(unsigned char *f, const unsigned char *sid, unsigned int sid_len)
{
	static const unsigned char
	    tail[] = {
		    0,	  8,	0,    2,    0,	  0, /* elapsed time */
		    0,	  3,	0,    40,   0,	  0,	0,    1,    0, 0,
		    0x0e, 0x10, 0,    0,    0x15, 0x18, /* IA_NA */
		    0,	  5,	0,    24,   0xfd, 0,	1,    0x98, 0, 0x18,
		    0,	  0,	0,    0,    0,	  0,	0,    0,    1, 0, /* IAADDR */
		    0,	  0,	0x1c, 0x20, 0,	  0,	0x0e, 0x10,	  /* lifetimes */
		    0,	  6,	0,    4,    0,	  23,	0,    24,	  /* ORO */
	    };
	unsigned char msg[256] = { 5, 0x12, 0x34, 0x56 }, src[16], dst[16];
	size_t len = 4;

	msg[len++] = 0, msg[len++] = 1, msg[len++] = 0, msg[len++] = sizeof(renew_duid);
	memcpy(msg + len, renew_duid, sizeof(renew_duid));
	len += sizeof(renew_duid);
	msg[len++] = 0, msg[len++] = 2, msg[len++] = 0, msg[len++] = (unsigned char)sid_len;
	memcpy(msg + len, sid, sid_len);
	len += sid_len;
	memcpy(msg + len, tail, sizeof(tail));
	len += sizeof(tail);
	inet_pton(AF_INET6, "fe80::5054:ff:fe12:3456", src);
	inet_pton(AF_INET6, "ff02::1:2", dst);
	return (int)frame_udp6(f, src, dst, 546, 547, msg, len);
}

/* Puts a tag (TPID, VID) right after the MACs of the frame F of *LEN bytes, as a trunk has it. */
static void push_tag(unsigned char *f, int *len, unsigned int tpid, unsigned int vid)
{
	memmove(f + 16, f + 12, (size_t)*len - 12);
	f[12] = (unsigned char)(tpid >> 8), f[13] = (unsigned char)tpid;
	f[14] = (unsigned char)(vid >> 8), f[15] = (unsigned char)vid;
	*len += 4;
}

/*
 * A REQUEST as a machine of the network whose server is SERVER and whose reserved address is
 * LEASE sends it: options 54 (server) and 50 (requested address) name those, and the UDP
 * checksum is right again. The IPv4/UDP headers start at L3 in the frame F of LEN bytes.
 */
static void request_for_net(unsigned char *f, int len, int l3, struct in_addr server,
			    struct in_addr lease)
{
	frame_iphdr *iph = (frame_iphdr *)(f + l3);
	struct udphdr *udph = (struct udphdr *)(f + l3 + 20);
	unsigned char *o = f + l3 + 28 + 240, *end = f + len;
	size_t udp_len = ntohs(udph->len);
	uint32_t sum;
	uint16_t csum;

	while (o + 2 <= end && *o != 255) {
		if (!*o) {
			o++;
			continue;
		}
		if (o[1] == 4 && o + 6 <= end && (o[0] == 54 || o[0] == 50))
			memcpy(o + 2, o[0] == 54 ? &server : &lease, 4);
		o += 2 + o[1];
	}
	if (!udph->check)
		return;
	udph->check = 0;
	sum = frame_csum_add(0, &iph->saddr, 8) + IPPROTO_UDP + udp_len;
	csum = htons(frame_csum_fold(frame_csum_add(sum, udph, udp_len)));
	udph->check = csum ? csum : 0xffff;
}

/*
 * A DHCP reply OUT (LEN bytes) to the frame IN with L3 bytes before its IPv4 header: the same
 * tags, from SERVER (option 54), and not a NAK. Returns 0 when it is so.
 */
static int check_reply(const unsigned char *in, const unsigned char *out, unsigned int len, int l3,
		       struct in_addr server)
{
	const unsigned char *o = out + l3 + 28 + 240, *end = out + len;
	int type = 0, from = 0;

	if ((int)len < l3 + 28 + 240 || memcmp(out + 12, in + 12, (size_t)l3 - 12))
		return -1;
	while (o + 2 <= end && *o != 255) {
		if (!*o) {
			o++;
			continue;
		}
		if (o[0] == 53 && o[1] == 1)
			type = o[2];
		if (o[0] == 54 && o[1] == 4 && !memcmp(o + 2, &server, 4))
			from = 1;
		o += 2 + o[1];
	}
	return type && type != 6 && from ? 0 : -1;
}

/*
 * A DHCPv6 answer OUT (LEN bytes) to the untagged frame IN: Advertise to a Solicit, else Reply,
 * the transaction id echoed, the UDP checksum right. Returns 0 when it is so.
 */
static int check_reply6(const unsigned char *in, const unsigned char *out, unsigned int len)
{
	size_t ulen = (size_t)out[58] << 8 | out[59];
	uint32_t sum;

	if (len < 66 || ulen < 12 || 54 + ulen > len)
		return -1;
	sum = frame_csum_add(0, out + 22, 32) + IPPROTO_UDP + (uint32_t)ulen;
	if (frame_csum_fold(frame_csum_add(sum, out + 54, ulen)) != 0)
		return -1;
	return out[62] == (in[62] == 1 ? 2 : 7) && !memcmp(out + 63, in + 63, 3) ? 0 : -1;
}

/* Empties dhcp_tc_copies (FD): bpf/dhcp_tc.h answers a DISCOVER once per 100 ms. */
static void clear_tc_copies(int fd)
{
	struct xpxe_dhcp_tc_copy_key key;

	while (!bpf_map_get_next_key(fd, NULL, &key))
		if (bpf_map_delete_elem(fd, &key))
			return;
}

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* The cases to run, in order, into ORDER: those ONLY names (see the top). Returns how many. */
static size_t pick_cases(const char *only, size_t *order)
{
	char parts[512], *part, *save = NULL;
	int taken[N_CASES] = { 0 };
	size_t n = 0;

	snprintf(parts, sizeof(parts), "%s", only ? only : "");
	for (part = strtok_r(parts, "|", &save); part || !n; part = strtok_r(NULL, "|", &save)) {
		for (size_t i = 0; i < N_CASES; i++)
			if (!taken[i] && (!part || strstr(cases[i].name, part)))
				taken[i] = 1, order[n++] = i;
		if (!part)
			break;
	}
	return n;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

static int drop_event(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

/*
 * A network namespace of the run's own, its loopback up: tc_tftp sends its copy of each
 * DISCOVER it answers back in (bpf_clone_redirect), on the test run's device, the loopback.
 */
static int own_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -1;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int repeat = argc > 1 ? (unsigned int)atoi(argv[1]) : 200000;
	const char *only = argc > 2 ? argv[2] : NULL;
	struct xpxe_bpf *skel = own_netns() ? NULL : xpxe_bpf__open_and_load();
	unsigned char in[2048], out[2560];

	if (!skel) {
		fprintf(stderr, "cannot load the program (root?)\n");
		return 1;
	}
	unsigned int *ns = calloc(repeat ? repeat : 1, sizeof(*ns));

	if (!ns)
		return 1;
	/* The median as well: on a shared machine a few preempted runs pull the mean up. */
	printf("%-68s %10s %8s %8s\n", "case", "runs", "ns/run", "median");
	/*
	 * Each case twice: without the rate limits, then with both on at a rate
	 * no run reaches (so every run pays for the buckets and none is dropped):
	 * the difference is what the limits cost per request.
	 */
	size_t order[N_CASES], n_order = pick_cases(only, order);

	/* XDP_NS_REVERSE=1: the last first (a benchmark alternates, so drift falls on all alike).
	 */
	if (getenv("XDP_NS_REVERSE") && !strcmp(getenv("XDP_NS_REVERSE"), "1"))
		for (size_t i = 0; i < n_order / 2; i++) {
			size_t t = order[i];

			order[i] = order[n_order - 1 - i], order[n_order - 1 - i] = t;
		}

	for (size_t k = 0; k < 2 * n_order; k++) {
		const struct bench_case *c = &cases[order[k / 2]];
		int limits = k % 2;
		struct xpxe_dhcp_settings s;
		struct xpxe_dhcp_net net = { .mode = c->mode, .lease_time = 3600 };
		int n;

		n = c->pcap ? pcap_frame(c->pcap, c->frame, in, sizeof(in)) : 0;
		if (n < 0) {
			fprintf(stderr, "cannot read %s (run from the repository root)\n", c->pcap);
			return 1;
		}
		/*
		 * The network's addresses: VLAN 10 (netno 1), VLAN 100.20 (netno 2), or the
		 * untagged one; the known MAC holds a reservation in it, as the daemon puts one
		 * (userspace/dhcp/dhcp.c).
		 */
		const char *server = c->vid == 10   ? "198.18.10.1"
				     : c->vid == 20 ? "198.18.20.1"
						    : "198.18.0.1";
		const char *lease = c->vid == 10   ? "198.18.10.50"
				    : c->vid == 20 ? "198.18.20.50"
						   : "198.18.0.125";
		struct in_addr server_ip, lease_ip;
		int l3 = 14 + (c->vid ? 4 : 0) + (c->outer ? 4 : 0);

		inet_pton(AF_INET, server, &server_ip);
		inet_pton(AF_INET, lease, &lease_ip);
		if (c->vid)
			push_tag(in, &n, 0x8100, (unsigned int)c->vid);
		if (c->outer)
			push_tag(in, &n, 0x88a8, (unsigned int)c->outer);
		if (!c->mac_off && c->vid && c->vid != 11)
			request_for_net(in, n, l3, server_ip, lease_ip);
		xpxe_dhcp_settings_default(&s);
		s.mode = c->mode;
		s.mac_rate = s.mac_burst = s.global_rate = s.global_burst = limits ? 10000000 : 0;
		inet_pton(AF_INET, "198.18.0.1", &s.server_ip);
		snprintf(s.profile.boot_file[XPXE_BOOT_IPXE], XPXE_BOOT_FILE_MAX,
			 "http://198.18.0.1:8080/boot.ipxe");
		/* A VLAN's templates take this with the VLAN's address as the host. */
		snprintf(s.http_base, sizeof(s.http_base), "http://198.18.0.1:8080");
		net.server_ip = s.server_ip;
		memcpy(net.server_mac, frame_server_mac, 6);
		inet_pton(AF_INET, "255.255.255.0", &net.netmask);
		net.local_server = c->local;
		if (xpxe_dhcp_load_maps(skel, &s, &net))
			return 1;
		/* The trunk's VLANs, numbered as the daemon numbers them (install_vlans). */
		struct xpxe_vlan_cfg v10 = { .vid = 10, .prefix = 24 },
				     v20 = { .vid = 20, .outer_vid = 100, .prefix = 24 };

		inet_pton(AF_INET, "198.18.10.1", &v10.server_ip);
		inet_pton(AF_INET, "198.18.20.1", &v20.server_ip);
		if (xpxe_vlan_load_maps(skel, &s, &net, &v10, 1) ||
		    xpxe_vlan_load_maps(skel, &s, &net, &v20, 2))
			return 1;
		/* DHCPv6 on for its cases (the server of OVMF's capture), off for the others. */
		struct xpxe_dhcp6_net net6 = { .duid = { 0, 1, 0, 1, 0x32, 0xa7, 0xcd, 0x9e, 0xe2,
							 0x24, 0x06, 0xf4, 0xa9, 0x5d },
					       .duid_len = 14 };

		memcpy(net6.server_mac, frame_server_mac, 6);
		inet_pton(AF_INET6, "fe80::ff:fe00:1", &net6.server_ll);
		inet_pton(AF_INET6, "fd00:198:18::1", &net6.server_addr);
		if (!c->pcap && c->v6 == V6_BOUND)
			n = renew_frame(in, net6.duid, net6.duid_len);
		if (c->v6 >= V6_FULL) {
			inet_pton(AF_INET6, "fd00:198:18::100", &s.pool6_first);
			inet_pton(AF_INET6, "fd00:198:18::1ff", &s.pool6_last);
		}
		if (c->v6) /* the default boot files, with their HTTP URLs, as the test has them */
			xpxe_dhcp_profile_defaults(&s.profile, s.boot_file_set, s.http_base);
		if (xpxe_dhcp6_load_maps(skel, &s, c->v6 ? &net6 : NULL))
			return 1;
		if (c->v6 == V6_BOUND) {
			/* Bound as the daemon binds it (dhcp6_server.c map_put): lease 3600. */
			struct xpxe_dhcp6_binding b = { .iaid = RENEW_IAID,
							.t1 = 1800,
							.t2 = 2880,
							.preferred = 3600,
							.valid = 3600,
							.duid_len = sizeof(renew_duid) };
			struct xpxe_mac_key bkey = { 0 };

			memcpy(bkey.addr, frame_client_mac, 6);
			inet_pton(AF_INET6, "fd00:198:18::100", b.ip);
			memcpy(b.duid, renew_duid, sizeof(renew_duid));
			if (xpxe_dataplane_set_tail_calls(skel, false) ||
			    bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp6_bindings), &bkey, &b,
						BPF_ANY))
				return 1;
		}
		struct xpxe_mac_key key = { 0 };
		/* Bound on the network the case's frames come on (VLAN 10: 1, 100.20: 2). */
		struct xpxe_dhcp_client client = { .ip = lease_ip.s_addr,
						   .flags = XPXE_CLIENT_F_RESERVED,
						   .net = c->vid == 10	 ? 1u
							  : c->vid == 20 ? 2u
									 : 0u };

		/* Known, or not: an earlier case may have installed the same MAC. */
		memcpy(key.addr, in + (c->mac_off ? c->mac_off : l3 + 28 + 28), 6);
		if (c->known)
			bpf_map_update_elem(bpf_map__fd(skel->maps.dhcp_clients), &key, &client,
					    BPF_ANY);
		else
			bpf_map_delete_elem(bpf_map__fd(skel->maps.dhcp_clients), &key);
		unsigned long long total = 0;
		/*
		 * The ring of events emptied after each run (untimed), as the daemon does:
		 * a full ring would make each reply's record free, and hide its cost.
		 */
		struct ring_buffer *rb =
		    ring_buffer__new(bpf_map__fd(skel->maps.events), drop_event, NULL, NULL);

		for (unsigned int r = 0; r < repeat; r++) {
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = n,
				    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
			if (bpf_prog_test_run_opts(
				bpf_program__fd(c->tc ? skel->progs.tc_tftp : skel->progs.xdp_pxe),
				&opts) ||
			    (int)opts.retval != c->verdict) {
				fprintf(stderr, "%s: unexpected verdict %u\n", c->name,
					opts.retval);
				return 1;
			}
			/* The first reply checked: a NAK or a lost tag would time something else.
			 */
			if (!r && c->verdict == XDP_TX && !c->mac_off &&
			    check_reply(in, out, opts.data_size_out, l3, server_ip)) {
				fprintf(stderr, "%s: not the reply expected\n", c->name);
				return 1;
			}
			if (!r && c->verdict == XDP_TX && c->v6 &&
			    check_reply6(in, out, opts.data_size_out)) {
				fprintf(stderr, "%s: not the DHCPv6 answer expected\n", c->name);
				return 1;
			}
			total += opts.duration;
			ns[r] = opts.duration;
			if (rb)
				ring_buffer__consume(rb);
			/*
			 * tc's note of the DISCOVER it answered (untimed): the same frame again
			 * within 100 ms is taken for the stack's copy and let up, unanswered.
			 */
			if (c->tc)
				clear_tc_copies(bpf_map__fd(skel->maps.dhcp_tc_copies));
		}
		ring_buffer__free(rb);
		qsort(ns, repeat, sizeof(*ns), cmp_uint);
		printf("%-56s %-11s %10u %8.0f %8u\n", c->name, limits ? "limits on" : "limits off",
		       repeat, (double)total / repeat, ns[repeat / 2]);
	}
	free(ns);
	xpxe_bpf__destroy(skel);
	return 0;
}
