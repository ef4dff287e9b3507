#!/usr/bin/env bash
# IPv6 TFTP through xdp_pxe's tail call to xdp_tftp6 (bpf/tftp6.h), with real clients over
# IPv6, every download byte for byte. xdp_tftp6 answers a lockstep transfer's ACK with its next
# DATA block by XDP_TX where the driver leaves room to grow the frame, and hands the ACK to
# tc_tftp where not. On veth (DESIGN.md, lab facts) an ACK has room for a few dozen bytes
# (measured: blksize 8-32 every block, 64-512 about one in five, 1448 none): so atftp and curl
# at blksize 16 get every block from XDP and none from tc; tftp-hpa -6 (512) gets each block
# from one of the two; atftp at blksize 1468 fails to grow a full block, XDP marks the interface
# (xdp_no_room) and from then on every ACK goes to tc without a try (tftp6_xdp_to_tc). Each
# transfer's end event names the programs that sent its own blocks: xdp, xdp/tc, tc.
LAB=tftp6x
source "$(dirname "$0")/lib.sh"
require_root

SRV6=fd00:198:18:6::1
CLI6=fd00:198:18:6::2
lab_up_v6 || exit 1

head -c 146800 /dev/urandom >"$WORK/f" # 287 blocks of 512 bytes, 100 of 1468
head -c 100001 /dev/urandom >"$WORK/g" # an odd size: a short final block of odd length
if start_daemon -i "$IF_SRV" --state-dir "$WORK/state" --asset "f=$WORK/f" --asset "g=$WORK/g"; then
	ok "xpxe serves $IF_SRV with $SRV6"
else
	not_ok "xpxe serves $IF_SRV" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
udp6_bound() { in_srv ss -Hlun6 "sport = :69" | grep -q .; }
check "TFTP listens on UDP [::]:69 (IPv6)" wait_until udp6_bound
check "the daemon put xdp_tftp6 in xdp_pxe's tail-call slot (no warning that it was refused)" \
	bash -c "! grep -q 'refused xdp_pxe.s tail calls' '$WORK/daemon.log'"

# paths BLOCKS: the data plane sent BLOCKS IPv6 blocks since the last call, and any it resent
# (a client's retry on a busy machine: tftp_retransmits); sets XDP, TC, TOTC (the blocks from
# each, the ACKs XDP left to tc) and RE (the blocks resent).
X0=0 T0=0 O0=0 R0=0
paths() {
	local x t o r
	x=$(counter tftp6_data_xdp) t=$(counter tftp6_data_tc) o=$(counter tftp6_xdp_to_tc)
	r=$(counter tftp_retransmits)
	XDP=$((x - X0)) TC=$((t - T0)) TOTC=$((o - O0)) RE=$((r - R0))
	X0=$x T0=$t O0=$o R0=$r
	check "... the data plane sent its $1 blocks (xdp $XDP + tc $TC, $RE resent)" \
		test $((XDP + TC)) -eq $(($1 + RE))
}
paths 0
# ended FILE BLOCKS PATH N: N end events of FILE's transfers (BLOCKS blocks) name PATH, the
# programs that sent that transfer's blocks (its session's record, not the interface's).
ended() {
	[ "$(grep -c "event=tftp_done mac=- .*detail=\"$1 blocks=$2 path=$3 " "$WORK/daemon.log")" -ge "$4" ]
}

# blksize 16: room on veth; the OACK is the daemon's, DATA 1..6251 XDP's.
fetched "atftp over IPv6, blksize 16: g (100001 bytes, odd)" "$WORK/g.a16" "$WORK/g" \
	in_cli atftp --option "blksize 16" --get -r g -l "$WORK/g.a16" "$SRV6"
paths 6251
check "... every one by XDP_TX (tftp6_data_xdp +$XDP), none by tc (tftp6_data_tc +$TC)" \
	test "$XDP" -ge 6251 -a "$TC" -eq 0
check "... its end event says path=xdp" wait_until ended g 6251 xdp 1
fetched "curl tftp://[$SRV6]/g, blksize 16" "$WORK/g.c16" "$WORK/g" \
	in_cli curl -sS -g --tftp-blksize 16 -o "$WORK/g.c16" "tftp://[$SRV6]/g"
paths 6251
check "... every one by XDP_TX (tftp6_data_xdp +$XDP), none by tc (tftp6_data_tc +$TC)" \
	test "$XDP" -ge 6251 -a "$TC" -eq 0
check "... its end event says path=xdp" wait_until ended g 6251 xdp 2
check "xpxe status: the IPv6 blocks came from XDP, path xdp+tc+daemon" \
	test "$("$XPXE" status --json | jq -r '.interfaces[0].tftp.ipv6.path')" = xdp+tc+daemon

# 512 (no options: DATA 1 is the daemon's): each block from XDP where it had room, else tc.
fetched "tftp-hpa -6: f (146800 bytes, 512-byte blocks)" "$WORK/f.t" "$WORK/f" \
	in_cli tftp -6 -m binary "$SRV6" -c get f "$WORK/f.t"
paths 286
# The mixed case: both paths sent blocks of this one transfer (each block from exactly one:
# paths checked the sum), and a failed grow of a 512-byte block did not mark the interface.
check "... both paths sent blocks (tftp6_data_xdp +$XDP > 0, tftp6_data_tc +$TC > 0)" \
	test "$XDP" -gt 0 -a "$TC" -gt 0
check "... what XDP could not grow went to tc (tftp6_xdp_to_tc +$TOTC >= tftp6_data_tc +$TC)" \
	test "$TOTC" -ge "$TC"
check "... and XDP keeps trying: the interface is not marked xdp_no_room" \
	bash -c "'$XPXE' status --json | jq -e '.interfaces[0].tftp.xdp_no_room == false'"
check "... its end event says path=xdp/tc (this transfer's, both programs)" \
	wait_until ended f 287 xdp/tc 1

# 1468 (1448 here: the MTU): no room for a full block; the interface is marked, tc serves.
fetched "atftp over IPv6, blksize 1468: f" "$WORK/f.a" "$WORK/f" \
	in_cli atftp --option "blksize 1468" --get -r f -l "$WORK/f.a" "$SRV6"
paths 102
check "... tc sent them (tftp6_data_tc +$TC, tftp6_data_xdp +$XDP)" test "$TC" -ge 102 -a "$XDP" -eq 0
check "... its end event says path=tc" wait_until ended f 102 tc 1
check "xpxe status: XDP has no room on this driver (xdp_no_room)" \
	bash -c "'$XPXE' status --json | jq -e '.interfaces[0].tftp.xdp_no_room == true'"
fetched "then blksize 16 again: g" "$WORK/g.a16b" "$WORK/g" \
	in_cli atftp --option "blksize 16" --get -r g -l "$WORK/g.a16b" "$SRV6"
paths 6251
check "... from tc alone now, XDP no longer trying (tc +$TC, xdp +$XDP, xdp_to_tc +$TOTC)" \
	test "$TC" -ge 6251 -a "$XDP" -eq 0 -a "$TOTC" -ge 6252
check "... its end event says path=tc, though earlier transfers of g said xdp" \
	wait_until ended g 6251 tc 1
st=$("$XPXE" status --json)
check "xpxe status --json: tftp.ipv6.blocks_xdp = tftp6_data_xdp" \
	test "$(jq '.interfaces[0].tftp.ipv6.blocks_xdp' <<<"$st")" = "$(counter tftp6_data_xdp)"
check "xpxe status --json: tftp.ipv6.acks_to_tc = tftp6_xdp_to_tc" \
	test "$(jq '.interfaces[0].tftp.ipv6.acks_to_tc' <<<"$st")" = "$(counter tftp6_xdp_to_tc)"
check "xpxe status: the IPv6 line names the XDP blocks" \
	bash -c "'$XPXE' status | grep -qE 'IPv6: [0-9]+ RRQs; blocks: xdp $(counter tftp6_data_xdp), tc $(counter tftp6_data_tc) '"
in_cli curl -s "http://[$SRV6]:8080/metrics" >"$WORK/metrics"
for c in tftp6_data_xdp tftp6_xdp_to_tc; do
	check "/metrics exports $c" grep -q "outcome=\"$c\"} $(counter $c)\$" "$WORK/metrics"
done
check "every tftp_done says seconds above 0 ($(done_lines))" every_done_timed
