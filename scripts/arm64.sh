#!/usr/bin/env bash
# What arm64 machines boot, made from Debian's arm64 packages only (see README, "arm64"):
#
#   scripts/arm64.sh fetch [DIR]   Debian's signed netboot GRUB for arm64 (grub-efi-arm64-
#                                  signed's grubnetaa64.efi.signed) as DIR/grubaa64.efi
#                                  (default build/cache/arm64): the second stage that xpxe
#                                  gives arm64 UEFI machines (Debian ships no arm64 iPXE).
#                                  Its prefix is /grub on the server it came from: it reads
#                                  grub/grub.cfg, which xpxe makes.
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

case "${1:-}" in
fetch)
	shift
	fetch "$@"
	;;
guest)
	shift
	XPXE_GUEST_ARCH=arm64 exec "$here/guest.sh" build "$@"
	;;
*)
	echo "usage: $0 fetch [DIR] | guest [DIR]" >&2
	exit 2
	;;
esac
