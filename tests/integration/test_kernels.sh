#!/usr/bin/env bash
# The kernels users have: Debian 12's own (6.1, the support floor) and Debian's 6.12
# (bookworm-backports, the line Debian 13 ships) boot side by side in QEMU guests
# (scripts/kernels.sh), where every BPF object must load (that kernel's verifier's verdict),
# the BPF program tests run, and a lab smoke test (veth pair, `xpxe serve`, udhcpc, TFTP byte
# for byte, HTTP, kill -9 and adoption) passes. Beside them Debian 12's arm64 6.1 (an aarch64
# guest): every object loads there too, JITed by arm64's JIT, and xdp_pxe attaches to a veth
# and runs a frame (~30 s of emulation: the build's binaries are amd64's, so no tests nor
# smoke there). The host's kernel (this lab's 6.18) is the rest of make check. The amd64
# guests run side by side, one core each; tests/run.sh starts this suite first, in the
# background at nice 10, beside the other suites (its BACKGROUND). XPXE_CHECK_KERNELS
# overrides the list (make check-kernels runs the same, alone).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok 1 - the kernel matrix needs root (apt-get download, QEMU, BPF in the guest)"
	exit 1
fi
# shellcheck disable=SC2086 # a list of kernels
exec "$ROOT/scripts/kernels.sh" run ${XPXE_CHECK_KERNELS:-6.1 6.12 6.1-arm64}
