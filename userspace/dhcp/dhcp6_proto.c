// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* DHCPv6 (RFC 8415) messages of full mode's server: parse what clients send, build answers. */
#include <arpa/inet.h>
#include <string.h>

#include "dhcp/dhcp6_proto.h"
#include "xpxe_dhcp6.h"

const char *const xpxe_dhcp6_verdict_names[XPXE_DHCP6_VERDICT_MAX] = {
	[XPXE_DHCP6_OK] = "ok",
	[XPXE_DHCP6_TOO_SHORT] = "too_short",
	[XPXE_DHCP6_TRUNCATED] = "truncated",
	[XPXE_DHCP6_BAD_OPTION] = "bad_option",
	[XPXE_DHCP6_NOT_CLIENT] = "not_client",
	[XPXE_DHCP6_MISSING_IDS] = "missing_ids",
	[XPXE_DHCP6_INFO_REQ_IA] = "info_request_ia",
	[XPXE_DHCP6_BAD_RELAY] = "bad_relay",
};

#define IA_NA_HDR  12 /* IAID, T1, T2 */
#define IAADDR_LEN 24 /* address, preferred and valid lifetimes */
#define MAX_OPTS   256
#define RELAY_HDR  34 /* type, hop count, link address, peer address */

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An IA_NA's data (LEN bytes at V): its header and the first IA Address inside. */
static enum xpxe_dhcp6_verdict take_ia(struct xpxe_dhcp6_msg *m, const uint8_t *v, size_t len)
{
	size_t off = IA_NA_HDR;

	if (len < IA_NA_HDR)
		return XPXE_DHCP6_BAD_OPTION;
	m->n_ia_na++;
	if (m->has_ia)
		return XPXE_DHCP6_OK; /* the first IA only: one address per machine */
	m->has_ia = true;
	m->ia.iaid = get32(v);
	m->ia.t1 = get32(v + 4);
	m->ia.t2 = get32(v + 8);
	for (int i = 0; i < MAX_OPTS && off < len; i++) {
		uint32_t code, olen;

		if (len - off < 4)
			return XPXE_DHCP6_TRUNCATED;
		code = get16(v + off);
		olen = get16(v + off + 2);
		if (olen > len - off - 4)
			return XPXE_DHCP6_TRUNCATED;
		if (code == XPXE_DHCP6_OPT_IAADDR) {
			if (olen < IAADDR_LEN)
				return XPXE_DHCP6_BAD_OPTION;
			if (!m->ia.has_addr) {
				memcpy(&m->ia.addr, v + off + 4, 16);
				m->ia.has_addr = true;
			}
		}
		off += 4 + olen;
	}
	return XPXE_DHCP6_OK;
}

/* "PXEClient:Arch:00007:..." / "HTTPClient:Arch:00016:...": the vendor and the decimal arch. */
static void take_vendor(struct xpxe_dhcp6_msg *m, const uint8_t *v, size_t len)
{
	size_t at, n;
	int arch = 0;

	if (len < 6)
		return;
	n = get16(v + 4);
	if (n > len - 6)
		n = len - 6;
	v += 6;
	if (n >= 9 && !memcmp(v, "PXEClient", 9))
		m->vendor = 1, at = 15;
	else if (n >= 10 && !memcmp(v, "HTTPClient", 10))
		m->vendor = 2, at = 16;
	else
		return;
	if (n < at + 5)
		return;
	for (int i = 0; i < 5; i++) {
		if (v[at + i] < '0' || v[at + i] > '9')
			return;
		arch = arch * 10 + (v[at + i] - '0');
	}
	if (arch <= 0xffff)
		m->vendor_arch = arch;
}

static enum xpxe_dhcp6_verdict take_option(struct xpxe_dhcp6_msg *m, uint32_t code,
					   const uint8_t *v, size_t len)
{
	if (code == XPXE_DHCP6_OPT_IA_NA || code == XPXE_DHCP6_OPT_IA_TA ||
	    code == XPXE_DHCP6_OPT_IA_PD)
		m->any_ia = true;
	switch (code) {
	case XPXE_DHCP6_OPT_CLIENTID:
		if (len < 2 || len > XPXE_DHCP6_DUID_LEN_MAX)
			return XPXE_DHCP6_BAD_OPTION;
		if (!m->duid_len) {
			memcpy(m->duid, v, len);
			m->duid_len = len;
		}
		break;
	case XPXE_DHCP6_OPT_SERVERID:
		if (len < 2 || len > XPXE_DHCP6_DUID_LEN_MAX)
			return XPXE_DHCP6_BAD_OPTION;
		if (!m->sid_len) {
			m->sid = v;
			m->sid_len = len;
		}
		break;
	case XPXE_DHCP6_OPT_IA_NA:
		return take_ia(m, v, len);
	case XPXE_DHCP6_OPT_ORO:
		for (size_t i = 0; i + 2 <= len; i += 2)
			if (get16(v + i) == XPXE_DHCP6_OPT_BOOTFILE_URL)
				m->wants_url = true;
		break;
	case XPXE_DHCP6_OPT_RAPID_COMMIT:
		m->rapid_commit = true;
		break;
	case XPXE_DHCP6_OPT_USER_CLASS:
		/* A list of (2-byte length, data); iPXE sends one, "iPXE" (as bpf/dhcp6.h). */
		if (len >= 6 && get16(v) == 4 && !memcmp(v + 2, "iPXE", 4))
			m->is_ipxe = true;
		break;
	case XPXE_DHCP6_OPT_VENDOR_CLASS:
		take_vendor(m, v, len);
		break;
	case XPXE_DHCP6_OPT_ARCH:
		if (len >= 2 && m->arch < 0)
			m->arch = (int)get16(v);
		break;
	}
	return XPXE_DHCP6_OK;
}

/*
 * The option at *OFF, the I-th of the LEN-byte message at BUF: its CODE, its data (*V, *OLEN
 * bytes), and *OFF past it; TRUNCATED when it runs past the end or the message has too many.
 */
static enum xpxe_dhcp6_verdict next_option(const uint8_t *buf, size_t len, size_t *off, int i,
					   uint32_t *code, const uint8_t **v, uint32_t *olen)
{
	if (i == MAX_OPTS || len - *off < 4)
		return XPXE_DHCP6_TRUNCATED;
	*code = get16(buf + *off);
	*olen = get16(buf + *off + 2);
	if (*olen > len - *off - 4)
		return XPXE_DHCP6_TRUNCATED;
	*v = buf + *off + 4;
	*off += 4 + *olen;
	return XPXE_DHCP6_OK;
}

/* RFC 8415 16: which ids each client message carries (1: must, 0: must not, -1: may). */
static enum xpxe_dhcp6_verdict check_ids(const struct xpxe_dhcp6_msg *m)
{
	int cid = 1, sid;

	switch (m->type) {
	case XPXE_DHCP6_SOLICIT:
	case XPXE_DHCP6_CONFIRM:
	case XPXE_DHCP6_REBIND:
		sid = 0;
		break;
	case XPXE_DHCP6_REQUEST:
	case XPXE_DHCP6_RENEW:
	case XPXE_DHCP6_RELEASE:
	case XPXE_DHCP6_DECLINE:
		sid = 1;
		break;
	case XPXE_DHCP6_INFORMATION_REQUEST:
		cid = -1, sid = -1;
		break;
	default:
		return XPXE_DHCP6_NOT_CLIENT;
	}
	if ((cid == 1 && !m->duid_len) || (sid == 1 && !m->sid_len) || (sid == 0 && m->sid_len))
		return XPXE_DHCP6_MISSING_IDS;
	/* 16.12: an Information-request asks for no address; one with an IA is discarded. */
	if (m->type == XPXE_DHCP6_INFORMATION_REQUEST && m->any_ia)
		return XPXE_DHCP6_INFO_REQ_IA;
	return XPXE_DHCP6_OK;
}

enum xpxe_dhcp6_verdict xpxe_dhcp6_parse(const uint8_t *buf, size_t len, struct xpxe_dhcp6_msg *m)
{
	size_t off = 4;

	memset(m, 0, sizeof(*m));
	m->vendor_arch = -1;
	m->arch = -1;
	if (len < 4)
		return XPXE_DHCP6_TOO_SHORT;
	m->type = buf[0];
	memcpy(m->xid, buf + 1, 3);
	if (m->type != XPXE_DHCP6_SOLICIT && m->type != XPXE_DHCP6_REQUEST &&
	    m->type != XPXE_DHCP6_CONFIRM && m->type != XPXE_DHCP6_RENEW &&
	    m->type != XPXE_DHCP6_REBIND && m->type != XPXE_DHCP6_RELEASE &&
	    m->type != XPXE_DHCP6_DECLINE && m->type != XPXE_DHCP6_INFORMATION_REQUEST)
		return XPXE_DHCP6_NOT_CLIENT;
	for (int i = 0; off < len; i++) {
		uint32_t code, olen;
		const uint8_t *v;
		enum xpxe_dhcp6_verdict verdict = next_option(buf, len, &off, i, &code, &v, &olen);

		if (!verdict)
			verdict = take_option(m, code, v, olen);
		if (verdict)
			return verdict;
	}
	return check_ids(m);
}

enum xpxe_dhcp6_verdict xpxe_dhcp6_parse_relay(const uint8_t *buf, size_t len,
					       struct xpxe_dhcp6_relay *r)
{
	size_t off = RELAY_HDR;

	memset(r, 0, sizeof(*r));
	if (len < RELAY_HDR)
		return XPXE_DHCP6_TOO_SHORT;
	if (buf[0] != XPXE_DHCP6_RELAY_FORW)
		return XPXE_DHCP6_NOT_CLIENT;
	r->hop_count = buf[1];
	memcpy(&r->link, buf + 2, 16);
	memcpy(&r->peer, buf + 18, 16);
	for (int i = 0; off < len; i++) {
		uint32_t code, olen;
		const uint8_t *v;

		if (next_option(buf, len, &off, i, &code, &v, &olen))
			return XPXE_DHCP6_TRUNCATED;
		if (code == XPXE_DHCP6_OPT_RELAY_MSG && !r->msg) {
			r->msg = v;
			r->msg_len = olen;
		} else if (code == XPXE_DHCP6_OPT_INTERFACE_ID && !r->interface_id) {
			r->interface_id = v;
			r->interface_id_len = olen;
		} else if (code == XPXE_DHCP6_OPT_RELAY_PORT && !r->relay_port) {
			if (olen != 2)
				return XPXE_DHCP6_BAD_RELAY;
			r->relay_port = v;
		} else if (code == XPXE_DHCP6_OPT_CLIENT_LLADDR && olen == 8 && get16(v) == 1) {
			memcpy(r->mac, v + 2, 6);
			r->has_mac = true;
		}
	}
	/* An empty Relay Message has no message type to answer. */
	return r->msg && r->msg_len ? XPXE_DHCP6_OK : XPXE_DHCP6_BAD_RELAY;
}

bool xpxe_dhcp6_duid_mac(const uint8_t *duid, size_t len, uint8_t mac[6])
{
	/* DUID-LLT: type 1, hardware type, time, address; DUID-LL: type 3, hardware type, address.
	 */
	if (len == 14 && get16(duid) == 1 && get16(duid + 2) == 1)
		memcpy(mac, duid + 8, 6);
	else if (len == 10 && get16(duid) == 3 && get16(duid + 2) == 1)
		memcpy(mac, duid + 4, 6);
	else
		return false;
	return true;
}

/* Option 93's table (PROTOCOL.md), as bpf/dhcp.h's arch_class. */
static enum xpxe_boot_class arch_class(int arch)
{
	switch (arch) {
	case 0:
		return XPXE_BOOT_BIOS;
	case 6:
		return XPXE_BOOT_UEFI_IA32;
	case 7:
	case 9:
		return XPXE_BOOT_UEFI_X64;
	case 10:
		return XPXE_BOOT_UEFI_ARM32;
	case 11:
		return XPXE_BOOT_UEFI_ARM64;
	case 15:
		return XPXE_BOOT_HTTP_IA32;
	case 16:
		return XPXE_BOOT_HTTP_X64;
	case 18:
		return XPXE_BOOT_HTTP_ARM32;
	case 19:
		return XPXE_BOOT_HTTP_ARM64;
	case 22:
		return XPXE_BOOT_UBOOT_ARM64;
	case 41:
		return XPXE_BOOT_RPI;
	}
	return XPXE_BOOT_UNKNOWN_ARCH;
}

enum xpxe_boot_class xpxe_dhcp6_boot_class(const struct xpxe_dhcp6_msg *m)
{
	enum xpxe_boot_class c;

	if (m->is_ipxe)
		return XPXE_BOOT_IPXE;
	if (!m->vendor)
		/* A client asking for option 59 with its architecture: a PXE client of it. */
		return m->wants_url && m->arch >= 0 ? arch_class(m->arch) : XPXE_BOOT_PLAIN;
	c = arch_class(m->arch >= 0 ? m->arch : m->vendor_arch);
	/* An HTTPClient takes only an HTTP boot answer. */
	if (m->vendor == 2 && (c < XPXE_BOOT_HTTP_IA32 || c > XPXE_BOOT_HTTP_ARM64))
		return XPXE_BOOT_UNKNOWN_ARCH;
	return c;
}

void xpxe_dhcp6_out_start(struct xpxe_dhcp6_out *o, uint8_t type, const uint8_t xid[3])
{
	o->buf[0] = type;
	memcpy(o->buf + 1, xid, 3);
	o->len = 4;
	o->overflow = false;
}

void xpxe_dhcp6_out_raw(struct xpxe_dhcp6_out *o, const void *data, size_t len)
{
	if (o->overflow || len > sizeof(o->buf) - o->len) {
		o->overflow = true;
		return;
	}
	if (len) /* an empty option (rapid commit) may come with no data at all */
		memcpy(o->buf + o->len, data, len);
	o->len += len;
}

/* Vendor class option (16) data naming PXEClient, as EDK2 reads it: {343, length, class}. */
static bool is_pxe_vendor_class(const uint8_t *data, size_t len)
{
	return len >= 6 + 9 &&
	       ((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | data[2] << 8 | data[3]) ==
		   XPXE_DHCP6_ENTERPRISE_PXE &&
	       !memcmp(data + 6, "PXEClient", 9);
}

void xpxe_dhcp6_out_boot_with_address(struct xpxe_dhcp6_out *o, const uint8_t *opts, size_t len)
{
	size_t off = 0;

	/* Our own blob: a lying length means a bug; then it goes out as it is. */
	for (size_t p = 0; p < len;) {
		if (len - p < 4 || len - p - 4 < (size_t)(opts[p + 2] << 8 | opts[p + 3])) {
			xpxe_dhcp6_out_raw(o, opts, len);
			return;
		}
		p += 4 + (opts[p + 2] << 8 | opts[p + 3]);
	}
	while (off < len) {
		size_t n = 4 + (opts[off + 2] << 8 | opts[off + 3]);

		if ((opts[off] << 8 | opts[off + 1]) != XPXE_DHCP6_OPT_VENDOR_CLASS ||
		    !is_pxe_vendor_class(opts + off + 4, n - 4))
			xpxe_dhcp6_out_raw(o, opts + off, n);
		off += n;
	}
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

void xpxe_dhcp6_out_opt(struct xpxe_dhcp6_out *o, unsigned int code, const void *data, size_t len)
{
	uint8_t hdr[4];

	if (len > 0xffff) {
		o->overflow = true;
		return;
	}
	put16(hdr, code);
	put16(hdr + 2, len);
	xpxe_dhcp6_out_raw(o, hdr, 4);
	xpxe_dhcp6_out_raw(o, data, len);
}

/* A Status Code option's bytes into BUF (room for 2 + 64); its length. */
static size_t status_bytes(uint8_t *buf, enum xpxe_dhcp6_status code, const char *text)
{
	size_t n = text ? strnlen(text, 64) : 0;

	put16(buf, code);
	memcpy(buf + 2, text ? text : "", n);
	return 2 + n;
}

void xpxe_dhcp6_out_status(struct xpxe_dhcp6_out *o, enum xpxe_dhcp6_status code, const char *text)
{
	uint8_t buf[2 + 64];

	xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_STATUS, buf, status_bytes(buf, code, text));
}

void xpxe_dhcp6_out_ia(struct xpxe_dhcp6_out *o, uint32_t iaid, uint32_t t1, uint32_t t2,
		       const struct in6_addr *addr, uint32_t preferred, uint32_t valid,
		       enum xpxe_dhcp6_status status, const char *text)
{
	uint8_t ia[IA_NA_HDR + 4 + IAADDR_LEN + 4 + 2 + 64];
	size_t n = IA_NA_HDR;

	put32(ia, iaid);
	put32(ia + 4, t1);
	put32(ia + 8, t2);
	if (addr) {
		put16(ia + n, XPXE_DHCP6_OPT_IAADDR);
		put16(ia + n + 2, IAADDR_LEN);
		memcpy(ia + n + 4, addr, 16);
		put32(ia + n + 20, preferred);
		put32(ia + n + 24, valid);
		n += 4 + IAADDR_LEN;
	}
	if (status != XPXE_DHCP6_SUCCESS) {
		size_t s = status_bytes(ia + n + 4, status, text);

		put16(ia + n, XPXE_DHCP6_OPT_STATUS);
		put16(ia + n + 2, s);
		n += 4 + s;
	}
	xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_IA_NA, ia, n);
}

void xpxe_dhcp6_out_ia_stale(struct xpxe_dhcp6_out *o, uint32_t iaid, uint32_t t1, uint32_t t2,
			     const struct in6_addr *addr, uint32_t lifetime,
			     const struct in6_addr *stale)
{
	uint8_t ia[IA_NA_HDR + 2 * (4 + IAADDR_LEN)] = { 0 };
	const struct in6_addr *addrs[2] = { addr, stale };
	size_t n = IA_NA_HDR;

	put32(ia, iaid);
	put32(ia + 4, t1);
	put32(ia + 8, t2);
	for (int i = 0; i < 2; i++) {
		uint32_t life = i ? 0 : lifetime;

		put16(ia + n, XPXE_DHCP6_OPT_IAADDR);
		put16(ia + n + 2, IAADDR_LEN);
		memcpy(ia + n + 4, addrs[i], 16);
		put32(ia + n + 20, life);
		put32(ia + n + 24, life);
		n += 4 + IAADDR_LEN;
	}
	xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_IA_NA, ia, n);
}

void xpxe_dhcp6_out_relay(struct xpxe_dhcp6_out *o, const struct xpxe_dhcp6_relay *r,
			  const struct xpxe_dhcp6_out *inner)
{
	o->buf[0] = XPXE_DHCP6_RELAY_REPL;
	o->buf[1] = r->hop_count;
	memcpy(o->buf + 2, &r->link, 16);
	memcpy(o->buf + 18, &r->peer, 16);
	o->len = RELAY_HDR;
	o->overflow = inner->overflow;
	if (r->interface_id)
		xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_INTERFACE_ID, r->interface_id,
				   r->interface_id_len);
	/* Echoed at the relay's own layer: its Downstream Source Port says where it forwards. */
	if (r->relay_port)
		xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_RELAY_PORT, r->relay_port, 2);
	xpxe_dhcp6_out_opt(o, XPXE_DHCP6_OPT_RELAY_MSG, inner->buf, inner->len);
}
