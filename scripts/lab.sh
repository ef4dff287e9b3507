#!/usr/bin/env bash
# The lab: a server namespace and a client namespace joined by a veth pair,
# a bridge in the client namespace with tap devices for QEMU machines, and
# addresses from 198.18.0.0/15 (RFC 2544's benchmark range) that exist only there.
#
#   scripts/lab.sh up      create it (idempotent)
#   scripts/lab.sh down    remove it and everything in it (idempotent)
#   scripts/lab.sh env     print the names and addresses as shell variables
#   scripts/lab.sh ready   wait until the server and client links are up again (after a
#                          test took one down) and the client's bridge port forwards
#   scripts/lab.sh host N [MAC]
#                          a client host: namespace NAME-hN whose eth0 (MAC given or
#                          random) is a port of the bridge; no address (it is a DHCP client)
#
# MTU=N (default: the kernel's 1500) sets the MTU of every lab link (veths, bridge, taps,
# hosts) when they are made; above 1500 the client's XDP_PASS program is its multi-buffer
# build (xdp_pass_frags), which a veth requires of a program once its peer's MTU is jumbo.
#
# LAB=NAME (1-8 characters of [a-z0-9], default "xpxe") prefixes every name,
# so tests can run several labs side by side:
#   namespaces  NAME-srv, NAME-cli
#   server      NAME-s0  198.18.0.1/24   (xpxe attaches here)
#   client      NAME-c0 (bridge port, runs an XDP_PASS program), bridge NAME-br
#               198.18.0.2/24, taps NAME-t0..NAME-t3 for QEMU
set -euo pipefail

LAB=${LAB:-xpxe}
if ! [[ $LAB =~ ^[a-z0-9]{1,8}$ ]]; then
	echo "lab: LAB must be 1-8 characters of a-z0-9, not '$LAB'" >&2
	exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

NS_SRV=$LAB-srv
NS_CLI=$LAB-cli
IF_SRV=$LAB-s0
IF_CLI=$LAB-c0
IF_BR=$LAB-br
TAPS=("$LAB-t0" "$LAB-t1" "$LAB-t2" "$LAB-t3")
SRV_IP=198.18.0.1
CLI_IP=198.18.0.2
PREFIX=24
XDP_PASS_OBJ=${XDP_PASS_OBJ:-${XPXE_BUILD:-$root/build}/xdp_pass.bpf.o}
MTU=${MTU:-}
if [ -n "$MTU" ] && ! [[ $MTU =~ ^[0-9]{3,5}$ ]]; then
	echo "lab: MTU must be a number, not '$MTU'" >&2
	exit 2
fi

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

print_env() {
	cat <<VARS
LAB=$LAB
NS_SRV=$NS_SRV
NS_CLI=$NS_CLI
IF_SRV=$IF_SRV
IF_CLI=$IF_CLI
IF_BR=$IF_BR
TAPS="${TAPS[*]}"
SRV_IP=$SRV_IP
CLI_IP=$CLI_IP
PREFIX=$PREFIX
VARS
}

# ready NS DEV [PORT_NS PORT]: waits until DEV of NS is operationally up and, given a bridge
# port, until that port forwards. The kernel's link watch does both up to a second after
# `ip link set up` (later on a busy machine), and until then a device drops what it sends
# and a bridge port what it gets: a test's first frame would be lost. 120 s bounds a hang.
ready() {
	local ns=$1 dev=$2 port_ns=${3:-} port=${4:-} _
	for _ in $(seq 1200); do
		if [ "$(ip netns exec "$ns" cat "/sys/class/net/$dev/operstate" 2>/dev/null)" = up ] &&
			{ [ -z "$port" ] ||
				[ "$(ip netns exec "$port_ns" cat "/sys/class/net/$port/brport/state" 2>/dev/null)" = 3 ]; }; then
			return 0
		fi
		sleep 0.1
	done
	echo "lab: $dev in $ns${port:+ (bridge port $port)} is not up after 120 s" >&2
	return 1
}

ensure_bpffs() {
	# The daemon mounts it too; the lab needs it for the client's XDP_PASS program.
	if ! stat -f -c %T /sys/fs/bpf 2>/dev/null | grep -q bpf; then
		mount -t bpf bpf /sys/fs/bpf
	fi
}

up() {
	if [ ! -f "$XDP_PASS_OBJ" ]; then
		echo "lab: $XDP_PASS_OBJ is missing: run 'make' first" >&2
		exit 1
	fi
	ensure_bpffs
	ip netns list | grep -qw "^$NS_SRV" || ip netns add "$NS_SRV"
	ip netns list | grep -qw "^$NS_CLI" || ip netns add "$NS_CLI"
	in_srv ip link set lo up
	in_cli ip link set lo up

	if ! in_srv ip link show "$IF_SRV" >/dev/null 2>&1; then
		ip link add "$IF_SRV" netns "$NS_SRV" type veth peer name "$IF_CLI" netns "$NS_CLI"
	fi
	# Real checksums on the wire: with tx offload on, veth hands frames over as
	# CHECKSUM_PARTIAL and replies built from them go out with wrong checksums.
	in_srv ethtool -K "$IF_SRV" tx off >/dev/null
	in_cli ethtool -K "$IF_CLI" tx off >/dev/null
	in_srv ip addr replace "$SRV_IP/$PREFIX" dev "$IF_SRV"
	[ -z "$MTU" ] || in_srv ip link set dev "$IF_SRV" mtu "$MTU"
	[ -z "$MTU" ] || in_cli ip link set dev "$IF_CLI" mtu "$MTU"
	in_srv ip link set "$IF_SRV" up

	in_cli ip link show "$IF_BR" >/dev/null 2>&1 ||
		in_cli ip link add "$IF_BR" type bridge stp_state 0 forward_delay 0
	in_cli ip link set "$IF_CLI" master "$IF_BR"
	for tap in "${TAPS[@]}"; do
		in_cli ip link show "$tap" >/dev/null 2>&1 || in_cli ip tuntap add dev "$tap" mode tap
		[ -z "$MTU" ] || in_cli ip link set dev "$tap" mtu "$MTU"
		in_cli ip link set "$tap" master "$IF_BR"
		in_cli ip link set "$tap" up
	done
	[ -z "$MTU" ] || in_cli ip link set dev "$IF_BR" mtu "$MTU"
	in_cli ip addr replace "$CLI_IP/$PREFIX" dev "$IF_BR"
	in_cli ip link set "$IF_CLI" up
	in_cli ip link set "$IF_BR" up
	# XDP_TX frames from the server reach this peer reliably only when it runs XDP.
	if in_cli ip link show "$IF_CLI" | grep -q 'prog/xdp'; then
		:
	elif [ -n "$MTU" ] && [ "$MTU" -gt 1500 ]; then
		# ip's own loader knows no "xdp.frags": bpftool loads it (libbpf sets the
		# multi-buffer flag), ip attaches the pin (nsenter: the network namespace only,
		# where ip -n would remount /sys), and the attachment keeps it.
		local pins=/sys/fs/bpf/xpxe-lab-$LAB
		rm -rf "$pins"
		bpftool prog loadall "$XDP_PASS_OBJ" "$pins"
		nsenter --net="/run/netns/$NS_CLI" ip link set dev "$IF_CLI" xdpdrv pinned "$pins/xdp_pass_frags"
		rm -rf "$pins"
	else
		in_cli ip link set dev "$IF_CLI" xdpdrv obj "$XDP_PASS_OBJ" sec xdp
	fi
	links_ready
}

links_ready() {
	ready "$NS_SRV" "$IF_SRV"
	ready "$NS_CLI" "$IF_CLI" "$NS_CLI" "$IF_CLI"
	ready "$NS_CLI" "$IF_BR"
}

host() {
	local n=$1 mac=${2:-} ns=$LAB-h$1 port=$LAB-h$1
	if ! [[ $n =~ ^[0-9]{1,3}$ ]]; then
		echo "lab: host takes a number, not '$n'" >&2
		exit 2
	fi
	ip netns list | grep -qw "^$ns" || ip netns add "$ns"
	ip -n "$ns" link set lo up
	if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
		ip link add eth0 netns "$ns" type veth peer name "$port" netns "$NS_CLI"
	fi
	[ -n "$mac" ] && ip -n "$ns" link set eth0 address "$mac"
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
	[ -z "$MTU" ] || ip -n "$ns" link set dev eth0 mtu "$MTU"
	[ -z "$MTU" ] || in_cli ip link set dev "$port" mtu "$MTU"
	in_cli ethtool -K "$port" tx off >/dev/null
	in_cli ip link set "$port" master "$IF_BR"
	in_cli ip link set "$port" up
	ip -n "$ns" link set eth0 up
	ready "$ns" eth0 "$NS_CLI" "$port"
}

down() {
	local ns pids
	# Every namespace named NAME-* belongs to this lab (servers, clients, hosts).
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-"); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		if [ -n "$pids" ]; then
			kill $pids 2>/dev/null || true
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				pids=$(ip netns pids "$ns" 2>/dev/null || true)
				[ -z "$pids" ] && break
				sleep 0.2
			done
			[ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
		fi
		ip netns del "$ns"
	done
	# Pins of the lab's interfaces; the programs went with the namespaces' devices.
	rm -rf "/sys/fs/bpf/xpxe/$IF_SRV" /run/xpxe/lock/"$IF_SRV"
	rmdir /sys/fs/bpf/xpxe 2>/dev/null || true
}

case "${1:-}" in
up) up ;;
down) down ;;
host)
	shift
	host "$@"
	;;
env) print_env ;;
ready) links_ready ;;
*)
	echo "usage: [LAB=NAME] $0 up|down|ready|env|host N [MAC]" >&2
	exit 2
	;;
esac
