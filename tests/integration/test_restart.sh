#!/usr/bin/env bash
# A restart drops nothing: 32 TFTP transfers in flight, `kill -9` of the daemon,
# a new daemon started over the same data plane; every transfer completes with
# the right sha256, and HTTP and the boot-once state come back with the new
# daemon (the control-plane issue's proof).
LAB=trestart
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
head -c $((24 << 20)) /dev/urandom >"$WORK/big"
want=$(sha256sum "$WORK/big" | cut -d' ' -f1)
# 32 transfers from one host below: --tftp-max-per-ip above them.
SERVE=(-i "$IF_SRV" --mode off --asset "big=$WORK/big" --no-default-assets
	--state-dir "$WORK/state" --tftp-max-per-ip 64)

if start_daemon "${SERVE[@]}"; then ok "serve starts with a 24 MiB asset"; else
	not_ok "serve starts"; exit 1; fi
"$XPXE" machines mark-installed 52:54:00:00:00:42 >/dev/null

# Small blocks, so each transfer is tens of thousands of round trips and still running.
# (--max-time only ends a hang.)
pids=()
for i in $(seq 1 32); do
	ip netns exec "$NS_CLI" curl -s --max-time 600 --tftp-blksize 512 -o "$WORK/out.$i" \
		"tftp://$SRV_IP/big" &
	pids+=($!)
done
transfers() { "$XPXE" status --json | jq '.interfaces[0].tftp.transfers'; }
all_running() { [ "$(transfers)" = 32 ]; }
wait_until all_running
running=$(transfers)
check "32 transfers in flight when the daemon is killed ($running)" test "${running:-0}" -eq 32
kill -KILL "$DAEMON_PID"
wait_daemon
if start_daemon "${SERVE[@]}"; then ok "a new daemon starts over the running data plane"; else
	not_ok "a new daemon starts over the running data plane"; fi
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
check "all 32 curl transfers exited 0" test "$failed" -eq 0
bad=0
for i in $(seq 1 32); do
	[ "$(sha256sum "$WORK/out.$i" 2>/dev/null | cut -d' ' -f1)" = "$want" ] || bad=$((bad + 1))
done
check "all 32 files have the right sha256 ($bad wrong)" test "$bad" -eq 0
check "the new daemon adopted the pins" jq -e '.interfaces[0].adopted == true' <<<"$("$XPXE" status --json)"
check "the boot-once mark survived the crash" \
	bash -c "'$XPXE' machines --json | jq -e '.machines[] | select(.mac == \"52:54:00:00:00:42\") | .installed'"
