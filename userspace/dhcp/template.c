// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reply templates: whole frames built once per (profile, reply, class) at
 * load time, so the XDP program only copies one and patches the per-client
 * fields (see struct xpxe_dhcp_template).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dhcp/template.h"

static bool is_uefi(enum xpxe_boot_class boot)
{
	return boot == XPXE_BOOT_UEFI_IA32 || boot == XPXE_BOOT_UEFI_X64 ||
	       boot == XPXE_BOOT_UEFI_ARM32 || boot == XPXE_BOOT_UEFI_ARM64;
}

static bool is_http(enum xpxe_boot_class boot)
{
	return boot == XPXE_BOOT_HTTP_IA32 || boot == XPXE_BOOT_HTTP_X64 ||
	       boot == XPXE_BOOT_HTTP_ARM32 || boot == XPXE_BOOT_HTTP_ARM64;
}

enum xpxe_proxy_strategy xpxe_dhcp_strategy_for(const struct xpxe_dhcp_profile *profile,
						enum xpxe_boot_class boot)
{
	/*
	 * UEFI HTTP boot has no boot server discovery (EDK2's HttpBootDxe never talks to
	 * 4011): it takes the URL from the offer or boots nothing, whatever the profile says.
	 */
	if (is_http(boot))
		return XPXE_STRATEGY_BYPASS;
	if (profile->strategy != XPXE_STRATEGY_AUTO)
		return profile->strategy;
	return is_uefi(boot) ? XPXE_STRATEGY_4011 : XPXE_STRATEGY_BYPASS;
}

/* Appends options to a DHCP message under construction. */
struct opt_writer {
	unsigned char *buf;
	size_t pos, cap;
	bool overflow;
};

static void put_opt(struct opt_writer *w, unsigned char code, const void *value, size_t len)
{
	if (w->overflow || len > 255 || w->pos + 2 + len > w->cap) {
		w->overflow = true;
		return;
	}
	w->buf[w->pos++] = code;
	w->buf[w->pos++] = (unsigned char)len;
	memcpy(w->buf + w->pos, value, len);
	w->pos += len;
}

static void put_opt_u32(struct opt_writer *w, unsigned char code, uint32_t host_value)
{
	uint32_t be = htonl(host_value);

	put_opt(w, code, &be, 4);
}

static void put_opt_addr(struct opt_writer *w, unsigned char code, struct in_addr addr)
{
	put_opt(w, code, &addr.s_addr, 4);
}

static uint32_t sum16(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

int xpxe_dhcp_template_build(struct xpxe_dhcp_template *t, enum xpxe_dhcp_reply reply,
			     enum xpxe_boot_class boot, const struct xpxe_dhcp_profile *profile,
			     const struct xpxe_dhcp_net *net)
{
	unsigned char *f = t->frame, *bootp = t->frame + XPXE_OFF_BOOTP;
	const char *file = profile->boot_file[boot][0] ? profile->boot_file[boot] : NULL;
	bool proxy = net->mode == XPXE_MODE_PROXY;
	bool full_lease = !proxy && (reply == XPXE_REPLY_OFFER || reply == XPXE_REPLY_ACK);
	bool with_file, with_pxe_opts;
	struct opt_writer w;
	char server_name[INET_ADDRSTRLEN];
	unsigned char type;
	size_t msg_len, udp_len;
	uint32_t sum;

	memset(t, 0, sizeof(*t));
	if (reply != XPXE_REPLY_NAK) {
		/* Proxy answers only PXE/HTTP/iPXE clients; every class needs its file. */
		if (boot == XPXE_BOOT_PLAIN && (proxy || reply == XPXE_REPLY_ACK_4011))
			return 0;
		if (boot != XPXE_BOOT_PLAIN && !file)
			return 0;
	} else if (boot != XPXE_BOOT_PLAIN) {
		return 0;
	}
	with_pxe_opts = boot != XPXE_BOOT_PLAIN && reply != XPXE_REPLY_NAK;
	/* The 4011 strategy's OFFER names no file: the client asks for it on 4011. */
	with_file = with_pxe_opts && !(proxy && reply == XPXE_REPLY_OFFER &&
				       xpxe_dhcp_strategy_for(profile, boot) == XPXE_STRATEGY_4011);
	if (with_file && strlen(file) > 255)
		return -ENAMETOOLONG;
	inet_ntop(AF_INET, &net->server_ip, server_name, sizeof(server_name));

	/* Ethernet: destination patched by XDP. */
	memcpy(f + 6, net->server_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;

	/* BOOTP fixed part. */
	bootp[0] = 2; /* BOOTREPLY */
	bootp[1] = 1; /* Ethernet */
	bootp[2] = 6;
	if (with_file) {
		memcpy(bootp + 20, &net->server_ip.s_addr, 4); /* siaddr: next server */
		memcpy(bootp + 44, server_name, strlen(server_name));
		/* The header's file field holds 127 bytes and a NUL; U-Boot reads only it. */
		if (strlen(file) < 128)
			memcpy(bootp + 108, file, strlen(file));
	} else if (with_pxe_opts) {
		memcpy(bootp + 20, &net->server_ip.s_addr, 4);
	}
	bootp[236] = 0x63;
	bootp[237] = 0x82;
	bootp[238] = 0x53;
	bootp[239] = 0x63;

	w = (struct opt_writer){ .buf = bootp + 240, .cap = XPXE_DHCP_MSG_MAX - 240 };
	type = reply == XPXE_REPLY_OFFER ? 2 : reply == XPXE_REPLY_NAK ? 6 : 5;
	put_opt(&w, 53, &type, 1);
	put_opt_addr(&w, 54, net->server_ip);
	if (full_lease) {
		put_opt_u32(&w, 51, net->lease_time);
		put_opt_u32(&w, 58, net->lease_time / 2);
		put_opt_u32(&w, 59, net->lease_time / 8 * 7);
		put_opt_addr(&w, 1, net->netmask);
		if (net->router.s_addr)
			put_opt_addr(&w, 3, net->router);
		if (net->dns.s_addr)
			put_opt_addr(&w, 6, net->dns);
	}
	if (with_pxe_opts) {
		/*
		 * Option 60 marks a proxy offer as PXE (iPXE and EDK2 both look for it);
		 * HTTP boot accepts an offer only when it says HTTPClient, in either mode.
		 */
		if (is_http(boot))
			put_opt(&w, 60, "HTTPClient", 10);
		else if (proxy || reply == XPXE_REPLY_ACK_4011)
			put_opt(&w, 60, "PXEClient", 9);
		if (boot == XPXE_BOOT_IPXE && full_lease) {
			/*
			 * iPXE's no-pxedhcp (175.176 = 1): a full-mode offer is the whole answer,
			 * so iPXE need not wait ~3 s for ProxyDHCP offers before its REQUEST, as
			 * it does when the offer lacks option 60 PXEClient (README, iPXE's
			 * waits). Proxy mode's offer carries no address: iPXE reads the flag
			 * only from the offer it leases from, so none there.
			 */
			static const unsigned char no_pxedhcp[] = { 176, 1, 1 };

			put_opt(&w, 175, no_pxedhcp, sizeof(no_pxedhcp));
		}
		if (proxy || reply == XPXE_REPLY_ACK_4011) {
			/* A slot for the client's GUID, word-aligned for the checksum; PAD if none.
			 */
			if ((XPXE_OFF_OPTIONS + w.pos) & 1)
				w.buf[w.pos++] = 0;
			t->guid_off = XPXE_OFF_OPTIONS + w.pos;
			w.pos += 2 + XPXE_DHCP_GUID_LEN;
		}
		if (with_file) {
			put_opt(&w, 66, server_name, strlen(server_name));
			put_opt(&w, 67, file, strlen(file));
			if (proxy && reply == XPXE_REPLY_OFFER) {
				/* PXE_DISCOVERY_CONTROL = 8: download the file named here. */
				static const unsigned char vendor[] = { 6, 1, 8, 255 };

				put_opt(&w, 43, vendor, sizeof(vendor));
			}
		}
	}
	if (w.overflow || w.pos + 1 > w.cap)
		return -ENAMETOOLONG;
	w.buf[w.pos++] = 255;

	/* At least BOOTP's 300 bytes (older clients insist); the rest stays PAD. */
	msg_len = 240 + w.pos;
	if (msg_len < 300)
		msg_len = 300;
	udp_len = 8 + msg_len;
	t->len = (uint16_t)(XPXE_OFF_BOOTP + msg_len);

	/* IPv4: destination and checksum patched by XDP. */
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + udp_len) >> 8);
	f[17] = (uint8_t)(20 + udp_len);
	f[22] = 64; /* TTL */
	f[23] = 17; /* UDP */
	memcpy(f + 26, &net->server_ip.s_addr, 4);

	/* UDP: destination port and checksum patched by XDP. */
	f[34] = 0;
	f[35] = reply == XPXE_REPLY_ACK_4011 ? 0xab : 67; /* 4011 = 0x0fab */
	if (reply == XPXE_REPLY_ACK_4011)
		f[34] = 0x0f;
	f[38] = (uint8_t)(udp_len >> 8);
	f[39] = (uint8_t)udp_len;

	/* Pseudo-header without the destination, then UDP header and message as templated. */
	sum = sum16((unsigned char *)&net->server_ip.s_addr, 4) + 17 + (uint32_t)udp_len;
	sum += sum16(f + XPXE_OFF_UDP, udp_len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	t->csum_base = sum;
	return 0;
}
