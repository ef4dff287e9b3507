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
 *                                     (a profile of one case: perf record on it)
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
#include "dhcp/dhcp.h"
#include "vlan.h"
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
	int vid;     /* tagged with this VID (VLAN 10 is configured: bpf/vlan.h); 0: untagged */
};

static const struct bench_case cases[] = {
	/* Proxy mode's OFFER costs both runs: XDP passes the DISCOVER, tc answers it. */
	{ "proxy pass of a PXE DISCOVER to tc (arch 7)",
	  "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 0, XPXE_MODE_PROXY, 0, XDP_PASS, 0, 0,
	  0 },
	{ "tc: proxy OFFER to OVMF DISCOVER (+ stack copy)",
	  "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 0, XPXE_MODE_PROXY, 0, TC_ACT_REDIRECT, 0,
	  1, 0 },
	{ "proxy ACK to OVMF 4011 REQUEST", "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap", 5,
	  XPXE_MODE_PROXY, 0, XDP_TX, 0, 0, 0 },
	{ "full OFFER to iPXE DISCOVER (known MAC)",
	  "tests/fixtures/seabios-ipxe-rom-full-dhcp.pcap", 0, XPXE_MODE_FULL, 1, XDP_TX, 0, 0, 0 },
	{ "full ACK to OVMF REQUEST (known MAC)", "tests/fixtures/ovmf-pxe-full-tftp-dhcp.pcap", 2,
	  XPXE_MODE_FULL, 1, XDP_TX, 0, 0, 0 },
	{ "proxy pass of a plain udhcpc DISCOVER", "tests/fixtures/seabios-ipxe-rom-full-dhcp.pcap",
	  6, XPXE_MODE_PROXY, 0, XDP_PASS, 0, 0, 0 },
	/* IPv6 (bpf/ndp.h): an answered RS, and one from a stranger. */
	{ "full RA to iPXE RS (known MAC)", "tests/fixtures/seabios-ipxe-rom-rs.pcap", 0,
	  XPXE_MODE_FULL, 1, XDP_TX, 6, 0, 0 },
	{ "full pass of an RS (unknown MAC)", "tests/fixtures/seabios-ipxe-rom-rs.pcap", 0,
	  XPXE_MODE_FULL, 0, XDP_PASS, 6, 0, 0 },
	/*
	 * The same replies on a VLAN: the tag off, the VLAN's templates, the tag back on. (Not
	 * the full ACK: that capture's REQUEST names the untagged server in option 54.)
	 */
	{ "VLAN 10: proxy ACK to OVMF 4011 REQUEST", "tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap",
	  5, XPXE_MODE_PROXY, 0, XDP_TX, 0, 0, 10 },
	{ "VLAN 10: full OFFER to iPXE DISCOVER (known MAC)",
	  "tests/fixtures/seabios-ipxe-rom-full-dhcp.pcap", 0, XPXE_MODE_FULL, 1, XDP_TX, 0, 0,
	  10 },
	{ "VLAN 11 (not served): pass", "tests/fixtures/ovmf-pxe-full-tftp-dhcp.pcap", 2,
	  XPXE_MODE_FULL, 1, XDP_PASS, 0, 0, 11 },
};

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
	printf("%-56s %10s %8s %8s\n", "case", "runs", "ns/run", "median");
	/*
	 * Each case twice: without the rate limits, then with both on at a rate
	 * no run reaches (so every run pays for the buckets and none is dropped):
	 * the difference is what the limits cost per request.
	 */
	for (size_t k = 0; k < 2 * sizeof(cases) / sizeof(cases[0]); k++) {
		const struct bench_case *c = &cases[k / 2];
		int limits = k % 2;
		struct xpxe_dhcp_settings s;
		struct xpxe_dhcp_net net = { .mode = c->mode, .lease_time = 3600 };
		int n;

		if (only && !strstr(c->name, only))
			continue;
		n = pcap_frame(c->pcap, c->frame, in, sizeof(in));
		if (n < 0) {
			fprintf(stderr, "cannot read %s (run from the repository root)\n", c->pcap);
			return 1;
		}
		if (c->vid) {
			/* The tag right after the MACs, as a trunk carries the frame. */
			memmove(in + 16, in + 12, (size_t)n - 12);
			in[12] = 0x81, in[13] = 0x00, in[14] = 0, in[15] = (unsigned char)c->vid;
			n += 4;
		}
		xpxe_dhcp_settings_default(&s);
		s.mode = c->mode;
		s.mac_rate = s.mac_burst = s.global_rate = s.global_burst = limits ? 10000000 : 0;
		inet_pton(AF_INET, "198.18.0.1", &s.server_ip);
		snprintf(s.profile.boot_file[XPXE_BOOT_IPXE], XPXE_BOOT_FILE_MAX,
			 "http://198.18.0.1:8080/boot.ipxe");
		net.server_ip = s.server_ip;
		inet_pton(AF_INET, "255.255.255.0", &net.netmask);
		if (xpxe_dhcp_load_maps(skel, &s, &net))
			return 1;
		struct xpxe_vlan_cfg v = { .vid = 10, .prefix = 24 };

		inet_pton(AF_INET, "198.18.10.1", &v.server_ip);
		if (xpxe_vlan_load_maps(skel, &s, &net, &v, 1))
			return 1;
		struct xpxe_mac_key key = { 0 };
		struct xpxe_dhcp_client client = { 0 };

		/* Known, or not: an earlier case may have installed the same MAC. */
		memcpy(key.addr, in + (c->mac_off ? c->mac_off : 42 + 28) + (c->vid ? 4 : 0), 6);
		inet_pton(AF_INET, "198.18.0.125", &client.ip);
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
			total += opts.duration;
			ns[r] = opts.duration;
			if (rb)
				ring_buffer__consume(rb);
		}
		ring_buffer__free(rb);
		qsort(ns, repeat, sizeof(*ns), cmp_uint);
		printf("%-44s %-11s %10u %8.0f %8u\n", c->name, limits ? "limits on" : "limits off",
		       repeat, (double)total / repeat, ns[repeat / 2]);
	}
	free(ns);
	xpxe_bpf__destroy(skel);
	return 0;
}
