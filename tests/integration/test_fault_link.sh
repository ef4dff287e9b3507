#!/usr/bin/env bash
# The served interface goes down and up (an admin's `ip link set down`, then the cable
# side: the peer going down), while the daemon runs: the XDP program stays attached
# (same program id), the daemon keeps running, and DHCP (XDP and the daemon's slow
# path), lockstep TFTP (tc), windowed TFTP (AF_XDP) and HTTP all serve again once the
# link is back. A transfer cut by the link going down completes through the client's
# retries once it is up again.
LAB=flink
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up"; exit 1; }
for n in 1 2 3; do lab host $n "52:54:00:b1:00:0$n" >>"$WORK/lab.log" 2>&1; done
head -c $((2 << 20)) /dev/urandom >"$WORK/asset"
want=$(sha "$WORK/asset")
start_daemon -i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109 --leases "$WORK/bindings" \
	--state-dir "$WORK/state" --asset "asset=$WORK/asset" --no-default-assets ||
	{ not_ok "serve starts"; exit 1; }
prog=$(xdp_prog_on "$NS_SRV" "$IF_SRV")

# all_serve TAG: DHCP for a known and a new MAC, TFTP lockstep and windowed, HTTP.
all_serve() {
	local tag=$1 new=$2
	udhcpc_run "$LAB-h1" "h1$tag"
	check "$tag: DHCP answers a known machine" test "$(result_field "h1$tag" ip)" = 198.18.0.100
	udhcpc_run "$LAB-h$new" "h$new$tag"
	check "$tag: DHCP binds a new machine (the daemon's slow path)" test -n "$(result_field "h$new$tag" ip)"
	rm -f "$WORK/tftp.$tag"
	in_cli timeout 120 curl -s --tftp-blksize 1468 -o "$WORK/tftp.$tag" "tftp://$SRV_IP/asset"
	check "$tag: TFTP lockstep, intact" test "$(sha "$WORK/tftp.$tag")" = "$want"
	rm -f "$WORK/win.$tag"
	(cd "$WORK" && timeout 120 ip netns exec "$NS_CLI" atftp --option "windowsize 8" \
		--option "blksize 1468" -g -r asset -l "$WORK/win.$tag" "$SRV_IP" >/dev/null 2>&1)
	check "$tag: TFTP windowsize 8, intact" test "$(sha "$WORK/win.$tag")" = "$want"
	check "$tag: HTTP serves the asset" bash -c "ip netns exec $NS_CLI curl -sf --max-time 60 http://$SRV_IP:8080/assets/asset | sha256sum | grep -q $want"
}

udhcpc_run "$LAB-h1" h1
check "before: a first machine is bound (198.18.0.100)" test "$(result_field h1 ip)" = 198.18.0.100
all_serve before 2

# --- the server side goes down and up -----------------------------------------------------
xsk0=$(counter tftp_ack_to_xsk)
in_srv ip link set dev "$IF_SRV" down
wait_until link_down "$NS_CLI" "$IF_CLI" # the cable side saw it go
in_srv ip link set dev "$IF_SRV" up
lab ready
check "after $IF_SRV down/up: the same XDP program is attached" test "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" = "$prog"
check "... and the daemon still runs" kill -0 "$DAEMON_PID"
all_serve srvbounce 3
check "... windows went through AF_XDP again" test "$(counter tftp_ack_to_xsk)" -gt "$xsk0"

# --- the peer (the cable side) goes down mid-transfer, then up ---------------------------------
# atftp retransmits its ACK after its timeout (2 s here), 5 times before it gives up: curl
# would wait its own retry time (72 s here, in its log: "set timeouts ... retry 72") before
# asking again.
# ACKs paced to about 1000/s (tbf: this kernel has no netem): the 4096 blocks take seconds,
# however fast the machine, so the link goes down mid-transfer once its first bytes are in.
rm -f "$WORK/cut"
in_cli tc qdisc add dev "$IF_CLI" root tbf rate 512kbit burst 1600 latency 1s
at_exit "ip netns exec $NS_CLI tc qdisc del dev $IF_CLI root"
(cd "$WORK" && timeout 300 ip netns exec "$NS_CLI" atftp --tftp-timeout 2 --option "blksize 512" \
	-g -r asset -l "$WORK/cut" "$SRV_IP" >/dev/null 2>"$WORK/cut.err") &
cut=$!
wait_until grown_or_dead "$WORK/cut" "$cut"
in_cli ip link set dev "$IF_CLI" down
got=$(stat -c %s "$WORK/cut" 2>/dev/null || echo 0)
check "the link went down mid-transfer ($got of $((2 << 20)) bytes)" \
	test "$got" -gt 0 -a "$got" -lt $((2 << 20))
# Up again once atftp has missed a block (its first retry), well inside its five.
wait_until said "$WORK/cut.err" "timeout: retrying" "$cut"
in_cli ip link set dev "$IF_CLI" up
wait "$cut"
rc=$?
in_cli tc qdisc del dev "$IF_CLI" root
check "a transfer cut by the link going down completes after it (atftp exit $rc)" \
	bash -c "[ $rc -eq 0 ] && [ \"\$(sha256sum <'$WORK/cut' | cut -d' ' -f1)\" = $want ]"
check "after the peer's down/up: the same XDP program is attached" test "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" = "$prog"
udhcpc_run "$LAB-h1" h1peer
check "... and DHCP answers" test "$(result_field h1peer ip)" = 198.18.0.100
check "the daemon ran through it all" kill -0 "$DAEMON_PID"
