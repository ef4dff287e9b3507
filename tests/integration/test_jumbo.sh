#!/usr/bin/env bash
# A jumbo-MTU provisioning network (MTU 9000 on every lab link): a veth refuses a program
# without multi-buffer support once its peer's MTU exceeds one page, so serve must attach
# xdp_pxe_frags, in native mode, and answer as it does at 1500: DHCP (udhcpc), TFTP byte for
# byte (curl, and atftp with windows through AF_XDP), HTTP. Frames
# longer than the first buffer pass to the stack, counted, never answered from their first part.
LAB=jumbo
export MTU=9000
source "$(dirname "$0")/lib.sh"
require_root

tftp_field() { "$XPXE" status --json | jq -r ".interfaces[0].tftp.$1"; }

lab up || { not_ok "lab up (MTU $MTU)"; exit 1; }
lab host 1 52:54:00:a9:00:01 || { not_ok "lab host"; exit 1; }
check "every lab link has MTU $MTU" bash -c \
	"ip -n $NS_SRV link show $IF_SRV | grep -q 'mtu $MTU' && ip -n $NS_CLI link show $IF_CLI | grep -q 'mtu $MTU' &&
	 ip -n $NS_CLI link show $IF_BR | grep -q 'mtu $MTU' && ip -n $LAB-h1 link show eth0 | grep -q 'mtu $MTU'"

FILES=$WORK/files
OUT=$WORK/out
mkdir -p "$FILES" "$OUT"
head -c $((3 * 1024 * 1024 + 77)) /dev/urandom >"$FILES/kernel"
head -c 146800 /dev/urandom >"$FILES/f1468x100"
head -c 513 /dev/urandom >"$FILES/f513"
SERVE=(-i "$IF_SRV" --mode full --pool 198.18.0.100-198.18.0.109 --leases "$WORK/leases"
	--kernel "$FILES/kernel" --initrd "$FILES/f513" --asset "f1468x100=$FILES/f1468x100")

if start_daemon "${SERVE[@]}"; then ok "xpxe serves $IF_SRV at MTU $MTU"; else
	not_ok "xpxe serves $IF_SRV at MTU $MTU"; exit 1; fi
status=$("$XPXE" status --json)
check "the multi-buffer build is attached (xdp_pxe_frags), in native mode" \
	jq -e '.interfaces[0] | .prog_name == "xdp_pxe_frags" and .attach_mode == "native"' <<<"$status"
check "... the one on the interface" test "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" = "$(jq -r '.interfaces[0].prog_id' <<<"$status")"
check "the log says why" grep -q "MTU $MTU: attaching the multi-buffer build" "$WORK/daemon.log"
check "windows are offered, through AF_XDP as at 1500" \
	jq -e '.interfaces[0].tftp.window | .windowsize_max > 1 and .af_xdp' <<<"$status"

# --- DHCP ---------------------------------------------------------------------------------
udhcpc_run "$LAB-h1" h1
if [ "$(result_field h1 ip)" = 198.18.0.100 ] && [ "$(result_field h1 server)" = 198.18.0.1 ]; then
	ok "udhcpc at MTU $MTU gets the pool's first address"
else
	not_ok "udhcpc at MTU $MTU gets 198.18.0.100" "$(cat "$WORK/h1.result" 2>/dev/null)" "$(tail -4 "$WORK/h1.log")"
fi
acks0=$(counter dhcp_ack)
udhcpc_run "$LAB-h1" h1again
check "the bound MAC again: its address, from XDP (dhcp_ack grew)" \
	test "$(result_field h1again ip)" = 198.18.0.100 -a "$(counter dhcp_ack)" -gt "$acks0"

# --- TFTP -------------------------------------------------------------------------------------
blocks0=$(($(tftp_field blocks_xdp) + $(tftp_field blocks_tc)))
fetched "curl --tftp-blksize 1468: f1468x100 byte for byte" "$OUT/c1468" "$FILES/f1468x100" \
	in_cli curl -sS --tftp-blksize 1468 -o "$OUT/c1468" "tftp://$SRV_IP/f1468x100"
fetched "curl, no options: the initramfs (513 bytes)" "$OUT/c513" "$FILES/f513" \
	in_cli curl -sS --tftp-no-options -o "$OUT/c513" "tftp://$SRV_IP/initramfs"
# The block store's layout caps blocks at 1468 bytes (XPXE_TFTP_BLKSIZE_MAX) whatever the MTU:
# a client asking for 8192 is granted 1468 (RFC 2348 lets the server answer smaller).
fetched "curl --tftp-blksize 8192 (granted 1468): the kernel, 3 MiB, byte for byte" "$OUT/c8192" \
	"$FILES/kernel" in_cli curl -sS --tftp-blksize 8192 -o "$OUT/c8192" "tftp://$SRV_IP/vmlinuz"
check "the blocks were built by the data plane (XDP or tc), not the daemon" \
	test $(($(tftp_field blocks_xdp) + $(tftp_field blocks_tc) - blocks0)) -ge $((146800 / 1468 + 3 * 1024 * 1024 / 1468))
xsk0=$(tftp_field blocks_af_xdp)
fetched "atftp windowsize 8, blksize 1468: the kernel, byte for byte" "$OUT/w8" "$FILES/kernel" \
	in_cli timeout 600 atftp --option "blksize 1468" --option "windowsize 8" --get -r vmlinuz \
	-l "$OUT/w8" "$SRV_IP"
check "... its windows went through AF_XDP (the multi-buffer build redirects the ACKs too)" \
	test "$(tftp_field blocks_af_xdp)" -gt "$xsk0"

# --- HTTP ---------------------------------------------------------------------------------------
fetched "HTTP: the kernel at MTU $MTU, byte for byte" "$OUT/http" "$FILES/kernel" \
	in_cli curl -sS -o "$OUT/http" "http://$SRV_IP:8080/assets/vmlinuz"

# --- frames longer than the first buffer -------------------------------------------------------
# An 8000-byte ICMP echo (don't fragment) spans several buffers at the server's veth: the
# program passes it, counted, and the stack answers.
mb0=$(counter pass_multi_buffer)
check "ping -s 8000 -M do from the client is answered (the stack got it whole)" \
	in_cli ping -c 3 -W 5 -s 8000 -M "do" "$SRV_IP"
check "... counted in pass_multi_buffer" test "$(counter pass_multi_buffer)" -ge $((mb0 + 3))

# --- the daemon goes, the interface is free for a 1500-byte build again ------------------------
kill -TERM "$DAEMON_PID"; wait_daemon
check "stopped: no XDP program left on $IF_SRV" test -z "$(xdp_prog_on "$NS_SRV" "$IF_SRV")"
in_srv ip link set dev "$IF_SRV" mtu 1500
in_cli ip link set dev "$IF_CLI" mtu 1500
if start_daemon "${SERVE[@]}"; then
	check "at MTU 1500 serve attaches xdp_pxe" \
		bash -c "'$XPXE' status --json | jq -e '.interfaces[0].prog_name == \"xdp_pxe\"' >/dev/null"
else
	not_ok "serve starts again at MTU 1500"
fi
