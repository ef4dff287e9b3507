#!/usr/bin/env bash
# The fleet page in a real browser: a headless Chromium (tests/integration/cdp.py, over
# its DevTools pipe) keeps the page open while two QEMU machines boot through xpxe side
# by side (SeaBIOS + iPXE, and OVMF's own PXE then iPXE), and the test reads the page's
# DOM as they move: each machine's row goes from "not seen" through its boot's stages to
# "installed", never backwards within a boot, and ends as the daemon says (address,
# profile, stage); the filters and the storm's plot; nothing loaded from elsewhere; a
# screenshot is kept ($XPXE_TEST_OUT or tests/out, ui/). Then: the page refused to an
# address outside ui.allow (403, counted) and opened to it by a reload; the quick start's
# --ui and --ui-allow; the Grafana dashboard (etc/grafana/xpxe.json) checked query by
# query against this live /metrics; every metric of /metrics documented in README.md.
LAB=tui
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/cdp.sh"
require_root
export LAB # for scripts/qemu.sh

OUT=${XPXE_TEST_OUT:-$ROOT/tests/out}/ui
GUEST=$ROOT/build/guest
BIOS=52:54:00:28:00:01
UEFI=52:54:00:28:00:02
NEVER=52:54:00:28:00:03
mkdir -p "$OUT"
rm -f "$OUT"/*.png "$OUT"/stages.log

if ! command -v chromium >/dev/null; then
	not_ok "chromium is installed (Debian's chromium: scripts/deps.sh installs it)"
	exit 1
fi
if "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1; then
	ok "the Talos-like guest is built"
else
	not_ok "the Talos-like guest is built" "$(tail -5 "$WORK/build.log")"
	exit 1
fi
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up" "$(tail -5 "$WORK/lab.log")"; exit 1; }
at_exit cdp_quit

mkdir -p "$WORK/talos" "$WORK/state"
printf 'version: v1alpha1\nmachine:\n  network:\n    hostname: {{hostname}}\n' >"$WORK/talos/default.yaml"
CMDLINE="console=ttyS0 no_timer_check panic=1"
# ui.allow is left out: the default, loopback only.
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp: {pool: 198.18.0.100-198.18.0.199, router: 198.18.0.1, leases: $WORK/leases}
state_dir: $WORK/state
ui: {listen: 0.0.0.0:9090}
assets: {vmlinuz: $GUEST/vmlinuz, initramfs: $GUEST/initramfs.img}
profiles:
  default: {kernel: vmlinuz, initrd: initramfs, cmdline: $CMDLINE, talos_config: $WORK/talos}
  uefi: {kernel: vmlinuz, initrd: initramfs, cmdline: $CMDLINE, talos_config: $WORK/talos}
machines:
  - {mac: $BIOS, hostname: ui-bios, ip: 198.18.0.61}
  - {mac: $UEFI, hostname: ui-uefi, profile: uefi, ip: 198.18.0.62}
  - {mac: $NEVER, hostname: ui-never, ip: 198.18.0.63}
YAML
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves the lab, with ui.listen"; else
	not_ok "xpxe serves the lab, with ui.listen"; exit 1; fi
check "xpxe status names the fleet page" \
	bash -c "'$XPXE' status | grep -qF 'ui          the fleet page at http://0.0.0.0:9090/'"
check "its log says where the page is" grep -q "ui: the fleet page is at http://0.0.0.0:9090/" "$WORK/daemon.log"

status() { # NS URL [CURL-ARGS...] -> the HTTP status
	local ns=$1 url=$2
	shift 2
	ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' "$@" "$url"
}
metric() { in_cli curl -s "http://$SRV_IP:8080/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# --- who may see it: ui.allow, default loopback -----------------------------------------------
check "the page, to 127.0.0.1 (the default ui.allow): 200" test "$(status "$NS_SRV" http://127.0.0.1:9090/)" = 200
got=$(status "$NS_CLI" "http://$SRV_IP:9090/")
check "the page, to 198.18.0.2 (not in ui.allow): $got" test "$got" = 403
got=$(status "$NS_CLI" "http://$SRV_IP:9090/api/fleet")
check "its data, to 198.18.0.2: $got" test "$got" = 403
check "... counted (xpxe_ui_requests_total{kind=\"not_allowed\"} 2)" \
	test "$(metric 'xpxe_ui_requests_total{kind="not_allowed"}')" = 2
check "... and logged" grep -q "ui: refused 198.18.0.2: not in ui.allow" "$WORK/daemon.log"
headers=$(in_srv curl -s -D - -o /dev/null http://127.0.0.1:9090/)
check "the page says it loads nothing from elsewhere (Content-Security-Policy)" \
	grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" <<<"$headers"
check "read-only: POST gets 405" test "$(status "$NS_SRV" http://127.0.0.1:9090/ -X POST -d x=1)" = 405
check "an unknown path gets 404" test "$(status "$NS_SRV" http://127.0.0.1:9090/etc/passwd)" = 404
check "the machines' HTTP listener has no page" test "$(status "$NS_CLI" "http://$SRV_IP:8080/")" = 404

# --- the page open in Chromium while the machines boot ------------------------------------------
if cdp_start "$NS_SRV" http://127.0.0.1:9090/ "$WORK/browser"; then
	ok "headless Chromium opens the page"
else
	not_ok "headless Chromium opens the page" "$(tail -3 "$WORK/browser/cdp.err" "$WORK/browser/chromium.log")"
	exit 1
fi
# wait_page EXPR SECONDS: until EXPR is true in the page
wait_page() {
	local _
	for _ in $(seq $(($2 * 5))); do
		[ "$(cdp_value "$1")" = true ] && return 0
		sleep 0.2
	done
	echo "still false after $2 s: $1"
	return 1
}
row() { echo "document.querySelector('#rows tr[data-mac=\"$1\"]')"; }
check "the page lists the inventory's three machines, not seen yet" \
	wait_page "document.querySelectorAll('#rows tr[data-stage=\"-\"]').length === 3" 60
ROWS="Object.fromEntries([...document.querySelectorAll('#rows tr')].map((t) => [t.dataset.mac, t.dataset.stage]))"
check "its rows are recorded as they change" cdp "record $ROWS $OUT/stages.log"

boot() { # NAME MAC TAP TIMEOUT QEMU-ARGS...
	local name=$1 mac=$2 tap=$LAB-t$3 timeout=$4
	shift 4
	exec "$ROOT/scripts/qemu.sh" --mac "$mac" --tap "$tap" --timeout "$timeout" \
		--log "$WORK/$name.serial" "$@" >"$WORK/$name.qemu" 2>&1
}
boot bios "$BIOS" 0 240 --bios &
pbios=$!
at_exit kill $pbios
boot uefi "$UEFI" 1 300 --uefi --no-rom &
puefi=$!
at_exit kill $puefi
# A screenshot while they boot, once one machine is past DHCP.
wait_page "[...document.querySelectorAll('#rows tr')].some((t) => ['ipxe script', 'downloading', 'tftp'].includes(t.dataset.stage))" 240 >/dev/null &&
	cdp "shot $OUT/fleet-booting.png" >/dev/null
wait $pbios
rc_bios=$?
wait $puefi
rc_uefi=$?
for m in bios uefi; do
	rc=rc_$m
	if [ "${!rc}" -eq 0 ] && grep -aq "XPXE-GUEST: done" "$WORK/$m.serial"; then
		ok "the $m machine boots to its config ($(sed -n 's/.* after \([0-9.]*\) s .*/\1 s/p' "$WORK/$m.qemu"))"
	else
		not_ok "the $m machine boots to its config" "qemu.sh: ${!rc} $(cat "$WORK/$m.qemu")" \
			"$(grep -a "XPXE-GUEST" "$WORK/$m.serial" | tail -3 | tr '\n' '|')"
	fi
done
check "the page shows both installed" wait_page \
	"$(row "$BIOS").dataset.stage === 'installed' && $(row "$UEFI").dataset.stage === 'installed'" 30
cdp "shot $OUT/fleet.png" >/dev/null
check "a screenshot of the page is kept ($OUT/fleet.png)" test -s "$OUT/fleet.png"

# What the page showed of each machine, in order, from the recording (one line per change).
seen() { # MAC -> the stages its row showed, one a line, repeats folded
	awk '{ $1 = ""; print }' "$OUT/stages.log" | jq -r --arg m "$1" '.[$m] // empty' | uniq
}
order='"-" "dhcp offer" "address" "boot file" "tftp" "ipxe script" "downloading" "config" "installed" "local disk"'
# forward_only: each change goes on in boot order; back only to DHCP before iPXE has its
# script (iPXE's own DHCP after the firmware's): never once the boot is under iPXE or the
# installer (the installer's own DHCP is not a new boot)
forward_only() {
	awk -v order="$order" 'BEGIN { n = split(order, o, "\" \""); for (i = 1; i <= n; i++) { gsub(/"/, "", o[i]); idx[o[i]] = i } }
		{ i = idx[$0]; if (!i) { print "unknown stage " $0; bad = 1 }
		  if (NR > 1 && i < last && !(($0 == "dhcp offer" || $0 == "address") && last < idx["ipxe script"])) {
			print "back from " prev " to " $0; bad = 1 }
		  last = i; prev = $0 }
		END { exit bad }'
}
for mac in $BIOS $UEFI; do
	stages=$(seen "$mac")
	list=$(paste -sd'>' <<<"$stages")
	check "the page showed $mac move: $list" \
		test "$(head -1 <<<"$stages")" = - -a "$(tail -1 <<<"$stages")" = installed -a "$(grep -c . <<<"$stages")" -ge 3
	check "... forward within its boot" forward_only <<<"$stages"
done
check "the machine that never booted stays 'not seen'" test "$(seen "$NEVER")" = -

# The page's last rows against the daemon's own view (xpxe machines show).
for name in ui-bios ui-uefi; do
	show=$("$XPXE" machines show "$name" --json)
	mac=$(jq -r '.machine.macs[0] // .macs[0] // empty' <<<"$show")
	want=$(jq -r '[.machine.profile // .profile, .machine.stage // .stage] | join(" ")' <<<"$show")
	got=$(cdp_value "[$(row "${mac:-none}").querySelector('td.profile').textContent, $(row "${mac:-none}").dataset.stage].join(' ')")
	check "$name's row says what the daemon says: $got" test -n "$mac" -a "$got" = "$want"
done
check "ui-bios's row has its address" test "$(cdp_value "$(row "$BIOS").querySelector('td.ip').textContent")" = 198.18.0.61
check "ui-uefi's row has its address" test "$(cdp_value "$(row "$UEFI").querySelector('td.ip').textContent")" = 198.18.0.62

# The filters, as an operator uses them.
filter() { # ID VALUE -> the MACs of the rows left shown
	cdp_value "(() => { const e = document.getElementById('$1'); e.value = '$2';
		e.dispatchEvent(new Event(e.type === 'search' ? 'input' : 'change'));
		return [...document.querySelectorAll('#rows tr:not([hidden])')].map((t) => t.dataset.mac).join(' '); })()"
}
check "filter by profile 'uefi': ui-uefi alone" test "$(filter f-profile uefi)" = "$UEFI"
filter f-profile '' >/dev/null
check "filter by stage 'installed': both machines" test "$(filter f-stage installed)" = "$BIOS $UEFI"
check "filter 'not seen yet': ui-never" test "$(filter f-stage -)" = "$NEVER"
filter f-stage '' >/dev/null
check "find 'ui-bios'" test "$(filter f-text ui-bios)" = "$BIOS"
filter f-text '' >/dev/null
text=$(cdp_value "document.getElementById('storm-text').textContent")
check "the storm's plot says: $text" grep -q "^2 machines started since .*, 2 done" <<<"$text"
check "... drawn (the done line reaches the top)" test "$(cdp_value "(() => {
	const p = document.querySelector('#plot polyline.done').getAttribute('points').trim().split(' ');
	return p[p.length - 1].split(',')[1] === '12.0'; })()")" = true
# Everything the page loaded came from the page's own origin.
loaded=$(cdp_value "performance.getEntriesByType('resource').map((e) => e.name).join(' ')")
check "the page loaded only its own files and data: $loaded" \
	bash -c '[ -n "$1" ] && ! tr " " "\n" <<<"$1" | grep -qv "^http://127.0.0.1:9090/"' _ "$loaded"
check "the page never missed a poll" test "$(cdp_value 'window.xpxeStats.errors')" = 0
cdp_quit

# --- ui.allow changed by a reload; an empty one refused ------------------------------------
sed -i 's|^ui: .*|ui: {listen: 0.0.0.0:9090, allow: [127.0.0.0/8, 198.18.0.2/32]}|' "$WORK/xpxe.yaml"
check "xpxe reload with ui.allow naming 198.18.0.2" "$XPXE" reload
check "... the page, to 198.18.0.2: 200" test "$(status "$NS_CLI" "http://$SRV_IP:9090/")" = 200
sed -i 's|^ui: .*|ui: {listen: 0.0.0.0:9090, allow: []}|' "$WORK/xpxe.yaml"
out=$("$XPXE" reload 2>&1)
check "a reload with an empty ui.allow is refused: $out" grep -q "'allow' needs at least one network" <<<"$out"

# --- the Grafana dashboard against this live /metrics; the metrics documented ---------------
in_cli curl -s "http://$SRV_IP:8080/metrics" >"$WORK/metrics"
out=$(python3 "$ROOT/tests/integration/check_dashboard.py" "$ROOT/etc/grafana/xpxe.json" "$WORK/metrics" 2>&1)
check "every query of etc/grafana/xpxe.json names metrics and labels of /metrics: ${out##*$'\n'}" \
	test $? -eq 0 -a -n "$out"
undocumented=$(awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$WORK/metrics" | sort -u |
	while read -r name; do grep -q "\`$name\`" "$ROOT/README.md" || echo "$name"; done | tr '\n' ' ')
check "README.md names every metric of /metrics: ${undocumented:-all there}" test -z "$undocumented"

# --- the quick start: --ui, --ui-allow ---------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
out=$("$XPXE" serve -i "$IF_SRV" --ui nowhere 2>&1)
check "serve --ui takes ADDR:PORT only (exit $?): ${out%%$'\n'*}" \
	test $? -eq 2 -a "${out%%$'\n'*}" = "xpxe: --ui takes ADDR:PORT with an IPv4 address, not 'nowhere'"
out=$("$XPXE" serve -i "$IF_SRV" --ui-allow 10.0.0.0/40 2>&1)
check "serve --ui-allow takes networks only (exit $?): ${out%%$'\n'*}" \
	test $? -eq 2 -a "${out%%$'\n'*}" = "xpxe: --ui-allow takes a network ADDR[/BITS], not '10.0.0.0/40'"
# The page never shares the machines' listener (SO_REUSEPORT would split its connections).
if start_daemon -i "$IF_SRV" --state-dir "$WORK/state2" --ui "$SRV_IP:8080"; then
	not_ok "serve --ui on HTTP's own address and port is refused"
	kill -TERM "$DAEMON_PID"
	wait_daemon
else
	wait_daemon
	check "serve --ui on HTTP's own address and port is refused (exit $?)" \
		grep -q "ui: cannot listen on $SRV_IP:8080" "$WORK/daemon.log"
fi
if start_daemon -i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.199 --leases "$WORK/leases" \
	--state-dir "$WORK/state2" --ui 198.18.0.1:9091 --ui-allow 198.18.0.2/32; then
	ok "quick start with --ui 198.18.0.1:9091 --ui-allow 198.18.0.2/32"
else
	not_ok "quick start with --ui and --ui-allow"
fi
check "... the page, to 198.18.0.2: 200" test "$(status "$NS_CLI" "http://$SRV_IP:9091/")" = 200
check "... to the server's own 198.18.0.1 (--ui-allow replaced loopback): 403" \
	test "$(status "$NS_SRV" "http://$SRV_IP:9091/")" = 403
