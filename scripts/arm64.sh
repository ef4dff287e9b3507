#!/usr/bin/env bash
# What arm64 machines boot, made from Debian's arm64 packages only (see README, "arm64"):
#
#   scripts/arm64.sh fetch [DIR]   Debian's signed netboot GRUB for arm64 (grub-efi-arm64-
#                                  signed's grubnetaa64.efi.signed) as DIR/grubaa64.efi
#                                  (default build/cache/arm64): the second stage that xpxe
#                                  gives arm64 UEFI machines (Debian ships no arm64 iPXE).
#                                  Its prefix is /grub on the server it came from: it reads
#                                  grub/grub.cfg, which xpxe makes.
#   scripts/arm64.sh uki KERNEL INITRD CMDLINE OUT
#                                  an arm64 Unified Kernel Image, for arm64 UEFI HTTP
#                                  boot (Debian's netboot GRUB cannot go on after HTTP
#                                  boot): systemd-boot-efi's arm64 stub (linuxaa64.efi.
#                                  stub, fetched into build/cache/arm64) with .osrel,
#                                  .cmdline, .linux and .initrd added by binutils-aarch64-
#                                  linux-gnu's objcopy (the host's objcopy knows no arm64
#                                  PE). Unsigned: AAVMF's default variables have Secure
#                                  Boot off
#   scripts/arm64.sh guest [DIR]   the arm64 Talos-like guest (scripts/guest.sh with
#                                  XPXE_GUEST_ARCH=arm64): DIR/vmlinuz, DIR/initramfs.img
#                                  (default build/guest-arm64)
#
# Packages come through apt's own client with a private arm64 configuration
# (scripts/apt-arm64.sh), downloaded and unpacked, never installed nor checked in.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=scripts/apt-arm64.sh
source "$here/apt-arm64.sh"

die() {
	echo "arm64: $*" >&2
	exit 1
}

fetch() {
	local out=${1:-$root/build/cache/arm64} tmp deb
	[ -s "$out/grubaa64.efi" ] && { echo "$out/grubaa64.efi"; return 0; }
	command -v dpkg-deb >/dev/null || die "dpkg-deb is missing"
	mkdir -p "$out"
	apt_arm64_setup
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-arm64.XXXXXX")
	# shellcheck disable=SC2064  # expand now
	trap "rm -rf '$tmp'" EXIT
	(cd "$tmp" && apt_arm64_download grub-efi-arm64-signed)
	deb=$(ls "$tmp"/grub-efi-arm64-signed_*_arm64.deb 2>/dev/null | head -1 || true)
	[ -s "$deb" ] || die "apt-get download grub-efi-arm64-signed (arm64) failed: no network, or no package lists ($APT_ARM64_DIR)"
	dpkg-deb -x "$deb" "$tmp/x"
	cp "$tmp/x/usr/lib/grub/arm64-efi-signed/grubnetaa64.efi.signed" "$out/grubaa64.efi.tmp"
	mv "$out/grubaa64.efi.tmp" "$out/grubaa64.efi"
	echo "arm64: $out/grubaa64.efi from $(basename "$deb")" >&2
	echo "$out/grubaa64.efi"
}

# The arm64 stub of systemd-boot-efi (arm64), fetched once into the cache.
stub() {
	local dir=$root/build/cache/arm64 tmp deb
	[ -s "$dir/linuxaa64.efi.stub" ] && { echo "$dir/linuxaa64.efi.stub"; return 0; }
	mkdir -p "$dir"
	apt_arm64_setup
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-arm64.XXXXXX")
	(cd "$tmp" && apt_arm64_download systemd-boot-efi)
	deb=$(ls "$tmp"/systemd-boot-efi_*_arm64.deb 2>/dev/null | head -1 || true)
	[ -s "$deb" ] || { rm -rf "$tmp"; die "apt-get download systemd-boot-efi (arm64) failed"; }
	dpkg-deb -x "$deb" "$tmp/x"
	cp "$tmp/x/usr/lib/systemd/boot/efi/linuxaa64.efi.stub" "$dir/linuxaa64.efi.stub"
	rm -rf "$tmp"
	echo "$dir/linuxaa64.efi.stub"
}

uki() {
	[ $# -eq 4 ] || die "usage: uki KERNEL INITRD CMDLINE OUT"
	local kernel=$1 initrd=$2 cmdline=$3 out=$4 tmp objcopy=aarch64-linux-gnu-objcopy st kbytes
	command -v "$objcopy" >/dev/null || die "no $objcopy (Debian package binutils-aarch64-linux-gnu)"
	[ -f "$kernel" ] || die "no kernel $kernel"
	[ -f "$initrd" ] || die "no initrd $initrd"
	st=$(stub)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-uki.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	printf 'ID=xpxe-test\nNAME="xpxe test guest (arm64)"\n' >"$tmp/osrel"
	printf '%s' "$cmdline" >"$tmp/cmdline"
	# As scripts/secboot.sh does for x86-64: the stub's sections end below 0x20000.
	kbytes=$(stat -c %s "$kernel")
	"$objcopy" \
		--add-section .osrel="$tmp/osrel" --change-section-vma .osrel=0x20000 \
		--add-section .cmdline="$tmp/cmdline" --change-section-vma .cmdline=0x30000 \
		--add-section .linux="$kernel" --change-section-vma .linux=0x2000000 \
		--add-section .initrd="$initrd" \
		--change-section-vma .initrd=$((0x2000000 + (kbytes + 0xfffff) / 0x100000 * 0x100000)) \
		"$st" "$out"
}

case "${1:-}" in
uki)
	shift
	uki "$@"
	;;
fetch)
	shift
	fetch "$@"
	;;
guest)
	shift
	XPXE_GUEST_ARCH=arm64 exec "$here/guest.sh" build "$@"
	;;
*)
	echo "usage: $0 fetch [DIR] | uki KERNEL INITRD CMDLINE OUT | guest [DIR]" >&2
	exit 2
	;;
esac
