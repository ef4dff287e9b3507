#!/usr/bin/env bash
# A second DHCP server on the provisioning segment: dnsmasq, handing out addresses from
# its own range (a misconfigured or rogue server beside xpxe in full mode). xpxe keeps
# answering correctly: every DISCOVER gets its OFFER from xpxe's pool, it stays silent
# (no NAK, no ACK; counted pass_dhcp_other_server) when a client REQUESTs the other
# server's offer, and a client that takes xpxe's offer is bound as usual.
# What the client sees: two OFFERs for each DISCOVER, and it takes one (dhclient: the
# first to arrive; on a MAC's first contact xpxe's comes from its daemon, after
# dnsmasq's here); xpxe held an address for it, bound once the client REQUESTs it.
# Nothing in DHCP lets a client tell a good server from a bad one (see SECURITY.md).
LAB=fpeer
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
for n in 1 2 3; do lab host $n "52:54:00:e1:00:0$n" >>"$WORK/lab.log" 2>&1; done
in_cli dnsmasq --keep-in-foreground --user=root --port=0 --interface="$IF_BR" --bind-interfaces \
	--dhcp-range=198.18.0.150,198.18.0.199,255.255.255.0,1h --dhcp-authoritative --no-ping \
	--dhcp-leasefile="$WORK/peer.leases" --pid-file="$WORK/peer.pid" \
	--log-facility="$WORK/peer.log" --log-dhcp &
PEER=$!
at_exit kill $PEER
peer_ready() { udp_bound "$NS_CLI" 67 || ! kill -0 $PEER 2>/dev/null; }
wait_until peer_ready
PEER_IP=198.18.0.2
LEASES=$WORK/bindings
start_daemon -i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109 --leases "$LEASES" \
	--state-dir "$WORK/state" --no-default-assets || { not_ok "serve starts"; exit 1; }

# Everything on the segment, seen from the bridge the clients and dnsmasq sit on.
capture_start "$NS_CLI" seg "$IF_BR" 'udp port 67 or udp port 68'
# replies SERVER MAC: the DHCP replies SERVER sent to the client with that MAC (decoded)
replies() {
	tcpdump -nr "$WORK/seg.pcap" -vv "src host $1 and src port 67 and ether dst $2" 2>/dev/null
}
# offered_by_both MAC: the capture holds an OFFER to MAC from each server
offered_by_both() {
	capture_sync &&
		replies 198.18.0.1 "$1" | grep -q 'DHCP-Message.*Offer' &&
		replies "$PEER_IP" "$1" | grep -q 'DHCP-Message.*Offer'
}

# --- a client that takes whichever offer comes first ----------------------------------------
dhclient_run "$LAB-h1" h1
# dhclient takes the first OFFER and may be done before the second is sent: wait for it.
wait_until offered_by_both 52:54:00:e1:00:01
got=$(result_field h1 ip)
server=$(result_field h1 server)
check "the client is bound by one of the two ($got from $server)" test -n "$got"
offers_xpxe=$(replies 198.18.0.1 52:54:00:e1:00:01 | grep -c 'DHCP-Message.*Offer')
offers_peer=$(replies "$PEER_IP" 52:54:00:e1:00:01 | grep -c 'DHCP-Message.*Offer')
check "two OFFERs for its DISCOVER, one from each server (xpxe $offers_xpxe, dnsmasq $offers_peer)" \
	bash -c "[ $offers_xpxe -ge 1 ] && [ $offers_peer -ge 1 ]"
check "xpxe's OFFER is from its own pool" grep -q 'Your-IP 198.18.0.100' <<<"$(replies 198.18.0.1 52:54:00:e1:00:01)"

# --- a client that takes the other server's offer ----------------------------------------------
other0=$(counter pass_dhcp_other_server)
naks0=$(counter dhcp_nak)
acks0=$(counter dhcp_ack)
dhclient_run "$LAB-h2" h2 "reject 198.18.0.1;"
# Everything on the wire until now is in the capture (xpxe's replies come from XDP, at once).
capture_sync
check "a client that rejects xpxe is bound by dnsmasq ($(result_field h2 ip))" \
	bash -c "[ '$(result_field h2 server)' = $PEER_IP ] && [[ '$(result_field h2 ip)' == 198.18.0.1[5-9]* ]]"
check "... its REQUEST for the other server is passed, counted (pass_dhcp_other_server)" \
	test "$(counter pass_dhcp_other_server)" -gt "$other0"
check "... and xpxe sends it neither NAK nor ACK (dhcp_nak, dhcp_ack unchanged; none on the wire)" \
	bash -c "[ $(counter dhcp_nak) -eq $naks0 ] && [ $(counter dhcp_ack) -eq $acks0 ] &&
		! grep -Eq 'DHCP-Message.*(NACK|ACK)' <<<\"\$1\"" _ "$(replies 198.18.0.1 52:54:00:e1:00:02)"

# --- a client that rejects the other server: xpxe binds it ------------------------------------------
dhclient_run "$LAB-h3" h3 "reject $PEER_IP;"
check "a client that rejects dnsmasq is bound by xpxe ($(result_field h3 ip))" \
	bash -c "[ '$(result_field h3 server)' = 198.18.0.1 ] && [[ '$(result_field h3 ip)' == 198.18.0.10[0-9] ]]"
check "... and its binding is on disk" grep -q '^52:54:00:e1:00:03 198.18.0.10' "$LEASES"
dhclient_run "$LAB-h1" h1again "reject $PEER_IP;"
check "the first client again, taking xpxe's offer: the address held for it (198.18.0.100)" \
	bash -c "[ '$(result_field h1again ip)' = 198.18.0.100 ] && [ '$(result_field h1again server)' = 198.18.0.1 ]"
check "... now bound and written" grep -q '^52:54:00:e1:00:01 198.18.0.100 ' "$LEASES"
check "no address of the other server's range in xpxe's bindings" \
	test "$(awk '!/^#/{print $2}' "$LEASES" | grep -c '198.18.0.1[5-9]')" -eq 0
check "the daemon ran through it all" kill -0 "$DAEMON_PID"
