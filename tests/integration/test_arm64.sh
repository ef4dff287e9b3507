#!/usr/bin/env bash
# arm64 machines end to end (issue 26): QEMU's aarch64 virt board with AAVMF (UEFI) under
# tcg boots through xpxe to its own Talos config (the arm64 build of scripts/guest.sh's
# Talos-like guest), beside amd64 machines, all from the quick start's one profile:
#   arm64-pxe   AAVMF's PXE -> Debian's netboot GRUB (grubaa64.efi, over TFTP) ->
#               grub/grub.cfg -> vmlinuz-arm64 and initramfs-arm64 over TFTP -> config
#   arm64-http  AAVMF's HTTP boot -> /uki/uki-arm64 (an arm64 UKI of the same guest, made
#               from systemd-boot-efi's arm64 stub) -> config
#   amd64-bios  SeaBIOS + iPXE -> boot.ipxe -> vmlinuz and initramfs over HTTP -> config
#   amd64-uefi  OVMF + iPXE -> the same
# The four boot at once; each must fetch only its own architecture's files (the daemon's
# per-MAC events). Then, from a profile without arm64 files, an arm64 machine is refused
# with a counted reason: no boot file in DHCP (pass_dhcp_no_boot_file) and, for iPXE, a
# 404 that says why (no_arch_files). Before any machine: kernels of the wrong
# architecture are refused at load, and `xpxe assets` and `status` say whose each file is.
LAB=arm64
source "$(dirname "$0")/lib.sh"
require_root
export LAB # for scripts/qemu.sh

GUEST=$ROOT/build/guest
GUEST64=$ROOT/build/guest-arm64
GRUB=$ROOT/build/cache/arm64/grubaa64.efi
QEMU=("$ROOT/scripts/qemu.sh")

for tool in qemu-system-aarch64 aarch64-linux-gnu-objcopy; do
	command -v "$tool" >/dev/null ||
		{ not_ok "$tool is installed (scripts/deps.sh: qemu-system-arm, binutils-aarch64-linux-gnu)"; exit 1; }
done
[ -f /usr/share/AAVMF/AAVMF_CODE.fd ] ||
	{ not_ok "AAVMF is installed (scripts/deps.sh: qemu-efi-aarch64)"; exit 1; }

# The arm64 guest's UKI: its own command line carries talos.config= with Talos's variables.
UKI_CMDLINE='console=ttyAMA0 panic=1 talos.platform=metal slab_nomerge pti=on talos.config=http://198.18.0.1:8080/talos/config?mac=${mac}&uuid=${uuid}&serial=${serial}'
if "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1 &&
	"$ROOT/scripts/arm64.sh" guest "$GUEST64" >>"$WORK/build.log" 2>&1 &&
	"$ROOT/scripts/arm64.sh" fetch >>"$WORK/build.log" 2>&1 &&
	"$ROOT/scripts/arm64.sh" uki "$GUEST64/vmlinuz" "$GUEST64/initramfs.img" "$UKI_CMDLINE" \
		"$WORK/uki-arm64.efi" >>"$WORK/build.log" 2>&1; then
	ok "guests built from Debian's packages: amd64 $(sed -n 's/^kernel_release=//p' "$GUEST/guest.info"), arm64 $(sed -n 's/^kernel_release=//p' "$GUEST64/guest.info"); Debian's arm64 netboot GRUB; an arm64 UKI"
else
	not_ok "guests, GRUB and UKI" "$(tail -5 "$WORK/build.log")"
	exit 1
fi
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up" "$(tail -3 "$WORK/lab.log")"; exit 1; }

mkdir -p "$WORK/talos"
# One config per machine (a token of its own), so each one's digest names what it got.
MACS=(52:54:00:a6:00:01 52:54:00:a6:00:02 52:54:00:a6:00:03 52:54:00:a6:00:04 52:54:00:a6:00:05)
for mac in "${MACS[@]}"; do
	printf 'version: v1alpha1\nmachine:\n  token: %s\n' "$(echo "$mac" | sha256sum | cut -c1-16)" \
		>"$WORK/talos/${mac//:/-}.yaml"
done
expected_sha() { sha256sum <"$WORK/talos/${1//:/-}.yaml" | cut -d' ' -f1; }

# --- refused at load: a kernel of the other architecture ---------------------------------------
refused() { # TEXT FLAGS...: `serve FLAGS` exits at once, saying TEXT
	local text=$1 out
	shift
	out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" --socket "$WORK/refused.sock" serve \
		-i "$IF_SRV" --state-dir "$WORK/refused" "$@" 2>&1) && return 1
	grep -qF "$text" <<<"$out" || { echo "$out" | tail -2; return 1; }
}
check "--kernel-arm64 with an amd64 kernel is refused: 'an amd64 kernel, not arm64's'" \
	refused "kernel_arm64 vmlinuz-arm64: an amd64 kernel, not arm64's" \
	--kernel-arm64 "$GUEST/vmlinuz" --initrd-arm64 "$GUEST64/initramfs.img"
check "--kernel with an arm64 kernel is refused: 'name it as kernel_arm64'" \
	refused "kernel vmlinuz: an arm64 kernel: name it as kernel_arm64" \
	--kernel "$GUEST64/vmlinuz" --initrd "$GUEST/initramfs.img"
check "--uki-arm64 with the arm64 kernel alone is refused: not a UKI" \
	refused "uki_arm64 uki-arm64 ($GUEST64/vmlinuz): an EFI application, but not a UKI" \
	--uki-arm64 "$GUEST64/vmlinuz"

# --- the mixed fleet: one profile (the quick start), both architectures ---------------------------
CMDLINE="console=ttyS0 console=ttyAMA0 no_timer_check panic=1"
serve_fleet() { # the quick start, full mode; arm64 flags added by the caller
	start_daemon -i "$IF_SRV" --state-dir "$WORK/state" --mode full \
		--pool 198.18.0.100-198.18.0.199 --leases "$WORK/leases" \
		--kernel "$GUEST/vmlinuz" --initrd "$GUEST/initramfs.img" \
		--cmdline "$CMDLINE" --talos-config "$WORK/talos" "$@"
}
if serve_fleet --kernel-arm64 "$GUEST64/vmlinuz" --initrd-arm64 "$GUEST64/initramfs.img" \
	--uki-arm64 "$WORK/uki-arm64.efi" --asset "grubaa64.efi=$GRUB"; then
	ok "serve --kernel --initrd --kernel-arm64 --initrd-arm64 --uki-arm64: one profile, two architectures"
else
	not_ok "the quick start with arm64 files starts"
	exit 1
fi
"$XPXE" assets >"$WORK/assets.txt" 2>"$WORK/assets.err"
rc=$?
# grub/grub.cfg is made by the daemon (no file on disk): it is not "gone from disk".
check "xpxe assets exits 0 ($rc) while serving the grub.cfg it made" \
	bash -c "[ '$rc' = 0 ] && [ ! -s '$WORK/assets.err' ] && grep -q '^grub/grub.cfg ' '$WORK/assets.txt'"
arch_of() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/assets.txt"; }
check "xpxe assets shows each file's architecture: vmlinuz amd64, vmlinuz-arm64 arm64 (from the files)" \
	test "$(arch_of vmlinuz) $(arch_of vmlinuz-arm64) $(arch_of grubaa64.efi) $(arch_of uki-arm64) $(arch_of snponly.efi)" = "amd64 arm64 arm64 arm64 amd64"
check "... initramfs amd64, initramfs-arm64 arm64 (from the profile that names them)" \
	test "$(arch_of initramfs) $(arch_of initramfs-arm64)" = "amd64 arm64"
check "... and --json carries it" \
	test "$("$XPXE" assets --json | jq -r '.assets[] | select(.name == "initramfs-arm64") | .arch')" = arm64
check "xpxe status: the profile's files by architecture" \
	grep -qx "profile     default: amd64 vmlinuz + initramfs; arm64 vmlinuz-arm64 + initramfs-arm64 (through grubaa64.efi), HTTP boot: UKI uki-arm64" \
	<("$XPXE" status)

# EDK2's HTTP boot runs only application/efi or *.efi: without it, "Could not retrieve NBP
# file size" and "Not Found", every time (AAVMF, /uki/uki-arm64).
check "/uki/uki-arm64 is served as application/efi (UEFI HTTP boot runs nothing else not named *.efi)" \
	bash -c "ip netns exec '$NS_CLI' curl -s -m 10 -o /dev/null -D - 'http://$SRV_IP:8080/uki/uki-arm64' |
		tr -d '\r' | grep -qix 'content-type: application/efi'"

# boot NAME MAC TAP TIMEOUT QEMU-ARGS...: one machine in the background (cleanup stops it)
boot() {
	local name=$1 mac=$2 tap=$LAB-t$3 timeout=$4
	shift 4
	"${QEMU[@]}" --mac "$mac" --tap "$tap" --timeout "$timeout" --log "$WORK/$name.serial" \
		"$@" >"$WORK/$name.qemu" 2>&1 &
	at_exit kill $!
	eval "PID_${name//-/_}=\$!"
}
pid_of() { eval echo "\$PID_${1//-/_}"; }
took() { sed -n 's/.* after \([0-9.]*\) s .*/\1 s/p' "$WORK/$1.qemu"; }
guest() { tr -d '\r' <"$WORK/$1.serial" | sed -n "s/.*XPXE-GUEST: $2=//p" | tail -1; }
guest_ok() { # NAME MAC ARCH
	[ "$(guest "$1" sha256)" = "$(expected_sha "$2")" ] && [ "$(guest "$1" arch)" = "$3" ] &&
		grep -aq "XPXE-GUEST: done" "$WORK/$1.serial" &&
		grep -aq "XPXE-GUEST: check talos.platform=metal ok" "$WORK/$1.serial"
}
last_lines() { tr -d '\r' <"$WORK/$1.serial" | grep -a "XPXE\|xpxe\|BdsDxe\|URI\|rror\|grub" | tail -6; }
report() { # DESCRIPTION NAME MAC ARCH
	if guest_ok "$2" "$3" "$4"; then ok "$1 in $(took "$2")"; else
		not_ok "$1" "$(cat "$WORK/$2.qemu")" "$(last_lines "$2")"
	fi
}
# What the daemon sent to MAC, by name: TFTP transfers done and HTTP assets.
fetched() {
	grep -E "event=(tftp_done|asset) mac=$1 " "$WORK/daemon.log" |
		sed -n 's/.* detail="\([^ "]*\).*/\1/p' | sort -u | tr '\n' ' '
}

# only_amd64 MAC: it fetched the amd64 kernel and initramfs, and no arm64 file, no GRUB.
only_amd64() {
	local got
	got=$(fetched "$1")
	[[ " $got" == *" vmlinuz "* && " $got" == *" initramfs "* && $got != *arm64* && $got != *grub* ]]
}

# has_fetched MAC NAME...: the daemon has reported each NAME sent to MAC. A transfer's end is
# reported by the daemon's sweep, after the data plane's last block: the guest may be
# fetching its config by then, so the checks wait for the reports they read. GRUB boots as
# it sends its final ACK, which a busy host's QEMU may then drop (the NIC's reset at
# ExitBootServices): that transfer ends as done some seconds after its final block, its
# event saying final_ack=not_seen (still a tftp_done, as the file was sent whole).
has_fetched() {
	local mac=$1 got
	shift
	got=" $(fetched "$mac")"
	for n in "$@"; do [[ $got == *" $n "* ]] || return 1; done
}

t0=$(date +%s)
boot arm64-pxe "${MACS[0]}" 0 600 --arch arm64
boot arm64-http "${MACS[1]}" 1 600 --arch arm64 --http-boot
boot amd64-bios "${MACS[2]}" 2 600 --bios
boot amd64-uefi "${MACS[3]}" 3 600 --uefi
wait "$(pid_of arm64-pxe)" "$(pid_of arm64-http)" "$(pid_of amd64-bios)" "$(pid_of amd64-uefi)"
echo "# four machines (two arm64, two amd64) side by side under tcg in $(($(date +%s) - t0)) s:" \
	"arm64 PXE $(took arm64-pxe), arm64 HTTP boot $(took arm64-http)," \
	"amd64 BIOS $(took amd64-bios), amd64 UEFI $(took amd64-uefi)"

report "arm64, AAVMF PXE: GRUB -> its arm64 kernel boots to its own config" arm64-pxe "${MACS[0]}" aarch64
wait_until has_fetched "${MACS[0]}" grub/grub.cfg grubaa64.efi initramfs-arm64 vmlinuz-arm64
check "... over TFTP: GRUB, grub.cfg, the arm64 kernel and initramfs, nothing of amd64's ($(fetched "${MACS[0]}"))" \
	test "$(fetched "${MACS[0]}")" = "grub/grub.cfg grubaa64.efi initramfs-arm64 vmlinuz-arm64 "
grep -E "event=tftp_done mac=${MACS[0]} .*final_ack=not_seen" "$WORK/daemon.log" |
	sed -n 's/.* detail="\([^ "]*\).*/# ... \1 ended without its final ACK (final_ack=not_seen)/p'
report "arm64, AAVMF HTTP boot: its arm64 UKI boots to its own config" arm64-http "${MACS[1]}" aarch64
wait_until has_fetched "${MACS[1]}" uki-arm64
check "... the firmware fetched /uki/uki-arm64, nothing else ($(fetched "${MACS[1]}"))" \
	bash -c "grep -aqF 'URI: http://198.18.0.1:8080/uki/uki-arm64' '$WORK/arm64-http.serial' &&
		test '$(fetched "${MACS[1]}")' = 'uki-arm64 '"
check "... its config URL is the UKI's, filled in by the guest as Talos does" \
	test "$(guest arm64-http url)" = "http://198.18.0.1:8080/talos/config?mac=52%3A54%3A00%3Aa6%3A00%3A02&serial=&uuid="
report "amd64, SeaBIOS + iPXE: its amd64 kernel boots to its own config" amd64-bios "${MACS[2]}" x86_64
wait_until has_fetched "${MACS[2]}" vmlinuz initramfs
check "... vmlinuz and initramfs over HTTP, nothing of arm64's ($(fetched "${MACS[2]}"))" \
	only_amd64 "${MACS[2]}"
report "amd64, OVMF + iPXE: its amd64 kernel boots to its own config" amd64-uefi "${MACS[3]}" x86_64
wait_until has_fetched "${MACS[3]}" vmlinuz initramfs
check "... vmlinuz and initramfs over HTTP, nothing of arm64's ($(fetched "${MACS[3]}"))" \
	only_amd64 "${MACS[3]}"
check "xpxe marked all four installed" \
	test "$("$XPXE" machines --json | jq '[.machines[] | select(.installed == true)] | length')" = 4
kill -TERM "$DAEMON_PID"
wait_daemon

# --- an arm64 machine, a profile with nothing for it: refused, counted ---------------------------
if serve_fleet --state-dir "$WORK/state2" --leases "$WORK/leases2"; then
	ok "the quick start without arm64 files"
else
	not_ok "the quick start without arm64 files starts"
	exit 1
fi
check "xpxe status says arm64 machines are refused" \
	grep -qx "profile     default: amd64 vmlinuz + initramfs; arm64 none (refused)" <("$XPXE" status)
before=$(counter pass_dhcp_no_boot_file)
boot arm64-none "${MACS[4]}" 0 600 --arch arm64
no_boot_file_counted() { [ "$(counter pass_dhcp_no_boot_file)" -gt "$before" ]; }
if wait_until no_boot_file_counted; then
	ok "an arm64 PXE client gets no boot file: pass_dhcp_no_boot_file $before -> $(counter pass_dhcp_no_boot_file)"
else
	not_ok "an arm64 PXE client is counted in pass_dhcp_no_boot_file (still $before)"
fi
kill "$(pid_of arm64-none)" 2>/dev/null
wait "$(pid_of arm64-none)" 2>/dev/null
check "... and fetched nothing ($(fetched "${MACS[4]}"))" test -z "$(fetched "${MACS[4]}")"
code=$(in_cli curl -s -m 10 -o "$WORK/refused.txt" -w '%{http_code}' \
	"http://$SRV_IP:8080/boot.ipxe?mac=52-54-00-a6-00-05&arch=arm64")
check "an arm64 iPXE asking for its script gets 404 ($code): 'profile 'default' has no arm64 kernel and initrd'" \
	bash -c "[ '$code' = 404 ] && grep -qF \"profile 'default' has no arm64 kernel and initrd\" '$WORK/refused.txt'"
in_cli curl -s -m 10 -o "$WORK/metrics" "http://$SRV_IP:8080/metrics"
check "... counted: xpxe_http_requests_total{kind=\"no_arch_files\"} 1" \
	grep -qx 'xpxe_http_requests_total{kind="no_arch_files"} 1' "$WORK/metrics"
check "... and said by xpxe status" \
	grep -q "1 iPXE script(s) refused: no files for the machine's architecture" <("$XPXE" status)
code=$(in_cli curl -s -m 10 -o "$WORK/amd64.ipxe" -w '%{http_code}' \
	"http://$SRV_IP:8080/boot.ipxe?mac=52-54-00-a6-00-05&arch=i386")
check "... while iPXE's BIOS build (i386) on the same MAC gets the amd64 script ($code)" \
	bash -c "[ '$code' = 200 ] && grep -q '^kernel http://198.18.0.1:8080/assets/vmlinuz ' '$WORK/amd64.ipxe'"
