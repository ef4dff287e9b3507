// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lab_drop_final: for the lab tests only. On a client's tc ingress it drops every TFTP DATA
 * frame of block 20, so a test can watch a lockstep client that never gets the final block of
 * a file of 20 blocks: it ACKs block 19 again and again, and its transfer must fail, not end
 * as done.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "lab_tftp.h"

#define DROP_DATA 20

__u32 dropped; /* DATA frames dropped */

SEC("tc")
int lab_drop_final(struct __sk_buff *skb)
{
	if (lab_tftp_data_block(skb) != DROP_DATA)
		return TC_ACT_OK;
	dropped++;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
