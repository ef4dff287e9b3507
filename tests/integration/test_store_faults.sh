#!/usr/bin/env bash
# A responder in full mode on a three-member etcd cluster, through its faults:
# - one member killed in a storm of new machines: the others carry on (requests fail over,
#   the watch moves), machines keep getting addresses;
# - all of etcd killed: machines already bound are still answered (XDP, from the maps), new
#   ones get no address (never a guess), a boot-once mark made meanwhile waits, `xpxe status`
#   says etcd is away; etcd back: the mark is written, new machines are served again;
# - the responder killed with -9 while others change etcd: it reads etcd again at restart;
# - corrupt or foreign values under the prefix are refused with a log line, never applied.
LAB=stfault
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/etcd.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 >>"$WORK/lab.log" 2>&1
# A /22 on the segment, so that the pool outlasts the storm.
in_srv ip addr add 198.18.4.1/22 dev "$IF_SRV"
ip -n "$LAB-h1" addr replace 198.18.4.12/22 dev eth0
etcd_net_up && etcd_cluster 3 && etcd_attach "$NS_SRV" "$ETCD_NET.1" || { not_ok "etcd's network"; exit 1; }
for i in 1 2 3; do etcd_start "$i"; done
if etcd_wait_healthy; then ok "a three-member etcd cluster runs in the lab"; else
	not_ok "a three-member etcd cluster runs in the lab" "$(tail -3 "$WORK/etcd/m1.log")"; exit 1; fi

# --- xpxe store migrate: files to etcd and back (under a prefix of its own) ---------------------
mkdir -p "$WORK/files"
cat >"$WORK/files/machines.yaml" <<'YAML'
machines:
  - {"mac": ["52:54:00:0a:00:01", "52:54:00:0a:00:02"], "hostname": "m-1", "ip": "198.18.4.50"}
  - {"uuid": "4c4c4544-0042-3510-8051-b4c04f4b4d32", "hostname": "m-2"}
YAML
printf '# marks\nmac:52:54:00:0a:00:01 1700000000\nuuid:4c4c4544-0042-3510-8051-b4c04f4b4d32 1700000001\n' \
	>"$WORK/files/installed"
printf '# bindings\n52:54:00:0a:00:09 198.18.4.99 1900000000\n' >"$WORK/files/prov0.leases"
MIGRATE=(ip netns exec "$NS_SRV" "$XPXE" store migrate --prefix /migrated/)
check "xpxe store migrate: files to etcd" "${MIGRATE[@]}" --from files --to "$(etcd_url)" \
	--state-dir "$WORK/files" --leases "$WORK/files/prov0.leases"
check "... etcd has the 2 machines, 2 marks and the binding (by IP and by MAC)" \
	test "$(ectl get --prefix /migrated/ --keys-only | grep -c .)" = 6
check "... a second run keeps what etcd has (6 kept)" \
	bash -c "${MIGRATE[*]} --from files --to $(etcd_url) --state-dir $WORK/files --leases $WORK/files/prov0.leases | grep -q '6 key(s) of 6 kept'"
check "xpxe store migrate: etcd back to files" "${MIGRATE[@]}" --from "$(etcd_url)" --to files \
	--state-dir "$WORK/back" --leases "$WORK/back/prov0.leases"
check "... the same marks and bindings" \
	bash -c "diff <(grep -v '^#' $WORK/files/installed | sort) <(grep -v '^#' $WORK/back/installed | sort) &&
		diff <(grep -v '^#' $WORK/files/prov0.leases) <(grep -v '^#' $WORK/back/prov0.leases)"
check "... the same machines" \
	test "$(grep -c 'hostname' "$WORK/back/machines.yaml")" = 2 -a \
	"$(grep -c '52:54:00:0a:00:02\|4c4c4544-0042-3510-8051-b4c04f4b4d32' "$WORK/back/machines.yaml")" = 2
check "... and files that exist are not replaced without --force" \
	bash -c "! ${MIGRATE[*]} --from $(etcd_url) --to files --state-dir $WORK/back 2>$WORK/migrate.err && grep -q 'exists: not replaced' $WORK/migrate.err"
check "migrate refuses a store that does not answer, with exit code 1" \
	bash -c "${MIGRATE[*]} --from files --to etcd://198.18.200.99:2379 --state-dir $WORK/files; test \$? = 1"

# --- TLS: an etcd that wants HTTPS and a client certificate (its own member, .14) ------------
TLS=$WORK/tls
mkdir -p "$TLS"
ip -n "$ETCD_NS" addr add "$ETCD_NET.14/24" dev "$ETCD_BR"
{
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=xpxe-test-ca \
		-keyout "$TLS/ca.key" -out "$TLS/ca.pem"
	for who in server client; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$TLS/$who.key" \
			-out "$TLS/$who.csr"
		# etcd's gateway reaches its own gRPC port with the server's certificate: both usages.
		printf 'subjectAltName=IP:%s\nextendedKeyUsage=%s\n' "$ETCD_NET.14" \
			"$([ $who = server ] && echo serverAuth,clientAuth || echo clientAuth)" >"$TLS/$who.ext"
		openssl x509 -req -in "$TLS/$who.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
			-CAcreateserial -days 2 -extfile "$TLS/$who.ext" -out "$TLS/$who.pem"
	done
} >"$TLS/openssl.log" 2>&1
ip netns exec "$ETCD_NS" etcd --name tls --data-dir "$WORK/etcd/tls" \
	--listen-client-urls "https://$ETCD_NET.14:2379" --advertise-client-urls "https://$ETCD_NET.14:2379" \
	--listen-peer-urls "http://$ETCD_NET.14:2380" --initial-advertise-peer-urls "http://$ETCD_NET.14:2380" \
	--initial-cluster "tls=http://$ETCD_NET.14:2380" --cert-file "$TLS/server.pem" \
	--key-file "$TLS/server.key" --client-cert-auth --trusted-ca-file "$TLS/ca.pem" \
	>>"$WORK/etcd/tls.log" 2>&1 &
at_exit "kill -9 $!"
TLS_MIGRATE=(ip netns exec "$NS_SRV" "$XPXE" store migrate --from files --to "etcd://$ETCD_NET.14:2379"
	--state-dir "$WORK/files" --prefix /tls/)
check "TLS: migrate reaches an etcd that wants a client certificate (--ca, --cert, --key)" \
	wait_for 30 '"${TLS_MIGRATE[@]}" --ca "$TLS/ca.pem" --cert "$TLS/client.pem" --key "$TLS/client.key" --force'
check "... and fails without the client certificate" \
	bash -c "! ${TLS_MIGRATE[*]} --ca $TLS/ca.pem 2>/dev/null"
check "... or without the CA that signed etcd's" bash -c "! ${TLS_MIGRATE[*]} 2>/dev/null"

SERVE=(-i "$IF_SRV" --mode full --pool 198.18.4.16-198.18.7.250 --server-ip 198.18.4.1 --leases "$WORK/leases"
	--state-dir "$WORK/state" --no-default-assets --store "$(etcd_url)"
	--dhcp-mac-rate 0 --dhcp-global-rate 0)
start_daemon "${SERVE[@]}" || { not_ok "serve starts with --store $(etcd_url)"; exit 1; }
store() { "$XPXE" status --json | jq -r ".store.$1"; }
check "xpxe status shows the store: etcd, its three endpoints, up" \
	wait_for 30 'test "$(store backend)/$(store "endpoints | length")/$(store up)" = etcd/3/true'

# perf NAME MACS-FILE EXCHANGES RATE: perfdhcp from the client host; its ACK count in NAME.acks
perf() {
	ip netns exec "$LAB-h1" timeout 60 perfdhcp -4 -l eth0 -r "$4" -n "$3" -M "$2" 198.18.4.1 \
		>"$WORK/$1.perf" 2>&1
	awk '/REQUEST-ACK/ { f = 1 } f && /received packets/ { print $3; exit }' "$WORK/$1.perf" \
		>"$WORK/$1.acks"
}
macs() { # PREFIX N -> N MACs 52:54:PREFIX:00:xx
	for i in $(seq 1 "$2"); do printf '52:54:%s:00:%02x\n' "$1" "$i"; done
}
bound() { ectl get --prefix /xpxe/leases/ip/ --print-value-only | jq -r 'select(.offered == false) | .mac' | sort -u; }

macs 04:00 16 >"$WORK/known"
# perfdhcp picks a MAC of the list at random for each exchange: until each has been bound.
all_known_bound() {
	perf known "$WORK/known" 64 50
	test "$(bound | grep -c '^52:54:04:00:')" = 16
}
check "16 machines bound before the faults" wait_for 60 all_known_bound
ectl get --prefix /xpxe/leases/ip/ --print-value-only |
	jq -r 'select(.offered == false and (.mac | startswith("52:54:04:00"))) | "\(.ip) \(.mac)"' |
	sort >"$WORK/known.bound"

# --- one member killed during a storm of new machines ------------------------------------------
macs 05:00 250 >"$WORK/storm"
ip netns exec "$LAB-h1" timeout 120 perfdhcp -4 -l eth0 -r 25 -n 2500 -M "$WORK/storm" 198.18.4.1 \
	>"$WORK/storm.perf" 2>&1 &
storm=$!
at_exit "kill $storm"
wait_for 60 'test "$(bound | grep -c ^52:54:05:00:)" -ge 10'
before=$(bound | grep -c '^52:54:05:00:')
etcd_kill 1
check "member 1 killed in a storm ($before new machines bound then): new machines go on being bound" \
	wait_for 60 'test "$(bound | grep -c ^52:54:05:00:)" -ge $((before + 20))'
kill "$storm" 2>/dev/null
wait "$storm" 2>/dev/null
check "... etcd stays up for the responder (two of three members)" wait_for 30 'test "$(store up)" = true'

# --- all of etcd killed ----------------------------------------------------------------------------
etcd_kill 2
etcd_kill 3
macs 06:00 8 >"$WORK/new"
perf new1 "$WORK/new" 16 20 # the first requests find it gone
check "etcd killed: xpxe status says the store is away" wait_for 30 'test "$(store up)" = false'
check "... with why ($(store health))" test -n "$(store health)"
# Each machine bound before gets its own address again: the ACKs on the wire (perfdhcp picks
# MACs at random: until each of the 16 has been answered).
ectl_bound_before=$(grep -c . "$WORK/known.bound")
ip netns exec "$LAB-h1" tcpdump -ni eth0 -U -w "$WORK/away.pcap" 'udp port 67' >/dev/null 2>"$WORK/away.err" &
away_cap=$!
at_exit "kill $away_cap"
wait_for 10 'grep -q "listening on" "$WORK/away.err"'
known_answered() {
	perf known2 "$WORK/known" 32 50
	"$ROOT/tests/integration/dhcp_acks.py" "$WORK/away.pcap" | grep -v TWICE | sort >"$WORK/away.acks"
	test "$(grep -c . "$WORK/away.acks")" = 16
}
check "... the 16 machines bound before are still answered, by XDP" wait_for 60 known_answered
kill -INT "$away_cap"
wait "$away_cap" 2>/dev/null
check "... each with the address etcd had given it ($ectl_bound_before)" \
	diff "$WORK/away.acks" "$WORK/known.bound"
perf new2 "$WORK/new" 16 20
check "... new machines get no address (0 of 16 ACKed)" test "$(cat "$WORK/new2.acks")" = 0
check "... and are counted (store_refused)" \
	test "$("$XPXE" status --json | jq '.interfaces[0].dhcp.store_refused')" -gt 0
in_srv curl -s http://198.18.4.1:8080/metrics >"$WORK/metrics"
check "... /metrics: xpxe_store_up 0 and xpxe_store_errors_total > 0" \
	bash -c "grep -q '^xpxe_store_up{backend=\"etcd\"} 0' '$WORK/metrics' && awk '/^xpxe_store_errors_total/ { exit !(\$2 > 0) }' '$WORK/metrics'"
"$XPXE" machines mark-installed 52:54:04:00:00:01 >"$WORK/mark.out" 2>&1
check "... a boot-once mark made meanwhile holds here and waits for etcd ($(store pending_marks) pending)" \
	test "$(store pending_marks)" = 1 -a "$("$XPXE" machines show 52:54:04:00:00:01 --json | jq -r .machine.installed)" = true

# --- etcd back ----------------------------------------------------------------------------------
for i in 1 2 3; do etcd_start "$i"; done
etcd_wait_healthy
check "etcd back: the responder reconnects by itself" wait_for 60 'test "$(store up)" = true'
check "... the mark made while it was away is in etcd" \
	wait_for 30 'test "$(ectl get /xpxe/installed/mac:52:54:04:00:00:01 --print-value-only | jq -r .xpxe)" = installed'
check "... nothing waits any more" test "$(store pending_marks)" = 0
perf new3 "$WORK/new" 64 20
check "... new machines get addresses again (the 8 refused before are bound)" \
	test "$(bound | grep -c '^52:54:06:00:')" = 8

# --- the responder killed with -9; etcd changes meanwhile ------------------------------------
kill -9 "$DAEMON_PID"
wait_daemon
ectl put /xpxe/machines/mac:52:54:07:00:00:01 \
	'{"xpxe":"machine","v":1,"machine":{"mac":["52:54:07:00:00:01"],"hostname":"while-down"}}' >/dev/null
ectl put /xpxe/installed/mac:52:54:07:00:00:01 '{"xpxe":"installed","v":1,"when":1700000000,"by":"other"}' >/dev/null
ectl del /xpxe/installed/mac:52:54:04:00:00:01 >/dev/null
ectl put /xpxe/leases/ip/198.18.4.210 \
	'{"xpxe":"lease","v":1,"mac":"52:54:07:00:00:02","ip":"198.18.4.210","expires":4000000000,"offered":false,"by":"other"}' >/dev/null
ectl put /xpxe/leases/mac/52:54:07:00:00:02 \
	'{"xpxe":"lease","v":1,"mac":"52:54:07:00:00:02","ip":"198.18.4.210","expires":4000000000,"offered":false,"by":"other"}' >/dev/null
start_daemon "${SERVE[@]}" || { not_ok "serve starts again after kill -9"; exit 1; }
check "restarted after kill -9: it reads etcd again (the machine added meanwhile)" \
	wait_for 30 '"$XPXE" machines show while-down'
check "... its boot-once mark" \
	test "$("$XPXE" machines show while-down --json | jq -r .machine.installed)" = true
check "... the mark cleared meanwhile is cleared here" \
	test "$("$XPXE" machines show 52:54:04:00:00:01 --json | jq -r .machine.installed)" = false
check "... the binding another responder made is in its table" \
	wait_for 10 '"$XPXE" leases --json | jq -e ".leases[] | select(.mac == \"52:54:07:00:00:02\" and .ip == \"198.18.4.210\")"'
check "... and in its copy of the bindings" wait_for 10 'grep -q "^52:54:07:00:00:02 198.18.4.210 " "$WORK/leases"'
check "... the machines bound before are still its (16)" \
	test "$("$XPXE" leases --json | jq '[.leases[] | select(.mac | startswith("52:54:04:00"))] | length')" = 16

# --- corrupt and foreign values under the prefix ------------------------------------------------
refused0=$(store refused)
ectl put /xpxe/machines/mac:52:54:08:00:00:01 'this is not json' >/dev/null
ectl put /xpxe/leases/ip/198.18.4.211 \
	'{"xpxe":"lease","v":1,"mac":"52:54:08:00:00:02","ip":"198.18.4.212","expires":4000000000,"offered":false,"by":"x"}' >/dev/null
ectl put /xpxe/installed/mac:52:54:08:00:00:03 '{"kind":"something else"}' >/dev/null
ectl put /xpxe/unknown-thing 'hello' >/dev/null
ectl put /xpxe/machines/mac:52:54:08:00:00:04 \
	'{"xpxe":"machine","v":1,"machine":{"mac":["52:54:08:00:00:04"],"profile":"no-such-profile"}}' >/dev/null
check "corrupt and foreign values are refused and counted (4 more)" \
	wait_for 30 'test "$(store refused)" -ge $((refused0 + 4))'
check "... each with a clear log line" \
	bash -c "grep -q 'store: etcd key /xpxe/machines/mac:52:54:08:00:00:01 refused, not applied: not a JSON object' '$WORK/daemon.log' &&
		grep -q 'store: etcd key /xpxe/leases/ip/198.18.4.211 refused, not applied: the key names address 198.18.4.211, the value 198.18.4.212' '$WORK/daemon.log' &&
		grep -q 'store: etcd key /xpxe/installed/mac:52:54:08:00:00:03 refused, not applied: not an xpxe installed record' '$WORK/daemon.log' &&
		grep -q 'store: etcd key /xpxe/unknown-thing refused, not applied: not a key xpxe writes' '$WORK/daemon.log'"
check "... a machine this responder cannot take (no such profile) is refused with why" \
	wait_for 10 'grep -q "store: machine mac:52:54:08:00:00:04 refused, not applied on this responder: .*no-such-profile" "$WORK/daemon.log"'
check "... none of them applied: no machine" \
	test "$("$XPXE" machines --json | jq '[.machines[] | select(.mac | test("52:54:08"))] | length')" = 0
check "... no binding" bash -c "! '$XPXE' leases --json | grep -q '52:54:08:00:00:02'"
check "... no mark" test "$("$XPXE" machines show 52:54:08:00:00:03 --json | jq -r .machine.installed)" = false
check "... and the daemon serves on" "$XPXE" status

