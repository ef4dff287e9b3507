#!/usr/bin/env bash
# DHCPv6 boot answers in the lab (bpf/dhcp6.h, proxy-like). Without a global or ULA address on
# its interface, the quick start leaves DHCPv6 off. With a ULA address and no new flag, an
# Information-request from ISC dhclient (-6 -S) that says it is iPXE (user class 15 "iPXE",
# ORO asking for option 59) gets a Reply from XDP: option 59 is the boot script's URL on the
# server's IPv6 address, under xpxe's server id; after a restart the server id is the same (the
# DUID kept in the state dir). A plain client's Information-request gets no answer from xpxe
# (pass_dhcp6_not_pxe). The kernel checks every answer's UDP checksum before dhclient sees it.
# A Request sent to its own address rather than ff02::1:2 gets UseMulticast (RFC 8415 18.4).
LAB=tdhcp6
source "$(dirname "$0")/lib.sh"
require_root

SRV6=fd00:198:18::1
URL="http://[$SRV6]:8080/boot.ipxe"
lab up || { not_ok "lab up"; exit 1; }
lab host 1 52:54:00:d6:00:01
lab host 2 52:54:00:d6:00:02

# A link-local address past duplicate address detection: dhclient -6 binds to it.
ll_ready() {
	ip netns exec "$LAB-h$1" ip -6 addr show dev eth0 scope link | grep -q inet6 &&
		! ip netns exec "$LAB-h$1" ip -6 addr show dev eth0 tentative | grep -q inet6
}
if ! wait_until ll_ready 1 || ! wait_until ll_ready 2; then
	not_ok "the hosts have link-local addresses"
	exit 1
fi

# dhclient6 N NAME CONF_LINES...: one Information-request (dhclient -6 -S) from host N in the
# background (its pid in $CLIENT_PID); what it got lands in $WORK/NAME.result.
dhclient6() {
	local n=$1 name=$2 line
	shift 2
	: >"$WORK/$name.conf"
	for line in "$@"; do echo "$line" >>"$WORK/$name.conf"; done
	cat >"$WORK/$name.sh" <<SCRIPT
#!/bin/sh
# Records what dhclient got; configures nothing.
[ -n "\$new_dhcp6_server_id" ] &&
	echo "url=\$new_dhcp6_bootfile_url sid=\$new_dhcp6_server_id" >"$WORK/$name.result"
exit 0
SCRIPT
	chmod +x "$WORK/$name.sh"
	rm -f "$WORK/$name.result"
	ip netns exec "$LAB-h$n" dhclient -6 -S -1 -v -cf "$WORK/$name.conf" -sf "$WORK/$name.sh" \
		-lf "$WORK/$name.leases" -pf "$WORK/$name.pid" eth0 >"$WORK/$name.log" 2>&1 &
	CLIENT_PID=$!
	at_exit "kill $CLIENT_PID"
}
IPXE_CONF=('option dhcp6.ipxe-user-class code 15 = string;'
	'send dhcp6.ipxe-user-class 00:04:69:50:58:45;' # RFC 8415 form: length 4, "iPXE"
	'also request dhcp6.bootfile-url;')
field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" "$WORK/$1.result" 2>/dev/null; }
dhcp6_mode() { "$XPXE" status --json | jq -r '.interfaces[0].dhcp6.mode'; }

# --- no global or ULA address: off -----------------------------------------------------------
if start_daemon -i "$IF_SRV"; then ok "xpxe serves $IF_SRV (link-local IPv6 only)"; else
	not_ok "xpxe serves $IF_SRV" "$(tail -5 "$WORK/daemon.log")"; exit 1; fi
check "without a global or ULA address DHCPv6 is off (status: $(dhcp6_mode))" test "$(dhcp6_mode)" = off
kill -TERM "$DAEMON_PID"
wait_daemon

# --- a ULA address: answered, no flag ---------------------------------------------------------
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
if start_daemon -i "$IF_SRV"; then ok "xpxe serves $IF_SRV with $SRV6"; else
	not_ok "xpxe serves $IF_SRV with $SRV6" "$(tail -5 "$WORK/daemon.log")"; exit 1; fi
check "status: DHCPv6 proxy-like, URLs on $SRV6" \
	test "$("$XPXE" status --json | jq -r '.interfaces[0].dhcp6 | .mode + " " + .server_addr')" = "proxy $SRV6"
check "xpxe status says so" bash -c "'$XPXE' status | grep -qF 'dhcpv6    proxy-like: boot URLs on [$SRV6]'"
DUID=$("$XPXE" status --json | jq -r '.interfaces[0].dhcp6.server_duid')

replies0=$(counter dhcp6_reply)
dhclient6 1 ipxe "${IPXE_CONF[@]}"
wait_until there_or_dead "$WORK/ipxe.result" "$CLIENT_PID"
if [ "$(field ipxe url)" = "$URL" ]; then
	ok "iPXE's Information-request gets option 59 = $URL"
else
	not_ok "iPXE's Information-request gets option 59 = $URL" "got: $(cat "$WORK/ipxe.result" 2>&1)" \
		"$(tail -5 "$WORK/ipxe.log")"
fi
# dhclient prints the DUID's bytes in hex without leading zeros (0:1:0:1:...).
sid_hex() { tr ':' '\n' | sed 's/^0*\(.\)/\1/' | paste -sd:; }
SID=$(field ipxe sid)
check "... from xpxe's server id ($DUID)" test "$(sid_hex <<<"$SID")" = "$(sid_hex <<<"$DUID")"
check "... answered by XDP (dhcp6_reply $replies0 -> $(counter dhcp6_reply))" \
	test "$(counter dhcp6_reply)" -gt "$replies0"

# A plain client: no user or vendor class, no option 59 asked for.
notpxe0=$(counter pass_dhcp6_not_pxe)
dhclient6 2 plain
grown() { [ "$(counter pass_dhcp6_not_pxe)" -gt "$notpxe0" ]; }
if wait_until grown; then ok "a plain client's Information-request is passed (pass_dhcp6_not_pxe)"; else
	not_ok "a plain client's Information-request is passed (pass_dhcp6_not_pxe)"; fi
check "... and gets no answer from xpxe" test ! -e "$WORK/plain.result"
kill "$CLIENT_PID" 2>/dev/null

# --- the same server id after a restart -------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
if start_daemon -i "$IF_SRV"; then ok "xpxe restarted"; else
	not_ok "xpxe restarted" "$(tail -5 "$WORK/daemon.log")"; exit 1; fi
dhclient6 1 again "${IPXE_CONF[@]}"
wait_until there_or_dead "$WORK/again.result" "$CLIENT_PID"
check "after a restart the answer carries the same server id ($(field again sid))" \
	test "$(field again sid)" = "$SID"
check "... and the same URL" test "$(field again url)" = "$URL"

# --- to xpxe's own address, not ff02::1:2 (RFC 8415 16, 18.4: xpxe sends no Server Unicast) -----
# A Request naming xpxe's DUID gets a Reply of UseMulticast only, from XDP (dhcp6_use_multicast,
# not dhcp6_reply); a Solicit sent so gets nothing (pass_dhcp6_ignored).
PROBE=$ROOT/tests/integration/dhcp6_probe.py
DUID_HEX=$(tr -d : <<<"$DUID")
SRV_LL=$(in_srv ip -6 -o addr show dev "$IF_SRV" scope link | awk '{ sub("/.*", "", $4); print $4; exit }')
usemc0=$(counter dhcp6_use_multicast) replies0=$(counter dhcp6_reply) ign0=$(counter pass_dhcp6_ignored)
ip netns exec "$LAB-h1" python3 "$PROBE" --to="$SRV_LL" eth0 2 3 "cid=00030001525400d60001" \
	"sid=$DUID_HEX" >"$WORK/u-request.out" 2>&1
check "a Request to $SRV_LL naming xpxe gets a Reply of UseMulticast (status 5), no boot options" \
	grep -qi "^reply type=7 status=5 ia_status=-1 addrs=none sid=$DUID_HEX\$" "$WORK/u-request.out"
check "... from XDP (dhcp6_use_multicast $usemc0 -> $(counter dhcp6_use_multicast))" \
	test "$(counter dhcp6_use_multicast)" = $((usemc0 + 1))
check "... not counted in dhcp6_reply ($replies0 -> $(counter dhcp6_reply))" \
	test "$(counter dhcp6_reply)" = "$replies0"
ip netns exec "$LAB-h1" python3 "$PROBE" --to="$SRV_LL" eth0 2 1 "cid=00030001525400d60001" \
	"16=000001570009505845436c69656e74" >"$WORK/u-solicit.out" 2>&1
check "a PXE Solicit to $SRV_LL gets no answer" test ! -s "$WORK/u-solicit.out"
check "... counted (pass_dhcp6_ignored $ign0 -> $(counter pass_dhcp6_ignored))" \
	test "$(counter pass_dhcp6_ignored)" -gt "$ign0"
