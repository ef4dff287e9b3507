# The guest setup the IPv6 end-to-end tests share (test_e2e_ipv6.sh, test_e2e_ipv6_full.sh,
# test_e2e_ipv6_ipxe.sh): QEMU machines on an IPv6 lab segment, under tcg. Sourced after
# lib.sh. Each machine runs in the background ($! is its scripts/qemu.sh; cleanup stops it
# should the test end first): its serial console in $WORK/NAME.serial, its NIC's frames in
# $WORK/NAME.pcap, qemu.sh's verdict in $WORK/NAME.qemu.
# shellcheck shell=bash
QEMU=("$ROOT/scripts/qemu.sh")
GUEST=$ROOT/build/guest
export LAB # for scripts/qemu.sh

# e6_require TOOL...: QEMU, OVMF and these tools are installed, or the test fails loudly
e6_require() {
	local tool
	for tool in qemu-system-x86_64 "$@"; do
		command -v "$tool" >/dev/null || { not_ok "$tool is installed"; exit 1; }
	done
	[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || { not_ok "OVMF is installed (package ovmf)"; exit 1; }
}

# e6_guest: the Talos-like guest (scripts/guest.sh: kernel, initramfs with dhclient) in $GUEST
e6_guest() {
	if "$ROOT/scripts/guest.sh" build "$GUEST" >"$WORK/build.log" 2>&1; then
		ok "the Talos-like guest is built (with dhclient for DHCPv6)"
	else
		not_ok "the Talos-like guest is built" "$(tail -5 "$WORK/build.log")"
		exit 1
	fi
}

# e6_lab_up SRV6: the lab, with SRV6/64 on the server's veth (no DAD: usable at once)
e6_lab_up() {
	lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up" "$(tail -5 "$WORK/lab.log")"; exit 1; }
	in_srv ip -6 addr add "$1/64" dev "$IF_SRV" nodad
}

# e6_machine NAME MAC TAP TIMEOUT QEMU.SH-ARGS...: one machine, in the background
e6_machine() {
	local name=$1 mac=$2 tap=$3 timeout=$4
	shift 4
	"${QEMU[@]}" --mac "$mac" --tap "$tap" --timeout "$timeout" --log "$WORK/$name.serial" \
		--pcap "$WORK/$name.pcap" "$@" >"$WORK/$name.qemu" 2>&1 &
	at_exit kill $!
}
# OVMF's own PXE, over IPv6 only: no NIC ROM, IPv4 PXE off and IPv6 PXE on through fw_cfg,
# so its first boot option is PXEv6
e6_pxe6() {
	e6_machine "$@" --uefi --no-rom -- -fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n \
		-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=y
}
# OVMF's HTTP boot (PXE off): HTTPv4 finds no DHCPv4 server and gives up, then HTTPv6
e6_http6() { e6_machine "$@" --http-boot; }
# OVMF with QEMU's iPXE ROM (efi-virtio.rom, built with IPv6): iPXE does the network boot
e6_ipxe() { e6_machine "$@" --uefi; }

# iPXE's banner: the machine runs the snponly.efi it fetched (or its ROM's iPXE)
booted() { grep -a -q "iPXE initialising devices" "$WORK/$1.serial" 2>/dev/null; }
booted_or_dead() { booted "$1" || ! kill -0 "$2" 2>/dev/null; }
serial_end() { tail -c 800 "$WORK/$1.serial" 2>/dev/null | tr -d '\r' | tr '\n' '|'; }
took() { sed -n 's/.* after \([0-9.]*\) s .*/\1 s/p' "$WORK/$1.qemu"; } # NAME -> its boot's time
