#!/usr/bin/env bash
# A lockstep IPv6 transfer whose every ACK carries an extension header (hop-by-hop, then
# destination options): tc_tftp passes such ACKs up (tftp6_tc_ext_hdr), so the session it
# serves never moves; the daemon takes the transfer over at the first ACK that reaches its
# socket (tftp6_takeover), and serves the rest from it, after DATA 1 or after an OACK (blksize).
# Each download completes, sha256 equal, and its end event says it was taken over. A plain
# client's transfer stays the data plane's (XDP or tc).
LAB=tftp6to
source "$(dirname "$0")/lib.sh"
require_root

SRV6=fd00:198:18:6::1
CLI6=fd00:198:18:6::2
lab_up_v6 || exit 1

head -c 146800 /dev/urandom >"$WORK/f" # 287 blocks of 512 bytes
if start_daemon -i "$IF_SRV" --state-dir "$WORK/state" --asset "f=$WORK/f"; then
	ok "xpxe serves $IF_SRV with $SRV6"
else
	not_ok "xpxe serves $IF_SRV" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
udp6_bound() { in_srv ss -Hlun6 "sport = :69" | grep -q .; }
check "TFTP listens on UDP [::]:69 (IPv6)" wait_until udp6_bound

CLIENT=$ROOT/tests/integration/tftp6_exthdr.py
n=0
for kind in hop dst; do
	n=$((n + 1))
	ext0=$(counter tftp6_tc_ext_hdr)
	took0=$(counter tftp6_takeover)
	done0=$(counter tftp6_completed)
	got=$(in_cli python3 "$CLIENT" "$kind" "$SRV6" f "$WORK/out.$kind")
	check "$kind: the download with an extension header on every ACK completes ($got)" \
		test "$got" = "ok 146800 287"
	check "$kind: sha256 equal" test "$(sha "$WORK/out.$kind")" = "$(sha "$WORK/f")"
	check "$kind: tc passed its ACKs up (tftp6_tc_ext_hdr $ext0 -> $(counter tftp6_tc_ext_hdr))" \
		test "$(counter tftp6_tc_ext_hdr)" -ge $((ext0 + 280))
	check "$kind: the daemon took the transfer over once (tftp6_takeover $took0 -> $(counter tftp6_takeover))" \
		test "$(counter tftp6_takeover)" -eq $((took0 + 1))
	completed() { test "$(counter tftp6_completed)" -eq $((done0 + 1)); }
	check "$kind: counted completed (tftp6_completed)" wait_until completed
	ev() { test "$(grep -c 'event=tftp_done .*detail="f blocks=287 path=udp .* taken over from tc at block 2"' "$WORK/daemon.log")" -ge "$n"; }
	check "$kind: its end event says it was taken over from tc" wait_until ev
	check "$kind: and the log says why" \
		grep -q "an ACK came past tc (an IPv6 extension header?)" "$WORK/daemon.log"
done

# With an option: tc's session starts at the OACK, and the ACK 0 that comes up is taken over.
took0=$(counter tftp6_takeover)
got=$(in_cli python3 "$CLIENT" dst "$SRV6" f "$WORK/out.oack" 1024)
check "dst, blksize 1024: the download completes after the OACK ($got)" test "$got" = "ok 146800 144"
check "... sha256 equal" test "$(sha "$WORK/out.oack")" = "$(sha "$WORK/f")"
check "... taken over once (tftp6_takeover $took0 -> $(counter tftp6_takeover))" \
	test "$(counter tftp6_takeover)" -eq $((took0 + 1))
ev1() { grep -q 'event=tftp_done .*detail="f blocks=144 path=udp .* taken over from tc at block 1"' "$WORK/daemon.log"; }
check "... its end event: taken over from tc at block 1 (the OACK was tc's last)" wait_until ev1

# A plain client (no extension header): the data plane serves every block (XDP where it could
# grow the ACK, tc where not: test_tftp6_xdp.sh), nothing taken over.
took0=$(counter tftp6_takeover)
tc0=$(($(counter tftp6_data_tc) + $(counter tftp6_data_xdp)))
rm -f "$WORK/out.plain"
in_cli tftp -6 "$SRV6" -m binary -c get f "$WORK/out.plain" >/dev/null 2>&1
check "a plain IPv6 download: sha256 equal" test "$(sha "$WORK/out.plain")" = "$(sha "$WORK/f")"
dp() { echo $(($(counter tftp6_data_tc) + $(counter tftp6_data_xdp))); }
check "... its blocks from tc or XDP (tftp6_data_tc + tftp6_data_xdp $tc0 -> $(dp))" \
	test "$(dp)" -ge $((tc0 + 286))
check "... and not taken over (tftp6_takeover $took0 -> $(counter tftp6_takeover))" \
	test "$(counter tftp6_takeover)" -eq "$took0"

# /metrics counts IPv6's ends too: those tc saw (the plain one) and the socket's (taken over).
completed_metric() {
	in_cli curl -s -m 10 "http://$SRV_IP:8080/metrics" |
		sed -n "s/^xpxe_tftp_transfers_total{interface=\"$IF_SRV\",outcome=\"completed\"} //p"
}
all4() { test "$(counter tftp6_completed)" = 4; }
wait_until all4
check "/metrics: outcome=\"completed\" counts the 4 IPv6 transfers ($(completed_metric), tftp6_completed $(counter tftp6_completed))" \
	test "$(completed_metric)" = 4
check "every tftp_done says seconds above 0 ($(done_lines))" every_done_timed
