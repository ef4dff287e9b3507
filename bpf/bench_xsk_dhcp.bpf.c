// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_xsk_dhcp: for `make bench` only. scripts/bench/dhcp_load.c -X attaches it to its own
 * interface (a client host's, in the lab) and opens an AF_XDP socket on queue 0: DHCP replies
 * (UDP from port 67 or 4011) go to that socket, before any socket buffer is made for them;
 * everything else goes on to the kernel.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int xdp_xsk_dhcp(struct xdp_md *ctx)
{
	const __u8 *f = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (f + 14 + 20 + 8 > end || f[12] != 0x08 || f[13] != 0 || f[14] != 0x45 || f[23] != 17)
		return XDP_PASS;
	/* UDP source port 67 (0x0043) or 4011 (0x0fab) */
	if (!((f[34] == 0 && f[35] == 67) || (f[34] == 0x0f && f[35] == 0xab)))
		return XDP_PASS;
	return bpf_redirect_map(&xsks, 0, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
