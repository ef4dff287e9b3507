#!/usr/bin/env bash
# Paced TFTP transfers (downloads.tftp_pace_ms, userspace/tftp/pace.c): a transfer let in over
# the cap (held downloads.tftp_max_wait) is not sent at full speed by the data plane: its
# session stays out of the programs' map, its ACKs come up to the daemon, which answers each
# after a pause. When a place frees, the oldest paced transfer takes it and the data plane
# sends the rest. Read from counters (who sent the blocks, paced and promoted), never timings.
#
# tftp_max 1, tftp_max_wait 1: w1 takes the place and stalls. atftp (another address) asks for
# a small file: held, then let in over the cap, paced: it reads the whole file from the
# daemon's socket, promoted never. Then w3 asks for a larger file: paced; w1 ends, w3 takes its
# place, and the data plane sends the rest of its file. Then w1 stalls again and a machine asks
# over IPv6: paced too (the daemon's socket), then promoted when w1 ends. /metrics, xpxe watch
# and xpxe status show the paced and promoted ones on the way.
LAB=ttpace
source "$(dirname "$0")/lib.sh"
require_root

HOLD=$ROOT/tests/integration/tftp_hold.py
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }

head -c 300000 /dev/urandom >"$WORK/boot.efi" # 586 blocks of 512 bytes
head -c 15000 /dev/urandom >"$WORK/small.bin" # 30 blocks: ~6 s paced
in_cli sysctl -qw net.ipv4.conf.all.arp_ignore=1
in_cli sysctl -qw net.ipv4.conf.all.rp_filter=0
declare -A IP=([w1]=198.18.0.51 [w3]=198.18.0.53)
declare -A MAC=([w1]=02:00:00:00:25:01 [w3]=02:00:00:00:25:03)
for m in w1 w3; do
	in_cli ip link add "m$m" address "${MAC[$m]}" type veth peer name "p$m"
	in_cli ip link set "p$m" master "$IF_BR"
	in_cli ip link set "p$m" up
	in_cli sysctl -qw "net.ipv4.conf.m$m.rp_filter=0"
	in_cli ip addr add "${IP[$m]}/24" dev "m$m"
	in_cli ip link set "m$m" up
done
ports_up() { for m in w1 w3; do link_up "$NS_CLI" "m$m" || return 1; done; }
check "each machine has its own port on the bridge" wait_until ports_up
# An IPv6 machine on w3's port, for the last part.
SRV6=fd00:198:18:23::1
CLI6=fd00:198:18:23::53
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
in_cli ip -6 addr add "$CLI6/64" dev mw3 nodad
check "$CLI6 (w3's port) reaches $SRV6" wait_until in_cli ping -6 -c1 -W1 -I mw3 "$SRV6"

cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: proxy
state_dir: $WORK/state
assets: {boot.efi: $WORK/boot.efi, small.bin: $WORK/small.bin}
downloads: {tftp_max: 1, tftp_max_wait: 1}
YAML
declare -A PID
fetch() { # MACHINE FILE [--stall]
	in_cli python3 "$HOLD" "$SRV_IP" "${IP[$1]}" "m$1" "$2" "$WORK/$1.out" "${@:3}" \
		2>"$WORK/$1.err" &
	PID[$1]=$!
}
state_is() { grep -qx "$2" "$WORK/$1.out.state" 2>/dev/null; }
downloads_are() { "$XPXE" status --json | jq -e ".http.downloads | $1" >/dev/null; }
counter() { "$XPXE" status --json | jq ".interfaces[0].counters.$1"; }
counter_at_least() { [ "$(counter "$1")" -ge "$2" ]; }
# /metrics (HTTP's thread: TFTP's figures reach it through the events' copy).
metric() { in_cli curl -s "http://$SRV_IP:8080/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
metrics_are() { # NAME VALUE ...
	while [ $# -ge 2 ]; do [ "$(metric "$1")" = "$2" ] || return 1; shift 2; done
}
# xpxe watch on a terminal: the table, once.
screen() { script -qec "$XPXE watch --once" /dev/null | tr -d '\r'; }
screen_has() { screen | grep -qF "$1"; }
# W3's row in xpxe watch: its transfer's path is PATH (an extended regex).
w3_path_is() { screen | grep -Eq "${MAC[w3]} .* boot\.efi ([0-9]+%|done) ($1)( |\$)"; }

check "xpxe check refuses tftp_pace_ms above 240 with its line" \
	bash -c "printf 'interfaces: [x]\ndownloads: {tftp_pace_ms: 241}\n' >'$WORK/bad.yaml'; ! '$XPXE' check -c '$WORK/bad.yaml' >'$WORK/bad.out' 2>&1 && grep -q 'bad.yaml:2:.*tftp_pace_ms' '$WORK/bad.out'"

check "--tftp-pace-ms 241 is refused with its range" \
	bash -c "! '$XPXE' serve -c '$WORK/xpxe.yaml' --tftp-pace-ms 241 >'$WORK/tpm.out' 2>&1 && grep -q -- \"--tftp-pace-ms wants 0..240 ms (0: off), not '241'\" '$WORK/tpm.out'"
if start_daemon -c "$WORK/xpxe.yaml" --tftp-idle-timeout 600; then
	ok "serve -c (tftp_max 1, tftp_max_wait 1) starts"
else
	not_ok "serve -c (tftp_max 1, tftp_max_wait 1) starts"
	exit 1
fi
check "xpxe status --json says the pace (200 ms) and the HTTP backlog (32) by default, nothing paced yet" \
	downloads_are '.tftp_pace_ms == 200 and .tftp_http_backlog == 32 and .tftp_paced == 0 and .tftp_paced_total == 0 and .tftp_promoted == 0'

# --- paced to its end -----------------------------------------------------------------------
fetch w1 boot.efi --stall
check "w1 is answered and holds the one place" wait_until state_is w1 answered
daemon0=$(counter tftp_data_daemon)
in_cli atftp --get -r small.bin -l "$WORK/small.out" "$SRV_IP" >"$WORK/atftp.out" 2>&1 &
atftp_pid=$!
check "atftp's request goes in over the cap after tftp_max_wait, paced (tftp_paced 1)" \
	wait_until downloads_are '.tftp_paced == 1 and .tftp_paced_total == 1'
check "... while w1 still holds its place (1 running)" downloads_are '.tftp_active == 1'
check "/metrics says so: xpxe_tftp_downloads_paced 1, _paced_total 1, _active 1, _held 0, _max 1" \
	wait_until metrics_are xpxe_tftp_downloads_paced 1 xpxe_tftp_downloads_paced_total 1 \
	xpxe_tftp_downloads_active 1 xpxe_tftp_downloads_held 0 xpxe_tftp_downloads_max 1
check "... and xpxe_tftp_downloads_held_total 1, _promoted_total 0" \
	metrics_are xpxe_tftp_downloads_held_total 1 xpxe_tftp_downloads_promoted_total 0
check "xpxe status prints TFTP's line: 1 running, 0 held, 1 paced" \
	bash -c "'$XPXE' status | grep -q '^tftp  *1 running (at most 1 at once), 0 held, 1 paced (a block each 200 ms)'"
if wait "$atftp_pid"; then ok "atftp ends"; else not_ok "atftp ends" "$(cat "$WORK/atftp.out")"; fi
check "... with the whole file" cmp -s "$WORK/small.bin" "$WORK/small.out"
check "the daemon sent its 30 blocks itself, not the data plane (tftp_data_daemon +30)" \
	counter_at_least tftp_data_daemon $((daemon0 + 30))
check "... paced to its end, never promoted (paced 0, promoted 0)" \
	wait_until downloads_are '.tftp_paced == 0 and .tftp_promoted == 0'
events_say_paced() { # FILE: its tftp_start and tftp_done say path=paced
	grep -q "event=tftp_start .*\"$1 .*path=paced" "$WORK/daemon.log" &&
		grep -q "event=tftp_done .*\"$1 .*path=paced" "$WORK/daemon.log"
}
check "its tftp_start and tftp_done events say path=paced" wait_until events_say_paced small.bin

# --- paced, then promoted -------------------------------------------------------------------
fetch w3 boot.efi
check "w3 goes in over the cap, paced" \
	wait_until downloads_are '.tftp_paced == 1 and .tftp_paced_total == 2'
daemon1=$(counter tftp_data_daemon)
check "the daemon sends w3's blocks while it is paced (tftp_data_daemon +3)" \
	wait_until counter_at_least tftp_data_daemon $((daemon1 + 3))
check "w3 is not done while paced (586 blocks)" bash -c "! grep -qx done '$WORK/w3.out.state'"
check "xpxe watch shows w3's transfer as paced" wait_until w3_path_is paced
check "... and TFTP's line: 1 running, 0 held, 1 paced, 2 let in paced" \
	screen_has 'tftp: 1 running (at most 1), 0 held, 1 paced (2 let in paced, 0 of them took a place)'
check "/metrics: xpxe_tftp_downloads_paced 1, _paced_total 2" \
	wait_until metrics_are xpxe_tftp_downloads_paced 1 xpxe_tftp_downloads_paced_total 2
touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
check "w3 takes the free place: promoted (tftp_promoted 1, paced 0, 1 running)" \
	wait_until downloads_are '.tftp_promoted == 1 and .tftp_paced == 0'
check "/metrics: xpxe_tftp_downloads_promoted_total 1, _paced 0" \
	wait_until metrics_are xpxe_tftp_downloads_promoted_total 1 xpxe_tftp_downloads_paced 0
check "xpxe watch shows w3's transfer on the data plane's path now, not paced" \
	wait_until w3_path_is 'xdp|tc|xdp/tc'
check "w3 reads the whole file" wait_until state_is w3 done
check "... the file's bytes" cmp -s "$WORK/boot.efi" "$WORK/w3.out"
daemon2=$(counter tftp_data_daemon)
plane=$("$XPXE" status --json | jq '.interfaces[0].counters | .tftp_data_xdp + .tftp_data_tc')
check "the data plane sent the rest at full speed (XDP or tc: $plane blocks; the daemon $((daemon2 - daemon1)) of w3's 586)" \
	test "$plane" -ge 400 -a $((daemon2 - daemon1)) -lt 200
for m in w1 w3; do wait "${PID[$m]}" || not_ok "tftp_hold.py for $m failed" "$(cat "$WORK/$m.err")"; done
check "the log says so" grep -q "tftp: boot.efi of ${IP[w3]}:[0-9]*, paced, takes a place" "$WORK/daemon.log"

# --- IPv6: paced the same way ---------------------------------------------------------------
rm -f "$WORK"/w1.out*
fetch w1 boot.efi --stall
check "w1 holds the one place again" wait_until state_is w1 answered
in_cli python3 "$HOLD" "$SRV6" "$CLI6" mw3 boot.efi "$WORK/v6.out" 2>"$WORK/v6.err" &
PID[v6]=$!
check "an IPv6 request goes in over the cap after tftp_max_wait, paced (paced 1, paced_total 3)" \
	wait_until downloads_are '.tftp_paced == 1 and .tftp_paced_total == 3'
d6=$(counter tftp6_data)
check "the daemon's socket sends its blocks while it is paced (tftp6_data +3)" \
	wait_until counter_at_least tftp6_data $((d6 + 3))
check "it is not done while paced (586 blocks)" bash -c "! grep -qx done '$WORK/v6.out.state'"
check "its tftp_start event says path=paced" \
	grep -q "event=tftp_start .*ip=$CLI6 .*path=paced" "$WORK/daemon.log"
touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
check "the IPv6 transfer takes the free place: promoted (promoted 2, paced 0)" \
	wait_until downloads_are '.tftp_promoted == 2 and .tftp_paced == 0'
check "it reads the whole file" wait_until state_is v6 done
check "... the file's bytes over IPv6" cmp -s "$WORK/boot.efi" "$WORK/v6.out"
check "the log says so" grep -q "tftp: boot.efi of \[$CLI6\]:[0-9]*, paced, takes a place" "$WORK/daemon.log"
for m in w1 v6; do wait "${PID[$m]}" || not_ok "tftp_hold.py for $m failed" "$(cat "$WORK/$m.err")"; done
kill "$DAEMON_PID"
wait_daemon

# --- off: tftp_pace_ms 0 --------------------------------------------------------------------
: >"$WORK/daemon.log"
rm -f "$WORK"/*.out "$WORK"/*.out.state "$WORK"/*.out.release
if start_daemon -c "$WORK/xpxe.yaml" --tftp-idle-timeout 600 --tftp-pace-ms 0; then
	ok "serve --tftp-pace-ms 0 starts"
else
	not_ok "serve --tftp-pace-ms 0 starts"
	exit 1
fi
fetch w1 boot.efi --stall
check "w1 holds the one place" wait_until state_is w1 answered
daemon0=$(counter tftp_data_daemon)
in_cli atftp --get -r small.bin -l "$WORK/small.out" "$SRV_IP" >"$WORK/atftp.out" 2>&1
check "atftp reads the whole file, over the cap" cmp -s "$WORK/small.bin" "$WORK/small.out"
check "... at full speed: not paced (paced_total 0), the data plane sent its blocks" \
	bash -c "'$XPXE' status --json | jq -e '.http.downloads.tftp_paced_total == 0 and .http.downloads.tftp_pace_ms == 0' >/dev/null && [ \$('$XPXE' status --json | jq .interfaces[0].counters.tftp_data_daemon) -lt $((daemon0 + 5)) ]"
touch "$WORK/w1.out.release"
wait "${PID[w1]}" || not_ok "tftp_hold.py for w1 failed" "$(cat "$WORK/w1.err")"
kill "$DAEMON_PID"
wait_daemon
