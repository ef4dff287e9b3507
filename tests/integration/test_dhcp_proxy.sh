#!/usr/bin/env bash
# Proxy mode in the lab, beside a dnsmasq acting as the site's DHCP server:
# real clients (dhclient, udhcpc, perfdhcp, OVMF's 4011 request replayed) get
# their address from dnsmasq and their boot information from xpxe's XDP
# program; a plain client gets nothing from xpxe.
LAB=tdproxy
source "$(dirname "$0")/lib.sh"
require_root

lab up || { not_ok "lab up"; exit 1; }
for n in 1 2 3 4; do lab host $n "52:54:00:d0:00:0$n"; done

# The site's DHCP server, on the client-side bridge (198.18.0.2), as in the captures.
in_cli dnsmasq --keep-in-foreground --user=root --port=0 --interface="$IF_BR" --bind-interfaces \
	--dhcp-range=198.18.0.150,198.18.0.199,255.255.255.0,1h --dhcp-authoritative \
	--dhcp-leasefile="$WORK/site.leases" --pid-file="$WORK/site.pid" \
	--log-facility="$WORK/site.log" --log-dhcp &
SITE=$!
at_exit kill $SITE
# The site's server answers once it listens on port 67.
site_ready() { udp_bound "$NS_CLI" 67 || ! kill -0 $SITE 2>/dev/null; }
wait_until site_ready

if start_daemon -i "$IF_SRV" --mode proxy; then ok "xpxe serves $IF_SRV in proxy mode"; else
	not_ok "xpxe serves $IF_SRV in proxy mode"; exit 1; fi
offers0=$(counter dhcp_offer)
notpxe0=$(counter pass_dhcp_not_pxe)

# --- a plain client: the site answers, xpxe stays silent ------------------------------
capture_start "$LAB-h1" plain
dhclient_run "$LAB-h1" plain
rc=$?
capture_stop
ip=$(result_field plain ip)
if [ $rc -eq 0 ] && [[ $ip == 198.18.0.1[5-9]* ]] && [ "$(result_field plain server)" = 198.18.0.2 ]; then
	ok "plain dhclient gets $ip from the site's server"
else
	not_ok "plain dhclient gets an address from the site's server" "rc=$rc $(cat "$WORK/plain.result" 2>/dev/null)" "$(tail -5 "$WORK/plain.log")"
fi
check "xpxe sent nothing to the plain client" test -z "$(capture_replies plain 198.18.0.1)"
if [ "$(counter pass_dhcp_not_pxe)" -gt "$notpxe0" ] && [ "$(counter dhcp_offer)" -eq "$offers0" ]; then
	ok "counted as pass_dhcp_not_pxe, no offer"
else
	not_ok "counted as pass_dhcp_not_pxe, no offer" "not_pxe $notpxe0->$(counter pass_dhcp_not_pxe) offers $offers0->$(counter dhcp_offer)"
fi

# --- a BIOS PXE client (dhclient with the PXE vendor class) -------------------------------
# A PXE ROM takes its address from the site's offer and its boot file from the proxy's;
# dhclient cannot merge two offers, so it is told to take only the site's ('reject'),
# and xpxe's offer is read off the wire.
capture_start "$LAB-h2" bios
dhclient_run "$LAB-h2" bios \
	'reject 198.18.0.1;' \
	'option pxe-arch code 93 = unsigned integer 16;' \
	'send vendor-class-identifier "PXEClient:Arch:00000:UNDI:002001";' \
	'send pxe-arch 0;'
rc=$?
capture_stop
ip=$(result_field bios ip)
if [ $rc -eq 0 ] && [[ $ip == 198.18.0.1[5-9]* ]]; then
	ok "PXE dhclient still gets its address ($ip) from the site's server"
else
	not_ok "PXE dhclient gets its address from the site's server" "rc=$rc" "$(tail -5 "$WORK/bios.log")"
fi
offer=$(capture_replies bios 198.18.0.1)
check "xpxe's proxy OFFER reached the client" grep -q "DHCP-Message (53), length 1: Offer" <<<"$offer"
check "... without an address (yiaddr 0)" bash -c "! grep -q 'Your-IP' <<<\"\$1\"" _ "$offer"
check "... with option 60 PXEClient" grep -q 'Vendor-Class (60), length 9: "PXEClient"' <<<"$offer"
check "... with the BIOS boot file in file and option 67" \
	bash -c "grep -q 'file \"undionly.kpxe\"' <<<\"\$1\" && grep -q 'BF (67), length 13: \"undionly.kpxe\"' <<<\"\$1\"" _ "$offer"
check "... with option 43 discovery control 8 (bypass)" grep -q 'Vendor-Option (43), length 4: 6.1.8.255' <<<"$offer"
check "... and a good UDP checksum" grep -q 'udp sum ok' <<<"$offer"

# --- a UEFI PXE client: the 4011 strategy ---------------------------------------------------
capture_start "$LAB-h3" uefi
dhclient_run "$LAB-h3" uefi \
	'reject 198.18.0.1;' \
	'option pxe-arch code 93 = unsigned integer 16;' \
	'send vendor-class-identifier "PXEClient:Arch:00007:UNDI:003000";' \
	'send pxe-arch 7;'
capture_stop
offer=$(capture_replies uefi 198.18.0.1)
check "UEFI client: xpxe's OFFER names no boot file (it asks on 4011)" \
	bash -c "grep -q 'Offer' <<<\"\$1\" && ! grep -q 'BF (67)' <<<\"\$1\" && ! grep -q 'Vendor-Option (43)' <<<\"\$1\"" _ "$offer"

# OVMF's own boot server request, replayed byte for byte from its address.
ip -n "$LAB-h4" addr replace 198.18.0.197/24 dev eth0
out=$(ip netns exec "$LAB-h4" python3 "$ROOT/tests/integration/replay_bootp.py" \
	"$ROOT/tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap" 5 198.18.0.197 4011 198.18.0.1 4011 2>&1)
if grep -qx "from=198.18.0.1:4011" <<<"$out" && grep -qx "msg_type=5" <<<"$out" &&
	grep -qx "file=snponly.efi" <<<"$out" && grep -qx "opt60=PXEClient" <<<"$out" &&
	grep -qx "xid_matches=True" <<<"$out" && grep -qx "guid_echoed=True" <<<"$out"; then
	ok "OVMF's 4011 request gets an ACK with snponly.efi from 198.18.0.1:4011"
else
	not_ok "OVMF's 4011 request gets its ACK" "${out//$'\n'/ | }"
fi
out=$(ip netns exec "$LAB-h4" python3 "$ROOT/tests/integration/replay_bootp.py" \
	"$ROOT/tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap" 12 198.18.0.197 68 198.18.0.1 4011 2>&1)
if grep -qx "opt67=http://198.18.0.1:8080/boot.ipxe" <<<"$out" && grep -qx "msg_type=5" <<<"$out"; then
	ok "iPXE's proxy request (port 68 -> 4011) gets the script URL, not iPXE again"
else
	not_ok "iPXE's proxy request gets the script URL" "${out//$'\n'/ | }"
fi
check "counted as dhcp_ack_4011" test "$(counter dhcp_ack_4011)" -ge 2

# --- perfdhcp with PXE options, through a relay address -------------------------------------
ip -n "$LAB-h1" addr replace 198.18.0.11/24 dev eth0
vci=$(printf 'PXEClient:Arch:00000:UNDI:002001' | od -An -tx1 | tr -d ' \n')
out=$(ip netns exec "$LAB-h1" timeout 30 perfdhcp -4 -l eth0 -i -r 200 -p 3 -R 100 \
	-o "60,$vci" -o 93,0000 198.18.0.1 2>&1)
sent=$(awk '/DISCOVER-OFFER/{f=1} f&&/sent packets/{print $3; exit}' <<<"$out")
recv=$(awk '/DISCOVER-OFFER/{f=1} f&&/received packets/{print $3; exit}' <<<"$out")
if [ -n "$sent" ] && [ "$sent" -gt 100 ] && [ "$recv" = "$sent" ]; then
	ok "perfdhcp: $recv of $sent relayed PXE DISCOVERs answered"
else
	not_ok "perfdhcp: every relayed PXE DISCOVER answered" "sent=$sent recv=$recv" "$(tail -20 <<<"$out")"
fi

# --- who answers the untagged network's PXE DISCOVERs: XDP, or tc beside a local server --------
# Nothing on this host (the server namespace) listens on port 67 (the site's server is on the
# client side): xdp_pxe answers the PXE DISCOVERs above itself, as on a VLAN. Then a UDP
# listener on port 67 starts here: the daemon's sweep sees it, and the next DISCOVER goes up
# to it (tc answers after the copy); once it stops, XDP answers again.
said_status() { "$XPXE" status 2>/dev/null | grep -qF -- "$1"; }
check "xpxe status: no DHCP server on this host, XDP answers" \
	said_status "no DHCP server on this host: XDP answers DISCOVERs"
check "the daemon's log said so" grep -qF "no DHCP server on this host: XDP answers DISCOVERs" "$WORK/daemon.log"
xdp_answered=$(counter dhcp_proxy_xdp) to_tc0=$(counter dhcp_proxy_to_tc)
if [ "$xdp_answered" -ge 2 ] && [ "$to_tc0" -eq 0 ]; then
	ok "the PXE DISCOVERs were answered by XDP (dhcp_proxy_xdp $xdp_answered, dhcp_proxy_to_tc 0)"
else
	not_ok "the PXE DISCOVERs were answered by XDP" "dhcp_proxy_xdp=$xdp_answered dhcp_proxy_to_tc=$to_tc0"
fi

# A PXE DISCOVER XDP passes for a reason of its own (a UDP checksum corrupted in flight) is
# decided once: counted once in pass_bad_udp_csum by XDP, left alone by tc (it counted
# it a second time, and took a second rate-limit token, while no server was on the host). It
# goes to the server's address, which has no port 67 open: once the stack counts its bad
# checksum (InCsumErrors), both programs have seen it. (A DISCOVER as firmware sends it, from
# 0.0.0.0 to the broadcast address, reaches no such count.)
cat >"$WORK/bad_discover.py" <<'PY'
import socket, struct, sys
sys.path.insert(0, sys.argv[1])
from replay_bootp import frame
f = bytearray(frame(sys.argv[2], 0))
f[0:6] = bytes.fromhex(sys.argv[3].replace(":", ""))
f[26:30] = socket.inet_aton(sys.argv[4])  # from h4's address: 0.0.0.0 is a martian here
f[30:34] = socket.inet_aton(sys.argv[5])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
f[24:26] = b"\0\0"
f[24:26] = struct.pack("!H", csum(bytes(f[14:34])))
udp = bytes(f[34:40]) + b"\0\0" + bytes(f[42:])
good = csum(bytes(f[26:34]) + struct.pack("!HH", 17, len(udp)) + udp) or 0xffff
f[40:42] = struct.pack("!H", good % 0xffff + 1)  # one off: never the right sum, never 0
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(bytes(f))
PY
csum_errors() { in_srv awk '/^Udp:/ { if (!n++) split($0, k); else for (i in k) if (k[i] == "InCsumErrors") print $i }' /proc/net/snmp; }
errs0=$(csum_errors) badsum0=$(counter pass_bad_udp_csum)
srv_mac=$(in_srv cat "/sys/class/net/$IF_SRV/address")
ip netns exec "$LAB-h4" python3 "$WORK/bad_discover.py" "$ROOT/tests/integration" \
	"$ROOT/tests/fixtures/ovmf-pxe-proxy-4011-dhcp.pcap" "$srv_mac" 198.18.0.197 198.18.0.1
stack_counted() { [ "$(csum_errors)" -gt "$errs0" ]; }
if wait_until stack_counted && [ "$(counter pass_bad_udp_csum)" -eq $((badsum0 + 1)) ]; then
	ok "a corrupted PXE DISCOVER: one outcome (pass_bad_udp_csum +1), tc left it alone"
else
	not_ok "a corrupted PXE DISCOVER: one outcome" "pass_bad_udp_csum $badsum0->$(counter pass_bad_udp_csum), InCsumErrors $errs0->$(csum_errors)"
fi

cat >"$WORK/listen67.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", 67))
with open(sys.argv[1], "a") as out:
    while True:
        data, peer = s.recvfrom(4096)
        # op 1 (BOOTREQUEST), its chaddr, and whether it is a PXE client's
        out.write("op=%d chaddr=%s pxe=%s\n" % (data[0], data[28:34].hex(":"),
                  b"PXEClient" in data))
        out.flush()
PY
: >"$WORK/listen67.out"
ip netns exec "$NS_SRV" python3 "$WORK/listen67.py" "$WORK/listen67.out" &
LISTENER=$!
at_exit kill $LISTENER
listener_ready() { udp_bound "$NS_SRV" 67 || ! kill -0 $LISTENER 2>/dev/null; }
wait_until listener_ready
check "a UDP listener on port 67 runs in the server namespace" kill -0 $LISTENER
if wait_until said_status "a DHCP server on this host listens on port 67: DISCOVERs go up to it, tc answers"; then
	ok "xpxe status: a DHCP server on this host listens on port 67, tc answers"
else
	not_ok "xpxe status follows the listener" "$("$XPXE" status 2>&1 | grep -F proxy)"
fi
check "the daemon's log said so" grep -qF "a DHCP server on this host listens on port 67" "$WORK/daemon.log"
offers1=$(counter dhcp_offer) xdp1=$(counter dhcp_proxy_xdp)
capture_start "$LAB-h3" uplisten
dhclient_run "$LAB-h3" uplisten \
	'reject 198.18.0.1;' \
	'option pxe-arch code 93 = unsigned integer 16;' \
	'send vendor-class-identifier "PXEClient:Arch:00000:UNDI:002001";' \
	'send pxe-arch 0;'
capture_stop
offer=$(capture_replies uplisten 198.18.0.1)
check "the next PXE DISCOVER went up to the listener" \
	grep -qx "op=1 chaddr=52:54:00:d0:00:03 pxe=True" "$WORK/listen67.out"
check "... and still got xpxe's proxy OFFER" grep -q 'Vendor-Class (60), length 9: "PXEClient"' <<<"$offer"
to_tc=$(counter dhcp_proxy_to_tc) copies=$(counter dhcp_tc_stack_copy)
if [ "$to_tc" -gt "$to_tc0" ] && [ "$copies" -gt 0 ] && [ "$(counter dhcp_offer)" -gt "$offers1" ] &&
	[ "$(counter dhcp_proxy_xdp)" -eq "$xdp1" ]; then
	ok "answered by tc after the stack's copy (dhcp_proxy_to_tc $to_tc, dhcp_tc_stack_copy $copies)"
else
	not_ok "answered by tc after the stack's copy" "to_tc $to_tc0->$to_tc copies $copies offers $offers1->$(counter dhcp_offer) xdp $xdp1->$(counter dhcp_proxy_xdp)"
fi
kill $LISTENER
if wait_until said_status "no DHCP server on this host: XDP answers DISCOVERs"; then
	ok "the listener gone, XDP answers again"
else
	not_ok "the listener gone, XDP answers again" "$("$XPXE" status 2>&1 | grep -F proxy)"
fi
