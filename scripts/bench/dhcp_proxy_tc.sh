#!/usr/bin/env bash
# What proxy mode's PXE DISCOVERs cost per frame in the data plane, under real traffic: perfdhcp
# (relayed, 1000 MACs, PXE options 60 and 93) against `xpxe serve --mode proxy` on the lab's
# veth; the kernel's own figures (kernel.bpf_stats_enabled: run_time_ns / run_cnt) for xdp_pxe
# and tc_tftp. Since issue 19.1 a proxy PXE DISCOVER costs a pass in XDP plus tc's answer (the
# stack's copy, then the OFFER); before, XDP answered alone.
#
#   scripts/bench/dhcp_proxy_tc.sh [XPXE-BINARY]   (default ./xpxe; LAB=NAME to run beside others)
#
# The limits are lifted (--dhcp-mac-rate 0, --dhcp-global-rate 0): one client repeats MACs.
set -euo pipefail
cd "$(dirname "$0")/../.."
LAB=${LAB:-xbench}
export LAB
eval "$(scripts/lab.sh env)"
. scripts/bench/lib.sh
XPXE=$(realpath "${1:-./xpxe}")
RATE=${RATE:-1000} SECS=${SECS:-10}

old_stats=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	bench_stop_servers || true
	sysctl -qw kernel.bpf_stats_enabled="$old_stats"
	scripts/lab.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT
bench_lab_up >/dev/null
scripts/lab.sh host 1 52:54:00:be:00:01 >/dev/null
ip -n "$LAB-h1" addr replace 198.18.0.11/24 dev eth0

sock=$(mktemp -u /tmp/xpxe-bench-XXXXXX.sock)
nsenter --net="/run/netns/$NS_SRV" "$XPXE" --socket "$sock" serve -i "$IF_SRV" --mode proxy \
	--dhcp-mac-rate 0 --dhcp-global-rate 0 >/tmp/xpxe-bench-dhcp-proxy-tc.log 2>&1 &
for _ in $(seq 100); do "$XPXE" --socket "$sock" status >/dev/null 2>&1 && break; sleep 0.1; done
prog_ids() { ip netns exec "$NS_SRV" bpftool -j net show dev "$IF_SRV" | jq -r '..|.id? // empty'; }
stats() { # ID -> "run_cnt run_time_ns"
	bpftool -j prog show id "$1" | jq -r '"\(.run_cnt // 0) \(.run_time_ns // 0)"'
}
offers() { "$XPXE" --socket "$sock" status --json | jq '.interfaces[0].counters.dhcp_offer'; }

sysctl -qw kernel.bpf_stats_enabled=1
declare -A cnt0 ns0
ids=$(prog_ids | sort -u)
for id in $ids; do read -r cnt0[$id] ns0[$id] <<<"$(stats "$id")"; done
o0=$(offers)
vci=$(printf 'PXEClient:Arch:00000:UNDI:002001' | od -An -tx1 | tr -d ' \n')
ip netns exec "$LAB-h1" timeout $((SECS + 20)) perfdhcp -4 -l eth0 -i -r "$RATE" -p "$SECS" \
	-R 1000 -o "60,$vci" -o 93,0000 198.18.0.1 >/tmp/xpxe-bench-perfdhcp.log 2>&1 || true
o1=$(offers)
total=0
for id in $ids; do
	read -r c n <<<"$(stats "$id")"
	name=$(bpftool -j prog show id "$id" | jq -r .name)
	c=$((c - cnt0[$id])) n=$((n - ns0[$id]))
	[ "$c" -gt 0 ] || continue
	total=$((total + n))
	printf '%-10s %8d runs %6d ns/run\n' "$name" "$c" $((n / c))
done
printf 'offers     %8d      %6d ns of xdp_pxe + tc_tftp per OFFER\n' $((o1 - o0)) \
	$((total / ((o1 - o0) > 0 ? (o1 - o0) : 1)))
