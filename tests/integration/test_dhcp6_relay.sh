#!/usr/bin/env bash
# DHCPv6 through relays (RFC 8415 19) in full mode: a relay agent (tests/integration/
# dhcp6_relay.py, on its own address of the server's link) forwards a UEFI machine's Solicit and
# Request from a link of its own; xdp_pxe passes the Relay-forwards up (pass_dhcp6_relay), the
# daemon answers each in a Relay-reply to the relay's port 547 that echoes the relay's fields,
# with an address from that link's pool6 and the boot file URL, bound to the MAC the relay
# copied (option 79) and written to the leases6 file. Two relays deep, a DUID-LL instead of
# option 79, and the counted refusals: a link with no pool, a client with no MAC to go by, a
# Relay-forward with no message. A relay sending from a port of its own with a Relay Source Port
# option (RFC 8357) gets its answers there. The RA on xpxe's own link names no prefix: the pool
# is the relayed link's. Proxy mode (another server gives the addresses): a relayed PXE client
# gets the boot options in a Relay-reply, no address, as xdp_pxe answers it on the link. Both
# modes answer from port 547. Rate limits: one relay's, and all relays' (a flood from many
# addresses). Proxy mode started with no global address answers relays once a reload finds one
# added, and stops when a reload finds it gone.
LAB=td6relay
source "$(dirname "$0")/lib.sh"
require_root

SRV6=fd00:198:18::1
RELAY6=fd00:198:18::2
LINK6=fd00:198:19::
POOL6_FIRST=fd00:198:19::100
POOL6_LAST=fd00:198:19::1ff
RELAY=$ROOT/tests/integration/dhcp6_relay.py
RS_PROBE=$ROOT/tests/integration/rs_probe.py
lab_up_dhcp6 52:54:00:d8:00 1 || exit 1
ip -n "$LAB-h1" -6 addr add "$RELAY6/64" dev eth0 nodad
LEASES=$WORK/bindings
SERVE=(-i "$IF_SRV" --mode full --pool6 "$POOL6_FIRST-$POOL6_LAST" --leases "$LEASES")

srv6() { "$XPXE" status --json | jq -r ".interfaces[0].dhcp6.server.$1"; }
# srv6_sum COUNTER...: their sum (a counter the daemon does not have counts 0)
srv6_sum() {
	local c sum=0 v
	for c in "$@"; do
		v=$(srv6 "$c")
		[[ $v =~ ^[0-9]+$ ]] && sum=$((sum + v))
	done
	echo "$sum"
}
srv6_above() { [ "$(srv6 "$1")" -gt "$2" ]; }
# relay NAME WAIT [OPTIONS...]: the relay's exchange, each answer awaited up to WAIT seconds
# (only a bound on a hang where one is due; a refusal's proof is its counter); in $WORK/NAME.out
relay() {
	local name=$1 wait=$2
	shift 2
	ip netns exec "$LAB-h1" python3 "$RELAY" "$@" "$RELAY6" "$SRV6" "$wait" >"$WORK/$name.out" 2>&1
}
line() { sed -n "${2}p" "$WORK/$1.out"; }
field() { line "$1" "$2" | sed -n "s/.*\b$3=\([^ ]*\).*/\1/p"; }

if start_daemon "${SERVE[@]}"; then ok "xpxe serves $IF_SRV in full mode, a pool6 of a relayed link"; else
	not_ok "xpxe serves $IF_SRV in full mode, a pool6 of a relayed link" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
relayed0=$(counter pass_dhcp6_relay)
check "the daemon says the pool6 is a relayed link's" \
	grep -q "no address of it in ${LINK6}/64: the pool6 is a relayed link's" "$WORK/daemon.log"

# --- the RA on this link: M and O, no prefix (the relayed link's is not on-link here) ----------
ip netns exec "$LAB-h1" python3 "$RS_PROBE" eth0 10 >"$WORK/ra.out" 2>&1
check "an RS gets an RA with M and O ($(cat "$WORK/ra.out"))" grep -q '^ra .*flags=192 ' "$WORK/ra.out"
check "... and no Prefix Information" bash -c "! grep -q prefix= '$WORK/ra.out'"

# --- one relay, the client's MAC in option 79 -------------------------------------------------
relay one 60 --link="$LINK6" --mac=52:54:00:d8:00:71
check "Solicit and Request through a relay: two Relay-replies" test "$(wc -l <"$WORK/one.out")" = 2
check "... an Advertise, then a Reply" test "$(field one 1 inner)/$(field one 2 inner)" = 2/7
check "... the address from the relayed link's pool ($(field one 2 addrs))" \
	test "$(field one 2 addrs)" = "$POOL6_FIRST"
check "... the boot file URL for UEFI x64 over TFTP ($(field one 1 url))" \
	test "$(field one 1 url)" = "tftp://[$SRV6]/snponly.efi"
check "... the relay's hop count, link and peer addresses echoed" \
	test "$(field one 1 hop) $(field one 1 link) $(field one 1 peer)" = "0 $LINK6 fe80::5054:ff:fed7:99"
check "... its Interface-Id echoed" test "$(field one 1 ifid)" = "$(printf 'rack7/ge-0/0/3' | xxd -p)"
check "... from port 547, the servers' (from=$(field one 1 from))" test "$(field one 1 from)" = 547
check "the binding is the MAC the relay named, on disk" grep -q "^52:54:00:d8:00:71 $POOL6_FIRST " "${LEASES}6"
check "counted: relayed 2 ($(srv6 relayed)), advertise 1 ($(srv6 advertise)), reply 1 ($(srv6 reply))" \
	test "$(srv6 relayed) $(srv6 advertise) $(srv6 reply)" = "2 1 1"
check "xdp_pxe passed them up (pass_dhcp6_relay $relayed0 -> $(counter pass_dhcp6_relay))" \
	test "$(counter pass_dhcp6_relay)" -ge $((relayed0 + 2))

# --- two relays, no option 79: the DUID-LL's MAC ---------------------------------------------
relay two 60 --link="$LINK6" --depth=2 --duid=00030001525400d80072
check "two relays deep: answered, nested ($(line two 2))" test "$(field two 2 inner)" = 7
check "... the outer relay's hop count 1 echoed" test "$(field two 1 hop)" = 1
check "... bound to the DUID-LL's MAC" grep -q "^52:54:00:d8:00:72 fd00:198:19::101 " "${LEASES}6"

# --- a relay on a port of its own, with a Relay Source Port option (RFC 8357) -----------------
sport0=$(srv6 relay_source_port)
relay sport 60 --link="$LINK6" --mac=52:54:00:d8:00:74 --sport=10547 --relay-port
check "a relay sending from port 10547 with option 135: answered there ($(line sport 2))" \
	test "$(field sport 1 inner)/$(field sport 2 inner)" = 2/7
check "... its option echoed (rport=$(field sport 1 rport))" test "$(field sport 1 rport)" = 0
check "... bound" grep -q "^52:54:00:d8:00:74 fd00:198:19::102 " "${LEASES}6"
check "counted: relay_source_port 2 ($sport0 -> $(srv6 relay_source_port))" \
	test "$(srv6 relay_source_port)" = $((sport0 + 2))
check "... and only those (the relays on 547 sent none: rport=$(field one 1 rport))" \
	test "$(field one 1 rport)" = none

# --- refused, counted --------------------------------------------------------------------------
other0=$(srv6 relay_other_link) nomac0=$(srv6 relay_no_mac) bad0=$(srv6 malformed_by_kind.bad_relay)
if relay other 3 --link=fd00:198:77:: --mac=52:54:00:d8:00:73 --solicit-only; then
	not_ok "a relay of a link with no pool gets no answer" "$(cat "$WORK/other.out")"
else
	ok "a relay of a link with no pool gets no answer"
fi
wait_until srv6_above relay_other_link "$other0"
check "... counted relay_other_link ($other0 -> $(srv6 relay_other_link))" test "$(srv6 relay_other_link)" = $((other0 + 1))
if relay nomac 3 --link="$LINK6" --solicit-only; then
	not_ok "a client with a DUID-UUID and no option 79 gets no answer" "$(cat "$WORK/nomac.out")"
else
	ok "a client with a DUID-UUID and no option 79 gets no answer"
fi
wait_until srv6_above relay_no_mac "$nomac0"
check "... counted relay_no_mac ($nomac0 -> $(srv6 relay_no_mac))" test "$(srv6 relay_no_mac)" = $((nomac0 + 1))
# A Relay-forward of its header and an Interface-Id only: no message to answer.
relay bad 0 --raw="0c00$(printf '0%.0s' {1..64})00120001ff"
wait_until srv6_above malformed_by_kind.bad_relay "$bad0"
check "a Relay-forward with no Relay Message: malformed, bad_relay ($bad0 -> $(srv6 malformed_by_kind.bad_relay))" \
	test "$(srv6 malformed_by_kind.bad_relay)" = $((bad0 + 1))
check "no binding came of the refused ones (3 in leases6)" test "$(grep -c "^52:54:00:d8:00:" "${LEASES}6")" = 3
check "the daemon is still serving" kill -0 "$DAEMON_PID"

# --- a relay's rate limit (--dhcp-relay-rate): a burst, then dropped, counted ------------------
kill -TERM "$DAEMON_PID"
wait_daemon
start_daemon "${SERVE[@]}" --dhcp-relay-rate 1/3 ||
	{ not_ok "serve --dhcp-relay-rate 1/3 starts" "$(tail -5 "$WORK/daemon.log")"; exit 1; }
taken() { [ $(($(srv6 relayed) + $(srv6 relay_limited))) -ge 10 ]; }
relay flood 0 --link="$LINK6" --mac=52:54:00:d8:00:71 --flood=10
wait_until taken
check "10 Relay-forwards at once from one relay, a burst of 3: answered $(srv6 relayed), dropped $(srv6 relay_limited) (relay_limited)" \
	test "$(srv6 relayed)" -ge 3 -a "$(srv6 relay_limited)" -ge 1 -a "$(srv6 relayed)" -le 9

# --- a flood from many relay addresses (forged ones would each find a fresh bucket): all
# relays' bucket (4 x 1/3: 6 at once for relays new to the daemon) caps it --------------------
MANY=60
printf 'addr add fd00:198:18::1:%x/64 dev eth0 nodad\n' $(seq 1 $MANY) | ip -n "$LAB-h1" -batch -
relayed0=$(srv6 relayed) taken0=$(srv6_sum relayed relay_limited relay_global_limited)
taken_many() { [ "$(srv6_sum relayed relay_limited relay_global_limited)" -ge $((taken0 + MANY)) ]; }
ip netns exec "$LAB-h1" python3 "$RELAY" --link="$LINK6" --mac=52:54:00:d8:00:71 --flood=1 \
	--sources=$MANY fd00:198:18::1:0 "$SRV6" 0 >"$WORK/many.out" 2>&1
check "$MANY Relay-forwards from $MANY relay addresses: each counted" wait_until taken_many
check "... capped: answered $(($(srv6 relayed) - relayed0)), dropped $(srv6 relay_global_limited) (relay_global_limited)" \
	test "$(srv6_sum relay_global_limited)" -ge 1 -a "$(($(srv6 relayed) - relayed0))" -lt $MANY
in_cli curl -s "http://$SRV_IP:8080/metrics" >"$WORK/metrics"
check "/metrics has them ($(grep -o 'outcome="relay_global_limited"} [0-9]*' "$WORK/metrics"))" \
	grep -q "^xpxe_dhcp6_server_total{interface=\"$IF_SRV\",outcome=\"relay_global_limited\"} $(srv6 relay_global_limited)\$" "$WORK/metrics"

# --- proxy mode: the boot options through the relay, no address -------------------------------
# Started with no global or ULA address on the interface: no server for relays, until a reload
# finds the address added.
kill -TERM "$DAEMON_PID"
wait_daemon
in_srv ip -6 addr del "$SRV6/64" dev "$IF_SRV"
start_daemon -i "$IF_SRV" --mode proxy ||
	{ not_ok "serve --mode proxy starts" "$(tail -5 "$WORK/daemon.log")"; exit 1; }
check "proxy mode with no global address: no DHCPv6 server for relays ($(srv6 answers))" \
	test "$(srv6 answers)" = null
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
check "the address added, xpxe reload" "$XPXE" reload
check "... logged: relays get answered" \
	grep -q "$IF_SRV: a global or ULA IPv6 address now: DHCPv6 relays get answered" "$WORK/daemon.log"
check "xpxe status: the daemon answers relays in proxy mode ($(srv6 answers))" \
	test "$(srv6 answers)" = "relays, boot options only (proxy mode)"
relay proxy 60 --link="$LINK6" --mac=52:54:00:d8:00:75
check "proxy mode: a relayed Solicit gets an Advertise ($(line proxy 1))" test "$(field proxy 1 inner)" = 2
check "... with the boot file URL ($(field proxy 1 url)) and PXEClient" \
	test "$(field proxy 1 url) $(field proxy 1 vendor)" = "tftp://[$SRV6]/snponly.efi PXEClient"
check "... and no address (it ends there: no Request)" \
	test "$(field proxy 1 addrs)/$(wc -l <"$WORK/proxy.out")" = none/1
check "... the relay's fields echoed" test "$(field proxy 1 hop) $(field proxy 1 link) $(field proxy 1 ifid)" = \
	"0 $LINK6 $(printf 'rack7/ge-0/0/3' | xxd -p)"
check "... from port 547, as full mode's (from=$(field proxy 1 from))" test "$(field proxy 1 from)" = 547
check "counted: relayed 1, advertise 1, bound 0 ($(srv6 relayed) $(srv6 advertise) $(srv6 bound))" \
	test "$(srv6 relayed) $(srv6 advertise) $(srv6 bound)" = "1 1 0"
notpxe0=$(srv6 proxy_not_pxe)
relay plain 0 --raw="0c00$(printf '0%.0s' {1..64})0009000e01abcdef000100060003000102ff"
wait_until srv6_above proxy_not_pxe "$notpxe0"
check "a relayed plain client (nothing to boot) is the address server's: proxy_not_pxe $(srv6 proxy_not_pxe)" \
	test "$(srv6 proxy_not_pxe)" = $((notpxe0 + 1))

# --- the address gone, a reload stops the relays' server ---------------------------------------
in_srv ip -6 addr del "$SRV6/64" dev "$IF_SRV"
check "the address removed, xpxe reload" "$XPXE" reload
check "... logged: relays no longer answered" \
	grep -q "$IF_SRV: no global or ULA IPv6 address now: DHCPv6 relays no longer answered" "$WORK/daemon.log"
check "... no DHCPv6 server for relays in xpxe status ($(srv6 answers))" test "$(srv6 answers)" = null
check "the daemon is still serving" kill -0 "$DAEMON_PID"
