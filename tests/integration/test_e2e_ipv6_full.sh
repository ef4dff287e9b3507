#!/usr/bin/env bash
# End to end over IPv6 in full mode, on an IPv6-only lab segment where xpxe (--mode full
# --pool6, a --reserve6 for each guest's MAC) is the only DHCPv6 server (no dnsmasq). Two OVMF
# guests side by side:
# - PXE: OVMF's own PXE client (IPv4 PXE off, IPv6 PXE on through fw_cfg) takes xpxe's
#   Advertise (IA_NA and option 59 tftp://[ADDR]/snponly.efi, no PXEClient vendor class:
#   EDK2's "DhcpOnly" offer with a boot file), Request/Reply, fetches snponly.efi over TFTP on
#   IPv6 from the daemon and runs it (iPXE's banner);
# - HTTP: OVMF's HTTP boot takes the Advertise with IA_NA, HTTPClient and the http://[ADDR]
#   URL, and downloads snponly.efi over HTTP on IPv6.
# Each got its reservation: seen in the leases6 file and `xpxe leases --json` while bound
# (EDK2 sends a Release when its boot driver stops). Software emulation (tcg).
LAB=e2e6f
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e6.sh"
require_root

SRV6=fd00:198:18:8::1
POOL6=fd00:198:18:8::100-fd00:198:18:8::1ff
RES6=fd00:198:18:8::42
RES6_HTTP=fd00:198:18:8::43
MAC=52:54:00:e6:00:11
MAC_HTTP=52:54:00:e6:00:12
e6_require
e6_lab_up "$SRV6"
LEASES=$WORK/bindings

if start_daemon -i "$IF_SRV" --state-dir "$WORK/state" --mode full --pool6 "$POOL6" \
	--reserve6 "$MAC=$RES6" --reserve6 "$MAC_HTTP=$RES6_HTTP" --leases "$LEASES"; then
	ok "xpxe serves $IF_SRV in full mode with --pool6 and --reserve6, no other DHCPv6 server"
else
	not_ok "xpxe serves $IF_SRV in full mode" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi

# What the leases6 file and `xpxe leases --json` say while the guests hold their addresses:
# sampled (EDK2 releases the address when its boot driver stops, so the end says nothing).
(while :; do
	cat "${LEASES}6" >>"$WORK/seen6" 2>/dev/null
	"$XPXE" leases --json 2>/dev/null | jq -c '.leases[] | select(.family == "ipv6")' \
		>>"$WORK/seen.jsonl" 2>/dev/null
	sleep 0.3
done) &
at_exit kill $!

e6_pxe6 pxe "$MAC" "$LAB-t0" 600
PXE=$!
e6_http6 http "$MAC_HTTP" "$LAB-t1" 900
HTTPB=$!
tftp_done() { grep -a "event=tftp_done .*ip=$RES6 .*snponly.efi" "$WORK/daemon.log" | tail -1; }
tftp_done_logged() { [ -n "$(tftp_done)" ]; }

WAIT_S=600 wait_until booted_or_dead pxe $PXE
# A window the data plane sent through AF_XDP ends there: the daemon's once-a-second sweep logs
# it, maybe after the firmware has already run what it fetched.
booted pxe && wait_until tftp_done_logged
# OVMF tries HTTP boot after a failed PXEv6: the banner counts only after the TFTP transfer.
if booted pxe && [ -n "$(tftp_done)" ]; then
	ok "PXEv6, full mode: OVMF booted snponly.efi over TFTP on IPv6 from $RES6: iPXE's banner"
else
	not_ok "PXEv6, full mode: OVMF booted snponly.efi over TFTP on IPv6" \
		"qemu.sh: $(cat "$WORK/pxe.qemu")" "$(serial_end pxe)"
fi
kill $PXE 2>/dev/null
# EDK2 prints it in full (FD00:198:18:8:0:0:0:42): compared as addresses.
station=$(tr -d '\r' <"$WORK/pxe.serial" | sed -n 's/.*Station IP address is \([0-9A-Fa-f:]*\).*/\1/p' | tail -1)
check "PXEv6: the firmware's station address $station is the reservation $RES6" \
	python3 -c 'import ipaddress, sys; sys.exit(ipaddress.ip_address(sys.argv[1]) != ipaddress.ip_address(sys.argv[2]))' \
	"${station:-none}" "$RES6"
check "PXEv6: xpxe's log: the TFTP transfer of snponly.efi to $RES6 completed ($(tftp_done))" \
	test -n "$(tftp_done)"
size=$(stat -c %s /usr/lib/ipxe/snponly.efi)
check "PXEv6: the firmware acknowledged all $size bytes (tftp6_completed $(counter tftp6_completed))" \
	test "$(counter tftp6_completed)" -ge 1
check "PXEv6: no boot service Request to port 4011 needed (pass_dhcp6_malformed $(counter pass_dhcp6_malformed))" \
	test "$(counter pass_dhcp6_malformed)" = 0

WAIT_S=900 wait_until booted_or_dead http $HTTPB
if booted http; then
	ok "HTTPv6, full mode: OVMF booted snponly.efi over HTTP on IPv6: iPXE's banner"
else
	not_ok "HTTPv6, full mode: OVMF booted snponly.efi over HTTP on IPv6" \
		"qemu.sh: $(cat "$WORK/http.qemu")" "$(serial_end http)"
fi
kill $HTTPB 2>/dev/null
check "HTTPv6: its URL named [$SRV6]" grep -a -q "URI: http://\[$SRV6\]:8080/" "$WORK/http.serial"
check "HTTPv6: xpxe sent snponly.efi to its reservation $RES6_HTTP" \
	grep -a -q "event=asset .*ip=$RES6_HTTP .*snponly.efi" "$WORK/daemon.log"

srv6() { "$XPXE" status --json | jq -r ".interfaces[0].dhcp6.server.$1"; }
check "the daemon's DHCPv6 server advertised and bound (advertise $(srv6 advertise), bound $(srv6 bound))" \
	test "$(srv6 advertise)" -ge 2 -a "$(srv6 bound)" -ge 2
for pair in "$MAC=$RES6" "$MAC_HTTP=$RES6_HTTP"; do
	mac=${pair%%=*} ip=${pair#*=}
	check "$mac's binding to $ip was in the leases6 file" grep -q "^$mac $ip " "$WORK/seen6"
	check "... and in xpxe leases --json" \
		jq -e -s "map(select(.mac == \"$mac\" and .ip == \"$ip\")) | length > 0" "$WORK/seen.jsonl"
done
check "no address from the pool: only the reservations were bound" \
	bash -c "! grep -q '^52:54:00:e6:00:1[12] fd00:198:18:8::1[0-9a-f][0-9a-f] ' '$WORK/seen6'"
