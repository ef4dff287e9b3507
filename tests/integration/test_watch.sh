#!/usr/bin/env bash
# Seeing the fleet boot: a machine walks through DHCP, its script, a download and
# its config with real clients (udhcpc, curl); the events, `xpxe trace`, the
# line output of `xpxe watch`, its table on a terminal (tmux, screen captured),
# /metrics by stage, and JSON log lines are checked.
LAB=twatch
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 52:54:00:77:00:01
lab host 2 52:54:00:77:00:02
head -c 200000 /dev/urandom >"$WORK/kernel"
head -c 100000 /dev/urandom >"$WORK/initrd"
mkdir -p "$WORK/talos"
printf 'machine: {hostname: {{hostname}}}\n' >"$WORK/talos/default.yaml"
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp: {pool: 198.18.0.100-198.18.0.109, leases: $WORK/leases}
state_dir: $WORK/state
assets: {vmlinuz: $WORK/kernel, initramfs: $WORK/initrd}
profiles:
  default: {kernel: vmlinuz, initrd: initramfs, talos_config: $WORK/talos}
machines:
  - {mac: 52:54:00:77:00:01, hostname: watch-1}
  - {mac: 52:54:00:77:00:02, hostname: watch-2}
  - {mac: 52:54:00:77:00:03, hostname: watch-3}
YAML
DAEMON_GLOBAL_OPTS="--log-format json"
if start_daemon -c "$WORK/xpxe.yaml"; then ok "serve starts with --log-format json"; else
	not_ok "serve starts"; exit 1; fi
URL=http://198.18.0.1:8080

# watch-1 boots all the way; watch-2 asks for its config from the wrong address.
udhcpc_run "$LAB-h1" h1 -V PXEClient:Arch:00007:UNDI:003000 -x 93:0007
ip1=$(result_field h1 ip)
ip -n "$LAB-h1" addr replace "$ip1/24" dev eth0
ip netns exec "$LAB-h1" curl -s -o /dev/null "$URL/boot.ipxe?mac=52-54-00-77-00-01"
ip netns exec "$LAB-h1" curl -s -o /dev/null "$URL/assets/vmlinuz"
ip netns exec "$LAB-h1" curl -s -o /dev/null "$URL/talos/config?mac=52:54:00:77:00:01"
udhcpc_run "$LAB-h2" h2
ip netns exec "$NS_CLI" curl -s -o /dev/null "$URL/talos/config?mac=52:54:00:77:00:02"
check "watch-1 got an address ($ip1)" test -n "$ip1"

EVENTS="lease_bound dhcp_offer dhcp_ack script asset config installed config_refused"
# The events reach the daemon's main loop a moment after the clients are done (the programs'
# ring, libmicrohttpd's completion callback for "installed"): wait until all are there.
all_events() {
	local e
	"$XPXE" watch --once | cat >"$WORK/lines"
	for e in $EVENTS; do grep -Eq "^[0-9:]{8} $e +52:54:00:77:00:0[12]" "$WORK/lines" || return 1; done
}
wait_until all_events
lines=$(cat "$WORK/lines")
for e in $EVENTS; do
	check "xpxe watch (not a tty) prints the $e event as a line" \
		grep -Eq "^[0-9:]{8} $e +52:54:00:77:00:0[12]" <<<"$lines"
done
check "... the asset line says how many bytes" grep -Eq " asset .*vmlinuz 195 kB$" <<<"$lines"
trace=$("$XPXE" trace 52-54-00-77-00-01 --once)
check "xpxe trace MAC shows that machine's events" grep -q " config .*52:54:00:77:00:01" <<<"$trace"
check "... and no other machine's" bash -c "! grep -q 52:54:00:77:00:02 <<<\"\$1\"" _ "$trace"
check "xpxe trace takes a hostname as well, as every machine command does" \
	bash -c "[ \"\$1\" = \"\$2\" ]" _ "$trace" "$("$XPXE" trace watch-1 --once)"
rc=0
out=$("$XPXE" trace nobody-here --once 2>&1) || rc=$?
check "... a selector nobody has: exit 4, saying so" \
	bash -c "[ $rc = 4 ] && grep -q 'no machine in the inventory' <<<\"\$1\"" _ "$out"

# On a terminal (script gives it one), --once draws the table once: no Ctrl-C to press.
once=$(XPXE_SOCKET=$SOCK script -qec "$XPXE watch --once" /dev/null | tr -d '\r')
check "watch --once on a terminal: the table, without '(Ctrl-C quits)'" \
	bash -c "grep -q '3 machine(s)' <<<\"\$1\" && ! grep -q 'Ctrl-C' <<<\"\$1\"" _ "$once"
check "... watch-3, listed but never seen: ELAPSED '-' (not the time since 1970)" \
	grep -Eq "52:54:00:77:00:03 +watch-3 +- +- +\[\.+\] +0 B +- " <<<"$once"
cp "$WORK/xpxe.yaml" "$WORK/xpxe.yaml.3"
sed -i '/watch-3/d' "$WORK/xpxe.yaml"
"$XPXE" reload >/dev/null
once=$(XPXE_SOCKET=$SOCK script -qec "$XPXE watch --once" /dev/null | tr -d '\r')
check "... and once reloaded out of the inventory, it leaves the table" \
	bash -c "grep -q '2 machine(s)' <<<\"\$1\" && ! grep -q watch-3 <<<\"\$1\"" _ "$once"

tmux kill-session -t "$LAB" 2>/dev/null
tmux new-session -d -s "$LAB" -x 160 -y 20 "XPXE_SOCKET=$SOCK $XPXE watch --interval 0.5"
at_exit tmux kill-session -t "$LAB"
drawn() { tmux capture-pane -p -t "$LAB" | grep -q "2 machine(s), 1 installed, 1 with problems"; }
wait_until drawn
screen=$(tmux capture-pane -p -t "$LAB")
screen_esc=$(tmux capture-pane -p -e -t "$LAB")
check "xpxe watch on a terminal draws the fleet table" grep -q "2 machine(s), 1 installed, 1 with problems" <<<"$screen"
check "... watch-1: its address, stage installed, a full progress bar" \
	grep -Eq "52:54:00:77:00:01 +watch-1 +$ip1 +installed +\[########\.\.\]" <<<"$screen"
check "... watch-2's problem in red" grep -q $'\e\[31m52:54:00:77:00:02.*config refused' <<<"$screen_esc"
ip netns exec "$LAB-h1" curl -s -o /dev/null "$URL/boot.ipxe?mac=52-54-00-77-00-01"
local_disk() { tmux capture-pane -p -t "$LAB" | grep -Eq "watch-1 .* local disk "; }
wait_until local_disk # redrawn every 0.5 s
check "... and redrawn in place as the machine moves on (local disk)" local_disk
tmux send-keys -t "$LAB" C-c
session_gone() { ! tmux has-session -t "$LAB" 2>/dev/null; }
wait_until session_gone
check "Ctrl-C ends xpxe watch" session_gone

metrics=$(ip netns exec "$NS_CLI" curl -s "$URL/metrics")
check "/metrics counts machines by stage" grep -qx 'xpxe_machines_by_stage{stage="local disk"} 1' <<<"$metrics"
check "the daemon's log lines are JSON objects" bash -c "grep '^{' '$WORK/daemon.log' | jq -e . >/dev/null"
check "... events carry their fields" bash -c "grep '^{' '$WORK/daemon.log' | jq -e 'select(.event == \"config\") | .mac == \"52:54:00:77:00:01\" and .bytes > 0' | grep -q true"
