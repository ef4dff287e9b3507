// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pxe: the data plane on the provisioning interface. It classifies every
 * frame, answers DHCP/ProxyDHCP from templates (dhcp.h), and counts the
 * outcome of each frame in exactly one counter.
 */
#include "parse.h"
#include "dhcp.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPXE_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* The one exit of the program: count why, then return the verdict. */
static __always_inline int count_and(__u32 reason, int verdict)
{
	__u64 *slot = bpf_map_lookup_elem(&counters, &reason);

	if (slot)
		*slot += 1;
	return verdict;
}

SEC("xdp")
int xdp_pxe(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor cur = { .pos = (void *)(long)ctx->data };
	struct ethhdr *eth;
	struct iphdr *iph;
	struct udphdr *udph;
	int ret, verdict;

	count_and(XPXE_CNT_RX_FRAMES, XDP_PASS);

	ret = parse_ethhdr(&cur, data_end, &eth);
	if (ret < 0)
		return count_and(-ret, XDP_PASS);
	if (ret != ETH_P_IP)
		return count_and(XPXE_CNT_PASS_NOT_IPV4, XDP_PASS);

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
		ret = handle_dhcp(ctx, eth, iph, udph, ret, &verdict);
		return count_and(ret, verdict);
	case XPXE_PORT_TFTP:
		return count_and(XPXE_CNT_PASS_TFTP, XDP_PASS);
	default:
		return count_and(XPXE_CNT_PASS_OTHER_PORT, XDP_PASS);
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
