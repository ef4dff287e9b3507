#!/usr/bin/env bash
# Two responders in full mode on one segment, one inventory in etcd: 1000 new machines
# (perfdhcp, broadcast, both servers answer) race for one pool, and no address is given to
# two machines. Each new MAC's first DISCOVER is held in etcd by one transaction that fails
# when the address or the MAC is taken: the loser learns the winner's hold and offers the
# same address; the REQUEST binds it in another. The ACKs on the wire, both responders'
# copies and etcd's keys are checked for an address given twice.
LAB=strace
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/etcd.sh"
require_root

N=1000
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 >>"$WORK/lab.log" 2>&1
# A /22 on the segment: the pool holds the 1000 machines (the lab's /24 does not).
in_srv ip addr add 198.18.4.1/22 dev "$IF_SRV"
second_responder "$LAB-srv2" "$LAB-s1" "$LAB-c1" 198.18.4.3/22 || { not_ok "second responder's namespace"; exit 1; }
ip -n "$LAB-h1" addr add 198.18.4.11/22 dev eth0
etcd_net_up && etcd_cluster 1 && etcd_attach "$NS_SRV" "$ETCD_NET.1" &&
	etcd_attach "$LAB-srv2" "$ETCD_NET.2" || { not_ok "etcd's network"; exit 1; }
etcd_start 1
if etcd_wait_healthy; then ok "etcd runs in the lab ($(etcd --version | head -1))"; else
	not_ok "etcd runs in the lab" "$(tail -5 "$WORK/etcd/m1.log")"; exit 1; fi

# perfdhcp asks far faster than firmware: the rate limits stay out of this test (test_abuse.sh).
COMMON=(--mode full --pool 198.18.4.16-198.18.7.250 --store "$(etcd_url)" --no-default-assets
	--dhcp-mac-rate 0 --dhcp-global-rate 0)
if start_daemon -i "$IF_SRV" --server-ip 198.18.4.1 --leases "$WORK/a.leases" \
	--state-dir "$WORK/a" "${COMMON[@]}" &&
	start_responder "$LAB-srv2" "$WORK/b.sock" "$WORK/b.log" -i "$LAB-s1" --server-ip 198.18.4.3 \
		--leases "$WORK/b.leases" --state-dir "$WORK/b" "${COMMON[@]}"; then
	ok "two responders serve the segment in full mode, sharing etcd"
else
	not_ok "two responders serve the segment in full mode, sharing etcd" "$(tail -5 "$WORK/b.log")"
	exit 1
fi
both_up() {
	[ "$("$XPXE" status --json | jq '.store.responders | length')" = 2 ] &&
		[ "$("$XPXE" --socket "$WORK/b.sock" status --json | jq '.store.responders | length')" = 2 ]
}
check "each sees the other alive in etcd" wait_for 30 both_up

for i in $(seq 0 $((N - 1))); do printf '52:54:03:00:%02x:%02x\n' $((i / 256)) $((i % 256)); done >"$WORK/macs"
ip netns exec "$LAB-h1" tcpdump -B 65536 -ni eth0 -U -w "$WORK/race.pcap" 'udp port 67' \
	>/dev/null 2>"$WORK/tcpdump.err" &
tcpdump_pid=$!
at_exit "kill $tcpdump_pid"
wait_for 10 'grep -q "listening on" "$WORK/tcpdump.err"'
# perfdhcp picks each exchange's MAC from the list at random: 3000 exchanges over the 1000
# MACs (its -M). A MAC that comes back is a machine that reboots: the same address, sticky.
ip netns exec "$LAB-h1" timeout 120 perfdhcp -4 -l eth0 -r 200 -n 3000 -M "$WORK/macs" all \
	>"$WORK/perf.out" 2>&1
acks=$(awk '/REQUEST-ACK/ { f = 1 } f && /received packets/ { print $3; exit }' "$WORK/perf.out")
echo "# perfdhcp: $acks ACKs; $(grep -m1 'Rate:' "$WORK/perf.out")"
wait_for 10 'test "$(tcpdump -nr "$WORK/race.pcap" 2>/dev/null | grep -c Reply)" -gt 0'
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null

if "$ROOT/tests/integration/dhcp_acks.py" "$WORK/race.pcap" >"$WORK/acks.txt"; then
	ok "no address went to two machines in the ACKs on the wire ($(wc -l <"$WORK/acks.txt") machines ACKed)"
else
	not_ok "no address went to two machines in the ACKs on the wire" "$(grep TWICE "$WORK/acks.txt" | head -5)"
fi
check "perfdhcp's exchanges were ACKed ($acks of 3000)" test "${acks:-0}" -gt 0
check "both responders answered some of them" \
	test "$("$XPXE" status --json | jq '.interfaces[0].dhcp.replies_sent')" -gt 0 -a \
	"$("$XPXE" --socket "$WORK/b.sock" status --json | jq '.interfaces[0].dhcp.replies_sent')" -gt 0
echo "# responder A: $("$XPXE" status --json | jq -c '.interfaces[0].dhcp | {allocated, store_conflicts, store_refused, replies_sent}')"
echo "# responder B: $("$XPXE" --socket "$WORK/b.sock" status --json | jq -c '.interfaces[0].dhcp | {allocated, store_conflicts, store_refused, replies_sent}')"
ectl get --prefix /xpxe/leases/ip/ --print-value-only | jq -r 'select(.offered == false) | "\(.ip) \(.mac)"' \
	>"$WORK/etcd.bound"
check "etcd holds one binding per address and per MAC ($(wc -l <"$WORK/etcd.bound") bound)" \
	test "$(cut -d' ' -f1 "$WORK/etcd.bound" | sort | uniq -d | wc -l)" = 0 -a \
	"$(cut -d' ' -f2 "$WORK/etcd.bound" | sort | uniq -d | wc -l)" = 0
# Every ACK on the wire is a binding etcd holds: no address was given outside the store.
unbound=$(grep -v '^TWICE' "$WORK/acks.txt" | while read -r ip mac; do
	grep -qx "$ip $mac" "$WORK/etcd.bound" || echo "$ip $mac"; done)
check "every address ACKed is that machine's binding in etcd" test -z "$unbound"
[ -n "$unbound" ] && echo "# ACKed without an etcd binding: $(head -3 <<<"$unbound" | tr '\n' ' ')"

copies_agree() {
	local f
	for f in a b; do
		[ -s "$WORK/$f.leases" ] || return 1
		[ "$(grep -vc '^#' "$WORK/$f.leases")" = "$(wc -l <"$WORK/etcd.bound")" ] || return 1
	done
}
check "each responder's copy of the bindings is etcd's" wait_for 30 copies_agree
check "no address is bound twice in the copies" \
	test "$(cat "$WORK/a.leases" "$WORK/b.leases" | awk '!/^#/ { print $2, $1 }' | sort -u | cut -d' ' -f1 | uniq -d | wc -l)" = 0

