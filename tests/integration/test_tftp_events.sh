#!/usr/bin/env bash
# TFTP in the fleet view, with real clients on two machines (their own MACs):
# curl, tftp-hpa (a DATA block dropped once: a retransmit) and atftp (a window,
# AF_XDP) complete transfers; a missing file is refused; a client aborts with an
# ERROR; one goes silent and expires, another's session is evicted. Checked: the events (log lines, `xpxe
# trace MAC`), the progress bar of a running transfer in `xpxe watch` under tmux,
# the problems in red, and /metrics (in flight, outcomes, errors, bytes by path).
LAB=etevent
source "$(dirname "$0")/lib.sh"
require_root

PROBE=$ROOT/tests/integration/tftp_probe.pl
hex() { printf "$@" | od -An -v -tx1 | tr -d ' \n'; } # printf ARGS -> hex
MAC1=52:54:00:79:00:01
MAC2=52:54:00:79:00:02

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 $MAC1
lab host 2 $MAC2
ip -n "$LAB-h1" addr add 198.18.0.51/24 dev eth0
ip -n "$LAB-h2" addr add 198.18.0.52/24 dev eth0
in_h1() { ip netns exec "$LAB-h1" "$@"; }
in_h2() { ip netns exec "$LAB-h2" "$@"; }

FILES=$WORK/files
OUT=$WORK/out
mkdir -p "$FILES" "$OUT"
head -c 300000 /dev/urandom >"$FILES/f300k"
head -c 1048576 /dev/urandom >"$FILES/f1m"
# The idle timeout: a silent client's transfer expires 4 s after its last ACK.
if start_daemon -i "$IF_SRV" --asset "f300k=$FILES/f300k" --asset "f1m=$FILES/f1m" \
	--no-default-assets --tftp-idle-timeout 4 --tftp-windowsize-max 16; then
	ok "serve starts"
else
	not_ok "serve starts"
	exit 1
fi
URL=http://$SRV_IP:8080
log() { cat "$WORK/daemon.log"; }

# --- a lockstep transfer (curl) and a windowed one (atftp, AF_XDP) ----------------
in_h1 curl -sS --tftp-blksize 1468 -o "$OUT/c" "tftp://$SRV_IP/f300k"
check "curl fetches f300k intact" test "$(sha "$OUT/c")" = "$(sha "$FILES/f300k")"
in_h1 timeout 20 atftp --option "blksize 1468" --option "windowsize 8" --get -r f1m \
	-l "$OUT/a" "$SRV_IP" >/dev/null 2>&1
check "atftp with windowsize 8 fetches f1m intact" test "$(sha "$OUT/a" 2>/dev/null)" = "$(sha "$FILES/f1m")"
# The ends arrive as the programs' events, or at the daemon's sweep (once a second) at the latest.
both_done() {
	grep -q "event=tftp_done mac=$MAC1 .*detail=\"f300k " "$WORK/daemon.log" &&
		grep -q "event=tftp_done mac=$MAC1 .*detail=\"f1m " "$WORK/daemon.log"
}
wait_until both_done
check "tftp_start: file, size, blksize, windowsize and path (the interface's first: xdp/tc, not known yet), with the client's MAC" \
	grep -Eq "event=tftp_start mac=$MAC1 ip=198.18.0.51 iface=$IF_SRV detail=\"f300k size=300000 blksize=1468 windowsize=1 path=xdp/tc\"" <(log)
check "tftp_done: the lockstep transfer, by the program that sent its last block (tc here)" \
	grep -Eq "event=tftp_done mac=$MAC1 .* detail=\"f300k blocks=205 path=tc retransmits=0 seconds=[0-9.]+ MB/s=[0-9.]+\" bytes=300000" <(log)
check "tftp_start of the window says af_xdp" \
	grep -Eq "event=tftp_start mac=$MAC1 .*detail=\"f1m size=1048576 blksize=1468 windowsize=8 path=af_xdp\"" <(log)
check "tftp_done of the window" \
	grep -Eq "event=tftp_done mac=$MAC1 .*detail=\"f1m blocks=715 path=af_xdp .* bytes=1048576" <(log)

# --- a retransmit (tftp-hpa, DATA 5 dropped once on h2's way in) --------------------
in_h2 tc qdisc add dev eth0 clsact
in_h2 tc filter add dev eth0 ingress bpf da obj "$BUILD/lab_drop.bpf.o" sec tc ||
	not_ok "the drop filter loads on $LAB-h2"
printf 'binary\nrexmt 1\nget f300k %s\n' "$OUT/h" | in_h2 tftp "$SRV_IP" >/dev/null 2>&1
check "tftp-hpa fetches f300k intact after a lost block" test "$(sha "$OUT/h" 2>/dev/null)" = "$(sha "$FILES/f300k")"
h2_done() { grep -q "event=tftp_done mac=$MAC2 " "$WORK/daemon.log"; }
wait_until h2_done
check "the next lockstep transfer's start names tc: XDP found no room to grow ACKs on veth" \
	grep -Eq "event=tftp_start mac=$MAC2 .*detail=\"f300k size=300000 blksize=512 windowsize=1 path=tc\"" <(log)
check "tftp_retransmit: the burst, with its count, before the end" \
	grep -Eq "event=tftp_retransmit mac=$MAC2 .*detail=\"f300k retransmits=1 \(\+1\) at block [0-9]+ of 586\"" <(log)
check "... and tftp_done counts it" grep -Eq "event=tftp_done mac=$MAC2 .*retransmits=1 " <(log)
# blksize 512: XDP fails to grow those ACKs without giving up on the interface, and completes
# the transfer at its final ACK; tc sent every block (xpxe status counts them under tc).
check "tftp_done of a 512-byte-block transfer names tc, which sent its blocks, as status counts" \
	grep -Eq "event=tftp_done mac=$MAC2 .*detail=\"f300k blocks=586 path=tc " <(log)
check "... and no block was XDP's" test "$(counter tftp_data_xdp)" = 0
secs=$(grep -Eo "event=tftp_done mac=$MAC2 .* seconds=[0-9.]+" <(log) | sed 's/.*seconds=//')
# It took at least the client's 1 s retry (rexmt 1) of the lost block: timed to its end.
if awk -v s="$secs" 'BEGIN { exit !(s >= 0.9) }'; then ok "tftp_done's seconds span the transfer to its final ACK ($secs s, past the 1 s retry)"; else not_ok "tftp_done's seconds span the transfer" "seconds=$secs"; fi

# --- refused, aborted -------------------------------------------------------------
in_h1 curl -s -o /dev/null "tftp://$SRV_IP/nothing-here"
check "tftp_error: a missing file refused, with the requester's MAC" \
	grep -Eq "event=tftp_error mac=$MAC1 .*detail=\"RRQ 'nothing-here': ERROR 1 \(file not found\)" <(log)
check "... as a warning, the machine's problem" grep -Eq " warn event=tftp_error .*'nothing-here'" <(log)
# shim and GRUB ask for files they go on without: refused, but no machine's problem.
in_h1 curl -s -o /dev/null "tftp://$SRV_IP/revocations_sbat.efi"
in_h1 curl -s -o /dev/null "tftp://$SRV_IP/grub/x86_64-efi/command.lst"
optional_logged() { [ "$(grep -c "(optional)" "$WORK/daemon.log")" = 2 ]; }
wait_until optional_logged
check "shim's revocations_sbat.efi and GRUB's command.lst refused as optional, logged as info" \
	bash -c "grep -Eq ' info event=tftp_error .*detail=\"\(optional\) RRQ .revocations_sbat.efi.: ERROR 1 \(file not found\)' '$WORK/daemon.log' &&
		grep -Eq ' info event=tftp_error .*detail=\"\(optional\) RRQ .grub/x86_64-efi/command.lst.: ERROR 1' '$WORK/daemon.log'"
in_h1 perl "$PROBE" "$SRV_IP" rrq=f1m,blksize=512 blocks=3 \
	send=last:"$(hex '\0\5\0\0stop\0')" >/dev/null 2>&1
aborted_logged() { grep -q "event=tftp_aborted" "$WORK/daemon.log"; }
wait_until aborted_logged
check "tftp_aborted: the client's ERROR, with where it stopped" \
	grep -Eq "event=tftp_aborted mac=$MAC1 .*detail=\"f1m ERROR 0 from the client at block 4 of 2049\"" <(log)

# --- a transfer in progress, and one that goes silent, in xpxe watch --------------
in_h2 perl "$PROBE" "$SRV_IP" rrq=f1m,blksize=512 blocks=2 >/dev/null 2>&1 # then silent
# h1's transfer is held at 43% (900 of 2049 blocks; then a block a second, so it never goes
# idle and stays in the 40s for minutes) until the test has seen it in xpxe watch.
in_h1 perl "$PROBE" "$SRV_IP" rrq=f1m,blksize=512 blocks=900 hold="$WORK/p.go",1000 rest \
	save="$OUT/p" >"$WORK/p.out" 2>&1 &
paused=$!
wait_until said "$WORK/p.out" '^holding' "$paused"
tmux kill-session -t "$LAB" 2>/dev/null
tmux new-session -d -s "$LAB" -x 200 -y 20 "XPXE_SOCKET=$SOCK $XPXE watch --interval 0.3"
at_exit tmux kill-session -t "$LAB"
# on_screen [-e] PATTERN: the watch's screen (-e: with its colours) shows PATTERN (grep -E);
# the screen lands in $WORK/screen.
on_screen() {
	local esc=
	[ "$1" = -e ] && esc=-e && shift
	tmux capture-pane -p $esc -t "$LAB" >"$WORK/screen" && grep -Eq -- "$1" "$WORK/screen"
}
bar="$MAC1 .* \[####\.\.\.\.\.\.\] .* f1m 4[0-9]% tc"
wait_until on_screen "$bar" # the sweep reads the session's progress once a second
check "xpxe watch: the running transfer's progress bar and percentage" grep -Eq "$bar" "$WORK/screen"
metrics=$(in_cli curl -s "$URL/metrics")
check "/metrics: transfers in flight" \
	grep -Eq "^xpxe_tftp_transfers_in_flight\{interface=\"$IF_SRV\"\} [12]$" <<<"$metrics"
touch "$WORK/p.go"
wait "$paused"
check "... and that transfer completes intact" test "$(sha "$OUT/p" 2>/dev/null)" = "$(sha "$FILES/f1m")"
h2_expired() { grep -q "event=tftp_expired mac=$MAC2" "$WORK/daemon.log"; }
wait_until h2_expired
check "tftp_expired: the silent client, with why" \
	grep -Eq "event=tftp_expired mac=$MAC2 .*detail=\"f1m: no ACK for 4 s after block 3 of 2049\"" <(log)
red=$'\e\[31m'"$MAC2.*f1m failed tc *tftp_expired: no ACK for 4 s"
done_p="$MAC1 .* f1m done tc"
both_shown() { on_screen -e "$red" && grep -Eq "$done_p" "$WORK/screen"; }
wait_until both_shown # redrawn every 0.3 s
check "xpxe watch: the expired transfer in red, as its machine's problem" grep -Eq "$red" "$WORK/screen"
check "... the finished one as done" grep -Eq "$done_p" "$WORK/screen"

# --- a session gone from the map under a running transfer (cleared by hand) ---------------
# The transfer goes on (a block every 0.5 s) until the daemon is stopped (SIGSTOP), then goes
# silent, and its session is deleted: the daemon, stopped, cannot expire it for its silence
# first, and on SIGCONT finds it gone.
in_h1 perl "$PROBE" "$SRV_IP" rrq=f300k,blksize=512 blocks=2 hold="$WORK/evict.go" \
	>"$WORK/evict.out" 2>&1 &
evictee=$!
wait_until said "$WORK/evict.out" '^holding' "$evictee"
kill -STOP "$DAEMON_PID"
touch "$WORK/evict.go"
wait "$evictee"
sessions=/sys/fs/bpf/xpxe/$IF_SRV/tftp_sessions
# The running one (state 1): the paused transfer's ended session may still be there. An
# array by server port: its entry is emptied (all zero), as the daemon clears one.
key=$(bpftool -j map dump pinned "$sessions" |
	jq -r '[.[] | select(.formatted.value.s.state == 1)][0].key | map(ltrimstr("0x")) | join(" ")')
check "bpftool clears the silent transfer's session ($key)" \
	bpftool map update pinned "$sessions" key hex $key value hex $(printf '00 %.0s' $(seq 64))
kill -CONT "$DAEMON_PID"
h1_expired() { grep -q "event=tftp_expired mac=$MAC1" "$WORK/daemon.log"; }
wait_until h1_expired # at its next sweep
check "tftp_expired: a session gone from the map, at the next sweep" \
	grep -Eq "event=tftp_expired mac=$MAC1 .*detail=\"f300k: the session left the table" <(log)

# --- the per-MAC timeline, and the counters --------------------------------------------
trace=$("$XPXE" trace $MAC2 --once)
check "xpxe trace MAC: that machine's TFTP stages in order" \
	bash -c 'grep -oE "tftp_[a-z]+" <<<"$1" | tr "\n" " " | grep -q "tftp_start tftp_retransmit tftp_done tftp_start tftp_expired"' _ "$trace"
check "... and none of the other machine's" bash -c "! grep -q $MAC1 <<<\"\$1\"" _ "$trace"
fleet=$("$XPXE" watch --once | cat)
check "xpxe watch (lines) prints the TFTP events" grep -Eq "^[0-9:]{8} tftp_done +$MAC1" <<<"$fleet"
metrics=$(in_cli curl -s "$URL/metrics")
metric() { sed -n "s/^$1 //p" <<<"$metrics"; }
lbl="interface=\"$IF_SRV\""
check "/metrics: completed transfers ($(metric "xpxe_tftp_transfers_total{$lbl,outcome=\"completed\"}"))" \
	test "$(metric "xpxe_tftp_transfers_total{$lbl,outcome=\"completed\"}")" -ge 4
check "/metrics: aborted, expired (silent, evicted)" test "$(metric "xpxe_tftp_transfers_total{$lbl,outcome=\"aborted\"}")" -ge 1 -a \
	"$(metric "xpxe_tftp_transfers_total{$lbl,outcome=\"expired\"}")" -ge 2
check "/metrics: errors sent" test "$(metric "xpxe_tftp_errors_sent_total{$lbl}")" -ge 1
check "/metrics: retransmits" test "$(metric "xpxe_tftp_retransmits_total{$lbl}")" -ge 1
# curl's f300k, the paused f1m, tftp-hpa's f300k but its DATA 1 (the daemon sends that one)
check "/metrics: bytes by path: tc" test "$(metric "xpxe_tftp_bytes_total{$lbl,path=\"tc\"}")" -ge $((300000 + 1048576 + 300000 - 512))
check "/metrics: bytes by path: af_xdp" test "$(metric "xpxe_tftp_bytes_total{$lbl,path=\"af_xdp\"}")" -ge 1048576
check "/metrics: no transfer in flight any more" \
	grep -Eq "^xpxe_tftp_transfers_in_flight\{$lbl\} 0$" <<<"$metrics"
check "every tftp_done says seconds above 0 ($(done_lines))" every_done_timed
