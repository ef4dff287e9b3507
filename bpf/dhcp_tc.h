/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ProxyDHCP OFFERs from tc, so that a DHCP server on the same host gets the
 * PXE DISCOVERs as well (issue 19). xdp_pxe passes a proxy-mode PXE DISCOVER
 * (dhcp_proxy_to_tc); here on clsact ingress a clone of it, untouched and
 * marked, goes back in on the same device's ingress for the stack, and the
 * frame itself becomes the OFFER and leaves through the device. The clone
 * passes through tc_tftp again, which knows it by its mark, clears the mark
 * and lets it up; or, when something rewrote the mark, by dhcp_tc_copies.
 * Same parser, same decision, same templates as XDP (dhcp.h).
 */
#ifndef XPXE_BPF_DHCP_TC_H
#define XPXE_BPF_DHCP_TC_H

#include <linux/pkt_cls.h>

#include "dhcp.h"

/* The DISCOVERs whose copy went up, by xid and chaddr: when (xpxe_dhcp.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XPXE_DHCP_TC_COPIES_MAX);
	__type(key, struct xpxe_dhcp_tc_copy_key);
	__type(value, __u64);
} dhcp_tc_copies SEC(".maps");

/*
 * Some NICs hand tc the headers only in the skb's linear part, the rest in
 * pages, where the parsers cannot read: a DHCP request to port 67 (no longer
 * than a frame on the wire) is made linear whole. One load when a frame is not
 * linear (the EtherType through the longest IPv4 header and the UDP ports, so
 * a header with options, as xdp_pxe's parser takes them, is found too),
 * nothing when it is (veth, most drivers for small frames).
 */
#define DHCP_TC_PULL_PEEK (2 + 60 + 4) /* EtherType, IPv4 header (ihl 15), UDP ports */

static __always_inline void dhcp_tc_pull(struct __sk_buff *skb)
{
	__u8 h[DHCP_TC_PULL_PEEK];
	__u32 port;

	/* A frame shorter than the peek is no DHCP request (those are 300 bytes and more). */
	if ((long)skb->data_end - (long)skb->data >= skb->len || skb->len > 1518 ||
	    bpf_skb_load_bytes(skb, 12, h, sizeof(h)))
		return;
	if (h[0] != 0x08 || h[1] != 0x00 || h[2] >> 4 != 4 || (h[2] & 0xf) < 5 ||
	    h[11] != IPPROTO_UDP)
		return;
	port = 2 + (h[2] & 0xf) * 4 + 2; /* the UDP destination port, after the IPv4 header */
	index_bounded(port, DHCP_TC_PULL_PEEK - 1); /* for the verifier: see parse.h */
	if (h[port] == 0 && h[port + 1] == XPXE_PORT_DHCP_SERVER)
		bpf_skb_pull_data(skb, skb->len);
}

/*
 * The proxy-mode PXE DISCOVER in SKB (headers ETH, IPH, UDPH, a UDP payload
 * of PAYLOAD_LEN bytes) answered: returns the counter of the outcome and sets
 * *VERDICT. A frame that is not one goes up untouched, counted in tftp_tc_pass
 * (xdp_pxe counted why it passed it). So does every frame while no DHCP server
 * is on this host (XPXE_DHCP_F_LOCAL_SERVER clear): xdp_pxe then decides proxy
 * DISCOVERs itself, answered, dropped over a limit or passed for a reason it
 * counted (no boot file, unknown machine, a bad checksum, no room for the reply),
 * and one counter and one rate-limit token per frame means tc does not decide
 * again. (The daemon's sweep can flip the flag between the two programs' runs
 * of one frame: that frame alone, once a flip, is decided by both or by neither.)
 */
static __always_inline int handle_dhcp_tc(struct __sk_buff *skb, struct ethhdr *eth,
					  struct iphdr *iph, struct udphdr *udph, __u32 payload_len,
					  int *verdict)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	const struct xpxe_dhcp_template *t;
	struct xpxe_dhcp_config *cfg;
	struct xpxe_dhcp_client *client;
	struct xpxe_mac_key key = {};
	struct xpxe_dhcp_rate_key rkey;
	struct xpxe_dhcp_tc_copy_key ckey = {};
	struct dhcp_scratch *s;
	struct dhcp_echo echo;
	struct dhcp_dest dest;
	struct bootp_hdr *bp;
	__u32 zero = 0, slot = XPXE_DHCP_SCRATCH_WIRE, opts_len, copy_len, len, mark, boot;
	__u32 udp_len = payload_len + sizeof(*udph);
	__u64 now, *sent;
	__be32 *magic;
	int ret;

	*verdict = TC_ACT_OK;
	cfg = bpf_map_lookup_elem(&dhcp_config, &zero);
	if (!cfg || !cfg->enabled || cfg->mode != XPXE_MODE_PROXY ||
	    !(cfg->flags & XPXE_DHCP_F_LOCAL_SERVER))
		return XPXE_CNT_TFTP_TC_PASS;
	/* xdp_pxe's checks again, in its order: what it did not pass for tc is not ours. */
	bp = (void *)(udph + 1);
	magic = (void *)bp + BOOTP_FIXED_LEN;
	if ((void *)(magic + 1) > data_end || payload_len < BOOTP_FIXED_LEN + 4 || bp->op != 1 ||
	    bp->htype != 1 || bp->hlen != 6 || *magic != bpf_htonl(DHCP_MAGIC))
		return XPXE_CNT_TFTP_TC_PASS;
	s = bpf_map_lookup_elem(&dhcp_scratch, &slot);
	if (!s)
		return XPXE_CNT_TFTP_TC_PASS;
	opts_len = payload_len - BOOTP_FIXED_LEN - 4;
	if (!dhcp_options_start(s, opts_len))
		return XPXE_CNT_TFTP_TC_PASS;
	/* The datagram whole, as xdp_pxe copies it (dhcp_parse_options). */
	copy_len = DHCP_UDP_OPTS_OFF + opts_len;
	size_bounded(copy_len, DHCP_UDP_MAX); /* for Linux 6.1: see parse.h */
	if (bpf_skb_load_bytes(skb, (void *)udph - data, s->udp, copy_len) ||
	    dhcp_walk_options(s, opts_len))
		return XPXE_CNT_TFTP_TC_PASS;
	boot = dhcp_boot_class(&s->req);
	if (s->req.overload || s->req.msg_type != DHCPDISCOVER || boot == XPXE_BOOT_PLAIN)
		return XPXE_CNT_TFTP_TC_PASS;

	/*
	 * The same DISCOVER as one answered a moment ago: the stack's copy come round with its
	 * mark rewritten, or a duplicate (xpxe_dhcp.h). Up it goes, as the copy does with its
	 * mark, and it is not answered (nor copied) again.
	 */
	ckey.xid = bp->xid;
	__builtin_memcpy(ckey.chaddr, bp->chaddr, 6);
	now = bpf_ktime_get_ns();
	sent = bpf_map_lookup_elem(&dhcp_tc_copies, &ckey);
	if (sent && now - *sent < XPXE_DHCP_TC_COPY_NS)
		return XPXE_CNT_DHCP_TC_STACK_COPY;

	/* From here on, xdp_pxe counted dhcp_proxy_to_tc: the outcome is counted here. */
	__builtin_memcpy(key.addr, bp->chaddr, 6);
	dhcp_rate_key(&rkey, eth->h_source, bp->chaddr);
	client = bpf_map_lookup_elem(&dhcp_clients, &key);
	/*
	 * A bad UDP checksum or over a limit: no OFFER, but the stack has the frame, as it
	 * has a plain client's (xdp_pxe left the checksum to this decision).
	 */
	ret = dhcp_choose_template(cfg, &rkey, client, XPXE_REPLY_OFFER, boot, s, iph, udph,
				   udp_len, &t);
	if (ret)
		return ret;
	len = t->len;
	if (len < XPXE_OFF_OPTIONS || len > XPXE_DHCP_FRAME_MAX)
		return XPXE_CNT_PASS_DHCP_NO_BOOT_FILE;
	echo.xid = bp->xid;
	echo.flags = bp->flags;
	echo.ciaddr = bp->ciaddr;
	echo.giaddr = bp->giaddr;
	__builtin_memcpy(echo.chaddr, bp->chaddr, 6);
	dhcp_pick_dest(&dest, eth, iph, udph, &echo, XPXE_REPLY_OFFER, 0);

	/*
	 * The stack's copy first, while the frame is as it came: a clone (the data is
	 * shared until one side writes), marked so that this program lets it up when it
	 * comes round again. The skb keeps its own mark.
	 */
	bpf_map_update_elem(&dhcp_tc_copies, &ckey, &now, BPF_ANY);
	mark = skb->mark;
	skb->mark = XPXE_SKB_MARK_STACK_COPY;
	ret = bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS);
	skb->mark = mark;
	if (ret) {
		bpf_map_delete_elem(&dhcp_tc_copies, &ckey);
		return XPXE_CNT_DHCP_TC_NO_COPY; /* the frame itself goes up instead */
	}

	/* The stack has its copy now: a frame that cannot become the OFFER is dropped. */
	*verdict = TC_ACT_SHOT;
	if (bpf_skb_change_tail(skb, len, 0))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	size_bounded(len, XPXE_DHCP_FRAME_MAX); /* for Linux 6.1: see parse.h */
	if (bpf_skb_store_bytes(skb, 0, (void *)t->frame, len, 0))
		return XPXE_CNT_PASS_DHCP_NO_ROOM;
	/* store_bytes made LEN bytes linear and writable: patch them in place. */
	ret = dhcp_patch_reply((void *)(long)skb->data, (void *)(long)skb->data_end, t, &echo,
			       &dest, 0, 0, &s->req);
	if (ret)
		return ret;
	/* The checksums are final: let the receiver check them, as one on a wire would. */
	bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	dhcp_reply_event(client, XPXE_REPLY_OFFER, boot, 0, skb->ifindex, echo.chaddr);
	*verdict = bpf_redirect(skb->ifindex, 0);
	return XPXE_CNT_DHCP_OFFER;
}

#endif /* XPXE_BPF_DHCP_TC_H */
