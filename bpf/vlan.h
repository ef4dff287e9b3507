/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * VLAN trunks without the kernel's 8021q: xpxe takes the tags off and puts them back itself.
 *
 * XDP (xdp_pxe): a frame of a configured VLAN (one 802.1Q tag, or an 802.1ad outer tag and an
 * 802.1Q inner one where the VLAN is configured so) loses its tags, the untagged code answers it
 * with that VLAN's settings (its dhcp_config entry, its templates), and the same tags, priority
 * bits included, go back on whatever leaves: the reply sent by XDP_TX, or the frame passed up
 * untouched. Every other tagged frame is passed untouched, its outcome counted.
 *
 * tc: the kernel holds each VLAN's server address on the trunk. On ingress, what a VLAN sends to
 * that address (IPv4 to it, ARP for it) and goes up loses its tags so the stack takes it (TFTP
 * RRQs, HTTP, ARP); an ACK the tc TFTP fallback answers keeps them, its DATA built behind them;
 * on egress (tc_vlan_out), what leaves from that address gets the VLAN's tags.
 */
#ifndef XPXE_BPF_VLAN_H
#define XPXE_BPF_VLAN_H

#include <stdbool.h>
#include <linux/pkt_cls.h>

#include "parse.h"
#include "xpxe_dhcp.h"
#include "xpxe_vlan.h"

#define VLAN_VID_MASK 0x0fff
#define VLAN_PCP_MASK 0xe000
#define VLAN_TAG_LEN  4

/* Configured VLANs by tag (xpxe_vlan_key). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XPXE_VLAN_MAX);
	__type(key, __u32);
	__type(value, struct xpxe_vlan);
} vlans SEC(".maps");

/*
 * The VLANs of one 802.1Q tag again, by VID (XPXE_VID_SLOTS slots, net 0 where none is
 * configured): the lookup of every tagged frame xdp_pxe and tc_tftp see is an index into an
 * array, which the verifier inlines, not a hash's (BENCHMARKS.md, "VLAN tags"). 64 KiB. The
 * double-tagged ones stay in `vlans` alone.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XPXE_VID_SLOTS);
	__type(key, __u32);
	__type(value, struct xpxe_vlan);
} vlan_vids SEC(".maps");

/*
 * The double-tagged VLANs again, by outer VID (XPXE_VID_SLOTS slots): each outer VID in use
 * has its own array by inner VID, as `vlan_vids` (64 KiB each, made by the daemon, net 0 where
 * none is configured). Two lookups into arrays, which the verifier inlines, where `vlans` is a
 * hash: its lookup was most of what a second tag cost a reply (BENCHMARKS.md, "VLAN tags").
 */
struct vlan_qinq_vids {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XPXE_VID_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xpxe_vlan));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XPXE_VID_SLOTS);
	__type(key, __u32);
	__array(values, struct vlan_qinq_vids);
} vlan_qinq SEC(".maps");

/*
 * The double-tagged VLAN of outer VID OUTER and inner VID VID (both < 4096), or NULL. The
 * barrier keeps the inner lookup a call of its own, not one call with vlan_vids' beside it
 * (a call of two maps, which the verifier cannot inline; see vlan_template).
 */
static __always_inline struct xpxe_vlan *vlan_qinq_lookup(__u32 outer, __u32 vid)
{
	void *vids = bpf_map_lookup_elem(&vlan_qinq, &outer);
	struct xpxe_vlan *v;

	if (!vids)
		return NULL;
	v = bpf_map_lookup_elem(vids, &vid);
	barrier_var(v);
	return v;
}

/* The same VLANs by their server address: which tags what the kernel sends from it gets. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XPXE_VLAN_MAX);
	__type(key, __be32);
	__type(value, struct xpxe_vlan);
} vlan_by_addr SEC(".maps");

/*
 * Each VLAN's DHCP reply templates (its server address in them): slot NET (1..XPXE_VLAN_MAX)
 * holds that VLAN's own array of templates, laid out as `dhcp_templates`, made by the daemon
 * for each VLAN it serves (and made anew at each reload), so only the VLANs configured take
 * memory. Two array lookups, both of which the verifier inlines (the inner arrays all have
 * this declaration's size, so no BPF_F_INNER_MAP): before, a hash by (net, index), whose
 * lookup cost a tagged reply most of its extra time (BENCHMARKS.md, "VLAN tags").
 */
struct vlan_template_set {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XPXE_DHCP_TEMPLATES);
	/* Sizes, not types: clang emits the template's BTF here only as a forward declaration
	 * (as tftp.h's tftp_chunks). */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xpxe_dhcp_template));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XPXE_VLAN_MAX + 1);
	__type(key, __u32);
	__array(values, struct vlan_template_set);
} vlan_templates SEC(".maps");

struct vlan_tag {
	__be16 tpid;
	__be16 tci;
};

/* The tags xdp_pxe took off a frame, outer first, as they were on the wire. */
struct vlan_frame {
	__u32 net; /* 0: the frame was untagged */
	__u16 ntags;
	/*
	 * The bytes in front of the untagged frame (vlan_room: 4 or 8 for a tagged frame; 0
	 * untagged): the frame's own MACs, moved over its tags, with no head moved. (16 bytes in
	 * all, as before it: a pinned vlan_frames of an older daemon is reused as it is.)
	 */
	__u16 room;
	/* As the frame had them after its MACs: each tag one word, copied as such. */
	union {
		struct vlan_tag tag[2];
		__u32 word[2];
	};
};

/*
 * Where xdp_pxe keeps a frame's vlan_frame while it handles the frame: a map value, not the
 * stack, so the verifier does not carry the tagged and the untagged frame's states apart
 * through the whole of xdp_pxe (it did: over its million instructions once DHCPv6 came).
 * A slot per context, as dhcp_scratch (XPXE_DHCP_SCRATCH_RERUN: a daemon's re-run of a
 * request may be interrupted by a frame on the same CPU before 6.3).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPXE_DHCP_SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct vlan_frame);
} vlan_frames SEC(".maps");

/*
 * A frame of a VLAN tc_tftp serves, as vlan_tc_ingress found it (outer tag first): the
 * outer (or only) tag may be out of the frame (skb->vlan_tci: the stack moves it there
 * before tc), the others are in it, ROOM bytes of them after the MACs, which tc_tftp moved
 * over them (so the untagged frame starts ROOM bytes on, as xdp_pxe's does: bpf/vlan.h's
 * XDP part). A DATA frame is built behind them and they come back as they were
 * (vlan_tc_restore); what goes up to the stack loses them (vlan_tc_up).
 */
struct vlan_tc_tags {
	__s32 net;     /* the VLAN's; 0: untagged; -1: a tagged frame left as it is */
	__u32 vlan;    /* its xpxe_vlan_key */
	__u32 n;       /* its tags, in and out of the frame */
	__u32 room;    /* the bytes of them in the frame: 0, 4 or 8 */
	__u16 tci[2];  /* host order: their priority bits for vlan_prios */
	__u32 word[2]; /* the tags in the frame, as they were there */
};

/*
 * The priority bits (PCP and DEI) of the last frame from a peer on a VLAN whose tags tc took
 * off (a TFTP RRQ or ACK, HTTP, ARP), for the tags tc_vlan_out puts on what the kernel sends back:
 * the same bits, as XDP and tc_tftp keep them. Only peers that sent some are here (an LRU:
 * a flood of them forgets the oldest, whose replies go back with none). By the peer's address
 * and its VLAN by tag (xpxe_vlan_key), never by net: a reload that adds or removes a VLAN
 * renumbers the nets, not the tags, and leaves this map (pinned, it outlives reloads and
 * restarts) as it is. By net, a peer's bits went onto another VLAN's frames.
 */
struct vlan_prio_key {
	__be32 peer;
	__u32 vlan; /* xpxe_vlan_key(outer VID, VID) */
};

struct vlan_prio {
	__u16 bits[2]; /* of the outer (or only) tag, of an inner one: TCI & VLAN_PRIO_MASK */
};

#define VLAN_PRIO_MASK 0xf000 /* PCP and DEI */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vlan_prio_key);
	__type(value, struct vlan_prio);
} vlan_prios SEC(".maps");

static __always_inline bool vlan_is_tpid(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline __u32 vlan_vid(__be16 tci)
{
	return bpf_ntohs(tci) & VLAN_VID_MASK;
}

static __always_inline void vlan_tally(void *counters_map, __u32 counter)
{
	__u64 *slot = bpf_map_lookup_elem(counters_map, &counter);

	if (slot)
		*slot += 1;
}

/*
 * The 12 bytes of MACs at P move SHIFT (4 or 8) bytes on, over the tags, which the caller
 * checked are in the frame: three words, all read before any is written (the two places
 * overlap). Words, not memcpy: of a packet pointer the compiler knows no alignment and copies
 * byte by byte (24 loads and stores where 6 do). x86 and arm64 take unaligned words.
 */
static __always_inline void vlan_move_macs(void *p, __u32 shift)
{
	__u32 w0 = ((__u32 *)p)[0], w1 = ((__u32 *)p)[1], w2 = ((__u32 *)p)[2];
	__u32 *to = p + (shift == 2 * VLAN_TAG_LEN ? 2 * VLAN_TAG_LEN : VLAN_TAG_LEN);

	to[0] = w0;
	to[1] = w1;
	to[2] = w2;
}

/* The other way: the MACs SHIFT bytes on from P come back to P. */
static __always_inline void vlan_unmove_macs(void *p, __u32 shift)
{
	__u32 *from = p + (shift == 2 * VLAN_TAG_LEN ? 2 * VLAN_TAG_LEN : VLAN_TAG_LEN);
	__u32 w0 = from[0], w1 = from[1], w2 = from[2];

	((__u32 *)p)[0] = w0;
	((__u32 *)p)[1] = w1;
	((__u32 *)p)[2] = w2;
}

/*
 * XDP: takes the tags out of a frame of a configured VLAN (VF says which and what they were):
 * its MACs move over them, and the untagged frame starts VF->room (4 or 8) bytes after
 * ctx->data, where xdp_pxe parses it and the builders (dhcp_build_reply, tftp_xdp_send, the
 * RA and the WRQ's ERROR) build the reply, after the same room. The head does not move: the
 * untagged path makes one size change (the reply's), and so does the tagged one; a
 * bpf_xdp_adjust_head here cost a tagged reply 3-5 ns (BENCHMARKS.md, "VLAN tags").
 * Returns 0 when the frame is ready (VF->net 0: it came untagged), or the counter of a tagged
 * frame that is not ours, passed untouched.
 */
static __always_inline int vlan_xdp_strip(struct xdp_md *ctx, struct vlan_frame *vf,
					  void *counters_map)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct vlan_tag *tag = data + 2 * ETH_ALEN, *inner;
	struct xpxe_vlan *v;
	__u32 key, w0, w1, net;
	__be16 *next;

	/* An untagged frame, or one too short for any header: parse_ethhdr counts it. */
	if ((void *)(tag + 1) > data_end || !vlan_is_tpid(tag->tpid))
		return 0;
	next = (void *)(tag + 1);
	if ((void *)(next + 1) > data_end)
		return XPXE_CNT_PASS_VLAN;
	/* The outer (or only) tag as a word: one load here, one store into VF. */
	w0 = *(__u32 *)tag;
	if (!vlan_is_tpid(*next)) {
		/*
		 * One tag, the common case, straight through with its constants (4 bytes of
		 * room, one word): no test of the tag count past this one (BENCHMARKS.md, "VLAN
		 * tags", issue 22's fourth cost round). VID 0 only carries a priority (802.1p):
		 * the kernel takes it as untagged.
		 */
		key = vlan_vid(tag->tci);
		if (!key)
			return XPXE_CNT_PASS_VLAN_PRIORITY;
		if (tag->tpid != bpf_htons(ETH_P_8021Q))
			return XPXE_CNT_PASS_VLAN;
		v = bpf_map_lookup_elem(&vlan_vids, &key);
		if (!v)
			return XPXE_CNT_PASS_VLAN;
		net = v->net;
		/* The MACs move over the tag (the checks above cover these bytes, but not always
		 * in a form the verifier carries this far: said again). */
		if (!net || data + 2 * ETH_ALEN + 2 * VLAN_TAG_LEN > data_end)
			return XPXE_CNT_PASS_VLAN;
		vlan_move_macs(data, VLAN_TAG_LEN);
		vf->net = net;
		vf->ntags = 1;
		vf->room = VLAN_TAG_LEN;
		vf->word[0] = w0;
		vlan_tally(counters_map, XPXE_CNT_VLAN_RX);
		if (w0 & bpf_htonl(VLAN_PCP_MASK))
			vlan_tally(counters_map, XPXE_CNT_VLAN_PCP);
		return 0;
	}
	/* Two tags: an 802.1ad service tag (or a second 802.1Q) outside an 802.1Q one. */
	inner = (void *)next;
	next = (void *)(inner + 1);
	if ((void *)(next + 1) > data_end || inner->tpid != bpf_htons(ETH_P_8021Q) ||
	    vlan_is_tpid(*next))
		return XPXE_CNT_PASS_VLAN_QINQ; /* not an inner 802.1Q tag, or three tags */
	w1 = *(__u32 *)inner;
	v = vlan_qinq_lookup(vlan_vid(tag->tci), vlan_vid(inner->tci));
	/* Each lookup tested where it is made: with one test after both, the compiler
	 * made them one call of two maps, which the verifier cannot inline. */
	if (!v)
		return XPXE_CNT_PASS_VLAN_QINQ;
	net = v->net;
	if (!net)
		return XPXE_CNT_PASS_VLAN_QINQ;
	/* The MACs move over both tags (saved in VF): three words. */
	if (data + 2 * ETH_ALEN + 2 * VLAN_TAG_LEN > data_end)
		return XPXE_CNT_PASS_VLAN;
	vlan_move_macs(data, 2 * VLAN_TAG_LEN);
	vf->net = net;
	vf->ntags = 2;
	vf->room = 2 * VLAN_TAG_LEN;
	vf->word[0] = w0;
	vf->word[1] = w1;
	vlan_tally(counters_map, XPXE_CNT_VLAN_RX);
	if ((w0 | w1) & bpf_htonl(VLAN_PCP_MASK))
		vlan_tally(counters_map, XPXE_CNT_VLAN_PCP);
	return 0;
}

/*
 * The bytes in front of VF's untagged frame (0 untagged, 4 or 8: vlan_xdp_strip), where its
 * tags go back; a reply is built after as many (dhcp_build_reply, tftp_xdp_send, handle_ndp,
 * tftp_xdp_refuse_wrq), so that its one size change is all it makes. 0, 4 or 8 to the
 * verifier too: the untagged frame is at ctx->data plus this.
 */
static __always_inline __u32 vlan_room(const struct vlan_frame *vf)
{
	return vf->room & 0xc;
}

/*
 * XDP: puts VF's tags back on the frame, whose untagged frame (the reply built after the room,
 * or the request as it came) is VF->room bytes after ctx->data: its MACs come forward into
 * the room, and the tags go in after them. No head moves. Returns 0, or -1 when the frame
 * could not take them.
 */
static __always_inline int vlan_xdp_restore(struct xdp_md *ctx, const struct vlan_frame *vf)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 *tags = data + 2 * ETH_ALEN;

	if ((void *)(tags + 2) > data_end)
		return -1;
	/* Each tag count with its constants: no shift computed, no second test. */
	if (vf->ntags == 2) {
		vlan_unmove_macs(data, 2 * VLAN_TAG_LEN);
		tags[0] = vf->word[0];
		tags[1] = vf->word[1];
	} else {
		vlan_unmove_macs(data, VLAN_TAG_LEN);
		tags[0] = vf->word[0];
	}
	return 0;
}

/*
 * The template INDEX of VLAN NET (not 0), or NULL. The barrier keeps this lookup a call of its
 * own: dhcp.h picks between it and the untagged network's (dhcp_templates), and the compiler
 * had made the two one call of two maps, which the verifier cannot inline, so that every
 * reply, untagged too, paid a real call through the map's ops for its template.
 */
static __always_inline const struct xpxe_dhcp_template *vlan_template(__u32 net, __u32 index)
{
	const struct xpxe_dhcp_template *t;
	void *set = bpf_map_lookup_elem(&vlan_templates, &net);

	if (!set)
		return NULL;
	t = bpf_map_lookup_elem(set, &index);
	barrier_var(t);
	return t;
}

/*
 * tc: the 4 (vlan_tc_load4) or 2 (vlan_tc_load2) bytes at OFF of SKB's frame as they are
 * there (network order), or -1 past its end. Read in the packet where its linear part holds
 * them, as it does for nearly every frame, else by bpf_skb_load_bytes: the helper call cost
 * ~11 ns of a 68 ns pass (BENCHMARKS.md, issue 27's second round). For tc_vlan_out (every
 * frame leaving a trunk) and vlan_tc_note_prio (functions of their own); vlan_tc_ingress
 * pulls a short frame and reads in the packet alone.
 */
static __always_inline __s64 vlan_tc_load4(struct __sk_buff *skb, __u32 off)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u32 w;

	if (data + off + sizeof(w) <= data_end)
		return *(__u32 *)(data + off);
	if (bpf_skb_load_bytes(skb, off, &w, sizeof(w)))
		return -1;
	return w;
}

static __always_inline __s32 vlan_tc_load2(struct __sk_buff *skb, __u32 off)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u16 w;

	if (data + off + sizeof(w) <= data_end)
		return *(__u16 *)(data + off);
	if (bpf_skb_load_bytes(skb, off, &w, sizeof(w)))
		return -1;
	return w;
}

/* The bytes tc's classification of a tagged frame reads: up to an ARP's target protocol
 * address behind two tags. */
#define VLAN_TC_PEEK (2 * ETH_ALEN + 2 * VLAN_TAG_LEN + 2 + 28)

/*
 * tc ingress: a frame of a configured VLAN for that VLAN's server address (IPv4 to it, an ARP
 * for it) is tc_tftp's: the tags in the frame (an inner one, or both where nothing moved the
 * outer one to skb->vlan_tci) have its MACs moved over them, with no helper call and no
 * length changed, and T says what they were. Sets T (T->net: the VLAN's net, 0 for an
 * untagged frame, -1 for a tagged frame left as it is: the stack drops a VLAN it has no
 * device for) and returns T->net.
 *
 * A function of its own, verified once: its caller sees T->room as any of 0, 4 and 8 and
 * goes through tc_tftp once for all three. Every read in the packet, none by
 * bpf_skb_load_bytes (each call cost ~6-11 ns: BENCHMARKS.md, "VLAN tags"): a frame whose
 * linear part is shorter than what is read is pulled first, as good as never.
 */
__noinline int vlan_tc_ingress(struct __sk_buff *skb, struct vlan_tc_tags *t)
{
	void *data, *data_end;
	__u32 n = 0, first = 0, second = 0, room = 0, off;
	struct vlan_tag *tag;
	struct xpxe_vlan *v;
	__be32 *addr;
	__be16 proto;

	if (!t)
		return -1;
	t->net = -1;
	t->room = 0;
	if (skb->vlan_present) {
		first = skb->vlan_tci & VLAN_VID_MASK;
		t->tci[0] = (__u16)skb->vlan_tci;
		n = 1;
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data + VLAN_TC_PEEK > data_end && (long)data_end - (long)data < skb->len) {
		bpf_skb_pull_data(skb, skb->len < VLAN_TC_PEEK ? skb->len : VLAN_TC_PEEK);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	tag = data + 2 * ETH_ALEN;
	if ((void *)(tag + 2) > data_end)
		return t->net = n ? -1 : 0;
	if (vlan_is_tpid(tag[0].tpid)) {
		t->word[0] = *(__u32 *)&tag[0];
		if (n) {
			second = vlan_vid(tag[0].tci);
			t->tci[1] = bpf_ntohs(tag[0].tci);
		} else {
			first = vlan_vid(tag[0].tci);
			t->tci[0] = bpf_ntohs(tag[0].tci);
		}
		n++;
		room = VLAN_TAG_LEN;
		if (vlan_is_tpid(tag[1].tpid)) {
			if (n == 2)
				return -1; /* three tags */
			t->word[1] = *(__u32 *)&tag[1];
			second = vlan_vid(tag[1].tci);
			t->tci[1] = bpf_ntohs(tag[1].tci);
			n = 2;
			room = 2 * VLAN_TAG_LEN;
		}
	}
	if (!n)
		return t->net = 0;
	off = 2 * ETH_ALEN + room;
	if (data + off + 2 > data_end)
		return -1;
	proto = *(__be16 *)(data + off);
	if (vlan_is_tpid(proto))
		return -1; /* three tags */
	if (n == 2) {
		v = vlan_qinq_lookup(first, second);
	} else {
		v = bpf_map_lookup_elem(&vlan_vids, &first);
	}
	if (!v || !v->net || !(n == 2 ? second : first))
		return -1;
	/* IPv4 destination at 16 in its header; ARP target protocol address at 24 in its. */
	if (proto == bpf_htons(ETH_P_IP))
		off += 2 + 16;
	else if (proto == bpf_htons(ETH_P_ARP))
		off += 2 + 24;
	else
		return -1;
	addr = data + off;
	if ((void *)(addr + 1) > data_end || *addr != v->server_ip)
		return -1;
	/* The MACs over the tags in the frame (three words): the untagged frame is ROOM on. */
	if (room == 2 * VLAN_TAG_LEN)
		vlan_move_macs(data, 2 * VLAN_TAG_LEN);
	else if (room)
		vlan_move_macs(data, VLAN_TAG_LEN);
	t->vlan = n == 2 ? xpxe_vlan_key(first, second) : xpxe_vlan_key(0, first);
	t->n = n;
	t->room = room;
	return t->net = (__s32)v->net;
}

/*
 * tc: the tags T had in the frame back where they were (tc_tftp's DATA, built after them, or
 * the frame as it came): the MACs ROOM bytes on come forward and the tags go in after them.
 * A tag out of the frame (skb->vlan_tci) stays there: the DATA leaves with it, as the frame
 * came. Returns 0, or -1 when the frame is too short for them (never: it held them).
 */
static __always_inline int vlan_tc_restore(struct __sk_buff *skb, const struct vlan_tc_tags *t)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u32 *tags = data + 2 * ETH_ALEN, room = t->room;

	if (!room)
		return 0;
	if ((void *)(tags + 2) > data_end)
		return -1;
	if (room == 2 * VLAN_TAG_LEN) {
		vlan_unmove_macs(data, 2 * VLAN_TAG_LEN);
		tags[0] = t->word[0];
		tags[1] = t->word[1];
	} else {
		vlan_unmove_macs(data, VLAN_TAG_LEN);
		tags[0] = t->word[0];
	}
	return 0;
}

/* The peer's IPv4 address in an untagged IPv4 or ARP frame of ethertype PROTO: its source
 * (an ARP's sender), or with DST its destination (an ARP's target); 0 when there is none. */
static __always_inline __be32 vlan_tc_peer(struct __sk_buff *skb, __be16 proto, bool dst)
{
	__s64 w;
	__u32 off;

	/* IPv4 source at 12 in its header, destination at 16; ARP sender's protocol address at
	 * 14, target's at 24. */
	if (proto == bpf_htons(ETH_P_IP))
		off = ETH_HLEN + (dst ? 16 : 12);
	else if (proto == bpf_htons(ETH_P_ARP))
		off = ETH_HLEN + (dst ? 24 : 14);
	else
		return 0;
	w = vlan_tc_load4(skb, off);
	return w < 0 ? 0 : (__be32)w;
}

/*
 * tc ingress, for a VLAN's frame whose tags came off: notes its priority bits (BITS: the outer
 * or only tag's in the high half, an inner one's in the low) for what the kernel sends back to
 * its sender on the VLAN of tags VLAN (xpxe_vlan_key; vlan_prios), written only when they
 * changed. A function of its own, verified once.
 */
__noinline int vlan_tc_note_prio(struct __sk_buff *skb, __u32 vlan, __u32 bits)
{
	struct vlan_prio p = { .bits = { bits >> 16, bits & 0xffff } };
	struct vlan_prio_key k = { .vlan = vlan };
	struct vlan_prio *had;
	__be16 proto;

	__s32 w;

	if (!skb)
		return 0;
	w = vlan_tc_load2(skb, 2 * ETH_ALEN);
	if (w < 0)
		return 0;
	proto = (__be16)w;
	k.peer = vlan_tc_peer(skb, proto, false);
	if (!k.peer)
		return 0;
	had = bpf_map_lookup_elem(&vlan_prios, &k);
	if (had ? had->bits[0] == p.bits[0] && had->bits[1] == p.bits[1] : !bits)
		return 0;
	bpf_map_update_elem(&vlan_prios, &k, &p, BPF_ANY);
	return 1;
}

/*
 * tc ingress: a frame of T's VLAN that goes up to the stack (a TFTP RRQ, an ACK of a window
 * the daemon's socket sends, HTTP, ARP) loses its tags, so that the kernel, which holds the
 * VLAN's address, takes it: back in place (vlan_tc_restore), then popped, the one out of the
 * frame first (bpf_skb_vlan_pop moves an inner one out after it). Its priority bits are noted
 * for what the kernel sends back to its sender (vlan_tc_note_prio). A function of its own,
 * verified once, for every way up out of tc_tftp. Returns 1 when the tags came off, 0 when
 * the frame goes up as it came.
 */
__noinline int vlan_tc_up(struct __sk_buff *skb, const struct vlan_tc_tags *t)
{
	if (!t || vlan_tc_restore(skb, t))
		return 0;
	if (bpf_skb_vlan_pop(skb) || (t->n == 2 && bpf_skb_vlan_pop(skb)))
		return 0;
	vlan_tc_note_prio(skb, t->vlan,
			  (__u32)(t->tci[0] & VLAN_PRIO_MASK) << 16 |
			      (t->n == 2 ? t->tci[1] & VLAN_PRIO_MASK : 0));
	return 1;
}

/*
 * tc egress: what leaves from a VLAN's server address (IPv4 from it, ARP from it) gets that
 * VLAN's tags, with the priority bits its peer's last frame up to the stack had (vlan_prios;
 * none if it had none). bpf_skb_vlan_push puts the new tag out of band and moves one already
 * there into the frame, so the inner tag goes first. A frame already tagged (tc_tftp's DATA)
 * is left alone. Returns 1 when it tagged the frame, 0 when the frame is not a VLAN's, -1 when
 * its tags could not all be put on (drop it).
 */
static __always_inline int vlan_tc_egress(struct __sk_buff *skb)
{
	struct vlan_prio_key k;
	struct vlan_prio *p;
	struct xpxe_vlan *v;
	__u16 inner, outer;
	__be16 proto;
	__be32 addr;
	__u32 off;

	__s64 w;

	if (skb->vlan_present)
		return 0;
	w = vlan_tc_load2(skb, 2 * ETH_ALEN);
	if (w < 0)
		return 0;
	proto = (__be16)w;
	/* IPv4 source at 12 in its header; ARP sender protocol address at 14 in its. */
	if (proto == bpf_htons(ETH_P_IP))
		off = ETH_HLEN + 12;
	else if (proto == bpf_htons(ETH_P_ARP))
		off = ETH_HLEN + 14;
	else
		return 0;
	w = vlan_tc_load4(skb, off);
	if (w < 0)
		return 0;
	addr = (__be32)w;
	v = bpf_map_lookup_elem(&vlan_by_addr, &addr);
	if (!v || !v->vid)
		return 0;
	inner = v->vid;
	outer = v->outer_vid;
	k.peer = vlan_tc_peer(skb, proto, true);
	k.vlan = xpxe_vlan_key(v->outer_vid, v->vid);
	p = k.peer ? bpf_map_lookup_elem(&vlan_prios, &k) : NULL;
	if (p) {
		if (outer) {
			outer |= p->bits[0];
			inner |= p->bits[1];
		} else {
			inner |= p->bits[0];
		}
	}
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), inner))
		return -1;
	if (v->outer_vid && bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021AD), outer))
		return -1;
	return 1;
}

#endif /* XPXE_BPF_VLAN_H */
