#!/usr/bin/env bash
# Windowed TFTP (RFC 7440) over IPv6 through AF_XDP, as IPv4's (test_tftp_window.sh): atftp over
# IPv6 fetches files with windowsize 4 and 16 (7 at an odd blksize, 16 past the 65535-block
# rollover), every download byte for byte. xdp_tftp6 redirects each window's ACK to the daemon's
# AF_XDP socket (tftp_ack_to_xsk) and the daemon builds the window's IPv6 DATA frames: every
# block counted in tftp6_data_xsk, none sent by the transfer's socket (tftp6_data,
# tftp_data_window_udp), none taken over; every frame on the wire carries a correct UDP checksum
# (mandatory over IPv6); the end events say path=af_xdp. With the XSKMAP emptied, XDP passes a
# window's ACK up (tftp_ack_to_daemon, as IPv4's), and the transfer's socket takes the transfer
# over and completes it (tftp6_takeover, tftp_data_window_udp).
LAB=tftp6w
source "$(dirname "$0")/lib.sh"
require_root

SRV6=fd00:198:18:6::1
CLI6=fd00:198:18:6::2
pins=/sys/fs/bpf/xpxe/$IF_SRV
lab_up_v6 || exit 1

FILES=$WORK/files
OUT=$WORK/out
mkdir -p "$FILES" "$OUT"
# Blocks of 1448 over IPv6 on a 1500-byte MTU (IPv4's 1468 less IPv6's 20 more header bytes).
# w16: exactly one window of 16 blocks, so the final (empty) block opens a window alone.
declare -A SIZE=([f0]=0 [f1]=1 [w16]=$((16 * 1448)) [f300k]=300000 [f3m]=3000000
	[big]=$((32 * 1024 * 1024 + 1000)))
for f in "${!SIZE[@]}"; do head -c "${SIZE[$f]}" /dev/urandom >"$FILES/$f"; done
ASSETS=(--no-default-assets --state-dir "$WORK/state")
for f in "${!SIZE[@]}"; do ASSETS+=(--asset "$f=$FILES/$f"); done

if start_daemon -i "$IF_SRV" "${ASSETS[@]}" --tftp-windowsize-max 64; then
	ok "xpxe serves $IF_SRV with $SRV6, --tftp-windowsize-max 64"
else
	not_ok "xpxe serves $IF_SRV" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
udp6_bound() { in_srv ss -Hlun6 "sport = :69" | grep -q .; }
check "TFTP listens on UDP [::]:69 (IPv6)" wait_until udp6_bound
check "the daemon opened its AF_XDP sockets" \
	grep -q "TFTP windows up to 64 blocks, sent through [0-9]* AF_XDP socket(s)" "$WORK/daemon.log"

atftp_get() { # WINDOWSIZE BLKSIZE NAME OUT
	in_cli timeout 600 atftp --option "blksize $2" --option "windowsize $1" --get -r "$3" \
		-l "$4" "$SRV6"
}
blocks_of() { echo $(($1 / $2 + 1)); } # SIZE BLKSIZE -> its DATA blocks

xsk0=$(counter tftp6_data_xsk) all0=$(counter tftp_data_xsk) d0=$(counter tftp6_data)
u0=$(counter tftp_data_window_udp) t0=$(counter tftp6_takeover) a0=$(counter tftp_ack_to_xsk)
c0=$(counter tftp6_completed) re0=$(counter tftp_window_resent)
want=0 n=0
for w in 4 16; do
	for f in f0 f1 w16 f300k f3m; do
		fetched "atftp over IPv6, windowsize $w: $f (${SIZE[$f]} bytes)" "$OUT/$w.$f" "$FILES/$f" \
			atftp_get "$w" 1468 "$f" "$OUT/$w.$f"
		want=$((want + $(blocks_of "${SIZE[$f]}" 1448))) n=$((n + 1))
	done
done
fetched "atftp over IPv6, windowsize 7, blksize 1001 (odd sizes, odd offsets)" "$OUT/odd" \
	"$FILES/f3m" atftp_get 7 1001 f3m "$OUT/odd"
want=$((want + $(blocks_of "${SIZE[f3m]}" 1001))) n=$((n + 1))
fetched "atftp over IPv6, windowsize 16, blksize 512, past the 65535-block rollover" "$OUT/big" \
	"$FILES/big" atftp_get 16 512 big "$OUT/big"
want=$((want + $(blocks_of "${SIZE[big]}" 512))) n=$((n + 1))

resent=$(($(counter tftp_window_resent) - re0))
xsk=$(($(counter tftp6_data_xsk) - xsk0))
check "every block of the $n transfers went through AF_XDP: tftp6_data_xsk +$xsk = $want (+ $resent resent)" \
	test "$xsk" -eq $((want + resent))
check "... counted in IPv4's tftp_data_xsk too (+$(($(counter tftp_data_xsk) - all0)))" \
	test $(($(counter tftp_data_xsk) - all0)) -eq "$xsk"
check "... none from the transfers' sockets: tftp6_data +$(($(counter tftp6_data) - d0)), tftp_data_window_udp +$(($(counter tftp_data_window_udp) - u0))" \
	test "$(counter tftp6_data)" -eq "$d0" -a "$(counter tftp_data_window_udp)" -eq "$u0"
check "... none taken over (tftp6_takeover +$(($(counter tftp6_takeover) - t0)))" \
	test "$(counter tftp6_takeover)" -eq "$t0"
check "... XDP redirected their ACKs to AF_XDP (tftp_ack_to_xsk +$(($(counter tftp_ack_to_xsk) - a0)))" \
	test $(($(counter tftp_ack_to_xsk) - a0)) -ge $((want / 16))
completed() { test "$(counter tftp6_completed)" -ge $((c0 + n)); }
check "the $n transfers completed (tftp6_completed, seen in the sessions)" wait_until completed
ended() { test "$(grep -c 'event=tftp_done .*ip=fd00:198:18:6::2 .*path=af_xdp ' "$WORK/daemon.log")" -ge "$n"; }
check "their end events say path=af_xdp" wait_until ended
st=$("$XPXE" status --json)
check "xpxe status --json: tftp.ipv6.blocks_af_xdp = tftp6_data_xsk, path has af_xdp" \
	jq -e --argjson x "$(counter tftp6_data_xsk)" '.interfaces[0].tftp.ipv6 |
		.blocks_af_xdp == $x and (.path | test("af_xdp"))' <<<"$st"
check "xpxe status: the IPv6 line names the AF_XDP blocks" \
	bash -c "'$XPXE' status | grep -qE 'IPv6: [0-9]+ RRQs; .*, af_xdp $(counter tftp6_data_xsk) \(windows\)'"
check "status: no AF_XDP drops, no block left unsent" \
	jq -e '.interfaces[0].tftp.window | .blocks_not_sent == 0 and
		(.sockets | all(.rx_dropped == 0 and .rx_ring_full == 0 and .tx_invalid == 0))' <<<"$st"

# --- checksums on the wire ---------------------------------------------------------------------
# On the client's bridge, where the frames end (the capture's marker frame stays there).
capture_start "$NS_CLI" wire "$IF_BR" "udp and src host $SRV6"
atftp_get 16 1468 f300k "$OUT/wire" >/dev/null 2>&1
atftp_get 5 777 f300k "$OUT/wire2" >/dev/null 2>&1
capture_stop
sums=$(tcpdump -n -vv -r "$WORK/wire.pcap" 2>/dev/null)
good=$(grep -c 'udp sum ok' <<<"$sums")
bad=$(grep -Ec 'bad udp cksum|\[no cksum\]' <<<"$sums")
if [ "$good" -ge 500 ] && [ "$bad" -eq 0 ]; then
	ok "every IPv6 frame sent through AF_XDP carries a correct UDP checksum ($good checked)"
else
	not_ok "IPv6 checksums on the wire" "$good ok, $bad bad or none" \
		"$(tr "\n" " " <"$WORK/wire.tcpdump")"
fi
check "... and both files arrived whole" \
	test "$(sha "$OUT/wire")" = "$(sha "$FILES/f300k")" -a "$(sha "$OUT/wire2")" = "$(sha "$FILES/f300k")"

# --- no AF_XDP socket on the queue: the transfer's socket takes the transfer over ----------------
queues=$(in_srv ethtool -l "$IF_SRV" | awk '/^Current/ { c = 1 } c && /^RX:/ { print $2 }')
for q in $(seq 0 $((queues - 1))); do
	bpftool map delete pinned "$pins/tftp_xsks" key $q 0 0 0
done
d0=$(counter tftp_ack_to_daemon) u0=$(counter tftp_data_window_udp) t0=$(counter tftp6_takeover)
x0=$(counter tftp6_data_xsk)
fetched "with the XSKMAP emptied, a windowsize 16 fetch over IPv6 still completes" "$OUT/udp" \
	"$FILES/f3m" atftp_get 16 1468 f3m "$OUT/udp"
check "... XDP passed its first window's ACK up, counted as IPv4's (tftp_ack_to_daemon +$(($(counter tftp_ack_to_daemon) - d0)))" \
	test "$(counter tftp_ack_to_daemon)" -eq $((d0 + 1))
check "... the transfer's socket took it over once (tftp6_takeover +$(($(counter tftp6_takeover) - t0)))" \
	test "$(counter tftp6_takeover)" -eq $((t0 + 1))
check "... and sent its windows (tftp_data_window_udp +$(($(counter tftp_data_window_udp) - u0)) >= $(blocks_of "${SIZE[f3m]}" 1448)), none through AF_XDP" \
	test $(($(counter tftp_data_window_udp) - u0)) -ge "$(blocks_of "${SIZE[f3m]}" 1448)" \
	-a "$(counter tftp6_data_xsk)" -eq "$x0"
check "every tftp_done says seconds above 0 ($(done_lines))" every_done_timed
