#!/usr/bin/env bash
# The daemon under valgrind's memcheck, start to stop: `xpxe serve` in full mode in the
# lab, driven through DHCP (udhcpc: a new MAC bound by the daemon; dhclient: answered in
# XDP), TFTP (curl and atftp: RRQs through the daemon's slow path, then DATA from the
# data plane), HTTP (boot script, an asset, a Talos config, /metrics) and the control
# socket, then stopped with SIGTERM. Fails on any memcheck error or any definite leak.
# valgrind runs the plain build (./xpxe): the ASan build cannot run under it.
LAB=valgrnd
source "$(dirname "$0")/lib.sh"
require_root

PLAIN=$ROOT/xpxe
SUPP=$ROOT/tests/valgrind.supp
command -v valgrind >/dev/null || { not_ok "valgrind is not installed (scripts/deps.sh installs it)"; exit 1; }
[ -x "$PLAIN" ] || { not_ok "no plain build at $PLAIN (run make)"; exit 1; }

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 52:54:00:7a:00:01 >>"$WORK/lab.log" 2>&1
lab host 2 52:54:00:7a:00:02 >>"$WORK/lab.log" 2>&1
head -c 300000 /dev/urandom >"$WORK/small"
head -c 4000 /dev/urandom >"$WORK/vmlinuz"
head -c 5000 /dev/urandom >"$WORK/initrd"
mkdir -p "$WORK/talos"
echo "machine: {network: {hostname: '{{hostname}}'}}  # {{mac}}" >"$WORK/talos/default.yaml"

VG_LOG=$WORK/valgrind.log
# Errors: every kind memcheck finds; leaks: definite ones (possible/reachable leaks are
# what libraries keep on purpose until exit, e.g. OpenSSL's and libbpf's caches).
nsenter --net="/run/netns/$NS_SRV" valgrind --tool=memcheck --error-exitcode=99 \
	--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--suppressions="$SUPP" --log-file="$VG_LOG" \
	"$PLAIN" serve -i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109 \
	--leases "$WORK/bindings" --state-dir "$WORK/state" --asset "small=$WORK/small" \
	--kernel "$WORK/vmlinuz" --initrd "$WORK/initrd" --talos-config "$WORK/talos" >>"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
vg_answers() { [ -S "$SOCK" ] && "$PLAIN" status >/dev/null 2>&1; }
vg_started() { vg_answers || ! kill -0 "$DAEMON_PID" 2>/dev/null; }
WAIT_S=600 wait_until vg_started # valgrind starts the daemon some 20-50 times slower
if vg_answers; then ok "xpxe serve runs under memcheck"; else
	not_ok "xpxe serve runs under memcheck" "$(tail -20 "$VG_LOG" 2>/dev/null)"
	exit 1
fi

# --- DHCP: a new MAC through the daemon's slow path, then again from XDP ----------------------
udhcpc_run "$LAB-h1" h1
check "udhcpc: a new MAC is bound from the pool by the daemon" test "$(result_field h1 ip)" = 198.18.0.100
dhclient_run "$LAB-h2" h2
check "dhclient: a second MAC is bound" test "$(result_field h2 ip)" = 198.18.0.101
udhcpc_run "$LAB-h1" h1again
check "udhcpc again: the same address, from XDP" test "$(result_field h1again ip)" = 198.18.0.100

# --- TFTP: two clients, the RRQ answered by the daemon, the blocks by the data plane --------
want=$(sha "$WORK/small")
in_cli timeout 300 curl -s --tftp-blksize 1468 -o "$WORK/tftp.curl" "tftp://$SRV_IP/small"
check "curl fetches an asset over TFTP, intact" test "$(sha "$WORK/tftp.curl")" = "$want"
(cd "$WORK" && timeout 300 ip netns exec "$NS_CLI" atftp --option "windowsize 4" -g -r small \
	-l "$WORK/tftp.atftp" "$SRV_IP" >/dev/null 2>&1)
check "atftp with windowsize 4 fetches it, intact" test "$(sha "$WORK/tftp.atftp")" = "$want"
in_cli timeout 300 curl -s -o "$WORK/tftp.none" "tftp://$SRV_IP/../etc/passwd"
check "a path-traversal RRQ is refused" test ! -s "$WORK/tftp.none"

# --- HTTP ---------------------------------------------------------------------------------------
H=http://$SRV_IP:8080
check "HTTP: the boot script" bash -c "ip netns exec $NS_CLI curl -sf '$H/boot.ipxe?mac=52-54-00-7a-00-01' | grep -q '^#!ipxe'"
check "HTTP: an asset, intact" bash -c "ip netns exec $NS_CLI curl -sf '$H/assets/small' | sha256sum | grep -q $want"
check "HTTP: a Range request" bash -c "[ \$(ip netns exec $NS_CLI curl -sf -r 10-19 '$H/assets/small' | wc -c) = 10 ]"
ip -n "$LAB-h1" addr replace 198.18.0.100/24 dev eth0
check "HTTP: a Talos config, templated, to the machine's own address" bash -c "ip netns exec $LAB-h1 curl -sf '$H/talos/config?mac=52:54:00:7a:00:01' | grep -q '52:54:00:7a:00:01'"
check "HTTP: a bound machine's config to another address is 403" bash -c "[ \$(ip netns exec $NS_CLI curl -s -o /dev/null -w '%{http_code}' '$H/talos/config?mac=52:54:00:7a:00:01') = 403 ]"
check "HTTP: /metrics" bash -c "ip netns exec $NS_CLI curl -sf '$H/metrics' | grep -q xpxe_frames_total"
check "HTTP: an unknown path is 404" bash -c "[ \$(ip netns exec $NS_CLI curl -s -o /dev/null -w '%{http_code}' '$H/nope') = 404 ]"

# --- the control socket -------------------------------------------------------------------------
check "control: status, leases, assets, machines" bash -c "'$PLAIN' status --json >/dev/null && '$PLAIN' leases >/dev/null && '$PLAIN' assets >/dev/null && '$PLAIN' machines >/dev/null"
check "control: reload" "$PLAIN" reload
check "control: assets --reload" "$PLAIN" assets --reload

# --- stop -----------------------------------------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
rc=$?
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$VG_LOG" | tail -1)
lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$VG_LOG" | tail -1 | tr -d ,)
if [ "$rc" -eq 0 ] && [ "${errors:-x}" = 0 ]; then
	ok "SIGTERM: the daemon exits 0 with no memcheck error"
else
	not_ok "SIGTERM: the daemon exits 0 with no memcheck error (exit $rc, ${errors:-no} errors)" \
		"$(grep -E '^==[0-9]+== ' "$VG_LOG" | grep -v -e 'Copyright' -e 'Command:' | head -80)"
fi
if [ "${lost:-0}" = 0 ]; then ok "no definite leak (${lost:-0} bytes definitely lost)"; else
	not_ok "no definite leak ($lost bytes definitely lost)" "$(grep -A14 'definitely lost in' "$VG_LOG" | head -80)"
fi
check "nothing is left attached" test -z "$(xdp_prog_on "$NS_SRV" "$IF_SRV")"
