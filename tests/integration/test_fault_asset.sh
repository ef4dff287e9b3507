#!/usr/bin/env bash
# An asset file replaced or truncated on disk while xpxe serves it. The maps hold a
# snapshot: TFTP keeps serving the content that was loaded (the sha256 `xpxe assets`
# lists) until `xpxe assets --reload`. HTTP serves the file itself (sendfile), so it
# serves it only while it is still the file that was loaded: a replaced or truncated
# file is refused with 503 and counted (asset_changed), never served as other bytes
# than TFTP's. A file truncated during an HTTP response ends that response short: the
# client gets fewer bytes than the Content-Length (curl exit 18), each of them right.
# (libmicrohttpd's sendfile finds the end of the file and waits: the connection closes at
# the HTTP connection timeout, --http-timeout, 3 s here, 30 s by default.)
LAB=fasset
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
A=$WORK/asset
head -c $((1 << 20)) /dev/urandom >"$WORK/v1"
head -c $((1 << 20)) /dev/urandom >"$WORK/v2"
cp "$WORK/v1" "$A"
V1=$(sha "$WORK/v1")
V2=$(sha "$WORK/v2")
start_daemon -i "$IF_SRV" --mode off --asset "asset=$A" --no-default-assets \
	--state-dir "$WORK/state" --http-timeout 3 || { not_ok "serve starts"; exit 1; }
H=http://$SRV_IP:8080/assets/asset

tftp_sha() {
	rm -f "$WORK/t"
	in_cli timeout 120 curl -s --tftp-blksize 1468 -o "$WORK/t" "tftp://$SRV_IP/asset"
	sha "$WORK/t"
}
http_code() { in_cli curl -s -o "$WORK/h" -w '%{http_code}' --max-time 60 "$H"; }
listed_sha() { "$XPXE" assets --json | jq -r '.assets[] | select(.name == "asset" and .current) | .sha256'; }
changed() { in_cli curl -s "http://$SRV_IP:8080/metrics" | sed -n 's/^xpxe_http_requests_total{kind="asset_changed"} //p'; }

# --mode off answers no DHCP, and HTTP still listens on the interface's address, not on all.
check "--mode off: HTTP listens on $SRV_IP:8080, not 0.0.0.0" \
	bash -c "ip netns exec $NS_SRV ss -Hltn 'sport = :8080' | grep -q ' $SRV_IP:8080 ' && ! ip netns exec $NS_SRV ss -Hltn 'sport = :8080' | grep -q '0.0.0.0:8080'"
check "TFTP serves what was loaded" test "$(tftp_sha)" = "$V1"
check "HTTP serves the same" bash -c "[ \$(ip netns exec $NS_CLI curl -s --max-time 60 '$H' | sha256sum | cut -d' ' -f1) = $V1 ]"

# --- replaced (a new file renamed over it, as package managers and cp --remove-destination do) --
cp "$WORK/v2" "$A.new" && mv "$A.new" "$A"
check "replaced: TFTP still serves the loaded snapshot" test "$(tftp_sha)" = "$V1"
check "... which xpxe assets lists" test "$(listed_sha)" = "$V1"
code=$(http_code)
check "replaced: HTTP refuses it with 503 ($code)" test "$code" = 503
check "... saying what to do" grep -q 'xpxe assets --reload' "$WORK/h"
check "... counted (asset_changed $(changed))" test "$(changed)" = 1
check "... and logged" grep -q "asset asset: $A changed on disk since it was loaded" "$WORK/daemon.log"
check "xpxe assets --reload loads it" bash -c "'$XPXE' assets --reload | grep -q '^asset '"
check "reloaded: TFTP serves the new content" test "$(tftp_sha)" = "$V2"
check "reloaded: HTTP serves it too" bash -c "[ \$(ip netns exec $NS_CLI curl -sf --max-time 60 '$H' | sha256sum | cut -d' ' -f1) = $V2 ]"
check "... as xpxe assets lists" test "$(listed_sha)" = "$V2"

# --- truncated in place ----------------------------------------------------------------------------
truncate -s 1000 "$A"
check "truncated: TFTP serves the loaded snapshot, whole" test "$(tftp_sha)" = "$V2"
code=$(http_code)
check "truncated: HTTP refuses it with 503 ($code), no short body as if whole" test "$code" = 503
check "... counted (asset_changed $(changed))" test "$(changed)" = 2

# --- deleted ---------------------------------------------------------------------------------------
cp "$A" "$WORK/kept"
rm "$A"
check "deleted: TFTP serves the loaded snapshot, whole" test "$(tftp_sha)" = "$V2"
code=$(http_code)
check "deleted: HTTP refuses it with 503 too ($code), as a replaced file" test "$code" = 503
check "... saying what to do" grep -q 'gone from disk since it was loaded: put it back, then xpxe assets --reload' "$WORK/h"
check "... counted (asset_changed $(changed))" test "$(changed)" = 3
rc=0
out=$("$XPXE" assets --reload 2>&1) || rc=$?
check "assets --reload names the file gone, exit 1 (not 'reloaded 0' and done)" \
	bash -c "[ $rc = 1 ] && grep -q 'asset asset: $A is gone from disk: TFTP serves what was loaded, HTTP answers 503' <<<\"\$1\"" _ "$out"
check "... --json lists it under gone" bash -c "'$XPXE' assets --json | jq -e '.gone[0].name == \"asset\"'"
mv "$WORK/kept" "$A"
"$XPXE" assets --reload >/dev/null
check "back on disk and reloaded: HTTP serves it again" test "$(http_code)" = 200

# --- truncated during an HTTP response ----------------------------------------------------------
head -c $((64 << 20)) /dev/urandom >"$WORK/big"
cp "$WORK/big" "$A"
"$XPXE" assets --reload >/dev/null
# 4 MB/s: the response lasts some 16 s; it is cut once its first bytes arrived.
in_cli curl -s --limit-rate 4M --max-time 600 -o "$WORK/cut" "$H" &
cut=$!
wait_until grown_or_dead "$WORK/cut" "$cut"
truncate -s $((1 << 20)) "$A"
wait "$cut"
rc=$?
got=$(stat -c %s "$WORK/cut" 2>/dev/null || echo 0)
check "truncated mid-response: the client sees it cut short (curl exit $rc, $got of $((64 << 20)) bytes)" \
	bash -c "[ $rc -eq 18 ] && [ $got -lt $((64 << 20)) ]"
check "... and every byte it got is right" cmp -n "$got" "$WORK/cut" "$WORK/big"
check "the maps still hold the 64 MiB snapshot" test "$(listed_sha)" = "$(sha "$WORK/big")"
check "the daemon ran through it all" kill -0 "$DAEMON_PID"
