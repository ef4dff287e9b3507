#!/usr/bin/env bash
# `xpxe serve` in the lab: attach, status, counters while a ping crosses,
# the refusals, detach, SIGTERM and SIGKILL, and that nothing is left behind.
LAB=tserve
source "$(dirname "$0")/lib.sh"
require_root

lab up || { not_ok "lab up"; exit 1; }
ok "lab up"

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

# --- every mistake is caught before the interface is touched -----------------------------------
# The kernel tells every change of a link (an XDP program attached shows as xdp/id:N) and of tc
# (the clsact qdisc, the tc_tftp filter) to its monitors: watched from before the first serve to
# a marker change after the last, so nothing in between can go unseen, even for a millisecond.
ip -n "$NS_SRV" monitor link >"$WORK/mon-link" 2>&1 &
MON_LINK=$!
tc -n "$NS_SRV" monitor >"$WORK/mon-tc" 2>&1 &
MON_TC=$!
at_exit "kill $MON_LINK $MON_TC"
# Both monitors listen once a change made now reaches them (lo's mtu, a qdisc on lo).
ip -n "$NS_SRV" link set dev lo mtu 65535
tc -n "$NS_SRV" qdisc add dev lo clsact
for _ in $(seq 100); do
	grep -q "lo: .*mtu 65535" "$WORK/mon-link" && grep -q "clsact.*dev lo" "$WORK/mon-tc" && break
	sleep 0.1
done
tc -n "$NS_SRV" qdisc del dev lo clsact
# What holds a port (HTTP's 8080, TFTP's 69) until killed: PROTO PORT NAME
hold_port() {
	ip netns exec "$NS_SRV" python3 -c '
import socket, sys, time
tcp = sys.argv[1] == "tcp"
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
s.bind(("198.18.0.1" if tcp else "0.0.0.0", int(sys.argv[2])))
tcp and s.listen()
print("ready", flush=True)
time.sleep(600)' "$1" "$2" >"$WORK/$3.out" 2>&1 &
	HOLDER=$!
	at_exit "kill $HOLDER"
	for _ in $(seq 100); do grep -q ready "$WORK/$3.out" && return 0; sleep 0.1; done
	return 1
}
cat >"$WORK/list.yaml" <<YAML
interfaces:
  - name: $IF_SRV
YAML
printf 'interfaces: [%s]\nprofiles: {default: {talos_config: %s}}\n' "$IF_SRV" "$WORK/nosuch" \
	>"$WORK/notalos.yaml"
mkdir -p "$WORK/talos"
printf 'machine: {network: {hostname: "{{hostnme}}"}}\n' >"$WORK/talos/default.yaml"
printf 'interfaces: [%s]\nprofiles: {default: {talos_config: %s}}\n' "$IF_SRV" "$WORK/talos" \
	>"$WORK/badtpl.yaml"
# Each refusal, by serve and by check: the same checks, the same message, exit 1.
before_attach() { # DESCRIPTION PATTERN SERVE_ARGS...
	local desc=$1 pattern=$2 s c
	shift 2
	s=$(in_srv_xpxe --socket "$WORK/pre.sock" serve "$@" 2>&1)
	refused "serve refuses $desc" 1 "$pattern" in_srv_xpxe --socket "$WORK/pre.sock" serve "$@"
	c=$(in_srv_xpxe --socket "$WORK/pre.sock" check "$@" 2>&1)
	if [ "$(sed 's/^[^ ]* //' <<<"$c")" = "$(sed 's/^[^ ]* //' <<<"$s")" ]; then
		ok "... check says the same (${c#* })"
	else
		not_ok "... check says what serve says" "serve: $s" "check: $c"
	fi
}
before_attach "a kernel that does not exist" "error --kernel: asset vmlinuz: cannot read /no/such/file: No such file" \
	-i "$IF_SRV" --kernel /no/such/file
before_attach "a Talos config that does not exist" "talos_config of profile 'default': /no/such: No such file" \
	-i "$IF_SRV" --talos-config /no/such
before_attach "a pool outside the interface's subnet" "error --pool: pool 10.0.0.100-10.0.0.199 is outside the subnet of $IF_SRV (198.18.0.0/24)" \
	-i "$IF_SRV" --mode full --pool 10.0.0.100-10.0.0.199
before_attach "a reservation outside it" "error --reserve 52:54:00:00:00:01=10.0.0.5: ip 10.0.0.5 is outside every served subnet ($IF_SRV: 198.18.0.0/24)" \
	-i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.199 --reserve 5254.0000.0001=10.0.0.5
before_attach "a server address this host does not have" "error --server-ip: server_ip 198.18.0.9 is not an address of this host" \
	-i "$IF_SRV" --server-ip 198.18.0.9
before_attach "an HTTP address that is not ADDR:PORT" "HTTP's '198.18.0.1:99999' is not ADDR:PORT" \
	-i "$IF_SRV" --http 198.18.0.1:99999
before_attach "interfaces: as a list of mappings, with line and column" "list.yaml:2:5: 'interfaces' takes a list of interface names" \
	-c "$WORK/list.yaml"
before_attach "a missing talos_config of the file, with line and column" "notalos.yaml:2:36: talos_config of profile 'default': $WORK/nosuch: No such file" \
	-c "$WORK/notalos.yaml"
before_attach "an unknown {{placeholder}} in a Talos config, with file and line" "talos/default.yaml:1: unknown placeholder '{{hostnme}}' in the Talos config of profile 'default'" \
	-c "$WORK/badtpl.yaml"
if hold_port tcp 8080 http-holder; then
	before_attach "HTTP's port taken by another server" "HTTP cannot listen on 198.18.0.1:8080: Address already in use" -i "$IF_SRV"
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null
else
	not_ok "a server holds 198.18.0.1:8080 for the test" "$(cat "$WORK/http-holder.out")"
fi
if hold_port udp 69 tftp-holder; then
	before_attach "UDP port 69 taken by another server" "cannot bind UDP port 69 for TFTP: Address already in use (another TFTP server" -i "$IF_SRV"
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null
else
	not_ok "a server holds UDP port 69 for the test" "$(cat "$WORK/tftp-holder.out")"
fi
out=$(in_srv_xpxe --socket "$WORK/pre.sock" check -i "$IF_SRV" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q "^  $IF_SRV  *198.18.0.1/24; proxy mode, answering as 198.18.0.1" <<<"$out" &&
	grep -q "^  http  *198.18.0.1:8080" <<<"$out"; then
	ok "check of a good command line: exit 0, and what serve would serve"
else
	not_ok "check of a good command line" "exit $rc: ${out//$'\n'/ | }"
fi
# A relay's network, routed through the interface: its pool is not a typo.
in_srv ip route add 198.18.4.0/22 dev "$IF_SRV"
check "a pool on a network routed through the interface (a relay's) passes check" \
	in_srv_xpxe --socket "$WORK/pre.sock" check -i "$IF_SRV" --mode full --pool 198.18.4.16-198.18.7.250
in_srv ip route del 198.18.4.0/22 dev "$IF_SRV"
# The marker after the last of them: once the monitors show it, they have shown all before it.
ip -n "$NS_SRV" link set dev lo mtu 65534
tc -n "$NS_SRV" qdisc add dev lo clsact
for _ in $(seq 100); do
	[ "$(grep -c "clsact.*dev lo" "$WORK/mon-tc")" -ge 2 ] && grep -q "lo: .*mtu 65534" "$WORK/mon-link" && break
	sleep 0.1
done
tc -n "$NS_SRV" qdisc del dev lo clsact
if grep -q "lo: .*mtu 65534" "$WORK/mon-link" && ! grep -q "xdp" "$WORK/mon-link"; then
	ok "no XDP program was on $IF_SRV at any moment of all that (ip monitor link)"
else
	not_ok "no XDP program at any moment" "$(tr '\n' '|' <"$WORK/mon-link")"
fi
if [ "$(grep -c "clsact.*dev lo" "$WORK/mon-tc")" -ge 2 ] && ! grep -q "dev $IF_SRV" "$WORK/mon-tc"; then
	ok "... and no tc qdisc or filter either (tc monitor)"
else
	not_ok "no tc change on $IF_SRV" "$(tr '\n' '|' <"$WORK/mon-tc")"
fi
check "... and no pins" test ! -e "/sys/fs/bpf/xpxe/$IF_SRV"

# --- attach and status ----------------------------------------------------
if start_daemon -i "$IF_SRV"; then ok "serve attaches to $IF_SRV"; else not_ok "serve attaches to $IF_SRV"; exit 1; fi
# The monitors above were not blind: they show this attach.
for _ in $(seq 50); do grep -q "xdp" "$WORK/mon-link" && grep -q "filter dev $IF_SRV" "$WORK/mon-tc" && break; sleep 0.1; done
check "the same monitors show an attach (xdp/id on $IF_SRV, the tc_tftp filter)" \
	bash -c "grep -q 'xdp' '$WORK/mon-link' && grep -q 'filter dev $IF_SRV' '$WORK/mon-tc'"
kill "$MON_LINK" "$MON_TC"
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

# status: the counters that are not zero; --all for the rest; --json has them all.
text=$("$XPXE" status)
all=$("$XPXE" status --all)
n_json=$("$XPXE" status --json | jq '.interfaces[0].counters | length')
n_nonzero=$("$XPXE" status --json | jq '[.interfaces[0].counters[] | select(. != 0)] | length')
n_text=$(sed -n '/^  counters/,/^http/p' <<<"$text" | grep -cE '^    [a-z_0-9]+ +[0-9]+$')
n_all=$(sed -n '/^  counters/,/^http/p' <<<"$all" | grep -cE '^    [a-z_0-9]+ +[0-9]+$')
check "status lists the $n_nonzero counters that are not zero, and says how many more there are" \
	bash -c "[ $n_text = $n_nonzero ] && grep -q '($((n_json - n_nonzero)) more at zero: xpxe status --all)' <<<\"\$1\"" _ "$text"
check "... status --all lists all $n_json, as --json has them" test "$n_all" = "$n_json"
check "... and no line of status shows a zero counter" bash -c "! sed -n '/^  counters/,/^http/p' <<<\"\$1\" | grep -qE '^    [a-z_0-9]+ +0$'" _ "$text"
# The global options go before the command or among its flags.
check "--socket after the command is taken (status --socket PATH)" \
	bash -c "XPXE_SOCKET=/nonexistent '$XPXE' status --socket '$SOCK' | grep -q 'interface $IF_SRV'"
check "... and before it" bash -c "XPXE_SOCKET=/nonexistent '$XPXE' --socket '$SOCK' status --json | jq -e .pid >/dev/null"
out=$("$XPXE" leases 2>&1)
check "leases in proxy mode says why there are none" grep -q "leases exist in full mode only, and no interface is served in full mode" <<<"$out"

# --- refusals ---------------------------------------------------------------

refused "a second serve on the same interface is refused" 1 "already served by another xpxe (pid $DAEMON_PID)" \
	in_srv_xpxe --socket "$WORK/second.sock" serve -i "$IF_SRV"
refused "a second daemon on the same control socket is refused" 1 "another xpxe daemon answers" \
	in_srv_xpxe serve -i lo
refused "an interface that does not exist is refused" 1 "does not exist" \
	in_srv_xpxe --socket "$WORK/third.sock" serve -i nosuch0
refused "serve without -i is a usage error" 2 "needs an interface" in_srv_xpxe serve
refused "an unknown command is a usage error" 2 "unknown command" "$XPXE" frobnicate
# A usage error is its message and where the usage is, not the whole help after it.
out=$("$XPXE" serve --pool 2>&1)
rc=$?
if [ $rc = 2 ] && [ "$(wc -l <<<"$out")" -le 3 ] && grep -q "^Try 'xpxe help serve' for its usage.$" <<<"$out"; then
	ok "a usage error prints its line and a pointer to 'xpxe help serve' ($(wc -l <<<"$out") lines)"
else
	not_ok "a usage error is short" "exit $rc: ${out//$'\n'/ | }"
fi
refused "serve --pool 10.0.0.9-10.0.0.1: says it is reversed" 2 "its first address comes after its last" \
	"$XPXE" serve -i "$IF_SRV" --mode full --pool 10.0.0.9-10.0.0.1
refused "-c with a quick-start flag names the flags that go with -c" 2 "(only -i, --allow-default-route, .*--tftp-max-per-ip, .*--keep-attached, --store)" \
	"$XPXE" serve -c /dev/null --kernel /dev/null
for h in version help check; do
	check "xpxe help $h: its usage, exit 0" bash -c "'$XPXE' help $h | grep -q '^usage: xpxe $h'"
done
check "xpxe version --help and xpxe help help" bash -c "'$XPXE' version --help | grep -q 'usage: xpxe version' && '$XPXE' help help | grep -q 'usage: xpxe help'"
# check beside a running daemon: the daemon is reported, the rest checked; exit 0.
out=$(in_srv_xpxe check -i "$IF_SRV" 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q "served now by xpxe pid $DAEMON_PID" <<<"$out" && grep -q "A daemon runs already ($SOCK)" <<<"$out"; then
	ok "check beside the running daemon: exit 0, the daemon named, 'xpxe reload' pointed to"
else
	not_ok "check beside the running daemon" "exit $rc: ${out//$'\n'/ | }"
fi
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
# From the host's network namespace: the interface is not here, its program runs in $NS_SRV.
refused "detach from another network namespace refuses: nothing detached, where to run it said" 1 \
	"$IF_SRV is attached in network namespace $NS_SRV, not this one: nothing was detached; run it there: nsenter --net=/run/netns/$NS_SRV xpxe detach -i $IF_SRV" \
	"$XPXE" detach -i "$IF_SRV"
check "... the program still runs there, and its pins are kept" \
	test -n "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" -a -e "/sys/fs/bpf/xpxe/$IF_SRV/counters"
# Another namespace with an interface of the same name: its serve must not take these pins.
NS_OTHER=$LAB-o
ip netns add "$NS_OTHER"
at_exit ip netns del "$NS_OTHER"
ip -n "$NS_OTHER" link add "$IF_SRV" type veth peer name o1
ip -n "$NS_OTHER" addr add 198.19.254.1/24 dev "$IF_SRV"
ip -n "$NS_OTHER" link set "$IF_SRV" up
ip -n "$NS_OTHER" link set o1 up
refused "serve of a same-named interface in another namespace refuses these pins" 1 \
	"holds the pins of an interface $IF_SRV of network namespace $NS_SRV, not this one" \
	nsenter --net="/run/netns/$NS_OTHER" "$XPXE" --socket "$WORK/other.sock" serve -i "$IF_SRV"
check "... and attached nothing there" test -z "$(xdp_prog_on "$NS_OTHER" "$IF_SRV")"
ip netns del "$NS_OTHER"
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
# The value's bytes, least significant first (the hosts we run on are little-endian).
id_hex=$(jq -r 'reverse | map(ltrimstr("0x")) | join("")' <<<"$ours")
check "... the one scripts/layout_id.sh makes of the BPF headers ($id_hex)" \
	test "$id_hex" = "$("$ROOT/scripts/layout_id.sh")"
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

# --- under ip netns exec: a bpffs of its own, said so ---------------------------------------
ip netns exec "$NS_SRV" "$XPXE" --socket "$WORK/ipne.sock" serve -i "$IF_SRV" >"$WORK/ipne.log" 2>&1 &
ipne=$!
for _ in $(seq 100); do grep -q "serving 1 interface" "$WORK/ipne.log" && break; kill -0 $ipne 2>/dev/null || break; sleep 0.1; done
check "serve under 'ip netns exec' warns that its pins are private to it, and says what to run" \
	grep -q "warn /sys/fs/bpf is a bpffs of this process's own mount namespace (as under 'ip netns exec'.*nsenter --net=/run/netns/NAME xpxe serve" "$WORK/ipne.log"
kill -TERM $ipne
wait $ipne
check "... and SIGTERM detaches it as always" test -z "$(xdp_prog_on "$NS_SRV" "$IF_SRV")"

# --- a full-mode daemon's bindings follow state_dir ------------------------------------------
printf 'interfaces: [%s]\nmode: full\ndhcp: {pool: 198.18.0.100-198.18.0.109}\nstate_dir: %s\n' \
	"$IF_SRV" "$WORK/st" >"$WORK/full.yaml"
out=$(in_srv_xpxe check -c "$WORK/full.yaml" 2>&1)
check "the default bindings file is STATE_DIR/IFACE.leases (check says where)" \
	grep -q "full mode, answering as 198.18.0.1, pool 198.18.0.100-198.18.0.109, bindings in $WORK/st/$IF_SRV.leases" <<<"$out"
out=$(in_srv_xpxe check -i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109 --state-dir "$WORK/st2" 2>&1)
check "... --state-dir too" grep -q "bindings in $WORK/st2/$IF_SRV.leases" <<<"$out"
if start_daemon -c "$WORK/full.yaml"; then
	check "... and serve keeps them there" \
		jq -e ".interfaces[0].dhcp.leases_file == \"$WORK/st/$IF_SRV.leases\"" <<<"$("$XPXE" status --json)"
	check "leases in full mode with none bound yet says just that" bash -c "'$XPXE' leases | grep -qx '(no bindings yet)'"
	kill -TERM "$DAEMON_PID"
	wait_daemon
else
	not_ok "serve -c a full-mode file starts"
fi

# --- lab down leaves nothing ------------------------------------------------------
lab down
check "lab down removes both namespaces" bash -c "! ip netns list | grep -q '^$LAB-'"
check "lab down leaves no pins" test ! -e "/sys/fs/bpf/xpxe/$IF_SRV"
check "lab down is idempotent" lab down
