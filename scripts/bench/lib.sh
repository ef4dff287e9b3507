#!/usr/bin/env bash
# Sourced by the benchmarks that run in a lab (before bench_begin, or after their own
# `eval "$(scripts/lab.sh env)"`): what each of them does the same way. Also brings in
# bench_section (section.sh).
. "$(dirname "${BASH_SOURCE[0]}")/section.sh"

say() { printf '== %s\n' "$*" >&2; }

# bench_begin NAME LAB (from the checkout's root): what a lab benchmark sets up first. The lab's
# names (LAB, or XPXE_LAB to run beside another checkout; NS_SRV, IF_SRV...: scripts/lab.sh
# env), $work (a fresh folder), XPXE_SOCKET in it, $out (build/bench/NAME.md, its results),
# and bench_cleanup at exit: the servers stopped, then bench_cleanup_more if the script defines
# it (what else it started), the lab down, $work removed.
bench_begin() {
	export LAB=${XPXE_LAB:-$2}
	eval "$(scripts/lab.sh env)"
	work=$(mktemp -d "/tmp/xpxe-bench-$1.XXXXXX")
	export XPXE_SOCKET=$work/xpxe.sock
	out=build/bench/$1.md
	trap bench_cleanup EXIT
}
bench_cleanup() {
	bench_stop_servers
	if declare -F bench_cleanup_more >/dev/null; then bench_cleanup_more; fi
	scripts/lab.sh down
	rm -rf "$work"
}

# bench_relay_host: the lab's host 1 as perfdhcp's relay (giaddr 198.18.4.11, so 1000 clients
# fit a /22), and the server's route to that /22.
bench_relay_host() {
	scripts/lab.sh host 1
	ip -n "$LAB-h1" addr add 198.18.4.11/22 dev eth0
	in_srv ip route add 198.18.4.0/22 dev "$IF_SRV"
}
in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }
# Stops every process in the server's namespace and waits until none is left, so that the next
# server has the namespace, its ports and its interface to itself. Not `kill $!`: a server
# started in the background through a shell function (in_srv CMD &) is a child of the subshell
# $! names, and outlives it (an earlier dhcp.sh measured "dnsmasq" while xpxe, left running,
# answered from XDP). Fails loudly when something had to be killed with SIGKILL.
bench_stop_servers() {
	local pids
	pids=$(ip netns pids "$NS_SRV" 2>/dev/null || true)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	for _ in $(seq 50); do
		pids=$(ip netns pids "$NS_SRV" 2>/dev/null || true)
		if [ -z "$pids" ]; then
			wait 2>/dev/null || true # reap them
			return 0
		fi
		sleep 0.1
	done
	say "still running in $NS_SRV 5 s after SIGTERM, killed: $(ps -o comm= -p "${pids//$'\n'/,}" | paste -sd' ')"
	kill -9 $pids 2>/dev/null
	wait 2>/dev/null || true
	return 1
}

# Busy CPU ticks of the whole machine (user, nice, system, irq, softirq, steal).
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# Other work on the machine skews every figure: waits (up to 5 minutes; QUIET_WAIT=N: N x 10 s,
# 0 for short trial runs on a busy machine) for a load average under 0.5; sets load_before.
bench_wait_quiet() {
	for _ in $(seq "${QUIET_WAIT:-30}"); do
		awk '{ exit !($1 < 0.5) }' /proc/loadavg && break
		say "load average $(cut -d' ' -f1-3 /proc/loadavg): waiting for a quiet machine"
		sleep 10
	done
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
}

# The lab up. The client side's bridge need not run iptables on every frame (br_netfilter is
# loaded on this host): a cost of the client, the same for every server.
bench_lab_up() {
	"$(dirname "${BASH_SOURCE[0]}")/../lab.sh" up
	in_cli sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 \
		2>/dev/null || true
}

# The storm's machines (scripts/bench/storm.c) on the lab: their network 198.18.8.0/21, whose
# every address is local to the client namespace (AnyIP), so each machine's sockets bind its
# own leased address; the server reaches it on its link.
bench_storm_net() {
	in_cli ip route add local 198.18.8.0/21 dev lo
	# Machines that have no address yet do not answer pings (dnsmasq pings each address it
	# offers).
	in_cli sysctl -qw net.ipv4.icmp_echo_ignore_all=1
	in_srv ip route add 198.18.8.0/21 dev "$IF_SRV"
	# The server knows every machine's MAC (static neighbour entries, exempt from the table's
	# limits): this host's neighbour table is shared by every namespace and its default hard
	# limit is 1024 entries, which a 1024-machine trial overflowed (the server then could not
	# answer a machine's TFTP). The same for every server; it leaves ARP out of the storm.
	local br_mac
	br_mac=$(in_cli cat "/sys/class/net/$IF_BR/address")
	awk -v mac="$br_mac" -v dev="$IF_SRV" 'BEGIN {
		for (i = 8 * 256 + 1; i < 16 * 256 - 1; i++)
			printf "neigh replace 198.18.%d.%d lladdr %s dev %s nud permanent\n", i / 256, i % 256, mac, dev
	}' | in_srv ip -batch -
	# A queue on each end of the veth pair, as a server's NIC has one: without it (veth's
	# default is noqueue) a full XDP ring of the peer drops every frame, and the storm's TCP
	# floods it (a trial run lost ~1.9 million frames and machines' TFTP with them); with it,
	# veth pauses the queue instead (Linux 6.16+) and frames wait in the queue (pfifo_fast:
	# the classic default of a NIC; this kernel has no fq_codel).
	in_srv tc qdisc replace dev "$IF_SRV" root pfifo_fast
	in_cli tc qdisc replace dev "$IF_CLI" root pfifo_fast
}

# bench_storm_xpxe [SERVE-FLAGS...]: a fresh xpxe (no bindings, no boot-once marks) serving the
# storm in full mode: its pool $POOL, the files of $work/root and $work/talos, HTTP at $HTTP,
# lockstep TFTP as the storm's machines ask; its log $work/xpxe.log. Sets bench_xpxe_pid and
# returns once it answers (XPXE_SOCKET), or exits.
bench_storm_xpxe() {
	rm -rf "$work/state" "$work/xpxe.leases"
	mkdir -p "$work/state"
	nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve -i "$IF_SRV" --mode full \
		--pool "$POOL" --leases "$work/xpxe.leases" --state-dir "$work/state" \
		--no-default-assets --asset "snponly.efi=$work/root/snponly.efi" \
		--kernel "$work/root/vmlinuz" --initrd "$work/root/initramfs" \
		--talos-config "$work/talos" --http "$HTTP" --tftp-windowsize-max 1 "$@" \
		>>"$work/xpxe.log" 2>&1 &
	bench_xpxe_pid=$!
	for _ in $(seq 50); do
		"$XPXE" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	say "xpxe did not start: $(tail -3 "$work/xpxe.log")"
	exit 1
}

# bench_plot PNG: gnuplot's commands from stdin drawn into PNG (800x480, a grid), or a word
# on why not (gnuplot-nox comes with make bench-deps).
bench_plot() {
	if ! command -v gnuplot >/dev/null; then
		say "gnuplot missing (make bench-deps): no $1"
		cat >/dev/null
		return 0
	fi
	mkdir -p "$(dirname "$1")"
	{
		# noenhanced: a title's "_" (XDP_PASS) is text, not a subscript
		printf 'set terminal pngcairo size 800,480 font ",10" noenhanced\nset output "%s"\nset grid\n' "$1"
		cat
	} | gnuplot || say "gnuplot failed: $1 not drawn"
}
