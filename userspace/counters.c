// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"

const char *const xpxe_counter_names[XPXE_CNT_MAX] = {
	[XPXE_CNT_RX_FRAMES] = "rx_frames",
	[XPXE_CNT_PASS_TRUNCATED_ETH] = "pass_truncated_eth",
	[XPXE_CNT_PASS_VLAN] = "pass_vlan",
	[XPXE_CNT_PASS_NOT_IPV4] = "pass_not_ipv4",
	[XPXE_CNT_PASS_TRUNCATED_IPV4] = "pass_truncated_ipv4",
	[XPXE_CNT_PASS_BAD_IPV4_HEADER] = "pass_bad_ipv4_header",
	[XPXE_CNT_PASS_IPV4_FRAGMENT] = "pass_ipv4_fragment",
	[XPXE_CNT_PASS_MULTI_BUFFER] = "pass_multi_buffer",
	[XPXE_CNT_PASS_NOT_UDP] = "pass_not_udp",
	[XPXE_CNT_PASS_TRUNCATED_UDP] = "pass_truncated_udp",
	[XPXE_CNT_PASS_OTHER_PORT] = "pass_other_port",
	[XPXE_CNT_PASS_DHCP] = "pass_dhcp",
	[XPXE_CNT_PASS_TFTP] = "pass_tftp",
	[XPXE_CNT_PASS_BAD_UDP_CSUM] = "pass_bad_udp_csum",
	[XPXE_CNT_DROP_BAD_UDP_CSUM] = "drop_bad_udp_csum",
	[XPXE_CNT_DHCP_OFFER] = "dhcp_offer",
	[XPXE_CNT_DHCP_ACK] = "dhcp_ack",
	[XPXE_CNT_DHCP_ACK_4011] = "dhcp_ack_4011",
	[XPXE_CNT_DHCP_NAK] = "dhcp_nak",
	[XPXE_CNT_PASS_DHCP_MALFORMED] = "pass_dhcp_malformed",
	[XPXE_CNT_PASS_DHCP_OVERLOAD] = "pass_dhcp_overload",
	[XPXE_CNT_PASS_DHCP_NOT_PXE] = "pass_dhcp_not_pxe",
	[XPXE_CNT_PASS_DHCP_UNKNOWN_MACHINE] = "pass_dhcp_unknown_machine",
	[XPXE_CNT_PASS_DHCP_NO_BOOT_FILE] = "pass_dhcp_no_boot_file",
	[XPXE_CNT_DHCP_TO_DAEMON] = "dhcp_to_daemon",
	[XPXE_CNT_PASS_DHCP_QUEUE_FULL] = "pass_dhcp_queue_full",
	[XPXE_CNT_PASS_DHCP_OTHER_SERVER] = "pass_dhcp_other_server",
	[XPXE_CNT_PASS_DHCP_IGNORED] = "pass_dhcp_ignored",
	[XPXE_CNT_PASS_DHCP_NO_ROOM] = "pass_dhcp_no_room",
	[XPXE_CNT_DHCP_PROXY_TO_TC] = "dhcp_proxy_to_tc",
	[XPXE_CNT_DHCP_TC_STACK_COPY] = "dhcp_tc_stack_copy",
	[XPXE_CNT_DHCP_TC_NO_COPY] = "dhcp_tc_no_copy",
	/* TFTP */
	[XPXE_CNT_TFTP_DATA_XDP] = "tftp_data_xdp",
	[XPXE_CNT_TFTP_ACK_TO_TC] = "tftp_ack_to_tc",
	[XPXE_CNT_TFTP_DATA_TC] = "tftp_data_tc",
	[XPXE_CNT_TFTP_TC_NO_ROOM] = "tftp_tc_no_room",
	[XPXE_CNT_TFTP_TC_PASS] = "tftp_tc_pass",
	[XPXE_CNT_TFTP_SESSIONS_COMPLETED] = "tftp_sessions_completed",
	[XPXE_CNT_TFTP_SESSIONS_ABORTED] = "tftp_sessions_aborted",
	[XPXE_CNT_TFTP_ACK_STALE] = "tftp_ack_stale",
	[XPXE_CNT_TFTP_ACK_DUP_IGNORED] = "tftp_ack_dup_ignored",
	[XPXE_CNT_TFTP_PASS_SESSION] = "tftp_pass_session",
	[XPXE_CNT_TFTP_NO_ASSET] = "tftp_no_asset",
	[XPXE_CNT_TFTP_WRQ_REFUSED] = "tftp_wrq_refused",
	[XPXE_CNT_TFTP_BUILD_FAILED] = "tftp_build_failed",
	[XPXE_CNT_TFTP_BYTES] = "tftp_bytes",
	[XPXE_CNT_TFTP_RETRANSMITS] = "tftp_retransmits",
	[XPXE_CNT_TFTP_BYTES_TC] = "tftp_bytes_tc",
	[XPXE_CNT_TFTP_RRQ] = "tftp_rrq",
	[XPXE_CNT_TFTP_RRQ_REPEATED] = "tftp_rrq_repeated",
	[XPXE_CNT_TFTP_DATA_DAEMON] = "tftp_data_daemon",
	[XPXE_CNT_TFTP_SESSIONS_OPENED] = "tftp_sessions_opened",
	[XPXE_CNT_TFTP_SESSIONS_EXPIRED] = "tftp_sessions_expired",
	[XPXE_CNT_TFTP_FINAL_ACK_MISSING] = "tftp_final_ack_missing",
	[XPXE_CNT_TFTP_ERR_UNDEFINED] = "tftp_err0_undefined",
	[XPXE_CNT_TFTP_ERR_NOT_FOUND] = "tftp_err1_not_found",
	[XPXE_CNT_TFTP_ERR_ACCESS] = "tftp_err2_access",
	[XPXE_CNT_TFTP_ERR_ILLEGAL_OP] = "tftp_err4_illegal_op",
	[XPXE_CNT_TFTP_ERR_UNKNOWN_TID] = "tftp_err5_unknown_tid",
	[XPXE_CNT_TFTP_ERR_BAD_OPTION] = "tftp_err8_bad_option",
	[XPXE_CNT_TFTP_ACK_TO_XSK] = "tftp_ack_to_xsk",
	[XPXE_CNT_TFTP_ACK_TO_DAEMON] = "tftp_ack_to_daemon",
	[XPXE_CNT_TFTP_WINDOWS] = "tftp_windows",
	[XPXE_CNT_TFTP_WINDOW_RESTARTS] = "tftp_window_restarts",
	[XPXE_CNT_TFTP_DATA_XSK] = "tftp_data_xsk",
	[XPXE_CNT_TFTP_DATA_WINDOW_UDP] = "tftp_data_window_udp",
	[XPXE_CNT_TFTP_WINDOW_RESENT] = "tftp_window_resent",
	[XPXE_CNT_TFTP_XSK_TX_FULL] = "tftp_xsk_tx_full",
	[XPXE_CNT_TFTP_BYTES_DAEMON] = "tftp_bytes_daemon",
	[XPXE_CNT_TFTP_BYTES_XSK] = "tftp_bytes_xsk",
	[XPXE_CNT_DROP_DHCP_RATE_MAC] = "drop_dhcp_rate_mac",
	[XPXE_CNT_DROP_DHCP_RATE_GLOBAL] = "drop_dhcp_rate_global",
	[XPXE_CNT_DHCP_OFFER_HOLDS] = "dhcp_offer_holds",
	[XPXE_CNT_DHCP_HOLDS_RECLAIMED] = "dhcp_holds_reclaimed",
	[XPXE_CNT_DHCP_POOL_EXHAUSTED] = "dhcp_pool_exhausted",
	[XPXE_CNT_DHCP_REQUEST_UNOFFERED] = "dhcp_request_unoffered",
	[XPXE_CNT_TFTP_SESSIONS_REFUSED] = "tftp_sessions_refused",
	[XPXE_CNT_TFTP_SESSIONS_REFUSED_PER_IP] = "tftp_sessions_refused_per_ip",
	[XPXE_CNT_TFTP_SESSIONS_UNCONFIRMED] = "tftp_sessions_unconfirmed",
	[XPXE_CNT_TFTP_SESSIONS_REPLACED] = "tftp_sessions_replaced",
	[XPXE_CNT_NDP_RA_SENT] = "ndp_ra_sent",
	[XPXE_CNT_PASS_NDP_RS_IGNORED] = "pass_ndp_rs_ignored",
	[XPXE_CNT_PASS_NDP_RS_INVALID] = "pass_ndp_rs_invalid",
	[XPXE_CNT_PASS_NDP_NO_ROOM] = "pass_ndp_no_room",
	[XPXE_CNT_PASS_NDP_RS_RATE] = "pass_ndp_rs_rate",
	[XPXE_CNT_PASS_IPV6_EXT_HEADER] = "pass_ipv6_ext_header",
	[XPXE_CNT_DHCP6_ADVERTISE] = "dhcp6_advertise",
	[XPXE_CNT_DHCP6_REPLY] = "dhcp6_reply",
	[XPXE_CNT_PASS_DHCP6] = "pass_dhcp6",
	[XPXE_CNT_PASS_DHCP6_MALFORMED] = "pass_dhcp6_malformed",
	[XPXE_CNT_PASS_DHCP6_RELAY] = "pass_dhcp6_relay",
	[XPXE_CNT_PASS_DHCP6_IGNORED] = "pass_dhcp6_ignored",
	[XPXE_CNT_PASS_DHCP6_NOT_PXE] = "pass_dhcp6_not_pxe",
	[XPXE_CNT_PASS_DHCP6_OTHER_SERVER] = "pass_dhcp6_other_server",
	[XPXE_CNT_PASS_DHCP6_TO_DAEMON] = "pass_dhcp6_to_daemon",
	[XPXE_CNT_DHCP6_REPLY_BOUND] = "dhcp6_reply_bound",
	[XPXE_CNT_DHCP6_TAIL_CALL_FAILED] = "dhcp6_tail_call_failed",
	[XPXE_CNT_PASS_DHCP6_BAD_FRAME] = "pass_dhcp6_bad_frame",
	[XPXE_CNT_PASS_VLAN_QINQ] = "pass_vlan_qinq",
	[XPXE_CNT_PASS_VLAN_PRIORITY] = "pass_vlan_priority",
	[XPXE_CNT_VLAN_RX] = "vlan_rx",
	[XPXE_CNT_VLAN_PCP] = "vlan_pcp",
	[XPXE_CNT_VLAN_RETAG_FAILED] = "vlan_retag_failed",
	[XPXE_CNT_VLAN_TC_POPPED] = "vlan_tc_popped",
	[XPXE_CNT_VLAN_TC_PUSHED] = "vlan_tc_pushed",
	[XPXE_CNT_DHCP_OTHER_NET] = "dhcp_other_net",
	[XPXE_CNT_PASS_TFTP6] = "pass_tftp6",
	[XPXE_CNT_TFTP6_RRQ] = "tftp6_rrq",
	[XPXE_CNT_TFTP6_DATA] = "tftp6_data",
	[XPXE_CNT_TFTP6_RETRANSMITS] = "tftp6_retransmits",
	[XPXE_CNT_TFTP6_COMPLETED] = "tftp6_completed",
	[XPXE_CNT_TFTP6_COMPLETED_UDP] = "tftp6_completed_udp",
	[XPXE_CNT_TFTP6_ABORTED] = "tftp6_aborted",
	[XPXE_CNT_TFTP6_DATA_TC] = "tftp6_data_tc",
	[XPXE_CNT_TFTP6_TC_EXT_HDR] = "tftp6_tc_ext_hdr",
	[XPXE_CNT_TFTP6_TC_TRUNCATED] = "tftp6_tc_truncated",
	[XPXE_CNT_TFTP6_DROP_BAD_CSUM] = "tftp6_drop_bad_csum",
	[XPXE_CNT_TFTP6_TC_PASS_SESSION] = "tftp6_tc_pass_session",
	[XPXE_CNT_TFTP6_TAKEOVER] = "tftp6_takeover",
	[XPXE_CNT_TFTP6_DATA_XDP] = "tftp6_data_xdp",
	[XPXE_CNT_TFTP6_XDP_TO_TC] = "tftp6_xdp_to_tc",
	[XPXE_CNT_TFTP6_DATA_XSK] = "tftp6_data_xsk",
	[XPXE_CNT_DHCP_PROXY_XDP] = "dhcp_proxy_xdp",
};

int xpxe_counters_read(int map_fd, __u64 totals[XPXE_CNT_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *percpu;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (__u32 key = 0; key < XPXE_CNT_MAX; key++) {
		totals[key] = 0;
		if (bpf_map_lookup_elem(map_fd, &key, percpu)) {
			int err = -errno;

			free(percpu);
			return err;
		}
		for (int cpu = 0; cpu < ncpus; cpu++)
			totals[key] += percpu[cpu];
	}
	free(percpu);
	return 0;
}

int xpxe_counter_add(int map_fd, enum xpxe_counter c, __u64 n)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 key = c;
	__u64 *percpu;
	int err = 0;

	if (!n)
		return 0;
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	/* Only the daemon writes its counters: their sum lives in CPU 0's slot. */
	if (bpf_map_lookup_elem(map_fd, &key, percpu) ||
	    (percpu[0] += n, bpf_map_update_elem(map_fd, &key, percpu, BPF_ANY)))
		err = -errno;
	free(percpu);
	return err;
}
