#!/usr/bin/env bash
# End to end over IPv6 in full mode: OVMF's own PXE client (IPv4 PXE off, IPv6 PXE on through
# fw_cfg) on an IPv6-only lab segment where xpxe (--mode full --pool6, a --reserve6 for the
# guest's MAC) is the only DHCPv6 server, no dnsmasq: the firmware takes xpxe's Advertise (IA_NA
# and option 59 in one offer, EDK2's DhcpBinl), Request/Reply, asks [xpxe]:4011 for the boot
# file, fetches snponly.efi over TFTP on IPv6 from the daemon and runs it (iPXE's banner). The
# reservation's address is in the leases6 file and `xpxe leases --json`. Software emulation (tcg).
LAB=e2e6f
source "$(dirname "$0")/lib.sh"
require_root

QEMU=("$ROOT/scripts/qemu.sh")
export LAB # for scripts/qemu.sh
SRV6=fd00:198:18:8::1
POOL6=fd00:198:18:8::100-fd00:198:18:8::1ff
RES6=fd00:198:18:8::42
MAC=52:54:00:e6:00:11
command -v qemu-system-x86_64 >/dev/null || { not_ok "qemu-system-x86_64 is installed"; exit 1; }
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || { not_ok "OVMF is installed (package ovmf)"; exit 1; }

lab up || { not_ok "lab up"; exit 1; }
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
LEASES=$WORK/bindings
in_srv tcpdump -i "$IF_SRV" -U -w "$WORK/srv.pcap" ip6 >/dev/null 2>&1 &
at_exit kill $!

if start_daemon -i "$IF_SRV" --state-dir "$WORK/state" --mode full --pool6 "$POOL6" \
	--reserve6 "$MAC=$RES6" --leases "$LEASES"; then
	ok "xpxe serves $IF_SRV in full mode with --pool6 and --reserve6"
else
	not_ok "xpxe serves $IF_SRV in full mode" "$(tail -5 "$WORK/daemon.log")"; exit 1
fi

"${QEMU[@]}" --uefi --no-rom --mac "$MAC" --tap "$LAB-t0" --timeout 600 --log "$WORK/pxe.serial" \
	--pcap "$WORK/pxe.pcap" -- -fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n \
	-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=y >"$WORK/pxe.qemu" 2>&1 &
PXE=$!
at_exit kill $PXE
booted() { grep -a -q "iPXE initialising devices" "$WORK/pxe.serial" 2>/dev/null; }
booted_or_dead() { booted || ! kill -0 $PXE 2>/dev/null; }
serial_end() { tail -c 800 "$WORK/pxe.serial" 2>/dev/null | tr -d '\r' | tr '\n' '|'; }
WAIT_S=600 wait_until booted_or_dead
if booted; then
	ok "PXEv6, full mode: OVMF booted snponly.efi over TFTP on IPv6: iPXE's banner on the serial console"
else
	not_ok "PXEv6, full mode: OVMF booted snponly.efi over IPv6" "qemu.sh: $(cat "$WORK/pxe.qemu")" \
		"$(serial_end)"
fi
kill $PXE 2>/dev/null
srv6() { "$XPXE" status --json | jq -r ".interfaces[0].dhcp6.server.$1"; }
check "the daemon advertised an address and bound it (advertise $(srv6 advertise), bound $(srv6 bound))" \
	test "$(srv6 advertise)" -ge 1 -a "$(srv6 bound)" -ge 1
check "the reservation $RES6 is bound in leases6" grep -q "^$MAC $RES6 " "$LEASES"6
check "xpxe leases --json lists $MAC at $RES6" \
	jq -e ".leases | map(select(.family == \"ipv6\" and .mac == \"$MAC\" and .ip == \"$RES6\")) | length == 1" \
	<<<"$("$XPXE" leases --json)"
check "xpxe answered its boot service Request on port 4011 (dhcp6_reply $(counter dhcp6_reply))" \
	test "$(counter dhcp6_reply)" -ge 1
done_line=$(grep -a "event=tftp_done .*ip=$RES6 .*snponly.efi" "$WORK/daemon.log" | tail -1)
check "xpxe's log: the TFTP transfer of snponly.efi to $RES6 completed ($done_line)" test -n "$done_line"
size=$(stat -c %s /usr/lib/ipxe/snponly.efi)
check "the firmware acknowledged all $size bytes (tftp6_completed $(counter tftp6_completed))" \
	test "$(counter tftp6_completed)" -ge 1
check "no dnsmasq or other DHCPv6 server on the segment: only xpxe's Advertise and Reply" \
	test "$(srv6 other_server)" = 0
