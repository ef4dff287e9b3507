// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pxe's DHCPv6 boot answers (bpf/dhcp6.h), run by the kernel
 * (bpf_prog_test_run_opts) on Solicits, Requests and Information-requests
 * shaped like EDK2's (NetworkPkg PxeBcDhcp6.c, HttpBootDhcp6.c: ORO, UNDI,
 * arch, vendor class with enterprise 343) and iPXE's, and on bad ones. Each
 * case names the verdict and the one counter that must grow; an answer is
 * decoded here option by option, its UDP checksum computed independently.
 * Also the daemon's side: URLs, and the server DUID kept across restarts.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpxe.skel.h"
#include "counters.h"
#include "dataplane.h"
#include "dhcp/dhcp.h"
#include "frames.h"
#include "xdp_run.h"
#include "pcap.h"

#ifndef XPXE_FIXTURES
#define XPXE_FIXTURES "tests/fixtures"
#endif
#define OVMF_DHCP6 XPXE_FIXTURES "/ovmf-dhcp6-pxe-http.pcap"

#define OFF_IP6	 14
#define OFF_PLEN (OFF_IP6 + 4)
#define OFF_NEXT (OFF_IP6 + 6)
#define OFF_SRC	 (OFF_IP6 + 8)
#define OFF_DST	 (OFF_IP6 + 24)
#define OFF_UDP	 (OFF_IP6 + 40)
#define OFF_MSG	 (OFF_UDP + 8)

#define SERVER_ADDR "fd00:198:18::1"
#define SERVER_LL   "fe80::ff:fe00:1"
#define CLIENT_LL   "fe80::5054:ff:fe12:3456"
#define CLIENT_ADDR "fd00:198:18::77"
#define ALL_SERVERS "ff02::1:2"

/* The DUID of the xpxe that answered OVMF in the fixture (its 4011 Request names it). */
static const uint8_t server_duid[] = { 0,    1,	   0,	 1,    0x32, 0xa7, 0xcd,
				       0x9e, 0xe2, 0x24, 0x06, 0xf4, 0xa9, 0x5d };
static const uint8_t client_duid[] = {
	0,    4,    0x8a, 0x3b, 0x1f, 0x42, 0x5c, 0x33, 0x4d,
	0x11, 0x9e, 0x0d, 0x6a, 0x55, 0x01, 0x02, 0x03, 0x04
}; /* UUID */
static const uint8_t other_duid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 9 };

static struct xpxe_bpf *skel;

/* --- DHCPv6 messages and frames --------------------------------------------------- */

struct msg {
	uint8_t b[1200];
	size_t len;
};

static void m_start(struct msg *m, uint8_t type)
{
	m->b[0] = type;
	m->b[1] = 0xab, m->b[2] = 0xcd, m->b[3] = 0xef; /* transaction id */
	m->len = 4;
}

static void m_opt(struct msg *m, uint16_t code, const void *data, size_t len)
{
	m->b[m->len] = code >> 8;
	m->b[m->len + 1] = code & 0xff;
	m->b[m->len + 2] = len >> 8;
	m->b[m->len + 3] = len & 0xff;
	if (len) /* an empty option may come with no data pointer */
		memcpy(m->b + m->len + 4, data, len);
	m->len += 4 + len;
}

static void m_vendor(struct msg *m, const char *cls)
{
	uint8_t v[64] = { 0, 0, 343 >> 8, 343 & 0xff, 0, (uint8_t)strlen(cls) };

	memcpy(v + 6, cls, strlen(cls));
	m_opt(m, 16, v, 6 + strlen(cls));
}

/* What EDK2's PXE (or HTTP boot) puts in a Solicit: ORO, UNDI, arch, vendor class. */
static void m_edk2(struct msg *m, uint8_t type, uint16_t arch, const char *cls, bool with_sid)
{
	static const uint8_t oro[] = { 0, 59, 0, 60, 0, 23, 0, 16 }, undi[] = { 1, 3, 0 };
	uint8_t a[2] = { arch >> 8, arch & 0xff };

	m_start(m, type);
	m_opt(m, 1, client_duid, sizeof(client_duid));
	if (with_sid)
		m_opt(m, 2, server_duid, sizeof(server_duid));
	m_opt(m, 6, oro, sizeof(oro));
	m_opt(m, 62, undi, sizeof(undi));
	m_opt(m, 61, a, sizeof(a));
	if (cls)
		m_vendor(m, cls);
}

static uint32_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* The UDP checksum over the IPv6 pseudo-header (RFC 8200 8.1) of the frame F: 0xffff if valid. */
static uint16_t udp6_folded(const uint8_t *f)
{
	size_t ulen = (size_t)f[OFF_UDP + 4] << 8 | f[OFF_UDP + 5];
	uint32_t s = sum16(f + OFF_SRC, 32) + (uint32_t)ulen + 17 + sum16(f + OFF_UDP, ulen);

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Ethernet + IPv6 + UDP from SRC:SPORT to DST:DPORT carrying M; returns the frame length. */
static size_t frame6(uint8_t *f, const char *src, const char *dst, uint16_t sport, uint16_t dport,
		     const struct msg *m)
{
	uint8_t s6[16], d6[16];

	inet_pton(AF_INET6, src, s6);
	inet_pton(AF_INET6, dst, d6);
	return frame_udp6(f, s6, d6, sport, dport, m->b, m->len);
}

/* A Solicit of CLS (arch ARCH) to ff02::1:2 from the client's link-local address. */
static size_t solicit(uint8_t *f, uint16_t arch, const char *cls)
{
	struct msg m;

	m_edk2(&m, 1, arch, cls, false);
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

/* --- the cases ----------------------------------------------------------------------- */

struct dhcp6_case {
	const char *name;
	size_t (*build)(uint8_t *f);
	int verdict;
	enum xpxe_counter counter;
	const char *url;    /* the answer's option 59 */
	const char *vendor; /* its vendor class, NULL: none */
	bool off;	    /* DHCPv6 answering off */
};

static size_t pxe_x64(uint8_t *f)
{
	return solicit(f, 7, "PXEClient:Arch:00007:UNDI:003000");
}

static size_t http_x64(uint8_t *f)
{
	return solicit(f, 16, "HTTPClient:Arch:00016:UNDI:003000");
}

static size_t pxe_bios(uint8_t *f)
{
	return solicit(f, 0, "PXEClient:Arch:00000:UNDI:002001");
}

/* iPXE: user class "iPXE" (RFC 8415 form: a 2-byte length before it), ORO with 59. */
static size_t ipxe(uint8_t *f)
{
	static const uint8_t uc[] = { 0, 4, 'i', 'P', 'X', 'E' }, oro[] = { 0, 59, 0, 23 };
	struct msg m;

	m_start(&m, 1);
	m_opt(&m, 1, client_duid, sizeof(client_duid));
	m_opt(&m, 6, oro, sizeof(oro));
	m_opt(&m, 15, uc, sizeof(uc));
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

/* Only an ORO asking for 59 and an architecture (U-Boot's shape). */
static size_t oro_arch_only(uint8_t *f)
{
	return solicit(f, 7, NULL);
}

/* A plain client: address only, no boot identity. */
static size_t plain(uint8_t *f)
{
	static const uint8_t oro[] = { 0, 23, 0, 24 };
	struct msg m;

	m_start(&m, 1);
	m_opt(&m, 1, client_duid, sizeof(client_duid));
	m_opt(&m, 6, oro, sizeof(oro));
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

/* EDK2's boot service Request (PxeBcRequestBootService): our server id, to ADDR port 4011. */
static size_t request_4011(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 3, 7, "PXEClient:Arch:00007:UNDI:003000", true);
	return frame6(f, CLIENT_ADDR, SERVER_ADDR, 4011, 4011, &m);
}

static size_t request_547(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 3, 16, "HTTPClient:Arch:00016:UNDI:003000", true);
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

static size_t request_other_server(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 3, 7, "PXEClient:Arch:00007:UNDI:003000", false);
	m_opt(&m, 2, other_duid, sizeof(other_duid));
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

static size_t request_no_sid(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 3, 7, "PXEClient:Arch:00007:UNDI:003000", false);
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

static size_t info_request(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 11, 7, "PXEClient:Arch:00007:UNDI:003000", false);
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

/* RFC 8415 16: a Solicit to 547 at our address (we send no Server Unicast option). */
static size_t solicit_unicast(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 1, 7, "PXEClient:Arch:00007:UNDI:003000", false);
	return frame6(f, CLIENT_LL, SERVER_ADDR, 546, 547, &m);
}

/* 16.12: an Information-request that carries an IA_NA is discarded. */
static size_t info_request_with_ia(uint8_t *f)
{
	static const uint8_t ia[12] = { 0, 0, 0, 1 };
	struct msg m;

	m_edk2(&m, 11, 7, "PXEClient:Arch:00007:UNDI:003000", false);
	m_opt(&m, 3, ia, sizeof(ia));
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

static size_t solicit_with_sid(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 1, 7, "PXEClient:Arch:00007:UNDI:003000", true);
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

static size_t solicit_no_cid(uint8_t *f)
{
	static const uint8_t oro[] = { 0, 59 };
	struct msg m;

	m_start(&m, 1);
	m_opt(&m, 6, oro, sizeof(oro));
	m_vendor(&m, "PXEClient:Arch:00007:UNDI:003000");
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

/* An ORO of 40 codes (the daemon reads them all) with 59 the last: then the arch (x64 UEFI). */
static void m_long_oro(struct msg *m)
{
	uint8_t oro[80];

	for (int i = 0; i < 40; i++)
		oro[2 * i] = 0, oro[2 * i + 1] = 100 + i;
	oro[79] = 59;
	m_opt(m, 6, oro, sizeof(oro));
}

static size_t oro_59_late(uint8_t *f)
{
	static const uint8_t arch[] = { 0, 7 };
	struct msg m;

	m_start(&m, 1);
	m_opt(&m, 1, client_duid, sizeof(client_duid));
	m_long_oro(&m);
	m_opt(&m, 61, arch, sizeof(arch));
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

/* Two options 61: x64 UEFI, then BIOS. The first names the boot, as in the daemon's parser. */
static size_t two_archs(uint8_t *f)
{
	static const uint8_t oro[] = { 0, 59 }, x64[] = { 0, 7 }, bios[] = { 0, 0 };
	struct msg m;

	m_start(&m, 1);
	m_opt(&m, 1, client_duid, sizeof(client_duid));
	m_opt(&m, 6, oro, sizeof(oro));
	m_opt(&m, 61, x64, sizeof(x64));
	m_opt(&m, 61, bios, sizeof(bios));
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

static size_t of_type(uint8_t *f, uint8_t type)
{
	struct msg m;

	m_edk2(&m, type, 7, "PXEClient:Arch:00007:UNDI:003000", true);
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

static size_t renew(uint8_t *f)
{
	return of_type(f, 5);
}

static size_t unknown_type(uint8_t *f)
{
	return of_type(f, 200);
}

static size_t advertise_from_other(uint8_t *f)
{
	return of_type(f, 2);
}

/* Relay-forward: hop count, link and peer addresses, then a relayed Solicit in option 9. */
static size_t relay_forward(uint8_t *f)
{
	struct msg m, inner;
	size_t len = pxe_x64(f);

	memcpy(inner.b, f + OFF_MSG, len - OFF_MSG);
	inner.len = len - OFF_MSG;
	memset(m.b, 0, 34);
	m.b[0] = 12;
	m.len = 34;
	m_opt(&m, 9, inner.b, inner.len);
	return frame6(f, "fd00:198:19::1", SERVER_ADDR, 547, 547, &m);
}

static size_t bad_checksum(uint8_t *f)
{
	size_t len = pxe_x64(f);

	f[OFF_UDP + 7] ^= 1;
	return len;
}

static size_t zero_checksum(uint8_t *f)
{
	size_t len = pxe_x64(f);

	f[OFF_UDP + 6] = f[OFF_UDP + 7] = 0;
	return len;
}

/* The last option claims 200 bytes more than the message holds. */
static size_t option_too_long(uint8_t *f)
{
	struct msg m;

	const char *cls = "PXEClient:Arch:00007:UNDI:003000";
	size_t at, claimed;

	m_edk2(&m, 1, 7, cls, false);
	at = m.len - (4 + 6 + strlen(cls)); /* the vendor class, the last option */
	claimed = 6 + strlen(cls) + 200;
	m.b[at + 2] = claimed >> 8;
	m.b[at + 3] = claimed & 0xff;
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

/* Two bytes after the last option: an option header cut by the end. */
static size_t option_header_cut(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 1, 7, "PXEClient:Arch:00007:UNDI:003000", false);
	m.b[m.len] = 0, m.b[m.len + 1] = 59;
	m.len += 2;
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

/* The UDP length says more than the IPv6 payload (and the frame) hold. */
static size_t udp_len_lies(uint8_t *f)
{
	size_t len = pxe_x64(f);
	size_t ulen = ((size_t)f[OFF_UDP + 4] << 8 | f[OFF_UDP + 5]) + 64;

	f[OFF_UDP + 4] = ulen >> 8, f[OFF_UDP + 5] = ulen & 0xff;
	return len;
}

/* Cut inside the message: the frame ends before the UDP length. */
static size_t truncated(uint8_t *f)
{
	return pxe_x64(f) - 10;
}

/* A hop-by-hop header before the UDP one (as MLD reports carry): not parsed. */
static size_t hop_by_hop(uint8_t *f)
{
	size_t len = pxe_x64(f);

	f[OFF_NEXT] = 0;
	return len;
}

/* 49 options of 0 bytes: more than the parser walks. */
static size_t too_many_options(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 1, 7, "PXEClient:Arch:00007:UNDI:003000", false);
	for (int i = 0; i < 49; i++)
		m_opt(&m, 20, NULL, 0);
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
}

static size_t to_other_port(uint8_t *f)
{
	struct msg m;

	m_edk2(&m, 1, 7, "PXEClient:Arch:00007:UNDI:003000", false);
	return frame6(f, CLIENT_LL, ALL_SERVERS, 546, 548, &m);
}

/* Frame N of OVMF's capture (tests/fixtures/README.md). */
static size_t ovmf_frame(uint8_t *f, int n)
{
	int len = pcap_frame(OVMF_DHCP6, n, f, FRAME_MAX - 64);

	if (len < 0)
		fail_msg("cannot read %s (run from the repository root)", OVMF_DHCP6);
	return (size_t)len;
}

static size_t ovmf_pxe_solicit(uint8_t *f)
{
	return ovmf_frame(f, 0);
}

static size_t ovmf_boot_service_request(uint8_t *f)
{
	return ovmf_frame(f, 1);
}

static size_t ovmf_http_solicit(uint8_t *f)
{
	return ovmf_frame(f, 2);
}

#define TFTP_URL "tftp://[" SERVER_ADDR "]/snponly.efi"
#define HTTP_URL "http://[" SERVER_ADDR "]:8080/assets/snponly.efi"
#define IPXE_URL "http://[" SERVER_ADDR "]:8080/boot.ipxe"

/* An answer with option 59 URL and vendor class VENDOR (NULL: none), or a counted pass. */
#define TX(name, build, counter, url, vendor)                    \
	{                                                        \
		name, build, XDP_TX, counter, url, vendor, false \
	}
#define PASS(name, build, counter)                                \
	{                                                         \
		name, build, XDP_PASS, counter, NULL, NULL, false \
	}

static const struct dhcp6_case cases[] = {
	/* What OVMF sent in the lab: it took these answers and went on to the URLs. */
	TX("ovmf_pxe_solicit_gets_advertise", ovmf_pxe_solicit, XPXE_CNT_DHCP6_ADVERTISE, TFTP_URL,
	   "PXEClient"),
	TX("ovmf_boot_service_request_4011_gets_reply", ovmf_boot_service_request,
	   XPXE_CNT_DHCP6_REPLY, TFTP_URL, "PXEClient"),
	TX("ovmf_http_solicit_gets_advertise", ovmf_http_solicit, XPXE_CNT_DHCP6_ADVERTISE,
	   HTTP_URL, "HTTPClient"),
	TX("edk2_pxe_solicit_gets_advertise", pxe_x64, XPXE_CNT_DHCP6_ADVERTISE, TFTP_URL,
	   "PXEClient"),
	TX("edk2_http_solicit_gets_advertise", http_x64, XPXE_CNT_DHCP6_ADVERTISE, HTTP_URL,
	   "HTTPClient"),
	TX("ipxe_solicit_gets_script_url", ipxe, XPXE_CNT_DHCP6_ADVERTISE, IPXE_URL, NULL),
	TX("oro_59_and_arch_gets_advertise", oro_arch_only, XPXE_CNT_DHCP6_ADVERTISE, TFTP_URL,
	   "PXEClient"),
	/* 59 as the 40th code of the ORO: XDP read 32 once, and passed it as a plain client. */
	TX("oro_59_late_gets_advertise", oro_59_late, XPXE_CNT_DHCP6_ADVERTISE, TFTP_URL,
	   "PXEClient"),
	/* XDP took the last option 61 once (BIOS: no IPv6 boot, passed). */
	TX("first_of_two_archs_names_the_boot", two_archs, XPXE_CNT_DHCP6_ADVERTISE, TFTP_URL,
	   "PXEClient"),
	TX("edk2_boot_service_request_4011_gets_reply", request_4011, XPXE_CNT_DHCP6_REPLY,
	   TFTP_URL, "PXEClient"),
	TX("request_naming_us_gets_reply", request_547, XPXE_CNT_DHCP6_REPLY, HTTP_URL,
	   "HTTPClient"),
	TX("information_request_gets_reply", info_request, XPXE_CNT_DHCP6_REPLY, TFTP_URL,
	   "PXEClient"),
	/* Not ours. */
	{ "dhcp6_off_passes", pxe_x64, XDP_PASS, XPXE_CNT_PASS_DHCP6, NULL, NULL, true },
	PASS("plain_client_passes", plain, XPXE_CNT_PASS_DHCP6_NOT_PXE),
	PASS("solicit_unicast_to_547_not_answered", solicit_unicast, XPXE_CNT_PASS_DHCP6_IGNORED),
	PASS("info_request_with_ia_not_answered", info_request_with_ia,
	     XPXE_CNT_PASS_DHCP6_MALFORMED),
	PASS("bios_has_no_ipv6_boot", pxe_bios, XPXE_CNT_PASS_DHCP_NO_BOOT_FILE),
	PASS("request_to_other_server_passes", request_other_server,
	     XPXE_CNT_PASS_DHCP6_OTHER_SERVER),
	PASS("renew_passes", renew, XPXE_CNT_PASS_DHCP6_IGNORED),
	PASS("unknown_type_passes", unknown_type, XPXE_CNT_PASS_DHCP6_IGNORED),
	PASS("advertise_of_other_server_passes", advertise_from_other, XPXE_CNT_PASS_DHCP6_IGNORED),
	PASS("relay_forward_passes", relay_forward, XPXE_CNT_PASS_DHCP6_RELAY),
	PASS("other_udp_port_passes", to_other_port, XPXE_CNT_PASS_NOT_IPV4),
	PASS("hop_by_hop_header_passes", hop_by_hop, XPXE_CNT_PASS_IPV6_EXT_HEADER),
	/* Bad frames. */
	PASS("bad_udp_checksum_passes", bad_checksum, XPXE_CNT_PASS_BAD_UDP_CSUM),
	PASS("zero_udp_checksum_passes", zero_checksum, XPXE_CNT_PASS_BAD_UDP_CSUM),
	PASS("option_longer_than_message_passes", option_too_long, XPXE_CNT_PASS_DHCP6_MALFORMED),
	PASS("option_header_cut_passes", option_header_cut, XPXE_CNT_PASS_DHCP6_MALFORMED),
	PASS("udp_length_lies_passes", udp_len_lies, XPXE_CNT_PASS_DHCP6_MALFORMED),
	PASS("truncated_frame_passes", truncated, XPXE_CNT_PASS_DHCP6_MALFORMED),
	PASS("too_many_options_passes", too_many_options, XPXE_CNT_PASS_DHCP6_MALFORMED),
	PASS("solicit_without_client_id_passes", solicit_no_cid, XPXE_CNT_PASS_DHCP6_MALFORMED),
	PASS("solicit_with_server_id_passes", solicit_with_sid, XPXE_CNT_PASS_DHCP6_MALFORMED),
	PASS("request_without_server_id_passes", request_no_sid, XPXE_CNT_PASS_DHCP6_MALFORMED),
};

static int setup(void **state)
{
	(void)state;
	skel = xpxe_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "# cannot load xpxe.bpf.o (needs root and a BPF-capable kernel)\n");
		return -1;
	}
	/* Both builds' tail calls, as the daemon sets the one it attaches. */
	if (xpxe_dataplane_set_tail_calls(skel, false) ||
	    xpxe_dataplane_set_tail_calls(skel, true)) {
		fprintf(stderr, "# cannot set xdp_dhcp6_bound in its slots\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xpxe_bpf__destroy(skel);
	return 0;
}

/* FULL: full mode with a pool6 (the daemon's DHCPv6 server answers on 547). */
static void configure_mode(bool off, bool full)
{
	struct xpxe_dhcp_settings s;
	struct xpxe_dhcp_net net = { 0 };
	struct xpxe_dhcp6_net net6 = { 0 };

	xpxe_dhcp_settings_default(&s);
	if (full) {
		s.mode = XPXE_MODE_FULL;
		inet_pton(AF_INET6, "fd00:198:18::100", &s.pool6_first);
		inet_pton(AF_INET6, "fd00:198:18::1ff", &s.pool6_last);
	}
	s.mac_rate = s.global_rate = 0; /* many frames from one MAC: no limit here */
	inet_pton(AF_INET, "198.18.0.1", &s.server_ip);
	snprintf(s.http_base, sizeof(s.http_base), "http://198.18.0.1:8080");
	xpxe_dhcp_profile_defaults(&s.profile, s.boot_file_set, s.http_base);
	net.mode = s.mode;
	memcpy(net.server_mac, frame_server_mac, 6);
	net.server_ip = s.server_ip;
	inet_pton(AF_INET6, SERVER_LL, &net.server_ll);
	assert_int_equal(xpxe_dhcp_load_maps(skel, &s, &net), 0);

	memcpy(net6.server_mac, frame_server_mac, 6);
	net6.server_ll = net.server_ll;
	inet_pton(AF_INET6, SERVER_ADDR, &net6.server_addr);
	memcpy(net6.duid, server_duid, sizeof(server_duid));
	net6.duid_len = sizeof(server_duid);
	assert_int_equal(xpxe_dhcp6_load_maps(skel, &s, off ? NULL : &net6), 0);
}

static void configure(bool off)
{
	configure_mode(off, false);
}

/* The option CODE of the answer's options (OPTS, LEN bytes); NULL when absent. */
static const uint8_t *find_opt(const uint8_t *opts, size_t len, uint16_t code, size_t *olen)
{
	size_t off = 0;

	while (off + 4 <= len) {
		size_t l = (size_t)opts[off + 2] << 8 | opts[off + 3];

		assert_true(off + 4 + l <= len);
		if (((uint16_t)opts[off] << 8 | opts[off + 1]) == code) {
			*olen = l;
			return opts + off + 4;
		}
		off += 4 + l;
	}
	assert_int_equal(off, len); /* the options fill the message exactly */
	return NULL;
}

/* Every field of the answer, against the request it answers. */
static void check_answer(const struct dhcp6_case *c, const uint8_t *rq, const uint8_t *a,
			 size_t len)
{
	size_t ulen = (size_t)a[OFF_UDP + 4] << 8 | a[OFF_UDP + 5], olen, rq_cid_len;
	size_t rq_ulen = (size_t)rq[OFF_UDP + 4] << 8 | rq[OFF_UDP + 5];
	const uint8_t *rq_cid;
	uint8_t want_src[16];
	const uint8_t *o;
	const uint8_t *opts = a + OFF_MSG + 4;
	size_t opts_len = ulen - 12;

	assert_int_equal(len, OFF_UDP + ulen);
	assert_memory_equal(a, rq + 6, 6); /* to the client's MAC, from ours */
	assert_memory_equal(a + 6, frame_server_mac, 6);
	assert_int_equal(a[12] << 8 | a[13], ETH_P_IPV6);
	assert_int_equal(a[OFF_IP6], 0x60);
	assert_int_equal(a[OFF_IP6 + 1] | a[OFF_IP6 + 2] | a[OFF_IP6 + 3], 0);
	assert_int_equal(a[OFF_PLEN] << 8 | a[OFF_PLEN + 1], ulen);
	assert_int_equal(a[OFF_NEXT], 17);
	/* From our link-local address to a multicast request, else from the address asked. */
	if (rq[OFF_DST] == 0xff)
		inet_pton(AF_INET6, SERVER_LL, want_src);
	else
		memcpy(want_src, rq + OFF_DST, 16);
	assert_memory_equal(a + OFF_SRC, want_src, 16);
	assert_memory_equal(a + OFF_DST, rq + OFF_SRC, 16);
	/* Ports swapped: 547 -> 546, 4011 -> 4011. */
	assert_memory_equal(a + OFF_UDP, rq + OFF_UDP + 2, 2);
	assert_memory_equal(a + OFF_UDP + 2, rq + OFF_UDP, 2);
	assert_int_equal(udp6_folded(a), 0xffff);
	assert_int_not_equal(a[OFF_UDP + 6] | a[OFF_UDP + 7], 0);
	/* The message: Advertise for a Solicit, else Reply; the transaction id echoed. */
	assert_int_equal(a[OFF_MSG], c->counter == XPXE_CNT_DHCP6_ADVERTISE ? 2 : 7);
	assert_memory_equal(a + OFF_MSG + 1, rq + OFF_MSG + 1, 3);
	/* The request's client id, echoed byte for byte. */
	rq_cid = find_opt(rq + OFF_MSG + 4, rq_ulen - 12, 1, &rq_cid_len);
	assert_non_null(rq_cid);
	o = find_opt(opts, opts_len, 1, &olen);
	assert_non_null(o);
	assert_int_equal(olen, rq_cid_len);
	assert_memory_equal(o, rq_cid, olen);
	o = find_opt(opts, opts_len, 2, &olen);
	assert_non_null(o);
	assert_int_equal(olen, sizeof(server_duid));
	assert_memory_equal(o, server_duid, olen);
	/* No address: proxy-like (EDK2 takes it as a proxy offer). */
	assert_null(find_opt(opts, opts_len, 3, &olen));
	o = find_opt(opts, opts_len, 59, &olen);
	assert_non_null(o);
	assert_int_equal(olen, strlen(c->url));
	assert_memory_equal(o, c->url, olen);
	/* EDK2's HTTP boot reads the URL as a string: a 0 byte must follow it. */
	assert_true(o + olen < a + len);
	assert_int_equal(o[olen], 0);
	/*
	 * No boot file parameters (option 60, RFC 5970), though EDK2 and iPXE ask for them:
	 * EDK2's PXE reads the first as the boot file's size in 512-byte units and fails the
	 * boot on one it cannot parse or that is too small (PxeBcDhcp6BootInfo), its HTTP boot
	 * reads none, and iPXE has no setting that reads it (docs/dhcp6-edk2.md).
	 */
	assert_null(find_opt(opts, opts_len, 60, &olen));
	o = find_opt(opts, opts_len, 16, &olen);
	if (!c->vendor) {
		assert_null(o);
		return;
	}
	assert_non_null(o);
	/* Enterprise 343, then the class, as PxeBcParseDhcp6Packet compares them. */
	assert_int_equal(olen, 6 + strlen(c->vendor));
	assert_int_equal(o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3], 343);
	assert_int_equal(o[4] << 8 | o[5], strlen(c->vendor));
	assert_memory_equal(o + 6, c->vendor, strlen(c->vendor));
}

static void run_case(void **state)
{
	const struct dhcp6_case *c = *state;
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	size_t len;
	__u32 out_len;

	memset(in, 0, sizeof(in));
	len = c->build(in);
	configure(c->off);
	assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, c->counter),
			 c->verdict);
	if (c->verdict == XDP_PASS) {
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
		return;
	}
	check_answer(c, in, out, out_len);
}

/* A request over a machine's rate is dropped, as its DHCP requests are. */
static void test_rate_limited(void **state)
{
	struct xpxe_dhcp_config cfg;
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	int fd = bpf_map__fd(skel->maps.dhcp_config);
	size_t len = pxe_x64(in);
	__u32 zero = 0;

	(void)state;
	configure(false);
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
	cfg.mac_interval_ns = 1000000000ull;
	cfg.mac_tolerance_ns = 0;
	cfg.clock_ns = 5000 * 1000000000ull;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
	assert_int_equal(
	    xdp_run_counted(skel, in, len, out, sizeof(out), NULL, XPXE_CNT_DHCP6_ADVERTISE),
	    XDP_TX);
	assert_int_equal(
	    xdp_run_counted(skel, in, len, out, sizeof(out), NULL, XPXE_CNT_DROP_DHCP_RATE_MAC),
	    XDP_DROP);
}

/* The events ring's Replies to send again (XPXE_EV_DHCP6_REPLY_4011): the last one, and how many.
 */
static struct xpxe_dp_dhcp6_reply_event repeat_seen;
static int repeats_seen;

static int on_event(void *ctx, void *data, size_t size)
{
	const struct xpxe_dp_event *e = data;

	(void)ctx;
	if (size >= sizeof(repeat_seen) && e->type == XPXE_EV_DHCP6_REPLY_4011) {
		memcpy(&repeat_seen, data, sizeof(repeat_seen));
		repeats_seen++;
	}
	return 0;
}

/*
 * A Reply to EDK2's boot service Request (port 4011) goes to the daemon too, the frame as
 * sent, for it to send again (EDK2 loses one that comes before its read is set up:
 * docs/dhcp6-edk2.md); an Advertise, or a Reply on 547, does not.
 */
static void test_repeat_event(void **state)
{
	static const struct {
		size_t (*build)(uint8_t *);
		enum xpxe_counter counter;
	} others[] = { { pxe_x64, XPXE_CNT_DHCP6_ADVERTISE },
		       { request_547, XPXE_CNT_DHCP6_REPLY },
		       { info_request, XPXE_CNT_DHCP6_REPLY } };
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	struct ring_buffer *rb =
	    ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	size_t len;
	__u32 out_len;

	(void)state;
	assert_non_null(rb);
	configure(false);
	ring_buffer__consume(rb);
	repeats_seen = 0;
	memset(in, 0, sizeof(in));
	len = request_4011(in);
	assert_int_equal(
	    xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, XPXE_CNT_DHCP6_REPLY),
	    XDP_TX);
	ring_buffer__consume(rb);
	assert_int_equal(repeats_seen, 1);
	assert_int_equal(repeat_seen.len, out_len);
	assert_memory_equal(repeat_seen.frame, out, out_len);
	assert_memory_equal(repeat_seen.h.mac, in + 6, 6); /* to the client */
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		memset(in, 0, sizeof(in));
		len = others[i].build(in);
		assert_int_equal(
		    xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, others[i].counter),
		    XDP_TX);
	}
	ring_buffer__consume(rb);
	assert_int_equal(repeats_seen, 1);
	ring_buffer__free(rb);
}

/* A message of TYPE from EDK2's PXE to 547 at our address (not ff02::1:2); SID: naming us. */
static size_t to_our_address(uint8_t *f, uint8_t type, bool sid)
{
	struct msg m;

	m_edk2(&m, type, 7, "PXEClient:Arch:00007:UNDI:003000", sid);
	return frame6(f, CLIENT_LL, SERVER_ADDR, 546, 547, &m);
}

/*
 * Proxy mode, messages to our address rather than ff02::1:2 (RFC 8415 16, 18.4; xpxe sends no
 * Server Unicast option): a Request, Renew, Release or Decline naming us gets a Reply from that
 * address of our id, the client's and UseMulticast only, counted in dhcp6_use_multicast (not
 * dhcp6_reply); a Solicit, Confirm, Rebind or Information-request passes (pass_dhcp6_ignored),
 * as does one naming another server or none.
 */
static void test_proxy_unicast(void **state)
{
	static const uint8_t use_mc[] = { 3, 5, 8, 9 }, drop[] = { 1, 4, 6, 11 };
	static const char status_msg[] = "use ff02::1:2";
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	const uint8_t *o, *rq_cid, *opts = out + OFF_MSG + 4;
	size_t len, ulen, olen, rq_cid_len, n_opts;
	uint8_t addr[16];
	__u32 out_len;

	(void)state;
	configure(false);
	inet_pton(AF_INET6, SERVER_ADDR, addr);
	for (size_t i = 0; i < sizeof(use_mc); i++) {
		memset(in, 0, sizeof(in));
		len = to_our_address(in, use_mc[i], true);
		assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len,
						 XPXE_CNT_DHCP6_USE_MULTICAST),
				 XDP_TX);
		ulen = (size_t)out[OFF_UDP + 4] << 8 | out[OFF_UDP + 5];
		assert_int_equal(out_len, OFF_UDP + ulen);
		assert_memory_equal(out, in + 6, 6);
		assert_memory_equal(out + 6, frame_server_mac, 6);
		assert_memory_equal(out + OFF_SRC, addr, 16); /* from the address it went to */
		assert_memory_equal(out + OFF_DST, in + OFF_SRC, 16);
		assert_int_equal(out[OFF_PLEN] << 8 | out[OFF_PLEN + 1], ulen);
		assert_memory_equal(out + OFF_UDP, in + OFF_UDP + 2, 2);
		assert_memory_equal(out + OFF_UDP + 2, in + OFF_UDP, 2);
		assert_int_equal(udp6_folded(out), 0xffff);
		assert_int_equal(out[OFF_MSG], 7);
		assert_memory_equal(out + OFF_MSG + 1, in + OFF_MSG + 1, 3);
		/* Exactly three options (find_opt checks they fill the message). */
		n_opts = 0;
		for (size_t off = 0; off + 4 <= ulen - 12; n_opts++)
			off += 4 + ((size_t)opts[off + 2] << 8 | opts[off + 3]);
		assert_int_equal(n_opts, 3);
		o = find_opt(opts, ulen - 12, 2, &olen);
		assert_non_null(o);
		assert_int_equal(olen, sizeof(server_duid));
		assert_memory_equal(o, server_duid, olen);
		rq_cid =
		    find_opt(in + OFF_MSG + 4,
			     ((size_t)in[OFF_UDP + 4] << 8 | in[OFF_UDP + 5]) - 12, 1, &rq_cid_len);
		assert_non_null(rq_cid);
		o = find_opt(opts, ulen - 12, 1, &olen);
		assert_non_null(o);
		assert_int_equal(olen, rq_cid_len);
		assert_memory_equal(o, rq_cid, olen);
		o = find_opt(opts, ulen - 12, 13, &olen);
		assert_non_null(o);
		assert_int_equal(olen, 2 + strlen(status_msg));
		assert_int_equal(o[0] << 8 | o[1], 5); /* UseMulticast */
		assert_memory_equal(o + 2, status_msg, strlen(status_msg));
	}
	for (size_t i = 0; i < sizeof(drop); i++) {
		memset(in, 0, sizeof(in));
		len = to_our_address(in, drop[i], false);
		assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len,
						 XPXE_CNT_PASS_DHCP6_IGNORED),
				 XDP_PASS);
	}
	/* A Request to our address naming no server, or another one: not ours to answer. */
	memset(in, 0, sizeof(in));
	len = to_our_address(in, 3, false);
	assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len,
					 XPXE_CNT_PASS_DHCP6_MALFORMED),
			 XDP_PASS);
	memset(in, 0, sizeof(in));
	{
		struct msg m;

		m_edk2(&m, 3, 7, "PXEClient:Arch:00007:UNDI:003000", false);
		m_opt(&m, 2, other_duid, sizeof(other_duid));
		len = frame6(in, CLIENT_LL, SERVER_ADDR, 546, 547, &m);
	}
	assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len,
					 XPXE_CNT_PASS_DHCP6_OTHER_SERVER),
			 XDP_PASS);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
}

/*
 * Full mode with a pool6: what a client sends to 547 goes up to the daemon's server
 * untouched (pass_dhcp6_to_daemon), whatever its class; 4011 stays XDP's; relays, bad sums
 * and other servers' messages keep their own outcomes.
 */
static void test_full_mode_to_daemon(void **state)
{
	static const struct {
		size_t (*build)(uint8_t *f);
		int verdict;
		int counter;
	} full[] = {
		{ pxe_x64, XDP_PASS, XPXE_CNT_PASS_DHCP6_TO_DAEMON },
		{ plain, XDP_PASS, XPXE_CNT_PASS_DHCP6_TO_DAEMON },
		{ ipxe, XDP_PASS, XPXE_CNT_PASS_DHCP6_TO_DAEMON },
		{ request_547, XDP_PASS, XPXE_CNT_PASS_DHCP6_TO_DAEMON },
		{ renew, XDP_PASS, XPXE_CNT_PASS_DHCP6_TO_DAEMON },
		{ info_request, XDP_PASS, XPXE_CNT_PASS_DHCP6_TO_DAEMON },
		{ solicit_no_cid, XDP_PASS,
		  XPXE_CNT_PASS_DHCP6_TO_DAEMON }, /* the daemon counts it */
		{ request_4011, XDP_TX, XPXE_CNT_DHCP6_REPLY },
		{ relay_forward, XDP_PASS, XPXE_CNT_PASS_DHCP6_RELAY },
		{ advertise_from_other, XDP_PASS, XPXE_CNT_PASS_DHCP6_IGNORED },
		{ bad_checksum, XDP_PASS, XPXE_CNT_PASS_BAD_UDP_CSUM },
		{ udp_len_lies, XDP_PASS, XPXE_CNT_PASS_DHCP6_MALFORMED },
	};
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	__u32 out_len;

	(void)state;
	configure_mode(false, true);
	for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
		size_t len;

		memset(in, 0, sizeof(in));
		len = full[i].build(in);
		assert_int_equal(
		    xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, full[i].counter),
		    full[i].verdict);
		if (full[i].verdict == XDP_PASS) {
			assert_int_equal(out_len, len);
			assert_memory_equal(out, in, len);
		}
	}
	/* The path to the daemon has the MAC's limit, as v4's: past it, dropped and counted. */
	{
		struct xpxe_dhcp_config cfg;
		int fd = bpf_map__fd(skel->maps.dhcp_config);
		size_t len = plain(in);
		__u32 zero = 0;

		assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
		cfg.mac_interval_ns = 1000000000ull;
		cfg.mac_tolerance_ns = 0;
		cfg.clock_ns = 7000 * 1000000000ull;
		assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
		assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), NULL,
						 XPXE_CNT_PASS_DHCP6_TO_DAEMON),
				 XDP_PASS);
		assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), NULL,
						 XPXE_CNT_DROP_DHCP_RATE_MAC),
				 XDP_DROP);
	}
}

/* --- full mode: a bound machine's renewals, answered in XDP ------------------------------ */

#define BOUND_IAID 0x0a0b0c0d

/*
 * A message of TYPE from a plain client (dhclient -6, systemd-networkd): DUID, our server id
 * when WITH_SID, an IA_NA of IAID holding ADDR (NULL: none), an ORO (DNS).
 */
static void bound_msg(struct msg *m, uint8_t type, const uint8_t *duid, size_t duid_len,
		      uint32_t iaid, const struct in6_addr *addr, bool with_sid)
{
	static const uint8_t oro[] = { 0, 23, 0, 24 };
	uint8_t ia[12 + 4 + 24] = { iaid >> 24, iaid >> 16, iaid >> 8, iaid, 0,	 0,
				    7,		8,	    0,	       0,    11, 22 };

	m_start(m, type);
	m_opt(m, 1, duid, duid_len);
	if (with_sid)
		m_opt(m, 2, server_duid, sizeof(server_duid));
	if (type != 11) {
		if (addr) {
			ia[12] = 0, ia[13] = 5, ia[14] = 0, ia[15] = 24;
			memcpy(ia + 16, addr, 16);
			ia[32 + 3] = 100, ia[36 + 3] = 200;
		}
		m_opt(m, 3, ia, addr ? sizeof(ia) : 12);
	}
	m_opt(m, 6, oro, sizeof(oro));
}

/* The daemon's server over the test's maps, its bindings file in a folder of its own. */
static void bound_server(struct xpxe_dhcp6_server *srv, char *dir, size_t dir_size)
{
	struct in6_addr first, last;
	char path[300];

	memset(srv, 0, sizeof(*srv));
	srv->pkt_fd = srv->udp_fd = srv->config6_fd = -1;
	srv->clients_fd = bpf_map__fd(skel->maps.dhcp_clients);
	srv->config_fd = bpf_map__fd(skel->maps.dhcp_config);
	srv->replies_fd = bpf_map__fd(skel->maps.dhcp6_replies_full);
	srv->bindings_fd = bpf_map__fd(skel->maps.dhcp6_bindings);
	snprintf(srv->ifname, sizeof(srv->ifname), "test0");
	srv->lease_time = 3600;
	srv->offer_hold = 30;
	srv->answer_unknown = true;
	memcpy(srv->duid, server_duid, sizeof(server_duid));
	srv->duid_len = sizeof(server_duid);
	snprintf(dir, dir_size, "/tmp/xpxe-test-d6bound-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/leases6", dir);
	inet_pton(AF_INET6, "fd00:198:18::100", &first);
	inet_pton(AF_INET6, "fd00:198:18::1ff", &last);
	assert_int_equal(xpxe_leases6_init(&srv->leases, path, &first, &last), 0);
	srv->queued = calloc(XPXE_DHCP6_BATCH, sizeof(*srv->queued)); /* what take queues */
	assert_non_null(srv->queued);
}

/*
 * The message M from the client through xdp_pxe (PROG: its build), which must answer it
 * (XDP_TX, dhcp6_reply_bound) with exactly the bytes the daemon's server answers it with:
 * Reply, options, client id, IA_NA or Success, to the client's address and port, with a
 * right UDP checksum.
 */
static void xdp_answers_frame_as_daemon(struct xpxe_dhcp6_server *srv, struct bpf_program *prog,
					const struct msg *m, const uint8_t *in, size_t len)
{
	uint8_t out[FRAME_MAX + 512], s6[16], d6[16];
	struct xpxe_dhcp6_out o;
	__u32 out_len;

	assert_int_equal(prog_run_counted(skel, prog, true, in, len, out, sizeof(out), &out_len,
					  XPXE_CNT_DHCP6_REPLY_BOUND),
			 XDP_TX);
	assert_true(xpxe_dhcp6_server_answer(srv, frame_client_mac, m->b, m->len, &o));
	assert_true(o.buf[0] == 7 && o.len > 4);
	assert_int_equal(out_len, OFF_MSG + o.len);
	assert_memory_equal(out + OFF_MSG, o.buf, o.len);
	assert_int_equal(udp6_folded(out), 0xffff);
	assert_memory_equal(out, frame_client_mac, 6);
	assert_memory_equal(out + 6, frame_server_mac, 6);
	inet_pton(AF_INET6, SERVER_LL, s6);
	inet_pton(AF_INET6, CLIENT_LL, d6);
	assert_memory_equal(out + OFF_SRC, s6, 16);
	assert_memory_equal(out + OFF_DST, d6, 16);
	assert_int_equal(out[OFF_NEXT], 17);
	assert_int_equal(out[OFF_PLEN] << 8 | out[OFF_PLEN + 1], 8 + o.len);
	assert_int_equal(out[OFF_UDP] << 8 | out[OFF_UDP + 1], 547);
	assert_int_equal(out[OFF_UDP + 2] << 8 | out[OFF_UDP + 3], 546);
}

static void xdp_answers_as_daemon(struct xpxe_dhcp6_server *srv, struct bpf_program *prog,
				  const struct msg *m)
{
	uint8_t in[FRAME_MAX];
	size_t len;

	memset(in, 0, sizeof(in));
	len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, m);
	xdp_answers_frame_as_daemon(srv, prog, m, in, len);
}

/* The frame IN goes up untouched, counted in COUNTER. */
static void xdp_passes_frame(const uint8_t *in, size_t len, int counter)
{
	uint8_t out[FRAME_MAX + 512];
	__u32 out_len;

	assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len, counter),
			 XDP_PASS);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
}

#define DHCP6_BIG (OFF_IP6 + XPXE_DHCP6_PKT_MAX + 1)

/*
 * The daemon's answer to M in the frame IN, sent to our address: a Reply of our server id,
 * the client id and UseMulticast only (RFC 8415 18.4), counted use_multicast.
 */
static void daemon_use_multicast(struct xpxe_dhcp6_server *srv, const struct msg *m,
				 const uint8_t *in, size_t len)
{
	const struct xpxe_dhcp6_out *o;
	const uint8_t *opt;
	size_t olen;
	unsigned long long before = srv->cnt[XPXE_D6_USE_MULTICAST];

	xpxe_dhcp6_server_take(srv, in + OFF_IP6, len - OFF_IP6, frame_client_mac);
	assert_int_equal(srv->n_queued, 1);
	assert_int_equal(srv->cnt[XPXE_D6_USE_MULTICAST], before + 1);
	o = &srv->queued[0].out;
	assert_int_equal(o->buf[0], 7);
	assert_memory_equal(o->buf + 1, m->b + 1, 3);
	opt = find_opt(o->buf + 4, o->len - 4, 2, &olen);
	assert_non_null(opt);
	assert_int_equal(olen, srv->duid_len);
	assert_memory_equal(opt, srv->duid, olen);
	opt = find_opt(o->buf + 4, o->len - 4, 1, &olen);
	assert_non_null(opt);
	assert_int_equal(olen, sizeof(client_duid));
	assert_memory_equal(opt, client_duid, olen);
	opt = find_opt(o->buf + 4, o->len - 4, 13, &olen);
	assert_non_null(opt);
	assert_true(olen >= 2 && opt[0] == 0 && opt[1] == 5);
	assert_null(find_opt(o->buf + 4, o->len - 4, 3, &olen));
	assert_null(find_opt(o->buf + 4, o->len - 4, 59, &olen));
	srv->n_queued = 0;
	srv->batching = false;
}

/* M goes up to the daemon untouched (pass_dhcp6_to_daemon). */
static void xdp_passes(const struct msg *m)
{
	uint8_t in[FRAME_MAX], out[FRAME_MAX + 512];
	size_t len;
	__u32 out_len;

	memset(in, 0, sizeof(in));
	len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, m);
	assert_int_equal(xdp_run_counted(skel, in, len, out, sizeof(out), &out_len,
					 XPXE_CNT_PASS_DHCP6_TO_DAEMON),
			 XDP_PASS);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
}

/*
 * A machine the daemon bound (Request: into its file, then dhcp6_bindings) renews in XDP:
 * Renew, Rebind, Request, Confirm and Information-request get the daemon's own answer, byte
 * for byte, from both builds of xdp_pxe. What the daemon would answer otherwise goes up:
 * another DUID, another IAID, another address, a Solicit, a Release; after the Release the
 * binding is out of the map and the Renew goes up too.
 */
static void test_full_mode_bound_renewals(void **state)
{
	struct xpxe_dhcp6_server srv;
	struct xpxe_dhcp6_binding b;
	struct xpxe_dhcp6_out o;
	struct xpxe_mac_key key = { 0 };
	struct in6_addr ip, other;
	struct msg m;
	char dir[64], path[300];
	int fd = bpf_map__fd(skel->maps.dhcp6_bindings);
	uint64_t seen;

	(void)state;
	configure_mode(false, true);
	bound_server(&srv, dir, sizeof(dir));
	memcpy(key.addr, frame_client_mac, 6);

	/* Nothing bound yet: the Renew and the Request are the daemon's. */
	inet_pton(AF_INET6, "fd00:198:18::100", &ip);
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	xdp_passes(&m);
	bound_msg(&m, 3, client_duid, sizeof(client_duid), BOUND_IAID, NULL, true);
	xdp_passes(&m);
	/* The daemon binds it: on disk, then in the map. */
	assert_true(xpxe_dhcp6_server_answer(&srv, frame_client_mac, m.b, m.len, &o));
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &b), 0);
	assert_memory_equal(b.ip, &ip, 16);
	assert_int_equal(b.iaid, BOUND_IAID);
	assert_int_equal(b.t1, 1800);
	assert_int_equal(b.t2, 2880);
	assert_int_equal(b.preferred, 3600);
	assert_int_equal(b.valid, 3600);
	assert_int_equal(b.last_seen_ns, 0);

	/* Renew (then Rebind, Request) of its address: answered here, as the daemon would. */
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &b), 0);
	assert_true(b.last_seen_ns > 0); /* the daemon's hint: it still renews */
	seen = b.last_seen_ns;
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe_frags, &m);
	bound_msg(&m, 6, client_duid, sizeof(client_duid), BOUND_IAID, &ip, false);
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
	bound_msg(&m, 3, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
	/* An IA_NA without an address: the binding's. */
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, NULL, true);
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
	/* Boot clients' classes: HTTP boot keeps its class and URL, PXE loses PXEClient. */
	{
		static const uint8_t arch16[] = { 0, 16 }, arch7[] = { 0, 7 };

		bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
		m_opt(&m, 61, arch16, sizeof(arch16));
		m_vendor(&m, "HTTPClient:Arch:00016:UNDI:003000");
		xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
		bound_msg(&m, 6, client_duid, sizeof(client_duid), BOUND_IAID, &ip, false);
		m_opt(&m, 61, arch7, sizeof(arch7));
		m_vendor(&m, "PXEClient:Arch:00007:UNDI:003000");
		xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
	}
	/* Confirm of its address: Success. Information-request: the options. */
	bound_msg(&m, 4, client_duid, sizeof(client_duid), BOUND_IAID, &ip, false);
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
	bound_msg(&m, 11, client_duid, sizeof(client_duid), 0, NULL, false);
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
	/* The daemon's own answer (its commit) kept what XDP saw of the renewals. */
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &b), 0);
	assert_true(b.last_seen_ns >= seen);

	/* Not its binding: another DUID, another IAID, another address; a Rebind naming a
	 * server, a Confirm of no address, a Solicit. */
	bound_msg(&m, 5, other_duid, sizeof(other_duid), BOUND_IAID, &ip, true);
	xdp_passes(&m);
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID + 1, &ip, true);
	xdp_passes(&m);
	inet_pton(AF_INET6, "fd00:198:18::150", &other);
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &other, true);
	xdp_passes(&m);
	bound_msg(&m, 6, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	xdp_passes(&m);
	bound_msg(&m, 4, client_duid, sizeof(client_duid), BOUND_IAID, NULL, false);
	xdp_passes(&m);
	bound_msg(&m, 1, client_duid, sizeof(client_duid), BOUND_IAID, NULL, false);
	xdp_passes(&m);
	/* A Renew naming another server's DUID: the daemon's (it stays silent). */
	m_start(&m, 5);
	m_opt(&m, 1, client_duid, sizeof(client_duid));
	m_opt(&m, 2, other_duid, sizeof(other_duid));
	xdp_passes(&m);

	/* Release: through the daemon, and out of the map; the next Renew goes up. */
	bound_msg(&m, 8, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	xdp_passes(&m);
	assert_true(xpxe_dhcp6_server_answer(&srv, frame_client_mac, m.b, m.len, &o));
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &b), -ENOENT);
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	xdp_passes(&m);

	/* A restart's sync: the table's bindings in, nothing else. */
	bound_msg(&m, 3, client_duid, sizeof(client_duid), BOUND_IAID, NULL, true);
	assert_true(xpxe_dhcp6_server_answer(&srv, frame_client_mac, m.b, m.len, &o));
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &b), 0);
	key.addr[5] ^= 1;
	assert_int_equal(bpf_map_update_elem(fd, &key, &b, BPF_ANY), 0);
	assert_int_equal(xpxe_dhcp6_server_sync_map(&srv), 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &b), -ENOENT);
	key.addr[5] ^= 1;
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &b), 0);
	assert_int_equal(bpf_map_delete_elem(fd, &key), 0);

	snprintf(path, sizeof(path), "%s/leases6", dir);
	unlink(path);
	rmdir(dir);
	xpxe_leases6_free(&srv.leases);
	free(srv.queued);
}

/*
 * xdp_dhcp6_bound answers only what the daemon's receive path takes, and as the daemon does
 * (review of stop 35): an ORO whose 59 comes after its 32nd code, two options 61 (the first
 * names the boot), a Renew unicast to our address or to ff02::1:2's group MAC (answered
 * from our link-local address, as the daemon's socket answers a link-local client); a
 * source outside fe80::/10 or a destination MAC of another host goes up (the daemon counts
 * it bad_frame and drops it). A tail call that fails (its prog array emptied) is counted
 * apart, and the frame goes up.
 */
static void test_full_mode_bound_as_daemon_takes(void **state)
{
	static const uint8_t arch7[] = { 0, 7 }, arch16[] = { 0, 16 }, oro59[] = { 0, 59 };
	static const uint8_t group_mac[6] = { 0x33, 0x33, 0, 1, 0, 2 };
	static const uint8_t ia12[12] = { 0x0a, 0x0b, 0x0c, 0x0d }; /* an IA_NA: IAID, T1, T2 */
	static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	struct xpxe_dhcp6_server srv;
	struct xpxe_dhcp6_out o;
	struct xpxe_mac_key key = { 0 };
	struct in6_addr ip;
	struct msg m;
	uint8_t in[FRAME_MAX];
	char dir[64], path[300];
	size_t len;
	__u32 zero = 0;

	(void)state;
	configure_mode(false, true);
	bound_server(&srv, dir, sizeof(dir));
	memcpy(key.addr, frame_client_mac, 6);
	inet_pton(AF_INET6, "fd00:198:18::100", &ip);
	bound_msg(&m, 3, client_duid, sizeof(client_duid), BOUND_IAID, NULL, true);
	assert_true(xpxe_dhcp6_server_answer(&srv, frame_client_mac, m.b, m.len, &o));

	/* 59 as the 40th code of a second ORO, with an arch: the x64 class's options. */
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	m_long_oro(&m);
	m_opt(&m, 61, arch7, sizeof(arch7));
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);
	/* Two options 61: HTTP boot x64, then x64 UEFI PXE: the first's. */
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	m_opt(&m, 6, oro59, sizeof(oro59));
	m_opt(&m, 61, arch16, sizeof(arch16));
	m_opt(&m, 61, arch7, sizeof(arch7));
	xdp_answers_as_daemon(&srv, skel->progs.xdp_pxe, &m);

	/* RFC 8415 16, 18.4 (we send no Server Unicast option): to our global address, up to
	 * the daemon, which answers a Renew UseMulticast and drops a Rebind, a Confirm, a
	 * Solicit or an Information-request. */
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	memset(in, 0, sizeof(in));
	len = frame6(in, CLIENT_LL, SERVER_ADDR, 546, 547, &m);
	xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_TO_DAEMON);
	daemon_use_multicast(&srv, &m, in, len);
	{
		static const uint8_t types[] = { 6, 4, 1, 11 };

		for (size_t i = 0; i < sizeof(types); i++) {
			bound_msg(&m, types[i], client_duid, sizeof(client_duid), BOUND_IAID, &ip,
				  false); /* an Information-request: no IA */
			len = frame6(in, CLIENT_LL, SERVER_ADDR, 546, 547, &m);
			xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_TO_DAEMON);
			xpxe_dhcp6_server_take(&srv, in + OFF_IP6, len - OFF_IP6, frame_client_mac);
			assert_int_equal(srv.cnt[XPXE_D6_UNICAST], i + 1);
			assert_int_equal(srv.n_queued, 0);
			srv.batching = false;
		}
	}
	/* 16.12: the bound machine's Information-request with an IA_NA, to ff02::1:2: up, and
	 * the daemon drops it (info_request_ia). */
	bound_msg(&m, 11, client_duid, sizeof(client_duid), BOUND_IAID, NULL, false);
	m_opt(&m, 3, ia12, sizeof(ia12));
	len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
	xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_TO_DAEMON);
	xpxe_dhcp6_server_take(&srv, in + OFF_IP6, len - OFF_IP6, frame_client_mac);
	assert_int_equal(srv.malformed[XPXE_DHCP6_INFO_REQ_IA], 1);
	assert_int_equal(srv.n_queued, 0);
	srv.batching = false;
	bound_msg(&m, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
	/* To ff02::1:2 on its group MAC. */
	len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
	memcpy(in, group_mac, 6);
	xdp_answers_frame_as_daemon(&srv, skel->progs.xdp_pxe, &m, in, len);

	/* From a global source: up; the daemon's receive path refuses it (bad_frame). */
	len = frame6(in, CLIENT_ADDR, ALL_SERVERS, 546, 547, &m);
	xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_BAD_FRAME);
	xpxe_dhcp6_server_take(&srv, in + OFF_IP6, len - OFF_IP6, frame_client_mac);
	assert_int_equal(srv.cnt[XPXE_D6_BAD_FRAME], 1);
	assert_int_equal(srv.n_queued, 0);
	srv.batching = false;
	/* To another host's MAC (the kernel's PACKET_OTHERHOST: the daemon's bad_frame). */
	len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
	memcpy(in, other_mac, 6);
	xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_BAD_FRAME);
	/* An IPv6 payload length past the frame's end (the UDP length within it). */
	len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
	in[OFF_PLEN] = 0x04;
	xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_BAD_FRAME);
	/* An IPv6 packet longer than the daemon's buffer (trailing bytes past the payload): the
	 * daemon reads it truncated and counts it bad_frame; XDP answers none either. */
	{
		uint8_t big[DHCP6_BIG], big_out[DHCP6_BIG + 512];
		size_t n = frame6(big, CLIENT_LL, ALL_SERVERS, 546, 547, &m);

		memset(big + n, 0, sizeof(big) - n);
		xdp_passes_frame(big, sizeof(big), XPXE_CNT_PASS_DHCP6_BAD_FRAME);
		/* one byte shorter: the daemon's whole buffer; XDP answers it */
		assert_int_equal(xdp_run_counted(skel, big, OFF_IP6 + XPXE_DHCP6_PKT_MAX, big_out,
						 sizeof(big_out), NULL, XPXE_CNT_DHCP6_REPLY_BOUND),
				 XDP_TX);
	}
	/* A Renew padded past the longest datagram either parses (an unknown option): XDP
	 * counts it malformed, and the daemon drops it (bad_frame), so padding cannot take a
	 * message around XDP's rate limits to the daemon. */
	{
		static const uint8_t pad[XPXE_DHCP6_UDP_MAX] = { 0 };
		struct msg padded;
		unsigned long long bad = srv.cnt[XPXE_D6_BAD_FRAME];

		bound_msg(&padded, 5, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
		m_opt(&padded, 0xfff0, pad, XPXE_DHCP6_UDP_MAX - 8 - 4 - padded.len + 1);
		assert_int_equal(padded.len + 8, XPXE_DHCP6_UDP_MAX + 1);
		len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, &padded);
		xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_MALFORMED);
		xpxe_dhcp6_server_take(&srv, in + OFF_IP6, len - OFF_IP6, frame_client_mac);
		assert_int_equal(srv.cnt[XPXE_D6_BAD_FRAME], bad + 1);
		assert_int_equal(srv.n_queued, 0);
		srv.batching = false;
	}
	/* A Solicit, a Release from a global source: the daemon's bad_frame, whatever the type
	 * (the tail call's path is not the only one that checks). */
	{
		struct msg bad;

		bound_msg(&bad, 1, client_duid, sizeof(client_duid), BOUND_IAID, NULL, false);
		len = frame6(in, CLIENT_ADDR, ALL_SERVERS, 546, 547, &bad);
		xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_BAD_FRAME);
		bound_msg(&bad, 8, client_duid, sizeof(client_duid), BOUND_IAID, &ip, true);
		len = frame6(in, CLIENT_ADDR, ALL_SERVERS, 546, 547, &bad);
		xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_BAD_FRAME);
	}

	/* The tail call's slot emptied (a --keep-attached exit): counted apart, up it goes. */
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(skel->maps.dhcp6_bound_prog), &zero), 0);
	len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
	xdp_passes_frame(in, len, XPXE_CNT_DHCP6_TAIL_CALL_FAILED);
	/* A bad frame stays a bad frame with the slot empty. */
	len = frame6(in, CLIENT_ADDR, ALL_SERVERS, 546, 547, &m);
	xdp_passes_frame(in, len, XPXE_CNT_PASS_DHCP6_BAD_FRAME);
	len = frame6(in, CLIENT_LL, ALL_SERVERS, 546, 547, &m);
	assert_int_equal(xpxe_dataplane_set_tail_calls(skel, false), 0);
	xdp_answers_frame_as_daemon(&srv, skel->progs.xdp_pxe, &m, in, len);

	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(skel->maps.dhcp6_bindings), &key), 0);
	snprintf(path, sizeof(path), "%s/leases6", dir);
	unlink(path);
	rmdir(dir);
	xpxe_leases6_free(&srv.leases);
	free(srv.queued);
}

/* --- the daemon's side -------------------------------------------------------------- */

static void test_urls(void **state)
{
	struct in6_addr a;
	char out[256];

	(void)state;
	inet_pton(AF_INET6, "fd00::1", &a);
	assert_int_equal(xpxe_dhcp6_url(out, sizeof(out), "snponly.efi", &a), 0);
	assert_string_equal(out, "tftp://[fd00::1]/snponly.efi");
	assert_int_equal(xpxe_dhcp6_url(out, sizeof(out), "http://198.18.0.1:8080/boot.ipxe", &a),
			 0);
	assert_string_equal(out, "http://[fd00::1]:8080/boot.ipxe");
	assert_int_equal(xpxe_dhcp6_url(out, sizeof(out), "https://boot.example/a/b.efi", &a), 0);
	assert_string_equal(out, "https://[fd00::1]/a/b.efi");
	assert_int_equal(xpxe_dhcp6_url(out, sizeof(out), "http://[fd00::9]:81/x", &a), 0);
	assert_string_equal(out, "http://[fd00::1]:81/x");
	assert_int_equal(xpxe_dhcp6_url(out, 16, "snponly.efi", &a), -ENAMETOOLONG);
}

/* Made once, then read back the same on every start: RFC 8415 wants it stable. */
static void test_server_duid_persists(void **state)
{
	static const unsigned char mac[6] = { 2, 0, 0, 0, 0, 1 };
	char dir[] = "/tmp/xpxe-duid-XXXXXX", path[64];
	__u8 a[XPXE_DHCP6_SERVER_DUID_MAX], b[XPXE_DHCP6_SERVER_DUID_MAX];
	unsigned int alen = 0, blen = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dhcp6-server.duid", dir);
	assert_int_equal(xpxe_dhcp6_server_duid(path, mac, a, &alen), 0);
	assert_int_equal(alen, 14);
	assert_int_equal(a[0] << 8 | a[1], 1); /* DUID-LLT */
	assert_int_equal(a[2] << 8 | a[3], 1); /* Ethernet */
	assert_memory_equal(a + 8, mac, 6);
	/* Another MAC later (a NIC swapped): the DUID stays the one made first. */
	assert_int_equal(
	    xpxe_dhcp6_server_duid(path, (const unsigned char *)"\x02\0\0\0\0\x02", b, &blen), 0);
	assert_int_equal(blen, alen);
	assert_memory_equal(a, b, alen);
	/* A damaged file is an error, not a new identity. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("zz\n", f);
	fclose(f);
	assert_int_equal(xpxe_dhcp6_server_duid(path, mac, b, &blen), -EINVAL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 8];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tests[n++] = (struct CMUnitTest){ .name = cases[i].name,
						  .test_func = run_case,
						  .initial_state = (void *)&cases[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_rate_limited);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_proxy_unicast);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_repeat_event);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_full_mode_to_daemon);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_full_mode_bound_renewals);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_full_mode_bound_as_daemon_takes);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_urls);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_server_duid_persists);
	return _cmocka_run_group_tests("xdp_dhcp6", tests, n, setup, teardown);
}
