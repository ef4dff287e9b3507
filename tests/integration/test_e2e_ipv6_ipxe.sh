#!/usr/bin/env bash
# End to end: iPXE over IPv6 all the way, and one machine over both families, against one
# dual-stack xpxe in full mode (--pool and --pool6; the machine reserved in both).
# The machine is OVMF with QEMU's iPXE ROM (efi-virtio.rom, built with IPv6): iPXE itself
# takes xpxe's RA (M=1), does DHCPv6 (user class iPXE) for its address and the script's URL
# http://[ADDR]:8080/boot.ipxe, fetches the Talos-like guest's kernel and initramfs over
# HTTP on IPv6, and the guest takes a DHCPv6 address (ISC dhclient) and fetches
# talos.config=http://[ADDR]:8080/... over IPv6: its own config, bound to its IPv6 address.
# The same MAC boots in turn, its tap filtered to one family by tc (drop IPv4 and ARP, or
# IPv6) as if it stood on a single-family segment:
#   v6     over IPv6 only: its config; marked installed (boot-once)
#   v4     over IPv4 only: the same machine, already installed: the local-disk script
#   v4b    `xpxe machines rearm`, then over IPv4 only: its config over IPv4; installed again
#   v6b    over IPv6 only: the local-disk script again
# One machine has one boot-once mark, whatever the family it fetched its config over.
# Beside the first boot, a SeaBIOS machine with QEMU's BIOS iPXE ROM (pxe-virtio.rom, IPv6
# too), reserved over IPv6 only, on an IPv6-only tap: its config over IPv6 as well.
# Software emulation (tcg).
LAB=e2e6i
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e6.sh"
require_root

SRV4=198.18.0.1
SRV6=fd00:198:18:9::1
MAC=52:54:00:e6:00:21
IP4=198.18.0.61
IP6=fd00:198:18:9::61
TAP=$LAB-t0
MAC_B=52:54:00:e6:00:22
IP6_B=fd00:198:18:9::62
e6_require
e6_guest
e6_lab_up "$SRV6"

mkdir -p "$WORK/talos"
for m in "$MAC" "$MAC_B"; do
	printf 'version: v1alpha1\nmachine:\n  type: worker\n  network:\n    hostname: {{hostname}}\n# for {{mac}} at {{ip}}\n' \
		>"$WORK/talos/${m//:/-}.yaml"
done
# The document the machine must get, {{ip}} filled with IP
expected_doc() { # IP [MAC HOSTNAME]
	local mac=${2:-$MAC}
	sed -e "s/{{hostname}}/${3:-dual-1}/" -e "s/{{mac}}/$mac/" -e "s/{{ip}}/$1/" "$WORK/talos/${mac//:/-}.yaml"
}
expected_sha() { expected_doc "$@" | sha256sum | cut -d' ' -f1; }
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp:
  pool: 198.18.0.100-198.18.0.199
  pool6: fd00:198:18:9::100-fd00:198:18:9::1ff
  router: $SRV4
  leases: $WORK/leases
state_dir: $WORK/state
$(guest_profile_yaml)
machines:
  - {mac: $MAC, hostname: dual-1, ip: $IP4, ip6: $IP6}
  - {mac: $MAC_B, hostname: bios6, ip6: $IP6_B}
YAML
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves the lab dual-stack in full mode"; else
	not_ok "xpxe serves the lab dual-stack in full mode" "$(tail -5 "$WORK/daemon.log")"; exit 1; fi

# only FAMILY [TAP]: the machine's tap passes only that family from the machine (4: IPv6
# dropped; 6: IPv4 and ARP dropped: bpf/lab_family.h), so xpxe never hears its other family.
only() {
	local tap=${2:-$TAP}
	in_cli tc qdisc del dev "$tap" clsact 2>/dev/null
	in_cli tc qdisc add dev "$tap" clsact &&
		in_cli tc filter add dev "$tap" ingress bpf da obj "$BUILD/lab_only$1.bpf.o" sec tc
}

# boot NAME: the machine, once, in the background ($!; e2e6.sh)
boot() { e6_ipxe "$1" "$MAC" "$TAP" 300; }
sha_of() { sed -n 's/.*XPXE-GUEST: sha256=\([0-9a-f]*\).*/\1/p' "$WORK/$1.serial" | tail -1; }
installed() {
	"$XPXE" machines --json | jq -e ".machines[] | select(.hostname == \"dual-1\") | .installed == $1" >/dev/null
}
# event KIND FAMILY-ADDRESS [DETAIL]: xpxe logged that event for the machine at that address
event() { grep -a "event=$1 mac=$MAC ip=$2 .*${3:-}" "$WORK/daemon.log" | tail -1; }
# to_disk NAME: the installed machine's boot took the local-disk script (then OVMF would try
# its other boot options for minutes: the machine is stopped there)
to_disk() {
	WAIT_S=300 wait_until said "$WORK/$1.serial" "dual-1 is installed: booting from its disk" "$2"
	kill "$2" 2>/dev/null
	wait "$2" 2>/dev/null
	grep -a -q "dual-1 is installed: booting from its disk" "$WORK/$1.serial"
}
# config_boot NAME FAMILY-ADDRESS: the guest got its document at that address, whole
config_boot() {
	local want
	want=$(expected_sha "$IP4")
	[ "$(sha_of "$1")" = "$want" ] && grep -a -q "XPXE-GUEST: done" "$WORK/$1.serial" &&
		grep -a -q "XPXE-GUEST: dhcp ip=$2 " "$WORK/$1.serial" && [ -n "$(event config "$2")" ]
}
srv6() { "$XPXE" status --json | jq -r ".interfaces[0].dhcp6.server.$1"; }

# --- v6: iPXE over IPv6 all the way to the config ---------------------------------------------
only 6 || { not_ok "lab_family (tc) on $TAP"; exit 1; }
only 6 "$LAB-t1" || { not_ok "lab_family (tc) on $LAB-t1"; exit 1; }
e6_machine bios6 "$MAC_B" "$LAB-t1" 300 --bios
BIOS6=$!
boot v6
wait $! $BIOS6
if config_boot v6 "$IP6"; then
	ok "over IPv6 only: iPXE's DHCPv6, script, kernel and initramfs over IPv6, the guest's DHCPv6 and its own config over IPv6 ($(took v6))"
else
	not_ok "over IPv6 only: the machine's config over IPv6" "$(cat "$WORK/v6.qemu")" "$(serial_end v6)" \
		"sha256 $(sha_of v6), expected $(expected_sha "$IP4")"
fi
# tcpdump names the user class option but does not decode it: its bytes name iPXE.
solicits() { tcpdump -nr "$WORK/v6.pcap" -w - "ether src $MAC and udp dst port 547 and ip6[48] == 1" 2>/dev/null; }
check "... iPXE itself sent a Solicit with user class iPXE (option 15)" \
	env LC_ALL=C grep -a -q -P "\\x00\\x0f\\x00\\x06\\x00\\x04iPXE" <(solicits)
check "... its script over HTTP on IPv6 from $IP6 ($(event script "$IP6"))" test -n "$(event script "$IP6")"
check "... its kernel and initramfs too" test -n "$(event asset "$IP6" vmlinuz)" -a -n "$(event asset "$IP6" initramfs)"
check "... the guest's URL named [$SRV6]" \
	grep -a -q "XPXE-GUEST: url=http://\[$SRV6\]:8080/talos/config?mac=$MAC" "$WORK/v6.serial"
# {{ip}} is the IPv4 address xpxe gave the machine, whatever the family (README)
check "... {{ip}} in its document is its IPv4 reservation, not $IP6" \
	test "$(sha_of v6)" = "$(expected_sha "$IP4")" -a "$(sha_of v6)" != "$(expected_sha "$IP6")"
# Reserved over IPv4 too, the machine would be answered in XDP: its DHCP events say whether.
dhcp4_events() { grep -a -E "event=dhcp_[a-z0-9_]+ mac=$MAC " "$WORK/daemon.log"; }
check "... nothing over IPv4 reached xpxe: no DHCP event for $MAC" test -z "$(dhcp4_events)"
check "... the DHCPv6 server bound it twice, iPXE and the guest, as the BIOS machine (bound $(srv6 bound))" \
	test "$(srv6 bound)" -ge 4
check "... through the daemon (pass_dhcp6_to_daemon $(counter pass_dhcp6_to_daemon))" \
	test "$(counter pass_dhcp6_to_daemon)" -ge 8
check "... and it is marked installed (boot-once)" wait_until installed true

if [ "$(sha_of bios6)" = "$(expected_sha '' "$MAC_B" bios6)" ] &&
	grep -a -q "XPXE-GUEST: dhcp ip=$IP6_B " "$WORK/bios6.serial"; then
	ok "SeaBIOS's iPXE ROM over IPv6 only: its own config over IPv6 at $IP6_B ($(took bios6))"
else
	not_ok "SeaBIOS's iPXE ROM over IPv6 only: its config" "$(cat "$WORK/bios6.qemu")" "$(serial_end bios6)"
fi
check "... xpxe sent it from its script to its config over IPv6" \
	test -n "$(grep -a "event=script mac=$MAC_B ip=$IP6_B " "$WORK/daemon.log")" \
	-a -n "$(grep -a "event=config mac=$MAC_B ip=$IP6_B " "$WORK/daemon.log")"

# --- v4: the same machine over IPv4 only: the same boot-once mark -----------------------------
only 4 || not_ok "lab_family only4 on $TAP"
boot v4
check "over IPv4 only, the installed machine gets the local-disk script" to_disk v4 $!
check "... its script request came over IPv4 ($(event local_boot_script "$IP4"))" test -n "$(event local_boot_script "$IP4")"
check "... and no config" test -z "$(event config "$IP4")"

check "xpxe machines rearm dual-1" "$XPXE" machines rearm dual-1
boot v4b
wait $!
if config_boot v4b "$IP4"; then
	ok "rearmed, over IPv4 only: its own config over IPv4 ($(took v4b))"
else
	not_ok "rearmed, over IPv4 only: its config over IPv4" "$(cat "$WORK/v4b.qemu")" "$(serial_end v4b)"
fi
check "... the guest's URL named $SRV4" \
	grep -a -q "XPXE-GUEST: url=http://$SRV4:8080/talos/config?mac=$MAC" "$WORK/v4b.serial"
check "... its DHCP over IPv4 shows in the events (what the IPv6 boot's check looks for)" \
	test -n "$(dhcp4_events)"
check "... and it is marked installed again" wait_until installed true

# --- v6 again: installed over IPv4, it boots its disk over IPv6 too ----------------------------
only 6 || not_ok "lab_family only6 on $TAP"
boot v6b
check "over IPv6 only, the machine installed over IPv4 gets the local-disk script" to_disk v6b $!
check "... its script request came over IPv6 ($(event local_boot_script "$IP6"))" test -n "$(event local_boot_script "$IP6")"
check "... and no second config over IPv6" test "$(grep -a -c "event=config mac=$MAC ip=$IP6 " "$WORK/daemon.log")" = 1
