// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lab_drop_ack: for the lab tests only. On a client's tc egress it drops every
 * TFTP ACK of block 20 the client sends, so a test can watch a transfer whose
 * final ACK never arrives (a file of 20 blocks: the client got it all) beside
 * one stalled in its middle (a longer file: block 21 never comes).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "lab_tftp.h"

#define DROP_ACK 20

__u32 dropped; /* ACKs dropped */

SEC("tc")
int lab_drop_ack(struct __sk_buff *skb)
{
	if (lab_tftp_block(skb, XPXE_TFTP_ACK) != DROP_ACK)
		return TC_ACT_OK;
	dropped++;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
