#!/usr/bin/env bash
# Full mode's DHCPv6 release holds survive a restart: a machine binds the pool's first
# address and releases it (EDK2 does so before it goes on booting from the address); the
# address stays its machine's for XPXE_DHCP6_RELEASE_HOLD_S (leases6.h), written beside the
# bindings (LEASES6.holds) before the Reply. The daemon is killed (SIGKILL) and started again:
# the hold comes back from disk, another machine gets the pool's second address, not the held
# one, and the machine that released it gets its own address back.
LAB=td6hold
source "$(dirname "$0")/lib.sh"
require_root

# shellcheck disable=SC2034 # lab_up_dhcp6 puts it on the server's side
SRV6=fd00:198:18::1
A1=fd00:198:18::100
A2=fd00:198:18::101
PROBE=$ROOT/tests/integration/dhcp6_probe.py
lab_up_dhcp6 52:54:00:d8:00 2 || exit 1
LEASES=$WORK/bindings
HOLDS=${LEASES}6.holds
SERVE=(-i "$IF_SRV" --mode full --pool6 "$A1-$A2" --leases "$LEASES" --state-dir "$WORK/state")
srv6() { "$XPXE" status --json | jq -r ".interfaces[0].dhcp6.server.$1"; }
# probe N NAME TYPE [OPTIONS...]: one message from host N; the answers in $WORK/NAME.out
probe() {
	local n=$1 name=$2
	shift 2
	ip netns exec "$LAB-h$n" python3 "$PROBE" eth0 3 "$@" >"$WORK/$name.out" 2>&1
}
CID1=00030001525400d80001
CID2=00030001525400d80002

if start_daemon "${SERVE[@]}"; then ok "xpxe serves $IF_SRV in full mode with --pool6 $A1-$A2"; else
	not_ok "xpxe serves $IF_SRV in full mode" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
DUID=$("$XPXE" status --json | jq -r '.interfaces[0].dhcp6.server_duid' | tr -d :)

# --- machine 1 binds the first address, then releases it ----------------------------------------
probe 1 sol1 1 "cid=$CID1" "ia=1:"
check "machine 1's Solicit: an Advertise of $A1" grep -q "type=2 .*addrs=$A1/" "$WORK/sol1.out"
probe 1 req1 3 "cid=$CID1" "sid=$DUID" "ia=1:$A1"
check "its Request: a Reply binding $A1" grep -q "type=7 .*addrs=$A1/" "$WORK/req1.out"
check "... on disk (leases6)" grep -q "^52:54:00:d8:00:01 $A1 " "${LEASES}6"
rel0=$(srv6 released)
probe 1 rel1 8 "cid=$CID1" "sid=$DUID" "ia=1:$A1"
check "its Release: a Reply" grep -q "type=7 status=0" "$WORK/rel1.out"
check "... counted (released $rel0 -> $(srv6 released))" test "$(srv6 released)" -eq $((rel0 + 1))
check "... the binding gone from leases6" bash -c "! grep -q '^52:54:00:d8:00:01 ' '${LEASES}6'"
now=$(date +%s)
hold_end=$(awk '$1 == "52:54:00:d8:00:01" && $2 == "'"$A1"'" { print $3 }' "$HOLDS" 2>/dev/null)
check "the hold is on disk beside it ($HOLDS: until $hold_end)" test -n "$hold_end"
check "... for the 600 s hold (from $now)" test "$((hold_end - now))" -ge 590 -a "$((hold_end - now))" -le 600

# --- a crash, a restart: the hold came back ---------------------------------------------------
kill -KILL "$DAEMON_PID"
wait_daemon
if start_daemon "${SERVE[@]}"; then ok "serve starts again after SIGKILL"; else
	not_ok "serve starts again after SIGKILL" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
check "it says it kept the hold" grep -q "1 DHCPv6 release hold(s) kept for their machines" "$WORK/daemon.log"
probe 2 sol2 1 "cid=$CID2" "ia=2:"
check "machine 2 gets $A2, not the held $A1 ($(grep -o 'addrs=[^ ]*' "$WORK/sol2.out"))" \
	grep -q "type=2 .*addrs=$A2/" "$WORK/sol2.out"
probe 1 sol1b 1 "cid=$CID1" "ia=1:"
check "machine 1, back, gets its $A1 ($(grep -o 'addrs=[^ ]*' "$WORK/sol1b.out"))" \
	grep -q "type=2 .*addrs=$A1/" "$WORK/sol1b.out"
probe 1 req1b 3 "cid=$CID1" "sid=$DUID" "ia=1:$A1"
check "... and binds it again" grep -q "^52:54:00:d8:00:01 $A1 " "${LEASES}6"

# --- once bound again, a restart drops the stale hold (the binding wins) ------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
start_daemon "${SERVE[@]}" || { not_ok "serve starts a third time" "$(tail -5 "$WORK/daemon.log")"; exit 1; }
check "the binding came back, the hold did not (1 dropped)" \
	grep -q "0 DHCPv6 release hold(s) kept for their machines, 1 dropped" "$WORK/daemon.log"
check "... machine 1 bound to $A1" \
	jq -e ".leases | map(select(.family == \"ipv6\" and .ip == \"$A1\")) | length == 1" \
	<<<"$("$XPXE" leases --json)"
