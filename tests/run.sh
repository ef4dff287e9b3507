#!/usr/bin/env bash
# Runs every test suite and ends with one line: "N passed, N failed".
#   tests/run.sh [CMOCKA_BINARY...]   the cmocka suites built by make, then
#                                     every tests/integration/test_*.sh
# Each suite speaks TAP ("ok N - name" / "not ok N - name"). A suite that dies
# without reporting, or exits non-zero with no failure reported, counts as one
# failure: nothing passes by saying nothing.
# The suites run one after the other, except those in BACKGROUND: they start first and run
# beside the rest (see there); their output is printed when the rest are done.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${XPXE_TEST_OUT:-$here/out}
mkdir -p "$out"
passed=0
failed=0
failed_names=()

# Under `make SANITIZE=1 check`, ASan/UBSan/LSan write each report to a file in
# $XPXE_SANITIZER_LOGS (log_path): a report that appears while a suite runs fails that
# suite, whether it came from a test binary, the CLI or a daemon in the background.
sanitizer_reports() {
	[ -n "${XPXE_SANITIZER_LOGS:-}" ] || return 0
	local f
	for f in "$XPXE_SANITIZER_LOGS"/*; do
		case $f in *.seen) continue ;; esac
		[ -e "$f" ] && [ ! -e "$f.seen" ] || continue
		echo "not ok - sanitizer report $(basename "$f")"
		sed 's/^/#   /' "$f"
		touch "$f.seen"
	done
}

# BACKGROUND suites share nothing with the others but the CPU. test_kernels boots its QEMU
# guests (-nic none: no namespace, address, port or pin of the lab; a guest's sanitizer
# reports come back through its serial port, never through the host's log_path, so the
# sanitizer files still belong to the one suite in the foreground). Its two guests want 3-5
# minutes of both cores, which the lab suites mostly leave idle as they wait on timers and
# the network: run in turn, they made up a fifth of make check (326 s of 1617 in CI's plain
# half). At nice 10 they take what the foreground leaves, and the foreground's
# waits and QEMU boots keep their CPU. Longest first: they start before everything else.
BACKGROUND=(test_kernels)
bg_names=()
bg_pids=()
is_background() {
	local b
	for b in "${BACKGROUND[@]}"; do [ "$b" = "$1" ] && return 0; done
	return 1
}

run_suite() {
	local name=$1
	shift
	echo "# suite $name"
	"$@" >"$out/$name.log" 2>&1
	report_suite "$name" $?
}

# start_suite NAME COMMAND...: a BACKGROUND suite, started now, reported by finish_suites.
start_suite() {
	local name=$1
	shift
	echo "# suite $name: started in the background (reported at the end)"
	nice -n 10 "$@" >"$out/$name.log" 2>&1 &
	bg_names+=("$name")
	bg_pids+=($!)
}

finish_suites() {
	local i rc
	for i in "${!bg_pids[@]}"; do
		rc=0
		wait "${bg_pids[$i]}" || rc=$?
		echo "# suite ${bg_names[$i]} (ran in the background)"
		report_suite "${bg_names[$i]}" "$rc"
	done
}

# report_suite NAME RC: prints the suite's log and counts its TAP lines.
report_suite() {
	local name=$1 rc=$2
	local log=$out/$name.log ok notok
	sanitizer_reports >>"$log"
	sed 's/^/  /' "$log"
	ok=$(grep -c '^ok ' "$log")
	notok=$(grep -c '^not ok ' "$log")
	passed=$((passed + ok))
	failed=$((failed + notok))
	if [ "$notok" -gt 0 ]; then
		failed_names+=("$name")
	elif [ "$rc" -ne 0 ] || [ "$ok" -eq 0 ]; then
		echo "  not ok - suite $name exited $rc after $ok passing tests (see $log)"
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "# the BPF and lab tests need root (they load XDP programs and make namespaces)"
fi

for t in "$here"/integration/test_*.sh; do
	is_background "$(basename "$t" .sh)" || continue
	# Beside the rest its guests may take twice their time alone: a guest's limit of 1500 s
	# (not kernels.sh's 780) and the suite's of 1800 fail a hung guest, not a slow one.
	start_suite "$(basename "$t" .sh)" env XPXE_KERNEL_TIMEOUT=1500 \
		timeout --kill-after=30 1800 bash "$t"
done
for bin in "$@"; do
	run_suite "$(basename "$bin")" env CMOCKA_MESSAGE_OUTPUT=TAP "$bin"
done
for t in "$here"/integration/test_*.sh; do
	is_background "$(basename "$t" .sh)" && continue
	# A hung suite fails; its own trap still removes its namespaces.
	run_suite "$(basename "$t" .sh)" timeout --kill-after=30 900 bash "$t"
done
finish_suites

[ ${#failed_names[@]} -gt 0 ] && echo "# failing suites: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
