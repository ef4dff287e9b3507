#!/usr/bin/env bash
# `make demo`: the lab comes up, xpxe serves it as the DHCP server of the
# provisioning network, and a QEMU machine (SeaBIOS + iPXE ROM, software
# emulation) PXE-boots through it to its Talos config, its serial console on
# screen: DHCP from XDP, the iPXE script, kernel and initramfs over HTTP, and the
# Talos-like guest fetching and checking its machine config. Then the digest it
# printed is compared with the file on the server, `xpxe status` and
# `xpxe machines` show what happened, and everything goes.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LAB=${LAB:-xpxedemo}
eval "$("$root/scripts/lab.sh" env)"
work=$(mktemp -d /tmp/xpxe-demo.XXXXXX)
export XPXE_SOCKET=$work/xpxe.sock
xpxe=$root/xpxe
guest=$root/build/guest
mac=52:54:00:de:00:01
daemon=

finish() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	"$root/scripts/lab.sh" down
	rm -rf "$work"
	echo "== lab removed"
}
trap finish EXIT

step() { printf '\n== %s\n' "$*"; }

step "the Talos-like guest: Debian's cloud kernel + a busybox initramfs (scripts/guest.sh)"
"$root/scripts/guest.sh" build "$guest"

step "lab up: namespaces $NS_SRV and $NS_CLI, veth $IF_SRV <-> $IF_CLI, bridge $IF_BR, taps"
"$root/scripts/lab.sh" up

mkdir -p "$work/talos"
cat >"$work/talos/${mac//:/-}.yaml" <<'YAML'
version: v1alpha1
machine:
  type: controlplane
  network:
    hostname: {{hostname}}
  install:
    disk: {{install_disk}}
cluster:
  controlPlane:
    endpoint: https://198.18.0.10:6443
YAML
cat >"$work/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp:
  pool: 198.18.0.100-198.18.0.199
  router: $SRV_IP
  leases: $work/leases
state_dir: $work/state
assets:
  vmlinuz: $guest/vmlinuz
  initramfs: $guest/initramfs.img
profiles:
  default:
    kernel: vmlinuz
    initrd: initramfs
    cmdline: console=ttyS0
    talos_config: $work/talos
machines:
  - mac: $mac
    hostname: demo-cp-1
    install_disk: /dev/vda
YAML

step "xpxe serve -c xpxe.yaml (in $NS_SRV; network namespace only, so its pins outlive it)"
nsenter --net="/run/netns/$NS_SRV" "$xpxe" serve -c "$work/xpxe.yaml" &
daemon=$!
for _ in $(seq 50); do "$xpxe" status >/dev/null 2>&1 && break; sleep 0.1; done

step "xpxe machines"
"$xpxe" machines

step "QEMU machine $mac PXE-boots (SeaBIOS + iPXE ROM, -accel tcg); its serial console:"
"$root/scripts/qemu.sh" --bios --mac "$mac" --tap "$LAB-t0" --timeout 180 \
	--uuid 5ec0f1e2-0000-4000-8000-000000000001 --serial SN-DEMO-1 \
	--log "$work/serial.log" --console

step "the digest the machine printed, against the document xpxe served for it"
got=$(sed -n 's/.*XPXE-GUEST: sha256=\([0-9a-f]*\).*/\1/p' "$work/serial.log" | tail -1)
want=$(sed -e 's/{{hostname}}/demo-cp-1/' -e 's|{{install_disk}}|/dev/vda|' \
	"$work/talos/${mac//:/-}.yaml" | sha256sum | cut -d' ' -f1)
echo "machine: $got"
echo "server:  $want"
[ -n "$got" ] && [ "$got" = "$want" ] && echo "MATCH" || { echo "MISMATCH"; exit 1; }

step "xpxe machines: installed, so its next PXE boot goes to its disk (boot-once)"
"$xpxe" machines

step "xpxe status: every frame's outcome, counted in the programs"
"$xpxe" status

step "xpxe detach -i $IF_SRV"
"$xpxe" detach -i "$IF_SRV"
wait "$daemon" || true
daemon=
