#!/usr/bin/env bash
# End to end: QEMU machines (software emulation) PXE-boot through xpxe in the lab
# all the way to their Talos config, and the Talos-like guest checks what it got:
#   BIOS   SeaBIOS + the NIC's iPXE ROM -> DHCP (XDP) -> script -> kernel/initrd (HTTP)
#   once   the same machine again -> the local-disk script (boot-once)
#   UEFI   OVMF's own PXE -> DHCP (XDP) -> snponly.efi over TFTP (XDP/tc) -> iPXE -> ...
#   TFTP   iPXE fetches kernel and initramfs over tftp:// (profile transport: tftp)
#   proxy  dnsmasq gives the address, xpxe the boot file (OVMF, the 4011 exchange)
#   fleet  three machines at once, each with its own config
# xpxe runs from a config file (-c) for the full-mode part and from quick-start flags
# for the proxy part.
LAB=e2e
source "$(dirname "$0")/lib.sh"
require_root
export LAB # for scripts/qemu.sh

GUEST=$ROOT/build/guest
QEMU=("$ROOT/scripts/qemu.sh")

if "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1; then
	ok "the Talos-like guest is built"
else
	not_ok "the Talos-like guest is built" "$(tail -5 "$WORK/build.log")"
	exit 1
fi
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up" "$(tail -5 "$WORK/lab.log")"; exit 1; }

# --- Talos configs: one per machine, templated, and a default ---------------------------------
mkdir -p "$WORK/talos" "$WORK/state"
talos_doc() { # NAME -> a machine config naming its host through the template
	printf 'version: v1alpha1\nmachine:\n  type: worker\n  token: %s\n  network:\n    hostname: {{hostname}}\n  install:\n    disk: {{install_disk}}\n# for {{mac}} at {{ip}}\n' \
		"$(echo "$1" | sha256sum | cut -c1-16)"
}
for m in 01 03 05 06 07; do talos_doc "m$m" >"$WORK/talos/52-54-00-e2-00-$m.yaml"; done
talos_doc default >"$WORK/talos/default.yaml"

# The document a machine must receive: its file with the template filled as xpxe fills it.
expected_sha() { # MAC-SUFFIX HOSTNAME IP [FILE]
	local file=${4:-$WORK/talos/52-54-00-e2-00-$1.yaml}
	sed -e "s/{{hostname}}/$2/" -e "s|{{install_disk}}|${5-/dev/vda}|" \
		-e "s/{{mac}}/52:54:00:e2:00:$1/" -e "s/{{ip}}/$3/" "$file" | sha256sum | cut -d' ' -f1
}

cat >"$WORK/xpxe.yaml" <<YAML
# the end-to-end test's config: full mode on the lab's server veth
interfaces: [$IF_SRV]
mode: full
dhcp:
  pool: 198.18.0.100-198.18.0.199
  router: 198.18.0.1
  leases: $WORK/leases
state_dir: $WORK/state
assets:
  vmlinuz: $GUEST/vmlinuz
  initramfs: $GUEST/initramfs.img
profiles:
  default:
    kernel: vmlinuz
    initrd: initramfs
    cmdline: console=ttyS0
    talos_config: $WORK/talos
  tftp:
    kernel: vmlinuz
    initrd: initramfs
    cmdline: console=ttyS0
    transport: tftp
    talos_config: $WORK/talos
machines:
  - mac: 52:54:00:e2:00:01
    hostname: bios-1
    install_disk: /dev/vda
    ip: 198.18.0.51
  - mac: 52:54:00:e2:00:03
    hostname: tftp-1
    profile: tftp
    install_disk: /dev/vda
    ip: 198.18.0.53
  - {mac: 52:54:00:e2:00:05, hostname: fleet-5, install_disk: /dev/vda, ip: 198.18.0.55}
  - {mac: 52:54:00:e2:00:06, hostname: fleet-6, install_disk: /dev/vda, ip: 198.18.0.56}
  - {mac: 52:54:00:e2:00:07, hostname: fleet-7, install_disk: /dev/vda, ip: 198.18.0.57}
YAML

if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves the lab from a config file"; else
	not_ok "xpxe serves the lab from a config file"; exit 1; fi

# boot NAME MAC-SUFFIX TAP TIMEOUT QEMU-ARGS...: one machine; its serial log in $WORK/NAME.serial
boot() {
	local name=$1 mac=52:54:00:e2:00:$2 tap=$LAB-t$3 timeout=$4
	shift 4
	"${QEMU[@]}" --mac "$mac" --tap "$tap" --timeout "$timeout" --log "$WORK/$name.serial" \
		--uuid "$(printf '00000000-0000-4000-8000-0000000000%s' "$(echo "$mac" | cut -d: -f6)")" \
		--serial "SN-$name" "$@" >"$WORK/$name.qemu" 2>&1
}

# guest_ok NAME EXPECTED-SHA: the guest fetched exactly that document and its checks passed
guest_ok() {
	local log=$WORK/$1.serial got
	got=$(sed -n 's/.*XPXE-GUEST: sha256=\([0-9a-f]*\).*/\1/p' "$log" | tail -1)
	if [ "$got" = "$2" ] && grep -q "XPXE-GUEST: check talos.platform=metal ok" "$log" &&
		grep -q "XPXE-GUEST: check slab_nomerge ok" "$log" &&
		grep -q "XPXE-GUEST: check pti=on ok" "$log" && grep -q "XPXE-GUEST: done" "$log"; then
		return 0
	fi
	echo "expected sha256 $2, got '$got'"
	grep "XPXE-GUEST\|xpxe:" "$log" | tail -8
	return 1
}

report() { # DESCRIPTION NAME EXPECTED-SHA
	local out
	if out=$(guest_ok "$2" "$3"); then ok "$1"; else
		not_ok "$1" "${out//$'\n'/ | }" "$(tail -c 600 "$WORK/$2.serial" | tr -d '\r' | tr '\n' '|')"
	fi
}

# --- BIOS: SeaBIOS + iPXE ROM, everything over HTTP after DHCP ---------------------------------------
t0=$(date +%s)
boot bios 01 0 150 --bios
report "BIOS machine boots to its own Talos config (hostname templated) in $(($(date +%s) - t0)) s" \
	bios "$(expected_sha 01 bios-1 198.18.0.51)"
check "... its URL carried its MAC" grep -q "XPXE-GUEST: url=http://198.18.0.1:8080/talos/config?mac=52:54:00:e2:00:01" "$WORK/bios.serial"
check "... and it is marked installed (boot-once)" \
	jq -e '.machines[] | select(.hostname == "bios-1") | .installed == true' <<<"$("$XPXE" machines --json)"

# --- boot-once: the second boot goes to the disk ---------------------------------------------------------
boot bios2 01 0 45 --bios
check "the second boot of the installed machine gets the local-disk script" \
	grep -q "bios-1 is installed: booting from its disk" "$WORK/bios2.serial"
check "... and never reaches the installer" bash -c "! grep -q 'XPXE-GUEST: cmdline' '$WORK/bios2.serial'"
check "xpxe machines rearm bios-1" "$XPXE" machines rearm bios-1
check "... clears its boot-once mark" \
	jq -e '.machines[] | select(.hostname == "bios-1") | .installed == false' <<<"$("$XPXE" machines --json)"

# --- UEFI: OVMF's own PXE, snponly.efi over TFTP from the data plane -------------------------------------
# Blocks by every path: XDP, tc (lockstep), AF_XDP and the UDP fallback (windows).
blocks() { "$XPXE" status --json | jq '.interfaces[0].tftp | .blocks_xdp + .blocks_tc + .blocks_af_xdp + .blocks_window_udp'; }
blocks0=$(blocks)
windows0=$("$XPXE" status --json | jq '.interfaces[0].tftp.window.windows')
t0=$(date +%s)
boot uefi 02 1 180 --uefi --no-rom
report "UEFI machine (OVMF PXE, unknown MAC, default profile) boots to default.yaml in $(($(date +%s) - t0)) s" \
	uefi "$(expected_sha 02 '' 198.18.0.100 "$WORK/talos/default.yaml" '')"
blocks1=$(blocks)
windows1=$("$XPXE" status --json | jq '.interfaces[0].tftp.window.windows')
check "... snponly.efi came over TFTP, block by block from the data plane ($blocks0 -> $blocks1 blocks)" \
	test "$((blocks1 - blocks0))" -ge 100
check "... in windows of 4 blocks, as OVMF asks (RFC 7440; $((windows1 - windows0)) windows)" \
	test "$((windows1 - windows0))" -ge 25

# --- pure TFTP: kernel and initramfs over tftp:// ---------------------------------------------------------
t0=$(date +%s)
boot tftp 03 2 180 --bios
report "TFTP profile: kernel and initramfs over tftp:// from the data plane, config in $(($(date +%s) - t0)) s" \
	tftp "$(expected_sha 03 tftp-1 198.18.0.53)"
blocks2=$(blocks)
check "... ~15 MB of blocks went out ($((blocks2 - blocks1)) blocks)" test "$((blocks2 - blocks1))" -ge 9000

# --- a fleet: three machines at once ---------------------------------------------------------------------
t0=$(date +%s)
boot fleet5 05 1 240 --bios &
p5=$!
boot fleet6 06 2 240 --bios &
p6=$!
boot fleet7 07 3 240 --bios &
p7=$!
wait $p5 $p6 $p7
secs=$(($(date +%s) - t0))
report "fleet: fleet-5 gets its own config (3 machines at once, $secs s)" fleet5 "$(expected_sha 05 fleet-5 198.18.0.55)"
report "fleet: fleet-6 gets its own config" fleet6 "$(expected_sha 06 fleet-6 198.18.0.56)"
report "fleet: fleet-7 gets its own config" fleet7 "$(expected_sha 07 fleet-7 198.18.0.57)"

# --- proxy mode: the site's dnsmasq gives the address, xpxe the boot ---------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
in_cli dnsmasq --keep-in-foreground --user=root --port=0 --interface="$IF_BR" --bind-interfaces \
	--dhcp-range=198.18.0.150,198.18.0.199,255.255.255.0,1h --dhcp-leasefile="$WORK/site.leases" \
	--log-facility="$WORK/site.log" &
at_exit kill $!
if start_daemon -i "$IF_SRV" --mode proxy --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initramfs.img" \
	--talos-config "$WORK/talos" --cmdline console=ttyS0 --state-dir "$WORK/state-proxy"; then
	ok "xpxe serves the lab in proxy mode from quick-start flags"
else
	not_ok "xpxe serves the lab in proxy mode from quick-start flags"
fi
t0=$(date +%s)
boot proxy 08 0 180 --uefi --no-rom
report "proxy mode: OVMF gets its address from dnsmasq, snponly.efi via 4011, its config in $(($(date +%s) - t0)) s" \
	proxy "$(sed -e 's/{{hostname}}//' -e 's/{{install_disk}}//' -e 's/{{mac}}/52:54:00:e2:00:08/' \
		-e 's/{{ip}}//' "$WORK/talos/default.yaml" | sha256sum | cut -d' ' -f1)"
check "... its address came from the site's server" grep -q "DHCPACK.*52:54:00:e2:00:08" "$WORK/site.log"
check "... and xpxe answered its boot server request (4011)" test "$(counter dhcp_ack_4011)" -ge 1
