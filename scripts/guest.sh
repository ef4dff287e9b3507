#!/usr/bin/env bash
# The "Talos-like" guest of the end-to-end tests: a kernel and an initramfs, made from
# Debian packages only, whose /init does what Talos does when it fetches its machine
# config (scripts/guest/init: DHCP, talos.config= with ${mac} ${uuid} ${serial}
# ${hostname} expanded, HTTP or TFTP fetch with retries, a digest on the serial console).
#
#   scripts/guest.sh build [OUTDIR]   make OUTDIR/vmlinuz and OUTDIR/initramfs.img
#                                     (default build/guest); skips what is up to date
#   scripts/guest.sh info  [OUTDIR]   print what was built (kernel package, modules)
#
# XPXE_GUEST_ARCH=arm64 makes the arm64 guest (default OUTDIR build/guest-arm64) from
# Debian's arm64 packages: linux-image-cloud-arm64 and busybox-static, fetched with
# `apt-get download` through a private apt configuration (scripts/apt-arm64.sh), so the
# host's dpkg architectures and sources are never changed.
#
# The kernel is Debian's cloud kernel (linux-image-cloud-amd64 resolved to its versioned
# package, fetched with `apt-get download`, unpacked with `dpkg-deb -x` into
# build/cache/guest). It drives no e1000, only virtio-net, and that as modules: the
# initramfs carries those modules in dependency order (from the depmod'ed modules.dep),
# busybox-static (the installed package's /bin/busybox) and the files of scripts/guest/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
ARCH=${XPXE_GUEST_ARCH:-amd64}
case $ARCH in
amd64)
	CACHE=${XPXE_GUEST_CACHE:-$root/build/cache/guest}
	DEFAULT_OUT=$root/build/guest
	;;
arm64)
	CACHE=${XPXE_GUEST_CACHE:-$root/build/cache/guest-arm64}
	DEFAULT_OUT=$root/build/guest-arm64
	;;
*)
	echo "guest: XPXE_GUEST_ARCH is amd64 or arm64, not '$ARCH'" >&2
	exit 2
	;;
esac
META_PKG=linux-image-cloud-$ARCH
BUSYBOX=${BUSYBOX:-/bin/busybox}
# The host's busybox lists the applets (the same Debian version as the arm64 one).
HOST_BUSYBOX=${HOST_BUSYBOX:-/bin/busybox}
# The NIC drivers the guest needs; their dependencies are found in modules.dep.
NIC_MODULES=(virtio_pci virtio_net)

die() {
	echo "guest: $*" >&2
	exit 1
}
log() { echo "guest: $*" >&2; }

# apt for ARCH: the host's for amd64; for arm64 a private configuration (scripts/apt-arm64.sh).
APT_OPTS=()
if [ "$ARCH" = arm64 ]; then
	# shellcheck source=scripts/apt-arm64.sh
	source "$here/apt-arm64.sh"
	APT_OPTS=("${APT_ARM64[@]}")
fi
apt_setup() {
	if [ "$ARCH" = arm64 ]; then apt_arm64_setup; fi
}
apt_update() {
	if [ "$ARCH" = arm64 ]; then
		apt-get "${APT_OPTS[@]}" update -qq >&2 || true
	elif [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq >&2 || true
	fi
}

# The versioned kernel package the meta package depends on, e.g. linux-image-6.1.0-56-cloud-amd64.
resolve_kernel_pkg() {
	apt-cache "${APT_OPTS[@]}" depends "$META_PKG" 2>/dev/null |
		sed -n "s/^ *Depends: \(linux-image-[^ ]*-cloud-$ARCH\)\$/\1/p" | head -1
}

# Prints the path of a .deb of PKG (the candidate version) in the cache, downloading it when
# missing; older versions of it go.
package_deb() {
	local pkg=$1 ver deb
	ver=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
	if [ -z "$ver" ]; then
		deb=$(ls -t "$CACHE/${pkg}"_*"_$ARCH.deb" 2>/dev/null | head -1 || true)
		[ -n "$deb" ] && { echo "$deb"; return; }
		die "apt-cache has no version of $pkg ($ARCH)"
	fi
	deb=$CACHE/${pkg}_${ver//:/%3a}_$ARCH.deb
	if [ ! -s "$deb" ]; then
		log "downloading $pkg $ver ($ARCH)"
		mkdir -p "$CACHE"
		rm -f "$CACHE/${pkg}"_*"_$ARCH.deb"
		(cd "$CACHE" && apt-get "${APT_OPTS[@]}" download -q "$pkg=$ver" 2>&1 |
			grep -v '^W: Download is performed unsandboxed' >&2) || true
		[ -s "$deb" ] || die "apt-get download $pkg=$ver did not produce $deb"
	fi
	echo "$deb"
}

# Prints the path of the kernel .deb in the cache, downloading it when missing.
kernel_deb() {
	local pkg ver deb
	apt_setup
	pkg=$(resolve_kernel_pkg)
	if [ -z "$pkg" ]; then
		# A fresh machine (or a fresh arm64 cache) may have no package lists yet.
		log "apt-cache knows no $META_PKG: running apt-get update"
		apt_update
		pkg=$(resolve_kernel_pkg)
	fi
	if [ -z "$pkg" ]; then
		# Offline with a warm cache: keep using the newest kernel already downloaded.
		deb=$(ls -t "$CACHE"/linux-image-*-cloud-"$ARCH"_*.deb 2>/dev/null | head -1 || true)
		[ -n "$deb" ] && { echo "$deb"; return; }
		die "cannot resolve $META_PKG (run 'apt-get update' as root)"
	fi
	ver=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
	[ -n "$ver" ] || die "apt-cache has no version of $pkg"
	# Debian file names carry the version with ':' (epoch) escaped as %3a.
	deb=$CACHE/${pkg}_${ver//:/%3a}_$ARCH.deb
	if [ ! -s "$deb" ]; then
		log "downloading $pkg $ver"
		mkdir -p "$CACHE"
		# A newer kernel replaces the older one in the cache.
		rm -f "$CACHE"/linux-image-*-cloud-"$ARCH"_*.deb
		# apt-get download writes to the current directory; as root it warns that the
		# _apt user cannot write there, which is harmless.
		(cd "$CACHE" && apt-get "${APT_OPTS[@]}" download -q "$pkg=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
			true
		[ -s "$deb" ] || die "apt-get download $pkg=$ver did not produce $deb"
	fi
	echo "$deb"
}

# arm64: busybox-static's arm64 binary, unpacked from its package into the cache.
arm64_busybox() {
	local deb dir=$CACHE/busybox
	deb=$(package_deb busybox-static)
	if [ ! -x "$dir/bin/busybox" ] || [ "$deb" -nt "$dir/bin/busybox" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir"
		touch "$dir/bin/busybox"
	fi
	echo "$dir/bin/busybox"
}

# Unpacks DEB into $CACHE/kernel (once per .deb) and runs depmod there, since the
# package ships no modules.dep (dpkg's postinst makes it). Prints the kernel release.
unpack_kernel() {
	local deb=$1 tree=$CACHE/kernel release
	if [ ! -f "$tree/.unpacked" ] || [ "$deb" -nt "$tree/.unpacked" ] ||
		[ "$(cat "$tree/.unpacked")" != "$(basename "$deb")" ]; then
		log "unpacking $(basename "$deb")"
		rm -rf "$tree"
		mkdir -p "$tree"
		dpkg-deb -x "$deb" "$tree"
		release=$(ls "$tree/lib/modules" | head -1)
		[ -n "$release" ] || die "$deb has no lib/modules"
		depmod -b "$tree" "$release"
		basename "$deb" >"$tree/.unpacked"
	fi
	ls "$tree/lib/modules" | head -1
}

# add_dhclient STAGE: ISC dhclient (the host's, package isc-dhcp-client) and the libraries
# ldd names, for the guest's DHCPv6 (busybox 1.35 in Debian has no udhcpc6). amd64 only:
# an arm64 guest has none and fetches over IPv4 only.
add_dhclient() {
	local stage=$1 dhclient lib
	[ "$ARCH" = amd64 ] || return 0
	dhclient=$(command -v dhclient || true)
	[ -n "$dhclient" ] || die "dhclient is missing (Debian package isc-dhcp-client): the guest's DHCPv6"
	mkdir -p "$stage/sbin" "$stage/lib64" "$stage/lib/x86_64-linux-gnu"
	cp "$dhclient" "$stage/sbin/dhclient"
	for lib in $(ldd "$dhclient" | grep -o '/[^ ]*'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

# module_order NAME MODDIR: appends NAME's modules to MODS (scripts/modules.sh).
source "$here/modules.sh"

build() {
	local out=${1:-$DEFAULT_OUT} deb release moddir tree stage m inputs newest
	command -v dpkg-deb >/dev/null || die "dpkg-deb is missing"
	command -v depmod >/dev/null || die "depmod is missing (Debian package kmod)"
	[ -x "$HOST_BUSYBOX" ] || die "$HOST_BUSYBOX is missing (Debian package busybox-static)"
	# A dynamic busybox would need its libraries in the initramfs.
	if ldd "$HOST_BUSYBOX" >/dev/null 2>&1; then
		die "$HOST_BUSYBOX is dynamically linked: install busybox-static"
	fi
	mkdir -p "$out"
	out=$(cd "$out" && pwd)

	deb=$(kernel_deb)
	[ "$ARCH" = arm64 ] && BUSYBOX=$(arm64_busybox)
	release=$(unpack_kernel "$deb")
	tree=$CACHE/kernel
	moddir=$tree/lib/modules/$release

	if [ ! -s "$out/vmlinuz" ] || [ "$deb" -nt "$out/vmlinuz" ]; then
		cp "$tree/boot/vmlinuz-$release" "$out/vmlinuz.tmp"
		mv "$out/vmlinuz.tmp" "$out/vmlinuz"
		log "$out/vmlinuz: $release"
	fi

	# The initramfs is remade when any of its inputs is newer than it.
	inputs=("$deb" "$BUSYBOX" "${BASH_SOURCE[0]}" "$here"/guest/*)
	newest=
	for m in "${inputs[@]}"; do
		if [ ! -s "$out/initramfs.img" ] || [ "$m" -nt "$out/initramfs.img" ]; then
			newest=$m
			break
		fi
	done
	if [ -z "$newest" ]; then
		log "$out is up to date"
		return 0
	fi

	for m in "${NIC_MODULES[@]}"; do module_order "$m" "$moddir"; done
	stage=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-guest.XXXXXX")
	# shellcheck disable=SC2064  # expand now: stage is local
	trap "rm -rf '$stage'" EXIT
	mkdir -p "$stage"/{bin,sbin,etc,proc,sys,dev,run,tmp,lib/modules}
	cp "$BUSYBOX" "$stage/bin/busybox"
	# One link per applet, so /init can call them by name.
	for m in $("$HOST_BUSYBOX" --list); do
		[ "$m" = busybox ] || ln -s busybox "$stage/bin/$m"
	done
	install -m 755 "$here/guest/init" "$stage/init"
	install -m 755 "$here/guest/udhcpc.script" "$stage/etc/udhcpc.script"
	install -m 644 "$here/guest/talos-url.awk" "$stage/etc/talos-url.awk"
	install -m 755 "$here/guest/dhclient6.script" "$stage/etc/dhclient6.script"
	add_dhclient "$stage"
	: >"$stage/etc/modules"
	for m in "${MODS[@]}"; do
		cp "$moddir/$m" "$stage/lib/modules/"
		basename "$m" >>"$stage/etc/modules"
	done
	echo "$release" >"$stage/etc/kernel-release"

	(cd "$stage" && find . | LC_ALL=C sort | "$HOST_BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) |
		gzip -9n >"$out/initramfs.img.tmp"
	mv "$out/initramfs.img.tmp" "$out/initramfs.img"
	{
		echo "arch=$ARCH"
		echo "kernel_package=$(basename "$deb")"
		echo "kernel_release=$release"
		echo "modules=$(tr '\n' ' ' <"$stage/etc/modules")"
	} >"$out/guest.info"
	log "$out/initramfs.img: $(stat -c %s "$out/initramfs.img") bytes, modules: $(tr '\n' ' ' <"$stage/etc/modules")"
}

case "${1:-}" in
build)
	shift
	build "$@"
	;;
info) cat "${2:-$DEFAULT_OUT}/guest.info" ;;
*)
	echo "usage: [XPXE_GUEST_ARCH=amd64|arm64] $0 build [OUTDIR] | info [OUTDIR]   (default OUTDIR: build/guest, build/guest-arm64)" >&2
	exit 2
	;;
esac
