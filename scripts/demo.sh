#!/usr/bin/env bash
# `make demo`: the lab comes up, xpxe serves its server side as the DHCP server
# of the provisioning network, a client host asks for an address the way a UEFI
# PXE ROM does and gets one with its boot file, fetches that boot file over
# TFTP (every block built in the kernel), `xpxe status` shows the programs
# counting, then everything goes.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LAB=${LAB:-xpxedemo}
eval "$("$root/scripts/lab.sh" env)"
work=$(mktemp -d /tmp/xpxe-demo.XXXXXX)
export XPXE_SOCKET=$work/xpxe.sock
xpxe=$root/xpxe
daemon=

finish() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	"$root/scripts/lab.sh" down
	rm -rf "$work"
	echo "== lab removed"
}
trap finish EXIT

step() { printf '\n== %s\n' "$*"; }

step "lab up: namespaces $NS_SRV and $NS_CLI, veth $IF_SRV <-> $IF_CLI, bridge $IF_BR"
"$root/scripts/lab.sh" up

step "xpxe serve -i $IF_SRV --mode full --pool 198.18.0.100-198.18.0.199 (in $NS_SRV)"
nsenter --net="/run/netns/$NS_SRV" "$xpxe" serve -i "$IF_SRV" --mode full \
	--pool 198.18.0.100-198.18.0.199 --router "$SRV_IP" --leases "$work/leases" &
daemon=$!
for _ in $(seq 50); do "$xpxe" status >/dev/null 2>&1 && break; sleep 0.1; done

step "xpxe status"
"$xpxe" status

step "a client host (52:54:00:de:00:01) asks like a UEFI PXE ROM: udhcpc -V PXEClient:Arch:00007:..."
"$root/scripts/lab.sh" host 1 52:54:00:de:00:01
cat >"$work/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] && echo "   bound $ip from $serverid, boot file '$boot_file' on $siaddr, router $router"
exit 0
SCRIPT
chmod +x "$work/udhcpc.sh"
ip netns exec "$LAB-h1" busybox udhcpc -i eth0 -n -q -t 3 -T 1 -s "$work/udhcpc.sh" \
	-V PXEClient:Arch:00007:UNDI:003000 -x 93:0007
step "the same machine again: its binding is in the map now, so XDP alone answers"
ip netns exec "$LAB-h1" busybox udhcpc -i eth0 -n -q -t 3 -T 1 -s "$work/udhcpc.sh" \
	-V PXEClient:Arch:00007:UNDI:003000 -x 93:0007

step "xpxe leases"
"$xpxe" leases

step "xpxe assets: what is loaded in maps for TFTP"
"$xpxe" assets

step "the client fetches its boot file, snponly.efi, over TFTP (curl, blksize 1468)"
ip -n "$LAB-h1" addr replace 198.18.0.100/24 dev eth0
ip netns exec "$LAB-h1" curl -sS --tftp-blksize 1468 -o "$work/snponly.efi" \
	"tftp://$SRV_IP/snponly.efi"
sha256sum "$work/snponly.efi" /usr/lib/ipxe/snponly.efi

step "xpxe status: every frame's outcome, counted in the programs, and which path built the blocks"
"$xpxe" status

step "xpxe detach -i $IF_SRV"
"$xpxe" detach -i "$IF_SRV"
wait "$daemon" || true
daemon=
