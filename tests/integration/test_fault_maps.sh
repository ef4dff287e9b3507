#!/usr/bin/env bash
# The DHCP bindings map (dhcp_clients, 65536 entries) full, in full mode: the test fills
# the pinned map with other entries (bpftool batch) until the kernel refuses more. A new
# MAC's DISCOVER reaches the daemon, which holds an address for it, but the offer cannot
# go into the map: the request is left unanswered, logged and counted (dhcp
# install_errors), each retry again, and nothing is written; known MACs keep being
# answered from XDP. Once there is room, the new MAC is bound. (The TFTP session map cannot fill: an entry per port of --tftp-port-range, tests/bpf/test_tftp_ports.c.)
LAB=fmaps
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
for n in 1 2; do lab host $n "52:54:00:f1:00:0$n" >>"$WORK/lab.log" 2>&1; done
LEASES=$WORK/bindings
start_daemon -i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109 --leases "$LEASES" \
	--state-dir "$WORK/state" --no-default-assets || { not_ok "serve starts"; exit 1; }
MAP=/sys/fs/bpf/xpxe/$IF_SRV/dhcp_clients
udhcpc_run "$LAB-h1" h1
check "a first MAC is bound (198.18.0.100)" test "$(result_field h1 ip)" = 198.18.0.100

entries() { bpftool -j map dump pinned "$MAP" | jq length; }
max=$(bpftool -j map show pinned "$MAP" | jq .max_entries)
# batch OP N: N update (or delete) commands for MACs 02:ee:..., not any machine's
batch() {
	python3 -c '
import sys
op, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    key = "02 ee %02x %02x %02x %02x 00 00" % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)
    if op == "update":
        print("map update pinned %s key hex %s value hex %s" % (sys.argv[3], key, " ".join(["00"] * 24)))
    else:
        print("map delete pinned %s key hex %s" % (sys.argv[3], key))
' "$1" "$2" "$MAP" >"$WORK/batch.$1"
	bpftool batch file "$WORK/batch.$1" >/dev/null 2>&1
}
fill=$((max - $(entries)))
batch update "$fill"
check "dhcp_clients is full ($(entries) of $max entries)" test "$(entries)" -eq "$max"
check "... the kernel refuses one more" bash -c "! bpftool map update pinned '$MAP' key hex 02 ef 00 00 00 00 00 00 value hex $(printf '00 %.0s' $(seq 24)) 2>/dev/null"

to_daemon=$(counter dhcp_to_daemon)
udhcpc_run "$LAB-h2" h2
install_errors=$("$XPXE" status --json | jq .interfaces[0].dhcp.install_errors)
check "a new MAC gets no answer while the map is full" test -z "$(result_field h2 ip)"
check "... its requests reached the daemon" test "$(counter dhcp_to_daemon)" -gt "$to_daemon"
check "... each counted (install_errors $install_errors)" test "${install_errors:-0}" -ge 1
check "... and logged" grep -q "cannot install 52:54:00:f1:00:02's binding in dhcp_clients: the map is full" "$WORK/daemon.log"
check "... nothing is written for it (an offer is only held)" bash -c "! grep -q '^52:54:00:f1:00:02 ' '$LEASES'"
to_daemon=$(counter dhcp_to_daemon)
udhcpc_run "$LAB-h1" h1full
check "the known MAC is still answered with its address" test "$(result_field h1full ip)" = 198.18.0.100
check "... from XDP" test "$(counter dhcp_to_daemon)" -eq "$to_daemon"

batch delete "$fill"
udhcpc_run "$LAB-h2" h2room
check "with room again, the new MAC is bound (198.18.0.101)" test "$(result_field h2room ip)" = 198.18.0.101
check "... and written" grep -q '^52:54:00:f1:00:02 198.18.0.101 ' "$LEASES"
check "the daemon ran through it all" kill -0 "$DAEMON_PID"
