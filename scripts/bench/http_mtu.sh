#!/usr/bin/env bash
# HTTP across the lab's veth pair at MTU 1500 and at MTU 9000 (issue 23: what XDP on the
# server's veth costs TCP, and what a jumbo MTU gives back): two labs side by side, each with
# `xpxe serve` attached (at 9000 the multi-buffer build, xdp_pxe_frags), and one curl of a
# SIZE_MIB asset from the client namespace per run. Each round runs four cases in turn: each
# MTU with xpxe's XDP program on the server's end, and with it taken off for that run (put back
# from its pin after), so the machine's other load falls on every case alike. Prints each
# run and the medians in MB/s (10^6 bytes/s), and the load average before and after.
#
#   RUNS=7 SIZE_MIB=256 scripts/bench/http_mtu.sh     (root; LAB15/LAB90 name the labs)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XPXE=${XPXE_BIN:-$root/xpxe}
RUNS=${RUNS:-7}
SIZE_MIB=${SIZE_MIB:-256}
LABS=("${LAB15:-bh15}" "${LAB90:-bh90}")
MTUS=(1500 9000)
work=$(mktemp -d "/tmp/xpxe-http-mtu.XXXXXX")
pids=()

cleanup() {
	local p l
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for l in "${LABS[@]}"; do LAB=$l "$root/scripts/lab.sh" down >/dev/null 2>&1 || true; done
	rm -rf "$work"
}
trap cleanup EXIT

head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$work/big"
head -c 1000 /dev/urandom >"$work/small"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 0 1; do
	l=${LABS[$i]}
	if [ "${MTUS[$i]}" = 1500 ]; then
		LAB=$l "$root/scripts/lab.sh" up
	else
		LAB=$l MTU=${MTUS[$i]} "$root/scripts/lab.sh" up
	fi
	mkdir -p "$work/$l"
	XPXE_SOCKET=$work/$l/sock nsenter --net="/run/netns/$l-srv" "$XPXE" serve -i "$l-s0" \
		--no-default-assets --kernel "$work/big" --initrd "$work/small" \
		--state-dir "$work/$l" --leases "$work/$l/leases" >"$work/$l/log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1200); do
		XPXE_SOCKET=$work/$l/sock "$XPXE" status >/dev/null 2>&1 && break
		kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/$l/log"; exit 1; }
		sleep 0.1
	done
	echo "$l (MTU ${MTUS[$i]}): $(grep -o 'attached xdp_pxe[a-z_]* ([^)]*) in [a-z]* mode' "$work/$l/log")"
done

fetch() { # LAB -> MB/s of one GET of the asset
	ip netns exec "$1-cli" curl -sS -o /dev/null -w '%{speed_download}\n' \
		"http://198.18.0.1:8080/assets/vmlinuz" | awk '{ printf "%.0f\n", $1 / 1e6 }'
}
declare -A runs
for _ in $(seq "$RUNS"); do
	for i in 0 1; do
		l=${LABS[$i]}
		runs[${MTUS[$i]}.xdp]+="$(fetch "$l") "
		nsenter --net="/run/netns/$l-srv" ip link set dev "$l-s0" xdp off
		runs[${MTUS[$i]}.none]+="$(fetch "$l") "
		nsenter --net="/run/netns/$l-srv" ip link set dev "$l-s0" xdpdrv \
			pinned "/sys/fs/bpf/xpxe/$l-s0/xdp_pxe"
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-6s %-34s %8s   %s\n' MTU "server's veth" "median" "runs (MB/s)"
for m in "${MTUS[@]}"; do
	printf '%-6s %-34s %8s   %s\n' "$m" "xpxe's XDP program attached" "$(median <<<"${runs[$m.xdp]}")" "${runs[$m.xdp]}"
	printf '%-6s %-34s %8s   %s\n' "$m" "no XDP program" "$(median <<<"${runs[$m.none]}")" "${runs[$m.none]}"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
