#!/usr/bin/env bash
# The kernel matrix: xpxe's BPF programs and a short lab smoke test, run inside QEMU guests
# that boot Debian's own kernels, so the verifiers users have (Debian 12's 6.1, the 6.12 of
# Debian 13 from bookworm-backports) judge every program. The lab's own kernel is the host's:
# `make check` covers it. 6.1-arm64 is Debian 12's arm64 kernel (cloud-arm64) on QEMU's
# aarch64 virt board: its verifier and JIT (not x86-64's) judge every program, and xdp_pxe
# attaches to a veth. The build's own binaries are amd64's, so there the BPF program tests
# and the smoke test do not run; the guest's loader is Debian's arm64 bpftool and busybox.
#
#   scripts/kernels.sh run [KERNEL...]    boot each KERNEL (default: 6.1 6.12 6.1-arm64) side by side,
#                                         print TAP lines "ok N - [KERNEL] ..." and a summary
#   scripts/kernels.sh fetch KERNEL       download and unpack it (prints the tree)
#   scripts/kernels.sh initramfs KERNEL   build its initramfs (prints the file)
#
# Everything comes from Debian packages: the kernel .deb (`apt-get download`, `dpkg-deb -x`)
# with its own modules (veth, sch_ingress, cls_bpf), busybox-static, and this build's
# binaries with the shared libraries they link (ldd) copied in. Downloads are cached in
# build/cache/kernels/ (XPXE_KERNEL_CACHE); a second run downloads nothing. 6.12 comes from a
# bookworm-backports source that this script keeps in its own apt configuration there, so the
# host's apt sources are never changed; 6.1-arm64's packages come through scripts/apt-arm64.sh's
# private arm64 configuration alike.
#
# Environment: XPXE_BIN, XPXE_BUILD (the build under test; default ./xpxe and build/),
# XPXE_KERNEL_TIMEOUT (seconds per guest, default 780: under run.sh's 900), XPXE_KERNEL_OUT (where the guests'
# console and result logs go, default build/kernels), XPXE_KERNEL_FUZZ (frames for
# test_fuzz_xdp, default 2000), XPXE_KERNEL_ONLY (verify, tests or smoke: that part alone).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
CACHE=${XPXE_KERNEL_CACHE:-$root/build/cache/kernels}
BUILD=${XPXE_BUILD:-$root/build}
XPXE=${XPXE_BIN:-$root/xpxe}
OUT=${XPXE_KERNEL_OUT:-$BUILD/kernels}
TIMEOUT=${XPXE_KERNEL_TIMEOUT:-780}
BUSYBOX=${BUSYBOX:-/bin/busybox}
DEFAULT_KERNELS=(6.1 6.12 6.1-arm64)
# What the guest needs from the kernel package, their dependencies found in modules.dep.
MODULES=(veth sch_ingress cls_bpf)
# Host binaries the guest runs besides busybox: namespaces and XDP attach (iproute2), tx
# checksum offload off (ethtool), program loading (bpftool).
HOST_BINS=(ip ethtool bpftool)
# An arm64 guest's userland: Debian's arm64 packages, unpacked (not installed), with the
# shared libraries bpftool links (its Depends).
ARM64_PKGS=(busybox-static bpftool libc6 libcap2 libelf1 zlib1g)

die() {
	echo "kernels: $*" >&2
	exit 1
}
log() { echo "kernels: $*" >&2; }

# --- fetching a kernel ------------------------------------------------------------------

# KERNEL's architecture: amd64, or arm64 for the names that end in -arm64.
arch_of() {
	case $1 in
	*-arm64) echo arm64 ;;
	*) echo amd64 ;;
	esac
}

# apt-get/apt-cache with the cache's own configuration for KERNEL: 6.1 uses the host's
# sources (bookworm, bookworm-security); 6.12 a private bookworm-backports source; 6.1-arm64
# scripts/apt-arm64.sh's (bookworm's suites, arm64 only).
APT_OPTS=()
apt_for() {
	local kernel=$1 dir=$CACHE/apt
	APT_OPTS=()
	case $kernel in
	6.1) ;;
	6.1-arm64)
		# Lists of its own, apart from test_arm64's (scripts/arm64.sh): make check runs the
		# two side by side, and two `apt-get update`s of one list directory collide.
		APT_ARM64_DIR=$CACHE/apt-arm64
		# shellcheck source=scripts/apt-arm64.sh
		source "$here/apt-arm64.sh"
		apt_arm64_setup
		APT_OPTS=("${APT_ARM64[@]}")
		;;
	6.12)
		mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
			"http://deb.debian.org/debian bookworm-backports main" >"$dir/sources.list"
		APT_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
			-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
		;;
	*) die "unknown kernel '$kernel' (known: ${DEFAULT_KERNELS[*]})" ;;
	esac
}

# The versioned package the cloud meta package depends on, e.g. linux-image-6.1.0-57-cloud-amd64.
resolve_pkg() {
	local kernel=$1 arch pkg
	arch=$(arch_of "$kernel")
	pkg=$(apt-cache "${APT_OPTS[@]}" depends "linux-image-cloud-$arch" 2>/dev/null |
		sed -n "s/^ *Depends: \\(linux-image-[^ ]*-cloud-$arch\\)\$/\\1/p" | head -1)
	case $kernel:$pkg in
	6.1:linux-image-6.1.* | 6.1-arm64:linux-image-6.1.*) echo "$pkg" ;;
	6.12:linux-image-6.12.*) echo "$pkg" ;;
	*) return 1 ;;
	esac
}

# Prints the unpacked tree of KERNEL (boot/vmlinuz-*, lib/modules/*), fetching it when missing.
fetch() {
	local kernel=$1 pkg ver deb tree
	apt_for "$kernel"
	if ! pkg=$(resolve_pkg "$kernel"); then
		log "$kernel: no package lists for it yet: apt-get update"
		apt-get "${APT_OPTS[@]}" -o DPkg::Lock::Timeout=900 update -qq >&2 || true
		pkg=$(resolve_pkg "$kernel") || pkg=
	fi
	if [ -z "$pkg" ]; then
		# Offline with a warm cache: keep the kernel already there.
		tree=$(ls -d "$CACHE/$kernel"/linux-image-* 2>/dev/null | tail -1 || true)
		[ -n "$tree" ] && [ -f "$tree/.unpacked" ] && { echo "$tree"; return; }
		die "$kernel: cannot resolve linux-image-cloud-$(arch_of "$kernel") (apt-get update as root?)"
	fi
	ver=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$pkg" | sed -n 's/^Version: //p' | head -1)
	[ -n "$ver" ] || die "$kernel: apt-cache has no version of $pkg"
	tree=$CACHE/$kernel/$pkg-$ver
	if [ ! -f "$tree/.unpacked" ]; then
		deb=$CACHE/$kernel/${pkg}_${ver//:/%3a}_$(arch_of "$kernel").deb
		mkdir -p "$CACHE/$kernel"
		if [ ! -s "$deb" ]; then
			log "$kernel: downloading $pkg $ver"
			# A newer kernel replaces the older one in the cache.
			rm -rf "${CACHE:?}/$kernel"/linux-image-*
			(cd "$CACHE/$kernel" && apt-get "${APT_OPTS[@]}" download -q "$pkg=$ver" 2>&1 |
				grep -v '^W: Download is performed unsandboxed' >&2) || true
			[ -s "$deb" ] || die "$kernel: apt-get download $pkg=$ver did not produce $deb"
		fi
		rm -rf "$tree"
		mkdir -p "$tree"
		dpkg-deb -x "$deb" "$tree"
		local release
		release=$(ls "$tree/lib/modules" | head -1)
		[ -n "$release" ] || die "$deb has no lib/modules"
		depmod -b "$tree" "$release"
		basename "$deb" >"$tree/.unpacked"
		# The tree is all the guest needs: the .deb goes.
		rm -f "$deb"
	fi
	echo "$tree"
}

# Prints the unpacked arm64 userland (ARM64_PKGS' files under one root), fetching it when
# missing. Candidate versions of the cached package lists, as the kernel's.
fetch_arm64_userland() {
	local dir=$CACHE/arm64-userland tmp p deb
	if [ ! -f "$dir/.unpacked" ] || [ "$(head -1 "$dir/.unpacked")" != "${ARM64_PKGS[*]}" ]; then
		apt_for 6.1-arm64
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-arm64.XXXXXX")
		log "6.1-arm64: downloading ${ARM64_PKGS[*]} (arm64)"
		(cd "$tmp" && apt_arm64_download "${ARM64_PKGS[@]}")
		for p in "${ARM64_PKGS[@]}"; do
			ls "$tmp/${p}_"*_arm64.deb >/dev/null 2>&1 ||
				{ rm -rf "$tmp"; die "apt-get download $p (arm64) failed: no network, or no package lists?"; }
		done
		rm -rf "$dir"
		mkdir -p "$dir/root"
		for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
		{ echo "${ARM64_PKGS[*]}"; (cd "$tmp" && ls); } >"$dir/.unpacked"
		rm -rf "$tmp"
	fi
	echo "$dir/root"
}

# --- the initramfs --------------------------------------------------------------------

# module_order NAME MODDIR: appends NAME's modules to MODS, in insmod order (scripts/modules.sh).
source "$here/modules.sh"

# Copies FILE into STAGE at DEST (default: FILE's own path) and every shared library it links
# at the same paths.
copy_with_libs() {
	local stage=$1 file=$2 dest=${3:-$2} lib
	mkdir -p "$stage$(dirname "$dest")"
	cp -L "$file" "$stage$dest"
	for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

# Builds the initramfs of KERNEL from TREE into FILE.
build_initramfs() {
	local kernel=$1 tree=$2 file=$3 release moddir stage m b t arch userland=
	arch=$(arch_of "$kernel")
	release=$(ls "$tree/lib/modules" | head -1)
	moddir=$tree/lib/modules/$release
	[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing (Debian package busybox-static)"
	if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is dynamically linked: install busybox-static"; fi
	[ -x "$XPXE" ] || die "no $XPXE: build it first (make)"
	[ "$arch" = amd64 ] || userland=$(fetch_arm64_userland)
	MODS=()
	SEEN=()
	for m in "${MODULES[@]}"; do module_order "$m" "$moddir"; done

	stage=$(mktemp -d "${TMPDIR:-/tmp}/xpxe-kernels.XXXXXX")
	mkdir -p "$stage"/{bin,sbin,etc,proc,sys,dev,run,tmp,lib/modules,xpxe/tests}
	# The applets' names from the host's busybox: the arm64 one, the same Debian version,
	# does not run here.
	if [ "$arch" = amd64 ]; then
		cp "$BUSYBOX" "$stage/bin/busybox"
	else
		cp "$userland/bin/busybox" "$stage/bin/busybox"
	fi
	for m in $("$BUSYBOX" --list); do
		[ "$m" = busybox ] || ln -sf busybox "$stage/bin/$m"
	done
	# The real tools, in /xpxe/bin: busybox sh runs its own applet (ip) before any in PATH.
	mkdir -p "$stage/xpxe/bin"
	if [ "$arch" = amd64 ]; then
		for b in "${HOST_BINS[@]}"; do
			t=$(command -v "$b") || die "$b is missing on this host (scripts/deps.sh)"
			copy_with_libs "$stage" "$t"
			ln -sf "$t" "$stage/xpxe/bin/$b"
		done
	else
		# bpftool and the libraries of the packages it depends on (ldd runs no arm64
		# binary here); busybox's ip makes the veth (no iproute2: a dozen more libraries).
		[ -x "$userland/usr/sbin/bpftool" ] || die "no arm64 bpftool in $userland"
		mkdir -p "$stage/usr/sbin"
		cp "$userland/usr/sbin/bpftool" "$stage/usr/sbin/"
		ln -sf /usr/sbin/bpftool "$stage/xpxe/bin/bpftool"
		ln -sf /bin/busybox "$stage/xpxe/bin/ip"
		cp -a "$userland/lib" "$stage/"
		[ ! -d "$userland/usr/lib" ] || cp -a "$userland/usr/lib" "$stage/usr/"
		# glibc's character set modules: nothing here converts any.
		rm -rf "$stage"/usr/lib/aarch64-linux-gnu/gconv
	fi
	: >"$stage/etc/modules"
	for m in "${MODS[@]}"; do
		# busybox insmod reads plain .ko files: 6.12's are xz-compressed.
		case $m in
		*.ko.xz) xz -dc "$moddir/$m" >"$stage/lib/modules/$(basename "${m%.xz}")" ;;
		*.ko) cp "$moddir/$m" "$stage/lib/modules/" ;;
		*) die "module $m: unknown compression" ;;
		esac
		basename "${m%.xz}" >>"$stage/etc/modules"
	done
	mkdir -p "$stage/xpxe/obj"
	cp "$BUILD"/*.bpf.o "$stage/xpxe/obj/"
	if [ "$arch" = amd64 ]; then
		build_initramfs_amd64 "$stage"
	else
		# The frame an arm64 guest runs xdp_pxe on (scripts/kernels/init, attach).
		mkdir -p "$stage/xpxe/tests/fixtures"
		cp "$root/tests/fixtures/seabios-ipxe-rom-full-dhcp.pcap" "$stage/xpxe/tests/fixtures/"
	fi
	install -m 755 "$here/kernels/init" "$stage/init"
	echo "$kernel" >"$stage/etc/xpxe-kernel"

	mkdir -p "$(dirname "$file")"
	(cd "$stage" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) |
		gzip -1 >"$file.tmp"
	mv "$file.tmp" "$file"
	rm -rf "$stage"
}

# What only an amd64 guest runs: the build's own binaries, into STAGE.
build_initramfs_amd64() {
	local stage=$1 t
	# libxdp reads its dispatcher from disk.
	mkdir -p "$stage/usr/lib/x86_64-linux-gnu/bpf"
	cp /usr/lib/x86_64-linux-gnu/bpf/*.o "$stage/usr/lib/x86_64-linux-gnu/bpf/" 2>/dev/null || true

	# The build under test: the daemon, the BPF program tests and what they read. At fixed
	# paths under /xpxe, not the checkout's: the guest mounts a tmpfs on /tmp, which hid a
	# checkout under /tmp (CI's fresh clone there found no binaries).
	copy_with_libs "$stage" "$(realpath "$XPXE")" /xpxe/xpxe
	for t in "$BUILD"/tests/test_xdp_* "$BUILD"/tests/test_tftp_data "$BUILD"/tests/test_tftp_ports \
		"$BUILD"/tests/test_fuzz_xdp; do
		[ -x "$t" ] || die "no $t: build it first (make check builds them)"
		copy_with_libs "$stage" "$(realpath "$t")" "/xpxe/tests/$(basename "$t")"
	done
	mkdir -p "$stage/xpxe/tests/fixtures" "$stage/xpxe/tests/fuzz/corpus"
	cp "$root"/tests/fixtures/*.pcap "$stage/xpxe/tests/fixtures/"
	cp -r "$root/tests/fuzz/corpus/xdp" "$stage/xpxe/tests/fuzz/corpus/"
	# A sanitized build (make SANITIZE=1) reports what the host's make check suppresses alike.
	cp "$root/tests/sanitizer.supp" "$stage/xpxe/"
	install -m 755 "$here/kernels/smoke.sh" "$stage/xpxe/smoke.sh"
}

# --- booting --------------------------------------------------------------------------

# Boots KERNEL with its initramfs; the guest writes its TAP lines to its second serial port.
boot() {
	local kernel=$1 tree=$2 initrd=$3 dir
	dir=$OUT/$kernel
	mkdir -p "$dir"
	: >"$dir/results.log"
	rm -f "$dir/ended"
	if [ "$(arch_of "$kernel")" = arm64 ]; then
		boot_arm64 "$kernel" "$tree" "$initrd" "$dir"
		return
	fi
	# -icount shift=auto: guest time follows the instructions run, not the host's clock.
	# Without it 6.12 crashed at boot on a loaded host here (random oopses during early
	# init, 6 boots of 6 beside a busy CPU; none with it), under Debian 12's QEMU 7.2.
	# -cpu qemu64,-cx16: 6.12 then double-faulted in SLUB's per-CPU fast path, on the
	# cmpxchg16b QEMU 7.2's TCG emulates (kmem_cache_alloc under bpf_prog_test_run_skb, 27 s
	# into the run, in 2 of the last 3 runs); without CX16 the kernel takes its own emulation of that
	# instruction, and the guest passed. Nothing xpxe does depends on the CPU model.
	# rcupdate.rcu_expedited=1: each write of a map of maps (the VLAN maps) waits for an RCU
	# grace period, seconds each under emulation; 6.1's test_xdp_vlan took 407 s of a 765 s
	# guest, 7 s of 83 with it. Grace periods come sooner; what the programs do is the same.
	local rc=0
	timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 -name "xpxe-kernel-$kernel" \
		-machine pc -accel tcg -icount shift=auto -cpu qemu64,-cx16 -m 1536 -smp 1 \
		-display none -monitor none -no-reboot -no-user-config -nic none \
		-chardev "file,id=con0,path=$dir/console.log" -serial chardev:con0 \
		-chardev "file,id=res0,path=$dir/results.log" -serial chardev:res0 \
		-kernel "$tree"/boot/vmlinuz-* -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 rcupdate.rcu_expedited=1 xpxe.fuzz=${XPXE_KERNEL_FUZZ:-2000}${XPXE_KERNEL_ONLY:+ xpxe.only=$XPXE_KERNEL_ONLY}" \
		</dev/null >"$dir/qemu.log" 2>&1 || rc=$?
	date +%s >"$dir/ended"
	return $rc
}

# An arm64 guest: QEMU's virt board booting the kernel's Image directly (no firmware). The
# board has one serial port for Linux, so the TAP lines go to the console too
# (xpxe.results), which is then results.log: the host reads only the lines TAP's own, and
# the kernel prints only emergencies there (quiet, printk level 1).
boot_arm64() {
	local kernel=$1 tree=$2 initrd=$3 dir=$4 rc=0
	timeout --kill-after=10 "$TIMEOUT" qemu-system-aarch64 -name "xpxe-kernel-$kernel" \
		-machine virt -cpu cortex-a57 -accel tcg -m 1536 -smp 1 \
		-display none -monitor none -no-reboot -no-user-config -nic none \
		-chardev "file,id=con0,path=$dir/results.log" -serial chardev:con0 \
		-kernel "$tree"/boot/vmlinuz-* -initrd "$initrd" \
		-append "console=ttyAMA0 quiet panic=-1 xpxe.results=/dev/ttyAMA0${XPXE_KERNEL_ONLY:+ xpxe.only=$XPXE_KERNEL_ONLY}" \
		</dev/null >"$dir/qemu.log" 2>&1 || rc=$?
	date +%s >"$dir/ended"
	cp "$dir/results.log" "$dir/console.log"
	return $rc
}

run() {
	local kernels=("$@") k trees=() initrds=() pids=() starts=() rc n line secs failed=0
	[ ${#kernels[@]} -gt 0 ] || kernels=("${DEFAULT_KERNELS[@]}")
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (qemu-system-x86)"
	for k in "${kernels[@]}"; do
		[ "$(arch_of "$k")" = amd64 ] || command -v qemu-system-aarch64 >/dev/null ||
			die "qemu-system-aarch64 is missing (qemu-system-arm)"
	done
	for k in "${kernels[@]}"; do
		trees+=("$(fetch "$k")")
		initrds+=("$OUT/$k/initramfs.img")
		build_initramfs "$k" "${trees[-1]}" "${initrds[-1]}"
	done
	# Side by side: one guest per core.
	for i in "${!kernels[@]}"; do
		starts+=("$(date +%s)")
		boot "${kernels[$i]}" "${trees[$i]}" "${initrds[$i]}" &
		pids+=($!)
	done
	n=0
	for i in "${!kernels[@]}"; do
		k=${kernels[$i]}
		rc=0
		wait "${pids[$i]}" || rc=$?
		# The guest's own time: one waited for after another has finished long before.
		secs=$(($(cat "$OUT/$k/ended" 2>/dev/null || date +%s) - starts[i]))
		# The guest's TAP lines, each named by its kernel (numbered again here).
		while IFS= read -r line; do
			line=${line%$'\r'}
			case $line in
			"ok "* | "not ok "*)
				n=$((n + 1))
				[[ $line == not* ]] && failed=$((failed + 1))
				echo "$line" | sed -E "s/^(not ok|ok) [0-9]* ?-? ?/\1 $n - [$k] /"
				;;
			"#"*) echo "$line" ;;
			esac
		done <"$OUT/$k/results.log"
		if ! grep -q '^xpxe-kernels: done' "$OUT/$k/results.log"; then
			n=$((n + 1))
			failed=$((failed + 1))
			echo "not ok $n - [$k] the guest finished its run (qemu exit $rc after ${secs} s; see $OUT/$k/console.log)"
			tail -n 20 "$OUT/$k/console.log" | sed 's/^/#   /'
		fi
		echo "# [$k] $(sed -n 's/^xpxe-kernels: kernel //p' "$OUT/$k/results.log" | head -1): ${secs} s in QEMU (tcg)"
	done
	echo "$((n - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
}

case "${1:-}" in
fetch) fetch "${2:?which kernel}" ;;
initramfs)
	tree=$(fetch "${2:?which kernel}")
	build_initramfs "$2" "$tree" "$OUT/$2/initramfs.img"
	echo "$OUT/$2/initramfs.img"
	;;
run)
	shift
	run "$@"
	;;
*)
	echo "usage: $0 run [KERNEL...] | fetch KERNEL | initramfs KERNEL   (kernels: ${DEFAULT_KERNELS[*]})" >&2
	exit 2
	;;
esac
