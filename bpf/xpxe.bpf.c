// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pxe: the data plane on the provisioning interface. It classifies every
 * frame, answers DHCP/ProxyDHCP from templates (dhcp.h), and counts the
 * outcome of each frame in exactly one counter.
 */
#include "parse.h"
#include "dhcp.h"
#include "dhcp_tc.h"
#include "tftp.h"
#include "tftp6.h"
#include "ndp.h"
#include "dhcp6.h"
#include "vlan.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPXE_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* The build that made the pinned maps (XPXE_LAYOUT_ID, written by the daemon): a daemon of
 * another build reads it before reusing them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} layout SEC(".maps");

/* The one exit of the program: count why, then return the verdict. */
static __always_inline int count_and(__u32 reason, int verdict)
{
	__u64 *slot = bpf_map_lookup_elem(&counters, &reason);

	if (slot)
		*slot += 1;
	return verdict;
}

/*
 * Whether an IPv6 frame (no extension headers) is UDP to port 69: requests over IPv6 are the
 * daemon's alone (its socket answers them), so such frames are passed, and counted.
 */
static __always_inline bool udp6_to_tftp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	struct udphdr *udph = (void *)(ip6 + 1);

	return (void *)(udph + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IPV6) &&
	       ip6->nexthdr == IPPROTO_UDP && udph->dest == bpf_htons(XPXE_PORT_TFTP);
}

/*
 * The tags xdp_pxe took off the frame in hand (its vlan_frame), into TAGS for the AF_XDP
 * socket that sends a window (the frames it builds carry them). Returns 0, or -1 when they
 * are not there (never: the frame came through xdp_pxe_frame).
 */
static __always_inline int xsk_tags_of(struct xdp_md *ctx, struct xpxe_tftp_xsk_meta *tags)
{
	__u32 slot = ctx->ingress_ifindex == XPXE_LOOPBACK_IFINDEX ? XPXE_DHCP_SCRATCH_RERUN
								   : XPXE_DHCP_SCRATCH_WIRE;
	const struct vlan_frame *vf = bpf_map_lookup_elem(&vlan_frames, &slot);

	if (!vf || !vf->ntags || vf->ntags > 2)
		return -1;
	tags->ntags = vf->ntags;
	tags->tpid[0] = vf->tag[0].tpid;
	tags->tpid[1] = vf->tag[1].tpid;
	tags->tci[0] = vf->tag[0].tci;
	tags->tci[1] = vf->tag[1].tci;
	return 0;
}

/*
 * One untagged frame (VF->net 0), or one of the VLAN numbered VF->net with its tags out
 * (bpf/vlan.h): it starts VF->room bytes after ctx->data (0 untagged), and a reply to it is
 * built after as many, where its tags go back. FRAGS: as xdp_pxe_frame's.
 */
static __always_inline int xdp_pxe_untagged(struct xdp_md *ctx, struct vlan_frame *vf,
					    const bool frags)
{
	__u32 net = vf->net, room = vlan_room(vf);
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor cur = { .pos = (void *)(long)ctx->data + room };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;
	int ret, verdict;

	ret = parse_ethhdr(&cur, data_end, &eth);
	if (ret < 0)
		return count_and(-ret, XDP_PASS);
	if (ret != ETH_P_IP) {
		/*
		 * DHCPv6 (the untagged network's only), then IPv6 Router Solicitations (a
		 * VLAN's answered as that VLAN's, tagged as they came); anything else not IPv4
		 * is passed (pass_not_ipv4), on a VLAN tagged as it came.
		 */
		ret = net ? DHCP6_NOT_MINE : handle_dhcp6(ctx, &verdict, frags);
		if (ret == DHCP6_NOT_MINE)
			ret = handle_ndp(ctx, &verdict, net, room);
		if (ret == XPXE_CNT_PASS_NOT_IPV4 && !net && udp6_to_tftp(ctx))
			ret = XPXE_CNT_PASS_TFTP6;
		/*
		 * Maybe an ACK of a transfer over IPv6: xdp_tftp6 answers it (a lockstep one) or
		 * redirects it to AF_XDP (a window's), in a program of its own (the tail call does
		 * not come back when it happens). Where XDP has no room to grow it and no AF_XDP
		 * socket waits (tftp_xdp_leave_to_tc), or no tail call, it goes on to tc_tftp.
		 */
		if (ret == XPXE_CNT_PASS_NOT_IPV4 && !net && tftp6_ack_shaped(ctx)) {
			if (!tftp_xdp_no_room || tftp_xsk_on_queue(ctx))
				bpf_tail_call(
				    ctx, frags ? (void *)&tftp6_prog_frags : (void *)&tftp6_prog,
				    0);
			ret = XPXE_CNT_TFTP6_XDP_TO_TC;
		}
		return count_and(ret, verdict);
	}

	ret = parse_iphdr(&cur, data_end, &iph);
	if (ret < 0)
		return count_and(-ret, XDP_PASS);
	if (ret != IPPROTO_UDP)
		return count_and(XPXE_CNT_PASS_NOT_UDP, XDP_PASS);

	ret = parse_udphdr(&cur, data_end, iph, &udph);
	if (ret < 0)
		return count_and(-ret, XDP_PASS);

	switch (bpf_ntohs(udph->dest)) {
	case XPXE_PORT_DHCP_SERVER:
	case XPXE_PORT_PXE_BOOT:
		ret = handle_dhcp(ctx, eth, iph, udph, ret, net, room, &counters, &verdict);
		return count_and(ret, verdict);
	case XPXE_PORT_TFTP: {
		__u32 reason = XPXE_CNT_PASS_TFTP;
		enum tftp_action act = TFTP_PASS;

		int op = tftp_opcode(udph, data_end);

		/* What XDP acts on must be intact: a corrupted request goes to the stack, which
		 * drops it. */
		if ((op == XPXE_TFTP_RRQ || op == XPXE_TFTP_WRQ) &&
		    !xdp_udp_csum_ok(ctx, iph, udph, ret + sizeof(*udph)))
			return count_and(XPXE_CNT_PASS_BAD_UDP_CSUM, XDP_PASS);
		/* RRQs go to the daemon (their MAC noted); a WRQ is refused right here. */
		if (op == XPXE_TFTP_RRQ)
			tftp_note_rrq(eth, iph, udph);
		else if (op == XPXE_TFTP_WRQ)
			act = tftp_xdp_refuse_wrq(ctx, &reason, room);
		return count_and(reason, act == TFTP_SEND ? XDP_TX : XDP_PASS);
	}
	default: {
		/* An ACK of a transfer, to the port the daemon answered its RRQ from. */
		struct tftp_block blk;
		__u32 reason;
		enum tftp_action act;
		int op = tftp_opcode(udph, data_end);

		/*
		 * An ACK or ERROR XDP or tc_tftp acts on must be intact. A corrupted one is
		 * dropped, not passed: tc_tftp would answer it. Checked before the session is
		 * looked up (tc does that where XDP has no room), so a stranger's corrupted
		 * frame that looks like one is dropped too: the stack would drop it as well.
		 */
		if ((op == XPXE_TFTP_ACK || op == XPXE_TFTP_ERROR) &&
		    !xdp_udp_csum_ok(ctx, iph, udph, ret + sizeof(*udph)))
			return count_and(XPXE_CNT_DROP_BAD_UDP_CSUM, XDP_DROP);
		if (tftp_xdp_leave_to_tc(ctx, udph, data_end))
			return count_and(XPXE_CNT_TFTP_ACK_TO_TC, XDP_PASS);
		act = tftp_on_session_frame(eth, iph, udph, data_end, &blk, &reason,
					    ctx->ingress_ifindex, XPXE_TFTP_PATH_XDP);
		if (act == TFTP_SEND) {
			/*
			 * A window of blocks: the daemon's AF_XDP socket sends it, with the
			 * ACK's tags when it came on a VLAN (its frames carry them).
			 */
			if (blk.s->windowsize > 1) {
				struct xpxe_tftp_xsk_meta tags = {};

				if (net && xsk_tags_of(ctx, &tags))
					act = TFTP_PASS, reason = XPXE_CNT_TFTP_ACK_TO_DAEMON;
				else
					act = tftp_xsk_redirect(ctx, &blk, &tags, &reason, room);
			} else if (tftp_xdp_no_room)
				act = TFTP_PASS, reason = XPXE_CNT_TFTP_ACK_TO_TC;
			else
				act = tftp_xdp_send(ctx, &blk, &counters, &reason, room);
		}
		return count_and(reason, act == TFTP_SEND	? XDP_TX
					 : act == TFTP_REDIRECT ? XDP_REDIRECT
					 : act == TFTP_DROP	? XDP_DROP
								: XDP_PASS);
	}
	}
}

/*
 * The body of both entry points below. FRAGS: the program was loaded as "xdp.frags"; a
 * constant, so each entry point is compiled with its own branches only.
 */
static __always_inline int xdp_pxe_frame(struct xdp_md *ctx, const bool frags)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u32 slot = ctx->ingress_ifindex == XPXE_LOOPBACK_IFINDEX ? XPXE_DHCP_SCRATCH_RERUN
								   : XPXE_DHCP_SCRATCH_WIRE;
	struct vlan_frame *vf;
	int ret, verdict;

	count_and(XPXE_CNT_RX_FRAMES, XDP_PASS);
	if (frags && bpf_xdp_get_buff_len(ctx) > (__u64)(data_end - (void *)(long)ctx->data))
		return count_and(XPXE_CNT_PASS_MULTI_BUFFER, XDP_PASS);
	vf = bpf_map_lookup_elem(&vlan_frames, &slot);
	if (!vf)
		return count_and(XPXE_CNT_PASS_NOT_IPV4, XDP_PASS); /* never: an array's slot */
	__builtin_memset(vf, 0, sizeof(*vf));
	ret = vlan_xdp_strip(ctx, vf, &counters);
	if (ret)
		return count_and(ret, XDP_PASS);
	verdict = xdp_pxe_untagged(ctx, vf, frags);
	/*
	 * The tags go back on what leaves (the reply) and on what goes up (as it came); not on
	 * an ACK redirected to AF_XDP: the window's descriptor is in front of it, with the tags.
	 */
	if (vf->net && verdict != XDP_DROP && verdict != XDP_REDIRECT && vlan_xdp_restore(ctx, vf))
		return count_and(XPXE_CNT_VLAN_RETAG_FAILED, XDP_DROP);
	return verdict;
}

SEC("xdp")
int xdp_pxe(struct xdp_md *ctx)
{
	return xdp_pxe_frame(ctx, false);
}

/*
 * xdp_pxe for interfaces with an MTU above 1500 (jumbo frames, 9000 on many provisioning
 * networks): "xdp.frags" (BPF_F_XDP_HAS_FRAGS) says it takes frames that span several
 * buffers, which a driver requires before it attaches a program to an interface whose MTU
 * exceeds one buffer (veth from ~3.5 KB). Nothing reads past the first buffer: such a frame
 * is counted and passed before any parsing (no DHCP, TFTP or NDP frame xpxe answers is that
 * long), so no reply is ever built from part of a frame. The daemon attaches one of the
 * two (dataplane.c), named apart.
 */
SEC("xdp.frags")
int xdp_pxe_frags(struct xdp_md *ctx)
{
	return xdp_pxe_frame(ctx, true);
}

/*
 * xdp_dhcp6_bound: a bound machine's DHCPv6 renewal in full mode, tail-called from xdp_pxe
 * (bpf/dhcp6.h, handle_dhcp6_bound), which counted the frame in rx_frames; untagged always.
 * Verified apart from xdp_pxe: its answer costs xdp_pxe's budget nothing. Two builds, as
 * xdp_pxe's: a tail call's target has its caller's multi-buffer flag.
 */
SEC("xdp")
int xdp_dhcp6_bound(struct xdp_md *ctx)
{
	int verdict, ret = handle_dhcp6_bound(ctx, &verdict);

	return count_and(ret, verdict);
}

SEC("xdp.frags")
int xdp_dhcp6_bound_frags(struct xdp_md *ctx)
{
	int verdict, ret = handle_dhcp6_bound(ctx, &verdict);

	return count_and(ret, verdict);
}

/*
 * xdp_tftp6: an IPv6 TFTP ACK's next DATA block, or a window's ACK redirected to AF_XDP,
 * tail-called from xdp_pxe (bpf/tftp6.h, tftp6_xdp), which counted the frame in rx_frames;
 * untagged always. Verified apart from
 * xdp_pxe, and built twice, as xdp_dhcp6_bound.
 */
SEC("xdp")
int xdp_tftp6(struct xdp_md *ctx)
{
	int verdict;
	__u32 ret = tftp6_xdp(ctx, &counters, &verdict);

	return count_and(ret, verdict);
}

SEC("xdp.frags")
int xdp_tftp6_frags(struct xdp_md *ctx)
{
	int verdict;
	__u32 ret = tftp6_xdp(ctx, &counters, &verdict);

	return count_and(ret, verdict);
}

/*
 * tc_tftp: the fallback for the ACKs xdp_pxe could not grow into DATA frames
 * (it passes them up unchanged): on clsact ingress, an skb can always grow.
 * Same sessions, same decision, same block builder; the DATA frame leaves
 * through the interface the ACK came in on.
 * It also answers proxy mode's PXE DISCOVERs, which xdp_pxe passes so that the
 * stack gets them too (dhcp_tc.h). One program, so a frame pays for one run;
 * its name stays the one a daemon recognises its tc filter by (dataplane.c).
 */
static __always_inline int tc_tftp_frame(struct __sk_buff *skb, struct vlan_tc_tags *tags)
{
	void *data, *data_end;
	struct hdr_cursor cur;
	struct tftp_block blk;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;
	__u32 reason, room;
	int ret, verdict, net;

	/*
	 * A VLAN's frame for its server address has its MACs moved over the tags in it, as
	 * xdp_pxe's (bpf/vlan.h): the untagged frame starts ROOM (0, 4 or 8) bytes on. Other
	 * tagged frames go on as they are. Tags come off only what goes up (tc_tftp).
	 */
	net = vlan_tc_ingress(skb, tags);
	if (net < 0)
		return count_and(XPXE_CNT_TFTP_TC_PASS, TC_ACT_OK);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (net) {
		room = tags->room & 0xc; /* 0, 4 or 8: said so to the verifier */
		cur.pos = data + room;
	} else {
		dhcp_tc_pull(skb);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		room = 0;
		cur.pos = data;
	}
	ret = parse_ethhdr(&cur, data_end, &eth);
	/* IPv6 on the untagged network: maybe an ACK of a lockstep transfer (tftp6.h). */
	if (ret == ETH_P_IPV6 && !net) {
		reason = tftp6_tc(skb, &counters, &verdict);
		return count_and(reason, verdict);
	}
	if (ret != ETH_P_IP || parse_iphdr(&cur, data_end, &iph) != IPPROTO_UDP)
		return count_and(XPXE_CNT_TFTP_TC_PASS, TC_ACT_OK);
	ret = parse_udphdr(&cur, data_end, iph, &udph);
	if (ret < 0)
		return count_and(XPXE_CNT_TFTP_TC_PASS, TC_ACT_OK);
	/* DHCP on a VLAN is xdp_pxe's alone: the untagged network's settings are not its. */
	if (udph->dest == bpf_htons(XPXE_PORT_DHCP_SERVER) && !net) {
		ret = handle_dhcp_tc(skb, eth, iph, udph, ret, &verdict);
		return count_and(ret, verdict);
	}
	ret = tftp_on_session_frame(eth, iph, udph, data_end, &blk, &reason, skb->ifindex,
				    XPXE_TFTP_PATH_TC);
	if (ret == TFTP_DROP)
		return count_and(reason, TC_ACT_SHOT);
	/* Passed by xdp_pxe (counted there). */
	if (ret == TFTP_PASS)
		return count_and(XPXE_CNT_TFTP_TC_PASS, TC_ACT_OK);
	/*
	 * A window XDP had no AF_XDP socket for: decided and recorded here, in place,
	 * and sent by the daemon's socket of the transfer (which writes no session).
	 */
	if (blk.s->windowsize > 1) {
		tftp_commit(&blk);
		return count_and(XPXE_CNT_TFTP_TC_PASS, TC_ACT_OK);
	}

	if (tftp_load_block(&blk, &reason) != TFTP_SEND)
		return count_and(reason, TC_ACT_OK);
	/* On a VLAN the DATA is built behind the ACK's tags (ROOM bytes of them in the frame),
	 * which then go back as they came, priority bits and all: no tag popped, none pushed
	 * (BENCHMARKS.md, "VLAN tags", issue 22's fifth cost round). */
	if (bpf_skb_change_tail(skb, XPXE_TFTP_HDRS_LEN + room + blk.len, 0))
		return count_and(XPXE_CNT_TFTP_TC_NO_ROOM, TC_ACT_OK);
	if (blk.len && tftp_skb_store(skb, &blk, XPXE_TFTP_HDRS_LEN + room))
		return count_and(XPXE_CNT_TFTP_BUILD_FAILED, TC_ACT_SHOT);
	tftp_sum_block(&blk);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (tftp_write_data_headers(data + room, data_end, &blk))
		return count_and(XPXE_CNT_TFTP_BUILD_FAILED, TC_ACT_SHOT);
	/* The checksums are final: let the receiver check them, as one on a wire would. */
	bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	/* tc_vlan_out then leaves the tagged DATA as it is. */
	if (net && vlan_tc_restore(skb, tags))
		return count_and(XPXE_CNT_VLAN_RETAG_FAILED, TC_ACT_SHOT);
	tftp_commit(&blk);
	tftp_tally_block(&counters, &blk, XPXE_CNT_TFTP_BYTES_TC);
	return count_and(XPXE_CNT_TFTP_DATA_TC, bpf_redirect(skb->ifindex, 0));
}

SEC("tc")
int tc_tftp(struct __sk_buff *skb)
{
	struct vlan_tc_tags tags = {};
	int verdict;

	if (skb->mark == XPXE_SKB_MARK_STACK_COPY) {
		/* The stack's copy of a DISCOVER answered below, come round again. */
		skb->mark = 0;
		return count_and(XPXE_CNT_DHCP_TC_STACK_COPY, TC_ACT_OK);
	}
	verdict = tc_tftp_frame(skb, &tags);
	/* A VLAN's frame that goes up loses its tags (vlan_tc_up): the kernel takes it. */
	if (verdict == TC_ACT_OK && tags.net > 0 && vlan_tc_up(skb, &tags))
		vlan_tally(&counters, XPXE_CNT_VLAN_TC_POPPED);
	return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * tc_vlan_out, on the trunk's clsact egress: what the kernel sends from a VLAN's server
 * address (TFTP from the daemon's sockets, tc_tftp's DATA, HTTP, ARP) gets that VLAN's tags.
 */
SEC("tc")
int tc_vlan_out(struct __sk_buff *skb)
{
	int ret = vlan_tc_egress(skb);

	if (ret > 0)
		vlan_tally(&counters, XPXE_CNT_VLAN_TC_PUSHED);
	return ret < 0 ? TC_ACT_SHOT : TC_ACT_OK;
}
