#!/usr/bin/env bash
# Windowed TFTP (RFC 7440) in the lab: atftp fetches files with windowsize 4,
# 16 and 64 (and past the 65535-block rollover), every download's sha256 equal
# to the source's; the OACK grants what it may; on the wire, ACKs get whole
# windows, the window's base ACKed again at once the window again (once: after
# that, a duplicate gets nothing), an ACK inside a window a window from there;
# DATA lost inside a window (lab_drop) is recovered; windows go through the
# daemon's AF_XDP socket and `xpxe status` shows its rings; without an AF_XDP
# socket they go through the transfer's UDP socket; a daemon killed mid-window
# is taken over; --tftp-windowsize-max 1 turns windows off; 64 clients at once.
LAB=win1
source "$(dirname "$0")/lib.sh"
require_root

PROBE=$ROOT/tests/integration/tftp_probe.pl
probe() { in_cli perl "$PROBE" "$SRV_IP" "$@"; }
hex() { printf "$@" | od -An -v -tx1 | tr -d ' \n'; } # printf ARGS -> hex
window() { "$XPXE" status --json | jq -r ".interfaces[0].tftp.window.$1"; }
tftp_field() { "$XPXE" status --json | jq -r ".interfaces[0].tftp.$1"; }
pins=/sys/fs/bpf/xpxe/$IF_SRV

lab up || {
	not_ok "lab up"
	exit 1
}
ok "lab up"

FILES=$WORK/files
OUT=$WORK/out
mkdir -p "$FILES" "$OUT"
# w16: exactly one window of 16 blocks of 1468, so the final (empty) block opens a window alone.
declare -A SIZE=([f0]=0 [f1]=1 [w16]=$((16 * 1468)) [f300k]=300000 [f3m]=3000000
	[big]=$((32 * 1024 * 1024 + 1000)))
for f in "${!SIZE[@]}"; do head -c "${SIZE[$f]}" /dev/urandom >"$FILES/$f"; done
ASSETS=(--no-default-assets)
for f in "${!SIZE[@]}"; do ASSETS+=(--asset "$f=$FILES/$f"); done

start_daemon -i "$IF_SRV" "${ASSETS[@]}" --tftp-windowsize-max 64 --tftp-max-per-ip 256 || {
	not_ok "serve starts"
	exit 1
}
ok "serve starts with --tftp-windowsize-max 64"
queues=$(ip netns exec "$NS_SRV" ethtool -l "$IF_SRV" | awk '/^Current/ { c = 1 } c && /^RX:/ { print $2 }')
check "the log says windows go through AF_XDP" \
	grep -q "TFTP windows up to 64 blocks, sent through $queues AF_XDP socket(s) (copy mode)" "$WORK/daemon.log"
status=$("$XPXE" status --json)
check "status: AF_XDP on, one socket per RX queue ($queues), copy mode on veth" \
	jq -e --argjson q "$queues" '.interfaces[0].tftp.window | .af_xdp and .windowsize_max == 64 and
		(.sockets | length == $q) and (.sockets[0].mode == "copy") and
		(.sockets[0].rings.fill.level == .sockets[0].rings.fill.size)' <<<"$status"
check "status (text) shows the AF_XDP rings" \
	bash -c "'$XPXE' status | grep -Eq 'af_xdp    queue 0 \(copy mode\): rings fill ([0-9]+)/\1, completion'"
check "the XSKMAP is pinned with the other maps" \
	bash -c "bpftool map show pinned $pins/tftp_xsks | grep -q 'xskmap  name tftp_xsks'"

# --- atftp with windowsize 4 and 16, every size ------------------------------------
atftp_get() { # WINDOWSIZE BLKSIZE NAME OUT [ATFTP ARGS...]
	local w=$1 b=$2 name=$3 out=$4
	shift 4
	in_cli timeout 600 atftp "$@" --option "blksize $b" --option "windowsize $w" --get -r "$name" \
		-l "$out" "$SRV_IP"
}
tc0=$(tftp_field blocks_tc)
xsk0=$(tftp_field blocks_af_xdp)
for w in 4 16; do
	for f in f0 f1 w16 f300k f3m; do
		fetched "atftp windowsize $w: $f (${SIZE[$f]} bytes)" "$OUT/$w.$f" "$FILES/$f" \
			atftp_get "$w" 1468 "$f" "$OUT/$w.$f"
	done
done
fetched "atftp windowsize 16, blksize 512, past the 65535-block rollover (32 MiB + 1000)" \
	"$OUT/big" "$FILES/big" atftp_get 16 512 big "$OUT/big"
fetched "atftp windowsize 7, blksize 1001 (odd sizes, odd offsets)" "$OUT/odd" "$FILES/f3m" \
	atftp_get 7 1001 f3m "$OUT/odd"
# 64 blocks in a burst: on veth with an XDP program on the receiving side, each frame takes a
# whole page of the client socket's buffer (4352 bytes of truesize, measured), so atftp's
# default 212992 bytes hold 48 of them and a window of 64 overflows it every time. For this
# one fetch the client peer runs without its XDP_PASS program (frames of 2304 bytes then):
# windows go out through the driver's xmit path, which needs no XDP on the peer.
in_cli ip link set dev "$IF_CLI" xdp off
fetched "atftp windowsize 64: f3m" "$OUT/64.f3m" "$FILES/f3m" atftp_get 64 1468 f3m "$OUT/64.f3m"
in_cli ip link set dev "$IF_CLI" xdpdrv obj "$BUILD/xdp_pass.bpf.o" sec xdp
status=$("$XPXE" status --json)
check "every block of those windows went through AF_XDP, none through tc" \
	jq -e --argjson tc0 "$tc0" --argjson x0 "$xsk0" '.interfaces[0].tftp |
		.blocks_tc == $tc0 and .blocks_af_xdp - $x0 > 50000 and .blocks_window_udp == 0' <<<"$status"
check "status: windows and the ACKs that asked for them are counted" \
	jq -e '.interfaces[0].tftp.window | .windows > 3000 and .acks_to_xsk == .windows and
		.blocks_not_sent == 0' <<<"$status"
check "status: the path is af_xdp" jq -e '.interfaces[0].tftp.path | test("af_xdp")' <<<"$status"

# --- what the OACK grants ---------------------------------------------------------------
oack_of() { # RRQ-HEX -> the answer's hex, after the port
	local out
	out=$(probe send=69:"$1" recv)
	echo "${out#* }"
}
want=$(hex '\0\6blksize\0001468\0windowsize\00064\0')
got=$(oack_of "$(hex '\0\1f300k\0octet\0blksize\0001468\0windowsize\000100\0')")
check "windowsize 100 is granted as 64 (the maximum)" test "$got" = "$want"
want=$(hex '\0\6tsize\000%s\0blksize\0001468\0windowsize\0004\0' "${SIZE[f3m]}")
got=$(oack_of "$(hex '\0\1f3m\0octet\0tsize\0000\0blksize\0001468\0windowsize\0004\0')")
check "OVMF's request (tsize, blksize 1468, windowsize 4) gets windowsize 4" test "$got" = "$want"
got=$(oack_of "$(hex '\0\1f300k\0octet\0windowsize\0000\0')")
check "windowsize 0 gets ERROR 8" test "${got:0:8}" = "00050008"

# --- ACK semantics on the wire ---------------------------------------------------------------
dup0=$(counter tftp_ack_dup_ignored)
re0=$(window restarts)
out=$(probe rrq=f3m,blksize=1468,windowsize=4 drain send=last:"$(hex '\0\4\0\4')" \
	send=last:"$(hex '\0\4\0\4')" send=last:"$(hex '\0\4\0\4')" drain \
	send=last:"$(hex '\0\4\0\6')" drain \
	send=last:"$(hex '\0\4\0\12')" drain send=last:"$(hex '\0\4\0\3')" drain)
mapfile -t lines <<<"$out"
check "ACK 0 of the OACK: DATA 1-4" test "${lines[1]}" = "blocks 1 2 3 4"
# ACK 4 again at once is what a client sends when DATA 6 came and DATA 5 did not: the window
# again, at once, not at the client's timeout. Once: a third ACK 4 at once is a duplicate.
check "ACK 4 three times at once: the window, then once again (DATA 5 lost), not a third time" \
	test "${lines[2]}" = "blocks 5 6 7 8 5 6 7 8"
check "... the third ACK 4 is counted as a duplicate (no Sorcerer's Apprentice)" \
	test "$(counter tftp_ack_dup_ignored)" = $((dup0 + 1))
check "ACK 6, inside the window 5-8: it starts again after it, DATA 7-10" \
	test "${lines[3]}" = "blocks 7 8 9 10"
check "ACK 10, the window's last: DATA 11-14" test "${lines[4]}" = "blocks 11 12 13 14"
check "ACK 3, older than the window: nothing" test "${lines[5]}" = "blocks none"
check "... and the restart was counted ($re0 -> $(window restarts))" test "$(window restarts)" -gt "$re0"

# --- checksums on the wire ---------------------------------------------------------------------
# On the client's bridge, where the frames end (the capture's marker frame stays there).
capture_start "$NS_CLI" wire "$IF_BR" "udp and src host $SRV_IP"
atftp_get 16 1468 f300k "$OUT/wire" >/dev/null 2>&1
atftp_get 5 777 f300k "$OUT/wire2" >/dev/null 2>&1
capture_stop
sums=$(tcpdump -n -vv -r "$WORK/wire.pcap" 2>/dev/null)
good=$(grep -c 'udp sum ok' <<<"$sums")
bad=$(grep -c 'bad udp cksum' <<<"$sums")
if [ "$good" -ge 500 ] && [ "$bad" -eq 0 ] && ! grep -q 'bad cksum' <<<"$sums"; then
	ok "every frame sent through AF_XDP carries correct IPv4 and UDP checksums ($good checked)"
else
	not_ok "checksums on the wire" "$good ok, $bad bad" "$(tr "\n" " " <"$WORK/wire.tcpdump")"
fi

# --- DATA lost inside a window --------------------------------------------------------------
in_cli tc qdisc add dev "$IF_CLI" clsact
drop_once() {
	in_cli tc filter del dev "$IF_CLI" ingress 2>/dev/null
	in_cli tc filter add dev "$IF_CLI" ingress bpf da obj "$BUILD/lab_drop.bpf.o" sec tc
}
for w in 16 4; do
	[ "$w" = 16 ] && where="in the middle of the window 1-16" || where="the first block of the window 5-8"
	drop_once || not_ok "the drop filter loads on $IF_CLI"
	re0=$(window restarts)
	rs0=$(window blocks_resent)
	rm -f "$OUT/drop$w"
	atftp_get "$w" 1468 f300k "$OUT/drop$w" --tftp-timeout 1 >/dev/null 2>&1
	re1=$(window restarts)
	if [ -f "$OUT/drop$w" ] && [ "$(sha "$OUT/drop$w")" = "$(sha "$FILES/f300k")" ] && [ "$re1" -gt "$re0" ]; then
		ok "windowsize $w: DATA 5 ($where) dropped once; the window started again there ($re0 -> $re1 restarts, $(($(window blocks_resent) - rs0)) blocks again)"
	else
		not_ok "windowsize $w: a DATA dropped inside a window recovers" "restarts $re0 -> $re1" \
			"file: $(ls -l "$OUT/drop$w" 2>&1)"
	fi
done
in_cli tc filter del dev "$IF_CLI" ingress

# --- lockstep beside windows -------------------------------------------------------------------
x0=$(tftp_field blocks_af_xdp)
tc0=$(tftp_field blocks_tc)
fetched "atftp without windowsize: lockstep, served by the kernel path" "$OUT/lock" "$FILES/f300k" \
	in_cli atftp --option "blksize 1468" --get -r f300k -l "$OUT/lock" "$SRV_IP"
fetched "atftp windowsize 1: granted as 1, lockstep too" "$OUT/lock1" "$FILES/f300k" \
	atftp_get 1 1468 f300k "$OUT/lock1"
check "... both by tc_tftp, not AF_XDP" \
	test "$(tftp_field blocks_af_xdp)" = "$x0" -a "$(tftp_field blocks_tc)" -ge $((tc0 + 2 * 205))

# --- no AF_XDP socket on the queue: the transfer's UDP socket sends the windows ----------------
for q in $(seq 0 $((queues - 1))); do
	bpftool map delete pinned "$pins/tftp_xsks" key $q 0 0 0
done
udp0=$(tftp_field blocks_window_udp)
fetched "with the XSKMAP emptied, a windowsize 16 fetch still completes" "$OUT/udp" "$FILES/f3m" \
	atftp_get 16 1468 f3m "$OUT/udp"
status=$("$XPXE" status --json)
# (XDP counts those ACKs as acks_to_tc here: on veth it found no room, so with no socket on
# the queue it hands ACKs to tc at once, and tc passes a window's ACK up to the socket.)
check "... its windows went out through its UDP socket (blocks_window_udp)" \
	jq -e --argjson u0 "$udp0" '.interfaces[0].tftp | .blocks_window_udp - $u0 == 2044 and
		.path == "tc+af_xdp+udp"' <<<"$status"

# --- a daemon killed mid-window is taken over ---------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
start_daemon -i "$IF_SRV" "${ASSETS[@]}" --tftp-windowsize-max 64 --tftp-max-per-ip 256 || not_ok "serve starts again"
# The client pauses after 4 windows (hold, taking nothing: the windows are the daemon's to
# send) until the new daemon has taken the transfer over; the idle timeout (30 s) is far.
probe rrq=f3m,blksize=1468,windowsize=16 blocks=64 hold="$WORK/survivor.go",0 rest \
	save="$OUT/survivor" >"$WORK/survivor.out" 2>&1 &
survivor=$!
wait_until said "$WORK/survivor.out" '^holding' "$survivor"
kill -KILL "$DAEMON_PID"
wait_daemon
start_daemon -i "$IF_SRV" "${ASSETS[@]}" --tftp-windowsize-max 64 --tftp-max-per-ip 256 || not_ok "serve starts over a killed daemon"
check "the new daemon takes over the windowed transfer" grep -Eq "took over 1 TFTP transfer" "$WORK/daemon.log"
touch "$WORK/survivor.go"
if wait "$survivor" && [ "$(sha "$OUT/survivor")" = "$(sha "$FILES/f3m")" ]; then
	ok "... which completes through the new daemon's AF_XDP socket"
else
	not_ok "... which completes" "$(cat "$WORK/survivor.out")"
fi

# --- 64 clients at once ------------------------------------------------------------------------
pids=()
for i in $(seq 64); do
	atftp_get $((i % 2 ? 16 : 4)) 1468 f300k "$OUT/m$i" >/dev/null 2>&1 &
	pids+=($!)
done
wait_downloads "$FILES/f300k" "$OUT/m" 64 "${pids[@]}"
failed=$FAILED same=$SAME
if [ "$failed" -eq 0 ] && [ "$same" -eq 64 ]; then
	ok "64 atftp clients at once, windowsize 4 and 16: all 64 complete with the right sha256"
else
	not_ok "64 windowed clients at once" "$failed clients failed, $same of 64 files match"
fi
check "status: no AF_XDP drops, no block left unsent" \
	jq -e '.interfaces[0].tftp.window | .blocks_not_sent == 0 and
		(.sockets | all(.rx_dropped == 0 and .rx_ring_full == 0 and .tx_invalid == 0))' \
	<<<"$("$XPXE" status --json)"

# --- two RX queues: a socket on each --------------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
check "SIGTERM removes the pins, the XSKMAP with them" test ! -e "$pins"
# veth takes more server RX queues only when its peer has as many TX queues.
in_cli ethtool -L "$IF_CLI" rx 2 tx 2 && in_srv ethtool -L "$IF_SRV" rx 2 tx 2
start_daemon -i "$IF_SRV" "${ASSETS[@]}" --tftp-windowsize-max 64 --tftp-max-per-ip 256 || not_ok "serve starts on 2 queues"
check "with 2 RX queues, 2 AF_XDP sockets" \
	grep -q "TFTP windows up to 64 blocks, sent through 2 AF_XDP socket(s)" "$WORK/daemon.log"
pids=()
for i in $(seq 16); do
	atftp_get 16 1468 f300k "$OUT/q$i" >/dev/null 2>&1 &
	pids+=($!)
done
wait_downloads "$FILES/f300k" "$OUT/q" 16 "${pids[@]}"
check "16 clients spread over both queues all complete ($SAME of 16 match)" test "$FAILED" -eq 0 -a "$SAME" -eq 16
check "... and each queue's socket took ACKs and sent windows" \
	jq -e '.interfaces[0].tftp.window.sockets | length == 2 and all(.rx_acks > 0 and .tx_sent > 0)' \
	<<<"$("$XPXE" status --json)"

# --- windows off ------------------------------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
start_daemon -i "$IF_SRV" "${ASSETS[@]}" --tftp-windowsize-max 1 || not_ok "serve --tftp-windowsize-max 1"
want=$(hex '\0\6tsize\000%s\0blksize\0001468\0' "${SIZE[f3m]}")
got=$(oack_of "$(hex '\0\1f3m\0octet\0tsize\0000\0blksize\0001468\0windowsize\0004\0')")
check "--tftp-windowsize-max 1: OVMF's windowsize 4 is left out of the OACK" test "$got" = "$want"
check "... and status says why" \
	bash -c "'$XPXE' status | grep -q 'windows not offered (clients go lockstep): --tftp-windowsize-max is 1'"
fetched "... atftp asking windowsize 16 completes lockstep" "$OUT/off" "$FILES/f300k" \
	atftp_get 16 1468 f300k "$OUT/off"
check "every tftp_done says seconds above 0 ($(done_lines))" every_done_timed
