#!/usr/bin/env bash
# The HTTP side with curl in the lab: boot scripts per machine, assets with Range
# and HEAD, Talos configs by MAC/UUID/serial with their templates, 404 for the
# unknown, 403 for the wrong address, boot-once and rearm, and config files
# refused with the line and column of their mistake.
LAB=thttp
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
lab host 1 52:54:00:c1:00:01
lab host 2 52:54:00:c1:00:02
lab host 3 52:54:00:c1:00:33

head -c 1048576 /dev/urandom >"$WORK/kernel"
head -c 300000 /dev/urandom >"$WORK/initrd"
mkdir -p "$WORK/talos"
printf 'machine:\n  network:\n    hostname: {{hostname}}\n  install:\n    disk: {{install_disk}}\n# {{mac}} {{ip}} {{uuid}} {{serial}}\n' \
	>"$WORK/talos/cp.yaml"
printf 'fine: {{hostname}}\n' >"$WORK/talos/broken.yaml" # broken once the daemon runs
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp: {pool: 198.18.0.100-198.18.0.109, leases: $WORK/leases}
state_dir: $WORK/state
assets: {vmlinuz: $WORK/kernel, initramfs: $WORK/initrd}
profiles:
  default: {kernel: vmlinuz, initrd: initramfs, cmdline: console=ttyS0, talos_config: $WORK/talos/cp.yaml}
  broken: {kernel: vmlinuz, initrd: initramfs, talos_config: $WORK/talos/broken.yaml}
default_profile: none
machines:
  - {mac: 52:54:00:c1:00:01, hostname: cp-1, install_disk: /dev/sda, uuid: 11111111-2222-3333-4444-555555555555}
  - {mac: 52:54:00:c1:00:02, hostname: cp-2, serial: SER2}
  - {uuid: AAAAAAAA-0000-0000-0000-000000000001, hostname: dup-a}
  - {uuid: aaaaaaaa-0000-0000-0000-000000000001, hostname: dup-b, serial: SERB}
  - {mac: 52:54:00:c1:00:09, hostname: bad-tpl, profile: broken}
YAML

if start_daemon -c "$WORK/xpxe.yaml"; then ok "serve -c starts"; else not_ok "serve -c starts"; exit 1; fi
# A placeholder some machines would get empty: said at start, with the line and who.
check "a warning at start: cp.yaml's {{install_disk}} is empty for the machines without one" \
	grep -q "warn $WORK/talos/cp.yaml:5: {{install_disk}} is empty for cp-2 and 2 more machine(s)" "$WORK/daemon.log"
URL=http://198.18.0.1:8080
get() { # NS PATH -> "STATUS BODY" (curl from a host or the client namespace)
	ip netns exec "$1" curl -s -o "$WORK/body" -w '%{http_code}' "$URL$2"
}

# --- scripts ----------------------------------------------------------------------------------
check "a bare /boot.ipxe chains to itself with the machine's identity" \
	bash -c "[ \"\$(ip netns exec $NS_CLI curl -s $URL/boot.ipxe)\" != '' ] && ip netns exec $NS_CLI curl -s $URL/boot.ipxe | grep -q 'chain $URL/boot.ipxe?mac=\${mac:hexhyp}&uuid=\${uuid}'"
code=$(get "$NS_CLI" "/boot.ipxe?mac=52-54-00-C1-00-01")
check "a machine's script (MAC in another spelling): 200" test "$code" = 200
check "... boots its kernel with Talos's arguments and the config URL" \
	grep -q "kernel $URL/assets/vmlinuz initrd=initrd talos.platform=metal slab_nomerge pti=on console=ttyS0 talos.config=$URL/talos/config?mac=\${mac}" "$WORK/body"
check "an unknown MAC with no default profile: 404" test "$(get "$NS_CLI" '/boot.ipxe?mac=52:54:00:ff:ff:ff')" = 404
check "... and the log says why" grep -q "no boot script for .*no machine in the inventory" "$WORK/daemon.log"

# --- assets -------------------------------------------------------------------------------------
code=$(get "$NS_CLI" /assets/vmlinuz)
check "GET /assets/vmlinuz: 200 and the file's bytes" bash -c "[ $code = 200 ] && cmp -s '$WORK/body' '$WORK/kernel'"
hdr=$(ip netns exec "$NS_CLI" curl -sI "$URL/assets/initramfs")
check "HEAD: Content-Length is the file's size" grep -qi "content-length: 300000" <<<"$hdr"
ip netns exec "$NS_CLI" curl -s -r 1000-1999 -D "$WORK/hdr" -o "$WORK/part" "$URL/assets/vmlinuz"
check "Range 1000-1999: 206, 1000 bytes, the right ones" \
	bash -c "grep -q ' 206' '$WORK/hdr' && grep -qi 'content-range: bytes 1000-1999/1048576' '$WORK/hdr' && cmp -s '$WORK/part' <(tail -c +1001 '$WORK/kernel' | head -c 1000)"
check "a range past the end: 416" test "$(ip netns exec "$NS_CLI" curl -s -o /dev/null -w '%{http_code}' -r 2000000-2000010 "$URL/assets/vmlinuz")" = 416
check "a name that is not an asset: 404" test "$(get "$NS_CLI" /assets/passwd)" = 404
check "a path outside /assets: 404" test "$(ip netns exec "$NS_CLI" curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL/assets/../../etc/passwd")" = 404
check "POST is refused: 405" test "$(ip netns exec "$NS_CLI" curl -s -o /dev/null -w '%{http_code}' -d x "$URL/assets/vmlinuz")" = 405

# --- default_profile none: a machine not in the inventory gets no address either ----------
udhcpc_run "$LAB-h3" h3
check "an unknown MAC gets no DHCP answer (default_profile: none)" test ! -s "$WORK/h3.result"
check "... counted as unknown_ignored" jq -e '.interfaces[0].dhcp.unknown_ignored > 0' <<<"$("$XPXE" status --json)"
check "... and it got no binding" bash -c "! grep -q '52:54:00:c1:00:33' '$WORK/leases' 2>/dev/null"

# --- Talos configs ------------------------------------------------------------------------------
# cp-1 gets an address first, so its config is tied to it.
udhcpc_run "$LAB-h1" h1
ip1=$(result_field h1 ip)
check "cp-1 gets an address from the pool ($ip1)" test -n "$ip1"
ip -n "$LAB-h1" addr replace "$ip1/24" dev eth0
# Its binding names cp-1 at that address, but not its architecture: an arm64 iPXE asking
# bare must not get amd64's kernel (the chain script asks again with arch=${buildarch}).
code=$(get "$LAB-h1" /boot.ipxe)
check "cp-1's bare /boot.ipxe (bound, no arch=): the chain script, not a kernel" \
	bash -c "[ $code = 200 ] && grep -q 'chain $URL/boot.ipxe?mac=' '$WORK/body' && ! grep -q '^kernel' '$WORK/body'"
code=$(get "$LAB-h1" '/boot.ipxe?arch=x86_64')
check "... with arch=x86_64, the binding names it: cp-1's script" \
	bash -c "[ $code = 200 ] && grep -q '^kernel $URL/assets/vmlinuz' '$WORK/body'"
check "... with arch=arm64, refused: its profile has no arm64 files (404)" \
	test "$(get "$LAB-h1" '/boot.ipxe?arch=arm64')" = 404
code=$(get "$LAB-h1" "/talos/config?mac=52%3A54%3A00%3Ac1%3A00%3A01&uuid=x")
check "cp-1 fetches its config from its own address: 200" test "$code" = 200
check "... templated with its hostname, disk, MAC, address and UUID" \
	grep -qx "# 52:54:00:c1:00:01 $ip1 11111111-2222-3333-4444-555555555555 " "$WORK/body"
check "... hostname: cp-1" grep -q "hostname: cp-1" "$WORK/body"
check "another address asking for cp-1's config: 403" \
	test "$(get "$NS_CLI" '/talos/config?mac=52:54:00:c1:00:01')" = 403
check "... logged" grep -q "config of cp-1 refused to 198.18.0.2: the machine is at $ip1 (its lease)" "$WORK/daemon.log"
check "by serial, before cp-2 was seen booting (no address known): 403" \
	test "$(get "$NS_CLI" '/talos/config?serial=SER2')" = 403
check "cp-2 fetches its boot script by serial from 198.18.0.2" test "$(get "$NS_CLI" '/boot.ipxe?serial=SER2')" = 200
check "... then by serial from that address: 200" test "$(get "$NS_CLI" '/talos/config?serial=SER2')" = 200
check "a UUID two machines share (any case) matches neither: 404" \
	test "$(get "$NS_CLI" '/talos/config?uuid=aaaaaaaa-0000-0000-0000-000000000001')" = 404
get "$NS_CLI" '/boot.ipxe?serial=SERB' >/dev/null
check "... but their serial still finds one" \
	test "$(get "$NS_CLI" '/talos/config?uuid=aaaaaaaa-0000-0000-0000-000000000001&serial=SERB')" = 200
check "an unknown machine: 404" test "$(get "$NS_CLI" '/talos/config?mac=52:54:00:ff:00:00')" = 404
get "$NS_CLI" '/boot.ipxe?mac=52:54:00:c1:00:09' >/dev/null
# Checked at start, check and reload; a document edited on disk after them is found at its fetch.
printf 'broken: {{hostnme}}\n' >"$WORK/talos/broken.yaml"
check "a template broken after the start, at its fetch: 500, never a half-filled secret" \
	test "$(get "$NS_CLI" '/talos/config?mac=52:54:00:c1:00:09')" = 500
check "... and the log names the file, line and name" grep -q "broken.yaml:1: unknown template variable '{{hostnme}}'" "$WORK/daemon.log"
out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" check -c "$WORK/xpxe.yaml" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -qF "$WORK/talos/broken.yaml:1: unknown placeholder '{{hostnme}}' in the Talos config of profile 'broken'" <<<"$out"; then
	ok "xpxe check finds it before any fetch: the document's file and line, exit 1"
else
	not_ok "xpxe check finds the unknown placeholder" "exit $rc: $out"
fi
out=$("$XPXE" reload --json 2>&1)
rc=$?
if [ $rc -eq 1 ] && jq -e '.error | test("broken.yaml:1: unknown placeholder .*the running config is kept")' <<<"$out" >/dev/null; then
	ok "reload refuses it too; --json prints the refusal as JSON, exit 1"
else
	not_ok "reload --json refuses the unknown placeholder, as JSON" "exit $rc: $out"
fi
printf 'fine: {{hostname}}\n' >"$WORK/talos/broken.yaml"

# --- boot-once ------------------------------------------------------------------------------------
# Set once cp-1's config went out whole: libmicrohttpd's completion callback, which may run
# after curl has the last byte.
installed() { "$XPXE" machines show "$1" --json | jq -e '.machine.installed == true' >/dev/null; }
wait_until installed cp-1
get "$LAB-h1" "/boot.ipxe?mac=52:54:00:c1:00:01" >/dev/null
check "after its config, cp-1's script boots its local disk" grep -q "cp-1 is installed: booting from its disk" "$WORK/body"
check "xpxe machines shows it installed" bash -c "'$XPXE' machines | grep -q 'cp-1 .*local disk (installed)'"
check "xpxe machines rearm 52:54:00:c1:00:01" "$XPXE" machines rearm 52:54:00:c1:00:01
get "$LAB-h1" "/boot.ipxe?mac=52:54:00:c1:00:01" >/dev/null
check "... and its script installs again" grep -q "^kernel " "$WORK/body"
check "xpxe machines mark-installed cp-2 (by hostname)" "$XPXE" machines mark-installed cp-2
check "... and with --json, the daemon's answer as JSON" \
	bash -c "'$XPXE' machines mark-installed cp-2 --json | jq -e '.key | startswith(\"mac:\")'"
check "xpxe reload --json: the counts as JSON" \
	bash -c "'$XPXE' reload --json | jq -e '.machines >= 1 and .profiles >= 1'"
check "... cp-2 now boots its disk" bash -c "ip netns exec $NS_CLI curl -s '$URL/boot.ipxe?mac=52:54:00:c1:00:02' | grep -q 'installed'"
refused_rc=0
"$XPXE" machines rearm nobody-at-all >/dev/null 2>&1 || refused_rc=$?
check "rearm of a machine nobody knows: exit 4" test "$refused_rc" = 4
check "the boot-once state is on disk" grep -q "^mac:52:54:00:c1:00:02 " "$WORK/state/installed"

# --- /metrics --------------------------------------------------------------------------------------
metrics=$(ip netns exec "$NS_CLI" curl -s "$URL/metrics")
check "/metrics: the programs' counters by interface and outcome" \
	bash -c "grep -Eq '^xpxe_frames_total\{interface=\"$IF_SRV\",outcome=\"dhcp_ack\"\} [1-9]' <<<\"\$1\"" _ "$metrics"
check "/metrics: HTTP answers by kind" \
	bash -c "grep -Eq '^xpxe_http_requests_total\{kind=\"refused\"\} [1-9]' <<<\"\$1\"" _ "$metrics"
check "/metrics: the inventory (5 machines) and the bindings" \
	bash -c "grep -qx 'xpxe_machines 5' <<<\"\$1\" && grep -Eq '^xpxe_dhcp_bindings\{interface=\"$IF_SRV\"\} [1-9]' <<<\"\$1\"" _ "$metrics"

# --- reload: a new machine in place; a bad file changes nothing ---------------------------------------
check "before the reload, cp-3 is unknown (404)" test "$(get "$NS_CLI" '/boot.ipxe?mac=52:54:00:c1:00:03')" = 404
cp "$WORK/xpxe.yaml" "$WORK/xpxe.yaml.good"
echo "  - {mac: 52:54:00:c1:00:03, hostname: cp-3}" >>"$WORK/xpxe.yaml"
check "xpxe reload takes the new machine" "$XPXE" reload
check "... cp-3's script is served now" test "$(get "$NS_CLI" '/boot.ipxe?mac=52:54:00:c1:00:03')" = 200
sed -i 's/^mode: full$/mode: fast/' "$WORK/xpxe.yaml"
out=$("$XPXE" reload 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -qF "xpxe.yaml:2:7: 'mode' takes proxy, full or off, not 'fast'; the running config is kept" <<<"$out"; then
	ok "a bad file: reload refused with line and column, exit 1"
else
	not_ok "a bad file: reload refused with line and column" "exit $rc: $out"
fi
check "... and the running config still serves cp-3" test "$(get "$NS_CLI" '/boot.ipxe?mac=52:54:00:c1:00:03')" = 200
sed -i 's/^mode: fast$/mode: proxy/' "$WORK/xpxe.yaml"
out=$("$XPXE" reload 2>&1)
check "a reload that changes the mode is refused, naming the key and both values" \
	grep -qF "mode changed (full -> proxy): it changes only with a restart" <<<"$out"
sed -i 's/^mode: proxy$/mode: full/; s/198.18.0.100-198.18.0.109/198.18.0.100-198.18.0.119/' "$WORK/xpxe.yaml"
out=$("$XPXE" reload 2>&1)
rc=$?
check "a changed pool is refused too (it used to be kept silently), exit 1" \
	bash -c "[ $rc = 1 ] && grep -qF 'dhcp.pool changed (198.18.0.100-198.18.0.109 -> 198.18.0.100-198.18.0.119): it changes only with a restart' <<<\"\$1\"" _ "$out"
cp "$WORK/xpxe.yaml.good" "$WORK/xpxe.yaml"
reloads() { grep -c "reloaded $WORK/xpxe.yaml" "$WORK/daemon.log"; }
reloads0=$(reloads)
kill -HUP "$DAEMON_PID"
reloaded() { [ "$(reloads)" -gt "$reloads0" ]; } # the daemon logs it once the reload is in effect
wait_until reloaded
check "SIGHUP reloads too (cp-3 gone again)" test "$(get "$NS_CLI" '/boot.ipxe?mac=52:54:00:c1:00:03')" = 404
check "... and the log says so" grep -q "received SIGHUP: reloading" "$WORK/daemon.log"

# --- config files refused with where and why ---------------------------------------------------------
bad_config() { # DESCRIPTION YAML EXPECTED-MESSAGE
	printf '%b' "$2" >"$WORK/bad.yaml"
	out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" --socket "$WORK/bad.sock" serve -c "$WORK/bad.yaml" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -qF "$3" <<<"$out"; then ok "$1"; else
		not_ok "$1" "exit $rc: $out"; fi
}
bad_config "a bad mode: refused with line and column" "interfaces: [$IF_SRV]\nmode: fast\n" \
	"bad.yaml:2:7: 'mode' takes proxy, full or off, not 'fast'"
bad_config "a YAML syntax error: refused with line and column" "interfaces: [$IF_SRV\nmode: full\n" "bad.yaml:3:1:"
bad_config "an unknown key: refused, the expected keys listed" "interfaces: [$IF_SRV]\nmachnes: []\n" \
	"bad.yaml:2:1: unknown key 'machnes' in the top level (expected one of:"
check "the running daemon kept serving through the refusals" \
	test "$(get "$NS_CLI" /assets/initramfs)" = 200
