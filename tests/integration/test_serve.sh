#!/usr/bin/env bash
# `xpxe serve` in the lab: attach, status, counters while a ping crosses,
# the refusals, detach, SIGTERM and SIGKILL, and that nothing is left behind.
LAB=tserve
source "$(dirname "$0")/lib.sh"
require_root

lab up || { not_ok "lab up"; exit 1; }
ok "lab up"

# --- attach and status ----------------------------------------------------
if start_daemon -i "$IF_SRV"; then ok "serve attaches to $IF_SRV"; else not_ok "serve attaches to $IF_SRV"; exit 1; fi
status=$("$XPXE" status --json)
check "status --json is JSON naming the interface" \
	jq -e ".interfaces[0].name == \"$IF_SRV\"" <<<"$status"
check "status reports native mode on veth" jq -e '.interfaces[0].attach_mode == "native"' <<<"$status"
check "status says how the program is attached" \
	jq -e '.interfaces[0].attach_via | test("^(dispatcher|single)$")' <<<"$status"
prog_id=$(jq -r '.interfaces[0].prog_id' <<<"$status")
if [ "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" = "$prog_id" ] && [ "$prog_id" -gt 0 ]; then
	ok "the kernel runs prog id $prog_id on $IF_SRV, as status says"
else
	not_ok "prog id in status matches the kernel" "status: $prog_id kernel: $(xdp_prog_on "$NS_SRV" "$IF_SRV")"
fi
check "maps and program pinned under /sys/fs/bpf/xpxe/$IF_SRV" \
	test -e "/sys/fs/bpf/xpxe/$IF_SRV/counters" -a -e "/sys/fs/bpf/xpxe/$IF_SRV/xdp_pxe"
check "status (text) names interface, mode and prog id" \
	bash -c "'$XPXE' status | grep -q 'interface $IF_SRV' && '$XPXE' status | grep -q 'native mode' && '$XPXE' status | grep -q 'prog id $prog_id'"

rx0=$(counter rx_frames)
icmp0=$(counter pass_not_udp)
check "ping crosses the veth with xpxe attached" in_cli ping -c 5 -i 0.2 -W 2 "$SRV_IP"
rx1=$(counter rx_frames)
icmp1=$(counter pass_not_udp)
if [ $((icmp1 - icmp0)) -ge 5 ] && [ $((rx1 - rx0)) -ge 5 ]; then
	ok "the program counted the 5 echo requests (rx $rx0->$rx1, not_udp $icmp0->$icmp1)"
else
	not_ok "the program counted the 5 echo requests" "rx $rx0->$rx1 not_udp $icmp0->$icmp1"
fi

# --- refusals ---------------------------------------------------------------
refused() { # DESCRIPTION EXPECTED_EXIT PATTERN COMMAND...
	local desc=$1 want=$2 pattern=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -q -- "$pattern" <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc" "exit $rc (want $want), output: ${out//$'\n'/ | }"
	fi
}
in_srv_xpxe() { nsenter --net="/run/netns/$NS_SRV" "$XPXE" "$@"; }

refused "a second serve on the same interface is refused" 1 "already served by another xpxe (pid $DAEMON_PID)" \
	in_srv_xpxe --socket "$WORK/second.sock" serve -i "$IF_SRV"
refused "a second daemon on the same control socket is refused" 1 "another xpxe daemon answers" \
	in_srv_xpxe serve -i lo
refused "an interface that does not exist is refused" 1 "does not exist" \
	in_srv_xpxe --socket "$WORK/third.sock" serve -i nosuch0
refused "serve without -i is a usage error" 2 "needs an interface" in_srv_xpxe serve
refused "an unknown command is a usage error" 2 "unknown command" "$XPXE" frobnicate
refused "without CAP_BPF/CAP_NET_ADMIN serve is refused" 1 "needs root" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$XPXE" --socket "$WORK/nobody.sock" serve -i "$IF_SRV"
check "the running daemon kept its interface through all that" \
	test "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" = "$prog_id"

# An interface that carries the default route, in a namespace made for this check only.
NS_DR=$LAB-dr
ip netns add "$NS_DR"
at_exit ip netns del "$NS_DR"
ip -n "$NS_DR" link add dr0 type veth peer name dr1
ip -n "$NS_DR" addr add 198.19.255.1/30 dev dr0
ip -n "$NS_DR" link set dr0 up
ip -n "$NS_DR" link set dr1 up
ip -n "$NS_DR" route add default via 198.19.255.2 dev dr0
refused "an interface carrying the default route is refused" 1 "carries the default route" \
	nsenter --net="/run/netns/$NS_DR" "$XPXE" --socket "$WORK/dr.sock" serve -i dr0
check "... and nothing was attached to it" test -z "$(xdp_prog_on "$NS_DR" dr0)"
nsenter --net="/run/netns/$NS_DR" "$XPXE" --socket "$WORK/dr.sock" \
	serve -i dr0 --allow-default-route >"$WORK/dr.log" 2>&1 &
dr=$!
dr_started() { "$XPXE" --socket "$WORK/dr.sock" status >/dev/null 2>&1 || ! kill -0 $dr 2>/dev/null; }
wait_until dr_started # SIGTERM once it serves, not at a guess
kill -TERM $dr
wait $dr
rc=$?
if [ "$rc" -eq 0 ] && grep -q "attached xdp_pxe" "$WORK/dr.log"; then
	ok "--allow-default-route serves it (and SIGTERM exits 0)"
else
	not_ok "--allow-default-route serves it" "exit $rc: $(tr '\n' '|' <"$WORK/dr.log")"
fi
check "... and SIGTERM left no program and no pins there" \
	test -z "$(xdp_prog_on "$NS_DR" dr0)" -a ! -e /sys/fs/bpf/xpxe/dr0
ip netns del "$NS_DR"

# --- detach through the daemon ------------------------------------------
check "xpxe detach -i asks the daemon" "$XPXE" detach -i "$IF_SRV"
if wait_daemon; then ok "the daemon exits 0 once it serves nothing"; else not_ok "the daemon exits 0 once it serves nothing"; fi
check "no program left on $IF_SRV after detach" test -z "$(xdp_prog_on "$NS_SRV" "$IF_SRV")"
check "no pins left after detach" test ! -e "/sys/fs/bpf/xpxe/$IF_SRV"
check "the control socket is gone" test ! -e "$SOCK"

# --- SIGTERM ------------------------------------------------------------------
start_daemon -i "$IF_SRV" || not_ok "serve starts again"
kill -TERM "$DAEMON_PID"
if wait_daemon; then ok "SIGTERM: exit code 0"; else not_ok "SIGTERM: exit code 0"; fi
check "SIGTERM leaves no program" test -z "$(xdp_prog_on "$NS_SRV" "$IF_SRV")"
check "SIGTERM leaves no pins" test ! -e "/sys/fs/bpf/xpxe/$IF_SRV"

# --- SIGKILL: the data plane outlives the daemon ----------------------------------
start_daemon -i "$IF_SRV" || not_ok "serve starts again"
kill -KILL "$DAEMON_PID"
wait_daemon
check "after SIGKILL the program stays attached" test -n "$(xdp_prog_on "$NS_SRV" "$IF_SRV")"
pinned_rx() {
	bpftool -j map dump pinned "/sys/fs/bpf/xpxe/$IF_SRV/counters" |
		jq '[.[].formatted | select(.key == 0) | .values[].value] | add'
}
rx0=$(pinned_rx)
in_cli ping -c 3 -i 0.2 -W 2 "$SRV_IP" >/dev/null
rx1=$(pinned_rx)
if [[ $rx0 =~ ^[0-9]+$ && $rx1 =~ ^[0-9]+$ ]] && [ $((rx1 - rx0)) -ge 3 ]; then
	ok "after SIGKILL the program keeps counting in its pinned map ($rx0 -> $rx1)"
else
	not_ok "after SIGKILL the program keeps counting" "rx '$rx0' -> '$rx1'"
fi
start_daemon -i "$IF_SRV" || not_ok "serve starts over a killed daemon's data plane"
check "the new daemon adopted the pins" jq -e '.interfaces[0].adopted == true' <<<"$("$XPXE" status --json)"
rx2=$(counter rx_frames)
if [[ $rx1 =~ ^[0-9]+$ && $rx2 =~ ^[0-9]+$ ]] && [ "$rx2" -ge "$rx1" ]; then ok "counters survived the restart ($rx1 -> $rx2)"; else not_ok "counters survived the restart" "$rx1 -> $rx2"; fi
kill -KILL "$DAEMON_PID"
wait_daemon

# --- pins of another build: never reused --------------------------------------------------
layout_map=/sys/fs/bpf/xpxe/$IF_SRV/layout
layout_of_build() { bpftool -j map dump pinned "$layout_map" | jq -r '.[0].value'; }
ours=$(layout_of_build)
check "the layout map holds this build's id" test "$ours" != 0 -a -n "$ours"
# As an older or newer xpxe would have left them: another id in the layout map.
bpftool map update pinned "$layout_map" key 0 0 0 0 value 1 2 3 4 5 6 7 8
: >"$WORK/daemon.log"
start_daemon -i "$IF_SRV" || not_ok "serve starts over another build's pins"
check "another build's pins are named in the log" \
	grep -q "made by another xpxe build (layout 0807060504030201" "$WORK/daemon.log"
check "another build's pins are not adopted" jq -e '.interfaces[0].adopted == false' <<<"$("$XPXE" status --json)"
check "the fresh maps carry this build's id" test "$(layout_of_build)" = "$ours"
rx3=$(counter rx_frames)
if [[ $rx3 =~ ^[0-9]+$ ]] && [ "$rx3" -lt "$rx2" ]; then ok "fresh counters, not another build's ($rx2 -> $rx3)"; else not_ok "fresh counters after another build's pins" "$rx2 -> $rx3"; fi
kill -KILL "$DAEMON_PID"
wait_daemon
out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" detach -i "$IF_SRV" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" ] && [ ! -e "/sys/fs/bpf/xpxe/$IF_SRV" ]; then
	ok "xpxe detach with no daemon removes the program and pins a killed daemon left"
else
	not_ok "xpxe detach with no daemon" "exit $rc: $out"
fi
refused "detach again: not attached (exit 4)" 4 "not attached" \
	nsenter --net="/run/netns/$NS_SRV" "$XPXE" detach -i "$IF_SRV"

# --- lab down leaves nothing ------------------------------------------------------
lab down
check "lab down removes both namespaces" bash -c "! ip netns list | grep -q '^$LAB-'"
check "lab down leaves no pins" test ! -e "/sys/fs/bpf/xpxe/$IF_SRV"
check "lab down is idempotent" lab down
