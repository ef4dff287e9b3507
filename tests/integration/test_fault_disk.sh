#!/usr/bin/env bash
# Disk full under the state: the bindings file and the boot-once file on a 64 KiB tmpfs
# that the test fills up. A new MAC's binding cannot be written: the error is logged
# and counted (save_errors), its REQUEST goes unanswered (no ACK for an address that is not
# on disk), the old file stays byte for byte and memory does not run ahead of it; known
# MACs keep being answered from XDP. A boot-once mark that cannot be written (`machines
# mark-installed`, or a machine taking its config) is counted (state_save_errors), the
# file stays as it was, and the mark holds in memory: a machine that took its config
# boots its disk next, never installs twice. Once space is back, everything is written.
LAB=fdisk
source "$(dirname "$0")/lib.sh"
require_root

STATE=$WORK/state
mkdir -p "$STATE"
if ! mount -t tmpfs -o size=64k,mode=0700 xpxe-test-full "$STATE"; then
	not_ok "mount a 64 KiB tmpfs for the state"
	exit 1
fi
at_exit "umount -l '$STATE'"
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
for n in 1 2 3; do lab host $n "52:54:00:d1:00:0$n" >>"$WORK/lab.log" 2>&1; done
LEASES=$STATE/bindings
mkdir -p "$WORK/talos"
echo "machine: {} # {{mac}}" >"$WORK/talos/default.yaml"

if start_daemon -i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109 \
	--leases "$LEASES" --state-dir "$STATE" --no-default-assets --talos-config "$WORK/talos"; then
	ok "serve in full mode, its state on a 64 KiB tmpfs"
else
	not_ok "serve in full mode, its state on a 64 KiB tmpfs"
	exit 1
fi
dhcp_json() { "$XPXE" status --json | jq -r ".interfaces[0].dhcp.$1"; }

udhcpc_run "$LAB-h1" h1
check "a first MAC is bound while there is room" test "$(result_field h1 ip)" = 198.18.0.100
udhcpc_run "$LAB-h3" h3
check "a second one too" test "$(result_field h3 ip)" = 198.18.0.101
ip -n "$LAB-h3" addr replace 198.18.0.101/24 dev eth0
cp "$LEASES" "$WORK/bindings.before"

# --- fill the disk --------------------------------------------------------------------------
dd if=/dev/zero of="$STATE/filler" bs=4k >/dev/null 2>&1
check "the tmpfs is full" bash -c "! echo x >'$STATE/probe' 2>/dev/null"
rm -f "$STATE/probe"

to_daemon=$(counter dhcp_to_daemon)
udhcpc_run "$LAB-h2" h2
check "a new MAC gets no address: its binding cannot be written" test -z "$(result_field h2 ip)"
check "... its requests reached the daemon" test "$(counter dhcp_to_daemon)" -gt "$to_daemon"
errors=$(dhcp_json save_errors)
check "... the failed writes are counted (save_errors $errors)" test "${errors:-0}" -ge 1
check "... and logged with the reason" grep -q "cannot save $LEASES: No space left on device" "$WORK/daemon.log"
check "xpxe status says so" bash -c "'$XPXE' status | grep -q 'failed write(s): see the log'"
check "the bindings file is unchanged, byte for byte" cmp "$LEASES" "$WORK/bindings.before"
check "no temporary file is left behind" test ! -e "$LEASES.tmp"
check "memory holds what the disk holds: 2 bindings" test "$(dhcp_json bindings)" = 2
check "... not the new MAC" bash -c "! '$XPXE' leases | grep -q 52:54:00:d1:00:02"

to_daemon=$(counter dhcp_to_daemon)
udhcpc_run "$LAB-h1" h1again
check "the known MAC is still answered, with its address" test "$(result_field h1again ip)" = 198.18.0.100
check "... from XDP (dhcp_to_daemon unchanged)" test "$(counter dhcp_to_daemon)" = "$to_daemon"

out=$("$XPXE" machines mark-installed 52:54:00:d1:00:01 2>&1)
rc=$?
check "mark-installed fails, saying why (exit $rc: $out)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'No space left on device; in effect, but in memory only' <<<'$out'"
check "... the file is unchanged (no mark in it)" test ! -s "$STATE/installed"
installed() { "$XPXE" machines --json | jq -e ".machines[]? | select(.mac == \"$1\") | .installed" >/dev/null; }
check "... the mark holds in memory" installed 52:54:00:d1:00:01
check "... counted (state_save_errors 1)" test "$("$XPXE" status --json | jq .state_save_errors)" = 1
code=$(ip netns exec "$LAB-h3" curl -s -o "$WORK/config" -w '%{http_code}' \
	"http://$SRV_IP:8080/talos/config?mac=52:54:00:d1:00:03")
check "a machine takes its config with the disk full ($code)" \
	bash -c "[ $code = 200 ] && grep -q 52:54:00:d1:00:03 '$WORK/config'"
# Boot-once is set once the response has gone out whole (libmicrohttpd's completion callback,
# which may run after curl has the last byte).
wait_until installed 52:54:00:d1:00:03
check "... its boot-once mark holds in memory" installed 52:54:00:d1:00:03
check "... so its next PXE boot boots its disk, it does not install again" \
	bash -c "ip netns exec $LAB-h3 curl -s 'http://$SRV_IP:8080/boot.ipxe?mac=52-54-00-d1-00-03' | grep -q 'booting from its disk'"
check "... the failed write counted (state_save_errors 2)" test "$("$XPXE" status --json | jq .state_save_errors)" = 2
check "... the file still unchanged" test ! -s "$STATE/installed"

# --- space again ------------------------------------------------------------------------------
rm -f "$STATE/filler"
marks_on_disk() {
	grep -q '^mac:52:54:00:d1:00:01 ' "$STATE/installed" && grep -q '^mac:52:54:00:d1:00:03 ' "$STATE/installed"
}
wait_until marks_on_disk
check "with room again, the marks held in memory reach the file, unasked" marks_on_disk
check "... and the log says so" grep -q "boot-once changes held in memory since a failed write are on disk now" "$WORK/daemon.log"
udhcpc_run "$LAB-h2" h2late
check "with room again, the new MAC is bound" test "$(result_field h2late ip)" = 198.18.0.102
check "... and written" grep -q '^52:54:00:d1:00:02 198.18.0.102 ' "$LEASES"
check "... next to the old bindings" test "$(grep -c '^52:54:00:d1:00:0[13] 198.18.0.10[01] ' "$LEASES")" -eq 2
check "mark-installed succeeds now" "$XPXE" machines mark-installed 52:54:00:d1:00:01
check "... and writes both marks held in memory" \
	bash -c "grep -q '^mac:52:54:00:d1:00:01 ' '$STATE/installed' && grep -q '^mac:52:54:00:d1:00:03 ' '$STATE/installed'"
check "the daemon ran through it all" kill -0 "$DAEMON_PID"
