# TAP reporting for the integration tests: ok, not_ok, check, and the plan line at exit.
# lib.sh sources it; tests that need no lab source it alone.
# shellcheck shell=bash
TAP_N=0
TAP_FAILED=0

ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	return 0
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	local desc=$1
	shift
	local output
	if output=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "command: $*" "${output//$'\n'/ | }"
	fi
}

# tap_end RC: prints the plan and exits non-zero when a test failed or RC is non-zero.
tap_end() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ] && [ "$1" -eq 0 ] && exit 0
	exit 1
}
