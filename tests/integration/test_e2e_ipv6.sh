#!/usr/bin/env bash
# End to end over IPv6: OVMF's own PXE client boots over IPv6 only (IPv4 PXE off through fw_cfg)
# on a lab segment where the site's dnsmasq gives the address (stateful DHCPv6 range, RAs) and
# xpxe the boot (proxy-like DHCPv6 in XDP, option 59 tftp://[ADDR]/snponly.efi, the 4011
# exchange), then fetches snponly.efi over TFTP on IPv6 from xpxe's daemon, whole, and runs it:
# iPXE's banner on the serial console. EDK2 takes xpxe's proxy Advertise only beside another
# server's address offer (docs/dhcp6-edk2.md), hence dnsmasq. Software emulation (tcg).
LAB=e2e6
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e6.sh"
require_root

SRV6=fd00:198:18:7::1
SITE6=fd00:198:18:7::2
MAC=52:54:00:e6:00:01
MAC_HTTP=52:54:00:e6:00:02
e6_require dnsmasq
e6_lab_up "$SRV6"
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

# The client bridge's DHCPv6 and boot service frames, kept with the logs should PXEv6 fail
capture_start "$NS_CLI" bridge "$IF_BR" "udp port 546 or udp port 547 or udp port 4011" ||
	echo "# no capture on $IF_BR: $(cat "$WORK/bridge.tcpdump")"

# The frames and logs outlive $WORK when a machine fails: the bridge's and the guest NICs'
# captures, the logs, the serial consoles and xpxe status --json, in $kept (one directory a
# run, copied again at each failure; the capture goes on for the other machine).
kept=
keep_failure() {
	[ -n "$kept" ] || kept=$(mktemp -d "/tmp/xpxe-e2e6-$LAB-fail.XXXXXX")
	[ -z "$CAPTURE_PID" ] || capture_sync
	cp "$WORK"/bridge.pcap "$WORK"/pxe.pcap "$WORK"/http.pcap "$WORK"/site.log "$WORK"/daemon.log \
		"$WORK"/pxe.serial "$WORK"/http.serial "$kept" 2>/dev/null
	"$XPXE" status --json >"$kept/status.json" 2>&1
}

# Two machines side by side (e2e6.sh): OVMF's PXEv6, and its HTTP boot, whose HTTPv6 takes
# the URL of xpxe's Advertise.
e6_pxe6 pxe "$MAC" "$LAB-t0" 600
PXE=$!
e6_http6 http "$MAC_HTTP" "$LAB-t1" 900
HTTPB=$!
WAIT_S=600 wait_until booted_or_dead pxe $PXE
# iPXE's banner alone does not say PXEv6 booted it: OVMF's HTTP fallback runs a snponly.efi
# that prints it too. The daemon's tftp_start for its read request over IPv6 does (the HTTPv6
# machine fetches over HTTP); logged as the request comes, waited for as the log's lines are.
pxe_rrq() {
	grep -aq "event=tftp_start .*ip=fd00:198:18:7::[0-9a-f:]* .*detail=\"snponly.efi " "$WORK/daemon.log"
}
booted pxe && WAIT_S=60 wait_until pxe_rrq
if booted pxe && pxe_rrq; then
	ok "PXEv6: OVMF booted snponly.efi over TFTP on IPv6: the daemon's tftp_start for it, iPXE's banner on the serial console"
else
	mapfile -t serial < <(tail -n 40 "$WORK/pxe.serial" 2>/dev/null | tr -d '\r' |
		sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g' | tr -cd '[:print:]\t\n')
	mapfile -t dhcp6 < <("$XPXE" status --json 2>&1 | jq -r '.interfaces[0].counters |
		to_entries[] | select(.key | startswith("dhcp6")) | "\(.key) \(.value)"' 2>&1)
	keep_failure
	not_ok "PXEv6: OVMF booted snponly.efi over TFTP on IPv6" "qemu.sh: $(cat "$WORK/pxe.qemu")" \
		"captures (client bridge, guest NIC), logs and xpxe status --json kept in $kept" \
		"iPXE's banner: $(booted pxe && echo seen || echo not seen); the daemon's tftp_start for snponly.efi over IPv6: $(pxe_rrq && echo seen || echo not seen)" \
		"the guest's last 40 lines of serial output:" "${serial[@]}" \
		"xdp_pxe's DHCPv6 counters:" "${dhcp6[@]}"
fi
kill $PXE 2>/dev/null
WAIT_S=900 wait_until booted_or_dead http $HTTPB
if booted http; then
	ok "HTTPv6: OVMF booted snponly.efi over HTTP on IPv6: iPXE's banner on the serial console"
else
	keep_failure
	not_ok "HTTPv6: OVMF booted snponly.efi over HTTP on IPv6" "qemu.sh: $(cat "$WORK/http.qemu")" \
		"captures (client bridge, guest NICs), logs and xpxe status --json kept in $kept" \
		"$(serial_end http)"
fi
kill $HTTPB 2>/dev/null
check "HTTPv6: its URL named [$SRV6]" grep -a -q "URI: http://\[$SRV6\]:8080/" "$WORK/http.serial"
check "HTTPv6: xpxe sent it snponly.efi over IPv6" \
	grep -a -q "event=asset .*ip=fd00:198:18:7::1[0-9a-f][0-9a-f] .*snponly.efi" "$WORK/daemon.log"
check "its address came from the site's dnsmasq" grep -q "DHCPREPLY.*fd00:198:18:7::1[0-9a-f][0-9a-f]" "$WORK/site.log"
check "xpxe answered its Solicit and its boot service Request (dhcp6_advertise, dhcp6_reply)" \
	test "$(counter dhcp6_advertise)" -ge 1 -a "$(counter dhcp6_reply)" -ge 1
# EDK2 sends its boot service Request once, then sets up its read: a Reply its network stack
# takes in before then is lost (PXE-E16 in 3 runs of 16 on a loaded host). The daemon sends
# xdp_pxe's Reply again within EDK2's 3 s of waiting (docs/dhcp6-edk2.md).
repeated() { "$XPXE" status --json | jq -r '.interfaces[0].dhcp6.server.repeated_4011'; }
repeated_once() { [ "$(repeated)" -ge 1 ] 2>/dev/null; }
wait_until repeated_once
check "the daemon sent xdp_pxe's Reply on 4011 again (repeated_4011 $(repeated))" repeated_once
size=$(stat -c %s /usr/lib/ipxe/snponly.efi)
# Its windows ended in the data plane (AF_XDP): the daemon's once-a-second sweep logs the end.
done_logged() { grep -aq "event=tftp_done .*ip=fd00:198:18:7::.*snponly.efi" "$WORK/daemon.log"; }
wait_until done_logged
done_line=$(grep -a "event=tftp_done .*ip=fd00:198:18:7::.*snponly.efi" "$WORK/daemon.log" | tail -1)
check "xpxe's log: the TFTP transfer of snponly.efi over IPv6 completed ($done_line)" test -n "$done_line"
check "the firmware acknowledged all $size bytes (tftp6_completed $(counter tftp6_completed))" \
	test "$(counter tftp6_completed)" -ge 1
check "its windows' blocks came over IPv6 through AF_XDP (tftp6_data_xsk $(counter tftp6_data_xsk))" \
	test "$(counter tftp6_data_xsk)" -ge $((size / 1468))
