#!/bin/sh
# The lab smoke test of a kernel-matrix guest (busybox sh, run by scripts/kernels/init):
# a veth pair between two namespaces, `xpxe serve` attached to one end in full mode, and
# from the other: a DHCP exchange (udhcpc), a TFTP transfer checked byte for byte (the
# tc path: veth gives XDP no room to grow an ACK), an HTTP fetch (wget), then kill -9 of
# the daemon, the data plane answering alone, and a second `xpxe serve` adopting it. Then
# the same link at MTU 9000: serve attaches the multi-buffer build (xdp_pxe_frags; through
# libxdp's dispatcher where this kernel runs it) and answers DHCP, TFTP and HTTP.
# Prints TAP lines. Addresses from 198.18.0.0/15; the guest has no other network.
X=/xpxe/xpxe
# iproute2 and ethtool by path: busybox sh prefers its own applet (ip) to PATH.
IP=/xpxe/bin/ip
ETHTOOL=/xpxe/bin/ethtool
W=/tmp/smoke
mkdir -p "$W/state"
export XPXE_SOCKET=$W/xpxe.sock
SRV=198.18.0.1
ok() { echo "ok - smoke: $1"; }
not_ok() {
	echo "not ok - smoke: $1"
	shift
	for l in "$@"; do echo "$l" | sed 's/^/#   /'; done
}
check() {
	d=$1
	shift
	if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "command: $*" "$out"; fi
}
in_cli() { $IP netns exec cli "$@"; }

# Starts `xpxe serve` in the server namespace (network namespace only: the pins stay
# visible to the next daemon) and waits for its control socket.
PID=
start_daemon() {
	rm -f "$XPXE_SOCKET"
	nsenter --net=/run/netns/srv "$X" serve -i s0 --mode full --pool 198.18.0.100-198.18.0.120 \
		--leases "$W/leases" --state-dir "$W/state" --no-default-assets \
		--asset blob="$W/blob" --kernel "$W/vmlinuz" --initrd "$W/initrd" \
		--http "$SRV:8080" >>"$W/daemon.log" 2>&1 &
	PID=$!
	# Verifying xdp_pxe under emulation takes seconds: wait for the socket, or the end.
	i=0
	while [ $i -lt 600 ]; do
		[ -S "$XPXE_SOCKET" ] && "$X" status >/dev/null 2>&1 && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

# udhcpc on c0; the address it bound lands in $W/NAME.ip.
dhcp() {
	cat >"$W/udhcpc.sh" <<SCRIPT
#!/bin/sh
[ "\$1" = bound ] || exit 0
echo "\$ip" >"$W/$1.ip"
$IP addr replace "\$ip/24" dev c0
SCRIPT
	chmod +x "$W/udhcpc.sh"
	rm -f "$W/$1.ip"
	in_cli timeout 60 udhcpc -i c0 -n -q -t 5 -T 3 -A 1 -s "$W/udhcpc.sh" >"$W/$1.log" 2>&1
	cat "$W/$1.ip" 2>/dev/null
}

{
	$IP netns add srv && $IP netns add cli &&
	$IP link add s0 netns srv type veth peer name c0 netns cli &&
	$IP -n srv addr add "$SRV/24" dev s0 && $IP -n srv link set s0 up &&
	$IP -n srv link set lo up && $IP -n cli link set c0 up && $IP -n cli link set lo up &&
	# Real checksums on the wire (DESIGN.md, lab facts), and an XDP program on the
	# client's end so that XDP_TX replies reach it.
	$IP netns exec srv $ETHTOOL -K s0 tx off >/dev/null &&
	$IP netns exec cli $ETHTOOL -K c0 tx off >/dev/null &&
	$IP -n cli link set dev c0 xdp obj /xpxe/obj/xdp_pass.bpf.o sec xdp
} >"$W/lab.log" 2>&1
if [ $? -ne 0 ]; then
	not_ok "a veth pair between two namespaces, XDP_PASS on the client's end" "$(cat "$W/lab.log")"
	exit 0
fi
ok "a veth pair between two namespaces, XDP_PASS on the client's end"

head -c 300000 /dev/urandom >"$W/blob"
head -c 200000 /dev/urandom >"$W/vmlinuz"
head -c 1000 /dev/urandom >"$W/initrd"

if start_daemon; then
	ok "xpxe serve attaches to s0 (full mode)"
else
	not_ok "xpxe serve attaches to s0 (full mode)" "$(tail -n 20 "$W/daemon.log")"
	exit 0
fi
st=$("$X" status --json)
via=$(echo "$st" | grep -o '"attach_via": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"')
mode=$(echo "$st" | grep -o '"attach_mode": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"')
check "status: attached $mode, through ${via:-?}" test -n "$via" -a "$mode" = native
# Linux 6.1 refuses tail calls from libxdp's dispatcher: alone on s0, xdp_pxe keeps them.
check "the tail calls are in place (no \"refused xdp_pxe's tail calls\" warning left standing)" \
	sh -c "! grep -q 'go to the daemon and IPv6 TFTP blocks come from tc' '$W/daemon.log'"

# Both ends' counters, for a DHCP exchange that failed: CI's 6.12 guest once logged five OFFERs
# sent (daemon.log) that udhcpc never saw, and nothing else got through to c0 until the MTU
# 9000 part re-attached its program; these say where the frames stopped (veth's per-queue
# XDP drops, a stopped queue, the stack's drops).
links() {
	for end in srv:s0 cli:c0; do
		$IP -n "${end%:*}" -s link show dev "${end#*:}" 2>&1
		$IP netns exec "${end%:*}" $ETHTOOL -S "${end#*:}" 2>&1 | grep -v ': 0$'
	done
	cat /proc/net/softnet_stat 2>&1
	echo "xpxe's non-zero counters:"
	"$X" status --json 2>&1 | grep -o '"[a-z0-9_]*": *[1-9][0-9]*' | tr '\n' ' '
}

ip1=$(dhcp d1)
case $ip1 in
198.18.0.1[0-2][0-9]) ok "DHCP: udhcpc bound $ip1 from the pool" ;;
*) not_ok "DHCP: udhcpc bound an address from the pool" "$(cat "$W/d1.log")" "$(tail -n 5 "$W/daemon.log")" \
	"$(links)" ;;
esac

in_cli timeout 120 tftp -g -b 1468 -r blob -l "$W/got.blob" "$SRV" >"$W/tftp.log" 2>&1
check "TFTP: 300000 bytes of blob, blksize 1468, byte for byte" cmp "$W/blob" "$W/got.blob"
in_cli timeout 120 tftp -g -r vmlinuz -l "$W/got.vmlinuz" "$SRV" >>"$W/tftp.log" 2>&1
check "TFTP: the kernel, blksize 512, byte for byte" cmp "$W/vmlinuz" "$W/got.vmlinuz"
counter() { "$X" status --json | grep -o "\"$1\": *[0-9]*" | grep -o '[0-9]*$' | head -n 1; }
xdp=$(counter tftp_data_xdp) tc=$(counter tftp_data_tc) daemon=$(counter tftp_data_daemon)
check "TFTP: the data plane sent the blocks (xdp ${xdp:-?}, tc ${tc:-?}, daemon ${daemon:-?})" \
	test "$((${xdp:-0} + ${tc:-0}))" -gt 0

in_cli timeout 60 wget -q -O "$W/http.vmlinuz" "http://$SRV:8080/assets/vmlinuz" >"$W/wget.log" 2>&1
check "HTTP: GET /assets/vmlinuz, byte for byte" cmp "$W/vmlinuz" "$W/http.vmlinuz"

kill -9 "$PID"
wait "$PID" 2>/dev/null
ip2=$(dhcp d2)
check "kill -9: the data plane alone gives the machine its address again ($ip2)" test -n "$ip2" -a "$ip2" = "$ip1"
if start_daemon; then
	check "a second xpxe serve adopts the pinned data plane" \
		sh -c "'$X' status --json | grep -q '\"adopted\": *true'"
else
	not_ok "a second xpxe serve starts over the data plane" "$(tail -n 20 "$W/daemon.log")"
	exit 0
fi
rm -f "$W/got.blob"
in_cli timeout 120 tftp -g -b 1468 -r blob -l "$W/got.blob" "$SRV" >>"$W/tftp.log" 2>&1
check "after the adoption: TFTP byte for byte" cmp "$W/blob" "$W/got.blob"
ip3=$(dhcp d3)
check "after the adoption: DHCP keeps the address ($ip3)" test "$ip3" = "$ip1"
kill -TERM "$PID"
wait "$PID"
check "SIGTERM: the daemon exits 0" test $? -eq 0

# --- jumbo MTU -----------------------------------------------------------------------------------
# A veth takes a program without multi-buffer support only while its peer's MTU fits a page:
# the client's XDP_PASS is its "xdp.frags" build, loaded by bpftool (ip's loader does not know
# the section) and attached by ip in the client's network namespace alone (ip netns exec would
# remount /sys, where the pin is).
{
	$IP -n cli link set dev c0 xdp off &&
	$IP -n srv link set dev s0 mtu 9000 && $IP -n cli link set dev c0 mtu 9000 &&
	/xpxe/bin/bpftool prog loadall /xpxe/obj/xdp_pass.bpf.o /sys/fs/bpf/smoke_pass &&
	nsenter --net=/run/netns/cli $IP link set dev c0 xdp pinned /sys/fs/bpf/smoke_pass/xdp_pass_frags &&
	rm -rf /sys/fs/bpf/smoke_pass
} >"$W/jumbo.log" 2>&1
if [ $? -ne 0 ]; then
	not_ok "MTU 9000 on both ends, the multi-buffer XDP_PASS on the client's" "$(cat "$W/jumbo.log")"
	exit 0
fi
ok "MTU 9000 on both ends, the multi-buffer XDP_PASS on the client's"
if start_daemon; then
	st=$("$X" status --json)
	name=$(echo "$st" | grep -o '"prog_name": *"[a-z_]*"' | grep -o '[a-z_]*"$' | tr -d '"')
	via=$(echo "$st" | grep -o '"attach_via": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"')
	mode=$(echo "$st" | grep -o '"attach_mode": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"')
	check "MTU 9000: serve attaches ${name:-?} $mode, through ${via:-?}" \
		test "$name" = xdp_pxe_frags -a "$mode" = native
else
	not_ok "MTU 9000: xpxe serve attaches to s0" "$(tail -n 20 "$W/daemon.log")"
	exit 0
fi
ip4=$(dhcp d4)
check "MTU 9000: DHCP keeps the address ($ip4)" test "$ip4" = "$ip1"
rm -f "$W/got.blob" "$W/http.vmlinuz"
in_cli timeout 120 tftp -g -b 1468 -r blob -l "$W/got.blob" "$SRV" >>"$W/tftp.log" 2>&1
check "MTU 9000: TFTP byte for byte" cmp "$W/blob" "$W/got.blob"
in_cli timeout 60 wget -q -O "$W/http.vmlinuz" "http://$SRV:8080/assets/vmlinuz" >>"$W/wget.log" 2>&1
check "MTU 9000: HTTP byte for byte" cmp "$W/vmlinuz" "$W/http.vmlinuz"
mb=$(counter pass_multi_buffer)
in_cli ping -c 2 -W 5 -s 8000 "$SRV" >"$W/ping.log" 2>&1
check "MTU 9000: an 8000-byte ping is answered" grep -q '2 packets received' "$W/ping.log"
mb2=$(counter pass_multi_buffer)
check "... passed up as a multi-buffer frame (pass_multi_buffer ${mb:-?} -> ${mb2:-?})" \
	test "${mb2:-0}" -ge "$((${mb:-0} + 2))"
kill -TERM "$PID"
wait "$PID"
check "MTU 9000: SIGTERM, the daemon exits 0" test $? -eq 0
