#!/usr/bin/env bash
# Windowed TFTP (RFC 7440) on a VLAN (issue 22): xdp_pxe takes the ACK's tags off, decides the
# window and redirects the ACK to the daemon's AF_XDP socket with the tags in the descriptor
# in front of it (include/xpxe_tftp.h); the window's frames leave tagged as the ACK came. The
# access port (bpf/lab_vlan.h) drops anything untagged, so a file that arrives whole came
# tagged. atftp with windowsize 4 and 16 on VLAN 10, byte for byte; the counters say AF_XDP
# sent the blocks (tftp_ack_to_xsk, tftp_data_xsk), not the transfer's UDP socket.
# The 32 MiB download's time is printed (a figure, not an assertion).
LAB=tvwin
source "$(dirname "$0")/lib.sh"
require_root

[ -f "$BUILD/lab_vlan10.bpf.o" ] || { not_ok "$BUILD/lab_vlan10.bpf.o is missing: run make"; exit 1; }
command -v atftp >/dev/null || { not_ok "atftp is missing (scripts/deps.sh)"; exit 1; }
lab up || { not_ok "lab up"; exit 1; }
if lab host 1 52:54:00:f4:00:01 && in_cli tc qdisc replace dev "$LAB-h1" clsact &&
	in_cli tc filter replace dev "$LAB-h1" ingress bpf da obj "$BUILD/lab_vlan10.bpf.o" sec tc &&
	in_cli tc filter replace dev "$LAB-h1" egress bpf da obj "$BUILD/lab_vlan10.bpf.o" sec classifier
then
	ok "h1 on an access port of VLAN 10"
else
	not_ok "h1 on an access port of VLAN 10"
	exit 1
fi
in_cli ethtool -K "$IF_CLI" txvlan off >/dev/null
in_srv ethtool -K "$IF_SRV" txvlan off >/dev/null

head -c 3000000 /dev/urandom >"$WORK/f3m"
head -c $((32 * 1024 * 1024)) /dev/urandom >"$WORK/big"
if start_daemon -i "$IF_SRV" --mode full --vlan "10=198.18.10.1/24" --asset "f3m=$WORK/f3m" \
	--asset "big=$WORK/big" --tftp-windowsize-max 16; then
	ok "xpxe serves VLAN 10 with windows up to 16"
else
	not_ok "xpxe serves VLAN 10 with windows up to 16" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
check "AF_XDP sockets are open for windows" jq -e '.interfaces[0].tftp.window.af_xdp' \
	<<<"$("$XPXE" status --json)"
ip -n "$LAB-h1" addr replace 198.18.10.50/24 dev eth0

# get W NAME: atftp on VLAN 10 fetches NAME with windowsize W into $WORK/got.NAME.W.
get() {
	timeout 300 ip netns exec "$LAB-h1" atftp --option "blksize 1468" --option "windowsize $1" \
		--get -r "$2" -l "$WORK/got.$2.$1" 198.18.10.1 >"$WORK/atftp.log" 2>&1
}
xsk0=$(counter tftp_data_xsk)
udp0=$(counter tftp_data_window_udp)
for w in 4 16; do
	if get "$w" f3m && [ "$(sha "$WORK/got.f3m.$w")" = "$(sha "$WORK/f3m")" ]; then
		ok "atftp windowsize $w on VLAN 10: f3m byte for byte"
	else
		not_ok "atftp windowsize $w on VLAN 10: f3m" "$(tail -3 "$WORK/atftp.log")"
	fi
done
check "... the windows went through AF_XDP (tftp_ack_to_xsk > 0, tftp_data_xsk >= 2 x 2044)" \
	test "$(counter tftp_ack_to_xsk)" -gt 0 -a $(($(counter tftp_data_xsk) - xsk0)) -ge 4088
check "... not the transfers' UDP sockets (tftp_data_window_udp unchanged)" \
	test "$(counter tftp_data_window_udp)" -eq "$udp0"

# Five downloads of 32 MiB: each byte for byte; their times (ms, atftp's whole run) printed
# with the median, a figure for A/B runs (XPXE_BIN, XPXE_BUILD), not an assertion.
times=() bad=0
for i in 1 2 3 4 5; do
	start=$(date +%s%N)
	get 16 big || bad=1
	times+=($((($(date +%s%N) - start) / 1000000)))
	[ "$(sha "$WORK/got.big.16")" = "$(sha "$WORK/big")" ] || bad=1
done
if [ "$bad" = 0 ]; then
	ok "atftp windowsize 16 on VLAN 10: 32 MiB byte for byte, 5 times"
	echo "# 32 MiB, windowsize 16, blksize 1468, VLAN 10: ${times[*]} ms, median" \
		"$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p) ms" \
		"(tftp_data_xsk $(counter tftp_data_xsk), tftp_data_window_udp $(counter tftp_data_window_udp);" \
		"load $(cut -d' ' -f1-3 /proc/loadavg))"
else
	not_ok "atftp windowsize 16 on VLAN 10: 32 MiB, 5 times" "${times[*]} ms" "$(tail -3 "$WORK/atftp.log")"
fi
