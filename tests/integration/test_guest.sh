#!/usr/bin/env bash
# The Talos-like guest of the end-to-end tests, booted directly (no PXE, no xpxe, no
# XDP program of ours) in the lab: QEMU on a tap of the client bridge, dnsmasq as the
# DHCP (and TFTP) server and a small HTTP server in the server namespace. Asserts that
# the guest expands talos.config='s ${mac} ${uuid} ${serial} ${hostname} as Talos does,
# retries, fetches the machine's own document (sha256 compared with the served file),
# reports the kernel parameter checks and powers off by itself; that a missing pti=on
# is reported; and that scripts/qemu.sh kills a machine that outlives its timeout.
LAB=guest1
source "$(dirname "$0")/lib.sh"
require_root
export LAB # for scripts/qemu.sh

GUEST=$ROOT/build/guest
QEMU_SH=$ROOT/scripts/qemu.sh
HTTP_PORT=8080

# --- the guest, built (or found up to date) --------------------------------------------
if "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1; then
	ok "scripts/guest.sh build: $(sed -n 's/^kernel_release=//p' "$GUEST/guest.info")"
else
	not_ok "scripts/guest.sh build" "$(tail -5 "$WORK/build.log")"
	exit 1
fi

# --- URL expansion, on the host with the guest's own awk program -----------------------
# Expected values follow Talos (metal/url): only the query is expanded, case-insensitively,
# "?uuid=" gets the UUID, and an expanded query is re-encoded as Go's url.Values.Encode
# does (keys sorted, ':' as %3A, ' ' as '+'); a URL without variables stays as it is.
expand() {
	LC_ALL=C busybox awk -v url="$1" -v mac=52:54:00:9a:00:01 \
		-v uuid=0b0c0d0e-aaaa-bbbb-cccc-0123456789ab -v serial="SN 0001/A" \
		-v hostname=guest-a -f "$ROOT/scripts/guest/talos-url.awk" | head -1
}
expect_url() { # DESCRIPTION INPUT EXPECTED
	local got
	got=$(expand "$2")
	if [ "$got" = "$3" ]; then ok "url expansion: $1"; else
		not_ok "url expansion: $1" "input:    $2" "expected: $3" "got:      $got"
	fi
}
expect_url "all four variables, keys sorted, values encoded" \
	'http://198.18.0.1:8080/config?mac=${mac}&uuid=${uuid}&serial=${serial}&hostname=${hostname}' \
	'http://198.18.0.1:8080/config?hostname=guest-a&mac=52%3A54%3A00%3A9a%3A00%3A01&serial=SN+0001%2FA&uuid=0b0c0d0e-aaaa-bbbb-cccc-0123456789ab'
expect_url "variables match in any case, inside a value" \
	'http://h/c?id=m-${MAC}-${Uuid}' \
	'http://h/c?id=m-52%3A54%3A00%3A9a%3A00%3A01-0b0c0d0e-aaaa-bbbb-cccc-0123456789ab'
expect_url "legacy ?uuid= gets the UUID" \
	'http://h/c?uuid=&x=1' 'http://h/c?uuid=0b0c0d0e-aaaa-bbbb-cccc-0123456789ab&x=1'
expect_url "a uuid that has a value is kept" \
	'http://h/c?uuid=fixed&m=${mac}' 'http://h/c?m=52%3A54%3A00%3A9a%3A00%3A01&uuid=fixed'
expect_url "no variables: the URL as given, unsorted" \
	'http://h/c?z=1&a=52:54:00:9a:00:01' 'http://h/c?z=1&a=52:54:00:9a:00:01'
expect_url "variables in the path are not expanded" \
	'http://h/${mac}/c' 'http://h/${mac}/c'
expect_url "bad escapes and ';' pairs are dropped, as Go's ParseQuery drops them" \
	'http://h/c?m=${mac}&bad=%zz&a;b=1&e=%41' 'http://h/c?e=A&m=52%3A54%3A00%3A9a%3A00%3A01'

# --- the lab and the servers --------------------------------------------------------------
lab up >"$WORK/lab.log" 2>&1 || {
	not_ok "lab up" "$(tail -3 "$WORK/lab.log")"
	exit 1
}

MAC_A=52:54:00:9a:00:01 UUID_A=0B0C0D0E-AAAA-BBBB-CCCC-0123456789AB SERIAL_A="SN 0001/A"
MAC_B=52:54:00:9a:00:02 UUID_B=5EC0F1E2-1234-4321-ABCD-00000000000B SERIAL_B=SN-0002
MAC_C=52:54:00:9a:00:03 MAC_D=52:54:00:9a:00:04
uuid_a=$(tr 'A-F' 'a-f' <<<"$UUID_A")

# One machine config per MAC, named as `xpxe serve --talos-config DIR` names them.
CONF=$WORK/configs
mkdir -p "$CONF"
for mac in $MAC_A $MAC_B; do
	{
		echo "version: v1alpha1"
		echo "machine:"
		echo "  type: worker"
		echo "  token: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
		echo "  network:"
		echo "    hostname: for-${mac//:/-}"
	} >"$CONF/${mac//:/-}.yaml"
done
chmod -R a+rX "$CONF"

# The HTTP server: picks the document by the (decoded) mac= of the query, answers 503
# to a MAC's first request when it is listed in FLAKY (the guest must retry), and logs
# every request with its decoded variables.
cat >"$WORK/guest_http.py" <<'PY'
import http.server, sys, urllib.parse
addr, port, conf, logf, flaky = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
seen = set()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        g = lambda k: q.get(k, [""])[0]
        mac = g("mac").lower()
        code = 200
        if mac in flaky and mac not in seen:
            seen.add(mac)
            code = 503
        body = None
        if code == 200:
            try:
                with open("%s/%s.yaml" % (conf, mac.replace(":", "-")), "rb") as f:
                    body = f.read()
            except OSError:
                code = 404
        with open(logf, "a") as f:
            f.write("%d %s mac=%s uuid=%s serial=%s hostname=%s\n" % (code, self.path, g("mac"), g("uuid"), g("serial"), g("hostname")))
        self.send_response(code)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        if body:
            self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer((addr, port), H).serve_forever()
PY
ip netns exec "$NS_SRV" python3 "$WORK/guest_http.py" "$SRV_IP" "$HTTP_PORT" "$CONF" "$WORK/http.log" \
	"$MAC_A" >"$WORK/http.err" 2>&1 &
HTTP_PID=$!
at_exit "kill $HTTP_PID"

# DHCP for the guests (and TFTP for one of them): 198.18.0.100-199 on the server veth,
# machine A reserved with a hostname (DHCP option 12, for ${hostname}).
ip netns exec "$NS_SRV" dnsmasq --keep-in-foreground --port=0 --conf-file=/dev/null \
	--user=root --interface="$IF_SRV" --bind-interfaces --dhcp-authoritative \
	--dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,1h \
	--dhcp-host="$MAC_A,198.18.0.150,guest-a" --dhcp-leasefile="$WORK/dnsmasq.leases" \
	--enable-tftp --tftp-root="$CONF" --log-dhcp --log-facility="$WORK/dnsmasq.log" \
	--pid-file="$WORK/dnsmasq.pid" >"$WORK/dnsmasq.err" 2>&1 &
DNSMASQ_PID=$!
at_exit "kill $DNSMASQ_PID"

# Both answer once they listen (HTTP answering a request; dnsmasq bound to DHCP and TFTP).
servers_ready() {
	{ in_srv curl -sf -o /dev/null "http://$SRV_IP:$HTTP_PORT/config?mac=$MAC_B" &&
		udp_bound "$NS_SRV" 67 && udp_bound "$NS_SRV" 69; } ||
		! kill -0 "$HTTP_PID" 2>/dev/null || ! kill -0 "$DNSMASQ_PID" 2>/dev/null
}
wait_until servers_ready
: >"$WORK/http.log"
if kill -0 "$HTTP_PID" 2>/dev/null && kill -0 "$DNSMASQ_PID" 2>/dev/null; then
	ok "HTTP server and dnsmasq run in $NS_SRV"
else
	not_ok "HTTP server and dnsmasq run in $NS_SRV" "$(cat "$WORK/http.err" "$WORK/dnsmasq.err")"
	exit 1
fi

# --- two machines at once ------------------------------------------------------------------
# A: every variable, over HTTP, first answer 503. B: pti=on left out, the document over
# TFTP (tftp://, path kept with its leading slash, as Talos asks for it). Each boots in
# seconds; the timeout only ends a hang.
APPEND_A='console=ttyS0 talos.platform=metal slab_nomerge pti=on talos.config=http://198.18.0.1:8080/config?mac=${mac}&uuid=${uuid}&serial=${serial}&hostname=${hostname}'
APPEND_B="console=ttyS0 talos.platform=metal slab_nomerge talos.config=tftp://$SRV_IP/${MAC_B//:/-}.yaml"
boot() { # NAME TAP MAC UUID SERIAL APPEND
	local start=$SECONDS rc=0
	"$QEMU_SH" --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initramfs.img" \
		--append "$6" --tap "$2" --mac "$3" --uuid "$4" --serial "$5" \
		--log "$WORK/$1.serial" --timeout 300 >"$WORK/$1.qemu" 2>&1 || rc=$?
	echo "rc=$rc secs=$((SECONDS - start))" >"$WORK/$1.result"
}
boot a "$LAB-t0" "$MAC_A" "$UUID_A" "$SERIAL_A" "$APPEND_A" &
PID_A=$!
boot b "$LAB-t1" "$MAC_B" "$UUID_B" "$SERIAL_B" "$APPEND_B" &
PID_B=$!
wait "$PID_A" "$PID_B"

guest_line() { # NAME KEY -> the value of "XPXE-GUEST: KEY=..." (first one)
	tr -d '\r' <"$WORK/$1.serial" | sed -n "s/^XPXE-GUEST: $2=//p" | head -1
}
has_line() { # NAME LINE
	tr -d '\r' <"$WORK/$1.serial" | grep -qxF "XPXE-GUEST: $2"
}
show() { # NAME -> the guest's report and QEMU's words, for a failure
	tr -d '\r' <"$WORK/$1.serial" | grep -a '^XPXE-GUEST' | tail -12
	tail -2 "$WORK/$1.qemu"
}

for m in a b; do
	if grep -q '^rc=0 ' "$WORK/$m.result"; then
		ok "machine $m powered off by itself ($(sed 's/.*secs=//' "$WORK/$m.result") s)"
	else
		not_ok "machine $m powered off by itself" "$(cat "$WORK/$m.result")" "$(show $m)"
	fi
	if has_line $m "done" && ! grep -aq '^XPXE-GUEST: failed' "$WORK/$m.serial"; then
		ok "machine $m reports done"
	else
		not_ok "machine $m reports done" "$(show $m)"
	fi
done

want_url="http://$SRV_IP:$HTTP_PORT/config?hostname=guest-a&mac=${MAC_A//:/%3A}&serial=SN+0001%2FA&uuid=$uuid_a"
got_url=$(guest_line a url)
if [ "$got_url" = "$want_url" ]; then
	ok "A's URL carries its MAC, UUID (lower case), serial and DHCP hostname, encoded as Talos does"
else
	not_ok "A's URL is expanded as Talos does" "expected: $want_url" "got:      $got_url"
fi
want_log="200 ${want_url#"http://$SRV_IP:$HTTP_PORT"} mac=$MAC_A uuid=$uuid_a serial=$SERIAL_A hostname=guest-a"
if grep -qxF "$want_log" "$WORK/http.log"; then
	ok "the server decodes exactly A's MAC, UUID, serial and hostname"
else
	not_ok "the server decodes A's variables" "expected: $want_log" "$(cat "$WORK/http.log")"
fi
if [ "$(guest_line a attempts)" = 2 ] && grep -q "^503 .*mac=$MAC_A " "$WORK/http.log"; then
	ok "A retried after the server's 503"
else
	not_ok "A retried after the server's 503" "attempts=$(guest_line a attempts)" "$(cat "$WORK/http.log")"
fi
for m in a b; do
	M=$(tr '[:lower:]' '[:upper:]' <<<"$m")
	mac_var=MAC_$M
	file=$CONF/${!mac_var//:/-}.yaml
	want=$(sha256sum "$file" | cut -d' ' -f1)
	if [ "$(guest_line $m sha256)" = "$want" ] && [ "$(guest_line $m bytes)" = "$(stat -c %s "$file")" ]; then
		ok "machine $m's sha256 and size are those of its own document ($(guest_line $m url | cut -d: -f1))"
	else
		not_ok "machine $m's sha256 is that of $file" "expected: $want" "$(show $m)"
	fi
done
for p in talos.platform=metal slab_nomerge pti=on; do
	check "A: check $p ok" has_line a "check $p ok"
done
check "B: check pti=on missing" has_line b "check pti=on missing"
check "B: check talos.platform=metal ok, slab_nomerge ok" \
	eval 'has_line b "check talos.platform=metal ok" && has_line b "check slab_nomerge ok"'
check "B: the URL without variables is used as given" \
	test "$(guest_line b url)" = "tftp://$SRV_IP/${MAC_B//:/-}.yaml"

# --- xpxe.shell, and how scripts/qemu.sh ends a machine that never powers off ---------------
# Without talos.config= the guest fails at once; xpxe.shell then keeps it running. C shows its
# shell and is then stopped as an interrupted qemu.sh stops its machine (SIGTERM). D, the same
# never-ending guest with --timeout 12, is killed at its timeout whatever the machine's speed
# (an outer bound of 300 s, SIGKILL, status 137, only ends a hang of qemu.sh itself).
"$QEMU_SH" --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initramfs.img" \
	--append "console=ttyS0 xpxe.shell" \
	--tap "$LAB-t2" --mac "$MAC_C" --log "$WORK/c.serial" --timeout 300 >"$WORK/c.qemu" 2>&1 &
PID_C=$!
at_exit "kill $PID_C"
start=$SECONDS
rc=0
timeout -s KILL 300 "$QEMU_SH" --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initramfs.img" \
	--append "console=ttyS0 xpxe.shell" \
	--tap "$LAB-t3" --mac "$MAC_D" --log "$WORK/d.serial" --timeout 12 >"$WORK/d.qemu" 2>&1 || rc=$?
if [ "$rc" -eq 124 ] && grep -q "qemu: $MAC_D timed out after 12 s, killed" "$WORK/d.qemu"; then
	ok "a guest still running at --timeout is killed: status 124 after $((SECONDS - start)) s"
else
	not_ok "a guest still running at --timeout is killed with status 124" "rc=$rc after $((SECONDS - start)) s" "$(show d)"
fi
check "... and no QEMU process is left behind" eval "! pgrep -f 'xpxe-$MAC_D' >/dev/null"
shell_or_gone() { has_line c "xpxe.shell: starting a shell; 'poweroff -f' to end" || ! kill -0 $PID_C 2>/dev/null; }
wait_until shell_or_gone
if kill -0 $PID_C 2>/dev/null && has_line c "xpxe.shell: starting a shell; 'poweroff -f' to end"; then
	ok "xpxe.shell: the guest without talos.config= keeps running, in its shell"
else
	not_ok "xpxe.shell: the guest keeps running in its shell" "$(show c)"
fi
kill -TERM $PID_C
rc=0
wait $PID_C || rc=$?
check "an interrupted qemu.sh (SIGTERM) exits 130 ($rc)" test "$rc" -eq 130
check "... and stops its QEMU" eval "! pgrep -f 'xpxe-$MAC_C' >/dev/null"
check "scripts/qemu.sh --help" "$QEMU_SH" --help
check "scripts/qemu.sh refuses an unknown option (status 2)" \
	eval "'$QEMU_SH' --bogus >/dev/null 2>&1; [ \$? -eq 2 ]"
