#!/usr/bin/env bash
# Full mode, a rack powering on: the DISCOVERs of 600 new MACs in one burst (perfdhcp through a
# relay), more than the daemon takes from the program's queue in one round (256). Every machine
# is bound once, and the daemon lives on and answers. (libbpf 1.1 ignores a positive return
# from the queue's callback: the round did not stop at a full batch, wrote past it and broke
# the heap; the boot storm of 1024 machines found it.)
LAB=tdrack
source "$(dirname "$0")/lib.sh"
require_root

N=600
lab up || { not_ok "lab up"; exit 1; }
lab host 1
ip -n "$LAB-h1" addr add 198.18.4.11/22 dev eth0
in_srv ip route add 198.18.4.0/22 dev "$IF_SRV"
for i in $(seq 0 $((N - 1))); do printf '52:54:02:00:%02x:%02x\n' $((i / 256)) $((i % 256)); done >"$WORK/macs"

# perfdhcp asks far faster than firmware: the rate limits (test_abuse.sh) stay out of this test.
if start_daemon -i "$IF_SRV" --mode full --pool 198.18.4.16-198.18.7.250 --leases "$WORK/leases" \
	--dhcp-mac-rate 0 --dhcp-global-rate 0; then
	ok "xpxe serves $IF_SRV in full mode"
else
	not_ok "xpxe serves $IF_SRV in full mode"
	exit 1
fi
# Whole DORAs: each MAC's first DISCOVER goes to the daemon (which holds an address for it),
# then its REQUEST (which binds it, on disk). The daemon is stopped until more DISCOVERs wait
# in the queue than it takes in a round (the program counts them, in its pinned map), as when
# the daemon is busy (a leases file to write, a slow disk) when a rack powers on.
to_daemon=$(counter_index dhcp_to_daemon)
queued0=$(pinned_counter "$to_daemon")
kill -STOP "$DAEMON_PID"
ip netns exec "$LAB-h1" timeout 60 perfdhcp -4 -l 198.18.4.11 -r 30000 -p 3 -M "$WORK/macs" \
	198.18.0.1 >"$WORK/perf.out" 2>&1 &
perf_pid=$!
burst_queued() { [ $(($(pinned_counter "$to_daemon") - queued0)) -gt 256 ] || ! kill -0 $perf_pid 2>/dev/null; }
wait_until burst_queued
queued=$(($(pinned_counter "$to_daemon") - queued0))
kill -CONT "$DAEMON_PID"
wait "$perf_pid"
check "the burst waited in the queue: $queued DISCOVERs for the stopped daemon, more than a round (256)" \
	test "$queued" -gt 256
check "the daemon lives on after the burst" kill -0 "$DAEMON_PID"
check "... and answers" "$XPXE" status
# perfdhcp's 3 s may end before a busy machine's daemon, catching up on the burst, has bound
# every machine: more of the same until it has (a machine bound twice would show below).
bindings() { grep -vc '^#' "$WORK/leases" 2>/dev/null; }
all_bound() {
	[ "$(bindings)" = "$N" ] && return 0
	ip netns exec "$LAB-h1" timeout 60 perfdhcp -4 -l 198.18.4.11 -r 3000 -p 3 -M "$WORK/macs" \
		198.18.0.1 >>"$WORK/perf.more" 2>&1
	[ "$(bindings)" = "$N" ]
}
wait_until all_bound
check "every one of the $N machines is bound" test "$(bindings)" = "$N"
check "no address is bound twice" \
	test -s "$WORK/leases" -a "$(awk '!/^#/ { print $2 }' "$WORK/leases" | sort | uniq -d | wc -l)" -eq 0
offers=$(cat "$WORK/perf.out" "$WORK/perf.more" 2>/dev/null |
	awk '/DISCOVER-OFFER/ { f = 1 } f && /received packets/ { n += $3; f = 0 } END { print n + 0 }')
check "perfdhcp got OFFERs ($offers, in all its rounds)" test "${offers:-0}" -gt "$N"
