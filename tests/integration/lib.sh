# Shared by the lab tests: TAP reporting, the lab, the daemon, cleanup.
# A test script sets LAB (unique per script) before sourcing this file.
# shellcheck shell=bash
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XPXE=$ROOT/xpxe
TAP_N=0
TAP_FAILED=0
WORK=$(mktemp -d "/tmp/xpxe-test-$LAB.XXXXXX")
SOCK=$WORK/xpxe.sock
export XPXE_SOCKET=$SOCK
DAEMON_PID=

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

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		not_ok "lab tests need root (namespaces, XDP): run make check as root"
		exit 1
	fi
}

lab() { LAB=$LAB "$ROOT/scripts/lab.sh" "$@"; }
eval "$(lab env)"

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

# Runs `xpxe serve` in the server namespace (network namespace only: pins stay visible).
start_daemon() {
	nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve "$@" >>"$WORK/daemon.log" 2>&1 &
	DAEMON_PID=$!
	local _
	for _ in $(seq 50); do
		[ -S "$SOCK" ] && "$XPXE" status >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Waits for the daemon to exit; returns its exit code.
wait_daemon() {
	local rc
	wait "$DAEMON_PID" 2>/dev/null
	rc=$?
	DAEMON_PID=
	return $rc
}

xdp_prog_on() { # NS IFACE -> prints the attached XDP program id, or nothing
	ip netns exec "$1" ip -d link show dev "$2" 2>/dev/null |
		sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1
}

counter() { # NAME -> the counter's value from `xpxe status --json`
	"$XPXE" status --json | jq -r ".interfaces[0].counters.$1"
}

# at_exit COMMAND...: run COMMAND during cleanup (e.g. remove an extra namespace).
AT_EXIT=()
at_exit() { AT_EXIT+=("$*"); }

cleanup() {
	local rc=$? cmd
	for cmd in "${AT_EXIT[@]}"; do
		eval "$cmd" >/dev/null 2>&1
	done
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	lab down >/dev/null 2>&1
	if [ "$TAP_FAILED" -gt 0 ] && [ -s "$WORK/daemon.log" ]; then
		echo "# daemon log:"
		sed 's/^/#   /' "$WORK/daemon.log"
	fi
	rm -rf "$WORK"
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM
