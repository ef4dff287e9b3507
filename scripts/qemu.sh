#!/usr/bin/env bash
# One QEMU machine on a tap of the lab's bridge, in the lab's client namespace.
# See usage() or `scripts/qemu.sh --help`.
set -euo pipefail

LAB=${LAB:-xpxe}
QEMU=${QEMU:-qemu-system-x86_64}
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}

usage() {
	cat <<USAGE
usage: [LAB=NAME] $0 [OPTIONS] [-- EXTRA-QEMU-ARGS...]

Runs one QEMU machine (software emulation, -accel tcg) whose virtio-net NIC is the tap
TAP of the lab's bridge, inside the lab's client namespace NAME-cli (scripts/lab.sh up
first). The serial console goes to a log file. It returns when the guest powers off
or resets (-no-reboot: a reset ends QEMU too, with the same status 0, so read the log
to tell them apart; SeaBIOS resets as soon as it has nothing left to boot), kills QEMU
and fails when the timeout passes first, and leaves no QEMU process behind. A network boot puts the NIC first in the boot order (bootindex).

Firmware and boot:
  --arch arm64        an arm64 machine: qemu-system-aarch64 -M virt (cortex-a57, tcg)
                      with AAVMF (package qemu-efi-aarch64), a private copy of its
                      variables, no NIC option ROM: AAVMF's own PXE and HTTP boot
                      clients run (--uefi --no-rom implied; --http-boot, --disk,
                      --kernel and the machine options apply; the serial console
                      is ttyAMA0). Default amd64
  --bios              SeaBIOS; the NIC's option ROM is QEMU's default, iPXE from
                      ipxe-qemu, so the machine PXE-boots as iPXE (default)
  --uefi              OVMF (package ovmf), with a private copy of OVMF_VARS per run;
                      the NIC ROM is again iPXE unless --no-rom
  --no-rom            no NIC option ROM (romfile=): under --uefi, OVMF's own PXE and
                      HTTP boot clients run; under --bios nothing can network-boot
  --rom FILE          this NIC option ROM instead of QEMU's default
  --secure-boot KEYS  OVMF with Secure Boot on (implies --uefi): KEYS is snakeoil
                      (Debian's test keys enrolled: PkKek-1-snakeoil signs what may
                      boot) or ms (Microsoft's keys: shim-signed, grub-efi-*-signed);
                      a q35 machine with SMM and a secure pflash, as that firmware needs
  --disk FILE         a virtio disk (raw) after the NIC in the boot order: what a
                      machine sent to its disk (boot-once) tries next
  --http-boot         UEFI HTTP boot first (implies --uefi --no-rom): OVMF's PXE
                      clients are turned off through fw_cfg (opt/org.tianocore/
                      IPv4PXESupport and IPv6PXESupport = n), so its first network
                      boot option is "UEFI HTTPv4" rather than PXEv4, PXEv6 and
                      then, ~2 minutes later under tcg, HTTP
  --kernel FILE       direct boot, no PXE: this kernel ...
  --initrd FILE       ... this initramfs ...
  --append "ARGS"     ... and this command line (console=ttyS0 for a serial log)

Machine:
  --mac MAC           the NIC's MAC (default: 52:54:00 and three random bytes)
  --nic MODEL         QEMU NIC model (default virtio-net-pci; the guest kernel drives
                      only virtio-net, e1000 is for firmware-only tests)
  --uuid UUID         SMBIOS system UUID (-smbios type=1,uuid=...)
  --serial SERIAL     SMBIOS system serial number (-smbios type=1,serial=...)
  --memory MB         RAM (default 512)
  --tap TAP           the tap device (default NAME-t0)
  --netns NS          the namespace holding the tap (default NAME-cli)
  --accel ACCEL       tcg (default: the PXE ROMs ran here under tcg; under kvm the
                      BIOS ROM stopped early) or kvm

Output and limits:
  --log FILE          serial console log (default: qemu-MAC.log in the current directory)
  --console           also copy the serial console to this terminal
  --pcap FILE         record the NIC's frames (QEMU filter-dump)
  --timeout SECONDS   kill the machine after this long (default 120)
  --dry-run           print the QEMU command line and exit
  -h, --help          this text

Exit status: 0 when the guest powered off (or reset) by itself, 124 on timeout, QEMU's
own status otherwise, 2 for bad usage or a missing lab.
USAGE
}

die() {
	echo "qemu: $*" >&2
	exit 2
}

firmware=bios arch=amd64
rom=default http_boot=false secure_boot='' disk=
kernel='' initrd='' append='' append_set=false
mac='' nic=virtio-net-pci uuid='' serial='' memory=512
tap='' netns='' accel=tcg log='' console=false pcap='' timeout=120 dry_run=false
extra=()

need() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }
while [ $# -gt 0 ]; do
	case "$1" in
	--arch) need "$@"; arch=$2; shift ;;
	--bios) firmware=bios ;;
	--uefi) firmware=uefi ;;
	--no-rom) rom=none ;;
	--rom) need "$@"; rom=$2; shift ;;
	--http-boot) firmware=uefi rom=none http_boot=true ;;
	--secure-boot) need "$@"; firmware=uefi secure_boot=$2; shift ;;
	--disk) need "$@"; disk=$2; shift ;;
	--kernel) need "$@"; kernel=$2; shift ;;
	--initrd) need "$@"; initrd=$2; shift ;;
	--append) [ $# -ge 2 ] || die "--append needs a value"; append=$2; append_set=true; shift ;;
	--mac) need "$@"; mac=$2; shift ;;
	--nic) need "$@"; nic=$2; shift ;;
	--uuid) need "$@"; uuid=$2; shift ;;
	--serial) need "$@"; serial=$2; shift ;;
	--memory) need "$@"; memory=$2; shift ;;
	--tap) need "$@"; tap=$2; shift ;;
	--netns) need "$@"; netns=$2; shift ;;
	--accel) need "$@"; accel=$2; shift ;;
	--log) need "$@"; log=$2; shift ;;
	--console) console=true ;;
	--pcap) need "$@"; pcap=$2; shift ;;
	--timeout) need "$@"; timeout=$2; shift ;;
	--dry-run) dry_run=true ;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		extra=("$@")
		break
		;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done

[[ $LAB =~ ^[a-z0-9]{1,8}$ ]] || die "LAB must be 1-8 characters of a-z0-9, not '$LAB'"
case "$arch" in
amd64) ;;
arm64)
	[ -z "$secure_boot" ] || die "--arch arm64: no --secure-boot (AAVMF's keys are not set up here)"
	[ "$rom" = default ] || [ "$rom" = none ] || die "--arch arm64: no --rom (AAVMF's own network boot)"
	firmware=uefi rom=none
	QEMU=${QEMU_AARCH64:-qemu-system-aarch64}
	OVMF_CODE=${AAVMF_CODE:-/usr/share/AAVMF/AAVMF_CODE.fd}
	OVMF_VARS=${AAVMF_VARS:-/usr/share/AAVMF/AAVMF_VARS.fd}
	;;
*) die "--arch takes amd64 or arm64, not '$arch'" ;;
esac
if $http_boot && { [ "$firmware" != uefi ] || [ "$rom" != none ]; }; then
	die "--http-boot is OVMF's own HTTP boot: not with --bios or --rom"
fi
case "$secure_boot" in
'' | snakeoil | ms) ;;
*) die "--secure-boot takes snakeoil or ms, not '$secure_boot'" ;;
esac
[ -z "$disk" ] || [ -f "$disk" ] || die "no disk file $disk"
if [ -n "$secure_boot" ]; then
	OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.$secure_boot.fd
	OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.$secure_boot.fd
fi
tap=${tap:-$LAB-t0}
netns=${netns:-$LAB-cli}
if ! [[ $timeout =~ ^[0-9]+$ ]] || [ "$timeout" -eq 0 ]; then
	die "--timeout takes seconds, not '$timeout'"
fi
[[ $memory =~ ^[0-9]+$ ]] || die "--memory takes megabytes, not '$memory'"
case "$accel" in tcg | kvm) ;; *) die "--accel is tcg or kvm, not '$accel'" ;; esac
if [ -z "$mac" ]; then
	mac=$(printf '52:54:00:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
fi
[[ $mac =~ ^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$ ]] || die "--mac takes aa:bb:cc:dd:ee:ff, not '$mac'"
if [ -n "$uuid" ] && ! [[ $uuid =~ ^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$ ]]; then
	die "--uuid takes 8-4-4-4-12 hex digits, not '$uuid'"
fi
# QEMU's option syntax takes ',' as a separator (',,' escapes it).
[[ $serial == *,* ]] && die "--serial may not contain ','"
if [ -n "$kernel$initrd" ] || $append_set; then
	[ -n "$kernel" ] || die "--initrd and --append need --kernel"
	[ -f "$kernel" ] || die "no kernel file $kernel"
	[ -z "$initrd" ] || [ -f "$initrd" ] || die "no initrd file $initrd"
fi
log=${log:-qemu-${mac//:/-}.log}

# graphics=off: SeaBIOS copies what option ROMs (iPXE) write on the screen to the serial
# port, so the log shows the ROM's progress too.
# shellcheck disable=SC2054  # the commas are QEMU's
# reboot-timeout=0: SeaBIOS with nothing left to boot resets at once (rather than hang until
# the timeout), and -no-reboot turns that reset into QEMU's exit.
machine=pc,graphics=off
# Secure Boot firmware keeps its variables safe from the OS through SMM: a q35 machine
# with SMM on, and the variable store on a pflash only SMM may write.
[ -n "$secure_boot" ] && machine=q35,smm=on,graphics=off
cpu=()
# arm64: QEMU's generic virt board; the cloud kernel drives its PL011 UART and PCIe.
[ "$arch" = arm64 ] && machine=virt cpu=(-cpu cortex-a57)
args=(-name "xpxe-$mac" -machine "$machine" "${cpu[@]}" -accel "$accel" -m "$memory" -smp 1
	-display none -monitor none -no-reboot -no-user-config -boot reboot-timeout=0)

# The serial console: a file, or the terminal with a copy in the file.
if $console; then
	args+=(-chardev "stdio,id=con0,signal=off,logfile=$log" -serial chardev:con0)
else
	args+=(-chardev "file,id=con0,path=$log" -serial chardev:con0)
fi

cleanup_files=()
case "$firmware" in
uefi)
	[ -f "$OVMF_CODE" ] || die "no $OVMF_CODE (Debian package $([ "$arch" = arm64 ] && echo qemu-efi-aarch64 || echo ovmf))"
	vars=$(mktemp "${TMPDIR:-/tmp}/xpxe-ovmf-vars.XXXXXX")
	cleanup_files+=("$vars")
	cp "$OVMF_VARS" "$vars"
	args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
		-drive "if=pflash,format=raw,unit=1,file=$vars")
	[ -n "$secure_boot" ] && args+=(-global driver=cfi.pflash01,property=secure,value=on)
	# OVMF makes boot options PXEv4, PXEv6, HTTPv4, HTTPv6 for a NIC, in that order,
	# and bootindex puts them first as a group. Its PxeBcPcdProducerLib reads these
	# fw_cfg files (edk2 >= stable202011; Debian 12's 2022.11 honours them): without
	# the PXE drivers, HTTPv4 is the first option tried.
	# shellcheck disable=SC2054  # the commas are QEMU's
	if $http_boot; then
		args+=(-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n
			-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n)
	fi
	;;
esac

dev="$nic,netdev=n0,mac=$mac"
case "$rom" in
default) ;;
none) dev+=",romfile=" ;;
*)
	[ -f "$rom" ] || die "no ROM file $rom"
	dev+=",romfile=$rom"
	;;
esac
# A network boot tries the NIC first, then the rest (SeaBIOS and OVMF both follow
# bootindex), rather than floppy, CD and disk first.
[ -z "$kernel" ] && dev+=",bootindex=1"
netdev="tap,id=n0,ifname=$tap,script=no,downscript=no"
# filter-dump writes what the tap carries, and with virtio-net that starts with the
# 10-byte virtio-net header unless the tap goes without one (vnet_hdr=off).
[ -n "$pcap" ] && netdev+=",vnet_hdr=off"
args+=(-netdev "$netdev" -device "$dev")
# shellcheck disable=SC2054  # the commas are QEMU's
[ -n "$disk" ] && args+=(-drive "if=none,id=d0,format=raw,file=$disk" -device "virtio-blk-pci,drive=d0,bootindex=2")
[ -n "$pcap" ] && args+=(-object "filter-dump,id=dump0,netdev=n0,file=$pcap")

smbios=
[ -n "$uuid" ] && smbios+=",uuid=$uuid"
[ -n "$serial" ] && smbios+=",serial=$serial"
[ -n "$smbios" ] && args+=(-smbios "type=1$smbios")

if [ -n "$kernel" ]; then
	args+=(-kernel "$kernel")
	[ -n "$initrd" ] && args+=(-initrd "$initrd")
	$append_set && args+=(-append "$append")
fi
args+=("${extra[@]}")

if $dry_run; then
	printf '%q ' ip netns exec "$netns" "$QEMU" "${args[@]}"
	echo
	rm -f "${cleanup_files[@]}"
	exit 0
fi

command -v "$QEMU" >/dev/null ||
	die "$QEMU is missing (Debian package $([ "$arch" = arm64 ] && echo qemu-system-arm || echo qemu-system-x86))"
ip netns list | grep -qw "^$netns" || die "no namespace $netns (LAB=$LAB scripts/lab.sh up)"
ip -n "$netns" link show "$tap" >/dev/null 2>&1 || die "no tap $tap in $netns"
: >"$log"

# QEMU runs under timeout(1), which kills it when the time is up (TERM, then KILL 5 s
# later) and itself is QEMU's parent: setpriv --pdeathsig makes the kernel kill QEMU
# should timeout die first, and our trap kills timeout (and so QEMU) when we are
# interrupted. QEMU never outlives the timeout.
QPID=
on_exit() {
	local rc=$?
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill -TERM "$QPID" 2>/dev/null
		wait "$QPID" 2>/dev/null
	fi
	rm -f "${cleanup_files[@]}"
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

start=$(date +%s.%N)
# With the console on the terminal, QEMU stays in our process group (timeout's
# --foreground) so that it may write to the terminal.
fg=()
$console && fg=(--foreground)
timeout "${fg[@]}" --kill-after=5 "$timeout" setpriv --pdeathsig KILL \
	ip netns exec "$netns" "$QEMU" "${args[@]}" </dev/null &
QPID=$!
rc=0
wait "$QPID" || rc=$?
QPID=
secs=$(echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }')
case $rc in
0) echo "qemu: $mac: the guest powered off or reset after $secs s (log: $log)" >&2 ;;
124 | 137) rc=124; echo "qemu: $mac timed out after $timeout s, killed (log: $log)" >&2 ;;
*) echo "qemu: $mac: QEMU exited $rc after $secs s (log: $log)" >&2 ;;
esac
exit "$rc"
