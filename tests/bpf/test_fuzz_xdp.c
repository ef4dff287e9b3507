// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fuzzes the data plane: xdp_pxe and tc_tftp run by the kernel
 * (bpf_prog_test_run_opts) on random frames and on mutations of real ones
 * (the firmware requests in tests/fixtures/, TFTP frames, ARP, VLAN, IPv6),
 * under each DHCP mode, with TFTP sessions and assets in place. Every run is
 * checked against invariants derived from the input alone, never from the
 * code that built the output:
 *
 *  - the verdict is one the program may return, and the one its outcome implies;
 *  - each run counts exactly one outcome (and, for XDP, one rx_frames); the TFTP
 *    tallies move only with a DATA block, by its size; the daemon's counters never;
 *  - a frame passed or dropped is left as it came, byte for byte;
 *  - a reply is a well-formed Ethernet/IPv4/UDP frame of at most 1514 bytes, with
 *    correct checksums and lengths, from a unicast MAC and address (the server's
 *    for DHCP; the one the request was sent to for TFTP), to where the protocol
 *    says (broadcast, the sender, chaddr or the relay), echoing xid and chaddr;
 *  - a DATA block holds the asset's bytes of the block the session records;
 *  - in proxy mode (and on port 4011 in any mode) no DHCP reply goes to a client
 *    whose request carried no PXEClient/HTTPClient/iPXE identity;
 *  - a request queued for the daemon is queued once and whole;
 *  - in full mode with a pool6, a bound machine's DHCPv6 message answered by
 *    xdp_dhcp6_bound (tail-called from xdp_pxe) is one the daemon's receive path takes
 *    (a source in fe80::/10, a destination MAC ours or a group's), and the answer is a
 *    well-formed IPv6/UDP frame from our link-local address carrying, byte for byte,
 *    what the daemon's server answers the same message with.
 *
 * XPXE_FUZZ_ITERATIONS (default 20000: a few seconds, part of make check) and
 * XPXE_FUZZ_SEED (default fixed, printed) choose the run; `make fuzz` runs
 * millions. A violation prints the seed, the frame number and the frame, and
 * writes the frame to tests/out/: once fixed, it goes to tests/fuzz/corpus/xdp/
 * (every run replays those first, as seeds) and becomes a case below.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "tftp_entry.h"
#include "assets.h"
#include "counters.h"
#include "dataplane.h"
#include "dhcp/dhcp.h"
#include "frames.h"
#include "test_assets.h"
#include "pcap.h"
#include "xpxe_tftp.h"
#include "xdp_run.h"

#ifndef XPXE_FIXTURES
#define XPXE_FIXTURES "tests/fixtures"
#endif
/* Frames the fuzzer once failed on: seeds, so every run replays them first. */
#define XPXE_FUZZ_CORPUS "tests/fuzz/corpus/xdp"

#define DEFAULT_ITERATIONS 20000
#define DEFAULT_SEED	   0x78707865u /* "xpxe" */

#define SERVER_IP	 htonl(0xc6120001) /* 198.18.0.1 */
#define LEASE_IP(k)	 htonl(0xc6120064 + (k))
#define TFTP_CLIENT_IP	 htonl(0xc6120032) /* 198.18.0.50 */
#define TFTP_CLIENT_PORT 1554
#define TFTP_PORT0	 40000
#define N_SESSIONS	 8
#define SESSION_NO_ASSET (N_SESSIONS - 1) /* its slot holds nothing */

/* Inputs stay below what the XDP test run takes linearly (a page minus head- and tailroom). */
#define IN_MAX	    1600
#define OUT_MAX	    4096
#define WIRE_MAX    1514 /* Ethernet frame without FCS at MTU 1500 */
#define MAX_SEEDS   256
#define MAX_KNOWN   24
#define RESET_EVERY 64 /* frames between fresh TFTP sessions */

/* --- randomness: one seed decides everything ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool chance(unsigned percent)
{
	return rnd(100) < percent;
}

#define PICK(array) ((array)[rnd(sizeof(array) / sizeof((array)[0]))])

/* --- the programs, their maps, the assets ---------------------------------------------- */

enum { ASSET_RANDOM, ASSET_SMALL, ASSET_EMPTY, ASSET_CHUNK_EDGE, N_ASSETS };

static const uint64_t asset_sizes[N_ASSETS] = {
	[ASSET_RANDOM] = 200000,
	[ASSET_SMALL] = 1024,
	[ASSET_EMPTY] = 0,
	[ASSET_CHUNK_EDGE] = 65536 + 1468,
};

static struct xpxe_bpf *skel;
static struct xpxe_assets assets;
static uint8_t *content[N_ASSETS];
static uint32_t slot_of[N_ASSETS];
static struct ring_buffer *queue;
static int counters_fd, sessions_fd, clients_fd, ncpus;
static __u64 counters_now[XPXE_CNT_MAX];
static __u64 *percpu_values;
static __u64 outcome_hits[2][XPXE_CNT_MAX]; /* [tc][counter]: what the fuzzing reached */
static unsigned long iterations;
static uint64_t seed;

static int n_queued;
static struct xpxe_dhcp_queued last_queued;

static int on_queued(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size == sizeof(last_queued))
		memcpy(&last_queued, data, sizeof(last_queued));
	n_queued++;
	return 0;
}

/* All counters in one syscall: with a lookup per counter, reading them would cost more than
 * the runs themselves. */
static int read_counters(__u64 *totals)
{
	__u32 keys[XPXE_CNT_MAX], count = XPXE_CNT_MAX, out_batch;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int err;

	err =
	    bpf_map_lookup_batch(counters_fd, NULL, &out_batch, keys, percpu_values, &count, &opts);
	if ((err && errno != ENOENT) || count != XPXE_CNT_MAX)
		return xpxe_counters_read(counters_fd, totals);
	for (__u32 i = 0; i < count; i++) {
		totals[keys[i]] = 0;
		for (int cpu = 0; cpu < ncpus; cpu++)
			totals[keys[i]] += percpu_values[i * ncpus + cpu];
	}
	return 0;
}

/* --- frames: what the fuzzer starts from ----------------------------------------------- */

struct frame {
	uint8_t b[IN_MAX];
	size_t len;
};

static struct frame seeds[MAX_SEEDS];
static const char *seed_names[MAX_SEEDS];
static int n_seeds;
static uint8_t known_macs[MAX_KNOWN][ETH_ALEN];
static uint32_t known_leases[MAX_KNOWN]; /* what its captured REQUEST asked for, else 0 */
static int n_known;

static void add_seed(const char *name, const uint8_t *b, size_t len)
{
	if (n_seeds == MAX_SEEDS || len < ETH_HLEN || len > IN_MAX)
		return;
	memcpy(seeds[n_seeds].b, b, len);
	seeds[n_seeds].len = len;
	seed_names[n_seeds++] = name;
}

static void add_known_mac(const uint8_t *mac, uint32_t requested)
{
	int i;

	for (i = 0; i < n_known; i++)
		if (!memcmp(known_macs[i], mac, ETH_ALEN))
			break;
	if (i == MAX_KNOWN)
		return;
	if (i == n_known)
		memcpy(known_macs[n_known++], mac, ETH_ALEN);
	if (requested)
		known_leases[i] = requested;
}

/* Offsets of an Ethernet/IPv4/UDP frame; false when F is not one (as far as the fuzzer cares). */
struct l4 {
	size_t ip, udp, payload;
	size_t ihl;
};

static bool l4_of(const uint8_t *b, size_t len, struct l4 *o)
{
	if (len < 34 || b[12] != 0x08 || b[13] != 0x00)
		return false;
	o->ip = 14;
	o->ihl = (b[14] & 0x0f) * 4u;
	if (o->ihl < 20 || o->ip + o->ihl + 8 > len)
		return false;
	o->udp = o->ip + o->ihl;
	o->payload = o->udp + 8;
	return true;
}

/* Makes IP and UDP lengths and checksums true to the frame, as a well-behaved sender would. */
static void fix_up(struct frame *f)
{
	struct l4 o;
	uint32_t sum;
	uint16_t c, udp_len;

	if (!l4_of(f->b, f->len, &o))
		return;
	f->b[o.ip + 2] = (f->len - 14) >> 8;
	f->b[o.ip + 3] = (f->len - 14) & 0xff;
	f->b[o.ip + 10] = f->b[o.ip + 11] = 0;
	c = frame_csum_fold(frame_csum_add(0, f->b + o.ip, o.ihl));
	f->b[o.ip + 10] = c >> 8;
	f->b[o.ip + 11] = c & 0xff;
	if (f->b[o.ip + 9] != IPPROTO_UDP)
		return;
	udp_len = f->len - o.udp;
	f->b[o.udp + 4] = udp_len >> 8;
	f->b[o.udp + 5] = udp_len & 0xff;
	f->b[o.udp + 6] = f->b[o.udp + 7] = 0;
	sum = frame_csum_add(0, f->b + o.ip + 12, 8) + IPPROTO_UDP + udp_len;
	c = frame_csum_fold(frame_csum_add(sum, f->b + o.udp, udp_len));
	c = c ? c : 0xffff;
	f->b[o.udp + 6] = c >> 8;
	f->b[o.udp + 7] = c & 0xff;
}

/* Option 50 of a BOOTREQUEST, or 0. */
static uint32_t requested_ip(const uint8_t *b, size_t len, const struct l4 *o)
{
	uint32_t ip = 0;

	for (size_t p = o->payload + 240; p + 2 <= len && b[p] != 255;) {
		if (b[p] == 0) {
			p++;
			continue;
		}
		if (b[p] == 50 && b[p + 1] == 4 && p + 6 <= len)
			memcpy(&ip, b + p + 2, 4);
		p += 2 + b[p + 1];
	}
	return ip;
}

static void load_fixture(const char *path, const char *name)
{
	uint8_t buf[FRAME_MAX];
	struct l4 o;
	int n;

	for (int i = 0; (n = pcap_frame(path, i, buf, sizeof(buf))) > 0; i++) {
		add_seed(name, buf, n);
		/*
		 * BOOTREQUESTs: their client MACs become the known machines, leased (in full
		 * mode) the address they asked for, so their REQUESTs get ACKs.
		 */
		if (l4_of(buf, n, &o) && (size_t)n >= o.payload + 240 && buf[o.payload] == 1)
			add_known_mac(buf + o.payload + 28, requested_ip(buf, n, &o));
	}
}

/* What the fuzzer installed for each transfer, to check the blocks sent against. */
struct fz_session {
	int asset; /* -1: the slot holds no asset */
	unsigned blksize;
};

static struct fz_session sessions[N_SESSIONS];

/* Transfer I: from the TFTP client's port to server port TFTP_PORT0 + I. */
static struct xpxe_tftp_key session_key(int i)
{
	struct xpxe_tftp_key key = {
		.client_ip = TFTP_CLIENT_IP,
		.client_port = htons(TFTP_CLIENT_PORT),
		.server_port = htons(TFTP_PORT0 + i),
	};

	return key;
}

static void load_corpus(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		uint8_t buf[IN_MAX];
		char path[512];
		FILE *f;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		add_seed(strdup(e->d_name), buf, n);
	}
	closedir(d);
}

static size_t tftp_frame(uint8_t *b, uint16_t dport, const void *payload, size_t plen)
{
	return frame_udp(b, TFTP_CLIENT_IP, SERVER_IP, TFTP_CLIENT_PORT, dport, payload, plen);
}

/*
 * DHCPv6 requests as EDK2 and iPXE send them (bpf/dhcp6.h): a PXE Solicit to ff02::1:2, the
 * boot service Request to port 4011 naming the server DUID configure() installs, an iPXE
 * Information-request.
 */
static void add_dhcp6_seeds(uint8_t *b)
{
	static const uint8_t head[] = {
		1,    0xab, 0xcd, 0xef, /* Solicit, transaction id */
		0,    1,    0,	  10,	0,    3,    0, 1,
		0x52, 0x54, 0,	  0x12, 0x34, 0x56,	   /* client id: DUID-LL */
		0,    6,    0,	  4,	0,    59,   0, 23, /* ORO: 59, 23 */
		0,    61,   0,	  2,	0,    7,	   /* arch: x64 UEFI */
	};
	static const uint8_t vendor[] = { 0,   16,  0,	 15,  0,   0,	1,   0x57, 0,  9,
					  'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n',  't' };
	static const uint8_t sid[] = { 0,    2,	   0,	 14, 0, 1, 0, 1, 0x2c,
				       0x0f, 0x10, 0x20, 2,  0, 0, 0, 0, 1 };
	static const uint8_t ipxe_uc[] = { 0, 15, 0, 6, 0, 4, 'i', 'P', 'X', 'E' };
	uint8_t m[128], src[16], all[16], srv[16];
	size_t n;

	inet_pton(AF_INET6, "fe80::5054:ff:fe12:3456", src);
	inet_pton(AF_INET6, "ff02::1:2", all);
	inet_pton(AF_INET6, "fd00:198:18::1", srv);
	memcpy(m, head, sizeof(head));
	memcpy(m + sizeof(head), vendor, sizeof(vendor));
	n = sizeof(head) + sizeof(vendor);
	add_seed("dhcp6 pxe solicit", b, frame_udp6(b, src, all, 546, 547, m, n));
	m[0] = 3; /* Request, with the server id, to 4011 */
	memcpy(m + n, sid, sizeof(sid));
	add_seed("dhcp6 request 4011", b, frame_udp6(b, src, srv, 4011, 4011, m, n + sizeof(sid)));
	m[0] = 11; /* Information-request from iPXE */
	memcpy(m + sizeof(head), ipxe_uc, sizeof(ipxe_uc));
	add_seed("dhcp6 ipxe information-request", b,
		 frame_udp6(b, src, all, 546, 547, m, sizeof(head) + sizeof(ipxe_uc)));
}

static void make_seeds(void)
{
	static const char rrq[] = "\0\1snponly.efi\0octet\0tsize\0000\0blksize\0001468";
	static const char rrq_plain[] = "\0\1undionly.kpxe\0octet";
	static const char wrq[] = "\0\2boot.img\0octet";
	static const char err[] = "\0\5\0\10User aborted the transfer";
	static const char oack[] = "\0\6blksize\0001468";
	static const uint8_t data[] = { 0, 3, 0, 1, 'x', 'y', 'z' };
	uint8_t b[FRAME_MAX] = { 0 };
	size_t len;

	load_fixture(XPXE_FIXTURES "/ovmf-pxe-proxy-4011-dhcp.pcap", "ovmf proxy");
	load_fixture(XPXE_FIXTURES "/ovmf-pxe-full-tftp-dhcp.pcap", "ovmf full");
	load_fixture(XPXE_FIXTURES "/seabios-ipxe-rom-full-dhcp.pcap", "seabios ipxe");
	load_fixture(XPXE_FIXTURES "/ovmf-httpboot-discover-dhcp.pcap", "ovmf http boot");
	add_known_mac(frame_client_mac, 0);
	load_corpus(XPXE_FUZZ_CORPUS);

	add_dhcp6_seeds(b);
	add_seed("tftp rrq", b, tftp_frame(b, 69, rrq, sizeof(rrq)));
	add_seed("tftp rrq, no options", b, tftp_frame(b, 69, rrq_plain, sizeof(rrq_plain)));
	add_seed("tftp wrq", b, tftp_frame(b, 69, wrq, sizeof(wrq)));
	for (int s = 0; s < N_SESSIONS; s++) {
		uint16_t port = TFTP_PORT0 + s;

		for (int blk = 0; blk < 3; blk++) {
			uint8_t ack[4] = { 0, XPXE_TFTP_ACK, 0, blk };

			add_seed("tftp ack", b, tftp_frame(b, port, ack, sizeof(ack)));
		}
	}
	add_seed("tftp error", b, tftp_frame(b, TFTP_PORT0, err, sizeof(err)));
	add_seed("tftp oack", b, tftp_frame(b, TFTP_PORT0 + 1, oack, sizeof(oack)));
	add_seed("tftp data", b, tftp_frame(b, TFTP_PORT0 + 2, data, sizeof(data)));

	/* Not ours: ARP, IPv6, TCP, a fragment, a VLAN tag. */
	len = frame_eth(b, ETH_P_ARP);
	memset(b + len, 0, 28);
	b[len + 1] = 1, b[len + 2] = 8, b[len + 4] = 6, b[len + 5] = 4, b[len + 7] = 1;
	add_seed("arp", b, len + 28);
	len = frame_eth(b, ETH_P_IPV6);
	memset(b + len, 0, 48);
	b[len] = 0x60, b[len + 5] = 8, b[len + 6] = IPPROTO_UDP, b[len + 7] = 64;
	b[len + 41] = 69, b[len + 43] = 69, b[len + 45] = 8; /* UDP to port 69, no payload */
	add_seed("ipv6 udp", b, len + 48);
	len = tftp_frame(b, 69, rrq, sizeof(rrq));
	frame_iph(b)->protocol = IPPROTO_TCP;
	add_seed("ipv4 tcp", b, len);
	if (n_seeds > 0) {
		struct frame f = seeds[0];

		f.b[20] = 0x20; /* MF */
		add_seed("ipv4 fragment", f.b, f.len);
		memmove(f.b + 16, f.b + 12, f.len - 12);
		f.b[12] = 0x81, f.b[13] = 0x00, f.b[14] = 0x00, f.b[15] = 0x05;
		f.b[20 + 4] = 0;
		add_seed("vlan dhcp", f.b, f.len + 4 <= IN_MAX ? f.len + 4 : IN_MAX);
	}
}

/* --- mutations -------------------------------------------------------------------------- */

static const uint16_t interesting_arch[] = {
	0, 6, 7, 9, 10, 11, 15, 16, 18, 19, 22, 41, 1234, 65535
};

static uint32_t interesting_ip(void)
{
	static const uint32_t ips[] = { 0xc6120001, 0xc6120064, 0xc6120032, 0xffffffff, 0,
					0xe0000001, 0xc61200ff, 0x7f000001, 0xf0000001 };

	return chance(80) ? htonl(PICK(ips)) : (uint32_t)rnd64();
}

static uint16_t interesting_port(void)
{
	static const uint16_t ports[] = { 67, 68, 69, 4011, TFTP_CLIENT_PORT, 0, 65535 };

	if (chance(40))
		return TFTP_PORT0 + rnd(N_SESSIONS);
	return chance(80) ? PICK(ports) : (uint16_t)rnd64();
}

/* Writes one DHCP option at O (ROOM bytes there); returns its length, 0 when it does not fit. */
static size_t random_option(uint8_t *o, size_t room)
{
	static const uint8_t codes[] = { 0,  1,	 3,  12, 43, 50, 51, 52, 53, 54,  55,
					 57, 60, 61, 66, 67, 77, 93, 94, 97, 175, 255 };
	static const char *const vendors[] = { "PXEClient:Arch:%05u:UNDI:002001",
					       "HTTPClient:Arch:%05u:UNDI:003001",
					       "PXEClient",
					       "HTTPClient",
					       "PXEClien",
					       "PXEClient:Arch:%u",
					       "udhcp 1.36.1" };
	static const char *const user_classes[] = { "iPXE", "\x04iPXE", "iPX", "iPXEx",
						    "\x05iPXE" };
	uint8_t code = chance(85) ? PICK(codes) : (uint8_t)rnd(256), v[256];
	size_t n;

	switch (code) {
	case 0:
	case 255:
		if (room < 1)
			return 0;
		o[0] = code;
		return 1;
	case 53:
		v[0] = 1 + rnd(9);
		n = chance(95) ? 1 : rnd(3);
		break;
	case 52:
		v[0] = 1 + rnd(3);
		n = 1;
		break;
	case 60:
		n = snprintf((char *)v, sizeof(v), PICK(vendors), (unsigned)PICK(interesting_arch));
		break;
	case 77:
		n = strlen(strcpy((char *)v, PICK(user_classes)));
		break;
	case 93: {
		uint16_t arch = PICK(interesting_arch);

		v[0] = arch >> 8, v[1] = arch & 0xff;
		n = chance(90) ? 2 : rnd(4);
		break;
	}
	case 50:
	case 54: {
		uint32_t ip = interesting_ip();

		memcpy(v, &ip, 4);
		n = chance(90) ? 4 : rnd(8);
		break;
	}
	case 97:
		n = chance(80) ? 17 : rnd(20);
		for (size_t i = 0; i < n; i++)
			v[i] = rnd(256);
		v[0] = 0;
		break;
	default:
		n = rnd(chance(90) ? 16 : 256);
		for (size_t i = 0; i < n; i++)
			v[i] = rnd(256);
	}
	if (room < 2 + n)
		return 0;
	o[0] = code;
	o[1] = chance(97) ? n : rnd(256); /* sometimes a length that lies */
	memcpy(o + 2, v, n);
	return 2 + n;
}

/* The DHCP option area of F: [*start, *end) as the UDP length bounds it. */
static bool options_of(const struct frame *f, size_t *start, size_t *end)
{
	struct l4 o;
	size_t udp_end;

	if (!l4_of(f->b, f->len, &o))
		return false;
	udp_end = o.udp + (f->b[o.udp + 4] << 8 | f->b[o.udp + 5]);
	*start = o.payload + 240;
	*end = udp_end < f->len ? udp_end : f->len;
	return *start < *end;
}

/* The offsets where options begin in F's option area (up to MAX), END included. */
static int option_offsets(const struct frame *f, size_t *at, int max)
{
	size_t p, end;
	int n = 0;

	if (!options_of(f, &p, &end))
		return 0;
	while (p < end && n < max) {
		at[n++] = p;
		if (f->b[p] == 255)
			break;
		p += f->b[p] ? (p + 1 < end ? 2u + f->b[p + 1] : 1u) : 1u;
	}
	return n;
}

static void insert_bytes(struct frame *f, size_t at, const uint8_t *b, size_t n)
{
	if (at > f->len || f->len + n > IN_MAX)
		return;
	memmove(f->b + at + n, f->b + at, f->len - at);
	memcpy(f->b + at, b, n);
	f->len += n;
}

static void remove_bytes(struct frame *f, size_t at, size_t n)
{
	if (at >= f->len)
		return;
	if (at + n > f->len)
		n = f->len - at;
	if (f->len - n < ETH_HLEN)
		return;
	memmove(f->b + at, f->b + at + n, f->len - at - n);
	f->len -= n;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* A header field set to a value a parser may mishandle. */
static void mutate_field(struct frame *f)
{
	static const uint16_t ethertypes[] = { ETH_P_IP,     ETH_P_IP,	 ETH_P_8021Q,
					       ETH_P_8021AD, ETH_P_IPV6, ETH_P_ARP };
	static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t multicast[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	struct l4 o;
	uint32_t ip;

	if (!l4_of(f->b, f->len, &o)) {
		put16(f->b + 12, PICK(ethertypes));
		return;
	}
	switch (rnd(16)) {
	case 0:
		put16(f->b + 12, PICK(ethertypes));
		break;
	case 1: {
		const uint8_t *macs[] = { frame_server_mac, broadcast, multicast,
					  frame_client_mac };

		memcpy(f->b, PICK(macs), ETH_ALEN);
		break;
	}
	case 2:
		ip = interesting_ip();
		memcpy(f->b + o.ip + 16, &ip, 4); /* destination */
		break;
	case 3:
		ip = interesting_ip();
		memcpy(f->b + o.ip + 12, &ip, 4); /* source */
		break;
	case 4: {
		static const uint16_t frags[] = { 0x2000, 0x0001, 0x4000, 0x1fff, 0x8000 };

		put16(f->b + o.ip + 6, PICK(frags));
		break;
	}
	case 5:
		f->b[o.ip + 9] = chance(50) ? IPPROTO_TCP : (uint8_t)rnd(256);
		break;
	case 6:
		put16(f->b + o.udp + 2, interesting_port());
		break;
	case 7:
		put16(f->b + o.udp, interesting_port());
		break;
	case 8: /* BOOTP op, htype, hlen, hops */
		if (o.payload + 4 <= f->len)
			f->b[o.payload + rnd(4)] = rnd(4);
		break;
	case 9: /* chaddr: a known machine or a stranger */
		if (o.payload + 34 <= f->len) {
			if (chance(70) && n_known)
				memcpy(f->b + o.payload + 28, known_macs[rnd(n_known)], ETH_ALEN);
			else
				for (int i = 0; i < ETH_ALEN; i++)
					f->b[o.payload + 28 + i] = rnd(256);
		}
		break;
	case 10: /* ciaddr, yiaddr, siaddr, giaddr */
		if (o.payload + 28 <= f->len) {
			ip = interesting_ip();
			memcpy(f->b + o.payload + 12 + 4 * rnd(4), &ip, 4);
		}
		break;
	case 11: /* flags: the broadcast bit */
		if (o.payload + 12 <= f->len)
			f->b[o.payload + 10] ^= 0x80;
		break;
	case 12: /* the magic cookie */
		if (o.payload + 240 <= f->len)
			f->b[o.payload + 236 + rnd(4)] = rnd(256);
		break;
	case 13: /* TFTP opcode */
		if (o.payload + 2 <= f->len)
			put16(f->b + o.payload, rnd(8));
		break;
	case 14: { /* TFTP block number */
		static const uint16_t blocks[] = { 0, 1, 2, 3, 0xffff, 0xfffe, 136, 137 };

		if (o.payload + 4 <= f->len)
			put16(f->b + o.payload + 2, chance(80) ? PICK(blocks) : (uint16_t)rnd64());
		break;
	}
	default:
		f->b[o.ip] = chance(50) ? 0x45 : (uint8_t)rnd(256); /* version, ihl */
	}
}

/* A length field that lies: IP total length, IHL, UDP length, or an option's length. */
static void mutate_length(struct frame *f)
{
	struct l4 o;
	size_t at[64];
	int n;
	uint16_t v;

	if (!l4_of(f->b, f->len, &o))
		return;
	v = chance(50) ? (uint16_t)(f->len - 14 + (int)rnd(17) - 8) : (uint16_t)rnd64();
	switch (rnd(4)) {
	case 0:
		put16(f->b + o.ip + 2, v);
		break;
	case 1:
		f->b[o.ip] = 0x40 | rnd(16);
		break;
	case 2:
		put16(f->b + o.udp + 4, v - 20);
		break;
	default:
		n = option_offsets(f, at, 64);
		if (n) {
			size_t p = at[rnd(n)];

			if (p + 1 < f->len)
				f->b[p + 1] = chance(50) ? (uint8_t)(f->b[p + 1] + rnd(5) - 2)
							 : (uint8_t)rnd(256);
		}
	}
}

static void mutate(struct frame *f)
{
	size_t at[64], p;
	uint8_t opt[260];
	int n;

	switch (rnd(11)) {
	case 0: /* bit flips */
		for (int i = 1 + rnd(8); i > 0; i--)
			f->b[rnd(f->len)] ^= 1u << rnd(8);
		break;
	case 1: { /* bytes set to 0, 0xff or anything */
		static const uint8_t values[] = { 0, 0xff, 0x7f, 0x80, 1 };

		for (int i = 1 + rnd(4); i > 0; i--)
			f->b[rnd(f->len)] = chance(60) ? PICK(values) : (uint8_t)rnd(256);
		break;
	}
	case 2: /* truncation */
		f->len = ETH_HLEN + rnd(f->len - ETH_HLEN + 1);
		break;
	case 3: { /* extension: padding, garbage, or up to the largest frames */
		size_t add = chance(80) ? 1 + rnd(64) : rnd(IN_MAX - f->len + 1);
		bool zeros = chance(50);

		if (f->len + add > IN_MAX)
			add = IN_MAX - f->len;
		for (size_t i = 0; i < add; i++)
			f->b[f->len + i] = zeros ? 0 : (uint8_t)rnd(256);
		f->len += add;
		break;
	}
	case 4:
	case 5:
		mutate_length(f);
		break;
	case 6: /* an option inserted at an option boundary */
		n = option_offsets(f, at, 64);
		if (n) {
			p = at[rnd(n)];
			insert_bytes(f, p, opt, random_option(opt, sizeof(opt)));
		}
		break;
	case 7: /* an option removed */
		n = option_offsets(f, at, 64);
		if (n) {
			p = at[rnd(n)];
			remove_bytes(f, p,
				     f->b[p] == 0 || f->b[p] == 255 || p + 1 >= f->len
					 ? 1
					 : 2u + f->b[p + 1]);
		}
		break;
	case 8: { /* splice: a piece of another seed */
		const struct frame *o = &seeds[rnd(n_seeds)];
		size_t from = rnd(o->len), len = 1 + rnd(o->len - from), to = rnd(f->len);

		if (to + len > IN_MAX)
			len = IN_MAX - to;
		memcpy(f->b + to, o->b + from, len);
		if (to + len > f->len)
			f->len = to + len;
		break;
	}
	default:
		mutate_field(f);
	}
}

/* A frame from nothing: bytes, or headers good enough to reach the deeper parsers. */
static void random_frame(struct frame *f)
{
	uint8_t payload[IN_MAX];
	size_t plen = 0, cap = IN_MAX - 42;

	if (chance(25)) {
		f->len = ETH_HLEN + rnd(IN_MAX - ETH_HLEN + 1);
		for (size_t i = 0; i < f->len; i++)
			f->b[i] = rnd(256);
		return;
	}
	switch (rnd(3)) {
	case 0: /* a BOOTREQUEST with random options */
		memset(payload, 0, 240);
		payload[0] = 1, payload[1] = 1, payload[2] = 6;
		for (int i = 4; i < 8; i++)
			payload[i] = rnd(256);
		if (n_known && chance(70))
			memcpy(payload + 28, known_macs[rnd(n_known)], ETH_ALEN);
		else
			for (int i = 28; i < 34; i++)
				payload[i] = rnd(256);
		payload[236] = 0x63, payload[237] = 0x82, payload[238] = 0x53, payload[239] = 0x63;
		plen = 240;
		for (int i = rnd(12); i > 0; i--)
			plen += random_option(payload + plen, cap - plen);
		if (chance(90) && plen < cap)
			payload[plen++] = 255;
		break;
	case 1: /* a TFTP-ish payload */
		put16(payload, rnd(8));
		put16(payload + 2, rnd(4));
		plen = 4 + rnd(64);
		for (size_t i = 4; i < plen; i++)
			payload[i] = chance(20) ? 0 : (uint8_t)rnd(256);
		break;
	default:
		plen = rnd(600);
		for (size_t i = 0; i < plen; i++)
			payload[i] = rnd(256);
	}
	f->len = frame_udp(f->b, chance(50) ? TFTP_CLIENT_IP : interesting_ip(),
			   chance(50) ? SERVER_IP : interesting_ip(), interesting_port(),
			   interesting_port(), payload, plen);
	if (chance(30))
		memset(f->b, 0xff, ETH_ALEN);
}

/*
 * A frame aimed at a live transfer: an ACK of the block in flight, of the one
 * before (a retry, or the Sorcerer's Apprentice), of another, or an ERROR. Random
 * frames almost never match a session's ports and block: these reach the block
 * builder, and their mutations its edges.
 */
static void session_frame(struct frame *f)
{
	int i = rnd(N_SESSIONS);
	struct xpxe_tftp_key key = session_key(i);
	struct xpxe_tftp_session s = { 0 };
	uint8_t payload[64] = { 0 };
	uint16_t block;
	size_t plen = 4;

	tftp_entry_lookup(sessions_fd, &key, &s);
	switch (rnd(5)) {
	case 0:
	case 1:
		block = s.last_block;
		break;
	case 2:
		block = s.last_block - 1;
		break;
	case 3:
		block = (uint16_t)rnd64();
		break;
	default:
		block = rnd(XPXE_TFTP_ERR_BAD_OPTION + 1);
		payload[1] = XPXE_TFTP_ERROR;
		plen = 4 + rnd(20);
	}
	if (!payload[1])
		payload[1] = XPXE_TFTP_ACK;
	put16(payload + 2, block);
	f->len = tftp_frame(f->b, TFTP_PORT0 + i, payload, plen);
}

/* --- DHCPv6 of a bound machine, full mode (xdp_dhcp6_bound) ------------------------------ */

#define D6_IAID 0x0a0b0c0d
#define D6_MSG	62 /* the DHCPv6 message in an untagged frame */

/* configure()'s server DUID; the client's (a DUID-LL of frame_client_mac), as the seeds'. */
static const uint8_t d6_server_duid[14] = { 0, 1, 0, 1, 0x2c, 0x0f, 0x10, 0x20, 2, 0, 0, 0, 0, 1 };
static const uint8_t d6_client_duid[10] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
static const uint8_t d6_other_duid[10] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x57 };
static const uint8_t d6_group_mac[ETH_ALEN] = { 0x33, 0x33, 0, 1, 0, 2 };
static const uint8_t d6_other_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x99 };
static uint8_t d6_bound_ip[16], d6_server_ll[16];

/* The daemon's DHCPv6 server over the fuzzer's maps (its bindings file in d6_dir): it binds
 * frame_client_mac, and answers whatever XDP answered, to compare. */
static struct xpxe_dhcp6_server d6srv;
static char d6_dir[64];
static bool d6srv_up;
static bool d6_phase; /* the phase running is the bound phase (configure) */

struct d6_opt {
	uint16_t code, len;
	uint8_t data[160];
};

static void d6_set(struct d6_opt *o, uint16_t code, const void *data, size_t len)
{
	o->code = code;
	o->len = len;
	memcpy(o->data, data, len);
}

/* An IA_NA: the binding's IAID or another, its address, another, none, or odd insides. */
static void d6_ia_na(struct d6_opt *o)
{
	uint8_t ia[12 + 4 * 28] = { 0 };
	size_t len = 12;
	int n_inside = chance(85) ? 1 : rnd(6);

	put16(ia, D6_IAID >> 16);
	put16(ia + 2, chance(85) ? D6_IAID & 0xffff : (uint16_t)rnd(65536));
	ia[7] = 8, ia[11] = 11;
	for (int i = 0; i < n_inside && len + 28 <= sizeof(ia); i++) {
		uint16_t olen = chance(90) ? 24 : rnd(30);

		if (olen > 24)
			olen = 24;
		put16(ia + len, chance(90) ? 5 : (uint16_t)rnd(20));
		put16(ia + len + 2, olen);
		memcpy(ia + len + 4, d6_bound_ip, 16);
		if (chance(15))
			ia[len + 4 + 15] ^= 1 + rnd(255); /* another address */
		len += 4 + olen;
	}
	if (chance(10))
		len = rnd(len + 1); /* cut anywhere */
	d6_set(o, 3, ia, len);
}

/* An ORO of up to 80 codes, 59 anywhere in it or nowhere. */
static void d6_oro(struct d6_opt *o)
{
	uint8_t oro[160];
	size_t n = 1 + rnd(chance(70) ? 8 : 80);

	for (size_t i = 0; i < n; i++)
		put16(oro + 2 * i, chance(50) ? 23 + rnd(4) : (uint16_t)rnd(200));
	if (chance(60))
		put16(oro + 2 * rnd(n), 59);
	d6_set(o, 6, oro, 2 * n - (chance(5) ? 1 : 0));
}

/*
 * A DHCPv6 message a bound machine (or one pretending to be it) sends: mostly the Renew,
 * Rebind, Request, Confirm and Information-request xdp_dhcp6_bound may answer, with the
 * binding's ids or others, ids missing or twice, IA_NAs right, wrong or odd, ORO, arch (none,
 * one, two), vendor and user classes and random options, in a random order. Returns its
 * length in M (room for 1200 bytes).
 */
static size_t d6_message(uint8_t *m)
{
	static const uint8_t types[] = {
		5, 5, 5, 5, 6, 6, 6, 3, 3, 4, 4, 11, 11, 1, 8, 9, 7, 2, 12
	};
	static const char *const classes[] = { "PXEClient:Arch:00007:UNDI:003000",
					       "HTTPClient:Arch:00016:UNDI:003000",
					       "PXEClient:Arch:00000:UNDI:002001", "PXEClient:Ar",
					       "HTTPClient" };
	struct d6_opt opts[16];
	uint8_t type = PICK(types), a[2];
	int n = 0;
	size_t len = 4;

	m[0] = type;
	m[1] = rnd(256), m[2] = rnd(256), m[3] = rnd(256);
	if (chance(92))
		d6_set(&opts[n++], 1, chance(90) ? d6_client_duid : d6_other_duid, 10);
	if (chance(4))
		d6_set(&opts[n++], 1, d6_other_duid, chance(50) ? 10 : 1);
	if (type == 5 || type == 3 || type == 8 || type == 9 ? chance(90) : chance(8)) {
		/* Each DUID at its own length: the other one is shorter than ours. */
		bool ours = chance(92);

		d6_set(&opts[n++], 2, ours ? d6_server_duid : d6_other_duid,
		       chance(95) ? (ours ? sizeof(d6_server_duid) : sizeof(d6_other_duid)) : 1);
	}
	if (type != 11 ? chance(92) : chance(8))
		d6_ia_na(&opts[n++]);
	if (chance(5))
		d6_ia_na(&opts[n++]);
	for (int i = chance(70) ? 1 : rnd(3); i > 0; i--)
		d6_oro(&opts[n++]);
	for (int i = chance(50) ? 0 : 1 + rnd(2); i > 0; i--) {
		put16(a, PICK(interesting_arch));
		d6_set(&opts[n++], 61, a, chance(95) ? 2 : rnd(2));
	}
	if (chance(35)) {
		uint8_t v[64] = { 0, 0, 343 >> 8, 343 & 0xff };
		const char *c = PICK(classes);
		size_t cl = strlen(c);

		put16(v + 4, chance(90) ? cl : (uint16_t)rnd(80));
		memcpy(v + 6, c, cl);
		d6_set(&opts[n++], 16, v, 6 + cl);
	}
	if (chance(15))
		d6_set(&opts[n++], 15, "\0\4iPXE", 6);
	for (int i = chance(70) ? 0 : 1 + rnd(3); i > 0 && n < 16; i--) {
		uint8_t r[24];
		size_t rl = rnd(sizeof(r) + 1);

		for (size_t j = 0; j < rl; j++)
			r[j] = rnd(256);
		d6_set(&opts[n++], chance(50) ? rnd(100) : (uint16_t)rnd(65536), r, rl);
	}
	for (int i = n - 1; i > 0 && chance(30); i--) { /* another order */
		struct d6_opt t = opts[i];
		int j = rnd(i + 1);

		opts[i] = opts[j];
		opts[j] = t;
	}
	for (int i = 0; i < n; i++) {
		put16(m + len, opts[i].code);
		put16(m + len + 2, opts[i].len);
		memcpy(m + len + 4, opts[i].data, opts[i].len);
		len += 4 + opts[i].len;
	}
	return len;
}

/* Makes the IPv6 payload and UDP lengths and the UDP checksum of F true to it. */
static void fix_up6(struct frame *f)
{
	uint8_t *ip6 = f->b + 14, *udp = ip6 + 40;
	size_t ulen = f->len - 54;
	uint32_t sum;
	uint16_t c;

	if (f->len < 54 + 8 || f->b[12] != 0x86 || f->b[13] != 0xdd || ip6[6] != IPPROTO_UDP)
		return;
	put16(ip6 + 4, ulen);
	put16(udp + 4, ulen);
	udp[6] = udp[7] = 0;
	sum = frame_csum_add(0, ip6 + 8, 32) + IPPROTO_UDP + ulen;
	c = frame_csum_fold(frame_csum_add(sum, udp, ulen));
	c = c ? c : 0xffff;
	put16(udp + 6, c);
}

/*
 * A frame for the bound phase: a d6_message from a link-local source (or not) to ff02::1:2,
 * our addresses or others, on our MAC, the group's or another host's; then maybe mutated in
 * its message, its lengths and checksum mostly made true again.
 */
static void d6_frame(struct frame *f)
{
	uint8_t m[1200], src[16], dst[16];
	size_t n = d6_message(m);

	inet_pton(AF_INET6,
		  chance(90)   ? "fe80::5054:ff:fe12:3456"
		  : chance(50) ? "fd00:198:18::77"
		  : chance(50) ? "febf::1" /* still fe80::/10 */
			       : "fec0::1",
		  src);
	inet_pton(AF_INET6,
		  chance(80)   ? "ff02::1:2"
		  : chance(50) ? "fd00:198:18::1"
		  : chance(50) ? "fe80::ff:fe00:1"
			       : "ff02::1:3",
		  dst);
	f->len = frame_udp6(f->b, src, dst, chance(95) ? 546 : interesting_port(), 547, m, n);
	if (chance(40))
		memcpy(f->b, d6_group_mac, ETH_ALEN);
	else if (chance(10))
		memcpy(f->b,
		       chance(50) ? d6_other_mac : (const uint8_t *)"\xff\xff\xff\xff\xff\xff",
		       ETH_ALEN);
	if (chance(35)) {
		for (int i = 1 + rnd(4); i > 0; i--)
			f->b[D6_MSG + rnd(f->len - D6_MSG)] = chance(50) ? 0 : (uint8_t)rnd(256);
		if (chance(20))
			f->len = D6_MSG + rnd(f->len - D6_MSG + 1);
	}
	if (chance(5))
		f->b[14 + 4] ^= 1 + rnd(255); /* a payload length that lies */
	else if (chance(92))
		fix_up6(f);
}

static void next_frame(struct frame *f)
{
	if (d6_phase && chance(60)) {
		d6_frame(f);
		return;
	}
	if (chance(10)) {
		random_frame(f);
	} else if (chance(15)) {
		session_frame(f);
		if (chance(50))
			mutate(f);
	} else {
		*f = seeds[rnd(n_seeds)];
		for (int i = 1 + rnd(chance(70) ? 2 : 6); i > 0; i--)
			mutate(f);
	}
	if (chance(60))
		fix_up(f);
}

/* --- settings the programs run under ----------------------------------------------------- */

struct phase {
	const char *name;
	bool dhcp;
	enum xpxe_dhcp_mode mode;
	bool answer_unknown;
	enum xpxe_proxy_strategy strategy;
	bool xdp_no_room; /* XDP hands every ACK to tc, as on veth */
	/* No DHCP server on this host: XDP answers proxy DISCOVERs (else tc, after a copy). */
	bool no_local_server;
	/* Full mode with a pool6, a machine bound by the daemon's DHCPv6 server: its renewals
	 * (mutated) go through xdp_dhcp6_bound (d6_frame). */
	bool dhcp6_bound;
};

static const struct phase phases[] = {
	{ "proxy mode, every PXE client, strategy auto", true, XPXE_MODE_PROXY, true,
	  XPXE_STRATEGY_AUTO, false, false, false },
	{ "proxy mode, known machines only, strategy bypass", true, XPXE_MODE_PROXY, false,
	  XPXE_STRATEGY_BYPASS, false, false, false },
	{ "proxy mode, strategy 4011, ACKs left to tc", true, XPXE_MODE_PROXY, true,
	  XPXE_STRATEGY_4011, true, false, false },
	{ "proxy mode, no DHCP server on this host: XDP answers", true, XPXE_MODE_PROXY, true,
	  XPXE_STRATEGY_AUTO, false, true, false },
	{ "full mode, known MACs leased", true, XPXE_MODE_FULL, true, XPXE_STRATEGY_AUTO, false,
	  false, false },
	{ "full mode, known machines only, ACKs left to tc", true, XPXE_MODE_FULL, false,
	  XPXE_STRATEGY_BYPASS, true, false, false },
	{ "full mode with a pool6: a bound machine's DHCPv6 in xdp_dhcp6_bound", true,
	  XPXE_MODE_FULL, true, XPXE_STRATEGY_AUTO, false, false, true },
	{ "DHCP off", false, XPXE_MODE_PROXY, true, XPXE_STRATEGY_AUTO, false, false, false },
};
enum { N_PHASES = sizeof(phases) / sizeof(phases[0]) };

static const struct phase *phase;

/*
 * The daemon's DHCPv6 server binds frame_client_mac (a Request from the seeds' DUID), as in
 * full mode with a pool6: its binding goes into dhcp6_bindings, where xdp_dhcp6_bound finds it.
 */
static void d6_bind(void)
{
	struct xpxe_dhcp6_binding b;
	struct xpxe_mac_key key = { 0 };
	struct xpxe_dhcp6_out o;
	struct in6_addr first, last;
	uint8_t m[128];
	char path[300];
	size_t n = 4;

	if (!d6srv_up) {
		memset(&d6srv, 0, sizeof(d6srv));
		d6srv.pkt_fd = d6srv.udp_fd = d6srv.config6_fd = -1;
		d6srv.clients_fd = clients_fd;
		d6srv.config_fd = bpf_map__fd(skel->maps.dhcp_config);
		d6srv.replies_fd = bpf_map__fd(skel->maps.dhcp6_replies_full);
		d6srv.bindings_fd = bpf_map__fd(skel->maps.dhcp6_bindings);
		snprintf(d6srv.ifname, sizeof(d6srv.ifname), "fuzz0");
		d6srv.lease_time = 3600;
		d6srv.offer_hold = 30;
		d6srv.answer_unknown = true;
		memcpy(d6srv.duid, d6_server_duid, sizeof(d6_server_duid));
		d6srv.duid_len = sizeof(d6_server_duid);
		snprintf(d6_dir, sizeof(d6_dir), "/tmp/xpxe-fuzz-d6-XXXXXX");
		assert_non_null(mkdtemp(d6_dir));
		snprintf(path, sizeof(path), "%s/leases6", d6_dir);
		inet_pton(AF_INET6, "fd00:198:18::100", &first);
		inet_pton(AF_INET6, "fd00:198:18::1ff", &last);
		assert_int_equal(xpxe_leases6_init(&d6srv.leases, path, &first, &last), 0);
		d6srv_up = true;
	}
	m[0] = 3, m[1] = 1, m[2] = 2, m[3] = 3; /* Request */
	put16(m + n, 1), put16(m + n + 2, sizeof(d6_client_duid));
	memcpy(m + n + 4, d6_client_duid, sizeof(d6_client_duid));
	n += 4 + sizeof(d6_client_duid);
	put16(m + n, 2), put16(m + n + 2, sizeof(d6_server_duid));
	memcpy(m + n + 4, d6_server_duid, sizeof(d6_server_duid));
	n += 4 + sizeof(d6_server_duid);
	put16(m + n, 3), put16(m + n + 2, 12);
	memset(m + n + 4, 0, 12);
	put16(m + n + 4, D6_IAID >> 16), put16(m + n + 6, D6_IAID & 0xffff);
	n += 16;
	assert_true(xpxe_dhcp6_server_answer(&d6srv, frame_client_mac, m, n, &o));
	memcpy(key.addr, frame_client_mac, ETH_ALEN);
	assert_int_equal(bpf_map_lookup_elem(d6srv.bindings_fd, &key, &b), 0);
	memcpy(d6_bound_ip, b.ip, 16);
	inet_pton(AF_INET6, "fe80::ff:fe00:1", d6_server_ll);
}

static void configure(const struct phase *p)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_dhcp6_net net6 = { 0 };
	struct xpxe_mac_key key, next;

	xpxe_dhcp_settings_default(&s);
	/* Off: mutations of a few real requests share their MACs, which the limits would
	 * drop; the limits have their own test (test_xdp_ratelimit.c). */
	s.mac_rate = s.global_rate = 0;
	s.enabled = p->dhcp;
	s.mode = p->mode;
	s.profile.strategy = p->strategy;
	s.answer_unknown = p->answer_unknown;
	s.server_ip.s_addr = SERVER_IP;
	if (p->dhcp6_bound) {
		inet_pton(AF_INET6, "fd00:198:18::100", &s.pool6_first);
		inet_pton(AF_INET6, "fd00:198:18::1ff", &s.pool6_last);
	}
	snprintf(s.http_base, sizeof(s.http_base), "http://198.18.0.1:8080");
	snprintf(s.profile.boot_file[XPXE_BOOT_IPXE], XPXE_BOOT_FILE_MAX, "%s/boot.ipxe",
		 s.http_base);
	snprintf(s.profile.boot_file[XPXE_BOOT_HTTP_X64], XPXE_BOOT_FILE_MAX,
		 "%s/assets/snponly.efi", s.http_base);
	snprintf(s.profile.boot_file[XPXE_BOOT_UEFI_ARM64], XPXE_BOOT_FILE_MAX, "arm64/ipxe.efi");
	net.mode = p->mode;
	memcpy(net.server_mac, frame_server_mac, ETH_ALEN);
	net.server_ip.s_addr = SERVER_IP;
	net.netmask.s_addr = htonl(0xffffff00);
	net.lease_time = 3600;
	net.local_server = !p->no_local_server;
	assert_int_equal(xpxe_dhcp_load_maps(skel, &s, &net), 0);
	net6.duid_len = 14;
	memcpy(net6.duid, "\0\1\0\1\x2c\x0f\x10\x20\2\0\0\0\0\1", 14);
	memcpy(net6.server_mac, frame_server_mac, ETH_ALEN);
	inet_pton(AF_INET6, "fe80::ff:fe00:1", &net6.server_ll);
	inet_pton(AF_INET6, "fd00:198:18::1", &net6.server_addr);
	assert_int_equal(xpxe_dhcp6_load_maps(skel, &s, p->dhcp ? &net6 : NULL), 0);

	/* Every other known MAC is in the table: the rest are strangers. */
	while (!bpf_map_get_next_key(clients_fd, NULL, &next))
		bpf_map_delete_elem(clients_fd, &next);
	for (int k = 0; k < n_known; k += 2) {
		struct xpxe_dhcp_client c = { 0 };

		if (p->mode == XPXE_MODE_FULL)
			c.ip = known_leases[k] ? known_leases[k] : LEASE_IP(k);

		memset(&key, 0, sizeof(key));
		memcpy(key.addr, known_macs[k], ETH_ALEN);
		assert_int_equal(bpf_map_update_elem(clients_fd, &key, &c, BPF_ANY), 0);
	}
	skel->bss->tftp_xdp_no_room = p->xdp_no_room;
	if (p->dhcp6_bound)
		d6_bind();
	d6_phase = p->dhcp6_bound;
	phase = p;
}

/* Installs transfer I as the daemon would; ASSET -1: its slot holds nothing. */
static void install_session(int i, int asset, unsigned blksize, uint32_t last_block, uint8_t state,
			    bool timed_out)
{
	struct xpxe_tftp_key key = session_key(i);
	uint64_t size = asset_sizes[asset < 0 ? ASSET_SMALL : asset];
	struct xpxe_tftp_session s = {
		.size = size,
		.asset_slot = asset < 0 ? XPXE_TFTP_ASSET_SLOTS - 1 : slot_of[asset],
		.blksize = blksize,
		.last_block = last_block,
		.final_block = size / blksize + 1,
		.state = state,
	};
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s.last_tx_ns = timed_out ? 0 : (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	sessions[i].asset = asset;
	sessions[i].blksize = blksize;
	assert_int_equal(tftp_entry_update(sessions_fd, &key, &s, BPF_ANY), 0);
}

/* Fresh transfers, each at a random point of its life, as the daemon would have installed them. */
static void reset_sessions(void)
{
	static const unsigned sizes[] = { 8, 512, 1001, 1024, 1428, 1468 };

	for (int i = 0; i < N_SESSIONS; i++) {
		int asset = i == SESSION_NO_ASSET ? -1 : (int)rnd(N_ASSETS);
		unsigned blksize = chance(70) ? PICK(sizes) : 8 + rnd(XPXE_TFTP_BLKSIZE_MAX - 7);
		uint32_t final = asset_sizes[asset < 0 ? ASSET_SMALL : asset] / blksize + 1, last;

		switch (rnd(3)) {
		case 0:
			last = rnd(4 < final ? 4 : final + 1);
			break;
		case 1:
			last = final - rnd(final < 3 ? final + 1 : 3);
			break;
		default:
			last = rnd(final + 1);
		}
		install_session(i, asset, blksize, last, chance(90) ? XPXE_TFTP_ACTIVE : 2 + rnd(2),
				chance(50));
	}
}

/* --- invariants ---------------------------------------------------------------------------- */

static int lo_sock;
static char why[1024];
static int last_outcome, last_retval; /* of the last run checked */

static bool violation(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return false;
}

#define CHECK(cond, ...)                               \
	do {                                           \
		if (!(cond))                           \
			return violation(__VA_ARGS__); \
	} while (0)

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

/* The verdict an outcome of xdp_pxe implies; -1: not an outcome xdp_pxe counts. */
static int xdp_verdict_of(int c)
{
	switch (c) {
	case XPXE_CNT_PASS_TRUNCATED_ETH ... XPXE_CNT_PASS_TFTP:
	case XPXE_CNT_PASS_BAD_UDP_CSUM:
	case XPXE_CNT_PASS_DHCP_MALFORMED ... XPXE_CNT_PASS_DHCP_UNKNOWN_MACHINE:
	case XPXE_CNT_PASS_DHCP_NO_BOOT_FILE:
	case XPXE_CNT_PASS_DHCP_QUEUE_FULL ... XPXE_CNT_PASS_DHCP_NO_ROOM:
	case XPXE_CNT_TFTP_ACK_TO_TC:
	case XPXE_CNT_TFTP_PASS_SESSION:
	case XPXE_CNT_TFTP_NO_ASSET:
	case XPXE_CNT_DHCP_PROXY_TO_TC:
	case XPXE_CNT_PASS_NDP_RS_IGNORED ... XPXE_CNT_PASS_NDP_RS_RATE:
	case XPXE_CNT_PASS_IPV6_EXT_HEADER:
	case XPXE_CNT_PASS_DHCP6 ... XPXE_CNT_PASS_DHCP6_TO_DAEMON:
	case XPXE_CNT_PASS_DHCP6_BAD_FRAME:
	case XPXE_CNT_PASS_VLAN_QINQ:
	case XPXE_CNT_PASS_VLAN_PRIORITY:
	case XPXE_CNT_PASS_TFTP6:
		return XDP_PASS;
	case XPXE_CNT_DHCP_OFFER ... XPXE_CNT_DHCP_NAK:
	case XPXE_CNT_TFTP_DATA_XDP:
	case XPXE_CNT_TFTP_WRQ_REFUSED:
	case XPXE_CNT_DHCP6_ADVERTISE:
	case XPXE_CNT_DHCP6_REPLY:
	case XPXE_CNT_DHCP6_REPLY_BOUND:
	case XPXE_CNT_DHCP6_USE_MULTICAST:
		return XDP_TX;
	case XPXE_CNT_DHCP_TO_DAEMON:
	case XPXE_CNT_DROP_BAD_UDP_CSUM:
	case XPXE_CNT_DROP_DHCP_RATE_MAC:
	case XPXE_CNT_DROP_DHCP_RATE_GLOBAL:
	case XPXE_CNT_TFTP_SESSIONS_COMPLETED ... XPXE_CNT_TFTP_ACK_DUP_IGNORED:
	case XPXE_CNT_TFTP_BUILD_FAILED:
		return XDP_DROP;
	}
	return -1;
}

/* The verdict an outcome of tc_tftp implies; -1: not one of its outcomes. */
static int tc_verdict_of(int c)
{
	switch (c) {
	case XPXE_CNT_TFTP_TC_PASS:
	case XPXE_CNT_TFTP_TC_NO_ROOM:
	case XPXE_CNT_TFTP_NO_ASSET:
	/* Proxy mode's DISCOVERs (bpf/dhcp_tc.h): not answered, the frame goes up. */
	case XPXE_CNT_PASS_DHCP_UNKNOWN_MACHINE:
	case XPXE_CNT_PASS_DHCP_NO_BOOT_FILE:
	case XPXE_CNT_DROP_DHCP_RATE_MAC:
	case XPXE_CNT_DROP_DHCP_RATE_GLOBAL:
	case XPXE_CNT_PASS_BAD_UDP_CSUM: /* xdp_pxe leaves a proxy DISCOVER's checksum to tc */
	case XPXE_CNT_DHCP_TC_STACK_COPY:
	case XPXE_CNT_DHCP_TC_NO_COPY:
	/* IPv6 frames tc_tftp does not answer (bpf/tftp6.h) */
	case XPXE_CNT_TFTP6_TC_EXT_HDR:
	case XPXE_CNT_TFTP6_TC_TRUNCATED:
	case XPXE_CNT_TFTP6_TC_PASS_SESSION:
		return TC_ACT_OK;
	case XPXE_CNT_TFTP_DATA_TC:
	case XPXE_CNT_TFTP6_DATA_TC:
	case XPXE_CNT_DHCP_OFFER:
		return TC_ACT_REDIRECT;
	case XPXE_CNT_TFTP6_DROP_BAD_CSUM:
	case XPXE_CNT_PASS_DHCP_NO_ROOM: /* the stack has its copy: the frame is dropped */
	case XPXE_CNT_TFTP_SESSIONS_COMPLETED ... XPXE_CNT_TFTP_ACK_DUP_IGNORED:
	case XPXE_CNT_TFTP_BUILD_FAILED:
		return TC_ACT_SHOT;
	}
	return -1;
}

static bool is_tally(int c)
{
	return c == XPXE_CNT_TFTP_BYTES || c == XPXE_CNT_TFTP_BYTES_TC ||
	       c == XPXE_CNT_TFTP_RETRANSMITS || c == XPXE_CNT_VLAN_RX || c == XPXE_CNT_VLAN_PCP ||
	       c == XPXE_CNT_VLAN_TC_POPPED || c == XPXE_CNT_VLAN_TC_PUSHED ||
	       c == XPXE_CNT_DHCP_OTHER_NET || c == XPXE_CNT_DHCP_PROXY_XDP;
}

/*
 * One run counted one outcome (its index in *OUTCOME), rx_frames once for XDP,
 * and tallies only the tallies' business: checked after every run.
 */
static bool check_counters(bool tc, const __u64 *before, const __u64 *after, int *outcome)
{
	*outcome = -1;
	for (int i = 0; i < XPXE_CNT_MAX; i++) {
		__u64 d = after[i] - before[i];

		if (i == XPXE_CNT_RX_FRAMES) {
			CHECK(d == !tc, "%s: rx_frames moved by %llu", tc ? "tc" : "xdp",
			      (unsigned long long)d);
		} else if (is_tally(i)) {
			continue; /* checked against the frame sent */
		} else if (d) {
			CHECK(d == 1 && *outcome < 0,
			      "%s: counter %s moved by %llu (outcome so far: %s)",
			      tc ? "tc" : "xdp", xpxe_counter_names[i], (unsigned long long)d,
			      *outcome < 0 ? "none" : xpxe_counter_names[*outcome]);
			*outcome = i;
		}
	}
	CHECK(*outcome >= 0, "%s: no outcome counted", tc ? "tc" : "xdp");
	CHECK((tc ? tc_verdict_of(*outcome) : xdp_verdict_of(*outcome)) >= 0,
	      "%s: %s is not an outcome of this program", tc ? "tc" : "xdp",
	      xpxe_counter_names[*outcome]);
	CHECK(*outcome != XPXE_CNT_TFTP_BUILD_FAILED, "%s: tftp_build_failed (never expected)",
	      tc ? "tc" : "xdp");
	return true;
}

static bool is_unicast_ip(uint32_t be)
{
	uint32_t a = ntohl(be);

	return a != 0 && a != 0xffffffff && (a >> 28) < 0xe; /* not multicast nor class E */
}

/* What every reply must be: a well-formed, checksummed Ethernet/IPv4/UDP frame. */
static bool check_wire_frame(const uint8_t *o, size_t n)
{
	const uint8_t *ip = o + 14, *udp = o + 34;
	uint32_t saddr, sum;
	size_t udp_len;

	CHECK(n >= 42 && n <= WIRE_MAX, "reply of %zu bytes (42..%d)", n, WIRE_MAX);
	CHECK(get16(o + 12) == ETH_P_IP, "reply EtherType %#x", get16(o + 12));
	CHECK(!(o[6] & 1), "reply from a group MAC %02x:%02x:%02x:%02x:%02x:%02x", o[6], o[7], o[8],
	      o[9], o[10], o[11]);
	CHECK(ip[0] == 0x45, "reply IP version/IHL %#x", ip[0]);
	CHECK(get16(ip + 2) == n - 14, "reply IP total length %u in a %zu-byte frame",
	      get16(ip + 2), n);
	CHECK(!(get16(ip + 6) & 0x3fff), "reply is a fragment (%#x)", get16(ip + 6));
	CHECK(ip[8] > 0, "reply TTL 0");
	CHECK(ip[9] == IPPROTO_UDP, "reply IP protocol %u", ip[9]);
	CHECK(frame_csum_fold(frame_csum_add(0, ip, 20)) == 0, "reply IP header checksum wrong");
	memcpy(&saddr, ip + 12, 4);
	CHECK(is_unicast_ip(saddr), "reply from %u.%u.%u.%u, not a unicast address", ip[12], ip[13],
	      ip[14], ip[15]);
	udp_len = get16(udp + 4);
	CHECK(udp_len == n - 34, "reply UDP length %zu for an IP payload of %zu", udp_len, n - 34);
	CHECK(get16(udp + 6) != 0, "reply without a UDP checksum");
	sum = frame_csum_add(0, ip + 12, 8) + IPPROTO_UDP + udp_len;
	CHECK(frame_csum_fold(frame_csum_add(sum, udp, udp_len)) == 0, "reply UDP checksum wrong");
	return true;
}

/*
 * A DHCPv6 answer (bpf/dhcp6.h) to the request RQ: an IPv6/UDP frame whose lengths agree, from a
 * unicast source to the request's source, its checksum valid (mandatory in IPv6), an Advertise
 * or Reply with the request's transaction id, options that fill the message exactly, with a
 * client id, a server id and a boot file URL; a UseMulticast Reply (to a request sent to our
 * address, not a group) with the two ids and its status, and no URL.
 */
static bool check_dhcp6_answer(const uint8_t *rq, size_t rq_len, const uint8_t *o, size_t n,
			       int outcome)
{
	const uint8_t *ip6 = o + 14, *udp = o + 54, *msg = o + 62;
	bool seen[3] = { false };
	unsigned int status = ~0u;
	size_t udp_len, off;
	uint32_t sum;

	CHECK(n >= 66 && n <= WIRE_MAX && rq_len >= 66, "DHCPv6 answer of %zu bytes", n);
	CHECK(get16(o + 12) == ETH_P_IPV6, "DHCPv6 answer EtherType %#x", get16(o + 12));
	CHECK(!(o[6] & 1), "DHCPv6 answer from a group MAC");
	CHECK(!memcmp(o, rq + 6, 6), "DHCPv6 answer not to the requester's MAC");
	CHECK(ip6[0] >> 4 == 6, "DHCPv6 answer IP version %u", ip6[0] >> 4);
	CHECK(get16(ip6 + 4) == n - 54, "DHCPv6 answer payload length %u in %zu bytes",
	      get16(ip6 + 4), n);
	CHECK(ip6[6] == IPPROTO_UDP && ip6[7] > 0, "DHCPv6 answer next header %u, hop limit %u",
	      ip6[6], ip6[7]);
	CHECK(ip6[8] != 0xff, "DHCPv6 answer from a multicast address");
	CHECK(!memcmp(ip6 + 24, rq + 14 + 8, 16), "DHCPv6 answer not to the requester's address");
	udp_len = get16(udp + 4);
	CHECK(udp_len == n - 54, "DHCPv6 answer UDP length %zu for %zu bytes", udp_len, n - 54);
	CHECK(get16(udp + 6) != 0, "DHCPv6 answer without a UDP checksum");
	sum = frame_csum_add(0, ip6 + 8, 32) + IPPROTO_UDP + udp_len;
	CHECK(frame_csum_fold(frame_csum_add(sum, udp, udp_len)) == 0,
	      "DHCPv6 answer UDP checksum wrong");
	CHECK(msg[0] == (outcome == XPXE_CNT_DHCP6_ADVERTISE ? 2 : 7), "DHCPv6 answer type %u",
	      msg[0]);
	CHECK(!memcmp(msg + 1, rq + 63, 3), "DHCPv6 answer with another transaction id");
	for (off = 4; off + 4 <= udp_len - 8;) {
		unsigned int code = get16(msg + off), len = get16(msg + off + 2);

		CHECK(off + 4 + len <= udp_len - 8, "DHCPv6 answer option %u runs past the end",
		      code);
		if (code == 1 || code == 2)
			seen[code - 1] = true;
		if (code == 59)
			seen[2] = true;
		if (code == 13 && len >= 2 && off + 6 <= udp_len - 8)
			status = get16(msg + off + 4);
		off += 4 + len;
	}
	CHECK(off == udp_len - 8, "DHCPv6 answer options stop %zu bytes short", udp_len - 8 - off);
	if (outcome == XPXE_CNT_DHCP6_USE_MULTICAST) {
		CHECK(rq[14 + 24] != 0xff, "UseMulticast answer to a request sent to a group");
		CHECK(seen[0] && seen[1] && !seen[2] && status == 5,
		      "UseMulticast answer: client id %d, server id %d, URL %d, status %u", seen[0],
		      seen[1], seen[2], status);
		return true;
	}
	CHECK(seen[0] && seen[1] && seen[2], "DHCPv6 answer without client id, server id or URL");
	return true;
}

/* Whether a BOOTREQUEST names a PXE, HTTP boot or iPXE client (options 60, 77, 175). */
static bool has_boot_identity(const uint8_t *b, size_t len)
{
	struct l4 l;
	size_t udp_len, end, p;

	if (!l4_of(b, len, &l))
		return false;
	udp_len = get16(b + l.udp + 4);
	end = l.udp + udp_len < len ? l.udp + udp_len : len;
	for (p = l.payload + 240; p < end && b[p] != 255;) {
		const uint8_t *v = b + p + 2;
		size_t n;

		if (b[p] == 0) {
			p++;
			continue;
		}
		if (p + 2 > end || p + 2 + b[p + 1] > end)
			break;
		n = b[p + 1];
		if (b[p] == 60 && ((n >= 9 && !memcmp(v, "PXEClient", 9)) ||
				   (n >= 10 && !memcmp(v, "HTTPClient", 10))))
			return true;
		if (b[p] == 77 && memmem(v, n, "iPXE", 4))
			return true;
		if (b[p] == 175)
			return true;
		p += 2 + n;
	}
	return false;
}

/* The value of option CODE in a reply (its options run to the end of the frame), or NULL. */
static const uint8_t *reply_option(const uint8_t *o, size_t n, uint8_t code, uint8_t *len)
{
	for (size_t p = 42 + 240; p < n && o[p] != 255;) {
		if (o[p] == 0) {
			p++;
			continue;
		}
		if (p + 2 > n || p + 2 + o[p + 1] > n)
			return NULL;
		if (o[p] == code) {
			*len = o[p + 1];
			return o + p + 2;
		}
		p += 2 + o[p + 1];
	}
	return NULL;
}

static bool check_dhcp_reply(const uint8_t *in, size_t in_len, const uint8_t *o, size_t n,
			     int outcome)
{
	static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t types[] = { [XPXE_CNT_DHCP_OFFER - XPXE_CNT_DHCP_OFFER] = 2,
					 [XPXE_CNT_DHCP_ACK - XPXE_CNT_DHCP_OFFER] = 5,
					 [XPXE_CNT_DHCP_ACK_4011 - XPXE_CNT_DHCP_OFFER] = 5,
					 [XPXE_CNT_DHCP_NAK - XPXE_CNT_DHCP_OFFER] = 6 };
	uint32_t server = SERVER_IP;
	const uint8_t *req_bp, *bp = o + 42, *type;
	struct l4 l;
	uint8_t type_len = 0;
	bool is_4011 = outcome == XPXE_CNT_DHCP_ACK_4011;

	CHECK(l4_of(in, in_len, &l) && in_len >= l.payload + 240,
	      "a DHCP reply to a non-DHCP frame");
	req_bp = in + l.payload;
	CHECK(n <= XPXE_DHCP_FRAME_MAX && n >= 42 + 241, "DHCP reply of %zu bytes", n);
	CHECK(!memcmp(o + 6, frame_server_mac, ETH_ALEN), "DHCP reply not from the server's MAC");
	CHECK(!memcmp(o + 26, &server, 4), "DHCP reply not from the server's address");
	CHECK(get16(o + 34) == (is_4011 ? 4011 : 67), "DHCP reply from port %u", get16(o + 34));
	CHECK(!memcmp(o, broadcast, ETH_ALEN) || !memcmp(o, in + 6, ETH_ALEN) ||
		  !memcmp(o, req_bp + 28, ETH_ALEN),
	      "DHCP reply to a MAC that is neither broadcast, the sender nor chaddr");
	CHECK(is_4011 ? get16(o + 36) == get16(in + l.udp)
		      : get16(o + 36) == 68 || get16(o + 36) == 67,
	      "DHCP reply to port %u", get16(o + 36));
	CHECK(bp[0] == 2 && bp[1] == 1 && bp[2] == 6, "reply is not a BOOTREPLY for Ethernet");
	CHECK(!memcmp(bp + 4, req_bp + 4, 4), "reply xid differs from the request's");
	CHECK(!memcmp(bp + 28, req_bp + 28, ETH_ALEN), "reply chaddr differs from the request's");
	CHECK(get16(bp + 236) == 0x6382 && get16(bp + 238) == 0x5363, "reply magic cookie");
	type = reply_option(o, n, 53, &type_len);
	CHECK(type && type_len == 1 && *type == types[outcome - XPXE_CNT_DHCP_OFFER],
	      "reply message type does not match %s", xpxe_counter_names[outcome]);
	/* The one rule of proxy mode: only PXE/HTTP boot/iPXE clients get an answer. */
	CHECK((phase->mode != XPXE_MODE_PROXY && !is_4011) || has_boot_identity(in, in_len),
	      "%s to a client without a PXEClient/HTTPClient/iPXE identity",
	      xpxe_counter_names[outcome]);
	return true;
}

/* A reply of the TFTP data plane: from where the request went, back to where it came from. */
static bool check_tftp_addresses(const uint8_t *in, size_t in_len, const uint8_t *o)
{
	struct l4 l;

	CHECK(l4_of(in, in_len, &l), "a TFTP reply to a non-UDP frame");
	CHECK(!memcmp(o, in + 6, ETH_ALEN) && !memcmp(o + 6, in, ETH_ALEN),
	      "TFTP reply MACs are not the request's swapped");
	CHECK(!memcmp(o + 26, in + l.ip + 16, 4) && !memcmp(o + 30, in + l.ip + 12, 4),
	      "TFTP reply addresses are not the request's swapped");
	CHECK(get16(o + 34) == get16(in + l.udp + 2) && get16(o + 36) == get16(in + l.udp),
	      "TFTP reply ports are not the request's swapped");
	return true;
}

static bool check_wrq_refusal(const uint8_t *in, size_t in_len, const uint8_t *o, size_t n)
{
	static const char err[] = "\0\5\0\4" XPXE_TFTP_MSG_READ_ONLY;

	if (!check_tftp_addresses(in, in_len, o))
		return false;
	CHECK(get16(o + 34) == 69, "WRQ refusal not from port 69");
	CHECK(n == 42 + sizeof(err) && !memcmp(o + 42, err, sizeof(err)),
	      "WRQ refusal is not ERROR 4 \"%s\"", XPXE_TFTP_MSG_READ_ONLY);
	return true;
}

static bool check_data_block(const uint8_t *in, size_t in_len, const uint8_t *o, size_t n,
			     const __u64 *before, const __u64 *after)
{
	struct xpxe_tftp_session s;
	struct xpxe_tftp_key key;
	const struct fz_session *fz;
	uint64_t off, len;
	int i;

	if (!check_tftp_addresses(in, in_len, o))
		return false;
	i = (int)get16(o + 34) - TFTP_PORT0;
	memcpy(&key.client_ip, o + 30, 4);
	memcpy(&key.client_port, o + 36, 2);
	memcpy(&key.server_port, o + 34, 2);
	CHECK(i >= 0 && i < N_SESSIONS && key.client_ip == TFTP_CLIENT_IP &&
		  ntohs(key.client_port) == TFTP_CLIENT_PORT,
	      "DATA for a transfer that was never installed");
	fz = &sessions[i];
	CHECK(fz->asset >= 0, "DATA of a transfer whose asset is not loaded");
	CHECK(!tftp_entry_lookup(sessions_fd, &key, &s), "DATA, but the session is gone");
	CHECK(get16(o + 42) == XPXE_TFTP_DATA, "DATA with opcode %u", get16(o + 42));
	CHECK(s.last_block >= 1 && get16(o + 44) == (s.last_block & 0xffff),
	      "DATA %u but the session's last block is %u", get16(o + 44), s.last_block);
	off = (uint64_t)(s.last_block - 1) * fz->blksize;
	CHECK(off <= asset_sizes[fz->asset], "DATA %u past the end of the asset", s.last_block);
	len =
	    asset_sizes[fz->asset] - off < fz->blksize ? asset_sizes[fz->asset] - off : fz->blksize;
	CHECK(n == XPXE_TFTP_HDRS_LEN + len, "DATA %u of %zu bytes, expected %" PRIu64,
	      s.last_block, n - XPXE_TFTP_HDRS_LEN, len);
	CHECK(!memcmp(o + XPXE_TFTP_HDRS_LEN, content[fz->asset] + off, len),
	      "DATA %u does not hold the asset's bytes", s.last_block);
	CHECK(after[XPXE_CNT_TFTP_BYTES] + after[XPXE_CNT_TFTP_BYTES_TC] -
		      before[XPXE_CNT_TFTP_BYTES] - before[XPXE_CNT_TFTP_BYTES_TC] ==
		  len,
	      "tftp_bytes + tftp_bytes_tc moved by %llu for a %" PRIu64 "-byte block",
	      (unsigned long long)(after[XPXE_CNT_TFTP_BYTES] + after[XPXE_CNT_TFTP_BYTES_TC] -
				   before[XPXE_CNT_TFTP_BYTES] - before[XPXE_CNT_TFTP_BYTES_TC]),
	      len);
	CHECK(after[XPXE_CNT_TFTP_RETRANSMITS] - before[XPXE_CNT_TFTP_RETRANSMITS] <= 1,
	      "tftp_retransmits moved by more than one");
	return true;
}

/*
 * xdp_dhcp6_bound's answer to the request RQ (the bound phase): the request is one the
 * daemon's receive path takes; the answer an IPv6/UDP frame from our MAC and link-local
 * address to the requester's, from 547 to its port, lengths and checksum right; and its
 * message, byte for byte, what the daemon's server answers the same message with.
 */
static bool check_dhcp6_bound_answer(const uint8_t *rq, size_t rq_len, const uint8_t *o, size_t n)
{
	const uint8_t *ip6 = o + 14, *udp = o + 54;
	struct xpxe_dhcp6_out d;
	size_t rq_ulen, udp_len;
	uint32_t sum;

	CHECK(rq_len >= D6_MSG + 4 && n >= D6_MSG + 4 && n <= WIRE_MAX,
	      "DHCPv6 bound answer of %zu bytes to %zu", n, rq_len);
	CHECK(rq[22] == 0xfe && (rq[23] & 0xc0) == 0x80, "answered a source outside fe80::/10");
	CHECK((rq[0] & 1) || !memcmp(rq, frame_server_mac, ETH_ALEN),
	      "answered a frame to another host's MAC");
	CHECK(get16(rq + 18) <= rq_len - 54, "answered a payload length past the frame");
	CHECK(get16(rq + 56) == 547, "answered a frame to port %u", get16(rq + 56));
	rq_ulen = get16(rq + 58);
	CHECK(rq_ulen >= 12 && rq_ulen <= rq_len - 54, "answered a UDP length of %zu", rq_ulen);
	CHECK(get16(o + 12) == ETH_P_IPV6, "DHCPv6 bound answer EtherType %#x", get16(o + 12));
	CHECK(!memcmp(o, rq + 6, ETH_ALEN) && !memcmp(o + 6, frame_server_mac, ETH_ALEN),
	      "DHCPv6 bound answer's MACs");
	CHECK(ip6[0] >> 4 == 6 && ip6[6] == IPPROTO_UDP && ip6[7] > 0,
	      "DHCPv6 bound answer's IPv6 header");
	CHECK(get16(ip6 + 4) == n - 54, "DHCPv6 bound answer payload length %u in %zu bytes",
	      get16(ip6 + 4), n);
	CHECK(!memcmp(ip6 + 8, d6_server_ll, 16), "DHCPv6 bound answer not from our link-local");
	CHECK(!memcmp(ip6 + 24, rq + 22, 16), "DHCPv6 bound answer not to the requester");
	CHECK(get16(udp) == 547 && get16(udp + 2) == get16(rq + 54),
	      "DHCPv6 bound answer ports %u -> %u", get16(udp), get16(udp + 2));
	udp_len = get16(udp + 4);
	CHECK(udp_len == n - 54 && get16(udp + 6) != 0, "DHCPv6 bound answer UDP length/checksum");
	sum = frame_csum_add(0, ip6 + 8, 32) + IPPROTO_UDP + udp_len;
	CHECK(frame_csum_fold(frame_csum_add(sum, udp, udp_len)) == 0,
	      "DHCPv6 bound answer UDP checksum wrong");
	CHECK(xpxe_dhcp6_server_answer(&d6srv, rq + 6, rq + D6_MSG, rq_ulen - 8, &d),
	      "XDP answered a message the daemon does not answer");
	CHECK(d.len == n - D6_MSG && !memcmp(d.buf, o + D6_MSG, d.len),
	      "XDP's answer (%zu bytes) is not the daemon's (%zu bytes)", n - D6_MSG, d.len);
	return true;
}

static bool check_run(bool tc, const struct frame *f, int retval, const uint8_t *out,
		      size_t out_len, const __u64 *before, const __u64 *after)
{
	int outcome, want;

	last_retval = retval;
	if (!check_counters(tc, before, after, &outcome))
		return false;
	last_outcome = outcome;
	outcome_hits[tc][outcome]++;
	want = tc ? tc_verdict_of(outcome) : xdp_verdict_of(outcome);
	CHECK(retval == want, "%s: verdict %d with outcome %s (implies %d)", tc ? "tc" : "xdp",
	      retval, xpxe_counter_names[outcome], want);
	if (outcome != XPXE_CNT_TFTP_DATA_XDP && outcome != XPXE_CNT_TFTP_DATA_TC)
		CHECK(after[XPXE_CNT_TFTP_BYTES] == before[XPXE_CNT_TFTP_BYTES] &&
			  after[XPXE_CNT_TFTP_BYTES_TC] == before[XPXE_CNT_TFTP_BYTES_TC] &&
			  after[XPXE_CNT_TFTP_RETRANSMITS] == before[XPXE_CNT_TFTP_RETRANSMITS],
		      "%s: TFTP tallies moved without a DATA block (%s)", tc ? "tc" : "xdp",
		      xpxe_counter_names[outcome]);
	if (!tc) {
		CHECK(n_queued == (outcome == XPXE_CNT_DHCP_TO_DAEMON),
		      "%d requests queued for the daemon with outcome %s", n_queued,
		      xpxe_counter_names[outcome]);
		if (n_queued)
			CHECK(last_queued.frame_len == f->len &&
				  !memcmp(last_queued.frame, f->b, f->len),
			      "the queued request is not the frame as it came");
	}
	if (tc ? want != TC_ACT_REDIRECT : want != XDP_TX) {
		CHECK(out_len == f->len && !memcmp(out, f->b, f->len),
		      "%s: %s changed the frame it %s", tc ? "tc" : "xdp",
		      xpxe_counter_names[outcome],
		      (tc ? want == TC_ACT_SHOT : want == XDP_DROP) ? "dropped" : "passed");
		return true;
	}
	if (outcome == XPXE_CNT_DHCP6_ADVERTISE || outcome == XPXE_CNT_DHCP6_REPLY ||
	    outcome == XPXE_CNT_DHCP6_USE_MULTICAST)
		return check_dhcp6_answer(f->b, f->len, out, out_len, outcome);
	if (outcome == XPXE_CNT_DHCP6_REPLY_BOUND)
		return check_dhcp6_bound_answer(f->b, f->len, out, out_len);
	if (!check_wire_frame(out, out_len)) {
		size_t n = strlen(why);

		snprintf(why + n, sizeof(why) - n, " (%s)", xpxe_counter_names[outcome]);
		return false;
	}
	switch (outcome) {
	case XPXE_CNT_DHCP_OFFER ... XPXE_CNT_DHCP_NAK:
		return check_dhcp_reply(f->b, f->len, out, out_len, outcome);
	case XPXE_CNT_TFTP_WRQ_REFUSED:
		return check_wrq_refusal(f->b, f->len, out, out_len);
	default:
		return check_data_block(f->b, f->len, out, out_len, before, after);
	}
}

/* --- running ------------------------------------------------------------------------------- */

static void report(const char *what, const struct frame *f, unsigned long n)
{
	char path[256];
	FILE *out;

	fprintf(stderr,
		"# VIOLATION (%s) at frame %lu of seed %#" PRIx64 ", %s: %s\n# frame:", phase->name,
		n, seed, what, why);
	for (size_t i = 0; i < f->len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n#   ", f->b[i]);
	fprintf(stderr, "\n");
	mkdir("tests/out", 0755);
	snprintf(path, sizeof(path), "tests/out/fuzz-xdp-%#" PRIx64 "-%lu.bin", seed, n);
	out = fopen(path, "wb");
	if (out) {
		fwrite(f->b, 1, f->len, out);
		fclose(out);
		fprintf(stderr, "# written to %s\n", path);
	}
}

static bool too_short_for_skb(const struct frame *f)
{
	uint16_t proto = get16(f->b + 12);

	return (proto == ETH_P_IP && f->len < 14 + 20) || (proto == ETH_P_IPV6 && f->len < 14 + 40);
}

/* Runs F through one program and checks the run; false (and WHY) on a violation. */
static bool run_one(bool tc, const struct frame *f)
{
	static uint8_t out[OUT_MAX];
	__u64 before[XPXE_CNT_MAX];
	int fd = bpf_program__fd(tc ? skel->progs.tc_tftp : skel->progs.xdp_pxe);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = f->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	memcpy(before, counters_now, sizeof(before));
	n_queued = 0;
	if (bpf_prog_test_run_opts(fd, &opts)) {
		/*
		 * The kernel's skb test run refuses an IPv4 or IPv6 frame too short for its
		 * network header before the program runs; nothing else may fail.
		 */
		if (tc && errno == EINVAL && too_short_for_skb(f))
			return true;
		return violation("%s: the test run failed: %s", tc ? "tc" : "xdp", strerror(errno));
	}
	if (read_counters(counters_now))
		return violation("cannot read the counters: %s", strerror(errno));
	if (!tc)
		ring_buffer__consume(queue);
	return check_run(tc, f, opts.retval, out, opts.data_size_out, before, counters_now);
}

/* Both programs on F, in a random order (each changes the sessions the other then sees). */
static bool run_both(const struct frame *f, const char **what)
{
	bool tc_first = chance(30);

	*what = tc_first ? "tc_tftp" : "xdp_pxe";
	if (!run_one(tc_first, f))
		return false;
	*what = tc_first ? "xdp_pxe" : "tc_tftp";
	return run_one(!tc_first, f);
}

/* Phase I's share of N frames: the last one takes the remainder, so the phases run exactly N. */
static unsigned long frames_of(int i, unsigned long n)
{
	return n / N_PHASES + (i == N_PHASES - 1 ? n % N_PHASES : 0);
}

static void fuzz_phase(void **state)
{
	const struct phase *p = *state;
	unsigned long n = frames_of(p - phases, iterations);
	const char *what;
	struct frame f;

	configure(p);
	assert_int_equal(read_counters(counters_now), 0);
	for (unsigned long i = 0; i < n; i++) {
		if (i % RESET_EVERY == 0)
			reset_sessions();
		next_frame(&f);
		if (!run_both(&f, &what)) {
			report(what, &f, i);
			fail_msg("%s: %s", what, why);
		}
	}
}

/* Every seed as it is, under every phase: the baseline the mutations start from. */
static void test_seeds_unmutated(void **state)
{
	const char *what;

	(void)state;
	for (int p = 0; p < N_PHASES; p++) {
		configure(&phases[p]);
		reset_sessions();
		assert_int_equal(read_counters(counters_now), 0);
		for (int i = 0; i < n_seeds; i++) {
			if (!run_both(&seeds[i], &what)) {
				report(what, &seeds[i], i);
				fail_msg("seed %d (%s), %s: %s", i, seed_names[i], what, why);
			}
		}
	}
}

/* --- what the fuzzer found, as fixed cases ------------------------------------------------ */

/* Runs F through one program under every invariant above, then checks its verdict and outcome. */
static void expect(bool tc, const struct frame *f, int verdict, int counter)
{
	if (!run_one(tc, f))
		fail_msg("%s", why);
	if (last_retval != verdict || last_outcome != counter)
		fail_msg("%s: verdict %d, %s; expected %d, %s", tc ? "tc" : "xdp", last_retval,
			 xpxe_counter_names[last_outcome], verdict, xpxe_counter_names[counter]);
}

static void to_group(struct frame *f, int how)
{
	static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t ipv4_multicast[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint32_t ip = htonl(how == 1 ? 0xffffffff : 0xe0000001);

	if (how == 0)
		memcpy(f->b, broadcast, ETH_ALEN);
	else
		memcpy(f->b + 14 + 16, &ip, 4);
	if (how == 2)
		memcpy(f->b, ipv4_multicast, ETH_ALEN);
	fix_up(f);
}

/*
 * xdp_pxe refused a WRQ sent to a broadcast or multicast MAC or address with an
 * ERROR sent *from* that group MAC/address (it answers from the request's
 * destination): a frame receivers discard. It is the daemon's to answer now.
 */
static void test_wrq_to_a_group_address(void **state)
{
	static const char wrq[] = "\0\2boot.img\0octet";
	struct frame f;

	(void)state;
	configure(&phases[0]);
	assert_int_equal(read_counters(counters_now), 0);
	for (int how = 0; how < 3; how++) {
		f.len = tftp_frame(f.b, 69, wrq, sizeof(wrq));
		to_group(&f, how);
		expect(false, &f, XDP_PASS, XPXE_CNT_PASS_TFTP);
	}
	f.len = tftp_frame(f.b, 69, wrq, sizeof(wrq));
	expect(false, &f, XDP_TX, XPXE_CNT_TFTP_WRQ_REFUSED);
}

/* Likewise an ACK of a transfer: its DATA went out from the group MAC/address, by XDP and tc. */
static void test_ack_to_a_group_address(void **state)
{
	uint8_t ack[4] = { 0, XPXE_TFTP_ACK, 0, 1 };
	struct xpxe_tftp_key key = session_key(0);
	struct xpxe_tftp_session s;
	struct frame f;

	(void)state;
	configure(&phases[0]);
	assert_int_equal(read_counters(counters_now), 0);
	install_session(0, ASSET_RANDOM, 512, 1, XPXE_TFTP_ACTIVE, true);
	for (int how = 0; how < 3; how++) {
		f.len = tftp_frame(f.b, TFTP_PORT0, ack, sizeof(ack));
		to_group(&f, how);
		expect(false, &f, XDP_PASS, XPXE_CNT_PASS_OTHER_PORT);
		expect(true, &f, TC_ACT_OK, XPXE_CNT_TFTP_TC_PASS);
	}
	assert_int_equal(tftp_entry_lookup(sessions_fd, &key, &s), 0);
	assert_int_equal(s.last_block, 1);
	f.len = tftp_frame(f.b, TFTP_PORT0, ack, sizeof(ack));
	expect(false, &f, XDP_TX, XPXE_CNT_TFTP_DATA_XDP);
}

/*
 * An ACK longer than the DATA frame it asks for (here Ethernet padding before
 * an empty last block) was shrunk, then grown back when the asset was missing:
 * the bytes cut off came back zeroed, and tc and the daemon got another frame.
 */
static void test_long_ack_of_a_missing_asset(void **state)
{
	uint8_t ack[4] = { 0, XPXE_TFTP_ACK, 0, 2 };
	struct frame f;

	(void)state;
	configure(&phases[0]);
	assert_int_equal(read_counters(counters_now), 0);
	/* 1024 bytes at 512: block 3 is empty, a 46-byte frame; the ACK is padded to 60. */
	install_session(SESSION_NO_ASSET, -1, 512, 2, XPXE_TFTP_ACTIVE, true);
	f.len = tftp_frame(f.b, TFTP_PORT0 + SESSION_NO_ASSET, ack, sizeof(ack));
	memset(f.b + f.len, 0xa5, 60 - f.len);
	f.len = 60;
	expect(false, &f, XDP_PASS, XPXE_CNT_TFTP_NO_ASSET);
	expect(true, &f, TC_ACT_OK, XPXE_CNT_TFTP_NO_ASSET);
}

/* The fuzzing is worth something only if it reached the answers, not just the passes. */
static void test_coverage(void **state)
{
	static const int xdp_must[] = { XPXE_CNT_DHCP_OFFER,
					XPXE_CNT_DHCP_ACK,
					XPXE_CNT_DHCP_ACK_4011,
					XPXE_CNT_DHCP_NAK,
					XPXE_CNT_DHCP_TO_DAEMON,
					XPXE_CNT_PASS_DHCP_NOT_PXE,
					XPXE_CNT_PASS_DHCP_MALFORMED,
					XPXE_CNT_TFTP_DATA_XDP,
					XPXE_CNT_TFTP_WRQ_REFUSED,
					XPXE_CNT_TFTP_ACK_TO_TC,
					XPXE_CNT_TFTP_ACK_STALE,
					XPXE_CNT_PASS_OTHER_PORT,
					XPXE_CNT_TFTP_NO_ASSET,
					XPXE_CNT_TFTP_SESSIONS_ABORTED,
					XPXE_CNT_TFTP_SESSIONS_COMPLETED,
					XPXE_CNT_TFTP_ACK_DUP_IGNORED,
					XPXE_CNT_PASS_BAD_UDP_CSUM,
					XPXE_CNT_DROP_BAD_UDP_CSUM,
					XPXE_CNT_DHCP6_ADVERTISE,
					XPXE_CNT_DHCP6_REPLY,
					XPXE_CNT_PASS_DHCP6_MALFORMED,
					XPXE_CNT_DHCP6_REPLY_BOUND,
					XPXE_CNT_PASS_DHCP6_BAD_FRAME,
					XPXE_CNT_PASS_DHCP6_TO_DAEMON };
	static const int tc_must[] = { XPXE_CNT_TFTP_DATA_TC, XPXE_CNT_TFTP_TC_PASS,
				       XPXE_CNT_TFTP_ACK_STALE, XPXE_CNT_TFTP_NO_ASSET };

	(void)state;
	fprintf(stderr, "# outcomes reached (xdp / tc):\n");
	for (int i = 0; i < XPXE_CNT_MAX; i++)
		if (outcome_hits[0][i] || outcome_hits[1][i])
			fprintf(stderr, "#   %-28s %10llu %10llu\n", xpxe_counter_names[i],
				(unsigned long long)outcome_hits[0][i],
				(unsigned long long)outcome_hits[1][i]);
	if (iterations < DEFAULT_ITERATIONS)
		skip();
	for (size_t i = 0; i < sizeof(xdp_must) / sizeof(xdp_must[0]); i++)
		if (!outcome_hits[0][xdp_must[i]])
			fail_msg("xdp_pxe never reached %s", xpxe_counter_names[xdp_must[i]]);
	for (size_t i = 0; i < sizeof(tc_must) / sizeof(tc_must[0]); i++)
		if (!outcome_hits[1][tc_must[i]])
			fail_msg("tc_tftp never reached %s", xpxe_counter_names[tc_must[i]]);
}

/* --- set-up ------------------------------------------------------------------------------- */

static int load_asset(int i)
{
	char name[16];

	content[i] = test_asset_content(asset_sizes[i], 0x9e3779b9u + i);
	snprintf(name, sizeof(name), "asset%d", i);
	return test_asset_load(&assets, name, content[i], asset_sizes[i], &slot_of[i]);
}

static unsigned long env_number(const char *name, unsigned long fallback)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return fallback;
	n = strtoul(v, &end, 0);
	return *end ? fallback : n;
}

static int setup(void **state)
{
	(void)state;
	iterations = env_number("XPXE_FUZZ_ITERATIONS", DEFAULT_ITERATIONS);
	seed = env_number("XPXE_FUZZ_SEED", DEFAULT_SEED);
	rng_state = seed;
	fprintf(stderr, "# seed %#" PRIx64 ", %lu frames (XPXE_FUZZ_SEED, XPXE_FUZZ_ITERATIONS)\n",
		seed, iterations);
	/* tc_tftp's copies of DISCOVERs for the stack go to this namespace's loopback only. */
	lo_sock = tc_test_netns();
	if (lo_sock < 0)
		return -1;
	close(lo_sock); /* nobody reads them here */
	skel = tftp_entry_open_and_load();
	if (!skel) {
		fprintf(stderr, "# cannot load xpxe.bpf.o (needs root and a BPF-capable kernel)\n");
		return -1;
	}
	/* xdp_dhcp6_bound in its slots, as the daemon sets them (the bound phase reaches it). */
	if (xpxe_dataplane_set_tail_calls(skel, false) || xpxe_dataplane_set_tail_calls(skel, true))
		return -1;
	counters_fd = bpf_map__fd(skel->maps.counters);
	sessions_fd = bpf_map__fd(skel->maps.tftp_sessions);
	clients_fd = bpf_map__fd(skel->maps.dhcp_clients);
	ncpus = libbpf_num_possible_cpus();
	percpu_values = calloc((size_t)XPXE_CNT_MAX * (ncpus > 0 ? ncpus : 1), sizeof(__u64));
	queue = ring_buffer__new(bpf_map__fd(skel->maps.dhcp_queue), on_queued, NULL, NULL);
	if (ncpus <= 0 || !percpu_values || !queue)
		return -1;
	xpxe_assets_init(&assets);
	if (xpxe_assets_add_outer(&assets, bpf_map__fd(skel->maps.tftp_assets)))
		return -1;
	for (int i = 0; i < N_ASSETS; i++)
		if (load_asset(i))
			return -1;
	make_seeds();
	fprintf(stderr, "# %d seeds, %d known machines\n", n_seeds, n_known);
	return n_seeds > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ring_buffer__free(queue);
	if (d6srv_up) {
		char path[300];

		snprintf(path, sizeof(path), "%s/leases6", d6_dir);
		unlink(path);
		xpxe_leases6_free(&d6srv.leases);
		rmdir(d6_dir);
	}
	xpxe_assets_free(&assets);
	xpxe_bpf__destroy(skel);
	for (int i = 0; i < N_ASSETS; i++)
		free(content[i]);
	free(percpu_values);
	return 0;
}

int main(void)
{
	static const struct CMUnitTest first[] = {
		cmocka_unit_test(test_seeds_unmutated),
		cmocka_unit_test(test_wrq_to_a_group_address),
		cmocka_unit_test(test_ack_to_a_group_address),
		cmocka_unit_test(test_long_ack_of_a_missing_asset),
	};
	enum { N_FIRST = sizeof(first) / sizeof(first[0]), N_TESTS = N_FIRST + N_PHASES + 1 };
	static struct CMUnitTest tests[N_TESTS];
	static char names[N_PHASES][160];
	unsigned long n = env_number("XPXE_FUZZ_ITERATIONS", DEFAULT_ITERATIONS);

	memcpy(tests, first, sizeof(first));
	for (int i = 0; i < N_PHASES; i++) {
		snprintf(names[i], sizeof(names[i]), "fuzz: %s: %lu frames", phases[i].name,
			 frames_of(i, n));
		tests[N_FIRST + i] = (struct CMUnitTest){ .name = names[i],
							  .test_func = fuzz_phase,
							  .initial_state = (void *)&phases[i] };
	}
	tests[N_TESTS - 1] = (struct CMUnitTest)cmocka_unit_test(test_coverage);
	return _cmocka_run_group_tests("fuzz_xdp", tests, N_TESTS, setup, teardown);
}
