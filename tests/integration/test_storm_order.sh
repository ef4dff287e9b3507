#!/usr/bin/env bash
# Boot storm order (issue 23): large downloads over HTTP are admitted at most
# downloads.max at once, the others are held (not refused) in a queue, control planes
# first, then in the order they asked; a held one gets its header at once and a trickle of
# its first bytes until its turn. A control plane goes at once, over the cap, while fewer
# than downloads.max control planes download. Real curl clients in the lab, one source address
# per machine; the order is read from events (which download finished first, the daemon's
# queue as status lists it), never from durations.
#
# With --max-downloads 1: w1 takes the slot and is stopped (SIGSTOP) while w2 and w3 queue,
# cp (role: controlplane in the inventory) goes in at once over the cap (and is stopped too),
# and c2 (no role; its Talos document says type: controlplane) queues ahead of the workers: one
# control plane downloads already. Then cp goes on and ends while w1 still holds the slot
# (nobody goes in), then w1. Expected finishing order: cp, w1, c2, w2, w3.
LAB=tstorm
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }

head -c $((16 << 20)) /dev/urandom >"$WORK/big"
head -c 100000 /dev/urandom >"$WORK/small"
mkdir -p "$WORK/talos"
printf 'version: v1alpha1\nmachine:\n  type: worker\n  token: x\n# {{mac}}\n' >"$WORK/talos/worker.yaml"
printf 'version: v1alpha1\nmachine:\n  token: x\n  type: controlplane\ncluster:\n  type: worker-is-not-here\n' \
	>"$WORK/talos/c2.yaml"
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: proxy
state_dir: $WORK/state
assets: {vmlinuz: $WORK/big, initramfs: $WORK/small}
profiles:
  default: {kernel: vmlinuz, initrd: initramfs, talos_config: $WORK/talos/worker.yaml}
default_profile: default
downloads: {max: 4, max_wait: 0}
machines:
  - {mac: 02:00:00:00:23:01, hostname: w1}
  - {mac: 02:00:00:00:23:02, hostname: w2, role: worker}
  - {mac: 02:00:00:00:23:03, hostname: w3}
  - {mac: 02:00:00:00:23:04, hostname: cp, role: controlplane}
  - {mac: 02:00:00:00:23:05, hostname: c2, talos_config: $WORK/talos/c2.yaml}
YAML

check "a config with role: boss is refused with its line" \
	bash -c "sed 's/role: worker/role: boss/' '$WORK/xpxe.yaml' >'$WORK/bad.yaml'; ! '$XPXE' check -c '$WORK/bad.yaml' >'$WORK/bad.out' 2>&1 && grep -q \"bad.yaml:11:.*'role' takes controlplane, init or worker, not 'boss'\" '$WORK/bad.out'"

check "--tftp-max-wait 61 is refused with its range" \
	bash -c "! '$XPXE' serve -c '$WORK/xpxe.yaml' --tftp-max-wait 61 >'$WORK/tmw.out' 2>&1 && grep -q -- \"--tftp-max-wait wants 0..60 seconds (0: never), not '61'\" '$WORK/tmw.out'"

# --max-downloads overrides the file's downloads.max (4): one at a time here.
if start_daemon -c "$WORK/xpxe.yaml" --max-downloads 1 --tftp-max-wait 7; then
	ok "serve -c --max-downloads 1 starts"
else
	not_ok "serve -c --max-downloads 1 starts"
	exit 1
fi
URL=http://$SRV_IP:8080
metric() { in_cli curl -s "$URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }

# Small TCP buffers on both ends: a download's bytes cannot all wait in the kernel's buffers
# (tcp_rmem's default allows 32 MiB here), so the server's end of a download, which frees its
# slot, comes when the client has read nearly all of it, and clients finish in the order the
# server let them in.
in_cli sysctl -qw net.ipv4.tcp_rmem="4096 65536 131072"
in_srv sysctl -qw net.ipv4.tcp_wmem="4096 16384 131072"

# One address per machine; each fetches its script from it, so xpxe learns who is where.
declare -A IP=([w1]=198.18.0.31 [w2]=198.18.0.32 [w3]=198.18.0.33 [cp]=198.18.0.34 [c2]=198.18.0.35)
declare -A MAC=([w1]=02-00-00-00-23-01 [w2]=02-00-00-00-23-02 [w3]=02-00-00-00-23-03
	[cp]=02-00-00-00-23-04 [c2]=02-00-00-00-23-05)
for m in w1 w2 w3 cp c2; do
	in_cli ip addr add "${IP[$m]}/24" dev "$IF_BR"
done
learned=0
for m in w1 w2 w3 cp c2; do
	code=$(in_cli curl -s -o /dev/null -w '%{http_code}' --interface "${IP[$m]}" \
		"$URL/boot.ipxe?mac=${MAC[$m]}")
	[ "$code" = 200 ] && learned=$((learned + 1))
done
check "each machine fetched its script from its own address" test "$learned" = 5

# fetch M: the big asset from M's address, rate-limited so that downloads overlap; its end
# is appended to $WORK/order (the order of lines is the order the downloads finished).
declare -A PID
fetch() {
	(
		in_cli curl -s --limit-rate 8M --interface "${IP[$1]}" -o "$WORK/$1.out" \
			"$URL/assets/vmlinuz" && echo "$1" >>"$WORK/order"
	) &
	PID[$1]=$!
}
: >"$WORK/order"
fetch w1
check "w1 takes the one slot" wait_until metric_is xpxe_http_downloads_active 1
# Hold w1 in its download (the server's slot stays taken) while the others ask.
curl1=$(pgrep -P "${PID[w1]}" curl || pgrep -P "${PID[w1]}")
kill -STOP "$curl1"
n=0
for m in w2 w3; do
	fetch "$m"
	n=$((n + 1))
	wait_until metric_is xpxe_http_downloads_waiting "$n" ||
		not_ok "$m is held in the queue" "waiting: $(metric xpxe_http_downloads_waiting)"
done
fetch cp
check "cp goes in at once, over the cap of 1 (a control plane)" \
	wait_until metric_is xpxe_http_downloads_active 2
curlcp=$(pgrep -P "${PID[cp]}" curl || pgrep -P "${PID[cp]}")
kill -STOP "$curlcp"
check "... counted as a control plane over the cap" \
	metric_is 'xpxe_http_downloads_admitted_total{how="controlplane"}' 1
check "the log says cp went at once, over the cap" \
	grep -q "vmlinuz of cp goes at once, over the cap (control plane; 1 downloads at once)" "$WORK/daemon.log"
fetch c2
check "c2, the second control plane, is held: one control plane downloads already" \
	wait_until metric_is xpxe_http_downloads_waiting 3
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
held_sizes() { for m in w2 w3 c2; do size "$WORK/$m.out"; done | tr '\n' ' '; }
check "three downloads are held (none refused, none finished; each had at most a few bytes: $(held_sizes))" \
	bash -c "[ \"\$(cat '$WORK/order')\" = '' ] && for m in w2 w3 c2; do [ \$(stat -c %s '$WORK/'\$m.out 2>/dev/null || echo 0) -le 8192 ] || exit 1; done"
# Held, not silent: each got its header at once, and its first bytes trickle while it waits.
got_header() { [ "$(size "$WORK/w2.out")" -ge 1 ]; }
check "a held download got its header and a first byte at once" wait_until got_header
trickled() { [ "$(size "$WORK/w3.out")" -gt 1 ]; }
check "... and more bytes trickle while it waits (a client that gives up on silence stays)" \
	wait_until trickled
check "the log says c2 is queued ahead of the workers, by its Talos document's machine.type" \
	grep -q "vmlinuz of c2 queued ahead of the workers (control plane)" "$WORK/daemon.log"
queue=$("$XPXE" status --json | jq -r '[.http.downloads.list[] | select(.state == "queued") | .who] | join(" ")')
check "status lists the queue in its order: c2, w2, w3" test "$queue" = "c2 w2 w3"
check "status lists cp and w1 as downloading" \
	bash -c "'$XPXE' status --json | jq -e '[.http.downloads.list[] | select(.state == \"downloading\") | .who] == [\"cp\", \"w1\"]'"
check "--tftp-max-wait overrides the file's downloads.tftp_max_wait (status --json)" \
	bash -c "'$XPXE' status --json | jq -e '.http.downloads.tftp_max_wait_s == 7'"
check "status --json counts cp as a control plane over the cap" \
	bash -c "'$XPXE' status --json | jq -e '.http.downloads.admitted_controlplane_over_cap == 1'"
check "xpxe status prints the queue" bash -c "'$XPXE' status | grep -Eq '^ +queued +controlplane +c2 +vmlinuz'"
check "/metrics names who is queued" \
	bash -c "curl -s --interface $CLI_IP '$URL/metrics' >/dev/null; ip netns exec $NS_CLI curl -s '$URL/metrics' | grep -q 'xpxe_http_download{machine=\"w3\",asset=\"vmlinuz\",state=\"queued\",rank=\"worker\"} 1'"
screen=$(XPXE_SOCKET=$SOCK script -qec "$XPXE watch --once" /dev/null | tr -d '\r')
check "xpxe watch shows who downloads and who is next" \
	grep -q "downloads: 2 running (at most 1), 3 queued; next: c2 (control plane), w2, w3" <<<"$screen"
check "xpxe trace shows c2's download_queued event" \
	bash -c "'$XPXE' trace c2 --once | grep -q 'download_queued.*vmlinuz'"
# Small files never queue: the initramfs here (100 kB) and a HEAD of the big one.
check "a small asset is served at once while the queue is full" \
	bash -c "ip netns exec $NS_CLI curl -s -m 30 -o '$WORK/small.out' '$URL/assets/initramfs' && cmp -s '$WORK/small' '$WORK/small.out'"
check "a HEAD of the big one too" \
	bash -c "ip netns exec $NS_CLI curl -sI -m 30 '$URL/assets/vmlinuz' | grep -qi 'content-length: 16777216'"
check "... and the queue is as it was" metric_is xpxe_http_downloads_waiting 3

# cp ends while w1 still holds the one slot: nobody goes in (cp was over the cap).
kill -CONT "$curlcp"
check "cp's download ends while w1 is stopped" wait_until grep -qx cp "$WORK/order"
check "... and nobody went in: w1 holds the one slot" \
	bash -c "[ \"$(metric xpxe_http_downloads_waiting)\" = 3 ] && [ \"$(metric xpxe_http_downloads_active)\" = 1 ]"
kill -CONT "$curl1"
wait_downloads "$WORK/big" "$WORK/none" 0 "${PID[@]}"
check "every download ended well" test "$FAILED" = 0
same=0
for m in w1 w2 w3 cp c2; do cmp -s "$WORK/big" "$WORK/$m.out" && same=$((same + 1)); done
check "every machine got the file's bytes" test "$same" = 5
# The server's order (its log): a download's end frees the slot the next one takes, so the
# order of these lines is the queue's, whatever the clients' speed.
sent=$(sed -n 's/.*http: vmlinuz of \([a-z0-9]*\) sent; its slot goes to the next in line/\1/p' "$WORK/daemon.log" | tr '\n' ' ')
check "the server sent them in that order: cp w1 c2 w2 w3 (got: $sent)" test "$sent" = "cp w1 c2 w2 w3 "
started=$(sed -n 's/.*http: vmlinuz of \([a-z0-9]*\) starts after .* in the queue$/\1/p' "$WORK/daemon.log" | tr '\n' ' ')
check "the held ones started in the queue's order (got: $started)" test "$started" = "c2 w2 w3 "
pos() { tr ' ' '\n' <<<"$sent" | grep -nx "$1" | cut -d: -f1; }
check "the control plane's download ended before those of the workers that asked before it" \
	bash -c "[ '$(pos cp)' -lt '$(pos w2)' ] && [ '$(pos cp)' -lt '$(pos w3)' ]"
# The clients' view: the control plane (first out of the queue) had all its bytes before the
# last worker in it (three downloads later) finished.
cp_line=$(grep -nx cp "$WORK/order" | cut -d: -f1)
w3_line=$(grep -nx w3 "$WORK/order" | cut -d: -f1)
check "cp's client finished before w3's (clients' order: $(tr '\n' ' ' <"$WORK/order"))" \
	test "${cp_line:-9}" -lt "${w3_line:-0}"
check "three went in after a wait, two at once" \
	bash -c "[ \"$(metric 'xpxe_http_downloads_admitted_total{how="after_wait"}')\" = 3 ] && [ \"$(metric 'xpxe_http_downloads_admitted_total{how="at_once"}')\" = 2 ]"
check "the queue is empty again" \
	bash -c "[ \"$(metric xpxe_http_downloads_waiting)\" = 0 ] && [ \"$(metric xpxe_http_downloads_active)\" = 0 ]"
check "the log says when a held download started" \
	grep -q "vmlinuz of c2 starts after .* s in the queue" "$WORK/daemon.log"

# --- the bound on waiting: past --download-max-wait a held download goes in over the cap ----
kill "$DAEMON_PID" && wait_daemon
if start_daemon -c "$WORK/xpxe.yaml" --max-downloads 1 --download-max-wait 1; then
	ok "serve again with --download-max-wait 1"
else
	not_ok "serve again with --download-max-wait 1"
	exit 1
fi
: >"$WORK/order"
fetch w1
wait_until metric_is xpxe_http_downloads_active 1
curl1=$(pgrep -P "${PID[w1]}" curl || pgrep -P "${PID[w1]}")
kill -STOP "$curl1"
fetch w2
check "w2 goes in over the cap while w1 still holds the slot" \
	wait_until metric_is 'xpxe_http_downloads_admitted_total{how="over_cap"}' 1
check "w2 finishes while w1 is stopped" wait_until grep -qx w2 "$WORK/order"
kill -CONT "$curl1"
wait_downloads "$WORK/big" "$WORK/none" 0 "${PID[w1]}" "${PID[w2]}"
check "both ended well" bash -c "[ $FAILED = 0 ] && cmp -s '$WORK/big' '$WORK/w1.out' && cmp -s '$WORK/big' '$WORK/w2.out'"
check "the log says it went in over the cap" \
	grep -q "vmlinuz of w2 starts after .* (let in over the cap: downloads.max_wait)" "$WORK/daemon.log"

# --- stopping with downloads held: their connections end, and the daemon ends -------------
fetch w1
wait_until metric_is xpxe_http_downloads_active 1
curl1=$(pgrep -P "${PID[w1]}" curl || pgrep -P "${PID[w1]}")
kill -STOP "$curl1"
(
	in_cli curl -s -o "$WORK/held.out" --interface "${IP[w3]}" "$URL/assets/vmlinuz"
	echo $? >"$WORK/held.rc"
) &
held=$!
wait_until metric_is xpxe_http_downloads_waiting 1
kill "$DAEMON_PID"
wait_daemon
rc=$?
check "the daemon stops with a download held (exit $rc)" test "$rc" = 0
wait "$held"
check "the held download ended (curl: $(cat "$WORK/held.rc"), short of the file), not left hanging" \
	bash -c "[ \"\$(cat '$WORK/held.rc')\" != 0 ] && [ \$(stat -c %s '$WORK/held.out') -lt 16777216 ]"
kill -CONT "$curl1" 2>/dev/null
wait "${PID[w1]}" 2>/dev/null || true # its server stopped under it: curl fails, as it should
