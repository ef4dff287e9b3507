#!/usr/bin/env bash
# A MAC that moves between networks of a trunk (issue 22): bound on VLAN 10, it asks on
# VLAN 20, then untagged. XDP answers a binding only on its own network (dhcp_clients holds
# the binding's network): elsewhere the request is a first contact for the daemon (counted
# dhcp_other_net), which gives it an address of that network's pool. A reserved machine that
# moved away and comes back gets its reservation again. The access ports are the lab's tc
# programs (bpf/lab_vlan.h); moving a machine is swapping its port's program.
LAB=tvmove
source "$(dirname "$0")/lib.sh"
require_root

for vid in 10 20; do
	[ -f "$BUILD/lab_vlan$vid.bpf.o" ] || { not_ok "$BUILD/lab_vlan$vid.bpf.o is missing: run make"; exit 1; }
done
lab up || { not_ok "lab up"; exit 1; }

# port_vlan N VID: host N's switch port an access port of VID (0: untagged).
port_vlan() {
	local port=$LAB-h$1
	in_cli tc qdisc del dev "$port" clsact 2>/dev/null
	[ "$2" = 0 ] && return 0
	in_cli tc qdisc replace dev "$port" clsact &&
		in_cli tc filter replace dev "$port" ingress bpf da obj "$BUILD/lab_vlan$2.bpf.o" sec tc &&
		in_cli tc filter replace dev "$port" egress bpf da obj "$BUILD/lab_vlan$2.bpf.o" \
			sec classifier
}
if lab host 1 52:54:00:f3:00:01 && port_vlan 1 10 && lab host 2 52:54:00:f3:00:02 &&
	port_vlan 2 10; then
	ok "access ports: h1 (a pool machine) and h2 (reserved on VLAN 10) on VLAN 10"
else
	not_ok "access ports"
	exit 1
fi
in_cli ethtool -K "$IF_CLI" txvlan off >/dev/null
in_srv ethtool -K "$IF_SRV" txvlan off >/dev/null

SERVE=(-i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109
	--state-dir "$WORK/state" --leases "$WORK/state/trunk.leases"
	--vlan "10=198.18.10.1/24,pool=198.18.10.100-198.18.10.109"
	--vlan "20=198.18.20.1/24,pool=198.18.20.100-198.18.20.109"
	--reserve 52:54:00:f3:00:02=198.18.10.50)
if start_daemon "${SERVE[@]}"; then ok "xpxe serves $IF_SRV with VLANs 10 and 20"; else
	not_ok "xpxe serves $IF_SRV with VLANs 10 and 20" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi

# got NAME IP SERVER: udhcpc of NAME got IP from SERVER.
got() { [ "$(result_field "$1" ip)/$(result_field "$1" server)" = "$2/$3" ]; }
udhcpc_run "$LAB-h1" h1
check "h1 on VLAN 10 gets 198.18.10.100 from VLAN 10's pool" got h1 198.18.10.100 198.18.10.1
udhcpc_run "$LAB-h1" h1
check "... and again, answered in XDP (dhcp_other_net 0)" \
	test "$(result_field h1 ip)/$(counter dhcp_other_net)" = 198.18.10.100/0

port_vlan 1 20
udhcpc_run "$LAB-h1" h1
if got h1 198.18.20.100 198.18.20.1; then
	ok "h1 moved to VLAN 20 gets 198.18.20.100 from VLAN 20's pool, not its VLAN 10 address"
else
	not_ok "h1 moved to VLAN 20 gets VLAN 20's address" "$(cat "$WORK/h1.result" 2>/dev/null)" \
		"$(tail -4 "$WORK/h1.log")"
fi
check "... counted: dhcp_other_net >= 1" test "$(counter dhcp_other_net)" -ge 1
check "... bound in VLAN 20's file" grep -q "52:54:00:f3:00:01.*198.18.20.100" "$WORK/state/trunk.leases.vlan20"
moved=$(counter dhcp_other_net)
udhcpc_run "$LAB-h1" h1
check "... and again on VLAN 20, now answered in XDP (dhcp_other_net unchanged)" \
	test "$(result_field h1 ip)/$(counter dhcp_other_net)" = "198.18.20.100/$moved"

port_vlan 1 0
udhcpc_run "$LAB-h1" h1
if got h1 198.18.0.100 198.18.0.1; then
	ok "h1 moved to the untagged network gets 198.18.0.100 from the untagged pool"
else
	not_ok "h1 moved to the untagged network gets the untagged pool's address" \
		"$(cat "$WORK/h1.result" 2>/dev/null)" "$(tail -4 "$WORK/h1.log")"
fi
port_vlan 1 10
udhcpc_run "$LAB-h1" h1
check "h1 back on VLAN 10 gets its VLAN 10 binding 198.18.10.100 again" got h1 198.18.10.100 198.18.10.1

udhcpc_run "$LAB-h2" h2
check "h2 on VLAN 10 gets its reservation 198.18.10.50" got h2 198.18.10.50 198.18.10.1
port_vlan 2 20
udhcpc_run "$LAB-h2" h2
check "h2 moved to VLAN 20 gets an address of VLAN 20's pool, not its VLAN 10 reservation" \
	got h2 198.18.20.101 198.18.20.1
port_vlan 2 10
udhcpc_run "$LAB-h2" h2
check "h2 back on VLAN 10 gets its reservation 198.18.10.50 again" got h2 198.18.10.50 198.18.10.1
before=$(counter dhcp_to_daemon)
udhcpc_run "$LAB-h2" h2
check "... and then from XDP (dhcp_to_daemon unchanged)" \
	test "$(result_field h2 ip)/$(counter dhcp_to_daemon)" = "198.18.10.50/$before"
