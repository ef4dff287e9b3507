#!/usr/bin/env bash
# Proxy mode beside a DHCP server on the same host (issue 19.1): dnsmasq, a plain DHCP
# server with no PXE options, listens on the very interface xpxe is attached to (the
# server namespace's veth, 198.18.0.1). A PXE DISCOVER must reach both: dnsmasq offers the
# address, xpxe the boot. Before the fix xpxe turned the DISCOVER into its OFFER in XDP and
# dnsmasq never saw a PXE client: no address, no boot.
#   dhclient   BIOS and UEFI PXE vendor classes: both OFFERs on the wire, the address bound
#   QEMU       a BIOS machine (SeaBIOS + iPXE ROM) and a UEFI one (OVMF's own PXE, 4011)
#              take dnsmasq's address and boot through xpxe to their Talos config
LAB=tdlocal
source "$(dirname "$0")/lib.sh"
require_root
export LAB # for scripts/qemu.sh

GUEST=$ROOT/build/guest
lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up" "$(tail -5 "$WORK/lab.log")"; exit 1; }
for n in 1 2 3; do lab host $n "52:54:00:d1:00:0$n"; done

# --- the host's own DHCP server, on xpxe's interface ---------------------------------------
in_srv dnsmasq --keep-in-foreground --user=root --port=0 --interface="$IF_SRV" --bind-interfaces \
	--dhcp-range=198.18.0.150,198.18.0.199,255.255.255.0,1h --dhcp-authoritative \
	--dhcp-leasefile="$WORK/local.leases" --pid-file="$WORK/local.pid" \
	--log-facility="$WORK/local.log" --log-dhcp &
LOCAL=$!
at_exit kill $LOCAL
local_ready() { udp_bound "$NS_SRV" 67 || ! kill -0 $LOCAL 2>/dev/null; }
wait_until local_ready
check "dnsmasq serves DHCP on $IF_SRV (xpxe's interface)" kill -0 $LOCAL

# A PXE client as dhclient plays it: BIOS (arch 0) or UEFI (arch 7). Both servers answer
# from 198.18.0.1, so 'reject' cannot tell them apart: 'require subnet-mask' makes dhclient
# pass over the proxy OFFER (it carries no address and no mask) and take dnsmasq's.
pxe_dhclient() { # HOST NAME ARCH
	dhclient_run "$1" "$2" 'require subnet-mask;' \
		'option pxe-arch code 93 = unsigned integer 16;' \
		"send vendor-class-identifier \"PXEClient:Arch:0000$3:UNDI:002001\";" \
		"send pxe-arch $3;"
}
# offers NAME: the OFFERs from 198.18.0.1 in capture NAME, one line each
offers() {
	tcpdump -nr "$WORK/$1.pcap" -vv 'src host 198.18.0.1 and udp src port 67' 2>/dev/null |
		awk '/^[0-9]/ { if (f != "") print f; f = $0; next } { f = f " " $0 } END { if (f != "") print f }' |
		grep -F 'DHCP-Message (53), length 1: Offer'
}
# the OFFER of dnsmasq carries an address, xpxe's the PXEClient vendor class and none
site_offer() { offers "$1" | grep -F 'Your-IP 198.18.0.1' | grep -vF '"PXEClient"'; }
proxy_offer() { offers "$1" | grep -F '"PXEClient"' | grep -vF 'Your-IP'; }

# --- xpxe in proxy mode on the same interface ----------------------------------------------
if start_daemon -i "$IF_SRV" --mode proxy; then ok "xpxe serves $IF_SRV in proxy mode beside dnsmasq"; else
	not_ok "xpxe serves $IF_SRV in proxy mode beside dnsmasq"; exit 1; fi
to_tc0=$(counter dhcp_proxy_to_tc) copies0=$(counter dhcp_tc_stack_copy) offers0=$(counter dhcp_offer)

for c in "1 bios 0" "2 uefi 7"; do
	read -r n name arch <<<"$c"
	mac=52:54:00:d1:00:0$n
	capture_start "$LAB-h$n" "$name"
	pxe_dhclient "$LAB-h$n" "$name" "$arch"
	rc=$?
	capture_stop
	ip=$(result_field "$name" ip)
	if [ $rc -eq 0 ] && [[ $ip == 198.18.0.1[5-9]* ]]; then
		ok "$name PXE dhclient (arch $arch) gets its address $ip from dnsmasq beside xpxe"
	else
		not_ok "$name PXE dhclient (arch $arch) gets its address from dnsmasq beside xpxe" \
			"rc=$rc $(cat "$WORK/$name.result" 2>/dev/null)" "$(tail -5 "$WORK/$name.log")" \
			"$(grep -i "$mac" "$WORK/local.log" | tail -3)"
	fi
	check "... dnsmasq saw its DISCOVER" grep -q "DHCPDISCOVER(.*) $mac" "$WORK/local.log"
	check "... dnsmasq's OFFER (an address) reached it" test -n "$(site_offer "$name")"
	check "... and so did xpxe's ProxyDHCP OFFER (PXEClient, no address)" test -n "$(proxy_offer "$name")"
	check "... with a good UDP checksum" grep -q 'udp sum ok' <<<"$(proxy_offer "$name")"
done
check "xpxe's proxy OFFERs: the BIOS one names undionly.kpxe, the UEFI one no file (4011)" \
	bash -c "grep -q 'file \"undionly.kpxe\"' <<<\"\$1\" && ! grep -q 'BF (67)' <<<\"\$2\"" _ \
	"$(proxy_offer bios)" "$(proxy_offer uefi)"
to_tc=$(($(counter dhcp_proxy_to_tc) - to_tc0)) copies=$(($(counter dhcp_tc_stack_copy) - copies0))
offered=$(($(counter dhcp_offer) - offers0))
if [ "$to_tc" -ge 2 ] && [ "$copies" -eq "$to_tc" ] && [ "$offered" -eq "$to_tc" ]; then
	ok "counters: $to_tc DISCOVERs passed by XDP, each answered by tc with one copy for the stack"
else
	not_ok "counters: each DISCOVER passed to tc, answered, copied once" \
		"dhcp_proxy_to_tc +$to_tc dhcp_tc_stack_copy +$copies dhcp_offer +$offered"
fi

# A plain client: dnsmasq's, xpxe stays silent (as before).
capture_start "$LAB-h3" plain
dhclient_run "$LAB-h3" plain 'require subnet-mask;'
rc=$?
capture_stop
check "a plain dhclient gets its address from dnsmasq ($(result_field plain ip))" \
	bash -c "[ $rc -eq 0 ] && [[ '$(result_field plain ip)' == 198.18.0.1[5-9]* ]]"
check "... and no proxy OFFER" test -z "$(proxy_offer plain)"

# --- QEMU machines: the address from dnsmasq, the boot from xpxe ---------------------------
if [ ! -s "$GUEST/vmlinuz" ] && ! "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1; then
	not_ok "the Talos-like guest is built" "$(tail -5 "$WORK/build.log")"
	exit 1
fi
kill -TERM "$DAEMON_PID"
wait_daemon
mkdir -p "$WORK/talos"
printf 'version: v1alpha1\nmachine:\n  type: worker\n  token: local\n# for {{mac}}\n' \
	>"$WORK/talos/default.yaml"
cat >"$WORK/xpxe.yaml" <<YAML
# proxy mode beside the host's own dnsmasq
interfaces: [$IF_SRV]
mode: proxy
state_dir: $WORK/state
$(guest_profile_yaml)
YAML
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves the guest's assets in proxy mode"; else
	not_ok "xpxe serves the guest's assets in proxy mode"; exit 1; fi

boot() { # NAME MAC-SUFFIX TAP QEMU-ARGS...
	local name=$1 mac=52:54:00:d1:00:$2 tap=$LAB-t$3
	shift 3
	exec "$ROOT/scripts/qemu.sh" --mac "$mac" --tap "$tap" --timeout 300 \
		--log "$WORK/$name.serial" --pcap "$WORK/$name.pcap" "$@" >"$WORK/$name.qemu" 2>&1
}
boot bios 11 0 --bios &
pb=$!
at_exit kill $pb
boot uefi 12 1 --uefi --no-rom &
pu=$!
at_exit kill $pu
wait $pb $pu

want=$(sed 's/{{mac}}/%s/' "$WORK/talos/default.yaml")
for c in "bios 11 SeaBIOS+iPXE" "uefi 12 OVMF"; do
	read -r name m what <<<"$c"
	mac=52:54:00:d1:00:$m
	# shellcheck disable=SC2059 # the document is the format: {{mac}} filled with the MAC
	sha=$(printf "$want\n" "$mac" | sha256sum | cut -d' ' -f1)
	got=$(sed -n 's/.*XPXE-GUEST: sha256=\([0-9a-f]*\).*/\1/p' "$WORK/$name.serial" | tail -1)
	if [ "$got" = "$sha" ] && grep -q "XPXE-GUEST: done" "$WORK/$name.serial"; then
		ok "$what machine boots through xpxe's ProxyDHCP to its Talos config"
	else
		not_ok "$what machine boots through xpxe's ProxyDHCP to its Talos config" \
			"expected $sha, got '$got'" "$(cat "$WORK/$name.qemu")" \
			"$(tail -c 600 "$WORK/$name.serial" | tr -d '\r' | tr '\n' '|')"
	fi
	check "... its address came from dnsmasq" grep -q "DHCPACK(.*) 198.18.0.1[5-9][0-9]* $mac" "$WORK/local.log"
	check "... which got its DISCOVER" grep -q "DHCPDISCOVER(.*) $mac" "$WORK/local.log"
	so=$(site_offer "$name") po=$(proxy_offer "$name")
	check "... and its NIC got both OFFERs: dnsmasq's and xpxe's" test -n "$so" -a -n "$po"
done
check "xpxe answered the UEFI machine's boot server request (4011)" test "$(counter dhcp_ack_4011)" -ge 1
