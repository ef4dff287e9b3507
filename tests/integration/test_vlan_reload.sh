#!/usr/bin/env bash
# VLAN trunks and the daemon's life (issue 22): `xpxe reload` puts the address of a VLAN it
# adds on the trunk (and the VLAN is answered at once) and takes the address of a VLAN it
# removes off; a VLAN's pool changes only with a restart (refused, the reason given); a
# --keep-attached stop leaves the VLAN addresses for the next daemon, which adopts them and
# takes them off at its own stop (and at its start those of VLANs no longer configured). With HTTPS, a VLAN's machine gets a talos.config= URL on
# its VLAN's address, where HTTPS answers with the config. Double-tagged VLANs of one outer VID
# added, renumbered and removed by reloads: each machine answered by its own VLAN, or not at all.
LAB=tvlanr
source "$(dirname "$0")/lib.sh"
require_root

[ -f "$BUILD/lab_vlan20.bpf.o" ] || { not_ok "$BUILD/lab_vlan20.bpf.o is missing: run make"; exit 1; }
lab up || { not_ok "lab up"; exit 1; }
if lab host 2 52:54:00:f2:00:02 && in_cli tc qdisc replace dev "$LAB-h2" clsact &&
	in_cli tc filter replace dev "$LAB-h2" ingress bpf da obj "$BUILD/lab_vlan20.bpf.o" sec tc &&
	in_cli tc filter replace dev "$LAB-h2" egress bpf da obj "$BUILD/lab_vlan20.bpf.o" sec classifier
then
	ok "h2 on an access port of VLAN 20"
else
	not_ok "h2 on an access port of VLAN 20"
	exit 1
fi
in_cli ethtool -K "$IF_CLI" txvlan off >/dev/null
in_srv ethtool -K "$IF_SRV" txvlan off >/dev/null

# config VLAN-LINE...: the config file, with these entries under the trunk's vlans:
config() {
	{
		printf 'interfaces: [%s]\nmode: full\nstate_dir: %s\ndhcp:\n  leases: %s\n' \
			"$IF_SRV" "$WORK/state" "$WORK/state/trunk.leases"
		# h2's reservation, while VLAN 20 (its subnet) is configured
		case " $* " in *" 20="*) printf 'machines:\n  - {mac: 52:54:00:f2:00:02, ip: 198.18.20.50}\n' ;; esac
		# EXTRA_MACHINE: one more machine entry (a reservation a reload adds)
		[ -n "${EXTRA_MACHINE:-}" ] && printf '  - %s\n' "$EXTRA_MACHINE"
		printf 'vlans:\n  %s:\n' "$IF_SRV"
		for v in "$@"; do printf '    - %s\n' "$v"; done
	} >"$WORK/xpxe.yaml"
}
on_trunk() { in_srv ip -4 addr show dev "$IF_SRV" | grep -q "inet $1/"; }

mkdir -p "$WORK/state"
config 10=198.18.10.1/24
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves VLAN 10"; else
	not_ok "xpxe serves VLAN 10" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
check "198.18.10.1 is on the trunk, 198.18.20.1 is not" sh -c \
	"ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.10.1/24' &&
	 ! ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.20.1/'"

# --- a reload adds VLAN 20 ---------------------------------------------------------------------
config 10=198.18.10.1/24 20=198.18.20.1/24
check "xpxe reload takes VLAN 20" "$XPXE" reload
check "... its address is on the trunk" on_trunk 198.18.20.1
udhcpc_run "$LAB-h2" h2
check "... and its machine gets its reservation from 198.18.20.1" \
	test "$(result_field h2 ip)/$(result_field h2 server)" = 198.18.20.50/198.18.20.1
ACK20="event=dhcp_ack mac=52:54:00:f2:00:02 ip=198.18.20.50 iface=$IF_SRV.20 "
wait_until said "$WORK/daemon.log" "$ACK20" "$DAEMON_PID"
check "... its events name the VLAN" grep -q "$ACK20" "$WORK/daemon.log"

# A new MAC on VLAN 20, which has no pool: counted and logged, never answered (the untagged
# network's pool is not VLAN 20's).
if lab host 3 52:54:00:f2:00:03 && in_cli tc qdisc replace dev "$LAB-h3" clsact &&
	in_cli tc filter replace dev "$LAB-h3" ingress bpf da obj "$BUILD/lab_vlan20.bpf.o" sec tc &&
	in_cli tc filter replace dev "$LAB-h3" egress bpf da obj "$BUILD/lab_vlan20.bpf.o" sec classifier
then
	udhcpc_run "$LAB-h3" h3
	check "a new MAC on VLAN 20 (no pool) gets nothing" test ! -s "$WORK/h3.result"
	check "... counted: vlan_unanswered" test \
		"$("$XPXE" status --json | jq '.interfaces[0].dhcp.vlan_unanswered')" -ge 1
	check "... and logged, saying what to do" grep -q "VLAN without a pool: give the VLAN one" "$WORK/daemon.log"
else
	not_ok "h3 on an access port of VLAN 20"
fi

# --- a reload removes VLAN 10; a pool needs a restart -------------------------------------------
config 20=198.18.20.1/24
check "xpxe reload drops VLAN 10" "$XPXE" reload
check "... its address is off the trunk, VLAN 20's stays" sh -c \
	"! ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.10.1/' &&
	 ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.20.1/24'"
config 20=198.18.20.1/24,pool=198.18.20.100-198.18.20.109
out=$("$XPXE" reload 2>&1)
rc=$?
check "a VLAN's new pool is refused by reload (exit $rc), the reason given" sh -c \
	"[ $rc -ne 0 ] && grep -q \"a VLAN's pool\" <<'END'
$out
END"
config 20=198.18.20.1/24

# --- --keep-attached: the addresses stay for the next daemon, which takes them off -------------
kill -TERM "$DAEMON_PID"
wait_daemon
if start_daemon -c "$WORK/xpxe.yaml" --keep-attached; then ok "xpxe serves again, --keep-attached"; else
	not_ok "xpxe serves again, --keep-attached" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
kill -TERM "$DAEMON_PID"
wait_daemon
check "a --keep-attached stop leaves VLAN 20's address (the data plane still answers)" \
	on_trunk 198.18.20.1
: >"$WORK/daemon.log"
if start_daemon -c "$WORK/xpxe.yaml"; then ok "the next daemon adopts the data plane"; else
	not_ok "the next daemon adopts the data plane" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
check "... and the address, as the previous daemon's" grep -q "kept from the previous daemon" "$WORK/daemon.log"
kill -TERM "$DAEMON_PID"
wait_daemon
check "... which its own stop takes off the trunk" sh -c "! ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.20.1/'"
# Once more, with VLAN 20 gone from the config between the two daemons: the next one finds
# its address in the adopted maps and takes it off.
start_daemon -c "$WORK/xpxe.yaml" --keep-attached && kill -TERM "$DAEMON_PID"
wait_daemon
config 10=198.18.10.1/24
if start_daemon -c "$WORK/xpxe.yaml"; then
	check "a VLAN dropped from the config between two daemons: its address goes, the new VLAN's comes" \
		sh -c "! ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.20.1/' &&
		       ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.10.1/24'"
	check "... said in the log" grep -q "198.18.20.1/24 off the trunk (the previous daemon's VLAN" "$WORK/daemon.log"
else
	not_ok "the next daemon, with VLAN 10 instead of 20" "$(tail -5 "$WORK/daemon.log")"
fi
kill -TERM "$DAEMON_PID"
wait_daemon

# --- a reload that reserves an address a VLAN pool's holder has: the holder loses it ------------
# As on the untagged network: the binding is dropped (logged, out of the VLAN's file) and the
# MAC gets another address of the pool at its next DHCP.
config 20=198.18.20.1/24,pool=198.18.20.100-198.18.20.109
rm -f "$WORK/state/trunk.leases.vlan20"
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves VLAN 20 with a pool"; else
	not_ok "xpxe serves VLAN 20 with a pool" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
udhcpc_run "$LAB-h3" h3
check "h3 (a new MAC on VLAN 20) gets 198.18.20.100 from VLAN 20's pool" \
	test "$(result_field h3 ip)/$(result_field h3 server)" = 198.18.20.100/198.18.20.1
EXTRA_MACHINE="{mac: 52:54:00:f2:00:09, ip: 198.18.20.100}" config 20=198.18.20.1/24,pool=198.18.20.100-198.18.20.109
check "xpxe reload reserves 198.18.20.100 for another machine" "$XPXE" reload
check "... h3's binding of it is dropped, logged" \
	grep -q "$IF_SRV.20: 52:54:00:f2:00:03's pool binding 198.18.20.100 dropped: its address is reserved now" "$WORK/daemon.log"
check "... and out of VLAN 20's file" sh -c "! grep -q 52:54:00:f2:00:03 '$WORK/state/trunk.leases.vlan20'"
udhcpc_run "$LAB-h3" h3
check "... h3 asks again and gets another address of the pool: 198.18.20.101" \
	test "$(result_field h3 ip)/$(result_field h3 server)" = 198.18.20.101/198.18.20.1
kill -TERM "$DAEMON_PID"
wait_daemon

# --- a request queued before a reload that renumbers the VLANs stays its VLAN's ----------------
# The daemon is stopped while h4's DISCOVER on VLAN 20 (net 2, after VLAN 10) waits in the queue.
# The reload (SIGHUP: the daemon's loop reads its signals before its queue) removes VLAN 10, so
# VLAN 20 is net 1 now, and reserves h4's address on VLAN 20. Once the daemon runs again, the
# queued DISCOVER is VLAN 20's, found by its tag: answered from the reservation, tagged 20. By
# the net it was queued with (2, no VLAN now) it went unanswered, counted vlan_unanswered.
cat >"$WORK/discover.py" <<'PY'
import os, socket, struct, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
xid = os.urandom(4)
bootp = (bytes([1, 1, 6, 0]) + xid + struct.pack("!HH", 0, 0x8000) + bytes(16) + mac +
         bytes(10 + 64 + 128) + bytes.fromhex("63825363") + bytes([53, 1, 1, 55, 2, 1, 3, 255]))
bootp += bytes(300 - len(bootp))
udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0) + bootp
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(4), b"\xff" * 4)
s = sum(struct.unpack("!10H", ip))
s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
sock.bind(("eth0", 0))
sock.settimeout(60)  # bounds a hang only: the daemon answers once it runs
sock.send(b"\xff" * 6 + mac + b"\x08\x00" + ip + udp)
while True:
    f = sock.recv(2048)
    b = f[14 + 28:]
    if f[23] == 17 and f[36:38] == b"\x00\x44" and b[0] == 2 and b[4:8] == xid:
        o, server = 240, b""
        while o + 1 < len(b) and b[o] != 255:
            if b[o] == 54:
                server = b[o + 2:o + 6]
            o += 2 + b[o + 1] if b[o] else 1
        print("yiaddr=%s server=%s" % (socket.inet_ntoa(b[16:20]), socket.inet_ntoa(server)))
        break
PY
rm -f "$WORK/state/trunk.leases.vlan20"
: >"$WORK/daemon.log"
config 10=198.18.10.1/24 20=198.18.20.1/24
if start_daemon -c "$WORK/xpxe.yaml" && lab host 4 52:54:00:f2:00:04 &&
	in_cli tc qdisc replace dev "$LAB-h4" clsact &&
	in_cli tc filter replace dev "$LAB-h4" ingress bpf da obj "$BUILD/lab_vlan20.bpf.o" sec tc &&
	in_cli tc filter replace dev "$LAB-h4" egress bpf da obj "$BUILD/lab_vlan20.bpf.o" sec classifier
then
	ok "xpxe serves VLANs 10 and 20; h4 on an access port of VLAN 20"
else
	not_ok "xpxe serves VLANs 10 and 20; h4 on an access port of VLAN 20" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
to_daemon=$(counter_index dhcp_to_daemon)
queued0=$(pinned_counter "$to_daemon")
unanswered0=$("$XPXE" status --json | jq '.interfaces[0].dhcp.vlan_unanswered')
kill -STOP "$DAEMON_PID"
stopped() { [ "$(ps -o stat= -p "$DAEMON_PID" | cut -c1)" = T ]; }
wait_until stopped
ip netns exec "$LAB-h4" python3 "$WORK/discover.py" 52:54:00:f2:00:04 \
	>"$WORK/h4.offer" 2>"$WORK/h4.err" &
h4_pid=$!
queued() { [ "$(pinned_counter "$to_daemon")" -gt "$queued0" ] || ! kill -0 $h4_pid 2>/dev/null; }
wait_until queued
check "h4's DISCOVER waits in the queue of the stopped daemon" test "$(pinned_counter "$to_daemon")" -gt "$queued0"
EXTRA_MACHINE="{mac: 52:54:00:f2:00:04, ip: 198.18.20.60}" config 20=198.18.20.1/24
kill -HUP "$DAEMON_PID"
kill -CONT "$DAEMON_PID"
wait "$h4_pid"
if grep -qx "yiaddr=198.18.20.60 server=198.18.20.1" "$WORK/h4.offer"; then
	ok "... after a reload that made VLAN 20 net 1, it is answered as VLAN 20's: 198.18.20.60 from 198.18.20.1"
else
	not_ok "... after a reload that made VLAN 20 net 1, it is answered as VLAN 20's" \
		"offer: $(cat "$WORK/h4.offer") $(tail -3 "$WORK/h4.err")" "$(tail -8 "$WORK/daemon.log")"
fi
check "... the reload done first (its log line)" grep -q "reloaded $WORK/xpxe.yaml" "$WORK/daemon.log"
check "... and nothing counted vlan_unanswered" test \
	"$("$XPXE" status --json | jq '.interfaces[0].dhcp.vlan_unanswered')" -eq "$unanswered0"
kill -TERM "$DAEMON_PID"
wait_daemon

# --- double-tagged VLANs of one outer VID through reloads (vlan_qinq: an array per outer VID) ---
# h5 sits on 802.1ad 100 outside 802.1Q 20 (bpf/lab_vlan100_20.bpf.c), beside VLAN 20 (the same
# inner VID, one tag). Reloads that add 100.40 after 100.20, then put 100.30 ahead of it (100.20
# renumbered, outer VID 100's array made anew) and take 100.40 out, then take 100.30 out, leave
# h5 answered from 100.20's address each time, and VLAN 20's machine from VLAN 20's; one that
# removes 100.20 leaves h5 unanswered, its DISCOVERs passed (pass_vlan_qinq).
if ! [ -f "$BUILD/lab_vlan100_20.bpf.o" ] || ! lab host 5 52:54:00:f2:00:05 ||
	! in_cli tc qdisc replace dev "$LAB-h5" clsact ||
	! in_cli tc filter replace dev "$LAB-h5" ingress bpf da obj "$BUILD/lab_vlan100_20.bpf.o" sec tc ||
	! in_cli tc filter replace dev "$LAB-h5" egress bpf da obj "$BUILD/lab_vlan100_20.bpf.o" sec classifier; then
	not_ok "h5 on a double-tagged access port: 802.1ad 100 outside 802.1Q 20"
	exit 1
fi
# Both ends of the trunk put their 802.1ad tags in the frame too (test_vlan_window.sh says why).
for end in "$NS_CLI:$IF_CLI" "$NS_SRV:$IF_SRV"; do
	ip netns exec "${end%%:*}" ethtool -K "${end#*:}" tx-vlan-stag-hw-insert off >/dev/null
	if ip netns exec "${end%%:*}" ethtool -k "${end#*:}" | grep -q '^tx-vlan-stag-hw-insert: on'; then
		not_ok "${end#*:} inserts its 802.1ad tags in the frame"
		exit 1
	fi
done
H5="{mac: 52:54:00:f2:00:05, ip: 198.18.21.50}"
: >"$WORK/daemon.log"
EXTRA_MACHINE=$H5 config 20=198.18.20.1/24 100.20=198.18.21.1/24
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves VLANs 20 and 100.20"; else
	not_ok "xpxe serves VLANs 20 and 100.20" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
# h5_and_h2 WHEN: both machines get their reservations, each from its own VLAN's address.
h5_and_h2() {
	udhcpc_run "$LAB-h5" h5
	check "$1: h5 on 100.20 gets 198.18.21.50 from 198.18.21.1" \
		test "$(result_field h5 ip)/$(result_field h5 server)" = 198.18.21.50/198.18.21.1
	udhcpc_run "$LAB-h2" h2
	check "$1: h2 on 20 gets 198.18.20.50 from 198.18.20.1" \
		test "$(result_field h2 ip)/$(result_field h2 server)" = 198.18.20.50/198.18.20.1
}
h5_and_h2 "at the start"
EXTRA_MACHINE=$H5 config 20=198.18.20.1/24 100.20=198.18.21.1/24 100.40=198.18.40.1/24
check "xpxe reload adds 100.40 after 100.20 (a second VLAN in outer VID 100's array)" "$XPXE" reload
check "... 100.40's address is on the trunk" on_trunk 198.18.40.1
h5_and_h2 "after it"
EXTRA_MACHINE=$H5 config 20=198.18.20.1/24 100.30=198.18.30.1/24 100.20=198.18.21.1/24
check "xpxe reload puts 100.30 ahead of 100.20 (100.20 now its third VLAN), 100.40 out" "$XPXE" reload
check "... 100.30's address is on the trunk, 100.40's off" sh -c \
	"ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.30.1/24' &&
	 ! ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.40.1/'"
h5_and_h2 "after it"
EXTRA_MACHINE=$H5 config 20=198.18.20.1/24 100.20=198.18.21.1/24
check "xpxe reload takes 100.30 out (100.20 its second VLAN again)" "$XPXE" reload
check "... 100.30's address is off the trunk" sh -c "! ip netns exec $NS_SRV ip -4 addr show dev $IF_SRV | grep -q 'inet 198.18.30.1/'"
h5_and_h2 "after it"
qinq_passed=$(counter_index pass_vlan_qinq)
passed0=$(pinned_counter "$qinq_passed")
config 20=198.18.20.1/24
check "xpxe reload takes 100.20 out" "$XPXE" reload
udhcpc_run "$LAB-h5" h5
check "... h5 on 100.20 gets nothing" test ! -s "$WORK/h5.result"
check "... its DISCOVERs passed as an unserved double-tagged VLAN (pass_vlan_qinq $passed0 -> $(pinned_counter "$qinq_passed"))" \
	test "$(pinned_counter "$qinq_passed")" -gt "$passed0"
kill -TERM "$DAEMON_PID"
wait_daemon

# --- HTTPS on a VLAN: talos.config= names the VLAN's address, and HTTPS answers there ------------
if ! { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=ca" \
	-keyout "$WORK/ca.key" -out "$WORK/ca.pem" >/dev/null 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=198.18.20.1" \
		-keyout "$WORK/srv.key" -out "$WORK/srv.csr" >/dev/null 2>&1 &&
	openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
		-CAcreateserial -days 2 -extfile <(echo "subjectAltName=IP:198.18.20.1") \
		-out "$WORK/srv.pem" >/dev/null 2>&1; }; then
	not_ok "openssl makes a CA and a certificate"
	exit 1
fi
mkdir -p "$WORK/talos"
printf 'version: v1alpha1 # h2\n' >"$WORK/talos/52-54-00-f2-00-02.yaml"
head -c 10000 /dev/urandom >"$WORK/kernel"
config 20=198.18.20.1/24
cat >>"$WORK/xpxe.yaml" <<YAML
http:
  tls_cert: $WORK/srv.pem
  tls_key: $WORK/srv.key
assets:
  vmlinuz: $WORK/kernel
profiles:
  default:
    kernel: vmlinuz
    initrd: vmlinuz
    talos_config: $WORK/talos
YAML
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves VLAN 20 with HTTPS"; else
	not_ok "xpxe serves VLAN 20 with HTTPS" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
ip -n "$LAB-h2" addr replace 198.18.20.50/24 dev eth0
script=$(ip netns exec "$LAB-h2" curl -s -m 10 \
	"http://198.18.20.1:8080/boot.ipxe?mac=52:54:00:f2:00:02&arch=x86_64&platform=efi")
check "VLAN 20's script points talos.config= at https://198.18.20.1:8443" \
	grep -q "talos.config=https://198.18.20.1:8443/talos/config" <<<"$script"
check "... where HTTPS gives it its config (the certificate checked)" test \
	"$(ip netns exec "$LAB-h2" curl -s -m 10 --cacert "$WORK/ca.pem" \
		"https://198.18.20.1:8443/talos/config?mac=52:54:00:f2:00:02")" = "version: v1alpha1 # h2"
