#!/usr/bin/env bash
# Full mode in the lab: reservations and renewals answered in XDP, new MACs
# bound by the daemon from the pool and persisted, NAKs, restarts and SIGKILL
# that lose no binding, a corrupt bindings file, and an exhausted pool that
# leaves reservations working. Real clients: dhclient, udhcpc, perfdhcp.
LAB=tdfull
source "$(dirname "$0")/lib.sh"
require_root

lab up || { not_ok "lab up"; exit 1; }
for n in 1 2 3; do lab host $n "52:54:00:f0:00:0$n"; done
LEASES=$WORK/bindings
SERVE=(-i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109
	--reserve 52:54:00:f0:00:01=198.18.0.50 --router 198.18.0.1 --leases "$LEASES")

if start_daemon "${SERVE[@]}"; then ok "xpxe serves $IF_SRV in full mode"; else
	not_ok "xpxe serves $IF_SRV in full mode"; exit 1; fi

# --- a reservation, answered by XDP alone --------------------------------------------
dhclient_run "$LAB-h1" h1
if [ "$(result_field h1 ip)" = 198.18.0.50 ] && [ "$(result_field h1 server)" = 198.18.0.1 ]; then
	ok "dhclient of a reserved MAC gets 198.18.0.50"
else
	not_ok "dhclient of a reserved MAC gets 198.18.0.50" "$(cat "$WORK/h1.result" 2>/dev/null)" "$(tail -4 "$WORK/h1.log")"
fi
check "... without the daemon (dhcp_to_daemon 0)" test "$(counter dhcp_to_daemon)" -eq 0

# --- a new MAC: the daemon binds it from the pool --------------------------------------
udhcpc_run "$LAB-h2" h2
if [ "$(result_field h2 ip)" = 198.18.0.100 ] && [ "$(result_field h2 router)" = 198.18.0.1 ]; then
	ok "udhcpc of a new MAC gets the pool's first address, with the router"
else
	not_ok "udhcpc of a new MAC gets 198.18.0.100" "$(cat "$WORK/h2.result" 2>/dev/null)" "$(tail -4 "$WORK/h2.log")"
fi
check "the binding is on disk" grep -q '^52:54:00:f0:00:02 198.18.0.100 ' "$LEASES"
# The DISCOVER gets an offer held in memory, the REQUEST its binding, written first.
check "the first contact went to the daemon: DISCOVER and REQUEST (dhcp_to_daemon 2)" \
	test "$(counter dhcp_to_daemon)" -eq 2
udhcpc_run "$LAB-h2" h2again
check "the same MAC again: the same address" test "$(result_field h2again ip)" = 198.18.0.100
check "... answered in XDP (dhcp_to_daemon still 2)" test "$(counter dhcp_to_daemon)" -eq 2

# --- renewal and NAK with dhclient's INIT-REBOOT --------------------------------------------
acks0=$(counter dhcp_ack)
dhclient_run "$LAB-h1" h1
if grep -q "DHCPREQUEST for 198.18.0.50" "$WORK/h1.log" && grep -q DHCPACK "$WORK/h1.log" &&
	[ "$(counter dhcp_ack)" -gt "$acks0" ]; then
	ok "dhclient's INIT-REBOOT for its lease is ACKed"
else
	not_ok "dhclient's INIT-REBOOT is ACKed" "$(tail -4 "$WORK/h1.log")"
fi
sed -i 's/198\.18\.0\.50/198.18.0.99/g' "$WORK/h1.leases"
naks0=$(counter dhcp_nak)
dhclient_run "$LAB-h1" h1
if grep -q "DHCPNAK from 198.18.0.1" "$WORK/h1.log" && [ "$(result_field h1 ip)" = 198.18.0.50 ] &&
	[ "$(counter dhcp_nak)" -gt "$naks0" ]; then
	ok "a REQUEST for a wrong address is NAKed, then the client gets its own"
else
	not_ok "wrong address NAKed" "$(tail -6 "$WORK/h1.log")"
fi

# --- restart: bindings come back from disk ---------------------------------------------
kill -TERM "$DAEMON_PID"; wait_daemon
start_daemon "${SERVE[@]}" || not_ok "serve starts again"
udhcpc_run "$LAB-h2" h2restart
check "after a restart the MAC keeps 198.18.0.100" test "$(result_field h2restart ip)" = 198.18.0.100
check "... answered in XDP from the reloaded binding" test "$(counter dhcp_to_daemon)" -eq 0

# --- SIGKILL: the data plane answers known machines; new ones wait for the daemon --------------
kill -KILL "$DAEMON_PID"; wait_daemon
udhcpc_run "$LAB-h2" h2dead
check "with the daemon killed, a known MAC still gets its address" test "$(result_field h2dead ip)" = 198.18.0.100
udhcpc_run "$LAB-h3" h3dead
check "... and a new MAC gets nothing (no daemon to bind it)" test ! -s "$WORK/h3dead.result"
start_daemon "${SERVE[@]}" || not_ok "serve starts over the killed daemon's data plane"
check "the new daemon adopted the pins" jq -e '.interfaces[0].adopted == true' <<<"$("$XPXE" status --json)"
udhcpc_run "$LAB-h3" h3
check "after the restart the new MAC is bound (198.18.0.101)" test "$(result_field h3 ip)" = 198.18.0.101

# --- a corrupt bindings file ------------------------------------------------------------------
kill -TERM "$DAEMON_PID"; wait_daemon
echo "garbage that is not a binding" >>"$LEASES"
start_daemon "${SERVE[@]}" || not_ok "serve starts with a corrupt bindings file"
check "the bad line is reported with its line number" grep -q "bindings:[0-9]*: expected 'MAC IP EXPIRES'" "$WORK/daemon.log"
check "the corrupt file is moved aside, not emptied" bash -c "ls '$LEASES'.corrupt-* >/dev/null && grep -q garbage '$LEASES'.corrupt-*"
check "the good bindings are kept" grep -q '^52:54:00:f0:00:03 198.18.0.101 ' "$LEASES"
udhcpc_run "$LAB-h2" h2corrupt
check "... and still answered" test "$(result_field h2corrupt ip)" = 198.18.0.100

# --- perfdhcp: 30 new MACs for a pool with 8 free addresses ----------------------------------------
for i in $(seq 1 30); do printf '52:54:00:ee:00:%02x\n' "$i"; done >"$WORK/macs"
ip -n "$LAB-h3" addr replace 198.18.0.12/24 dev eth0
# Rounds of 3 s until the pool is full and new MACs are refused: a busy machine may bind
# fewer than 8 in the first.
pool_bindings() { grep -c ' 198\.18\.0\.10[0-9] ' "$LEASES"; }
filled() {
	ip netns exec "$LAB-h3" timeout 60 perfdhcp -4 -l eth0 -r 100 -p 3 -M "$WORK/macs" 198.18.0.1 \
		>>"$WORK/fill.out" 2>&1
	[ "$(pool_bindings)" -ge 10 ] &&
		"$XPXE" status --json | jq -e '.interfaces[0].dhcp.pool_exhausted > 0' >/dev/null
}
wait_until filled
out=$(cat "$WORK/fill.out")
status=$("$XPXE" status --json)
check "the pool filled up: 10 pool bindings" test "$(grep -c ' 198\.18\.0\.10[0-9] ' "$LEASES")" -eq 10
check "refusals counted as pool_exhausted" jq -e '.interfaces[0].dhcp.pool_exhausted > 0' <<<"$status"
check "no address was bound twice" test "$(awk '!/^#/{print $2}' "$LEASES" | sort | uniq -d | wc -l)" -eq 0
dhclient_run "$LAB-h1" h1full
check "the reservation still works with the pool exhausted" test "$(result_field h1full ip)" = 198.18.0.50
acks=$(awk '/REQUEST-ACK/{f=1} f&&/received packets/{n+=$3; f=0} END{print n+0}' <<<"$out")
check "perfdhcp completed DORAs for the machines that got an address" test "${acks:-0}" -gt 0

n_file=$(grep -vc '^#' "$LEASES")
check "xpxe leases --json lists every binding on disk ($n_file)" \
	jq -e ".leases | length == $n_file" <<<"$("$XPXE" leases --json)"
check "xpxe leases shows the pool MAC and its address" \
	bash -c "'$XPXE' leases | grep -q '52:54:00:f0:00:02 *198.18.0.100'"
check "xpxe status says full mode and the bindings" \
	bash -c "'$XPXE' status | grep -q 'dhcp      full mode, answering as 198.18.0.1, $n_file binding'"
