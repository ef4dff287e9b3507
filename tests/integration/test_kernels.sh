#!/usr/bin/env bash
# The support floor, proven on it: Debian 12's own kernel (6.1) boots in a QEMU guest
# (scripts/kernels.sh) where every BPF object must load (the 6.1 verifier's verdict), the
# BPF program tests run, and a lab smoke test (veth pair, `xpxe serve`, udhcpc, TFTP byte
# for byte, HTTP, kill -9 and adoption) passes. The host's kernel (this lab's 6.18) is the
# rest of make check; `make check-kernels` runs 6.1 and Debian's 6.12 (bookworm-backports).
# XPXE_CHECK_KERNELS overrides the list.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok 1 - the kernel matrix needs root (apt-get download, QEMU, BPF in the guest)"
	exit 1
fi
# shellcheck disable=SC2086 # a list of kernels
exec "$ROOT/scripts/kernels.sh" run ${XPXE_CHECK_KERNELS:-6.1}
