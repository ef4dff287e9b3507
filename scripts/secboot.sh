#!/usr/bin/env bash
# What the Secure Boot tests boot, made from Debian packages only (see README, "Secure Boot"):
#
#   scripts/secboot.sh fetch [DIR]     Debian's Microsoft-signed shim and Debian-signed
#                                      netboot GRUB: DIR/shimx64.efi, DIR/grubx64.efi
#                                      (default build/cache/secboot). Downloaded with
#                                      `apt-get download` and unpacked, not installed: the
#                                      packages' scripts would run grub-install on an EFI host.
#   scripts/secboot.sh uki KERNEL INITRD CMDLINE OUT
#                                      a Unified Kernel Image: systemd-boot-efi's stub
#                                      (linuxx64.efi.stub) with .osrel, .cmdline, .linux and
#                                      .initrd added by objcopy (Debian 12 has no ukify)
#   scripts/secboot.sh sign IN OUT     IN signed with Debian's snakeoil test key, the one
#                                      OVMF_VARS_4M.snakeoil.fd trusts (sbsign)
#   scripts/secboot.sh disk OUT LOADER a 40 MiB disk: an MBR with one EFI system partition
#                                      (FAT, mtools) holding LOADER as \EFI\BOOT\BOOTX64.EFI
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
STUB=${STUB:-/usr/lib/systemd/boot/efi/linuxx64.efi.stub}
SNAKEOIL_KEY=/usr/share/ovmf/PkKek-1-snakeoil.key
SNAKEOIL_CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem

die() {
	echo "secboot: $*" >&2
	exit 1
}

fetch() {
	local out=${1:-$root/build/cache/secboot} tmp deb
	if [ -s "$out/shimx64.efi" ] && [ -s "$out/grubx64.efi" ]; then
		return 0
	fi
	mkdir -p "$out"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-secboot.XXXXXX")
	# shellcheck disable=SC2064  # expand now
	trap "rm -rf '$tmp'" EXIT
	(cd "$tmp" && apt-get download -q shim-signed grub-efi-amd64-signed 2>&1 |
		grep -v '^W: Download is performed unsandboxed' >&2) || true
	for deb in "$tmp"/shim-signed_*.deb "$tmp"/grub-efi-amd64-signed_*.deb; do
		[ -s "$deb" ] || die "apt-get download shim-signed grub-efi-amd64-signed failed (run apt-get update?)"
		dpkg-deb -x "$deb" "$tmp/x"
	done
	cp "$tmp/x/usr/lib/shim/shimx64.efi.signed" "$out/shimx64.efi"
	# The netboot image: its prefix is /grub on the server it was fetched from.
	cp "$tmp/x/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" "$out/grubx64.efi"
	echo "secboot: $out/shimx64.efi, $out/grubx64.efi" >&2
}

uki() {
	[ $# -eq 4 ] || die "usage: uki KERNEL INITRD CMDLINE OUT"
	local kernel=$1 initrd=$2 cmdline=$3 out=$4 tmp
	[ -f "$STUB" ] || die "no $STUB (Debian package systemd-boot-efi)"
	[ -f "$kernel" ] || die "no kernel $kernel"
	[ -f "$initrd" ] || die "no initrd $initrd"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-uki.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	printf 'ID=xpxe-test\nNAME="xpxe test guest"\n' >"$tmp/osrel"
	printf '%s' "$cmdline" >"$tmp/cmdline"
	# The stub's own sections end below 0x20000; the added ones go above it, each
	# aligned and far enough apart for what it holds (the initrd last: no limit).
	local kbytes
	kbytes=$(stat -c %s "$kernel")
	objcopy \
		--add-section .osrel="$tmp/osrel" --change-section-vma .osrel=0x20000 \
		--add-section .cmdline="$tmp/cmdline" --change-section-vma .cmdline=0x30000 \
		--add-section .linux="$kernel" --change-section-vma .linux=0x2000000 \
		--add-section .initrd="$initrd" \
		--change-section-vma .initrd=$((0x2000000 + (kbytes + 0xfffff) / 0x100000 * 0x100000)) \
		"$STUB" "$out"
}

sign() {
	[ $# -eq 2 ] || die "usage: sign IN OUT"
	local tmp
	command -v sbsign >/dev/null || die "no sbsign (Debian package sbsigntool)"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-sign.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	# The key ships encrypted (passphrase "snakeoil"); sbsign wants it plain.
	openssl pkey -passin pass:snakeoil -in "$SNAKEOIL_KEY" -out "$tmp/key" 2>/dev/null ||
		die "cannot read $SNAKEOIL_KEY (Debian package ovmf)"
	sbsign --key "$tmp/key" --cert "$SNAKEOIL_CERT" --output "$2" "$1" >/dev/null 2>&1 ||
		die "sbsign failed on $1"
}

disk() {
	[ $# -eq 2 ] || die "usage: disk OUT LOADER"
	local out=$1 img
	command -v mformat >/dev/null || die "no mformat (Debian package mtools)"
	rm -f "$out"
	truncate -s 40M "$out"
	# One MBR partition of type 0xEF (EFI system) from sector 2048 to the end.
	python3 - "$out" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    start = 2048
    size = 40 * 1024 * 1024 // 512 - start
    f.seek(0x1BE)
    f.write(struct.pack("<B3sB3sII", 0, b"\x00\x02\x00", 0xEF, b"\xff\xff\xff", start, size))
    f.seek(510)
    f.write(b"\x55\xaa")
PY
	img="$out@@1M"
	mformat -i "$img" -F -v ESP ::
	mmd -i "$img" ::/EFI ::/EFI/BOOT
	mcopy -i "$img" "$2" ::/EFI/BOOT/BOOTX64.EFI
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
fetch) fetch "$@" ;;
uki) uki "$@" ;;
sign) sign "$@" ;;
disk) disk "$@" ;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
