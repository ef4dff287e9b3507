#!/usr/bin/env bash
# Two responders on two segments (two labs), one inventory in etcd: a machine added on one is
# known to the other; a QEMU machine installs through the first (it takes its Talos config:
# boot-once marks it, in etcd), then PXE-boots on the second segment and is sent to its disk
# there. A re-arm on the second reaches the first. The watch brings each change over.
LAB=stseg
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/etcd.sh"
require_root

LAB2=${LAB}b
lab2() { LAB=$LAB2 "$ROOT/scripts/lab.sh" "$@"; }
GUEST=$ROOT/build/guest
MAC=52:54:00:e1:5e:01

if "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1; then
	ok "the Talos-like guest is built"
else
	not_ok "the Talos-like guest is built" "$(tail -5 "$WORK/build.log")"
	exit 1
fi
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
at_exit "LAB=$LAB2 $ROOT/scripts/lab.sh down"
lab2 up >>"$WORK/lab.log" 2>&1 || { not_ok "second lab up"; exit 1; }
etcd_net_up && etcd_cluster 1 && etcd_attach "$NS_SRV" "$ETCD_NET.1" &&
	etcd_attach "$LAB2-srv" "$ETCD_NET.2" || { not_ok "etcd's network"; exit 1; }
etcd_start 1
if etcd_wait_healthy; then ok "etcd runs between the two segments"; else
	not_ok "etcd runs between the two segments" "$(tail -3 "$WORK/etcd/m1.log")"; exit 1; fi

mkdir -p "$WORK/talos"
printf 'version: v1alpha1\nmachine:\n  type: worker\n  network:\n    hostname: {{hostname}}\n  install:\n    disk: {{install_disk}}\n' \
	>"$WORK/talos/default.yaml"
config() { # NAME IFACE POOL
	cat <<YAML
interfaces: [$2]
mode: full
dhcp: {pool: $3, router: 198.18.0.1, leases: $WORK/$1.leases}
state_dir: $WORK/$1
store: {url: "$(etcd_url)", name: responder-$1}
$(guest_profile_yaml)
YAML
}
# The labs use one address plan: the segments' pools do not overlap (one store, one plan).
config a "$IF_SRV" 198.18.0.100-198.18.0.149 >"$WORK/a.yaml"
config b "$LAB2-s0" 198.18.0.150-198.18.0.199 >"$WORK/b.yaml"
B=("$XPXE" --socket "$WORK/b.sock")
if start_daemon -c "$WORK/a.yaml" &&
	start_responder "$LAB2-srv" "$WORK/b.sock" "$WORK/b.log" -c "$WORK/b.yaml"; then
	ok "a responder on each segment, both with store: etcd"
else
	not_ok "a responder on each segment, both with store: etcd" "$(tail -5 "$WORK/b.log")"
	exit 1
fi
check "each names itself as the config says (responder-a, responder-b), both alive" \
	wait_for 30 'test "$("${B[@]}" status --json | jq -c "[.store.name, (.store.responders | sort)]")" = "[\"responder-b\",[\"responder-a\",\"responder-b\"]]"'

check "a machine added on the first segment's responder" \
	"$XPXE" machines add --mac "$MAC" --hostname seg-1 --ip 198.18.0.61 --install-disk /dev/vda
check "... is known on the second's (its watch)" wait_for 30 '"${B[@]}" machines show seg-1'
check "... with the same facts" \
	test "$("${B[@]}" machines show seg-1 --json | jq -r '.machine | "\(.reserved_ip) \(.install_disk) \(.source)"')" = "198.18.0.61 /dev/vda added"
check "... and kept in the second's copy (STATE_DIR/machines.yaml)" grep -q "$MAC" "$WORK/b/machines.yaml"
check "adding it again on the second is refused (it clashes)" \
	bash -c "! '${B[*]}' machines add --mac $MAC --hostname seg-1"

# boot NAME LAB TIMEOUT: the machine on that lab's tap 0 (BIOS, iPXE ROM), its serial in NAME.serial
boot() {
	LAB=$2 "$ROOT/scripts/qemu.sh" --bios --mac "$MAC" --tap "$2-t0" --timeout "$3" \
		--log "$WORK/$1.serial" >"$WORK/$1.qemu" 2>&1
}
boot install "$LAB" 300
check "the machine installs through the first segment (XPXE-GUEST: done)" \
	grep -aq "XPXE-GUEST: done" "$WORK/install.serial"
check "... the first responder marks it installed" \
	test "$("$XPXE" machines show seg-1 --json | jq -r .machine.installed)" = true
check "... the mark is in etcd" \
	test "$(ectl get "/xpxe/installed/mac:$MAC" --print-value-only | jq -r .by)" = responder-a
check "... and the second responder has it" \
	wait_for 30 'test "$("${B[@]}" machines show seg-1 --json | jq -r .machine.installed)" = true'
# Without a disk the local-disk script's sanboot fails and this iPXE ROM stops at its prompt:
# the boot is over once it says so (rather than at QEMU's timeout, minutes later).
LAB=$LAB2 "$ROOT/scripts/qemu.sh" --bios --mac "$MAC" --tap "$LAB2-t0" --timeout 240 \
	--log "$WORK/second.serial" >"$WORK/second.qemu" 2>&1 &
second=$!
WAIT_S=240 wait_until said "$WORK/second.serial" "Boot from SAN device 0x80 failed" "$second"
kill "$second" 2>/dev/null
wait "$second" 2>/dev/null
check "on the second segment it gets the local-disk script from the second responder" \
	grep -aq "seg-1 is installed: booting from its disk" "$WORK/second.serial"
check "... and never reaches the installer" bash -c "! grep -aq 'XPXE-GUEST: url=' '$WORK/second.serial'"
# XDP sent the ACK; its event reaches the log at the daemon's next read of the ring.
check "... it got its reserved address there (198.18.0.61)" \
	wait_for 30 'grep -q "event=dhcp_ack mac=$MAC ip=198.18.0.61 iface=$LAB2-s0" "$WORK/b.log"'
check "re-armed on the second responder" "${B[@]}" machines rearm seg-1
check "... the first one re-arms it too" \
	wait_for 30 'test "$("$XPXE" machines show seg-1 --json | jq -r .machine.installed)" = false'
check "removed on the second responder" "${B[@]}" machines rm seg-1
check "... gone from the first one's inventory too" wait_for 30 '! "$XPXE" machines --json | grep -q seg-1'
