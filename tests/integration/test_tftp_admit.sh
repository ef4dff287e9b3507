#!/usr/bin/env bash
# TFTP's admission (issue 23): at most downloads.tftp_max transfers run at once; a further
# RRQ is held unanswered (the client repeats it), in the order they asked, and answered when a
# transfer ends, or over the cap once it has waited downloads.tftp_max_wait; a control plane's
# is never held. IPv6's requests wait in the same queue; a request is its address and file
# (repeats from new ports keep one place), and so is what "let in lately" remembers. Machines
# are ports of the client's bridge, each with its own MAC (the inventory's) and address
# (tftp_hold.py). The order is read from the daemon's log (the
# order it let them in), never from durations.
#
# tftp_max 1: w1 takes the place and stalls (ACKs block 1, then nothing) while w3 and w2 ask,
# in that order,
# and are held; cp (role: controlplane) asks and goes at once. Then w1 ends its transfer: w3
# and w2 follow, one after another. Then with tftp_max_wait 1: a held machine goes in over the
# cap while w1 stalls; and a transfer never acknowledged gives its place up.
LAB=ttadmit
source "$(dirname "$0")/lib.sh"
require_root

HOLD=$ROOT/tests/integration/tftp_hold.py
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }

head -c 300000 /dev/urandom >"$WORK/boot.efi"
# One bridge port per machine: its own MAC and address; only the port that has an address
# answers ARP for it (arp_ignore), so each machine's frames carry its own MAC.
in_cli sysctl -qw net.ipv4.conf.all.arp_ignore=1
in_cli sysctl -qw net.ipv4.conf.all.rp_filter=0
declare -A IP=([w1]=198.18.0.51 [w2]=198.18.0.52 [w3]=198.18.0.53 [cp]=198.18.0.54)
declare -A MAC=([w1]=02:00:00:00:24:01 [w2]=02:00:00:00:24:02 [w3]=02:00:00:00:24:03
	[cp]=02:00:00:00:24:04)
for m in w1 w2 w3 cp; do
	in_cli ip link add "m$m" address "${MAC[$m]}" type veth peer name "p$m"
	in_cli ip link set "p$m" master "$IF_BR"
	in_cli ip link set "p$m" up
	in_cli sysctl -qw "net.ipv4.conf.m$m.rp_filter=0"
	in_cli ip addr add "${IP[$m]}/24" dev "m$m"
	in_cli ip link set "m$m" up
done
ports_up() { for m in w1 w2 w3 cp; do link_up "$NS_CLI" "m$m" || return 1; done; }
check "each machine has its own port on the bridge" wait_until ports_up

config() { # TFTP_MAX_WAIT
	cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: proxy
state_dir: $WORK/state
assets: {boot.efi: $WORK/boot.efi, kernel: $WORK/boot.efi}
downloads: {tftp_max: 4, tftp_max_wait: $1}
machines:
  - {mac: ${MAC[w1]}, hostname: w1}
  - {mac: ${MAC[w2]}, hostname: w2, role: worker}
  - {mac: ${MAC[w3]}, hostname: w3}
  - {mac: ${MAC[cp]}, hostname: cp, role: controlplane}
YAML
}
declare -A PID
fetch() { # MACHINE [--stall]
	in_cli python3 "$HOLD" "$SRV_IP" "${IP[$1]}" "m$1" boot.efi "$WORK/$1.out" "${@:2}" \
		2>"$WORK/$1.err" &
	PID[$1]=$!
}
state_is() { grep -qx "$2" "$WORK/$1.out.state" 2>/dev/null; }
log_has() { grep -q -- "$1" "$WORK/daemon.log"; }
# serve TFTP_MAX_WAIT DESCRIPTION: the daemon with config TFTP_MAX_WAIT, one transfer at a
# time; --max-tftp-downloads overrides the file's tftp_max (4). A stalled transfer expires at
# the idle timeout: far beyond the checks. Exits when it does not start. Not paced
# (--tftp-pace-ms 0): one let in over the cap reads its file at full speed here
# (test_tftp_pace.sh covers pacing).
serve() {
	config "$1"
	if start_daemon -c "$WORK/xpxe.yaml" --max-tftp-downloads 1 --tftp-idle-timeout 600 \
		--tftp-pace-ms 0; then
		ok "$2"
	else
		not_ok "$2"
		exit 1
	fi
}
# stop: the daemon ends; the machines' files go, for the next part.
stop() {
	kill "$DAEMON_PID"
	wait_daemon
	rm -f "$WORK"/*.out "$WORK"/*.out.state "$WORK"/*.out.release "$WORK"/*.out.ack
}

check "xpxe check refuses tftp_max_wait above 60 with its line" \
	bash -c "config_line=\$(printf 'interfaces: [x]\ndownloads: {tftp_max_wait: 61}\n'); echo \"\$config_line\" >'$WORK/bad.yaml'; ! '$XPXE' check -c '$WORK/bad.yaml' >'$WORK/bad.out' 2>&1 && grep -q 'bad.yaml:2:.*tftp_max_wait' '$WORK/bad.out'"

# --- held in order, control planes first -------------------------------------------------
serve 0 "serve -c --max-tftp-downloads 1 starts"
fetch w1 --stall
check "w1 is answered at once and holds the one place" wait_until state_is w1 answered
for m in w3 w2; do
	fetch "$m"
	check "$m is held" wait_until log_has "tftp: boot.efi of $m held"
done
fetch cp
check "cp, a control plane, is not held: it reads the whole file while w1 holds the place" \
	wait_until state_is cp done
check "... the log says so" log_has "tftp: boot.efi of cp goes at once, over the cap (control plane)"
check "held ones are not answered while w1 holds the place" \
	bash -c "! grep -q . '$WORK/w2.out.state' '$WORK/w3.out.state' 2>/dev/null"
check "xpxe trace shows w2's download_queued event" \
	bash -c "'$XPXE' trace w2 --once | grep -q 'download_queued.*boot.efi'"
check "xpxe status counts them: 1 running, 2 held, 1 control plane over the cap" \
	bash -c "'$XPXE' status --json | jq -e '.http.downloads | .tftp_active == 1 and .tftp_held == 2 and .tftp_over_cap_controlplane == 1'"

touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
all_done() { for m in w2 w3 cp; do state_is "$m" done || return 1; done; }
check "the held ones are answered and read the whole file" wait_until all_done
same=0
for m in w2 w3 cp; do cmp -s "$WORK/boot.efi" "$WORK/$m.out" && same=$((same + 1)); done
check "each got the file's bytes" test "$same" = 3
started=$(sed -n 's/.*tftp: \([a-z0-9]*\) starts after .* in the queue$/\1/p' "$WORK/daemon.log" | tr '\n' ' ')
check "the server let them in in the queue's order: w3 w2 (got: $started)" \
	test "$started" = "w3 w2 "
check "none went in over the cap for its wait (tftp_max_wait 0: never)" \
	bash -c "! grep -q 'over the cap: it waited' '$WORK/daemon.log'"
stop

# --- over the cap after tftp_max_wait ------------------------------------------------------
serve 1 "serve starts again with tftp_max_wait 1"
fetch w1 --stall
check "w1 holds the one place again" wait_until state_is w1 answered
fetch w2
check "w2 is held" wait_until log_has "tftp: boot.efi of w2 held"
check "... and goes in over the cap after tftp_max_wait, while w1 still holds its place" \
	wait_until state_is w2 done
check "... the whole file" cmp -s "$WORK/boot.efi" "$WORK/w2.out"
check "the log says why" log_has "tftp: w2 starts after .* (over the cap: it waited too long)"
check "w1 still stalls (it released nothing)" bash -c "! grep -q released '$WORK/w1.out.state'"
touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
for m in w1 w2; do wait "${PID[$m]}" || not_ok "tftp_hold.py for $m failed" "$(cat "$WORK/$m.err")"; done
stop

# --- a transfer never acknowledged gives its place up ------------------------------------
serve 0 "serve starts again with tftp_max_wait 0"
fetch w1 --mute
check "w1 is answered, and acknowledges nothing" wait_until state_is w1 answered
fetch w3
check "w3 is held behind w1's transfer" wait_until log_has "tftp: boot.efi of w3 held"
check "... and goes in once w1's transfer went unacknowledged (not at its idle timeout, 600 s)" \
	wait_until state_is w3 done
check "... by its turn, not over the cap (tftp_max_wait 0)" \
	bash -c "grep -q 'tftp: w3 starts after .* in the queue$' '$WORK/daemon.log'"
check "w1's transfer is still there (it expires at its idle timeout)" \
	bash -c "'$XPXE' status --json | jq -e '.interfaces[0].tftp.transfers >= 1' >/dev/null"
wait "${PID[w3]}" || not_ok "tftp_hold.py for w3 failed" "$(cat "$WORK/w3.err")"
stop

# fetch_as NAME MACHINE [--stall|--late...]: as fetch, from MACHINE's address and port, into
# NAME's files (a second request from the same machine, from another port), for $FILE
# (default boot.efi).
fetch_as() {
	in_cli python3 "$HOLD" "$SRV_IP" "${IP[$2]}" "m$2" "${FILE:-boot.efi}" "$WORK/$1.out" "${@:3}" \
		2>"$WORK/$1.err" &
	PID[$1]=$!
}
downloads_are() { "$XPXE" status --json | jq -e ".http.downloads | $1" >/dev/null; }
# new_log: the daemon log so far moves to daemon.log.before, so log_has sees the next daemon's.
new_log() { cat "$WORK/daemon.log" >>"$WORK/daemon.log.before"; : >"$WORK/daemon.log"; }

# --- a transfer taken over from a previous daemon holds its place --------------------------
# w1 runs (stalled) when the daemon is killed; the next one takes its transfer over from the
# data plane's pinned map: it counts as running, so w2 is held behind it. And two requests of
# one address for two files, from two ports (two machines behind a relay, or one asking for two
# files) are two
# places in the queue, each answered in turn.
new_log
serve 0 "serve starts again (adopted transfers)"
fetch w1 --stall
check "w1 holds the one place" wait_until state_is w1 answered
kill -KILL "$DAEMON_PID"
wait_daemon
serve 0 "serve starts over the killed daemon's data plane"
check "it takes w1's transfer over" wait_until log_has "took over 1 TFTP transfer"
check "... which holds the place: 1 running" wait_until downloads_are '.tftp_active == 1'
fetch w2
check "w2 is held behind the transfer taken over" \
	wait_until log_has "tftp: boot.efi of w2 held"
FILE=kernel fetch_as w2b w2
check "w2 asks for another file from another port: two requests held, not one" \
	wait_until downloads_are '.tftp_active == 1 and .tftp_held == 2'
check "neither is answered while w1 holds the place" \
	bash -c "! grep -q . '$WORK/w2.out.state' '$WORK/w2b.out.state' 2>/dev/null"
touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
both_done() { state_is w2 done && state_is w2b done; }
check "both of w2's requests are answered in turn and read the whole file" wait_until both_done
check "... the file's bytes, twice" \
	bash -c "cmp -s '$WORK/boot.efi' '$WORK/w2.out' && cmp -s '$WORK/boot.efi' '$WORK/w2b.out'"
check "... by their turn, not over the cap" \
	test "$(grep -c 'tftp: w2 starts after .* in the queue$' "$WORK/daemon.log")" = 2
for m in w1 w2 w2b; do wait "${PID[$m]}" || not_ok "tftp_hold.py for $m failed" "$(cat "$WORK/$m.err")"; done
stop

# --- a late ACK: the transfer runs, and counts ---------------------------------------------
# w1 acknowledges its first answer only after it gave its place up (w3 takes it): it runs
# after all, so it counts as running again, over the cap (2 running). When w3 ends, w2 (held)
# still waits: w1 holds the one place.
new_log
serve 0 "serve starts again (late ACK)"
fetch w1 --late --stall
check "w1 is answered, and does not acknowledge yet" wait_until state_is w1 answered
check "... it gives its place up (0 running)" wait_until downloads_are '.tftp_active == 0'
fetch w3 --stall
check "w3 takes the free place" wait_until state_is w3 answered
touch "$WORK/w1.out.ack"
check "w1 acknowledges late: the log says it takes a place again" \
	wait_until log_has "acknowledged late: it runs, and takes a place again"
check "xpxe status counts both as running (2, over the cap of 1)" \
	wait_until downloads_are '.tftp_active == 2'
fetch w2
check "w2 is held" wait_until log_has "tftp: boot.efi of w2 held"
touch "$WORK/w3.out.release"
check "w3 ends its transfer" wait_until state_is w3 released
check "w2 stays held: w1 runs, and holds the one place (1 running, 1 held)" \
	wait_until downloads_are '.tftp_active == 1 and .tftp_held == 1'
check "... w2 not answered" bash -c "! grep -q . '$WORK/w2.out.state' 2>/dev/null"
touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
check "w2 then reads the whole file" wait_until state_is w2 done
for m in w1 w2 w3; do wait "${PID[$m]}" || not_ok "tftp_hold.py for $m failed" "$(cat "$WORK/$m.err")"; done
stop

# --- one machine, one place: the same file asked again from new ports ---------------------
# w2 repeats its RRQ from a new port each time (as some firmware does): each is the request it
# was held for, its port moved, never a new place in the queue; its turn answers its latest port.
new_log
serve 0 "serve starts again (new ports)"
fetch w1 --stall
check "w1 holds the one place" wait_until state_is w1 answered
fetch w2 --new-port
check "w2 is held" wait_until log_has "tftp: boot.efi of w2 held"
check "w2 asks again from new ports: its request moves (tftp_held_moved)" \
	wait_until downloads_are '.tftp_held_moved >= 2'
check "... one request held, held once (tftp_held 1, tftp_held_total 1)" \
	downloads_are '.tftp_held == 1 and .tftp_held_total == 1'
touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
check "w2 is answered at its latest port and reads the whole file" wait_until state_is w2 done
check "... the file's bytes" cmp -s "$WORK/boot.efi" "$WORK/w2.out"
check "... by its turn, once" \
	test "$(grep -c 'tftp: w2 starts after .* in the queue$' "$WORK/daemon.log")" = 1
check "nothing is left held" downloads_are '.tftp_held == 0'
for m in w1 w2; do wait "${PID[$m]}" || not_ok "tftp_hold.py for $m failed" "$(cat "$WORK/$m.err")"; done
stop

# --- let in for one file, not for another ---------------------------------------------------
# An address let in lately goes at once only for the file it was let in for (EDK2's size, then
# that file, from a new port): w2 read the kernel, so its RRQ for boot.efi waits behind w3's.
new_log
serve 0 "serve starts again (let in by file)"
FILE=kernel fetch_as w2k w2
check "w2 reads the kernel at once (nothing runs)" wait_until state_is w2k done
fetch w1 --stall
check "w1 holds the one place" wait_until state_is w1 answered
fetch w3
check "w3 is held" wait_until log_has "tftp: boot.efi of w3 held"
fetch w2
check "w2's request for another file is held behind w3's, though w2 was let in lately" \
	wait_until log_has "tftp: boot.efi of w2 held"
touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
w2_w3_done() { state_is w3 done && state_is w2 done; }
check "w3 and w2 read the whole file" wait_until w2_w3_done
started=$(sed -n 's/.*tftp: \([a-z0-9]*\) starts after .* in the queue$/\1/p' "$WORK/daemon.log" | tr '\n' ' ')
check "let in in the queue's order: w3 w2 (got: $started)" test "$started" = "w3 w2 "
for m in w1 w2 w3 w2k; do wait "${PID[$m]}" || not_ok "tftp_hold.py for $m failed" "$(cat "$WORK/$m.err")"; done
stop

# --- IPv6's RRQs wait in the same queue ----------------------------------------------------
# w1 (IPv4) holds the place, w3 (IPv4) is held, then a machine asks over IPv6: it is held
# behind w3, not answered at once past it, and let in after it once w1 ends.
SRV6=fd00:198:18:23::1
CLI6=fd00:198:18:23::52
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
in_cli ip -6 addr add "$CLI6/64" dev mw2 nodad
check "$CLI6 (w2's port) reaches $SRV6" \
	wait_until in_cli ping -6 -c1 -W1 -I mw2 "$SRV6"
new_log
serve 0 "serve starts again (IPv6)"
udp6_bound() { in_srv ss -Hlun6 "sport = :69" | grep -q .; }
check "TFTP listens on UDP [::]:69" wait_until udp6_bound
fetch w1 --stall
check "w1 holds the one place" wait_until state_is w1 answered
fetch w3
check "w3 is held" wait_until log_has "tftp: boot.efi of w3 held"
in_cli python3 "$HOLD" "$SRV6" "$CLI6" mw2 boot.efi "$WORK/v6.out" 2>"$WORK/v6.err" &
PID[v6]=$!
check "the IPv6 request is held behind w3" wait_until log_has "tftp: boot.efi of $CLI6 held"
check "... not answered while w1 holds the place (1 running, 2 held)" \
	bash -c "! grep -q . '$WORK/v6.out.state' 2>/dev/null && '$XPXE' status --json | jq -e '.http.downloads | .tftp_active == 1 and .tftp_held == 2' >/dev/null"
touch "$WORK/w1.out.release"
check "w1 ends its transfer" wait_until state_is w1 released
v6_done() { state_is w3 done && state_is v6 done; }
check "w3 and the IPv6 machine are answered and read the whole file" wait_until v6_done
check "... the file's bytes over IPv6" cmp -s "$WORK/boot.efi" "$WORK/v6.out"
started=$(sed -n "s/.*tftp: \(w3\|$CLI6\) starts after .* in the queue\$/\1/p" "$WORK/daemon.log" | tr '\n' ' ')
check "let in in the queue's order: w3, then IPv6's (got: $started)" test "$started" = "w3 $CLI6 "
for m in w1 w3 v6; do wait "${PID[$m]}" || not_ok "tftp_hold.py for $m failed" "$(cat "$WORK/$m.err")"; done
