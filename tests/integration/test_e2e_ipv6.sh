#!/usr/bin/env bash
# End to end over IPv6: OVMF's own PXE client boots over IPv6 only (IPv4 PXE off through fw_cfg)
# on a lab segment where the site's dnsmasq gives the address (stateful DHCPv6 range, RAs) and
# xpxe the boot (proxy-like DHCPv6 in XDP, option 59 tftp://[ADDR]/snponly.efi, the 4011
# exchange), then fetches snponly.efi over TFTP on IPv6 from xpxe's daemon, whole, and runs it:
# iPXE's banner on the serial console. EDK2 takes xpxe's proxy Advertise only beside another
# server's address offer (docs/dhcp6-edk2.md), hence dnsmasq. Software emulation (tcg).
LAB=e2e6
source "$(dirname "$0")/lib.sh"
require_root

QEMU=("$ROOT/scripts/qemu.sh")
export LAB # for scripts/qemu.sh
SRV6=fd00:198:18:7::1
SITE6=fd00:198:18:7::2
MAC=52:54:00:e6:00:01
MAC_HTTP=52:54:00:e6:00:02
for tool in qemu-system-x86_64 dnsmasq; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; exit 1; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || { not_ok "OVMF is installed (package ovmf)"; exit 1; }

lab up || { not_ok "lab up"; exit 1; }
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
in_cli ip -6 addr add "$SITE6/64" dev "$IF_BR" nodad

# The site's DHCPv6 server: addresses from a stateful range, RAs (M flag) for its prefix.
in_cli dnsmasq --keep-in-foreground --user=root --port=0 --interface="$IF_BR" --bind-interfaces \
	--dhcp-range=fd00:198:18:7::100,fd00:198:18:7::1ff,64,1h --enable-ra --log-dhcp \
	--dhcp-leasefile="$WORK/site.leases" --log-facility="$WORK/site.log" &
SITE=$!
at_exit kill $SITE
site_ready() { udp_bound "$NS_CLI" 547 || ! kill -0 $SITE 2>/dev/null; }
if wait_until site_ready && kill -0 $SITE; then ok "the site's dnsmasq serves DHCPv6 on $IF_BR"; else
	not_ok "the site's dnsmasq serves DHCPv6" "$(tail -5 "$WORK/site.log")"; exit 1; fi

if start_daemon -i "$IF_SRV" --state-dir "$WORK/state"; then ok "xpxe serves $IF_SRV with $SRV6"; else
	not_ok "xpxe serves $IF_SRV" "$(tail -5 "$WORK/daemon.log")"; exit 1; fi

# Two machines side by side. PXE: OVMF, no NIC ROM (its own PXE), IPv4 PXE off and IPv6 PXE on:
# its first boot option is PXEv6. HTTP: OVMF's HTTP boot (PXE off); HTTPv4 finds no DHCPv4
# server and gives up, then HTTPv6 takes the URL of xpxe's Advertise.
"${QEMU[@]}" --uefi --no-rom --mac "$MAC" --tap "$LAB-t0" --timeout 600 --log "$WORK/pxe.serial" \
	--pcap "$WORK/pxe.pcap" -- -fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n \
	-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=y >"$WORK/pxe.qemu" 2>&1 &
PXE=$!
at_exit kill $PXE
"${QEMU[@]}" --http-boot --mac "$MAC_HTTP" --tap "$LAB-t1" --timeout 900 \
	--log "$WORK/http.serial" --pcap "$WORK/http.pcap" >"$WORK/http.qemu" 2>&1 &
HTTPB=$!
at_exit kill $HTTPB
booted() { grep -a -q "iPXE initialising devices" "$WORK/$1.serial" 2>/dev/null; }
booted_or_dead() { booted "$1" || ! kill -0 "$2" 2>/dev/null; }
serial_end() { tail -c 800 "$WORK/$1.serial" 2>/dev/null | tr -d '\r' | tr '\n' '|'; }
WAIT_S=600 wait_until booted_or_dead pxe $PXE
if booted pxe; then
	ok "PXEv6: OVMF booted snponly.efi over TFTP on IPv6: iPXE's banner on the serial console"
else
	not_ok "PXEv6: OVMF booted snponly.efi over IPv6" "qemu.sh: $(cat "$WORK/pxe.qemu")" "$(serial_end pxe)"
fi
kill $PXE 2>/dev/null
WAIT_S=900 wait_until booted_or_dead http $HTTPB
if booted http; then
	ok "HTTPv6: OVMF booted snponly.efi over HTTP on IPv6: iPXE's banner on the serial console"
else
	not_ok "HTTPv6: OVMF booted snponly.efi over HTTP on IPv6" "qemu.sh: $(cat "$WORK/http.qemu")" \
		"$(serial_end http)"
fi
kill $HTTPB 2>/dev/null
check "HTTPv6: its URL named [$SRV6]" grep -a -q "URI: http://\[$SRV6\]:8080/" "$WORK/http.serial"
check "HTTPv6: xpxe sent it snponly.efi over IPv6" \
	grep -a -q "event=asset .*ip=fd00:198:18:7::1[0-9a-f][0-9a-f] .*snponly.efi" "$WORK/daemon.log"
check "its address came from the site's dnsmasq" grep -q "DHCPREPLY.*fd00:198:18:7::1[0-9a-f][0-9a-f]" "$WORK/site.log"
check "xpxe answered its Solicit and its boot service Request (dhcp6_advertise, dhcp6_reply)" \
	test "$(counter dhcp6_advertise)" -ge 1 -a "$(counter dhcp6_reply)" -ge 1
size=$(stat -c %s /usr/lib/ipxe/snponly.efi)
done_line=$(grep -a "event=tftp_done .*ip=fd00:198:18:7::.*snponly.efi" "$WORK/daemon.log" | tail -1)
check "xpxe's log: the TFTP transfer of snponly.efi over IPv6 completed ($done_line)" test -n "$done_line"
check "the firmware acknowledged all $size bytes (tftp6_completed $(counter tftp6_completed))" \
	test "$(counter tftp6_completed)" -ge 1
check "the blocks came from the daemon's socket over IPv6 (tftp6_data $(counter tftp6_data))" \
	test "$(counter tftp6_data)" -ge $((size / 1468))
