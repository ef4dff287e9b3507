#!/usr/bin/env bash
# Installs every Debian package that building, testing, the demo and the
# benchmarks need. Idempotent and quiet when all is there.
#   scripts/deps.sh           install what is missing (needs root)
#   scripts/deps.sh --check   only say what is missing; exit 1 if anything is
#   scripts/deps.sh --bench   also what only `make bench` needs (BENCH_PKGS)
set -euo pipefail

PKGS=(
	# build
	make gcc clang llvm pkg-config libc6-dev linux-libc-dev
	libbpf-dev bpftool libelf-dev zlib1g-dev libxdp-dev xdp-tools
	libmicrohttpd-dev libfyaml-dev libcmocka-dev libssl-dev clang-format
	# the etcd store's client: etcd's v3 JSON gateway over HTTP (README: the store)
	libcurl4-openssl-dev
	# the fleet page's files are built into the binary with xxd -i
	xxd
	# make fuzz: libFuzzer and the sanitizers' runtimes of Debian 12's clang (14)
	libclang-rt-14-dev
	# the shared store's tests: a real etcd (single member and a cluster) in the lab
	etcd-server etcd-client openssl
	# the lab and the tests
	iproute2 ethtool tcpdump iputils-ping procps util-linux kmod jq
	curl atftp tftp-hpa isc-dhcp-client busybox-static udhcpc python3 tmux
	# the fleet page in a real browser (test_ui.sh; headless, driven over its DevTools pipe)
	chromium
	# the daemon under memcheck (test_valgrind.sh)
	valgrind
	# peers for comparison (benchmarks, proxy-mode tests)
	dnsmasq-base tftpd-hpa kea-admin
	# the end-to-end machines
	ipxe ipxe-qemu qemu-system-x86 ovmf
	# the kernel matrix (scripts/kernels.sh): 6.12's modules are xz-compressed
	xz-utils
	# Secure Boot (test_secboot.sh): the UKI stub, signing, an ESP for the disk; shim-signed
	# and grub-efi-amd64-signed are fetched by scripts/secboot.sh (apt-get download), not
	# installed: their scripts would run grub-install on an EFI host
	systemd-boot-efi sbsigntool mtools openssl
	# arm64 machines (test_arm64.sh): QEMU's aarch64 system emulator and its UEFI firmware
	# (AAVMF), and an objcopy that knows arm64 PE for the arm64 UKI; Debian's arm64 GRUB,
	# kernel, busybox and UKI stub are fetched by scripts/arm64.sh (apt-get download)
	qemu-system-arm qemu-efi-aarch64 binutils-aarch64-linux-gnu
	# packaging and its tests: the .deb, systemd-analyze (and journald, journalctl for
	# test_journal.sh), man -l, completion, strace
	dpkg-dev debhelper systemd man-db groff-base bash-completion strace
)
# Only `make bench` (make bench-deps): the boot storm's plain HTTP peer, the plots.
BENCH_PKGS=(nginx gnuplot-nox)
mode=${1:-}
if [ "$mode" = "--bench" ]; then
	PKGS+=("${BENCH_PKGS[@]}")
	mode=
fi

missing() {
	local have
	# dpkg-query fails on a package it never heard of: that one is missing, not all.
	have=$({ dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null || true; } |
		awk '$2 == "installed" { print $1 }')
	for p in "${PKGS[@]}"; do
		grep -qx -- "$p" <<<"$have" || echo "$p"
	done
}

mapfile -t need < <(missing)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$mode" = "--check" ]; then
	echo "missing Debian packages: ${need[*]}" >&2
	echo "install them with: sudo scripts/deps.sh" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages: ${need[*]}" >&2
	echo "run as root: scripts/deps.sh   (or: apt-get install ${need[*]})" >&2
	exit 1
fi

echo "deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start tftpd-hpa or dnsmasq on this host's interfaces:
# the tests start the peers themselves, inside the lab's namespaces.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=true
fi
trap 'if $own_policy; then rm -f "$policy"; fi' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
mapfile -t still < <(missing)
if [ ${#still[@]} -ne 0 ]; then
	echo "deps: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
