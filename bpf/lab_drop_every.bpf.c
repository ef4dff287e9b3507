// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lab_drop_every: for the lab tests only. On a client's tc ingress it drops the
 * first copy of every TFTP DATA block whose number is a multiple of 25, so a
 * 715-block transfer loses 28 blocks, each recovered by one retry: more
 * retries over the transfer than a client allows in a row (storm's 20). One
 * lockstep transfer at a time: the retry of the block last dropped passes.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "lab_tftp.h"

#define DROP_EVERY 25

__u32 dropped;	    /* how many DATA frames were dropped */
__u32 last_dropped; /* the block last dropped: its retry passes */

SEC("tc")
int lab_drop_every(struct __sk_buff *skb)
{
	int block = lab_tftp_data_block(skb);

	if (block <= 0 || (__u32)block % DROP_EVERY || (__u32)block == last_dropped)
		return TC_ACT_OK;
	last_dropped = block;
	dropped++;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
