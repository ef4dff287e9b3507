#!/usr/bin/env bash
# Runs every test suite and ends with one line: "N passed, N failed".
#   tests/run.sh [CMOCKA_BINARY...]   the cmocka suites built by make, then
#                                     every tests/integration/test_*.sh
# Each suite speaks TAP ("ok N - name" / "not ok N - name"). A suite that dies
# without reporting, or exits non-zero with no failure reported, counts as one
# failure: nothing passes by saying nothing.
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

run_suite() {
	local name=$1
	shift
	local log=$out/$name.log rc ok notok
	echo "# suite $name"
	"$@" >"$log" 2>&1
	rc=$?
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

for bin in "$@"; do
	run_suite "$(basename "$bin")" env CMOCKA_MESSAGE_OUTPUT=TAP "$bin"
done
for t in "$here"/integration/test_*.sh; do
	# A hung suite fails; its own trap still removes its namespaces.
	run_suite "$(basename "$t" .sh)" timeout --kill-after=30 900 bash "$t"
done

[ ${#failed_names[@]} -gt 0 ] && echo "# failing suites: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
