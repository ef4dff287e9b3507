// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lab_drop: for the lab tests only. On a client's tc ingress it drops the first
 * TFTP DATA frame of block 5 it sees, once, so a test can watch a transfer
 * recover from a lost block. (This kernel has neither netem nor gact.)
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "lab_tftp.h"

__u32 dropped;

SEC("tc")
int lab_drop(struct __sk_buff *skb)
{
	if (lab_tftp_data_block(skb) != 5 || dropped)
		return TC_ACT_OK;
	dropped = 1;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
