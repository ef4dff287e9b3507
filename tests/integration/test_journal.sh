#!/usr/bin/env bash
# Logging to journald. systemd is not PID 1 here, so the test runs Debian's own
# systemd-journald in a private mount namespace (a tmpfs on /run: nothing of it
# reaches the host) and reads back what it stored with
# journalctl: the daemon's lines and each event's fields (XPXE_EVENT, XPXE_MAC,
# ...) with their priorities; --log-target stderr and journal; a service's
# stderr that is the journal's stream ($JOURNAL_STREAM) gets no second copy.
LAB=ejournal
JOURNALD=/lib/systemd/systemd-journald
if [ -z "${XPXE_JOURNAL_NS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok 1 - the journald test needs root (a mount namespace, the lab)"
		echo "1..1"
		exit 1
	fi
	# The whole test, lab included, in a mount namespace of its own.
	exec unshare -m --propagation private env XPXE_JOURNAL_NS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
require_root

if [ ! -x "$JOURNALD" ] || ! command -v journalctl >/dev/null; then
	not_ok "systemd-journald and journalctl are installed (Debian's systemd package)"
	exit 1
fi
# journald keeps its socket in /run/systemd/journal and, until told to flush to
# /var, its files in /run/log/journal: a tmpfs on /run holds both (and this
# test's network namespaces) and vanishes with the mount namespace.
mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal ||
	{ not_ok "a tmpfs on /run in a private mount namespace"; exit 1; }
"$JOURNALD" >"$WORK/journald.log" 2>&1 &
JOURNALD_PID=$!
at_exit kill "$JOURNALD_PID"
journald_listens() { [ -S /run/systemd/journal/socket ] || ! kill -0 "$JOURNALD_PID" 2>/dev/null; }
wait_until journald_listens
check "journald listens on /run/systemd/journal/socket" test -S /run/systemd/journal/socket
# journalctl NAME=VALUE... -> the entries as JSON lines; waits for one (journald stores what
# it is sent a moment later). Each query here expects one.
journal_entries() { journalctl -D /run/log/journal -o json --no-pager "$@" 2>/dev/null; }
journal_has() { journal_entries "$@" | grep -q .; }
journal() {
	wait_until journal_has "$@"
	journal_entries "$@"
}

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 52:54:00:7a:00:01
ip -n "$LAB-h1" addr add 198.18.0.51/24 dev eth0
head -c 100000 /dev/urandom >"$WORK/f100k"
SERVE=(-i "$IF_SRV" --asset "f100k=$WORK/f100k" --no-default-assets)

# --- auto: the journal, and stderr (a file here) as well ---------------------------
start_daemon "${SERVE[@]}" || { not_ok "serve starts"; exit 1; }
ok "serve starts (--log-target auto)"
entry=$(journal SYSLOG_IDENTIFIER=xpxe | jq -c 'select(.MESSAGE | test("serving 1 interface"))')
# last JQ_EXPR: true when there is an entry and the last one satisfies it (jq -e alone
# passes on no input at all)
last() { jq -s -e "length > 0 and (.[-1] | $1)"; }
check "the start line is in the journal, info (PRIORITY 6)" last '.PRIORITY == "6"' <<<"$entry"
check "... and on stderr too (not the journal's stream)" grep -q "serving 1 interface" "$WORK/daemon.log"
ip netns exec "$LAB-h1" curl -sS -o /dev/null "tftp://$SRV_IP/f100k"
ip netns exec "$LAB-h1" curl -s -o /dev/null "tftp://$SRV_IP/missing"
done=$(journal XPXE_EVENT=tftp_done XPXE_MAC=52:54:00:7a:00:01)
check "journalctl XPXE_EVENT=tftp_done XPXE_MAC=...: the transfer, with its fields" \
	last ".XPXE_IP == \"198.18.0.51\" and .XPXE_IFACE == \"$IF_SRV\" and
		.XPXE_BYTES == \"100000\" and (.XPXE_DETAIL | startswith(\"f100k blocks=\")) and
		.PRIORITY == \"6\" and (.MESSAGE | startswith(\"event=tftp_done mac=52:54:00:7a:00:01\"))" \
	<<<"$done"
check "a refused request: tftp_error, a warning (PRIORITY 4)" \
	last '.PRIORITY == "4" and (.XPXE_DETAIL | test("ERROR 1 \\(file not found\\)"))' \
	<<<"$(journal XPXE_EVENT=tftp_error)"
kill "$DAEMON_PID"
wait_daemon

# --- stderr only ---------------------------------------------------------------------
before=$(journal SYSLOG_IDENTIFIER=xpxe | grep -c .)
DAEMON_GLOBAL_OPTS="--log-target stderr" start_daemon "${SERVE[@]}" ||
	not_ok "serve --log-target stderr starts"
done_lines() { grep -c "event=tftp_done" "$WORK/daemon.log"; }
done0=$(done_lines)
ip netns exec "$LAB-h1" curl -sS -o /dev/null "tftp://$SRV_IP/f100k"
logged_done() { [ "$(done_lines)" -gt "$done0" ]; }
wait_until logged_done # the daemon logged the transfer's end (to stderr only, it says)
kill "$DAEMON_PID"
wait_daemon
check "--log-target stderr: nothing more in the journal" \
	test "$(journal SYSLOG_IDENTIFIER=xpxe | grep -c .)" -eq "$before"

# --- a service whose stderr is the journal's stream: each line once ----------------------
: >"$WORK/stream.log"
stream=$(stat -c '%d:%i' "$WORK/stream.log")
nsenter --net="/run/netns/$NS_SRV" env JOURNAL_STREAM="$stream" "$XPXE" serve "${SERVE[@]}" \
	>>"$WORK/stream.log" 2>&1 &
DAEMON_PID=$!
wait_started "$DAEMON_PID"
ip netns exec "$LAB-h1" curl -sS -o /dev/null "tftp://$SRV_IP/f100k"
stream_dones() { [ "$(journal_entries SYSLOG_IDENTIFIER=xpxe XPXE_EVENT=tftp_done | grep -c .)" -ge 2 ]; }
wait_until stream_dones # this transfer's end, beside the first one's
kill "$DAEMON_PID"
wait_daemon
n=$(journal SYSLOG_IDENTIFIER=xpxe XPXE_EVENT=tftp_done | grep -c .)
check "JOURNAL_STREAM is stderr: the lines go to the journal natively" test "$n" -ge 2
check "... and not to stderr a second time" bash -c "! grep -q event= '$WORK/stream.log'"

# --- journal only, and no journald ------------------------------------------------------
kill "$JOURNALD_PID"
wait "$JOURNALD_PID" 2>/dev/null
out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" --log-target journal serve "${SERVE[@]}" 2>&1)
rc=$?
check "--log-target journal without journald: serve fails (exit 1)" test "$rc" -eq 1
check "... and says why" grep -q "no journald listens on /run/systemd/journal/socket" <<<"$out"
: >"$WORK/daemon.log"
if start_daemon "${SERVE[@]}"; then
	ok "--log-target auto without journald: serve starts"
else
	not_ok "--log-target auto without journald: serve starts"
fi
check "... and logs to stderr" grep -q "serving 1 interface" "$WORK/daemon.log"
