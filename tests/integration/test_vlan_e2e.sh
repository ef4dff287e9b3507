#!/usr/bin/env bash
# VLAN trunks end to end (issue 22): two QEMU machines, each on an access port of its own
# VLAN, boot side by side over one trunk to their own Talos configs:
#   BIOS  VLAN 10, a reservation: SeaBIOS + iPXE ROM -> DHCP (XDP, tagged) -> script and
#         kernel over HTTP from 198.18.10.1 -> talos.config= from 198.18.10.1
#   UEFI  VLAN 20, no address reserved: OVMF's PXE -> DHCP from VLAN 20's pool (the daemon's
#         slow path) -> snponly.efi over TFTP -> iPXE -> HTTP from 198.18.20.1 -> config
# The lab's kernel has no 802.1Q: each tap is made an access port by the lab's tc programs
# (bpf/lab_vlan.h), as test_vlan.sh does for its hosts.
LAB=tvlane
source "$(dirname "$0")/lib.sh"
require_root
export LAB # for scripts/qemu.sh

GUEST=$ROOT/build/guest
for vid in 10 20; do
	[ -f "$BUILD/lab_vlan$vid.bpf.o" ] || { not_ok "$BUILD/lab_vlan$vid.bpf.o is missing: run make"; exit 1; }
done
if "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1; then
	ok "the Talos-like guest is built"
else
	not_ok "the Talos-like guest is built" "$(tail -5 "$WORK/build.log")"
	exit 1
fi
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up" "$(tail -5 "$WORK/lab.log")"; exit 1; }

# tap_access TAP VID: what the machine on TAP sends gets VID's tag, what goes to it loses it.
tap_access() {
	in_cli tc qdisc replace dev "$1" clsact &&
		in_cli tc filter replace dev "$1" ingress bpf da obj "$BUILD/lab_vlan$2.bpf.o" sec tc &&
		in_cli tc filter replace dev "$1" egress bpf da obj "$BUILD/lab_vlan$2.bpf.o" sec classifier
}
if tap_access "$LAB-t0" 10 && tap_access "$LAB-t1" 20; then
	ok "access ports: tap t0 on VLAN 10, tap t1 on VLAN 20"
else
	not_ok "access ports on the taps"
	exit 1
fi
# Tags in the frame at both ends of the trunk (README, VLANs: veth's tx-vlan-offload).
in_cli ethtool -K "$IF_CLI" txvlan off >/dev/null
in_srv ethtool -K "$IF_SRV" txvlan off >/dev/null

mkdir -p "$WORK/talos" "$WORK/state"
talos_doc() { # NAME -> a machine config naming its host and address through the template
	printf 'version: v1alpha1\nmachine:\n  type: worker\n  token: %s\n  network:\n    hostname: {{hostname}}\n# for {{mac}} at {{ip}}\n' \
		"$(echo "$1" | sha256sum | cut -c1-16)"
}
talos_doc m1 >"$WORK/talos/52-54-00-e3-00-01.yaml"
talos_doc m2 >"$WORK/talos/52-54-00-e3-00-02.yaml"
talos_doc default >"$WORK/talos/default.yaml"
expected_sha() { # MAC-SUFFIX HOSTNAME IP
	sed -e "s/{{hostname}}/$2/" -e "s/{{mac}}/52:54:00:e3:00:$1/" -e "s/{{ip}}/$3/" \
		"$WORK/talos/52-54-00-e3-00-$1.yaml" | sha256sum | cut -d' ' -f1
}

cat >"$WORK/xpxe.yaml" <<YAML
# a trunk: its untagged network, VLAN 10 (reservations) and VLAN 20 (a pool)
interfaces: [$IF_SRV]
mode: full
dhcp:
  leases: $WORK/state/trunk.leases
state_dir: $WORK/state
vlans:
  $IF_SRV:
    - 10=198.18.10.1/24
    - 20=198.18.20.1/24,pool=198.18.20.100-198.18.20.109
$(guest_profile_yaml)
machines:
  - {mac: 52:54:00:e3:00:01, hostname: vlan10-bios, ip: 198.18.10.51}
  - {mac: 52:54:00:e3:00:02, hostname: vlan20-uefi}
YAML
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves the trunk with VLANs 10 and 20"; else
	not_ok "xpxe serves the trunk with VLANs 10 and 20" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi

# boot NAME MAC-SUFFIX TAP TIMEOUT QEMU-ARGS... (test_e2e.sh's): in the background only.
boot() {
	local name=$1 mac=52:54:00:e3:00:$2 tap=$LAB-t$3 timeout=$4
	shift 4
	exec "$ROOT/scripts/qemu.sh" --mac "$mac" --tap "$tap" --timeout "$timeout" \
		--log "$WORK/$name.serial" --serial "SN-$name" "$@" >"$WORK/$name.qemu" 2>&1
}
t0=$(date +%s)
boot bios 01 0 300 --bios &
pbios=$!
at_exit kill $pbios
boot uefi 02 1 300 --uefi --no-rom &
puefi=$!
at_exit kill $puefi
wait $pbios $puefi
echo "# two machines on two VLANs, side by side, in $(($(date +%s) - t0)) s"

# guest_ok NAME EXPECTED-SHA: the guest fetched exactly that document and its checks passed
guest_ok() {
	local log=$WORK/$1.serial got
	got=$(sed -n 's/.*XPXE-GUEST: sha256=\([0-9a-f]*\).*/\1/p' "$log" | tail -1)
	[ "$got" = "$2" ] && grep -q "XPXE-GUEST: check talos.platform=metal ok" "$log" &&
		grep -q "XPXE-GUEST: done" "$log" && return 0
	echo "expected sha256 $2, got '$got'"
	cat "$WORK/$1.qemu"
	grep -a "XPXE-GUEST\|xpxe:\|BdsDxe:" "$log" | tail -8
	return 1
}
report() { # DESCRIPTION NAME EXPECTED-SHA
	local out
	if out=$(guest_ok "$2" "$3"); then ok "$1"; else
		not_ok "$1" "${out//$'\n'/ | }" "$(tail -c 600 "$WORK/$2.serial" | tr -d '\r' | tr '\n' '|')"
	fi
}

report "BIOS machine on VLAN 10 boots to its own config (reserved 198.18.10.51)" \
	bios "$(expected_sha 01 vlan10-bios 198.18.10.51)"
check "... its talos.config= URL named VLAN 10's address" \
	grep -q "XPXE-GUEST: url=http://198.18.10.1:8080/talos/config?mac=52:54:00:e3:00:01" "$WORK/bios.serial"
report "UEFI machine on VLAN 20 boots to its own config (198.18.20.100 from VLAN 20's pool)" \
	uefi "$(expected_sha 02 vlan20-uefi 198.18.20.100)"
check "... its talos.config= URL named VLAN 20's address" \
	grep -q "XPXE-GUEST: url=http://198.18.20.1:8080/talos/config?mac=52:54:00:e3:00:02" "$WORK/uefi.serial"
check "... snponly.efi came over TFTP on VLAN 20" \
	grep -q "event=tftp_done .*ip=198.18.20.100 iface=$IF_SRV.20 .*snponly.efi" "$WORK/daemon.log"
check "... its binding is in VLAN 20's file" grep -q "52:54:00:e3:00:02.*198.18.20.100" \
	"$WORK/state/trunk.leases.vlan20"
check "both configs went out, each on its own VLAN (events name IFACE.VID)" sh -c \
	"grep -q 'event=config mac=52:54:00:e3:00:01 ip=198.18.10.51 iface=$IF_SRV.10 ' '$WORK/daemon.log' &&
	 grep -q 'event=config mac=52:54:00:e3:00:02 ip=198.18.20.100 iface=$IF_SRV.20 ' '$WORK/daemon.log'"
check "no config was refused" test "$(grep -c 'event=config_refused' "$WORK/daemon.log")" -eq 0
