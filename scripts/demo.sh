#!/usr/bin/env bash
# `make demo`: the lab comes up, xpxe serves its server side, a client pings
# across while `xpxe status` shows the program counting, then everything goes.
# A client fetches an iPXE binary over TFTP, every block built in the kernel.
# (The QEMU machine that PXE-boots through xpxe joins once DHCP lands.)
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

step "xpxe serve -i $IF_SRV (in $NS_SRV, network namespace only so its pins stay visible)"
nsenter --net="/run/netns/$NS_SRV" "$xpxe" serve -i "$IF_SRV" &
daemon=$!
for _ in $(seq 50); do "$xpxe" status >/dev/null 2>&1 && break; sleep 0.1; done

step "xpxe status"
"$xpxe" status

step "a client in $NS_CLI pings $SRV_IP across the veth"
ip netns exec "$NS_CLI" ping -c 5 -i 0.2 "$SRV_IP"

step "xpxe assets: what is loaded in maps for TFTP"
"$xpxe" assets

step "a client in $NS_CLI fetches undionly.kpxe over TFTP (curl, blksize 1468)"
ip netns exec "$NS_CLI" curl -sS --tftp-blksize 1468 -o "$work/undionly.kpxe" \
	"tftp://$SRV_IP/undionly.kpxe"
sha256sum "$work/undionly.kpxe" /usr/lib/ipxe/undionly.kpxe

step "xpxe status: the program counted the frames and says which path built the blocks"
"$xpxe" status

step "xpxe detach -i $IF_SRV"
"$xpxe" detach -i "$IF_SRV"
wait "$daemon" || true
daemon=
