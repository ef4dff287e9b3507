#!/usr/bin/env bash
# `kill -9` of the daemon in the middle of a DHCP boot storm (full mode; test_restart.sh
# does the same to TFTP): perfdhcp brings 64 new machines at 20 exchanges/s while the
# daemon binds them; the daemon is killed mid-storm (once it has written bindings) and
# started again; the storm runs until the new daemon has bound more. Nothing is lost:
# every binding written before the kill is there after it, with the same address, none
# twice, the file whole; the data plane answered known machines while no daemon ran; the
# new daemon adopts the data plane and binds the rest.
LAB=fkill
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 52:54:00:c1:00:01 >>"$WORK/lab.log" 2>&1
lab host 3 52:54:00:c1:00:03 >>"$WORK/lab.log" 2>&1
LEASES=$WORK/bindings
SERVE=(-i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.227 --leases "$LEASES"
	--state-dir "$WORK/state" --no-default-assets)
start_daemon "${SERVE[@]}" || { not_ok "serve starts"; exit 1; }
udhcpc_run "$LAB-h1" h1
check "a machine bound before the storm (198.18.0.100)" test "$(result_field h1 ip)" = 198.18.0.100

for i in $(seq 1 64); do printf '52:54:00:c2:00:%02x\n' "$i"; done >"$WORK/macs"
ip -n "$LAB-h3" addr replace 198.18.0.12/24 dev eth0
# No -p: the storm goes on until this test stops it (SIGINT), however long each step takes.
ip netns exec "$LAB-h3" timeout 600 perfdhcp -4 -l eth0 -r 20 -M "$WORK/macs" 198.18.0.1 \
	>"$WORK/perfdhcp.log" 2>&1 &
storm=$!
bindings() { grep -vc '^#' "$LEASES" 2>/dev/null; }
storm_bound() { [ "$(bindings)" -gt 1 ]; } # beside the machine bound before it
wait_until storm_bound
cp "$LEASES" "$WORK/before-kill"
kill -KILL "$DAEMON_PID"
wait_daemon
n_before=$(grep -vc '^#' "$WORK/before-kill")
check "the storm was binding machines when the daemon died ($n_before bindings)" test "$n_before" -gt 1

# No daemon: the data plane alone answers the machines it knows.
udhcpc_run "$LAB-h1" h1dead
check "with no daemon, a known machine still gets its address" test "$(result_field h1dead ip)" = 198.18.0.100
start_daemon "${SERVE[@]}" || not_ok "a new daemon starts in the storm"
check "... over the same data plane (adopted)" jq -e '.interfaces[0].adopted == true' <<<"$("$XPXE" status --json)"
bound_more() { [ "$(bindings)" -gt "$n_before" ]; }
wait_until bound_more
kill -INT "$storm"
wait "$storm"

missing=0
while read -r mac ip _; do
	grep -q "^$mac $ip " "$LEASES" || missing=$((missing + 1))
done < <(grep -v '^#' "$WORK/before-kill")
check "every binding written before the kill is still there, same address ($missing missing)" test "$missing" -eq 0
check "the file is whole: no bad line, nothing moved aside" \
	bash -c "! grep -q 'bad line\|expected .MAC IP EXPIRES' '$WORK/daemon.log' && ! ls '$LEASES'.corrupt-* 2>/dev/null"
check "no address bound twice" test "$(awk '!/^#/{print $2}' "$LEASES" | sort | uniq -d | wc -l)" -eq 0
n_after=$(grep -vc '^#' "$LEASES")
check "the new daemon bound more of the storm ($n_before -> $n_after bindings)" test "$n_after" -gt "$n_before"
check "xpxe leases lists every binding on disk" jq -e ".leases | length == $n_after" <<<"$("$XPXE" leases --json)"

# The storm again: the machines it bound keep their addresses.
cp "$LEASES" "$WORK/after-storm"
ip netns exec "$LAB-h3" timeout 30 perfdhcp -4 -l eth0 -r 200 -p 2 -M "$WORK/macs" 198.18.0.1 \
	>"$WORK/perfdhcp2.log" 2>&1
changed=0
while read -r mac ip _; do
	grep -q "^$mac $ip " "$LEASES" || changed=$((changed + 1))
done < <(grep -v '^#' "$WORK/after-storm")
check "the storm again: every machine keeps its address ($changed changed)" test "$changed" -eq 0
acks=$(awk '/REQUEST-ACK/{f=1} f&&/received packets/{print $3; exit}' "$WORK/perfdhcp2.log")
check "... perfdhcp completed DORAs (${acks:-0})" test "${acks:-0}" -gt 0
check "no address bound twice" test "$(awk '!/^#/{print $2}' "$LEASES" | sort | uniq -d | wc -l)" -eq 0
check "the machine bound before the storm kept its address" \
	grep -q '^52:54:00:c1:00:01 198.18.0.100 ' "$LEASES"
