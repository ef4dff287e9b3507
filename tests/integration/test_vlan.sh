#!/usr/bin/env bash
# VLAN trunks (issue 22): xpxe serves two VLANs of one trunk beside its untagged network. The
# lab's kernel has no 802.1Q, so the switch is the lab's plain bridge, and each machine's port
# an access port made by a tc program (bpf/lab_vlan.h) that puts the port's tag on toward
# the trunk and takes it off toward the machine. udhcpc on VLAN 10 and VLAN 20 gets its
# address and its VLAN's server from that VLAN (answered in XDP, tagged); a machine on a VLAN
# xpxe does not serve gets nothing, counted; a TFTP download on a VLAN is byte for byte the file
# (the kernel holds the VLAN's address: tc takes the tag off the request and puts it on what
# leaves from that address); the untagged network keeps working. New machines on VLAN 20
# (dhclient) and VLAN 10 (udhcpc) get addresses from their VLAN's pool, kept in its own file
# across a restart. HTTP on a VLAN's address: the URLs name it, and a config goes only over
# its machine's own VLAN (curl from the access ports). TFTP and HTTP events name IFACE.VID. A
# machine bound on VLAN 10 gets an RA to its RS, tagged 10; an RS on VLAN 11 gets none.
LAB=tvlan
source "$(dirname "$0")/lib.sh"
require_root

for vid in 10 11 20; do
	[ -f "$BUILD/lab_vlan$vid.bpf.o" ] || { not_ok "$BUILD/lab_vlan$vid.bpf.o is missing: run make"; exit 1; }
done
lab up || { not_ok "lab up"; exit 1; }

# access_port N VID MAC: host N (namespace $LAB-hN), its switch port an access port of VID.
access_port() {
	local n=$1 vid=$2 mac=$3 port=$LAB-h$1
	lab host "$n" "$mac" &&
		in_cli tc qdisc replace dev "$port" clsact &&
		in_cli tc filter replace dev "$port" ingress bpf da obj "$BUILD/lab_vlan$vid.bpf.o" sec tc &&
		in_cli tc filter replace dev "$port" egress bpf da obj "$BUILD/lab_vlan$vid.bpf.o" \
			sec classifier
}
if access_port 1 10 52:54:00:f1:00:01 && access_port 2 20 52:54:00:f1:00:02 &&
	access_port 3 11 52:54:00:f1:00:03 && lab host 4 52:54:00:f1:00:04 &&
	access_port 5 20 52:54:00:f1:00:05 && access_port 6 10 52:54:00:f1:00:06; then
	ok "access ports: h1 and h6 on VLAN 10, h2 and h5 on VLAN 20, h3 on VLAN 11; h4 untagged"
else
	not_ok "access ports"
	exit 1
fi
# On veth a tag the stack puts on travels beside the frame (tx-vlan-offload), where the peer's
# XDP never sees it (measured: README, VLANs): both ends of the trunk insert it in the frame.
in_cli ethtool -K "$IF_CLI" txvlan off >/dev/null
in_srv ethtool -K "$IF_SRV" txvlan off >/dev/null

FILE=$WORK/payload
head -c 300000 /dev/urandom >"$FILE"
mkdir -p "$WORK/talos"
for m in 01 02 04; do echo "version: v1alpha1 # machine $m" >"$WORK/talos/52-54-00-f1-00-$m.yaml"; done
SERVE=(-i "$IF_SRV" --mode full --asset "payload=$FILE" --kernel "$FILE" --initrd "$FILE"
	--talos-config "$WORK/talos"
	--state-dir "$WORK/state" --leases "$WORK/state/trunk.leases"
	--vlan "10=198.18.10.1/24,pool=198.18.10.100-198.18.10.109"
	--vlan "20=198.18.20.1/24,pool=198.18.20.100-198.18.20.109"
	--reserve 52:54:00:f1:00:01=198.18.10.50 --reserve 52:54:00:f1:00:02=198.18.20.50
	--reserve 52:54:00:f1:00:04=198.18.0.60)
nsenter --net="/run/netns/$NS_SRV" "$XPXE" check "${SERVE[@]}" >"$WORK/check.out" 2>&1
check "xpxe check accepts reservations inside the VLANs' subnets and lists the VLANs" \
	grep -q "VLAN 20, answering as 198.18.20.1/24" "$WORK/check.out"
check "... and their pools" grep -q "VLAN 20, .*, pool 198.18.20.100-198.18.20.109, bindings in $WORK/state/trunk.leases.vlan20" "$WORK/check.out"
if start_daemon "${SERVE[@]}"; then ok "xpxe serves $IF_SRV with VLANs 10 and 20"; else
	not_ok "xpxe serves $IF_SRV with VLANs 10 and 20" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
check "the VLAN addresses are on the trunk" in_srv sh -c \
	"ip -4 addr show dev $IF_SRV | grep -q 198.18.10.1/24 && ip -4 addr show dev $IF_SRV | grep -q 198.18.20.1/24"
check "status lists both VLANs" jq -e \
	'[.interfaces[0].vlans[].vlan] == ["10","20"] and (.interfaces[0].rx_vlan_offload | startswith("off"))' \
	<<<"$("$XPXE" status --json)"
check "the log says what became of rx-vlan-offload" grep -q "rx-vlan-offload off" "$WORK/daemon.log"
check "xpxe status prints them" sh -c \
	"'$XPXE' status | grep -q 'vlans     10 as 198.18.10.1/24, 20 as 198.18.20.1/24; rx-vlan-offload off'"

# --- DHCP on two VLANs, and the untagged network beside them ------------------------------
udhcpc_run "$LAB-h1" h1
if [ "$(result_field h1 ip)" = 198.18.10.50 ] && [ "$(result_field h1 server)" = 198.18.10.1 ]; then
	ok "udhcpc on VLAN 10 gets 198.18.10.50 from 198.18.10.1"
else
	not_ok "udhcpc on VLAN 10 gets 198.18.10.50 from 198.18.10.1" \
		"$(cat "$WORK/h1.result" 2>/dev/null)" "$(tail -4 "$WORK/h1.log")"
fi
udhcpc_run "$LAB-h2" h2
if [ "$(result_field h2 ip)" = 198.18.20.50 ] && [ "$(result_field h2 server)" = 198.18.20.1 ]; then
	ok "udhcpc on VLAN 20 gets 198.18.20.50 from 198.18.20.1"
else
	not_ok "udhcpc on VLAN 20 gets 198.18.20.50 from 198.18.20.1" \
		"$(cat "$WORK/h2.result" 2>/dev/null)" "$(tail -4 "$WORK/h2.log")"
fi
check "both answered by XDP (dhcp_to_daemon 0), every frame of theirs untagged by it (vlan_rx)" \
	test "$(counter dhcp_to_daemon)" -eq 0 -a "$(counter vlan_rx)" -ge 4
ACK10="event=dhcp_ack mac=52:54:00:f1:00:01 ip=198.18.10.50 iface=$IF_SRV.10 "
wait_until said "$WORK/daemon.log" "$ACK10" "$DAEMON_PID"
check "the events name the VLAN: iface $IF_SRV.10" grep -q "$ACK10" "$WORK/daemon.log"
udhcpc_run "$LAB-h4" h4
check "the untagged network still works: h4 gets 198.18.0.60 from 198.18.0.1" \
	test "$(result_field h4 ip)/$(result_field h4 server)" = 198.18.0.60/198.18.0.1
# --- Router Solicitations on a VLAN: answered in XDP, tagged as they came ---------------------
# h1 is bound on VLAN 10 (full mode answers an RS only for a machine bound on the network it
# came on): its RS gets the empty RA, through an access port that drops any frame not tagged
# 10. h3's VLAN 11 is not served: its RS is passed untouched, no RA.
SRV_LL=$(in_srv ip -6 -o addr show dev "$IF_SRV" scope link | awk '{ sub("/.*", "", $4); print $4 }')
SRV_MAC=$(in_srv cat "/sys/class/net/$IF_SRV/address")
ra0=$(counter ndp_ra_sent)
ip netns exec "$LAB-h1" python3 "$ROOT/tests/integration/rs_probe.py" eth0 3 >"$WORK/h1.ra" 2>&1
want="ra src=$SRV_LL code=0 hlim=255 cur_hop_limit=0 flags=0 lifetime=0 reachable=0 retrans=0 slla=$SRV_MAC opts=1"
if [ -n "$SRV_LL" ] && grep -qxF "$want" "$WORK/h1.ra"; then
	ok "an RS on VLAN 10 from h1 (bound there) gets the empty RA, tagged 10 (its access port let it in)"
else
	not_ok "an RS on VLAN 10 from h1 gets the empty RA, tagged 10" "want: $want" \
		"got: $(tr '\n' '|' <"$WORK/h1.ra")"
fi
check "... sent by XDP (ndp_ra_sent $ra0 -> $(counter ndp_ra_sent))" test "$(counter ndp_ra_sent)" -gt "$ra0"
passed0=$(counter pass_vlan)
if ip netns exec "$LAB-h3" python3 "$ROOT/tests/integration/rs_probe.py" eth0 1.5 >"$WORK/h3.ra" 2>&1; then
	not_ok "an RS on VLAN 11 (not served) gets no RA" "$(cat "$WORK/h3.ra")"
else
	ok "an RS on VLAN 11 (not served) gets no RA"
fi
check "... passed untouched, counted pass_vlan" test "$(counter pass_vlan)" -gt "$passed0"
# --- a VLAN's pool: new machines on VLAN 20 (dhclient) and VLAN 10 (udhcpc) ---------------------
# Answered by the daemon's slow path from that VLAN's pool, the reply tagged for that VLAN
# (the access port drops anything else), the binding kept in the VLAN's own file.
dhclient_run "$LAB-h5" h5
if [ "$(result_field h5 ip)" = 198.18.20.100 ] && [ "$(result_field h5 server)" = 198.18.20.1 ]; then
	ok "dhclient of a new MAC on VLAN 20 gets 198.18.20.100 from VLAN 20's pool"
else
	not_ok "dhclient of a new MAC on VLAN 20 gets 198.18.20.100 from VLAN 20's pool" \
		"$(cat "$WORK/h5.result" 2>/dev/null)" "$(tail -4 "$WORK/h5.log")"
fi
udhcpc_run "$LAB-h6" h6
if [ "$(result_field h6 ip)" = 198.18.10.100 ] && [ "$(result_field h6 server)" = 198.18.10.1 ]; then
	ok "udhcpc of a new MAC on VLAN 10 gets 198.18.10.100 from VLAN 10's pool"
else
	not_ok "udhcpc of a new MAC on VLAN 10 gets 198.18.10.100 from VLAN 10's pool" \
		"$(cat "$WORK/h6.result" 2>/dev/null)" "$(tail -4 "$WORK/h6.log")"
fi
check "... through the daemon (dhcp_to_daemon >= 4), none left unanswered (vlan_unanswered 0)" \
	test "$(counter dhcp_to_daemon)" -ge 4 -a \
	"$("$XPXE" status --json | jq '.interfaces[0].dhcp.vlan_unanswered')" = 0
check "xpxe status counts each VLAN pool's bindings" jq -e \
	'[.interfaces[0].vlans[] | .bindings] == [1, 1] and .interfaces[0].vlans[1].pool_first == "198.18.20.100"' \
	<<<"$("$XPXE" status --json)"
check "the bindings are in each VLAN's own file" sh -c \
	"grep -q '52:54:00:f1:00:05.*198.18.20.100' '$WORK/state/trunk.leases.vlan20' &&
	 grep -q '52:54:00:f1:00:06.*198.18.10.100' '$WORK/state/trunk.leases.vlan10'"
check "xpxe leases names them by VLAN" jq -e \
	'[.leases[] | select(.mac == "52:54:00:f1:00:05")][0].interface | endswith(".20")' \
	<<<"$("$XPXE" leases --json)"
BOUND20="event=lease_bound mac=52:54:00:f1:00:05 ip=198.18.20.100 iface=$IF_SRV.20"
check "the event names the VLAN" grep -q "$BOUND20" "$WORK/daemon.log"
passed0=$(counter pass_vlan)
udhcpc_run "$LAB-h3" h3
check "a machine on VLAN 11 (not served) gets nothing" test ! -s "$WORK/h3.result"
check "... each of its DISCOVERs passed untouched, counted pass_vlan" \
	test "$(counter pass_vlan)" -ge $((passed0 + 3))

# --- TFTP on a VLAN: the kernel answers ARP and takes the RRQ, XDP/tc send the blocks -----------
ip -n "$LAB-h1" addr replace 198.18.10.50/24 dev eth0
if timeout 30 ip netns exec "$LAB-h1" atftp -g -r payload -l "$WORK/got" --option "blksize 1468" \
	198.18.10.1 >"$WORK/atftp.log" 2>&1 && [ "$(sha "$WORK/got")" = "$(sha "$FILE")" ]; then
	ok "a TFTP download on VLAN 10 is the file, byte for byte"
else
	not_ok "a TFTP download on VLAN 10 is the file" "$(tail -3 "$WORK/atftp.log")"
fi
check "... tc untagged what was for 198.18.10.1 and tagged what left from it" \
	test "$(counter vlan_tc_popped)" -gt 0 -a "$(counter vlan_tc_pushed)" -gt 0
check "... and the blocks went out (tftp_data_xdp + tftp_data_tc > 200)" \
	test $(($(counter tftp_data_xdp) + $(counter tftp_data_tc))) -gt 200
TFTP10="event=tftp_done .*ip=198.18.10.50 iface=$IF_SRV.10 "
wait_until said "$WORK/daemon.log" "$TFTP10" "$DAEMON_PID"
check "... its events name the VLAN: iface $IF_SRV.10" grep -q "$TFTP10" "$WORK/daemon.log"

# --- HTTP on a VLAN's address: its URLs, and configs only over the machine's own VLAN ---------
ip -n "$LAB-h2" addr replace 198.18.20.50/24 dev eth0
ip -n "$LAB-h4" addr replace 198.18.0.60/24 dev eth0
# get NS URL -> the status code; the body in $WORK/body
get() { ip netns exec "$1" curl -s -m 10 -o "$WORK/body" -w '%{http_code}' "$2"; }
Q='arch=x86_64&platform=pcbios'
code=$(get "$LAB-h1" "http://198.18.10.1:8080/boot.ipxe?mac=52:54:00:f1:00:01&$Q")
if [ "$code" = 200 ] && grep -q "kernel http://198.18.10.1:8080/assets/" "$WORK/body" &&
	grep -q "talos.config=http://198.18.10.1:8080/talos/config" "$WORK/body" &&
	! grep -q "198.18.0.1" "$WORK/body"; then
	ok "VLAN 10's machine gets a script whose URLs name 198.18.10.1"
else
	not_ok "VLAN 10's machine gets a script whose URLs name 198.18.10.1" "$code" "$(cat "$WORK/body")"
fi
code=$(get "$LAB-h2" "http://198.18.20.1:8080/boot.ipxe")
check "VLAN 20's bare request chains to 198.18.20.1" 	grep -q "chain http://198.18.20.1:8080/boot.ipxe?mac=" "$WORK/body"
code=$(get "$LAB-h4" "http://198.18.0.1:8080/boot.ipxe?mac=52:54:00:f1:00:04&$Q")
check "the untagged machine's script still names 198.18.0.1" 	grep -q "talos.config=http://198.18.0.1:8080/talos/config" "$WORK/body"
code=$(get "$LAB-h1" "http://198.18.10.1:8080/talos/config?mac=52:54:00:f1:00:01")
check "VLAN 10's machine gets its config from 198.18.10.1" 	test "$code" = 200 -a "$(cat "$WORK/body")" = "version: v1alpha1 # machine 01"
code=$(get "$LAB-h2" "http://198.18.20.1:8080/talos/config?mac=52:54:00:f1:00:02")
check "VLAN 20's machine gets its config from 198.18.20.1" 	test "$code" = 200 -a "$(cat "$WORK/body")" = "version: v1alpha1 # machine 02"
code=$(get "$LAB-h1" "http://198.18.10.1:8080/talos/config?mac=52:54:00:f1:00:02")
check "VLAN 10's machine asking for VLAN 20's config: 403" test "$code" = 403
check "HTTP events name the VLAN: iface $IF_SRV.10 and $IF_SRV.20" sh -c \
	"grep -q 'event=config .*ip=198.18.10.50 iface=$IF_SRV.10 ' '$WORK/daemon.log' &&
	 grep -q 'event=script .*ip=198.18.10.50 iface=$IF_SRV.10 ' '$WORK/daemon.log' &&
	 grep -q 'event=config .*ip=198.18.20.50 iface=$IF_SRV.20 ' '$WORK/daemon.log'"
# A machine of VLAN 10 that takes the address of VLAN 20's machine: the kernel would answer it
# from 198.18.10.1, tagged for VLAN 10 (tc tags by source address), so only the network the
# request came in on tells it apart. The trunk forgets h2's MAC, so it asks VLAN 10 for it.
ip -n "$LAB-h1" addr flush dev eth0
ip -n "$LAB-h1" addr add 198.18.20.50/16 dev eth0
in_srv ip neigh flush dev "$IF_SRV" to 198.18.20.50
code=$(get "$LAB-h1" "http://198.18.10.1:8080/talos/config?mac=52:54:00:f1:00:02")
check "... and with VLAN 20's machine's address, over VLAN 10: 403" test "$code" = 403
check "... counted: refused_other_vlan in /metrics" sh -c \
	"ip netns exec $LAB-h4 curl -s http://198.18.0.1:8080/metrics | grep -q 'kind=\"refused_other_vlan\"} [1-9]'"
check "... and logged" grep -q "another network's address (VLAN)" "$WORK/daemon.log"
code=$(in_srv curl -s -m 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/metrics)
check "an address that is neither the listener's nor a VLAN's gets no answer" test "$code" = 000
ip -n "$LAB-h1" addr flush dev eth0

# --- stopping gives the trunk back ------------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
check "after serve stops, the VLAN addresses are off the trunk" in_srv sh -c \
	"! ip -4 addr show dev $IF_SRV | grep -q 198.18.10.1"
check "... and tc_vlan_out is off its egress" in_srv sh -c \
	"! tc filter show dev $IF_SRV egress | grep -q tc_vlan_out"

# --- a VLAN pool's bindings outlive the daemon ------------------------------------------------
if start_daemon "${SERVE[@]}"; then ok "xpxe serves the trunk again"; else
	not_ok "xpxe serves the trunk again" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
check "... with VLAN 10's binding read back from its file" \
	grep -q "VLAN 10: a pool of 10 address(es), 1 binding(s) from $WORK/state/trunk.leases.vlan10" "$WORK/daemon.log"
udhcpc_run "$LAB-h6" h6
check "... so h6 gets 198.18.10.100 again, answered in XDP (dhcp_to_daemon 0)" \
	test "$(result_field h6 ip)/$(counter dhcp_to_daemon)" = 198.18.10.100/0
