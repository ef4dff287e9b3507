/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DHCPv6 messages (RFC 8415) in userspace: the one parser of what a client
 * sends to full mode's server (dhcp6_server.c), and the builder of its
 * answers. Pure functions over buffers: no sockets, no clock.
 */
#ifndef XPXE_DHCP6_PROTO_H
#define XPXE_DHCP6_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "xpxe_dhcp.h"

enum xpxe_dhcp6_type {
	XPXE_DHCP6_SOLICIT = 1,
	XPXE_DHCP6_ADVERTISE = 2,
	XPXE_DHCP6_REQUEST = 3,
	XPXE_DHCP6_CONFIRM = 4,
	XPXE_DHCP6_RENEW = 5,
	XPXE_DHCP6_REBIND = 6,
	XPXE_DHCP6_REPLY = 7,
	XPXE_DHCP6_RELEASE = 8,
	XPXE_DHCP6_DECLINE = 9,
	XPXE_DHCP6_INFORMATION_REQUEST = 11,
	XPXE_DHCP6_RELAY_FORW = 12,
	XPXE_DHCP6_RELAY_REPL = 13,
};

/* Options (RFC 8415 21, RFC 5970). */
#define XPXE_DHCP6_OPT_CLIENTID	     1
#define XPXE_DHCP6_OPT_SERVERID	     2
#define XPXE_DHCP6_OPT_IA_NA	     3
#define XPXE_DHCP6_OPT_IA_TA	     4
#define XPXE_DHCP6_OPT_IAADDR	     5
#define XPXE_DHCP6_OPT_ORO	     6
#define XPXE_DHCP6_OPT_STATUS	     13
#define XPXE_DHCP6_OPT_RAPID_COMMIT  14
#define XPXE_DHCP6_OPT_USER_CLASS    15
#define XPXE_DHCP6_OPT_VENDOR_CLASS  16
#define XPXE_DHCP6_OPT_BOOTFILE_URL  59
#define XPXE_DHCP6_OPT_IA_PD	     25 /* RFC 8415 21.21 */
#define XPXE_DHCP6_OPT_RELAY_MSG     9
#define XPXE_DHCP6_OPT_INTERFACE_ID  18
#define XPXE_DHCP6_OPT_CLIENT_LLADDR 79	 /* RFC 6939: a relay's copy of the client's MAC */
#define XPXE_DHCP6_OPT_RELAY_PORT    135 /* RFC 8357: a relay that sends from a port not 547 */
#define XPXE_DHCP6_OPT_ARCH	     61

/* Status codes (RFC 8415 21.13). */
enum xpxe_dhcp6_status {
	XPXE_DHCP6_SUCCESS = 0,
	XPXE_DHCP6_UNSPEC_FAIL = 1,
	XPXE_DHCP6_NO_ADDRS_AVAIL = 2,
	XPXE_DHCP6_NO_BINDING = 3,
	XPXE_DHCP6_NOT_ON_LINK = 4,
	XPXE_DHCP6_USE_MULTICAST = 5,
};

/* Why a message is not taken: each has a counter in the server's status. */
enum xpxe_dhcp6_verdict {
	XPXE_DHCP6_OK = 0,
	XPXE_DHCP6_TOO_SHORT,	/* shorter than the 4-byte header */
	XPXE_DHCP6_TRUNCATED,	/* an option header or body runs past the end */
	XPXE_DHCP6_BAD_OPTION,	/* an option's length is wrong for its kind (an IA, a DUID) */
	XPXE_DHCP6_NOT_CLIENT,	/* not a message a client sends to a server (relays too) */
	XPXE_DHCP6_MISSING_IDS, /* client id or server id missing or there (RFC 8415 16) */
	XPXE_DHCP6_INFO_REQ_IA, /* an Information-request with an IA (RFC 8415 16.12) */
	XPXE_DHCP6_BAD_RELAY,	/* a Relay-forward with no Relay Message, nested too deep, or a
				 * Relay Source Port option not of 2 bytes */
	XPXE_DHCP6_VERDICT_MAX,
};

extern const char *const xpxe_dhcp6_verdict_names[XPXE_DHCP6_VERDICT_MAX];

#define XPXE_DHCP6_DUID_LEN_MAX 130 /* RFC 8415 11: type + 128 */

/* The first IA_NA of a message, and the first address in it. */
struct xpxe_dhcp6_ia {
	uint32_t iaid, t1, t2;
	bool has_addr;
	struct in6_addr addr;
};

struct xpxe_dhcp6_msg {
	uint8_t type;
	uint8_t xid[3];
	uint8_t duid[XPXE_DHCP6_DUID_LEN_MAX]; /* the client id's data */
	unsigned int duid_len;		       /* 0: none */
	const uint8_t *sid;		       /* the server id's data, in the buffer */
	unsigned int sid_len;		       /* 0: none */
	bool has_ia;
	struct xpxe_dhcp6_ia ia;
	unsigned int n_ia_na;
	bool any_ia; /* an IA_NA, IA_TA or IA_PD, well formed or not */
	bool rapid_commit;
	bool wants_url; /* the ORO asks for option 59 */
	/* what classifies a boot client, as bpf/dhcp6.h reads it */
	bool is_ipxe;
	int vendor;	 /* 0 none, 1 PXEClient, 2 HTTPClient */
	int vendor_arch; /* the digits of the vendor class; -1: none */
	int arch;	 /* option 61's first; -1: none */
};

/* Parses the LEN-byte message at BUF into M. Returns a verdict (XPXE_DHCP6_OK when taken). */
enum xpxe_dhcp6_verdict xpxe_dhcp6_parse(const uint8_t *buf, size_t len, struct xpxe_dhcp6_msg *m);

/*
 * RFC 8415 7.6's HOP_COUNT_LIMIT: at most this many Relay-forwards around a client's
 * message; a deeper one is BAD_RELAY.
 */
#define XPXE_DHCP6_RELAY_DEPTH_MAX 8

/* One Relay-forward (RFC 8415 9): what its Relay-reply echoes, and what it carries. */
struct xpxe_dhcp6_relay {
	uint8_t hop_count;
	struct in6_addr link; /* the client's link as the relay names it; :: from an LDRA */
	struct in6_addr peer; /* the client's address, or the next relay's */
	const uint8_t *msg;   /* the Relay Message option's data, in the buffer */
	size_t msg_len;
	const uint8_t *interface_id; /* the Interface-Id option's data, echoed; NULL: none */
	size_t interface_id_len;
	/*
	 * The Relay Source Port option's 2 bytes (RFC 8357 5.1), echoed; NULL: none. Its value
	 * (Downstream Source Port) is the relay's own business: the port of the relay below it,
	 * 0 for none; the relay's port is the datagram's source port.
	 */
	const uint8_t *relay_port;
	bool has_mac; /* a Client Link-Layer Address option (RFC 6939) of an Ethernet MAC */
	uint8_t mac[6];
};

/* Parses the Relay-forward of LEN bytes at BUF into R (OK: it carries a message). */
enum xpxe_dhcp6_verdict xpxe_dhcp6_parse_relay(const uint8_t *buf, size_t len,
					       struct xpxe_dhcp6_relay *r);

/*
 * The Ethernet MAC in a DUID-LLT or DUID-LL of hardware type 1 (RFC 8415 11.2, 11.4):
 * a relayed client's machine when its relay sends no Client Link-Layer Address option.
 */
bool xpxe_dhcp6_duid_mac(const uint8_t *duid, size_t len, uint8_t mac[6]);

/* The boot class of M, as xdp_pxe would classify it (XPXE_BOOT_PLAIN: an address only). */
enum xpxe_boot_class xpxe_dhcp6_boot_class(const struct xpxe_dhcp6_msg *m);

/* An answer under construction: options appended; OVERFLOW when one did not fit. */
#define XPXE_DHCP6_OUT_MAX 1232 /* the IPv6 minimum MTU's UDP payload */

struct xpxe_dhcp6_out {
	uint8_t buf[XPXE_DHCP6_OUT_MAX];
	size_t len;
	bool overflow;
};

/* Starts an answer of TYPE to the transaction XID. */
void xpxe_dhcp6_out_start(struct xpxe_dhcp6_out *o, uint8_t type, const uint8_t xid[3]);

/* Appends option CODE with LEN bytes of DATA. */
void xpxe_dhcp6_out_opt(struct xpxe_dhcp6_out *o, unsigned int code, const void *data, size_t len);

/* Appends raw bytes (options already in wire format). */
void xpxe_dhcp6_out_raw(struct xpxe_dhcp6_out *o, const void *data, size_t len);

/*
 * Appends the boot options OPTS (wire format, as xdp_pxe sends them) for an
 * answer that gives an address (full mode), without a vendor class (16)
 * naming PXEClient. EDK2's PXE takes an IA_NA offer with PXEClient as a
 * "DhcpBinl" offer and asks the URL's host on port 4011 again, in a Request
 * with no server id (EDK2 2022.11), which xdp_pxe refuses as malformed;
 * without the class the offer is "DhcpOnly" with option 59, and EDK2 boots
 * the Reply's URL (docs/dhcp6-edk2.md). HTTPClient stays: HTTP boot needs it.
 */
void xpxe_dhcp6_out_boot_with_address(struct xpxe_dhcp6_out *o, const uint8_t *opts, size_t len);

/* Appends a Status Code option. */
void xpxe_dhcp6_out_status(struct xpxe_dhcp6_out *o, enum xpxe_dhcp6_status code, const char *text);

/*
 * Appends an IA_NA for IAID with T1/T2 and, when ADDR is not NULL, one IA
 * Address with the lifetimes; STATUS other than success adds a Status Code
 * inside the IA (RFC 8415 21.4).
 */
void xpxe_dhcp6_out_ia(struct xpxe_dhcp6_out *o, uint32_t iaid, uint32_t t1, uint32_t t2,
		       const struct in6_addr *addr, uint32_t preferred, uint32_t valid,
		       enum xpxe_dhcp6_status status, const char *text);

/*
 * The same, with a second IA Address, STALE, at lifetimes 0: an address the
 * client asked to renew that is not (or no longer) its binding (RFC 8415 18.3.4).
 */
void xpxe_dhcp6_out_ia_stale(struct xpxe_dhcp6_out *o, uint32_t iaid, uint32_t t1, uint32_t t2,
			     const struct in6_addr *addr, uint32_t lifetime,
			     const struct in6_addr *stale);

/*
 * The Relay-reply to R around the answer INNER (RFC 8415 19.3): R's hop count, link and
 * peer addresses, Interface-Id and Relay Source Port option (RFC 8357 5.3), INNER in a Relay
 * Message option.
 */
void xpxe_dhcp6_out_relay(struct xpxe_dhcp6_out *o, const struct xpxe_dhcp6_relay *r,
			  const struct xpxe_dhcp6_out *inner);

#endif /* XPXE_DHCP6_PROTO_H */
