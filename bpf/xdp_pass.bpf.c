// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lab's client-side veth peers run this: on veth, frames sent with native
 * XDP_TX reach the peer reliably only when the peer runs an XDP program
 * (see DESIGN.md, facts about the lab).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

/* The same for a jumbo-MTU lab (scripts/lab.sh, MTU=9000): a veth takes a program without
 * multi-buffer support only while its peer's MTU fits one page. */
SEC("xdp.frags")
int xdp_pass_frags(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
