#!/usr/bin/env bash
# TFTP in the lab with real clients: curl, atftp and tftp-hpa fetch files of
# every awkward size (and one past the 65535-block rollover), Debian's iPXE
# binaries, with and without options; every download's sha256 must equal the
# source's. Then the refusals, the names that must not resolve, checksums on
# the wire, which path built the blocks, and 64 clients at once.
LAB=tftp1
source "$(dirname "$0")/lib.sh"
require_root

PROBE=$ROOT/tests/integration/tftp_probe.pl
probe() { in_cli perl "$PROBE" "$SRV_IP" "$@"; }
hex() { printf "$@" | od -An -v -tx1 | tr -d ' \n'; } # printf ARGS -> hex

lab up || { not_ok "lab up"; exit 1; }
ok "lab up"

# --- the files --------------------------------------------------------------------
FILES=$WORK/files
OUT=$WORK/out
mkdir -p "$FILES" "$OUT"
declare -A SIZE=([f0]=0 [f1]=1 [f511]=511 [f512]=512 [f513]=513 [f1468x100]=146800
	[big]=$((32 * 1024 * 1024 + 1000)))
for f in "${!SIZE[@]}"; do
	head -c "${SIZE[$f]}" /dev/urandom >"$FILES/$f"
done
mkdir -p "$FILES/sub"
cp "$FILES/f513" "$FILES/sub/x"
assets=()
for f in "${!SIZE[@]}"; do assets+=(--asset "$f=$FILES/$f"); done
assets+=(--asset "boot/x=$FILES/sub/x" --kernel "$FILES/f1468x100" --initrd "$FILES/f513")

# 64 clients below run from one host, beside transfers earlier checks left to expire:
# far above the default --tftp-max-per-ip.
if start_daemon -i "$IF_SRV" --tftp-max-per-ip 256 "${assets[@]}"; then
	ok "serve loads ${#SIZE[@]} files, a kernel, an initrd and Debian's iPXE binaries"
else
	not_ok "serve starts with the assets"
	exit 1
fi
check "a 32 MiB asset's load time is logged" grep -q "asset big: 33555432 bytes .* loaded in .* ms" "$WORK/daemon.log"

# --- every client, every size -----------------------------------------------------
for f in f0 f1 f511 f512 f513 f1468x100; do
	fetched "curl, no options: $f (${SIZE[$f]} bytes)" "$OUT/c.$f" "$FILES/$f" \
		in_cli curl -sS --tftp-no-options -o "$OUT/c.$f" "tftp://$SRV_IP/$f"
	fetched "curl --tftp-blksize 1468: $f" "$OUT/c1468.$f" "$FILES/$f" \
		in_cli curl -sS --tftp-blksize 1468 -o "$OUT/c1468.$f" "tftp://$SRV_IP/$f"
	fetched "atftp: $f" "$OUT/a.$f" "$FILES/$f" \
		in_cli atftp --get -r "$f" -l "$OUT/a.$f" "$SRV_IP"
	fetched "atftp blksize 1000, tsize: $f" "$OUT/a1000.$f" "$FILES/$f" \
		in_cli atftp --option "blksize 1000" --option "tsize 0" --get -r "$f" -l "$OUT/a1000.$f" "$SRV_IP"
	fetched "tftp-hpa: $f" "$OUT/t.$f" "$FILES/$f" \
		in_cli tftp -m binary "$SRV_IP" -c get "$f" "$OUT/t.$f"
done
fetched "curl --tftp-blksize 512 past the 65535-block rollover (32 MiB + 1000)" "$OUT/c.big" "$FILES/big" \
	in_cli curl -sS --tftp-blksize 512 -o "$OUT/c.big" "tftp://$SRV_IP/big"
fetched "atftp past the rollover" "$OUT/a.big" "$FILES/big" \
	in_cli atftp --get -r big -l "$OUT/a.big" "$SRV_IP"
fetched "tftp-hpa past the rollover" "$OUT/t.big" "$FILES/big" \
	in_cli tftp -m binary "$SRV_IP" -c get big "$OUT/t.big"
fetched "curl --tftp-blksize 1468: the 32 MiB file" "$OUT/c1468.big" "$FILES/big" \
	in_cli curl -sS --tftp-blksize 1468 -o "$OUT/c1468.big" "tftp://$SRV_IP/big"
fetched "an asset name with a folder (boot/x)" "$OUT/boot.x" "$FILES/sub/x" \
	in_cli curl -sS -o "$OUT/boot.x" "tftp://$SRV_IP/boot/x"
fetched "--kernel is served as vmlinuz" "$OUT/vmlinuz" "$FILES/f1468x100" \
	in_cli curl -sS -o "$OUT/vmlinuz" "tftp://$SRV_IP/vmlinuz"
fetched "--initrd is served as initramfs" "$OUT/initramfs" "$FILES/f513" \
	in_cli curl -sS -o "$OUT/initramfs" "tftp://$SRV_IP/initramfs"
fetched "a leading slash names the same asset (tftp-hpa get /f513)" "$OUT/slash" "$FILES/f513" \
	in_cli tftp -m binary "$SRV_IP" -c get /f513 "$OUT/slash"
for f in undionly.kpxe ipxe.efi snponly.efi; do
	fetched "Debian's $f, served by default" "$OUT/$f" "/usr/lib/ipxe/$f" \
		in_cli curl -sS --tftp-blksize 1468 -o "$OUT/$f" "tftp://$SRV_IP/$f"
done

# --- xpxe assets ------------------------------------------------------------------
assets_json=$("$XPXE" assets --json)
check "xpxe assets --json: sha256 and size of the 32 MiB asset match the file" \
	jq -e --arg s "$(sha "$FILES/big")" '.assets[] | select(.name == "big") |
		.sha256 == $s and .size == 33555432 and .blocks_512 == 65538 and .blocks_1468 == 22858' <<<"$assets_json"
check "xpxe assets --json: the iPXE binaries match Debian's files" \
	jq -e --arg s "$(sha /usr/lib/ipxe/snponly.efi)" '.assets[] | select(.name == "snponly.efi") | .sha256 == $s' <<<"$assets_json"
check "xpxe assets (text) lists every asset" \
	bash -c "'$XPXE' assets | grep -q '^f1468x100 .* 146800 ' && [ \$('$XPXE' assets | wc -l) -eq 14 ]"

# --- refusals and names -------------------------------------------------------------
refused() { # DESCRIPTION CODE HEX: the raw request HEX to port 69 gets ERROR CODE
	local out got
	out=$(probe send=69:"$3" recv)
	[[ $out =~ ^[0-9]+\ 0005(....) ]] && got="ERROR $((16#${BASH_REMATCH[1]}))" || got="no error: $out"
	if [ "$got" = "ERROR $2" ]; then ok "$1: ERROR $2"; else not_ok "$1: ERROR $2" "got: $got"; fi
}
refused "an unknown name" 1 "$(hex '\0\1nosuch\0octet\0')"
refused "another case of an asset's name" 1 "$(hex '\0\1F513\0octet\0')"
refused "'..' before an asset's name" 2 "$(hex '\0\1../f513\0octet\0')"
refused "'..' inside a name" 2 "$(hex '\0\1boot/../f513\0octet\0')"
refused "an absolute path outside the assets" 1 "$(hex '\0\1/etc/passwd\0octet\0')"
refused "a NUL inside the name (the rest is read as the mode)" 4 "$(hex '\0\1f513\0../../etc/passwd\0octet\0')"
refused "a 300-byte name" 1 "$(hex '\0\1%s\0octet\0' "$(head -c 300 /dev/zero | tr '\0' a)")"
refused "netascii mode" 0 "$(hex '\0\1f513\0netascii\0')"
refused "blksize 4" 8 "$(hex '\0\1f513\0octet\0blksize\0004\0')"
refused "timeout 0" 8 "$(hex '\0\1f513\0octet\0timeout\0000\0')"
refused "a request cut short" 4 "$(hex '\0\1f513\0octet')"
refused "DATA sent to port 69" 4 "$(hex '\0\3\0\1data')"
wrq0=$(counter tftp_wrq_refused)
out=$(in_cli tftp -m binary "$SRV_IP" -c put "$FILES/f513" f513 2>&1)
if grep -q "Error code 4: read-only server" <<<"$out" && [ "$(counter tftp_wrq_refused)" -gt "$wrq0" ]; then
	ok "tftp-hpa put: ERROR 4 read-only, answered by XDP"
else
	not_ok "tftp-hpa put: ERROR 4 read-only, answered by XDP" "$out" "wrq_refused $wrq0 -> $(counter tftp_wrq_refused)"
fi
in_cli curl -s -o /dev/null "tftp://$SRV_IP/nosuch"
rc=$?
if [ "$rc" -eq 68 ]; then ok "curl exits 68 (TFTP file not found) for an unknown name"; else not_ok "curl exits 68 for an unknown name" "exit $rc"; fi

# --- what OVMF sends (captures/ovmf-pxe-full-tftp.pcap) ------------------------------------
abort0=$(counter tftp_sessions_aborted)
rrq=$(hex '\0\1snponly.efi\0octet\0tsize\0000\0blksize\0001468\0windowsize\0004\0')
out=$(probe send=69:"$rrq" recv send=last:"$(hex '\0\5\0\10User aborted the transfer\0')")
want_oack=$(hex '\0\6tsize\0%s\0blksize\0001468\0windowsize\0004\0' "$(stat -c %s /usr/lib/ipxe/snponly.efi)")
port=${out%% *}
if [ "${out#* }" = "$want_oack" ] && [ "$port" -ne 69 ]; then
	ok "OVMF's size probe: an OACK with tsize, blksize 1468 and windowsize 4, from port $port"
else
	not_ok "OVMF's size probe: the OACK" "got: $out" "want: $want_oack"
fi
aborted() { [ "$(counter tftp_sessions_aborted)" -gt "$abort0" ]; }
wait_until aborted # the ERROR crosses the veth after the probe is done
check "... and its ERROR 8 ends the transfer (tftp_sessions_aborted)" aborted

# --- which path, and checksums on the wire --------------------------------------------------
# On the client's bridge, where the frames end (the capture's marker frame stays there).
capture_start "$NS_CLI" wire "$IF_BR" "udp and src host $SRV_IP"
in_cli curl -sS --tftp-blksize 1468 -o "$OUT/wire" "tftp://$SRV_IP/f1468x100"
in_cli curl -sS -o "$OUT/wire2" "tftp://$SRV_IP/f513"
capture_stop
sums=$(tcpdump -n -vv -r "$WORK/wire.pcap" 2>/dev/null)
good=$(grep -c 'udp sum ok' <<<"$sums")
bad=$(grep -c 'bad udp cksum' <<<"$sums")
# 105 frames: two OACKs and 103 DATA, every one of which reached curl; the capture holds all
# the bridge saw until its marker.
if [ "$good" -ge 105 ] && [ "$bad" -eq 0 ]; then
	ok "every frame from the server carries a correct UDP checksum ($good checked)"
else
	not_ok "UDP checksums on the wire" "$good ok, $bad bad" "$(tr "\n" " " <"$WORK/wire.tcpdump")"
fi
status=$("$XPXE" status --json)
check "status: the lab's veth takes the tc path, and says so" \
	jq -e '.interfaces[0].tftp.path | test("^(tc|xdp\\+tc)$")' <<<"$status"
check "status: XDP found no room to grow full blocks on veth, and says so" \
	jq -e '.interfaces[0].tftp.xdp_no_room == true' <<<"$status"
check "status: blocks by tc are counted, and acks_to_tc match them" \
	jq -e '.interfaces[0].tftp | .blocks_tc > 50000 and .acks_to_tc >= .blocks_tc' <<<"$status"
tc_id=$(jq -r '.interfaces[0].tftp.tc_prog_id' <<<"$status")
check "status: the tc program id is what the kernel runs on $IF_SRV ingress" \
	bash -c "ip netns exec '$NS_SRV' tc filter show dev '$IF_SRV' ingress | grep -q 'tc_tftp.* id $tc_id '"
check "status (text) explains the TFTP path" bash -c "'$XPXE' status | grep -q 'DATA blocks built by'"
check "no DATA block was built in userspace after an OACK" \
	jq -e '.interfaces[0].counters | .tftp_data_daemon < .tftp_rrq and .tftp_build_failed == 0' <<<"$status"

# --- 64 clients at once ---------------------------------------------------------------------
done0=$(counter tftp_sessions_completed)
pids=()
for i in $(seq 64); do
	case $((i % 3)) in
	0) in_cli curl -sS --tftp-blksize 1468 -o "$OUT/m$i" "tftp://$SRV_IP/f1468x100" & ;;
	1) in_cli atftp --option "blksize 1468" --get -r f1468x100 -l "$OUT/m$i" "$SRV_IP" & ;;
	2) in_cli tftp -m binary "$SRV_IP" -c get f1468x100 "$OUT/m$i" & ;;
	esac
	pids+=($!)
done
wait_downloads "$FILES/f1468x100" "$OUT/m" 64 "${pids[@]}"
failed=$FAILED same=$SAME
if [ "$failed" -eq 0 ] && [ "$same" -eq 64 ]; then
	ok "64 clients at once (curl, atftp, tftp-hpa): all 64 complete with the right sha256"
else
	not_ok "64 clients at once" "$failed clients failed, $same of 64 files match"
fi
# A client may exit before its last ACK is counted (the veth hands it over a moment later).
completed64() { [ $(($(counter tftp_sessions_completed) - done0)) -ge 64 ]; }
wait_until completed64
done1=$(counter tftp_sessions_completed)
check "... and the data plane counted 64 more completed sessions ($done0 -> $done1)" test $((done1 - done0)) -ge 64
released() { "$XPXE" status --json | jq -e '.interfaces[0].tftp.transfers == 0' >/dev/null; }
wait_until released # the daemon's sweep, once a second
check "... and the daemon let go of every finished transfer" released

# --- the port range (--tftp-port-range, downloads.tftp_port_range) --------------------------
# 64 transfers above came from the default range (the probe prints a transfer's port).
port=$(probe rrq=f513 | awk '/^DATA/ { print $2 }')
check "a transfer's port is in the default range 49152-65535 ($port)" \
	test "${port:-0}" -ge 49152 -a "${port:-0}" -le 65535
kill -TERM "$DAEMON_PID"
wait_daemon
out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve -i "$IF_SRV" --tftp-port-range 50000-50099 \
	"${assets[@]}" 2>&1)
rc=$?
check "a range of 100 ports is refused below --tftp-max-sessions' 4096 (exit $rc)" \
	bash -c '[ "$1" -ne 0 ] && grep -q "holds 100 ports, fewer than the 4096 transfers" <<<"$2"' _ "$rc" "$out"
out=$("$XPXE" serve -i "$IF_SRV" --tftp-port-range 69-1000 2>&1)
check "a range with well-known ports is refused" grep -q -- "--tftp-port-range: '69-1000': ports from 1024" <<<"$out"
start_daemon -i "$IF_SRV" --tftp-port-range 50000-50063 --tftp-max-sessions 64 "${assets[@]}" ||
	not_ok "serve --tftp-port-range 50000-50063"
ports=""
for i in 1 2 3; do
	ports+=" $(probe rrq=f1468x100,blksize=1468 rest | awk '/^OACK/ { print $2 }')"
done
inside() { for p in $ports; do [ "$p" -ge 50000 ] && [ "$p" -le 50063 ] || return 1; done; }
check "with --tftp-port-range 50000-50063 every transfer's port is in it ($ports)" inside
fetched "... and the data plane serves a whole file from that range" "$OUT/range" "$FILES/f1468x100" \
	in_cli curl -sS --tftp-blksize 1468 -o "$OUT/range" "tftp://$SRV_IP/f1468x100"
