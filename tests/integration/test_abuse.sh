#!/usr/bin/env bash
# Hostile clients in the lab, each with a counted outcome (SECURITY.md):
# - a flood of DISCOVERs from made-up MACs (perfdhcp) in full mode: offers are
#   only held, the pool is refused per policy and comes back, nothing reaches
#   the bindings file, a reservation (dhclient) keeps its address meanwhile;
#   one MAC hammering is dropped in XDP, strangers over the global rate too;
#   a REQUEST for an address never offered gets silence;
# - a flood of TFTP read requests from many addresses and ports: capped with
#   ERROR 0, while a running transfer completes with the right sha256 and
#   HTTP and the control socket keep answering; read requests from forged
#   addresses (never acknowledged, asking timeout 255) give way to real clients;
# - slowloris on HTTP: half-sent requests from a few addresses are refused past
#   the per-address limit and dropped at the timeout, while curl fetches; past
#   the total limit, connections are refused too. The same on HTTPS, with
#   handshakes left half-sent, while curl fetches a config with the CA checked.
LAB=aabuse
source "$(dirname "$0")/lib.sh"
require_root

CLIENTS=$ROOT/tests/integration/abuse_clients.py
PROBE=$ROOT/tests/integration/tftp_probe.pl
counter_is_positive() { test "$(counter "$1")" -gt 0; }

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 52:54:00:a0:00:01 # the reserved machine
lab host 2 52:54:00:a0:00:02 # the flooder
lab host 3 52:54:00:a0:00:03 # a new machine, after the flood
# Sources of the TFTP and HTTP floods: extra addresses of the client namespace.
ATTACKERS=198.18.0.201,198.18.0.202,198.18.0.203
for a in ${ATTACKERS//,/ }; do in_cli ip addr add "$a/24" dev "$IF_BR"; done

head -c $((32 * 1024 * 1024)) /dev/urandom >"$WORK/big"
head -c 300000 /dev/urandom >"$WORK/kernel"
# HTTPS: a CA of the test's own, and a certificate for the server's lab address.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=abuse-ca \
	-keyout "$WORK/ca.key" -out "$WORK/ca.pem" >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$SRV_IP" \
	-keyout "$WORK/tls.key" -out "$WORK/tls.csr" >/dev/null 2>&1
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
	-days 2 -extfile <(echo "subjectAltName=IP:$SRV_IP") -out "$WORK/tls.pem" >/dev/null 2>&1
TLS=(--tls-cert "$WORK/tls.pem" --tls-key "$WORK/tls.key")
mkdir -p "$WORK/talos"
echo "version: v1alpha1" >"$WORK/talos/default.yaml"
LEASES=$WORK/bindings
if start_daemon -i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109 \
	--reserve 52:54:00:a0:00:01=198.18.0.50 --leases "$LEASES" --offer-hold 3 \
	--dhcp-global-rate 100/100 --asset big="$WORK/big" --kernel "$WORK/kernel" \
	--tftp-max-sessions 64 --tftp-max-per-ip 30 --tftp-idle-timeout 3 \
	--http-max-per-ip 8 --http-timeout 3 "${TLS[@]}" --talos-config "$WORK/talos"; then
	ok "xpxe serves with tight limits"
else
	not_ok "xpxe serves with tight limits"
	exit 1
fi

# --- DHCP: a flood of DISCOVERs from made-up MACs -------------------------------------------
ip -n "$LAB-h2" addr replace 198.18.0.12/24 dev eth0
# DISCOVER -> OFFER only (-i), each from another random MAC (-R), 600/s for 5 s.
ip netns exec "$LAB-h2" timeout 60 perfdhcp -4 -l eth0 -i -R 1000000 -r 600 -p 5 198.18.0.1 \
	>"$WORK/flood.out" 2>&1 &
FLOOD=$!
# The reserved machine asks once the flood holds the pool (new MACs refused).
wait_until counter_is_positive dhcp_pool_exhausted
dhclient_run "$LAB-h1" h1
check "during the flood, the reserved MAC (dhclient) gets 198.18.0.50" \
	test "$(result_field h1 ip)" = 198.18.0.50
wait $FLOOD
offers=$(awk '/DISCOVER-OFFER/{f=1} f&&/received packets/{print $3; exit}' "$WORK/flood.out")
check "the flood got offers (${offers:-0}): the pool's 10, then holds that ran out" \
	test "${offers:-0}" -ge 10
check "addresses were held for the flood's DISCOVERs (dhcp_offer_holds)" counter_is_positive dhcp_offer_holds
check "new MACs were refused with the pool held (dhcp_pool_exhausted)" counter_is_positive dhcp_pool_exhausted
check "strangers over the global rate were dropped in XDP (drop_dhcp_rate_global)" \
	counter_is_positive drop_dhcp_rate_global
check "no made-up MAC reached the bindings file" bash -c "! grep -qv '^#' '$LEASES' 2>/dev/null"
status=$("$XPXE" status --json)
check "xpxe status: no binding, offers held" \
	jq -e '.interfaces[0].dhcp.bindings == 0 and .interfaces[0].dhcp.offers_held > 0' <<<"$status"
check "... and in text" bash -c "'$XPXE' status | grep -q '0 binding(s) in .*, [1-9][0-9]* offer(s) held (3 s)'"
in_cli curl -s "http://$SRV_IP:8080/metrics" >"$WORK/metrics"
check "/metrics exports the DHCP refusals" \
	grep -q 'outcome="dhcp_pool_exhausted"} [1-9]' "$WORK/metrics"
# The flood's holds run out (--offer-hold 3 s after the daemon made each, whenever that
# was): a new machine asks until it is bound, each try 3 DISCOVERs a second apart.
h3_bound() {
	udhcpc_run "$LAB-h3" h3
	[[ $(result_field h3 ip) == 198.18.0.1[0-9][0-9] ]]
}
wait_until h3_bound
ip3=$(result_field h3 ip)
check "after the flood's holds ran out, a new machine (udhcpc) gets a pool address ($ip3)" \
	bash -c "[[ '$ip3' == 198.18.0.1[0-9][0-9] ]]"
check "... taken back from an unclaimed offer (dhcp_holds_reclaimed)" counter_is_positive dhcp_holds_reclaimed
check "... and only its binding is on disk" \
	bash -c "[ \"\$(grep -vc '^#' '$LEASES')\" = 1 ] && grep -q '^52:54:00:a0:00:03 $ip3 ' '$LEASES'"
# A REQUEST for an address never offered to that MAC: silence, counted, nothing bound.
out=$(in_cli python3 "$CLIENTS" request "$SRV_IP" 52:54:00:a0:0e:01 198.18.0.105)
check "a REQUEST for an address never offered gets no answer ($out)" test "$out" = silence
check "... counted (dhcp_request_unoffered)" test "$(counter dhcp_request_unoffered)" = 1
check "... and binds nothing" bash -c "! grep -q '52:54:00:a0:0e:01' '$LEASES'"
# One MAC hammering: 200 DISCOVERs a second from a single client.
ip netns exec "$LAB-h2" timeout 10 perfdhcp -4 -l eth0 -i -R 1 -r 200 -p 2 198.18.0.1 \
	>"$WORK/hammer.out" 2>&1
check "one MAC at 200/s is dropped in XDP past its rate (drop_dhcp_rate_mac)" \
	counter_is_positive drop_dhcp_rate_mac

# --- TFTP: a flood of read requests -------------------------------------------------------
# A live transfer, 32 MiB in 512-byte blocks (65537 of them), held open by its client
# (tftp_probe.pl's hold: one block every 0.5 s) from block 100 until the flood is over:
# the flood's refusals come while it runs, on any machine, at any speed.
in_cli perl "$PROBE" "$SRV_IP" rrq=big blocks=100 hold="$WORK/live.go" rest save="$WORK/big.out" \
	>"$WORK/live.out" 2>&1 &
LIVE=$!
wait_until said "$WORK/live.out" '^holding' "$LIVE"
flood_start=$SECONDS
in_cli python3 "$CLIENTS" rrq "$SRV_IP" vmlinuz "$ATTACKERS" 300 "$WORK/flood.gate" >"$WORK/rrq.out" 2>&1 &
RRQ=$!
# The flood stops at its gate once its first address has been answered (30 transfers, then
# "too many transfers from your address"): in the middle of the flood, by construction.
wait_until there_or_dead "$WORK/flood.gate.waiting" "$RRQ"
refusals=$(($(counter tftp_sessions_refused) + $(counter tftp_sessions_refused_per_ip)))
overlap=no
[ "$refusals" -gt 0 ] && kill -0 "$LIVE" 2>/dev/null && ! grep -q '^held' "$WORK/live.out" && overlap=yes
t0=$(date +%s%N)
"$XPXE" status >/dev/null
rc_status=$?
t_status=$((($(date +%s%N) - t0) / 1000000))
t0=$(date +%s%N)
code=$(in_cli curl -s -m 60 -o /dev/null -w '%{http_code}' "http://$SRV_IP:8080/boot.ipxe")
t_http=$((($(date +%s%N) - t0) / 1000000))
[ -e "$WORK/flood.gate.waiting" ] && kill -0 $RRQ 2>/dev/null && flooding=yes || flooding=no
touch "$WORK/flood.gate"
wait $RRQ
flood_s=$((SECONDS - flood_start))
read -r _ sent _ data _ busy _ mine _ other <"$WORK/rrq.out"
check "during the RRQ flood the control socket answers (${t_status} ms)" test "$rc_status" = 0
check "... and HTTP answers /boot.ipxe ($code, ${t_http} ms)" test "$code" = 200
check "... while the flood was still coming (held at its gate)" test "$flooding" = yes
# 300 RRQs from each of 3 addresses, one address after the other: the first two stop at 30
# transfers each (--tftp-max-per-ip), the third at the 64 of --tftp-max-sessions.
check "the flood's 900 RRQs: at most 63 transfers beside the live one, ERROR 0 for the rest ($(cat "$WORK/rrq.out"))" \
	bash -c "[ '$sent' = 900 ] && [ '$data' -le 63 ] && [ '$((data + busy + mine))' = 900 ] && [ '$other' = 0 ]"
check "... 'too many transfers from your address' past 30 from one address ($mine), 'server busy' past 64 in all ($busy)" \
	bash -c "[ '$mine' -ge 500 ] && [ '$busy' -ge 200 ]"
check "each refusal counted (tftp_sessions_refused = $busy, tftp_sessions_refused_per_ip = $mine)" \
	bash -c "[ '$(counter tftp_sessions_refused)' = '$busy' ] && [ '$(counter tftp_sessions_refused_per_ip)' = '$mine' ]"
# A sweep a second logs each kind of refusal at most once: 2 lines a second of the flood. The
# flood may end within a second: the sweep after it logs what it refused.
logged_per_ip() { grep -q 'already running 30 transfers' "$WORK/daemon.log"; }
wait_until logged_per_ip
lines=$(grep -c 'read request(s) refused in the last second' "$WORK/daemon.log")
check "... and logged once a second, not per request, with the address ($lines lines over the flood's $flood_s s)" \
	bash -c "[ $lines -le $((2 * (flood_s + 2))) ] &&
		grep -q 'already running 30 transfers, 198.18.0.20[12] the last (--tftp-max-per-ip)' '$WORK/daemon.log'"
check "the 32 MiB transfer was still running when the flood was being refused" test "$overlap" = yes
touch "$WORK/live.go"
if wait $LIVE && [ "$(sha "$WORK/big.out")" = "$(sha "$WORK/big")" ]; then
	ok "the transfer running during the flood completed with the right sha256"
else
	not_ok "the transfer running during the flood completed with the right sha256" \
		"$(cat "$WORK/live.out")" "$(stat -c %s "$WORK/big.out" 2>/dev/null) bytes"
fi
# The flood's transfers go silent when it ends and expire 3 s later (--tftp-idle-timeout 3).
no_transfers() { "$XPXE" status --json | jq -e '.interfaces[0].tftp.transfers == 0' >/dev/null; }
wait_until no_transfers
in_cli curl -sS -o "$WORK/k.out" "tftp://$SRV_IP/vmlinuz" 2>"$WORK/curl-k.log"
check "once the flood's transfers expired, a new one is served (sha256)" \
	test "$(sha "$WORK/k.out" 2>/dev/null)" = "$(sha "$WORK/kernel")"

# --- TFTP: forged read requests -----------------------------------------------------------
# 100 RRQs from 100 forged addresses of the segment (a raw socket in the client's namespace),
# each asking `timeout 255`: their answers go to no one, so none is ever acknowledged. 64 of
# them fill --tftp-max-sessions. A real client still gets its file: the oldest transfer whose
# client never acknowledged its first answer (0.1 s after it went out) makes room. The timeout
# asked is declined (it would have held each for 3 x 255 s).
wait_until no_transfers
unc0=$(counter tftp_sessions_unconfirmed)
busy0=$(counter tftp_sessions_refused)
in_cli python3 "$CLIENTS" forge "$SRV_IP" vmlinuz 198.18.0.150 100 timeout=255 >"$WORK/forge.out" 2>&1
check "100 forged RRQs sent ($(cat "$WORK/forge.out"))" grep -qx 'forged 100' "$WORK/forge.out"
full() { "$XPXE" status --json | jq -e '.interfaces[0].tftp.transfers == 64' >/dev/null; }
wait_until full
# The 36 RRQs past the 64 were each refused or took an unconfirmed one's place: once all are
# counted, every transfer held started before this moment (not before the forger ran: on a
# busy machine the daemon may read the RRQs well after python sent them).
all_read() {
	[ $(($(counter tftp_sessions_refused) - busy0 + $(counter tftp_sessions_unconfirmed) - unc0)) -ge 36 ]
}
wait_until all_read
unc_read=$(counter tftp_sessions_unconfirmed)
forged_at=$(date +%s%N)
check "... they hold all 64 sessions" full
# The transfers they hold are older than the 0.1 s in which a real client acknowledges.
past_grace() { [ $((($(date +%s%N) - forged_at) / 1000000)) -ge 200 ]; }
wait_until past_grace
out=$(in_cli perl "$PROBE" "$SRV_IP" rrq=vmlinuz,timeout=255,blksize=1468 rest save="$WORK/k.forged" 2>&1)
oack=$(awk '/^OACK/ { print $3 }' <<<"$out")
check "meanwhile a real client gets its file (sha256): $(head -c 200 <<<"$out")" \
	test "$(sha "$WORK/k.forged" 2>/dev/null)" = "$(sha "$WORK/kernel")"
check "... its 'timeout 255' declined: the OACK is blksize 1468 alone ($oack)" \
	test "$oack" = "$(printf '\0\6blksize\0001468\0' | od -An -v -tx1 | tr -d ' \n')"
out=$(in_cli perl "$PROBE" "$SRV_IP" rrq=vmlinuz,timeout=10 rest save="$WORK/k.forged10" 2>&1)
oack=$(awk '/^OACK/ { print $3 }' <<<"$out")
check "... 'timeout 10' (the most granted) echoed byte for byte ($oack), the file whole" \
	bash -c "[ '$oack' = '$(printf '\0\6timeout\00010\0' | od -An -v -tx1 | tr -d ' \n')' ] &&
		[ '$(sha "$WORK/k.forged10" 2>/dev/null)' = '$(sha "$WORK/kernel")' ]"
in_cli curl -sS -m 60 -o "$WORK/k.curl" "tftp://$SRV_IP/vmlinuz" 2>"$WORK/curl-forged.log"
check "... and curl too" test "$(sha "$WORK/k.curl" 2>/dev/null)" = "$(sha "$WORK/kernel")"
unc1=$(counter tftp_sessions_unconfirmed)
check "each took the place of a forged transfer (tftp_sessions_unconfirmed +$((unc1 - unc_read)))" \
	test "$((unc1 - unc_read))" -ge 3
# The sweep logs them, a second at most after.
wait_until grep -q 'never acknowledged the first answer dropped in the last second' "$WORK/daemon.log"
check "... logged once a second, not per transfer" \
	test "$(grep -c 'never acknowledged the first answer dropped in the last second' "$WORK/daemon.log")" -le 2
wait_until no_transfers
check "the forged transfers expire at --tftp-idle-timeout (3 s), not 3 x 255 s" no_transfers

# A datagram longer than any request (3000 bytes): refused, not dropped unseen.
err4=$(counter tftp_err4_illegal_op)
big_rrq=$(printf '\0\1%s\0octet\0' "$(head -c 3000 /dev/zero | tr '\0' a)" | od -An -v -tx1 | tr -d ' \n')
out=$(in_cli perl "$PROBE" "$SRV_IP" send=69:"$big_rrq" recv=30000)
check "a 3000-byte request gets ERROR 4 ($out)" bash -c "[[ '$out' =~ ^[0-9]+\ 00050004 ]]"
check "... counted (tftp_err4_illegal_op)" test "$(counter tftp_err4_illegal_op)" -gt "$err4"

# --- HTTP: slowloris ------------------------------------------------------------------------
# 3 addresses x 12 half-sent requests, held until the server closes them; the limit is 8 per
# address, 3 s idle.
in_cli python3 "$CLIENTS" slowloris "$SRV_IP" 8080 "$ATTACKERS" 12 3 "$WORK/slow.ready" \
	>"$WORK/slow.out" 2>&1 &
SLOW=$!
wait_until there_or_dead "$WORK/slow.ready" "$SLOW"
code=$(in_cli curl -s -m 60 -o "$WORK/script" -w '%{http_code}' "http://$SRV_IP:8080/boot.ipxe")
check "during slowloris, curl gets /boot.ipxe ($code)" test "$code" = 200
in_cli curl -s -m 60 -o "$WORK/k.http" "http://$SRV_IP:8080/assets/vmlinuz"
check "... and an asset, whole (sha256)" test "$(sha "$WORK/k.http" 2>/dev/null)" = "$(sha "$WORK/kernel")"
wait $SLOW
read -r _ opened _ refused _ closed <"$WORK/slow.out"
check "connections past 8 per address were refused ($(cat "$WORK/slow.out"))" \
	bash -c "[ '$opened' = 36 ] && [ '$refused' = 12 ] && [ '$closed' = 24 ]"
status=$("$XPXE" status --json)
check "counted: 12 refused per address, 24 timed out without a request" \
	jq -e '.http.refused_per_ip == 12 and .http.timed_out == 24' <<<"$status"
check "xpxe status shows the HTTP limits" bash -c "'$XPXE' status | grep -q '^http .*8 per address, 3 s idle.*refused 0 at the total, 12 per address; 24 timed out'"
in_cli curl -s "http://$SRV_IP:8080/metrics" >"$WORK/metrics"
check "/metrics exports them" grep -q 'xpxe_http_connections_total{outcome="timed_out"} 24' "$WORK/metrics"


# --- HTTPS: handshakes left half-sent -------------------------------------------------------
# The same 3 x 12 against port 8443: the limits count HTTP and HTTPS together.
in_cli python3 "$CLIENTS" slowloris-tls "$SRV_IP" 8443 "$ATTACKERS" 12 3 "$WORK/slowtls.ready" \
	>"$WORK/slowtls.out" 2>&1 &
SLOW=$!
wait_until there_or_dead "$WORK/slowtls.ready" "$SLOW"
# The config of the reserved machine (198.18.0.50), fetched from its own address.
in_cli ip addr add 198.18.0.50/24 dev "$IF_BR"
code=$(in_cli curl -s -m 60 --cacert "$WORK/ca.pem" --interface 198.18.0.50 -o "$WORK/config" \
	-w '%{http_code}' "https://$SRV_IP:8443/talos/config?mac=52:54:00:a0:00:01")
check "during slowloris on HTTPS, curl gets a config over HTTPS, the CA checked ($code)" \
	test "$code" = 200
in_cli ip addr del 198.18.0.50/24 dev "$IF_BR"
wait $SLOW
read -r _ opened _ refused _ closed <"$WORK/slowtls.out"
check "HTTPS connections past 8 per address were refused ($(cat "$WORK/slowtls.out"))" \
	bash -c "[ '$opened' = 36 ] && [ '$refused' = 12 ] && [ '$closed' = 24 ]"
check "counted with HTTP's: 24 refused per address, 48 timed out in all" \
	jq -e '.http.refused_per_ip == 24 and .http.timed_out == 48' <<<"$("$XPXE" status --json)"

# The total limit: 10 connections, from 2 addresses x 8; on HTTP, then on HTTPS.
kill -TERM "$DAEMON_PID"
wait_daemon
start_daemon -i "$IF_SRV" --http-max-connections 10 --http-max-per-ip 8 --http-timeout 3 \
	"${TLS[@]}" || not_ok "serve starts again with --http-max-connections 10"
in_cli python3 "$CLIENTS" slowloris "$SRV_IP" 8080 198.18.0.201,198.18.0.202 8 3 >"$WORK/slow2.out" 2>&1
read -r _ opened _ refused _ <"$WORK/slow2.out"
check "past 10 connections in all, the rest were refused ($(cat "$WORK/slow2.out"))" \
	bash -c "[ '$opened' = 16 ] && [ '$refused' = 6 ]"
check "... counted as refused_total" \
	jq -e '.http.refused_total == 6 and .http.refused_per_ip == 0' <<<"$("$XPXE" status --json)"
in_cli python3 "$CLIENTS" slowloris-tls "$SRV_IP" 8443 198.18.0.201,198.18.0.202 8 3 >"$WORK/slow3.out" 2>&1
read -r _ opened _ refused _ <"$WORK/slow3.out"
check "HTTPS: past 10 connections in all, the rest were refused ($(cat "$WORK/slow3.out"))" \
	bash -c "[ '$opened' = 16 ] && [ '$refused' = 6 ]"
check "... counted as refused_total" \
	jq -e '.http.refused_total == 12 and .http.refused_per_ip == 0' <<<"$("$XPXE" status --json)"
