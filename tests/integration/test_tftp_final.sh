#!/usr/bin/env bash
# A transfer whose final ACK never arrives (RFC 1350 6: the client may end as it sends it, and
# it may be lost: a firmware that boots at once, a NIC reset before its last frame left). Real
# clients (atftp, tftp-hpa) fetch a file of 20 blocks while lab_drop_ack drops every ACK of
# block 20 on the client's way out: they get the whole file, the daemon never sees its final
# ACK. It sends the final block again on its timeout, then ends the transfer as done, its
# final ACK not seen (tftp_final_ack_missing), well before the idle timeout. A transfer
# stalled before its final block (a file of 40 blocks: block 21 is never asked for) still
# expires at the idle timeout. The same over IPv6 for tc's lockstep transfers (tftp-hpa -6).
# A window whose final ACK is lost (atftp windowsize 4 over IPv6, through AF_XDP)
# expires: its last ACK (16) confirms none of the blocks after it, so the client may lack
# any of them.
LAB=tftpfin
source "$(dirname "$0")/lib.sh"
require_root

IDLE=10 # --tftp-idle-timeout: longer than the final block's wait (4 s), so the two differ
SRV6=fd00:198:18:6::1
CLI6=fd00:198:18:6::2
lab_up_v6 || exit 1

FILES=$WORK/files
OUT=$WORK/out
mkdir -p "$FILES" "$OUT"
head -c $((19 * 512 + 100)) /dev/urandom >"$FILES/f20" # 20 blocks of 512 bytes
head -c $((39 * 512 + 100)) /dev/urandom >"$FILES/f40" # 40 blocks
start_daemon -i "$IF_SRV" --no-default-assets --asset "f20=$FILES/f20" --asset "f40=$FILES/f40" \
	--tftp-idle-timeout "$IDLE" || { not_ok "serve starts"; exit 1; }
ok "serve starts (--tftp-idle-timeout $IDLE)"

in_cli tc qdisc add dev "$IF_CLI" clsact
if in_cli tc filter add dev "$IF_CLI" egress bpf da obj "$BUILD/lab_drop_ack.bpf.o" sec tc; then
	ok "lab_drop_ack on $IF_CLI (egress): every ACK of block 20 the client sends is dropped"
else
	not_ok "lab_drop_ack loads on $IF_CLI"
	exit 1
fi

# fetch CLIENT FILE OUT: one RRQ without options (blksize 512), the client's timeout 1 s.
fetch() {
	if [ "$1" = atftp ]; then
		in_cli timeout 60 atftp --tftp-timeout 1 --get -r "$2" -l "$3" "$SRV_IP" >/dev/null 2>&1
	elif [ "$1" = tftp-hpa-6 ]; then
		in_cli timeout 60 tftp -6 -m binary "$SRV6" -c get "$2" "$3" >/dev/null 2>&1
	elif [ "$1" = atftp-6 ]; then
		in_cli timeout 60 atftp --tftp-timeout 1 --get -r "$2" -l "$3" "$SRV6" >/dev/null 2>&1
	elif [ "$1" = atftp-6-window ]; then
		in_cli timeout 60 atftp --tftp-timeout 1 --option "windowsize 4" --get -r "$2" -l "$3" \
			"$SRV6" >/dev/null 2>&1
	else
		printf 'binary\nrexmt 1\nget %s %s\n' "$2" "$3" | in_cli timeout 60 tftp "$SRV_IP" >/dev/null 2>&1
	fi
}
# The events of file $2: tftp_done's detail is "NAME blocks=...", tftp_expired's "NAME: no ACK ...".
events() { grep -Ec "event=$1 .*detail=\"$2[ :]" "$WORK/daemon.log"; }

n=0
for client in atftp tftp-hpa tftp-hpa-6; do
	n=$((n + 1))
	missing0=$(counter tftp_final_ack_missing)
	expired0=$(counter tftp_sessions_expired)
	# What counts the final block sent again: IPv4's in tftp_data_daemon (with DATA 1, the
	# daemon's too without options), IPv6's in tftp6_retransmits.
	resent=tftp_data_daemon more=2
	[[ $client == *-6* ]] && resent=tftp6_retransmits more=1
	data0=$(counter $resent)
	rm -f "$OUT/f20"
	fetch $client f20 "$OUT/f20"
	t0=$SECONDS
	check "$client: the whole file of 20 blocks arrived, its final ACK dropped on the way" \
		test "$(sha "$OUT/f20" 2>/dev/null)" = "$(sha "$FILES/f20")"
	done_n() { [ "$(events tftp_done f20)" -ge "$n" ]; }
	wait_until done_n
	took=$((SECONDS - t0))
	line=$(grep "event=tftp_done .*detail=\"f20 " "$WORK/daemon.log" | tail -1)
	check "... the daemon ends it as done, the final ACK not seen, in ${took} s (< $IDLE s idle): ${line#*detail=}" \
		bash -c "[ '$took' -lt '$IDLE' ] && grep -Eq 'detail=\"f20 blocks=20 path=(xdp|tc|xdp/tc|af_xdp|udp) .* final_ack=not_seen\"' <<<'$line'"
	# Its 20 blocks left within milliseconds of the RRQ (the seconds above went to the wait
	# for the final ACK): they take one tick of the coarse clock at least, never 0.
	secs=$(grep -o 'seconds=[0-9.]*' <<<"$line" | cut -d= -f2)
	rate=$(grep -o 'MB/s=[0-9.]*' <<<"$line" | cut -d= -f2)
	check "... its seconds ($secs) and MB/s ($rate) are above 0" \
		awk -v s="$secs" -v r="$rate" 'BEGIN { exit !(s > 0 && r > 0) }'
	check "... counted: tftp_final_ack_missing $missing0 -> $(counter tftp_final_ack_missing), not expired" \
		test "$(counter tftp_final_ack_missing) $(counter tftp_sessions_expired)" = "$((missing0 + 1)) $expired0"
	check "... the daemon sent the final block again first ($resent $data0 -> $(counter $resent))" \
		test "$(counter $resent)" -ge $((data0 + more))
	check "... no tftp_expired for it" test "$(events tftp_expired f20)" = 0
done

metrics=$(in_cli curl -s -m 10 "http://$SRV_IP:8080/metrics")
check "/metrics: xpxe_tftp_transfers_total{outcome=\"final_ack_missing\"} 3" \
	grep -qx "xpxe_tftp_transfers_total{interface=\"$IF_SRV\",outcome=\"final_ack_missing\"} 3" <<<"$metrics"
check "xpxe status lists tftp_final_ack_missing 3" \
	grep -Eq "^ +tftp_final_ack_missing +3$" <("$XPXE" status)

# --- a window's final ACK lost: blocks 17-20 unconfirmed, so it expires ----------------------
missing0=$(counter tftp_final_ack_missing)
expired0=$(counter tftp_sessions_expired)
rm -f "$OUT/f20"
fetch atftp-6-window f20 "$OUT/f20"
check "atftp windowsize 4 over IPv6: the whole file of 20 blocks arrived, ACK 20 dropped" \
	test "$(sha "$OUT/f20" 2>/dev/null)" = "$(sha "$FILES/f20")"
expired_f20() { [ "$(events tftp_expired f20)" -ge 1 ]; }
wait_until expired_f20
check "... the daemon expires it after $IDLE s ($(grep -o 'detail="f20: [^"]*' "$WORK/daemon.log" | tail -1))" \
	grep -q "event=tftp_expired .*detail=\"f20: no ACK for $IDLE s after block 16 of 20\"" "$WORK/daemon.log"
check "... counted in tftp_sessions_expired ($expired0 -> $(counter tftp_sessions_expired)), not tftp_final_ack_missing" \
	test "$(counter tftp_sessions_expired) $(counter tftp_final_ack_missing)" = "$((expired0 + 1)) $missing0"

# --- stalled before its final block: expires as before -------------------------------------
missing0=$(counter tftp_final_ack_missing)
expired0=$(counter tftp_sessions_expired)
fetch atftp f40 "$OUT/f40"
check "a file of 40 blocks, ACK 20 dropped: the client does not get it whole" \
	test "$(sha "$OUT/f40" 2>/dev/null)" != "$(sha "$FILES/f40")"
expired_f40() { [ "$(events tftp_expired f40)" -ge 1 ]; }
wait_until expired_f40
check "... the daemon expires it after $IDLE s ($(grep -o 'detail="f40: [^"]*' "$WORK/daemon.log" | tail -1))" \
	grep -q "event=tftp_expired .*detail=\"f40: no ACK for $IDLE s after block 20 of 40\"" "$WORK/daemon.log"
check "... counted in tftp_sessions_expired ($expired0 -> $(counter tftp_sessions_expired)), not tftp_final_ack_missing" \
	test "$(counter tftp_sessions_expired) $(counter tftp_final_ack_missing)" = "$((expired0 + 1)) $missing0"
check "... and no tftp_done for it" test "$(events tftp_done f40)" = 0

# --- the final block never reaches the client: it fails, never ends as done ---------------------
# lab_drop_final drops every DATA 20 on the client's way in: a lockstep client (atftp, its timeout
# 1 s) ACKs block 19 again and again, and the data plane sends block 20 again for each. Over
# IPv4 (XDP's blocks) and IPv6 (tc's).
in_cli tc filter del dev "$IF_CLI" egress
if in_cli tc filter add dev "$IF_CLI" ingress bpf da obj "$BUILD/lab_drop_final.bpf.o" sec tc; then
	ok "lab_drop_final on $IF_CLI (ingress): every DATA 20 to the client is dropped"
else
	not_ok "lab_drop_final loads on $IF_CLI"
	exit 1
fi
n=0
for client in atftp atftp-6; do
	n=$((n + 1))
	missing0=$(counter tftp_final_ack_missing)
	expired0=$(counter tftp_sessions_expired)
	done0=$(events tftp_done f20)
	rm -f "$OUT/f20"
	fetch $client f20 "$OUT/f20"
	check "$client: DATA 20 dropped: the client does not get the file whole" \
		test "$(sha "$OUT/f20" 2>/dev/null)" != "$(sha "$FILES/f20")"
	failed() { [ "$(grep -c 'event=tftp_expired .*the client ACKed block 19 again: the final block 20 never reached it' "$WORK/daemon.log")" -ge "$n" ]; }
	wait_until failed
	check "... the daemon expires it: the client ACKed block 19 again ($(grep -o 'event=tftp_expired .*detail="f20[^"]*' "$WORK/daemon.log" | tail -1))" failed
	check "... counted in tftp_sessions_expired ($expired0 -> $(counter tftp_sessions_expired)), not tftp_final_ack_missing" \
		test "$(counter tftp_sessions_expired) $(counter tftp_final_ack_missing)" = "$((expired0 + 1)) $missing0"
	check "... and no tftp_done for it" test "$(events tftp_done f20)" = "$done0"
done

in_cli tc filter del dev "$IF_CLI" ingress
check "every tftp_done says seconds above 0 ($(done_lines))" every_done_timed
kill -TERM "$DAEMON_PID"
wait_daemon
