// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The lab's DHCP ceiling, proxy mode: see bench_dhcp_reflect.h. */
#include "bench_dhcp_reflect.h"

SEC("xdp")
int xdp_dhcp_reflect_proxy(struct xdp_md *ctx)
{
	return reflect(ctx, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
