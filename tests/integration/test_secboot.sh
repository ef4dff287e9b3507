#!/usr/bin/env bash
# Secure Boot end to end: QEMU machines with OVMF's Secure Boot firmware boot through xpxe
# to their Talos config (the Talos-like guest of scripts/guest.sh):
#   uki       OVMF with Debian's snakeoil keys enrolled, UEFI HTTP boot -> /uki/uki.efi, a
#             UKI made here from the guest's kernel and initramfs and signed with the
#             snakeoil key; its own command line carries talos.config= with ${mac}
#             ${uuid} ${serial}, which the guest fills in as Talos does
#   unsigned  the same firmware and the same UKI unsigned: the firmware refuses it
#             ("Access Denied"), so Secure Boot was on
#   grub      OVMF with Microsoft's keys, PXE -> shim (Microsoft-signed) -> GRUB (Debian-
#             signed netboot image) -> grub/grub.cfg made by xpxe -> Debian's signed kernel
#             and the initramfs over TFTP -> config
#   grub2     the same machine again: boot-once, GRUB starts the loader of its disk
# The first three boot side by side, then grub2. Before them, UKIs that are not UKIs are
# refused at load with the reason.
LAB=secboot
source "$(dirname "$0")/lib.sh"
require_root
export LAB # for scripts/qemu.sh

GUEST=$ROOT/build/guest
SB=$ROOT/scripts/secboot.sh
QEMU=("$ROOT/scripts/qemu.sh")

if "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1 &&
	"$SB" fetch "$ROOT/build/cache/secboot" >>"$WORK/build.log" 2>&1; then
	ok "the Talos-like guest is built; Debian's signed shim and netboot GRUB are at hand"
else
	not_ok "the guest is built, shim and GRUB fetched" "$(tail -5 "$WORK/build.log")"
	exit 1
fi
SHIM=$ROOT/build/cache/secboot/shimx64.efi
GRUB=$ROOT/build/cache/secboot/grubx64.efi

# The UKI's command line is all the kernel gets under Secure Boot: talos.config= is in it,
# with Talos's variables for the guest to fill in (Image Factory: extraKernelArgs).
UKI_CMDLINE='console=ttyS0 no_timer_check panic=1 talos.platform=metal slab_nomerge pti=on talos.config=http://198.18.0.1:8080/talos/config?mac=${mac}&uuid=${uuid}&serial=${serial}'
if "$SB" uki "$GUEST/vmlinuz" "$GUEST/initramfs.img" "$UKI_CMDLINE" "$WORK/unsigned.efi" \
	2>"$WORK/uki.log" && "$SB" sign "$WORK/unsigned.efi" "$WORK/uki.efi" 2>>"$WORK/uki.log" &&
	"$SB" disk "$WORK/disk.img" "$GUEST/vmlinuz" >>"$WORK/uki.log" 2>&1; then
	ok "a UKI of the guest, signed with the snakeoil key; a disk whose ESP holds Debian's kernel"
else
	not_ok "UKI, signature and disk" "$(tail -3 "$WORK/uki.log")"
	exit 1
fi
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up" "$(tail -3 "$WORK/lab.log")"; exit 1; }

# --- refused at load ------------------------------------------------------------------------
refused() { # FILE TEXT: `serve --uki FILE` exits at once, saying TEXT
	local out
	out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" --socket "$WORK/refused.sock" serve \
		-i "$IF_SRV" --state-dir "$WORK/refused" --uki "$1" 2>&1) && return 1
	grep -qF "$2" <<<"$out" || { echo "$out" | tail -2; return 1; }
}
check "--uki with an initramfs is refused: 'not an EFI binary'" \
	refused "$GUEST/initramfs.img" "UKI uki ($GUEST/initramfs.img): not an EFI binary"
check "--uki with a plain EFI kernel is refused: 'no .linux section'" \
	refused "$GUEST/vmlinuz" "not a UKI: no .linux section (the kernel)"
head -c 20000 "$WORK/uki.efi" >"$WORK/cut.efi"
check "--uki with a UKI cut short is refused: 'a truncated image'" \
	refused "$WORK/cut.efi" "past the end of the file"

# The quick start: --uki alone makes a uki profile; iPXE clients get a script that chains to it.
if start_daemon -i "$IF_SRV" --state-dir "$WORK/quick" --uki "$WORK/uki.efi"; then
	in_cli curl -s -m 10 -o "$WORK/q.efi" "http://$SRV_IP:8080/uki/uki"
	in_cli curl -s -m 10 -o "$WORK/q.ipxe" "http://$SRV_IP:8080/boot.ipxe?mac=52-54-00-5b-00-09"
	check "serve --uki FILE: HTTP serves it at /uki/uki" cmp -s "$WORK/q.efi" "$WORK/uki.efi"
	check "... and iPXE's script chains to it" grep -qx "chain http://$SRV_IP:8080/uki/uki || goto failed" "$WORK/q.ipxe"
	kill -TERM "$DAEMON_PID"
	wait_daemon
else
	not_ok "serve --uki FILE starts"
fi

# --- the config ---------------------------------------------------------------------------------
mkdir -p "$WORK/talos" "$WORK/state"
for m in 01 02 03; do
	printf 'version: v1alpha1\nmachine:\n  token: %s\n  network:\n    hostname: {{hostname}}\n' \
		"$(echo "sb$m" | sha256sum | cut -c1-16)" >"$WORK/talos/52-54-00-5b-00-$m.yaml"
done
expected_sha() { sed "s/{{hostname}}/$2/" "$WORK/talos/52-54-00-5b-00-$1.yaml" | sha256sum | cut -d' ' -f1; }
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp:
  pool: 198.18.0.100-198.18.0.199
  leases: $WORK/leases
state_dir: $WORK/state
assets:
  uki.efi: $WORK/uki.efi
  unsigned.efi: $WORK/unsigned.efi
  vmlinuz: $GUEST/vmlinuz
  initramfs: $GUEST/initramfs.img
  shimx64.efi: $SHIM
  grubx64.efi: $GRUB
profiles:
  uki:
    transport: uki
    uki: uki.efi
    talos_config: $WORK/talos
  unsigned:
    transport: uki
    uki: unsigned.efi
    talos_config: $WORK/talos
  grub:
    transport: grub
    kernel: vmlinuz
    initrd: initramfs
    cmdline: console=ttyS0 no_timer_check panic=1
    talos_config: $WORK/talos
default_profile: none
machines:
  - {mac: 52:54:00:5b:00:01, hostname: uki-1, profile: uki, ip: 198.18.0.51}
  - {mac: 52:54:00:5b:00:02, hostname: unsigned-1, profile: unsigned, ip: 198.18.0.52}
  - {mac: 52:54:00:5b:00:03, hostname: grub-1, profile: grub, ip: 198.18.0.53}
YAML
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves the uki and grub profiles"; else
	not_ok "xpxe serves the uki and grub profiles"; exit 1; fi
check "... it logged the UKI's command line, with its talos.config=" \
	grep -qF "profile uki: UKI uki.efi ($WORK/uki.efi): x86-64, signed" "$WORK/daemon.log"
check "... and warned that the unsigned one will be refused under Secure Boot" \
	grep -q "profile unsigned: UKI unsigned.efi carries no signature" "$WORK/daemon.log"

# --- the machines -----------------------------------------------------------------------------------
# boot NAME MAC-SUFFIX TAP TIMEOUT QEMU-ARGS... (in the background; cleanup stops it)
boot() {
	local name=$1 suffix=$2 tap=$LAB-t$3 timeout=$4
	shift 4
	"${QEMU[@]}" --mac "52:54:00:5b:00:$suffix" --tap "$tap" --timeout "$timeout" \
		--log "$WORK/$name.serial" --uuid "00000000-0000-4000-8000-0000000000$suffix" \
		--serial "SN-$name" "$@" \
		>"$WORK/$name.qemu" 2>&1 &
	at_exit kill $!
	eval "PID_$name=\$!"
}
# wait_line NAME TEXT SECONDS: the machine's serial console shows TEXT (or its QEMU ended)
wait_line() {
	local pid i
	pid=$(eval echo "\$PID_$1")
	for ((i = 0; i < $3 * 2; i++)); do
		grep -aqF "$2" "$WORK/$1.serial" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	grep -aqF "$2" "$WORK/$1.serial" 2>/dev/null
}
stop() { kill "$(eval echo "\$PID_$1")" 2>/dev/null; wait "$(eval echo "\$PID_$1")" 2>/dev/null; }
took() { sed -n 's/.* after \([0-9.]*\) s .*/\1 s/p' "$WORK/$1.qemu"; }
guest() { tr -d '\r' <"$WORK/$1.serial" | sed -n "s/.*XPXE-GUEST: $2=//p" | tail -1; }
guest_ok() { # NAME EXPECTED-SHA
	[ "$(guest "$1" sha256)" = "$2" ] && grep -aq "XPXE-GUEST: done" "$WORK/$1.serial" &&
		grep -aq "XPXE-GUEST: check talos.platform=metal ok" "$WORK/$1.serial"
}
last_lines() { tr -d '\r' <"$WORK/$1.serial" | grep -a "XPXE\|xpxe\|BdsDxe\|EFI stub\|rror" | tail -6; }

t0=$(date +%s)
boot uki 01 0 300 --secure-boot snakeoil --http-boot
boot unsigned 02 1 300 --secure-boot snakeoil --http-boot
boot grub 03 2 400 --secure-boot ms --no-rom --disk "$WORK/disk.img"
# The refused one goes on to the firmware's menu: stopped once it said why.
wait_line unsigned "Access Denied" 300
stop unsigned
wait "$PID_uki" "$PID_grub"
echo "# three Secure Boot machines side by side in $(($(date +%s) - t0)) s (uki $(took uki), grub $(took grub))"

if guest_ok uki "$(expected_sha 01 uki-1)"; then
	ok "snakeoil Secure Boot, UEFI HTTP boot: the signed UKI boots to its own config in $(took uki)"
else
	not_ok "snakeoil Secure Boot, UEFI HTTP boot: the signed UKI boots to its own config" "$(last_lines uki)"
fi
check "... the firmware fetched it from /uki/uki.efi" grep -aqF "URI: http://198.18.0.1:8080/uki/uki.efi" "$WORK/uki.serial"
check "... its kernel ran with Secure Boot on ($(guest uki secureboot))" test "$(guest uki secureboot)" = enabled
check "... with the UKI's own command line (talos.config= with Talos's variables)" \
	test "$(guest uki talos.config)" = 'http://198.18.0.1:8080/talos/config?mac=${mac}&uuid=${uuid}&serial=${serial}'
check "... which the guest filled in as Talos does" \
	test "$(guest uki url)" = "http://198.18.0.1:8080/talos/config?mac=52%3A54%3A00%3A5b%3A00%3A01&serial=SN-uki&uuid=00000000-0000-4000-8000-000000000001"
check "... and xpxe marked it installed" \
	jq -e '.machines[] | select(.hostname == "uki-1") | .installed == true' <<<"$("$XPXE" machines --json)"

check "the same UKI unsigned: the firmware downloaded it and refused it (Access Denied)" \
	bash -c "grep -aqF 'URI: http://198.18.0.1:8080/uki/unsigned.efi' '$WORK/unsigned.serial' &&
		tr -d '\r' <'$WORK/unsigned.serial' | grep -aq 'failed to load Boot.*UEFI HTTPv4.*Access Denied'"
check "... and never ran it" bash -c "! grep -aq 'XPXE-GUEST' '$WORK/unsigned.serial'"

if guest_ok grub "$(expected_sha 03 grub-1)"; then
	ok "Microsoft's keys, PXE: shim -> GRUB -> Debian's kernel boot to its own config in $(took grub)"
else
	not_ok "Microsoft's keys, PXE: shim -> GRUB -> Debian's kernel boot to its own config" "$(last_lines grub)"
fi
check "... shim fetched grubx64.efi, GRUB its grub.cfg, kernel and initramfs over TFTP" \
	bash -c "for f in shimx64.efi grubx64.efi grub/grub.cfg vmlinuz initramfs; do
		grep -q \"event=tftp_done mac=52:54:00:5b:00:03 .*detail=\\\"\$f \" '$WORK/daemon.log' || exit 1; done"
check "... its kernel ran with Secure Boot on ($(guest grub secureboot))" test "$(guest grub secureboot)" = enabled
check "... GRUB gave it talos.config= with its MAC and SMBIOS UUID" \
	test "$(guest grub url)" = "http://198.18.0.1:8080/talos/config?mac=52:54:00:5b:00:03&uuid=00000000-0000-4000-8000-000000000003"
check "... and xpxe marked it installed" \
	jq -e '.machines[] | select(.hostname == "grub-1") | .installed == true' <<<"$("$XPXE" machines --json)"

# --- boot-once: the grub machine again --------------------------------------------------------
# The daemon makes grub.cfg again within a second of the mark; then the machine boots again.
grub_cfg_says_local() {
	in_cli busybox tftp -g -r grub/grub.cfg -l "$WORK/grub.cfg" "$SRV_IP" 2>/dev/null &&
		grep -q 'xpxe_local .grub-1.' "$WORK/grub.cfg"
}
wait_until grub_cfg_says_local
check "grub/grub.cfg now sends grub-1 to its disk" grep -q "xpxe_local 'grub-1'" "$WORK/grub.cfg"
t0=$(date +%s)
boot grub2 03 2 300 --secure-boot ms --no-rom --disk "$WORK/disk.img"
# Debian's kernel on the disk says so as it starts; with no root it goes no further.
wait_line grub2 "EFI stub: UEFI Secure Boot is enabled" 300
stop grub2
echo "# the boot-once boot took $(($(date +%s) - t0)) s"
check "the second boot: GRUB says it is installed" \
	grep -aq "xpxe: grub-1 is installed: booting from its disk" "$WORK/grub2.serial"
check "... and starts the disk's loader, which the firmware verified (Debian's kernel, Secure Boot on)" \
	bash -c "tr -d '\r' <'$WORK/grub2.serial' | sed -n '/grub-1 is installed/,\$p' | grep -aq 'EFI stub: UEFI Secure Boot is enabled'"
check "... never the installer" bash -c "! grep -aq 'XPXE-GUEST' '$WORK/grub2.serial'"

# --- boot-once for UKIs: /uki/ answers an installed machine (known by its binding) 404 ------
uki_code() { # SOURCE-IP NAME -> the HTTP status /uki/NAME gives that address
	in_cli ip addr add "$1/24" dev "$IF_BR" 2>/dev/null
	# The server's neighbour entry still names the QEMU machine that held the address.
	in_srv ip neigh flush to "$1" dev "$IF_SRV"
	in_cli curl -s -m 10 --interface "$1" -o "$WORK/uki.out" -w '%{http_code}' "http://$SRV_IP:8080/uki/$2"
	in_cli ip addr del "$1/24" dev "$IF_BR" 2>/dev/null
}
code=$(uki_code 198.18.0.51 uki.efi)
check "uki-1, installed, asking /uki/uki.efi from its address gets 404 ($code): its firmware goes on to its disk" \
	bash -c "[ '$code' = 404 ] && grep -q 'this machine is installed' '$WORK/uki.out'"
code=$(uki_code 198.18.0.52 unsigned.efi)
check "unsigned-1, not installed, gets its UKI ($code)" \
	bash -c "[ '$code' = 200 ] && cmp -s '$WORK/uki.out' '$WORK/unsigned.efi'"
